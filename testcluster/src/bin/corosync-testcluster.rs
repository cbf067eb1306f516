//! `corosync-testcluster`: throwaway corosync clusters for programs in any language.
//!
//! ```text
//! corosync-testcluster run [OPTIONS] -- CMD [ARGS...]   start, run CMD as a client of node 1, tear down
//! corosync-testcluster up [OPTIONS]                     start and keep running until SIGINT/SIGTERM or `down`
//! corosync-testcluster down NAME                        stop a cluster started by `up`
//! corosync-testcluster exec [--cluster NAME] K -- CMD [ARGS...]   run CMD as a client of node K
//! corosync-testcluster config [OPTIONS]                 print the corosync.conf the harness would write
//! ```
//!
//! See the crate README for the options and the environment given to CMD.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use corosync_testcluster::{Cluster, ClusterBuilder, Crypto, HarnessError};

const USAGE: &str = "\
usage:
  corosync-testcluster run [OPTIONS] -- CMD [ARGS...]
      Starts a cluster, runs CMD as a client of node 1 (in node 1's network namespace) and
      removes the cluster when CMD ends (or on SIGINT/SIGTERM). Exits with CMD's status.
  corosync-testcluster up [OPTIONS]
      Starts a cluster, prints how to reach each node and keeps it until SIGINT/SIGTERM or
      `corosync-testcluster down NAME`.
  corosync-testcluster down NAME
      Stops the cluster NAME started by `up` (and waits until it is gone).
  corosync-testcluster exec [--cluster NAME] K -- CMD [ARGS...]
      Runs CMD as a client of node K of cluster NAME (default: $COROSYNC_TESTCLUSTER_NAME,
      set for CMD by `run`).
  corosync-testcluster config [OPTIONS]
      Prints the corosync.conf of node 1 that `run`/`up` would write (e.g. for a container).

OPTIONS:
  --nodes N              number of nodes (1 to 32, default 1)
  --token MS             totem token timeout in ms (default 1000)
  --consensus MS         totem consensus timeout in ms
  --crypto on|off|auto   encryption (default: $COROSYNC_TESTCLUSTER_CRYPTO, else auto)
  --two-node, --wait-for-all, --last-man-standing, --auto-tie-breaker
                         votequorum options
  --prefix P             prefix of namespace and directory names (default cst)
  --subnet A.B.C.D/L     private segment of a multi-node cluster (default 10.213.0.0/24)
  --tool-dir DIR         directory of corosync and its tools, searched before PATH
  --timeout S            time limit of start in seconds (default 30)

Environment of CMD (run): COROSYNC_TESTCLUSTER_NAME, COROSYNC_TESTCLUSTER_NODES,
COROSYNC_TESTCLUSTER_DIR and, for each node K, COROSYNC_TESTCLUSTER_NODE<K>_NETNS,
COROSYNC_TESTCLUSTER_NODE<K>_ADDR and COROSYNC_TESTCLUSTER_NODE<K>_PID.";

/// The last SIGINT or SIGTERM received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe; the
        // function pointer has the signature signal() expects.
        unsafe {
            libc::signal(
                signal,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("corosync-testcluster: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    let Some(sub) = args.first().and_then(|a| a.to_str()) else {
        return Err(USAGE.into());
    };
    let rest = &args[1..];
    match sub {
        "run" => run(rest),
        "up" => up(rest),
        "down" => down(rest),
        "exec" => exec(rest),
        "config" => config(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown subcommand {other:?}\n{USAGE}").into()),
    }
}

/// Splits `args` at the first `--`.
fn split_command(args: &[OsString]) -> (&[OsString], &[OsString]) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[]),
    }
}

