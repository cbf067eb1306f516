//! Shutdown requests: what is asked, and what a tracker answers.

use corosync_sys as sys;

use crate::c_enum::c_enum;

#[cfg(doc)]
use super::Cfg;

c_enum! {
    /// What a shutdown request asks for: the flags of [`Cfg::try_shutdown`], which trackers'
    /// callbacks receive too (C: `corosync_cfg_shutdown_flags_t`).
    ///
    /// A callback may receive a value this build does not know from a client that sent a raw
    /// number ([`ShutdownFlags::Unknown`]); the daemon treats such a request like
    /// [`ShutdownFlags::Request`].
    ///
    /// ```
    /// use corosync::cfg::ShutdownFlags;
    /// let flags = ShutdownFlags::Regardless;
    /// assert_ne!(flags, ShutdownFlags::Request);
    /// assert_eq!(flags.to_string(), "regardless");
    /// ```
    #[non_exhaustive]
    pub enum ShutdownFlags: u32;
    path: "corosync::cfg::ShutdownFlags";
    /// Shut down only if every tracker agrees (`COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST`).
    Request = sys::COROSYNC_CFG_SHUTDOWN_FLAG_REQUEST => "request",
    /// Ask the trackers, but shut down whatever they answer
    /// (`COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS`).
    Regardless = sys::COROSYNC_CFG_SHUTDOWN_FLAG_REGARDLESS => "regardless",
    /// Shut down without asking (`COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE`); trackers' callbacks
    /// never see this value.
    Immediate = sys::COROSYNC_CFG_SHUTDOWN_FLAG_IMMEDIATE => "immediate",
}

c_enum! {
    /// A tracker's answer to a shutdown request (C: `corosync_cfg_shutdown_reply_flags_t`).
    ///
    /// ```
    /// use corosync::cfg::ShutdownReply;
    /// assert_ne!(ShutdownReply::Yes, ShutdownReply::No);
    /// assert_eq!(ShutdownReply::Yes.to_string(), "yes");
    /// ```
    pub enum ShutdownReply: sys::corosync_cfg_shutdown_reply_flags_t;
    path: "corosync::cfg::ShutdownReply";
    no_unknown;
    /// Veto the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_NO`).
    No = sys::COROSYNC_CFG_SHUTDOWN_FLAG_NO => "no",
    /// Agree to the shutdown (`COROSYNC_CFG_SHUTDOWN_FLAG_YES`).
    Yes = sys::COROSYNC_CFG_SHUTDOWN_FLAG_YES => "yes",
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
            ShutdownFlags::Unknown(77),
        ] {
            assert_eq!(ShutdownFlags::from(flags.raw()), flags);
        }
        assert_eq!(ShutdownFlags::from(1), ShutdownFlags::Regardless);
        assert_eq!(ShutdownReply::Yes.raw(), 1);
        assert_eq!(ShutdownReply::No.raw(), 0);
    }
}
