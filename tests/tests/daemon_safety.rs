//! No cmap call may take the daemon down (issue 9, item 1): reads of the `stats.schedmiss.*`
//! keys, long values, and tracks of string stats keys.
//!
//! corosync 3.1.7's stats map copies a `stats.schedmiss.*` value into the request's buffer
//! without looking whether there is one: libcmap's length-only request (`cmap_get` with a NULL
//! value, which `cmap_get_string` sends first) crashes the daemon. The keys appear once the
//! daemon was not scheduled for longer than its token timeout, so the test freezes the daemon
//! (SIGSTOP) for 2.5 s with token 1000 ms, then calls every cmap read path on each key and
//! checks after each call that the daemon still runs and answers.

use std::time::{Duration, Instant};

use corosync::cmap::{Cmap, KeyValue, Map, TrackType, Value, ValueRef, ValueType};
use corosync::{DispatchFlags, Error};
use corosync_testcluster::{Cluster, Node};

/// Fails the test if the daemon is gone or no longer answers on `stats`.
fn assert_alive(node: &Node, stats: &Cmap, after: &str) {
    assert!(
        node.is_running(),
        "the daemon died after {after}: {:?}\n{}",
        node.exit_status(),
        node.log_tail(30)
    );
    let tokens = stats.get::<u64>("stats.srp.orf_token_rx");
    assert!(
        tokens.is_ok(),
        "the daemon no longer answers after {after}: {tokens:?}"
    );
}

