//! `cpg_tokio`: a CPG handle driven by a tokio runtime through its fd. It joins a group,
//! sends numbered messages and prints every delivery, until its own messages (and, with
//! `--peers`, those of other senders) have come back.
//!
//! ```text
//! cpg_tokio [--group NAME] [--count N] [--peers P] [--timeout S]
//!   --group NAME  the group to join (default "cpg_tokio")
//!   --count N     how many messages to send (default 10, at least 1)
//!   --peers P     send only once the group has P members besides this process, and exit
//!                 only once P other senders' N messages each have come too (default 0)
//!   --timeout S   give up (status 1) if that has not happened within S seconds
//!                 (default 30; fractions allowed)
//! ```
//!
//! # Output
//! The messages are `message 1 of N` to `message N of N`. Every delivery (of any sender in
//! the group) is printed as one line, then a summary once this process's own N messages have
//! come back:
//!
//! ```text
//! node 1 pid 4711: message 1 of 2
//! node 2 pid 4712: message 1 of 2
//! node 1 pid 4711: message 2 of 2
//! node 2 pid 4712: message 2 of 2
//! received 2 of 2
//! ```
//!
//! Message text is printed as UTF-8 (invalid bytes replaced by U+FFFD), control characters
//! and `\` escaped Rust-style. Errors (no daemon, the daemon going away, the timeout) are
//! reported on stderr with status 1.
//!
//! Because CPG delivers in agreed order, two processes started with `--peers 1` on two
//! nodes print the same delivery lines in the same order: each sends only after seeing the
//! other in the group, so every message is ordered after both joins.
//!
//! # The pattern: `corosync::tokio`
//! The program uses the crate's async CPG handle (cargo feature `tokio`), which does what a
//! tokio program would otherwise write by hand, and needs no `unsafe`:
//!
//! - it registers the connection's fd with tokio's reactor itself (a duplicate it owns, so
//!   the registration never outlives the fd);
//! - `next_event().await` waits for the fd without using CPU, then hands out one owned
//!   [`Event`] (the message bytes are copied out of libcpg's buffer);
//! - `send(..).await` waits out the daemon's flow control (`TryAgain`) by awaiting, not by
//!   sleeping on the runtime's thread;
//! - the handle is `Clone + Send + Sync`: the sending task and the receiving loop share one
//!   connection, whose requests the handle serialises (libqb must never see two at once).
//!
//! A daemon that goes away ends `next_event` with a disconnected error, which ends the
//! program with the error.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use corosync::cpg::{Event as CpgEvent, GroupName, Guarantee};
use corosync::tokio::Cpg;
use corosync::NodeId;
use tokio::sync::watch;

const USAGE: &str = "usage: cpg_tokio [--group NAME] [--count N] [--peers P] [--timeout S]";

#[derive(Debug)]
struct Options {
    group: String,
    count: usize,
    peers: usize,
    timeout: Duration,
}

