//! CPG group names: byte strings with an explicit length.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use corosync_sys as sys;

use crate::{Error, Result};

/// The longest group name corosync accepts, in bytes (`CPG_MAX_NAME_LENGTH`).
const MAX_LEN: usize = sys::CPG_MAX_NAME_LENGTH as usize;

/// The name of a closed process group: up to 128 bytes with an explicit length.
///
/// corosync compares group names as byte strings of a given length (C's `struct cpg_name`, a
/// length and 128 bytes). A name is not a C string: it may contain NUL bytes and need not be
/// UTF-8, and `"GROUP"` (5 bytes) and `"GROUP\0"` (6 bytes) are two different groups.
///
/// Most C programs fill the name with `strcpy` and set the length to `strlen(name) + 1`,
/// so they count the terminating NUL: a group they call "GROUP" is, on the wire, the 6 bytes
/// `GROUP\0`. To join exactly their group, build the name with [`GroupName::with_nul`];
/// [`GroupName::new`] takes the bytes as they are. `corosync-cpgtool` shows the two as
/// `GROUP\x00` and `GROUP`.
///
/// A name longer than 128 bytes is refused with [`Error::TooLong`], never truncated. Names
/// that corosync hands to callbacks and iterations are borrowed in place and read by their
/// length field (clamped to 128 bytes), never by searching for a NUL.
///
/// `Display` and `Debug` show printable ASCII as it is and escape every other byte as
/// `\xNN` (and a backslash as `\\`), like `corosync-cpgtool` (which shows bytes from 0x80 up
/// sign-extended, `\xFFFFFFFF` for 0xff, where this shows `\xFF`); use
/// [`GroupName::as_bytes`] for the exact bytes.
///
/// ```
/// use corosync::cpg::GroupName;
///
/// let rust = GroupName::new("GROUP")?;
/// let c = GroupName::with_nul("GROUP")?;
/// assert_eq!(rust.as_bytes(), b"GROUP");
/// assert_eq!(c.as_bytes(), b"GROUP\0");
/// assert_ne!(rust, c);
/// assert_eq!(c.to_string(), "GROUP\\x00");
///
/// let binary = GroupName::new([0xff, 0, b'a'])?;
/// assert_eq!(binary.len(), 3);
/// assert!(GroupName::new([b'x'; 129]).is_err());
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct GroupName(sys::cpg_name);

impl GroupName {
    /// The longest name corosync accepts, in bytes (`CPG_MAX_NAME_LENGTH`).
    ///
    /// ```
    /// assert_eq!(corosync::cpg::GroupName::MAX_LEN, 128);
    /// ```
    pub const MAX_LEN: usize = MAX_LEN;

    /// A name made of exactly these bytes (any bytes, NUL included).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `name` is longer than [`GroupName::MAX_LEN`] bytes.
    ///
    /// ```
    /// use corosync::cpg::GroupName;
    /// let name = GroupName::new("my-service")?;
    /// assert_eq!(name.as_bytes(), b"my-service");
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn new(name: impl AsRef<[u8]>) -> Result<GroupName> {
        Self::build(name.as_ref(), false)
    }

    /// The name that C programs mean when they count the terminating NUL: `name` followed by
    /// one NUL byte, so `with_nul("GROUP")` is the 6-byte group that `strcpy` plus
    /// `strlen + 1` joins.
    ///
    /// # Errors
    /// [`Error::TooLong`] if `name` is longer than 127 bytes (128 with the NUL).
    ///
    /// ```
    /// use corosync::cpg::GroupName;
    /// let name = GroupName::with_nul("GROUP")?;
    /// assert_eq!(name.len(), 6);
    /// assert_eq!(name.without_nul(), b"GROUP");
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn with_nul(name: impl AsRef<[u8]>) -> Result<GroupName> {
        Self::build(name.as_ref(), true)
    }

    fn build(bytes: &[u8], nul: bool) -> Result<GroupName> {
        let length = bytes.len() + usize::from(nul);
        if length > MAX_LEN {
            return Err(Error::TooLong {
                what: "CPG group name",
                length,
                max: MAX_LEN,
            });
        }
        let mut raw = sys::cpg_name {
            length: 0,
            value: [0; MAX_LEN],
        };
        for (dst, &src) in raw.value.iter_mut().zip(bytes) {
            *dst = src as std::ffi::c_char;
        }
        // The byte after `bytes` is already 0, which is the NUL of `with_nul`.
        raw.length = length as u32;
        Ok(GroupName(raw))
    }

