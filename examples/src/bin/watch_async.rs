//! `watch_async`: the async sibling of `watch`. It follows quorum, membership, expected
//! votes and a part of cmap at once, through the async handles of `corosync::tokio` on a
//! tokio runtime, and prints one line per event.
//!
//! ```text
//! watch_async [--events N] [--seconds S] [--cmap-prefix P]
//! ```
//!
//! The options, the output lines and the exit statuses are those of `watch` (see its
//! docs): `quorum:`, `nodelist:`, `expected-votes:` and `cmap:` lines, flushed one by one.
//!
//! # The pattern: several streams, one `select!`
//! Each of the three handles (`corosync::tokio::{Quorum, Votequorum, Cmap}`) hands out
//! owned events through `next_event().await`, which waits for its connection's fd without
//! using CPU and never needs `unsafe`: the crate registers the fd with tokio itself. One
//! `tokio::select!` waits for whichever comes first; `next_event` is cancellation safe, so
//! the events of the branches that lose are not lost, they come at the next round. A daemon
//! that goes away ends `next_event` with an error that says so, which ends the program.
//!
//! Compared with `watch`, each event is an owned value (the member lists and the cmap key
//! and value are copied out of the C library's buffer), and the loop is an `async fn` that
//! could run beside any other task of the runtime.

use std::io::{self, Write};
use std::process::ExitCode;

use corosync::cmap::TrackOptions;
use corosync::tokio::{Cmap, Quorum, Votequorum};
use corosync::{cmap, quorum, votequorum, TrackFlags};

#[path = "../watch_common.rs"]
mod watch_common;

use watch_common::{parse_args, write_cmap, write_nodelist, write_quorum, Options};

const USAGE: &str = "usage: watch_async [--events N] [--seconds S] [--cmap-prefix P]";

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("watch_async: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("watch_async: cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut printed = 0;
    let result = match options.events {
        None => runtime.block_on(run(&options, &mut printed)),
        Some(events) => {
            let run = run(&options, &mut printed);
            match runtime.block_on(async { tokio::time::timeout(options.seconds, run).await }) {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "only {printed} of {events} events came within {} s",
                    options.seconds.as_secs_f64()
                )),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("watch_async: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one event line written by `write`, with its newline, and flushes it.
fn line(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) -> Result<(), String> {
    let mut out = io::stdout().lock();
    write(&mut out)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// Prints the events' lines until `--events` lines have been printed, counting them in
/// `printed`.
async fn run(options: &Options, printed: &mut usize) -> Result<(), String> {
    let quorum = Quorum::open().map_err(|e| format!("cannot connect to quorum: {e}"))?;
    let votequorum =
        Votequorum::open().map_err(|e| format!("cannot connect to votequorum: {e}"))?;
    let cmap = Cmap::open().map_err(|e| format!("cannot connect to cmap: {e}"))?;
    cmap.track(
        &options.cmap_prefix,
        TrackOptions::ADD | TrackOptions::MODIFY | TrackOptions::DELETE | TrackOptions::PREFIX,
    )
    .map_err(|e| format!("cannot track cmap prefix {:?}: {e}", options.cmap_prefix))?;
    // Ask for the current state and every change.
    let flags = TrackFlags::CURRENT | TrackFlags::CHANGES;
    quorum
        .track_start(flags)
        .map_err(|e| format!("quorum track_start: {e}"))?;
    votequorum
        .track_start(0, flags)
        .map_err(|e| format!("votequorum track_start: {e}"))?;

    let limit = options.events.unwrap_or(usize::MAX);
    while *printed < limit {
        // Each branch prints at most one line; events that print nothing count for nothing.
        let wrote = tokio::select! {
            event = quorum.next_event() => match event.map_err(|e| format!("quorum dispatch: {e}"))? {
                quorum::Event::Quorum(n) => {
                    line(|out| write_quorum(out, n.is_quorate(), n.ring_id(), n.members()))?;
                    true
                }
                quorum::Event::NodeList(n) => {
                    line(|out| write_nodelist(out, n.ring_id(), n.members(), n.joined(), n.left()))?;
                    true
                }
                _ => false,
            },
            event = votequorum.next_event() => {
                match event.map_err(|e| format!("votequorum dispatch: {e}"))? {
                    votequorum::Event::ExpectedVotes(n) => {
                        line(|out| write!(out, "expected-votes: {}", n.expected_votes()))?;
                        true
                    }
                    _ => false,
                }
            }
            event = cmap.next_event() => match event.map_err(|e| format!("cmap dispatch: {e}"))? {
                cmap::Event::Track(e) => {
                    line(|out| write_cmap(out, e.kind(), e.key_bytes(), e.new_value()))?;
                    true
                }
                _ => false,
            },
        };
        if wrote {
            *printed += 1;
        }
    }
    Ok(())
}
