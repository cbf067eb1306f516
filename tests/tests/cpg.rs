//! CPG against real corosync daemons: membership, total and FIFO order, big, empty, gathered
//! and zero-copy messages, leave / process exit / node kill / restart, group names, replies
//! from inside a callback, iteration and every dispatch flag.
//!
//! The tests that need every node up share one 3-node cluster, started by the first of them
//! and removed when the test process exits (`common::shared`); each opens its own handles and
//! joins a group of its own. The test that kills and restarts a node, and the one-node
//! process-exit test, start clusters of their own.
//!
//! In each test, one handle per node is opened in that node's namespace; the test thread
//! drives them all (sends, then polls every fd and dispatches), and the callbacks record owned
//! copies of what they saw for the assertions.

use std::io::{BufRead, BufReader, IoSlice, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corosync::cpg::{Address, Cpg, FlowControl, GroupName, Guarantee, Reason};
use corosync::{DispatchMode, Dispatched, Error, NodeId};
use corosync_testcluster::{Cluster, Node};

mod common;
#[path = "../../examples/src/corosync_release.rs"]
mod corosync_release;

use common::shared::SharedCluster;

/// Set in the environment of a child copy of this test binary: the group it joins.
const CHILD_ENV: &str = "COROSYNC_CPG_TEST_CHILD_GROUP";
/// The test that doubles as that child (see `process_exit_is_reported_as_procdown`).
const CHILD_TEST: &str = "process_exit_is_reported_as_procdown";

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Message {
        group: Vec<u8>,
        node: u32,
        pid: u32,
        data: Vec<u8>,
    },
    Conf {
        group: Vec<u8>,
        members: Vec<(u32, u32)>,
        left: Vec<(u32, u32, Reason)>,
        joined: Vec<(u32, u32, Reason)>,
    },
    Totem {
        members: Vec<u32>,
    },
    /// What node 2's deliver callback saw when it answered a "ping" from inside dispatch.
    Replied {
        reentrant_dispatch: Result<Dispatched, Error>,
        reply: Result<u32, Error>,
    },
}

type Log = Arc<Mutex<Vec<Event>>>;

struct Peer {
    id: u32,
    cpg: Cpg,
    log: Log,
}

impl Peer {
    fn open(node: &Node) -> Peer {
        let log: Log = Arc::default();
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        let cpg = node
            .in_namespace(move || {
                Cpg::builder()
                    .on_deliver(move |cpg, msg| {
                        let mut log = l1.lock().unwrap();
                        log.push(Event::Message {
                            group: msg.group().as_bytes().to_vec(),
                            node: msg.node_id().get(),
                            pid: msg.pid(),
                            data: msg.data().to_vec(),
                        });
                        if msg.data() == b"ping" && cpg.local_node_id().map(|n| n.get()) == Ok(2) {
                            let reentrant_dispatch = cpg.dispatch(DispatchMode::All);
                            let deadline = Instant::now() + Duration::from_secs(10);
                            let reply =
                                cpg.mcast_retrying(Guarantee::Agreed, b"pong", Some(deadline));
                            log.push(Event::Replied {
                                reentrant_dispatch,
                                reply,
                            });
                        }
                    })
                    .on_confchg(move |_, change| {
                        let pairs = |list: &[Address]| {
                            list.iter()
                                .map(|a| (a.node_id().get(), a.pid(), a.reason()))
                                .collect::<Vec<_>>()
                        };
                        l2.lock().unwrap().push(Event::Conf {
                            group: change.group().as_bytes().to_vec(),
                            members: change
                                .members()
                                .iter()
                                .map(|a| (a.node_id().get(), a.pid()))
                                .collect(),
                            left: pairs(change.left()),
                            joined: pairs(change.joined()),
                        });
                    })
                    .on_totem_confchg(move |_, ring| {
                        l3.lock().unwrap().push(Event::Totem {
                            members: ring.members().iter().map(|n| n.get()).collect(),
                        });
                    })
                    .deliver_initial_totem_conf(true)
                    .build()
            })
            .expect("enter namespace")
            .expect("open a CPG handle");
        Peer {
            id: node.id(),
            cpg,
            log,
        }
    }

    fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Data of the messages delivered so far, in delivery order.
    fn messages(&self) -> Vec<(u32, Vec<u8>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Message { node, data, .. } => Some((node, data)),
                _ => None,
            })
            .collect()
    }

    fn confchgs(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| matches!(e, Event::Conf { .. }))
            .collect()
    }

    /// Whether a configuration change of `group` has `members` (sorted node ids) as its
    /// member list.
    fn saw_members(&self, group: &[u8], members: &[u32]) -> bool {
        self.events().iter().any(|e| match e {
            Event::Conf {
                group: g,
                members: m,
                ..
            } => g == group && sorted(m.iter().map(|x| x.0)) == members,
            _ => false,
        })
    }

    fn saw_totem(&self, members: &[u32]) -> bool {
        self.events().iter().any(
            |e| matches!(e, Event::Totem { members: m } if sorted(m.iter().copied()) == members),
        )
    }

    /// The `left` entries of every configuration change so far.
    fn left(&self) -> Vec<(u32, u32, Reason)> {
        self.events()
            .into_iter()
            .flat_map(|e| match e {
                Event::Conf { left, .. } => left,
                _ => Vec::new(),
            })
            .collect()
    }
}

fn sorted(it: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = it.collect();
    v.sort_unstable();
    v
}

/// Dispatches every handle until `done` holds, or fails the test after `timeout`.
fn pump(handles: &[&Cpg], timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        for cpg in handles {
            cpg.dispatch(DispatchMode::All)
                .unwrap_or_else(|e| panic!("dispatch while waiting for {what}: {e}"));
        }
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        let fds: Vec<BorrowedFd<'_>> = handles.iter().map(|c| c.as_fd()).collect();
        corosync_testcluster::wait_readable(&fds, Duration::from_millis(20));
    }
}

fn deadline() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(30))
}

fn numbered(tag: u8, node: u32, seq: u32) -> Vec<u8> {
    let mut m = vec![tag, node as u8];
    m.extend_from_slice(&seq.to_le_bytes());
    m
}

fn parse_numbered(data: &[u8], tag: u8) -> Option<(u32, u32)> {
    (data.len() == 6 && data[0] == tag).then(|| {
        (
            u32::from(data[1]),
            u32::from_le_bytes(data[2..6].try_into().unwrap()),
        )
    })
}

/// The 3-node cluster shared by the tests that need every node up. Each test opens its own
/// handles and uses a group of its own (a process can be in a group only once per node). The
/// test that kills and restarts a node starts a cluster of its own.
static CLUSTER: SharedCluster = SharedCluster::new(|| Cluster::start(3));

/// One peer per node of a 3-node cluster.
fn peers_of(cluster: &Cluster) -> Vec<Peer> {
    (1..=3).map(|k| Peer::open(cluster.node(k))).collect()
}

fn handles(peers: &[Peer]) -> Vec<&Cpg> {
    peers.iter().map(|p| &p.cpg).collect()
}

/// Every peer joins `group`; returns once each has seen the three members in the group and
/// in the ring.
fn join_all(peers: &[Peer], group: &GroupName) {
    for p in peers {
        p.cpg.join(group).unwrap();
    }
    let g = group.as_bytes();
    pump(
        &handles(peers),
        Duration::from_secs(20),
        "3 members everywhere",
        || {
            peers
                .iter()
                .all(|p| p.saw_members(g, &[1, 2, 3]) && p.saw_totem(&[1, 2, 3]))
        },
    );
}

#[test]
fn queries_and_sends_before_a_join() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    for p in &peers {
        assert_eq!(p.cpg.local_node_id().unwrap(), NodeId::from(p.id));
        assert_eq!(p.cpg.max_atomic_msgsize().unwrap(), 1024 * 1024 - 1024);
        assert_eq!(p.cpg.flow_control_state().unwrap(), FlowControl::Disabled);
        // Nothing is pending before a join.
        assert_eq!(
            p.cpg.dispatch(DispatchMode::OneNonBlocking).unwrap(),
            Dispatched::NothingPending
        );
        // Sending without a group: libcpg 3.1.7 does not wait for the daemon's answer, so
        // the message is dropped without an error. The zero-copy send of corosync 3.1 does
        // report it; after 3.1.10 it is a plain send (see the cpg module docs), which does not.
        assert_eq!(p.cpg.mcast(Guarantee::Agreed, b"x"), Ok(()));
        let zc = p.cpg.zcb_alloc(8).unwrap();
        let expected = if corosync_release::at_least(&[3, 1, 10, 1]) {
            Ok(())
        } else {
            Err(Error::NotExist)
        };
        assert_eq!(
            zc.mcast(Guarantee::Agreed),
            expected,
            "corosync {}",
            corosync::COROSYNC_VERSION
        );
    }
}

