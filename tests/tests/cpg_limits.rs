//! CPG message sizes (issue 9, item 2): the largest message each send path accepts is
//! delivered whole on every node of a 3-node cluster, and one byte more is refused.
//!
//! corosync 3.1.7 answers `CS_OK` to a zero-copy send of up to 1 MiB, but delivers nothing
//! above 1 048 392 bytes (the deliver event no longer fits the receivers' 1 MiB IPC ring) and
//! then nothing more on those connections. The crate refuses zero-copy buffers above the
//! atomic size (`max_atomic_msgsize`, 1 MiB - 1 KiB); plain sends above it are fragmented
//! by libcpg and arrive whole.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::{DispatchMode, Error};
use corosync_testcluster::{wait_readable, Cluster};

/// What one node's deliver callback saw: (first 8 bytes as a sequence number, length,
/// whether every other byte matched the pattern).
type Seen = Arc<Mutex<Vec<(u64, usize, bool)>>>;

fn pattern(seq: u64, len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    data[..8].copy_from_slice(&seq.to_le_bytes());
    data
}

fn matches_pattern(data: &[u8]) -> bool {
    data[8..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == ((i + 8) % 251) as u8)
}

/// Dispatches every handle until each has seen message `seq` of `len` bytes whole.
fn wait_delivered(peers: &[(Cpg, Seen)], seq: u64, len: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen: Vec<Option<(usize, bool)>> = peers
            .iter()
            .map(|(_, log)| {
                log.lock()
                    .unwrap()
                    .iter()
                    .find(|m| m.0 == seq)
                    .map(|m| (m.1, m.2))
            })
            .collect();
        if seen.iter().all(|s| s.is_some()) {
            assert!(
                seen.iter().all(|s| *s == Some((len, true))),
                "{what}: delivered damaged: {seen:?}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} ({len} bytes) was not delivered on every node: {seen:?}"
        );
        for (cpg, _) in peers {
            wait_readable(&[std::os::fd::AsFd::as_fd(cpg)], Duration::from_millis(20));
            cpg.dispatch(DispatchMode::All).expect("dispatch");
        }
    }
}

#[test]
fn largest_messages_arrive_whole_on_three_nodes_and_one_byte_more_is_refused() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let group = GroupName::new("size-limits").unwrap();
    let peers: Vec<(Cpg, Seen)> = cluster
        .ids()
        .into_iter()
        .map(|id| {
            let seen: Seen = Arc::default();
            let log = seen.clone();
            let cpg = cluster
                .node(id)
                .in_namespace(move || {
                    let cpg = Cpg::builder()
                        .on_deliver(move |_, msg| {
                            let data = msg.data();
                            let seq = u64::from_le_bytes(data[..8].try_into().unwrap());
                            log.lock()
                                .unwrap()
                                .push((seq, data.len(), matches_pattern(data)));
                        })
                        .build()?;
                    cpg.join(&group)?;
                    Ok::<_, Error>(cpg)
                })
                .expect("enter the namespace")
                .expect("open and join");
            (cpg, seen)
        })
        .collect();
    let sender = &peers[0].0;
    let max = sender.max_atomic_msgsize().expect("max_atomic_msgsize");
    assert_eq!(max, 1024 * 1024 - 1024, "libcpg 3.1.7's atomic size");
    let deadline = || Some(Instant::now() + Duration::from_secs(20));

    // Zero-copy: the largest buffer is delivered whole everywhere (before the fix, 1 MiB was
    // accepted, answered Ok and never delivered).
    let mut buffer = sender.zcb_alloc(max).expect("the largest zero-copy buffer");
    buffer.copy_from_slice(&pattern(1, max));
    buffer
        .mcast_retrying(Guarantee::Agreed, deadline())
        .expect("send the largest zero-copy message");
    drop(buffer);
    wait_delivered(&peers, 1, max, "the largest zero-copy message");
    assert_eq!(
        sender.zcb_alloc(max + 1).map(|b| b.len()),
        Err(Error::TooLong {
            what: "CPG zero-copy buffer",
            length: max + 1,
            max
        })
    );
    assert!(matches!(
        sender.zcb_alloc(1024 * 1024),
        Err(Error::TooLong { .. })
    ));

    // Plain sends: the atomic size, one byte more (fragmented by libcpg), and 2 MiB all
    // arrive whole; and the connection still delivers after the largest zero-copy message.
    for (seq, len) in [(2, max), (3, max + 1), (4, 2 * 1024 * 1024)] {
        sender
            .mcast_retrying(Guarantee::Agreed, &pattern(seq, len), deadline())
            .expect("plain send");
        wait_delivered(&peers, seq, len, "a plain message");
    }
}
