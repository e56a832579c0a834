//! Process discovery: which Kubernetes components run on this node, read from
//! `<root>/proc/<pid>/cmdline`.
//!
//! A component is identified by the basename of argv[0] — never by a substring of the command
//! line, so `kube-apiserver --etcd-servers=...` is not etcd and `calico-kube-controllers` is not
//! the controller manager. `cmdline` is read as raw bytes and split on NUL: a non-UTF-8 argument
//! cannot hide a process, and names longer than the 15 characters of `comm` work. A process that
//! exits while the scan runs is skipped and counted. Each `/proc/<pid>/cmdline` is read once per run:
//! [`scan_visiting`] lends it to the container audit when both run. The walk is split across the
//! CPUs (it is system calls, per process independent); what it finds is merged back in pid order.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::root::{HostRoot, ReadError};
use crate::host::components::ComponentKind;
use crate::parallel::{self, Split};

/// `cmdline` can be long (the apiserver's is several KiB); this is far above any real one.
const CMDLINE_CAP: u64 = 1024 * 1024;

/// One process that is a Kubernetes component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentProcess {
    pub pid: u32,
    pub kind: ComponentKind,
    /// The arguments after the program name (for hyperkube, after the component name too).
    pub args: Vec<String>,
    /// argv[0] as the process shows it.
    pub program: String,
    /// Why the arguments could not be read (a command line over the read cap): the process is
    /// known by `/proc/<pid>/exe` and runs, but none of its flags can be decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args_error: Option<String>,
}

/// A k3s or rke2 process: the components run inside it, configured through its own files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbeddedDistribution {
    pub pid: u32,
    /// `k3s` or `rke2`.
    pub distribution: String,
    /// `server`, `agent`, or what followed the program name.
    pub role: String,
    /// The arguments after the program name (and the role, for k3s and rke2).
    pub args: Vec<String>,
}

/// A container runtime daemon (`containerd`, `crio`, `dockerd`), found in the same walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeProcess {
    pub pid: u32,
    /// The basename of its program: `containerd`, `crio` or `dockerd`.
    pub name: String,
    /// `argv[0]` as the process shows it (`/usr/bin/containerd`).
    pub program: String,
    /// The arguments after the program name.
    pub args: Vec<String>,
}

/// The runtime daemons hardnode reads the configuration of, by program basename.
pub const RUNTIME_DAEMONS: &[&str] = &["containerd", "crio", "dockerd"];

/// What one walk of `/proc` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProcessScan {
    /// Process directories looked at.
    pub scanned: usize,
    /// Processes that exited between listing `/proc` and reading their `cmdline`.
    pub vanished: usize,
    /// `cmdline` files that exist but could not be read, with why.
    pub unreadable: Vec<String>,
    pub components: Vec<ComponentProcess>,
    pub embedded: Vec<EmbeddedDistribution>,
    /// Container runtime daemons (`containerd`, `crio`, `dockerd`).
    pub runtimes: Vec<RuntimeProcess>,
    /// Set when `/proc` itself could not be listed.
    pub error: Option<String>,
}

impl ProcessScan {
    /// The first (lowest pid) process of `kind`, and the pids of any others.
    pub fn find(&self, kind: ComponentKind) -> Option<(&ComponentProcess, Vec<u32>)> {
        let mut matching = self.components.iter().filter(|p| p.kind == kind);
        let first = matching.next()?;
        Some((first, matching.map(|p| p.pid).collect()))
    }

    /// Takes in the scan of a later (higher-pid) share of the same walk.
    fn absorb(&mut self, later: ProcessScan) {
        self.scanned += later.scanned;
        self.vanished += later.vanished;
        self.unreadable.extend(later.unreadable);
        self.components.extend(later.components);
        self.embedded.extend(later.embedded);
        self.runtimes.extend(later.runtimes);
    }

    /// The first (lowest pid) runtime daemon named `name`.
    pub fn runtime(&self, name: &str) -> Option<&RuntimeProcess> {
        self.runtimes.iter().find(|p| p.name == name)
    }
}

/// How a walk of `/proc` is shared out: threads claim 16 pids at a time (small enough to balance
/// a node whose container processes, six files each, sit together), and a thread is worth
/// starting for 48 processes or more.
const PROC_SPLIT: Split = Split {
    per_block: 16,
    min_per_thread: 48,
    thread_name: "hardnode-proc",
};

/// What a walk of `/proc` lends each process's `cmdline` to (the container audit), so another
/// reader of `/proc` shares the walk instead of listing `/proc` and reading every `cmdline` again.
/// The walk is split across threads: each block of pids gets its own [`fork`](Self::fork), and
/// the forks are [`absorb`](Self::absorb)ed back in pid order.
pub trait Visitor: Send + Sync + Sized {
    /// A fresh, empty visitor for another share of the processes.
    fn fork(&self) -> Self;
    /// One process, with its `cmdline` as the walk read it (or why it could not).
    fn visit(&mut self, root: &HostRoot, pid: u32, cmdline: Result<&[u8], &ReadError>);
    /// Takes in what a fork saw; `later` visited only higher pids than `self`.
    fn absorb(&mut self, later: Self);
}

