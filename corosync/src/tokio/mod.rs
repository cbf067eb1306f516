//! Async handles for tokio (cargo feature `tokio`): streams of owned events, one connection
//! shared by many tasks, CPG sends that await flow control, and reconnect.
//!
//! Each library has an async handle here: [`Cpg`], [`Cmap`], [`Quorum`], [`Votequorum`] and
//! [`Cfg`]. Each wraps one connection (a sync handle in pull mode) and is `Clone + Send +
//! Sync`: clones are cheap (an `Arc`) and share the connection, so any number of tasks, on
//! any runtime (multi-thread included), can make requests, send and receive on it at once.
//!
//! # How it works
//! - **Requests are serialised inside.** libqb must never see two requests at once on one
//!   connection ([libqb issue #243](https://github.com/ClusterLabs/libqb/issues/243)). The
//!   sync handle sits in a mutex that every call takes for one synchronous step (one C call,
//!   or a few) and never holds across an `.await`. A request blocks its worker thread for
//!   one IPC round trip to the local daemon (tens of microseconds), like any short
//!   synchronous call. libcpg's dispatch keeps 1 MiB of receive buffer on the stack:
//!   tokio's worker threads (2 MiB by default) have room for it.
//! - **The fd is registered inside the crate**, on first use from a task (so a handle may
//!   be opened on any thread, e.g. one in another network namespace, and then moved into
//!   the runtime); no `unsafe` is left to the user. The crate registers a duplicate of the
//!   connection's fd, which it owns, so the registration never outlives the fd it names;
//!   after a reconnect the new connection's fd is registered. Using an async handle outside
//!   a tokio runtime with IO enabled panics, like tokio's own IO types.
//! - **Receiving**: [`Cpg::events`] (a [`futures_core::Stream`] of owned events) or
//!   [`Cpg::next_event`]. When nothing is queued they wait for the fd to become readable
//!   (no busy polling while idle: an idle receiver costs nothing until an event arrives),
//!   then dispatch one event at a time, as the sync pull mode does.
//! - **Sending** ([`Cpg::send`]): each try is one `cpg_mcast_joined` call, so a message is
//!   either handed to the daemon whole or not at all. When the daemon answers
//!   [`Error::TryAgain`](crate::Error::TryAgain) (its send queue is full), the send
//!   dispatches what waits on the connection into the handle's queue, then awaits the fd
//!   (every delivery, its own messages included, shows that the daemon's queue moved), a
//!   receiver making room, or a fallback timer (1 ms doubling to 16 ms, for a queue that
//!   other groups' traffic fills, which this connection does not see), and tries again. A
//!   dropped send future leaves nothing behind: no lock is held between tries, and its
//!   waits deregister on drop. Every send first yields to the runtime once, before its
//!   first try: a send the daemon accepts at once would otherwise never let a receiver
//!   task of the same thread run, and a sending loop would hold deliveries back until flow
//!   control stopped it (on a current-thread runtime, 64 KiB messages reached 0.45 to 0.92
//!   of the sync throughput that way; see BENCHMARKS.md).
//!
//! # The queue and its bound
//! Events that a waiting sender dispatches go into the connection's queue, which holds at
//! most 1024 events; receivers take from it first. When it is full, senders stop
//! dispatching and wait for a receiver to take an event: the rest stays in the daemon's IPC
//! buffers, where corosync's own flow control holds further sends back. Nothing is dropped,
//! but a program that sends without ever receiving will find its sends waiting (wrap them in
//! `tokio::time::timeout` if that can happen). Events still queued when a stream is dropped
//! stay for the next stream or `next_event`; they are dropped with the last clone of the
//! handle (and its last stream).
//!
//! # When the daemon goes away
//! The fd becomes readable (hung up), so every waiting stream, `next_event` and send wakes,
//! gets the disconnected error ([`Error::is_disconnected`](crate::Error::is_disconnected)),
//! and the streams end. Every later call returns that error at once. [`Cpg::reconnect`]
//! (on any handle) opens a new connection once the daemon is back, sets up again what was
//! set up through the async handle (the CPG group joined, the cmap tracks, quorum,
//! votequorum and cfg tracking) and queues the library's `Event::Reconnected`, which tells
//! the next receiver that events may have been missed. Then take a new stream.
//!
//! # Example
//! Four tasks send on one connection while one task receives:
//!
//! ```no_run
//! use corosync::cpg::{Event, GroupName, Guarantee};
//! use corosync::tokio::Cpg;
//!
//! # #[tokio::main] async fn main() -> corosync::Result<()> {
//! let cpg = Cpg::open()?;
//! cpg.join(&GroupName::new("workers")?)?;
//! for task in 0..4 {
//!     let cpg = cpg.clone();
//!     tokio::spawn(async move {
//!         for i in 0..100 {
//!             cpg.send(Guarantee::Agreed, format!("task {task} message {i}").as_bytes()).await?;
//!         }
//!         Ok::<(), corosync::Error>(())
//!     });
//! }
//! loop {
//!     match cpg.next_event().await? {
//!         Event::Message(msg) => println!("{}: {:?}", msg.node_id(), msg.data()),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # }
//! ```

