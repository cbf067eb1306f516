//! Checks of the machine (privileges, installed programs) and helpers to run programs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::error::{HarnessError, Result};

/// What to tell the user when a program is missing.
pub(crate) const INSTALL_HINT: &str = "apt-get install -y corosync iproute2 util-linux";

/// Environment variable naming a directory that holds `corosync` and its tools; searched
/// before `PATH` (see [`ClusterBuilder::tool_dir`](crate::ClusterBuilder::tool_dir)).
pub const TOOL_DIR_ENV: &str = "COROSYNC_TESTCLUSTER_TOOL_DIR";

/// Directories searched after `PATH`, because an unprivileged user's `PATH` often lacks the
/// sbin directories where distributions install corosync. `PATH` (and the tool directory) come
/// first, so `PATH=PREFIX/sbin:$PATH` selects another corosync build.
const FALLBACK_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The corosync programs the harness knows by name; [`Tools::program`] resolves them through
/// the tool directory first.
pub(crate) const COROSYNC_PROGRAMS: &[&str] = &[
    "corosync",
    "corosync-keygen",
    "corosync-cmapctl",
    "corosync-quorumtool",
    "corosync-cpgtool",
    "corosync-cfgtool",
];

/// Absolute paths of the programs the harness runs, resolved for one cluster.
#[derive(Debug)]
pub(crate) struct Tools {
    pub(crate) ip: PathBuf,
    pub(crate) unshare: PathBuf,
    pub(crate) mount: PathBuf,
    pub(crate) sh: PathBuf,
    pub(crate) corosync: PathBuf,
    pub(crate) quorumtool: PathBuf,
    pub(crate) cmapctl: PathBuf,
    /// The directory searched first for corosync's programs (builder or environment).
    pub(crate) tool_dir: Option<PathBuf>,
}

impl Tools {
    /// Resolves a program name for running against a node: corosync's programs through the
    /// tool directory first, every name then through `PATH` and the fallback directories. A
    /// name with a `/` is used as it is; an unknown name is returned unchanged (so that the
    /// error of running it names it).
    pub(crate) fn program(&self, program: &OsStr) -> PathBuf {
        find_program_in(self.tool_dir.as_deref(), program).unwrap_or_else(|| PathBuf::from(program))
    }
}

