//! Closed process groups (libcpg): join a named group, multicast messages that every member
//! delivers in the same order, and watch who is in the group.
//!
//! # Concepts
//! - A **group** is named by up to 128 bytes ([`GroupName`]). Any process on any node can
//!   [`join`](Cpg::join) it; there is nothing to create. A [`Cpg`] handle (one connection to
//!   the local daemon) is a member of at most one group at a time: open one handle per group.
//!   A process (pid) can join the same group only once per node.
//! - A **member** is a process, identified by node id and pid ([`Address`]).
//! - **Messages** sent with [`mcast`](Cpg::mcast) go to every member of the sender's group,
//!   the sender included. corosync's totem protocol gives *virtual synchrony*: every member
//!   delivers the same messages in the same total order, and membership changes are delivered
//!   at the same point of that order on every node. corosync 3.1.7 delivers every message in
//!   agreed (total) order whatever [`Guarantee`] is asked for; the enum exists because the C
//!   API has it.
//! - **Configuration changes** ([`ConfigChange`]) report joins and leaves of the group with a
//!   [`Reason`]: a `leave`, a process that exits or closes its handle (process down), a node
//!   that leaves the cluster (node down). **Totem configuration changes**
//!   ([`TotemConfigChange`]) report the cluster membership (ring id and node ids).
//!
//! # Callbacks and dispatch
//! Events arrive only while you call [`dispatch`](Cpg::dispatch). Give the closures to
//! [`Cpg::builder`]; each receives the handle (so it can send a reply from inside the
//! callback) and a view borrowed from libcpg's buffers: the message is a `&[u8]` into the
//! receive buffer, the group name and the member lists are borrowed in place. Delivering an
//! event allocates nothing on the Rust side. A callback that was not set costs nothing: the C
//! library is told there is none (except for messages, see below).
//!
//! The handle's fd ([`AsFd`](std::os::fd::AsFd)) becomes readable when events wait; call
//! `dispatch(DispatchMode::All)` then. libcpg's dispatch keeps a 1 MiB receive buffer on
//! the stack: call it from a thread with at least 2 MiB of stack (Rust's default).
//!
//! libcpg 3.1.7 calls the deliver callback of a handle without checking that it is set when a
//! message larger than [`max_atomic_msgsize`](Cpg::max_atomic_msgsize) arrives in fragments
//! (fixed upstream in 2025), so this crate always registers its deliver trampoline; messages
//! for a handle without an `on_deliver` closure are dropped in Rust.
//!
//! Instead of closures, a handle opened with [`Cpg::pull`] hands out owned [`Event`]s with
//! [`Cpg::next_event`]; see the crate docs on event loops.
//!
//! # After a daemon restart
//! Calls fail with an error for which [`Error::is_disconnected`] is true. [`Cpg::reconnect`]
//! gives the handle a new connection with the same closures (or pull queue), but the new
//! connection is in no group: join your groups again, and expect to have missed messages and
//! membership changes in between (the other members saw this process leave).
//!
//! # Flow control
//! Under load the daemon answers sends with [`Error::TryAgain`]: its totem send queue is full,
//! or the cluster is synchronising after a membership change. That is normal; retry after the
//! condition clears. [`Cpg::mcast_retrying`] does that without busy-spinning: it waits with a
//! bounded exponential backoff (from 0.25 ms to 16 ms), and while it waits it keeps
//! dispatching this handle's pending events (so the daemon need not buffer this handle's
//! deliveries meanwhile), unless it is called from inside a callback, where it just sleeps.
//! The `cpgbench` example measured 0.04 `TryAgain` answers per 64 KiB message with it,
//! against about 10 for a loop that dispatches and retries at once. In corosync 3.1.7
//! [`flow_control_state`](Cpg::flow_control_state) always answers
//! [`FlowControl::Disabled`] (libcpg does not ask the daemon), so it cannot be used to wait.
//!
//! # Zero-copy sends
//! [`Cpg::zcb_alloc`] returns a [`ZeroCopyBuffer`], which [`ZeroCopyBuffer::mcast`] sends; the
//! buffer stays valid, can be filled and sent again, and is freed (`cpg_zcb_free`) on drop.
//! What "zero-copy" means depends on the libcpg the program runs with:
//!
//! | corosync | `cpg_zcb_alloc` | `cpg_zcb_mcast_joined` |
//! |---|---|---|
//! | 3.1.0 to 3.1.10 (every 3.1 release) | a new file in /dev/shm, mapped by this process and by the daemon | tells the daemon where the message is: it is not copied through the IPC ring |
//! | upstream main after 3.1.10 (commit 28fb3425 "CPG: Remove zero-copy CPG", August 2026) | `malloc` | a plain `cpg_mcast_joined`: the message is copied through the IPC ring, as by [`Cpg::mcast`] |
//!
//! This API behaves the same with either library (the buffer is zero-filled by the crate, and
//! may be changed as soon as `mcast` returns); only the copy that is saved differs. On the
//! releases that still share memory, each buffer costs a file in /dev/shm and two mappings,
//! and libcpg aborts the process if it cannot create the file. Upstream removed the shared
//! memory because it saved little: code that does not hold on to buffers gets the same result
//! from [`Cpg::mcast`] on every release. Buffers are limited to
//! [`max_atomic_msgsize`](Cpg::max_atomic_msgsize) on every release: above it a 3.1 daemon
//! loses a zero-copy message, while upstream main's copy would be fragmented like any send.
//!
//! # Example
//! ```no_run
//! use corosync::cpg::{Cpg, GroupName, Guarantee};
//! use corosync::DispatchMode;
//!
//! let cpg = Cpg::builder()
//!     .on_deliver(|cpg, msg| {
//!         println!("node {} pid {}: {:?}", msg.node_id(), msg.pid(), msg.data());
//!         if msg.data() == b"ping" {
//!             // Replying from inside the callback is fine.
//!             let _ = cpg.mcast(Guarantee::Agreed, b"pong");
//!         }
//!     })
//!     .on_confchg(|_cpg, change| {
//!         println!("{}: {} members", change.group(), change.members().len());
//!     })
//!     .build()?;
//! let group = GroupName::new("example")?;
//! cpg.join(&group)?;
//! cpg.mcast_retrying(Guarantee::Agreed, b"ping", None)?;
//! loop {
//!     cpg.dispatch(DispatchMode::One)?;
//! }
//! # Ok::<(), corosync::Error>(())
//! ```

