//! The nodes of a quorum notification and their states.

use std::fmt;

use corosync_sys as sys;

use crate::c_enum::c_enum;

use crate::NodeId;

use super::QDEVICE_NODE_ID;

c_enum! {
    /// What a node is to votequorum (`VOTEQUORUM_NODESTATE_*`). Its
    /// [`Display`](std::fmt::Display) is lower-case words: "member", "dead", "leaving", or
    /// "unknown (N)".
    ///
    /// ```
    /// use corosync::votequorum::NodeState;
    /// assert_eq!(NodeState::from(1), NodeState::Member);
    /// assert_eq!(NodeState::from(9), NodeState::Unknown(9));
    /// assert_eq!(NodeState::Dead.raw(), 2);
    /// ```
    #[non_exhaustive]
    pub enum NodeState: u32;
    path: "corosync::votequorum::NodeState";
    /// A member of the current membership (`VOTEQUORUM_NODESTATE_MEMBER`).
    Member = sys::VOTEQUORUM_NODESTATE_MEMBER => "member",
    /// Known from the configuration or an earlier membership, but not a member now
    /// (`VOTEQUORUM_NODESTATE_DEAD`).
    Dead = sys::VOTEQUORUM_NODESTATE_DEAD => "dead",
    /// Leaving the cluster cleanly (`VOTEQUORUM_NODESTATE_LEAVING`).
    Leaving = sys::VOTEQUORUM_NODESTATE_LEAVING => "leaving",
}

/// One entry of a quorum notification's node list: a node id and its state. A view of the
/// C `votequorum_node_t`, borrowed from the library's buffer without copying.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_quorum(|_, n| {
///         for node in n.nodes() {
///             println!("{} is {}", node.node_id(), node.state());
///         }
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Node(sys::votequorum_node_t);

impl Node {
    /// The node's id ([`QDEVICE_NODE_ID`] for the quorum device).
    ///
    /// ```no_run
    /// # fn f(node: &corosync::votequorum::Node) {
    /// println!("{}", node.node_id());
    /// # }
    /// ```
    pub fn node_id(&self) -> NodeId {
        NodeId::from(self.0.nodeid)
    }

    /// The node's state.
    ///
    /// ```no_run
    /// # fn f(node: &corosync::votequorum::Node) {
    /// use corosync::votequorum::NodeState;
    /// if node.state() == NodeState::Member { /* ... */ }
    /// # }
    /// ```
    pub fn state(&self) -> NodeState {
        NodeState::from(self.0.state)
    }

    /// Whether this entry is the quorum device's pseudo node (node id 0), which the daemon
    /// lists after the real nodes while a device is registered on this node.
    ///
    /// ```no_run
    /// # fn f(node: &corosync::votequorum::Node) {
    /// let real_node = !node.is_qdevice();
    /// # }
    /// ```
    pub fn is_qdevice(&self) -> bool {
        self.node_id() == QDEVICE_NODE_ID
    }

    /// Reinterprets the C list in place.
    pub(super) fn from_raw_slice(nodes: &[sys::votequorum_node_t]) -> &[Node] {
        // SAFETY: Node is repr(transparent) over votequorum_node_t: same layout.
        unsafe { std::slice::from_raw_parts(nodes.as_ptr().cast::<Node>(), nodes.len()) }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("node_id", &self.node_id())
            .field("state", &self.state())
            .finish()
    }
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.0.nodeid == other.0.nodeid && self.0.state == other.0.state
    }
}

impl Eq for Node {}

impl std::hash::Hash for Node {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0.nodeid, self.0.state).hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_states_round_trip() {
        for raw in 0..6 {
            assert_eq!(NodeState::from(raw).raw(), raw);
        }
        assert_eq!(NodeState::from(2), NodeState::Dead);
        assert_eq!(NodeState::Unknown(77).to_string(), "unknown (77)");
    }

    #[test]
    fn node_views_keep_values() {
        let raw = [
            sys::votequorum_node_t {
                nodeid: 3,
                state: 1,
            },
            sys::votequorum_node_t {
                nodeid: 0,
                state: 9,
            },
        ];
        let nodes = Node::from_raw_slice(&raw);
        assert_eq!(nodes[0].node_id(), NodeId::from(3));
        assert_eq!(nodes[0].state(), NodeState::Member);
        assert!(!nodes[0].is_qdevice());
        assert!(nodes[1].is_qdevice());
        assert_eq!(nodes[1].state(), NodeState::Unknown(9));
    }
}
