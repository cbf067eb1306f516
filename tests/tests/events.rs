//! Events as values, against real daemons: pull mode for every library, timed waits, the
//! stopper of `dispatch_blocking`, and reconnecting after the daemon was killed.
//!
//! - `pull_mode_on_one_node` (1 node): cmap track events through `next_event`, the timeout
//!   of `next_event`, `try_next_event`, the cfg shutdown request, a refused pull on a
//!   handle with closures.
//! - `stop_ends_a_blocking_dispatch` (1 node): a stop from a callback, from another thread
//!   and from a SIGTERM handler each ends `dispatch_blocking` within 100 ms.
//! - `pull_mode_on_three_nodes` (3 nodes): CPG deliveries and configuration changes, quorum
//!   and votequorum changes when a node is killed.
//! - `daemon_killed_then_reconnect` (1 node): every library's handle reports a disconnected
//!   error (requests and `next_event`, never a hang); after a restart `reconnect` gives
//!   working handles that keep their closures, pull handles report the gap, and CPG
//!   deliveries resume after re-joining.
//! - `mio_registration` (1 node): every handle registered with a `mio::Poll` wakes it for
//!   its event, and for the daemon's death; after `reconnect` the new fd is registered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use corosync::cfg::{self, Cfg, ShutdownMode, ShutdownReply};
use corosync::cmap::{self, Cmap, EventKind, TrackOptions, ValueRef};
use corosync::cpg::{self, Cpg, GroupName, Guarantee};
use corosync::quorum::{self, Quorum};
use corosync::votequorum::{self, Votequorum};
use corosync::{Error, NodeId, Stopper, TrackFlags};
use corosync_testcluster::{Cluster, Node};

const WAIT: Duration = Duration::from_secs(10);

/// Runs `open` in `node`'s network namespace (where the daemon's sockets are).
fn open<T: Send>(node: &Node, open: impl FnOnce() -> corosync::Result<T> + Send) -> T {
    node.in_namespace(open)
        .expect("enter the namespace")
        .expect("connect")
}

/// Pulls events until `pick` returns a value, failing after [`WAIT`].
fn pull_until<E: std::fmt::Debug, T>(
    mut next: impl FnMut(Option<Duration>) -> corosync::Result<Option<E>>,
    what: &str,
    mut pick: impl FnMut(E) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting for {what}; saw {seen:?}"
        );
        match next(Some(left)).expect("next_event") {
            None => panic!("timed out waiting for {what}; saw {seen:?}"),
            Some(event) => {
                let text = format!("{event:?}");
                if let Some(found) = pick(event) {
                    return found;
                }
                seen.push(text);
            }
        }
    }
}

#[test]
fn pull_mode_on_one_node() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);

    // cmap: a pulled track event says which track reported it.
    let cmap = open(node, Cmap::pull);
    let writer = open(node, Cmap::new);
    let a = cmap
        .track_events("test.a.", TrackOptions::all() | TrackOptions::PREFIX)
        .unwrap();
    let b = cmap.track_events("test.b", TrackOptions::all()).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(cmap.try_next_event(), Ok(None));

    // next_event returns at its timeout when nothing happens.
    for timeout in [
        Duration::ZERO,
        Duration::from_millis(20),
        Duration::from_millis(300),
    ] {
        let start = Instant::now();
        assert_eq!(cmap.next_event(Some(timeout)), Ok(None));
        let took = start.elapsed();
        println!("next_event({timeout:?}) returned after {took:?}");
        assert!(took >= timeout, "returned early: {took:?} < {timeout:?}");
        assert!(
            took < timeout + Duration::from_millis(100),
            "returned late: {took:?}"
        );
    }

    writer.set("test.a.x", 7u32).unwrap();
    writer.set("test.b", "bee").unwrap();
    writer.delete("test.a.x").unwrap();
    let mut events = Vec::new();
    while events.len() < 3 {
        match cmap.next_event(Some(WAIT)).unwrap() {
            Some(cmap::Event::Track(event)) => events.push(event),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (events[0].track(), events[0].kind(), events[0].key()),
        (a.id(), EventKind::Add, "test.a.x")
    );
    assert_eq!(events[0].new_value(), Some(ValueRef::U32(7)));
    assert_eq!(
        (events[1].track(), events[1].kind(), events[1].key()),
        (b.id(), EventKind::Add, "test.b")
    );
    assert_eq!(events[1].new_value(), Some(ValueRef::String(b"bee")));
    assert_eq!(
        (events[2].track(), events[2].kind(), events[2].new_value()),
        (a.id(), EventKind::Delete, None)
    );
    assert_eq!(events[2].old_value(), Some(ValueRef::U32(7)));
    assert_eq!(cmap.try_next_event(), Ok(None));

    // A handle with closures has nothing to pull.
    assert_eq!(
        writer.next_event(Some(Duration::ZERO)),
        Err(Error::NotPullMode)
    );
    assert_eq!(
        writer.track_events("test.", TrackOptions::all()).err(),
        Some(Error::NotPullMode)
    );

    // cfg: a shutdown request arrives as an event and is vetoed.
    let tracker = open(node, Cfg::pull);
    tracker.track_start(TrackFlags::CHANGES).unwrap();
    let requester = open(node, Cfg::new);
    let request = std::thread::spawn(move || requester.try_shutdown(ShutdownMode::Request));
    let flags = pull_until(
        |t| tracker.next_event(t),
        "the shutdown request",
        |e| match e {
            cfg::Event::ShutdownRequest(flags) => Some(flags),
            _ => None,
        },
    );
    assert_eq!(flags, ShutdownMode::Request);
    tracker.reply_to_shutdown(ShutdownReply::No).unwrap();
    assert_eq!(request.join().unwrap(), Err(Error::Busy));
    assert!(node.is_running());
}