mod event;
mod iter;
mod name;
mod zcb;

use std::ffi::{c_int, c_uint, c_void};
use std::io::IoSlice;
use std::time::{Duration, Instant};

use corosync_sys as sys;

pub use event::{
    Address, ConfigChange, Event, Message, OwnedConfigChange, OwnedMessage, OwnedTotemConfigChange,
    Reason, TotemConfigChange,
};
pub use iter::{GroupMember, Iteration};
pub use name::GroupName;
pub use zcb::ZeroCopyBuffer;

use crate::c_enum::c_enum;
use crate::clist::{c_bytes, with_c_list, with_node_ids};
use crate::error::cs_result;
use crate::handle::{handle_type, library, run_callback_or_defer, Deferred, Handle};
use crate::{DispatchMode, Error, NodeId, Result, RingId};

type DeliverFn = Box<dyn FnMut(&Cpg, &Message<'_>) + Send>;
type ConfchgFn = Box<dyn FnMut(&Cpg, &ConfigChange<'_>) + Send>;
type TotemConfchgFn = Box<dyn FnMut(&Cpg, &TotemConfigChange<'_>) + Send>;

/// The closures of one handle.
#[derive(Default)]
pub(crate) struct Callbacks {
    deliver: Option<DeliverFn>,
    confchg: Option<ConfchgFn>,
    totem_confchg: Option<TotemConfchgFn>,
}

/// The daemon's reply buffer for `cpg_membership_get` has `PROCESSOR_COUNT_MAX` (384)
/// entries, and libcpg copies that many at most into the caller's list.
const MEMBERSHIP_MAX: usize = 384;

/// libcpg 3.1.7 copies the caller's iovecs into a local array of 64 entries, one of which is
/// its own header.
const IOVEC_MAX: usize = 63;

/// The longest zero-copy message this crate sends: libcpg's `max_msg_size`
/// (`IPC_REQUEST_SIZE - 1024`, 1 MiB minus 1 KiB), which
/// [`max_atomic_msgsize`](Cpg::max_atomic_msgsize) reports.
///
/// `cpg_zcb_mcast_joined` itself accepts up to `IPC_REQUEST_SIZE` (1 MiB) and answers `CS_OK`,
/// but the daemon cannot hand a message to its receivers when the deliver event (the message
/// and a 160-byte header) does not fit their 1 MiB IPC event ring: probed on a 3-node cluster
/// of corosync 3.1.7 with libqb 2.0.6, 1 048 392 bytes arrived everywhere and 1 048 393 bytes
/// nowhere, with nothing logged, and the connection delivered nothing after it. Zero-copy
/// messages are not fragmented, so the limit is the atomic size, with a margin of 840 bytes.
pub(crate) const ZCB_MAX_LEN: usize = 8192 * 128 - 1024;

library! {
    /// The marker for libcpg in the shared handle plumbing.
    CpgLib for Cpg, callbacks: Callbacks, event: Event,
    finalize: sys::cpg_finalize, fd_get: sys::cpg_fd_get, dispatch: sys::cpg_dispatch,
    session: Membership,
    // The library events come at the highest rates from: its trampolines copy an event read
    // after a panic, so `dispatch(All)` is one C call.
    defers: true,
}

/// The most members a group may have for corosync 3.1.7 to handle it safely
/// (`CPG_MEMBERS_MAX`). Its daemon and libcpg keep a group's members in fixed arrays of this
/// size without checking the count: when a node with more members of a group leaves, the
/// other nodes' daemons overflow their heap (`downlist_inform_clients` in exec/cpg.c; seen
/// with 130 members: the surviving daemon reported heap corruption and stopped serving), and
/// every member that dispatches a configuration change of a larger group overflows its own
/// stack inside `cpg_dispatch`. [`Cpg::join`] refuses to join a group that already has this
/// many members. See docs/daemon-safety.md.
///
/// ```
/// assert_eq!(corosync::cpg::GROUP_MEMBERS_MAX, 128);
/// ```
pub const GROUP_MEMBERS_MAX: usize = sys::CPG_MEMBERS_MAX as usize;

/// The group a handle joined or left, as far as this crate sent it: corosync 3.1.7's daemon
/// mishandles a leave of another group and a join after a leave, so [`Cpg::join`] and
/// [`Cpg::leave`] refuse those from this record (see docs/daemon-safety.md).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) enum Membership {
    /// No join answered `CS_OK` on this connection.
    #[default]
    None,
    /// A join of this group answered `CS_OK`.
    Joined(GroupName),
    /// A leave of the joined group answered `CS_OK`.
    Left,
}

handle_type! {
    /// A connection to the local daemon's CPG service: join a group, send to it, receive its
    /// messages and membership changes.
    ///
    /// Open one with [`Cpg::builder`] (with callbacks, through `cpg_model_initialize`) or
    /// [`Cpg::new`] (no callbacks, through `cpg_initialize`: for queries and sends). Dropping
    /// it closes the connection, which the group sees as the process leaving (reason
    /// [`Reason::ProcDown`]). `Send`, not `Sync`: see the crate docs.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName, Guarantee};
    /// let cpg = Cpg::builder().on_deliver(|_, msg| println!("{:?}", msg.data())).build()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// cpg.mcast(Guarantee::Agreed, b"hello")?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub struct Cpg(CpgLib);
    open: "corosync::cpg::Cpg::new()?";
    pull: "corosync::cpg::Cpg::pull()?";
    event: Event;
}

c_enum! {
    /// How a message is to be ordered (C's `cpg_guarantee_t`).
    ///
    /// corosync 3.1.7's daemon ignores the value and delivers every message in agreed (total)
    /// order, which also satisfies the weaker guarantees; `Safe` (delivered only once every node
    /// has it) is not implemented differently.
    ///
    /// ```
    /// use corosync::cpg::Guarantee;
    /// assert_eq!(Guarantee::Agreed.raw(), 2);
    /// assert_eq!(Guarantee::Agreed.to_string(), "agreed");
    /// ```
    pub enum Guarantee: sys::cpg_guarantee_t;
    path: "corosync::cpg::Guarantee";
    no_unknown;
    /// No ordering (`CPG_TYPE_UNORDERED`).
    Unordered = sys::CPG_TYPE_UNORDERED => "unordered",
    /// Each sender's messages in the order it sent them (`CPG_TYPE_FIFO`).
    Fifo = sys::CPG_TYPE_FIFO => "fifo",
    /// The same total order on every member (`CPG_TYPE_AGREED`).
    Agreed = sys::CPG_TYPE_AGREED => "agreed",
    /// Total order, delivered once every member has received it (`CPG_TYPE_SAFE`).
    Safe = sys::CPG_TYPE_SAFE => "safe",
}

c_enum! {
    /// Whether the daemon currently holds sends back (C's `cpg_flow_control_state_t`).
    ///
    /// ```
    /// use corosync::cpg::FlowControl;
    /// assert_ne!(FlowControl::Enabled, FlowControl::Disabled);
    /// assert_eq!(FlowControl::from(1), FlowControl::Enabled);
    /// assert_eq!(FlowControl::Disabled.to_string(), "disabled");
    /// ```
    pub enum FlowControl: sys::cpg_flow_control_state_t;
    path: "corosync::cpg::FlowControl";
    /// Sends are accepted (`CPG_FLOW_CONTROL_DISABLED`).
    Disabled = sys::CPG_FLOW_CONTROL_DISABLED => "disabled",
    /// Sends are held back (`CPG_FLOW_CONTROL_ENABLED`).
    Enabled = sys::CPG_FLOW_CONTROL_ENABLED => "enabled",
}

/// Builds a [`Cpg`] handle with callbacks (`cpg_model_initialize`, model v1).
///
/// ```no_run
/// use corosync::cpg::Cpg;
/// let cpg = Cpg::builder()
///     .on_deliver(|_cpg, msg| println!("{} bytes", msg.data().len()))
///     .on_confchg(|_cpg, change| println!("{} members", change.members().len()))
///     .on_totem_confchg(|_cpg, ring| println!("ring {}", ring.ring_id()))
///     .deliver_initial_totem_conf(true)
///     .build()?;
/// # Ok::<(), corosync::Error>(())
/// ```
#[must_use = "a builder does nothing until build() is called"]
#[derive(Default)]
pub struct Builder {
    callbacks: Callbacks,
    flags: c_uint,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("on_deliver", &self.callbacks.deliver.is_some())
            .field("on_confchg", &self.callbacks.confchg.is_some())
            .field("on_totem_confchg", &self.callbacks.totem_confchg.is_some())
            .field("flags", &self.flags)
            .finish()
    }
}

impl Builder {
    /// Called for every message delivered to the joined group.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_deliver(|_cpg, msg| println!("{:?}", msg.data()))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn on_deliver(mut self, f: impl FnMut(&Cpg, &Message<'_>) + Send + 'static) -> Self {
        self.callbacks.deliver = Some(Box::new(f));
        self
    }

    /// Called when processes join or leave the joined group.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_confchg(|_cpg, change| println!("{:?}", change.joined()))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn on_confchg(mut self, f: impl FnMut(&Cpg, &ConfigChange<'_>) + Send + 'static) -> Self {
        self.callbacks.confchg = Some(Box::new(f));
        self
    }

    /// Called when the cluster membership (totem ring) changes, while the handle is in a
    /// group.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_totem_confchg(|_cpg, ring| println!("{}", NodeId::display_list(ring.members())))
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn on_totem_confchg(
        mut self,
        f: impl FnMut(&Cpg, &TotemConfigChange<'_>) + Send + 'static,
    ) -> Self {
        self.callbacks.totem_confchg = Some(Box::new(f));
        self
    }

    /// Also deliver the current totem membership once, right after `join` has completed
    /// (`CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF`). Off by default.
    ///
    /// ```no_run
    /// use corosync::NodeId;
    /// let cpg = corosync::cpg::Cpg::builder()
    ///     .on_totem_confchg(|_cpg, ring| println!("{}", NodeId::display_list(ring.members())))
    ///     .deliver_initial_totem_conf(true)
    ///     .build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn deliver_initial_totem_conf(mut self, yes: bool) -> Self {
        if yes {
            self.flags |= sys::CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF as c_uint;
        } else {
            self.flags &= !(sys::CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF as c_uint);
        }
        self
    }

    /// Connects to the local daemon.
    ///
    /// # Errors
    /// [`Error::Library`] (or another C error) if the daemon does not answer or refuses the
    /// connection.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::builder().build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_model_initialize")]
    pub fn build(self) -> Result<Cpg> {
        let confchg = self.callbacks.confchg.is_some();
        let totem_confchg = self.callbacks.totem_confchg.is_some();
        let flags = self.flags;
        let handle = Handle::open(self.callbacks, move |context, _| {
            let mut model = sys::cpg_model_v1_data_t {
                model: sys::CPG_MODEL_V1,
                // Always set: see the module docs (libcpg 3.1.7 calls it unchecked for
                // fragmented messages).
                cpg_deliver_fn: Some(deliver_trampoline),
                cpg_confchg_fn: confchg.then_some(confchg_trampoline as _),
                cpg_totem_confchg_fn: totem_confchg.then_some(totem_confchg_trampoline as _),
                flags,
            };
            let mut raw: sys::cpg_handle_t = 0;
            // SAFETY: `raw` is writable; libcpg copies the model data (a full v1 struct, as
            // the model says) before returning; `context` is the handle's boxed state.
            let code = unsafe {
                sys::cpg_model_initialize(
                    &mut raw,
                    sys::CPG_MODEL_V1,
                    (&mut model as *mut sys::cpg_model_v1_data_t).cast(),
                    context,
                )
            };
            cs_result(code).map(|()| raw)
        })?;
        Ok(Cpg { handle })
    }

    /// Connects in pull mode: instead of closures, the handle queues every message,
    /// configuration change and totem configuration change as an owned [`Event`], which
    /// [`Cpg::next_event`] and [`Cpg::try_next_event`] hand out. Closures set on this builder
    /// are replaced; [`deliver_initial_totem_conf`](Builder::deliver_initial_totem_conf)
    /// applies.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, Event};
    /// let cpg = Cpg::builder().deliver_initial_totem_conf(true).build_pull()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn build_pull(self) -> Result<Cpg> {
        let mut cpg = self
            .on_deliver(|cpg, msg| cpg.handle.push_event(Event::Message(msg.into_owned())))
            .on_confchg(|cpg, change| {
                cpg.handle
                    .push_event(Event::ConfigChange(change.into_owned()))
            })
            .on_totem_confchg(|cpg, ring| {
                cpg.handle
                    .push_event(Event::TotemConfigChange(ring.into_owned()))
            })
            .build()?;
        cpg.handle.enable_pull();
        Ok(cpg)
    }
}

