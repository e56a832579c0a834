//! Kubernetes component rules (CIS 1.12 sections 1, 2, 4 and the NSA/CISA extras) on fixture
//! roots modelled on real nodes: kubeadm's default KubeletConfiguration and static pod manifests,
//! a hardened node, an insecure one, and the edge cases kube-bench gets wrong.

mod common;

use std::collections::BTreeMap;

use common::{Root, evidence_text, result, status};

/// What kubeadm (v1.30) writes to /var/lib/kubelet/config.yaml: note the zero durations, which
/// the kubelet's defaulting replaces (`streamingConnectionIdleTimeout: 0s` means 4h).
const KUBEADM_KUBELET_CONFIG: &str = "\
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: \"\"
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: \"0\"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
";

/// The kubeadm systemd drop-in shipped by the kubelet package.
const KUBEADM_DROP_IN: &str = "\
[Service]
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
";

/// kubeadm's kube-proxy ConfigMap (`config.conf`), mounted into the kube-proxy pod.
const KUBEADM_PROXY_CONFIG: &str = "\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: 10.244.0.0/16
healthzBindAddress: \"\"
kind: KubeProxyConfiguration
metricsBindAddress: \"\"
mode: \"\"
";

const KUBELET_ARGV: &[&str] = &[
    "/usr/bin/kubelet",
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--config=/var/lib/kubelet/config.yaml",
    "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
    "--pod-infra-container-image=registry.k8s.io/pause:3.9",
];

