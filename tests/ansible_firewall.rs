//! The Ansible role's firewall remediation (`hardnode firewall apply --format json`, with
//! `changed_when` from its JSON) run for real by `ansible-playbook` with `connection: local` inside
//! a network namespace this test creates and deletes (never the machine's own): after an install
//! run, `--check` (changes nothing), then a run that changes, then a run that changes nothing
//! (idempotence).

mod common;

use std::fs;
use std::process::Command;

use common::{mixed_node, repo_file, require_root, require_tool};

/// A named network namespace, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("hardnode-ansible-{}", std::process::id());
        let status = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip netns add");
        assert!(status.success(), "cannot create network namespace {name}");
        Netns(name)
    }

    fn exec(&self) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.0]);
        command
    }

    /// The namespace's IPv4 and IPv6 rules and user chains, both backends, as iptables-save
    /// prints them. Built-in chains and empty tables are left out: merely listing a table (as a
    /// dry run does) makes the kernel create it, which changes no rule.
    fn rules(&self) -> String {
        let mut text = String::new();
        for tool in [
            "iptables-legacy-save",
            "iptables-nft-save",
            "ip6tables-legacy-save",
            "ip6tables-nft-save",
        ] {
            if let Ok(output) = self.exec().arg(tool).output() {
                const BUILT_IN: [&str; 5] = [
                    ":INPUT ",
                    ":FORWARD ",
                    ":OUTPUT ",
                    ":PREROUTING ",
                    ":POSTROUTING ",
                ];
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    let user_chain =
                        line.starts_with(':') && !BUILT_IN.iter().any(|b| line.starts_with(b));
                    if line.starts_with("-A ") || user_chain {
                        text.push_str(tool);
                        text.push(' ');
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
        }
        text
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

/// The result line Ansible printed under a task's header (`changed: [node-a]`, `ok: [node-a]`).
fn task_result(output: &str, task: &str) -> Option<String> {
    let header = format!("TASK [hardnode : {task}]");
    let mut lines = output.lines().skip_while(|line| !line.starts_with(&header));
    lines.next()?;
    lines
        .find(|line| !line.trim().is_empty())
        .map(str::to_string)
}

fn recap_changed(output: &str, host: &str) -> u32 {
    output
        .lines()
        .skip_while(|line| !line.starts_with("PLAY RECAP"))
        .find(|line| line.split_whitespace().next() == Some(host))
        .and_then(|line| {
            line.split_whitespace()
                .find_map(|field| field.strip_prefix("changed="))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no recap for {host}:\n{output}"))
}

#[test]
fn firewall_remediation_is_idempotent_and_check_mode_changes_nothing() {
    let test = "firewall_remediation_is_idempotent_and_check_mode_changes_nothing";
    if !require_root(test) {
        return;
    }
    for tool in ["ansible-playbook", "ip", "iptables"] {
        if !require_tool(test, tool) {
            return;
        }
    }
    let has_firewall = common::hardnode()
        .args(["firewall", "--help"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(has_firewall, "hardnode firewall --help failed");

    let node = mixed_node("node-a", false);
    let work = tempfile::tempdir().expect("tempdir");
    let python = String::from_utf8(
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3")
            .stdout,
    )
    .expect("utf-8");
    fs::write(
        work.path().join("inventory.ini"),
        format!(
            "[k8s_nodes]\nnode-a ansible_connection=local ansible_python_interpreter={} hardnode_root={}\n",
            python.trim(),
            node.path().display()
        ),
    )
    .expect("inventory");
    let at = |relative: &str| work.path().join(relative).display().to_string();
    let vars = serde_json::json!({
        "hardnode_become": false,
        "hardnode_max_fail": 100,
        "hardnode_max_error": -1,
        "hardnode_binary_src": env!("CARGO_BIN_EXE_hardnode"),
        "hardnode_install_path": at("node/bin/hardnode"),
        "hardnode_report_dir": at("node/var/lib/hardnode"),
        "hardnode_fetch_dir": at("reports"),
        "hardnode_firewall_enabled": true,
        // TEST-NET-1: never contacted; the rules only have to exist in the namespace.
        "hardnode_firewall_container_cidrs": ["10.244.0.0/16"],
        "hardnode_firewall_apiservers": ["192.0.2.10:6443"],
        "hardnode_firewall_persist": "rc-local",
    });
    let netns = Netns::new();
    let play = |extra: &[&str]| {
        let output = netns
            .exec()
            .args(["timeout", "300", "ansible-playbook", "-i"])
            .arg(work.path().join("inventory.ini"))
            .arg(repo_file("scripts/ansible/playbook.yml"))
            .arg("-e")
            .arg(vars.to_string())
            .args(extra)
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_HOME", work.path().join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", work.path().join("ansible-tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .output()
            .expect("run ansible-playbook");
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), text)
    };
    let rc_local = node.real("/etc/rc.local");

    // Install and check only (firewall off), so check mode has a binary to run.
    let (exit, output) = play(&["--tags", "hardnode-install"]);
    assert_eq!(exit, 0, "{output}");

    // --check: hardnode runs with --dry-run and plans; no rule and no rc.local appear.
    let rules_before = netns.rules();
    let (exit, output) = play(&["--check", "--tags", "hardnode-firewall"]);
    assert_eq!(exit, 0, "{output}");
    assert!(
        task_result(&output, "Apply the API-server firewall")
            .is_some_and(|line| line.ends_with("[node-a]") && !line.starts_with("skipping")),
        "the firewall task ran (with --dry-run) in check mode:\n{output}"
    );
    assert!(!rc_local.exists(), "--check wrote rc.local");
    assert_eq!(netns.rules(), rules_before, "--check changed the rules");

    // First real run: the firewall task changes, the rules are in the namespace and persisted.
    let (exit, output) = play(&["--tags", "hardnode-firewall"]);
    assert_eq!(exit, 0, "{output}");
    assert_eq!(
        task_result(&output, "Apply the API-server firewall").as_deref(),
        Some("changed: [node-a]"),
        "first run changes:\n{output}"
    );
    let rules = netns.rules();
    assert!(
        rules.contains("10.244.0.0/16") && rules.contains("192.0.2.10"),
        "rules in the namespace:\n{rules}"
    );
    let persisted = fs::read_to_string(&rc_local).expect("rc.local written");
    assert!(persisted.contains("10.244.0.0/16"), "{persisted}");

    // Second run: nothing changes (the check part's idempotence is tests/ansible.rs's).
    let (exit, output) = play(&["--tags", "hardnode-firewall"]);
    assert_eq!(exit, 0, "{output}");
    assert_eq!(recap_changed(&output, "node-a"), 0, "second run:\n{output}");
    assert_eq!(
        task_result(&output, "Apply the API-server firewall").as_deref(),
        Some("ok: [node-a]")
    );
    assert_eq!(netns.rules(), rules, "the second run changed the rules");
    assert_eq!(fs::read_to_string(&rc_local).expect("rc.local"), persisted);
}
