//! Tests of the cluster harness itself, against real corosync daemons.
//!
//! Run as root: `cargo test -p corosync-tests --test harness`.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use corosync_testcluster::{Cluster, Node};

const WAIT: Duration = Duration::from_secs(30);

/// The inode of the network namespace the calling thread is in.
fn current_thread_netns_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .expect("stat /proc/thread-self/ns/net")
        .ino()
}

/// Names listed by `ip netns list`.
fn netns_list() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("run ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// A process with this pid exists and is a corosync daemon.
fn is_corosync(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == "corosync")
        .unwrap_or(false)
}

fn this_node_id(node: &Node) -> String {
    let out = node
        .command("corosync-cmapctl")
        .args(["-g", "runtime.votequorum.this_node_id"])
        .output()
        .expect("run corosync-cmapctl");
    assert!(
        out.status.success(),
        "corosync-cmapctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn one_node_cluster_is_quorate_and_reachable_from_its_namespace() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    assert_eq!(node.id(), 1);
    assert_eq!(node.addr().to_string(), "127.0.0.1");
    assert!(node.is_running());
    assert!(
        is_corosync(node.pid().unwrap()),
        "the spawned pid is the daemon"
    );
    assert!(node.config_path().is_file());
    assert!(node.log().contains("Corosync Cluster Engine"));
    assert!(cluster.bridge_netns().is_none());

    let status = node.quorum_status().expect("quorum status");
    assert!(status.quorate);
    assert_eq!(status.members, vec![1]);
    assert_eq!(status.node_id, 1);
    assert!(node.has_quorum_provider() && cluster.has_quorum_provider());
    // cmap's view of the membership agrees with corosync-quorumtool's.
    assert_eq!(node.cmap_members().unwrap(), vec![1]);

    // A client run in the node's namespace sees this node.
    assert_eq!(
        this_node_id(node),
        "runtime.votequorum.this_node_id (u32) = 1"
    );
    assert_eq!(
        node.cmap_get("runtime.votequorum.this_node_id").unwrap(),
        "1"
    );
    assert_eq!(node.cmap_get("totem.cluster_name").unwrap(), "harness");

    // in_namespace: runs on a thread inside the namespace, returns the value...
    let ns_inode = std::fs::metadata(node.netns_path()).unwrap().ino();
    let host_inode = current_thread_netns_inode();
    assert_ne!(ns_inode, host_inode);
    let (inode, id) = node
        .in_namespace(|| {
            // A client started from this thread inherits its namespace and reaches node 1.
            let out = Command::new("/usr/sbin/corosync-cmapctl")
                .args(["-g", "runtime.votequorum.this_node_id"])
                .output()
                .expect("run corosync-cmapctl");
            (
                current_thread_netns_inode(),
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            )
        })
        .expect("enter the namespace");
    assert_eq!(inode, ns_inode);
    assert_eq!(id, "runtime.votequorum.this_node_id (u32) = 1");
    assert_eq!(current_thread_netns_inode(), host_inode, "caller unchanged");

    // ... may borrow from the caller ...
    let borrowed = String::from("borrowed");
    let len = node.in_namespace(|| borrowed.len()).unwrap();
    assert_eq!(len, 8);

    // ... and propagates panics.
    let caught = std::panic::catch_unwind(|| {
        let _ = node.in_namespace(|| -> u32 { panic!("boom in namespace") });
    });
    let payload = caught.expect_err("the panic must propagate");
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert_eq!(message, "boom in namespace");

    // isolate needs a network.
    assert!(cluster.isolate(1).is_err());
}

#[test]
fn three_nodes_lose_and_regain_quorum() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    for id in 1..=3 {
        let status = cluster.node(id).quorum_status().unwrap();
        assert!(status.quorate, "node {id}: {status:?}");
        assert_eq!(status.members, vec![1, 2, 3]);
        assert_eq!(status.node_id, id);
        assert_eq!(
            cluster.node(id).addr().to_string(),
            format!("10.213.0.{id}")
        );
    }

    let pid3 = cluster.node(3).pid().unwrap();
    cluster.kill(3).expect("kill node 3");
    assert!(!cluster.node(3).is_running());
    assert_eq!(cluster.node(3).pid(), None);
    assert!(!is_corosync(pid3), "killed daemon is gone");
    assert!(cluster.kill(3).is_err(), "killing a dead node fails");
    cluster.wait_members(1, &[1, 2], WAIT).unwrap();
    cluster.wait_members(2, &[1, 2], WAIT).unwrap();
    assert!(cluster.node(1).is_quorate().unwrap());
    assert!(cluster.node(2).is_quorate().unwrap());

    cluster.kill(2).expect("kill node 2");
    cluster.wait_members(1, &[1], WAIT).unwrap();
    cluster.wait_quorate(1, false, WAIT).unwrap();
    assert_eq!(cluster.running_ids(), vec![1]);

    // Waiting on a node that does not run fails at once with a clear message.
    let err = cluster
        .wait_quorate(2, true, WAIT)
        .expect_err("node 2 is down");
    assert!(err.message().contains("not running"), "{err}");

    cluster.restart(2).expect("restart node 2");
    cluster.restart(3).expect("restart node 3");
    assert!(cluster.node(3).log().contains("start #2"));
    cluster.wait_converged(&[1, 2, 3], WAIT).unwrap();
    for id in 1..=3 {
        cluster.wait_quorate(id, true, WAIT).unwrap();
    }
}

