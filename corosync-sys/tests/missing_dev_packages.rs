//! Without corosync's pkg-config modules the build must stop with one message that names each
//! missing module and the packages that provide it.

use std::path::Path;
use std::process::Command;

#[test]
fn build_without_dev_packages_fails_with_install_hint() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("workspace root");
    // A separate target dir: the outer `cargo test` may hold the lock of the usual one.
    let target = workspace.join("target").join("missing-dev-packages-check");
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["build", "--quiet", "--offline", "-p", "corosync-sys"])
        .env("CARGO_TARGET_DIR", &target)
        // pkg-config finds nothing here, as on a machine without the -dev packages.
        .env("PKG_CONFIG_LIBDIR", "/nonexistent-corosync-sys-check")
        .env_remove("PKG_CONFIG_PATH")
        .env_remove("DOCS_RS")
        .env_remove("COROSYNC_SYS_KEPT_BINDINGS")
        .output()
        .expect("run cargo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the build should fail:\n{stderr}");
    for module in [
        "libcorosync_common",
        "libcmap",
        "libcpg",
        "libvotequorum",
        "libquorum",
        "libcfg",
    ] {
        assert!(
            stderr.contains(&format!("missing pkg-config module `{module}`")),
            "{module} not named:\n{stderr}"
        );
    }
    for hint in [
        "apt-get install libcorosync-common-dev libcmap-dev libcpg-dev",
        "corosynclib-devel",
        "libclang",
    ] {
        assert!(stderr.contains(hint), "hint {hint:?} missing:\n{stderr}");
    }
}
