//! `hardnode fix files` on fixture roots: modes and owners before/after on exactly the paths the
//! check resolved, never widened, symlinks refused, a second run unchanged, the CIS rules passing
//! afterwards through `hardnode check`, and `--dry-run` changing nothing.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::{Root, code, json, require_root, status};

/// A worker whose kubelet runs with a non-default config path, a control-plane admin.conf, and
/// files left too open by hand.
fn loose_node() -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[("kube", 1000), ("etcd", 998)]);
    root.process(
        812,
        &[
            "/usr/bin/kubelet",
            "--config=/etc/kubelet/custom.yaml",
            "--kubeconfig=/etc/kubernetes/kubelet.conf",
        ],
    );
    root.file_mode(
        "/etc/kubelet/custom.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         authentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
        0o664,
    );
    // The default path exists too but is not the one the kubelet uses: left alone.
    root.file_mode("/var/lib/kubelet/config.yaml", "unused\n", 0o666);
    root.file_mode("/etc/kubernetes/kubelet.conf", "kind: Config\n", 0o640);
    root.chown("/etc/kubernetes/kubelet.conf", 1000, 1000);
    // The client CA rule allows 0644: 0666 loses only the write bits.
    root.file_mode("/etc/kubernetes/pki/ca.crt", "CA", 0o666);
    // Already stricter than the rule's 0600: must stay 0400, never be widened.
    root.file_mode("/usr/lib/systemd/system/kubelet.service", "[Unit]\n", 0o400);
    root.file_mode("/etc/kubernetes/admin.conf", "kind: Config\n", 0o644);
    root
}

fn mode(root: &Root, host_path: &str) -> u32 {
    fs::symlink_metadata(root.real(host_path))
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

fn owner(root: &Root, host_path: &str) -> (u32, u32) {
    let meta = fs::symlink_metadata(root.real(host_path)).expect("stat");
    (meta.uid(), meta.gid())
}

fn fix(root: &Root, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["fix", "files", "--format", "json"];
    args.extend_from_slice(extra);
    let output = root.hardnode(&args).output().expect("run");
    (code(&output), json(&output))
}

fn fix_for<'a>(report: &'a serde_json::Value, path: &str, rule: &str) -> &'a serde_json::Value {
    report["fixes"]
        .as_array()
        .expect("fixes")
        .iter()
        .find(|fix| fix["path"] == path && fix["rule"] == rule)
        .unwrap_or_else(|| panic!("no fix for {path} by {rule}: {report}"))
}

const FILE_RULES: &str = "4.1,1.1.13,1.1.14";

#[test]
fn fix_files_tightens_the_resolved_paths_then_is_idempotent() {
    if !require_root("fix_files_tightens_the_resolved_paths_then_is_idempotent") {
        return;
    }
    let root = loose_node();
    let (_, before) = root.check_json(&["--only", FILE_RULES]);
    assert_eq!(
        status(&before, "kubelet.config-file-mode"),
        "fail",
        "{before}"
    );
    assert_eq!(status(&before, "kubelet.kubeconfig-owner"), "fail");

    // Dry run: the plan, and nothing changed.
    let (exit, plan) = fix(&root, &["--dry-run"]);
    assert_eq!(exit, 0, "{plan}");
    assert_eq!(plan["changed"], false);
    assert_eq!(plan["dry_run"], true);
    assert!(
        plan["actions"]
            .to_string()
            .contains("chmod 0600 /etc/kubelet/custom.yaml (was 0664)"),
        "{plan}"
    );
    assert_eq!(mode(&root, "/etc/kubelet/custom.yaml"), 0o664);
    assert_eq!(owner(&root, "/etc/kubernetes/kubelet.conf"), (1000, 1000));
    assert!(!root.real("/run/hardnode.lock").exists());

    let (exit, report) = fix(&root, &[]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["changed"], true);
    assert_eq!(report["verified"], true, "{report}");
    // Exactly the path the kubelet uses; the unused default path is untouched.
    assert_eq!(mode(&root, "/etc/kubelet/custom.yaml"), 0o600);
    assert_eq!(mode(&root, "/var/lib/kubelet/config.yaml"), 0o666);
    let config = fix_for(
        &report,
        "/etc/kubelet/custom.yaml",
        "kubelet.config-file-mode",
    );
    assert_eq!(config["old_mode"], "0664");
    assert_eq!(config["new_mode"], "0600");
    assert_eq!(config["state"], "changed");
    // Owner fixed, the old owner recorded for a revert.
    assert_eq!(owner(&root, "/etc/kubernetes/kubelet.conf"), (0, 0));
    assert_eq!(mode(&root, "/etc/kubernetes/kubelet.conf"), 0o600);
    let kubeconfig = fix_for(
        &report,
        "/etc/kubernetes/kubelet.conf",
        "kubelet.kubeconfig-owner",
    );
    assert_eq!(kubeconfig["old_owner"], "1000:1000");
    assert_eq!(kubeconfig["old_owner_names"], "kube:kube");
    assert_eq!(kubeconfig["new_owner"], "0:0");
    assert!(
        kubeconfig.get("new_mode").is_none(),
        "an owner fix reports only the owner"
    );
    // Narrowed, never widened: 0666 under 0644 loses only write bits; 0400 is left as it is.
    assert_eq!(mode(&root, "/etc/kubernetes/pki/ca.crt"), 0o644);
    assert_eq!(
        mode(&root, "/usr/lib/systemd/system/kubelet.service"),
        0o400
    );
    assert_eq!(mode(&root, "/etc/kubernetes/admin.conf"), 0o600);

    // The same rules now pass through `hardnode check`.
    let (_, after) = root.check_json(&["--only", FILE_RULES]);
    for result in after["results"].as_array().expect("results") {
        let state = result["status"].as_str().expect("status");
        assert!(
            state == "pass" || state == "skip",
            "{} is {state} after the fix: {result}",
            result["id"]
        );
    }
    assert_eq!(status(&after, "kubelet.config-file-mode"), "pass");

    // Second run: nothing to do.
    let (exit, again) = fix(&root, &[]);
    assert_eq!(exit, 0, "{again}");
    assert_eq!(again["changed"], false);
    assert_eq!(again["verified"], true);
    assert_eq!(again["actions"], serde_json::json!([]));
    assert_eq!(again["fixes"], serde_json::json!([]));
}