impl Cpg {
    /// A builder for a handle with callbacks.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::builder().on_deliver(|_, _| {}).build()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects without callbacks (`cpg_initialize`): for listing groups, membership queries
    /// and sending. Messages and changes that reach it are dropped.
    ///
    /// # Errors
    /// [`Error::Library`] (or another C error) if the daemon does not answer or refuses the
    /// connection.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// println!("local node {}", cpg.local_node_id()?);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_initialize")]
    pub fn new() -> Result<Cpg> {
        let handle = Handle::open(Callbacks::default(), |_context, _| {
            let mut callbacks = sys::cpg_callbacks_t {
                cpg_deliver_fn: Some(deliver_trampoline),
                cpg_confchg_fn: None,
            };
            let mut raw: sys::cpg_handle_t = 0;
            // SAFETY: both pointers are valid for the call; libcpg copies the callbacks.
            let code = unsafe { sys::cpg_initialize(&mut raw, &mut callbacks) };
            cs_result(code).map(|()| raw)
        })?;
        Ok(Cpg { handle })
    }

    /// Connects in pull mode (with every callback): see [`Builder::build_pull`].
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, Event, GroupName};
    /// let cpg = Cpg::pull()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// while let Some(event) = cpg.next_event(None)? {
    ///     if let Event::Message(msg) = event {
    ///         println!("{:?}", msg.data());
    ///     }
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn pull() -> Result<Cpg> {
        Builder::default().build_pull()
    }

    fn raw(&self) -> sys::cpg_handle_t {
        self.handle.raw()
    }

    /// Joins `group`: this handle becomes a member, receives its messages and membership
    /// changes, and may send to it. A handle is in one group at a time.
    ///
    /// # Errors
    /// [`Error::Exist`] if this handle (or another handle of this process on this node) is
    /// already in that group; [`Error::TryAgain`] while an earlier leave of the same process
    /// is still in flight. [`Error::NoSpace`] if the group already has [`GROUP_MEMBERS_MAX`]
    /// members (asked of the daemon just before the join; two processes joining at the same
    /// moment can still pass 128 together). [`Error::NotSupported`] on a handle that has left
    /// a group: corosync 3.1.7's daemon keeps such a connection in its leaving state for good
    /// and answers every later join with `CS_ERR_BUSY`, which libcpg retries without end (the
    /// call would never return). Join from a new handle instead.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName};
    /// let cpg = Cpg::new()?;
    /// // The group a C program joins as "my_group" with strlen + 1:
    /// cpg.join(&GroupName::with_nul("my_group")?)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_join")]
    pub fn join(&self, group: &GroupName) -> Result<()> {
        if let Membership::Left = *self.handle.session().borrow() {
            return Err(Error::NotSupported);
        }
        if self.membership(group)?.len() >= GROUP_MEMBERS_MAX {
            return Err(Error::NoSpace);
        }
        // SAFETY: the handle is live and the name is a valid cpg_name for the call.
        cs_result(unsafe { sys::cpg_join(self.raw(), group.as_raw()) })?;
        *self.handle.session().borrow_mut() = Membership::Joined(*group);
        Ok(())
    }

    /// Leaves `group`. The group's members (this handle included) see a configuration change
    /// with reason [`Reason::Leave`].
    ///
    /// corosync 3.1.7 does not let the process join the same group again while this handle
    /// lives: the daemon keeps the handle's group and pid after the leave, and a `join` of
    /// that group from another handle of the same process on the same node answers
    /// [`Error::Exist`]. This handle cannot join any group any more ([`Cpg::join`] answers
    /// [`Error::NotSupported`]). Drop (or finalize) the handle, then join from a new one.
    ///
    /// # Errors
    /// [`Error::NotExist`] if the handle is not in `group`. The crate answers that itself when
    /// the handle joined another group: corosync 3.1.7's daemon does not compare the name
    /// with the joined group, so it would take the handle out of service, announce a leave of
    /// `group` (removing this process from `group` if another of its handles is in it), and
    /// leave this process in the joined group for good, also after the handle is closed.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName};
    /// let cpg = Cpg::new()?;
    /// let group = GroupName::new("tmp")?;
    /// cpg.join(&group)?;
    /// cpg.leave(&group)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_leave")]
    pub fn leave(&self, group: &GroupName) -> Result<()> {
        let joined = match *self.handle.session().borrow() {
            Membership::Joined(joined) if joined != *group => return Err(Error::NotExist),
            Membership::Joined(_) => true,
            // The daemon answers CS_ERR_NOT_EXIST itself for a connection in no group.
            Membership::None | Membership::Left => false,
        };
        // SAFETY: the handle is live and the name is a valid cpg_name for the call.
        cs_result(unsafe { sys::cpg_leave(self.raw(), group.as_raw()) })?;
        if joined {
            *self.handle.session().borrow_mut() = Membership::Left;
        }
        Ok(())
    }

    /// Sends `data` to every member of the joined group (this handle included). Messages
    /// larger than [`max_atomic_msgsize`](Cpg::max_atomic_msgsize) are sent in fragments by
    /// libcpg and delivered whole (checked up to 2 MiB on a 3-node cluster); only zero-copy
    /// sends are limited to the atomic size (see [`Cpg::zcb_alloc`]).
    ///
    /// libcpg 3.1.7 queues the message to the daemon without waiting for an answer, so a
    /// message sent by a handle that has not joined a group is dropped by the daemon without
    /// an error here (the zero-copy send of corosync 3.1 does answer [`Error::NotExist`]).
    ///
    /// # Errors
    /// [`Error::TryAgain`] under flow control (see [`Cpg::mcast_retrying`]);
    /// [`Error::TooLong`] for a message of 4 GiB or more; [`Error::Library`] if the connection
    /// is gone.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName, Guarantee};
    /// let cpg = Cpg::new()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// cpg.mcast(Guarantee::Agreed, b"hello")?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_mcast_joined")]
    pub fn mcast(&self, guarantee: Guarantee, data: &[u8]) -> Result<()> {
        self.mcast_vectored(guarantee, &[IoSlice::new(data)])
    }

    /// Sends the concatenation of `bufs` as one message, without concatenating them in
    /// memory (up to 63 slices; libcpg 3.1.7 copies the list into a fixed array of 64, so a
    /// longer list is first gathered into one buffer here).
    ///
    /// # Errors
    /// As [`Cpg::mcast`].
    ///
    /// ```no_run
    /// use std::io::IoSlice;
    /// use corosync::cpg::{Cpg, GroupName, Guarantee};
    /// let cpg = Cpg::new()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// let header = 7u32.to_le_bytes();
    /// cpg.mcast_vectored(Guarantee::Agreed, &[IoSlice::new(&header), IoSlice::new(b"body")])?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_mcast_joined")]
    pub fn mcast_vectored(&self, guarantee: Guarantee, bufs: &[IoSlice<'_>]) -> Result<()> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total > u32::MAX as usize {
            return Err(Error::TooLong {
                what: "CPG message",
                length: total,
                max: u32::MAX as usize,
            });
        }
        if bufs.len() > IOVEC_MAX {
            let gathered: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            return self.mcast_vectored(guarantee, &[IoSlice::new(&gathered)]);
        }
        // SAFETY: on Unix, std's IoSlice is guaranteed ABI-compatible with `struct iovec`
        // (its docs say so), the slices live for the call, and libcpg only reads them. The
        // count fits the library's array (checked above).
        let code = unsafe {
            sys::cpg_mcast_joined(
                self.raw(),
                guarantee.raw(),
                bufs.as_ptr().cast::<sys::iovec>(),
                bufs.len() as c_uint,
            )
        };
        cs_result(code)
    }

    /// Sends `data` like [`Cpg::mcast`], and when the daemon answers [`Error::TryAgain`]
    /// waits for flow control to clear and sends again, until it is accepted or `deadline`
    /// passes. Returns how many times the daemon answered `TryAgain` for this message.
    ///
    /// It does not busy-spin: between tries it waits with an exponential backoff from
    /// 0.25 ms to 16 ms. While waiting it polls the handle's fd and dispatches pending events
    /// (running this handle's callbacks), so that the daemon's queue of events for this
    /// handle does not grow; called from inside one of this handle's callbacks, where dispatch
    /// is refused, it only sleeps.
    ///
    /// # Errors
    /// [`Error::TryAgain`] if `deadline` passed before the message was accepted; any other
    /// error of [`Cpg::mcast`] or of dispatch at once.
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    /// use corosync::cpg::{Cpg, GroupName, Guarantee};
    /// let cpg = Cpg::new()?;
    /// cpg.join(&GroupName::new("bulk")?)?;
    /// let block = vec![0u8; 64 * 1024];
    /// for _ in 0..100 {
    ///     let deadline = Instant::now() + Duration::from_secs(5);
    ///     cpg.mcast_retrying(Guarantee::Agreed, &block, Some(deadline))?;
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn mcast_retrying(
        &self,
        guarantee: Guarantee,
        data: &[u8],
        deadline: Option<Instant>,
    ) -> Result<u32> {
        self.retry(deadline, || self.mcast(guarantee, data))
    }

    /// [`Cpg::mcast_vectored`] with the waiting of [`Cpg::mcast_retrying`].
    ///
    /// # Errors
    /// As [`Cpg::mcast_retrying`].
    ///
    /// ```no_run
    /// use std::io::IoSlice;
    /// use corosync::cpg::{Cpg, GroupName, Guarantee};
    /// let cpg = Cpg::new()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// cpg.mcast_vectored_retrying(Guarantee::Agreed, &[IoSlice::new(b"a"), IoSlice::new(b"b")], None)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn mcast_vectored_retrying(
        &self,
        guarantee: Guarantee,
        bufs: &[IoSlice<'_>],
        deadline: Option<Instant>,
    ) -> Result<u32> {
        self.retry(deadline, || self.mcast_vectored(guarantee, bufs))
    }

    /// Runs `send` until it does not answer TryAgain; see [`Cpg::mcast_retrying`].
    pub(crate) fn retry(
        &self,
        deadline: Option<Instant>,
        mut send: impl FnMut() -> Result<()>,
    ) -> Result<u32> {
        let mut try_again = 0u32;
        let mut backoff = BACKOFF_MIN;
        loop {
            match send() {
                Err(Error::TryAgain) => try_again = try_again.saturating_add(1),
                other => return other.map(|()| try_again),
            }
            let now = Instant::now();
            let mut until = now + backoff;
            if let Some(deadline) = deadline {
                if now >= deadline {
                    return Err(Error::TryAgain);
                }
                until = until.min(deadline);
            }
            self.wait_dispatching(until)?;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Waits until `until`, dispatching this handle's events as they arrive (or just sleeping
    /// when called from inside a callback).
    fn wait_dispatching(&self, until: Instant) -> Result<()> {
        let mut can_dispatch = true;
        loop {
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            let remaining = until - now;
            if !can_dispatch {
                std::thread::sleep(remaining);
                return Ok(());
            }
            // A poll error counts as readable: the dispatch then reports what is wrong.
            if self.wait_readable(Some(remaining)).unwrap_or(true) {
                match self.dispatch(DispatchMode::All) {
                    Ok(_) => {}
                    Err(Error::ReentrantDispatch) => can_dispatch = false,
                    Err(err) => return Err(err),
                }
            }
        }
    }

    /// The members of `group`, as the local daemon knows them (reason
    /// [`Reason::Undefined`]), in the daemon's order. The handle need not be in the group.
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName};
    /// let cpg = Cpg::new()?;
    /// for member in cpg.membership(&GroupName::new("demo")?)? {
    ///     println!("node {} pid {}", member.node_id(), member.pid());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_membership_get")]
    pub fn membership(&self, group: &GroupName) -> Result<Vec<Address>> {
        let mut list = vec![Address::zeroed(); MEMBERSHIP_MAX];
        let mut entries: c_int = 0;
        let mut name = *group.as_raw();
        // SAFETY: the handle is live; `list` has room for the most entries libcpg can copy
        // (the daemon's reply holds MEMBERSHIP_MAX), Address is repr(transparent) over
        // cpg_address; libcpg only reads the name (the pointer is not const in the header).
        let code = unsafe {
            sys::cpg_membership_get(
                self.raw(),
                &mut name,
                list.as_mut_ptr().cast::<sys::cpg_address>(),
                &mut entries,
            )
        };
        cs_result(code)?;
        list.truncate(usize::try_from(entries).unwrap_or(0).min(MEMBERSHIP_MAX));
        Ok(list)
    }

    /// The id of the node this handle is connected to (`cpg_local_get`).
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// println!("this is node {}", cpg.local_node_id()?);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_local_get")]
    pub fn local_node_id(&self) -> Result<NodeId> {
        let mut id: c_uint = 0;
        // SAFETY: the handle is live and `id` is writable.
        cs_result(unsafe { sys::cpg_local_get(self.raw(), &mut id) })?;
        Ok(NodeId::from(id))
    }

    /// The largest message that is sent in one piece (`cpg_max_atomic_msgsize_get`): 1 MiB
    /// minus 1 KiB with corosync 3.1.7. Larger messages are fragmented by libcpg.
    ///
    /// libcpg answers from its own state without asking the daemon, so this keeps answering
    /// after the daemon died.
    ///
    /// # Errors
    /// None in practice: [`Error::BadHandle`] only for a handle value libcpg does not know,
    /// which a [`Cpg`] never is.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// println!("{} bytes", cpg.max_atomic_msgsize()?);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_max_atomic_msgsize_get")]
    pub fn max_atomic_msgsize(&self) -> Result<usize> {
        let mut size: u32 = 0;
        // SAFETY: the handle is live and `size` is writable.
        cs_result(unsafe { sys::cpg_max_atomic_msgsize_get(self.raw(), &mut size) })?;
        Ok(size as usize)
    }

    /// Whether sends are held back (`cpg_flow_control_state_get`). libcpg 3.1.7 always
    /// answers [`FlowControl::Disabled`] without asking the daemon; see the module docs.
    ///
    /// Like [`Cpg::max_atomic_msgsize`], it answers from libcpg's state, also after the
    /// daemon died.
    ///
    /// # Errors
    /// [`Error::UnexpectedValue`] for a state this build does not know.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// println!("{:?}", cpg.flow_control_state()?);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_flow_control_state_get")]
    pub fn flow_control_state(&self) -> Result<FlowControl> {
        let mut state: sys::cpg_flow_control_state_t = 0;
        // SAFETY: the handle is live and `state` is writable.
        cs_result(unsafe { sys::cpg_flow_control_state_get(self.raw(), &mut state) })?;
        Ok(FlowControl::from(state))
    }
}

