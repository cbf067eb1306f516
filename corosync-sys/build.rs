//! Finds corosync's client libraries with pkg-config and generates their bindings with bindgen.
//!
//! Environment:
//! - `DOCS_RS`: no probing; the bindings kept in `src/bindings_3_1_1.rs` are used instead.
//! - `COROSYNC_SYS_KEPT_BINDINGS`: the same on purpose, for builds without headers.
//!
//! The oldest corosync each library needs is checked with pkg-config (see [`Library::since`]).

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

/// One client library: its cargo feature, pkg-config module and header.
struct Library {
    feature: &'static str,
    pkg_config: &'static str,
    header: &'static str,
    /// Prefixes of the C names that belong to this library (functions, types, constants).
    prefixes: &'static [&'static str],
    /// The oldest corosync release whose header has everything the safe crate uses.
    since: &'static str,
    /// What that release brought, for the error message on an older one.
    why: &'static str,
}

const COMMON: Library = Library {
    feature: "",
    pkg_config: "libcorosync_common",
    header: "corosync/corotypes.h",
    prefixes: &["cs_", "CS_"],
    since: OLDEST_SUPPORTED,
    why: "the oldest release the crates support",
};

const LIBRARIES: &[Library] = &[
    Library {
        feature: "cmap",
        pkg_config: "libcmap",
        header: "corosync/cmap.h",
        prefixes: &["cmap_", "CMAP_"],
        since: OLDEST_SUPPORTED,
        why: "the oldest release the crates support",
    },
    Library {
        feature: "cpg",
        pkg_config: "libcpg",
        header: "corosync/cpg.h",
        prefixes: &["cpg_", "CPG_"],
        since: OLDEST_SUPPORTED,
        why: "CPG_REASON_UNDEFINED came with 3.1.0",
    },
    Library {
        feature: "votequorum",
        pkg_config: "libvotequorum",
        header: "corosync/votequorum.h",
        prefixes: &["votequorum_", "VOTEQUORUM_"],
        since: OLDEST_SUPPORTED,
        why: "the oldest release the crates support",
    },
    Library {
        feature: "quorum",
        pkg_config: "libquorum",
        header: "corosync/quorum.h",
        prefixes: &["quorum_", "QUORUM_"],
        since: OLDEST_SUPPORTED,
        why: "quorum_model_initialize came with 3.1.0",
    },
    Library {
        feature: "cfg",
        pkg_config: "libcfg",
        header: "corosync/cfg.h",
        prefixes: &["corosync_cfg_", "COROSYNC_CFG_", "CFG_"],
        since: "3.1.1",
        why: "corosync_cfg_trackstart/trackstop and corosync_cfg_node_status_get came with 3.1.1",
    },
];

/// The oldest corosync release this crate builds against: cpg and quorum need 3.1.0 (see
/// each [`Library::since`]; cfg needs 3.1.1).
const OLDEST_SUPPORTED: &str = "3.1.0";

/// The corosync release the kept bindings were generated from: the oldest one that has every
/// library (cfg needs 3.1.1). Its headers give the same bindings as those of 3.1.7 and 3.1.10.
const KEPT_VERSION: &str = "3.1.1";
const KEPT_FILE: &str = "src/bindings_3_1_1.rs";

/// Every cfg this script may set (see `detect_api_differences`).
const CFGS: &[&str] = &[
    "corosync_cfg_node_status",
    "corosync_cfg_link_dynconnected",
    "corosync_votequorum_model",
    "corosync_votequorum_qdevice_extra_info",
];

