//! Checks of the machine (privileges, installed programs) and helpers to run programs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::error::{HarnessError, Result};

/// What to tell the user when a program is missing.
pub(crate) const INSTALL_HINT: &str = "apt-get install -y corosync iproute2 util-linux";

/// Directories searched for programs in addition to `PATH` (root's tools live in sbin, which
/// is not always on the `PATH` of a test run).
const EXTRA_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Absolute paths of the programs the harness runs.
#[derive(Debug)]
pub(crate) struct Tools {
    pub(crate) ip: PathBuf,
    pub(crate) unshare: PathBuf,
    pub(crate) mount: PathBuf,
    pub(crate) sh: PathBuf,
    pub(crate) corosync: PathBuf,
    pub(crate) quorumtool: PathBuf,
    pub(crate) cmapctl: PathBuf,
}

/// Looks `program` up in `PATH` and in the usual sbin/bin directories.
///
/// A name containing a `/` is returned as it is.
pub(crate) fn find_program(program: &OsStr) -> Option<PathBuf> {
    if program.to_string_lossy().contains('/') {
        return Some(PathBuf::from(program));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(EXTRA_DIRS.iter().map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) => meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        Err(_) => false,
    }
}

/// Effective capabilities of this process (the `CapEff` mask of /proc/self/status).
fn effective_capabilities() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
}

fn check_privileges() -> Result<()> {
    const CAP_NET_ADMIN: u32 = 12;
    const CAP_SYS_ADMIN: u32 = 21;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let caps = effective_capabilities().unwrap_or(0);
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    if has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN) {
        return Ok(());
    }
    Err(HarnessError::new(format!(
        "corosync-testcluster needs root (or the capabilities CAP_SYS_ADMIN and CAP_NET_ADMIN) to create \
         network namespaces, a bridge, veth pairs and bind mounts for its corosync daemons, but \
         this process has euid {euid} and effective capabilities {caps:#x}. Run the tests as root \
         (e.g. `sudo -E cargo test`), or in a container with those capabilities."
    )))
}

fn locate_tools() -> Result<Tools> {
    check_privileges()?;
    let mut missing = Vec::new();
    let mut find = |name: &str| {
        find_program(OsStr::new(name)).unwrap_or_else(|| {
            missing.push(name.to_string());
            PathBuf::new()
        })
    };
    let tools = Tools {
        ip: find("ip"),
        unshare: find("unshare"),
        mount: find("mount"),
        sh: find("sh"),
        corosync: find("corosync"),
        quorumtool: find("corosync-quorumtool"),
        cmapctl: find("corosync-cmapctl"),
    };
    if !missing.is_empty() {
        return Err(missing_programs(&missing));
    }
    for dir in ["/var/lib/corosync", "/run"] {
        if !Path::new(dir).is_dir() {
            return Err(HarnessError::new(format!(
                "corosync-testcluster bind-mounts a private directory over {dir} for each daemon, but \
                 {dir} does not exist; it is created by the corosync package: `{INSTALL_HINT}`"
            )));
        }
    }
    Ok(tools)
}

fn missing_programs(missing: &[String]) -> HarnessError {
    HarnessError::new(format!(
        "corosync-testcluster cannot run real clusters: the program(s) {} were not found in PATH or in \
         {}. Install them with `{INSTALL_HINT}` (as root).",
        missing.join(", "),
        EXTRA_DIRS.join(":")
    ))
}

/// The located programs, checked once per process (privileges, presence of every program).
pub(crate) fn tools() -> Result<&'static Tools> {
    static TOOLS: OnceLock<std::result::Result<Tools, HarnessError>> = OnceLock::new();
    TOOLS
        .get_or_init(locate_tools)
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks that this machine can run clusters: root privileges (CAP_SYS_ADMIN and
/// CAP_NET_ADMIN) and the programs `corosync`, `corosync-quorumtool`, `corosync-cmapctl`, `ip`,
/// `unshare`, `mount` and `sh`.
///
/// [`Cluster::start`](crate::Cluster::start) does this itself; call it directly to fail early
/// with a clear message. The error says what to install or which privileges are missing.
pub fn check_environment() -> Result<()> {
    tools().map(|_| ())
}

/// Renders a command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion with captured output (no stdin).
pub(crate) fn output(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::new(format!("cannot run `{}`: {e}", describe(cmd))))
}

/// Runs `cmd` and fails unless it exits with status 0; returns its stdout.
pub(crate) fn run(cmd: &mut Command) -> Result<String> {
    let out = output(cmd)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(HarnessError::new(format!(
            "`{}` failed ({}): {}{}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end(),
            if out.stdout.is_empty() {
                String::new()
            } else {
                format!(
                    "\nstdout: {}",
                    String::from_utf8_lossy(&out.stdout).trim_end()
                )
            }
        )))
    }
}

/// Whether a process with this pid exists (including zombies).
pub(crate) fn pid_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether a process with this pid exists and is not a zombie.
pub(crate) fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may contain spaces.
        Ok(stat) => match stat.rfind(')') {
            Some(end) => !stat[end + 1..].trim_start().starts_with(['Z', 'X']),
            None => true,
        },
        Err(_) => false,
    }
}

/// Removes what a corosync daemon with this pid leaves in /dev/shm when it is killed with
/// SIGKILL (a clean exit removes it itself): its libqb blackbox files
/// `qb-corosync-<pid>-blackbox-{header,data}` (8 MiB each) and one directory
/// `qb-<pid>-<client pid>-<fd>-<random>` per client connection that was open at that moment.
pub(crate) fn remove_daemon_shm(pid: u32) {
    let blackbox = format!("qb-corosync-{pid}-");
    let connection = format!("qb-{pid}-");
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with(&blackbox) {
                let _ = std::fs::remove_file(&path);
            } else if name.starts_with(&connection) && path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

/// Tail of a text: its last `lines` lines (the whole text if it has fewer).
pub(crate) fn tail(text: &str, lines: usize) -> &str {
    let body = text.trim_end_matches('\n');
    let mut count = 0;
    for (i, b) in body.bytes().enumerate().rev() {
        if b == b'\n' {
            count += 1;
            if count == lines {
                return &text[i + 1..];
            }
        }
    }
    text
}

#[cfg(test)]
mod unit {
    use super::{find_program, missing_programs, tail};
    use std::ffi::OsStr;

    #[test]
    fn missing_programs_say_what_to_install() {
        assert!(find_program(OsStr::new("no-such-program-cst")).is_none());
        assert!(find_program(OsStr::new("sh")).is_some());
        let e = missing_programs(&["corosync".to_string()]);
        assert!(e
            .message()
            .contains("apt-get install -y corosync iproute2 util-linux"));
        assert!(e.message().contains("corosync"));
    }

    #[test]
    fn tail_takes_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb\nc", 5), "a\nb\nc");
        assert_eq!(tail("", 3), "");
        assert_eq!(tail("x\n", 1), "x\n");
    }
}
