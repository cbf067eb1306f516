//! Scale tests: the binding at corosync's limits, against real daemons.
//!
//! - **Order on 32 nodes**: 8 of 32 nodes each send 200 messages of mixed sizes up to 64 KiB
//!   at once; every node delivers all 1 600 in the same total order (a running hash of the
//!   sequence is compared) and each sender's messages in the order it sent them.
//! - **Membership storm**: 16 of 32 daemons are killed at once; the survivors' CPG handles see
//!   one configuration change naming the 16 leavers, their quorum and votequorum handles see
//!   quorum lost with the right votes; the 16 are restarted, the joins are seen and quorum
//!   returns. Each step's duration is printed.
//! - **Member lists**: the 32-member confchg, quorum and votequorum notifications arrive
//!   whole, and dispatching them allocates nothing in Rust (a counting allocator per thread).
//! - **Many objects in one process**: 1 000 CPG handles each in a group of its own that also
//!   has a member on another node; 10 000 cmap tracks on one handle, each receiving its
//!   change; 1 000 open handles. Memory and fds are printed and must be released on drop. See
//!   docs/limits.md for the figures and for which limit is hit first.
//!
//! Every test here is `#[ignore]`: a 32-node cluster takes about 4 GB and half a minute to
//! start, which `cargo test --workspace` (scripts/test) should not pay. `scripts/scale` runs
//! them: `cargo test -p corosync-tests --test scale -- --ignored --test-threads=1
//! --nocapture`. The test process reaches each node through threads that enter the node's
//! network namespace (`Node::in_namespace`, `Node::enter_on_current_thread`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::os::fd::AsFd;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use corosync::cmap::{Cmap, TrackOptions};
use corosync::cpg::{Cpg, GroupName, Guarantee, Reason};
use corosync::quorum::Quorum;
use corosync::votequorum::{NodeState, Votequorum};
use corosync::{DispatchMode, TrackFlags};
use corosync_testcluster::{wait_readable, Cluster, Node};

// ------------------------------------------------------------------ allocation counting

/// Counts the heap allocations each thread makes, so a test can check that dispatching an
/// event allocated nothing on the dispatching thread.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_allocation() {
    // `try_with`: the counter may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Heap allocations made by the calling thread so far.
fn thread_allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged, so System's guarantees hold; the counter is a const-initialised thread-local
// `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from System.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from System.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// ------------------------------------------------------------------ shared helpers

/// The size of the big clusters.
const NODES: u32 = 32;

/// How long a scale step may take before the test fails (a 32-node membership change takes
/// tens of seconds with corosync's default token scaling).
const STEP_TIMEOUT: Duration = Duration::from_secs(180);

/// Starts a `n`-node cluster with the harness's defaults and a timeout that fits a big
/// cluster, printing how long the start took.
fn start_cluster(n: u32) -> Cluster {
    let started = Instant::now();
    let cluster = Cluster::builder(n)
        .timeout(STEP_TIMEOUT)
        .start()
        .unwrap_or_else(|e| panic!("start a {n}-node cluster: {e}"));
    step(&format!("{n}-node cluster quorate"), started);
    cluster
}

/// Prints how long a step took since `since` (scripts/scale shows it).
fn step(what: &str, since: Instant) {
    eprintln!("scale: {what}: {:.1} s", since.elapsed().as_secs_f64());
}

/// FNV-1a, 64 bit, chained: the running hash of a delivery sequence.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Resident memory of a process in KiB (VmRSS of /proc/PID/status; `self` for this one).
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// Open fds of a process (entries of /proc/PID/fd; `self` for this one).
fn fd_count(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read fd dir")
        .count()
}

// ------------------------------------------------------------------ order on 32 nodes

const SENDERS: u32 = 8;
const PER_SENDER: u32 = 200;
/// Sizes the senders cycle through (bytes, all at least the 12-byte header): small, medium
/// and the 64 KiB maximum the issue asks for.
const SIZES: [usize; 8] = [16, 65536, 200, 4096, 1000, 32768, 64, 12000];

/// The message `seq` of `sender`: a header (sender, seq, size) and a payload that depends on
/// all three, so a delivery can be checked byte for byte.
fn order_message(sender: u32, seq: u32) -> Vec<u8> {
    let size = SIZES[((seq + sender) as usize) % SIZES.len()];
    let mut data = Vec::with_capacity(size);
    data.extend_from_slice(&sender.to_le_bytes());
    data.extend_from_slice(&seq.to_le_bytes());
    data.extend_from_slice(&(size as u32).to_le_bytes());
    data.extend((12..size).map(|i| (i as u32 ^ seq ^ sender.rotate_left(8)) as u8));
    data
}

/// What one node's deliver and confchg callbacks have seen. Fixed-size, so that recording
/// an event never allocates (the test checks that dispatching allocates nothing).
struct OrderState {
    hash: u64,
    delivered: u32,
    /// Next expected seq per sender node id (index = node id).
    next_seq: [u32; NODES as usize + 1],
    /// First problem seen (FIFO break, bad payload, message from a non-sender), as a static
    /// text and the (sender, seq) it concerned.
    problem: Option<(&'static str, u32, u32)>,
    /// The members (node id, pid) of the last configuration change, and how many there were.
    members: [(u32, u32); NODES as usize],
    member_count: usize,
    /// How many confchg callbacks ran.
    confchgs: u32,
}

impl OrderState {
    fn new() -> Self {
        OrderState {
            hash: FNV_START,
            delivered: 0,
            next_seq: [0; NODES as usize + 1],
            problem: None,
            members: [(0, 0); NODES as usize],
            member_count: 0,
            confchgs: 0,
        }
    }