/// The stopper that the SIGTERM handler uses.
static SIGTERM_STOP: OnceLock<Stopper> = OnceLock::new();

extern "C" fn on_sigterm(_: libc::c_int) {
    // An atomic load, an atomic store and a write(2): async-signal-safe.
    if let Some(stopper) = SIGTERM_STOP.get() {
        stopper.stop();
    }
}

#[test]
fn stop_ends_a_blocking_dispatch() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let writer = open(node, Cmap::new);
    let cmap = open(node, Cmap::new);
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    // The track lives as long as the handle: leak the guard so the handle can move.
    let track = cmap
        .track("test.stop", TrackOptions::all(), move |cmap, event| {
            seen2.fetch_add(1, Ordering::SeqCst);
            if event.new_value() == Some(ValueRef::U8(1)) {
                cmap.stopper().expect("stopper").stop();
            }
        })
        .unwrap();
    std::mem::forget(track);
    let stopper = cmap.stopper().unwrap();
    SIGTERM_STOP.set(stopper.clone()).unwrap();
    // SAFETY: the handler only does async-signal-safe work (see on_sigterm).
    let previous =
        unsafe { libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t) };
    assert_ne!(previous, libc::SIG_ERR);

    let (tx, rx) = mpsc::channel();
    let looper = std::thread::spawn(move || {
        for _ in 0..3 {
            let result = cmap.dispatch_blocking();
            tx.send((result, Instant::now())).unwrap();
        }
        cmap
    });
    let wait_stopped = |from: Instant, how: &str| {
        let (result, ended) = rx.recv_timeout(WAIT).expect("the loop ends");
        assert!(
            matches!(result, Ok(corosync::Stopped { .. })),
            "{how}: {result:?}"
        );
        let took = ended.saturating_duration_since(from);
        println!("stop {how}: dispatch_blocking returned after {took:?}");
        assert!(
            took < Duration::from_millis(100),
            "stop {how} took {took:?}"
        );
    };

    // From a callback: the write reaches the loop as an event; the callback stops it.
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    writer.set("test.stop", 1u8).unwrap();
    wait_stopped(start, "from a callback");
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    // From another thread, while the loop sleeps in ppoll.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        rx.try_recv().is_err(),
        "the loop keeps running without a stop"
    );
    let start = Instant::now();
    stopper.stop();
    wait_stopped(start, "from another thread");

    // From a SIGTERM handler, sent to the whole process.
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    // SAFETY: kill with our own pid and a signal that has a handler.
    assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGTERM) }, 0);
    wait_stopped(start, "from a SIGTERM handler");
    let cmap = looper.join().unwrap();
    // SAFETY: restores the previous disposition.
    unsafe { libc::signal(libc::SIGTERM, previous) };

    // A loop on a handle whose daemon dies ends with the disconnected error.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(cmap.dispatch_blocking()).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    cluster.kill(1).unwrap();
    let result = rx
        .recv_timeout(WAIT)
        .expect("the loop ends when the daemon dies");
    assert!(
        result.as_ref().is_err_and(Error::is_disconnected),
        "{result:?}"
    );
}

