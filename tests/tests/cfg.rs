//! Integration tests of `corosync::cfg` against real 3-node clusters.
//!
//! Two clusters, started in parallel by the two tests:
//! - `queries_reload_and_isolation`: every query of libcfg compared with what the harness
//!   configured and with `corosync-cfgtool`, argument checks, config reload observed through
//!   cmap, and a node cut off by the harness seen going down in the link status.
//! - `kill_node_and_shutdown_negotiation`: the destructive calls: kill a node, and shut the
//!   others down with each of the three shutdown flags, with trackers that veto or agree.

use std::os::fd::{AsFd, AsRawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use corosync::cfg::{Cfg, InterfaceStatus, ShutdownMode, ShutdownReply};
use corosync::{DispatchMode, Dispatched, Error, NodeId, TrackFlags};
use corosync_testcluster::{Cluster, Node};

const WAIT: Duration = Duration::from_secs(30);

fn open(node: &Node) -> Cfg {
    node.in_namespace(Cfg::new)
        .expect("enter the node's namespace")
        .expect("open a cfg handle")
}

/// `corosync-cfgtool -s` on `node`, parsed: per link id, its address and per node id
/// whether it is "localhost", "connected" or "disconnected".
#[derive(Debug, PartialEq)]
struct CfgtoolLink {
    id: u32,
    addr: String,
    nodes: Vec<(u32, String)>,
}

fn cfgtool_status(node: &Node) -> Vec<CfgtoolLink> {
    let out = node
        .run("corosync-cfgtool", ["-s"])
        .expect("corosync-cfgtool -s");
    let mut links: Vec<CfgtoolLink> = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("LINK ID ") {
            let id = rest.split_whitespace().next().unwrap().parse().unwrap();
            links.push(CfgtoolLink {
                id,
                addr: String::new(),
                nodes: Vec::new(),
            });
        } else if let Some(addr) = line.strip_prefix("\taddr\t= ") {
            links.last_mut().unwrap().addr = addr.to_string();
        } else if let Some(rest) = line.trim_start().strip_prefix("nodeid:") {
            let (id, state) = rest.split_once(":\t").expect("nodeid line");
            let id = id.trim().parse().unwrap();
            links
                .last_mut()
                .unwrap()
                .nodes
                .push((id, state.to_string()));
        }
    }
    assert!(!links.is_empty(), "no link in corosync-cfgtool -s:\n{out}");
    links
}

/// The same information from `Cfg::ring_status` (knet: name "<link> <addr>", status one
/// character per node in id order: 'n' local, else a digit whose bit 1 means connected).
fn ring_status_as_cfgtool(ring: &[InterfaceStatus], node_ids: &[u32]) -> Vec<CfgtoolLink> {
    ring.iter()
        .map(|interface| {
            let (id, addr) = interface.name.split_once(' ').expect("'<link> <addr>'");
            assert_eq!(interface.status.len(), node_ids.len(), "{interface:?}");
            let nodes = node_ids
                .iter()
                .zip(interface.status.chars())
                .map(|(&node, c)| {
                    let state = match c {
                        'n' => "localhost",
                        d if d.to_digit(10).expect("a digit") & 2 != 0 => "connected",
                        _ => "disconnected",
                    };
                    (node, state.to_string())
                })
                .collect();
            CfgtoolLink {
                id: id.parse().unwrap(),
                addr: addr.to_string(),
                nodes,
            }
        })
        .collect()
}

