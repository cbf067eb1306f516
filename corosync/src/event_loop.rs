//! What every handle shares for running an event loop: waiting with a timeout, stopping a
//! blocking dispatch, and telling the user that a reconnect may have lost events.

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
    #[allow(dead_code)] // used by `reconnect`, which comes in the next commit
    pub(crate) fn new() -> Reconnected {
        Reconnected {}
    }
}
