//! The driver of `scripts/soak DURATION`: a 3-node cluster under mixed traffic for a while,
//! with one node killed and restarted every minute, watching the client process and the
//! daemons for leaks.
//!
//! Usage: `soak [DURATION]` (as root), DURATION like `10m` (the default), `180s`, `1h` or a
//! number of seconds.
//!
//! One worker thread per node enters the node's network namespace and loops: CPG messages of
//! 64 B and 64 KiB to a group all workers joined, a cmap set of its own key (which its own
//! track reports back), votequorum getinfo, and dispatch of every handle. A killer thread
//! kills one node's daemon (SIGKILL) every minute, round robin, and restarts it 5 s later.
//! The workers on the killed node see their calls fail with an error that
//! `is_disconnected()`, and call `reconnect()` on each handle until the daemon answers again
//! (keeping the handles' closures), then join the group and add their track again.
//!
//! A sampler records, every 5 s, this process's RSS and open fds, and each daemon's RSS. At
//! the end it prints the slopes after warm-up (the first minute); it stops early, printing
//! the last samples and the error with its time, on:
//! - an unexpected error: anything but a lost connection of a handle whose node was killed
//!   since it was opened (`CS_ERR_LIBRARY`), or `TRY_AGAIN` within 30 s of a kill or restart;
//! - a worker that makes no progress for 60 s while its node is up;
//! - a leak: after warm-up, more open fds than at the first sample at which all handles were
//!   open (compared only at such moments); client RSS whose peak rises in every kill period
//!   (at least 3 complete periods, by more than 4 MiB in all: RSS is a sawtooth, since every
//!   reconnect drops the old connections' ring buffers and the new ones are touched page by page
//!   as traffic goes round them); a daemon whose RSS grows by more than 8 MiB over 2 minutes or
//!   more of its life (after its first 30 s).
//!
//! At the end it prints the slopes: the client's RSS over all samples after warm-up and over
//! the peaks of the kill periods, and each daemon's RSS over its life.

use std::fmt::Write as _;
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use corosync::cmap::{Cmap, TrackOptions};
use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::votequorum::Votequorum;
use corosync::{DispatchMode, Error};
use corosync_testcluster::{wait_readable, Cluster, Node};

const NODES: u32 = 3;
const KILL_EVERY: Duration = Duration::from_secs(60);
const DOWN_FOR: Duration = Duration::from_secs(5);
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_secs(60);
/// TRY_AGAIN is expected while the cluster re-forms: this long after a kill or restart.
const SETTLE: Duration = Duration::from_secs(30);
const STALL: Duration = Duration::from_secs(60);
const BIG: usize = 64 * 1024;

/// Wall-clock time as `HH:MM:SS UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// What every thread shares.
struct Shared {
    start: Instant,
    /// Set when the run must end (time is up, or a failure was found).
    stop: AtomicBool,
    /// The first failure: its time and text.
    failure: Mutex<Option<String>>,
    /// Per node (index id-1): how many times its daemon was killed so far.
    kills: [AtomicU64; NODES as usize],
    /// Per node: whether its daemon is up (cleared before a kill, set once restarted).
    up: [AtomicBool; NODES as usize],
    /// Milliseconds since start of the last kill or restart anywhere.
    last_disturbance_ms: AtomicU64,
    /// Per node: milliseconds since start of the worker's last successful round.
    progress_ms: [AtomicU64; NODES as usize],
    /// Per node: whether the worker has all its handles open right now.
    connected: [AtomicBool; NODES as usize],
    /// Counters for the summary.
    delivered: AtomicU64,
    track_events: AtomicU64,
    reconnects: AtomicU64,
    expected_errors: AtomicU64,
}