#[test]
fn isolate_and_heal() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    cluster.isolate(3).expect("isolate node 3");
    assert!(cluster.node(3).is_isolated());
    assert!(cluster.node(3).is_running(), "isolated, not killed");
    for id in [1, 2] {
        assert_eq!(cluster.node(id).members().unwrap(), vec![1, 2]);
        assert!(cluster.node(id).is_quorate().unwrap());
    }
    assert_eq!(cluster.node(3).members().unwrap(), vec![3]);
    cluster.wait_quorate(3, false, WAIT).unwrap();
    // The isolated node keeps its address.
    let addrs = cluster.node(3).run("ip", ["-br", "addr"]).unwrap();
    assert!(addrs.contains("10.213.0.3"), "{addrs}");

    cluster.heal(3).expect("heal node 3");
    assert!(!cluster.node(3).is_isolated());
    for id in 1..=3 {
        assert_eq!(cluster.node(id).members().unwrap(), vec![1, 2, 3]);
        cluster.wait_quorate(id, true, WAIT).unwrap();
    }
}

struct Traces {
    pids: Vec<u32>,
    namespaces: Vec<String>,
    dir: PathBuf,
    name: String,
}

fn traces(cluster: &Cluster) -> Traces {
    Traces {
        pids: cluster.nodes().iter().filter_map(|n| n.pid()).collect(),
        namespaces: cluster.namespaces().to_vec(),
        dir: cluster.dir().to_path_buf(),
        name: cluster.name().to_string(),
    }
}

fn assert_gone(t: &Traces) {
    assert!(!t.pids.is_empty());
    for &pid in &t.pids {
        assert!(!is_corosync(pid), "daemon {pid} still runs");
        let shm = std::fs::read_dir("/dev/shm")
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.starts_with(&format!("qb-corosync-{pid}-"))
                    || n.starts_with(&format!("qb-{pid}-"))
            })
            .count();
        assert_eq!(shm, 0, "shared memory of daemon {pid} left in /dev/shm");
    }
    let list = netns_list();
    for ns in &t.namespaces {
        assert!(!list.contains(ns), "namespace {ns} left: {list:?}");
        assert!(!PathBuf::from("/run/netns").join(ns).exists());
    }
    assert!(!t.dir.exists(), "{} left", t.dir.display());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(
        !mounts.contains(&t.name),
        "mounts of {} left:\n{mounts}",
        t.name
    );
}

#[test]
fn drop_removes_everything() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");
    let t = traces(&cluster);
    assert_eq!(t.pids.len(), 2);
    assert_eq!(t.namespaces.len(), 3);
    assert!(t.dir.is_dir());
    let list = netns_list();
    for ns in &t.namespaces {
        assert!(list.contains(ns));
    }
    assert!(std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .contains(&t.name));
    // A client connected while the cluster is dropped (its libqb connection lives in
    // /dev/shm, which a SIGKILLed daemon does not clean up).
    let mut client = cluster
        .node(1)
        .command("corosync-quorumtool")
        .arg("-m")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("qb-{}-{}-", t.pids[0], client.id());
    corosync_testcluster::wait_until(WAIT, "the client to connect", || {
        std::fs::read_dir("/dev/shm")
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
    })
    .unwrap();
    drop(cluster);
    assert_gone(&t);
    let status = client.wait().unwrap();
    assert!(!status.success(), "the client lost its daemon: {status}");

    // Also when the thread that owns the cluster panics.
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let cluster = Cluster::start(2).expect("start a 2-node cluster");
        tx.send(traces(&cluster)).unwrap();
        panic!("test failure while the cluster runs");
    })
    .join();
    assert!(result.is_err());
    let t = rx.recv().unwrap();
    assert_gone(&t);
}

