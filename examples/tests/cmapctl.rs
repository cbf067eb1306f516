//! Parity of the `cmapctl` example with corosync's `corosync-cmapctl`, on real daemons.
//!
//! Every check runs both tools with the same arguments (and the same stdin) against the same
//! daemon and compares their stdout byte for byte, their stderr (with each tool's own path
//! replaced by `PROG`, which only getopt's messages contain) and their exit status. Commands
//! that change the map run the C tool first, take a snapshot of the keys concerned, restore
//! the starting state, run ours, and compare the snapshots too.
//!
//! What is compared exactly and what is not:
//! - The icmap of an idle one-node cluster does not change between runs, so full listings
//!   (plain, `-b`, `-q`) are compared exactly.
//! - The stats map holds counters that move between two runs and one entry per IPC
//!   connection, named after the connecting process's pid, that is each tool's own. Its full
//!   listing is compared as `key (type)` lines, without values, with the
//!   `stats.ipcs.service<N>.<pid>.<connection>.` part of a key masked. Exact comparisons of
//!   stats use the keys that stay constant on an idle one-node cluster with crypto and
//!   compression off: the `stats.knet.handle.` prefix and link 0's `enabled`, `connected` and
//!   `mtu`.
//!
//! Three clusters, one per test, run in parallel. The tracking test also makes a short smoke
//! run of the `cmapbench` benchmark on its daemon.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use corosync::cmap::{Cmap, ValueRef};
use corosync_testcluster::{Cluster, Node};

/// corosync's tool, found where the harness finds it (`PATH` first, then the sbin directories),
/// so that the comparison is with the corosync whose daemon runs.
const C_TOOL: &str = "corosync-cmapctl";
const OURS: &str = env!("CARGO_BIN_EXE_cmapctl");
const WAIT: Duration = Duration::from_secs(10);

/// What one run of a tool showed. Its stdout is compared byte for byte (the listings hold a
/// string that is not UTF-8); `Debug` shows it lossily.
#[derive(Clone, PartialEq, Eq)]
struct Output {
    stdout: Vec<u8>,
    stderr: String,
    status: Option<i32>,
}

impl Output {
    fn new(tool: &str, output: std::process::Output) -> Output {
        Output {
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).replace(tool, "PROG"),
            status: output.status.code(),
        }
    }

    /// Stdout as text (lossy), for assertions on what it contains.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("stdout", &self.text())
            .field("stderr", &self.stderr)
            .field("status", &self.status)
            .finish()
    }
}

struct Tools<'a> {
    node: &'a Node,
    cmap: Cmap,
    /// The path of corosync's tool, which its messages start with (getopt's use argv[0]).
    c_tool: String,
}

