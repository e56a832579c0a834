//! Hostile roots: a fixture's `/proc/<pid>/root` and `/proc/<pid>/cwd` are data, not the kernel's
//! magic links. Planted as links to `/`, to `../../..`, or in a loop, they must never lead a read
//! to this machine's files: the kube-proxy config named by a process exists only outside the
//! root, and its marker must not appear in the report.

mod common;

use std::fs;

use common::Root;

const MARKER: &str = "203.0.113.77";

fn proxy_config() -> String {
    format!(
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n\
         metricsBindAddress: {MARKER}:10249\n"
    )
}

fn report(root: &Root) -> String {
    let output = root
        .hardnode(&[
            "check",
            "--only",
            "proxy.metrics-bind-address",
            "--format",
            "json",
        ])
        .output()
        .expect("run check");
    assert_ne!(output.status.code(), Some(101), "panicked");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_planted_proc_pid_root_or_cwd_never_leads_out_of_the_root() {
    // The secret lives on this machine, outside every fixture root.
    let outside = tempfile::Builder::new()
        .prefix("hardnode-outside-")
        .tempdir()
        .expect("outside");
    fs::write(outside.path().join("config.conf"), proxy_config()).expect("write");
    let absolute = outside.path().join("config.conf");
    let absolute = absolute.to_str().expect("utf8");
    let relative = absolute.trim_start_matches('/');
    for (link, target, config) in [
        ("root", "/", absolute.to_string()),
        ("root", "../../..", absolute.to_string()),
        ("root", "../../../../../../../..", absolute.to_string()),
        ("root", "/proc/2301/root", absolute.to_string()),
        ("root", "root", absolute.to_string()),
        ("cwd", "/", relative.to_string()),
        ("cwd", "../../..", relative.to_string()),
        ("cwd", "cwd", relative.to_string()),
    ] {
        let root = Root::new();
        root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
        let flag = format!("--config={config}");
        root.process(2301, &["/usr/local/bin/kube-proxy", &flag]);
        root.symlink(target, &format!("/proc/2301/{link}"));
        let text = report(&root);
        assert!(
            !text.contains(MARKER),
            "/proc/2301/{link} -> {target} read {config} from outside the root:\n{text}"
        );
        assert!(
            text.contains("proxy.metrics-bind-address"),
            "{link} -> {target}: no result\n{text}"
        );
    }
}

#[test]
fn a_fixture_proc_pid_root_inside_the_root_is_still_followed() {
    // The control: a link that stays inside the fixture is read, so the test above is not
    // passing only because nothing is read through /proc/<pid>/root any more.
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.process(
        2301,
        &[
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
        ],
    );
    root.file(
        "/run/containerd/rootfs/var/lib/kube-proxy/config.conf",
        proxy_config(),
    );
    root.symlink("/run/containerd/rootfs", "/proc/2301/root");
    assert!(report(&root).contains(MARKER));
}

/// The file rules follow a containerized component's file through `/proc/<pid>/root` too (4.1.3
/// on kube-proxy's kubeconfig); a planted link there never makes them examine a file outside the
/// root: the outside kubeconfig is never reported, while one inside the fixture is.
#[test]
fn a_planted_proc_pid_root_never_leads_the_file_rules_out_of_the_root() {
    let outside = tempfile::Builder::new()
        .prefix("hardnode-outside-")
        .tempdir()
        .expect("outside");
    let secret = outside.path().join("var/lib/kube-proxy");
    fs::create_dir_all(&secret).expect("mkdir");
    fs::write(
        secret.join("kubeconfig.conf"),
        "apiVersion: v1\nkind: Config\n",
    )
    .expect("write");
    let outside_root = outside.path().to_str().expect("utf8").to_string();
    // kubeadm's kube-proxy: --config and the kubeconfig both from its ConfigMap.
    let argv = [
        "/usr/local/bin/kube-proxy",
        "--config=/var/lib/kube-proxy/config.conf",
        "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
    ];
    fs::write(secret.join("config.conf"), proxy_config()).expect("write");
    for target in ["/", "../../..", outside_root.as_str()] {
        let root = Root::new();
        root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
        root.process(2301, &argv);
        root.symlink(target, "/proc/2301/root");
        let (_, report) = root.check_json(&["--only", "4.1.3"]);
        let result = common::result(&report, "proxy.kubeconfig-mode");
        assert_eq!(result["status"], "skip", "{target}: {result}");
        assert!(
            !result.to_string().contains("1 file examined"),
            "{target}: examined a file outside the root: {result}"
        );
    }
    // The control: the same link to a directory inside the fixture is followed.
    let root = Root::new();
    root.identity("node1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.process(2301, &argv);
    root.file(
        "/run/containerd/rootfs/var/lib/kube-proxy/config.conf",
        proxy_config(),
    );
    root.file_mode(
        "/run/containerd/rootfs/var/lib/kube-proxy/kubeconfig.conf",
        "apiVersion: v1\nkind: Config\n",
        0o644,
    );
    root.symlink("/run/containerd/rootfs", "/proc/2301/root");
    let (_, report) = root.check_json(&["--only", "4.1.3"]);
    let result = common::result(&report, "proxy.kubeconfig-mode");
    assert!(result.to_string().contains("1 file examined"), "{result}");
}
