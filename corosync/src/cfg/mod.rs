//! The configuration service (libcfg): node addresses and link status, shutting a daemon
//! down, killing a node, reloading corosync.conf.
//!
//! A [`Cfg`] handle is a connection to the corosync daemon of the node it runs on. Through
//! it a program can:
//!
//! - ask who it is ([`Cfg::local_node_id`]) and which addresses a node has
//!   ([`Cfg::node_addrs`]);
//! - see the state of the network as the local node sees it: per node, whether it is
//!   reachable and the state of each of its links ([`Cfg::node_status`]), or the older
//!   per-interface summary strings ([`Cfg::ring_status`]);
//! - change the cluster: make every node re-read its corosync.conf ([`Cfg::reload_config`]),
//!   make the local daemon reopen its log files ([`Cfg::reopen_log_files`]), stop another
//!   node's daemon ([`Cfg::kill_node`]) or the local one ([`Cfg::try_shutdown`]).
//!
//! This is what `corosync-cfgtool` is built on; the example program `cfgtool` of this
//! repository is a drop-in counterpart written with this module.
//!
//! # Links
//! corosync 3 talks to the other nodes through kronosnet ("knet"), over up to 8 *links* per
//! node (`ring0_addr` ... `ring7_addr` in corosync.conf's nodelist). A link to a node is
//! *enabled* when it is configured, and *connected* when knet currently hears the other node
//! on it. A node is *reachable* when at least one of its links is connected. The local node
//! only has a link to itself, so to see which links work look at any other node.
//!
//! # Shutdown negotiation
//! A daemon can be asked to stop with [`Cfg::try_shutdown`]. Programs that care (a resource
//! manager that first wants to move its services away) take part as *trackers*: they open a
//! handle with a shutdown callback ([`Builder::on_shutdown`]), call
//! [`Cfg::track_start`], and dispatch their handle. When a shutdown is requested, every
//! tracker's callback runs with the request's [`ShutdownMode`] and answers with
//! [`Cfg::reply_to_shutdown`]:
//!
//! - [`ShutdownMode::Request`]: one [`ShutdownReply::No`] vetoes the shutdown, and
//!   `try_shutdown` fails with [`Error::Busy`].
//! - [`ShutdownMode::Regardless`]: the trackers are asked, but the daemon stops whatever they
//!   answer.
//! - [`ShutdownMode::Immediate`]: the trackers are not asked.
//!
//! A tracker that does not answer within `cfg.shutdown_timeout` milliseconds (a cmap key,
//! 5000 by default) counts as a "no". [`Cfg::try_shutdown`] blocks until the decision is made
//! (libcfg waits for the daemon's answer without a timeout of its own), so the trackers'
//! callbacks must be dispatched by other handles, typically on other threads or processes: a
//! handle cannot answer a request it is itself blocked on.
//!
//! # Caveats of libcfg (corosync 3.1.7)
//! - `corosync_cfg_replyto_shutdown` takes a reference to the handle and never releases it,
//!   so the connection of a handle that has replied to a shutdown request is not closed when
//!   the handle is finalized: it stays open until the process exits. Left alone, it would
//!   also stay registered as a tracker that never answers again, and every later shutdown
//!   request would wait `cfg.shutdown_timeout` for it and then count it as a veto; so
//!   dropping (or finalizing) a [`Cfg`] stops its tracking first.
//! - `corosync_cfg_replyto_shutdown` reports only errors of the connection, not the daemon's
//!   answer: a reply when no shutdown is in progress is `Ok(())` (the daemon ignores it).
//! - `corosync_cfg_kill_node` ignores a failure to send its request and returns whatever its
//!   (then uninitialised) answer buffer holds: on a connection that is already gone its result
//!   is unreliable (any error, or even `Ok(())`). Check the connection first, e.g. with
//!   [`Cfg::local_node_id`], if it matters.
//! - [`Cfg::kill_node`] and [`Cfg::reload_config`] act on the whole cluster: the request is
//!   multicast and every node (or the named node) carries it out.
//!
//! # Example
//! ```no_run
//! use corosync::cfg::Cfg;
//!
//! # fn main() -> corosync::Result<()> {
//! let cfg = Cfg::new()?;
//! let me = cfg.local_node_id()?;
//! println!("local node {me}, addresses {:?}", cfg.node_addrs(me)?);
//! for link in cfg.node_status(2.into())?.enabled_links() {
//!     println!("link {} to node 2 connected: {}", link.link_id, link.connected);
//! }
//! # Ok(()) }
//! ```

