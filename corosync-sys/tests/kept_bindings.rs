//! The bindings kept for docs.rs (those of corosync 3.1.1, the oldest supported release) must
//! not drift: built against 3.1.1 they equal the generated ones; built against a later release,
//! everything they declare is still declared, with the same value and signature.

/// The release the kept bindings come from (build.rs's `KEPT_VERSION`).
#[cfg(not(corosync_kept_bindings))]
const KEPT_VERSION: &str = "3.1.1";

#[cfg(not(corosync_kept_bindings))]
const KEPT: &str = include_str!("../src/bindings_3_1_1.rs");

#[cfg(not(corosync_kept_bindings))]
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// The lines of code (declarations, fields, parameters, layout checks), trimmed; comments and
/// doc attributes left out, since they change with no effect on the ABI.
#[cfg(not(corosync_kept_bindings))]
fn code_lines(text: &str) -> Vec<&str> {
    let mut in_comment = false;
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        if in_comment || line.starts_with("/*") {
            in_comment = !line.contains("*/");
        } else if !(line.is_empty() || line.starts_with("//") || line.starts_with("#[doc")) {
            lines.push(line);
        }
    }
    lines
}

#[cfg(all(
    not(corosync_kept_bindings),
    feature = "cmap",
    feature = "cpg",
    feature = "votequorum",
    feature = "quorum",
    feature = "cfg"
))]
#[test]
fn kept_bindings_have_not_drifted() {
    if corosync_sys::COROSYNC_VERSION == KEPT_VERSION {
        if KEPT != GENERATED {
            let first_difference = KEPT
                .lines()
                .zip(GENERATED.lines())
                .enumerate()
                .find(|(_, (kept, generated))| kept != generated);
            panic!(
                "src/bindings_3_1_1.rs differs from the bindings generated from corosync \
                 {KEPT_VERSION}'s headers; first differing line: {first_difference:?}"
            );
        }
        return;
    }
    // Not the kept release: an exact comparison would only show what later releases added.
    eprintln!(
        "built against corosync {}, not {KEPT_VERSION}: the kept bindings are compared exactly \
         only against {KEPT_VERSION}'s headers; here each of their lines of code must still be \
         generated",
        corosync_sys::COROSYNC_VERSION
    );
    let generated: std::collections::HashSet<&str> = code_lines(GENERATED).into_iter().collect();
    let gone: Vec<&str> = code_lines(KEPT)
        .into_iter()
        .filter(|line| !generated.contains(line))
        .collect();
    assert!(
        gone.is_empty(),
        "corosync {} no longer declares these lines of the {KEPT_VERSION} bindings (removed or \
         changed): {gone:#?}",
        corosync_sys::COROSYNC_VERSION
    );
}

#[test]
fn version_constants_agree() {
    let text = format!(
        "{}.{}.{}",
        corosync_sys::COROSYNC_VERSION_MAJOR,
        corosync_sys::COROSYNC_VERSION_MINOR,
        corosync_sys::COROSYNC_VERSION_PATCH
    );
    assert!(corosync_sys::COROSYNC_VERSION.starts_with(&text));
}

#[test]
fn strerror_links_and_answers() {
    // SAFETY: cs_strerror returns a pointer to a static string for any value.
    let text = unsafe {
        std::ffi::CStr::from_ptr(corosync_sys::cs_strerror(corosync_sys::CS_ERR_TRY_AGAIN))
    };
    assert!(!text.to_bytes().is_empty());
}
