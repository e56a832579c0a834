//! Every cap that is hit makes the affected rule `error` with the cap in its reason — never a
//! pass over the part that was read, never "not running". Each input is just past its cap, with
//! a control just at it that passes, so the error is the cap's and not the input's.

mod common;

use std::fs;
use std::path::Path;

use common::{Root, result};

fn check(root: &Root, only: &str) -> serde_json::Value {
    let output = root
        .hardnode(&["check", "--format", "json", "--only", only])
        .output()
        .expect("run check");
    assert_ne!(output.status.code(), Some(101), "panicked");
    common::json(&output)
}

fn status_and_reason(report: &serde_json::Value, id: &str) -> (String, String) {
    let finding = result(report, id);
    (
        finding["status"].as_str().unwrap_or_default().to_string(),
        finding["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// `count` valid allow-list profiles under the kubelet's seccomp root (hard links of one file).
fn seccomp_root(count: usize, depth: usize) -> Root {
    let root = Root::new();
    let mut dir = String::from("/var/lib/kubelet/seccomp");
    for _ in 0..depth {
        dir.push_str("/d");
    }
    root.dir(&dir);
    let first = root.real(&format!("{dir}/p00000.json"));
    fs::copy(
        common::repo_file("examples/seccomp/profiles/fine-grained.json"),
        &first,
    )
    .expect("copy profile");
    for i in 1..count {
        fs::hard_link(&first, root.real(&format!("{dir}/p{i:05}.json"))).expect("link");
    }
    root
}

#[test]
fn seccomp_profiles_past_the_file_cap_are_an_error_at_the_cap_a_pass() {
    let at = check(&seccomp_root(10_000, 0), "seccomp.profiles");
    assert_eq!(
        status_and_reason(&at, "seccomp.profiles").0,
        "pass",
        "{at:#}"
    );
    let past = check(&seccomp_root(10_001, 0), "seccomp.profiles");
    let (status, reason) = status_and_reason(&past, "seccomp.profiles");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("more than 10000 files"), "{reason}");
}

#[test]
fn seccomp_profiles_past_the_depth_cap_are_an_error_at_the_cap_a_pass() {
    let at = check(&seccomp_root(1, 16), "seccomp.profiles");
    assert_eq!(
        status_and_reason(&at, "seccomp.profiles").0,
        "pass",
        "{at:#}"
    );
    let past = check(&seccomp_root(1, 17), "seccomp.profiles");
    let (status, reason) = status_and_reason(&past, "seccomp.profiles");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("deeper than 16"), "{reason}");
}

/// `count` root-owned 0644 certificates under /etc/kubernetes/pki, `depth` directories down.
fn pki_root(count: usize, depth: usize) -> Root {
    let root = Root::new();
    let mut dir = String::from("/etc/kubernetes/pki");
    for _ in 0..depth {
        dir.push_str("/d");
    }
    root.dir(&dir);
    let first = root.file_mode(&format!("{dir}/c00000.crt"), "C", 0o644);
    for i in 1..count {
        fs::hard_link(&first, root.real(&format!("{dir}/c{i:05}.crt"))).expect("link");
    }
    root
}

#[test]
fn a_file_tree_past_the_entry_cap_is_an_error_at_the_cap_a_pass() {
    // The directory itself is an entry too: 9,999 files and it make 10,000.
    let at = check(&pki_root(9_999, 0), "controlplane.pki-cert-mode");
    let (status, reason) = status_and_reason(&at, "controlplane.pki-cert-mode");
    assert_eq!(status, "pass", "{reason}");
    let past = check(&pki_root(10_001, 0), "controlplane.pki-cert-mode");
    let (status, reason) = status_and_reason(&past, "controlplane.pki-cert-mode");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("more than 10000 entries"), "{reason}");
}

#[test]
fn a_file_tree_past_the_depth_cap_is_an_error_at_the_cap_a_pass() {
    let at = check(&pki_root(1, 16), "controlplane.pki-cert-mode");
    assert_eq!(
        status_and_reason(&at, "controlplane.pki-cert-mode").0,
        "pass"
    );
    let past = check(&pki_root(1, 17), "controlplane.pki-cert-mode");
    let (status, reason) = status_and_reason(&past, "controlplane.pki-cert-mode");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("deeper than 16"), "{reason}");
}

/// A kubelet whose command line is `size` bytes long, known by its `/proc/<pid>/exe`.
fn kubelet_with_cmdline(size: usize) -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    let fixed = "/usr/bin/kubelet\0--anonymous-auth=false\0--node-labels=\0";
    let mut cmdline = fixed.as_bytes().to_vec();
    cmdline.truncate(cmdline.len() - 1);
    cmdline.resize(size - 1, b'a');
    cmdline.push(0);
    root.file("/proc/812/cmdline", cmdline);
    root.symlink("/usr/bin/kubelet", "/proc/812/exe");
    root.file("/usr/bin/kubelet", "ELF");
    assert!(Path::new(&root.real("/proc/812/cmdline")).is_file());
    root
}

#[test]
fn a_kubelet_command_line_past_the_read_cap_is_an_error_not_not_running() {
    let at = check(&kubelet_with_cmdline(1024 * 1024), "kubelet.anonymous-auth");
    let (status, reason) = status_and_reason(&at, "kubelet.anonymous-auth");
    assert_eq!(status, "pass", "{reason}");
    let past = check(
        &kubelet_with_cmdline(1024 * 1024 + 1),
        "kubelet.anonymous-auth",
    );
    let (status, reason) = status_and_reason(&past, "kubelet.anonymous-auth");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("1048576-byte read cap"), "{reason}");
}
