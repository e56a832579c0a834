//! The `containers.*` rules and the `hardnode containers` view: each aspect of a running
//! container's confinement judged from what the kernel reports for its processes.
//!
//! A container offends a rule when any of its processes does (a `docker exec` into a confined
//! container can still run one unconfined process). Sandbox (pause) containers are the runtime's
//! own and are left out of the rules; hostNetwork/hostPID show on the pod's workload containers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::ContainerCheck;
use crate::host::Observed;
use crate::host::containers::{
    Container, ContainerFacts, ContainerProcess, Grantable, HostReference, Mount, ProcStatus,
    capability_names,
};

/// The capabilities container runtimes grant by default (containerd, cri-o, docker, moby).
pub const RUNTIME_DEFAULT_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Capabilities that amount to a container escape or host control on their own.
pub const HIGH_RISK_CAPS: &[&str] = &[
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
];

/// Every capability up to CAP_AUDIT_READ (bit 37), the set every runtime since 2014 grants a
/// privileged container; a runtime older than the kernel may not know PERFMON, BPF or
/// CHECKPOINT_RESTORE, so "privileged" must not require those.
const CLASSIC_LAST_CAP: u8 = 37;

/// The capability set that makes a container privileged on this host: every capability up to
/// CAP_AUDIT_READ, or up to the kernel's last one (`cap_last_cap`) when that is lower — and of
/// those, only the ones the runtime could grant (the bounding set of the process that started
/// the container): a runtime cannot hand out a capability it does not hold itself, so on a host
/// whose init lacks one (CAP_SYS_RESOURCE in some sandboxes) a `--privileged` container lacks it
/// too, and is privileged all the same.
fn full_set(host: &HostReference, grantable: Option<&Grantable>) -> u64 {
    let last = host
        .cap_last_cap
        .map_or(CLASSIC_LAST_CAP, |last| last.min(CLASSIC_LAST_CAP));
    let classic = (1u64 << (last + 1)) - 1;
    grantable.map_or(classic, |grantable| classic & grantable.mask)
}

/// How a privileged finding names the set it compared with.
fn full_set_source(grantable: Option<&Grantable>) -> String {
    match grantable {
        Some(grantable) => format!(
            "every capability the runtime could grant ({}: {:016x})",
            grantable.from, grantable.mask
        ),
        None => "every capability".to_string(),
    }
}

/// Host paths whose mount into a container is sensitive (`/var/run` is `/run`).
pub const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr", "/run",
];

/// Container runtime API sockets (`/var/run` is `/run`).
pub const RUNTIME_SOCKETS: &[&str] = &[
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/snap/microk8s/common/run/containerd.sock",
    "/run/dockershim.sock",
    "/run/cri-dockerd.sock",
];

/// What is wrong with one container for one rule.
#[derive(Debug, Clone, PartialEq)]
enum Judgement {
    Clean,
    Offends {
        pids: Vec<u32>,
        path: PathBuf,
        detail: String,
    },
    Unknown(String),
}

pub fn evaluate(check: ContainerCheck, facts: &ContainerFacts, apparmor_enabled: bool) -> Outcome {
    let expected = expectation(check);
    if let Some(error) = &facts.listing_error {
        return Outcome::undecided(error.clone()).expected(expected);
    }
    // The rules judge pods' containers; those started by hand are listed by `hardnode
    // containers` as unmanaged.
    let workloads: Vec<&Container> = facts
        .containers
        .iter()
        .filter(|c| !c.sandbox && c.managed)
        .collect();
    if workloads.is_empty() {
        if facts.unreadable_count > 0 {
            return Outcome::undecided(format!(
                "no container found, but the cgroup of {} process(es) could not be read (first: {})",
                facts.unreadable_count,
                facts
                    .unreadable
                    .first()
                    .map(|u| format!("{} {}", u.path.display(), u.error))
                    .unwrap_or_default()
            ))
            .expected(expected);
        }
        let unmanaged = facts.containers.iter().filter(|c| !c.managed).count();
        let also = if unmanaged > 0 {
            format!(
                "; {unmanaged} container(s) started outside Kubernetes run here: see `hardnode containers`"
            )
        } else {
            String::new()
        };
        return Outcome::new(Verdict::NotApplicable(format!(
            "no containers are running on this node (none of {} processes under /proc is in a kubepods cgroup){also}",
            facts.processes_scanned
        )));
    }
    if check == ContainerCheck::AppArmor && !apparmor_enabled {
        return Outcome::new(Verdict::NotApplicable(
            "AppArmor is not enabled on this host, so no container can be confined by it".into(),
        ));
    }
    let mut offending = Vec::new();
    let mut unknown = Vec::new();
    let mut outcome = Outcome::new(Verdict::Met).expected(expected);
    for container in &workloads {
        match judge(check, container, &facts.host) {
            Judgement::Clean => {}
            Judgement::Offends { pids, path, detail } => {
                let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
                outcome = outcome.evidence(Evidence::new(
                    "proc",
                    Some(path),
                    format!(
                        "{} ({} {}, pid {}): {detail}",
                        container.label(),
                        container.runtime,
                        container.short_id(),
                        pids.join(", ")
                    ),
                ));
                offending.push(container.label());
            }
            Judgement::Unknown(why) => {
                unknown.push(format!(
                    "{} ({}): {why}",
                    container.label(),
                    container.short_id()
                ));
            }
        }
    }
    for why in &unknown {
        outcome = outcome.evidence(Evidence::new("proc", None, format!("undecided: {why}")));
    }
    let total = workloads.len();
    if !offending.is_empty() {
        let actual = format!(
            "{} of {total} containers: {}",
            offending.len(),
            offending.join(", ")
        );
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .actual(actual.clone())
        .reason(format!("{} {actual}", offence(check)));
    }
    if !unknown.is_empty() {
        return Outcome {
            verdict: Verdict::Undecided(format!(
                "could not decide for {} of {total} containers: {}",
                unknown.len(),
                unknown.join("; ")
            )),
            ..outcome
        };
    }
    outcome.actual(format!("none of {total} containers"))
}

