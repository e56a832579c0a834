//! The `runtime.*` rules on fixture roots: containerd config v2 and v3 (the real
//! `containerd config default` output, kubeadm's SystemdCgroup edit, imports), CRI-O with
//! drop-ins, Docker's daemon.json and dockerd flags, runtime sockets, and the service-account
//! tokens mounted into pods (whose content must never appear in any output).

mod common;

use std::os::unix::net::UnixListener;

use common::{ContainerProc, Root, container_mountinfo, result, status};

/// Every evidence source, path and detail of rule `id`, unescaped, plus its reason and actual.
fn evidence_text(report: &serde_json::Value, id: &str) -> String {
    let finding = result(report, id);
    let mut text = String::new();
    for evidence in finding["evidence"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "[{}] {} {}\n",
            evidence["source"].as_str().unwrap_or(""),
            evidence["path"].as_str().unwrap_or("-"),
            evidence["detail"].as_str().unwrap_or("")
        ));
    }
    text.push_str(finding["reason"].as_str().unwrap_or(""));
    text.push('\n');
    text.push_str(finding["actual"].as_str().unwrap_or(""));
    text
}

const V2_DEFAULT: &str = include_str!("fixtures/runtime/containerd-v2-default.toml");
const V3_DEFAULT: &str = include_str!("fixtures/runtime/containerd-v3-default.toml");
const CONFIG: &str = "/etc/containerd/config.toml";

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
        .expect("needle in fixture")
}

/// kubeadm's documented edit of the default config: SystemdCgroup = true for runc.
fn kubeadm_systemd(text: &str) -> String {
    text.replace("SystemdCgroup = false", "SystemdCgroup = true")
}

fn v3_with_systemd() -> String {
    V3_DEFAULT.replace(
        "            ShimCgroup = ''\n",
        "            ShimCgroup = ''\n            SystemdCgroup = true\n",
    )
}

/// A node running containerd and a kubelet whose config file sets `cgroupDriver`.
fn node(kubelet_driver: Option<&str>) -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.process(410, &["/usr/bin/containerd"]);
    match kubelet_driver {
        Some(driver) => {
            root.process(
                520,
                &[
                    "/usr/bin/kubelet",
                    "--config=/var/lib/kubelet/config.yaml",
                    "--kubeconfig=/etc/kubernetes/kubelet.conf",
                ],
            );
            root.file(
                "/var/lib/kubelet/config.yaml",
                format!(
                    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: {driver}\n"
                ),
            );
        }
        None => root.process(520, &["/usr/bin/kubelet"]),
    }
    root
}

fn containerd_rules(root: &Root) -> serde_json::Value {
    let (_, report) = root.check_json(&[
        "--only",
        "runtime.containerd-apparmor,runtime.containerd-seccomp,runtime.containerd-cgroup,runtime.unprivileged-ports-icmp",
    ]);
    report
}

#[test]
fn v2_default_with_kubeadm_systemd_cgroup_passes_and_names_the_lines() {
    let root = node(Some("systemd"));
    let text = kubeadm_systemd(V2_DEFAULT);
    root.file_mode(CONFIG, &text, 0o644);
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "pass");
    assert_eq!(status(&report, "runtime.containerd-seccomp"), "pass");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
    // Explicitly false in the v2 default: nothing to report.
    assert_eq!(status(&report, "runtime.unprivileged-ports-icmp"), "pass");
    let cgroup = evidence_text(&report, "runtime.containerd-cgroup");
    let line = line_of(&text, "SystemdCgroup = true");
    assert!(
        cgroup.contains(&format!(
            "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.SystemdCgroup = true at {CONFIG}:{line}"
        )),
        "{cgroup}"
    );
    assert!(cgroup.contains("cgroupDriver"), "{cgroup}");
    assert!(cgroup.contains("/var/lib/kubelet/config.yaml"), "{cgroup}");
    let apparmor = evidence_text(&report, "runtime.containerd-apparmor");
    let line = line_of(&text, "disable_apparmor = false");
    assert!(
        apparmor.contains(&format!("disable_apparmor = false at {CONFIG}:{line}")),
        "{apparmor}"
    );
}

