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
//! handle with a shutdown callback ([`Cfg::with_shutdown_callback`]), call
//! [`Cfg::track_start`], and dispatch their handle. When a shutdown is requested, every
//! tracker's callback runs with the request's [`ShutdownFlags`] and answers with
//! [`Cfg::reply_to_shutdown`]:
//!
//! - [`ShutdownFlags::Request`]: one [`ShutdownReply::No`] vetoes the shutdown, and
//!   `try_shutdown` fails with [`Error::Busy`].
//! - [`ShutdownFlags::Regardless`]: the trackers are asked, but the daemon stops whatever they
//!   answer.
//! - [`ShutdownFlags::Immediate`]: the trackers are not asked.
//!
//! A tracker that does not answer within `cfg.shutdown_timeout` milliseconds (a cmap key,
//! 5000 by default) counts as a "no". [`Cfg::try_shutdown`] blocks until the decision is made
//! (libcfg waits for the daemon's answer without a timeout of its own), so the trackers'
//! callbacks must be dispatched by other handles, typically on other threads or processes: a
//! handle cannot answer a request it is itself blocked on.
//!
//! # How a callback finds its handle
//! Unlike the other corosync libraries, libcfg keeps no context pointer per handle
//! (`corosync_cfg_context_get` does not exist). The shutdown callback, though, only ever runs
//! inside `corosync_cfg_dispatch`, on the thread that called it. So this module's dispatch
//! records the handle being dispatched and its Rust state in a thread-local variable for the
//! duration of the C call (restoring the previous value afterwards, so a callback of one handle
//! may dispatch another), and the trampoline reads it back, checking that the C handle it was
//! called for is the one being dispatched. No global map and no lock are needed, and a callback
//! can never reach the state of a handle that is not being dispatched on its thread.
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

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr;

use corosync_sys as sys;

use crate::cstr::{from_c_array, with_c_str};
use crate::error::cs_result;
use crate::handle::{handle_type, run_callback, Handle, Library};
use crate::{Error, NodeId, Result, TrackFlags};

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

thread_local! {
    /// The cfg handle being dispatched on this thread and its context (the handle's boxed
    /// Rust state), while `corosync_cfg_dispatch` runs. See the module docs.
    static DISPATCHING: Cell<Option<(u64, *mut c_void)>> = const { Cell::new(None) };
}

/// The marker of libcfg for the shared handle plumbing.
pub(crate) enum CfgLib {}

/// A boxed shutdown callback.
type ShutdownCallback = Box<dyn FnMut(&Cfg, ShutdownFlags) + Send>;

/// The Rust state of a [`Cfg`] handle that its trampoline reaches.
pub(crate) struct CfgCallbacks {
    shutdown: Option<ShutdownCallback>,
}

// libcfg has no context of its own: `context_set` stores nothing, and `context_get(raw)`
// returns the context that `dispatch` was given for `raw` (the pointer `Handle::open` passed to
// `context_set`), and only while that dispatch runs on the calling thread, which is the only
// time libcfg calls the trampoline; otherwise null.
// SAFETY: `Cfg` is declared with handle_type!, the functions are libcfg's own, `context_get`
// returns the handle's context or null as explained above, and only `run_callback` touches the
// callbacks.
unsafe impl Library for CfgLib {
    type Public = Cfg;
    type Callbacks = CfgCallbacks;

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

    unsafe fn dispatch(
        raw: u64,
        context: *mut c_void,
        flags: sys::cs_dispatch_flags_t,
    ) -> sys::cs_error_t {
        let previous = DISPATCHING.with(|current| current.replace(Some((raw, context))));
        // SAFETY: the caller guarantees `raw` is a live handle.
        let result = unsafe { sys::corosync_cfg_dispatch(raw, flags) };
        DISPATCHING.with(|current| current.set(previous));
        result
    }

