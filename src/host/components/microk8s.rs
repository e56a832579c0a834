//! MicroK8s: one `kubelite` process runs the kubelet, kube-apiserver, kube-controller-manager,
//! kube-scheduler and kube-proxy, each with the flags of the args file its command line names
//! (`--kubelet-args-file=/var/snap/microk8s/<rev>/args/kubelet`). An args file holds one flag per
//! line, `#` starts a comment, and `${SNAP}`/`${SNAP_DATA}`/`${SNAP_COMMON}` are the snap's
//! revision directories (snapd's environment of the process; else the revision in the program's
//! path; else `current`). Cluster state is in dqlite (k8s-dqlite), not etcd.
//!
//! Modelled on MicroK8s 1.28–1.31 (snap `microk8s`, `snap/hooks` and `microk8s-resources/default-args`):
//! the layout is documented at <https://microk8s.io/docs/services-and-ports> and
//! <https://microk8s.io/docs/configuring-services>.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{ComponentKind, ComponentState, ConfigFile, Origin, Source};
use crate::host::flags;
use crate::host::platform::flag_value;
use crate::host::process::EmbeddedDistribution;
use crate::host::root::{HostRoot, ReadError};

/// The snap's directories when nothing more precise is known.
const SNAP_CURRENT: &str = "/snap/microk8s/current";
const SNAP_DATA_CURRENT: &str = "/var/snap/microk8s/current";
const SNAP_COMMON: &str = "/var/snap/microk8s/common";

/// The kubelite flag naming each component's args file, and the file's usual name.
fn args_file_flag(kind: ComponentKind) -> Option<(&'static str, &'static str)> {
    match kind {
        ComponentKind::Kubelet => Some(("kubelet-args-file", "kubelet")),
        ComponentKind::Apiserver => Some(("apiserver-args-file", "kube-apiserver")),
        ComponentKind::ControllerManager => {
            Some(("controller-manager-args-file", "kube-controller-manager"))
        }
        ComponentKind::Scheduler => Some(("scheduler-args-file", "kube-scheduler")),
        ComponentKind::Proxy => Some(("proxy-args-file", "kube-proxy")),
        ComponentKind::Etcd => None,
    }
}

/// The snap's `SNAP`, `SNAP_DATA` and `SNAP_COMMON` for the kubelite process, and where they
/// came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapDirs {
    pub snap: String,
    pub snap_data: String,
    pub snap_common: String,
    pub how: String,
}

pub fn snap_dirs(root: &HostRoot, process: Option<&EmbeddedDistribution>) -> SnapDirs {
    let mut dirs = SnapDirs {
        snap: SNAP_CURRENT.into(),
        snap_data: SNAP_DATA_CURRENT.into(),
        snap_common: SNAP_COMMON.into(),
        how: "the snap's `current` revision".into(),
    };
    let Some(process) = process else {
        return dirs;
    };
    let environ = PathBuf::from(format!("/proc/{}/environ", process.pid));
    if let Ok(bytes) = root.read_capped(&environ, 1024 * 1024) {
        let mut found = false;
        for entry in bytes.split(|&b| b == 0) {
            let text = String::from_utf8_lossy(entry);
            match text.split_once('=') {
                Some(("SNAP", value)) => {
                    dirs.snap = value.to_string();
                    found = true;
                }
                Some(("SNAP_DATA", value)) => {
                    dirs.snap_data = value.to_string();
                    found = true;
                }
                Some(("SNAP_COMMON", value)) => dirs.snap_common = value.to_string(),
                _ => {}
            }
        }
        if found {
            dirs.how = format!("the environment of kubelite ({})", environ.display());
            return dirs;
        }
    }
    // `/snap/microk8s/<revision>/kubelite`: the revision names both directories.
    let exe = PathBuf::from(format!("/proc/{}/exe", process.pid));
    if let Ok(target) = root.read_link(&exe) {
        let text = target
            .to_string_lossy()
            .trim_end_matches(" (deleted)")
            .to_string();
        if let Some(revision) = text
            .strip_prefix("/snap/microk8s/")
            .and_then(|rest| rest.split('/').next())
            .filter(|rev| !rev.is_empty())
        {
            dirs.snap = format!("/snap/microk8s/{revision}");
            dirs.snap_data = format!("/var/snap/microk8s/{revision}");
            dirs.how = format!(
                "the revision {revision} of kubelite's program ({})",
                exe.display()
            );
        }
    }
    dirs
}

/// `${SNAP}`, `$SNAP_DATA` … replaced by the snap's directories; other text kept.
pub fn expand(text: &str, dirs: &SnapDirs) -> String {
    let mut out = text.to_string();
    // Longest names first, so `$SNAP_DATA` is not read as `$SNAP` + `_DATA`.
    for (name, value) in [
        ("SNAP_COMMON", &dirs.snap_common),
        ("SNAP_DATA", &dirs.snap_data),
        ("SNAP", &dirs.snap),
    ] {
        out = out.replace(&format!("${{{name}}}"), value);
        out = out.replace(&format!("${name}"), value);
    }
    out
}

/// The flags of an args file: one per line (`--flag=value` or `--flag value`), `#` comments and
/// blank lines skipped, the snap's variables expanded. Each flag with its line number.
pub fn parse_args_file(text: &str, dirs: &SnapDirs) -> Vec<(String, usize)> {
    let mut args = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in expand(line, dirs).split_whitespace() {
            args.push((word.trim_matches('"').to_string(), index + 1));
        }
    }
    args
}