fn expectation(check: ContainerCheck) -> &'static str {
    match check {
        ContainerCheck::Privileged => "no container has the full capability set",
        ContainerCheck::Capabilities => {
            "no effective capability beyond the container runtime default set"
        }
        ContainerCheck::Seccomp => "every container process under a seccomp filter",
        ContainerCheck::AppArmor => {
            "every container process confined by an enforced AppArmor profile"
        }
        ContainerCheck::NoNewPrivs => "NoNewPrivs set (allowPrivilegeEscalation: false)",
        ContainerCheck::RunAsRoot => "no container process runs as uid 0 of the host",
        ContainerCheck::HostNamespaces => {
            "no container shares the host's net, pid, ipc or uts namespace"
        }
        ContainerCheck::HostPid => "no container shares the host's PID namespace",
        ContainerCheck::HostIpc => "no container shares the host's IPC namespace",
        ContainerCheck::HostNetwork => "no container shares the host's network namespace",
        ContainerCheck::NetRaw => "no container holds CAP_NET_RAW",
        ContainerCheck::SensitiveMounts => {
            "no host mount of /, /boot, /dev, /etc, /lib, /proc, /sys, /usr or /run"
        }
        ContainerCheck::RuntimeSocket => "no container runtime socket mounted",
        ContainerCheck::Sshd => "no sshd process in a container",
        ContainerCheck::ReadonlyRootfs => "root filesystem mounted read-only",
    }
}

fn offence(check: ContainerCheck) -> &'static str {
    match check {
        ContainerCheck::Privileged => "privileged:",
        ContainerCheck::Capabilities => "extra capabilities in",
        ContainerCheck::Seccomp => "seccomp unconfined:",
        ContainerCheck::AppArmor => "AppArmor unconfined:",
        ContainerCheck::NoNewPrivs => "privilege escalation possible in",
        ContainerCheck::RunAsRoot => "running as root:",
        ContainerCheck::HostNamespaces => "host namespaces shared by",
        ContainerCheck::HostPid => "host PID namespace shared by",
        ContainerCheck::HostIpc => "host IPC namespace shared by",
        ContainerCheck::HostNetwork => "host network namespace shared by",
        ContainerCheck::NetRaw => "CAP_NET_RAW held by",
        ContainerCheck::SensitiveMounts => "sensitive host paths mounted in",
        ContainerCheck::RuntimeSocket => "runtime socket mounted in",
        ContainerCheck::Sshd => "sshd runs in",
        ContainerCheck::ReadonlyRootfs => "writable root filesystem in",
    }
}

fn judge(check: ContainerCheck, container: &Container, host: &HostReference) -> Judgement {
    match check {
        ContainerCheck::SensitiveMounts => judge_mounts(container, host, sensitive_mount),
        ContainerCheck::RuntimeSocket => judge_mounts(container, host, socket_mount),
        ContainerCheck::ReadonlyRootfs => judge_rootfs(container),
        _ => judge_processes(container, |process| {
            judge_process(check, process, host, container.grantable.as_ref())
        }),
    }
}

