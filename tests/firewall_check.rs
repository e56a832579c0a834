//! The `firewall.apiserver-blocked` rule of `hardnode check`, the `[firewall]` site config, and
//! auto-detection of the container CIDR and apiserver from a fixture root. iptables only inside
//! namespaces the tests create.

mod common;

use common::{NetNs, Root, code, json, require_netns, result, status};

const POLICY: &str = "[firewall]
container_cidrs = [\"10.244.0.0/16\"]
apiservers = [\"192.0.2.10:6443\"]
mode = \"forward\"
";

fn check(ns: &NetNs, root: &Root) -> (i32, serde_json::Value) {
    let output = ns.hardnode(root, &["check", "--format", "json", "--only", "firewall"]);
    (code(&output), json(&output))
}

#[test]
fn without_a_policy_the_rule_is_skipped() {
    if !require_netns("without_a_policy_the_rule_is_skipped") {
        return;
    }
    let ns = NetNs::new("chk-skip");
    let root = Root::new();
    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 0);
    assert_eq!(status(&report, "firewall.apiserver-blocked"), "skip");
    assert!(
        result(&report, "firewall.apiserver-blocked")["reason"]
            .to_string()
            .contains("[firewall]")
    );
}

#[test]
fn a_configured_policy_fails_until_applied_then_passes() {
    if !require_netns("a_configured_policy_fails_until_applied_then_passes") {
        return;
    }
    let ns = NetNs::new("chk");
    let root = Root::new();
    root.file("/etc/hardnode/config.toml", POLICY);
    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 1, "{report:#}");
    assert_eq!(status(&report, "firewall.apiserver-blocked"), "fail");
    let finding = result(&report, "firewall.apiserver-blocked");
    assert_eq!(finding["actual"], "not in place");
    assert!(
        finding["reason"].to_string().contains("does not exist"),
        "{finding:#}"
    );

    // `firewall apply` with no flags takes the site config, and says so.
    let output = ns.hardnode(&root, &["firewall", "apply", "--format", "json"]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let applied = json(&output);
    assert!(
        applied["inputs"]["container_cidrs"][0]["source"]
            .to_string()
            .contains("site config /etc/hardnode/config.toml"),
        "{applied:#}"
    );
    assert_eq!(applied["inputs"]["hooks"], serde_json::json!(["FORWARD"]));

    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(status(&report, "firewall.apiserver-blocked"), "pass");

    // Rules in place but the persistence gone: still a fail (the block would not survive a reboot).
    std::fs::remove_file(root.real("/etc/rc.local")).expect("remove rc.local");
    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 1);
    assert_eq!(
        result(&report, "firewall.apiserver-blocked")["actual"],
        "in place, but not persisted for the next boot"
    );
}