#[test]
fn unchanged_v2_default_under_a_systemd_kubelet_is_a_mismatch_naming_both_sources() {
    let root = node(Some("systemd"));
    root.file_mode(CONFIG, V2_DEFAULT, 0o644);
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "fail");
    let finding = result(&report, "runtime.containerd-cgroup");
    let actual = finding["actual"].as_str().expect("actual");
    assert!(actual.contains("containerd: cgroupfs"), "{actual}");
    assert!(
        actual.contains("kubelet cgroupDriver = systemd"),
        "{actual}"
    );
    assert!(actual.contains("/var/lib/kubelet/config.yaml"), "{actual}");
    let line = line_of(V2_DEFAULT, "SystemdCgroup = false");
    assert!(actual.contains(&format!("{CONFIG}:{line}")), "{actual}");
}

#[test]
fn kubelet_default_cgroupfs_matches_v3_default_and_unprivileged_defaults_are_reported() {
    // A kubelet without a config file: its cgroupDriver default is cgroupfs.
    let root = node(None);
    root.file_mode(CONFIG, V3_DEFAULT, 0o644);
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "pass");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
    let cgroup = evidence_text(&report, "runtime.containerd-cgroup");
    assert!(cgroup.contains("kubelet default cgroupfs"), "{cgroup}");
    assert!(cgroup.contains("containerd's default is false"), "{cgroup}");
    // containerd 2.x's default config turns both on: advisory.
    assert_eq!(status(&report, "runtime.unprivileged-ports-icmp"), "warn");
    let unprivileged = evidence_text(&report, "runtime.unprivileged-ports-icmp");
    let line = line_of(V3_DEFAULT, "enable_unprivileged_ports = true");
    assert!(
        unprivileged.contains(&format!(
            "plugins.\"io.containerd.cri.v1.runtime\".enable_unprivileged_ports = true at {CONFIG}:{line}"
        )),
        "{unprivileged}"
    );
}

#[test]
fn v3_disable_apparmor_true_fails_with_file_key_and_line() {
    let root = node(Some("systemd"));
    let text = v3_with_systemd().replace("disable_apparmor = false", "disable_apparmor = true");
    root.file_mode(CONFIG, &text, 0o644);
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "fail");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
    let line = line_of(&text, "disable_apparmor = true");
    let evidence = evidence_text(&report, "runtime.containerd-apparmor");
    assert!(
        evidence.contains(&format!(
            "plugins.\"io.containerd.cri.v1.runtime\".disable_apparmor = true at {CONFIG}:{line}"
        )),
        "{evidence}"
    );
}

#[test]
fn imports_override_the_main_file_key_by_key_in_order() {
    let root = node(Some("systemd"));
    let main = kubeadm_systemd(V2_DEFAULT).replace(
        "imports = []",
        "imports = [\"conf.d/*.toml\", \"/etc/containerd/extra.toml\"]",
    );
    root.file_mode(CONFIG, &main, 0o644);
    // Lexical order: 10 turns AppArmor off, 20 leaves it alone, extra.toml comes after the glob.
    root.file(
        "/etc/containerd/conf.d/10-apparmor.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
    );
    root.file(
        "/etc/containerd/conf.d/20-registry.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n",
    );
    root.file(
        "/etc/containerd/extra.toml",
        "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n",
    );
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "fail");
    let evidence = evidence_text(&report, "runtime.containerd-apparmor");
    assert!(
        evidence.contains("disable_apparmor = true at /etc/containerd/conf.d/10-apparmor.toml:3"),
        "{evidence}"
    );
    let main_line = line_of(&main, "disable_apparmor = false");
    assert!(
        evidence.contains(&format!("overrides false at {CONFIG}:{main_line}")),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "/etc/containerd/config.toml + /etc/containerd/conf.d/10-apparmor.toml + /etc/containerd/conf.d/20-registry.toml + /etc/containerd/extra.toml"
        ),
        "{evidence}"
    );
    // The last import turns the systemd driver back off: a mismatch with the kubelet.
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "fail");
    let cgroup = evidence_text(&report, "runtime.containerd-cgroup");
    assert!(
        cgroup.contains("SystemdCgroup = false at /etc/containerd/extra.toml:4"),
        "{cgroup}"
    );
}

