//! The connection every async handle shares: one sync handle in pull mode behind a mutex,
//! its fd registered with tokio, a bounded queue, and the waits of senders and receivers.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::os::fd::{AsFd, OwnedFd};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use ::tokio::io::Interest;
use ::tokio::sync::futures::Notified;
use ::tokio::sync::Notify;

use crate::{Error, Reconnected, Result};

/// A sync handle in pull mode that an async handle wraps.
pub(crate) trait PullHandle: AsFd + Send + 'static {
    /// The library's owned event.
    type Event: Send + 'static;
    /// What was set up through the async handle and is set up again after a reconnect.
    type Setup: Setup;

    fn try_next_event(&self) -> Result<Option<Self::Event>>;
    fn reconnect(&mut self) -> Result<Reconnected>;
    /// Sets `setup` up again on a new connection; may be called again after a `TryAgain`.
    fn restore(&mut self, setup: &mut Self::Setup) -> Result<()>;
}

/// What an async handle set up on its connection, to set up again after a reconnect.
pub(crate) trait Setup: Default + Send + 'static {
    /// Called after a reconnect finalized the old connection: drop what belonged to it.
    fn forget_finalized(&mut self) {}
}

impl<T: Send + 'static> Setup for Option<T> {}

/// How many events the connection's queue holds at most (see the module docs).
pub(crate) const DEFAULT_CAPACITY: usize = 1024;

/// The first and the longest fallback wait of a send under flow control.
const RETRY_MIN: Duration = Duration::from_millis(1);
const RETRY_MAX: Duration = Duration::from_millis(16);

/// How long `reconnect` keeps restoring while the daemon answers `TryAgain`.
const RESTORE_PATIENCE: Duration = Duration::from_secs(10);

pub(crate) struct Inner<H: PullHandle> {
    pub(crate) handle: H,
    pub(crate) setup: H::Setup,
    /// The registration of (a duplicate of) the connection's fd, made on first use inside a
    /// runtime and again after a reconnect.
    registration: Option<Arc<AsyncFd<OwnedFd>>>,
    /// Events taken from the connection by a sender but not yet by a receiver.
    queue: VecDeque<H::Event>,
    /// Set when the connection died (or is being replaced): every request, receive and
    /// send answers this error until a reconnect succeeds.
    dead: Option<Error>,
}

impl<H: PullHandle> Inner<H> {
    /// Records an error of the connection; a disconnected error marks it dead.
    fn note(&mut self, err: Error, notify: &Notify) -> Error {
        if err.is_disconnected() && self.dead.is_none() {
            self.dead = Some(err.clone());
            notify.notify_waiters();
        }
        err
    }

    /// The error of a dead connection.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.dead {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    /// The registration, made now if needed.
    fn registration(&mut self) -> Result<Arc<AsyncFd<OwnedFd>>> {
        if let Some(registration) = &self.registration {
            return Ok(registration.clone());
        }
        let registration = Arc::new(register(&self.handle)?);
        self.registration = Some(registration.clone());
        Ok(registration)
    }
}

/// Registers a duplicate of `handle`'s fd with the current runtime's reactor.
///
/// The duplicate (`dup`) refers to the same socket as libqb's fd, so it becomes readable
/// exactly when libqb's does: when an event waits, and (POLLHUP) when the daemon went away.
/// Owning a duplicate rather than registering libqb's fd number makes the registration
/// independent of libqb's fd: libqb keeps its fd open until finalize, even after the daemon
/// died (FINDINGS.md, "A connection's fd outlives the daemon until finalize"), but a
/// reconnect finalizes the old connection while tasks may still wait on the old
/// registration. With libqb's number, that fd could be closed and the number reused by
/// another file before the old registration is dropped, and tokio's deregistration would
/// then remove the wrong file from epoll. The duplicate is closed only when the last waiter
/// drops its registration (a reconnect wakes them all at once).
fn register(handle: &impl AsFd) -> Result<AsyncFd<OwnedFd>> {
    let system = |what| {
        move |err: std::io::Error| Error::System {
            what,
            errno: err.raw_os_error().unwrap_or(0),
        }
    };
    // `as_fd` borrows libqb's fd, which is open while the handle lives (libqb closes it only
    // in finalize); the duplicate is ours.
    let fd = handle.as_fd().try_clone_to_owned().map_err(system("dup"))?;
    // SAFETY: the AsyncFd owns `fd`, an OwnedFd: it stays open, and `as_raw_fd` returns the
    // same number, until the AsyncFd drops it (after deregistering), whatever happens to
    // libqb's own fd or the connection (see above).
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(|err| system("register the corosync fd with tokio")(err.into()))
}