mod event;
mod shutdown;
mod status;

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::net::IpAddr;
use std::ptr;

use corosync_sys as sys;

use crate::cstr::with_c_str;
use crate::error::cs_result;
use crate::handle::{handle_type, run_callback, Handle, Library};
use crate::{Error, NodeId, Result, TrackFlags};

pub use event::Event;
pub use shutdown::{ShutdownMode, ShutdownReply};
pub use status::InterfaceStatus;
use status::{decode_node_address, RingStatusArrays};
#[cfg(corosync_cfg_node_status)]
pub use status::{LinkStatus, NodeStatus};

/// Longest kill reason in bytes: libcfg refuses `strlen(reason) >= CS_MAX_NAME_LENGTH`.
///
/// ```
/// assert_eq!(corosync::cfg::MAX_KILL_REASON_LEN, 255);
/// ```
pub const MAX_KILL_REASON_LEN: usize = sys::CS_MAX_NAME_LENGTH as usize - 1;

/// Room for node addresses: corosync has at most 8 links per node (`INTERFACE_MAX`); the
/// IPC protocol leaves room for 16 (`CFG_MAX_INTERFACES`).
const MAX_NODE_ADDRS: usize = 16;

// The sockaddr structures libcfg writes must fit in its 28-byte address field.
const _: () = assert!(
    std::mem::size_of::<libc::sockaddr_in6>() <= std::mem::size_of::<[c_char; 28]>()
        && std::mem::size_of::<libc::sockaddr_in>() <= std::mem::size_of::<[c_char; 28]>()
);

/// The marker of libcfg for the shared handle plumbing.
pub(crate) enum CfgLib {}

/// A boxed shutdown callback.
type ShutdownCallback = Box<dyn FnMut(&Cfg, ShutdownMode) + Send>;

/// The Rust state of a [`Cfg`] handle that its trampoline reaches.
pub(crate) struct CfgCallbacks {
    shutdown: Option<ShutdownCallback>,
}

// (libcfg has no context pointer of its own, `corosync_cfg_context_get` does not exist; the
// shared plumbing needs none: see the docs of `crate::handle`.)
// SAFETY: `Cfg` is declared with handle_type!, the functions are libcfg's own, libcfg calls the
// shutdown callback only from `corosync_cfg_dispatch` of the handle being dispatched, on the
// calling thread, and only `run_callback` touches the callbacks.
unsafe impl Library for CfgLib {
    type Public = Cfg;
    type Callbacks = CfgCallbacks;
    type Event = Event;
    type Session = ();

    fn reconnected(gap: crate::Reconnected) -> Event {
        Event::Reconnected(gap)
    }

    unsafe fn finalize(raw: u64) -> sys::cs_error_t {
        // A handle that has replied to a shutdown request is never really closed by libcfg
        // (see the module docs); stop its tracking first, so that the daemon does not keep
        // asking a connection nobody dispatches and count its silence as a veto. A handle
        // that does not track answers an error here, which changes nothing.
        // SAFETY: the caller guarantees `raw` came from corosync_cfg_initialize and is
        // finalized once; trackstop before it is a plain request on a live handle.
        unsafe {
            sys::corosync_cfg_trackstop(raw);
            sys::corosync_cfg_finalize(raw)
        }
    }

    unsafe fn fd_get(raw: u64, fd: *mut c_int) -> sys::cs_error_t {
        // SAFETY: the caller guarantees `raw` is live and `fd` writable.
        unsafe { sys::corosync_cfg_fd_get(raw, fd) }
    }

    unsafe fn dispatch(raw: u64, flags: sys::cs_dispatch_flags_t) -> sys::cs_error_t {
        // SAFETY: the caller guarantees `raw` is a live handle.
        unsafe { sys::corosync_cfg_dispatch(raw, flags) }
    }
}

