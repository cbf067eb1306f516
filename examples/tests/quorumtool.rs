//! `quorumtool` against corosync's own `corosync-quorumtool`, on the same 3-node cluster:
//! for every option combination both tools run in the same node namespace, and their stdout,
//! stderr and exit codes must be equal, except for the `Date:` line. The program name in
//! the usage text is replaced by a placeholder (the two binaries have different paths).

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corosync::votequorum::Votequorum;
use corosync::{NodeId, TrackFlags};
use corosync_testcluster::{Cluster, Node};

const OURS: &str = env!("CARGO_BIN_EXE_quorumtool");
const THEIRS: &str = "corosync-quorumtool";
const WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Replaces the program's path with `PROG` and the date after `Date:` with `DATE`
/// (checking that there is one).
fn normalize(text: &str, program: &str) -> String {
    let text = text.replace(program, "PROG");
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("Date:             ") {
            Some(date) => {
                assert!(date.trim().len() >= 20, "a date: {line:?}");
                out.push_str("Date:             DATE\n");
            }
            None => out.push_str(line),
        }
    }
    out
}

fn run(node: &Node, program: &str, args: &[&str]) -> Outcome {
    let mut cmd = node.command(program);
    // The argv[0] of the program as started: Node::command resolves bare names.
    let path = cmd
        .get_args()
        .nth(3)
        .expect("the program")
        .to_string_lossy()
        .into_owned();
    let out = cmd.args(args).output().expect("run the tool");
    Outcome {
        code: out.status.code(),
        stdout: normalize(&String::from_utf8_lossy(&out.stdout), &path),
        stderr: normalize(&String::from_utf8_lossy(&out.stderr), &path),
    }
}

/// Runs both tools with `args` on `node`; they must agree. Returns the outcome.
fn compare(node: &Node, args: &[&str]) -> Outcome {
    let theirs = run(node, THEIRS, args);
    let ours = run(node, OURS, args);
    assert_eq!(
        ours,
        theirs,
        "quorumtool {args:?} on node {} differs from corosync-quorumtool\n--- ours:\n{}{}\n--- theirs:\n{}{}",
        node.id(),
        ours.stdout,
        ours.stderr,
        theirs.stdout,
        theirs.stderr
    );
    theirs
}