    fn deliver(&mut self, from: u32, data: &[u8]) {
        let field = |i: usize| {
            data.get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (Some(sender), Some(seq), Some(size)) = (field(0), field(4), field(8)) else {
            self.problem
                .get_or_insert(("message shorter than its header", from, 0));
            return;
        };
        if sender != from || sender == 0 || sender > SENDERS {
            self.problem
                .get_or_insert(("message from an unexpected node", from, seq));
        } else if size as usize != data.len()
            || data[12..]
                .iter()
                .enumerate()
                .any(|(i, &b)| b != ((i + 12) as u32 ^ seq ^ sender.rotate_left(8)) as u8)
        {
            self.problem
                .get_or_insert(("payload corrupted", sender, seq));
        } else if seq != self.next_seq[sender as usize] {
            self.problem
                .get_or_insert(("per-sender FIFO broken", sender, seq));
        } else {
            self.next_seq[sender as usize] = seq + 1;
        }
        self.hash = fnv(self.hash, &data[..12]);
        self.delivered += 1;
    }
}

/// What one node reports at the end of the order test.
#[derive(Debug)]
struct OrderResult {
    node: u32,
    hash: u64,
    delivered: u32,
    problem: Option<(&'static str, u32, u32)>,
    members: Vec<(u32, u32)>,
    /// Heap allocations on the node's thread during its dispatch calls.
    dispatch_allocations: u64,
}

/// One node's part: join, wait for all 32, send (if a sender), deliver everything.
fn order_node(node: &Node, group: &GroupName, all_joined: &Barrier) -> OrderResult {
    node.enter_on_current_thread()
        .expect("enter the node's namespace");
    let state = Arc::new(Mutex::new(OrderState::new()));
    let (s1, s2) = (state.clone(), state.clone());
    let cpg = Cpg::builder()
        .on_deliver(move |_, msg| s1.lock().unwrap().deliver(msg.node_id().get(), msg.data()))
        .on_confchg(move |_, change| {
            let mut s = s2.lock().unwrap();
            s.confchgs += 1;
            s.member_count = change.members().len();
            for (slot, a) in s.members.iter_mut().zip(change.members()) {
                *slot = (a.node_id().get(), a.pid());
            }
        })
        .build()
        .expect("open a CPG handle");
    cpg.join(group).expect("join the group");
    let mut dispatch_allocations = 0;
    let mut dispatch = |cpg: &Cpg| {
        let before = thread_allocations();
        cpg.dispatch(DispatchMode::All).expect("dispatch");
        dispatch_allocations += thread_allocations() - before;
    };
    let deadline = Instant::now() + STEP_TIMEOUT;
    while state.lock().unwrap().member_count < NODES as usize {
        assert!(
            Instant::now() < deadline,
            "node {}: not all joined",
            node.id()
        );
        wait_readable(&[cpg.as_fd()], Duration::from_millis(200));
        dispatch(&cpg);
    }
    all_joined.wait();
    let members_at_start = {
        let s = state.lock().unwrap();
        s.members[..s.member_count].to_vec()
    };
    if node.id() <= SENDERS {
        for seq in 0..PER_SENDER {
            let data = order_message(node.id(), seq);
            cpg.mcast_retrying(Guarantee::Agreed, &data, Some(deadline))
                .unwrap_or_else(|e| panic!("node {} send {seq}: {e}", node.id()));
            dispatch(&cpg);
        }
    }
    while state.lock().unwrap().delivered < SENDERS * PER_SENDER {
        assert!(
            Instant::now() < deadline,
            "node {}: delivered only {} of {}",
            node.id(),
            state.lock().unwrap().delivered,
            SENDERS * PER_SENDER
        );
        wait_readable(&[cpg.as_fd()], Duration::from_millis(200));
        dispatch(&cpg);
    }
    let s = state.lock().unwrap();
    OrderResult {
        node: node.id(),
        hash: s.hash,
        delivered: s.delivered,
        problem: s.problem,
        members: members_at_start,
        dispatch_allocations,
    }
}

#[test]
#[ignore = "32-node cluster (about 4 GB); run by scripts/scale"]
fn total_order_on_32_nodes() {
    let cluster = start_cluster(NODES);
    let group = GroupName::new("scale-order").unwrap();
    let all_joined = Barrier::new(NODES as usize);
    let started = Instant::now();
    let results = on_nodes(&cluster.ids(), |id| {
        order_node(cluster.node(id), &group, &all_joined)
    });
    step(
        &format!(
            "{SENDERS} senders x {PER_SENDER} messages delivered on all {NODES} nodes \
             (join included)"
        ),
        started,
    );

    let me = std::process::id();
    let mut expected_members: Vec<(u32, u32)> = (1..=NODES).map(|id| (id, me)).collect();
    expected_members.sort_unstable();
    for r in &results {
        assert_eq!(r.problem, None, "node {}", r.node);
        assert_eq!(r.delivered, SENDERS * PER_SENDER, "node {}", r.node);
        // The 32-member list arrived whole: every node, each with this process's pid.
        let mut members = r.members.clone();
        members.sort_unstable();
        assert_eq!(
            members, expected_members,
            "node {}'s 32-member confchg",
            r.node
        );
        // Borrowed views: dispatching 1 600 messages and the confchgs allocated nothing.
        assert_eq!(r.dispatch_allocations, 0, "node {}", r.node);
    }
    let first = &results[0];
    for r in &results {
        assert_eq!(
            r.hash, first.hash,
            "node {} delivered another order than node {}",
            r.node, first.node
        );
    }
    eprintln!(
        "scale: all {NODES} nodes delivered the same {} messages (hash {:016x})",
        SENDERS * PER_SENDER,
        first.hash
    );
}

// ------------------------------------------------------------------ membership storm

/// A set of node ids kept in a fixed array, so that recording one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ids {
    len: usize,
    ids: [u32; NODES as usize],
}

impl Ids {
    fn new(source: impl IntoIterator<Item = u32>) -> Ids {
        let mut ids = Ids {
            len: 0,
            ids: [0; NODES as usize],
        };
        for id in source {
            // More than NODES entries would be a bug the test must see: keep a marker.
            if ids.len < ids.ids.len() {
                ids.ids[ids.len] = id;
            }
            ids.len += 1;
        }
        let len = ids.len.min(ids.ids.len());
        ids.ids[..len].sort_unstable();
        ids
    }

