//! The notifications a [`Votequorum`] handle's closures receive.

use crate::{NodeId, RingId};

use super::Node;
#[cfg(doc)]
use super::Votequorum;

/// A quorum notification: whether the partition is quorate, and every node votequorum knows
/// with its state (members, nodes seen before or configured that are dead now, and the quorum
/// device's pseudo node while one is registered on this node).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// use corosync::votequorum::{NodeState, Votequorum};
/// let vq = Votequorum::builder()
///     .on_quorum(|_, n| {
///         let members = n.nodes().iter().filter(|x| x.state() == NodeState::Member).count();
///         println!("quorate {} with {members} members (context {})", n.is_quorate(), n.context());
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuorumNotification<'a> {
    pub(crate) context: u64,
    pub(crate) quorate: bool,
    pub(crate) nodes: &'a [Node],
}

/// A node-list notification: the members of the current membership and its ring id.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_nodelist(|_, n| println!("ring {} has {} members", n.ring_id(), n.members().len()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeListNotification<'a> {
    pub(crate) context: u64,
    pub(crate) ring_id: RingId,
    pub(crate) members: &'a [NodeId],
}

/// An expected-votes notification: the node's expected votes changed (for example by
/// [`Votequorum::set_expected_votes`] on any node, or a node with more votes joining).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_expected_votes(|_, n| println!("expected votes now {}", n.expected_votes()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpectedVotesNotification {
    pub(crate) context: u64,
    pub(crate) expected_votes: u32,
}

impl ExpectedVotesNotification {
    /// The context given to the [`track_start`](super::Votequorum::track_start) this
    /// notification answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::ExpectedVotesNotification = unimplemented!();
    /// println!("{}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The new expected votes.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::ExpectedVotesNotification = unimplemented!();
    /// println!("{}", n.expected_votes());
    /// ```
    pub fn expected_votes(&self) -> u32 {
        self.expected_votes
    }
}

impl<'a> QuorumNotification<'a> {
    /// The context given to the [`track_start`](super::Votequorum::track_start) this
    /// notification answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{:?}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The nodes and their states.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{:?}", n.nodes());
    /// ```
    pub fn nodes(&self) -> &'a [Node] {
        self.nodes
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QuorumNotification<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedQuorumNotification {
        OwnedQuorumNotification {
            context: self.context,
            quorate: self.quorate,
            nodes: self.nodes.to_vec(),
        }
    }
}

/// [`QuorumNotification`] owning its lists: what [`QuorumNotification::into_owned`] makes and what [`Event::Quorum`] carries. It has the
/// accessors of [`QuorumNotification`].
///
/// ```no_run
/// use corosync::votequorum::{Event, Votequorum};
/// let vq = Votequorum::pull()?;
/// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::Quorum(n)) = vq.next_event(None)? {
///     println!("{:?}", n);
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedQuorumNotification {
    context: u64,
    quorate: bool,
    nodes: Vec<Node>,
}

impl OwnedQuorumNotification {
    /// The context given to the [`track_start`](super::Votequorum::track_start) this
    /// notification answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{:?}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The nodes and their states.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{:?}", n.nodes());
    /// ```
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
}

impl From<QuorumNotification<'_>> for OwnedQuorumNotification {
    fn from(view: QuorumNotification<'_>) -> OwnedQuorumNotification {
        view.into_owned()
    }
}

impl<'a> NodeListNotification<'a> {
    /// The context given to the [`track_start`](super::Votequorum::track_start) this
    /// notification answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{:?}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The ring id of the membership: what a quorum device must pass to
    /// [`qdevice_poll`](super::Votequorum::qdevice_poll).
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{}", corosync::NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &'a [NodeId] {
        self.members
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::NodeListNotification<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedNodeListNotification {
        OwnedNodeListNotification {
            context: self.context,
            ring_id: self.ring_id,
            members: self.members.to_vec(),
        }
    }
}

/// [`NodeListNotification`] owning its lists: what [`NodeListNotification::into_owned`] makes and what [`Event::NodeList`] carries. It has the
/// accessors of [`NodeListNotification`].
///
/// ```no_run
/// use corosync::votequorum::{Event, Votequorum};
/// let vq = Votequorum::pull()?;
/// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::NodeList(n)) = vq.next_event(None)? {
///     println!("{:?}", n);
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedNodeListNotification {
    context: u64,
    ring_id: RingId,
    members: Vec<NodeId>,
}

impl OwnedNodeListNotification {
    /// The context given to the [`track_start`](super::Votequorum::track_start) this
    /// notification answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{:?}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The ring id of the membership: what a quorum device must pass to
    /// [`qdevice_poll`](super::Votequorum::qdevice_poll).
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{}", corosync::NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }
}

impl From<NodeListNotification<'_>> for OwnedNodeListNotification {
    fn from(view: NodeListNotification<'_>) -> OwnedNodeListNotification {
        view.into_owned()
    }
}

/// One event of a [`Votequorum`](super::Votequorum) handle, owned: what
/// [`Votequorum::next_event`](super::Votequorum::next_event) returns.
///
/// ```no_run
/// use corosync::votequorum::{Event, Votequorum};
/// use corosync::NodeId;
/// let vq = Votequorum::pull()?;
/// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
/// while let Some(event) = vq.next_event(None)? {
///     match event {
///         Event::Quorum(n) => println!("quorate: {}", n.is_quorate()),
///         Event::NodeList(n) => println!("members: {}", NodeId::display_list(n.members())),
///         Event::ExpectedVotes(n) => println!("expected votes: {}", n.expected_votes()),
///         Event::Reconnected(_) => println!("reconnected: call track_start again"),
///         _ => {}
///     }
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A quorum notification.
    Quorum(OwnedQuorumNotification),
    /// A node-list notification.
    NodeList(OwnedNodeListNotification),
    /// An expected-votes notification.
    ExpectedVotes(ExpectedVotesNotification),
    /// The handle was reconnected ([`Votequorum::reconnect`](super::Votequorum::reconnect)):
    /// events may have been missed, and tracking must be started again.
    Reconnected(crate::Reconnected),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_become_owned() {
        let raw = [corosync_sys::votequorum_node_t {
            nodeid: 2,
            state: 1,
        }];
        let nodes = Node::from_raw_slice(&raw);
        let quorum = QuorumNotification {
            context: 9,
            quorate: true,
            nodes,
        };
        let owned = OwnedQuorumNotification::from(quorum);
        assert_eq!(
            (owned.context(), owned.is_quorate(), owned.nodes()),
            (quorum.context(), quorum.is_quorate(), quorum.nodes())
        );
        let members = [NodeId::from(1), NodeId::from(2)];
        let list = NodeListNotification {
            context: 4,
            ring_id: RingId {
                node_id: NodeId::from(1),
                seq: 8,
            },
            members: &members,
        };
        let owned = list.into_owned();
        assert_eq!(
            (owned.context(), owned.ring_id(), owned.members()),
            (list.context(), list.ring_id(), list.members())
        );
        fn check<T: Send + Clone + std::fmt::Debug + PartialEq + 'static>() {}
        check::<Event>();
    }
}