#[test]
fn a_v2_import_into_a_v3_config_is_migrated_and_a_higher_version_is_an_error() {
    let root = node(Some("systemd"));
    let main = v3_with_systemd().replace(
        "imports = []",
        "imports = ['/etc/containerd/conf.d/*.toml']",
    );
    root.file_mode(CONFIG, &main, 0o644);
    root.file(
        "/etc/containerd/conf.d/old.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
    );
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "fail");
    let evidence = evidence_text(&report, "runtime.containerd-apparmor");
    assert!(
        evidence.contains("/etc/containerd/conf.d/old.toml:3"),
        "{evidence}"
    );
    assert!(evidence.contains("migrated"), "{evidence}");

    // An import may not declare a higher version than the main file: containerd refuses it.
    let root = node(Some("systemd"));
    let main = kubeadm_systemd(V2_DEFAULT).replace("imports = []", "imports = [\"new.toml\"]");
    root.file_mode(CONFIG, &main, 0o644);
    root.file("/etc/containerd/new.toml", "version = 3\n");
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "error");
    let reason = result(&report, "runtime.containerd-apparmor")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(reason.contains("/etc/containerd/new.toml"), "{reason}");
    assert!(reason.contains("higher"), "{reason}");
}

#[test]
fn no_config_means_containerd_defaults_and_no_containerd_means_skip() {
    let root = node(None);
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "pass");
    assert_eq!(status(&report, "runtime.containerd-seccomp"), "pass");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
    let evidence = evidence_text(&report, "runtime.containerd-apparmor");
    assert!(
        evidence.contains("no config file at /etc/containerd/config.toml"),
        "{evidence}"
    );
    assert!(evidence.contains("built-in defaults"), "{evidence}");

    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "skip");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "skip");
}

#[test]
fn malformed_toml_is_an_error_naming_file_and_line() {
    let root = node(Some("systemd"));
    root.file_mode(
        CONFIG,
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = = true\n",
        0o644,
    );
    let (code, report) = root.check_json(&["--only", "runtime.containerd-apparmor"]);
    assert_eq!(code, 0, "an error is not a failure");
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "error");
    let reason = result(&report, "runtime.containerd-apparmor")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(
        reason.starts_with("/etc/containerd/config.toml:3:"),
        "{reason}"
    );
}

#[test]
fn seccomp_fallback_unconfined_or_allow_all_fails() {
    let allow_all = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]}"#;
    let allow_list = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}"#;
    for (value, expected) in [
        ("unconfined", "fail"),
        ("/etc/containerd/allow-all.json", "fail"),
        ("/etc/containerd/allow-list.json", "pass"),
        ("/etc/containerd/missing.json", "fail"),
        ("runtime/default", "pass"),
    ] {
        let root = node(None);
        root.file("/etc/containerd/allow-all.json", allow_all);
        root.file("/etc/containerd/allow-list.json", allow_list);
        let text = V2_DEFAULT.replace(
            "unset_seccomp_profile = \"\"",
            &format!("unset_seccomp_profile = \"{value}\""),
        );
        root.file_mode(CONFIG, &text, 0o644);
        let report = containerd_rules(&root);
        assert_eq!(
            status(&report, "runtime.containerd-seccomp"),
            expected,
            "{value}: {}",
            evidence_text(&report, "runtime.containerd-seccomp")
        );
        let line = line_of(&text, "unset_seccomp_profile");
        assert!(
            evidence_text(&report, "runtime.containerd-seccomp")
                .contains(&format!("{CONFIG}:{line}")),
            "{value}"
        );
    }
}

