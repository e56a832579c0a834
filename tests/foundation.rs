//! The `hardnode check` pipeline on fixture roots: kernel seccomp/AppArmor support, AppArmor
//! state and profiles, seccomp profiles — for a hardened node, a weak one, a kernel without
//! AppArmor, an unreadable root, and hostile inputs.

mod common;

use common::{
    Root, code, evidence_text, json, repo_file, require_root, require_tool, result, status,
};

const RELEASE: &str = "5.15.0-105-generic";

/// The head of a real Ubuntu 22.04 kernel config, with the options the rules read.
fn ubuntu_kernel_config(seccomp: &str, filter: &str, apparmor: &str) -> String {
    let line = |name: &str, value: &str| {
        if value == "n" {
            format!("# {name} is not set\n")
        } else {
            format!("{name}={value}\n")
        }
    };
    format!(
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 5.15.0-105-generic Kernel Configuration\n#\n\
         CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-11 (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0\"\n\
         CONFIG_CC_IS_GCC=y\nCONFIG_LOCALVERSION=\"\"\n# CONFIG_LOCALVERSION_AUTO is not set\n\
         CONFIG_HAVE_ARCH_SECCOMP=y\nCONFIG_HAVE_ARCH_SECCOMP_FILTER=y\n{}{}# CONFIG_SECCOMP_CACHE_DEBUG is not set\n\
         CONFIG_SECURITY=y\nCONFIG_SECURITY_SELINUX=y\n{}CONFIG_SECURITY_APPARMOR_HASH=y\n\
         CONFIG_LSM=\"landlock,lockdown,yama,integrity,apparmor\"\n",
        line("CONFIG_SECCOMP", seccomp),
        line("CONFIG_SECCOMP_FILTER", filter),
        line("CONFIG_SECURITY_APPARMOR", apparmor),
    )
}

/// The profile list of an Ubuntu 22.04 kubeadm node with containerd (as apparmor_status reads it).
const UBUNTU_PROFILES: &str = "\
/usr/sbin/tcpdump (enforce)
/usr/lib/snapd/snap-confine (enforce)
/usr/lib/snapd/snap-confine//mount-namespace-capture-helper (enforce)
/usr/lib/NetworkManager/nm-dhcp-client.action (enforce)
/usr/bin/man (enforce)
man_filter (enforce)
man_groff (enforce)
lsb_release (enforce)
nvidia_modprobe (enforce)
nvidia_modprobe//kmod (enforce)
cri-containerd.apparmor.d (enforce)
snap.lxd.activate (enforce)
k8s-deny-write (enforce)
";

fn copy_example_profiles(root: &Root) {
    for name in ["audit", "violation", "fine-grained"] {
        let text = std::fs::read(repo_file(&format!("examples/seccomp/profiles/{name}.json")))
            .expect("example");
        root.file(
            &format!("/var/lib/kubelet/seccomp/profiles/{name}.json"),
            text,
        );
    }
}

fn hardened_node() -> Root {
    let root = Root::new();
    root.identity("node1", RELEASE, "Ubuntu 22.04.4 LTS");
    root.file(
        &format!("/boot/config-{RELEASE}"),
        ubuntu_kernel_config("y", "y", "y"),
    );
    root.file("/sys/module/apparmor/parameters/enabled", "Y\n");
    root.file(
        "/sys/kernel/security/lsm",
        "lockdown,capability,landlock,yama,apparmor",
    );
    root.file("/sys/kernel/security/apparmor/profiles", UBUNTU_PROFILES);
    root.file(
        "/proc/1/status",
        "Name:\tsystemd\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n",
    );
    copy_example_profiles(&root);
    root.file(
        "/etc/hardnode/config.toml",
        "[apparmor]\nrequired_profiles = [\"k8s-deny-write\"]\n\n[seccomp]\nrequired_profiles = [\"profiles/fine-grained.json\"]\n",
    );
    root
}

fn weak_node() -> Root {
    let root = Root::new();
    root.identity("weak1", RELEASE, "Ubuntu 22.04.4 LTS");
    root.gzip("/proc/config.gz", ubuntu_kernel_config("n", "n", "y"));
    root.file("/sys/module/apparmor/parameters/enabled", "N\n");
    root.file(
        "/sys/kernel/security/lsm",
        "lockdown,capability,landlock,yama",
    );
    root.file(
        "/sys/kernel/security/apparmor/profiles",
        UBUNTU_PROFILES.replace("k8s-deny-write (enforce)", "k8s-deny-write (complain)"),
    );
    root.file(
        "/var/lib/kubelet/seccomp/profiles/broken.json",
        "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", ",
    );
    root.file(
        "/var/lib/kubelet/seccomp/profiles/chmod.json",
        std::fs::read(repo_file("examples/seccomp/profiles/chmod.json")).expect("example"),
    );
    root.file(
        "/etc/hardnode/config.toml",
        "[apparmor]\nrequired_profiles = [\"k8s-deny-write\"]\n",
    );
    root
}

#[test]
fn hardened_node_passes_everything() {
    let root = hardened_node();
    let (exit, report) = root.check_json(&[]);
    for id in [
        "kernel.seccomp",
        "kernel.seccomp-filter",
        "kernel.apparmor",
        "apparmor.enabled",
        "apparmor.profiles",
        "seccomp.profiles",
    ] {
        assert_eq!(
            status(&report, id),
            "pass",
            "{id}: {:#}",
            result(&report, id)
        );
    }
    assert_eq!(exit, 0);
    assert_eq!(report["summary"]["pass"], 6);
    assert_eq!(report["host"]["hostname"], "node1");
    assert_eq!(report["host"]["os"], "Ubuntu 22.04.4 LTS");
    assert_eq!(report["host"]["kernel"], RELEASE);
    // Evidence names where each value came from.
    assert!(evidence_text(&report, "kernel.seccomp").contains(&format!("/boot/config-{RELEASE}")));
    assert!(
        evidence_text(&report, "apparmor.profiles")
            .contains("13 profiles loaded: 13 enforce, 0 complain, 0 other")
    );
    assert!(
        evidence_text(&report, "seccomp.profiles")
            .contains("/var/lib/kubelet/seccomp\" \"3 profiles: 3 allow-list")
    );
}

#[test]
fn weak_node_fails_with_reasons() {
    let root = weak_node();
    let (exit, report) = root.check_json(&[]);
    assert_eq!(exit, 1);
    assert_eq!(status(&report, "kernel.seccomp"), "fail");
    assert!(evidence_text(&report, "kernel.seccomp").contains("/proc/config.gz"));
    assert!(evidence_text(&report, "kernel.seccomp").contains("CONFIG_SECCOMP is not set"));
    assert_eq!(status(&report, "kernel.seccomp-filter"), "fail");
    assert_eq!(status(&report, "kernel.apparmor"), "pass");
    assert_eq!(status(&report, "apparmor.enabled"), "fail");
    assert!(evidence_text(&report, "apparmor.enabled").contains("enabled = N"));
    assert_eq!(status(&report, "apparmor.profiles"), "fail");
    assert!(
        result(&report, "apparmor.profiles")["actual"]
            .as_str()
            .is_some_and(|a| a.contains("k8s-deny-write is loaded in complain mode"))
    );
    assert_eq!(status(&report, "seccomp.profiles"), "fail");
    let evidence = evidence_text(&report, "seccomp.profiles");
    assert!(evidence.contains("profiles/broken.json"), "{evidence}");
    assert!(evidence.contains("not valid JSON"), "{evidence}");
    assert!(evidence.contains("profiles/chmod.json"), "{evidence}");
    assert!(evidence.contains("deny-list"), "{evidence}");
    // The remediation names this host's real directory.
    assert!(
        result(&report, "seccomp.profiles")["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("/var/lib/kubelet/seccomp"))
    );
}

#[test]
fn deny_list_alone_is_a_warning() {
    let root = hardened_node();
    root.file(
        "/var/lib/kubelet/seccomp/profiles/chmod.json",
        std::fs::read(repo_file("examples/seccomp/profiles/chmod.json")).expect("example"),
    );
    let (exit, report) = root.check_json(&["--only", "seccomp"]);
    assert_eq!(status(&report, "seccomp.profiles"), "warn");
    assert!(evidence_text(&report, "seccomp.profiles").contains("chmod.json"));
    assert_eq!(exit, 0);
    let (exit, _) = root.check_json(&["--only", "seccomp", "--fail-on", "warn"]);
    assert_eq!(exit, 1);
}

#[test]
fn kernel_without_apparmor_fails_with_a_clear_reason() {
    let root = Root::new();
    root.identity("node2", RELEASE, "Ubuntu 22.04.4 LTS");
    root.file(
        &format!("/lib/modules/{RELEASE}/config"),
        ubuntu_kernel_config("y", "y", "n"),
    );
    // A mounted sysfs without /sys/module/apparmor (without any sysfs the rule cannot tell: see
    // tests/sysfs_missing.rs).
    root.dir("/sys/kernel");
    root.dir("/sys/module/overlay");
    let (_, report) = root.check_json(&[]);
    assert_eq!(status(&report, "apparmor.enabled"), "fail");
    assert_eq!(
        result(&report, "apparmor.enabled")["reason"],
        "AppArmor is not available in this kernel"
    );
    assert_eq!(status(&report, "kernel.apparmor"), "warn", "unscored rule");
    assert_eq!(status(&report, "kernel.seccomp"), "pass");
    assert!(
        evidence_text(&report, "kernel.seccomp")
            .contains(&format!("/lib/modules/{RELEASE}/config"))
    );
    // No required profiles: nothing enforced is a warning, not an error.
    assert_eq!(status(&report, "apparmor.profiles"), "warn");
    assert_eq!(status(&report, "seccomp.profiles"), "skip");
    assert!(
        result(&report, "seccomp.profiles")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("/var/lib/kubelet/seccomp"))
    );
}

#[test]
fn proc_status_stands_in_for_a_missing_kernel_config() {
    let root = Root::new();
    root.identity("node3", RELEASE, "Ubuntu 22.04.4 LTS");
    root.file("/proc/1/status", "Name:\tsystemd\nSeccomp:\t0\n");
    let (_, report) = root.check_json(&["--only", "kernel"]);
    assert_eq!(status(&report, "kernel.seccomp"), "pass");
    let evidence = evidence_text(&report, "kernel.seccomp");
    assert!(evidence.contains("/proc/1/status"), "{evidence}");
    assert!(
        evidence.contains(&format!("/boot/config-{RELEASE} does not exist")),
        "{evidence}"
    );
    // No `Seccomp_filters:` line: the kernel lacks filter support.
    assert_eq!(status(&report, "kernel.seccomp-filter"), "fail");
    // CONFIG_SECURITY_APPARMOR has no stand-in: the tool cannot tell.
    assert_eq!(status(&report, "kernel.apparmor"), "error");
    let reason = result(&report, "kernel.apparmor")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for tried in [
        format!("/boot/config-{RELEASE}"),
        "/proc/config.gz".into(),
        format!("/lib/modules/{RELEASE}/config"),
    ] {
        assert!(reason.contains(&tried), "{reason}");
    }
}

#[test]
fn nothing_readable_at_all_is_error_with_every_path_tried() {
    let root = Root::new();
    let (exit, report) = root.check_json(&["--only", "kernel.seccomp"]);
    assert_eq!(exit, 0, "error is not fail");
    assert_eq!(status(&report, "kernel.seccomp"), "error");
    let reason = result(&report, "kernel.seccomp")["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("/proc/config.gz does not exist"),
        "{reason}"
    );
    assert!(reason.contains("/proc/1/status"), "{reason}");
    assert!(report["host"]["hostname"].is_null());
}

#[test]
fn unusable_kernel_configs_are_passed_over_and_named() {
    for (label, setup) in [
        (
            "directory",
            Box::new(|root: &Root| {
                root.dir(&format!("/boot/config-{RELEASE}"));
            }) as Box<dyn Fn(&Root)>,
        ),
        (
            "binary",
            Box::new(|root: &Root| {
                root.file(
                    &format!("/boot/config-{RELEASE}"),
                    b"\x7fELF\x02\x01\x01\x00\x00",
                );
            }),
        ),
        (
            "empty",
            Box::new(|root: &Root| {
                root.file(&format!("/boot/config-{RELEASE}"), "");
            }),
        ),
        (
            "huge",
            Box::new(|root: &Root| {
                root.file(
                    &format!("/boot/config-{RELEASE}"),
                    vec![b'#'; 5 * 1024 * 1024],
                );
            }),
        ),
    ] {
        let root = Root::new();
        root.identity("n", RELEASE, "Ubuntu");
        setup(&root);
        root.gzip("/proc/config.gz", ubuntu_kernel_config("y", "n", "y"));
        let (_, report) = root.check_json(&["--only", "kernel"]);
        assert_eq!(status(&report, "kernel.seccomp"), "pass", "{label}");
        assert_eq!(status(&report, "kernel.seccomp-filter"), "fail", "{label}");
        assert!(
            evidence_text(&report, "kernel.seccomp").contains("/proc/config.gz"),
            "{label}"
        );

        // With nothing else to fall back on, the reason says what was wrong with the file.
        std::fs::remove_file(root.real("/proc/config.gz")).expect("rm");
        let (_, report) = root.check_json(&["--only", "kernel.apparmor"]);
        assert_eq!(status(&report, "kernel.apparmor"), "error", "{label}");
        let reason = result(&report, "kernel.apparmor")["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let expected = match label {
            "directory" => "is a directory",
            "binary" => "is binary",
            "empty" => "is empty",
            _ => "read cap",
        };
        assert!(reason.contains(expected), "{label}: {reason}");
    }
}

#[test]
fn hostile_seccomp_files_fail_with_reasons() {
    let root = hardened_node();
    let dir = "/var/lib/kubelet/seccomp/profiles";
    root.file(&format!("{dir}/notjson.json"), "this is not json");
    root.dir(&format!("{dir}/adir.json"));
    root.symlink("loop2.json", &format!("{dir}/loop1.json"));
    root.symlink("loop1.json", &format!("{dir}/loop2.json"));
    root.file(&format!("{dir}/badname.json"), r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","frobnicate"],"action":"SCMP_ACT_ALLOW"}]}"#);
    root.file(&format!("{dir}/README"), "not a profile: ignored");
    let (exit, report) = root.check_json(&["--only", "seccomp"]);
    assert_eq!(exit, 1);
    assert_eq!(status(&report, "seccomp.profiles"), "fail");
    let evidence = evidence_text(&report, "seccomp.profiles");
    for expected in [
        "notjson.json",
        "not valid JSON",
        "adir.json",
        "is a directory",
        "loop1.json",
        "symbolic links",
        "$.syscalls[0].names[1]",
        "frobnicate",
    ] {
        assert!(
            evidence.contains(expected),
            "{expected} missing from {evidence}"
        );
    }
    assert!(!evidence.contains("README"));
}

#[test]
fn required_seccomp_profile_missing_fails() {
    let root = hardened_node();
    root.file(
        "/etc/hardnode/config.toml",
        "[seccomp]\nrequired_profiles = [\"profiles/nope.json\"]\n",
    );
    let (_, report) = root.check_json(&["--only", "seccomp.profiles"]);
    assert_eq!(status(&report, "seccomp.profiles"), "fail");
    assert!(evidence_text(&report, "seccomp.profiles").contains("profiles/nope.json"));
}

#[test]
fn odd_profile_lines_are_shown_not_fatal() {
    let root = hardened_node();
    root.file(
        "/sys/kernel/security/apparmor/profiles",
        format!("{UBUNTU_PROFILES}garbage without mode\n/snap/bin/my app (x) (complain)\n"),
    );
    let (_, report) = root.check_json(&["--only", "apparmor"]);
    assert_eq!(status(&report, "apparmor.profiles"), "pass");
    let evidence = evidence_text(&report, "apparmor.profiles");
    assert!(
        evidence.contains("14 profiles loaded: 13 enforce, 1 complain"),
        "{evidence}"
    );
    assert!(evidence.contains("garbage without mode"), "{evidence}");
}

#[test]
fn missing_root_is_exit_3_with_the_path() {
    let output = common::hardnode()
        .args(["check", "--root", "/nonexistent/hardnode-root"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 3);
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/hardnode-root"));
    assert!(output.stdout.is_empty());
}

#[test]
fn malformed_site_config_is_exit_2_naming_file_line_and_key() {
    let root = hardened_node();
    root.file(
        "/etc/hardnode/config.toml",
        "[apparmor]\nrequired_profiles = [\"a\"]\nrequierd = true\n",
    );
    let output = root.hardnode(&["check"]).output().expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/etc/hardnode/config.toml"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("requierd"), "{stderr}");

    let explicit = root.file("/tmp/site.toml", "[seccomp\nprofile_dir = 1\n");
    let output = root
        .hardnode(&["check", "--config", explicit.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("site.toml") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn malformed_benchmark_is_exit_2_naming_file_line_and_rule() {
    let root = hardened_node();
    let file = root.file(
        "/tmp/extra.toml",
        "[[rule]]\nid = \"kernel.bpf\"\ntitle = \"t\"\nseverity = \"low\"\nscored = false\nprobe = { kernal_config = \"CONFIG_BPF\" }\nexpect = { eq = \"y\" }\nremediation = \"r\"\n",
    );
    let output = root
        .hardnode(&["check", "--benchmark", file.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in ["extra.toml", "line 6", "kernel.bpf", "kernal_config"] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let file = root.file("/tmp/broken.toml", "[[rule]\nid = 1\n");
    let output = root
        .hardnode(&["check", "--benchmark", file.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.toml"));
}

#[test]
fn benchmark_file_adds_and_overrides_rules() {
    let root = hardened_node();
    let file = root.file(
        "/tmp/extra.toml",
        "[[rule]]\nid = \"kernel.seccomp\"\ntitle = \"overridden\"\nseverity = \"low\"\nscored = true\nprobe = { kernel_config = \"CONFIG_SECCOMP\" }\nexpect = { eq = \"m\" }\nremediation = \"r\"\n\n\
         [[rule]]\nid = \"kernel.selinux\"\ntitle = \"SELinux built\"\nseverity = \"low\"\nscored = true\nprobe = { kernel_config = \"CONFIG_SECURITY_SELINUX\" }\nexpect = { eq = \"y\" }\nremediation = \"r\"\n",
    );
    let (exit, report) = root.check_json(&[
        "--only",
        "kernel",
        "--benchmark",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(exit, 1);
    assert_eq!(result(&report, "kernel.seccomp")["title"], "overridden");
    assert_eq!(status(&report, "kernel.seccomp"), "fail");
    assert_eq!(status(&report, "kernel.selinux"), "pass");
}

#[test]
fn only_and_skip_select_by_id_section_and_report_skips() {
    let root = hardened_node();
    let (_, report) = root.check_json(&[
        "--only",
        "apparmor,kernel.seccomp",
        "--skip",
        "apparmor.profiles",
    ]);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["kernel.seccomp", "apparmor.enabled", "apparmor.profiles"]
    );
    assert_eq!(status(&report, "apparmor.profiles"), "skip");
    assert!(
        result(&report, "apparmor.profiles")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("--skip apparmor.profiles"))
    );

    let output = root
        .hardnode(&["check", "--only", "kernal"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("kernal"));
}

#[test]
fn only_kernel_reads_no_apparmor_or_seccomp_facts() {
    let root = hardened_node();
    let output = root
        .hardnode(&["facts", "--only", "kernel"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let facts = json(&output);
    assert!(facts.get("kernel").is_some());
    assert!(facts.get("apparmor").is_none());
    assert!(facts.get("seccomp_profiles").is_none());
    assert_eq!(facts["kernel"]["options"]["CONFIG_SECCOMP"], "y");
}

#[test]
fn text_report_fits_80_columns_and_output_file_is_written() {
    let root = weak_node();
    let output = root
        // The foundation's six rules: later rule families must not change this count.
        .hardnode(&[
            "check",
            "--color",
            "never",
            "--only",
            "kernel,apparmor,seccomp",
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    // Every line fits 80 columns, unless it is one unbreakable word (a long path).
    let full = String::from_utf8(output.stdout).expect("utf8");
    for line in full.lines() {
        assert!(
            line.chars().count() <= 80 || !line.trim().contains(' '),
            "too wide: {line:?}"
        );
    }
    let output = root
        .hardnode(&[
            "check",
            "--color",
            "never",
            "--only",
            "kernel,apparmor,seccomp",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8(output.stdout).expect("utf8");
    assert!(text.contains("FAIL  kernel.seccomp"));
    assert!(text.contains("Remediation"));
    assert!(
        text.contains("6 rules: 1 pass, 5 fail, 0 warn, 0 skip, 0 error"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes with --color never"
    );

    let colored = root
        .hardnode(&["check", "--color", "always"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&colored.stdout).contains('\u{1b}'));

    let out = root.real("/tmp/report.json");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let output = root
        .hardnode(&[
            "check",
            "--format",
            "json",
            "--only",
            "kernel,apparmor,seccomp",
            "--output",
            out.to_str().expect("utf8"),
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    assert!(output.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("report written")).expect("json");
    assert_eq!(written["schema"], "hardnode.report/v1");
    assert_eq!(written["summary"]["fail"], 5);
}

#[test]
fn json_report_has_the_v1_shape() {
    let root = weak_node();
    let (_, report) = root.check_json(&[]);
    for key in ["schema", "tool", "host", "benchmark", "results", "summary"] {
        assert!(report.get(key).is_some(), "{key}");
    }
    assert_eq!(report["tool"]["name"], "hardnode");
    assert_eq!(report["benchmark"]["cis"], "1.12");
    let finding = result(&report, "kernel.seccomp");
    for key in [
        "id",
        "cis",
        "section",
        "title",
        "severity",
        "scored",
        "status",
        "expected",
        "actual",
        "evidence",
        "remediation",
    ] {
        assert!(finding.get(key).is_some(), "{key} in {finding:#}");
    }
    assert_eq!(finding["section"], "kernel");
    assert_eq!(finding["expected"], "y");
    assert_eq!(finding["actual"], "not set");
    assert_eq!(finding["evidence"][0]["source"], "kernel-config");
    assert_eq!(finding["evidence"][0]["path"], "/proc/config.gz");
    let summary = &report["summary"];
    let total: u64 = ["pass", "fail", "warn", "skip", "error"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        total as usize,
        report["results"].as_array().map_or(0, Vec::len)
    );
}

#[test]
fn non_root_run_reports_what_it_cannot_read() {
    if !require_root("non_root_run_reports_what_it_cannot_read")
        || !require_tool("non_root", "setpriv")
    {
        return;
    }
    let root = hardened_node();
    root.chmod(&format!("/boot/config-{RELEASE}"), 0o600);
    root.chmod("/sys/kernel/security/apparmor/profiles", 0o600);
    root.chmod("/var/lib/kubelet/seccomp/profiles/fine-grained.json", 0o600);
    for dir in [
        "/proc",
        "/proc/sys",
        "/proc/sys/kernel",
        "/sys",
        "/sys/module",
        "/sys/module/apparmor",
        "/sys/module/apparmor/parameters",
        "/sys/kernel",
        "/sys/kernel/security",
        "/sys/kernel/security/apparmor",
        "/boot",
        "/var",
        "/var/lib",
        "/var/lib/kubelet",
        "/var/lib/kubelet/seccomp",
        "/var/lib/kubelet/seccomp/profiles",
        "/etc",
        "/etc/hardnode",
    ] {
        root.chmod(dir, 0o755);
    }
    for file in [
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/osrelease",
        "/etc/os-release",
        "/proc/1/status",
        "/sys/module/apparmor/parameters/enabled",
        "/sys/kernel/security/lsm",
        "/etc/hardnode/config.toml",
        "/var/lib/kubelet/seccomp/profiles/audit.json",
        "/var/lib/kubelet/seccomp/profiles/violation.json",
    ] {
        root.chmod(file, 0o644);
    }
    let binary = assert_cmd::cargo::cargo_bin("hardnode");
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(binary)
        .args(["check", "--format", "json", "--root"])
        .arg(root.path())
        .output()
        .expect("run setpriv");
    let report = json(&output);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The kernel config is root-only, but /proc/1/status answers for seccomp.
    assert_eq!(status(&report, "kernel.seccomp"), "pass");
    assert!(evidence_text(&report, "kernel.seccomp").contains("permission denied"));
    assert_eq!(status(&report, "kernel.apparmor"), "error");
    assert_eq!(status(&report, "apparmor.enabled"), "pass");
    assert_eq!(status(&report, "apparmor.profiles"), "error");
    assert!(
        result(&report, "apparmor.profiles")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("permission denied"))
    );
    assert_eq!(status(&report, "seccomp.profiles"), "error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not be evaluated"));
}

#[test]
fn seccomp_lint_uses_the_same_validator() {
    let examples = ["audit", "violation", "fine-grained", "chmod"]
        .map(|n| repo_file(&format!("examples/seccomp/profiles/{n}.json")));
    let output = common::hardnode()
        .args(["seccomp", "lint", "--format", "json"])
        .args(&examples)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let results = json(&output);
    assert!(
        results
            .as_array()
            .expect("array")
            .iter()
            .all(|r| r["valid"] == true)
    );
    assert_eq!(results[3]["deny_list"], true);

    let root = Root::new();
    let bad = root.file("/bad.json", r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmodx"],"action":"SCMP_ACT_ERRNO"}]}"#);
    let output = common::hardnode()
        .args(["seccomp", "lint"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("$.syscalls[0].names[0]") && text.contains("chmodx"),
        "{text}"
    );

    let output = common::hardnode()
        .args(["seccomp", "lint", "/nonexistent.json"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
}

#[test]
fn check_keeps_only_the_read_capabilities_and_still_reads_root_only_files() {
    if !require_root("check_keeps_only_the_read_capabilities") {
        return;
    }
    let root = hardened_node();
    root.chmod(&format!("/boot/config-{RELEASE}"), 0o000);
    let output = root.hardnode(&["facts"]).output().expect("run");
    let facts = json(&output);
    let privileges = &facts["privileges"];
    for set in ["effective", "permitted", "bounding"] {
        assert_eq!(
            privileges[set],
            serde_json::json!(["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"]),
            "{set}: {privileges:#}"
        );
    }
    assert_eq!(privileges["inheritable"], serde_json::json!([]));
    assert_eq!(privileges["ambient"], serde_json::json!([]));
    assert_eq!(privileges["no_new_privs"], true);
    // CAP_DAC_OVERRIDE is gone, yet a mode-000 root file is still read through CAP_DAC_READ_SEARCH.
    assert_eq!(
        facts["kernel"]["options"]["CONFIG_SECCOMP"], "y",
        "{:#}",
        facts["kernel"]
    );
}

#[test]
fn applies_when_skips_a_rule_whose_component_does_not_run() {
    let root = Root::new();
    root.identity("n", RELEASE, "Ubuntu");
    for (key, value) in [
        ("vm/overcommit_memory", "1"),
        ("vm/panic_on_oom", "0"),
        ("kernel/panic", "0"),
        ("kernel/panic_on_oops", "1"),
        ("kernel/keys/root_maxkeys", "1000000"),
        ("kernel/keys/root_maxbytes", "25000000"),
    ] {
        root.file(&format!("/proc/sys/{key}"), format!("{value}\n"));
    }
    let id = "sysctl.kubelet-protect-kernel-defaults";
    let (_, report) = root.check_json(&["--only", id]);
    assert_eq!(status(&report, id), "skip");
    assert!(
        result(&report, id)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("kubelet is not running"))
    );

    root.process(
        4242,
        &[
            "/usr/bin/kubelet",
            "--kubeconfig=/etc/kubernetes/kubelet.conf",
        ],
    );
    let (exit, report) = root.check_json(&["--only", id]);
    assert_eq!(
        status(&report, id),
        "fail",
        "kernel.panic=0 breaks protectKernelDefaults"
    );
    assert_eq!(exit, 1);

    let file = root.file(
        "/tmp/extra.toml",
        "[[rule]]\nid = \"x.y\"\ntitle = \"t\"\nseverity = \"low\"\nscored = true\nprobe = { kernel_config = \"CONFIG_X\" }\nexpect = { eq = \"y\" }\napplies_when = { component = \"kubelett\" }\nremediation = \"r\"\n",
    );
    let output = root
        .hardnode(&["check", "--benchmark", file.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 8") && stderr.contains("kubelett"),
        "{stderr}"
    );
}

#[test]
fn text_report_collapses_skips_that_share_a_reason() {
    let root = hardened_node();
    let output = root
        .hardnode(&["check", "--color", "never"])
        .output()
        .expect("run");
    let text = String::from_utf8(output.stdout).expect("utf8");
    let (_, report) = root.check_json(&[]);
    let reason = "kubelet is not running on this node (no process named kubelet)";
    let in_json = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "skip" && r["reason"] == reason)
        .count();
    // Collapsed lines (`SKIP  N rules: reason`) plus rules shown one by one account for every
    // skip with that reason, and at least one section is collapsed.
    let collapsed: usize = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("SKIP"))
        .filter_map(|rest| rest.trim().strip_suffix(&format!(" rules: {reason}")))
        .map(|count| count.parse::<usize>().expect("count"))
        .sum();
    let one_by_one = text.lines().filter(|line| line.trim() == reason).count();
    assert!(collapsed >= 3, "{text}");
    assert_eq!(collapsed + one_by_one, in_json, "{text}");
}
