//! Integration tests of `corosync::cmap` against real daemons.
//!
//! - `runtime_keys_and_full_iteration` (a 3-node cluster of its own): a handle on node 2 reads
//!   what the cluster is (`runtime.votequorum.this_node_id`, the nodelist), a full iteration
//!   lists the same keys as `corosync-cmapctl`, and an iterator dropped half-way leaves the
//!   handle usable.
//! - On one 1-node cluster shared by the tests (`common::shared`), each with its own handles
//!   and keys: set/get round trips of every type at its limits, inc/dec, delete, wrong types,
//!   input refused before C, errors from the daemon, an unprivileged connection; track events
//!   made by a second connection, prefix tracking, guards, every `DispatchMode` value,
//!   callbacks calling into the handle, a guard dropped by its own closure, and a panicking
//!   callback; iterations reading values that another thread changes, and libqb's loss of a
//!   key deleted and set again under an iteration.
//! - `stats_map_lists_this_process_connections` and
//!   `killed_daemon_fails_requests_and_refuses_connections` (1-node clusters of their own: one
//!   counts this process's connections, the other kills the daemon).
//! - `blocking_dispatch_on_another_thread` (a 1-node cluster of its own): `dispatch_blocking`
//!   on a thread of its own, ended by a panicking callback that the thread catches.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corosync::cmap::{
    Cmap, EventKind, KeyName, KeyValue, Map, TrackEvent, TrackOptions, Value, ValueRef, ValueType,
};
use corosync::{DispatchMode, Dispatched, Error};
use corosync_testcluster::{Cluster, Node};

mod common;

use common::shared::SharedCluster;

const WAIT: Duration = Duration::from_secs(10);

fn open(node: &Node) -> Cmap {
    node.in_namespace(Cmap::new)
        .expect("enter the namespace")
        .expect("connect to cmap")
}

fn open_map(node: &Node, map: Map) -> Cmap {
    node.in_namespace(move || Cmap::with_map(map))
        .expect("enter the namespace")
        .expect("connect to cmap")
}

/// An owned copy of one track event.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    kind: EventKind,
    key: String,
    new: Option<Value>,
    old: Option<Value>,
}

impl Seen {
    fn from_event(event: &TrackEvent<'_>) -> Seen {
        let owned = |v: Option<ValueRef<'_>>| v.map(|v| v.to_value().expect("UTF-8 value"));
        Seen {
            kind: event.kind(),
            key: event.key().to_owned(),
            new: owned(event.new_value()),
            old: owned(event.old_value()),
        }
    }

    fn new(kind: EventKind, key: &str, new: Option<Value>, old: Option<Value>) -> Seen {
        Seen {
            kind,
            key: key.to_owned(),
            new,
            old,
        }
    }
}

/// The events a [`recorder`] closure saw.
type Log = Arc<Mutex<Vec<Seen>>>;

/// A track closure that records every event into the returned list.
fn recorder() -> (Log, impl FnMut(&Cmap, &TrackEvent<'_>) + Send + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |_: &Cmap, event: &TrackEvent<'_>| {
        sink.lock().unwrap().push(Seen::from_event(event))
    })
}

fn take(seen: &Mutex<Vec<Seen>>) -> Vec<Seen> {
    std::mem::take(&mut *seen.lock().unwrap())
}

/// The key names `corosync-cmapctl` (no arguments: every key) lists on `node`.
fn cmapctl_keys(node: &Node) -> BTreeSet<String> {
    let out = node
        .run("corosync-cmapctl", [] as [&str; 0])
        .expect("run corosync-cmapctl");
    out.lines()
        .map(|line| {
            let (key, _) = line.split_once(" (").expect("`key (type) = value` lines");
            key.to_owned()
        })
        .collect()
}

