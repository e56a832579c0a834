//! Distributions: platform detection, the k3s/RKE2 configuration layers, MicroK8s args files,
//! the managed clouds' control planes and OpenShift, on fixture nodes laid out as each
//! distribution documents its files (the version each models is written beside it).

mod common;

use common::{Root, evidence_text, status};

/// Amazon Linux 2023's os-release (EKS AL2023 AMI).
const AL2023_OS_RELEASE: &str = "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.5.20240805\"\n";

/// An EKS AL2023 worker (amazon-eks-ami, nodeadm): the kubelet runs with nodeadm's
/// `/etc/kubernetes/kubelet/config.json` and its `config.json.d` drop-ins.
pub fn eks_al2023() -> Root {
    let root = Root::new();
    root.file("/etc/os-release", AL2023_OS_RELEASE);
    root.accounts(&[]);
    root.file_mode("/usr/bin/nodeadm", "ELF", 0o755);
    root.process(
        2100,
        &[
            "/usr/bin/kubelet",
            "--config=/etc/kubernetes/kubelet/config.json",
            "--config-dir=/etc/kubernetes/kubelet/config.json.d",
            "--kubeconfig=/var/lib/kubelet/kubeconfig",
            "--node-ip=10.0.1.23",
            "--hostname-override=ip-10-0-1-23.eu-west-1.compute.internal",
        ],
    );
    root.file_mode(
        "/etc/kubernetes/kubelet/config.json",
        r#"{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","address":"0.0.0.0","authentication":{"anonymous":{"enabled":false},"webhook":{"cacheTTL":"2m0s","enabled":true},"x509":{"clientCAFile":"/etc/kubernetes/pki/ca.crt"}},"authorization":{"mode":"Webhook"},"readOnlyPort":0,"protectKernelDefaults":true,"serializeImagePulls":false,"rotateCertificates":true,"serverTLSBootstrap":true,"featureGates":{"RotateKubeletServerCertificate":true}}"#,
        0o644,
    );
    root.file_mode(
        "/etc/kubernetes/kubelet/config.json.d/00-nodeadm.conf",
        r#"{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","maxPods":29}"#,
        0o644,
    );
    root.file_mode(
        "/var/lib/kubelet/kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n    server: https://0A1B2C3D4E.gr7.eu-west-1.eks.amazonaws.com\n  name: kubernetes\n",
        0o600,
    );
    root.file_mode("/etc/kubernetes/pki/ca.crt", "CA", 0o644);
    root
}

/// A GKE node on Container-Optimized OS (GKE 1.30): configure-helper.sh writes
/// `/home/kubernetes/kubelet-config.yaml` and `kube-env`.
pub fn gke_cos() -> Root {
    let root = Root::new();
    root.file(
        "/etc/os-release",
        "NAME=\"Container-Optimized OS\"\nID=cos\nPRETTY_NAME=\"Container-Optimized OS from Google\"\nVERSION_ID=113\n",
    );
    root.accounts(&[]);
    root.file_mode(
        "/home/kubernetes/kube-env",
        "KUBERNETES_MASTER: \"true\"\n",
        0o600,
    );
    root.process(
        1900,
        &[
            "/home/kubernetes/bin/kubelet",
            "--v=2",
            "--cloud-provider=external",
            "--kubeconfig=/var/lib/kubelet/kubeconfig",
            "--config=/home/kubernetes/kubelet-config.yaml",
        ],
    );
    root.file_mode(
        "/home/kubernetes/kubelet-config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\n  x509:\n    clientCAFile: /etc/srv/kubernetes/pki/ca-certificates.crt\nauthorization:\n  mode: Webhook\nreadOnlyPort: 10255\neventRecordQPS: 5\n",
        0o644,
    );
    root.file_mode(
        "/var/lib/kubelet/kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://34.76.10.20\n  name: gke\n",
        0o644,
    );
    root
}

/// An AKS node (AKS Ubuntu 22.04 node image): `/etc/default/kubelet` holds KUBELET_FLAGS, the
/// control plane is `*.hcp.<region>.azmk8s.io`.
pub fn aks() -> Root {
    let root = Root::new();
    root.identity("aks-nodepool1-0", "5.15.0-1064-azure", "Ubuntu 22.04.4 LTS");
    root.accounts(&[]);
    root.file_mode("/etc/kubernetes/azure.json", "{}", 0o600);
    root.file_mode(
        "/etc/default/kubelet",
        "KUBELET_FLAGS=--anonymous-auth=false --authorization-mode=Webhook --client-ca-file=/etc/kubernetes/certs/ca.crt --read-only-port=0 --kubeconfig=/var/lib/kubelet/kubeconfig\n",
        0o644,
    );
    root.process(
        1700,
        &[
            "/usr/local/bin/kubelet",
            "--anonymous-auth=false",
            "--authorization-mode=Webhook",
            "--client-ca-file=/etc/kubernetes/certs/ca.crt",
            "--read-only-port=0",
            "--kubeconfig=/var/lib/kubelet/kubeconfig",
        ],
    );
    root.file_mode(
        "/var/lib/kubelet/kubeconfig",
        "clusters:\n- cluster:\n    server: \"https://myaks-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443\"\n",
        0o600,
    );
    root
}

/// A kubeadm node (kubeadm v1.30): its flags file and the apiserver's static pod.
pub fn kubeadm() -> Root {
    let root = Root::new();
    root.identity("cp1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.file(
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock\"\n",
    );
    root.file(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.2\n    name: kube-apiserver\n",
    );
    root
}

/// Red Hat CoreOS (OpenShift 4.14): os-release carries OPENSHIFT_VERSION; the kubelet reads a
/// KubeletConfiguration at /etc/kubernetes/kubelet.conf; the runtime is CRI-O.
pub fn openshift() -> Root {
    let root = Root::new();
    root.file(
        "/etc/os-release",
        "NAME=\"Red Hat Enterprise Linux CoreOS\"\nID=\"rhcos\"\nVERSION_ID=\"4.14\"\nOPENSHIFT_VERSION=\"4.14\"\nPRETTY_NAME=\"Red Hat Enterprise Linux CoreOS 414.92.202402051952-0 (Plow)\"\n",
    );
    root.accounts(&[]);
    root.process(
        1400,
        &[
            "/usr/bin/kubelet",
            "--config=/etc/kubernetes/kubelet.conf",
            "--bootstrap-kubeconfig=/etc/kubernetes/kubeconfig",
            "--kubeconfig=/var/lib/kubelet/kubeconfig",
            "--container-runtime-endpoint=/var/run/crio/crio.sock",
        ],
    );
    root.process(1300, &["/usr/bin/crio"]);
    root.file_mode(
        "/etc/kubernetes/kubelet.conf",
        "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  x509:\n    clientCAFile: /etc/kubernetes/kubelet-ca.crt\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\nrotateCertificates: true\nstaticPodPath: /etc/kubernetes/manifests\n",
        0o644,
    );
    root.file_mode("/var/lib/kubelet/kubeconfig", "kind: Config\n", 0o600);
    root
}