#[test]
fn queries_reload_and_isolation() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let ids = cluster.ids();
    let cfgs: Vec<Cfg> = ids.iter().map(|&k| open(cluster.node(k))).collect();
    let cfg1 = &cfgs[0];

    // local_node_id: the node each handle is connected to.
    for (cfg, &k) in cfgs.iter().zip(&ids) {
        assert_eq!(cfg.local_node_id(), Ok(NodeId::from(k)));
    }

    // node_addrs: what the harness configured, seen from every node; 0 is the local node.
    for cfg in &cfgs {
        for &k in &ids {
            assert_eq!(
                cfg.node_addrs(NodeId::from(k)),
                Ok(vec![cluster.node(k).addr()])
            );
        }
    }
    assert_eq!(
        cfgs[1].node_addrs(NodeId::from(0)),
        Ok(vec![cluster.node(2).addr()])
    );
    assert_eq!(cfg1.node_addrs(NodeId::from(99)), Err(Error::NotExist));

    // node_status: every node reachable, link 0 enabled and connected between the right
    // addresses, the other 7 links unused.
    for &k in &ids {
        let status = cfg1.node_status(NodeId::from(k)).expect("node_status");
        assert_eq!(status.node_id, NodeId::from(k));
        assert!(status.reachable, "{status:?}");
        assert!(!status.remote && !status.external, "{status:?}");
        assert_eq!(status.links.len(), 8);
        let enabled: Vec<_> = status.enabled_links().collect();
        assert_eq!(enabled.len(), 1, "{status:?}");
        let link = enabled[0];
        assert_eq!(link.link_id, 0);
        assert!(link.connected, "{status:?}");
        assert_eq!(link.src_addr, cluster.node(1).addr().to_string());
        assert_eq!(link.dst_addr, cluster.node(k).addr().to_string());
        assert!(link.mtu > 0);
    }
    assert_eq!(
        cfg1.node_status(NodeId::from(99)),
        Err(Error::FailedOperation)
    );

    // ring_status agrees with corosync-cfgtool -s, on every node.
    for (cfg, &k) in cfgs.iter().zip(&ids) {
        let ring = cfg.ring_status().expect("ring_status");
        assert_eq!(ring.len(), 1, "{ring:?}");
        assert_eq!(ring[0].name, format!("0 {}", cluster.node(k).addr()));
        assert_eq!(
            ring_status_as_cfgtool(&ring, &ids),
            cfgtool_status(cluster.node(k))
        );
    }

    // Dispatch with nothing pending, and the fd.
    assert!(cfg1.as_fd().as_raw_fd() >= 0);
    assert_eq!(cfg1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        cfg1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );

    // Requests that change nothing here.
    assert_eq!(cfg1.reopen_log_files(), Ok(()));
    assert_eq!(cfg1.track_start(TrackFlags::CHANGES), Ok(()));
    assert_eq!(cfg1.track_stop(), Ok(()));

    // kill_node's reason: NUL and length are refused before C; 255 bytes reach the daemon,
    // which refuses the unknown node.
    assert_eq!(
        cfg1.kill_node(NodeId::from(99), "bad\0reason"),
        Err(Error::InteriorNul {
            what: "kill reason",
            position: 3
        })
    );
    assert_eq!(
        cfg1.kill_node(NodeId::from(99), &"r".repeat(256)),
        Err(Error::TooLong {
            what: "kill reason",
            length: 256,
            max: 255
        })
    );
    assert_eq!(
        cfg1.kill_node(NodeId::from(99), &"r".repeat(255)),
        Err(Error::NotExist)
    );
    assert_eq!(
        corosync::cfg::MAX_KILL_REASON_LEN,
        255,
        "CS_MAX_NAME_LENGTH - 1"
    );

    // reload_config: change totem.token in every node's file, reload from node 2, and every
    // daemon's cmap shows the new value.
    for &k in &ids {
        assert_eq!(cluster.node(k).cmap_get("totem.token").unwrap(), "1000");
    }
    cluster
        .edit_config_all(|_, text| text.replace("token: 1000", "token: 1700"))
        .unwrap();
    assert_eq!(cfgs[1].reload_config(), Ok(()));
    for &k in &ids {
        cluster
            .wait_until(WAIT, &format!("node {k} to show totem.token 1700"), || {
                cluster.node(k).cmap_get("totem.token").ok().as_deref() == Some("1700")
            })
            .unwrap();
    }
    // A file that does not parse: the reload fails and nothing changes.
    let good = cluster.node(1).config().unwrap();
    cluster.node(1).write_config("totem {\n").unwrap();
    assert_eq!(cfg1.reload_config(), Err(Error::InvalidParam));
    cluster.node(1).write_config(&good).unwrap();
    assert_eq!(cluster.node(1).cmap_get("totem.token").unwrap(), "1700");

    // A callback there dispatches a second handle: two libcfg dispatch frames (1 MiB of
    // receive buffer each) are on the stack at once, more than a test thread's 2 MiB, so
    // this part runs on a thread with room for them (see the crate docs of `dispatch`).
    let node2 = cluster.node(2);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("nested-dispatch".into())
            .stack_size(8 * 1024 * 1024)
            .spawn_scoped(scope, || shutdown_callbacks_on_a_real_daemon(node2))
            .expect("spawn a thread with an 8 MiB stack")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });

    // A node cut off by the harness: its link goes down in node 1's view, and ring_status
    // and corosync-cfgtool agree on it.
    cluster.isolate(3).expect("isolate node 3");
    cluster
        .wait_until(WAIT, "node 1 to see node 3's link down", || {
            let status = cfg1.node_status(NodeId::from(3)).expect("node_status");
            !status.reachable && !status.links[0].connected && status.links[0].enabled
        })
        .unwrap();
    // Nodes 1 and 2 still see each other.
    for (cfg, other) in [(&cfgs[0], 2), (&cfgs[1], 1)] {
        let status = cfg.node_status(NodeId::from(other)).unwrap();
        assert!(status.reachable && status.links[0].connected, "{status:?}");
    }
    let expected = vec![
        (1, "localhost".to_string()),
        (2, "connected".to_string()),
        (3, "disconnected".to_string()),
    ];
    let ring = cfg1.ring_status().unwrap();
    assert_eq!(ring_status_as_cfgtool(&ring, &ids)[0].nodes, expected);
    assert_eq!(cfgtool_status(cluster.node(1))[0].nodes, expected);
    // The isolated node sees itself alone.
    cluster
        .wait_until(WAIT, "node 3 to see node 1's link down", || {
            !cfgs[2].node_status(NodeId::from(1)).unwrap().reachable
        })
        .unwrap();
}

