//! The container backend: each node is a podman container of a corosync image, on an
//! `--internal` podman network of the cluster's own.
//!
//! Names: the network is called like the cluster (`cst<pid>x<seq>`) and node k's container
//! `cst<pid>x<seq>n<k>`, so leftovers of a process that died are found by name and removed
//! ([`cleanup_stale_containers`]) without touching containers or networks of anyone else.
//!
//! Everything goes through the `podman` command line. On hosts where podman's defaults do not
//! work (crun on cgroups v1/hybrid, default ulimits that cannot be set), point `CONTAINERS_CONF`
//! at a file like the project's `scripts/containers.conf`; podman reads it from the environment
//! the test process passes on.

use std::ffi::OsStr;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::env::{self, DaemonInfo};
use crate::error::{HarnessError, Result};
use crate::netns;

/// Environment variable that selects the container backend for every cluster started with the
/// default builder: its value is the image (e.g. `localhost/corosync-testcluster:bookworm`).
pub const IMAGE_ENV: &str = "COROSYNC_TESTCLUSTER_IMAGE";

/// Environment variable with host paths (separated by `:`) that are mounted read-only into
/// every container at the same path, e.g. the cargo target directory, so that programs built
/// on the host can run inside with [`Node::command`](crate::Node::command).
pub const MOUNTS_ENV: &str = "COROSYNC_TESTCLUSTER_MOUNTS";

/// Environment variable with the podman program to run (default: `podman` from `PATH`).
pub const PODMAN_ENV: &str = "COROSYNC_TESTCLUSTER_PODMAN";

/// What to install when podman is missing.
const PODMAN_HINT: &str = "install podman and the runc runtime: `apt-get install -y podman runc` \
     (or the project's scripts/install-container-deps)";

/// What to do when the image has no corosync.
const IMAGE_HINT: &str = "use an image with corosync installed in it: build the project's with \
     `scripts/container-image` (debootstrap, no registry needed) or `podman build -t \
     localhost/corosync-testcluster:bookworm -f Containerfile .`, or add `apt-get install -y \
     corosync` to your own image";

/// Where the harness mounts each node's directory (corosync.conf, authkey) in its container.
pub(crate) const CONFIG_DIR: &str = "/etc/corosync";

/// How a cluster's containers are made: the image and the host paths mounted into them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerSpec {
    pub(crate) image: String,
    pub(crate) mounts: Vec<PathBuf>,
}

impl ContainerSpec {
    pub(crate) fn new(image: &str) -> Self {
        ContainerSpec {
            image: image.to_string(),
            mounts: Vec::new(),
        }
    }

    /// The spec that the environment asks for ([`IMAGE_ENV`], [`MOUNTS_ENV`]), if any.
    pub(crate) fn from_env() -> Option<Self> {
        let image = std::env::var(IMAGE_ENV).ok().filter(|i| !i.is_empty())?;
        let mut spec = ContainerSpec::new(&image);
        if let Some(mounts) = std::env::var_os(MOUNTS_ENV) {
            spec.mounts
                .extend(std::env::split_paths(&mounts).filter(|p| !p.as_os_str().is_empty()));
        }
        Some(spec)
    }
}

/// The located `podman` program.
#[derive(Debug)]
pub(crate) struct Podman {
    program: PathBuf,
}

impl Podman {
    /// `podman ARGS...` as a command.
    pub(crate) fn command(&self) -> Command {
        Command::new(&self.program)
    }

    /// Runs `podman ARGS...` and fails (with its stderr) unless it succeeds; returns stdout.
    pub(crate) fn run<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        env::run(self.command().args(args))
    }
}

fn podman_missing(what: &str) -> HarnessError {
    HarnessError::new(format!(
        "the container backend of corosync-testcluster needs podman, but {what}: {PODMAN_HINT}"
    ))
}