#[test]
fn only_limits_the_fix_to_the_named_rules() {
    if !require_root("only_limits_the_fix_to_the_named_rules") {
        return;
    }
    let root = loose_node();
    let (exit, report) = fix(&root, &["--only", "4.1.9"]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(mode(&root, "/etc/kubelet/custom.yaml"), 0o600);
    assert_eq!(mode(&root, "/etc/kubernetes/admin.conf"), 0o644);
    assert_eq!(owner(&root, "/etc/kubernetes/kubelet.conf"), (1000, 1000));
    let rules: Vec<&str> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| rule["id"].as_str().expect("id"))
        .collect();
    assert_eq!(rules, ["kubelet.config-file-mode"]);

    // A selector that matches no file rule is a usage error.
    let output = root
        .hardnode(&["fix", "files", "--only", "4.2.1"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
}

#[test]
fn a_file_reached_through_a_symlink_is_refused() {
    if !require_root("a_file_reached_through_a_symlink_is_refused") {
        return;
    }
    let root = loose_node();
    root.file_mode(
        "/srv/real-kubelet.yaml",
        "kind: KubeletConfiguration\n",
        0o666,
    );
    fs::remove_file(root.real("/etc/kubelet/custom.yaml")).expect("rm");
    root.symlink("/srv/real-kubelet.yaml", "/etc/kubelet/custom.yaml");
    let (exit, report) = fix(&root, &["--only", "4.1.9"]);
    assert_eq!(exit, 1, "not verified: {report}");
    assert_eq!(report["changed"], false);
    assert_eq!(report["verified"], false);
    let refused = fix_for(
        &report,
        "/srv/real-kubelet.yaml",
        "kubelet.config-file-mode",
    );
    assert_eq!(refused["state"], "refused");
    assert!(
        refused["reason"]
            .as_str()
            .expect("reason")
            .contains("symbolic link /etc/kubelet/custom.yaml"),
        "{refused}"
    );
    assert_eq!(mode(&root, "/srv/real-kubelet.yaml"), 0o666);
    let text = root
        .hardnode(&["fix", "files", "--only", "4.1.9"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&text.stdout).contains("refused"));
}

/// A kubeadm control plane with the usual hand-made damage: manifests and keys world-readable, a
/// certificate owned by a user, the etcd data dir owned by root. Every 1.1.x file rule passes
/// after one `fix files`.
#[test]
fn control_plane_file_rules_pass_after_the_fix() {
    if !require_root("control_plane_file_rules_pass_after_the_fix") {
        return;
    }
    let root = Root::new();
    root.identity("cp1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[("etcd", 998), ("kube", 1000)]);
    for name in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ] {
        root.file_mode(
            &format!("/etc/kubernetes/manifests/{name}.yaml"),
            "kind: Pod\n",
            0o644,
        );
    }
    for conf in ["admin", "scheduler", "controller-manager"] {
        root.file_mode(
            &format!("/etc/kubernetes/{conf}.conf"),
            "kind: Config\n",
            0o644,
        );
    }
    root.file_mode("/etc/kubernetes/pki/ca.crt", "C", 0o644);
    root.file_mode("/etc/kubernetes/pki/ca.key", "K", 0o644);
    root.file_mode("/etc/kubernetes/pki/etcd/server.key", "K", 0o640);
    root.chown("/etc/kubernetes/pki/etcd/server.key", 1000, 1000);
    root.dir("/var/lib/etcd/member");
    root.chmod("/var/lib/etcd", 0o755);
    let (_, before) = root.check_json(&["--only", "1.1"]);
    assert_eq!(
        status(&before, "apiserver.manifest-mode"),
        "fail",
        "{before}"
    );

    let (exit, report) = fix(&root, &["--only", "1.1"]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["verified"], true, "{report}");
    assert_eq!(mode(&root, "/etc/kubernetes/manifests/etcd.yaml"), 0o600);
    assert_eq!(mode(&root, "/etc/kubernetes/pki/ca.key"), 0o600);
    assert_eq!(
        mode(&root, "/etc/kubernetes/pki/ca.crt"),
        0o644,
        "within 1.1.20's 0644"
    );
    assert_eq!(mode(&root, "/etc/kubernetes/pki/etcd/server.key"), 0o600);
    assert_eq!(owner(&root, "/etc/kubernetes/pki/etcd/server.key"), (0, 0));
    assert_eq!(mode(&root, "/var/lib/etcd"), 0o700);
    assert_eq!(
        owner(&root, "/var/lib/etcd"),
        (998, 998),
        "etcd:etcd by name"
    );

    let (exit, after) = root.check_json(&["--only", "1.1"]);
    for result in after["results"].as_array().expect("results") {
        let state = result["status"].as_str().expect("status");
        assert!(
            state == "pass" || state == "skip",
            "{} is {state} after the fix: {result}",
            result["id"]
        );
    }
    assert_eq!(exit, 0);
    let (_, again) = fix(&root, &["--only", "1.1"]);
    assert_eq!(again["changed"], false, "{again}");
}
