//! Iteration over the keys under a prefix.

use std::ffi::c_char;
use std::iter::FusedIterator;

use corosync_sys as sys;

use super::key::{KeyBuf, KeyName};
use super::{Cmap, Value, ValueRef, ValueType};
use crate::error::cs_result;
use crate::{cstr, Error, Result};

/// Room for the longest name libcmap writes (`cmap_iter_next` copies the daemon's
/// `cs_name_t`, at most `CS_MAX_NAME_LENGTH` bytes) and its NUL.
const NAME_BUF_LEN: usize = sys::CS_MAX_NAME_LENGTH as usize + 1;

impl Cmap {
    /// Iterates over the keys that start with `prefix` (`""` for all), yielding each key's
    /// name, type and length in bytes as a [`KeyInfo`] (`cmap_iter_init`, `cmap_iter_next`).
    /// Dropping the iterator ends the iteration in the daemon (`cmap_iter_finalize`), also
    /// when it stops early.
    ///
    /// To read the values too without copying them, call [`Iter::next_value`] instead of
    /// `next`.
    ///
    /// The daemon walks its map in key order while the iteration is open; keys added or
    /// deleted meanwhile may or may not be seen. The key the iteration returned last stays in
    /// the daemon until the iteration moves on or is dropped, even if deleted: a value set
    /// again under that name meanwhile is lost then, and deleting it twice crashes the
    /// daemon (a libqb defect, see [`Cmap::delete`] and the crate docs' known bugs).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter("nodelist.node.")? {
    ///     let entry = entry?;
    ///     println!("{} ({}, {} bytes)", entry.name(), entry.value_type(), entry.value_len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self, prefix: &str) -> Result<Iter<'_>> {
        let mut raw: sys::cmap_iter_handle_t = 0;
        KeyBuf::with_prefix(prefix, |prefix| {
            // SAFETY: the handle is live, the prefix is NUL-terminated and `raw` is writable.
            cs_result(unsafe { sys::cmap_iter_init(self.raw(), prefix.as_ptr(), &mut raw) })
        })?;
        Ok(Iter {
            cmap: self,
            raw,
            done: false,
            name: [0; NAME_BUF_LEN],
            value: ValueBuf {
                inline: [0; super::STACK_VALUE_LEN],
                spill: Vec::new(),
            },
        })
    }

    /// Iterates over the keys that start with `prefix` together with their values, as owned
    /// [`KeyValue`]s (one more request per key, as [`Cmap::get_value`]). A key deleted between
    /// being listed and being read is skipped. [`Iter::next_value`] reads the same without
    /// copying names or values.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter_values("totem.")? {
    ///     let entry = entry?;
    ///     println!("{} = {:?}", entry.name(), entry.value());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter_values(&self, prefix: &str) -> Result<IterValues<'_>> {
        Ok(IterValues {
            keys: self.iter(prefix)?,
        })
    }
}

/// A key listed by [`Cmap::iter`]: its name, the type of its value and the value's length
/// in bytes (a string's counts its NUL).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let names: Vec<corosync::cmap::KeyName> = cmap
///     .iter("nodelist.")?
///     .map(|entry| entry.map(corosync::cmap::KeyInfo::into_name))
///     .collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    name: KeyName,
    value_type: ValueType,
    value_len: usize,
}

impl KeyInfo {
    /// The key's name.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let first = cmap.iter("totem.")?.next().transpose()?;
    /// if let Some(entry) = first {
    ///     assert!(entry.name().starts_with("totem."));
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The type of the key's value.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter("totem.token")? {
    ///     assert_eq!(entry?.value_type(), corosync::cmap::ValueType::U32);
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// The value's length in bytes, as stored (a string's includes its terminating NUL).
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter("totem.token")? {
    ///     assert_eq!(entry?.value_len(), 4);
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    /// The name, without the rest.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let names: Vec<_> = cmap.iter("")?.filter_map(|e| e.ok()).map(|e| e.into_name()).collect();
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn into_name(self) -> KeyName {
        self.name
    }
}

/// A key and its value, owned; yielded by [`Cmap::iter_values`]. [`KeyValueRef`] is the
/// borrowed form.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let all: std::collections::BTreeMap<_, _> = cmap
///     .iter_values("totem.")?
///     .map(|entry| entry.map(corosync::cmap::KeyValue::into_parts))
///     .collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KeyValue {
    name: KeyName,
    value: Value,
}

