//! Service-account tokens mounted into the pods on this node.
//!
//! Two views, joined by pod uid: the kubelet's volume directories
//! (`/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~projected/<name>/token`, and legacy secret
//! volumes `kubernetes.io~secret/<sa>-token-<x>/token`), and the running containers' mount tables
//! (a mount at `/var/run/secrets/kubernetes.io/serviceaccount`, from the container facts).
//!
//! A token's content is never read: only whether a file named like a token exists (its
//! directory listing and `lstat`). Nothing here can print a token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::host::containers::{ContainerFacts, KUBELET_PODS_DIR, PodLogDirs};
use crate::host::root::{HostRoot, ReadError};

/// Where the kubelet mounts the token in a container.
pub const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TokenFacts {
    pub pods_dir: PathBuf,
    /// Whether the kubelet's pod directory exists (no directory: no pods ran here).
    pub pods_dir_exists: bool,
    /// Set when the kubelet's pod directory exists but could not be listed.
    pub listing_error: Option<String>,
    /// Pods with a token volume or a container with the token mount, by uid.
    pub pods: Vec<PodTokens>,
    /// Paths under pods that could not be examined.
    pub errors: Vec<String>,
    /// Whether the running containers were examined (their mount tables).
    pub containers_examined: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PodTokens {
    pub uid: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Volume directories holding a token file (host paths).
    pub volumes: Vec<PathBuf>,
    /// Containers (`namespace/pod/container` or runtime id) with the token mounted.
    pub mounted_in: Vec<String>,
}

impl PodTokens {
    /// `namespace/name`, or the uid when the node cannot name the pod.
    pub fn label(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
            (None, Some(name)) => name.clone(),
            _ => format!("pod {}", self.uid),
        }
    }
}

pub fn gather(root: &HostRoot, containers: Option<&ContainerFacts>) -> TokenFacts {
    let pods_dir = PathBuf::from(KUBELET_PODS_DIR);
    let mut facts = TokenFacts {
        pods_dir: pods_dir.clone(),
        containers_examined: containers.is_some(),
        ..Default::default()
    };
    let mut pods: BTreeMap<String, PodTokens> = BTreeMap::new();
    match root.read_dir_names(&pods_dir) {
        Ok(uids) => {
            facts.pods_dir_exists = true;
            for uid in uids {
                let uid = uid.to_string_lossy().into_owned();
                let volumes = token_volumes(root, &pods_dir.join(&uid), &mut facts.errors);
                if !volumes.is_empty() {
                    pods.entry(uid.clone()).or_default().volumes = volumes;
                }
            }
        }
        Err(ReadError::NotFound) => {}
        Err(error) => {
            facts.pods_dir_exists = true;
            facts.listing_error = Some(format!("{} {error}", pods_dir.display()));
        }
    }
    if let Some(containers) = containers {
        for container in &containers.containers {
            let mounted = container.mount_tables.iter().any(|table| {
                table.mounts.value().is_some_and(|mounts| {
                    mounts
                        .iter()
                        .any(|mount| is_token_mount(&mount.mount_point))
                })
            });
            if !mounted {
                continue;
            }
            let uid = container
                .pod_uid
                .clone()
                .unwrap_or_else(|| format!("unknown ({})", container.short_id()));
            let entry = pods.entry(uid).or_default();
            entry.mounted_in.push(container.label());
            if let Some(pod) = &container.pod {
                entry.namespace = entry.namespace.take().or(pod.namespace.clone());
                entry.name = entry.name.take().or(pod.name.clone());
            }
        }
    }
    let logs = PodLogDirs::new(root);
    for (uid, mut pod) in pods {
        if pod.name.is_none()
            && let Some((namespace, name)) = logs.name(&uid)
        {
            pod.namespace = Some(namespace.to_string());
            pod.name = Some(name.to_string());
        }
        pod.uid = uid;
        facts.pods.push(pod);
    }
    facts
}

/// `/var/run/secrets/kubernetes.io/serviceaccount` (or its `/run/...` spelling).
fn is_token_mount(mount_point: &str) -> bool {
    mount_point == SERVICE_ACCOUNT_MOUNT
        || mount_point == SERVICE_ACCOUNT_MOUNT.trim_start_matches("/var")
}

/// The pod's volume directories that hold a token file: projected volumes, and secret volumes
/// named `<serviceaccount>-token-<suffix>` (pre-1.24 token secrets).
fn token_volumes(root: &HostRoot, pod_dir: &Path, errors: &mut Vec<String>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (plugin, name_filter) in [
        ("kubernetes.io~projected", None),
        ("kubernetes.io~secret", Some("-token-")),
    ] {
        let dir = pod_dir.join("volumes").join(plugin);
        let names = match root.read_dir_names(&dir) {
            Ok(names) => names,
            Err(ReadError::NotFound) => continue,
            Err(error) => {
                errors.push(format!("{} {error}", dir.display()));
                continue;
            }
        };
        for name in names {
            let name = name.to_string_lossy();
            if name_filter.is_some_and(|part| !name.contains(part)) {
                continue;
            }
            let volume = dir.join(name.as_ref());
            if has_token_file(root, &volume) {
                found.push(volume);
            }
        }
    }
    found
}

/// A `token` entry (or one whose name ends in `token`), by name only — never opened.
fn has_token_file(root: &HostRoot, volume: &Path) -> bool {
    if root.symlink_metadata(&volume.join("token")).is_ok() {
        return true;
    }
    root.read_dir_names(volume).is_ok_and(|names| {
        names
            .iter()
            .any(|name| name.to_string_lossy().ends_with("token"))
    })
}
