//! `watch`: follows quorum, membership, expected votes and a part of cmap at once, from one
//! thread and one `poll(2)`, and prints one line per event.
//!
//! ```text
//! watch [--events N] [--seconds S] [--cmap-prefix P]
//!   --events N       exit (status 0) once N event lines have been printed; lines beyond
//!                    the N-th are not printed
//!   --seconds S      with --events: give up (status 1, message on stderr) if the N lines
//!                    have not come within S seconds (default 30; fractions allowed)
//!   --cmap-prefix P  the cmap prefix to track (default "watch.")
//! ```
//!
//! Without `--events` it runs until it is killed or the daemon goes away (then it says why
//! on stderr and exits with status 1, as for any other error, e.g. no daemon to connect to).
//!
//! # Output
//! One line per event on stdout, flushed at once, in these forms (node ids in decimal, ring
//! ids as corosync's tools show them: `<node id in hex>.<sequence in hex>`; lists are node
//! ids separated by single spaces, possibly empty):
//!
//! ```text
//! quorum: quorate=yes ring=1.c members=1 2 3
//! nodelist: ring=1.10 members=1 2 joined= left=3
//! expected-votes: 4
//! cmap: add watch.greeting (str) = hello
//! cmap: modify watch.count (u32) = 7
//! cmap: delete watch.greeting
//! ```
//!
//! - `quorum:` and `nodelist:` come from libquorum (model v1); `quorate=` is `yes` or `no`.
//!   The first of each (the node list comes first) describes the state when `watch` started
//!   (`joined=` and `left=` are then empty), later ones a change.
//! - `expected-votes:` comes from libvotequorum when the node's expected votes change
//!   (there is none for the state at start).
//! - `cmap:` reports a key under the prefix being added, modified or deleted (an event kind
//!   this build does not know shows as `event-<code>`). After `(type)` (corosync-cmapctl's
//!   type names: `u32`, `str`, `bin`, ...) comes ` = ` and the new value: numbers as Rust
//!   prints them, strings as text with `\` and control characters escaped Rust-style (`\\`,
//!   `\n`, `\u{1b}`) and invalid UTF-8 replaced by U+FFFD, binary values as lower-case hex.
//!   A deleted key has no value.
//!
//! # The pattern: several handles, one loop
//! Every handle of the `corosync` crate owns an IPC connection whose fd
//! ([`AsFd`]) becomes readable when events wait for it. So one thread can
//! serve any number of handles: put all their fds in one `poll`, and for each readable one
//! call `dispatch(DispatchMode::All)`. The callbacks (closures stored in the handles when
//! they were built) run inside that `dispatch`, on this thread, one after another; no
//! locking between them is needed beyond what they share.
//!
//! Why [`DispatchMode::All`]: it processes every event already received and returns
//! without waiting. [`DispatchMode::One`] and `dispatch_blocking` wait for an event
//! when none is complete yet, and while one handle waits the others are not served; with
//! [`DispatchMode::OneNonBlocking`] a burst of events (a membership change brings several)
//! would take one `poll` round trip per event. A readable fd with nothing to dispatch
//! is harmless: `All` then simply processes nothing. A daemon that went away shows as a
//! readable (hung up) fd whose `dispatch` fails, which ends the loop with the error.
//!
//! The callbacks receive borrowed views of the library's receive buffer (member lists,
//! the key and values of a cmap change), valid only during the call. They copy nothing: each
//! formats what it prints straight into the locked stdout. The closures must be
//! `Send + 'static` (a handle may move to another thread), so what they share with the loop
//! is behind an `Arc`: the number of lines printed (the loop compares it with `--events`)
//! and the first stdout write error (the loop reports it and stops).

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use corosync::cmap::{Cmap, TrackOptions};
use corosync::quorum::Quorum;
use corosync::votequorum::Votequorum;
use corosync::{DispatchMode, TrackFlags};

#[path = "../watch_common.rs"]
mod watch_common;

use watch_common::{parse_args, write_cmap, write_nodelist, write_quorum, Options};

