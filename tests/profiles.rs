//! `hardnode profiles install|status` against fixture roots: install / update / unchanged, invalid
//! profiles refused with nothing written (the real `apparmor_parser -Q -K`), the load/verify step
//! reading a fake kernel interface under `--root`, `[profiles]` driving both install and check.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::{ContainerProc, Root, code, json, repo_file, require_tool, status};

const PARSER: &str = "/usr/sbin/apparmor_parser";

/// A copy of the repo's example profiles, so a test can edit a source.
fn sources() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("apparmor")).expect("mkdir");
    fs::create_dir_all(dir.path().join("seccomp/profiles")).expect("mkdir");
    fs::copy(
        repo_file("examples/apparmor/k8s-deny-write"),
        dir.path().join("apparmor/k8s-deny-write"),
    )
    .expect("copy apparmor");
    for name in ["fine-grained.json", "audit.json", "violation.json"] {
        fs::copy(
            repo_file(&format!("examples/seccomp/profiles/{name}")),
            dir.path().join("seccomp/profiles").join(name),
        )
        .expect("copy seccomp");
    }
    dir
}

fn install(root: &Root, src: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let apparmor = src.join("apparmor");
    let seccomp = src.join("seccomp");
    let mut args = vec![
        "profiles",
        "install",
        "--apparmor",
        apparmor.to_str().expect("utf8"),
        "--seccomp",
        seccomp.to_str().expect("utf8"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = root.hardnode(&args).output().expect("run");
    let report = if output.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        json(&output)
    };
    (code(&output), report)
}

fn states(report: &serde_json::Value) -> Vec<(String, String)> {
    report["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            (
                p["path"].as_str().expect("path").to_string(),
                p["state"].as_str().expect("state").to_string(),
            )
        })
        .collect()
}

fn fake_kernel_lists(root: &Root, lines: &str) {
    root.file("/sys/kernel/security/apparmor/profiles", lines);
}

#[test]
fn install_then_unchanged_then_updated() {
    if !require_tool("install_then_unchanged_then_updated", PARSER) {
        return;
    }
    let root = Root::new();
    let src = sources();

    // First run: everything new. Not loaded (--root is a fixture): a warning, not success.
    let (exit, report) = install(&root, src.path(), &[]);
    assert_eq!(
        exit, 1,
        "installed but not loaded is not verified: {report}"
    );
    assert_eq!(report["changed"], true);
    assert_eq!(report["verified"], false);
    assert_eq!(
        states(&report),
        [
            ("/etc/apparmor.d/k8s-deny-write".into(), "installed".into()),
            (
                "/var/lib/kubelet/seccomp/profiles/audit.json".into(),
                "installed".into()
            ),
            (
                "/var/lib/kubelet/seccomp/profiles/fine-grained.json".into(),
                "installed".into()
            ),
            (
                "/var/lib/kubelet/seccomp/profiles/violation.json".into(),
                "installed".into()
            ),
        ]
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("installed but not loaded"), "{warnings}");
    assert_eq!(report["profiles"][0]["loaded"], false);
    assert_eq!(report["profiles"][1]["verified"], true);
    for (host, source) in [
        ("/etc/apparmor.d/k8s-deny-write", "apparmor/k8s-deny-write"),
        (
            "/var/lib/kubelet/seccomp/profiles/fine-grained.json",
            "seccomp/profiles/fine-grained.json",
        ),
    ] {
        let meta = fs::metadata(root.real(host)).expect("installed");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o644, "{host}");
        assert_eq!((meta.uid(), meta.gid()), (0, 0), "{host}");
        assert_eq!(
            fs::read(root.real(host)).expect("read"),
            fs::read(src.path().join(source)).expect("read source")
        );
    }

    // The fake kernel interface lists the profile in enforce mode: verified, nothing changes.
    fake_kernel_lists(&root, "k8s-deny-write (enforce)\n/usr/bin/man (complain)\n");
    let (exit, report) = install(&root, src.path(), &[]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["changed"], false);
    assert_eq!(report["verified"], true);
    assert_eq!(report["actions"], serde_json::json!([]));
    assert!(
        states(&report)
            .iter()
            .all(|(_, state)| state == "unchanged")
    );
    assert_eq!(report["profiles"][0]["loaded"], true);

    // Complain mode wanted but the kernel lists enforce: not verified.
    let (exit, report) = install(&root, src.path(), &["--complain"]);
    assert_eq!(exit, 1, "{report}");
    assert_eq!(report["profiles"][0]["loaded"], false);

    // A source edited: that file is updated (a backup kept for seccomp), the rest unchanged.
    let edited = src.path().join("seccomp/profiles/audit.json");
    let mut value: serde_json::Value =
        serde_json::from_slice(&fs::read(&edited).expect("read")).expect("json");
    value["defaultAction"] = "SCMP_ACT_ERRNO".into();
    fs::write(&edited, value.to_string()).expect("edit");
    root.chmod("/var/lib/kubelet/seccomp/profiles/audit.json", 0o600);
    let (exit, report) = install(&root, src.path(), &[]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["changed"], true);
    let updated: Vec<_> = states(&report)
        .into_iter()
        .filter(|(_, state)| state != "unchanged")
        .collect();
    assert_eq!(
        updated,
        [(
            "/var/lib/kubelet/seccomp/profiles/audit.json".to_string(),
            "updated".to_string()
        )]
    );
    let installed = root.real("/var/lib/kubelet/seccomp/profiles/audit.json");
    assert_eq!(
        fs::read(&installed).expect("read"),
        fs::read(&edited).expect("read")
    );
    assert_eq!(
        fs::metadata(&installed).expect("meta").permissions().mode() & 0o7777,
        0o644,
        "an updated profile is 0644 whatever the old file had"
    );
    assert!(
        root.real("/var/lib/kubelet/seccomp/profiles/audit.json.hardnode-bak")
            .exists()
    );
    assert!(
        !root
            .real("/etc/apparmor.d/k8s-deny-write.hardnode-bak")
            .exists(),
        "no backup beside AppArmor policy (the boot loader would read it)"
    );
}

