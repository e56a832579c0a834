//! `hardnode manifest scan` end to end: the binary on the fixture manifests in
//! `tests/fixtures/manifests` (the kubesec hardening sequence, workload kinds, a privileged
//! DaemonSet, kubeadm's static pods, malformed YAML, stdin), exit codes, SARIF, and the
//! Localhost profile cross-check against a fixture node root.

mod common;

use common::{Root, code, hardnode, json, repo_file};

fn fixture(name: &str) -> String {
    repo_file(&format!("tests/fixtures/manifests/{name}"))
        .display()
        .to_string()
}

/// Runs `manifest scan --format json` and returns (exit code, report).
fn scan(args: &[&str]) -> (i32, serde_json::Value) {
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json"])
        .args(args)
        .output()
        .expect("run hardnode");
    (code(&output), json(&output))
}

fn ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect()
}

fn only_object(report: &serde_json::Value) -> &serde_json::Value {
    let objects = report["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 1, "{report:#}");
    &objects[0]
}

#[test]
fn hardening_sequence_scores_strictly_higher_at_each_step() {
    let steps = [
        "step-0-bare",
        "step-1-resources",
        "step-2-non-root",
        "step-3-drop-all",
        "step-4-service-account",
        "step-5-seccomp-apparmor",
    ];
    let mut previous: Option<i64> = None;
    for step in steps {
        let (exit, report) = scan(&[&fixture(&format!("hardening/{step}.yaml"))]);
        assert_eq!(exit, 0, "{step}: no critical rule, so exit 0: {report:#}");
        let object = only_object(&report);
        assert!(ids(&object["critical"]).is_empty(), "{step}");
        let score = object["score"].as_i64().expect("score");
        if let Some(before) = previous {
            assert!(score > before, "{step}: {score} is not above {before}");
        }
        previous = Some(score);
        let advice = ids(&object["advise"]);
        match step {
            "step-4-service-account" => {
                let mut left = advice.clone();
                left.sort();
                assert_eq!(left, ["pod.apparmor", "pod.seccomp"], "{object:#}");
            }
            "step-5-seccomp-apparmor" => {
                assert!(advice.is_empty(), "{advice:?}");
                assert_eq!(
                    object["message"],
                    format!("Passed with a score of {score} points")
                );
            }
            _ => assert!(advice.len() > 2, "{step}: {advice:?}"),
        }
    }
}

#[test]
fn advice_is_ordered_by_points_and_names_selector_and_reason() {
    let (_, report) = scan(&[&fixture("hardening/step-0-bare.yaml")]);
    let advice = only_object(&report)["advise"]
        .as_array()
        .expect("advice")
        .clone();
    let points: Vec<i64> = advice.iter().filter_map(|a| a["points"].as_i64()).collect();
    assert!(
        points.windows(2).all(|pair| pair[0] >= pair[1]),
        "{points:?}"
    );
    let non_root = advice
        .iter()
        .find(|a| a["id"] == "pod.run-as-non-root")
        .expect("advice to run as non-root");
    assert_eq!(
        non_root["selector"],
        "containers[] .securityContext .runAsNonRoot == true"
    );
    assert!(non_root["reason"].as_str().is_some_and(|r| !r.is_empty()));
}

#[test]
fn deployment_template_with_container_over_pod_precedence() {
    let (exit, report) = scan(&[&fixture("deployment.yaml")]);
    assert_eq!(exit, 0);
    let object = only_object(&report);
    assert_eq!(object["object"], "Deployment/shop.web");
    // The pod sets runAsNonRoot: true; the metrics container overrides it with false.
    let non_root = object["advise"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == "pod.run-as-non-root"))
        .expect("advice");
    let locations = non_root["locations"].as_array().expect("locations");
    assert_eq!(locations.len(), 1, "{non_root:#}");
    assert_eq!(locations[0]["container"], "metrics");
    assert_eq!(locations[0]["value"], "false");
    assert_eq!(locations[0]["line"], 27);
    // runAsUser 20000 from the pod securityContext counts for both containers.
    assert!(ids(&object["passed"]).contains(&"pod.run-as-user".to_string()));
    // readOnlyRootFilesystem is container-only: app has it, metrics does not.
    let read_only = object["advise"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["id"] == "pod.read-only-root-filesystem")
        })
        .expect("advice");
    assert_eq!(read_only["locations"][0]["container"], "metrics");
}