impl<'a> Tools<'a> {
    fn new(node: &'a Node) -> Tools<'a> {
        let cmap = node
            .in_namespace(Cmap::new)
            .expect("enter the namespace")
            .expect("connect to cmap");
        let command = node.command(C_TOOL);
        // The program is the last argument of an `ip netns exec` (or container) command, or
        // the command's own program in existing-daemon mode.
        let c_tool = command
            .get_args()
            .last()
            .unwrap_or(command.get_program())
            .to_string_lossy()
            .into_owned();
        Tools { node, cmap, c_tool }
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let mut command = self.node.command(tool);
        command.args(args);
        command
    }

    fn run(&self, tool: &str, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(tool, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the tool");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let tool = if tool == C_TOOL { &self.c_tool } else { tool };
        Output::new(tool, child.wait_with_output().expect("wait for the tool"))
    }

    /// Runs both tools; asserts equal outputs and returns them.
    fn both_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let c = self.run(C_TOOL, args, stdin);
        let ours = self.run(OURS, args, stdin);
        assert_eq!(
            ours, c,
            "cmapctl {args:?}: ours (left) differs from corosync-cmapctl"
        );
        c
    }

    fn both(&self, args: &[&str]) -> Output {
        self.both_with_stdin(args, b"")
    }

    /// The keys under `prefix` with their values, as corosync-cmapctl lists them.
    fn snapshot(&self, prefix: &str) -> String {
        self.run(C_TOOL, &["-b", prefix], b"").text()
    }

    /// Runs a command that changes keys under `prefix`: first the C tool, then (from the same
    /// starting state, made by `setup`) ours. Asserts equal outputs and equal results.
    fn both_changing(
        &self,
        prefix: &str,
        setup: &dyn Fn(&Cmap),
        args: &[&str],
        stdin: &[u8],
    ) -> (Output, String) {
        self.reset(prefix, setup);
        let c = self.run(C_TOOL, args, stdin);
        let c_state = self.snapshot(prefix);
        self.reset(prefix, setup);
        let ours = self.run(OURS, args, stdin);
        let our_state = self.snapshot(prefix);
        assert_eq!(
            ours, c,
            "cmapctl {args:?}: ours (left) differs from corosync-cmapctl"
        );
        assert_eq!(
            our_state, c_state,
            "cmapctl {args:?}: the map differs afterwards (ours left)"
        );
        (c, c_state)
    }

    fn reset(&self, prefix: &str, setup: &dyn Fn(&Cmap)) {
        let keys: Vec<String> = self
            .cmap
            .iter(prefix)
            .unwrap()
            .map(|entry| entry.unwrap().name().to_string())
            .collect();
        for key in keys {
            self.cmap.delete(&key).unwrap();
        }
        setup(&self.cmap);
    }
}

/// Keys and values of every type for the listings, under `ptest.`.
fn fill(cmap: &Cmap) {
    cmap.set("ptest.int.i8min", i8::MIN).unwrap();
    cmap.set("ptest.int.i8max", i8::MAX).unwrap();
    cmap.set("ptest.int.u8max", u8::MAX).unwrap();
    cmap.set("ptest.int.i16min", i16::MIN).unwrap();
    cmap.set("ptest.int.u16max", u16::MAX).unwrap();
    cmap.set("ptest.int.i32min", i32::MIN).unwrap();
    cmap.set("ptest.int.u32max", u32::MAX).unwrap();
    cmap.set("ptest.int.i64min", i64::MIN).unwrap();
    cmap.set("ptest.int.u64max", u64::MAX).unwrap();
    let floats = [
        1.5f32,
        -0.0,
        1e30,
        f32::MAX,
        f32::NAN,
        f32::NEG_INFINITY,
        1e-7,
        0.0078125,
    ];
    for (i, v) in floats.into_iter().enumerate() {
        cmap.set(&format!("ptest.flt.{i}"), v).unwrap();
    }
    let doubles = [
        0.1f64,
        1e300,
        -2.5e-5,
        f64::INFINITY,
        -f64::NAN,
        2.0f64.powi(-7),
        123456789.0000005,
    ];
    for (i, v) in doubles.into_iter().enumerate() {
        cmap.set(&format!("ptest.dbl.{i}"), v).unwrap();
    }
    cmap.set("ptest.str.empty", "").unwrap();
    cmap.set("ptest.str.text", "node one, \"quoted\" \\ and tab\t")
        .unwrap();
    cmap.set("ptest.str.latin1", ValueRef::String(b"caf\xe9 \xff"))
        .unwrap();
    cmap.set("ptest.str.newline", "two\nlines").unwrap();
    let every_byte: Vec<u8> = (0..=255u8).collect();
    cmap.set("ptest.bin.every_byte", &every_byte[..]).unwrap();
    cmap.set("ptest.bin.empty", b"").unwrap();
    cmap.set("ptest.bin.text", b"plain\\text").unwrap();
}

/// A stats listing without values, each IPC connection's name masked.
fn masked_stats(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(|line| {
            let key_and_type = line.split(" = ").next().unwrap();
            match key_and_type.strip_prefix("stats.ipcs.service") {
                Some(rest) if rest.split('.').count() > 3 => {
                    let parts: Vec<&str> = rest.splitn(4, '.').collect();
                    format!("stats.ipcs.service{}.*.{}", parts[0], parts[3])
                }
                _ => key_and_type.to_owned(),
            }
        })
        .collect()
}

#[test]
fn listing_get_options_and_errors() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let tools = Tools::new(cluster.node(1));
    fill(&tools.cmap);