#[test]
fn runtime_keys_and_full_iteration() {
    let cluster = Cluster::start(3).expect("start a 3-node cluster");
    let node = cluster.node(2);
    let cmap = open(node);

    // The handle talks to node 2's daemon.
    assert_eq!(cmap.get::<u32>("runtime.votequorum.this_node_id"), Ok(2));
    assert_eq!(
        cmap.get_value("runtime.votequorum.this_node_id"),
        Ok(Value::U32(2))
    );

    // The nodelist holds the cluster's three nodes, with their addresses.
    let mut nodes = Vec::new();
    for entry in cmap
        .iter_values("nodelist.node.")
        .expect("iterate the nodelist")
    {
        let (key, value) = entry.expect("nodelist entry").into_parts();
        if key.ends_with(".nodeid") {
            let Value::U32(id) = value else {
                panic!("{key} is {value:?}")
            };
            let index = key
                .trim_start_matches("nodelist.node.")
                .trim_end_matches(".nodeid");
            let addr: String = cmap
                .get(&format!("nodelist.node.{index}.ring0_addr"))
                .expect("ring0_addr");
            nodes.push((id, addr));
        }
    }
    nodes.sort();
    let expected: Vec<(u32, String)> = cluster
        .nodes()
        .iter()
        .map(|n| (n.id(), n.addr().to_string()))
        .collect();
    assert_eq!(nodes, expected);
    assert_eq!(
        cmap.get::<String>("totem.cluster_name"),
        Ok(cluster.cluster_name().to_owned())
    );

    // A full iteration lists the keys corosync-cmapctl lists. A key may appear or vanish
    // between two runs (e.g. a membership detail being updated), so accept a match with the
    // listing taken before or the one taken after ours.
    let before = cmapctl_keys(node);
    let ours: BTreeSet<String> = cmap
        .iter("")
        .expect("iterate everything")
        .map(|entry| entry.map(|entry| entry.name().to_string()))
        .collect::<corosync::Result<_>>()
        .expect("full iteration");
    let after = cmapctl_keys(node);
    assert!(ours.len() > 50, "only {} keys", ours.len());
    assert!(
        ours == before || ours == after,
        "ours and corosync-cmapctl's listings differ: only ours {:?}, only theirs {:?}",
        ours.difference(&before).collect::<Vec<_>>(),
        before.difference(&ours).collect::<Vec<_>>()
    );

    // Types and lengths from the iteration match what get says.
    for entry in cmap.iter("totem.").expect("iterate totem.") {
        let entry = entry.expect("totem entry");
        let key = entry.name();
        assert_eq!(
            cmap.info(key),
            Ok((entry.value_type(), entry.value_len())),
            "{key}"
        );
    }

    // The borrowed iteration reads the same names and values as the owned one, also for a
    // value longer than its first buffer (256 bytes).
    let long = "x".repeat(1000);
    cmap.set("test.iteration.long", long.as_str())
        .expect("set a long value");
    cmap.set("test.iteration.short", 7u8)
        .expect("set a short value");
    for prefix in ["totem.", "nodelist.", "test.iteration."] {
        let owned: Vec<KeyValue> = cmap
            .iter_values(prefix)
            .expect("iter_values")
            .collect::<corosync::Result<_>>()
            .expect("owned iteration");
        let mut borrowed = Vec::new();
        let mut iter = cmap.iter(prefix).expect("iter");
        while let Some(entry) = iter.next_value() {
            let entry = entry.expect("borrowed entry");
            assert!(entry.name().starts_with(prefix), "{entry:?}");
            borrowed.push(entry.to_owned().expect("to_owned"));
        }
        assert!(!owned.is_empty(), "{prefix}");
        assert_eq!(borrowed, owned, "{prefix}");
    }
    let mut iter = cmap.iter("test.iteration.").expect("iter");
    let first = iter.next_value().expect("an entry").expect("read");
    assert_eq!(
        (first.name(), first.value()),
        ("test.iteration.long", ValueRef::String(long.as_bytes()))
    );
    let second = iter.next_value().expect("an entry").expect("read");
    assert_eq!(
        (second.name(), second.value()),
        ("test.iteration.short", ValueRef::U8(7))
    );
    assert!(iter.next_value().is_none());
    drop(iter);
    cmap.delete("test.iteration.long").expect("delete");
    cmap.delete("test.iteration.short").expect("delete");

    // Iterations stopped half-way (and many of them) leave the handle usable.
    for _ in 0..50 {
        let mut iter = cmap.iter("").expect("iterate");
        let first: Vec<KeyName> = iter
            .by_ref()
            .take(3)
            .map(|entry| entry.expect("entry").into_name())
            .collect();
        assert_eq!(first.len(), 3);
        drop(iter);
    }
    assert_eq!(cmap.get::<u32>("runtime.votequorum.this_node_id"), Ok(2));
    let all_again = cmap.iter("").expect("iterate").count();
    assert_eq!(all_again, ours.len());

    // A prefix that matches nothing is an empty iteration, not an error.
    assert_eq!(cmap.iter("no.such.prefix.").expect("iterate").count(), 0);
}

/// The 1-node cluster shared by the value and tracking tests. Each test opens its own handles
/// and uses keys no other test touches. The tests that count this process's connections or
/// kill the daemon start clusters of their own.
static CLUSTER: SharedCluster = SharedCluster::new(|| Cluster::start(1));

/// Every integer and float type at its limits, through the typed getters and get_value; what
/// corosync-cmapctl (the C tool) reads back.
#[test]
fn numbers_round_trip_at_their_limits() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    macro_rules! round_trip {
        ($($t:ty => $variant:ident),*) => {$(
            for v in [<$t>::MIN, <$t>::MAX, 0 as $t] {
                let key = concat!("test.types.", stringify!($t));
                cmap.set(key, v).expect(key);
                assert_eq!(cmap.get::<$t>(key), Ok(v), "{key}");
                assert_eq!(cmap.get_value(key), Ok(Value::$variant(v)), "{key}");
                assert_eq!(cmap.info(key), Ok((ValueType::$variant, std::mem::size_of::<$t>())));
            }
        )*};
    }
    round_trip!(i8 => I8, u8 => U8, i16 => I16, u16 => U16, i32 => I32, u32 => U32,
        i64 => I64, u64 => U64, f32 => Float, f64 => Double);
    cmap.set("test.types.f64", f64::MIN_POSITIVE).unwrap();
    assert_eq!(cmap.get::<f64>("test.types.f64"), Ok(f64::MIN_POSITIVE));

    // What corosync-cmapctl (the C tool) reads back for values we stored.
    assert_eq!(node.cmap_get("test.types.i64").unwrap(), "0");
    cmap.set("test.types.i64", i64::MIN).unwrap();
    assert_eq!(
        node.cmap_get("test.types.i64").unwrap(),
        i64::MIN.to_string()
    );
}

