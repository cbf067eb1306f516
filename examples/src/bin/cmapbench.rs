//! `cmapbench`: the cost of the safe cmap API against raw libcmap calls, in one run.
//!
//! Needs a corosync daemon reachable from the current network namespace (run it as root on
//! a cluster node, or inside a node's namespace with `ip netns exec NS cmapbench`). It
//! creates and finally deletes keys under `cmapbench.`.
//!
//! ```text
//! cmapbench [--iterations N] [--full F] [--quick]
//! ```
//!
//! For each operation (get a `u32`, set a `u32`: `N` of each per side, default 20000; a full
//! iteration reading every value: `F` per side, default 100, once with borrowed names and
//! values and once keeping a copy of each, on the raw side too) it alternates batches of the
//! safe call and of the raw C call, and prints the median time per operation of each and
//! their ratio, with the CPU time of the benchmark's thread per operation. It also times the
//! dispatch of queued track events (`dispatch(All)` with a closure against
//! `cmap_dispatch(CS_DISPATCH_ALL)` with a C callback), and runs raw against raw as the
//! noise floor. `--quick` is a smoke run (200 and 3). It then counts, with a counting global allocator, the
//! heap allocations the safe layer makes per call (libcmap's own `malloc`s are not Rust
//! allocations and are not counted), including per track notification.
//!
//! The raw calls are declared here with the same C signatures corosync-sys binds (this
//! package may depend only on `corosync` and `libc`); they link to the same libcmap.

use std::ffi::{c_char, c_void, CStr};
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "../alloc_counter.rs"]
mod alloc_counter;

use corosync::cmap::{Cmap, Track, TrackOptions, ValueRef, KEY_NAME_MAX_LEN};
use corosync::DispatchMode;
use corosync_examples::bench::{thread_cpu, Paired};
use corosync_examples::main_skeleton::{number, run_main};

/// The raw libcmap functions the comparison calls, from the generated bindings.
use corosync_sys as raw;

/// A raw libcmap handle, finalized on drop.
struct RawCmap(u64);

impl RawCmap {
    /// Connects; a failure is printed with its cs_error_t and reported as a library error.
    fn new() -> corosync::Result<RawCmap> {
        let mut handle = 0;
        // SAFETY: `handle` is writable.
        match unsafe { raw::cmap_initialize(&mut handle) } {
            raw::CS_OK => Ok(RawCmap(handle)),
            code => {
                eprintln!("cmap_initialize failed with cs_error_t {code}");
                Err(corosync::Error::Library { errno: 0 })
            }
        }
    }

    fn get_u32(&self, key: &CStr) -> u32 {
        let mut value = 0;
        // SAFETY: live handle, NUL-terminated key, writable value.
        let code = unsafe { raw::cmap_get_uint32(self.0, key.as_ptr(), &mut value) };
        assert_eq!(code, raw::CS_OK, "cmap_get_uint32");
        value
    }

    fn set_u32(&self, key: &CStr, value: u32) {
        // SAFETY: live handle, NUL-terminated key.
        let code = unsafe { raw::cmap_set_uint32(self.0, key.as_ptr(), value) };
        assert_eq!(code, raw::CS_OK, "cmap_set_uint32");
    }

    /// Iterates over every key and reads each value into a stack buffer, passing `each` the
    /// NUL-terminated name, the value's type and its bytes; returns the number of keys.
    #[inline(always)]
    fn visit_all(&self, mut each: impl FnMut(&[c_char; 257], u32, &[u8])) -> usize {
        let mut iter = 0;
        // SAFETY: live handle, NUL-terminated prefix, writable iterator handle.
        let code = unsafe { raw::cmap_iter_init(self.0, c"".as_ptr(), &mut iter) };
        assert_eq!(code, raw::CS_OK, "cmap_iter_init");
        let mut keys = 0;
        let mut name = [0 as c_char; 257];
        let mut value = [0u8; 256];
        loop {
            let (mut len, mut value_type) = (0usize, 0u32);
            // SAFETY: live handle and iteration; `name` holds the longest name and its NUL.
            let code = unsafe {
                raw::cmap_iter_next(self.0, iter, name.as_mut_ptr(), &mut len, &mut value_type)
            };
            if code != raw::CS_OK {
                break;
            }
            let mut len = value.len();
            // SAFETY: `name` is NUL-terminated by cmap_iter_next and `value` has `len`
            // writable bytes (the daemon refuses, rather than copies, a longer value).
            let code = unsafe {
                raw::cmap_get(
                    self.0,
                    name.as_ptr(),
                    value.as_mut_ptr().cast::<c_void>(),
                    &mut len,
                    &mut value_type,
                )
            };
            if code == raw::CS_OK {
                each(&name, value_type, &value[..len.min(value.len())]);
            }
            keys += 1;
        }
        // SAFETY: live handle and iteration, finalized once.
        unsafe { raw::cmap_iter_finalize(self.0, iter) };
        keys
    }