#[test]
fn pull_mode_on_three_nodes() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let group = GroupName::new("events-pull").unwrap();

    // CPG: configuration changes and deliveries through next_event.
    let cpg1 = open(cluster.node(1), || {
        Cpg::builder().deliver_initial_totem_conf(true).build_pull()
    });
    let cpg2 = open(cluster.node(2), Cpg::pull);
    cpg1.join(&group).unwrap();
    let ring = pull_until(
        |t| cpg1.next_event(t),
        "the initial totem configuration",
        |e| match e {
            cpg::Event::TotemConfigChange(ring) => Some(ring),
            _ => None,
        },
    );
    assert_eq!(ring.members().len(), 3);
    cpg2.join(&group).unwrap();
    let change = pull_until(
        |t| cpg1.next_event(t),
        "node 2 joining",
        |e| match e {
            cpg::Event::ConfigChange(c)
                if c.joined().iter().any(|a| a.node_id() == NodeId::from(2)) =>
            {
                Some(c)
            }
            _ => None,
        },
    );
    assert_eq!(change.group(), &group);
    assert_eq!(change.members().len(), 2);
    cpg2.mcast(Guarantee::Agreed, b"one").unwrap();
    cpg2.mcast(Guarantee::Agreed, &[7u8; 100_000]).unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(pull_until(
            |t| cpg1.next_event(t),
            "a message",
            |e| match e {
                cpg::Event::Message(m) => Some(m),
                _ => None,
            },
        ));
    }
    assert_eq!(got[0].data(), b"one");
    assert_eq!(got[0].node_id(), NodeId::from(2));
    assert_eq!(got[1].clone().into_data(), vec![7u8; 100_000]);

    // quorum and votequorum: node 3 is killed.
    let q = open(cluster.node(1), Quorum::pull);
    let vq = open(cluster.node(1), Votequorum::pull);
    q.track_start(TrackFlags::CHANGES).unwrap();
    vq.track_start(42, TrackFlags::CHANGES).unwrap();
    cluster.kill(3).unwrap();
    let three = NodeId::from(3);
    let left = pull_until(
        |t| q.next_event(t),
        "quorum's node list without node 3",
        |e| match e {
            quorum::Event::NodeList(n) if n.left().contains(&three) => Some(n),
            _ => None,
        },
    );
    assert_eq!(left.members(), &[NodeId::from(1), NodeId::from(2)]);
    let quorate = pull_until(
        |t| q.next_event(t),
        "quorum's notification",
        |e| match e {
            quorum::Event::Quorum(n) if !n.members().contains(&three) => Some(n),
            _ => None,
        },
    );
    assert!(quorate.is_quorate());
    let list = pull_until(
        |t| vq.next_event(t),
        "votequorum's node list",
        |e| match e {
            votequorum::Event::NodeList(n) if !n.members().contains(&three) => Some(n),
            _ => None,
        },
    );
    assert_eq!(list.context(), 42);
    assert_eq!(list.ring_id(), left.ring_id());
    let vq_quorum = pull_until(
        |t| vq.next_event(t),
        "votequorum's quorum",
        |e| match e {
            votequorum::Event::Quorum(n)
                if n.nodes().iter().any(|x| {
                    x.node_id() == three && x.state() != votequorum::NodeState::Member
                }) =>
            {
                Some(n)
            }
            _ => None,
        },
    );
    assert!(vq_quorum.is_quorate());
    // Node 3 also leaves the CPG's totem membership.
    let ring = pull_until(
        |t| cpg1.next_event(t),
        "the totem change",
        |e| match e {
            cpg::Event::TotemConfigChange(r) if !r.members().contains(&three) => Some(r),
            _ => None,
        },
    );
    assert_eq!(ring.ring_id(), left.ring_id());
}

