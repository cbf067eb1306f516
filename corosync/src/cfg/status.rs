//! Node addresses and the status of nodes, links and interfaces, as libcfg reports them.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr;

use corosync_sys as sys;

use crate::cstr::from_c_array;
#[cfg(corosync_cfg_node_status)]
use crate::NodeId;
use crate::{Error, Result};

#[cfg(doc)]
use super::Cfg;

/// Decodes one `corosync_cfg_node_address_t`: `None` for an unused entry.
pub(super) fn decode_node_address(
    entry: &sys::corosync_cfg_node_address_t,
) -> Option<Result<IpAddr>> {
    let bytes = entry.address.as_ptr();
    // SAFETY: the field is 28 bytes long, more than a sa_family_t; read_unaligned needs no
    // alignment.
    let family = unsafe { ptr::read_unaligned(bytes.cast::<libc::sa_family_t>()) };
    let length = entry.address_length;
    match c_int::from(family) {
        libc::AF_INET if length as usize == std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the field holds a sockaddr_in (its family and length say so), and is
            // large enough for one (checked at compile time above).
            let sin = unsafe { ptr::read_unaligned(bytes.cast::<libc::sockaddr_in>()) };
            Some(Ok(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            )))))
        }
        libc::AF_INET6 if length as usize == std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for a sockaddr_in6.
            let sin6 = unsafe { ptr::read_unaligned(bytes.cast::<libc::sockaddr_in6>()) };
            Some(Ok(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))))
        }
        // libcfg marks an all-zero address as unused with family 0 (corosync-cfgtool skips
        // them too); with length 0 it could not decode the daemon's address family at all.
        0 if length != 0 => None,
        0 => Some(Err(Error::UnexpectedValue {
            what: "node address family (libcfg could not decode it)",
            value: 0,
        })),
        other => Some(Err(Error::UnexpectedValue {
            what: "node address family",
            value: i64::from(other),
        })),
    }
}

/// The two string arrays `corosync_cfg_ring_status_get` allocates; freed on drop.
pub(super) struct RingStatusArrays {
    pub(super) names: *mut *mut c_char,
    pub(super) statuses: *mut *mut c_char,
    pub(super) count: usize,
}

impl RingStatusArrays {
    /// The string at `index` of `array`, copied.
    fn string(array: *mut *mut c_char, index: usize, what: &'static str) -> Result<String> {
        // SAFETY: `array` holds `count` entries (the caller checks `index < count`).
        let entry = unsafe { *array.add(index) };
        if entry.is_null() {
            return Err(Error::UnexpectedValue {
                what: "null string from corosync_cfg_ring_status_get",
                value: index as i64,
            });
        }
        // SAFETY: libcfg filled the entry with a strdup'ed, NUL-terminated string.
        let text = unsafe { CStr::from_ptr(entry) };
        text.to_str()
            .map(str::to_owned)
            .map_err(|_| Error::InvalidUtf8 { what })
    }

    pub(super) fn to_vec(&self) -> Result<Vec<InterfaceStatus>> {
        if self.count > 0 && (self.names.is_null() || self.statuses.is_null()) {
            return Err(Error::UnexpectedValue {
                what: "null array from corosync_cfg_ring_status_get",
                value: self.count as i64,
            });
        }
        (0..self.count)
            .map(|i| {
                Ok(InterfaceStatus {
                    name: Self::string(self.names, i, "interface name")?,
                    status: Self::string(self.statuses, i, "interface status")?,
                })
            })
            .collect()
    }
}

impl Drop for RingStatusArrays {
    fn drop(&mut self) {
        for array in [self.names, self.statuses] {
            if array.is_null() {
                continue;
            }
            for i in 0..self.count {
                // SAFETY: the array has `count` entries, each a malloc'ed string (or null,
                // which free accepts), owned by us since libcfg returned them.
                unsafe { libc::free((*array.add(i)).cast::<c_void>()) };
            }
            // SAFETY: libcfg malloc'ed the array itself; nothing points into it any more.
            unsafe { libc::free(array.cast::<c_void>()) };
        }
    }
}

/// A node's status as the local node sees it: what [`Cfg::node_status`] returns
/// (C: `struct corosync_cfg_node_status_v1`, the only version corosync 3.1 has).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let status = cfg.node_status(corosync::NodeId::from(2))?;
/// let up = status.enabled_links().filter(|link| link.connected).count();
/// println!("node {}: reachable {}, {up} links up", status.node_id, status.reachable);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg(corosync_cfg_node_status)]
pub struct NodeStatus {
    /// The node this status is about.
    pub node_id: NodeId,
    /// Whether knet can currently reach the node (at least one link is connected). The local
    /// node is always reachable.
    pub reachable: bool,
    /// Whether the node is remote (a knet flag; false for ordinary cluster nodes).
    pub remote: bool,
    /// Whether the node is external (a knet flag; false for ordinary cluster nodes).
    pub external: bool,
    /// The lowest knet on-wire protocol version the node supports.
    pub onwire_min: u8,
    /// The highest knet on-wire protocol version the node supports.
    pub onwire_max: u8,
    /// The knet on-wire protocol version in use with the node.
    pub onwire_ver: u8,
    /// One entry per possible link (8), indexed by link number; see
    /// [`NodeStatus::enabled_links`] for the configured ones.
    pub links: Vec<LinkStatus>,
}

