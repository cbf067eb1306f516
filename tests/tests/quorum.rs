//! Integration tests of `corosync::quorum` against real clusters.
//!
//! One 2-node cluster: model v1 and model v0 handles side by side; every `DispatchMode`
//! value; a node killed (joined / left lists, quorum lost, a blocking dispatch ending with
//! its daemon) and restarted. The agreement of this library with votequorum during quorum
//! loss and regain on 3 nodes is checked in `votequorum.rs`.
//!
//! A 2-node cluster without a quorum provider (`QuorumType::Free`): what corosync 3.1.7's
//! quorum service reports there, for both models, through a kill and a restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ids, open_quorum_v1, pump_quorum, QuorumEvent, WAIT};
use corosync::quorum::{Quorum, QuorumType};
use corosync::{DispatchMode, Dispatched, Error, NodeId, RingId, TrackFlags};
use corosync_testcluster::{log_len, Cluster, EventLog, Node};

/// A model v0 handle on `node` recording every notification.
fn open_v0(node: &Node) -> (Quorum, EventLog<QuorumEvent>) {
    let log: EventLog<QuorumEvent> = Arc::default();
    let l = log.clone();
    let quorum = node
        .in_namespace(move || {
            Quorum::new_v0(move |_, n| {
                l.lock().unwrap().push(QuorumEvent::QuorumV0 {
                    quorate: n.is_quorate(),
                    ring_seq: n.ring_seq(),
                    members: ids(n.members()),
                })
            })
        })
        .expect("enter the node's namespace")
        .expect("open a model v0 quorum handle");
    (quorum, log)
}

#[test]
fn models_membership_and_dispatch_flags() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");
    let (v1, log1) = open_quorum_v1(cluster.node(1));
    let (v0, log0) = open_v0(cluster.node(1));
    assert_eq!(v1.quorum_type(), QuorumType::Set);
    assert_eq!(v0.quorum_type(), QuorumType::Set);
    assert_eq!(v1.is_quorate(), Ok(true));
    assert_eq!(v0.is_quorate(), Ok(true));

    // Nothing pending yet.
    assert_eq!(
        v1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(v1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 0);

    // trackstart(CURRENT) queues model v1's node-list then quorum notification before it
    // returns: One processes one, OneNonBlocking the other, then finds nothing.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 1);
    assert_eq!(
        v1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        v1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    let first = log1.lock().unwrap().clone();
    let QuorumEvent::NodeList { ring_id: ring, .. } = first[0].clone() else {
        panic!("node list first: {first:?}")
    };
    assert_eq!(
        first,
        [
            QuorumEvent::NodeList {
                ring_id: ring,
                members: vec![1, 2],
                joined: vec![],
                left: vec![],
            },
            QuorumEvent::Quorum {
                quorate: true,
                ring_id: ring,
                members: vec![1, 2],
            }
        ]
    );
    // All processes everything pending.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 4);

    // Model v0: one notification with the ring's sequence number only.
    v0.track_start(TrackFlags::CHANGES).unwrap();
    let events = pump_quorum(&v0, &log0, 0, "the v0 current state", |e| !e.is_empty());
    assert_eq!(
        events,
        [QuorumEvent::QuorumV0 {
            quorate: true,
            ring_seq: ring.seq,
            members: vec![1, 2]
        }]
    );
    assert_eq!(v0.track_start(TrackFlags::CHANGES), Err(Error::Exist));

    // A blocking dispatch on node 2 runs until its daemon dies.
    let (on2, _) = open_quorum_v1(cluster.node(2));
    on2.track_start(TrackFlags::CHANGES).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = on2.dispatch_blocking().map(|_| ());
        let _ = tx.send((result, on2.is_quorate()));
    });

    // One waits for an event: it returns once node 2 is gone.
    v1.track_start(TrackFlags::CHANGES_ONLY).unwrap();
    assert_eq!(v1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 4, "CHANGES_ONLY sends no current state");
    let mark0 = log_len(&log0);
    let (tx1, rx1) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let result = v1.dispatch(DispatchMode::One);
        tx1.send(result).unwrap();
        v1
    });
    assert!(
        rx1.recv_timeout(Duration::from_millis(500)).is_err(),
        "One returned with no event pending"
    );
    cluster.kill(2).expect("kill node 2");
    assert_eq!(
        rx1.recv_timeout(WAIT).expect("One returned"),
        Ok(Dispatched::Processed)
    );
    let v1 = waiter.join().unwrap();
    assert_eq!(log_len(&log1), 5);

    // Node 1 alone: the node list says 2 left, and without two_node quorum is lost.
    let events = pump_quorum(&v1, &log1, 4, "node 2 to leave", |e| {
        e.iter().any(
            |x| matches!(x, QuorumEvent::Quorum { quorate: false, members, .. } if members == &[1]),
        )
    });
    let QuorumEvent::NodeList {
        ring_id: ring2,
        members,
        joined,
        left,
    } = events[0].clone()
    else {
        panic!("a node list first: {events:#?}")
    };
    assert_eq!((members, joined, left), (vec![1], vec![], vec![2]));
    assert!(ring2.seq > ring.seq, "{ring2} after {ring}");
    assert_eq!(v1.is_quorate(), Ok(false));
    let events = pump_quorum(&v0, &log0, mark0, "v0: quorum lost", |e| {
        e.iter()
            .any(|x| matches!(x, QuorumEvent::QuorumV0 { quorate: false, .. }))
    });
    assert!(events.contains(&QuorumEvent::QuorumV0 {
        quorate: false,
        ring_seq: ring2.seq,
        members: vec![1]
    }));
    let (blocking, after) = rx
        .recv_timeout(WAIT)
        .expect("the blocking dispatch returned");
    assert_eq!(blocking, Err(Error::Library { errno: 0 }));
    assert_eq!(after, Err(Error::Library { errno: 0 }));

    // Node 2 back: it joined, and quorum is back.
    let mark1 = log_len(&log1);
    cluster.restart(2).expect("restart node 2");
    let events = pump_quorum(&v1, &log1, mark1, "node 2 to join", |e| {
        e.iter().any(|x| {
            matches!(x, QuorumEvent::Quorum { quorate: true, members, .. } if members == &[1, 2])
        })
    });
    assert!(
        events.iter().any(
            |x| matches!(x, QuorumEvent::NodeList { joined, left, members, .. }
            if joined == &[2] && left.is_empty() && members == &[1, 2])
        ),
        "{events:#?}"
    );
    assert_eq!(v1.is_quorate(), Ok(true));

    // trackstop; the daemon answers success even when not tracking (corosync 3.1.7).
    assert_eq!(v1.track_stop(), Ok(()));
    assert_eq!(v1.track_stop(), Ok(()));
    assert_eq!(v0.track_stop(), Ok(()));
    v1.finalize().expect("finalize");
}

