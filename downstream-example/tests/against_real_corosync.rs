//! The example project's integration test: real daemons from corosync-testcluster.

use std::time::Duration;

use corosync_testcluster::Cluster;
use downstream_example::{cluster_summary, Summary};

#[test]
fn summary_follows_the_cluster() {
    let cluster = Cluster::start(3).expect("a 3-node cluster");
    let summary = cluster
        .node(2)
        .in_namespace(cluster_summary)
        .expect("enter node 2")
        .expect("ask node 2");
    assert_eq!(
        summary,
        Summary {
            cluster_name: cluster.cluster_name().to_string(),
            this_node: 2,
            quorate: true,
        }
    );

    // Two of three nodes gone: node 1 is alone and not quorate any more.
    cluster.kill(3).unwrap();
    cluster.kill(2).unwrap();
    cluster
        .wait_quorate(1, false, Duration::from_secs(30))
        .unwrap();
    let summary = cluster
        .node(1)
        .in_namespace(cluster_summary)
        .unwrap()
        .unwrap();
    assert_eq!(summary.this_node, 1);
    assert!(!summary.quorate);
}

/// Runs in every mode, also against an existing daemon (one node, no faults).
#[test]
fn summary_of_one_node() {
    let cluster = Cluster::start(1).expect("a 1-node cluster");
    let summary = cluster
        .node(1)
        .in_namespace(cluster_summary)
        .unwrap()
        .unwrap();
    assert_eq!(summary.this_node, 1);
    assert!(summary.quorate);
    assert_eq!(summary.cluster_name, cluster.cluster_name());
}
