//! Plumbing shared by the integration tests that record client notifications: a log the
//! callbacks push owned copies into, a wait for handle fds to become readable, and a loop
//! that dispatches a handle until the recorded events satisfy a condition.

use std::fmt::Debug;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The events a handle's callbacks have recorded, in arrival order, shared between the
/// callbacks (which push) and the test (which reads).
pub type EventLog<E> = Arc<Mutex<Vec<E>>>;

/// Waits with poll(2) until one of `fds` is readable or `timeout` passes; returns whether any
/// is.
///
/// "Readable" is what poll(2) reports for `POLLIN`: data waits, or the fd is hung up or in
/// error (a read would not block). A poll interrupted by a signal (`EINTR`) is retried for
/// the rest of `timeout`. Any other poll failure counts as not readable.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Duration) -> bool {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `pollfds` is a valid, exclusively borrowed array of `pollfds.len()` pollfd
        // structures for the duration of the call, and each fd is kept open by its
        // `BorrowedFd` in `fds`.
        let ready =
            unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, millis) };
        if ready >= 0 {
            return ready > 0;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// Dispatches `handle` until `done` holds for the events recorded in `log` after the first
/// `from`, and returns those events.
///
/// Each round copies `log[from..]` and returns it if `done` accepts it; otherwise, once
/// `timeout` has passed since the call, it panics with "timed out waiting for {what}" and
/// the events so far; otherwise it waits up to 200 ms for the handle's fd to become readable
/// ([`wait_readable`]) and calls `dispatch(handle)`, panicking if that fails.
///
/// `dispatch` is typically `|h| h.dispatch(DispatchMode::All)`.
pub fn pump<H: AsFd, T, Er: Debug, E: Clone + Debug>(
    handle: &H,
    mut dispatch: impl FnMut(&H) -> Result<T, Er>,
    log: &EventLog<E>,
    from: usize,
    what: &str,
    timeout: Duration,
    done: impl Fn(&[E]) -> bool,
) -> Vec<E> {
    let deadline = Instant::now() + timeout;
    loop {
        let events = log.lock().unwrap()[from..].to_vec();
        if done(&events) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; events so far: {events:#?}"
        );
        wait_readable(&[handle.as_fd()], Duration::from_millis(200));
        dispatch(handle).expect("dispatch");
    }
}

/// How many events `log` holds so far (a mark to pass to [`pump`] as `from`).
pub fn log_len<E>(log: &EventLog<E>) -> usize {
    log.lock().unwrap().len()
}