/// Per-process judgement of one aspect: `Ok(Some(detail))` offends, `Ok(None)` is clean.
fn judge_process(
    check: ContainerCheck,
    process: &ContainerProcess,
    host: &HostReference,
    grantable: Option<&Grantable>,
) -> Result<Option<(PathBuf, String)>, String> {
    let status_path = PathBuf::from(format!("/proc/{}/status", process.pid));
    let status = || -> Result<&ProcStatus, String> {
        match &process.status {
            Observed::Value { value, .. } => Ok(value),
            Observed::Absent { path } => Err(format!("{} does not exist", path.display())),
            Observed::Unreadable { path, error } => Err(format!("{} {error}", path.display())),
        }
    };
    let field_missing = |field: &str| format!("{} has no {field} field", status_path.display());
    let found = |detail: String| Ok(Some((status_path.clone(), detail)));
    match check {
        ContainerCheck::Privileged => {
            let full = full_set(host, grantable);
            let status = status()?;
            let eff = status.cap_eff.ok_or_else(|| field_missing("CapEff"))?;
            let bnd = status.cap_bnd.ok_or_else(|| field_missing("CapBnd"))?;
            let every = full_set_source(grantable);
            if eff & full == full {
                found(format!("CapEff {eff:016x}: {every} (privileged)"))
            } else if bnd & full == full {
                found(format!(
                    "CapBnd {bnd:016x}: {every} in the bounding set (privileged; CapEff {eff:016x} for this uid)"
                ))
            } else {
                Ok(None)
            }
        }
        ContainerCheck::Capabilities => {
            let eff = status()?.cap_eff.ok_or_else(|| field_missing("CapEff"))?;
            let extra = extra_capabilities(eff);
            if extra.is_empty() {
                Ok(None)
            } else if eff & full_set(host, grantable) == full_set(host, grantable) {
                found(format!(
                    "CapEff {eff:016x}: every capability (privileged), {} high risk among them",
                    HIGH_RISK_CAPS.join(", ")
                ))
            } else {
                found(format!("CapEff {eff:016x} adds {}", describe_caps(&extra)))
            }
        }
        ContainerCheck::Seccomp => match status()?.seccomp {
            Some(0) => found("Seccomp: 0 (no seccomp filter: unconfined)".into()),
            Some(_) => Ok(None),
            None => Err(field_missing("Seccomp")),
        },
        ContainerCheck::AppArmor => match &process.apparmor {
            Observed::Value { value, path } => {
                if value == "unconfined" || value.is_empty() {
                    Ok(Some((path.clone(), "AppArmor label: unconfined".into())))
                } else if value.ends_with("(complain)") || value.ends_with("(unconfined)") {
                    Ok(Some((
                        path.clone(),
                        format!("AppArmor label: {value} (logs only, does not enforce)"),
                    )))
                } else {
                    Ok(None)
                }
            }
            Observed::Absent { path } => Err(format!("{} does not exist", path.display())),
            Observed::Unreadable { path, error } => Err(format!("{} {error}", path.display())),
        },
        ContainerCheck::NoNewPrivs => match status()?.no_new_privs {
            Some(false) => found(
                "NoNewPrivs: 0 (setuid binaries and file capabilities can raise privileges)".into(),
            ),
            Some(true) => Ok(None),
            None => Err(field_missing("NoNewPrivs")),
        },
        ContainerCheck::RunAsRoot => match status()?.uid {
            Some(0) => found(format!(
                "effective uid 0 in the host user namespace ({})",
                process.command()
            )),
            Some(_) => Ok(None),
            None => Err(field_missing("Uid")),
        },
        ContainerCheck::HostPid | ContainerCheck::HostIpc | ContainerCheck::HostNetwork => {
            let kind = match check {
                ContainerCheck::HostPid => "pid",
                ContainerCheck::HostIpc => "ipc",
                _ => "net",
            };
            let shared = shared_namespaces(process, host)?;
            Ok(shared.iter().any(|shared| shared == kind).then(|| {
                (
                    PathBuf::from(format!("/proc/{}/ns/{kind}", process.pid)),
                    format!("shares the host's {kind} namespace"),
                )
            }))
        }
        ContainerCheck::NetRaw => {
            let eff = status()?.cap_eff.ok_or_else(|| field_missing("CapEff"))?;
            const CAP_NET_RAW: u64 = 1 << 13;
            if eff & CAP_NET_RAW != 0 {
                found(format!(
                    "CapEff {eff:016x} holds NET_RAW (raw and packet sockets: spoofing, sniffing on the pod network)"
                ))
            } else {
                Ok(None)
            }
        }
        ContainerCheck::HostNamespaces => {
            let shared = shared_namespaces(process, host)?;
            if shared.is_empty() {
                Ok(None)
            } else {
                Ok(Some((
                    PathBuf::from(format!("/proc/{}/ns", process.pid)),
                    format!(
                        "shares the host's {} namespace{}",
                        shared.join(", "),
                        if shared.len() > 1 { "s" } else { "" }
                    ),
                )))
            }
        }
        ContainerCheck::Sshd => {
            if process.is_sshd() {
                Ok(Some((
                    PathBuf::from(format!("/proc/{}/cmdline", process.pid)),
                    format!("runs sshd: {}", process.command()),
                )))
            } else {
                Ok(None)
            }
        }
        ContainerCheck::SensitiveMounts
        | ContainerCheck::RuntimeSocket
        | ContainerCheck::ReadonlyRootfs => Ok(None),
    }
}

