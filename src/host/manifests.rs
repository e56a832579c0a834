//! Reading manifests: the files and directories a user names for `hardnode manifest scan`
//! (through the live root, with the same capped, non-blocking reads as host files), the kubelet's
//! static pod directory under the host root, and the Localhost profiles manifests reference.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::components::{ComponentFacts, ComponentKind};
use super::facts::{Observed, StaticPodFacts, StaticPodRequest};
use super::root::{DEFAULT_READ_CAP, HostRoot, ReadError};
use serde::Serialize;

use super::facts::{AppArmorFacts, ProfileFile};
use crate::manifest::Input;
use crate::manifest::profiles::{ProfileKind, ProfileRef};
use crate::manifest::yaml::MAX_MANIFEST_BYTES;

/// The directory kubeadm's kubelet reads static pods from (`staticPodPath`).
pub const STATIC_POD_DIR: &str = "/etc/kubernetes/manifests";

const MAX_DEPTH: usize = 16;
const MAX_FILES: usize = 10_000;

/// The manifest extensions a directory scan picks up.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads the named files; a directory contributes its `*.yaml`, `*.yml` and `*.json` files,
/// recursively, in name order. Relative names are relative to `cwd`. A name that cannot be
/// read becomes an input with the error, so the caller reports it and goes on.
pub fn read_inputs(names: &[PathBuf], cwd: &Path) -> Vec<Input> {
    let live = match HostRoot::new("/") {
        Ok(root) => root,
        Err(error) => {
            return names
                .iter()
                .map(|name| Input {
                    name: name.display().to_string(),
                    text: Err(format!("cannot open /: {error}")),
                })
                .collect();
        }
    };
    let mut inputs = Vec::new();
    for name in names {
        let absolute = cwd.join(name);
        if live.metadata(&absolute).is_ok_and(|meta| meta.is_dir()) {
            let before = inputs.len();
            walk(&live, &absolute, name, 0, &mut inputs);
            if inputs.len() == before {
                inputs.push(Input {
                    name: name.display().to_string(),
                    text: Err("directory holds no *.yaml, *.yml or *.json file".into()),
                });
            }
        } else {
            inputs.push(read_one(&live, &absolute, name));
        }
    }
    inputs
}

fn read_one(root: &HostRoot, path: &Path, shown: &Path) -> Input {
    let text = match root.read_capped(path, MAX_MANIFEST_BYTES) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string()),
        Err(error) => Err(error.to_string()),
    };
    Input {
        name: shown.display().to_string(),
        text,
    }
}

fn walk(root: &HostRoot, dir: &Path, shown: &Path, depth: usize, inputs: &mut Vec<Input>) {
    let names: Vec<OsString> = match root.read_dir_names(dir) {
        Ok(names) => names,
        Err(error) => {
            inputs.push(Input {
                name: shown.display().to_string(),
                text: Err(format!("directory cannot be listed: {error}")),
            });
            return;
        }
    };
    for name in names {
        if inputs.len() >= MAX_FILES || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        let shown = shown.join(&name);
        let is_dir = root.symlink_metadata(&path).is_ok_and(|meta| meta.is_dir());
        if is_dir {
            if depth < MAX_DEPTH {
                walk(root, &path, &shown, depth + 1, inputs);
            }
        } else if Path::new(&name)
            .extension()
            .is_some_and(|ext| EXTENSIONS.iter().any(|known| ext == *known))
        {
            inputs.push(read_one(root, &path, &shown));
        }
    }
}

/// The static pod manifests: every regular file in the directory whose name does not start
/// with a dot, as the kubelet reads them (it does not recurse, and ignores the extension).
/// Each input is named by its host path.
pub fn static_pods(root: &HostRoot, dir: &Path) -> Observed<Vec<Input>> {
    let names = match root.read_dir_names(dir) {
        Ok(names) => names,
        Err(error) => return Observed::from_error(dir, error),
    };
    let mut inputs = Vec::new();
    for name in names {
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        if root.metadata(&path).is_ok_and(|meta| meta.is_dir()) {
            continue;
        }
        let text = match root.read_capped(&path, DEFAULT_READ_CAP) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string()),
            Err(ReadError::NotFound) => Err("dangling symlink: does not exist".into()),
            Err(error) => Err(error.to_string()),
        };
        inputs.push(Input {
            name: path.display().to_string(),
            text,
        });
    }
    Observed::Value {
        path: dir.to_path_buf(),
        value: inputs,
    }
}

