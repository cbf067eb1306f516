//! Integration tests of `corosync::votequorum` (and, where the issue asks for both libraries
//! to agree, `corosync::quorum`) against real clusters.
//!
//! Three clusters, started in parallel by the three tests:
//! - `quorum_loss_and_regain` (3 nodes): getinfo on every node against
//!   `corosync-quorumtool -s`; kill one node, then a second, then restart both, following
//!   the notifications of both libraries on the survivors; a blocking dispatch that ends
//!   when its daemon is killed.
//! - `votes_expected_votes_and_qdevice` (3 nodes): setvotes / setexpected seen by getinfo
//!   and the expected-votes notification on every node; the whole quorum device life cycle,
//!   with the ring id of the latest node-list notification, a stale one, and name checks.
//! - `two_node_flag_and_dispatch_flags` (2 nodes, `two_node: 1`): the TWO_NODE flag, and
//!   every `DispatchMode` value of a votequorum handle.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ids, open_quorum_v1, pump_quorum, QuorumEvent, WAIT};
use corosync::quorum::Quorum;
use corosync::votequorum::{InfoFlags, NodeState, Votequorum, QDEVICE_NAME_MAX, QDEVICE_NODE_ID};
use corosync::{DispatchMode, Dispatched, Error, NodeId, RingId, TrackFlags};
use corosync_testcluster::{log_len, pump, Cluster, EventLog, Node, QuorumStatus};

/// An owned copy of one votequorum notification.
#[derive(Debug, Clone, PartialEq)]
enum VqEvent {
    Quorum {
        context: u64,
        quorate: bool,
        nodes: Vec<(u32, NodeState)>,
    },
    NodeList {
        context: u64,
        ring_id: RingId,
        members: Vec<u32>,
    },
    Expected {
        context: u64,
        expected_votes: u32,
    },
}

/// A votequorum handle on `node` whose three closures record every notification.
fn open_vq(node: &Node) -> (Votequorum, EventLog<VqEvent>) {
    let log: EventLog<VqEvent> = Arc::default();
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    let vq = node
        .in_namespace(move || {
            Votequorum::builder()
                .on_quorum(move |_, n| {
                    l1.lock().unwrap().push(VqEvent::Quorum {
                        context: n.context(),
                        quorate: n.is_quorate(),
                        nodes: n
                            .nodes()
                            .iter()
                            .map(|x| (x.node_id().get(), x.state()))
                            .collect(),
                    })
                })
                .on_nodelist(move |_, n| {
                    l2.lock().unwrap().push(VqEvent::NodeList {
                        context: n.context(),
                        ring_id: n.ring_id(),
                        members: ids(n.members()),
                    })
                })
                .on_expected_votes(move |_, n| {
                    l3.lock().unwrap().push(VqEvent::Expected {
                        context: n.context(),
                        expected_votes: n.expected_votes(),
                    })
                })
                .build()
        })
        .expect("enter the node's namespace")
        .expect("open a votequorum handle");
    (vq, log)
}

/// [`pump`] for a votequorum handle: dispatches `All`, panics after [`WAIT`].
fn pump_vq(
    vq: &Votequorum,
    log: &EventLog<VqEvent>,
    from: usize,
    what: &str,
    done: impl Fn(&[VqEvent]) -> bool,
) -> Vec<VqEvent> {
    pump(
        vq,
        |h| h.dispatch(DispatchMode::All),
        log,
        from,
        what,
        WAIT,
        done,
    )
}

/// The last node-list notification's ring id in `events`.
fn last_vq_ring(events: &[VqEvent]) -> Option<RingId> {
    events.iter().rev().find_map(|e| match e {
        VqEvent::NodeList { ring_id, .. } => Some(*ring_id),
        _ => None,
    })
}

/// Whether `events` hold a quorum notification with exactly `members` as members and the
/// given quorate state.
fn has_vq_quorum(events: &[VqEvent], quorate: bool, members: &[u32]) -> bool {
    events.iter().any(|e| match e {
        VqEvent::Quorum {
            quorate: q, nodes, ..
        } => {
            let mut m: Vec<u32> = nodes
                .iter()
                .filter(|(_, s)| *s == NodeState::Member)
                .map(|(id, _)| *id)
                .collect();
            m.sort_unstable();
            *q == quorate && m == members
        }
        _ => false,
    })
}