#[test]
fn joins_report_node_ids_pids_and_the_membership() {
    let cluster = CLUSTER.get();
    let pid = std::process::id();
    let peers = peers_of(&cluster);
    let group = GroupName::new("cpg-joins").unwrap();
    let g = group.as_bytes();
    join_all(&peers, &group);
    for p in &peers {
        let mut joined: Vec<(u32, u32, Reason)> = p
            .confchgs()
            .into_iter()
            .flat_map(|e| match e {
                Event::Conf { joined, group, .. } if group == g => joined,
                _ => Vec::new(),
            })
            .collect();
        joined.sort_unstable_by_key(|j| j.0);
        // Each node sees its own join and the later ones (earlier joiners are reported as
        // members of its first change).
        assert!(
            joined.iter().all(|j| j.1 == pid && j.2 == Reason::Join),
            "{joined:?}"
        );
        assert!(
            joined.iter().any(|j| j.0 == p.id),
            "node {} own join: {joined:?}",
            p.id
        );
        let members = p.cpg.membership(&group).unwrap();
        let mut m: Vec<(u32, u32, Reason)> = members
            .iter()
            .map(|a| (a.node_id().get(), a.pid(), a.reason()))
            .collect();
        m.sort_unstable_by_key(|e| (e.0, e.1));
        assert_eq!(
            m,
            vec![
                (1, pid, Reason::Undefined),
                (2, pid, Reason::Undefined),
                (3, pid, Reason::Undefined)
            ],
            "membership_get on node {}",
            p.id
        );
        let via_iteration: Vec<(u32, u32)> = p
            .cpg
            .iter_group_members(&group)
            .unwrap()
            .map(|e| e.map(|e| (e.node_id().get(), e.pid())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sorted(via_iteration.iter().map(|e| e.0)), vec![1, 2, 3]);
        assert!(via_iteration.iter().all(|e| e.1 == pid));
    }
    // The last join is reported to all three with the same member list.
    let last_members: Vec<Vec<(u32, u32)>> = peers
        .iter()
        .map(|p| match p.confchgs().last() {
            Some(Event::Conf { members, .. }) => {
                let mut members = members.clone();
                members.sort_unstable();
                members
            }
            other => panic!("no confchg on node {}: {other:?}", p.id),
        })
        .collect();
    assert_eq!(last_members[0], last_members[1]);
    assert_eq!(last_members[1], last_members[2]);
}

/// 1,000 numbered Agreed messages per node: the same total order everywhere.
#[test]
fn agreed_messages_arrive_in_one_total_order_everywhere() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    join_all(&peers, &GroupName::new("cpg-agreed").unwrap());
    let handles = handles(&peers);
    for p in &peers {
        p.clear();
    }
    const AGREED: u32 = 1000;
    for seq in 0..AGREED {
        for p in &peers {
            p.cpg
                .mcast_retrying(Guarantee::Agreed, &numbered(b'A', p.id, seq), deadline())
                .unwrap();
        }
        if seq % 50 == 0 {
            for p in &peers {
                p.cpg.dispatch(DispatchMode::All).unwrap();
            }
        }
    }
    pump(
        &handles,
        Duration::from_secs(60),
        "3,000 agreed messages",
        || {
            peers
                .iter()
                .all(|p| p.messages().len() >= 3 * AGREED as usize)
        },
    );
    let orders: Vec<Vec<(u32, u32)>> = peers
        .iter()
        .map(|p| {
            p.messages()
                .iter()
                .map(|(node, data)| {
                    let (sender, seq) = parse_numbered(data, b'A').expect("an agreed message");
                    assert_eq!(*node, sender, "sender node id");
                    (sender, seq)
                })
                .collect()
        })
        .collect();
    assert_eq!(orders[0].len(), 3 * AGREED as usize);
    assert_eq!(
        orders[0], orders[1],
        "nodes 1 and 2 delivered different orders"
    );
    assert_eq!(
        orders[0], orders[2],
        "nodes 1 and 3 delivered different orders"
    );
    for sender in 1..=3 {
        let seqs: Vec<u32> = orders[0]
            .iter()
            .filter(|m| m.0 == sender)
            .map(|m| m.1)
            .collect();
        assert_eq!(seqs, (0..AGREED).collect::<Vec<_>>(), "sender {sender}");
    }
}

