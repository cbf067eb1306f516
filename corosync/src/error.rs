//! The crate's one error type.

use corosync_sys as sys;

/// Shorthand for `Result<T, corosync::Error>`.
///
/// ```
/// fn node_count() -> corosync::Result<usize> {
///     Ok(3)
/// }
/// assert_eq!(node_count(), Ok(3));
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! cs_errors {
    ($( $(#[$doc:meta])* $variant:ident = $c_name:ident, $text:literal; )*) => {
        /// Everything that can go wrong in this crate.
        ///
        /// The first group of variants are the `cs_error_t` codes of `corotypes.h`, one variant
        /// each; their `Display` text reads well and ends with the C name, so that it can be
        /// looked up in corosync's documentation. A code that this build does not know is kept
        /// in [`Error::Unknown`]. The remaining variants are input that this crate refused
        /// before it reached C, because C would have truncated or misread it.
        ///
        /// ```
        /// use corosync::Error;
        ///
        /// let err = Error::from_code(6).unwrap_err();
        /// assert_eq!(err, Error::TryAgain);
        /// assert!(err.is_retryable());
        /// assert_eq!(err.to_string(), "resource temporarily unavailable, try again (CS_ERR_TRY_AGAIN)");
        /// assert_eq!(err.code(), Some(6));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
        #[non_exhaustive]
        pub enum Error {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nC: `", stringify!($c_name), "`.")]
                #[error("{} ({})", $text, stringify!($c_name))]
                $variant,
            )*
            /// The client library failed (`CS_ERR_LIBRARY`).
            ///
            /// When opening a handle failed, `errno` is the `errno` the C library left, which
            /// says why, and the `Display` text is worded by it: `ECONNREFUSED` or `ENOENT`,
            /// no daemon runs (in this network namespace); `EMFILE` or `ENFILE`, the process
            /// or the system is out of file descriptors; `EACCES` or `EPERM`, the daemon does
            /// not let this user in (grant it with a `uidgid` entry in corosync.conf(5)).
            ///
            /// On an open handle it means that the connection is gone (the daemon stopped,
            /// crashed or restarted): every later call on that handle fails the same way
            /// (`errno` is 0); drop it and open a new one. On a live handle, no call returns
            /// [`Error::BadHandle`] for a dead daemon; all return this.
            ///
            /// ```
            /// use corosync::Error;
            /// let err = Error::Library { errno: libc::EMFILE };
            /// assert!(err.to_string().contains("out of file descriptors"));
            /// assert_eq!(err.errno(), Some(libc::EMFILE));
            /// assert_eq!(err.code(), Some(2));
            /// ```
            #[error("{} (CS_ERR_LIBRARY)", library_text(*errno))]
            Library {
                /// The `errno` left by a failed `*_initialize`, 0 when not known.
                errno: i32,
            },
            /// A `cs_error_t` code this build does not know (a newer daemon or library).
            #[error("unknown corosync error code {0}")]
            Unknown(u32),

            /// A string or name given to this crate contains a NUL byte where C would stop
            /// reading, so it would have been silently shortened.
            #[error("{what} contains a NUL byte at offset {position}")]
            InteriorNul {
                /// What the string was (e.g. "cmap key name").
                what: &'static str,
                /// Offset of the first NUL byte.
                position: usize,
            },
            /// A string, name or buffer is longer than corosync accepts.
            #[error("{what} is {length} bytes long, more than the {max} bytes corosync accepts")]
            TooLong {
                /// What was too long.
                what: &'static str,
                /// Its length in bytes.
                length: usize,
                /// The longest length corosync accepts.
                max: usize,
            },
            /// A string or name is shorter than corosync accepts.
            #[error("{what} is {length} bytes long, fewer than the {min} bytes corosync requires")]
            TooShort {
                /// What was too short.
                what: &'static str,
                /// Its length in bytes.
                length: usize,
                /// The shortest length corosync accepts.
                min: usize,
            },
            /// A value was asked for (or given) as one type but is stored as another.
            #[error("value has type {found}, not the {expected} that was asked for")]
            WrongType {
                /// The type the caller asked for.
                expected: &'static str,
                /// The type the value really has.
                found: &'static str,
            },
            /// C handed back a value this crate cannot represent (e.g. an enum value a newer
            /// daemon added).
            #[error("corosync returned an unexpected {what}: {value}")]
            UnexpectedValue {
                /// What the value was.
                what: &'static str,
                /// The raw value.
                value: i64,
            },
            /// Text corosync returned is not valid UTF-8 where a `&str` was asked for.
            #[error("{what} is not valid UTF-8")]
            InvalidUtf8 {
                /// What the text was.
                what: &'static str,
            },
            /// `dispatch` was called from inside one of the same handle's callbacks.
            ///
            /// The C libraries do not support re-entering dispatch; process the event and
            /// return, and the outer dispatch call goes on.
            #[error("dispatch called from inside a callback of the same handle")]
            ReentrantDispatch,
            /// `next_event` or `try_next_event` was called on a handle that was not opened
            /// in pull mode (with its library's `pull()`): its events go to closures.
            #[error("next_event on a handle that was not opened with pull()")]
            NotPullMode,
            /// A system call this crate makes for its own event loop failed (`ppoll`,
            /// `eventfd`).
            #[error("{what} failed: {}", std::io::Error::from_raw_os_error(*errno))]
            System {
                /// The system call.
                what: &'static str,
                /// Its errno.
                errno: i32,
            },
        }

        impl Error {
            /// The `cs_error_t` code for errors that came from corosync, `None` for errors
            /// raised by this crate.
            ///
            /// ```
            /// use corosync::Error;
            /// assert_eq!(Error::Access.code(), Some(11));
            /// assert_eq!(Error::ReentrantDispatch.code(), None);
            /// ```
            pub fn code(&self) -> Option<u32> {
                match self {
                    $( Error::$variant => Some(sys::$c_name), )*
                    Error::Library { .. } => Some(sys::CS_ERR_LIBRARY),
                    Error::Unknown(code) => Some(*code),
                    _ => None,
                }
            }

            /// Turns a `cs_error_t` into `Ok(())` for `CS_OK` and the matching variant
            /// otherwise; every code, known or not, maps back with [`Error::code`].
            ///
            /// ```
            /// use corosync::Error;
            /// assert_eq!(Error::from_code(1), Ok(()));
            /// assert_eq!(Error::from_code(12), Err(Error::NotExist));
            /// assert_eq!(Error::from_code(4242), Err(Error::Unknown(4242)));
            /// ```
            pub fn from_code(code: u32) -> Result<()> {
                match code {
                    sys::CS_OK => Ok(()),
                    sys::CS_ERR_LIBRARY => Err(Error::Library { errno: 0 }),
                    $( sys::$c_name => Err(Error::$variant), )*
                    other => Err(Error::Unknown(other)),
                }
            }
        }
    };
}

cs_errors! {
    /// Version mismatch between library and daemon.
    Version = CS_ERR_VERSION, "version mismatch";
    /// Initialization failed.
    Init = CS_ERR_INIT, "initialization failed";
    /// A request timed out.
    Timeout = CS_ERR_TIMEOUT, "timed out";
    /// The daemon is busy or flow control is on: try again later. See
    /// [`Error::is_retryable`].
    TryAgain = CS_ERR_TRY_AGAIN, "resource temporarily unavailable, try again";
    /// A parameter was refused.
    InvalidParam = CS_ERR_INVALID_PARAM, "invalid parameter";
    /// Out of memory.
    NoMemory = CS_ERR_NO_MEMORY, "out of memory";
    /// The C library does not know the handle value. This crate's handles are always known
    /// to their library, so it is not what a dead daemon gives: calls on a handle whose
    /// daemon died return [`Error::Library`] in every library (checked with corosync 3.1.7),
    /// except the few that answer from local state and keep succeeding
    /// (libcpg's `max_atomic_msgsize` and `flow_control_state`).
    BadHandle = CS_ERR_BAD_HANDLE, "bad handle";
    /// The resource is busy.
    Busy = CS_ERR_BUSY, "resource busy";
    /// Permission denied: the user may not talk to corosync (opening a handle; grant access
    /// with a `uidgid` entry in corosync.conf(5)), or may not do this operation (e.g. write
    /// a read-only cmap key).
    Access = CS_ERR_ACCESS, "permission denied: this user may not connect to corosync (grant it with a `uidgid` entry in corosync.conf) or may not do this";
    /// No such object, e.g. no such cmap key or node.
    NotExist = CS_ERR_NOT_EXIST, "does not exist";
    /// A name is too long.
    NameTooLong = CS_ERR_NAME_TOO_LONG, "name too long";
    /// The object already exists (e.g. the group is already joined).
    Exist = CS_ERR_EXIST, "already exists";
    /// No space left.
    NoSpace = CS_ERR_NO_SPACE, "no space left";
    /// The call was interrupted.
    Interrupt = CS_ERR_INTERRUPT, "interrupted";
    /// The name was not found.
    NameNotFound = CS_ERR_NAME_NOT_FOUND, "name not found";
    /// Not enough resources (e.g. IPC buffers).
    NoResources = CS_ERR_NO_RESOURCES, "no resources";
    /// The operation is not supported.
    NotSupported = CS_ERR_NOT_SUPPORTED, "not supported";
    /// The operation is not allowed in this state.
    BadOperation = CS_ERR_BAD_OPERATION, "bad operation";
    /// The operation failed.
    FailedOperation = CS_ERR_FAILED_OPERATION, "operation failed";
    /// A message was refused (e.g. a qdevice poll with a stale ring id).
    MessageError = CS_ERR_MESSAGE_ERROR, "message error";
    /// The queue is full.
    QueueFull = CS_ERR_QUEUE_FULL, "queue full";
    /// The queue is not available.
    QueueNotAvailable = CS_ERR_QUEUE_NOT_AVAILABLE, "queue not available";
    /// Invalid flags.
    BadFlags = CS_ERR_BAD_FLAGS, "bad flags";
    /// The value or message is too big.
    TooBig = CS_ERR_TOO_BIG, "too big";
    /// No sections.
    NoSections = CS_ERR_NO_SECTIONS, "no sections";
    /// No context.
    ContextNotFound = CS_ERR_CONTEXT_NOT_FOUND, "context not found";
    /// Too many groups.
    TooManyGroups = CS_ERR_TOO_MANY_GROUPS, "too many groups";
    /// Security error (e.g. a refused IPC connection).
    Security = CS_ERR_SECURITY, "security error";
}

/// The text of [`Error::Library`] for `errno`.
fn library_text(errno: i32) -> String {
    match errno {
        0 => "library error: corosync is not running or the connection to it was lost".into(),
        libc::ECONNREFUSED | libc::ENOENT => format!(
            "corosync is not running (no daemon in this network namespace; {})",
            errno_name(errno)
        ),
        libc::EMFILE => "this process is out of file descriptors (EMFILE; raise RLIMIT_NOFILE \
                         or close files)"
            .into(),
        libc::ENFILE => "the system is out of file descriptors (ENFILE)".into(),
        libc::EACCES | libc::EPERM => format!(
            "permission denied ({}): grant this user or group access with a `uidgid` entry in \
             corosync.conf (see corosync.conf(5))",
            errno_name(errno)
        ),
        other => format!(
            "cannot connect to corosync: {}",
            std::io::Error::from_raw_os_error(other)
        ),
    }
}

/// The C name of the errno values [`library_text`] words specially.
fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENOENT => "ENOENT",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        _ => "errno",
    }
}