/// Without `quorum.provider`, corosync 3.1.7's quorum service (exec/vsf_quorum.c) sets
/// `quorum_type` 0 (`QUORUM_FREE`) and `primary_designated` 1 at start, and nothing ever
/// calls its `quorum_api_set_quorum`. So `getquorate` always says quorate, and every quorum
/// notification (model v0 or v1) carries quorate, the zero ring id and an empty member list
/// (the never-filled quorum view); such a notification is only sent at track start, never
/// on a membership change. Model v1's node-list notifications come from the service's sync
/// and are unaffected: the real ring id and members, with joined and left lists on changes.
#[test]
fn free_without_quorum_provider() {
    let cluster = Cluster::builder(2)
        .without_quorum_provider()
        .start()
        .expect("start a 2-node cluster without quorum provider");
    let (v1, log1) = open_quorum_v1(cluster.node(1));
    let (v0, log0) = open_v0(cluster.node(1));
    assert_eq!(v1.quorum_type(), QuorumType::Free);
    assert_eq!(v0.quorum_type(), QuorumType::Free);
    assert_eq!(v1.is_quorate(), Ok(true));
    assert_eq!(v0.is_quorate(), Ok(true));
    assert_eq!(
        v1.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );

    // Model v1, CURRENT: the node list (real ring), then the quorum notification (quorate,
    // zero ring id, no members), then nothing.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    let first = log1.lock().unwrap().clone();
    let QuorumEvent::NodeList { ring_id: ring, .. } = first[0].clone() else {
        panic!("node list first: {first:?}")
    };
    assert!(ring.seq > 0, "{ring}");
    assert!([1, 2].contains(&ring.node_id.get()), "{ring}");
    let zero = RingId {
        node_id: NodeId::from(0),
        seq: 0,
    };
    assert_eq!(
        first,
        [
            QuorumEvent::NodeList {
                ring_id: ring,
                members: vec![1, 2],
                joined: vec![],
                left: vec![],
            },
            QuorumEvent::Quorum {
                quorate: true,
                ring_id: zero,
                members: vec![],
            }
        ]
    );

    // Model v0: only the quorum notification, with the same empty view.
    v0.track_start(TrackFlags::CHANGES).unwrap();
    let events = pump_quorum(&v0, &log0, 0, "the v0 current state", |e| !e.is_empty());
    assert_eq!(
        events,
        [QuorumEvent::QuorumV0 {
            quorate: true,
            ring_seq: 0,
            members: vec![]
        }]
    );

    // Node 2 killed: model v1 gets a node list with 2 left, and no quorum notification;
    // model v0 gets nothing at all; node 1 alone is still quorate.
    v1.track_start(TrackFlags::CHANGES_ONLY).unwrap();
    assert_eq!(log_len(&log1), 2, "CHANGES_ONLY sends no current state");
    cluster.kill(2).expect("kill node 2");
    let events = pump_quorum(&v1, &log1, 2, "node 2 to leave", |e| !e.is_empty());
    let QuorumEvent::NodeList { ring_id: ring2, .. } = events[0].clone() else {
        panic!("a node list: {events:#?}")
    };
    assert!(ring2.seq > ring.seq, "{ring2} after {ring}");
    assert_eq!(
        events,
        [QuorumEvent::NodeList {
            ring_id: ring2,
            members: vec![1],
            joined: vec![],
            left: vec![2],
        }]
    );
    cluster.wait_members(1, &[1], WAIT).unwrap();
    assert_eq!(v1.is_quorate(), Ok(true));
    assert_eq!(v0.is_quorate(), Ok(true));

    // Node 2 back: a node list with 2 joined, again without quorum notification.
    cluster.restart(2).expect("restart node 2");
    let events = pump_quorum(&v1, &log1, 3, "node 2 to join", |e| {
        e.iter()
            .any(|x| matches!(x, QuorumEvent::NodeList { members, .. } if members == &[1, 2]))
    });
    let QuorumEvent::NodeList { ring_id: ring3, .. } = events[events.len() - 1].clone() else {
        panic!("a node list last: {events:#?}")
    };
    assert!(ring3.seq > ring2.seq, "{ring3} after {ring2}");
    assert_eq!(
        events.last(),
        Some(&QuorumEvent::NodeList {
            ring_id: ring3,
            members: vec![1, 2],
            joined: vec![2],
            left: vec![],
        })
    );
    assert!(
        events
            .iter()
            .all(|x| matches!(x, QuorumEvent::NodeList { .. })),
        "{events:#?}"
    );
    cluster.wait_converged(&[1, 2], WAIT).unwrap();
    assert_eq!(v1.is_quorate(), Ok(true));
    // Let anything else node 1 might send arrive, then check that neither handle got a
    // quorum notification for these membership changes.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(v1.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(v0.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert!(
        log1.lock().unwrap()[2..]
            .iter()
            .all(|x| matches!(x, QuorumEvent::NodeList { .. })),
        "{:#?}",
        log1.lock().unwrap()
    );
    assert_eq!(log_len(&log0), 1, "{:#?}", log0.lock().unwrap());

    // A handle opened on the restarted node sees the same.
    let (on2, log2) = open_quorum_v1(cluster.node(2));
    assert_eq!(on2.quorum_type(), QuorumType::Free);
    assert_eq!(on2.is_quorate(), Ok(true));
    on2.track_start(TrackFlags::CURRENT).unwrap();
    let events = pump_quorum(&on2, &log2, 0, "node 2's current state", |e| e.len() >= 2);
    assert_eq!(
        events,
        [
            QuorumEvent::NodeList {
                ring_id: ring3,
                members: vec![1, 2],
                joined: vec![],
                left: vec![],
            },
            QuorumEvent::Quorum {
                quorate: true,
                ring_id: zero,
                members: vec![],
            }
        ]
    );

    assert_eq!(v1.track_stop(), Ok(()));
    assert_eq!(v0.track_stop(), Ok(()));
    v1.finalize().expect("finalize");
}
