//! The owned events of a [`Cfg`](super::Cfg) handle in pull mode.

use super::ShutdownMode;

/// One event of a [`Cfg`](super::Cfg) handle, owned: what
/// [`Cfg::next_event`](super::Cfg::next_event) returns. The shutdown request's only data,
/// its [`ShutdownMode`], is already owned.
///
/// ```no_run
/// use corosync::cfg::{Cfg, Event, ShutdownReply};
/// let cfg = Cfg::pull()?;
/// cfg.track_start(corosync::TrackFlags::CHANGES)?;
/// if let Some(Event::ShutdownRequest(flags)) = cfg.next_event(None)? {
///     println!("shutdown requested: {flags:?}");
///     cfg.reply_to_shutdown(ShutdownReply::Yes)?;
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// Someone asked the daemon to shut down; answer with
    /// [`Cfg::reply_to_shutdown`](super::Cfg::reply_to_shutdown).
    ShutdownRequest(ShutdownMode),
    /// The handle was reconnected ([`Cfg::reconnect`](super::Cfg::reconnect)): events may
    /// have been missed, and [`Cfg::track_start`](super::Cfg::track_start) must be called
    /// again.
    Reconnected(crate::Reconnected),
}
