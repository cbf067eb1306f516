//! `asyncbench`: the async handles of `corosync::tokio` beside the sync API, against the
//! corosync daemon of the current network namespace.
//!
//! ```text
//! asyncbench [-q|--quick]
//!   -q, --quick  fewer messages and events (a smoke run, figures are noisier)
//! ```
//!
//! - **CPG throughput**, 64 B and 64 KiB messages: a batch of messages sent to a group the
//!   sender has joined, the clock stopped when all have been delivered back to it.
//!   Sync: a `cpg::Cpg` with a deliver closure, `mcast_retrying` then `dispatch(All)` after
//!   every send (what `cpgbench` does). Async: a `corosync::tokio::Cpg` on a current-thread
//!   runtime, one task sending with `send().await` while another takes the stream (`send`
//!   yields to the runtime before each send, so the receiver takes the deliveries as they
//!   come, as the sync loop does).
//! - **cmap track events per second**: a writer thread sets a tracked key as fast as it can
//!   (its own connection); the clock stops when the receiver has taken every change. Sync:
//!   a track closure and `wait_readable` + `dispatch(All)`; async: `Cmap::track` and
//!   `next_event().await`.
//! - **allocations per event** on each side, counted by a counting global allocator over
//!   the whole timed loop (the writer thread's included; libcorosync's own mallocs are C's
//!   and not counted).
//!
//! Each figure is the best of three rounds, sync and async alternating. The output is a
//! markdown table.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../alloc_counter.rs"]
mod alloc_counter;

use alloc_counter::allocations;
use corosync::cmap::TrackOptions;
use corosync::cpg::{Event, GroupName, Guarantee};
use corosync::{DispatchMode, Result};

/// One measured run: how many events, how long, how many allocations.
#[derive(Debug, Clone, Copy)]
struct Run {
    events: usize,
    elapsed: Duration,
    allocations: u64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn allocations_per_event(&self) -> f64 {
        self.allocations as f64 / self.events as f64
    }
}

/// Runs `f` counting its time and allocations.
fn measure(events: usize, f: impl FnOnce() -> Result<()>) -> Result<Run> {
    let allocations_before = allocations();
    let start = Instant::now();
    f()?;
    Ok(Run {
        events,
        elapsed: start.elapsed(),
        allocations: allocations() - allocations_before,
    })
}

/// A group name no earlier run used (a process joins a group once per node).
fn fresh_group(what: &str) -> Result<GroupName> {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let n = RUN.fetch_add(1, Ordering::Relaxed);
    GroupName::new(format!("asyncbench-{what}-{}-{n}", std::process::id()))
}

fn cpg_sync(size: usize, count: usize) -> Result<Run> {
    let delivered = Arc::new(AtomicUsize::new(0));
    let seen = delivered.clone();
    let cpg = corosync::cpg::Cpg::builder()
        .on_deliver(move |_, _| {
            seen.fetch_add(1, Ordering::Relaxed);
        })
        .build()?;
    cpg.join(&fresh_group("sync")?)?;
    let data = vec![7u8; size];
    measure(count, || {
        for _ in 0..count {
            cpg.mcast_retrying(Guarantee::Agreed, &data, None)?;
            cpg.dispatch(DispatchMode::All)?;
        }
        while delivered.load(Ordering::Relaxed) < count {
            cpg.wait_readable(Some(Duration::from_secs(10)))?;
            cpg.dispatch(DispatchMode::All)?;
        }
        Ok(())
    })
}

fn cpg_async(rt: &tokio::runtime::Runtime, size: usize, count: usize) -> Result<Run> {
    let cpg = corosync::tokio::Cpg::open()?;
    cpg.join(&fresh_group("async")?)?;
    let data = vec![7u8; size];
    measure(count, || {
        rt.block_on(async {
            let sender = async {
                for _ in 0..count {
                    cpg.send(Guarantee::Agreed, &data).await?;
                }
                Ok::<(), corosync::Error>(())
            };
            let receiver = async {
                let mut delivered = 0;
                while delivered < count {
                    if let Event::Message(_) = cpg.next_event().await? {
                        delivered += 1;
                    }
                }
                Ok::<(), corosync::Error>(())
            };
            let (sent, received) = tokio::join!(sender, receiver);
            sent.and(received)
        })
    })
}

