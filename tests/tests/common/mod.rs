//! Code shared by several integration tests: a recording model v1 quorum handle and the
//! loop that dispatches it, and ([`shared`]) a cluster shared by the tests of one file.
//!
//! Each test file that uses it declares `mod common;`; not every file uses every item.

#![allow(dead_code)]

pub mod shared;

use std::sync::Arc;
use std::time::Duration;

use corosync::quorum::Quorum;
use corosync::{DispatchMode, NodeId, RingId};
use corosync_testcluster::{pump, EventLog, Node};

/// How long the tests wait for a notification or a dispatch to come back.
pub const WAIT: Duration = Duration::from_secs(30);

/// An owned copy of one `corosync::quorum` notification, of either model.
#[derive(Debug, Clone, PartialEq)]
pub enum QuorumEvent {
    /// Model v1 quorum notification.
    Quorum {
        quorate: bool,
        ring_id: RingId,
        members: Vec<u32>,
    },
    /// Model v1 node-list notification.
    NodeList {
        ring_id: RingId,
        members: Vec<u32>,
        joined: Vec<u32>,
        left: Vec<u32>,
    },
    /// Model v0 quorum notification.
    QuorumV0 {
        quorate: bool,
        ring_seq: u64,
        members: Vec<u32>,
    },
}

/// The ids of `list`, sorted ascending.
pub fn ids(list: &[NodeId]) -> Vec<u32> {
    let mut ids: Vec<u32> = list.iter().map(|id| id.get()).collect();
    ids.sort_unstable();
    ids
}

/// A model v1 quorum handle on `node` whose closures record every notification.
pub fn open_quorum_v1(node: &Node) -> (Quorum, EventLog<QuorumEvent>) {
    let log: EventLog<QuorumEvent> = Arc::default();
    let (l1, l2) = (log.clone(), log.clone());
    let quorum = node
        .in_namespace(move || {
            Quorum::builder()
                .on_quorum(move |_, n| {
                    l1.lock().unwrap().push(QuorumEvent::Quorum {
                        quorate: n.is_quorate(),
                        ring_id: n.ring_id(),
                        members: ids(n.members()),
                    })
                })
                .on_nodelist(move |_, n| {
                    l2.lock().unwrap().push(QuorumEvent::NodeList {
                        ring_id: n.ring_id(),
                        members: ids(n.members()),
                        joined: ids(n.joined()),
                        left: ids(n.left()),
                    })
                })
                .build()
        })
        .expect("enter the node's namespace")
        .expect("open a model v1 quorum handle");
    (quorum, log)
}

/// [`pump`] for a quorum handle (either model): dispatches `All` until `done` holds for the
/// events recorded after the first `from`, and returns those; panics after [`WAIT`].
pub fn pump_quorum(
    q: &Quorum,
    log: &EventLog<QuorumEvent>,
    from: usize,
    what: &str,
    done: impl Fn(&[QuorumEvent]) -> bool,
) -> Vec<QuorumEvent> {
    pump(
        q,
        |h| h.dispatch(DispatchMode::All),
        log,
        from,
        what,
        WAIT,
        done,
    )
}