    fn to_vec(self) -> Vec<u32> {
        self.ids[..self.len.min(self.ids.len())].to_vec()
    }
}

/// One recorded notification of a node's three handles (Copy: recording allocates nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StormEvent {
    /// CPG confchg: members, who left and whether all of them left with `NodeDown`, who
    /// joined.
    Confchg {
        members: Ids,
        left: Ids,
        left_nodedown: bool,
        joined: Ids,
    },
    /// quorum (model v1) quorum notification.
    Quorum { quorate: bool, members: Ids },
    /// quorum (model v1) node-list notification.
    NodeList {
        members: Ids,
        joined: Ids,
        left: Ids,
    },
    /// votequorum quorum notification: quorate, and the nodes it calls members.
    Votequorum { quorate: bool, members: Ids },
}

/// Room reserved in each log, so that pushing stays within capacity (no allocation).
const LOG_CAPACITY: usize = 256;

/// A node's CPG, quorum and votequorum handles, with one log their callbacks record into.
struct Watch {
    id: u32,
    cpg: Cpg,
    quorum: Quorum,
    votequorum: Votequorum,
    log: Arc<Mutex<Vec<StormEvent>>>,
    /// Heap allocations made on the dispatching thread during dispatch calls.
    dispatch_allocations: u64,
}

impl Watch {
    /// Opens the three handles on `node` (on a thread in its namespace), joins `group` and
    /// starts quorum and votequorum tracking of the current state and every change.
    fn open(node: &Node, group: &GroupName) -> Watch {
        let log = Arc::new(Mutex::new(Vec::with_capacity(LOG_CAPACITY)));
        let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
        let (cpg, quorum, votequorum) = node
            .in_namespace(move || {
                let cpg = Cpg::builder()
                    .on_confchg(move |_, c| {
                        let event = StormEvent::Confchg {
                            members: Ids::new(c.members().iter().map(|a| a.node_id().get())),
                            left: Ids::new(c.left().iter().map(|a| a.node_id().get())),
                            left_nodedown: c.left().iter().all(|a| a.reason() == Reason::NodeDown),
                            joined: Ids::new(c.joined().iter().map(|a| a.node_id().get())),
                        };
                        l1.lock().unwrap().push(event);
                    })
                    .build()?;
                cpg.join(group)?;
                let quorum = Quorum::builder()
                    .on_quorum(move |_, n| {
                        let members = Ids::new(n.members().iter().map(|id| id.get()));
                        l2.lock().unwrap().push(StormEvent::Quorum {
                            quorate: n.is_quorate(),
                            members,
                        });
                    })
                    .on_nodelist(move |_, n| {
                        l3.lock().unwrap().push(StormEvent::NodeList {
                            members: Ids::new(n.members().iter().map(|id| id.get())),
                            joined: Ids::new(n.joined().iter().map(|id| id.get())),
                            left: Ids::new(n.left().iter().map(|id| id.get())),
                        });
                    })
                    .build()?;
                quorum.track_start(TrackFlags::CURRENT | TrackFlags::CHANGES)?;
                let votequorum = Votequorum::builder()
                    .on_quorum(move |_, n| {
                        let members = n
                            .nodes()
                            .iter()
                            .filter(|x| x.state() == NodeState::Member)
                            .map(|x| x.node_id().get());
                        l4.lock().unwrap().push(StormEvent::Votequorum {
                            quorate: n.is_quorate(),
                            members: Ids::new(members),
                        });
                    })
                    .build()?;
                votequorum.track_start(0, TrackFlags::CURRENT | TrackFlags::CHANGES)?;
                Ok::<_, corosync::Error>((cpg, quorum, votequorum))
            })
            .expect("enter the node's namespace")
            .unwrap_or_else(|e| panic!("node {}: open cpg, quorum, votequorum: {e}", node.id()));
        Watch {
            id: node.id(),
            cpg,
            quorum,
            votequorum,
            log,
            dispatch_allocations: 0,
        }
    }