#[test]
fn every_read_path_on_schedmiss_keys_leaves_the_daemon_running() {
    let cluster = Cluster::builder(1)
        .totem_option("token", 1000)
        .start()
        .expect("start a 1-node cluster");
    let node = cluster.node(1);
    node.pause(Duration::from_millis(2500))
        .expect("freeze the daemon");

    let stats = node
        .in_namespace(|| Cmap::with_map(Map::Stats))
        .expect("enter the namespace")
        .expect("connect to the stats map");
    // The keys are added when the daemon notices the missed scheduling, right after SIGCONT.
    let deadline = Instant::now() + Duration::from_secs(10);
    let keys = loop {
        let keys: Vec<(String, ValueType, usize)> = stats
            .iter("stats.schedmiss.")
            .expect("iterate the schedmiss keys")
            .map(|entry| {
                entry.map(|e| (e.name().as_str().to_owned(), e.value_type(), e.value_len()))
            })
            .collect::<Result<_, _>>()
            .expect("list the schedmiss keys");
        if keys.len() >= 2 || Instant::now() > deadline {
            break keys;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let expected_keys = [
        ("stats.schedmiss.0.delay".to_owned(), ValueType::Float, 4),
        ("stats.schedmiss.0.timestamp".to_owned(), ValueType::U64, 8),
    ];
    assert!(
        expected_keys.iter().all(|k| keys.contains(k)),
        "no schedmiss keys after a 2.5 s SIGSTOP: {keys:?}\n{}",
        node.log_tail(20)
    );
    assert_alive(node, &stats, "iterating");

    for (key, value_type, len) in &keys {
        let key = key.as_str();
        let is_delay = key.ends_with(".delay");
        let found = value_type.name();

        // Length and type: served from one buffered read, never a length-only request.
        assert_eq!(stats.info(key), Ok((*value_type, *len)), "info({key})");
        assert_alive(node, &stats, &format!("info({key})"));

        // Strings: read with a buffer, so a number is a WrongType, not a dead daemon.
        assert_eq!(
            stats.get::<String>(key),
            Err(Error::WrongType {
                expected: "str",
                found
            }),
            "get::<String>({key})"
        );
        assert_alive(node, &stats, &format!("get::<String>({key})"));

        assert_eq!(
            stats.get::<Vec<u8>>(key),
            Err(Error::WrongType {
                expected: "bin",
                found
            }),
            "get::<Vec<u8>>({key})"
        );
        assert_alive(node, &stats, &format!("get::<Vec<u8>>({key})"));

        // The typed getters: the right type reads the value, another one is refused.
        if is_delay {
            let delay = stats.get::<f32>(key).expect("read the delay");
            assert!(delay > 1000.0, "{key}: a 2.5 s pause, delay {delay} ms");
            assert!(matches!(
                stats.get::<u64>(key),
                Err(Error::WrongType { .. })
            ));
        } else {
            let timestamp = stats.get::<u64>(key).expect("read the timestamp");
            assert!(timestamp > 0, "{key}: timestamp {timestamp}");
            assert!(matches!(
                stats.get::<f32>(key),
                Err(Error::WrongType { .. })
            ));
        }
        assert!(matches!(stats.get::<u8>(key), Err(Error::WrongType { .. })));
        assert_alive(node, &stats, &format!("typed gets of {key}"));

        let value = stats.get_value(key).expect("get_value");
        assert_eq!(value.value_type(), *value_type, "get_value({key})");
        let borrowed = stats
            .with_value(key, |v| v.to_value())
            .expect("with_value")
            .expect("a number");
        assert_eq!(borrowed.value_type(), *value_type, "with_value({key})");
        assert_alive(node, &stats, &format!("get_value/with_value({key})"));

        // A track on the key (the daemon reads its value when registering it).
        let track = stats
            .track(key, TrackType::MODIFY, |_, _| {})
            .expect("track a schedmiss key");
        stats
            .dispatch(DispatchFlags::All)
            .expect("dispatch the stats handle");
        track.delete().expect("delete the track");
        assert_alive(node, &stats, &format!("tracking {key}"));
    }

    let values: Vec<_> = stats
        .iter_values("stats.schedmiss.")
        .expect("iterate with values")
        .collect::<Result<_, _>>()
        .expect("read every schedmiss value");
    assert_eq!(values.len(), keys.len());
    assert!(values
        .iter()
        .all(|e: &KeyValue| matches!(e.value(), Value::U64(_) | Value::Float(_))));
    assert_alive(node, &stats, "iter_values");

    // A new connection also works, and the daemon never logged a crash.
    node.in_namespace(|| Cmap::with_map(Map::Stats))
        .expect("enter the namespace")
        .expect("a new connection to the stats map");
    assert!(node.is_running());
}

#[test]
fn long_values_are_read_whole_without_a_length_only_request() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let cmap = node
        .in_namespace(Cmap::new)
        .expect("enter the namespace")
        .expect("connect to cmap");
    // Over the 256-byte stack buffer, and at the icmap's 16 KiB limit.
    let text = "x".repeat(300);
    cmap.set("test.long.text", text.as_str())
        .expect("store 300 bytes");
    assert_eq!(cmap.get::<String>("test.long.text"), Ok(text.clone()));
    assert_eq!(cmap.info("test.long.text"), Ok((ValueType::String, 301)));
    let blob = vec![7u8; 16 * 1024];
    cmap.set("test.long.blob", &blob).expect("store 16 KiB");
    assert_eq!(cmap.get::<Vec<u8>>("test.long.blob"), Ok(blob.clone()));
    assert_eq!(
        cmap.with_value("test.long.blob", |v| v == ValueRef::Binary(&blob)),
        Ok(true)
    );
    assert_eq!(
        cmap.info("test.long.blob"),
        Ok((ValueType::Binary, 16 * 1024))
    );
    assert_eq!(
        cmap.get::<String>("test.long.blob"),
        Err(Error::WrongType {
            expected: "str",
            found: "bin"
        })
    );
}

#[test]
fn tracking_a_string_stats_key_cannot_overflow_the_daemon() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let stats = node
        .in_namespace(|| Cmap::with_map(Map::Stats))
        .expect("enter the namespace")
        .expect("connect to the stats map");
    // This connection's own process name (a string stat, up to 16 bytes with its NUL).
    let key = stats
        .iter("stats.ipcs.service0.")
        .expect("iterate the connections")
        .map(|entry| entry.expect("a key").name().as_str().to_owned())
        .find(|key| key.ends_with(".procname"))
        .expect("a procname key for this connection");
    assert!(stats.get::<String>(&key).expect("read it").len() > 8);
    // corosync 3.1.7 reads a tracked stats key into a u64 every 1.5 s: a string longer than
    // 7 bytes overflows it. The crate refuses such a track.
    let track = stats.track(&key, TrackType::MODIFY, |_, _| {});
    assert_eq!(track.err(), Some(Error::NotSupported), "{key}");
    std::thread::sleep(Duration::from_secs(4));
    assert_alive(node, &stats, "4 s after tracking a procname key");
}
