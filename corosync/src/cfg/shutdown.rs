//! Shutdown requests: what is asked, and what a tracker answers.

use corosync_sys as sys;

use crate::c_enum::c_enum;

#[cfg(doc)]
use super::Cfg;

c_enum! {
    /// What a shutdown request asks for: the mode of [`Cfg::try_shutdown`], which trackers'
    /// callbacks receive too (C: `corosync_cfg_shutdown_flags_t`).
    ///
    /// A callback may receive a value this build does not know from a client that sent a raw
    /// number ([`ShutdownMode::Unknown`]); the daemon treats such a request like
    /// [`ShutdownMode::Request`].
    ///
    /// ```
    /// use corosync::cfg::ShutdownMode;
    /// let mode = ShutdownMode::Regardless;
    /// assert_ne!(mode, ShutdownMode::Request);
    /// assert_eq!(mode.to_string(), "regardless");
    /// ```
    #[non_exhaustive]
    #[doc(alias = "corosync_cfg_shutdown_flags_t", alias = "ShutdownFlags")]
    pub enum ShutdownMode: u32;
    path: "corosync::cfg::ShutdownMode";
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
            ShutdownMode::Request,
            ShutdownMode::Regardless,
            ShutdownMode::Immediate,
            ShutdownMode::Unknown(77),
        ] {
            assert_eq!(ShutdownMode::from(flags.raw()), flags);
        }
        assert_eq!(ShutdownMode::from(1), ShutdownMode::Regardless);
        assert_eq!(ShutdownReply::Yes.raw(), 1);
        assert_eq!(ShutdownReply::No.raw(), 0);
    }
}
