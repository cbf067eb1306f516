//! One cluster shared by several tests of a file: started by the first test that asks for it,
//! used by the others while it runs (tests are threads of one process), and removed when the
//! test process exits.
//!
//! A `static` is never dropped, so [`SharedCluster`] registers a `libc::atexit` handler that
//! takes each started cluster out of its slot and drops it (killing the daemons, deleting the
//! namespaces and the directory), whether the run passed (libtest returns from `main`) or
//! failed (libtest calls `std::process::exit`). If the process dies without exiting (a signal),
//! the next process that starts a cluster removes the leftovers, whose owner pid is then dead
//! (`corosync_testcluster::cleanup_stale`).
//!
//! Tests that kill or restart daemons, or count the connections of this process, must not use
//! a shared cluster: they start their own.
//!
//! ```ignore
//! mod common;
//! use common::shared::SharedCluster;
//! use corosync_testcluster::Cluster;
//!
//! static CLUSTER: SharedCluster = SharedCluster::new(|| Cluster::start(3));
//!
//! #[test]
//! fn something() {
//!     let cluster = CLUSTER.get();
//!     let _node = cluster.node(1);
//! }
//! ```

use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once, PoisonError, RwLock, RwLockReadGuard, TryLockError};

use corosync_testcluster::Cluster;

enum State {
    NotStarted,
    Running(Box<Cluster>),
    Failed(String),
    Removed,
}

/// A cluster started once per test process, on first use; see the module docs.
pub struct SharedCluster {
    start: fn() -> corosync_testcluster::Result<Cluster>,
    state: RwLock<State>,
}

/// Every shared cluster that was started, for the exit handler.
static STARTED: Mutex<Vec<&'static SharedCluster>> = Mutex::new(Vec::new());

impl SharedCluster {
    /// A slot for a cluster that `start` starts when a test first asks for it.
    pub const fn new(start: fn() -> corosync_testcluster::Result<Cluster>) -> SharedCluster {
        SharedCluster {
            start,
            state: RwLock::new(State::NotStarted),
        }
    }

    /// The cluster, started now if no test started it yet. Panics (failing the test) if it
    /// could not be started, with the harness's reason; every test that asks fails the same
    /// way. Tests hold the returned reference for as long as they use the cluster.
    pub fn get(&'static self) -> SharedRef {
        loop {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            match &*state {
                State::Running(_) => return SharedRef { state },
                State::Failed(why) => panic!("the shared cluster did not start: {why}"),
                State::Removed => panic!("the shared cluster was already removed"),
                State::NotStarted => {}
            }
            drop(state);
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            if matches!(*state, State::NotStarted) {
                *state = match (self.start)() {
                    Ok(cluster) => {
                        register(self);
                        State::Running(Box::new(cluster))
                    }
                    Err(e) => State::Failed(e.to_string()),
                };
            }
        }
    }
}

fn register(shared: &'static SharedCluster) {
    STARTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(shared);
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: atexit only records the pointer of a function with the right signature,
        // which lives as long as the program; the function never unwinds (see below).
        let status = unsafe { libc::atexit(remove_started_clusters) };
        assert_eq!(status, 0, "atexit refused the clean-up handler");
    });
}

/// Runs when the process exits: drops every started shared cluster. Every test has finished
/// by then; a cluster still held (a thread that outlived its test) is left to the stale
/// clean-up of a later run rather than waited for.
extern "C" fn remove_started_clusters() {
    // No panic may unwind into the C library that calls this.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let started = std::mem::take(&mut *STARTED.lock().unwrap_or_else(PoisonError::into_inner));
        for shared in started {
            let mut state = match shared.state.try_write() {
                Ok(state) => state,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    eprintln!(
                        "warning: a shared test cluster is still in use at exit; the next run \
                         removes its leftovers"
                    );
                    continue;
                }
            };
            // Dropping the cluster kills its daemons and removes its namespaces and directory.
            drop(std::mem::replace(&mut *state, State::Removed));
        }
    }));
}

/// A test's use of a [`SharedCluster`]: dereferences to the [`Cluster`]. When the test fails
/// (the thread panics) while holding it, the tails of the daemons' logs are printed, as the
/// harness does when a cluster of a test's own is dropped during a panic.
pub struct SharedRef {
    state: RwLockReadGuard<'static, State>,
}

impl Deref for SharedRef {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        match &*self.state {
            State::Running(cluster) => cluster,
            _ => unreachable!("a SharedRef is only made for a running cluster"),
        }
    }
}

impl Drop for SharedRef {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "shared cluster {} (other tests use it too); daemon logs:\n{}",
                self.name(),
                self.logs()
            );
        }
    }
}