fn has_vq_nodelist(events: &[VqEvent], members: &[u32]) -> bool {
    events.iter().any(|e| match e {
        VqEvent::NodeList { members: m, .. } => {
            let mut m = m.clone();
            m.sort_unstable();
            m == members
        }
        _ => false,
    })
}

fn has_q_quorum(events: &[QuorumEvent], quorate: bool, members: &[u32]) -> bool {
    events.iter().any(|e| match e {
        QuorumEvent::Quorum {
            quorate: q,
            members: m,
            ..
        } => {
            let mut m = m.clone();
            m.sort_unstable();
            *q == quorate && m == members
        }
        _ => false,
    })
}

/// What `corosync-quorumtool -s` prints for the flags of `flags`, in its order.
fn quorumtool_flag_words(flags: InfoFlags) -> Vec<String> {
    [
        (InfoFlags::TWO_NODE, "2Node"),
        (InfoFlags::QUORATE, "Quorate"),
        (InfoFlags::WAIT_FOR_ALL, "WaitForAll"),
        (InfoFlags::LAST_MAN_STANDING, "LastManStanding"),
        (InfoFlags::AUTO_TIE_BREAKER, "AutoTieBreaker"),
        (InfoFlags::ALLOW_DOWNSCALE, "AllowDownscale"),
        (InfoFlags::QDEVICE_REGISTERED, "Qdevice"),
    ]
    .iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, word)| word.to_string())
    .collect()
}

/// getinfo on the handle of node `k` agrees with `corosync-quorumtool -s` run on node `k`.
fn assert_getinfo_matches_quorumtool(cluster: &Cluster, k: u32, vq: &Votequorum) {
    let status: QuorumStatus = cluster.node(k).quorum_status().expect("quorumtool -s");
    let info = vq.info(None).expect("getinfo");
    assert_eq!(info.node_id, NodeId::from(k));
    assert_eq!(status.node_id, k);
    assert_eq!(info.node_expected_votes, status.expected_votes, "node {k}");
    assert_eq!(info.total_votes, status.total_votes, "node {k}");
    assert_eq!(info.quorum, status.quorum, "node {k}");
    assert_eq!(info.is_quorate(), status.quorate, "node {k}");
    assert_eq!(quorumtool_flag_words(info.flags), status.flags, "node {k}");
    assert_eq!(info.node_state, NodeState::Member);
    // Node states: exactly the members quorumtool lists are members for getinfo.
    for other in cluster.ids() {
        let state = vq
            .info(Some(NodeId::from(other)))
            .expect("getinfo of another node")
            .node_state;
        let expected = if status.members.contains(&other) {
            NodeState::Member
        } else {
            NodeState::Dead
        };
        assert_eq!(state, expected, "node {other} seen from node {k}");
    }
}