/// Strings: empty, ordinary, long (heap path of with_value), owned and borrowed.
#[test]
fn strings_round_trip_empty_ordinary_and_long() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    for text in [String::new(), "node one".to_owned(), "x".repeat(5000)] {
        cmap.set("test.types.str", &text).expect("set a string");
        assert_eq!(cmap.get::<String>("test.types.str").as_ref(), Ok(&text));
        assert_eq!(
            cmap.get_value("test.types.str"),
            Ok(Value::String(text.clone()))
        );
        assert_eq!(
            cmap.info("test.types.str"),
            Ok((ValueType::String, text.len() + 1))
        );
        let same = cmap.with_value("test.types.str", |v| v == ValueRef::String(text.as_bytes()));
        assert_eq!(same, Ok(true));
    }
    assert_eq!(node.cmap_get("test.types.str").unwrap().len(), 5000);
}

/// Binary: empty, with NUL bytes, large (16 KiB is the daemon's limit), from an array.
#[test]
fn binary_values_round_trip_empty_with_nul_and_16_kib() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    let large: Vec<u8> = (0..16384u32).map(|i| (i % 251) as u8).collect();
    for bytes in [Vec::new(), b"a\0b\xff".to_vec(), large.clone()] {
        cmap.set("test.types.bin", &bytes[..]).expect("set binary");
        assert_eq!(cmap.get::<Vec<u8>>("test.types.bin").as_ref(), Ok(&bytes));
        assert_eq!(
            cmap.get_value("test.types.bin"),
            Ok(Value::Binary(bytes.clone()))
        );
        assert_eq!(
            cmap.info("test.types.bin"),
            Ok((ValueType::Binary, bytes.len()))
        );
    }
    cmap.set("test.types.bin", b"arr").unwrap();
    assert_eq!(cmap.get::<Vec<u8>>("test.types.bin"), Ok(b"arr".to_vec()));
}

/// Value and ValueRef store their own type.
#[test]
fn value_and_value_ref_store_their_own_type() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    cmap.set("test.types.value", Value::U16(7)).unwrap();
    assert_eq!(cmap.info("test.types.value"), Ok((ValueType::U16, 2)));
    cmap.set("test.types.value", ValueRef::String(b"seven"))
        .unwrap();
    assert_eq!(
        cmap.get::<String>("test.types.value"),
        Ok("seven".to_owned())
    );
}

/// inc and dec, with the C types' wrap-around; neither works on a string or a missing key.
#[test]
fn inc_and_dec_wrap_around_like_the_c_types() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    cmap.set("test.counter", 41u32).unwrap();
    cmap.inc("test.counter").unwrap();
    assert_eq!(cmap.get::<u32>("test.counter"), Ok(42));
    cmap.dec("test.counter").unwrap();
    cmap.dec("test.counter").unwrap();
    assert_eq!(cmap.get::<u32>("test.counter"), Ok(40));
    cmap.set("test.counter", u8::MAX).unwrap();
    cmap.inc("test.counter").unwrap();
    assert_eq!(cmap.get::<u8>("test.counter"), Ok(0));
    cmap.set("test.counter.text", "a string").unwrap();
    assert_eq!(cmap.inc("test.counter.text"), Err(Error::InvalidParam));
    assert_eq!(cmap.inc("test.no.such.key"), Err(Error::NotExist));
}

/// delete, then the key is gone for every request, and a second delete fails.
#[test]
fn deleted_key_is_gone() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    cmap.set("test.deleted", 1u8).unwrap();
    cmap.delete("test.deleted").unwrap();
    assert_eq!(cmap.get::<u8>("test.deleted"), Err(Error::NotExist));
    assert_eq!(cmap.get_value("test.deleted"), Err(Error::NotExist));
    assert_eq!(cmap.info("test.deleted"), Err(Error::NotExist));
    assert_eq!(cmap.delete("test.deleted"), Err(Error::NotExist));
}

/// Asking for another type than the stored one is an error, never a conversion.
#[test]
fn reading_another_type_is_an_error_not_a_conversion() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    cmap.set("test.wrong.u32", 0u32).unwrap();
    cmap.set("test.wrong.f64", 0f64).unwrap();
    cmap.set("test.wrong.str", "text").unwrap();
    cmap.set("test.wrong.u8", 0u8).unwrap();
    cmap.set("test.wrong.bin", b"arr").unwrap();
    let wrong = |expected: &'static str, found: &'static str| Error::WrongType { expected, found };
    assert_eq!(cmap.get::<u64>("test.wrong.u32"), Err(wrong("u64", "u32")));
    assert_eq!(cmap.get::<i32>("test.wrong.u32"), Err(wrong("i32", "u32")));
    assert_eq!(cmap.get::<f32>("test.wrong.f64"), Err(wrong("flt", "dbl")));
    assert_eq!(cmap.get::<u32>("test.wrong.str"), Err(wrong("u32", "str")));
    assert_eq!(cmap.get::<String>("test.wrong.u8"), Err(wrong("str", "u8")));
    assert_eq!(
        cmap.get::<Vec<u8>>("test.wrong.str"),
        Err(wrong("bin", "str"))
    );
    assert_eq!(
        cmap.get::<String>("test.wrong.bin"),
        Err(wrong("str", "bin"))
    );
    assert_eq!(cmap.get::<u8>("test.wrong.bin"), Err(wrong("u8", "bin")));
}