/// Parses the command line: `--name VALUE` or `--name=VALUE`. `Ok(None)` means help was
/// asked for; `Err` says what is wrong.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        group: "cpg_tokio".to_owned(),
        count: 10,
        peers: 0,
        timeout: Duration::from_secs(30),
    };
    let more = corosync_examples::long_options::parse(
        args,
        &["--group", "--count", "--peers", "--timeout"],
        |name, value| {
            match name {
                "--group" => options.group = value,
                "--count" => {
                    options.count = value
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--count: not a count of at least 1: {value:?}"))?;
                }
                "--peers" => {
                    options.peers = value
                        .parse()
                        .map_err(|_| format!("--peers: not a count: {value:?}"))?;
                }
                _ => {
                    options.timeout = value
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or(format!("--timeout: not a number of seconds: {value:?}"))?;
                }
            }
            Ok(())
        },
    )?;
    Ok(more.then_some(options))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("cpg_tokio: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    // One thread is enough; the handle would work on a multi-thread runtime too. The runtime
    // needs its IO driver (the handle's fd) and its time driver (the overall timeout).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cpg_tokio: cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cpg_tokio: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What this program keeps of an event.
#[derive(Debug)]
enum Event {
    /// A delivered message.
    Message {
        node: NodeId,
        pid: u32,
        data: Vec<u8>,
    },
    /// A configuration change of the group: how many members it has now.
    Members(usize),
}

/// What has arrived so far.
#[derive(Debug)]
struct Progress {
    /// This process as a group member: node id and pid.
    me: (NodeId, u32),
    count: usize,
    peers: usize,
    /// The number of members in the last configuration change (0 before the first).
    members: usize,
    /// Messages delivered, per sender.
    received: HashMap<(NodeId, u32), usize>,
}

impl Progress {
    fn own(&self) -> usize {
        self.received.get(&self.me).copied().unwrap_or(0)
    }

    /// Other senders whose `count` messages have all arrived.
    fn peers_done(&self) -> usize {
        self.received
            .iter()
            .filter(|&(&sender, &n)| sender != self.me && n >= self.count)
            .count()
    }

    /// Whether the group (seen through this process's own join, at least) has enough
    /// members to start sending.
    fn may_send(&self) -> bool {
        self.members > self.peers
    }

    fn done(&self) -> bool {
        self.own() >= self.count && self.peers_done() >= self.peers
    }

    /// Takes in one event; prints a line for a message.
    fn handle(&mut self, event: Event, out: &mut impl Write) -> io::Result<()> {
        match event {
            Event::Message { node, pid, data } => {
                *self.received.entry((node, pid)).or_default() += 1;
                write!(out, "node {node} pid {pid}: ")?;
                write_text(out, &data)?;
                writeln!(out)?;
                out.flush()
            }
            Event::Members(n) => {
                self.members = n;
                Ok(())
            }
        }
    }
}

/// Writes message bytes as text, in the form the module docs describe.
fn write_text(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    for c in String::from_utf8_lossy(data).chars() {
        if c == '\\' || c.is_control() {
            write!(out, "{}", c.escape_default())?;
        } else {
            write!(out, "{c}")?;
        }
    }
    Ok(())
}

async fn run(options: &Options) -> Result<(), String> {
    let group = GroupName::new(&options.group).map_err(|e| format!("--group: {e}"))?;
    let cpg = Cpg::open().map_err(|e| format!("cannot connect to cpg: {e}"))?;
    let node = cpg
        .local_node_id()
        .map_err(|e| format!("cannot get the local node id: {e}"))?;
    cpg.join(&group)
        .map_err(|e| format!("cannot join group {}: {e}", options.group))?;

    let mut progress = Progress {
        me: (node, std::process::id()),
        count: options.count,
        peers: options.peers,
        members: 0,
        received: HashMap::new(),
    };
    let exchange = exchange(&cpg, &mut progress, options.count);
    match tokio::time::timeout(options.timeout, exchange).await {
        Ok(result) => result?,
        Err(_elapsed) => {
            let mut message = format!(
                "timed out after {} s: {} of {} own messages came back",
                options.timeout.as_secs_f64(),
                progress.own(),
                options.count
            );
            if options.peers > 0 {
                message += &format!(
                    ", {} of {} peers sent all theirs, group members: {}",
                    progress.peers_done(),
                    options.peers,
                    progress.members
                );
            }
            return Err(message);
        }
    }
    let mut out = io::stdout().lock();
    writeln!(out, "received {} of {}", progress.own(), options.count)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// Sends the messages from a task of their own (once the group is big enough) and takes
/// the events here until `progress` is done.
async fn exchange(cpg: &Cpg, progress: &mut Progress, count: usize) -> Result<(), String> {
    // Tells the sending task when it may start.
    let (may_send, mut may_send_rx) = watch::channel(false);
    let sender = {
        let cpg = cpg.clone();
        tokio::spawn(async move {
            while !*may_send_rx.borrow_and_update() {
                if may_send_rx.changed().await.is_err() {
                    return Ok(());
                }
            }
            for i in 1..=count {
                let text = format!("message {i} of {count}");
                cpg.send(Guarantee::Agreed, text.as_bytes())
                    .await
                    .map_err(|e| format!("cannot send: {e}"))?;
            }
            Ok::<(), String>(())
        })
    };
    // The sending task ends with the loop, whatever ends it.
    let _abort = AbortOnDrop(sender.abort_handle());
    let mut sender = sender;
    let mut sending = true;
    let mut out = io::stdout().lock();
    while !progress.done() {
        tokio::select! {
            // `next_event` is cancellation safe: no event is lost when the other branch wins.
            event = cpg.next_event() => {
                let event = match event.map_err(|e| format!("dispatch: {e}"))? {
                    CpgEvent::Message(msg) => Event::Message {
                        node: msg.node_id(),
                        pid: msg.pid(),
                        data: msg.data().to_vec(),
                    },
                    CpgEvent::ConfigChange(change) => Event::Members(change.members().len()),
                    _ => continue,
                };
                progress
                    .handle(event, &mut out)
                    .map_err(|e| format!("cannot write to stdout: {e}"))?;
                if progress.may_send() {
                    let _ = may_send.send(true);
                }
            }
            sent = &mut sender, if sending => {
                sending = false;
                sent.map_err(|e| format!("the sending task failed: {e}"))??;
            }
        }
    }
    Ok(())
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Options>, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        let o = args(&[]).unwrap().unwrap();
        assert_eq!(o.group, "cpg_tokio");
        assert_eq!(o.count, 10);
        assert_eq!(o.peers, 0);
        assert_eq!(o.timeout, Duration::from_secs(30));
        let o = args(&[
            "--group",
            "t",
            "--count=5",
            "--peers",
            "2",
            "--timeout",
            "1.5",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.group, "t");
        assert_eq!(o.count, 5);
        assert_eq!(o.peers, 2);
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert!(args(&["-h"]).unwrap().is_none());
        assert!(args(&["--count", "0"]).is_err());
        assert!(args(&["--count", "x"]).is_err());
        assert!(args(&["--peers", "-1"]).is_err());
        assert!(args(&["--timeout", "-1"]).is_err());
        assert!(args(&["--group"]).is_err());
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["extra"]).is_err());
    }

    #[test]
    fn counts_progress() {
        let me = (NodeId::from(1), 10);
        let peer = (NodeId::from(2), 20);
        let mut p = Progress {
            me,
            count: 2,
            peers: 1,
            members: 0,
            received: HashMap::new(),
        };
        let mut out = Vec::new();
        assert!(!p.may_send());
        p.handle(Event::Members(1), &mut out).unwrap();
        assert!(!p.may_send());
        p.handle(Event::Members(2), &mut out).unwrap();
        assert!(p.may_send());
        let message = |(node, pid): (NodeId, u32), data: &[u8]| Event::Message {
            node,
            pid,
            data: data.to_vec(),
        };
        for sender in [me, me, peer] {
            p.handle(message(sender, b"hi"), &mut out).unwrap();
        }
        assert_eq!((p.own(), p.peers_done(), p.done()), (2, 0, false));
        p.handle(message(peer, b"a\\b\n\xff"), &mut out).unwrap();
        assert_eq!((p.own(), p.peers_done(), p.done()), (2, 1, true));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "node 1 pid 10: hi\nnode 1 pid 10: hi\nnode 2 pid 20: hi\n\
             node 2 pid 20: a\\\\b\\n\u{fffd}\n"
        );
    }
}