#[test]
fn quorum_loss_and_regain() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let all = [1, 2, 3];
    let vqs: Vec<(Votequorum, EventLog<VqEvent>)> =
        all.iter().map(|&k| open_vq(cluster.node(k))).collect();
    let qs: Vec<(Quorum, EventLog<QuorumEvent>)> = all
        .iter()
        .map(|&k| open_quorum_v1(cluster.node(k)))
        .collect();

    for (k, (vq, _)) in all.iter().zip(&vqs) {
        assert_getinfo_matches_quorumtool(&cluster, *k, vq);
        let info = vq.info(None).unwrap();
        assert_eq!(
            (info.node_expected_votes, info.total_votes, info.quorum),
            (3, 3, 2)
        );
        assert_eq!(info.flags, InfoFlags::QUORATE);
        assert_eq!(info.qdevice_name, "");
    }
    assert_eq!(vqs[0].0.info(Some(NodeId::from(99))), Err(Error::NotExist));

    // Track on every node, with the node's id as context.
    for (k, (vq, log)) in all.iter().zip(&vqs) {
        vq.track_start(
            100 + u64::from(*k),
            TrackFlags::CURRENT | TrackFlags::CHANGES,
        )
        .expect("trackstart");
        let events = pump_vq(vq, log, 0, "the initial state", |e| {
            has_vq_quorum(e, true, &all) && has_vq_nodelist(e, &all)
        });
        assert!(events.iter().all(|e| match e {
            VqEvent::Quorum { context, .. }
            | VqEvent::NodeList { context, .. }
            | VqEvent::Expected { context, .. } => *context == 100 + u64::from(*k),
        }));
    }
    for (q, log) in &qs {
        assert!(q.is_quorate().unwrap());
        q.track_start(TrackFlags::CURRENT | TrackFlags::CHANGES)
            .expect("trackstart");
        pump_quorum(q, log, 0, "the initial quorum state", |e| {
            has_q_quorum(e, true, &all)
        });
    }
    let first_ring = last_vq_ring(&vqs[0].1.lock().unwrap()).expect("a node-list event");
    let first_q_ring = qs[0]
        .1
        .lock()
        .unwrap()
        .iter()
        .find_map(|e| match e {
            QuorumEvent::Quorum { ring_id, .. } => Some(*ring_id),
            _ => None,
        })
        .expect("a quorum event");
    assert_eq!(
        first_q_ring, first_ring,
        "both libraries report the same ring"
    );

    // A blocking dispatch on node 3 runs until its daemon dies, then returns an
    // error; the handles of the dead daemon keep answering with errors.
    let mut vqs = vqs;
    let mut qs = qs;
    let (vq3, _log3) = vqs.pop().unwrap();
    let (q3, _) = qs.pop().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = vq3.dispatch_blocking().map(|_| ());
        let after = vq3.info(None);
        let _ = tx.send((result, after));
    });

    // Kill node 3: both survivors are told, by both libraries, that they are 2 and quorate.
    let marks: Vec<(usize, usize)> = vqs
        .iter()
        .zip(&qs)
        .map(|((_, vl), (_, ql))| (log_len(vl), log_len(ql)))
        .collect();
    cluster.kill(3).expect("kill node 3");
    for (((vq, vlog), (q, qlog)), (vmark, qmark)) in vqs.iter().zip(&qs).zip(&marks) {
        let events = pump_vq(vq, vlog, *vmark, "node 3 to leave (votequorum)", |e| {
            has_vq_quorum(e, true, &[1, 2]) && has_vq_nodelist(e, &[1, 2])
        });
        assert!(
            events
                .iter()
                .any(|e| matches!(e, VqEvent::Quorum { nodes, .. }
                if nodes.contains(&(3, NodeState::Dead)))),
            "node 3 is reported dead: {events:#?}"
        );
        let events = pump_quorum(q, qlog, *qmark, "node 3 to leave (quorum)", |e| {
            has_q_quorum(e, true, &[1, 2])
                && e.iter().any(|x| {
                    matches!(x, QuorumEvent::NodeList { left, joined, .. }
                        if left == &[3] && joined.is_empty())
                })
        });
        assert!(q.is_quorate().unwrap(), "{events:?}");
    }
    let (blocking, after) = rx
        .recv_timeout(WAIT)
        .expect("the blocking dispatch returned");
    assert_eq!(
        blocking,
        Err(Error::Library { errno: 0 }),
        "the blocking dispatch's end"
    );
    assert_eq!(
        after,
        Err(Error::Library { errno: 0 }),
        "getinfo on a dead daemon"
    );
    assert_eq!(q3.is_quorate(), Err(Error::Library { errno: 0 }));
    assert_eq!(q3.track_stop(), Err(Error::Library { errno: 0 }));
    drop(q3);
    for k in [1, 2] {
        assert_getinfo_matches_quorumtool(&cluster, k, &vqs[k as usize - 1].0);
    }

    // Kill node 2: node 1 alone is told it lost quorum.
    let (vq1, vlog1) = &vqs[0];
    let (q1, qlog1) = &qs[0];
    let (vmark, qmark) = (log_len(vlog1), log_len(qlog1));
    cluster.kill(2).expect("kill node 2");
    pump_vq(
        vq1,
        vlog1,
        vmark,
        "node 1 to lose quorum (votequorum)",
        |e| has_vq_quorum(e, false, &[1]),
    );
    pump_quorum(q1, qlog1, qmark, "node 1 to lose quorum (quorum)", |e| {
        has_q_quorum(e, false, &[1])
    });
    assert!(!q1.is_quorate().unwrap());
    let info = vq1.info(None).unwrap();
    assert!(!info.is_quorate());
    assert_eq!((info.total_votes, info.quorum), (1, 2));
    assert_getinfo_matches_quorumtool(&cluster, 1, vq1);

    // Restart both: quorate again, in a new ring.
    let (vmark, qmark) = (log_len(vlog1), log_len(qlog1));
    cluster.restart(2).expect("restart node 2");
    cluster.restart(3).expect("restart node 3");
    cluster.wait_converged(&all, WAIT).expect("converge");
    let events = pump_vq(vq1, vlog1, vmark, "quorum to come back (votequorum)", |e| {
        has_vq_quorum(e, true, &all) && has_vq_nodelist(e, &all)
    });
    let ring = last_vq_ring(&events).unwrap();
    assert_ne!(ring, first_ring);
    assert!(ring.seq > first_ring.seq, "{ring} after {first_ring}");
    let events = pump_quorum(q1, qlog1, qmark, "quorum to come back (quorum)", |e| {
        has_q_quorum(e, true, &all)
    });
    assert!(events.iter().any(
        |e| matches!(e, QuorumEvent::Quorum { ring_id, quorate: true, .. }
        if *ring_id != first_q_ring)
    ));
    assert!(q1.is_quorate().unwrap());
    for k in all {
        let (vq, _) = open_vq(cluster.node(k));
        assert_getinfo_matches_quorumtool(&cluster, k, &vq);
    }
    // A quorum device polling with the ring id of before the failures is refused; the
    // current one is accepted.
    vq1.qdevice_register("loss-test").expect("register");
    assert_eq!(
        vq1.qdevice_poll("loss-test", true, first_ring),
        Err(Error::MessageError)
    );
    vq1.qdevice_poll("loss-test", true, ring).expect("poll");
    vq1.qdevice_unregister("loss-test").expect("unregister");

    vq1.track_stop().expect("trackstop");
    assert_eq!(vq1.track_stop(), Err(Error::NotExist));
}

