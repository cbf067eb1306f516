//! The simple quorum view: libquorum.
//!
//! # Concepts
//! libquorum answers one question, "is the partition this node is in quorate?", and reports
//! who is in it. It works with whatever quorum provider corosync is configured with
//! (`quorum.provider`, normally `corosync_votequorum`); for votes, expected votes and quorum
//! devices use [`votequorum`](crate::votequorum).
//!
//! # Without a quorum provider
//! With no `provider` in the quorum section of corosync.conf, the [`QuorumType`] is
//! [`QuorumType::Free`] and every node calls itself quorate, whatever its partition
//! ([`is_quorate`](Quorum::is_quorate) is always `true`, also for a node left alone). Nothing
//! then feeds the quorum service a quorum view (corosync 3.1.7), so quorum notifications,
//! of either model, are sent only for [`track_start`](Quorum::track_start) and carry
//! `quorate: true`, the zero ring id (ring sequence 0) and an empty member list; there are
//! none on membership changes. Model v1's node-list notifications are unaffected: they carry
//! the real ring id and members, and who joined or left on every change, so with `Free`
//! follow the membership with [`on_nodelist`](Builder::on_nodelist).
//!
//! # Two models
//! - **Model v1** ([`Quorum::builder`], `quorum_model_initialize` with `QUORUM_MODEL_V1`):
//!   a quorum notification carries the full [`RingId`] of the membership and its members; a
//!   separate node-list notification carries the members plus who joined and who left. This
//!   is what new programs should use.
//! - **Model v0** ([`Quorum::new_v0`], `quorum_initialize`): the original interface. Its
//!   quorum notification carries only the ring's sequence number; there is no node-list
//!   notification.
//!
//! Notifications arrive after [`Quorum::track_start`] and are delivered by
//! [`dispatch`](Quorum::dispatch) on the calling thread. Their member lists are borrowed from
//! the library's receive buffer during the call: copy what you want to keep. A closure also
//! receives the handle, so it can call [`is_quorate`](Quorum::is_quorate) from inside.
//!
//! # Context
//! The library's context (`quorum_model_initialize`'s `context` argument and
//! `quorum_context_set`/`get`) is not offered: keep state in the closures.
//!
//! ```no_run
//! use corosync::quorum::Quorum;
//! use corosync::{DispatchMode, NodeId, TrackFlags};
//!
//! # fn main() -> corosync::Result<()> {
//! let quorum = Quorum::builder()
//!     .on_quorum(|_, n| {
//!         let members = NodeId::display_list(n.members());
//!         println!("ring {}: quorate {} with {members}", n.ring_id(), n.is_quorate());
//!     })
//!     .on_nodelist(|_, n| {
//!         let (joined, left) = (NodeId::display_list(n.joined()), NodeId::display_list(n.left()));
//!         println!("joined {joined}, left {left}");
//!     })
//!     .build()?;
//! println!("quorate now: {}", quorum.is_quorate()?);
//! quorum.track_start(TrackFlags::CHANGES)?;
//! loop {
//!     quorum.dispatch(DispatchMode::One)?;
//! }
//! # }
//! ```

use std::ffi::c_int;

use corosync_sys as sys;

use crate::c_enum::c_enum;

use crate::clist::with_node_ids;
use crate::error::cs_result;
use crate::handle::{callbacks_builder, handle_type, library, run_callback, Handle};
use crate::{NodeId, Result, RingId, TrackFlags};

c_enum! {
    /// Whether corosync has a quorum provider (`QUORUM_FREE` / `QUORUM_SET`), as reported
    /// when connecting; see [`Quorum::quorum_type`].
    ///
    /// ```
    /// use corosync::quorum::QuorumType;
    /// assert_eq!(QuorumType::from(1), QuorumType::Set);
    /// assert_eq!(QuorumType::Free.raw(), 0);
    /// assert_eq!(QuorumType::Set.to_string(), "quorum provider");
    /// ```
    #[non_exhaustive]
    pub enum QuorumType: u32;
    path: "corosync::quorum::QuorumType";
    /// No quorum provider: every node is quorate, whatever its partition (`QUORUM_FREE`).
    /// See [the module documentation](self#without-a-quorum-provider).
    Free = sys::QUORUM_FREE => "no quorum provider",
    /// A quorum provider decides (`QUORUM_SET`).
    Set = sys::QUORUM_SET => "quorum provider",
}