#[test]
fn concurrent_clusters_do_not_interfere() {
    let spawn = || {
        std::thread::spawn(|| {
            let cluster = Cluster::start(2).expect("start a 2-node cluster");
            for id in 1..=2 {
                assert_eq!(cluster.node(id).members().unwrap(), vec![1, 2]);
            }
            cluster
        })
    };
    let (a, b) = (spawn(), spawn());
    let a = a.join().expect("cluster a");
    let b = b.join().expect("cluster b");
    assert_ne!(a.name(), b.name());
    assert_ne!(a.node(1).netns(), b.node(1).netns());
    // Same addresses, separate segments: killing a's node 2 leaves b untouched.
    assert_eq!(a.node(2).addr(), b.node(2).addr());
    a.kill(2).unwrap();
    a.wait_members(1, &[1], WAIT).unwrap();
    assert_eq!(b.node(1).members().unwrap(), vec![1, 2]);
    assert_eq!(b.node(2).members().unwrap(), vec![1, 2]);
    assert_eq!(this_node_id(a.node(1)), this_node_id(b.node(1)));
    assert_ne!(a.node(1).pid(), b.node(1).pid());
}

#[test]
fn builder_options_and_stopped_nodes() {
    let cluster = Cluster::builder(3)
        .quorum_option("wait_for_all", 0)
        .totem_option("token", 1500)
        .cluster_name("custom")
        .stopped(&[3])
        .start()
        .expect("start 2 of 3 nodes");
    let config = cluster.node(1).config().unwrap();
    assert!(config.contains("    wait_for_all: 0\n"), "{config}");
    assert!(config.contains("    token: 1500\n"), "{config}");
    assert!(!config.contains("token: 1000"), "{config}");
    assert_eq!(cluster.cluster_name(), "custom");
    assert_eq!(cluster.node(2).cmap_get("totem.token").unwrap(), "1500");
    // The link timeout is corosync's default: half the token timeout the daemon computed
    // (token plus 650 ms for the third node).
    let runtime_token = cluster
        .node(2)
        .cmap_get("runtime.config.totem.token")
        .unwrap();
    assert_eq!(runtime_token, "2150");
    assert_eq!(
        cluster
            .node(2)
            .cmap_get("runtime.config.totem.interface.0.knet_ping_timeout")
            .unwrap(),
        "1075"
    );
    assert!(!cluster.node(3).is_running());
    assert_eq!(cluster.running_ids(), vec![1, 2]);
    assert!(cluster.node(1).is_quorate().unwrap());

    cluster.start_node(3).expect("start node 3");
    assert!(cluster.start_node(3).is_err(), "already running");
    cluster.wait_converged(&[1, 2, 3], WAIT).unwrap();

    // edit_config rewrites the file (the daemon reads it on reload or restart).
    cluster
        .edit_config(2, |text| text.replace("token: 1500", "token: 1700"))
        .unwrap();
    assert!(cluster.node(2).config().unwrap().contains("token: 1700"));
    cluster
        .edit_config_all(|id, text| format!("{text}# edited for node {id}\n"))
        .unwrap();
    assert!(cluster
        .node(3)
        .config()
        .unwrap()
        .ends_with("# edited for node 3\n"));

    // The generic wait helper reports its description and the logs on timeout.
    let err = cluster
        .wait_until(Duration::from_millis(300), "something impossible", || false)
        .expect_err("cannot happen");
    assert!(err.message().contains("something impossible"), "{err}");
    assert!(err.message().contains("--- node 3 "), "{err}");
}

#[test]
fn two_node_option_keeps_quorum_after_a_kill() {
    let cluster = Cluster::builder(2)
        .quorum_option("two_node", 1)
        .start()
        .expect("start a two_node cluster");
    let status = cluster.node(1).quorum_status().unwrap();
    assert!(status.flags.iter().any(|f| f == "2Node"), "{status:?}");
    cluster.kill(2).unwrap();
    cluster.wait_members(1, &[1], WAIT).unwrap();
    assert!(cluster.node(1).is_quorate().unwrap());
}

