//! The real containerd (Debian's containerd 1.6 with runc) is the oracle for container
//! confinement: the test runs containers from a busybox rootfs the way the kubelet places them
//! (a kubepods cgroup with a 64-hex id, CRI annotations naming the pod), then compares what
//! `hardnode containers` says with the task's own OCI spec (`config.json` in containerd's task
//! directory) and `/proc/<pid>/status`.
//!
//! containerd runs with its default socket and state paths, as on a node. A containerd that was
//! already running is used as it is; one this test started is stopped by its pid at the end, and
//! every container and cgroup the test made is removed, pass or fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Containerd, hardnode, require_root, require_tool};

const TASKS: &str = "/run/containerd/io.containerd.runtime.v2.task/default";
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

fn ctr(args: &[&str]) -> std::process::Output {
    Command::new("ctr")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ctr")
}

/// A container run with `ctr run -d` in a kubepods cgroup; killed, deleted and its cgroups
/// removed on drop.
struct Task {
    id: String,
    cgroup: String,
    created_dirs: Vec<PathBuf>,
}

impl Task {
    fn run(rootfs: &Path, name: &str, extra: &[&str]) -> Task {
        Task::start(rootfs, name, extra, true)
    }

    /// `in_kubepods: false` leaves the cgroup to ctr (`/default/<id>`): a container started by
    /// hand, outside Kubernetes.
    fn start(rootfs: &Path, name: &str, extra: &[&str], in_kubepods: bool) -> Task {
        let id = random_hex();
        let pod_uid = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
            .expect("uuid")
            .trim()
            .to_string();
        let cgroup = if in_kubepods {
            format!("/kubepods/besteffort/pod{pod_uid}/{id}")
        } else {
            format!("/default/{id}")
        };
        // The cgroup directories runc may create and not remove (the pod and QoS levels).
        let levels: &[&str] = if in_kubepods {
            &["kubepods", "kubepods/besteffort"]
        } else {
            &["default"]
        };
        let created_dirs = cgroup_controllers()
            .into_iter()
            .flat_map(|controller| {
                let pod_level = in_kubepods
                    .then(|| controller.join(format!("kubepods/besteffort/pod{pod_uid}")));
                levels
                    .iter()
                    .map(|level| controller.join(level))
                    .filter(|dir| !dir.exists())
                    .chain(pod_level)
                    .collect::<Vec<_>>()
            })
            .collect();
        let annotations = [
            "io.kubernetes.cri.container-type=container".to_string(),
            "io.kubernetes.cri.sandbox-namespace=hardnode-test".to_string(),
            format!("io.kubernetes.cri.sandbox-name={name}"),
            "io.kubernetes.cri.container-name=app".to_string(),
            format!("io.kubernetes.cri.sandbox-uid={pod_uid}"),
        ];
        let mut args: Vec<String> = vec!["run".into(), "-d".into()];
        if in_kubepods {
            args.extend(["--cgroup".into(), cgroup.clone()]);
            for annotation in &annotations {
                args.push("--annotation".into());
                args.push(annotation.clone());
            }
        }
        args.extend(extra.iter().map(|arg| arg.to_string()));
        args.extend([
            "--rootfs".into(),
            rootfs.display().to_string(),
            id.clone(),
            "/bin/sleep".into(),
            "600".into(),
        ]);
        let task = Task {
            id,
            cgroup,
            created_dirs,
        };
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = ctr(&refs);
        assert!(
            output.status.success(),
            "ctr run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        task
    }

    /// The task's OCI spec as containerd keeps it.
    fn spec(&self) -> serde_json::Value {
        let path = Path::new(TASKS).join(&self.id).join("config.json");
        serde_json::from_slice(&std::fs::read(&path).expect("task config.json")).expect("json")
    }

    fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(Path::new(TASKS).join(&self.id).join("init.pid"))
            .expect("init.pid");
        text.trim().parse().expect("pid")
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let _ = ctr(&["task", "kill", "-s", "SIGKILL", &self.id]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && !ctr(&["task", "delete", "--force", &self.id])
                .status
                .success()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = ctr(&["container", "delete", &self.id]);
        // Deepest first: the container's own cgroup (runc removes it), then the levels this
        // test created.
        for controller in cgroup_controllers() {
            let _ = std::fs::remove_dir(controller.join(self.cgroup.trim_start_matches('/')));
        }
        let mut dirs = self.created_dirs.clone();
        dirs.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
        for dir in dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn random_hex() -> String {
    let bytes = std::fs::read("/proc/sys/kernel/random/uuid").expect("uuid");
    let seed = String::from_utf8_lossy(&bytes).replace('-', "");
    let second = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .expect("uuid")
        .replace('-', "");
    format!("{}{}", seed.trim(), second.trim())
}

/// The cgroup hierarchies runc places a cgroupfs path in: the v2 root, or each v1 controller.
fn cgroup_controllers() -> Vec<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    if root.join("cgroup.controllers").exists() {
        return vec![root.to_path_buf()];
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.is_dir() && !path.is_symlink())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// A busybox rootfs: `/bin/busybox` and the applets the test runs.
fn rootfs(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("busybox-static installed");
    std::fs::copy(busybox, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "sleep"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("applet");
    }
    rootfs
}

/// `hardnode check --root / --format json --only RULE` on this machine, as a report.
fn live_check(rule: &str) -> serde_json::Value {
    let output = hardnode()
        .args(["check", "--root", "/", "--format", "json", "--only", rule])
        .output()
        .expect("hardnode check");
    serde_json::from_slice(&output.stdout).expect("report")
}

fn containers_json() -> serde_json::Value {
    let output = hardnode()
        .args(["containers", "--root", "/", "--format", "json"])
        .output()
        .expect("hardnode containers");
    serde_json::from_slice(&output.stdout).expect("containers JSON")
}

fn listed<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["containers"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("container {id} not listed: {report}"))
}

/// The capability names (without `CAP_`) of a `/proc/<pid>/status` mask field.
fn status_caps(pid: u32, field: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let hex = text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .expect("field")
        .trim()
        .to_string();
    let mask = u64::from_str_radix(&hex, 16).expect("hex");
    hardnode::procstatus::capability_names(mask)
}

fn spec_caps(spec: &serde_json::Value, set: &str) -> Vec<String> {
    spec["process"]["capabilities"][set]
        .as_array()
        .map(|caps| {
            caps.iter()
                .filter_map(|cap| cap.as_str())
                .map(|cap| cap.trim_start_matches("CAP_").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn ready(test: &str) -> bool {
    require_root(test)
        && require_tool(test, "containerd")
        && require_tool(test, "ctr")
        && require_tool(test, "runc")
        && require_tool(test, "busybox")
}

/// `ctr run --privileged`: the spec grants every capability runc knows; the kernel gives the
/// container every one the runtime holds (on hosts whose init lacks one, not all). hardnode must
/// call it privileged either way, name its runtime from the task record even though the cgroupfs
/// path names none, and name the pod from the CRI annotations. An ordinary container beside it
/// is not privileged, and its added capabilities are exactly the ones its spec adds to the
/// runtime's defaults.
#[test]
fn privileged_and_plain_containers_agree_with_their_oci_spec() {
    let test = "privileged_and_plain_containers_agree_with_their_oci_spec";
    if !ready(test) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let _containerd = Containerd::ensure(dir.path());
    let rootfs = rootfs(dir.path());
    let privileged = Task::run(&rootfs, "privileged", &["--privileged"]);
    let plain = Task::run(
        &rootfs,
        "plain",
        &["--cap-add", "CAP_NET_ADMIN", "--seccomp"],
    );
    let by_hand = Task::start(&rootfs, "by-hand", &["--privileged"], false);
    let exposed = Task::run(
        &rootfs,
        "exposed",
        &[
            "--read-only",
            "--net-host",
            "--mount",
            "type=bind,src=/etc,dst=/host/etc,options=rbind:ro",
        ],
    );
    let report = containers_json();

    // The oracle: the spec and the kernel's view of the privileged task.
    let spec = privileged.spec();
    let spec_bounding = spec_caps(&spec, "bounding");
    assert!(
        spec_bounding.contains(&"SYS_ADMIN".to_string()),
        "{spec_bounding:?}"
    );
    let kernel_bounding = status_caps(privileged.pid(), "CapBnd");
    let shown = listed(&report, &privileged.id);
    assert_eq!(shown["privileged"], true, "{shown}");
    assert_eq!(shown["runtime"], "containerd", "{shown}");
    assert_eq!(shown["pod"], "hardnode-test/privileged/app", "{shown}");
    assert_eq!(shown["seccomp"], "disabled", "{shown}");
    // What the kernel holds for it is what the runtime could grant: never more than the spec.
    for cap in &kernel_bounding {
        assert!(
            spec_bounding.contains(cap),
            "{cap} not in the spec: {spec_bounding:?}"
        );
    }

    let spec = plain.spec();
    let shown = listed(&report, &plain.id);
    assert_eq!(shown["privileged"], false, "{shown}");
    let effective = spec_caps(&spec, "effective");
    assert!(
        effective.contains(&"NET_ADMIN".to_string()),
        "{effective:?}"
    );
    let extra: Vec<String> = shown["extra_capabilities"]
        .as_array()
        .expect("extra")
        .iter()
        .filter_map(|cap| cap.as_str().map(String::from))
        .collect();
    let kernel_effective = status_caps(plain.pid(), "CapEff");
    for cap in &extra {
        assert!(
            effective.contains(cap),
            "{cap} is not in the spec's effective set"
        );
        assert!(kernel_effective.contains(cap), "{cap} is not in CapEff");
    }
    assert!(extra.contains(&"NET_ADMIN".to_string()), "{extra:?}");
    // `--seccomp` puts a filter in the spec; the kernel applies it.
    assert!(
        spec["linux"]["seccomp"].is_object(),
        "spec has a seccomp profile"
    );
    assert_eq!(shown["seccomp"], "filter", "{shown}");

    // Read-only root, the host's network namespace, a bind mount of the host's /etc: each as
    // the spec says and the kernel shows.
    let spec = exposed.spec();
    let shown = listed(&report, &exposed.id);
    assert_eq!(spec["root"]["readonly"], true, "spec: read-only root");
    assert_eq!(shown["read_only_rootfs"], true, "{shown}");
    let namespaces: Vec<&str> = spec["linux"]["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .filter_map(|ns| ns["type"].as_str())
        .collect();
    assert!(
        !namespaces.contains(&"network"),
        "spec: no network namespace: {namespaces:?}"
    );
    assert!(
        shown["host_namespaces"].to_string().contains("net"),
        "{shown}"
    );
    let binds_etc = spec["mounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .any(|m| m["source"] == "/etc" && m["destination"] == "/host/etc");
    assert!(binds_etc, "spec: /etc bind-mounted");
    assert!(
        shown["risky_mounts"].to_string().contains("/etc"),
        "{shown}"
    );

    // Started by hand outside kubepods: listed as unmanaged, with the same confinement columns
    // (here privileged, from its spec), and judged by no containers.* rule.
    let shown = listed(&report, &by_hand.id);
    assert_eq!(shown["managed"], false, "{shown}");
    assert_eq!(shown["runtime"], "containerd", "{shown}");
    assert_eq!(shown["privileged"], true, "{shown}");
    assert!(spec_caps(&by_hand.spec(), "bounding").contains(&"SYS_ADMIN".to_string()));
    let check = live_check("containers.privileged");
    let rule = check["results"][0].to_string();
    assert!(
        rule.contains(&privileged.id[..12]),
        "the kubepods one is named: {rule}"
    );
    assert!(
        !rule.contains(&by_hand.id[..12]),
        "the unmanaged one is not judged: {rule}"
    );

    // This node's own package database names the containerd that runs (the one this test
    // started, or found running), so its configuration is read with that version's semantics.
    let installed = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "containerd"])
        .output()
        .expect("dpkg-query");
    let version = String::from_utf8_lossy(&installed.stdout).into_owned();
    let check = live_check("runtime.containerd-apparmor");
    let evidence = check["results"][0].to_string();
    if installed.status.success() && !version.is_empty() {
        let upstream = version
            .split_once(':')
            .map_or(version.as_str(), |(_, rest)| rest);
        let major = upstream.split('.').next().unwrap_or_default();
        assert!(
            evidence.contains(&format!("containerd {major}.x configuration semantics"))
                && evidence.contains(&version),
            "containerd {version} from dpkg: {evidence}"
        );
    } else {
        assert!(evidence.contains("semantics assumed"), "{evidence}");
    }
}
