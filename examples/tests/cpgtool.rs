//! `cpgtool` prints exactly what `corosync-cpgtool` prints, for every option, on a cluster
//! with groups joined from several nodes (names with NUL bytes, bytes >= 0x80, backslashes,
//! spaces and 128 bytes). The same cluster then runs the `cpgchat` demo (two nodes talking)
//! and a smoke run of `cpgbench`'s paced table.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use corosync::cpg::{Cpg, GroupName};
use corosync_testcluster::{Cluster, Node};

fn run(node: &Node, program: &str, args: &[&str]) -> Output {
    node.command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

#[test]
fn output_matches_corosync_cpgtool() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let long: Vec<u8> = (0..128u8).map(|i| b'a' + i % 26).collect();
    let names = [
        GroupName::new("alpha").unwrap(),
        GroupName::with_nul("GROUP").unwrap(),
        GroupName::new("GROUP").unwrap(),
        GroupName::new(b"bin\xff\x01\\x\x7f").unwrap(),
        GroupName::new("with space\tand tab").unwrap(),
        GroupName::new(&long).unwrap(),
    ];
    // Each group gets members on some of the nodes (one handle per group and node).
    let mut handles = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for node in 1..=3u32 {
            if (i as u32 + node).is_multiple_of(3) && node != 1 {
                continue;
            }
            let cpg = cluster
                .node(node)
                .in_namespace(Cpg::new)
                .unwrap()
                .expect("open cpg");
            cpg.join(name).expect("join");
            handles.push((node, cpg));
        }
    }
    let observer = cluster.node(1).in_namespace(Cpg::new).unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = observer.iter_all().unwrap().count();
        if seen == handles.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{seen} of {} members visible",
            handles.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let ours = env!("CARGO_BIN_EXE_cpgtool");
    // corosync's tool, where the harness finds it (`PATH` first, then the sbin directories):
    // its usage and getopt's messages start with that path.
    let theirs = cluster.node(1).command("corosync-cpgtool");
    let theirs = theirs
        .get_args()
        .last()
        .expect("the harness's command names the program")
        .to_string_lossy()
        .into_owned();
    let option_sets: &[&[&str]] = &[
        &[],
        &["-n"],
        &["-e"],
        &["-n", "-e"],
        &["-ne"],
        &["-d", ","],
        &["-d:"],
        &["-n", "-d", ";"],
        &["-e", "-d", " "],
        &["-d", ""],
        &["-h"],
        &["-x"],
        &["-d"],
    ];
    for node in [1, 3] {
        let node = cluster.node(node);
        for args in option_sets {
            let c = run(node, &theirs, args);
            let r = run(node, ours, args);
            // Usage and getopt messages name the program.
            let fix = |bytes: &[u8]| {
                String::from_utf8_lossy(bytes)
                    .replace(ours, "PROG")
                    .replace(&theirs, "PROG")
                    .replace("corosync-cpgtool", "PROG")
                    .replace("cpgtool", "PROG")
            };
            assert_eq!(
                fix(&r.stdout),
                fix(&c.stdout),
                "stdout of {args:?} on node {}",
                node.id()
            );
            assert_eq!(r.status.code(), c.status.code(), "exit status of {args:?}");
            assert_eq!(fix(&r.stderr), fix(&c.stderr), "stderr of {args:?}");
        }
    }
    // The comparison saw real content: every group and escaped bytes.
    let full = run(cluster.node(1), ours, &[]);
    let text = String::from_utf8_lossy(&full.stdout);
    assert!(text.contains("GROUP\\x00\n"), "{text}");
    assert!(text.contains("bin\\xFFFFFFFF\\x01\\\\x\\x7F\n"), "{text}");
    assert!(text.contains(std::str::from_utf8(&long).unwrap()), "{text}");
    assert!(text.contains("(10.213.0.2)"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("\t\t")).count(),
        handles.len()
    );

    drop(handles);

    // --- cpgchat: two nodes talk through a group. ---
    let chat = env!("CARGO_BIN_EXE_cpgchat");
    let talkers: Vec<_> = [2u32, 3]
        .iter()
        .map(|&id| {
            let mut child = cluster
                .node(id)
                .command(chat)
                .args(["-g", "chat-demo", "-m", "2", "-w", "2"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start cpgchat");
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "hello from node {id}").unwrap();
            (id, child)
        })
        .collect();
    for (id, child) in talkers {
        let out = child.wait_with_output().expect("cpgchat output");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "cpgchat on node {id}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for from in [2, 3] {
            let line = format!("] hello from node {from}");
            let shown = text
                .lines()
                .find(|l| l.ends_with(&line))
                .unwrap_or_else(|| panic!("node {id} did not show {line:?}: {text}"));
            assert!(shown.starts_with(&format!("[node {from} pid ")), "{shown}");
        }
    }

    // --- cpgbench's paced tables: a smoke run (no timing checked) on new connections per
    // cycle; it completes, prints the four differences with their intervals for every size,
    // no send is refused, and the cold dispatch table has its two rows.
    let bench = run(
        cluster.node(1),
        env!("CARGO_BIN_EXE_cpgbench"),
        &["--quick", "--paced-only"],
    );
    let report = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    for size in ["64 B", "1024 B", "8192 B", "65536 B"] {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| {size} |")))
            .unwrap_or_else(|| panic!("no row for {size}: {report}"));
        assert_eq!(row.matches(" ± ").count(), 4, "{row}");
        assert!(row.ends_with("| 0 |"), "TRY_AGAIN in {row}");
    }
    // The cold dispatch table: a row per size, safe − raw and the floor with intervals.
    let (_, cold) = report
        .split_once("One dispatch call on cold caches")
        .unwrap_or_else(|| panic!("no cold dispatch table: {report}"));
    for row_start in ["| 64 B | 1 |", "| 65536 B | 8 |"] {
        let row = cold
            .lines()
            .find(|l| l.starts_with(row_start))
            .unwrap_or_else(|| panic!("no cold dispatch row {row_start}: {report}"));
        assert_eq!(row.matches(" ± ").count(), 2, "{row}");
    }
}
