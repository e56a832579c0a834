//! The containers running on the node, as the kernel sees them: every process whose
//! `/proc/<pid>/cgroup` places it under `kubepods`, grouped by container id, with the confinement
//! each process really has (`status`: capabilities, NoNewPrivs, seccomp, uid; its AppArmor label;
//! its namespaces; its mounts). Admission policy can say anything: this is what runs.
//!
//! `/proc` is walked once and each file read at most once. A process that exits mid-scan is
//! skipped, not an error. The host's own namespaces and mount table come from PID 1 — or, where
//! PID 1's links cannot be read (some sandboxes forbid it), from kthreadd (PID 2), a kernel thread
//! that always lives in the initial namespaces.
//!
//! Pods are named from the runtime's own record of the container (containerd's and cri-o's OCI
//! `config.json` annotations, docker's `config.v2.json` labels), else from the kubelet's log
//! directory `/var/log/pods/<namespace>_<name>_<uid>/<container>/`.

pub use crate::procstatus::{capability_bit, capability_names};
use std::cell::OnceCell;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use super::facts::Observed;
use super::process::{self, Visitor};
use super::root::{HostRoot, ReadError};

/// The namespaces compared with the host's.
pub const NAMESPACES: &[&str] = &["net", "pid", "ipc", "uts", "user", "mnt", "cgroup"];

/// At most this many unreadable processes are listed (the count is always exact).
const MAX_LISTED_UNREADABLE: usize = 20;
/// A runtime's container record is small; a larger one is refused.
const RECORD_CAP: u64 = 2 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct ContainerFacts {
    /// Where the host's namespaces and mount table were read.
    pub host: HostReference,
    /// Processes listed under `/proc`.
    pub processes_scanned: usize,
    /// Processes whose cgroup could not be read for a reason other than exiting.
    pub unreadable_count: usize,
    pub unreadable: Vec<UnreadableProcess>,
    /// `/proc` could not be listed at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_error: Option<String>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnreadableProcess {
    pub pid: u32,
    pub path: PathBuf,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReference {
    /// The process whose namespaces stand for the host's (1, or 2 when 1 is unreadable).
    pub pid: Option<u32>,
    /// `net` -> `net:[4026531840]`.
    pub namespaces: BTreeMap<String, String>,
    /// Why the reference is incomplete, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The host's mount table, used to map a container's mounts back to host paths.
    pub mounts: Observed<Vec<Mount>>,
    /// `/proc/sys/kernel/cap_last_cap`: the kernel's highest capability.
    pub cap_last_cap: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub id: String,
    /// `containerd`, `cri-o`, `docker`, `podman`, or `unknown` (cgroupfs paths carry no runtime
    /// name and no record was found).
    pub runtime: String,
    /// In a kubepods cgroup; an unmanaged container was started outside Kubernetes.
    pub managed: bool,
    /// The cgroup path that placed it under kubepods.
    pub cgroup: String,
    pub pod_uid: Option<String>,
    /// `guaranteed`, `burstable` or `besteffort`.
    pub qos: Option<String>,
    pub pod: Option<PodRef>,
    /// The pod's sandbox (pause) container rather than one of its workloads.
    pub sandbox: bool,
    pub processes: Vec<ContainerProcess>,
    /// One mount table per mount namespace among its processes.
    pub mount_tables: Vec<MountTable>,
    /// The capabilities the runtime could grant this container: the bounding set of the process
    /// that started it (the shim: containerd-shim, conmon), read from its status. A privileged
    /// container gets all of them — on a host whose init lacks a capability, "every capability"
    /// never holds, so privileged is judged against this set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grantable: Option<Grantable>,
}

/// A capability set the runtime could grant, and where it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grantable {
    #[serde(serialize_with = "hex_mask_plain")]
    pub mask: u64,
    /// `CapBnd of containerd-shim (pid 812), which started the container`.
    pub from: String,
}

fn hex_mask_plain<S: Serializer>(mask: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{mask:016x}"))
}