    unsafe fn context_set(_raw: u64, _context: *mut c_void) -> sys::cs_error_t {
        // Nothing to store: `dispatch` receives the context every time.
        sys::CS_OK
    }

    unsafe fn context_get(raw: u64) -> *mut c_void {
        match DISPATCHING.with(Cell::get) {
            Some((current, context)) if current == raw => context,
            _ => ptr::null_mut(),
        }
    }
}

/// The C shutdown callback: hands the request to the handle's closure.
extern "C" fn shutdown_trampoline(raw: u64, flags: sys::corosync_cfg_shutdown_flags_t) {
    // SAFETY: libcfg calls this callback only from corosync_cfg_dispatch, which only
    // `CfgLib::dispatch` calls.
    unsafe {
        run_callback::<CfgLib>(raw, |cfg, callbacks| {
            if let Some(callback) = callbacks.shutdown.as_mut() {
                callback(cfg, ShutdownFlags::from_raw(flags));
            }
        });
    }
}

handle_type! {
    /// A connection to the local corosync daemon's configuration service (libcfg).
    ///
    /// Open one with [`Cfg::new`], or with [`Cfg::with_shutdown_callback`] to take part in
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

    /// Connects to the local daemon with a callback for shutdown requests.
    ///
    /// The callback runs inside [`Cfg::dispatch`] when another client (or
    /// `corosync-cfgtool -H`) asks the daemon to shut down, once [`Cfg::track_start`] has
    /// registered the handle as a tracker. It receives the handle, so it can answer at once
    /// with [`Cfg::reply_to_shutdown`]; it may also answer later, within the daemon's shutdown
    /// timeout (see the [module docs](self)).
    ///
    /// ```no_run
    /// use corosync::cfg::{Cfg, ShutdownFlags, ShutdownReply};
    /// use corosync::{DispatchFlags, TrackFlags};
    ///
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::with_shutdown_callback(|cfg, flags| {
    ///     // Veto polite requests; the other kinds happen anyway.
    ///     let reply = match flags {
    ///         ShutdownFlags::Request => ShutdownReply::No,
    ///         _ => ShutdownReply::Yes,
    ///     };
    ///     if let Err(err) = cfg.reply_to_shutdown(reply) {
    ///         eprintln!("could not answer the shutdown request: {err}");
    ///     }
    /// })?;
    /// cfg.track_start(TrackFlags::CHANGES)?;
    /// loop {
    ///     cfg.dispatch(DispatchFlags::One)?;
    /// }
    /// # }
    /// ```
    ///
    /// The closure is stored in the handle, so it must be `'static`; it cannot borrow local
    /// variables:
    ///
    /// ```compile_fail,E0373
    /// let mut count = 0;
    /// let cfg = corosync::cfg::Cfg::with_shutdown_callback(|_, _| count += 1);
    /// ```
    #[doc(alias = "corosync_cfg_initialize")]
    pub fn with_shutdown_callback<F>(callback: F) -> Result<Cfg>
    where
        F: FnMut(&Cfg, ShutdownFlags) + Send + 'static,
    {
        Cfg::open(Some(Box::new(callback)))
    }

    fn open(shutdown: Option<ShutdownCallback>) -> Result<Cfg> {
        let c_callbacks = sys::corosync_cfg_callbacks_t {
            corosync_cfg_shutdown_callback: shutdown
                .is_some()
                .then_some(shutdown_trampoline as unsafe extern "C" fn(u64, u32)),
        };
        let callbacks = CfgCallbacks { shutdown };
        let handle = Handle::open(callbacks, |_context| {
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
    /// use corosync::cfg::{Cfg, ShutdownFlags};
    ///
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = Cfg::new()?;
    /// match cfg.try_shutdown(ShutdownFlags::Request) {
    ///     Ok(()) => println!("corosync is shutting down"),
    ///     Err(corosync::Error::Busy) => println!("a tracker vetoed the shutdown"),
    ///     Err(err) => return Err(err),
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_try_shutdown")]
    pub fn try_shutdown(&self, flags: ShutdownFlags) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_try_shutdown(self.handle.raw(), flags.to_raw()) })
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
    /// let cfg = Cfg::with_shutdown_callback(|cfg, _flags| {
    ///     let _ = cfg.reply_to_shutdown(ShutdownReply::Yes);
    /// })?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "corosync_cfg_replyto_shutdown")]
    #[doc(alias = "replyto_shutdown")]
    pub fn reply_to_shutdown(&self, reply: ShutdownReply) -> Result<()> {
        // SAFETY: the handle is live.
        cs_result(unsafe { sys::corosync_cfg_replyto_shutdown(self.handle.raw(), reply.to_raw()) })
    }

    /// Registers this handle as a shutdown tracker: from now on its shutdown callback is asked
    /// about every shutdown request (and at once about one in progress). libcfg tracks
    /// nothing else, so `flags` is passed on but does not change anything in corosync 3.1.7.
    ///
    /// ```no_run
    /// use corosync::TrackFlags;
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::with_shutdown_callback(|_, _| {})?;
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
    /// let cfg = corosync::cfg::Cfg::with_shutdown_callback(|_, _| {})?;
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

/// Decodes one `corosync_cfg_node_address_t`: `None` for an unused entry.
fn decode_node_address(entry: &sys::corosync_cfg_node_address_t) -> Option<Result<IpAddr>> {
    let bytes = entry.address.as_ptr();
    // SAFETY: the field is 28 bytes long, more than a sa_family_t; read_unaligned needs no
    // alignment.
    let family = unsafe { ptr::read_unaligned(bytes.cast::<libc::sa_family_t>()) };
    let length = entry.address_length;
    match c_int::from(family) {
        libc::AF_INET if length as usize == std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the field holds a sockaddr_in (its family and length say so), and is
            // large enough for one (checked at compile time above).
            let sin = unsafe { ptr::read_unaligned(bytes.cast::<libc::sockaddr_in>()) };
            Some(Ok(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            )))))
        }
        libc::AF_INET6 if length as usize == std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for a sockaddr_in6.
            let sin6 = unsafe { ptr::read_unaligned(bytes.cast::<libc::sockaddr_in6>()) };
            Some(Ok(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))))
        }
        // libcfg marks an all-zero address as unused with family 0 (corosync-cfgtool skips
        // them too); with length 0 it could not decode the daemon's address family at all.
        0 if length != 0 => None,
        0 => Some(Err(Error::UnexpectedValue {
            what: "node address family (libcfg could not decode it)",
            value: 0,
        })),
        other => Some(Err(Error::UnexpectedValue {
            what: "node address family",
            value: i64::from(other),
        })),
    }
}

