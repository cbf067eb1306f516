//! `cpgchat`: a tiny chat over a CPG group. Every line read from stdin is sent to the group;
//! every message delivered is printed with the sender's node id and pid, and joins and leaves
//! are shown as they happen.
//!
//! ```text
//! cpgchat [-g|--group GROUP] [-m|--members N] [-w|--exit-after N] [-h|--help]
//!   -g GROUP  the group to join (default "cpgchat")
//!   -m N      wait until the group has N members before reading stdin
//!   -w N      exit once N messages have been delivered (and this process's own lines have
//!             come back), even if stdin is still open
//! ```
//!
//! At the end of stdin it waits until its own lines have come back (and, with `-w`, until N
//! messages were delivered), then leaves and exits, so it also works without a terminal. Two
//! nodes talking (each in its node's network namespace):
//!
//! ```text
//! echo "hello from one" | ip netns exec node1 cpgchat -m 2 -w 2 &
//! echo "hello from two" | ip netns exec node2 cpgchat -m 2 -w 2
//! * node 2 pid 4711 joined
//! [node 1 pid 4710] hello from one
//! [node 2 pid 4711] hello from two
//! ```

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::DispatchMode;
use corosync_examples::main_skeleton::{number, run_main};

struct Options {
    group: Vec<u8>,
    members: usize,
    wait: usize,
}

const USAGE: &str = "usage: cpgchat [-g|--group GROUP] [-m|--members N] [-w|--exit-after N]";

/// The options, or `None` for `--help`.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = Options {
        group: b"cpgchat".to_vec(),
        members: 0,
        wait: 0,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('g') | Long("group") => options.group = parser.value()?.into_vec(),
            Short('m') | Long("members") => options.members = number(&mut parser, "--members")?,
            Short('w') | Long("exit-after") => options.wait = number(&mut parser, "--exit-after")?,
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(options))
}

/// What the callbacks tell the main loop.
#[derive(Default)]
struct Counters {
    delivered: AtomicUsize,
    own_delivered: AtomicUsize,
    members: AtomicUsize,
}

fn main() -> ExitCode {
    run_main("cpgchat", || -> Result<(), Box<dyn std::error::Error>> {
        match parse_args(std::env::args_os().skip(1)) {
            Ok(Some(options)) => run(&options),
            Ok(None) => {
                println!("{USAGE}");
                Ok(())
            }
            Err(err) => Err(format!("{err}\n{USAGE}").into()),
        }
    })
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let group = GroupName::new(&options.group)?;
    let counters = Arc::new(Counters::default());
    let pid = std::process::id();
    let (on_msg, on_change) = (counters.clone(), counters.clone());
    let cpg = Cpg::builder()
        .on_deliver(move |cpg, msg| {
            let text = String::from_utf8_lossy(msg.data());
            // A failed write (closed stdout) is not worth stopping the chat for.
            let _ = writeln!(
                io::stdout(),
                "[node {} pid {}] {}",
                msg.node_id(),
                msg.pid(),
                text.trim_end_matches('\n')
            );
            on_msg.delivered.fetch_add(1, Ordering::SeqCst);
            if msg.pid() == pid && cpg.local_node_id().ok() == Some(msg.node_id()) {
                on_msg.own_delivered.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_confchg(move |_, change| {
            let mut out = io::stdout().lock();
            for a in change.joined() {
                let _ = writeln!(out, "* node {} pid {} joined", a.node_id(), a.pid());
            }
            for a in change.left() {
                let _ = writeln!(
                    out,
                    "* node {} pid {} left ({})",
                    a.node_id(),
                    a.pid(),
                    a.reason()
                );
            }
            on_change
                .members
                .store(change.members().len(), Ordering::SeqCst);
        })
        .build()?;
    cpg.join(&group)?;

    // Read stdin's fd directly (no buffering), so poll sees every byte not yet read.
    let mut stdin = std::fs::File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let mut sent = 0usize;
    let mut stdin_open = true;
    let mut pending = Vec::new();
    let mut finishing_since: Option<Instant> = None;
    loop {
        cpg.dispatch(DispatchMode::All)?;
        let ready_to_send = counters.members.load(Ordering::SeqCst) >= options.members;
        let done = counters.own_delivered.load(Ordering::SeqCst) >= sent
            && counters.delivered.load(Ordering::SeqCst) >= options.wait
            && (!stdin_open || options.wait > 0);
        if done {
            break;
        }
        if !stdin_open {
            let since = *finishing_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(60) {
                return Err("gave up waiting for messages to be delivered".into());
            }
        }
        let mut fds = vec![cpg.as_fd()];
        if stdin_open && ready_to_send {
            fds.push(stdin.as_fd());
        }
        let ready = corosync::poll_readable(&fds, Some(Duration::from_millis(500)))?;
        if ready.is_ready(1) {
            let mut chunk = [0u8; 4096];
            let n = match stdin.read(&mut chunk) {
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err.into()),
            };
            if n == 0 {
                stdin_open = false;
                if !pending.is_empty() {
                    // A last line without a newline.
                    cpg.mcast_retrying(Guarantee::Agreed, &pending, None)?;
                    sent += 1;
                }
                continue;
            }
            pending.extend_from_slice(&chunk[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                cpg.mcast_retrying(Guarantee::Agreed, &line[..end], None)?;
                sent += 1;
            }
        }
    }
    cpg.leave(&group)?;
    io::stdout().flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, lexopt::Error> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn options_short_long_attached_and_separate() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!((&o.group[..], o.members, o.wait), (&b"cpgchat"[..], 0, 0));
        let o = parse(&["-gg1", "--members", "2", "--exit-after=3"])
            .unwrap()
            .unwrap();
        assert_eq!((&o.group[..], o.members, o.wait), (&b"g1"[..], 2, 3));
        let o = parse(&["-g", "g2", "-m3", "-w", "4"]).unwrap().unwrap();
        assert_eq!((&o.group[..], o.members, o.wait), (&b"g2"[..], 3, 4));
        assert!(parse(&["--help"]).unwrap().is_none());
        for bad in [
            &["-m", "x"][..],
            &["-m"],
            &["--bogus"],
            &["extra"],
            &["-w", "-1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