/// Input refused before it reaches C: key names too long, too short or with NUL, string
/// values with NUL; the longest accepted key works.
#[test]
fn input_is_refused_before_it_reaches_c() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    let long_key = format!("test.{}", "k".repeat(251));
    assert_eq!(long_key.len(), 256);
    let too_long = Error::TooLong {
        what: "cmap key name",
        length: 256,
        max: 255,
    };
    assert_eq!(cmap.set(&long_key, 1u8), Err(too_long.clone()));
    assert_eq!(cmap.get::<u8>(&long_key), Err(too_long.clone()));
    assert_eq!(cmap.delete(&long_key), Err(too_long.clone()));
    assert_eq!(
        cmap.iter(&long_key).err(),
        Some(Error::TooLong {
            what: "cmap key prefix",
            length: 256,
            max: 255,
        })
    );
    // The longest accepted key works.
    let longest = &long_key[..255];
    cmap.set(longest, 1u8).expect("a 255-byte key");
    assert_eq!(cmap.get::<u8>(longest), Ok(1));
    let nul = Error::InteriorNul {
        what: "cmap key name",
        position: 4,
    };
    assert_eq!(cmap.set("test\0.x", 1u8), Err(nul.clone()));
    assert_eq!(cmap.get::<u8>("test\0.x"), Err(nul));
    assert_eq!(
        cmap.get::<u8>("ab"),
        Err(Error::TooShort {
            what: "cmap key name",
            length: 2,
            min: 3,
        })
    );
    cmap.set("test.refused.str", "x".repeat(5000).as_str())
        .unwrap();
    assert_eq!(
        cmap.set("test.refused.str", "a\0b"),
        Err(Error::InteriorNul {
            what: "cmap string value",
            position: 1,
        })
    );
    // ...and the refused string did not replace the stored one.
    assert_eq!(cmap.get::<String>("test.refused.str"), Ok("x".repeat(5000)));
}

/// Errors the daemon returns: read-only keys, bad names, values too big.
#[test]
fn daemon_refuses_protected_keys_bad_names_and_big_values() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    assert_eq!(
        cmap.set("runtime.services.cmap.test", 1u8),
        Err(Error::Access)
    );
    assert_eq!(
        cmap.delete("runtime.config.totem.token"),
        Err(Error::Access)
    );
    assert_eq!(cmap.set("test.bad@char", 1u8), Err(Error::NameTooLong));
    assert_eq!(
        cmap.set("test.too.big", vec![0u8; 16385]),
        Err(Error::InvalidParam)
    );
    assert_eq!(
        cmap.set("test.too.big", vec![0u8; 2 << 20]),
        Err(Error::TooBig)
    );
    assert_eq!(cmap.get::<u8>("test.too.big"), Err(Error::NotExist));
}

/// The Stats map lists this process's IPC connections; a new handle adds one, and dropping
/// it removes it again (Drop finalizes). The Stats map is read-only. This test counts every
/// connection of this process to the daemon, so it runs on a cluster of its own.
#[test]
fn stats_map_lists_this_process_connections() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let _cmap = open(node);
    let stats = open_map(node, Map::Stats);
    let pid = std::process::id();
    let connections = |stats: &Cmap| -> BTreeSet<String> {
        stats
            .iter(&format!("stats.ipcs.service0.{pid}."))
            .expect("iterate stats")
            .map(|entry| {
                let key = entry.expect("stats entry").into_name();
                let rest = key.trim_start_matches(&format!("stats.ipcs.service0.{pid}."));
                rest.split('.').next().unwrap().to_owned()
            })
            .collect()
    };
    let before = connections(&stats);
    assert_eq!(before.len(), 2, "the icmap and stats handles: {before:?}");
    let extra = open(node);
    let with_extra = connections(&stats);
    let added: Vec<_> = with_extra.difference(&before).cloned().collect();
    assert_eq!(added.len(), 1, "{with_extra:?}");
    let procname: String = stats
        .get(&format!("stats.ipcs.service0.{pid}.{}.procname", added[0]))
        .expect("procname");
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    assert_eq!(procname, comm.trim_end());
    assert!(stats.get::<u64>("stats.ipcs.global.active").unwrap() >= 3);
    drop(extra);
    corosync_testcluster::wait_until(
        WAIT,
        "the dropped handle's connection leaves the stats",
        || connections(&stats) == before,
    )
    .unwrap();
    // The Stats map is read-only.
    assert_eq!(stats.set("stats.test.key", 1u8), Err(Error::Access));
    assert_eq!(stats.get::<u8>("totem.token"), Err(Error::NotExist));
}

