//! Votes, expected votes, quorum state and quorum devices: libvotequorum.
//!
//! # Concepts
//! corosync's `votequorum` service decides whether the part of the cluster a node belongs
//! to may run services (*is quorate*). Every node has a number of **votes** (`votes:` in its
//! nodelist entry, 1 by default). The cluster is configured for a number of **expected
//! votes** (the sum of all nodes' votes, or `quorum.expected_votes`); **quorum** is the
//! number of votes needed, a majority of the expected votes (`expected / 2 + 1`). A partition
//! whose members' **total votes** reach quorum is quorate.
//!
//! Options in corosync.conf's `quorum` section change the rules, and show up as
//! [`InfoFlags`]: `two_node` (a two-node cluster stays quorate with one node), `wait_for_all`,
//! `last_man_standing`, `auto_tie_breaker`, `allow_downscale`. A **quorum device** (qdevice:
//! normally corosync-qdevice talking to a qnetd arbiter) can add votes: it registers under a
//! name, then polls the daemon regularly with the current ring id to say whether it casts its
//! vote. In node lists the quorum device appears as the pseudo node [`QDEVICE_NODE_ID`] (0).
//!
//! # Connecting and events
//! [`Votequorum::builder`] takes a closure per notification you want, then connects:
//!
//! - *quorum* ([`Builder::on_quorum`]): the partition's quorate state and every node the
//!   daemon knows with its [`NodeState`];
//! - *node list* ([`Builder::on_nodelist`]): the current members and the [`RingId`] of the
//!   membership (the ring id a quorum device must quote in
//!   [`qdevice_poll`](Votequorum::qdevice_poll));
//! - *expected votes* ([`Builder::on_expected_votes`]): the node's expected votes changed.
//!
//! Notifications arrive only after [`Votequorum::track_start`], and are delivered by
//! [`dispatch`](Votequorum::dispatch) on the calling thread. Their data is borrowed from the
//! library's receive buffer for the duration of the call: copy what you want to keep.
//! A closure receives the handle too, so it may call [`info`](Votequorum::info) or a
//! qdevice function from inside the callback.
//!
//! # Context
//! `votequorum_trackstart` takes a 64-bit *context* that the daemon copies into every
//! notification it sends for that tracking request; it is exposed here as the `context`
//! argument of [`Votequorum::track_start`] and the `context` field of every notification.
//! The library's other context (`votequorum_context_set`/`get`, a pointer) is not offered:
//! keep state in the closures.
//!
//! ```no_run
//! use corosync::votequorum::Votequorum;
//! use corosync::{DispatchMode, NodeId, TrackFlags};
//!
//! # fn main() -> corosync::Result<()> {
//! let vq = Votequorum::builder()
//!     .on_quorum(|_vq, n| println!("quorate: {}, {} nodes", n.is_quorate(), n.nodes().len()))
//!     .on_nodelist(|_vq, n| println!("{}: {}", n.ring_id(), NodeId::display_list(n.members())))
//!     .build()?;
//! let info = vq.info(None)?;
//! println!("node {} has {} of {} votes needed", info.node_id, info.total_votes, info.quorum);
//! vq.track_start(0, TrackFlags::CURRENT | TrackFlags::CHANGES)?;
//! loop {
//!     vq.dispatch(DispatchMode::One)?;
//! }
//! # }
//! ```

mod event;
#[cfg(corosync_votequorum_model)]
mod extra_info;
mod info;
mod node;

use std::ffi::c_char;

use corosync_sys as sys;

use crate::clist::{with_c_list, with_node_ids};
use crate::cstr;
use crate::error::cs_result;
use crate::handle::{callbacks_builder, handle_type, library, run_callback, Handle};
use crate::{Error, NodeId, Result, RingId, TrackFlags};

pub use event::{
    Event, ExpectedVotesNotification, NodeListNotification, OwnedNodeListNotification,
    OwnedQuorumNotification, QuorumNotification,
};
#[cfg(corosync_votequorum_qdevice_extra_info)]
pub use extra_info::QDEVICE_EXTRA_INFO_MAX;
#[cfg(corosync_votequorum_model)]
pub use extra_info::{OwnedQdeviceExtraInfoNotification, QdeviceExtraInfoNotification};
pub use info::{Info, InfoFlags};
pub use node::{Node, NodeState};

