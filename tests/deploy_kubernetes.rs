//! `scripts/kubernetes/`: the Job and DaemonSet manifests validated against the Kubernetes
//! OpenAPI schemas (`kubernetes-validate --strict`, from PyPI), their security settings checked,
//! and their command lines run against fixture roots in place of the host mount.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{code, mixed_node, repo_file, require_tool};

const MANIFESTS: [&str; 3] = [
    "scripts/kubernetes/namespace.yaml",
    "scripts/kubernetes/job.yaml",
    "scripts/kubernetes/daemonset.yaml",
];

/// A manifest as JSON, parsed by PyYAML (which ansible-core brings along).
fn manifest(relative: &str) -> serde_json::Value {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo_file(relative))
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("manifest JSON")
}

fn python_yaml_available(test: &str) -> bool {
    require_tool(test, "python3")
        && Command::new("python3")
            .args(["-c", "import yaml"])
            .status()
            .is_ok_and(|status| status.success())
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    let test = "manifests_validate_against_the_kubernetes_schemas";
    if !require_tool(test, "kubernetes-validate") {
        return;
    }
    // The oldest Kubernetes still in wide use and the newest the validator knows.
    for version in [Some("1.28"), None] {
        let mut command = Command::new("kubernetes-validate");
        command.arg("--strict");
        if let Some(version) = version {
            command.args(["-k", version]);
        }
        let output = command
            .args(MANIFESTS.iter().map(|m| repo_file(m)))
            .output()
            .expect("kubernetes-validate");
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{version:?}: {text}");
        for kind in [
            "namespace/hardnode",
            "job/hardnode-check",
            "daemonset/hardnode",
        ] {
            assert!(
                text.contains(&format!("passed for resource {kind}")),
                "{version:?} {kind}: {text}"
            );
        }
    }
}

#[test]
fn pods_read_the_host_read_only_with_least_privilege() {
    let test = "pods_read_the_host_read_only_with_least_privilege";
    if !python_yaml_available(test) {
        assert!(
            !common::in_ci(),
            "{test} needs PyYAML (installed with ansible-core)"
        );
        return;
    }
    for relative in [
        "scripts/kubernetes/job.yaml",
        "scripts/kubernetes/daemonset.yaml",
    ] {
        let pod = &manifest(relative)["spec"]["template"]["spec"];
        assert_eq!(pod["hostPID"], true, "{relative}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{relative}");
        let container = &pod["containers"][0];
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{relative}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{relative}");
        assert_eq!(security["privileged"], false, "{relative}");
        assert_eq!(
            security["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{relative}"
        );
        let added: Vec<&str> = security["capabilities"]["add"]
            .as_array()
            .expect("added capabilities")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert!(
            added
                .iter()
                .all(|cap| ["DAC_READ_SEARCH", "SYS_PTRACE"].contains(cap)),
            "{relative}: only read capabilities, got {added:?}"
        );
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    container["resources"][kind][resource].is_string(),
                    "{relative}: {kind}.{resource}"
                );
            }
        }
        // The host root is mounted read-only at /host, from the host's /.
        let host_mount = container["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| m["mountPath"] == "/host")
            .expect("a /host mount");
        assert_eq!(host_mount["readOnly"], true, "{relative}");
        let volume = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == host_mount["name"])
            .expect("host volume");
        assert_eq!(volume["hostPath"]["path"], "/", "{relative}");
    }
}

/// The container's command line with the pod's mount paths replaced by test directories.
fn localized(container: &serde_json::Value, mounts: &[(&str, &Path)]) -> Vec<String> {
    let mut argv: Vec<String> = container["command"]
        .as_array()
        .into_iter()
        .chain(container["args"].as_array())
        .flatten()
        .map(|part| part.as_str().expect("string").to_string())
        .collect();
    for part in &mut argv {
        for (mount_path, local) in mounts {
            *part = part.replace(mount_path, &local.display().to_string());
        }
    }
    argv
}

fn path_with_hardnode() -> String {
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_hardnode"))
        .parent()
        .expect("binary dir")
        .display()
        .to_string();
    format!("{binary_dir}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn daemonset_command_writes_the_textfile_for_a_fixture_root() {
    let test = "daemonset_command_writes_the_textfile_for_a_fixture_root";
    if !python_yaml_available(test) {
        assert!(
            !common::in_ci(),
            "{test} needs PyYAML (installed with ansible-core)"
        );
        return;
    }
    let daemonset = manifest("scripts/kubernetes/daemonset.yaml");
    let container = &daemonset["spec"]["template"]["spec"]["containers"][0];
    let root = mixed_node("ds-node", true);
    let textfile_dir = tempfile::tempdir().expect("textfile dir");
    let argv = localized(
        container,
        &[("/host", root.path()), ("/textfile", textfile_dir.path())],
    );
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).env("PATH", path_with_hardnode());
    for variable in container["env"].as_array().into_iter().flatten() {
        command.env(
            variable["name"].as_str().expect("name"),
            variable["value"].as_str().expect("value"),
        );
    }
    // Its own process group, so the loop and its `sleep` are stopped together, by that id.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the DaemonSet's loop");
    let textfile = textfile_dir.path().join("hardnode.prom");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !textfile.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_running = child.try_wait().expect("poll").is_none();
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    assert!(still_running, "the loop keeps running between checks");
    let text = std::fs::read_to_string(&textfile).expect("textfile written");

    let (_, report) = root.check_json(&[]);
    for status in ["pass", "fail", "warn", "skip", "error"] {
        let line = format!(
            "hardnode_checks{{status=\"{status}\"}} {}\n",
            report["summary"][status]
        );
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(textfile_dir.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only the textfile: {leftovers:?}");
}

#[test]
fn job_command_prints_the_json_report_of_a_fixture_root() {
    let test = "job_command_prints_the_json_report_of_a_fixture_root";
    if !python_yaml_available(test) {
        assert!(
            !common::in_ci(),
            "{test} needs PyYAML (installed with ansible-core)"
        );
        return;
    }
    let job = manifest("scripts/kubernetes/job.yaml");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let root = mixed_node("job-node", true);
    let argv = localized(container, &[("/host", root.path())]);
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .env("PATH", path_with_hardnode())
        .output()
        .expect("run the Job's command");
    assert_eq!(code(&output), 1, "the weak node fails a rule");
    let report = common::json(&output);
    assert_eq!(report["schema"], "hardnode.report/v1");
    assert_eq!(report["host"]["hostname"], "job-node");
}
