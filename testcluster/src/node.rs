//! One node of a [`Cluster`](crate::Cluster): its namespace, directories and daemon.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::container::{self, ContainerNode};
use crate::env::{self, Tools};
use crate::error::{HarnessError, Result};
use crate::netns;
use crate::status::{self, QuorumStatus};

/// Lines of a daemon's log that error messages include.
pub(crate) const LOG_TAIL_LINES: usize = 40;

/// One corosync node of a [`Cluster`](crate::Cluster).
///
/// A node has its own network namespace (named `cst<pid>x<seq>n<id>`), its own directory (with
/// `corosync.conf`, `corosync.log` and the private `run/` and `lib/` that the daemon sees as
/// /run and /var/lib/corosync) and at most one running corosync daemon. Get one with
/// [`Cluster::node`](crate::Cluster::node); fault operations (kill, restart, isolate) are on the
/// [`Cluster`](crate::Cluster).
///
/// To talk to the node's daemon with a client library, open the handle on a thread that is in
/// the node's namespace: [`Node::in_namespace`]. To run a program against the daemon (one of
/// corosync's tools or an example binary), use [`Node::command`].
///
/// How the harness observes the node depends on the cluster's configuration: with a quorum
/// provider (the default) it asks `corosync-quorumtool -s`; in a cluster started
/// [`without_quorum_provider`](crate::ClusterBuilder::without_quorum_provider) it reads the
/// membership from cmap (`runtime.members.<id>.status`, [`Node::cmap_members`]) and refuses
/// questions about quorum.
#[derive(Debug)]
pub struct Node {
    id: u32,
    name: String,
    addr: IpAddr,
    netns: String,
    dir: PathBuf,
    /// The host's tools (namespace nodes only; a container node uses the container's).
    tools: Option<Arc<Tools>>,
    /// Set for a node of the container backend: the daemon runs in this container.
    container: Option<ContainerNode>,
    /// Whether the cluster's corosync.conf names a quorum provider.
    quorum_provider: bool,
    daemon: Mutex<Option<Child>>,
    starts: AtomicU32,
    isolated: AtomicBool,
    /// The node is a daemon the harness did not start, in the process's own network
    /// namespace (existing-daemon mode): `netns` is empty, nothing is entered.
    existing: bool,
}

impl Node {
    pub(crate) fn new(
        id: u32,
        addr: IpAddr,
        netns: String,
        dir: PathBuf,
        tools: Option<Arc<Tools>>,
        container: Option<ContainerNode>,
        quorum_provider: bool,
    ) -> Node {
        Node {
            id,
            name: format!("node{id}"),
            addr,
            netns,
            dir,
            tools,
            container,
            quorum_provider,
            daemon: Mutex::new(None),
            starts: AtomicU32::new(0),
            isolated: AtomicBool::new(false),
            existing: false,
        }
    }

    /// The node of existing-daemon mode: the daemon in the current network namespace.
    pub(crate) fn existing(dir: PathBuf, tools: Arc<Tools>) -> Node {
        let mut node = Node::new(
            1,
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            String::new(),
            dir,
            Some(tools),
            None,
            true,
        );
        node.existing = true;
        node
    }

    /// Whether this node is a daemon that was running already, reached in the process's own
    /// network namespace ([`EXISTING_ENV`](crate::EXISTING_ENV)), rather than one the harness
    /// started.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(1).unwrap();
    /// if cluster.node(1).is_existing() {
    ///     assert_eq!(cluster.node(1).netns(), "");
    /// }
    /// ```
    pub fn is_existing(&self) -> bool {
        self.existing
    }

    /// Fails for a node of existing-daemon mode, which the harness cannot `what`.
    pub(crate) fn require_own_daemon(&self, what: &str) -> Result<()> {
        if self.existing {
            return Err(HarnessError::new(format!(
                "{what} is not available in existing-daemon mode ({}=1): the harness did not \
                 start that daemon and cannot control it. Run this test with clusters the \
                 harness starts (as root or rootless, without {})",
                crate::EXISTING_ENV,
                crate::EXISTING_ENV
            )));
        }
        Ok(())
    }

