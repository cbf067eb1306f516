//! What votequorum reports about one node: [`Info`] and its flags.

use corosync_sys as sys;

use crate::cstr;
use crate::NodeId;

use super::NodeState;
#[cfg(doc)]
use super::Votequorum;

bitflags::bitflags! {
    /// The flags of [`Info`] (`VOTEQUORUM_INFO_*`): the quorum options in effect and the
    /// state of the node's quorum device. Bits this build does not know are kept.
    ///
    /// ```
    /// use corosync::votequorum::InfoFlags;
    /// let flags = InfoFlags::from_bits_retain(2 | 4);
    /// assert!(flags.contains(InfoFlags::QUORATE | InfoFlags::WAIT_FOR_ALL));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct InfoFlags: u32 {
        /// `two_node` is in effect (`VOTEQUORUM_INFO_TWONODE`).
        const TWO_NODE = sys::VOTEQUORUM_INFO_TWONODE;
        /// The partition is quorate (`VOTEQUORUM_INFO_QUORATE`).
        const QUORATE = sys::VOTEQUORUM_INFO_QUORATE;
        /// `wait_for_all` is in effect (`VOTEQUORUM_INFO_WAIT_FOR_ALL`).
        const WAIT_FOR_ALL = sys::VOTEQUORUM_INFO_WAIT_FOR_ALL;
        /// `last_man_standing` is in effect (`VOTEQUORUM_INFO_LAST_MAN_STANDING`).
        const LAST_MAN_STANDING = sys::VOTEQUORUM_INFO_LAST_MAN_STANDING;
        /// `auto_tie_breaker` is in effect (`VOTEQUORUM_INFO_AUTO_TIE_BREAKER`).
        const AUTO_TIE_BREAKER = sys::VOTEQUORUM_INFO_AUTO_TIE_BREAKER;
        /// `allow_downscale` is in effect (`VOTEQUORUM_INFO_ALLOW_DOWNSCALE`).
        const ALLOW_DOWNSCALE = sys::VOTEQUORUM_INFO_ALLOW_DOWNSCALE;
        /// A quorum device is registered on the node (`VOTEQUORUM_INFO_QDEVICE_REGISTERED`).
        const QDEVICE_REGISTERED = sys::VOTEQUORUM_INFO_QDEVICE_REGISTERED;
        /// The node's quorum device polled in time (`VOTEQUORUM_INFO_QDEVICE_ALIVE`).
        const QDEVICE_ALIVE = sys::VOTEQUORUM_INFO_QDEVICE_ALIVE;
        /// The node's quorum device casts its vote (`VOTEQUORUM_INFO_QDEVICE_CAST_VOTE`).
        const QDEVICE_CAST_VOTE = sys::VOTEQUORUM_INFO_QDEVICE_CAST_VOTE;
        /// The node's quorum device asked for "master wins"
        /// (`VOTEQUORUM_INFO_QDEVICE_MASTER_WINS`).
        const QDEVICE_MASTER_WINS = sys::VOTEQUORUM_INFO_QDEVICE_MASTER_WINS;
        /// The node's quorum device published extra information about it
        /// (`VOTEQUORUM_INFO_QDEVICE_HAS_EXTRA_INFO`; see
        /// [`Votequorum::qdevice_extra_info`]). Since corosync after 3.1.10 (cfg
        /// `corosync_votequorum_qdevice_extra_info`).
        #[cfg(corosync_votequorum_qdevice_extra_info)]
        const QDEVICE_HAS_EXTRA_INFO = sys::VOTEQUORUM_INFO_QDEVICE_HAS_EXTRA_INFO;
    }
}

/// What [`Votequorum::info`] reports about one node and the cluster
/// (`struct votequorum_info`).
///
/// ```no_run
/// use corosync::votequorum::{InfoFlags, Votequorum};
/// # fn main() -> corosync::Result<()> {
/// let info = Votequorum::new()?.info(None)?;
/// if info.flags.contains(InfoFlags::QUORATE) {
///     println!("{} votes of {} needed", info.total_votes, info.quorum);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Info {
    /// The node the information is about.
    pub node_id: NodeId,
    /// Its state.
    pub node_state: NodeState,
    /// Its votes.
    pub node_votes: u32,
    /// The expected votes it holds.
    pub node_expected_votes: u32,
    /// The highest expected votes among the current members.
    pub highest_expected: u32,
    /// The votes of the current members (plus the quorum device's, if it casts a vote for
    /// this node).
    pub total_votes: u32,
    /// The votes needed for quorum.
    pub quorum: u32,
    /// Quorum options in effect and the node's quorum device state.
    pub flags: InfoFlags,
    /// The quorum device's votes.
    pub qdevice_votes: u32,
    /// The name of the cluster's quorum device, empty if none was registered. Read from the
    /// C array up to its first NUL (or its end); bytes that are not UTF-8 are replaced with
    /// U+FFFD (a name registered through this crate is always the `&str` or bytes given).
    pub qdevice_name: String,
}

impl Info {
    pub(super) fn from_raw(raw: &sys::votequorum_info) -> Info {
        Info {
            node_id: NodeId::from(raw.node_id),
            node_state: NodeState::from(raw.node_state),
            node_votes: raw.node_votes,
            node_expected_votes: raw.node_expected_votes,
            highest_expected: raw.highest_expected,
            total_votes: raw.total_votes,
            quorum: raw.quorum,
            flags: InfoFlags::from_bits_retain(raw.flags),
            qdevice_votes: raw.qdevice_votes,
            qdevice_name: String::from_utf8_lossy(cstr::from_c_array(&raw.qdevice_name))
                .into_owned(),
        }
    }

    /// Whether the cluster partition is quorate (the [`InfoFlags::QUORATE`] flag).
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let quorate = corosync::votequorum::Votequorum::new()?.info(None)?.is_quorate();
    /// # Ok(()) }
    /// ```
    pub fn is_quorate(&self) -> bool {
        self.flags.contains(InfoFlags::QUORATE)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::c_char;

    use super::*;

    #[test]
    fn info_reads_the_name_up_to_nul_or_the_end() {
        let mut raw = sys::votequorum_info {
            node_id: 2,
            node_state: 1,
            flags: sys::VOTEQUORUM_INFO_QUORATE | 1 << 20,
            ..Default::default()
        };
        for (dst, src) in raw.qdevice_name.iter_mut().zip(b"dev\0junk") {
            *dst = *src as c_char;
        }
        let info = Info::from_raw(&raw);
        assert_eq!(info.qdevice_name, "dev");
        assert!(info.is_quorate());
        assert_eq!(info.flags.bits(), 2 | 1 << 20);
        raw.qdevice_name = [b'x' as c_char; 255];
        assert_eq!(Info::from_raw(&raw).qdevice_name.len(), 255);
    }
}