/// The two string arrays `corosync_cfg_ring_status_get` allocates; freed on drop.
struct RingStatusArrays {
    names: *mut *mut c_char,
    statuses: *mut *mut c_char,
    count: usize,
}

impl RingStatusArrays {
    /// The string at `index` of `array`, copied.
    fn string(array: *mut *mut c_char, index: usize, what: &'static str) -> Result<String> {
        // SAFETY: `array` holds `count` entries (the caller checks `index < count`).
        let entry = unsafe { *array.add(index) };
        if entry.is_null() {
            return Err(Error::UnexpectedValue {
                what: "null string from corosync_cfg_ring_status_get",
                value: index as i64,
            });
        }
        // SAFETY: libcfg filled the entry with a strdup'ed, NUL-terminated string.
        let text = unsafe { CStr::from_ptr(entry) };
        text.to_str()
            .map(str::to_owned)
            .map_err(|_| Error::InvalidUtf8 { what })
    }

    fn to_vec(&self) -> Result<Vec<InterfaceStatus>> {
        if self.count > 0 && (self.names.is_null() || self.statuses.is_null()) {
            return Err(Error::UnexpectedValue {
                what: "null array from corosync_cfg_ring_status_get",
                value: self.count as i64,
            });
        }
        (0..self.count)
            .map(|i| {
                Ok(InterfaceStatus {
                    name: Self::string(self.names, i, "interface name")?,
                    status: Self::string(self.statuses, i, "interface status")?,
                })
            })
            .collect()
    }
}

