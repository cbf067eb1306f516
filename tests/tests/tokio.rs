//! The async handles of `corosync::tokio` against real daemons.
//!
//! - `shared_connection_on_three_nodes`: on each of 3 nodes, 4 tasks of a multi-thread
//!   runtime share one CPG connection and send 500 messages each (mixed sizes up to 64 KiB)
//!   while one task consumes its stream: every node receives all 6000, whole, in the same
//!   order, each sender's in the order it sent them.
//! - `aborted_sends_leave_the_connection_usable`: 64 KiB sends under flow control, cut off by
//!   `tokio::time::timeout`, leave the connection working, and every message arrives whole
//!   or not at all.
//! - `idle_receiver_costs_no_cpu`: streams of all five libraries waiting with no traffic
//!   use less than 5 ms of CPU per second (the runtime thread's time from
//!   /proc/thread-self/schedstat).
//! - `daemon_killed_then_reconnect`: when the daemon is killed, every stream yields the
//!   disconnected error and ends within 2 s, a pending send returns it, later calls return
//!   it at once, and the fd stays the same open socket; after a restart `reconnect` re-joins
//!   and re-tracks, streams report the gap, and deliveries resume.
//! - `every_library_through_streams`: cmap tracks, the cfg shutdown request, and quorum,
//!   votequorum and CPG totem changes when a node is killed, all through async streams.

use std::collections::HashMap;
use std::future::poll_fn;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::time::{Duration, Instant};

use corosync::cfg::{self, ShutdownMode, ShutdownReply};
use corosync::cmap::{self, EventKind, TrackOptions, ValueRef};
use corosync::cpg::{self, GroupName, Guarantee};
use corosync::tokio::{Cfg, Cmap, Cpg, EventStream, Quorum, Votequorum};
use corosync::{quorum, votequorum, Error, NodeId, TrackFlags};
use corosync_testcluster::{Cluster, Node};
use futures_core::Stream;

const WAIT: Duration = Duration::from_secs(20);

/// Opens an async handle in `node`'s network namespace (on a thread there); it then works
/// from any thread.
fn open<T: Send>(node: &Node, open: impl FnOnce() -> corosync::Result<T> + Send) -> T {
    node.in_namespace(open)
        .expect("enter the namespace")
        .expect("connect")
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The next item of a stream.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// The next item of a stream within [`WAIT`].
async fn next_within<S: Stream + Unpin>(stream: &mut S, what: &str) -> Option<S::Item> {
    tokio::time::timeout(WAIT, next(stream))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Takes events until `pick` returns a value.
async fn until<E: std::fmt::Debug, T>(
    stream: &mut EventStream<E>,
    what: &str,
    mut pick: impl FnMut(E) -> Option<T>,
) -> T {
    let mut seen = Vec::new();
    loop {
        let event = next_within(stream, what)
            .await
            .unwrap_or_else(|| panic!("the stream ended waiting for {what}; saw {seen:?}"))
            .unwrap_or_else(|e| panic!("error waiting for {what}: {e}; saw {seen:?}"));
        let text = format!("{event:?}");
        if let Some(found) = pick(event) {
            return found;
        }
        seen.push(text);
    }
}

/// A message's body: a header (sender task, sequence number, length) and filler bytes
/// derived from the header, so that a cut or mixed-up message is seen.
fn body(task: u32, seq: u32, len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len);
    data.extend_from_slice(&task.to_le_bytes());
    data.extend_from_slice(&seq.to_le_bytes());
    data.extend_from_slice(&(len as u32).to_le_bytes());
    let mut x = task.wrapping_mul(2_654_435_761) ^ seq.wrapping_mul(40_503) ^ len as u32;
    while data.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.push(x as u8);
    }
    data
}

/// The (task, seq) of a message made by [`body`], after checking it is whole.
fn check_body(data: &[u8]) -> (u32, u32) {
    assert!(data.len() >= 12, "a message of {} bytes", data.len());
    let word = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap());
    let (task, seq, len) = (word(0), word(4), word(8) as usize);
    assert_eq!(data.len(), len, "message {task}/{seq} is cut");
    assert!(
        data == body(task, seq, len).as_slice(),
        "message {task}/{seq} is damaged"
    );
    (task, seq)
}

