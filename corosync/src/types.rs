//! Small types shared by every library: dispatch modes and outcomes, track flags, node ids.

use std::fmt;

use corosync_sys as sys;

use crate::c_enum::c_enum;

c_enum! {
    /// How much a `dispatch` call processes; the values of C's `cs_dispatch_flags_t`.
    ///
    /// `CS_DISPATCH_BLOCKING` has no value here: a loop that only an error could end would
    /// claim a success it cannot return. Every handle's `dispatch_blocking` takes its place; a
    /// [`Stopper`](crate::Stopper) ends it with `Ok(Stopped)`.
    ///
    /// ```
    /// use corosync::DispatchMode;
    /// assert_eq!(DispatchMode::OneNonBlocking.raw(), 4);
    /// assert_eq!(DispatchMode::All.to_string(), "all");
    /// ```
    #[doc(alias = "cs_dispatch_flags_t", alias = "DispatchFlags")]
    pub enum DispatchMode: sys::cs_dispatch_flags_t;
    path: "corosync::DispatchMode";
    no_unknown;
    /// Wait for one event and process it (`CS_DISPATCH_ONE`).
    One = sys::CS_DISPATCH_ONE => "one",
    /// Process every event already pending, without waiting (`CS_DISPATCH_ALL`).
    All = sys::CS_DISPATCH_ALL => "all",
    /// Process one event if one is pending, without waiting
    /// (`CS_DISPATCH_ONE_NONBLOCKING`).
    OneNonBlocking = sys::CS_DISPATCH_ONE_NONBLOCKING => "one, non-blocking",
}

/// What a successful `dispatch` call did.
///
/// ```
/// use corosync::Dispatched;
/// assert_ne!(Dispatched::Processed, Dispatched::NothingPending);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dispatched {
    /// The call ran as asked: with [`DispatchMode::One`] and
    /// [`DispatchMode::OneNonBlocking`] one event was processed; with
    /// [`DispatchMode::All`], every pending event (possibly none).
    Processed,
    /// [`DispatchMode::OneNonBlocking`] found no event waiting (C answers
    /// `CS_ERR_TRY_AGAIN`, which is not an error here).
    NothingPending,
}

bitflags::bitflags! {
    /// What a `trackstart` call asks for (`CS_TRACK_*` of corotypes.h).
    ///
    /// ```
    /// use corosync::TrackFlags;
    /// let flags = TrackFlags::CURRENT | TrackFlags::CHANGES;
    /// assert_eq!(flags.bits(), 3);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TrackFlags: u8 {
        /// Report the current state once (`CS_TRACK_CURRENT`).
        const CURRENT = sys::CS_TRACK_CURRENT as u8;
        /// Report every change, with the full state (`CS_TRACK_CHANGES`).
        const CHANGES = sys::CS_TRACK_CHANGES as u8;
        /// Report only what changed (`CS_TRACK_CHANGES_ONLY`).
        const CHANGES_ONLY = sys::CS_TRACK_CHANGES_ONLY as u8;
    }
}

/// A corosync node id, as set by `nodeid` in corosync.conf's nodelist.
///
/// ```
/// use corosync::NodeId;
/// let id = NodeId::from(3);
/// assert_eq!(u32::from(id), 3);
/// assert_eq!(id.to_string(), "3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct NodeId(u32);

impl NodeId {
    /// The node id `id`; the same as `NodeId::from(id)`, usable in a `const`.
    ///
    /// ```
    /// use corosync::NodeId;
    /// const FIRST: NodeId = NodeId::new(1);
    /// assert_eq!(FIRST, NodeId::from(1));
    /// ```
    pub const fn new(id: u32) -> NodeId {
        NodeId(id)
    }

    /// The id as a number.
    ///
    /// ```
    /// assert_eq!(corosync::NodeId::from(7).get(), 7);
    /// ```
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Shows a list of node ids as corosync's tools print them: in decimal, separated by
    /// single spaces (`1 2 3`; nothing for an empty list).
    ///
    /// ```
    /// use corosync::NodeId;
    /// let ids = [NodeId::new(1), NodeId::new(2), NodeId::new(3)];
    /// assert_eq!(NodeId::display_list(&ids).to_string(), "1 2 3");
    /// assert_eq!(format!("members: [{}]", NodeId::display_list(&[])), "members: []");
    /// ```
    pub fn display_list(ids: &[NodeId]) -> impl fmt::Display + '_ {
        DisplayList(ids)
    }

    /// Reinterprets a slice of C node ids in place, without copying.
    pub(crate) fn from_raw_slice(ids: &[u32]) -> &[NodeId] {
        // SAFETY: NodeId is repr(transparent) over u32, so both slices have one layout.
        unsafe { std::slice::from_raw_parts(ids.as_ptr().cast::<NodeId>(), ids.len()) }
    }
}

