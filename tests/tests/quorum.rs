//! Integration tests of `corosync::quorum` against real clusters.
//!
//! One 2-node cluster: model v1 and model v0 handles side by side; every `DispatchFlags`
//! value; a node killed (joined / left lists, quorum lost, a blocking dispatch ending with
//! its daemon) and restarted. The agreement of this library with votequorum during quorum
//! loss and regain on 3 nodes is checked in `votequorum.rs`.
//!
//! Not tested here: `QuorumType::Free` (no `quorum.provider`), because the harness waits for
//! `corosync-quorumtool -s` to answer after a restart, and corosync 3.1.7's tool fails
//! without a provider (it calls votequorum anyway and reports CS_ERR_BAD_HANDLE).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ids, open_quorum_v1, pump_quorum, QuorumEvent, WAIT};
use corosync::quorum::{Quorum, QuorumType};
use corosync::{DispatchFlags, Dispatched, Error, TrackFlags};
use corosync_tests::{log_len, Cluster, EventLog, Node};

/// A model v0 handle on `node` recording every notification.
fn open_v0(node: &Node) -> (Quorum, EventLog<QuorumEvent>) {
    let log: EventLog<QuorumEvent> = Arc::default();
    let l = log.clone();
    let quorum = node
        .in_namespace(move || {
            Quorum::new_v0(move |_, n| {
                l.lock().unwrap().push(QuorumEvent::QuorumV0 {
                    quorate: n.quorate,
                    ring_seq: n.ring_seq,
                    members: ids(n.members),
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
        v1.dispatch(DispatchFlags::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(v1.dispatch(DispatchFlags::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 0);

    // trackstart(CURRENT) queues model v1's node-list then quorum notification before it
    // returns: One processes one, OneNonBlocking the other, then finds nothing.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchFlags::One), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 1);
    assert_eq!(
        v1.dispatch(DispatchFlags::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        v1.dispatch(DispatchFlags::OneNonBlocking),
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
    assert_eq!(v1.dispatch(DispatchFlags::All), Ok(Dispatched::Processed));
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
        let result = on2.dispatch(DispatchFlags::Blocking);
        let _ = tx.send((result, on2.is_quorate()));
    });

    // One waits for an event: it returns once node 2 is gone.
    v1.track_start(TrackFlags::CHANGES_ONLY).unwrap();
    assert_eq!(v1.dispatch(DispatchFlags::All), Ok(Dispatched::Processed));
    assert_eq!(log_len(&log1), 4, "CHANGES_ONLY sends no current state");
    let mark0 = log_len(&log0);
    let (tx1, rx1) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let result = v1.dispatch(DispatchFlags::One);
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
    assert_eq!(blocking, Err(Error::Library));
    assert_eq!(after, Err(Error::Library));

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
