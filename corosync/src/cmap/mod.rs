//! The cmap library: corosync's configuration and runtime key/value database.
//!
//! # What cmap is
//! Every corosync daemon keeps an in-memory map of typed values under dotted key names. It
//! holds the parsed configuration (`totem.token`, `nodelist.node.0.ring0_addr`,
//! `quorum.provider`, ...), runtime state (`runtime.votequorum.this_node_id`,
//! `runtime.members.*`) and whatever other programs store there. A second map, [`Map::Stats`],
//! exposes network (knet), totem, and per-IPC-connection statistics. `corosync-cmapctl` is
//! corosync's command-line client for both; the example program `cmapctl` in this
//! workspace is its Rust counterpart.
//!
//! The map belongs to one node's daemon: a key written through it is seen by that daemon's
//! clients, and is not copied to other nodes.
//!
//! # Keys and values
//! A key name is 3 to 255 bytes (`CMAP_KEYNAME_MINLEN`, `CMAP_KEYNAME_MAXLEN`) of
//! `a-z A-Z 0-9 . _ - / :`. This crate checks the length and refuses NUL bytes itself
//! ([`Error::TooShort`], [`Error::TooLong`], [`Error::InteriorNul`]), then lays the name out in
//! a stack buffer, so no request allocates for its key. Other characters are left for the
//! daemon to judge: it refuses to create such a key with [`Error::NameTooLong`].
//!
//! Every value has one of twelve types ([`ValueType`]): the eight integer sizes, `f32`, `f64`,
//! string and binary. [`Cmap::get`] and [`Cmap::set`] are generic over Rust types
//! ([`FromCmap`], [`ToCmap`]) and use libcmap's typed functions (`cmap_get_uint32`,
//! `cmap_set_string`, ...). Asking for another type than the stored one is
//! [`Error::WrongType`]; nothing is converted. [`Cmap::get_value`] returns whatever is stored
//! as a [`Value`], and [`Cmap::with_value`] lends it as a [`ValueRef`] without allocating.
//!
//! Errors the daemon returns keep their meaning: a missing key is [`Error::NotExist`], a
//! read-only key (`runtime.services.*`, `runtime.config.*`, `internal_configuration.*`) is
//! [`Error::Access`], a value over 16 KiB is [`Error::InvalidParam`] (the daemon's limit), and
//! a request bigger than the IPC buffer (1 MiB) is [`Error::TooBig`].
//!
//! # Iterating
//! [`Cmap::iter`] lists the keys under a prefix with their types and lengths, as an
//! [`Iterator`]; [`Cmap::iter_values`] also reads each value. The daemon keeps an iteration
//! open until `cmap_iter_finalize`, which the iterator's `Drop` calls, also when the loop
//! stops early.
//!
//! # Tracking changes
//! [`Cmap::track`] registers a closure for a key or, with [`TrackOptions::PREFIX`], for every
//! key under a prefix, and returns a [`Track`] guard that unregisters it on `Drop`. Events are
//! delivered by [`Cmap::dispatch`] on the calling thread: the closure gets the handle (it may
//! make requests on it, e.g. read another key) and a [`TrackEvent`] with the kind of change,
//! the key, and the new and old values borrowed from libcmap's buffer, so delivering an event
//! allocates nothing. Poll the handle's fd ([`std::os::fd::AsFd`]) to know when to dispatch.
//!
//! libcmap also offers a per-handle context pointer (`cmap_context_set`/`cmap_context_get`).
//! It is not exposed: keep your state in the tracking closures instead.
//!
//! # Threads
//! [`Cmap`] is `Send` but not `Sync` (see the crate docs): move it to another thread, or
//! open one handle per thread. Iterators and track guards borrow the handle, so they stay on
//! its thread and cannot outlive it.
//!
//! # Example
//! ```no_run
//! use corosync::cmap::{Cmap, TrackOptions, EventKind};
//! use corosync::DispatchMode;
//!
//! # fn main() -> corosync::Result<()> {
//! let cmap = Cmap::new()?;
//! let node_id: u32 = cmap.get("runtime.votequorum.this_node_id")?;
//! cmap.set("example.greeting", "hello")?;
//!
//! let _track = cmap.track("example.", TrackOptions::ADD | TrackOptions::MODIFY | TrackOptions::PREFIX,
//!     |_cmap, event| {
//!         if event.kind() == EventKind::Modify {
//!             println!("{} changed: {:?} -> {:?}", event.key(), event.old_value(), event.new_value());
//!         }
//!     })?;
//! cmap.set("example.greeting", "hi")?;
//! cmap.dispatch(DispatchMode::One)?; // runs the closure
//! # let _ = node_id;
//! # Ok(()) }
//! ```

