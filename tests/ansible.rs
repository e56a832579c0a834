//! The Ansible role (`scripts/ansible/roles/hardnode`) run for real by `ansible-playbook` with
//! `connection: local`, two inventory hosts checking two fixture roots: the check, the threshold
//! that fails the play, the reports fetched to the controller, idempotence (a second run changes
//! nothing) and check mode (changes nothing).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{mixed_node, repo_file, require_tool};

/// Per-host PLAY RECAP counters (`ok`, `changed`, `failed`, …).
fn recap(output: &str, host: &str) -> std::collections::BTreeMap<String, u32> {
    let line = output
        .lines()
        .skip_while(|line| !line.starts_with("PLAY RECAP"))
        .find(|line| line.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("no recap for {host}:\n{output}"));
    line.split_whitespace()
        .filter_map(|field| field.split_once('='))
        .map(|(key, value)| (key.to_string(), value.parse().expect("count")))
        .collect()
}

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(nodes: &[(&str, &Path)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let python = String::from_utf8(
            Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("python3")
                .stdout,
        )
        .expect("utf-8");
        let mut inventory = String::from("[k8s_nodes]\n");
        for (name, root) in nodes {
            inventory.push_str(&format!(
                "{name} ansible_connection=local ansible_python_interpreter={} hardnode_root={}\n",
                python.trim(),
                root.display()
            ));
        }
        fs::write(dir.path().join("inventory.ini"), inventory).expect("inventory");
        Lab { dir }
    }

    fn path(&self, relative: &str) -> String {
        self.dir.path().join(relative).display().to_string()
    }

    fn play(&self, extra: &[&str]) -> (i32, String) {
        let vars = serde_json::json!({
            "hardnode_become": false,
            "hardnode_firewall_enabled": false,
            "hardnode_binary_src": env!("CARGO_BIN_EXE_hardnode"),
            "hardnode_install_path": self.path("nodes/{{ inventory_hostname }}/bin/hardnode"),
            "hardnode_report_dir": self.path("nodes/{{ inventory_hostname }}/var/lib/hardnode"),
            "hardnode_fetch_dir": self.path("reports"),
        });
        let output = Command::new("timeout")
            .args(["300", "ansible-playbook", "-i"])
            .arg(self.dir.path().join("inventory.ini"))
            .arg(repo_file("scripts/ansible/playbook.yml"))
            .arg("-e")
            .arg(vars.to_string())
            .args(extra)
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_HOME", self.dir.path().join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.path().join("ansible-tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .output()
            .expect("run ansible-playbook");
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), text)
    }
}

#[test]
fn role_checks_nodes_fetches_reports_and_is_idempotent() {
    let test = "role_checks_nodes_fetches_reports_and_is_idempotent";
    if !require_tool(test, "ansible-playbook") {
        return;
    }
    let healthy = mixed_node("node-a", false);
    let weak = mixed_node("node-b", true);
    let lab = Lab::new(&[("node-a", healthy.path()), ("node-b", weak.path())]);

    // Default threshold 0: the weak node fails the play, naming its failing rule.
    let (exit, output) = lab.play(&[]);
    assert_eq!(
        exit, 2,
        "a failed host makes ansible-playbook exit 2:\n{output}"
    );
    assert_eq!(recap(&output, "node-a")["failed"], 0, "{output}");
    assert!(
        recap(&output, "node-a")["changed"] >= 2,
        "installed: {output}"
    );
    assert_eq!(recap(&output, "node-b")["failed"], 1, "{output}");
    assert!(
        output.contains("1 failing rule(s) (allowed 0): kernel.seccomp-filter"),
        "{output}"
    );
    // Both reports reached the controller, each the node's own.
    for (node, fail) in [("node-a", 0), ("node-b", 1)] {
        let report: serde_json::Value = serde_json::from_slice(
            &fs::read(lab.path(&format!("reports/{node}.json"))).expect("fetched report"),
        )
        .expect("JSON");
        assert_eq!(report["host"]["hostname"], node);
        assert_eq!(report["summary"]["fail"], fail);
    }

    // A threshold of 1 lets it pass. The first run installed the binary and made the report
    // directory; this second run must change nothing on any node (idempotence).
    let (exit, output) = lab.play(&["-e", "hardnode_max_fail=1"]);
    assert_eq!(exit, 0, "{output}");
    for root in [&healthy, &weak] {
        let (_, report) = root.check_json(&[]);
        let summary = &report["summary"];
        let line = format!(
            "{} pass, {} fail, {} warn, {} skip, {} error",
            summary["pass"], summary["fail"], summary["warn"], summary["skip"], summary["error"]
        );
        assert!(output.contains(&line), "summary {line}: {output}");
    }
    for node in ["node-a", "node-b"] {
        let counts = recap(&output, node);
        assert_eq!(counts["changed"], 0, "{node} second run:\n{output}");
        assert_eq!(counts["failed"], 0, "{node}");
    }

    // Check mode: the read-only check still runs and reports; nothing changes.
    let binary = lab.path("nodes/node-a/bin/hardnode");
    let before = fs::metadata(&binary)
        .expect("installed")
        .modified()
        .expect("mtime");
    let (exit, output) = lab.play(&["--check", "-e", "hardnode_max_fail=1"]);
    assert_eq!(exit, 0, "{output}");
    for node in ["node-a", "node-b"] {
        assert_eq!(
            recap(&output, node)["changed"],
            0,
            "{node} --check:\n{output}"
        );
    }
    assert_eq!(
        fs::metadata(&binary)
            .expect("installed")
            .modified()
            .expect("mtime"),
        before
    );
}

#[test]
fn role_and_playbook_are_ansible_lint_clean() {
    if !require_tool("role_and_playbook_are_ansible_lint_clean", "ansible-lint") {
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let output = Command::new("timeout")
        .args([
            "300",
            "ansible-lint",
            "--offline",
            "--nocolor",
            "playbook.yml",
            "roles/hardnode",
        ])
        .current_dir(repo_file("scripts/ansible"))
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_HOME", home.path().join("ansible"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .output()
        .expect("run ansible-lint");
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("0 failure(s), 0 warning(s)"), "{text}");
}
