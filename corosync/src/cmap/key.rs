//! Key names: the stack buffer handed to C, and the owned name an iteration yields.

use std::borrow::Borrow;
use std::ffi::c_char;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem::MaybeUninit;
use std::ops::Deref;

use corosync_sys as sys;

use crate::{cstr, Error, Result};

/// Longest key name corosync accepts (`CMAP_KEYNAME_MAXLEN`).
///
/// ```
/// assert_eq!(corosync::cmap::KEY_NAME_MAX_LEN, 255);
/// ```
pub const KEY_NAME_MAX_LEN: usize = sys::CMAP_KEYNAME_MAXLEN as usize;
/// Shortest key name corosync accepts (`CMAP_KEYNAME_MINLEN`).
///
/// ```
/// assert_eq!(corosync::cmap::KEY_NAME_MIN_LEN, 3);
/// ```
pub const KEY_NAME_MIN_LEN: usize = sys::CMAP_KEYNAME_MINLEN as usize;

/// A key name (or prefix) checked and laid out NUL-terminated on the stack, ready for C.
///
/// It is public only inside a private module, so users can neither name nor build one: it
/// appears in the hidden methods of the sealed value traits.
///
/// Only the name and its NUL are written: the rest of the buffer is left uninitialised, so
/// laying out a key costs a copy of its bytes, not a write of the whole 256-byte buffer
/// (which was a third of what a `get` added to the C call).
#[derive(Clone)]
pub struct KeyBuf {
    /// `buf[..=len]` is initialised: the name, then NUL.
    buf: [MaybeUninit<u8>; KEY_NAME_MAX_LEN + 1],
    len: usize,
}

impl KeyBuf {
    /// Lays out a key name (`CMAP_KEYNAME_MINLEN..=CMAP_KEYNAME_MAXLEN` bytes, no NUL) and
    /// runs `f` with it.
    ///
    /// The buffer lives in this call's frame and `f` borrows it: returned by value, it
    /// reached the caller by a 256-byte move, a `memcpy` call per request.
    #[inline(always)]
    pub(crate) fn with_key<R>(key: &str, f: impl FnOnce(&KeyBuf) -> Result<R>) -> Result<R> {
        let bytes = key.as_bytes();
        if bytes.len() < KEY_NAME_MIN_LEN {
            // A NUL would be the more precise complaint, if there is one.
            cstr::check("cmap key name", bytes, None)?;
            return Err(Error::TooShort {
                what: "cmap key name",
                length: bytes.len(),
                min: KEY_NAME_MIN_LEN,
            });
        }
        Self::with_layout("cmap key name", bytes, f)
    }

    /// As [`KeyBuf::with_key`], for a prefix (for iteration and prefix tracking): at most
    /// `CMAP_KEYNAME_MAXLEN` bytes, no NUL; the empty prefix matches every key.
    pub(crate) fn with_prefix<R>(prefix: &str, f: impl FnOnce(&KeyBuf) -> Result<R>) -> Result<R> {
        Self::with_layout("cmap key prefix", prefix.as_bytes(), f)
    }

    #[inline(always)]
    fn with_layout<R>(
        what: &'static str,
        bytes: &[u8],
        f: impl FnOnce(&KeyBuf) -> Result<R>,
    ) -> Result<R> {
        cstr::check(what, bytes, Some(KEY_NAME_MAX_LEN))?;
        let len = bytes.len();
        let mut key = KeyBuf {
            buf: [MaybeUninit::<u8>::uninit(); KEY_NAME_MAX_LEN + 1],
            len,
        };
        // SAFETY: `len <= KEY_NAME_MAX_LEN` (checked above), so `len` bytes and the NUL fit
        // in the buffer, which does not overlap `bytes` (MaybeUninit<u8> has u8's layout).
        unsafe { cstr::copy_short(bytes, key.buf.as_mut_ptr().cast::<u8>()) };
        key.buf[len] = MaybeUninit::new(0);
        f(&key)
    }

    /// The name, without its NUL.
    fn name(&self) -> &[u8] {
        // SAFETY: `buf[..len]` was written in `with_layout` (MaybeUninit<u8> has u8's layout).
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
    }

    /// The NUL-terminated name, valid while `self` lives.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }
}

impl fmt::Debug for KeyBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.name()), f)
    }
}

/// A key name returned by the daemon (from an iteration), stored inline without a heap
/// allocation. It dereferences to `&str`.
///
/// corosync only accepts the characters `a-z A-Z 0-9 . _ - / :` in key names, so a name is
/// always ASCII; a name that is not UTF-8 is reported as [`Error::InvalidUtf8`] instead.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// for entry in cmap.iter("totem.")? {
///     let entry = entry?;
///     let key: &corosync::cmap::KeyName = entry.name();
///     if key.ends_with(".token") {
///         println!("{key} has type {}", entry.value_type());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KeyName {
    len: u8,
    /// `buf[..len]` is initialised, as in [`KeyBuf`]: every trait reads the name through
    /// `as_str`, so the rest is never read and need not be zeroed per key.
    buf: [MaybeUninit<u8>; KEY_NAME_MAX_LEN],
}