use corosync_sys as sys;

use crate::c_enum::c_enum;
use crate::error::cs_result;
use crate::handle::{handle_type, library, Handle};
#[cfg(doc)]
use crate::DispatchMode;
use crate::{Error, Result};

mod iter;
mod key;
mod track;
mod value;

pub use iter::{Iter, IterValues, KeyInfo, KeyValue, KeyValueRef};
pub use key::{KeyName, KEY_NAME_MAX_LEN, KEY_NAME_MIN_LEN};
#[cfg(feature = "tokio")]
pub(crate) use track::DetachedTrack;
pub use track::{Event, EventKind, OwnedTrackEvent, Track, TrackEvent, TrackId, TrackOptions};
pub use value::{FromCmap, ToCmap, Value, ValueRef, ValueType};

use key::KeyBuf;

c_enum! {
    /// Which of the daemon's maps a handle reads and writes (`cmap_map_t`).
    ///
    /// ```
    /// use corosync::cmap::Map;
    /// assert_eq!(Map::default(), Map::Icmap);
    /// assert_eq!(Map::Stats.to_string(), "stats");
    /// ```
    #[derive(Default)]
    pub enum Map: sys::cmap_map_t;
    path: "corosync::cmap::Map";
    no_unknown;
    /// The configuration and runtime map (`CMAP_MAP_ICMAP`, also `CMAP_MAP_DEFAULT`).
    #[default]
    Icmap = sys::CMAP_MAP_ICMAP => "icmap",
    /// Statistics of totem, knet links and IPC connections (`CMAP_MAP_STATS`). Read-only,
    /// except the `stats.clear.*` keys that reset counters.
    Stats = sys::CMAP_MAP_STATS => "stats",
}

library! {
    /// The marker for libcmap in the shared handle plumbing.
    CmapLib for Cmap, callbacks: (), event: Event,
    finalize: sys::cmap_finalize, fd_get: sys::cmap_fd_get, dispatch: sys::cmap_dispatch,
    // Track events come at the rate keys change: the trampoline copies an event read after
    // a panic, so `dispatch(All)` is one C call.
    defers: true,
}

handle_type! {
    /// A connection to the local daemon's cmap service: read, write, delete, iterate and
    /// track keys of one [`Map`].
    ///
    /// Dropping it finalizes the connection (`cmap_finalize`); [`Cmap::finalize`] does the
    /// same and reports the library's answer. See the [module docs](self) for the concepts.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// println!("token timeout: {} ms", cmap.get::<u32>("totem.token")?);
    /// # Ok(()) }
    /// ```
    pub struct Cmap(CmapLib);
    open: "corosync::cmap::Cmap::new()?";
    pull: "corosync::cmap::Cmap::pull()?";
    event: Event;
}

/// Chooses the map of a [`Cmap`] connection, then connects with [`build`](Builder::build)
/// or, in pull mode, [`build_pull`](Builder::build_pull). cmap has no callbacks at open:
/// closures come with each [`Cmap::track`].
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::builder().build()?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone, Default)]
pub struct Builder {
    map: Map,
}

