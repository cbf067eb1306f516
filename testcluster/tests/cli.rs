//! Tests of the `corosync-testcluster` command-line tool against real daemons.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const CLI: &str = env!("CARGO_BIN_EXE_corosync-testcluster");
const WAIT: Duration = Duration::from_secs(30);

fn cli(args: &[&str]) -> Output {
    Command::new(CLI)
        .args(args)
        .output()
        .expect("run corosync-testcluster")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn run_shows_three_quorate_members_and_returns_the_status_of_the_command() {
    let out = cli(&["run", "--nodes", "3", "--", "corosync-quorumtool", "-s"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Quorate:          Yes"), "{stdout}");
    assert!(stdout.contains("Nodes:            3"), "{stdout}");
    for node in ["node1 (local)", "node2", "node3"] {
        assert!(stdout.contains(node), "{node} in {stdout}");
    }

    let out = cli(&["run", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
}

#[test]
fn the_command_reaches_every_node_and_everything_is_removed_afterwards() {
    // The command prints its environment and asks node 2 (through `exec`) and node 1 (where
    // it runs) who they are.
    let script = format!(
        "echo name=$COROSYNC_TESTCLUSTER_NAME; echo dir=$COROSYNC_TESTCLUSTER_DIR; \
         echo pids=$COROSYNC_TESTCLUSTER_NODE1_PID,$COROSYNC_TESTCLUSTER_NODE2_PID; \
         echo addr2=$COROSYNC_TESTCLUSTER_NODE2_ADDR; \
         {CLI} exec 2 -- corosync-cmapctl -g runtime.votequorum.this_node_id; \
         corosync-cmapctl -g runtime.votequorum.this_node_id"
    );
    let out = cli(&["run", "--nodes", "2", "--", "sh", "-c", &script]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} in {stdout}"))
            .to_string()
    };
    assert_eq!(value("addr2"), "10.213.0.2");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.contains(&"runtime.votequorum.this_node_id (u32) = 2"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"runtime.votequorum.this_node_id (u32) = 1"),
        "{stdout}"
    );
    assert!(
        !Path::new(&value("dir")).exists(),
        "the directory is removed"
    );
    for pid in value("pids").split(',') {
        let pid: u32 = pid.parse().unwrap();
        assert!(pid > 0 && !alive(pid), "daemon {pid} is gone");
    }
}

/// Waits until `path` exists.
fn wait_for(path: &Path) {
    corosync_testcluster::wait_until(WAIT, &format!("{}", path.display()), || path.exists())
        .unwrap();
}

#[test]
fn sigterm_tears_the_cluster_down_and_ends_the_command() {
    let mut run = Command::new(CLI)
        .args(["run", "--nodes", "2", "--", "sleep", "600"])
        .spawn()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("cst{}x1", run.id()));
    let state = dir.join("nodes");
    wait_for(&state);
    let pids: Vec<u32> = std::fs::read_to_string(&state)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    // SAFETY: kill() with our own child's pid.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) };
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status}");
    assert!(!dir.exists(), "{} is removed", dir.display());
    for pid in pids {
        assert!(!alive(pid), "daemon {pid} is gone");
    }
}

#[test]
fn up_exec_and_down() {
    let mut up = Command::new(CLI)
        .args(["up", "--nodes", "2", "--token", "1500"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(up.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let name = first
        .strip_prefix("cluster ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let out = cli(&[
        "exec",
        "--cluster",
        &name,
        "2",
        "--",
        "corosync-cmapctl",
        "-g",
        "totem.token",
    ]);
    assert_eq!(
        text(&out.stdout).trim(),
        "totem.token (u32) = 1500",
        "{}",
        text(&out.stderr)
    );
    let out = cli(&["down", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(up.wait().unwrap().success());
    assert!(!std::env::temp_dir().join(&name).exists());
    let out = cli(&["down", &name]);
    assert!(
        !out.status.success(),
        "down of a cluster that is gone fails"
    );
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    for (args, expected) in [
        (vec!["run", "--nodes", "0", "--", "true"], "at least 1 node"),
        (vec!["run", "--nodes", "33", "--", "true"], "up to 32 nodes"),
        (vec!["run", "--nodes", "2"], "needs a command"),
        (
            vec!["run", "--crypto", "maybe", "--", "true"],
            "expected on, off or auto",
        ),
        (vec!["frobnicate"], "unknown subcommand"),
    ] {
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn config_prints_what_the_harness_writes() {
    let out = cli(&["config", "--nodes", "3", "--crypto", "on", "--two-node"]);
    let conf = text(&out.stdout);
    assert!(out.status.success());
    assert!(conf.contains("crypto_cipher: aes256"), "{conf}");
    assert!(conf.contains("keyfile: /etc/corosync/authkey"), "{conf}");
    assert!(conf.contains("two_node: 1"), "{conf}");
    assert!(conf.contains("ring0_addr: 10.213.0.3"), "{conf}");
}

/// A machine whose user namespaces are disabled: the error names the cause and what to
/// enable. Simulated with a user namespace whose `max_user_namespaces` is 0 and a process
/// without capabilities in it.
#[test]
fn disabled_user_namespaces_are_reported() {
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && \
         exec setpriv --bounding-set=-all --inh-caps=-all {CLI} run -- true"
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c", &script])
        .output()
        .expect("run unshare (util-linux)");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unshare(CLONE_NEWUSER)"), "{stderr}");
    assert!(
        stderr.contains("enable unprivileged user namespaces"),
        "{stderr}"
    );
}

/// A corosync that is not installed: a tool directory without it and a PATH without the
/// sbin directories is not enough to hide the system's, so this checks the message of a
/// tool directory whose `corosync` is broken instead, and the hint for missing programs is
/// checked by the unit tests.
#[test]
fn a_daemon_that_exits_while_starting_is_reported_with_its_log() {
    let dir: PathBuf = std::env::temp_dir().join(format!("cli-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("corosync");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = -v ] && { echo \"Corosync Cluster Engine, version '9.9'\"; exit 0; }\n\
         echo 'fake corosync: refusing to start' >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cli(&["run", "--tool-dir", dir.to_str().unwrap(), "--", "true"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exited unexpectedly"), "{stderr}");
    assert!(
        stderr.contains("fake corosync: refusing to start"),
        "{stderr}"
    );
}

/// Existing-daemon mode, through the tool: a daemon the harness started plays the
/// "container" daemon, and the tool runs inside its namespace with
/// COROSYNC_TESTCLUSTER_EXISTING=1, where it must use that daemon and leave it running.
#[test]
fn existing_daemon_mode_uses_the_daemon_of_the_namespace() {
    use corosync_testcluster::{Cluster, EXISTING_ENV};
    let cluster = Cluster::builder(1).cluster_name("outside").start().unwrap();
    let node = cluster.node(1);
    let existing = |args: &[&str]| {
        node.command(CLI)
            .args(args)
            .env(EXISTING_ENV, "1")
            .output()
            .expect("run corosync-testcluster in the node's namespace")
    };
    let out = existing(&[
        "run",
        "--",
        "sh",
        "-c",
        "corosync-cmapctl -g totem.cluster_name; echo netns=$COROSYNC_TESTCLUSTER_NODE1_NETNS",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("totem.cluster_name (str) = outside"),
        "{stdout}"
    );
    assert!(
        stdout.contains("netns=\n"),
        "no namespace of its own: {stdout}"
    );
    assert!(node.is_running(), "the existing daemon is left running");
    assert!(node.is_quorate().unwrap());

    for (args, expected) in [
        (vec!["run", "--nodes", "2", "--", "true"], "has one node"),
        (
            vec!["run", "--token", "2000", "--", "true"],
            "configuration of its own",
        ),
    ] {
        let out = existing(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    // No daemon in the namespace: a specific error, quickly.
    cluster.kill(1).unwrap();
    let out = existing(&["run", "--timeout", "2", "--", "true"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no corosync daemon in this network namespace"),
        "{stderr}"
    );
}