impl Container {
    /// `namespace/pod/container` as far as known; `pod <uid>` stands in for an unknown name.
    pub fn label(&self) -> String {
        let pod = self.pod.as_ref();
        let base = match (
            pod.and_then(|p| p.namespace.as_ref()),
            pod.and_then(|p| p.name.as_ref()),
        ) {
            (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
            _ => match &self.pod_uid {
                Some(uid) => format!("pod {uid}"),
                None => "unknown pod".to_string(),
            },
        };
        match pod.and_then(|p| p.container.as_ref()) {
            Some(container) => format!("{base}/{container}"),
            None => base,
        }
    }

    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodRef {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub container: Option<String>,
    /// The file or directory the name was read from.
    pub source: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerProcess {
    pub pid: u32,
    /// `Name:` from status (the kernel's comm).
    pub name: Option<String>,
    pub argv: Vec<String>,
    pub status: Observed<ProcStatus>,
    /// The AppArmor label (`cri-containerd.apparmor.d (enforce)`, `unconfined`).
    pub apparmor: Observed<String>,
    pub namespaces: BTreeMap<String, Observed<String>>,
}

impl ContainerProcess {
    /// The command line (or the kernel's comm when argv is empty), at most 120 characters.
    pub fn command(&self) -> String {
        if self.argv.is_empty() {
            self.name.clone().unwrap_or_default()
        } else {
            self.argv.join(" ").chars().take(120).collect()
        }
    }

    /// An `sshd` process: by comm, or by argv[0] (sshd rewrites argv to `sshd: user [priv]`).
    pub fn is_sshd(&self) -> bool {
        let argv0 = self.argv.first().map(String::as_str).unwrap_or_default();
        let base = argv0.rsplit('/').next().unwrap_or_default();
        self.name.as_deref() == Some("sshd") || base == "sshd" || base.starts_with("sshd:")
    }
}

/// The fields of `/proc/<pid>/status` confinement depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcStatus {
    /// Effective uid, as seen from the host's user namespace.
    pub uid: Option<u32>,
    /// The parent process (for a container's init, the runtime's shim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    #[serde(serialize_with = "hex_mask")]
    pub cap_eff: Option<u64>,
    #[serde(serialize_with = "hex_mask")]
    pub cap_bnd: Option<u64>,
    pub no_new_privs: Option<bool>,
    /// 0 disabled, 1 strict, 2 filter.
    pub seccomp: Option<u8>,
    pub seccomp_filters: Option<u32>,
}

fn hex_mask<S: Serializer>(mask: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match mask {
        Some(mask) => serializer.serialize_str(&format!("{mask:016x}")),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MountTable {
    /// The process the table was read from.
    pub pid: u32,
    pub mnt_namespace: Option<String>,
    pub mounts: Observed<Vec<Mount>>,
}

/// One line of `mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// `major:minor` of the filesystem.
    pub device: String,
    /// The path inside that filesystem that is mounted (`/etc` for a bind of the host's /etc).
    pub root: String,
    pub mount_point: String,
    pub read_only: bool,
    pub fs_type: String,
    pub source: String,
}

/// Where a process's cgroup path places it: under kubepods, or a container started by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupPlacement {
    pub id: String,
    pub runtime: &'static str,
    /// Under kubepods (the kubelet's); `false` for a container started by hand (ctr, docker,
    /// podman, nerdctl), which nothing else on the node audits.
    pub managed: bool,
    pub pod_uid: Option<String>,
    pub qos: Option<String>,
    pub path: String,
}

/// Walks `/proc` and audits every container process.
pub fn gather(root: &HostRoot) -> ContainerFacts {
    ContainerWalk::new(root).finish()
}

/// The container audit, fed one process at a time. It either shares the component scan's walk of
/// `/proc` (which lends its [`ContainerTally`] each `cmdline` it read, see [`share`](Self::share))
/// or, when nothing else walked `/proc`, walks it itself in [`finish`](Self::finish). Either way
/// each `/proc` file is read at most once per run.
pub struct ContainerWalk<'r> {
    root: &'r HostRoot,
    facts: ContainerFacts,
    tally: ContainerTally,
    walked: bool,
}

/// What the audit found in its share of the processes: the container processes by container id,
/// and the processes it could not read.
#[derive(Default)]
pub struct ContainerTally {
    processes_scanned: usize,
    unreadable_count: usize,
    unreadable: Vec<UnreadableProcess>,
    by_id: BTreeMap<String, Container>,
}

impl<'r> ContainerWalk<'r> {
    pub fn new(root: &'r HostRoot) -> Self {
        ContainerWalk {
            root,
            facts: ContainerFacts {
                host: host_reference(root),
                processes_scanned: 0,
                unreadable_count: 0,
                unreadable: Vec::new(),
                listing_error: None,
                containers: Vec::new(),
            },
            tally: ContainerTally::default(),
            walked: false,
        }
    }

    /// Another walk of `/proc` could not list it.
    pub fn listing_failed(&mut self, error: String) {
        self.walked = true;
        self.facts.listing_error = Some(error);
    }

    /// The tally a shared walk of `/proc` feeds; the audit then does not walk `/proc` itself.
    pub fn share(&mut self) -> &mut ContainerTally {
        self.walked = true;
        &mut self.tally
    }

    /// The audit: walks `/proc` first if no shared walk did, then names the containers.
    pub fn finish(mut self) -> ContainerFacts {
        let root = self.root;
        if !self.walked {
            match process::list_pids(root) {
                Ok(pids) => {
                    let shares =
                        process::for_each_pid(&pids, ContainerTally::default, |tally, pid| {
                            tally.processes_scanned += 1;
                            tally.audit(root, pid, None);
                        });
                    for share in shares {
                        self.tally.absorb(share);
                    }
                }
                Err(error) => {
                    self.facts.listing_error = Some(format!("/proc {error}"));
                    return self.facts;
                }
            }
        }
        let tally = std::mem::take(&mut self.tally);
        self.facts.processes_scanned = tally.processes_scanned;
        self.facts.unreadable_count = tally.unreadable_count;
        self.facts.unreadable = tally.unreadable;
        let by_id = tally.by_id;
        // Listed only when a container has no runtime record to name it.
        let pod_logs = PodLogDirs::new(root);
        let task_namespaces = OnceCell::new();
        for mut container in by_id.into_values() {
            name_container(root, &pod_logs, &task_namespaces, &mut container);
            container.grantable = grantable(root, &container);
            self.facts.containers.push(container);
        }
        self.facts
    }
}

impl Visitor for ContainerTally {
    fn fork(&self) -> Self {
        ContainerTally::default()
    }

    fn visit(&mut self, root: &HostRoot, pid: u32, cmdline: Result<&[u8], &ReadError>) {
        self.processes_scanned += 1;
        // Exited between the listing and the read.
        if matches!(cmdline, Err(ReadError::NotFound)) {
            return;
        }
        self.audit(root, pid, Some(cmdline.ok()));
    }