/// Mixed sizes up to 64 KiB: mostly small, some large.
fn size_of_message(task: u32, seq: u32) -> usize {
    match (seq + task) % 10 {
        0 => 64 * 1024,
        1 => 16 * 1024 + seq as usize,
        2 | 3 => 1024 + (seq as usize * 7) % 4096,
        _ => 12 + (seq as usize * 13) % 500,
    }
}

/// Waits until `group` has `members` members as seen from `cpg`.
async fn wait_group(cpg: &Cpg, group: &GroupName, members: usize) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = cpg.membership(group).expect("membership").len();
        if now == members {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group has {now} members, not {members}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn shared_connection_on_three_nodes() {
    const TASKS: u32 = 4;
    const PER_TASK: u32 = 500;
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let group = GroupName::new("tokio-shared").unwrap();
    let cpgs: Vec<Cpg> = cluster.nodes().iter().map(|n| open(n, Cpg::open)).collect();
    let rt = runtime(4);
    let orders = rt.block_on(async {
        for cpg in &cpgs {
            cpg.join(&group).unwrap();
        }
        for cpg in &cpgs {
            wait_group(cpg, &group, 3).await;
        }
        let total = (TASKS * PER_TASK) as usize * cpgs.len();
        let mut receivers = Vec::new();
        let mut senders = Vec::new();
        for cpg in &cpgs {
            // One consumer per node: the whole delivery order, as (node, pid, task, seq).
            let mut events = cpg.events();
            receivers.push(tokio::spawn(async move {
                let mut order = Vec::with_capacity(total);
                while order.len() < total {
                    match next_within(&mut events, "deliveries").await {
                        Some(Ok(cpg::Event::Message(msg))) => {
                            let (task, seq) = check_body(msg.data());
                            order.push((msg.node_id(), msg.pid(), task, seq));
                        }
                        Some(Ok(_)) => {}
                        other => panic!("stream: {other:?} after {} messages", order.len()),
                    }
                }
                order
            }));
            for task in 0..TASKS {
                let cpg = cpg.clone();
                senders.push(tokio::spawn(async move {
                    for seq in 0..PER_TASK {
                        let data = body(task, seq, size_of_message(task, seq));
                        cpg.send(Guarantee::Agreed, &data).await.expect("send");
                    }
                }));
            }
        }
        for sender in senders {
            tokio::time::timeout(Duration::from_secs(300), sender)
                .await
                .expect("senders finish")
                .expect("sender task");
        }
        let mut orders = Vec::new();
        for receiver in receivers {
            orders.push(
                tokio::time::timeout(Duration::from_secs(300), receiver)
                    .await
                    .expect("receivers finish")
                    .expect("receiver task"),
            );
        }
        orders
    });
    let first = &orders[0];
    assert_eq!(first.len(), 6000);
    for (i, other) in orders.iter().enumerate().skip(1) {
        assert!(
            other == first,
            "node {} saw another order than node 1",
            i + 1
        );
    }
    // Each sender (node, pid, task) in the order it sent.
    let mut next_seq: HashMap<(NodeId, u32, u32), u32> = HashMap::new();
    for &(node, pid, task, seq) in first {
        let expected = next_seq.entry((node, pid, task)).or_default();
        assert_eq!(seq, *expected, "sender {node}/{pid}/{task} out of order");
        *expected += 1;
    }
    assert_eq!(next_seq.len(), 12);
    assert!(next_seq.values().all(|&n| n == PER_TASK));
}

#[test]
fn aborted_sends_leave_the_connection_usable() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let group = GroupName::new("tokio-aborted").unwrap();
    let sender = open(cluster.node(1), Cpg::open);
    let receiver = open(cluster.node(2), Cpg::open);
    let rt = runtime(4);
    rt.block_on(async {
        sender.join(&group).unwrap();
        receiver.join(&group).unwrap();
        wait_group(&sender, &group, 2).await;
        wait_group(&receiver, &group, 2).await;
        // The receiver (node 2) takes its deliveries all along.
        let mut events = receiver.events();
        let collect = tokio::spawn(async move {
            let mut delivered = Vec::new();
            loop {
                match next_within(&mut events, "the end message").await {
                    Some(Ok(cpg::Event::Message(msg))) if msg.data() == b"end" => break,
                    Some(Ok(cpg::Event::Message(msg))) => delivered.push(check_body(msg.data())),
                    Some(Ok(_)) => {}
                    other => panic!("stream: {other:?}"),
                }
            }
            delivered
        });
        // Node 3 is killed, then eight tasks send 100 messages of 64 KiB each, each send cut
        // off after 0 to 3 ms: until the membership is formed again (token timeout +
        // consensus) totem sends nothing, its queue fills and the daemon answers TryAgain. A
        // send only waits (and can be cut off) after a TryAgain answer: its first try is made
        // in its first poll. Nobody takes the sender's own deliveries meanwhile, so its
        // queue fills too.
        cluster.kill(3).unwrap();
        let mut tasks = Vec::new();
        for task in 0..8u32 {
            let cpg = sender.clone();
            tasks.push(tokio::spawn(async move {
                let (mut sent, mut aborted, mut try_again) = (Vec::new(), Vec::new(), 0);
                for seq in 0..100u32 {
                    let data = body(task, seq, 64 * 1024);
                    let limit = Duration::from_micros(u64::from(seq % 4) * 1000);
                    match tokio::time::timeout(limit, cpg.send(Guarantee::Agreed, &data)).await {
                        Ok(Ok(n)) => {
                            try_again += n;
                            sent.push((task, seq));
                        }
                        Ok(Err(e)) => panic!("send: {e}"),
                        Err(_) => aborted.push((task, seq)),
                    }
                }
                (sent, aborted, try_again)
            }));
        }
        let (mut sent, mut aborted, mut try_again) = (Vec::new(), Vec::new(), 0);
        for task in tasks {
            let (s, a, n) = task.await.unwrap();
            sent.extend(s);
            aborted.extend(a);
            try_again += n;
        }
        println!(
            "{} sends accepted ({try_again} TryAgain answers on the way), {} cut off",
            sent.len(),
            aborted.len()
        );
        assert!(
            !aborted.is_empty(),
            "no send was cut off: not under flow control"
        );
        // Now the sender's own stream is drained too.
        let mut own = sender.events();
        let drain = tokio::spawn(async move {
            let mut n = 0usize;
            while let Some(Ok(event)) = next_within(&mut own, "own deliveries").await {
                if let cpg::Event::Message(msg) = event {
                    if msg.data() == b"end" {
                        return n;
                    }
                    check_body(msg.data());
                    n += 1;
                }
            }
            panic!("the sender's stream ended");
        });
        // The connection still works: a last message, without a limit.
        sender.send(Guarantee::Agreed, b"end").await.unwrap();
        let delivered = tokio::time::timeout(WAIT, collect).await.unwrap().unwrap();
        let own_count = tokio::time::timeout(WAIT, drain).await.unwrap().unwrap();
        println!("{} delivered whole", delivered.len());
        // Every accepted send arrived; a cut-off one arrived whole or not at all (each
        // delivery was checked whole above), and nothing else arrived.
        for accepted in &sent {
            assert!(
                delivered.contains(accepted),
                "accepted {accepted:?} was lost"
            );
        }
        for d in &delivered {
            assert!(sent.contains(d) || aborted.contains(d));
        }
        assert_eq!(own_count, delivered.len(), "the sender saw another count");
    });
}