#[test]
fn cron_job_with_yaml_1_1_boolean_is_critical_and_fails() {
    let (exit, report) = scan(&[&fixture("cronjob.yaml")]);
    assert_eq!(exit, 1, "a critical hit fails by default");
    let object = only_object(&report);
    assert_eq!(object["object"], "CronJob/backup.default");
    assert_eq!(
        ids(&object["critical"]),
        ["pod.host-pid", "pod.allow-privilege-escalation"]
    );
    assert_eq!(object["below_threshold"], true);
    assert_eq!(report["summary"]["objects"], 1);
    assert_eq!(report["summary"]["below_threshold"], 1);
    assert_eq!(report["summary"]["errors"], 0);
}

#[test]
fn multi_document_file_with_an_ignored_kind_and_init_containers() {
    let (exit, report) = scan(&[&fixture("multi.yaml")]);
    assert_eq!(exit, 1);
    let objects = report["objects"].as_array().expect("objects");
    let places: Vec<(String, i64)> = objects
        .iter()
        .map(|o| {
            (
                o["object"].as_str().unwrap_or("").to_string(),
                o["document"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("Pod/one.default".to_string(), 2),
            ("StatefulSet/db.default".to_string(), 3)
        ]
    );
    let privileged = &objects[1]["critical"][0];
    assert_eq!(privileged["id"], "pod.privileged");
    assert_eq!(
        privileged["locations"][0]["container"],
        "initContainers/init-perms"
    );
    let notes = report["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["document"], 1);
    assert!(
        notes[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ConfigMap/settings"))
    );
}

#[test]
fn privileged_daemonset_with_docker_socket() {
    let (exit, report) = scan(&[&fixture("privileged-daemonset.yaml")]);
    assert_eq!(exit, 1);
    let object = only_object(&report);
    let critical = ids(&object["critical"]);
    assert_eq!(
        critical,
        [
            "pod.privileged",
            "pod.cap-sys-admin",
            "pod.host-network",
            "pod.host-pid",
            "pod.host-path-runtime-socket",
            "pod.host-path-system-dir",
            // NET_ADMIN
            "pod.cap-dangerous"
        ]
    );
    let socket = &object["critical"][4]["locations"][0];
    assert_eq!(socket["value"], "/var/run/docker.sock");
    assert_eq!(socket["line"], 30);
    // `/` is a hit, `/etc/kubernetes/pki/` is not (exact paths, no prefixes).
    let system = &object["critical"][5]["locations"][0];
    assert_eq!(system["value"], "/");
    // -96 before pod.cap-dangerous (-9) and the three advice rules it meets (+3).
    assert_eq!(object["score"], -102);
}

#[test]
fn kubeadm_kube_apiserver_static_pod() {
    let (exit, report) = scan(&[&fixture("kube-apiserver.yaml")]);
    assert_eq!(exit, 1);
    let object = only_object(&report);
    assert_eq!(object["object"], "Pod/kube-apiserver.kube-system");
    // hostNetwork is its only critical hit: its hostPath mounts of /etc/ssl/certs,
    // /etc/kubernetes/pki and /usr/share/ca-certificates are not /etc or /usr.
    assert_eq!(ids(&object["critical"]), ["pod.host-network"]);
    // The pod-level seccompProfile RuntimeDefault reaches the container.
    assert!(ids(&object["passed"]).contains(&"pod.seccomp".to_string()));
}

#[test]
fn min_score_sets_the_threshold() {
    let file = fixture("hardening/step-2-non-root.yaml");
    let (_, report) = scan(&[&file]);
    let score = only_object(&report)["score"].as_i64().expect("score");
    let (exit, report) = scan(&[&file, "--min-score", &(score + 1).to_string()]);
    assert_eq!(exit, 1);
    assert_eq!(only_object(&report)["below_threshold"], true);
    let (exit, _) = scan(&[&file, "--min-score", &score.to_string()]);
    assert_eq!(exit, 0);
    // A critical hit passes when the threshold allows the score.
    let (exit, _) = scan(&[&fixture("cronjob.yaml"), "--min-score", "-20"]);
    assert_eq!(exit, 0);
}

#[test]
fn malformed_yaml_names_file_document_and_line_and_exits_2() {
    let file = fixture("malformed.yaml");
    let (exit, report) = scan(&[&file, &fixture("deployment.yaml")]);
    assert_eq!(exit, 2);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["file"], file.as_str());
    assert_eq!(errors[0]["document"], 2);
    assert_eq!(errors[0]["line"], 18);
    // The other file is still scored.
    assert_eq!(report["objects"][0]["object"], "Deployment/shop.web");

    let output = hardnode()
        .args(["manifest", "scan", &file])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("malformed.yaml:18 (document 2): malformed YAML"),
        "{stderr}"
    );
}

#[test]
fn unreadable_input_exits_2() {
    let (exit, report) = scan(&["/nonexistent/pod.yaml"]);
    assert_eq!(exit, 2);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist"))
    );
}

#[test]
fn stdin_and_json_input() {
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "from-stdin"},
        "spec": {"hostIPC": true, "containers": [{"name": "a", "image": "busybox"}]}}"#;
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", "-"])
        .write_stdin(pod)
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    let report = json(&output);
    let object = only_object(&report);
    assert_eq!(object["file"], "-");
    assert_eq!(ids(&object["critical"]), ["pod.host-ipc"]);
    assert_eq!(object["critical"][0]["line"], 2);
}