    /// The name's bytes, exactly `len()` of them.
    ///
    /// ```
    /// let name = corosync::cpg::GroupName::new(b"a\0b")?;
    /// assert_eq!(name.as_bytes(), b"a\0b");
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        let len = (self.0.length as usize).min(MAX_LEN);
        // SAFETY: c_char and u8 have the same size and alignment, and `len` is at most the
        // array's length.
        unsafe { std::slice::from_raw_parts(self.0.value.as_ptr().cast::<u8>(), len) }
    }

    /// The name's bytes without one trailing NUL, if it has one: the name as a C program
    /// prints it.
    ///
    /// ```
    /// use corosync::cpg::GroupName;
    /// assert_eq!(GroupName::with_nul("db")?.without_nul(), b"db");
    /// assert_eq!(GroupName::new("db")?.without_nul(), b"db");
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn without_nul(&self) -> &[u8] {
        let bytes = self.as_bytes();
        bytes.strip_suffix(&[0]).unwrap_or(bytes)
    }

    /// The name as text, if it is valid UTF-8 (a trailing NUL is kept, since it is part of the
    /// name).
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] if it is not.
    ///
    /// ```
    /// use corosync::cpg::GroupName;
    /// assert_eq!(GroupName::new("chat")?.to_str()?, "chat");
    /// assert!(GroupName::new([0xff])?.to_str().is_err());
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn to_str(&self) -> Result<&str> {
        std::str::from_utf8(self.as_bytes()).map_err(|_| Error::InvalidUtf8 {
            what: "CPG group name",
        })
    }

    /// The length in bytes.
    ///
    /// ```
    /// assert_eq!(corosync::cpg::GroupName::new("abc")?.len(), 3);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the name has no bytes (corosync accepts an empty group name).
    ///
    /// ```
    /// assert!(corosync::cpg::GroupName::new("")?.is_empty());
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The C struct, for calls that take a `const struct cpg_name *`.
    pub(crate) fn as_raw(&self) -> &sys::cpg_name {
        &self.0
    }

    /// Borrows a C name in place.
    pub(crate) fn from_raw(raw: &sys::cpg_name) -> &GroupName {
        // SAFETY: GroupName is repr(transparent) over sys::cpg_name, and every bit pattern of
        // a cpg_name is a valid GroupName (as_bytes clamps the length).
        unsafe { &*(raw as *const sys::cpg_name).cast::<GroupName>() }
    }

    /// Writes the name with cpgtool's escaping; `quote` also escapes `"` (for Debug).
    fn write_escaped(&self, f: &mut fmt::Formatter<'_>, quote: bool) -> fmt::Result {
        use fmt::Write;
        for &b in self.as_bytes() {
            match b {
                b'\\' => f.write_str("\\\\")?,
                b'"' if quote => f.write_str("\\\"")?,
                b' '..=b'~' => f.write_char(char::from(b))?,
                _ => write!(f, "\\x{b:02X}")?,
            }
        }
        Ok(())
    }
}

impl TryFrom<&str> for GroupName {
    type Error = Error;

    /// Same as [`GroupName::new`].
    fn try_from(name: &str) -> Result<GroupName> {
        GroupName::new(name)
    }
}

impl TryFrom<&[u8]> for GroupName {
    type Error = Error;

    /// Same as [`GroupName::new`].
    fn try_from(name: &[u8]) -> Result<GroupName> {
        GroupName::new(name)
    }
}

impl std::str::FromStr for GroupName {
    type Err = Error;

    /// Same as [`GroupName::new`].
    fn from_str(name: &str) -> Result<GroupName> {
        GroupName::new(name)
    }
}

impl AsRef<[u8]> for GroupName {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for GroupName {
    fn eq(&self, other: &GroupName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for GroupName {}

impl PartialOrd for GroupName {
    fn partial_cmp(&self, other: &GroupName) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupName {
    fn cmp(&self, other: &GroupName) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for GroupName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_escaped(f, false)
    }
}

impl fmt::Debug for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupName(\"")?;
        self.write_escaped(f, true)?;
        f.write_str("\")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_explicit_and_checked() {
        let max = GroupName::new([b'm'; 128]).unwrap();
        assert_eq!(max.len(), 128);
        assert_eq!(
            GroupName::new([b'm'; 129]),
            Err(Error::TooLong {
                what: "CPG group name",
                length: 129,
                max: 128
            })
        );
        assert_eq!(GroupName::with_nul([b'n'; 127]).unwrap().len(), 128);
        assert!(GroupName::with_nul([b'n'; 128]).is_err());
        assert!(GroupName::new("").unwrap().is_empty());
    }

    #[test]
    fn nul_and_non_utf8_names_are_distinct() {
        let plain = GroupName::new("GROUP").unwrap();
        let c = GroupName::with_nul("GROUP").unwrap();
        let inner = GroupName::new("GR\0UP").unwrap();
        assert_eq!(c.as_bytes(), b"GROUP\0");
        assert_ne!(plain, c);
        assert_ne!(plain, inner);
        assert_eq!(c.without_nul(), plain.as_bytes());
        let bin = GroupName::new([0xc3, 0x28]).unwrap();
        assert!(bin.to_str().is_err());
        assert_eq!(bin.as_bytes(), &[0xc3, 0x28]);
    }

    #[test]
    fn display_and_debug_escape() {
        let name = GroupName::new(b"a b\\c\"\x00\xff\x7f").unwrap();
        assert_eq!(name.to_string(), "a b\\\\c\"\\x00\\xFF\\x7F");
        assert_eq!(
            format!("{name:?}"),
            "GroupName(\"a b\\\\c\\\"\\x00\\xFF\\x7F\")"
        );
    }

    #[test]
    fn borrowed_c_names_are_clamped_and_compared_by_length() {
        let mut raw = sys::cpg_name {
            length: 1000,
            value: [b'z' as std::ffi::c_char; 128],
        };
        assert_eq!(GroupName::from_raw(&raw).len(), 128);
        raw.length = 2;
        let short = GroupName::from_raw(&raw);
        assert_eq!(short.as_bytes(), b"zz");
        // Bytes past the length do not matter.
        assert_eq!(*short, GroupName::new("zz").unwrap());
    }
}
