//! A quorum device's extra information per node, and votequorum's model v1 that delivers its
//! changes: since upstream corosync after 3.1.10 (commit 9d359038, "Add qdevice extra info to
//! votequorum"; its headers' `votequorum_model_initialize`,
//! `votequorum_get_qdevice_extra_info`, `votequorum_set_qdevice_extra_info`).
//!
//! The build finds them in the headers (cfgs `corosync_votequorum_model` and
//! `corosync_votequorum_qdevice_extra_info`): with an older corosync nothing of this file
//! exists.
//!
//! What the daemon does with it: the quorum device registered on a node publishes up to
//! [`QDEVICE_EXTRA_INFO_MAX`] bytes about that node; the daemon sends them to every node, where
//! any client can read them with [`Votequorum::qdevice_extra_info`], and every tracking client
//! gets a notification ([`Builder::on_qdevice_extra_info`]) when they change, and for every
//! node that has some when it starts tracking. Unregistering the device clears them.
//! [`InfoFlags::QDEVICE_HAS_EXTRA_INFO`](super::InfoFlags::QDEVICE_HAS_EXTRA_INFO) says
//! whether a node has any.

use std::ffi::c_void;

use corosync_sys as sys;

use crate::error::cs_result;
use crate::handle::run_callback;
use crate::{Error, NodeId, Result};

use super::{Builder, Votequorum, VotequorumLib};

/// The most bytes of extra information a node's quorum device can publish
/// (`VOTEQUORUM_QDEVICE_EXTRA_NODEINFO_MAXSIZE`).
///
/// Since corosync after 3.1.10 (cfg `corosync_votequorum_qdevice_extra_info`).
///
/// ```
/// assert_eq!(corosync::votequorum::QDEVICE_EXTRA_INFO_MAX, 4096);
/// ```
#[cfg(corosync_votequorum_qdevice_extra_info)]
pub const QDEVICE_EXTRA_INFO_MAX: usize = sys::VOTEQUORUM_QDEVICE_EXTRA_NODEINFO_MAXSIZE as usize;

pub(super) type QdeviceExtraInfoFn =
    Box<dyn FnMut(&Votequorum, QdeviceExtraInfoNotification<'_>) + Send>;

/// A quorum device's extra information about one node changed (set, replaced or cleared), or
/// tracking started and the node has some.
///
/// Since corosync after 3.1.10 (cfg `corosync_votequorum_model`).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let vq = corosync::votequorum::Votequorum::builder()
///     .on_qdevice_extra_info(|_, n| match n.extra_info() {
///         Some(info) => println!("node {}: {}", n.node_id(), String::from_utf8_lossy(info)),
///         None => println!("node {}: none", n.node_id()),
///     })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QdeviceExtraInfoNotification<'a> {
    context: u64,
    node_id: NodeId,
    extra_info: Option<&'a [u8]>,
}

impl<'a> QdeviceExtraInfoNotification<'a> {
    /// The context given to the [`track_start`](Votequorum::track_start) this notification
    /// answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QdeviceExtraInfoNotification<'_> = unimplemented!();
    /// println!("{}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The node the information is about.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QdeviceExtraInfoNotification<'_> = unimplemented!();
    /// println!("{}", n.node_id());
    /// ```
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The information, borrowed from the library's receive buffer; `None` once it was
    /// cleared.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QdeviceExtraInfoNotification<'_> = unimplemented!();
    /// println!("{:?}", n.extra_info());
    /// ```
    pub fn extra_info(&self) -> Option<&'a [u8]> {
        self.extra_info
    }

    /// Copies the notification out of the library's buffer.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::QdeviceExtraInfoNotification<'_> = unimplemented!();
    /// let kept = n.into_owned();
    /// ```
    pub fn into_owned(self) -> OwnedQdeviceExtraInfoNotification {
        OwnedQdeviceExtraInfoNotification {
            context: self.context,
            node_id: self.node_id,
            extra_info: self.extra_info.map(<[u8]>::to_vec),
        }
    }
}

/// [`QdeviceExtraInfoNotification`] owning its bytes, with the same accessors.
///
/// ```no_run
/// # let n: corosync::votequorum::QdeviceExtraInfoNotification<'_> = unimplemented!();
/// let kept: corosync::votequorum::OwnedQdeviceExtraInfoNotification = n.into();
/// assert_eq!(kept.extra_info(), n.extra_info());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OwnedQdeviceExtraInfoNotification {
    context: u64,
    node_id: NodeId,
    extra_info: Option<Vec<u8>>,
}

