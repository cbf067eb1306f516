//! The one handle pattern and the one callback pattern, shared by every library module.
//!
//! Every library module defines a zero-sized marker that implements [`Library`] (how to
//! finalize, dispatch and get the fd of that library's C handle) and
//! declares its public handle type with [`handle_type!`]. The public type is a
//! `#[repr(transparent)]` wrapper around [`Handle<L>`], which owns:
//!
//! - the C handle, finalized exactly once (by `Drop` or by an explicit `finalize`);
//! - a boxed [`State`] whose address never changes.
//!
//! Callbacks only run inside `dispatch`, on the thread that called it. So `dispatch` records
//! the library, the C handle and the state's address in a thread-local variable for the
//! duration of the call (restoring the previous value afterwards, so that a callback of one
//! handle may dispatch another), and a trampoline finds the handle's closures there: no
//! global map, no lock, and no lookup in the C library's handle database per event (which
//! `*_context_get` would be: a `qb_hdb_handle_get`/`put` pair of atomic operations per
//! event). The trampoline calls [`run_callback`], which refuses events for any handle but
//! the one being dispatched on this thread, catches a panic of the user's
//! closure and stores it; `dispatch` resumes it once the C call has returned, so no panic ever
//! unwinds through a C frame. The events behind a panicking one wait for the next dispatch:
//! for a library whose trampolines can copy their event ([`Library::DEFERS`]: libcpg and
//! libcmap, whose events come at high rates), `dispatch(All)` is one C call and the events it
//! reads after the panic are kept in the handle; for the others it has the C library read one
//! event per call, so they are not read until then. A closure
//! receives `&PublicHandle`, so it can make requests on the same connection (send a reply from
//! a CPG deliver callback), but it cannot drop the handle, and re-entering `dispatch` is
//! refused with [`Error::ReentrantDispatch`].

use std::any::{Any, TypeId};
use std::cell::{Cell, OnceCell, RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use corosync_sys as sys;

use crate::error::cs_result;
use crate::event_loop::{poll_readable, Stopper};
use crate::{DispatchMode, Dispatched, Error, Reconnected, Result, Stopped};

/// What the shared handle needs to know about one C library.
///
/// # Safety
/// - `Public` must be a `#[repr(transparent)]` struct whose only field is a `Handle<Self>`
///   (declare it with [`handle_type!`], which guarantees this).
/// - The functions must be the library's own, and the library calls the trampolines that
///   use [`run_callback`] only from inside its dispatch function, on the calling thread,
///   with the C handle being dispatched.
/// - Nothing but [`run_callback`] touches `Callbacks` after `open`.
pub(crate) unsafe trait Library: Sized + 'static {
    /// The public handle type.
    type Public;
    /// The closures (and any other Rust state) the trampolines reach.
    type Callbacks: Send;
    /// The library's owned event, which a handle in pull mode queues.
    type Event: Send;
    /// What the module records of the daemon's state for one connection, to refuse requests
    /// that the daemon would mishandle (CPG: the group the handle joined or left); `()` for
    /// most libraries. A new connection ([`Handle::reconnect`]) starts from `Default`.
    type Session: Default + Send;

    /// Whether every trampoline of the library hands [`run_callback_or_defer`] a copy of its
    /// event to keep for later. Then `dispatch(All)` lets the C library read every pending
    /// event in one call (`CS_DISPATCH_ALL`), and the events it reads after a callback
    /// panicked are kept and delivered by the next dispatch. Otherwise `All` has the C library
    /// read one event per call, so that a panic leaves the later events in the connection;
    /// each C call costs libcpg, for one, a handle lookup and a 1 MiB stack frame, about
    /// 35–140 ns per event on the development machine.
    const DEFERS: bool = false;

    /// The event that tells a handle in pull mode that it was reconnected.
    fn reconnected(gap: Reconnected) -> Self::Event;

    /// Finalizes `raw`.
    ///
    /// # Safety
    /// `raw` was returned by the library's initialize and is finalized only once.
    unsafe fn finalize(raw: u64) -> sys::cs_error_t;
    /// Gets the connection's fd.
    ///
    /// # Safety
    /// `raw` is a live handle and `fd` is writable.
    unsafe fn fd_get(raw: u64, fd: *mut c_int) -> sys::cs_error_t;
    /// Dispatches.
    ///
    /// # Safety
    /// `raw` is a live handle.
    unsafe fn dispatch(raw: u64, flags: sys::cs_dispatch_flags_t) -> sys::cs_error_t;
}

/// The handle being dispatched on a thread: see [`DISPATCHING`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Dispatching {
    /// `TypeId` of the library marker: C handles of different libraries come from different
    /// handle databases and may have the same value.
    library: TypeId,
    raw: u64,
    /// The handle's `State<L>` for the `L` that `library` names.
    state: NonNull<c_void>,
}

thread_local! {
    /// The handle whose `dispatch` runs on this thread (the innermost one, when a callback
    /// dispatches another handle), while the C dispatch runs; `None` outside any dispatch.
    /// A `const` thread-local of a `Copy` type: reading it is a plain load, with no lazy
    /// initialisation and no destructor to register.
    static DISPATCHING: Cell<Option<Dispatching>> = const { Cell::new(None) };
}

/// Records a handle as the one being dispatched on this thread for as long as it lives, and
/// restores the previous one (an outer dispatch whose callback dispatches this handle) when
/// dropped.
struct DispatchingGuard {
    previous: Option<Dispatching>,
}

impl DispatchingGuard {
    fn enter(current: Dispatching) -> Self {
        DispatchingGuard {
            previous: DISPATCHING.with(|d| d.replace(Some(current))),
        }
    }
}

impl Drop for DispatchingGuard {
    fn drop(&mut self) {
        DISPATCHING.with(|d| d.set(self.previous));
    }
}

/// The C handle being dispatched on this thread, if any (for tests).
#[cfg(test)]
pub(crate) fn dispatching_on_this_thread() -> Option<u64> {
    DISPATCHING.with(Cell::get).map(|current| current.raw)
}

