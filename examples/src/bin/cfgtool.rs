//! `cfgtool`: a drop-in counterpart of corosync 3.1.7's `corosync-cfgtool`, written with the
//! `corosync` crate (`cfg` for everything libcfg does, `cmap` for the node list and the
//! transports, as the C tool does).
//!
//! ```text
//! cfgtool [[-i <interface ip>] [-b] -s] [-R] [-L] [-k nodeid] [-a nodeid] [-h] [-H]
//! ```
//!
//! - `-s` / `--status`: the local node's links, with each node's link state
//!   (`-b` / `--brief`: one character per node).
//! - `-n` / `--nodes`: the reachable nodes and the state of each of their links.
//! - `-a N` / `--address N`: node N's addresses.
//! - `-R` / `--reload`: every node re-reads its corosync.conf.
//! - `-L` / `--reopen`: the local daemon reopens its log files.
//! - `-k N` / `--kill N`: node N's daemon exits.
//! - `-H` / `--shutdown`: the local daemon shuts down, unless a tracker vetoes it
//!   (`--force`: whatever the trackers answer).
//! - `-i` / `--if` is accepted and ignored, as corosync-cfgtool 3.1.7 does; `-h` (or no
//!   action) prints the usage.
//!
//! Where corosync-cfgtool changed between releases, this tool follows the release it was built
//! against (`corosync::COROSYNC_VERSION`, see `examples/src/corosync_release.rs`): from 3.1.9,
//! `-R` reports the daemon's reload error message and exits with 1 if there is one, else 0
//! (even after a failed reload, where 3.1.7 exits with the `cs_error_t`); from 3.1.10, `-s`
//! says that an SCTP link is deprecated.
//!
//! Options are parsed like GNU `getopt_long` does (combined short options, attached or
//! separate arguments, unambiguous prefixes of long options, `--`: the examples' shared
//! `getopt` module, whose tests compare it with glibc's), and the output, the
//! messages and the exit status are the C tool's, byte for byte; `examples/tests/cfgtool.rs`
//! compares the two on a real cluster. Differences: corosync-cfgtool 3.1.7 as Debian builds
//! it prints no knet on-wire versions with `-n` (its `HAVE_KNET_ONWIRE_VER` is unset), and
//! neither does this tool; and with `-a`, an all-zero address that libcfg marks as unused is
//! skipped without the extra space the C tool prints for it.

use std::ffi::{OsStr, OsString};
use std::net::IpAddr;
use std::process::exit;
use std::thread::sleep;
use std::time::Duration;

use corosync::cfg::{Cfg, NodeStatus, ShutdownMode};
use corosync::cmap::{Cmap, KeyInfo};
use corosync::{Error, NodeId};
use corosync_examples::c_number::strtonum;
use corosync_examples::getopt::{Getopt, HasArg, LongOption};

#[path = "../corosync_release.rs"]
mod corosync_release;

const USAGE: &str = "\
corosync-cfgtool [[-i <interface ip>] [-b] -s] [-R] [-L] [-k nodeid] [-a nodeid] [-h] [-H]

A tool for displaying and configuring active parameters within corosync.
options:
\t-i\tFinds only information about the specified interface IP address or link id when used with -s..
\t-s\tDisplays the status of the current links on this node.
\t-n\tDisplays the status of the connected nodes and their links.
\t-b\tDisplays the brief status of the current links on this node when used with -s.
\t-R\tTell all instances of corosync in this cluster to reload corosync.conf.
\t-L\tTell corosync to reopen all logging files.
\t-k\tKill a node identified by node id.
\t-a\tDisplay the IP address(es) of a node
\t-h\tPrint basic usage.
\t-H\tShutdown corosync cleanly on this node.
\t\t--force will shut down corosync regardless of daemon vetos
";

/// The reason `-k` gives, as corosync-cfgtool does.
const KILL_REASON: &str = "Killed by corosync-cfgtool";

/// Links per node (`CFG_MAX_LINKS`).
const MAX_LINKS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Noop,
    LinkStatus,
    NodeStatus,
    Reload,
    Reopen,
    Shutdown,
    ShowAddr,
    Kill,
}