/// A model v1 quorum notification: the partition's quorate state, the ring id of the
/// membership and its members.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let quorum = corosync::quorum::Quorum::builder()
///     .on_quorum(|_, n| println!("{}: quorate {}, {} members", n.ring_id(), n.is_quorate(), n.members().len()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuorumNotification<'a> {
    pub(crate) quorate: bool,
    pub(crate) ring_id: RingId,
    pub(crate) members: &'a [NodeId],
}

/// A model v1 node-list notification: the members of a new membership, who joined and who
/// left. The notification sent at [`track_start`](Quorum::track_start) for the current state
/// has empty `joined` and `left` lists.
///
/// ```no_run
/// use corosync::NodeId;
/// # fn main() -> corosync::Result<()> {
/// let quorum = corosync::quorum::Quorum::builder()
///     .on_nodelist(|_, n| {
///         let (joined, left) = (NodeId::display_list(n.joined()), NodeId::display_list(n.left()));
///         println!("{}: +{joined} -{left}", n.ring_id());
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeListNotification<'a> {
    pub(crate) ring_id: RingId,
    pub(crate) members: &'a [NodeId],
    pub(crate) joined: &'a [NodeId],
    pub(crate) left: &'a [NodeId],
}

/// A model v0 quorum notification (`quorum_notification_fn_t`): like
/// [`QuorumNotification`], with only the ring's sequence number.
///
/// ```no_run
/// use corosync::NodeId;
/// # fn main() -> corosync::Result<()> {
/// let quorum = corosync::quorum::Quorum::new_v0(|_, n| {
///     let members = NodeId::display_list(n.members());
///     println!("ring seq {:x}: quorate {} with {members}", n.ring_seq(), n.is_quorate());
/// })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuorumNotificationV0<'a> {
    pub(crate) quorate: bool,
    pub(crate) ring_seq: u64,
    pub(crate) members: &'a [NodeId],
}

impl<'a> QuorumNotification<'a> {
    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The ring id of the membership.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::QuorumNotification<'_> = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &'a [NodeId] {
        self.members
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotification<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedQuorumNotification {
        OwnedQuorumNotification {
            quorate: self.quorate,
            ring_id: self.ring_id,
            members: self.members.to_vec(),
        }
    }
}

/// [`QuorumNotification`] owning its lists: what [`QuorumNotification::into_owned`] makes and what [`Event::Quorum`] carries. It has the
/// accessors of [`QuorumNotification`].
///
/// ```no_run
/// use corosync::quorum::{Event, Quorum};
/// let quorum = Quorum::pull()?;
/// quorum.track_start(corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::Quorum(n)) = quorum.next_event(None)? {
///     println!("{:?}", n);
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedQuorumNotification {
    quorate: bool,
    ring_id: RingId,
    members: Vec<NodeId>,
}

impl OwnedQuorumNotification {
    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The ring id of the membership.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::OwnedQuorumNotification = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }
}

impl From<QuorumNotification<'_>> for OwnedQuorumNotification {
    fn from(view: QuorumNotification<'_>) -> OwnedQuorumNotification {
        view.into_owned()
    }
}

impl<'a> NodeListNotification<'a> {
    /// The ring id of the membership.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &'a [NodeId] {
        self.members
    }

    /// The nodes that joined with this membership.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{}", NodeId::display_list(n.joined()));
    /// ```
    pub fn joined(&self) -> &'a [NodeId] {
        self.joined
    }

    /// The nodes that left with this membership.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::NodeListNotification<'_> = unimplemented!();
    /// println!("{}", NodeId::display_list(n.left()));
    /// ```
    pub fn left(&self) -> &'a [NodeId] {
        self.left
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::NodeListNotification<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedNodeListNotification {
        OwnedNodeListNotification {
            ring_id: self.ring_id,
            members: self.members.to_vec(),
            joined: self.joined.to_vec(),
            left: self.left.to_vec(),
        }
    }
}

/// [`NodeListNotification`] owning its lists: what [`NodeListNotification::into_owned`] makes and what [`Event::NodeList`] carries. It has the
/// accessors of [`NodeListNotification`].
///
/// ```no_run
/// use corosync::quorum::{Event, Quorum};
/// let quorum = Quorum::pull()?;
/// quorum.track_start(corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::NodeList(n)) = quorum.next_event(None)? {
///     println!("{:?}", n);
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedNodeListNotification {
    ring_id: RingId,
    members: Vec<NodeId>,
    joined: Vec<NodeId>,
    left: Vec<NodeId>,
}

