//! Strings handed to C: checked for NUL bytes and length, terminated without a heap
//! allocation when they are short.

use std::ffi::c_char;

use crate::{Error, Result};

/// Longest string (without its NUL) that is terminated on the stack; longer ones use the heap.
const STACK_CAPACITY: usize = 256;

/// Calls `f` with a NUL-terminated copy of `bytes`.
///
/// `bytes` must not contain NUL (C would stop reading there) and must be at most `max_len`
/// bytes long when a limit is given; `what` names the string in the error.
pub(crate) fn with_c_str<R>(
    what: &'static str,
    bytes: &[u8],
    max_len: Option<usize>,
    f: impl FnOnce(*const c_char) -> R,
) -> Result<R> {
    check(what, bytes, max_len)?;
    if bytes.len() < STACK_CAPACITY {
        let mut buf = [0u8; STACK_CAPACITY];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(f(buf.as_ptr().cast()))
    } else {
        let mut owned = Vec::with_capacity(bytes.len() + 1);
        owned.extend_from_slice(bytes);
        owned.push(0);
        Ok(f(owned.as_ptr().cast()))
    }
}

/// The checks of [`with_c_str`], for callers that lay the string out themselves.
#[inline]
pub(crate) fn check(what: &'static str, bytes: &[u8], max_len: Option<usize>) -> Result<()> {
    if let Some(position) = bytes.iter().position(|&b| b == 0) {
        return Err(Error::InteriorNul { what, position });
    }
    match max_len {
        Some(max) if bytes.len() > max => Err(Error::TooLong {
            what,
            length: bytes.len(),
            max,
        }),
        _ => Ok(()),
    }
}

/// Reads a NUL-terminated string out of a fixed-size C array, never past its end.
pub(crate) fn from_c_array(array: &[c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(array.as_ptr().cast::<u8>(), array.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn round_trip(bytes: &[u8]) -> Result<Vec<u8>> {
        // SAFETY: with_c_str hands over a NUL-terminated string valid during the call.
        with_c_str("test", bytes, Some(1000), |p| unsafe {
            CStr::from_ptr(p).to_bytes().to_vec()
        })
    }

    #[test]
    fn short_and_long_strings_arrive_whole() {
        assert_eq!(round_trip(b"").unwrap(), b"");
        assert_eq!(round_trip(b"totem.token").unwrap(), b"totem.token");
        let long = vec![b'x'; 600];
        assert_eq!(round_trip(&long).unwrap(), long);
        let edge = vec![b'y'; STACK_CAPACITY - 1];
        assert_eq!(round_trip(&edge).unwrap(), edge);
        let edge = vec![b'z'; STACK_CAPACITY];
        assert_eq!(round_trip(&edge).unwrap(), edge);
    }

    #[test]
    fn nul_and_length_are_refused() {
        assert_eq!(
            round_trip(b"ab\0c"),
            Err(Error::InteriorNul {
                what: "test",
                position: 2
            })
        );
        assert_eq!(
            round_trip(&[b'a'; 1001]),
            Err(Error::TooLong {
                what: "test",
                length: 1001,
                max: 1000
            })
        );
    }

    #[test]
    fn arrays_are_read_up_to_nul_or_end() {
        let a: [c_char; 4] = [b'a' as c_char, b'b' as c_char, 0, b'c' as c_char];
        assert_eq!(from_c_array(&a), b"ab");
        let full: [c_char; 2] = [b'a' as c_char, b'b' as c_char];
        assert_eq!(from_c_array(&full), b"ab");
    }
}
