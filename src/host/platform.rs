//! Which Kubernetes distribution this node belongs to, decided from what the node shows — its
//! processes, the distribution's own files, the server its kubelet's kubeconfig names — never
//! from the network. Every conclusion carries the evidence it was drawn from, so an operator can
//! see why a k3s node is judged with k3s's layers or why the control-plane rules of an EKS worker
//! say "managed by the provider".
//!
//! The order matters: distributions that embed or wrap the components (OpenShift, MicroK8s, k3s,
//! RKE2) are recognised before the managed clouds (an RKE2 cluster may run on EC2), and kubeadm
//! only when nothing more specific matched; with no sign at all the platform is `generic`.

use std::path::Path;

use serde::Serialize;

use super::process::ProcessScan;
use super::root::HostRoot;

/// The distributions hardnode tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformName {
    Kubeadm,
    K3s,
    Rke2,
    Microk8s,
    Eks,
    Gke,
    Aks,
    Openshift,
    Generic,
}

impl PlatformName {
    pub const ALL: [PlatformName; 9] = [
        PlatformName::Kubeadm,
        PlatformName::K3s,
        PlatformName::Rke2,
        PlatformName::Microk8s,
        PlatformName::Eks,
        PlatformName::Gke,
        PlatformName::Aks,
        PlatformName::Openshift,
        PlatformName::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformName::Kubeadm => "kubeadm",
            PlatformName::K3s => "k3s",
            PlatformName::Rke2 => "rke2",
            PlatformName::Microk8s => "microk8s",
            PlatformName::Eks => "eks",
            PlatformName::Gke => "gke",
            PlatformName::Aks => "aks",
            PlatformName::Openshift => "openshift",
            PlatformName::Generic => "generic",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The provider that runs the control plane, for the managed clouds.
    pub fn provider(self) -> Option<&'static str> {
        match self {
            PlatformName::Eks => Some("EKS"),
            PlatformName::Gke => Some("GKE"),
            PlatformName::Aks => Some("AKS"),
            _ => None,
        }
    }
}

/// The detected platform and what it was detected from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub name: PlatformName,
    /// The distribution's version where the node shows it (RKE2's data directory, the MicroK8s
    /// snap, kubeadm's apiserver image, OpenShift's os-release).
    pub version: Option<String>,
    /// The flavour: `server`/`agent`, `AL2023`, `COS`, `Bottlerocket`, `profile: cis`.
    pub variant: Option<String>,
    /// Each sign that decided it, as `what (where)`.
    pub detected_from: Vec<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Platform::generic("not detected")
    }
}

impl Platform {
    fn new(name: PlatformName) -> Self {
        Platform {
            name,
            version: None,
            variant: None,
            detected_from: Vec::new(),
        }
    }

    /// The generic platform, with why.
    pub fn generic(why: &str) -> Self {
        let mut platform = Platform::new(PlatformName::Generic);
        platform.detected_from.push(why.to_string());
        platform
    }

    /// `k3s 1.30 (server)`, for text output.
    pub fn label(&self) -> String {
        let mut text = self.name.as_str().to_string();
        if let Some(version) = &self.version {
            text.push(' ');
            text.push_str(version);
        }
        if let Some(variant) = &self.variant {
            text.push_str(&format!(" ({variant})"));
        }
        text
    }

    /// "managed by the provider (EKS)" on the managed clouds.
    pub fn managed_by(&self) -> Option<&'static str> {
        self.name.provider()
    }
}