impl Drop for RingStatusArrays {
    fn drop(&mut self) {
        for array in [self.names, self.statuses] {
            if array.is_null() {
                continue;
            }
            for i in 0..self.count {
                // SAFETY: the array has `count` entries, each a malloc'ed string (or null,
                // which free accepts), owned by us since libcfg returned them.
                unsafe { libc::free((*array.add(i)).cast::<c_void>()) };
            }
            // SAFETY: libcfg malloc'ed the array itself; nothing points into it any more.
            unsafe { libc::free(array.cast::<c_void>()) };
        }
    }
}

/// What a shutdown request asks for: the flags of [`Cfg::try_shutdown`], which trackers'
/// callbacks receive too (C: `corosync_cfg_shutdown_flags_t`).
///
/// ```
/// use corosync::cfg::ShutdownFlags;
/// let flags = ShutdownFlags::Regardless;
/// assert_ne!(flags, ShutdownFlags::Request);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownFlags {
    /// Shut down only if every tracker agrees (`COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST`).
    Request,
    /// Ask the trackers, but shut down whatever they answer
    /// (`COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS`).
    Regardless,
    /// Shut down without asking (`COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE`); trackers' callbacks
    /// never see this value.
    Immediate,
    /// A value this build does not know, as a callback may receive from a client that sent a
    /// raw number. The daemon treats such a request like [`ShutdownFlags::Request`].
    Other(u32),
}

impl ShutdownFlags {
    fn from_raw(raw: sys::corosync_cfg_shutdown_flags_t) -> ShutdownFlags {
        match raw {
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST => ShutdownFlags::Request,
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS => ShutdownFlags::Regardless,
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE => ShutdownFlags::Immediate,
            other => ShutdownFlags::Other(other),
        }
    }

    fn to_raw(self) -> sys::corosync_cfg_shutdown_flags_t {
        match self {
            ShutdownFlags::Request => sys::COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST,
            ShutdownFlags::Regardless => sys::COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS,
            ShutdownFlags::Immediate => sys::COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE,
            ShutdownFlags::Other(raw) => raw,
        }
    }
}

/// A tracker's answer to a shutdown request (C: `corosync_cfg_shutdown_reply_flags_t`).
///
/// ```
/// use corosync::cfg::ShutdownReply;
/// assert_ne!(ShutdownReply::Yes, ShutdownReply::No);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownReply {
    /// Veto the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_NO`).
    No,
    /// Agree to the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_YES`).
    Yes,
}

impl ShutdownReply {
    fn to_raw(self) -> sys::corosync_cfg_shutdown_reply_flags_t {
        match self {
            ShutdownReply::No => sys::COROSYNC_CFG_SHUTDOWN_FLAG_NO,
            ShutdownReply::Yes => sys::COROSYNC_CFG_SHUTDOWN_FLAG_YES,
        }
    }
}

/// A node's status as the local node sees it: what [`Cfg::node_status`] returns
/// (C: `struct corosync_cfg_node_status_v1`, the only version corosync 3.1 has).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let status = cfg.node_status(corosync::NodeId::from(2))?;
/// let up = status.enabled_links().filter(|link| link.connected).count();
/// println!("node {}: reachable {}, {up} links up", status.node_id, status.reachable);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg(corosync_cfg_node_status)]
pub struct NodeStatus {
    /// The node this status is about.
    pub node_id: NodeId,
    /// Whether knet can currently reach the node (at least one link is connected). The local
    /// node is always reachable.
    pub reachable: bool,
    /// Whether the node is remote (a knet flag; false for ordinary cluster nodes).
    pub remote: bool,
    /// Whether the node is external (a knet flag; false for ordinary cluster nodes).
    pub external: bool,
    /// The lowest knet on-wire protocol version the node supports.
    pub onwire_min: u8,
    /// The highest knet on-wire protocol version the node supports.
    pub onwire_max: u8,
    /// The knet on-wire protocol version in use with the node.
    pub onwire_ver: u8,
    /// One entry per possible link (8), indexed by link number; see
    /// [`NodeStatus::enabled_links`] for the configured ones.
    pub links: Vec<LinkStatus>,
}

