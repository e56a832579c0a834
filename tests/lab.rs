//! The Vagrant lab (`vagrant/`), as far as it can be exercised without booting VMs: the
//! Vagrantfile validated by Vagrant itself, every shell script shellcheck-clean, the AppArmor
//! profile compiled by `apparmor_parser` (without loading it), the seccomp profiles linted by
//! hardnode, and the lab's hardnode provisioning steps run against a fixture root.

mod common;

use std::fs;
use std::process::Command;

use common::{code, hardnode, mixed_node, repo_file, require_tool, status};

fn vagrant_validate(workers: &str) -> (i32, String) {
    vagrant_validate_for(workers, None)
}

/// `vagrant validate`; with a provider, its configuration is validated too (the provider must be
/// installed: vagrant-libvirt is, VirtualBox cannot be on this machine), else `--ignore-provider`.
fn vagrant_validate_for(workers: &str, provider: Option<&str>) -> (i32, String) {
    let home = tempfile::tempdir().expect("vagrant home");
    let mut command = Command::new("timeout");
    command.args(["300", "vagrant", "validate"]);
    match provider {
        Some(provider) => command.env("VAGRANT_DEFAULT_PROVIDER", provider),
        None => command.arg("--ignore-provider"),
    };
    let output = command
        .current_dir(repo_file("vagrant"))
        .env("VAGRANT_HOME", home.path().join("vagrant.d"))
        .env("VAGRANT_DOTFILE_PATH", home.path().join("dotfile"))
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .env("HARDNODE_WORKERS", workers)
        .output()
        .expect("run vagrant");
    (
        code(&output),
        String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn vagrantfile_validates_offline() {
    if !require_tool("vagrantfile_validates_offline", "vagrant") {
        return;
    }
    let (exit, output) = vagrant_validate("1");
    assert_eq!(exit, 0, "{output}");
    assert!(
        output.contains("Vagrantfile validated successfully"),
        "{output}"
    );
    for machine in ["control-plane", "worker-1"] {
        assert!(output.contains(&format!("==> {machine}:")), "{output}");
    }
    let (exit, output) = vagrant_validate("3");
    assert_eq!(exit, 0, "{output}");
    assert!(
        output.contains("==> worker-3:"),
        "HARDNODE_WORKERS adds nodes: {output}"
    );
}

#[test]
fn vagrantfile_validates_for_libvirt_and_virtualbox_and_bounds_the_workers() {
    let test = "vagrantfile_validates_for_libvirt_and_virtualbox_and_bounds_the_workers";
    if !require_tool(test, "vagrant") {
        return;
    }
    // libvirt: the provider's own validation (vagrant-libvirt, Debian's package).
    let plugins = Command::new("vagrant")
        .args(["plugin", "list"])
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .output()
        .expect("vagrant plugin list");
    let has_libvirt = String::from_utf8_lossy(&plugins.stdout).contains("vagrant-libvirt");
    assert!(
        has_libvirt || !common::in_ci(),
        "vagrant-libvirt is missing; scripts/test.sh installs it"
    );
    if has_libvirt {
        let (exit, output) = vagrant_validate_for("2", Some("libvirt"));
        assert_eq!(exit, 0, "libvirt: {output}");
        assert!(
            output.contains("Vagrantfile validated successfully"),
            "{output}"
        );
    }
    // VirtualBox cannot be installed here (not in Debian main): its half is checked without the
    // provider's own validation.
    let (exit, output) = vagrant_validate_for("2", None);
    assert_eq!(exit, 0, "{output}");
    // The host-only /24 bounds the workers (.11 to .254).
    let (exit, output) = vagrant_validate("244");
    assert_eq!(exit, 0, "244 workers fit: {output}");
    for workers in ["245", "-1", "many"] {
        let (exit, output) = vagrant_validate(workers);
        assert_ne!(exit, 0, "{workers}: {output}");
        assert!(
            output.contains("HARDNODE_WORKERS must be a number from 0 to 244"),
            "{output}"
        );
    }
    let vagrantfile = fs::read_to_string(repo_file("vagrant/Vagrantfile")).expect("Vagrantfile");
    // One-way copy without the build output; a box published for both providers.
    assert!(
        vagrantfile.contains("type: \"rsync\""),
        "rsync synced folder"
    );
    assert!(vagrantfile.contains("\"target/\""), "target/ is not synced");
    assert!(vagrantfile.contains("generic/ubuntu2204"));
    // The CNI manifest is pinned; nothing reads a `latest` URL; the join needs no shared folder.
    let control_plane =
        fs::read_to_string(repo_file("vagrant/provision/control-plane.sh")).expect("script");
    assert!(control_plane.contains("releases/download/${FLANNEL_VERSION}/kube-flannel.yml"));
    assert!(!control_plane.contains("latest"));
    assert!(vagrantfile.contains("FLANNEL_VERSION = ENV.fetch(\"HARDNODE_FLANNEL\", \"v0."));
    let worker = fs::read_to_string(repo_file("vagrant/provision/worker.sh")).expect("script");
    assert!(
        !worker.contains("/hardnode/vagrant/"),
        "no synced-folder hand-off"
    );
    assert!(worker.contains("--token \"$JOIN_TOKEN\""));
}

#[test]
fn shell_scripts_are_shellcheck_clean() {
    if !require_tool("shell_scripts_are_shellcheck_clean", "shellcheck") {
        return;
    }
    let mut scripts = Vec::new();
    for dir in ["scripts", "vagrant/provision"] {
        for entry in fs::read_dir(repo_file(dir)).expect("list scripts") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "sh") {
                scripts.push(path);
            }
        }
    }
    assert!(scripts.len() >= 8, "{scripts:?}");
    let output = Command::new("shellcheck")
        .args(&scripts)
        .output()
        .expect("shellcheck");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn apparmor_profile_compiles_and_a_broken_one_does_not() {
    if !require_tool(
        "apparmor_profile_compiles_and_a_broken_one_does_not",
        "apparmor_parser",
    ) {
        return;
    }
    let compile = |path: &std::path::Path| {
        Command::new("apparmor_parser")
            .args(["--skip-kernel-load", "--skip-cache"])
            .arg(path)
            .output()
            .expect("apparmor_parser")
    };
    let profile = repo_file("examples/apparmor/k8s-deny-write");
    let output = compile(&profile);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("k8s-deny-write");
    let text = fs::read_to_string(&profile).expect("profile");
    fs::write(&broken, text.replace("deny /opt/** w,", "deny /opt/** w")).expect("write");
    assert!(
        !compile(&broken).status.success(),
        "a syntax error must not compile"
    );
}

#[test]
fn lab_seccomp_profiles_lint_clean() {
    let files: Vec<_> = ["audit", "violation", "fine-grained"]
        .iter()
        .map(|name| repo_file(&format!("examples/seccomp/profiles/{name}.json")))
        .collect();
    let output = hardnode()
        .args(["seccomp", "lint", "--format", "json"])
        .args(&files)
        .output()
        .expect("lint");
    assert_eq!(code(&output), 0);
    let results = common::json(&output);
    for result in results.as_array().expect("results") {
        assert_eq!(result["valid"], true, "{result}");
    }
}

#[test]
fn lab_provisioning_installs_profiles_and_runs_hardnode_on_a_fixture_root() {
    let test = "lab_provisioning_installs_profiles_and_runs_hardnode_on_a_fixture_root";
    if !require_tool(test, "apparmor_parser") {
        return;
    }
    // A lab node as the kernel would show it once profiles.sh loaded k8s-deny-write.
    let root = mixed_node("control-plane", false);
    fs::remove_dir(root.real("/sys/kernel/security/apparmor/profiles")).expect("rmdir");
    root.file(
        "/sys/kernel/security/apparmor/profiles",
        "cri-containerd.apparmor.d (enforce)\nk8s-deny-write (enforce)\n",
    );

    let profiles = Command::new("bash")
        .arg(repo_file("vagrant/provision/profiles.sh"))
        .env("LAB_ROOT", root.path())
        .env("REPO", env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("profiles.sh");
    assert!(
        profiles.status.success(),
        "{}",
        String::from_utf8_lossy(&profiles.stderr)
    );
    for name in ["audit", "violation", "fine-grained"] {
        assert!(
            root.real(&format!("/var/lib/kubelet/seccomp/profiles/{name}.json"))
                .is_file()
        );
    }
    assert!(root.real("/etc/apparmor.d/k8s-deny-write").is_file());

    let run = Command::new("bash")
        .arg(repo_file("vagrant/provision/hardnode.sh"))
        .env("LAB_ROOT", root.path())
        .env("BINARY", env!("CARGO_BIN_EXE_hardnode"))
        .output()
        .expect("hardnode.sh");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(
        &fs::read(root.real("/var/lib/hardnode/report.json")).expect("report.json"),
    )
    .expect("JSON");
    // The site policy profiles.sh wrote requires exactly what it installed.
    assert_eq!(status(&report, "seccomp.profiles"), "pass", "{report:#}");
    assert_eq!(status(&report, "apparmor.profiles"), "pass", "{report:#}");
    assert!(
        stdout.contains("hardnode.sh: every rule passes"),
        "{stdout}"
    );
    let textfile =
        fs::read_to_string(root.real("/var/lib/hardnode/hardnode.prom")).expect("textfile");
    assert!(textfile.contains("hardnode_checks{status=\"fail\"} 0"));

    // Without the binary the step says what to do.
    let missing = Command::new("bash")
        .arg(repo_file("vagrant/provision/hardnode.sh"))
        .env("LAB_ROOT", root.path())
        .env("BINARY", root.real("/nonexistent"))
        .output()
        .expect("hardnode.sh");
    assert_eq!(code(&missing), 1);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("scripts/build-release.sh"));
}
