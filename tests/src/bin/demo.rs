//! The driver of `scripts/demo`: starts a throwaway 3-node cluster with the harness, runs the
//! example programs (built by the script) inside the nodes' namespaces, kills a node, shows the
//! new state, and tears everything down.
//!
//! Usage: `demo BIN_DIR`, where BIN_DIR holds the release builds of corosync-examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use corosync_testcluster::{Cluster, Node};

fn main() {
    let bin_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: demo BIN_DIR (the directory of the built example programs)"),
    );
    if let Err(err) = run(&bin_dir) {
        eprintln!("demo failed: {err}");
        std::process::exit(1);
    }
}

fn run(bin: &Path) -> Result<(), Box<dyn std::error::Error>> {
    banner("starting a throwaway 3-node corosync cluster (network namespaces, private bridge)");
    let cluster = Cluster::start(3)?;
    for node in cluster.nodes() {
        println!(
            "  node {} in namespace {}, address {}",
            node.id(),
            node.netns(),
            node.addr()
        );
    }

    banner("the cluster as each node sees it (examples/src/bin/clusterstate.rs)");
    for node in cluster.nodes() {
        show(node, bin, "clusterstate", &[])?;
    }

    banner("cmapctl -g / -p / prefix listing on node 1 (Rust counterpart of corosync-cmapctl)");
    show(
        cluster.node(1),
        bin,
        "cmapctl",
        &["-g", "totem.cluster_name"],
    )?;
    show(cluster.node(1), bin, "cmapctl", &["nodelist.node.1"])?;

    banner("cpgchat: node 1 and node 2 talk through a CPG group");
    chat(&cluster, bin)?;

    banner("cfgtool -s on node 1: link status");
    show(cluster.node(1), bin, "cfgtool", &["-s"])?;

    banner("quorumtool -s on node 1");
    show(cluster.node(1), bin, "quorumtool", &["-s"])?;

    banner("killing node 3 (kill -9), while `watch` on node 1 follows the events");
    // watch prints the state at start (2 lines), then the node list and quorum change.
    let watcher = cluster
        .node(1)
        .command(bin.join("watch"))
        .args(["--events", "4", "--seconds", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run watch: {e}"))?;
    std::thread::sleep(Duration::from_millis(500));
    cluster.kill(3)?;
    cluster.wait_converged(&[1, 2], Duration::from_secs(30))?;
    let watched = watcher.wait_with_output().map_err(|e| e.to_string())?;
    println!("--- node 1: watch --events 4");
    for line in String::from_utf8_lossy(&watched.stdout).lines() {
        println!("  {line}");
    }
    for id in [1, 2] {
        show(cluster.node(id), bin, "clusterstate", &[])?;
    }
    banner("quorumtool -s on node 1 after the kill: still quorate with 2 of 3 votes");
    show(cluster.node(1), bin, "quorumtool", &["-s"])?;

    banner("killing node 2 too: node 1 loses quorum");
    cluster.kill(2)?;
    cluster.wait_quorate(1, false, Duration::from_secs(30))?;
    show(cluster.node(1), bin, "quorumtool", &["-s"])?;

    banner("restarting nodes 2 and 3: quorum regained");
    cluster.restart(2)?;
    cluster.restart(3)?;
    cluster.wait_converged(&[1, 2, 3], Duration::from_secs(30))?;
    cluster.wait_quorate(1, true, Duration::from_secs(30))?;
    show(cluster.node(1), bin, "quorumtool", &["-s"])?;

    banner("tearing the cluster down");
    let name = cluster.name().to_owned();
    let dir = cluster.dir().to_owned();
    let pids: Vec<u32> = cluster.nodes().iter().filter_map(Node::pid).collect();
    drop(cluster);
    let namespaces = Command::new("ip").args(["netns", "list"]).output()?;
    let left_namespaces = String::from_utf8_lossy(&namespaces.stdout)
        .lines()
        .filter(|line| line.starts_with(&name))
        .count();
    let left_daemons = pids
        .iter()
        .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
        .count();
    if left_namespaces > 0 || left_daemons > 0 || dir.exists() {
        return Err(format!(
            "teardown left {left_namespaces} namespace(s), {left_daemons} daemon(s), directory \
             present: {}",
            dir.exists()
        )
        .into());
    }
    println!("  checked: no daemon, namespace or directory of the demo is left");
    Ok(())
}

fn banner(text: &str) {
    println!("\n=== {text}");
}

/// Runs an example program inside `node`'s namespace and prints its output, indented.
fn show(node: &Node, bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let output = node
        .command(bin.join(program))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    println!("--- node {}: {program} {}", node.id(), args.join(" "));
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("  {line}");
    }
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        println!("  (stderr) {line}");
    }
    Ok(())
}

/// Node 2 listens; node 1 sends two lines; both print every delivery.
fn chat(cluster: &Cluster, bin: &Path) -> Result<(), String> {
    let spawn = |node: &Node, args: &[&str]| -> Result<std::process::Child, String> {
        let mut command: Command = node.command(bin.join("cpgchat"));
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
            .spawn()
            .map_err(|e| format!("cannot run cpgchat: {e}"))
    };
    let listener = spawn(cluster.node(2), &["--group", "demo", "--exit-after", "2"])?;
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "--- the group as node 3 sees it while node 2 listens (cpgtool, like corosync-cpgtool)"
    );
    show(cluster.node(3), bin, "cpgtool", &[])?;
    let mut talker = spawn(cluster.node(1), &["--group", "demo", "--exit-after", "2"])?;
    {
        use std::io::Write;
        let stdin = talker.stdin.as_mut().ok_or("no stdin")?;
        writeln!(stdin, "hello from node 1").map_err(|e| e.to_string())?;
        writeln!(stdin, "the cluster has 3 nodes").map_err(|e| e.to_string())?;
    }
    for (who, child) in [("node 1", talker), ("node 2", listener)] {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        println!("--- {who}: cpgchat");
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            println!("  {line}");
        }
    }
    Ok(())
}
