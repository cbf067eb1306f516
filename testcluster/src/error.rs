//! The harness's error type.

use std::fmt;

/// An error of the cluster harness.
///
/// It carries one human-readable message, which for failures that involve running daemons
/// already contains the tail of their logs. Its `Debug` output is the plain message (not an
/// escaped string), so `cluster_result.expect("...")` prints something readable in a failing
/// test.
#[derive(Clone, PartialEq, Eq)]
pub struct HarnessError {
    message: String,
}

impl HarnessError {
    /// Creates an error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        HarnessError {
            message: message.into(),
        }
    }

    /// The full message (including any daemon logs that were attached).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Returns the error with `context` put in front of its message (`"context: message"`).
    pub fn context(self, context: impl fmt::Display) -> Self {
        HarnessError {
            message: format!("{context}: {}", self.message),
        }
    }

    /// Returns the error with `text` (typically daemon logs) appended on new lines.
    pub fn append(self, text: impl AsRef<str>) -> Self {
        let text = text.as_ref();
        if text.is_empty() {
            return self;
        }
        HarnessError {
            message: format!("{}\n{}", self.message, text),
        }
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately unescaped: `expect()` uses Debug and logs span many lines.
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}

impl From<String> for HarnessError {
    fn from(message: String) -> Self {
        HarnessError::new(message)
    }
}

impl From<&str> for HarnessError {
    fn from(message: &str) -> Self {
        HarnessError::new(message)
    }
}

/// Shorthand for results of the harness.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
