//! Safe, idiomatic bindings to corosync's client libraries.
//!
//! [corosync](https://corosync.github.io/corosync/) is the group communication and
//! membership layer under Pacemaker and other cluster managers. A daemon runs on every node;
//! programs talk to their local daemon through five client libraries, each wrapped here in a
//! module behind a cargo feature of the same name (all on by default):
//!
//! | module | C library | what it is for |
//! |---|---|---|
//! | `cmap` | libcmap | the configuration and runtime key/value database, with change tracking |
//! | `cpg` | libcpg | closed process groups: join a group, multicast totally ordered messages, watch membership |
//! | `votequorum` | libvotequorum | votes, expected votes, quorum state, quorum devices |
//! | `quorum` | libquorum | the simple "are we quorate, who is in" view |
//! | `cfg` | libcfg | node addresses and link status, shutdown, reload, killing a node |
//!
//! # Example
//! Read a key, then follow a CPG group's messages, answering from inside the callback:
//!
//! ```no_run
//! use corosync::cmap::Cmap;
//! use corosync::cpg::{Cpg, GroupName, Guarantee};
//! use corosync::DispatchFlags;
//!
//! # fn main() -> corosync::Result<()> {
//! let node_id: u32 = Cmap::new()?.get("runtime.votequorum.this_node_id")?;
//!
//! let cpg = Cpg::builder()
//!     .on_deliver(move |cpg, message| {
//!         // `message.data()` borrows libcpg's buffer: nothing is copied or allocated.
//!         if message.data() == b"who is there?" {
//!             let _ = cpg.mcast(Guarantee::Agreed, format!("node {node_id}").as_bytes());
//!         }
//!     })
//!     .build()?;
//! cpg.join(&GroupName::new("roll-call")?)?;
//! loop {
//!     cpg.dispatch(DispatchFlags::Blocking)?;
//! }
//! # }
//! ```
//!
//! # Handles
//! Each module has one handle type that owns one IPC connection to the local daemon. It is
//! not `Copy` or `Clone`; dropping it finalizes the connection exactly once, and `finalize`
//! does the same for callers who want to see the library's answer. Objects that live inside a
//! connection (a cmap iterator or track, a CPG zero-copy buffer, an iteration over groups)
//! borrow their handle, so they cannot outlive it, and release their C resource on `Drop`.
//!
//! A handle whose daemon died or restarted stays safe to use: its calls return errors
//! (usually [`Error::Library`]) and it can be dropped. Open a new handle to reconnect.
//!
//! # Events and callbacks
//! corosync reports events (a delivered message, a membership or quorum change, a changed
//! key) through callbacks that run only inside `dispatch`, on the thread that calls it. The
//! callbacks are Rust closures owned by the handle; they receive borrowed views of the C
//! library's data (`&[u8]` messages, borrowed names and member lists), so delivering an event
//! allocates nothing. A closure also receives the handle itself, so it may make requests on
//! the same connection (sending a reply from a CPG deliver callback is a normal pattern). It
//! cannot drop the handle, and calling `dispatch` from inside a callback returns
//! [`Error::ReentrantDispatch`].
//!
//! Integrate with an event loop through the handle's fd ([`std::os::fd::AsFd`]): when it is
//! readable, call `dispatch(DispatchFlags::All)`.
//!
//! A panic in a callback never unwinds through C: it is caught in the trampoline, the rest of
//! that dispatch call's events are not delivered, and the panic is resumed from `dispatch`.
//!
//! The C libraries also keep a "context" pointer per handle (`cmap_context_set` and
//! friends). This crate uses it to find the handle's closures again in its trampolines, so it
//! is not offered to users: keep state in your closures instead.
//!
//! # Threads: `Send`, not `Sync`
//! One libqb IPC connection must not carry requests from two threads at once: its shared
//! memory ring buffers get corrupted ([libqb issue #243](https://github.com/ClusterLabs/libqb/issues/243),
//! closed as "up to the library user"; libqb's maintainers recommend one connection per
//! thread). A connection may move between threads, though: libqb keeps no per-thread state
//! for it and corosync's handle tables lock a mutex around each lookup. So every handle is
//! [`Send`] but not [`Sync`]: safe code can hand a handle to another thread, or share it
//! behind a `Mutex`, but never issue concurrent requests on it. Open one handle per thread
//! for parallel requests. Closures stored in a handle must therefore be `Send + 'static`.
//!
//! # Errors
//! Every fallible call returns [`Result<T>`] with the crate's one [`Error`]. Input that C
//! would truncate or misread (too long names and keys, interior NUL bytes, wrong value types)
//! is refused in Rust with a variant that says what was wrong, before it reaches C.
//!
//! # Versions
//! [`COROSYNC_VERSION`] is the corosync release whose headers the bindings were generated
//! from (detected with pkg-config at build time). API differences between releases that the
//! build finds in the headers become cfgs, set for this crate by its build script:
//! - `corosync_cfg_node_status`: `cfg::Cfg::node_status` and its types exist (corosync
//!   3.1.1 and later, so every release the `cfg` feature builds against);
//! - `corosync_cfg_link_dynconnected`: link statuses carry `dynconnected` (3.1.1 and later);
//! - `corosync_votequorum_model`, `corosync_votequorum_qdevice_extra_info`: votequorum's
//!   model v1 and a qdevice's extra information per node (upstream main after 3.1.10).
//!
//! The oldest release the build accepts is corosync 3.1.0 (3.1.1 with the `cfg` feature): the
//! build checks it with pkg-config and stops below it with a message that says why.

#![warn(missing_docs)]
// The shared plumbing serves all five libraries; a build with only some of their features
// leaves parts of it unused. The full build (CI) still reports real dead code.
#![cfg_attr(
    not(all(
        feature = "cmap",
        feature = "cpg",
        feature = "votequorum",
        feature = "quorum",
        feature = "cfg"
    )),
    allow(dead_code, unused_imports, unused_macros)
)]

mod clist;
mod cstr;
mod error;
mod handle;
mod types;

pub use error::{Error, Result};
pub use types::{DispatchFlags, Dispatched, NodeId, RingId, TrackFlags};

/// The corosync release whose headers this build was generated from, e.g. `"3.1.7"`.
///
/// ```
/// assert!(corosync::COROSYNC_VERSION.starts_with('3'));
/// ```
pub const COROSYNC_VERSION: &str = corosync_sys::COROSYNC_VERSION;

#[cfg(feature = "cfg")]
pub mod cfg;
#[cfg(feature = "cmap")]
pub mod cmap;
#[cfg(feature = "cpg")]
pub mod cpg;
#[cfg(feature = "quorum")]
pub mod quorum;
#[cfg(feature = "votequorum")]
pub mod votequorum;

#[cfg(test)]
mod plumbing_tests;

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
