//! Tracking changes: [`Cmap::track`], its guard and its events.

use std::cell::RefCell;
use std::ffi::{c_char, c_void};
use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use corosync_sys as sys;

use crate::c_enum::c_enum;

use super::key::KeyBuf;
use super::{Cmap, CmapLib, Map, ValueRef};
use crate::clist::c_bytes;
use crate::cstr;
use crate::error::cs_result;
use crate::handle::{run_callback_or_defer, with_library_lock, Deferred};
use crate::{Error, Result};

bitflags::bitflags! {
    /// What a [`Cmap::track`] call reports (`CMAP_TRACK_*`).
    ///
    /// ```
    /// use corosync::cmap::TrackOptions;
    /// let all_changes = TrackOptions::ADD | TrackOptions::DELETE | TrackOptions::MODIFY;
    /// assert_eq!((all_changes | TrackOptions::PREFIX).bits(), 15);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TrackOptions: i32 {
        /// A key was created (`CMAP_TRACK_ADD`).
        const ADD = sys::CMAP_TRACK_ADD as i32;
        /// A key was deleted (`CMAP_TRACK_DELETE`).
        const DELETE = sys::CMAP_TRACK_DELETE as i32;
        /// A key's value changed (`CMAP_TRACK_MODIFY`). Setting the value it already has
        /// is not a change.
        const MODIFY = sys::CMAP_TRACK_MODIFY as i32;
        /// The name given is a prefix: track every key that starts with it
        /// (`CMAP_TRACK_PREFIX`).
        const PREFIX = sys::CMAP_TRACK_PREFIX as i32;
    }
}

c_enum! {
    /// The kind of change a [`TrackEvent`] reports (the `event` argument of
    /// `cmap_notify_fn_t`, one of the `CMAP_TRACK_*` values).
    ///
    /// ```
    /// use corosync::cmap::EventKind;
    /// assert_ne!(EventKind::Add, EventKind::Modify);
    /// assert_eq!(EventKind::from(EventKind::Modify.raw()), EventKind::Modify);
    /// assert_eq!(EventKind::Delete.to_string(), "delete");
    /// ```
    #[non_exhaustive]
    pub enum EventKind: i32;
    path: "corosync::cmap::EventKind";
    /// The key was created; [`TrackEvent::new_value`] is its value.
    Add = sys::CMAP_TRACK_ADD as i32 => "add",
    /// The key was deleted; [`TrackEvent::old_value`] was its value.
    Delete = sys::CMAP_TRACK_DELETE as i32 => "delete",
    /// The key's value changed; both values are given.
    Modify = sys::CMAP_TRACK_MODIFY as i32 => "modify",
}

/// One change of a tracked key, lent to the closure of [`Cmap::track`] for the duration of
/// the call. The key and values borrow libcmap's dispatch buffer: nothing is copied.
///
/// ```no_run
/// use corosync::cmap::{EventKind, TrackOptions, ValueRef};
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let _track = cmap.track("example.count", TrackOptions::MODIFY, |_, event| {
///     if let (Some(ValueRef::U32(old)), Some(ValueRef::U32(new))) =
///         (event.old_value(), event.new_value())
///     {
///         println!("{}: {old} -> {new}", event.key());
///     }
/// })?;
/// # Ok(()) }
/// ```
///
/// The key and the values are read from libcmap's message when an accessor asks for them, so
/// a closure pays only for what it reads (as a C callback does).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct TrackEvent<'a> {
    track: TrackId,
    /// C's event value, converted to an [`EventKind`] when asked for.
    kind: i32,
    /// The key name, then NULs if any: libcmap's zero-padded `cs_name_t` array, or an owned
    /// event's bytes.
    key_field: &'a [u8],
    new_value: NotifyValue<'a>,
    old_value: NotifyValue<'a>,
}

/// A value of a [`TrackEvent`]: as libcmap passed it, read when asked for, or an owned
/// event's.
#[derive(Clone, Copy)]
enum NotifyValue<'a> {
    /// libcmap's argument: C's type (0: no value), length and data. Made only under the
    /// contract of [`TrackEvent::from_c`] (there, and by this module's tests): `data` is
    /// null or points to `len` bytes readable for `'a`.
    Raw(&'a sys::cmap_notify_value),
    Read(Option<ValueRef<'a>>),
}

impl<'a> NotifyValue<'a> {
    /// The value; `None` for no value or one this build cannot read (e.g. of an unknown type).
    #[inline]
    fn get(self) -> Option<ValueRef<'a>> {
        match self {
            NotifyValue::Raw(value) if value.type_ == 0 => None,
            NotifyValue::Raw(value) => {
                // SAFETY: `data` is null or points to `len` bytes readable for 'a (the
                // variant is made only under `from_c`'s contract).
                let bytes = unsafe { c_bytes(value.data, value.len) };
                ValueRef::from_raw(value.type_, bytes).ok()
            }
            NotifyValue::Read(value) => value,
        }
    }
}

impl fmt::Debug for TrackEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackEvent")
            .field("track", &self.track)
            .field("kind", &self.kind())
            .field("key", &self.key())
            .field("key_bytes", &self.key_bytes())
            .field("new_value", &self.new_value())
            .field("old_value", &self.old_value())
            .finish()
    }
}