/// One connection, shared by the clones of an async handle and their streams.
pub(crate) struct Conn<H: PullHandle> {
    inner: Mutex<Inner<H>>,
    /// Woken when a sender queued events, when a receiver made room in a full queue, when
    /// the connection died and after a reconnect.
    notify: Notify,
    capacity: usize,
}

/// What woke a wait.
enum Woken<'a> {
    Readable(AsyncFdReadyGuard<'a, OwnedFd>),
    Other,
}

/// Waits for the fd (if given) to be readable, for `notified`, or for `timer` (if given).
async fn wait<'a>(
    fd: Option<&'a AsyncFd<OwnedFd>>,
    notified: Pin<&mut Notified<'_>>,
    timer: Option<Duration>,
) -> Result<Woken<'a>> {
    let mut notified = notified;
    let mut readable = pin!(async {
        match fd {
            Some(fd) => fd.readable().await,
            None => std::future::pending().await,
        }
    });
    let mut sleep = pin!(async {
        match timer {
            Some(timer) => ::tokio::time::sleep(timer).await,
            None => std::future::pending().await,
        }
    });
    poll_fn(|cx: &mut Context<'_>| {
        if let Poll::Ready(ready) = readable.as_mut().poll(cx) {
            return Poll::Ready(ready.map(Woken::Readable).map_err(|err| Error::System {
                what: "wait for the corosync fd",
                errno: err.raw_os_error().unwrap_or(0),
            }));
        }
        if notified.as_mut().poll(cx).is_ready() || sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(Woken::Other));
        }
        Poll::Pending
    })
    .await
}

impl<H: PullHandle> Conn<H> {
    pub(crate) fn new(handle: H, capacity: usize) -> Arc<Conn<H>> {
        Arc::new(Conn {
            inner: Mutex::new(Inner {
                handle,
                setup: H::Setup::default(),
                registration: None,
                queue: VecDeque::new(),
                dead: None,
            }),
            notify: Notify::new(),
            capacity: capacity.max(1),
        })
    }

    /// The connection's state. The lock is never held across an await: every method takes
    /// it for one synchronous step.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner<H>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one request on the handle: refused with the connection's error when it is dead;
    /// a disconnected error marks it dead.
    pub(crate) fn request<R>(&self, f: impl FnOnce(&mut Inner<H>) -> Result<R>) -> Result<R> {
        let mut inner = self.lock();
        inner.check()?;
        f(&mut inner).map_err(|err| inner.note(err, &self.notify))
    }

    /// Puts `event` at the front of the queue.
    pub(crate) fn push_front(&self, event: H::Event) {
        self.lock().queue.push_front(event);
    }

    /// A receiver's step without waiting: a queued event, else one dispatched now.
    pub(crate) fn try_take(&self) -> Result<Option<H::Event>> {
        let mut inner = self.lock();
        if let Some(event) = inner.queue.pop_front() {
            if inner.queue.len() + 1 == self.capacity {
                // Senders waiting for room may dispatch again.
                self.notify.notify_waiters();
            }
            return Ok(Some(event));
        }
        inner.check()?;
        inner
            .handle
            .try_next_event()
            .map_err(|err| inner.note(err, &self.notify))
    }