impl OwnedNodeListNotification {
    /// The ring id of the membership.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{:?}", n.ring_id());
    /// ```
    pub fn ring_id(&self) -> RingId {
        self.ring_id
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The nodes that joined with this membership.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{}", NodeId::display_list(n.joined()));
    /// ```
    pub fn joined(&self) -> &[NodeId] {
        &self.joined
    }

    /// The nodes that left with this membership.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::OwnedNodeListNotification = unimplemented!();
    /// println!("{}", NodeId::display_list(n.left()));
    /// ```
    pub fn left(&self) -> &[NodeId] {
        &self.left
    }
}

impl From<NodeListNotification<'_>> for OwnedNodeListNotification {
    fn from(view: NodeListNotification<'_>) -> OwnedNodeListNotification {
        view.into_owned()
    }
}

impl<'a> QuorumNotificationV0<'a> {
    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotificationV0<'_> = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The sequence number of the membership's ring id.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotificationV0<'_> = unimplemented!();
    /// println!("{:?}", n.ring_seq());
    /// ```
    pub fn ring_seq(&self) -> u64 {
        self.ring_seq
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::QuorumNotificationV0<'_> = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &'a [NodeId] {
        self.members
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::QuorumNotificationV0<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedQuorumNotificationV0 {
        OwnedQuorumNotificationV0 {
            quorate: self.quorate,
            ring_seq: self.ring_seq,
            members: self.members.to_vec(),
        }
    }
}

/// [`QuorumNotificationV0`] owning its lists: what [`QuorumNotificationV0::into_owned`] makes. It has the
/// accessors of [`QuorumNotificationV0`].
///
/// ```no_run
/// use corosync::quorum::{Event, Quorum};
/// let quorum = Quorum::pull()?;
/// quorum.track_start(corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::Quorum(n)) = quorum.next_event(None)? {
///     println!("{:?}", n);
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedQuorumNotificationV0 {
    quorate: bool,
    ring_seq: u64,
    members: Vec<NodeId>,
}

impl OwnedQuorumNotificationV0 {
    /// Whether the partition is quorate.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::OwnedQuorumNotificationV0 = unimplemented!();
    /// println!("{:?}", n.is_quorate());
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.quorate
    }

    /// The sequence number of the membership's ring id.
    ///
    /// ```no_run
    /// # let n: corosync::quorum::OwnedQuorumNotificationV0 = unimplemented!();
    /// println!("{:?}", n.ring_seq());
    /// ```
    pub fn ring_seq(&self) -> u64 {
        self.ring_seq
    }

    /// The member node ids.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # let n: corosync::quorum::OwnedQuorumNotificationV0 = unimplemented!();
    /// println!("{}", NodeId::display_list(n.members()));
    /// ```
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }
}

impl From<QuorumNotificationV0<'_>> for OwnedQuorumNotificationV0 {
    fn from(view: QuorumNotificationV0<'_>) -> OwnedQuorumNotificationV0 {
        view.into_owned()
    }
}

/// One event of a [`Quorum`] handle, owned: what [`Quorum::next_event`] returns.
///
/// ```no_run
/// use corosync::quorum::{Event, Quorum};
/// use corosync::NodeId;
/// let quorum = Quorum::pull()?;
/// quorum.track_start(corosync::TrackFlags::CHANGES)?;
/// while let Some(event) = quorum.next_event(None)? {
///     match event {
///         Event::Quorum(n) => println!("quorate: {}", n.is_quorate()),
///         Event::NodeList(n) => {
///             let (joined, left) = (NodeId::display_list(n.joined()), NodeId::display_list(n.left()));
///             println!("joined {joined}, left {left}");
///         }
///         Event::Reconnected(_) => println!("reconnected: call track_start again"),
///         _ => {}
///     }
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A model v1 quorum notification.
    Quorum(OwnedQuorumNotification),
    /// A model v1 node-list notification.
    NodeList(OwnedNodeListNotification),
    /// The handle was reconnected ([`Quorum::reconnect`]): events may have been missed, and
    /// tracking must be started again.
    Reconnected(crate::Reconnected),
}

