//! Unit tests of the handle and trampoline plumbing over a fake library written in Rust
//! with the C ABI. They check pure Rust logic (panics, re-entrancy, finalize-once); the
//! behaviour against the real C libraries is tested against real daemons in `tests/`.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use corosync_sys as sys;

use crate::handle::{handle_type, run_callback, Library};
use crate::{DispatchFlags, Dispatched, Error};

/// The fake library's handle table: raw handle -> (context, pending events, finalize count).
static FAKE: Mutex<Option<HashMap<u64, Fake>>> = Mutex::new(None);
static NEXT_RAW: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
struct Fake {
    context: usize,
    pending: Vec<u32>,
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
    let events: Vec<u32> = with_fake(raw, |f| {
        let n = if flags == sys::CS_DISPATCH_ALL {
            f.pending.len()
        } else {
            f.pending.len().min(1)
        };
        f.pending.drain(..n).collect()
    });
    if events.is_empty() && flags == sys::CS_DISPATCH_ONE_NONBLOCKING {
        return sys::CS_ERR_TRY_AGAIN;
    }
    for event in events {
        fake_trampoline(raw, event);
    }
    sys::CS_OK
}

extern "C" fn fake_trampoline(raw: u64, event: u32) {
    // SAFETY: called by the fake library's dispatch.
    unsafe { run_callback::<FakeLib>(raw, |handle, callbacks| (callbacks.on_event)(handle, event)) }
}

enum FakeLib {}

type OnEvent = Box<dyn FnMut(&FakeHandle, u32) + Send>;

struct FakeCallbacks {
    on_event: OnEvent,
}

// SAFETY: FakeHandle is declared with handle_type!, context_get returns what context_set
// stored, and only run_callback touches the callbacks.
unsafe impl Library for FakeLib {
    type Public = FakeHandle;
    type Callbacks = FakeCallbacks;

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
        // SAFETY: the caller passes a writable c_int.
        unsafe { *fd = 0 };
        sys::CS_OK
    }
    unsafe fn dispatch(
        raw: u64,
        _context: *mut c_void,
        flags: sys::cs_dispatch_flags_t,
    ) -> sys::cs_error_t {
        fake_dispatch(raw, flags)
    }
    unsafe fn context_set(raw: u64, context: *mut c_void) -> sys::cs_error_t {
        with_fake(raw, |f| f.context = context as usize);
        sys::CS_OK
    }
    unsafe fn context_get(raw: u64) -> *mut c_void {
        with_fake(raw, |f| f.context as *mut c_void)
    }
}

handle_type! {
    /// A handle of the fake library.
    pub struct FakeHandle(FakeLib);
    open: "unreachable()";
}

impl FakeHandle {
    fn open(on_event: impl FnMut(&FakeHandle, u32) + Send + 'static) -> FakeHandle {
        let callbacks = FakeCallbacks {
            on_event: Box::new(on_event),
        };
        let handle = crate::handle::Handle::open(callbacks, |_context| {
            let mut raw = 0;
            crate::error::cs_result(fake_initialize(&mut raw)).map(|()| raw)
        })
        .expect("fake open");
        FakeHandle { handle }
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
        handle.dispatch(DispatchFlags::One),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        handle.dispatch(DispatchFlags::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    assert_eq!(
        handle.dispatch(DispatchFlags::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
}

#[test]
fn a_panic_is_resumed_after_the_c_call_and_skips_the_rest() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handle = FakeHandle::open(move |_, event| {
        if event == 2 {
            panic!("callback panicked on {event}");
        }
        sink.lock().unwrap().push(event);
    });
    handle.push(&[1, 2, 3]);
    let payload = catch_unwind(AssertUnwindSafe(|| handle.dispatch(DispatchFlags::All)))
        .expect_err("the panic reaches the caller of dispatch");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("callback panicked on 2")
    );
    // Event 3 came in the same dispatch call after the panic: not delivered.
    assert_eq!(*seen.lock().unwrap(), vec![1]);
    // The handle is usable afterwards.
    handle.push(&[4]);
    assert_eq!(
        handle.dispatch(DispatchFlags::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*seen.lock().unwrap(), vec![1, 4]);
}

#[test]
fn blocking_dispatch_ends_with_a_panic() {
    let handle = FakeHandle::open(|_, event| panic!("stop at {event}"));
    handle.push(&[7]);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        handle.dispatch(DispatchFlags::Blocking)
    }))
    .expect_err("the panic ends the blocking dispatch");
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "stop at 7");
}

#[test]
fn dispatch_from_a_callback_is_refused_and_requests_are_allowed() {
    let answers = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sink = answers.clone();
    let handle = FakeHandle::open(move |handle, _| {
        sink.lock()
            .unwrap()
            .push(handle.dispatch(DispatchFlags::All));
        // Requests (anything taking &self) work from inside a callback.
        let _ = handle.raw();
    });
    handle.push(&[1]);
    handle.dispatch(DispatchFlags::All).unwrap();
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
