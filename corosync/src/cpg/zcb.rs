//! Zero-copy send buffers (`cpg_zcb_*`).

use std::ffi::c_void;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::time::Instant;

use corosync_sys as sys;

use super::{Cpg, Guarantee, ZCB_MAX_LEN};
use crate::error::cs_result;
use crate::{Error, Result};

/// A send buffer from [`Cpg::zcb_alloc`] (shared with the daemon on corosync 3.1): fill it
/// through `DerefMut<Target = [u8]>`, send it with [`ZeroCopyBuffer::mcast`], send it again as
/// often as you like; it is freed (`cpg_zcb_free`) when dropped. It borrows its handle, so it
/// cannot outlive it.
///
/// With corosync 3.1.0 to 3.1.10 the buffer is a file in /dev/shm that libcpg and the daemon
/// both map: `cpg_zcb_mcast_joined` only tells the daemon to read the message from there, and
/// the daemon has copied it into its totem queue when the call returns, so the buffer may be
/// changed and sent again at once. Upstream main after 3.1.10 (the change "CPG: Remove
/// zero-copy CPG", August 2026) implements the same calls with `malloc`, a normal
/// `cpg_mcast_joined` (the message is copied through the IPC ring) and `free`; this type
/// behaves the same with either. The [module docs](super#zero-copy-sends) compare them.
///
/// libcpg 3.1.x aborts the process (a C `assert`) if it cannot create the file in /dev/shm
/// (or /var/run), e.g. when /dev/shm is full.
///
/// ```no_run
/// use corosync::cpg::{Cpg, GroupName, Guarantee};
/// let cpg = Cpg::new()?;
/// cpg.join(&GroupName::new("zc")?)?;
/// let mut buffer = cpg.zcb_alloc(4096)?;
/// buffer.fill(0xab);
/// buffer.mcast(Guarantee::Agreed)?;
/// buffer[0] = 1;
/// buffer.mcast_prefix(Guarantee::Agreed, 16)?; // only the first 16 bytes
/// # Ok::<(), corosync::Error>(())
/// ```
pub struct ZeroCopyBuffer<'a> {
    cpg: &'a Cpg,
    data: NonNull<u8>,
    len: usize,
}

impl Cpg {
    /// Allocates a zero-copy send buffer of `size` bytes, zero-filled (`cpg_zcb_alloc`).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `size` is more than the largest message the daemon delivers
    /// in one piece, [`max_atomic_msgsize`](Cpg::max_atomic_msgsize) (1 MiB minus 1 KiB):
    /// zero-copy messages are not fragmented, and libcpg 3.1.7 accepts up to 1 MiB, but the
    /// daemon silently drops a message it cannot fit into its receivers' event buffers (and
    /// delivers nothing to them afterwards). A C error if the daemon refuses.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// let buffer = cpg.zcb_alloc(1024)?;
    /// assert_eq!(buffer.len(), 1024);
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_zcb_alloc")]
    pub fn zcb_alloc(&self, size: usize) -> Result<ZeroCopyBuffer<'_>> {
        if size > ZCB_MAX_LEN {
            return Err(Error::TooLong {
                what: "CPG zero-copy buffer",
                length: size,
                max: ZCB_MAX_LEN,
            });
        }
        let mut buffer: *mut c_void = std::ptr::null_mut();
        // SAFETY: the handle is live and `buffer` is writable.
        cs_result(unsafe { sys::cpg_zcb_alloc(self.raw(), size, &mut buffer) })?;
        let data = NonNull::new(buffer.cast::<u8>()).ok_or(Error::NoMemory)?;
        // libcpg 3.1.7 zero-fills its mapping, but newer libraries return plain malloc'ed
        // memory: clear it so that the bytes are initialized whatever the library.
        // SAFETY: cpg_zcb_alloc returned `size` writable bytes at `data`.
        unsafe { std::ptr::write_bytes(data.as_ptr(), 0, size) };
        Ok(ZeroCopyBuffer {
            cpg: self,
            data,
            len: size,
        })
    }
}

