//! Network namespaces: naming, creation, removal, stale clean-up and entering one from a thread.
//!
//! Every name the harness creates starts with [`PREFIX`], followed by the pid of the process that
//! created it, `x` and a per-process sequence number: `cst<pid>x<seq>` names a cluster, its
//! directory under [`std::env::temp_dir`] and (with a suffix `n<k>` for node k or `b` for the
//! bridge) its namespaces. A name whose pid is no longer alive is left over from a crashed run.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use crate::env::{self, Tools};
use crate::error::{HarnessError, Result};

/// Prefix of every namespace and directory name the harness creates.
pub const PREFIX: &str = "cst";

/// Where `ip netns` keeps its named namespaces.
pub(crate) const NETNS_DIR: &str = "/run/netns";

/// Serialises `ip netns add/del` within this process: the first `ip netns add` on a machine
/// bind-mounts /run/netns onto itself, and concurrent first calls could stack two such mounts.
static NETNS_LOCK: Mutex<()> = Mutex::new(());

/// A fresh unique cluster name for this process: `<prefix><pid>x<seq>`.
pub(crate) fn new_cluster_name(prefix: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{seq}", std::process::id())
}

/// The pid encoded in a harness name (`<prefix><pid>x...`), if `name` is one.
pub(crate) fn owner_pid(prefix: &str, name: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let (pid, _) = rest.split_once('x')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// The path of a named namespace (`/run/netns/NAME`).
pub(crate) fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// Names of all namespaces known to `ip netns` (entries of /run/netns).
pub(crate) fn list_netns() -> Vec<String> {
    match std::fs::read_dir(NETNS_DIR) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Pids of the processes that live in namespace `name` (`ip netns pids`).
fn netns_pids(tools: &Tools, name: &str) -> Vec<u32> {
    match env::output(Command::new(&tools.ip).args(["netns", "pids", name])) {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Kills (SIGKILL) every process inside namespace `name` that is not this process, and waits a
/// little for them to disappear. Used for namespaces of crashed runs only.
fn kill_netns_processes(tools: &Tools, name: &str) {
    let me = std::process::id();
    let pids: Vec<u32> = netns_pids(tools, name)
        .into_iter()
        .filter(|&p| p != me)
        .collect();
    for &pid in &pids {
        // SAFETY: kill() with a valid signal number has no memory-safety preconditions.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pids.iter().any(|&p| env::pid_alive(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for pid in pids {
        env::remove_daemon_shm(pid);
    }
}

/// The cluster name in a daemon's command line: `corosync ... <temp_dir>/<cluster>/n<k>/corosync.conf`.
fn daemon_cluster(cmdline: &[u8]) -> Option<String> {
    let mut args = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty());
    let argv0 = Path::new(std::str::from_utf8(args.next()?).ok()?);
    if argv0.file_name()? != "corosync" {
        return None;
    }
    let tmp = std::env::temp_dir();
    args.filter_map(|a| std::str::from_utf8(a).ok())
        .map(Path::new)
        .filter(|p| p.file_name().is_some_and(|f| f == "corosync.conf"))
        .find_map(|p| {
            let rest = p.strip_prefix(&tmp).ok()?;
            let mut parts = rest.components();
            let cluster = parts.next()?.as_os_str().to_str()?.to_string();
            let node = parts.next()?.as_os_str().to_str()?;
            (node.starts_with('n') && parts.count() == 1).then_some(cluster)
        })
}

/// Kills (SIGKILL) the corosync daemons of clusters whose owner is dead, found by their
/// command line (`corosync -f -c <temp_dir>/<cluster>/n<k>/corosync.conf`) among this user's
/// processes. In rootless mode this is the only way to find them: the namespaces of a dead
/// process were in its private /run/netns. Returns how many were killed.
fn kill_stale_daemons(stale: &dyn Fn(&str) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if daemon_cluster(&cmdline).is_some_and(|cluster| stale(&cluster)) {
            // SAFETY: kill() with a valid signal number has no memory-safety preconditions.
            if unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) } == 0 {
                killed.push(pid);
            }
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while killed.iter().any(|&p| env::pid_alive(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for &pid in &killed {
        env::remove_daemon_shm(pid);
    }
    killed.len()
}

/// Creates namespace `name`; if one of that name already exists it is a leftover of an earlier
/// process that had the same pid, and it is removed first.
pub(crate) fn add(tools: &Tools, name: &str) -> Result<()> {
    if netns_path(name).exists() {
        kill_netns_processes(tools, name);
        delete(tools, name)?;
    }
    let _guard = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    env::run(Command::new(&tools.ip).args(["netns", "add", name])).map(|_| ())
}

/// Deletes namespace `name` (`ip netns del`); its interfaces go with it.
pub(crate) fn delete(tools: &Tools, name: &str) -> Result<()> {
    let _guard = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !netns_path(name).exists() {
        return Ok(());
    }
    env::run(Command::new(&tools.ip).args(["netns", "del", name])).map(|_| ())
}

/// Runs `ip -n NS ARGS...` and fails loudly.
pub(crate) fn ip_in(tools: &Tools, ns: &str, args: &[&str]) -> Result<String> {
    env::run(Command::new(&tools.ip).arg("-n").arg(ns).args(args))
}

fn cleanup_stale_with(tools: &Tools, prefix: &str) -> Result<usize> {
    let me = std::process::id();
    let stale = |name: &str| match owner_pid(prefix, name) {
        Some(pid) => pid != me && !env::pid_exists(pid),
        None => false,
    };
    let mut removed = 0;
    let mut errors = Vec::new();
    for name in list_netns() {
        if stale(&name) {
            kill_netns_processes(tools, &name);
            match delete(tools, &name) {
                Ok(()) => removed += 1,
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    removed += kill_stale_daemons(&stale);
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if stale(&name) && entry.path().is_dir() {
                match std::fs::remove_dir_all(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => errors.push(format!("cannot remove {}: {e}", entry.path().display())),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(removed)
    } else {
        Err(HarnessError::new(format!(
            "cleaning up leftovers of earlier runs failed: {}",
            errors.join("; ")
        )))
    }
}

/// Removes leftovers of earlier harness runs that crashed or were killed before their
/// [`Cluster`](crate::Cluster)s were dropped: namespaces named `cst<pid>x...` (and the daemons
/// still running inside them), corosync daemons whose configuration is
/// `<temp_dir>/cst<pid>x.../n<k>/corosync.conf` (how rootless leftovers are found) and
/// directories of that name under [`std::env::temp_dir`], for every `<pid>` that is no longer
/// alive. Nothing else is touched. Returns how many namespaces and directories were
/// removed.
///
/// Starting the first cluster of a process does this once automatically; there is no need to
/// call it unless you want to clean up without starting a cluster.
///
/// This covers the default prefix [`PREFIX`]; clusters started with another
/// [`prefix`](crate::ClusterBuilder::prefix) are cleaned up when the first cluster with that
/// prefix starts.
///
/// ```no_run
/// let removed = corosync_testcluster::cleanup_stale().expect("clean up");
/// println!("removed {removed} leftovers");
/// ```
pub fn cleanup_stale() -> Result<usize> {
    let tools = env::locate_tools(env::tool_dir_from_env())?;
    cleanup_stale_with(&tools, PREFIX)
}

/// Runs [`cleanup_stale`] once per process and prefix (errors are reported on stderr, not
/// fatal).
pub(crate) fn cleanup_stale_once(tools: &Tools, prefix: &str) {
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|p| p == prefix) {
        return;
    }
    done.push(prefix.to_string());
    if let Err(e) = cleanup_stale_with(tools, prefix) {
        eprintln!("corosync-testcluster: warning: {e}");
    }
}

/// Opens a namespace file for [`setns`].
pub(crate) fn open_netns(name: &str) -> Result<File> {
    let path = netns_path(name);
    File::open(&path).map_err(|e| {
        HarnessError::new(format!(
            "cannot open network namespace {}: {e}",
            path.display()
        ))
    })
}

/// Moves the calling thread into the network namespace `file` refers to.
pub(crate) fn setns(file: &File, name: &str) -> Result<()> {
    // SAFETY: the fd is valid for the duration of the call (owned by `file`); setns only changes
    // the namespace of the calling thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "setns into network namespace {name} failed: {}",
            std::io::Error::last_os_error()
        )))
    }
}

#[cfg(test)]
mod unit {
    use super::{daemon_cluster, owner_pid};

    #[test]
    fn finds_the_cluster_of_a_daemon() {
        let conf = std::env::temp_dir().join("cst12x3/n2/corosync.conf");
        let cmdline = format!("/usr/sbin/corosync\0-f\0-c\0{}\0", conf.display());
        assert_eq!(daemon_cluster(cmdline.as_bytes()), Some("cst12x3".into()));
        let other = format!("/usr/bin/vi\0{}\0", conf.display());
        assert_eq!(daemon_cluster(other.as_bytes()), None);
        let elsewhere = "corosync\0-c\0/etc/corosync/corosync.conf\0";
        assert_eq!(daemon_cluster(elsewhere.as_bytes()), None);
    }

    #[test]
    fn parses_owner_pid() {
        assert_eq!(owner_pid("cst", "cst123x4n1"), Some(123));
        assert_eq!(owner_pid("cst", "cst123x4"), Some(123));
        assert_eq!(owner_pid("cst", "cst123x4b"), Some(123));
        assert_eq!(owner_pid("cst", "cstx4"), None);
        assert_eq!(owner_pid("cst", "cst12a3x4"), None);
        assert_eq!(owner_pid("cst", "other"), None);
        assert_eq!(owner_pid("cst", "cst123"), None);
        assert_eq!(owner_pid("my-app", "my-app77x1n2"), Some(77));
        assert_eq!(owner_pid("my-app", "cst77x1n2"), None);
    }
}
