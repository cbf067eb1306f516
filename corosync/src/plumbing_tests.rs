//! Unit tests of the handle and trampoline plumbing over a fake library written in Rust
//! with the C ABI. They check pure Rust logic (panics, re-entrancy, finalize-once); the
//! behaviour against the real C libraries is tested against real daemons in `tests/`.

use std::collections::HashMap;
use std::ffi::c_int;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use corosync_sys as sys;

use crate::handle::{handle_type, run_callback, run_callback_or_defer, Library};
use crate::{DispatchMode, Dispatched, Error};

/// The fake library's handle table: raw handle -> (pending events, where its dispatch
/// reports them, finalize count).
static FAKE: Mutex<Option<HashMap<u64, Fake>>> = Mutex::new(None);
static NEXT_RAW: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Fake {
    pending: Vec<u32>,
    /// Report this handle's events with another C handle (a misbehaving library), to check
    /// that the plumbing delivers them to nobody.
    report_as: Option<u64>,
    finalized: u32,
}

fn with_fake<R>(raw: u64, f: impl FnOnce(&mut Fake) -> R) -> R {
    let mut table = FAKE.lock().unwrap_or_else(|e| e.into_inner());
    f(table
        .get_or_insert_with(HashMap::new)
        .entry(raw)
        .or_default())
}

extern "C" fn fake_initialize(raw: *mut u64) -> sys::cs_error_t {
    let new = NEXT_RAW.fetch_add(1, Ordering::Relaxed);
    with_fake(new, |_| ());
    // SAFETY: the caller passes a writable u64.
    unsafe { *raw = new };
    sys::CS_OK
}

/// Calls the trampoline once per pending event, as a C dispatch would.
extern "C" fn fake_dispatch(raw: u64, flags: sys::cs_dispatch_flags_t) -> sys::cs_error_t {
    let (events, report_as): (Vec<u32>, _) = with_fake(raw, |f| {
        let n = if flags == sys::CS_DISPATCH_ALL {
            f.pending.len()
        } else {
            f.pending.len().min(1)
        };
        (f.pending.drain(..n).collect(), f.report_as.unwrap_or(raw))
    });
    if events.is_empty() && flags == sys::CS_DISPATCH_ONE_NONBLOCKING {
        return sys::CS_ERR_TRY_AGAIN;
    }
    for event in events {
        fake_trampoline(report_as, event);
    }
    sys::CS_OK
}

extern "C" fn fake_trampoline(raw: u64, event: u32) {
    // SAFETY: called by the fake library's dispatch.
    unsafe {
        run_callback_or_defer::<FakeLib>(
            raw,
            |handle, callbacks| (callbacks.on_event)(handle, event),
            || Box::new(move |handle, callbacks| (callbacks.on_event)(handle, event)),
        )
    }
}

enum FakeLib {}

type OnEvent = Box<dyn FnMut(&FakeHandle, u32) + Send>;

struct FakeCallbacks {
    on_event: OnEvent,
}

// FakeHandle is declared with handle_type!; the fake calls its trampoline only from its
// dispatch, on the calling thread (with the dispatched handle, unless a test sets `report_as`
// to check that such events are refused). SAFETY: only run_callback touches the callbacks.
unsafe impl Library for FakeLib {
    type Public = FakeHandle;
    type Callbacks = FakeCallbacks;
    type Event = FakeEvent;
    type Session = ();
    // As libcpg: `dispatch(All)` is one C call, events after a panic are kept.
    const DEFERS: bool = true;

    fn reconnected(_gap: crate::Reconnected) -> FakeEvent {
        FakeEvent::Reconnected
    }

    unsafe fn finalize(raw: u64) -> sys::cs_error_t {
        with_fake(raw, |f| {
            f.finalized += 1;
            if f.finalized == 1 {
                sys::CS_OK
            } else {
                sys::CS_ERR_BAD_HANDLE
            }
        })
    }
    unsafe fn fd_get(_raw: u64, fd: *mut c_int) -> sys::cs_error_t {
        // /dev/null is always readable, like a connection with events waiting: the fake's
        // dispatch answers TRY_AGAIN when it has none.
        static DEV_NULL: OnceLock<File> = OnceLock::new();
        let file = DEV_NULL.get_or_init(|| File::open("/dev/null").expect("open /dev/null"));
        // SAFETY: the caller passes a writable c_int.
        unsafe { *fd = file.as_raw_fd() };
        sys::CS_OK
    }
    unsafe fn dispatch(raw: u64, flags: sys::cs_dispatch_flags_t) -> sys::cs_error_t {
        fake_dispatch(raw, flags)
    }
}

/// The fake library's owned events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeEvent {
    Event(u32),
    Reconnected,
}

handle_type! {
    /// A handle of the fake library.
    pub struct FakeHandle(FakeLib);
    open: "unreachable()";
    pull: "unreachable()";
    event: FakeEvent;
}

