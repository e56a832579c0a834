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