const USAGE: &str = "usage: watch [--events N] [--seconds S] [--cmap-prefix P]";

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("watch: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("watch: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What the callbacks share with the loop (and with each other): nothing but the output.
#[derive(Debug)]
struct Output {
    /// Event lines printed so far.
    printed: AtomicUsize,
    /// Print no more lines than this.
    limit: usize,
    /// The first error writing to stdout; the loop stops when it is set.
    error: OnceLock<io::Error>,
}

impl Output {
    /// Prints one event line written by `write` (without its newline) and flushes it, unless
    /// the limit is reached or stdout already failed.
    fn line(&self, write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
        if self.printed.load(Ordering::SeqCst) >= self.limit || self.error.get().is_some() {
            return;
        }
        let mut out = io::stdout().lock();
        let written = write(&mut out)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        match written {
            Ok(()) => {
                self.printed.fetch_add(1, Ordering::SeqCst);
            }
            Err(err) => {
                let _ = self.error.set(err);
            }
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let output = Arc::new(Output {
        printed: AtomicUsize::new(0),
        limit: options.events.unwrap_or(usize::MAX),
        error: OnceLock::new(),
    });

    let (on_quorum, on_nodelist) = (output.clone(), output.clone());
    let quorum = Quorum::builder()
        .on_quorum(move |_, n| {
            on_quorum.line(|out| write_quorum(out, n.is_quorate(), n.ring_id(), n.members()))
        })
        .on_nodelist(move |_, n| {
            on_nodelist
                .line(|out| write_nodelist(out, n.ring_id(), n.members(), n.joined(), n.left()))
        })
        .build()
        .map_err(|e| format!("cannot connect to quorum: {e}"))?;

    let on_expected = output.clone();
    let votequorum = Votequorum::builder()
        .on_expected_votes(move |_, n| {
            on_expected.line(|out| write!(out, "expected-votes: {}", n.expected_votes()))
        })
        .build()
        .map_err(|e| format!("cannot connect to votequorum: {e}"))?;

    let cmap = Cmap::new().map_err(|e| format!("cannot connect to cmap: {e}"))?;
    let on_cmap = output.clone();
    let _track = cmap
        .track(
            &options.cmap_prefix,
            TrackOptions::ADD | TrackOptions::MODIFY | TrackOptions::DELETE | TrackOptions::PREFIX,
            move |_, event| {
                on_cmap
                    .line(|out| write_cmap(out, event.kind(), event.key_bytes(), event.new_value()))
            },
        )
        .map_err(|e| format!("cannot track cmap prefix {:?}: {e}", options.cmap_prefix))?;

    // Ask for the current state and every change. The answers wait in the connections
    // until the loop dispatches them.
    let flags = TrackFlags::CURRENT | TrackFlags::CHANGES;
    quorum
        .track_start(flags)
        .map_err(|e| format!("quorum track_start: {e}"))?;
    votequorum
        .track_start(0, flags)
        .map_err(|e| format!("votequorum track_start: {e}"))?;

    // The loop: one poll over the three fds, then dispatch(All) on each readable one.
    let deadline = options.events.map(|_| Instant::now() + options.seconds);
    let fds = [quorum.as_fd(), votequorum.as_fd(), cmap.as_fd()];
    loop {
        if let Some(err) = output.error.get() {
            return Err(format!("cannot write to stdout: {err}"));
        }
        let printed = output.printed.load(Ordering::SeqCst);
        if printed >= output.limit {
            return Ok(());
        }
        let timeout = match deadline {
            None => None,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(format!(
                        "only {printed} of {} events came within {} s",
                        output.limit,
                        options.seconds.as_secs_f64()
                    ));
                }
                Some(left)
            }
        };
        let ready = corosync::poll_readable(&fds, timeout).map_err(|e| format!("poll: {e}"))?;
        // POLLHUP and POLLERR also mean "dispatch": it then reports why the connection ended.
        let readable = |i: usize| ready.is_ready(i);
        if readable(0) {
            quorum
                .dispatch(DispatchMode::All)
                .map_err(|e| format!("quorum dispatch: {e}"))?;
        }
        if readable(1) {
            votequorum
                .dispatch(DispatchMode::All)
                .map_err(|e| format!("votequorum dispatch: {e}"))?;
        }
        if readable(2) {
            cmap.dispatch(DispatchMode::All)
                .map_err(|e| format!("cmap dispatch: {e}"))?;
        }
    }
}