/// The calling thread's CPU time so far, from /proc/thread-self/schedstat (ns on a CPU).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (a kernel with CONFIG_SCHED_INFO)");
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .expect("schedstat's first field");
    Duration::from_nanos(ns)
}

#[test]
fn idle_receiver_costs_no_cpu() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let cpg = open(node, Cpg::open);
    let cmap = open(node, Cmap::open);
    let quorum = open(node, Quorum::open);
    let vq = open(node, Votequorum::open);
    let cfg = open(node, Cfg::open);
    // A current-thread runtime: the reactor and every task run on this thread, whose CPU
    // time is measured (other tests may run in this process at the same time).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        cpg.join(&GroupName::new("tokio-idle").unwrap()).unwrap();
        cmap.track("test.idle", TrackOptions::all()).unwrap();
        quorum.track_start(TrackFlags::CHANGES).unwrap();
        vq.track_start(0, TrackFlags::CHANGES).unwrap();
        cfg.track_start(TrackFlags::CHANGES).unwrap();
        // Take what the join and tracking reported, then wait with nothing coming.
        let mut cpg_events = cpg.events();
        until(&mut cpg_events, "the join", |e| match e {
            cpg::Event::ConfigChange(_) => Some(()),
            _ => None,
        })
        .await;
        let mut streams = (cmap.events(), quorum.events(), vq.events(), cfg.events());
        let idle = async {
            tokio::join!(
                next(&mut cpg_events),
                next(&mut streams.0),
                next(&mut streams.1),
                next(&mut streams.2),
                next(&mut streams.3)
            )
        };
        let period = Duration::from_secs(3);
        let before = thread_cpu();
        let started = Instant::now();
        let woke = tokio::time::timeout(period, idle).await;
        let wall = started.elapsed();
        let used = thread_cpu() - before;
        assert!(woke.is_err(), "an event arrived while idle: {woke:?}");
        let per_second = used.as_secs_f64() / wall.as_secs_f64();
        println!(
            "idle: {:.3} ms of CPU in {:.2} s: {:.3} ms per second",
            used.as_secs_f64() * 1e3,
            wall.as_secs_f64(),
            per_second * 1e3
        );
        assert!(
            per_second < 0.005,
            "{:.3} ms of CPU per second",
            per_second * 1e3
        );
    });
}

