//! Rootless mode: an unprivileged process enters a user namespace of its own before `main`.
//!
//! Creating network namespaces, bridges, veth pairs and bind mounts needs CAP_SYS_ADMIN and
//! CAP_NET_ADMIN. An unprivileged user gets both inside a user namespace it creates, and the
//! network and mount namespaces it then creates belong to that user namespace. Two rules of
//! the kernel decide *where* that must happen:
//!
//! * `setns(fd, CLONE_NEWNET)`, which [`Node::in_namespace`](crate::Node::in_namespace) uses
//!   so that a test's client handles reach a node's daemon, needs CAP_SYS_ADMIN in the
//!   caller's own user namespace too, so the test process itself must be inside it;
//! * `unshare(CLONE_NEWUSER)` and `setns(CLONE_NEWUSER)` refuse a process with more than one
//!   thread, and a test process has many by the time a test runs.
//!
//! So the crate registers a constructor (an `.init_array` entry, run by the dynamic loader
//! before `main`, while the process has one thread). When the process lacks CAP_SYS_ADMIN or
//! CAP_NET_ADMIN, the constructor
//!
//! 1. unshares a user namespace, a mount namespace and a network namespace,
//! 2. maps the user's uid and gid to 0 inside: the process is root of its namespace, with
//!    every capability there and none outside; files it creates belong to the user as before.
//!    When the user has subordinate ids (`/etc/subuid`, `/etc/subgid`, 65536 or more) and the
//!    `uidmap` package's `newuidmap` and `newgidmap` are installed, ids 1 to 65536 inside map
//!    to them, so tests can switch to other users (e.g. `nobody`, 65534) as under root;
//!    otherwise only 0 is mapped (`0 <uid> 1`, `setgroups` denied),
//! 3. makes every mount private and mounts a tmpfs on `/run/netns` (on `/run`, with an empty
//!    `/run/netns` in it, when `/run/netns` does not exist), so that `ip netns` keeps the
//!    process's namespaces there, invisible to and untouched by anyone else.
//!
//! Everything else works as under root: daemons, tools and `ip netns exec` started by the
//! harness inherit the user namespace; kill, restart, isolate and heal are the same calls.
//!
//! The process gets a network namespace of its own (with only a loopback interface, set up)
//! because `ip netns add` returns to its caller's network namespace with `setns`, which the
//! kernel allows only into a namespace owned by the caller's user namespace. So a test
//! process in rootless mode has no network outside the machine (local files, pipes and
//! unix sockets work as before).
//!
//! The constructor does nothing when the process already has both capabilities (root, or a
//! container that grants them), when [`EXISTING_ENV`](crate::EXISTING_ENV) selects an existing
//! daemon, or when [`ROOTLESS_ENV`] is `off`. If it cannot create the user namespace (user
//! namespaces disabled), it records why and the first cluster start fails with that reason
//! and what to enable.

use std::ffi::CString;
use std::sync::OnceLock;

use crate::env;

/// Environment variable that turns rootless mode off (`off` or `0`): an unprivileged process
/// then fails to start clusters with an error about missing privileges, as before.
pub const ROOTLESS_ENV: &str = "COROSYNC_TESTCLUSTER_ROOTLESS";

/// What the constructor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// The constructor has not run (it always runs before `main`; seen only in odd linkers).
    NotRun,
    /// The process had the capabilities already (root): nothing to do.
    Privileged,
    /// Not attempted, for the reason given.
    Disabled(String),
    /// The process is now root of its own user namespace.
    Rootless,
    /// Entering a user namespace failed: what failed and what to enable.
    Failed(String),
}

static STATE: OnceLock<State> = OnceLock::new();

/// What rootless mode did in this process.
pub(crate) fn state() -> State {
    // Referencing the constructor keeps its object file in every binary that starts
    // clusters, whatever the linker does with unreferenced archive members.
    std::hint::black_box(&ENTER_USER_NAMESPACE);
    STATE.get().cloned().unwrap_or(State::NotRun)
}

/// Whether this process runs in the user namespace that rootless mode created.
///
/// ```
/// // As root (or with CAP_SYS_ADMIN and CAP_NET_ADMIN) this is false; as an unprivileged
/// // user with user namespaces enabled it is true.
/// println!("rootless: {}", corosync_testcluster::is_rootless());
/// ```
pub fn is_rootless() -> bool {
    state() == State::Rootless
}

// SAFETY (of the attribute): `.init_array` holds pointers to functions that the dynamic
// loader calls before `main` with (argc, argv, envp); a function that ignores its arguments
// is called correctly, and it is a plain `extern "C" fn` that never unwinds.
#[used]
#[link_section = ".init_array"]
static ENTER_USER_NAMESPACE: extern "C" fn() = enter_user_namespace;

