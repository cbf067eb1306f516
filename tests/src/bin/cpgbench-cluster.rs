//! `cpgbench-cluster`: CPG across a 3-node cluster, through the safe API and through raw
//! libcpg calls in the same run (the multi-node counterpart of `cpgbench`, which measures one
//! node).
//!
//! ```text
//! cpgbench-cluster [-q|--quick]   (as root; started by scripts/bench)
//! ```
//!
//! It starts a throwaway 3-node cluster with the harness. Every node has one handle in the
//! group, opened and dispatched by a thread of this process that entered the node's network
//! namespace; node 1's handle also sends. Each message carries its sequence number and the
//! time it was sent (one monotonic clock, since all threads are in this process), and every
//! node's deliver callback records when it got it. It reports, per size from 64 B to 64 KiB:
//!
//! - **delivered everywhere, msgs/s and MB/s**: messages sent back to back (with
//!   `mcast_retrying`'s backoff under flow control, or the same loop against raw calls),
//!   divided by the time from the first send until the last of the three nodes delivered the
//!   last message;
//! - **latency under load, p50 / p99**: for each of those messages, the time from its send to
//!   its delivery on the last of the three nodes;
//!
//! and, for 64-byte messages sent one at a time (the next once all three delivered the
//! previous one), the **idle latency to delivery everywhere**, p50 / p99.
//!
//! Each size runs three rounds per API, alternating which goes first; the table shows medians.
//! Safe and raw do the same work in their deliver callbacks (read the header, record the
//! time), and use the same dispatch loops, so the ratios show the binding's cost.

use std::ffi::{c_int, c_void};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::DispatchMode;
use corosync_sys as raw;
use corosync_testcluster::{wait_readable, Cluster, Node};

const NODES: usize = 3;
/// Rounds per size and API (medians are reported).
const ROUNDS: usize = 3;
const HEADER: usize = 12;

/// Nanoseconds on this process's monotonic clock (shared by every thread).
fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Delivery records of one node: (sequence number, sent at, delivered at).
type Deliveries = Arc<Mutex<Vec<(u32, u64, u64)>>>;

/// What both deliver callbacks do with a message.
fn record(deliveries: &Mutex<Vec<(u32, u64, u64)>>, data: &[u8]) {
    let at = now_ns();
    if data.len() >= HEADER {
        let seq = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let mut sent = [0u8; 8];
        sent.copy_from_slice(&data[4..12]);
        deliveries
            .lock()
            .unwrap()
            .push((seq, u64::from_le_bytes(sent), at));
    }
}

/// One node's group member, safe or raw, behind the same operations.
trait Member: Send {
    fn fd(&self) -> BorrowedFd<'_>;
    fn dispatch_all(&self);
    /// Sends, waiting out TRY_AGAIN with the same backoff on both sides.
    fn send(&self, data: &[u8]);
}

struct Safe(Cpg);

impl Member for Safe {
    fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
    fn dispatch_all(&self) {
        self.0.dispatch(DispatchMode::All).expect("dispatch");
    }
    fn send(&self, data: &[u8]) {
        self.0
            .mcast_retrying(Guarantee::Agreed, data, None)
            .expect("safe send");
    }
}

fn open_safe(deliveries: Deliveries, group: &GroupName) -> Box<dyn Member> {
    let cpg = Cpg::builder()
        .on_deliver(move |_, msg| record(&deliveries, msg.data()))
        .build()
        .expect("open CPG");
    cpg.join(group).expect("join");
    Box::new(Safe(cpg))
}

struct Raw {
    handle: raw::cpg_handle_t,
    fd: c_int,
    /// The context the deliver function reads (a leaked Arc, reclaimed in Drop).
    context: *const Mutex<Vec<(u32, u64, u64)>>,
}

// SAFETY: the raw handle is used by one thread at a time (moved, never shared), as libcpg
// requires; the context is an Arc's Mutex, which is Sync.
unsafe impl Send for Raw {}