/// Fifo: each sender's messages arrive in its own order, on every node.
#[test]
fn fifo_messages_keep_each_senders_order_everywhere() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    join_all(&peers, &GroupName::new("cpg-fifo").unwrap());
    let handles = handles(&peers);
    for p in &peers {
        p.clear();
    }
    const FIFO: u32 = 300;
    for seq in 0..FIFO {
        for p in &peers {
            p.cpg
                .mcast_retrying(Guarantee::Fifo, &numbered(b'F', p.id, seq), deadline())
                .unwrap();
        }
    }
    pump(&handles, Duration::from_secs(60), "fifo messages", || {
        peers
            .iter()
            .all(|p| p.messages().len() >= 3 * FIFO as usize)
    });
    for p in &peers {
        let msgs = p.messages();
        assert_eq!(msgs.len(), 3 * FIFO as usize);
        for sender in 1..=3 {
            let seqs: Vec<u32> = msgs
                .iter()
                .filter_map(|(_, d)| parse_numbered(d, b'F'))
                .filter(|m| m.0 == sender)
                .map(|m| m.1)
                .collect();
            assert_eq!(
                seqs,
                (0..FIFO).collect::<Vec<_>>(),
                "sender {sender} on node {}",
                p.id
            );
        }
    }
}

/// 1 MiB, empty, gathered, many-slice and zero-copy messages arrive intact.
#[test]
fn big_empty_gathered_and_zero_copy_messages_arrive_intact() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    join_all(&peers, &GroupName::new("cpg-special").unwrap());
    let handles = handles(&peers);
    for p in &peers {
        p.clear();
    }
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 % 251) as u8).collect();
    let middle: Vec<u8> = (0..1000).map(|i| (i % 7) as u8 + b'0').collect();
    let gathered: Vec<u8> = [&b"head:"[..], &middle, b":tail"].concat();
    let pieces: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; usize::from(i % 5)]).collect();
    let many: Vec<u8> = pieces.concat();
    let zc_len = 70_000;
    let sender = &peers[0].cpg;
    sender
        .mcast_retrying(Guarantee::Safe, &big, deadline())
        .unwrap();
    sender
        .mcast_retrying(Guarantee::Unordered, &[], deadline())
        .unwrap();
    sender
        .mcast_vectored_retrying(
            Guarantee::Agreed,
            &[
                IoSlice::new(b"head:"),
                IoSlice::new(&middle),
                IoSlice::new(b":tail"),
            ],
            deadline(),
        )
        .unwrap();
    let slices: Vec<IoSlice<'_>> = pieces.iter().map(|p| IoSlice::new(p)).collect();
    assert!(slices.len() > 64);
    sender
        .mcast_vectored_retrying(Guarantee::Fifo, &slices, deadline())
        .unwrap();
    let zc_expected: Vec<u8> = (0..zc_len).map(|i| (i % 253) as u8).collect();
    {
        let mut zc = sender.zcb_alloc(zc_len).unwrap();
        assert_eq!(zc.len(), zc_len);
        assert!(zc.iter().all(|&b| b == 0), "a new buffer is zeroed");
        zc.copy_from_slice(&zc_expected);
        zc.mcast_retrying(Guarantee::Agreed, deadline()).unwrap();
        // The buffer may be changed and sent again at once.
        zc[..5].copy_from_slice(b"again");
        zc.mcast_prefix(Guarantee::Agreed, 5).unwrap();
        assert!(matches!(
            zc.mcast_prefix(Guarantee::Agreed, zc_len + 1),
            Err(Error::TooLong { .. })
        ));
    }
    assert!(matches!(
        sender.zcb_alloc(2 * 1024 * 1024),
        Err(Error::TooLong { .. })
    ));
    let expected: Vec<(u32, Vec<u8>)> = vec![
        (1, big.clone()),
        (1, Vec::new()),
        (1, gathered),
        (1, many),
        (1, zc_expected),
        (1, b"again".to_vec()),
    ];
    pump(
        &handles,
        Duration::from_secs(60),
        "special messages",
        || peers.iter().all(|p| p.messages().len() >= expected.len()),
    );
    for p in &peers {
        let got = p.messages();
        assert_eq!(got.len(), expected.len(), "node {}", p.id);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(
                g == e,
                "node {} message {i}: {} bytes, expected {}",
                p.id,
                g.1.len(),
                e.1.len()
            );
        }
    }
}

