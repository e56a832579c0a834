//! The files of the components (CIS 4.1.x, 1.1.x): which path a rule means, and its mode and
//! owner.
//!
//! A named file is taken from the running process first (`--kubeconfig`, `--config`,
//! `authentication.x509.clientCAFile`, `--data-dir`, the kubelet's `staticPodPath`), a default path
//! second; the evidence always says which. Owners are numeric uid/gid, with names looked up in
//! `<root>/etc/passwd` and `<root>/etc/group` (the host's, not the container's).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use super::{ComponentFacts, ComponentKind, ComponentState, Source};
use crate::host::root::{Entry, HostRoot, ReadError};

/// At most this many files are examined under one directory tree.
const MAX_ENTRIES: usize = 10_000;
/// At most this many directory levels are walked below a path a rule names.
const MAX_DEPTH: usize = 16;

pub use crate::probe::{FileRequest, NAMED_FILES};

/// One examined file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    pub path: PathBuf,
    pub kind: String,
    /// Permission bits (`0o7777` mask).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub user: Option<String>,
    pub group: Option<String>,
    /// The path as named or walked, when its last component is a symbolic link to `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<PathBuf>,
}

impl FileEntry {
    /// `user:group` by name where the host knows the ids.
    pub fn owner(&self) -> String {
        format!(
            "{}:{}",
            self.user.clone().unwrap_or_else(|| self.uid.to_string()),
            self.group.clone().unwrap_or_else(|| self.gid.to_string())
        )
    }
}

/// What a file request found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileSet {
    /// How the paths were chosen: `--config of kubelet (pid 42)`, `default path`.
    pub how: String,
    /// The host paths looked at.
    pub looked_at: Vec<PathBuf>,
    pub entries: Vec<FileEntry>,
    /// Paths that exist but could not be examined.
    pub errors: Vec<String>,
    /// Why the request does not apply on this node (the component does not run, has no such file).
    pub not_applicable: Option<String>,
    /// The looked-at paths that exist (a directory may exist and hold no matching file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<PathBuf>,
}

/// Resolves and examines one request.
pub fn gather(
    root: &HostRoot,
    request: &FileRequest,
    facts: &ComponentFacts,
    manifest_dir: &Path,
    owners: &Owners,
    cache: &mut Looked,
) -> FileSet {
    let (paths, walk, how) = match request {
        FileRequest::Paths {
            paths,
            recurse,
            glob,
        } => {
            // On k3s, RKE2 and MicroK8s the kubeadm paths the CIS text names have counterparts.
            let mut hows = Vec::new();
            let mapped = paths
                .iter()
                .filter(|path| !super::distro::drops_path(facts, path))
                .map(|path| match super::distro::map_path(facts, path) {
                    Some((mapped, how)) => {
                        hows.push(how);
                        mapped
                    }
                    None => PathBuf::from(path),
                })
                .collect();
            let how = if hows.is_empty() {
                "path named by the rule".to_string()
            } else {
                hows.join("; ")
            };
            (
                mapped,
                Walk {
                    recurse: *recurse,
                    files_only: glob.is_some(),
                    glob: glob.clone(),
                },
                how,
            )
        }
        FileRequest::Named(name) => match super::distro::named_file(facts, name)
            .unwrap_or_else(|| resolve_named(name, facts, manifest_dir))
            .map(|found| inside_container(root, name, facts, found))
        {
            Ok((paths, recurse, how)) => (
                paths,
                Walk {
                    recurse,
                    // Walked named sets (unit drop-ins, CNI files) are about the files in them.
                    files_only: recurse,
                    glob: None,
                },
                how,
            ),
            Err(reason) => {
                return FileSet {
                    how: String::new(),
                    not_applicable: Some(reason),
                    ..Default::default()
                };
            }
        },
    };
    let mut set = FileSet {
        how,
        looked_at: paths.clone(),
        ..Default::default()
    };
    for path in &paths {
        examine(root, path, &walk, owners, cache, &mut set, 0);
    }
    set
}