/// First wait after a TryAgain answer.
const BACKOFF_MIN: Duration = Duration::from_micros(250);
/// Longest wait between two tries.
const BACKOFF_MAX: Duration = Duration::from_millis(16);

extern "C" fn deliver_trampoline(
    handle: sys::cpg_handle_t,
    group_name: *const sys::cpg_name,
    nodeid: u32,
    pid: u32,
    msg: *mut c_void,
    msg_len: usize,
) {
    if group_name.is_null() {
        return;
    }
    // SAFETY: libcpg passes a cpg_name that lives for the callback.
    let group = GroupName::from_raw(unsafe { &*group_name });
    // SAFETY: libcpg passes `msg_len` bytes at `msg`, valid for the callback.
    let data = unsafe { c_bytes(msg, msg_len) };
    let message = Message {
        group,
        node_id: NodeId::from(nodeid),
        pid,
        data,
    };
    let defer = || -> Deferred<CpgLib> {
        let owned = message.into_owned();
        Box::new(move |cpg, callbacks| on_deliver(cpg, callbacks, &owned.view()))
    };
    // SAFETY: libcpg calls this trampoline only from cpg_dispatch of a handle of this module.
    unsafe {
        run_callback_or_defer::<CpgLib>(
            handle,
            |cpg, callbacks| on_deliver(cpg, callbacks, &message),
            defer,
        )
    }
}