/// The C shutdown callback: hands the request to the handle's closure.
extern "C" fn shutdown_trampoline(raw: u64, flags: sys::corosync_cfg_shutdown_flags_t) {
    // SAFETY: libcfg calls this callback only from corosync_cfg_dispatch, which only
    // `CfgLib::dispatch` calls.
    unsafe {
        run_callback::<CfgLib>(raw, |cfg, callbacks| {
            if let Some(callback) = callbacks.shutdown.as_mut() {
                callback(cfg, ShutdownMode::from(flags));
            }
        });
    }
}

/// Collects the shutdown callback of a [`Cfg`] handle, then connects with
/// [`build`](Builder::build).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::builder()
///     .on_shutdown(|cfg, _| {
///         let _ = cfg.reply_to_shutdown(corosync::cfg::ShutdownReply::Yes);
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Default)]
pub struct Builder {
    shutdown: Option<ShutdownCallback>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("on_shutdown", &self.shutdown.is_some())
            .finish()
    }
}

impl Builder {
    /// Sets the callback for shutdown requests (`corosync_cfg_shutdown_callback`).
    ///
    /// The callback runs inside [`Cfg::dispatch`] when another client (or
    /// `corosync-cfgtool -H`) asks the daemon to shut down, once [`Cfg::track_start`] has
    /// registered the handle as a tracker. It receives the handle, so it can answer at once
    /// with [`Cfg::reply_to_shutdown`]; it may also answer later, within the daemon's shutdown
    /// timeout (see the [module docs](self)).
    ///
    /// ```no_run
    /// use corosync::cfg::{Cfg, ShutdownMode, ShutdownReply};
    /// use corosync::{DispatchMode, TrackFlags};
    ///
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::builder()
    ///     .on_shutdown(|cfg, flags| {
    ///         // Veto polite requests; the other kinds happen anyway.
    ///         let reply = match flags {
    ///             ShutdownMode::Request => ShutdownReply::No,
    ///             _ => ShutdownReply::Yes,
    ///         };
    ///         if let Err(err) = cfg.reply_to_shutdown(reply) {
    ///             eprintln!("could not answer the shutdown request: {err}");
    ///         }
    ///     })
    ///     .build()?;
    /// cfg.track_start(TrackFlags::CHANGES)?;
    /// loop {
    ///     cfg.dispatch(DispatchMode::One)?;
    /// }
    /// # }
    /// ```
    ///
    /// The closure is stored in the handle, so it must be `'static`; it cannot borrow local
    /// variables:
    ///
    /// ```compile_fail,E0373
    /// let mut count = 0;
    /// let cfg = corosync::cfg::Cfg::builder().on_shutdown(|_, _| count += 1).build();
    /// ```
    pub fn on_shutdown<F>(mut self, callback: F) -> Self
    where
        F: FnMut(&Cfg, ShutdownMode) + Send + 'static,
    {
        self.shutdown = Some(Box::new(callback));
        self
    }

    /// Connects to the local daemon (`corosync_cfg_initialize`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::builder().build()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_initialize")]
    pub fn build(self) -> Result<Cfg> {
        Cfg::open(self.shutdown)
    }

    /// Connects in pull mode: see [`Cfg::pull`]. A callback set on this builder is replaced.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::builder().build_pull()?;
    /// # Ok(()) }
    /// ```
    pub fn build_pull(self) -> Result<Cfg> {
        let mut cfg = self
            .on_shutdown(|cfg, flags| cfg.handle.push_event(Event::ShutdownRequest(flags)))
            .build()?;
        cfg.handle.enable_pull();
        Ok(cfg)
    }
}

handle_type! {
    /// A connection to the local corosync daemon's configuration service (libcfg).
    ///
    /// Open one with [`Cfg::new`], or with [`Cfg::builder`] and a shutdown callback to take part in
    /// shutdown decisions (see the [module docs](self)). Dropping it closes the connection.
    ///
    /// Like every handle of this crate it is [`Send`] but not [`Sync`]: move it to another
    /// thread freely, but open one handle per thread for concurrent requests.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// println!("this is node {}", cfg.local_node_id()?);
    /// # Ok(()) }
    /// ```
    pub struct Cfg(CfgLib);
    open: "corosync::cfg::Cfg::new()?";
    pull: "corosync::cfg::Cfg::pull()?";
    event: Event;
}

