//! `cpgbench`: CPG throughput and latency through the safe API and through raw libcpg calls
//! in the same run, against the corosync daemon of the current network namespace.
//!
//! ```text
//! cpgbench [-q|--quick] [--rounds R] [--max-messages M]
//!   -q, --quick         fewer messages (a smoke run, figures are noisier)
//!   --rounds R          rounds per message size (default 7, 1 with --quick)
//!   --max-messages M    at most M messages per round and side (default 100000, 2000
//!                       with --quick): a shorter run on a loaded machine
//!   --paced-cycles C    cycles of the paced send + deliver table per size (default 60,
//!                       2 with --quick)
//!   --cold-cycles C     cycles of the cold dispatch table (default 20, 1 with --quick)
//!   --paced-only        only the paced tables: send + deliver, and cold dispatch
//!                       (a cycle count of 0 leaves its table out)
//! ```
//!
//! For each message size from 64 B to 64 KiB it sends a batch of messages to a group the
//! sender has joined and stops the clock when all of them have been delivered back to it
//! (so the figures are end-to-end: IPC to the daemon, totem, IPC back, dispatch). Both sides
//! use the same loop: send, and dispatch pending deliveries after every send; when the daemon
//! answers `CS_ERR_TRY_AGAIN` they wait the same way (`Cpg::mcast_retrying` for the safe
//! API, the same backoff written against raw calls for the other side). It reports:
//!
//! - messages/s and MB/s for both, and the ratio safe/raw; and the CPU time the benchmark's
//!   thread spent per message (`CLOCK_THREAD_CPUTIME_ID`: user + system, sending and
//!   dispatching) for both, their ratio and their difference, which is what the binding's own
//!   overhead shows up in;
//! - the round-trip latency of a 64-byte message (send, then dispatch until it comes back);
//! - the CPU time of dispatching alone, per event: batches of 64-byte messages are sent and
//!   left to arrive, then one `dispatch(All)` (safe) or `cpg_dispatch(CS_DISPATCH_ALL)` (raw)
//!   delivers every one of them, with no waiting and no sending inside the timed call, so
//!   the difference is the safe layer's cost per event; a raw loop of
//!   `CS_DISPATCH_ONE_NONBLOCKING` calls (one C call per event) shows the C library's own
//!   cost per call, which the safe `dispatch(All)` does not pay (it is one C call too);
//! - the CPU time of send + deliver per message at a pace the daemon keeps up with (64 B to
//!   64 KiB): per batch, a few sends, a pause, then one dispatch of their deliveries, safe
//!   against raw and raw against a second raw connection (the noise floor), in turns, on new
//!   connections every cycle of twelve batches per side; the difference in all, of the sends
//!   and of the dispatch, each with its 95 % interval. The throughput table's CPU columns
//!   include how often each loop happened to wait and dispatch, which varies between runs by
//!   far more than the layer costs; this table times only the calls, which both sides make
//!   alike;
//! - the CPU time of one dispatch call that starts on cold caches, as a service's dispatch
//!   does when events come now and then: per sample, one 64-byte message (or eight of
//!   64 KiB) is sent, and after a pause and 8 MiB of writes to other memory one dispatch
//!   delivers it; safe against raw and raw against raw, per call. The layer's extra code and
//!   data miss the caches there once per call, which the paced table spreads over a batch;
//! - heap allocations made by Rust code per delivered message through the safe API (counted
//!   with a counting global allocator over the whole timed send + deliver loop; libcpg's own
//!   `malloc`s are C's and not counted);
//! - `TRY_AGAIN` answers per message sent by the reliable send, and, for comparison, by a
//!   naive loop that dispatches and retries at once.
//!
//! The raw side calls libcpg through `corosync-sys`, the bindings the safe crate is built on.

use std::ffi::{c_int, c_uint, c_void};
use std::os::fd::BorrowedFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../alloc_counter.rs"]
mod alloc_counter;

use alloc_counter::allocations;
use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::{DispatchMode, Error};
use corosync_examples::bench::{median, percentile, thread_cpu, Paired};
use corosync_examples::main_skeleton::run_main;

// ---------------------------------------------------------------- raw libcpg

/// The raw libcpg functions the comparison calls, from the generated bindings.
use corosync_sys as raw;

/// Messages delivered to the raw handle (its deliver function is a plain C function).
static RAW_DELIVERED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn raw_deliver(
    _handle: raw::cpg_handle_t,
    _group: *const raw::cpg_name,
    _node: u32,
    _pid: u32,
    _msg: *mut c_void,
    _len: usize,
) {
    RAW_DELIVERED.fetch_add(1, Ordering::Relaxed);
}

struct RawCpg {
    handle: raw::cpg_handle_t,
    fd: c_int,
}

