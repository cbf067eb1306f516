//! `cpgtool`: lists CPG groups and their members, like corosync's `corosync-cpgtool`, with the
//! same options and the same output.
//!
//! ```text
//! cpgtool [-d delimiter] [-e] [-n] [-h]
//!   -d  delimiter between fields (machine-readable output)
//!   -e  do not escape unprintable characters in group names
//!   -n  list only the group names
//! ```
//!
//! Group names are printed byte by byte: printable ASCII as it is, a backslash as `\\`,
//! anything else as `\x%02X` of the C `char` value (so bytes from 0x80 up appear as
//! `\xFFFFFF80`.., as corosync-cpgtool prints them with a signed `char`).

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use corosync_examples::escape::c_escape;
use corosync_examples::getopt::Getopt;

use corosync::cfg::Cfg;
use corosync::cpg::{Cpg, GroupName};
use corosync::{Error, NodeId};

struct Options {
    delimiter: Option<u8>,
    escape: bool,
    names_only: bool,
}

fn usage(prog: &str) {
    print!(
        "{prog} [-d delimiter] [-e] [-n] [-h]\n\n\
         A tool for displaying cpg groups and members.\n\
         options:\n\
         \t-d\tDelimiter between fields.\n\
         \t-e\tDon't escape unprintable characters in group name.\n\
         \t-n\tDisplay only all existing group names.\n\
         \t-h\tDisplay this help.\n"
    );
}

/// getopt("hd:ne"): returns the options, or the exit code to end with. `argv[0]` names the
/// program in getopt's messages, `prog` (its base name) in the usage.
fn parse_args(argv: &[OsString], prog: &str) -> Result<Options, ExitCode> {
    let mut options = Options {
        delimiter: None,
        escape: true,
        names_only: false,
    };
    // The C tool takes no operands: the parser collects and ignores them, as getopt does.
    let getopt = Getopt::new(argv, "hd:ne");
    for option in getopt {
        let option = option.map_err(|err| {
            err.print();
            ExitCode::FAILURE
        })?;
        match option.option {
            'h' => {
                usage(prog);
                return Err(ExitCode::SUCCESS);
            }
            'n' => options.names_only = true,
            'e' => options.escape = false,
            'd' => {
                if let Some(&first) = option.arg.unwrap_or_default().as_bytes().first() {
                    options.delimiter = Some(first);
                }
            }
            _ => unreachable!("getopt returns only the options of its option string"),
        }
    }
    Ok(options)
}

/// The group name as corosync-cpgtool prints it.
fn write_group(out: &mut Vec<u8>, escape: bool, group: &GroupName) {
    if escape {
        c_escape(out, group.as_bytes());
    } else {
        out.extend_from_slice(group.as_bytes());
    }
}

fn display_groups(cpg: &Cpg, out: &mut Vec<u8>, options: &Options) -> bool {
    let iteration = match cpg.iter_groups() {
        Ok(iteration) => iteration,
        Err(err) => {
            eprintln!("Cannot initialize cpg iterator error {}", code(&err));
            return false;
        }
    };
    // Like the C tool, stop quietly at the first error.
    for entry in iteration.map_while(Result::ok) {
        write_group(out, options.escape, entry.group());
        out.push(options.delimiter.unwrap_or(b'\n'));
    }
    if options.delimiter.is_some() {
        out.push(b'\n');
    }
    true
}

fn display_groups_with_members(cpg: &Cpg, cfg: &Cfg, out: &mut Vec<u8>, options: &Options) -> bool {
    let iteration = match cpg.iter_all() {
        Ok(iteration) => iteration,
        Err(err) => {
            eprintln!("Cannot initialize cpg iterator error {}", code(&err));
            return false;
        }
    };
    match options.delimiter {
        Some(d) => {
            let d = char::from(d);
            out.extend_from_slice(format!("GRP_NAME{d}PID{d}NODEID\n").as_bytes());
        }
        None => out.extend_from_slice(
            format!("Group Name\t{:>10}\t{:>10}\n", "PID", "Node ID").as_bytes(),
        ),
    }
    // The C tool starts from a zeroed name, so an empty first group gets no header line.
    let mut previous = GroupName::new("").expect("the empty name is valid");
    for entry in iteration {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                eprintln!("cpg iteration error {}", code(&err));
                return false;
            }
        };
        match options.delimiter {
            None => {
                if previous != *entry.group() {
                    write_group(out, options.escape, entry.group());
                    out.push(b'\n');
                    previous = *entry.group();
                }
                out.extend_from_slice(
                    format!("\t\t{:>10}\t{:>10} (", entry.pid(), entry.node_id()).as_bytes(),
                );
                write_addrs(out, cfg, entry.node_id());
                out.extend_from_slice(b")\n");
            }
            Some(d) => {
                write_group(out, options.escape, entry.group());
                let d = char::from(d);
                out.extend_from_slice(
                    format!("{d}{}{d}{}\n", entry.pid(), entry.node_id()).as_bytes(),
                );
            }
        }
    }
    true
}

/// The node's addresses separated by spaces; nothing if cfg cannot tell.
fn write_addrs(out: &mut Vec<u8>, cfg: &Cfg, node: NodeId) {
    if let Ok(addrs) = cfg.node_addrs(node) {
        let text: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        out.extend_from_slice(text.join(" ").as_bytes());
    }
}

/// The C value of an error, as the C tool prints it.
fn code(err: &Error) -> u32 {
    err.code().unwrap_or(0)
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv.first().map_or(&[][..], |a| a.as_bytes());
    let prog =
        String::from_utf8_lossy(argv0.rsplit(|&b| b == b'/').next().unwrap_or(&[])).into_owned();
    let options = match parse_args(&argv, &prog) {
        Ok(options) => options,
        Err(code) => return code,
    };

    let cpg = match Cpg::new() {
        Ok(cpg) => cpg,
        Err(err) => {
            eprintln!("Could not initialize corosync cpg API error {}", code(&err));
            return ExitCode::FAILURE;
        }
    };
    let cfg = match Cfg::new() {
        Ok(cfg) => cfg,
        Err(err) => {
            eprintln!(
                "Could not initialize corosync configuration API error {}",
                code(&err)
            );
            return ExitCode::FAILURE;
        }
    };

    let mut out = Vec::new();
    let ok = if options.names_only {
        display_groups(&cpg, &mut out, &options)
    } else {
        display_groups_with_members(&cpg, &cfg, &mut out, &options)
    };
    let written = io::stdout()
        .write_all(&out)
        .and_then(|()| io::stdout().flush());
    if ok && written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
