//! Capabilities are dropped before the first read: under `strace`, each command's first
//! `capset` comes before any open, stat or listing of a path under the root or of the site
//! config (privilege.rs says exactly what comes first: nothing but `capget`/`prctl`).

mod common;

use std::process::Command;

use common::{Root, require_root, require_tool};

/// The strace lines of one run, with every path syscall and `capset`.
fn trace(root: &Root, config: &std::path::Path, args: &[&str]) -> Vec<String> {
    let log = root.path().with_extension("order.strace");
    let output = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=capset,%file,%desc"])
        .arg("-o")
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin("hardnode"))
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--root")
        .arg(root.path())
        .output()
        .expect("run strace");
    assert_ne!(output.status.code(), Some(101), "panicked");
    let text = std::fs::read_to_string(&log).expect("strace log");
    let _ = std::fs::remove_file(&log);
    text.lines().map(String::from).collect()
}

#[test]
fn capabilities_are_dropped_before_the_first_read_of_the_root_or_the_site_config() {
    if !require_root("capabilities_are_dropped_before_the_first_read")
        || !require_tool("capabilities_are_dropped_before_the_first_read", "strace")
    {
        return;
    }
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.file("/etc/kubernetes/admin.conf", "kind: Config\n");
    let config_dir = tempfile::tempdir().expect("config dir");
    let config = config_dir.path().join("site.toml");
    std::fs::write(&config, "").expect("write site config");
    let root_text = root.path().to_str().expect("utf8").to_string();
    let config_text = config_dir.path().to_str().expect("utf8").to_string();
    for args in [
        &["check", "--format", "json"][..],
        &["facts"][..],
        &["fix", "files", "--dry-run", "--format", "json"][..],
        &["profiles", "status", "--format", "json"][..],
    ] {
        let lines = trace(&root, &config, args);
        let first_drop = lines
            .iter()
            .position(|line| line.contains("capset("))
            .unwrap_or_else(|| panic!("{args:?}: no capset at all"));
        let first_read = lines
            .iter()
            .position(|line| {
                !line.contains("execve(")
                    && (line.contains(&root_text) || line.contains(&config_text))
            })
            .unwrap_or_else(|| panic!("{args:?}: the root was never read"));
        assert!(
            first_drop < first_read,
            "{args:?}: `{}` before the first capset `{}`",
            lines[first_read],
            lines[first_drop]
        );
    }
}