/// A reply sent from inside a deliver callback (node 2 answers "ping").
#[test]
fn reply_sent_from_inside_a_deliver_callback() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    join_all(&peers, &GroupName::new("cpg-reply").unwrap());
    let handles = handles(&peers);
    for p in &peers {
        p.clear();
    }
    peers[0].cpg.mcast(Guarantee::Agreed, b"ping").unwrap();
    pump(&handles, Duration::from_secs(20), "pong", || {
        peers.iter().all(|p| p.messages().len() >= 2)
    });
    for p in &peers {
        assert_eq!(
            p.messages(),
            vec![(1, b"ping".to_vec()), (2, b"pong".to_vec())],
            "node {}",
            p.id
        );
    }
    let replied: Vec<Event> = peers[1]
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Replied { .. }))
        .collect();
    assert_eq!(
        replied,
        vec![Event::Replied {
            reentrant_dispatch: Err(Error::ReentrantDispatch),
            reply: Ok(0)
        }]
    );
}

/// Group names: 128 bytes, 129 refused, NUL and non-UTF-8 names are distinct; the group
/// listings and corosync-cpgtool show them.
#[test]
fn group_names_long_with_nul_and_non_utf8_are_distinct() {
    let cluster = CLUSTER.get();
    let pid = std::process::id();
    let peers = peers_of(&cluster);
    let group = GroupName::new("cpg-names").unwrap();
    join_all(&peers, &group);
    let long: Vec<u8> = (0..128u32)
        .map(|i| b"long-name\xff\x00-"[i as usize % 12])
        .collect();
    let long_name = GroupName::new(&long).unwrap();
    assert!(matches!(
        GroupName::new([b'x'; 129]),
        Err(Error::TooLong {
            length: 129,
            max: 128,
            ..
        })
    ));
    assert!(GroupName::with_nul([b'x'; 128]).is_err());
    let long_peer = Peer::open(cluster.node(1));
    long_peer.cpg.join(&long_name).unwrap();
    pump(
        &[&long_peer.cpg],
        Duration::from_secs(20),
        "join of the long name",
        || long_peer.saw_members(&long, &[1]),
    );
    let names = [
        GroupName::new("GROUP").unwrap(),
        GroupName::with_nul("GROUP").unwrap(),
        GroupName::new("GR\0UP").unwrap(),
        GroupName::new(b"GROUP\xff").unwrap(),
        GroupName::new(b"\xc3\x28").unwrap(),
    ];
    let name_handles: Vec<Cpg> = names
        .iter()
        .map(|name| {
            let cpg = cluster
                .node(1)
                .in_namespace(Cpg::new)
                .unwrap()
                .expect("open");
            // All these handles share our pid: a join of a name equal to one already joined
            // would be refused with Exist.
            cpg.join(name)
                .unwrap_or_else(|e| panic!("join {name:?}: {e}"));
            cpg
        })
        .collect();
    let name_refs: Vec<&Cpg> = name_handles.iter().collect();
    pump(
        &name_refs,
        Duration::from_secs(20),
        "joins of the odd names",
        || {
            names.iter().all(|n| {
                peers[0]
                    .cpg
                    .membership(n)
                    .map(|m| m.len() == 1)
                    .unwrap_or(false)
            })
        },
    );
    for name in &names {
        let members = peers[1].cpg.membership(name).unwrap();
        assert_eq!(members.len(), 1, "{name:?} seen from node 2");
        assert_eq!((members[0].node_id().get(), members[0].pid()), (1, pid));
    }
    let groups: Vec<GroupName> = peers[2]
        .cpg
        .iter_groups()
        .unwrap()
        .map(|e| e.map(|e| *e.group()))
        .collect::<Result<_, _>>()
        .unwrap();
    for name in names.iter().chain([&long_name, &group]) {
        assert_eq!(
            groups.iter().filter(|g| *g == name).count(),
            1,
            "{name:?} in {groups:?}"
        );
    }
    let all: Vec<(GroupName, u32)> = peers[0]
        .cpg
        .iter_all()
        .unwrap()
        .map(|e| e.map(|e| (*e.group(), e.node_id().get())))
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(all.contains(&(long_name, 1)), "{all:?}");
    assert_eq!(all.iter().filter(|e| e.0 == group).count(), 3);
    // corosync's own tool agrees (it escapes bytes as \xNN, signed-char style for >= 0x80).
    let cpgtool = cluster.node(2).run("corosync-cpgtool", ["-n"]).unwrap();
    for shown in ["GROUP\n", "GROUP\\x00\n", "GR\\x00UP\n", "cpg-names\n"] {
        assert!(cpgtool.contains(shown), "{shown:?} in {cpgtool}");
    }
}