#[test]
fn dry_run_changes_nothing() {
    if !require_tool("dry_run_changes_nothing", PARSER) {
        return;
    }
    let root = Root::new();
    let src = sources();
    let (exit, report) = install(&root, src.path(), &["--dry-run"]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["changed"], false);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["actions"].as_array().expect("actions").len(), 4);
    assert!(
        states(&report)
            .iter()
            .all(|(_, state)| state == "installed")
    );
    assert!(!root.real("/etc").exists(), "nothing written");
    assert!(!root.real("/var").exists(), "nothing written");
    assert!(!root.real("/run").exists(), "not even the lock file");
}

#[test]
fn invalid_profiles_are_refused_and_nothing_is_written() {
    if !require_tool("invalid_profiles_are_refused", PARSER) {
        return;
    }
    let root = Root::new();
    let src = sources();
    // A typo apparmor_parser -Q -K rejects (`fil` for `file`).
    let bad = src.path().join("apparmor/broken");
    fs::write(&bad, "profile broken {\n  fil /x,\n}\n").expect("write");
    let (exit, _) = install(&root, src.path(), &[]);
    let output = root
        .hardnode(&[
            "profiles",
            "install",
            "--apparmor",
            src.path().join("apparmor").to_str().expect("utf8"),
            "--seccomp",
            src.path().join("seccomp").to_str().expect("utf8"),
        ])
        .output()
        .expect("run");
    assert_eq!(exit, 2);
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apparmor/broken"), "{stderr}");
    assert!(stderr.contains("apparmor_parser"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert!(!root.real("/etc/apparmor.d").exists());
    assert!(!root.real("/var/lib/kubelet/seccomp").exists());
    fs::remove_file(&bad).expect("remove");

    // An invalid seccomp profile (unknown action) beside valid ones: none installed.
    fs::write(
        src.path().join("seccomp/profiles/bad.json"),
        r#"{"defaultAction": "SCMP_ACT_NOPE", "syscalls": []}"#,
    )
    .expect("write");
    let output = root
        .hardnode(&[
            "profiles",
            "install",
            "--seccomp",
            src.path().join("seccomp").to_str().expect("utf8"),
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("profiles/bad.json"), "{stderr}");
    assert!(stderr.contains("invalid seccomp profile"), "{stderr}");
    assert!(stderr.contains("SCMP_ACT_NOPE"), "{stderr}");
    assert!(!root.real("/var/lib/kubelet/seccomp").exists());
}

#[test]
fn symlinked_target_is_refused() {
    if !require_tool("symlinked_target_is_refused", PARSER) {
        return;
    }
    let root = Root::new();
    let src = sources();
    root.file("/etc/elsewhere", "keep");
    root.symlink(
        "/etc/elsewhere",
        "/var/lib/kubelet/seccomp/profiles/violation.json",
    );
    let (exit, _) = install(&root, src.path(), &[]);
    assert_eq!(exit, 3);
    // Refused before anything was written, even the profiles listed before it.
    assert!(!root.real("/etc/apparmor.d").exists());
    assert!(
        !root
            .real("/var/lib/kubelet/seccomp/profiles/audit.json")
            .exists()
    );
    assert_eq!(
        fs::read_to_string(root.real("/etc/elsewhere")).expect("read"),
        "keep"
    );
}

/// `[profiles]` in the site config: `profiles install` with no flags installs it, and the
/// `apparmor.profiles` / `seccomp.profiles` rules require what it declares.
#[test]
fn site_config_drives_install_and_check() {
    if !require_tool("site_config_drives_install_and_check", PARSER) {
        return;
    }
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.apparmor_enabled();
    root.file(
        "/srv/profiles/apparmor/k8s-deny-write",
        fs::read(repo_file("examples/apparmor/k8s-deny-write")).expect("read"),
    );
    root.file(
        "/srv/profiles/seccomp/profiles/fine-grained.json",
        fs::read(repo_file("examples/seccomp/profiles/fine-grained.json")).expect("read"),
    );
    root.file(
        "/etc/hardnode/config.toml",
        "[profiles]\napparmor = [\"/srv/profiles/apparmor\"]\nseccomp = [\"/srv/profiles/seccomp\"]\n",
    );
    let check = || root.check_json(&["--only", "apparmor.profiles,seccomp.profiles"]);
    let (_, report) = check();
    assert_eq!(status(&report, "apparmor.profiles"), "fail", "{report}");
    assert_eq!(status(&report, "seccomp.profiles"), "fail", "{report}");
    assert!(report.to_string().contains("k8s-deny-write is not loaded"));

    let output = root
        .hardnode(&["profiles", "install", "--format", "json"])
        .output()
        .expect("run");
    let installed = json(&output);
    assert_eq!(installed["changed"], true, "{installed}");
    assert!(root.real("/etc/apparmor.d/k8s-deny-write").exists());
    assert!(
        root.real("/var/lib/kubelet/seccomp/profiles/fine-grained.json")
            .exists()
    );
    let (_, report) = check();
    assert_eq!(status(&report, "seccomp.profiles"), "pass", "{report}");
    assert_eq!(
        status(&report, "apparmor.profiles"),
        "fail",
        "not loaded yet"
    );

    // The kernel (fake interface) now has it in enforce mode.
    fake_kernel_lists(
        &root,
        "cri-containerd.apparmor.d (enforce)\nk8s-deny-write (enforce)\n",
    );
    let (exit, report) = check();
    assert_eq!(status(&report, "apparmor.profiles"), "pass", "{report}");
    assert_eq!(exit, 0);

    // A [profiles] source that cannot be read: the rules become error, not pass.
    root.file(
        "/etc/hardnode/config.toml",
        "[profiles]\napparmor = [\"/srv/profiles/nowhere\"]\n",
    );
    let (_, report) = check();
    assert_eq!(status(&report, "apparmor.profiles"), "error", "{report}");
}

#[test]
fn status_names_profiles_running_pods_use_but_the_node_lacks() {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.host_init();
    root.apparmor_enabled();
    fake_kernel_lists(
        &root,
        "cri-containerd.apparmor.d (enforce)\nk8s-deny-write (enforce)\nlegacy-web (enforce)\n",
    );
    root.file(
        "/etc/apparmor.d/k8s-deny-write",
        fs::read(repo_file("examples/apparmor/k8s-deny-write")).expect("read"),
    );
    let cgroup = |n: u8| {
        format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b_{n}.slice/cri-containerd-{}.scope\n",
            format!("{n:02x}").repeat(32)
        )
    };
    root.container_process(
        1001,
        &ContainerProc {
            apparmor: Some("k8s-deny-write (enforce)".into()),
            ..ContainerProc::confined("nginx", &cgroup(1))
        },
    );
    root.container_process(
        1002,
        &ContainerProc {
            apparmor: Some("legacy-web (enforce)".into()),
            ..ContainerProc::confined("web", &cgroup(2))
        },
    );
    root.containerd_record(&"02".repeat(32), "shop", "web-1", "web");
    let output = root
        .hardnode(&["profiles", "status", "--format", "json"])
        .output()
        .expect("run");
    let report = json(&output);
    assert_eq!(code(&output), 1, "{report}");
    assert_eq!(report["ok"], false);
    let missing = report["referenced_missing"].as_array().expect("list");
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["profile"], "legacy-web");
    assert_eq!(missing[0]["containers"][0], "shop/web-1/web");
    assert_eq!(
        report["apparmor_installed"][0]["names"][0], "k8s-deny-write",
        "{report}"
    );
    let text = root
        .hardnode(&["profiles", "status"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("MISSING apparmor profile legacy-web"),
        "{text}"
    );
}

/// On the live root a dry run says whether loading is possible and, without AppArmor in the
/// running kernel, says so plainly. A dry run writes nothing, so this is safe on any machine.
#[test]
fn live_root_dry_run_says_whether_the_kernel_can_load() {
    if !require_tool("live_root_dry_run", PARSER) {
        return;
    }
    let output = common::hardnode()
        .args([
            "profiles",
            "install",
            "--dry-run",
            "--format",
            "json",
            "--apparmor",
        ])
        .arg(repo_file("examples/apparmor"))
        .output()
        .expect("run");
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["changed"], false);
    let enabled = fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|text| text.trim() == "Y")
        && fs::read_to_string("/sys/kernel/security/lsm")
            .is_ok_and(|text| text.split(',').any(|lsm| lsm.trim() == "apparmor"));
    assert_eq!(report["loading"]["possible"], enabled, "{report}");
    if !enabled {
        let reason = report["loading"]["reason"].as_str().expect("reason");
        assert!(
            reason.contains("AppArmor is not enabled in the running kernel"),
            "{reason}"
        );
    }
}