    // Full listings of the icmap, and listings of prefixes.
    let all = tools.both(&[]);
    assert!(all
        .text()
        .contains("runtime.votequorum.this_node_id (u32) = 1\n"));
    assert!(all
        .text()
        .contains("ptest.int.u64max (u64) = 18446744073709551615\n"));
    assert!(all.text().contains("ptest.bin.every_byte (bin)\n"));
    assert_eq!(all.status, Some(0));
    let binary = tools.both(&["-b"]);
    assert!(binary
        .text()
        .contains("ptest.bin.text (bin) = plain\\\\text\n"));
    assert!(binary.text().contains("\\x1F !\"#"));
    assert!(binary.text().contains("~\\x7F\\xFFFFFF80"));
    tools.both(&["-q"]);
    tools.both(&["-b", "-q", "ptest."]);
    let floats = tools.both(&["ptest.flt.", "ptest.dbl."]);
    assert!(floats.text().contains("ptest.flt.0 (flt) = 1.500000\n"));
    assert!(floats.text().contains("ptest.dbl.4 (dbl) = -nan\n"));
    tools.both(&["ptest.str", "-b", "ptest.bin"]); // options after parameters
    tools.both(&["--", "totem."]);
    tools.both(&["-bq", "ptest.bin."]); // clustered options
                                        // A prefix without keys fails only when no prefix had any.
    assert_eq!(tools.both(&["no.such.prefix."]).status, Some(1));
    assert_eq!(tools.both(&["no.such.prefix.", "totem."]).status, Some(0));
    assert_eq!(tools.both(&["-m", "icmap", "totem."]).status, Some(0));
    assert_eq!(tools.both(&["-m", "default", "totem."]).status, Some(0));

    // The stats map: exactly for constant keys, by masked keys and types for all of it.
    let knet = tools.both(&["-m", "stats", "stats.knet.handle."]);
    assert!(knet
        .text()
        .contains("stats.knet.handle.tx_crypt_packets (u64) = 0\n"));
    let link = tools.both(&[
        "-m",
        "stats",
        "-g",
        "stats.knet.node1.link0.enabled",
        "stats.knet.node1.link0.connected",
        "stats.knet.node1.link0.mtu",
    ]);
    assert!(link
        .text()
        .starts_with("stats.knet.node1.link0.enabled (u8) = 1\n"));
    let c = tools.run(C_TOOL, &["-m", "stats"], b"");
    let ours = tools.run(OURS, &["-m", "stats"], b"");
    assert_eq!((ours.status, &ours.stderr), (Some(0), &String::new()));
    assert_eq!(masked_stats(&ours.text()), masked_stats(&c.text()));
    assert!(
        ours.text().contains(".procname (str) = cmapctl\n"),
        "{}",
        ours.text()
    );

    // -g, -q and -b for every type.
    let keys: Vec<String> = tools
        .cmap
        .iter("ptest.")
        .unwrap()
        .map(|entry| entry.unwrap().name().to_string())
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    for flags in [&[][..], &["-q"], &["-b"], &["-b", "-q"]] {
        let args: Vec<&str> = flags
            .iter()
            .copied()
            .chain(["-g"])
            .chain(keys.iter().copied())
            .collect();
        tools.both(&args);
    }
    let one = tools.both(&["-q", "-g", "runtime.votequorum.this_node_id"]);
    assert_eq!(one.text(), "1\n");

