//! [`Cluster`] and [`ClusterBuilder`]: start, observe, disturb and clean up real clusters.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{self, ConfigSpec, Crypto, CryptoMode, KeySource, Section};
use crate::container::{self, ContainerNode, ContainerSpec, Podman};
use crate::env::{self, Tools};
use crate::error::{HarnessError, Result};
use crate::netns;
use crate::node::{Node, LOG_TAIL_LINES};

/// Default time limit of the harness's own waits (start, restart, isolate, heal).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest number of nodes a cluster may have: the largest the harness is tested with (32
/// nodes need about 3.5 GB of memory and are quorate after about 25 s on a 2-core machine).
pub const MAX_NODES: u32 = 32;

/// The default private segment of a multi-node cluster: 10.213.0.0/24 (it exists only inside
/// the cluster's namespaces; see [`ClusterBuilder::subnet`]).
pub const DEFAULT_SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 213, 0, 0), 24);

/// Memory one node needs, counted against `MemAvailable` before a cluster starts: a corosync
/// daemon with knet took about 110 MB here (32 nodes used about 3.5 GB in all), plus its
/// two 8 MiB libqb blackbox files in /dev/shm and its client connections' ring buffers
/// (about 3 MiB each).
///
/// ```
/// // What a full-size cluster asks of the machine before it starts.
/// let needed = u64::from(corosync_testcluster::MAX_NODES) * corosync_testcluster::NODE_MEMORY;
/// assert_eq!(needed >> 20, 4096);
/// ```
pub const NODE_MEMORY: u64 = 128 * 1024 * 1024;

/// Fails unless the machine has [`NODE_MEMORY`] per node available (per `MemAvailable` in
/// `meminfo`, the text of /proc/meminfo), with a message that says how much is needed.
fn check_memory(nodes: u32, meminfo: &str) -> Result<()> {
    let available_kib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemAvailable:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .ok_or_else(|| HarnessError::new("/proc/meminfo has no readable MemAvailable line"))?;
    let available = available_kib * 1024;
    let needed = u64::from(nodes) * NODE_MEMORY;
    if available < needed {
        return Err(HarnessError::new(format!(
            "a {nodes}-node cluster needs about {} MiB ({} MiB per corosync daemon), but this \
             machine has only {} MiB available (MemAvailable in /proc/meminfo): start fewer \
             nodes or free memory",
            needed >> 20,
            NODE_MEMORY >> 20,
            available >> 20
        )));
    }
    Ok(())
}

/// Which backend a cluster runs on.
#[derive(Debug)]
enum Backend {
    /// One network namespace per node, the host's corosync.
    Netns(Arc<Tools>),
    /// One podman container per node, with what `corosync -v` says in the image.
    Container(&'static Podman, env::DaemonInfo),
}

/// Interval between two polls of a condition.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Name of the bridge in the bridge namespace, and of each node's interface.
const BRIDGE: &str = "br0";
const NODE_IF: &str = "eth0";

/// The address of node `id` on a multi-node cluster's private segment `net` (which exists only
/// inside the cluster's namespaces).
fn segment_addr(net: Ipv4Addr, id: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(net) + id))
}

/// Checks a subnet for `n` nodes (addresses net+1 ..= net+n, no network or broadcast address).
fn check_subnet(net: Ipv4Addr, len: u8, n: u32) -> Result<()> {
    if !(8..=30).contains(&len) {
        return Err(HarnessError::new(format!(
            "subnet {net}/{len}: the prefix length must be 8 to 30"
        )));
    }
    let host_bits = 32 - u32::from(len);
    let host_mask = (1u32 << host_bits) - 1;
    if u32::from(net) & host_mask != 0 {
        return Err(HarnessError::new(format!(
            "subnet {net}/{len} has host bits set; give the network address"
        )));
    }
    if n > host_mask - 1 {
        return Err(HarnessError::new(format!(
            "subnet {net}/{len} has room for {} nodes, not {n}",
            host_mask - 1
        )));
    }
    Ok(())
}

/// What one poll of a condition found.
pub(crate) enum Step<T> {
    /// The condition holds; stop with this value.
    Done(T),
    /// Not yet; the text describes what was observed (for the timeout message).
    NotYet(String),
    /// Give up at once with this error.
    Fail(HarnessError),
}

