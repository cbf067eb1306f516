//! `cpg_service` on a real daemon: four workers share one connection with the receiving
//! task and every job comes back in order per worker; without a daemon, or with a bad
//! argument, it fails with a message.

use std::process::Output;

use corosync_testcluster::{Cluster, Node};

const SERVICE: &str = env!("CARGO_BIN_EXE_cpg_service");

fn run(node: &Node, args: &[&str]) -> Output {
    node.command(SERVICE)
        .args(args)
        .output()
        .expect("run cpg_service")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cpg_service_sends_from_several_tasks_and_receives_in_one() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");
    let out = run(cluster.node(1), &["--workers", "4", "--jobs", "250"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(text(&out.stderr), "");
    let expected: String = (1..=4)
        .map(|w| format!("worker {w}: 250 jobs in order\n"))
        .chain(["received 1000 of 1000\n".to_owned()])
        .collect();
    assert_eq!(text(&out.stdout), expected);

    // Without a daemon: a message and status 1.
    cluster.kill(2).expect("kill node 2");
    let out = run(cluster.node(2), &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        text(&out.stderr),
        "cpg_service: cannot connect to cpg: corosync is not running (no daemon in this network \
         namespace; ECONNREFUSED) (CS_ERR_LIBRARY)\n"
    );
    let bad = run(cluster.node(1), &["--workers", "0"]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
}