    // Errors: missing keys, names the daemon or libcmap refuses, bad options.
    let missing = tools.both(&["-g", "totem.token", "no.such.key", "totem.version"]);
    assert_eq!(missing.text(), "totem.token (u32) = 1000\n");
    assert_eq!(
        missing.stderr,
        "Can't get key no.such.key. Error CS_ERR_NOT_EXIST\n"
    );
    assert_eq!(missing.status, Some(1));
    tools.both(&["-g", "ab"]);
    let long_key = format!("ptest.{}", "k".repeat(300));
    let long = tools.both(&["-g", &long_key]);
    assert!(long.stderr.ends_with("Error CS_ERR_NAME_TOO_LONG\n"));
    tools.both(&[&long_key]);
    tools.both(&["-g"]);
    tools.both(&["-d"]);
    tools.both(&["-x"]);
    tools.both(&["-m"]);
    tools.both(&["-m", "nosuchmap"]);
    tools.both(&["-C", "everything"]);
    tools.both(&["-s", "ptest.only.key"]);
    tools.both(&["-s", "ptest.x", "u8", "1", "-x"]);

    // A user the daemon does not allow is refused (corosync's IPC permission check).
    let unprivileged = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let as_nobody = |tool: &str| {
        let args: Vec<&str> = unprivileged
            .iter()
            .copied()
            .chain([tool, "-g", "totem.token"])
            .collect();
        Output::new(
            tool,
            tools.node.command("setpriv").args(&args).output().unwrap(),
        )
    };
    let c = as_nobody(&tools.c_tool);
    assert_eq!(
        c.stderr,
        "Failed to initialize the cmap API. Error CS_ERR_ACCESS\n"
    );
    assert_eq!(as_nobody(OURS), c);

    // No daemon: both fail the same way.
    cluster.kill(1).expect("kill the daemon");
    let down = tools.both(&["-g", "totem.token"]);
    assert_eq!(
        down.stderr,
        "Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n"
    );
    assert_eq!(down.status, Some(1));
}

