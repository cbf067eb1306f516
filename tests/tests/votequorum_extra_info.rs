//! A quorum device's extra information per node (votequorum's model v1), against a real
//! 3-node cluster of a corosync that has it (upstream main after 3.1.10; `scripts/test-versions`
//! runs it there). With an older corosync the API does not exist and neither does this test.
//!
//! Node 1 registers a quorum device and publishes extra information; nodes 2 and 3 get the
//! model-v1 callback and read it back; corosync-quorumtool shows it too; clearing it is seen
//! the same way; corosync-quorumtool -X on node 3 publishes information that our handle reads;
//! and what the daemon refuses is refused with the right errors.
#![cfg(corosync_votequorum_qdevice_extra_info)]

mod common;

use std::sync::Arc;

use common::WAIT;
use corosync::votequorum::{
    InfoFlags, OwnedQdeviceExtraInfoNotification, Votequorum, QDEVICE_EXTRA_INFO_MAX,
};
use corosync::{DispatchMode, Error, NodeId, TrackFlags};
use corosync_testcluster::{log_len, pump, Cluster, EventLog, Node};

/// A handle on `node` that records every extra-info notification, tracking changes.
fn open_tracking(node: &Node) -> (Votequorum, EventLog<OwnedQdeviceExtraInfoNotification>) {
    let log: EventLog<OwnedQdeviceExtraInfoNotification> = Arc::default();
    let pushed = log.clone();
    let vq = node
        .in_namespace(move || {
            Votequorum::builder()
                .on_qdevice_extra_info(move |_, n| pushed.lock().unwrap().push(n.into_owned()))
                .build()
        })
        .expect("enter the node's namespace")
        .expect("open a votequorum handle");
    vq.track_start(u64::from(node.id()), TrackFlags::CHANGES)
        .expect("track changes");
    (vq, log)
}

/// Dispatches until a notification says that node `about` has `info` (`None`: cleared).
fn wait_for(
    vq: &Votequorum,
    log: &EventLog<OwnedQdeviceExtraInfoNotification>,
    from: usize,
    about: u32,
    info: Option<&[u8]>,
) -> Vec<OwnedQdeviceExtraInfoNotification> {
    pump(
        vq,
        |h| h.dispatch(DispatchMode::All),
        log,
        from,
        &format!("extra info {info:?} of node {about}"),
        WAIT,
        |events| {
            events
                .iter()
                .any(|n| n.node_id() == NodeId::from(about) && n.extra_info() == info)
        },
    )
}