#[derive(Debug)]
struct Options {
    action: Action,
    node_id: u32,
    brief: bool,
    force: bool,
}

/// The long options, in corosync-cfgtool's order (ambiguity messages list them so);
/// `'\0'` is `--force`, which has no short form.
const LONG_OPTIONS: &[LongOption] = &[
    LongOption::new("if", HasArg::Required, 'i'),
    LongOption::new("status", HasArg::No, 's'),
    LongOption::new("nodes", HasArg::No, 'n'),
    LongOption::new("brief", HasArg::No, 'b'),
    LongOption::new("reload", HasArg::No, 'R'),
    LongOption::new("reopen", HasArg::No, 'L'),
    LongOption::new("kill", HasArg::Required, 'k'),
    LongOption::new("address", HasArg::Required, 'a'),
    LongOption::new("shutdown", HasArg::No, 'H'),
    LongOption::new("force", HasArg::No, '\0'),
];

/// Parses a node id like corosync's `util_strtonum(arg, 1, UINT_MAX)`.
fn parse_node_id(arg: &str) -> Option<u32> {
    strtonum(arg, 1, i64::from(u32::MAX)).and_then(|id| u32::try_from(id).ok())
}

/// The node id argument of `-k` or `-a`; an invalid one ends the program as the C tool does.
fn node_id_arg(arg: &str) -> u32 {
    match parse_node_id(arg) {
        Some(id) => id,
        None => {
            eprintln!("The nodeid was not valid, try a positive number");
            exit(1);
        }
    }
}

/// Applies one option to `opts`.
fn apply(opts: &mut Options, option: char, arg: Option<&str>) {
    match option {
        '\0' => opts.force = true,
        's' => opts.action = Action::LinkStatus,
        'n' => opts.action = Action::NodeStatus,
        'b' => opts.brief = true,
        'R' => opts.action = Action::Reload,
        'L' => opts.action = Action::Reopen,
        'H' => opts.action = Action::Shutdown,
        'k' | 'a' => {
            opts.node_id = node_id_arg(arg.unwrap_or_default());
            opts.action = if option == 'k' {
                Action::Kill
            } else {
                Action::ShowAddr
            };
        }
        // -i is read and ignored by corosync-cfgtool 3.1.7; -h and -r do nothing.
        _ => {}
    }
}

/// Parses the command line (`argv`, program name first) like GNU `getopt_long` with
/// corosync-cfgtool's options. `Err(())` means getopt reported an error (already printed):
/// exit status 1.
fn parse_args(argv: &[OsString]) -> Result<Options, ()> {
    let mut opts = Options {
        action: Action::Noop,
        node_id: 0,
        brief: false,
        force: false,
    };
    // Operands are collected aside and ignored, as by the C tool.
    for option in Getopt::new(argv, "i:snbrRLk:a:hH").long(LONG_OPTIONS) {
        let option = option.map_err(|err| err.print())?;
        let arg = option.arg.map(OsStr::to_string_lossy);
        apply(&mut opts, option.option, arg.as_deref());
    }
    Ok(opts)
}

fn num(err: &Error) -> String {
    match err.code() {
        Some(code) => code.to_string(),
        None => err.to_string(),
    }
}

/// An error as `cs_strerror` names it (`CS_ERR_TRY_AGAIN`, ...).
fn name(err: &Error) -> String {
    if let Error::Unknown(_) = err {
        return "unknown error".to_string();
    }
    let text = err.to_string();
    if err.code().is_some() {
        // The crate's Display text of a corosync error ends with its C name in parentheses.
        if let Some(start) = text.rfind("(CS_ERR_") {
            return text[start + 1..].trim_end_matches(')').to_string();
        }
    }
    text
}

