//! A mixed workload over all five libraries for the valgrind run of `tests/tests/leaks.rs`.
//!
//! Run inside a node's network namespace. It works in three phases, and between them prints a
//! line and waits for one on stdin, so that the test can kill and restart the daemon:
//! 1. a normal workload (every library; cmap tracks deleted, dropped, forgotten and left
//!    registered when their handle drops), then handles of every library kept open with
//!    registered callbacks; prints `kill`, waits for a line;
//! 2. the daemon is gone: every kept handle is used (each call must fail with an error, none
//!    may hang or crash), its tracks are dropped (their delete fails) and it is dropped;
//!    opening a new handle fails; prints `restart`, waits for a line;
//! 3. the normal workload again on the restarted daemon; prints `done` and exits 0.
//!
//! Any unexpected result makes it exit with status 1 and a message on stderr.

use std::io::BufRead;
use std::process::ExitCode;

use corosync::cfg::Cfg;
use corosync::cmap::{Cmap, Map, TrackOptions};
use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::quorum::Quorum;
use corosync::votequorum::Votequorum;
use corosync::{DispatchMode, TrackFlags};

type Outcome = Result<(), String>;

fn check<T, E: std::fmt::Debug>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|e| format!("{what}: {e:?}"))
}

fn fails<T: std::fmt::Debug, E>(what: &str, result: Result<T, E>) -> Outcome {
    match result {
        Ok(value) => Err(format!("{what} succeeded on a dead daemon: {value:?}")),
        Err(_) => Ok(()),
    }
}

/// One round of normal use of every library.
fn workload(round: u32) -> Outcome {
    let cmap = check("cmap open", Cmap::new())?;
    let key = format!("leakcheck.r{round}.text");
    check("set", cmap.set(&key, "x".repeat(300).as_str()))?;
    check("get string", cmap.get::<String>(&key))?;
    check("set blob", cmap.set("leakcheck.blob", vec![1u8; 4000]))?;
    check("get blob", cmap.get::<Vec<u8>>("leakcheck.blob"))?;
    check("info", cmap.info("totem.token"))?;
    check("u32", cmap.get::<u32>("totem.token"))?;
    let listed = check("iter", cmap.iter_values("totem."))?.count();
    if listed == 0 {
        return Err("no totem keys".into());
    }
    let deleted = check(
        "track",
        cmap.track("leakcheck.", TrackOptions::all(), |_, _| {}),
    )?;
    let dropped = check(
        "track",
        cmap.track("leakcheck.", TrackOptions::all(), |_, e| {
            let _ = e.key().len();
        }),
    )?;
    let forgotten = check(
        "track",
        cmap.track(&key, TrackOptions::MODIFY, move |_, _| {
            let _ = round;
        }),
    )?;
    check("set", cmap.set(&key, "changed"))?;
    check("dispatch", cmap.dispatch(DispatchMode::All))?;
    check("delete track", deleted.delete())?;
    drop(dropped);
    std::mem::forget(forgotten);
    drop(cmap);

    let stats = check("stats open", Cmap::with_map(Map::Stats))?;
    check("stats", stats.get::<u64>("stats.srp.orf_token_rx"))?;
    drop(stats);

    let group = check("group", GroupName::new(format!("leak{round}")))?;
    let cpg = check(
        "cpg open",
        Cpg::builder()
            .on_deliver(|_, m| {
                let _ = m.data().len();
            })
            .on_confchg(|_, c| {
                let _ = c.members().len();
            })
            .build(),
    )?;
    check("join", cpg.join(&group))?;
    check("mcast", cpg.mcast(Guarantee::Agreed, &[7u8; 2000]))?;
    let mut zc = check("zcb", cpg.zcb_alloc(4096))?;
    zc.fill(3);
    check("zcb mcast", zc.mcast(Guarantee::Agreed))?;
    drop(zc);
    check("membership", cpg.membership(&group))?;
    check("dispatch", cpg.dispatch(DispatchMode::All))?;
    drop(cpg);

    let quorum = check(
        "quorum open",
        Quorum::builder()
            .on_quorum(|_, n| {
                let _ = n.members().len();
            })
            .build(),
    )?;
    check("quorate", quorum.is_quorate())?;
    check("track", quorum.track_start(TrackFlags::CHANGES))?;
    check("dispatch", quorum.dispatch(DispatchMode::All))?;
    drop(quorum);

    let vq = check("votequorum open", Votequorum::new())?;
    check("info", vq.info(None))?;
    check("track", vq.track_start(1, TrackFlags::CHANGES))?;
    check("dispatch", vq.dispatch(DispatchMode::All))?;
    drop(vq);

    let cfg = check("cfg open", Cfg::builder().on_shutdown(|_, _| {}).build())?;
    check("local node id", cfg.local_node_id())?;
    drop(cfg);
    Ok(())
}

fn wait_for_line(tell: &str) -> Outcome {
    println!("{tell}");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("stdin: {e}"))?;
    Ok(())
}

fn run() -> Outcome {
    for round in 0..3 {
        workload(round)?;
    }

    // Handles kept over the daemon's death, with callbacks registered.
    let cmap = check("cmap open", Cmap::new())?;
    let track = check(
        "track",
        cmap.track("leakcheck.", TrackOptions::all(), |_, _| {}),
    )?;
    let forgotten = check(
        "track",
        cmap.track("totem.token", TrackOptions::MODIFY, |_, _| {}),
    )?;
    std::mem::forget(forgotten);
    let group = check("group", GroupName::new("leak-dead"))?;
    let cpg = check(
        "cpg open",
        Cpg::builder()
            .on_deliver(|_, m| {
                let _ = m.data().len();
            })
            .build(),
    )?;
    check("join", cpg.join(&group))?;
    let quorum = check(
        "quorum open",
        Quorum::new_v0(|_, n| {
            let _ = n.is_quorate();
        }),
    )?;
    check("track", quorum.track_start(TrackFlags::CHANGES))?;
    let vq = check("votequorum open", Votequorum::new())?;
    check("track", vq.track_start(2, TrackFlags::CHANGES))?;
    let cfg = check("cfg open", Cfg::builder().on_shutdown(|_, _| {}).build())?;

    wait_for_line("kill")?;

    fails("cmap get", cmap.get::<u32>("totem.token"))?;
    fails("cmap get string", cmap.get::<String>("totem.cluster_name"))?;
    fails("cmap dispatch", cmap.dispatch(DispatchMode::All))?;
    fails("track delete", track.delete())?;
    fails(
        "track add",
        cmap.track("leakcheck.", TrackOptions::all(), |_, _| {}),
    )?;
    drop(cmap);
    fails("cpg mcast", cpg.mcast(Guarantee::Agreed, b"x"))?;
    fails("cpg dispatch", cpg.dispatch(DispatchMode::All))?;
    drop(cpg);
    fails("quorum", quorum.is_quorate())?;
    fails("quorum dispatch", quorum.dispatch(DispatchMode::All))?;
    drop(quorum);
    fails("votequorum", vq.info(None))?;
    drop(vq);
    fails("cfg", cfg.local_node_id())?;
    drop(cfg);
    fails("cmap open", Cmap::new())?;
    fails("cpg open", Cpg::new())?;

    wait_for_line("restart")?;

    for round in 3..5 {
        workload(round)?;
    }
    println!("done");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("leakcheck: {message}");
            ExitCode::FAILURE
        }
    }
}