fn apiserver_args() -> Vec<String> {
    [
        "--advertise-address=192.168.56.10",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
        "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--service-cluster-ip-range=10.96.0.0/12",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

fn controller_manager_args() -> Vec<String> {
    [
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--bind-address=127.0.0.1",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--cluster-name=kubernetes",
        "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
        "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--leader-elect=true",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--root-ca-file=/etc/kubernetes/pki/ca.crt",
        "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
        "--use-service-account-credentials=true",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

fn scheduler_args() -> Vec<String> {
    [
        "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/scheduler.conf",
        "--leader-elect=true",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

fn etcd_args() -> Vec<String> {
    [
        "--advertise-client-urls=https://192.168.56.10:2379",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--client-cert-auth=true",
        "--data-dir=/var/lib/etcd",
        "--experimental-initial-corrupt-check=true",
        "--initial-advertise-peer-urls=https://192.168.56.10:2380",
        "--initial-cluster=cp=https://192.168.56.10:2380",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        "--listen-client-urls=https://127.0.0.1:2379,https://192.168.56.10:2379",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        "--listen-peer-urls=https://192.168.56.10:2380",
        "--name=cp",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-client-cert-auth=true",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--snapshot-count=10000",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

/// A static pod manifest as kubeadm writes it: `command` holds the program and every flag.
fn manifest(name: &str, program: &str, args: &[String], env: &[(&str, &str)]) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\n  labels:\n    component: {name}\n    tier: control-plane\nspec:\n  hostNetwork: true\n  containers:\n  - name: {name}\n    image: registry.k8s.io/{name}:v1.30.2\n    imagePullPolicy: IfNotPresent\n    command:\n    - {program}\n"
    );
    for arg in args {
        text.push_str(&format!("    - {arg}\n"));
    }
    if !env.is_empty() {
        text.push_str("    env:\n");
        for (name, value) in env {
            text.push_str(&format!("    - name: {name}\n      value: \"{value}\"\n"));
        }
    }
    text.push_str("    volumeMounts:\n    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: true\n  volumes:\n  - hostPath:\n      path: /etc/kubernetes/pki\n      type: DirectoryOrCreate\n    name: k8s-certs\n");
    text
}

fn argv(program: &str, args: &[String]) -> Vec<String> {
    let mut argv = vec![program.to_string()];
    argv.extend(args.iter().cloned());
    argv
}

fn process(root: &Root, pid: u32, argv: &[String]) {
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    root.process(pid, &refs);
}

/// A kubeadm worker: kubelet with kubeadm's config, the deb package's unit files (0644), a
/// containerized kube-proxy whose ConfigMap exists only under /proc/<pid>/root.
fn kubeadm_worker() -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[]);
    root.process(1, &["/sbin/init", "splash"]);
    root.process(812, KUBELET_ARGV);
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        KUBEADM_KUBELET_CONFIG,
        0o644,
    );
    root.file_mode(
        "/etc/kubernetes/kubelet.conf",
        "apiVersion: v1\nkind: Config\n",
        0o600,
    );
    root.file_mode("/etc/kubernetes/pki/ca.crt", "CA", 0o644);
    root.file_mode("/usr/lib/systemd/system/kubelet.service", "[Unit]\n", 0o644);
    root.file_mode(
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        KUBEADM_DROP_IN,
        0o644,
    );
    root.file_mode("/etc/cni/net.d/10-flannel.conflist", "{}", 0o644);
    root.process(
        2301,
        &[
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
            "--hostname-override=node1",
        ],
    );
    root.file(
        "/run/containerd/kube-proxy-rootfs/var/lib/kube-proxy/config.conf",
        KUBEADM_PROXY_CONFIG,
    );
    // Relative, so the kernel resolves it inside the fixture as it would the magic link.
    root.symlink("../../run/containerd/kube-proxy-rootfs", "/proc/2301/root");
    root
}

/// A kubeadm control-plane node: the worker plus kubeadm's static pods, running.
fn kubeadm_control_plane() -> Root {
    let root = kubeadm_worker();
    let components = [
        ("kube-apiserver", apiserver_args(), 1501),
        ("kube-controller-manager", controller_manager_args(), 1502),
        ("kube-scheduler", scheduler_args(), 1503),
        ("etcd", etcd_args(), 1504),
    ];
    for (name, args, pid) in &components {
        root.file_mode(
            &format!("/etc/kubernetes/manifests/{name}.yaml"),
            manifest(name, name, args, &[]),
            0o600,
        );
        process(&root, *pid, &argv(name, args));
    }
    for conf in ["admin", "super-admin", "scheduler", "controller-manager"] {
        root.file_mode(
            &format!("/etc/kubernetes/{conf}.conf"),
            "kind: Config\n",
            0o600,
        );
    }
    for crt in ["apiserver", "front-proxy-ca", "etcd/ca", "etcd/server"] {
        root.file_mode(&format!("/etc/kubernetes/pki/{crt}.crt"), "C", 0o644);
        root.file_mode(&format!("/etc/kubernetes/pki/{crt}.key"), "K", 0o600);
    }
    root.dir("/var/lib/etcd/member");
    root.chmod("/var/lib/etcd", 0o700);
    root
}

fn statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("?").to_string(),
                r["status"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn assert_statuses(report: &serde_json::Value, expected: &[(&str, &str)]) {
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
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

#[test]
fn kubeadm_worker_verdicts_match_what_the_cis_text_means() {
    let root = kubeadm_worker();
    let (code, report) = root.check_json(&["--only", "kubelet,proxy,4"]);
    assert_eq!(code, 1, "{report:#}");
    assert_statuses(
        &report,
        &[
            // The kubelet deb ships its unit files 0644.
            ("kubelet.service-file-mode", "fail"),
            ("kubelet.service-file-owner", "pass"),
            // The kube-proxy kubeconfig is inside the pod, not on the host.
            ("proxy.kubeconfig-mode", "skip"),
            ("kubelet.kubeconfig-mode", "pass"),
            ("kubelet.kubeconfig-owner", "pass"),
            ("kubelet.client-ca-mode", "pass"),
            ("kubelet.client-ca-owner", "pass"),
            // kubeadm writes config.yaml 0644.
            ("kubelet.config-file-mode", "fail"),
            ("kubelet.config-file-owner", "pass"),
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.authorization-mode", "pass"),
            ("kubelet.client-ca-file", "pass"),
            ("kubelet.read-only-port", "pass"),
            // `0s` in the file is defaulted to 4h by the kubelet: not a failure.
            ("kubelet.streaming-idle-timeout", "pass"),
            ("kubelet.make-iptables-util-chains", "pass"),
            ("kubelet.hostname-override", "pass"),
            ("kubelet.event-qps", "pass"),
            ("kubelet.tls-cert-file", "warn"),
            ("kubelet.rotate-certificates", "pass"),
            ("kubelet.rotate-server-certificate", "pass"),
            ("kubelet.tls-cipher-suites", "warn"),
            ("kubelet.pod-pids-limit", "warn"),
            ("kubelet.seccomp-default-cis", "warn"),
            ("proxy.metrics-bind-address", "pass"),
            ("kubelet.protect-kernel-defaults", "fail"),
            ("kubelet.seccomp-default", "fail"),
        ],
    );
    // Provenance: the config-file default and the file it came from.
    let anonymous = evidence_text(&report, "kubelet.anonymous-auth");
    assert!(anonymous.contains("config-file"), "{anonymous}");
    assert!(
        anonymous.contains("/var/lib/kubelet/config.yaml"),
        "{anonymous}"
    );
    let timeout = evidence_text(&report, "kubelet.streaming-idle-timeout");
    assert!(timeout.contains("zero value"), "{timeout}");
    let port = evidence_text(&report, "kubelet.read-only-port");
    assert!(port.contains("\"default\""), "{port}");
    // The proxy config was read through /proc/<pid>/root.
    let proxy = evidence_text(&report, "proxy.metrics-bind-address");
    assert!(
        proxy.contains("/proc/2301/root/var/lib/kube-proxy/config.conf"),
        "{proxy}"
    );
    // Remediation names the real files.
    let remediation = result(&report, "kubelet.config-file-mode")["remediation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(remediation, "chmod 600 /var/lib/kubelet/config.yaml");
    let remediation = result(&report, "kubelet.service-file-mode")["remediation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        remediation.contains("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"),
        "{remediation}"
    );
    // Control-plane rules on a worker: no process, no manifest, no files -> skip, never fail.
    // The CNI files (1.1.9/1.1.10) are on every node, so those rules do apply.
    let (_, report) = root.check_json(&["--only", "1,2"]);
    assert_eq!(status(&report, "cni.file-mode"), "warn");
    for (id, got) in statuses(&report) {
        // kubeadm workers have /etc/kubernetes/pki/ca.crt (0644, root): those rules pass.
        if id.starts_with("cni.") || id.starts_with("controlplane.pki") {
            assert_ne!(got, "fail", "{id}");
            continue;
        }
        assert_eq!(
            got,
            "skip",
            "{id} on a worker: {}",
            evidence_text(&report, &id)
        );
    }
}

#[test]
fn kubeadm_control_plane_verdicts() {
    let root = kubeadm_control_plane();
    let (_, report) = root.check_json(&["--only", "1,2,apiserver"]);
    assert_statuses(
        &report,
        &[
            ("apiserver.manifest-mode", "pass"),
            ("apiserver.manifest-owner", "pass"),
            ("etcd.manifest-mode", "pass"),
            ("cni.file-mode", "warn"),
            ("etcd.data-dir-mode", "pass"),
            // CIS wants etcd:etcd; kubeadm runs etcd as root with a root-owned data dir.
            ("etcd.data-dir-owner", "fail"),
            ("controlplane.admin-conf-mode", "pass"),
            ("controlplane.pki-owner", "pass"),
            ("controlplane.pki-cert-mode", "pass"),
            ("controlplane.pki-key-mode", "pass"),
            ("scheduler.kubeconfig-mode", "pass"),
            ("controller_manager.kubeconfig-owner", "pass"),
            // kubeadm's apiserver defaults.
            ("apiserver.anonymous-auth", "warn"),
            ("apiserver.token-auth-file", "pass"),
            ("apiserver.kubelet-client-certificate", "pass"),
            ("apiserver.kubelet-certificate-authority", "fail"),
            ("apiserver.authorization-mode-not-always-allow", "pass"),
            ("apiserver.authorization-mode-node", "pass"),
            ("apiserver.authorization-mode-rbac", "pass"),
            ("apiserver.always-admit", "pass"),
            ("apiserver.service-account-plugin", "pass"),
            ("apiserver.node-restriction", "pass"),
            ("apiserver.profiling", "fail"),
            ("apiserver.audit-log-path", "fail"),
            ("apiserver.audit-log-maxage", "fail"),
            ("apiserver.request-timeout", "pass"),
            ("apiserver.service-account-lookup", "pass"),
            ("apiserver.etcd-certfile", "pass"),
            ("apiserver.encryption-provider-config", "warn"),
            ("apiserver.encryption-providers", "warn"),
            ("apiserver.service-account-extend-token-expiration", "fail"),
            ("apiserver.audit-policy", "fail"),
            ("apiserver.encryption-at-rest", "fail"),
            ("apiserver.insecure-port", "pass"),
            ("controller_manager.terminated-pod-gc-threshold", "warn"),
            ("controller_manager.profiling", "fail"),
            ("controller_manager.use-service-account-credentials", "pass"),
            (
                "controller_manager.rotate-kubelet-server-certificate",
                "pass",
            ),
            ("controller_manager.bind-address", "pass"),
            ("scheduler.profiling", "fail"),
            ("scheduler.bind-address", "pass"),
            ("etcd.cert-file", "pass"),
            ("etcd.client-cert-auth", "pass"),
            ("etcd.auto-tls", "pass"),
            ("etcd.peer-client-cert-auth", "pass"),
            ("etcd.trusted-ca-file", "pass"),
        ],
    );
    let profiling = evidence_text(&report, "apiserver.profiling");
    assert!(profiling.contains("\"default\""), "{profiling}");
    let node = evidence_text(&report, "apiserver.authorization-mode-node");
    assert!(node.contains("/proc/1501/cmdline"), "{node}");
}

/// A node where every rule passes: worker and control plane.
fn hardened() -> Root {
    let root = Root::new();
    root.identity("hard", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[("etcd", 998)]);
    root.process(
        700,
        &[
            "/usr/bin/kubelet",
            "--kubeconfig=/etc/kubernetes/kubelet.conf",
            "--config=/var/lib/kubelet/config.yaml",
        ],
    );
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
streamingConnectionIdleTimeout: 5m
makeIPTablesUtilChains: true
eventRecordQPS: 5
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
rotateCertificates: true
serverTLSBootstrap: true
featureGates:
  RotateKubeletServerCertificate: true
tlsCipherSuites:
- TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
- TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
podPidsLimit: 4096
seccompDefault: true
protectKernelDefaults: true
staticPodPath: /etc/kubernetes/manifests
",
        0o600,
    );
    root.file_mode("/etc/kubernetes/kubelet.conf", "kind: Config\n", 0o600);
    root.file_mode("/etc/kubernetes/pki/ca.crt", "CA", 0o644);
    root.file_mode("/etc/systemd/system/kubelet.service", "[Unit]\n", 0o600);
    root.file_mode(
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        KUBEADM_DROP_IN,
        0o600,
    );
    root.file_mode("/etc/cni/net.d/10-calico.conflist", "{}", 0o600);
    root.process(
        900,
        &[
            "/usr/local/bin/kube-proxy",
            "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
            "--metrics-bind-address=127.0.0.1:10249",
        ],
    );
    root.file_mode(
        "/var/lib/kube-proxy/kubeconfig.conf",
        "kind: Config\n",
        0o600,
    );

    let mut api = apiserver_args();
    api.retain(|arg| !arg.starts_with("--enable-admission-plugins"));
    api.extend(
        [
            "--enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs,EventRateLimit,AlwaysPullImages",
            "--anonymous-auth=false",
            "--profiling=false",
            "--audit-log-path=/var/log/kubernetes/audit.log",
            "--audit-log-maxage=30",
            "--audit-log-maxbackup=10",
            "--audit-log-maxsize=100",
            "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
            "--request-timeout=300s",
            "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
            "--encryption-provider-config=/etc/kubernetes/encryption.yaml",
            "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "--service-account-extend-token-expiration=false",
        ]
        .iter()
        .map(|s| (*s).to_string()),
    );
    let mut cm = controller_manager_args();
    cm.extend(
        [
            "--profiling=false",
            "--terminated-pod-gc-threshold=10",
            "--feature-gates=RotateKubeletServerCertificate=true",
        ]
        .iter()
        .map(|s| (*s).to_string()),
    );
    let mut scheduler = scheduler_args();
    scheduler.push("--profiling=false".into());
    for (name, args, pid) in [
        ("kube-apiserver", api, 1601),
        ("kube-controller-manager", cm, 1602),
        ("kube-scheduler", scheduler, 1603),
        ("etcd", etcd_args(), 1604),
    ] {
        root.file_mode(
            &format!("/etc/kubernetes/manifests/{name}.yaml"),
            manifest(name, name, &args, &[]),
            0o600,
        );
        process(&root, pid, &argv(name, &args));
    }
    root.file_mode(
        "/etc/kubernetes/encryption.yaml",
        "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
      - configmaps
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
      - identity: {}
",
        0o600,
    );
    root.file_mode(
        "/etc/kubernetes/audit-policy.yaml",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n",
        0o600,
    );
    for conf in ["admin", "super-admin", "scheduler", "controller-manager"] {
        root.file_mode(
            &format!("/etc/kubernetes/{conf}.conf"),
            "kind: Config\n",
            0o600,
        );
    }
    for crt in ["apiserver", "etcd/ca"] {
        root.file_mode(&format!("/etc/kubernetes/pki/{crt}.crt"), "C", 0o644);
        root.file_mode(&format!("/etc/kubernetes/pki/{crt}.key"), "K", 0o600);
    }
    root.dir("/var/lib/etcd/member");
    root.chmod("/var/lib/etcd", 0o700);
    root.chown("/var/lib/etcd", 998, 998);
    root
}

/// A node where every rule fails: bad flags, bad files, insecure everything.
fn insecure() -> Root {
    let root = Root::new();
    root.identity("soft", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[("ubuntu", 1000)]);
    root.process(
        700,
        &[
            "/usr/bin/kubelet",
            "--kubeconfig=/etc/kubernetes/kubelet.conf",
            "--config=/etc/kubelet/config.yaml",
            "--streaming-connection-idle-timeout=0",
            "--hostname-override=evil",
            "--feature-gates=RotateKubeletServerCertificate=false",
        ],
    );
    root.file(
        "/etc/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
makeIPTablesUtilChains: false
eventRecordQPS: -1
rotateCertificates: false
tlsCipherSuites: [TLS_RSA_WITH_RC4_128_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
podPidsLimit: -1
seccompDefault: false
protectKernelDefaults: false
",
    );
    let loose = [
        "/etc/kubelet/config.yaml",
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/pki/ca.crt",
        "/lib/systemd/system/kubelet.service",
        "/etc/cni/net.d/10-calico.conflist",
        "/var/lib/kube-proxy/kubeconfig.conf",
        "/etc/kubernetes/admin.conf",
        "/etc/kubernetes/scheduler.conf",
        "/etc/kubernetes/controller-manager.conf",
        "/etc/kubernetes/pki/apiserver.crt",
        "/etc/kubernetes/pki/apiserver.key",
    ];
    for path in loose {
        if !root.real(path).exists() {
            root.file(path, "x");
        }
        root.chmod(path, 0o666);
        root.chown(path, 1000, 1000);
    }
    root.process(
        900,
        &[
            "/usr/local/bin/kube-proxy",
            "--kubeconfig",
            "/var/lib/kube-proxy/kubeconfig.conf",
            "--metrics-bind-address",
            "0.0.0.0:10249",
        ],
    );
    process(
        &root,
        1601,
        &argv(
            "/usr/local/bin/kube-apiserver",
            &[
                "--anonymous-auth",
                "--token-auth-file=/etc/kubernetes/tokens.csv",
                "--authorization-mode=AlwaysAllow,NodeX,RBACX",
                "--enable-admission-plugins=AlwaysAdmit",
                "--disable-admission-plugins=ServiceAccount,NamespaceLifecycle",
                "--audit-log-maxage=7",
                "--audit-log-maxbackup=1",
                "--audit-log-maxsize=10",
                "--request-timeout=10m",
                "--service-account-lookup=false",
                "--encryption-provider-config=/etc/kubernetes/encryption.yaml",
                "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
                "--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA",
                "--insecure-port=8080",
                "--etcd-servers=http://127.0.0.1:2379",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect::<Vec<_>>(),
        ),
    );
    root.file(
        "/etc/kubernetes/encryption.yaml",
        "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n  - resources: [secrets]\n    providers:\n      - identity: {}\n      - aescbc:\n          keys: [{name: k, secret: c2VjcmV0}]\n",
    );
    root.file("/etc/kubernetes/audit-policy.yaml", "rules: [ unclosed\n");
    root.process(
        1602,
        &[
            "kube-controller-manager",
            "--feature-gates=RotateKubeletServerCertificate=false",
        ],
    );
    root.process(1603, &["kube-scheduler", "--bind-address", "0.0.0.0"]);
    root.process(1604, &["etcd", "--data-dir", "/var/lib/etcd"]);
    root.environ(
        1604,
        &["ETCD_AUTO_TLS=true", "ETCD_PEER_AUTO_TLS=true", "PATH=/bin"],
    );
    for name in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ] {
        let path = format!("/etc/kubernetes/manifests/{name}.yaml");
        root.file_mode(&path, manifest(name, name, &[], &[]), 0o644);
        root.chown(&path, 1000, 1000);
    }
    root.dir("/var/lib/etcd/member");
    root.chmod("/var/lib/etcd", 0o755);
    root
}

#[test]
fn every_cis_rule_passes_on_one_fixture_and_fails_on_another() {
    if !common::require_root("every_cis_rule_passes_on_one_fixture_and_fails_on_another") {
        return;
    }
    let hardened = hardened();
    let (code, good) = hardened.check_json(&["--only", "1,2,4,kubelet,apiserver,proxy"]);
    let mut not_passing = Vec::new();
    for (id, got) in statuses(&good) {
        if got != "pass" {
            not_passing.push(format!(
                "{id}: {got} ({})",
                evidence_text(&good, &id).replace('\n', " | ")
            ));
        }
    }
    assert!(
        not_passing.is_empty(),
        "hardened node:\n{}",
        not_passing.join("\n")
    );
    assert_eq!(code, 0);

    let insecure = insecure();
    let (code, bad) = insecure.check_json(&["--only", "1,2,4,kubelet,apiserver,proxy"]);
    assert_eq!(code, 1);
    let mut not_failing = Vec::new();
    for finding in bad["results"].as_array().expect("results") {
        let id = finding["id"].as_str().unwrap_or("?");
        let want = if finding["scored"] == true {
            "fail"
        } else {
            "warn"
        };
        let got = finding["status"].as_str().unwrap_or("?");
        // 4.2.3's failing case is the flags-only kubelet (see below): here the CA is set.
        let exempt = matches!(
            id,
            "kubelet.client-ca-file" | "apiserver.encryption-provider-config"
        );
        if got != want && !exempt {
            not_failing.push(format!(
                "{id}: {got} ({})",
                evidence_text(&bad, id).replace('\n', " | ")
            ));
        }
        if got != "pass" {
            assert!(
                finding["evidence"]
                    .as_array()
                    .is_some_and(|e| !e.is_empty()),
                "{id} has no evidence"
            );
        }
    }
    assert!(
        not_failing.is_empty(),
        "insecure node:\n{}",
        not_failing.join("\n")
    );
    // The two exempt rules fail elsewhere.
    let (_, flags_only) = flags_only_kubelet().check_json(&["--only", "4.2.3"]);
    assert_eq!(status(&flags_only, "kubelet.client-ca-file"), "fail");
    let (_, kubeadm) = kubeadm_control_plane().check_json(&["--only", "1.2.27"]);
    assert_eq!(
        status(&kubeadm, "apiserver.encryption-provider-config"),
        "warn"
    );
    // Every CIS id is covered by these two fixtures.
    let cis: Vec<&str> = good["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["cis"].as_str())
        .collect();
    for section in ["1.1.", "1.2.", "1.3.", "1.4.", "2.", "4.1.", "4.2.", "4.3."] {
        assert!(
            cis.iter().any(|c| c.starts_with(section)),
            "{section} missing"
        );
    }
    assert!(cis.len() >= 90, "only {} CIS rules", cis.len());
}

#[test]
fn insecure_details_name_their_sources() {
    let root = insecure();
    let (_, report) = root.check_json(&["--only", "kubelet,apiserver,etcd,proxy,scheduler"]);
    // Space-separated values are values, not `true`.
    let proxy = evidence_text(&report, "proxy.metrics-bind-address");
    assert!(proxy.contains("0.0.0.0:10249"), "{proxy}");
    let scheduler = result(&report, "scheduler.bind-address");
    assert_eq!(scheduler["actual"], "0.0.0.0");
    // NodeX is not Node.
    assert_eq!(status(&report, "apiserver.authorization-mode-node"), "fail");
    // A flag of 0 is 0 (unlike a zero value in a config file).
    assert_eq!(status(&report, "kubelet.streaming-idle-timeout"), "warn");
    let timeout = evidence_text(&report, "kubelet.streaming-idle-timeout");
    assert!(timeout.contains("\"flag\""), "{timeout}");
    // The feature gate parsed from `--feature-gates=X=false`, not the string `true,B=false`.
    assert_eq!(
        result(&report, "kubelet.rotate-server-certificate")["actual"],
        "false"
    );
    // etcd from ETCD_* variables.
    let auto_tls = evidence_text(&report, "etcd.auto-tls");
    assert!(auto_tls.contains("\"env\""), "{auto_tls}");
    assert!(auto_tls.contains("/proc/1604/environ"), "{auto_tls}");
    // The broken audit policy and identity-first encryption config.
    assert_eq!(status(&report, "apiserver.audit-policy"), "fail");
    assert_eq!(status(&report, "apiserver.encryption-at-rest"), "fail");
    let encryption = evidence_text(&report, "apiserver.encryption-at-rest");
    assert!(encryption.contains("identity"), "{encryption}");
}

fn flags_only_kubelet() -> Root {
    let root = Root::new();
    root.identity("n", "6.8.0", "Ubuntu");
    root.process(
        42,
        &[
            "/usr/bin/kubelet",
            "--kubeconfig",
            "/etc/kubernetes/kubelet.conf",
            "--authorization-mode",
            "Webhook",
        ],
    );
    root
}

#[test]
fn a_kubelet_without_config_file_has_its_flag_defaults() {
    let root = flags_only_kubelet();
    let (_, report) = root.check_json(&["--only", "4.2,4.1.9"]);
    assert_statuses(
        &report,
        &[
            ("kubelet.anonymous-auth", "fail"),
            // `--authorization-mode Webhook` (space-separated) is Webhook, not `true`.
            ("kubelet.authorization-mode", "pass"),
            ("kubelet.client-ca-file", "fail"),
            ("kubelet.read-only-port", "warn"),
            ("kubelet.streaming-idle-timeout", "pass"),
            ("kubelet.config-file-mode", "skip"),
        ],
    );
    assert_eq!(result(&report, "kubelet.read-only-port")["actual"], "10255");
    let port = evidence_text(&report, "kubelet.read-only-port");
    assert!(port.contains("without a config file"), "{port}");
    let skip = evidence_text(&report, "kubelet.config-file-mode");
    assert!(skip.contains("without --config"), "{skip}");
}

#[test]
fn flags_override_the_config_file_and_drop_ins_override_it_too() {
    let root = Root::new();
    root.process(
        10,
        &[
            "kubelet",
            "--config=/var/lib/kubelet/config.yaml",
            "--config-dir=/etc/kubernetes/kubelet.conf.d",
            "--read-only-port",
            "10255",
        ],
    );
    root.file(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\nreadOnlyPort: 0\nseccompDefault: false\ntlsCertFile: \"\"\nauthentication:\n  anonymous:\n    enabled: true\n",
    );
    root.file(
        "/etc/kubernetes/kubelet.conf.d/20-b.conf",
        "kind: KubeletConfiguration\nseccompDefault: true\n",
    );
    root.file(
        "/etc/kubernetes/kubelet.conf.d/10-a.conf",
        "kind: KubeletConfiguration\nseccompDefault: false\nauthentication:\n  anonymous:\n    enabled: no\n",
    );
    root.file(
        "/etc/kubernetes/kubelet.conf.d/30-ignored.yaml",
        "seccompDefault: false\n",
    );
    let (_, report) = root.check_json(&["--only", "4.2.1,4.2.4,4.2.9,4.2.14"]);
    assert_eq!(status(&report, "kubelet.read-only-port"), "warn");
    // `tlsCertFile: ""` is not a certificate.
    assert_eq!(status(&report, "kubelet.tls-cert-file"), "warn");
    let empty = evidence_text(&report, "kubelet.tls-cert-file");
    assert!(empty.contains("empty value"), "{empty}");
    let port = evidence_text(&report, "kubelet.read-only-port");
    assert!(
        port.contains("\"flag\"") && port.contains("/proc/10/cmdline"),
        "{port}"
    );
    // 20-b.conf is applied after 10-a.conf; 30-ignored.yaml is not a .conf drop-in.
    assert_eq!(status(&report, "kubelet.seccomp-default-cis"), "pass");
    let seccomp = evidence_text(&report, "kubelet.seccomp-default-cis");
    assert!(
        seccomp.contains("drop-in") && seccomp.contains("20-b.conf"),
        "{seccomp}"
    );
    // YAML 1.1 `no` in a drop-in is false, overriding the main file's `true`.
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
}

#[test]
fn a_relative_config_is_read_against_the_process_cwd() {
    let root = Root::new();
    root.process(77, &["/opt/k8s/kubelet", "--config=kubelet_conf.json"]);
    root.symlink("/opt/k8s/etc", "/proc/77/cwd");
    root.file_mode(
        "/opt/k8s/etc/kubelet_conf.json",
        r#"{"kind": "KubeletConfiguration", "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "authentication": {"anonymous": {"enabled": false}}, "readOnlyPort": 10255}"#,
        0o600,
    );
    let (_, report) = root.check_json(&["--only", "4.2.1,4.2.4,4.1.9"]);
    assert_statuses(
        &report,
        &[
            ("kubelet.anonymous-auth", "pass"),
            ("kubelet.read-only-port", "warn"),
            ("kubelet.config-file-mode", "pass"),
        ],
    );
    let anonymous = evidence_text(&report, "kubelet.anonymous-auth");
    assert!(
        anonymous.contains("/opt/k8s/etc/kubelet_conf.json"),
        "{anonymous}"
    );
}

#[test]
fn an_unreadable_config_is_an_error_not_a_fail() {
    let root = Root::new();
    root.process(
        5,
        &[
            "kubelet",
            "--config=/var/lib/kubelet/config.yaml",
            "--anonymous-auth=false",
        ],
    );
    root.file(
        "/var/lib/kubelet/config.yaml",
        "authentication: [unclosed\n",
    );
    let (_, report) = root.check_json(&["--only", "4.2.1,4.2.4"]);
    // The flag decides 4.2.1 whatever the file says; 4.2.4 depends on the file.
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
    assert_eq!(status(&report, "kubelet.read-only-port"), "error");
    let reason = evidence_text(&report, "kubelet.read-only-port");
    assert!(reason.contains("invalid YAML"), "{reason}");
}

#[test]
fn apiserver_is_read_from_its_manifest_when_not_running() {
    let root = Root::new();
    let mut args = apiserver_args();
    args.push("--authorization-mode=AlwaysAllow".into());
    root.file_mode(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        manifest("kube-apiserver", "kube-apiserver", &args, &[]),
        0o600,
    );
    let (_, report) = root.check_json(&["--only", "1.2.6,1.2.7,1.2.15"]);
    // Repeated flag: the last one wins.
    assert_eq!(
        status(&report, "apiserver.authorization-mode-not-always-allow"),
        "fail"
    );
    assert_eq!(status(&report, "apiserver.authorization-mode-node"), "fail");
    let mode = evidence_text(&report, "apiserver.authorization-mode-node");
    assert!(mode.contains("\"manifest\""), "{mode}");
    assert!(
        mode.contains("/etc/kubernetes/manifests/kube-apiserver.yaml"),
        "{mode}"
    );
    assert!(mode.contains("given 2 times"), "{mode}");
    let profiling = evidence_text(&report, "apiserver.profiling");
    assert!(profiling.contains("not set in the manifest"), "{profiling}");
}

#[test]
fn look_alike_processes_are_not_components() {
    let root = Root::new();
    root.process(
        10,
        &[
            "/usr/local/bin/kube-apiserver",
            "--etcd-servers=https://127.0.0.1:2379",
            "--authorization-mode=Node,RBAC",
        ],
    );
    root.process(11, &["/usr/bin/calico-kube-controllers"]);
    root.process(
        12,
        &[
            "/usr/local/bin/etcdctl",
            "--endpoints=https://127.0.0.1:2379",
            "get",
        ],
    );
    root.process(
        13,
        &[
            "/bin/bash",
            "-c",
            "kube-controller-manager --profiling=false",
        ],
    );
    // argv[0] rewritten by its parent: /proc/<pid>/exe still names the program.
    root.process(16, &["etcd-wrapped", "--client-cert-auth=true"]);
    root.symlink("/usr/local/bin/etcd", "/proc/16/exe");
    // An interpreter running a script named like a component is not that component.
    root.symlink("/usr/bin/bash", "/proc/13/exe");
    // A process that vanished between listing /proc and reading its cmdline.
    root.dir("/proc/14");
    // Non-UTF-8 arguments do not hide a process.
    root.file(
        "/proc/15/cmdline",
        b"/usr/bin/kube-scheduler\0--bind-address=127.0.0.1\0--note=\xff\xfe\0".as_slice(),
    );
    let (_, report) = root.check_json(&["--only", "1.2.7,1.3.2,1.4.2,2.2"]);
    assert_eq!(status(&report, "apiserver.authorization-mode-node"), "pass");
    assert_eq!(status(&report, "etcd.client-cert-auth"), "pass");
    assert!(evidence_text(&report, "etcd.client-cert-auth").contains("etcd pid 16"));
    assert_eq!(status(&report, "controller_manager.profiling"), "skip");
    assert_eq!(status(&report, "scheduler.bind-address"), "pass");
    let output = root
        .hardnode(&["facts", "--only", "1.2.7,2.2"])
        .output()
        .expect("run");
    let facts = common::json(&output);
    assert_eq!(facts["components"]["processes"]["vanished"], 1);
    let components: Vec<&str> = facts["components"]["processes"]["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(components, vec!["apiserver", "scheduler", "etcd"]);
}

#[test]
fn a_component_that_does_not_run_is_skipped_with_the_reason() {
    let root = kubeadm_worker();
    // Cilium replaces kube-proxy: no process.
    std::fs::remove_file(root.real("/proc/2301/cmdline")).expect("remove");
    let (code, report) = root.check_json(&["--only", "4.3,4.1.3"]);
    assert_eq!(code, 0);
    assert_eq!(status(&report, "proxy.metrics-bind-address"), "skip");
    let reason = evidence_text(&report, "proxy.metrics-bind-address");
    assert!(reason.contains("kube-proxy is not running"), "{reason}");
    assert_eq!(status(&report, "proxy.kubeconfig-mode"), "skip");
}

#[test]
fn embedded_distributions_are_named_instead_of_failing() {
    let root = Root::new();
    root.process(300, &["/usr/local/bin/k3s server"]);
    let (code, report) = root.check_json(&["--only", "4.2.1,1.2.7"]);
    assert_eq!(code, 0);
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "skip");
    let reason = evidence_text(&report, "kubelet.anonymous-auth");
    assert!(
        reason.contains("embedded distribution") && reason.contains("k3s server"),
        "{reason}"
    );
}

#[test]
fn facts_show_every_setting_with_its_source() {
    let root = kubeadm_worker();
    root.file(
        "/var/lib/kubelet/config.yaml",
        format!("{KUBEADM_KUBELET_CONFIG}rotateCertificates: false\n"),
    );
    let output = root
        .hardnode(&["facts", "--only", "4.2"])
        .output()
        .expect("run");
    assert_eq!(common::code(&output), 0);
    let facts = common::json(&output);
    let kubelet = &facts["components"]["components"]["kubelet"];
    assert_eq!(kubelet["state"], "found");
    let settings = &kubelet["settings"];
    assert_eq!(
        settings["authentication.anonymous.enabled"]["source"],
        "config-file"
    );
    assert_eq!(settings["readOnlyPort"]["source"], "default");
    assert_eq!(settings["readOnlyPort"]["value"], 0);
    assert_eq!(settings["--kubeconfig"]["source"], "flag");
    assert_eq!(settings["clusterDomain"]["value"], "cluster.local");
    // The duplicate key is reported, the last one wins.
    assert_eq!(settings["rotateCertificates"]["value"], false);
    let warnings = kubelet["warnings"].to_string();
    assert!(warnings.contains("duplicate"), "{warnings}");
    // ... and next to the values that came from that file.
    let (_, report) = root.check_json(&["--only", "4.2.10"]);
    assert_eq!(status(&report, "kubelet.rotate-certificates"), "fail");
    let evidence = evidence_text(&report, "kubelet.rotate-certificates");
    assert!(evidence.contains("duplicate key"), "{evidence}");
}

#[test]
fn only_selects_a_cis_section() {
    let root = kubeadm_worker();
    let (_, report) = root.check_json(&["--only", "4.2"]);
    let results = report["results"].as_array().expect("results");
    assert!(results.len() >= 14);
    assert!(
        results
            .iter()
            .all(|r| r["cis"].as_str().is_some_and(|c| c.starts_with("4.2.")))
    );
}

#[test]
fn structured_authorization_config_replaces_the_authorization_mode_default() {
    let root = Root::new();
    root.process(
        20,
        &[
            "kube-apiserver",
            "--authorization-config=/etc/kubernetes/authz.yaml",
        ],
    );
    root.file(
        "/etc/kubernetes/authz.yaml",
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n  - type: Node\n    name: node\n  - type: RBAC\n    name: rbac\n",
    );
    let (_, report) = root.check_json(&["--only", "1.2.6,1.2.7,1.2.8"]);
    assert_statuses(
        &report,
        &[
            ("apiserver.authorization-mode-not-always-allow", "pass"),
            ("apiserver.authorization-mode-node", "pass"),
            ("apiserver.authorization-mode-rbac", "pass"),
        ],
    );
    let node = evidence_text(&report, "apiserver.authorization-mode-node");
    assert!(node.contains("/etc/kubernetes/authz.yaml"), "{node}");
}

#[test]
fn scheduler_config_file_and_etcd_config_file_replace_their_flags() {
    let root = Root::new();
    root.process(
        30,
        &[
            "kube-scheduler",
            "--config=/etc/kubernetes/scheduler-config.yaml",
            "--profiling=false",
            "--bind-address=127.0.0.1",
        ],
    );
    root.file(
        "/etc/kubernetes/scheduler-config.yaml",
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection:\n  kubeconfig: /etc/kubernetes/scheduler.conf\n",
    );
    root.process(
        31,
        &[
            "etcd",
            "--config-file=/etc/etcd/etcd.conf.yml",
            "--client-cert-auth=true",
        ],
    );
    // etcd's YAML config format (etcd 3.4 embed.Config): flag names as keys, TLS nested under
    // client-transport-security / peer-transport-security.
    root.file(
        "/etc/etcd/etcd.conf.yml",
        "name: cp1\ndata-dir: /var/lib/etcd\nclient-transport-security:\n  cert-file: /etc/etcd/server.crt\n  key-file: /etc/etcd/server.key\n  client-cert-auth: false\npeer-transport-security:\n  cert-file: /etc/etcd/peer.crt\n  key-file: /etc/etcd/peer.key\n  client-cert-auth: true\n  trusted-ca-file: /etc/etcd/ca.crt\n",
    );
    let (_, report) = root.check_json(&["--only", "1.4,2"]);
    // --profiling=false is ignored under --config; enableProfiling defaults to true.
    assert_eq!(status(&report, "scheduler.profiling"), "fail");
    let profiling = evidence_text(&report, "scheduler.profiling");
    assert!(profiling.contains("scheduler-config.yaml"), "{profiling}");
    assert_eq!(status(&report, "scheduler.bind-address"), "pass");
    // etcd ignores its flags under --config-file: the file's client-cert-auth: false decides,
    // not --client-cert-auth=true.
    assert_eq!(status(&report, "etcd.client-cert-auth"), "fail");
    let client = evidence_text(&report, "etcd.client-cert-auth");
    assert!(
        client.contains("client-transport-security.client-cert-auth"),
        "{client}"
    );
    assert_eq!(status(&report, "etcd.cert-file"), "pass");
    assert_eq!(status(&report, "etcd.peer-client-cert-auth"), "pass");
    let peer = evidence_text(&report, "etcd.peer-client-cert-auth");
    assert!(
        peer.contains("peer-transport-security.client-cert-auth"),
        "{peer}"
    );
    assert_eq!(status(&report, "etcd.peer-cert-file"), "pass");
}

#[test]
fn etcd_config_file_that_cannot_be_read_is_an_error_not_its_flags() {
    let root = Root::new();
    root.process(
        31,
        &[
            "etcd",
            "--config-file=/etc/etcd/missing.yml",
            "--client-cert-auth=true",
        ],
    );
    let (_, report) = root.check_json(&["--only", "2.2"]);
    assert_eq!(status(&report, "etcd.client-cert-auth"), "error");
    let reason = evidence_text(&report, "etcd.client-cert-auth");
    assert!(reason.contains("--config-file"), "{reason}");
}

#[test]
fn etcd_default_evidence_names_the_flag() {
    let root = Root::new();
    root.process(31, &["etcd", "--data-dir=/var/lib/etcd"]);
    let (_, report) = root.check_json(&["--only", "2.2"]);
    assert_eq!(status(&report, "etcd.client-cert-auth"), "fail");
    let text = evidence_text(&report, "etcd.client-cert-auth");
    assert!(text.contains("--client-cert-auth is not set"), "{text}");
}

#[test]
fn control_plane_from_manifests_alone_gives_the_same_verdicts() {
    let running = kubeadm_control_plane();
    let (_, from_processes) = running.check_json(&["--only", "1.2,1.3,1.4,2"]);
    let manifests_only = kubeadm_control_plane();
    for pid in [1501, 1502, 1503, 1504] {
        std::fs::remove_dir_all(manifests_only.real(&format!("/proc/{pid}"))).expect("rm");
    }
    let (_, from_manifests) = manifests_only.check_json(&["--only", "1.2,1.3,1.4,2"]);
    assert_eq!(statuses(&from_processes), statuses(&from_manifests));
    let mode = evidence_text(&from_manifests, "apiserver.authorization-mode-node");
    assert!(mode.contains("\"manifest\""), "{mode}");
    let etcd = evidence_text(&from_manifests, "etcd.client-cert-auth");
    assert!(
        etcd.contains("/etc/kubernetes/manifests/etcd.yaml"),
        "{etcd}"
    );
    let remediation = result(&from_manifests, "apiserver.profiling")["remediation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        remediation.starts_with("Edit /etc/kubernetes/manifests/kube-apiserver.yaml"),
        "{remediation}"
    );
}
