//! Shutdown requests: what is asked, and what a tracker answers.

use corosync_sys as sys;

#[cfg(doc)]
use super::Cfg;

/// What a shutdown request asks for: the flags of [`Cfg::try_shutdown`], which trackers'
/// callbacks receive too (C: `corosync_cfg_shutdown_flags_t`).
///
/// ```
/// use corosync::cfg::ShutdownFlags;
/// let flags = ShutdownFlags::Regardless;
/// assert_ne!(flags, ShutdownFlags::Request);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownFlags {
    /// Shut down only if every tracker agrees (`COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST`).
    Request,
    /// Ask the trackers, but shut down whatever they answer
    /// (`COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS`).
    Regardless,
    /// Shut down without asking (`COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE`); trackers' callbacks
    /// never see this value.
    Immediate,
    /// A value this build does not know, as a callback may receive from a client that sent a
    /// raw number. The daemon treats such a request like [`ShutdownFlags::Request`].
    Other(u32),
}

impl ShutdownFlags {
    pub(super) fn from_raw(raw: sys::corosync_cfg_shutdown_flags_t) -> ShutdownFlags {
        match raw {
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST => ShutdownFlags::Request,
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS => ShutdownFlags::Regardless,
            sys::COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE => ShutdownFlags::Immediate,
            other => ShutdownFlags::Other(other),
        }
    }

    pub(super) fn to_raw(self) -> sys::corosync_cfg_shutdown_flags_t {
        match self {
            ShutdownFlags::Request => sys::COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST,
            ShutdownFlags::Regardless => sys::COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS,
            ShutdownFlags::Immediate => sys::COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE,
            ShutdownFlags::Other(raw) => raw,
        }
    }
}

/// A tracker's answer to a shutdown request (C: `corosync_cfg_shutdown_reply_flags_t`).
///
/// ```
/// use corosync::cfg::ShutdownReply;
/// assert_ne!(ShutdownReply::Yes, ShutdownReply::No);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownReply {
    /// Veto the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_NO`).
    No,
    /// Agree to the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_YES`).
    Yes,
}

impl ShutdownReply {
    pub(super) fn to_raw(self) -> sys::corosync_cfg_shutdown_reply_flags_t {
        match self {
            ShutdownReply::No => sys::COROSYNC_CFG_SHUTDOWN_FLAG_NO,
            ShutdownReply::Yes => sys::COROSYNC_CFG_SHUTDOWN_FLAG_YES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_flags_round_trip() {
        for flags in [
            ShutdownFlags::Request,
            ShutdownFlags::Regardless,
            ShutdownFlags::Immediate,
            ShutdownFlags::Other(77),
        ] {
            assert_eq!(ShutdownFlags::from_raw(flags.to_raw()), flags);
        }
        assert_eq!(ShutdownFlags::from_raw(1), ShutdownFlags::Regardless);
        assert_eq!(ShutdownReply::Yes.to_raw(), 1);
        assert_eq!(ShutdownReply::No.to_raw(), 0);
    }
}