/// The state of the handle of library `L` whose C handle is `raw`, if that handle is the one
/// being dispatched on this thread.
fn dispatching_state<L: Library>(raw: u64) -> Option<NonNull<State<L>>> {
    match DISPATCHING.with(Cell::get) {
        Some(current) if current.raw == raw && current.library == TypeId::of::<L>() => {
            Some(current.state.cast::<State<L>>())
        }
        _ => None,
    }
}

/// Runs `f` holding library `L`'s process-wide lock. Every call that creates or destroys an
/// entry of one of the library's handle databases runs under it: `*_initialize`,
/// `*_finalize`, `cmap_track_add`/`cmap_track_delete`, `cpg_iteration_initialize`/
/// `cpg_iteration_finalize`.
///
/// libqb's `qb_hdb_handle_create` (libqb 2.x, lib/hdb.c) finds an EMPTY slot (or grows the
/// array by one) and only later marks it ACTIVE and writes its check value, with no lock or
/// compare-and-swap between the two: two threads creating handles at once can take the same
/// slot, the second overwriting the first's instance and check, and the first's call then
/// fails (`CS_ERR_LIBRARY`, errno 0) and can leave the slot's reference count wrong. Every
/// corosync client library keeps its handles in such a database, one static per library, so
/// opening handles from several threads at once failed; see docs/upstream-notes.md. Calls on
/// an existing handle only look entries up (atomically) and need no lock.
pub(crate) fn with_library_lock<L: Library, R>(f: impl FnOnce() -> R) -> R {
    // One lock per library: a slow initialize of one library (a daemon that does not answer)
    // does not hold up the others. The table has at most one entry per library marker.
    static LOCKS: Mutex<Vec<(TypeId, &'static Mutex<()>)>> = Mutex::new(Vec::new());
    let lock = {
        let mut locks = LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
        let id = TypeId::of::<L>();
        match locks.iter().find(|(t, _)| *t == id) {
            Some((_, lock)) => *lock,
            None => {
                let lock: &'static Mutex<()> = Box::leak(Box::new(Mutex::new(())));
                locks.push((id, lock));
                lock
            }
        }
    };
    // The guarded data is `()`: a panic while it was held leaves nothing inconsistent.
    let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    f()
}
/// Opens a C connection for a handle: the library's initialize, given the address of the
/// handle's state (a context argument for initialize functions that want one; the crate
/// does not read it back) and the word [`Handle::info`] returns (to store what initialize
/// reports, e.g. libquorum's quorum type). Kept for [`Handle::reconnect`].
pub(crate) type Connect = Box<dyn FnMut(*mut c_void, &Cell<u64>) -> Result<u64> + Send>;

/// Whether the library still knows the C handle `raw`.
fn handle_is_known<L: Library>(raw: u64) -> bool {
    let mut fd: c_int = -1;
    // SAFETY: `raw` came from the library's initialize and is not finalized (the caller
    // borrows its handle); `fd` is a writable c_int.
    cs_result(unsafe { L::fd_get(raw, &mut fd) }).is_ok()
}

/// Runs a library's `*_initialize` (in `init`) and, if it fails with `CS_ERR_LIBRARY`, adds
/// the `errno` it left, which says why (no daemon, out of file descriptors, refused user).
fn with_errno(init: impl FnOnce() -> Result<u64>) -> Result<u64> {
    // SAFETY: __errno_location returns this thread's errno, always valid to write. Cleared
    // so that a value an earlier call left is not taken for this call's cause.
    unsafe { *libc::__errno_location() = 0 };
    let result = init();
    // Read right after the C call: nothing in between (cs_result) touches errno.
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    result.map_err(|err| match err {
        Error::Library { .. } => Error::Library { errno },
        other => other,
    })
}

/// An event the C library read after a callback of the same dispatch panicked, copied out of
/// the library's buffer: the next dispatch delivers it (see [`Library::DEFERS`]).
pub(crate) type Deferred<L> =
    Box<dyn FnOnce(&<L as Library>::Public, &mut <L as Library>::Callbacks) + Send>;

/// The Rust side of one connection, boxed so that its address never moves.
///
/// `repr(C)` with the fields every dispatch reads first, and aligned to a cache line: they
/// then take two lines. A dispatch usually starts with cold caches (the daemon has just run
/// on the same CPU), so each line it touches costs a miss.
#[repr(C, align(64))]
pub(crate) struct State<L: Library> {
    raw: u64,
    dispatching: Cell<bool>,
    panic: Cell<Option<Box<dyn Any + Send>>>,
    /// Events read after a panic, in order, for the next dispatch ([`Library::DEFERS`]).
    deferred: RefCell<VecDeque<Deferred<L>>>,
    /// Lent memory that C gave back during a dispatch: freed when that dispatch ends, as
    /// the callback running may be the one it owns (a track closure dropping its own
    /// guard), so trampolines use lent memory without taking a count per event.
    reclaimed: Cell<Vec<Lent>>,
    callbacks: UnsafeCell<L::Callbacks>,
    fd: RawFd,
    /// How to open the C connection again (see [`Handle::reconnect`]).
    connect: Connect,
    /// The queue of a handle in pull mode (`None` otherwise); see [`Handle::next_event`].
    events: Option<RefCell<VecDeque<L::Event>>>,
    /// The handle's stopper, made on first use.
    stopper: OnceCell<Stopper>,
    /// One word a library module learns when connecting and reads later through `&self`
    /// (libquorum's quorum type); 0 unless set.
    info: Cell<u64>,
    /// See [`Library::Session`] and [`Handle::session`].
    session: RefCell<L::Session>,
    /// Rust memory that C holds a pointer to (a cmap track's closure):
    /// freed when C gives it back ([`Handle::reclaim`]) or, at the latest, right after
    /// finalize, when the C library holds nothing of ours any more.
    lent: Cell<Vec<Lent>>,
}

/// One allocation lent to C: `free(ptr)` releases it.
struct Lent {
    ptr: *const (),
    free: unsafe fn(*const ()),
}

impl<L: Library> State<L> {
    fn has_panic(&self) -> bool {
        let payload = self.panic.take();
        let has = payload.is_some();
        self.panic.set(payload);
        has
    }
}

/// An owned connection to one corosync library.
pub(crate) struct Handle<L: Library> {
    state: NonNull<State<L>>,
    /// A copy of `state.raw`, which every request reads: here, in the handle the caller holds
    /// (usually on its stack), it is not a load from the heap state, which is cold after each
    /// request (the daemon runs in between, often on the same CPU). Both change together, in
    /// `reconnect`.
    raw: u64,
    /// Not Sync: one libqb IPC connection must not carry requests from two threads at once.
    _not_sync: PhantomData<Cell<()>>,
}

// A libqb client connection may be used from any thread as long as no two threads use it at
// once: libqb keeps no thread-local state for it, lookups in its handle databases are atomic,
// and creating or destroying entries runs under `with_library_lock`.
// What the handle owns is Send: `Callbacks`, the panic payload, the deferred events (Send
// closures), the lent allocations (`lend`'s callers require Send contents), the connect
// closure, `L::Event`, `L::Session`, the stopper (Send + Sync); the rest is plain data.
// `!Sync` (`PhantomData<Cell<()>>`) rules out concurrent use. SAFETY: so moving the handle to
// another thread is sound.
unsafe impl<L: Library> Send for Handle<L> {}

impl<L: Library> Handle<L> {
    /// Connects: `connect` gets the state's address (see [`Connect`]) and returns the C
    /// handle; it is kept to
    /// connect again in [`Handle::reconnect`].
    pub(crate) fn open(
        callbacks: L::Callbacks,
        connect: impl FnMut(*mut c_void, &Cell<u64>) -> Result<u64> + Send + 'static,
    ) -> Result<Self> {
        let state = Box::new(State::<L> {
            raw: 0,
            fd: -1,
            connect: Box::new(connect),
            events: None,
            stopper: OnceCell::new(),
            info: Cell::new(0),
            dispatching: Cell::new(false),
            panic: Cell::new(None),
            deferred: RefCell::new(VecDeque::new()),
            callbacks: UnsafeCell::new(callbacks),
            session: RefCell::new(L::Session::default()),
            lent: Cell::new(Vec::new()),
            reclaimed: Cell::new(Vec::new()),
        });
        let state = NonNull::from(Box::leak(state));
        // SAFETY: no reference to the state exists yet; we are its only user.
        match unsafe { Self::connect(state) } {
            Ok((raw, fd)) => {
                // SAFETY: as above; no callback can run before dispatch.
                unsafe {
                    (*state.as_ptr()).raw = raw;
                    (*state.as_ptr()).fd = fd;
                }
                Ok(Handle {
                    state,
                    raw,
                    _not_sync: PhantomData,
                })
            }
            Err(err) => {
                // SAFETY: the box was leaked above and nothing else points to it.
                drop(unsafe { Box::from_raw(state.as_ptr()) });
                Err(err)
            }
        }
    }

    /// Opens a C connection with the state's `connect` and gets its fd; on failure nothing
    /// of the new connection is left open.
    ///
    /// # Safety
    /// No reference to the state is alive (no dispatch or callback is running).
    unsafe fn connect(state: NonNull<State<L>>) -> Result<(u64, RawFd)> {
        let context = state.as_ptr().cast::<c_void>();
        // SAFETY: the caller guarantees exclusive access.
        let this = unsafe { &mut *state.as_ptr() };
        let raw = with_library_lock::<L, _>(|| with_errno(|| (this.connect)(context, &this.info)))?;
        let mut fd: c_int = -1;
        // SAFETY: `raw` is live; `fd` is a writable c_int.
        let result = cs_result(unsafe { L::fd_get(raw, &mut fd) });
        match result {
            Ok(()) => Ok((raw, fd)),
            Err(err) => {
                // SAFETY: `raw` was just opened and is not stored anywhere.
                with_library_lock::<L, _>(|| unsafe { L::finalize(raw) });
                Err(err)
            }
        }
    }

    /// Puts the handle in pull mode: the crate's own closures queue owned events, which
    /// [`Handle::next_event`] hands out. Called right after `open`.
    pub(crate) fn enable_pull(&mut self) {
        // SAFETY: `&mut self`: no dispatch or callback is running.
        unsafe { (*self.state.as_ptr()).events = Some(RefCell::new(VecDeque::new())) };
    }

    #[inline]
    fn state(&self) -> &State<L> {
        // SAFETY: the state lives as long as the handle, and is only read through shared
        // references (its mutable parts are Cells and the UnsafeCell of run_callback).
        unsafe { self.state.as_ref() }
    }

    /// The C handle, for the library module's calls.
    #[inline]
    pub(crate) fn raw(&self) -> u64 {
        self.raw
    }

    /// The connection's fd; valid while the handle lives.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: libqb keeps the fd open until finalize, which needs the handle by value.
        unsafe { BorrowedFd::borrow_raw(self.state().fd) }
    }

    /// The word the connect closure stored (0 if none).
    pub(crate) fn info(&self) -> u64 {
        self.state().info.get()
    }

    /// Records that C now holds `ptr` (e.g. as a track's user data): `free(ptr)` is called
    /// by [`Handle::reclaim`] or, at the latest, right after finalize, so nothing lent to C
    /// outlives the C handle, also when C never gives it back (daemon gone, guard forgotten).
    ///
    /// # Safety
    /// Calling `free(ptr)` once, at either of those points and from whichever thread then
    /// owns the handle, must be sound (what `ptr` owns is `Send`).
    pub(crate) unsafe fn lend(&self, ptr: *const (), free: unsafe fn(*const ())) {
        let mut lent = self.state().lent.take();
        lent.push(Lent { ptr, free });
        self.state().lent.set(lent);
    }

    /// Whether `ptr` is lent to C (not yet given back, and the connection it was lent to is
    /// still this handle's).
    pub(crate) fn is_lent(&self, ptr: *const ()) -> bool {
        let lent = self.state().lent.take();
        let found = lent.iter().any(|l| l.ptr == ptr);
        self.state().lent.set(lent);
        found
    }

    /// C has given back `ptr` (it will not use it again): frees it now, or at the end of
    /// the dispatch running on this handle. Returns whether it was lent.
    pub(crate) fn reclaim(&self, ptr: *const ()) -> bool {
        let state = self.state();
        let mut lent = state.lent.take();
        let found = lent
            .iter()
            .position(|l| l.ptr == ptr)
            .map(|i| lent.swap_remove(i));
        state.lent.set(lent);
        match found {
            Some(entry) if state.dispatching.get() => {
                let mut reclaimed = state.reclaimed.take();
                reclaimed.push(entry);
                state.reclaimed.set(reclaimed);
            }
            // SAFETY: `lend`'s caller promised that one `free(ptr)` here is sound, and the
            // entry was removed, so it is not freed again after finalize.
            Some(entry) => unsafe { (entry.free)(entry.ptr) },
            None => return false,
        }
        true
    }

    /// Frees what C gave back during the dispatch that just ended (see `State::reclaimed`).
    fn free_reclaimed(&self) {
        for entry in self.state().reclaimed.take() {
            // SAFETY: `reclaim` removed the entry from `lent` (so nothing else frees it) and
            // C gave it back; the dispatch whose callbacks could still use it has ended.
            unsafe { (entry.free)(entry.ptr) };
        }
    }

    /// Runs the C dispatch; see [`DispatchMode`] for what each value does.
    pub(crate) fn dispatch(&self, mode: DispatchMode) -> Result<Dispatched> {
        let state = self.state();
        if state.dispatching.replace(true) {
            return Err(Error::ReentrantDispatch);
        }
        // The trampolines find the state here (see `run_callback`); `raw` cannot change
        // during the dispatch (only `reconnect`, which takes `&mut self`, changes it).
        let _dispatching = DispatchingGuard::enter(Dispatching {
            library: TypeId::of::<L>(),
            raw: state.raw,
            state: self.state.cast::<c_void>(),
        });
        let call = |mode: DispatchMode| {
            // SAFETY: the handle is live.
            let code = unsafe { L::dispatch(state.raw, mode.raw()) };
            match cs_result(code) {
                // libcmap answers CS_ERR_BAD_HANDLE to a one-event dispatch whose event was for
                // a track deleted meanwhile (it drops the event, as it should, but leaks the
                // lookup's error). The handle itself is fine, which fd_get confirms.
                Err(Error::BadHandle) if handle_is_known::<L>(state.raw) => Ok(()),
                result => result,
            }
        };
        // Events kept by a dispatch whose callback panicked come first, in their order; with
        // `One` or `OneNonBlocking`, such an event is the one this call processes.
        let replayed = self.replay_deferred(mode);
        let result = if (replayed && mode != DispatchMode::All) || state.has_panic() {
            Ok(())
        } else {
            match mode {
                // The C library reads every pending event; those behind a panic are kept
                // (`run_callback_or_defer`) for the next dispatch.
                DispatchMode::All if L::DEFERS => call(DispatchMode::All),
                // One event per C call, so that after a panic no C call reads (and discards)
                // the events behind the one whose callback panicked: they stay queued in the
                // connection for the next dispatch.
                DispatchMode::All => loop {
                    match call(DispatchMode::OneNonBlocking) {
                        // Nothing (more) pending.
                        Err(Error::TryAgain) => break Ok(()),
                        Ok(()) if !state.has_panic() => continue,
                        result => break result,
                    }
                },
                _ => call(mode),
            }
        };
        state.dispatching.set(false);
        self.free_reclaimed();
        if let Some(payload) = state.panic.take() {
            resume_unwind(payload);
        }
        match (mode, result) {
            (DispatchMode::OneNonBlocking, Err(Error::TryAgain)) => Ok(Dispatched::NothingPending),
            (_, result) => result.map(|()| Dispatched::Processed),
        }
    }

    /// Delivers the events a dispatch kept after a panic (all of them for `All`, else one),
    /// stopping at a panic; returns whether there was any. Called by `dispatch`, with the
    /// handle recorded as the one being dispatched.
    fn replay_deferred(&self, mode: DispatchMode) -> bool {
        let state = self.state();
        let mut replayed = false;
        while !state.has_panic() {
            // Not borrowed while the closure runs: it may dispatch (refused) or send.
            let Some(event) = state.deferred.borrow_mut().pop_front() else {
                break;
            };
            // SAFETY: called from `dispatch` with `dispatching` set, on the thread that holds
            // the handle, and no other reference to the callbacks exists.
            unsafe { call_closures(self.state, self.raw, event) };
            replayed = true;
            if mode != DispatchMode::All {
                break;
            }
        }
        replayed
    }

    /// Whether a dispatch kept events after a panic that the next dispatch delivers.
    fn has_deferred(&self) -> bool {
        !self.state().deferred.borrow().is_empty()
    }

    /// Waits up to `timeout` (`None`: without limit) for the connection's fd to become
    /// readable; false when the timeout passed.
    pub(crate) fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool> {
        // Events kept after a panic wait in the handle, not in the connection.
        if self.has_deferred() {
            return Ok(true);
        }
        Ok(poll_readable(&[self.fd()], timeout)?.any())
    }

    /// The handle's stopper, made on first use.
    pub(crate) fn stopper(&self) -> Result<Stopper> {
        let state = self.state();
        if let Some(stopper) = state.stopper.get() {
            return Ok(stopper.clone());
        }
        let stopper = Stopper::new()?;
        Ok(state.stopper.get_or_init(|| stopper).clone())
    }

    /// Dispatches events as they come until the handle's stopper is used (or an error).
    pub(crate) fn dispatch_blocking(&self) -> Result<Stopped> {
        if self.state().dispatching.get() {
            return Err(Error::ReentrantDispatch);
        }
        let stopper = self.stopper()?;
        loop {
            if stopper.take() {
                return Ok(Stopped::new());
            }
            // Events kept after a panic wait in the handle, not in the connection.
            if !self.has_deferred() {
                let ready = poll_readable(&[self.fd(), stopper.as_fd()], None)?;
                if !ready.is_ready(0) {
                    continue;
                }
            }
            // One event at a time, so that a stop requested by a callback ends the loop
            // before the next event.
            while !stopper.is_requested() {
                if self.dispatch(DispatchMode::OneNonBlocking)? == Dispatched::NothingPending {
                    break;
                }
            }
        }
    }

    /// Queues an event of a handle in pull mode (called by the crate's own closures).
    pub(crate) fn push_event(&self, event: L::Event) {
        if let Some(queue) = &self.state().events {
            queue.borrow_mut().push_back(event);
        }
    }

    /// Whether the handle is in pull mode.
    pub(crate) fn is_pull(&self) -> bool {
        self.state().events.is_some()
    }

    /// The queue of a handle in pull mode, or the error for a handle that is not.
    fn queue(&self) -> Result<&RefCell<VecDeque<L::Event>>> {
        self.state().events.as_ref().ok_or(Error::NotPullMode)
    }

    /// The next queued event; when none is queued, dispatches one event at a time (waiting
    /// up to `timeout` for the fd) until the crate's closures queue one.
    pub(crate) fn next_event(&self, timeout: Option<Duration>) -> Result<Option<L::Event>> {
        let queue = self.queue()?;
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            if let Some(event) = queue.borrow_mut().pop_front() {
                return Ok(Some(event));
            }
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if !self.wait_readable(remaining)? {
                return Ok(None);
            }
            let dispatched = self.dispatch(DispatchMode::OneNonBlocking)?;
            let out_of_time = remaining == Some(Duration::ZERO);
            if out_of_time && dispatched == Dispatched::NothingPending {
                return Ok(queue.borrow_mut().pop_front());
            }
        }
    }

    /// The next queued event, or one event dispatched without waiting; `None` when nothing
    /// is pending.
    pub(crate) fn try_next_event(&self) -> Result<Option<L::Event>> {
        let queue = self.queue()?;
        loop {
            if let Some(event) = queue.borrow_mut().pop_front() {
                return Ok(Some(event));
            }
            if self.dispatch(DispatchMode::OneNonBlocking)? == Dispatched::NothingPending {
                return Ok(None);
            }
        }
    }

    /// Replaces the C connection by a new one made with the same `connect`, keeping the
    /// state (closures, queue, stopper); the old connection is finalized.
    pub(crate) fn reconnect(&mut self) -> Result<Reconnected> {
        // SAFETY: `&mut self`: no dispatch or callback is running, so nothing else reaches
        // the state.
        let (raw, fd) = unsafe { Self::connect(self.state)? };
        // SAFETY: as above.
        let state = unsafe { &mut *self.state.as_ptr() };
        let old = std::mem::replace(&mut state.raw, raw);
        self.raw = raw;
        state.fd = fd;
        // The daemon knows nothing of the new connection yet.
        *state.session.get_mut() = L::Session::default();
        // The old connection is dead or unwanted; its answer changes nothing.
        // SAFETY: `old` was live and is finalized once, here; the handle now uses `raw`.
        with_library_lock::<L, _>(|| unsafe { L::finalize(old) });
        // What was lent to the old connection (the closures of forgotten cmap tracks: a live
        // guard borrows the handle, which `&mut self` rules out) is no longer used by C.
        for entry in state.lent.take() {
            // SAFETY: the old C handle is finalized, so C holds none of these pointers any
            // more, and each is freed once (`lend`'s contract).
            unsafe { (entry.free)(entry.ptr) };
        }
        let gap = Reconnected::new();
        self.push_event(L::reconnected(gap));
        Ok(gap)
    }

    /// The module's record of this connection's daemon-side state ([`Library::Session`]).
    /// Borrow it only around the checks and updates, never across a call that may run
    /// callbacks (a callback gets the handle and may call the same method).
    pub(crate) fn session(&self) -> &RefCell<L::Session> {
        &self.state().session
    }

    /// Finalizes now and reports the library's answer.
    pub(crate) fn finalize(self) -> Result<()> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so this is the only finalize and free.
        unsafe { this.release() }
    }

    /// Finalizes the C handle, then frees the state the callbacks used.
    ///
    /// # Safety
    /// Called once, and the handle is not used afterwards.
    unsafe fn release(&self) -> Result<()> {
        let result = with_library_lock::<L, _>(|| {
            // SAFETY: the caller guarantees this is the only finalize.
            cs_result(unsafe { L::finalize(self.raw()) })
        });
        // SAFETY: after finalize the library calls no callback, so nothing else can reach
        // the state; it was leaked from a Box in `open`.
        let state = unsafe { Box::from_raw(self.state.as_ptr()) };
        for entry in state.lent.take() {
            // SAFETY: the C handle is finalized, so C holds none of these pointers any more
            // (whether or not finalize reported an error: libraries destroy the handle either
            // way, and no dispatch can call back), and each is freed once (`lend`'s contract).
            unsafe { (entry.free)(entry.ptr) };
        }
        drop(state);
        result
    }
}