    /// The node id (1..=N), as in the nodelist of corosync.conf.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The node's name in the nodelist (`node<id>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's ring0 address (127.0.0.1 for a one-node cluster, else an address of the
    /// cluster's private bridge segment, `10.213.0.<id>/24`).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Whether the node's cluster was started with a quorum provider (`provider:` line in the
    /// quorum section of corosync.conf; the default). `false` for a cluster started
    /// [`without_quorum_provider`](crate::ClusterBuilder::without_quorum_provider).
    pub fn has_quorum_provider(&self) -> bool {
        self.quorum_provider
    }

    /// The name of the node's network namespace (as listed by `ip netns list`); for a node of
    /// the container backend, the name of its container (`cst<pid>x<seq>n<id>`); empty for the
    /// node of existing-daemon mode, which is in the process's own namespace.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The path of the node's network namespace file, `/run/netns/<netns>`; for a node of the
    /// container backend, `/proc/<daemon pid>/ns/net` (`/proc/0/ns/net` while the daemon is not
    /// running).
    pub fn netns_path(&self) -> PathBuf {
        match &self.container {
            Some(c) => PathBuf::from(format!("/proc/{}/ns/net", c.pid().unwrap_or(0))),
            None => netns::netns_path(&self.netns),
        }
    }

    /// The name of the node's container, for a node of the container backend (see
    /// [`ClusterBuilder::container_image`](crate::ClusterBuilder::container_image)); `None` for
    /// a node in a network namespace.
    pub fn container(&self) -> Option<&str> {
        self.container.as_ref().map(|c| c.name.as_str())
    }