unsafe extern "C" fn raw_deliver(
    handle: raw::cpg_handle_t,
    _group: *const raw::cpg_name,
    _node: u32,
    _pid: u32,
    msg: *mut c_void,
    len: usize,
) {
    let mut context: *mut c_void = std::ptr::null_mut();
    // SAFETY: the handle is live (we are inside its dispatch) and `context` is writable.
    unsafe { raw::cpg_context_get(handle, &mut context) };
    if context.is_null() || msg.is_null() {
        return;
    }
    // SAFETY: the context is the `Mutex` of an Arc that `Raw` keeps alive until after
    // finalize; libcpg hands a message of `len` readable bytes for this call.
    let (deliveries, data) = unsafe {
        (
            &*context.cast::<Mutex<Vec<(u32, u64, u64)>>>(),
            std::slice::from_raw_parts(msg.cast::<u8>(), len),
        )
    };
    // A panic must not cross into C; `record` only panics on a poisoned lock.
    let _ = std::panic::catch_unwind(|| record(deliveries, data));
}

/// libqb's handle database is not thread-safe when handles are created or destroyed
/// (../shared/FINDINGS.md): the safe crate holds a process-wide lock per library around
/// initialize and finalize, and the raw side must do the same, since the three nodes' threads
/// open and close their handles at once.
static RAW_LIFECYCLE: Mutex<()> = Mutex::new(());

fn open_raw(deliveries: Deliveries, group: &GroupName) -> Box<dyn Member> {
    let mut model = raw::cpg_model_v1_data_t {
        model: raw::CPG_MODEL_V1,
        cpg_deliver_fn: Some(raw_deliver),
        cpg_confchg_fn: None,
        cpg_totem_confchg_fn: None,
        flags: 0,
    };
    let context = Arc::into_raw(deliveries);
    let mut handle: raw::cpg_handle_t = 0;
    let lifecycle = RAW_LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: valid pointers for the call; libcpg copies the model data and keeps the context
    // pointer, which stays valid until `Raw` is dropped (after finalize).
    let rc = unsafe {
        raw::cpg_model_initialize(
            &mut handle,
            raw::CPG_MODEL_V1,
            std::ptr::addr_of_mut!(model).cast::<raw::cpg_model_data_t>(),
            context.cast_mut().cast(),
        )
    };
    drop(lifecycle);
    assert_eq!(rc, raw::CS_OK, "cpg_model_initialize");
    let mut fd: c_int = -1;
    // SAFETY: live handle, writable fd.
    let rc = unsafe { raw::cpg_fd_get(handle, &mut fd) };
    assert_eq!(rc, raw::CS_OK, "cpg_fd_get");
    let name = group.as_bytes();
    let mut c_name = raw::cpg_name {
        length: group.len() as u32,
        value: [0; 128],
    };
    for (to, from) in c_name.value.iter_mut().zip(name) {
        *to = *from as std::ffi::c_char;
    }
    // SAFETY: live handle, valid name.
    let rc = unsafe { raw::cpg_join(handle, &c_name) };
    assert_eq!(rc, raw::CS_OK, "cpg_join");
    Box::new(Raw {
        handle,
        fd,
        context,
    })
}

