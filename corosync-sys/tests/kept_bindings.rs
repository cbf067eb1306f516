//! The bindings kept for docs.rs must not drift from what the installed headers give.

#[cfg(all(
    not(corosync_kept_bindings),
    feature = "cmap",
    feature = "cpg",
    feature = "votequorum",
    feature = "quorum",
    feature = "cfg"
))]
#[test]
fn kept_bindings_equal_generated_ones() {
    assert_eq!(
        corosync_sys::COROSYNC_VERSION,
        "3.1.7",
        "the kept bindings come from corosync 3.1.7; on another release regenerate them \
         (copy OUT_DIR/bindings.rs to src/bindings_3_1_7.rs under a new name) or adapt this test"
    );
    if corosync_sys::KEPT_BINDINGS != corosync_sys::GENERATED_BINDINGS {
        let first_difference = corosync_sys::KEPT_BINDINGS
            .lines()
            .zip(corosync_sys::GENERATED_BINDINGS.lines())
            .enumerate()
            .find(|(_, (kept, generated))| kept != generated);
        panic!(
            "src/bindings_3_1_7.rs differs from the bindings generated from the installed \
             headers; first differing line: {first_difference:?}"
        );
    }
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