impl Shared {
    fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Records the first failure and stops the run.
    fn fail(&self, text: String) {
        let mut failure = self.failure.lock().unwrap();
        if failure.is_none() {
            *failure = Some(format!(
                "at {} ({:.1} s into the run): {text}",
                utc_now(),
                self.start.elapsed().as_secs_f64()
            ));
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

// ------------------------------------------------------------------ workers

/// A worker's handles on its node.
struct Handles {
    cpg: Cpg,
    cmap: Cmap,
    votequorum: Votequorum,
    /// The node's kill count when these were opened.
    generation: u64,
}

/// The payload of message `seq` from `node` of `size` bytes, checked on delivery.
fn payload(node: u32, seq: u32, size: usize) -> Vec<u8> {
    let mut data = vec![0u8; size];
    data[..4].copy_from_slice(&node.to_le_bytes());
    data[4..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in data[8..].iter_mut().enumerate() {
        *b = (i as u32 ^ seq) as u8;
    }
    data
}

fn payload_ok(data: &[u8]) -> bool {
    if data.len() != 64 && data.len() != BIG {
        return false;
    }
    let seq = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    data[8..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i as u32 ^ seq) as u8)
}

fn open(node: &Node, shared: &Arc<Shared>, group: &GroupName) -> Result<Handles, Error> {
    let generation = shared.kills[node.id() as usize - 1].load(Ordering::SeqCst);
    let s1 = shared.clone();
    let cpg = Cpg::builder()
        .on_deliver(move |_, msg| {
            if payload_ok(msg.data()) {
                s1.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                s1.fail(format!(
                    "a CPG message from node {} arrived corrupted ({} bytes)",
                    msg.node_id(),
                    msg.data().len()
                ));
            }
        })
        .build()?;
    cpg.join(group)?;
    let cmap = Cmap::new()?;
    let votequorum = Votequorum::new()?;
    Ok(Handles {
        cpg,
        cmap,
        votequorum,
        generation,
    })
}

/// Whether a kill or restart happened less than [`SETTLE`] ago.
fn settling(shared: &Shared) -> bool {
    shared
        .elapsed_ms()
        .saturating_sub(shared.last_disturbance_ms.load(Ordering::SeqCst))
        < SETTLE.as_millis() as u64
}

/// Whether `err`, seen by a handle opened at `generation` on node `id`, is an expected
/// consequence of the kills.
fn expected(shared: &Shared, id: u32, generation: u64, err: &Error) -> bool {
    let killed_since = shared.kills[id as usize - 1].load(Ordering::SeqCst) != generation;
    match err {
        Error::Library { .. } => killed_since,
        Error::TryAgain => settling(shared) || killed_since,
        _ => false,
    }
}

/// Calls `f` until it succeeds, while its failures are what a node coming back gives
/// (`CS_ERR_LIBRARY` while the daemon is down, `TRY_AGAIN` while the cluster re-forms), every
/// 200 ms. Returns `None` if the run stops meanwhile or a failure is unexpected (recorded).
fn until_back<T>(
    shared: &Shared,
    id: u32,
    what: &str,
    mut f: impl FnMut() -> Result<T, Error>,
) -> Option<T> {
    let idx = id as usize - 1;
    loop {
        match f() {
            Ok(value) => return Some(value),
            Err(e) => {
                let down = !shared.up[idx].load(Ordering::SeqCst);
                let transient = e.is_disconnected() || e.is_retryable();
                if !(transient && (down || settling(shared))) {
                    shared.fail(format!("worker {id}: {what} failed: {e:?} ({e})"));
                    return None;
                }
                shared.expected_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        if shared.stopping() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Gives every handle a new connection with `reconnect` (keeping its closures), then joins
/// the group again (the daemon forgot the old connection's membership). Returns false if the
/// run stops meanwhile or something unexpected failed.
fn reconnect(h: &mut Handles, shared: &Shared, id: u32, group: &GroupName) -> bool {
    h.generation = shared.kills[id as usize - 1].load(Ordering::SeqCst);
    let back = until_back(shared, id, "CPG reconnect", || h.cpg.reconnect()).is_some()
        && until_back(shared, id, "cmap reconnect", || h.cmap.reconnect()).is_some()
        && until_back(shared, id, "votequorum reconnect", || {
            h.votequorum.reconnect()
        })
        .is_some()
        && until_back(shared, id, "CPG join after reconnect", || h.cpg.join(group)).is_some();
    if back {
        shared.reconnects.fetch_add(1, Ordering::Relaxed);
    }
    back
}

/// One worker's loop on node `node`.
fn worker(node: &Node, shared: Arc<Shared>) {
    let id = node.id();
    let idx = id as usize - 1;
    if let Err(e) = node.enter_on_current_thread() {
        shared.fail(format!("worker {id}: {e}"));
        return;
    }
    let group = GroupName::new("soak").expect("group name");
    let key = format!("soak.node{id}.counter");
    let small = |seq| payload(id, seq, 64);
    let mut seq = 0u32;
    let Some(mut handles) = until_back(&shared, id, "opening handles", || {
        open(node, &shared, &group)
    }) else {
        return;
    };
    while !shared.stopping() {
        // After a kill of this node the handles' connections are dead: reconnect them.
        if handles.generation != shared.kills[idx].load(Ordering::SeqCst)
            && !reconnect(&mut handles, &shared, id, &group)
        {
            return;
        }
        // The track is added again on every pass (the daemon forgets it with the
        // connection); dropping it on a dead connection frees its closure after finalize.
        let track_events = Arc::new(AtomicU64::new(0));
        let counter = track_events.clone();
        let track = until_back(&shared, id, "cmap track", || {
            let counter = counter.clone();
            handles.cmap.track(&key, TrackOptions::MODIFY, move |_, _| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
        });
        let Some(track) = track else {
            if shared.stopping() || shared.failure.lock().unwrap().is_some() {
                return;
            }
            continue;
        };
        shared.connected[idx].store(true, Ordering::SeqCst);
        let result = rounds(&handles, &shared, id, &key, &mut seq, &small);
        shared.connected[idx].store(false, Ordering::SeqCst);
        shared
            .track_events
            .fetch_add(track_events.load(Ordering::Relaxed), Ordering::Relaxed);
        drop(track);
        if result.is_ok() {
            return; // stopping
        }
    }
}

/// Traffic rounds on open handles until stop (Ok) or an expected error (Err: the caller
/// reconnects if the node was killed, else goes on).
fn rounds(
    h: &Handles,
    shared: &Shared,
    id: u32,
    key: &str,
    seq: &mut u32,
    small: &dyn Fn(u32) -> Vec<u8>,
) -> Result<(), ()> {
    let idx = id as usize - 1;
    let big_template = payload(id, 0, BIG);
    let check = |what: &str, result: Result<(), Error>| -> Result<(), ()> {
        match result {
            Ok(()) => Ok(()),
            Err(e) if expected(shared, id, h.generation, &e) => {
                shared.expected_errors.fetch_add(1, Ordering::Relaxed);
                Err(())
            }
            Err(e) => {
                shared.fail(format!("worker {id}: {what} failed: {e:?} ({e})"));
                Err(())
            }
        }
    };
    while !shared.stopping() {
        *seq = seq.wrapping_add(1);
        let deadline = Some(Instant::now() + Duration::from_secs(5));
        check(
            "CPG send of 64 B",
            h.cpg
                .mcast_retrying(Guarantee::Agreed, &small(*seq), deadline)
                .map(drop),
        )?;
        if *seq & 3 == 0 {
            // Every fourth round.
            // The 64 KiB payload's pattern is for seq 0; keep its header's seq 0 too.
            check(
                "CPG send of 64 KiB",
                h.cpg
                    .mcast_retrying(Guarantee::Agreed, &big_template, deadline)
                    .map(drop),
            )?;
        }
        check("cmap set", h.cmap.set(key, *seq))?;
        check("votequorum getinfo", h.votequorum.info(None).map(drop))?;
        wait_readable(&[h.cpg.as_fd(), h.cmap.as_fd()], Duration::from_millis(20));
        check("CPG dispatch", h.cpg.dispatch(DispatchMode::All).map(drop))?;
        check(
            "cmap dispatch",
            h.cmap.dispatch(DispatchMode::All).map(drop),
        )?;
        shared.progress_ms[idx].store(shared.elapsed_ms(), Ordering::SeqCst);
        // Pace the traffic: a few hundred messages per second per node is plenty for a
        // leak check and leaves the machine's 2 cores to the daemons.
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

// ------------------------------------------------------------------ killer

fn killer(cluster: &Cluster, shared: &Shared) {
    let mut victim = 0u32;
    let mut next = Instant::now() + KILL_EVERY;
    while !shared.stopping() {
        if Instant::now() < next {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        next += KILL_EVERY;
        victim = victim % NODES + 1;
        let idx = victim as usize - 1;
        shared.up[idx].store(false, Ordering::SeqCst);
        shared.kills[idx].fetch_add(1, Ordering::SeqCst);
        shared
            .last_disturbance_ms
            .store(shared.elapsed_ms(), Ordering::SeqCst);
        eprintln!("soak: {} killing node {victim}", utc_now());
        if let Err(e) = cluster.kill(victim) {
            shared.fail(format!("killing node {victim}: {e}"));
            return;
        }
        std::thread::sleep(DOWN_FOR);
        if let Err(e) = cluster.start_node(victim) {
            shared.fail(format!("restarting node {victim}: {e}"));
            return;
        }
        if let Err(e) = cluster.wait_converged(&cluster.ids(), Duration::from_secs(60)) {
            shared.fail(format!("cluster after restarting node {victim}: {e}"));
            return;
        }
        shared
            .last_disturbance_ms
            .store(shared.elapsed_ms(), Ordering::SeqCst);
        shared.up[idx].store(true, Ordering::SeqCst);
        eprintln!("soak: {} node {victim} back", utc_now());
    }
}

// ------------------------------------------------------------------ sampling

fn status_kib(pid: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn fds(pid: &str) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

#[derive(Debug, Clone)]
struct Sample {
    secs: f64,
    rss_kib: u64,
    fds: usize,
    /// Whether every worker had its handles open at this moment.
    all_connected: bool,
    /// (node, pid, RSS KiB) of each running daemon.
    daemons: Vec<(u32, u32, u64)>,
}

impl Sample {
    fn line(&self) -> String {
        let mut s = format!(
            "{:7.1} s  client RSS {:6} KiB  fds {:3}{}  daemons",
            self.secs,
            self.rss_kib,
            self.fds,
            if self.all_connected { " " } else { "*" }
        );
        for (node, pid, rss) in &self.daemons {
            let _ = write!(s, "  n{node}(pid {pid}) {rss} KiB");
        }
        s
    }
}

/// Least-squares slope of `(x, y)` points, per unit of x; None with fewer than 3 points.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The client's RSS samples after warm-up as (minutes, KiB).
fn client_points(samples: &[Sample]) -> Vec<(f64, f64)> {
    samples
        .iter()
        .filter(|s| s.secs >= WARM_UP.as_secs_f64())
        .map(|s| (s.secs / 60.0, s.rss_kib as f64))
        .collect()
}

/// The client's highest RSS in each kill period after warm-up (minute index, KiB). Every
/// reconnect releases the old connections' ring buffers and the new ones are touched page by
/// page as traffic goes round them, so RSS is a sawtooth; a leak shows as rising peaks.
fn client_peaks(samples: &[Sample]) -> Vec<(f64, f64)> {
    let mut peaks: Vec<(f64, f64)> = Vec::new();
    for s in samples.iter().filter(|s| s.secs >= WARM_UP.as_secs_f64()) {
        let period = (s.secs / KILL_EVERY.as_secs_f64()).floor();
        match peaks.last_mut() {
            Some(last) if last.0 == period => last.1 = last.1.max(s.rss_kib as f64),
            _ => peaks.push((period, s.rss_kib as f64)),
        }
    }
    peaks
}

/// Each daemon's RSS over its life after its first 30 s (and after the run's warm-up):
/// (pid, points as (minutes, KiB)).
fn daemon_lives(samples: &[Sample]) -> Vec<(u32, Vec<(f64, f64)>)> {
    let mut pids: Vec<u32> = samples
        .iter()
        .flat_map(|s| s.daemons.iter().map(|d| d.1))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .filter_map(|pid| {
            let life: Vec<(f64, u64)> = samples
                .iter()
                .filter_map(|s| s.daemons.iter().find(|d| d.1 == pid).map(|d| (s.secs, d.2)))
                .collect();
            let born = life.first()?.0;
            let points: Vec<(f64, f64)> = life
                .iter()
                .filter(|p| p.0 >= born + 30.0 && p.0 >= WARM_UP.as_secs_f64())
                .map(|p| (p.0 / 60.0, p.1 as f64))
                .collect();
            Some((pid, points))
        })
        .collect()
}

/// Looks at the samples so far; returns a leak's description if there is one.
fn leak(samples: &[Sample], baseline_fds: Option<usize>) -> Option<String> {
    let last = samples.last()?;
    if let Some(base) = baseline_fds {
        if last.all_connected && last.secs >= WARM_UP.as_secs_f64() && last.fds > base {
            return Some(format!(
                "fd leak: {} fds open with all handles open, {base} at the first such sample",
                last.fds
            ));
        }
    }
    // Client: peaks of the kill periods that keep rising (complete periods only).
    let peaks = client_peaks(samples);
    let complete = &peaks[..peaks.len().saturating_sub(1)];
    if complete.len() >= 3 {
        let rising = complete.windows(2).all(|w| w[1].1 > w[0].1);
        let growth = complete[complete.len() - 1].1 - complete[0].1;
        if rising && growth > 4096.0 {
            return Some(format!(
                "client RSS peaks rise in every period after warm-up, by {growth:.0} KiB: {:?}",
                complete.iter().map(|p| p.1 as u64).collect::<Vec<_>>()
            ));
        }
    }
    // Daemons: more than 8 MiB of growth over at least 2 minutes of one daemon's life
    // (its RSS also jumps a little at every membership change, once a minute here).
    for (pid, points) in daemon_lives(samples) {
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            continue;
        };
        let low = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        if last.0 - first.0 >= 2.0 && last.1 - low > 8192.0 {
            return Some(format!(
                "daemon pid {pid}: RSS grew by {:.0} KiB within {:.1} min",
                last.1 - low,
                last.0 - first.0
            ));
        }
    }
    None
}

fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "10m".to_string());
    let Some(duration) = parse_duration(&arg) else {
        eprintln!("usage: soak [DURATION], DURATION like 10m, 180s, 1h or seconds; not {arg:?}");
        return ExitCode::from(2);
    };
    eprintln!(
        "soak: {} starting a 3-node cluster for {duration:?}",
        utc_now()
    );
    let cluster = match Cluster::start(NODES) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shared = Arc::new(Shared {
        start: Instant::now(),
        stop: AtomicBool::new(false),
        failure: Mutex::new(None),
        kills: Default::default(),
        up: [(); NODES as usize].map(|()| AtomicBool::new(true)),
        last_disturbance_ms: AtomicU64::new(0),
        progress_ms: Default::default(),
        connected: Default::default(),
        delivered: AtomicU64::new(0),
        track_events: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        expected_errors: AtomicU64::new(0),
    });
    let mut samples: Vec<Sample> = Vec::new();
    std::thread::scope(|scope| {
        for node in cluster.nodes() {
            let shared = shared.clone();
            scope.spawn(move || worker(node, shared));
        }
        scope.spawn(|| killer(&cluster, &shared));
        let mut baseline_fds = None;
        let mut next = Instant::now();
        while !shared.stopping() {
            if shared.start.elapsed() >= duration {
                shared.stop.store(true, Ordering::SeqCst);
                break;
            }
            if Instant::now() < next {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            next += SAMPLE_EVERY;
            let all_connected = shared.connected.iter().all(|c| c.load(Ordering::SeqCst));
            let sample = Sample {
                secs: shared.start.elapsed().as_secs_f64(),
                rss_kib: status_kib("self", "VmRSS:").unwrap_or(0),
                fds: fds("self").unwrap_or(0),
                all_connected,
                daemons: cluster
                    .nodes()
                    .iter()
                    .filter_map(|n| {
                        let pid = n.pid()?;
                        Some((n.id(), pid, status_kib(&pid.to_string(), "VmRSS:")?))
                    })
                    .collect(),
            };
            eprintln!("soak: {}", sample.line());
            if all_connected && baseline_fds.is_none() {
                baseline_fds = Some(sample.fds);
            }
            samples.push(sample);
            if let Some(text) = leak(&samples, baseline_fds) {
                shared.fail(text);
            }
            // A worker that is up but has not finished a round for a minute is stuck.
            let now_ms = shared.elapsed_ms();
            for (i, p) in shared.progress_ms.iter().enumerate() {
                let since = now_ms.saturating_sub(p.load(Ordering::SeqCst));
                if shared.up[i].load(Ordering::SeqCst) && since > STALL.as_millis() as u64 {
                    shared.fail(format!(
                        "worker {} made no progress for {:.0} s while its node was up",
                        i + 1,
                        since as f64 / 1000.0
                    ));
                }
            }
        }
    });
    drop(cluster);

    eprintln!(
        "soak: {} samples; {} CPG deliveries, {} cmap track events, {} reconnects, {} expected \
         errors (lost connections, TRY_AGAIN while re-forming)",
        samples.len(),
        shared.delivered.load(Ordering::Relaxed),
        shared.track_events.load(Ordering::Relaxed),
        shared.reconnects.load(Ordering::Relaxed),
        shared.expected_errors.load(Ordering::Relaxed)
    );
    let fds_connected: Vec<usize> = samples
        .iter()
        .filter(|s| s.all_connected)
        .map(|s| s.fds)
        .collect();
    let per_min =
        |k: Option<f64>| k.map_or("n/a (run too short)".into(), |k| format!("{k:+.1} KiB/min"));
    let peaks = client_peaks(&samples);
    eprintln!(
        "soak: client RSS slope after warm-up: {} (all samples), {} (peak of each kill period: \
         {:?} KiB); fds with all handles open: min {:?} max {:?}",
        per_min(slope(&client_points(&samples))),
        per_min(slope(&peaks)),
        peaks.iter().map(|p| p.1 as u64).collect::<Vec<_>>(),
        fds_connected.iter().min(),
        fds_connected.iter().max()
    );
    for (pid, points) in daemon_lives(&samples) {
        if let Some(k) = slope(&points) {
            eprintln!(
                "soak: daemon pid {pid}: RSS slope {k:+.1} KiB/min over {:.1} min after its first 30 s",
                points.last().map_or(0.0, |l| l.0) - points[0].0
            );
        }
    }
    let failure = shared.failure.lock().unwrap().clone();
    match failure {
        None => {
            eprintln!("soak: OK");
            ExitCode::SUCCESS
        }
        Some(text) => {
            eprintln!("soak: FAILED {text}");
            eprintln!("soak: last samples (* = not every worker connected):");
            for s in samples.iter().rev().take(12).rev() {
                eprintln!("soak:   {}", s.line());
            }
            ExitCode::FAILURE
        }
    }
}
