//! Against a corosync older than the oldest supported release the build must stop with one
//! message that names each library that is too old, the version found and what it lacks.

use std::path::Path;
use std::process::Command;

#[test]
fn build_against_corosync_3_0_fails_with_the_supported_releases() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("workspace root");
    // The target dir of the missing-packages check: bindgen is built there once for both.
    let target = workspace.join("target").join("missing-dev-packages-check");
    // pkg-config modules of a corosync 3.0.4 (only the .pc files: the build stops before any
    // header is read).
    let pc_dir = target.join("corosync-3.0.4-pkgconfig");
    std::fs::create_dir_all(&pc_dir).unwrap();
    for module in [
        "libcorosync_common",
        "libcmap",
        "libcpg",
        "libvotequorum",
        "libquorum",
        "libcfg",
    ] {
        std::fs::write(
            pc_dir.join(format!("{module}.pc")),
            format!(
                "Name: {module}\nDescription: corosync 3.0.4\nVersion: 3.0.4\nLibs: -l{}\n",
                module.trim_start_matches("lib")
            ),
        )
        .unwrap();
    }
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["build", "--quiet", "--offline", "-p", "corosync-sys"])
        .env("CARGO_TARGET_DIR", &target)
        .env("PKG_CONFIG_LIBDIR", &pc_dir)
        .env_remove("PKG_CONFIG_PATH")
        .env_remove("DOCS_RS")
        .env_remove("COROSYNC_SYS_KEPT_BINDINGS")
        .output()
        .expect("run cargo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the build should fail:\n{stderr}");
    for text in [
        "This crate supports corosync 3.1.0 and later (3.1.1 with the `cfg` feature)",
        "pkg-config found `libquorum` 3.0.4; it needs corosync 3.1.0 or later \
         (quorum_model_initialize came with 3.1.0)",
        "pkg-config found `libcfg` 3.0.4; it needs corosync 3.1.1 or later",
        "Without the `cfg` feature",
    ] {
        assert!(stderr.contains(text), "{text:?} missing:\n{stderr}");
    }
    assert!(
        !stderr.contains("missing pkg-config module"),
        "an old corosync is not a missing one:\n{stderr}"
    );
}
