//! Runs one program inside node 1 of a throwaway cluster, then tears the cluster down.
//!
//! Usage: `on-cluster NODES PROGRAM [ARGS...]` (as root). Used by `scripts/bench` to run the
//! benchmarks against a real daemon; handy for trying an example by hand too.

use std::process::ExitCode;

use corosync_testcluster::Cluster;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(nodes), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: on-cluster NODES PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let Ok(nodes) = nodes.parse::<u32>() else {
        eprintln!("on-cluster: NODES must be a number, not {nodes:?}");
        return ExitCode::from(2);
    };
    let cluster = match Cluster::start(nodes) {
        Ok(cluster) => cluster,
        Err(err) => {
            eprintln!("on-cluster: {err}");
            return ExitCode::FAILURE;
        }
    };
    let status = cluster.node(1).command(&program).args(args).status();
    drop(cluster);
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("on-cluster: {program} ended with {status}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("on-cluster: cannot run {program}: {err}");
            ExitCode::FAILURE
        }
    }
}
