//! Takes over the cfgs that corosync-sys's build found in the installed headers, as the safe
//! crate's build script does (whose code this is), so that the tools offer what corosync's own
//! tools of that release offer (quorumtool's extra-info options after 3.1.10).

#[path = "../corosync/build.rs"]
mod corosync_build;

fn main() {
    corosync_build::forward_cfgs();
}
