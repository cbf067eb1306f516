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
    if let Some(position) = nul_position(bytes) {
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
#[inline]
pub(crate) fn from_c_array(array: &[c_char]) -> &[u8] {
    from_c_array_ascii(array).0
}

/// As [`from_c_array`], and whether the string is ASCII, found in the same pass.
#[inline(always)]
pub(crate) fn from_c_array_ascii(array: &[c_char]) -> (&[u8], bool) {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(array.as_ptr().cast::<u8>(), array.len()) };
    until_nul_ascii(bytes)
}

/// The bytes before the first NUL (all of them if there is none), and whether they are ASCII.
#[inline(always)]
pub(crate) fn until_nul_ascii(bytes: &[u8]) -> (&[u8], bool) {
    let scan = scan(bytes);
    (&bytes[..scan.len], scan.ascii)
}

/// `bytes` as a `&str`, for bytes that [`until_nul_ascii`] or [`from_c_array_ascii`] found
/// (`ascii` as they said): ASCII needs no second pass (every name and most values corosync
/// makes are ASCII), anything else is checked by `from_utf8`.
#[inline(always)]
pub(crate) fn utf8(bytes: &[u8], ascii: bool) -> std::result::Result<&str, std::str::Utf8Error> {
    if ascii {
        // SAFETY: ASCII is UTF-8, and the caller's scan found these bytes ASCII.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

/// The index of the first NUL in `bytes`.
#[inline]
pub(crate) fn nul_position(bytes: &[u8]) -> Option<usize> {
    let scan = scan(bytes);
    scan.terminated.then_some(scan.len)
}

/// What [`scan`] found.
struct Scan {
    /// Bytes before the first NUL (all of them if there is none).
    len: usize,
    terminated: bool,
    /// Whether those bytes are ASCII.
    ascii: bool,
}

/// Looks for the first NUL in `bytes` and finds whether the bytes before it are ASCII, in
/// one pass: sixteen bytes at a time with SSE2 (part of every x86_64 CPU) where there are
/// sixteen, else eight at a time ([`scan_words`]). For the short names the crate reads after
/// every request this is a fraction of the instructions of `iter().position` (a vector loop
/// with a long reduction, or a byte loop), of `CStr::from_bytes_until_nul` (out of line) or
/// of `strlen` followed by an ASCII check. Callers that do not use `ascii` have its work
/// optimised away. Always inlined: it runs between two requests, where a call is one more
/// piece of code to fetch.
#[inline(always)]
fn scan(bytes: &[u8]) -> Scan {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 16 {
        return scan_sse2(bytes);
    }
    scan_words(bytes)
}

/// [`scan`] sixteen bytes at a time, for at least sixteen bytes; a tail shorter than sixteen
/// is read as the last sixteen bytes, overlapping bytes already read.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan_sse2(bytes: &[u8]) -> Scan {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_setzero_si128,
    };
    assert!(bytes.len() >= 16);
    // One bit per byte of the sixteen at `start`: (is NUL, has its high bit set).
    let masks_at = |start: usize| -> (u32, u32) {
        assert!(start + 16 <= bytes.len());
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics exist on every
        // CPU this code runs on; the load is unaligned and reads the 16 bytes at `start`,
        // which the assertion keeps inside `bytes`.
        unsafe {
            let chunk = _mm_loadu_si128(bytes.as_ptr().add(start).cast::<__m128i>());
            let nul = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_setzero_si128()));
            (nul as u32, _mm_movemask_epi8(chunk) as u32)
        }
    };
    let found = |start: usize, nul: u32, high: u32, high_before: u32| {
        let before = nul.trailing_zeros();
        Scan {
            len: start + before as usize,
            terminated: true,
            // No high bit before the NUL (`trailing_zeros` of 0 is 32).
            ascii: high_before == 0 && high.trailing_zeros() >= before,
        }
    };
    let mut high_bits = 0u32;
    let mut offset = 0;
    while offset + 16 <= bytes.len() {
        let (nul, high) = masks_at(offset);
        if nul != 0 {
            return found(offset, nul, high, high_bits);
        }
        high_bits |= high;
        offset += 16;
    }
    if offset < bytes.len() {
        // The bytes before `offset` hold no NUL, so a NUL found here is at or after it.
        let start = bytes.len() - 16;
        let (nul, high) = masks_at(start);
        if nul != 0 {
            return found(start, nul, high, high_bits);
        }
        high_bits |= high;
    }
    Scan {
        len: bytes.len(),
        terminated: false,
        ascii: high_bits == 0,
    }
}