/// A named file of a containerized component — kube-proxy's kubeconfig from kubeadm's ConfigMap,
/// mounted at `/var/lib/kube-proxy/kubeconfig.conf` in its container — exists only in its mount
/// namespace: when the path is not on the host and the component that names it is known to be
/// containerized, the same path under its `/proc/<pid>/root` is the file it reads. Single files
/// only: a directory tree there would be listed through the re-rooted link, not the container's.
fn inside_container(
    root: &HostRoot,
    name: &str,
    facts: &ComponentFacts,
    (paths, recurse, how): (Vec<PathBuf>, bool, String),
) -> (Vec<PathBuf>, bool, String) {
    let owner = FileRequest::Named(name.to_string())
        .components()
        .into_iter()
        .next();
    let found = owner.and_then(|kind| component(facts, kind).ok().flatten());
    let Some((pid, files)) = found.and_then(|owner| match owner.origin {
        super::Origin::Process { pid, .. } => Some((pid, &owner.files)),
        _ => None,
    }) else {
        return (paths, recurse, how);
    };
    // Only a component already known to run in its own mount namespace (a config file it reads
    // was found under its /proc/<pid>/root): no component's /proc entry is opened again to ask.
    let process_root = Path::new("/proc").join(pid.to_string()).join("root");
    if recurse
        || !files
            .iter()
            .any(|file| file.path.starts_with(&process_root))
    {
        return (paths, recurse, how);
    }
    let mut moved = false;
    let paths = paths
        .into_iter()
        .map(|path| {
            let Ok(inner) = path.strip_prefix("/") else {
                return path;
            };
            let in_root = Path::new("/proc")
                .join(pid.to_string())
                .join("root")
                .join(inner);
            if !root.exists(&path) && root.metadata_in_process_root(&in_root).is_ok() {
                moved = true;
                in_root
            } else {
                path
            }
        })
        .collect();
    let how = if moved {
        format!("{how}, inside its container (/proc/{pid}/root)")
    } else {
        how
    };
    (paths, recurse, how)
}

fn is_in_process_root(path: &Path) -> bool {
    let mut parts = path.components().skip(1);
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(p), Some(pid), Some(r))
            if p.as_os_str() == "proc"
                && pid.as_os_str().to_str().is_some_and(|t| t.parse::<u32>().is_ok())
                && r.as_os_str() == "root"
    )
}

/// What one run's file rules have looked at, so a path several rules name (the pki directory:
/// its owner, its certificates, its keys) is opened once and a directory listed once. A check
/// is one snapshot of the node; nothing that writes uses this.
#[derive(Default)]
pub struct Looked {
    entries: HashMap<PathBuf, Result<Entry, ReadError>>,
    listings: HashMap<PathBuf, Result<Rc<[OsString]>, ReadError>>,
}

impl Looked {
    fn entry(&mut self, root: &HostRoot, path: &Path) -> Result<Entry, ReadError> {
        self.entries
            .entry(path.to_path_buf())
            .or_insert_with(|| root.entry(path))
            .clone()
    }

    fn listing(&mut self, root: &HostRoot, path: &Path) -> Result<Rc<[OsString]>, ReadError> {
        self.listings
            .entry(path.to_path_buf())
            .or_insert_with(|| root.read_dir_names(path).map(Rc::from))
            .clone()
    }
}

/// How a path is examined: walked below, and which entries count.
struct Walk {
    recurse: bool,
    files_only: bool,
    glob: Option<String>,
}

