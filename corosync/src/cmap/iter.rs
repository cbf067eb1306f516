//! Iteration over the keys under a prefix.

use std::iter::FusedIterator;

use corosync_sys as sys;

use super::key::{KeyBuf, KeyName};
use super::{Cmap, Value, ValueType};
use crate::error::cs_result;
use crate::{Error, Result};

impl Cmap {
    /// Iterates over the keys that start with `prefix` (`""` for all), yielding each key's
    /// name, type and length in bytes (`cmap_iter_init`, `cmap_iter_next`). Dropping the
    /// iterator ends the iteration in the daemon (`cmap_iter_finalize`), also when it stops
    /// early.
    ///
    /// The daemon walks its map in key order while the iteration is open; keys added or
    /// deleted meanwhile may or may not be seen.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter("nodelist.node.")? {
    ///     let (key, value_type, len) = entry?;
    ///     println!("{key} ({value_type}, {len} bytes)");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self, prefix: &str) -> Result<Iter<'_>> {
        let prefix = KeyBuf::prefix(prefix)?;
        let mut raw: sys::cmap_iter_handle_t = 0;
        // SAFETY: the handle is live, the prefix is NUL-terminated and `raw` is writable.
        cs_result(unsafe { sys::cmap_iter_init(self.raw(), prefix.as_ptr(), &mut raw) })?;
        Ok(Iter {
            cmap: self,
            raw,
            done: false,
        })
    }

    /// Iterates over the keys that start with `prefix` together with their values (one more
    /// request per key, see [`Cmap::get_value`]). A key deleted between being listed and
    /// being read is skipped.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cmap = corosync::cmap::Cmap::new()?;
    /// for entry in cmap.iter_values("totem.")? {
    ///     let (key, value) = entry?;
    ///     println!("{key} = {value:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter_values(&self, prefix: &str) -> Result<IterValues<'_>> {
        Ok(IterValues {
            keys: self.iter(prefix)?,
        })
    }
}

/// An open iteration over the keys under a prefix; see [`Cmap::iter`].
///
/// Yields `(name, type, length)`; after an error it yields nothing more.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let first_three: Vec<_> = cmap.iter("")?.take(3).collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
pub struct Iter<'a> {
    cmap: &'a Cmap,
    raw: sys::cmap_iter_handle_t,
    done: bool,
}

impl Iterator for Iter<'_> {
    type Item = Result<(KeyName, ValueType, usize)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // libcmap writes the name and a NUL: CS_MAX_NAME_LENGTH + 1 bytes at most.
        let mut name = [0u8; sys::CS_MAX_NAME_LENGTH as usize + 1];
        let mut len: usize = 0;
        let mut raw_type: sys::cmap_value_types_t = 0;
        // SAFETY: the handle and iteration are live; `name` has room for the longest name the
        // protocol carries plus its NUL; `len` and `raw_type` are writable.
        let code = unsafe {
            sys::cmap_iter_next(
                self.cmap.raw(),
                self.raw,
                name.as_mut_ptr().cast(),
                &mut len,
                &mut raw_type,
            )
        };
        let result = match cs_result(code) {
            Ok(()) => {
                let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                KeyName::from_bytes(&name[..end])
                    .and_then(|key| Ok((key, ValueType::from_raw(raw_type)?, len)))
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
/// let all: std::collections::BTreeMap<_, _> =
///     cmap.iter_values("")?.collect::<corosync::Result<_>>()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct IterValues<'a> {
    keys: Iter<'a>,
}

impl Iterator for IterValues<'_> {
    type Item = Result<(KeyName, Value)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, _, _) = match self.keys.next()? {
                Ok(entry) => entry,
                Err(err) => return Some(Err(err)),
            };
            match self.keys.cmap.get_value(&key) {
                Ok(value) => return Some(Ok((key, value))),
                Err(Error::NotExist) => continue,
                Err(err) => {
                    self.keys.done = true;
                    return Some(Err(err));
                }
            }
        }
    }
}

impl FusedIterator for IterValues<'_> {}