    /// Reads every key's value and looks at nothing else: the counterpart of `next_value`,
    /// which lends the name and value. Never inlined, as the safe [`read_all`] is not, so
    /// that callgrind counts each apart.
    #[inline(never)]
    fn read_all(&self) -> usize {
        self.visit_all(|_, value_type, value| {
            black_box((value_type, value));
        })
    }

    /// Reads every key's value and keeps a copy of its name and value, as `iter_values` does
    /// and as a C program that collects the keys would: the name measured (`strlen`) and
    /// copied into a fixed array, a string or binary value into a heap copy. Never inlined,
    /// as the safe [`read_all_owned`] is not.
    #[inline(never)]
    fn read_all_owned(&self) -> usize {
        self.visit_all(|name, value_type, value| {
            // SAFETY: cmap_iter_next left a NUL-terminated name in `name`.
            let len = unsafe { libc::strlen(name.as_ptr()) }.min(KEY_NAME_MAX_LEN);
            let mut key = [0u8; KEY_NAME_MAX_LEN];
            for (dst, &src) in key[..len].iter_mut().zip(name) {
                *dst = src as u8;
            }
            let heap = match value_type {
                raw::CMAP_VALUETYPE_STRING | raw::CMAP_VALUETYPE_BINARY => Some(value.to_vec()),
                _ => None,
            };
            black_box((key, len, value_type, value, heap));
        })
    }
}

/// Reads every key's value with [`Iter::next_value`](corosync::cmap::Iter::next_value),
/// borrowed; returns the number of keys. Never inlined, so that callgrind counts it apart.
#[inline(never)]
fn read_all(cmap: &Cmap) -> usize {
    let mut keys = 0;
    let mut iter = cmap.iter("").expect("cmap_iter_init");
    while let Some(entry) = iter.next_value() {
        black_box(entry.expect("next_value"));
        keys += 1;
    }
    keys
}

/// Reads every key's value with [`Cmap::iter_values`], as owned copies, and drops them;
/// returns the number of keys. Never inlined, so that callgrind counts it apart.
#[inline(never)]
fn read_all_owned(cmap: &Cmap) -> usize {
    let mut keys = 0;
    for entry in cmap.iter_values("").expect("cmap_iter_init") {
        black_box(entry.expect("iter_values"));
        keys += 1;
    }
    keys
}

/// The raw track callback: counts the event and reads its new value, as the safe closure
/// does. `user_data` is the counter.
unsafe extern "C" fn raw_notify(
    _handle: u64,
    _track: u64,
    _event: i32,
    _key: *const c_char,
    new_value: raw::cmap_notify_value,
    _old_value: raw::cmap_notify_value,
    user_data: *mut c_void,
) {
    if new_value.type_ == raw::CMAP_VALUETYPE_UINT32 && new_value.len == 4 {
        // SAFETY: libcmap passes `len` bytes at `data`, valid for the callback.
        black_box(unsafe { new_value.data.cast::<u32>().read_unaligned() });
    }
    // SAFETY: `user_data` is the AtomicUsize that `track_events` keeps alive while tracking.
    unsafe { &*user_data.cast::<AtomicUsize>() }.fetch_add(1, Ordering::Relaxed);
}

impl RawCmap {
    /// Tracks changes of `key`, counting them in `seen`; returns the track handle.
    fn track(&self, key: &CStr, seen: &AtomicUsize) -> u64 {
        let mut track = 0;
        // SAFETY: live handle, NUL-terminated key; `seen` outlives the track (the caller
        // deletes it first); `track` is writable.
        let code = unsafe {
            raw::cmap_track_add(
                self.0,
                key.as_ptr(),
                raw::CMAP_TRACK_MODIFY as i32,
                Some(raw_notify),
                (seen as *const AtomicUsize).cast_mut().cast(),
                &mut track,
            )
        };
        assert_eq!(code, raw::CS_OK, "cmap_track_add");
        track
    }

    fn dispatch_all(&self) {
        // SAFETY: live handle.
        let code = unsafe { raw::cmap_dispatch(self.0, raw::CS_DISPATCH_ALL) };
        assert_eq!(code, raw::CS_OK, "cmap_dispatch");
    }