fn examine(
    root: &HostRoot,
    path: &Path,
    walk: &Walk,
    owners: &Owners,
    cache: &mut Looked,
    set: &mut FileSet,
    depth: usize,
) {
    let top = depth == 0;
    // A cap that is hit is an error in the rule (a failing entry already read still fails it),
    // never a pass over the part that was examined.
    if set.entries.len() >= MAX_ENTRIES {
        let message =
            format!("more than {MAX_ENTRIES} entries: the rest was not examined (entry cap)");
        if !set.errors.contains(&message) {
            set.errors.push(message);
        }
        return;
    }

    // A file inside a containerized component's mount namespace: the kernel's link, followed
    // only on the live procfs (see `HostRoot::read_in_process_root`).
    let looked = if is_in_process_root(path) {
        root.metadata_in_process_root(path).map(|metadata| Entry {
            metadata,
            real_path: None,
            is_link: root
                .symlink_metadata(path)
                .is_ok_and(|meta| meta.file_type().is_symlink()),
        })
    } else {
        cache.entry(root, path)
    };
    let Entry {
        metadata,
        real_path,
        is_link,
    } = match looked {
        Ok(entry) => entry,
        Err(ReadError::NotFound) => return,
        Err(error) => {
            set.errors.push(format!("{} {error}", path.display()));
            return;
        }
    };
    let display = real_path
        .map(|real| root.display_path(&real))
        .unwrap_or_else(|| path.to_path_buf());
    if top {
        set.present.push(path.to_path_buf());
    }
    let is_dir = metadata.is_dir();
    let name_matches = walk.glob.as_deref().is_none_or(|pattern| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|name| glob_match(pattern, name))
    });
    if name_matches && !(is_dir && walk.files_only) {
        set.entries.push(FileEntry {
            path: display,
            kind: if is_dir {
                "directory"
            } else if metadata.file_type().is_socket() {
                "socket"
            } else {
                "file"
            }
            .into(),
            mode: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
            user: owners.users.get(&metadata.uid()).cloned(),
            group: owners.groups.get(&metadata.gid()).cloned(),
            via: is_link.then(|| path.to_path_buf()),
        });
    }
    if !is_dir || !(walk.recurse || top && walk.glob.is_some()) {
        return;
    }
    // Symlinked directories are not descended into (as `find` without -L).
    if !top && is_link {
        return;
    }
    if depth > MAX_DEPTH {
        set.errors.push(format!(
            "{}: deeper than {MAX_DEPTH} directory levels: not examined (depth cap)",
            path.display()
        ));
        return;
    }
    match cache.listing(root, path) {
        Ok(names) => {
            for name in names.iter() {
                examine(root, &path.join(name), walk, owners, cache, set, depth + 1);
            }
        }
        Err(error) => set.errors.push(format!("{} {error}", path.display())),
    }
}

/// `*` and `?` wildcards over a file name.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    fn inner(pattern: &[u8], name: &[u8]) -> bool {
        match (pattern.first(), name.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                inner(&pattern[1..], name) || (!name.is_empty() && inner(pattern, &name[1..]))
            }
            (Some(b'?'), Some(_)) => inner(&pattern[1..], &name[1..]),
            (Some(p), Some(n)) if p == n => inner(&pattern[1..], &name[1..]),
            _ => false,
        }
    }
    inner(pattern.as_bytes(), name.as_bytes())
}

fn component(
    facts: &ComponentFacts,
    kind: ComponentKind,
) -> Result<Option<&super::Component>, String> {
    match facts.components.get(&kind) {
        Some(ComponentState::Found(component)) => Ok(Some(component)),
        Some(ComponentState::NotRunning { reason }) => Err(reason.clone()),
        None => Ok(None),
    }
}

fn pid_of(component: &super::Component) -> String {
    match &component.origin {
        super::Origin::Process { pid, .. } => format!("{} (pid {pid})", component.kind.binary()),
        super::Origin::Manifest { path } => {
            format!("{} (manifest {})", component.kind.binary(), path.display())
        }
        super::Origin::Embedded { distribution, pid } => {
            format!(
                "{} (inside {distribution}, pid {pid})",
                component.kind.binary()
            )
        }
    }
}