impl RawCpg {
    fn open(group: &[u8]) -> Result<RawCpg, String> {
        let mut model = raw::cpg_model_v1_data_t {
            model: raw::CPG_MODEL_V1,
            cpg_deliver_fn: Some(raw_deliver),
            cpg_confchg_fn: None,
            cpg_totem_confchg_fn: None,
            flags: 0,
        };
        let mut handle: raw::cpg_handle_t = 0;
        // SAFETY: valid pointers for the call; libcpg copies the model data.
        let rc = unsafe {
            raw::cpg_model_initialize(
                &mut handle,
                raw::CPG_MODEL_V1,
                std::ptr::addr_of_mut!(model).cast::<raw::cpg_model_data_t>(),
                std::ptr::null_mut(),
            )
        };
        if rc != raw::CS_OK {
            return Err(format!("cpg_model_initialize: {rc}"));
        }
        let mut fd: c_int = -1;
        // SAFETY: live handle, writable fd.
        unsafe { raw::cpg_fd_get(handle, &mut fd) };
        let mut name = raw::cpg_name {
            length: group.len() as u32,
            value: [0; 128],
        };
        for (to, from) in name.value.iter_mut().zip(group) {
            *to = *from as std::ffi::c_char;
        }
        // SAFETY: live handle, valid name.
        let rc = unsafe { raw::cpg_join(handle, &name) };
        if rc != raw::CS_OK {
            return Err(format!("cpg_join: {rc}"));
        }
        Ok(RawCpg { handle, fd })
    }

    fn mcast(&self, data: &[u8]) -> c_uint {
        let iov = raw::iovec {
            iov_base: data.as_ptr() as *mut c_void,
            iov_len: data.len(),
        };
        // SAFETY: live handle, one valid iovec for the call.
        unsafe { raw::cpg_mcast_joined(self.handle, raw::CPG_TYPE_AGREED, &iov, 1) }
    }

    fn dispatch(&self, flags: c_uint) -> c_uint {
        // SAFETY: live handle.
        unsafe { raw::cpg_dispatch(self.handle, flags) }
    }

    /// The safe side's retry loop, written against raw calls: same backoff, same waiting.
    fn mcast_retrying(&self, data: &[u8]) -> u32 {
        let mut tries = 0;
        let mut backoff = Duration::from_micros(250);
        loop {
            match self.mcast(data) {
                raw::CS_OK => return tries,
                raw::CS_ERR_TRY_AGAIN => tries += 1,
                rc => panic!("cpg_mcast_joined: {rc}"),
            }
            let until = Instant::now() + backoff;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                if left.is_zero() {
                    break;
                }
                if wait_readable(self.fd, left) {
                    self.dispatch(raw::CS_DISPATCH_ALL);
                }
            }
            backoff = (backoff * 2).min(Duration::from_millis(16));
        }
    }
}

impl Drop for RawCpg {
    fn drop(&mut self) {
        // SAFETY: live handle, finalized once.
        unsafe { raw::cpg_finalize(self.handle) };
    }
}

fn wait_readable(fd: c_int, timeout: Duration) -> bool {
    // SAFETY: `fd` is the connection's fd from cpg_fd_get, open until cpg_finalize, which
    // only Drop calls; the borrow ends with this call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    corosync::poll_readable(&[fd], Some(timeout)).is_ok_and(|ready| ready.any())
}

// ---------------------------------------------------------------- measurements

struct Run {
    seconds: f64,
    try_again: u64,
    allocations: u64,
}

fn safe_run(cpg: &Cpg, delivered: &AtomicUsize, data: &[u8], count: usize) -> Run {
    let start_count = delivered.load(Ordering::Relaxed);
    let start_allocs = allocations();
    let start = Instant::now();
    let mut try_again = 0u64;
    for _ in 0..count {
        try_again += u64::from(
            cpg.mcast_retrying(Guarantee::Agreed, data, None)
                .expect("safe send"),
        );
        cpg.dispatch(DispatchMode::All).expect("dispatch");
    }
    while delivered.load(Ordering::Relaxed) - start_count < count {
        cpg.dispatch(DispatchMode::One).expect("dispatch");
    }
    let seconds = start.elapsed().as_secs_f64();
    Run {
        seconds,
        try_again,
        allocations: allocations() - start_allocs,
    }
}

fn raw_run(cpg: &RawCpg, data: &[u8], count: usize) -> Run {
    let start_count = RAW_DELIVERED.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut try_again = 0u64;
    for _ in 0..count {
        try_again += u64::from(cpg.mcast_retrying(data));
        cpg.dispatch(raw::CS_DISPATCH_ALL);
    }
    while RAW_DELIVERED.load(Ordering::Relaxed) - start_count < count {
        cpg.dispatch(raw::CS_DISPATCH_ONE);
    }
    Run {
        seconds: start.elapsed().as_secs_f64(),
        try_again,
        allocations: 0,
    }
}