impl FakeHandle {
    fn open(on_event: impl FnMut(&FakeHandle, u32) + Send + 'static) -> FakeHandle {
        let callbacks = FakeCallbacks {
            on_event: Box::new(on_event),
        };
        let handle = crate::handle::Handle::open(callbacks, |_context, _| {
            let mut raw = 0;
            crate::error::cs_result(fake_initialize(&mut raw)).map(|()| raw)
        })
        .expect("fake open");
        FakeHandle { handle }
    }

    fn pull() -> FakeHandle {
        let mut handle = FakeHandle::open(|handle, event| {
            handle.handle.push_event(FakeEvent::Event(event));
        });
        handle.handle.enable_pull();
        handle
    }

    fn push(&self, events: &[u32]) {
        with_fake(self.handle.raw(), |f| f.pending.extend_from_slice(events));
    }

    fn raw(&self) -> u64 {
        self.handle.raw()
    }
}

fn finalize_count(raw: u64) -> u32 {
    with_fake(raw, |f| f.finalized)
}

#[test]
fn events_reach_the_closure_in_order() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |_, event| sink.lock().unwrap().push(event));
    handle.push(&[1, 2, 3]);
    assert_eq!(
        handle.dispatch(DispatchMode::One),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        handle.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    assert_eq!(
        handle.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
}

#[test]
fn a_panic_is_resumed_after_the_c_call_and_later_events_are_kept() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |_, event| {
        if event == 2 {
            panic!("callback panicked on {event}");
        }
        sink.lock().unwrap().push(event);
    });
    handle.push(&[1, 2, 3]);
    let payload = catch_unwind(AssertUnwindSafe(|| handle.dispatch(DispatchMode::All)))
        .expect_err("the panic reaches the caller of dispatch");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("callback panicked on 2")
    );
    // The C dispatch read event 3 too, after the panic: the handle kept it, undelivered.
    assert_eq!(*seen.lock().unwrap(), vec![1]);
    assert!(with_fake(handle.raw(), |f| f.pending.is_empty()));
    // The handle is usable afterwards, and nothing was lost: the kept event comes first.
    handle.push(&[4]);
    assert_eq!(
        handle.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 3, 4]);
}

#[test]
fn a_one_event_dispatch_after_a_panic_delivers_one_kept_event() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |_, event| {
        if event == 2 {
            panic!("callback panicked on {event}");
        }
        sink.lock().unwrap().push(event);
    });
    handle.push(&[1, 2, 3, 4]);
    catch_unwind(AssertUnwindSafe(|| handle.dispatch(DispatchMode::All)))
        .expect_err("the panic reaches the caller of dispatch");
    handle.push(&[5]);
    assert_eq!(
        handle.dispatch(DispatchMode::One),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 3]);
    assert_eq!(
        handle.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 3, 4]);
    // Event 5 is still in the (fake) connection, read only now.
    assert_eq!(with_fake(handle.raw(), |f| f.pending.clone()), vec![5]);
    assert_eq!(
        handle.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        handle.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 3, 4, 5]);
}

#[test]
fn a_panic_while_kept_events_are_delivered_keeps_the_rest() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |_, event| {
        sink.lock().unwrap().push(event);
        if event == 2 || event == 3 {
            panic!("callback panicked on {event}");
        }
    });
    handle.push(&[1, 2, 3, 4]);
    for expected in ["callback panicked on 2", "callback panicked on 3"] {
        let payload = catch_unwind(AssertUnwindSafe(|| handle.dispatch(DispatchMode::All)))
            .expect_err("the panic reaches the caller of dispatch");
        assert_eq!(payload.downcast_ref::<String>().unwrap(), expected);
    }
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    // The kept event makes the handle ready without the connection being readable.
    assert_eq!(handle.wait_readable(Some(Duration::ZERO)), Ok(true));
    assert_eq!(
        handle.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4]);
}

#[test]
fn the_blocking_dispatch_delivers_kept_events_first() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |handle, event| {
        sink.lock().unwrap().push(event);
        match event {
            2 => panic!("callback panicked on {event}"),
            4 => handle.stopper().unwrap().stop(),
            _ => {}
        }
    });
    handle.push(&[1, 2, 3, 4, 5]);
    catch_unwind(AssertUnwindSafe(|| handle.dispatch(DispatchMode::All)))
        .expect_err("the panic reaches the caller of dispatch");
    assert_eq!(handle.dispatch_blocking(), Ok(crate::Stopped::new()));
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4]);
    assert_eq!(
        handle.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4, 5]);
}

