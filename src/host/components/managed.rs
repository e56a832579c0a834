//! The kubelet of a managed cloud's node when no kubelet process runs (an image audited before
//! boot, a kubelet that crashed): the files the node image starts it with, as the image's own
//! unit would pass them.
//!
//! - EKS AL2023 (amazon-eks-ami, nodeadm): `--config=/etc/kubernetes/kubelet/config.json` and
//!   `--config-dir=/etc/kubernetes/kubelet/config.json.d`; EKS AL2 (bootstrap.sh):
//!   `/etc/kubernetes/kubelet/kubelet-config.json`; Bottlerocket: `/etc/kubernetes/kubelet/config`.
//!   All with `/var/lib/kubelet/kubeconfig`.
//! - GKE (COS and Ubuntu, configure-helper.sh): `/home/kubernetes/kubelet-config.yaml`,
//!   `/var/lib/kubelet/kubeconfig`.
//! - AKS (aks-engine/AgentBaker): the flags in `KUBELET_FLAGS` of `/etc/default/kubelet`, and
//!   `--config` in `KUBELET_CONFIG_FILE_FLAGS` when the node uses a config file.
//!
//! - OpenShift (RHCOS, machine-config operator): `--config=/etc/kubernetes/kubelet.conf`.
//!
//! A running kubelet's own command line always wins: this is only read when there is none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{ComponentKind, ComponentState, ConfigFile, Origin, Source};
use crate::host::flags;
use crate::host::platform::PlatformName;
use crate::host::root::HostRoot;

/// The kubelet from the platform's files, or `None` when the platform keeps none.
pub fn kubelet_from_files(
    root: &HostRoot,
    platform: PlatformName,
    pairs: &BTreeSet<(String, Option<String>)>,
) -> Option<ComponentState> {
    let exists = |path: &str| root.symlink_metadata(Path::new(path)).is_ok();
    let (args, from): (Vec<String>, PathBuf) = match platform {
        PlatformName::Eks => {
            let kubeconfig = "--kubeconfig=/var/lib/kubelet/kubeconfig".to_string();
            if exists("/etc/kubernetes/kubelet/config.json") {
                (
                    vec![
                        "--config=/etc/kubernetes/kubelet/config.json".into(),
                        "--config-dir=/etc/kubernetes/kubelet/config.json.d".into(),
                        kubeconfig,
                    ],
                    "/etc/kubernetes/kubelet/config.json".into(),
                )
            } else if exists("/etc/kubernetes/kubelet/kubelet-config.json") {
                (
                    vec![
                        "--config=/etc/kubernetes/kubelet/kubelet-config.json".into(),
                        kubeconfig,
                    ],
                    "/etc/kubernetes/kubelet/kubelet-config.json".into(),
                )
            } else if exists("/etc/kubernetes/kubelet/config") {
                // Bottlerocket renders the kubelet's KubeletConfiguration from its settings here.
                (
                    vec!["--config=/etc/kubernetes/kubelet/config".into(), kubeconfig],
                    "/etc/kubernetes/kubelet/config".into(),
                )
            } else {
                return None;
            }
        }
        PlatformName::Gke if exists("/home/kubernetes/kubelet-config.yaml") => (
            vec![
                "--config=/home/kubernetes/kubelet-config.yaml".into(),
                "--kubeconfig=/var/lib/kubelet/kubeconfig".into(),
            ],
            "/home/kubernetes/kubelet-config.yaml".into(),
        ),
        PlatformName::Aks => {
            let path = PathBuf::from("/etc/default/kubelet");
            let text = root.read_to_string(&path).ok()?;
            let mut args = Vec::new();
            for line in text.lines() {
                let Some((name, value)) = line.trim().split_once('=') else {
                    continue;
                };
                if matches!(name, "KUBELET_FLAGS" | "KUBELET_CONFIG_FILE_FLAGS") {
                    args.extend(value.trim_matches('"').split_whitespace().map(String::from));
                }
            }
            (args, path)
        }
        // OpenShift's machine-config operator writes the kubelet's KubeletConfiguration to
        // /etc/kubernetes/kubelet.conf (not a kubeconfig, as on kubeadm).
        PlatformName::Openshift if exists("/etc/kubernetes/kubelet.conf") => (
            vec![
                "--config=/etc/kubernetes/kubelet.conf".into(),
                "--kubeconfig=/var/lib/kubelet/kubeconfig".into(),
            ],
            "/etc/kubernetes/kubelet.conf".into(),
        ),
        _ => return None,
    };
    let parsed = flags::parse(&args, flags::boolean_flags(ComponentKind::Kubelet.binary()));
    let mut component = super::build(
        root,
        ComponentKind::Kubelet,
        Origin::Manifest { path: from.clone() },
        args.clone(),
        &parsed,
        (Source::Manifest, from.clone()),
        pairs,
    );
    component.files.insert(
        0,
        ConfigFile {
            given: from.display().to_string(),
            path: from.clone(),
            source: Source::Manifest,
            state: format!(
                "no kubelet process runs: read as {}'s node image starts the kubelet",
                platform.as_str()
            ),
        },
    );
    super::apply_defaults(&mut component);
    Some(ComponentState::Found(Box::new(component)))
}
