//! Site-config `[[waiver]]`s end to end: a waived result keeps its status and carries the waiver
//! in every format; a current waiver takes it out of the exit code and `--fail-on`; an expired one
//! counts again and says so; a waiver for an unknown rule or with a bad date is a config error.

mod common;

use common::{Root, code, mixed_node, result, status};

/// A node failing `kernel.seccomp-filter` (weak kernel) and 4.1.9 (`kubelet.config-file-mode`).
fn node() -> Root {
    let root = mixed_node("node-w", true);
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    root
}

fn config(root: &Root, text: &str) -> String {
    let path = root.file("/etc/hardnode/config.toml", text);
    path.display().to_string()
}

const CURRENT: &str = r#"
[[waiver]]
rule = "4.1.9"
reason = "kubelet config is managed by the legacy agent, OPS-1234"
expires = "2099-12-31"
"#;

#[test]
fn current_waiver_stops_counting_expired_waiver_counts_again() {
    let root = node();
    let config = config(
        &root,
        &format!(
            "{CURRENT}\n[[waiver]]\nrule = \"kernel.seccomp-filter\"\nreason = \"old kernel, until the upgrade\"\nexpires = \"2020-01-01\"\n"
        ),
    );
    let (exit, report) = root.check_json(&["--config", &config]);
    assert_eq!(exit, 1, "the expired waiver's failure counts: {report}");
    let waived = result(&report, "kubelet.config-file-mode");
    assert_eq!(waived["status"], "fail", "the real status is kept");
    assert_eq!(waived["waiver"]["rule"], "4.1.9");
    assert_eq!(waived["waiver"]["expires"], "2099-12-31");
    assert_eq!(waived["waiver"]["expired"], false);
    assert!(
        waived["waiver"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("OPS-1234"))
    );
    let expired = result(&report, "kernel.seccomp-filter");
    assert_eq!(expired["status"], "fail");
    assert_eq!(expired["waiver"]["expired"], true);
    assert_eq!(report["summary"]["waivers_expired"], 1);
    assert!(
        report["summary"]["waived"].as_u64() >= Some(1),
        "{}",
        report["summary"]
    );

    // Only the current waiver on a node whose only failure it covers: exit 0, status still fail.
    let healthy = mixed_node("node-h", false);
    healthy.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    let config = healthy.file("/etc/hardnode/config.toml", CURRENT);
    let (exit, report) = healthy.check_json(&["--config", &config.display().to_string()]);
    assert_eq!(status(&report, "kubelet.config-file-mode"), "fail");
    assert_eq!(
        exit, 0,
        "a current waiver does not count: {}",
        report["summary"]
    );
    // Without the waiver the same node fails.
    let (exit, _) = healthy.check_json(&["--config", "/dev/null"]);
    assert_eq!(exit, 1);
}

#[test]
fn waiver_is_carried_in_every_format() {
    let root = mixed_node("node-f", false);
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    let config = config(&root, CURRENT);
    let run = |format: &str| {
        let output = root
            .hardnode(&["check", "--config", &config, "--format", format])
            .env("COLUMNS", "100")
            .output()
            .expect("run");
        assert_eq!(code(&output), 0, "{format}");
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let text = run("text");
    assert!(
        text.contains("waived until 2099-12-31: kubelet config is managed"),
        "{text}"
    );
    assert!(text.contains("1 waived (not counted)"), "{text}");
    let junit = run("junit");
    assert!(junit.contains("waived until 2099-12-31"), "{junit}");
    let prometheus = run("prometheus");
    assert!(
        prometheus.contains(
            "hardnode_check_waived{id=\"kubelet.config-file-mode\",cis=\"4.1.9\",expires=\"2099-12-31\"} 1"
        ),
        "{prometheus}"
    );
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).expect("SARIF JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "kubelet.config-file-mode")
        .expect("the waived failure is a result");
    assert_eq!(waived["suppressions"][0]["status"], "accepted", "{waived}");
    assert_eq!(waived["properties"]["waiver"]["expires"], "2099-12-31");
}

#[test]
fn waiver_covers_fail_on_warn_too() {
    // kernel.apparmor is unscored: on the weak node it is `warn`.
    let weak = mixed_node("node-y", true);
    let (_, weak_report) = weak.check_json(&[]);
    assert_eq!(status(&weak_report, "kernel.apparmor"), "warn");
    let plain = weak
        .hardnode(&["check", "--only", "kernel.apparmor", "--fail-on", "warn"])
        .output()
        .expect("run");
    assert_eq!(code(&plain), 1);
    let config = config(
        &weak,
        "[[waiver]]\nrule = \"kernel.apparmor\"\nreason = \"AppArmor arrives with the 24.04 rebuild\"\nexpires = \"2099-01-01\"\n",
    );
    let waived = weak
        .hardnode(&[
            "check",
            "--config",
            &config,
            "--only",
            "kernel.apparmor",
            "--fail-on",
            "warn",
        ])
        .output()
        .expect("run");
    assert_eq!(
        code(&waived),
        0,
        "{}",
        String::from_utf8_lossy(&waived.stdout)
    );
}

#[test]
fn waiver_for_unknown_rule_or_bad_date_is_a_config_error() {
    let root = mixed_node("node-e", false);
    for (text, expected) in [
        (
            "[[waiver]]\nrule = \"4.2.99\"\nreason = \"r\"\nexpires = \"2099-01-01\"\n",
            "unknown rule(s): 4.2.99",
        ),
        (
            "[[waiver]]\nrule = \"4.1.9\"\nreason = \"r\"\nexpires = \"31.03.2027\"\n",
            "YYYY-MM-DD",
        ),
        ("[[waiver]]\nrule = \"4.1.9\"\nreason = \"r\"\n", "expires"),
        (
            "[[waiver]]\nrule = \"4.1.9\"\nreason = \"\"\nexpires = \"2099-01-01\"\n",
            "reason",
        ),
    ] {
        let config = config(&root, text);
        // --only does not make a waiver for another known rule an error, but unknown stays one.
        let output = root
            .hardnode(&["check", "--config", &config, "--only", "kernel"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code(&output), 2, "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
    let config = config(&root, CURRENT);
    let output = root
        .hardnode(&["check", "--config", &config, "--only", "kernel"])
        .output()
        .expect("run");
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A waiver may name a result by the id of the benchmark profile it is reported under (CIS EKS
/// 3.1.3 is hardnode's `kubelet.config-file-mode`, CIS Kubernetes 4.1.9).
#[test]
fn waiver_by_benchmark_profile_id() {
    let root = node();
    let config = config(
        &root,
        "[[waiver]]\nrule = \"3.1.3\"\nreason = \"EKS node image writes it, AWS-42\"\nexpires = \"2099-12-31\"\n",
    );
    let (_, report) = root.check_json(&[
        "--config",
        &config,
        "--profile",
        "cis-eks-1.5.0",
        "--only",
        "4.1.9",
    ]);
    let waived = result(&report, "kubelet.config-file-mode");
    assert_eq!(waived["profile_id"], "3.1.3", "{waived}");
    assert_eq!(waived["status"], "fail", "the real status is kept");
    assert_eq!(waived["waiver"]["rule"], "3.1.3", "{waived}");
    assert_eq!(waived["waiver"]["expired"], false);
}