    fn track_delete(&self, track: u64) {
        // SAFETY: live handle, a track of it, deleted once.
        let code = unsafe { raw::cmap_track_delete(self.0, track) };
        assert_eq!(code, raw::CS_OK, "cmap_track_delete");
    }
}

impl Drop for RawCmap {
    fn drop(&mut self) {
        // SAFETY: finalized once, here.
        unsafe { raw::cmap_finalize(self.0) };
    }
}

/// What [`compare`] measured, batch by batch: wall time and thread CPU time per operation
/// of each side, in µs.
struct Measured {
    wall: Paired,
    cpu: Paired,
}

impl Measured {
    /// For batches that alternate which side goes first.
    fn alternating() -> Self {
        Measured {
            wall: Paired::in_turns(2),
            cpu: Paired::in_turns(2),
        }
    }

    /// Records one pair of batches of `operations` operations each: (wall, CPU) of each side.
    fn push(&mut self, safe: (Duration, Duration), raw: (Duration, Duration), operations: usize) {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / operations as f64;
        self.wall.push(us(safe.0), us(raw.0));
        self.cpu.push(us(safe.1), us(raw.1));
    }
}

/// Runs `f` and returns its (wall, thread CPU) time.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (cpu, start) = (thread_cpu(), Instant::now());
    f();
    (start.elapsed(), thread_cpu() - cpu)
}

/// Wall and CPU time per operation of the safe and the raw side, over `batches` batches of
/// `per_batch` operations each. The sides alternate batch by batch (in turns, which side
/// goes first), so that load from other processes and drift in the daemon hit both alike.
fn compare(
    batches: usize,
    per_batch: usize,
    mut safe: impl FnMut(usize),
    mut raw: impl FnMut(usize),
) -> Measured {
    let mut measured = Measured::alternating();
    for batch in 0..batches {
        let run = |f: &mut dyn FnMut(usize)| {
            timed(|| {
                for i in 0..per_batch {
                    f(batch * per_batch + i);
                }
            })
        };
        let (s, r) = if batch % 2 == 0 {
            let s = run(&mut safe);
            (s, run(&mut raw))
        } else {
            let r = run(&mut raw);
            (run(&mut safe), r)
        };
        measured.push(s, r, per_batch);
    }
    measured
}

/// Tracks changes of `key` with a closure that reads the new value and counts the events.
fn counting_track<'a>(
    cmap: &'a Cmap,
    key: &str,
) -> corosync::Result<(Track<'a>, std::sync::Arc<AtomicUsize>)> {
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let track = cmap.track(key, TrackOptions::MODIFY, move |_, event| {
        if let Some(ValueRef::U32(v)) = event.new_value() {
            black_box(v);
        }
        counter.fetch_add(1, Ordering::Relaxed);
    })?;
    Ok((track, seen))
}

/// Events per batch of the track measurement: few enough that the connection's event ring
/// holds them all (at 500, the daemon kept the rest back and refilled the ring while the
/// dispatch ran, which put its work into the measurement).
const TRACK_BATCH: usize = 100;

/// CPU per track event of dispatching events already queued: a third connection sets `key`
/// `TRACK_BATCH` times, both tracking connections receive every change, and then the safe
/// handle's `dispatch(All)` (a closure per event) and the raw handle's
/// `cmap_dispatch(CS_DISPATCH_ALL)` (a C callback per event) each deliver theirs, nothing
/// waited for or sent inside the timed calls; `batches` batches, the order alternating.
/// The wall-time columns of this row are per event too.
fn track_events(
    cmap: &Cmap,
    raw: &RawCmap,
    c_key: &CStr,
    key: &str,
    batches: usize,
) -> corosync::Result<Measured> {
    let writer = RawCmap::new()?;
    let (track, safe_seen) = counting_track(cmap, key)?;
    let raw_seen = AtomicUsize::new(0);
    let raw_track = raw.track(c_key, &raw_seen);
    let mut measured = Measured::alternating();
    let base = writer.get_u32(c_key);
    for batch in 0..batches {
        for i in 0..TRACK_BATCH {
            writer.set_u32(
                c_key,
                base.wrapping_add((batch * TRACK_BATCH + i) as u32 + 1),
            );
        }
        // The daemon sends each event while it handles the `set`; this is a margin.
        std::thread::sleep(Duration::from_millis(20));
        let expected = (batch + 1) * TRACK_BATCH;
        let dispatch = |safe: bool| {
            let time = if safe {
                timed(|| {
                    cmap.dispatch(DispatchMode::All)
                        .map(drop)
                        .expect("dispatch")
                })
            } else {
                timed(|| raw.dispatch_all())
            };
            let seen = if safe { &*safe_seen } else { &raw_seen };
            assert_eq!(
                seen.load(Ordering::Relaxed),
                expected,
                "events queued before the dispatch"
            );
            time
        };
        let (s, r) = if batch % 2 == 0 {
            let s = dispatch(true);
            (s, dispatch(false))
        } else {
            let r = dispatch(false);
            (dispatch(true), r)
        };
        measured.push(s, r, TRACK_BATCH);
    }
    raw.track_delete(raw_track);
    track.delete()?;
    Ok(measured)
}