impl Error {
    /// Whether the daemon went away: the connection is dead, and only a new one (the
    /// handle's `reconnect`, once the daemon is back) can work again.
    ///
    /// True exactly for [`Error::Library`]: what every library answers, for requests and
    /// dispatch alike, once the daemon of a connection was killed or stopped (libqb reports
    /// the closed socket), and what connecting answers while no daemon runs. Checked
    /// against real daemons for all five libraries (`tests/tests/events.rs`, which kills the
    /// daemon with SIGKILL). Every other error leaves the connection usable; in particular
    /// [`Error::BadHandle`] only comes from a handle the library itself never knew or
    /// already finalized, which this crate's handles never pass.
    ///
    /// ```
    /// assert!(corosync::Error::Library { errno: 0 }.is_disconnected());
    /// assert!(!corosync::Error::TryAgain.is_disconnected());
    /// assert!(!corosync::Error::BadHandle.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Error::Library { .. })
    }

    /// The `errno` behind an [`Error::Library`] from a failed connect; `None` for every other
    /// error, and for a library error whose cause is not known (errno 0).
    ///
    /// ```
    /// use corosync::Error;
    /// assert_eq!(Error::Library { errno: libc::ECONNREFUSED }.errno(), Some(libc::ECONNREFUSED));
    /// assert_eq!(Error::Library { errno: 0 }.errno(), None);
    /// assert_eq!(Error::Access.errno(), None);
    /// ```
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Library { errno } if *errno != 0 => Some(*errno),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed: true for
    /// [`Error::TryAgain`], which corosync returns under flow control or while the cluster
    /// is synchronising.
    ///
    /// ```
    /// assert!(corosync::Error::TryAgain.is_retryable());
    /// assert!(!corosync::Error::Access.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::TryAgain)
    }
}