impl KeyValue {
    /// The key's name.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter_values("totem.")? {
    ///     assert!(entry?.name().starts_with("totem."));
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The value.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter_values("totem.token")? {
    ///     assert!(matches!(entry?.value(), corosync::cmap::Value::U32(_)));
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The name and the value, taken apart.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter_values("totem.")? {
    ///     let (name, value) = entry?.into_parts();
    ///     println!("{name} = {value:?}");
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn into_parts(self) -> (KeyName, Value) {
        (self.name, self.value)
    }
}

/// A key and its value, borrowed from the [`Iter`] that read them; see
/// [`Iter::next_value`]. Nothing is copied or allocated to make one.
///
/// ```no_run
/// use corosync::cmap::ValueRef;
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let mut iter = cmap.iter("totem.")?;
/// while let Some(entry) = iter.next_value() {
///     let entry = entry?;
///     if let ValueRef::U32(ms) = entry.value() {
///         println!("{} = {ms}", entry.name());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct KeyValueRef<'a> {
    name: &'a str,
    value: ValueRef<'a>,
}

impl<'a> KeyValueRef<'a> {
    /// The key's name.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let mut iter = cmap.iter("totem.")?;
    /// while let Some(entry) = iter.next_value() {
    ///     assert!(entry?.name().starts_with("totem."));
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The value.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let mut iter = cmap.iter("totem.token")?;
    /// while let Some(entry) = iter.next_value() {
    ///     assert!(matches!(entry?.value(), corosync::cmap::ValueRef::U32(_)));
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn value(&self) -> ValueRef<'a> {
        self.value
    }

    /// Copies the name and the value into a [`KeyValue`]; fails only for a string value that
    /// is not UTF-8.
    ///
    /// ```no_run
    /// # let cmap = corosync::cmap::Cmap::new()?;
    /// let mut kept = Vec::new();
    /// let mut iter = cmap.iter("totem.")?;
    /// while let Some(entry) = iter.next_value() {
    ///     kept.push(entry?.to_owned()?);
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn to_owned(&self) -> Result<KeyValue> {
        Ok(KeyValue {
            name: KeyName::from_listed(self.name),
            value: self.value.to_value()?,
        })
    }
}

/// An open iteration over the keys under a prefix; see [`Cmap::iter`].
///
/// As an [`Iterator`] it yields a [`KeyInfo`] per key; [`Iter::next_value`] reads each value
/// too and lends both. After an error it yields nothing more.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let first_three: Vec<_> = cmap.iter("")?.take(3).collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
pub struct Iter<'a> {
    /// Borrowed so that the connection outlives the iteration and cannot be reconnected
    /// (which needs `&mut Cmap`) meanwhile.
    cmap: &'a Cmap,
    raw: sys::cmap_iter_handle_t,
    done: bool,
    /// The current key's name, NUL-terminated by libcmap: written in place for each key
    /// (zeroed only once, here) and handed to `cmap_get` as it is.
    name: [c_char; NAME_BUF_LEN],
    /// The current value for [`Iter::next_value`], reused from key to key, so reading a
    /// value copies and allocates nothing on the Rust side.
    value: ValueBuf,
}

/// Where [`Iter::next_value`] reads values: in place for the usual short values (as C code
/// would, on its stack), on the heap only for a longer one.
struct ValueBuf {
    inline: [u8; super::STACK_VALUE_LEN],
    /// Grows to the longest value above `inline`'s size read so far.
    spill: Vec<u8>,
}

impl ValueBuf {
    /// A buffer of at least `want` bytes (at least the inline one's size).
    #[inline]
    fn with_room(&mut self, want: usize) -> &mut [u8] {
        if want <= self.inline.len() {
            return &mut self.inline;
        }
        if self.spill.len() < want {
            self.spill.resize(want, 0);
        }
        &mut self.spill
    }