/// The node id under which the quorum device appears in node lists
/// (`VOTEQUORUM_QDEVICE_NODEID`). [`Votequorum::set_votes`] with this id sets the quorum
/// device's votes; [`Votequorum::info`] with it answers for the local node.
///
/// ```
/// assert_eq!(corosync::votequorum::QDEVICE_NODE_ID, corosync::NodeId::new(0));
/// ```
pub const QDEVICE_NODE_ID: NodeId = NodeId::new(sys::VOTEQUORUM_QDEVICE_NODEID);

/// The longest quorum device name, in bytes, that the library accepts: one less than
/// `VOTEQUORUM_QDEVICE_MAX_NAME_LEN` (255), which counts the terminating NUL.
///
/// ```
/// assert_eq!(corosync::votequorum::QDEVICE_NAME_MAX, 254);
/// ```
pub const QDEVICE_NAME_MAX: usize = sys::VOTEQUORUM_QDEVICE_MAX_NAME_LEN as usize - 1;

library! {
    /// The marker for libvotequorum in the shared handle plumbing.
    VotequorumLib for Votequorum, callbacks: Callbacks, event: Event,
    finalize: sys::votequorum_finalize, fd_get: sys::votequorum_fd_get, dispatch: sys::votequorum_dispatch,
}

extern "C" fn quorum_trampoline(
    handle: u64,
    context: u64,
    quorate: u32,
    entries: u32,
    list: *mut sys::votequorum_node_t,
) {
    // SAFETY: libvotequorum calls this only from votequorum_dispatch.
    unsafe {
        run_callback::<VotequorumLib>(handle, |vq, callbacks| {
            let Some(on_quorum) = callbacks.quorum.as_mut() else {
                return;
            };
            // SAFETY: the library passes `entries` nodes at `list`, in its dispatch buffer,
            // valid until this callback returns.
            with_c_list(list.cast_const(), entries as usize, |nodes| {
                on_quorum(
                    vq,
                    QuorumNotification {
                        context,
                        quorate: quorate != 0,
                        nodes: Node::from_raw_slice(nodes),
                    },
                )
            })
        })
    }
}

extern "C" fn nodelist_trampoline(
    handle: u64,
    context: u64,
    ring_id: sys::votequorum_ring_id_t,
    entries: u32,
    list: *mut u32,
) {
    // SAFETY: libvotequorum calls this only from votequorum_dispatch.
    unsafe {
        run_callback::<VotequorumLib>(handle, |vq, callbacks| {
            let Some(on_nodelist) = callbacks.nodelist.as_mut() else {
                return;
            };
            // SAFETY: the library passes `entries` node ids at `list`, in its dispatch
            // buffer, valid until this callback returns.
            with_node_ids(list.cast_const(), entries as usize, |members| {
                on_nodelist(
                    vq,
                    NodeListNotification {
                        context,
                        ring_id: RingId::from(ring_id),
                        members,
                    },
                )
            })
        })
    }
}

extern "C" fn expected_votes_trampoline(handle: u64, context: u64, expected_votes: u32) {
    // SAFETY: libvotequorum calls this only from votequorum_dispatch.
    unsafe {
        run_callback::<VotequorumLib>(handle, |vq, callbacks| {
            if let Some(on_expected_votes) = callbacks.expected_votes.as_mut() {
                on_expected_votes(
                    vq,
                    ExpectedVotesNotification {
                        context,
                        expected_votes,
                    },
                );
            }
        })
    }
}

/// Checks a quorum device name (1 to [`QDEVICE_NAME_MAX`] bytes, no NUL) and calls `f`
/// with it NUL-terminated.
fn with_qdevice_name<R>(
    what: &'static str,
    name: &[u8],
    f: impl FnOnce(*const c_char) -> R,
) -> Result<R> {
    if name.is_empty() {
        return Err(Error::TooShort {
            what,
            length: 0,
            min: 1,
        });
    }
    cstr::with_c_str(what, name, Some(QDEVICE_NAME_MAX), f)
}

