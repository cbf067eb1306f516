//! Takes over the cfgs that corosync-sys's build found in the installed headers, so that the
//! safe crate offers exactly what the installed corosync has.

fn main() {
    for cfg in ["corosync_cfg_node_status", "corosync_cfg_link_dynconnected"] {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        let variable = format!("DEP_COROSYNC_{}", cfg.to_uppercase());
        println!("cargo:rerun-if-env-changed={variable}");
        if std::env::var_os(&variable).is_some() {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
