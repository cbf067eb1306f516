//! Tests of the harness's container backend, against real corosync containers.
//!
//! They need root, podman and a corosync image, so they are their own suite, built only with
//! the `containers` feature: `scripts/test-containers` builds the image and runs them
//! (`cargo test -p corosync-tests --features containers --test containers`). The image is
//! `COROSYNC_TESTCLUSTER_IMAGE`, default `localhost/corosync-testcluster:bookworm`.

use std::process::Command;
use std::time::Duration;

use corosync::cmap::Cmap;
use corosync_testcluster::{Cluster, ClusterBuilder, Crypto, IMAGE_ENV, PODMAN_ENV};

const WAIT: Duration = Duration::from_secs(30);

fn image() -> String {
    std::env::var(IMAGE_ENV).unwrap_or_else(|_| "localhost/corosync-testcluster:bookworm".into())
}

fn builder(n: u32) -> ClusterBuilder {
    Cluster::builder(n).container_image(&image())
}

/// `podman ARGS` (run as the harness runs it: CONTAINERS_CONF comes from the environment).
fn podman(args: &[&str]) -> String {
    let out = Command::new("podman")
        .args(args)
        .output()
        .expect("run podman");
    assert!(
        out.status.success(),
        "podman {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn container_names() -> Vec<String> {
    podman(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Containers and networks whose name starts with cluster name `name`.
fn leftovers(name: &str) -> Vec<String> {
    container_names()
        .into_iter()
        .chain(
            podman(&["network", "ls", "--format", "{{.Name}}"])
                .lines()
                .map(str::to_string),
        )
        .filter(|n| n.starts_with(name))
        .collect()
}

/// What corosync in node `id`'s container says its node id is, read with a client handle
/// opened in-process inside the container's namespaces.
fn node_id_via_handle(cluster: &Cluster, id: u32) -> u32 {
    let cmap = cluster
        .node(id)
        .in_namespace(Cmap::new)
        .expect("enter the container")
        .expect("connect to cmap inside the container");
    cmap.get::<u32>("runtime.votequorum.this_node_id")
        .expect("get this_node_id")
}

#[test]
fn three_containers_kill_restart_isolate_heal() {
    let cluster = builder(3).start().expect("start 3 corosync containers");
    let name = cluster.name().to_string();
    let containers = container_names();
    for id in 1..=3 {
        let node = cluster.node(id);
        let container = format!("{name}n{id}");
        assert_eq!(node.container(), Some(container.as_str()));
        assert!(containers.contains(&container), "{containers:?}");
        let status = node.quorum_status().unwrap();
        assert!(status.quorate, "node {id}: {status:?}");
        assert_eq!(status.members, vec![1, 2, 3]);
        assert_eq!(status.node_id, id);
        // The daemon's host pid is the container's first process.
        let pid = node.pid().expect("running");
        let inspect = podman(&["inspect", "--format", "{{.State.Pid}}", &container]);
        assert_eq!(inspect.trim(), pid.to_string());
        // The address is the one podman gave the container on the cluster's network.
        let addrs = node.run("ip", ["-br", "addr"]).unwrap();
        assert!(addrs.contains(&node.addr().to_string()), "{addrs}");
        assert_eq!(node_id_via_handle(&cluster, id), id);
    }
    // The network is internal: no route out of it.
    let internal = podman(&["network", "inspect", "--format", "{{.Internal}}", &name]);
    assert_eq!(internal.trim(), "true");
    let routes = cluster.node(1).run("ip", ["route"]).unwrap();
    assert!(!routes.contains("default"), "{routes}");

    cluster.kill(3).expect("kill node 3");
    assert!(!cluster.node(3).is_running());
    assert!(cluster.kill(3).is_err(), "killing a dead node fails");
    cluster.wait_members(1, &[1, 2], WAIT).unwrap();
    cluster.wait_quorate(1, true, WAIT).unwrap();
    cluster.kill(2).expect("kill node 2");
    cluster.wait_quorate(1, false, WAIT).unwrap();
    let err = cluster
        .wait_quorate(2, true, WAIT)
        .expect_err("node 2 is down");
    assert!(err.message().contains("not running"), "{err}");
    cluster.restart(2).expect("restart node 2");
    cluster.restart(3).expect("restart node 3");
    cluster.wait_converged(&[1, 2, 3], WAIT).unwrap();
    cluster.wait_quorate(1, true, WAIT).unwrap();
    assert_eq!(node_id_via_handle(&cluster, 3), 3);

    cluster.isolate(3).expect("isolate node 3");
    assert!(cluster.node(3).is_running(), "isolated, not killed");
    assert_eq!(cluster.node(1).members().unwrap(), vec![1, 2]);
    cluster.wait_quorate(3, false, WAIT).unwrap();
    cluster.heal(3).expect("heal node 3");
    for id in 1..=3 {
        assert_eq!(cluster.node(id).members().unwrap(), vec![1, 2, 3]);
    }

    drop(cluster);
    let left = leftovers(&name);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn crypto_and_extra_config() {
    let cluster = builder(2)
        .crypto(Crypto::aes256_sha256())
        .quorum_option("two_node", 1)
        .extra_config("resources {\n}\n")
        .start()
        .expect("start 2 containers with crypto");
    for id in 1..=2 {
        let node = cluster.node(id);
        assert_eq!(node.cmap_get("totem.crypto_cipher").unwrap(), "aes256");
        assert_eq!(node.cmap_get("totem.crypto_hash").unwrap(), "sha256");
        assert_eq!(node.cmap_get("quorum.two_node").unwrap(), "1");
        assert_eq!(node.members().unwrap(), vec![1, 2]);
    }
    // Both nodes use the key the harness wrote into /etc/corosync/authkey.
    let sums: Vec<String> = (1..=2)
        .map(|id| {
            cluster
                .node(id)
                .run("md5sum", ["/etc/corosync/authkey"])
                .unwrap()
        })
        .collect();
    assert_eq!(sums[0], sums[1]);
}

#[test]
fn programs_built_on_the_host_run_inside_and_panics_clean_up() {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().to_path_buf();
    let result = std::panic::catch_unwind(|| {
        let cluster = builder(1)
            .mount_read_only(&dir)
            .start()
            .expect("start 1 container");
        let out = cluster
            .node(1)
            .command(&exe)
            .args(["--list", "--format", "terse"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("crypto_and_extra_config"));
        // The mount is read-only.
        let touch = cluster
            .node(1)
            .command("touch")
            .arg(dir.join("cst-probe"))
            .output()
            .unwrap();
        assert!(!touch.status.success());
        let name = cluster.name().to_string();
        std::panic::panic_any(name);
    });
    let name = *result
        .expect_err("the closure panics")
        .downcast::<String>()
        .unwrap();
    let left = leftovers(&name);
    assert!(left.is_empty(), "left behind after a panic: {left:?}");
}

#[test]
fn a_container_that_dies_while_starting_shows_its_log() {
    let err = builder(1)
        .extra_config("this is { not corosync.conf")
        .timeout(Duration::from_secs(10))
        .start()
        .expect_err("corosync refuses the configuration");
    let msg = err.message();
    assert!(msg.contains("parser error"), "{msg}");
    assert!(msg.contains("podman logs"), "{msg}");
}

#[test]
fn missing_or_bad_images_say_what_to_do() {
    let err = Cluster::builder(1)
        .container_image("localhost/cst-no-such-image:none")
        .start()
        .expect_err("no such image");
    assert!(err.message().contains("scripts/container-image"), "{err}");
    assert!(err.message().contains("does not exist"), "{err}");

    // An image with a shell but without corosync: the host's dash and the libraries it needs.
    let image = format!("localhost/cst{}x-nocorosync:test", std::process::id());
    let root = std::env::temp_dir().join(format!("cst{}x-nocorosync", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ldd = Command::new("ldd").arg("/bin/dash").output().unwrap();
    let mut files = vec!["/bin/dash".to_string()];
    files.extend(
        String::from_utf8_lossy(&ldd.stdout)
            .split_whitespace()
            .filter(|w| w.starts_with('/'))
            .map(str::to_string),
    );
    for file in &files {
        let target = root.join(file.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(file, &target).unwrap();
    }
    std::os::unix::fs::symlink("dash", root.join("bin/sh")).unwrap();
    let tar = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C {} -cf - . | podman import --quiet - {image} >/dev/null",
            root.display()
        ))
        .status()
        .unwrap();
    assert!(tar.success());
    let err = Cluster::builder(1)
        .container_image(&image)
        .start()
        .expect_err("no corosync in the image");
    podman(&["rmi", "-f", &image]);
    std::fs::remove_dir_all(&root).unwrap();
    assert!(err.message().contains("has no corosync"), "{err}");
    assert!(
        err.message().contains("apt-get install -y corosync"),
        "{err}"
    );
}

#[test]
fn missing_podman_says_what_to_install() {
    const CHILD: &str = "CST_CONTAINERS_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // The child: podman is located once per process, so this runs in a process of its own.
        let err = builder(1).start().expect_err("no podman");
        println!("CHILD-ERROR: {err}");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "missing_podman_says_what_to_install",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env(PODMAN_ENV, "/nonexistent/podman")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("CHILD-ERROR: "), "{stdout}");
    assert!(
        stdout.contains("apt-get install -y podman runc"),
        "{stdout}"
    );
    assert!(stdout.contains("/nonexistent/podman"), "{stdout}");
}

#[test]
fn leftovers_of_dead_owners_are_removed_and_nothing_else() {
    // A pid that no longer exists: a child that has exited and was reaped.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = format!("cst{dead}x1");
    let alive = format!("cst{}x999", std::process::id());
    podman(&["network", "create", "--internal", &stale]);
    podman(&["network", "create", "--internal", &alive]);
    podman(&[
        "create",
        "--name",
        &format!("{stale}n1"),
        "--network",
        &stale,
        &image(),
    ]);
    let removed = corosync_testcluster::cleanup_stale_containers().unwrap();
    let left_alive = leftovers(&alive);
    podman(&["network", "rm", "-f", &alive]);
    assert!(removed >= 2, "removed {removed}");
    assert!(leftovers(&stale).is_empty(), "{:?}", leftovers(&stale));
    assert_eq!(
        left_alive,
        vec![alive.clone()],
        "a live owner's network stays"
    );
}