    /// The next event, waiting for it.
    pub(crate) async fn next_event(&self) -> Result<H::Event> {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            if let Some(event) = self.try_take()? {
                return Ok(event);
            }
            let fd = self.lock().registration()?;
            if let Woken::Readable(mut guard) = wait(Some(&fd), notified, None).await? {
                // Ready: try again under the guard; clear the readiness only when the
                // connection had nothing (readiness that came after the guard stays).
                if let Some(event) = self.try_take()? {
                    return Ok(event);
                }
                guard.clear_ready();
            }
        }
    }

    /// A sender's step after `TryAgain`: dispatches pending events into the queue while it
    /// has room. True when the connection had nothing more (its fd is drained), false when
    /// the queue is full.
    fn pump(&self, inner: &mut Inner<H>) -> Result<bool> {
        let mut queued = false;
        let drained = loop {
            if inner.queue.len() >= self.capacity {
                break false;
            }
            match inner.handle.try_next_event() {
                Ok(Some(event)) => {
                    inner.queue.push_back(event);
                    queued = true;
                }
                Ok(None) => break true,
                Err(err) => return Err(inner.note(err, &self.notify)),
            }
        };
        if queued {
            // A receiver waiting for readiness would not see these.
            self.notify.notify_waiters();
        }
        Ok(drained)
    }

    /// Runs `send` until the daemon accepts it, waiting out `TryAgain` (see the module
    /// docs). Each try is one C call, made with the lock held and finished before the lock
    /// is released; between tries nothing is held but wait registrations.
    /// Returns how many times the daemon answered `TryAgain`.
    pub(crate) async fn send(&self, mut send: impl FnMut(&H) -> Result<()>) -> Result<u32> {
        // Other tasks first (a receiver taking deliveries): a send that the daemon accepts at
        // once never waits, so a sending loop would otherwise keep a current-thread runtime's
        // receiver from running until flow control stops it. Yielding before the send, not
        // after, keeps the future cancellation safe: dropped here, it has sent nothing.
        ::tokio::task::yield_now().await;
        let mut retry = RETRY_MIN;
        let mut try_again = 0u32;
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            let (fd, drained) = {
                let mut inner = self.lock();
                inner.check()?;
                match send(&inner.handle) {
                    Err(Error::TryAgain) => try_again = try_again.saturating_add(1),
                    Ok(()) => return Ok(try_again),
                    Err(err) => return Err(inner.note(err, &self.notify)),
                }
                let drained = self.pump(&mut inner)?;
                (inner.registration()?, drained)
            };
            // While the queue is full, the fd may stay readable: wait for room, not for it.
            let readable = drained.then_some(&*fd);
            if let Woken::Readable(mut guard) = wait(readable, notified, Some(retry)).await? {
                let drained = {
                    let mut inner = self.lock();
                    inner.check()?;
                    self.pump(&mut inner)?
                };
                if drained {
                    guard.clear_ready();
                }
            }
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// Replaces the connection and sets up again what was set up through the async handle.
    pub(crate) async fn reconnect(&self) -> Result<Reconnected> {
        let gap = {
            let mut inner = self.lock();
            // On error the old connection (and its state) is left as it was.
            let gap = inner.handle.reconnect()?;
            // Until the setup is restored, requests fail as on a dead connection.
            if inner.dead.is_none() {
                inner.dead = Some(Error::Library { errno: 0 });
            }
            inner.setup.forget_finalized();
            // The old registration goes with its last waiter; they are all woken below.
            inner.registration = None;
            gap
        };
        self.notify.notify_waiters();
        let deadline = ::tokio::time::Instant::now() + RESTORE_PATIENCE;
        let mut retry = RETRY_MIN;
        loop {
            let result = {
                let mut inner = self.lock();
                let Inner { handle, setup, .. } = &mut *inner;
                let result = handle.restore(setup);
                if result.is_ok() {
                    inner.dead = None;
                }
                result
            };
            match result {
                Ok(()) => {
                    self.notify.notify_waiters();
                    return Ok(gap);
                }
                Err(Error::TryAgain) if ::tokio::time::Instant::now() < deadline => {
                    ::tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RETRY_MAX);
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// A connection seen from a stream, whatever its library.
pub(crate) trait Source<E>: Send + Sync {
    fn try_take(&self) -> Result<Option<E>>;
    fn next_boxed(self: Arc<Self>) -> Pin<Box<dyn Future<Output = Result<E>> + Send>>;
}

impl<H: PullHandle> Source<H::Event> for Conn<H> {
    fn try_take(&self) -> Result<Option<H::Event>> {
        Conn::try_take(self)
    }

    fn next_boxed(self: Arc<Self>) -> Pin<Box<dyn Future<Output = Result<H::Event>> + Send>> {
        Box::pin(async move { self.next_event().await })
    }
}
