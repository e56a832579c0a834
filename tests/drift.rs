//! `hardnode report diff OLD NEW` over two real runs of one fixture node changed in between: a
//! file loosened (worse), the kernel fixed (better), a rule only in one run (appeared /
//! disappeared); exit 1 when anything got worse, 0 when not; text and JSON.

mod common;

use std::fs;

use common::{HOSTILE_BENCHMARK, code, mixed_node};

#[test]
fn diff_lists_worse_better_appeared_disappeared_and_exits_on_worse() {
    let root = mixed_node("drift-node", true);
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o600,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let benchmark = root.file("/hostile.toml", HOSTILE_BENCHMARK);
    let run = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let mut args = vec!["check", "--format", "json", "--output"];
        let path_text = path.display().to_string();
        args.push(&path_text);
        args.extend_from_slice(extra);
        let output = root.hardnode(&args).output().expect("run");
        assert!(matches!(code(&output), 0 | 1));
        path.display().to_string()
    };
    let old = run(
        "old.json",
        &["--benchmark", benchmark.to_str().expect("utf-8")],
    );
    // Between the runs: the kubelet config is loosened, the kernel rebuilt with seccomp filters.
    root.chmod("/var/lib/kubelet/config.yaml", 0o644);
    root.file(
        "/boot/config-5.15.0-105-generic",
        "CONFIG_SECCOMP=y\nCONFIG_SECCOMP_FILTER=y\n# CONFIG_SECURITY_APPARMOR is not set\n",
    );
    let new = run("new.json", &[]);

    let output = common::hardnode()
        .args(["report", "diff", &old, &new])
        .output()
        .expect("diff");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code(&output), 1, "something got worse:\n{text}");
    assert!(text.contains("Worse (1)"), "{text}");
    assert!(
        text.contains("pass  -> fail  kubelet.config-file-mode [CIS 4.1.9]"),
        "{text}"
    );
    assert!(text.contains("Better (1)"), "{text}");
    assert!(
        text.contains("fail  -> pass  kernel.seccomp-filter"),
        "{text}"
    );
    assert!(
        text.contains("Disappeared (1)") && text.contains("odd.markup"),
        "{text}"
    );

    let output = common::hardnode()
        .args(["report", "diff", "--format", "json", &old, &new])
        .output()
        .expect("diff");
    assert_eq!(code(&output), 1);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["schema"], "hardnode.report-diff/v1");
    assert_eq!(json["worse"][0]["id"], "kubelet.config-file-mode");
    assert_eq!(json["worse"][0]["from"], "pass");
    assert_eq!(json["worse"][0]["to"], "fail");
    assert_eq!(json["better"][0]["id"], "kernel.seccomp-filter");
    assert_eq!(json["disappeared"][0]["id"], "odd.markup");
    assert_eq!(json["new"]["node"], "drift-node");
    assert!(json["old"]["generated"].is_string());

    // The other way round: the hostile rule appears failing (worse), the file got better.
    let output = common::hardnode()
        .args(["report", "diff", "--format", "json", &new, &old])
        .output()
        .expect("diff");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["appeared"][0]["id"], "odd.markup");
    assert_eq!(json["appeared"][0]["status"], "fail");
    assert_eq!(code(&output), 1, "a rule appearing failing is worse");

    // Nothing worse: exit 0.
    let same = run("same.json", &[]);
    let output = common::hardnode()
        .args(["report", "diff", &new, &same])
        .output()
        .expect("diff");
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 worse, 0 better"));

    // A file that is not a report: exit 2, named.
    let foreign = dir.path().join("foreign.json");
    fs::write(&foreign, "{\"schema\": \"other\", \"results\": []}").expect("write");
    let output = common::hardnode()
        .args(["report", "diff", &new, foreign.to_str().expect("utf-8")])
        .output()
        .expect("diff");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("foreign.json"));
}