#[test]
fn directory_scan_reads_every_manifest_in_name_order() {
    let (_, report) = scan(&[&fixture("hardening")]);
    let names: Vec<&str> = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["file"].as_str())
        .collect();
    assert_eq!(names.len(), 6);
    assert!(names[0].ends_with("step-0-bare.yaml"));
    assert!(names[5].ends_with("step-5-seccomp-apparmor.yaml"));
}

#[test]
fn text_output_has_score_critical_and_advice() {
    let output = hardnode()
        .args([
            "manifest",
            "scan",
            "--color",
            "never",
            &fixture("privileged-daemonset.yaml"),
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("DaemonSet/node-agent.monitoring"), "{text}");
    assert!(
        text.contains("Failed with a score of -102 points"),
        "{text}"
    );
    assert!(
        text.contains("critical:") && text.contains("advice:"),
        "{text}"
    );
    assert!(
        text.contains("pod: /var/run/docker.sock, line 30"),
        "{text}"
    );
    assert!(
        text.contains("1 objects, 1 with a critical rule hit"),
        "{text}"
    );
}

#[test]
fn sarif_output_parses_back_with_results_and_rules() {
    let output = hardnode()
        .args([
            "manifest",
            "scan",
            "--format",
            "sarif",
            &fixture("privileged-daemonset.yaml"),
            &fixture("malformed.yaml"),
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    let log = json(&output);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "hardnode");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == "pod.privileged")
        .expect("privileged result");
    assert_eq!(privileged["level"], "error");
    let index = privileged["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(rules[index]["id"], "pod.privileged");
    let location = &privileged["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("privileged-daemonset.yaml"))
    );
    assert_eq!(location["region"]["startLine"], 20);
    assert!(results.iter().any(|r| r["level"] == "note"));
    let invalid = results
        .iter()
        .find(|r| r["ruleId"] == "manifest.invalid")
        .expect("parse error result");
    assert_eq!(
        invalid["locations"][0]["physicalLocation"]["region"]["startLine"],
        18
    );
}

const PROFILE_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: confined
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-deny-write
spec:
  securityContext:
    seccompProfile:
      type: Localhost
      localhostProfile: profiles/fine-grained.json
  containers:
  - name: app
    image: busybox
";

fn profile_node(seccomp: bool, apparmor: bool) -> Root {
    let root = Root::new();
    root.file("/sys/module/apparmor/parameters/enabled", "Y\n");
    let mut loaded = String::from("cri-containerd.apparmor.d (enforce)\n");
    if apparmor {
        loaded.push_str("k8s-deny-write (enforce)\n");
    }
    root.file("/sys/kernel/security/apparmor/profiles", loaded);
    if seccomp {
        let profile = std::fs::read(repo_file("examples/seccomp/profiles/fine-grained.json"))
            .expect("example profile");
        root.file(
            "/var/lib/kubelet/seccomp/profiles/fine-grained.json",
            profile,
        );
    } else {
        root.dir("/var/lib/kubelet/seccomp/profiles");
    }
    root
}

fn scan_on_node(root: &Root) -> (i32, serde_json::Value) {
    let output = root
        .hardnode(&["manifest", "scan", "--format", "json", "-"])
        .write_stdin(PROFILE_POD)
        .output()
        .expect("run");
    (code(&output), json(&output))
}

#[test]
fn localhost_profiles_present_and_loaded_pass_the_cross_check() {
    let root = profile_node(true, true);
    let (exit, report) = scan_on_node(&root);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(
        only_object(&report)["node"],
        serde_json::json!([]),
        "{report:#}"
    );
}

#[test]
fn missing_seccomp_profile_and_unloaded_apparmor_profile_are_reported() {
    let root = profile_node(false, false);
    let (exit, report) = scan_on_node(&root);
    assert_eq!(exit, 1, "{report:#}");
    let node = only_object(&report)["node"]
        .as_array()
        .expect("node")
        .clone();
    let found: Vec<(&str, &str)> = node
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or(""),
                p["profile"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("node.seccomp-profile-missing", "profiles/fine-grained.json"),
            ("node.apparmor-profile-not-loaded", "k8s-deny-write")
        ]
    );
    assert!(
        node[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("this node does not have")),
        "{node:#?}"
    );
    assert_eq!(node[0]["line"], 11);
    assert_eq!(report["summary"]["node_problems"], 2);
    assert_eq!(node[1]["line"], 6);

    // Only one missing: the other is not reported.
    let root = profile_node(true, false);
    let (exit, report) = scan_on_node(&root);
    assert_eq!(exit, 1);
    assert_eq!(
        ids(&only_object(&report)["node"]),
        ["node.apparmor-profile-not-loaded"]
    );
}

#[test]
fn without_a_node_root_no_cross_check_is_made() {
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", "-"])
        .write_stdin(PROFILE_POD)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    assert_eq!(only_object(&json(&output))["node"], serde_json::json!([]));
}

// `hardnode check`'s manifests.static-pods rule on a fixture node.

const STATIC_RULE: &str = "manifests.static-pods";

fn control_plane_node() -> Root {
    let root = Root::new();
    root.identity("cp1", "5.15.0-105-generic", "Ubuntu 22.04.4 LTS");
    for name in ["kube-apiserver.yaml", "etcd.yaml"] {
        let text = std::fs::read(fixture(name)).expect("fixture");
        root.file(&format!("/etc/kubernetes/manifests/{name}"), text);
    }
    // The kubelet ignores dot files (editor backups); so must the rule.
    root.file(
        "/etc/kubernetes/manifests/.kube-apiserver.yaml.swp",
        "\0garbage",
    );
    root
}

#[test]
fn static_pods_of_a_kubeadm_control_plane_pass_with_expected_exceptions() {
    let root = control_plane_node();
    let (exit, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(common::status(&report, STATIC_RULE), "pass");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    assert!(
        evidence.contains("Pod/kube-apiserver.kube-system: .spec .hostNetwork == true — expected for kube-apiserver"),
        "{evidence}"
    );
    assert!(evidence.contains("expected for etcd"), "{evidence}");
    assert!(
        evidence.contains(
            "hostPath mounts /etc/kubernetes/pki/etcd, /var/lib/etcd are expected for etcd"
        ),
        "{evidence}"
    );
    assert!(
        common::result(&report, STATIC_RULE)["actual"]
            .as_str()
            .is_some_and(|a| a.starts_with("2 static pods: 0 unexpected")),
        "{report:#}"
    );
}

#[test]
fn an_unexpected_privileged_static_pod_is_a_warning() {
    let root = control_plane_node();
    root.file(
        "/etc/kubernetes/manifests/kube-vip.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-vip\n  namespace: kube-system\n\
         spec:\n  hostNetwork: true\n  containers:\n  - name: kube-vip\n    image: kube-vip:0.8\n\
         \x20   securityContext:\n      privileged: true\n",
    );
    let (exit, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(exit, 0, "a warning does not fail by default");
    assert_eq!(common::status(&report, STATIC_RULE), "warn");
    let finding = common::result(&report, STATIC_RULE);
    let reason = finding["reason"].as_str().unwrap_or("");
    // kube-vip is not a control plane component: its hostNetwork is not excused either.
    assert!(
        reason.contains("Pod/kube-vip.kube-system: pod.privileged, pod.host-network"),
        "{reason}"
    );
    assert!(!reason.contains("kube-apiserver"), "{reason}");
    let (exit, _) = root.check_json(&["--only", "manifests", "--fail-on", "warn"]);
    assert_eq!(exit, 1);
}

#[test]
fn a_static_pod_referencing_a_missing_profile_is_a_warning() {
    let root = control_plane_node();
    root.file("/etc/kubernetes/manifests/confined.yaml", PROFILE_POD);
    root.file("/sys/module/apparmor/parameters/enabled", "Y\n");
    root.file(
        "/sys/kernel/security/apparmor/profiles",
        "k8s-deny-write (enforce)\n",
    );
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "warn", "{report:#}");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    assert!(
        evidence.contains(
            "references seccomp profile profiles/fine-grained.json, which this node does not have"
        ),
        "{evidence}"
    );
    assert!(!evidence.contains("k8s-deny-write, which"), "{evidence}");
}

#[test]
fn malformed_static_pod_is_an_error_and_no_directory_a_skip() {
    let root = control_plane_node();
    root.file(
        "/etc/kubernetes/manifests/broken.yaml",
        std::fs::read(fixture("malformed.yaml")).expect("fixture"),
    );
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "error");
    let reason = common::result(&report, STATIC_RULE)["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason.contains("/etc/kubernetes/manifests/broken.yaml:18 (document 2)"),
        "{reason}"
    );

    let empty = Root::new();
    empty.identity("worker", "5.15.0-105-generic", "Ubuntu 22.04.4 LTS");
    let (exit, report) = empty.check_json(&["--only", "manifests"]);
    assert_eq!(exit, 0);
    assert_eq!(common::status(&report, STATIC_RULE), "skip");
}

#[test]
fn a_non_pod_in_the_static_pod_directory_is_noted_not_scored() {
    let root = control_plane_node();
    root.file(
        "/etc/kubernetes/manifests/agent.yaml",
        std::fs::read(fixture("privileged-daemonset.yaml")).expect("fixture"),
    );
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "pass", "{report:#}");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    assert!(
        evidence.contains("DaemonSet/node-agent.monitoring: not a Pod"),
        "{evidence}"
    );
}