/// Parses the cluster options into a builder.
fn builder(options: &[OsString]) -> Result<ClusterBuilder, HarnessError> {
    let mut nodes = 1u32;
    let mut setters: Vec<Box<dyn FnOnce(ClusterBuilder) -> ClusterBuilder>> = Vec::new();
    let mut it = options.iter().map(|a| a.to_string_lossy().into_owned());
    let number = |flag: &str, value: Option<String>| -> Result<u64, HarnessError> {
        let value = value.ok_or_else(|| HarnessError::new(format!("{flag} needs a value")))?;
        value
            .parse()
            .map_err(|_| HarnessError::new(format!("{flag} {value}: not a number")))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--nodes" => {
                nodes = u32::try_from(number(&flag, it.next())?)
                    .map_err(|_| HarnessError::new("--nodes: too large"))?
            }
            "--token" => {
                let ms = number(&flag, it.next())?;
                setters.push(Box::new(move |b| b.token(Duration::from_millis(ms))));
            }
            "--consensus" => {
                let ms = number(&flag, it.next())?;
                setters.push(Box::new(move |b| b.consensus(Duration::from_millis(ms))));
            }
            "--timeout" => {
                let s = number(&flag, it.next())?;
                setters.push(Box::new(move |b| b.timeout(Duration::from_secs(s))));
            }
            "--crypto" => match it.next().as_deref() {
                Some("on") => setters.push(Box::new(|b| b.crypto(Crypto::aes256_sha256()))),
                Some("off") => setters.push(Box::new(|b| b.crypto(Crypto::off()))),
                Some("auto") => {}
                other => return Err(format!("--crypto {other:?}: expected on, off or auto").into()),
            },
            "--two-node" => setters.push(Box::new(|b| b.two_node(true))),
            "--wait-for-all" => setters.push(Box::new(|b| b.wait_for_all(true))),
            "--last-man-standing" => setters.push(Box::new(|b| b.last_man_standing(true))),
            "--auto-tie-breaker" => setters.push(Box::new(|b| b.auto_tie_breaker(true))),
            "--prefix" => {
                let p = it.next().ok_or("--prefix needs a value")?;
                setters.push(Box::new(move |b| b.prefix(&p)));
            }
            "--tool-dir" => {
                let d = it.next().ok_or("--tool-dir needs a value")?;
                setters.push(Box::new(move |b| b.tool_dir(d)));
            }
            "--subnet" => {
                let value = it.next().ok_or("--subnet needs a value")?;
                let (net, len) = value
                    .split_once('/')
                    .and_then(|(n, l)| Some((n.parse::<Ipv4Addr>().ok()?, l.parse::<u8>().ok()?)))
                    .ok_or_else(|| {
                        HarnessError::new(format!("--subnet {value}: expected A.B.C.D/LEN"))
                    })?;
                setters.push(Box::new(move |b| b.subnet(net, len)));
            }
            other => return Err(format!("unknown option {other:?}\n{USAGE}").into()),
        }
    }
    Ok(setters
        .into_iter()
        .fold(Cluster::builder(nodes), |b, set| set(b)))
}

/// The state file of a cluster started by this tool: one line `K NETNS PID` per node.
fn state_path(dir: &Path) -> PathBuf {
    dir.join("nodes")
}

fn write_state(cluster: &Cluster) -> Result<(), HarnessError> {
    let text: String = cluster
        .nodes()
        .iter()
        .map(|n| format!("{} {} {}\n", n.id(), n.netns(), n.pid().unwrap_or(0)))
        .collect();
    std::fs::write(state_path(cluster.dir()), text)
        .map_err(|e| HarnessError::new(format!("cannot write the state file: {e}")))
}

/// The environment that tells a program how to reach every node.
fn cluster_env(cluster: &Cluster) -> Vec<(String, String)> {
    let mut env = vec![
        ("COROSYNC_TESTCLUSTER_NAME".into(), cluster.name().into()),
        (
            "COROSYNC_TESTCLUSTER_NODES".into(),
            cluster.len().to_string(),
        ),
        (
            "COROSYNC_TESTCLUSTER_DIR".into(),
            cluster.dir().display().to_string(),
        ),
    ];
    for node in cluster.nodes() {
        let k = node.id();
        env.push((
            format!("COROSYNC_TESTCLUSTER_NODE{k}_NETNS"),
            node.netns().into(),
        ));
        env.push((
            format!("COROSYNC_TESTCLUSTER_NODE{k}_ADDR"),
            node.addr().to_string(),
        ));
        env.push((
            format!("COROSYNC_TESTCLUSTER_NODE{k}_PID"),
            node.pid().unwrap_or(0).to_string(),
        ));
    }
    env
}

