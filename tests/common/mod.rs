//! The shared fixture-root builder for integration tests: a temp directory laid out like a host
//! (`proc/<pid>/cmdline`, `/etc/...` files with modes and owners, symlinks, gzip), and a runner
//! for the built `hardnode` binary.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A host root in a temp dir, removed when dropped.
pub struct Root {
    dir: tempfile::TempDir,
}

impl Default for Root {
    fn default() -> Self {
        Self::new()
    }
}

impl Root {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hardnode-root-")
            .tempdir()
            .expect("create temp root");
        // Traversable by an unprivileged user, for the non-root tests.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod root");
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The real path of a host path under this root.
    pub fn real(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    /// Writes a file (parents created), returning its real path.
    pub fn file(&self, host_path: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let real = self.real(host_path);
        if let Some(parent) = real.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&real, content).expect("write fixture file");
        real
    }

    /// Writes a file and sets its mode.
    pub fn file_mode(&self, host_path: &str, content: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let real = self.file(host_path, content);
        self.chmod(host_path, mode);
        real
    }

    pub fn chmod(&self, host_path: &str, mode: u32) {
        fs::set_permissions(self.real(host_path), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Sets owner and group by number (the test runs as root in CI).
    pub fn chown(&self, host_path: &str, uid: u32, gid: u32) {
        std::os::unix::fs::lchown(self.real(host_path), Some(uid), Some(gid)).expect("chown");
    }

    /// Writes `content` gzip-compressed.
    pub fn gzip(&self, host_path: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(content.as_ref()).expect("gzip");
        self.file(host_path, encoder.finish().expect("gzip finish"))
    }

    pub fn dir(&self, host_path: &str) -> PathBuf {
        let real = self.real(host_path);
        fs::create_dir_all(&real).expect("create dir");
        real
    }

    /// A symlink at `host_path` pointing at `target` (verbatim: absolute targets are host paths).
    pub fn symlink(&self, target: &str, host_path: &str) {
        let real = self.real(host_path);
        if let Some(parent) = real.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        symlink(target, real).expect("symlink");
    }

    /// `proc/<pid>/cmdline` with NUL-separated arguments (and a trailing NUL, as the kernel writes).
    pub fn process(&self, pid: u32, argv: &[&str]) {
        let mut cmdline = argv.join("\0").into_bytes();
        cmdline.push(0);
        self.file(&format!("/proc/{pid}/cmdline"), cmdline);
    }

    /// `proc/<pid>/environ`: NUL-separated `NAME=value` entries.
    pub fn environ(&self, pid: u32, vars: &[&str]) {
        let mut environ = vars.join("\0").into_bytes();
        environ.push(0);
        self.file(&format!("/proc/{pid}/environ"), environ);
    }

    /// `/etc/passwd` and `/etc/group` with root and the given extra `(name, id)` accounts.
    pub fn accounts(&self, extra: &[(&str, u32)]) {
        let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
        let mut group = String::from("root:x:0:\n");
        for (name, id) in extra {
            passwd.push_str(&format!(
                "{name}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin\n"
            ));
            group.push_str(&format!("{name}:x:{id}:\n"));
        }
        self.file("/etc/passwd", passwd);
        self.file("/etc/group", group);
    }

    /// The basic host identity files every fixture has.
    pub fn identity(&self, hostname: &str, release: &str, pretty_name: &str) {
        self.file("/proc/sys/kernel/hostname", format!("{hostname}\n"));
        self.file("/proc/sys/kernel/osrelease", format!("{release}\n"));
        self.file(
            "/etc/os-release",
            format!("NAME=\"Ubuntu\"\nPRETTY_NAME=\"{pretty_name}\"\nID=ubuntu\n"),
        );
    }

    /// A `hardnode` command with `--root` set to this root.
    pub fn hardnode(&self, args: &[&str]) -> Command {
        let mut command = hardnode();
        command.args(args).arg("--root").arg(self.path());
        command
    }

    /// Runs `hardnode check --format json` (plus `args`) and parses the report.
    pub fn check_json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut full = vec!["check", "--format", "json"];
        full.extend_from_slice(args);
        let output = self.hardnode(&full).output().expect("run hardnode");
        (code(&output), json(&output))
    }
}

pub fn hardnode() -> Command {
    let mut command = Command::cargo_bin("hardnode").expect("hardnode binary");
    command.env_remove("NO_COLOR");
    command
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The result object for rule `id` in a report.
pub fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .and_then(|results| results.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no result for {id} in {report:#}"))
}

/// The status of rule `id` in a report.
pub fn status<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    result(report, id)["status"].as_str().unwrap_or("?")
}

/// All evidence details and paths of rule `id`, joined, for `contains` assertions.
/// A result's text field (`reason`, `remediation`, `actual`), empty when null.
pub fn text_of(report: &serde_json::Value, id: &str, field: &str) -> String {
    result(report, id)[field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn evidence_text(report: &serde_json::Value, id: &str) -> String {
    let finding = result(report, id);
    let mut text = String::new();
    for evidence in finding["evidence"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "{} {} {}\n",
            evidence["source"], evidence["path"], evidence["detail"]
        ));
    }
    text.push_str(finding["reason"].as_str().unwrap_or(""));
    text
}

/// True when the test runs in CI, where a missing tool or privilege must fail, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Whether root-only tests can run; in CI not being root is a failure.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "{test} needs root and CI runs as root");
    eprintln!("{test}: skipped (needs root)");
    false
}

/// Whether `tool` is on PATH; in CI a missing tool is a failure.
pub fn require_tool(test: &str, tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    if !found {
        assert!(!in_ci(), "{test} needs {tool}; scripts/test.sh installs it");
        eprintln!("{test}: skipped ({tool} not installed)");
    }
    found
}

/// Path of a file shipped in the repository (examples, test data).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A node root for report-format and fleet tests whose run has every status: `kernel.seccomp`
/// pass, `kernel.seccomp-filter` fail (when `weak`), `kernel.apparmor` warn (when `weak`),
/// `apparmor.profiles` error (its profile list is a directory), `seccomp.profiles` skip (no
/// profile directory).
pub fn mixed_node(hostname: &str, weak: bool) -> Root {
    let root = Root::new();
    let release = "5.15.0-105-generic";
    root.identity(hostname, release, "Ubuntu 22.04.4 LTS");
    let option = |name: &str, on: bool| {
        if on {
            format!("{name}=y\n")
        } else {
            format!("# {name} is not set\n")
        }
    };
    root.file(
        &format!("/boot/config-{release}"),
        format!(
            "CONFIG_SECCOMP=y\n{}{}",
            option("CONFIG_SECCOMP_FILTER", !weak),
            option("CONFIG_SECURITY_APPARMOR", !weak)
        ),
    );
    root.file("/sys/module/apparmor/parameters/enabled", "Y\n");
    root.file(
        "/sys/kernel/security/lsm",
        "lockdown,capability,yama,apparmor",
    );
    root.dir("/sys/kernel/security/apparmor/profiles");
    root
}

/// A `--benchmark` file with a rule whose text has every character markup formats must escape.
pub const HOSTILE_BENCHMARK: &str = r#"
[[rule]]
id = "odd.markup"
cis = "9.9.9"
section = "kernel <odd> & \"quoted\""
title = "Title with <xml> & \"quotes\" and 'apostrophes'\nand a second line"
severity = "low"
scored = true
probe = { kernel_config = "CONFIG_NOT_THERE_AT_ALL" }
expect = { eq = "y" }
remediation = "Rebuild with <CONFIG_NOT_THERE_AT_ALL=y> & reboot"
"#;

/// The host's namespace links in fixtures (what PID 1 has).
pub const HOST_NAMESPACES: &[(&str, &str)] = &[
    ("net", "net:[4026531840]"),
    ("pid", "pid:[4026531836]"),
    ("ipc", "ipc:[4026531839]"),
    ("uts", "uts:[4026531838]"),
    ("user", "user:[4026531837]"),
    ("mnt", "mnt:[4026531841]"),
    ("cgroup", "cgroup:[4026531835]"),
];

/// The host's mount table in fixtures: `/` on 8:1, `/run` a tmpfs on 0:25, `/var/lib` on 8:2.
pub const HOST_MOUNTINFO: &str = "\
1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
20 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
21 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
22 1 0:6 / /dev rw,nosuid shared:3 - devtmpfs udev rw
25 1 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw
30 1 8:2 / /var/lib rw,relatime shared:7 - ext4 /dev/sda2 rw
";

/// containerd's default capability set (CapEff of an ordinary root container).
pub const DEFAULT_CAPS: u64 = 0x0000_0000_a804_25fb;
/// Every capability of a 5.9+ kernel (a privileged container).
pub const ALL_CAPS: u64 = 0x0000_01ff_ffff_ffff;

/// One process of a fixture container: what `/proc/<pid>/{status,cgroup,cmdline,attr,ns,mountinfo}`
/// say about it. `ContainerProc::confined` is a well-confined container process; tests change
/// the fields they are about.
#[derive(Debug, Clone)]
pub struct ContainerProc {
    pub name: String,
    pub argv: Vec<String>,
    pub uid: u32,
    pub cap_eff: u64,
    pub cap_bnd: u64,
    pub no_new_privs: bool,
    pub seccomp: u8,
    pub cgroup: String,
    /// Written to `attr/apparmor/current`; `None` writes nothing.
    pub apparmor: Option<String>,
    /// Namespace links; a kind missing here gets a private namespace `<kind>:[<pid>0<n>]`.
    pub shared_with_host: Vec<&'static str>,
    pub mountinfo: String,
}

/// The rootfs and runtime mounts of an ordinary container (read-only overlay root).
pub fn container_mountinfo(rootfs_ro: bool, extra: &str) -> String {
    let ro = if rootfs_ro { "ro" } else { "rw" };
    format!(
        "500 400 0:77 / / {ro},relatime - overlay overlay rw,lowerdir=/l,upperdir=/u\n\
         501 500 0:78 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n\
         502 500 0:79 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k\n\
         503 502 0:80 / /dev/pts rw,nosuid,noexec - devpts devpts rw\n\
         504 500 0:81 / /sys ro,nosuid,nodev,noexec - sysfs sysfs ro\n\
         505 500 8:2 /kubelet/pods/p/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda2 rw\n\
         506 501 0:6 /null /proc/kcore rw,nosuid - devtmpfs udev rw\n{extra}"
    )
}

impl ContainerProc {
    pub fn confined(name: &str, cgroup: &str) -> Self {
        ContainerProc {
            name: name.into(),
            argv: vec![format!("/usr/bin/{name}")],
            uid: 1000,
            cap_eff: 0,
            cap_bnd: DEFAULT_CAPS,
            no_new_privs: true,
            seccomp: 2,
            cgroup: cgroup.into(),
            apparmor: Some("cri-containerd.apparmor.d (enforce)".into()),
            shared_with_host: Vec::new(),
            mountinfo: container_mountinfo(true, ""),
        }
    }