/// Polls `step` every 50 ms until it is done, fails, or `timeout` has passed.
pub(crate) fn poll<T>(
    timeout: Duration,
    description: &str,
    mut step: impl FnMut() -> Step<T>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        let last = match step() {
            Step::Done(value) => return Ok(value),
            Step::Fail(e) => return Err(e.context(format!("while waiting for {description}"))),
            Step::NotYet(last) => last,
        };
        if start.elapsed() >= timeout {
            let mut msg = format!("timed out after {timeout:?} waiting for {description}");
            if !last.is_empty() {
                msg.push_str("; last observed: ");
                msg.push_str(&last);
            }
            return Err(HarnessError::new(msg));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Polls `condition` every 50 ms until it returns true; fails after `timeout` with an error
/// that names `description`.
///
/// [`Cluster::wait_until`] does the same and adds the daemons' logs to the error.
pub fn wait_until(
    timeout: Duration,
    description: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<()> {
    poll(timeout, description, || {
        if condition() {
            Step::Done(())
        } else {
            Step::NotYet(String::new())
        }
    })
}

/// Configures a cluster before starting it: see [`Cluster::builder`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    nodes: u32,
    spec: ConfigSpec,
    /// `None`: not set, which means true with a quorum provider and false without.
    wait_for_quorum: Option<bool>,
    timeout: Duration,
    stopped: Vec<u32>,
    /// `None`: as [`config::CRYPTO_ENV`] says.
    crypto: Option<Crypto>,
    prefix: String,
    subnet: (Ipv4Addr, u8),
    tool_dir: Option<PathBuf>,
    /// `Some`: the container backend, with this image and these mounts.
    container: Option<ContainerSpec>,
}

impl ClusterBuilder {
    /// Sets (or replaces) `key: value` in the `totem` section, e.g. `("token", "3000")`.
    /// The defaults are `version: 2`, `cluster_name: harness`, `transport: knet` and `token:
    /// 1000`; `crypto_cipher`, `crypto_hash` and `keyfile` are set by
    /// [`crypto`](ClusterBuilder::crypto) when the cluster starts.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1)
    ///     .totem_option("max_messages", 50)
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.node(1).cmap_get("totem.max_messages").unwrap(), "50");
    /// ```
    pub fn totem_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.totem.set(key, &value.to_string());
        self
    }

    /// Sets (or replaces) `key: value` in link 0's `interface` subsection of `totem`, e.g.
    /// `("knet_link_priority", 2)`. The default subsection has `linknumber: 0` and, unless
    /// either is set here, `knet_ping_timeout` (corosync's default: half the token timeout,
    /// which corosync raises by `token_coefficient` for each node beyond two) and
    /// `knet_ping_interval` (100 ms at most, a quarter of the timeout: corosync's own default
    /// of a quarter of the token timeout made new links come up 1.3 s late).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(2)
    ///     .interface_option("knet_ping_interval", 200)
    ///     .interface_option("knet_ping_timeout", 1000)
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(
    ///     cluster.node(1).cmap_get("totem.interface.0.knet_ping_interval").unwrap(),
    ///     "200"
    /// );
    /// ```
    pub fn interface_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.interface.set(key, &value.to_string());
        self
    }

    /// Sets (or replaces) `key: value` in the `quorum` section, e.g. `("two_node", 1)` or
    /// `("wait_for_all", 1)`. The default section has only `provider: corosync_votequorum`
    /// (see [`without_quorum_provider`](ClusterBuilder::without_quorum_provider)); the
    /// common options have their own methods: [`two_node`](ClusterBuilder::two_node),
    /// [`wait_for_all`](ClusterBuilder::wait_for_all),
    /// [`last_man_standing`](ClusterBuilder::last_man_standing),
    /// [`auto_tie_breaker`](ClusterBuilder::auto_tie_breaker).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3)
    ///     .quorum_option("expected_votes", 3)
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.node(1).quorum_status().unwrap().expected_votes, 3);
    /// ```
    pub fn quorum_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.quorum.set(key, &value.to_string());
        self
    }

    /// Leaves the `provider:` line out of the quorum section: corosync then runs without a
    /// quorum provider, its quorum service reports `QUORUM_FREE` and calls every partition
    /// quorate, and votequorum is not loaded. (A later `quorum_option("provider", ...)` puts
    /// a provider back.)
    ///
    /// corosync 3.1.7's `corosync-quorumtool -s` fails on such a daemon (it asks votequorum
    /// anyway), so for this cluster the harness observes readiness and membership with
    /// `corosync-cmapctl` instead: a node's members are the ids whose
    /// `runtime.members.<id>.status` is `joined` ([`Node::cmap_members`]), which is what
    /// [`Node::members`], [`start`](ClusterBuilder::start), [`Cluster::start_node`],
    /// [`Cluster::restart`], [`Cluster::wait_members`], [`Cluster::isolate`] and
    /// [`Cluster::heal`] use. Quorum has no meaning here: [`Node::quorum_status`],
    /// [`Node::is_quorate`] and [`Cluster::wait_quorate`] fail at once with an error that says
    /// so, and `start` does not wait for quorum (asking it to with
    /// [`wait_for_quorum(true)`](ClusterBuilder::wait_for_quorum) is an error).
    ///
    /// ```no_run
    /// use corosync_testcluster::Cluster;
    /// let cluster = Cluster::builder(2)
    ///     .without_quorum_provider()
    ///     .start()
    ///     .expect("start a 2-node cluster without quorum provider");
    /// assert_eq!(cluster.node(1).members().unwrap(), vec![1, 2]);
    /// assert!(cluster.node(1).is_quorate().is_err());
    /// ```
    pub fn without_quorum_provider(mut self) -> Self {
        self.spec.quorum.remove("provider");
        self
    }

    /// Sets (or replaces) `key: value` in the `logging` section, e.g. `("debug", "on")`.
    /// The defaults log to stderr only (captured in each node's log file) with hires
    /// timestamps.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1)
    ///     .logging_option("debug", "on")
    ///     .start()
    ///     .unwrap();
    /// assert!(cluster.node(1).log().contains("debug"));
    /// ```
    pub fn logging_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.logging.set(key, &value.to_string());
        self
    }

    /// Sets `totem.cluster_name` (default `harness`).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1).cluster_name("db").start().unwrap();
    /// assert_eq!(cluster.cluster_name(), "db");
    /// ```
    pub fn cluster_name(self, name: &str) -> Self {
        self.totem_option("cluster_name", name)
    }

    /// Appends raw text to every node's corosync.conf (e.g. a whole extra section).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1)
    ///     .extra_config("resources {\n    system {\n    }\n}\n")
    ///     .start()
    ///     .unwrap();
    /// assert!(cluster.node(1).config().unwrap().contains("resources {"));
    /// ```
    pub fn extra_config(mut self, text: &str) -> Self {
        self.spec.extra.push_str(text);
        if !self.spec.extra.ends_with('\n') {
            self.spec.extra.push('\n');
        }
        self
    }

    /// The totem token timeout (`token`, default 1 s). Membership changes after a kill settle
    /// after token + consensus.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = corosync_testcluster::Cluster::builder(2)
    ///     .token(Duration::from_millis(3000))
    ///     .consensus(Duration::from_millis(3600))
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.node(1).cmap_get("totem.token").unwrap(), "3000");
    /// ```
    pub fn token(self, timeout: Duration) -> Self {
        self.totem_option("token", timeout.as_millis())
    }

    /// The totem consensus timeout (`consensus`; corosync's default is 1.2 × token).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = corosync_testcluster::Cluster::builder(1)
    ///     .consensus(Duration::from_millis(1500))
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.node(1).cmap_get("totem.consensus").unwrap(), "1500");
    /// ```
    pub fn consensus(self, timeout: Duration) -> Self {
        self.totem_option("consensus", timeout.as_millis())
    }

    /// Encryption of the cluster traffic. Without this call the cluster follows
    /// [`CRYPTO_ENV`](crate::CRYPTO_ENV): `auto` (the default) encrypts with aes256/sha256 and
    /// a harness-made key exactly when the daemon refuses to run unencrypted (upstream
    /// corosync main), `on` always, `off` never.
    ///
    /// The key is written to `<cluster dir>/authkey` (mode 0400) and named by `keyfile:`. In
    /// the container backend each node's directory gets a copy, which its container sees as
    /// `/etc/corosync/authkey`.
    ///
    /// ```no_run
    /// use corosync_testcluster::{Cluster, Crypto, KeySource};
    /// let cluster = Cluster::builder(2)
    ///     .crypto(Crypto::aes256_sha256().key(KeySource::Keygen))
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.crypto().cipher(), Some("aes256"));
    /// ```
    pub fn crypto(mut self, crypto: Crypto) -> Self {
        self.crypto = Some(crypto);
        self
    }

    /// `two_node: 1` (or 0) in the quorum section: a 2-node cluster stays quorate with one
    /// node (and `wait_for_all` is on by default).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(2).two_node(true).start().unwrap();
    /// assert!(cluster.node(1).quorum_status().unwrap().flags.iter().any(|f| f == "2Node"));
    /// ```
    pub fn two_node(self, on: bool) -> Self {
        self.quorum_option("two_node", u8::from(on))
    }

    /// `wait_for_all: 1` (or 0): after start, quorum needs all nodes seen once.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3).wait_for_all(true).start().unwrap();
    /// assert!(cluster.node(1).quorum_status().unwrap().flags.iter().any(|f| f == "WaitForAll"));
    /// ```
    pub fn wait_for_all(self, on: bool) -> Self {
        self.quorum_option("wait_for_all", u8::from(on))
    }

    /// `last_man_standing: 1` (or 0): expected votes are recalculated after nodes leave (after
    /// `last_man_standing_window`, set it with [`quorum_option`](ClusterBuilder::quorum_option)).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3)
    ///     .last_man_standing(true)
    ///     .start()
    ///     .unwrap();
    /// assert!(cluster.node(1).quorum_status().unwrap().flags.iter().any(|f| f == "LastManStanding"));
    /// ```
    pub fn last_man_standing(self, on: bool) -> Self {
        self.quorum_option("last_man_standing", u8::from(on))
    }

    /// `auto_tie_breaker: 1` (or 0): in an even split, the half with the lowest node id stays
    /// quorate.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(2)
    ///     .auto_tie_breaker(true)
    ///     .start()
    ///     .unwrap();
    /// assert!(cluster.node(1).quorum_status().unwrap().flags.iter().any(|f| f == "AutoTieBreaker"));
    /// ```
    pub fn auto_tie_breaker(self, on: bool) -> Self {
        self.quorum_option("auto_tie_breaker", u8::from(on))
    }

    /// Adds a `uidgid { uid: UID gid: GID }` section: client programs running as that user or
    /// group may use the daemon's IPC (by default only root may).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1).uidgid(1000, 1000).start().unwrap();
    /// assert!(cluster.node(1).config().unwrap().contains("uidgid {\n    uid: 1000\n    gid: 1000\n}"));
    /// ```
    pub fn uidgid(mut self, uid: u32, gid: u32) -> Self {
        let mut section = Section::default();
        section.set("uid", &uid.to_string());
        section.set("gid", &gid.to_string());
        self.spec.sections.push(("uidgid".to_string(), section));
        self
    }

    /// The prefix of the cluster's namespace and directory names (default
    /// [`PREFIX`](crate::PREFIX), `cst`): the cluster is named `<prefix><pid>x<seq>`. 1 to 12
    /// ASCII letters, digits or `-`, not ending with a digit. Leftovers of dead processes are
    /// cleaned up per prefix.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1).prefix("myapp").start().unwrap();
    /// assert!(cluster.name().starts_with("myapp"));
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// The private IPv4 segment of a multi-node cluster (default 10.213.0.0/24,
    /// [`DEFAULT_SUBNET`]): node k gets address net + k. It exists only inside the cluster's
    /// namespaces, so parallel clusters may use the same subnet. A one-node cluster uses
    /// 127.0.0.1 instead.
    ///
    /// ```no_run
    /// use std::net::Ipv4Addr;
    /// let cluster = corosync_testcluster::Cluster::builder(2)
    ///     .subnet(Ipv4Addr::new(192, 168, 77, 0), 24)
    ///     .start()
    ///     .unwrap();
    /// assert_eq!(cluster.node(2).addr().to_string(), "192.168.77.2");
    /// ```
    pub fn subnet(mut self, net: Ipv4Addr, prefix_len: u8) -> Self {
        self.subnet = (net, prefix_len);
        self
    }

    /// A directory holding `corosync` and its tools (`corosync-cmapctl`,
    /// `corosync-quorumtool`, `corosync-cpgtool`, `corosync-cfgtool`, `corosync-keygen`),
    /// searched before `PATH`, e.g. the `sbin` of another corosync build. The default is the
    /// environment variable [`TOOL_DIR_ENV`](crate::TOOL_DIR_ENV) if set; then the programs
    /// are looked up in `PATH`, then in /usr/local/sbin, /usr/sbin and /sbin. (A build in
    /// another prefix usually needs `LD_LIBRARY_PATH=PREFIX/lib` too; the harness passes its
    /// environment on to the daemons and tools.)
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(1)
    ///     .tool_dir("/opt/corosync-main/sbin")
    ///     .start()
    ///     .unwrap();
    /// println!("{}", cluster.daemon_version());
    /// ```
    pub fn tool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tool_dir = Some(dir.into());
        self
    }

    /// Whether [`start`](ClusterBuilder::start) waits for the cluster to be quorate (default
    /// `true`). It always waits until every started node answers and sees all started nodes
    /// as members; with `false` it does not require quorum on top (e.g. for `wait_for_all`
    /// tests, or when some nodes are left [`stopped`](ClusterBuilder::stopped)).
    ///
    /// A cluster [`without_quorum_provider`](ClusterBuilder::without_quorum_provider) never
    /// waits for quorum; `wait_for_quorum(true)` makes its `start` fail.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3)
    ///     .stopped(&[2, 3])
    ///     .wait_for_quorum(false)
    ///     .start()
    ///     .unwrap();
    /// assert!(!cluster.node(1).is_quorate().unwrap());
    /// ```
    pub fn wait_for_quorum(mut self, wait: bool) -> Self {
        self.wait_for_quorum = Some(wait);
        self
    }

    /// Whether the configuration has a quorum provider (a `provider:` line in the quorum
    /// section).
    fn has_quorum_provider(&self) -> bool {
        self.spec.quorum.get("provider").is_some()
    }

    /// Time limit of the harness's own waits: start, restart, isolate and heal (default
    /// [`DEFAULT_TIMEOUT`], 30 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = corosync_testcluster::Cluster::builder(3)
    ///     .timeout(Duration::from_secs(60))
    ///     .start()
    ///     .unwrap();
    /// # drop(cluster);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs each node in a podman container of `image` instead of a network namespace (the
    /// container backend). `Cluster::builder` already chooses this backend when the
    /// environment variable `COROSYNC_TESTCLUSTER_IMAGE` names an image; this method selects
    /// it in code.
    ///
    /// The image needs corosync and its tools in its `PATH` and `/bin/sh`: the project's
    /// `scripts/container-image` builds one without a registry (debootstrap from Debian's
    /// packages), its `Containerfile` builds the same with `podman build`. The cluster gets an
    /// `--internal` podman network named like the cluster (`cst<pid>x<seq>`, subnet chosen by
    /// podman, no route out) and node k the container `cst<pid>x<seq>n<k>` with the address
    /// `.1<k>` of that subnet, its directory mounted on /etc/corosync (corosync.conf, and
    /// `authkey` when crypto is on) and `corosync -f` as its process. Kill and restart are
    /// `podman kill` and `podman start`, isolate and heal are `podman network disconnect` and
    /// `connect`; client programs run inside with `podman exec` ([`Node::command`]) and
    /// [`Node::in_namespace`] enters the container's network namespace. Like the namespace
    /// backend's daemons, the containers share the host's /dev/shm and pid namespace
    /// (`--pid host -v /dev/shm:/dev/shm`): libqb's shared-memory files and libcpg's
    /// zero-copy buffers are opened by name on both sides of a connection, and those names
    /// carry pids, which must be unique. Dropping
    /// the cluster removes the containers and the network; those of test processes that died
    /// are removed when the next process starts its first container cluster.
    ///
    /// Needs root, podman (`apt-get install -y podman runc`) and, on hosts with cgroups v1 or
    /// where podman cannot set its default ulimits, `CONTAINERS_CONF` pointing to a file like
    /// the project's `scripts/containers.conf`. A missing podman or image, or an image without
    /// corosync, fails the start with an error that says what to install.
    ///
    /// Crypto follows [`crypto`](ClusterBuilder::crypto) and `COROSYNC_TESTCLUSTER_CRYPTO` as in
    /// the other backends (`auto` asks the image's `corosync -v`); a
    /// [`KeySource::Keygen`] key needs the host's `corosync-keygen`.
    ///
    /// ```no_run
    /// use corosync_testcluster::Cluster;
    /// let cluster = Cluster::builder(3)
    ///     .container_image("localhost/corosync-testcluster:bookworm")
    ///     .start()
    ///     .expect("start 3 corosync containers");
    /// assert_eq!(cluster.node(2).container(), Some(format!("{}n2", cluster.name()).as_str()));
    /// let out = cluster.node(2).run("corosync-quorumtool", ["-s"]).unwrap();
    /// assert!(out.contains("Quorate:          Yes"));
    /// ```
    pub fn container_image(mut self, image: &str) -> Self {
        let mounts = self.container.take().map(|c| c.mounts).unwrap_or_default();
        self.container = Some(ContainerSpec {
            image: image.to_string(),
            mounts,
        });
        self
    }

    /// Runs each node in a network namespace (the default backend), even when
    /// `COROSYNC_TESTCLUSTER_IMAGE` is set.
    pub fn in_namespaces(mut self) -> Self {
        self.container = None;
        self
    }

    /// Mounts the host path `path` read-only at the same path into every container of the
    /// container backend (ignored by the namespace backend, whose nodes see the host's files),
    /// e.g. the cargo target directory, so that programs built on the host run inside with
    /// [`Node::command`]. The environment variable `COROSYNC_TESTCLUSTER_MOUNTS` (paths
    /// separated by `:`) adds mounts to every container cluster.
    ///
    /// ```no_run
    /// use corosync_testcluster::Cluster;
    /// let exe = std::env::current_exe().unwrap();
    /// let cluster = Cluster::builder(1)
    ///     .container_image("localhost/corosync-testcluster:bookworm")
    ///     .mount_read_only(exe.parent().unwrap())
    ///     .start()
    ///     .unwrap();
    /// // The test binary itself can now run inside node 1's container.
    /// assert!(cluster.node(1).command(&exe).arg("--list").status().unwrap().success());
    /// ```
    pub fn mount_read_only(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        if let Some(spec) = &mut self.container {
            spec.mounts.push(path);
        }
        self
    }

    /// Nodes that are configured (in every nodelist, with namespace and address) but whose
    /// daemon is not started by [`start`](ClusterBuilder::start); start them later with
    /// [`Cluster::start_node`]. Quorum counts them as expected votes, so usually combine this
    /// with `wait_for_quorum(false)` unless the started nodes are a majority.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3).stopped(&[3]).start().unwrap();
    /// cluster.start_node(3).unwrap();
    /// ```
    pub fn stopped(mut self, ids: &[u32]) -> Self {
        self.stopped.extend_from_slice(ids);
        self
    }

    /// Creates the namespaces, the bridge, the directories and the configuration, starts the
    /// daemons and waits until every started node sees all started nodes as members (and, by
    /// default, is quorate). On failure everything created so far is removed again and the
    /// error includes the daemons' logs.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::builder(3).start().expect("3 nodes");
    /// assert_eq!(cluster.node(3).members().unwrap(), vec![1, 2, 3]);
    /// ```
    pub fn start(mut self) -> Result<Cluster> {
        check_node_count(self.nodes)?;
        if crate::existing::enabled() {
            return self.start_existing();
        }
        let meminfo = std::fs::read_to_string("/proc/meminfo")
            .map_err(|e| HarnessError::new(format!("cannot read /proc/meminfo: {e}")))?;
        check_memory(self.nodes, &meminfo)?;
        check_prefix(&self.prefix)?;
        if self.nodes > 1 {
            check_subnet(self.subnet.0, self.subnet.1, self.nodes)?;
        }
        if let Some(bad) = self.stopped.iter().find(|&&id| id == 0 || id > self.nodes) {
            return Err(HarnessError::new(format!(
                "stopped({bad}): node ids are 1..={}",
                self.nodes
            )));
        }
        let provider = self.has_quorum_provider();
        if !provider && self.wait_for_quorum == Some(true) {
            return Err(HarnessError::new(
                "wait_for_quorum(true) on a cluster without a quorum provider: corosync calls \
                 every partition quorate there, so there is no quorum to wait for",
            ));
        }
        let wait_for_quorum = provider && self.wait_for_quorum.unwrap_or(true);
        let n = self.nodes;
        let mut cluster = match &self.container {
            Some(spec) => {
                let podman = container::podman()?;
                let info = container::check_image(podman, &spec.image)?;
                let crypto = match self.crypto.take() {
                    Some(crypto) => crypto,
                    None => default_crypto(|| Ok(info.clone()))?,
                };
                container::cleanup_stale_once(&self.prefix);
                Cluster::create(Backend::Container(podman, info), n, &self, crypto)?
            }
            None => {
                let tool_dir = self.tool_dir.clone().or_else(env::tool_dir_from_env);
                let tools = Arc::new(env::locate_tools(tool_dir)?);
                let crypto = match self.crypto.take() {
                    Some(crypto) => crypto,
                    None => default_crypto(|| env::daemon_info(&tools.corosync))?,
                };
                netns::cleanup_stale_once(&tools, &self.prefix);
                Cluster::create(Backend::Netns(tools), n, &self, crypto)?
            }
        };
        let started: Vec<u32> = (1..=n).filter(|id| !self.stopped.contains(id)).collect();
        let result = cluster
            .write_key()
            .and_then(|()| cluster.setup(&self))
            .and_then(|()| {
                for &id in &started {
                    cluster.node(id).spawn_daemon()?;
                }
                cluster.wait_ready(&started, wait_for_quorum, self.timeout)
            })
            .map_err(|e| {
                e.context(format!("starting {n}-node cluster {}", cluster.name))
                    .append(cluster.logs())
            });
        // On error, dropping `cluster` removes whatever was created.
        result.map(|()| cluster)
    }
}