#[test]
fn set_delete_load_and_clear() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let tools = Tools::new(cluster.node(1));
    let nothing = |_: &Cmap| {};
    let existing = |cmap: &Cmap| {
        cmap.set("mtest.keep", 1u8).unwrap();
        cmap.set("mtest.del.a", "a").unwrap();
        cmap.set("mtest.del.b.c", 2u64).unwrap();
        cmap.set("mtest.delete", b"\x01").unwrap();
    };

    // -s with every type, good and bad values.
    // (arguments of -s, what the map or stderr shows afterwards)
    let sets: &[(&[&str], &str)] = &[
        (&["mtest.i8", "i8", "-128"], "mtest.i8 (i8) = -128\n"),
        (&["mtest.i8", "i8", "128"], "128 is not valid i8 integer\n"),
        (&["mtest.i8", "i8", "  +12abc"], "mtest.i8 (i8) = 12\n"),
        (&["mtest.u8", "u8", "255"], "mtest.u8 (u8) = 255\n"),
        (&["mtest.u8", "u8", "256"], "256 is not valid u8 integer\n"),
        (&["mtest.u8", "u8", "-1"], "-1 is not valid u8 integer\n"),
        (
            &["mtest.i16", "i16", "-32769"],
            "-32769 is not valid i16 integer\n",
        ),
        (&["mtest.u16", "u16", "65535"], "mtest.u16 (u16) = 65535\n"),
        (
            &["mtest.i32", "i32", "2147483647"],
            "mtest.i32 (i32) = 2147483647\n",
        ),
        (
            &["mtest.u32", "u32", "4294967296"],
            "4294967296 is not valid u32 integer\n",
        ),
        (
            &["mtest.i64", "i64", "-9223372036854775808"],
            "mtest.i64 (i64) = -9223372036854775808\n",
        ),
        (
            &["mtest.i64", "i64", "99999999999999999999"],
            "mtest.i64 (i64) = 9223372036854775807\n",
        ),
        (
            &["mtest.u64", "u64", "18446744073709551615"],
            "mtest.u64 (u64) = 18446744073709551615\n",
        ),
        (
            &["mtest.u64", "u64", "-1"],
            "mtest.u64 (u64) = 18446744073709551615\n",
        ),
        (
            &["mtest.u64", "u64", "x1"],
            "x1 is not valid u64 type value\n",
        ),
        (
            &["mtest.flt", "flt", "1.25e3"],
            "mtest.flt (flt) = 1250.000000\n",
        ),
        (&["mtest.flt", "flt", "nan"], "mtest.flt (flt) = nan\n"),
        (
            &["mtest.flt", "flt", "0x1p-3"],
            "mtest.flt (flt) = 0.125000\n",
        ),
        (
            &["mtest.flt", "flt", "pi"],
            "pi is not valid flt type value\n",
        ),
        (
            &["mtest.dbl", "dbl", "-1e-300"],
            "mtest.dbl (dbl) = -0.000000\n",
        ),
        (&["mtest.dbl", "dbl", "inf"], "mtest.dbl (dbl) = inf\n"),
        (
            &["mtest.str", "str", "hello world"],
            "mtest.str (str) = hello world\n",
        ),
        (&["mtest.str", "str", ""], "mtest.str (str) = \n"),
        (&["mtest.x", "u128", "1"], "Unknown type u128\n"),
        (
            &["mtest.keep", "str", "replaced by a string"],
            "mtest.keep (str) = replaced by a string\n",
        ),
        (
            &["mtest.bad@name", "u8", "1"],
            "Failed to set key mtest.bad@name. Error CS_ERR_NAME_TOO_LONG\n",
        ),
        (
            &["mt", "u8", "1"],
            "Failed to set key mt. Error CS_ERR_NAME_TOO_LONG\n",
        ),
        (
            &["runtime.services.cmap.x", "u8", "1"],
            "Failed to set key runtime.services.cmap.x. Error CS_ERR_ACCESS\n",
        ),
        (
            &["mtest.extra", "u8", "1", "ignored"],
            "mtest.extra (u8) = 1\n",
        ),
    ];
    for (set, expected) in sets {
        // "--": some values start with "-", which getopt would take for options.
        let args: Vec<&str> = ["-s", "--"]
            .into_iter()
            .chain(set.iter().copied())
            .collect();
        let (out, state) = tools.both_changing("mtest.", &existing, &args, b"");
        assert!(
            state.contains(expected) || out.stderr == *expected,
            "cmapctl {args:?}: {out:?}, map {state}"
        );
    }
    let (out, state) =
        tools.both_changing("mtest.", &nothing, &["-s", "mtest.i8", "i8", "128"], b"");
    assert_eq!(out.stderr, "128 is not valid i8 integer\n");
    assert_eq!(state, "");
    let (_, state) = tools.both_changing(
        "mtest.",
        &nothing,
        &["-s", "--", "mtest.u64", "u64", "-1"],
        b"",
    );
    assert_eq!(state, "mtest.u64 (u64) = 18446744073709551615\n");

    // Binary values from a file and from stdin; an empty file is refused by libcmap.
    let dir = TempDir::new();
    let file = dir.join("value.bin");
    std::fs::write(&file, b"\x00bin\\ary\xff").unwrap();
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let (_, state) = tools.both_changing(
        "mtest.",
        &nothing,
        &["-s", "mtest.bin", "bin", file.to_str().unwrap()],
        b"",
    );
    assert_eq!(state, "mtest.bin (bin) = \\x00bin\\\\ary\\xFFFFFFFF\n");
    let (_, state) = tools.both_changing(
        "mtest.",
        &nothing,
        &["-s", "mtest.bin", "bin", "-"],
        b"from stdin",
    );
    assert_eq!(state, "mtest.bin (bin) = from stdin\n");
    let (out, _) = tools.both_changing(
        "mtest.",
        &nothing,
        &["-s", "mtest.bin", "bin", empty.to_str().unwrap()],
        b"",
    );
    assert_eq!(
        out.stderr,
        "Failed to set key mtest.bin. Error CS_ERR_INVALID_PARAM\n"
    );
    tools.both_changing(
        "mtest.",
        &nothing,
        &["-s", "mtest.bin", "bin", "/no/such/file"],
        b"",
    );

    // -d and -D.
    let (out, state) = tools.both_changing(
        "mtest.",
        &existing,
        &["-d", "mtest.keep", "mtest.delete"],
        b"",
    );
    assert_eq!((out.status, state.lines().count()), (Some(0), 2));
    let (out, _) = tools.both_changing(
        "mtest.",
        &existing,
        &["-d", "mtest.keep", "mtest.none", "mtest.delete"],
        b"",
    );
    assert_eq!(
        out.stderr,
        "Can't delete key mtest.none. Error CS_ERR_NOT_EXIST\n"
    );
    tools.both_changing(
        "mtest.",
        &existing,
        &["-d", "runtime.config.totem.token"],
        b"",
    );
    let (_, state) = tools.both_changing(
        "mtest.",
        &existing,
        &["-D", "mtest.del.", "mtest.nothing."],
        b"",
    );
    assert_eq!(state, "mtest.delete (bin) = \\x01\nmtest.keep (u8) = 1\n");
    tools.both_changing("mtest.", &existing, &["-D", "mtest.del"], b"");

    // -p: a settings file with comments, sets, deletes and prefix deletes; a line without a
    // value ends the load with an error.
    let settings = dir.join("settings");
    std::fs::write(
        &settings,
        "# a comment\n\n   \t# indented comment\nmtest.p.u32 u32 7\n  mtest.p.str str hello\n\
         mtest.p.bin bin -\n^mtest.keep\n^mtest.none\n^^mtest.del.\nmtest.p.dbl dbl 2.5 trailing\n",
    )
    .unwrap();
    let (out, state) = tools.both_changing(
        "mtest.",
        &existing,
        &["-p", settings.to_str().unwrap()],
        b"piped",
    );
    assert_eq!(
        out.stderr,
        "Can't delete key mtest.none. Error CS_ERR_NOT_EXIST\n"
    );
    assert_eq!(
        state,
        "mtest.delete (bin) = \\x01\nmtest.p.bin (bin) = piped\nmtest.p.dbl (dbl) = 2.500000\n\
         mtest.p.str (str) = hello\nmtest.p.u32 (u32) = 7\n"
    );
    std::fs::write(&settings, "mtest.p.a u8 1\nmtest.p.b u8\nmtest.p.c u8 3\n").unwrap();
    let (out, _) =
        tools.both_changing("mtest.", &nothing, &["-p", settings.to_str().unwrap()], b"");
    assert_eq!(
        out.stderr,
        "Both type and value for key mtest.p.b are required\n"
    );
    tools.both_changing("mtest.", &nothing, &["-p", "/no/such/settings"], b"");

    // -C: ours resets the counters (seen by the C tool), and both print nothing.
    let join_count = || tools.node.cmap_get_stats("stats.srp.memb_join_tx");
    assert_eq!(join_count(), "1");
    let ours = tools.run(OURS, &["-C", "totem"], b"");
    assert_eq!(
        (ours.status, ours.text().as_str(), ours.stderr.as_str()),
        (Some(0), "", "")
    );
    assert_eq!(join_count(), "0");
    for what in ["knet", "ipc", "totem", "schedmiss", "all"] {
        assert_eq!(tools.both(&["-C", what]).status, Some(0));
    }
}