impl PartialEq for TrackEvent<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.track == other.track
            && self.kind() == other.kind()
            && self.key_bytes() == other.key_bytes()
            && self.new_value() == other.new_value()
            && self.old_value() == other.old_value()
    }
}

impl<'a> TrackEvent<'a> {
    /// Which track reported the change: the [`Track::id`] of the guard
    /// [`Cmap::track`] returned.
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let t = cmap.track("example.", TrackOptions::ADD | TrackOptions::PREFIX, |_, event| {
    ///     println!("track {:?}: {}", event.track(), event.key());
    /// })?;
    /// println!("this is track {:?}", t.id());
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn track(&self) -> TrackId {
        self.track
    }

    /// What happened to the key.
    ///
    /// ```no_run
    /// # use corosync::cmap::{EventKind, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let _t = cmap.track("example.", TrackOptions::ADD | TrackOptions::PREFIX, |_, event| {
    ///     assert_eq!(event.kind(), EventKind::Add);
    /// })?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn kind(&self) -> EventKind {
        EventKind::from(self.kind)
    }

    /// The key that changed (for prefix tracking, the full key name).
    ///
    /// Key names are ASCII (corosync accepts no other characters); should a daemon ever
    /// send one that is not UTF-8, this is its valid beginning and
    /// [`TrackEvent::key_bytes`] has all of it.
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let _t = cmap.track("example.", TrackOptions::ADD | TrackOptions::PREFIX, |_, event| {
    ///     println!("new key {}", event.key());
    /// })?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn key(&self) -> &'a str {
        let (bytes, ascii) = cstr::until_nul_ascii(self.key_field);
        match cstr::utf8(bytes, ascii) {
            Ok(key) => key,
            // The longest valid UTF-8 beginning (always valid, so never empty by error).
            Err(err) => std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap_or_default(),
        }
    }

    /// The key's bytes as the daemon sent them.
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let _t = cmap.track("example.", TrackOptions::ADD | TrackOptions::PREFIX, |_, event| {
    ///     assert_eq!(event.key_bytes(), event.key().as_bytes());
    /// })?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn key_bytes(&self) -> &'a [u8] {
        cstr::until_nul_ascii(self.key_field).0
    }

    /// The value after the change: `None` for [`EventKind::Delete`] (and for a value this
    /// build cannot read, e.g. of an unknown type).
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let _t = cmap.track("example.x", TrackOptions::MODIFY, |_, event| {
    ///     println!("now {:?}", event.new_value());
    /// })?;
    /// # Ok(()) }
    /// ```
    // Inlined into the closure, where the match on the C type folds into the closure's own.
    #[inline]
    pub fn new_value(&self) -> Option<ValueRef<'a>> {
        self.new_value.get()
    }

    /// The value before the change: `None` for [`EventKind::Add`].
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let _t = cmap.track("example.x", TrackOptions::DELETE, |_, event| {
    ///     println!("was {:?}", event.old_value());
    /// })?;
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn old_value(&self) -> Option<ValueRef<'a>> {
        self.old_value.get()
    }

    /// Builds the event from the notify callback's arguments.
    ///
    /// # Safety
    /// `key` points to libcmap's `cs_name_t` value array (`CS_MAX_NAME_LENGTH` bytes) and the
    /// values' `data` to `len` readable bytes (or are null), all valid for `'a`.
    unsafe fn from_c(
        track: sys::cmap_track_handle_t,
        event: i32,
        key: *const c_char,
        new_value: &'a sys::cmap_notify_value,
        old_value: &'a sys::cmap_notify_value,
    ) -> TrackEvent<'a> {
        let key_field: &'a [u8] = if key.is_null() {
            &[]
        } else {
            // SAFETY: the key name is the `value` array of the message's cs_name_t, whose
            // CS_MAX_NAME_LENGTH bytes are all readable (the daemon zeroes what the name does
            // not use); c_char and u8 have the same layout.
            unsafe {
                std::slice::from_raw_parts(key.cast::<u8>(), sys::CS_MAX_NAME_LENGTH as usize)
            }
        };
        TrackEvent {
            track: TrackId(track),
            kind: event,
            key_field,
            // Read when asked for; the caller guarantees their data for 'a.
            new_value: NotifyValue::Raw(new_value),
            old_value: NotifyValue::Raw(old_value),
        }
    }
}

/// The heap slot that owns a track's closure. Its address is the `user_data` given to
/// `cmap_track_add`; the handle's ledger of memory lent to C (`Handle::lend`) holds one count
/// while libcmap may call with it (freed after the dispatch in which the track was deleted,
/// if it was deleted from a callback), and an event kept after a panic another.
///
/// Only the thread that dispatches the handle touches the `RefCell` (the guard, which borrows
/// the `!Sync` handle, lives on that thread too). The counts are atomic anyway, so that a
/// forgotten guard's slot may be used from whichever thread later owns the handle.
struct TrackSlot<F> {
    callback: RefCell<F>,
}

/// Frees one count of the slot behind `ptr`.
///
/// # Safety
/// `ptr` came from `Arc::into_raw` of an `Arc<TrackSlot<F>>` whose count it still owns.
unsafe fn release<F>(ptr: *const ()) {
    // SAFETY: the caller guarantees the origin and the count.
    drop(unsafe { Arc::from_raw(ptr.cast::<TrackSlot<F>>()) });
}

/// A count of a track's slot kept with an event read after a panic (see `notify`).
struct KeptSlot<F>(Arc<TrackSlot<F>>);

// A kept event lives in its handle's state, so it moves with the handle, and its slot's
// `RefCell` is used only by the dispatch of that handle, on the thread that has it (as
// every other user of the slot: see `TrackSlot`); dropping the last count drops `F`, which
// is Send. SAFETY: so sending the count with the handle is sound.
unsafe impl<F: Send> Send for KeptSlot<F> {}

impl<F> KeptSlot<F> {
    /// The slot (a method, so that a closure captures the whole `KeptSlot`, which is Send).
    fn slot(&self) -> &Arc<TrackSlot<F>> {
        &self.0
    }
}

/// Takes a count of the slot at `ptr` for as long as the returned `Arc` lives (an event
/// kept after a panic, delivered by a later dispatch).
///
/// # Safety
/// `ptr` is a track's `user_data` that libcmap just passed to `notify::<F>`.
unsafe fn slot_of<F>(ptr: *const TrackSlot<F>) -> Arc<TrackSlot<F>> {
    // `user_data` is the pointer `track` got from `Arc::into_raw` for a `TrackSlot<F>` (the
    // trampoline is instantiated for that F). libcmap calls with it only while the track is
    // registered, and the handle's ledger releases its count only after cmap_track_delete
    // succeeded (after the dispatch running then, if any) or after finalize. Taking a count
    // of our own keeps the slot alive after this dispatch.
    // SAFETY: so `ptr` is a live `Arc<TrackSlot<F>>` allocation from `Arc::into_raw`.
    unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    }
}

/// Runs the track's closure for `event`.
#[inline]
fn run_track_closure<F>(cmap: &Cmap, slot: &TrackSlot<F>, event: &TrackEvent<'_>)
where
    F: FnMut(&Cmap, &TrackEvent<'_>) + Send + 'static,
{
    // Never busy: dispatch is not re-entrant, so the closure cannot be running.
    if let Ok(mut callback) = slot.callback.try_borrow_mut() {
        (*callback)(cmap, event);
    }
}

/// The C callback of every track whose closure has type `F`.
extern "C" fn notify<F>(
    handle: sys::cmap_handle_t,
    track: sys::cmap_track_handle_t,
    event: i32,
    key: *const c_char,
    new_value: sys::cmap_notify_value,
    old_value: sys::cmap_notify_value,
    user_data: *mut c_void,
) where
    F: FnMut(&Cmap, &TrackEvent<'_>) + Send + 'static,
{
    let ptr = user_data.cast_const().cast::<TrackSlot<F>>();
    // SAFETY: libcmap passes the key and values of the message in its dispatch buffer,
    // valid during this call.
    let event = unsafe { TrackEvent::from_c(track, event, key, &new_value, &old_value) };
    let deliver = |cmap: &Cmap, _: &mut ()| {
        // libcmap passes the `user_data` of a registered track, an `Arc<TrackSlot<F>>` from
        // `Arc::into_raw` that the handle's ledger holds a count of (`Handle::lend`), freed at
        // the earliest when this dispatch ends (`Handle::reclaim` waits for it), even if the
        // closure drops its own guard.
        // SAFETY: so the slot lives for this call.
        let slot = unsafe { &*ptr };
        run_track_closure(cmap, slot, &event);
    };
    let defer = || -> Deferred<CmapLib> {
        // SAFETY: libcmap just passed `ptr` to this trampoline.
        let slot = KeptSlot(unsafe { slot_of(ptr) });
        let owned = event.into_owned();
        Box::new(move |cmap, _| {
            // Delivered only if the track is still registered, as libcmap drops the events
            // of a deleted track; the count held keeps the address from being reused.
            if cmap.handle.is_lent(Arc::as_ptr(slot.slot()).cast()) {
                run_track_closure(cmap, slot.slot(), &owned.view());
            }
        })
    };
    // SAFETY: libcmap calls this only from cmap_dispatch of `handle`.
    unsafe { run_callback_or_defer::<CmapLib>(handle, deliver, defer) };
}

impl Cmap {
    /// Calls `callback` for every change of `key` (with [`TrackOptions::PREFIX`]: of every key
    /// starting with `key`, which may then be empty or shorter than 3 bytes) of the kinds in
    /// `track_type` (`cmap_track_add`). The closure runs inside [`Cmap::dispatch`] on the
    /// dispatching thread and gets this handle, so it may read or write keys; it may not
    /// dispatch. Events stop when the returned guard is dropped (`cmap_track_delete`).
    ///
    /// The closure is `Send + 'static` because libcmap keeps it registered for as long as
    /// the guard is not dropped: a guard passed to [`std::mem::forget`] leaves it registered
    /// for the handle's whole life, and the handle may move to another thread.
    ///
    /// A change is reported only to the tracks of the node where it was made.
    ///
    /// On a [`Map::Stats`] handle, tracking a single key whose value is
    /// wider than 8 bytes (the `stats.ipcs.*.procname` strings) is refused with
    /// [`Error::NotSupported`]: corosync 3.1.7's daemon reads
    /// tracked stats values into 8 bytes and crashes on those.
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// use corosync::cmap::{Cmap, TrackOptions};
    /// use corosync::DispatchMode;
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::new()?;
    /// let (tx, rx) = mpsc::channel();
    /// let track = cmap.track("runtime.members.", TrackOptions::all(), move |_, event| {
    ///     let _ = tx.send((event.kind(), event.key().to_owned()));
    /// })?;
    /// cmap.dispatch(DispatchMode::One)?;
    /// println!("{:?}", rx.try_recv());
    /// drop(track);
    /// # Ok(()) }
    /// ```
    ///
    /// The compiler refuses a closure that borrows local data, one that is not `Send`, a
    /// guard that outlives its handle, and sending a guard to another thread:
    ///
    /// ```compile_fail,E0597
    /// # use corosync::cmap::{Cmap, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::new()?;
    /// let name = String::from("local");
    /// let borrowed = &name;
    /// let _track = cmap.track("example.key", TrackOptions::MODIFY, move |_, _| {
    ///     println!("{borrowed}");
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// ```compile_fail,E0277
    /// # use corosync::cmap::{Cmap, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::new()?;
    /// let shared = std::rc::Rc::new(0);
    /// let _track = cmap.track("example.key", TrackOptions::MODIFY, move |_, _| {
    ///     let _ = &shared;
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// ```compile_fail,E0597
    /// # use corosync::cmap::{Cmap, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let track = {
    ///     let cmap = Cmap::new()?;
    ///     cmap.track("example.key", TrackOptions::MODIFY, |_, _| {})?
    /// };
    /// # Ok(()) }
    /// ```
    ///
    /// ```compile_fail,E0277
    /// # use corosync::cmap::{Cmap, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::new()?;
    /// let track = cmap.track("example.key", TrackOptions::MODIFY, |_, _| {})?;
    /// std::thread::spawn(move || drop(track));
    /// # Ok(()) }
    /// ```
    pub fn track<F>(&self, key: &str, track_type: TrackOptions, callback: F) -> Result<Track<'_>>
    where
        F: FnMut(&Cmap, &TrackEvent<'_>) + Send + 'static,
    {
        if track_type.contains(TrackOptions::PREFIX) {
            KeyBuf::with_prefix(key, |prefix| self.add_track(prefix, track_type, callback))
        } else {
            KeyBuf::with_key(key, |buf| {
                if self.map() == Map::Stats {
                    self.check_stats_track(key, buf)?;
                }
                self.add_track(buf, track_type, callback)
            })
        }
    }

    /// `cmap_track_add` of the laid-out `key`, with the closure's slot lent to the handle.
    fn add_track<F>(&self, key: &KeyBuf, track_type: TrackOptions, callback: F) -> Result<Track<'_>>
    where
        F: FnMut(&Cmap, &TrackEvent<'_>) + Send + 'static,
    {
        let slot = Arc::into_raw(Arc::new(TrackSlot {
            callback: RefCell::new(callback),
        }));
        let mut raw: sys::cmap_track_handle_t = 0;
        // Creates an entry in libcmap's track handle database (see with_library_lock).
        let code = with_library_lock::<CmapLib, _>(|| {
            // SAFETY: the handle is live, the key is NUL-terminated, `raw` is writable; the
            // slot stays alive while the track is registered (see `notify`).
            unsafe {
                sys::cmap_track_add(
                    self.raw(),
                    key.as_ptr(),
                    track_type.bits(),
                    Some(notify::<F>),
                    slot.cast_mut().cast(),
                    &mut raw,
                )
            }
        });
        if let Err(err) = cs_result(code) {
            // The daemon did not register the track, so no event can name it.
            // SAFETY: the count from `into_raw` above is ours.
            unsafe { release::<F>(slot.cast()) };
            return Err(err);
        }
        // SAFETY: the count from `into_raw` is released once, by `release::<F>`, when the
        // track is deleted or the handle finalized; the closure is Send.
        unsafe { self.handle.lend(slot.cast(), release::<F>) };
        Ok(Track {
            cmap: self,
            raw,
            slot: slot.cast(),
        })
    }
}

impl Cmap {
    /// Refuses to track a [`Map::Stats`] key whose value is wider than 8 bytes.
    ///
    /// corosync 3.1.7 reads a tracked stats key into a `uint64_t` (`stats_map_track_add`,
    /// and every 1.5 s `stats_trigger_trackers`, in exec/stats.c) without checking its length:
    /// the one string stat, `stats.ipcs.*.procname` (up to 16 bytes), overflows it and the
    /// daemon crashes (SIGSEGV within 1.5 s, seen with this crate). So such keys, by name and
    /// by the length of their current value, are refused with [`Error::NotSupported`].
    fn check_stats_track(&self, name: &str, key: &KeyBuf) -> Result<()> {
        let too_wide = name.ends_with(".procname")
            || match self.info_raw(key) {
                Ok((_, len)) => len > 8,
                Err(Error::NotExist) => false,
                Err(err) => return Err(err),
            };
        if too_wide {
            Err(Error::NotSupported)
        } else {
            Ok(())
        }
    }
}

/// A registered track; see [`Cmap::track`]. Dropping it stops the events
/// (`cmap_track_delete`) and frees the closure; [`Track::delete`] does the same and reports
/// the library's answer.
///
/// If the delete fails (the daemon is gone), libcmap may still hold the closure's address, so
/// the closure is kept until the handle is finalized (dropped), and freed then. The same goes
/// for a guard passed to [`std::mem::forget`].
///
/// ```no_run
/// use corosync::cmap::TrackOptions;
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let track = cmap.track("totem.token", TrackOptions::MODIFY, |_, event| {
///     println!("{:?}", event.new_value());
/// })?;
/// track.delete()?;
/// # Ok(()) }
/// ```
pub struct Track<'a> {
    cmap: &'a Cmap,
    raw: sys::cmap_track_handle_t,
    slot: *const (),
}

impl Track<'_> {
    /// The track's id, which every [`TrackEvent`] and [`OwnedTrackEvent`] of this track
    /// carries (C: its `cmap_track_handle_t`).
    ///
    /// ```no_run
    /// use corosync::cmap::{Cmap, Event, TrackOptions};
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = Cmap::pull()?;
    /// let token = cmap.track_events("totem.token", TrackOptions::MODIFY)?;
    /// if let Some(Event::Track(event)) = cmap.next_event(None)? {
    ///     assert_eq!(event.track(), token.id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> TrackId {
        TrackId(self.raw)
    }

    /// Stops tracking now and reports the library's answer.
    ///
    /// ```no_run
    /// use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// cmap.track("example.", TrackOptions::all(), |_, _| {})?.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<()> {
        let mut this = ManuallyDrop::new(self);
        this.delete_once()
    }

    /// Deletes the track and, if libcmap let go of it, frees the slot's lent count.
    fn delete_once(&mut self) -> Result<()> {
        delete_track(self.cmap, self.raw, self.slot)
    }
}

/// Deletes the track `raw` of `cmap` (the handle it was made on, deleted once) and, if
/// libcmap let go of it, frees the slot's lent count.
fn delete_track(cmap: &Cmap, raw: sys::cmap_track_handle_t, slot: *const ()) -> Result<()> {
    let result = with_library_lock::<CmapLib, _>(|| {
        // SAFETY: the handle is live (borrowed) and the caller deletes the track only once.
        cs_result(unsafe { sys::cmap_track_delete(cmap.raw(), raw) })
    });
    if result.is_ok() {
        // libcmap no longer calls with the slot's address (a callback running right now may
        // still use it: `reclaim` frees it when the dispatch ends). Otherwise the count
        // stays lent until finalize.
        cmap.handle.reclaim(slot);
    }
    result
}

impl Drop for Track<'_> {
    fn drop(&mut self) {
        let _ = self.delete_once();
    }
}

/// A track without its guard, for an owner that keeps its tracks beside the handle rather
/// than in guards that borrow it (the async `corosync::tokio::Cmap`, which keeps both in one
/// mutex). [`DetachedTrack::delete`] stops it; otherwise it lasts as long as the connection,
/// whose handle frees the closure (lent to C) after a reconnect or finalize, as for a
/// forgotten guard.
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub(crate) struct DetachedTrack {
    raw: sys::cmap_track_handle_t,
    /// The address of the slot lent to the handle: only compared, never dereferenced here.
    slot: usize,
}

#[cfg(feature = "tokio")]
impl Track<'_> {
    /// Gives up the guard; see [`DetachedTrack`].
    pub(crate) fn detach(self) -> DetachedTrack {
        let this = ManuallyDrop::new(self);
        DetachedTrack {
            raw: this.raw,
            slot: this.slot as usize,
        }
    }
}

#[cfg(feature = "tokio")]
impl DetachedTrack {
    /// The track's id, as its events carry it.
    pub(crate) fn id(&self) -> TrackId {
        TrackId(self.raw)
    }

    /// Stops tracking; `cmap` must be the handle, on the same connection (no reconnect
    /// since), that the track was made on.
    pub(crate) fn delete(self, cmap: &Cmap) -> Result<()> {
        delete_track(cmap, self.raw, self.slot as *const ())
    }
}

impl fmt::Debug for Track<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track")
            .field("track_handle", &self.raw)
            .finish_non_exhaustive()
    }
}
/// Which track an event comes from: the [`Track::id`] of its guard, unique among the live
/// tracks of one handle.
///
/// ```no_run
/// use corosync::cmap::{Cmap, TrackOptions};
/// # fn main() -> corosync::Result<()> {
/// let cmap = Cmap::pull()?;
/// let a = cmap.track_events("a.", TrackOptions::all())?;
/// let b = cmap.track_events("b.", TrackOptions::all())?;
/// assert_ne!(a.id(), b.id());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(u64);

impl TrackId {
    /// The C track handle (`cmap_track_handle_t`).
    ///
    /// ```no_run
    /// # let id: corosync::cmap::TrackId = unimplemented!();
    /// println!("track handle {:#x}", id.raw());
    /// ```
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// A notify value kept by an [`OwnedTrackEvent`]: numbers as they are, strings and bytes
/// copied (a string is kept even if it is not UTF-8, like the view keeps it).
#[derive(Debug, Clone, PartialEq)]
enum KeptValue {
    Number(ValueRef<'static>),
    String(Vec<u8>),
    Binary(Vec<u8>),
}

impl KeptValue {
    fn keep(value: ValueRef<'_>) -> KeptValue {
        match value {
            ValueRef::String(bytes) => KeptValue::String(bytes.to_vec()),
            ValueRef::Binary(bytes) => KeptValue::Binary(bytes.to_vec()),
            ValueRef::I8(v) => KeptValue::Number(ValueRef::I8(v)),
            ValueRef::U8(v) => KeptValue::Number(ValueRef::U8(v)),
            ValueRef::I16(v) => KeptValue::Number(ValueRef::I16(v)),
            ValueRef::U16(v) => KeptValue::Number(ValueRef::U16(v)),
            ValueRef::I32(v) => KeptValue::Number(ValueRef::I32(v)),
            ValueRef::U32(v) => KeptValue::Number(ValueRef::U32(v)),
            ValueRef::I64(v) => KeptValue::Number(ValueRef::I64(v)),
            ValueRef::U64(v) => KeptValue::Number(ValueRef::U64(v)),
            ValueRef::Float(v) => KeptValue::Number(ValueRef::Float(v)),
            ValueRef::Double(v) => KeptValue::Number(ValueRef::Double(v)),
        }
    }