#[test]
fn blocking_dispatch_ends_with_a_panic() {
    let handle = FakeHandle::open(|_, event| panic!("stop at {event}"));
    handle.push(&[7]);
    let payload = catch_unwind(AssertUnwindSafe(|| handle.dispatch_blocking()))
        .expect_err("the panic ends the blocking dispatch");
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "stop at 7");
}

#[test]
fn a_stop_from_a_callback_ends_the_blocking_dispatch_before_the_next_event() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |handle, event| {
        sink.lock().unwrap().push(event);
        if event == 2 {
            handle.stopper().unwrap().stop();
        }
    });
    handle.push(&[1, 2, 3]);
    assert_eq!(handle.dispatch_blocking(), Ok(crate::Stopped::new()));
    assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
    // A stop requested while no loop runs ends the next one at once, and only that one.
    handle.stopper().unwrap().stop();
    assert_eq!(handle.dispatch_blocking(), Ok(crate::Stopped::new()));
    assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
    let stopper = handle.stopper().unwrap();
    let stopping = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        stopper.stop();
    });
    assert_eq!(handle.dispatch_blocking(), Ok(crate::Stopped::new()));
    stopping.join().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
}

#[test]
fn pull_mode_takes_one_event_at_a_time() {
    let handle = FakeHandle::pull();
    // The fake's fd (/dev/null) is always readable.
    assert_eq!(handle.wait_readable(Some(Duration::ZERO)), Ok(true));
    handle.push(&[1, 2, 3]);
    assert_eq!(handle.try_next_event(), Ok(Some(FakeEvent::Event(1))));
    // Only one event left the fake daemon so far.
    assert_eq!(with_fake(handle.raw(), |f| f.pending.clone()), vec![2, 3]);
    assert_eq!(
        handle.next_event(Some(Duration::from_secs(5))),
        Ok(Some(FakeEvent::Event(2)))
    );
    assert_eq!(handle.next_event(None), Ok(Some(FakeEvent::Event(3))));
    assert_eq!(handle.try_next_event(), Ok(None));
    let start = Instant::now();
    assert_eq!(handle.next_event(Some(Duration::from_millis(30))), Ok(None));
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn a_handle_with_closures_refuses_to_pull() {
    let handle = FakeHandle::open(|_, _| {});
    assert_eq!(handle.try_next_event(), Err(Error::NotPullMode));
    assert_eq!(handle.next_event(None), Err(Error::NotPullMode));
}

#[test]
fn reconnect_keeps_the_state_and_queues_the_gap() {
    let mut handle = FakeHandle::pull();
    handle.push(&[1, 2]);
    let old = handle.raw();
    assert_eq!(handle.try_next_event(), Ok(Some(FakeEvent::Event(1))));
    // One more event waits in the queue when the connection is replaced.
    handle.handle.push_event(FakeEvent::Event(9));
    assert_eq!(handle.reconnect(), Ok(crate::Reconnected::new()));
    assert_ne!(handle.raw(), old);
    assert_eq!(finalize_count(old), 1);
    assert_eq!(handle.try_next_event(), Ok(Some(FakeEvent::Event(9))));
    assert_eq!(handle.try_next_event(), Ok(Some(FakeEvent::Reconnected)));
    // The new connection delivers to the same queue (the same state).
    handle.push(&[5]);
    assert_eq!(handle.try_next_event(), Ok(Some(FakeEvent::Event(5))));
    let new = handle.raw();
    drop(handle);
    assert_eq!((finalize_count(old), finalize_count(new)), (1, 1));
}

#[test]
fn dispatch_from_a_callback_is_refused_and_requests_are_allowed() {
    let answers = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = answers.clone();
    let handle = FakeHandle::open(move |handle, _| {
        sink.lock()
            .unwrap()
            .push(handle.dispatch(DispatchMode::All));
        // Requests (anything taking &self) work from inside a callback.
        let _ = handle.raw();
    });
    handle.push(&[1]);
    handle.dispatch(DispatchMode::All).unwrap();
    assert_eq!(
        *answers.lock().unwrap(),
        vec![Err(Error::ReentrantDispatch)]
    );
}

#[test]
fn finalize_runs_exactly_once() {
    let handle = FakeHandle::open(|_, _| {});
    let raw = handle.raw();
    drop(handle);
    assert_eq!(finalize_count(raw), 1);

    let handle = FakeHandle::open(|_, _| {});
    let raw = handle.raw();
    assert_eq!(handle.finalize(), Ok(()));
    assert_eq!(finalize_count(raw), 1);
}

#[test]
fn handles_are_send_but_not_sync() {
    fn is_send<T: Send>() {}
    is_send::<FakeHandle>();
    // `static_assertions`-style negative check: Sync would make this ambiguous.
    trait AmbiguousIfSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    struct IsSync;
    impl<T: ?Sized + Sync> AmbiguousIfSync<IsSync> for T {}
    <FakeHandle as AmbiguousIfSync<_>>::check();
}

#[test]
fn a_callback_may_dispatch_another_handle_and_each_gets_its_own_events() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let inner_sink = seen.clone();
    // Handles are Send, not Sync: the outer closure reaches the inner handle through a Mutex.
    let inner = std::sync::Arc::new(Mutex::new(FakeHandle::open(move |_, event| {
        inner_sink.lock().unwrap().push(("inner", event));
    })));
    let outer_sink = seen.clone();
    let nested = inner.clone();
    let outer = FakeHandle::open(move |_, event| {
        outer_sink.lock().unwrap().push(("outer", event));
        if event == 1 {
            // The inner dispatch records the inner handle and puts the outer one back.
            nested.lock().unwrap().dispatch(DispatchMode::All).unwrap();
        }
    });
    inner.lock().unwrap().push(&[10, 11]);
    outer.push(&[1, 2]);
    assert_eq!(outer.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("outer", 1), ("inner", 10), ("inner", 11), ("outer", 2)]
    );
    // Nothing is recorded once the outer dispatch has returned.
    assert_eq!(crate::handle::dispatching_on_this_thread(), None);
}