impl Builder {
    /// The map to connect to ([`Map::Icmap`] unless set).
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Map};
    /// # fn main() -> corosync::Result<()> {
    /// let stats = Cmap::builder().map(Map::Stats).build()?;
    /// # Ok(()) }
    /// ```
    pub fn map(mut self, map: Map) -> Self {
        self.map = map;
        self
    }

    /// Connects (`cmap_initialize_map`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::builder().build()?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "cmap_initialize_map")]
    pub fn build(self) -> Result<Cmap> {
        Cmap::open_map(self.map)
    }

    /// Connects in pull mode: see [`Cmap::pull`].
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::builder().build_pull()?;
    /// # Ok(()) }
    /// ```
    pub fn build_pull(self) -> Result<Cmap> {
        let mut cmap = self.build()?;
        cmap.handle.enable_pull();
        Ok(cmap)
    }
}

/// Size of the stack buffer [`Cmap::with_value`] tries first; longer values take a second
/// request and a heap buffer.
const STACK_VALUE_LEN: usize = 256;

/// The longest value corosync's icmap stores (`ICMAP_MAX_VALUE_LEN` in exec/icmap.c).
const MAX_VALUE_LEN: usize = 16 * 1024;

/// The handle's info word (set by the connect closure, see `Handle::info`) for a handle on [`Map::Stats`].
const MAP_STATS_INFO: u64 = 1;

impl Cmap {
    /// Connects to the default map, [`Map::Icmap`] (`cmap_initialize`).
    ///
    /// Fails with [`Error::Library`] when no daemon runs (in this network namespace), and
    /// with [`Error::Access`] when the daemon refuses this user (see `uidgid` in
    /// corosync.conf(5)).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// # Ok(()) }
    /// ```
    pub fn new() -> Result<Cmap> {
        let handle = Handle::open((), |_context, _| {
            let mut raw: sys::cmap_handle_t = 0;
            // SAFETY: `raw` is writable.
            cs_result(unsafe { sys::cmap_initialize(&mut raw) }).map(|()| raw)
        })?;
        Ok(Cmap { handle })
    }