/// One component of kubelite, from its args file.
pub fn resolve(
    root: &HostRoot,
    process: Option<&EmbeddedDistribution>,
    kind: ComponentKind,
    pairs: &BTreeSet<(String, Option<String>)>,
) -> ComponentState {
    let dirs = snap_dirs(root, process);
    let Some((flag, file_name)) = args_file_flag(kind) else {
        return ComponentState::NotRunning {
            reason: format!(
                "MicroK8s keeps cluster state in dqlite (k8s-dqlite, {}/var/kubernetes/backend), \
                 not etcd: the etcd rules do not apply",
                dirs.snap_data
            ),
        };
    };
    let control_plane = !matches!(kind, ComponentKind::Kubelet | ComponentKind::Proxy);
    if let Some(process) = process
        && control_plane
        && flag_value(&process.args, "start-control-plane").as_deref() == Some("false")
    {
        return ComponentState::NotRunning {
            reason: format!(
                "kubelite (pid {}) runs with --start-control-plane=false: this MicroK8s node is a \
                 worker, {} does not run here",
                process.pid,
                kind.binary()
            ),
        };
    }
    let (given, how) = match process.and_then(|p| flag_value(&p.args, flag)) {
        Some(given) => (given, format!("--{flag} of kubelite")),
        None => (
            format!("{}/args/{file_name}", dirs.snap_data),
            format!(
                "the default args file ({} not on kubelite's command line)",
                flag
            ),
        ),
    };
    let path = PathBuf::from(expand(&given, &dirs));
    let origin = match process {
        Some(process) => Origin::Embedded {
            distribution: "microk8s".into(),
            pid: process.pid,
        },
        None => Origin::Manifest { path: path.clone() },
    };
    let text = match root.read_to_string(&path) {
        Ok(text) => text,
        Err(ReadError::NotFound) if process.is_none() => {
            return ComponentState::NotRunning {
                reason: format!(
                    "kubelite is not running and {} does not exist",
                    path.display()
                ),
            };
        }
        Err(error) => {
            let message = format!("{} ({how}) {error}", path.display());
            let component = super::Component {
                kind,
                origin,
                args: Vec::new(),
                files: vec![ConfigFile {
                    given,
                    path,
                    source: Source::Flag,
                    state: error.to_string(),
                }],
                settings: Default::default(),
                warnings: Vec::new(),
                config_error: Some(message),
                static_pod_manifest: None,
            };
            return ComponentState::Found(Box::new(component));
        }
    };
    let lines = parse_args_file(&text, &dirs);
    let argv: Vec<String> = lines.iter().map(|(arg, _)| arg.clone()).collect();
    let parsed = flags::parse(&argv, flags::boolean_flags(kind.binary()));
    let mut component = super::build(
        root,
        kind,
        origin,
        argv.clone(),
        &parsed,
        (Source::Flag, path.clone()),
        pairs,
    );
    // Each flag's evidence says which line of the args file set it.
    for setting in component.settings.values_mut() {
        if setting.source != Source::Flag || setting.path.as_deref() != Some(path.as_path()) {
            continue;
        }
        let flag = setting
            .detail
            .strip_prefix("--")
            .and_then(|rest| rest.split('=').next())
            .unwrap_or_default()
            .to_string();
        if let Some((_, line)) = lines
            .iter()
            .rev()
            .find(|(arg, _)| arg.trim_start_matches('-').split('=').next() == Some(flag.as_str()))
        {
            setting.detail.push_str(&format!(
                " (line {line} of the args file; ${{SNAP_DATA}} = {}, from {})",
                dirs.snap_data, dirs.how
            ));
        }
    }
    component.files.insert(
        0,
        ConfigFile {
            given,
            path,
            source: Source::Flag,
            state: "ok".into(),
        },
    );
    super::apply_authorization_config(root, &mut component);
    super::apply_component_config(root, &mut component);
    super::apply_defaults(&mut component);
    ComponentState::Found(Box::new(component))
}

/// MicroK8s's counterpart of a kubeadm path the CIS rules name.
pub fn map_path(path: &str) -> Option<String> {
    match path {
        "/etc/kubernetes/admin.conf" => {
            Some(format!("{SNAP_DATA_CURRENT}/credentials/client.config"))
        }
        "/etc/kubernetes/pki" => Some(format!("{SNAP_DATA_CURRENT}/certs")),
        "/etc/containerd/config.toml" => Some(format!("{SNAP_DATA_CURRENT}/args/containerd.toml")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> SnapDirs {
        SnapDirs {
            snap: "/snap/microk8s/6089".into(),
            snap_data: "/var/snap/microk8s/6089".into(),
            snap_common: SNAP_COMMON.into(),
            how: "test".into(),
        }
    }

    #[test]
    fn args_files_expand_the_snap_directories_and_skip_comments() {
        let text = "# comment\n--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n\n--cert-dir $SNAP_DATA/certs\n--root=${SNAP}/x\n";
        let args = parse_args_file(text, &dirs());
        assert_eq!(
            args,
            vec![
                (
                    "--kubeconfig=/var/snap/microk8s/6089/credentials/kubelet.config".to_string(),
                    2
                ),
                ("--cert-dir".into(), 4),
                ("/var/snap/microk8s/6089/certs".into(), 4),
                ("--root=/snap/microk8s/6089/x".into(), 5),
            ]
        );
    }
}