/// The cfgs the kept bindings (corosync 3.1.1) have.
const KEPT_CFGS: &[&str] = &["corosync_cfg_node_status", "corosync_cfg_link_dynconnected"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    println!("cargo:rerun-if-env-changed=COROSYNC_SYS_KEPT_BINDINGS");
    // Every cfg this script may set, so rustc's check-cfg knows them.
    println!("cargo:rustc-check-cfg=cfg(corosync_kept_bindings)");
    for cfg in CFGS {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
    }

    let enabled: Vec<&Library> = LIBRARIES
        .iter()
        .filter(|lib| env::var_os(feature_env(lib.feature)).is_some())
        .collect();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    if env::var_os("DOCS_RS").is_some() || env::var_os("COROSYNC_SYS_KEPT_BINDINGS").is_some() {
        // docs.rs has no corosync headers: document the kept bindings of the oldest release.
        write_version(&out, KEPT_VERSION);
        println!("cargo:rustc-cfg=corosync_kept_bindings");
        for cfg in KEPT_CFGS {
            emit_cfg(cfg);
        }
        let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
        emit_bindings_path(&manifest.join(KEPT_FILE));
        return;
    }

    let mut include_paths = Vec::new();
    let mut missing = Vec::new();
    let mut too_old = Vec::new();
    let mut version = None;
    for lib in std::iter::once(&COMMON).chain(enabled.iter().copied()) {
        match pkg_config::Config::new()
            .atleast_version(lib.since)
            .probe(lib.pkg_config)
        {
            Ok(found) => {
                include_paths.extend(found.include_paths);
                if lib.pkg_config == "libcorosync_common" {
                    version = Some(found.version);
                }
            }
            Err(err) => {
                // Found, but an older release than `since`; or not found at all.
                match pkg_config::Config::new()
                    .cargo_metadata(false)
                    .probe(lib.pkg_config)
                {
                    Ok(older) => too_old.push((lib, older.version)),
                    Err(_) => missing.push((lib.pkg_config, err)),
                }
            }
        }
    }
    if !missing.is_empty() {
        fail_missing(&missing);
    }
    if !too_old.is_empty() {
        fail_too_old(&too_old);
    }
    let version = version.expect("libcorosync_common was probed");
    write_version(&out, &version);

    let mut wrapper = String::new();
    for lib in std::iter::once(&COMMON).chain(enabled.iter().copied()) {
        writeln!(wrapper, "#include <{}>", lib.header).unwrap();
    }
    let bindings = generate(&wrapper, &include_paths, &enabled);
    detect_api_differences(&bindings);
    std::fs::write(out.join("bindings.rs"), bindings).expect("write bindings.rs");
    emit_bindings_path(&out.join("bindings.rs"));
}

/// Tells dependents (as `DEP_COROSYNC_BINDINGS`) where the bindings of this build are, so that
/// their tests can read every constant of the headers without a public item for it here.
fn emit_bindings_path(path: &std::path::Path) {
    println!("cargo:bindings={}", path.display());
}

fn feature_env(feature: &str) -> String {
    format!("CARGO_FEATURE_{}", feature.to_uppercase())
}

fn generate(wrapper: &str, include_paths: &[PathBuf], enabled: &[&Library]) -> String {
    let mut builder = bindgen::Builder::default()
        .header_contents("corosync_sys_wrapper.h", wrapper)
        .clang_args(include_paths.iter().map(|p| format!("-I{}", p.display())))
        // clang drops the comments of headers in system directories (/usr/include) but keeps
        // those found through -I: keep them always, so that the same headers give the same
        // bindings wherever they are installed (and the docs carry corosync's own comments).
        .clang_arg("-fretain-comments-from-system-headers")
        // C enums stay integer constants: a value from a newer daemon must never be UB.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .derive_debug(true)
        .layout_tests(true)
        .generate_comments(true)
        .formatter(bindgen::Formatter::Prettyplease)
        // The crates' rust-version: newer bindgen releases must not emit newer syntax.
        .rust_target(bindgen::RustTarget::stable(82, 0).expect("a Rust release bindgen knows"))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for lib in std::iter::once(&COMMON).chain(enabled.iter().copied()) {
        for prefix in lib.prefixes {
            let pattern = format!("{prefix}.*");
            builder = builder
                .allowlist_function(&pattern)
                .allowlist_type(&pattern)
                .allowlist_var(&pattern);
        }
    }
    // cs_timestamp_get is a static inline function in corotypes.h: nothing to link.
    builder = builder.blocklist_function("cs_timestamp_get");
    match builder.generate() {
        Ok(bindings) => bindings.to_string(),
        Err(err) => {
            eprintln!(
                "\ncorosync-sys: bindgen could not generate the bindings: {err}\n\
                 Either a corosync header is missing (Debian/Ubuntu: `apt-get install \
                 libcorosync-common-dev libcmap-dev libcpg-dev libvotequorum-dev libquorum-dev \
                 libcfg-dev`; Fedora/RHEL: `dnf install corosynclib-devel`) or libclang, which \
                 bindgen needs, is missing (`apt-get install libclang-dev` / \
                 `dnf install clang-devel`).\n"
            );
            std::process::exit(1);
        }
    }
}