#[test]
fn tracking() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let tools = Tools::new(cluster.node(1));
    tools.cmap.set("ttest.exists", 1u32).unwrap();

    // The same changes, made while each tool tracks, print the same lines.
    let changes = |cmap: &Cmap| {
        cmap.set("ttest.a", 1u32).unwrap();
        cmap.set("ttest.a", 2u32).unwrap();
        cmap.set("ttest.a", 2u32).unwrap(); // no change
        cmap.set("ttest.exists", "now a string").unwrap();
        cmap.set("ttest.bin", b"\x00\x80\\").unwrap();
        cmap.set("ttest.sub.flt", 0.5f32).unwrap();
        cmap.set("other.key", 1u8).unwrap();
        cmap.delete("ttest.a").unwrap();
        cmap.delete("ttest.bin").unwrap();
        cmap.delete("ttest.sub.flt").unwrap();
        cmap.delete("other.key").unwrap();
    };
    let runs: &[&[&str]] = &[
        &["-T", "ttest."],
        &["-b", "-T", "ttest."],
        &["-q", "-T", "ttest.sub", "other."],
        &["-t", "ttest.a", "ttest.exists", "ttest.bin"],
        &["-b", "-t", "ttest.bin", "ab"],
        &["-t", "-T", "ttest."], // -T after -t keeps exact-key tracking, as in the C tool
    ];
    for args in runs {
        let c = track(&tools, &tools.c_tool, args, &changes);
        let ours = track(&tools, OURS, args, &changes);
        assert_eq!(
            ours, c,
            "cmapctl {args:?}: ours (left) differs from corosync-cmapctl"
        );
        tools.cmap.set("ttest.exists", 1u32).unwrap();
    }
    let c = track(&tools, &tools.c_tool, &["-b", "-T", "ttest."], &changes);
    assert_eq!(
        c.text(),
        "Type \"q\" to finish\n\
         create> ttest.a (u32) = 1\n\
         modify> ttest.a (u32) = 2\n\
         modify> ttest.exists (str) = now a string\n\
         create> ttest.bin (bin) = \\x00\\xFFFFFF80\\\\\n\
         create> ttest.sub.flt (flt) = 0.500000\n\
         delete> ttest.a (u32) = 2\n\
         delete> ttest.bin (bin) = \\x00\\xFFFFFF80\\\\\n\
         delete> ttest.sub.flt (flt) = 0.500000\n"
    );
    // End of input ends tracking too.
    let ours = tools.run(OURS, &["-T", "ttest."], b"");
    assert_eq!(
        (ours.text().as_str(), ours.status),
        ("Type \"q\" to finish\n", Some(0))
    );
    // Errors when adding a track.
    let long_key = format!("ttest.{}", "k".repeat(300));
    tools.both(&["-t", &long_key]);
    tools.both(&["-T"]);

    // The benchmark runs on this daemon too (a smoke run, no timing checked), and its safe
    // calls of the zero-allocation kind allocate nothing.
    let bench = tools
        .node
        .command(env!("CARGO_BIN_EXE_cmapbench"))
        .arg("--quick")
        .output()
        .expect("run cmapbench");
    let report = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    for call in [
        "`get::<u32>`",
        "`set(key, u32)`",
        "`with_value` (string)",
        "track notification (dispatch + closure)",
    ] {
        assert!(
            report.contains(&format!("| {call} | 0 |")),
            "{call}: {report}"
        );
    }
}

