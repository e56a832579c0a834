//! The real dockerd (Debian's docker.io 20.10, on the containerd the test makes sure runs) is the
//! oracle for the Docker daemon rules: for two `daemon.json` variants, `docker info` and the
//! containers dockerd runs say what the daemon applies, and `hardnode check --root /` must agree.
//!
//! dockerd never touches this machine's network: `--iptables=false --ip6tables=false
//! --bridge=none`, containers with `--network none`, its API on a Unix socket in the test's
//! directory, its data and exec roots there too, and the whole daemon in a private mount
//! namespace (`unshare -m`) so its bind mounts vanish with it. Everything it started is removed
//! and dockerd is stopped by its pid, pass or fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Containerd, hardnode, require_root, require_tool};

struct Dockerd {
    child: Child,
    socket: PathBuf,
    cgroup_dirs_before: Vec<PathBuf>,
}

impl Dockerd {
    fn start(dir: &Path, daemon_json: &str) -> Dockerd {
        let config = dir.join("daemon.json");
        std::fs::write(&config, daemon_json).expect("daemon.json");
        let socket = dir.join("docker.sock");
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("log");
        let cgroup_dirs_before = docker_cgroup_dirs();
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "dockerd"])
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
            ])
            .arg(format!("--data-root={}", dir.join("data").display()))
            .arg(format!("--exec-root={}", dir.join("exec").display()))
            .arg(format!("--pidfile={}", dir.join("docker.pid").display()))
            .arg(format!("--host=unix://{}", socket.display()))
            .arg(format!("--config-file={}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start dockerd");
        let dockerd = Dockerd {
            child,
            socket,
            cgroup_dirs_before,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !dockerd.docker(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within 60 s: {}",
                std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        dockerd
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run docker")
    }

    fn docker_ok(&self, args: &[&str]) -> String {
        let output = self.docker(args);
        assert!(
            output.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn info(&self) -> serde_json::Value {
        serde_json::from_str(&self.docker_ok(&["info", "--format", "{{json .}}"])).expect("info")
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let ids = self.docker(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        // `unshare` execs dockerd, so this pid is dockerd's: SIGTERM for a clean shutdown.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in docker_cgroup_dirs() {
            if !self.cgroup_dirs_before.contains(&dir) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// The `docker` cgroup parents dockerd makes (cgroupfs driver), per hierarchy.
fn docker_cgroup_dirs() -> Vec<PathBuf> {
    std::fs::read_dir("/sys/fs/cgroup")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join("docker"))
                .chain(std::iter::once(PathBuf::from("/sys/fs/cgroup/docker")))
                .filter(|path| path.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// A busybox image imported from a rootfs tarball.
fn import_busybox(dockerd: &Dockerd, dir: &Path) {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("busybox-static");
    std::fs::copy(busybox, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "sleep"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("applet");
    }
    let tar = dir.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("tar");
    assert!(status.success());
    dockerd.docker_ok(&[
        "import",
        &tar.display().to_string(),
        "hardnode-busybox:test",
    ]);
}

fn check(ids: &str) -> Vec<serde_json::Value> {
    let output = hardnode()
        .args(["check", "--root", "/", "--format", "json", "--only", ids])
        .output()
        .expect("hardnode check");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report");
    report["results"].as_array().cloned().unwrap_or_default()
}

fn status_of(results: &[serde_json::Value], id: &str) -> String {
    results
        .iter()
        .find(|r| r["id"] == id)
        .and_then(|r| r["status"].as_str())
        .unwrap_or_else(|| panic!("{id} in {results:?}"))
        .to_string()
}

fn proc_status_field(pid: &str, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .map(|value| value.trim().to_string())
        .unwrap_or_default()
}

const RULES: &str = "runtime.docker-live-restore,runtime.docker-insecure-registries,runtime.docker-seccomp,runtime.docker-no-new-privileges,runtime.docker-icc";

#[test]
fn docker_daemon_rules_agree_with_docker_info_and_its_containers() {
    let test = "docker_daemon_rules_agree_with_docker_info_and_its_containers";
    if !require_root(test)
        || !require_tool(test, "dockerd")
        || !require_tool(test, "docker")
        || !require_tool(test, "containerd")
        || !require_tool(test, "busybox")
        || !require_tool(test, "unshare")
    {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let _containerd = Containerd::ensure(dir.path());
    let allow_all = dir.path().join("allow-all.json");
    std::fs::write(&allow_all, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n").expect("profile");
    let hardened = "{\"live-restore\": true, \"no-new-privileges\": true}\n".to_string();
    let loose = format!(
        "{{\"insecure-registries\": [\"registry.local:5000\"], \"seccomp-profile\": \"{}\"}}\n",
        allow_all.display()
    );
    for (name, daemon_json) in [("hardened", hardened), ("loose", loose)] {
        let run = dir.path().join(name);
        std::fs::create_dir_all(&run).expect("run dir");
        let dockerd = Dockerd::start(&run, &daemon_json);
        import_busybox(&dockerd, &run);
        let id = dockerd.docker_ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--cap-add",
            "NET_ADMIN",
            "hardnode-busybox:test",
            "/bin/sleep",
            "600",
        ]);
        let pid = dockerd.docker_ok(&["inspect", "--format", "{{.State.Pid}}", &id]);

        // The oracle: what dockerd reports and applies.
        let info = dockerd.info();
        let live_restore = info["LiveRestoreEnabled"]
            .as_bool()
            .expect("LiveRestoreEnabled");
        let insecure = info["RegistryConfig"]["IndexConfigs"]
            .as_object()
            .expect("IndexConfigs")
            .values()
            .any(|index| index["Secure"] == false);
        let seccomp_option = info["SecurityOptions"]
            .as_array()
            .expect("SecurityOptions")
            .iter()
            .filter_map(|option| option.as_str())
            .find(|option| option.starts_with("name=seccomp"))
            .unwrap_or_default()
            .to_string();
        let allow_all_profile = seccomp_option.contains(&allow_all.display().to_string());
        let no_new_privs = proc_status_field(&pid, "NoNewPrivs") == "1";
        let bridge = dockerd
            .docker(&["network", "inspect", "bridge"])
            .status
            .success();

        let results = check(RULES);
        let expect =
            |pass: bool, otherwise: &str| if pass { "pass" } else { otherwise }.to_string();
        assert_eq!(
            status_of(&results, "runtime.docker-live-restore"),
            expect(live_restore, "warn"),
            "{name}: LiveRestoreEnabled {live_restore}"
        );
        assert_eq!(
            status_of(&results, "runtime.docker-insecure-registries"),
            expect(!insecure, "fail"),
            "{name}: an insecure registry in docker info: {insecure}"
        );
        assert_eq!(
            status_of(&results, "runtime.docker-seccomp"),
            expect(!allow_all_profile, "fail"),
            "{name}: {seccomp_option}"
        );
        assert_eq!(
            status_of(&results, "runtime.docker-no-new-privileges"),
            expect(no_new_privs, "fail"),
            "{name}: the container's NoNewPrivs"
        );
        // --bridge=none: no default bridge network, so icc has nothing to apply to.
        assert!(!bridge, "docker has no bridge network");
        assert_eq!(status_of(&results, "runtime.docker-icc"), "skip");

        // The container, started outside Kubernetes: listed as unmanaged, its added capability
        // and seccomp mode as the kernel shows them.
        let output = hardnode()
            .args(["containers", "--root", "/", "--format", "json"])
            .output()
            .expect("hardnode containers");
        let listing: serde_json::Value = serde_json::from_slice(&output.stdout).expect("listing");
        let shown = listing["containers"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["id"] == id.as_str()))
            .unwrap_or_else(|| panic!("{id} not listed: {listing}"))
            .clone();
        assert_eq!(shown["managed"], false, "{shown}");
        assert_eq!(shown["runtime"], "docker", "{shown}");
        assert!(
            shown["extra_capabilities"]
                .to_string()
                .contains("NET_ADMIN"),
            "{shown}"
        );
        let seccomp = if proc_status_field(&pid, "Seccomp") == "0" {
            "disabled"
        } else {
            "filter"
        };
        assert_eq!(shown["seccomp"], seccomp, "{shown}");
        assert_eq!(shown["runs_as_root"], true, "{shown}");

        // `--user 65534`: the image's user replaced; the kernel's uid for it is not root.
        let nobody = dockerd.docker_ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--user",
            "65534:65534",
            "hardnode-busybox:test",
            "/bin/sleep",
            "600",
        ]);
        let configured = dockerd.docker_ok(&["inspect", "--format", "{{.Config.User}}", &nobody]);
        assert_eq!(configured, "65534:65534");
        let output = hardnode()
            .args(["containers", "--root", "/", "--format", "json"])
            .output()
            .expect("hardnode containers");
        let listing: serde_json::Value = serde_json::from_slice(&output.stdout).expect("listing");
        let shown = listing["containers"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["id"] == nobody.as_str()))
            .unwrap_or_else(|| panic!("{nobody} not listed: {listing}"))
            .clone();
        assert_eq!(shown["runs_as_root"], false, "{shown}");
    }
}