/// Heap allocations per call of `f`, over `calls` calls.
fn allocations_per_call(calls: usize, mut f: impl FnMut(usize)) -> f64 {
    let before = alloc_counter::allocations();
    for i in 0..calls {
        f(i);
    }
    (alloc_counter::allocations() - before) as f64 / calls as f64
}

/// Prints one row of the table (medians over batches; the difference is the median over
/// pairs of batches, one with each side first, of their mean difference) and returns its
/// CPU safe − raw in µs.
fn row(name: &str, m: Measured) -> f64 {
    let (safe, raw) = (m.wall.safe(), m.wall.raw());
    println!(
        "| {name} | {safe:.2} | {raw:.2} | {:.3} | {:.3} | {:.3} | {:+.3} |",
        safe / raw,
        m.cpu.safe(),
        m.cpu.raw(),
        m.cpu.difference(),
    );
    m.cpu.difference()
}

/// Operations per timed batch of the single-key operations.
const BATCH: usize = 100;

fn run(iterations: usize, full: usize) -> corosync::Result<()> {
    let cmap = Cmap::new()?;
    let raw = RawCmap::new()?;
    let key = "cmapbench.u32";
    let c_key = c"cmapbench.u32";
    cmap.set(key, 0u32)?;
    cmap.set("cmapbench.text", "a short string value")?;
    let keys = cmap.iter("")?.count();

    let batches = (iterations / BATCH).max(1);
    println!(
        "cmapbench: get/set: {batches} batches of {BATCH} per side; full iteration: {full} \
         per side; sides alternating batch by batch, taking turns at going first; per \
         operation, the median over batches, and for CPU safe − raw the median over pairs of \
         batches (one with each side first) of their mean difference"
    );
    println!(
        "(corosync {}, {keys} keys in the map)\n",
        corosync::COROSYNC_VERSION
    );
    println!(
        "| operation | safe API (µs) | raw libcmap (µs) | safe / raw | safe CPU (µs) | \
         raw CPU (µs) | CPU safe − raw (µs) |"
    );
    println!("|---|---|---|---|---|---|---|");
    row(
        "get u32",
        compare(
            batches,
            BATCH,
            |_| {
                black_box(cmap.get::<u32>(black_box(key)).unwrap());
            },
            |_| {
                black_box(raw.get_u32(black_box(c_key)));
            },
        ),
    );
    row(
        "set u32 (a new value each time)",
        compare(
            batches,
            BATCH,
            |i| cmap.set(black_box(key), i as u32).unwrap(),
            |i| raw.set_u32(black_box(c_key), i as u32 + 1),
        ),
    );
    let owned = row(
        &format!(
            "full iteration keeping copies ({keys} keys; safe: iter_values; raw: strlen + copies)"
        ),
        compare(
            full,
            1,
            |_| assert_eq!(read_all_owned(&cmap), keys),
            |_| assert_eq!(raw.read_all_owned(), keys),
        ),
    );
    let borrowed = row(
        &format!("full iteration with values ({keys} keys; safe: next_value, borrowed)"),
        compare(
            full,
            1,
            |_| assert_eq!(read_all(&cmap), keys),
            |_| assert_eq!(raw.read_all(), keys),
        ),
    );

    let track_row = track_events(&cmap, &raw, c_key, key, if full < 100 { 4 } else { 200 })?;
    row(
        "track event, dispatching queued ones (safe: dispatch(All) + closure; raw: CS_DISPATCH_ALL + callback)",
        track_row,
    );

    // The same alternation with raw calls on both sides (a second libcmap connection in the
    // safe column): how far apart two identical sides land, the floor under the rows above.
    let raw2 = RawCmap::new()?;
    row(
        "noise floor: get u32, raw against raw (second connection)",
        compare(
            batches,
            BATCH,
            |_| {
                black_box(raw2.get_u32(black_box(c_key)));
            },
            |_| {
                black_box(raw.get_u32(black_box(c_key)));
            },
        ),
    );
    let floor = row(
        &format!("noise floor: full iteration ({keys} keys), raw against raw"),
        compare(
            full,
            1,
            |_| assert_eq!(raw2.read_all(), keys),
            |_| assert_eq!(raw.read_all(), keys),
        ),
    );
    let per_key = |total: f64| total / keys as f64;
    println!(
        "\nCPU safe − raw per key of a full iteration (two requests): next_value {:+.3} µs, \
         iter_values {:+.3} µs; raw against raw {:+.3} µs",
        per_key(borrowed),
        per_key(owned),
        per_key(floor),
    );

    // Allocations made by the safe layer.
    let calls = iterations.clamp(100, 1000);
    println!("\n| safe call | heap allocations per call |");
    println!("|---|---|");
    let alloc_row = |name: &str, n: f64| println!("| {name} | {n} |");
    alloc_row(
        "`get::<u32>`",
        allocations_per_call(calls, |_| {
            black_box(cmap.get::<u32>(key).unwrap());
        }),
    );
    alloc_row(
        "`set(key, u32)`",
        allocations_per_call(calls, |i| cmap.set(key, i as u32).unwrap()),
    );
    alloc_row(
        "`set(key, &str)`",
        allocations_per_call(calls, |_| {
            cmap.set("cmapbench.text", "another short value").unwrap()
        }),
    );
    alloc_row(
        "`with_value` (string)",
        allocations_per_call(calls, |_| {
            cmap.with_value("cmapbench.text", |v| {
                black_box(v == ValueRef::String(b"x"));
            })
            .unwrap()
        }),
    );
    alloc_row(
        "`get::<String>` (the returned String)",
        allocations_per_call(calls, |_| {
            black_box(cmap.get::<String>("cmapbench.text").unwrap());
        }),
    );
    alloc_row(
        "`next_value` step (key name and value, borrowed)",
        allocations_per_call(1, |_| {
            let mut iter = cmap.iter("").unwrap();
            while let Some(entry) = iter.next_value() {
                black_box(entry.unwrap());
            }
        }) / keys as f64,
    );
    alloc_row(
        "`iter` step (key name, type, length)",
        allocations_per_call(1, |_| {
            black_box(cmap.iter("").unwrap().count());
        }) / keys as f64,
    );

    // Track notifications: changes made through the raw handle (no Rust allocation), then
    // dispatched to a closure that only counts.
    let (track, seen) = counting_track(&cmap, key)?;
    let base = raw.get_u32(c_key);
    for i in 0..calls {
        raw.set_u32(c_key, base.wrapping_add(i as u32 + 1));
    }
    let before = alloc_counter::allocations();
    while seen.load(Ordering::Relaxed) < calls {
        cmap.dispatch(DispatchMode::One)?;
    }
    let per_event = (alloc_counter::allocations() - before) as f64 / calls as f64;
    alloc_row("track notification (dispatch + closure)", per_event);
    track.delete()?;

    cmap.delete(key)?;
    cmap.delete("cmapbench.text")?;
    Ok(())
}