/// Runs `tool args` (line-buffered, so that its first line shows that its tracks are in
/// place), makes `changes`, then types "q" and returns what the tool printed.
fn track(tools: &Tools<'_>, tool: &str, args: &[&str], changes: &dyn Fn(&Cmap)) -> Output {
    let mut child: Child = tools
        .node
        .command("stdbuf")
        .arg("-oL")
        .arg(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the tool");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut all = Vec::new();
        stdout.read_until(b'\n', &mut all).unwrap();
        tx.send(all.clone()).unwrap();
        stdout.read_to_end(&mut all).unwrap();
        all
    });
    let first = rx.recv_timeout(WAIT).expect("the tool starts tracking");
    if first == b"Type \"q\" to finish\n" {
        changes(&tools.cmap);
    }
    let mut stdin = child.stdin.take().unwrap();
    // The tool may have ended already (an error): then nobody reads this.
    let _ = stdin.write_all(b"q\n");
    let status = child.wait().expect("wait for the tool");
    drop(stdin);
    // Back to the starting state, now that the tool no longer listens.
    tools.cmap.set("ttest.exists", 1u32).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Output {
        stdout: reader.join().unwrap(),
        stderr: stderr.replace(tool, "PROG"),
        status: status.code(),
    }
}

/// A directory for input files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("cmapctl-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.path());
    }
}

trait StatsGet {
    fn cmap_get_stats(&self, key: &str) -> String;
}

impl StatsGet for Node {
    /// A stats key's value as corosync-cmapctl prints it.
    fn cmap_get_stats(&self, key: &str) -> String {
        let out = self
            .run(C_TOOL, ["-m", "stats", "-q", "-g", key])
            .expect("read stats");
        out.trim_end().to_owned()
    }
}