/// The tool directory from the environment ([`TOOL_DIR_ENV`]), if set and not empty.
pub(crate) fn tool_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(TOOL_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Looks `program` up in `PATH` and then in the usual sbin/bin directories.
///
/// A name containing a `/` is returned as it is.
pub(crate) fn find_program(program: &OsStr) -> Option<PathBuf> {
    find_program_in(None, program)
}

/// Like [`find_program`], with `tool_dir` searched first for corosync's own programs.
pub(crate) fn find_program_in(tool_dir: Option<&Path>, program: &OsStr) -> Option<PathBuf> {
    if program.to_string_lossy().contains('/') {
        return Some(PathBuf::from(program));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = tool_dir {
        if COROSYNC_PROGRAMS.iter().any(|p| OsStr::new(p) == program) {
            dirs.push(dir.to_path_buf());
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.extend(FALLBACK_DIRS.iter().map(PathBuf::from));
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
pub(crate) fn effective_capabilities() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
}

/// Whether this process has CAP_SYS_ADMIN and CAP_NET_ADMIN in its own user namespace.
pub(crate) fn has_namespace_capabilities() -> bool {
    const CAP_NET_ADMIN: u32 = 12;
    const CAP_SYS_ADMIN: u32 = 21;
    let caps = effective_capabilities().unwrap_or(0);
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN)
}

fn check_privileges() -> Result<()> {
    if has_namespace_capabilities() {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let caps = effective_capabilities().unwrap_or(0);
    let mut message = format!(
        "corosync-testcluster needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root, or root of a user \
         namespace) to create network namespaces, a bridge, veth pairs and bind mounts for its \
         corosync daemons, but this process has euid {euid} and effective capabilities {caps:#x}."
    );
    match crate::rootless::state() {
        crate::rootless::State::Failed(why) => message.push_str(&format!(
            " It tried to enter a user namespace of its own (rootless mode) and failed: {why}."
        )),
        crate::rootless::State::Disabled(why) => {
            message.push_str(&format!(" Rootless mode is off: {why}."));
        }
        _ => message.push_str(
            " Run the tests as root, in a container with those capabilities, or as an \
             unprivileged user with user namespaces enabled (rootless mode).",
        ),
    }
    Err(HarnessError::new(message))
}

/// The programs a cluster needs, resolved with `tool_dir` searched first for corosync's.
pub(crate) fn locate_tools(tool_dir: Option<PathBuf>) -> Result<Tools> {
    static PRIVILEGES: OnceLock<std::result::Result<(), HarnessError>> = OnceLock::new();
    // Also keeps the rootless constructor linked into every binary that starts clusters.
    let _ = crate::rootless::state();
    PRIVILEGES.get_or_init(check_privileges).clone()?;
    let mut missing = Vec::new();
    let mut find = |name: &str| {
        find_program_in(tool_dir.as_deref(), OsStr::new(name)).unwrap_or_else(|| {
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
        tool_dir: tool_dir.clone(),
    };
    if !missing.is_empty() {
        return Err(missing_programs(&missing, tool_dir.as_deref()));
    }
    for dir in ["/var/lib/corosync", "/run"] {
        if !Path::new(dir).is_dir() {
            return Err(HarnessError::new(format!(
                "corosync-testcluster bind-mounts a private directory over {dir} for each \
                 daemon, but {dir} does not exist; it is created by the corosync package: \
                 `{INSTALL_HINT}`"
            )));
        }
    }
    Ok(tools)
}

/// The programs existing-daemon mode needs: only corosync's observers (no privileges, no
/// `ip`, no daemon binary).
pub(crate) fn locate_client_tools(tool_dir: Option<PathBuf>) -> Result<Tools> {
    let mut missing = Vec::new();
    let mut find = |name: &str, required: bool| {
        find_program_in(tool_dir.as_deref(), OsStr::new(name)).unwrap_or_else(|| {
            if required {
                missing.push(name.to_string());
            }
            PathBuf::from(name)
        })
    };
    let tools = Tools {
        ip: find("ip", false),
        unshare: find("unshare", false),
        mount: find("mount", false),
        sh: find("sh", false),
        corosync: find("corosync", false),
        quorumtool: find("corosync-quorumtool", true),
        cmapctl: find("corosync-cmapctl", true),
        tool_dir: tool_dir.clone(),
    };
    if !missing.is_empty() {
        return Err(missing_programs(&missing, tool_dir.as_deref()));
    }
    Ok(tools)
}

fn missing_programs(missing: &[String], tool_dir: Option<&Path>) -> HarnessError {
    let packages: Vec<&str> = missing
        .iter()
        .map(|p| match p.as_str() {
            "ip" => "iproute2",
            "unshare" | "mount" => "util-linux",
            "sh" => "dash",
            _ => "corosync",
        })
        .collect();
    let mut packages_sorted = packages.clone();
    packages_sorted.sort_unstable();
    packages_sorted.dedup();
    HarnessError::new(format!(
        "corosync-testcluster cannot run real clusters: the program(s) {} were not found in {}PATH \
         or in {}. Install {} with `apt-get install -y {}` (as root), or point {TOOL_DIR_ENV} \
         (or PATH) at a directory that holds another corosync build.",
        missing.join(", "),
        match tool_dir {
            Some(dir) => format!("the tool directory {}, ", dir.display()),
            None => String::new(),
        },
        FALLBACK_DIRS.join(":"),
        packages_sorted.join(" and "),
        packages_sorted.join(" "),
    ))
}

/// Checks that this machine can run clusters: CAP_SYS_ADMIN and CAP_NET_ADMIN (as root, or as
/// root of the user namespace that rootless mode creates) and the programs `corosync`,
/// `corosync-quorumtool`, `corosync-cmapctl`, `ip`, `unshare`, `mount` and `sh` (corosync's
/// looked up in [`TOOL_DIR_ENV`] first, then `PATH`).
///
/// [`Cluster::start`](crate::Cluster::start) does this itself; call it directly to fail early
/// with a clear message. The error says what to install or which privileges are missing. In
/// existing-daemon mode ([`EXISTING_ENV`](crate::EXISTING_ENV)) it checks only for
/// `corosync-quorumtool` and `corosync-cmapctl`.
///
/// ```no_run
/// corosync_testcluster::check_environment().expect("this machine cannot run clusters");
/// ```
pub fn check_environment() -> Result<()> {
    if crate::existing::enabled() {
        return locate_client_tools(tool_dir_from_env()).map(|_| ());
    }
    locate_tools(tool_dir_from_env()).map(|_| ())
}

/// What `corosync -v` says about a daemon binary: its version and whether it was built to
/// refuse unencrypted clusters (`enforce_encryption` among its features; upstream main).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DaemonInfo {
    pub(crate) version: String,
    pub(crate) enforces_encryption: bool,
}

impl DaemonInfo {
    pub(crate) fn parse(text: &str) -> DaemonInfo {
        let version = text.split('\'').nth(1).unwrap_or("unknown").to_string();
        let enforces_encryption = text
            .lines()
            .filter(|l| l.starts_with("Built-in features:"))
            .any(|l| l.split_whitespace().any(|w| w == "enforce_encryption"));
        DaemonInfo {
            version,
            enforces_encryption,
        }
    }
}

/// `corosync -v` of the daemon at `path`, asked once per path and process.
pub(crate) fn daemon_info(path: &Path) -> Result<DaemonInfo> {
    static CACHE: std::sync::Mutex<Vec<(PathBuf, DaemonInfo)>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, info)) = cache.iter().find(|(p, _)| p == path) {
        return Ok(info.clone());
    }
    let out = run(Command::new(path).arg("-v"))?;
    let info = DaemonInfo::parse(&out);
    cache.push((path.to_path_buf(), info.clone()));
    Ok(info)
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
    use super::{find_program, find_program_in, missing_programs, tail, DaemonInfo};
    use std::ffi::OsStr;
    use std::path::Path;

    #[test]
    fn missing_programs_say_what_to_install() {
        assert!(find_program(OsStr::new("no-such-program-cst")).is_none());
        assert!(find_program(OsStr::new("sh")).is_some());
        let e = missing_programs(&["corosync".to_string()], None);
        assert!(e.message().contains("apt-get install -y corosync`"), "{e}");
        let e = missing_programs(&["ip".to_string(), "corosync-cmapctl".to_string()], None);
        assert!(
            e.message()
                .contains("apt-get install -y corosync iproute2`"),
            "{e}"
        );
        assert!(e.message().contains("ip, corosync-cmapctl"), "{e}");
    }

    #[test]
    fn tool_dir_comes_first_for_corosync_programs_only() {
        let dir = std::env::temp_dir().join(format!("cst-unit-tooldir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["corosync", "sh"] {
            let path = dir.join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let found = find_program_in(Some(&dir), OsStr::new("corosync")).unwrap();
        assert_eq!(found, dir.join("corosync"));
        // Not a corosync program: PATH as usual.
        let sh = find_program_in(Some(&dir), OsStr::new("sh")).unwrap();
        assert_ne!(sh, dir.join("sh"));
        assert_eq!(
            find_program_in(Some(Path::new("/nonexistent")), OsStr::new("/bin/x")),
            Some("/bin/x".into())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parses_corosync_version_and_features() {
        let old = "Corosync Cluster Engine, version '3.1.7'\nCopyright (c) 2006-2021 Red Hat, \
                   Inc.\n\nBuilt-in features: dbus monitoring watchdog augeas systemd\n";
        assert_eq!(
            DaemonInfo::parse(old),
            DaemonInfo {
                version: "3.1.7".into(),
                enforces_encryption: false
            }
        );
        let main = "Corosync Cluster Engine, version '3.1.10.24-65235a81'\n\
                    Built-in features: dbus enforce_encryption without_udpu\n";
        let info = DaemonInfo::parse(main);
        assert_eq!(info.version, "3.1.10.24-65235a81");
        assert!(info.enforces_encryption);
    }

    #[test]
    fn tail_takes_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb\nc", 5), "a\nb\nc");
        assert_eq!(tail("", 3), "");
        assert_eq!(tail("x\n", 1), "x\n");
    }
}