    fn absorb(&mut self, later: Self) {
        self.processes_scanned += later.processes_scanned;
        self.unreadable_count += later.unreadable_count;
        let room = MAX_LISTED_UNREADABLE.saturating_sub(self.unreadable.len());
        self.unreadable
            .extend(later.unreadable.into_iter().take(room));
        for (id, container) in later.by_id {
            match self.by_id.entry(id) {
                Entry::Vacant(slot) => {
                    slot.insert(container);
                }
                Entry::Occupied(mut slot) => {
                    let known = slot.get_mut();
                    known.processes.extend(container.processes);
                    for table in container.mount_tables {
                        if !known.knows_mount_namespace(table.mnt_namespace.as_ref()) {
                            known.mount_tables.push(table);
                        }
                    }
                }
            }
        }
    }
}

impl ContainerTally {
    /// `cmdline`: `Some` when the walk already read it (`Some(None)`: it could not be read).
    fn audit(&mut self, root: &HostRoot, pid: u32, cmdline: Option<Option<&[u8]>>) {
        let path = PathBuf::from(format!("/proc/{pid}/cgroup"));
        let text = match root.read_to_string(&path) {
            Ok(text) => text,
            // Exited between the listing and the read.
            Err(ReadError::NotFound) => return,
            Err(error) => {
                self.unreadable_count += 1;
                if self.unreadable.len() < MAX_LISTED_UNREADABLE {
                    self.unreadable.push(UnreadableProcess {
                        pid,
                        path,
                        error: error.to_string(),
                    });
                }
                return;
            }
        };
        let Some(placement) = parse_cgroup(&text) else {
            return;
        };
        // Exited, or a zombie (nothing runs; its ns links and mountinfo are gone).
        let Some(process) = read_process(root, pid, cmdline) else {
            return;
        };
        let container = self
            .by_id
            .entry(placement.id.clone())
            .or_insert_with(|| Container {
                id: placement.id.clone(),
                runtime: placement.runtime.to_string(),
                managed: placement.managed,
                cgroup: placement.path.clone(),
                pod_uid: placement.pod_uid.clone(),
                qos: placement.qos.clone(),
                pod: None,
                sandbox: false,
                processes: Vec::new(),
                mount_tables: Vec::new(),
                grantable: None,
            });
        let mnt = process
            .namespaces
            .get("mnt")
            .and_then(|ns| ns.value().cloned());
        if !container.knows_mount_namespace(mnt.as_ref()) {
            let path = PathBuf::from(format!("/proc/{pid}/mountinfo"));
            let mounts = Observed::read(root, &path, |text| parse_mountinfo(&text));
            // Absent: the process exited after its status was read; another one may tell.
            if !matches!(mounts, Observed::Absent { .. }) {
                container.mount_tables.push(MountTable {
                    pid,
                    mnt_namespace: mnt,
                    mounts,
                });
            }
        }
        container.processes.push(process);
    }
}

impl Container {
    /// Whether a mount table of the mount namespace `mnt` was read already.
    fn knows_mount_namespace(&self, mnt: Option<&String>) -> bool {
        mnt.is_some()
            && self
                .mount_tables
                .iter()
                .any(|table| table.mnt_namespace.as_ref() == mnt)
    }
}

/// Reads one container process; `None` when it exited meanwhile.
/// `cmdline` is the one a shared walk already read, if it did.
fn read_process(
    root: &HostRoot,
    pid: u32,
    cmdline: Option<Option<&[u8]>>,
) -> Option<ContainerProcess> {
    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let (status, name) = match root.read_to_string(&status_path) {
        Ok(text) => {
            if status_value(&text, "State").is_some_and(|state| state.starts_with(['Z', 'X'])) {
                return None;
            }
            let name = status_value(&text, "Name").map(String::from);
            (
                Observed::Value {
                    path: status_path,
                    value: parse_status(&text),
                },
                name,
            )
        }
        Err(ReadError::NotFound) => return None,
        Err(error) => (Observed::from_error(&status_path, error), None),
    };
    let split = |bytes: &[u8]| -> Vec<String> {
        bytes
            .split(|byte| *byte == 0)
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect()
    };
    let argv = match cmdline {
        Some(shared) => shared.map(split).unwrap_or_default(),
        None => root
            .read_capped(Path::new(&format!("/proc/{pid}/cmdline")), 64 * 1024)
            .map(|bytes| split(&bytes))
            .unwrap_or_default(),
    };
    let namespaces: BTreeMap<String, Observed<String>> =
        read_namespaces(root, pid).into_iter().collect();
    // A live process always has its namespace links: a missing one means it just exited.
    if namespaces
        .values()
        .any(|ns| matches!(ns, Observed::Absent { .. }))
    {
        return None;
    }
    Some(ContainerProcess {
        pid,
        name,
        argv,
        status,
        apparmor: read_apparmor_label(root, pid),
        namespaces,
    })
}

/// `/proc/<pid>/ns/*`, every kind in [`NAMESPACES`], in that order.
fn read_namespaces(root: &HostRoot, pid: u32) -> Vec<(String, Observed<String>)> {
    let ns_dir = PathBuf::from(format!("/proc/{pid}/ns"));
    NAMESPACES
        .iter()
        .zip(root.read_links_in(&ns_dir, NAMESPACES))
        .map(|(kind, target)| {
            let path = ns_dir.join(kind);
            let observed = match target {
                Ok(target) => Observed::Value {
                    path,
                    value: target.to_string_lossy().into_owned(),
                },
                Err(error) => Observed::from_error(&path, error),
            };
            (kind.to_string(), observed)
        })
        .collect()
}

/// `attr/apparmor/current` (kernels with LSM stacking), else `attr/current`.
fn read_apparmor_label(root: &HostRoot, pid: u32) -> Observed<String> {
    let stacked = PathBuf::from(format!("/proc/{pid}/attr/apparmor/current"));
    match root.read_to_string(&stacked) {
        Ok(text) => Observed::Value {
            path: stacked,
            value: clean_label(&text),
        },
        Err(ReadError::NotFound) => {
            let legacy = PathBuf::from(format!("/proc/{pid}/attr/current"));
            Observed::read(root, &legacy, |text| clean_label(&text))
        }
        Err(error) => Observed::from_error(&stacked, error),
    }
}

fn clean_label(text: &str) -> String {
    text.trim_end_matches(['\0', '\n']).trim().to_string()
}

/// The host reference: namespaces, mounts and the kernel's capability range.
fn host_reference(root: &HostRoot) -> HostReference {
    let cap_last_cap = root
        .read_to_string(Path::new("/proc/sys/kernel/cap_last_cap"))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    HostReference {
        cap_last_cap,
        ..host_namespaces(root)
    }
}

/// PID 1's namespaces and mounts, else kthreadd's.
fn host_namespaces(root: &HostRoot) -> HostReference {
    let read_all = |pid: u32| -> Result<BTreeMap<String, String>, String> {
        let mut links = BTreeMap::new();
        for (kind, observed) in read_namespaces(root, pid) {
            match observed {
                Observed::Value { value, .. } => {
                    links.insert(kind, value);
                }
                Observed::Absent { path } => {
                    return Err(format!("{} does not exist", path.display()));
                }
                Observed::Unreadable { path, error } => {
                    return Err(format!("{} {error}", path.display()));
                }
            }
        }
        Ok(links)
    };
    let mounts_of = |pid: u32| {
        Observed::read(root, Path::new(&format!("/proc/{pid}/mountinfo")), |text| {
            parse_mountinfo(&text)
        })
    };
    match read_all(1) {
        Ok(namespaces) => HostReference {
            pid: Some(1),
            namespaces,
            note: None,
            mounts: mounts_of(1),
            cap_last_cap: None,
        },
        Err(pid1_error) => {
            let kthreadd = root
                .read_to_string(Path::new("/proc/2/status"))
                .ok()
                .is_some_and(|text| {
                    status_value(&text, "Name") == Some("kthreadd")
                        && status_value(&text, "PPid") == Some("0")
                });
            match kthreadd.then(|| read_all(2)) {
                Some(Ok(namespaces)) => HostReference {
                    pid: Some(2),
                    namespaces,
                    note: Some(format!(
                        "{pid1_error}; used kthreadd (PID 2), which lives in the initial namespaces"
                    )),
                    mounts: mounts_of(2),
                    cap_last_cap: None,
                },
                other => {
                    let why = match other {
                        Some(Err(error)) => format!("; kthreadd: {error}"),
                        _ => "; PID 2 is not kthreadd".to_string(),
                    };
                    HostReference {
                        pid: None,
                        namespaces: BTreeMap::new(),
                        note: Some(format!("{pid1_error}{why}")),
                        mounts: mounts_of(1),
                        cap_last_cap: None,
                    }
                }
            }
        }
    }
}

/// The value of `Field:` in a status text.
pub fn status_value<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim())
    })
}