impl Cfg {
    /// Connects to the local daemon, without a shutdown callback.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_initialize")]
    pub fn new() -> Result<Cfg> {
        Cfg::open(None)
    }

    /// A builder for a connection with a callback for shutdown requests.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::builder()
    ///     .on_shutdown(|cfg, flags| println!("shutdown requested: {flags:?}"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects to the local daemon with a callback for shutdown requests: the same as
    /// `Cfg::builder().on_shutdown(callback).build()`, which replaces it.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// #[allow(deprecated)]
    /// let cfg = corosync::cfg::Cfg::with_shutdown_callback(|_, _| {})?;
    /// # Ok(()) }
    /// ```
    #[deprecated(note = "use `Cfg::builder().on_shutdown(callback).build()`")]
    #[doc(alias = "corosync_cfg_initialize")]
    pub fn with_shutdown_callback<F>(callback: F) -> Result<Cfg>
    where
        F: FnMut(&Cfg, ShutdownMode) + Send + 'static,
    {
        Cfg::builder().on_shutdown(callback).build()
    }

    /// Connects in pull mode: shutdown requests (once [`Cfg::track_start`] was called) are
    /// queued as [`Event::ShutdownRequest`], which [`Cfg::next_event`] and
    /// [`Cfg::try_next_event`] hand out; answer each with [`Cfg::reply_to_shutdown`].
    ///
    /// ```no_run
    /// use corosync::cfg::{Cfg, Event, ShutdownReply};
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::pull()?;
    /// cfg.track_start(corosync::TrackFlags::CHANGES)?;
    /// while let Some(event) = cfg.next_event(None)? {
    ///     if let Event::ShutdownRequest(_) = event {
    ///         cfg.reply_to_shutdown(ShutdownReply::Yes)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pull() -> Result<Cfg> {
        Builder::default().build_pull()
    }

    fn open(shutdown: Option<ShutdownCallback>) -> Result<Cfg> {
        let c_callbacks = sys::corosync_cfg_callbacks_t {
            corosync_cfg_shutdown_callback: shutdown.is_some().then_some(shutdown_trampoline as _),
        };
        let callbacks = CfgCallbacks { shutdown };
        let handle = Handle::open(callbacks, move |_context, _| {
            let mut raw = 0;
            // SAFETY: both pointers are valid for the call; libcfg copies the callbacks.
            cs_result(unsafe { sys::corosync_cfg_initialize(&mut raw, &c_callbacks) })?;
            Ok(raw)
        })?;
        Ok(Cfg { handle })
    }

    /// The node id of the local node (the node this handle's daemon runs on).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// let me: corosync::NodeId = cfg.local_node_id()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_local_get")]
    #[doc(alias = "local_get")]
    pub fn local_node_id(&self) -> Result<NodeId> {
        let mut id: c_uint = 0;
        // SAFETY: the handle is live and `id` is writable.
        cs_result(unsafe { sys::corosync_cfg_local_get(self.handle.raw(), &mut id) })?;
        Ok(NodeId::from(id))
    }

    /// The addresses of node `node`, one per configured link, in link order (node id 0 means
    /// the local node).
    ///
    /// Fails with [`Error::NotExist`] for a node the daemon does not
    /// know. An address libcfg reports in a family other than IPv4 and IPv6 is
    /// [`Error::UnexpectedValue`].
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// for addr in cfg.node_addrs(corosync::NodeId::from(1))? {
    ///     println!("{addr}");
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_get_node_addrs")]
    #[doc(alias = "get_node_addrs")]
    pub fn node_addrs(&self, node: NodeId) -> Result<Vec<IpAddr>> {
        let mut addrs = [sys::corosync_cfg_node_address_t::default(); MAX_NODE_ADDRS];
        let mut count: c_int = 0;
        // SAFETY: the handle is live, `count` is writable and `addrs` has room for the
        // `addrs.len()` entries libcfg may write.
        cs_result(unsafe {
            sys::corosync_cfg_get_node_addrs(
                self.handle.raw(),
                node.get(),
                addrs.len(),
                &mut count,
                addrs.as_mut_ptr(),
            )
        })?;
        let count = usize::try_from(count)
            .ok()
            .filter(|&n| n <= addrs.len())
            .ok_or(Error::UnexpectedValue {
                what: "number of node addresses",
                value: i64::from(count),
            })?;
        addrs[..count]
            .iter()
            .filter_map(decode_node_address)
            .collect()
    }

    /// The status of node `node` as the local node sees it: whether it is reachable, and the
    /// state of each of its links.
    ///
    /// Fails with [`Error::FailedOperation`] for a node knet
    /// does not know.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// let status = cfg.node_status(corosync::NodeId::from(2))?;
    /// println!("node 2 reachable: {}", status.reachable);
    /// for link in status.enabled_links() {
    ///     println!("  link {}: {} -> {}, connected {}",
    ///              link.link_id, link.src_addr, link.dst_addr, link.connected);
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_node_status_get")]
    #[doc(alias = "node_status_get")]
    #[cfg(corosync_cfg_node_status)]
    pub fn node_status(&self, node: NodeId) -> Result<NodeStatus> {
        let mut raw = sys::corosync_cfg_node_status_v1::default();
        // SAFETY: the handle is live and `raw` is a writable corosync_cfg_node_status_v1,
        // the structure of the version asked for.
        cs_result(unsafe {
            sys::corosync_cfg_node_status_get(
                self.handle.raw(),
                node.get(),
                sys::CFG_NODE_STATUS_V1,
                ptr::addr_of_mut!(raw).cast::<c_void>(),
            )
        })?;
        NodeStatus::from_v1(&raw)
    }

    /// The status of the local node's interfaces (links), as the older "ring status"
    /// interface of libcfg reports it: one entry per link.
    ///
    /// With knet, each entry's [`name`](InterfaceStatus::name) is the link number and the
    /// local address (`"0 10.0.0.1"`), and its [`status`](InterfaceStatus::status) has one
    /// character per node of the cluster, in node id order: `n` for the local node, else the
    /// digit `enabled | connected << 1 | dynconnected << 2` of that node's link (`3` for a
    /// working link).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// for interface in cfg.ring_status()? {
    ///     println!("{}: {}", interface.name, interface.status);
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_ring_status_get")]
    #[doc(alias = "ring_status_get")]
    pub fn ring_status(&self) -> Result<Vec<InterfaceStatus>> {
        let mut names: *mut *mut c_char = ptr::null_mut();
        let mut statuses: *mut *mut c_char = ptr::null_mut();
        let mut count: c_uint = 0;
        // SAFETY: the handle is live and the three pointers are writable.
        cs_result(unsafe {
            sys::corosync_cfg_ring_status_get(
                self.handle.raw(),
                &mut names,
                &mut statuses,
                &mut count,
            )
        })?;
        // On success libcfg has malloc'ed both arrays and every string in them; the guard
        // frees them all, whatever happens below.
        let arrays = RingStatusArrays {
            names,
            statuses,
            count: count as usize,
        };
        arrays.to_vec()
    }

    /// Tells node `node`'s daemon to exit, logging `reason` there ("Killed by node N:
    /// reason"). Any node of the cluster can be named, including the local one.
    ///
    /// `reason` may be at most [`MAX_KILL_REASON_LEN`] (255) bytes and must not contain NUL:
    /// otherwise [`Error::TooLong`] or [`Error::InteriorNul`]. Fails with
    /// [`Error::NotExist`] if `node` is not a current member.
    ///
    /// The call returns once the request has been sent; the node leaves the membership
    /// shortly afterwards.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// cfg.kill_node(corosync::NodeId::from(3), "fenced by the test suite")?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_kill_node")]
    pub fn kill_node(&self, node: NodeId, reason: &str) -> Result<()> {
        let code = with_c_str(
            "kill reason",
            reason.as_bytes(),
            Some(MAX_KILL_REASON_LEN),
            |reason| {
                // SAFETY: the handle is live and `reason` is a NUL-terminated string of at
                // most MAX_KILL_REASON_LEN bytes, valid for the call.
                unsafe { sys::corosync_cfg_kill_node(self.handle.raw(), node.get(), reason) }
            },
        )?;
        cs_result(code)
    }

    /// Makes every node of the cluster re-read its corosync.conf and apply what may change
    /// at run time (most of `totem`, `logging`, `quorum` and `nodelist`).
    ///
    /// Fails with [`Error::InvalidParam`] if the local node's file
    /// is not valid; the daemon's log says why.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// cfg.reload_config()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_reload_config")]
    pub fn reload_config(&self) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_reload_config(self.handle.raw()) })
    }

    /// Makes the local daemon close and reopen its log files (after they were rotated).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// cfg.reopen_log_files()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_reopen_log_files")]
    pub fn reopen_log_files(&self) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_reopen_log_files(self.handle.raw()) })
    }

    /// Asks the local daemon to shut down, and waits for the decision.
    ///
    /// What happens depends on `flags` and on the trackers' answers (see the
    /// [module docs](self)). `Ok(())` means the daemon is going down; it leaves the cluster
    /// and exits shortly afterwards. A vetoed request fails with
    /// [`Error::Busy`]; another shutdown request in progress with
    /// [`Error::Exist`].
    ///
    /// This call blocks until every tracker has answered or the daemon's shutdown timeout
    /// (5 s by default) has passed; libcfg has no timeout of its own. Trackers on the same
    /// thread cannot answer while it blocks, so dispatch them elsewhere.
    ///
    /// ```no_run
    /// use corosync::cfg::{Cfg, ShutdownMode};
    ///
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::new()?;
    /// match cfg.try_shutdown(ShutdownMode::Request) {
    ///     Ok(()) => println!("corosync is shutting down"),
    ///     Err(corosync::Error::Busy) => println!("a tracker vetoed the shutdown"),
    ///     Err(err) => return Err(err),
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_try_shutdown")]
    pub fn try_shutdown(&self, mode: ShutdownMode) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_try_shutdown(self.handle.raw(), mode.raw()) })
    }

    /// Answers a shutdown request this handle's callback was asked about.
    ///
    /// An answer when no shutdown request is in progress is ignored by the daemon; libcfg
    /// 3.1.7 reports only errors of the connection itself here, so that is `Ok(())` too. See
    /// the [module docs](self) for another caveat of libcfg: a handle that has answered keeps
    /// its connection open after `finalize` (this crate stops its tracking when it is
    /// dropped, so it cannot hold up later shutdowns).
    ///
    /// ```no_run
    /// use corosync::cfg::{Cfg, ShutdownReply};
    ///
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::builder().on_shutdown(|cfg, _flags| {
    ///     let _ = cfg.reply_to_shutdown(ShutdownReply::Yes);
    /// }).build()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_replyto_shutdown")]
    #[doc(alias = "replyto_shutdown")]
    pub fn reply_to_shutdown(&self, reply: ShutdownReply) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_replyto_shutdown(self.handle.raw(), reply.raw()) })
    }

    /// Registers this handle as a shutdown tracker: from now on its shutdown callback is asked
    /// about every shutdown request (and at once about one in progress). libcfg tracks
    /// nothing else, so `flags` is passed on but does not change anything in corosync 3.1.7.
    ///
    /// ```no_run
    /// use corosync::TrackFlags;
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::builder().on_shutdown(|_, _| {}).build()?;
    /// cfg.track_start(TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_trackstart")]
    #[doc(alias = "trackstart")]
    pub fn track_start(&self, flags: TrackFlags) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_trackstart(self.handle.raw(), flags.bits()) })
    }

    /// Stops tracking shutdown requests (this handle's answer is no longer expected).
    ///
    /// ```no_run
    /// use corosync::TrackFlags;
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::builder().on_shutdown(|_, _| {}).build()?;
    /// cfg.track_start(TrackFlags::CHANGES)?;
    /// cfg.track_stop()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_trackstop")]
    #[doc(alias = "trackstop")]
    pub fn track_stop(&self) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_trackstop(self.handle.raw()) })
    }
}