/// A user the daemon does not allow (not root, not in a uidgid section) is refused. The
/// credentials are changed with raw syscalls, which act on the calling thread only.
#[test]
fn unprivileged_user_is_refused_a_connection() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let unprivileged = node
        .in_namespace(|| {
            // SAFETY: plain syscalls with integer arguments; they change only this thread's
            // credentials, and the thread ends right after.
            let changed = unsafe {
                libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) == 0
                    && libc::syscall(libc::SYS_setresgid, 65534, 65534, 65534) == 0
                    && libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) == 0
            };
            assert!(
                changed,
                "drop privileges: {}",
                std::io::Error::last_os_error()
            );
            Cmap::new().map(|_| ())
        })
        .unwrap();
    assert_eq!(unprivileged, Err(Error::Access));
    // This thread is still root and can connect.
    assert!(node.in_namespace(Cmap::new).unwrap().is_ok());
}

/// The daemon dies: requests fail with an error, no new connection can be made, and the old
/// handle drops safely. This test kills the daemon, so it runs on a cluster of its own.
#[test]
fn killed_daemon_fails_requests_and_refuses_connections() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let cmap = open(node);
    let track = cmap
        .track("test.", TrackOptions::all(), |_, _| {
            panic!("no event expected")
        })
        .expect("track");
    cluster.kill(1).expect("kill the daemon");
    assert_eq!(
        cmap.get::<u32>("totem.token"),
        Err(Error::Library { errno: 0 })
    );
    assert_eq!(
        cmap.set("test.after", 1u8),
        Err(Error::Library { errno: 0 })
    );
    assert_eq!(cmap.iter("").err(), Some(Error::Library { errno: 0 }));
    assert_eq!(
        cmap.dispatch(DispatchMode::All),
        Err(Error::Library { errno: 0 })
    );
    assert_eq!(
        cmap.dispatch_blocking().map(|_| ()),
        Err(Error::Library { errno: 0 })
    );
    assert_eq!(track.delete(), Err(Error::Library { errno: 0 }));
    // No daemon to connect to: the error carries ECONNREFUSED and says so.
    let no_daemon = Error::Library {
        errno: libc::ECONNREFUSED,
    };
    assert_eq!(
        node.in_namespace(Cmap::new).unwrap().err(),
        Some(no_daemon.clone())
    );
    assert_eq!(
        node.in_namespace(|| Cmap::with_map(Map::Stats))
            .unwrap()
            .err(),
        Some(no_daemon.clone())
    );
    assert!(no_daemon.to_string().contains("corosync is not running"));
    drop(cmap);
}

/// Nothing pending: OneNonBlocking says so, All processes nothing.
#[test]
fn dispatch_with_nothing_pending() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
}

/// One key, every change, made by a second connection; One and OneNonBlocking dispatch one
/// event at a time.
#[test]
fn key_tracking_reports_every_change_one_event_per_dispatch() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (seen, record) = recorder();
    let _track = cmap
        .track(
            "test.one",
            TrackOptions::ADD | TrackOptions::MODIFY | TrackOptions::DELETE,
            record,
        )
        .expect("track a key");
    other.set("test.one", 1u32).unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(
        take(&seen),
        [Seen::new(
            EventKind::Add,
            "test.one",
            Some(Value::U32(1)),
            None
        )]
    );
    other.set("test.one", "two").unwrap();
    other.set("test.one", "two").unwrap(); // the same value again is no change
    other.delete("test.one").unwrap();
    other.set("test.other", 1u8).unwrap(); // not tracked

    // One event at a time, then nothing.
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(
        take(&seen),
        [
            Seen::new(
                EventKind::Modify,
                "test.one",
                Some(Value::String("two".into())),
                Some(Value::U32(1))
            ),
            Seen::new(
                EventKind::Delete,
                "test.one",
                None,
                Some(Value::String("two".into()))
            ),
        ]
    );
}

/// A track reports only the kinds of change asked for.
#[test]
fn key_tracking_reports_only_the_kinds_asked_for() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (seen, record) = recorder();
    let _track = cmap
        .track("test.kinds", TrackOptions::DELETE, record)
        .unwrap();
    other.set("test.kinds", 5i64).unwrap();
    other.set("test.kinds", 6i64).unwrap();
    other.delete("test.kinds").unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        take(&seen),
        [Seen::new(
            EventKind::Delete,
            "test.kinds",
            None,
            Some(Value::I64(6))
        )]
    );
}