#[cfg(corosync_cfg_node_status)]
impl NodeStatus {
    fn from_v1(raw: &sys::corosync_cfg_node_status_v1) -> Result<NodeStatus> {
        if raw.version != sys::CFG_NODE_STATUS_V1 {
            return Err(Error::UnexpectedValue {
                what: "node status version",
                value: i64::from(raw.version),
            });
        }
        let links = raw
            .link_status
            .iter()
            .enumerate()
            .map(|(i, link)| LinkStatus::from_v1(i as u8, link))
            .collect::<Result<Vec<_>>>()?;
        Ok(NodeStatus {
            node_id: NodeId::from(raw.nodeid),
            reachable: raw.reachable != 0,
            remote: raw.remote != 0,
            external: raw.external != 0,
            onwire_min: raw.onwire_min,
            onwire_max: raw.onwire_max,
            onwire_ver: raw.onwire_ver,
            links,
        })
    }

    /// The links that are configured (enabled), in link order.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// for link in cfg.node_status(corosync::NodeId::from(2))?.enabled_links() {
    ///     println!("link {} connected: {}", link.link_id, link.connected);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn enabled_links(&self) -> impl Iterator<Item = &LinkStatus> + '_ {
        self.links.iter().filter(|link| link.enabled)
    }
}

/// The state of one knet link to a node (C: `struct corosync_knet_link_status_v1`).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let status = cfg.node_status(corosync::NodeId::from(2))?;
/// let link0 = &status.links[0];
/// println!("{} -> {}: mtu {}", link0.src_addr, link0.dst_addr, link0.mtu);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg(corosync_cfg_node_status)]
pub struct LinkStatus {
    /// The link number (0 for `ring0_addr`, ...).
    pub link_id: u8,
    /// The link is configured and administratively enabled.
    pub enabled: bool,
    /// The link is connected for data (as the local node sees it).
    pub connected: bool,
    /// The link was activated by the remote side's dynamic address (always `false` when
    /// built against corosync older than 3.1.4, whose headers lack the field).
    pub dynconnected: bool,
    /// The MTU knet currently detects on this link.
    pub mtu: u32,
    /// The local address of the link, as text (empty for an unconfigured link).
    pub src_addr: String,
    /// The remote address of the link, as text (empty for an unconfigured link).
    pub dst_addr: String,
}

#[cfg(corosync_cfg_node_status)]
impl LinkStatus {
    fn from_v1(link_id: u8, raw: &sys::corosync_knet_link_status_v1) -> Result<LinkStatus> {
        let text = |array: &[c_char], what| {
            std::str::from_utf8(from_c_array(array))
                .map(str::to_owned)
                .map_err(|_| Error::InvalidUtf8 { what })
        };
        Ok(LinkStatus {
            link_id,
            enabled: raw.enabled != 0,
            connected: raw.connected != 0,
            #[cfg(corosync_cfg_link_dynconnected)]
            dynconnected: raw.dynconnected != 0,
            // Headers before corosync 3.1.4 have no such field.
            #[cfg(not(corosync_cfg_link_dynconnected))]
            dynconnected: false,
            mtu: raw.mtu,
            src_addr: text(&raw.src_ipaddr, "link source address")?,
            dst_addr: text(&raw.dst_ipaddr, "link destination address")?,
        })
    }
}