impl ClusterBuilder {
    /// The corosync.conf that [`start`](ClusterBuilder::start) would write for this builder
    /// (identical on every node): for a container or a daemon started by hand, e.g. the one
    /// of existing-daemon mode. With crypto on, `keyfile:` is `/etc/corosync/authkey` (make
    /// the key with `corosync-keygen`).
    ///
    /// ```
    /// let text = corosync_testcluster::Cluster::builder(1)
    ///     .crypto(corosync_testcluster::Crypto::off())
    ///     .render_config()
    ///     .unwrap();
    /// assert!(text.contains("ring0_addr: 127.0.0.1"));
    /// assert!(text.contains("crypto_cipher: none"));
    /// ```
    pub fn render_config(&self) -> Result<String> {
        check_node_count(self.nodes)?;
        if self.nodes > 1 {
            check_subnet(self.subnet.0, self.subnet.1, self.nodes)?;
        }
        let crypto = match &self.crypto {
            Some(crypto) => crypto.clone(),
            None => match CryptoMode::from_env()? {
                CryptoMode::On => Crypto::aes256_sha256(),
                CryptoMode::Off => Crypto::off(),
                CryptoMode::Auto => {
                    let tool_dir = self.tool_dir.clone().or_else(env::tool_dir_from_env);
                    let corosync = env::find_program_in(tool_dir.as_deref(), "corosync".as_ref());
                    match corosync.map(|c| env::daemon_info(&c)) {
                        Some(Ok(info)) if info.enforces_encryption => Crypto::aes256_sha256(),
                        _ => Crypto::off(),
                    }
                }
            },
        };
        let nodes: Vec<(u32, String, IpAddr)> = (1..=self.nodes)
            .map(|id| {
                let addr = if self.nodes == 1 {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    segment_addr(self.subnet.0, id)
                };
                (id, format!("node{id}"), addr)
            })
            .collect();
        Ok(render_with_crypto(
            &self.spec,
            &crypto,
            Path::new("/etc/corosync/authkey"),
            &nodes,
        ))
    }