/// An address as glibc's `inet_ntop` writes it, which is the C tool's text. It differs from
/// Rust's `Display` for IPv4-compatible IPv6 addresses (`::1.2.3.4`).
fn ntop(addr: IpAddr) -> String {
    let v6 = match addr {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => v6,
    };
    let words = v6.segments();
    // The longest run of zero words (the first of equal ones), if at least 2 long.
    // (start, length) of the best run so far and of the current run.
    let mut best: Option<(usize, usize)> = None;
    let mut run: Option<(usize, usize)> = None;
    for (i, &word) in words.iter().enumerate() {
        if word == 0 {
            let (base, len) = run.map_or((i, 1), |(base, len)| (base, len + 1));
            run = Some((base, len));
            if len > best.map_or(0, |(_, best_len)| best_len) {
                best = Some((base, len));
            }
        } else {
            run = None;
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);
    // An IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d) address ends in dotted
    // decimal.
    let embedded_v4 = match best {
        Some((0, 6)) => true,
        Some((0, 5)) => words[5] == 0xffff,
        _ => false,
    };
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best.filter(|&(base, len)| (base..base + len).contains(&i)) {
            out.push(':');
            i = base + len;
            if i == 8 {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && embedded_v4 {
            let o = v6.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            break;
        }
        out.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    out
}

/// Opens a cfg handle; on failure prints the C tool's message (the error as a number) and
/// exits.
fn open_cfg() -> Cfg {
    Cfg::new().unwrap_or_else(|err| {
        eprintln!(
            "Could not initialize corosync configuration API error {}",
            num(&err)
        );
        exit(1);
    })
}

/// Like [`open_cfg`], with the error named as `cs_strerror` does (the reload and reopen
/// actions).
fn open_cfg_named() -> Cfg {
    Cfg::new().unwrap_or_else(|err| {
        eprintln!(
            "Could not initialize corosync configuration API error {}",
            name(&err)
        );
        exit(1);
    })
}

/// corosync's transports, as the C tool tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Knet,
    Udp,
    Udpu,
}

/// The link fields the C tool prints, with zeros for a node whose status was not available.
fn link(status: &Option<NodeStatus>, link: usize) -> (bool, bool, &str) {
    status
        .as_ref()
        .and_then(|s| s.links.get(link))
        .map_or((false, false, ""), |l| {
            (l.enabled, l.connected, l.src_addr.as_str())
        })
}

/// `-s` and `-n`.
fn node_status_do(action: Action, brief: bool) -> i32 {
    let cfg = open_cfg();
    let cmap = Cmap::new().unwrap_or_else(|err| {
        eprintln!("Could not initialize corosync cmap API error {}", num(&err));
        exit(1);
    });

    let (transport, transport_name) = match cmap.get::<String>("totem.transport") {
        Ok(name) => {
            let transport = match name.as_str() {
                "udpu" => Transport::Udpu,
                "udp" => Transport::Udp,
                _ => Transport::Knet,
            };
            (transport, name)
        }
        Err(_) => (Transport::Knet, "knet".to_string()),
    };

    let local = match cfg.local_node_id() {
        Ok(id) => id,
        Err(err) => {
            eprintln!(
                "Could not get the local node id, the error is: {}",
                num(&err)
            );
            return 1;
        }
    };

    // The configured nodes, from cmap (independent of the quorum provider, as in the C tool).
    let keys = cmap.iter("nodelist.node.").unwrap_or_else(|err| {
        eprintln!("Could not get nodelist from cmap. error {}", num(&err));
        exit(1);
    });
    let mut nodes: Vec<u32> = Vec::new();
    for entry in keys {
        let Ok(key) = entry.map(KeyInfo::into_name) else {
            break;
        };
        let is_nodeid_key = key
            .strip_prefix("nodelist.node.")
            .and_then(|rest| rest.strip_suffix(".nodeid"))
            .is_some_and(|index| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()));
        if !is_nodeid_key {
            continue;
        }
        if let Ok(id) = cmap.get::<u32>(&key) {
            nodes.push(id);
        }
    }
    if nodes.is_empty() {
        eprintln!("No nodes found in nodelist");
        exit(1);
    }
    nodes.sort_unstable();

    // The local node only has a link to itself: take the links of another node (the last).
    let mut local_index = 0;
    let mut other_index = 0;
    for (i, &id) in nodes.iter().enumerate() {
        if NodeId::from(id) == local {
            local_index = i;
        } else {
            other_index = i;
        }
    }

    // Each link's transport (knet: "udp" unless configured otherwise).
    let default = if transport == Transport::Knet {
        "udp"
    } else {
        ""
    };
    let mut link_transport: Vec<String> = vec![default.to_string(); MAX_LINKS];
    if let Ok(keys) = cmap.iter("totem.interface.") {
        for entry in keys {
            let Ok(key) = entry.map(KeyInfo::into_name) else {
                break;
            };
            let rest = &key["totem.interface.".len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let Ok(link_number) = rest[..digits].parse::<usize>() else {
                continue;
            };
            if link_number >= MAX_LINKS {
                continue;
            }
            let knet_key = format!("totem.interface.{link_number}.knet_transport");
            if let Ok(name) = cmap.get::<String>(&knet_key) {
                link_transport[link_number] = name;
            }
        }
    }
    drop(cmap);

    println!("Local node ID {local}, transport {transport_name}");

    if action == Action::NodeStatus {
        for &id in &nodes {
            let Ok(status) = cfg.node_status(NodeId::from(id)) else {
                continue;
            };
            // Only reachable nodes other than this one.
            if !status.reachable || status.node_id == local {
                continue;
            }
            let mut out = format!("nodeid: {} reachable", status.node_id);
            if status.remote {
                out.push_str(" remote");
            }
            if status.external {
                out.push_str(" external");
            }
            out.push('\n');
            for (j, l) in status.links.iter().enumerate().take(MAX_LINKS) {
                if !l.enabled {
                    continue;
                }
                let arrow = if transport == Transport::Knet {
                    "->"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "   LINK: {j} {} ({}{arrow}{}) enabled",
                    link_transport[j], l.src_addr, l.dst_addr
                ));
                if l.connected {
                    out.push_str(" connected");
                }
                if l.dynconnected {
                    out.push_str(" dynconnected");
                }
                out.push_str(&format!(" mtu: {}\n", l.mtu as i32));
            }
            out.push('\n');
            print!("{out}");
        }
    } else {
        let info: Vec<Option<NodeStatus>> = nodes
            .iter()
            .map(|&id| match cfg.node_status(NodeId::from(id)) {
                Ok(status) => Some(status),
                Err(err) => {
                    eprintln!(
                        "Could not get the node status for nodeid {}, the error is: {}",
                        id as i32,
                        num(&err)
                    );
                    None
                }
            })
            .collect();
        for (i, transport) in link_transport.iter().enumerate() {
            let (enabled, _, addr) = link(&info[other_index], i);
            if !enabled {
                continue;
            }
            let mut out = format!("LINK ID {i} {transport}\n");
            if *transport == "sctp" && corosync_release::at_least(&[3, 1, 10]) {
                out.push_str("**SCTP is deprecated and will be removed in a future release\n");
            }
            out.push_str(&format!("\taddr\t= {addr}\n"));
            if brief {
                out.push_str("\tstatus\t= ");
                for (j, status) in info.iter().enumerate() {
                    let (enabled, connected, _) = link(status, i);
                    let c = if j == local_index {
                        'n'
                    } else {
                        char::from(b'0' + u8::from(enabled) + (u8::from(connected) << 1))
                    };
                    out.push(c);
                }
                out.push('\n');
            } else {
                out.push_str("\tstatus:\n");
                for (j, status) in info.iter().enumerate() {
                    let id = status.as_ref().map_or(0, |s| s.node_id.get());
                    let state = if j == local_index {
                        "localhost"
                    } else if link(status, i).1 {
                        "connected"
                    } else {
                        "disconnected"
                    };
                    out.push_str(&format!("\t\tnodeid: {id:>10}:\t{state}\n"));
                }
            }
            print!("{out}");
        }
    }
    0
}

/// `-R`.
///
/// From corosync 3.1.9 on, the C tool then asks cmap whether the daemon left an error message
/// for the reload, and its exit status is only that answer: 1 with a message, 0 without one,
/// even after a reload that failed. Before 3.1.9 it is the failed call's `cs_error_t`.
fn reload_config_do() -> i32 {
    println!("Reloading corosync.conf...");
    let cfg = open_cfg_named();
    let mut rc = match cfg.reload_config() {
        Ok(()) => {
            println!("Done");
            0
        }
        Err(err) => {
            eprintln!("Could not reload configuration. Error {}", name(&err));
            err.code().map_or(1, |code| code as i32)
        }
    };
    drop(cfg);
    if corosync_release::at_least(&[3, 1, 9]) {
        rc = check_for_reload_errors();
        if rc != 0 {
            // The C tool's typo, fixed after 3.1.10.
            let applying = if corosync_release::at_least(&[3, 1, 10, 1]) {
                "applying"
            } else {
                "appying"
            };
            eprintln!(
                "Errors in {applying} config, corosync.conf might not match the running system"
            );
        }
    }
    rc
}

/// The daemon's message about the last reload (`config.reload_error_message`, corosync 3.1.9
/// and later), printed as the C tool does: 1 if there is one, else 0.
fn check_for_reload_errors() -> i32 {
    let cmap = Cmap::new().unwrap_or_else(|err| {
        eprintln!("Could not initialize corosync cmap API error {}", num(&err));
        exit(1);
    });
    match cmap.get::<String>("config.reload_error_message") {
        Ok(message) => {
            println!("ERROR from reload: {message} - see syslog for more information");
            1
        }
        Err(_) => 0,
    }
}

/// `-L`.
fn reopen_log_files_do() -> i32 {
    let cfg = open_cfg_named();
    match cfg.reopen_log_files() {
        Ok(()) => 0,
        Err(err) => {
            eprintln!(
                "Could not reopen corosync logging files. Error {}",
                name(&err)
            );
            err.code().map_or(1, |code| code as i32)
        }
    }
}

/// `-H` (with `--force`: regardless of vetoes). Exits 0 even when the shutdown is refused,
/// as the C tool does.
fn shutdown_do(force: bool) {
    let flags = if force {
        ShutdownMode::Regardless
    } else {
        ShutdownMode::Request
    };
    let cfg = open_cfg();
    println!("Shutting down corosync");
    // Up to 30 tries while the daemon says "try again", sleeping a second after each.
    let mut tries = 0;
    let result = loop {
        let result = cfg.try_shutdown(flags);
        if result != Err(Error::TryAgain) {
            break result;
        }
        sleep(Duration::from_secs(1));
        tries += 1;
        if tries == 30 {
            break result;
        }
    };
    if let Err(err) = result {
        eprintln!("Could not shutdown (error = {})", num(&err));
    }
}

/// `-a`.
fn show_addrs_do(node_id: u32) -> i32 {
    let cfg = open_cfg();
    match cfg.node_addrs(NodeId::from(node_id)) {
        Ok(addrs) => {
            let text: Vec<String> = addrs.into_iter().map(ntop).collect();
            println!("{}", text.join(" "));
            0
        }
        Err(_) => {
            eprintln!("Could not get node address for nodeid {}", node_id as i32);
            1
        }
    }
}

/// `-k`.
fn kill_node_do(node_id: u32) {
    println!("Killing node {node_id}");
    let cfg = open_cfg();
    if let Err(err) = cfg.kill_node(NodeId::from(node_id), KILL_REASON) {
        eprintln!("Could not kill node (error = {})", name(&err));
        exit(1);
    }
}

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let Ok(opts) = parse_args(&argv) else {
        exit(1);
    };
    let rc = match opts.action {
        Action::LinkStatus | Action::NodeStatus => node_status_do(opts.action, opts.brief),
        Action::Reload => reload_config_do(),
        Action::Reopen => reopen_log_files_do(),
        Action::Kill => {
            kill_node_do(opts.node_id);
            0
        }
        Action::Shutdown => {
            shutdown_do(opts.force);
            0
        }
        Action::ShowAddr => show_addrs_do(opts.node_id),
        Action::Noop => {
            print!("{USAGE}");
            0
        }
    };
    exit(rc);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, ()> {
        let argv: Vec<OsString> = std::iter::once(&"cfgtool")
            .chain(args)
            .map(OsString::from)
            .collect();
        parse_args(&argv)
    }

    #[test]
    fn options_are_parsed_like_getopt_long() {
        let o = parse(&["-bs"]).unwrap();
        assert_eq!((o.action, o.brief), (Action::LinkStatus, true));
        let o = parse(&["-k3"]).unwrap();
        assert_eq!((o.action, o.node_id), (Action::Kill, 3));
        let o = parse(&["--address", "7", "operand", "--stat"]).unwrap();
        assert_eq!((o.action, o.node_id), (Action::LinkStatus, 7));
        let o = parse(&["--address=9"]).unwrap();
        assert_eq!((o.action, o.node_id), (Action::ShowAddr, 9));
        let o = parse(&["-H", "--forc"]).unwrap();
        assert_eq!((o.action, o.force), (Action::Shutdown, true));
        let o = parse(&["--", "-s"]).unwrap();
        assert_eq!(o.action, Action::Noop);
        let o = parse(&["-i", "10.0.0.1", "-n"]).unwrap();
        assert_eq!(o.action, Action::NodeStatus);
        assert!(parse(&["-x"]).is_err());
        assert!(parse(&["-k"]).is_err());
        assert!(parse(&["--re"]).is_err());
        assert!(parse(&["--status=1"]).is_err());
        assert!(parse(&["--kill"]).is_err());
    }

    #[test]
    fn node_ids_are_parsed_like_strtonum() {
        assert_eq!(parse_node_id("5"), Some(5));
        assert_eq!(parse_node_id(" +5"), Some(5));
        assert_eq!(parse_node_id("4294967295"), Some(u32::MAX));
        for bad in [
            "0",
            "-1",
            "4294967296",
            "5x",
            "",
            "+",
            " ",
            "99999999999999999999",
        ] {
            assert_eq!(parse_node_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn errors_are_named_like_cs_strerror() {
        assert_eq!(name(&Error::NotExist), "CS_ERR_NOT_EXIST");
        assert_eq!(name(&Error::TryAgain), "CS_ERR_TRY_AGAIN");
        assert_eq!(name(&Error::Unknown(99)), "unknown error");
        assert_eq!(num(&Error::Library { errno: 0 }), "2");
    }

    #[test]
    fn addresses_are_written_like_inet_ntop() {
        assert_eq!(ntop("10.213.0.1".parse().unwrap()), "10.213.0.1");
        // Expected texts from glibc's inet_ntop (Python's socket.inet_ntop on Debian 12).
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("::2", "::2"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("1::", "1::"),
            ("1:0:0:2::", "1:0:0:2::"),
            ("0:0:1::", "0:0:1::"),
            ("fd00::1:0:0:5", "fd00::1:0:0:5"),
            ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
            ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("0:0:0:0:0:1:1.2.3.4", "::1:102:304"),
            ("2001:db8::", "2001:db8::"),
            ("0:0:1:abc:0:0:ffff:0", "::1:abc:0:0:ffff:0"),
            ("0:ffff:0:ffff:0:0:0:1", "0:ffff:0:ffff::1"),
            ("1:0:0:0:ffff:1:0:ffff", "1::ffff:1:0:ffff"),
            ("1:0:0:0:ffff:0:0:1", "1::ffff:0:0:1"),
            ("0:ffff:ffff:abc:0:0:0:ffff", "0:ffff:ffff:abc::ffff"),
            ("ffff:1:0:1:ffff:1:0:0", "ffff:1:0:1:ffff:1::"),
            ("0:0:abc:0:0:ffff:0:ffff", "::abc:0:0:ffff:0:ffff"),
            ("ffff:1:0:0:0:1:1:0", "ffff:1::1:1:0"),
        ];
        for (input, expected) in cases {
            assert_eq!(ntop(input.parse().unwrap()), expected, "{input}");
        }
    }
}
