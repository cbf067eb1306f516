//! No request the safe crate can send may crash, hang or corrupt the daemon (issue 9: the
//! audit of every library's daemon-side request handling, docs/daemon-safety.md).
//!
//! Each test drives one library's requests at their limits against a real corosync daemon and
//! checks after each step that the daemon still runs and answers. Requests that corosync
//! 3.1.7 mishandles are refused by the crate; the tests check the refusal, and where the
//! daemon's own behaviour can be shown without losing the daemon, show it with raw libcpg.
//!
//! cmap's stats map: corosync 3.1.7's stats map copies a `stats.schedmiss.*` value into the
//! request's buffer without looking whether there is one: libcmap's length-only request
//! (`cmap_get` with a NULL value, which `cmap_get_string` sends first) crashes the daemon. The
//! keys appear once the daemon was not scheduled for longer than its token timeout, so the
//! schedmiss test freezes the daemon (SIGSTOP) for 2.5 s with token 1000 ms, then calls every
//! cmap read path on each key and checks after each call that the daemon still runs and
//! answers.

use std::time::{Duration, Instant};

use corosync::cmap::{Cmap, KeyValue, Map, TrackType, Value, ValueRef, ValueType};
use corosync::{DispatchFlags, Error};
use std::os::fd::AsFd;

use corosync_testcluster::{wait_readable, Cluster, Node};

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

/// Fails the test if the daemon is gone or does not serve a new connection.
fn assert_serving(node: &Node, after: &str) {
    assert!(
        node.is_running(),
        "the daemon died after {after}: {:?}\n{}",
        node.exit_status(),
        node.log_tail(30)
    );
    let token = node
        .in_namespace(|| Cmap::new().and_then(|c| c.get::<u32>("runtime.config.totem.token")))
        .expect("enter the namespace");
    assert!(
        token.is_ok(),
        "the daemon no longer answers after {after}: {token:?}\n{}",
        node.log_tail(30)
    );
}

fn open_cmap(node: &Node, map: Map) -> Cmap {
    node.in_namespace(|| Cmap::with_map(map))
        .expect("enter the namespace")
        .expect("connect to cmap")
}