/// Pumps every handle until each has an expected-votes notification with `expected`.
fn wait_expected(
    vqs: &[(Votequorum, EventLog<VqEvent>)],
    marks: &[usize],
    context: u64,
    expected: u32,
) {
    for ((vq, log), mark) in vqs.iter().zip(marks) {
        pump_vq(vq, log, *mark, &format!("expected votes {expected}"), |e| {
            e.contains(&VqEvent::Expected {
                context,
                expected_votes: expected,
            })
        });
    }
}

#[test]
fn votes_expected_votes_and_qdevice() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let all = [1u32, 2, 3];
    let vqs: Vec<(Votequorum, EventLog<VqEvent>)> =
        all.iter().map(|&k| open_vq(cluster.node(k))).collect();
    for (vq, log) in &vqs {
        // CHANGES alone also sends the current state first.
        vq.track_start(7, TrackFlags::CHANGES).expect("trackstart");
        pump_vq(vq, log, 0, "the initial state", |e| {
            has_vq_quorum(e, true, &all) && has_vq_nodelist(e, &all)
        });
        assert_eq!(vq.track_start(7, TrackFlags::CHANGES), Err(Error::Exist));
    }
    let (vq1, log1) = &vqs[0];
    let (vq2, _) = &vqs[1];

    // setvotes on node 1 for node 2: every node sees node 2 with 2 votes, and the expected
    // votes follow the total (4).
    let marks: Vec<usize> = vqs.iter().map(|(_, l)| log_len(l)).collect();
    vq1.set_votes(NodeId::from(2), 2).expect("setvotes");
    wait_expected(&vqs, &marks, 7, 4);
    for (k, (vq, _)) in all.iter().zip(&vqs) {
        assert_eq!(vq.info(Some(NodeId::from(2))).unwrap().node_votes, 2);
        assert_eq!(vq.info(Some(NodeId::from(1))).unwrap().node_votes, 1);
        let info = vq.info(None).unwrap();
        assert_eq!(
            (info.node_expected_votes, info.total_votes, info.quorum),
            (4, 4, 3),
            "node {k}"
        );
        assert_getinfo_matches_quorumtool(&cluster, *k, vq);
    }

    // setexpected from node 2: every node's expected votes and quorum change.
    let marks: Vec<usize> = vqs.iter().map(|(_, l)| log_len(l)).collect();
    vq2.set_expected_votes(5).expect("setexpected");
    wait_expected(&vqs, &marks, 7, 5);
    for (k, (vq, _)) in all.iter().zip(&vqs) {
        let info = vq.info(None).unwrap();
        assert_eq!(
            (info.node_expected_votes, info.total_votes, info.quorum),
            (5, 4, 3),
            "node {k}"
        );
        assert_getinfo_matches_quorumtool(&cluster, *k, vq);
    }

    // Requests the daemon refuses.
    assert_eq!(
        vq1.set_expected_votes(3),
        Err(Error::InvalidParam),
        "below the total votes"
    );
    assert_eq!(vq1.set_votes(NodeId::from(99), 1), Err(Error::NameNotFound));
    assert_eq!(vq1.info(Some(NodeId::from(99))), Err(Error::NotExist));

    // Quorum device names are checked before they reach C.
    let too_long = "q".repeat(QDEVICE_NAME_MAX + 1);
    assert_eq!(
        vq1.qdevice_register(&too_long),
        Err(Error::TooLong {
            what: "quorum device name",
            length: 255,
            max: 254
        })
    );
    assert!(matches!(
        vq1.qdevice_register("q".repeat(256)),
        Err(Error::TooLong { length: 256, .. })
    ));
    assert!(matches!(
        vq1.qdevice_poll(&too_long, true, RingId::default()),
        Err(Error::TooLong { .. })
    ));
    assert!(matches!(
        vq1.qdevice_register(""),
        Err(Error::TooShort { .. })
    ));
    assert!(matches!(
        vq1.qdevice_register("a\0b"),
        Err(Error::InteriorNul { position: 1, .. })
    ));
    assert!(matches!(
        vq1.qdevice_update("ok", &too_long),
        Err(Error::TooLong {
            what: "new quorum device name",
            ..
        })
    ));
    // Nothing registered yet.
    assert_eq!(vq1.qdevice_unregister("test-qdevice"), Err(Error::NotExist));
    assert_eq!(
        vq1.qdevice_master_wins("test-qdevice", true),
        Err(Error::NotExist)
    );
    assert_eq!(
        vq1.qdevice_update("test-qdevice", "x"),
        Err(Error::NotExist)
    );
    assert_eq!(
        vq1.qdevice_poll("test-qdevice", true, RingId::default()),
        Err(Error::NotExist)
    );

    // The longest name corosync accepts (254 bytes) registers.
    let longest = "L".repeat(QDEVICE_NAME_MAX);
    vq1.qdevice_register(&longest)
        .expect("register a 254-byte name");
    let info = vq1.info(None).unwrap();
    assert!(info.flags.contains(InfoFlags::QDEVICE_REGISTERED));
    assert_eq!(info.qdevice_name, longest);
    vq1.qdevice_unregister(&longest).expect("unregister");

    // Register under a test name: the flag and the name show on node 1, quorumtool sees it.
    let mark = log_len(log1);
    vq1.qdevice_register("test-qdevice").expect("register");
    vq1.qdevice_register("test-qdevice")
        .expect("registering again is fine");
    assert_eq!(vq1.qdevice_register("other-qdevice"), Err(Error::Exist));
    let info = vq1.info(None).unwrap();
    assert!(
        info.flags.contains(InfoFlags::QDEVICE_REGISTERED),
        "{info:?}"
    );
    assert!(!info.flags.contains(InfoFlags::QDEVICE_ALIVE), "{info:?}");
    assert_eq!(info.qdevice_name, "test-qdevice");
    assert_getinfo_matches_quorumtool(&cluster, 1, vq1);
    assert!(!vq2
        .info(None)
        .unwrap()
        .flags
        .contains(InfoFlags::QDEVICE_REGISTERED));
    // The quorum notifications of node 1 now list the device's pseudo node. Asking for the
    // current state while tracking sends it (with this request's context), then answers
    // that tracking is on already.
    assert_eq!(vq1.track_start(8, TrackFlags::CURRENT), Err(Error::Exist));
    pump_vq(
        vq1,
        log1,
        mark,
        "the qdevice in a quorum notification",
        |e| {
            e.iter().any(|x| {
                matches!(x, VqEvent::Quorum { nodes, context: 8, .. }
            if nodes.iter().any(|(id, _)| *id == QDEVICE_NODE_ID.get()))
            })
        },
    );

    // Poll with the ring id of the latest node-list notification: alive, casting its vote.
    let ring = last_vq_ring(&log1.lock().unwrap()).expect("a node-list notification");
    vq1.qdevice_poll("test-qdevice", true, ring).expect("poll");
    let info = vq1.info(None).unwrap();
    assert!(
        info.flags
            .contains(InfoFlags::QDEVICE_ALIVE | InfoFlags::QDEVICE_CAST_VOTE),
        "{info:?}"
    );
    // A stale ring id is refused, and so is a name that is not registered.
    let stale = RingId {
        seq: ring.seq - 1,
        ..ring
    };
    assert_eq!(
        vq1.qdevice_poll("test-qdevice", true, stale),
        Err(Error::MessageError)
    );
    assert_eq!(
        vq1.qdevice_poll("other-qdevice", true, ring),
        Err(Error::InvalidParam)
    );
    vq1.qdevice_poll("test-qdevice", false, ring)
        .expect("poll without vote");
    let info = vq1.info(None).unwrap();
    assert!(info.flags.contains(InfoFlags::QDEVICE_ALIVE), "{info:?}");
    assert!(
        !info.flags.contains(InfoFlags::QDEVICE_CAST_VOTE),
        "{info:?}"
    );

    // master_wins sets and clears its flag.
    vq1.qdevice_master_wins("test-qdevice", true)
        .expect("master_wins");
    assert!(vq1
        .info(None)
        .unwrap()
        .flags
        .contains(InfoFlags::QDEVICE_MASTER_WINS));
    vq1.qdevice_master_wins("test-qdevice", false)
        .expect("master_wins off");
    assert!(!vq1
        .info(None)
        .unwrap()
        .flags
        .contains(InfoFlags::QDEVICE_MASTER_WINS));

    // update renames it (through the cluster, so getinfo shows it a moment later).
    vq1.qdevice_update("test-qdevice", "renamed-qdevice")
        .expect("update");
    wait_until_name(vq1, "renamed-qdevice");
    assert_eq!(
        vq1.qdevice_update("test-qdevice", "x"),
        Err(Error::InvalidParam)
    );

    // unregister removes it.
    assert_eq!(
        vq1.qdevice_unregister("test-qdevice"),
        Err(Error::InvalidParam)
    );
    vq1.qdevice_master_wins("renamed-qdevice", true)
        .expect("master_wins");
    vq1.qdevice_unregister("renamed-qdevice")
        .expect("unregister");
    let info = vq1.info(None).unwrap();
    let qdevice_flags = InfoFlags::QDEVICE_REGISTERED
        | InfoFlags::QDEVICE_ALIVE
        | InfoFlags::QDEVICE_CAST_VOTE
        | InfoFlags::QDEVICE_MASTER_WINS;
    assert!(!info.flags.intersects(qdevice_flags), "{info:?}");
    assert_eq!(
        vq1.qdevice_poll("renamed-qdevice", true, ring),
        Err(Error::NotExist)
    );
    assert_getinfo_matches_quorumtool(&cluster, 1, vq1);
}