extern "C" fn enter_user_namespace() {
    // No panic may unwind out of a function the loader calls.
    let state = std::panic::catch_unwind(decide)
        .unwrap_or_else(|_| State::Failed("the rootless-mode constructor panicked".to_string()));
    let _ = STATE.set(state);
}

fn decide() -> State {
    match std::env::var(ROOTLESS_ENV) {
        Ok(v) if matches!(v.trim(), "off" | "0" | "no") => {
            return State::Disabled(format!("{ROOTLESS_ENV}={v}"));
        }
        _ => {}
    }
    if crate::existing::enabled() {
        return State::Disabled(format!(
            "{} selects an existing daemon",
            crate::existing::EXISTING_ENV
        ));
    }
    if env::has_namespace_capabilities() {
        return State::Privileged;
    }
    match enter() {
        Ok(()) => State::Rootless,
        Err(why) => State::Failed(why),
    }
}

/// What to enable when user namespaces are refused.
const ENABLE_HINT: &str = "enable unprivileged user namespaces (`sysctl -w \
     user.max_user_namespaces=15000`; on Debian before 11 also `sysctl -w \
     kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04 `sysctl -w \
     kernel.apparmor_restrict_unprivileged_userns=0`; in a container, allow the unshare and \
     mount system calls), or run as root";

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {text:?} to {path}: {e}"))
}

fn mount_tmpfs(target: &str) -> Result<(), String> {
    let target_c = CString::new(target).map_err(|e| e.to_string())?;
    // SAFETY: every pointer is a NUL-terminated string that lives across the call; mount()
    // only reads them.
    let rc = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target_c.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            c"mode=0755".as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("cannot mount a tmpfs on {target}: {}", errno()))
    }
}

/// How many subordinate ids are mapped (1 to 65536 inside the namespace).
const SUB_IDS: u64 = 65536;

/// The first of `SUB_IDS` subordinate ids of the user (`name` or numeric `id`) in `file`.
fn subordinate_start(file: &str, name: &str, id: u32) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.trim().split(':');
        let (who, start, count) = (parts.next()?, parts.next()?, parts.next()?);
        let (start, count) = (start.parse::<u64>().ok()?, count.parse::<u64>().ok()?);
        ((who == name || who == id.to_string()) && count >= SUB_IDS).then_some(start)
    })
}