    /// The first `len` bytes of the buffer `with_room(want)` returned.
    #[inline]
    fn filled(&self, want: usize, len: usize) -> &[u8] {
        if want <= self.inline.len() {
            &self.inline[..len]
        } else {
            &self.spill[..len]
        }
    }
}

impl Iter<'_> {
    /// Asks libcmap for the next key: its name (left in `self.name`; its length and whether it
    /// is ASCII returned), type and length. `None` at the end or after an error.
    // Always inlined: a call here is one more cold entry after each request, and in
    // `next_value` the type conversion it returns is then dropped unused.
    #[inline(always)]
    fn advance(&mut self) -> Option<Result<(usize, bool, ValueType, usize)>> {
        if self.done {
            return None;
        }
        let mut len: usize = 0;
        let mut raw_type: sys::cmap_value_types_t = 0;
        // SAFETY: the handle and iteration are live; `name` has room for the longest name the
        // protocol carries plus its NUL; `len` and `raw_type` are writable.
        let code = unsafe {
            sys::cmap_iter_next(
                self.cmap.raw(),
                self.raw,
                self.name.as_mut_ptr(),
                &mut len,
                &mut raw_type,
            )
        };
        let result = match cs_result(code) {
            Ok(()) => {
                let (name, ascii) = cstr::from_c_array_ascii(&self.name);
                Ok((name.len(), ascii, ValueType::from(raw_type), len))
            }
            // The daemon's "no more keys".
            Err(Error::NoSections) => {
                self.done = true;
                return None;
            }
            Err(err) => Err(err),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    /// Advances to the next key and reads its value, lending both: the name and the value
    /// borrow this iterator's buffers, which the next call reuses (so nothing is copied or
    /// allocated per key once the buffer fits the longest value). A key deleted between being
    /// listed and being read is skipped. After an error it returns `None`.
    ///
    /// It is a method rather than an [`Iterator`] because each entry borrows the iterator:
    /// loop with `while let`.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// let mut iter = cmap.iter("runtime.")?;
    /// let mut count = 0;
    /// while let Some(entry) = iter.next_value() {
    ///     let entry = entry?;
    ///     count += 1;
    ///     println!("{} = {:?}", entry.name(), entry.value());
    /// }
    /// println!("{count} keys");
    /// # Ok(()) }
    /// ```
    #[doc(alias = "cmap_get")]
    #[inline(always)]
    pub fn next_value(&mut self) -> Option<Result<KeyValueRef<'_>>> {
        let mut read = Read::default();
        if let Err(err) = self.read_next(&mut read)? {
            return Some(Err(err));
        }
        match ValueRef::from_raw(read.raw_type, self.value.filled(read.room, read.len)) {
            Ok(value) => Some(Ok(KeyValueRef {
                name: self.read_name(&read),
                value,
            })),
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }

    /// Advances to the next key and reads its value into `self.value`, its name left
    /// checked in `self.name`: what [`Iter::next_value`] and [`IterValues`] share, each then
    /// making its own kind of value from the bytes. A key deleted between being listed and
    /// being read is skipped. `None` at the end or after an error.
    ///
    /// What it read goes to `read` rather than into the return value: a `Read` inside an
    /// `Option<Result<_>>` was packed into registers and out again (8 instructions a key).
    #[inline(always)]
    fn read_next(&mut self, read: &mut Read) -> Option<Result<()>> {
        loop {
            let (name_len, ascii, _, listed_len) = match self.advance()? {
                Ok(entry) => entry,
                Err(err) => return Some(Err(err)),
            };
            if let Err(err) = name_str(&self.name, name_len, ascii) {
                self.done = true;
                return Some(Err(err));
            }
            match read_value(self.cmap, &self.name, &mut self.value, listed_len) {
                Ok((raw_type, room, len)) => {
                    *read = Read {
                        name_len,
                        raw_type,
                        room,
                        len,
                    };
                    return Some(Ok(()));
                }
                // Deleted since it was listed.
                Err(Error::NotExist) => continue,
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
    }

    /// The name of the key `read` read.
    #[inline(always)]
    fn read_name(&self, read: &Read) -> &str {
        // SAFETY: a `Read` is the default (an empty name) or was filled by the last
        // `read_next` of this iterator, which checked these bytes as UTF-8 (`name_str`);
        // only `value` was written since (both callers call this right after it).
        unsafe { std::str::from_utf8_unchecked(name_bytes(&self.name, read.name_len)) }
    }
}

/// What [`Iter::read_next`] read: the name's length in `Iter::name`, and the value's type,
/// the room it asked `Iter::value` for and its length (for [`ValueBuf::filled`]).
#[derive(Default)]
struct Read {
    name_len: usize,
    raw_type: sys::cmap_value_types_t,
    room: usize,
    len: usize,
}

/// The first `len` bytes of a name libcmap wrote (which hold no NUL; `ascii` if they are
/// ASCII), as a `&str`: checked as [`KeyName`] checks a name.
#[inline]
fn name_str(name: &[c_char; NAME_BUF_LEN], len: usize, ascii: bool) -> Result<&str> {
    if len > super::KEY_NAME_MAX_LEN {
        return Err(Error::TooLong {
            what: "cmap key name",
            length: len,
            max: super::KEY_NAME_MAX_LEN,
        });
    }
    cstr::utf8(name_bytes(name, len), ascii).map_err(|_| Error::InvalidUtf8 {
        what: "cmap key name",
    })
}

/// The first `len` bytes of a name libcmap wrote.
#[inline]
fn name_bytes(name: &[c_char; NAME_BUF_LEN], len: usize) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment; `len` is at most the buffer's
    // length (it came from `cstr::from_c_array` over it, or was checked against it).
    unsafe { std::slice::from_raw_parts(name.as_ptr().cast::<u8>(), len.min(NAME_BUF_LEN)) }
}

/// Reads the value of the key whose NUL-terminated name libcmap left in `name` into `buf`
/// (`cmap_get`), and returns its type, the room it asked `buf` for and its length (for
/// [`ValueBuf::filled`]). `listed_len` is the length `cmap_iter_next` reported; a value that
/// grew since is read again into a larger buffer.
///
/// Only the usual case is inlined into `next_value`: a value that fits the inline buffer,
/// read at the first try. Everything else (a longer value, one that grew, an error) goes to
/// [`read_value_rest`], so that the loop's code does not lie between the requests of
/// every key (unrolled, it made `next_value` 2.5 KiB of code to fetch after each request).
#[inline(always)]
fn read_value(
    cmap: &Cmap,
    name: &[c_char; NAME_BUF_LEN],
    buf: &mut ValueBuf,
    listed_len: usize,
) -> Result<(sys::cmap_value_types_t, usize, usize)> {
    if listed_len > buf.inline.len() {
        return read_value_rest(cmap, name, buf, listed_len, None);
    }
    let answer = get_into(cmap, name, &mut buf.inline);
    match answer {
        (sys::CS_OK, raw_type, len) if len <= buf.inline.len() => Ok((raw_type, listed_len, len)),
        _ => read_value_rest(cmap, name, buf, listed_len, Some(answer)),
    }
}

/// The rest of [`read_value`]: up to four tries (counting `first`, the answer to a try with
/// room for `listed_len` already made), each with twice the room of the one before while
/// libcmap answers that the buffer is too small.
#[cold]
#[inline(never)]
fn read_value_rest(
    cmap: &Cmap,
    name: &[c_char; NAME_BUF_LEN],
    buf: &mut ValueBuf,
    listed_len: usize,
    mut first: Option<(sys::cs_error_t, sys::cmap_value_types_t, usize)>,
) -> Result<(sys::cmap_value_types_t, usize, usize)> {
    // Never below STACK_VALUE_LEN (`with_room`'s least), as for every cmap_get of this crate:
    // the stats map does not check the buffer's length, and none of its values is longer.
    let mut want = listed_len;
    for _ in 0..4 {
        let value = buf.with_room(want);
        let (code, raw_type, len) = match first.take() {
            Some(answer) => answer,
            None => get_into(cmap, name, value),
        };
        match cs_result(code) {
            Ok(()) if len <= value.len() => return Ok((raw_type, want, len)),
            Ok(()) => {
                return Err(Error::UnexpectedValue {
                    what: "cmap value length",
                    value: len as i64,
                })
            }
            // libcmap's answer to a buffer that is too small: the value grew since it was
            // listed. Try with room for twice as much.
            Err(Error::InvalidParam) => want = value.len() * 2,
            Err(err) => return Err(err),
        }
    }
    Err(Error::InvalidParam)
}

/// One `cmap_get` of the key whose name libcmap left in `name` ([`Cmap::get_raw`]).
#[inline(always)]
fn get_into(
    cmap: &Cmap,
    name: &[c_char; NAME_BUF_LEN],
    value: &mut [u8],
) -> (sys::cs_error_t, sys::cmap_value_types_t, usize) {
    // SAFETY: libcmap wrote a NUL-terminated name into `name` (at most CS_MAX_NAME_LENGTH
    // bytes and the NUL, which the buffer holds).
    unsafe { cmap.get_raw(name.as_ptr(), value) }
}

impl Iterator for Iter<'_> {
    type Item = Result<KeyInfo>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = self
            .advance()?
            .and_then(|(name_len, ascii, value_type, value_len)| {
                Ok(KeyInfo {
                    name: KeyName::from_listed(name_str(&self.name, name_len, ascii)?),
                    value_type,
                    value_len,
                })
            });
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl FusedIterator for Iter<'_> {}

impl Drop for Iter<'_> {
    fn drop(&mut self) {
        // An error means the connection is gone, and the iteration with it.
        // SAFETY: the handle is live (borrowed) and the iteration is finalized only here.
        let _ = unsafe { sys::cmap_iter_finalize(self.cmap.raw(), self.raw) };
    }
}

impl std::fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("iter_handle", &self.raw)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// An open iteration that also reads each value; see [`Cmap::iter_values`].
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let all: Vec<corosync::cmap::KeyValue> = cmap.iter_values("")?.collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct IterValues<'a> {
    keys: Iter<'a>,
}

