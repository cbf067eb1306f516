//! Takes over the cfgs that corosync-sys's build found in the installed headers, so that the
//! safe crate offers exactly what the installed corosync has.

/// Every cfg corosync-sys's build may set (see its build.rs).
pub const CFGS: &[&str] = &[
    "corosync_cfg_node_status",
    "corosync_cfg_link_dynconnected",
    "corosync_votequorum_model",
    "corosync_votequorum_qdevice_extra_info",
];

/// Sets each of [`CFGS`] that corosync-sys's build set. corosync-sys passes them on through
/// its `links` metadata (`DEP_COROSYNC_<CFG>`), which only the build scripts of packages that
/// depend on it directly see. The integration tests' build script uses this function too.
pub fn forward_cfgs() {
    for cfg in CFGS {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        let variable = format!("DEP_COROSYNC_{}", cfg.to_uppercase());
        println!("cargo:rerun-if-env-changed={variable}");
        if std::env::var_os(&variable).is_some() {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

#[allow(dead_code)] // Not called where another build script includes this file.
fn main() {
    forward_cfgs();
    // Where corosync-sys wrote the bindings of this build: the unit tests read every C value
    // from them (see error.rs), without a public item in corosync-sys for it.
    println!("cargo:rerun-if-env-changed=DEP_COROSYNC_BINDINGS");
    if let Some(path) = std::env::var_os("DEP_COROSYNC_BINDINGS") {
        println!(
            "cargo:rustc-env=COROSYNC_SYS_BINDINGS={}",
            path.to_string_lossy()
        );
    }
}