#[test]
fn a_malformed_firewall_section_is_a_config_error() {
    let root = Root::new();
    root.file(
        "/etc/hardnode/config.toml",
        "[firewall]\ncontainer_cidrs = [\"10.244.0.0/99\"]\n",
    );
    let output = root
        .hardnode(&["check", "--only", "firewall"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("10.244.0.0/99"));
}

#[test]
fn plan_detects_cidr_and_apiserver_and_names_their_sources() {
    if !require_netns("plan_detects_cidr_and_apiserver_and_names_their_sources") {
        return;
    }
    let ns = NetNs::new("detect");
    let root = Root::new();
    root.file(
        "/etc/kubernetes/kubelet.conf",
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n    server: https://192.0.2.10:6443\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    user: default-auth\n  name: default-context\ncurrent-context: default-context\n",
    );
    root.file(
        "/etc/cni/net.d/10-containerd-net.conflist",
        r#"{"cniVersion":"1.0.0","name":"containerd-net","plugins":[{"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.0.0/16"}],[{"subnet":"2001:4860:4860::/64"}]],"routes":[{"dst":"0.0.0.0/0"}]}},{"type":"portmap","capabilities":{"portMappings":true}}]}"#,
    );
    let output = ns.hardnode(&root, &["firewall", "plan", "--format", "json"]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = json(&output);
    let inputs = &plan["inputs"];
    assert_eq!(inputs["apiservers"][0]["value"], "192.0.2.10:6443");
    assert!(
        inputs["apiservers"][0]["source"]
            .to_string()
            .contains("/etc/kubernetes/kubelet.conf")
    );
    assert_eq!(inputs["container_cidrs"][0]["value"], "10.88.0.0/16");
    assert!(
        inputs["container_cidrs"][0]["source"]
            .to_string()
            .contains("10-containerd-net.conflist")
    );
    // The IPv6 pod range has no IPv6 apiserver: said, not silently dropped.
    assert!(
        plan["warnings"].to_string().contains("2001:4860:4860::/64"),
        "{plan:#}"
    );

    let output = ns.hardnode(&root, &["firewall", "plan"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("container CIDR: 10.88.0.0/16 (/etc/cni/net.d/10-containerd-net.conflist"),
        "{text}"
    );
}

#[test]
fn nothing_given_and_nothing_detected_says_which_flag_to_pass() {
    if !require_netns("nothing_given_and_nothing_detected_says_which_flag_to_pass") {
        return;
    }
    let ns = NetNs::new("nodetect");
    let root = Root::new();
    let output = ns.hardnode(&root, &["firewall", "plan"]);
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pass --container-cidr CIDR"), "{stderr}");
    let output = ns.hardnode(
        &root,
        &["firewall", "plan", "--container-cidr", "10.244.0.0/16"],
    );
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pass --apiserver ADDR[:PORT]"), "{stderr}");
    assert!(
        stderr.contains("/etc/kubernetes/kubelet.conf"),
        "says where it looked: {stderr}"
    );
}

#[test]
fn a_cilium_node_is_told_the_block_is_not_enforceable() {
    if !require_netns("a_cilium_node_is_told_the_block_is_not_enforceable") {
        return;
    }
    let ns = NetNs::new("cilium");
    let root = Root::new();
    root.file("/etc/hardnode/config.toml", POLICY);
    root.file(
        "/etc/cni/net.d/05-cilium.conflist",
        r#"{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni","enable-debug":false}]}"#,
    );
    let output = ns.hardnode(&root, &["firewall", "apply", "--format", "json"]);
    let applied = json(&output);
    assert_eq!(
        applied["verified"], true,
        "the rules themselves are in place"
    );
    assert_eq!(applied["ok"], false, "{applied:#}");
    assert!(
        applied["warnings"].to_string().contains("NOT ENFORCEABLE"),
        "{applied:#}"
    );
    let output = ns.hardnode(&root, &["firewall", "status"]);
    assert_eq!(code(&output), 1, "status must not report success on Cilium");
    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 1);
    assert_eq!(
        result(&report, "firewall.apiserver-blocked")["actual"],
        "in place, but the dataplane may bypass iptables"
    );
}

#[test]
fn a_network_namespace_other_than_pid_1s_is_not_judged_as_the_hosts() {
    let test = "a_network_namespace_other_than_pid_1s_is_not_judged_as_the_hosts";
    if !require_netns(test) {
        return;
    }
    let ns = NetNs::new("chk-podns");
    // The namespace hardnode will run in, as the kernel names it.
    let own = ns.run_ok("readlink", &["/proc/self/ns/net"]);
    let own = own.trim();
    assert!(own.starts_with("net:["), "{own}");

    // PID 1 under the root is in another namespace (a pod without hostNetwork): `error`, saying so.
    let root = Root::new();
    root.file("/etc/hardnode/config.toml", POLICY);
    root.symlink("net:[4026531840]", "/proc/1/ns/net");
    assert_ne!(
        own, "net:[4026531840]",
        "the test namespace is not the fixture's"
    );
    let (exit, report) = check(&ns, &root);
    assert_eq!(exit, 0, "an error is not a fail: {report:#}");
    assert_eq!(status(&report, "firewall.apiserver-blocked"), "error");
    let reason = result(&report, "firewall.apiserver-blocked")["reason"].to_string();
    assert!(
        reason.contains(own) && reason.contains("not the host's") && reason.contains("hostNetwork"),
        "{reason}"
    );

    // PID 1 in the same namespace: judged as before (not in place: fail).
    let same = Root::new();
    same.file("/etc/hardnode/config.toml", POLICY);
    same.symlink(own, "/proc/1/ns/net");
    let (exit, report) = check(&ns, &same);
    assert_eq!(exit, 1, "{report:#}");
    assert_eq!(status(&report, "firewall.apiserver-blocked"), "fail");
}