impl<L: Library> Drop for Handle<L> {
    fn drop(&mut self) {
        // An error here means the connection was already gone; nothing is left to free.
        // SAFETY: Drop runs once, and `finalize` does not run Drop.
        let _ = unsafe { self.release() };
    }
}

/// Runs `f` for an event of the handle whose C handle is `raw`: the entry point of the
/// trampolines of a library that does not defer events ([`Library::DEFERS`] false).
///
/// It finds the handle in the thread-local record that [`Handle::dispatch`] keeps for the
/// duration of the C call (no lookup in the C library), gives `f` the public handle and the
/// callbacks, and catches a panic of `f` for `dispatch` to resume. An event for any C handle
/// but the one being dispatched on this thread, or after a panic in the same dispatch (which
/// reads no further event of such a library), is not delivered.
///
/// # Safety
/// Called only from a trampoline that the C library `L` calls during its dispatch.
// Inlined into the trampoline: it runs once per event.
#[inline]
pub(crate) unsafe fn run_callback<L: Library>(
    raw: u64,
    f: impl FnOnce(&L::Public, &mut L::Callbacks),
) {
    debug_assert!(!L::DEFERS, "a deferring library's trampolines pass a copy");
    let Some(state) = dispatching_state::<L>(raw) else {
        return;
    };
    // The record names a `State<L>` (its library is `L`) of the handle whose `dispatch` runs
    // on this thread and borrows that handle; the state is freed only after finalize, which
    // needs the handle by value. SAFETY: so the state outlives this callback.
    let shared = unsafe { state.as_ref() };
    if !shared.dispatching.get() || shared.has_panic() {
        return;
    }
    // SAFETY: inside the handle's dispatch on this thread (checked above), from a trampoline.
    unsafe { call_closures(state, raw, f) }
}

