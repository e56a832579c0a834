//! `hardnode manifest scan --standard baseline|restricted` end to end, against the Kubernetes Pod
//! Security Standards:
//! - a table written from the standard's text: per control a spec that violates it and one that
//!   sits exactly on the allowed side, at pod and container level, in containers, initContainers
//!   and ephemeralContainers, inside each workload kind's template, checking the control named,
//!   the field path, and the versions where the standard changed;
//! - text, JSON (against docs/pod-security.schema.json) and SARIF output, exit codes, stdin,
//!   malformed and unreadable input.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Stdio;

use common::{code, hardnode, json, repo_file};
use serde_json::{Value, json};

/// Runs `manifest scan --standard LEVEL [--standard-version V] --format FORMAT ARGS...`.
fn run(level: &str, version: &str, format: &str, args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut command = hardnode();
    command.args(["manifest", "scan", "--standard", level, "--format", format]);
    if version != "latest" {
        command.args(["--standard-version", version]);
    }
    let output = command.args(args).output().expect("run hardnode");
    (
        code(&output),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn judge(level: &str, version: &str, args: &[&str]) -> (i32, Value) {
    let mut command = hardnode();
    command.args(["manifest", "scan", "--standard", level, "--format", "json"]);
    if version != "latest" {
        command.args(["--standard-version", version]);
    }
    let output = command.args(args).output().expect("run hardnode");
    (code(&output), json(&output))
}

fn objects(report: &Value) -> &Vec<Value> {
    report["objects"].as_array().expect("objects")
}

fn violated_ids(object: &Value) -> BTreeSet<String> {
    object["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["control_id"].as_str().expect("control_id").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The table written from the standard's text.

/// `@` in an expected field stands for the path of the container under test.
struct Case {
    name: &'static str,
    /// Merged into the pod spec (`null` values remove a field).
    pod: Value,
    /// Merged into the pod's metadata.
    meta: Value,
    /// Merged into the container under test; `null`: a pod-level case.
    container: Value,
    version: &'static str,
    baseline: Vec<(&'static str, &'static str)>,
    restricted: Vec<(&'static str, &'static str)>,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        pod: Value::Null,
        meta: Value::Null,
        container: Value::Null,
        version: "latest",
        baseline: Vec::new(),
        restricted: Vec::new(),
    }
}

impl Case {
    fn pod(mut self, pod: Value) -> Self {
        self.pod = pod;
        self
    }
    fn meta(mut self, meta: Value) -> Self {
        self.meta = meta;
        self
    }
    fn container(mut self, container: Value) -> Self {
        self.container = container;
        self
    }
    fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }
    /// Violates `id` at `field` at both levels.
    fn both(mut self, id: &'static str, field: &'static str) -> Self {
        self.baseline.push((id, field));
        self.restricted.push((id, field));
        self
    }
    fn baseline(mut self, id: &'static str, field: &'static str) -> Self {
        self.baseline.push((id, field));
        self
    }
    fn restricted(mut self, id: &'static str, field: &'static str) -> Self {
        self.restricted.push((id, field));
        self
    }
}

/// A pod that meets `restricted` (and so `baseline`): the table changes one thing at a time.
fn compliant_container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.k8s.io/pause",
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
    })
}

/// A JSON merge patch: objects merge key by key, `null` removes a key; a `null` patch is none.
fn merge(target: &mut Value, patch: &Value) {
    if patch.is_null() {
        return;
    }
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

const KINDS: [(&str, &str, &str); 8] = [
    ("Pod", "v1", ""),
    ("Deployment", "apps/v1", "spec.template."),
    ("StatefulSet", "apps/v1", "spec.template."),
    ("DaemonSet", "apps/v1", "spec.template."),
    ("ReplicaSet", "apps/v1", "spec.template."),
    ("ReplicationController", "v1", "spec.template."),
    ("Job", "batch/v1", "spec.template."),
    ("CronJob", "batch/v1", "spec.jobTemplate.spec.template."),
];

/// Where the container under test sits: its list, and the path of it in the pod spec.
const PLACEMENTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// The object for a case, as `kind`, with the container under test in `placement` (or none for a
/// pod-level case). Returns the object and the path of the container under test.
fn build(case: &Case, kind: usize, placement: Option<&str>, name: &str) -> (Value, String) {
    let (kind_name, api, prefix) = KINDS[kind];
    let mut spec = json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [compliant_container("app")]
    });
    merge(&mut spec, &case.pod);
    let mut under_test = String::new();
    if let Some(list) = placement {
        let mut container = if list == "containers" {
            spec["containers"][0].clone()
        } else {
            compliant_container(if list == "initContainers" {
                "init"
            } else {
                "debug"
            })
        };
        merge(&mut container, &case.container);
        spec[list] = json!([container]);
        under_test = format!("{prefix}spec.{list}[0]");
    }
    let mut metadata = json!({"name": name});
    merge(&mut metadata, &case.meta);
    let object = match kind_name {
        "Pod" => json!({"apiVersion": api, "kind": kind_name, "metadata": metadata, "spec": spec}),
        "CronJob" => json!({
            "apiVersion": api, "kind": kind_name, "metadata": {"name": name},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"metadata": metadata, "spec": spec}}}}
        }),
        _ => json!({
            "apiVersion": api, "kind": kind_name, "metadata": {"name": name},
            "spec": {"template": {"metadata": metadata, "spec": spec}}
        }),
    };
    (object, under_test)
}