    /// A builder that chooses the map and the mode (closures or pull) of a connection.
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Map};
    /// # fn main() -> corosync::Result<()> {
    /// let stats = Cmap::builder().map(Map::Stats).build_pull()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Connects to the map `map` (`cmap_initialize_map`).
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Map};
    /// # fn main() -> corosync::Result<()> {
    /// let stats = Cmap::with_map(Map::Stats)?;
    /// let tokens: u64 = stats.get("stats.srp.orf_token_rx")?;
    /// println!("{tokens} tokens received");
    /// # Ok(()) }
    /// ```
    pub fn with_map(map: Map) -> Result<Cmap> {
        Cmap::open_map(map)
    }

    /// Connects to the default map in pull mode: the changes of tracks made with
    /// [`Cmap::track_events`] are queued as owned [`Event`]s, which [`Cmap::next_event`] and
    /// [`Cmap::try_next_event`] hand out. Everything else works as on any handle.
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Event, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::pull()?;
    /// let _track = cmap.track_events("totem.", TrackOptions::all())?;
    /// while let Some(Event::Track(change)) = cmap.next_event(None)? {
    ///     println!("{} -> {:?}", change.key(), change.new_value());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pull() -> Result<Cmap> {
        Builder::default().build_pull()
    }

    /// Like [`Cmap::track`], for a handle in pull mode ([`Cmap::pull`]): the changes are
    /// queued as [`Event::Track`], each saying which track ([`Track::id`]) reported it.
    ///
    /// # Errors
    /// [`Error::NotPullMode`] on a handle not opened with [`Cmap::pull`]; otherwise as
    /// [`Cmap::track`].
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Event, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::pull()?;
    /// let members = cmap.track_events("runtime.members.", TrackOptions::all())?;
    /// if let Some(Event::Track(change)) = cmap.next_event(None)? {
    ///     assert_eq!(change.track(), members.id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn track_events(&self, key: &str, options: TrackOptions) -> Result<Track<'_>> {
        if !self.handle.is_pull() {
            return Err(Error::NotPullMode);
        }
        self.track(key, options, |cmap, event| {
            cmap.handle.push_event(Event::Track(event.into_owned()));
        })
    }

    /// Connects to `map`.
    fn open_map(map: Map) -> Result<Cmap> {
        let handle = Handle::open((), move |_context, info| {
            if map == Map::Stats {
                info.set(MAP_STATS_INFO);
            }
            let mut raw: sys::cmap_handle_t = 0;
            // If only selecting the map fails (the daemon went away right after accepting
            // the connection), libcmap keeps the connection but answers like a failed
            // connect, which destroys the handle. Telling them apart would mean calling
            // libcmap with a handle value that may be stale (and, in another thread, reused),
            // so that rare case leaks the dead connection instead.
            // SAFETY: `raw` is writable.
            cs_result(unsafe { sys::cmap_initialize_map(&mut raw, map.raw()) }).map(|()| raw)
        })?;
        Ok(Cmap { handle })
    }

    #[inline]
    pub(crate) fn raw(&self) -> u64 {
        self.handle.raw()
    }

    /// Reads `key` as a `T` (see [`FromCmap`] for the types): numbers with the typed C
    /// getters, strings, binary values and [`Value`] with one buffered `cmap_get`.
    ///
    /// Errors: [`Error::NotExist`] if there is no such key, [`Error::WrongType`] if it holds
    /// another type, [`Error::InvalidUtf8`] for a `String` that is not UTF-8, and the key
    /// checks of the [module docs](self).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// let id: u32 = cmap.get("runtime.votequorum.this_node_id")?;
    /// assert!(matches!(cmap.get::<String>("totem.token"), Err(corosync::Error::WrongType { .. })));
    /// # let _ = id;
    /// # Ok(()) }
    /// ```
    pub fn get<T: FromCmap>(&self, key: &str) -> Result<T> {
        KeyBuf::with_key(key, |key| T::get_from(self, key))
    }

    /// Reads `key` with whatever type it has.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// println!("{:?}", cmap.get_value("totem.cluster_name")?);
    /// # Ok(()) }
    /// ```
    pub fn get_value(&self, key: &str) -> Result<Value> {
        self.get(key)
    }

    /// Reads `key` and lends its value to `f` without allocating (the value is read into a
    /// stack buffer; only a value over 256 bytes takes a heap buffer and a second request).
    ///
    /// ```no_run
    /// use corosync::cmap::ValueRef;
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// let is_knet = cmap.with_value("totem.transport", |v| v == ValueRef::String(b"knet"))?;
    /// # let _ = is_knet;
    /// # Ok(()) }
    /// ```
    pub fn with_value<R>(&self, key: &str, f: impl FnOnce(ValueRef<'_>) -> R) -> Result<R> {
        KeyBuf::with_key(key, |key| self.with_value_raw(key, f))
    }

    /// The type and length in bytes of the value stored under `key`. A string's length
    /// counts its terminating NUL, as corosync stores it.
    ///
    /// It reads the value into a buffer rather than sending libcmap's length-only request
    /// (`cmap_get` with a NULL value): corosync 3.1.7's daemon crashes on that request for the
    /// `stats.schedmiss.*` keys of the [`Map::Stats`] map (it copies the value into the
    /// missing buffer). Only a value longer than 16 KiB, which only the [`Map::Icmap`] map can
    /// hold and which answers the length-only request correctly, takes that request.
    ///
    /// ```no_run
    /// use corosync::cmap::ValueType;
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// assert_eq!(cmap.info("totem.token")?, (ValueType::U32, 4));
    /// # Ok(()) }
    /// ```
    pub fn info(&self, key: &str) -> Result<(ValueType, usize)> {
        KeyBuf::with_key(key, |key| self.info_raw(key))
    }

    pub(crate) fn info_raw(&self, key: &KeyBuf) -> Result<(ValueType, usize)> {
        self.read_value(key, |value, len| (value.value_type(), len))
    }

    /// The map this handle was opened on.
    fn map(&self) -> Map {
        if self.handle.info() == MAP_STATS_INFO {
            Map::Stats
        } else {
            Map::Icmap
        }
    }

    /// `cmap_get` without a buffer: the type and length. Only for the icmap: the stats map
    /// of corosync 3.1.7 crashes on this request for its `stats.schedmiss.*` keys.
    fn length_only(&self, key: &KeyBuf) -> Result<usize> {
        if self.map() == Map::Stats {
            // Unreachable with 3.1.7 (no stats value is longer than the stack buffer, and the
            // stats map never answers "buffer too small"); refused rather than risked.
            return Err(Error::InvalidParam);
        }
        let mut len: usize = 0;
        let mut raw_type: sys::cmap_value_types_t = 0;
        // SAFETY: the handle is live, the key is NUL-terminated; a NULL value asks only for
        // the length and type, written to the two writable locations. The handle is on the
        // icmap, whose daemon side handles a NULL value (checked above).
        cs_result(unsafe {
            sys::cmap_get(
                self.raw(),
                key.as_ptr(),
                std::ptr::null_mut(),
                &mut len,
                &mut raw_type,
            )
        })?;
        Ok(len)
    }

    /// One `cmap_get` into `buf`: `Ok(Some(..))` with the value and its stored length,
    /// `Ok(None)` if `buf` was too small (the daemon answers `CS_ERR_INVALID_PARAM`).
    fn get_into<'b>(
        &self,
        key: &KeyBuf,
        buf: &'b mut [u8],
    ) -> Result<Option<(ValueRef<'b>, usize)>> {
        // SAFETY: a KeyBuf is NUL-terminated.
        let (code, raw_type, len) = unsafe { self.get_raw(key.as_ptr(), buf) };
        match cs_result(code) {
            Ok(()) => {
                let bytes = buf.get(..len).ok_or(Error::UnexpectedValue {
                    what: "cmap value length",
                    value: len as i64,
                })?;
                ValueRef::from_raw(raw_type, bytes).map(|value| Some((value, len)))
            }
            Err(Error::InvalidParam) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// One `cmap_get` of the key `name` into `value`: libcmap's answer, the value's type and
    /// its length. The one place that calls `cmap_get` with a buffer.
    ///
    /// The daemon copies at most `value.len()` bytes: the icmap refuses a longer value with
    /// `CS_ERR_INVALID_PARAM`, and the stats map (which does not check) has no value longer
    /// than 16 bytes (numbers, and process names of at most `TASK_COMM_LEN` bytes), below
    /// every buffer this is called with.
    ///
    /// # Safety
    /// `name` is a NUL-terminated string, valid for the call.
    #[inline(always)]
    pub(crate) unsafe fn get_raw(
        &self,
        name: *const std::ffi::c_char,
        value: &mut [u8],
    ) -> (sys::cs_error_t, sys::cmap_value_types_t, usize) {
        let mut len = value.len();
        let mut raw_type: sys::cmap_value_types_t = 0;
        // SAFETY: the handle is live (borrowed), `name` is NUL-terminated (the caller's
        // promise), `value` has `len` writable bytes, `len` and `raw_type` are writable.
        let code = unsafe {
            sys::cmap_get(
                self.raw(),
                name,
                value.as_mut_ptr().cast(),
                &mut len,
                &mut raw_type,
            )
        };
        (code, raw_type, len)
    }

    pub(crate) fn with_value_raw<R>(
        &self,
        key: &KeyBuf,
        f: impl FnOnce(ValueRef<'_>) -> R,
    ) -> Result<R> {
        self.read_value(key, |value, _| f(value))
    }

    /// Reads the value of `key` with buffered requests only (never a length-only request
    /// where it could crash the daemon, see [`Cmap::info`]) and lends it to `f` with its
    /// stored length.
    fn read_value<R>(&self, key: &KeyBuf, f: impl FnOnce(ValueRef<'_>, usize) -> R) -> Result<R> {
        let mut stack = [0u8; STACK_VALUE_LEN];
        if let Some((value, len)) = self.get_into(key, &mut stack)? {
            return Ok(f(value, len));
        }
        // Longer than the stack buffer: every value the daemon accepts fits in
        // ICMAP_MAX_VALUE_LEN.
        let mut heap = vec![0u8; MAX_VALUE_LEN];
        if let Some((value, len)) = self.get_into(key, &mut heap)? {
            return Ok(f(value, len));
        }
        // Longer still (a daemon with a higher limit): ask for the length, then read into a
        // buffer of that size. The value may grow in between, so try again a few times.
        for _ in 0..3 {
            let len = self.length_only(key)?;
            let mut heap = vec![0u8; len.max(1)];
            if let Some((value, len)) = self.get_into(key, &mut heap)? {
                return Ok(f(value, len));
            }
        }
        Err(Error::InvalidParam)
    }

    /// Stores `value` under `key`, creating the key or replacing its value and type (see
    /// [`ToCmap`] for the types and the C setter each one uses).
    ///
    /// Note that an integer literal without a suffix is an `i32` in Rust: write `5u32` to
    /// store a `u32`.
    ///
    /// Errors: [`Error::Access`] for a read-only key, [`Error::NameTooLong`] when the daemon
    /// refuses a new key's name, [`Error::InteriorNul`] for a string with a NUL byte,
    /// [`Error::InvalidParam`] for a value over 16 KiB, [`Error::TooBig`] for one over the IPC
    /// limit (1 MiB).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// cmap.set("example.u32", 5u32)?;
    /// cmap.set("example.name", "node one")?;
    /// cmap.set("example.raw", vec![0u8, 255])?;
    /// # Ok(()) }
    /// ```
    pub fn set<V: ToCmap>(&self, key: &str, value: V) -> Result<()> {
        KeyBuf::with_key(key, |key| value.set_into(self, key))
    }

    /// Deletes `key` (`cmap_delete`); [`Error::NotExist`] if there is none.
    ///
    /// While an iteration (of any connection) stands on `key`, having just returned it, the
    /// daemon keeps the key readable until the iteration moves on. Do not delete it a second
    /// time then: the second delete succeeds too, and the daemon crashes when the iteration
    /// moves on (a libqb defect; see the crate docs' known bugs). One delete per key, as in
    /// the loop below, is safe.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// // Delete every key under a prefix, each once.
    /// let mut iter = cmap.iter("example.")?;
    /// while let Some(entry) = iter.next() {
    ///     cmap.delete(entry?.name())?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// cmap.set("example.tmp", 1u8)?;
    /// cmap.delete("example.tmp")?;
    /// assert_eq!(cmap.delete("example.tmp"), Err(corosync::Error::NotExist));
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, key: &str) -> Result<()> {
        KeyBuf::with_key(key, |key| {
            // SAFETY: the handle is live and the key is NUL-terminated.
            cs_result(unsafe { sys::cmap_delete(self.raw(), key.as_ptr()) })
        })
    }

    /// Adds one to the integer stored under `key`, wrapping around at its type's maximum
    /// (`cmap_inc`). Fails with [`Error::InvalidParam`] for a non-integer value.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// cmap.set("example.counter", 1u16)?;
    /// cmap.inc("example.counter")?;
    /// assert_eq!(cmap.get::<u16>("example.counter")?, 2);
    /// # Ok(()) }
    /// ```
    pub fn inc(&self, key: &str) -> Result<()> {
        KeyBuf::with_key(key, |key| {
            // SAFETY: the handle is live and the key is NUL-terminated.
            cs_result(unsafe { sys::cmap_inc(self.raw(), key.as_ptr()) })
        })
    }

    /// Subtracts one from the integer stored under `key`, wrapping around at its type's
    /// minimum (`cmap_dec`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// cmap.set("example.counter", 1i8)?;
    /// cmap.dec("example.counter")?;
    /// assert_eq!(cmap.get::<i8>("example.counter")?, 0);
    /// # Ok(()) }
    /// ```
    pub fn dec(&self, key: &str) -> Result<()> {
        KeyBuf::with_key(key, |key| {
            // SAFETY: the handle is live and the key is NUL-terminated.
            cs_result(unsafe { sys::cmap_dec(self.raw(), key.as_ptr()) })
        })
    }
}