#[cfg(corosync_cfg_node_status)]
impl NodeStatus {
    pub(super) fn from_v1(raw: &sys::corosync_cfg_node_status_v1) -> Result<NodeStatus> {
        if raw.version != sys::CFG_NODE_STATUS_V1 {
            return Err(Error::UnexpectedValue {
                what: "node status version",
                value: i64::from(raw.version),
            });
        }
        let links = raw
            .link_status
            .iter()
            .enumerate()
            .map(|(i, link)| LinkStatus::from_v1(i as u8, link))
            .collect::<Result<Vec<_>>>()?;
        Ok(NodeStatus {
            node_id: NodeId::from(raw.nodeid),
            reachable: raw.reachable != 0,
            remote: raw.remote != 0,
            external: raw.external != 0,
            onwire_min: raw.onwire_min,
            onwire_max: raw.onwire_max,
            onwire_ver: raw.onwire_ver,
            links,
        })
    }

    /// The links that are configured (enabled), in link order.
    ///
    /// ```no_run
    /// # fn main() -> corosync::Result<()> {
    /// let cfg = corosync::cfg::Cfg::new()?;
    /// for link in cfg.node_status(corosync::NodeId::from(2))?.enabled_links() {
    ///     println!("link {} connected: {}", link.link_id, link.connected);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn enabled_links(&self) -> impl Iterator<Item = &LinkStatus> + '_ {
        self.links.iter().filter(|link| link.enabled)
    }
}

/// The state of one knet link to a node (C: `struct corosync_knet_link_status_v1`).
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let status = cfg.node_status(corosync::NodeId::from(2))?;
/// let link0 = &status.links[0];
/// println!("{} -> {}: mtu {}", link0.src_addr, link0.dst_addr, link0.mtu);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg(corosync_cfg_node_status)]
pub struct LinkStatus {
    /// The link number (0 for `ring0_addr`, ...).
    pub link_id: u8,
    /// The link is configured and administratively enabled.
    pub enabled: bool,
    /// The link is connected for data (as the local node sees it).
    pub connected: bool,
    /// The link was activated by the remote side's dynamic address (always `false` when
    /// built against corosync older than 3.1.4, whose headers lack the field).
    pub dynconnected: bool,
    /// The MTU knet currently detects on this link.
    pub mtu: u32,
    /// The local address of the link, as text (empty for an unconfigured link).
    pub src_addr: String,
    /// The remote address of the link, as text (empty for an unconfigured link).
    pub dst_addr: String,
}

#[cfg(corosync_cfg_node_status)]
impl LinkStatus {
    fn from_v1(link_id: u8, raw: &sys::corosync_knet_link_status_v1) -> Result<LinkStatus> {
        let text = |array: &[c_char], what| {
            std::str::from_utf8(from_c_array(array))
                .map(str::to_owned)
                .map_err(|_| Error::InvalidUtf8 { what })
        };
        Ok(LinkStatus {
            link_id,
            enabled: raw.enabled != 0,
            connected: raw.connected != 0,
            #[cfg(corosync_cfg_link_dynconnected)]
            dynconnected: raw.dynconnected != 0,
            // Headers before corosync 3.1.4 have no such field.
            #[cfg(not(corosync_cfg_link_dynconnected))]
            dynconnected: false,
            mtu: raw.mtu,
            src_addr: text(&raw.src_ipaddr, "link source address")?,
            dst_addr: text(&raw.dst_ipaddr, "link destination address")?,
        })
    }
}