/// The naive loop of the issue: on TRY_AGAIN, dispatch and retry at once.
fn naive_run(cpg: &Cpg, delivered: &AtomicUsize, data: &[u8], count: usize) -> Run {
    let start_count = delivered.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut try_again = 0u64;
    for _ in 0..count {
        loop {
            match cpg.mcast(Guarantee::Agreed, data) {
                Ok(()) => break,
                Err(Error::TryAgain) => {
                    try_again += 1;
                    cpg.dispatch(DispatchMode::All).expect("dispatch");
                }
                Err(err) => panic!("naive send: {err}"),
            }
        }
        cpg.dispatch(DispatchMode::All).expect("dispatch");
    }
    while delivered.load(Ordering::Relaxed) - start_count < count {
        cpg.dispatch(DispatchMode::One).expect("dispatch");
    }
    Run {
        seconds: start.elapsed().as_secs_f64(),
        try_again,
        allocations: 0,
    }
}

const USAGE: &str = "usage: cpgbench [-q|--quick] [--rounds R] [--max-messages M] \
                     [--paced-cycles C] [--cold-cycles C] [--paced-only]";

/// The command line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    quick: bool,
    rounds: Option<usize>,
    max_messages: Option<usize>,
    paced_cycles: Option<usize>,
    cold_cycles: Option<usize>,
    paced_only: bool,
}

/// The options, or `None` for `--help`.
fn parse_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Option<Options>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('q') | Long("quick") => options.quick = true,
            Long("rounds") => options.rounds = Some(parser.value()?.parse()?),
            Long("max-messages") => options.max_messages = Some(parser.value()?.parse()?),
            Long("paced-cycles") => options.paced_cycles = Some(parser.value()?.parse()?),
            Long("cold-cycles") => options.cold_cycles = Some(parser.value()?.parse()?),
            Long("paced-only") => options.paced_only = true,
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    run_main("cpgbench", || -> Result<(), String> {
        match parse_args(std::env::args_os().skip(1)) {
            Ok(Some(options)) => {
                bench(&options);
                Ok(())
            }
            Ok(None) => {
                println!("{USAGE}");
                Ok(())
            }
            Err(err) => Err(format!("{err}\n{USAGE}")),
        }
    })
}

