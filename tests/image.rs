//! The container image and its AppArmor profile as shipped: the profile parses with the real
//! `apparmor_parser` and `hardnode profiles install` plans it, the Job and DaemonSet name it;
//! the Dockerfile's base is pinned by digest with OCI labels and takes the binary
//! `scripts/build-release.sh TARGET` writes for the image's architecture; `.dockerignore` keeps
//! everything else out of the context; a target whose standard library is missing is refused
//! with the way to install it.

mod common;

use std::process::Command;

use common::{Root, code, repo_file, require_tool};

#[test]
fn apparmor_profile_parses_installs_and_is_referenced_by_the_pods() {
    let test = "apparmor_profile_parses_installs_and_is_referenced_by_the_pods";
    if !require_tool(test, "/usr/sbin/apparmor_parser") {
        return;
    }
    let profile = repo_file("scripts/kubernetes/apparmor/hardnode-reader");
    // -Q: parse and compile only (nothing loaded), -K: no cache.
    let output = Command::new("/usr/sbin/apparmor_parser")
        .args(["-Q", "-K", "-I", "/etc/apparmor.d"])
        .arg(&profile)
        .output()
        .expect("apparmor_parser");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&profile).expect("profile");
    assert!(text.contains("profile hardnode-reader "));
    assert!(text.contains("ptrace (read),"), "read-only ptrace");
    assert!(!text.contains("ptrace (trace"), "no ptrace attach");
    let root = Root::new();
    root.dir("/etc");
    let output = root
        .hardnode(&[
            "profiles",
            "install",
            "--dry-run",
            "--format",
            "json",
            "--apparmor",
            profile.parent().expect("dir").to_str().expect("utf-8"),
        ])
        .output()
        .expect("run");
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(plan["profiles"][0]["names"][0], "hardnode-reader", "{plan}");
    for manifest in [
        "scripts/kubernetes/daemonset.yaml",
        "scripts/kubernetes/job.yaml",
    ] {
        let text = std::fs::read_to_string(repo_file(manifest)).expect("manifest");
        assert!(
            text.contains(
                "container.apparmor.security.beta.kubernetes.io/hardnode: localhost/hardnode-reader"
            ),
            "{manifest}"
        );
        assert!(
            text.contains("- name: hardnode\n"),
            "{manifest}: the annotated container"
        );
    }
}

#[test]
fn dockerfile_is_pinned_labelled_and_multi_arch_and_the_context_is_small() {
    let dockerfile =
        std::fs::read_to_string(repo_file("scripts/kubernetes/Dockerfile")).expect("Dockerfile");
    let from = dockerfile
        .lines()
        .find(|line| line.starts_with("FROM "))
        .expect("FROM");
    let digest = from.split("@sha256:").nth(1).expect("pinned by digest");
    assert_eq!(digest.len(), 64, "{from}");
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{from}");
    for label in [
        "org.opencontainers.image.title",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.base.name",
    ] {
        assert!(dockerfile.contains(label), "{label}");
    }
    assert!(dockerfile.contains("COPY dist/linux/${TARGETARCH}/hardnode"));
    let ignore = std::fs::read_to_string(repo_file(".dockerignore")).expect(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect();
    assert_eq!(rules, ["*", "!dist/linux/"]);
    // build-release.sh writes what the Dockerfile copies (the path, for this machine's arch).
    let script = std::fs::read_to_string(repo_file("scripts/build-release.sh")).expect("script");
    assert!(script.contains("$out_dir/linux/$docker_arch/hardnode"));
}

#[test]
fn build_release_refuses_a_target_without_its_standard_library() {
    let test = "build_release_refuses_a_target_without_its_standard_library";
    if !require_tool(test, "rustup") {
        return;
    }
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .expect("rustup");
    let installed = String::from_utf8_lossy(&installed.stdout);
    // A Linux target this machine surely lacks (checked, not assumed).
    let target = ["riscv64gc-unknown-linux-gnu", "s390x-unknown-linux-gnu"]
        .into_iter()
        .find(|target| !installed.lines().any(|line| line == *target))
        .expect("a missing target");
    let output = Command::new(repo_file("scripts/build-release.sh"))
        .arg(target)
        .output()
        .expect("build-release.sh");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("rustup target add {target}")),
        "{stderr}"
    );
    let output = Command::new(repo_file("scripts/build-release.sh"))
        .arg("x86_64-pc-windows-gnu")
        .output()
        .expect("build-release.sh");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a Linux target"));
}