impl ZeroCopyBuffer<'_> {
    /// Sends the whole buffer to the joined group (`cpg_zcb_mcast_joined`). The buffer stays
    /// usable.
    ///
    /// # Errors
    /// As [`Cpg::mcast`]: [`Error::TryAgain`] under flow control. Without a joined group,
    /// [`Error::NotExist`] with corosync 3.1; after 3.1.10, where this is a plain send, `Ok`
    /// and the message is dropped, as by [`Cpg::mcast`].
    ///
    /// ```no_run
    /// # use corosync::cpg::{Cpg, Guarantee};
    /// # let cpg = Cpg::new()?;
    /// let mut buffer = cpg.zcb_alloc(3)?;
    /// buffer.copy_from_slice(b"abc");
    /// buffer.mcast(Guarantee::Agreed)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn mcast(&self, guarantee: Guarantee) -> Result<()> {
        self.mcast_prefix(guarantee, self.len)
    }

    /// Sends the first `len` bytes of the buffer.
    ///
    /// # Errors
    /// [`Error::TooLong`] if `len` is more than the buffer's length; otherwise as
    /// [`ZeroCopyBuffer::mcast`].
    ///
    /// ```no_run
    /// # use corosync::cpg::{Cpg, Guarantee};
    /// # let cpg = Cpg::new()?;
    /// let mut buffer = cpg.zcb_alloc(1024)?;
    /// buffer[..2].copy_from_slice(b"hi");
    /// buffer.mcast_prefix(Guarantee::Agreed, 2)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_zcb_mcast_joined")]
    pub fn mcast_prefix(&self, guarantee: Guarantee, len: usize) -> Result<()> {
        if len > self.len {
            return Err(Error::TooLong {
                what: "CPG zero-copy message",
                length: len,
                max: self.len,
            });
        }
        // The buffer came from cpg_zcb_alloc on this live handle and is not freed; libcpg
        // writes its header into bytes it reserved in front of it (no Rust reference covers
        // them).
        // SAFETY: as above, and the daemon reads `len` bytes, all inside the allocation.
        let code = unsafe {
            sys::cpg_zcb_mcast_joined(
                self.cpg.raw(),
                guarantee.raw(),
                self.data.as_ptr().cast::<c_void>(),
                len,
            )
        };
        cs_result(code)
    }

    /// [`ZeroCopyBuffer::mcast`] with the waiting of [`Cpg::mcast_retrying`]; returns how
    /// many times the daemon answered `TryAgain`.
    ///
    /// # Errors
    /// As [`Cpg::mcast_retrying`].
    ///
    /// ```no_run
    /// # use corosync::cpg::{Cpg, Guarantee};
    /// # let cpg = Cpg::new()?;
    /// let buffer = cpg.zcb_alloc(65536)?;
    /// buffer.mcast_retrying(Guarantee::Agreed, None)?;
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn mcast_retrying(&self, guarantee: Guarantee, deadline: Option<Instant>) -> Result<u32> {
        self.cpg.retry(deadline, || self.mcast(guarantee))
    }
}

impl Deref for ZeroCopyBuffer<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes, initialized by zcb_alloc, live at `data` until Drop.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }
}

impl DerefMut for ZeroCopyBuffer<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }
}

impl Drop for ZeroCopyBuffer<'_> {
    fn drop(&mut self) {
        // An error means the connection is gone; libcpg then keeps the mapping (a leak of
        // address space, not a dangling pointer: nothing uses it any more).
        // SAFETY: the buffer came from cpg_zcb_alloc on this live handle and is freed once.
        let _ = unsafe { sys::cpg_zcb_free(self.cpg.raw(), self.data.as_ptr().cast::<c_void>()) };
    }
}

impl fmt::Debug for ZeroCopyBuffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZeroCopyBuffer")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
