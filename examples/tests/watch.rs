//! `watch` on a real 3-node cluster: it prints the current quorum state first, then a line
//! for every cmap change under its prefix, for a node leaving and for a change of expected
//! votes, all from one poll loop; `--events` and `--seconds` end it with the documented
//! statuses, and without a daemon it fails with a message.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corosync_testcluster::{Cluster, Node};

/// The program under test and its name (the prefix of its messages): `watch`, and its async
/// sibling `watch_async`, which must behave the same.
#[derive(Debug, Clone, Copy)]
struct Program {
    path: &'static str,
    name: &'static str,
}

const WATCH: Program = Program {
    path: env!("CARGO_BIN_EXE_watch"),
    name: "watch",
};
const WATCH_ASYNC: Program = Program {
    path: env!("CARGO_BIN_EXE_watch_async"),
    name: "watch_async",
};
/// How long to wait for one expected line (a membership change after a kill takes a few
/// seconds with the harness's token timeout).
const WAIT: Duration = Duration::from_secs(20);

/// Replaces the ring id after `ring=` by `R`, checking that it has the form `hex.hex`.
fn loosen(line: &str) -> String {
    let Some(start) = line.find("ring=") else {
        return line.to_owned();
    };
    let rest = &line[start + "ring=".len()..];
    let end = rest.find(' ').unwrap_or(rest.len());
    let ring = &rest[..end];
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    assert!(
        matches!(ring.split_once('.'), Some((node, seq)) if hex(node) && hex(seq)),
        "a ring id in {line:?}"
    );
    format!("{}ring=R{}", &line[..start], &rest[end..])
}

/// The ring id in a line.
fn ring(line: &str) -> &str {
    let rest = &line[line.find("ring=").expect("a ring id") + "ring=".len()..];
    &rest[..rest.find(' ').unwrap_or(rest.len())]
}