fn judge_processes(
    container: &Container,
    per_process: impl Fn(&ContainerProcess) -> Result<Option<(PathBuf, String)>, String>,
) -> Judgement {
    let mut pids = Vec::new();
    let mut details: Vec<String> = Vec::new();
    let mut first_path = None;
    let mut unknown = Vec::new();
    for process in &container.processes {
        match per_process(process) {
            Ok(Some((path, detail))) => {
                pids.push(process.pid);
                first_path.get_or_insert(path);
                if !details.contains(&detail) {
                    details.push(detail);
                }
            }
            Ok(None) => {}
            Err(why) => unknown.push(why),
        }
    }
    match first_path {
        Some(path) => Judgement::Offends {
            pids,
            path,
            detail: details.join("; "),
        },
        None if !unknown.is_empty() => Judgement::Unknown(unknown.join("; ")),
        None => Judgement::Clean,
    }
}

/// The capabilities in `mask` beyond the runtime default set, by name.
pub fn extra_capabilities(mask: u64) -> Vec<String> {
    capability_names(mask)
        .into_iter()
        .filter(|name| !RUNTIME_DEFAULT_CAPS.contains(&name.as_str()))
        .collect()
}

fn describe_caps(names: &[String]) -> String {
    let mut high: Vec<String> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    for name in names {
        if HIGH_RISK_CAPS.contains(&name.as_str()) {
            high.push(format!("{name} (high risk)"));
        } else {
            other.push(name.clone());
        }
    }
    high.extend(other);
    high.join(", ")
}

/// The host namespaces (net, pid, ipc, uts) a process shares.
pub fn shared_namespaces(
    process: &ContainerProcess,
    host: &HostReference,
) -> Result<Vec<String>, String> {
    if host.pid.is_none() {
        return Err(format!(
            "the host's namespaces could not be read: {}",
            host.note.as_deref().unwrap_or("unknown reason")
        ));
    }
    let mut shared = Vec::new();
    for kind in ["net", "pid", "ipc", "uts"] {
        let Some(host_ns) = host.namespaces.get(kind) else {
            return Err(format!("the host's {kind} namespace is unknown"));
        };
        match process.namespaces.get(kind) {
            Some(Observed::Value { value, .. }) => {
                if value == host_ns {
                    shared.push(kind.to_string());
                }
            }
            Some(Observed::Absent { path }) => {
                return Err(format!("{} does not exist", path.display()));
            }
            Some(Observed::Unreadable { path, error }) => {
                return Err(format!("{} {error}", path.display()));
            }
            None => return Err(format!("{kind} namespace not read")),
        }
    }
    Ok(shared)
}

/// One mount as the host sees it: the host path it exposes, where it appears, rw or ro.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostMount {
    pub host_path: String,
    pub mount_point: String,
    pub read_only: bool,
}

impl HostMount {
    fn describe(&self) -> String {
        format!(
            "host {} at {} ({})",
            self.host_path,
            self.mount_point,
            if self.read_only { "ro" } else { "rw" }
        )
    }
}

/// The host path a container mount exposes: the host mount of the same device whose root
/// contains this mount's root, joined with the rest. A procfs, sysfs or devtmpfs mounted away
/// from the runtime's own /proc, /sys and /dev is the host's.
pub fn host_path(mount: &Mount, host_mounts: Option<&[Mount]>) -> Option<String> {
    if let Some(host_mounts) = host_mounts {
        let best = host_mounts
            .iter()
            .filter(|h| h.device == mount.device && within(&mount.root, &h.root))
            .max_by_key(|h| (h.root.len(), std::cmp::Reverse(h.mount_point.len())));
        if let Some(h) = best {
            let rest = mount.root[h.root.len()..].trim_start_matches('/');
            return Some(normalise(&format!("{}/{}", h.mount_point, rest)));
        }
    }
    let base = match mount.fs_type.as_str() {
        "devtmpfs" => "/dev",
        "proc" => "/proc",
        "sysfs" => "/sys",
        _ if host_mounts.is_none() && mount.source.starts_with("/dev/") => "",
        _ => return None,
    };
    Some(normalise(&format!("{base}/{}", mount.root)))
}