/// Leave: reported with reason Leave; the handle cannot rejoin in 3.1.7, a new one can.
#[test]
fn leave_is_reported_and_only_a_new_handle_rejoins() {
    let cluster = CLUSTER.get();
    let pid = std::process::id();
    let mut peers = peers_of(&cluster);
    let group = GroupName::new("cpg-leave").unwrap();
    let g = group.as_bytes();
    join_all(&peers, &group);
    for p in &peers {
        p.clear();
    }
    peers[2].cpg.leave(&group).unwrap();
    pump(
        &handles(&peers),
        Duration::from_secs(20),
        "the leave of node 3",
        || {
            peers
                .iter()
                .all(|p| p.left().contains(&(3, pid, Reason::Leave)))
        },
    );
    assert!(peers[0].saw_members(g, &[1, 2]));
    // (The daemon would answer Exist for this group and never answer for another one:
    // tests/daemon_safety.rs.)
    assert_eq!(peers[2].cpg.join(&group), Err(Error::NotSupported));
    assert_eq!(peers[2].cpg.leave(&group), Err(Error::NotExist));
    let old = peers.pop().unwrap();
    old.cpg.finalize().unwrap();
    peers.push(Peer::open(cluster.node(3)));
    peers[2].cpg.join(&group).unwrap();
    pump(
        &handles(&peers),
        Duration::from_secs(20),
        "node 3 back in the group",
        || peers.iter().all(|p| p.saw_members(g, &[1, 2, 3])),
    );
}

/// A client process on node 3 that exits is reported as process down on every node.
#[test]
fn exit_of_a_member_process_is_reported_as_procdown_everywhere() {
    let cluster = CLUSTER.get();
    let pid = std::process::id();
    let peers = peers_of(&cluster);
    let group = GroupName::new("cpg-child").unwrap();
    let g = group.as_bytes();
    join_all(&peers, &group);
    let handles = handles(&peers);
    let child_pid = {
        let child = ChildMember::spawn(cluster.node(3), g);
        pump(
            &handles,
            Duration::from_secs(20),
            "the child's join",
            || {
                peers.iter().all(|p| {
                    p.events().iter().any(|e| {
                        matches!(e, Event::Conf { joined, .. }
                        if joined.contains(&(3, child.pid, Reason::Join)))
                    })
                })
            },
        );
        let child_pid = child.pid;
        child.exit();
        child_pid
    };
    assert_ne!(child_pid, pid);
    pump(
        &handles,
        Duration::from_secs(20),
        "the child's process-down",
        || {
            peers
                .iter()
                .all(|p| p.left().contains(&(3, child_pid, Reason::ProcDown)))
        },
    );
}