#[test]
fn crio_drop_ins_override_in_lexical_order() {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.process(610, &["/usr/bin/crio"]);
    root.file_mode(
        "/etc/crio/crio.conf",
        "[crio]\n[crio.runtime]\nselinux = false\napparmor_profile = \"crio-default\"\ndefault_capabilities = [\n  \"CHOWN\",\n  \"KILL\",\n]\n",
        0o644,
    );
    root.file_mode(
        "/etc/crio/crio.conf.d/01-unconfined.conf",
        "[crio.runtime]\napparmor_profile = \"unconfined\"\n",
        0o644,
    );
    root.file_mode(
        "/etc/crio/crio.conf.d/02-fix.conf",
        "[crio.runtime]\napparmor_profile = \"crio-default\"\nseccomp_profile = \"/etc/crio/allow-all.json\"\n",
        0o644,
    );
    root.file_mode(
        "/etc/crio/crio.conf.d/10-caps.conf",
        "[crio.runtime]\ndefault_capabilities = [\"CHOWN\", \"SYS_ADMIN\", \"NET_RAW\"]\n",
        0o666,
    );
    // CRI-O reads every file in the directory, whatever its name, subdirectories included.
    root.file_mode(
        "/etc/crio/crio.conf.d/20-site/selinux",
        "[crio.runtime]\nselinux = false\n",
        0o644,
    );
    root.file(
        "/etc/crio/allow-all.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#,
    );
    let (_, report) = root.check_json(&["--only", "runtime"]);
    assert_eq!(status(&report, "runtime.crio-apparmor"), "pass");
    let apparmor = evidence_text(&report, "runtime.crio-apparmor");
    assert!(
        apparmor.contains("crio.runtime.apparmor_profile = \"crio-default\" at /etc/crio/crio.conf.d/02-fix.conf:2"),
        "{apparmor}"
    );
    assert!(
        apparmor.contains("overrides \"unconfined\" at /etc/crio/crio.conf.d/01-unconfined.conf:2"),
        "{apparmor}"
    );
    assert_eq!(status(&report, "runtime.crio-seccomp"), "fail");
    assert_eq!(status(&report, "runtime.crio-capabilities"), "fail");
    let caps = result(&report, "runtime.crio-capabilities");
    assert_eq!(caps["actual"], "beyond the default set: SYS_ADMIN, NET_RAW");
    assert!(evidence_text(&report, "runtime.crio-capabilities").contains("10-caps.conf:2"));
    assert_eq!(status(&report, "runtime.crio-selinux"), "warn");
    assert!(
        evidence_text(&report, "runtime.crio-selinux")
            .contains("crio.runtime.selinux = false at /etc/crio/crio.conf.d/20-site/selinux:2"),
        "{}",
        evidence_text(&report, "runtime.crio-selinux")
    );
    // The world-writable drop-in is named.
    assert_eq!(status(&report, "runtime.crio-config-mode"), "fail");
    assert!(
        result(&report, "runtime.crio-config-mode")["actual"]
            .as_str()
            .is_some_and(|a| a.contains("10-caps.conf 0666"))
    );
    // No containerd or docker here.
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "skip");
    assert_eq!(status(&report, "runtime.docker-icc"), "skip");
}

#[test]
fn malformed_crio_drop_in_is_an_error() {
    let root = Root::new();
    root.process(610, &["/usr/bin/crio"]);
    root.file(
        "/etc/crio/crio.conf.d/05-bad.conf",
        "[crio.runtime\nselinux = true\n",
    );
    let (_, report) = root.check_json(&["--only", "runtime.crio-apparmor"]);
    assert_eq!(status(&report, "runtime.crio-apparmor"), "error");
    let reason = result(&report, "runtime.crio-apparmor")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(
        reason.starts_with("/etc/crio/crio.conf.d/05-bad.conf:1:"),
        "{reason}"
    );
}

const DOCKER_RULES: &str = "runtime.docker-no-new-privileges,runtime.docker-userns-remap,runtime.docker-icc,runtime.docker-live-restore,runtime.docker-seccomp,runtime.docker-insecure-registries,runtime.docker-tcp-tls";