/// The paths a named file means on this node, whether to walk them, and how they were chosen.
fn resolve_named(
    name: &str,
    facts: &ComponentFacts,
    manifest_dir: &Path,
) -> Result<(Vec<PathBuf>, bool, String), String> {
    // A kubeadm default path is a fact only on kubeadm (or an unknown) node.
    let default = |path: &str, why: &str| {
        super::distro::kubeadm_defaults_apply(facts).map_err(|not| format!("{why}: {not}"))?;
        Ok((vec![PathBuf::from(path)], false, why.to_string()))
    };
    // A path-valued setting of a component that runs, or `fallback` when it does not run.
    let from_setting = |kind: ComponentKind,
                        key: &str,
                        fallback: &str,
                        unset: Option<&str>|
     -> Result<(Vec<PathBuf>, bool, String), String> {
        match component(facts, kind) {
            Ok(Some(found)) => match found.settings.get(key) {
                Some(setting) if !setting.value.to_string().is_empty() => {
                    let text = setting.value.to_string();
                    // The kubelet resolves relative paths in its config file against the file.
                    let path = match (setting.source, &setting.path) {
                        (Source::ConfigFile | Source::DropIn, Some(file))
                            if !Path::new(&text).is_absolute() =>
                        {
                            file.parent().unwrap_or(Path::new("/")).join(&text)
                        }
                        _ => super::resolve_relative(&found.origin, &text),
                    };
                    let how = format!("{key} of {} ({})", pid_of(found), setting.source.as_str());
                    Ok((vec![path], false, how))
                }
                _ => match unset {
                    Some(reason) => Err(reason.to_string()),
                    None => default(
                        fallback,
                        &format!("{key} is not set for {}; default path", pid_of(found)),
                    ),
                },
            },
            Ok(None) | Err(_) => default(
                fallback,
                &format!("{} is not running; default path", kind.binary()),
            ),
        }
    };
    match name {
        "kubelet.service" => {
            let mut paths = Vec::new();
            for base in [
                "/etc/systemd/system",
                "/usr/lib/systemd/system",
                "/lib/systemd/system",
            ] {
                paths.push(PathBuf::from(format!("{base}/kubelet.service")));
                paths.push(PathBuf::from(format!("{base}/kubelet.service.d")));
            }
            // The .d directories are read one level deep (their *.conf drop-ins).
            Ok((
                paths,
                true,
                "the kubelet unit and its drop-ins under the systemd unit directories".into(),
            ))
        }
        "kubelet.config" => match component(facts, ComponentKind::Kubelet) {
            Ok(Some(kubelet)) => {
                let files: Vec<PathBuf> = kubelet
                    .files
                    .iter()
                    .filter(|f| matches!(f.source, Source::ConfigFile | Source::DropIn))
                    // The path as the kubelet was given it (absolute): examined with symlinks
                    // followed as before, but an entry reached through a link says so (`via`),
                    // and `fix files` refuses to change a file through a symlink.
                    .map(|f| match f.source {
                        Source::ConfigFile if Path::new(&f.given).is_absolute() => {
                            PathBuf::from(&f.given)
                        }
                        _ => f.path.clone(),
                    })
                    .collect();
                if files.is_empty() {
                    Err(format!(
                        "{} runs without --config: no kubelet config file is used",
                        pid_of(kubelet)
                    ))
                } else {
                    Ok((
                        files,
                        false,
                        format!("--config (and --config-dir) of {}", pid_of(kubelet)),
                    ))
                }
            }
            _ => default(
                "/var/lib/kubelet/config.yaml",
                "the kubelet is not running; kubeadm's default path",
            ),
        },
        "kubelet.kubeconfig" => from_setting(
            ComponentKind::Kubelet,
            "--kubeconfig",
            "/etc/kubernetes/kubelet.conf",
            None,
        ),
        "kubelet.client_ca" => from_setting(
            ComponentKind::Kubelet,
            "authentication.x509.clientCAFile",
            "/etc/kubernetes/pki/ca.crt",
            Some(
                "the kubelet has no client CA file (authentication.x509.clientCAFile / --client-ca-file is not set)",
            ),
        ),
        "proxy.kubeconfig" => match component(facts, ComponentKind::Proxy) {
            Ok(Some(_)) => from_setting(
                ComponentKind::Proxy,
                "clientConnection.kubeconfig",
                "",
                Some("kube-proxy names no kubeconfig (in-cluster configuration)"),
            ),
            Ok(None) | Err(_) => Err(component(facts, ComponentKind::Proxy)
                .err()
                .unwrap_or_else(|| "kube-proxy is not running on this node".into())),
        },
        "proxy.config" => match component(facts, ComponentKind::Proxy) {
            Ok(Some(proxy)) => match proxy.files.first() {
                Some(file) => Ok((
                    vec![file.path.clone()],
                    false,
                    format!("--config of {}", pid_of(proxy)),
                )),
                None => Err(format!("{} runs without --config", pid_of(proxy))),
            },
            Ok(None) | Err(_) => Err(component(facts, ComponentKind::Proxy)
                .err()
                .unwrap_or_else(|| "kube-proxy is not running on this node".into())),
        },
        "apiserver.manifest"
        | "controller_manager.manifest"
        | "scheduler.manifest"
        | "etcd.manifest" => {
            let kind = ComponentKind::from_probe_key(name.trim_end_matches(".manifest"))
                .ok_or_else(|| format!("unknown component in {name}"))?;
            let file = kind.manifest_name().unwrap_or_default();
            Ok((
                vec![manifest_dir.join(file)],
                false,
                format!("static pod manifest in {}", manifest_dir.display()),
            ))
        }
        "controller_manager.kubeconfig" => from_setting(
            ComponentKind::ControllerManager,
            "--kubeconfig",
            "/etc/kubernetes/controller-manager.conf",
            None,
        ),
        "scheduler.kubeconfig" => from_setting(
            ComponentKind::Scheduler,
            "--kubeconfig",
            "/etc/kubernetes/scheduler.conf",
            None,
        ),
        "etcd.data_dir" => match component(facts, ComponentKind::Etcd) {
            Ok(Some(etcd)) => match etcd.settings.get("--data-dir") {
                Some(setting) if setting.source != Source::Default => {
                    let path = super::resolve_relative(&etcd.origin, &setting.value.to_string());
                    Ok((vec![path], false, format!("--data-dir of {}", pid_of(etcd))))
                }
                // A static pod's working directory is inside its container: its data is where
                // kubeadm mounts it.
                _ if matches!(etcd.origin, super::Origin::Manifest { .. }) => default(
                    "/var/lib/etcd",
                    &format!("--data-dir is not set for {}; kubeadm's path", pid_of(etcd)),
                ),
                // etcd's own default is `<name>.etcd` in its working directory (name
                // `default` unless --name says otherwise), not kubeadm's /var/lib/etcd.
                _ => {
                    let name = etcd.text("--name").unwrap_or_else(|| "default".into());
                    let path = super::resolve_relative(&etcd.origin, &format!("{name}.etcd"));
                    Ok((
                        vec![path],
                        false,
                        format!(
                            "--data-dir is not set for {}; etcd's default {name}.etcd in its working directory",
                            pid_of(etcd)
                        ),
                    ))
                }
            },
            _ => default(
                "/var/lib/etcd",
                "etcd is not running; kubeadm's default path",
            ),
        },
        "cni.config" => Ok((
            vec![
                PathBuf::from("/etc/cni/net.d"),
                PathBuf::from("/var/lib/cni/networks"),
            ],
            true,
            "CNI configuration (/etc/cni/net.d) and state (/var/lib/cni/networks)".into(),
        )),
        other => Err(format!("unknown named file {other}")),
    }
}