/// [`scan`] eight bytes at a time, with a tail shorter than a word read as the last eight
/// bytes, overlapping bytes already read.
#[inline(always)]
fn scan_words(bytes: &[u8]) -> Scan {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let word_at =
        |start: usize| u64::from_le_bytes(bytes[start..start + 8].try_into().expect("eight bytes"));
    // A byte's high bit is set in `zeros` if the byte is zero, and possibly for bytes after
    // the first zero (a borrow), never before it: the lowest set bit marks the first.
    let zeros = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let found = |start: usize, word: u64, zeros: u64, high_bits: u64| {
        let before = zeros.trailing_zeros() as usize / 8;
        Scan {
            len: start + before,
            terminated: true,
            ascii: (high_bits | (word & ((1u64 << (8 * before)) - 1))) & HIGHS == 0,
        }
    };
    let mut high_bits = 0u64;
    let mut offset = 0;
    while offset + 8 <= bytes.len() {
        let word = word_at(offset);
        let zeros = zeros(word);
        if zeros != 0 {
            return found(offset, word, zeros, high_bits);
        }
        high_bits |= word;
        offset += 8;
    }
    if offset < bytes.len() && bytes.len() >= 8 {
        // The bytes before `offset` hold no NUL, so a NUL found here is at or after it.
        let start = bytes.len() - 8;
        let word = word_at(start);
        let zeros = zeros(word);
        if zeros != 0 {
            return found(start, word, zeros, high_bits);
        }
        high_bits |= word;
        offset = bytes.len();
    }
    let rest = &bytes[offset..];
    let nul = rest.iter().position(|&b| b == 0);
    let end = nul.unwrap_or(rest.len());
    Scan {
        len: offset + end,
        terminated: nul.is_some(),
        ascii: high_bits & HIGHS == 0 && rest[..end].is_ascii(),
    }
}