mod conn;
mod stream;

use std::fmt;
use std::io::IoSlice;
use std::sync::Arc;

use conn::{Conn, PullHandle, DEFAULT_CAPACITY};
pub use stream::EventStream;

use crate::{NodeId, Reconnected, Result, TrackFlags};

/// Implements [`PullHandle`] for a sync handle with the given setup and restore.
macro_rules! pull_handle {
    ($sync:ty, $event:ty, setup: $setup:ty, restore: |$h:ident, $s:ident| $restore:expr) => {
        impl PullHandle for $sync {
            type Event = $event;
            type Setup = $setup;

            fn try_next_event(&self) -> Result<Option<$event>> {
                <$sync>::try_next_event(self)
            }

            fn reconnect(&mut self) -> Result<Reconnected> {
                <$sync>::reconnect(self)
            }

            fn restore(&mut self, setup: &mut $setup) -> Result<()> {
                let $h = &*self;
                let $s = setup;
                $restore
            }
        }
    };
}

/// Declares an async handle around a sync handle in pull mode, with the methods all share.
macro_rules! async_handle {
    (
        $(#[$doc:meta])*
        pub struct $name:ident($sync:ty, $event:ty);
        open: $open:literal;
    ) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            conn: Arc<Conn<$sync>>,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl $name {
            /// Wraps a sync handle opened in pull mode (its library's `pull()` or
            /// `build_pull()`), e.g. to pick builder options. The handle may have been
            /// opened on any thread.
            ///
            /// # Errors
            /// [`Error::NotPullMode`](crate::Error::NotPullMode) for a handle with
            /// closures.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = corosync::tokio::", stringify!($name), "::from_pull(", $open, ")?;")]
            /// # Ok(()) }
            /// ```
            pub fn from_pull(handle: $sync) -> Result<$name> {
                // Refused at once by a handle with closures; an event dispatched by the
                // check is kept.
                let first = handle.try_next_event()?;
                let conn = Conn::new(handle, DEFAULT_CAPACITY);
                if let Some(event) = first {
                    conn.push_front(event);
                }
                Ok($name { conn })
            }

            /// The stream of this connection's owned events; see [`EventStream`] for how
            /// several streams share them and what a dropped stream leaves.
            ///
            /// ```no_run
            /// use futures_core::Stream;
            /// # async fn example() -> corosync::Result<()> {
            #[doc = concat!("let handle = corosync::tokio::", stringify!($name), "::open()?;")]
            /// let mut events = handle.events();
            /// while let Some(event) =
            ///     std::future::poll_fn(|cx| std::pin::Pin::new(&mut events).poll_next(cx)).await
            /// {
            ///     println!("{:?}", event?);
            /// }
            /// # Ok(()) }
            /// ```
            pub fn events(&self) -> EventStream<$event> {
                EventStream::new(self.conn.clone())
            }

            /// The next event, waiting for it without limit (wrap it in
            /// `tokio::time::timeout` for a limit: it is cancellation safe).
            ///
            /// # Errors
            /// The disconnected error ([`Error::is_disconnected`](crate::Error::is_disconnected))
            /// when the daemon went away, at once on a dead connection; another error of the
            /// dispatch.
            ///
            /// ```no_run
            /// # async fn example() -> corosync::Result<()> {
            #[doc = concat!("let handle = corosync::tokio::", stringify!($name), "::open()?;")]
            /// let event = handle.next_event().await?;
            /// println!("{event:?}");
            /// # Ok(()) }
            /// ```
            pub async fn next_event(&self) -> Result<$event> {
                self.conn.next_event().await
            }

            /// Replaces a dead connection by a new one once the daemon is back, sets up
            /// again what was set up through this handle (see the module docs) and queues
            /// `Event::Reconnected` for the receivers. Requests made meanwhile fail with a
            /// disconnected error. Waits (without blocking) while the daemon answers
            /// `TryAgain` to the setup, for up to 10 s.
            ///
            /// # Errors
            /// The error of the new connection (e.g. the daemon is not back yet: try again
            /// later) or of the setup.
            ///
            /// ```no_run
            /// # async fn example() -> corosync::Result<()> {
            #[doc = concat!("let handle = corosync::tokio::", stringify!($name), "::open()?;")]
            /// if let Err(err) = handle.next_event().await {
            ///     if err.is_disconnected() {
            ///         let _gap = handle.reconnect().await?;
            ///     }
            /// }
            /// # Ok(()) }
            /// ```
            pub async fn reconnect(&self) -> Result<Reconnected> {
                self.conn.reconnect().await
            }

            /// Runs `f` on the sync handle, for the requests this async handle does not
            /// wrap; the connection is locked meanwhile, so keep `f` short and do not wait
            /// in it (no `next_event` with a timeout, no `dispatch_blocking`). Setup made
            /// here (joins, tracks) is not restored by [`reconnect`](Self::reconnect).
            ///
            /// # Errors
            /// The disconnected error on a dead connection; what `f` returns.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = corosync::tokio::", stringify!($name), "::open()?;")]
            /// let fd = handle.with_handle(|sync| Ok(std::os::fd::AsRawFd::as_raw_fd(sync)))?;
            /// # Ok(()) }
            /// ```
            pub fn with_handle<R>(&self, f: impl FnOnce(&$sync) -> Result<R>) -> Result<R> {
                self.conn.request(|inner| f(&inner.handle))
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// CPG

#[cfg(feature = "cpg")]
pull_handle!(crate::cpg::Cpg, crate::cpg::Event,
setup: Option<crate::cpg::GroupName>,
restore: |cpg, group| match group {
    Some(group) => match cpg.join(group) {
        Err(crate::Error::Exist) | Ok(()) => Ok(()),
        Err(err) => Err(err),
    },
    None => Ok(()),
});

#[cfg(feature = "cpg")]
async_handle! {
    /// An async CPG connection: join a group, send from any number of tasks, receive the
    /// group's messages and membership changes as owned [`cpg::Event`](crate::cpg::Event)s.
    /// See the [module docs](self).
    ///
    /// ```no_run
    /// use corosync::cpg::{GroupName, Guarantee};
    /// # async fn example() -> corosync::Result<()> {
    /// let cpg = corosync::tokio::Cpg::open()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// cpg.send(Guarantee::Agreed, b"hello").await?;
    /// println!("{:?}", cpg.next_event().await?);
    /// # Ok(()) }
    /// ```
    pub struct Cpg(crate::cpg::Cpg, crate::cpg::Event);
    open: "corosync::cpg::Cpg::pull()?";
}

#[cfg(feature = "cpg")]
impl Cpg {
    /// Connects (`cpg_model_initialize` with every callback, in pull mode).
    ///
    /// # Errors
    /// As [`cpg::Cpg::pull`](crate::cpg::Cpg::pull).
    ///
    /// ```no_run
    /// let cpg = corosync::tokio::Cpg::open()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn open() -> Result<Cpg> {
        Cpg::from_pull(crate::cpg::Cpg::pull()?)
    }

    /// Joins `group` ([`cpg::Cpg::join`](crate::cpg::Cpg::join)); [`reconnect`](Self::reconnect)
    /// joins it again.
    ///
    /// # Errors
    /// As [`cpg::Cpg::join`](crate::cpg::Cpg::join).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cpg = corosync::tokio::Cpg::open()?;
    /// cpg.join(&corosync::cpg::GroupName::new("demo")?)?;
    /// # Ok(()) }
    /// ```
    pub fn join(&self, group: &crate::cpg::GroupName) -> Result<()> {
        self.conn.request(|inner| {
            inner.handle.join(group)?;
            inner.setup = Some(*group);
            Ok(())
        })
    }

    /// Leaves `group` ([`cpg::Cpg::leave`](crate::cpg::Cpg::leave)).
    ///
    /// # Errors
    /// As [`cpg::Cpg::leave`](crate::cpg::Cpg::leave).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cpg = corosync::tokio::Cpg::open()?;
    /// let group = corosync::cpg::GroupName::new("demo")?;
    /// cpg.join(&group)?;
    /// cpg.leave(&group)?;
    /// # Ok(()) }
    /// ```
    pub fn leave(&self, group: &crate::cpg::GroupName) -> Result<()> {
        self.conn.request(|inner| {
            inner.handle.leave(group)?;
            inner.setup = None;
            Ok(())
        })
    }

    /// Sends `data` to the joined group, waiting out flow control without blocking (see the
    /// module docs), and returns how many times the daemon answered
    /// [`Error::TryAgain`](crate::Error::TryAgain) for it (as
    /// [`cpg::Cpg::mcast_retrying`](crate::cpg::Cpg::mcast_retrying) does). Cancellation
    /// safe: dropped before it returns, the message was either handed to the daemon whole or
    /// not at all, and nothing is left locked or waiting.
    ///
    /// # Errors
    /// The disconnected error when the daemon went away (also for a send waiting then);
    /// another error of [`cpg::Cpg::mcast`](crate::cpg::Cpg::mcast).
    ///
    /// ```no_run
    /// use corosync::cpg::{GroupName, Guarantee};
    /// # async fn example() -> corosync::Result<()> {
    /// let cpg = corosync::tokio::Cpg::open()?;
    /// cpg.join(&GroupName::new("demo")?)?;
    /// let block = vec![0u8; 64 * 1024];
    /// tokio::time::timeout(std::time::Duration::from_secs(5), cpg.send(Guarantee::Agreed, &block))
    ///     .await
    ///     .map_err(|_| corosync::Error::TryAgain)??;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "cpg_mcast_joined")]
    pub async fn send(&self, guarantee: crate::cpg::Guarantee, data: &[u8]) -> Result<u32> {
        self.send_vectored(guarantee, &[IoSlice::new(data)]).await
    }

    /// [`send`](Self::send) for the concatenation of `bufs`
    /// ([`cpg::Cpg::mcast_vectored`](crate::cpg::Cpg::mcast_vectored)).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    ///
    /// ```no_run
    /// use std::io::IoSlice;
    /// use corosync::cpg::Guarantee;
    /// # async fn example(cpg: corosync::tokio::Cpg) -> corosync::Result<()> {
    /// cpg.send_vectored(Guarantee::Agreed, &[IoSlice::new(b"head"), IoSlice::new(b"body")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_vectored(
        &self,
        guarantee: crate::cpg::Guarantee,
        bufs: &[IoSlice<'_>],
    ) -> Result<u32> {
        self.conn
            .send(|cpg| cpg.mcast_vectored(guarantee, bufs))
            .await
    }

    /// Sends without waiting: [`Error::TryAgain`](crate::Error::TryAgain) under flow
    /// control.
    ///
    /// # Errors
    /// As [`cpg::Cpg::mcast`](crate::cpg::Cpg::mcast).
    ///
    /// ```no_run
    /// # fn example(cpg: corosync::tokio::Cpg) -> corosync::Result<()> {
    /// cpg.try_send(corosync::cpg::Guarantee::Agreed, b"now or never")?;
    /// # Ok(()) }
    /// ```
    pub fn try_send(&self, guarantee: crate::cpg::Guarantee, data: &[u8]) -> Result<()> {
        self.conn
            .request(|inner| inner.handle.mcast(guarantee, data))
    }

    /// The local node's id ([`cpg::Cpg::local_node_id`](crate::cpg::Cpg::local_node_id)).
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// # fn example(cpg: corosync::tokio::Cpg) -> corosync::Result<()> {
    /// println!("node {}", cpg.local_node_id()?);
    /// # Ok(()) }
    /// ```
    pub fn local_node_id(&self) -> Result<NodeId> {
        self.conn.request(|inner| inner.handle.local_node_id())
    }

    /// The members of `group` ([`cpg::Cpg::membership`](crate::cpg::Cpg::membership)).
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// # fn example(cpg: corosync::tokio::Cpg) -> corosync::Result<()> {
    /// let members = cpg.membership(&corosync::cpg::GroupName::new("demo")?)?;
    /// # Ok(()) }
    /// ```
    pub fn membership(&self, group: &crate::cpg::GroupName) -> Result<Vec<crate::cpg::Address>> {
        self.conn.request(|inner| inner.handle.membership(group))
    }
}

// ---------------------------------------------------------------------------------------
// cmap

/// The tracks made through an async [`Cmap`], re-added after a reconnect.
#[cfg(feature = "cmap")]
#[derive(Default)]
pub(crate) struct CmapTracks(Vec<CmapTrack>);

#[cfg(feature = "cmap")]
struct CmapTrack {
    key: String,
    track_type: crate::cmap::TrackOptions,
    /// The track on the current connection (none between a reconnect and the restore).
    current: Option<crate::cmap::DetachedTrack>,
}

#[cfg(feature = "cmap")]
impl conn::Setup for CmapTracks {
    fn forget_finalized(&mut self) {
        // The old connection's handle freed the tracks' closures with it.
        for track in &mut self.0 {
            track.current = None;
        }
    }
}

#[cfg(feature = "cmap")]
pull_handle!(crate::cmap::Cmap, crate::cmap::Event,
setup: CmapTracks,
restore: |cmap, tracks| {
    for track in &mut tracks.0 {
        if track.current.is_none() {
            let new = cmap.track_events(&track.key, track.track_type)?;
            track.current = Some(new.detach());
        }
    }
    Ok(())
});

#[cfg(feature = "cmap")]
async_handle! {
    /// An async cmap connection: reads and writes keys, and hands out the changes of its
    /// tracks as owned [`cmap::Event`](crate::cmap::Event)s. See the [module docs](self).
    ///
    /// ```no_run
    /// use corosync::cmap::{Event, TrackOptions};
    /// # async fn example() -> corosync::Result<()> {
    /// let cmap = corosync::tokio::Cmap::open()?;
    /// let track = cmap.track("runtime.members.", TrackOptions::all())?;
    /// if let Event::Track(change) = cmap.next_event().await? {
    ///     assert_eq!(change.track(), track);
    ///     println!("{} -> {:?}", change.key(), change.new_value());
    /// }
    /// # Ok(()) }
    /// ```
    pub struct Cmap(crate::cmap::Cmap, crate::cmap::Event);
    open: "corosync::cmap::Cmap::pull()?";
}

#[cfg(feature = "cmap")]
impl Cmap {
    /// Connects to the default map, in pull mode.
    ///
    /// # Errors
    /// As [`cmap::Cmap::pull`](crate::cmap::Cmap::pull).
    ///
    /// ```no_run
    /// let cmap = corosync::tokio::Cmap::open()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn open() -> Result<Cmap> {
        Cmap::from_pull(crate::cmap::Cmap::pull()?)
    }

    /// Reads `key` ([`cmap::Cmap::get`](crate::cmap::Cmap::get)).
    ///
    /// # Errors
    /// As [`cmap::Cmap::get`](crate::cmap::Cmap::get).
    ///
    /// ```no_run
    /// # fn example(cmap: corosync::tokio::Cmap) -> corosync::Result<()> {
    /// let token: u32 = cmap.get("totem.token")?;
    /// # Ok(()) }
    /// ```
    pub fn get<T: crate::cmap::FromCmap>(&self, key: &str) -> Result<T> {
        self.conn.request(|inner| inner.handle.get(key))
    }

    /// Writes `key` ([`cmap::Cmap::set`](crate::cmap::Cmap::set)).
    ///
    /// # Errors
    /// As [`cmap::Cmap::set`](crate::cmap::Cmap::set).
    ///
    /// ```no_run
    /// # fn example(cmap: corosync::tokio::Cmap) -> corosync::Result<()> {
    /// cmap.set("example.count", 1u32)?;
    /// # Ok(()) }
    /// ```
    pub fn set<V: crate::cmap::ToCmap>(&self, key: &str, value: V) -> Result<()> {
        self.conn.request(|inner| inner.handle.set(key, value))
    }

    /// Deletes `key` ([`cmap::Cmap::delete`](crate::cmap::Cmap::delete)).
    ///
    /// # Errors
    /// As [`cmap::Cmap::delete`](crate::cmap::Cmap::delete).
    ///
    /// ```no_run
    /// # fn example(cmap: corosync::tokio::Cmap) -> corosync::Result<()> {
    /// cmap.delete("example.count")?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, key: &str) -> Result<()> {
        self.conn.request(|inner| inner.handle.delete(key))
    }

    /// Tracks changes of `key` ([`cmap::Cmap::track_events`](crate::cmap::Cmap::track_events)):
    /// they arrive as [`cmap::Event::Track`](crate::cmap::Event::Track) carrying the
    /// returned id. The track lasts until [`untrack`](Self::untrack) or the connection's
    /// end, and [`reconnect`](Self::reconnect) adds it again, under a new id (the events'
    /// keys stay the same).
    ///
    /// # Errors
    /// As [`cmap::Cmap::track`](crate::cmap::Cmap::track).
    ///
    /// ```no_run
    /// use corosync::cmap::TrackOptions;
    /// # fn example(cmap: corosync::tokio::Cmap) -> corosync::Result<()> {
    /// let id = cmap.track("totem.", TrackOptions::all() )?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "cmap_track_add")]
    pub fn track(
        &self,
        key: &str,
        track_type: crate::cmap::TrackOptions,
    ) -> Result<crate::cmap::TrackId> {
        self.conn.request(|inner| {
            let track = inner.handle.track_events(key, track_type)?.detach();
            let id = track.id();
            inner.setup.0.push(CmapTrack {
                key: key.to_owned(),
                track_type,
                current: Some(track),
            });
            Ok(id)
        })
    }

    /// Stops the track `id` made by [`track`](Self::track).
    ///
    /// # Errors
    /// [`Error::NotExist`](crate::Error::NotExist) if this handle has no track `id`; an
    /// error of `cmap_track_delete`.
    ///
    /// ```no_run
    /// use corosync::cmap::TrackOptions;
    /// # fn example(cmap: corosync::tokio::Cmap) -> corosync::Result<()> {
    /// let id = cmap.track("totem.", TrackOptions::all())?;
    /// cmap.untrack(id)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "cmap_track_delete")]
    pub fn untrack(&self, id: crate::cmap::TrackId) -> Result<()> {
        self.conn.request(|inner| {
            let index = inner
                .setup
                .0
                .iter()
                .position(|t| t.current.as_ref().map(|c| c.id()) == Some(id))
                .ok_or(crate::Error::NotExist)?;
            let track = inner.setup.0.remove(index);
            match track.current {
                Some(current) => current.delete(&inner.handle),
                None => Ok(()),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// quorum, votequorum, cfg

#[cfg(feature = "quorum")]
pull_handle!(crate::quorum::Quorum, crate::quorum::Event,
setup: Option<TrackFlags>,
restore: |quorum, flags| match flags {
    Some(flags) => quorum.track_start(*flags),
    None => Ok(()),
});

#[cfg(feature = "quorum")]
async_handle! {
    /// An async libquorum connection: quorum and node list changes as owned
    /// [`quorum::Event`](crate::quorum::Event)s. See the [module docs](self).
    ///
    /// ```no_run
    /// # async fn example() -> corosync::Result<()> {
    /// let quorum = corosync::tokio::Quorum::open()?;
    /// quorum.track_start(corosync::TrackFlags::CHANGES)?;
    /// println!("{:?}", quorum.next_event().await?);
    /// # Ok(()) }
    /// ```
    pub struct Quorum(crate::quorum::Quorum, crate::quorum::Event);
    open: "corosync::quorum::Quorum::pull()?";
}

#[cfg(feature = "quorum")]
impl Quorum {
    /// Connects in pull mode ([`quorum::Quorum::pull`](crate::quorum::Quorum::pull)).
    ///
    /// # Errors
    /// As [`quorum::Quorum::pull`](crate::quorum::Quorum::pull).
    ///
    /// ```no_run
    /// let quorum = corosync::tokio::Quorum::open()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn open() -> Result<Quorum> {
        Quorum::from_pull(crate::quorum::Quorum::pull()?)
    }

    /// Whether the cluster is quorate now.
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// # fn example(quorum: corosync::tokio::Quorum) -> corosync::Result<()> {
    /// println!("quorate: {}", quorum.is_quorate()?);
    /// # Ok(()) }
    /// ```
    pub fn is_quorate(&self) -> Result<bool> {
        self.conn.request(|inner| inner.handle.is_quorate())
    }

    /// Starts tracking; [`reconnect`](Self::reconnect) starts it again.
    ///
    /// # Errors
    /// As [`quorum::Quorum::track_start`](crate::quorum::Quorum::track_start).
    ///
    /// ```no_run
    /// # fn example(quorum: corosync::tokio::Quorum) -> corosync::Result<()> {
    /// quorum.track_start(corosync::TrackFlags::CURRENT | corosync::TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    pub fn track_start(&self, flags: TrackFlags) -> Result<()> {
        self.conn.request(|inner| {
            inner.handle.track_start(flags)?;
            inner.setup = Some(flags);
            Ok(())
        })
    }

    /// Stops tracking.
    ///
    /// # Errors
    /// As [`quorum::Quorum::track_stop`](crate::quorum::Quorum::track_stop).
    ///
    /// ```no_run
    /// # fn example(quorum: corosync::tokio::Quorum) -> corosync::Result<()> {
    /// quorum.track_stop()?;
    /// # Ok(()) }
    /// ```
    pub fn track_stop(&self) -> Result<()> {
        self.conn.request(|inner| {
            inner.setup = None;
            inner.handle.track_stop()
        })
    }
}

#[cfg(feature = "votequorum")]
pull_handle!(crate::votequorum::Votequorum, crate::votequorum::Event,
setup: Option<(u64, TrackFlags)>,
restore: |votequorum, tracking| match tracking {
    Some((context, flags)) => votequorum.track_start(*context, *flags),
    None => Ok(()),
});

#[cfg(feature = "votequorum")]
async_handle! {
    /// An async libvotequorum connection: quorum, node list and expected votes changes as
    /// owned [`votequorum::Event`](crate::votequorum::Event)s. See the [module docs](self).
    ///
    /// ```no_run
    /// # async fn example() -> corosync::Result<()> {
    /// let vq = corosync::tokio::Votequorum::open()?;
    /// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
    /// println!("{:?}", vq.next_event().await?);
    /// # Ok(()) }
    /// ```
    pub struct Votequorum(crate::votequorum::Votequorum, crate::votequorum::Event);
    open: "corosync::votequorum::Votequorum::pull()?";
}

#[cfg(feature = "votequorum")]
impl Votequorum {
    /// Connects in pull mode
    /// ([`votequorum::Votequorum::pull`](crate::votequorum::Votequorum::pull)).
    ///
    /// # Errors
    /// As [`votequorum::Votequorum::pull`](crate::votequorum::Votequorum::pull).
    ///
    /// ```no_run
    /// let vq = corosync::tokio::Votequorum::open()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn open() -> Result<Votequorum> {
        Votequorum::from_pull(crate::votequorum::Votequorum::pull()?)
    }

    /// Votes and quorum state of `node` (`None`: the quorum device), as
    /// [`votequorum::Votequorum::info`](crate::votequorum::Votequorum::info).
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// # fn example(vq: corosync::tokio::Votequorum) -> corosync::Result<()> {
    /// let info = vq.info(Some(corosync::NodeId::from(1)))?;
    /// # Ok(()) }
    /// ```
    pub fn info(&self, node: Option<NodeId>) -> Result<crate::votequorum::Info> {
        self.conn.request(|inner| inner.handle.info(node))
    }

    /// Starts tracking; [`reconnect`](Self::reconnect) starts it again.
    ///
    /// # Errors
    /// As [`votequorum::Votequorum::track_start`](crate::votequorum::Votequorum::track_start).
    ///
    /// ```no_run
    /// # fn example(vq: corosync::tokio::Votequorum) -> corosync::Result<()> {
    /// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    pub fn track_start(&self, context: u64, flags: TrackFlags) -> Result<()> {
        self.conn.request(|inner| {
            inner.handle.track_start(context, flags)?;
            inner.setup = Some((context, flags));
            Ok(())
        })
    }

    /// Stops tracking.
    ///
    /// # Errors
    /// As [`votequorum::Votequorum::track_stop`](crate::votequorum::Votequorum::track_stop).
    ///
    /// ```no_run
    /// # fn example(vq: corosync::tokio::Votequorum) -> corosync::Result<()> {
    /// vq.track_stop()?;
    /// # Ok(()) }
    /// ```
    pub fn track_stop(&self) -> Result<()> {
        self.conn.request(|inner| {
            inner.setup = None;
            inner.handle.track_stop()
        })
    }
}

#[cfg(feature = "cfg")]
pull_handle!(crate::cfg::Cfg, crate::cfg::Event,
setup: Option<TrackFlags>,
restore: |cfg, flags| match flags {
    Some(flags) => cfg.track_start(*flags),
    None => Ok(()),
});

#[cfg(feature = "cfg")]
async_handle! {
    /// An async libcfg connection: shutdown requests as owned
    /// [`cfg::Event`](crate::cfg::Event)s. See the [module docs](self).
    ///
    /// ```no_run
    /// use corosync::cfg::{Event, ShutdownReply};
    /// # async fn example() -> corosync::Result<()> {
    /// let cfg = corosync::tokio::Cfg::open()?;
    /// cfg.track_start(corosync::TrackFlags::empty())?;
    /// if let Event::ShutdownRequest(_) = cfg.next_event().await? {
    ///     cfg.reply_to_shutdown(ShutdownReply::Yes)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub struct Cfg(crate::cfg::Cfg, crate::cfg::Event);
    open: "corosync::cfg::Cfg::pull()?";
}

#[cfg(feature = "cfg")]
impl Cfg {
    /// Connects in pull mode ([`cfg::Cfg::pull`](crate::cfg::Cfg::pull)).
    ///
    /// # Errors
    /// As [`cfg::Cfg::pull`](crate::cfg::Cfg::pull).
    ///
    /// ```no_run
    /// let cfg = corosync::tokio::Cfg::open()?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn open() -> Result<Cfg> {
        Cfg::from_pull(crate::cfg::Cfg::pull()?)
    }

    /// The local node's id.
    ///
    /// # Errors
    /// A C error if the request fails.
    ///
    /// ```no_run
    /// # fn example(cfg: corosync::tokio::Cfg) -> corosync::Result<()> {
    /// println!("node {}", cfg.local_node_id()?);
    /// # Ok(()) }
    /// ```
    pub fn local_node_id(&self) -> Result<NodeId> {
        self.conn.request(|inner| inner.handle.local_node_id())
    }

    /// Asks the daemon to shut down ([`cfg::Cfg::try_shutdown`](crate::cfg::Cfg::try_shutdown)).
    ///
    /// # Errors
    /// As [`cfg::Cfg::try_shutdown`](crate::cfg::Cfg::try_shutdown).
    ///
    /// ```no_run
    /// # fn example(cfg: corosync::tokio::Cfg) -> corosync::Result<()> {
    /// cfg.try_shutdown(corosync::cfg::ShutdownMode::Request)?;
    /// # Ok(()) }
    /// ```
    pub fn try_shutdown(&self, flags: crate::cfg::ShutdownMode) -> Result<()> {
        self.conn.request(|inner| inner.handle.try_shutdown(flags))
    }

    /// Answers a shutdown request
    /// ([`cfg::Cfg::reply_to_shutdown`](crate::cfg::Cfg::reply_to_shutdown)).
    ///
    /// # Errors
    /// As [`cfg::Cfg::reply_to_shutdown`](crate::cfg::Cfg::reply_to_shutdown).
    ///
    /// ```no_run
    /// # fn example(cfg: corosync::tokio::Cfg) -> corosync::Result<()> {
    /// cfg.reply_to_shutdown(corosync::cfg::ShutdownReply::No)?;
    /// # Ok(()) }
    /// ```
    pub fn reply_to_shutdown(&self, reply: crate::cfg::ShutdownReply) -> Result<()> {
        self.conn
            .request(|inner| inner.handle.reply_to_shutdown(reply))
    }

    /// Starts tracking shutdown requests; [`reconnect`](Self::reconnect) starts it again.
    ///
    /// # Errors
    /// As [`cfg::Cfg::track_start`](crate::cfg::Cfg::track_start).
    ///
    /// ```no_run
    /// # fn example(cfg: corosync::tokio::Cfg) -> corosync::Result<()> {
    /// cfg.track_start(corosync::TrackFlags::empty())?;
    /// # Ok(()) }
    /// ```
    pub fn track_start(&self, flags: TrackFlags) -> Result<()> {
        self.conn.request(|inner| {
            inner.handle.track_start(flags)?;
            inner.setup = Some(flags);
            Ok(())
        })
    }

    /// Stops tracking shutdown requests.
    ///
    /// # Errors
    /// As [`cfg::Cfg::track_stop`](crate::cfg::Cfg::track_stop).
    ///
    /// ```no_run
    /// # fn example(cfg: corosync::tokio::Cfg) -> corosync::Result<()> {
    /// cfg.track_stop()?;
    /// # Ok(()) }
    /// ```
    pub fn track_stop(&self) -> Result<()> {
        self.conn.request(|inner| {
            inner.setup = None;
            inner.handle.track_stop()
        })
    }
}
