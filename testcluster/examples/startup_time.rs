//! Measures the time from nothing to a quorate cluster: `Cluster::start(n)` returns once every
//! node sees all n members and is quorate (per corosync-quorumtool), so its duration is that
//! time; the teardown (drop) is measured apart.
//!
//! `cargo run --release -p corosync-testcluster --example startup_time -- [NODES] [RUNS]`
//! (defaults: 3 nodes, 5 runs), as root or rootless. `STARTUP_TOTEM="key=value,..."` adds
//! totem options (to compare timeouts).

use std::time::{Duration, Instant};

use corosync_testcluster::Cluster;

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: u32 = args.next().map_or(3, |a| a.parse().expect("NODES"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("RUNS"));
    let mut starts = Vec::new();
    let mut drops = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut builder = Cluster::builder(nodes);
        for option in std::env::var("STARTUP_TOTEM")
            .unwrap_or_default()
            .split(',')
        {
            if let Some((key, value)) = option.split_once('=') {
                builder = builder.totem_option(key, value);
            }
        }
        let cluster = builder.start().expect("start");
        starts.push(t.elapsed());
        let t = Instant::now();
        drop(cluster);
        drops.push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!(
        "{nodes} nodes, {runs} runs: nothing to quorate median {:.2?} (min {:.2?}, max {:.2?}); teardown median {:.2?}",
        median(&mut starts),
        starts[0],
        starts[starts.len() - 1],
        median(&mut drops),
    );
}
