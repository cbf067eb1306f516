//! `cpg_tokio` on a real 2-node cluster: two processes, one per node, exchange numbered
//! messages through a handle driven by tokio and both print the same deliveries in the same
//! (agreed) order; alone, it gets its own messages back; it fails with a message when its
//! peer never comes, when its daemon dies under it and when there is no daemon.

use std::collections::BTreeMap;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName};
use corosync_testcluster::{Cluster, Node};

const CPG_TOKIO: &str = env!("CARGO_BIN_EXE_cpg_tokio");

fn spawn(node: &Node, args: &[&str]) -> Child {
    node.command(CPG_TOKIO)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cpg_tokio")
}

fn run(node: &Node, args: &[&str]) -> Output {
    node.command(CPG_TOKIO)
        .args(args)
        .output()
        .expect("run cpg_tokio")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits a successful run's stdout into its delivery lines and checks the summary line.
fn deliveries(output: &Output, count: usize) -> Vec<String> {
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(text(&output.stderr), "", "{output:?}");
    let mut lines: Vec<String> = text(&output.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines.pop().as_deref(),
        Some(format!("received {count} of {count}").as_str()),
        "{output:?}"
    );
    lines
}

/// Groups delivery lines (`node <id> pid <pid>: <text>`) by sender, keeping their order.
fn by_sender(lines: &[String]) -> BTreeMap<(u32, u32), Vec<String>> {
    let mut senders: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
    for line in lines {
        let parse = || {
            let rest = line.strip_prefix("node ")?;
            let (node, rest) = rest.split_once(" pid ")?;
            let (pid, message) = rest.split_once(": ")?;
            Some(((node.parse().ok()?, pid.parse().ok()?), message.to_owned()))
        };
        let (sender, message) = parse().unwrap_or_else(|| panic!("a delivery line: {line:?}"));
        senders.entry(sender).or_default().push(message);
    }
    senders
}

fn numbered(count: usize) -> Vec<String> {
    (1..=count)
        .map(|i| format!("message {i} of {count}"))
        .collect()
}

#[test]
fn cpg_tokio_exchanges_messages_and_reports_failures() {
    let cluster = Cluster::start(2).expect("start a 2-node cluster");

    // Both nodes at once: each sends only once it sees the other in the group, and exits
    // once its own 5 and the other's 5 messages have come.
    let args = [
        "--group",
        "t",
        "--count",
        "5",
        "--peers",
        "1",
        "--timeout",
        "20",
    ];
    let children = [1, 2].map(|id| spawn(cluster.node(id), &args));
    let pids = [children[0].id(), children[1].id()];
    let outputs = children.map(|child| child.wait_with_output().expect("wait for cpg_tokio"));
    let lines = [deliveries(&outputs[0], 5), deliveries(&outputs[1], 5)];
    for (lines, output) in lines.iter().zip(&outputs) {
        let senders = by_sender(lines);
        // `ip netns exec` execs the program, so the sender pids are the children's.
        let expected: BTreeMap<(u32, u32), Vec<String>> =
            [((1, pids[0]), numbered(5)), ((2, pids[1]), numbered(5))]
                .into_iter()
                .collect();
        assert_eq!(senders, expected, "{output:?}");
    }
    // Agreed order: the same 10 deliveries in the same order on both nodes.
    assert_eq!(lines[0], lines[1]);

    // Alone in its group (no --peers), it gets its own messages back.
    let solo = run(cluster.node(2), &["--group", "solo", "--count", "3"]);
    let solo_lines = deliveries(&solo, 3);
    let senders = by_sender(&solo_lines);
    assert_eq!(senders.len(), 1, "{solo:?}");
    let (&(node, _pid), messages) = senders.iter().next().unwrap();
    assert_eq!(node, 2, "{solo:?}");
    assert_eq!(messages, &numbered(3), "{solo:?}");

    // A peer that never comes: the timeout ends it, before it sent anything.
    let started = Instant::now();
    let lonely = run(
        cluster.node(1),
        &[
            "--group",
            "lonely",
            "--count",
            "3",
            "--peers",
            "1",
            "--timeout",
            "0.5",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{lonely:?}");
    assert_eq!(lonely.status.code(), Some(1), "{lonely:?}");
    assert_eq!(text(&lonely.stdout), "", "{lonely:?}");
    assert_eq!(
        text(&lonely.stderr),
        "cpg_tokio: timed out after 0.5 s: 0 of 3 own messages came back, 0 of 1 peers sent \
         all theirs, group members: 1\n"
    );

    // The daemon dies under a waiting program: its fd hangs up, dispatch fails, it exits 1.
    let group = GroupName::new("doomed").unwrap();
    let waiting = spawn(
        cluster.node(2),
        &["--group", "doomed", "--peers", "1", "--timeout", "20"],
    );
    let observer = cluster
        .node(2)
        .in_namespace(Cpg::new)
        .unwrap()
        .expect("open cpg on node 2");
    let deadline = Instant::now() + Duration::from_secs(10);
    while observer.membership(&group).expect("membership").len() != 1 {
        assert!(Instant::now() < deadline, "cpg_tokio did not join");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(observer);
    cluster.kill(2).expect("kill node 2");
    let died = waiting.wait_with_output().expect("wait for cpg_tokio");
    assert_eq!(died.status.code(), Some(1), "{died:?}");
    assert_eq!(text(&died.stdout), "", "{died:?}");
    assert_eq!(
        text(&died.stderr),
        "cpg_tokio: dispatch: library error: corosync is not running or the connection to it \
         was lost (CS_ERR_LIBRARY)\n"
    );

    // No daemon at all.
    let none = run(cluster.node(2), &["--group", "t", "--count", "1"]);
    assert_eq!(none.status.code(), Some(1), "{none:?}");
    assert_eq!(text(&none.stdout), "", "{none:?}");
    assert_eq!(
        text(&none.stderr),
        "cpg_tokio: cannot connect to cpg: corosync is not running (no daemon in this network \
         namespace; ECONNREFUSED) (CS_ERR_LIBRARY)\n"
    );
}
