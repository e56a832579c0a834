//! Smoke tests of the CLI surface, and the live run on this machine.

mod common;

use common::{code, hardnode, json};

#[test]
fn live_check_exits_0_or_1_with_valid_json() {
    let output = hardnode()
        .args(["check", "--format", "json"])
        .output()
        .expect("run");
    assert!(
        matches!(code(&output), 0 | 1),
        "exit {}: {}",
        code(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["schema"], "hardnode.report/v1");
    assert!(report["results"].as_array().is_some_and(|r| !r.is_empty()));
}

#[test]
fn rules_lists_every_rule() {
    let output = hardnode()
        .args(["rules", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let rules = json(&output);
    let ids: Vec<&str> = rules
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for id in [
        "kernel.seccomp",
        "kernel.seccomp-filter",
        "kernel.apparmor",
        "apparmor.enabled",
        "apparmor.profiles",
        "seccomp.profiles",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

#[test]
fn help_has_examples_and_version_prints() {
    let output = hardnode().arg("--help").output().expect("run");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Examples:"));
    let output = hardnode().arg("--version").output().expect("run");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("hardnode "));
}