fn within(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Collapses `//`, drops a trailing `/`, and reads `/var/run` as `/run`.
fn normalise(path: &str) -> String {
    // Most paths are normal already: one copy, no splitting.
    let already = path.starts_with('/')
        && !path.contains("//")
        && (path.len() == 1 || !path.ends_with('/'))
        && !within(path, "/var/run");
    if already {
        return path.to_string();
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let joined = format!("/{}", parts.join("/"));
    match joined.strip_prefix("/var/run") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/run{rest}"),
        _ => joined,
    }
}

/// The runtime's own /proc, /sys, /dev and what it puts below them are not host mounts even
/// when they share a superblock with the host (hostNetwork shares sysfs). The root filesystem is
/// judged like any mount: an overlay maps to no host path, the host's own root maps to `/`.
fn runtime_managed(mount: &Mount) -> bool {
    let point = mount.mount_point.as_str();
    let under = |dir: &str| {
        point
            .strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    (under("/proc") || under("/sys") || under("/dev"))
        && matches!(
            mount.fs_type.as_str(),
            "proc" | "sysfs" | "tmpfs" | "devpts" | "mqueue" | "cgroup" | "cgroup2"
        )
}

/// Every mount of a container that exposes a host path, deduplicated across its mount tables.
pub fn host_mounts(container: &Container, host: &HostReference) -> Result<Vec<HostMount>, String> {
    let host_table = host.mounts.value().map(Vec::as_slice);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut readable = false;
    let mut errors = Vec::new();
    for table in &container.mount_tables {
        let mounts = match &table.mounts {
            Observed::Value { value, .. } => value,
            Observed::Absent { path } => {
                errors.push(format!("{} does not exist", path.display()));
                continue;
            }
            Observed::Unreadable { path, error } => {
                errors.push(format!("{} {error}", path.display()));
                continue;
            }
        };
        readable = true;
        let host_mnt = host.namespaces.get("mnt");
        if host_mnt.is_some() && table.mnt_namespace.as_ref() == host_mnt {
            // In the host's mount namespace the whole host filesystem is the container's.
            if seen.insert(("/".to_string(), "/".to_string())) {
                out.push(HostMount {
                    host_path: "/".into(),
                    mount_point: "/ (shares the host's mount namespace)".into(),
                    read_only: false,
                });
            }
            continue;
        }
        for mount in mounts.iter().filter(|m| !runtime_managed(m)) {
            if let Some(host_path) = host_path(mount, host_table) {
                let entry = HostMount {
                    host_path,
                    mount_point: mount.mount_point.clone(),
                    read_only: mount.read_only,
                };
                if seen.insert((entry.host_path.clone(), entry.mount_point.clone())) {
                    out.push(entry);
                }
            }
        }
    }
    if readable {
        Ok(out)
    } else if errors.is_empty() {
        Err("no mount table could be read (its processes exited)".into())
    } else {
        Err(errors.join("; "))
    }
}

fn sensitive_mount(mount: &HostMount) -> bool {
    SENSITIVE_HOST_PATHS.contains(&mount.host_path.as_str())
}

/// A runtime socket itself, or a directory above one (`/run`, `/run/containerd`, `/`).
fn socket_mount(mount: &HostMount) -> bool {
    RUNTIME_SOCKETS
        .iter()
        .any(|socket| within(socket, &mount.host_path))
        || ["docker.sock", "containerd.sock", "crio.sock"]
            .iter()
            .any(|name| {
                mount
                    .mount_point
                    .strip_suffix(name)
                    .is_some_and(|rest| rest.ends_with('/'))
            })
}

fn judge_mounts(
    container: &Container,
    host: &HostReference,
    offends: fn(&HostMount) -> bool,
) -> Judgement {
    let mounts = match host_mounts(container, host) {
        Ok(mounts) => mounts,
        Err(why) => return Judgement::Unknown(why),
    };
    let bad: Vec<String> = mounts
        .iter()
        .filter(|m| offends(m))
        .map(HostMount::describe)
        .collect();
    if bad.is_empty() {
        return Judgement::Clean;
    }
    let table = container.mount_tables.first();
    Judgement::Offends {
        pids: table.map(|t| vec![t.pid]).unwrap_or_default(),
        path: PathBuf::from(format!("/proc/{}/mountinfo", table.map_or(0, |t| t.pid))),
        detail: bad.join("; "),
    }
}

/// The root filesystem's mount, from the first readable mount table.
pub fn rootfs_read_only(container: &Container) -> Result<(u32, bool), String> {
    let mut errors = Vec::new();
    for table in &container.mount_tables {
        match &table.mounts {
            Observed::Value { value, path } => {
                return match value.iter().rev().find(|m| m.mount_point == "/") {
                    Some(root) => Ok((table.pid, root.read_only)),
                    None => Err(format!("{} has no mount at /", path.display())),
                };
            }
            Observed::Absent { path } => errors.push(format!("{} does not exist", path.display())),
            Observed::Unreadable { path, error } => {
                errors.push(format!("{} {error}", path.display()));
            }
        }
    }
    Err(if errors.is_empty() {
        "no mount table read".into()
    } else {
        errors.join("; ")
    })
}

fn judge_rootfs(container: &Container) -> Judgement {
    match rootfs_read_only(container) {
        Ok((_, true)) => Judgement::Clean,
        Ok((pid, false)) => Judgement::Offends {
            pids: vec![pid],
            path: PathBuf::from(format!("/proc/{pid}/mountinfo")),
            detail: "root filesystem mounted rw (readOnlyRootFilesystem is not true)".into(),
        },
        Err(why) => Judgement::Unknown(why),
    }
}

/// One row of `hardnode containers`: a container and its confinement, with a risk score.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerView {
    pub pod: String,
    pub namespace: Option<String>,
    pub pod_name: Option<String>,
    pub container: Option<String>,
    pub id: String,
    pub runtime: String,
    /// Started by the kubelet (in kubepods); `false` for one started by hand (ctr, docker,
    /// podman, nerdctl), which no `containers.*` rule judges.
    pub managed: bool,
    pub qos: Option<String>,
    pub sandbox: bool,
    pub pids: Vec<u32>,
    pub commands: Vec<String>,
    /// `filter`, `strict`, `disabled` or `unknown` (the worst over its processes).
    pub seccomp: String,
    pub apparmor: Vec<String>,
    pub privileged: bool,
    pub extra_capabilities: Vec<String>,
    pub high_risk_capabilities: Vec<String>,
    pub host_namespaces: Vec<String>,
    pub risky_mounts: Vec<HostMount>,
    pub runtime_socket: bool,
    pub runs_as_root: bool,
    pub no_new_privs: Option<bool>,
    pub read_only_rootfs: Option<bool>,
    pub sshd: bool,
    /// Higher is worse; the list is sorted by it.
    pub risk: u32,
    /// What could not be read.
    pub unknown: Vec<String>,
}

/// The `hardnode containers` rows, worst first.
pub fn views(facts: &ContainerFacts, apparmor_enabled: bool) -> Vec<ContainerView> {
    let mut rows: Vec<ContainerView> = facts
        .containers
        .iter()
        .map(|c| view(c, &facts.host, apparmor_enabled))
        .collect();
    rows.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then_with(|| a.sandbox.cmp(&b.sandbox))
            .then_with(|| a.pod.cmp(&b.pod))
    });
    rows
}