/// Runs every measurement and prints the tables (`quick`: a short smoke run).
fn bench(options: &Options) {
    let quick = options.quick;
    let paced_cycles = options.paced_cycles.unwrap_or(if quick { 2 } else { 60 });
    let cold_cycles = options.cold_cycles.unwrap_or(if quick { 1 } else { 20 });
    if options.paced_only {
        println!("corosync {} (headers)", corosync::COROSYNC_VERSION);
        paced_cost(paced_cycles);
        cold_dispatch_cost(cold_cycles);
        return;
    }
    let budget_bytes: usize = if quick { 4 << 20 } else { 64 << 20 };
    let (min_count, max_count) = if quick { (200, 2000) } else { (2000, 100_000) };
    let max_count = options.max_messages.unwrap_or(max_count).max(1);
    let min_count = min_count.min(max_count);
    let rounds = options.rounds.unwrap_or(if quick { 1 } else { 7 }).max(1);

    let (cpg, delivered) = counting_cpg();
    cpg.join(&GroupName::new("cpgbench-safe").unwrap())
        .expect("join");
    let raw_cpg = RawCpg::open(b"cpgbench-raw").expect("raw libcpg");
    // Let both joins complete.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(300) {
        cpg.dispatch(DispatchMode::All).expect("dispatch");
        raw_cpg.dispatch(raw::CS_DISPATCH_ALL);
        std::thread::sleep(Duration::from_millis(10));
    }

    println!(
        "corosync {} (headers), {} round(s), median of rounds\n",
        corosync::COROSYNC_VERSION,
        rounds
    );
    println!("| size | messages | safe msg/s | safe MB/s | raw msg/s | raw MB/s | msg/s safe/raw | safe CPU µs/msg | raw CPU µs/msg | CPU safe/raw | CPU safe − raw µs/msg | TRY_AGAIN/msg (safe) | allocs/msg (safe) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut total_allocs = 0u64;
    let mut total_messages = 0u64;
    for size in [64usize, 256, 1024, 4096, 16384, 65536] {
        let count = (budget_bytes / size).clamp(min_count, max_count);
        let data = vec![0x5au8; size];
        let mut safe_rates = Vec::new();
        let mut raw_rates = Vec::new();
        let mut safe_cpu = Vec::new();
        let mut raw_cpu = Vec::new();
        let mut try_again = 0u64;
        for round in 0..rounds {
            // Alternate which side goes first, so drift of the machine's load hits both.
            let timed_safe = || {
                let cpu = thread_cpu().as_secs_f64();
                let run = safe_run(&cpg, &delivered, &data, count);
                (run, thread_cpu().as_secs_f64() - cpu)
            };
            let timed_raw = || {
                let cpu = thread_cpu().as_secs_f64();
                let run = raw_run(&raw_cpg, &data, count);
                (run, thread_cpu().as_secs_f64() - cpu)
            };
            let ((s, s_cpu), (r, r_cpu)) = if round % 2 == 0 {
                let s = timed_safe();
                (s, timed_raw())
            } else {
                let r = timed_raw();
                (timed_safe(), r)
            };
            safe_rates.push(count as f64 / s.seconds);
            raw_rates.push(count as f64 / r.seconds);
            safe_cpu.push(s_cpu * 1e6 / count as f64);
            raw_cpu.push(r_cpu * 1e6 / count as f64);
            try_again += s.try_again;
            total_allocs += s.allocations;
            total_messages += count as u64;
        }
        let (safe, rawr) = (median(safe_rates), median(raw_rates));
        let sent = (count * rounds) as f64;
        let (safe_cpu, raw_cpu) = (median(safe_cpu), median(raw_cpu));
        println!(
            "| {size} B | {count} | {safe:.0} | {:.1} | {rawr:.0} | {:.1} | {:.2} | {safe_cpu:.2} | {raw_cpu:.2} | {:.2} | {:+.3} | {:.4} | {:.4} |",
            safe * size as f64 / 1e6,
            rawr * size as f64 / 1e6,
            safe / rawr,
            safe_cpu / raw_cpu,
            safe_cpu - raw_cpu,
            try_again as f64 / sent,
            total_allocs as f64 / total_messages as f64,
        );
    }

    // Round-trip latency of a 64-byte message.
    let data = [0x33u8; 64];
    let samples = if quick { 200 } else { 2000 };
    let mut safe_lat = Vec::with_capacity(samples);
    let mut raw_lat = Vec::with_capacity(samples);
    for _ in 0..samples {
        let before = delivered.load(Ordering::Relaxed);
        let t = Instant::now();
        cpg.mcast_retrying(Guarantee::Agreed, &data, None)
            .expect("send");
        while delivered.load(Ordering::Relaxed) == before {
            cpg.dispatch(DispatchMode::One).expect("dispatch");
        }
        safe_lat.push(t.elapsed().as_secs_f64() * 1e6);

        let before = RAW_DELIVERED.load(Ordering::Relaxed);
        let t = Instant::now();
        raw_cpg.mcast_retrying(&data);
        while RAW_DELIVERED.load(Ordering::Relaxed) == before {
            raw_cpg.dispatch(raw::CS_DISPATCH_ONE);
        }
        raw_lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    safe_lat.sort_by(|a, b| a.total_cmp(b));
    raw_lat.sort_by(|a, b| a.total_cmp(b));
    println!("\nRound trip of a 64-byte message ({samples} samples, µs):\n");
    println!("| API | p50 | p90 | p99 | mean |");
    println!("|---|---:|---:|---:|---:|");
    for (name, lat) in [("safe", &safe_lat), ("raw", &raw_lat)] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
            percentile(lat, 0.5),
            percentile(lat, 0.9),
            percentile(lat, 0.99),
            lat.iter().sum::<f64>() / lat.len() as f64
        );
    }
    println!(
        "\np50 ratio safe/raw: {:.2}",
        percentile(&safe_lat, 0.5) / percentile(&raw_lat, 0.5)
    );

    dispatch_cost(&cpg, &delivered, &raw_cpg, quick);
    paced_cost(paced_cycles);
    cold_dispatch_cost(cold_cycles);

    // Allocations per delivered message, measured on deliveries alone.
    let n = if quick { 500 } else { 5000 };
    for _ in 0..n {
        cpg.mcast_retrying(Guarantee::Agreed, &[1u8; 64], None)
            .expect("send");
    }
    let before_count = delivered.load(Ordering::Relaxed);
    let before_allocs = allocations();
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered.load(Ordering::Relaxed) - before_count < n && Instant::now() < deadline {
        cpg.dispatch(DispatchMode::One).expect("dispatch");
    }
    let got = delivered.load(Ordering::Relaxed) - before_count;
    println!(
        "\nHeap allocations (Rust) per delivered message, safe API: {:.4} over {got} deliveries \
         (dispatch only); {:.4} per message over all timed send+deliver loops above",
        (allocations() - before_allocs) as f64 / got.max(1) as f64,
        total_allocs as f64 / total_messages.max(1) as f64
    );

    // TRY_AGAIN answers for 64 KiB messages: the reliable send vs a naive retry loop, with
    // the CPU time this process spent (the naive loop spins while the daemon is busy).
    let big = vec![7u8; 65536];
    let n = if quick { 300 } else { 3000 };
    let rounds = if quick { 1 } else { 3 };
    let mut results: [(Vec<f64>, Vec<f64>, Vec<f64>); 2] = Default::default();
    for round in 0..rounds {
        for k in 0..2 {
            let which = (k + round) % 2;
            let cpu = thread_cpu().as_secs_f64();
            let run = if which == 0 {
                safe_run(&cpg, &delivered, &big, n)
            } else {
                naive_run(&cpg, &delivered, &big, n)
            };
            let cpu = thread_cpu().as_secs_f64() - cpu;
            results[which].0.push(run.try_again as f64 / n as f64);
            results[which].1.push(n as f64 / run.seconds);
            results[which].2.push(cpu / run.seconds * 100.0);
        }
    }
    println!("\n64 KiB messages, {n} per run, median of {rounds} runs:\n");
    println!("| send loop | TRY_AGAIN per message | msg/s | sender CPU % |");
    println!("|---|---:|---:|---:|");
    for (which, name) in [
        (0, "mcast_retrying (wait, backoff)"),
        (1, "naive (dispatch, retry at once)"),
    ] {
        let (t, r, c) = results[which].clone();
        println!(
            "| {name} | {:.3} | {:.0} | {:.0} |",
            median(t),
            median(r),
            median(c)
        );
    }
}