#[test]
fn user_rules_add_and_override_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("site.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
id = "pod.run-as-user"
points = 2
scope = "container"
field = "securityContext.runAsUser"
expect = { gte = 1000 }
selector = "containers[] .securityContext .runAsUser -ge 1000"
reason = "Site policy: any non-system UID"

[[rule]]
id = "site.image-pull-always"
points = 1
scope = "container"
field = "imagePullPolicy"
expect = { eq = "Always" }
selector = "containers[] .imagePullPolicy == Always"
reason = "Site policy: always pull, so a re-tagged image is noticed"
"#,
    )
    .expect("write rules");
    let pod = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    imagePullPolicy: Always\n    securityContext: {runAsUser: 1500}\n";
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", "--rules"])
        .arg(&rules)
        .arg("-")
        .write_stdin(pod)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let report = json(&output);
    let passed = ids(&only_object(&report)["passed"]);
    assert!(
        passed.contains(&"pod.run-as-user".to_string()),
        "{passed:?}"
    );
    assert!(
        passed.contains(&"site.image-pull-always".to_string()),
        "{passed:?}"
    );

    std::fs::write(&rules, "[[rule]]\nid = \"x.y\"\npoints = 1\n").expect("write");
    let output = hardnode()
        .args(["manifest", "scan", "--rules"])
        .arg(&rules)
        .arg(fixture("cronjob.yaml"))
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("site.toml"));
}

