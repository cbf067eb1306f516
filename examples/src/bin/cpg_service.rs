//! `cpg_service`: a small service on one shared CPG connection. Several worker tasks send
//! job messages at once while one task receives every delivery, on a multi-thread tokio
//! runtime, through one `corosync::tokio::Cpg` that all of them share (clones of one
//! handle: the connection serialises their requests, as libqb requires).
//!
//! ```text
//! cpg_service [--group NAME] [--workers W] [--jobs J] [--timeout S]
//!   --group NAME  the group to join (default "cpg_service")
//!   --workers W   how many sending tasks (default 4, at least 1)
//!   --jobs J      how many messages each worker sends (default 100, at least 1)
//!   --timeout S   give up (status 1) if they have not all come back within S seconds
//!                 (default 30; fractions allowed)
//! ```
//!
//! Worker `w` sends `job <w> <j>` for `j` from 1 to J, with sizes up to 4 KiB (the job line,
//! then filler). The receiver checks that each worker's jobs come back in the order it
//! sent them, and prints one line per worker and a summary:
//!
//! ```text
//! worker 1: 100 jobs in order
//! worker 2: 100 jobs in order
//! received 200 of 200
//! ```
//!
//! Messages of other processes in the group are counted in the summary's last line
//! (`and N from others`) only when there are some. Errors (no daemon, the daemon going
//! away, a job out of order, the timeout) are reported on stderr with status 1.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use corosync::cpg::{Event, GroupName, Guarantee};
use corosync::tokio::Cpg;

const USAGE: &str = "usage: cpg_service [--group NAME] [--workers W] [--jobs J] [--timeout S]";

#[derive(Debug)]
struct Options {
    group: String,
    workers: u32,
    jobs: u32,
    timeout: Duration,
}

/// Parses the command line: `--name VALUE` or `--name=VALUE`. `Ok(None)` means help was
/// asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        group: "cpg_service".to_owned(),
        workers: 4,
        jobs: 100,
        timeout: Duration::from_secs(30),
    };
    let more = corosync_examples::long_options::parse(
        args,
        &["--group", "--workers", "--jobs", "--timeout"],
        |name, value| {
            let count = |what: &str| {
                value
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("{what}: not a count of at least 1: {value:?}"))
            };
            match name {
                "--group" => options.group = value,
                "--workers" => options.workers = count("--workers")?,
                "--jobs" => options.jobs = count("--jobs")?,
                _ => {
                    options.timeout = value
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or(format!("--timeout: not a number of seconds: {value:?}"))?;
                }
            }
            Ok(())
        },
    )?;
    Ok(more.then_some(options))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("cpg_service: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cpg_service: cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match tokio::time::timeout(options.timeout, run(&options)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "timed out after {} s",
                options.timeout.as_secs_f64()
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cpg_service: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The message of job `job` of worker `worker`: its line, then filler up to a size that
/// varies between 11 bytes and 4 KiB.
fn job_message(worker: u32, job: u32) -> Vec<u8> {
    let mut data = format!("job {worker} {job}\n").into_bytes();
    let size = (job as usize * 997 + worker as usize * 131) % 4096;
    data.resize(data.len().max(size), b'.');
    data
}

/// The worker and job of a message made by [`job_message`].
fn parse_job(data: &[u8]) -> Option<(u32, u32)> {
    let line = data.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.strip_prefix("job ")?.split(' ');
    let worker = words.next()?.parse().ok()?;
    let job = words.next()?.parse().ok()?;
    Some((worker, job))
}

async fn run(options: &Options) -> Result<(), String> {
    let group = GroupName::new(&options.group).map_err(|e| format!("--group: {e}"))?;
    let cpg = Cpg::open().map_err(|e| format!("cannot connect to cpg: {e}"))?;
    cpg.join(&group)
        .map_err(|e| format!("cannot join group {}: {e}", options.group))?;
    let me = (
        cpg.local_node_id()
            .map_err(|e| format!("cannot get the local node id: {e}"))?,
        std::process::id(),
    );

    // The workers: each a task with its own clone of the handle.
    let mut workers = tokio::task::JoinSet::new();
    for worker in 1..=options.workers {
        let cpg = cpg.clone();
        let jobs = options.jobs;
        workers.spawn(async move {
            for job in 1..=jobs {
                cpg.send(Guarantee::Agreed, &job_message(worker, job))
                    .await
                    .map_err(|e| format!("worker {worker} cannot send: {e}"))?;
            }
            Ok::<(), String>(())
        });
    }

    // The receiver: this task, on the same connection.
    let total = options.workers as usize * options.jobs as usize;
    let mut last: BTreeMap<u32, u32> = BTreeMap::new();
    let (mut received, mut others) = (0usize, 0usize);
    while received < total {
        tokio::select! {
            event = cpg.next_event() => {
                let Event::Message(msg) = event.map_err(|e| format!("receive: {e}"))? else {
                    continue;
                };
                if (msg.node_id(), msg.pid()) != me {
                    others += 1;
                    continue;
                }
                let (worker, job) = parse_job(msg.data())
                    .ok_or_else(|| format!("not a job message: {:?}", msg.data()))?;
                let previous = last.entry(worker).or_insert(0);
                if job != *previous + 1 {
                    return Err(format!("worker {worker}: job {job} after job {previous}"));
                }
                *previous = job;
                received += 1;
            }
            // A worker that failed ends the service with its error.
            Some(done) = workers.join_next() => {
                done.map_err(|e| format!("a worker failed: {e}"))??;
            }
        }
    }
    let mut out = io::stdout().lock();
    let mut report = || -> io::Result<()> {
        for (worker, jobs) in &last {
            writeln!(out, "worker {worker}: {jobs} jobs in order")?;
        }
        write!(out, "received {received} of {total}")?;
        if others > 0 {
            write!(out, " and {others} from others")?;
        }
        writeln!(out)?;
        out.flush()
    };
    report().map_err(|e| format!("cannot write to stdout: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Options>, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        let o = args(&[]).unwrap().unwrap();
        assert_eq!(
            (o.group.as_str(), o.workers, o.jobs),
            ("cpg_service", 4, 100)
        );
        let o = args(&[
            "--workers=2",
            "--jobs",
            "5",
            "--group",
            "g",
            "--timeout",
            "1.5",
        ])
        .unwrap()
        .unwrap();
        assert_eq!((o.group.as_str(), o.workers, o.jobs), ("g", 2, 5));
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert!(args(&["--help"]).unwrap().is_none());
        assert!(args(&["--workers", "0"]).is_err());
        assert!(args(&["--jobs"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }

    #[test]
    fn job_messages_round_trip() {
        for (worker, job) in [(1, 1), (4, 100), (7, 4095)] {
            let data = job_message(worker, job);
            assert!(data.len() <= 4096);
            assert_eq!(parse_job(&data), Some((worker, job)));
        }
        assert_eq!(parse_job(b"hello"), None);
    }
}