/// What a node has, as far as the references need it (gathered by `host::manifests`).
#[derive(Debug, Clone, Serialize)]
pub struct NodeProfiles {
    /// The kubelet's seccomp root (host path).
    pub seccomp_dir: PathBuf,
    /// Each referenced seccomp profile, read and validated.
    pub seccomp: Vec<ProfileFile>,
    /// The node's AppArmor state, when any AppArmor profile is referenced.
    pub apparmor: Option<AppArmorFacts>,
}

/// What the node has for these references: each seccomp profile read and validated under the
/// kubelet's seccomp root, and the AppArmor state when an AppArmor profile is referenced.
pub fn node_profiles(root: &HostRoot, seccomp_dir: &Path, refs: &[ProfileRef]) -> NodeProfiles {
    let mut seccomp: Vec<_> = Vec::new();
    for reference in refs.iter().filter(|r| r.kind == ProfileKind::Seccomp) {
        if seccomp
            .iter()
            .any(|file: &super::facts::ProfileFile| file.name == reference.name)
        {
            continue;
        }
        let mut file =
            super::seccomp_profiles::read_profile(root, seccomp_dir, Path::new(&reference.name));
        // The name as the manifest spells it, so the cross-check finds it again.
        file.name = reference.name.clone();
        seccomp.push(file);
    }
    let apparmor = refs
        .iter()
        .any(|r| r.kind == ProfileKind::AppArmor)
        .then(|| super::apparmor::gather(root));
    NodeProfiles {
        seccomp_dir: seccomp_dir.to_path_buf(),
        seccomp,
        apparmor,
    }
}

/// The kubelet setting (and flag) naming its static pod directory.
pub const STATIC_POD_PATH_KEY: &str = "staticPodPath";
pub const STATIC_POD_PATH_FLAG: &str = "--pod-manifest-path";

/// Where the kubelet reads static pods from: its resolved staticPodPath when it runs here, else
/// kubeadm's default. `None` when the running kubelet has no staticPodPath (it runs none).
fn static_pod_dir(
    request: &StaticPodRequest,
    components: Option<&ComponentFacts>,
) -> (Option<PathBuf>, String) {
    let kubelet = components.and_then(|facts| facts.component(ComponentKind::Kubelet));
    match kubelet {
        Some(kubelet) => match kubelet.host_path(STATIC_POD_PATH_KEY) {
            Some(dir) => (Some(dir), "the running kubelet's staticPodPath".into()),
            None if kubelet.config_error.is_none() => (
                None,
                "the running kubelet sets no staticPodPath (--pod-manifest-path): it runs no static pods"
                    .into(),
            ),
            None => (
                Some(request.dir.clone()),
                "kubeadm's default: the kubelet's config could not be read".into(),
            ),
        },
        None => (
            Some(request.dir.clone()),
            "kubeadm's default (no running kubelet found)".into(),
        ),
    }
}

/// The static pods and the Localhost profiles they reference, for `manifests.static-pods`.
/// Parsing here only finds which profiles to read; the verdicts are the engine's.
pub fn gather_static_pods(
    root: &HostRoot,
    request: &StaticPodRequest,
    components: Option<&ComponentFacts>,
) -> StaticPodFacts {
    let (dir, dir_source) = static_pod_dir(request, components);
    let manifests = match &dir {
        Some(dir) => static_pods(root, dir),
        None => Observed::Absent {
            path: request.dir.clone(),
        },
    };
    let refs: Vec<ProfileRef> = match &manifests {
        Observed::Value { value, .. } => {
            let (workloads, _, _) =
                crate::manifest::collect(value, crate::manifest::SeccompAnnotations::Ignored);
            workloads
                .iter()
                .flat_map(|(_, workload)| crate::manifest::profiles::references(workload))
                .collect()
        }
        _ => Vec::new(),
    };
    StaticPodFacts {
        dir,
        dir_source,
        manifests,
        profiles: node_profiles(root, &request.seccomp_dir, &refs),
    }
}