impl From<u32> for NodeId {
    fn from(id: u32) -> Self {
        NodeId(id)
    }
}

impl From<NodeId> for u32 {
    fn from(id: NodeId) -> Self {
        id.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The [`Display`](fmt::Display) of [`NodeId::display_list`].
struct DisplayList<'a>(&'a [NodeId]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            fmt::Display::fmt(&id.0, f)?;
        }
        Ok(())
    }
}

/// A totem ring id: the node that formed the current membership and a sequence number that
/// grows with every membership change.
///
/// The ring id structs of the C libraries (`cpg_ring_id`, `quorum_ring_id`,
/// `votequorum_ring_id_t`, each with its library's feature) convert into it with `From`, and
/// it converts back into `votequorum_ring_id_t`, which `votequorum_qdevice_poll` takes.
///
/// ```
/// use corosync::{NodeId, RingId};
/// let ring = RingId { node_id: NodeId::from(1), seq: 0x2c };
/// assert_eq!(ring.to_string(), "1.2c");
///
/// let raw = corosync_sys::cpg_ring_id { nodeid: 1, seq: 0x2c };
/// assert_eq!(RingId::from(raw), ring);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RingId {
    /// The node that formed the membership.
    pub node_id: NodeId,
    /// The ring sequence number.
    pub seq: u64,
}

/// `From` a C library's ring id struct, for each library whose feature is on: the structs
/// have the same two fields.
macro_rules! ring_id_from_c {
    ($($feature:literal => $c_type:ty),* $(,)?) => {
        $(
            #[cfg(feature = $feature)]
            impl From<$c_type> for RingId {
                fn from(raw: $c_type) -> RingId {
                    RingId {
                        node_id: NodeId(raw.nodeid),
                        seq: raw.seq,
                    }
                }
            }
        )*
    };
}

ring_id_from_c! {
    "cpg" => sys::cpg_ring_id,
    "quorum" => sys::quorum_ring_id,
    "votequorum" => sys::votequorum_ring_id_t,
}

#[cfg(feature = "votequorum")]
impl From<RingId> for sys::votequorum_ring_id_t {
    fn from(ring: RingId) -> sys::votequorum_ring_id_t {
        sys::votequorum_ring_id_t {
            nodeid: ring.node_id.0,
            seq: ring.seq,
        }
    }
}

impl fmt::Display for RingId {
    /// Shown as corosync's tools do (`CS_PRI_RING_ID`: node id and sequence in hex).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}.{:x}", self.node_id.0, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_slices_keep_values() {
        let raw = [1u32, 2, 0xffff_ffff];
        let ids = NodeId::from_raw_slice(&raw);
        assert_eq!(ids, &[NodeId(1), NodeId(2), NodeId(0xffff_ffff)]);
    }

    #[test]
    fn ring_ids_convert_from_every_c_struct() {
        let ring = RingId {
            node_id: NodeId(3),
            seq: u64::MAX,
        };
        #[cfg(feature = "cpg")]
        assert_eq!(
            RingId::from(sys::cpg_ring_id {
                nodeid: 3,
                seq: u64::MAX
            }),
            ring
        );
        #[cfg(feature = "quorum")]
        assert_eq!(
            RingId::from(sys::quorum_ring_id {
                nodeid: 3,
                seq: u64::MAX
            }),
            ring
        );
        #[cfg(feature = "votequorum")]
        {
            let raw = sys::votequorum_ring_id_t::from(ring);
            assert_eq!((raw.nodeid, raw.seq), (3, u64::MAX));
            assert_eq!(RingId::from(raw), ring);
        }
        let _ = ring;
    }

    #[test]
    fn node_id_lists_show_as_the_tools_print_them() {
        assert_eq!(NodeId::display_list(&[]).to_string(), "");
        assert_eq!(NodeId::display_list(&[NodeId(7)]).to_string(), "7");
        assert_eq!(
            NodeId::display_list(&[NodeId(1), NodeId(0xffff_ffff)]).to_string(),
            "1 4294967295"
        );
    }

    #[test]
    fn dispatch_flag_values_match_c() {
        assert_eq!(DispatchMode::One.raw(), 1);
        assert_eq!(DispatchMode::All.raw(), 2);
        assert_eq!(DispatchMode::OneNonBlocking.raw(), 4);
    }
}