    fn events(&self) -> Vec<StormEvent> {
        self.log.lock().unwrap().clone()
    }

    /// Empties the log (keeping its capacity).
    fn clear(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Dispatches the three handles until `done` holds for the log; panics after
    /// [`STEP_TIMEOUT`] with what was recorded.
    fn pump_until(&mut self, what: &str, done: impl Fn(&[StormEvent]) -> bool) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if done(&self.log.lock().unwrap()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {}: timed out waiting for {what}; events: {:#?}",
                self.id,
                self.events()
            );
            wait_readable(
                &[
                    self.cpg.as_fd(),
                    self.quorum.as_fd(),
                    self.votequorum.as_fd(),
                ],
                Duration::from_millis(200),
            );
            let before = thread_allocations();
            self.cpg.dispatch(DispatchMode::All).expect("cpg dispatch");
            self.quorum
                .dispatch(DispatchMode::All)
                .expect("quorum dispatch");
            self.votequorum
                .dispatch(DispatchMode::All)
                .expect("votequorum dispatch");
            self.dispatch_allocations += thread_allocations() - before;
        }
    }
}

/// Asserts what votequorum's getinfo says on `w`'s node: total votes, votes needed for
/// quorum, expected votes and quorate.
fn assert_votes(w: &Watch, total: u32, quorum: u32, expected: u32, quorate: bool, what: &str) {
    let info = w.votequorum.info(None).expect("votequorum info");
    assert_eq!(
        (
            info.total_votes,
            info.quorum,
            info.node_expected_votes,
            info.is_quorate()
        ),
        (total, quorum, expected, quorate),
        "node {}: {what}",
        w.id
    );
}

/// Runs `f(id)` for every id at once, a thread each, and returns the results in `ids` order.
fn on_nodes<T: Send>(ids: &[u32], f: impl Fn(u32) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = ids
            .iter()
            .map(|&id| {
                let f = &f;
                scope.spawn(move || f(id))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

/// Runs `f` on every watch at once (a thread each) and returns the watches.
fn on_each(watches: Vec<Watch>, f: impl Fn(&mut Watch) + Sync) -> Vec<Watch> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = watches
            .into_iter()
            .map(|mut w| {
                let f = &f;
                scope.spawn(move || {
                    f(&mut w);
                    w
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

fn confchgs(events: &[StormEvent]) -> Vec<StormEvent> {
    events
        .iter()
        .filter(|e| matches!(e, StormEvent::Confchg { .. }))
        .copied()
        .collect()
}

fn cpg_members(events: &[StormEvent]) -> Option<Vec<u32>> {
    events.iter().rev().find_map(|e| match e {
        StormEvent::Confchg { members, .. } => Some(members.to_vec()),
        _ => None,
    })
}

fn last_quorum(events: &[StormEvent]) -> Option<(bool, Vec<u32>)> {
    events.iter().rev().find_map(|e| match e {
        StormEvent::Quorum { quorate, members } => Some((*quorate, members.to_vec())),
        _ => None,
    })
}

fn last_votequorum(events: &[StormEvent]) -> Option<(bool, Vec<u32>)> {
    events.iter().rev().find_map(|e| match e {
        StormEvent::Votequorum { quorate, members } => Some((*quorate, members.to_vec())),
        _ => None,
    })
}

/// Whether the log shows the whole cluster `all`: CPG members, quorate with all as members
/// in quorum and votequorum.
fn sees_whole_cluster(events: &[StormEvent], all: &[u32]) -> bool {
    cpg_members(events).as_deref() == Some(all)
        && last_quorum(events) == Some((true, all.to_vec()))
        && last_votequorum(events) == Some((true, all.to_vec()))
}

#[test]
#[ignore = "32-node cluster (about 4 GB); run by scripts/scale"]
fn membership_storm_on_32_nodes() {
    let cluster = start_cluster(NODES);
    let all: Vec<u32> = cluster.ids();
    let survivors: Vec<u32> = (1..=NODES / 2).collect();
    let leavers: Vec<u32> = (NODES / 2 + 1..=NODES).collect();
    let group = GroupName::new("scale-storm").unwrap();

    // Every node: CPG member of the group, quorum and votequorum tracking.
    let started = Instant::now();
    let watches = on_nodes(&all, |id| Watch::open(cluster.node(id), &group));
    let watches = on_each(watches, |w| {
        w.pump_until("the whole cluster in cpg, quorum and votequorum", |e| {
            sees_whole_cluster(e, &all)
        })
    });
    step(
        "32 CPG members joined, quorum and votequorum tracking",
        started,
    );
    for w in &watches {
        // The 32-member lists arrived whole in all three libraries.
        let events = w.events();
        assert_eq!(cpg_members(&events).unwrap(), all, "node {}", w.id);
        assert_eq!(last_quorum(&events).unwrap(), (true, all.clone()));
        assert_eq!(last_votequorum(&events).unwrap(), (true, all.clone()));
        assert_votes(w, 32, 17, 32, true, "votes of the whole cluster");
        w.clear();
    }

    // Kill 16 daemons at once.
    let killed = Instant::now();
    on_nodes(&leavers, |id| cluster.kill(id).expect("kill"));
    step("16 daemons killed", killed);
    let (mut watches, dead): (Vec<Watch>, Vec<Watch>) =
        watches.into_iter().partition(|w| survivors.contains(&w.id));
    // The killed nodes' handles lost their daemon: dropping them must neither hang nor fail.
    drop(dead);

    let watches = on_each(std::mem::take(&mut watches), |w| {
        w.pump_until("the 16 leavers in a CPG confchg", |e| {
            cpg_members(e).is_some_and(|m| m.len() == survivors.len())
        })
    });
    step("survivors' CPG confchg naming the 16 leavers", killed);
    let watches = on_each(watches, |w| {
        w.pump_until("quorum lost in quorum and votequorum", |e| {
            last_quorum(e).is_some_and(|(q, _)| !q) && last_votequorum(e).is_some_and(|(q, _)| !q)
        })
    });
    step("survivors see quorum lost", killed);

    let mut first_change = None;
    for w in &watches {
        let events = w.events();
        let changes = confchgs(&events);
        assert_eq!(
            changes.len(),
            1,
            "node {}: the storm must be one configuration change: {changes:#?}",
            w.id
        );
        let StormEvent::Confchg {
            members,
            left,
            left_nodedown,
            joined,
        } = changes[0]
        else {
            unreachable!()
        };
        assert_eq!(members.to_vec(), survivors, "node {}", w.id);
        assert_eq!(left.to_vec(), leavers, "node {}: leavers", w.id);
        assert!(left_nodedown, "node {}: leavers must be NodeDown", w.id);
        assert_eq!(joined.len, 0, "node {}", w.id);
        // The same change on every survivor.
        assert_eq!(*first_change.get_or_insert(changes[0]), changes[0]);
        assert_eq!(
            last_quorum(&events),
            Some((false, survivors.clone())),
            "node {}: quorum",
            w.id
        );
        let node_lists: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                StormEvent::NodeList {
                    members,
                    joined,
                    left,
                } => Some((members.to_vec(), joined.to_vec(), left.to_vec())),
                _ => None,
            })
            .collect();
        assert_eq!(
            node_lists,
            vec![(survivors.clone(), vec![], leavers.clone())],
            "node {}: quorum node list",
            w.id
        );
        assert_eq!(last_votequorum(&events), Some((false, survivors.clone())));
        assert_votes(
            w,
            16,
            17,
            32,
            false,
            "16 of 32 votes is one short of quorum",
        );
        w.clear();
    }

    // Restart the 16 and give each a CPG member again.
    let restarted = Instant::now();
    on_nodes(&leavers, |id| cluster.start_node(id).expect("restart"));
    step("16 daemons restarted (answering)", restarted);
    let back = on_nodes(&leavers, |id| Watch::open(cluster.node(id), &group));
    let mut watches = watches;
    watches.extend(back);
    let watches = on_each(watches, |w| {
        w.pump_until("the whole cluster again", |e| sees_whole_cluster(e, &all))
    });
    step("joins seen and quorum back on all 32 nodes", restarted);

    for w in &watches {
        let events = w.events();
        if survivors.contains(&w.id) {
            // The survivors saw all 16 join the group (in one change or several).
            let mut joined: Vec<u32> = confchgs(&events)
                .iter()
                .flat_map(|e| match e {
                    StormEvent::Confchg { joined, .. } => joined.to_vec(),
                    _ => vec![],
                })
                .collect();
            joined.sort_unstable();
            assert_eq!(joined, leavers, "node {}: CPG joins", w.id);
        }
        assert_votes(w, 32, 17, 32, true, "votes after the restart");
        assert_eq!(
            w.dispatch_allocations, 0,
            "node {}: dispatching 32-member notifications allocated",
            w.id
        );
    }
}

// ------------------------------------------------------------------ many objects

/// Raises this process's soft limit of open files to its hard limit (each client handle holds
/// fds, and the default soft limit of 1 024 is below what these tests open), and returns the
/// limit now in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid rlimit; raising the soft limit up to the hard one needs no
    // privilege and affects only this process.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
    limit.rlim_cur
}

/// Memory and fds of this process and of the given daemons, at one moment.
#[derive(Debug, Clone, PartialEq)]
struct Usage {
    rss_kib: u64,
    fds: usize,
    /// (pid, rss KiB, fds) of each daemon.
    daemons: Vec<(u32, u64, usize)>,
}

impl Usage {
    fn now(cluster: &Cluster) -> Usage {
        Usage {
            rss_kib: rss_kib("self"),
            fds: fd_count("self"),
            daemons: cluster
                .nodes()
                .iter()
                .filter_map(Node::pid)
                .map(|pid| (pid, rss_kib(&pid.to_string()), fd_count(&pid.to_string())))
                .collect(),
        }
    }

    /// Prints the growth from `base` for `count` objects.
    fn report(&self, what: &str, count: usize, base: &Usage) {
        let per = |now: u64, then: u64| (now as f64 - then as f64) / count as f64;
        eprintln!(
            "scale: {what}: process RSS {} -> {} KiB ({:.1} KiB each), fds {} -> {} ({:.2} each)",
            base.rss_kib,
            self.rss_kib,
            per(self.rss_kib, base.rss_kib),
            base.fds,
            self.fds,
            per(self.fds as u64, base.fds as u64)
        );
        for (now, then) in self.daemons.iter().zip(&base.daemons) {
            eprintln!(
                "scale:   daemon pid {}: RSS {} -> {} KiB ({:.1} KiB each), fds {} -> {}",
                now.0,
                then.1,
                now.1,
                per(now.1, then.1),
                then.2,
                now.2
            );
        }
    }
}

/// Waits until this process's fds and every daemon's fds are back to `base` (the daemons
/// close their side of a connection asynchronously), and this process's RSS is within
/// `rss_slack_kib` of `base`; panics with what was left otherwise.
fn assert_released(cluster: &Cluster, base: &Usage, rss_slack_kib: u64, what: &str) -> Usage {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Give glibc's free pages back first: libqb callocs a receive buffer of the
        // connection's maximum message size per handle, which glibc may keep after free.
        // SAFETY: malloc_trim has no preconditions; it only returns free memory to the OS.
        unsafe { libc::malloc_trim(0) };
        let now = Usage::now(cluster);
        let fds_back = now.fds == base.fds
            && now
                .daemons
                .iter()
                .zip(&base.daemons)
                // The harness's own tool connections may still be closing at `base`.
                .all(|(n, b)| n.2 <= b.2);
        let rss_back = now.rss_kib <= base.rss_kib + rss_slack_kib;
        if fds_back && rss_back {
            eprintln!(
                "scale: {what}, after drop: process RSS {} KiB (before {}), fds {} (before {}); \
                 daemons (pid, RSS KiB, fds): {:?} (before {:?})",
                now.rss_kib, base.rss_kib, now.fds, base.fds, now.daemons, base.daemons
            );
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not released after drop: before {base:?}, now {now:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

const MANY_GROUPS: usize = 1000;

#[test]
#[ignore = "opens 2 000 CPG connections; run by scripts/scale"]
fn thousand_cpg_groups_each_with_a_remote_member() {
    let limit = raise_fd_limit();
    let cluster = start_cluster(2);
    eprintln!("scale: open-files limit of this process: {limit}");
    let group = |i: usize| GroupName::new(format!("many-{i}")).unwrap();
    let base = Usage::now(&cluster);

    // Node 1: one handle per group, each recording (node, data) of what it receives.
    type Seen = Arc<Mutex<Vec<(u32, Vec<u8>)>>>;
    let opened = Instant::now();
    let local: Vec<(Cpg, Seen, Arc<Mutex<usize>>)> = cluster
        .node(1)
        .in_namespace(|| {
            (0..MANY_GROUPS)
                .map(|i| {
                    let seen: Seen = Arc::default();
                    let members = Arc::new(Mutex::new(0));
                    let (s, m) = (seen.clone(), members.clone());
                    let cpg = Cpg::builder()
                        .on_deliver(move |_, msg| {
                            s.lock()
                                .unwrap()
                                .push((msg.node_id().get(), msg.data().to_vec()))
                        })
                        .on_confchg(move |_, c| *m.lock().unwrap() = c.members().len())
                        .build()
                        .unwrap_or_else(|e| panic!("CPG handle {i} on node 1: {e}"));
                    cpg.join(&group(i))
                        .unwrap_or_else(|e| panic!("join group {i} on node 1: {e}"));
                    (cpg, seen, members)
                })
                .collect()
        })
        .unwrap();
    let after_local = Usage::now(&cluster);
    step("1000 CPG handles opened and joined on node 1", opened);
    after_local.report("1000 CPG handles (node 1)", MANY_GROUPS, &base);

    // Node 2: the other member of each group.
    let remote: Vec<Cpg> = cluster
        .node(2)
        .in_namespace(|| {
            (0..MANY_GROUPS)
                .map(|i| {
                    let cpg =
                        Cpg::new().unwrap_or_else(|e| panic!("CPG handle {i} on node 2: {e}"));
                    cpg.join(&group(i)).unwrap();
                    cpg
                })
                .collect()
        })
        .unwrap();

    // Every local handle sees its group with 2 members, then the remote member's message.
    let deadline = Instant::now() + STEP_TIMEOUT;
    let pump_local = |done: &dyn Fn(usize) -> bool| loop {
        let pending: Vec<usize> = (0..MANY_GROUPS).filter(|&i| !done(i)).collect();
        if pending.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} groups still waiting, e.g. group {}",
            pending.len(),
            pending[0]
        );
        let fds: Vec<_> = pending.iter().map(|&i| local[i].0.as_fd()).collect();
        wait_readable(&fds, Duration::from_millis(200));
        for &i in &pending {
            local[i].0.dispatch(DispatchMode::All).expect("dispatch");
        }
    };
    pump_local(&|i| *local[i].2.lock().unwrap() == 2);
    for (i, cpg) in remote.iter().enumerate() {
        cpg.mcast_retrying(
            Guarantee::Agreed,
            format!("to group {i}").as_bytes(),
            Some(deadline),
        )
        .expect("send from node 2");
    }
    pump_local(&|i| !local[i].1.lock().unwrap().is_empty());
    std::thread::sleep(Duration::from_millis(500));
    for (i, (cpg, seen, _)) in local.iter().enumerate() {
        cpg.dispatch(DispatchMode::All).expect("dispatch");
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(2, format!("to group {i}").into_bytes())],
            "group {i} must receive exactly its own message"
        );
    }
    step(
        "1000 groups: 2 members each, each message in its own group only",
        opened,
    );
    Usage::now(&cluster).report("1000 + 1000 CPG handles", 2 * MANY_GROUPS, &base);

    drop(local);
    drop(remote);
    // The allocator may keep a little freed heap; the connections' mappings must be gone.
    assert_released(&cluster, &base, 8 * 1024, "2000 CPG handles");
}

const MANY_TRACKS: usize = 10_000;

#[test]
#[ignore = "10 000 cmap tracks; run by scripts/scale"]
fn ten_thousand_cmap_tracks_on_one_handle() {
    let cluster = start_cluster(1);
    let key = |i: usize| format!("scale.track.k{i}");
    let cmap = cluster
        .node(1)
        .in_namespace(Cmap::new)
        .unwrap()
        .expect("open cmap");
    for i in 0..MANY_TRACKS {
        cmap.set(&key(i), 0u32).expect("create key");
    }
    let base = Usage::now(&cluster);
    let started = Instant::now();
    // One counter per track, and the value each one saw.
    type Seen = Arc<Mutex<Vec<(u32, Option<u32>)>>>;
    let seen: Seen = Arc::new(Mutex::new(vec![(0, None); MANY_TRACKS]));
    let tracks: Vec<_> = (0..MANY_TRACKS)
        .map(|i| {
            let seen = seen.clone();
            cmap.track(&key(i), TrackOptions::MODIFY, move |_, event| {
                let value = match event.new_value() {
                    Some(corosync::cmap::ValueRef::U32(v)) => Some(v),
                    _ => None,
                };
                let mut seen = seen.lock().unwrap();
                seen[i].0 += 1;
                seen[i].1 = value;
            })
            .unwrap_or_else(|e| panic!("track {i}: {e}"))
        })
        .collect();
    let with_tracks = Usage::now(&cluster);
    step("10000 tracks added", started);
    with_tracks.report("10000 cmap tracks", MANY_TRACKS, &base);

    for i in 0..MANY_TRACKS {
        cmap.set(&key(i), i as u32 + 1).expect("modify key");
    }
    let deadline = Instant::now() + STEP_TIMEOUT;
    while seen.lock().unwrap().iter().any(|s| s.0 == 0) {
        assert!(Instant::now() < deadline, "not every track got its change");
        wait_readable(&[cmap.as_fd()], Duration::from_millis(200));
        cmap.dispatch(DispatchMode::All).expect("dispatch");
    }
    std::thread::sleep(Duration::from_millis(300));
    cmap.dispatch(DispatchMode::All).expect("dispatch");
    for (i, s) in seen.lock().unwrap().iter().enumerate() {
        assert_eq!(
            *s,
            (1, Some(i as u32 + 1)),
            "track {i}: exactly its own change"
        );
    }
    step("10000 tracks each received its change", started);

    drop(tracks);
    // No track is left: another round of changes reaches no closure.
    for i in 0..MANY_TRACKS {
        cmap.set(&key(i), 0u32).expect("modify key");
    }
    std::thread::sleep(Duration::from_millis(300));
    cmap.dispatch(DispatchMode::All).expect("dispatch");
    assert!(
        seen.lock().unwrap().iter().all(|s| s.0 == 1),
        "a dropped track fired"
    );
    assert_eq!(
        Arc::strong_count(&seen),
        1,
        "dropped tracks released their closures"
    );
    assert_released(&cluster, &base, 8 * 1024, "10000 cmap tracks");
    for i in 0..MANY_TRACKS {
        cmap.delete(&key(i)).expect("delete key");
    }
}

const MANY_HANDLES: usize = 1000;

/// One open handle of any library (what `thousand_open_handles` keeps open).
#[allow(dead_code)] // held for their Drop
enum AnyHandle {
    Cmap(Cmap),
    Cpg(Cpg),
    Quorum(Quorum),
    Votequorum(Votequorum),
}

#[test]
#[ignore = "opens 1 000 connections; run by scripts/scale"]
fn thousand_open_handles() {
    raise_fd_limit();
    let cluster = start_cluster(1);
    let base = Usage::now(&cluster);
    // Three rounds. The daemon's heap keeps what 1000 connections took at their peak (about
    // 1.1 GB, its allocator's high-water mark, reached in round 2; see docs/limits.md), so
    // the leak check compares rounds 2 and 3: a third round must leave nothing more behind.
    let _warm_up = open_and_drop_handles(&cluster, &base, 1);
    let second = open_and_drop_handles(&cluster, &base, 2);
    let third = open_and_drop_handles(&cluster, &base, 3);
    for (two, three) in second.daemons.iter().zip(&third.daemons) {
        assert!(
            three.1 <= two.1 + 16 * 1024,
            "daemon RSS grew from {} to {} KiB between rounds 2 and 3 of 1000 handles",
            two.1,
            three.1
        );
    }
    assert!(
        third.rss_kib <= second.rss_kib + 4 * 1024,
        "process RSS grew from {} to {} KiB between rounds 2 and 3",
        second.rss_kib,
        third.rss_kib
    );
}

/// Opens 1000 handles round robin over cmap, cpg, quorum and votequorum, uses each once,
/// drops them and checks that fds and memory are released; returns the usage after.
fn open_and_drop_handles(cluster: &Cluster, base: &Usage, round: u32) -> Usage {
    let started = Instant::now();
    let handles: Vec<AnyHandle> = cluster
        .node(1)
        .in_namespace(|| {
            (0..MANY_HANDLES)
                .map(|i| match i % 4 {
                    0 => {
                        let cmap = Cmap::new().expect("cmap");
                        let id: u32 = cmap.get("runtime.votequorum.this_node_id").expect("get");
                        assert_eq!(id, 1);
                        AnyHandle::Cmap(cmap)
                    }
                    1 => {
                        let cpg = Cpg::new().expect("cpg");
                        assert_eq!(cpg.local_node_id().expect("local node id").get(), 1);
                        AnyHandle::Cpg(cpg)
                    }
                    2 => {
                        let quorum = Quorum::new().expect("quorum");
                        assert!(quorum.is_quorate().expect("is_quorate"));
                        AnyHandle::Quorum(quorum)
                    }
                    _ => {
                        let vq = Votequorum::new().expect("votequorum");
                        assert!(vq.info(None).expect("info").is_quorate());
                        AnyHandle::Votequorum(vq)
                    }
                })
                .collect()
        })
        .unwrap();
    step(
        &format!("round {round}: 1000 handles (cmap, cpg, quorum, votequorum) opened and used"),
        started,
    );
    Usage::now(cluster).report("1000 open handles", MANY_HANDLES, base);
    drop(handles);
    assert_released(
        cluster,
        base,
        8 * 1024,
        &format!("round {round}: 1000 open handles"),
    )
}

/// Sets the soft open-files limit of process `pid` (0: this process), keeping its hard
/// limit, and returns the old limits.
fn set_fd_limit(pid: u32, soft: u64) -> libc::rlimit {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a null new limit only reads the current one into the valid `current`.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_NOFILE,
            std::ptr::null(),
            &mut current,
        )
    };
    assert_eq!(rc, 0, "prlimit({pid}): {}", std::io::Error::last_os_error());
    let new = libc::rlimit {
        rlim_cur: soft,
        rlim_max: current.rlim_max,
    };
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both pointers are valid for the call; as root, changing another process's
    // limit is allowed and only affects that process.
    let rc = unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_NOFILE, &new, &mut old) };
    assert_eq!(rc, 0, "prlimit({pid}): {}", std::io::Error::last_os_error());
    old
}