/// Where the distributions keep their own files: each is a sign of the platform.
const K3S_SIGNS: &[&str] = &["/etc/rancher/k3s/config.yaml", "/var/lib/rancher/k3s/agent"];
const RKE2_SIGNS: &[&str] = &[
    "/etc/rancher/rke2/config.yaml",
    "/var/lib/rancher/rke2/agent",
];
const MICROK8S_SIGNS: &[&str] = &["/var/snap/microk8s/current/args", "/snap/microk8s/current"];
const OPENSHIFT_SIGNS: &[&str] = &[
    "/etc/machine-config-daemon",
    "/etc/mcs-machine-config-content.json",
];
const EKS_SIGNS: &[&str] = &[
    "/etc/eks/bootstrap.sh",
    "/usr/bin/nodeadm",
    "/etc/eks/nodeadm",
    "/etc/kubernetes/kubelet/config.json",
];
const GKE_SIGNS: &[&str] = &[
    "/home/kubernetes/kube-env",
    "/home/kubernetes/kubelet-config.yaml",
];
const AKS_SIGNS: &[&str] = &[
    "/etc/kubernetes/azure.json",
    "/etc/default/kubeletconfig.json",
];
const KUBEADM_SIGNS: &[&str] = &[
    "/var/lib/kubelet/kubeadm-flags.env",
    "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
];
/// Where kubelets keep their kubeconfig when the running kubelet does not say.
const KUBELET_KUBECONFIGS: &[&str] = &[
    "/var/lib/kubelet/kubeconfig",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/kubelet-kubeconfig",
];