impl Member for Raw {
    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd belongs to the live handle and stays open until finalize in Drop,
        // which cannot happen while `self` is borrowed.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
    fn dispatch_all(&self) {
        // SAFETY: live handle.
        let rc = unsafe { raw::cpg_dispatch(self.handle, raw::CS_DISPATCH_ALL) };
        assert!(
            rc == raw::CS_OK || rc == raw::CS_ERR_TRY_AGAIN,
            "cpg_dispatch: {rc}"
        );
    }
    fn send(&self, data: &[u8]) {
        // The safe side's `mcast_retrying`, written against raw calls: the same backoff
        // (0.25 ms doubling to 16 ms), dispatching while it waits.
        let iov = raw::iovec {
            iov_base: data.as_ptr() as *mut c_void,
            iov_len: data.len(),
        };
        let mut backoff = Duration::from_micros(250);
        loop {
            // SAFETY: live handle, one valid iovec for the call.
            let rc = unsafe { raw::cpg_mcast_joined(self.handle, raw::CPG_TYPE_AGREED, &iov, 1) };
            match rc {
                raw::CS_OK => return,
                raw::CS_ERR_TRY_AGAIN => {}
                rc => panic!("cpg_mcast_joined: {rc}"),
            }
            let until = Instant::now() + backoff;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                if left.is_zero() {
                    break;
                }
                if wait_readable(&[self.fd()], left) {
                    self.dispatch_all();
                }
            }
            backoff = (backoff * 2).min(Duration::from_millis(16));
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let lifecycle = RAW_LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: live handle, finalized once.
        unsafe { raw::cpg_finalize(self.handle) };
        drop(lifecycle);
        // SAFETY: no callback runs after finalize, so the context can be released now (its
        // count came from `Arc::into_raw` in `open_raw`).
        drop(unsafe { Arc::from_raw(self.context) });
    }
}

// ---------------------------------------------------------------- one measurement

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Safe,
    Raw,
}

struct Figures {
    msgs_per_s: f64,
    mb_per_s: f64,
    p50_us: f64,
    p99_us: f64,
}

