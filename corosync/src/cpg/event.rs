//! Borrowed views of the data libcpg hands to callbacks.

use std::fmt;

use corosync_sys as sys;

use crate::c_enum::c_enum;

use super::GroupName;
use crate::{NodeId, RingId};

c_enum! {
    /// Why a process appears in a configuration change (C's `cpg_reason_t`).
    ///
    /// Values this build does not know are kept in [`Reason::Unknown`]. Its
    /// [`Display`](fmt::Display) is lower-case words, as corosync's own test programs print
    /// them.
    ///
    /// ```
    /// use corosync::cpg::Reason;
    /// assert_eq!(Reason::from(5), Reason::ProcDown);
    /// assert_eq!(Reason::from(42), Reason::Unknown(42));
    /// assert_eq!(Reason::NodeDown.raw(), 3);
    /// assert_eq!(Reason::NodeDown.to_string(), "node down");
    /// ```
    #[non_exhaustive]
    #[doc(alias = "cpg_reason_t")]
    pub enum Reason: u32;
    path: "corosync::cpg::Reason";
    /// No reason given (`CPG_REASON_UNDEFINED`): members of the `members` list, and
    /// [`Cpg::membership`](super::Cpg::membership) entries.
    Undefined = sys::CPG_REASON_UNDEFINED => "undefined",
    /// The process called `join` (`CPG_REASON_JOIN`).
    Join = sys::CPG_REASON_JOIN => "join",
    /// The process called `leave` (`CPG_REASON_LEAVE`).
    Leave = sys::CPG_REASON_LEAVE => "leave",
    /// The process's node left the cluster membership (`CPG_REASON_NODEDOWN`).
    NodeDown = sys::CPG_REASON_NODEDOWN => "node down",
    /// The process's node joined the cluster membership, bringing its groups
    /// (`CPG_REASON_NODEUP`).
    NodeUp = sys::CPG_REASON_NODEUP => "node up",
    /// The process exited or closed its connection without leaving (`CPG_REASON_PROCDOWN`).
    ProcDown = sys::CPG_REASON_PROCDOWN => "process down",
}

/// One process in a group: node id, pid and, in configuration changes, why it is listed
/// (C's `struct cpg_address`, borrowed in place).
///
/// ```no_run
/// use corosync::cpg::Cpg;
/// let cpg = Cpg::new()?;
/// for member in cpg.membership(&"chat".parse()?)? {
///     println!("node {} pid {}", member.node_id(), member.pid());
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Address(sys::cpg_address);

impl Address {
    /// A process address, e.g. to compare with what callbacks report.
    ///
    /// ```
    /// use corosync::{cpg::{Address, Reason}, NodeId};
    /// let a = Address::new(NodeId::from(2), 4242, Reason::Join);
    /// assert_eq!((a.node_id().get(), a.pid(), a.reason()), (2, 4242, Reason::Join));
    /// ```
    pub fn new(node_id: NodeId, pid: u32, reason: Reason) -> Address {
        Address(sys::cpg_address {
            nodeid: node_id.get(),
            pid,
            reason: reason.raw(),
        })
    }

    /// The node the process runs on.
    ///
    /// ```
    /// # use corosync::{cpg::{Address, Reason}, NodeId};
    /// assert_eq!(Address::new(NodeId::from(1), 7, Reason::Leave).node_id(), NodeId::from(1));
    /// ```
    pub fn node_id(&self) -> NodeId {
        NodeId::from(self.0.nodeid)
    }

    /// The process id on that node.
    ///
    /// ```
    /// # use corosync::{cpg::{Address, Reason}, NodeId};
    /// assert_eq!(Address::new(NodeId::from(1), 7, Reason::Leave).pid(), 7);
    /// ```
    pub fn pid(&self) -> u32 {
        self.0.pid
    }

    /// Why it is listed; [`Reason::Undefined`] in member lists.
    ///
    /// ```
    /// # use corosync::{cpg::{Address, Reason}, NodeId};
    /// assert_eq!(Address::new(NodeId::from(1), 7, Reason::Leave).reason(), Reason::Leave);
    /// ```
    pub fn reason(&self) -> Reason {
        Reason::from(self.0.reason)
    }