/// The inode of `fd`, or the errno if it is not open.
fn inode(fd: RawFd) -> Result<u64, i32> {
    // SAFETY: fstat writes a stat into a zeroed, writable buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: any fd number is fine to fstat; `st` is writable.
    if unsafe { libc::fstat(fd, &mut st) } == 0 {
        Ok(st.st_ino)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

#[test]
fn daemon_killed_then_reconnect() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let group = GroupName::new("tokio-reconnect").unwrap();
    let cpg = open(node, Cpg::open);
    let cmap = open(node, Cmap::open);
    let quorum = open(node, Quorum::open);
    let vq = open(node, Votequorum::open);
    let cfg = open(node, Cfg::open);
    let rt = runtime(4);
    rt.block_on(async {
        cpg.join(&group).unwrap();
        cmap.track("test.reconnect", TrackOptions::all()).unwrap();
        quorum.track_start(TrackFlags::CHANGES).unwrap();
        vq.track_start(0, TrackFlags::CHANGES).unwrap();
        cfg.track_start(TrackFlags::CHANGES).unwrap();
        let fd = cpg.with_handle(|h| Ok(h.as_raw_fd())).unwrap();
        let fd_inode = inode(fd).expect("the connection's fd");

        // A stream of every handle, each in a task that reports how it ended and when.
        macro_rules! watch {
            ($handle:expr) => {{
                let mut events = $handle.events();
                tokio::spawn(async move {
                    loop {
                        match next(&mut events).await {
                            Some(Ok(_)) => {}
                            Some(Err(err)) => {
                                let at = Instant::now();
                                let after = next(&mut events).await;
                                return (err, at, after.is_none());
                            }
                            None => panic!("the stream ended without an error"),
                        }
                    }
                })
            }};
        }
        let watchers = vec![
            ("cpg", watch!(cpg)),
            ("cmap", watch!(cmap)),
            ("quorum", watch!(quorum)),
            ("votequorum", watch!(vq)),
            ("cfg", watch!(cfg)),
        ];
        // Sends that are pending (under flow control) when the daemon dies: 64 KiB
        // messages as fast as they go, until one fails.
        let flood = {
            let cpg = cpg.clone();
            tokio::spawn(async move {
                let data = body(9, 0, 64 * 1024);
                let mut sent = 0u64;
                loop {
                    if let Err(err) = cpg.send(Guarantee::Agreed, &data).await {
                        return (err, Instant::now(), sent);
                    }
                    sent += 1;
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;

        let killed = Instant::now();
        cluster.kill(1).unwrap();
        for (what, watcher) in watchers {
            let (err, at, ended) = tokio::time::timeout(WAIT, watcher)
                .await
                .unwrap_or_else(|_| panic!("{what}: the stream hangs"))
                .unwrap();
            let after = at.duration_since(killed);
            println!("{what}: {err} after {after:?}");
            assert!(err.is_disconnected(), "{what}: {err}");
            assert!(ended, "{what}: the stream goes on after the error");
            assert!(after < Duration::from_secs(2), "{what}: {after:?}");
        }
        let (err, at, sent) = tokio::time::timeout(WAIT, flood).await.unwrap().unwrap();
        println!(
            "send: {err} after {:?}, {sent} sent",
            at.duration_since(killed)
        );
        assert!(err.is_disconnected(), "send: {err}");
        assert!(at.duration_since(killed) < Duration::from_secs(2));

        // Later calls and streams fail at once; the fd is still the same open socket.
        let quick = Duration::from_millis(500);
        let late = tokio::time::timeout(quick, cpg.next_event()).await;
        assert!(
            matches!(&late, Ok(Err(e)) if e.is_disconnected()),
            "{late:?}"
        );
        let mut stream = cmap.events();
        let late = tokio::time::timeout(quick, next(&mut stream)).await;
        assert!(
            matches!(&late, Ok(Some(Err(e))) if e.is_disconnected()),
            "{late:?}"
        );
        assert!(next(&mut stream).await.is_none());
        let late = tokio::time::timeout(quick, cpg.send(Guarantee::Agreed, b"x")).await;
        assert!(
            matches!(&late, Ok(Err(e)) if e.is_disconnected()),
            "{late:?}"
        );
        assert!(cmap
            .get::<u32>("totem.token")
            .unwrap_err()
            .is_disconnected());
        assert_eq!(
            inode(fd),
            Ok(fd_inode),
            "the fd changed after the daemon died"
        );
        // A reconnect connects from the calling thread's network namespace: the node's.
        let rt = tokio::runtime::Handle::current();
        let reconnect_all = || {
            node.in_namespace(|| {
                rt.block_on(async {
                    let _gap = cpg.reconnect().await?;
                    let _gap = cmap.reconnect().await?;
                    let _gap = quorum.reconnect().await?;
                    let _gap = vq.reconnect().await?;
                    cfg.reconnect().await
                })
            })
            .expect("enter the namespace")
        };
        let early = reconnect_all();
        assert!(
            early.as_ref().is_err_and(Error::is_disconnected),
            "{early:?}"
        );

        cluster.start_node(1).unwrap();
        // Reconnect every handle (once the daemon accepts connections); each stream then
        // reports the gap first.
        let deadline = Instant::now() + WAIT;
        while let Err(err) = reconnect_all() {
            assert!(Instant::now() < deadline, "reconnect: {err}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut cpg_events = cpg.events();
        until(&mut cpg_events, "cpg's gap", |e| match e {
            cpg::Event::Reconnected(_) => Some(()),
            _ => None,
        })
        .await;
        let mut cmap_events = cmap.events();
        until(&mut cmap_events, "cmap's gap", |e| match e {
            cmap::Event::Reconnected(_) => Some(()),
            _ => None,
        })
        .await;
        let mut quorum_events = quorum.events();
        until(&mut quorum_events, "quorum's gap", |e| match e {
            quorum::Event::Reconnected(_) => Some(()),
            _ => None,
        })
        .await;
        let mut vq_events = vq.events();
        until(&mut vq_events, "votequorum's gap", |e| match e {
            votequorum::Event::Reconnected(_) => Some(()),
            _ => None,
        })
        .await;
        let mut cfg_events = cfg.events();
        until(&mut cfg_events, "cfg's gap", |e| match e {
            cfg::Event::Reconnected(_) => Some(()),
            _ => None,
        })
        .await;

        // The group was joined again: our own message comes back.
        wait_group(&cpg, &group, 1).await;
        cpg.send(Guarantee::Agreed, b"after").await.unwrap();
        until(
            &mut cpg_events,
            "a delivery after the restart",
            |e| match e {
                cpg::Event::Message(m) if m.data() == b"after" => Some(()),
                _ => None,
            },
        )
        .await;
        // The cmap track was added again.
        let writer = open(node, corosync::cmap::Cmap::new);
        writer.set("test.reconnect", 5u32).unwrap();
        let change = until(
            &mut cmap_events,
            "the track after the restart",
            |e| match e {
                cmap::Event::Track(t) => Some(t),
                _ => None,
            },
        )
        .await;
        assert_eq!(change.key(), "test.reconnect");
        assert_eq!(change.new_value(), Some(ValueRef::U32(5)));
        let new_fd = cpg.with_handle(|h| Ok(h.as_raw_fd())).unwrap();
        println!("cpg fd {fd} before, {new_fd} after the reconnect");
    });
}

#[test]
fn every_library_through_streams() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let node = cluster.node(1);
    let cmap = open(node, Cmap::open);
    let quorum = open(node, Quorum::open);
    let vq = open(node, Votequorum::open);
    let cfg = open(node, Cfg::open);
    let cpg = open(node, || {
        Cpg::from_pull(
            corosync::cpg::Cpg::builder()
                .deliver_initial_totem_conf(true)
                .build_pull()?,
        )
    });
    let requester = open(node, corosync::cfg::Cfg::new);
    let writer = open(node, corosync::cmap::Cmap::new);
    let rt = runtime(2);
    rt.block_on(async {
        // cmap: a track's changes, saying which track.
        let track = cmap
            .track("test.async.", TrackOptions::all() | TrackOptions::PREFIX)
            .unwrap();
        let mut cmap_events = cmap.events();
        writer.set("test.async.x", 1u8).unwrap();
        writer.delete("test.async.x").unwrap();
        for expected in [EventKind::Add, EventKind::Delete] {
            let t = until(&mut cmap_events, "a track event", |e| match e {
                cmap::Event::Track(t) => Some(t),
                _ => None,
            })
            .await;
            assert_eq!(
                (t.track(), t.kind(), t.key()),
                (track, expected, "test.async.x")
            );
        }
        cmap.untrack(track).unwrap();

        // cfg: the shutdown request, vetoed.
        cfg.track_start(TrackFlags::CHANGES).unwrap();
        let mut cfg_events = cfg.events();
        let request = std::thread::spawn(move || requester.try_shutdown(ShutdownMode::Request));
        let flags = until(&mut cfg_events, "the shutdown request", |e| match e {
            cfg::Event::ShutdownRequest(flags) => Some(flags),
            _ => None,
        })
        .await;
        assert_eq!(flags, ShutdownMode::Request);
        cfg.reply_to_shutdown(ShutdownReply::No).unwrap();
        assert_eq!(request.join().unwrap(), Err(Error::Busy));

        // quorum, votequorum and CPG totem changes when node 3 is killed.
        quorum.track_start(TrackFlags::CHANGES).unwrap();
        vq.track_start(0, TrackFlags::CHANGES).unwrap();
        cpg.join(&GroupName::new("tokio-libraries").unwrap())
            .unwrap();
        let mut cpg_events = cpg.events();
        let initial = until(&mut cpg_events, "the initial totem conf", |e| match e {
            cpg::Event::TotemConfigChange(t) => Some(t),
            _ => None,
        })
        .await;
        assert_eq!(initial.members().len(), 3);
        let (mut q_events, mut vq_events) = (quorum.events(), vq.events());
        cluster.kill(3).unwrap();
        let two = [NodeId::from(1), NodeId::from(2)];
        let q = until(&mut q_events, "quorum's node list", |e| match e {
            quorum::Event::NodeList(n) if n.members() == two => Some(n),
            quorum::Event::Quorum(q) if q.members() == two => None,
            _ => None,
        })
        .await;
        assert_eq!(q.left(), [NodeId::from(3)]);
        let v = until(&mut vq_events, "votequorum's node list", |e| match e {
            votequorum::Event::Quorum(q) => Some(q),
            _ => None,
        })
        .await;
        assert!(v.is_quorate());
        let t = until(&mut cpg_events, "cpg's totem change", |e| match e {
            cpg::Event::TotemConfigChange(t) if t.members().len() == 2 => Some(t),
            _ => None,
        })
        .await;
        assert_eq!(t.members(), two);
    });
}