impl OwnedQdeviceExtraInfoNotification {
    /// The context given to the [`track_start`](Votequorum::track_start) this notification
    /// answers.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQdeviceExtraInfoNotification = unimplemented!();
    /// println!("{}", n.context());
    /// ```
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The node the information is about.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQdeviceExtraInfoNotification = unimplemented!();
    /// println!("{}", n.node_id());
    /// ```
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The information; `None` once it was cleared.
    ///
    /// ```no_run
    /// # let n: corosync::votequorum::OwnedQdeviceExtraInfoNotification = unimplemented!();
    /// println!("{:?}", n.extra_info());
    /// ```
    pub fn extra_info(&self) -> Option<&[u8]> {
        self.extra_info.as_deref()
    }
}

impl From<QdeviceExtraInfoNotification<'_>> for OwnedQdeviceExtraInfoNotification {
    fn from(view: QdeviceExtraInfoNotification<'_>) -> OwnedQdeviceExtraInfoNotification {
        view.into_owned()
    }
}

extern "C" fn qdevice_extra_info_trampoline(
    handle: u64,
    context: u64,
    node_id: u32,
    size: u32,
    extra_info: *mut c_void,
) {
    // SAFETY: libvotequorum calls this only from votequorum_dispatch.
    unsafe {
        run_callback::<VotequorumLib>(handle, |vq, callbacks| {
            let Some(on_extra_info) = callbacks.qdevice_extra_info.as_mut() else {
                return;
            };
            let extra_info = if size == 0 || extra_info.is_null() {
                None
            } else {
                // SAFETY: the library passes `size` bytes at `extra_info`, in its dispatch
                // buffer (the daemon sends at most QDEVICE_EXTRA_NODEINFO_MAXSIZE), valid
                // until this callback returns.
                Some(std::slice::from_raw_parts(
                    extra_info.cast_const().cast::<u8>(),
                    size as usize,
                ))
            };
            on_extra_info(
                vq,
                QdeviceExtraInfoNotification {
                    context,
                    node_id: NodeId::from(node_id),
                    extra_info,
                },
            );
        })
    }
}

/// Connects with `votequorum_model_initialize` (model v1): the callbacks of
/// `votequorum_initialize` plus the extra-info one, set only if the builder has a closure for
/// it.
///
/// # Safety
/// `raw` must be valid for writes. The trampolines in `callbacks` must find their state
/// through the handle's context, as those of [`Builder::build`] do.
pub(super) unsafe fn model_initialize(
    raw: &mut sys::votequorum_handle_t,
    callbacks: &sys::votequorum_callbacks_t,
    with_extra_info: bool,
) -> Result<()> {
    let model = sys::votequorum_model_v1_data_t {
        model: sys::VOTEQUORUM_MODEL_V1,
        votequorum_quorum_notify_fn: callbacks.votequorum_quorum_notify_fn,
        votequorum_expectedvotes_notify_fn: callbacks.votequorum_expectedvotes_notify_fn,
        votequorum_nodelist_notify_fn: callbacks.votequorum_nodelist_notify_fn,
        votequorum_qdevice_extra_info_fn: with_extra_info
            .then_some(qdevice_extra_info_trampoline as _),
    };
    // SAFETY: both pointers are valid for the call; the library copies the model struct.
    cs_result(unsafe { sys::votequorum_model_initialize(raw, &model) })
}