/// Which API a paced batch ([`paced_batch`]) sends with and how it dispatches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dispatcher {
    /// `mcast_retrying`, then one `dispatch(All)`.
    Safe,
    /// The same retry loop over raw `cpg_mcast_joined`, then one
    /// `cpg_dispatch(CS_DISPATCH_ALL)`.
    RawAll,
    /// As `RawAll`, then `CS_DISPATCH_ONE_NONBLOCKING` calls until none is left.
    RawOneByOne,
}

/// What one [`paced_batch`] measured.
struct Batch {
    /// Thread CPU seconds of the sends (each a request the daemon answers).
    send_cpu: f64,
    /// Thread CPU seconds of the one timed dispatch.
    dispatch_cpu: f64,
    /// Events the timed dispatch delivered.
    events: usize,
    /// `TRY_AGAIN` answers during the sends.
    try_again: u64,
}

/// Sends `count` messages of `data` (timed), pauses for `pause` so that they arrive
/// (untimed: the thread sleeps), writes to every cache line of `other_memory` (untimed; to
/// start the dispatch on cold caches), then times one dispatch of everything queued.
/// Whatever has not arrived by then is delivered untimed afterwards, so the next batch
/// starts from an empty queue.
#[allow(clippy::too_many_arguments)]
fn paced_batch(
    cpg: &Cpg,
    delivered: &AtomicUsize,
    raw_cpg: &RawCpg,
    how: Dispatcher,
    data: &[u8],
    count: usize,
    pause: Duration,
    other_memory: &mut [u8],
) -> Batch {
    let counter = || match how {
        Dispatcher::Safe => delivered.load(Ordering::Relaxed),
        _ => RAW_DELIVERED.load(Ordering::Relaxed),
    };
    let start = counter();
    let mut try_again = 0u64;
    let cpu = thread_cpu();
    for _ in 0..count {
        try_again += u64::from(match how {
            Dispatcher::Safe => cpg
                .mcast_retrying(Guarantee::Agreed, data, None)
                .expect("send"),
            _ => raw_cpg.mcast_retrying(data),
        });
    }
    let send_cpu = (thread_cpu() - cpu).as_secs_f64();
    std::thread::sleep(pause);
    for line in other_memory.chunks_mut(64) {
        line[0] = line[0].wrapping_add(1);
    }
    std::hint::black_box(&other_memory);
    let before = counter();
    let cpu = thread_cpu();
    match how {
        Dispatcher::Safe => {
            cpg.dispatch(DispatchMode::All).expect("dispatch");
        }
        Dispatcher::RawAll => {
            raw_cpg.dispatch(raw::CS_DISPATCH_ALL);
        }
        Dispatcher::RawOneByOne => {
            while raw_cpg.dispatch(raw::CS_DISPATCH_ONE_NONBLOCKING) == raw::CS_OK {}
        }
    }
    let dispatch_cpu = (thread_cpu() - cpu).as_secs_f64();
    let events = counter() - before;
    while counter() - start < count {
        match how {
            Dispatcher::Safe => {
                cpg.dispatch(DispatchMode::One).expect("dispatch");
            }
            _ => {
                raw_cpg.dispatch(raw::CS_DISPATCH_ONE);
            }
        }
    }
    Batch {
        send_cpu,
        dispatch_cpu,
        events,
        try_again,
    }
}