    /// Existing-daemon mode: a one-node cluster whose node is the daemon already running in
    /// this network namespace.
    fn start_existing(self) -> Result<Cluster> {
        let env_name = crate::EXISTING_ENV;
        if self.nodes != 1 {
            return Err(HarnessError::new(format!(
                "{env_name}=1 selects existing-daemon mode, which has one node (the daemon \
                 running in this network namespace), but this test needs {} nodes. Run the \
                 one-node tests only in this mode; run the others without {env_name} (as root, \
                 or as an unprivileged user in rootless mode)",
                self.nodes
            )));
        }
        let default = Cluster::builder(1);
        let sample = [(1, "node1".to_string(), IpAddr::V4(Ipv4Addr::LOCALHOST))];
        if self.spec.render(&sample) != default.spec.render(&sample)
            || !self.stopped.is_empty()
            || self.crypto.is_some()
            || self.container.is_some()
        {
            return Err(HarnessError::new(format!(
                "{env_name}=1 selects existing-daemon mode, where the daemon's configuration \
                 is what it is, but this test asks for a configuration of its own (options, \
                 crypto or stopped nodes). Run it without {env_name}"
            )));
        }
        let tool_dir = self.tool_dir.clone().or_else(env::tool_dir_from_env);
        let tools = Arc::new(env::locate_client_tools(tool_dir)?);
        let name = netns::new_cluster_name(&self.prefix);
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| HarnessError::new(format!("cannot create {}: {e}", dir.display())))?;
        let node = Node::existing(dir.join("n1"), Arc::clone(&tools));
        let mut cluster = Cluster {
            name,
            cluster_name: String::new(),
            dir,
            bridge_netns: None,
            nodes: vec![node],
            namespaces: Vec::new(),
            tools: Some(tools),
            podman: None,
            network: None,
            image_daemon: None,
            timeout: self.timeout,
            quorum_provider: true,
            crypto: Crypto::off(),
            subnet: self.subnet,
        };
        let wait = self.timeout.min(Duration::from_secs(10));
        let wait_for_quorum = self.wait_for_quorum.unwrap_or(true);
        cluster
            .wait_ready(&[1], wait_for_quorum, wait)
            .map_err(|e| {
                HarnessError::new(format!(
                    "{env_name}=1 selects existing-daemon mode, but no corosync daemon in this \
                     network namespace answered as node 1 of a one-node cluster within {wait:?}. \
                     Start one first (e.g. `corosync -f` in the container, with a one-node \
                     configuration such as `corosync-testcluster config` prints), or unset \
                     {env_name} to let the harness start its own daemons"
                ))
                .append(e.message())
            })?;
        cluster.cluster_name = cluster
            .node(1)
            .cmap_get("totem.cluster_name")
            .unwrap_or_default();
        Ok(cluster)
    }
}