/// Asks `node`'s daemon to shut down from another thread and returns the answer.
fn request_shutdown(node: &Node) -> std::thread::JoinHandle<corosync::Result<()>> {
    let requester = open(node);
    std::thread::spawn(move || requester.try_shutdown(ShutdownMode::Request))
}

/// Shutdown callbacks delivered by a real libcfg, with every blocking dispatch flag: the
/// answer reaches the daemon from inside the callback, a panic in the callback comes out of
/// `dispatch`, and a callback may dispatch another handle (whose callback finds its own
/// state). Every request is vetoed, so the daemon keeps running.
fn shutdown_callbacks_on_a_real_daemon(node: &Node) {
    let round = Arc::new(AtomicUsize::new(1));
    let calls_a = Arc::new(AtomicUsize::new(0));
    let calls_b = Arc::new(AtomicUsize::new(0));
    let b_slot: Arc<Mutex<Option<Cfg>>> = Arc::new(Mutex::new(None));
    let (round2, calls_a2, b_slot2) = (round.clone(), calls_a.clone(), b_slot.clone());
    let a = node
        .in_namespace(move || {
            Cfg::builder()
                .on_shutdown(move |cfg, flags| {
                    assert_eq!(flags, ShutdownMode::Request);
                    assert_eq!(cfg.local_node_id(), Ok(NodeId::from(2)), "a request inside");
                    calls_a2.fetch_add(1, Ordering::SeqCst);
                    cfg.reply_to_shutdown(ShutdownReply::No).expect("reply");
                    match round2.load(Ordering::SeqCst) {
                        2 => panic!("callback panicked after vetoing"),
                        3 => {
                            let b = b_slot2.lock().unwrap();
                            let b = b.as_ref().expect("handle b");
                            assert_eq!(b.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
                        }
                        _ => {}
                    }
                })
                .build()
        })
        .unwrap()
        .expect("open tracker a");
    a.track_start(TrackFlags::CHANGES).unwrap();

    // Round 1: DispatchMode::One waits for the request and runs the callback once.
    let requester = request_shutdown(node);
    assert_eq!(a.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(requester.join().unwrap(), Err(Error::Busy));
    assert_eq!(calls_a.load(Ordering::SeqCst), 1);

    // Round 2: a panic in the callback ends a blocking dispatch and reaches its caller.
    round.store(2, Ordering::SeqCst);
    let requester = request_shutdown(node);
    let payload = catch_unwind(AssertUnwindSafe(|| a.dispatch_blocking().map(|_| ())))
        .expect_err("the callback's panic comes out of dispatch");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"callback panicked after vetoing")
    );
    assert_eq!(requester.join().unwrap(), Err(Error::Busy));
    assert_eq!(calls_a.load(Ordering::SeqCst), 2);

    // Round 3: a second tracker, dispatched from inside the first one's callback.
    round.store(3, Ordering::SeqCst);
    let calls_b2 = calls_b.clone();
    let b = node
        .in_namespace(move || {
            Cfg::builder()
                .on_shutdown(move |cfg, _| {
                    calls_b2.fetch_add(1, Ordering::SeqCst);
                    cfg.reply_to_shutdown(ShutdownReply::No).expect("reply");
                })
                .build()
        })
        .unwrap()
        .expect("open tracker b");
    b.track_start(TrackFlags::CHANGES).unwrap();
    *b_slot.lock().unwrap() = Some(b);
    let requester = request_shutdown(node);
    assert_eq!(a.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(requester.join().unwrap(), Err(Error::Busy));
    assert_eq!(calls_a.load(Ordering::SeqCst), 3);
    assert_eq!(calls_b.load(Ordering::SeqCst), 1);

    // libcfg keeps these connections open after finalize because they replied (see the
    // module docs): stop tracking so the daemon does not wait for them later.
    let b = b_slot.lock().unwrap().take().unwrap();
    assert_eq!(b.track_stop(), Ok(()));
    assert_eq!(a.track_stop(), Ok(()));
}

/// A tracker on `node`: a handle with a shutdown callback that records the flags it is asked
/// about and answers what `reply` says (Yes when true), dispatched on a thread of its own.
struct Tracker {
    seen: Arc<Mutex<Vec<ShutdownMode>>>,
    reply: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Cfg>>,
}

impl Tracker {
    fn start(node: &Node, yes: bool) -> Tracker {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(AtomicBool::new(yes));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, reply2) = (seen.clone(), reply.clone());
        let cfg = node
            .in_namespace(move || {
                Cfg::builder()
                    .on_shutdown(move |cfg, flags| {
                        seen2.lock().unwrap().push(flags);
                        let answer = if reply2.load(Ordering::SeqCst) {
                            ShutdownReply::Yes
                        } else {
                            ShutdownReply::No
                        };
                        cfg.reply_to_shutdown(answer).expect("reply_to_shutdown");
                    })
                    .build()
            })
            .unwrap()
            .expect("open a tracker");
        cfg.track_start(TrackFlags::CHANGES).expect("track_start");
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                // Once the daemon has gone, dispatch fails or finds nothing: both are fine.
                if cfg.dispatch(DispatchMode::All).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            cfg
        });
        Tracker {
            seen,
            reply,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<ShutdownMode> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // Dropping the handle stops its tracking (libcfg would otherwise leave a handle
            // that replied registered as a silent tracker: see the module docs).
            let _ = thread.join();
        }
    }
}

