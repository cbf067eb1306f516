//! Opening handles from many threads at once (issue 9, item 8).
//!
//! libqb's handle databases are not safe for concurrent creates (see docs/upstream-notes.md):
//! without the crate's per-library lock, `*_initialize` calls running at the same time in
//! several threads failed with `CS_ERR_LIBRARY`. 16 threads open, use and drop handles of all
//! five libraries (and cmap tracks and CPG iterations, which live in handle databases too)
//! against one daemon, and not one call may fail.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use corosync::cfg::Cfg;
use corosync::cmap::{Cmap, TrackOptions};
use corosync::cpg::Cpg;
use corosync::quorum::Quorum;
use corosync::votequorum::Votequorum;
use corosync_testcluster::Cluster;

const THREADS: usize = 16;
const CYCLES: usize = 125;

/// One cycle: every library opened, used once and dropped.
fn cycle() -> Result<(), String> {
    let fail = |what: &str| {
        let what = what.to_owned();
        move |e: corosync::Error| format!("{what}: {e}")
    };
    // The five initializes back to back, so that threads overlap in them as much as possible.
    let cmap = Cmap::new().map_err(fail("cmap open"))?;
    let cpg = Cpg::new().map_err(fail("cpg open"))?;
    let quorum = Quorum::new().map_err(fail("quorum open"))?;
    let vq = Votequorum::new().map_err(fail("votequorum open"))?;
    let cfg = Cfg::new().map_err(fail("cfg open"))?;
    let track = cmap
        .track("concurrent.", TrackOptions::all(), |_, _| {})
        .map_err(fail("cmap track"))?;
    cmap.get::<u32>("totem.token").map_err(fail("cmap get"))?;
    cpg.local_node_id().map_err(fail("cpg local"))?;
    cpg.iter_groups().map_err(fail("cpg iteration"))?.count();
    quorum.is_quorate().map_err(fail("quorum"))?;
    vq.info(None).map_err(fail("votequorum info"))?;
    cfg.local_node_id().map_err(fail("cfg local"))?;
    track.delete().map_err(fail("cmap track delete"))?;
    cmap.finalize().map_err(fail("cmap finalize"))?;
    cpg.finalize().map_err(fail("cpg finalize"))?;
    quorum.finalize().map_err(fail("quorum finalize"))?;
    vq.finalize().map_err(fail("votequorum finalize"))?;
    cfg.finalize().map_err(fail("cfg finalize"))?;
    Ok(())
}

#[test]
fn sixteen_threads_open_and_drop_handles_of_every_library_without_a_failure() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let start = Barrier::new(THREADS);
    let done = AtomicUsize::new(0);
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                node.enter_on_current_thread().expect("enter the namespace");
                start.wait();
                for _ in 0..CYCLES {
                    match cycle() {
                        Ok(()) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(e),
                    }
                }
            });
        }
    });
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cycles failed, first ones: {:?}",
        failures.len(),
        THREADS * CYCLES,
        &failures[..failures.len().min(10)]
    );
    assert_eq!(done.load(Ordering::Relaxed), THREADS * CYCLES);
    assert!(node.is_running());
}