handle_type! {
    /// A connection to the local daemon's votequorum service.
    ///
    /// Open one with [`Votequorum::new`] (no notifications) or [`Votequorum::builder`].
    /// See the [module documentation](self) for the concepts.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// println!("{:?}", vq.info(None)?);
    /// # Ok(()) }
    /// ```
    pub struct Votequorum(VotequorumLib);
    open: "corosync::votequorum::Votequorum::new()?";
    pull: "corosync::votequorum::Votequorum::pull()?";
    event: Event;
}

callbacks_builder! {
    handle: Votequorum;
    /// Collects the closures of a [`Votequorum`] handle, then connects with
    /// [`build`](Builder::build). Notifications without a closure are not registered with the
    /// library at all.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::builder()
    ///     .on_expected_votes(|_, n| println!("expected votes: {}", n.expected_votes()))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub struct Builder;
    callbacks {
        /// Sets the closure for quorum notifications (`votequorum_quorum_notify_fn`).
        ///
        /// ```no_run
        /// # fn main() -> corosync::Result<()> {
        /// let vq = corosync::votequorum::Votequorum::builder()
        ///     .on_quorum(|_, n| println!("quorate: {}", n.is_quorate()))
        ///     .build()?;
        /// # Ok(()) }
        /// ```
        ///
        /// The closure is stored in the handle, so it must own what it uses (`'static`); share
        /// state with `Arc` or channels. Borrowing a local does not compile:
        ///
        /// ```compile_fail,E0373
        /// let seen = Vec::<bool>::new();
        /// let vq = corosync::votequorum::Votequorum::builder()
        ///     .on_quorum(|_, n| drop(seen.len() + usize::from(n.is_quorate())))
        ///     .build();
        /// ```
        ///
        /// Nor does keeping the borrowed node list beyond the call:
        ///
        /// ```compile_fail,E0521
        /// use corosync::votequorum::Node;
        /// let mut kept: &[Node] = &[];
        /// let vq = corosync::votequorum::Votequorum::builder()
        ///     .on_quorum(move |_, n| kept = n.nodes())
        ///     .build();
        /// ```
        quorum: on_quorum(QuorumNotification<'_>),
            pull: |n| Event::Quorum(n.into_owned());

        /// Sets the closure for node-list notifications (`votequorum_nodelist_notify_fn`).
        ///
        /// ```no_run
        /// use corosync::NodeId;
        /// # fn main() -> corosync::Result<()> {
        /// let vq = corosync::votequorum::Votequorum::builder()
        ///     .on_nodelist(|_, n| {
        ///         println!("members of {}: {}", n.ring_id(), NodeId::display_list(n.members()))
        ///     })
        ///     .build()?;
        /// # Ok(()) }
        /// ```
        nodelist: on_nodelist(NodeListNotification<'_>),
            pull: |n| Event::NodeList(n.into_owned());

        /// Sets the closure for expected-votes notifications
        /// (`votequorum_expectedvotes_notify_fn`).
        ///
        /// ```no_run
        /// # fn main() -> corosync::Result<()> {
        /// let vq = corosync::votequorum::Votequorum::builder()
        ///     .on_expected_votes(|_, n| println!("expected votes: {}", n.expected_votes()))
        ///     .build()?;
        /// # Ok(()) }
        /// ```
        expected_votes: on_expected_votes(ExpectedVotesNotification),
            pull: |n| Event::ExpectedVotes(n);
    }
    more {
        #[cfg(corosync_votequorum_model)]
        qdevice_extra_info: Option<extra_info::QdeviceExtraInfoFn>,
    }

    /// Connects in pull mode: quorum, node-list and expected-votes notifications are queued
    /// as owned [`Event`]s, which [`Votequorum::next_event`] and
    /// [`Votequorum::try_next_event`] hand out. Closures set on this builder are replaced.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::builder().build_pull()?;
    /// # Ok(()) }
    /// ```
    fn build_pull;
}

impl Builder {
    /// Connects to the local daemon (`votequorum_initialize`).
    ///
    /// Fails with [`Error::Library`] (or another connection error) if corosync is not
    /// running or votequorum is not its quorum provider.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::builder().build()?;
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<Votequorum> {
        let on_quorum = self.callbacks.quorum.is_some();
        let on_expected_votes = self.callbacks.expected_votes.is_some();
        let on_nodelist = self.callbacks.nodelist.is_some();
        #[cfg(corosync_votequorum_model)]
        let with_extra_info = self.callbacks.qdevice_extra_info.is_some();
        let handle = Handle::open(self.callbacks, move |_context, _| {
            let c_callbacks = sys::votequorum_callbacks_t {
                votequorum_quorum_notify_fn: on_quorum.then_some(quorum_trampoline as _),
                votequorum_expectedvotes_notify_fn: on_expected_votes
                    .then_some(expected_votes_trampoline as _),
                votequorum_nodelist_notify_fn: on_nodelist.then_some(nodelist_trampoline as _),
            };
            let mut raw: sys::votequorum_handle_t = 0;
            // Where the headers have it, model v1: the same callbacks plus extra info.
            #[cfg(corosync_votequorum_model)]
            // SAFETY: `raw` is writable; the trampolines find their state as below.
            unsafe {
                extra_info::model_initialize(&mut raw, &c_callbacks, with_extra_info)?
            };
            #[cfg(not(corosync_votequorum_model))]
            {
                let mut c_callbacks = c_callbacks;
                // SAFETY: both pointers are valid for the call; the library copies the
                // callbacks struct.
                cs_result(unsafe { sys::votequorum_initialize(&mut raw, &mut c_callbacks) })?;
            }
            Ok(raw)
        })?;
        Ok(Votequorum { handle })
    }
}

impl Votequorum {
    /// Connects in pull mode: see [`Builder::build_pull`].
    ///
    /// ```no_run
    /// use corosync::{votequorum::{Event, Votequorum}, TrackFlags};
    /// # fn main() -> corosync::Result<()> {
    /// let vq = Votequorum::pull()?;
    /// vq.track_start(0, TrackFlags::CURRENT | TrackFlags::CHANGES)?;
    /// while let Some(event) = vq.next_event(None)? {
    ///     println!("{event:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pull() -> Result<Votequorum> {
        Builder::default().build_pull()
    }

    /// A builder to set notification closures before connecting.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::builder()
    ///     .on_quorum(|_, n| println!("quorate: {}", n.is_quorate()))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects without any notification closure (`votequorum_initialize` with no
    /// callbacks): for requests only.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// # Ok(()) }
    /// ```
    pub fn new() -> Result<Votequorum> {
        Builder::default().build()
    }

    /// Information about a node and the cluster (`votequorum_getinfo`): `None` asks about
    /// the local node (C passes node id 0, which the daemon replaces with its own id; so
    /// `Some(NodeId::from(0))` does the same, and the quorum device cannot be asked about).
    ///
    /// The node must be known to the daemon (a member now or before, or in the nodelist),
    /// otherwise [`Error::NotExist`].
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::NodeId;
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// let me = vq.info(None)?;
    /// let two = vq.info(Some(NodeId::from(2)))?;
    /// println!("{} votes here, {} on node 2", me.node_votes, two.node_votes);
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_getinfo")]
    #[doc(alias = "getinfo")]
    pub fn info(&self, node: Option<NodeId>) -> Result<Info> {
        let mut info = sys::votequorum_info::default();
        let node_id = node.unwrap_or(QDEVICE_NODE_ID).get();
        // SAFETY: the handle is live and `info` is a writable votequorum_info.
        cs_result(unsafe { sys::votequorum_getinfo(self.handle.raw(), node_id, &mut info) })?;
        Ok(Info::from_raw(&info))
    }

    /// Sets the cluster's expected votes (`votequorum_setexpected`); every node applies it.
    ///
    /// The daemon refuses ([`Error::InvalidParam`]) a value below the current total votes,
    /// or one that would make a quorate cluster lose quorum.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.set_expected_votes(3)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_setexpected")]
    #[doc(alias = "setexpected")]
    pub fn set_expected_votes(&self, expected_votes: u32) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::votequorum_setexpected(self.handle.raw(), expected_votes) })
    }

    /// Sets the votes of a node (`votequorum_setvotes`); every node applies it.
    /// [`QDEVICE_NODE_ID`] sets the quorum device's votes.
    ///
    /// Fails with [`Error::NameNotFound`] for a node the daemon does not know, and
    /// [`Error::InvalidParam`] if the resulting quorum would be impossible.
    ///
    /// [`QDEVICE_NODE_ID`] is refused with [`Error::NotExist`] unless a quorum device is
    /// registered on this node (checked with [`Votequorum::info`] just before): corosync
    /// 3.1.7 adds the device's votes to the expected votes whether or not a device exists
    /// (`get_total_votes` in exec/votequorum.c) but counts them only while a device casts a
    /// vote, so votes for an absent device take quorum away (seen on one node: expected 4,
    /// total 1, quorum 3), and the daemon's own quorum check then refuses
    /// `set_votes(QDEVICE_NODE_ID, 0)`. Lowered expected votes do not help either: the daemon
    /// raises them back to the total with the device's votes (`recalculate_quorum`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::NodeId;
    /// corosync::votequorum::Votequorum::new()?.set_votes(NodeId::from(1), 2)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_setvotes")]
    #[doc(alias = "setvotes")]
    pub fn set_votes(&self, node: NodeId, votes: u32) -> Result<()> {
        if node == QDEVICE_NODE_ID
            && !self
                .info(None)?
                .flags
                .contains(InfoFlags::QDEVICE_REGISTERED)
        {
            return Err(Error::NotExist);
        }
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::votequorum_setvotes(self.handle.raw(), node.get(), votes) })
    }

    /// Starts notifications (`votequorum_trackstart`).
    ///
    /// [`TrackFlags::CURRENT`] (or `CHANGES`) queues a node-list and a quorum notification
    /// with the present state at once; `CHANGES` or `CHANGES_ONLY` then notify on every
    /// change. `context` is copied into every notification this request causes. Starting
    /// again while tracking still sends the current state, then fails with
    /// [`Error::Exist`].
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::TrackFlags;
    /// let vq = corosync::votequorum::Votequorum::builder()
    ///     .on_quorum(|_, n| assert_eq!(n.context(), 7))
    ///     .build()?;
    /// vq.track_start(7, TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_trackstart")]
    #[doc(alias = "trackstart")]
    pub fn track_start(&self, context: u64, flags: TrackFlags) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe {
            sys::votequorum_trackstart(self.handle.raw(), context, u32::from(flags.bits()))
        })
    }

    /// Stops notifications (`votequorum_trackstop`); [`Error::NotExist`] if not tracking.
    /// Notifications already queued are still delivered by `dispatch`.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
    /// vq.track_stop()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_trackstop")]
    #[doc(alias = "trackstop")]
    pub fn track_stop(&self) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::votequorum_trackstop(self.handle.raw()) })
    }

    /// Registers a quorum device under `name` on this node (`votequorum_qdevice_register`).
    ///
    /// The name is 1 to [`QDEVICE_NAME_MAX`] bytes without NUL ([`Error::TooShort`],
    /// [`Error::TooLong`], [`Error::InteriorNul`] otherwise). Registering the same name
    /// again succeeds; another name while one is registered fails with [`Error::Exist`];
    /// a configuration that forbids quorum devices (e.g. `two_node` or
    /// `last_man_standing` together with a `quorum.device` section) gives
    /// [`Error::Access`].
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.qdevice_register("my-device")?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_register(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let raw = self.handle.raw();
        with_qdevice_name("quorum device name", name.as_ref(), |name| {
            // SAFETY: the handle is live and `name` is NUL-terminated for the call.
            cs_result(unsafe { sys::votequorum_qdevice_register(raw, name) })
        })?
    }

    /// Unregisters the quorum device `name` from this node
    /// (`votequorum_qdevice_unregister`). [`Error::NotExist`] if none is registered,
    /// [`Error::InvalidParam`] if `name` is not the registered one.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.qdevice_unregister("my-device")?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_unregister(&self, name: impl AsRef<[u8]>) -> Result<()> {
        let raw = self.handle.raw();
        with_qdevice_name("quorum device name", name.as_ref(), |name| {
            // SAFETY: the handle is live and `name` is NUL-terminated for the call.
            cs_result(unsafe { sys::votequorum_qdevice_unregister(raw, name) })
        })?
    }

    /// Renames the registered quorum device (`votequorum_qdevice_update`).
    /// [`Error::NotExist`] if none is registered, [`Error::InvalidParam`] if `old_name` is
    /// not the registered one.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.qdevice_update("old", "new")?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_update(
        &self,
        old_name: impl AsRef<[u8]>,
        new_name: impl AsRef<[u8]>,
    ) -> Result<()> {
        let raw = self.handle.raw();
        with_qdevice_name("old quorum device name", old_name.as_ref(), |old| {
            with_qdevice_name("new quorum device name", new_name.as_ref(), |new| {
                // SAFETY: the handle is live and both names are NUL-terminated for the call.
                cs_result(unsafe { sys::votequorum_qdevice_update(raw, old, new) })
            })
        })??
    }

    /// Tells the daemon the quorum device `name` is alive and whether it casts its vote
    /// (`votequorum_qdevice_poll`). A device must poll more often than the qdevice timeout
    /// (10 s by default) to stay alive.
    ///
    /// `ring_id` must be the ring id of the latest node-list notification; a poll quoting
    /// any other ring id is refused with [`Error::MessageError`], so that a device never
    /// votes for a membership it has not seen. [`Error::NotExist`] if no device is
    /// registered, [`Error::InvalidParam`] if `name` is not the registered one.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::{NodeId, RingId};
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// let ring = RingId { node_id: NodeId::from(1), seq: 8 }; // from on_nodelist
    /// vq.qdevice_poll("my-device", true, ring)?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_poll(
        &self,
        name: impl AsRef<[u8]>,
        cast_vote: bool,
        ring_id: RingId,
    ) -> Result<()> {
        let raw = self.handle.raw();
        with_qdevice_name("quorum device name", name.as_ref(), |name| {
            // SAFETY: the handle is live and `name` is NUL-terminated for the call.
            cs_result(unsafe {
                sys::votequorum_qdevice_poll(raw, name, u32::from(cast_vote), ring_id.into())
            })
        })?
    }

    /// Sets or clears "master wins" for the quorum device `name`
    /// (`votequorum_qdevice_master_wins`): while set, the partition in which the device
    /// casts its vote is quorate regardless of the votes.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.qdevice_master_wins("my-device", true)?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_master_wins(&self, name: impl AsRef<[u8]>, allow: bool) -> Result<()> {
        let raw = self.handle.raw();
        with_qdevice_name("quorum device name", name.as_ref(), |name| {
            // SAFETY: the handle is live and `name` is NUL-terminated for the call.
            cs_result(unsafe { sys::votequorum_qdevice_master_wins(raw, name, u32::from(allow)) })
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_shows_which_closures_are_set() {
        assert_eq!(
            format!("{:?}", Votequorum::builder().on_expected_votes(|_, _| {})),
            "Builder { on_quorum: false, on_nodelist: false, on_expected_votes: true }"
        );
    }

    #[test]
    fn qdevice_names_are_checked() {
        let ok = |name: &[u8]| with_qdevice_name("n", name, |_| ());
        assert_eq!(ok(&[b'a'; QDEVICE_NAME_MAX]), Ok(()));
        assert_eq!(
            ok(&[b'a'; QDEVICE_NAME_MAX + 1]),
            Err(Error::TooLong {
                what: "n",
                length: 255,
                max: 254
            })
        );
        assert_eq!(
            ok(b""),
            Err(Error::TooShort {
                what: "n",
                length: 0,
                min: 1
            })
        );
        assert_eq!(
            ok(b"a\0b"),
            Err(Error::InteriorNul {
                what: "n",
                position: 1
            })
        );
    }
}