/// Opens cmap handles until one fails or `cap` are open; returns them and the error.
fn open_until_failure(node: &Node, cap: usize) -> (Vec<Cmap>, Option<(corosync::Error, Duration)>) {
    node.in_namespace(|| {
        let mut handles = Vec::new();
        while handles.len() < cap {
            let started = Instant::now();
            match Cmap::new()
                .and_then(|c| c.get::<u32>("runtime.votequorum.this_node_id").map(|_| c))
            {
                Ok(c) => handles.push(c),
                Err(e) => return (handles, Some((e, started.elapsed()))),
            }
        }
        (handles, None)
    })
    .unwrap()
}

#[test]
#[ignore = "probes the open-files limits of client and daemon; run by scripts/scale"]
fn first_limits_hit_are_clean_errors() {
    let cluster = start_cluster(1);
    let node = cluster.node(1);
    let base = Usage::now(&cluster);

    // The client's open-files limit: each handle holds one fd.
    let old = set_fd_limit(0, 64);
    let (handles, failure) = open_until_failure(node, 1000);
    set_fd_limit(0, old.rlim_cur);
    let (err, took) = failure.expect("a client limited to 64 fds must fail to open 1000 handles");
    eprintln!(
        "scale: client limited to 64 fds: {} handles open, then {err:?} ({err}) after {took:?}",
        handles.len()
    );
    assert!(
        handles.len() >= 64 - base.fds - 4 && handles.len() < 64,
        "{}",
        handles.len()
    );
    drop(handles);

    // The daemon's open-files limit (corosync run by systemd gets a soft limit of 1024).
    let pid = node.pid().unwrap();
    let daemon_old = set_fd_limit(pid, 128);
    let daemon_fds = fd_count(&pid.to_string());
    let log_before = node.log().len();
    let (handles, failure) = open_until_failure(node, 1000);
    let (err, took) = failure.expect("a daemon limited to 128 fds must refuse 1000 connections");
    eprintln!(
        "scale: daemon limited to 128 fds ({daemon_fds} in use): {} handles open, then {err:?} \
         ({err}) after {took:?}",
        handles.len()
    );
    assert!(handles.len() < 128, "{}", handles.len());
    let log = node.log();
    let daemon_said: Vec<&str> = log[log_before..].lines().take(6).collect();
    eprintln!("scale: the daemon logged: {daemon_said:#?}");
    // The handles that did open still work, and after they close the daemon serves again.
    let id: u32 = handles[0]
        .get("runtime.votequorum.this_node_id")
        .expect("get");
    assert_eq!(id, 1);
    drop(handles);
    set_fd_limit(pid, daemon_old.rlim_cur);
    let (handles, failure) = open_until_failure(node, 10);
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(handles.len(), 10);
    drop(handles);
    assert_released(&cluster, &base, 8 * 1024, "probe handles");
}
