//! The probe vocabulary rules and facts share: which Kubernetes component a rule asks about, and
//! which file (a named file or literal paths). The rule model (`benchmark`) names them and the
//! readers (`host`) resolve them, so they live below both and neither depends on the other.

use serde::Serialize;

/// The components hardnode resolves settings for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    Kubelet,
    Apiserver,
    ControllerManager,
    Scheduler,
    Etcd,
    Proxy,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 6] = [
        ComponentKind::Kubelet,
        ComponentKind::Apiserver,
        ComponentKind::ControllerManager,
        ComponentKind::Scheduler,
        ComponentKind::Etcd,
        ComponentKind::Proxy,
    ];

    /// The key rules use: `{ kubelet = ... }`, `{ controller_manager = ... }`.
    pub fn probe_key(self) -> &'static str {
        match self {
            ComponentKind::Kubelet => "kubelet",
            ComponentKind::Apiserver => "apiserver",
            ComponentKind::ControllerManager => "controller_manager",
            ComponentKind::Scheduler => "scheduler",
            ComponentKind::Etcd => "etcd",
            ComponentKind::Proxy => "proxy",
        }
    }

    pub fn from_probe_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.probe_key() == key)
    }

    /// The program name (basename of argv[0]).
    pub fn binary(self) -> &'static str {
        match self {
            ComponentKind::Kubelet => "kubelet",
            ComponentKind::Apiserver => "kube-apiserver",
            ComponentKind::ControllerManager => "kube-controller-manager",
            ComponentKind::Scheduler => "kube-scheduler",
            ComponentKind::Etcd => "etcd",
            ComponentKind::Proxy => "kube-proxy",
        }
    }

    pub fn from_binary(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.binary() == name)
    }

    /// The static pod manifest file name kubeadm writes, for components that can run as one.
    pub fn manifest_name(self) -> Option<&'static str> {
        match self {
            ComponentKind::Apiserver => Some("kube-apiserver.yaml"),
            ComponentKind::ControllerManager => Some("kube-controller-manager.yaml"),
            ComponentKind::Scheduler => Some("kube-scheduler.yaml"),
            ComponentKind::Etcd => Some("etcd.yaml"),
            ComponentKind::Kubelet | ComponentKind::Proxy => None,
        }
    }
}

/// A file or set of files a rule examines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRequest {
    /// A named file resolved from the components (`kubelet.config`).
    Named(String),
    /// Literal host paths; directories are walked when `recurse`, keeping names matching `glob`.
    Paths {
        paths: Vec<String>,
        recurse: bool,
        glob: Option<String>,
    },
}

/// The named files rules may use.
pub const NAMED_FILES: &[&str] = &[
    "kubelet.service",
    "kubelet.config",
    "kubelet.kubeconfig",
    "kubelet.client_ca",
    "proxy.kubeconfig",
    "proxy.config",
    "apiserver.manifest",
    "controller_manager.manifest",
    "scheduler.manifest",
    "etcd.manifest",
    "controller_manager.kubeconfig",
    "scheduler.kubeconfig",
    "etcd.data_dir",
    "cni.config",
];

impl FileRequest {
    /// The key this request's result is stored under in the facts.
    pub fn key(&self) -> String {
        match self {
            FileRequest::Named(name) => name.clone(),
            FileRequest::Paths {
                paths,
                recurse,
                glob,
            } => {
                let mut key = paths.join(",");
                if *recurse {
                    key.push_str(" (recursive)");
                }
                if let Some(glob) = glob {
                    key.push_str(&format!(" {glob}"));
                }
                key
            }
        }
    }

    /// The components whose settings name this file.
    pub fn components(&self) -> Vec<ComponentKind> {
        let FileRequest::Named(name) = self else {
            return Vec::new();
        };
        match name.split('.').next().unwrap_or_default() {
            "kubelet" => vec![ComponentKind::Kubelet],
            "proxy" => vec![ComponentKind::Proxy],
            "controller_manager" if name.ends_with("kubeconfig") => {
                vec![ComponentKind::ControllerManager]
            }
            "scheduler" if name.ends_with("kubeconfig") => vec![ComponentKind::Scheduler],
            "etcd" if name.ends_with("data_dir") => vec![ComponentKind::Etcd],
            // Manifests live in the kubelet's staticPodPath.
            _ if name.ends_with(".manifest") => vec![ComponentKind::Kubelet],
            _ => Vec::new(),
        }
    }
}
