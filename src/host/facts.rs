//! The facts snapshot: what a run read from the host, serializable for `hardnode facts`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::components::{ComponentFacts, ComponentNeeds};
use super::root::{HostRoot, ReadError};
use crate::seccomp::{Problem, ProfileSummary};

/// One value read from one host path: the value, the path's absence, or why it could not be read.
/// A fact that could not be read is a value too, never a panic and never silently "absent".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Observed<T> {
    Value { path: PathBuf, value: T },
    Absent { path: PathBuf },
    Unreadable { path: PathBuf, error: String },
}

impl<T> Observed<T> {
    /// Reads `path` as text under `root` and converts it.
    pub fn read(root: &HostRoot, path: &Path, convert: impl FnOnce(String) -> T) -> Self {
        match root.read_to_string(path) {
            Ok(text) => Observed::Value {
                path: path.to_path_buf(),
                value: convert(text),
            },
            Err(error) => Observed::from_error(path, error),
        }
    }

    pub fn from_error(path: &Path, error: ReadError) -> Self {
        match error {
            ReadError::NotFound => Observed::Absent {
                path: path.to_path_buf(),
            },
            other => Observed::Unreadable {
                path: path.to_path_buf(),
                error: other.to_string(),
            },
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Observed::Value { path, .. }
            | Observed::Absent { path }
            | Observed::Unreadable { path, .. } => path,
        }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Observed::Value { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn map<U>(self, convert: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Value { path, value } => Observed::Value {
                path,
                value: convert(value),
            },
            Observed::Absent { path } => Observed::Absent { path },
            Observed::Unreadable { path, error } => Observed::Unreadable { path, error },
        }
    }
}

/// What the selected rules need gathered. Built from the rules, so `--only kernel` reads no
/// AppArmor or seccomp files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Kernel build options (`CONFIG_SECCOMP`).
    pub kernel_options: BTreeSet<String>,
    /// Fields of `/proc/1/status` that stand in for kernel options when no config is readable.
    pub status_fields: BTreeSet<String>,
    pub apparmor: bool,
    pub seccomp_profiles: Option<SeccompRequest>,
    /// Kubernetes component settings, files and documents.
    pub components: ComponentNeeds,
    /// The containers running on the node (a walk of `/proc`).
    pub containers: bool,
    /// `/etc/passwd`, `/etc/shadow`, sudoers.
    pub accounts: bool,
    /// `sshd_config` keywords to resolve.
    pub sshd_keywords: BTreeSet<String>,
    /// Kernel parameters (dotted names) to read under `/proc/sys`.
    pub sysctls: BTreeSet<String>,
    /// Container runtime configuration and service-account tokens.
    pub runtime: super::runtime::RuntimeNeeds,
    /// The firewall inputs of the site's `[firewall]` policy, when a rule checks the block.
    pub firewall: Option<super::firewall::Request>,
    /// The static pod manifests (and the Localhost profiles they reference, under this seccomp
    /// root).
    pub static_pods: Option<StaticPodRequest>,
}

/// Where the static pods are, and the kubelet's seccomp root for their Localhost profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticPodRequest {
    pub dir: PathBuf,
    pub seccomp_dir: PathBuf,
}

/// Where the kubelet's seccomp profiles live and which the site requires.
#[derive(Debug, Clone, PartialEq)]
pub struct SeccompRequest {
    pub dir: PathBuf,
    pub required: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub host: HostInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apparmor: Option<AppArmorFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp_profiles: Option<SeccompProfileFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<super::containers::ContainerFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<super::accounts::AccountFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sshd: Option<super::sshd::SshdFacts>,
    /// Dotted name -> the value under `/proc/sys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, Observed<String>>>,
    pub firewall: Option<super::firewall::FirewallFacts>,
    /// hardnode's own capabilities while it read the host (set by the CLI after dropping them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<crate::privilege::Privileges>,
    /// Kubernetes components: processes, resolved settings with their sources, files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<ComponentFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_pods: Option<StaticPodFacts>,
    /// Container runtimes (containerd, CRI-O, Docker) and the tokens mounted into pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<super::runtime::RuntimeFacts>,
}

/// The kubelet's static pod directory: each manifest's text (or why it could not be read), and
/// what the node has of the Localhost profiles they reference.
#[derive(Debug, Clone, Serialize)]
pub struct StaticPodFacts {
    /// The directory the kubelet reads static pods from; `None`: it reads none.
    pub dir: Option<PathBuf>,
    /// Where `dir` came from: the running kubelet's staticPodPath, or kubeadm's default.
    pub dir_source: String,
    /// The manifests (absent when `dir` is `None`).
    pub manifests: Observed<Vec<crate::manifest::Input>>,
    pub profiles: super::manifests::NodeProfiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    pub hostname: Observed<String>,
    pub os: Observed<String>,
    pub kernel_release: Observed<String>,
    pub root: PathBuf,
    /// The distribution this node belongs to, with the evidence it was detected from.
    pub platform: super::platform::Platform,
}

/// The kernel build configuration, from the first source that could be used.
#[derive(Debug, Clone, Serialize)]
pub struct KernelFacts {
    /// The config file used, if any could be.
    pub config_source: Option<PathBuf>,
    /// The requested options: `Some("y")`, `Some("m")`, or `None` for "not set".
    pub options: BTreeMap<String, Option<String>>,
    /// Every source tried before (or instead of) the one used, with why it was passed over.
    pub tried: Vec<TriedSource>,
    /// The requested `/proc/1/status` fields (the fallback when no config is readable).
    pub status_fields: BTreeMap<String, Observed<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriedSource {
    pub path: PathBuf,
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppArmorFacts {
    /// Whether a sysfs is there to read under the root (`/sys/kernel` or `/sys/module` is a
    /// directory). Without it — a DaemonSet that did not mount `/sys`, a partial copy — the
    /// absence of `/sys/module/apparmor` says nothing about the kernel.
    pub sysfs_present: bool,
    /// `/sys/module/apparmor` exists: the kernel has AppArmor built in.
    pub module_present: bool,
    /// `/sys/module/apparmor/parameters/enabled` (`Y` / `N`).
    pub enabled: Observed<String>,
    /// `/sys/kernel/security/lsm`: the active LSMs, in order.
    pub lsm: Observed<Vec<String>>,
    /// `/sys/kernel/security/apparmor/profiles`.
    pub profiles: Observed<ProfileList>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProfileList {
    pub profiles: Vec<LoadedProfile>,
    /// Lines that are not `name (mode)`, kept so they are visible rather than dropped.
    pub odd_lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedProfile {
    pub name: String,
    pub mode: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeccompProfileFacts {
    /// The seccomp root (host path).
    pub dir: PathBuf,
    /// Every `*.json` under it, or why the directory could not be listed.
    pub listing: Observed<Vec<ProfileFile>>,
    /// The site's required profiles, each read explicitly (a required file need not end in .json).
    pub required: Vec<ProfileFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileFile {
    /// Host path of the file.
    pub path: PathBuf,
    /// Path relative to the seccomp root, as a pod's `localhostProfile` names it.
    pub name: String,
    pub verdict: ProfileVerdict,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProfileVerdict {
    Valid { summary: ProfileSummary },
    Invalid { problems: Vec<Problem> },
    Unreadable { error: String },
    Missing,
}