fn on_deliver(cpg: &Cpg, callbacks: &mut Callbacks, message: &Message<'_>) {
    if let Some(on_deliver) = callbacks.deliver.as_mut() {
        on_deliver(cpg, message);
    }
}

#[allow(clippy::too_many_arguments)]
extern "C" fn confchg_trampoline(
    handle: sys::cpg_handle_t,
    group_name: *const sys::cpg_name,
    member_list: *const sys::cpg_address,
    member_list_entries: usize,
    left_list: *const sys::cpg_address,
    left_list_entries: usize,
    joined_list: *const sys::cpg_address,
    joined_list_entries: usize,
) {
    if group_name.is_null() {
        return;
    }
    // SAFETY: libcpg passes a cpg_name that lives for the callback.
    let group = GroupName::from_raw(unsafe { &*group_name });
    // SAFETY: libcpg passes each list with its number of entries, valid for the callback.
    unsafe {
        with_c_list(member_list, member_list_entries, |members| {
            with_c_list(left_list, left_list_entries, |left| {
                with_c_list(joined_list, joined_list_entries, |joined| {
                    let change = ConfigChange {
                        group,
                        members: Address::from_raw_slice(members),
                        left: Address::from_raw_slice(left),
                        joined: Address::from_raw_slice(joined),
                    };
                    let defer = || -> Deferred<CpgLib> {
                        let owned = change.into_owned();
                        Box::new(move |cpg, callbacks| on_confchg(cpg, callbacks, &owned.view()))
                    };
                    // SAFETY: libcpg calls this trampoline only from cpg_dispatch of a handle
                    // of this module.
                    run_callback_or_defer::<CpgLib>(
                        handle,
                        |cpg, callbacks| on_confchg(cpg, callbacks, &change),
                        defer,
                    )
                })
            })
        })
    }
}