/// uid and gid names from the host's `/etc/passwd` and `/etc/group`.
pub struct Owners {
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
}

impl Owners {
    pub fn read(root: &HostRoot) -> Self {
        let table = |path: &str| {
            root.read_to_string(Path::new(path))
                .map(|text| parse_id_table(&text))
                .unwrap_or_default()
        };
        Owners {
            users: table("/etc/passwd"),
            groups: table("/etc/group"),
        }
    }
}

impl Owners {
    /// The uid a user name (or number) means on the host; `root` is 0 whatever the table says.
    pub fn uid(&self, name: &str) -> Option<u32> {
        lookup(&self.users, name)
    }

    /// The gid a group name (or number) means on the host.
    pub fn gid(&self, name: &str) -> Option<u32> {
        lookup(&self.groups, name)
    }
}

fn lookup(table: &BTreeMap<u32, String>, name: &str) -> Option<u32> {
    if name == "root" {
        return Some(0);
    }
    name.parse().ok().or_else(|| {
        table
            .iter()
            .find(|(_, known)| known.as_str() == name)
            .map(|(id, _)| *id)
    })
}

/// `name:x:id:...` lines into id -> name (the first name for an id wins, as getpwuid does).
fn parse_id_table(text: &str) -> BTreeMap<u32, String> {
    let mut table = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(id) = id.trim().parse::<u32>() {
            table.entry(id).or_insert_with(|| name.to_string());
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_match("*.crt", "ca.crt"));
        assert!(!glob_match("*.crt", "ca.crt.bak"));
        assert!(glob_match("*.conf", "10-kubeadm.conf"));
        assert!(glob_match("a?c", "abc"));
    }

    #[test]
    fn id_tables_keep_the_first_name() {
        let table = parse_id_table(
            "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\netcd:x:998:998::/:\n",
        );
        assert_eq!(table.get(&0).map(String::as_str), Some("root"));
        assert_eq!(table.get(&998).map(String::as_str), Some("etcd"));
    }
}