type QuorumV0Fn = Box<dyn FnMut(&Quorum, QuorumNotificationV0<'_>) + Send>;

library! {
    /// The marker for libquorum in the shared handle plumbing.
    QuorumLib for Quorum, callbacks: Callbacks, event: Event,
    finalize: sys::quorum_finalize, fd_get: sys::quorum_fd_get, dispatch: sys::quorum_dispatch,
}

extern "C" fn quorum_v1_trampoline(
    handle: u64,
    quorate: u32,
    ring_id: sys::quorum_ring_id,
    entries: u32,
    list: *const u32,
) {
    // SAFETY: libquorum calls this only from quorum_dispatch.
    unsafe {
        run_callback::<QuorumLib>(handle, |quorum, callbacks| {
            let Some(on_quorum) = callbacks.quorum.as_mut() else {
                return;
            };
            // SAFETY: the library passes `entries` node ids at `list`, in its dispatch
            // buffer, valid until this callback returns.
            with_node_ids(list, entries as usize, |members| {
                on_quorum(
                    quorum,
                    QuorumNotification {
                        quorate: quorate != 0,
                        ring_id: RingId::from(ring_id),
                        members,
                    },
                )
            })
        })
    }
}

#[allow(clippy::too_many_arguments)]
extern "C" fn nodelist_v1_trampoline(
    handle: u64,
    ring_id: sys::quorum_ring_id,
    member_entries: u32,
    member_list: *const u32,
    joined_entries: u32,
    joined_list: *const u32,
    left_entries: u32,
    left_list: *const u32,
) {
    // SAFETY: libquorum calls this only from quorum_dispatch.
    unsafe {
        run_callback::<QuorumLib>(handle, |quorum, callbacks| {
            let Some(on_nodelist) = callbacks.nodelist.as_mut() else {
                return;
            };
            // SAFETY: the library passes each list with its length, in its
            // dispatch buffer, valid until this callback returns.
            with_node_ids(member_list, member_entries as usize, |members| {
                with_node_ids(joined_list, joined_entries as usize, |joined| {
                    with_node_ids(left_list, left_entries as usize, |left| {
                        on_nodelist(
                            quorum,
                            NodeListNotification {
                                ring_id: RingId::from(ring_id),
                                members,
                                joined,
                                left,
                            },
                        )
                    })
                })
            })
        })
    }
}

extern "C" fn quorum_v0_trampoline(
    handle: u64,
    quorate: u32,
    ring_seq: u64,
    entries: u32,
    list: *mut u32,
) {
    // SAFETY: libquorum calls this only from quorum_dispatch.
    unsafe {
        run_callback::<QuorumLib>(handle, |quorum, callbacks| {
            let Some(on_quorum) = callbacks.quorum_v0.as_mut() else {
                return;
            };
            // SAFETY: the library passes `entries` node ids at `list`, in its dispatch
            // buffer, valid until this callback returns.
            with_node_ids(list.cast_const(), entries as usize, |members| {
                on_quorum(
                    quorum,
                    QuorumNotificationV0 {
                        quorate: quorate != 0,
                        ring_seq,
                        members,
                    },
                )
            })
        })
    }
}

handle_type! {
    /// A connection to the local daemon's quorum service.
    ///
    /// Open one with [`Quorum::builder`] (model v1) or [`Quorum::new_v0`] (model v0); see
    /// the [module documentation](self).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::new()?;
    /// println!("{:?}, quorate: {}", quorum.quorum_type(), quorum.is_quorate()?);
    /// # Ok(()) }
    /// ```
    pub struct Quorum(QuorumLib);
    open: "corosync::quorum::Quorum::new()?";
    pull: "corosync::quorum::Quorum::pull()?";
    event: Event;
}

callbacks_builder! {
    handle: Quorum;
    /// Collects the closures of a model v1 [`Quorum`] handle, then connects with
    /// [`build`](Builder::build). Notifications without a closure are not registered with the
    /// library.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::builder()
    ///     .on_quorum(|_, n| println!("quorate: {}", n.is_quorate()))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub struct Builder;
    callbacks {
        /// Sets the closure for quorum notifications (`quorum_notify_fn` of model v1).
        ///
        /// ```no_run
        /// use corosync::NodeId;
        /// # fn main() -> corosync::Result<()> {
        /// let quorum = corosync::quorum::Quorum::builder()
        ///     .on_quorum(|_, n| println!("{}: {}", n.ring_id(), NodeId::display_list(n.members())))
        ///     .build()?;
        /// # Ok(()) }
        /// ```
        quorum: on_quorum(QuorumNotification<'_>),
            pull: |n| Event::Quorum(n.into_owned());

        /// Sets the closure for node-list notifications (`nodelist_notify_fn` of model v1).
        ///
        /// ```no_run
        /// use corosync::NodeId;
        /// # fn main() -> corosync::Result<()> {
        /// let quorum = corosync::quorum::Quorum::builder()
        ///     .on_nodelist(|_, n| println!("left: {}", NodeId::display_list(n.left())))
        ///     .build()?;
        /// # Ok(()) }
        /// ```
        nodelist: on_nodelist(NodeListNotification<'_>),
            pull: |n| Event::NodeList(n.into_owned());
    }
    more {
        quorum_v0: Option<QuorumV0Fn>,
    }

    /// Connects with model v1 in pull mode: quorum and node-list notifications are queued
    /// as owned [`Event`]s, which [`Quorum::next_event`] and [`Quorum::try_next_event`] hand
    /// out. Closures set on this builder are replaced.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::builder().build_pull()?;
    /// # Ok(()) }
    /// ```
    fn build_pull;
}

impl Builder {
    /// Connects to the local daemon with model v1 (`quorum_model_initialize`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::builder().build()?;
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<Quorum> {
        let on_quorum = self.callbacks.quorum.is_some();
        let on_nodelist = self.callbacks.nodelist.is_some();
        let handle = Handle::open(self.callbacks, move |context, info| {
            let mut model_data = sys::quorum_model_v1_data_t {
                model: sys::QUORUM_MODEL_V1,
                quorum_notify_fn: on_quorum.then_some(quorum_v1_trampoline as _),
                nodelist_notify_fn: on_nodelist.then_some(nodelist_v1_trampoline as _),
            };
            let mut quorum_type: u32 = 0;
            let mut raw: sys::quorum_handle_t = 0;
            // SAFETY: all pointers are valid for the call; model_data is the v1 struct the
            // model asks for (the library copies it); context is the handle's boxed state.
            cs_result(unsafe {
                sys::quorum_model_initialize(
                    &mut raw,
                    sys::QUORUM_MODEL_V1,
                    std::ptr::addr_of_mut!(model_data).cast::<sys::quorum_model_data_t>(),
                    &mut quorum_type,
                    context,
                )
            })?;
            info.set(u64::from(quorum_type));
            Ok(raw)
        })?;
        Ok(Quorum { handle })
    }
}

impl Quorum {
    /// A builder for a model v1 connection.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::builder()
    ///     .on_nodelist(|_, n| println!("joined: {}", NodeId::display_list(n.joined())))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects with model v1, without closures: the same as `Quorum::builder().build()`.
    /// Queries such as [`Quorum::is_quorate`] need no closure.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::new()?;
    /// println!("quorate: {}", quorum.is_quorate()?);
    /// # Ok(()) }
    /// ```
    #[doc(alias = "quorum_model_initialize")]
    pub fn new() -> Result<Quorum> {
        Builder::default().build()
    }

    /// Connects with the original model v0 (`quorum_initialize`), whose quorum
    /// notification carries only the ring's sequence number.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::new_v0(|_, n| println!("quorate: {}", n.is_quorate()))?;
    /// # Ok(()) }
    /// ```
    pub fn new_v0<F>(on_quorum: F) -> Result<Quorum>
    where
        F: FnMut(&Quorum, QuorumNotificationV0<'_>) + Send + 'static,
    {
        let callbacks = Callbacks {
            quorum_v0: Some(Box::new(on_quorum)),
            ..Callbacks::default()
        };
        let handle = Handle::open(callbacks, |_context, info| {
            let mut c_callbacks = sys::quorum_callbacks_t {
                quorum_notify_fn: Some(quorum_v0_trampoline),
            };
            let mut quorum_type: u32 = 0;
            let mut raw: sys::quorum_handle_t = 0;
            // SAFETY: all pointers are valid for the call; the library copies the callbacks.
            cs_result(unsafe {
                sys::quorum_initialize(&mut raw, &mut c_callbacks, &mut quorum_type)
            })?;
            info.set(u64::from(quorum_type));
            Ok(raw)
        })?;
        Ok(Quorum { handle })
    }

    /// Connects with model v1 in pull mode: see [`Builder::build_pull`].
    ///
    /// ```no_run
    /// use corosync::{quorum::{Event, Quorum}, TrackFlags};
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = Quorum::pull()?;
    /// quorum.track_start(TrackFlags::CURRENT | TrackFlags::CHANGES)?;
    /// while let Some(event) = quorum.next_event(None)? {
    ///     if let Event::Quorum(n) = event {
    ///         println!("quorate: {}", n.is_quorate());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pull() -> Result<Quorum> {
        Builder::default().build_pull()
    }

    /// Whether corosync has a quorum provider, as the daemon said when this handle
    /// connected (the `quorum_type` out-parameter of `quorum_initialize`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::quorum::{Quorum, QuorumType};
    /// let quorum = Quorum::new()?;
    /// if quorum.quorum_type() == QuorumType::Free {
    ///     println!("no quorum provider: always quorate");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn quorum_type(&self) -> QuorumType {
        // The value stored at open fits in u32 (it came from a u32).
        QuorumType::from(self.handle.info() as u32)
    }

    /// Whether the partition this node is in is quorate now (`quorum_getquorate`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorate = corosync::quorum::Quorum::new()?.is_quorate()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "quorum_getquorate")]
    #[doc(alias = "getquorate")]
    pub fn is_quorate(&self) -> Result<bool> {
        let mut quorate: c_int = 0;
        // SAFETY: the handle is live and `quorate` is writable.
        cs_result(unsafe { sys::quorum_getquorate(self.handle.raw(), &mut quorate) })?;
        Ok(quorate != 0)
    }

    /// Starts notifications (`quorum_trackstart`).
    ///
    /// [`TrackFlags::CURRENT`] (or `CHANGES`) queues notifications of the present state at
    /// once (model v1: a node-list notification, then a quorum notification); `CHANGES` or
    /// `CHANGES_ONLY` then notify on every change. Starting again while tracking still
    /// sends the current state, then fails with [`Error::Exist`](crate::Error::Exist).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::new()?;
    /// quorum.track_start(corosync::TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "quorum_trackstart")]
    #[doc(alias = "trackstart")]
    pub fn track_start(&self, flags: TrackFlags) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::quorum_trackstart(self.handle.raw(), u32::from(flags.bits())) })
    }

    /// Stops notifications (`quorum_trackstop`). Notifications already queued are still
    /// delivered by `dispatch`. Unlike votequorum's, the daemon answers success even when
    /// the handle was not tracking (corosync 3.1.7 overwrites its own error code).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorum = corosync::quorum::Quorum::new()?;
    /// quorum.track_start(corosync::TrackFlags::CHANGES)?;
    /// quorum.track_stop()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "quorum_trackstop")]
    #[doc(alias = "trackstop")]
    pub fn track_stop(&self) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::quorum_trackstop(self.handle.raw()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_shows_which_closures_are_set() {
        assert_eq!(
            format!("{:?}", Quorum::builder()),
            "Builder { on_quorum: false, on_nodelist: false }"
        );
        assert_eq!(
            format!("{:?}", Quorum::builder().on_nodelist(|_, _| {})),
            "Builder { on_quorum: false, on_nodelist: true }"
        );
    }

    #[test]
    fn notifications_become_owned() {
        let ring_id = RingId {
            node_id: NodeId::from(1),
            seq: 4,
        };
        let (members, joined, left) = ([NodeId::from(1)], [NodeId::from(1)], [NodeId::from(2)]);
        let quorum = QuorumNotification {
            quorate: true,
            ring_id,
            members: &members,
        };
        let owned = OwnedQuorumNotification::from(quorum);
        assert_eq!(
            (owned.is_quorate(), owned.ring_id(), owned.members()),
            (quorum.is_quorate(), quorum.ring_id(), quorum.members())
        );
        let list = NodeListNotification {
            ring_id,
            members: &members,
            joined: &joined,
            left: &left,
        };
        let owned = list.into_owned();
        assert_eq!(
            (
                owned.ring_id(),
                owned.members(),
                owned.joined(),
                owned.left()
            ),
            (list.ring_id(), list.members(), list.joined(), list.left())
        );
        let v0 = QuorumNotificationV0 {
            quorate: false,
            ring_seq: 9,
            members: &members,
        };
        let owned = v0.into_owned();
        assert_eq!(
            (owned.is_quorate(), owned.ring_seq(), owned.members()),
            (false, 9, &members[..])
        );
        fn check<T: Send + Clone + std::fmt::Debug + PartialEq + 'static>() {}
        check::<Event>();
    }

    #[test]
    fn quorum_types_round_trip() {
        assert_eq!(QuorumType::from(0), QuorumType::Free);
        assert_eq!(QuorumType::from(1), QuorumType::Set);
        assert_eq!(QuorumType::from(5), QuorumType::Unknown(5));
        for raw in 0..4 {
            assert_eq!(QuorumType::from(raw).raw(), raw);
        }
    }
}