fn on_confchg(cpg: &Cpg, callbacks: &mut Callbacks, change: &ConfigChange<'_>) {
    if let Some(on_confchg) = callbacks.confchg.as_mut() {
        on_confchg(cpg, change);
    }
}

extern "C" fn totem_confchg_trampoline(
    handle: sys::cpg_handle_t,
    ring_id: sys::cpg_ring_id,
    member_list_entries: u32,
    member_list: *const u32,
) {
    let ring_id = RingId::from(ring_id);
    // SAFETY: libcpg passes `member_list_entries` node ids, valid for the callback.
    unsafe {
        with_node_ids(member_list, member_list_entries as usize, |members| {
            let change = TotemConfigChange { ring_id, members };
            let defer = || -> Deferred<CpgLib> {
                let owned = change.into_owned();
                Box::new(move |cpg, callbacks| on_totem_confchg(cpg, callbacks, &owned.view()))
            };
            // SAFETY: libcpg calls this trampoline only from cpg_dispatch of a handle of this
            // module.
            run_callback_or_defer::<CpgLib>(
                handle,
                |cpg, callbacks| on_totem_confchg(cpg, callbacks, &change),
                defer,
            )
        })
    }
}

fn on_totem_confchg(cpg: &Cpg, callbacks: &mut Callbacks, change: &TotemConfigChange<'_>) {
    if let Some(on_totem_confchg) = callbacks.totem_confchg.as_mut() {
        on_totem_confchg(cpg, change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarantee_values_match_c() {
        assert_eq!(Guarantee::Unordered.raw(), sys::CPG_TYPE_UNORDERED);
        assert_eq!(Guarantee::Fifo.raw(), sys::CPG_TYPE_FIFO);
        assert_eq!(Guarantee::Agreed.raw(), sys::CPG_TYPE_AGREED);
        assert_eq!(Guarantee::Safe.raw(), sys::CPG_TYPE_SAFE);
    }

    #[test]
    fn io_slice_has_the_layout_of_iovec() {
        let data = [1u8, 2, 3];
        let slices = [IoSlice::new(&data)];
        assert_eq!(
            std::mem::size_of::<IoSlice<'_>>(),
            std::mem::size_of::<sys::iovec>()
        );
        // SAFETY: the layouts are the same (std guarantees it on Unix; checked above).
        let iov = unsafe { &*slices.as_ptr().cast::<sys::iovec>() };
        assert_eq!(iov.iov_base.cast_const().cast::<u8>(), data.as_ptr());
        assert_eq!(iov.iov_len, 3);
    }

    #[test]
    fn builder_flags_toggle() {
        let b = Cpg::builder().deliver_initial_totem_conf(true);
        assert_eq!(b.flags, 1);
        let b = b.deliver_initial_totem_conf(false);
        assert_eq!(b.flags, 0);
        assert!(format!("{b:?}").contains("on_deliver: false"));
    }
}