pub fn parse_status(text: &str) -> ProcStatus {
    // One pass over the lines, each field's first line kept: what `status_value` gives per field.
    const FIELDS: [&str; 7] = [
        "Uid",
        "PPid",
        "CapEff",
        "CapBnd",
        "NoNewPrivs",
        "Seccomp",
        "Seccomp_filters",
    ];
    let mut values: [Option<&str>; 7] = [None; 7];
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if let Some(slot) = FIELDS
            .iter()
            .position(|field| *field == key)
            .and_then(|index| values.get_mut(index))
            && slot.is_none()
        {
            *slot = Some(value.trim());
        }
    }
    let [
        uid,
        ppid,
        cap_eff,
        cap_bnd,
        no_new_privs,
        seccomp,
        seccomp_filters,
    ] = values;
    let mask = |value: Option<&str>| value.and_then(|v| u64::from_str_radix(v, 16).ok());
    ProcStatus {
        // Uid: real effective saved filesystem
        uid: uid
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok()),
        ppid: ppid.and_then(|v| v.parse().ok()),
        cap_eff: mask(cap_eff),
        cap_bnd: mask(cap_bnd),
        no_new_privs: no_new_privs.map(|v| v != "0"),
        seccomp: seccomp.and_then(|v| v.parse().ok()),
        seccomp_filters: seccomp_filters.and_then(|v| v.parse().ok()),
    }
}

/// Parses `/proc/<pid>/cgroup` (v1 lines `N:controllers:/path`, v2 line `0::/path`) and returns
/// the container placement of the first path under kubepods that ends in a container id, else
/// of the first path that names a container started outside Kubernetes.
pub fn parse_cgroup(text: &str) -> Option<CgroupPlacement> {
    let paths = || text.lines().filter_map(|line| line.splitn(3, ':').nth(2));
    paths()
        .find_map(parse_cgroup_path)
        .or_else(|| paths().find_map(parse_unmanaged_path))
}

/// A container outside kubepods: the deepest component naming a full 64-hex container id —
/// `docker-<id>.scope` or `/docker/<id>` (Docker), `libpod-<id>.scope` (podman),
/// `nerdctl-<id>.scope`, `/<namespace>/<id>` (`ctr run`: `/default/<id>`), `cri-containerd-` and
/// `crio-` scopes. Monitors (`libpod-conmon-`, `crio-conmon-`) are not containers.
fn parse_unmanaged_path(path: &str) -> Option<CgroupPlacement> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (index, (id, runtime)) = parts.iter().enumerate().rev().find_map(|(index, part)| {
        let stem = part.strip_suffix(".scope").unwrap_or(part);
        let found = if stem.starts_with("libpod-conmon-") {
            None
        } else if let Some(id) = stem.strip_prefix("libpod-") {
            Some((id, "podman"))
        } else if let Some(id) = stem.strip_prefix("nerdctl-") {
            Some((id, "containerd"))
        } else {
            container_id(part)
                .map(|(_, runtime)| (stem.rsplit('-').next().unwrap_or(stem), runtime))
        }?;
        let (id, runtime) = found;
        (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| (index, (id.to_ascii_lowercase(), runtime)))
    })?;
    let runtime = match (runtime, index.checked_sub(1).map(|parent| parts[parent])) {
        ("unknown", Some("docker")) => "docker",
        (runtime, _) => runtime,
    };
    Some(CgroupPlacement {
        id,
        runtime,
        managed: false,
        pod_uid: None,
        qos: None,
        path: path.to_string(),
    })
}

