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
//! readable, call `dispatch(DispatchMode::All)`. See the next section for the ways to run
//! a loop.
//!
//! A panic in a callback never unwinds through C: it is caught in the trampoline, the
//! dispatch stops delivering, and the panic is resumed from `dispatch`. No event is lost by
//! it: the events behind the one whose callback panicked are delivered, in order, by the next
//! `dispatch`, so a CPG member that catches the panic and goes on dispatching sees every
//! message the other members saw. (For CPG and cmap, whose events come at high rates,
//! `dispatch(All)` reads every pending event in one C call, as C programs do, and keeps a
//! copy of those behind the panic, dropping those of a cmap track deleted meanwhile as
//! libcmap does; quorum, votequorum and cfg have the C library read one event per call, so
//! the later events stay in the connection.)
//! Call `dispatch` again after catching such a panic rather than waiting on the fd first: the
//! kept events do not make the fd readable (the handle's own `wait_readable` and
//! `dispatch_blocking` know of them).
//!
//! The C libraries also keep a "context" pointer per handle (`cmap_context_set` and
//! friends). It is not offered: keep state in your closures instead. (The crate's trampolines
//! do not need it either: they find the handle being dispatched in a thread-local record,
//! without a lookup in the C library per event.)
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
//! `dispatch(DispatchMode::All)`.
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
//! `dispatch(DispatchMode::All)` (closures). One handle serves one task at a time: see
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
//! # Stack
//! Every C `*_dispatch` puts a 1 MiB receive buffer (`IPC_DISPATCH_SIZE`) on the stack of the
//! thread that dispatches, so callbacks run with about 1 MiB less stack than that thread has.
//! Rust's spawned threads have 2 MiB by default and the main thread 8 MiB; a thread built
//! with a smaller stack (`std::thread::Builder::stack_size`) must leave room for that buffer
//! plus what the callbacks need.
//!
//! # Threads: `Send`, not `Sync`
//! One libqb IPC connection must not carry requests from two threads at once: its shared
//! memory ring buffers get corrupted ([libqb issue #243](https://github.com/ClusterLabs/libqb/issues/243),
//! closed as "up to the library user"; libqb's maintainers recommend one connection per
//! thread). A connection may move between threads, though: libqb keeps no per-thread state
//! for it and lookups in its handle tables are atomic. So every handle is
//! [`Send`] but not [`Sync`]: safe code can hand a handle to another thread, or share it
//! behind a `Mutex`, but never issue concurrent requests on it. Open one handle per thread
//! for parallel requests. Closures stored in a handle must therefore be `Send + 'static`.
//! The async handles of `corosync::tokio` are `Sync` because they hold the handle in a
//! mutex and serialise every request on it.
//!
//! Opening and closing handles from any number of threads at once is safe too. libqb's
//! handle tables are not safe for that (two threads creating a handle at once can get the same
//! slot, and `*_initialize` then fails; see docs/upstream-notes.md in the repository), so the
//! crate holds a process-wide lock per library around every call that creates or destroys an
//! entry in them (`*_initialize`, `*_finalize`, cmap tracks, CPG iterations).
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
//!
//! ## Semver note
//! The items behind these cfgs depend on the corosync installed where the crate is built,
//! not on this crate's version: one release of this crate offers `cfg::Cfg::node_status`
//! when built against corosync 3.1.1 or later, and lacks it when built against an older one.
//! Their presence is therefore outside this crate's semver promise, and the
//! documentation on docs.rs (built from the corosync 3.1.7 headers) shows them all. A crate
//! that depends on them requires the corosync release that has them; a crate that must also
//! build against older releases has to avoid them, since the cfgs are not visible to
//! dependents. Every other item exists whatever corosync 3 release the build finds.
//!
//! # Known corosync bugs
//! Defects of corosync's C libraries and daemon (3.1.7) that a user of this crate may meet,
//! and what the crate does about each:
//!
//! - **Zero-copy CPG buffers abort when /dev/shm is full.** libcpg 3.1.7 backs each buffer of
//!   [`cpg::Cpg::zcb_alloc`] with a file in /dev/shm and `assert`s that creating it worked, so
//!   a full /dev/shm (or /var/run) aborts the process. An abort cannot be caught: the crate
//!   documents it on [`cpg::ZeroCopyBuffer`]; [`cpg::Cpg::mcast`] needs no such file and is the
//!   safe choice where /dev/shm may fill up.
//! - **libcfg leaks a reference after replying to a shutdown.**
//!   `corosync_cfg_replyto_shutdown` takes a reference to the handle and never releases it,
//!   so the connection of a handle that replied stays open until the process exits, and
//!   stays registered as a shutdown tracker that never answers again (every later shutdown
//!   request would wait `cfg.shutdown_timeout` for it and count it as a veto). The crate
//!   cannot close the connection, but dropping or finalizing a [`cfg::Cfg`] stops its tracking
//!   first, so the leaked connection no longer delays or vetoes shutdowns.
//! - **`kill_node` answers with uninitialised memory on a dead connection.**
//!   `corosync_cfg_kill_node` ignores a failure to send its request and returns whatever its
//!   answer buffer holds. [`cfg::Cfg::kill_node`] returns libcfg's answer as it is, so on a
//!   connection that is already gone its result is unreliable (any error, or `Ok(())`); the
//!   [`cfg`](mod@cfg) module docs say so. Check the connection first (for example with
//!   [`cfg::Cfg::local_node_id`]) when it matters.
//! - **A length-only `cmap_get` crashes the daemon on `stats.schedmiss.*` keys.** Asked for
//!   only the length and type of a `stats.schedmiss.*` value of the stats map, the 3.1.7
//!   daemon writes the value into the missing buffer and exits. This crate never sends that
//!   request to the stats map: every read there passes a buffer (a length-only request is
//!   made only on the icmap, whose daemon side handles it, for values over 256 bytes), and
//!   `tests/tests/daemon_safety.rs` reads every schedmiss key every way against a real daemon.
//! - **Tracking a `stats.ipcs.*.procname` key crashes the daemon.** The stats map reads a
//!   tracked value into 8 bytes; [`cmap::Cmap::track`] refuses single-key tracks of wider
//!   stats values with [`Error::NotSupported`].
//! - **Keys changed while an iteration stands on them** (libqb's trie, which holds the
//!   icmap). The daemon's iterator keeps a reference to the key it last returned; a key
//!   deleted meanwhile stays readable until the iteration moves on or ends, and then goes,
//!   so (a) a value set again under the same name in between is lost with it, although
//!   both requests succeeded, and (b) a second delete, which succeeds because the key still
//!   reads, frees it under the iteration: the daemon crashes when the iteration moves on.
//!   This happens whichever connections (or processes) iterate and delete, so the crate
//!   cannot refuse the second delete; [`cmap::Cmap::delete`] and [`cmap::Cmap::iter`] say
//!   so, and `tests/tests/cmap.rs` and `tests/tests/daemon_safety.rs` show both on real
//!   daemons. Deleting each key once while iterating over it, as `corosync-cmapctl -D`
//!   does, is safe; do not delete a key twice (or delete, set and delete it) while any
//!   iteration may stand on it, and keep iterations short where other programs change keys.
//! - **A CPG leave of a group the handle did not join corrupts the membership**, and **a join
//!   after a leave never returns** (the daemon answers `CS_ERR_BUSY` for good, which libcpg
//!   retries). [`cpg::Cpg::leave`] refuses another group's name with [`Error::NotExist`] and
//!   [`cpg::Cpg::join`] refuses a handle that has left with [`Error::NotSupported`].
//! - **Groups of more than 128 members overflow fixed arrays** in the daemon and in libcpg;
//!   a daemon was seen to corrupt its heap and hang when a node with 130 members of a group
//!   failed. [`cpg::Cpg::join`] refuses a group that already has
//!   [`cpg::GROUP_MEMBERS_MAX`] members with [`Error::NoSpace`].
//! - **Votes for an absent quorum device take quorum away for good.**
//!   [`votequorum::Votequorum::set_votes`] refuses
//!   [`QDEVICE_NODE_ID`](votequorum::QDEVICE_NODE_ID) with [`Error::NotExist`] unless a
//!   quorum device is registered on the node.
//!
//! docs/daemon-safety.md in the repository lists every request the crate can send, what the
//! daemon does with the values the caller controls, and the verdict for each;
//! `tests/tests/daemon_safety.rs` drives them against real daemons.
//!
#![warn(missing_docs)]
// docs.rs builds with `--cfg docsrs` (see Cargo.toml): each module shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
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
pub use types::{DispatchMode, Dispatched, NodeId, RingId, TrackFlags};

