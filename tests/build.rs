//! Takes over the cfgs that corosync-sys's build found in the installed headers, as the safe
//! crate's build script does (whose code this is), so that a test of API that only some
//! corosync releases have is built exactly when the crates offer that API.

#[path = "../corosync/build.rs"]
mod corosync_build;

fn main() {
    corosync_build::forward_cfgs();
}