/// The dispatch-only measurement: CPU per delivered event of the safe `dispatch(All)`, of
/// raw `CS_DISPATCH_ALL` and of a raw loop of `CS_DISPATCH_ONE_NONBLOCKING`, batches
/// interleaved (each first in turn); each way's figure is the median over batches, and its
/// difference from raw `CS_DISPATCH_ALL` the median over cycles of three batches (each way
/// at each place once) of their mean difference.
fn dispatch_cost(cpg: &Cpg, delivered: &AtomicUsize, raw_cpg: &RawCpg, quick: bool) {
    let (batches, count) = if quick { (3, 200) } else { (21, 1000) };
    let order = [
        Dispatcher::Safe,
        Dispatcher::RawAll,
        Dispatcher::RawOneByOne,
    ];
    let data = [0x44u8; 64];
    // Against raw CS_DISPATCH_ALL: the safe way, and the one-by-one loop.
    let (mut safe, mut one_by_one) = (Paired::in_turns(3), Paired::in_turns(3));
    let mut events = [0usize; 3];
    for batch in 0..batches {
        let mut ns = [0.0; 3];
        for k in 0..order.len() {
            let which = (k + batch) % order.len();
            let pause = Duration::from_millis(200);
            let b = paced_batch(
                cpg,
                delivered,
                raw_cpg,
                order[which],
                &data,
                count,
                pause,
                &mut [],
            );
            ns[which] = b.dispatch_cpu * 1e9 / b.events.max(1) as f64;
            events[which] += b.events;
        }
        safe.push(ns[0], ns[1]);
        one_by_one.push(ns[2], ns[1]);
    }
    println!(
        "\nDispatch alone, 64-byte messages already queued ({batches} batches of {count} per \
         way, interleaved), thread CPU per delivered event (median over batches; the \
         difference: median over cycles of three batches, each way first once, of their mean \
         difference, ± the half-width of its 95 % interval):\n"
    );
    println!("| dispatch | events | ns/event | − raw CS_DISPATCH_ALL (ns) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| safe `dispatch(All)` | {} | {:.0} | {} |",
        events[0],
        safe.safe(),
        safe.difference_text(0)
    );
    println!(
        "| raw `CS_DISPATCH_ALL` | {} | {:.0} | 0 |",
        events[1],
        safe.raw()
    );
    println!(
        "| raw `CS_DISPATCH_ONE_NONBLOCKING` loop | {} | {:.0} | {} |",
        events[2],
        one_by_one.safe(),
        one_by_one.difference_text(0)
    );
}

/// Messages per paced batch of each size in [`paced_cost`]: few enough that the daemon
/// never answers `TRY_AGAIN` and the connection's event ring holds every delivery.
const PACED: [(usize, usize); 4] = [(64, 100), (1024, 100), (8192, 32), (65536, 8)];

/// Batches per side in one cycle of [`paced_cost`] (four turns: each of the three sides goes
/// first, second and third four times).
const PACED_BATCHES_PER_CYCLE: usize = 12;

