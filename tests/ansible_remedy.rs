//! The role's remediation task files (`tasks/profiles.yml`, `tasks/fix_files.yml` of
//! `scripts/ansible/roles/hardnode`, with the role's defaults) run for real by `ansible-playbook`
//! with `connection: local` against a fixture root: check mode changes nothing but reports what
//! would change, a real run installs the profiles and tightens the file, a second run reports no
//! change.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{Root, repo_file, require_root, require_tool};

fn recap(output: &str) -> std::collections::BTreeMap<String, u32> {
    let line = output
        .lines()
        .skip_while(|line| !line.starts_with("PLAY RECAP"))
        .find(|line| line.starts_with("node "))
        .unwrap_or_else(|| panic!("no recap:\n{output}"));
    line.split_whitespace()
        .filter_map(|field| field.split_once('='))
        .map(|(key, value)| (key.to_string(), value.parse().expect("count")))
        .collect()
}

#[test]
fn remediation_tasks_are_idempotent_and_honour_check_mode() {
    if !require_tool("remediation_tasks", "ansible-playbook")
        || !require_tool("remediation_tasks", "/usr/sbin/apparmor_parser")
        || !require_root("remediation_tasks")
    {
        return;
    }
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[]);
    // The kubelet is not running: 4.1.9 examines kubeadm's default config path.
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    // The (fake) kernel already lists the profile in enforce mode, so the install verifies.
    root.file(
        "/sys/kernel/security/apparmor/profiles",
        "k8s-deny-write (enforce)\n",
    );
    let lab = tempfile::tempdir().expect("tempdir");
    let python = String::from_utf8(
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3")
            .stdout,
    )
    .expect("utf-8");
    fs::write(
        lab.path().join("inventory.ini"),
        format!(
            "node ansible_connection=local ansible_python_interpreter={}\n",
            python.trim()
        ),
    )
    .expect("inventory");
    let playbook = serde_json::json!([{
        "hosts": "node",
        "gather_facts": false,
        "vars": {
            "hardnode_install_path": env!("CARGO_BIN_EXE_hardnode"),
            "hardnode_root": root.path(),
            "hardnode_profiles_apparmor_src": repo_file("examples/apparmor"),
            "hardnode_profiles_seccomp_src": repo_file("examples/seccomp"),
            "hardnode_profiles_stage_dir": lab.path().join("stage"),
            "hardnode_fix_files_only": ["4.1.9"],
        },
        // The role's task files with the role's defaults, without its install/check steps.
        "tasks": [
            {"ansible.builtin.include_role": {"name": "hardnode", "tasks_from": "profiles"}},
            {"ansible.builtin.include_role": {"name": "hardnode", "tasks_from": "fix_files"}},
        ],
    }]);
    // JSON is YAML: no YAML library needed to write the playbook.
    fs::write(lab.path().join("play.yml"), playbook.to_string()).expect("playbook");
    let play = |extra: &[&str]| {
        let output = Command::new("timeout")
            .args(["300", "ansible-playbook", "-i"])
            .arg(lab.path().join("inventory.ini"))
            .arg(lab.path().join("play.yml"))
            .args(extra)
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_HOME", lab.path().join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", lab.path().join("ansible-tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .env("ANSIBLE_ROLES_PATH", repo_file("scripts/ansible/roles"))
            .output()
            .expect("ansible-playbook");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    };
    let config_mode = || {
        fs::metadata(root.real("/var/lib/kubelet/config.yaml"))
            .expect("stat")
            .permissions()
            .mode()
            & 0o7777
    };

    // Check mode: would change (the file fix is planned), changes nothing.
    let (exit, text) = play(&["--check"]);
    assert_eq!(exit, 0, "{text}");
    assert!(recap(&text)["changed"] > 0, "{text}");
    assert_eq!(config_mode(), 0o644, "check mode changed the file");
    assert!(!root.real("/etc/apparmor.d").exists(), "{text}");
    assert!(
        !lab.path().join("stage").exists(),
        "check mode staged files"
    );

    let (exit, text) = play(&[]);
    assert_eq!(exit, 0, "{text}");
    assert!(recap(&text)["changed"] >= 3, "stage, install, fix: {text}");
    assert_eq!(config_mode(), 0o600);
    assert!(root.real("/etc/apparmor.d/k8s-deny-write").exists());
    assert!(
        root.real("/var/lib/kubelet/seccomp/profiles/fine-grained.json")
            .exists()
    );

    let (exit, text) = play(&[]);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(
        recap(&text)["changed"],
        0,
        "second run changed something: {text}"
    );
}