/// Prefix tracking sees every key under the prefix, and only those; binary and empty values
/// arrive whole; a change this handle makes itself is reported too.
#[test]
fn prefix_tracking_sees_every_key_under_the_prefix_and_only_those() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (seen, record) = recorder();
    let _track = cmap
        .track("test.prefix.", TrackOptions::all(), record)
        .expect("track a prefix");
    other.set("test.prefix.a", b"\x00\x01\xff").unwrap();
    other.set("test.prefix.b.c", "").unwrap();
    other.set("test.prefix.d", Vec::<u8>::new()).unwrap();
    other.set("test.prefi", 1u8).unwrap();
    other.set("test.prefix", 1u8).unwrap();
    other.set("test.prefix.a", 2.5f64).unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        take(&seen),
        [
            Seen::new(
                EventKind::Add,
                "test.prefix.a",
                Some(Value::Binary(vec![0, 1, 255])),
                None
            ),
            Seen::new(
                EventKind::Add,
                "test.prefix.b.c",
                Some(Value::String(String::new())),
                None
            ),
            Seen::new(
                EventKind::Add,
                "test.prefix.d",
                Some(Value::Binary(Vec::new())),
                None
            ),
            Seen::new(
                EventKind::Modify,
                "test.prefix.a",
                Some(Value::Double(2.5)),
                Some(Value::Binary(vec![0, 1, 255]))
            ),
        ]
    );
    // A change this handle makes itself is reported too.
    cmap.delete("test.prefix.d").unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        take(&seen),
        [Seen::new(
            EventKind::Delete,
            "test.prefix.d",
            None,
            Some(Value::Binary(Vec::new()))
        )]
    );
}

/// After a track's guard is dropped no more events arrive.
#[test]
fn no_events_arrive_after_the_track_guard_is_dropped() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (seen, record) = recorder();
    let track = cmap
        .track("test.dropped.", TrackOptions::all(), record)
        .expect("track a prefix");
    other.set("test.dropped.a", 2u8).unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(
        take(&seen),
        [Seen::new(
            EventKind::Add,
            "test.dropped.a",
            Some(Value::U8(2)),
            None
        )]
    );
    drop(track);
    other.set("test.dropped.a", 3u8).unwrap();
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert!(take(&seen).is_empty());
}

/// Two tracks on the same prefix each get the event; the fd becomes readable first.
#[test]
fn two_tracks_on_one_prefix_both_get_the_event() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (seen_a, record_a) = recorder();
    let (seen_b, record_b) = recorder();
    let _track_a = cmap
        .track(
            "test.two.",
            TrackOptions::ADD | TrackOptions::PREFIX,
            record_a,
        )
        .unwrap();
    let _track_b = cmap
        .track(
            "test.two.",
            TrackOptions::ADD | TrackOptions::PREFIX,
            record_b,
        )
        .unwrap();
    other.set("test.two.x", 1u8).unwrap();
    assert!(
        corosync_testcluster::wait_readable(&[cmap.as_fd()], Duration::from_secs(10)),
        "the cmap fd becomes readable"
    );
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    assert_eq!(seen_a.lock().unwrap().len(), 1);
    assert_eq!(seen_b.lock().unwrap().len(), 1);
}

/// A callback may call into its handle: read another key, write one; a nested dispatch is
/// refused.
#[test]
fn callback_may_read_and_write_through_its_handle() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let (tx, rx) = mpsc::channel();
    let _track = cmap
        .track(
            "test.ask",
            TrackOptions::ADD | TrackOptions::MODIFY,
            move |cmap, event| {
                let answer: u32 = cmap.get("test.answer").expect("get inside a callback");
                cmap.set("test.reply", answer + 1)
                    .expect("set inside a callback");
                let nested = cmap.dispatch(DispatchMode::All);
                tx.send((event.key().to_owned(), nested)).unwrap();
            },
        )
        .unwrap();
    other.set("test.answer", 41u32).unwrap();
    other.set("test.ask", 1u8).unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(
        rx.try_recv(),
        Ok(("test.ask".to_owned(), Err(Error::ReentrantDispatch)))
    );
    assert_eq!(other.get::<u32>("test.reply"), Ok(42));
}

/// A panicking callback: dispatch resumes the panic here and the handle stays usable. With
/// One or All, the events behind the panicking one wait for the next dispatch (with All the
/// handle keeps those libcmap read in the same call), unless their track is deleted first.
#[test]
fn panicking_callback_resumes_in_dispatch_and_the_handle_stays_usable() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let counter = calls.clone();
    let track = cmap
        .track(
            "test.panic.",
            TrackOptions::ADD | TrackOptions::PREFIX,
            move |_, event| {
                counter.lock().unwrap().push(event.key().to_owned());
                if event.key().ends_with("boom") {
                    panic!("boom from {}", event.key());
                }
            },
        )
        .unwrap();
    other.set("test.panic.boom", 1u8).unwrap();
    other.set("test.panic.after", 1u8).unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| cmap.dispatch(DispatchMode::One)))
        .expect_err("the callback's panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom from test.panic.boom")
    );
    assert_eq!(cmap.get::<u8>("test.panic.boom"), Ok(1));
    assert_eq!(cmap.dispatch(DispatchMode::One), Ok(Dispatched::Processed));
    assert_eq!(
        *calls.lock().unwrap(),
        ["test.panic.boom", "test.panic.after"]
    );
    other.set("test.panic.second.boom", 1u8).unwrap();
    other.set("test.panic.lost", 1u8).unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| cmap.dispatch(DispatchMode::All)))
        .expect_err("the callback's panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom from test.panic.second.boom")
    );
    assert_eq!(calls.lock().unwrap().len(), 3);
    assert_eq!(cmap.get::<u8>("test.panic.lost"), Ok(1));
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::Processed)
    );
    assert_eq!(
        calls.lock().unwrap()[2..],
        ["test.panic.second.boom", "test.panic.lost"]
    );
    assert_eq!(
        cmap.dispatch(DispatchMode::OneNonBlocking),
        Ok(Dispatched::NothingPending)
    );

    // Both events are queued when `set` returns (the daemon sends them while it handles
    // the request), so the one C dispatch reads both and the handle keeps the second. Its
    // track is deleted before the next dispatch: like libcmap for a deleted track, the
    // dispatch drops the event.
    other.set("test.panic.third.boom", 1u8).unwrap();
    other.set("test.panic.untracked", 1u8).unwrap();
    catch_unwind(AssertUnwindSafe(|| cmap.dispatch(DispatchMode::All)))
        .expect_err("the callback's panic reaches the caller");
    assert_eq!(calls.lock().unwrap().len(), 5);
    assert_eq!(
        cmap.wait_readable(Some(Duration::ZERO)),
        Ok(true),
        "an event is kept"
    );
    track.delete().unwrap();
    assert_eq!(cmap.dispatch(DispatchMode::All), Ok(Dispatched::Processed));
    let delivered = calls.lock().unwrap().clone();
    assert_eq!(delivered.len(), 5, "{delivered:?}");
    assert_eq!(cmap.wait_readable(Some(Duration::ZERO)), Ok(false));
}

