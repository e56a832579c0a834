//! The boot side of `hardnode firewall`: the rc.local hardnode writes is what Debian's
//! `systemd-rc-local-generator` enables, hosts where rc.local never runs are warned about, and
//! `--persist systemd` writes a unit that `systemd-analyze verify` accepts and whose script
//! restores the rules once in a fresh namespace. Real tools against fixture roots; iptables only
//! inside namespaces the tests create.

mod common;

use std::process::{Command, Output};

use common::{NetNs, Root, code, json, require_netns, require_root, require_tool};

const GENERATOR: &str = "/usr/lib/systemd/system-generators/systemd-rc-local-generator";
const ARGS: &[&str] = &[
    "--container-cidr",
    "10.244.0.0/16",
    "--apiserver",
    "192.0.2.10:6443",
    "--mode",
    "all",
];

fn fw(ns: &NetNs, root: &Root, sub: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["firewall", sub];
    if sub != "remove" {
        args.extend_from_slice(ARGS);
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--format", "json"]);
    let output = ns.hardnode(root, &args);
    (code(&output), json(&output))
}

/// Makes `root` usable as a chroot / `--root` for systemd tools: the host's /usr bind-mounted
/// inside a private mount namespace (undone when the command exits), merged-usr symlinks.
fn with_host_usr(root: &Root, script: &str) -> Output {
    root.dir("/usr");
    for (link, target) in [
        ("/bin", "usr/bin"),
        ("/sbin", "usr/sbin"),
        ("/lib", "usr/lib"),
        ("/lib64", "usr/lib64"),
    ] {
        if root.real(link).symlink_metadata().is_err() {
            root.symlink(target, link);
        }
    }
    let root_path = root.path().to_str().expect("utf-8 root");
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount --bind /usr '{root_path}/usr' && {script}"))
        .env("ROOT", root_path)
        .output()
        .expect("unshare -m")
}

fn generate(root: &Root) -> (Output, bool) {
    let out = root.dir("/gen");
    let _ = std::fs::remove_dir_all(&out);
    root.dir("/gen");
    let output = with_host_usr(
        root,
        &format!("chroot \"$ROOT\" {GENERATOR} /gen /gen /gen"),
    );
    let enabled = root
        .real("/gen/multi-user.target.wants/rc-local.service")
        .symlink_metadata()
        .is_ok();
    (output, enabled)
}

#[test]
fn the_generated_rc_local_is_enabled_by_systemd_rc_local_generator() {
    let test = "the_generated_rc_local_is_enabled_by_systemd_rc_local_generator";
    if !require_netns(test) || !require_tool(test, "unshare") || !require_tool(test, "chroot") {
        return;
    }
    assert!(
        std::path::Path::new(GENERATOR).exists() || !common::in_ci(),
        "{GENERATOR} missing; scripts/test.sh installs systemd"
    );
    if !std::path::Path::new(GENERATOR).exists() {
        eprintln!("{test}: skipped (no {GENERATOR})");
        return;
    }
    let ns = NetNs::new("gen");
    let root = Root::new();
    let (status, applied) = fw(&ns, &root, "apply", &[]);
    assert_eq!(status, 0, "{applied:#}");
    let (output, enabled) = generate(&root);
    assert!(
        enabled,
        "generator did not enable rc-local.service: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Control: the same file without the execute bit is skipped by the generator.
    root.chmod("/etc/rc.local", 0o644);
    let (output, enabled) = generate(&root);
    assert!(!enabled);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not marked executable"));
    // …and hardnode's status says so, and apply makes it executable again.
    let (status, report) = fw(&ns, &root, "status", &[]);
    assert_eq!(status, 1, "{report:#}");
    let (status, _) = fw(&ns, &root, "apply", &[]);
    assert_eq!(status, 0);
    let (_, enabled) = generate(&root);
    assert!(enabled, "apply must leave rc.local executable");
}

#[test]
fn a_systemd_host_without_the_generator_is_warned_and_fails_status() {
    let test = "a_systemd_host_without_the_generator_is_warned_and_fails_status";
    if !require_netns(test) {
        return;
    }
    let ns = NetNs::new("nogen");
    let root = Root::new();
    root.file_mode("/usr/lib/systemd/systemd", "", 0o755);
    let (status, plan) = fw(&ns, &root, "plan", &[]);
    assert_eq!(status, 0);
    assert!(
        plan["warnings"].to_string().contains("never runs at boot"),
        "{plan:#}"
    );
    let (status, applied) = fw(&ns, &root, "apply", &[]);
    assert_eq!(status, 0, "{applied:#}");
    let (status, report) = fw(&ns, &root, "status", &[]);
    assert_eq!(status, 1, "rc.local never runs here: {report:#}");
    assert_eq!(report["persisted"]["runs_at_boot"], false);

    // With the generator present the same root is fine.
    root.file_mode(
        "/usr/lib/systemd/system-generators/systemd-rc-local-generator",
        "",
        0o755,
    );
    let (status, report) = fw(&ns, &root, "status", &[]);
    assert_eq!(status, 0, "{report:#}");
    // And --persist systemd is the way out on the generator-less host.
    let bare = Root::new();
    bare.file_mode("/usr/lib/systemd/systemd", "", 0o755);
    let (status, plan) = fw(&ns, &bare, "plan", &["--persist", "systemd"]);
    assert_eq!(status, 0);
    assert!(
        !plan["warnings"].to_string().contains("never runs"),
        "{plan:#}"
    );
}

#[test]
fn the_systemd_unit_restores_the_rules_once_and_is_removed() {
    let test = "the_systemd_unit_restores_the_rules_once_and_is_removed";
    if !require_netns(test) {
        return;
    }
    let root = Root::new();
    let before = {
        let ns = NetNs::new("unit1");
        let (status, applied) = fw(&ns, &root, "apply", &["--persist", "systemd"]);
        assert_eq!(status, 0, "{applied:#}");
        assert_eq!(applied["verified"], true);
        let (_, again) = fw(&ns, &root, "apply", &["--persist", "systemd"]);
        assert_eq!(again["changed"], false, "{again:#}");
        ns.rules("iptables-nft")
    };
    let unit = std::fs::read_to_string(root.real("/etc/systemd/system/hardnode-firewall.service"))
        .expect("unit");
    assert!(unit.contains("Type=oneshot") && unit.contains("Before=kubelet.service"));
    assert!(unit.contains("ExecStart=/bin/sh /etc/hardnode/firewall.sh"));
    let link = std::fs::read_link(
        root.real("/etc/systemd/system/multi-user.target.wants/hardnode-firewall.service"),
    )
    .expect("enabled");
    assert_eq!(
        link,
        std::path::Path::new("/etc/systemd/system/hardnode-firewall.service")
    );
    assert!(
        !root.real("/etc/rc.local").exists(),
        "systemd persistence leaves rc.local alone"
    );

    let booted = NetNs::new("unit2");
    let script = root.real("/etc/hardnode/firewall.sh");
    let script = script.to_str().expect("utf-8");
    booted.run_ok("sh", &[script]);
    booted.run_ok("sh", &[script]);
    assert_eq!(booted.rules("iptables-nft"), before);
    let (status, report) = fw(&booted, &root, "status", &["--persist", "systemd"]);
    assert_eq!(status, 0, "{report:#}");

    let (status, removed) = fw(&booted, &root, "remove", &[]);
    assert_eq!(status, 0, "{removed:#}");
    for path in [
        "/etc/hardnode/firewall.sh",
        "/etc/systemd/system/hardnode-firewall.service",
        "/etc/systemd/system/multi-user.target.wants/hardnode-firewall.service",
    ] {
        assert!(
            root.real(path).symlink_metadata().is_err(),
            "{path} left behind"
        );
    }
    assert!(
        !booted
            .rules("iptables-nft")
            .iter()
            .any(|r| r.contains("HARDNODE"))
    );
}

/// `systemd-analyze verify --root` needs the root to hold systemd's own units and `/bin/sh`; the
/// host's /usr is bind-mounted into the fixture in a private mount namespace for that.
#[test]
fn systemd_analyze_verifies_the_unit() {
    let test = "systemd_analyze_verifies_the_unit";
    if !require_netns(test) || !require_tool(test, "systemd-analyze") || !require_root(test) {
        return;
    }
    let ns = NetNs::new("verify");
    let root = Root::new();
    let (status, applied) = fw(&ns, &root, "apply", &["--persist", "systemd"]);
    assert_eq!(status, 0, "{applied:#}");
    let output = with_host_usr(
        &root,
        "systemd-analyze verify --root=\"$ROOT\" hardnode-firewall.service",
    );
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "verify failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Control: verify really checks this file — a unit whose ExecStart is missing fails.
    let unit = root.real("/etc/systemd/system/hardnode-firewall.service");
    let text = std::fs::read_to_string(&unit).expect("unit");
    std::fs::write(
        &unit,
        text.replace("ExecStart=/bin/sh", "ExecStart=/nonexistent/sh"),
    )
    .expect("break unit");
    let output = with_host_usr(
        &root,
        "systemd-analyze verify --root=\"$ROOT\" hardnode-firewall.service",
    );
    assert!(!output.status.success(), "verify accepted a broken unit");
}

#[test]
fn switching_persistence_moves_the_rules_out_of_the_old_place() {
    let test = "switching_persistence_moves_the_rules_out_of_the_old_place";
    if !require_netns(test) {
        return;
    }
    let ns = NetNs::new("switch");
    let root = Root::new();
    let (status, _) = fw(&ns, &root, "apply", &[]);
    assert_eq!(status, 0);
    let (status, moved) = fw(&ns, &root, "apply", &["--persist", "systemd"]);
    assert_eq!(status, 0, "{moved:#}");
    assert_eq!(moved["changed"], true);
    let rc_local = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local kept");
    assert!(!rc_local.contains("hardnode"), "old block left: {rc_local}");
    assert!(
        root.real("/etc/systemd/system/hardnode-firewall.service")
            .exists()
    );
    let (_, again) = fw(&ns, &root, "apply", &["--persist", "systemd"]);
    assert_eq!(again["changed"], false, "{again:#}");
    let (_, back) = fw(&ns, &root, "apply", &[]);
    assert_eq!(back["changed"], true);
    assert!(
        !root
            .real("/etc/systemd/system/hardnode-firewall.service")
            .exists()
    );
    assert!(
        std::fs::read_to_string(root.real("/etc/rc.local"))
            .expect("rc.local")
            .contains("# BEGIN hardnode")
    );
}