    pub fn status_text(&self) -> String {
        format!(
            "Name:\t{}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n\
             CapInh:\t0000000000000000\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\n\
             CapAmb:\t0000000000000000\nNoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\n",
            self.name,
            self.cap_eff,
            self.cap_eff,
            self.cap_bnd,
            u8::from(self.no_new_privs),
            self.seccomp,
            u8::from(self.seccomp == 2),
            uid = self.uid,
        )
    }
}

impl Root {
    /// PID 1 with the host's namespaces and mount table.
    pub fn host_init(&self) {
        self.process(1, &["/sbin/init"]);
        self.file(
            "/proc/1/status",
            format!(
                "Name:\tsystemd\nUid:\t0\t0\t0\t0\nCapEff:\t{ALL_CAPS:016x}\nCapBnd:\t{ALL_CAPS:016x}\nNoNewPrivs:\t0\nSeccomp:\t0\n"
            ),
        );
        self.file("/proc/1/cgroup", "0::/init.scope\n");
        self.file("/proc/1/mountinfo", HOST_MOUNTINFO);
        for (kind, target) in HOST_NAMESPACES {
            self.symlink(target, &format!("/proc/1/ns/{kind}"));
        }
    }

    /// A process as `/proc/<pid>/...` shows it.
    pub fn container_process(&self, pid: u32, spec: &ContainerProc) {
        let argv: Vec<&str> = spec.argv.iter().map(String::as_str).collect();
        self.process(pid, &argv);
        self.file(&format!("/proc/{pid}/status"), spec.status_text());
        self.file(&format!("/proc/{pid}/cgroup"), &spec.cgroup);
        self.file(&format!("/proc/{pid}/mountinfo"), &spec.mountinfo);
        if let Some(label) = &spec.apparmor {
            self.file(
                &format!("/proc/{pid}/attr/apparmor/current"),
                format!("{label}\n"),
            );
        }
        for (index, (kind, host_target)) in HOST_NAMESPACES.iter().enumerate() {
            let target = if spec.shared_with_host.contains(kind) {
                (*host_target).to_string()
            } else {
                format!("{kind}:[{pid}0{index}]")
            };
            self.symlink(&target, &format!("/proc/{pid}/ns/{kind}"));
        }
    }