fn platform_of(root: &Root) -> serde_json::Value {
    let (_, report) = root.check_json(&["--only", "kubelet.anonymous-auth"]);
    report["host"]["platform"].clone()
}

#[test]
fn each_fixture_node_is_detected_as_its_platform_with_evidence() {
    let cases: Vec<(&str, Root, &str, Option<&str>, &str)> = vec![
        (
            "kubeadm",
            kubeadm(),
            "kubeadm",
            Some("v1.30.2"),
            "kubeadm-flags.env",
        ),
        ("eks", eks_al2023(), "eks", None, "eks.amazonaws.com"),
        ("gke", gke_cos(), "gke", None, "/home/kubernetes"),
        ("aks", aks(), "aks", None, "azmk8s.io"),
        ("openshift", openshift(), "openshift", Some("4.14"), "rhcos"),
        ("generic", Root::new(), "generic", None, "no distribution"),
    ];
    for (label, root, name, version, evidence) in cases {
        let platform = platform_of(&root);
        assert_eq!(platform["name"], name, "{label}: {platform:#}");
        assert_eq!(
            platform["version"].as_str(),
            version,
            "{label}: {platform:#}"
        );
        let from = platform["detected_from"].to_string();
        assert!(from.contains(evidence), "{label}: {from}");
    }
    let variants = [(eks_al2023(), "AL2023"), (gke_cos(), "COS")];
    for (root, variant) in variants {
        assert_eq!(platform_of(&root)["variant"], variant);
    }
}