/// Sets `key` `count` times from a thread of its own (its own connection).
fn write_keys(key: &'static str, count: usize) -> std::thread::JoinHandle<Result<()>> {
    std::thread::spawn(move || {
        let writer = corosync::cmap::Cmap::new()?;
        for i in 0..count {
            writer.set(key, i as u32 + 1)?;
        }
        Ok(())
    })
}

fn cmap_sync(count: usize) -> Result<Run> {
    const KEY: &str = "asyncbench.sync";
    let cmap = corosync::cmap::Cmap::new()?;
    cmap.set(KEY, 0u32)?;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let _track = cmap.track(KEY, TrackOptions::MODIFY, move |_, _| {
        counter.fetch_add(1, Ordering::Relaxed);
    })?;
    measure(count, || {
        let writer = write_keys(KEY, count);
        while seen.load(Ordering::Relaxed) < count {
            cmap.wait_readable(Some(Duration::from_secs(10)))?;
            cmap.dispatch(DispatchMode::All)?;
        }
        writer.join().expect("the writer thread")
    })
}

fn cmap_async(rt: &tokio::runtime::Runtime, count: usize) -> Result<Run> {
    const KEY: &str = "asyncbench.async";
    let cmap = corosync::tokio::Cmap::open()?;
    cmap.set(KEY, 0u32)?;
    cmap.track(KEY, TrackOptions::MODIFY)?;
    measure(count, || {
        let writer = write_keys(KEY, count);
        rt.block_on(async {
            let mut seen = 0;
            while seen < count {
                if let corosync::cmap::Event::Track(_) = cmap.next_event().await? {
                    seen += 1;
                }
            }
            Ok::<(), corosync::Error>(())
        })?;
        writer.join().expect("the writer thread")
    })
}

/// The best (fastest) of the runs.
fn best(runs: &[Run]) -> Run {
    *runs
        .iter()
        .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
        .expect("at least one run")
}

fn row(what: &str, size: Option<usize>, sync: Run, asynch: Run) {
    let mb = |run: Run| match size {
        Some(size) => format!("{:.1}", run.per_second() * size as f64 / 1e6),
        None => "-".to_owned(),
    };
    println!(
        "| {what} | {} | {:.0} | {:.0} | {:.3} | {} | {} | {:.2} | {:.2} |",
        sync.events,
        sync.per_second(),
        asynch.per_second(),
        asynch.per_second() / sync.per_second(),
        mb(sync),
        mb(asynch),
        sync.allocations_per_event(),
        asynch.allocations_per_event(),
    );
}

fn main() -> Result<()> {
    let quick = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("-q" | "--quick") => true,
        Some(other) => {
            eprintln!("asyncbench: unknown argument {other:?}\nusage: asyncbench [-q|--quick]");
            std::process::exit(1);
        }
    };
    let scale = if quick { 10 } else { 1 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "| what | events | sync /s | async /s | async/sync | sync MB/s | async MB/s | \
         sync allocs/event | async allocs/event |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (size, count) in [(64usize, 20_000 / scale), (64 * 1024, 2_000 / scale)] {
        let (mut sync, mut asynch) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            sync.push(cpg_sync(size, count)?);
            asynch.push(cpg_async(&rt, size, count)?);
        }
        row(
            &format!("CPG {size} B"),
            Some(size),
            best(&sync),
            best(&asynch),
        );
    }
    let count = 20_000 / scale;
    let (mut sync, mut asynch) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        sync.push(cmap_sync(count)?);
        asynch.push(cmap_async(&rt, count)?);
    }
    row("cmap track events", None, best(&sync), best(&asynch));
    Ok(())
}