/// One interface (link) of the local node, as [`Cfg::ring_status`] reports it.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cfg = corosync::cfg::Cfg::new()?;
/// let all_up = cfg.ring_status()?.iter().all(|i| i.status.chars().all(|c| c == 'n' || c == '3'));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct InterfaceStatus {
    /// The interface's name: with knet, the link number and the local address
    /// (`"0 10.0.0.1"`).
    pub name: String,
    /// The interface's status: with knet, one character per node (see
    /// [`Cfg::ring_status`]).
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[u8], length: usize) -> sys::corosync_cfg_node_address_t {
        let mut entry = sys::corosync_cfg_node_address_t {
            address_length: length as c_int,
            ..Default::default()
        };
        for (dst, &src) in entry.address.iter_mut().zip(bytes) {
            *dst = src as c_char;
        }
        entry
    }

    fn sockaddr_bytes<T>(value: &T) -> Vec<u8> {
        // SAFETY: any initialised value can be viewed as bytes for the length of its type.
        unsafe {
            std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
        }
        .to_vec()
    }

    #[test]
    fn addresses_are_decoded_by_family() {
        // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(Ipv4Addr::new(10, 213, 0, 7)).to_be();
        let v4 = entry(&sockaddr_bytes(&sin), std::mem::size_of_val(&sin));
        assert_eq!(
            decode_node_address(&v4),
            Some(Ok(IpAddr::from([10, 213, 0, 7])))
        );

        // SAFETY: as above.
        let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        let addr: Ipv6Addr = "fd00::5".parse().unwrap();
        sin6.sin6_addr.s6_addr = addr.octets();
        let v6 = entry(&sockaddr_bytes(&sin6), std::mem::size_of_val(&sin6));
        assert_eq!(decode_node_address(&v6), Some(Ok(IpAddr::V6(addr))));
    }

    #[test]
    fn unused_and_unknown_addresses() {
        // Family 0 with a length: an unused (all-zero) entry, skipped.
        assert_eq!(decode_node_address(&entry(&[], 16)), None);
        // Family 0 and length 0: libcfg could not decode the daemon's family.
        assert!(matches!(
            decode_node_address(&entry(&[], 0)),
            Some(Err(Error::UnexpectedValue { value: 0, .. }))
        ));
        // An unknown family.
        let family = (libc::AF_UNIX as libc::sa_family_t).to_ne_bytes();
        assert_eq!(
            decode_node_address(&entry(&family, 16)),
            Some(Err(Error::UnexpectedValue {
                what: "node address family",
                value: i64::from(libc::AF_UNIX)
            }))
        );
        // AF_INET with the length of a sockaddr_in6 is not trusted.
        let family = (libc::AF_INET as libc::sa_family_t).to_ne_bytes();
        assert!(matches!(
            decode_node_address(&entry(&family, 28)),
            Some(Err(Error::UnexpectedValue { .. }))
        ));
    }

    #[test]
    #[cfg(corosync_cfg_node_status)]
    fn node_status_is_converted() {
        let mut raw = sys::corosync_cfg_node_status_v1 {
            version: sys::CFG_NODE_STATUS_V1,
            nodeid: 3,
            reachable: 1,
            onwire_ver: 2,
            ..Default::default()
        };
        raw.link_status[1].enabled = 1;
        raw.link_status[1].connected = 1;
        raw.link_status[1].mtu = 1397;
        for (dst, &src) in raw.link_status[1].src_ipaddr.iter_mut().zip(b"10.0.0.1") {
            *dst = src as c_char;
        }
        let status = NodeStatus::from_v1(&raw).unwrap();
        assert_eq!(status.node_id, NodeId::from(3));
        assert!(status.reachable && !status.remote && !status.external);
        assert_eq!(status.links.len(), 8);
        let enabled: Vec<_> = status.enabled_links().collect();
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].link_id, 1);
        assert_eq!(enabled[0].src_addr, "10.0.0.1");
        assert_eq!(enabled[0].dst_addr, "");
        assert_eq!(enabled[0].mtu, 1397);

        raw.version = 2;
        assert!(matches!(
            NodeStatus::from_v1(&raw),
            Err(Error::UnexpectedValue { value: 2, .. })
        ));
    }

    #[test]
    fn ring_status_strings_are_copied_and_freed() {
        fn c_strdup(s: &str) -> *mut c_char {
            let owned = std::ffi::CString::new(s).unwrap();
            // SAFETY: strdup copies a valid NUL-terminated string into malloc'ed memory.
            unsafe { libc::strdup(owned.as_ptr()) }
        }
        fn c_array(items: &[&str]) -> *mut *mut c_char {
            // SAFETY: malloc of a non-zero size; checked for null below.
            let array = unsafe { libc::malloc(std::mem::size_of::<*mut c_char>() * items.len()) }
                .cast::<*mut c_char>();
            assert!(!array.is_null());
            for (i, item) in items.iter().enumerate() {
                // SAFETY: the array has room for items.len() pointers.
                unsafe { *array.add(i) = c_strdup(item) };
            }
            array
        }
        let arrays = RingStatusArrays {
            names: c_array(&["0 10.0.0.1", "1 10.1.0.1"]),
            statuses: c_array(&["n33", "n3d"]),
            count: 2,
        };
        let list = arrays.to_vec().unwrap();
        assert_eq!(
            list,
            vec![
                InterfaceStatus {
                    name: "0 10.0.0.1".into(),
                    status: "n33".into()
                },
                InterfaceStatus {
                    name: "1 10.1.0.1".into(),
                    status: "n3d".into()
                },
            ]
        );
        // Dropping `arrays` frees everything (checked under valgrind/ASan, and by not
        // crashing on a double free here).
        drop(arrays);
    }
}