impl KeyName {
    /// Copies a name that an iteration read and checked (`iter::name_str`: NUL-free, at
    /// most `CMAP_KEYNAME_MAXLEN` bytes), so nothing is checked again per key.
    #[inline]
    pub(crate) fn from_listed(name: &str) -> KeyName {
        let mut buf = [MaybeUninit::<u8>::uninit(); KEY_NAME_MAX_LEN];
        // Never out of range: `name_str` refused longer names.
        let dst = &mut buf[..name.len()];
        // SAFETY: MaybeUninit<u8> has u8's layout; `dst` has `name.len()` bytes and does not
        // overlap `name`.
        unsafe { cstr::copy_short(name.as_bytes(), dst.as_mut_ptr().cast::<u8>()) };
        KeyName {
            len: name.len() as u8,
            buf,
        }
    }

    /// The name as a string slice.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// let names: Vec<String> = cmap
    ///     .iter("nodelist.")?
    ///     .map(|entry| entry.map(|entry| entry.name().as_str().to_owned()))
    ///     .collect::<corosync::Result<_>>()?;
    /// # Ok(()) }
    /// ```
    pub fn as_str(&self) -> &str {
        // SAFETY: `from_listed`, the only constructor, initialised `buf[..len]` with the bytes
        // of a whole `str` (MaybeUninit<u8> has u8's layout).
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                self.buf.as_ptr().cast::<u8>(),
                usize::from(self.len),
            ))
        }
    }
}

impl Deref for KeyName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for KeyName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for KeyName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for KeyName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for KeyName {}

impl PartialEq<str> for KeyName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for KeyName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for KeyName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for KeyName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same hash as `str`, as `Borrow<str>` requires.
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// The bytes `with_key` lays out for `key` (before the NUL), or its error.
    fn key(key: &str) -> Result<Vec<u8>> {
        KeyBuf::with_key(key, |buf| Ok(c(buf)))
    }

    fn prefix(prefix: &str) -> Result<Vec<u8>> {
        KeyBuf::with_prefix(prefix, |buf| Ok(c(buf)))
    }

    fn c(buf: &KeyBuf) -> Vec<u8> {
        // SAFETY: a KeyBuf always holds a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes();
        assert_eq!(bytes, buf.name(), "the NUL comes right after the name");
        bytes.to_vec()
    }

    #[test]
    fn keys_are_checked_and_terminated() {
        assert_eq!(key("totem.token").unwrap(), b"totem.token");
        // Every length a short copy handles, up to the longest name.
        for len in 3..=KEY_NAME_MAX_LEN {
            let name: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            assert_eq!(key(&name).unwrap(), name.as_bytes(), "len {len}");
        }
        let longest = "k".repeat(KEY_NAME_MAX_LEN);
        assert_eq!(key(&longest).unwrap(), longest.as_bytes());
        assert_eq!(
            key(&"k".repeat(256)).err(),
            Some(Error::TooLong {
                what: "cmap key name",
                length: 256,
                max: 255
            })
        );
        assert_eq!(
            key("ab").err(),
            Some(Error::TooShort {
                what: "cmap key name",
                length: 2,
                min: 3
            })
        );
        assert_eq!(
            key("a\0b.c").err(),
            Some(Error::InteriorNul {
                what: "cmap key name",
                position: 1
            })
        );
        assert_eq!(
            key("\0").err(),
            Some(Error::InteriorNul {
                what: "cmap key name",
                position: 0
            })
        );
    }

    #[test]
    fn prefixes_may_be_empty() {
        assert_eq!(prefix("").unwrap(), b"");
        assert_eq!(prefix("to").unwrap(), b"to");
        assert!(prefix(&"p".repeat(256)).is_err());
    }

    #[test]
    fn key_names_compare_like_strings() {
        let a = KeyName::from_listed("totem.token");
        assert_eq!(a, "totem.token");
        assert_eq!(a.len(), 11);
        assert_eq!(format!("{a}"), "totem.token");
        assert_eq!(format!("{a:?}"), "\"totem.token\"");
        let set: std::collections::HashSet<KeyName> = [a.clone()].into_iter().collect();
        assert!(set.contains("totem.token"));
        let longest = "k".repeat(KEY_NAME_MAX_LEN);
        assert_eq!(KeyName::from_listed(&longest).as_str(), longest);
    }
}