#[test]
fn cmap_requests_at_their_limits_leave_the_daemon_running() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let cmap = open_cmap(node, Map::Icmap);

    // A key of the longest name (255 bytes): every request that names it.
    let long_key = format!("test.{}", "k".repeat(250));
    assert_eq!(long_key.len(), 255);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(0usize));
    let counter = seen.clone();
    let track = cmap
        .track(
            &long_key,
            TrackType::all() - TrackType::PREFIX,
            move |_, _| {
                *counter.lock().unwrap() += 1;
            },
        )
        .expect("track the longest key");
    cmap.set(&long_key, 7u32).expect("set the longest key");
    assert_eq!(cmap.get::<u32>(&long_key), Ok(7));
    cmap.inc(&long_key).expect("inc");
    assert_eq!(cmap.get::<u32>(&long_key), Ok(8));
    let listed: Vec<String> = cmap
        .iter("test.")
        .expect("iterate")
        .map(|e| e.expect("a key").name().as_str().to_owned())
        .collect();
    assert!(listed.contains(&long_key));
    cmap.delete(&long_key).expect("delete the longest key");
    cmap.dispatch(DispatchFlags::All).expect("dispatch");
    assert_eq!(*seen.lock().unwrap(), 3, "add, modify, delete");
    track.delete().expect("delete the track");
    assert_serving(node, "requests on a 255-byte key");

    // Values at icmap's 16 KiB limit and one byte over it: the daemon refuses the latter.
    // libcmap sends a string without its NUL, so icmap's limit (`icmap_check_value_len`)
    // counts 16 KiB of characters, stored with the NUL as 16 KiB + 1 bytes.
    let string = "s".repeat(16 * 1024);
    cmap.set("test.limit.string", string.as_str())
        .expect("a string of 16 KiB");
    assert_eq!(
        cmap.info("test.limit.string"),
        Ok((ValueType::String, 16 * 1024 + 1))
    );
    assert_eq!(cmap.get::<String>("test.limit.string"), Ok(string));
    let over = "s".repeat(16 * 1024 + 1);
    assert_eq!(
        cmap.set("test.limit.string", over.as_str()),
        Err(Error::InvalidParam)
    );
    assert_eq!(
        cmap.set("test.limit.blob", vec![1u8; 16 * 1024 + 1]),
        Err(Error::InvalidParam)
    );
    assert_eq!(cmap.set("test.limit.empty", ""), Ok(()));
    assert_eq!(cmap.get::<String>("test.limit.empty"), Ok(String::new()));
    assert_eq!(cmap.set("test.limit.blob0", Vec::<u8>::new()), Ok(()));
    assert_serving(node, "values at the 16 KiB limit");

    // Integer adjustments: wrap-around is the daemon's arithmetic, other types are refused.
    cmap.set("test.adjust.u8", u8::MAX).unwrap();
    cmap.inc("test.adjust.u8").unwrap();
    assert_eq!(cmap.get::<u8>("test.adjust.u8"), Ok(0));
    cmap.set("test.adjust.i64", i64::MIN).unwrap();
    cmap.dec("test.adjust.i64").unwrap();
    assert_eq!(cmap.get::<i64>("test.adjust.i64"), Ok(i64::MAX));
    assert_eq!(cmap.inc("test.limit.string"), Err(Error::InvalidParam));
    cmap.set("test.adjust.float", 1.5f32).unwrap();
    assert_eq!(cmap.inc("test.adjust.float"), Err(Error::InvalidParam));
    assert_eq!(cmap.inc("test.adjust.missing"), Err(Error::NotExist));
    assert_eq!(cmap.delete("test.adjust.missing"), Err(Error::NotExist));
    assert_serving(node, "adjustments");

    // Read-only prefixes (exec/main.c) refuse writes and deletes; runtime keys stay.
    for key in [
        "runtime.config.totem.token",
        "nodelist.local_node_pos",
        "system.x",
    ] {
        assert_eq!(cmap.set(key, 1u32), Err(Error::Access), "set {key}");
        assert_eq!(cmap.delete(key), Err(Error::Access), "delete {key}");
        assert_eq!(cmap.inc(key), Err(Error::Access), "inc {key}");
    }
    assert_serving(node, "writes to read-only keys");

    // Writable configuration keys that services watch, with the wrong type: the services
    // read them with typed getters and keep their values; a reload rereads the file.
    cmap.set("quorum.expected_votes", "many").unwrap();
    cmap.set("quorum.two_node", "yes").unwrap();
    cmap.set("totem.token", "slow").unwrap();
    cmap.set("logging.debug", 5u64).unwrap();
    assert_serving(node, "mistyped configuration keys");
    let cfg = node
        .in_namespace(corosync::cfg::Cfg::new)
        .expect("enter the namespace")
        .expect("open cfg");
    let reload = cfg.reload_config();
    assert_serving(node, &format!("a reload over mistyped keys ({reload:?})"));

    // A track of every key, and iterators left open when the connection closes.
    let all = std::sync::Arc::new(std::sync::Mutex::new(0usize));
    let counter = all.clone();
    let everything = cmap
        .track("", TrackType::all(), move |_, _| {
            *counter.lock().unwrap() += 1;
        })
        .expect("track every key");
    for i in 0..100u32 {
        cmap.set(&format!("test.many.{i}"), i).unwrap();
    }
    for i in 0..100u32 {
        cmap.delete(&format!("test.many.{i}")).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while *all.lock().unwrap() < 200 {
        assert!(Instant::now() < deadline, "events: {}", all.lock().unwrap());
        wait_readable(&[cmap.as_fd()], Duration::from_millis(100));
        cmap.dispatch(DispatchFlags::All).expect("dispatch");
    }
    everything.delete().expect("delete the track");
    let other = open_cmap(node, Map::Icmap);
    let mut iters: Vec<_> = (0..50).map(|_| other.iter("").expect("iterate")).collect();
    for it in &mut iters {
        it.next().expect("a first key").expect("read it");
    }
    std::mem::forget(iters);
    drop(other);
    assert_serving(node, "closing a connection with 50 open iterators");

    // An iterator whose remaining keys are deleted meanwhile skips them.
    for i in 0..10u32 {
        cmap.set(&format!("test.gone.{i}"), i).unwrap();
    }
    let mut it = cmap.iter("test.gone.").expect("iterate");
    it.next().expect("a first key").expect("read it");
    for i in 0..10u32 {
        cmap.delete(&format!("test.gone.{i}")).unwrap();
    }
    let rest: Vec<_> = it.collect();
    assert!(rest.len() <= 9, "{rest:?}");
    assert_serving(node, "deleting keys under an open iterator");
}