/// Decides the platform. `scan` is the walk of `/proc` when one was made; without it only files
/// are looked at, and the evidence says so.
pub fn detect(root: &HostRoot, scan: Option<&ProcessScan>) -> Platform {
    let scan = scan.filter(|scan| scan.scanned > 0);
    let os = OsRelease::read(root);
    let exists = |path: &str| root.symlink_metadata(Path::new(path)).is_ok();
    let signs = |paths: &[&str]| -> Vec<String> {
        paths
            .iter()
            .filter(|p| exists(p))
            .map(|p| format!("{p} exists"))
            .collect()
    };
    let server = kubelet_server(root, scan);
    let crio = scan.is_some_and(|s| s.runtime("crio").is_some());

    // OpenShift: RHCOS/SCOS, the machine-config daemon's files.
    let mut openshift = signs(OPENSHIFT_SIGNS);
    if matches!(os.id.as_deref(), Some("rhcos" | "scos")) {
        openshift.insert(
            0,
            format!(
                "os-release ID={} (/etc/os-release)",
                os.id.clone().unwrap_or_default()
            ),
        );
    }
    if !openshift.is_empty() {
        let mut platform = Platform::new(PlatformName::Openshift);
        platform.version = os.field("OPENSHIFT_VERSION");
        if crio {
            openshift.push("the container runtime is CRI-O (crio process)".into());
        }
        platform.detected_from = openshift;
        return platform;
    }

    // MicroK8s: kubelite, or the snap's args directory.
    let mut microk8s = Vec::new();
    if let Some(kubelite) =
        scan.and_then(|s| s.embedded.iter().find(|e| e.distribution == "microk8s"))
    {
        microk8s.push(format!("kubelite process (pid {})", kubelite.pid));
    }
    microk8s.extend(signs(MICROK8S_SIGNS));
    if !microk8s.is_empty() {
        let mut platform = Platform::new(PlatformName::Microk8s);
        platform.version = snap_version(root);
        platform.detected_from = microk8s;
        return platform;
    }

    for (name, signs_list, distribution) in [
        (PlatformName::K3s, K3S_SIGNS, "k3s"),
        (PlatformName::Rke2, RKE2_SIGNS, "rke2"),
    ] {
        let mut found = Vec::new();
        let process = scan.and_then(|s| s.embedded.iter().find(|e| e.distribution == distribution));
        if let Some(process) = process {
            found.push(format!(
                "{distribution} {} process (pid {})",
                process.role, process.pid
            ));
        }
        found.extend(signs(signs_list));
        if found.is_empty() {
            continue;
        }
        let mut platform = Platform::new(name);
        platform.variant = process
            .map(|p| p.role.clone())
            .filter(|role| !role.is_empty());
        if name == PlatformName::Rke2 {
            platform.version = rke2_version(root);
            // `profile: cis` makes RKE2 harden the node as its CIS guide describes.
            if let Some(profile) = root
                .read_to_string(Path::new("/etc/rancher/rke2/config.yaml"))
                .ok()
                .and_then(|text| {
                    text.lines().find_map(|line| {
                        let value = line.trim().strip_prefix("profile:")?;
                        Some(value.trim().trim_matches('"').to_string())
                    })
                })
            {
                let role = platform.variant.take().unwrap_or_default();
                platform.variant = Some(format!("{role} profile: {profile}").trim().to_string());
                found.push(format!(
                    "profile: {profile} (/etc/rancher/rke2/config.yaml)"
                ));
            }
        }
        platform.detected_from = found;
        return platform;
    }

    // The managed clouds: their node images' files, the control plane's address.
    let server_sign = |suffix: &str| {
        server
            .as_ref()
            .filter(|(_, url)| host_of(url).is_some_and(|host| host.ends_with(suffix)))
            .map(|(path, url)| format!("the kubelet's kubeconfig server is {url} ({path})"))
    };
    let mut eks = signs(EKS_SIGNS);
    eks.extend(server_sign(".eks.amazonaws.com"));
    if os.id.as_deref() == Some("bottlerocket") {
        eks.push("os-release ID=bottlerocket (/etc/os-release)".into());
    }
    if !eks.is_empty() {
        let mut platform = Platform::new(PlatformName::Eks);
        platform.variant = match (os.id.as_deref(), os.field("VERSION_ID").as_deref()) {
            (Some("bottlerocket"), _) => Some("Bottlerocket".into()),
            (Some("amzn"), Some("2023")) => Some("AL2023".into()),
            (Some("amzn"), Some("2")) => Some("AL2".into()),
            _ => None,
        };
        platform.detected_from = eks;
        return platform;
    }
    let mut gke = signs(GKE_SIGNS);
    if scan.is_some_and(|s| {
        s.components.iter().any(|p| {
            p.args
                .iter()
                .any(|a| a.contains("/home/kubernetes/kubelet-config.yaml"))
        })
    }) {
        gke.push("the kubelet runs with --config=/home/kubernetes/kubelet-config.yaml".into());
    }
    if !gke.is_empty() {
        let mut platform = Platform::new(PlatformName::Gke);
        platform.variant = match os.id.as_deref() {
            Some("cos") => Some("COS".into()),
            Some("ubuntu") => Some("Ubuntu".into()),
            _ => None,
        };
        platform.detected_from = gke;
        return platform;
    }
    let mut aks = signs(AKS_SIGNS);
    aks.extend(server_sign(".azmk8s.io"));
    if !aks.is_empty() {
        let mut platform = Platform::new(PlatformName::Aks);
        platform.detected_from = aks;
        return platform;
    }

    let mut kubeadm = Vec::new();
    let apiserver_manifest = "/etc/kubernetes/manifests/kube-apiserver.yaml";
    let image_version = root
        .read_to_string(Path::new(apiserver_manifest))
        .ok()
        .and_then(|text| manifest_image_version(&text));
    if let Some(version) = &image_version {
        kubeadm.push(format!(
            "kube-apiserver image {version} ({apiserver_manifest})"
        ));
    }
    kubeadm.extend(signs(KUBEADM_SIGNS));
    if !kubeadm.is_empty() {
        let mut platform = Platform::new(PlatformName::Kubeadm);
        platform.version = image_version;
        platform.detected_from = kubeadm;
        return platform;
    }
    Platform::generic(if scan.is_some() {
        "no distribution's processes or files were found"
    } else {
        "no distribution's files were found (processes were not examined)"
    })
}

/// The fields of `/etc/os-release` detection uses.
struct OsRelease {
    id: Option<String>,
    text: String,
}

impl OsRelease {
    fn read(root: &HostRoot) -> Self {
        let text = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|path| root.read_to_string(Path::new(path)).ok())
            .unwrap_or_default();
        let mut release = OsRelease { id: None, text };
        release.id = release.field("ID");
        release
    }

    fn field(&self, key: &str) -> Option<String> {
        self.text.lines().find_map(|line| {
            let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            (!value.is_empty()).then(|| value.to_string())
        })
    }
}

