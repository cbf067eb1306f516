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
///         let members = n.nodes.iter().filter(|x| x.state() == NodeState::Member).count();
///         println!("quorate {} with {members} members (context {})", n.quorate, n.context);
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuorumNotification<'a> {
    /// The context given to the [`track_start`](Votequorum::track_start) this notification
    /// answers.
    pub context: u64,
    /// Whether the partition is quorate.
    pub quorate: bool,
    /// The nodes and their states, borrowed from the library's buffer.
    pub nodes: &'a [Node],
}

/// A node-list notification: the members of the current membership and its ring id.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_nodelist(|_, n| println!("ring {} has {} members", n.ring_id, n.members.len()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeListNotification<'a> {
    /// The context given to the [`track_start`](Votequorum::track_start) this notification
    /// answers.
    pub context: u64,
    /// The ring id of the membership: what a quorum device must pass to
    /// [`qdevice_poll`](Votequorum::qdevice_poll).
    pub ring_id: RingId,
    /// The member node ids, borrowed from the library's buffer.
    pub members: &'a [NodeId],
}

/// An expected-votes notification: the node's expected votes changed (for example by
/// [`Votequorum::set_expected_votes`] on any node, or a node with more votes joining).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_expected_votes(|_, n| println!("expected votes now {}", n.expected_votes))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpectedVotesNotification {
    /// The context given to the [`track_start`](Votequorum::track_start) this notification
    /// answers.
    pub context: u64,
    /// The new expected votes.
    pub expected_votes: u32,
}