impl Builder {
    /// Sets the closure for changes of a quorum device's extra information about a node
    /// (`votequorum_qdevice_extra_info_fn` of `votequorum_model_initialize`). Like the other
    /// notifications, they arrive only after [`Votequorum::track_start`], which also sends
    /// one for every node that has extra information then.
    ///
    /// Since corosync after 3.1.10 (cfg `corosync_votequorum_model`).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::builder()
    ///     .on_qdevice_extra_info(|_, n| println!("node {}: {:?}", n.node_id(), n.extra_info()))
    ///     .build()?;
    /// vq.track_start(0, corosync::TrackFlags::CHANGES)?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_model_initialize")]
    pub fn on_qdevice_extra_info<F>(mut self, f: F) -> Self
    where
        F: FnMut(&Votequorum, QdeviceExtraInfoNotification<'_>) + Send + 'static,
    {
        self.callbacks.qdevice_extra_info = Some(Box::new(f));
        self
    }
}

#[cfg(corosync_votequorum_qdevice_extra_info)]
impl Votequorum {
    /// Publishes extra information about this node for its quorum device
    /// (`votequorum_set_qdevice_extra_info`): 1 to [`QDEVICE_EXTRA_INFO_MAX`] bytes, sent to
    /// every node. An empty `info` clears it, as [`qdevice_clear_extra_info`] does.
    ///
    /// Since corosync after 3.1.10 (cfg `corosync_votequorum_qdevice_extra_info`).
    ///
    /// [`qdevice_clear_extra_info`]: Votequorum::qdevice_clear_extra_info
    ///
    /// # Errors
    /// [`Error::TooLong`] above [`QDEVICE_EXTRA_INFO_MAX`] bytes; [`Error::NotExist`] if no
    /// quorum device is registered on this node ([`qdevice_register`]);
    /// [`Error::Access`] if the configuration does not let a quorum device operate.
    ///
    /// [`qdevice_register`]: Votequorum::qdevice_register
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// vq.qdevice_register("my-device")?;
    /// vq.qdevice_set_extra_info(b"site=A")?;
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_set_qdevice_extra_info")]
    pub fn qdevice_set_extra_info(&self, info: impl AsRef<[u8]>) -> Result<()> {
        let info = info.as_ref();
        if info.len() > QDEVICE_EXTRA_INFO_MAX {
            return Err(Error::TooLong {
                what: "quorum device extra information",
                length: info.len(),
                max: QDEVICE_EXTRA_INFO_MAX,
            });
        }
        // The library sends size 0 for a NULL pointer, and copies `size` bytes otherwise.
        let data = if info.is_empty() {
            std::ptr::null()
        } else {
            info.as_ptr().cast::<c_void>()
        };
        // SAFETY: the handle is live; `data` is NULL or points to `info.len()` readable bytes
        // (at most QDEVICE_EXTRA_INFO_MAX, so the length fits in u32), which the library
        // copies before it returns.
        cs_result(unsafe {
            sys::votequorum_set_qdevice_extra_info(self.handle.raw(), info.len() as u32, data)
        })
    }

    /// Clears this node's extra information (`votequorum_set_qdevice_extra_info` with size
    /// 0).
    ///
    /// Since corosync after 3.1.10 (cfg `corosync_votequorum_qdevice_extra_info`).
    ///
    /// # Errors
    /// As [`qdevice_set_extra_info`](Votequorum::qdevice_set_extra_info).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// corosync::votequorum::Votequorum::new()?.qdevice_clear_extra_info()?;
    /// # Ok(()) }
    /// ```
    pub fn qdevice_clear_extra_info(&self) -> Result<()> {
        self.qdevice_set_extra_info([])
    }

    /// The extra information the quorum device of `node` published
    /// (`votequorum_get_qdevice_extra_info`); `None` if it published none.
    ///
    /// Since corosync after 3.1.10 (cfg `corosync_votequorum_qdevice_extra_info`).
    ///
    /// # Errors
    /// [`Error::NotExist`] for a node the daemon does not know; [`Error::Access`] if the
    /// configuration does not let a quorum device operate.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// use corosync::NodeId;
    /// let vq = corosync::votequorum::Votequorum::new()?;
    /// if let Some(info) = vq.qdevice_extra_info(NodeId::from(2))? {
    ///     println!("node 2: {}", String::from_utf8_lossy(&info));
    /// }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "votequorum_get_qdevice_extra_info")]
    pub fn qdevice_extra_info(&self, node: NodeId) -> Result<Option<Vec<u8>>> {
        // The library copies the answer into the buffer without a length to check against:
        // it must hold the largest answer the daemon sends.
        let mut buffer = vec![0u8; QDEVICE_EXTRA_INFO_MAX];
        let mut size: u32 = 0;
        // SAFETY: the handle is live; `size` is writable and `buffer` holds
        // QDEVICE_EXTRA_NODEINFO_MAXSIZE writable bytes, the most the daemon answers.
        cs_result(unsafe {
            sys::votequorum_get_qdevice_extra_info(
                self.handle.raw(),
                node.get(),
                &mut size,
                buffer.as_mut_ptr().cast::<c_void>(),
            )
        })?;
        let size = size as usize;
        if size == 0 {
            return Ok(None);
        }
        buffer.truncate(size.min(QDEVICE_EXTRA_INFO_MAX));
        Ok(Some(buffer))
    }
}