/// Every dispatch flag, on a handle in a group whose members are all known.
#[test]
fn dispatch_flags_one_one_nonblocking_and_all() {
    let cluster = CLUSTER.get();
    let peers = peers_of(&cluster);
    join_all(&peers, &GroupName::new("cpg-dispatch").unwrap());
    for p in &peers {
        p.clear();
    }
    let node1 = &peers[0].cpg;
    assert_eq!(
        node1.dispatch(DispatchMode::OneNonBlocking).unwrap(),
        Dispatched::NothingPending
    );
    node1.mcast(Guarantee::Agreed, b"one").unwrap();
    // One waits for the message and processes just it.
    assert_eq!(
        node1.dispatch(DispatchMode::One).unwrap(),
        Dispatched::Processed
    );
    assert_eq!(peers[0].messages(), vec![(1, b"one".to_vec())]);
    node1.mcast(Guarantee::Agreed, b"two").unwrap();
    // Wait (without dispatching) until the message is there.
    assert!(
        corosync_testcluster::wait_readable(&[node1.as_fd()], Duration::from_secs(10)),
        "no event within 10 s"
    );
    assert_eq!(
        node1.dispatch(DispatchMode::OneNonBlocking).unwrap(),
        Dispatched::Processed
    );
    assert_eq!(
        node1.dispatch(DispatchMode::All).unwrap(),
        Dispatched::Processed
    );
    assert_eq!(peers[0].messages().len(), 2);
}

/// Killing node 3: node-down in the group, a totem change, and Blocking dispatch on node 3
/// ends with an error. Then the restart: node 3 comes back in the ring and its new member in
/// the group. This test kills a daemon, so it runs on a cluster of its own.
#[test]
fn killed_node_is_reported_down_and_rejoins_after_restart() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let pid = std::process::id();
    let mut peers = peers_of(&cluster);
    let group = GroupName::new("cpg-kill").unwrap();
    let g = group.as_bytes();
    join_all(&peers, &group);

    // --- The kill. ---
    for p in &peers {
        p.clear();
    }
    let node3 = peers.pop().unwrap();
    let node3_log = node3.log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        let _ = tid_tx.send(unsafe { libc::gettid() });
        let result = node3.cpg.dispatch_blocking().map(|_| ());
        let _ = tx.send((result, node3));
    });
    let tid = tid_rx.recv().expect("the dispatching thread's id");
    wait_parked_in_poll(tid);
    cluster.kill(3).unwrap();
    let (blocking_result, node3) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("blocking dispatch on node 3 did not return after the kill");
    assert!(blocking_result.is_err(), "{blocking_result:?}");
    // The dead connection keeps answering errors.
    assert!(node3.cpg.mcast(Guarantee::Agreed, b"x").is_err());
    drop(node3);
    drop(node3_log);
    pump(
        &handles(&peers),
        Duration::from_secs(30),
        "node 3 down",
        || {
            peers
                .iter()
                .all(|p| p.left().contains(&(3, pid, Reason::NodeDown)) && p.saw_totem(&[1, 2]))
        },
    );
    for p in &peers {
        assert!(p.saw_members(g, &[1, 2]), "node {}", p.id);
        let members = p.cpg.membership(&group).unwrap();
        assert_eq!(
            sorted(members.iter().map(|a| a.node_id().get())),
            vec![1, 2]
        );
    }

    // --- The restart. ---
    for p in &peers {
        p.clear();
    }
    cluster.restart(3).unwrap();
    cluster
        .wait_converged(&[1, 2, 3], Duration::from_secs(30))
        .unwrap();
    peers.push(Peer::open(cluster.node(3)));
    peers[2].cpg.join(&group).unwrap();
    pump(
        &handles(&peers),
        Duration::from_secs(30),
        "node 3 rejoined",
        || {
            peers[..2].iter().all(|p| p.saw_totem(&[1, 2, 3]))
                && peers.iter().all(|p| p.saw_members(g, &[1, 2, 3]))
        },
    );
    for p in &peers {
        let members = p.cpg.membership(&group).unwrap();
        assert_eq!(
            sorted(members.iter().map(|a| a.node_id().get())),
            vec![1, 2, 3]
        );
    }
}

/// A copy of this test binary, run as a separate process in a node's namespace, that joins a
/// group and exits (without leaving or finalizing) when its stdin closes.
struct ChildMember {
    child: std::process::Child,
    pid: u32,
}