    /// Reinterprets a C list in place.
    pub(crate) fn from_raw_slice(raw: &[sys::cpg_address]) -> &[Address] {
        // SAFETY: Address is repr(transparent) over sys::cpg_address: same layout.
        unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<Address>(), raw.len()) }
    }

    pub(crate) fn zeroed() -> Address {
        Address(sys::cpg_address::default())
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Address) -> bool {
        (self.0.nodeid, self.0.pid, self.0.reason) == (other.0.nodeid, other.0.pid, other.0.reason)
    }
}

impl Eq for Address {}

impl std::hash::Hash for Address {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0.nodeid, self.0.pid, self.0.reason).hash(state);
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("node_id", &self.0.nodeid)
            .field("pid", &self.0.pid)
            .field("reason", &self.reason())
            .finish()
    }
}

/// A message delivered to a group this handle joined: who sent it and its bytes, borrowed
/// from libcpg's receive buffer for the duration of the callback.
///
/// ```no_run
/// use corosync::cpg::Cpg;
/// let cpg = Cpg::builder()
///     .on_deliver(|_cpg, msg| {
///         println!("{} bytes from node {} pid {} in {}",
///             msg.data().len(), msg.node_id(), msg.pid(), msg.group());
///     })
///     .build()?;
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message<'a> {
    pub(crate) group: &'a GroupName,
    pub(crate) node_id: NodeId,
    pub(crate) pid: u32,
    pub(crate) data: &'a [u8],
}

impl<'a> Message<'a> {
    /// The group the message was sent to.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_deliver(|_, msg| {
    /// println!("{}", msg.group());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn group(&self) -> &'a GroupName {
        self.group
    }

    /// The sender's node.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_deliver(|_, msg| {
    /// println!("{}", msg.node_id());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The sender's process id on its node.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_deliver(|_, msg| {
    /// println!("{}", msg.pid());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The message, exactly as sent (possibly empty).
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_deliver(|_, msg| {
    /// println!("{}", String::from_utf8_lossy(msg.data()));
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

/// A change of a group's membership (C's confchg callback): the members after the change,
/// and who left and joined, with the reason. All lists are borrowed from libcpg.
///
/// ```no_run
/// use corosync::cpg::Cpg;
/// let cpg = Cpg::builder()
///     .on_confchg(|_cpg, change| {
///         for left in change.left() {
///             println!("node {} pid {} left: {}", left.node_id(), left.pid(), left.reason());
///         }
///         println!("{} has {} members", change.group(), change.members().len());
///     })
///     .build()?;
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigChange<'a> {
    pub(crate) group: &'a GroupName,
    pub(crate) members: &'a [Address],
    pub(crate) left: &'a [Address],
    pub(crate) joined: &'a [Address],
}

impl<'a> ConfigChange<'a> {
    /// The group whose membership changed.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_confchg(|_, change| {
    /// println!("{}", change.group());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn group(&self) -> &'a GroupName {
        self.group
    }

    /// Every member after the change (reason [`Reason::Undefined`]), in the daemon's order,
    /// which is the same on every node.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_confchg(|_, change| {
    /// println!("{} members", change.members().len());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn members(&self) -> &'a [Address] {
        self.members
    }

    /// The processes that left, each with why ([`Reason::Leave`], [`Reason::ProcDown`],
    /// [`Reason::NodeDown`]).
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_confchg(|_, change| {
    /// println!("{} left", change.left().len());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn left(&self) -> &'a [Address] {
        self.left
    }

    /// The processes that joined ([`Reason::Join`], or [`Reason::NodeUp`] when a node
    /// brought them).
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_confchg(|_, change| {
    /// println!("{} joined", change.joined().len());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn joined(&self) -> &'a [Address] {
        self.joined
    }
}

/// A change of the cluster's (totem) membership: the new ring id and the node ids in it.
///
/// Delivered to handles that joined a group; with
/// [`deliver_initial_totem_conf`](super::Builder::deliver_initial_totem_conf) also once
/// right after `join`, with the current membership.
///
/// ```no_run
/// use corosync::cpg::Cpg;
/// use corosync::NodeId;
/// let cpg = Cpg::builder()
///     .on_totem_confchg(|_cpg, ring| {
///         println!("ring {}: nodes {}", ring.ring_id(), NodeId::display_list(ring.members()));
///     })
///     .build()?;
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotemConfigChange<'a> {
    pub(crate) ring_id: RingId,
    pub(crate) members: &'a [NodeId],
}