const USAGE: &str = "usage: cmapbench [--iterations N] [--full F] [--quick]";

/// The options as (iterations, full iterations), or `None` for `--help`.
fn parse_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Option<(usize, usize)>, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut iterations, mut full) = (20_000, 100);
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("iterations") => iterations = positive(&mut parser, "--iterations")?,
            Long("full") => full = positive(&mut parser, "--full")?,
            Long("quick") => (iterations, full) = (200, 3),
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some((iterations, full)))
}

/// The value of `option` as a number above zero.
fn positive(parser: &mut lexopt::Parser, option: &str) -> Result<usize, lexopt::Error> {
    match number(parser, option)? {
        0 => Err(format!("{option} needs a positive number").into()),
        n => Ok(n),
    }
}

fn main() -> ExitCode {
    run_main("cmapbench", || -> Result<(), Box<dyn std::error::Error>> {
        match parse_args(std::env::args_os().skip(1)) {
            Ok(Some((iterations, full))) => Ok(run(iterations, full)?),
            Ok(None) => {
                println!("{USAGE}");
                Ok(())
            }
            Err(err) => Err(format!("{err}\n{USAGE}").into()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<(usize, usize)>, lexopt::Error> {
        parse_args(args.iter().map(Into::into))
    }

    #[test]
    fn options() {
        assert_eq!(parse(&[]).unwrap(), Some((20_000, 100)));
        assert_eq!(parse(&["--quick"]).unwrap(), Some((200, 3)));
        assert_eq!(
            parse(&["--iterations", "5", "--full=2"]).unwrap(),
            Some((5, 2))
        );
        assert_eq!(parse(&["-h"]).unwrap(), None);
        for bad in [
            &["--full", "0"][..],
            &["--full"],
            &["--iterations", "x"],
            &["-q"],
            &["x"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
