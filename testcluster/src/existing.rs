//! Existing-daemon mode: one node, reached in the current network namespace.

/// Environment variable that selects existing-daemon mode (`1`, `yes` or `on`): instead of
/// starting daemons, [`Cluster::start(1)`](crate::Cluster::start) returns a one-node cluster
/// whose node is the corosync daemon already running in the process's own network namespace
/// (a corosync container, a CI service container, a daemon started by a script). No privileges
/// are needed.
pub const EXISTING_ENV: &str = "COROSYNC_TESTCLUSTER_EXISTING";

/// Whether [`EXISTING_ENV`] selects existing-daemon mode.
pub(crate) fn enabled() -> bool {
    matches!(
        std::env::var(EXISTING_ENV).as_deref().map(str::trim),
        Ok("1" | "yes" | "on" | "true")
    )
}