    fn view(&self) -> ValueRef<'_> {
        match self {
            KeptValue::Number(v) => *v,
            KeptValue::String(bytes) => ValueRef::String(bytes),
            KeptValue::Binary(bytes) => ValueRef::Binary(bytes),
        }
    }
}

impl TrackEvent<'_> {
    /// Copies the event out of libcmap's buffer.
    ///
    /// ```no_run
    /// # use corosync::cmap::TrackOptions;
    /// # fn main() -> corosync::Result<()> {
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _t = cmap.track("example.", TrackOptions::all(), move |_, event| {
    ///     let _ = tx.send(event.into_owned());
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn into_owned(self) -> OwnedTrackEvent {
        OwnedTrackEvent {
            track: self.track,
            kind: self.kind(),
            key_bytes: self.key_bytes().to_vec(),
            key_len: self.key().len(),
            new_value: self.new_value().map(KeptValue::keep),
            old_value: self.old_value().map(KeptValue::keep),
        }
    }
}

/// A change of a tracked key that owns its key and values: what
/// [`TrackEvent::into_owned`] makes and what [`Event::Track`] carries. It has the accessors of
/// [`TrackEvent`], including [`track`](OwnedTrackEvent::track), which says which track
/// reported it.
///
/// ```no_run
/// use corosync::cmap::{Cmap, Event, TrackOptions};
/// # fn main() -> corosync::Result<()> {
/// let cmap = Cmap::pull()?;
/// let _t = cmap.track_events("example.", TrackOptions::all())?;
/// cmap.set("example.x", 1u32)?;
/// if let Some(Event::Track(event)) = cmap.next_event(None)? {
///     println!("{:?} {} = {:?}", event.kind(), event.key(), event.new_value());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OwnedTrackEvent {
    track: TrackId,
    kind: EventKind,
    key_bytes: Vec<u8>,
    /// The length of the valid UTF-8 beginning of `key_bytes` ([`TrackEvent::key`]).
    key_len: usize,
    new_value: Option<KeptValue>,
    old_value: Option<KeptValue>,
}

impl OwnedTrackEvent {
    /// Which track reported the change.
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{:?}", event.track());
    /// ```
    pub fn track(&self) -> TrackId {
        self.track
    }

