//! Which corosync release the example tools follow, where corosync's own tools behave
//! differently from one release to the next.
//!
//! Included by each tool that needs it with
//! `#[path = "../corosync_release.rs"] mod corosync_release;`.
//!
//! The tools follow the release they were built and linked against: `corosync::COROSYNC_VERSION`,
//! the version pkg-config reported for the headers at build time. corosync's tools are built
//! from the same release as the libraries they ship with, so a tool built against a corosync
//! and run with its libraries behaves like that corosync's own tool.

/// The numeric parts of a corosync version: `"3.1.10"` gives `[3, 1, 10]`; a build from git
/// (`"3.1.10.24-65235a81"`, 24 commits after 3.1.10) gives `[3, 1, 10, 24]`.
fn parts(version: &str) -> Vec<u32> {
    version
        .split(['.', '-'])
        .map_while(|part| part.parse().ok())
        .collect()
}

/// Whether the corosync these tools were built against is `release` or later: `&[3, 1, 9]`
/// is 3.1.9 or later; `&[3, 1, 10, 1]` is anything after 3.1.10, git builds included.
pub fn at_least(release: &[u32]) -> bool {
    parts(corosync::COROSYNC_VERSION).as_slice() >= release
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_and_git_builds_compare_in_order() {
        assert_eq!(parts("3.1.7"), [3, 1, 7]);
        assert_eq!(parts("3.1.10.24-65235a81"), [3, 1, 10, 24]);
        let after = |version: &str, release: &[u32]| parts(version).as_slice() >= release;
        assert!(!after("3.1.7", &[3, 1, 9]));
        assert!(after("3.1.9", &[3, 1, 9]));
        assert!(after("3.1.10", &[3, 1, 9]));
        assert!(!after("3.1.10", &[3, 1, 10, 1]));
        assert!(after("3.1.10.24-65235a81", &[3, 1, 10, 1]));
        assert!(after("3.2.0", &[3, 1, 10, 1]));
    }
}
