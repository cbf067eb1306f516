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