impl Iterator for IterValues<'_> {
    type Item = Result<KeyValue>;

    // Inlined into the caller's loop, as std's iterators are: no call per key, and the
    // ~300-byte `KeyValue` is built in the loop's frame (still moved once into the
    // `Option`, a `memcpy` call; see BENCHMARKS.md).
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let keys = &mut self.keys;
        let mut read = Read::default();
        if let Err(err) = keys.read_next(&mut read)? {
            return Some(Err(err));
        }
        match Value::from_raw(read.raw_type, keys.value.filled(read.room, read.len)) {
            Ok(value) => Some(Ok(KeyValue {
                name: KeyName::from_listed(keys.read_name(&read)),
                value,
            })),
            Err(err) => {
                keys.done = true;
                Some(Err(err))
            }
        }
    }
}

impl FusedIterator for IterValues<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name buffer as libcmap leaves it: the name, then NULs.
    fn buffer(name: &[u8]) -> [c_char; NAME_BUF_LEN] {
        let mut buf = [0 as c_char; NAME_BUF_LEN];
        for (dst, &src) in buf.iter_mut().zip(name) {
            *dst = src as c_char;
        }
        buf
    }

    /// `name_str` with the length and ASCII flag found as `advance` finds them.
    fn listed(name: &[u8]) -> Result<String> {
        let buf = buffer(name);
        let (bytes, ascii) = cstr::from_c_array_ascii(&buf);
        name_str(&buf, bytes.len(), ascii).map(str::to_owned)
    }

    #[test]
    fn listed_names_are_checked_once_and_copied_whole() {
        assert_eq!(listed(b"totem.token").unwrap(), "totem.token");
        assert_eq!(listed("n\u{e6}m".as_bytes()).unwrap(), "n\u{e6}m");
        assert_eq!(
            listed(b"a\xffb"),
            Err(Error::InvalidUtf8 {
                what: "cmap key name"
            })
        );
        let longest = vec![b'k'; super::super::KEY_NAME_MAX_LEN];
        let name = listed(&longest).unwrap();
        assert_eq!(KeyName::from_listed(&name).as_str(), name);
        assert_eq!(
            listed(&[b'k'; NAME_BUF_LEN - 1]),
            Err(Error::TooLong {
                what: "cmap key name",
                length: NAME_BUF_LEN - 1,
                max: super::super::KEY_NAME_MAX_LEN,
            })
        );
    }
}