/// Nothing but the component discovery reads the walk.
impl Visitor for () {
    fn fork(&self) {}
    fn visit(&mut self, _: &HostRoot, _: u32, _: Result<&[u8], &ReadError>) {}
    fn absorb(&mut self, _: ()) {}
}

/// The pids listed under `<root>/proc`, ascending.
pub fn list_pids(root: &HostRoot) -> Result<Vec<u32>, ReadError> {
    let mut pids: Vec<u32> = root
        .read_dir_names(Path::new("/proc"))?
        .iter()
        .filter_map(|name| name.to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// Runs `work` on every pid, split across the CPUs; the states come back in pid order.
pub fn for_each_pid<S: Send>(
    pids: &[u32],
    new_state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, u32) + Sync,
) -> Vec<S> {
    parallel::for_each_block(pids, &PROC_SPLIT, new_state, |state, &pid| work(state, pid))
}

/// Walks `<root>/proc` once.
pub fn scan(root: &HostRoot) -> ProcessScan {
    scan_visiting(root, &mut ())
}

/// Walks `<root>/proc` once, and hands each process's `cmdline` (as read, or why it could not
/// be) to `visitor`.
pub fn scan_visiting<V: Visitor>(root: &HostRoot, visitor: &mut V) -> ProcessScan {
    let mut scan = ProcessScan::default();
    let pids = match list_pids(root) {
        Ok(pids) => pids,
        Err(ReadError::NotFound) => return scan,
        Err(error) => {
            scan.error = Some(format!("/proc {error}"));
            return scan;
        }
    };
    let shares = for_each_pid(
        &pids,
        || (ProcessScan::default(), visitor.fork()),
        |(scan, visitor), pid| scan_one(root, pid, scan, visitor),
    );
    for (part, seen) in shares {
        scan.absorb(part);
        visitor.absorb(seen);
    }
    scan
}

fn scan_one(root: &HostRoot, pid: u32, scan: &mut ProcessScan, visitor: &mut impl Visitor) {
    scan.scanned += 1;
    let path = PathBuf::from(format!("/proc/{pid}/cmdline"));
    let bytes = match root.read_capped(&path, CMDLINE_CAP) {
        Ok(bytes) => bytes,
        Err(ReadError::NotFound) => {
            scan.vanished += 1;
            visitor.visit(root, pid, Err(&ReadError::NotFound));
            return;
        }
        Err(error) => {
            scan.unreadable.push(format!("{} {error}", path.display()));
            visitor.visit(root, pid, Err(&error));
            // A component whose command line is over the cap still runs: known by the program
            // the kernel runs, its flags are an error, never "not running".
            if let ReadError::TooLarge { .. } = error
                && let Identity::Component { kind, .. } = identify_exe(root, pid)
            {
                scan.components.push(ComponentProcess {
                    pid,
                    kind,
                    program: String::new(),
                    args: Vec::new(),
                    args_error: Some(format!("{} {error}", path.display())),
                });
            }
            return;
        }
    };
    visitor.visit(root, pid, Ok(&bytes));
    let argv = split_cmdline(&bytes);
    let mut identity = identify(&argv);
    if matches!(identity, Identity::Other) && !argv.is_empty() {
        // argv[0] can be anything the parent chose; the program the kernel runs cannot.
        identity = identify_exe(root, pid);
    }
    match identity {
        Identity::Component { kind, skip } => scan.components.push(ComponentProcess {
            pid,
            kind,
            program: argv.first().cloned().unwrap_or_default(),
            args_error: None,
            args: argv.into_iter().skip(skip).collect(),
        }),
        Identity::Embedded {
            distribution,
            role,
            skip,
        } => scan.embedded.push(EmbeddedDistribution {
            pid,
            distribution,
            role,
            args: argv.into_iter().skip(skip).collect(),
        }),
        Identity::Runtime(name) => scan.runtimes.push(RuntimeProcess {
            pid,
            name,
            program: argv.first().cloned().unwrap_or_default(),
            args: argv.into_iter().skip(1).collect(),
        }),
        Identity::Other => {}
    }
}

/// NUL-separated arguments; a trailing NUL ends the last one. Non-UTF-8 bytes are replaced.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if trimmed.is_empty() {
        return Vec::new();
    }
    let argv: Vec<String> = trimmed
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    // A process that rewrote its title into one space-separated string (k3s does this).
    if argv.len() == 1 && argv[0].contains(' ') {
        return argv[0].split_whitespace().map(String::from).collect();
    }
    argv
}