/// As [`run_callback`], for a library whose dispatch reads every pending event in one C call
/// ([`Library::DEFERS`]): after a panic in the same dispatch, `defer` copies the event out of
/// the C library's buffer and the handle keeps it for its next dispatch.
///
/// # Safety
/// As [`run_callback`].
// Inlined into the trampoline: it runs once per event, and only its checks are hot.
#[inline]
pub(crate) unsafe fn run_callback_or_defer<L: Library>(
    raw: u64,
    f: impl FnOnce(&L::Public, &mut L::Callbacks),
    defer: impl FnOnce() -> Deferred<L>,
) {
    /// Keeps a copy of the event for the next dispatch. Only crate code runs here, never the
    /// user's closures.
    #[cold]
    #[inline(never)]
    fn keep<L: Library>(shared: &State<L>, defer: impl FnOnce() -> Deferred<L>) {
        shared.deferred.borrow_mut().push_back(defer());
    }
    let Some(state) = dispatching_state::<L>(raw) else {
        return;
    };
    // SAFETY: as in run_callback, the state outlives this callback.
    let shared = unsafe { state.as_ref() };
    if !shared.dispatching.get() {
        return;
    }
    if shared.has_panic() {
        keep(shared, defer);
        return;
    }
    // SAFETY: inside the handle's dispatch on this thread (checked above), from a trampoline.
    unsafe { call_closures(state, raw, f) }
}

