//! `quorumtool`: corosync-quorumtool written over the `corosync` crate.
//!
//! It takes corosync-quorumtool's options and prints what corosync 3.1.7's tool prints,
//! byte for byte (the `Date:` line aside, which shows the current time), with the same exit
//! codes: 0 on success, 2 for `-s` on a node that is not quorate, 1 on errors.
//!
//! ```text
//! quorumtool [-s | -l | -m | -v <votes> [-n <nodeid>] | -e <expected> | -f]
//!            [-p] [-a] [-H] [-i] [-o a|n|i] [-h] [-V]
//! ```
//!
//! Like the C tool it uses four libraries: quorum (model v0) for the quorate state, the ring
//! sequence number and the member list; votequorum for votes, flags and the ring id's node;
//! cmap for `quorum.provider`, `runtime.votequorum.this_node_id` and the nodelist names; cfg
//! for the nodes' addresses. The C tool's quirks are kept on purpose, so that the outputs
//! compare equal: after `-o n` or `-o i` the vote and qdevice columns still follow the
//! unsorted order, and without a quorum provider `-s` fails asking votequorum anyway.

use std::ffi::{CStr, OsStr, OsString};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use corosync::cfg::Cfg;
use corosync::cmap::{Cmap, KeyInfo};
use corosync::quorum::{Quorum, QuorumType};
use corosync::votequorum::{Info, InfoFlags, Votequorum, QDEVICE_NODE_ID};
use corosync::{DispatchMode, Error, NodeId, TrackFlags};
use corosync_examples::c_number::strtonum;
use corosync_examples::getopt::Getopt;

const EXIT_SUCCESS: u8 = 0;
const EXIT_FAILURE: u8 = 1;
const EXIT_NOT_QUORATE: u8 = 2;

#[derive(Clone, Copy, PartialEq)]
enum NodeIdFormat {
    Decimal,
    Hex,
}

#[derive(Clone, Copy, PartialEq)]
enum NameFormat {
    Name,
    Ip,
}

#[derive(Clone, PartialEq)]
enum Command {
    ShowNodes,
    ShowStatus,
    SetVotes,
    SetExpected,
    Monitor,
    UnregisterQdevice,
    /// `-W`: watch quorum changes and/or extra-info changes (corosync after 3.1.10).
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    WatchNotifications {
        quorum: bool,
        extra_info: bool,
    },
    /// `-X text` (set) and `-C` (clear): corosync after 3.1.10.
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    SetExtraInfo(Option<String>),
}

#[derive(Clone, Copy, PartialEq)]
enum SortType {
    Addr,
    NodeId,
    NodeName,
}

/// What the notification closures report, read by the main loop.
#[derive(Default)]
struct Shared {
    /// A quorum notification arrived.
    called: bool,
    quorate: bool,
    ring_seq: u64,
    view_list: Vec<u32>,
    /// A votequorum node-list notification arrived.
    vq_called: bool,
    ring_id_rep_node: u32,
    /// `-W q`: quorum notifications print the quorate state.
    watch_quorum: bool,
    /// `-W x`: extra-info notifications print the node and its information.
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    watch_extra_info: bool,
}

struct Tool {
    cmap: Cmap,
    quorum: Quorum,
    cfg: Cfg,
    votequorum: Option<Votequorum>,
    our_nodeid: u32,
    shared: Arc<Mutex<Shared>>,
    show_all_addrs: bool,
    machine_parsable: bool,
}

/// corosync's `cs_strerror`: the C name of an error code, "success" for none.
fn cs_strerror(err: Option<&Error>) -> String {
    let Some(err) = err else {
        return "success".to_string();
    };
    if matches!(err, Error::Unknown(_)) {
        return "unknown error".to_string();
    }
    let text = err.to_string();
    match (err.code(), text.rfind("(CS_ERR_")) {
        (Some(_), Some(start)) => text[start + 1..].trim_end_matches(')').to_string(),
        _ => text,
    }
}

fn show_usage(name: &str) {
    println!("usage: ");
    println!("{name} <options>");
    println!();
    println!("  options:");
    println!();
    println!("  -s             show quorum status");
    println!("  -m             constantly monitor quorum status");
    println!("  -l             list nodes");
    println!("  -a             show all names or addresses for each node");
    println!("  -p             when used with -s or -l, generates machine parsable output");
    println!("  -v <votes>     change the number of votes for a node (*)");
    println!("  -n <nodeid>    optional nodeid of node for -v");
    println!("  -e <expected>  change expected votes for the cluster (*)");
    println!("  -H             show nodeids in hexadecimal rather than decimal");
    println!("  -i             show node IP addresses instead of the resolved name");
    println!("  -o <a|n|i>     order by [a] IP address (default), [n] name, [i] nodeid");
    println!("  -f             forcefully unregister a quorum device *DANGEROUS* (*)");
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    {
        println!("  -W <q|x|qx>    watch for update messages. q quorum status, x extra info (votequorum only)");
        println!("  -X <string>    set qdevice extra info on the node running the command (votequorum only)");
        println!("  -C             clear qdevice extra info on the node running the command (votequorum only)");
    }
    println!("  -h             show this help text");
    println!("  -V             show version and exit");
    println!();
    println!("  (*) Starred items only work if votequorum is the quorum provider for corosync");
    println!();
}