/// A running `watch` whose stdout lines arrive through a channel; its stderr is collected.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Watcher {
    fn start(program: Program, node: &Node, args: &[&str]) -> Watcher {
        let mut child = node
            .command(program.path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start watch");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// Waits for the program to exit by itself; returns its status and stderr.
    fn exit(&mut self, what: &str) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for watch") {
                break status;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = self.stderr.take().expect("not waited for yet");
        (status, stderr.join().expect("stderr reader"))
    }

    /// The next `n` lines, with their ring ids loosened; panics if they do not come in time.
    fn next(&mut self, n: usize, what: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    got.push(line);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "timed out waiting for {what}; lines so far: {:#?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "watch ended ({:?}) while waiting for {what}; lines so far: {:#?}",
                    self.child.wait(),
                    self.seen
                ),
            }
        }
        got
    }

    /// Asserts that nothing more is printed within `quiet`.
    fn assert_quiet(&mut self, quiet: Duration) {
        if let Ok(line) = self.lines.recv_timeout(quiet) {
            panic!("unexpected line {line:?}; lines before: {:#?}", self.seen);
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: Program, node: &Node, args: &[&str]) -> Output {
    node.command(program.path)
        .args(args)
        .output()
        .expect("run the program")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn watch_follows_quorum_membership_and_cmap() {
    follows_quorum_membership_and_cmap(WATCH);
}

#[test]
fn watch_async_follows_quorum_membership_and_cmap() {
    follows_quorum_membership_and_cmap(WATCH_ASYNC);
}

fn follows_quorum_membership_and_cmap(program: Program) {
    let name = program.name;
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let node1 = cluster.node(1);
    let mut watch = Watcher::start(program, node1, &[]);

    // (1) The current state: libquorum's node list, then its quorum notification, both for
    // the same ring.
    let first = watch.next(2, "the current state");
    assert_eq!(
        first.iter().map(|l| loosen(l)).collect::<Vec<_>>(),
        [
            "nodelist: ring=R members=1 2 3 joined= left=",
            "quorum: quorate=yes ring=R members=1 2 3",
        ],
        "{first:#?}"
    );
    assert_eq!(ring(&first[0]), ring(&first[1]));

    // (2) cmap changes under the prefix, and none outside it.
    let cmapctl = |args: &[&str]| {
        node1
            .run("corosync-cmapctl", args)
            .expect("corosync-cmapctl");
    };
    cmapctl(&["-s", "other.greeting", "str", "ignored"]);
    cmapctl(&["-s", "watch.greeting", "str", "hello"]);
    assert_eq!(
        watch.next(1, "the new key"),
        ["cmap: add watch.greeting (str) = hello"]
    );
    cmapctl(&["-s", "watch.greeting", "str", "tab\there"]);
    cmapctl(&["-s", "watch.count", "u32", "7"]);
    cmapctl(&["-d", "watch.greeting"]);
    assert_eq!(
        watch.next(3, "a modify, an add and a delete"),
        [
            "cmap: modify watch.greeting (str) = tab\\there",
            "cmap: add watch.count (u32) = 7",
            "cmap: delete watch.greeting",
        ]
    );

    // --events and --seconds, on node 2: the current state is two lines.
    let two = run(
        program,
        cluster.node(2),
        &["--events", "2", "--seconds", "10"],
    );
    assert_eq!(two.status.code(), Some(0), "{two:?}");
    let lines: Vec<String> = text(&two.stdout).lines().map(loosen).collect();
    assert_eq!(
        lines,
        [
            "nodelist: ring=R members=1 2 3 joined= left=",
            "quorum: quorate=yes ring=R members=1 2 3",
        ]
    );
    assert_eq!(text(&two.stderr), "");
    let short = run(
        program,
        cluster.node(2),
        &["--events", "3", "--seconds", "0.5"],
    );
    assert_eq!(short.status.code(), Some(1), "{short:?}");
    assert_eq!(text(&short.stdout).lines().count(), 2, "{short:?}");
    assert_eq!(
        text(&short.stderr),
        format!("{name}: only 2 of 3 events came within 0.5 s\n")
    );
    let bad = run(program, cluster.node(2), &["--bogus"]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    let usage = format!("{name}: unknown argument \"--bogus\"\nusage: {name} ");
    assert!(text(&bad.stderr).starts_with(&usage), "{bad:?}");

    // (3) Node 3 dies: the node list says it left, and the two left are still quorate. A
    // watch on node 3 itself sees its connections hang up and fails with the error.
    let mut on_node3 = Watcher::start(program, cluster.node(3), &[]);
    assert_eq!(on_node3.next(2, "node 3's current state").len(), 2);
    cluster.kill(3).expect("kill node 3");
    let (status, stderr) = on_node3.exit("watch on node 3 to end");
    assert_eq!(status.code(), Some(1), "{stderr}");
    // Whichever connection's hang-up poll reports first ends it.
    let failed = ["quorum", "votequorum", "cmap"].iter().any(|handle| {
        stderr
            == format!(
                "{name}: {handle} dispatch: library error: corosync is not running or the \
                 connection to it was lost (CS_ERR_LIBRARY)\n"
            )
    });
    assert!(failed, "{stderr:?}");
    let after = watch.next(2, "the membership without node 3");
    assert_eq!(
        after.iter().map(|l| loosen(l)).collect::<Vec<_>>(),
        [
            "nodelist: ring=R members=1 2 joined= left=3",
            "quorum: quorate=yes ring=R members=1 2",
        ],
        "{after:#?}"
    );
    assert_eq!(ring(&after[0]), ring(&after[1]));
    assert_ne!(ring(&after[0]), ring(&first[0]));

    // Expected votes lowered to the 2 votes left: votequorum says so; the partition stays
    // quorate, so libquorum has nothing to report.
    node1
        .run("corosync-quorumtool", ["-e", "2"])
        .expect("set expected votes");
    assert_eq!(watch.next(1, "expected votes 2"), ["expected-votes: 2"]);
    watch.assert_quiet(Duration::from_millis(500));

    // (4) No daemon on node 3 any more: watch says why and exits with status 1.
    let lonely = run(program, cluster.node(3), &[]);
    assert_eq!(lonely.status.code(), Some(1), "{lonely:?}");
    assert_eq!(text(&lonely.stdout), "");
    assert_eq!(
        text(&lonely.stderr),
        format!(
            "{name}: cannot connect to quorum: corosync is not running (no daemon in this \
             network namespace; ECONNREFUSED) (CS_ERR_LIBRARY)\n"
        )
    );
}