/// A running test cluster: N real corosync daemons, one per network namespace.
///
/// Start one with [`Cluster::start`] or [`Cluster::builder`]; everything it created (daemons,
/// namespaces, the directory) is removed when it is dropped, also when a test panics.
/// All methods take `&self`, so a cluster can be shared between threads (it is `Sync`).
/// Node ids are 1..=N; methods taking a node id panic if it is out of range.
///
/// See the [crate documentation](crate) for the layout and an example.
#[derive(Debug)]
pub struct Cluster {
    name: String,
    cluster_name: String,
    dir: PathBuf,
    bridge_netns: Option<String>,
    nodes: Vec<Node>,
    /// Namespaces created so far (removed on drop).
    namespaces: Vec<String>,
    /// The host's tools (namespace backend only).
    tools: Option<Arc<Tools>>,
    /// The container backend: podman, the cluster's network once created (removed on drop
    /// with the containers) and what `corosync -v` says in the image.
    podman: Option<&'static Podman>,
    network: Option<String>,
    image_daemon: Option<env::DaemonInfo>,
    timeout: Duration,
    quorum_provider: bool,
    crypto: Crypto,
    subnet: (Ipv4Addr, u8),
}

impl Cluster {
    /// A builder for an `n`-node cluster (1 to [`MAX_NODES`], 32) with the default
    /// configuration; customise it and call
    /// [`start`](ClusterBuilder::start), which fails at once, saying why, if the machine lacks
    /// [`NODE_MEMORY`] of available memory per node.
    ///
    /// ```no_run
    /// use corosync_testcluster::Cluster;
    /// let cluster = Cluster::builder(2)
    ///     .quorum_option("two_node", 1)
    ///     .totem_option("token", 2000)
    ///     .start()
    ///     .expect("start a two_node cluster");
    /// assert!(cluster.node(1).is_quorate().unwrap());
    /// ```
    pub fn builder(n: u32) -> ClusterBuilder {
        ClusterBuilder {
            nodes: n,
            spec: ConfigSpec::new("harness"),
            wait_for_quorum: None,
            timeout: DEFAULT_TIMEOUT,
            stopped: Vec::new(),
            crypto: None,
            prefix: netns::PREFIX.to_string(),
            subnet: DEFAULT_SUBNET,
            tool_dir: None,
            container: ContainerSpec::from_env(),
        }
    }

    /// Starts an `n`-node cluster with the default configuration and waits until every node
    /// sees all `n` members and is quorate: `Cluster::builder(n).start()`.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(2).unwrap();
    /// assert!(cluster.node(2).is_quorate().unwrap());
    /// ```
    pub fn start(n: u32) -> Result<Cluster> {
        Cluster::builder(n).start()
    }

    /// Allocates the name and directory (and, for the container backend, the network, whose
    /// subnet gives the addresses); nothing else yet.
    fn create(
        backend: Backend,
        n: u32,
        builder: &ClusterBuilder,
        crypto: Crypto,
    ) -> Result<Cluster> {
        let name = netns::new_cluster_name(&builder.prefix);
        let dir = std::env::temp_dir().join(&name);
        if dir.exists() {
            // Left over by an earlier process that had our pid.
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| HarnessError::new(format!("cannot create {}: {e}", dir.display())))?;
        let quorum_provider = builder.has_quorum_provider();
        let (tools, podman, image_daemon) = match backend {
            Backend::Netns(tools) => (Some(tools), None, None),
            Backend::Container(podman, info) => (None, Some(podman), Some(info)),
        };
        let container_addrs = match podman {
            Some(podman) => match container::create_network(podman, &name, n) {
                Ok(addrs) => Some(addrs),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            },
            None => None,
        };
        let nodes = (1..=n)
            .map(|id| {
                let netns = format!("{name}n{id}");
                let (addr, container) = match (&container_addrs, podman) {
                    (Some(addrs), Some(podman)) => (
                        addrs[id as usize - 1],
                        Some(ContainerNode::new(podman, netns.clone(), name.clone())),
                    ),
                    _ if n == 1 => (IpAddr::V4(Ipv4Addr::LOCALHOST), None),
                    _ => (segment_addr(builder.subnet.0, id), None),
                };
                Node::new(
                    id,
                    addr,
                    netns,
                    dir.join(format!("n{id}")),
                    tools.clone(),
                    container,
                    quorum_provider,
                )
            })
            .collect();
        let cluster_name = builder
            .spec
            .totem
            .get("cluster_name")
            .unwrap_or_default()
            .to_string();
        Ok(Cluster {
            network: podman.map(|_| name.clone()),
            name,
            cluster_name,
            dir,
            bridge_netns: None,
            nodes,
            namespaces: Vec::new(),
            tools,
            podman,
            image_daemon,
            timeout: builder.timeout,
            quorum_provider,
            crypto,
            subnet: builder.subnet,
        })
    }

    /// Writes the key of an encrypted cluster into its directory.
    fn write_key(&self) -> Result<()> {
        match self.crypto.key_source() {
            Some(source) => {
                let keygen = self
                    .tools
                    .as_ref()
                    .and_then(|t| t.tool_dir.as_deref())
                    .map(|d| d.join("corosync-keygen"))
                    .filter(|p| p.exists())
                    .or_else(|| env::find_program(std::ffi::OsStr::new("corosync-keygen")));
                config::write_key(source, &self.key_path(), keygen.as_deref())
            }
            None => Ok(()),
        }
    }

    /// Creates the namespaces and links (or the containers), and writes the configuration
    /// files.
    fn setup(&mut self, builder: &ClusterBuilder) -> Result<()> {
        let Some(t) = self.tools.clone() else {
            return self.setup_containers(builder);
        };
        let t = &*t;
        for i in 0..self.nodes.len() {
            let ns = self.nodes[i].netns().to_string();
            netns::add(t, &ns)?;
            self.namespaces.push(ns.clone());
            netns::ip_in(t, &ns, &["link", "set", "lo", "up"])?;
        }
        if self.nodes.len() > 1 {
            let br = format!("{}b", self.name);
            netns::add(t, &br)?;
            self.namespaces.push(br.clone());
            self.bridge_netns = Some(br.clone());
            netns::ip_in(t, &br, &["link", "add", BRIDGE, "type", "bridge"])?;
            netns::ip_in(t, &br, &["link", "set", BRIDGE, "up"])?;
            for node in &self.nodes {
                let port = format!("vb{}", node.id());
                netns::ip_in(
                    t,
                    &br,
                    &[
                        "link",
                        "add",
                        &port,
                        "type",
                        "veth",
                        "peer",
                        "name",
                        NODE_IF,
                        "netns",
                        node.netns(),
                    ],
                )?;
                netns::ip_in(t, &br, &["link", "set", &port, "master", BRIDGE, "up"])?;
                let cidr = format!("{}/{}", node.addr(), self.subnet.1);
                netns::ip_in(t, node.netns(), &["addr", "add", &cidr, "dev", NODE_IF])?;
                netns::ip_in(t, node.netns(), &["link", "set", NODE_IF, "up"])?;
            }
        }
        self.write_configs(builder)
    }