fn parse_cgroup_path(path: &str) -> Option<CgroupPlacement> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let start = parts.iter().position(|part| part.contains("kubepods"))?;
    let below = &parts[start..];
    // The container is the deepest component that names one; a process may sit in a child
    // cgroup of its container (systemd inside a container).
    let (index, (id, runtime)) = below
        .iter()
        .enumerate()
        .rev()
        .find_map(|(index, part)| container_id(part).map(|found| (index, found)))?;
    let pod_part = below[..index].iter().rev().find_map(|part| pod_uid(part));
    let qos = below[..index].iter().find_map(|part| {
        ["burstable", "besteffort", "guaranteed"]
            .into_iter()
            .find(|class| {
                part == class
                    || part
                        .trim_end_matches(".slice")
                        .ends_with(&format!("-{class}"))
            })
    });
    let qos = qos
        .map(String::from)
        .or_else(|| pod_part.as_ref().map(|_| "guaranteed".to_string()));
    Some(CgroupPlacement {
        id,
        runtime,
        managed: true,
        pod_uid: pod_part,
        qos,
        path: path.to_string(),
    })
}

/// A container id from a cgroup component: `cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `docker-<id>.scope`, or a bare id (the cgroupfs driver). `crio-conmon-<id>` is cri-o's monitor
/// process, not the container.
fn container_id(part: &str) -> Option<(String, &'static str)> {
    let stem = part.strip_suffix(".scope").unwrap_or(part);
    let (id, runtime) = if let Some(id) = stem.strip_prefix("cri-containerd-") {
        (id, "containerd")
    } else if stem.starts_with("crio-conmon-") {
        return None;
    } else if let Some(id) = stem.strip_prefix("crio-") {
        (id, "cri-o")
    } else if let Some(id) = stem.strip_prefix("docker-") {
        (id, "docker")
    } else {
        (stem, "unknown")
    };
    let hex = id.len() >= 12 && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| (id.to_ascii_lowercase(), runtime))
}

/// A pod uid from `pod<uid>` or `kubepods-<qos>-pod<uid_with_underscores>.slice`.
fn pod_uid(part: &str) -> Option<String> {
    let stem = part.strip_suffix(".slice").unwrap_or(part);
    let at = stem.rfind("pod")?;
    let uid = stem[at + 3..].replace('_', "-");
    let looks_like_uid = uid.len() == 36
        && uid.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    looks_like_uid.then_some(uid)
}

/// Parses mountinfo lines: `id parent maj:min root mountpoint options [optional...] - fstype
/// source superoptions`. Octal escapes (`\040` for a space) are decoded.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            if fields.len() < 6 || right.len() < 2 {
                return None;
            }
            Some(Mount {
                device: fields[2].to_string(),
                root: unescape(fields[3]),
                mount_point: unescape(fields[4]),
                read_only: fields[5].split(',').any(|option| option == "ro"),
                fs_type: right[0].to_string(),
                source: unescape(right[1]),
            })
        })
        .collect()
}

fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && let Some(value) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|octal| u8::from_str_radix(octal, 8).ok())
        {
            out.push(value);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/var/log/pods/<namespace>_<name>_<uid>/<container>/`: listed at the first lookup (a node
/// whose runtime records name every container never lists it), a pod's containers only when that
/// pod is looked up.
pub(crate) struct PodLogDirs<'r> {
    root: &'r HostRoot,
    /// Pod uid -> (namespace, pod name).
    by_uid: OnceCell<BTreeMap<String, (String, String)>>,
}

const POD_LOG_DIR: &str = "/var/log/pods";
pub(crate) const KUBELET_PODS_DIR: &str = "/var/lib/kubelet/pods";

impl<'r> PodLogDirs<'r> {
    pub(crate) fn new(root: &'r HostRoot) -> Self {
        PodLogDirs {
            root,
            by_uid: OnceCell::new(),
        }
    }

    /// `(namespace, pod name)` of a pod uid, from its log directory.
    pub(crate) fn name(&self, uid: &str) -> Option<(&str, &str)> {
        self.listed()
            .get(uid)
            .map(|(namespace, pod)| (namespace.as_str(), pod.as_str()))
    }

    /// The container names under a pod's log directory.
    fn containers(&self, namespace: &str, pod: &str, uid: &str) -> Vec<String> {
        self.root
            .read_dir_names(&Path::new(POD_LOG_DIR).join(format!("{namespace}_{pod}_{uid}")))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    fn listed(&self) -> &BTreeMap<String, (String, String)> {
        self.by_uid.get_or_init(|| {
            let mut by_uid = BTreeMap::new();
            for name in self
                .root
                .read_dir_names(Path::new(POD_LOG_DIR))
                .unwrap_or_default()
            {
                let name = name.to_string_lossy();
                // Namespaces and pod names are DNS labels/subdomains: they hold no `_`.
                let mut parts = name.splitn(3, '_');
                if let (Some(namespace), Some(pod), Some(uid)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    by_uid.insert(uid.to_string(), (namespace.to_string(), pod.to_string()));
                }
            }
            by_uid
        })
    }
}

/// Names the container's pod from the runtime's record, else the kubelet's log directory.
fn name_container(
    root: &HostRoot,
    logs: &PodLogDirs,
    task_namespaces: &OnceCell<Vec<OsString>>,
    container: &mut Container,
) {
    if let Some((labels, source, runtime)) = runtime_record(root, task_namespaces, container) {
        // A cgroupfs path names no runtime; the record that was found does.
        if container.runtime == "unknown" {
            container.runtime = runtime.to_string();
        }
        let get = |keys: &[&str]| {
            keys.iter()
                .find_map(|key| labels.get(*key).filter(|v| !v.is_empty()).cloned())
        };
        let kind = get(&[
            "io.kubernetes.cri.container-type",
            "io.kubernetes.cri-o.ContainerType",
            "io.kubernetes.docker.type",
        ]);
        container.sandbox = matches!(kind.as_deref(), Some("sandbox" | "podsandbox"));
        let namespace = get(&[
            "io.kubernetes.cri.sandbox-namespace",
            "io.kubernetes.pod.namespace",
        ]);
        let name = get(&["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]);
        let container_name = get(&[
            "io.kubernetes.cri.container-name",
            "io.kubernetes.container.name",
        ])
        .filter(|name| name != "POD");
        if container.pod_uid.is_none() {
            container.pod_uid = get(&["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"]);
        }
        if let (Some(namespace), Some(name)) = (namespace, name) {
            container.pod = Some(PodRef {
                namespace: Some(namespace),
                name: Some(name),
                container: if container.sandbox {
                    None
                } else {
                    container_name
                },
                source,
            });
            return;
        }
    }
    // No runtime record: a lone process called `pause` is the sandbox.
    container.sandbox = !container.processes.is_empty()
        && container
            .processes
            .iter()
            .all(|process| process.name.as_deref() == Some("pause"));
    let Some(uid) = &container.pod_uid else {
        return;
    };
    if let Some((namespace, name)) = logs.name(uid) {
        // The log directory names containers but not their ids: only a pod with one container
        // names it unambiguously.
        let only = match logs.containers(namespace, name, uid).as_slice() {
            [only] if !container.sandbox => Some(only.clone()),
            _ => None,
        };
        container.pod = Some(PodRef {
            namespace: Some(namespace.to_string()),
            name: Some(name.to_string()),
            container: only,
            source: Path::new(POD_LOG_DIR).join(format!("{namespace}_{name}_{uid}")),
        });
        return;
    }
    // The kubelet's pod directory names the containers (not the namespace or pod name).
    let dir = Path::new(KUBELET_PODS_DIR).join(uid).join("containers");
    if let Ok(names) = root.read_dir_names(&dir)
        && let [only] = names.as_slice()
        && !container.sandbox
    {
        container.pod = Some(PodRef {
            namespace: None,
            name: None,
            container: Some(only.to_string_lossy().into_owned()),
            source: dir,
        });
    }
}

/// The runtime's record of a container: its annotations (OCI config.json) or labels (docker),
/// the file, and the runtime that keeps it. containerd's records are looked for in the CRI
/// namespace `k8s.io` first, then in every other namespace of its task directory (`moby` for
/// Docker's containerd, `default` for `ctr run`). The task directory is listed once per run
/// (`task_namespaces`), not once per container.
fn runtime_record(
    root: &HostRoot,
    task_namespaces: &OnceCell<Vec<OsString>>,
    container: &Container,
) -> Option<(BTreeMap<String, String>, PathBuf, &'static str)> {
    let id = &container.id;
    let task_dir = Path::new(CONTAINERD_TASKS);
    let mut containerd = vec![task_dir.join("k8s.io").join(id).join("config.json")];
    let namespaces = task_namespaces.get_or_init(|| {
        let mut namespaces = root.read_dir_names(task_dir).unwrap_or_default();
        namespaces.sort();
        namespaces.retain(|name| name != "k8s.io");
        namespaces
    });
    for namespace in namespaces {
        containerd.push(task_dir.join(namespace).join(id).join("config.json"));
    }
    let crio = PathBuf::from(format!(
        "/run/containers/storage/overlay-containers/{id}/userdata/config.json"
    ));
    let docker = PathBuf::from(format!("/var/lib/docker/containers/{id}/config.v2.json"));
    let tagged = |paths: Vec<PathBuf>, runtime: &'static str| {
        paths.into_iter().map(move |path| (path, runtime))
    };
    let candidates: Vec<(PathBuf, &'static str)> = match container.runtime.as_str() {
        "containerd" => tagged(containerd, "containerd").collect(),
        "cri-o" => tagged(vec![crio], "cri-o").collect(),
        "docker" => tagged(vec![docker], "docker").collect(),
        _ => tagged(containerd, "containerd")
            .chain(tagged(vec![crio], "cri-o"))
            .chain(tagged(vec![docker], "docker"))
            .collect(),
    };
    candidates.into_iter().find_map(|(path, runtime)| {
        let bytes = root.read_capped(&path, RECORD_CAP).ok()?;
        let record = RecordFields::parse(&bytes)?;
        let table = record
            .annotations
            .as_ref()
            .or_else(|| {
                record
                    .config
                    .as_ref()
                    .and_then(|config| config.get("Labels"))
            })
            .and_then(serde_json::Value::as_object);
        let labels = table
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
            .collect();
        Some((labels, path, runtime))
    })
}

/// The two parts of a runtime's record that name a container: the OCI `annotations`
/// (containerd, CRI-O) and Docker's `Config` (its `Labels`). Only they are built as JSON values;
/// the rest of the record (the whole OCI spec) is read past. A key present with any value, `null`
/// included, is `Some`: only an absent `annotations` falls back to `Config.Labels`.
#[derive(serde::Deserialize)]
struct RecordFields {
    #[serde(default, deserialize_with = "present")]
    annotations: Option<serde_json::Value>,
    #[serde(default, rename = "Config", deserialize_with = "present")]
    config: Option<serde_json::Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde::Deserialize::deserialize(deserializer).map(Some)
}

impl RecordFields {
    /// `None` when the record is not JSON. Any JSON document that is not an object with each key
    /// once (an array, a duplicated key) is read as a whole value, as every record once was.
    fn parse(bytes: &[u8]) -> Option<RecordFields> {
        // Only an object: serde would read an array into the fields by position.
        let object = bytes.trim_ascii_start().first() == Some(&b'{');
        if object && let Ok(record) = serde_json::from_slice::<RecordFields>(bytes) {
            return Some(record);
        }
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        Some(RecordFields {
            annotations: json.get("annotations").cloned(),
            config: json.get("Config").cloned(),
        })
    }
}

/// containerd's task records: `<namespace>/<id>/config.json` (the OCI bundle).
const CONTAINERD_TASKS: &str = "/run/containerd/io.containerd.runtime.v2.task";

/// The bounding set of the process that started the container (its init's parent, outside the
/// container), which is everything the runtime could grant it. `None` when it cannot be read or
/// lacks CAP_SYS_ADMIN (then it is not a runtime that could make a privileged container, and the
/// rule falls back to the classic full set).
fn grantable(root: &HostRoot, container: &Container) -> Option<Grantable> {
    let pids: BTreeSet<u32> = container.processes.iter().map(|p| p.pid).collect();
    let parent = container
        .processes
        .iter()
        .find_map(|process| match &process.status {
            Observed::Value { value, .. } => {
                value.ppid.filter(|ppid| !pids.contains(ppid) && *ppid > 1)
            }
            _ => None,
        })?;
    let text = root
        .read_to_string(Path::new(&format!("/proc/{parent}/status")))
        .ok()?;
    let mask = status_value(&text, "CapBnd").and_then(|v| u64::from_str_radix(v, 16).ok())?;
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    (mask & CAP_SYS_ADMIN != 0).then(|| Grantable {
        mask,
        from: format!(
            "CapBnd of {} (pid {parent}), which started the container",
            status_value(&text, "Name").unwrap_or("its parent")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const UID: &str = "0d8a3f7e-1c2b-4d5e-9f60-7a8b9c0d1e2f";

    /// The field-by-field parse the one-pass `parse_status` replaced.
    fn status_field_by_field(text: &str) -> ProcStatus {
        let mask = |field| status_value(text, field).and_then(|v| u64::from_str_radix(v, 16).ok());
        ProcStatus {
            uid: status_value(text, "Uid")
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok()),
            ppid: status_value(text, "PPid").and_then(|v| v.parse().ok()),
            cap_eff: mask("CapEff"),
            cap_bnd: mask("CapBnd"),
            no_new_privs: status_value(text, "NoNewPrivs").map(|v| v != "0"),
            seccomp: status_value(text, "Seccomp").and_then(|v| v.parse().ok()),
            seccomp_filters: status_value(text, "Seccomp_filters").and_then(|v| v.parse().ok()),
        }
    }

    #[test]
    fn one_pass_status_parse_is_the_field_by_field_one() {
        let full = "Name:\tpause\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t4242\n\
                    Uid:\t0\t65535\t0\t0\nCapInh:\t0000000000000000\n\
                    CapBnd:\t000001ffffffffff\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n\
                    Seccomp:\t2\nSeccomp_filters:\t1\n";
        let texts = [
            full.to_string(),
            String::new(),
            "Uid: x\nUid:\t1 2 3 4\n".to_string(),
            "CapEff:\tzz\nCapEff:\t1\nSeccomp:\t300\nNoNewPrivs:\t0\n".to_string(),
            "PPid 12\nPPid:12\n Seccomp:\t2\nSeccomp_filters\n".to_string(),
            full.lines().rev().collect::<Vec<_>>().join("\n"),
        ];
        for text in &texts {
            assert_eq!(parse_status(text), status_field_by_field(text), "{text:?}");
        }
        let parsed = parse_status(full);
        assert_eq!(parsed.uid, Some(65535));
        assert_eq!(parsed.cap_bnd, Some(0x1ff_ffff_ffff));
        assert_eq!(parsed.no_new_privs, Some(true));
    }

    #[test]
    fn record_fields_are_what_the_whole_json_value_gave() {
        let whole =
            |bytes: &[u8]| -> Option<(Option<serde_json::Value>, Option<serde_json::Value>)> {
                let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
                let table = json
                    .get("annotations")
                    .or_else(|| json.get("Config").and_then(|config| config.get("Labels")))
                    .cloned();
                Some((table, json.get("Config").cloned()))
            };
        let fields = |bytes: &[u8]| {
            RecordFields::parse(bytes).map(|record| {
                let table = record.annotations.clone().or_else(|| {
                    record
                        .config
                        .as_ref()
                        .and_then(|c| c.get("Labels"))
                        .cloned()
                });
                (table, record.config)
            })
        };
        for text in [
            r#"{"ociVersion":"1.1.0","process":{"args":["sh"]},"annotations":{"io.kubernetes.cri.container-name":"app"}}"#,
            r#"{"annotations":null,"Config":{"Labels":{"a":"b"}}}"#,
            r#"{"Config":{"Labels":{"io.kubernetes.pod.name":"p"}}}"#,
            r#"{"Config":null}"#,
            r#"{"annotations":{"a":"1"},"annotations":{"b":"2"}}"#,
            r#"{"annotations":[1,2]}"#,
            r#"[{"annotations":{"a":"b"}}]"#,
            r#""text""#,
            "{}",
            "not json",
            "",
        ] {
            assert_eq!(fields(text.as_bytes()), whole(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn cgroup_v2_systemd_containerd() {
        let uid_ = UID.replace('-', "_");
        let text = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/cri-containerd-{ID}.scope\n"
        );
        let placement = parse_cgroup(&text).expect("kubepods");
        assert_eq!(placement.id, ID);
        assert_eq!(placement.runtime, "containerd");
        assert_eq!(placement.pod_uid.as_deref(), Some(UID));
        assert_eq!(placement.qos.as_deref(), Some("burstable"));
    }

    #[test]
    fn cgroup_v1_cgroupfs_and_guaranteed() {
        let text =
            format!("12:pids:/kubepods/pod{UID}/{ID}\n11:memory:/kubepods/pod{UID}/{ID}\n0::/\n");
        let placement = parse_cgroup(&text).expect("kubepods");
        assert_eq!(placement.runtime, "unknown");
        assert_eq!(placement.qos.as_deref(), Some("guaranteed"));
        assert_eq!(placement.pod_uid.as_deref(), Some(UID));
        let text = format!("4:memory:/kubepods/besteffort/pod{UID}/{ID}\n");
        assert_eq!(
            parse_cgroup(&text).and_then(|p| p.qos).as_deref(),
            Some("besteffort")
        );
    }

    #[test]
    fn crio_docker_and_conmon() {
        let crio = format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/crio-{ID}.scope\n",
            UID.replace('-', "_")
        );
        assert_eq!(parse_cgroup(&crio).map(|p| p.runtime), Some("cri-o"));
        let conmon = crio.replace("crio-", "crio-conmon-");
        assert_eq!(parse_cgroup(&conmon), None);
        let docker = format!(
            "3:cpu:/kubepods.slice/kubepods-pod{}.slice/docker-{ID}.scope\n",
            UID.replace('-', "_")
        );
        let placement = parse_cgroup(&docker).expect("docker");
        assert_eq!(placement.runtime, "docker");
        assert_eq!(placement.qos.as_deref(), Some("guaranteed"));
    }

    #[test]
    fn containers_started_outside_kubernetes_are_unmanaged() {
        let docker =
            parse_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")).expect("docker");
        assert_eq!((docker.runtime, docker.managed), ("docker", false));
        let cgroupfs = parse_cgroup(&format!("4:pids:/docker/{ID}\n")).expect("cgroupfs docker");
        assert_eq!(cgroupfs.runtime, "docker");
        let podman = parse_cgroup(&format!(
            "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope\n"
        ))
        .expect("podman");
        assert_eq!((podman.runtime, podman.id.as_str()), ("podman", ID));
        assert_eq!(
            parse_cgroup(&format!("0::/machine.slice/libpod-conmon-{ID}.scope\n")),
            None
        );
        let ctr = parse_cgroup(&format!("0::/default/{ID}\n")).expect("ctr run");
        assert_eq!((ctr.runtime, ctr.managed), ("unknown", false));
        // Outside kubepods only full 64-hex ids count.
        assert_eq!(
            parse_cgroup("0::/system.slice/docker-0123456789ab.scope\n"),
            None
        );
        // A kubepods placement wins over an unmanaged-looking one on another line.
        let both = format!("5:pids:/docker/{ID}\n4:memory:/kubepods/pod{UID}/{ID}\n");
        assert!(parse_cgroup(&both).expect("kubepods").managed);
    }

    #[test]
    fn not_kubepods_or_no_id() {
        assert_eq!(parse_cgroup("0::/system.slice/sshd.service\n"), None);
        assert_eq!(
            parse_cgroup("0::/kubepods.slice/kubepods-burstable.slice\n"),
            None
        );
        assert_eq!(parse_cgroup("garbage"), None);
    }

    #[test]
    fn mountinfo_lines() {
        let text = "36 35 98:0 /etc /host/etc rw,noatime master:1 - ext4 /dev/sda1 rw\n\
                    40 35 0:5 / /my\\040dir ro - tmpfs tmpfs ro\nbroken\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].root, "/etc");
        assert_eq!(mounts[0].mount_point, "/host/etc");
        assert!(!mounts[0].read_only);
        assert_eq!(mounts[0].fs_type, "ext4");
        assert_eq!(mounts[1].mount_point, "/my dir");
        assert!(mounts[1].read_only);
    }

    #[test]
    fn status_fields() {
        let status = parse_status(
            "Name:\tnginx\nUid:\t1000\t0\t0\t0\nCapEff:\t00000000a80425fb\nCapBnd:\t000001ffffffffff\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n",
        );
        assert_eq!(status.uid, Some(0));
        assert_eq!(status.cap_eff, Some(0xa80425fb));
        assert_eq!(status.no_new_privs, Some(true));
        assert_eq!(status.seccomp, Some(2));
    }

    #[test]
    fn capability_masks_decode() {
        // containerd's default set.
        let names = capability_names(0xa80425fb);
        assert_eq!(
            names,
            [
                "CHOWN",
                "DAC_OVERRIDE",
                "FOWNER",
                "FSETID",
                "KILL",
                "SETGID",
                "SETUID",
                "SETPCAP",
                "NET_BIND_SERVICE",
                "NET_RAW",
                "SYS_CHROOT",
                "MKNOD",
                "AUDIT_WRITE",
                "SETFCAP"
            ]
        );
        assert_eq!(capability_names(1 << 21), ["SYS_ADMIN"]);
        assert_eq!(capability_names(1 << 50), ["CAP_50"]);
        assert_eq!(capability_bit("sys_admin"), Some(21));
        assert_eq!(capability_bit("CAP_NET_ADMIN"), Some(12));
        assert_eq!(capability_bit("nope"), None);
    }
}