impl<'a> TotemConfigChange<'a> {
    /// The ring id of the new membership.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_totem_confchg(|_, ring| {
    /// println!("{}", ring.ring_id());
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The node ids in the new membership.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::builder().on_totem_confchg(|_, ring| {
    /// println!("{}", corosync::NodeId::display_list(ring.members()));
    /// # }).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn members(&self) -> &'a [NodeId] {
        self.members
    }
}

impl Message<'_> {
    /// Copies the message out of libcpg's buffer.
    ///
    /// ```no_run
    /// let mut kept = Vec::new();
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_deliver(move |_cpg, msg| kept.push(msg.into_owned()))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn into_owned(self) -> OwnedMessage {
        OwnedMessage {
            group: *self.group,
            node_id: self.node_id,
            pid: self.pid,
            data: self.data.to_vec(),
        }
    }
}

/// A delivered message that owns its bytes: what [`Message::into_owned`] makes and what
/// [`Event::Message`] carries. It has the accessors of [`Message`].
///
/// ```no_run
/// use corosync::cpg::{Cpg, Event, GroupName};
/// let cpg = Cpg::pull()?;
/// cpg.join(&GroupName::new("demo")?)?;
/// if let Some(Event::Message(msg)) = cpg.next_event(None)? {
///     println!("{} bytes from node {}", msg.data().len(), msg.node_id());
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedMessage {
    group: GroupName,
    node_id: NodeId,
    pid: u32,
    data: Vec<u8>,
}

impl OwnedMessage {
    /// The group the message was sent to.
    ///
    /// ```no_run
    /// # let msg: corosync::cpg::OwnedMessage = unimplemented!();
    /// println!("in {}", msg.group());
    /// ```
    pub fn group(&self) -> &GroupName {
        &self.group
    }

    /// The sender's node.
    ///
    /// ```no_run
    /// # let msg: corosync::cpg::OwnedMessage = unimplemented!();
    /// println!("from node {}", msg.node_id());
    /// ```
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The sender's process id on its node.
    ///
    /// ```no_run
    /// # let msg: corosync::cpg::OwnedMessage = unimplemented!();
    /// println!("from pid {}", msg.pid());
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The message's bytes.
    ///
    /// ```no_run
    /// # let msg: corosync::cpg::OwnedMessage = unimplemented!();
    /// println!("{:?}", msg.data());
    /// ```
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The message's bytes, taken out of the event without a copy.
    ///
    /// ```no_run
    /// # let msg: corosync::cpg::OwnedMessage = unimplemented!();
    /// let bytes: Vec<u8> = msg.into_data();
    /// ```
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The message as the view a deliver closure gets.
    pub(crate) fn view(&self) -> Message<'_> {
        Message {
            group: &self.group,
            node_id: self.node_id,
            pid: self.pid,
            data: &self.data,
        }
    }
}

impl From<Message<'_>> for OwnedMessage {
    fn from(view: Message<'_>) -> OwnedMessage {
        view.into_owned()
    }
}

impl ConfigChange<'_> {
    /// Copies the change out of libcpg's buffer.
    ///
    /// ```no_run
    /// let mut kept = Vec::new();
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_confchg(move |_cpg, change| kept.push(change.into_owned()))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn into_owned(self) -> OwnedConfigChange {
        OwnedConfigChange {
            group: *self.group,
            members: self.members.to_vec(),
            left: self.left.to_vec(),
            joined: self.joined.to_vec(),
        }
    }
}