#[test]
fn daemon_killed_then_reconnect() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let group = GroupName::new("events-reconnect").unwrap();
    // A process is in a group once per node: the pull handle joins another one.
    let pull_group = GroupName::new("events-reconnect-pull").unwrap();

    // A closure handle whose state must survive the reconnect: a running count.
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let sink = delivered.clone();
    let mut cpg = open(node, move || {
        Cpg::builder()
            .on_deliver(move |_, m| sink.lock().unwrap().push(m.data().to_vec()))
            .build()
    });
    cpg.join(&group).unwrap();
    cpg.mcast(Guarantee::Agreed, b"before").unwrap();
    while delivered.lock().unwrap().is_empty() {
        assert!(cpg.wait_readable(Some(WAIT)).unwrap());
        cpg.dispatch(corosync::DispatchMode::All).unwrap();
    }
    let mut pcpg = open(node, Cpg::pull);
    pcpg.join(&pull_group).unwrap();
    let mut cmap = open(node, Cmap::pull);
    let mut q = open(node, Quorum::pull);
    let mut vq = open(node, Votequorum::pull);
    let mut cfg = open(node, Cfg::pull);
    q.track_start(TrackFlags::CHANGES).unwrap();
    vq.track_start(0, TrackFlags::CHANGES).unwrap();
    let fd_before = std::os::fd::AsRawFd::as_raw_fd(&pcpg);

    cluster.kill(1).unwrap();

    // Every library answers an error that says the daemon went away: requests and pulls.
    let errors = [
        ("cpg request", cpg.local_node_id().map(|_| ())),
        (
            "cpg dispatch",
            cpg.dispatch(corosync::DispatchMode::All).map(|_| ()),
        ),
        ("cpg next_event", pcpg.next_event(Some(WAIT)).map(|_| ())),
        ("cmap request", cmap.get::<u32>("totem.token").map(|_| ())),
        ("cmap next_event", cmap.next_event(Some(WAIT)).map(|_| ())),
        ("quorum request", q.is_quorate().map(|_| ())),
        ("quorum next_event", q.next_event(Some(WAIT)).map(|_| ())),
        ("votequorum request", vq.info(None).map(|_| ())),
        (
            "votequorum next_event",
            vq.next_event(Some(WAIT)).map(|_| ()),
        ),
        ("cfg request", cfg.local_node_id().map(|_| ())),
        ("cfg next_event", cfg.next_event(Some(WAIT)).map(|_| ())),
    ];
    for (what, result) in &errors {
        println!("after the kill, {what}: {result:?}");
        assert!(
            result.as_ref().is_err_and(Error::is_disconnected),
            "{what} after the daemon was killed: {result:?}"
        );
    }
    // The daemon is still down: reconnecting fails, and the handle stays usable for later.
    let early = node.in_namespace(|| cmap.reconnect()).unwrap();
    println!("reconnect while the daemon is down: {early:?}");
    assert!(
        early.as_ref().is_err_and(Error::is_disconnected),
        "{early:?}"
    );

    cluster.restart(1).unwrap();
    node.in_namespace(|| -> corosync::Result<()> {
        let _ = cpg.reconnect()?;
        let _ = pcpg.reconnect()?;
        let _ = cmap.reconnect()?;
        let _ = q.reconnect()?;
        let _ = vq.reconnect()?;
        let _ = cfg.reconnect()?;
        Ok(())
    })
    .unwrap()
    .expect("reconnect every handle");
    println!(
        "pull cpg fd {fd_before} -> {}",
        std::os::fd::AsRawFd::as_raw_fd(&pcpg)
    );

    // Pull handles report the gap first.
    assert!(matches!(
        pcpg.try_next_event(),
        Ok(Some(cpg::Event::Reconnected(_)))
    ));
    assert!(matches!(
        cmap.try_next_event(),
        Ok(Some(cmap::Event::Reconnected(_)))
    ));
    assert!(matches!(
        q.try_next_event(),
        Ok(Some(quorum::Event::Reconnected(_)))
    ));
    assert!(matches!(
        vq.try_next_event(),
        Ok(Some(votequorum::Event::Reconnected(_)))
    ));
    assert!(matches!(
        cfg.try_next_event(),
        Ok(Some(cfg::Event::Reconnected(_)))
    ));

    // The new connections work: requests, tracking, and CPG deliveries after re-joining,
    // to the same closure as before.
    assert_eq!(cpg.local_node_id(), Ok(NodeId::from(1)));
    assert_eq!(cfg.local_node_id(), Ok(NodeId::from(1)));
    assert!(q.is_quorate().is_ok());
    assert!(vq.info(None).is_ok());
    let track = cmap
        .track_events("test.again", TrackOptions::all())
        .unwrap();
    open(node, Cmap::new).set("test.again", 1u8).unwrap();
    let event = pull_until(
        |t| cmap.next_event(t),
        "the new track's event",
        |e| match e {
            cmap::Event::Track(e) => Some(e),
            _ => None,
        },
    );
    assert_eq!(event.track(), track.id());
    drop(track);
    cpg.join(&group).unwrap();
    pcpg.join(&pull_group).unwrap();
    cpg.mcast(Guarantee::Agreed, b"after").unwrap();
    pcpg.mcast(Guarantee::Agreed, b"after").unwrap();
    while delivered.lock().unwrap().len() < 2 {
        assert!(cpg.wait_readable(Some(WAIT)).unwrap());
        cpg.dispatch(corosync::DispatchMode::All).unwrap();
    }
    assert_eq!(
        *delivered.lock().unwrap(),
        vec![b"before".to_vec(), b"after".to_vec()]
    );
    let message = pull_until(
        |t| pcpg.next_event(t),
        "the delivery after the reconnect",
        |e| match e {
            cpg::Event::Message(m) => Some(m),
            _ => None,
        },
    );
    assert_eq!(message.data(), b"after");
}

