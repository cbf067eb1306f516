//! The stream of owned events every async handle hands out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::conn::Source;
use crate::Result;

/// A stream of one connection's owned events (`futures_core::Stream<Item = Result<E>>`),
/// from the `events()` of an async handle, e.g. [`Cpg::events`](super::Cpg::events).
///
/// - Events are handed out once: several streams (or `next_event` calls) on the same
///   connection share its events between them, each event going to one of them.
/// - The stream keeps the connection open, like a clone of its handle.
/// - After an error the stream ends (`None`): when the daemon went away it yields the
///   disconnected error ([`Error::is_disconnected`](crate::Error::is_disconnected)) once,
///   then ends. A stream made, or polled, after the connection died yields that error at
///   once, never waits. After [`reconnect`](super::Cpg::reconnect), take a new stream.
/// - Dropping the stream drops no event: events the connection had already queued stay
///   queued for the next stream or `next_event` of any clone, and are dropped only with
///   the last clone of the handle and its last stream.
/// - It is cancellation safe: an event is taken from the connection and returned in the
///   same poll.
///
/// ```no_run
/// use futures_core::Stream;
/// use corosync::tokio::Cpg;
/// # async fn example() -> corosync::Result<()> {
/// let cpg = Cpg::open()?;
/// let mut events = cpg.events();
/// // With any `StreamExt` (futures, tokio-stream), or by hand:
/// let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut events).poll_next(cx)).await;
/// println!("{next:?}");
/// # Ok(()) }
/// ```
pub struct EventStream<E> {
    source: Arc<dyn Source<E>>,
    /// A wait in progress; boxed only when the connection had nothing at once.
    pending: Option<Pin<Box<dyn Future<Output = Result<E>> + Send>>>,
    done: bool,
}

impl<E> EventStream<E> {
    pub(crate) fn new(source: Arc<dyn Source<E>>) -> EventStream<E> {
        EventStream {
            source,
            pending: None,
            done: false,
        }
    }
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("waiting", &self.pending.is_some())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<E> futures_core::Stream for EventStream<E> {
    type Item = Result<E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<E>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let result = match &mut this.pending {
            Some(pending) => match pending.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    this.pending = None;
                    result
                }
                Poll::Pending => return Poll::Pending,
            },
            None => match this.source.try_take() {
                Ok(Some(event)) => Ok(event),
                Err(err) => Err(err),
                Ok(None) => {
                    let mut pending = this.source.clone().next_boxed();
                    match pending.as_mut().poll(cx) {
                        Poll::Ready(result) => result,
                        Poll::Pending => {
                            this.pending = Some(pending);
                            return Poll::Pending;
                        }
                    }
                }
            },
        };
        this.done = result.is_err();
        Poll::Ready(Some(result))
    }
}

impl<E> futures_core::FusedStream for EventStream<E> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::task::{Wake, Waker};

    use futures_core::{FusedStream, Stream};

    use super::*;
    use crate::Error;

    /// A source that hands out scripted answers; `None` in the script means "nothing yet",
    /// which makes the stream box a wait that answers with the next scripted item.
    struct Script(Mutex<VecDeque<Option<Result<u32>>>>);

    impl Source<u32> for Script {
        fn try_take(&self) -> Result<Option<u32>> {
            match self.0.lock().unwrap().pop_front() {
                Some(Some(result)) => result.map(Some),
                _ => Ok(None),
            }
        }

        fn next_boxed(self: Arc<Self>) -> Pin<Box<dyn Future<Output = Result<u32>> + Send>> {
            let next = self.0.lock().unwrap().pop_front().flatten();
            Box::pin(async move { next.unwrap_or(Err(Error::TryAgain)) })
        }
    }

    /// A waker that does nothing (`Waker::noop` needs Rust 1.85).
    struct Noop;

    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn poll(stream: &mut EventStream<u32>) -> Poll<Option<Result<u32>>> {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        Pin::new(stream).poll_next(&mut cx)
    }

    #[test]
    fn hands_out_events_then_ends_after_an_error() {
        let script = Script(Mutex::new(VecDeque::from([
            Some(Ok(1)),
            None,
            Some(Ok(2)),
            Some(Err(Error::Library { errno: 0 })),
            Some(Ok(3)),
        ])));
        let mut stream = EventStream::new(Arc::new(script));
        assert_eq!(poll(&mut stream), Poll::Ready(Some(Ok(1))));
        // Nothing at once: the boxed wait answers.
        assert_eq!(poll(&mut stream), Poll::Ready(Some(Ok(2))));
        assert!(!stream.is_terminated());
        assert_eq!(
            poll(&mut stream),
            Poll::Ready(Some(Err(Error::Library { errno: 0 })))
        );
        assert!(stream.is_terminated());
        // Ended for good, even though the source has more.
        assert_eq!(poll(&mut stream), Poll::Ready(None));
        assert_eq!(poll(&mut stream), Poll::Ready(None));
    }
}