/// Copies `src` to `dst`, for a name of up to 32 bytes as two overlapping moves of the
/// widest size that fits, without a call to `memcpy` (whose call and dispatch on the
/// length cost as much as all the other work of laying out a key); longer ones with
/// `copy_nonoverlapping`.
///
/// # Safety
/// `dst` is valid for writes of `src.len()` bytes and does not overlap `src`.
#[inline(always)]
pub(crate) unsafe fn copy_short(src: &[u8], dst: *mut u8) {
    /// Copies the first and the last `N` bytes (`N <= len <= 2 * N`), which cover all.
    ///
    /// # Safety
    /// As `copy_short`, with `N <= src.len()`.
    #[inline(always)]
    unsafe fn ends<const N: usize>(src: &[u8], dst: *mut u8) {
        let (len, src) = (src.len(), src.as_ptr());
        // SAFETY: `N <= len`, so both reads stay inside `src` and both writes inside the
        // `len` bytes the caller guarantees at `dst`; unaligned reads and writes are allowed.
        unsafe {
            let head = src.cast::<[u8; N]>().read_unaligned();
            let tail = src.add(len - N).cast::<[u8; N]>().read_unaligned();
            dst.cast::<[u8; N]>().write_unaligned(head);
            dst.add(len - N).cast::<[u8; N]>().write_unaligned(tail);
        }
    }
    let len = src.len();
    // SAFETY: in every branch, the caller's guarantee, and that branch's `N <= len`.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                for (i, &b) in src.iter().enumerate() {
                    dst.add(i).write(b);
                }
            }
            4..=7 => ends::<4>(src, dst),
            8..=15 => ends::<8>(src, dst),
            16..=32 => ends::<16>(src, dst),
            _ => std::ptr::copy_nonoverlapping(src.as_ptr(), dst, len),
        }
    }
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
    fn the_first_nul_is_found_at_every_position() {
        for len in 0..40 {
            for nul in 0..=len {
                let mut bytes: Vec<u8> = (0..len).map(|i| 1 + (i as u8 % 200)).collect();
                if nul < len {
                    bytes[nul] = 0;
                    // A second NUL and bytes that borrow (0x01, 0x80, 0xff) after it.
                    for (i, b) in bytes.iter_mut().enumerate().skip(nul + 1) {
                        *b = [0, 1, 0x80, 0xff][i % 4];
                    }
                }
                let expected = bytes.iter().position(|&b| b == 0);
                assert_eq!(nul_position(&bytes), expected, "len {len}, NUL at {nul}");
                // SAFETY: u8 and c_char have the same layout.
                let array = unsafe { &*(bytes.as_slice() as *const [u8] as *const [c_char]) };
                let string = &bytes[..expected.unwrap_or(len)];
                assert_eq!(from_c_array(array), string);
                assert_eq!(from_c_array_ascii(array), (string, true));
                // A non-ASCII byte counts before the NUL and not after it.
                for at in 0..len {
                    let mut high = bytes.clone();
                    high[at] = 0xc3;
                    // SAFETY: as above.
                    let array = unsafe { &*(high.as_slice() as *const [u8] as *const [c_char]) };
                    let (string, ascii) = from_c_array_ascii(array);
                    let end = high.iter().position(|&b| b == 0).unwrap_or(len);
                    assert_eq!(string, &high[..end]);
                    assert_eq!(ascii, at >= end, "len {len}, NUL at {nul}, 0xc3 at {at}");
                }
            }
        }
        // Bytes around 0x00 and 0x80 before the NUL do not stop the search early.
        assert_eq!(
            nul_position(&[0x80, 0x01, 0x81, 0xff, 0x7f, 0x01, 0x02, 0x80, 0x01, 0]),
            Some(9)
        );
    }

    /// What [`scan`] must find, byte by byte.
    fn expected_scan(bytes: &[u8]) -> (usize, bool, bool) {
        let nul = bytes.iter().position(|&b| b == 0);
        let len = nul.unwrap_or(bytes.len());
        (len, nul.is_some(), bytes[..len].is_ascii())
    }

    #[test]
    fn both_scans_agree_with_a_byte_loop() {
        type ScanFn = fn(&[u8]) -> Scan;
        let mut scans: Vec<(&str, ScanFn)> = vec![("words", scan_words)];
        #[cfg(target_arch = "x86_64")]
        scans.push(("sse2", scan_sse2));
        for (name, scan) in scans {
            let least = if name == "sse2" { 16 } else { 0 };
            for len in least..72 {
                // No NUL, or one at each position; then no high byte, or one at each position.
                for nul in 0..=len {
                    for high in 0..=len {
                        let mut bytes: Vec<u8> = (0..len).map(|i| 1 + (i as u8 % 0x7f)).collect();
                        if nul < len {
                            bytes[nul] = 0;
                        }
                        if high < len {
                            bytes[high] |= 0x80;
                        }
                        let found = scan(&bytes);
                        assert_eq!(
                            (found.len, found.terminated, found.ascii),
                            expected_scan(&bytes),
                            "{name}: len {len}, NUL at {nul}, high byte at {high}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn short_copies_copy_every_byte_of_every_length() {
        let src: Vec<u8> = (1..=80).collect();
        for len in 0..=src.len() {
            let mut dst = vec![0u8; len + 2];
            // SAFETY: `dst` has room for `len` bytes after its first and does not overlap.
            unsafe { copy_short(&src[..len], dst.as_mut_ptr().add(1)) };
            assert_eq!(&dst[1..=len], &src[..len], "len {len}");
            assert_eq!(
                (dst[0], dst[len + 1]),
                (0, 0),
                "len {len}: nothing around it"
            );
        }
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