enum Identity {
    /// A component; `skip` arguments precede its flags (1, or 2 under hyperkube).
    Component {
        kind: ComponentKind,
        skip: usize,
    },
    Embedded {
        distribution: String,
        role: String,
        /// Arguments before the flags (program and role).
        skip: usize,
    },
    /// A container runtime daemon, by its program basename.
    Runtime(String),
    Other,
}

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// A component by the basename of `/proc/<pid>/exe` (` (deleted)` stripped: an upgraded binary).
fn identify_exe(root: &HostRoot, pid: u32) -> Identity {
    let Ok(target) = root.read_link(Path::new(&format!("/proc/{pid}/exe"))) else {
        return Identity::Other;
    };
    let text = target.to_string_lossy();
    let name = basename(text.trim_end_matches(" (deleted)"));
    match ComponentKind::from_binary(name) {
        Some(kind) => Identity::Component { kind, skip: 1 },
        None if RUNTIME_DAEMONS.contains(&name) => Identity::Runtime(name.to_string()),
        None => Identity::Other,
    }
}

fn identify(argv: &[String]) -> Identity {
    let Some(program) = argv.first() else {
        return Identity::Other;
    };
    let name = basename(program);
    if let Some(kind) = ComponentKind::from_binary(name) {
        return Identity::Component { kind, skip: 1 };
    }
    match name {
        // hyperkube bundles every component: `hyperkube kubelet --flags`.
        "hyperkube" => argv
            .get(1)
            .and_then(|sub| {
                ComponentKind::from_binary(sub)
                    .or_else(|| ComponentKind::from_binary(&format!("kube-{sub}")))
            })
            .map_or(Identity::Other, |kind| Identity::Component {
                kind,
                skip: 2,
            }),
        runtime if RUNTIME_DAEMONS.contains(&runtime) => Identity::Runtime(runtime.to_string()),
        "k3s" | "rke2" => Identity::Embedded {
            distribution: name.to_string(),
            role: argv.get(1).cloned().unwrap_or_default(),
            skip: 2,
        },
        // MicroK8s runs every component in one `kubelite` process, configured by args files.
        "kubelite" => Identity::Embedded {
            distribution: "microk8s".into(),
            role: "kubelite".into(),
            skip: 1,
        },
        _ => Identity::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identify_text(args: &[&str]) -> Option<ComponentKind> {
        let argv: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
        match identify(&argv) {
            Identity::Component { kind, .. } => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn identifies_by_basename_only() {
        assert_eq!(
            identify_text(&["/usr/bin/kubelet", "--config=/x"]),
            Some(ComponentKind::Kubelet)
        );
        assert_eq!(
            identify_text(&["kube-apiserver", "--etcd-servers=https://127.0.0.1:2379"]),
            Some(ComponentKind::Apiserver)
        );
        assert_eq!(identify_text(&["/usr/bin/calico-kube-controllers"]), None);
        assert_eq!(identify_text(&["/usr/local/bin/etcdctl", "get"]), None);
        assert_eq!(
            identify_text(&["/usr/local/bin/kube-controller-manager"]),
            Some(ComponentKind::ControllerManager)
        );
        assert_eq!(
            identify_text(&["/hyperkube", "kubelet", "--v=2"]),
            Some(ComponentKind::Kubelet)
        );
        assert_eq!(
            identify_text(&["/hyperkube", "apiserver"]),
            Some(ComponentKind::Apiserver)
        );
    }

    #[test]
    fn runtime_daemons_by_exact_basename() {
        let runtime = |args: &[&str]| {
            let argv: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
            match identify(&argv) {
                Identity::Runtime(name) => Some(name),
                _ => None,
            }
        };
        assert_eq!(
            runtime(&["/usr/bin/containerd", "--config", "/x.toml"]).as_deref(),
            Some("containerd")
        );
        assert_eq!(
            runtime(&["/usr/bin/dockerd", "-H", "fd://"]).as_deref(),
            Some("dockerd")
        );
        assert_eq!(runtime(&["/usr/local/bin/crio"]).as_deref(), Some("crio"));
        assert_eq!(
            runtime(&["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io"]),
            None
        );
        assert_eq!(runtime(&["/usr/bin/cri-dockerd"]), None);
    }

    #[test]
    fn cmdline_splits_on_nul_and_survives_bad_utf8() {
        let argv = split_cmdline(b"/usr/bin/kubelet\0--node-ip=\xff\xfe\0--v=2\0");
        assert_eq!(argv.len(), 3);
        assert_eq!(argv[0], "/usr/bin/kubelet");
        assert!(argv[1].starts_with("--node-ip="));
        assert_eq!(split_cmdline(b""), Vec::<String>::new());
        assert_eq!(
            split_cmdline(b"/usr/local/bin/k3s server\0"),
            vec!["/usr/local/bin/k3s".to_string(), "server".to_string()]
        );
    }
}