/// The one place where a C result becomes a `Result`.
///
/// Inlined, with `CS_OK` tested first: a successful call costs a compare in the caller's
/// code, not a call and a jump through `from_code`'s table.
#[inline]
pub(crate) fn cs_result(code: sys::cs_error_t) -> Result<()> {
    if code == sys::CS_OK {
        Ok(())
    } else {
        Error::from_code(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of the C enum, read from the text of the bindings generated from the
    /// installed headers (their path comes from build.rs) so that a value added to the header
    /// cannot be missed.
    fn c_enum_values() -> Vec<(String, u32)> {
        let text = include_str!(env!("COROSYNC_SYS_BINDINGS"));
        let mut values = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("pub const CS_ERR_") {
                let (name, value) = rest.split_once(": cs_error_t = ").expect("const line");
                values.push((
                    format!("CS_ERR_{name}"),
                    value.trim_end_matches(';').parse().expect("number"),
                ));
            }
        }
        values
    }

    #[test]
    fn every_c_error_maps_to_its_own_variant_and_back() {
        let values = c_enum_values();
        assert_eq!(
            values.len(),
            29,
            "cs_error_t has 29 error values from 3.1.1 to upstream main"
        );
        let mut seen = std::collections::HashSet::new();
        for (name, code) in values {
            let err = Error::from_code(code).expect_err("an error code");
            assert!(!matches!(err, Error::Unknown(_)), "{name} has no variant");
            assert_eq!(err.code(), Some(code), "{name} does not map back");
            assert!(
                err.to_string().ends_with(&format!("({name})")),
                "{name}: {err}"
            );
            assert!(seen.insert(err), "{name} shares its variant");
        }
    }

    #[test]
    fn ok_and_unknown_codes() {
        assert_eq!(Error::from_code(corosync_sys::CS_OK), Ok(()));
        assert_eq!(Error::from_code(29), Err(Error::Unknown(29)));
        assert_eq!(Error::Unknown(4242).code(), Some(4242));
        assert_eq!(Error::ReentrantDispatch.code(), None);
    }

    #[test]
    fn rust_side_errors_read_well() {
        let err = Error::TooLong {
            what: "CPG group name",
            length: 129,
            max: 128,
        };
        assert_eq!(
            err.to_string(),
            "CPG group name is 129 bytes long, more than the 128 bytes corosync accepts"
        );
        assert!(!err.is_retryable());
    }
}
