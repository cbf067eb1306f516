//! Parity of the example `cfgtool` with corosync's `corosync-cfgtool`: both run on the same
//! node of a real cluster with the same arguments, and their stdout, stderr (with the program
//! name normalised in getopt's messages) and exit status must be equal.
//!
//! - `read_only_options`: every option that does not stop a daemon, argument errors, a failed
//!   reload, and the link views of a node cut off by the harness.
//! - `destructive_options`: `-k` and `-H` (with and without `--force`, with a tracker that
//!   vetoes), each run by both tools in turn (restarting the stopped daemon in between), and
//!   every action against a node whose daemon is down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use corosync::cfg::{Cfg, ShutdownReply};
use corosync::{DispatchMode, TrackFlags};
use corosync_testcluster::{Cluster, Node};

#[path = "../src/corosync_release.rs"]
mod corosync_release;

const OURS: &str = env!("CARGO_BIN_EXE_cfgtool");
const THEIRS: &str = "corosync-cfgtool";
const WAIT: Duration = Duration::from_secs(30);

/// What a run of either tool produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(node: &Node, program: &str, args: &[&str]) -> Outcome {
    let out = node
        .command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    // getopt's messages start with argv[0], a different path for each tool.
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((prog, rest)) if prog.ends_with("cfgtool") => format!("PROG: {rest}\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    Outcome {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// Runs both tools with `args` on `node` and asserts they agree; returns the outcome. A
/// cluster in motion can change between the two runs, so a difference is looked at again a
/// few times before it fails the test.
fn same(node: &Node, args: &[&str]) -> Outcome {
    let mut attempts = 0;
    loop {
        let theirs = run(node, THEIRS, args);
        let ours = run(node, OURS, args);
        attempts += 1;
        if ours == theirs || attempts == 5 {
            assert_eq!(ours, theirs, "cfgtool {args:?} on node {}", node.id());
            return theirs;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_exit(cluster: &Cluster, k: u32) {
    cluster
        .wait_until(WAIT, &format!("node {k}'s daemon to exit"), || {
            !cluster.node(k).is_running()
        })
        .unwrap();
}

fn restart(cluster: &Cluster, k: u32) {
    cluster.restart(k).expect("restart");
    cluster.wait_converged(&[1, 2, 3], WAIT).expect("rejoin");
}

#[test]
fn read_only_options() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let arg_sets: &[&[&str]] = &[
        &["-s"],
        &["-b", "-s"],
        &["-bs"],
        &["--status", "--brief"],
        &["-n"],
        &["--nodes"],
        &["-a", "1"],
        &["-a", "2"],
        &["-a3"],
        &["--address=3"],
        &["--addr", "2"],
        &["-a", "9"],
        &["-a", "0"],
        &["-k", "abc"],
        &["-a"],
        &["-x"],
        &["--bogus"],
        &["--re"],
        &["--status=1"],
        &["--kill"],
        &[],
        &["-h"],
        &["-i", "10.213.0.1", "-s"],
        &["operand", "-s"],
        &["--", "-s"],
        &["-s", "-a", "2"],
        &["-L"],
        &["--reopen"],
        &["-R"],
    ];
    for k in [1, 2] {
        for args in arg_sets {
            same(cluster.node(k), args);
        }
    }
    // The outputs are what they should be, not just equal.
    let status = same(cluster.node(2), &["-s"]);
    assert_eq!(status.status, Some(0));
    let head = format!(
        "Local node ID 2, transport knet\nLINK ID 0 udp\n\taddr\t= {}\n",
        cluster.node(2).addr()
    );
    assert!(status.stdout.starts_with(&head), "{}", status.stdout);
    assert_eq!(
        same(cluster.node(1), &["-a", "3"]).stdout,
        format!("{}\n", cluster.node(3).addr())
    );
    assert_eq!(
        same(cluster.node(1), &["-R"]).stdout,
        "Reloading corosync.conf...\nDone\n"
    );

    // A reload of a file that does not parse fails the same way. corosync-cfgtool's exit
    // status: CS_ERR_INVALID_PARAM before 3.1.9; from 3.1.9 on, whether the daemon left a
    // reload error message in cmap, which it does not for a file that does not parse: 0.
    let good = cluster.node(2).config().unwrap();
    cluster.node(2).write_config("totem {\n").unwrap();
    let failed = same(cluster.node(2), &["-R"]);
    let expected = if corosync_release::at_least(&[3, 1, 9]) {
        0
    } else {
        7
    };
    assert_eq!(
        failed.status,
        Some(expected),
        "on corosync {}",
        corosync::COROSYNC_VERSION
    );
    assert_eq!(
        failed.stderr,
        "Could not reload configuration. Error CS_ERR_INVALID_PARAM\n"
    );
    cluster.node(2).write_config(&good).unwrap();

    // Node 3 cut off: both views of the links agree, on both sides.
    cluster.isolate(3).expect("isolate node 3");
    cluster
        .wait_until(WAIT, "corosync-cfgtool to see node 3 disconnected", || {
            run(cluster.node(1), THEIRS, &["-b", "-s"])
                .stdout
                .contains("status\t= n31")
        })
        .unwrap();
    for k in [1, 3] {
        for args in [&["-s"][..], &["-b", "-s"], &["-n"]] {
            same(cluster.node(k), args);
        }
    }
    cluster
        .wait_until(WAIT, "node 3 to see the others disconnected", || {
            run(cluster.node(3), THEIRS, &["-b", "-s"])
                .stdout
                .contains("status\t= 11n")
        })
        .unwrap();
    assert_eq!(
        same(cluster.node(3), &["-n"]).stdout,
        "Local node ID 3, transport knet\n"
    );
}

/// A handle on `node` that tracks shutdown requests and vetoes them, dispatched on a thread
/// of its own until dropped.
struct Vetoer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Vetoer {
    fn start(node: &Node) -> Vetoer {
        let cfg = node
            .in_namespace(|| {
                Cfg::builder()
                    .on_shutdown(|cfg, _flags| {
                        cfg.reply_to_shutdown(ShutdownReply::No).expect("reply");
                    })
                    .build()
            })
            .unwrap()
            .expect("open a tracker");
        cfg.track_start(TrackFlags::CHANGES).expect("track_start");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) && cfg.dispatch(DispatchMode::All).is_ok() {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = cfg.track_stop();
        });
        Vetoer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Vetoer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn destructive_options() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let n1 = cluster.node(1);

    // -k 3 from node 1, by each tool in turn.
    let mut kills = Vec::new();
    for tool in [THEIRS, OURS] {
        kills.push(run(n1, tool, &["-k", "3"]));
        wait_exit(&cluster, 3);
        cluster.wait_members(1, &[1, 2], WAIT).unwrap();
        assert!(
            cluster
                .node(3)
                .log()
                .contains("Killed by node 1 : Killed by corosync-cfgtool"),
            "{tool}: node 3's log:\n{}",
            cluster.node(3).log_tail(20)
        );
        if tool == THEIRS {
            restart(&cluster, 3);
        }
    }
    assert_eq!(kills[0], kills[1]);
    assert_eq!(kills[0].stdout, "Killing node 3\n");
    // Node 3 is down now: both fail the same way.
    let failed = same(n1, &["-k", "3"]);
    assert_eq!(failed.status, Some(1));
    assert_eq!(
        failed.stderr,
        "Could not kill node (error = CS_ERR_NOT_EXIST)\n"
    );
    restart(&cluster, 3);

    // -H on node 3 with a tracker that vetoes: refused with CS_ERR_BUSY (10), exit status 0.
    let vetoer = Vetoer::start(cluster.node(3));
    let refused = same(cluster.node(3), &["-H"]);
    assert_eq!(refused.status, Some(0));
    assert_eq!(refused.stdout, "Shutting down corosync\n");
    assert_eq!(refused.stderr, "Could not shutdown (error = 10)\n");
    assert!(cluster.node(3).is_running());

    // -H --force overrides the veto: each tool in turn.
    let mut forced = Vec::new();
    let mut first = Some(vetoer);
    for tool in [THEIRS, OURS] {
        let vetoer = first
            .take()
            .unwrap_or_else(|| Vetoer::start(cluster.node(3)));
        forced.push(run(cluster.node(3), tool, &["-H", "--force"]));
        wait_exit(&cluster, 3);
        drop(vetoer);
        if tool == THEIRS {
            restart(&cluster, 3);
        }
    }
    assert_eq!(forced[0], forced[1]);
    assert_eq!(forced[0].stdout, "Shutting down corosync\n");
    assert_eq!(forced[0].stderr, "");

    // Plain -H without trackers on node 2, each tool in turn.
    let mut plain = Vec::new();
    for tool in [THEIRS, OURS] {
        plain.push(run(cluster.node(2), tool, &["--shutdown"]));
        wait_exit(&cluster, 2);
        cluster.wait_members(1, &[1], WAIT).unwrap();
        if tool == THEIRS {
            cluster.start_node(2).expect("start node 2");
            cluster.wait_converged(&[1, 2], WAIT).expect("rejoin");
        }
    }
    assert_eq!(plain[0], plain[1]);
    assert_eq!(plain[0].status, Some(0));

    // Node 2's daemon is down: every action fails the same way.
    for args in [
        &["-s"][..],
        &["-n"],
        &["-a", "1"],
        &["-R"],
        &["-L"],
        &["-k", "1"],
        &["-H"],
    ] {
        let outcome = same(cluster.node(2), args);
        assert_ne!(outcome.stderr, "", "{args:?}");
    }
}