/// Locates podman once per process and checks that it answers.
pub(crate) fn podman() -> Result<&'static Podman> {
    static PODMAN: OnceLock<std::result::Result<Podman, HarnessError>> = OnceLock::new();
    PODMAN
        .get_or_init(|| {
            let program = match std::env::var_os(PODMAN_ENV) {
                Some(path) if Path::new(&path).is_file() => PathBuf::from(path),
                Some(path) => {
                    return Err(podman_missing(&format!(
                        "{PODMAN_ENV}={} does not exist",
                        Path::new(&path).display()
                    )))
                }
                None => env::find_program(OsStr::new("podman"))
                    .ok_or_else(|| podman_missing("it was not found in PATH"))?,
            };
            let podman = Podman { program };
            podman
                .run(["version", "--format", "{{.Client.Version}}"])
                .map_err(|e| {
                    e.context(format!(
                        "podman does not work ({PODMAN_HINT}; on hosts with cgroups v1 or where \
                     the default ulimits cannot be set, set CONTAINERS_CONF to the project's \
                     scripts/containers.conf)"
                    ))
                })?;
            Ok(podman)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks once per process and image that the image exists and has corosync and its tools;
/// returns what `corosync -v` says in it.
pub(crate) fn check_image(podman: &Podman, image: &str) -> Result<DaemonInfo> {
    static CHECKED: Mutex<Vec<(String, DaemonInfo)>> = Mutex::new(Vec::new());
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, info)) = checked.iter().find(|(i, _)| i == image) {
        return Ok(info.clone());
    }
    if !podman
        .command()
        .args(["image", "exists", image])
        .status()
        .map_err(|e| HarnessError::new(format!("cannot run podman: {e}")))?
        .success()
    {
        return Err(HarnessError::new(format!(
            "the container image {image} does not exist in podman's storage: {IMAGE_HINT}"
        )));
    }
    let probe = "for p in corosync corosync-quorumtool corosync-cmapctl; do \
                 command -v $p >/dev/null || { echo \"$p not found in PATH=$PATH\"; exit 1; }; \
                 done; corosync -v";
    let version = podman
        .run([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            probe,
        ])
        .map_err(|e| {
            HarnessError::new(format!(
                "the container image {image} has no corosync (or no /bin/sh to look for it): \
                 {IMAGE_HINT}. What the check said: {e}"
            ))
        })?;
    let info = DaemonInfo::parse(&version);
    checked.push((image.to_string(), info.clone()));
    Ok(info)
}

/// Creates the cluster's `--internal` network (podman chooses a free subnet) and returns the
/// first `count` addresses the nodes get: `.11`, `.12`, ... of that subnet.
pub(crate) fn create_network(podman: &Podman, name: &str, count: u32) -> Result<Vec<IpAddr>> {
    if podman
        .command()
        .args(["network", "exists", name])
        .status()
        .is_ok_and(|s| s.success())
    {
        // Left over by an earlier process that had our pid.
        remove_network(podman, name)?;
    }
    podman.run(["network", "create", "--internal", name])?;
    let subnet = podman.run([
        "network",
        "inspect",
        "--format",
        "{{range .Subnets}}{{.Subnet}} {{end}}",
        name,
    ])?;
    node_addrs(&subnet, count).map_err(|e| e.context(format!("network {name}")))
}

/// The addresses `.11`, `.12`, ... of the first IPv4 subnet in `subnets` (as podman prints
/// them, `10.89.0.0/24`).
pub(crate) fn node_addrs(subnets: &str, count: u32) -> Result<Vec<IpAddr>> {
    let parsed = subnets.split_whitespace().find_map(|s| {
        let (addr, len) = s.split_once('/')?;
        Some((addr.parse::<Ipv4Addr>().ok()?, len.parse::<u32>().ok()?))
    });
    let Some((base, len)) = parsed else {
        return Err(HarnessError::new(format!(
            "podman created no IPv4 subnet (it says: {subnets:?})"
        )));
    };
    let size = 1u64 << (32 - len.min(32));
    if u64::from(count) + 11 >= size {
        return Err(HarnessError::new(format!(
            "subnet {base}/{len} is too small for {count} nodes"
        )));
    }
    let base = u32::from(base);
    Ok((1..=count)
        .map(|k| IpAddr::V4(Ipv4Addr::from(base + 10 + k)))
        .collect())
}

pub(crate) fn remove_network(podman: &Podman, name: &str) -> Result<()> {
    podman.run(["network", "rm", "-f", name]).map(|_| ())
}

/// Removes containers (forcibly, with their processes) by name.
pub(crate) fn remove_containers(podman: &Podman, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    podman
        .run(
            ["rm", "-f", "-i", "-t", "0"]
                .iter()
                .map(OsStr::new)
                .chain(names.iter().map(OsStr::new)),
        )
        .map(|_| ())
}

/// Removes containers and networks named `cst<pid>x...` whose `<pid>` is no longer alive: the
/// leftovers of test processes that were killed before they could clean up. Returns how many
/// were removed.
pub fn cleanup_stale_containers() -> Result<usize> {
    cleanup_stale_with(netns::PREFIX)
}

