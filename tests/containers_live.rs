//! The live container test: a real process started in new network, PID and mount namespaces,
//! placed in a cgroup whose path contains `kubepods` under this machine's cgroup mount, must be
//! found by `hardnode containers` on the live root, with its real namespaces and status.
//! Everything it creates (the processes, the cgroups) is removed by a Drop guard.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

use common::{code, hardnode, json, require_root, require_tool};

const CONTAINER_ID: &str = "feedc0de00000000000000000000000000000000000000000000000000000001";
const CONFINED_ID: &str = "c0ffee0000000000000000000000000000000000000000000000000000000002";
const POD_UID: &str = "9a7b6c5d-4e3f-4a1b-8c2d-0e1f2a3b4c5d";

/// The cgroup hierarchy to place the test container in: cgroup v2 (hybrid `unified` or pure),
/// else the v1 `pids` controller.
fn cgroup_base() -> Option<PathBuf> {
    [
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/pids",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|dir| dir.join("cgroup.procs").is_file())
}

/// The started processes and cgroups, torn down in reverse on drop.
struct LiveContainer {
    child: Child,
    dirs: Vec<PathBuf>,
}

impl LiveContainer {
    fn procs(&self) -> Vec<u32> {
        self.dirs
            .last()
            .and_then(|dir| fs::read_to_string(dir.join("cgroup.procs")).ok())
            .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }
}

impl Drop for LiveContainer {
    fn drop(&mut self) {
        // The processes in our cgroup are ours: unshare (the child) and the sleep it forked.
        for pid in self.procs() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in self.dirs.iter().rev() {
            // The kernel frees a cgroup shortly after its last process is reaped: bounded retry.
            for _ in 0..100 {
                if fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Creates `kubepods-hardnodetest-<tag>-<pid>/pod<uid>/<id>` and runs `script` with `{procs}`
/// replaced by that cgroup's `cgroup.procs`.
fn start(base: &Path, tag: &str, id: &str, script: &str) -> LiveContainer {
    let top = base.join(format!(
        "kubepods-hardnodetest-{tag}-{}",
        std::process::id()
    ));
    let pod = top.join(format!("pod{POD_UID}"));
    let container = pod.join(id);
    fs::create_dir_all(&container).expect("create the test cgroup");
    let procs = container.join("cgroup.procs");
    let script = script.replace("{procs}", &procs.display().to_string());
    let child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn unshare");
    LiveContainer {
        child,
        dirs: vec![top, pod, container],
    }
}

/// Bounded wait for a process called `name` in the container's cgroup.
fn wait_for(live: &LiveContainer, name: &str) -> u32 {
    for _ in 0..250 {
        if let Some(pid) = live.procs().into_iter().find(|pid| comm(*pid) == name) {
            return pid;
        }
        sleep(Duration::from_millis(20));
    }
    panic!("{name} did not start in the test cgroup within 5s");
}

/// The `hardnode containers --format json` row of container `id`.
fn listed(id: &str) -> serde_json::Value {
    let output = hardnode()
        .args(["containers", "--format", "json"])
        .output()
        .expect("run hardnode containers");
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = json(&output);
    listing["containers"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("test container {id} not found: {listing:#}"))
}

fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn live_process_in_a_kubepods_cgroup_is_found_with_its_real_namespaces() {
    let test = "live_process_in_a_kubepods_cgroup_is_found_with_its_real_namespaces";
    if !require_root(test) || !require_tool(test, "unshare") {
        return;
    }
    let Some(base) = cgroup_base() else {
        panic!("no writable cgroup hierarchy under /sys/fs/cgroup");
    };
    // The shell moves itself into the cgroup, then becomes unshare, whose forked child (sleep)
    // is PID 1 of a new PID namespace with its own network and mount namespaces.
    let live = start(
        &base,
        "ns",
        CONTAINER_ID,
        "echo $$ > {procs} && exec unshare --net --pid --fork --kill-child --mount-proc sleep 30",
    );
    let sleeper = wait_for(&live, "sleep");
    let own_ns = |pid: &str, kind: &str| {
        fs::read_link(format!("/proc/{pid}/ns/{kind}"))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let sleeper_net = own_ns(&sleeper.to_string(), "net");
    assert_ne!(
        sleeper_net,
        own_ns("self", "net"),
        "unshare gave it a new netns"
    );

    // `hardnode containers` finds it, with the real status.
    let row = listed(CONTAINER_ID);
    assert!(
        row["pids"]
            .as_array()
            .is_some_and(|pids| pids.iter().any(|p| p == sleeper)),
        "{row:#}"
    );
    assert!(
        row["commands"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "sleep 30")),
        "{row:#}"
    );
    assert_eq!(row["pod"], format!("pod {POD_UID}"));
    assert_eq!(row["qos"], "guaranteed");
    // Its network namespace is its own; IPC and UTS were not unshared, so they are the host's.
    let shared: Vec<&str> = row["host_namespaces"]
        .as_array()
        .expect("host_namespaces")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!shared.contains(&"net"), "{row:#}");
    assert!(
        shared.contains(&"ipc") && shared.contains(&"uts"),
        "{row:#}"
    );
    // unshare copied the host's mount namespace: its root is the host's own root filesystem.
    assert!(
        row["risky_mounts"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["host_path"] == "/")),
        "{row:#}"
    );
    // The status fields are the kernel's: compare with the status file itself.
    let status = fs::read_to_string(format!("/proc/{sleeper}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let expected_seccomp = match field("Seccomp").as_str() {
        "0" => "disabled",
        "1" => "strict",
        _ => "filter",
    };
    assert_eq!(row["seccomp"], expected_seccomp, "{row:#}");
    assert_eq!(row["runs_as_root"], true);
    assert_eq!(row["no_new_privs"], field("NoNewPrivs") == "1");

    // The facts carry the namespace links exactly as the kernel shows them.
    let output = hardnode()
        .args(["facts", "--only", "containers.host-namespaces"])
        .output()
        .expect("run hardnode facts");
    let facts = json(&output);
    let process = facts["containers"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == CONTAINER_ID))
        .and_then(|c| c["processes"].as_array())
        .and_then(|ps| ps.iter().find(|p| p["pid"] == sleeper))
        .unwrap_or_else(|| panic!("sleep process missing from facts: {facts:#}"));
    assert_eq!(process["namespaces"]["net"]["value"], sleeper_net);

    // And the rule names it, with its pid.
    let output = hardnode()
        .args([
            "check",
            "--format",
            "json",
            "--only",
            "containers.host-namespaces",
        ])
        .output()
        .expect("run hardnode check");
    let report = json(&output);
    assert_eq!(
        common::status(&report, "containers.host-namespaces"),
        "fail"
    );
    let text = common::evidence_text(&report, "containers.host-namespaces");
    assert!(text.contains(&format!("{sleeper}")), "{text}");
    assert!(text.contains("feedc0de0000"), "{text}");
    drop(live);
}

#[test]
fn live_confined_process_reads_as_confined() {
    let test = "live_confined_process_reads_as_confined";
    if !require_root(test) || !require_tool(test, "unshare") || !require_tool(test, "setpriv") {
        return;
    }
    let Some(base) = cgroup_base() else {
        panic!("no writable cgroup hierarchy under /sys/fs/cgroup");
    };
    // Inside new namespaces, PID 1 of the new PID namespace puts itself (pid 1 as it sees
    // itself) in the cgroup and becomes sleep as nobody, with no capabilities in any set and
    // no_new_privs: only that process is in the container.
    let live = start(
        &base,
        "confined",
        CONFINED_ID,
        "exec unshare --net --pid --ipc --uts --fork --kill-child --mount-proc sh -c \
         'echo 1 > {procs} && exec setpriv --no-new-privs --reuid 65534 --regid 65534 \
          --clear-groups --inh-caps=-all --bounding-set=-all sleep 30'",
    );
    let sleeper = wait_for(&live, "sleep");
    let row = listed(CONFINED_ID);
    assert_eq!(row["pids"], serde_json::json!([sleeper]), "{row:#}");
    assert_eq!(row["privileged"], false, "{row:#}");
    assert_eq!(row["runs_as_root"], false, "{row:#}");
    assert_eq!(row["no_new_privs"], true, "{row:#}");
    assert_eq!(row["extra_capabilities"], serde_json::json!([]), "{row:#}");
    assert_eq!(row["host_namespaces"], serde_json::json!([]), "{row:#}");

    let output = hardnode()
        .args([
            "check",
            "--format",
            "json",
            "--only",
            "containers.privileged,containers.run-as-root,containers.no-new-privs",
        ])
        .output()
        .expect("run hardnode check");
    let report = json(&output);
    for id in [
        "containers.privileged",
        "containers.run-as-root",
        "containers.no-new-privs",
    ] {
        // Another live test's container may run at the same time: only ours must not be named.
        let text = common::evidence_text(&report, id);
        assert!(!text.contains("c0ffee000000"), "{id}: {text}");
    }
    drop(live);
}