pub fn view(container: &Container, host: &HostReference, apparmor_enabled: bool) -> ContainerView {
    let mut unknown = Vec::new();
    let statuses: Vec<&ProcStatus> = container
        .processes
        .iter()
        .filter_map(|p| p.status.value())
        .collect();
    if statuses.len() < container.processes.len() {
        unknown.push("status of some processes".to_string());
    }
    let seccomp = if statuses.iter().any(|s| s.seccomp == Some(0)) {
        "disabled"
    } else if statuses.iter().any(|s| s.seccomp.is_none()) || statuses.is_empty() {
        "unknown"
    } else if statuses.iter().any(|s| s.seccomp == Some(1)) {
        "strict"
    } else {
        "filter"
    };
    let mut apparmor: Vec<String> = Vec::new();
    if !apparmor_enabled {
        apparmor.push("n/a".into());
    }
    for process in container.processes.iter().filter(|_| apparmor_enabled) {
        let label = match &process.apparmor {
            Observed::Value { value, .. } => value.clone(),
            Observed::Absent { .. } => "none".to_string(),
            Observed::Unreadable { .. } => "unreadable".to_string(),
        };
        if !apparmor.contains(&label) {
            apparmor.push(label);
        }
    }
    let full = full_set(host, container.grantable.as_ref());
    let privileged = statuses
        .iter()
        .any(|s| s.cap_eff.unwrap_or(0) & full == full || s.cap_bnd.unwrap_or(0) & full == full);
    let mut extra: Vec<String> = Vec::new();
    for status in &statuses {
        for name in extra_capabilities(status.cap_eff.unwrap_or(0)) {
            if !extra.contains(&name) {
                extra.push(name);
            }
        }
    }
    let high: Vec<String> = extra
        .iter()
        .filter(|name| HIGH_RISK_CAPS.contains(&name.as_str()))
        .cloned()
        .collect();
    let mut host_namespaces: Vec<String> = Vec::new();
    for process in &container.processes {
        match shared_namespaces(process, host) {
            Ok(shared) => {
                for kind in shared {
                    if !host_namespaces.contains(&kind) {
                        host_namespaces.push(kind);
                    }
                }
            }
            Err(why) => {
                if !unknown.contains(&why) {
                    unknown.push(why);
                }
            }
        }
    }
    let mounts = host_mounts(container, host).unwrap_or_else(|why| {
        unknown.push(why);
        Vec::new()
    });
    let runtime_socket = mounts.iter().any(socket_mount);
    let risky_mounts: Vec<HostMount> = mounts
        .into_iter()
        .filter(|m| sensitive_mount(m) || socket_mount(m))
        .collect();
    let read_only_rootfs = rootfs_read_only(container).ok().map(|(_, ro)| ro);
    let runs_as_root = statuses.iter().any(|s| s.uid == Some(0));
    let no_new_privs = if statuses.iter().any(|s| s.no_new_privs == Some(false)) {
        Some(false)
    } else if !statuses.is_empty() && statuses.iter().all(|s| s.no_new_privs == Some(true)) {
        Some(true)
    } else {
        None
    };
    let sshd = container.processes.iter().any(ContainerProcess::is_sshd);
    let apparmor_unconfined = apparmor.iter().any(|l| l == "unconfined");
    let risk = 100 * u32::from(privileged)
        + 60 * u32::from(runtime_socket)
        + 40 * risky_mounts.len().min(3) as u32
        + 30 * host_namespaces.len() as u32
        + 25 * high.len() as u32
        + 20 * u32::from(seccomp == "disabled")
        + 10 * u32::from(apparmor_unconfined)
        + 10 * u32::from(sshd)
        + 5 * extra.len().saturating_sub(high.len()) as u32
        + 5 * u32::from(runs_as_root)
        + 2 * u32::from(no_new_privs == Some(false))
        + u32::from(read_only_rootfs == Some(false));
    ContainerView {
        pod: if container.managed || container.pod.is_some() {
            container.label()
        } else {
            format!("unmanaged {} container", container.runtime)
        },
        namespace: container.pod.as_ref().and_then(|p| p.namespace.clone()),
        pod_name: container.pod.as_ref().and_then(|p| p.name.clone()),
        container: container.pod.as_ref().and_then(|p| p.container.clone()),
        id: container.id.clone(),
        runtime: container.runtime.clone(),
        managed: container.managed,
        qos: container.qos.clone(),
        sandbox: container.sandbox,
        pids: container.processes.iter().map(|p| p.pid).collect(),
        commands: container
            .processes
            .iter()
            .map(ContainerProcess::command)
            .collect(),
        seccomp: seccomp.to_string(),
        apparmor,
        privileged,
        extra_capabilities: extra,
        high_risk_capabilities: high,
        host_namespaces,
        risky_mounts,
        runtime_socket,
        runs_as_root,
        no_new_privs,
        read_only_rootfs,
        sshd,
        risk,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(device: &str, root: &str, point: &str, fs: &str) -> Mount {
        Mount {
            device: device.into(),
            root: root.into(),
            mount_point: point.into(),
            read_only: false,
            fs_type: fs.into(),
            source: "/dev/sda1".into(),
        }
    }

    #[test]
    fn normalised_paths_are_what_splitting_and_joining_gives() {
        let slow = |path: &str| {
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            let joined = format!("/{}", parts.join("/"));
            match joined.strip_prefix("/var/run") {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/run{rest}"),
                _ => joined,
            }
        };
        for path in [
            "",
            "/",
            "//",
            "/a",
            "/a/",
            "a/b",
            "/a//b",
            "/var/run",
            "/var/run/",
            "/var/runx",
            "/var/run/containerd/containerd.sock",
            "//var/run",
            "/var//run/x",
            "/run/x",
            "/var/lib/kubelet/pods/x/volumes",
            "/./a/../b",
        ] {
            assert_eq!(normalise(path), slow(path), "{path:?}");
        }
    }

    #[test]
    fn container_mounts_map_back_to_host_paths() {
        let host = vec![
            mount("8:1", "/", "/", "ext4"),
            mount("0:25", "/", "/run", "tmpfs"),
            mount("8:2", "/", "/var/lib", "ext4"),
        ];
        let etc = mount("8:1", "/etc", "/host/etc", "ext4");
        assert_eq!(host_path(&etc, Some(&host)).as_deref(), Some("/etc"));
        let sock = mount(
            "0:25",
            "/containerd/containerd.sock",
            "/run/c.sock",
            "tmpfs",
        );
        assert_eq!(
            host_path(&sock, Some(&host)).as_deref(),
            Some("/run/containerd/containerd.sock")
        );
        let data = mount("8:2", "/kubelet/pods/x", "/data", "ext4");
        assert_eq!(
            host_path(&data, Some(&host)).as_deref(),
            Some("/var/lib/kubelet/pods/x")
        );
        let proc_ = mount("0:99", "/", "/host/proc", "proc");
        assert_eq!(host_path(&proc_, Some(&host)).as_deref(), Some("/proc"));
        let overlay = mount("0:77", "/", "/", "overlay");
        assert_eq!(host_path(&overlay, Some(&host)), None);
        assert_eq!(normalise("/var/run/docker.sock"), "/run/docker.sock");
        assert_eq!(normalise("/var/runner"), "/var/runner");
    }

    #[test]
    fn sockets_and_their_directories() {
        let at = |host: &str, point: &str| HostMount {
            host_path: host.into(),
            mount_point: point.into(),
            read_only: false,
        };
        assert!(socket_mount(&at(
            "/run/docker.sock",
            "/var/run/docker.sock"
        )));
        assert!(socket_mount(&at("/run/containerd", "/x")));
        assert!(socket_mount(&at("/", "/host")));
        assert!(!socket_mount(&at("/run/xtables.lock", "/run/xtables.lock")));
        assert!(sensitive_mount(&at("/etc", "/host/etc")));
        assert!(!sensitive_mount(&at("/etc/ssl/certs", "/etc/ssl/certs")));
    }

    fn host(cap_last_cap: Option<u8>) -> HostReference {
        HostReference {
            pid: Some(1),
            namespaces: Default::default(),
            note: None,
            mounts: Observed::Absent {
                path: "/proc/1/mountinfo".into(),
            },
            cap_last_cap,
        }
    }

    #[test]
    fn privileged_means_every_capability_both_kernel_and_runtime_know() {
        // A 5.9+ kernel: runtimes older than it may not grant PERFMON, BPF, CHECKPOINT_RESTORE.
        assert_eq!(full_set(&host(Some(40)), None), (1 << 38) - 1);
        assert_eq!(full_set(&host(None), None), (1 << 38) - 1);
        // A kernel before CAP_AUDIT_READ (3.16) has no bit 37 to grant.
        assert_eq!(full_set(&host(Some(36)), None), (1 << 37) - 1);
    }

    #[test]
    fn extra_caps_leave_the_default_set_out() {
        // containerd default plus SYS_ADMIN and SYS_TIME.
        let mask = 0xa80425fb | (1 << 21) | (1 << 25);
        assert_eq!(extra_capabilities(mask), ["SYS_ADMIN", "SYS_TIME"]);
        assert_eq!(
            describe_caps(&extra_capabilities(mask)),
            "SYS_ADMIN (high risk), SYS_TIME"
        );
        assert!(extra_capabilities(0xa80425fb).is_empty());
    }

    #[test]
    fn runtime_sockets_and_system_dirs_cover_the_runtime_audit_lists() {
        use crate::manifest::rules::load_embedded;
        let set = load_embedded().expect("rules");
        let listed = |id: &str| -> Vec<String> {
            let rule = set.rules.iter().find(|r| r.id == id).expect(id);
            rule.expect
                .value
                .elements()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let sockets = listed("pod.host-path-runtime-socket");
        let dirs = listed("pod.host-path-system-dir");
        for path in RUNTIME_SOCKETS.iter().chain(SENSITIVE_HOST_PATHS) {
            let var_run = match path.strip_prefix("/run") {
                Some(rest) => format!("/var/run{rest}"),
                None => path.to_string(),
            };
            for spelling in [path.to_string(), var_run] {
                assert!(
                    sockets.contains(&spelling) || dirs.contains(&spelling),
                    "{spelling} is in the runtime audit but not in rules/pod.toml"
                );
            }
        }
    }
}
