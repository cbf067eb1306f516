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
//!     cpg.dispatch_blocking()?;
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
//! A handle whose daemon died or restarted stays safe to use: its calls return an error for
//! which [`Error::is_disconnected`] is true ([`Error::Library`]), and it can be dropped. Its
//! `reconnect` opens a new connection for the same handle, keeping its closures (see
//! [Reconnecting](#reconnecting)).
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
//! readable, call `dispatch(DispatchFlags::All)`. See the next section for the ways to run
//! a loop.
//!
//! A panic in a callback never unwinds through C: it is caught in the trampoline, the rest of
//! that dispatch call's events are not delivered, and the panic is resumed from `dispatch`.
//!
//! The C libraries also keep a "context" pointer per handle (`cmap_context_set` and
//! friends). This crate uses it to find the handle's closures again in its trampolines, so it
//! is not offered to users: keep state in your closures instead.
//!
//! # Event loops, async and threads
//! Every handle offers the same three ways to receive its events; pick one per handle.
//!
//! **Closures** (`Cpg::builder().on_deliver(..).build()`, `Cmap::track`, ...): the fastest
//! way, and the only one that allocates nothing per event. The closure gets a borrowed view
//! (`cpg::Message`, `cmap::TrackEvent`, ...) and the handle, so it can answer at once. Run
//! the closures with `dispatch_blocking()`, which sleeps in `ppoll` until events arrive and
//! returns `Ok(`[`Stopped`]`)` only when the handle's [`Stopper`] is used, from a callback,
//! another thread or a signal handler:
//!
//! ```no_run
//! use corosync::cpg::{Cpg, GroupName};
//! # fn main() -> corosync::Result<()> {
//! let cpg = Cpg::builder()
//!     .on_deliver(|cpg, msg| {
//!         if msg.data() == b"quit" {
//!             cpg.stopper().expect("an eventfd").stop(); // ends dispatch_blocking
//!         }
//!     })
//!     .build()?;
//! cpg.join(&GroupName::new("demo")?)?;
//! let stopper = cpg.stopper()?; // Send + Sync + Clone: give it to another thread
//! cpg.dispatch_blocking()?;
//! # drop(stopper);
//! # Ok(()) }
//! ```
//!
//! or your own loop: `wait_readable(timeout)` (or [`poll_readable`] over several fds) and
//! `dispatch(DispatchFlags::All)`.
//!
//! **Pull** (`Cpg::pull()`, `Cmap::pull()`, `Quorum::pull()`, `Votequorum::pull()`,
//! `Cfg::pull()`): the handle's own closures copy each event into an owned value (each
//! module's `Event`: `Clone + Debug + Send`), and `next_event(timeout)` or
//! `try_next_event()` hands them out. For programs that want events as values in their own
//! loop, want to send them to another thread, or want a timeout:
//!
//! ```no_run
//! use std::time::Duration;
//! use corosync::cpg::{Cpg, Event, GroupName};
//! # fn main() -> corosync::Result<()> {
//! let cpg = Cpg::pull()?;
//! cpg.join(&GroupName::new("demo")?)?;
//! loop {
//!     match cpg.next_event(Some(Duration::from_secs(1)))? {
//!         Some(Event::Message(msg)) => println!("{:?}", msg.data()),
//!         Some(other) => println!("{other:?}"),
//!         None => println!("a quiet second"),
//!     }
//! }
//! # }
//! ```
//!
//! Memory stays bounded: events are taken from the daemon only as fast as they are pulled
//! (one C event is dispatched when the queue is empty), so the queue holds at most a couple
//! of events and nothing is ever dropped; the rest waits in the daemon's IPC buffers.
//! Events still queued when a handle is dropped are dropped with it.
//!
//! **Async** (cargo feature `tokio`, module `corosync::tokio`): `corosync::tokio::Cpg`,
//! `Cmap`, `Quorum`, `Votequorum` and `Cfg` wrap a pull handle and hand out the same owned
//! events as a `futures_core::Stream` (`events()`) or through `next_event().await`; the fd
//! is registered with tokio inside the crate, so no `unsafe` is needed. They are `Clone +
//! Sync`: one connection serves any number of tasks on a multi-thread runtime, with the
//! requests serialised inside (a mutex never held across an `.await`). CPG sends
//! (`send(..).await`) wait out flow control by awaiting, and are cancellation safe. While
//! idle they cost nothing (they wait for the fd). `reconnect().await` also joins the CPG
//! group again and restarts the tracking set up through the async handle. For tokio
//! services, and whenever several tasks share one connection:
//!
//! ```text
//! let cpg = corosync::tokio::Cpg::open()?;
//! cpg.join(&GroupName::new("demo")?)?;
//! let sender = cpg.clone();
//! tokio::spawn(async move { sender.send(Guarantee::Agreed, b"hello").await });
//! while let Event::Message(msg) = cpg.next_event().await? { println!("{:?}", msg.data()); }
//! ```
//!
//! Which to use: closures for the least overhead in a thread of its own, pull for a
//! synchronous loop that wants values and timeouts, async for tokio programs and for one
//! connection shared by several tasks.
//!
//! **Other event loops**: a handle's fd is readable exactly when `dispatch` (or
//! `try_next_event`) has work, including when the daemon went away, and it stays open until
//! the handle is dropped (or reconnected). Register it with mio (cargo feature `mio`: every
//! handle is a `mio::event::Source`) or with tokio's `AsyncFd` through [`AsFd`](std::os::fd::AsFd),
//! and on readiness call `try_next_event` until it returns `None` (pull) or
//! `dispatch(DispatchFlags::All)` (closures). One handle serves one task at a time: see
//! below.
//!
//! ## Reconnecting
//! When the daemon is restarted, every call on an old handle fails with an error for which
//! [`Error::is_disconnected`] is true. `handle.reconnect()` (with `&mut`) opens a new
//! connection for the same handle, keeping its closures and their state (or its pull queue)
//! and its stopper. Events may have been missed in between: `reconnect` returns a
//! [`Reconnected`] (`#[must_use]`) and a pull handle also queues `Event::Reconnected`.
//! Whatever the daemon kept for the old connection is gone: join CPG groups again, call
//! `track_start` again, add cmap tracks again; and register the new fd with your event loop.
//! (The async handles of `corosync::tokio` do all of that themselves.) The new connection is
//! made from the calling thread's network namespace, like `open`.
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
//! The async handles of `corosync::tokio` are `Sync` because they hold the handle in a
//! mutex and serialise every request on it.
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
//!   3.1.0 and later);
//! - `corosync_cfg_link_dynconnected`: link statuses carry `dynconnected` (3.1.4 and later).

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

mod c_enum;
mod clist;
mod cstr;
mod error;
mod event_loop;
mod handle;
mod types;

pub use error::{Error, Result};
pub use event_loop::{poll_readable, Readable, Reconnected, Stopped, Stopper, POLL_MAX_FDS};
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

#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(test)]
mod plumbing_tests;

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