    /// containerd's OCI bundle config for a container, with the CRI annotations that name it.
    pub fn containerd_record(&self, id: &str, namespace: &str, pod: &str, container: &str) {
        let kind = if container.is_empty() {
            "sandbox"
        } else {
            "container"
        };
        self.file(
            &format!("/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"),
            serde_json::json!({
                "ociVersion": "1.1.0",
                "annotations": {
                    "io.kubernetes.cri.container-type": kind,
                    "io.kubernetes.cri.container-name": container,
                    "io.kubernetes.cri.sandbox-namespace": namespace,
                    "io.kubernetes.cri.sandbox-name": pod,
                }
            })
            .to_string(),
        );
    }

    /// cri-o's container config with its annotations.
    pub fn crio_record(&self, id: &str, namespace: &str, pod: &str, container: &str) {
        self.file(
            &format!("/run/containers/storage/overlay-containers/{id}/userdata/config.json"),
            serde_json::json!({
                "annotations": {
                    "io.kubernetes.cri-o.ContainerType": "container",
                    "io.kubernetes.container.name": container,
                    "io.kubernetes.pod.namespace": namespace,
                    "io.kubernetes.pod.name": pod,
                }
            })
            .to_string(),
        );
    }

    /// The kubelet's log directory for a pod: `/var/log/pods/<ns>_<name>_<uid>/<container>/0.log`.
    pub fn pod_logs(&self, namespace: &str, pod: &str, uid: &str, containers: &[&str]) {
        for container in containers {
            self.file(
                &format!("/var/log/pods/{namespace}_{pod}_{uid}/{container}/0.log"),
                "",
            );
        }
    }