fn cleanup_stale_with(prefix: &str) -> Result<usize> {
    let podman = podman()?;
    let me = std::process::id();
    let stale = |name: &&str| match netns::owner_pid(prefix, name) {
        Some(pid) => pid != me && !env::pid_exists(pid),
        None => false,
    };
    let containers: Vec<String> = podman
        .run(["ps", "-a", "--format", "{{.Names}}"])?
        .lines()
        .filter(stale)
        .map(str::to_string)
        .collect();
    remove_containers(podman, &containers)?;
    let mut removed = containers.len();
    for network in podman
        .run(["network", "ls", "--format", "{{.Name}}"])?
        .lines()
        .filter(stale)
    {
        remove_network(podman, network)?;
        removed += 1;
    }
    Ok(removed)
}

/// Runs [`cleanup_stale_containers`] for `prefix` once per process and prefix (errors are
/// reported, not fatal).
pub(crate) fn cleanup_stale_once(prefix: &str) {
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|p| p == prefix) {
        return;
    }
    done.push(prefix.to_string());
    if let Err(e) = cleanup_stale_with(prefix) {
        eprintln!("corosync-testcluster: warning: {e}");
    }
}

/// One node's container.
#[derive(Debug)]
pub(crate) struct ContainerNode {
    pub(crate) podman: &'static Podman,
    /// The container's name, `cst<pid>x<seq>n<k>`.
    pub(crate) name: String,
    /// The cluster's network.
    pub(crate) network: String,
    /// Host pid of the running daemon (the container's first process), or `None` when the
    /// harness has not started it or has killed it.
    pid: Mutex<Option<u32>>,
}

impl ContainerNode {
    pub(crate) fn new(podman: &'static Podman, name: String, network: String) -> Self {
        ContainerNode {
            podman,
            name,
            network,
            pid: Mutex::new(None),
        }
    }

    /// `podman create`s the container: corosync -f on `image`, node `id`'s directory on
    /// /etc/corosync, the static address `addr` on the cluster's network, and the spec's
    /// read-only mounts.
    pub(crate) fn create(
        &self,
        spec: &ContainerSpec,
        id: u32,
        addr: IpAddr,
        dir: &Path,
    ) -> Result<()> {
        let mut cmd = self.podman.command();
        cmd.args(["create", "--name", &self.name])
            .args(["--hostname", &format!("node{id}")])
            .args(["--network", &self.network])
            .args(["--ip", &addr.to_string()])
            // Share the host's pid namespace and /dev/shm, as the namespace backend's daemons
            // do: libqb's client connections map ring buffers from /dev/shm by name, and
            // libcpg's zero-copy buffers are files a client creates under /dev/shm and the
            // daemon opens by name, so a client in the test process (Node::in_namespace) and
            // the daemon must see the same /dev/shm. Those names carry pids (the daemon's
            // blackbox is qb-corosync-<pid>-blackbox-*), which are unique only within one
            // pid namespace: daemons that were all pid 1 would share one blackbox file.
            .args(["--pid", "host", "-v", "/dev/shm:/dev/shm"])
            .arg("-v")
            .arg(format!("{}:{CONFIG_DIR}", dir.display()));
        for mount in &spec.mounts {
            cmd.arg("-v")
                .arg(format!("{}:{}:ro", mount.display(), mount.display()));
        }
        cmd.args(["--entrypoint", "corosync", &spec.image, "-f"]);
        env::run(&mut cmd).map(|_| ())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<u32>> {
        self.pid.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The host pid of the running daemon.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.lock().filter(|&pid| env::pid_alive(pid))
    }

    /// `podman start`s the container and records the daemon's pid.
    pub(crate) fn start(&self) -> Result<()> {
        let mut pid = self.lock();
        if let Some(p) = pid.filter(|&p| env::pid_alive(p)) {
            return Err(HarnessError::new(format!(
                "container {} is already running (daemon pid {p})",
                self.name
            )));
        }
        *pid = None;
        self.podman.run(["start", &self.name])?;
        let state = self.podman.run([
            "inspect",
            "--format",
            "{{.State.Pid}} {{.State.Status}} {{.State.ExitCode}}",
            &self.name,
        ])?;
        match state
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok())
        {
            Some(p) if p != 0 => {
                *pid = Some(p);
                Ok(())
            }
            _ => Err(HarnessError::new(format!(
                "container {} stopped right after it started (state: {})",
                self.name,
                state.trim()
            ))),
        }
    }

