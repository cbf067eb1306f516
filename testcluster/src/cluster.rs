//! [`Cluster`] and [`ClusterBuilder`]: start, observe, disturb and clean up real clusters.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::ConfigSpec;
use crate::env::{self, Tools};
use crate::error::{HarnessError, Result};
use crate::netns;
use crate::node::{Node, LOG_TAIL_LINES};

/// Default time limit of the harness's own waits (start, restart, isolate, heal).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest number of nodes a cluster may have.
pub const MAX_NODES: u32 = 16;

/// Interval between two polls of a condition.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Name of the bridge in the bridge namespace, and of each node's interface.
const BRIDGE: &str = "br0";
const NODE_IF: &str = "eth0";

/// The address of node `id` on a multi-node cluster's private segment (10.213.0.0/24, which
/// exists only inside the cluster's namespaces).
fn segment_addr(id: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 213, 0, id as u8))
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

/// Polls `step` every 100 ms until it is done, fails, or `timeout` has passed.
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

/// Polls `condition` every 100 ms until it returns true; fails after `timeout` with an error
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
}

impl ClusterBuilder {
    /// Sets (or replaces) `key: value` in the `totem` section, e.g. `("token", "3000")`.
    /// The defaults are `version: 2`, `cluster_name: harness`, `transport: knet`,
    /// `crypto_cipher: none`, `crypto_hash: none` and `token: 1000`.
    pub fn totem_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.totem.set(key, &value.to_string());
        self
    }

    /// Sets (or replaces) `key: value` in the `quorum` section, e.g. `("two_node", 1)` or
    /// `("wait_for_all", 1)`. The default section has only `provider: corosync_votequorum`
    /// (see [`without_quorum_provider`](ClusterBuilder::without_quorum_provider)).
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
    pub fn logging_option(mut self, key: &str, value: impl ToString) -> Self {
        self.spec.logging.set(key, &value.to_string());
        self
    }

    /// Sets `totem.cluster_name` (default `harness`).
    pub fn cluster_name(self, name: &str) -> Self {
        self.totem_option("cluster_name", name)
    }

    /// Appends raw text to every node's corosync.conf (e.g. a whole extra section).
    pub fn extra_config(mut self, text: &str) -> Self {
        self.spec.extra.push_str(text);
        if !self.spec.extra.ends_with('\n') {
            self.spec.extra.push('\n');
        }
        self
    }

    /// Whether [`start`](ClusterBuilder::start) waits for the cluster to be quorate (default
    /// `true`). It always waits until every started node answers and sees all started nodes
    /// as members; with `false` it does not require quorum on top (e.g. for `wait_for_all`
    /// tests, or when some nodes are left [`stopped`](ClusterBuilder::stopped)).
    ///
    /// A cluster [`without_quorum_provider`](ClusterBuilder::without_quorum_provider) never
    /// waits for quorum; `wait_for_quorum(true)` makes its `start` fail.
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
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Nodes that are configured (in every nodelist, with namespace and address) but whose
    /// daemon is not started by [`start`](ClusterBuilder::start); start them later with
    /// [`Cluster::start_node`]. Quorum counts them as expected votes, so usually combine this
    /// with `wait_for_quorum(false)` unless the started nodes are a majority.
    pub fn stopped(mut self, ids: &[u32]) -> Self {
        self.stopped.extend_from_slice(ids);
        self
    }

    /// Creates the namespaces, the bridge, the directories and the configuration, starts the
    /// daemons and waits until every started node sees all started nodes as members (and, by
    /// default, is quorate). On failure everything created so far is removed again and the
    /// error includes the daemons' logs.
    pub fn start(self) -> Result<Cluster> {
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(HarnessError::new(format!(
                "a cluster needs 1 to {MAX_NODES} nodes, not {}",
                self.nodes
            )));
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
        let tools = env::tools()?;
        netns::cleanup_stale_once(tools);
        let n = self.nodes;
        let mut cluster = Cluster::create(tools, n, &self)?;
        let started: Vec<u32> = (1..=n).filter(|id| !self.stopped.contains(id)).collect();
        let result = cluster
            .setup(&self)
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
    tools: &'static Tools,
    timeout: Duration,
    quorum_provider: bool,
}