/// A group membership change that owns its lists: what [`ConfigChange::into_owned`] makes
/// and what [`Event::ConfigChange`] carries. It has the accessors of [`ConfigChange`].
///
/// ```no_run
/// use corosync::cpg::{Cpg, Event, GroupName};
/// let cpg = Cpg::pull()?;
/// cpg.join(&GroupName::new("demo")?)?;
/// if let Some(Event::ConfigChange(change)) = cpg.next_event(None)? {
///     println!("{} members, {} joined", change.members().len(), change.joined().len());
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedConfigChange {
    group: GroupName,
    members: Vec<Address>,
    left: Vec<Address>,
    joined: Vec<Address>,
}

impl OwnedConfigChange {
    /// The group whose membership changed.
    ///
    /// ```no_run
    /// # let change: corosync::cpg::OwnedConfigChange = unimplemented!();
    /// println!("{}", change.group());
    /// ```
    pub fn group(&self) -> &GroupName {
        &self.group
    }

    /// The members after the change.
    ///
    /// ```no_run
    /// # let change: corosync::cpg::OwnedConfigChange = unimplemented!();
    /// println!("{} members", change.members().len());
    /// ```
    pub fn members(&self) -> &[Address] {
        &self.members
    }

    /// The processes that left, each with its reason.
    ///
    /// ```no_run
    /// # let change: corosync::cpg::OwnedConfigChange = unimplemented!();
    /// for gone in change.left() {
    ///     println!("node {} pid {}: {}", gone.node_id(), gone.pid(), gone.reason());
    /// }
    /// ```
    pub fn left(&self) -> &[Address] {
        &self.left
    }

    /// The processes that joined.
    ///
    /// ```no_run
    /// # let change: corosync::cpg::OwnedConfigChange = unimplemented!();
    /// println!("{} joined", change.joined().len());
    /// ```
    pub fn joined(&self) -> &[Address] {
        &self.joined
    }

    /// The change as the view a confchg closure gets.
    pub(crate) fn view(&self) -> ConfigChange<'_> {
        ConfigChange {
            group: &self.group,
            members: &self.members,
            left: &self.left,
            joined: &self.joined,
        }
    }
}

impl From<ConfigChange<'_>> for OwnedConfigChange {
    fn from(view: ConfigChange<'_>) -> OwnedConfigChange {
        view.into_owned()
    }
}

impl TotemConfigChange<'_> {
    /// Copies the change out of libcpg's buffer.
    ///
    /// ```no_run
    /// let mut kept = Vec::new();
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_totem_confchg(move |_cpg, ring| kept.push(ring.into_owned()))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn into_owned(self) -> OwnedTotemConfigChange {
        OwnedTotemConfigChange {
            ring_id: self.ring_id,
            members: self.members.to_vec(),
        }
    }
}

/// A totem membership change that owns its node list: what
/// [`TotemConfigChange::into_owned`] makes and what [`Event::TotemConfigChange`] carries. It
/// has the accessors of [`TotemConfigChange`].
///
/// ```no_run
/// use corosync::cpg::{Cpg, Event};
/// use corosync::NodeId;
/// let cpg = Cpg::pull()?;
/// if let Some(Event::TotemConfigChange(ring)) = cpg.next_event(None)? {
///     println!("ring {}: {}", ring.ring_id(), NodeId::display_list(ring.members()));
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedTotemConfigChange {
    ring_id: RingId,
    members: Vec<NodeId>,
}

impl OwnedTotemConfigChange {
    /// The ring id of the new membership.
    ///
    /// ```no_run
    /// # let ring: corosync::cpg::OwnedTotemConfigChange = unimplemented!();
    /// println!("{}", ring.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The nodes of the new membership.
    ///
    /// ```no_run
    /// # let ring: corosync::cpg::OwnedTotemConfigChange = unimplemented!();
    /// println!("{}", corosync::NodeId::display_list(ring.members()));
    /// ```
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The change as the view a totem confchg closure gets.
    pub(crate) fn view(&self) -> TotemConfigChange<'_> {
        TotemConfigChange {
            ring_id: self.ring_id,
            members: &self.members,
        }
    }
}