impl ChildMember {
    fn spawn(node: &Node, group: &[u8]) -> ChildMember {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = node
            .command(exe)
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, hex(group))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the child member");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let pid = loop {
            let line = lines
                .next()
                .expect("child ended before joining")
                .expect("read child output");
            // libtest prints "test NAME ... " on the same line first.
            if let Some((_, pid)) = line.split_once("joined ") {
                break pid.trim().parse().expect("child pid");
            }
        };
        ChildMember { child, pid }
    }

    fn exit(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("wait for the child");
        assert!(status.success(), "child member: {status}");
    }
}

/// Group names travel to the child in the environment, which cannot hold NUL bytes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What the child copy does: join, say so, wait for stdin to close, exit without cleaning up.
fn run_child(group: &[u8]) -> ! {
    let cpg = Cpg::new().expect("child: open");
    cpg.join(&GroupName::new(group).unwrap())
        .expect("child: join");
    let mut out = std::io::stdout();
    writeln!(out, "joined {}", std::process::id()).unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
    // Exit without finalize or leave: the daemon sees the connection drop.
    std::process::exit(0);
}

/// A process that joined a group and exits shows up as process-down, and a handle that is
/// dropped while joined too. Run by the harness as a normal test; this test and
/// `exit_of_a_member_process_is_reported_as_procdown_everywhere` also run it as a child process
/// (with CHILD_ENV set), which is the member that exits.
#[test]
fn process_exit_is_reported_as_procdown() {
    if let Ok(group) = std::env::var(CHILD_ENV) {
        run_child(&unhex(&group));
    }
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let pid = std::process::id();
    let watcher = Peer::open(cluster.node(1));
    let group = GroupName::with_nul("exit-test").unwrap();
    watcher.cpg.join(&group).unwrap();
    let g = group.as_bytes();
    pump(&[&watcher.cpg], Duration::from_secs(20), "own join", || {
        watcher.saw_members(g, &[1])
    });

    // A separate process joins, then exits.
    let child = ChildMember::spawn(cluster.node(1), g);
    let child_pid = child.pid;
    pump(
        &[&watcher.cpg],
        Duration::from_secs(20),
        "the child's join",
        || {
            watcher
                .cpg
                .membership(&group)
                .map(|m| m.iter().any(|a| a.pid() == child_pid))
                .unwrap_or(false)
        },
    );
    child.exit();
    pump(
        &[&watcher.cpg],
        Duration::from_secs(20),
        "process down",
        || watcher.left().contains(&(1, child_pid, Reason::ProcDown)),
    );

    // A second handle of this process that is dropped while in the group: process down too.
    let other = Peer::open(cluster.node(1));
    let other_group = GroupName::new("exit-test-2").unwrap();
    other.cpg.join(&other_group).unwrap();
    pump(
        &[&other.cpg],
        Duration::from_secs(20),
        "second join",
        || other.saw_members(other_group.as_bytes(), &[1]),
    );
    drop(other);
    // No other handle of this process can join that group to watch it; ask the daemon.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !watcher.cpg.membership(&other_group).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "dropped handle still a member");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The watcher's own membership is just itself again.
    let members = watcher.cpg.membership(&group).unwrap();
    assert_eq!(
        members,
        vec![Address::new(NodeId::from(1), pid, Reason::Undefined)]
    );
    // The C tool shows the group with the NUL it was joined with.
    let out = cluster.node(1).run("corosync-cpgtool", ["-n"]).unwrap();
    assert!(out.contains("exit-test\\x00\n"), "{out}");
}

/// Waits until thread `tid` of this process sleeps in a poll-family system call (read from
/// /proc/self/task/TID/syscall): for a thread whose next step after reporting its id is
/// `dispatch(Blocking)`, that proves it is parked in libqb's wait for an event.
fn wait_parked_in_poll(tid: libc::pid_t) {
    #[cfg(target_arch = "x86_64")]
    let polls = [
        libc::SYS_poll,
        libc::SYS_ppoll,
        libc::SYS_epoll_wait,
        libc::SYS_epoll_pwait,
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let polls = [libc::SYS_ppoll, libc::SYS_epoll_pwait];
    let path = format!("/proc/self/task/{tid}/syscall");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let nr = text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        if nr.is_some_and(|nr| polls.contains(&nr)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {tid} never parked in poll; {path}: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