/// The median of each field over `runs`.
fn median(runs: Vec<Figures>) -> Figures {
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Figures {
        msgs_per_s: mid(runs.iter().map(|f| f.msgs_per_s).collect()),
        mb_per_s: mid(runs.iter().map(|f| f.mb_per_s).collect()),
        p50_us: mid(runs.iter().map(|f| f.p50_us).collect()),
        p99_us: mid(runs.iter().map(|f| f.p99_us).collect()),
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Sends `count` messages of `size` bytes from node 1 (back to back if `paced` is false; one
/// at a time, each once all nodes delivered the previous, if true) and measures.
fn measure(cluster: &Cluster, api: Api, size: usize, count: usize, paced: bool) -> Figures {
    static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let group = GroupName::new(format!(
        "cpgbench-cluster-{}",
        RUN.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap();
    let logs: Vec<Deliveries> = (0..NODES)
        .map(|_| Arc::new(Mutex::new(Vec::with_capacity(count))))
        .collect();
    let joined = Barrier::new(NODES);
    let done = AtomicBool::new(false);
    let mut first_send = 0u64;
    std::thread::scope(|scope| {
        let mut threads = Vec::new();
        for (i, node) in cluster.nodes().iter().enumerate() {
            let (log, logs, group, joined, done) = (logs[i].clone(), &logs, &group, &joined, &done);
            threads.push(scope.spawn(move || {
                run_node(
                    node, api, log, logs, group, joined, done, size, count, paced,
                )
            }));
        }
        for t in threads {
            if let Some(at) = t.join().unwrap() {
                first_send = at;
            }
        }
    });
    // Per message: delivery on the last node.
    let mut last_at = vec![0u64; count];
    let mut sent_at = vec![0u64; count];
    for log in &logs {
        let log = log.lock().unwrap();
        assert_eq!(log.len(), count, "every node delivers every message");
        for &(seq, sent, at) in log.iter() {
            let seq = seq as usize;
            last_at[seq] = last_at[seq].max(at);
            sent_at[seq] = sent;
        }
    }
    let mut latencies: Vec<u64> = last_at.iter().zip(&sent_at).map(|(a, s)| a - s).collect();
    latencies.sort_unstable();
    let seconds = (last_at.iter().max().unwrap() - first_send) as f64 / 1e9;
    Figures {
        msgs_per_s: count as f64 / seconds,
        mb_per_s: (count * size) as f64 / seconds / 1e6,
        p50_us: percentile(&latencies, 0.5),
        p99_us: percentile(&latencies, 0.99),
    }
}

/// One node's thread: opens its member in the node's namespace, waits for the others, sends
/// (node 1) and dispatches until it has delivered `count` messages; node 1 returns the time
/// of its first send.
#[allow(clippy::too_many_arguments)]
fn run_node(
    node: &Node,
    api: Api,
    log: Deliveries,
    logs: &[Deliveries],
    group: &GroupName,
    joined: &Barrier,
    done: &AtomicBool,
    size: usize,
    count: usize,
    paced: bool,
) -> Option<u64> {
    node.enter_on_current_thread().expect("enter namespace");
    let member = match api {
        Api::Safe => open_safe(log.clone(), group),
        Api::Raw => open_raw(log.clone(), group),
    };
    // Let the joins settle everywhere before anything is sent.
    joined.wait();
    std::thread::sleep(Duration::from_millis(500));
    let delivered = |log: &Deliveries| log.lock().unwrap().len();
    let mut first_send = None;
    if node.id() == 1 {
        let mut data = vec![0u8; size.max(HEADER)];
        for seq in 0..count as u32 {
            data[..4].copy_from_slice(&seq.to_le_bytes());
            let at = now_ns();
            data[4..12].copy_from_slice(&at.to_le_bytes());
            first_send.get_or_insert(at);
            member.send(&data);
            member.dispatch_all();
            if paced {
                while logs.iter().any(|l| delivered(l) <= seq as usize) {
                    wait_readable(&[member.fd()], Duration::from_micros(200));
                    member.dispatch_all();
                }
            }
        }
    }
    while delivered(&log) < count {
        wait_readable(&[member.fd()], Duration::from_millis(100));
        member.dispatch_all();
    }
    // Node 1 keeps its member until everyone is done (leaving would be a confchg mid-run).
    if node.id() == 1 {
        while logs.iter().any(|l| delivered(l) < count) {
            std::thread::sleep(Duration::from_millis(1));
        }
        done.store(true, Ordering::SeqCst);
    } else {
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    drop(member);
    first_send
}

fn main() {
    let quick = std::env::args().any(|a| a == "-q" || a == "--quick");
    let cluster = Cluster::start(NODES as u32).unwrap_or_else(|e| {
        eprintln!("cpgbench-cluster: {e}");
        std::process::exit(1);
    });
    let scale = if quick { 10 } else { 1 };
    println!("cpgbench-cluster: 3 nodes, sender on node 1, delivery measured on all three");
    println!(
        "{:>7} {:>5} {:>12} {:>9} {:>12} {:>12}",
        "size", "api", "msgs/s", "MB/s", "p50 µs", "p99 µs"
    );
    for (size, count) in [
        (64, 20_000),
        (1024, 20_000),
        (16 * 1024, 5_000),
        (64 * 1024, 2_000),
    ] {
        let count = count / scale;
        // ROUNDS rounds per API, alternating which goes first; medians are shown.
        let mut safe = Vec::new();
        let mut raw = Vec::new();
        for round in 0..ROUNDS {
            let order = if round % 2 == 0 {
                [Api::Safe, Api::Raw]
            } else {
                [Api::Raw, Api::Safe]
            };
            for api in order {
                let f = measure(&cluster, api, size, count, false);
                match api {
                    Api::Safe => safe.push(f),
                    Api::Raw => raw.push(f),
                }
            }
        }
        let (safe, raw) = (median(safe), median(raw));
        for (name, f) in [("safe", &safe), ("raw", &raw)] {
            println!(
                "{:>7} {:>5} {:>12.0} {:>9.1} {:>12.0} {:>12.0}",
                size, name, f.msgs_per_s, f.mb_per_s, f.p50_us, f.p99_us
            );
        }
        println!(
            "{:>7} safe/raw: throughput {:.2}, p50 latency {:.2}",
            "",
            safe.msgs_per_s / raw.msgs_per_s,
            safe.p50_us / raw.p50_us
        );
    }
    let count = 2_000 / scale;
    println!("idle latency, 64 B, one message at a time until delivered on all three ({count}):");
    for api in [Api::Safe, Api::Raw] {
        let f = measure(&cluster, api, 64, count, true);
        println!(
            "  {:>4}: p50 {:.0} µs, p99 {:.0} µs",
            if api == Api::Safe { "safe" } else { "raw" },
            f.p50_us,
            f.p99_us
        );
    }
}