#[test]
fn extra_info_set_on_one_node_is_seen_on_the_others() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let open = |k: u32| {
        cluster
            .node(k)
            .in_namespace(Votequorum::new)
            .expect("enter the node's namespace")
            .expect("open a votequorum handle")
    };
    let vq1 = open(1);
    let watchers: Vec<_> = [2, 3].map(|k| open_tracking(cluster.node(k))).into();
    let marks: Vec<usize> = watchers.iter().map(|(_, log)| log_len(log)).collect();

    // Without a quorum device on the node, there is nothing to publish under.
    assert_eq!(vq1.qdevice_set_extra_info(b"early"), Err(Error::NotExist));
    assert_eq!(vq1.qdevice_extra_info(NodeId::from(1)), Ok(None));

    // Node 1's device publishes; nodes 2 and 3 are told (with their track context) and read
    // the same bytes back; getinfo flags it.
    vq1.qdevice_register("extra-info-test").expect("register");
    vq1.qdevice_set_extra_info(b"site=A rack=7").expect("set");
    for ((vq, log), mark) in watchers.iter().zip(&marks) {
        let k = vq.info(None).unwrap().node_id.get();
        let events = wait_for(vq, log, *mark, 1, Some(b"site=A rack=7"));
        let n = events
            .iter()
            .find(|n| n.node_id() == NodeId::from(1))
            .unwrap();
        assert_eq!(n.context(), u64::from(k), "node {k}: {n:?}");
        assert_eq!(
            vq.qdevice_extra_info(NodeId::from(1)),
            Ok(Some(b"site=A rack=7".to_vec())),
            "node {k}"
        );
        assert!(vq
            .info(Some(NodeId::from(1)))
            .unwrap()
            .flags
            .contains(InfoFlags::QDEVICE_HAS_EXTRA_INFO));
        assert!(!vq
            .info(Some(NodeId::from(k)))
            .unwrap()
            .flags
            .contains(InfoFlags::QDEVICE_HAS_EXTRA_INFO));
        assert_eq!(vq.qdevice_extra_info(NodeId::from(k)), Ok(None));
    }
    // corosync's own tool lists it beside node 1: in hex, since it shows as text only a
    // printable C string (with its NUL).
    let listing = cluster
        .node(2)
        .run("corosync-quorumtool", ["-l"])
        .expect("corosync-quorumtool -l");
    assert!(
        listing.contains(" node1 [13 bytes: 73 69 74 65 3D 41 20 72 61 63 6B 3D 37 ]\n"),
        "{listing}"
    );

    // A handle that starts tracking now is told at once about every node that has some.
    let (late, late_log) = open_tracking(cluster.node(3));
    wait_for(&late, &late_log, 0, 1, Some(b"site=A rack=7"));

    // The largest size passes, one byte more is refused before it reaches C.
    let largest: Vec<u8> = (0..QDEVICE_EXTRA_INFO_MAX).map(|i| i as u8).collect();
    vq1.qdevice_set_extra_info(&largest)
        .expect("set the largest");
    let (vq2, log2) = &watchers[0];
    wait_for(vq2, log2, marks[0], 1, Some(&largest));
    assert_eq!(vq2.qdevice_extra_info(NodeId::from(1)), Ok(Some(largest)));
    assert_eq!(
        vq1.qdevice_set_extra_info(vec![0u8; QDEVICE_EXTRA_INFO_MAX + 1]),
        Err(Error::TooLong {
            what: "quorum device extra information",
            length: QDEVICE_EXTRA_INFO_MAX + 1,
            max: QDEVICE_EXTRA_INFO_MAX,
        })
    );

    // Cleared: the notification carries none, and there is none to read.
    let mark = log_len(log2);
    vq1.qdevice_clear_extra_info().expect("clear");
    wait_for(vq2, log2, mark, 1, None);
    assert_eq!(vq2.qdevice_extra_info(NodeId::from(1)), Ok(None));
    assert!(!vq2
        .info(Some(NodeId::from(1)))
        .unwrap()
        .flags
        .contains(InfoFlags::QDEVICE_HAS_EXTRA_INFO));

    // corosync's tool publishes for the device registered on its node (with the C string's
    // NUL), our handle on node 1 reads it. A cluster has one quorum device name: votequorum
    // answers Exist to a registration under another name than the one already known.
    let vq3 = &watchers[1].0;
    vq3.qdevice_register("extra-info-test")
        .expect("register on node 3");
    cluster
        .node(3)
        .run("corosync-quorumtool", ["-X", "from-the-c-tool"])
        .expect("corosync-quorumtool -X");
    let (vq3, log3) = &watchers[1];
    wait_for(vq3, log3, marks[1], 3, Some(b"from-the-c-tool\0"));
    assert_eq!(
        vq1.qdevice_extra_info(NodeId::from(3)),
        Ok(Some(b"from-the-c-tool\0".to_vec()))
    );

    // Unregistering the device clears its information everywhere.
    let mark = log_len(log2);
    vq3.qdevice_unregister("extra-info-test")
        .expect("unregister");
    wait_for(vq2, log2, mark, 3, None);
    assert_eq!(vq1.qdevice_extra_info(NodeId::from(3)), Ok(None));

    // A node the daemon does not know.
    assert_eq!(
        vq1.qdevice_extra_info(NodeId::from(77)),
        Err(Error::NotExist)
    );
}