    /// The node's directory (holds `corosync.conf`, `corosync.log`, `run/` and `lib/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the node's corosync.conf (the daemon is started with `-c` on it).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("corosync.conf")
    }

    /// The path of the file that receives the daemon's stdout and stderr (appended to across
    /// restarts, with a marker line per start and kill). A node of the container backend has
    /// no such file: podman keeps its log (`podman logs`, which [`Node::log`] returns).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("corosync.log")
    }

    /// The directory the daemon sees as /run (it holds corosync.pid).
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// The directory the daemon sees as /var/lib/corosync (ring id files, blackbox).
    pub fn lib_dir(&self) -> PathBuf {
        self.dir.join("lib")
    }

    /// Everything the node's daemons have written so far (stdout and stderr of every start).
    /// Empty if nothing was written yet. For a node of the container backend this is `podman
    /// logs` of its container.
    pub fn log(&self) -> String {
        if let Some(c) = &self.container {
            return c.log();
        }
        match std::fs::read(self.log_path()) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        }
    }

    /// The last `lines` lines of [`Node::log`].
    pub fn log_tail(&self, lines: usize) -> String {
        env::tail(&self.log(), lines).to_string()
    }

    /// The current text of the node's corosync.conf.
    pub fn config(&self) -> Result<String> {
        let path = self.config_path();
        std::fs::read_to_string(&path)
            .map_err(|e| HarnessError::new(format!("cannot read {}: {e}", path.display())))
    }

    /// Replaces the node's corosync.conf with `text`. Takes effect when the daemon is
    /// restarted or told to reload its configuration (`corosync-cfgtool -R`, or the crate's
    /// reload call).
    pub fn write_config(&self, text: &str) -> Result<()> {
        self.require_own_daemon("changing the configuration")?;
        let path = self.config_path();
        std::fs::write(&path, text)
            .map_err(|e| HarnessError::new(format!("cannot write {}: {e}", path.display())))
    }

    /// Rewrites the node's corosync.conf: `edit` gets the current text and returns the new
    /// one.
    pub fn edit_config(&self, edit: impl FnOnce(&str) -> String) -> Result<()> {
        let old = self.config()?;
        self.write_config(&edit(&old))
    }

    fn lock_daemon(&self) -> MutexGuard<'_, Option<Child>> {
        self.daemon.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pid of the node's running corosync daemon, or `None` if it is not running (never
    /// started, killed, stopped or exited on its own).
    ///
    /// For a node of the container backend it is the host pid of the container's first
    /// process, which is the daemon.
    pub fn pid(&self) -> Option<u32> {
        if self.existing {
            return None;
        }
        if let Some(c) = &self.container {
            return c.pid();
        }
        let mut daemon = self.lock_daemon();
        let child = daemon.as_mut()?;
        match child.try_wait() {
            Ok(None) => Some(child.id()),
            _ => None,
        }
    }

    /// Whether the node's corosync daemon is running (always assumed for the node of
    /// existing-daemon mode, whose process the harness does not know).
    pub fn is_running(&self) -> bool {
        self.existing || self.pid().is_some()
    }

    /// If the daemon was started and has exited without being killed by the harness, its exit
    /// status.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        if let Some(c) = &self.container {
            use std::os::unix::process::ExitStatusExt;
            return c
                .exit_code()
                .map(|code| ExitStatus::from_raw((code & 0xff) << 8));
        }
        let mut daemon = self.lock_daemon();
        daemon
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// Whether [`Cluster::isolate`](crate::Cluster::isolate) cut this node off (and
    /// [`Cluster::heal`](crate::Cluster::heal) has not undone it yet).
    pub fn is_isolated(&self) -> bool {
        self.isolated.load(Ordering::SeqCst)
    }

    pub(crate) fn set_isolated(&self, isolated: bool) {
        self.isolated.store(isolated, Ordering::SeqCst);
    }

    /// A [`Command`] that runs `program` inside the node's network namespace
    /// (`ip netns exec <netns> <program>`). Add arguments, then run it as usual. A bare program
    /// name is looked up like the harness's own tools: corosync's programs in the tool
    /// directory first ([`ClusterBuilder::tool_dir`](crate::ClusterBuilder::tool_dir)), then
    /// every name in `PATH`, then in /usr/local/sbin, /usr/sbin and /sbin.
    ///
    /// Clients run this way reach this node's daemon, e.g.
    /// `node.command("corosync-cmapctl").args(["-g", "runtime.votequorum.this_node_id"])`.
    ///
    /// For a node of the container backend the command is `podman exec -i <container>
    /// <program>`: the program runs inside the container (a bare name is looked up in the
    /// container's `PATH`, so `corosync-cmapctl` is the container's own tool). A program built
    /// on the host must be visible inside at the same path: mount its directory with
    /// [`ClusterBuilder::mount_read_only`](crate::ClusterBuilder::mount_read_only). Of the
    /// environment variables set on the returned `Command` (or in the test process), those
    /// whose names start with `COROSYNC` and `RUST_BACKTRACE` reach the program; the others
    /// reach only `podman`. Killing the returned child kills `podman exec`, which does not
    /// always stop the program inside: close its stdin or let it exit instead.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let program = program.as_ref();
        match (&self.container, &self.tools) {
            (Some(c), _) => c.exec(program),
            (None, Some(tools)) if self.existing => Command::new(tools.program(program)),
            (None, Some(tools)) => {
                let resolved = tools.program(program);
                let mut cmd = Command::new(&tools.ip);
                cmd.arg("netns").arg("exec").arg(&self.netns).arg(resolved);
                cmd
            }
            (None, None) => unreachable!("a namespace node always has the host's tools"),
        }
    }

    /// One of corosync's tools run against this node: `cmapctl` or `quorumtool`.
    fn tool(&self, which: Tool) -> Command {
        match self.tools.as_ref().filter(|_| self.container.is_none()) {
            Some(tools) if self.existing => Command::new(match which {
                Tool::Cmapctl => &tools.cmapctl,
                Tool::Quorumtool => &tools.quorumtool,
            }),
            Some(tools) => {
                let mut cmd = Command::new(&tools.ip);
                cmd.args(["netns", "exec", &self.netns]).arg(match which {
                    Tool::Cmapctl => &tools.cmapctl,
                    Tool::Quorumtool => &tools.quorumtool,
                });
                cmd
            }
            None => self.command(match which {
                Tool::Cmapctl => "corosync-cmapctl",
                Tool::Quorumtool => "corosync-quorumtool",
            }),
        }
    }

    /// Runs `program args...` inside the node's namespace, waits for it, and returns its
    /// stdout; fails (with its stderr) unless it exits with status 0.
    pub fn run<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        env::run(self.command(program).args(args))
            .map_err(|e| e.context(format!("on node {}", self.id)))
    }

    /// Reads one key with `corosync-cmapctl -g KEY` from this node's daemon and returns its
    /// value as text (the part after `" = "`), e.g. `"1"` for
    /// `runtime.votequorum.this_node_id` on node 1.
    pub fn cmap_get(&self, key: &str) -> Result<String> {
        let out = env::run(self.tool(Tool::Cmapctl).args(["-g", key]))
            .map_err(|e| e.context(format!("reading cmap key {key} on node {}", self.id)))?;
        match out.trim_end().split_once(" = ") {
            Some((_, value)) => Ok(value.to_string()),
            None => Err(HarnessError::new(format!(
                "unexpected output of corosync-cmapctl -g {key} on node {}: {out}",
                self.id
            ))),
        }
    }

    /// The error of a question about quorum asked of a node without a quorum provider.
    pub(crate) fn no_quorum_provider(&self, what: &str) -> HarnessError {
        HarnessError::new(format!(
            "{what} on node {}: its cluster was started without a quorum provider \
             (ClusterBuilder::without_quorum_provider), so corosync calls every partition \
             quorate and \"quorate\" has no meaning; corosync-quorumtool cannot report on it \
             either (it needs votequorum). Observe the membership with Node::members or \
             Node::cmap_members instead",
            self.id
        ))
    }

    /// This node's view of quorum and membership, from `corosync-quorumtool -s` run in its
    /// namespace. Fails if the daemon does not answer (not running, or still starting), and
    /// at once on a node without a quorum provider (corosync 3.1.7's `corosync-quorumtool -s`
    /// needs votequorum; see [`Node::has_quorum_provider`]).
    pub fn quorum_status(&self) -> Result<QuorumStatus> {
        if !self.quorum_provider {
            return Err(self.no_quorum_provider("corosync-quorumtool -s"));
        }
        let out = env::output(self.tool(Tool::Quorumtool).arg("-s"))?;
        // Exit status 0 means quorate, 2 not quorate; anything else is an error.
        let stdout = String::from_utf8_lossy(&out.stdout);
        match out.status.code() {
            Some(0) | Some(2) => {
                QuorumStatus::parse(&stdout).map_err(|e| e.context(format!("node {}", self.id)))
            }
            _ => Err(HarnessError::new(format!(
                "corosync-quorumtool -s on node {} failed ({}): {} {}",
                self.id,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end(),
                stdout.trim_end()
            ))),
        }
    }

    /// The node ids this node currently sees as members (sorted): per `corosync-quorumtool
    /// -s` ([`Node::quorum_status`]) if the cluster has a quorum provider, else per cmap
    /// ([`Node::cmap_members`]).
    pub fn members(&self) -> Result<Vec<u32>> {
        if self.quorum_provider {
            self.quorum_status().map(|s| s.members)
        } else {
            self.cmap_members()
        }
    }

    /// The node ids whose `runtime.members.<id>.status` is `joined` in this node's cmap
    /// (sorted), read with `corosync-cmapctl runtime.members.` run in its namespace.
    ///
    /// corosync sets that key to `joined` when a node joins this node's membership and to
    /// `left` when it leaves (the keys of a node stay once it was seen), whether or not a
    /// quorum provider is configured. Fails if the daemon does not answer, or has no
    /// `runtime.members.` keys yet (`corosync-cmapctl` exits with an error for a prefix
    /// without keys).
    pub fn cmap_members(&self) -> Result<Vec<u32>> {
        let out = env::run(self.tool(Tool::Cmapctl).arg("runtime.members."))
            .map_err(|e| e.context(format!("reading runtime.members. on node {}", self.id)))?;
        status::parse_cmap_members(&out).map_err(|e| e.context(format!("node {}", self.id)))
    }

    /// Whether this node is currently quorate, per `corosync-quorumtool`. Fails at once on a
    /// node without a quorum provider, like [`Node::quorum_status`].
    pub fn is_quorate(&self) -> Result<bool> {
        self.quorum_status().map(|s| s.quorate)
    }

    /// Runs `f` on a fresh thread that has entered this node's network namespace, waits for
    /// it and returns what `f` returned. A panic in `f` is propagated to the caller
    /// (`resume_unwind`).
    ///
    /// corosync's client libraries reach the daemon through abstract unix sockets, which
    /// belong to a network namespace: a handle opened inside `f` is connected to this node's
    /// daemon, and it keeps working when it is used from other threads afterwards (return it
    /// from `f`). `f` may borrow from the caller (the thread is scoped). Fails only if the
    /// namespace cannot be entered (or the thread cannot be spawned).
    ///
    /// For a node of the container backend the thread enters the network namespace of the
    /// container; the containers share the host's /dev/shm and pid namespace (see
    /// [`ClusterBuilder::container_image`](crate::ClusterBuilder::container_image)), so
    /// libqb's shared-memory files and libcpg's zero-copy buffers work as with the namespace
    /// backend. The client library is the one loaded in the test process, so it must speak the
    /// daemon's IPC protocol (the same corosync version line as the image's).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), corosync_testcluster::HarnessError> {
    /// let cluster = corosync_testcluster::Cluster::start(2)?;
    /// let has_eth0 = cluster.node(2).in_namespace(|| {
    ///     // Open a client handle here (and return it): it talks to node 2's daemon.
    ///     std::fs::read_to_string("/proc/thread-self/net/dev").unwrap().contains("eth0")
    /// })?;
    /// assert!(has_eth0);
    /// # Ok(()) }
    /// ```
    pub fn in_namespace<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let entry = self.open_entry()?;
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name(format!("{}-{}", self.netns, self.name))
                .spawn_scoped(scope, move || {
                    self.enter(entry)?;
                    Ok(f())
                })
                .map_err(|e| {
                    HarnessError::new(format!(
                        "cannot spawn a thread for namespace {}: {e}",
                        self.netns
                    ))
                })?;
            match handle.join() {
                Ok(result) => result,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        })
    }

    /// Moves the *calling* thread into this node's network namespace for good. Meant for
    /// threads that a test spawns and owns (e.g. a dispatch loop for one node); prefer
    /// [`Node::in_namespace`] otherwise, because the thread stays in the namespace.
    ///
    /// For a node of the container backend the thread enters the network namespace of the
    /// node's container (see [`Node::in_namespace`]).
    pub fn enter_on_current_thread(&self) -> Result<()> {
        let entry = self.open_entry()?;
        self.enter(entry)
    }

    /// Creates the node's container (container backend only; configuration written already).
    pub(crate) fn create_container(&self, spec: &container::ContainerSpec) -> Result<()> {
        match &self.container {
            Some(c) => c.create(spec, self.id, self.addr, &self.dir),
            None => Err(HarnessError::new(format!(
                "node {} is not a container node",
                self.id
            ))),
        }
    }

    /// Connects (`up`) or disconnects the node's container to or from the cluster's network.
    pub(crate) fn set_container_link(&self, up: bool) -> Result<()> {
        match &self.container {
            Some(c) if up => c.connect(self.addr),
            Some(c) => c.disconnect(),
            None => Err(HarnessError::new(format!(
                "node {} is not a container node",
                self.id
            ))),
        }
    }

    /// Opens the network namespace a thread enters to reach this node's daemon.
    /// `None` for the node of existing-daemon mode: the thread stays where it is.
    fn open_entry(&self) -> Result<Option<File>> {
        if self.existing {
            return Ok(None);
        }
        match &self.container {
            Some(c) => c.open_netns().map(Some),
            None => netns::open_netns(&self.netns).map(Some),
        }
    }

    /// Moves the calling thread into the network namespace `entry` (if any).
    fn enter(&self, entry: Option<File>) -> Result<()> {
        match entry {
            Some(entry) => netns::setns(&entry, &self.netns),
            None => Ok(()),
        }
    }

    fn log_marker(&self, text: &str) {
        if self.container.is_some() {
            // podman keeps the container's log; markers would need a second file.
            return;
        }
        if let Ok(mut file) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
        {
            let _ = writeln!(file, "--- corosync-testcluster: {text} ---");
        }
    }

    /// Starts the daemon: `ip netns exec NS unshare --mount --propagation private sh -c
    /// 'mount --bind DIR/run /run && mount --bind DIR/lib /var/lib/corosync && exec corosync
    /// -f -c DIR/corosync.conf'`. Every step execs, so the spawned pid is the daemon's.
    ///
    /// A node of the container backend `podman start`s its container instead.
    pub(crate) fn spawn_daemon(&self) -> Result<()> {
        self.require_own_daemon("starting a daemon")?;
        if let Some(c) = &self.container {
            self.starts.fetch_add(1, Ordering::SeqCst);
            return c
                .start()
                .map_err(|e| e.context(format!("node {}", self.id)));
        }
        let mut daemon = self.lock_daemon();
        if let Some(child) = daemon.as_mut() {
            if matches!(child.try_wait(), Ok(None)) {
                return Err(HarnessError::new(format!(
                    "corosync on node {} is already running (pid {})",
                    self.id,
                    child.id()
                )));
            }
        }
        for dir in [self.run_dir(), self.lib_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| HarnessError::new(format!("cannot create {}: {e}", dir.display())))?;
        }
        let count = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        self.log_marker(&format!(
            "starting corosync on node {} (start #{count}, namespace {})",
            self.id, self.netns
        ));
        let log_path = self.log_path();
        let open_log = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .map_err(|e| HarnessError::new(format!("cannot open {}: {e}", log_path.display())))
        };
        let Some(t) = self.tools.as_deref() else {
            unreachable!("a namespace node always has the host's tools");
        };
        let script = r#""$1" --bind "$2" /run && "$1" --bind "$3" /var/lib/corosync && exec "$4" -f -c "$5""#;
        let mut cmd = Command::new(&t.ip);
        cmd.args(["netns", "exec", &self.netns])
            .arg(&t.unshare)
            .args(["--mount", "--propagation", "private"])
            .arg(&t.sh)
            .arg("-c")
            .arg(script)
            .arg(format!("corosync-{}", self.netns))
            .arg(&t.mount)
            .arg(self.run_dir())
            .arg(self.lib_dir())
            .arg(&t.corosync)
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(open_log()?)
            .stderr(open_log()?);
        let child = cmd.spawn().map_err(|e| {
            HarnessError::new(format!(
                "cannot start corosync on node {}: `{}`: {e}",
                self.id,
                env::describe(&cmd)
            ))
        })?;
        *daemon = Some(child);
        Ok(())
    }

    /// Freezes the daemon with SIGSTOP for `duration`, then lets it go on with SIGCONT. A
    /// pause longer than the token timeout makes the daemon record a missed scheduling
    /// (`stats.schedmiss.*` in its stats map). Fails if the daemon is not running.
    ///
    /// In the container backend the signals go to the container's daemon by its host pid.
    pub fn pause(&self, duration: Duration) -> Result<()> {
        self.require_own_daemon("pausing the daemon")?;
        let daemon = self.lock_daemon();
        let pid = match &self.container {
            Some(c) => c.pid(),
            None => daemon.as_ref().map(Child::id),
        };
        let Some(pid) = pid else {
            return Err(HarnessError::new(format!(
                "corosync on node {} is not running",
                self.id
            )));
        };
        let signal = |signal| {
            // SAFETY: kill() has no memory-safety preconditions. A namespace node's `pid` is
            // our unreaped child (the lock is held), so it cannot have been reused; a
            // container's daemon was alive just above (conmon reaps it).
            unsafe { libc::kill(pid as libc::pid_t, signal) }
        };
        if signal(libc::SIGSTOP) != 0 {
            return Err(HarnessError::new(format!(
                "cannot stop corosync on node {}: {}",
                self.id,
                std::io::Error::last_os_error()
            )));
        }
        std::thread::sleep(duration);
        signal(libc::SIGCONT);
        self.log_marker(&format!("daemon pid {pid} paused for {duration:?}"));
        Ok(())
    }

    /// Sends `signal` to the running daemon, waits up to `grace` for it to exit, then (if it
    /// is still there) kills it with SIGKILL; reaps it and removes what it left in /dev/shm.
    /// Fails if the daemon is not running.
    ///
    /// A node of the container backend is stopped with `podman kill` (SIGKILL) or `podman stop
    /// -t <grace>` (any other signal: SIGTERM, then SIGKILL).
    pub(crate) fn signal_daemon(&self, signal: libc::c_int, grace: Duration) -> Result<()> {
        self.require_own_daemon("killing or stopping the daemon")?;
        if let Some(c) = &self.container {
            let grace = if signal == libc::SIGKILL {
                Duration::ZERO
            } else {
                grace
            };
            return c
                .stop(grace)
                .map_err(|e| e.context(format!("node {}", self.id)));
        }
        let mut daemon = self.lock_daemon();
        let Some(mut child) = daemon.take() else {
            return Err(HarnessError::new(format!(
                "corosync on node {} is not running (never started, or already killed)",
                self.id
            )));
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Err(HarnessError::new(format!(
                "corosync on node {} is not running (it exited on its own: {status})",
                self.id
            )));
        }
        let pid = child.id();
        // SAFETY: kill() has no memory-safety preconditions; `pid` is our unreaped child, so
        // it cannot have been reused by another process.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
        let deadline = Instant::now() + grace;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    break child.wait();
                }
                Err(e) => break Err(e),
            }
        };
        env::remove_daemon_shm(pid);
        match status {
            Ok(status) => {
                self.log_marker(&format!("daemon pid {pid} ended: {status}"));
                Ok(())
            }
            Err(e) => Err(HarnessError::new(format!(
                "cannot reap corosync (pid {pid}) of node {}: {e}",
                self.id
            ))),
        }
    }

    /// Kills the daemon with SIGKILL if it runs; for clean-up (never fails).
    pub(crate) fn kill_quietly(&self) {
        if self.existing {
            return;
        }
        if let Some(c) = &self.container {
            if c.pid().is_some() {
                let _ = c.stop(Duration::ZERO);
            }
            return;
        }
        let running = self.lock_daemon().is_some();
        if running {
            let _ = self.signal_daemon(libc::SIGKILL, Duration::ZERO);
        }
    }

    /// The daemon's log tail with a header, for error messages.
    pub(crate) fn log_section(&self, lines: usize) -> String {
        let state = match self.pid() {
            Some(pid) => format!("running, pid {pid}"),
            None => match self.exit_status() {
                Some(status) => format!("exited: {status}"),
                None => "not running".to_string(),
            },
        };
        let source = match &self.container {
            Some(c) => format!("`podman logs {}`", c.name),
            None => self.log_path().display().to_string(),
        };
        format!(
            "--- node {} ({}, {}) log {source} (last {lines} lines) ---\n{}",
            self.id,
            self.netns,
            state,
            self.log_tail(lines)
        )
    }

    /// Fails if the daemon was started and has exited on its own, or if it is not running at
    /// all. (Callers add the logs.)
    pub(crate) fn ensure_running(&self) -> Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let why = match self.exit_status() {
            Some(status) => format!("corosync on node {} exited unexpectedly: {status}", self.id),
            None => format!("corosync on node {} is not running", self.id),
        };
        Err(HarnessError::new(why))
    }
}

/// One of corosync's tools the harness observes a node with.
#[derive(Debug, Clone, Copy)]
enum Tool {
    Cmapctl,
    Quorumtool,
}