/// Turns differences between corosync releases found in the headers into cfgs.
fn detect_api_differences(bindings: &str) {
    // corosync_cfg_node_status_get and its v1 structs came with corosync 3.1.1, the oldest
    // release libcfg is accepted from: kept for code that tests the cfg.
    if bindings.contains("pub fn corosync_cfg_node_status_get") {
        emit_cfg("corosync_cfg_node_status");
    }
    // The dynconnected field of a knet link's status came with it (3.1.1).
    if bindings.contains("pub dynconnected") {
        emit_cfg("corosync_cfg_link_dynconnected");
    }
    // votequorum's model v1 (a qdevice extra-info callback beside the usual ones): upstream
    // main after 3.1.10.
    if bindings.contains("pub fn votequorum_model_initialize") {
        emit_cfg("corosync_votequorum_model");
    }
    // A qdevice's extra information per node, its flag and its size limit: upstream main after
    // 3.1.10, with the model above.
    if bindings.contains("pub fn votequorum_get_qdevice_extra_info")
        && bindings.contains("pub fn votequorum_set_qdevice_extra_info")
        && bindings.contains("pub const VOTEQUORUM_INFO_QDEVICE_HAS_EXTRA_INFO")
    {
        emit_cfg("corosync_votequorum_qdevice_extra_info");
    }
}

/// Sets `cfg` for this crate and passes it on (as `DEP_COROSYNC_<CFG>`, thanks to
/// `links = "corosync"`) to dependents such as the safe crate, whose build script sets it too.
fn emit_cfg(cfg: &str) {
    println!("cargo:rustc-cfg={cfg}");
    println!("cargo:{cfg}=1");
}

fn write_version(out: &std::path::Path, version: &str) {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    let text = format!(
        "/// The corosync release whose headers these bindings were generated from.\n\
         pub const COROSYNC_VERSION: &str = {version:?};\n\
         /// Major number of [`COROSYNC_VERSION`].\n\
         pub const COROSYNC_VERSION_MAJOR: u32 = {major};\n\
         /// Minor number of [`COROSYNC_VERSION`].\n\
         pub const COROSYNC_VERSION_MINOR: u32 = {minor};\n\
         /// Patch number of [`COROSYNC_VERSION`].\n\
         pub const COROSYNC_VERSION_PATCH: u32 = {patch};\n"
    );
    std::fs::write(out.join("version.rs"), text).expect("write version.rs");
}

fn fail_too_old(too_old: &[(&Library, String)]) -> ! {
    let mut msg = format!(
        "\n\ncorosync-sys: the installed corosync is too old. This crate supports corosync \
         {OLDEST_SUPPORTED} and later ({} with the `cfg` feature): the releases whose headers \
         have what the safe crate `corosync` uses.\n",
        LIBRARIES
            .iter()
            .find(|lib| lib.feature == "cfg")
            .map_or(OLDEST_SUPPORTED, |lib| lib.since)
    );
    for (lib, found) in too_old {
        writeln!(
            msg,
            "  pkg-config found `{}` {found}; it needs corosync {} or later ({})",
            lib.pkg_config, lib.since, lib.why
        )
        .unwrap();
    }
    msg.push_str(
        "Install a newer corosync (its -dev packages), or point PKG_CONFIG_PATH at one built \
         from source. Without the `cfg` feature (default-features = false) 3.1.0 is enough.\n",
    );
    eprintln!("{msg}");
    std::process::exit(1);
}

fn fail_missing(missing: &[(&str, pkg_config::Error)]) -> ! {
    let mut msg = String::from(
        "\n\ncorosync-sys: corosync's client libraries or headers were not found by pkg-config.\n",
    );
    for (module, err) in missing {
        let text = err.to_string();
        let reason = text
            .lines()
            .map(str::trim)
            .find(|line| line.contains("not found") || line.contains("Requested"))
            .unwrap_or("not found");
        writeln!(msg, "  missing pkg-config module `{module}`: {reason}").unwrap();
    }
    let debian: Vec<String> = missing
        .iter()
        .map(|(module, _)| format!("{}-dev", module.trim_start_matches("lib").replace('_', "-")))
        .map(|pkg| format!("lib{pkg}"))
        .collect();
    writeln!(
        msg,
        "Install them:\n  \
         Debian/Ubuntu: apt-get install {} pkg-config libclang-dev\n  \
         Fedora/RHEL:   dnf install corosynclib-devel pkgconf-pkg-config clang-devel\n\
         bindgen also needs libclang (libclang-dev / clang-devel).\n\
         If they are installed in a non-standard place, set PKG_CONFIG_PATH.\n",
        debian.join(" ")
    )
    .unwrap();
    eprintln!("{msg}");
    std::process::exit(1);
}
