//! Takes over the cfgs that corosync-sys's build found in the installed headers, so that the
//! safe crate offers exactly what the installed corosync has.

fn main() {
    for cfg in [
        "corosync_cfg_node_status",
        "corosync_cfg_link_dynconnected",
        "corosync_votequorum_model",
        "corosync_votequorum_qdevice_extra_info",
    ] {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        let variable = format!("DEP_COROSYNC_{}", cfg.to_uppercase());
        println!("cargo:rerun-if-env-changed={variable}");
        if std::env::var_os(&variable).is_some() {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
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