fn wait_exit(cluster: &Cluster, k: u32) {
    cluster
        .wait_until(WAIT, &format!("node {k}'s daemon to exit"), || {
            !cluster.node(k).is_running()
        })
        .unwrap();
}

#[test]
fn kill_node_and_shutdown_negotiation() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");

    // kill_node from node 1 stops node 3's daemon; the others see it leave.
    let cfg1 = open(cluster.node(1));
    assert_eq!(
        cfg1.kill_node(NodeId::from(3), "cfg integration test"),
        Ok(())
    );
    wait_exit(&cluster, 3);
    assert!(
        cluster
            .node(3)
            .log()
            .contains("Killed by node 1 : cfg integration test"),
        "node 3's log:\n{}",
        cluster.node(3).log_tail(20)
    );
    cluster.wait_members(1, &[1, 2], WAIT).unwrap();
    cluster.wait_members(2, &[1, 2], WAIT).unwrap();
    assert_eq!(
        cfg1.kill_node(NodeId::from(3), "again"),
        Err(Error::NotExist)
    );

    // Node 2, a plain request: a tracker that answers no vetoes it; once it answers yes the
    // daemon shuts down, and node 1 sees it leave.
    let tracker = Tracker::start(cluster.node(2), false);
    let cfg2 = open(cluster.node(2));
    assert_eq!(cfg2.try_shutdown(ShutdownMode::Request), Err(Error::Busy));
    assert_eq!(tracker.seen(), vec![ShutdownMode::Request]);
    assert!(cluster.node(2).is_running());
    assert_eq!(cfg2.local_node_id(), Ok(NodeId::from(2)), "still serving");
    tracker.reply.store(true, Ordering::SeqCst);
    assert_eq!(cfg2.try_shutdown(ShutdownMode::Request), Ok(()));
    assert_eq!(
        tracker.seen(),
        vec![ShutdownMode::Request, ShutdownMode::Request]
    );
    wait_exit(&cluster, 2);
    drop(tracker);
    drop(cfg2);

    // Node 2 again: a tracker that vetoed (and so holds libcfg's leaked reference) is
    // dropped without an explicit track_stop; a later request must not count it as a silent
    // veto. Were it still registered, the daemon would wait for it and answer Busy.
    cluster.start_node(2).expect("restart node 2");
    let vetoing = Tracker::start(cluster.node(2), false);
    let cfg2 = open(cluster.node(2));
    assert_eq!(cfg2.try_shutdown(ShutdownMode::Request), Err(Error::Busy));
    assert_eq!(vetoing.seen(), vec![ShutdownMode::Request]);
    drop(vetoing);
    let tracker = Tracker::start(cluster.node(2), true);
    assert_eq!(cfg2.try_shutdown(ShutdownMode::Request), Ok(()));
    assert_eq!(tracker.seen(), vec![ShutdownMode::Request]);
    wait_exit(&cluster, 2);
    cluster.wait_members(1, &[1], WAIT).unwrap();
    drop(tracker);
    drop(cfg2);

    // Node 1, "regardless": the tracker is asked, its veto is overridden.
    let tracker = Tracker::start(cluster.node(1), false);
    assert_eq!(cfg1.try_shutdown(ShutdownMode::Regardless), Ok(()));
    assert_eq!(tracker.seen(), vec![ShutdownMode::Regardless]);
    wait_exit(&cluster, 1);
    // The handle outlives its daemon: calls fail, nothing crashes.
    assert!(cfg1.local_node_id().is_err());
    drop(tracker);
    drop(cfg1);

    // Node 3 again, "immediate": the tracker is not even asked.
    cluster.start_node(3).expect("restart node 3");
    let tracker = Tracker::start(cluster.node(3), false);
    let cfg3 = open(cluster.node(3));
    assert_eq!(cfg3.try_shutdown(ShutdownMode::Immediate), Ok(()));
    wait_exit(&cluster, 3);
    assert_eq!(tracker.seen(), Vec::new());
}
