//! A panicking callback loses no event (issue 9, item 5), and dispatch works on a thread with
//! a 2 MiB stack although the C library puts 1 MiB on it (item 6).

use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName, Guarantee};
use corosync::{DispatchMode, Error};
use corosync_testcluster::{wait_readable, Cluster, Node};

type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// A CPG handle on `node` in `group` whose deliver callback records each message, then
/// panics on the message `panic_on` (if any).
fn member(node: &Node, group: GroupName, panic_on: Option<&'static [u8]>) -> (Cpg, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let cpg = node
        .in_namespace(move || {
            let cpg = Cpg::builder()
                .on_deliver(move |_, msg| {
                    log.lock().unwrap().push(msg.data().to_vec());
                    if Some(msg.data()) == panic_on {
                        panic!("callback panicked on {:?}", msg.data());
                    }
                })
                .build()?;
            cpg.join(&group)?;
            Ok::<_, Error>(cpg)
        })
        .expect("enter the namespace")
        .expect("open and join");
    (cpg, seen)
}

fn messages(n: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("message {i}").into_bytes())
        .collect()
}

#[test]
fn a_member_that_catches_a_callback_panic_misses_no_message() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");
    let group = GroupName::new("panics").unwrap();
    let (sender, sender_seen) = member(cluster.node(1), group, None);
    let (panicky, panicky_seen) = member(cluster.node(2), group, Some(b"message 2"));
    // Both members are in the group before anything is sent.
    let deadline = Instant::now() + Duration::from_secs(20);
    while sender.membership(&group).map(|m| m.len()) != Ok(2) {
        assert!(Instant::now() < deadline, "node 2 never joined");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = messages(8);
    for message in &sent {
        sender
            .mcast_retrying(Guarantee::Agreed, message, Some(deadline))
            .expect("send");
    }
    // The sender sees all of them: the daemons have ordered them, so node 2's are all queued,
    // and its `dispatch(All)` (one C `CS_DISPATCH_ALL`) reads them in one go: the handle
    // keeps those behind the panic.
    while sender_seen.lock().unwrap().len() < sent.len() {
        assert!(Instant::now() < deadline, "the sender's own messages");
        wait_readable(&[sender.as_fd()], Duration::from_millis(100));
        sender.dispatch(DispatchMode::All).expect("dispatch");
    }
    std::thread::sleep(Duration::from_millis(200));

    // Node 2 dispatches everything: the callback panics on message 2; the member catches it
    // and carries on dispatching.
    let payload = catch_unwind(AssertUnwindSafe(|| panicky.dispatch(DispatchMode::All)))
        .expect_err("the callback's panic comes out of dispatch");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("callback panicked on [109, 101, 115, 115, 97, 103, 101, 32, 50]")
    );
    assert_eq!(
        panicky_seen.lock().unwrap().len(),
        3,
        "the panic stopped the dispatch at message 2"
    );
    while panicky_seen.lock().unwrap().len() < sent.len() {
        assert!(
            Instant::now() < deadline,
            "messages after the panic were lost: {:?}",
            panicky_seen.lock().unwrap()
        );
        wait_readable(&[panicky.as_fd()], Duration::from_millis(100));
        panicky
            .dispatch(DispatchMode::All)
            .expect("dispatch after the panic");
    }
    assert_eq!(*panicky_seen.lock().unwrap(), sent, "node 2's view");
    assert_eq!(*sender_seen.lock().unwrap(), sent, "node 1's view");
}

#[test]
fn dispatch_runs_on_a_thread_with_a_two_mib_stack() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    // libcpg's dispatch keeps a 1 MiB buffer on this thread's stack; the largest message and
    // a callback using 256 KiB of stack still fit in 2 MiB.
    let delivered = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("small-stack".into())
            .stack_size(2 * 1024 * 1024)
            .spawn_scoped(scope, move || {
                node.enter_on_current_thread().expect("enter the namespace");
                let got = Arc::new(Mutex::new(None));
                let sink = got.clone();
                let cpg = Cpg::builder()
                    .on_deliver(move |_, msg| {
                        let scratch = std::hint::black_box([1u8; 256 * 1024]);
                        let sum: usize = msg.data().iter().map(|&b| usize::from(b)).sum();
                        *sink.lock().unwrap() =
                            Some((msg.data().len(), sum + usize::from(scratch[7])));
                    })
                    .build()
                    .expect("open");
                let group = GroupName::new("small-stack").unwrap();
                cpg.join(&group).expect("join");
                let max = cpg.max_atomic_msgsize().expect("atomic size");
                let deadline = Instant::now() + Duration::from_secs(20);
                cpg.mcast_retrying(Guarantee::Agreed, &vec![1u8; max], Some(deadline))
                    .expect("send");
                while got.lock().unwrap().is_none() {
                    assert!(Instant::now() < deadline, "the message never arrived");
                    cpg.dispatch(DispatchMode::One).expect("dispatch");
                }
                let result = got.lock().unwrap().take();
                (max, result)
            })
            .expect("spawn a thread with a 2 MiB stack")
            .join()
            .expect("the small-stack thread finished")
    });
    let (max, result) = delivered;
    assert_eq!(result, Some((max, max + 1)));
}