    /// The container backend's setup: configuration files (and a copy of the key in each
    /// node's directory when crypto is on), then one `podman create` per node.
    fn setup_containers(&mut self, builder: &ClusterBuilder) -> Result<()> {
        let Some(spec) = builder.container.as_ref() else {
            unreachable!("setup_containers is only called for the container backend");
        };
        self.write_configs(builder)?;
        if self.crypto.is_on() {
            // Each container sees only its node's directory (on /etc/corosync), so each gets
            // a copy of the cluster's key there.
            for node in &self.nodes {
                let path = node.dir().join("authkey");
                std::fs::copy(self.key_path(), &path).map_err(|e| {
                    HarnessError::new(format!("cannot copy the key to {}: {e}", path.display()))
                })?;
            }
        }
        for node in &self.nodes {
            node.create_container(spec)?;
        }
        Ok(())
    }

    /// Writes every node's corosync.conf (creating the node directories).
    fn write_configs(&self, builder: &ClusterBuilder) -> Result<()> {
        let list: Vec<(u32, String, IpAddr)> = self
            .nodes
            .iter()
            .map(|n| (n.id(), n.name().to_string(), n.addr()))
            .collect();
        let keyfile = match self.podman {
            Some(_) => PathBuf::from(container::CONFIG_DIR).join("authkey"),
            None => self.key_path(),
        };
        let text = render_with_crypto(&builder.spec, &self.crypto, &keyfile, &list);
        for node in &self.nodes {
            std::fs::create_dir_all(node.dir()).map_err(|e| {
                HarnessError::new(format!("cannot create {}: {e}", node.dir().display()))
            })?;
            node.write_config(&text)?;
        }
        Ok(())
    }

    /// Waits until each node of `ids` answers and sees exactly `ids` as members (and is
    /// quorate if `quorate`; never asked without a quorum provider).
    fn wait_ready(&self, ids: &[u32], quorate: bool, timeout: Duration) -> Result<()> {
        let description = format!(
            "nodes {ids:?} to see members {ids:?}{}",
            if quorate { " and be quorate" } else { "" }
        );
        // Nodes are asked at the same time (one thread each), and a node that was ready once
        // is not asked again: at start, membership only grows.
        let mut ready: Vec<u32> = Vec::new();
        poll(timeout, &description, || {
            let pending: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|id| !ready.contains(id))
                .collect();
            let answers: Vec<(u32, Result<Option<String>>)> = std::thread::scope(|scope| {
                let asks: Vec<_> = pending
                    .iter()
                    .map(|&id| scope.spawn(move || (id, self.readiness(id, ids, quorate))))
                    .collect();
                asks.into_iter()
                    .map(|ask| ask.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            });
            let mut waiting = Vec::new();
            for (id, answer) in answers {
                match answer {
                    Err(e) => return Step::Fail(e),
                    Ok(None) => ready.push(id),
                    Ok(Some(why)) => waiting.push(why),
                }
            }
            if waiting.is_empty() {
                Step::Done(())
            } else {
                Step::NotYet(waiting.join("; "))
            }
        })
    }

    /// Whether node `id` sees exactly `ids` (and is quorate if `quorate`): `Ok(None)` if so,
    /// `Ok(Some(what it sees))` if not yet, an error if its daemon is not running.
    fn readiness(&self, id: u32, ids: &[u32], quorate: bool) -> Result<Option<String>> {
        let node = self.node(id);
        node.ensure_running()?;
        if !self.quorum_provider {
            return Ok(match node.cmap_members() {
                Ok(members) if members == ids => None,
                Ok(members) => Some(format!("node {id}: members {members:?}")),
                Err(e) => Some(format!("node {id}: {e}")),
            });
        }
        Ok(match node.quorum_status() {
            Ok(s) if s.members == ids && (s.quorate || !quorate) => None,
            Ok(s) => Some(format!(
                "node {id}: members {:?}, quorate {}",
                s.members, s.quorate
            )),
            Err(e) => Some(format!("node {id}: {e}")),
        })
    }

    /// The harness's unique name of this cluster, `cst<pid>x<seq>`: prefix of its namespaces
    /// and name of its directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the cluster was started with a quorum provider (the default); `false` after
    /// [`without_quorum_provider`](ClusterBuilder::without_quorum_provider).
    pub fn has_quorum_provider(&self) -> bool {
        self.quorum_provider
    }

    /// The `totem.cluster_name` in the configuration (default `harness`).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(1).unwrap();
    /// assert_eq!(cluster.cluster_name(), "harness");
    /// ```
    pub fn cluster_name(&self) -> &str {
        &self.cluster_name
    }