    /// What happened to the key.
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{:?}", event.kind());
    /// ```
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The key that changed; see [`TrackEvent::key`].
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{}", event.key());
    /// ```
    pub fn key(&self) -> &str {
        // The view checked this prefix when the event was copied.
        std::str::from_utf8(&self.key_bytes[..self.key_len]).unwrap_or_default()
    }

    /// The key's bytes as the daemon sent them.
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{:?}", event.key_bytes());
    /// ```
    pub fn key_bytes(&self) -> &[u8] {
        &self.key_bytes
    }

    /// The value after the change: `None` for [`EventKind::Delete`].
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{:?}", event.new_value());
    /// ```
    pub fn new_value(&self) -> Option<ValueRef<'_>> {
        self.new_value.as_ref().map(KeptValue::view)
    }

    /// The value before the change: `None` for [`EventKind::Add`].
    ///
    /// ```no_run
    /// # let event: corosync::cmap::OwnedTrackEvent = unimplemented!();
    /// println!("{:?}", event.old_value());
    /// ```
    pub fn old_value(&self) -> Option<ValueRef<'_>> {
        self.old_value.as_ref().map(KeptValue::view)
    }

    /// The event as the view a track closure gets.
    pub(crate) fn view(&self) -> TrackEvent<'_> {
        TrackEvent {
            track: self.track,
            kind: self.kind.raw(),
            // The bytes up to the daemon's NUL, so no NUL: read whole.
            key_field: &self.key_bytes,
            new_value: NotifyValue::Read(self.new_value()),
            old_value: NotifyValue::Read(self.old_value()),
        }
    }
}

