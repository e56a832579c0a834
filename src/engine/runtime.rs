//! The `runtime.*` checks: whether the container runtime applies AppArmor and seccomp, how its
//! cgroup driver matches the kubelet's, Docker's daemon settings, and the service-account tokens
//! mounted into pods. Every verdict names the file, the key and the line behind it, or says that
//! the runtime's built-in default applies (and what it is).

use std::path::PathBuf;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::{ComponentKind, RuntimeCheck};
use crate::host::Facts;
use crate::host::facts::ProfileVerdict;
use crate::host::runtime::config::Leaf;
use crate::host::runtime::{ConfigState, RuntimeConfig, containerd_cri_prefix};

/// The kubelet setting `runtime.containerd-cgroup` cross-checks, and its flag.
pub const KUBELET_CGROUP_DRIVER: &str = "cgroupDriver";
pub const KUBELET_CGROUP_DRIVER_FLAG: &str = "--cgroup-driver";

/// CRI-O's `default_capabilities` default (since 1.18).
const CRIO_DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "KILL",
];

pub fn evaluate(check: RuntimeCheck, facts: &Facts, policy: &crate::config::Policy) -> Outcome {
    let Some(runtime) = &facts.runtime else {
        return not_gathered();
    };
    if check == RuntimeCheck::ServiceAccountTokens {
        let firewall = match (&policy.firewall, &facts.firewall) {
            (Some(_), Some(firewall)) => Some(super::firewall::apiserver_blocked(firewall)),
            _ => None,
        };
        let running = facts.containers.as_ref().map(|containers| {
            containers
                .containers
                .iter()
                .filter(|container| !container.sandbox)
                .count()
        });
        return match &runtime.tokens {
            Some(tokens) => service_account_tokens(tokens, firewall, running),
            None => not_gathered(),
        };
    }
    let (config, name) = match check.runtime() {
        "containerd" => (&runtime.containerd, "containerd"),
        "crio" => (&runtime.crio, "crio"),
        _ => (&runtime.docker, "dockerd"),
    };
    let Some(config) = config else {
        return not_gathered();
    };
    if !config.present() {
        return Outcome::new(Verdict::NotApplicable(format!(
            "{name} is not running on this node and {} does not exist",
            config.main.display()
        )));
    }
    if let ConfigState::Invalid { error } = &config.state {
        return with_semantics(
            Outcome::undecided(error.clone()).evidence(files_evidence(config, name)),
            config,
        );
    }
    if name == "containerd"
        && let Some(disabled) = cri_disabled(config)
    {
        return with_semantics(
            Outcome::new(Verdict::NotApplicable(format!(
                "containerd's CRI plugin is disabled ({}): containerd serves no kubelet here, so its CRI settings do not apply",
                disabled.describe()
            )))
            .evidence(files_evidence(config, name)),
            config,
        );
    }
    let outcome = match check {
        RuntimeCheck::ContainerdAppArmor => containerd_apparmor(config),
        RuntimeCheck::ContainerdSeccomp => containerd_seccomp(config),
        RuntimeCheck::ContainerdCgroup => containerd_cgroup(config, facts),
        RuntimeCheck::ContainerdUnprivileged => containerd_unprivileged(config),
        RuntimeCheck::CrioAppArmor => crio_apparmor(config),
        RuntimeCheck::CrioSeccomp => crio_seccomp(config),
        RuntimeCheck::CrioSelinux => crio_selinux(config),
        RuntimeCheck::CrioCapabilities => crio_capabilities(config),
        RuntimeCheck::DockerTcpTls => docker_tcp_tls(config),
        RuntimeCheck::DockerInsecureRegistries => docker_insecure_registries(config),
        docker => docker_setting(docker, config),
    };
    let mut outcome = outcome;
    outcome.evidence.insert(0, files_evidence(config, name));
    if let Some(semantics) = &config.semantics {
        outcome
            .evidence
            .insert(1, Evidence::new("package", None, semantics.clone()));
    }
    for warning in &config.warnings {
        outcome = outcome.evidence(Evidence::new("config-file", None, warning.clone()));
    }
    outcome
}

fn not_gathered() -> Outcome {
    Outcome::undecided("runtime facts were not gathered (a bug: please report it)")
}

