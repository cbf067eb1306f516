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
//! # The pattern: readiness, `dispatch(All)`, `clear_ready`
//! A corosync handle owns an IPC connection whose fd ([`AsFd`](std::os::fd::AsFd),
//! [`AsRawFd`](std::os::fd::AsRawFd)) becomes readable when events wait. tokio's
//! [`AsyncFd`] turns that into a future: `readable().await` resolves when the reactor
//! (epoll) has seen the fd become readable, and returns a guard. Then:
//!
//! 1. `guard.get_inner().dispatch(DispatchFlags::All)` processes every event already
//!    received and returns without waiting. The callbacks run inside that call, on the
//!    runtime's thread, synchronously, one after the other.
//! 2. `guard.clear_ready()` tells tokio that the fd is drained, so the next `readable()`
//!    waits for new data. `All` is what makes that true: it reads until nothing is left.
//!    [`DispatchFlags::One`] and `dispatch_blocking` would wait inside the call when
//!    nothing is complete, blocking the runtime's thread (and every other task on it);
//!    [`DispatchFlags::OneNonBlocking`] would leave events behind, which tokio's
//!    edge-triggered readiness would not report again after `clear_ready`. tokio clears
//!    only the readiness it had seen when the guard was made, so an event that arrives
//!    during `dispatch` wakes the next `readable()`. A spurious wakeup costs one `dispatch`
//!    that processes nothing. A daemon that goes away shows as a readable (hung up) fd
//!    whose `dispatch` fails, which ends the program with the error.
//!
//! ## Why `AsyncFd` may own a handle that is not `Sync`
//! `AsyncFd<T>` only requires `T: AsRawFd`; it never calls into `T` itself, it only
//! registers the fd with the reactor. It is `Send` when `T` is and `Sync` only when `T` is,
//! so `AsyncFd<Cpg>` is `Send` but not `Sync`, like the handle. A future that awaits
//! `readable()` holds a `&AsyncFd<Cpg>` across the await, which makes the future not
//! `Send`: the compiler refuses it to a multi-thread runtime's `tokio::spawn`. It runs on a
//! current-thread runtime's `block_on` (as here) or with `spawn_local`, so every call on
//! the handle (dispatch, mcast, join) is made from the runtime's one thread, which is what
//! the crate's "`Send`, not `Sync`" rule asks for. Open one handle per thread (or per
//! runtime) for more.
//!
//! Registering is `unsafe` in current tokio ([`AsyncFd::register_with_interest`], since
//! 1.51.6 and 1.53.3; the safe constructors are deprecated): the caller promises that
//! `as_raw_fd` keeps returning the same open fd while the `AsyncFd` owns the value, which
//! `AsRawFd` alone does not promise. A corosync handle keeps it: it asks libqb for the fd
//! once, when it connects, and libqb closes it only in finalize, which takes the handle by
//! value (dropping the `AsyncFd` deregisters the fd first, then drops the handle). A daemon
//! that goes away does not close it either; `dispatch` then fails.
//!
//! ## Getting events into async code
//! The callbacks are plain closures called inside `dispatch`; they cannot `.await`, and the
//! crate hands them views borrowed from libcpg's receive buffer that are valid only during
//! the call (the crate allocates nothing per event). A closure that needs an event after
//! `dispatch` returns copies what it needs and sends it through a channel: here an
//! unbounded [`tokio::sync::mpsc`] channel, whose `send` neither blocks nor awaits, so it
//! is fine inside a callback. The copy (`msg.data().to_vec()`) is this program's choice,
//! made because it prints after `dispatch`; a callback that can act on the borrowed data
//! at once needs no copy. This program drains the channel right after each `dispatch`;
//! other tasks on the same runtime could just as well `recv().await` on it.
//!
//! ## Sending without blocking the runtime
//! [`Cpg::mcast`] does not wait for the daemon. Under flow control it answers
//! [`Error::TryAgain`]; [`Cpg::mcast_retrying`] would then sleep on the runtime's thread,
//! so this program retries on its own: it arms a tokio timer with a backoff (0.25 ms,
//! doubling up to 16 ms) and keeps serving the fd while it waits, in one `select!`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::{DispatchFlags, Error, NodeId};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::Instant;

const USAGE: &str = "usage: cpg_tokio [--group NAME] [--count N] [--peers P] [--timeout S]";