/// A running `-m`: the process and everything it printed so far.
struct Monitor {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Monitor {
    fn start(node: &Node, program: &[&str]) -> Monitor {
        let mut child = node
            .command(program[0])
            .args(&program[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a monitor");
        let mut stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Monitor { child, output }
    }

    /// The complete blocks printed so far (each ends with the empty line `-m` prints).
    fn blocks(&self) -> Vec<String> {
        let text = self.output.lock().unwrap().clone();
        let mut blocks: Vec<String> = text
            .split("Quorum information\n")
            .skip(1)
            .map(|b| format!("Quorum information\n{b}"))
            .collect();
        if !text.ends_with("\n\n") {
            blocks.pop();
        }
        blocks
    }

    /// Waits until `done` accepts everything printed so far, and returns it.
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    fn wait_output(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.output.lock().unwrap().clone();
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {text:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_blocks(&self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let blocks = self.blocks();
            if done(&blocks) {
                return blocks;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {blocks:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn output_equals_corosync_quorumtool() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let node1 = cluster.node(1);
    let node2 = cluster.node(2);

    // Status and node lists in every format, on two nodes.
    let status = compare(node1, &["-s"]);
    assert_eq!(status.code, Some(0));
    assert!(
        status.stdout.contains("Quorate:          Yes\n"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("node3\n"), "{}", status.stdout);
    for args in [
        &["-s", "-H"][..],
        &["-s", "-i"],
        &["-s", "-a"],
        &["-s", "-p"],
        &["-s", "-o", "n"],
        &["-spHi", "-oi"],
        &["-l"],
        &["-l", "-p"],
        &["-l", "-o", "n"],
        &["-l", "-o", "i"],
        &["-l", "-H", "-i"],
        &["-l", "-a", "-i"],
        &["-l", "-a"],
        &["-li", "-oa"],
        &[],
    ] {
        compare(node1, args);
    }
    compare(node2, &["-s"]);
    compare(node2, &["-l", "-i"]);

    // Bad arguments and help.
    for args in [
        &["-h"][..],
        &["-x"],
        &["-e"],
        &["-e", "0"],
        &["-e", "abc"],
        &["-v", "-1"],
        &["-n", "0"],
        &["-o", "x"],
        &["-V"],
    ] {
        compare(node1, args);
    }

    // Changing votes and expected votes: ours changes, both tools show the result; the
    // refusals print the same errors.
    let set = run(node1, OURS, &["-v", "2", "-n", "3"]);
    assert_eq!(set.code, Some(0), "{set:?}");
    cluster
        .wait_until(WAIT, "node 3 to have 2 votes", || {
            run(node2, THEIRS, &["-s"])
                .stdout
                .contains("Total votes:      4\n")
        })
        .unwrap();
    compare(node2, &["-s"]);
    compare(node1, &["-l"]);
    let set = run(node1, OURS, &["-e", "6"]);
    assert_eq!(set.code, Some(0), "{set:?}");
    cluster
        .wait_until(WAIT, "expected votes 6", || {
            run(node2, THEIRS, &["-s"])
                .stdout
                .contains("Expected votes:   6\n")
        })
        .unwrap();
    compare(node2, &["-s"]);
    let refused = compare(node1, &["-e", "1"]);
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("CS_ERR_INVALID_PARAM"),
        "{refused:?}"
    );
    compare(node1, &["-v", "1", "-n", "99"]);

    // Sorted by name when names and ids disagree (node 1 renamed "zz-node1" by a reload):
    // corosync's tool sorts the rows but keeps the vote column in the daemon's order (node
    // 3's 2 votes move to the last row), and ours prints the same.
    cluster
        .edit_config(1, |text| text.replace("name: node1\n", "name: zz-node1\n"))
        .unwrap();
    node1
        .run("corosync-cfgtool", ["-R"])
        .expect("reload the configuration");
    cluster
        .wait_until(WAIT, "node 1 to be renamed", || {
            run(node1, THEIRS, &["-l"]).stdout.contains("zz-node1")
        })
        .unwrap();
    // The reload reset the votes to the configured ones.
    let set = run(node1, OURS, &["-v", "2", "-n", "3"]);
    assert_eq!(set.code, Some(0), "{set:?}");
    cluster
        .wait_until(WAIT, "node 3 to have 2 votes again", || {
            run(node1, THEIRS, &["-l", "-o", "i"])
                .stdout
                .contains("         3          2 node3")
        })
        .unwrap();
    let sorted = compare(node1, &["-l", "-o", "n"]);
    assert!(
        sorted
            .stdout
            .ends_with("         1          2 zz-node1 (local)\n"),
        "{}",
        sorted.stdout
    );
    compare(node1, &["-s", "-o", "n"]);
    compare(node1, &["-l", "-o", "i"]);

    // A quorum device registered on node 1: its column and line appear.
    let vq = node1
        .in_namespace(|| {
            let ring = Arc::new(Mutex::new(None));
            let sink = ring.clone();
            let vq = Votequorum::builder()
                .on_nodelist(move |_, n| *sink.lock().unwrap() = Some(n.ring_id()))
                .build()
                .expect("open votequorum");
            (vq, ring)
        })
        .unwrap();
    let (vq, ring) = vq;
    vq.track_start(0, TrackFlags::CURRENT).unwrap();
    vq.dispatch(corosync::DispatchMode::All).unwrap();
    let ring = ring.lock().unwrap().expect("a node-list notification");
    vq.qdevice_register("parity-qdevice").unwrap();
    vq.qdevice_poll("parity-qdevice", true, ring).unwrap();
    vq.qdevice_master_wins("parity-qdevice", true).unwrap();
    cluster
        .wait_until(WAIT, "node 2 to see the qdevice", || {
            run(node2, THEIRS, &["-l"]).stdout.contains("A,V,MW")
        })
        .unwrap();
    for args in [&["-s"][..], &["-l"], &["-l", "-o", "n"], &["-s", "-H"]] {
        compare(node1, args);
        compare(node2, args);
    }
    vq.qdevice_poll("parity-qdevice", false, ring).unwrap();
    let status = compare(node1, &["-s"]);
    assert!(status.stdout.contains("(votes 0)"), "{}", status.stdout);
    // corosync after 3.1.10: the device's extra information.
    #[cfg(corosync_votequorum_qdevice_extra_info)]
    extra_info_parity(node1, node2, &vq);
    // -f unregisters it.
    let removed = run(node1, OURS, &["-f"]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    assert!(!vq
        .info(Some(NodeId::from(1)))
        .unwrap()
        .flags
        .contains(corosync::votequorum::InfoFlags::QDEVICE_REGISTERED));
    compare(node1, &["-s"]);
    compare(node1, &["-f"]);
    drop(vq);

    // -m: both print the current state, then a new block when node 3 dies. corosync's tool
    // block-buffers a pipe, so it runs under stdbuf.
    let theirs = Monitor::start(node1, &["stdbuf", "-oL", THEIRS, "-m"]);
    let ours = Monitor::start(node1, &[OURS, "-m"]);
    let first_theirs = theirs.wait_blocks("the first block", |b| !b.is_empty());
    let first_ours = ours.wait_blocks("the first block", |b| !b.is_empty());
    assert_eq!(
        normalize(&first_ours[0], OURS),
        normalize(&first_theirs[0], THEIRS)
    );
    cluster.kill(3).expect("kill node 3");
    let two_nodes = |b: &[String]| b.iter().any(|x| x.contains("Nodes:            2\n"));
    let theirs = theirs.wait_blocks("a block with 2 nodes", two_nodes);
    let ours = ours.wait_blocks("a block with 2 nodes", two_nodes);
    let last = |blocks: &[String], program: &str| {
        normalize(
            blocks
                .iter()
                .rev()
                .find(|x| two_nodes(std::slice::from_ref(x)))
                .unwrap(),
            program,
        )
    };
    assert_eq!(last(&ours, OURS), last(&theirs, THEIRS));
    compare(node1, &["-s"]);
}

/// corosync after 3.1.10 (its quorumtool's `-X`, `-C`, `-W` and the extra information in the
/// node lists): both tools set and clear the information of node 1's quorum device (which
/// must be registered), show it the same way in `-l` and `-s` (text, and bytes in hex), refuse
/// the same bad arguments, and `-W x` on node 2 reports the same changes in both.
#[cfg(corosync_votequorum_qdevice_extra_info)]
fn extra_info_parity(node1: &Node, node2: &Node, vq: &Votequorum) {
    let theirs = Monitor::start(node2, &["stdbuf", "-oL", THEIRS, "-W", "x"]);
    let ours = Monitor::start(node2, &[OURS, "-W", "x"]);
    for watch in [&theirs, &ours] {
        watch.wait_output("the watch to start", |out| out == "Watching for updates:\n");
    }

    let set = compare(node1, &["-X", "rack 7"]);
    assert_eq!(set.code, Some(0), "{set:?}");
    for node in [node1, node2] {
        let list = compare(node, &["-l"]);
        assert!(list.stdout.contains(" [rack 7]"), "{}", list.stdout);
        compare(node, &["-s"]);
    }
    vq.qdevice_set_extra_info([1u8, 2, 0xff]).unwrap();
    let list = compare(node2, &["-l"]);
    assert!(
        list.stdout.contains(" [3 bytes: 01 02 FF ]"),
        "{}",
        list.stdout
    );
    let cleared = compare(node1, &["-C"]);
    assert_eq!(cleared.code, Some(0), "{cleared:?}");
    let list = compare(node2, &["-l"]);
    assert!(!list.stdout.contains(" ["), "{}", list.stdout);
    for args in [&["-W"][..], &["-W", "z"], &["-X"]] {
        let refused = compare(node1, args);
        assert_eq!(refused.code, Some(1), "{args:?}: {refused:?}");
    }

    // Each tool set and cleared it once, with the bytes in between: five changes.
    let done = |out: &str| out.matches("<unset>").count() == 2;
    let theirs = theirs.wait_output("corosync-quorumtool -W x to see the changes", done);
    let ours = ours.wait_output("quorumtool -W x to see the changes", done);
    assert_eq!(ours, theirs);
    assert!(
        theirs.contains("         1 rack 7\n         1 rack 7\n         1 3 bytes: 01 02 FF \n"),
        "{theirs}"
    );
}