/// Which daemon runs and which files were merged, in order.
fn files_evidence(config: &RuntimeConfig, name: &str) -> Evidence {
    let daemon = match &config.process {
        Some(process) => format!("{name} runs (pid {})", process.pid),
        None => format!("{name} is not running (configured here)"),
    };
    let files = match &config.state {
        ConfigState::Absent => format!(
            "no config file at {} ({}): the built-in defaults apply",
            config.main.display(),
            config.how
        ),
        _ if config.files.is_empty() => format!("{} ({})", config.main.display(), config.how),
        _ => format!(
            "config {} ({}){}",
            config
                .files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            config.how,
            config
                .version
                .map(|v| format!(", version {v}"))
                .unwrap_or_default()
        ),
    };
    Evidence::new(
        "process",
        config
            .process
            .as_ref()
            .map(|p| PathBuf::from(format!("/proc/{}/cmdline", p.pid))),
        format!("{daemon}; {files}"),
    )
}

/// Evidence for a leaf: the file, the key, the line.
fn leaf_evidence(leaf: &Leaf) -> Evidence {
    let source = if leaf.line == 0 {
        "flag"
    } else {
        "config-file"
    };
    Evidence::new(source, Some(leaf.path.clone()), leaf.describe())
}

/// Evidence that a key is unset and what the runtime's default is.
fn default_evidence(config: &RuntimeConfig, key: &str, default: &str) -> Evidence {
    let place = if config.files.is_empty() {
        "no config file".to_string()
    } else {
        format!(
            "not set in {}",
            config
                .files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Evidence::new("default", None, format!("{key}: {place}; {default}"))
}

/// The version whose plugin names the settings use (containerd's default config is version 2
/// for 1.x and 3 for 2.x; with no file there are no keys to name, so 2 is used for display).
fn containerd_version(config: &RuntimeConfig) -> i64 {
    config.effective_version.or(config.version).unwrap_or(2)
}

/// Adds which containerd version's configuration semantics were applied, where known.
fn with_semantics(outcome: Outcome, config: &RuntimeConfig) -> Outcome {
    match &config.semantics {
        Some(semantics) => outcome.evidence(Evidence::new("package", None, semantics.clone())),
        None => outcome,
    }
}

/// The `disabled_plugins` entry that turns the CRI plugin off (its id for the config version,
/// or the short `cri` of version 1 files), if any.
fn cri_disabled(config: &RuntimeConfig) -> Option<&Leaf> {
    let leaf = config.settings.get("disabled_plugins")?;
    let ids = [
        "io.containerd.grpc.v1.cri",
        "cri",
        "io.containerd.cri.v1.runtime",
    ];
    leaf.value
        .as_array()?
        .iter()
        .any(|id| id.as_str().is_some_and(|id| ids.contains(&id)))
        .then_some(leaf)
}

/// The major version of the containerd that runs, when the package database names it.
fn daemon_major(config: &RuntimeConfig) -> Option<u32> {
    config.daemon_version.as_ref().map(|daemon| daemon.major)
}

fn cri_key(config: &RuntimeConfig, name: &str) -> String {
    format!(
        "{}.{name}",
        containerd_cri_prefix(containerd_version(config))
    )
}

fn containerd_apparmor(config: &RuntimeConfig) -> Outcome {
    let key = cri_key(config, "disable_apparmor");
    let base = Outcome::new(Verdict::Met).expected(format!("{key} is not true"));
    match config.settings.get(&key) {
        Some(leaf) => match leaf.as_bool() {
            Some(true) => Outcome {
                verdict: Verdict::NotMet,
                ..base
            }
            .actual(format!(
                "disable_apparmor = true at {}:{}",
                leaf.path.display(),
                leaf.line
            ))
            .reason(
                "containerd runs every container without AppArmor, whatever the pod spec asks for",
            )
            .evidence(leaf_evidence(leaf)),
            Some(false) => base
                .actual("disable_apparmor = false")
                .evidence(leaf_evidence(leaf)),
            None => Outcome::undecided(format!("{} is not a boolean", leaf.describe())),
        },
        None => base
            .actual("not set (default false)")
            .evidence(default_evidence(
                config,
                &key,
                "containerd's default is false: AppArmor is applied where the host has it",
            )),
    }
}

/// How a runtime's seccomp setting that names a profile file fares.
fn judge_profile(config: &RuntimeConfig, leaf: &Leaf, path: &str, base: Outcome) -> Outcome {
    let Some(file) = config.profile(std::path::Path::new(path)) else {
        return Outcome::undecided(format!("{path} was not examined (a bug)"));
    };
    let base = base.evidence(leaf_evidence(leaf));
    match &file.verdict {
        ProfileVerdict::Valid { summary } if summary.deny_list => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual(format!("{path}: allow-all (defaultAction {})", summary.default_action))
        .reason("the profile allows every syscall it does not name: the runtime's seccomp protection is overridden")
        .evidence(Evidence::new(
            "file",
            Some(file.path.clone()),
            "defaultAction SCMP_ACT_ALLOW: a deny-list profile",
        )),
        ProfileVerdict::Valid { summary } => base
            .actual(format!("{path}: allow-list ({} syscall rules)", summary.syscall_rules))
            .evidence(Evidence::new(
                "file",
                Some(file.path.clone()),
                format!("valid, defaultAction {}", summary.default_action),
            )),
        ProfileVerdict::Invalid { problems } => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual(format!("{path}: invalid profile"))
        .reason(format!(
            "the profile is invalid: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
        ProfileVerdict::Missing => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual(format!("{path}: does not exist"))
        .reason("the profile the runtime is told to use does not exist"),
        ProfileVerdict::Unreadable { error } => {
            Outcome::undecided(format!("{path} {error}")).evidence(leaf_evidence(leaf))
        }
    }
}

fn containerd_seccomp(config: &RuntimeConfig) -> Outcome {
    let key = cri_key(config, "unset_seccomp_profile");
    let base = Outcome::new(Verdict::Met).expected(
        "unset_seccomp_profile is empty, runtime/default or an allow-list profile (never unconfined or allow-all)",
    );
    let Some(leaf) = config.settings.get(&key) else {
        return base.actual("not set").evidence(default_evidence(
            config,
            &key,
            "a pod asking for no profile gets what the kubelet sends (seccompDefault); RuntimeDefault is containerd's built-in profile",
        ));
    };
    let Some(value) = leaf.as_str() else {
        return Outcome::undecided(format!("{} is not a string", leaf.describe()));
    };
    match value {
        "" | "runtime/default" | "docker/default" => base
            .actual(format!("unset_seccomp_profile = {value:?}"))
            .evidence(leaf_evidence(leaf)),
        "unconfined" => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual("unset_seccomp_profile = \"unconfined\"")
        .reason("containers whose pod names no seccomp profile run without one")
        .evidence(leaf_evidence(leaf)),
        path if path.starts_with('/') => judge_profile(config, leaf, path, base),
        other => Outcome::undecided(format!(
            "{}: {other:?} is not a profile containerd knows (runtime/default, unconfined or an absolute path)",
            leaf.describe()
        )),
    }
}

fn containerd_cgroup(config: &RuntimeConfig, facts: &Facts) -> Outcome {
    let version = containerd_version(config);
    let runtime_key = cri_key(config, "containerd.default_runtime_name");
    let runtime_leaf = config.settings.get(&runtime_key);
    let runtime_name = runtime_leaf
        .and_then(Leaf::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or("runc")
        .to_string();
    let mut key = cri_key(
        config,
        &format!(
            "containerd.runtimes.{}.options.SystemdCgroup",
            crate::host::runtime::config::key_segment(&runtime_name)
        ),
    );
    let mut leaf = config.settings.get(&key);
    if leaf.is_none() && version <= 1 {
        // containerd 1.x's version-1 layout: one switch for the whole CRI plugin.
        let legacy = cri_key(config, "systemd_cgroup");
        if let Some(found) = config.settings.get(&legacy) {
            key = legacy;
            leaf = Some(found);
        }
    }
    let (systemd, containerd_text, mut evidence) = match leaf {
        Some(found) => match found.as_bool() {
            Some(value) => (value, found.describe(), vec![leaf_evidence(found)]),
            None => return Outcome::undecided(format!("{} is not a boolean", found.describe())),
        },
        None => (
            false,
            format!("{key} not set (containerd default false: cgroupfs)"),
            vec![default_evidence(
                config,
                &key,
                "containerd's default is false: runc manages cgroups directly (cgroupfs)",
            )],
        ),
    };
    if let Some(found) = runtime_leaf {
        evidence.push(leaf_evidence(found));
    }
    let containerd_driver = if systemd { "systemd" } else { "cgroupfs" };
    let kubelet = facts
        .components
        .as_ref()
        .and_then(|components| components.component(ComponentKind::Kubelet));
    let Some(kubelet) = kubelet else {
        let reason = facts
            .components
            .as_ref()
            .and_then(|c| match c.components.get(&ComponentKind::Kubelet) {
                Some(crate::host::components::ComponentState::NotRunning { reason }) => {
                    Some(reason.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| "the kubelet is not running on this node".into());
        return Outcome::new(Verdict::NotApplicable(format!(
            "{reason}: nothing to cross-check containerd's cgroup driver ({containerd_text}) against"
        )));
    };
    if let Some(error) = &kubelet.config_error {
        return Outcome::undecided(format!(
            "the kubelet's cgroupDriver cannot be decided: {error}"
        ));
    }
    let (kubelet_driver, kubelet_text) = match kubelet
        .setting(KUBELET_CGROUP_DRIVER, Some(KUBELET_CGROUP_DRIVER_FLAG))
    {
        Some(setting) => {
            let from = setting
                .path
                .as_ref()
                .map(|p| format!(" in {}", p.display()))
                .unwrap_or_default();
            evidence.push(Evidence::new(
                setting.source.as_str(),
                setting.path.clone(),
                format!("kubelet {}", setting.detail),
            ));
            (
                setting.value.to_string(),
                format!(
                    "kubelet cgroupDriver = {} ({}{from})",
                    setting.value,
                    setting.source.as_str()
                ),
            )
        }
        None => {
            evidence.push(Evidence::new(
                    "default",
                    None,
                    "kubelet cgroupDriver: not set by --cgroup-driver or the config file; kubelet default cgroupfs",
                ));
            (
                "cgroupfs".to_string(),
                "kubelet cgroupDriver = cgroupfs (default)".to_string(),
            )
        }
    };
    let mut outcome = Outcome::new(Verdict::Met)
        .expected(format!(
            "SystemdCgroup for the {runtime_name} runtime matches the kubelet's cgroupDriver"
        ))
        .actual(format!(
            "containerd: {containerd_driver} ({containerd_text}); {kubelet_text}"
        ));
    outcome.evidence = evidence;
    if kubelet_driver == containerd_driver {
        return outcome;
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .reason(format!(
        "the kubelet uses the {kubelet_driver} cgroup driver but containerd's {runtime_name} runtime uses {containerd_driver}: two managers of the same cgroups make resource limits unreliable and destabilise the node (a kubelet with KubeletCgroupDriverFromCRI takes containerd 2.x's driver instead)"
    ))
}

fn containerd_unprivileged(config: &RuntimeConfig) -> Outcome {
    let version = containerd_version(config);
    let mut outcome = Outcome::new(Verdict::Met)
        .expected("enable_unprivileged_ports and enable_unprivileged_icmp are false");
    let mut enabled = Vec::new();
    let mut undecided_default = Vec::new();
    for name in ["enable_unprivileged_ports", "enable_unprivileged_icmp"] {
        let key = cri_key(config, name);
        match config.settings.get(&key) {
            Some(leaf) => {
                if leaf.as_bool() == Some(true) {
                    enabled.push(format!("{name} = true"));
                }
                outcome = outcome.evidence(leaf_evidence(leaf));
            }
            None if daemon_major(config) == Some(1) => {
                outcome = outcome.evidence(default_evidence(
                    config,
                    &key,
                    "containerd 1.x's default is false",
                ));
            }
            None if version >= 3 || daemon_major(config) == Some(2) => {
                enabled.push(format!("{name} (default true)"));
                outcome = outcome.evidence(default_evidence(
                    config,
                    &key,
                    "containerd 2.x's default is true",
                ));
            }
            None => {
                undecided_default.push(name);
                outcome = outcome.evidence(default_evidence(
                    config,
                    &key,
                    "false in containerd 1.x, true from containerd 2.0 (the config file's version does not tell which runs)",
                ));
            }
        }
    }
    if !enabled.is_empty() {
        let actual = enabled.join(", ");
        return Outcome {
            verdict: Verdict::Advisory,
            ..outcome
        }
        .actual(actual.clone())
        .reason(format!(
            "{actual}: every pod can bind ports below 1024 and open ICMP sockets without NET_BIND_SERVICE/NET_RAW (net.ipv4.ip_unprivileged_port_start=0, ping_group_range); fine for most clusters, worth knowing"
        ));
    }
    if !undecided_default.is_empty() {
        return Outcome {
            verdict: Verdict::Advisory,
            ..outcome
        }
        .actual(format!("not set: {}", undecided_default.join(", ")))
        .reason("not set: the default depends on the containerd version (1.x false, 2.x true); set them explicitly");
    }
    outcome.actual("both false")
}

/// A CRI-O `crio.runtime.*` key, its leaf if set.
fn crio_leaf<'a>(config: &'a RuntimeConfig, name: &str) -> (String, Option<&'a Leaf>) {
    let key = format!("crio.runtime.{name}");
    let leaf = config.settings.get(&key);
    (key, leaf)
}

fn crio_apparmor(config: &RuntimeConfig) -> Outcome {
    let (key, leaf) = crio_leaf(config, "apparmor_profile");
    let base = Outcome::new(Verdict::Met).expected(format!("{key} is not unconfined"));
    match leaf {
        Some(leaf) if leaf.as_str() == Some("unconfined") => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual("apparmor_profile = \"unconfined\"")
        .reason("CRI-O runs containers whose pod names no AppArmor profile unconfined")
        .evidence(leaf_evidence(leaf)),
        Some(leaf) => base
            .actual(format!("apparmor_profile = {}", leaf.value))
            .evidence(leaf_evidence(leaf)),
        None => base
            .actual("not set (default crio-default)")
            .evidence(default_evidence(
                config,
                &key,
                "CRI-O's default profile crio-default applies",
            )),
    }
}

fn crio_seccomp(config: &RuntimeConfig) -> Outcome {
    let (key, leaf) = crio_leaf(config, "seccomp_profile");
    let base = Outcome::new(Verdict::Met).expected(format!(
        "{key} is empty (built-in profile) or an allow-list profile"
    ));
    let Some(leaf) = leaf else {
        return base
            .actual("not set (built-in profile)")
            .evidence(default_evidence(
                config,
                &key,
                "CRI-O's built-in default seccomp profile applies",
            ));
    };
    match leaf.as_str() {
        Some("") => base
            .actual("built-in profile")
            .evidence(leaf_evidence(leaf)),
        Some("unconfined") => Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual("seccomp_profile = \"unconfined\"")
        .reason("RuntimeDefault pods get no seccomp filter")
        .evidence(leaf_evidence(leaf)),
        Some(path) if path.starts_with('/') => judge_profile(config, leaf, path, base),
        _ => Outcome::undecided(format!(
            "{} is not a profile path CRI-O reads",
            leaf.describe()
        )),
    }
}

fn crio_selinux(config: &RuntimeConfig) -> Outcome {
    let (key, leaf) = crio_leaf(config, "selinux");
    let base = Outcome::new(Verdict::Met).expected(format!("{key} = true on SELinux hosts"));
    match leaf {
        Some(leaf) if leaf.as_bool() == Some(true) => {
            base.actual("selinux = true").evidence(leaf_evidence(leaf))
        }
        Some(leaf) => Outcome {
            verdict: Verdict::Advisory,
            ..base
        }
        .actual(format!("selinux = {}", leaf.value))
        .reason("containers get no SELinux labels; on an SELinux host set selinux = true")
        .evidence(leaf_evidence(leaf)),
        None => Outcome {
            verdict: Verdict::Advisory,
            ..base
        }
        .actual("not set (default false)")
        .reason("containers get no SELinux labels; on an SELinux host set selinux = true")
        .evidence(default_evidence(config, &key, "CRI-O's default is false")),
    }
}

fn crio_capabilities(config: &RuntimeConfig) -> Outcome {
    let (key, leaf) = crio_leaf(config, "default_capabilities");
    let base = Outcome::new(Verdict::Met).expected(format!(
        "{key} within CRI-O's default set ({})",
        CRIO_DEFAULT_CAPABILITIES.join(", ")
    ));
    let Some(leaf) = leaf else {
        return base
            .actual("not set (CRI-O's default set)")
            .evidence(default_evidence(
                config,
                &key,
                "CRI-O's default set applies",
            ));
    };
    let Some(items) = leaf.value.as_array() else {
        return Outcome::undecided(format!("{} is not a list", leaf.describe()));
    };
    let extra: Vec<String> = items
        .iter()
        .filter_map(|item| item.as_str())
        .map(|cap| cap.trim().to_ascii_uppercase())
        .map(|cap| cap.trim_start_matches("CAP_").to_string())
        .filter(|cap| !CRIO_DEFAULT_CAPABILITIES.contains(&cap.as_str()))
        .collect();
    let base = base.evidence(leaf_evidence(leaf));
    if extra.is_empty() {
        return base.actual(format!(
            "{} capabilities, all in the default set",
            items.len()
        ));
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..base
    }
    .actual(format!("beyond the default set: {}", extra.join(", ")))
    .reason(format!(
        "every container on this node gets {} unless its pod drops them",
        extra.join(", ")
    ))
}

/// Whether a set value meets the rule (`None`: the value has the wrong type).
type LeafJudge = fn(&Leaf) -> Option<bool>;

/// A Docker setting: the dockerd flag first, then daemon.json, then dockerd's default.
fn docker_value<'a>(config: &'a RuntimeConfig, key: &str) -> Option<&'a Leaf> {
    let flag = crate::host::runtime::DOCKER_KEYS
        .iter()
        .find(|(json, _)| *json == key)
        .map(|(_, flag)| *flag)?;
    config.flags.get(flag).or_else(|| config.settings.get(key))
}

fn docker_setting(check: RuntimeCheck, config: &RuntimeConfig) -> Outcome {
    let (key, expected, default, wanted): (&str, &str, &str, LeafJudge) = match check {
        RuntimeCheck::DockerNoNewPrivileges => (
            "no-new-privileges",
            "no-new-privileges: true",
            "dockerd's default is false",
            |leaf| leaf.as_bool(),
        ),
        RuntimeCheck::DockerUserns => (
            "userns-remap",
            "userns-remap set",
            "dockerd's default is no user-namespace remapping",
            |leaf| leaf.as_str().map(|v| !v.is_empty()),
        ),
        RuntimeCheck::DockerIcc => (
            "icc",
            "icc: false",
            "dockerd's default is true (containers on the default bridge talk freely)",
            |leaf| leaf.as_bool().map(|v| !v),
        ),
        RuntimeCheck::DockerLiveRestore => (
            "live-restore",
            "live-restore: true",
            "dockerd's default is false",
            |leaf| leaf.as_bool(),
        ),
        _ => (
            "seccomp-profile",
            "seccomp-profile not unconfined and not allow-all",
            "dockerd's built-in default profile applies",
            |leaf| leaf.as_str().map(|v| v != "unconfined"),
        ),
    };
    let base = Outcome::new(Verdict::Met).expected(expected);
    // icc is a setting of the default bridge network; without one there is nothing to judge
    // (`docker network inspect bridge` fails: no such network).
    if check == RuntimeCheck::DockerIcc
        && let Some(bridge) =
            docker_value(config, "bridge").filter(|leaf| leaf.as_str() == Some("none"))
    {
        return Outcome::new(Verdict::NotApplicable(format!(
            "dockerd runs without the default bridge ({}): icc applies only to it",
            bridge.describe()
        )));
    }
    let Some(leaf) = docker_value(config, key) else {
        let verdict = if check == RuntimeCheck::DockerSeccomp {
            Verdict::Met
        } else {
            Verdict::NotMet
        };
        return Outcome { verdict, ..base }
            .actual(format!("{key} not set"))
            .evidence(default_evidence(config, key, default));
    };
    if check == RuntimeCheck::DockerSeccomp
        && let Some(path) = leaf.as_str().filter(|p| p.starts_with('/'))
    {
        return judge_profile(config, leaf, path, base);
    }
    let base = base
        .actual(format!("{key} = {}", leaf.value))
        .evidence(leaf_evidence(leaf));
    match wanted(leaf) {
        Some(true) => base,
        Some(false) => Outcome {
            verdict: Verdict::NotMet,
            ..base
        },
        None => Outcome::undecided(format!("{} has an unexpected type", leaf.describe())),
    }
}

fn docker_insecure_registries(config: &RuntimeConfig) -> Outcome {
    let base = Outcome::new(Verdict::Met).expected("no insecure-registries");
    let mut registries = Vec::new();
    let mut outcome = base;
    for leaf in [
        config.flags.get("--insecure-registry"),
        config.settings.get("insecure-registries"),
    ]
    .into_iter()
    .flatten()
    {
        registries.extend(
            leaf.value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from)),
        );
        outcome = outcome.evidence(leaf_evidence(leaf));
    }
    if registries.is_empty() {
        return outcome.actual("none");
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .actual(registries.join(", "))
    .reason("images from these registries are pulled over plain HTTP or unverified TLS")
}

fn docker_tcp_tls(config: &RuntimeConfig) -> Outcome {
    let hosts_leaf = docker_value(config, "hosts");
    let hosts: Vec<String> = hosts_leaf
        .and_then(|leaf| leaf.value.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| vec!["unix:///var/run/docker.sock".to_string()]);
    let tls_leaf = docker_value(config, "tlsverify");
    let tlsverify = tls_leaf.and_then(Leaf::as_bool) == Some(true);
    let mut outcome = Outcome::new(Verdict::Met)
        .expected("no tcp:// listener without --tlsverify")
        .actual(hosts.join(", "));
    match hosts_leaf {
        Some(leaf) => outcome = outcome.evidence(leaf_evidence(leaf)),
        None => {
            outcome = outcome.evidence(default_evidence(
                config,
                "hosts",
                "dockerd listens on unix:///var/run/docker.sock only",
            ))
        }
    }
    if let Some(leaf) = tls_leaf {
        outcome = outcome.evidence(leaf_evidence(leaf));
    }
    let tcp: Vec<&String> = hosts.iter().filter(|h| h.starts_with("tcp://")).collect();
    if tcp.is_empty() || tlsverify {
        return outcome;
    }
    let listed = tcp
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .reason(format!(
        "dockerd listens on {listed} without --tlsverify: anyone who can reach it controls the node as root"
    ))
}

/// `firewall`: the `firewall.apiserver-blocked` outcome when the site has a `[firewall]` policy.
/// `running`: how many pod containers the container audit found, when it ran.
fn service_account_tokens(
    tokens: &crate::host::runtime::tokens::TokenFacts,
    firewall: Option<Outcome>,
    running: Option<usize>,
) -> Outcome {
    if let Some(error) = &tokens.listing_error {
        return Outcome::undecided(error.clone());
    }
    let mut outcome = Outcome::new(Verdict::Met)
        .expected("no pod on this node has an API token it does not need (automountServiceAccountToken: false)");
    for error in &tokens.errors {
        outcome = outcome.evidence(Evidence::new("file", None, error.clone()));
    }
    if tokens.pods.is_empty() && !tokens.pods_dir_exists {
        // Pods' containers run, so their kubelet keeps its pods elsewhere (another --root-dir):
        // their tokens cannot be examined, which is not "no pods".
        if let Some(running) = running.filter(|running| *running > 0) {
            return Outcome::undecided(format!(
                "no kubelet pod directory at {}, yet {running} pod container(s) run on this node: \
                 their kubelet keeps its pods elsewhere (--root-dir), so their tokens were not examined",
                tokens.pods_dir.display()
            ));
        }
        return Outcome::new(Verdict::NotApplicable(format!(
            "no kubelet pod directory at {}: this node's kubelet has no pods there{}",
            tokens.pods_dir.display(),
            if running == Some(0) {
                " and no pod container runs"
            } else {
                ""
            }
        )));
    }
    if tokens.pods.is_empty() && !tokens.errors.is_empty() {
        return Outcome {
            verdict: Verdict::Undecided(format!("cannot examine: {}", tokens.errors.join("; "))),
            ..outcome
        };
    }
    if tokens.pods.is_empty() {
        return outcome.actual("no pod on this node has a service-account token mounted");
    }
    let mut labels = Vec::new();
    for pod in &tokens.pods {
        labels.push(pod.label());
        for volume in &pod.volumes {
            outcome = outcome.evidence(Evidence::new(
                "kubelet",
                Some(volume.clone()),
                format!("{}: token volume (content not read)", pod.label()),
            ));
        }
        for container in &pod.mounted_in {
            outcome = outcome.evidence(Evidence::new(
                "mountinfo",
                None,
                format!(
                    "{container}: {} is mounted",
                    crate::host::runtime::tokens::SERVICE_ACCOUNT_MOUNT
                ),
            ));
        }
    }
    let shown: Vec<&str> = labels.iter().take(20).map(String::as_str).collect();
    let more = if labels.len() > 20 {
        format!(" and {} more", labels.len() - 20)
    } else {
        String::new()
    };
    let reach = match &firewall {
        Some(blocked) if blocked.verdict == Verdict::Met => {
            "the API-server firewall is in place, so the container network cannot reach the API server with them (hostNetwork pods still can)".to_string()
        }
        Some(blocked) if blocked.verdict == Verdict::NotMet => format!(
            "the API-server firewall is NOT in place ({}): these pods can reach the API server with that token",
            blocked.actual.as_deref().unwrap_or("see firewall.apiserver-blocked")
        ),
        Some(_) => "whether the API-server firewall is in place could not be decided (see firewall.apiserver-blocked)".to_string(),
        None => "no [firewall] policy, so hardnode cannot tell whether the container network can reach the API server: unless it is firewalled (hardnode firewall), a compromised container can use the token against the API".to_string(),
    };
    if let Some(blocked) = firewall {
        outcome.evidence.extend(blocked.evidence);
    }
    Outcome {
        verdict: Verdict::Advisory,
        ..outcome
    }
    .actual(format!(
        "{} with an API token: {}{more}",
        if labels.len() == 1 {
            "1 pod".to_string()
        } else {
            format!("{} pods", labels.len())
        },
        shown.join(", ")
    ))
    .reason(format!(
        "these pods carry a service-account token; {reach}; set automountServiceAccountToken: false where a pod does not call the API"
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::host::runtime::config::toml_leaves;

    fn loaded(path: &str, text: &str) -> RuntimeConfig {
        let settings: BTreeMap<String, Leaf> =
            toml_leaves(Path::new(path), text).expect("fixture parses");
        let version = settings.get("version").and_then(|l| l.value.as_i64());
        RuntimeConfig {
            process: None,
            main: PathBuf::from(path),
            how: "default path".into(),
            state: ConfigState::Loaded,
            files: vec![PathBuf::from(path)],
            version: version.or(Some(1)),
            effective_version: None,
            daemon_version: None,
            semantics: None,
            settings,
            flags: BTreeMap::new(),
            profiles: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn version_1_layout_reads_plugins_cri_and_its_systemd_cgroup() {
        let config = loaded(
            "/etc/containerd/config.toml",
            "[plugins.cri]\n  disable_apparmor = true\n  systemd_cgroup = true\n",
        );
        let outcome = containerd_apparmor(&config);
        assert_eq!(outcome.verdict, Verdict::NotMet);
        assert!(
            outcome.evidence[0].detail.starts_with(
                "plugins.cri.disable_apparmor = true at /etc/containerd/config.toml:2"
            )
        );
    }

    #[test]
    fn unprivileged_ports_explicitly_false_is_met_and_unset_in_v2_is_advisory() {
        let prefix = "[plugins.\"io.containerd.grpc.v1.cri\"]";
        let off = loaded(
            "/c.toml",
            &format!(
                "version = 2\n{prefix}\n  enable_unprivileged_ports = false\n  enable_unprivileged_icmp = false\n"
            ),
        );
        assert_eq!(containerd_unprivileged(&off).verdict, Verdict::Met);
        let unset = loaded("/c.toml", &format!("version = 2\n{prefix}\n"));
        let outcome = containerd_unprivileged(&unset);
        assert_eq!(outcome.verdict, Verdict::Advisory);
        assert!(
            outcome
                .reason
                .is_some_and(|r| r.contains("1.x false, 2.x true"))
        );
    }

    #[test]
    fn a_non_default_runtime_name_is_followed_to_its_options() {
        let config = loaded(
            "/c.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  default_runtime_name = \"crun\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.crun.options]\n  SystemdCgroup = false\n",
        );
        // No kubelet facts: not applicable, but the reason names crun's value.
        let facts = crate::host::Facts {
            host: crate::host::HostInfo {
                hostname: crate::host::Observed::Absent { path: "/h".into() },
                os: crate::host::Observed::Absent { path: "/o".into() },
                kernel_release: crate::host::Observed::Absent { path: "/k".into() },
                root: "/".into(),
                platform: crate::host::platform::Platform::generic("test"),
            },
            kernel: None,
            apparmor: None,
            seccomp_profiles: None,
            containers: None,
            accounts: None,
            sshd: None,
            sysctls: None,
            privileges: None,
            components: None,
            static_pods: None,
            runtime: None,
            firewall: None,
        };
        let outcome = containerd_cgroup(&config, &facts);
        let Verdict::NotApplicable(reason) = outcome.verdict else {
            panic!("expected not applicable, got {:?}", outcome.verdict);
        };
        assert!(
            reason.contains("runtimes.crun.options.SystemdCgroup = false at /c.toml:7"),
            "{reason}"
        );
    }

    #[test]
    fn daemon_json_hosts_need_tlsverify_for_tcp() {
        let config = |text: &str| {
            let mut config = loaded("/etc/docker/daemon.json", "");
            config.settings = crate::host::runtime::config::json_leaves(
                Path::new("/etc/docker/daemon.json"),
                text,
            )
            .expect("json");
            config
        };
        let open = docker_tcp_tls(&config(
            "{\n  \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"]\n}",
        ));
        assert_eq!(open.verdict, Verdict::NotMet);
        assert!(
            open.evidence[0]
                .detail
                .ends_with("at /etc/docker/daemon.json:2")
        );
        let verified = docker_tcp_tls(&config(
            "{\"hosts\": [\"tcp://0.0.0.0:2376\"], \"tlsverify\": true}",
        ));
        assert_eq!(verified.verdict, Verdict::Met);
        let local = docker_tcp_tls(&config("{}"));
        assert_eq!(local.verdict, Verdict::Met);
        assert_eq!(local.actual.as_deref(), Some("unix:///var/run/docker.sock"));
    }

    #[test]
    fn crio_capabilities_accept_cap_prefixes_within_the_default_set() {
        let config = loaded(
            "/etc/crio/crio.conf",
            "[crio.runtime]\ndefault_capabilities = [\"CAP_CHOWN\", \"kill\"]\n",
        );
        assert_eq!(crio_capabilities(&config).verdict, Verdict::Met);
    }
}