/// The first and the longest wait before sending again after `TryAgain`.
const BACKOFF_MIN: Duration = Duration::from_micros(250);
const BACKOFF_MAX: Duration = Duration::from_millis(16);

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
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        if !matches!(
            name.as_str(),
            "--group" | "--count" | "--peers" | "--timeout"
        ) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value.to_owned(),
            None => args.next().ok_or(format!("{name} needs a value"))?,
        };
        match name.as_str() {
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
    }
    Ok(Some(options))
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
    // One thread: the handle is used only from here (see the module docs). The runtime
    // needs its IO driver for AsyncFd and its time driver for the timers.
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

/// What the callbacks send to the async side: owned copies, since the borrowed views they
/// receive end with the callback.
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

    // The callbacks copy each event into the channel; `send` fails only once the receiver
    // is gone, when nobody wants the event any more.
    let (events, mut inbox) = mpsc::unbounded_channel();
    let on_confchg = events.clone();
    let cpg = Cpg::builder()
        .on_deliver(move |_, msg| {
            let _ = events.send(Event::Message {
                node: msg.node_id(),
                pid: msg.pid(),
                data: msg.data().to_vec(),
            });
        })
        .on_confchg(move |_, change| {
            let _ = on_confchg.send(Event::Members(change.members().len()));
        })
        .build()
        .map_err(|e| format!("cannot connect to cpg: {e}"))?;
    let node = cpg
        .local_node_id()
        .map_err(|e| format!("cannot get the local node id: {e}"))?;

    // From here on the AsyncFd owns the handle (dropping it deregisters the fd, then
    // finalizes the connection); `get_ref` lends it out for calls.
    // SAFETY: `Cpg::as_raw_fd` returns the fd libqb gave the handle when it connected, and
    // libqb keeps that fd open until the handle is finalized, which needs it by value; this
    // program never replaces the handle inside the AsyncFd (no `get_mut`), and dropping the
    // AsyncFd deregisters the fd before it drops (finalizes) the handle. So the fd stays the
    // same open socket for as long as it is registered.
    let registered = unsafe { AsyncFd::register_with_interest(cpg, Interest::READABLE) };
    let cpg = registered.map_err(|e| format!("cannot register the cpg fd with tokio: {e}"))?;
    cpg.get_ref()
        .join(&group)
        .map_err(|e| format!("cannot join group {}: {e}", options.group))?;

    let mut progress = Progress {
        me: (node, std::process::id()),
        count: options.count,
        peers: options.peers,
        members: 0,
        received: HashMap::new(),
    };
    let exchange = exchange(&cpg, &mut inbox, &mut progress, options.count);
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

/// Sends the messages and serves the fd until `progress` is done.
async fn exchange(
    cpg: &AsyncFd<Cpg>,
    inbox: &mut UnboundedReceiver<Event>,
    progress: &mut Progress,
    count: usize,
) -> Result<(), String> {
    let mut out = io::stdout().lock();
    let mut sent = 0;
    let mut backoff = BACKOFF_MIN;
    // When set, the daemon answered TryAgain: send again at that time.
    let mut retry_at: Option<Instant> = None;
    loop {
        // Whatever the callbacks of the last dispatch copied out.
        while let Ok(event) = inbox.try_recv() {
            progress
                .handle(event, &mut out)
                .map_err(|e| format!("cannot write to stdout: {e}"))?;
        }
        if progress.done() {
            return Ok(());
        }

        if retry_at.is_none() && progress.may_send() {
            while sent < count {
                let text = format!("message {} of {count}", sent + 1);
                match cpg.get_ref().mcast(Guarantee::Agreed, text.as_bytes()) {
                    Ok(()) => {
                        sent += 1;
                        backoff = BACKOFF_MIN;
                    }
                    Err(Error::TryAgain) => {
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        break;
                    }
                    Err(e) => return Err(format!("cannot send: {e}")),
                }
            }
        }

        tokio::select! {
            ready = cpg.readable() => {
                let mut guard = ready.map_err(|e| format!("waiting for the cpg fd: {e}"))?;
                // Runs the callbacks, which fill the channel.
                guard
                    .get_inner()
                    .dispatch(DispatchFlags::All)
                    .map_err(|e| format!("dispatch: {e}"))?;
                // Everything that had arrived was processed.
                guard.clear_ready();
            }
            // The expression is evaluated even when the branch is disabled.
            () = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)),
                if retry_at.is_some() =>
            {
                retry_at = None;
            }
        }
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