/// Runs `f` with the public handle and the closures of the handle whose state is `state` and
/// C handle `raw`, catching a panic of `f` for `dispatch` to resume.
///
/// # Safety
/// Called during that handle's `dispatch`, on its thread (from a trampoline or the replay
/// of kept events), so the state lives and nothing else references the callbacks.
#[inline]
unsafe fn call_closures<L: Library>(
    state: NonNull<State<L>>,
    raw: u64,
    f: impl FnOnce(&L::Public, &mut L::Callbacks),
) {
    // A second owner of the same state, never dropped, to lend the closure `&Public`.
    let handle = ManuallyDrop::new(Handle::<L> {
        state,
        raw,
        _not_sync: PhantomData,
    });
    let handle: &Handle<L> = &handle;
    // SAFETY: `Public` is repr(transparent) over `Handle<L>` (Library's contract).
    let public = unsafe { &*(handle as *const Handle<L>).cast::<L::Public>() };
    // SAFETY: the caller guarantees the state lives for this call.
    let shared = unsafe { state.as_ref() };
    // SAFETY: dispatch is not re-entered (it refuses to be) and the public handle offers no
    // way to reach the callbacks through `&self`, so this is their only reference.
    let callbacks = unsafe { &mut *shared.callbacks.get() };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(public, callbacks))) {
        shared.panic.set(Some(payload));
    }
}

