//! What every handle shares for running an event loop: waiting with a timeout, stopping a
//! blocking dispatch, and telling the user that a reconnect may have lost events.

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// A new connection replaced a dead one ([`reconnect`](crate::cpg::Cpg::reconnect) on any
/// handle): events may have been missed between the old connection's death and now, and
/// whatever the daemon kept for the old connection (CPG group membership, cmap tracks,
/// quorum tracking, cfg shutdown tracking) is gone and must be set up again.
///
/// `reconnect` returns it (it is `#[must_use]`), and a handle in pull mode also queues it as
/// its library's `Event::Reconnected`, so that a loop over `next_event` sees the gap where
/// it happened.
///
/// ```no_run
/// use corosync::cpg::{Cpg, GroupName};
/// # fn main() -> corosync::Result<()> {
/// let group = GroupName::new("demo")?;
/// let mut cpg = Cpg::builder().on_deliver(|_, msg| println!("{:?}", msg.data())).build()?;
/// cpg.join(&group)?;
/// // ... the daemon restarts; a call fails with an error that `is_disconnected()` ...
/// let _gap: corosync::Reconnected = cpg.reconnect()?;
/// cpg.join(&group)?; // the new connection is in no group yet
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[must_use = "events may have been missed while the connection was down"]
pub struct Reconnected {}

impl Reconnected {
    pub(crate) fn new() -> Reconnected {
        Reconnected {}
    }
}

/// Which fds [`poll_readable`] found readable, by their index in the list it was given.
///
/// ```no_run
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let cpg = corosync::cpg::Cpg::new()?;
/// let ready = corosync::poll_readable(&[cmap.as_fd(), cpg.as_fd()], Some(Duration::from_secs(1)))?;
/// if ready.is_ready(1) {
///     cpg.dispatch(corosync::DispatchMode::All)?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Readable(u64);

impl Readable {
    /// Whether the fd at `index` is readable (false for an index past the list).
    ///
    /// ```
    /// let ready = corosync::poll_readable(&[], Some(std::time::Duration::ZERO))?;
    /// assert!(!ready.is_ready(0));
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn is_ready(self, index: usize) -> bool {
        index < 64 && self.0 & (1 << index) != 0
    }

    /// Whether any fd is readable; false means the timeout passed.
    ///
    /// ```
    /// let ready = corosync::poll_readable(&[], Some(std::time::Duration::ZERO))?;
    /// assert!(!ready.any());
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn any(self) -> bool {
        self.0 != 0
    }
}

/// The most fds [`poll_readable`] waits for at once.
///
/// ```
/// use std::os::fd::AsFd;
/// let stdin = std::io::stdin();
/// let too_many = vec![stdin.as_fd(); corosync::POLL_MAX_FDS + 1];
/// assert!(corosync::poll_readable(&too_many, None).is_err());
/// ```
pub const POLL_MAX_FDS: usize = 64;

/// Waits until one of `fds` is readable or `timeout` passes (`None`: no limit), with
/// `ppoll(2)`, and says which are readable. This is the crate's one poll: every handle's
/// `wait_readable`, `next_event` and `dispatch_blocking` use it.
///
/// "Readable" is what poll reports as `POLLIN`, `POLLHUP` or `POLLERR`: for a corosync
/// handle, an event waits, or the daemon went away (the next `dispatch` then says so). A
/// signal that interrupts the wait does not end it: the wait goes on for the time that is
/// left (use a [`Stopper`] to end a wait from a signal handler).
///
/// # Errors
/// [`Error::TooLong`](crate::Error::TooLong) for more than [`POLL_MAX_FDS`] fds;
/// [`Error::System`](crate::Error::System) if ppoll fails (e.g. for a closed fd).
///
/// ```no_run
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let stdin = std::io::stdin();
/// let ready = corosync::poll_readable(&[cmap.as_fd(), stdin.as_fd()], None)?;
/// if ready.is_ready(0) {
///     cmap.dispatch(corosync::DispatchMode::All)?;
/// }
/// # Ok(()) }
/// ```
#[doc(alias = "poll")]
#[doc(alias = "ppoll")]
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Result<Readable> {
    if fds.len() > POLL_MAX_FDS {
        return Err(Error::TooLong {
            what: "fd list to poll",
            length: fds.len(),
            max: POLL_MAX_FDS,
        });
    }
    // On the stack: a wait (e.g. every backoff step of `mcast_retrying`) allocates nothing.
    let mut all = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; POLL_MAX_FDS];
    let pollfds = &mut all[..fds.len()];
    for (pollfd, fd) in pollfds.iter_mut().zip(fds) {
        pollfd.fd = fd.as_raw_fd();
        pollfd.events = libc::POLLIN;
    }
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let ts = remaining.map(|left| libc::timespec {
            tv_sec: left.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(left.subsec_nanos() as i32),
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
        // SAFETY: `pollfds` holds `len` valid pollfd entries, `ts_ptr` is null or points to a
        // timespec that lives for the call, and a null signal mask keeps the current one.
        let n = unsafe {
            libc::ppoll(
                pollfds.as_mut_ptr(),
                pollfds.len() as libc::nfds_t,
                ts_ptr,
                std::ptr::null(),
            )
        };
        if n < 0 {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if errno == libc::EINTR {
                continue;
            }
            return Err(Error::System {
                what: "ppoll",
                errno,
            });
        }
        let mut ready = 0u64;
        for (i, pollfd) in pollfds.iter().enumerate() {
            if pollfd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
            {
                ready |= 1 << i;
            }
        }
        return Ok(Readable(ready));
    }
}