    /// The encryption the cluster runs with (see [`ClusterBuilder::crypto`]).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(1).unwrap();
    /// println!("encrypted: {}", cluster.crypto().is_on());
    /// ```
    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// The path of the cluster's key file, `<dir>/authkey` (present when
    /// [`crypto`](Cluster::crypto) is on).
    ///
    /// ```no_run
    /// use corosync_testcluster::{Cluster, Crypto};
    /// let cluster = Cluster::builder(1).crypto(Crypto::aes256_sha256()).start().unwrap();
    /// assert!(cluster.key_path().exists());
    /// ```
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("authkey")
    }

    /// The version of the corosync daemon the cluster runs, as `corosync -v` prints it (e.g.
    /// `3.1.7`).
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(1).unwrap();
    /// assert!(cluster.daemon_version().starts_with('3'));
    /// ```
    pub fn daemon_version(&self) -> String {
        match (&self.image_daemon, &self.tools) {
            (Some(info), _) => info.version.clone(),
            (None, Some(tools)) => env::daemon_info(&tools.corosync)
                .map(|i| i.version)
                .unwrap_or_else(|_| "unknown".to_string()),
            (None, None) => "unknown".to_string(),
        }
    }

    /// The path of the `corosync` program the cluster runs (found through the tool directory,
    /// `PATH`, then the sbin directories). In the container backend it is `corosync`, looked up
    /// in the image's `PATH`.
    ///
    /// ```no_run
    /// let cluster = corosync_testcluster::Cluster::start(1).unwrap();
    /// println!("{}", cluster.corosync_path().display());
    /// ```
    pub fn corosync_path(&self) -> &Path {
        match &self.tools {
            Some(tools) => &tools.corosync,
            None => Path::new("corosync"),
        }
    }

    /// The cluster's directory, `<temp_dir>/cst<pid>x<seq>`, with one subdirectory `n<id>`
    /// per node.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The namespace holding the bridge `br0` that connects the nodes (`cst<pid>x<seq>b`);
    /// `None` for a one-node cluster, which uses the loopback interface.
    pub fn bridge_netns(&self) -> Option<&str> {
        self.bridge_netns.as_deref()
    }

    /// Names of all namespaces of this cluster (nodes and bridge).
    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }

    /// The number of nodes (N).
    pub fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// Always false (a cluster has at least one node); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All node ids, 1..=N.
    pub fn ids(&self) -> Vec<u32> {
        (1..=self.len()).collect()
    }

    /// The ids of the nodes whose daemon is running.
    pub fn running_ids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter(|n| n.is_running())
            .map(Node::id)
            .collect()
    }

    /// Node `id` (1..=N).
    ///
    /// # Panics
    /// If there is no such node.
    pub fn node(&self, id: u32) -> &Node {
        match id.checked_sub(1).and_then(|i| self.nodes.get(i as usize)) {
            Some(node) => node,
            None => panic!(
                "cluster {} has nodes 1..={}, there is no node {id}",
                self.name,
                self.nodes.len()
            ),
        }
    }

    /// All nodes, in id order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The last 40 lines of every node's log, each under a header: what the harness adds to
    /// its error messages.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.log_section(LOG_TAIL_LINES))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn with_logs<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| {
            e.context(format!("cluster {}", self.name))
                .append(self.logs())
        })
    }

    /// Kills node `id`'s daemon with SIGKILL and waits until the process is gone and reaped
    /// (the other nodes notice after token + consensus timeouts; use
    /// [`wait_members`](Cluster::wait_members)). Fails if it is not running.
    pub fn kill(&self, id: u32) -> Result<()> {
        self.with_logs(self.node(id).signal_daemon(libc::SIGKILL, Duration::ZERO))
    }

    /// Stops node `id`'s daemon cleanly with SIGTERM (it leaves the membership at once), waits
    /// for it to exit (SIGKILL after 10 s) and reaps it. Fails if it is not running.
    pub fn stop(&self, id: u32) -> Result<()> {
        self.with_logs(
            self.node(id)
                .signal_daemon(libc::SIGTERM, Duration::from_secs(10)),
        )
    }

    /// Starts node `id`'s daemon (one that was [`stopped`](ClusterBuilder::stopped) at start,
    /// killed, stopped or that exited) with the same configuration file and directories, and
    /// waits until it answers `corosync-quorumtool` (not until it has joined: use
    /// [`wait_members`](Cluster::wait_members)). Fails if it is running already.
    ///
    /// In a cluster [`without_quorum_provider`](ClusterBuilder::without_quorum_provider) it
    /// waits instead until the node's cmap lists the node itself as a joined member
    /// ([`Node::cmap_members`]): its daemon answers and has formed its first membership.
    pub fn start_node(&self, id: u32) -> Result<()> {
        let node = self.node(id);
        let result = node.spawn_daemon().and_then(|()| {
            poll(
                self.timeout,
                &format!("corosync on node {id} to answer"),
                || {
                    if let Err(e) = node.ensure_running() {
                        return Step::Fail(e);
                    }
                    if !self.quorum_provider {
                        return match node.cmap_members() {
                            Ok(members) if members.contains(&id) => Step::Done(()),
                            Ok(members) => Step::NotYet(format!("members {members:?}")),
                            Err(e) => Step::NotYet(e.to_string()),
                        };
                    }
                    match node.quorum_status() {
                        Ok(_) => Step::Done(()),
                        Err(e) => Step::NotYet(e.to_string()),
                    }
                },
            )
        });
        self.with_logs(result)
    }

    /// Restarts node `id`: kills its daemon if it is running (SIGKILL), then
    /// [`start_node`](Cluster::start_node). Typical after [`kill`](Cluster::kill).
    pub fn restart(&self, id: u32) -> Result<()> {
        if self.node(id).is_running() {
            self.kill(id)?;
        }
        self.start_node(id)
    }

    /// The ids of running, non-isolated nodes: the part of the cluster that can talk.
    fn connected_ids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter(|n| n.is_running() && !n.is_isolated())
            .map(Node::id)
            .collect()
    }

    fn bridge_port(&self, id: u32, up: bool) -> Result<()> {
        if self.podman.is_some() {
            if self.nodes.len() < 2 {
                return Err(HarnessError::new(
                    "a one-node cluster has no network to cut (isolate/heal need 2 or more nodes)",
                ));
            }
            return self.node(id).set_container_link(up);
        }
        let (Some(br), Some(tools)) = (self.bridge_netns.as_deref(), self.tools.as_deref()) else {
            return Err(HarnessError::new(
                "a one-node cluster has no network to cut (isolate/heal need 2 or more nodes)",
            ));
        };
        let port = format!("vb{}", self.node(id).id());
        netns::ip_in(
            tools,
            br,
            &["link", "set", &port, if up { "up" } else { "down" }],
        )
        .map(|_| ())
    }

    /// Cuts node `id` off from the others without killing it: sets the bridge-side end of its
    /// veth pair down, so the node keeps its interface and address but no packet passes. Then
    /// waits until the other running nodes see themselves without it and node `id` (if
    /// running) sees only itself.
    ///
    /// In the container backend the container is disconnected from the cluster's network
    /// (`podman network disconnect`): its interface and address go away until
    /// [`heal`](Cluster::heal).
    pub fn isolate(&self, id: u32) -> Result<()> {
        let node = self.node(id);
        let result = self.bridge_port(id, false).and_then(|()| {
            node.set_isolated(true);
            let others = self.connected_ids();
            let mut views: Vec<(u32, Vec<u32>)> =
                others.iter().map(|&o| (o, others.clone())).collect();
            if node.is_running() {
                views.push((id, vec![id]));
            }
            self.wait_views(&views, &format!("node {id} to be isolated"))
        });
        self.with_logs(result)
    }

    /// Undoes [`isolate`](Cluster::isolate): sets the bridge-side end of node `id`'s veth up
    /// again (container backend: `podman network connect` with the node's address) and waits until every running, non-isolated node (including `id`) sees exactly
    /// those nodes as members.
    pub fn heal(&self, id: u32) -> Result<()> {
        let node = self.node(id);
        let result = self.bridge_port(id, true).and_then(|()| {
            node.set_isolated(false);
            let connected = self.connected_ids();
            let views: Vec<(u32, Vec<u32>)> =
                connected.iter().map(|&o| (o, connected.clone())).collect();
            self.wait_views(&views, &format!("node {id} to rejoin after heal"))
        });
        self.with_logs(result)
    }

    /// Waits until each `(node, members)` pair holds.
    fn wait_views(&self, views: &[(u32, Vec<u32>)], description: &str) -> Result<()> {
        let description = format!(
            "{description} ({})",
            views
                .iter()
                .map(|(id, m)| format!("node {id} sees {m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        poll(self.timeout, &description, || {
            let mut waiting = Vec::new();
            for (id, expected) in views {
                let node = self.node(*id);
                if let Err(e) = node.ensure_running() {
                    return Step::Fail(e);
                }
                match node.members() {
                    Ok(members) if &members == expected => {}
                    Ok(members) => waiting.push(format!("node {id} sees {members:?}")),
                    Err(e) => waiting.push(format!("node {id}: {e}")),
                }
            }
            if waiting.is_empty() {
                Step::Done(())
            } else {
                Step::NotYet(waiting.join("; "))
            }
        })
    }

    /// Polls `condition` every 50 ms until it returns true; fails after `timeout` with an
    /// error naming `description` and including the daemons' logs.
    pub fn wait_until(
        &self,
        timeout: Duration,
        description: &str,
        condition: impl FnMut() -> bool,
    ) -> Result<()> {
        self.with_logs(wait_until(timeout, description, condition))
    }

    /// Waits until node `id` sees exactly `members` (in any order) as the current membership,
    /// per `corosync-quorumtool` (per cmap in a cluster without a quorum provider: see
    /// [`Node::members`]). Fails at once if node `id`'s daemon is not running.
    pub fn wait_members(&self, id: u32, members: &[u32], timeout: Duration) -> Result<()> {
        let mut expected = members.to_vec();
        expected.sort_unstable();
        expected.dedup();
        let node = self.node(id);
        let result = poll(
            timeout,
            &format!("node {id} to see members {expected:?}"),
            || {
                if let Err(e) = node.ensure_running() {
                    return Step::Fail(e);
                }
                match node.members() {
                    Ok(m) if m == expected => Step::Done(()),
                    Ok(m) => Step::NotYet(format!("members {m:?}")),
                    Err(e) => Step::NotYet(e.to_string()),
                }
            },
        );
        self.with_logs(result)
    }

    /// Waits until every node in `members` sees exactly `members` as the membership: the
    /// cluster (or that part of it) has converged.
    pub fn wait_converged(&self, members: &[u32], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for &id in members {
            let left = deadline.saturating_duration_since(Instant::now());
            self.wait_members(id, members, left)?;
        }
        Ok(())
    }

    /// Waits until node `id` is quorate (`quorate == true`) or not quorate (`false`), per
    /// `corosync-quorumtool`. Fails at once if node `id`'s daemon is not running, and in a
    /// cluster [`without_quorum_provider`](ClusterBuilder::without_quorum_provider), where
    /// quorate has no meaning.
    pub fn wait_quorate(&self, id: u32, quorate: bool, timeout: Duration) -> Result<()> {
        let node = self.node(id);
        if !self.quorum_provider {
            return Err(node
                .no_quorum_provider("wait_quorate")
                .context(format!("cluster {}", self.name)));
        }
        let result = poll(
            timeout,
            &format!(
                "node {id} to be {}",
                if quorate { "quorate" } else { "not quorate" }
            ),
            || {
                if let Err(e) = node.ensure_running() {
                    return Step::Fail(e);
                }
                match node.is_quorate() {
                    Ok(q) if q == quorate => Step::Done(()),
                    Ok(q) => Step::NotYet(format!("quorate {q}")),
                    Err(e) => Step::NotYet(e.to_string()),
                }
            },
        );
        self.with_logs(result)
    }

    /// Rewrites node `id`'s corosync.conf: `edit` gets the current text and returns the new
    /// one. The running daemon picks it up on `corosync-cfgtool -R` (reload) or a restart.
    pub fn edit_config(&self, id: u32, edit: impl FnOnce(&str) -> String) -> Result<()> {
        self.node(id).edit_config(edit)
    }

    /// Rewrites every node's corosync.conf: `edit` gets the node id and its current text and
    /// returns the new text. A cluster-wide reload (`corosync-cfgtool -R`) makes every node
    /// read its own file, so change them all before reloading.
    pub fn edit_config_all(&self, mut edit: impl FnMut(u32, &str) -> String) -> Result<()> {
        for node in &self.nodes {
            node.edit_config(|text| edit(node.id(), text))?;
        }
        Ok(())
    }
}