/// One interface (link) of the local node, as [`Cfg::ring_status`] reports it.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let all_up = cfg.ring_status()?.iter().all(|i| i.status.chars().all(|c| c == 'n' || c == '3'));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct InterfaceStatus {
    /// The interface's name: with knet, the link number and the local address
    /// (`"0 10.0.0.1"`).
    pub name: String,
    /// The interface's status: with knet, one character per node (see
    /// [`Cfg::ring_status`]).
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[u8], length: usize) -> sys::corosync_cfg_node_address_t {
        let mut entry = sys::corosync_cfg_node_address_t {
            address_length: length as c_int,
            ..Default::default()
        };
        for (dst, &src) in entry.address.iter_mut().zip(bytes) {
            *dst = src as c_char;
        }
        entry
    }

    fn sockaddr_bytes<T>(value: &T) -> Vec<u8> {
        // SAFETY: any initialised value can be viewed as bytes for the length of its type.
        unsafe {
            std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
        }
        .to_vec()
    }

    #[test]
    fn addresses_are_decoded_by_family() {
        // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(Ipv4Addr::new(10, 213, 0, 7)).to_be();
        let v4 = entry(&sockaddr_bytes(&sin), std::mem::size_of_val(&sin));
        assert_eq!(
            decode_node_address(&v4),
            Some(Ok(IpAddr::from([10, 213, 0, 7])))
        );

        // SAFETY: as above.
        let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        let addr: Ipv6Addr = "fd00::5".parse().unwrap();
        sin6.sin6_addr.s6_addr = addr.octets();
        let v6 = entry(&sockaddr_bytes(&sin6), std::mem::size_of_val(&sin6));
        assert_eq!(decode_node_address(&v6), Some(Ok(IpAddr::V6(addr))));
    }

    #[test]
    fn unused_and_unknown_addresses() {
        // Family 0 with a length: an unused (all-zero) entry, skipped.
        assert_eq!(decode_node_address(&entry(&[], 16)), None);
        // Family 0 and length 0: libcfg could not decode the daemon's family.
        assert!(matches!(
            decode_node_address(&entry(&[], 0)),
            Some(Err(Error::UnexpectedValue { value: 0, .. }))
        ));
        // An unknown family.
        let family = (libc::AF_UNIX as libc::sa_family_t).to_ne_bytes();
        assert_eq!(
            decode_node_address(&entry(&family, 16)),
            Some(Err(Error::UnexpectedValue {
                what: "node address family",
                value: i64::from(libc::AF_UNIX)
            }))
        );
        // AF_INET with the length of a sockaddr_in6 is not trusted.
        let family = (libc::AF_INET as libc::sa_family_t).to_ne_bytes();
        assert!(matches!(
            decode_node_address(&entry(&family, 28)),
            Some(Err(Error::UnexpectedValue { .. }))
        ));
    }

    #[test]
    fn shutdown_flags_round_trip() {
        for flags in [
            ShutdownFlags::Request,
            ShutdownFlags::Regardless,
            ShutdownFlags::Immediate,
            ShutdownFlags::Other(77),
        ] {
            assert_eq!(ShutdownFlags::from_raw(flags.to_raw()), flags);
        }
        assert_eq!(ShutdownFlags::from_raw(1), ShutdownFlags::Regardless);
        assert_eq!(ShutdownReply::Yes.to_raw(), 1);
        assert_eq!(ShutdownReply::No.to_raw(), 0);
    }

    #[test]
    #[cfg(corosync_cfg_node_status)]
    fn node_status_is_converted() {
        let mut raw = sys::corosync_cfg_node_status_v1 {
            version: sys::CFG_NODE_STATUS_V1,
            nodeid: 3,
            reachable: 1,
            onwire_ver: 2,
            ..Default::default()
        };
        raw.link_status[1].enabled = 1;
        raw.link_status[1].connected = 1;
        raw.link_status[1].mtu = 1397;
        for (dst, &src) in raw.link_status[1].src_ipaddr.iter_mut().zip(b"10.0.0.1") {
            *dst = src as c_char;
        }
        let status = NodeStatus::from_v1(&raw).unwrap();
        assert_eq!(status.node_id, NodeId::from(3));
        assert!(status.reachable && !status.remote && !status.external);
        assert_eq!(status.links.len(), 8);
        let enabled: Vec<_> = status.enabled_links().collect();
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].link_id, 1);
        assert_eq!(enabled[0].src_addr, "10.0.0.1");
        assert_eq!(enabled[0].dst_addr, "");
        assert_eq!(enabled[0].mtu, 1397);

        raw.version = 2;
        assert!(matches!(
            NodeStatus::from_v1(&raw),
            Err(Error::UnexpectedValue { value: 2, .. })
        ));
    }

    #[test]
    fn ring_status_strings_are_copied_and_freed() {
        fn c_strdup(s: &str) -> *mut c_char {
            let owned = std::ffi::CString::new(s).unwrap();
            // SAFETY: strdup copies a valid NUL-terminated string into malloc'ed memory.
            unsafe { libc::strdup(owned.as_ptr()) }
        }
        fn c_array(items: &[&str]) -> *mut *mut c_char {
            // SAFETY: malloc of a non-zero size; checked for null below.
            let array = unsafe { libc::malloc(std::mem::size_of::<*mut c_char>() * items.len()) }
                .cast::<*mut c_char>();
            assert!(!array.is_null());
            for (i, item) in items.iter().enumerate() {
                // SAFETY: the array has room for items.len() pointers.
                unsafe { *array.add(i) = c_strdup(item) };
            }
            array
        }
        let arrays = RingStatusArrays {
            names: c_array(&["0 10.0.0.1", "1 10.1.0.1"]),
            statuses: c_array(&["n33", "n3d"]),
            count: 2,
        };
        let list = arrays.to_vec().unwrap();
        assert_eq!(
            list,
            vec![
                InterfaceStatus {
                    name: "0 10.0.0.1".into(),
                    status: "n33".into()
                },
                InterfaceStatus {
                    name: "1 10.1.0.1".into(),
                    status: "n3d".into()
                },
            ]
        );
        // Dropping `arrays` frees everything (checked under valgrind/ASan, and by not
        // crashing on a double free here).
        drop(arrays);
    }

    #[test]
    fn the_thread_local_context_matches_only_its_handle() {
        let mut state = 5u8;
        let context = ptr::addr_of_mut!(state).cast::<c_void>();
        // SAFETY: context_get only reads the thread-local variable.
        assert!(unsafe { CfgLib::context_get(42) }.is_null());
        DISPATCHING.with(|d| d.set(Some((42, context))));
        // SAFETY: as above.
        unsafe {
            assert_eq!(CfgLib::context_get(42), context);
            assert!(CfgLib::context_get(43).is_null());
        }
        DISPATCHING.with(|d| d.set(None));
    }

    #[test]
    fn dispatch_restores_the_outer_handle() {
        // What a callback of handle 42 sees while it dispatches another handle (7, not a
        // libcfg handle: libcfg answers CS_ERR_BAD_HANDLE at once, no daemon needed).
        let mut outer = 1u8;
        let mut inner = 2u8;
        let outer_context = ptr::addr_of_mut!(outer).cast::<c_void>();
        let inner_context = ptr::addr_of_mut!(inner).cast::<c_void>();
        DISPATCHING.with(|d| d.set(Some((42, outer_context))));
        // SAFETY: libcfg looks the handle up in its table and refuses an unknown one.
        let code = unsafe { CfgLib::dispatch(7, inner_context, sys::CS_DISPATCH_ALL) };
        assert_eq!(code, sys::CS_ERR_BAD_HANDLE);
        assert_eq!(DISPATCHING.with(Cell::get), Some((42, outer_context)));
        DISPATCHING.with(|d| d.set(None));
    }
}
