//! What the example programs share.
//!
//! - [`getopt`]: glibc's `getopt` / `getopt_long`, for the tools whose command lines, messages
//!   and exit statuses equal corosync's tools byte for byte (`cmapctl`, `cpgtool`,
//!   `quorumtool`, `cfgtool`). The other programs parse their arguments with `lexopt`.
//! - [`escape`]: bytes printed as corosync's tools print them.
//! - [`c_number`]: numbers read as corosync's tools read them.
//! - [`bench`](mod@bench): the CPU clock and the paired statistics of `cmapbench` and `cpgbench`.
//! - [`main_skeleton`]: `main`'s shape (error to stderr, exit status) and option values.

pub mod bench;
pub mod c_number;
pub mod escape;
pub mod getopt;
pub mod long_options;
pub mod main_skeleton;
