//! `hardnode firewall` against real iptables (nft and legacy), each test in network namespaces it
//! creates and deletes, with `--root` on a temp fixture so rc.local and systemd files never touch
//! this machine's /etc.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use common::{NetNs, Root, code, json, require_netns};
use serde_json::Value;

const CHAIN: &str = "HARDNODE-APISERVER";

fn fw(ns: &NetNs, root: &Root, args: &[&str]) -> (i32, Value, Output) {
    let mut full = vec!["firewall"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    let output = ns.hardnode(root, &full);
    let value = json(&output);
    (code(&output), value, output)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The base chains that jump to hardnode's chain, each with the jump's position in it.
fn jumps(rules: &[String]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for base in ["INPUT", "FORWARD", "OUTPUT"] {
        let prefix = format!("-A {base} ");
        let chain: Vec<&String> = rules.iter().filter(|r| r.starts_with(&prefix)).collect();
        for (index, rule) in chain.iter().enumerate() {
            if rule.ends_with(&format!("-j {CHAIN}")) {
                found.push((base.to_string(), index + 1));
            }
        }
    }
    found
}

fn chain_rules(rules: &[String]) -> Vec<String> {
    let prefix = format!("-A {CHAIN} ");
    rules
        .iter()
        .filter(|r| r.starts_with(&prefix))
        .cloned()
        .collect()
}

fn managed(rules: &[String]) -> bool {
    rules.iter().any(|rule| rule.contains(CHAIN))
}

const BASE: &[&str] = &[
    "--container-cidr",
    "10.244.0.0/16",
    "--apiserver",
    "192.0.2.10:6443",
];

#[test]
fn every_mode_plans_applies_once_and_removes() {
    if !require_netns("every_mode_plans_applies_once_and_removes") {
        return;
    }
    let cases: &[(&str, &[&str])] = &[
        ("output", &["OUTPUT"]),
        ("forward", &["FORWARD"]),
        ("input", &["INPUT"]),
        // The apiserver is not local here, so `all` is OUTPUT and FORWARD.
        ("all", &["FORWARD", "OUTPUT"]),
    ];
    for (mode, chains) in cases {
        let ns = NetNs::new(&format!("mode-{mode}"));
        let root = Root::new();
        let mut args: Vec<&str> = BASE.to_vec();
        args.extend(["--mode", mode]);

        let plan_args = [&["plan"][..], &args].concat();
        let (status, plan, output) = fw(&ns, &root, &plan_args);
        assert_eq!(status, 0, "{}", stderr(&output));
        assert_eq!(plan["changed"], true, "{mode}: {plan:#}");
        assert!(
            !managed(&ns.rules("iptables-nft")),
            "plan changed the kernel"
        );
        assert!(!root.real("/etc/rc.local").exists(), "plan wrote rc.local");

        let apply_args = [&["apply"][..], &args].concat();
        let (status, applied, output) = fw(&ns, &root, &apply_args);
        assert_eq!(status, 0, "{mode}: {}", stderr(&output));
        assert_eq!(applied["changed"], true);
        assert_eq!(applied["verified"], true, "{applied:#}");
        let rules = ns.rules("iptables-nft");
        let expected: Vec<(String, usize)> =
            chains.iter().map(|chain| (chain.to_string(), 1)).collect();
        assert_eq!(jumps(&rules), expected, "{mode}: {rules:#?}");
        let blocks = chain_rules(&rules);
        assert_eq!(blocks.len(), 1, "{rules:#?}");
        assert!(blocks[0].contains("-s 10.244.0.0/16 -d 192.0.2.10/32 -p tcp -m tcp --dport 6443"));
        assert!(blocks[0].contains("-j REJECT"));

        let (status, again, _) = fw(&ns, &root, &apply_args);
        assert_eq!(status, 0);
        assert_eq!(
            again["changed"], false,
            "{mode}: second apply changed: {again:#}"
        );
        assert_eq!(
            ns.rules("iptables-nft"),
            rules,
            "second apply touched the rules"
        );

        let status_args = [&["status"][..], &args].concat();
        let (status, report, _) = fw(&ns, &root, &status_args);
        assert_eq!(status, 0, "{report:#}");
        assert_eq!(report["ok"], true);

        let (status, removed, output) = fw(&ns, &root, &["remove"]);
        assert_eq!(status, 0, "{}", stderr(&output));
        assert_eq!(removed["changed"], true);
        assert!(!managed(&ns.rules("iptables-nft")));
        let rc_local = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
        assert!(!rc_local.contains("hardnode"), "{rc_local}");

        let (status, report, _) = fw(&ns, &root, &status_args);
        assert_eq!(status, 1, "status after remove must fail: {report:#}");
        let (_, again, _) = fw(&ns, &root, &["remove"]);
        assert_eq!(again["changed"], false);
    }
}

#[test]
fn ipv4_and_ipv6_with_allow_and_port_on_both_backends() {
    if !require_netns("ipv4_and_ipv6_with_allow_and_port_on_both_backends") {
        return;
    }
    for backend in ["nft", "legacy"] {
        let ns = NetNs::new(&format!("dual-{backend}"));
        let root = Root::new();
        let args = [
            "--container-cidr",
            "10.244.0.0/16",
            "--container-cidr",
            "fd00:10:244::/56",
            "--apiserver",
            "192.0.2.10:6443",
            "--apiserver",
            "[2001:db8::10]:6443",
            "--allow",
            "10.244.0.10/32",
            "--allow",
            "fd00:10:244::53/128",
            "--mode",
            "forward",
            "--backend",
            backend,
        ];
        let (status, applied, output) = fw(&ns, &root, &[&["apply"][..], &args].concat());
        assert_eq!(status, 0, "{backend}: {}", stderr(&output));
        assert_eq!(applied["verified"], true, "{applied:#}");
        assert_eq!(applied["backend"]["value"], backend);

        let v4 = ns.rules(&format!("iptables-{backend}"));
        let v6 = ns.rules(&format!("ip6tables-{backend}"));
        for (rules, allow, block) in [
            (
                &v4,
                "-s 10.244.0.10/32 -d 192.0.2.10/32",
                "-s 10.244.0.0/16 -d 192.0.2.10/32",
            ),
            (
                &v6,
                "-s fd00:10:244::53/128 -d 2001:db8::10/128",
                "-s fd00:10:244::/56 -d 2001:db8::10/128",
            ),
        ] {
            let chain = chain_rules(rules);
            assert_eq!(chain.len(), 2, "{backend}: {rules:#?}");
            // The allowed source returns before the block, both only for TCP to the port.
            assert!(
                chain[0].contains(allow) && chain[0].ends_with("-j RETURN"),
                "{chain:#?}"
            );
            assert!(
                chain[1].contains(block) && chain[1].contains("-j REJECT"),
                "{chain:#?}"
            );
            assert!(chain.iter().all(|rule| rule.contains("--dport 6443")));
            assert_eq!(jumps(rules), [("FORWARD".to_string(), 1)]);
        }
        // The other backend holds nothing of hardnode's.
        let other = if backend == "nft" { "legacy" } else { "nft" };
        assert!(!managed(&ns.rules(&format!("iptables-{other}"))));

        let rc_local = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
        assert!(rc_local.contains(&format!("/usr/sbin/iptables-{backend} -w 10")));
        assert!(rc_local.contains(&format!("/usr/sbin/ip6tables-{backend} -w 10")));

        let (_, again, _) = fw(&ns, &root, &[&["apply"][..], &args].concat());
        assert_eq!(again["changed"], false, "{backend}: {again:#}");
        let (status, report, _) = fw(&ns, &root, &[&["status"][..], &args].concat());
        assert_eq!(status, 0, "{report:#}");

        let (status, removed, _) = fw(&ns, &root, &["remove"]);
        assert_eq!(status, 0);
        assert_eq!(removed["verified"], true);
        assert!(!managed(&ns.rules(&format!("iptables-{backend}"))));
        assert!(!managed(&ns.rules(&format!("ip6tables-{backend}"))));
    }
}

#[test]
fn changed_inputs_replace_the_old_rules() {
    if !require_netns("changed_inputs_replace_the_old_rules") {
        return;
    }
    let ns = NetNs::new("replace");
    let root = Root::new();
    let (status, _, output) = fw(
        &ns,
        &root,
        &[&["apply"][..], BASE, &["--mode", "all"]].concat(),
    );
    assert_eq!(status, 0, "{}", stderr(&output));
    let (status, applied, output) = fw(
        &ns,
        &root,
        &[
            "apply",
            "--container-cidr",
            "10.42.0.0/16",
            "--apiserver",
            "192.0.2.20",
            "--mode",
            "output",
        ],
    );
    assert_eq!(status, 0, "{}", stderr(&output));
    assert_eq!(applied["changed"], true);
    let rules = ns.rules("iptables-nft");
    let chain = chain_rules(&rules);
    assert_eq!(chain.len(), 1, "{rules:#?}");
    assert!(chain[0].contains("-s 10.42.0.0/16 -d 192.0.2.20/32"));
    assert!(
        !chain[0].contains("--dport"),
        "no port given: all traffic to the address"
    );
    assert_eq!(
        jumps(&rules),
        [("OUTPUT".to_string(), 1)],
        "old FORWARD jump left"
    );
    let rc_local = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
    assert_eq!(rc_local.matches("# BEGIN hardnode firewall").count(), 1);
    assert!(rc_local.contains("10.42.0.0/16") && !rc_local.contains("10.244.0.0/16"));
}

#[test]
fn status_fails_when_an_accept_sits_before_the_jump() {
    if !require_netns("status_fails_when_an_accept_sits_before_the_jump") {
        return;
    }
    let ns = NetNs::new("shadow");
    let root = Root::new();
    let args = [&["apply"][..], BASE, &["--mode", "forward"]].concat();
    let (status, _, output) = fw(&ns, &root, &args);
    assert_eq!(status, 0, "{}", stderr(&output));
    // What flannel does: accept the pod network at the top of FORWARD.
    ns.run_ok(
        "iptables-nft",
        &["-I", "FORWARD", "1", "-s", "10.244.0.0/16", "-j", "ACCEPT"],
    );
    let status_args = [&["status"][..], BASE, &["--mode", "forward"]].concat();
    let (status, report, _) = fw(&ns, &root, &status_args);
    assert_eq!(status, 1, "{report:#}");
    let shadowed = report["rules"][0]["shadowed_by"].to_string();
    assert!(
        shadowed.contains("-s 10.244.0.0/16 -j ACCEPT"),
        "{report:#}"
    );

    // apply puts hardnode's jump back in front.
    let (status, fixed, _) = fw(&ns, &root, &args);
    assert_eq!(status, 0);
    assert_eq!(fixed["changed"], true);
    let rules = ns.rules("iptables-nft");
    assert_eq!(jumps(&rules), [("FORWARD".to_string(), 1)]);
    assert!(
        rules
            .iter()
            .any(|r| r == "-A FORWARD -s 10.244.0.0/16 -j ACCEPT"),
        "CNI rule kept"
    );
    let (status, _, _) = fw(&ns, &root, &status_args);
    assert_eq!(status, 0);
}

#[test]
fn hand_made_rules_are_reported_and_never_removed() {
    if !require_netns("hand_made_rules_are_reported_and_never_removed") {
        return;
    }
    let ns = NetNs::new("handmade");
    let root = Root::new();
    let hand_made = [
        "-I",
        "OUTPUT",
        "-s",
        "10.244.0.0/16",
        "-d",
        "192.0.2.10",
        "-j",
        "REJECT",
    ];
    ns.run_ok("iptables-nft", &hand_made);
    let args = [&["status"][..], BASE, &["--mode", "output"]].concat();
    let (status, report, _) = fw(&ns, &root, &args);
    assert_eq!(status, 1);
    assert!(
        report["warnings"]
            .to_string()
            .contains("present, not managed"),
        "{report:#}"
    );
    let (status, _, _) = fw(
        &ns,
        &root,
        &[&["apply"][..], BASE, &["--mode", "output"]].concat(),
    );
    assert_eq!(status, 0);
    let (_, _, _) = fw(&ns, &root, &["remove"]);
    let rules = ns.rules("iptables-nft");
    assert!(
        rules.iter().any(
            |r| r.starts_with("-A OUTPUT -s 10.244.0.0/16 -d 192.0.2.10/32")
                && r.contains("REJECT")
        ),
        "remove deleted a hand-made rule: {rules:#?}"
    );
}

#[test]
fn unsafe_or_malformed_input_is_refused_with_exit_2() {
    if !require_netns("unsafe_or_malformed_input_is_refused_with_exit_2") {
        return;
    }
    let ns = NetNs::new("refuse");
    let root = Root::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--container-cidr", "0.0.0.0/0", "--apiserver", "192.0.2.10"],
            "every address",
        ),
        (
            &[
                "--container-cidr",
                "::/0",
                "--apiserver",
                "[2001:db8::1]:6443",
            ],
            "every address",
        ),
        (
            &[
                "--container-cidr",
                "192.0.2.0/24",
                "--apiserver",
                "192.0.2.10",
            ],
            "contains the apiserver address 192.0.2.10",
        ),
        (
            &[
                "--container-cidr",
                "10.244.0.0/33",
                "--apiserver",
                "192.0.2.10",
            ],
            "10.244.0.0/33",
        ),
        (
            &[
                "--container-cidr",
                "10.244.0.0/16",
                "--apiserver",
                "api.example:6443",
            ],
            "api.example",
        ),
        (&["--container-cidr", "10.244.0.0/16"], "--apiserver"),
        (&["--apiserver", "192.0.2.10"], "--container-cidr"),
    ];
    for (args, message) in cases {
        let output = ns.hardnode(&root, &[&["firewall", "apply"][..], args].concat());
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(!managed(&ns.rules("iptables-nft")));
    assert!(!root.real("/etc/rc.local").exists());
}

#[test]
fn the_node_source_address_inside_the_cidr_is_refused_but_a_bridge_gateway_is_not() {
    if !require_netns(
        "the_node_source_address_inside_the_cidr_is_refused_but_a_bridge_gateway_is_not",
    ) {
        return;
    }
    let ns = NetNs::new("source");
    let root = Root::new();
    // cni0-like bridge with the pod gateway 10.244.1.1, and the node's uplink 192.0.2.5.
    ns.run_ok("ip", &["link", "add", "cni0", "type", "bridge"]);
    ns.run_ok("ip", &["addr", "add", "10.244.1.1/24", "dev", "cni0"]);
    ns.run_ok("ip", &["link", "set", "cni0", "up"]);
    ns.run_ok(
        "ip",
        &[
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "eth0-peer",
        ],
    );
    ns.run_ok("ip", &["addr", "add", "198.51.100.5/24", "dev", "eth0"]);
    ns.run_ok("ip", &["link", "set", "eth0", "up"]);
    ns.run_ok("ip", &["link", "set", "eth0-peer", "up"]);
    ns.run_ok(
        "ip",
        &["route", "add", "192.0.2.0/24", "via", "198.51.100.1"],
    );
    let (status, plan, output) = fw(&ns, &root, &[&["plan"][..], BASE].concat());
    assert_eq!(status, 0, "bridge gateway refused: {}", stderr(&output));
    assert!(
        !plan["warnings"]
            .to_string()
            .contains("cannot tell which address"),
        "{plan:#}"
    );

    let output = ns.hardnode(
        &root,
        &[
            "firewall",
            "plan",
            "--container-cidr",
            "198.51.100.0/24",
            "--apiserver",
            "192.0.2.10",
        ],
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("198.51.100.5, the address this node itself uses"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn apply_and_remove_need_root() {
    if !common::require_root("apply_and_remove_need_root")
        || !common::require_tool("apply_and_remove_need_root", "setpriv")
    {
        return;
    }
    let root = Root::new();
    for sub in [&["apply"][..], &["remove"][..]] {
        let output = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_hardnode"))
            .arg("firewall")
            .args(sub)
            .args(BASE.iter().filter(|_| sub[0] == "apply"))
            .arg("--root")
            .arg(root.path())
            .output()
            .expect("setpriv");
        assert_eq!(code(&output), 3, "{sub:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("needs root"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn rc_local_is_edited_in_place_before_exit_0_with_a_backup() {
    if !require_netns("rc_local_is_edited_in_place_before_exit_0_with_a_backup") {
        return;
    }
    let ns = NetNs::new("rclocal");
    let root = Root::new();
    let original = "#!/bin/sh -e\n# site setup\n/usr/local/bin/site-setup\n\nexit 0\n";
    root.file_mode("/etc/rc.local", original, 0o750);
    let (status, _, output) = fw(&ns, &root, &[&["apply"][..], BASE].concat());
    assert_eq!(status, 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
    assert!(text.starts_with("#!/bin/sh -e\n# site setup\n/usr/local/bin/site-setup\n"));
    assert!(text.trim_end().ends_with("exit 0"), "{text}");
    assert!(text.find("# BEGIN hardnode").expect("block") < text.rfind("exit 0").expect("exit"));
    let mode = std::fs::metadata(root.real("/etc/rc.local"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o750, "mode kept");
    assert_eq!(
        std::fs::read_to_string(root.real("/etc/rc.local.hardnode-bak")).expect("backup"),
        original
    );
    let (_, _, _) = fw(&ns, &root, &["remove"]);
    assert_eq!(
        std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local"),
        original,
        "remove must give back exactly the file without the block"
    );
}

#[test]
fn a_new_rc_local_is_an_executable_script() {
    if !require_netns("a_new_rc_local_is_an_executable_script") {
        return;
    }
    let ns = NetNs::new("rcnew");
    let root = Root::new();
    let (status, _, output) = fw(&ns, &root, &[&["apply"][..], BASE].concat());
    assert_eq!(status, 0, "{}", stderr(&output));
    let path = root.real("/etc/rc.local");
    let meta = std::fs::metadata(&path).expect("created");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with("#!/bin/sh\n") && text.trim_end().ends_with("exit 0"));
    assert!(
        !root.real("/etc/rc.local.hardnode-bak").exists(),
        "nothing to back up"
    );
}

#[test]
fn a_symlinked_rc_local_is_refused_before_any_rule_changes() {
    if !require_netns("a_symlinked_rc_local_is_refused_before_any_rule_changes") {
        return;
    }
    let ns = NetNs::new("rclink");
    let root = Root::new();
    root.file("/elsewhere/rc", "#!/bin/sh\nexit 0\n");
    root.symlink("/elsewhere/rc", "/etc/rc.local");
    let output = ns.hardnode(&root, &[&["firewall", "apply"][..], BASE].concat());
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("symbolic link"),
        "{}",
        stderr(&output)
    );
    assert!(
        !managed(&ns.rules("iptables-nft")),
        "rules applied despite the refusal"
    );
    assert_eq!(
        std::fs::read_to_string(root.real("/elsewhere/rc")).expect("target"),
        "#!/bin/sh\nexit 0\n"
    );
}

/// The reboot test: the rc.local hardnode wrote, run twice in a fresh namespace (an empty
/// kernel, as after a reboot), restores every rule exactly once, and `status` agrees.
#[test]
fn running_the_generated_rc_local_twice_restores_the_rules_once() {
    if !require_netns("running_the_generated_rc_local_twice_restores_the_rules_once") {
        return;
    }
    let root = Root::new();
    let args = [
        "--container-cidr",
        "10.244.0.0/16",
        "--container-cidr",
        "fd00:10:244::/56",
        "--apiserver",
        "192.0.2.10:6443",
        "--apiserver",
        "[2001:db8::10]:6443",
        "--allow",
        "10.244.0.10/32",
        "--mode",
        "all",
    ];
    let before;
    {
        let ns = NetNs::new("boot1");
        let (status, _, output) = fw(&ns, &root, &[&["apply"][..], &args].concat());
        assert_eq!(status, 0, "{}", stderr(&output));
        before = (ns.rules("iptables-nft"), ns.rules("ip6tables-nft"));
    }
    let after_boot = NetNs::new("boot2");
    assert!(
        !managed(&after_boot.rules("iptables-nft")),
        "fresh namespace is empty"
    );
    let rc_local = root.real("/etc/rc.local");
    let rc_local = rc_local.to_str().expect("utf-8 path");
    after_boot.run_ok("sh", &[rc_local]);
    after_boot.run_ok("sh", &[rc_local]);
    assert_eq!(after_boot.rules("iptables-nft"), before.0);
    assert_eq!(after_boot.rules("ip6tables-nft"), before.1);
    let output = after_boot.hardnode(
        &root,
        &[&["firewall", "status", "--format", "json"][..], &args].concat(),
    );
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn dry_runs_change_nothing() {
    if !require_netns("dry_runs_change_nothing") {
        return;
    }
    let ns = NetNs::new("dry");
    let root = Root::new();
    let (status, plan, _) = fw(&ns, &root, &[&["apply", "--dry-run"][..], BASE].concat());
    assert_eq!(status, 0);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["changed"], true, "reports what it would change");
    assert!(
        plan["changes"][0]["script"]
            .to_string()
            .contains("-A HARDNODE-APISERVER")
    );
    assert!(
        plan["boot_lines"]
            .to_string()
            .contains("iptables-nft -w 10 -C")
    );
    assert!(!managed(&ns.rules("iptables-nft")));
    assert!(!root.real("/etc/rc.local").exists());

    let (status, _, _) = fw(&ns, &root, &[&["apply"][..], BASE].concat());
    assert_eq!(status, 0);
    let (status, removal, _) = fw(&ns, &root, &["remove", "--dry-run"]);
    assert_eq!(status, 0);
    assert_eq!(removal["changed"], true);
    assert!(
        managed(&ns.rules("iptables-nft")),
        "remove --dry-run removed rules"
    );
    let rc_local = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
    assert!(rc_local.contains("# BEGIN hardnode"));
}

#[test]
fn the_backend_kube_proxy_uses_is_detected() {
    if !require_netns("the_backend_kube_proxy_uses_is_detected") {
        return;
    }
    let root = Root::new();
    for (backend, table, chain, source) in [
        (
            "legacy",
            "mangle",
            "KUBE-IPTABLES-HINT",
            "KUBE-IPTABLES-HINT",
        ),
        ("nft", "mangle", "KUBE-IPTABLES-HINT", "KUBE-IPTABLES-HINT"),
        ("legacy", "filter", "KUBE-FORWARD", "KUBE-* chains"),
    ] {
        let ns = NetNs::new(&format!("backend-{backend}-{table}"));
        ns.run_ok(&format!("iptables-{backend}"), &["-t", table, "-N", chain]);
        let (status, plan, _) = fw(&ns, &root, &[&["plan"][..], BASE].concat());
        assert_eq!(status, 0);
        assert_eq!(plan["backend"]["value"], backend, "{plan:#}");
        assert!(
            plan["backend"]["source"].to_string().contains(source),
            "{plan:#}"
        );
    }
}

#[test]
fn remove_clears_both_backends() {
    if !require_netns("remove_clears_both_backends") {
        return;
    }
    let ns = NetNs::new("both");
    let root = Root::new();
    let (status, _, _) = fw(
        &ns,
        &root,
        &[&["apply", "--backend", "nft"][..], BASE].concat(),
    );
    assert_eq!(status, 0);
    let (status, applied, _) = fw(
        &ns,
        &root,
        &[&["apply", "--backend", "legacy"][..], BASE].concat(),
    );
    assert_eq!(status, 0);
    assert!(
        applied["warnings"]
            .to_string()
            .contains("iptables-nft holds hardnode rules too"),
        "{applied:#}"
    );
    assert!(managed(&ns.rules("iptables-nft")) && managed(&ns.rules("iptables-legacy")));
    let (status, removed, _) = fw(&ns, &root, &["remove"]);
    assert_eq!(status, 0, "{removed:#}");
    assert!(!managed(&ns.rules("iptables-nft")));
    assert!(!managed(&ns.rules("iptables-legacy")));
}
