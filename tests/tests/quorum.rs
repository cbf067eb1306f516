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

use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corosync::quorum::{Quorum, QuorumType};
use corosync::{DispatchFlags, Dispatched, Error, NodeId, RingId, TrackFlags};
use corosync_tests::{Cluster, Node};

const WAIT: Duration = Duration::from_secs(30);

/// An owned copy of one notification of either model.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Quorum {
        quorate: bool,
        ring_id: RingId,
        members: Vec<u32>,
    },
    NodeList {
        ring_id: RingId,
        members: Vec<u32>,
        joined: Vec<u32>,
        left: Vec<u32>,
    },
    QuorumV0 {
        quorate: bool,
        ring_seq: u64,
        members: Vec<u32>,
    },
}

type Log = Arc<Mutex<Vec<Event>>>;

fn ids(list: &[NodeId]) -> Vec<u32> {
    let mut ids: Vec<u32> = list.iter().map(|id| id.get()).collect();
    ids.sort_unstable();
    ids
}

/// A model v1 handle on `node` recording every notification.
fn open_v1(node: &Node) -> (Quorum, Log) {
    let log: Log = Arc::default();
    let (l1, l2) = (log.clone(), log.clone());
    let quorum = node
        .in_namespace(move || {
            Quorum::builder()
                .on_quorum(move |_, n| {
                    l1.lock().unwrap().push(Event::Quorum {
                        quorate: n.quorate,
                        ring_id: n.ring_id,
                        members: ids(n.members),
                    })
                })
                .on_nodelist(move |_, n| {
                    l2.lock().unwrap().push(Event::NodeList {
                        ring_id: n.ring_id,
                        members: ids(n.members),
                        joined: ids(n.joined),
                        left: ids(n.left),
                    })
                })
                .build()
        })
        .expect("enter the node's namespace")
        .expect("open a model v1 quorum handle");
    (quorum, log)
}

/// A model v0 handle on `node` recording every notification.
fn open_v0(node: &Node) -> (Quorum, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let quorum = node
        .in_namespace(move || {
            Quorum::new_v0(move |_, n| {
                l.lock().unwrap().push(Event::QuorumV0 {
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

fn len(log: &Log) -> usize {
    log.lock().unwrap().len()
}

/// Dispatches (`All`, when the fd is readable) until `done` holds for the events recorded
/// after the first `from`; returns those events.
fn pump(
    q: &Quorum,
    log: &Log,
    from: usize,
    what: &str,
    done: impl Fn(&[Event]) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + WAIT;
    loop {
        let events = log.lock().unwrap()[from..].to_vec();
        if done(&events) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; events so far: {events:#?}"
        );
        let mut pfd = libc::pollfd {
            fd: q.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 200) };
        q.dispatch(DispatchFlags::All).expect("dispatch");
    }
}

#[test]
fn models_membership_and_dispatch_flags() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");
    let (v1, log1) = open_v1(cluster.node(1));
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
    assert_eq!(len(&log1), 0);

    // trackstart(CURRENT) queues model v1's node-list then quorum notification before it
    // returns: One processes one, OneNonBlocking the other, then finds nothing.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchFlags::One), Ok(Dispatched::Processed));
    assert_eq!(len(&log1), 1);
    assert_eq!(
        v1.dispatch(DispatchFlags::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        v1.dispatch(DispatchFlags::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    let first = log1.lock().unwrap().clone();
    let Event::NodeList { ring_id: ring, .. } = first[0].clone() else {
        panic!("node list first: {first:?}")
    };
    assert_eq!(
        first,
        [
            Event::NodeList {
                ring_id: ring,
                members: vec![1, 2],
                joined: vec![],
                left: vec![],
            },
            Event::Quorum {
                quorate: true,
                ring_id: ring,
                members: vec![1, 2],
            }
        ]
    );
    // All processes everything pending.
    v1.track_start(TrackFlags::CURRENT).unwrap();
    assert_eq!(v1.dispatch(DispatchFlags::All), Ok(Dispatched::Processed));
    assert_eq!(len(&log1), 4);

    // Model v0: one notification with the ring's sequence number only.
    v0.track_start(TrackFlags::CHANGES).unwrap();
    let events = pump(&v0, &log0, 0, "the v0 current state", |e| !e.is_empty());
    assert_eq!(
        events,
        [Event::QuorumV0 {
            quorate: true,
            ring_seq: ring.seq,
            members: vec![1, 2]
        }]
    );
    assert_eq!(v0.track_start(TrackFlags::CHANGES), Err(Error::Exist));

    // A blocking dispatch on node 2 runs until its daemon dies.
    let (on2, _) = open_v1(cluster.node(2));
    on2.track_start(TrackFlags::CHANGES).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = on2.dispatch(DispatchFlags::Blocking);
        let _ = tx.send((result, on2.is_quorate()));
    });

    // One waits for an event: it returns once node 2 is gone.
    v1.track_start(TrackFlags::CHANGES_ONLY).unwrap();
    assert_eq!(v1.dispatch(DispatchFlags::All), Ok(Dispatched::Processed));
    assert_eq!(len(&log1), 4, "CHANGES_ONLY sends no current state");
    let mark0 = len(&log0);
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
    assert_eq!(len(&log1), 5);

    // Node 1 alone: the node list says 2 left, and without two_node quorum is lost.
    let events = pump(&v1, &log1, 4, "node 2 to leave", |e| {
        e.iter()
            .any(|x| matches!(x, Event::Quorum { quorate: false, members, .. } if members == &[1]))
    });
    let Event::NodeList {
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
    let events = pump(&v0, &log0, mark0, "v0: quorum lost", |e| {
        e.iter()
            .any(|x| matches!(x, Event::QuorumV0 { quorate: false, .. }))
    });
    assert!(events.contains(&Event::QuorumV0 {
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
    let mark1 = len(&log1);
    cluster.restart(2).expect("restart node 2");
    let events = pump(&v1, &log1, mark1, "node 2 to join", |e| {
        e.iter().any(
            |x| matches!(x, Event::Quorum { quorate: true, members, .. } if members == &[1, 2]),
        )
    });
    assert!(
        events.iter().any(
            |x| matches!(x, Event::NodeList { joined, left, members, .. }
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