    /// The exit code of a daemon that the harness started and that exited on its own.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        let pid = (*self.lock())?;
        if env::pid_alive(pid) {
            return None;
        }
        self.podman
            .run(["inspect", "--format", "{{.State.ExitCode}}", &self.name])
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the daemon: SIGKILL at once (`podman kill`) when `grace` is zero, else SIGTERM
    /// and SIGKILL after `grace` (`podman stop`). Waits until the container has stopped.
    pub(crate) fn stop(&self, grace: Duration) -> Result<()> {
        let mut pid = self.lock();
        let Some(p) = pid.take() else {
            return Err(HarnessError::new(format!(
                "corosync in container {} is not running (never started, or already killed)",
                self.name
            )));
        };
        if !env::pid_alive(p) {
            return Err(HarnessError::new(format!(
                "corosync in container {} is not running (it exited on its own)",
                self.name
            )));
        }
        if grace.is_zero() {
            self.podman.run(["kill", &self.name])?;
        } else {
            let secs = grace.as_secs().max(1).to_string();
            self.podman.run(["stop", "-t", &secs, &self.name])?;
        }
        // `podman wait` returns once podman has recorded the exit.
        self.podman.run(["wait", &self.name])?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while env::pid_alive(p) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        env::remove_daemon_shm(p);
        Ok(())
    }

    /// Everything the container's daemons have written (`podman logs`, all starts).
    pub(crate) fn log(&self) -> String {
        match self.podman.command().args(["logs", &self.name]).output() {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                text
            }
            Err(e) => format!("(cannot run podman logs {}: {e})", self.name),
        }
    }

    /// Disconnects the container from the cluster's network (its interface goes away).
    pub(crate) fn disconnect(&self) -> Result<()> {
        self.podman
            .run(["network", "disconnect", &self.network, &self.name])
            .map(|_| ())
    }

    /// Connects the container to the cluster's network again, with its address.
    pub(crate) fn connect(&self, addr: IpAddr) -> Result<()> {
        self.podman
            .run([
                "network",
                "connect",
                "--ip",
                &addr.to_string(),
                &self.network,
                &self.name,
            ])
            .map(|_| ())
    }

    /// `podman exec -i NAME PROGRAM`: runs a program inside the container (stdin is passed
    /// through, and the environment variables named `COROSYNC*` and `RUST_BACKTRACE`). A bare
    /// name is looked up in the container's `PATH`.
    pub(crate) fn exec(&self, program: &OsStr) -> Command {
        let mut cmd = self.podman.command();
        // `--env NAME*` copies the variables of podman's own environment (the test process's,
        // plus any set on the returned Command) whose names start with NAME. A program run
        // here is a client of this container's daemon: if it links corosync-testcluster, its
        // rootless mode must not move it into a user and network namespace of its own (root
        // in a container lacks CAP_SYS_ADMIN and CAP_NET_ADMIN, which would trigger it).
        cmd.args([
            "exec",
            "-i",
            "--env",
            "COROSYNC*",
            "--env",
            "RUST_BACKTRACE*",
        ])
        .args(["--env", "COROSYNC_TESTCLUSTER_ROOTLESS=off"])
        .arg(&self.name)
        .arg(program);
        cmd
    }

    /// Opens the daemon's network namespace (`/proc/<pid>/ns/net`).
    pub(crate) fn open_netns(&self) -> Result<File> {
        let Some(pid) = self.pid() else {
            return Err(HarnessError::new(format!(
                "corosync in container {} is not running: there is no namespace to enter",
                self.name
            )));
        };
        let path = format!("/proc/{pid}/ns/net");
        File::open(&path).map_err(|e| {
            HarnessError::new(format!("cannot open {path} (container {}): {e}", self.name))
        })
    }
}

#[cfg(test)]
mod unit {
    use super::node_addrs;

    #[test]
    fn addresses_in_podmans_subnet() {
        let addrs = node_addrs("10.89.3.0/24 ", 3).unwrap();
        let text: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["10.89.3.11", "10.89.3.12", "10.89.3.13"]);
        assert!(node_addrs("fd00::/64", 1).is_err());
        assert!(node_addrs("10.0.0.0/28", 5).is_err());
        assert!(node_addrs("10.0.0.0/28", 4).is_ok());
    }
}