impl Cluster {
    /// A builder for an `n`-node cluster (1 to 16 nodes; the harness is tested with 1 to 5)
    /// with the default configuration; customise it and call
    /// [`start`](ClusterBuilder::start).
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
        }
    }

    /// Starts an `n`-node cluster with the default configuration and waits until every node
    /// sees all `n` members and is quorate: `Cluster::builder(n).start()`.
    pub fn start(n: u32) -> Result<Cluster> {
        Cluster::builder(n).start()
    }

    /// Allocates the name and directory; nothing else yet.
    fn create(tools: &'static Tools, n: u32, builder: &ClusterBuilder) -> Result<Cluster> {
        let name = netns::new_cluster_name();
        let dir = std::env::temp_dir().join(&name);
        if dir.exists() {
            // Left over by an earlier process that had our pid.
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| HarnessError::new(format!("cannot create {}: {e}", dir.display())))?;
        let quorum_provider = builder.has_quorum_provider();
        let nodes = (1..=n)
            .map(|id| {
                let addr = if n == 1 {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    segment_addr(id)
                };
                Node::new(
                    id,
                    addr,
                    format!("{name}n{id}"),
                    dir.join(format!("n{id}")),
                    tools,
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
            name,
            cluster_name,
            dir,
            bridge_netns: None,
            nodes,
            namespaces: Vec::new(),
            tools,
            timeout: builder.timeout,
            quorum_provider,
        })
    }

    /// Creates the namespaces and links, and writes the configuration files.
    fn setup(&mut self, builder: &ClusterBuilder) -> Result<()> {
        let t = self.tools;
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
                let cidr = format!("{}/24", node.addr());
                netns::ip_in(t, node.netns(), &["addr", "add", &cidr, "dev", NODE_IF])?;
                netns::ip_in(t, node.netns(), &["link", "set", NODE_IF, "up"])?;
            }
        }
        let list: Vec<(u32, String, IpAddr)> = self
            .nodes
            .iter()
            .map(|n| (n.id(), n.name().to_string(), n.addr()))
            .collect();
        let text = builder.spec.render(&list);
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
        poll(timeout, &description, || {
            let mut waiting = Vec::new();
            for &id in ids {
                let node = self.node(id);
                if let Err(e) = node.ensure_running() {
                    return Step::Fail(e);
                }
                if !self.quorum_provider {
                    match node.cmap_members() {
                        Ok(members) if members == ids => {}
                        Ok(members) => waiting.push(format!("node {id}: members {members:?}")),
                        Err(e) => waiting.push(format!("node {id}: {e}")),
                    }
                    continue;
                }
                match node.quorum_status() {
                    Ok(s) if s.members == ids && (s.quorate || !quorate) => {}
                    Ok(s) => waiting.push(format!(
                        "node {id}: members {:?}, quorate {}",
                        s.members, s.quorate
                    )),
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
    pub fn cluster_name(&self) -> &str {
        &self.cluster_name
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
        let Some(br) = self.bridge_netns.as_deref() else {
            return Err(HarnessError::new(
                "a one-node cluster has no network to cut (isolate/heal need 2 or more nodes)",
            ));
        };
        let port = format!("vb{}", self.node(id).id());
        netns::ip_in(
            self.tools,
            br,
            &["link", "set", &port, if up { "up" } else { "down" }],
        )
        .map(|_| ())
    }

    /// Cuts node `id` off from the others without killing it: sets the bridge-side end of its
    /// veth pair down, so the node keeps its interface and address but no packet passes. Then
    /// waits until the other running nodes see themselves without it and node `id` (if
    /// running) sees only itself.
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
    /// again and waits until every running, non-isolated node (including `id`) sees exactly
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

    /// Polls `condition` every 100 ms until it returns true; fails after `timeout` with an
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
        for node in &self.nodes {
            node.kill_quietly();
        }
        for ns in self.namespaces.iter().rev() {
            if let Err(e) = netns::delete(self.tools, ns) {
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