#[test]
fn hardened_docker_daemon_json_passes() {
    let root = Root::new();
    root.process(
        700,
        &[
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "--containerd=/run/containerd/containerd.sock",
        ],
    );
    root.file_mode(
        "/etc/docker/daemon.json",
        r#"{
  "icc": false,
  "live-restore": true,
  "no-new-privileges": true,
  "userns-remap": "default",
  "log-driver": "journald"
}
"#,
        0o644,
    );
    let (code, report) = root.check_json(&["--only", DOCKER_RULES]);
    for id in DOCKER_RULES.split(',') {
        assert_eq!(
            status(&report, id),
            "pass",
            "{id}: {}",
            evidence_text(&report, id)
        );
    }
    assert_eq!(code, 0);
    assert!(
        evidence_text(&report, "runtime.docker-icc")
            .contains("icc = false at /etc/docker/daemon.json:2")
    );
    assert!(evidence_text(&report, "runtime.docker-tcp-tls").contains("--host=fd://"));
}

#[test]
fn open_tcp_docker_and_bad_daemon_json_fail_naming_flags_and_keys() {
    let root = Root::new();
    root.process(
        700,
        &[
            "/usr/bin/dockerd",
            "-H",
            "unix:///var/run/docker.sock",
            "-H",
            "tcp://0.0.0.0:2375",
            "--insecure-registry=10.0.0.5:5000",
        ],
    );
    root.file_mode(
        "/etc/docker/daemon.json",
        "{\n  \"seccomp-profile\": \"unconfined\",\n  \"insecure-registries\": [\"registry.lab:5000\"]\n}\n",
        0o664,
    );
    let (code, report) = root.check_json(&["--only", "runtime"]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "runtime.docker-tcp-tls"), "fail");
    let tcp = result(&report, "runtime.docker-tcp-tls");
    assert!(
        tcp["reason"]
            .as_str()
            .is_some_and(|r| r.contains("tcp://0.0.0.0:2375"))
    );
    assert!(evidence_text(&report, "runtime.docker-tcp-tls").contains("/proc/700/cmdline"));
    assert_eq!(status(&report, "runtime.docker-icc"), "fail");
    assert!(evidence_text(&report, "runtime.docker-icc").contains("dockerd's default is true"));
    assert_eq!(status(&report, "runtime.docker-no-new-privileges"), "fail");
    assert_eq!(status(&report, "runtime.docker-userns-remap"), "warn");
    assert_eq!(status(&report, "runtime.docker-live-restore"), "warn");
    assert_eq!(status(&report, "runtime.docker-seccomp"), "fail");
    assert!(
        evidence_text(&report, "runtime.docker-seccomp")
            .contains("seccomp-profile = \"unconfined\" at /etc/docker/daemon.json:2")
    );
    assert_eq!(
        status(&report, "runtime.docker-insecure-registries"),
        "fail"
    );
    assert_eq!(
        result(&report, "runtime.docker-insecure-registries")["actual"],
        "10.0.0.5:5000, registry.lab:5000"
    );
    assert_eq!(status(&report, "runtime.docker-config-mode"), "fail");

    // With --tlsverify the TCP listener is acceptable.
    let root = Root::new();
    root.process(
        700,
        &["/usr/bin/dockerd", "--tlsverify", "-H=tcp://0.0.0.0:2376"],
    );
    let (_, report) = root.check_json(&["--only", "runtime.docker-tcp-tls"]);
    assert_eq!(status(&report, "runtime.docker-tcp-tls"), "pass");
}

#[test]
fn malformed_daemon_json_is_an_error_with_its_line() {
    let root = Root::new();
    root.process(700, &["/usr/bin/dockerd"]);
    root.file("/etc/docker/daemon.json", "{\n  \"icc\": false,\n}\n");
    let (_, report) = root.check_json(&["--only", "runtime.docker-icc"]);
    assert_eq!(status(&report, "runtime.docker-icc"), "error");
    let reason = result(&report, "runtime.docker-icc")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(reason.starts_with("/etc/docker/daemon.json:3:"), "{reason}");
}