#[test]
fn cluster_without_quorum_provider() {
    let cluster = Cluster::builder(2)
        .without_quorum_provider()
        .start()
        .expect("start a 2-node cluster without quorum provider");
    assert!(!cluster.has_quorum_provider());
    let config = cluster.node(1).config().unwrap();
    assert!(config.contains("\nquorum {\n}\n"), "{config}");
    assert!(!config.contains("provider"), "{config}");

    for id in 1..=2 {
        let node = cluster.node(id);
        assert!(!node.has_quorum_provider());
        assert_eq!(node.members().unwrap(), vec![1, 2], "node {id}");
        assert_eq!(node.cmap_members().unwrap(), vec![1, 2], "node {id}");
        assert_eq!(node.cmap_get("runtime.members.1.status").unwrap(), "joined");
        // corosync really runs without a provider: no votequorum in the daemon...
        assert!(node.cmap_get("quorum.provider").is_err());
        assert!(node.cmap_get("runtime.votequorum.this_node_id").is_err());
        // ... and this is why the harness does not ask corosync-quorumtool here.
        let out = node
            .command("corosync-quorumtool")
            .arg("-s")
            .output()
            .unwrap();
        assert!(!matches!(out.status.code(), Some(0) | Some(2)), "{out:?}");
        // Questions about quorum are refused with a clear error.
        for err in [
            node.quorum_status()
                .map(|_| ())
                .expect_err("no quorum provider"),
            node.is_quorate()
                .map(|_| ())
                .expect_err("no quorum provider"),
        ] {
            assert!(err.message().contains("without a quorum provider"), "{err}");
            assert!(err.message().contains("no meaning"), "{err}");
        }
    }
    let err = cluster
        .wait_quorate(1, true, WAIT)
        .expect_err("quorate has no meaning");
    assert!(err.message().contains("no meaning"), "{err}");

    // Kill and restart a node: membership is followed through cmap.
    cluster.kill(2).expect("kill node 2");
    cluster.wait_members(1, &[1], WAIT).unwrap();
    assert_eq!(
        cluster
            .node(1)
            .cmap_get("runtime.members.2.status")
            .unwrap(),
        "left"
    );
    assert!(cluster.node(1).is_running(), "node 1 runs on alone");
    cluster.restart(2).expect("restart node 2");
    assert!(cluster.node(2).log().contains("start #2"));
    cluster.wait_converged(&[1, 2], WAIT).unwrap();
    assert_eq!(
        cluster
            .node(1)
            .cmap_get("runtime.members.2.join_count")
            .unwrap(),
        "2"
    );

    // Isolation is observed the same way.
    cluster.isolate(2).expect("isolate node 2");
    assert_eq!(cluster.node(2).members().unwrap(), vec![2]);
    cluster.heal(2).expect("heal node 2");
    assert_eq!(cluster.node(1).members().unwrap(), vec![1, 2]);

    // There is no quorum to wait for at start either.
    let err = Cluster::builder(1)
        .without_quorum_provider()
        .wait_for_quorum(true)
        .start()
        .expect_err("wait_for_quorum(true) without provider");
    assert!(err.message().contains("without a quorum provider"), "{err}");
}

#[test]
fn invalid_requests_fail_without_starting_anything() {
    let err = Cluster::start(0).expect_err("0 nodes");
    assert!(err.message().contains("at least 1 node"), "{err}");
    let err = Cluster::start(corosync_testcluster::MAX_NODES + 1).expect_err("33 nodes");
    assert!(err.message().contains("up to 32 nodes"), "{err}");
    let err = Cluster::builder(3)
        .subnet(std::net::Ipv4Addr::new(10, 9, 0, 0), 31)
        .start()
        .expect_err("a /31 has no room");
    assert!(err.message().contains("prefix length"), "{err}");
    let err = Cluster::builder(1)
        .prefix("bad/prefix")
        .start()
        .expect_err("bad prefix");
    assert!(err.message().contains("prefix"), "{err}");
    let err = Cluster::builder(2)
        .stopped(&[3])
        .start()
        .expect_err("no node 3");
    assert!(err.message().contains("node ids"), "{err}");
}