/// A way to end a handle's [`dispatch_blocking`](crate::cpg::Cpg::dispatch_blocking) from
/// anywhere: from one of the handle's own callbacks, from another thread, or from a signal
/// handler. Get it with the handle's `stopper()`; it is `Send + Sync + Clone`, and every
/// clone stops the same handle.
///
/// [`stop`](Stopper::stop) sets a flag and writes to an eventfd that `dispatch_blocking`
/// polls beside the connection's fd; both are async-signal-safe, so `stop` may be called
/// from a signal handler. A stop requested while no `dispatch_blocking` runs ends the next
/// one at once (so a SIGTERM that arrives just before the loop starts is not lost). A stop
/// is consumed by the `dispatch_blocking` it ends; stops requested before a loop notices
/// them count as one.
///
/// ```no_run
/// use std::sync::OnceLock;
/// use corosync::{cpg::Cpg, Stopper};
///
/// static STOP: OnceLock<Stopper> = OnceLock::new();
///
/// extern "C" fn on_sigterm(_signal: libc::c_int) {
///     // OnceLock::get is an atomic load and Stopper::stop a store and a write(2).
///     if let Some(stopper) = STOP.get() {
///         stopper.stop();
///     }
/// }
///
/// # fn main() -> corosync::Result<()> {
/// let cpg = Cpg::builder().on_deliver(|cpg, msg| {
///     if msg.data() == b"quit" {
///         // From a callback: the loop ends before the next event.
///         cpg.stopper().expect("an eventfd").stop();
///     }
/// }).build()?;
/// let _ = STOP.set(cpg.stopper()?);
/// // SAFETY: the handler only calls async-signal-safe code (see above).
/// unsafe { libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t) };
/// // From another thread:
/// let stopper = cpg.stopper()?;
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(60));
///     stopper.stop();
/// });
/// cpg.dispatch_blocking()?; // returns Ok(Stopped) after the first of the three stops
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Stopper(Arc<StopSignal>);

#[derive(Debug)]
struct StopSignal {
    requested: AtomicBool,
    eventfd: OwnedFd,
}

impl Stopper {
    /// A new stopper with its own eventfd.
    pub(crate) fn new() -> Result<Stopper> {
        // SAFETY: eventfd takes no pointers; the result is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(Error::System {
                what: "eventfd",
                errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            });
        }
        // SAFETY: `fd` is a new fd that nothing else owns.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Stopper(Arc::new(StopSignal {
            requested: AtomicBool::new(false),
            eventfd,
        })))
    }

    /// Asks the handle's `dispatch_blocking` to return `Ok(Stopped)`: the one running now
    /// (after the callback that is running, if any), or else the next one. Async-signal-safe.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// let stopper = cmap.stopper()?;
    /// stopper.stop();
    /// cmap.dispatch_blocking()?; // returns at once
    /// # Ok(()) }
    /// ```
    pub fn stop(&self) {
        self.0.requested.store(true, Ordering::SeqCst);
        let one: u64 = 1;
        // An eventfd write only fails when the counter would overflow, which leaves the fd
        // readable anyway.
        // SAFETY: writes 8 bytes from a live u64 to an fd the stopper owns.
        let _ = unsafe {
            libc::write(
                self.0.eventfd.as_raw_fd(),
                (&one as *const u64).cast::<c_void>(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    /// Whether a stop is requested and not yet consumed.
    pub(crate) fn is_requested(&self) -> bool {
        self.0.requested.load(Ordering::SeqCst)
    }

    /// Consumes a requested stop (true if there was one) and empties the eventfd.
    pub(crate) fn take(&self) -> bool {
        let requested = self.0.requested.swap(false, Ordering::SeqCst);
        let mut count: u64 = 0;
        // Nonblocking: EAGAIN when empty, which is fine. A stop after the swap above sets
        // the flag again, so emptying the fd never loses it.
        // SAFETY: reads 8 bytes into a live u64 from an fd the stopper owns.
        let _ = unsafe {
            libc::read(
                self.0.eventfd.as_raw_fd(),
                (&mut count as *mut u64).cast::<c_void>(),
                std::mem::size_of::<u64>(),
            )
        };
        requested
    }
}

/// The stopper's eventfd, readable while a stop is pending.
impl AsFd for Stopper {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.eventfd.as_fd()
    }
}

/// What `dispatch_blocking` returns when a [`Stopper`] ended it: the loop has no other way to
/// succeed (the daemon going away is an error).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// cmap.stopper()?.stop();
/// let corosync::Stopped { .. } = cmap.dispatch_blocking()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stopped {}

impl Stopped {
    pub(crate) fn new() -> Stopped {
        Stopped {}
    }
}