/// A track guard dropped by its own closure (it lives in a thread-local, which needs a
/// handle that lives for 'static): the closure finishes safely and is freed afterwards, and
/// no event is delivered after that.
#[test]
fn track_guard_dropped_by_its_own_closure() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let other = open(node);
    thread_local! {
        static GUARD: RefCell<Option<corosync::cmap::Track<'static>>> = const { RefCell::new(None) };
    }
    // The `*mut` from Box::into_raw is kept to rebuild the Box at the end: turning the shared
    // `&'static` back into a Box would be undefined behaviour.
    let raw: *mut Cmap = Box::into_raw(Box::new(open(node)));
    // SAFETY: `raw` is a live, aligned allocation from Box::into_raw; it is only read through
    // shared references until Box::from_raw below, after the last use of `leaked`.
    let leaked: &'static Cmap = unsafe { &*raw };
    let (seen, mut record) = recorder();
    let dropped_by = Arc::new(Mutex::new(String::new()));
    let note = dropped_by.clone();
    let track = leaked
        .track(
            "test.self.",
            TrackOptions::ADD | TrackOptions::PREFIX,
            move |cmap, event| {
                record(cmap, event);
                let guard = GUARD.with(|slot| slot.borrow_mut().take());
                assert!(guard.is_some(), "the guard is still there");
                drop(guard); // cmap_track_delete from inside this very closure
                             // The closure's captures are still usable after its guard is gone.
                note.lock().unwrap().push_str(event.key());
            },
        )
        .unwrap();
    GUARD.with(|slot| *slot.borrow_mut() = Some(track));
    other.set("test.self.first", 1u8).unwrap();
    other.set("test.self.second", 1u8).unwrap();
    assert_eq!(
        leaked.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert_eq!(*dropped_by.lock().unwrap(), "test.self.first");
    assert_eq!(take(&seen).len(), 1, "no event after the guard was dropped");
    assert_eq!(Arc::strong_count(&dropped_by), 1, "the closure was freed");
    other.set("test.self.third", 1u8).unwrap();
    assert_eq!(
        leaked.dispatch(DispatchMode::All),
        Ok(Dispatched::Processed)
    );
    assert!(take(&seen).is_empty());
    // SAFETY: `raw` came from Box::into_raw above, and nothing borrows it any more: `leaked`
    // is not used again and its only track was dropped (the thread-local is empty again).
    let reclaimed = unsafe { Box::from_raw(raw) };
    assert!(GUARD.with(|slot| slot.borrow().is_none()));
    reclaimed.finalize().expect("finalize");
}

/// Tracking refuses what a key would refuse, but a prefix may be short or empty.
#[test]
fn track_refuses_a_short_key_but_takes_a_short_or_empty_prefix() {
    let cluster = CLUSTER.get();
    let cmap = open(cluster.node(1));
    let too_short = cmap.track("ab", TrackOptions::MODIFY, |_, _| {}).err();
    assert_eq!(
        too_short,
        Some(Error::TooShort {
            what: "cmap key name",
            length: 2,
            min: 3,
        })
    );
    let everything = cmap.track("", TrackOptions::ADD | TrackOptions::PREFIX, |_, _| {});
    assert!(everything.is_ok());
    everything.unwrap().delete().expect("delete the track");
}