#[test]
fn runtime_sockets_world_accessible_fail_and_tight_ones_pass() {
    let root = Root::new();
    root.dir("/run/containerd");
    root.dir("/var/run/crio");
    let _containerd =
        UnixListener::bind(root.real("/run/containerd/containerd.sock")).expect("bind");
    let _crio = UnixListener::bind(root.real("/var/run/crio/crio.sock")).expect("bind");
    root.chmod("/run/containerd/containerd.sock", 0o660);
    root.chmod("/var/run/crio/crio.sock", 0o666);
    let (_, report) = root.check_json(&["--only", "runtime.socket-mode"]);
    assert_eq!(status(&report, "runtime.socket-mode"), "fail");
    let actual = result(&report, "runtime.socket-mode")["actual"]
        .as_str()
        .expect("actual")
        .to_string();
    assert_eq!(actual, "/var/run/crio/crio.sock 0666");

    root.chmod("/var/run/crio/crio.sock", 0o600);
    let (_, report) = root.check_json(&["--only", "runtime.socket-mode"]);
    assert_eq!(status(&report, "runtime.socket-mode"), "pass");

    let root = Root::new();
    let (_, report) = root.check_json(&["--only", "runtime.socket-mode"]);
    assert_eq!(status(&report, "runtime.socket-mode"), "skip");
}

#[test]
fn socket_owner_accepts_the_docker_group() {
    if !common::require_root("socket_owner_accepts_the_docker_group") {
        return;
    }
    let root = Root::new();
    root.file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    );
    root.file(
        "/etc/group",
        "root:x:0:\ndocker:x:998:alice\nalice:x:1000:\n",
    );
    root.dir("/var/run");
    let _docker = UnixListener::bind(root.real("/var/run/docker.sock")).expect("bind");
    root.chown("/var/run/docker.sock", 0, 998);
    let (_, report) = root.check_json(&["--only", "runtime.socket-owner"]);
    assert_eq!(status(&report, "runtime.socket-owner"), "pass");
    root.chown("/var/run/docker.sock", 1000, 1000);
    let (_, report) = root.check_json(&["--only", "runtime.socket-owner"]);
    assert_eq!(status(&report, "runtime.socket-owner"), "fail");
    assert_eq!(
        result(&report, "runtime.socket-owner")["actual"],
        "/var/run/docker.sock alice:alice"
    );
}

const FAKE_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.FAKE-TOKEN-must-never-be-printed.c2lnbmF0dXJl";
const POD_WITH_PROJECTED: &str = "7a1b2c3d-0000-4000-8000-000000000001";
const POD_WITH_SECRET: &str = "7a1b2c3d-0000-4000-8000-000000000002";
const POD_WITHOUT: &str = "7a1b2c3d-0000-4000-8000-000000000003";

fn token_node() -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.host_init();
    // A projected kube-api-access volume, laid out as the kubelet writes it (..data symlink).
    let volume = format!(
        "/var/lib/kubelet/pods/{POD_WITH_PROJECTED}/volumes/kubernetes.io~projected/kube-api-access-x7k2p"
    );
    root.file(
        &format!("{volume}/..2024_01_01_00_00_00.000/token"),
        FAKE_TOKEN,
    );
    root.file(
        &format!("{volume}/..2024_01_01_00_00_00.000/ca.crt"),
        "CERT",
    );
    root.symlink("..2024_01_01_00_00_00.000", &format!("{volume}/..data"));
    root.symlink("..data/token", &format!("{volume}/token"));
    root.pod_logs("shop", "web-7d4b9", POD_WITH_PROJECTED, &["nginx"]);
    // A legacy token secret.
    root.file(
        &format!(
            "/var/lib/kubelet/pods/{POD_WITH_SECRET}/volumes/kubernetes.io~secret/default-token-abcde/token"
        ),
        FAKE_TOKEN,
    );
    root.pod_logs("legacy", "old-app", POD_WITH_SECRET, &["app"]);
    // A pod with only a configmap projected volume: no token.
    root.file(
        &format!(
            "/var/lib/kubelet/pods/{POD_WITHOUT}/volumes/kubernetes.io~projected/config/app.yaml"
        ),
        "a: 1",
    );
    root.pod_logs("tools", "no-token", POD_WITHOUT, &["tool"]);
    // The nginx container, with the token mounted where the kubelet puts it.
    let cgroup = format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{}.scope\n",
        POD_WITH_PROJECTED.replace('-', "_"),
        "ab".repeat(32)
    );
    let mount = format!(
        "507 500 8:2 /var/lib/kubelet/pods/{POD_WITH_PROJECTED}/volumes/kubernetes.io~projected/kube-api-access-x7k2p /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - ext4 /dev/sda2 rw\n"
    );
    root.container_process(
        1001,
        &ContainerProc {
            mountinfo: container_mountinfo(true, &mount),
            ..ContainerProc::confined("nginx", &cgroup)
        },
    );
    root.containerd_record(&"ab".repeat(32), "shop", "web-7d4b9", "nginx");
    root
}