/// The exit code for a child's status: its code, or 128 + the signal that ended it.
fn exit_code(status: ExitStatus) -> ExitCode {
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn run(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    let (options, command) = split_command(args);
    let Some((program, program_args)) = command.split_first() else {
        return Err(format!("run needs a command after --\n{USAGE}").into());
    };
    install_signal_handlers();
    let cluster = builder(options)?.start()?;
    write_state(&cluster)?;
    let mut child = cluster
        .node(1)
        .command(program)
        .args(program_args)
        .envs(cluster_env(&cluster))
        .spawn()
        .map_err(|e| HarnessError::new(format!("cannot run {}: {e}", program.to_string_lossy())))?;
    let mut forwarded = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for the command: {e}").into()),
        }
        let signal = SIGNAL.load(Ordering::SeqCst);
        if signal != 0 && !forwarded {
            // SAFETY: kill() with our own unreaped child's pid and a valid signal.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            forwarded = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(cluster);
    Ok(exit_code(status))
}

fn up(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    install_signal_handlers();
    let cluster = builder(args)?.start()?;
    write_state(&cluster)?;
    let exe = std::env::current_exe().unwrap_or_else(|_| "corosync-testcluster".into());
    println!("cluster {} is up ({} nodes)", cluster.name(), cluster.len());
    for node in cluster.nodes() {
        println!(
            "  node {}: address {}, netns {}, daemon pid {}",
            node.id(),
            node.addr(),
            node.netns(),
            node.pid().unwrap_or(0)
        );
    }
    println!(
        "run a client of node K:   {} exec --cluster {} K -- CMD ARGS...",
        exe.display(),
        cluster.name()
    );
    println!(
        "stop it:                  {} down {}",
        exe.display(),
        cluster.name()
    );
    for (key, value) in cluster_env(&cluster) {
        println!("{key}={value}");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    while SIGNAL.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(cluster);
    Ok(ExitCode::SUCCESS)
}

/// The pid of the process that owns cluster `name` (`<prefix><pid>x<seq>`).
fn owner(name: &str) -> Option<u32> {
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let (pid, _) = name[start..].split_once('x')?;
    pid.parse().ok()
}

fn down(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    let [name] = args else {
        return Err(format!("down needs the cluster's name\n{USAGE}").into());
    };
    let name = name.to_string_lossy();
    let dir = std::env::temp_dir().join(&*name);
    let pid = owner(&name)
        .filter(|_| state_path(&dir).exists())
        .ok_or_else(|| {
            HarnessError::new(format!("no cluster {name} started by `up` is running"))
        })?;
    // SAFETY: kill() has no memory-safety preconditions; the pid owns the cluster's state file.
    if unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } != 0 {
        return Err(format!(
            "cannot signal process {pid}: {}",
            std::io::Error::last_os_error()
        )
        .into());
    }
    corosync_testcluster::wait_until(Duration::from_secs(30), "the cluster to be removed", || {
        !dir.exists()
    })?;
    println!("cluster {name} is down");
    Ok(ExitCode::SUCCESS)
}

fn exec(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    let (options, command) = split_command(args);
    let mut name = std::env::var("COROSYNC_TESTCLUSTER_NAME").ok();
    let mut node = None;
    let mut it = options.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        if arg == "--cluster" {
            name = Some(it.next().ok_or("--cluster needs a value")?);
        } else {
            node = Some(
                arg.parse::<u32>()
                    .map_err(|_| HarnessError::new(format!("node {arg:?}: not a number")))?,
            );
        }
    }
    let name = name.ok_or("exec: no --cluster NAME and no $COROSYNC_TESTCLUSTER_NAME")?;
    let node = node.ok_or("exec needs a node number")?;
    let Some((program, program_args)) = command.split_first() else {
        return Err(format!("exec needs a command after --\n{USAGE}").into());
    };
    let state = std::fs::read_to_string(state_path(&std::env::temp_dir().join(&name)))
        .map_err(|e| HarnessError::new(format!("no cluster {name} is running: {e}")))?;
    let (netns, pid) = state
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((
                w.next()?.parse::<u32>().ok()?,
                w.next()?.to_string(),
                w.next()?.to_string(),
            ))
        })
        .find(|(k, _, _)| *k == node)
        .map(|(_, ns, pid)| (ns, pid))
        .ok_or_else(|| HarnessError::new(format!("cluster {name} has no node {node}")))?;
    let netns_file = Path::new("/run/netns").join(&netns);
    let error = if netns_file.exists() {
        // Root, or inside the user namespace of the rootless `run` that started the cluster.
        Command::new("ip")
            .args(["netns", "exec", &netns])
            .arg(program)
            .args(program_args)
            .exec()
    } else if corosync_testcluster::is_rootless() {
        // This process made a user namespace of its own before main; enter the cluster's
        // from a fresh process without one.
        Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .arg("exec")
            .args(args)
            .arg0("corosync-testcluster")
            .env(corosync_testcluster::ROOTLESS_ENV, "off")
            .env("COROSYNC_TESTCLUSTER_NAME", &name)
            .exec()
    } else {
        // A rootless cluster seen from outside its user namespace: join the daemon's user and
        // network namespaces.
        Command::new("nsenter")
            .args([
                "--target",
                &pid,
                "--user",
                "--net",
                "--preserve-credentials",
                "--",
            ])
            .arg(program)
            .args(program_args)
            .exec()
    };
    Err(format!("cannot run {}: {error}", program.to_string_lossy()).into())
}

fn config(args: &[OsString]) -> Result<ExitCode, HarnessError> {
    let builder = builder(args)?;
    print!("{}", builder.render_config()?);
    Ok(ExitCode::SUCCESS)
}