#[test]
fn failed_start_reports_logs_and_cleans_up() {
    // An invalid option makes corosync refuse to start: the error must carry its log.
    let err = Cluster::builder(1)
        .totem_option("transport", "nonsense")
        .timeout(Duration::from_secs(10))
        .start()
        .expect_err("corosync must refuse this configuration");
    let message = err.message().to_string();
    assert!(message.contains("exited unexpectedly"), "{message}");
    assert!(message.contains("--- node 1"), "{message}");
    // The namespace of that cluster is gone again.
    let name = message
        .split_whitespace()
        .find(|w| w.starts_with("cst"))
        .expect("the error names the cluster")
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    assert!(
        !netns_list().contains(&format!("{name}n1")),
        "{name}n1 left"
    );
    assert!(!std::env::temp_dir().join(&name).exists());
}

#[test]
fn stale_leftovers_are_removed() {
    // A pid that is certainly dead: a child that has exited and been reaped.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let ns = format!("cst{dead}x1n1");
    let dir = std::env::temp_dir().join(format!("cst{dead}x1"));
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .unwrap();
    assert!(status.success());
    // A process left running inside the stale namespace (like an orphaned daemon).
    let mut orphan = Command::new("ip")
        .args(["netns", "exec", &ns, "sleep", "600"])
        .spawn()
        .unwrap();
    corosync_testcluster::wait_until(WAIT, "the orphan to enter its namespace", || {
        std::fs::read_link(format!("/proc/{}/exe", orphan.id()))
            .map(|p| p.ends_with("sleep"))
            .unwrap_or(false)
    })
    .unwrap();

    // One clean-up for both kinds of leftovers (two concurrent clean-ups would race).
    stale_daemons_are_found_by_their_command_line(|| {
        corosync_testcluster::cleanup_stale().expect("clean up");
    });
    assert!(!netns_list().contains(&ns));
    assert!(!dir.exists());
    let status = orphan.wait().unwrap();
    assert!(!status.success(), "the orphan was killed: {status}");
}

/// The path of a program as the harness finds it (PATH, then the sbin directories).
fn which(program: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"])
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("{program} is not installed: apt-get install -y corosync"))
}

#[test]
fn crypto_timeouts_quorum_options_and_uidgid_reach_the_daemons() {
    use corosync_testcluster::{Crypto, KeySource};
    let cluster = Cluster::builder(2)
        .crypto(Crypto::aes256_sha256().key(KeySource::Keygen))
        .token(Duration::from_millis(1200))
        .consensus(Duration::from_millis(1500))
        .two_node(true)
        .auto_tie_breaker(false)
        .wait_for_all(true)
        .last_man_standing(true)
        .uidgid(4321, 4322)
        .start()
        .expect("start an encrypted 2-node cluster");
    assert_eq!(cluster.crypto().cipher(), Some("aes256"));
    let key = std::fs::metadata(cluster.key_path()).expect("the key file exists");
    assert!(key.len() >= 128, "key of {} bytes", key.len());
    for node in cluster.nodes() {
        assert_eq!(node.cmap_get("totem.crypto_cipher").unwrap(), "aes256");
        assert_eq!(node.cmap_get("totem.crypto_hash").unwrap(), "sha256");
        assert_eq!(node.cmap_get("totem.token").unwrap(), "1200");
        assert_eq!(node.cmap_get("totem.consensus").unwrap(), "1500");
        assert_eq!(node.cmap_get("uidgid.config.uid.4321").unwrap(), "1");
        assert_eq!(node.cmap_get("uidgid.config.gid.4322").unwrap(), "1");
        let status = node.quorum_status().unwrap();
        for flag in ["2Node", "WaitForAll", "LastManStanding"] {
            assert!(
                status.flags.iter().any(|f| f == flag),
                "{flag} in {status:?}"
            );
        }
        assert!(
            !status.flags.iter().any(|f| f == "AutoTieBreaker"),
            "{status:?}"
        );
    }
    // With two_node, the survivor of a kill stays quorate.
    cluster.kill(2).unwrap();
    cluster.wait_members(1, &[1], WAIT).unwrap();
    assert!(cluster.node(1).is_quorate().unwrap());
}