#[test]
fn pods_with_api_tokens_are_listed_and_the_token_never_printed() {
    let root = token_node();
    let (code, report) = root.check_json(&["--only", "containers.service-account-token"]);
    assert_eq!(code, 0, "advisory");
    assert_eq!(status(&report, "containers.service-account-token"), "warn");
    let finding = result(&report, "containers.service-account-token");
    assert_eq!(
        finding["actual"],
        "2 pods with an API token: shop/web-7d4b9, legacy/old-app"
    );
    let evidence = evidence_text(&report, "containers.service-account-token");
    assert!(evidence.contains("kube-api-access-x7k2p"), "{evidence}");
    assert!(evidence.contains("default-token-abcde"), "{evidence}");
    assert!(
        evidence.contains(
            "shop/web-7d4b9/nginx: /var/run/secrets/kubernetes.io/serviceaccount is mounted"
        ),
        "{evidence}"
    );
    assert!(!evidence.contains("no-token"), "{evidence}");
    assert!(
        finding["reason"]
            .as_str()
            .is_some_and(|r| r.contains("firewall"))
    );

    // The token's content appears in no output: JSON, text, facts.
    let mut outputs = vec![report.to_string()];
    for args in [
        &["check", "--only", "runtime", "--format", "text"][..],
        &["check", "--only", "runtime", "--format", "json"][..],
        &["facts", "--only", "runtime"][..],
        &["facts"][..],
    ] {
        let output = root.hardnode(args).output().expect("run hardnode");
        outputs.push(String::from_utf8_lossy(&output.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    assert!(
        outputs[5].contains("kube-api-access-x7k2p"),
        "facts list the volume"
    );
    for output in outputs {
        assert!(!output.contains("FAKE-TOKEN"), "token leaked: {output}");
    }
}

#[test]
fn a_node_without_tokens_passes() {
    let root = Root::new();
    root.host_init();
    root.dir("/var/lib/kubelet/pods");
    let (_, report) = root.check_json(&["--only", "containers.service-account-token"]);
    assert_eq!(status(&report, "containers.service-account-token"), "pass");

    // A pod whose volume directory cannot be listed: undecided, not a pass.
    root.file(
        &format!("/var/lib/kubelet/pods/{POD_WITHOUT}/volumes/kubernetes.io~projected"),
        "not a directory",
    );
    let (_, report) = root.check_json(&["--only", "containers.service-account-token"]);
    assert_eq!(status(&report, "containers.service-account-token"), "error");
    assert!(
        result(&report, "containers.service-account-token")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("kubernetes.io~projected is not a directory")),
        "{report:#}"
    );

    // No kubelet pod directory at all, and no pod container: nothing to examine.
    let root = Root::new();
    root.host_init();
    let (_, report) = root.check_json(&["--only", "containers.service-account-token"]);
    assert_eq!(status(&report, "containers.service-account-token"), "skip");
}

/// Regression: with no pod directory at the default path, the rule said "no pods run on this
/// node" while pods' containers ran (their kubelet uses another --root-dir): undecided, saying so.
#[test]
fn no_pod_directory_while_pod_containers_run_is_not_no_pods() {
    let root = Root::new();
    root.host_init();
    let id = "ab".repeat(32);
    root.container_process(
        700,
        &ContainerProc::confined(
            "web",
            &format!("12:pids:/kubepods/besteffort/pod0d8a3f7e-1c2b-4d5e-9f60-7a8b9c0d1e2f/{id}\n"),
        ),
    );
    let (_, report) = root.check_json(&["--only", "containers.service-account-token"]);
    assert_eq!(status(&report, "containers.service-account-token"), "error");
    let reason = result(&report, "containers.service-account-token")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reason.contains("1 pod container(s) run"), "{reason}");
    assert!(!reason.contains("no pods run"), "{reason}");
}

#[test]
fn config_flags_of_both_daemons_are_followed_and_import_cycles_end() {
    let root = Root::new();
    root.process(
        410,
        &[
            "/usr/bin/containerd",
            "--config",
            "/opt/containerd/main.toml",
        ],
    );
    root.process(
        520,
        &["/usr/bin/kubelet", "--cgroup-driver=systemd", "--v=2"],
    );
    // main imports part.toml, which imports main again: each file is read once.
    root.file(
        "/opt/containerd/main.toml",
        "version = 3\nimports = [\"part.toml\"]\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
    );
    root.file(
        "/opt/containerd/part.toml",
        "version = 3\nimports = [\"/opt/containerd/main.toml\"]\n",
    );
    // The default path exists too, but containerd does not read it.
    root.file(
        CONFIG,
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
    );
    let report = containerd_rules(&root);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "pass");
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
    let evidence = evidence_text(&report, "runtime.containerd-cgroup");
    assert!(
        evidence.contains("--config of containerd (pid 410)"),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "config /opt/containerd/main.toml + /opt/containerd/part.toml (--config of containerd (pid 410)), version 3"
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains("[flag] /proc/520/cmdline kubelet --cgroup-driver=systemd"),
        "{evidence}"
    );
}

