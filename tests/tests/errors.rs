//! Errors that tell the truth (issue 9, item 4): a failed open says why, from the errno the C
//! library left (no daemon, out of file descriptors, a user the daemon refuses), for each of
//! the five libraries; and a handle whose daemon died answers what its docs say.

use std::fs::File;

use corosync::cfg::Cfg;
use corosync::cmap::Cmap;
use corosync::cpg::{Cpg, FlowControl, Guarantee};
use corosync::quorum::Quorum;
use corosync::votequorum::Votequorum;
use corosync::Error;
use corosync_testcluster::Cluster;

/// Set in the environment of the child copy of this test binary that runs with a low
/// RLIMIT_NOFILE.
const CHILD_ENV: &str = "COROSYNC_ERRORS_TEST_FD_CHILD";
/// The test that doubles as that child.
const CHILD_TEST: &str = "out_of_file_descriptors_is_told_apart_from_no_daemon";
/// What the child prints when all its checks passed.
const CHILD_DONE: &str = "fd child: all five libraries checked";

/// Opens one handle of each library; the error of each.
fn open_each() -> Vec<(&'static str, Result<(), Error>)> {
    vec![
        ("cmap", Cmap::new().map(drop)),
        ("cpg", Cpg::new().map(drop)),
        ("quorum", Quorum::builder().build().map(drop)),
        ("votequorum", Votequorum::new().map(drop)),
        ("cfg", Cfg::new().map(drop)),
    ]
}

fn assert_each(results: &[(&str, Result<(), Error>)], expected: &Error, words: &str) {
    for (library, result) in results {
        assert_eq!(result.as_ref().err(), Some(expected), "{library}");
        let text = expected.to_string();
        assert!(text.contains(words), "{library}: {text}");
    }
}

#[test]
fn no_daemon_and_a_dead_daemon_are_reported_as_such() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let (cmap, cpg, quorum, vq, cfg) = node
        .in_namespace(|| {
            Ok::<_, Error>((
                Cmap::new()?,
                Cpg::new()?,
                Quorum::builder().build()?,
                Votequorum::new()?,
                Cfg::new()?,
            ))
        })
        .expect("enter the namespace")
        .expect("open every library");
    cluster.kill(1).expect("kill the daemon");

    // Handles of a dead daemon: Library (errno 0, "connection lost"), never BadHandle; the
    // two CPG calls that libcpg answers from local state keep answering.
    let lost = Error::Library { errno: 0 };
    assert_eq!(cmap.get::<u32>("totem.token"), Err(lost.clone()));
    assert_eq!(cpg.local_node_id(), Err(lost.clone()));
    assert_eq!(cpg.mcast(Guarantee::Agreed, b"x"), Err(lost.clone()));
    assert_eq!(cpg.max_atomic_msgsize(), Ok(1024 * 1024 - 1024));
    assert_eq!(cpg.flow_control_state(), Ok(FlowControl::Disabled));
    assert_eq!(quorum.is_quorate(), Err(lost.clone()));
    assert_eq!(vq.info(None).err(), Some(lost.clone()));
    assert_eq!(cfg.local_node_id(), Err(lost.clone()));
    assert!(
        lost.to_string().contains("connection to it was lost"),
        "{lost}"
    );
    drop((cmap, cpg, quorum, vq, cfg));

    // No daemon at all: ECONNREFUSED, worded as such.
    let results = node.in_namespace(open_each).expect("enter the namespace");
    assert_each(
        &results,
        &Error::Library {
            errno: libc::ECONNREFUSED,
        },
        "corosync is not running",
    );
}

#[test]
fn a_user_the_daemon_refuses_is_told_about_uidgid() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let results = node
        .in_namespace(|| {
            // Thread-level credentials (raw syscalls, unlike libc's process-wide wrappers):
            // only this thread, which ends right after, becomes `nobody`.
            // SAFETY: plain syscalls with integer arguments and a null list for setgroups.
            let changed = unsafe {
                libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) == 0
                    && libc::syscall(libc::SYS_setresgid, 65534, 65534, 65534) == 0
                    && libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) == 0
            };
            assert!(
                changed,
                "drop privileges: {}",
                std::io::Error::last_os_error()
            );
            open_each()
        })
        .expect("enter the namespace");
    assert_each(&results, &Error::Access, "`uidgid` entry in corosync.conf");
}

#[test]
fn out_of_file_descriptors_is_told_apart_from_no_daemon() {
    if std::env::var_os(CHILD_ENV).is_some() {
        fd_child();
        return;
    }
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    // RLIMIT_NOFILE is per process: the check runs in a child copy of this binary, inside the
    // node's namespace.
    let output = cluster
        .node(1)
        .command(std::env::current_exe().expect("this test binary"))
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(CHILD_DONE),
        "the child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// In the child: use up every file descriptor under a low limit, check that every library's
/// open says so, then free them and check that opening works again.
fn fd_child() {
    let limit = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: setrlimit reads the struct; this child process is ours alone.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
    let mut files = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("open /dev/null: {e}"),
        }
    }
    assert_each(
        &open_each(),
        &Error::Library {
            errno: libc::EMFILE,
        },
        "out of file descriptors",
    );
    drop(files);
    for (library, result) in open_each() {
        assert_eq!(result, Ok(()), "{library} with file descriptors free again");
    }
    println!("{CHILD_DONE}");
}
