//! A harness that runs real corosync clusters on one machine, for integration tests: as root,
//! rootless (in a user namespace it creates) or against an existing daemon (a container). The
//! `corosync-testcluster` command-line tool offers the same to programs in any language; see
//! the README.
//!
//! [`Cluster::start(n)`](Cluster::start) starts `n` real `corosync` daemons (1 to 5 nodes is
//! what the harness is tested with), each in a network namespace of its own, and waits until
//! every node sees all `n` members and is quorate. Tests then open client handles against any
//! node ([`Node::in_namespace`]), run corosync's tools or other programs against it
//! ([`Node::command`]), and disturb the cluster: [`Cluster::kill`], [`Cluster::restart`],
//! [`Cluster::isolate`], [`Cluster::heal`], [`Cluster::edit_config`]. Dropping the
//! [`Cluster`] (also while a test panics) kills the daemons and removes every namespace and
//! directory it created.
//!
//! The harness observes the cluster only with corosync's own command-line tools
//! (`corosync-quorumtool -s`, `corosync-cmapctl`) run inside a node's namespace, never with the
//! crate under test, so what it reports is an independent cross-check.
//!
//! # Clusters without a quorum provider
//!
//! [`ClusterBuilder::without_quorum_provider`] leaves the `provider:` line out of the quorum
//! section, so corosync's quorum service reports `QUORUM_FREE` (always quorate) and votequorum
//! is not loaded. corosync 3.1.7's `corosync-quorumtool -s` fails on such a daemon, so the
//! harness reads readiness and membership from cmap there (the ids whose
//! `runtime.members.<id>.status` is `joined`, [`Node::cmap_members`]), and everything that asks
//! about quorum ([`Node::quorum_status`], [`Node::is_quorate`], [`Cluster::wait_quorate`])
//! fails at once with an error saying that quorate has no meaning. Clusters with a provider
//! (the default) are observed with `corosync-quorumtool -s` as before.
//!
//! # Requirements
//!
//! The packages `corosync`, `iproute2` and `util-linux` (`apt-get install -y corosync
//! iproute2 util-linux`), and one of:
//!
//! * root, or CAP_SYS_ADMIN and CAP_NET_ADMIN;
//! * rootless: an unprivileged user with unprivileged user namespaces enabled. The crate
//!   enters a user namespace of its own before `main` (see [Rootless mode](#rootless-mode));
//!   with the `uidmap` package and subordinate ids in /etc/subuid and /etc/subgid, ids other
//!   than root are mapped inside too;
//! * a running daemon in the process's network namespace ([`EXISTING_ENV`]).
//!
//! Without them every start fails with an error that says what is missing; nothing is
//! skipped silently. See [`check_environment`].
//!
//! # Rootless mode
//!
//! A process that lacks CAP_SYS_ADMIN or CAP_NET_ADMIN, linked with this crate, enters a user
//! namespace (with a mount and a network namespace) of its own before `main`, where it is
//! root: clusters then work exactly as under root, including kill, restart, isolate and heal,
//! and [`is_rootless`] is true. It must happen before `main` because the kernel lets only a
//! single-threaded process create a user namespace, and [`Node::in_namespace`] needs the
//! test process itself inside it. Consequences: the process has no network outside the
//! machine, and `/run/netns` is a private tmpfs. [`ROOTLESS_ENV`]`=off` turns it off. If user
//! namespaces are disabled, starting a cluster fails with the reason and what to enable.
//!
//! # Layout
//!
//! A cluster is named `cst<pid>x<seq>` (pid of the test process, sequence number within it),
//! so clusters of parallel tests and of parallel processes never collide.
//!
//! * A cluster may be named with another prefix ([`ClusterBuilder::prefix`]).
//! * Node `k` lives in network namespace `cst<pid>x<seq>n<k>`. Its daemon runs as
//!   `ip netns exec NS unshare --mount --propagation private sh -c 'mount --bind DIR/run /run
//!   && mount --bind DIR/lib /var/lib/corosync && exec corosync -f -c DIR/corosync.conf'`, so
//!   it has private /run and /var/lib/corosync (but shares /dev/shm, which libqb's client
//!   connections need), and the spawned pid is the daemon's pid ([`Node::pid`]).
//! * A one-node cluster uses 127.0.0.1 on its namespace's loopback. With two or more nodes, a
//!   namespace `cst<pid>x<seq>b` holds a bridge `br0`; a veth pair `vb<k>` / `eth0` links it to
//!   each node, whose `eth0` has address `10.213.0.<k>/24` (or the k-th address of the
//!   [`ClusterBuilder::subnet`]). No interface of the host is
//!   touched and the addresses exist only inside these namespaces.
//! * The directory `<temp_dir>/cst<pid>x<seq>/n<k>/` holds node k's `corosync.conf`,
//!   `corosync.log` (the daemon's stdout and stderr, appended across restarts) and its private
//!   `run/` and `lib/`.
//! * The generated corosync.conf has totem version 2, knet transport, `token: 1000`
//!   (membership changes settle within a few seconds), crypto as [`CRYPTO_ENV`] says (by
//!   default off, or aes256/sha256 with a key in `<dir>/authkey` when the daemon refuses to
//!   run unencrypted, as upstream main does), logging to stderr only, quorum provider
//!   `corosync_votequorum` (or none, see below) and a nodelist with `name: node<k>`, `nodeid:
//!   <k>`, `ring0_addr`. [`ClusterBuilder`] adds or replaces options: timeouts, crypto,
//!   quorum options, `uidgid`, the name prefix, the subnet, the tool directory.
//!
//! # Which corosync
//!
//! The harness runs `corosync` and observes it with `corosync-quorumtool` and
//! `corosync-cmapctl`, found in the directory [`TOOL_DIR_ENV`]
//! (`COROSYNC_TESTCLUSTER_TOOL_DIR`) or [`ClusterBuilder::tool_dir`] names, else through
//! `PATH`, else in /usr/local/sbin, /usr/sbin and /sbin. So
//! `PATH=PREFIX/sbin:$PATH LD_LIBRARY_PATH=PREFIX/lib cargo test` tests against another
//! corosync build; [`Node::command`] resolves corosync's other tools the same way.
//!
//! Leftovers of a run that crashed (namespaces and directories whose `<pid>` is dead, and
//! daemons still running in them) are removed when a process starts its first cluster
//! ([`cleanup_stale`]).
//!
//! # Container backend
//!
//! [`ClusterBuilder::container_image`] (or the environment variable [`IMAGE_ENV`],
//! `COROSYNC_TESTCLUSTER_IMAGE`) runs each node in a podman container of a corosync image
//! instead, on an `--internal` podman network of the cluster's own, with the same API: client
//! handles through [`Node::in_namespace`], programs inside the container through
//! [`Node::command`] (`podman exec`), and kill, restart, isolate and heal with podman. It needs
//! root and podman; see [`ClusterBuilder::container_image`].
//!
//! # Client handles
//!
//! corosync's client libraries (libqb IPC) connect through abstract unix sockets, which belong
//! to a network namespace: a handle opened by a thread that is in node k's namespace talks to
//! node k's daemon. [`Node::in_namespace`] runs a closure on such a thread; handles opened there
//! keep working from any thread afterwards.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use corosync_testcluster::Cluster;
//!
//! let cluster = Cluster::start(3).expect("start a 3-node cluster");
//! // What corosync itself says node 2 is:
//! let id = cluster.node(2).cmap_get("runtime.votequorum.this_node_id").unwrap();
//! assert_eq!(id, "2");
//! // Open a client against node 1 (here: just prove which namespace the thread is in).
//! let seen = cluster.node(1).in_namespace(|| std::process::id()).unwrap();
//! assert_eq!(seen, std::process::id());
//!
//! cluster.kill(3).unwrap();
//! cluster.wait_members(1, &[1, 2], Duration::from_secs(20)).unwrap();
//! cluster.wait_quorate(1, true, Duration::from_secs(5)).unwrap();
//! cluster.restart(3).unwrap();
//! cluster.wait_converged(&[1, 2, 3], Duration::from_secs(20)).unwrap();
//!
//! cluster.isolate(2).unwrap(); // returns once 1 and 3 see [1, 3], and 2 sees [2]
//! cluster.heal(2).unwrap(); // returns once all see [1, 2, 3]
//! // dropping `cluster` kills the daemons and removes namespaces and directories
//! ```

mod cluster;
mod config;
mod container;
mod env;
mod error;
mod events;
mod existing;
mod netns;
mod node;
mod rootless;
mod status;

pub use cluster::{
    wait_until, Cluster, ClusterBuilder, DEFAULT_SUBNET, DEFAULT_TIMEOUT, MAX_NODES, NODE_MEMORY,
};
pub use config::{Crypto, KeySource, CRYPTO_ENV};
pub use container::{cleanup_stale_containers, IMAGE_ENV, MOUNTS_ENV, PODMAN_ENV};
pub use env::{check_environment, TOOL_DIR_ENV};
pub use error::{HarnessError, Result};
pub use events::{log_len, pump, wait_readable, EventLog};
pub use existing::EXISTING_ENV;
pub use netns::{cleanup_stale, PREFIX};
pub use node::Node;
pub use rootless::{is_rootless, ROOTLESS_ENV};
pub use status::QuorumStatus;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// A cluster is shared between test threads: keep it Send + Sync.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Cluster>();
    assert_send_sync::<Node>();
    assert_send_sync::<HarnessError>();
};