#[test]
fn token_finding_says_whether_the_apiserver_firewall_is_in_place() {
    if !common::require_netns("token_finding_says_whether_the_apiserver_firewall_is_in_place") {
        return;
    }
    let ns = common::NetNs::new("tok");
    let root = token_node();
    // PID 1 of the fixture in the namespace hardnode runs in, so the firewall it lists is the
    // "host's" (else the rule says, rightly, that it is not).
    let own = ns.run_ok("readlink", &["/proc/self/ns/net"]);
    let _ = std::fs::remove_file(root.real("/proc/1/ns/net"));
    root.symlink(own.trim(), "/proc/1/ns/net");
    root.file(
        "/etc/hardnode/config.toml",
        "[firewall]\ncontainer_cidrs = [\"10.244.0.0/16\"]\napiservers = [\"192.0.2.10:6443\"]\nmode = \"forward\"\n",
    );
    let run = || {
        let output = ns.hardnode(
            &root,
            &[
                "check",
                "--format",
                "json",
                "--only",
                "containers.service-account-token",
            ],
        );
        common::json(&output)
    };
    let report = run();
    let reason = result(&report, "containers.service-account-token")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(reason.contains("firewall is NOT in place"), "{reason}");
    assert!(reason.contains("can reach the API server"), "{reason}");

    let output = ns.hardnode(&root, &["firewall", "apply", "--format", "json"]);
    assert_eq!(
        common::code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = run();
    assert_eq!(status(&report, "containers.service-account-token"), "warn");
    let reason = result(&report, "containers.service-account-token")["reason"]
        .as_str()
        .expect("reason")
        .to_string();
    assert!(reason.contains("firewall is in place"), "{reason}");
    assert!(!report.to_string().contains("FAKE-TOKEN"));
}

/// The sockets of distributions' own containerd — k3s/RKE2 (`/run/k3s/containerd`) and MicroK8s
/// (`/var/snap/microk8s/common/run`) — are judged like the default one.
#[test]
fn distribution_containerd_sockets_are_judged_too() {
    let root = Root::new();
    root.dir("/var/snap/microk8s/common/run");
    let _microk8s = UnixListener::bind(root.real("/var/snap/microk8s/common/run/containerd.sock"))
        .expect("bind");
    root.chmod("/var/snap/microk8s/common/run/containerd.sock", 0o666);
    let (_, report) = root.check_json(&["--only", "runtime.socket-mode"]);
    assert_eq!(status(&report, "runtime.socket-mode"), "fail");
    assert_eq!(
        result(&report, "runtime.socket-mode")["actual"],
        "/var/snap/microk8s/common/run/containerd.sock 0666"
    );
}