    /// AppArmor enabled, in the LSM list, with one enforced profile.
    pub fn apparmor_enabled(&self) {
        self.file("/sys/module/apparmor/parameters/enabled", "Y\n");
        self.file("/sys/kernel/security/lsm", "lockdown,capability,apparmor");
        self.file(
            "/sys/kernel/security/apparmor/profiles",
            "cri-containerd.apparmor.d (enforce)\n",
        );
    }
}
/// A named network namespace (`ip netns add`), unique to this test process, deleted on drop
/// with every process still in it. Firewall tests run iptables only inside such namespaces (or
/// under `unshare -n`), never in the host's own.
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `hn-<tag>-<pid>` with its loopback up.
    pub fn new(tag: &str) -> NetNs {
        let name = format!("hn-{tag}-{}", std::process::id());
        // A namespace left by a crashed earlier run with the same pid: start clean.
        let _ = std::process::Command::new("ip")
            .args(["netns", "delete", &name])
            .output();
        run_ok("ip", &["netns", "add", &name]);
        let ns = NetNs { name };
        ns.run_ok("ip", &["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args).output().expect("ip netns exec")
    }

    /// Runs and asserts exit 0, returning stdout.
    pub fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let output = self.run(program, args);
        assert!(
            output.status.success(),
            "{program} {args:?} in {} failed: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs the hardnode binary inside the namespace with `--root root`.
    pub fn hardnode(&self, root: &Root, args: &[&str]) -> Output {
        let binary = env!("CARGO_BIN_EXE_hardnode");
        let mut command = std::process::Command::new("ip");
        command
            .args(["netns", "exec", &self.name])
            .arg(binary)
            .args(args)
            .arg("--root")
            .arg(root.path())
            .env_remove("NO_COLOR");
        command.output().expect("run hardnode in netns")
    }

    /// `iptables-<backend> -S` (or ip6tables) lines of the filter table, comments dropped.
    pub fn rules(&self, binary: &str) -> Vec<String> {
        self.run_ok(binary, &["-w", "10", "-S"])
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Stop what tests started inside (listeners), then delete the namespace.
        if let Ok(output) = std::process::Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&output.stdout).split_whitespace() {
                if pid.parse::<u32>().is_ok() {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", pid])
                        .output();
                }
            }
        }
        let _ = std::process::Command::new("ip")
            .args(["netns", "delete", &self.name])
            .output();
    }
}

/// Runs a command in the test's own namespace (only `ip` plumbing: netns, veth), asserting exit 0.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether network namespaces can be used here (root, `ip`, the iptables binaries); in CI their
/// absence fails the test.
pub fn require_netns(test: &str) -> bool {
    require_root(test)
        && require_tool(test, "ip")
        && require_tool(test, "iptables-nft")
        && require_tool(test, "iptables-legacy")
}

// ---------------------------------------------------------------------------------------------
// The real containerd, for the differential tests (tests/containerd_live.rs, dockerd_live.rs).

const CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";

fn containerd_answers() -> bool {
    Path::new(CONTAINERD_SOCKET).exists()
        && std::process::Command::new("ctr")
            .arg("version")
            .stdin(std::process::Stdio::null())
            .output()
            .is_ok_and(|output| output.status.success())
}

/// containerd at its default socket and state paths, as on a node: started by the test unless
/// one already answers; one the test started is stopped by its pid on drop.
pub struct Containerd {
    started: Option<std::process::Child>,
}

impl Containerd {
    pub fn ensure(log_dir: &Path) -> Containerd {
        if containerd_answers() {
            return Containerd { started: None };
        }
        let log = fs::File::create(log_dir.join("containerd.log")).expect("log");
        let child = std::process::Command::new("containerd")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(log))
            .spawn()
            .expect("start containerd");
        let started = Containerd {
            started: Some(child),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !containerd_answers() {
            assert!(
                std::time::Instant::now() < deadline,
                "containerd did not answer within 30 s: {}",
                fs::read_to_string(log_dir.join("containerd.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        started
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        if let Some(child) = &mut self.started {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
