#![doc = include_str!("../README.md")]

use corosync::cmap::Cmap;
use corosync::quorum::Quorum;

/// What this example "project" reports about the cluster of the daemon it talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `totem.cluster_name`.
    pub cluster_name: String,
    /// This node's id (`runtime.votequorum.this_node_id`).
    pub this_node: u32,
    /// Whether the partition of this node is quorate.
    pub quorate: bool,
}

/// Asks the local corosync daemon (the one of the calling thread's network namespace) for a
/// [`Summary`].
///
/// ```no_run
/// let summary = downstream_example::cluster_summary().expect("a running corosync");
/// println!("{} node {} quorate {}", summary.cluster_name, summary.this_node, summary.quorate);
/// ```
pub fn cluster_summary() -> corosync::Result<Summary> {
    let cmap = Cmap::new()?;
    let cluster_name = cmap.get::<String>("totem.cluster_name")?;
    let this_node = cmap.get::<u32>("runtime.votequorum.this_node_id")?;
    let quorum = Quorum::builder().build()?;
    let quorate = quorum.is_quorate()?;
    Ok(Summary {
        cluster_name,
        this_node,
        quorate,
    })
}