#[test]
fn the_platform_is_in_the_text_report_and_the_facts() {
    let root = eks_al2023();
    let output = root
        .hardnode(&["check", "--only", "kubelet.anonymous-auth"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("platform eks (AL2023)"), "{text}");
    let output = root
        .hardnode(&["facts", "--only", "kernel"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    assert_eq!(facts["host"]["platform"]["name"], "eks", "{facts:#}");
    let _ = (evidence_text, status);
}

// --- k3s ------------------------------------------------------------------------------------

/// The unit get.k3s.io (k3s v1.30.4+k3s1) writes for `INSTALL_K3S_EXEC="server
/// --protect-kernel-defaults"`; k3s rewrites its process title, so the unit is where the command
/// line is.
const K3S_UNIT: &str = "[Unit]\nDescription=Lightweight Kubernetes\n[Service]\nType=notify\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--protect-kernel-defaults' \\\n";

/// The k3s files every server fixture has, with the modes k3s writes them with.
fn k3s_files(root: &Root, data_dir: &str) {
    for (path, mode) in [
        ("agent/kubelet.kubeconfig", 0o600),
        ("agent/kubeproxy.kubeconfig", 0o600),
        ("agent/client-ca.crt", 0o644),
        ("agent/serving-kubelet.crt", 0o644),
        ("agent/serving-kubelet.key", 0o600),
        ("server/cred/controller.kubeconfig", 0o600),
        ("server/cred/scheduler.kubeconfig", 0o600),
        ("server/tls/client-ca.crt", 0o644),
        ("server/tls/client-ca.key", 0o600),
        ("server/tls/server-ca.crt", 0o644),
        ("server/tls/server-ca.key", 0o600),
        ("server/tls/serving-kube-apiserver.crt", 0o644),
        ("server/tls/serving-kube-apiserver.key", 0o600),
        ("server/tls/service.key", 0o600),
        ("server/tls/service.current.key", 0o600),
    ] {
        root.file_mode(&format!("{data_dir}/{path}"), "x", mode);
    }
    root.chmod(&format!("{data_dir}/server/tls"), 0o700);
}

/// A k3s v1.30 server, defaults only: the install script's unit, no config.yaml, SQLite (kine).
fn k3s_defaults() -> Root {
    let root = Root::new();
    root.identity("k3s-1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[]);
    root.process(300, &["/usr/local/bin/k3s server"]);
    root.file_mode("/etc/systemd/system/k3s.service", K3S_UNIT, 0o644);
    root.file_mode(
        "/etc/rancher/k3s/k3s.yaml",
        "apiVersion: v1\nkind: Config\n",
        0o600,
    );
    k3s_files(&root, "/var/lib/rancher/k3s");
    root.file_mode("/var/lib/rancher/k3s/server/db/state.db", "", 0o600);
    root
}

/// The same server with insecure overrides in each layer: the environment (below the config
/// files), config.yaml, a config.yaml.d drop-in that appends (`key+`) and one that replaces.
fn k3s_layered() -> Root {
    let root = k3s_defaults();
    root.file(
        "/etc/systemd/system/k3s.service.env",
        "K3S_KUBECONFIG_MODE='644'\nK3S_TOKEN=K10c0ffee::server:t0ken\n",
    );
    root.file(
        "/etc/rancher/k3s/config.yaml",
        "token: \"K10c0ffee::server:t0ken\"\nwrite-kubeconfig-mode: \"0600\"\nsecrets-encryption: true\nkube-apiserver-arg:\n  - \"audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log\"\nkubelet-arg:\n  - \"streaming-connection-idle-timeout=0\"\n  - \"event-qps=0\"\n",
    );
    root.file(
        "/etc/rancher/k3s/config.yaml.d/10-debug.yaml",
        "kube-apiserver-arg+:\n  - \"profiling=true\"\n",
    );
    // A plain key replaces the list config.yaml gave: the idle timeout of 0 is gone.
    root.file(
        "/etc/rancher/k3s/config.yaml.d/20-kubelet.yaml",
        "kubelet-arg:\n  - \"read-only-port=10255\"\n",
    );
    root
}

/// k3s v1.32: the kubelet's defaults in a KubeletConfiguration drop-in k3s writes
/// (agent/etc/kubelet.conf.d/00-k3s-defaults.conf), plus an operator's insecure drop-in.
fn k3s_132() -> Root {
    let root = k3s_defaults();
    root.file_mode(
        "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 2m0s\n    enabled: true\n  x509:\n    clientCAFile: /var/lib/rancher/k3s/agent/client-ca.crt\nauthorization:\n  mode: Webhook\ncgroupDriver: systemd\nclusterDNS:\n- 10.43.0.10\nclusterDomain: cluster.local\nfailSwapOn: false\nhealthzBindAddress: 127.0.0.1\nstaticPodPath: /var/lib/rancher/k3s/agent/pod-manifests\ntlsCertFile: /var/lib/rancher/k3s/agent/serving-kubelet.crt\ntlsPrivateKeyFile: /var/lib/rancher/k3s/agent/serving-kubelet.key\n",
        0o600,
    );
    root.file_mode(
        "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-operator.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: true\n",
        0o600,
    );
    root
}

fn assert_statuses(report: &serde_json::Value, label: &str, expected: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (id, want) in expected {
        let got = status(report, id);
        if got != *want {
            wrong.push(format!(
                "{id}: expected {want}, got {got} ({})",
                evidence_text(report, id).replace('\n', " | ")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{label}: wrong verdicts:\n{}",
        wrong.join("\n")
    );
}

fn assert_evidence(report: &serde_json::Value, id: &str, needles: &[&str]) {
    let text = evidence_text(report, id);
    for needle in needles {
        assert!(text.contains(needle), "{id}: no `{needle}` in {text}");
    }
}

#[test]
fn k3s_defaults_give_verdicts_from_its_built_in_arguments() {
    let root = k3s_defaults();
    let (_, report) = root.check_json(&[]);
    assert_eq!(report["host"]["platform"]["name"], "k3s");
    assert_eq!(report["host"]["platform"]["variant"], "server");
    assert_statuses(
        &report,
        "k3s defaults",
        &[
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.authorization-mode", "pass"),
            ("kubelet.read-only-port", "pass"),
            ("kubelet.client-ca-file", "pass"),
            ("kubelet.protect-kernel-defaults", "pass"),
            ("kubelet.kubeconfig-mode", "pass"),
            ("kubelet.service-file-mode", "fail"),
            ("apiserver.anonymous-auth", "pass"),
            ("apiserver.profiling", "pass"),
            ("apiserver.authorization-mode-node", "pass"),
            ("apiserver.node-restriction", "pass"),
            ("apiserver.kubelet-certificate-authority", "pass"),
            ("apiserver.encryption-provider-config", "warn"),
            ("apiserver.audit-log-path", "fail"),
            ("controller_manager.profiling", "pass"),
            ("controller_manager.use-service-account-credentials", "pass"),
            ("controller_manager.bind-address", "pass"),
            ("controller_manager.kubeconfig-mode", "pass"),
            ("scheduler.profiling", "pass"),
            ("scheduler.kubeconfig-mode", "pass"),
            ("proxy.kubeconfig-mode", "pass"),
            ("controlplane.admin-conf-mode", "pass"),
            ("controlplane.pki-key-mode", "pass"),
            ("apiserver.manifest-mode", "skip"),
            ("etcd.cert-file", "skip"),
            ("etcd.data-dir-mode", "skip"),
        ],
    );
    assert_evidence(
        &report,
        "apiserver.anonymous-auth",
        &[
            "builtin",
            "k3s built-in --anonymous-auth=false",
            "server.go",
        ],
    );
    assert_evidence(
        &report,
        "kubelet.protect-kernel-defaults",
        &["--protect-kernel-defaults in /etc/systemd/system/k3s.service"],
    );
    assert_evidence(&report, "etcd.cert-file", &["kine"]);
    assert_evidence(
        &report,
        "apiserver.manifest-mode",
        &["no static pod manifest"],
    );
    assert_evidence(
        &report,
        "controlplane.admin-conf-mode",
        &["/etc/rancher/k3s/k3s.yaml"],
    );
    assert_evidence(
        &report,
        "controller_manager.kubeconfig-mode",
        &["/var/lib/rancher/k3s/server/cred/controller.kubeconfig"],
    );
    // No rule says "not running" or "embedded distribution" on a running k3s.
    let text = report.to_string();
    assert!(!text.contains("does not read yet"), "{text}");
}

#[test]
fn k3s_layers_stack_as_k3s_stacks_them_and_name_the_file_and_key() {
    let root = k3s_layered();
    let (_, report) = root.check_json(&[]);
    assert_statuses(
        &report,
        "k3s layered",
        &[
            // kube-apiserver-arg+ in a drop-in appends to config.yaml's list.
            ("apiserver.profiling", "fail"),
            ("apiserver.audit-log-path", "pass"),
            ("apiserver.encryption-provider-config", "pass"),
            // kubelet-arg (plain) in a later drop-in replaces config.yaml's list.
            ("kubelet.read-only-port", "warn"),
            ("kubelet.streaming-idle-timeout", "pass"),
            ("kubelet.event-qps", "pass"),
            ("kubelet.anonymous-auth", "pass"),
        ],
    );
    assert_evidence(
        &report,
        "apiserver.profiling",
        &[
            "kube-apiserver-arg+ in /etc/rancher/k3s/config.yaml.d/10-debug.yaml",
            "profiling=true",
        ],
    );
    assert_evidence(
        &report,
        "apiserver.audit-log-path",
        &["kube-apiserver-arg in /etc/rancher/k3s/config.yaml"],
    );
    assert_evidence(
        &report,
        "apiserver.encryption-provider-config",
        &[
            "secrets-encryption in /etc/rancher/k3s/config.yaml",
            "/var/lib/rancher/k3s/server/cred/encryption-config.json",
        ],
    );
    assert_evidence(
        &report,
        "kubelet.read-only-port",
        &["kubelet-arg in /etc/rancher/k3s/config.yaml.d/20-kubelet.yaml"],
    );
    // The facts show the layers: config.yaml beats the K3S_* variable, the token never shows.
    let output = root
        .hardnode(&["facts", "--only", "1.2.15"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    let layers = &facts["components"]["distribution_config"];
    let mode = &layers["values"]["write-kubeconfig-mode"];
    assert_eq!(mode[0]["value"], "0600", "{layers:#}");
    assert_eq!(mode[0]["source"], "config-file");
    assert!(
        !facts.to_string().contains("c0ffee"),
        "the token leaked into the facts"
    );
    let profiling = &facts["components"]["components"]["apiserver"]["settings"]["--profiling"];
    assert_eq!(profiling["source"], "drop-in", "{profiling:#}");
}

#[test]
fn k3s_environment_is_below_the_config_files() {
    let root = k3s_defaults();
    root.file(
        "/etc/systemd/system/k3s.service.env",
        "K3S_KUBECONFIG_MODE=644\n",
    );
    root.file(
        "/etc/rancher/k3s/config.yaml",
        "write-kubeconfig-mode: \"0600\"\n",
    );
    let output = root
        .hardnode(&["facts", "--only", "1.2.1"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    let mode = &facts["components"]["distribution_config"]["values"]["write-kubeconfig-mode"];
    assert_eq!(mode.as_array().map(Vec::len), Some(1), "{mode:#}");
    assert_eq!(mode[0]["value"], "0600");
    // Without the config file the variable decides.
    std::fs::remove_file(root.real("/etc/rancher/k3s/config.yaml")).expect("rm");
    let output = root
        .hardnode(&["facts", "--only", "1.2.1"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    let mode = &facts["components"]["distribution_config"]["values"]["write-kubeconfig-mode"];
    assert_eq!(mode[0]["value"], "644");
    assert_eq!(mode[0]["key"], "K3S_KUBECONFIG_MODE");
}

#[test]
fn k3s_132_kubelet_reads_its_config_drop_ins() {
    let root = k3s_132();
    let (_, report) = root.check_json(&["--only", "kubelet"]);
    assert_statuses(
        &report,
        "k3s 1.32",
        &[
            ("kubelet.anonymous-auth", "fail"),
            ("kubelet.authorization-mode", "pass"),
            ("kubelet.read-only-port", "pass"),
            ("kubelet.config-file-mode", "pass"),
        ],
    );
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &[
            "drop-in",
            "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-operator.conf",
        ],
    );
    assert_evidence(&report, "kubelet.read-only-port", &["k3s 1.32+"]);
}

#[test]
fn a_malformed_k3s_config_is_an_error_naming_file_and_line() {
    let root = k3s_defaults();
    root.file(
        "/etc/rancher/k3s/config.yaml",
        "write-kubeconfig-mode: \"0600\"\nkube-apiserver-arg:\n  - \"profiling=false\"\n   bad: [\n",
    );
    let (_, report) = root.check_json(&["--only", "1.2.15,4.2.1"]);
    assert_eq!(status(&report, "apiserver.profiling"), "error");
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "error");
    let reason = evidence_text(&report, "apiserver.profiling");
    assert!(reason.contains("/etc/rancher/k3s/config.yaml"), "{reason}");
    assert!(reason.contains("line"), "{reason}");
    // The command line still decides what it sets.
    let (_, report) = root.check_json(&["--only", "kubelet.protect-kernel-defaults"]);
    assert_eq!(status(&report, "kubelet.protect-kernel-defaults"), "pass");
}

#[test]
fn a_k3s_agent_has_no_control_plane_and_embedded_etcd_is_judged() {
    let root = k3s_defaults();
    root.process(300, &["/usr/local/bin/k3s agent"]);
    let (_, report) = root.check_json(&["--only", "1.2.1,4.2.1"]);
    assert_eq!(status(&report, "apiserver.anonymous-auth"), "skip");
    assert_evidence(
        &report,
        "apiserver.anonymous-auth",
        &["k3s agent", "control plane"],
    );
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
    assert_eq!(report["host"]["platform"]["variant"], "agent");

    let root = k3s_defaults();
    root.file(
        "/etc/rancher/k3s/config.yaml",
        "cluster-init: true\netcd-arg:\n  - \"peer-auto-tls=true\"\n",
    );
    root.dir("/var/lib/rancher/k3s/server/db/etcd");
    root.chmod("/var/lib/rancher/k3s/server/db/etcd", 0o700);
    let (_, report) = root.check_json(&["--only", "2,1.1.11"]);
    assert_statuses(
        &report,
        "k3s etcd",
        &[
            ("etcd.client-cert-auth", "pass"),
            ("etcd.peer-client-cert-auth", "pass"),
            ("etcd.peer-auto-tls", "fail"),
            ("etcd.data-dir-mode", "pass"),
        ],
    );
    assert_evidence(
        &report,
        "etcd.peer-auto-tls",
        &["etcd-arg in /etc/rancher/k3s/config.yaml"],
    );
}

#[test]
fn k3s_disabled_components_say_which_key_disabled_them() {
    let root = k3s_defaults();
    root.file("/etc/rancher/k3s/config.yaml", "disable-kube-proxy: true\n");
    let (_, report) = root.check_json(&["--only", "4.3.1"]);
    assert_eq!(status(&report, "proxy.metrics-bind-address"), "skip");
    assert_evidence(
        &report,
        "proxy.metrics-bind-address",
        &["disable-kube-proxy in /etc/rancher/k3s/config.yaml"],
    );
}

// --- RKE2 -----------------------------------------------------------------------------------

/// An RKE2 v1.30.4+rke2r1 server with `profile: cis`: the kubelet is its own process, the
/// control plane static pods in /var/lib/rancher/rke2/agent/pod-manifests run as processes.
fn rke2_cis() -> Root {
    let root = Root::new();
    root.identity(
        "rke2-1",
        "5.14.0-427.el9.x86_64",
        "Rocky Linux 9.4 (Blue Onyx)",
    );
    root.accounts(&[("etcd", 52034)]);
    root.dir("/var/lib/rancher/rke2/data/v1.30.4-rke2r1-4aa0d2a1e5f3");
    root.dir("/var/lib/rancher/rke2/data/v1.29.8-rke2r1-0c3bf0ad1ec9");
    root.file(
        "/etc/rancher/rke2/config.yaml",
        "profile: cis\nkube-apiserver-arg:\n  - \"audit-log-maxage=30\"\nkubelet-arg:\n  - \"event-qps=0\"\n",
    );
    root.process(200, &["/usr/local/bin/rke2 server"]);
    root.process(
        410,
        &[
            "kubelet",
            "--volume-plugin-dir=/var/lib/kubelet/volumeplugins",
            "--file-check-frequency=5s",
            "--sync-frequency=30s",
            "--address=0.0.0.0",
            "--anonymous-auth=false",
            "--authentication-token-webhook=true",
            "--authorization-mode=Webhook",
            "--client-ca-file=/var/lib/rancher/rke2/agent/client-ca.crt",
            "--event-qps=0",
            "--kubeconfig=/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
            "--pod-manifest-path=/var/lib/rancher/rke2/agent/pod-manifests",
            "--protect-kernel-defaults=true",
            "--read-only-port=0",
            "--tls-cert-file=/var/lib/rancher/rke2/agent/serving-kubelet.crt",
            "--tls-private-key-file=/var/lib/rancher/rke2/agent/serving-kubelet.key",
        ],
    );
    root.process(
        520,
        &[
            "kube-apiserver",
            "--audit-log-maxage=30",
            "--audit-log-path=/var/lib/rancher/rke2/server/logs/audit.log",
            "--anonymous-auth=false",
            "--authorization-mode=Node,RBAC",
            "--profiling=false",
            "--enable-admission-plugins=NodeRestriction",
        ],
    );
    root.file_mode("/var/lib/rancher/rke2/agent/kubelet.kubeconfig", "x", 0o600);
    root.file_mode("/etc/rancher/rke2/rke2.yaml", "x", 0o600);
    root.file_mode(
        "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    name: kube-apiserver\n",
        0o600,
    );
    root
}

#[test]
fn rke2_flags_name_the_configuration_layer_that_put_them_there() {
    let root = rke2_cis();
    let (_, report) = root.check_json(&[]);
    let platform = &report["host"]["platform"];
    assert_eq!(platform["name"], "rke2", "{platform:#}");
    assert_eq!(platform["version"], "v1.30.4-rke2r1");
    assert_eq!(platform["variant"], "server profile: cis");
    assert_statuses(
        &report,
        "rke2",
        &[
            ("apiserver.audit-log-maxage", "pass"),
            ("apiserver.profiling", "pass"),
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.event-qps", "pass"),
            ("kubelet.kubeconfig-mode", "pass"),
            ("apiserver.manifest-mode", "pass"),
            ("controlplane.admin-conf-mode", "pass"),
        ],
    );
    assert_evidence(
        &report,
        "apiserver.audit-log-maxage",
        &["put there by kube-apiserver-arg in /etc/rancher/rke2/config.yaml"],
    );
    assert_evidence(&report, "apiserver.profiling", &["rke2 built-in argument"]);
    assert_evidence(
        &report,
        "kubelet.event-qps",
        &["kubelet-arg in /etc/rancher/rke2/config.yaml"],
    );
    assert_evidence(
        &report,
        "apiserver.manifest-mode",
        &["/var/lib/rancher/rke2/agent/pod-manifests"],
    );
    assert_evidence(
        &report,
        "controlplane.admin-conf-mode",
        &["/etc/rancher/rke2/rke2.yaml"],
    );
}

// --- Managed clouds -------------------------------------------------------------------------

#[test]
fn managed_control_planes_are_skipped_as_the_providers_and_the_kubelet_is_judged() {
    type Expected = Vec<(&'static str, &'static str)>;
    let cases: Vec<(Root, &str, Expected)> = vec![
        (
            eks_al2023(),
            "EKS",
            vec![
                ("kubelet.anonymous-auth", "pass"),
                ("kubelet.read-only-port", "pass"),
                ("kubelet.protect-kernel-defaults", "pass"),
                ("kubelet.rotate-server-certificate", "pass"),
                ("kubelet.config-file-mode", "fail"),
                ("kubelet.kubeconfig-mode", "pass"),
            ],
        ),
        (
            gke_cos(),
            "GKE",
            vec![
                ("kubelet.anonymous-auth", "pass"),
                ("kubelet.read-only-port", "warn"),
                ("kubelet.kubeconfig-mode", "fail"),
                ("kubelet.event-qps", "pass"),
            ],
        ),
        (
            aks(),
            "AKS",
            vec![
                ("kubelet.anonymous-auth", "pass"),
                ("kubelet.read-only-port", "pass"),
                ("kubelet.authorization-mode", "pass"),
            ],
        ),
    ];
    for (root, provider, expected) in cases {
        let (_, report) = root.check_json(&[]);
        assert_statuses(&report, provider, &expected);
        for id in [
            "apiserver.anonymous-auth",
            "controller_manager.profiling",
            "scheduler.profiling",
            "etcd.cert-file",
            "apiserver.manifest-mode",
            "controlplane.admin-conf-mode",
        ] {
            assert_eq!(status(&report, id), "skip", "{provider} {id}");
        }
        assert_evidence(
            &report,
            "apiserver.anonymous-auth",
            &[&format!("managed by the provider ({provider})")],
        );
    }
    let (_, report) = eks_al2023().check_json(&["--only", "4.2.1,4.1.9"]);
    assert_evidence(
        &report,
        "kubelet.config-file-mode",
        &["/etc/kubernetes/kubelet/config.json.d/00-nodeadm.conf"],
    );
}

#[test]
fn a_managed_kubelet_that_does_not_run_is_read_from_the_images_files() {
    let root = aks();
    std::fs::remove_file(root.real("/proc/1700/cmdline")).expect("rm");
    root.file(
        "/etc/default/kubelet",
        "KUBELET_FLAGS=--anonymous-auth=true --read-only-port=10255 --kubeconfig=/var/lib/kubelet/kubeconfig\n",
    );
    let (_, report) = root.check_json(&["--only", "4.2.1,4.2.4"]);
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "fail");
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &["/etc/default/kubelet", "--anonymous-auth=true"],
    );
    let root = eks_al2023();
    std::fs::remove_file(root.real("/proc/2100/cmdline")).expect("rm");
    let (_, report) = root.check_json(&["--only", "4.2.1"]);
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &["/etc/kubernetes/kubelet/config.json"],
    );
}

// --- MicroK8s -------------------------------------------------------------------------------

/// MicroK8s v1.28.9 (snap revision 6089), args files as microk8s-resources/default-args ships
/// them, kubelite started by snap.microk8s.daemon-kubelite with snapd's SNAP* environment.
fn microk8s() -> Root {
    let root = Root::new();
    root.identity("mk8s", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[]);
    let data = "/var/snap/microk8s/6089";
    root.symlink("6089", "/var/snap/microk8s/current");
    root.symlink("6089", "/snap/microk8s/current");
    root.file(
        "/snap/microk8s/6089/meta/snap.yaml",
        "name: microk8s\nversion: v1.28.9\n",
    );
    let kubelite = [
        "/snap/microk8s/6089/kubelite".to_string(),
        format!("--scheduler-args-file={data}/args/kube-scheduler"),
        format!("--controller-manager-args-file={data}/args/kube-controller-manager"),
        format!("--proxy-args-file={data}/args/kube-proxy"),
        format!("--kubelet-args-file={data}/args/kubelet"),
        format!("--apiserver-args-file={data}/args/kube-apiserver"),
        format!("--kubeconfig-file={data}/credentials/client.config"),
        "--start-control-plane=true".to_string(),
    ];
    let argv: Vec<&str> = kubelite.iter().map(String::as_str).collect();
    root.process(600, &argv);
    root.environ(
        600,
        &[
            "SNAP=/snap/microk8s/6089",
            "SNAP_DATA=/var/snap/microk8s/6089",
            "SNAP_COMMON=/var/snap/microk8s/common",
        ],
    );
    root.file(
        &format!("{data}/args/kubelet"),
        "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--cert-dir=${SNAP_DATA}/certs\n--client-ca-file=${SNAP_DATA}/certs/ca.crt\n--anonymous-auth=false\n--root-dir=${SNAP_COMMON}/var/lib/kubelet\n--fail-swap-on=false\n# --authorization-mode=Webhook\n--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock\n--authentication-token-webhook=true\n--read-only-port=0\n",
    );
    root.file(
        &format!("{data}/args/kube-apiserver"),
        "--cert-dir=${SNAP_DATA}/certs\n--service-cluster-ip-range=10.152.183.0/24\n--authorization-mode=RBAC,Node\n--service-account-key-file=${SNAP_DATA}/certs/serviceaccount.key\n--client-ca-file=${SNAP_DATA}/certs/ca.crt\n--tls-cert-file=${SNAP_DATA}/certs/server.crt\n--tls-private-key-file=${SNAP_DATA}/certs/server.key\n--kubelet-client-certificate=${SNAP_DATA}/certs/apiserver-kubelet-client.crt\n--kubelet-client-key=${SNAP_DATA}/certs/apiserver-kubelet-client.key\n--secure-port=16443\n--etcd-servers=unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379\n--allow-privileged=true\n--profiling=false\n",
    );
    root.file(
        &format!("{data}/args/kube-controller-manager"),
        "--kubeconfig=${SNAP_DATA}/credentials/controller.config\n--service-account-private-key-file=${SNAP_DATA}/certs/serviceaccount.key\n--root-ca-file=${SNAP_DATA}/certs/ca.crt\n--use-service-account-credentials\n--profiling=false\n",
    );
    root.file(
        &format!("{data}/args/kube-scheduler"),
        "--kubeconfig=${SNAP_DATA}/credentials/scheduler.config\n--leader-elect-lease-duration=60s\n",
    );
    root.file(
        &format!("{data}/args/kube-proxy"),
        "--kubeconfig=${SNAP_DATA}/credentials/proxy.config\n--cluster-cidr=10.1.0.0/16\n",
    );
    for (path, mode) in [
        ("credentials/kubelet.config", 0o600),
        ("credentials/client.config", 0o600),
        ("credentials/controller.config", 0o600),
        ("credentials/scheduler.config", 0o660),
        ("credentials/proxy.config", 0o600),
        ("certs/ca.crt", 0o644),
        ("certs/ca.key", 0o600),
        ("args/containerd.toml", 0o600),
    ] {
        root.file_mode(&format!("{data}/{path}"), "x", mode);
    }
    root
}

#[test]
fn microk8s_components_come_from_kubelites_args_files() {
    let root = microk8s();
    let (_, report) = root.check_json(&[]);
    let platform = &report["host"]["platform"];
    assert_eq!(platform["name"], "microk8s", "{platform:#}");
    assert_eq!(platform["version"], "v1.28.9");
    assert_statuses(
        &report,
        "microk8s",
        &[
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.authorization-mode", "fail"),
            ("kubelet.read-only-port", "pass"),
            ("kubelet.client-ca-mode", "pass"),
            ("kubelet.kubeconfig-mode", "pass"),
            ("apiserver.authorization-mode-node", "pass"),
            ("apiserver.profiling", "pass"),
            ("apiserver.anonymous-auth", "warn"),
            ("controller_manager.use-service-account-credentials", "pass"),
            ("scheduler.profiling", "fail"),
            ("scheduler.kubeconfig-mode", "fail"),
            ("controlplane.admin-conf-mode", "pass"),
            ("controlplane.pki-key-mode", "pass"),
            ("apiserver.manifest-mode", "skip"),
            ("etcd.cert-file", "skip"),
            ("etcd.data-dir-mode", "skip"),
        ],
    );
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &[
            "/var/snap/microk8s/6089/args/kubelet",
            "line 4 of the args file",
            "SNAP_DATA} = /var/snap/microk8s/6089",
        ],
    );
    assert_evidence(
        &report,
        "kubelet.client-ca-mode",
        &["/var/snap/microk8s/6089/certs/ca.crt"],
    );
    assert_evidence(&report, "etcd.cert-file", &["dqlite"]);
    assert_evidence(
        &report,
        "controlplane.admin-conf-mode",
        &["credentials/client.config"],
    );
    assert_eq!(status(&report, "runtime.containerd-config-mode"), "pass");
    assert_evidence(
        &report,
        "runtime.containerd-config-mode",
        &["args/containerd.toml"],
    );
}

#[test]
fn microk8s_worker_and_missing_args_files() {
    let root = microk8s();
    root.process(
        600,
        &[
            "/snap/microk8s/6089/kubelite",
            "--kubelet-args-file=/var/snap/microk8s/6089/args/kubelet",
            "--start-control-plane=false",
        ],
    );
    std::fs::remove_file(root.real("/proc/600/environ")).expect("rm");
    root.symlink("/snap/microk8s/6089/kubelite", "/proc/600/exe");
    let (_, report) = root.check_json(&["--only", "1.2.1,4.2.1"]);
    assert_eq!(status(&report, "apiserver.anonymous-auth"), "skip");
    assert_evidence(
        &report,
        "apiserver.anonymous-auth",
        &["--start-control-plane=false"],
    );
    // ${SNAP_DATA} from the revision in kubelite's program path.
    assert_evidence(&report, "kubelet.anonymous-auth", &["revision 6089"]);

    std::fs::remove_file(root.real("/var/snap/microk8s/6089/args/kubelet")).expect("rm");
    let (_, report) = root.check_json(&["--only", "4.2.1"]);
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "error");
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &["/var/snap/microk8s/6089/args/kubelet"],
    );
}

// --- Benchmark profiles ---------------------------------------------------------------------

#[test]
fn the_platforms_benchmark_profile_is_chosen_and_every_result_carries_both_ids() {
    let cases = [
        (
            eks_al2023(),
            "cis-eks-1.5.0",
            "kubelet.anonymous-auth",
            "4.2.1",
            "3.2.1",
        ),
        (
            gke_cos(),
            "cis-gke-1.6.0",
            "kubelet.read-only-port",
            "4.2.4",
            "3.2.4",
        ),
        (
            aks(),
            "cis-aks-1.7.0",
            "kubelet.kubeconfig-mode",
            "4.1.5",
            "3.1.1",
        ),
        (
            k3s_defaults(),
            "k3s-cis-1.9",
            "apiserver.profiling",
            "1.2.15",
            "1.2.15",
        ),
        (
            rke2_cis(),
            "rke2-cis-1.9",
            "kubelet.event-qps",
            "4.2.8",
            "4.2.8",
        ),
    ];
    for (root, profile, id, cis, profile_id) in cases {
        let (_, report) = root.check_json(&[]);
        assert_eq!(report["benchmark"]["profile"]["id"], profile, "{profile}");
        assert!(
            report["benchmark"]["profile"]["chosen"]
                .as_str()
                .is_some_and(|c| c.starts_with("auto: platform")),
            "{:#}",
            report["benchmark"]
        );
        let finding = common::result(&report, id);
        assert_eq!(finding["cis"], cis, "{profile} {id}");
        assert_eq!(finding["profile_id"], profile_id, "{profile} {id}");
        // `--only` takes the profile's ids (and prefixes of them).
        let (_, only) = root.check_json(&["--only", profile_id]);
        let ids: Vec<&str> = only["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert!(
            ids.contains(&id),
            "{profile}: --only {profile_id} gave {ids:?}"
        );
    }
    // EKS's 3.2 is the kubelet section: every result it selects is a kubelet rule with a 3.2 id.
    let (_, report) = eks_al2023().check_json(&["--only", "3.2"]);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 9, "{report:#}");
    assert!(results.iter().all(|r| {
        r["profile_id"]
            .as_str()
            .is_some_and(|p| p.starts_with("3.2."))
    }));
}

#[test]
fn the_profile_can_be_named_or_turned_off() {
    let root = kubeadm();
    let (_, report) = root.check_json(&["--only", "kubelet.anonymous-auth"]);
    assert!(
        report["benchmark"].get("profile").is_none(),
        "kubeadm has no profile"
    );
    let (_, report) = root.check_json(&["--profile", "cis-eks-1.5.0", "--only", "3.2.1"]);
    assert_eq!(report["benchmark"]["profile"]["chosen"], "--profile");
    assert_eq!(
        common::result(&report, "kubelet.anonymous-auth")["profile_id"],
        "3.2.1"
    );
    let (_, report) = eks_al2023().check_json(&["--profile", "none", "--only", "4.2.1"]);
    assert!(
        common::result(&report, "kubelet.anonymous-auth")
            .get("profile_id")
            .is_none()
    );
    let output = root
        .hardnode(&["check", "--profile", "cis-nope"])
        .output()
        .expect("run");
    assert_eq!(common::code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cis-eks-1.5.0"), "{stderr}");
}

#[test]
fn platform_and_profile_ids_appear_in_every_output_format() {
    let root = eks_al2023();
    let run = |format: &str| {
        let output = root
            .hardnode(&["check", "--format", format, "--only", "3.2.1"])
            .output()
            .expect("run");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let text = run("text");
    assert!(text.contains("platform eks"), "{text}");
    assert!(text.contains("profile cis-eks-1.5.0"), "{text}");
    assert!(text.contains("[profile 3.2.1]"), "{text}");
    let json = run("json");
    assert!(json.contains("\"profile_id\": \"3.2.1\""), "{json}");
    assert!(json.contains("\"platform\""), "{json}");
    let junit = run("junit");
    assert!(
        junit.contains("[CIS 4.2.1]") && junit.contains("[profile 3.2.1]"),
        "{junit}"
    );
    let prometheus = run("prometheus");
    assert!(
        prometheus.contains("hardnode_check_profile_id{id=\"kubelet.anonymous-auth\",profile=\"cis-eks-1.5.0\",profile_id=\"3.2.1\"} 1"),
        "{prometheus}"
    );
    assert!(
        prometheus.contains("hardnode_platform_info{platform=\"eks\""),
        "{prometheus}"
    );
    let sarif = run("sarif");
    assert!(
        sarif.contains("\"profileId\": \"3.2.1\"") && sarif.contains("\"platform\""),
        "{sarif}"
    );
}

// --- OpenShift ------------------------------------------------------------------------------

#[test]
fn openshift_nodes_judge_the_kubelet_from_its_files_and_name_the_operators() {
    let root = openshift();
    let (_, report) = root.check_json(&[]);
    assert_eq!(report["host"]["platform"]["name"], "openshift");
    let detected = report["host"]["platform"]["detected_from"].to_string();
    assert!(detected.contains("CRI-O"), "{detected}");
    assert_statuses(
        &report,
        "openshift",
        &[
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.authorization-mode", "pass"),
            ("kubelet.rotate-certificates", "pass"),
            ("kubelet.kubeconfig-mode", "pass"),
            ("kubelet.config-file-mode", "fail"),
            ("apiserver.anonymous-auth", "skip"),
            ("etcd.cert-file", "skip"),
            ("scheduler.profiling", "skip"),
        ],
    );
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &["/etc/kubernetes/kubelet.conf"],
    );
    assert_evidence(
        &report,
        "apiserver.anonymous-auth",
        &["OpenShift", "cluster operator"],
    );
    // No kubeadm default is reported as an OpenShift fact: /etc/kubernetes/kubelet.conf is the
    // KubeletConfiguration here, never the kubelet's kubeconfig.
    std::fs::remove_file(root.real("/proc/1400/cmdline")).expect("rm");
    let (_, report) = root.check_json(&["--only", "4.1.5,4.1.9,4.2.1"]);
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
    assert_evidence(
        &report,
        "kubelet.config-file-mode",
        &["/etc/kubernetes/kubelet.conf"],
    );
    let kubeconfig = evidence_text(&report, "kubelet.kubeconfig-mode");
    assert!(
        kubeconfig.contains("looked at /var/lib/kubelet/kubeconfig"),
        "{kubeconfig}"
    );
    assert!(
        !kubeconfig.contains("looked at /etc/kubernetes/kubelet.conf"),
        "{kubeconfig}"
    );
    // Without the file nothing stands in for it.
    std::fs::remove_file(root.real("/etc/kubernetes/kubelet.conf")).expect("rm");
    let (_, report) = root.check_json(&["--only", "4.1.9"]);
    assert_eq!(status(&report, "kubelet.config-file-mode"), "skip");
    assert_evidence(
        &report,
        "kubelet.config-file-mode",
        &["not a fact on openshift"],
    );
}

// --- Every fixture in one table ---------------------------------------------------------------

/// Each platform fixture: the kubelet rules give verdicts (never "not running" or "does not read
/// yet"), each with its evidence.
#[test]
fn every_platform_fixture_gives_kubelet_verdicts_with_their_source() {
    let fixtures: Vec<(&str, Root, &str)> = vec![
        ("k3s 1.30 defaults", k3s_defaults(), "pass"),
        ("k3s 1.30 layered", k3s_layered(), "pass"),
        ("k3s 1.32 drop-ins", k3s_132(), "fail"),
        ("rke2 1.30 cis", rke2_cis(), "pass"),
        ("microk8s 1.28", microk8s(), "pass"),
        ("eks al2023", eks_al2023(), "pass"),
        ("gke cos", gke_cos(), "pass"),
        ("aks ubuntu", aks(), "pass"),
        ("openshift 4.14", openshift(), "pass"),
    ];
    for (label, root, anonymous_auth) in fixtures {
        let (_, report) = root.check_json(&["--only", "kubelet"]);
        assert_eq!(
            status(&report, "kubelet.anonymous-auth"),
            anonymous_auth,
            "{label}"
        );
        for result in report["results"].as_array().expect("results") {
            let reason = result["reason"].as_str().unwrap_or("");
            assert!(
                !reason.contains("not running") && !reason.contains("does not read yet"),
                "{label}: {} {reason}",
                result["id"]
            );
            if matches!(result["status"].as_str(), Some("pass" | "fail")) {
                let evidence = result["evidence"].as_array().expect("evidence");
                assert!(
                    !evidence.is_empty(),
                    "{label}: {} has no evidence",
                    result["id"]
                );
            }
        }
    }
}

#[test]
fn k3s_admin_kubeconfig_is_judged_with_write_kubeconfig_mode_named() {
    let root = k3s_defaults();
    root.file(
        "/etc/rancher/k3s/config.yaml",
        "write-kubeconfig-mode: \"0644\"\n",
    );
    root.chmod("/etc/rancher/k3s/k3s.yaml", 0o644);
    let (_, report) = root.check_json(&["--only", "1.1.13"]);
    assert_eq!(status(&report, "controlplane.admin-conf-mode"), "fail");
    assert_evidence(
        &report,
        "controlplane.admin-conf-mode",
        &[
            "/etc/rancher/k3s/k3s.yaml",
            "write-kubeconfig-mode 0644 by write-kubeconfig-mode in /etc/rancher/k3s/config.yaml",
        ],
    );
}

#[test]
fn rke2s_containerd_config_is_the_one_it_generates() {
    let root = rke2_cis();
    let config = "/var/lib/rancher/rke2/agent/etc/containerd/config.toml";
    root.process(
        380,
        &[
            "containerd",
            "-c",
            config,
            "-a",
            "/run/k3s/containerd/containerd.sock",
            "--state",
            "/run/k3s/containerd",
            "--root",
            "/var/lib/rancher/rke2/agent/containerd",
        ],
    );
    // What RKE2 v1.30 writes (its containerd config template, version 2).
    root.file_mode(
        config,
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  enable_selinux = true\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
        0o600,
    );
    let (_, report) = root.check_json(&["--only", "runtime.containerd-config-mode"]);
    assert_eq!(status(&report, "runtime.containerd-config-mode"), "pass");
    assert_evidence(&report, "runtime.containerd-config-mode", &[config]);
}

#[test]
fn a_k3s_config_file_named_on_the_command_line_must_exist_and_only_yaml_drop_ins_count() {
    let root = k3s_defaults();
    root.file(
        "/etc/systemd/system/k3s.service",
        "[Service]\nExecStart=/usr/local/bin/k3s server --config /etc/k3s/custom.yaml\n",
    );
    let (_, report) = root.check_json(&["--only", "1.2.15"]);
    assert_eq!(status(&report, "apiserver.profiling"), "error");
    assert_evidence(&report, "apiserver.profiling", &["/etc/k3s/custom.yaml"]);

    // The named file's drop-ins are `<file>.d`; a backup or a text file there is not read.
    root.file(
        "/etc/k3s/custom.yaml",
        "kube-apiserver-arg:\n  - \"profiling=false\"\n",
    );
    root.file(
        "/etc/k3s/custom.yaml.d/50-old.yaml.bak",
        "kube-apiserver-arg:\n  - \"profiling=true\"\n",
    );
    root.file("/etc/k3s/custom.yaml.d/README.txt", "profiling=true\n");
    root.file(
        "/etc/k3s/custom.yaml.d/60-audit.yml",
        "kube-apiserver-arg+:\n  - \"audit-log-maxage=30\"\n",
    );
    let (_, report) = root.check_json(&["--only", "1.2.15,1.2.17"]);
    assert_eq!(status(&report, "apiserver.profiling"), "pass");
    assert_evidence(
        &report,
        "apiserver.profiling",
        &["kube-apiserver-arg in /etc/k3s/custom.yaml"],
    );
    assert_eq!(status(&report, "apiserver.audit-log-maxage"), "pass");
    assert_evidence(
        &report,
        "apiserver.audit-log-maxage",
        &["kube-apiserver-arg+ in /etc/k3s/custom.yaml.d/60-audit.yml"],
    );
}

#[test]
fn a_bottlerocket_kubelet_that_does_not_run_is_read_from_its_rendered_config() {
    let root = Root::new();
    root.file(
        "/etc/os-release",
        "NAME=Bottlerocket\nID=bottlerocket\nVERSION_ID=1.20.5\nPRETTY_NAME=\"Bottlerocket OS 1.20.5 (aws-k8s-1.30)\"\n",
    );
    // Bottlerocket 1.20 (aws-k8s-1.30) renders this from its settings.
    root.file_mode(
        "/etc/kubernetes/kubelet/config",
        "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\nreadOnlyPort: 0\n",
        0o644,
    );
    let (_, report) = root.check_json(&["--only", "4.2.1,4.2.4,1.2.1"]);
    let platform = &report["host"]["platform"];
    assert_eq!(platform["name"], "eks", "{platform:#}");
    assert_eq!(platform["variant"], "Bottlerocket");
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
    assert_evidence(
        &report,
        "kubelet.anonymous-auth",
        &["/etc/kubernetes/kubelet/config"],
    );
    assert_eq!(status(&report, "apiserver.anonymous-auth"), "skip");
}

#[test]
fn k3s_kubelet_cgroup_driver_follows_the_containerd_config_k3s_generated() {
    let root = k3s_defaults();
    // What k3s v1.30 writes on a systemd cgroup v2 host (agent/etc/containerd/config.toml).
    root.file_mode(
        "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
        "# File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.\nversion = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
        0o600,
    );
    root.process(
        310,
        &[
            "containerd",
            "-c",
            "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
            "-a",
            "/run/k3s/containerd/containerd.sock",
        ],
    );
    let output = root
        .hardnode(&["facts", "--only", "runtime.containerd-cgroup"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    let driver = &facts["components"]["components"]["kubelet"]["settings"]["cgroupDriver"];
    assert_eq!(driver["value"], "systemd", "{driver:#}");
    assert!(
        driver["detail"]
            .to_string()
            .contains("SystemdCgroup = true"),
        "{driver:#}"
    );
    let (_, report) = root.check_json(&["--only", "runtime.containerd-cgroup"]);
    assert_eq!(status(&report, "runtime.containerd-cgroup"), "pass");
}