#[test]
fn an_event_for_a_handle_not_being_dispatched_reaches_nobody() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink_a = seen.clone();
    let a = FakeHandle::open(move |_, event| sink_a.lock().unwrap().push(("a", event)));
    let sink_b = seen.clone();
    let b = FakeHandle::open(move |_, event| sink_b.lock().unwrap().push(("b", event)));
    // Outside any dispatch.
    fake_trampoline(a.raw(), 1);
    // During a's dispatch, an event reported as b's (b is live but not being dispatched).
    with_fake(a.raw(), |f| f.report_as = Some(b.raw()));
    a.push(&[2]);
    assert_eq!(a.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert!(seen.lock().unwrap().is_empty());
    // From another thread while the handle is being dispatched on this one.
    let sink_c = seen.clone();
    let c = FakeHandle::open(move |handle, event| {
        let raw = handle.raw();
        std::thread::spawn(move || fake_trampoline(raw, event + 100))
            .join()
            .unwrap();
        sink_c.lock().unwrap().push(("c", event));
    });
    c.push(&[3]);
    assert_eq!(c.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(*seen.lock().unwrap(), vec![("c", 3)]);
    drop(b);
}

/// A second library over the same fake C functions: its C handles are numbers of the same
/// kind as FakeLib's, as two corosync libraries' handles can be equal numbers. Its types are
/// FakeLib's, so that its state has the same layout and a mix-up would show (as the callback
/// running) rather than read garbage.
enum OtherLib {}

// SAFETY: OtherHandle is declared with handle_type!, the fake calls no trampoline of this
// library (the test below calls run_callback itself, to check that it is refused), and only
// run_callback touches the callbacks.
unsafe impl Library for OtherLib {
    type Public = OtherHandle;
    type Callbacks = FakeCallbacks;
    type Event = FakeEvent;
    type Session = ();

    fn reconnected(_gap: crate::Reconnected) -> FakeEvent {
        FakeEvent::Reconnected
    }
    unsafe fn finalize(raw: u64) -> sys::cs_error_t {
        // SAFETY: as FakeLib's.
        unsafe { FakeLib::finalize(raw) }
    }
    unsafe fn fd_get(raw: u64, fd: *mut c_int) -> sys::cs_error_t {
        // SAFETY: as FakeLib's.
        unsafe { FakeLib::fd_get(raw, fd) }
    }
    unsafe fn dispatch(raw: u64, flags: sys::cs_dispatch_flags_t) -> sys::cs_error_t {
        fake_dispatch(raw, flags)
    }
}

/// The second library's public type, in a module of its own so that its unused methods
/// can be allowed.
#[allow(dead_code)]
mod other {
    use super::{FakeEvent, OtherLib};
    use crate::handle::handle_type;

    handle_type! {
        /// A handle of the second fake library (never opened).
        pub struct OtherHandle(OtherLib);
        open: "unreachable()";
        pull: "unreachable()";
        event: FakeEvent;
    }
}
use other::OtherHandle;

#[test]
fn a_trampoline_of_another_library_with_the_same_handle_number_reaches_nobody() {
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = reached.clone();
    let handle = FakeHandle::open(move |handle, _| {
        let flag = flag.clone();
        // While this FakeLib handle is being dispatched, an OtherLib event with the same C
        // handle number must not be taken for it (the record names the library).
        // SAFETY: called on the dispatching thread, as a trampoline of OtherLib would be.
        unsafe {
            run_callback::<OtherLib>(handle.raw(), move |_, _| {
                flag.store(true, Ordering::Relaxed);
            });
        }
    });
    handle.push(&[1]);
    assert_eq!(
        handle.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert!(!reached.load(Ordering::Relaxed));
}