#[test]
fn blocking_dispatch_on_another_thread() {
    let cluster = Cluster::start(1).expect("start a 1-node cluster");
    let node = cluster.node(1);
    let cmap = open(node);
    let other = open(node);

    // The handle moves to a dispatch thread (Cmap is Send), which tracks a prefix and
    // dispatches with dispatch_blocking until a callback panics.
    let (events_tx, events_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let outcome = {
            let _track = cmap
                .track("test.block.", TrackOptions::all(), move |_, event| {
                    if event.key() == "test.block.stop" {
                        panic!("stop requested");
                    }
                    events_tx.send(Seen::from_event(event)).unwrap();
                })
                .expect("track");
            done_tx.send(None).unwrap(); // ready
            catch_unwind(AssertUnwindSafe(|| cmap.dispatch_blocking().map(|_| ())))
        };
        let payload = outcome.expect_err("Blocking returns only through the panic");
        let text = payload
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or("?")
            .to_owned();
        // The handle is still usable after the panic.
        let token = cmap.get::<u32>("totem.token");
        done_tx.send(Some((text, token))).unwrap();
    });
    assert_eq!(done_rx.recv_timeout(WAIT), Ok(None), "the thread is ready");

    other.set("test.block.a", 1u32).unwrap();
    other.set("test.block.a", 2u32).unwrap();
    other.delete("test.block.a").unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            events_rx
                .recv_timeout(WAIT)
                .expect("an event from the blocking dispatch"),
        );
    }
    assert_eq!(
        got,
        [
            Seen::new(EventKind::Add, "test.block.a", Some(Value::U32(1)), None),
            Seen::new(
                EventKind::Modify,
                "test.block.a",
                Some(Value::U32(2)),
                Some(Value::U32(1))
            ),
            Seen::new(EventKind::Delete, "test.block.a", None, Some(Value::U32(2))),
        ]
    );
    other.set("test.block.stop", 1u8).unwrap();
    let (text, token) = done_rx
        .recv_timeout(WAIT)
        .expect("the blocking dispatch ends with the callback's panic")
        .expect("the thread's result");
    assert_eq!(text, "stop requested");
    assert_eq!(token, Ok(1000));
    thread.join().expect("the dispatch thread");
}

/// Values that change length, and keys that come and go, while iterations read them (a
/// second connection writes on another thread): every entry read is whole, the short or the
/// long value and never a cut one, and a key deleted between being listed and being read is
/// skipped, in the borrowed and the owned iteration alike. A value listed short and read
/// long takes `next_value`'s retry with a larger buffer.
#[test]
fn iteration_reads_whole_values_that_change_under_it() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let cmap = open(node);
    let writer = open(node);
    let long = "y".repeat(600);
    let check = |name: &str, value: ValueRef<'_>| {
        if name == "test.churn.grow" {
            assert!(
                value == ValueRef::String(b"s") || value == ValueRef::String(long.as_bytes()),
                "{value:?}"
            );
        } else {
            assert!(
                name.starts_with("test.churn.gone."),
                "unexpected key {name}"
            );
            assert_eq!(value, ValueRef::U8(1), "{name}");
        }
    };
    writer.set("test.churn.grow", "s").expect("set");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let rounds = std::thread::scope(|scope| {
        let (long, stop) = (&long, &stop);
        // The writer's handle moves to its thread (a handle is Send, not Sync).
        let writing = scope.spawn(move || {
            let mut rounds = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let gone = format!("test.churn.gone.{rounds}");
                writer
                    .set("test.churn.grow", long.as_str())
                    .expect("set long");
                writer.set(&gone, 1u8).expect("add");
                writer.set("test.churn.grow", "s").expect("set short");
                writer.delete(&gone).expect("delete");
                rounds += 1;
            }
            rounds
        });
        for _ in 0..300 {
            let mut iter = cmap.iter("test.churn.").expect("iter");
            while let Some(entry) = iter.next_value() {
                let entry = entry.expect("borrowed entry");
                check(entry.name(), entry.value());
            }
            for entry in cmap.iter_values("test.churn.").expect("iter_values") {
                let entry = entry.expect("owned entry");
                check(entry.name(), entry.value().as_value_ref());
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writing.join().expect("writer")
    });
    assert!(
        rounds > 0,
        "the writer changed the keys while they were read"
    );
    cmap.delete("test.churn.grow").expect("delete");
}

/// A defect of libqb's trie (the daemon's map), listed in the crate docs' known bugs: a key
/// deleted while another connection's iteration stands on it stays until that iteration
/// moves on, and a value set under the same name meanwhile is then lost with it, although
/// both requests succeeded. If this test fails, libqb fixed it: update the crate docs.
#[test]
fn a_key_deleted_and_set_again_under_an_iteration_is_lost() {
    let cluster = CLUSTER.get();
    let node = cluster.node(1);
    let (reader, writer) = (open(node), open(node));
    writer.set("test.lost.key", 1u8).expect("set");
    let mut iter = reader.iter("test.lost.").expect("iter");
    let entry = iter.next().expect("an entry").expect("listed");
    assert_eq!(entry.name(), "test.lost.key");
    writer.delete("test.lost.key").expect("delete");
    writer.set("test.lost.key", 2u8).expect("set again");
    assert_eq!(writer.get::<u8>("test.lost.key"), Ok(2));
    // The iteration moves on (or ends): the daemon drops the key with the new value.
    drop(iter);
    assert_eq!(writer.get::<u8>("test.lost.key"), Err(Error::NotExist));
    // Without an iteration on it, deleting and setting again keeps the value.
    writer.set("test.lost.key", 3u8).expect("set");
    writer.delete("test.lost.key").expect("delete");
    writer.set("test.lost.key", 4u8).expect("set again");
    assert_eq!(writer.get::<u8>("test.lost.key"), Ok(4));
    writer.delete("test.lost.key").expect("delete");
}
