//! Nothing leaks and nothing touches freed memory, also across a daemon's death (issue 9,
//! item 3): the `leakcheck` workload (every library, cmap tracks deleted, dropped, forgotten
//! and left registered while the daemon is killed) runs under valgrind against a real daemon
//! that the test kills and restarts in the middle. valgrind must report 0 bytes definitely
//! lost and no invalid read, write or free.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use corosync_testcluster::Cluster;

#[test]
fn mixed_workload_with_daemon_kills_under_valgrind() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let log = cluster.dir().join("valgrind.log");
    let mut child = node
        .command("valgrind")
        .args([
            "--leak-check=full",
            "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite",
            "--error-limit=no",
            "--num-callers=30",
        ])
        .arg(format!("--log-file={}", log.display()))
        .arg(env!("CARGO_BIN_EXE_leakcheck"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run valgrind (install it: apt-get install valgrind, see scripts/install-deps)");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut phases = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("read the workload's output");
        match line.as_str() {
            "kill" => cluster.kill(1).expect("kill the daemon"),
            "restart" => cluster.start_node(1).expect("restart the daemon"),
            _ => {}
        }
        if line != "done" {
            writeln!(stdin, "go").expect("tell the workload to go on");
        }
        phases.push(line);
    }
    let status = child.wait().expect("wait for valgrind");
    let report = std::fs::read_to_string(&log).expect("read valgrind's log");
    assert!(
        status.success(),
        "the workload failed ({status}), phases {phases:?}; valgrind said:\n{report}"
    );
    assert_eq!(phases, ["kill", "restart", "done"]);
    let no_definite_loss = report.contains("definitely lost: 0 bytes in 0 blocks")
        || report.contains("All heap blocks were freed");
    assert!(no_definite_loss, "memory definitely lost:\n{report}");
    for bad in [
        "Invalid read",
        "Invalid write",
        "Invalid free",
        "Mismatched free",
    ] {
        assert!(!report.contains(bad), "valgrind saw `{bad}`:\n{report}");
    }
    assert!(report.contains("LEAK SUMMARY") || report.contains("All heap blocks were freed"));
}