/// The text of corosync.conf with the crypto settings filled in.
fn render_with_crypto(
    spec: &ConfigSpec,
    crypto: &Crypto,
    key_path: &Path,
    nodes: &[(u32, String, IpAddr)],
) -> String {
    let mut spec = spec.clone();
    match (crypto.cipher(), crypto.hash()) {
        (Some(cipher), Some(hash)) => {
            spec.totem.set("crypto_cipher", cipher);
            spec.totem.set("crypto_hash", hash);
            spec.totem.set("keyfile", &key_path.to_string_lossy());
        }
        _ => {
            spec.totem.set("crypto_cipher", "none");
            spec.totem.set("crypto_hash", "none");
        }
    }
    spec.render(nodes)
}

/// Fails for a node count of 0 or above [`MAX_NODES`].
fn check_node_count(n: u32) -> Result<()> {
    if n == 0 {
        return Err(HarnessError::new(
            "a cluster needs at least 1 node; 0 nodes were asked for",
        ));
    }
    if n > MAX_NODES {
        return Err(HarnessError::new(format!(
            "{n} nodes were asked for, but the harness is tested with up to {MAX_NODES} nodes per \
             cluster (each node is a corosync daemon of about 100 MB; 32 nodes need about 3.5 GB)"
        )));
    }
    Ok(())
}

/// Fails unless `prefix` is 1 to 12 ASCII letters, digits or `-`, not ending with a digit (the
/// pid follows it).
fn check_prefix(prefix: &str) -> Result<()> {
    let ok = (1..=12).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !prefix.ends_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "prefix {prefix:?}: a prefix is 1 to 12 ASCII letters, digits or '-', and does not \
             end with a digit"
        )))
    }
}

/// The crypto of a cluster whose builder did not choose: per [`config::CRYPTO_ENV`].
fn default_crypto(daemon: impl FnOnce() -> Result<env::DaemonInfo>) -> Result<Crypto> {
    Ok(match CryptoMode::from_env()? {
        CryptoMode::On => Crypto::aes256_sha256(),
        CryptoMode::Off => Crypto::off(),
        CryptoMode::Auto => {
            if daemon()?.enforces_encryption {
                Crypto::aes256_sha256().key(KeySource::Random)
            } else {
                Crypto::off()
            }
        }
    })
}

impl Drop for Cluster {
    /// Kills every daemon (SIGKILL, by pid, reaped), deletes every namespace of the cluster
    /// (their interfaces go with them) and removes the cluster's directory. When the thread
    /// is panicking (a failed test), the tails of the daemons' logs are printed to stderr
    /// first, so the test output shows them.
    fn drop(&mut self) {
        if std::thread::panicking() && !self.nodes.is_empty() {
            eprintln!(
                "corosync-testcluster: cluster {} dropped during a panic; daemon logs:\n{}",
                self.name,
                self.logs()
            );
        }
        if let (Some(podman), Some(network)) = (self.podman, self.network.as_deref()) {
            let pids: Vec<u32> = self.nodes.iter().filter_map(Node::pid).collect();
            let names: Vec<String> = self
                .nodes
                .iter()
                .filter_map(|n| n.container().map(str::to_string))
                .collect();
            let removed = container::remove_containers(podman, &names)
                .and_then(|()| container::remove_network(podman, network));
            if let Err(e) = removed {
                eprintln!(
                    "corosync-testcluster: warning: cleaning up cluster {}: {e}",
                    self.name
                );
            }
            // The daemons died with SIGKILL: remove their blackbox and connection files.
            for pid in pids {
                env::remove_daemon_shm(pid);
            }
        }
        for node in &self.nodes {
            node.kill_quietly();
        }
        for ns in self.namespaces.iter().rev() {
            let Some(tools) = self.tools.as_deref() else {
                break;
            };
            if let Err(e) = netns::delete(tools, ns) {
                eprintln!(
                    "corosync-testcluster: warning: cleaning up cluster {}: {e}",
                    self.name
                );
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!(
                    "corosync-testcluster: warning: cannot remove {}: {e}",
                    self.dir.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod unit {
    use super::{
        check_memory, check_node_count, check_prefix, check_subnet, segment_addr, NODE_MEMORY,
    };
    use std::net::Ipv4Addr;

    #[test]
    fn node_counts() {
        assert!(check_node_count(0)
            .unwrap_err()
            .message()
            .contains("at least 1 node"));
        assert!(check_node_count(1).is_ok());
        assert!(check_node_count(32).is_ok());
        let e = check_node_count(33).unwrap_err();
        assert!(e.message().contains("up to 32 nodes"), "{e}");
    }

    fn meminfo(available_kib: u64) -> String {
        format!("MemTotal: 24000000 kB\nMemFree: 1 kB\nMemAvailable: {available_kib} kB\n")
    }

    #[test]
    fn memory_check_counts_nodes_against_mem_available() {
        let per_node_kib = NODE_MEMORY / 1024;
        assert!(check_memory(32, &meminfo(32 * per_node_kib)).is_ok());
        let err = check_memory(32, &meminfo(32 * per_node_kib - 1)).expect_err("too little");
        assert!(
            err.message()
                .contains("32-node cluster needs about 4096 MiB"),
            "{err}"
        );
        assert!(err.message().contains("MemAvailable"), "{err}");
        let err = check_memory(1, "MemTotal: 5 kB\n").expect_err("no MemAvailable");
        assert!(err.message().contains("MemAvailable"), "{err}");
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix("cst").is_ok());
        assert!(check_prefix("my-app").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("abc1").is_err());
        assert!(check_prefix("a/b").is_err());
        assert!(check_prefix("abcdefghijklm").is_err());
    }

    #[test]
    fn subnets() {
        let net = Ipv4Addr::new(10, 213, 0, 0);
        assert!(check_subnet(net, 24, 32).is_ok());
        assert!(check_subnet(net, 30, 2).is_ok());
        assert!(check_subnet(net, 30, 3)
            .unwrap_err()
            .message()
            .contains("room for 2"));
        assert!(check_subnet(Ipv4Addr::new(10, 213, 0, 1), 24, 2).is_err());
        assert!(check_subnet(net, 31, 1).is_err());
        assert_eq!(
            segment_addr(Ipv4Addr::new(192, 168, 1, 0), 5).to_string(),
            "192.168.1.5"
        );
    }
}