/// The corosync release whose headers this build was generated from, e.g. `"3.1.7"`.
///
/// ```
/// assert!(corosync::COROSYNC_VERSION.starts_with('3'));
/// ```
pub const COROSYNC_VERSION: &str = corosync_sys::COROSYNC_VERSION;

#[cfg(feature = "cfg")]
#[cfg_attr(docsrs, doc(cfg(feature = "cfg")))]
pub mod cfg;
#[cfg(feature = "cmap")]
#[cfg_attr(docsrs, doc(cfg(feature = "cmap")))]
pub mod cmap;
#[cfg(feature = "cpg")]
#[cfg_attr(docsrs, doc(cfg(feature = "cpg")))]
pub mod cpg;
#[cfg(feature = "quorum")]
#[cfg_attr(docsrs, doc(cfg(feature = "quorum")))]
pub mod quorum;
#[cfg(feature = "votequorum")]
#[cfg_attr(docsrs, doc(cfg(feature = "votequorum")))]
pub mod votequorum;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

/// Compile-time proof of the promise in "Threads" above: every handle type is `Send` and not
/// `Sync`. The trait below has two blanket impls; for a type that is `Sync` both apply and
/// `<T as AmbiguousIfSync<_>>::OK` does not compile (E0283), so making a handle `Sync` (or
/// losing `Send`) breaks the build.
macro_rules! assert_send_not_sync {
    ($($feature:literal => $t:ty;)*) => {
        $(
            #[cfg(feature = $feature)]
            const _: () = {
                const fn send<T: Send>() {}
                trait AmbiguousIfSync<A> {
                    const OK: () = ();
                }
                impl<T: ?Sized> AmbiguousIfSync<()> for T {}
                impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}
                send::<$t>();
                <$t as AmbiguousIfSync<_>>::OK
            };
        )*
    };
}

assert_send_not_sync! {
    "cmap" => cmap::Cmap;
    "cpg" => cpg::Cpg;
    "quorum" => quorum::Quorum;
    "votequorum" => votequorum::Votequorum;
    "cfg" => cfg::Cfg;
}

#[cfg(test)]
mod plumbing_tests;

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