impl From<TotemConfigChange<'_>> for OwnedTotemConfigChange {
    fn from(view: TotemConfigChange<'_>) -> OwnedTotemConfigChange {
        view.into_owned()
    }
}

/// One event of a [`Cpg`](super::Cpg) handle, owned: what
/// [`Cpg::next_event`](super::Cpg::next_event) returns.
///
/// ```no_run
/// use corosync::cpg::{Cpg, Event, GroupName};
/// let cpg = Cpg::pull()?;
/// cpg.join(&GroupName::new("demo")?)?;
/// while let Some(event) = cpg.next_event(None)? {
///     match event {
///         Event::Message(msg) => println!("{:?}", msg.data()),
///         Event::ConfigChange(change) => println!("{} members", change.members().len()),
///         Event::TotemConfigChange(ring) => println!("ring {}", ring.ring_id()),
///         Event::Reconnected(_) => println!("reconnected: events may have been missed"),
///         _ => {}
///     }
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message delivered to the joined group.
    Message(OwnedMessage),
    /// Processes joined or left the joined group.
    ConfigChange(OwnedConfigChange),
    /// The totem membership changed.
    TotemConfigChange(OwnedTotemConfigChange),
    /// The handle was reconnected ([`Cpg::reconnect`](super::Cpg::reconnect)): events may
    /// have been missed, and the new connection is in no group until it joins again.
    Reconnected(crate::Reconnected),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_keep_unknown_values() {
        for raw in 0..8 {
            assert_eq!(Reason::from(raw).raw(), raw);
        }
        assert_eq!(Reason::from(3), Reason::NodeDown);
        assert_eq!(Reason::from(99).to_string(), "unknown (99)");
    }

    #[test]
    fn addresses_are_borrowed_in_place() {
        let raw = [
            sys::cpg_address {
                nodeid: 1,
                pid: 10,
                reason: 1,
            },
            sys::cpg_address {
                nodeid: 2,
                pid: 20,
                reason: 77,
            },
        ];
        let list = Address::from_raw_slice(&raw);
        assert_eq!(list.as_ptr().cast::<sys::cpg_address>(), raw.as_ptr());
        assert_eq!(list[0], Address::new(NodeId::from(1), 10, Reason::Join));
        assert_eq!(list[1].reason(), Reason::Unknown(77));
    }

    #[test]
    fn views_become_owned_events() {
        let group = GroupName::new("g").unwrap();
        let data = [1u8, 2, 3];
        let msg = Message {
            group: &group,
            node_id: NodeId::from(2),
            pid: 77,
            data: &data,
        };
        let owned = OwnedMessage::from(msg);
        assert_eq!(
            (owned.group(), owned.node_id(), owned.pid(), owned.data()),
            (msg.group(), msg.node_id(), msg.pid(), msg.data())
        );
        assert_eq!(owned.clone().into_data(), vec![1, 2, 3]);

        let members = [Address::new(NodeId::from(1), 5, Reason::Undefined)];
        let joined = [Address::new(NodeId::from(1), 5, Reason::Join)];
        let change = ConfigChange {
            group: &group,
            members: &members,
            left: &[],
            joined: &joined,
        };
        let owned = change.into_owned();
        assert_eq!(owned.group(), &group);
        assert_eq!(owned.members(), change.members());
        assert_eq!(owned.left(), change.left());
        assert_eq!(owned.joined(), change.joined());

        let nodes = [NodeId::from(1), NodeId::from(3)];
        let ring = TotemConfigChange {
            ring_id: RingId {
                node_id: NodeId::from(1),
                seq: 9,
            },
            members: &nodes,
        };
        let owned = OwnedTotemConfigChange::from(ring);
        assert_eq!(owned.ring_id(), ring.ring_id());
        assert_eq!(owned.members(), ring.members());
    }

    #[test]
    fn events_are_send_and_clone() {
        fn check<T: Send + Clone + std::fmt::Debug + PartialEq + 'static>() {}
        check::<Event>();
        check::<OwnedMessage>();
        check::<OwnedConfigChange>();
        check::<OwnedTotemConfigChange>();
    }
}
