//! Buffers and lists that C hands to callbacks, lent to closures in place, read by their
//! length (never searched for a terminator).

use std::ffi::c_void;

use crate::NodeId;

/// The `len` bytes at `ptr` (null or empty gives an empty slice).
///
/// # Safety
/// If `len > 0` and `ptr` is not null, `ptr` points to `len` readable bytes valid for `'a`.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_void, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `len` readable bytes at `ptr`; u8 needs no alignment.
        unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
    }
}

/// Calls `f` with the `len` elements at `ptr` (null or empty gives an empty slice): borrowed
/// in place when the pointer is suitably aligned (always, in practice: the libraries' lists
/// are typed C arrays or aligned fields of their message structs), copied otherwise, so that
/// a misaligned pointer is never undefined behaviour.
///
/// # Safety
/// If `len > 0` and `ptr` is not null, `ptr` points to `len` initialized elements that stay
/// valid during the call.
pub(crate) unsafe fn with_c_list<T: Copy, R>(
    ptr: *const T,
    len: usize,
    f: impl FnOnce(&[T]) -> R,
) -> R {
    if ptr.is_null() || len == 0 {
        return f(&[]);
    }
    if ptr.align_offset(std::mem::align_of::<T>()) == 0 {
        // SAFETY: non-null, aligned, and `len` valid elements per the caller.
        f(unsafe { std::slice::from_raw_parts(ptr, len) })
    } else {
        let copy: Vec<T> = (0..len)
            // SAFETY: element `i < len` is valid per the caller; read_unaligned needs no
            // alignment.
            .map(|i| unsafe { ptr.add(i).read_unaligned() })
            .collect();
        f(&copy)
    }
}

/// [`with_c_list`] for a C list of node ids, lent as `&[NodeId]`.
///
/// # Safety
/// As for [`with_c_list`].
pub(crate) unsafe fn with_node_ids<R>(
    ptr: *const u32,
    len: usize,
    f: impl FnOnce(&[NodeId]) -> R,
) -> R {
    // SAFETY: forwarded from the caller.
    unsafe { with_c_list(ptr, len, |ids| f(NodeId::from_raw_slice(ids))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lent_in_place_or_copied_when_misaligned() {
        let data = [4u32, 5];
        // SAFETY: `data` holds 2 elements.
        let ids = unsafe { with_node_ids(data.as_ptr(), 2, <[NodeId]>::to_vec) };
        assert_eq!(ids, vec![NodeId::from(4), NodeId::from(5)]);
        // SAFETY: the slice lent is `data` itself, not a copy.
        let same = unsafe { with_c_list(data.as_ptr(), 2, |s| s.as_ptr() == data.as_ptr()) };
        assert!(same);
        // SAFETY: a null pointer gives an empty slice whatever the length.
        let empty = unsafe { with_c_list(std::ptr::null::<u32>(), 3, |s| s.len()) };
        assert_eq!(empty, 0);

        #[repr(C, align(4))]
        struct Aligned([u8; 8]);
        let buf = Aligned([0, 7, 0, 0, 0, 0, 0, 0]);
        let ptr = buf.0[1..].as_ptr().cast::<u32>();
        assert_ne!(ptr.align_offset(4), 0);
        // SAFETY: 4 readable bytes at `ptr`, read unaligned.
        let ids = unsafe { with_node_ids(ptr, 1, <[NodeId]>::to_vec) };
        assert_eq!(ids, vec![NodeId::from(u32::from_ne_bytes([7, 0, 0, 0]))]);
    }

    #[test]
    fn bytes_are_read_by_length() {
        let data = b"ab\0cd";
        // SAFETY: 5 readable bytes.
        assert_eq!(unsafe { c_bytes(data.as_ptr().cast(), 5) }, b"ab\0cd");
        // SAFETY: null gives an empty slice.
        assert_eq!(unsafe { c_bytes(std::ptr::null(), 9) }, b"");
    }
}
