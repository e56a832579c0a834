//! Where the platform changes how a component is found: k3s and MicroK8s run the components
//! inside one process of their own; EKS, GKE and AKS run the control plane themselves; OpenShift's
//! operators run and configure it; RKE2's real processes get the configuration layer that put
//! each flag there. Also which files the file rules mean on each platform, so a kubeadm path is
//! never reported as another distribution's fact.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{ComponentFacts, ComponentKind, ComponentState, k3s, managed, microk8s};
use crate::host::platform::PlatformName;
use crate::host::process::EmbeddedDistribution;
use crate::host::root::HostRoot;

/// The k3s/RKE2 configuration layers, when the platform is one of them.
pub fn read_layers(root: &HostRoot, facts: &ComponentFacts) -> Option<k3s::DistroConfig> {
    let data = k3s::data(facts.platform.name)?;
    let process = embedded(facts, &data.distribution);
    Some(k3s::read_config(root, &data, process))
}

fn embedded<'a>(facts: &'a ComponentFacts, distribution: &str) -> Option<&'a EmbeddedDistribution> {
    facts
        .processes
        .embedded
        .iter()
        .find(|e| e.distribution == distribution)
}

/// The component's state when the platform decides it: `None` to resolve it the usual way
/// (its own process, then its static pod manifest).
pub fn before_resolve(
    root: &HostRoot,
    facts: &ComponentFacts,
    kind: ComponentKind,
    pairs: &BTreeSet<(String, Option<String>)>,
) -> Option<ComponentState> {
    if facts.processes.find(kind).is_some() {
        return None;
    }
    let platform = &facts.platform;
    let control_plane = !matches!(kind, ComponentKind::Kubelet | ComponentKind::Proxy);
    match platform.name {
        PlatformName::K3s => {
            let data = k3s::data(PlatformName::K3s)?;
            let config = facts.distribution_config.as_ref()?;
            let process = embedded(facts, "k3s");
            // A k3s node whose k3s is not running: its components are not running either.
            let Some(process) = process else {
                return Some(ComponentState::NotRunning {
                    reason: format!(
                        "{} runs inside k3s, and no k3s process runs on this node",
                        kind.binary()
                    ),
                });
            };
            Some(k3s::resolve_embedded(
                root,
                &data,
                config,
                Some(process),
                kind,
                pairs,
            ))
        }
        PlatformName::Microk8s => Some(microk8s::resolve(
            root,
            embedded(facts, "microk8s"),
            kind,
            pairs,
        )),
        PlatformName::Eks | PlatformName::Gke | PlatformName::Aks if control_plane => {
            let provider = platform.managed_by().unwrap_or("the cloud provider");
            Some(ComponentState::NotRunning {
                reason: format!(
                    "managed by the provider ({provider}): {} runs in {provider}'s control plane, \
                     not on this node, and is judged with {provider}'s own tools",
                    kind.binary()
                ),
            })
        }
        PlatformName::Eks | PlatformName::Gke | PlatformName::Aks | PlatformName::Openshift
            if kind == ComponentKind::Kubelet =>
        {
            managed::kubelet_from_files(root, platform.name, pairs)
        }
        PlatformName::Openshift if control_plane => Some(ComponentState::NotRunning {
            reason: format!(
                "OpenShift: {} is run and configured by its cluster operator (not from files on \
                 this node), and no {} process runs here; judge it with the OpenShift compliance \
                 operator",
                kind.binary(),
                kind.binary()
            ),
        }),
        _ => None,
    }
}

/// After resolution: on RKE2, each flag of a real process names the configuration layer that put
/// it on the command line.
pub fn after_resolve(facts: &ComponentFacts, state: &mut ComponentState) {
    let ComponentState::Found(component) = state else {
        return;
    };
    if facts.platform.name != PlatformName::Rke2 {
        return;
    }
    let (Some(data), Some(config)) = (
        k3s::data(PlatformName::Rke2),
        facts.distribution_config.as_ref(),
    ) else {
        return;
    };
    k3s::annotate(&data, config, component);
}

/// The platform's own path for a kubeadm path a file rule names, and how it was chosen.
pub fn map_path(facts: &ComponentFacts, path: &str) -> Option<(PathBuf, String)> {
    let platform = facts.platform.name;
    let mapped = match platform {
        PlatformName::K3s | PlatformName::Rke2 => {
            let data = k3s::data(platform)?;
            let config = facts.distribution_config.as_ref()?;
            let mapped = k3s::map_path(&data, config, path)?;
            let mut how = format!("{}'s counterpart of {path}", data.distribution);
            if let Some(mode) = config.get("write-kubeconfig-mode")
                && path.ends_with("admin.conf")
            {
                how.push_str(&format!(
                    " (written with write-kubeconfig-mode {} by {})",
                    mode.value,
                    mode.describe()
                ));
            }
            return Some((PathBuf::from(mapped), how));
        }
        PlatformName::Microk8s => microk8s::map_path(path)?,
        _ => return None,
    };
    Some((
        PathBuf::from(&mapped),
        format!("{}'s counterpart of {path}", platform.as_str()),
    ))
}

/// Kubeadm paths the platform has no counterpart of (`super-admin.conf` on k3s): `true` when the
/// path is dropped rather than looked for.
pub fn drops_path(facts: &ComponentFacts, path: &str) -> bool {
    matches!(
        facts.platform.name,
        PlatformName::K3s | PlatformName::Rke2 | PlatformName::Microk8s
    ) && path == "/etc/kubernetes/super-admin.conf"
}

/// The paths a named file means, whether to walk them, and how they were chosen; or why the
/// platform has no such file.
pub type NamedPaths = Result<(Vec<PathBuf>, bool, String), String>;

/// The named files a platform places differently, or does not have.
pub fn named_file(facts: &ComponentFacts, name: &str) -> Option<NamedPaths> {
    let platform = facts.platform.name;
    match (platform, name) {
        (PlatformName::K3s | PlatformName::Rke2, "kubelet.service") => {
            let data = k3s::data(platform)?;
            Some(Ok((
                data.units.iter().map(PathBuf::from).collect(),
                false,
                format!(
                    "the {} systemd unit: the kubelet is started by {}, not by a kubelet unit",
                    data.distribution, data.distribution
                ),
            )))
        }
        (PlatformName::Microk8s, "kubelet.service") => Some(Ok((
            vec![PathBuf::from(
                "/etc/systemd/system/snap.microk8s.daemon-kubelite.service",
            )],
            false,
            "the MicroK8s kubelite unit: the kubelet runs inside kubelite".into(),
        ))),
        (
            PlatformName::K3s | PlatformName::Microk8s,
            "apiserver.manifest"
            | "controller_manager.manifest"
            | "scheduler.manifest"
            | "etcd.manifest",
        ) => Some(Err(format!(
            "{} runs the control plane inside its own process: there is no static pod manifest",
            platform.as_str()
        ))),
        _ => None,
    }
}

/// Whether a kubeadm default path may stand in for a file on this platform.
pub fn kubeadm_defaults_apply(facts: &ComponentFacts) -> Result<(), String> {
    match facts.platform.name {
        PlatformName::Kubeadm | PlatformName::Generic => Ok(()),
        other => Err(format!(
            "kubeadm's default path is not a fact on {} (platform detected from {})",
            other.as_str(),
            facts.platform.detected_from.join("; ")
        )),
    }
}