/// The user name of `uid` (from the password database).
fn user_name(uid: u32) -> Option<String> {
    // SAFETY: getpwuid is called while the process has one thread (before main), so its
    // static result is not overwritten concurrently; the name is copied out at once.
    unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// A child process that writes the id maps of this process with `newuidmap` and `newgidmap`
/// (setuid helpers of the `uidmap` package) once this process has unshared its user
/// namespace.
struct MapHelper {
    pid: libc::pid_t,
    /// Write end of the pipe the child waits on.
    go: libc::c_int,
}

impl MapHelper {
    /// Forks the helper if the user has subordinate ids and the helpers are installed.
    fn spawn(uid: u32, gid: u32) -> Option<MapHelper> {
        let name = user_name(uid)?;
        let sub_uid = subordinate_start("/etc/subuid", &name, uid)?;
        let sub_gid = subordinate_start("/etc/subgid", &name, uid)?;
        let newuidmap = env::find_program(std::ffi::OsStr::new("newuidmap"))?;
        let newgidmap = env::find_program(std::ffi::OsStr::new("newgidmap"))?;
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        let args = |map: &std::path::Path, id: u32, sub: u64| -> Option<Vec<CString>> {
            [
                map.to_string_lossy().into_owned(),
                parent.to_string(),
                "0".into(),
                id.to_string(),
                "1".into(),
                "1".into(),
                sub.to_string(),
                SUB_IDS.to_string(),
            ]
            .into_iter()
            .map(|a| CString::new(a).ok())
            .collect()
        };
        let uid_args = args(&newuidmap, uid, sub_uid)?;
        let gid_args = args(&newgidmap, gid, sub_gid)?;
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` is a valid array of two ints for pipe() to fill.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: the process has one thread, so the child may run any code; it only waits,
        // runs the two helpers and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            // SAFETY: both fds were just opened and are not used again.
            unsafe {
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
            return None;
        }
        if pid == 0 {
            // SAFETY: in the child: plain calls on fds it owns; the argument vectors are
            // NUL-terminated arrays of pointers to C strings that outlive the calls.
            unsafe {
                libc::close(fds[1]);
                let mut byte = 0u8;
                let n = libc::read(fds[0], (&mut byte as *mut u8).cast(), 1);
                let ok = n == 1 && run_helper(&uid_args) && run_helper(&gid_args);
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        // SAFETY: the read end belongs to the child now.
        unsafe { libc::close(fds[0]) };
        Some(MapHelper { pid, go: fds[1] })
    }

    /// Lets the helper write the maps and waits for it; whether it succeeded.
    fn finish(self) -> bool {
        let byte = 1u8;
        // SAFETY: `go` is the open write end of the pipe; one byte from a valid buffer.
        let sent = unsafe { libc::write(self.go, (&byte as *const u8).cast(), 1) } == 1;
        let ok = sent && self.wait();
        std::mem::forget(self);
        ok
    }

    fn wait(&self) -> bool {
        // SAFETY: closing our pipe end (EOF for a child still waiting) and reaping our own
        // child with a valid status pointer.
        unsafe {
            libc::close(self.go);
            let mut status = 0;
            libc::waitpid(self.pid, &mut status, 0) == self.pid
                && libc::WIFEXITED(status)
                && libc::WEXITSTATUS(status) == 0
        }
    }
}

impl Drop for MapHelper {
    /// An unused helper sees EOF on its pipe and exits; reap it.
    fn drop(&mut self) {
        self.wait();
    }
}

/// Runs one of the id-map helpers in the forked child; whether it exited with 0.
///
/// # Safety
/// Only in the single-threaded child of [`MapHelper::spawn`].
unsafe fn run_helper(args: &[CString]) -> bool {
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: single-threaded (caller's contract); the child of this fork only execs.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: `argv` is a NULL-terminated array of valid C strings; on failure the
        // child leaves at once.
        unsafe {
            libc::execv(argv[0], argv.as_ptr());
            libc::_exit(127);
        }
    }
    if pid < 0 {
        return false;
    }
    let mut status = 0;
    // SAFETY: reaping our own child with a valid status pointer.
    unsafe {
        libc::waitpid(pid, &mut status, 0) == pid
            && libc::WIFEXITED(status)
            && libc::WEXITSTATUS(status) == 0
    }
}

/// Sets the loopback interface of the process's new network namespace up.
fn loopback_up() -> Result<(), String> {
    // SAFETY: socket() takes plain integers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("cannot open a socket: {}", errno()));
    }
    // SAFETY: ifreq is plain data for which all-zero bytes are a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: `fd` is an open socket and `req` a valid ifreq naming "lo" that outlives the
    // call; SIOCSIFFLAGS only reads it.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) };
    let result = if rc == 0 {
        Ok(())
    } else {
        Err(format!("cannot set the loopback interface up: {}", errno()))
    };
    // SAFETY: `fd` is open and owned here; it is not used afterwards.
    unsafe { libc::close(fd) };
    result
}

/// Steps 1 to 3 of the module documentation.
fn enter() -> Result<(), String> {
    // SAFETY: getuid and getgid have no preconditions and cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let helper = MapHelper::spawn(uid, gid);
    // SAFETY: unshare() takes flags only; it changes namespaces of this (single-threaded)
    // process.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        let e = errno();
        drop(helper);
        return Err(format!(
            "unshare(CLONE_NEWUSER) as uid {uid} failed: {e}; {ENABLE_HINT}"
        ));
    }
    let mapped = helper.is_some_and(MapHelper::finish);
    if !mapped {
        write_file("/proc/self/setgroups", "deny")?;
        write_file("/proc/self/uid_map", &format!("0 {uid} 1\n"))?;
        write_file("/proc/self/gid_map", &format!("0 {gid} 1\n"))?;
    }
    // SAFETY: as above; the process is root of its new user namespace now, which owns the
    // new mount and network namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "unshare(CLONE_NEWNS | CLONE_NEWNET) in the new user namespace failed: {}; \
             {ENABLE_HINT}",
            errno()
        ));
    }
    loopback_up()?;
    // SAFETY: NULL source, type and data are allowed with MS_REC | MS_PRIVATE, which only
    // changes the propagation of the mounts of this process's own mount namespace; the target
    // is a NUL-terminated string.
    let rc = unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!("cannot make the mounts private: {}", errno()));
    }
    if std::path::Path::new("/run/netns").is_dir() {
        mount_tmpfs("/run/netns")?;
    } else {
        mount_tmpfs("/run")?;
        std::fs::create_dir("/run/netns").map_err(|e| format!("cannot create /run/netns: {e}"))?;
    }
    Ok(())
}
