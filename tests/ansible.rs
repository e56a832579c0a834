//! The Ansible role (`scripts/ansible/roles/hardnode`) run for real by `ansible-playbook` with
//! `connection: local`, two inventory hosts checking two fixture roots: the check, the threshold
//! that fails the play, the reports fetched to the controller, idempotence (a second run changes
//! nothing) and check mode (changes nothing); remediation before the gate (a node that fails only
//! what `fix files` repairs passes the play), and `--check --diff` on a fresh and on an installed
//! node (nothing written, the node's report untouched).

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
        self.play_with(serde_json::json!({}), extra)
    }

    fn play_with(&self, more: serde_json::Value, extra: &[&str]) -> (i32, String) {
        let mut vars = serde_json::json!({
            "hardnode_become": false,
            "hardnode_firewall_enabled": false,
            "hardnode_binary_src": env!("CARGO_BIN_EXE_hardnode"),
            "hardnode_install_path": self.path("nodes/{{ inventory_hostname }}/bin/hardnode"),
            "hardnode_report_dir": self.path("nodes/{{ inventory_hostname }}/var/lib/hardnode"),
            "hardnode_fetch_dir": self.path("reports"),
        });
        if let (Some(vars), Some(more)) = (vars.as_object_mut(), more.as_object()) {
            for (key, value) in more {
                // null: leave the variable to the playbook and the role.
                if value.is_null() {
                    vars.remove(key);
                } else {
                    vars.insert(key.clone(), value.clone());
                }
            }
        }
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

/// The mode bits of a file.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn role_remediates_before_the_gate_and_check_diff_changes_nothing() {
    let test = "role_remediates_before_the_gate_and_check_diff_changes_nothing";
    if !require_tool(test, "ansible-playbook") || !common::require_root(test) {
        return;
    }
    // A node whose only failing rule is one `fix files` repairs: kubelet.config-file-mode (4.1.9).
    let node = mixed_node("node-c", false);
    node.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    let config = node.real("/var/lib/kubelet/config.yaml");
    let lab = Lab::new(&[("node-c", node.path())]);
    let fix = serde_json::json!({"hardnode_fix_files_enabled": true});
    let installed = lab.path("nodes/node-c/bin/hardnode");
    let report = lab.path("nodes/node-c/var/lib/hardnode/report.json");

    // --check --diff on a fresh node: succeeds, installs nothing, writes no report, fixes nothing.
    let (exit, output) = lab.play_with(fix.clone(), &["--check", "--diff"]);
    assert_eq!(exit, 0, "--check --diff on a fresh node:\n{output}");
    assert!(!Path::new(&installed).exists(), "{output}");
    assert!(!Path::new(&lab.path("nodes/node-c")).exists(), "{output}");
    assert!(!Path::new(&lab.path("reports/node-c.json")).exists());
    assert_eq!(mode(&config), 0o644);

    // A real run with the default threshold (0): the fix runs before the gate, which judges
    // the repaired node and passes.
    let (exit, output) = lab.play_with(fix.clone(), &[]);
    assert_eq!(exit, 0, "the remediated node passes the gate:\n{output}");
    assert_eq!(mode(&config), 0o600, "fix files ran");
    let fetched: serde_json::Value =
        serde_json::from_slice(&fs::read(lab.path("reports/node-c.json")).expect("fetched report"))
            .expect("JSON");
    assert_eq!(
        fetched["summary"]["fail"], 0,
        "the gate's report is after the fix"
    );
    assert_eq!(
        common::status(&fetched, "kubelet.config-file-mode"),
        "pass",
        "{fetched}"
    );

    // Second run: nothing changes (molecule's idempotence test).
    let (exit, output) = lab.play_with(fix.clone(), &[]);
    assert_eq!(exit, 0, "{output}");
    assert_eq!(
        recap(&output, "node-c")["changed"],
        0,
        "second run:\n{output}"
    );

    // --check --diff on the installed node: the check runs, nothing changes, the node's report is
    // the last real run's, byte for byte.
    let before = fs::read(&report).expect("node report");
    node.chmod("/var/lib/kubelet/config.yaml", 0o644);
    let (exit, output) = lab.play_with(fix, &["--check", "--diff"]);
    assert_eq!(exit, 0, "--check --diff on an installed node:\n{output}");
    assert!(
        recap(&output, "node-c")["changed"] >= 1,
        "the planned fix is shown as a change:\n{output}"
    );
    assert!(
        output.contains("kubelet.config-file-mode"),
        "check mode names what the gate would see:\n{output}"
    );
    assert_eq!(mode(&config), 0o644, "--check fixed the file");
    assert_eq!(
        fs::read(&report).expect("node report"),
        before,
        "--check rewrote the report"
    );
}

#[test]
fn the_gate_does_not_count_a_current_waiver_and_counts_an_expired_one() {
    let test = "the_gate_does_not_count_a_current_waiver_and_counts_an_expired_one";
    if !require_tool(test, "ansible-playbook") {
        return;
    }
    // Fails only 4.1.9 (kubelet.config-file-mode); no fix: the waiver decides.
    let node = mixed_node("node-w", false);
    node.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    let lab = Lab::new(&[("node-w", node.path())]);
    let with_waiver = |expires: &str| {
        let config = node.file(
            "/etc/hardnode/waivers.toml",
            format!(
                "[[waiver]]\nrule = \"4.1.9\"\nreason = \"managed by the legacy agent, OPS-1\"\nexpires = \"{expires}\"\n"
            ),
        );
        lab.play_with(
            serde_json::json!({"hardnode_check_args": ["--config", config.display().to_string()]}),
            &[],
        )
    };
    let (exit, output) = with_waiver("2099-12-31");
    assert_eq!(exit, 0, "a current waiver does not count:\n{output}");
    let (exit, output) = with_waiver("2020-01-01");
    assert_eq!(exit, 2, "an expired waiver counts again:\n{output}");
    assert!(
        output.contains("1 failing rule(s) (allowed 0): kubelet.config-file-mode"),
        "{output}"
    );
}

#[test]
fn example_playbook_enables_no_firewall_without_the_operators_addresses() {
    let test = "example_playbook_enables_no_firewall_without_the_operators_addresses";
    if !require_tool(test, "ansible-playbook") {
        return;
    }
    let node = mixed_node("node-d", false);
    let lab = Lab::new(&[("node-d", node.path())]);
    // The play's own `hardnode_firewall_enabled` (the lab's `false` removed), one address list
    // given: the firewall task is skipped, never run with a guessed address.
    let (exit, output) = lab.play_with(
        serde_json::json!({
            "hardnode_firewall_enabled": null,
            "hardnode_firewall_container_cidrs": ["10.244.0.0/16"],
        }),
        &[],
    );
    assert_eq!(exit, 0, "{output}");
    let firewall = output
        .lines()
        .skip_while(|line| !line.starts_with("TASK [hardnode : Apply the API-server firewall]"))
        .nth(1)
        .unwrap_or_default();
    assert_eq!(firewall, "skipping: [node-d]", "{output}");
    let text = fs::read_to_string(repo_file("scripts/ansible/playbook.yml")).expect("playbook");
    assert!(
        !text.contains("hardnode_firewall_apiservers: ["),
        "the example playbook sets no addresses:\n{text}"
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