/// The rename of a quorum device travels through the cluster before getinfo shows it.
fn wait_until_name(vq: &Votequorum, name: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let info = vq.info(None).unwrap();
        if info.qdevice_name == name {
            return;
        }
        assert!(Instant::now() < deadline, "qdevice name still {info:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_node_flag_and_dispatch_flags() {
    let cluster = Cluster::builder(2)
        .quorum_option("two_node", 1)
        .start()
        .expect("start a two_node cluster");
    let (vq1, log) = open_vq(cluster.node(1));
    let (vq2, _) = open_vq(cluster.node(2));
    for (k, vq) in [(1, &vq1), (2, &vq2)] {
        let info = vq.info(None).unwrap();
        // two_node turns wait_for_all on unless told otherwise; one vote is quorum.
        assert_eq!(
            info.flags,
            InfoFlags::TWO_NODE | InfoFlags::QUORATE | InfoFlags::WAIT_FOR_ALL,
            "node {k}"
        );
        assert_eq!((info.node_expected_votes, info.quorum), (2, 1));
        assert_getinfo_matches_quorumtool(&cluster, k, vq);
    }

    // OneNonBlocking and All with nothing pending.
    assert_eq!(
        vq1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(vq1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log), 0);

    // trackstart(CURRENT) queues a node-list and a quorum notification before it returns.
    // One processes exactly one; OneNonBlocking the other, then finds nothing.
    vq1.track_start(1, TrackFlags::CURRENT).unwrap();
    assert_eq!(vq1.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log), 1);
    assert!(matches!(
        log.lock().unwrap()[0],
        VqEvent::NodeList { context: 1, .. }
    ));
    assert_eq!(
        vq1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(log_len(&log), 2);
    assert!(matches!(
        log.lock().unwrap()[1],
        VqEvent::Quorum {
            context: 1,
            quorate: true,
            ..
        }
    ));
    assert_eq!(
        vq1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );

    // All processes everything pending.
    vq1.track_start(2, TrackFlags::CURRENT).unwrap();
    assert_eq!(vq1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log), 4);

    // One waits for an event: it returns only once node 2 changes the expected votes.
    vq1.track_start(3, TrackFlags::CHANGES_ONLY).unwrap();
    assert_eq!(vq1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log), 4, "CHANGES_ONLY sends no current state");
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let result = vq1.dispatch(DispatchMode::One);
        tx.send(result).unwrap();
        vq1
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "One returned with no event pending"
    );
    vq2.set_expected_votes(3).expect("setexpected");
    assert_eq!(
        rx.recv_timeout(WAIT).expect("One returned"),
        Ok(Dispatched::Processed)
    );
    let vq1 = waiter.join().unwrap();
    assert_eq!(
        log.lock().unwrap()[4..],
        [VqEvent::Expected {
            context: 3,
            expected_votes: 3
        }]
    );
    assert_eq!(vq1.info(None).unwrap().node_expected_votes, 3);

    // Blocking processes events until something ends it: here a panic in a callback,
    // which reaches the caller once the C dispatch has returned.
    let nodelists = Arc::new(AtomicUsize::new(0));
    let seen = nodelists.clone();
    let stopper = cluster
        .node(1)
        .in_namespace(|| {
            Votequorum::builder()
                .on_nodelist(move |_, _| {
                    seen.fetch_add(1, Ordering::SeqCst);
                })
                .on_quorum(|_, n| panic!("stop at the quorum notification {}", n.context()))
                .build()
        })
        .unwrap()
        .expect("open");
    stopper.track_start(9, TrackFlags::CURRENT).unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| stopper.dispatch_blocking().map(|_| ())))
        .expect_err("the panic ends the blocking dispatch");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("stop at the quorum notification 9")
    );
    assert_eq!(nodelists.load(Ordering::SeqCst), 1);
    // The handle stays usable.
    assert!(stopper.info(None).unwrap().is_quorate());
}