/// The C tool's `print_string_padded`: right-aligned in 10 columns, then a space.
fn padded(text: &str) -> String {
    format!("{text:>10} ")
}

fn nodeid_column(format: NodeIdFormat, id: u32) -> String {
    match format {
        NodeIdFormat::Decimal => padded(&id.to_string()),
        NodeIdFormat::Hex => format!("0x{id:08x} "),
    }
}

/// `ctime(3)` of now, with its trailing newline.
fn ctime_now() -> String {
    // SAFETY: time(NULL) only returns the time.
    let now = unsafe { libc::time(std::ptr::null_mut()) };
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: `now` is valid and `buf` has more than the 26 bytes ctime_r writes.
    let text = unsafe { libc::ctime_r(&now, buf.as_mut_ptr()) };
    if text.is_null() {
        return "\n".to_string();
    }
    // SAFETY: ctime_r wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// `getnameinfo(3)` of `addr`: its numeric form with `numeric`, else its resolved name.
fn name_info(addr: IpAddr, numeric: bool) -> Option<String> {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    let mut host = [0 as libc::c_char; 1025];
    let flags = if numeric { libc::NI_NUMERICHOST } else { 0 };
    // SAFETY: `storage` holds a sockaddr of `len` bytes; `host` is writable for its length.
    let rc = unsafe {
        libc::getnameinfo(
            std::ptr::addr_of!(storage).cast(),
            len as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            flags,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo wrote a NUL-terminated string into `host`.
    Some(
        unsafe { CStr::from_ptr(host.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

impl Tool {
    /// The C tool's `init_all`; prints its messages and returns `None` on failure.
    fn init(show_all_addrs: bool, machine_parsable: bool) -> Option<Tool> {
        let Ok(cmap) = Cmap::new() else {
            eprintln!("Cannot initialize CMAP service");
            return None;
        };
        let shared = Arc::new(Mutex::new(Shared::default()));
        let sink = shared.clone();
        let quorum = Quorum::new_v0(move |_, n| {
            let mut shared = sink.lock().unwrap();
            shared.called = true;
            shared.quorate = n.is_quorate();
            shared.ring_seq = n.ring_seq();
            shared.view_list = n.members().iter().map(|id| id.get()).collect();
            if shared.watch_quorum {
                println!(
                    "{}",
                    if n.is_quorate() {
                        "Quorate"
                    } else {
                        "Not quorate"
                    }
                );
            }
        });
        let Ok(quorum) = quorum else {
            eprintln!("Cannot initialize QUORUM service");
            return None;
        };
        let Ok(cfg) = Cfg::new() else {
            eprintln!("Cannot initialise CFG service");
            return None;
        };
        let mut tool = Tool {
            cmap,
            quorum,
            cfg,
            votequorum: None,
            our_nodeid: 0,
            shared,
            show_all_addrs,
            machine_parsable,
        };
        if tool.using_votequorum() <= 0 {
            return Some(tool);
        }
        let sink = tool.shared.clone();
        let builder = Votequorum::builder().on_nodelist(move |_, n| {
            let mut shared = sink.lock().unwrap();
            shared.ring_id_rep_node = n.ring_id().node_id.get();
            shared.vq_called = true;
        });
        // The C tool of corosync after 3.1.10 connects with model v1 and this callback.
        #[cfg(corosync_votequorum_qdevice_extra_info)]
        let builder = {
            let sink = tool.shared.clone();
            builder.on_qdevice_extra_info(move |_, n| {
                if sink.lock().unwrap().watch_extra_info {
                    println!(
                        "{:>10} {}",
                        n.node_id().get(),
                        extra_info_text(n.extra_info().unwrap_or_default())
                    );
                }
            })
        };
        let votequorum = builder.build();
        let Ok(votequorum) = votequorum else {
            eprintln!("Cannot initialise VOTEQUORUM service");
            return None;
        };
        tool.votequorum = Some(votequorum);
        match tool.cmap.get::<u32>("runtime.votequorum.this_node_id") {
            Ok(id) => tool.our_nodeid = id,
            Err(_) => {
                eprintln!("Unable to retrieve this_node_id");
                return None;
            }
        }
        Some(tool)
    }

    /// The configured quorum provider, `None` without a quorum provider or key.
    fn quorum_type(&self) -> Option<String> {
        if self.quorum.quorum_type() == QuorumType::Free {
            return None;
        }
        let mut provider: String = self.cmap.get("quorum.provider").ok()?;
        // The C tool copies it into a 256-byte buffer.
        while provider.len() > 255 {
            provider.pop();
        }
        Some(provider)
    }

    /// 1 if votequorum is the provider, 0 if another one is, -1 if none (or unknown).
    fn using_votequorum(&self) -> i32 {
        match self.quorum_type() {
            None => -1,
            Some(provider) if provider == "corosync_votequorum" => 1,
            Some(_) => 0,
        }
    }

    fn set_votes(&self, nodeid: u32, votes: i64) -> u8 {
        let Some(vq) = &self.votequorum else {
            return EXIT_FAILURE;
        };
        match vq.set_votes(NodeId::from(nodeid), votes as u32) {
            Ok(()) => EXIT_SUCCESS,
            Err(err) => {
                eprintln!(
                    "Unable to set votes {votes} for nodeid: {nodeid}: {}",
                    cs_strerror(Some(&err))
                );
                EXIT_FAILURE
            }
        }
    }

    fn set_expected(&self, expected: i64) -> u8 {
        let Some(vq) = &self.votequorum else {
            return EXIT_FAILURE;
        };
        match vq.set_expected_votes(expected as u32) {
            Ok(()) => EXIT_SUCCESS,
            Err(err) => {
                eprintln!("Unable to set expected votes: {}", cs_strerror(Some(&err)));
                EXIT_FAILURE
            }
        }
    }

    /// The `name` of the nodelist entry whose `nodeid` is `nodeid`, or "".
    fn node_name_by_nodelist(&self, nodeid: u32) -> String {
        let Ok(iter) = self.cmap.iter("nodelist.node.") else {
            return String::new();
        };
        for item in iter {
            let Ok(key) = item.map(KeyInfo::into_name) else {
                break;
            };
            let Some(rest) = key.as_str().strip_prefix("nodelist.node.") else {
                continue;
            };
            let Some((pos, tail)) = rest.split_once('.') else {
                continue;
            };
            let Ok(pos) = pos.parse::<u32>() else {
                continue;
            };
            if tail != "nodeid" {
                continue;
            }
            match self.cmap.get::<u32>(&format!("nodelist.node.{pos}.nodeid")) {
                Ok(id) if id == nodeid => {}
                _ => continue,
            }
            let Ok(mut name) = self
                .cmap
                .get::<String>(&format!("nodelist.node.{pos}.name"))
            else {
                continue;
            };
            // The C tool keeps at most _POSIX_HOST_NAME_MAX - 1 bytes.
            while name.len() > 254 {
                name.pop();
            }
            return name;
        }
        String::new()
    }

    /// The C tool's `node_name`: the nodelist name and/or the node's address(es).
    fn node_name(&self, nodeid: u32, format: NameFormat) -> String {
        let mut buf = String::new();
        let mut start_addr = 0;
        if format == NameFormat::Name {
            let name = self.node_name_by_nodelist(nodeid);
            if !name.is_empty() {
                start_addr = 1;
                buf = name;
            }
        }
        let addrs = match self.cfg.node_addrs(NodeId::from(nodeid)) {
            Ok(addrs) => addrs,
            Err(err) => {
                eprintln!(
                    "Unable to get node address for nodeid {nodeid}: {}",
                    cs_strerror(Some(&err))
                );
                return String::new();
            }
        };
        let numaddrs = if self.show_all_addrs { addrs.len() } else { 1 };
        for (i, addr) in addrs.iter().enumerate().take(numaddrs).skip(start_addr) {
            if i > 0 {
                buf.push_str(", ");
            }
            if let Some(text) = name_info(*addr, format == NameFormat::Ip) {
                buf.push_str(&text);
            }
        }
        buf
    }

    fn display_nodes_data(
        &self,
        nodeid_format: NodeIdFormat,
        name_format: NameFormat,
        sort: SortType,
    ) {
        let view_list = self.shared.lock().unwrap().view_list.clone();
        let mut display_qdevice = false;
        // Cached node info, in the order the daemon sent the nodes.
        let mut info: Vec<Option<Info>> = Vec::with_capacity(view_list.len());
        if let Some(vq) = &self.votequorum {
            for &id in &view_list {
                let node_info = vq.info(Some(NodeId::from(id))).ok();
                if node_info.is_none() {
                    println!("Unable to get node {id} info");
                }
                if node_info
                    .as_ref()
                    .is_some_and(|i| i.flags.contains(InfoFlags::QDEVICE_REGISTERED))
                {
                    display_qdevice = true;
                }
                info.push(node_info);
            }
        }
        let mut rows: Vec<(u32, String)> = view_list
            .iter()
            .map(|&id| (id, self.node_name(id, name_format)))
            .collect();

        println!("\nMembership information");
        println!("----------------------");
        let mut header = padded("Nodeid");
        if self.votequorum.is_some() {
            header.push_str(&padded("Votes"));
            if display_qdevice || self.machine_parsable {
                header.push_str(&padded("Qdevice"));
            }
        }
        println!("{header}Name");

        // corosync sends them sorted by address already.
        match sort {
            SortType::NodeId => rows.sort_by_key(|(id, _)| *id),
            SortType::NodeName => rows.sort_by(|a, b| a.1.cmp(&b.1)),
            SortType::Addr => {}
        }
        let flags_of = |i: usize| {
            info.get(i)
                .and_then(Option::as_ref)
                .map_or(0, |x| x.flags.bits())
        };
        let mut our_flags = 0;
        for (i, (id, name)) in rows.iter().enumerate() {
            let mut line = nodeid_column(nodeid_format, *id);
            if self.votequorum.is_some() {
                // Like the C tool, row i shows the votes and flags of the i-th node as the
                // daemon listed them, also after sorting.
                let votes = info
                    .get(i)
                    .and_then(Option::as_ref)
                    .map_or(0, |x| x.node_votes);
                line.push_str(&padded(&votes.to_string()));
                if display_qdevice || self.machine_parsable {
                    let flags = InfoFlags::from_bits_retain(flags_of(i));
                    if flags.contains(InfoFlags::QDEVICE_REGISTERED) {
                        let text = format!(
                            "{},{},{}",
                            if flags.contains(InfoFlags::QDEVICE_ALIVE) {
                                "A"
                            } else {
                                "NA"
                            },
                            if flags.contains(InfoFlags::QDEVICE_CAST_VOTE) {
                                "V"
                            } else {
                                "NV"
                            },
                            if flags.contains(InfoFlags::QDEVICE_MASTER_WINS) {
                                "MW"
                            } else {
                                "NMW"
                            }
                        );
                        line.push_str(&padded(&text));
                    } else {
                        line.push_str(&padded("NR"));
                    }
                }
            }
            line.push_str(name);
            #[cfg(corosync_votequorum_qdevice_extra_info)]
            if display_qdevice {
                line.push_str(&self.extra_info_column(info.get(i).and_then(Option::as_ref)));
            }
            if *id == self.our_nodeid {
                line.push_str(" (local)");
                if self.votequorum.is_some() {
                    our_flags = flags_of(i);
                }
            }
            println!("{line}");
        }

        if display_qdevice {
            let first = info.first().and_then(Option::as_ref);
            let qdevice_votes = first.map_or(0, |x| x.qdevice_votes);
            let qdevice_name = first.map_or("", |x| x.qdevice_name.as_str());
            let cast_vote =
                InfoFlags::from_bits_retain(our_flags).contains(InfoFlags::QDEVICE_CAST_VOTE);
            let mut line = nodeid_column(nodeid_format, QDEVICE_NODE_ID.get());
            line.push_str(&padded(
                &if cast_vote { qdevice_votes } else { 0 }.to_string(),
            ));
            line.push_str("           ");
            line.push_str(qdevice_name);
            if !cast_vote {
                line.push_str(&format!(" (votes {})", qdevice_votes as i32));
            }
            println!("{line}");
        }
    }

    /// Returns the getinfo error, if any, as the C tool's `display_quorum_data` does.
    fn display_quorum_data(
        &self,
        is_quorate: bool,
        nodeid_format: NodeIdFormat,
        name_format: NameFormat,
        sort: SortType,
    ) -> Result<(), Error> {
        println!("Quorum information");
        println!("------------------");
        print!("Date:             {}", ctime_now());
        let provider = self
            .quorum_type()
            .unwrap_or_else(|| "Not configured".to_string());
        println!("Quorum provider:  {provider}");
        let (entries, ring_seq, rep_node) = {
            let shared = self.shared.lock().unwrap();
            (
                shared.view_list.len(),
                shared.ring_seq,
                shared.ring_id_rep_node,
            )
        };
        println!("Nodes:            {}", entries as i32);
        match nodeid_format {
            NodeIdFormat::Decimal => println!("Node ID:          {}", self.our_nodeid),
            NodeIdFormat::Hex => println!("Node ID:          0x{:08x}", self.our_nodeid),
        }
        if self.votequorum.is_some() {
            println!("Ring ID:          {rep_node:x}.{ring_seq:x}");
        } else {
            println!("Ring ID:          {ring_seq:x}");
        }
        println!(
            "Quorate:          {}",
            if is_quorate { "Yes" } else { "No" }
        );

        let Some(vq) = &self.votequorum else {
            return Ok(());
        };
        let result = vq.info(Some(NodeId::from(self.our_nodeid)));
        match &result {
            Ok(info) => {
                println!("\nVotequorum information");
                println!("----------------------");
                println!("Expected votes:   {}", info.node_expected_votes as i32);
                println!("Highest expected: {}", info.highest_expected as i32);
                println!("Total votes:      {}", info.total_votes as i32);
                println!(
                    "Quorum:           {} {}",
                    info.quorum as i32,
                    if info.flags.contains(InfoFlags::QUORATE) {
                        " "
                    } else {
                        "Activity blocked"
                    }
                );
                let mut flags = String::new();
                for (flag, word) in [
                    (InfoFlags::TWO_NODE, "2Node "),
                    (InfoFlags::QUORATE, "Quorate "),
                    (InfoFlags::WAIT_FOR_ALL, "WaitForAll "),
                    (InfoFlags::LAST_MAN_STANDING, "LastManStanding "),
                    (InfoFlags::AUTO_TIE_BREAKER, "AutoTieBreaker "),
                    (InfoFlags::ALLOW_DOWNSCALE, "AllowDownscale "),
                    (InfoFlags::QDEVICE_REGISTERED, "Qdevice "),
                ] {
                    if info.flags.contains(flag) {
                        flags.push_str(word);
                    }
                }
                println!("Flags:            {flags}");
            }
            Err(Error::NotExist) => {
                // The C tool prints the (unset) structure anyway; there is nothing to print.
                println!("\nVotequorum information");
                println!("----------------------");
            }
            Err(err) => eprintln!("Unable to get node info: {}", cs_strerror(Some(err))),
        }
        self.display_nodes_data(nodeid_format, name_format, sort);
        match result {
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Dispatches the quorum handle until a quorum notification arrived.
    fn wait_quorum(&self) -> Result<(), Error> {
        self.shared.lock().unwrap().called = false;
        while !self.shared.lock().unwrap().called {
            if let Err(err) = self.quorum.dispatch(DispatchMode::One) {
                eprintln!(
                    "Unable to dispatch quorum status: {}",
                    cs_strerror(Some(&err))
                );
                return Err(err);
            }
        }
        Ok(())
    }

    /// Dispatches the votequorum handle until a node-list notification arrived.
    fn wait_votequorum(&self, vq: &Votequorum) -> Result<(), Error> {
        self.shared.lock().unwrap().vq_called = false;
        while !self.shared.lock().unwrap().vq_called {
            if let Err(err) = vq.dispatch(DispatchMode::One) {
                eprintln!(
                    "Unable to dispatch votequorum status: {}",
                    cs_strerror(Some(&err))
                );
                return Err(err);
            }
        }
        Ok(())
    }

    /// votequorum's trackstart, as the C tool calls it even without a votequorum handle
    /// (then failing with a bad handle).
    fn votequorum_trackstart(&self, flags: TrackFlags) -> Result<&Votequorum, Error> {
        let result = match &self.votequorum {
            Some(vq) => vq.track_start(0, flags).map(|()| vq),
            None => Err(Error::BadHandle),
        };
        if let Err(err) = &result {
            eprintln!(
                "Unable to start votequorum status tracking: {}",
                cs_strerror(Some(err))
            );
        }
        result
    }

    fn show_status(
        &self,
        nodeid_format: NodeIdFormat,
        name_format: NameFormat,
        sort: SortType,
    ) -> u8 {
        let is_quorate = match self.quorum.is_quorate() {
            Ok(q) => q,
            Err(err) => {
                eprintln!(
                    "Unable to get cluster quorate status: {}",
                    cs_strerror(Some(&err))
                );
                return EXIT_FAILURE;
            }
        };
        if let Err(err) = self.quorum.track_start(TrackFlags::CURRENT) {
            eprintln!(
                "Unable to start quorum status tracking: {}",
                cs_strerror(Some(&err))
            );
            return EXIT_FAILURE;
        }
        let dispatched = self.wait_quorum();
        if self.quorum.track_stop().is_err() {
            eprintln!(
                "Unable to stop quorum status tracking: {}",
                cs_strerror(dispatched.as_ref().err())
            );
        }
        if dispatched.is_err() {
            return EXIT_FAILURE;
        }
        if self.using_votequorum() != 0 {
            let Ok(vq) = self.votequorum_trackstart(TrackFlags::CURRENT) else {
                return EXIT_FAILURE;
            };
            if self.wait_votequorum(vq).is_err() {
                return EXIT_FAILURE;
            }
        }
        if self
            .display_quorum_data(is_quorate, nodeid_format, name_format, sort)
            .is_err()
        {
            return EXIT_FAILURE;
        }
        if is_quorate {
            EXIT_SUCCESS
        } else {
            EXIT_NOT_QUORATE
        }
    }

    fn monitor_status(
        &self,
        nodeid_format: NodeIdFormat,
        name_format: NameFormat,
        sort: SortType,
    ) -> u8 {
        if self.quorum.quorum_type() == QuorumType::Free {
            println!("\nQuorum is not configured - cannot monitor");
            return self.show_status(nodeid_format, name_format, sort);
        }
        if let Err(err) = self.quorum.track_start(TrackFlags::CHANGES) {
            eprintln!(
                "Unable to start quorum status tracking: {}",
                cs_strerror(Some(&err))
            );
            return EXIT_FAILURE;
        }
        if self.using_votequorum() != 0 && self.votequorum_trackstart(TrackFlags::CHANGES).is_err()
        {
            return EXIT_FAILURE;
        }
        loop {
            if let Err(err) = self.quorum.dispatch(DispatchMode::One) {
                eprintln!(
                    "Unable to dispatch quorum status: {}",
                    cs_strerror(Some(&err))
                );
                return EXIT_FAILURE;
            }
            if self.using_votequorum() != 0 {
                let Some(vq) = &self.votequorum else {
                    eprintln!(
                        "Unable to dispatch votequorum status: {}",
                        cs_strerror(Some(&Error::BadHandle))
                    );
                    return EXIT_FAILURE;
                };
                if self.wait_votequorum(vq).is_err() {
                    return EXIT_FAILURE;
                }
            }
            let quorate = self.shared.lock().unwrap().quorate;
            let result = self.display_quorum_data(quorate, nodeid_format, name_format, sort);
            println!();
            if let Err(err) = result {
                eprintln!("Unable to display quorum data: {}", cs_strerror(Some(&err)));
                return EXIT_FAILURE;
            }
        }
    }

    fn show_nodes(
        &self,
        nodeid_format: NodeIdFormat,
        name_format: NameFormat,
        sort: SortType,
    ) -> u8 {
        if let Err(err) = self.quorum.track_start(TrackFlags::CURRENT) {
            eprintln!(
                "Unable to start quorum status tracking: {}",
                cs_strerror(Some(&err))
            );
            return EXIT_FAILURE;
        }
        if self.wait_quorum().is_err() {
            return EXIT_FAILURE;
        }
        self.display_nodes_data(nodeid_format, name_format, sort);
        EXIT_SUCCESS
    }

    fn unregister_qdevice(&self) -> u8 {
        let Some(vq) = &self.votequorum else {
            return EXIT_FAILURE;
        };
        let info = match vq.info(Some(NodeId::from(self.our_nodeid))) {
            Ok(info) => info,
            Err(err) => {
                eprintln!(
                    "Unable to get quorum device info: {}",
                    cs_strerror(Some(&err))
                );
                return EXIT_FAILURE;
            }
        };
        if !info.flags.contains(InfoFlags::QDEVICE_REGISTERED) {
            return EXIT_SUCCESS;
        }
        if let Err(err) = vq.qdevice_unregister(&info.qdevice_name) {
            eprintln!(
                "Unable to unregister quorum device: {}",
                cs_strerror(Some(&err))
            );
            return EXIT_FAILURE;
        }
        EXIT_SUCCESS
    }
}

/// What the C tool of corosync after 3.1.10 adds: a quorum device's extra information.
#[cfg(corosync_votequorum_qdevice_extra_info)]
impl Tool {
    /// The text after a node's name in `-l`/`-s` when its quorum device published extra
    /// information: ` [text]`, or nothing (the C tool reads it with the node's `Info`, which
    /// like the other columns follows the unsorted order).
    fn extra_info_column(&self, info: Option<&Info>) -> String {
        let (Some(vq), Some(info)) = (&self.votequorum, info) else {
            return String::new();
        };
        let flags = info.flags;
        if !flags.contains(InfoFlags::QDEVICE_REGISTERED)
            || !flags.contains(InfoFlags::QDEVICE_HAS_EXTRA_INFO)
        {
            return String::new();
        }
        match vq.qdevice_extra_info(info.node_id) {
            Ok(bytes) => format!(" [{}]", extra_info_text(&bytes.unwrap_or_default())),
            Err(_) => String::new(),
        }
    }

    /// `-W`: prints changes until a dispatch fails.
    fn watch_notifications(&self, quorum: bool, extra_info: bool) -> u8 {
        {
            let mut shared = self.shared.lock().unwrap();
            shared.watch_quorum = quorum;
            shared.watch_extra_info = extra_info;
        }
        if self.quorum.quorum_type() == QuorumType::Free {
            println!("\nQuorum is not configured - cannot monitor");
            return EXIT_FAILURE;
        }
        if let Err(err) = self.quorum.track_start(TrackFlags::CHANGES) {
            eprintln!(
                "Unable to start quorum status tracking: {}",
                cs_strerror(Some(&err))
            );
            return EXIT_FAILURE;
        }
        let vq = match &self.votequorum {
            Some(vq) if self.using_votequorum() > 0 => {
                if let Err(err) = vq.track_start(0, TrackFlags::CHANGES) {
                    eprintln!(
                        "Unable to start votequorum status tracking: {}",
                        cs_strerror(Some(&err))
                    );
                    return EXIT_FAILURE;
                }
                Some(vq)
            }
            _ => None,
        };
        println!("Watching for updates:");
        loop {
            let flags = if vq.is_some() {
                DispatchMode::All
            } else {
                DispatchMode::One
            };
            if let Err(err) = self.quorum.dispatch(flags) {
                eprintln!(
                    "Unable to dispatch quorum status: {}",
                    cs_strerror(Some(&err))
                );
                return EXIT_FAILURE;
            }
            if let Some(vq) = vq {
                if let Err(err) = vq.dispatch(DispatchMode::One) {
                    eprintln!(
                        "Unable to dispatch votequorum status: {}",
                        cs_strerror(Some(&err))
                    );
                    return EXIT_FAILURE;
                }
            }
        }
    }

    /// `-X text` (the C string, with its NUL) and `-C` (`None`).
    fn set_qdevice_extra_info(&self, info: Option<&str>) -> u8 {
        let Some(vq) = &self.votequorum else {
            return EXIT_FAILURE;
        };
        let result = match info {
            Some(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.push(0);
                vq.qdevice_set_extra_info(bytes)
            }
            None => vq.qdevice_clear_extra_info(),
        };
        match result {
            Ok(()) => EXIT_SUCCESS,
            Err(err) => {
                eprintln!("Failed to set extra info {}", cs_strerror(Some(&err)));
                EXIT_FAILURE
            }
        }
    }
}

/// The C tool's `print_extra_info`: `<unset>`; the text of a NUL-terminated printable
/// string; otherwise the size and each byte in hex.
#[cfg(corosync_votequorum_qdevice_extra_info)]
fn extra_info_text(bytes: &[u8]) -> String {
    let Some((last, text)) = bytes.split_last() else {
        return "<unset>".to_string();
    };
    if *last == 0 && text.iter().all(|b| (0x20..0x7f).contains(b)) {
        return String::from_utf8_lossy(text).into_owned();
    }
    let mut out = format!("{} bytes: ", bytes.len());
    for b in bytes {
        out.push_str(&format!("{b:02X} "));
    }
    out
}

/// The parsed command line.
struct Options {
    command: Command,
    votes: i64,
    nodeid: Option<u32>,
    nodeid_format: NodeIdFormat,
    name_format: NameFormat,
    sort: SortType,
    show_all_addrs: bool,
    machine_parsable: bool,
}

/// Parses like getopt(3) with corosync-quorumtool's option string "VHaslpmfe:v:hin:o:"
/// ("VHaslpmfe:v:hin:o:W:X:C" after corosync 3.1.10); exits where the C tool exits.
fn parse_args(args: &[OsString]) -> Result<Options, u8> {
    let name = args
        .first()
        .map_or("quorumtool".into(), |a| a.to_string_lossy());
    let mut opts = Options {
        command: Command::ShowStatus,
        votes: 0,
        nodeid: None,
        nodeid_format: NodeIdFormat::Decimal,
        name_format: NameFormat::Name,
        sort: SortType::Addr,
        show_all_addrs: false,
        machine_parsable: false,
    };
    // corosync after 3.1.10 adds -W (watch), -X and -C (a quorum device's extra information).
    let optstring = if cfg!(corosync_votequorum_qdevice_extra_info) {
        "VHaslpmfe:v:hin:o:W:X:C"
    } else {
        "VHaslpmfe:v:hin:o:"
    };
    for option in Getopt::new(args, optstring) {
        let option = option.map_err(|err| {
            // getopt's '?': its message, then the usage.
            err.print();
            show_usage(&name);
            EXIT_FAILURE
        })?;
        let optarg = option.arg.map(OsStr::to_string_lossy).unwrap_or_default();
        match option.option {
            'f' => opts.command = Command::UnregisterQdevice,
            's' => opts.command = Command::ShowStatus,
            'a' => opts.show_all_addrs = true,
            'm' => opts.command = Command::Monitor,
            'i' => opts.name_format = NameFormat::Ip,
            'H' => opts.nodeid_format = NodeIdFormat::Hex,
            'l' => opts.command = Command::ShowNodes,
            'p' => opts.machine_parsable = true,
            'e' => {
                let Some(value) = strtonum(&optarg, 1, i64::from(i32::MAX)) else {
                    eprintln!("New expected votes value was not valid, try a positive number");
                    return Err(EXIT_FAILURE);
                };
                opts.votes = value;
                opts.command = Command::SetExpected;
            }
            'n' => {
                let Some(value) = strtonum(&optarg, 1, i64::from(u32::MAX)) else {
                    eprintln!("The nodeid was not valid, try a positive number");
                    return Err(EXIT_FAILURE);
                };
                opts.nodeid = Some(value as u32);
            }
            'v' => {
                let Some(value) = strtonum(&optarg, 0, i64::from(i32::MAX)) else {
                    eprintln!("New votes value was not valid, try a positive number or zero");
                    return Err(EXIT_FAILURE);
                };
                opts.votes = value;
                opts.command = Command::SetVotes;
            }
            'o' => {
                opts.sort = match &*optarg {
                    "a" => SortType::Addr,
                    "i" => SortType::NodeId,
                    "n" => SortType::NodeName,
                    _ => {
                        eprintln!(
                            "Invalid ordering option. valid orders are a(address), i(node ID) or n(name)"
                        );
                        return Err(EXIT_FAILURE);
                    }
                }
            }
            #[cfg(corosync_votequorum_qdevice_extra_info)]
            'W' => {
                let (quorum, extra_info) = match &opts.command {
                    Command::WatchNotifications { quorum, extra_info } => (*quorum, *extra_info),
                    _ => (false, false),
                };
                let (quorum, extra_info) = (
                    quorum || optarg.contains('q'),
                    extra_info || optarg.contains('x'),
                );
                if !quorum && !extra_info {
                    eprintln!(
                        "Invalid watch option. valid watch options are q(quorum) or x(qdevice extra info)"
                    );
                    return Err(EXIT_FAILURE);
                }
                opts.command = Command::WatchNotifications { quorum, extra_info };
            }
            #[cfg(corosync_votequorum_qdevice_extra_info)]
            'X' => opts.command = Command::SetExtraInfo(Some(optarg.to_string())),
            #[cfg(corosync_votequorum_qdevice_extra_info)]
            'C' => opts.command = Command::SetExtraInfo(None),
            'V' => {
                println!(
                    "corosync-quorumtool version: {}",
                    corosync::COROSYNC_VERSION
                );
                return Err(EXIT_SUCCESS);
            }
            'h' => {
                show_usage(&name);
                return Err(EXIT_SUCCESS);
            }
            _ => unreachable!("getopt returns only the options of its option string"),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let opts = match parse_args(&args) {
        Ok(opts) => opts,
        Err(code) => return ExitCode::from(code),
    };
    let Some(tool) = Tool::init(opts.show_all_addrs, opts.machine_parsable) else {
        return ExitCode::from(EXIT_FAILURE);
    };
    let (fmt, names, sort) = (opts.nodeid_format, opts.name_format, opts.sort);
    let ret = match opts.command.clone() {
        Command::ShowNodes => tool.show_nodes(fmt, names, sort),
        Command::ShowStatus => tool.show_status(fmt, names, sort),
        Command::SetVotes => {
            if tool.using_votequorum() > 0 {
                tool.set_votes(opts.nodeid.unwrap_or(tool.our_nodeid), opts.votes)
            } else {
                eprintln!("You cannot change node votes, corosync is not using votequorum");
                EXIT_FAILURE
            }
        }
        Command::SetExpected => {
            if tool.using_votequorum() > 0 {
                tool.set_expected(opts.votes)
            } else {
                eprintln!("You cannot change expected votes, corosync is not using votequorum");
                EXIT_FAILURE
            }
        }
        Command::Monitor => tool.monitor_status(fmt, names, sort),
        Command::UnregisterQdevice => {
            if tool.using_votequorum() > 0 {
                tool.unregister_qdevice()
            } else {
                eprintln!("You cannot unregister quorum device, corosync is not using votequorum");
                EXIT_FAILURE
            }
        }
        #[cfg(corosync_votequorum_qdevice_extra_info)]
        Command::WatchNotifications { quorum, extra_info } => {
            tool.watch_notifications(quorum, extra_info)
        }
        #[cfg(corosync_votequorum_qdevice_extra_info)]
        Command::SetExtraInfo(info) => {
            if tool.using_votequorum() > 0 {
                tool.set_qdevice_extra_info(info.as_deref())
            } else {
                eprintln!(
                    "You cannot set quorum device extra info, corosync is not using votequorum"
                );
                EXIT_FAILURE
            }
        }
    };
    drop(tool);
    ExitCode::from(ret)
}