#[test]
fn harness_made_key_auto_tie_breaker_and_crypto_off() {
    use corosync_testcluster::Crypto;
    let encrypted = Cluster::builder(2)
        .crypto(Crypto::new("aes128", "sha1"))
        .auto_tie_breaker(true)
        .start()
        .expect("start a 2-node cluster with a harness-made key");
    assert_eq!(
        encrypted.node(2).cmap_get("totem.crypto_cipher").unwrap(),
        "aes128"
    );
    let status = encrypted.node(1).quorum_status().unwrap();
    assert!(
        status.flags.iter().any(|f| f == "AutoTieBreaker"),
        "{status:?}"
    );
    // Isolating node 2 splits 1:1; the tie breaker keeps the lowest id (node 1) quorate.
    encrypted.isolate(2).unwrap();
    encrypted.wait_quorate(1, true, WAIT).unwrap();
    encrypted.wait_quorate(2, false, WAIT).unwrap();

    // Crypto off: a daemon that enforces encryption (upstream main after 3.1.10) refuses to
    // start, and the harness says so with the daemon's own words; the others run unencrypted.
    match Cluster::builder(1).crypto(Crypto::off()).start() {
        Ok(plain) => {
            assert_eq!(
                plain.node(1).cmap_get("totem.crypto_cipher").unwrap(),
                "none"
            );
            assert!(!plain.key_path().exists());
        }
        Err(e) => assert!(
            e.message().contains("Invalid cipher type"),
            "crypto off failed for another reason: {e}"
        ),
    }
}

#[test]
fn prefix_subnet_and_tool_dir() {
    // A tool directory that holds links to the installed corosync programs: the harness
    // must run the daemon and its observers from there.
    let dir = std::env::temp_dir().join(format!("tooldir-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for program in [
        "corosync",
        "corosync-cmapctl",
        "corosync-quorumtool",
        "corosync-keygen",
    ] {
        let link = dir.join(program);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(which(program), &link).unwrap();
    }
    let cluster = Cluster::builder(3)
        .prefix("tcfg-")
        .subnet(std::net::Ipv4Addr::new(192, 168, 77, 16), 28)
        .tool_dir(&dir)
        .start()
        .expect("start with prefix, subnet and tool dir");
    let result = std::panic::catch_unwind(|| {
        assert!(cluster
            .name()
            .starts_with(&format!("tcfg-{}x", std::process::id())));
        assert!(cluster.dir().ends_with(cluster.name()));
        assert_eq!(cluster.node(3).addr().to_string(), "192.168.77.19");
        assert_eq!(
            cluster
                .node(1)
                .cmap_get("nodelist.node.1.ring0_addr")
                .unwrap(),
            "192.168.77.18"
        );
        let namespaces = netns_list();
        for node in cluster.nodes() {
            assert!(node.netns().starts_with("tcfg-"));
            assert!(namespaces.contains(&node.netns().to_string()));
        }
        assert_eq!(cluster.corosync_path(), dir.join("corosync"));
        let pid = cluster.node(1).pid().unwrap();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let argv0 = cmdline.split(|&b| b == 0).next().unwrap();
        assert_eq!(argv0, dir.join("corosync").as_os_str().as_encoded_bytes());
        assert!(
            cluster.daemon_version().starts_with('3'),
            "{}",
            cluster.daemon_version()
        );
    });
    drop(cluster);
    std::fs::remove_dir_all(&dir).unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `cleanup` between setting up a stand-in for a rootless leftover and checking that it
/// was removed (and that a live owner's look-alike survived).
fn stale_daemons_are_found_by_their_command_line(cleanup: impl FnOnce()) {
    // How rootless leftovers are found: their namespaces were in the dead process's private
    // /run/netns, so only the daemon's command line names the cluster. A stand-in "corosync"
    // (a shell under that name) whose configuration lies in the directory of a dead owner:
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let bin = std::env::temp_dir().join(format!("stale-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("corosync");
    let _ = std::fs::remove_file(&fake);
    std::os::unix::fs::symlink("/bin/sh", &fake).unwrap();
    let conf = std::env::temp_dir().join(format!("cst{dead}x1/n1/corosync.conf"));
    let mut orphan = Command::new(&fake)
        .args(["-c", "while :; do sleep 0.1; done"])
        .arg(&conf)
        .spawn()
        .unwrap();
    // A live owner's daemon (ours) with the same shape must survive.
    let own_conf =
        std::env::temp_dir().join(format!("cst{}x999/n1/corosync.conf", std::process::id()));
    let mut own = Command::new(&fake)
        .args(["-c", "while :; do sleep 0.1; done"])
        .arg(&own_conf)
        .spawn()
        .unwrap();

    cleanup();
    let status = orphan.wait().unwrap();
    assert!(!status.success(), "the stale daemon was killed: {status}");
    assert_eq!(
        own.try_wait().unwrap(),
        None,
        "a live owner's daemon was killed"
    );
    own.kill().unwrap();
    own.wait().unwrap();
    std::fs::remove_dir_all(&bin).unwrap();
}