impl From<TrackEvent<'_>> for OwnedTrackEvent {
    fn from(view: TrackEvent<'_>) -> OwnedTrackEvent {
        view.into_owned()
    }
}

/// One event of a [`Cmap`] handle, owned: what [`Cmap::next_event`] returns.
///
/// ```no_run
/// use corosync::cmap::{Cmap, Event, TrackOptions};
/// # fn main() -> corosync::Result<()> {
/// let cmap = Cmap::pull()?;
/// let _t = cmap.track_events("totem.", TrackOptions::all() )?;
/// match cmap.next_event(None)? {
///     Some(Event::Track(change)) => println!("{} changed", change.key()),
///     Some(Event::Reconnected(_)) => println!("reconnected: track again"),
///     _ => {}
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A tracked key changed.
    Track(OwnedTrackEvent),
    /// The handle was reconnected ([`Cmap::reconnect`]): events may have been missed, and
    /// the daemon knows none of the old tracks any more.
    Reconnected(crate::Reconnected),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_events_become_owned() {
        let key = b"a.b\xffc";
        let view = TrackEvent {
            track: TrackId(7),
            kind: EventKind::Modify.raw(),
            key_field: key,
            new_value: NotifyValue::Read(Some(ValueRef::String(b"new\xfe"))),
            old_value: NotifyValue::Read(Some(ValueRef::U32(3))),
        };
        assert_eq!((view.key(), view.key_bytes()), ("a.b", &key[..]));
        let owned = OwnedTrackEvent::from(view);
        assert_eq!(owned.track(), view.track());
        assert_eq!(owned.kind(), view.kind());
        assert_eq!(owned.key(), view.key());
        assert_eq!(owned.key_bytes(), view.key_bytes());
        assert_eq!(owned.new_value(), view.new_value());
        assert_eq!(owned.old_value(), view.old_value());
        let none = sys::cmap_notify_value {
            type_: 0,
            len: 0,
            data: std::ptr::null(),
        };
        let bytes = [1u8, 2];
        let binary = sys::cmap_notify_value {
            type_: sys::CMAP_VALUETYPE_BINARY,
            len: bytes.len(),
            data: bytes.as_ptr().cast(),
        };
        // As libcmap passes them: no data, and `len` bytes at `data`, alive for the event.
        let deleted = TrackEvent {
            new_value: NotifyValue::Raw(&none),
            old_value: NotifyValue::Raw(&binary),
            ..view
        }
        .into_owned();
        assert_eq!(deleted.new_value(), None);
        assert_eq!(deleted.old_value(), Some(ValueRef::Binary(&[1, 2])));
        fn check<T: Send + Clone + std::fmt::Debug + PartialEq + 'static>() {}
        check::<Event>();
    }

    /// The key of an event as libcmap passes it: a zero-padded `cs_name_t` array.
    fn event_for_key(name: &[u8]) -> (Vec<u8>, String) {
        let mut array = vec![0 as c_char; sys::CS_MAX_NAME_LENGTH as usize];
        for (dst, &src) in array.iter_mut().zip(name) {
            *dst = src as c_char;
        }
        let none = sys::cmap_notify_value {
            type_: 0,
            len: 0,
            data: std::ptr::null(),
        };
        // SAFETY: `array` has CS_MAX_NAME_LENGTH bytes; the values carry no data.
        let event = unsafe {
            TrackEvent::from_c(1, sys::CMAP_TRACK_ADD as i32, array.as_ptr(), &none, &none)
        };
        (event.key_bytes().to_vec(), event.key().to_owned())
    }

    #[test]
    fn event_keys_are_read_up_to_nul_and_valid_utf8() {
        let ascii = event_for_key(b"runtime.members.1.ip");
        assert_eq!(
            ascii,
            (
                b"runtime.members.1.ip".to_vec(),
                "runtime.members.1.ip".into()
            )
        );
        let utf8 = "cl\u{e9}.\u{1f600}".as_bytes();
        assert_eq!(
            event_for_key(utf8),
            (utf8.to_vec(), "cl\u{e9}.\u{1f600}".into())
        );
        // Invalid UTF-8: the bytes whole, the key the valid beginning.
        assert_eq!(
            event_for_key(b"ab\xffcd"),
            (b"ab\xffcd".to_vec(), "ab".into())
        );
        // No NUL in the whole array: every byte, never past its end.
        let full = vec![b'k'; sys::CS_MAX_NAME_LENGTH as usize];
        let (bytes, key) = event_for_key(&full);
        assert_eq!((bytes.len(), key.len()), (full.len(), full.len()));
    }
}