/// The kubelet's kubeconfig (as its `--kubeconfig` names it, else the usual places) and the
/// `server:` it points at.
fn kubelet_server(root: &HostRoot, scan: Option<&ProcessScan>) -> Option<(String, String)> {
    let named = scan
        .and_then(|s| s.find(crate::probe::ComponentKind::Kubelet))
        .and_then(|(kubelet, _)| flag_value(&kubelet.args, "kubeconfig"));
    named
        .into_iter()
        .chain(KUBELET_KUBECONFIGS.iter().map(|p| p.to_string()))
        .find_map(|path| {
            let text = root.read_to_string(Path::new(&path)).ok()?;
            let server = text.lines().find_map(|line| {
                let value = line.trim().strip_prefix("server:")?;
                Some(value.trim().trim_matches('"').to_string())
            })?;
            Some((path, server))
        })
}

/// `--name=value` or `--name value` from a component's arguments.
pub fn flag_value(args: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(value) = arg.strip_prefix(&format!("{long}=")) {
            return Some(value.to_string());
        }
        if *arg == long {
            return iter.next().cloned();
        }
    }
    None
}

/// The host part of `https://host:port/path`.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    Some(
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    )
}

/// RKE2 unpacks each release into `/var/lib/rancher/rke2/data/<version>-<hash>`
/// (`v1.30.4-rke2r1-4aa0d2a1e5f3`); the newest such directory is the version that runs.
fn rke2_version(root: &HostRoot) -> Option<String> {
    let names = root
        .read_dir_names(Path::new("/var/lib/rancher/rke2/data"))
        .ok()?;
    names
        .iter()
        .filter_map(|name| name.to_str())
        .filter(|name| name.starts_with('v') && name.contains("-rke2r"))
        .filter_map(|name| {
            let (version, _) = name.rsplit_once('-')?;
            Some(version.to_string())
        })
        .max_by_key(|version| version_key(version))
}

/// `v1.30.4-rke2r1` as numbers for ordering.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// `version:` of the MicroK8s snap's `meta/snap.yaml`.
fn snap_version(root: &HostRoot) -> Option<String> {
    let text = root
        .read_to_string(Path::new("/snap/microk8s/current/meta/snap.yaml"))
        .ok()?;
    text.lines().find_map(|line| {
        let value = line.strip_prefix("version:")?;
        Some(
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string(),
        )
    })
}

/// The tag of the `image:` line of a static pod manifest (`registry.k8s.io/kube-apiserver:v1.30.2`).
fn manifest_image_version(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let image = line
            .trim()
            .trim_start_matches("- ")
            .strip_prefix("image:")?;
        let image = image.trim().trim_matches('"');
        let (name, tag) = image.rsplit_once(':')?;
        (name.ends_with("kube-apiserver") && tag.starts_with('v')).then(|| tag.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_strips_scheme_port_and_path() {
        assert_eq!(
            host_of("https://ABCD.gr7.eu-west-1.eks.amazonaws.com"),
            Some("ABCD.gr7.eu-west-1.eks.amazonaws.com")
        );
        assert_eq!(
            host_of("https://x.hcp.westeurope.azmk8s.io:443/"),
            Some("x.hcp.westeurope.azmk8s.io")
        );
    }

    #[test]
    fn versions_come_from_the_distribution_files() {
        assert_eq!(
            manifest_image_version("    image: registry.k8s.io/kube-apiserver:v1.30.2\n"),
            Some("v1.30.2".into())
        );
        assert_eq!(
            manifest_image_version("image: registry.k8s.io/etcd:3.5.12-0\n"),
            None
        );
        assert!(version_key("v1.30.10-rke2r1") > version_key("v1.30.4-rke2r1"));
    }

    #[test]
    fn flag_values_in_both_forms() {
        let args: Vec<String> = ["--kubeconfig", "/a", "--config=/b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flag_value(&args, "kubeconfig").as_deref(), Some("/a"));
        assert_eq!(flag_value(&args, "config").as_deref(), Some("/b"));
        assert_eq!(flag_value(&args, "config-dir"), None);
    }
}