#[test]
fn the_running_kubelets_static_pod_path_is_the_directory_scanned() {
    let root = control_plane_node();
    root.process(
        812,
        &["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"],
    );
    root.file(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         staticPodPath: /etc/kubelet.d\n",
    );
    root.file(
        "/etc/kubelet.d/agent.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec:\n  hostPID: true\n\
         \x20 containers: [{name: agent, image: agent:1}]\n",
    );
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "warn", "{report:#}");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    assert!(
        evidence.contains("/etc/kubelet.d")
            && evidence.contains("the running kubelet's staticPodPath"),
        "{evidence}"
    );
    // The kubeadm directory is not the kubelet's here: its pods are not judged.
    assert!(!evidence.contains("kube-apiserver"), "{evidence}");
    assert!(
        common::result(&report, STATIC_RULE)["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("hardnode manifest scan /etc/kubelet.d")),
        "{report:#}"
    );

    // A kubelet without staticPodPath runs no static pods.
    root.file(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
    );
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "skip");
    assert!(
        common::result(&report, STATIC_RULE)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("sets no staticPodPath")),
        "{report:#}"
    );
}

#[test]
fn manifest_rules_lists_every_pod_rule() {
    let output = hardnode()
        .args(["manifest", "rules", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let rules = json(&output);
    let list = rules.as_array().expect("list");
    let privileged = list
        .iter()
        .find(|r| r["id"] == "pod.privileged")
        .expect("pod.privileged");
    assert_eq!(privileged["points"], -30);
    assert_eq!(privileged["critical"], true);
    assert!(
        list.iter()
            .any(|r| r["id"] == "pod.seccomp" && r["critical"] == false)
    );
}

/// Validates a scan report against docs/manifest-scan.schema.json with Python's `jsonschema`
/// (installed by scripts/test.sh). `None`: no validator here (outside CI).
fn schema_errors(report: &serde_json::Value) -> Option<Result<(), String>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.validate(json.load(sys.stdin), schema, cls=jsonschema.Draft202012Validator)\n";
    let have = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|status| status.success());
    if !have {
        assert!(
            !common::in_ci(),
            "python3 jsonschema is missing; scripts/test.sh installs it"
        );
        eprintln!("schema test skipped: python3 jsonschema missing");
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(repo_file("docs/manifest-scan.schema.json"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&serde_json::to_vec(report).expect("json"))
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    Some(if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

#[test]
fn scan_reports_validate_against_the_published_schema() {
    let (_, report) = scan(&[
        &fixture("privileged-daemonset.yaml"),
        &fixture("multi.yaml"),
        &fixture("malformed.yaml"),
        &fixture("hardening"),
        "--min-score",
        "3",
    ]);
    let Some(result) = schema_errors(&report) else {
        return;
    };
    result.expect("scan report matches docs/manifest-scan.schema.json");
    let (_, on_node) = scan_on_node(&profile_node(false, false));
    schema_errors(&on_node)
        .expect("validator")
        .expect("report with node problems matches the schema");

    // The validator really rejects a report that breaks the contract.
    let mut broken = report.clone();
    broken["objects"][0]["critical"][0]["points"] = 5.into();
    assert!(schema_errors(&broken).expect("validator").is_err());
    let mut broken = report;
    broken["objects"][0]["locations"] = serde_json::Value::Null;
    broken["objects"][0]["advise"][0]["locations"][0]["source"] = "pod".into();
    assert!(schema_errors(&broken).expect("validator").is_err());
}

#[test]
fn more_documents_than_the_parsers_default_limit_are_all_scored() {
    // `helm template` of a large chart easily has more than 1,024 documents.
    let mut text = String::new();
    for index in 0..1100 {
        text.push_str(&format!(
            "---\nkind: Pod\nmetadata: {{name: p{index}}}\nspec:\n  containers: [{{name: c}}]\n"
        ));
    }
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", "-"])
        .write_stdin(text)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let report = json(&output);
    assert_eq!(report["summary"]["objects"], 1100);
    assert_eq!(report["objects"][1099]["document"], 1100);
}

#[test]
fn a_fifo_or_directory_without_manifests_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pod.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let (exit, report) = scan(&[fifo.to_str().expect("utf8")]);
    assert_eq!(exit, 2);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("FIFO")),
        "{report:#}"
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let (exit, report) = scan(&[empty.path().to_str().expect("utf8")]);
    assert_eq!(exit, 2);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no *.yaml")),
        "{report:#}"
    );
}