#[test]
fn mio_registration() {
    use mio::{Events, Interest, Poll, Token};

    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    // Waits for readiness and returns the tokens that became ready.
    let mut ready = |poll: &mut Poll, timeout: Duration| -> Vec<usize> {
        poll.poll(&mut events, Some(timeout)).unwrap();
        let mut tokens: Vec<usize> = events.iter().map(|e| e.token().0).collect();
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    };

    let mut cmap = open(node, Cmap::pull);
    let mut cpg = open(node, Cpg::pull);
    let mut q = open(node, Quorum::pull);
    let mut vq = open(node, Votequorum::pull);
    let mut cfg = open(node, Cfg::pull);
    let registry = poll.registry();
    registry
        .register(&mut cmap, Token(0), Interest::READABLE)
        .unwrap();
    registry
        .register(&mut cpg, Token(1), Interest::READABLE)
        .unwrap();
    registry
        .register(&mut q, Token(2), Interest::READABLE)
        .unwrap();
    registry
        .register(&mut vq, Token(3), Interest::READABLE)
        .unwrap();
    registry
        .register(&mut cfg, Token(4), Interest::READABLE)
        .unwrap();

    // Nothing happens: the poll times out with no token.
    assert!(ready(&mut poll, Duration::from_millis(100)).is_empty());

    // One event per library wakes its token (cfg: a shutdown request, vetoed below).
    let _track = cmap.track_events("test.mio", TrackOptions::all()).unwrap();
    open(node, Cmap::new).set("test.mio", 1u8).unwrap();
    let mut woken = Vec::new();
    while !woken.contains(&0) {
        woken.extend(ready(&mut poll, WAIT));
    }
    assert!(matches!(
        cmap.try_next_event(),
        Ok(Some(cmap::Event::Track(_)))
    ));

    cpg.join(&GroupName::new("events-mio").unwrap()).unwrap();
    q.track_start(TrackFlags::CURRENT).unwrap();
    vq.track_start(1, TrackFlags::CURRENT).unwrap();
    cfg.track_start(TrackFlags::CHANGES).unwrap();
    let requester = open(node, Cfg::new);
    let request = std::thread::spawn(move || requester.try_shutdown(ShutdownMode::Request));
    let mut woken = Vec::new();
    while ![1, 2, 3, 4].iter().all(|t| woken.contains(t)) {
        woken.extend(ready(&mut poll, WAIT));
    }
    assert!(matches!(
        cpg.try_next_event(),
        Ok(Some(cpg::Event::ConfigChange(_)))
    ));
    assert!(matches!(q.try_next_event(), Ok(Some(_))));
    assert!(matches!(vq.try_next_event(), Ok(Some(_))));
    assert!(matches!(
        cfg.try_next_event(),
        Ok(Some(cfg::Event::ShutdownRequest(_)))
    ));
    cfg.reply_to_shutdown(ShutdownReply::No).unwrap();
    assert_eq!(request.join().unwrap(), Err(Error::Busy));
    while q.try_next_event().unwrap().is_some() {}
    while vq.try_next_event().unwrap().is_some() {}
    while cpg.try_next_event().unwrap().is_some() {}
    drop(_track);

    // The daemon dies: every registration wakes, and the pull says why.
    cluster.kill(1).unwrap();
    let mut woken = Vec::new();
    while woken.len() < 5 {
        woken.extend(ready(&mut poll, WAIT));
        woken.sort_unstable();
        woken.dedup();
    }
    assert!(cmap.try_next_event().is_err_and(|e| e.is_disconnected()));
    assert!(cpg.try_next_event().is_err_and(|e| e.is_disconnected()));

    // After a restart and a reconnect, the new fd is registered and wakes the poll.
    cluster.restart(1).unwrap();
    let _ = node
        .in_namespace(|| cmap.reconnect())
        .unwrap()
        .expect("reconnect");
    poll.registry()
        .register(&mut cmap, Token(10), Interest::READABLE)
        .unwrap();
    assert!(matches!(
        cmap.try_next_event(),
        Ok(Some(cmap::Event::Reconnected(_)))
    ));
    let _track = cmap.track_events("test.mio", TrackOptions::all()).unwrap();
    open(node, Cmap::new).set("test.mio", 2u8).unwrap();
    let mut woken = Vec::new();
    while !woken.contains(&10) {
        woken.extend(ready(&mut poll, WAIT));
    }
    assert!(matches!(
        cmap.try_next_event(),
        Ok(Some(cmap::Event::Track(_)))
    ));
}