fn cases() -> Vec<Case> {
    let sc = |value: Value| json!({"securityContext": value});
    vec![
        // HostProcess
        case("pod-host-process").pod(sc(json!({"windowsOptions": {"hostProcess": true}})))
            .both("windowsHostProcess", "spec.securityContext.windowsOptions.hostProcess"),
        case("pod-host-process-false").pod(sc(json!({"windowsOptions": {"hostProcess": false}}))),
        case("container-host-process").container(sc(json!({"windowsOptions": {"hostProcess": true}})))
            .both("windowsHostProcess", "@.securityContext.windowsOptions.hostProcess"),
        case("container-host-process-false").container(sc(json!({"windowsOptions": {"hostProcess": false}}))),
        // Host Namespaces
        case("host-network").pod(json!({"hostNetwork": true})).both("hostNamespaces", "spec.hostNetwork"),
        case("host-network-false").pod(json!({"hostNetwork": false})),
        case("host-pid").pod(json!({"hostPID": true})).both("hostNamespaces", "spec.hostPID"),
        case("host-ipc").pod(json!({"hostIPC": true})).both("hostNamespaces", "spec.hostIPC"),
        case("host-ipc-false").pod(json!({"hostIPC": false, "hostPID": false})),
        // Privileged Containers
        case("privileged").container(sc(json!({"privileged": true})))
            .both("privileged", "@.securityContext.privileged"),
        case("privileged-false").container(sc(json!({"privileged": false}))),
        // Capabilities
        case("cap-sys-admin").container(sc(json!({"capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}})))
            .baseline("capabilities_baseline", "@.securityContext.capabilities.add[0]")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[0]"),
        case("cap-sys-ptrace-bpf").container(sc(json!({"capabilities": {"add": ["CHOWN", "SYS_PTRACE", "BPF"], "drop": ["ALL"]}})))
            .baseline("capabilities_baseline", "@.securityContext.capabilities.add[1]")
            .baseline("capabilities_baseline", "@.securityContext.capabilities.add[2]")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[0]")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[2]"),
        case("cap-net-raw").container(sc(json!({"capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]}})))
            .baseline("capabilities_baseline", "@.securityContext.capabilities.add[0]")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[0]"),
        case("cap-default-set").container(sc(json!({"capabilities": {"add": ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"], "drop": ["ALL"]}})))
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[11]"),
        case("cap-lowercase").container(sc(json!({"capabilities": {"add": ["chown"], "drop": ["ALL"]}})))
            .baseline("capabilities_baseline", "@.securityContext.capabilities.add[0]")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.add[0]"),
        case("cap-net-bind-service").container(sc(json!({"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}))),
        case("cap-drop-lowercase-all").container(sc(json!({"capabilities": {"drop": ["all"]}})))
            .restricted("capabilities_restricted", "@.securityContext.capabilities.drop"),
        case("cap-empty").container(sc(json!({"capabilities": {"drop": null}})))
            .restricted("capabilities_restricted", "@.securityContext.capabilities.drop"),
        case("cap-drop-all-and-more").container(sc(json!({"capabilities": {"drop": ["NET_RAW", "ALL"]}}))),
        // HostPath Volumes / Volume Types
        case("host-path").pod(json!({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]}))
            .baseline("hostPathVolumes", "spec.volumes[0].hostPath")
            .restricted("restrictedVolumes", "spec.volumes[0]"),
        case("nfs-volume").pod(json!({"volumes": [{"name": "n", "nfs": {"server": "nfs", "path": "/"}}]}))
            .restricted("restrictedVolumes", "spec.volumes[0]"),
        case("allowed-volumes").pod(json!({"volumes": [
            {"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "c"}},
            {"name": "c", "secret": {"secretName": "s"}}, {"name": "d", "projected": {"sources": []}},
            {"name": "e", "downwardAPI": {"items": []}}, {"name": "f", "persistentVolumeClaim": {"claimName": "p"}},
            {"name": "g", "csi": {"driver": "x"}}, {"name": "h", "image": {"reference": "r"}},
            {"name": "i", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}, {"name": "j"}
        ]})),
        // Host Ports
        case("host-port").container(json!({"ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 8443}]}))
            .both("hostPorts", "@.ports[1].hostPort"),
        case("host-port-zero").container(json!({"ports": [{"containerPort": 80, "hostPort": 0}]})),
        // Host Probes / Lifecycle Hooks (v1.34+)
        case("probe-host").container(json!({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}))
            .both("hostProbesAndHostLifecycle", "@.livenessProbe.httpGet.host"),
        case("tcp-probe-host").container(json!({"readinessProbe": {"tcpSocket": {"host": "metadata", "port": 80}}}))
            .both("hostProbesAndHostLifecycle", "@.readinessProbe.tcpSocket.host"),
        case("lifecycle-host").container(json!({"lifecycle": {"preStop": {"httpGet": {"host": "169.254.169.254", "port": 80}}}}))
            .both("hostProbesAndHostLifecycle", "@.lifecycle.preStop.httpGet.host"),
        case("probe-empty-host").container(json!({"startupProbe": {"httpGet": {"host": "", "port": 80}}, "lifecycle": {"postStart": {"tcpSocket": {"port": 80}}}})),
        case("probe-host-before-1.34").version("v1.33").container(json!({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}})),
        // AppArmor
        case("pod-apparmor-unconfined").pod(sc(json!({"appArmorProfile": {"type": "Unconfined"}})))
            .both("appArmorProfile", "spec.securityContext.appArmorProfile.type"),
        case("pod-apparmor-runtime-default").pod(sc(json!({"appArmorProfile": {"type": "RuntimeDefault"}}))),
        case("container-apparmor-unconfined").container(sc(json!({"appArmorProfile": {"type": "Unconfined"}})))
            .both("appArmorProfile", "@.securityContext.appArmorProfile.type"),
        case("container-apparmor-localhost").container(sc(json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-deny-write"}}))),
        case("apparmor-annotation-unconfined").meta(json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}))
            .both("appArmorProfile", "metadata.annotations['container.apparmor.security.beta.kubernetes.io/app']"),
        case("apparmor-annotation-allowed").meta(json!({"annotations": {
            "container.apparmor.security.beta.kubernetes.io/app": "runtime/default",
            "container.apparmor.security.beta.kubernetes.io/other": "localhost/k8s-deny-write",
            "container.apparmor.security.beta.kubernetes.io/third": ""}})),
        // SELinux
        case("pod-selinux-spc").pod(sc(json!({"seLinuxOptions": {"type": "spc_t"}})))
            .both("seLinuxOptions", "spec.securityContext.seLinuxOptions.type"),
        case("pod-selinux-allowed").pod(sc(json!({"seLinuxOptions": {"type": "container_init_t", "level": "s0:c123,c456"}}))),
        case("container-selinux-user").container(sc(json!({"seLinuxOptions": {"user": "system_u"}})))
            .both("seLinuxOptions", "@.securityContext.seLinuxOptions.user"),
        case("container-selinux-role").container(sc(json!({"seLinuxOptions": {"role": "system_r"}})))
            .both("seLinuxOptions", "@.securityContext.seLinuxOptions.role"),
        case("container-selinux-kvm").container(sc(json!({"seLinuxOptions": {"type": "container_kvm_t"}}))),
        case("selinux-engine-1.31").version("v1.31").container(sc(json!({"seLinuxOptions": {"type": "container_engine_t"}}))),
        case("selinux-engine-1.30").version("v1.30").container(sc(json!({"seLinuxOptions": {"type": "container_engine_t"}})))
            .both("seLinuxOptions", "@.securityContext.seLinuxOptions.type"),
        // /proc Mount Type
        case("proc-unmasked").container(sc(json!({"procMount": "Unmasked"})))
            .baseline("procMount", "@.securityContext.procMount")
            .restricted("procMount_restricted", "@.securityContext.procMount"),
        case("proc-default").container(sc(json!({"procMount": "Default"}))),
        case("proc-unmasked-user-namespace").pod(json!({"hostUsers": false})).container(sc(json!({"procMount": "Unmasked"})))
            .restricted("procMount_restricted", "@.securityContext.procMount"),
        case("proc-unmasked-user-namespace-1.34").version("v1.34").pod(json!({"hostUsers": false})).container(sc(json!({"procMount": "Unmasked"})))
            .both("procMount", "@.securityContext.procMount"),
        // Seccomp
        case("pod-seccomp-unconfined").pod(sc(json!({"seccompProfile": {"type": "Unconfined"}})))
            .baseline("seccompProfile_baseline", "spec.securityContext.seccompProfile.type")
            .restricted("seccompProfile_restricted", "spec.securityContext.seccompProfile.type"),
        case("pod-seccomp-localhost").pod(sc(json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}))),
        case("container-seccomp-unconfined").container(sc(json!({"seccompProfile": {"type": "Unconfined"}})))
            .baseline("seccompProfile_baseline", "@.securityContext.seccompProfile.type")
            .restricted("seccompProfile_restricted", "@.securityContext.seccompProfile.type"),
        case("container-seccomp-no-type").container(sc(json!({"seccompProfile": {}})))
            .baseline("seccompProfile_baseline", "@.securityContext.seccompProfile.type")
            .restricted("seccompProfile_restricted", "@.securityContext.seccompProfile.type"),
        case("pod-seccomp-unset").pod(sc(json!({"seccompProfile": null})))
            .restricted("seccompProfile_restricted", "spec.containers[0].securityContext.seccompProfile.type"),
        case("seccomp-annotation-1.18").version("v1.18").meta(json!({"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}))
            .both("seccompProfile_baseline", "metadata.annotations['seccomp.security.alpha.kubernetes.io/pod']"),
        // From 1.19 on the standard judges the fields, not the legacy annotations.
        case("seccomp-annotation-latest").meta(json!({"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}})),
        // Sysctls
        case("sysctl-unsafe").pod(sc(json!({"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}, {"name": "kernel.msgmax", "value": "65536"}]})))
            .both("sysctls", "spec.securityContext.sysctls[1].name"),
        case("sysctl-safe").pod(sc(json!({"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}, {"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]}))),
        case("sysctl-tcp-notsent-lowat").pod(sc(json!({"sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]}))),
        case("sysctl-tcp-notsent-lowat-1.36").version("v1.36").pod(sc(json!({"sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]})))
            .both("sysctls", "spec.securityContext.sysctls[0].name"),
        case("sysctl-tcp-rmem-1.32").version("v1.32").pod(sc(json!({"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}))),
        case("sysctl-tcp-rmem-1.31").version("v1.31").pod(sc(json!({"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]})))
            .both("sysctls", "spec.securityContext.sysctls[0].name"),
        // Privilege Escalation
        case("privilege-escalation").container(sc(json!({"allowPrivilegeEscalation": true})))
            .restricted("allowPrivilegeEscalation", "@.securityContext.allowPrivilegeEscalation"),
        case("privilege-escalation-unset").container(sc(json!({"allowPrivilegeEscalation": null})))
            .restricted("allowPrivilegeEscalation", "@.securityContext.allowPrivilegeEscalation"),
        // Running as Non-root
        case("pod-run-as-root-allowed").pod(sc(json!({"runAsNonRoot": false})))
            .restricted("runAsNonRoot", "spec.securityContext.runAsNonRoot"),
        case("run-as-non-root-unset").pod(sc(json!({"runAsNonRoot": null})))
            .restricted("runAsNonRoot", "spec.containers[0].securityContext.runAsNonRoot"),
        case("container-run-as-root-allowed").container(sc(json!({"runAsNonRoot": false})))
            .restricted("runAsNonRoot", "@.securityContext.runAsNonRoot"),
        case("run-as-root-allowed-user-namespace").pod(json!({"hostUsers": false, "securityContext": {"runAsNonRoot": false}})),
        case("run-as-root-allowed-user-namespace-1.34").version("v1.34").pod(json!({"hostUsers": false, "securityContext": {"runAsNonRoot": false}}))
            .restricted("runAsNonRoot", "spec.securityContext.runAsNonRoot"),
        // Running as Non-root user
        case("pod-run-as-user-0").pod(sc(json!({"runAsUser": 0})))
            .restricted("runAsUser", "spec.securityContext.runAsUser"),
        case("container-run-as-user-0").container(sc(json!({"runAsUser": 0})))
            .restricted("runAsUser", "@.securityContext.runAsUser"),
        case("container-run-as-user-1000").container(sc(json!({"runAsUser": 1000}))),
        case("container-run-as-user-0-user-namespace").pod(json!({"hostUsers": false})).container(sc(json!({"runAsUser": 0}))),
        // Windows pods are exempt from the Linux-only restricted controls (from 1.25).
        case("windows-pod").pod(json!({"os": {"name": "windows"}, "securityContext": {"seccompProfile": null}}))
            .container(sc(json!({"allowPrivilegeEscalation": null, "capabilities": null}))),
        case("windows-pod-1.24").version("v1.24").pod(json!({"os": {"name": "windows"}, "securityContext": {"seccompProfile": null}}))
            .container(sc(json!({"allowPrivilegeEscalation": null, "capabilities": null})))
            .restricted("allowPrivilegeEscalation", "@.securityContext.allowPrivilegeEscalation")
            .restricted("capabilities_restricted", "@.securityContext.capabilities.drop")
            .restricted("seccompProfile_restricted", "@.securityContext.seccompProfile.type"),
    ]
}

struct Built {
    case: usize,
    kind: usize,
    under_test: String,
}

#[test]
fn every_control_is_judged_on_both_sides_in_every_container_list_and_workload_kind() {
    let cases = cases();
    let mut by_version: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, case) in cases.iter().enumerate() {
        by_version.entry(case.version).or_default().push(index);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0usize;
    for (version, indexes) in by_version {
        let mut documents = Vec::new();
        let mut built: BTreeMap<String, Built> = BTreeMap::new();
        for &index in &indexes {
            let case = &cases[index];
            let placements: Vec<Option<&str>> = if case.container.is_null() {
                vec![None]
            } else {
                PLACEMENTS.iter().copied().map(Some).collect()
            };
            for placement in placements {
                for (kind, (kind_name, _, _)) in KINDS.iter().enumerate() {
                    let name =
                        format!("{}-{}-{}", case.name, placement.unwrap_or("pod"), kind_name)
                            .to_lowercase();
                    let (object, under_test) = build(case, kind, placement, &name);
                    documents.push(serde_json::to_string_pretty(&object).expect("json"));
                    built.insert(
                        name,
                        Built {
                            case: index,
                            kind,
                            under_test,
                        },
                    );
                }
            }
        }
        let file = dir.path().join(format!("table-{version}.yaml"));
        std::fs::write(&file, documents.join("\n---\n")).expect("write");
        let file = file.display().to_string();
        for level in ["baseline", "restricted"] {
            let (exit, report) = judge(level, version, &[&file]);
            assert_eq!(report["summary"]["errors"], 0, "{report:#}");
            assert_eq!(objects(&report).len(), built.len());
            // Every output format gives the same verdict.
            let summary = &report["summary"];
            let (text_exit, text, _) = run(level, version, "text", &[&file]);
            let text = String::from_utf8(text).expect("utf-8");
            assert_eq!(text_exit, exit);
            assert!(
                text.contains(&format!(
                    ": {} meet it, {} violate it ({} violations); 0 errors",
                    summary["meeting"], summary["violating"], summary["violations"]
                )),
                "{level} {version}: {summary}"
            );
            let (sarif_exit, sarif, _) = run(level, version, "sarif", &[&file]);
            assert_eq!(sarif_exit, exit);
            let sarif: Value = serde_json::from_slice(&sarif).expect("sarif");
            assert_eq!(
                sarif["runs"][0]["results"].as_array().map(Vec::len),
                summary["violations"].as_u64().map(|n| n as usize),
                "{level} {version}"
            );
            for object in objects(&report) {
                let name = object["name"].as_str().expect("name");
                let Built {
                    case,
                    kind,
                    under_test,
                } = &built[name];
                let case = &cases[*case];
                let expected = if level == "baseline" {
                    &case.baseline
                } else {
                    &case.restricted
                };
                let ids: BTreeSet<String> = expected.iter().map(|(id, _)| id.to_string()).collect();
                assert_eq!(
                    violated_ids(object),
                    ids,
                    "{name} at {level} {version}: {object:#}"
                );
                assert_eq!(object["meets"], expected.is_empty(), "{name}");
                let prefix = KINDS[*kind].2;
                let fields: Vec<&str> = object["violations"]
                    .as_array()
                    .expect("violations")
                    .iter()
                    .filter_map(|v| v["field"].as_str())
                    .collect();
                for (id, field) in expected {
                    let full = match field.strip_prefix('@') {
                        Some(rest) => format!("{under_test}{rest}"),
                        None => format!("{prefix}{field}"),
                    };
                    assert!(
                        fields.contains(&full.as_str()),
                        "{name} at {level} {version}: {id} at {full} not in {fields:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked} verdicts checked");
}

// ---------------------------------------------------------------------------------------------
// The issue's pod, formats, exit codes, bad input.

/// The pod of issue 18: Pod Security admission rejects it at baseline, yet it scored 13 points.
const ISSUE_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: sneaky
  namespace: apps
spec:
  hostAliases:
  - ip: 10.0.0.9
    hostnames: [registry.internal]
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile:
      type: Unconfined
  containers:
  - name: app
    image: registry.example/app:1.2.3
    ports:
    - containerPort: 8080
      hostPort: 8080
    env:
    - name: DB_PASSWORD
      valueFrom:
        secretKeyRef: {name: db, key: password}
    resources:
      limits: {cpu: 500m, memory: 256Mi}
      requests: {cpu: 100m, memory: 128Mi}
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      procMount: Unmasked
      appArmorProfile:
        type: Unconfined
      capabilities:
        drop: [ALL]
        add: [SYS_PTRACE, BPF]
";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn the_pod_of_the_issue_fails_baseline_with_each_control_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "sneaky.yaml", ISSUE_POD);
    let (exit, report) = judge("baseline", "latest", &[&file]);
    assert_eq!(exit, 1, "{report:#}");
    let object = &objects(&report)[0];
    assert_eq!(object["object"], "Pod/sneaky.apps");
    let found: Vec<(String, String, Value, u64)> = object["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            (
                v["control"].as_str().expect("control").to_string(),
                v["field"].as_str().expect("field").to_string(),
                v["found"].clone(),
                v["line"].as_u64().expect("line"),
            )
        })
        .collect();
    let expect = [
        (
            "Capabilities",
            "spec.containers[0].securityContext.capabilities.add[0]",
            json!("SYS_PTRACE"),
            36,
        ),
        (
            "Capabilities",
            "spec.containers[0].securityContext.capabilities.add[1]",
            json!("BPF"),
            36,
        ),
        (
            "Host Ports",
            "spec.containers[0].ports[0].hostPort",
            json!(8080),
            20,
        ),
        (
            "AppArmor",
            "spec.containers[0].securityContext.appArmorProfile.type",
            json!("Unconfined"),
            33,
        ),
        (
            "/proc Mount Type",
            "spec.containers[0].securityContext.procMount",
            json!("Unmasked"),
            31,
        ),
        (
            "Seccomp",
            "spec.securityContext.seccompProfile.type",
            json!("Unconfined"),
            14,
        ),
    ];
    for (control, field, value, line) in &expect {
        assert!(
            found.contains(&(control.to_string(), field.to_string(), value.clone(), *line)),
            "{control} {field} {value} line {line} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn text_output_names_control_field_value_allowed_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "sneaky.yaml", ISSUE_POD);
    let (exit, stdout, _) = run("baseline", "latest", "text", &[&file]);
    assert_eq!(exit, 1);
    let text = String::from_utf8(stdout).expect("utf-8");
    assert!(text.contains("Pod/sneaky.apps"), "{text}");
    assert!(
        text.contains("violates baseline v1.37 (6 violations)"),
        "{text}"
    );
    assert!(
        text.contains(
            "Host Ports (baseline): spec.containers[0].ports[0].hostPort = 8080, line 20; allowed: undefined/null, 0"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 objects against the Pod Security Standards, baseline v1.37: 0 meet it, 1 violate it (6 violations); 0 errors"),
        "{text}"
    );
}

#[test]
fn sarif_output_has_one_error_per_violation_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "sneaky.yaml", ISSUE_POD);
    let (exit, stdout, _) = run("restricted", "latest", "sarif", &[&file]);
    assert_eq!(exit, 1);
    let sarif: Value = serde_json::from_slice(&stdout).expect("sarif parses");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        rules.contains(&"pod-security.capabilities_restricted"),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&"pod-security.capabilities_baseline"),
        "{rules:?}"
    );
    let results = run["results"].as_array().expect("results");
    let (_, report) = judge("restricted", "latest", &[&file]);
    assert_eq!(
        results.len() as u64,
        report["summary"]["violations"].as_u64().expect("count")
    );
    let host_port = results
        .iter()
        .find(|r| r["ruleId"] == "pod-security.hostPorts")
        .expect("hostPorts result");
    assert_eq!(host_port["level"], "error");
    let location = &host_port["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("/sneaky.yaml")),
        "{location}"
    );
    assert_eq!(location["region"]["startLine"], 20);
}

/// Validates a report against docs/pod-security.schema.json with Python's `jsonschema`
/// (installed by scripts/test.sh). `None`: no validator here (outside CI).
fn schema_errors(report: &Value) -> Option<Result<(), String>> {
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.validate(json.load(sys.stdin), schema, cls=jsonschema.Draft202012Validator)\n";
    let have = std::process::Command::new("python3")
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
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(repo_file("docs/pod-security.schema.json"))
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
fn json_reports_validate_against_the_published_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sneaky = write(&dir, "sneaky.yaml", ISSUE_POD);
    let malformed = repo_file("tests/fixtures/manifests/malformed.yaml")
        .display()
        .to_string();
    let multi = repo_file("tests/fixtures/manifests/multi.yaml")
        .display()
        .to_string();
    let (_, report) = judge("restricted", "v1.30", &[&sneaky, &malformed, &multi]);
    assert!(report["summary"]["errors"].as_u64() > Some(0));
    assert!(report["summary"]["notes"].as_u64() > Some(0), "{report:#}");
    let Some(result) = schema_errors(&report) else {
        return;
    };
    result.expect("report matches docs/pod-security.schema.json");
    // The validator really rejects a report that breaks the contract.
    let mut broken = report.clone();
    broken["objects"][0]["violations"][0]["level"] = "privileged".into();
    assert!(schema_errors(&broken).expect("validator").is_err());
    let mut broken = report;
    broken["standard"]["version"] = "1.30".into();
    assert!(schema_errors(&broken).expect("validator").is_err());
}

#[test]
fn exit_0_when_every_object_meets_the_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (object, _) = build(&case("ok"), 1, Some("containers"), "web");
    let file = write(&dir, "web.json", &object.to_string());
    let (exit, report) = judge("restricted", "latest", &[&file]);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(report["summary"]["meeting"], 1);
    let (exit, _) = judge("baseline", "v1.0", &[&file]);
    assert_eq!(exit, 0);
}

#[test]
fn malformed_input_exits_2_naming_file_document_and_line_and_other_files_are_still_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sneaky = write(&dir, "sneaky.yaml", ISSUE_POD);
    let malformed = repo_file("tests/fixtures/manifests/malformed.yaml")
        .display()
        .to_string();
    let missing = dir.path().join("missing.yaml").display().to_string();
    let (exit, report) = judge("baseline", "latest", &[&malformed, &sneaky, &missing]);
    assert_eq!(exit, 2, "{report:#}");
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["file"] == malformed.as_str() && e["document"] == 2 && e["line"] == 18),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e["file"] == missing.as_str()),
        "{errors:#?}"
    );
    assert!(
        objects(&report)
            .iter()
            .any(|o| o["object"] == "Pod/sneaky.apps" && o["meets"] == false),
        "{report:#}"
    );
}

#[test]
fn a_field_of_the_wrong_shape_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        &dir,
        "shape.yaml",
        "kind: Pod\nmetadata: {name: odd}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: [privileged]\n",
    );
    let (exit, report) = judge("baseline", "latest", &[&file]);
    assert_eq!(exit, 2, "{report:#}");
    let message = report["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Pod/odd.default: spec.containers[0].securityContext is not a mapping"),
        "{report:#}"
    );
    assert_eq!(report["errors"][0]["line"], 7);
}

#[test]
fn stdin_list_items_are_judged() {
    let list = json!({
        "apiVersion": "v1", "kind": "List",
        "items": [
            build(&case("a"), 0, Some("containers"), "fine").0,
            build(&case("b").pod(json!({"hostPID": true})), 2, None, "nosy").0,
        ]
    });
    let output = hardnode()
        .args([
            "manifest",
            "scan",
            "--standard",
            "baseline",
            "--format",
            "json",
            "-",
        ])
        .write_stdin(list.to_string())
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    let report = json(&output);
    let verdicts: Vec<(String, bool)> = objects(&report)
        .iter()
        .map(|o| {
            (
                o["object"].as_str().expect("object").to_string(),
                o["meets"].as_bool().expect("meets"),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("Pod/fine.default".to_string(), true),
            ("StatefulSet/nosy.default".to_string(), false)
        ]
    );
}

#[test]
fn an_unknown_version_or_a_scoring_flag_with_standard_is_a_usage_error() {
    let sneaky = repo_file("tests/fixtures/manifests/multi.yaml")
        .display()
        .to_string();
    let (exit, _, stderr) = run("baseline", "v1.99", "json", &[&sneaky]);
    assert_eq!(exit, 2);
    assert!(stderr.contains("v1.0 to v1.37"), "{stderr}");
    let (exit, _, _) = run("baseline", "latest", "json", &[&sneaky, "--min-score", "3"]);
    assert_eq!(exit, 2);
}

// ---------------------------------------------------------------------------------------------
// `hardnode check`'s manifests.static-pods: the static pods' baseline violations.

const STATIC_RULE: &str = "manifests.static-pods";

/// A kubeadm control plane node (the fixture static pods of tests/fixtures/manifests, from
/// kubeadm v1.30) plus `extra` static pod files.
fn control_plane(extra: &[(&str, String)]) -> common::Root {
    let root = common::Root::new();
    root.identity("cp1", "5.15.0-105-generic", "Ubuntu 22.04.4 LTS");
    for name in ["kube-apiserver.yaml", "etcd.yaml"] {
        let text =
            std::fs::read(repo_file(&format!("tests/fixtures/manifests/{name}"))).expect("fixture");
        root.file(&format!("/etc/kubernetes/manifests/{name}"), text);
    }
    for (name, text) in extra {
        root.file(&format!("/etc/kubernetes/manifests/{name}"), text);
    }
    root
}

#[test]
fn kubeadm_static_pods_violate_baseline_only_where_the_control_plane_is_expected_to() {
    let root = control_plane(&[]);
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "pass", "{report:#}");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    for expected in [
        "Pod/kube-apiserver.kube-system: Pod Security Standards baseline v1.37: Host Namespaces (baseline): spec.hostNetwork = true",
        "Pod/kube-apiserver.kube-system: Pod Security Standards baseline v1.37: Host Probes / Lifecycle Hooks (baseline): spec.containers[0].livenessProbe.httpGet.host = ",
        "Pod/etcd.kube-system: Pod Security Standards baseline v1.37: HostPath Volumes (baseline): spec.volumes[0].hostPath",
    ] {
        assert!(
            evidence.contains(expected),
            "{expected}\nnot in\n{evidence}"
        );
    }
    assert!(evidence.contains("— expected for etcd"), "{evidence}");
    let actual = common::result(&report, STATIC_RULE)["actual"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        actual.starts_with("2 static pods: 0 unexpected critical findings or baseline violations"),
        "{actual}"
    );
}

#[test]
fn a_control_plane_pod_mounting_the_runtime_socket_or_disabling_seccomp_is_a_warning() {
    let apiserver = std::fs::read_to_string(repo_file(
        "tests/fixtures/manifests/kube-apiserver.yaml",
    ))
    .expect("fixture")
    .replace(
        "  volumes:\n",
        "  volumes:\n  - hostPath:\n      path: /run/containerd/containerd.sock\n    name: runtime\n",
    )
    .replace("      type: RuntimeDefault\n", "      type: Unconfined\n");
    let root = control_plane(&[("kube-apiserver.yaml", apiserver)]);
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "warn", "{report:#}");
    let reason = common::result(&report, STATIC_RULE)["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason.contains("pod-security.hostPathVolumes")
            && reason.contains("pod-security.seccompProfile_baseline"),
        "{reason}"
    );
    // Its expected needs stay expected; etcd has nothing unexpected.
    assert!(!reason.contains("pod-security.hostNamespaces"), "{reason}");
    assert!(!reason.contains("Pod/etcd"), "{reason}");
    let evidence = common::evidence_text(&report, STATIC_RULE);
    assert!(
        evidence.contains("HostPath Volumes (baseline): spec.volumes[0].hostPath = {")
            && evidence.contains("/run/containerd/containerd.sock"),
        "{evidence}"
    );
}

#[test]
fn a_non_control_plane_static_pod_with_a_host_port_is_a_warning() {
    // A host port is no critical kubesec-style hit, but it violates baseline.
    let agent =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: node-exporter\n  namespace: monitoring\n\
                 spec:\n  containers:\n  - name: exporter\n    image: prom/node-exporter:v1.8.1\n\
                 \x20   ports:\n    - containerPort: 9100\n      hostPort: 9100\n"
            .to_string();
    let root = control_plane(&[("node-exporter.yaml", agent)]);
    let (_, report) = root.check_json(&["--only", "manifests"]);
    assert_eq!(common::status(&report, STATIC_RULE), "warn", "{report:#}");
    let reason = common::result(&report, STATIC_RULE)["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason.contains("Pod/node-exporter.monitoring: pod-security.hostPorts"),
        "{reason}"
    );
}

// ---------------------------------------------------------------------------------------------
// The score (no --standard): the issue's pod no longer passes, and the report says what the
// score is.

#[test]
fn the_pod_of_the_issue_fails_the_score_with_the_advice_kubesec_users_miss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "sneaky.yaml", ISSUE_POD);
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", &file])
        .output()
        .expect("run");
    assert_eq!(code(&output), 1, "it scored 13 points and exited 0 before");
    let report = json(&output);
    assert!(
        report["score_model"]
            .as_str()
            .is_some_and(|m| m.contains("not kubesec-compatible")),
        "{report:#}"
    );
    let object = &objects(&report)[0];
    let ids = |key: &str| -> Vec<String> {
        object[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    };
    let critical = ids("critical");
    for id in [
        "pod.seccomp-unconfined",
        "pod.apparmor-unconfined",
        "pod.proc-mount-unmasked",
        "pod.cap-dangerous",
    ] {
        assert!(critical.contains(&id.to_string()), "{id}: {critical:?}");
    }
    let advice = ids("advise");
    for id in [
        "pod.no-host-port",
        "pod.no-secret-env",
        "pod.no-host-aliases",
        "pod.automount-service-account-token",
    ] {
        assert!(advice.contains(&id.to_string()), "{id}: {advice:?}");
    }
    // The allowed side: hostPort 0, a ConfigMap in env, no hostAliases meet the advice.
    let fine = ISSUE_POD
        .replace("      hostPort: 8080\n", "      hostPort: 0\n")
        .replace(
            "secretKeyRef: {name: db, key: password}",
            "configMapKeyRef: {name: db, key: host}",
        )
        .replace(
            "  hostAliases:\n  - ip: 10.0.0.9\n    hostnames: [registry.internal]\n",
            "",
        );
    let file = write(&dir, "fine.yaml", &fine);
    let output = hardnode()
        .args(["manifest", "scan", "--format", "json", &file])
        .output()
        .expect("run");
    let report = json(&output);
    let passed: Vec<&str> = objects(&report)[0]["passed"]
        .as_array()
        .expect("passed")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for id in [
        "pod.no-host-port",
        "pod.no-secret-env",
        "pod.no-host-aliases",
    ] {
        assert!(passed.contains(&id), "{id}: {passed:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Any shape in any restricted place: judged, or an error of the input; never a panic.

fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "ALL",
            "all",
            "",
            "Unconfined",
            "RuntimeDefault",
            "Localhost",
            "Unmasked",
            "Default",
            "windows",
            "spc_t",
            "localhost/x",
            "kernel.msgmax",
            "0",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        let keys = prop::sample::select(vec![
            "securityContext",
            "capabilities",
            "add",
            "drop",
            "privileged",
            "seccompProfile",
            "appArmorProfile",
            "type",
            "procMount",
            "hostPort",
            "ports",
            "hostPath",
            "name",
            "runAsNonRoot",
            "runAsUser",
            "sysctls",
            "seLinuxOptions",
            "windowsOptions",
            "hostProcess",
            "livenessProbe",
            "httpGet",
            "host",
            "os",
            "hostUsers",
            "emptyDir",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

#[test]
fn arbitrary_shapes_in_restricted_places_never_panic() {
    use hardnode::manifest::Input;
    use hardnode::manifest::pss::{controls, judge_inputs};
    use proptest::test_runner::{Config, TestRunner};
    let controls = controls::load_embedded().expect("controls");
    let cases = std::env::var("HARDNODE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = (arbitrary_json(), arbitrary_json(), arbitrary_json());
    runner
        .run(&strategy, |(pod, container, volume)| {
            // The spec stays a mapping with a container (or it is no workload); anything goes
            // below that.
            let mut spec = json!({"containers": [{"name": "a"}], "volumes": [volume]});
            if pod.is_object() {
                merge(&mut spec, &pod);
            }
            if !spec["containers"].is_array() {
                spec["containers"] = json!([{"name": "a"}]);
            }
            if container.is_object()
                && let Some(first) = spec["containers"].get_mut(0)
                && first.is_object()
            {
                merge(first, &container);
            }
            spec["initContainers"] = json!([container]);
            let object = json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": spec});
            let input = Input {
                name: "fuzz.json".into(),
                text: Ok(object.to_string()),
            };
            for level in [controls::Level::Baseline, controls::Level::Restricted] {
                let report = judge_inputs(
                    std::slice::from_ref(&input),
                    &controls,
                    level,
                    controls.latest,
                    "latest",
                );
                // Consistent: an object meets the level exactly when it has no violation.
                for object in &report.objects {
                    proptest::prop_assert_eq!(object.meets, object.violations.is_empty());
                }
                proptest::prop_assert!(report.exit_code() <= 2);
            }
            Ok(())
        })
        .expect("no panic, consistent verdicts");
}