/// A safe handle whose deliver closure counts deliveries, in the counter returned with it.
fn counting_cpg() -> (Cpg, Arc<AtomicUsize>) {
    let delivered = Arc::new(AtomicUsize::new(0));
    let counter = delivered.clone();
    let cpg = Cpg::builder()
        .on_deliver(move |_, _msg| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .expect("connect to corosync (is a daemon running in this namespace?)");
    (cpg, delivered)
}

/// The three sides of one cycle of [`paced_cost`], each on a connection of its own, opened for
/// the cycle: the safe API, raw calls, and raw calls again (the noise floor).
struct PacedSides {
    safe: Cpg,
    delivered: Arc<AtomicUsize>,
    raw: RawCpg,
    floor: RawCpg,
}

impl PacedSides {
    /// Opens the three connections (in an order that turns with `cycle`), each in a group of
    /// its own named after `tag` (so that no cycle's deliveries or leaves reach another's
    /// connections), and sends 1 MiB on each, untimed: the first pass
    /// through a connection's request and event rings (1 MiB each) takes a page fault per
    /// page.
    fn open(cycle: usize, tag: &str) -> PacedSides {
        let (mut safe, mut raw, mut floor) = (None, None, None);
        for k in 0..3 {
            match (k + cycle) % 3 {
                0 => {
                    let (cpg, delivered) = counting_cpg();
                    cpg.join(&GroupName::new(format!("cpgbench-paced-safe-{tag}")).unwrap())
                        .expect("join");
                    safe = Some((cpg, delivered));
                }
                1 => raw = Some(RawCpg::open(format!("cpgbench-paced-raw-{tag}").as_bytes())),
                _ => {
                    floor = Some(RawCpg::open(
                        format!("cpgbench-paced-floor-{tag}").as_bytes(),
                    ))
                }
            }
        }
        let (safe, delivered) = safe.expect("opened");
        let sides = PacedSides {
            safe,
            delivered,
            raw: raw.expect("opened").expect("raw libcpg"),
            floor: floor.expect("opened").expect("raw libcpg"),
        };
        let warm_up = vec![0x55u8; 65536];
        for _ in 0..2 {
            for side in 0..3 {
                sides.batch(side, &warm_up, 8, Duration::from_millis(5), &mut []);
            }
        }
        sides
    }

    /// A [`paced_batch`] of side 0 (safe), 1 (raw) or 2 (the floor).
    fn batch(
        &self,
        side: usize,
        data: &[u8],
        count: usize,
        pause: Duration,
        other_memory: &mut [u8],
    ) -> Batch {
        let (how, raw) = match side {
            0 => (Dispatcher::Safe, &self.raw),
            1 => (Dispatcher::RawAll, &self.raw),
            _ => (Dispatcher::RawAll, &self.floor),
        };
        let (cpg, delivered) = (&self.safe, &self.delivered);
        paced_batch(cpg, delivered, raw, how, data, count, pause, other_memory)
    }

    /// A batch of `side` whose one timed dispatch delivered all `count` messages. A batch
    /// whose deliveries had not all arrived when its dispatch ran (a loaded machine, a
    /// cluster of several nodes) is run again, and the pause is doubled for the rest of the
    /// size.
    fn complete_batch(
        &self,
        side: usize,
        data: &[u8],
        count: usize,
        pace: &mut Pace,
        other_memory: &mut [u8],
    ) -> Batch {
        loop {
            let b = self.batch(side, data, count, pace.pause, other_memory);
            pace.try_again += b.try_again;
            if b.events == count {
                return b;
            }
            pace.repeated += 1;
            assert!(
                pace.pause < Duration::from_secs(2),
                "the deliveries of {count} messages did not arrive within {:?}",
                pace.pause
            );
            pace.pause *= 2;
        }
    }
}

/// The pause of one size's batches before their dispatch, and what getting complete batches
/// took ([`PacedSides::complete_batch`]).
struct Pace {
    pause: Duration,
    /// Batches run again because some of their deliveries had not arrived.
    repeated: usize,
    /// `TRY_AGAIN` answers to the sends of all sides.
    try_again: u64,
}

impl Pace {
    fn new(pause: Duration) -> Pace {
        Pace {
            pause,
            repeated: 0,
            try_again: 0,
        }
    }
}

/// Send + deliver at a pace the daemon keeps up with: per batch, the sends, then (after a
/// pause) one dispatch of every delivery; thread CPU per message of both, safe against raw
/// (each side's `mcast_retrying`, then `dispatch(All)` / `CS_DISPATCH_ALL`), batches in
/// turns. Unlike the throughput table, no side waits or retries inside the timed calls, so
/// the difference is the safe layer's cost per message.
///
/// Each cycle opens new connections: two connections that run the same code differ by up to
/// ±0.3 µs per 64-byte message for as long as they live (where their rings and the kernel's
/// objects landed), which on connections kept for the whole table became a bias of the
/// result; over fresh connections it is noise, which the median averages out. Each
/// difference is the median, over turns of three batches (each side first once), of the
/// turn's mean difference, with the half-width of its 95 % interval ([`Paired`]).
fn paced_cost(cycles: usize) {
    if cycles == 0 {
        return;
    }
    println!(
        "\nSend + deliver, paced ({cycles} cycles per size, each on new connections, of \
         {PACED_BATCHES_PER_CYCLE} batches per side in turns; no TRY_AGAIN): thread CPU per \
         message, the sends and one dispatch of their deliveries (median over batches; the \
         differences: median over turns of three batches, each side first once, of the \
         turn's mean difference, ± the half-width of its 95 % interval; the noise floor is a \
         second raw connection against the raw one):\n"
    );
    println!(
        "| size | messages per batch | safe CPU µs/msg | raw CPU µs/msg | CPU safe − raw µs/msg \
         | of which sends | of which the dispatch | noise floor: raw − raw µs/msg | batches \
         repeated | TRY_AGAIN (all sides) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (size, count) in PACED {
        let data = vec![0x66u8; size];
        // Safe against raw: sends and dispatch together, each apart; raw against raw.
        let [mut total, mut sends, mut dispatch, mut floor] =
            std::array::from_fn(|_| Paired::in_turns(3));
        let mut pace = Pace::new(Duration::from_millis(10));
        for cycle in 0..cycles {
            let sides = PacedSides::open(cycle, &format!("{size}-{cycle}"));
            for batch in 0..PACED_BATCHES_PER_CYCLE {
                let mut times = [[0.0; 3]; 3];
                for k in 0..3 {
                    let side = (k + batch) % 3;
                    let b = sides.complete_batch(side, &data, count, &mut pace, &mut []);
                    let per_message = |cpu: f64| cpu * 1e6 / count as f64;
                    times[side] = [
                        per_message(b.send_cpu + b.dispatch_cpu),
                        per_message(b.send_cpu),
                        per_message(b.dispatch_cpu),
                    ];
                }
                let [safe, raw, floor_side] = times;
                total.push(safe[0], raw[0]);
                sends.push(safe[1], raw[1]);
                dispatch.push(safe[2], raw[2]);
                floor.push(floor_side[0], raw[0]);
            }
        }
        println!(
            "| {size} B | {count} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} |",
            total.safe(),
            total.raw(),
            total.difference_text(3),
            sends.difference_text(3),
            dispatch.difference_text(3),
            floor.difference_text(3),
            pace.repeated,
            pace.try_again,
        );
    }
}

/// Rows of the cold dispatch table: message size and messages per dispatch call.
const COLD: [(usize, usize); 2] = [(64, 1), (65536, 8)];

/// Samples per side in one cycle of [`cold_dispatch_cost`] (each cycle on new connections).
const COLD_SAMPLES_PER_CYCLE: usize = 30;

/// Memory written before each timed cold dispatch: more than this host's caches hold.
const COLD_OTHER_MEMORY: usize = 8 << 20;

/// One dispatch call on cold caches: per sample and side, the messages of a row are sent,
/// and after a short pause and writes to [`COLD_OTHER_MEMORY`] of other memory one dispatch
/// delivers them (a sample whose deliveries had not all arrived is taken again, and the
/// pause doubled). Thread CPU
/// per call, safe against raw and raw against raw, samples in turns, new connections every
/// cycle (see [`paced_cost`] for why).
fn cold_dispatch_cost(cycles: usize) {
    if cycles == 0 {
        return;
    }
    let samples = cycles * COLD_SAMPLES_PER_CYCLE;
    println!(
        "\nOne dispatch call on cold caches ({samples} samples per side, in turns, on new \
         connections every {COLD_SAMPLES_PER_CYCLE}; before each timed dispatch, a pause of \
         2 ms, doubled for the rest of the size when a sample's deliveries had not all \
         arrived, and {} MiB of writes to other memory): thread CPU per call (median over samples; \
         the differences as in the paced table):\n",
        COLD_OTHER_MEMORY >> 20
    );
    println!(
        "| size | messages per call | safe CPU µs/call | raw CPU µs/call | CPU safe − raw \
         µs/call | noise floor: raw − raw µs/call | samples repeated |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut other_memory = vec![0u8; COLD_OTHER_MEMORY];
    for (size, count) in COLD {
        // Short: after a longer sleep this virtual CPU's caches and TLBs are cold in ways
        // that vary far more (µs per call) than the layer's cost; the writes to other
        // memory make them cold the same way every time.
        let mut pace = Pace::new(Duration::from_millis(2));
        let data = vec![0x77u8; size];
        let [mut safe, mut floor] = std::array::from_fn(|_| Paired::in_turns(3));
        for cycle in 0..cycles {
            let sides = PacedSides::open(cycle, &format!("cold-{size}-{cycle}"));
            for sample in 0..COLD_SAMPLES_PER_CYCLE {
                let mut us = [0.0; 3];
                for k in 0..3 {
                    let side = (k + sample) % 3;
                    let b = sides.complete_batch(side, &data, count, &mut pace, &mut other_memory);
                    us[side] = b.dispatch_cpu * 1e6;
                }
                safe.push(us[0], us[1]);
                floor.push(us[2], us[1]);
            }
        }
        println!(
            "| {size} B | {count} | {:.2} | {:.2} | {} | {} | {} |",
            safe.safe(),
            safe.raw(),
            safe.difference_text(2),
            floor.difference_text(2),
            pace.repeated,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, lexopt::Error> {
        parse_args(args.iter().map(Into::into))
    }

    #[test]
    fn options() {
        let quick = Options {
            quick: true,
            ..Options::default()
        };
        assert_eq!(parse(&[]).unwrap(), Some(Options::default()));
        assert_eq!(parse(&["-q"]).unwrap().as_ref(), Some(&quick));
        assert_eq!(parse(&["--quick"]).unwrap(), Some(quick));
        assert_eq!(
            parse(&["--rounds", "3", "--max-messages=5000"]).unwrap(),
            Some(Options {
                quick: false,
                rounds: Some(3),
                max_messages: Some(5000),
                ..Options::default()
            })
        );
        assert_eq!(
            parse(&["--paced-cycles", "40", "--paced-only"]).unwrap(),
            Some(Options {
                paced_cycles: Some(40),
                paced_only: true,
                ..Options::default()
            })
        );
        assert_eq!(
            parse(&["--cold-cycles", "0"]).unwrap(),
            Some(Options {
                cold_cycles: Some(0),
                ..Options::default()
            })
        );
        assert!(parse(&["--rounds", "x"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap(), None);
        assert!(parse(&["--quick=1"]).is_err());
        assert!(parse(&["x"]).is_err());
    }
}