/// Declares a library's public handle type around [`Handle`], with the methods every handle
/// shares: `dispatch`, `finalize`, `AsFd`, `AsRawFd` and `Debug`.
macro_rules! handle_type {
    (
        $(#[$doc:meta])*
        pub struct $name:ident($lib:ty);
        open: $open:literal;
        pull: $pull:literal;
        event: $event:ty;
    ) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name {
            handle: $crate::handle::Handle<$lib>,
        }

        impl $name {
            /// Processes events from the daemon, running this handle's callbacks on the
            /// calling thread; see [`DispatchMode`](crate::DispatchMode) for how many.
            ///
            /// A panic in a callback stops the delivery of events and is resumed here once
            /// the C library has returned. No event is lost: the event whose callback panicked
            /// is consumed, and every later one is delivered, in order, by the next
            /// `dispatch` (CPG and cmap keep a copy of those their C dispatch read after the
            /// panic, except the events of a cmap track deleted meanwhile, which libcmap
            /// would drop too; the other libraries leave them in the connection), so a
            /// program that catches the
            /// panic and dispatches again sees every event the other members saw. Dispatch
            /// again before waiting on the fd: kept events do not make it readable
            /// ([`wait_readable`](Self::wait_readable) counts them).
            ///
            /// The C library's dispatch keeps a 1 MiB receive buffer on the stack
            /// (`IPC_DISPATCH_SIZE`), so callbacks run with about 1 MiB less stack than the
            /// calling thread has: dispatch from a thread with at least 2 MiB of stack
            /// (Rust's default for spawned threads; the main thread has 8 MiB), and with
            /// another 1 MiB for each dispatch a callback makes of another handle.
            ///
            /// Calling `dispatch` from inside a callback returns
            /// [`Error::ReentrantDispatch`](crate::Error::ReentrantDispatch).
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $open, ";")]
            /// // Process whatever has arrived, without waiting.
            /// handle.dispatch(corosync::DispatchMode::All)?;
            /// # Ok(()) }
            /// ```
            pub fn dispatch(
                &self,
                mode: $crate::DispatchMode,
            ) -> $crate::Result<$crate::Dispatched> {
                self.handle.dispatch(mode)
            }

            /// Closes the connection now and reports the library's answer; dropping the
            /// handle does the same and ignores the answer.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $open, ";")]
            /// handle.finalize()?;
            /// # Ok(()) }
            /// ```
            pub fn finalize(self) -> $crate::Result<()> {
                self.handle.finalize()
            }

            /// Waits up to `timeout` (`None`: without limit) for an event to arrive, without
            /// dispatching it: `Ok(true)` when the connection's fd is readable (an event
            /// waits, or the daemon went away, which the next `dispatch` reports) or the
            /// handle kept events after a callback panicked, `Ok(false)` when the timeout
            /// passed.
            ///
            /// ```no_run
            /// use std::time::Duration;
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $open, ";")]
            /// while handle.wait_readable(Some(Duration::from_millis(500)))? {
            ///     handle.dispatch(corosync::DispatchMode::All)?;
            /// }
            /// # Ok(()) }
            /// ```
            #[doc(alias = "poll")]
            pub fn wait_readable(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> $crate::Result<bool> {
                self.handle.wait_readable(timeout)
            }

            /// The [`Stopper`](crate::Stopper) that ends this handle's
            /// [`dispatch_blocking`](Self::dispatch_blocking); every call returns a clone of
            /// the same one (its eventfd is made on the first call).
            ///
            /// # Errors
            /// [`Error::System`](crate::Error::System) if no eventfd can be made.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $open, ";")]
            /// let stopper = handle.stopper()?;
            /// std::thread::spawn(move || stopper.stop());
            /// handle.dispatch_blocking()?;
            /// # Ok(()) }
            /// ```
            pub fn stopper(&self) -> $crate::Result<$crate::Stopper> {
                self.handle.stopper()
            }

            /// Dispatches events as they arrive, running this handle's callbacks, until the
            /// handle's [`Stopper`](crate::Stopper) is used: `Ok(Stopped)` is the only
            /// success. Between events it sleeps in `ppoll` on the connection's fd and the
            /// stopper's eventfd, so it uses no CPU while idle; events are dispatched one at a
            /// time, so a stop from a callback ends the loop before the next event. It is
            /// meant for handles with closures: on a pull handle it would queue every event
            /// (use [`next_event`](Self::next_event) there).
            ///
            /// # Errors
            /// The error of a failed dispatch, e.g. [`Error::Library`](crate::Error::Library)
            /// when the daemon goes away (see
            /// [`Error::is_disconnected`](crate::Error::is_disconnected));
            /// [`Error::ReentrantDispatch`](crate::Error::ReentrantDispatch) from inside a
            /// callback. A panic in a callback is resumed here.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $open, ";")]
            /// let stopper = handle.stopper()?;
            /// std::thread::spawn(move || {
            ///     std::thread::sleep(std::time::Duration::from_secs(10));
            ///     stopper.stop();
            /// });
            /// let corosync::Stopped { .. } = handle.dispatch_blocking()?;
            /// # Ok(()) }
            /// ```
            #[doc(alias = "CS_DISPATCH_BLOCKING")]
            pub fn dispatch_blocking(&self) -> $crate::Result<$crate::Stopped> {
                self.handle.dispatch_blocking()
            }

            /// Pull mode: the next event, waiting up to `timeout` for it (`None`: without
            /// limit); `Ok(None)` when the timeout passed.
            ///
            /// Events are taken from the daemon only as fast as they are pulled: when nothing
            /// is queued, this dispatches one event at a time until one is queued, so the
            /// handle's queue holds at most the few events one C callback makes (plus a
            /// `Reconnected`), and nothing is dropped. Events not yet pulled wait in the
            /// daemon's IPC buffers, where corosync's own flow control applies. A plain
            /// [`dispatch`](Self::dispatch) on a pull handle queues every event it processes
            /// (so does a CPG send that waits out flow control with `mcast_retrying`, for
            /// the events that arrive meanwhile): pull them before dispatching again.
            /// Events still queued when the handle is dropped or finalized are dropped with it.
            ///
            /// # Errors
            /// [`Error::NotPullMode`](crate::Error::NotPullMode) on a handle with closures;
            /// the error of the dispatch, e.g. one for which
            /// [`Error::is_disconnected`](crate::Error::is_disconnected) is true when the
            /// daemon went away (never a hang).
            ///
            /// ```no_run
            /// use std::time::Duration;
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $pull, ";")]
            /// match handle.next_event(Some(Duration::from_secs(1)))? {
            ///     Some(event) => println!("{event:?}"),
            ///     None => println!("nothing for a second"),
            /// }
            /// # Ok(()) }
            /// ```
            pub fn next_event(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> $crate::Result<Option<$event>> {
                self.handle.next_event(timeout)
            }

            /// Pull mode: the next event if one is queued or already waiting at the daemon,
            /// without blocking. See [`next_event`](Self::next_event).
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let handle = ", $pull, ";")]
            /// while let Some(event) = handle.try_next_event()? {
            ///     println!("{event:?}");
            /// }
            /// # Ok(()) }
            /// ```
            pub fn try_next_event(&self) -> $crate::Result<Option<$event>> {
                self.handle.try_next_event()
            }

            /// Replaces a dead connection (after the daemon was restarted) by a new one,
            /// keeping everything of this handle: its closures and their state, or its pull
            /// queue, and its stopper.
            ///
            /// The returned [`Reconnected`](crate::Reconnected) says that events may have
            /// been missed; a handle in pull mode also queues it as `Event::Reconnected`
            /// after the events it already had. What the daemon kept for the old connection
            /// (group membership, tracking) is gone: set it up again. The connection's fd
            /// changes: register the new one with any poll loop (mio, `AsyncFd`) that had
            /// the old. The old connection is finalized. On error (e.g. the daemon is not
            /// back yet) the handle keeps its old connection; try again later.
            ///
            /// ```no_run
            /// # fn main() -> corosync::Result<()> {
            #[doc = concat!("let mut handle = ", $open, ";")]
            /// if let Err(err) = handle.dispatch(corosync::DispatchMode::All) {
            ///     if err.is_disconnected() {
            ///         let _gap = handle.reconnect()?;
            ///     }
            /// }
            /// # Ok(()) }
            /// ```
            pub fn reconnect(&mut self) -> $crate::Result<$crate::Reconnected> {
                self.handle.reconnect()
            }
        }

        /// The connection's fd becomes readable when an event waits for `dispatch`: give it
        /// to poll, epoll, mio or tokio's `AsyncFd`.
        impl std::os::fd::AsFd for $name {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.handle.fd()
            }
        }

        /// With the cargo feature `mio`: register the handle with a `mio::Poll`, which then
        /// reports it readable when an event waits for `dispatch` (or the daemon went away);
        /// this delegates to `mio::unix::SourceFd` on the connection's fd.
        ///
        /// [`reconnect`](Self::reconnect) gives the handle a new fd: register it again
        /// afterwards (the old fd was closed, which removed it from the poll).
        ///
        /// ```no_run
        /// use mio::{Events, Interest, Poll, Token};
        /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
        #[doc = concat!("let mut handle = ", $open, ";")]
        /// let mut poll = Poll::new()?;
        /// poll.registry().register(&mut handle, Token(0), Interest::READABLE)?;
        /// let mut events = Events::with_capacity(8);
        /// poll.poll(&mut events, None)?;
        /// handle.dispatch(corosync::DispatchMode::All)?;
        /// # Ok(()) }
        /// ```
        #[cfg(feature = "mio")]
        impl mio::event::Source for $name {
            fn register(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).deregister(registry)
            }
        }

        /// See the `AsFd` implementation.
        impl std::os::fd::AsRawFd for $name {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                use std::os::fd::AsFd;
                self.as_fd().as_raw_fd()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("handle", &self.handle.raw())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use handle_type;

/// Declares the [`Library`] marker of a C library whose finalize, fd_get and dispatch
/// functions have the usual signatures (all but libcfg): every function is the library's
/// own, named by the caller.
macro_rules! library {
    (@session) => { () };
    (@session $session:ty) => { $session };
    (@defers) => { false };
    (@defers $defers:literal) => { $defers };
    (
        $(#[$doc:meta])*
        $lib:ident for $public:ty, callbacks: $callbacks:ty, event: $event:ident,
        finalize: $finalize:path, fd_get: $fd_get:path, dispatch: $dispatch:path
        $(, session: $session:ty)? $(, defers: $defers:literal)? $(,)?
    ) => {
        $(#[$doc])*
        pub(crate) enum $lib {}

        // The public type is declared with handle_type! (repr(transparent) over Handle<$lib>)
        // and only run_callback touches the callbacks.
        // SAFETY: the functions are the library's own, and the library calls its callbacks
        // only from its dispatch, on the calling thread, with the handle being dispatched.
        unsafe impl $crate::handle::Library for $lib {
            type Public = $public;
            type Callbacks = $callbacks;
            type Event = $event;
            type Session = $crate::handle::library!(@session $($session)?);
            const DEFERS: bool = $crate::handle::library!(@defers $($defers)?);

            fn reconnected(gap: $crate::Reconnected) -> $event {
                $event::Reconnected(gap)
            }

            unsafe fn finalize(raw: u64) -> corosync_sys::cs_error_t {
                // SAFETY: the caller finalizes a live handle once.
                unsafe { $finalize(raw) }
            }

            unsafe fn fd_get(raw: u64, fd: *mut std::ffi::c_int) -> corosync_sys::cs_error_t {
                // SAFETY: the caller passes a live handle and a writable fd.
                unsafe { $fd_get(raw, fd) }
            }

            unsafe fn dispatch(
                raw: u64,
                flags: corosync_sys::cs_dispatch_flags_t,
            ) -> corosync_sys::cs_error_t {
                // SAFETY: the caller passes a live handle.
                unsafe { $dispatch(raw, flags) }
            }
        }
    };
}
pub(crate) use library;

/// Declares what the builders of closure-based handles share (quorum and votequorum): the
/// crate's `Callbacks` (one optional boxed closure per notification, plus any `more` fields
/// the module fills itself) and the public `Builder` with its `on_*` setters, a `Debug` that
/// shows which closures are set, and `build_pull`, which sets every closure to queue the
/// notification as an owned event. The module writes `build` (the C initialization differs).
macro_rules! callbacks_builder {
    (
        handle: $handle:ident;
        $(#[$builder_meta:meta])*
        pub struct Builder;
        callbacks {
            $(
                $(#[$setter_meta:meta])*
                $field:ident: $setter:ident($arg:ty), pull: |$n:ident| $event:expr;
            )*
        }
        more {
            $( $(#[$more_meta:meta])* $more:ident: $more_ty:ty, )*
        }
        $(#[$pull_meta:meta])*
        fn build_pull;
    ) => {
        /// The closures of one handle; only those set are registered with the library.
        #[derive(Default)]
        pub(crate) struct Callbacks {
            $( $field: Option<Box<dyn FnMut(&$handle, $arg) + Send>>, )*
            $( $(#[$more_meta])* $more: $more_ty, )*
        }

        $(#[$builder_meta])*
        #[must_use = "a builder does nothing until `build` is called"]
        #[derive(Default)]
        pub struct Builder {
            callbacks: Callbacks,
        }

        impl std::fmt::Debug for Builder {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Builder")
                    $( .field(stringify!($setter), &self.callbacks.$field.is_some()) )*
                    .finish()
            }
        }

        impl Builder {
            $(
                $(#[$setter_meta])*
                pub fn $setter<F>(mut self, f: F) -> Self
                where
                    F: FnMut(&$handle, $arg) + Send + 'static,
                {
                    self.callbacks.$field = Some(Box::new(f));
                    self
                }
            )*

            $(#[$pull_meta])*
            pub fn build_pull(self) -> $crate::Result<$handle> {
                let mut opened = self
                    $( .$setter(|handle, $n| handle.handle.push_event($event)) )*
                    .build()?;
                opened.handle.enable_pull();
                Ok(opened)
            }
        }
    };
}
pub(crate) use callbacks_builder;

#[cfg(test)]
mod layout {
    use std::mem::{align_of, offset_of};

    use super::{Library, State};

    /// The fields a dispatch reads, up to the first closure, lie in the state's first two
    /// cache lines, which start on a line boundary.
    fn dispatch_fields_in_two_lines<L: Library>() {
        assert_eq!(align_of::<State<L>>(), 64);
        let callbacks = offset_of!(State<L>, callbacks);
        for offset in [
            offset_of!(State<L>, raw),
            offset_of!(State<L>, dispatching),
            offset_of!(State<L>, panic),
            offset_of!(State<L>, deferred),
            offset_of!(State<L>, reclaimed),
        ] {
            assert!(offset < callbacks, "{offset} before {callbacks}");
        }
        // At least one closure (16 bytes) fits in the second line.
        assert!(callbacks + 16 <= 128, "callbacks at {callbacks}");
    }

    #[test]
    fn dispatch_fields_share_two_cache_lines() {
        dispatch_fields_in_two_lines::<crate::cmap::CmapLib>();
        dispatch_fields_in_two_lines::<crate::cpg::CpgLib>();
        dispatch_fields_in_two_lines::<crate::quorum::QuorumLib>();
        dispatch_fields_in_two_lines::<crate::votequorum::VotequorumLib>();
        dispatch_fields_in_two_lines::<crate::cfg::CfgLib>();
    }
}
