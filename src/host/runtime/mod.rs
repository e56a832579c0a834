//! The container runtime's own configuration: whether containerd, CRI-O or Docker actually apply
//! AppArmor and seccomp, whatever the pod spec asks for.
//!
//! - containerd: `/etc/containerd/config.toml` (or `--config`/`-c` of the running daemon), with
//!   its `imports` merged as containerd does (breadth first, each file once, relative paths
//!   against the importing file, `*` globs in lexical order; tables merged key by key, a later
//!   scalar replaces the earlier, top-level arrays appended without duplicates; an import may not
//!   declare a higher `version` than the main file, and an import of a lower version is migrated
//!   to the main file's plugin names first). The daemon's major version ([`version`], from the
//!   package database) picks the semantics: containerd 1.x replaces a whole plugin table from an
//!   import, refuses short plugin keys (`plugins.cri`) in a version 2 file, and reads a version 3
//!   file with version 2's plugin names; an unknown version is said to be assumed 2.x.
//! - CRI-O: `/etc/crio/crio.conf` then every file under `/etc/crio/crio.conf.d` in lexical order
//!   (or `--config`/`--config-dir`), each drop-in's keys replacing the earlier ones. CRI-O walks
//!   the directory with Go's `filepath.Walk` and reads every file whatever its name.
//! - Docker: `/etc/docker/daemon.json` (or `--config-file`) and dockerd's own flags from
//!   `/proc/<pid>/cmdline`.
//!
//! The daemons come from the one `/proc` walk of [`super::process::scan`]. Every setting keeps
//! its file and line ([`config::Leaf`]). Seccomp profiles a setting names are validated with the
//! same reader as the kubelet's profiles. Service-account tokens are in [`tokens`].

pub mod config;
pub mod tokens;
pub mod version;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::facts::ProfileFile;
use super::flags;
use super::process::{ProcessScan, RuntimeProcess};
use super::root::{HostRoot, ReadError};
use config::{Leaf, ParseFailure};

pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
pub const CRIO_CONFIG: &str = "/etc/crio/crio.conf";
pub const CRIO_DROP_INS: &str = "/etc/crio/crio.conf.d";
pub const DOCKER_CONFIG: &str = "/etc/docker/daemon.json";

/// Which runtime facts the selected rules need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeNeeds {
    pub containerd: bool,
    pub crio: bool,
    pub docker: bool,
    pub tokens: bool,
}

impl RuntimeNeeds {
    pub fn is_empty(&self) -> bool {
        !(self.containerd || self.crio || self.docker || self.tokens)
    }

    /// Whether the daemons must be looked for in `/proc`.
    pub fn needs_processes(&self) -> bool {
        self.containerd || self.crio || self.docker
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuntimeFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containerd: Option<RuntimeConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crio: Option<RuntimeConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker: Option<RuntimeConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<tokens::TokenFacts>,
}

/// Whether the configuration could be used.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConfigState {
    /// At least one file was read and merged.
    Loaded,
    /// No config file exists: the runtime runs on its built-in defaults.
    Absent,
    /// A file the runtime reads is malformed or unreadable (the runtime itself would refuse it).
    Invalid { error: String },
}

/// One runtime's daemon and merged configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeConfig {
    /// The running daemon, if any.
    pub process: Option<RuntimeProcess>,
    /// The main config file and how it was chosen (`--config of containerd (pid 9)`, default).
    pub main: PathBuf,
    pub how: String,
    pub state: ConfigState,
    /// The files merged, in merge order.
    pub files: Vec<PathBuf>,
    /// containerd: the main file's `version` (1 when absent, as containerd reads it).
    pub version: Option<i64>,
    /// containerd: the version whose plugin names the daemon that runs applies (containerd 1.x
    /// reads a `version = 3` file with version 2's names), when it differs from `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_version: Option<i64>,
    /// containerd: the daemon's version, from the package database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon_version: Option<version::DaemonVersion>,
    /// containerd: which version's configuration semantics were applied, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantics: Option<String>,
    /// Every setting after merging, by dotted key (daemon.json: by JSON key).
    pub settings: BTreeMap<String, Leaf>,
    /// Docker: the daemon's flags (`--icc`), as leaves whose path is `/proc/<pid>/cmdline`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub flags: BTreeMap<String, Leaf>,
    /// Seccomp profiles named by settings, validated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileFile>,
    pub warnings: Vec<String>,
}

impl RuntimeConfig {
    fn new(process: Option<RuntimeProcess>, main: PathBuf, how: String) -> Self {
        RuntimeConfig {
            process,
            main,
            how,
            state: ConfigState::Absent,
            files: Vec::new(),
            version: None,
            effective_version: None,
            daemon_version: None,
            semantics: None,
            settings: BTreeMap::new(),
            flags: BTreeMap::new(),
            profiles: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The runtime runs here or is configured here.
    pub fn present(&self) -> bool {
        self.process.is_some() || self.state != ConfigState::Absent
    }

    pub fn profile(&self, path: &Path) -> Option<&ProfileFile> {
        self.profiles.iter().find(|p| p.path == path)
    }
}

/// Gathers what `needs` asks for. `scan` is the run's one walk of `/proc`.
pub fn gather(
    root: &HostRoot,
    needs: &RuntimeNeeds,
    scan: &ProcessScan,
    containers: Option<&super::containers::ContainerFacts>,
) -> RuntimeFacts {
    RuntimeFacts {
        containerd: needs
            .containerd
            .then(|| containerd(root, scan.runtime("containerd").cloned())),
        crio: needs
            .crio
            .then(|| crio(root, scan.runtime("crio").cloned())),
        docker: needs
            .docker
            .then(|| docker(root, scan.runtime("dockerd").cloned())),
        tokens: needs.tokens.then(|| tokens::gather(root, containers)),
    }
}

/// The config path a daemon was started with (`--config`, `-c`), or the default.
fn chosen_path(
    process: &Option<RuntimeProcess>,
    names: &[&str],
    default: &str,
) -> (PathBuf, String) {
    if let Some(process) = process {
        let parsed = flags::parse(&process.args, &[]);
        for name in names {
            if let Some(value) = parsed.get(name).filter(|v| !v.is_empty()) {
                let path = relative_to_cwd(process.pid, value);
                let dashes = if name.len() == 1 { "-" } else { "--" };
                return (
                    path,
                    format!("{dashes}{name} of {} (pid {})", process.name, process.pid),
                );
            }
        }
        return (
            PathBuf::from(default),
            format!(
                "{} (pid {}) runs without {}; its default path",
                process.name,
                process.pid,
                names
                    .iter()
                    .map(|n| if n.len() == 1 {
                        format!("-{n}")
                    } else {
                        format!("--{n}")
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        );
    }
    (PathBuf::from(default), "default path".to_string())
}

fn relative_to_cwd(pid: u32, given: &str) -> PathBuf {
    let path = Path::new(given);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        Path::new(&format!("/proc/{pid}/cwd")).join(path)
    }
}

/// Reads and parses one TOML file. `Ok(None)`: it does not exist.
fn read_toml(root: &HostRoot, path: &Path) -> Result<Option<BTreeMap<String, Leaf>>, String> {
    match root.read_to_string(path) {
        Ok(text) => config::toml_leaves(path, &text)
            .map(Some)
            .map_err(|failure: ParseFailure| failure.to_string()),
        Err(ReadError::NotFound) => Ok(None),
        Err(error) => Err(format!("{} {error}", path.display())),
    }
}

// ---------------------------------------------------------------------------------------------
// containerd

/// The CRI plugin's table for a config version: v1 `plugins.cri`, v2
/// `plugins."io.containerd.grpc.v1.cri"`, v3 `plugins."io.containerd.cri.v1.runtime"`.
pub fn containerd_cri_prefix(version: i64) -> &'static str {
    match version {
        ..=1 => "plugins.cri",
        2 => "plugins.\"io.containerd.grpc.v1.cri\"",
        _ => "plugins.\"io.containerd.cri.v1.runtime\"",
    }
}

/// Keys of the v2 CRI table that containerd 2.x's migration moves to the v3 runtime plugin
/// (those hardnode reads; image and registry settings move elsewhere and are not read).
const MOVED_TO_RUNTIME: &[&str] = &[
    "containerd.",
    "disable_apparmor",
    "unset_seccomp_profile",
    "enable_unprivileged_ports",
    "enable_unprivileged_icmp",
    "enable_selinux",
    "restrict_oom_score_adj",
    "disable_proc_mount",
    "device_ownership_from_security_context",
];

/// A key of a lower-version file under the main file's plugin names, as containerd migrates it.
fn migrate_key(key: &str, from: i64, to: i64) -> String {
    let mut key = key.to_string();
    let v1 = containerd_cri_prefix(1);
    let v2 = containerd_cri_prefix(2);
    if from <= 1
        && to >= 2
        && let Some(rest) = key.strip_prefix(&format!("{v1}."))
    {
        key = format!("{v2}.{rest}");
    }
    if from <= 2
        && to >= 3
        && let Some(rest) = key.strip_prefix(&format!("{v2}."))
        && MOVED_TO_RUNTIME.iter().any(|moved| rest.starts_with(moved))
        && !rest.starts_with("containerd.snapshotter")
    {
        key = format!("{}.{rest}", containerd_cri_prefix(3));
    }
    key
}

/// The short plugin name of a key such as `plugins.cri.enable_selinux` (`cri`), which
/// containerd accepts only in version 1 files; `None` for `plugins."io.containerd..."` keys.
fn short_plugin_key(key: &str) -> Option<String> {
    let rest = key.strip_prefix("plugins.")?;
    if rest.starts_with('"') {
        return None;
    }
    Some(rest.split('.').next().unwrap_or(rest).to_string())
}

/// The plugin table a key belongs to: `plugins."io.containerd.grpc.v1.cri"` (or `plugins.cri`).
fn plugin_table(key: &str) -> Option<String> {
    let rest = key.strip_prefix("plugins.")?;
    let name = match rest.strip_prefix('"') {
        Some(quoted) => format!("\"{}\"", quoted.split('"').next()?),
        None => rest.split('.').next()?.to_string(),
    };
    Some(format!("plugins.{name}"))
}

fn version_of(leaves: &BTreeMap<String, Leaf>) -> i64 {
    leaves
        .get("version")
        .and_then(|leaf| leaf.value.as_i64())
        .unwrap_or(1)
}

fn containerd(root: &HostRoot, process: Option<RuntimeProcess>) -> RuntimeConfig {
    let (main, how) = chosen_path(&process, &["config", "c"], CONTAINERD_CONFIG);
    let program = process.as_ref().map(|p| p.program.clone());
    let mut facts = RuntimeConfig::new(process, main.clone(), how);
    let one_x = match version::containerd(root, program.as_deref()) {
        Ok(daemon) => {
            facts.semantics = Some(format!(
                "containerd {}.x configuration semantics ({})",
                daemon.major, daemon.from
            ));
            let one_x = daemon.major == 1;
            facts.daemon_version = Some(daemon);
            one_x
        }
        Err(why) => {
            facts.semantics = Some(format!(
                "containerd 2.x configuration semantics assumed: the version is unknown ({why})"
            ));
            false
        }
    };
    let mut pending = VecDeque::from([main.clone()]);
    let mut loaded: BTreeSet<PathBuf> = BTreeSet::new();
    let mut root_version: Option<i64> = None;
    while let Some(path) = pending.pop_front() {
        if !loaded.insert(path.clone()) {
            continue;
        }
        let leaves = match read_toml(root, &path) {
            Ok(Some(leaves)) => leaves,
            Ok(None) if path == main => return facts,
            Ok(None) => {
                facts.state = ConfigState::Invalid {
                    error: format!(
                        "{} is imported but does not exist (containerd refuses to start)",
                        path.display()
                    ),
                };
                return facts;
            }
            Err(error) => {
                facts.state = ConfigState::Invalid { error };
                return facts;
            }
        };
        let version = version_of(&leaves);
        let main_version = *root_version.get_or_insert(version);
        if version > main_version {
            facts.state = ConfigState::Invalid {
                error: format!(
                    "{}: import declares version {version}, higher than the main file's {main_version} (containerd refuses to start)",
                    path.display()
                ),
            };
            return facts;
        }
        if one_x
            && version >= 2
            && let Some(short) = leaves.keys().find_map(|key| short_plugin_key(key))
        {
            facts.state = ConfigState::Invalid {
                error: format!(
                    "{}: version {version} file with the plugin key plugins.{short}: containerd 1.x refuses to start (invalid plugin key URI \"{short}\", expect io.containerd.x.vx)",
                    path.display()
                ),
            };
            return facts;
        }
        if one_x && path != main {
            // containerd 1.x merges an import by replacing each plugin table it names whole.
            let replaced: BTreeSet<String> =
                leaves.keys().filter_map(|key| plugin_table(key)).collect();
            for table in replaced {
                let prefix = format!("{table}.");
                let before = facts.settings.len();
                facts.settings.retain(|key, _| !key.starts_with(&prefix));
                if facts.settings.len() < before {
                    facts.warnings.push(format!(
                        "{} replaces the whole [{table}] table of the files before it (containerd 1.x merges imports by plugin table)",
                        path.display()
                    ));
                }
            }
        }
        let imports: Vec<String> = leaves
            .get("imports")
            .and_then(|leaf| leaf.value.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for (key, mut leaf) in leaves {
            if key == "version" && path != main {
                continue;
            }
            let key = if version < main_version {
                let migrated = migrate_key(&key, version, main_version);
                if migrated != key {
                    leaf.note = Some(format!(
                        "version {version} key, migrated by containerd to {migrated}"
                    ));
                }
                migrated
            } else {
                key
            };
            merge_containerd(&mut facts.settings, key, leaf);
        }
        facts.files.push(path.clone());
        for import in imports {
            match resolve_import(root, &path, &import) {
                Ok(paths) => pending.extend(paths),
                Err(error) => facts.warnings.push(error),
            }
        }
    }
    facts.state = ConfigState::Loaded;
    facts.version = root_version;
    let mut version = root_version.unwrap_or(1);
    if one_x && version >= 3 {
        // containerd 1.x knows no version 3 plugin names: it reads the file's version 2 tables
        // (io.containerd.grpc.v1.cri) and ignores io.containerd.cri.v1.* (verified with
        // containerd 1.6.20's `config dump`).
        facts.effective_version = Some(2);
        facts.warnings.push(format!(
            "the file declares version {version}, which containerd 1.x does not know: its version 2 plugin tables apply and [plugins.\"io.containerd.cri.v1.runtime\"] and the other 2.x-only tables are ignored"
        ));
        version = 2;
    }
    let seccomp_key = format!("{}.unset_seccomp_profile", containerd_cri_prefix(version));
    if let Some(profile) = facts.settings.get(&seccomp_key).and_then(Leaf::as_str)
        && profile.starts_with('/')
    {
        let file = read_profile_file(root, Path::new(profile));
        facts.profiles.push(file);
    }
    facts
}

/// containerd's merge: a later scalar replaces the earlier; top-level arrays (`imports`,
/// `disabled_plugins`, `required_plugins`) are appended without duplicates.
fn merge_containerd(settings: &mut BTreeMap<String, Leaf>, key: String, mut leaf: Leaf) {
    match settings.get_mut(&key) {
        Some(existing) if !key.contains('.') && existing.value.is_array() => {
            if let (Some(have), Some(more)) = (existing.value.as_array_mut(), leaf.value.as_array())
            {
                for item in more {
                    if !have.contains(item) {
                        have.push(item.clone());
                    }
                }
            }
            existing.note = Some(format!(
                "appended with {}:{}",
                leaf.path.display(),
                leaf.line
            ));
        }
        Some(existing) => {
            let replaced = format!(
                "overrides {} at {}:{}",
                existing.value,
                existing.path.display(),
                existing.line
            );
            leaf.note = Some(match leaf.note.take() {
                Some(note) => format!("{note}; {replaced}"),
                None => replaced,
            });
            *existing = leaf;
        }
        None => {
            settings.insert(key, leaf);
        }
    }
}

/// An `imports` entry as host paths: relative to the importing file's directory, a `*` in the
/// file name matched against the directory listing (lexical order, as Go's `filepath.Glob`).
fn resolve_import(root: &HostRoot, parent: &Path, import: &str) -> Result<Vec<PathBuf>, String> {
    let given = Path::new(import);
    let path = if given.is_absolute() {
        given.to_path_buf()
    } else {
        parent.parent().unwrap_or(Path::new("/")).join(given)
    };
    if !import.contains('*') {
        return Ok(vec![path]);
    }
    let (Some(dir), Some(pattern)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
    else {
        return Err(format!("import {import:?} is not a file pattern"));
    };
    if dir.to_string_lossy().contains('*') {
        return Err(format!(
            "import {import:?}: a * in a directory name is not followed by hardnode"
        ));
    }
    match root.read_dir_names(dir) {
        Ok(names) => Ok(names
            .into_iter()
            .filter_map(|name| name.to_str().map(String::from))
            .filter(|name| super::components::files::glob_match(pattern, name))
            .map(|name| dir.join(name))
            .collect()),
        Err(ReadError::NotFound) => Ok(Vec::new()),
        Err(error) => Err(format!("import {import:?}: {} {error}", dir.display())),
    }
}

fn read_profile_file(root: &HostRoot, path: &Path) -> ProfileFile {
    let base = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    let mut file = super::seccomp_profiles::read_profile(root, base, &name);
    file.name = path.display().to_string();
    file
}

// ---------------------------------------------------------------------------------------------
// CRI-O

fn crio(root: &HostRoot, process: Option<RuntimeProcess>) -> RuntimeConfig {
    let (main, how) = chosen_path(&process, &["config", "c"], CRIO_CONFIG);
    let (drop_ins, _) = chosen_path(&process, &["config-dir", "d"], CRIO_DROP_INS);
    let mut facts = RuntimeConfig::new(process, main.clone(), how);
    let mut files = vec![main];
    if let Err(error) = walk_drop_ins(root, &drop_ins, 0, &mut files) {
        facts.state = ConfigState::Invalid { error };
        return facts;
    }
    for path in files {
        match read_toml(root, &path) {
            Ok(Some(leaves)) => {
                for (key, mut leaf) in leaves {
                    if let Some(existing) = facts.settings.get(&key) {
                        leaf.note = Some(format!(
                            "overrides {} at {}:{}",
                            existing.value,
                            existing.path.display(),
                            existing.line
                        ));
                    }
                    facts.settings.insert(key, leaf);
                }
                facts.files.push(path);
            }
            Ok(None) => {}
            Err(error) => {
                facts.state = ConfigState::Invalid { error };
                return facts;
            }
        }
    }
    if !facts.files.is_empty() {
        facts.state = ConfigState::Loaded;
    }
    if let Some(profile) = facts
        .settings
        .get("crio.runtime.seccomp_profile")
        .and_then(Leaf::as_str)
        .filter(|p| p.starts_with('/'))
    {
        let file = read_profile_file(root, Path::new(profile));
        facts.profiles.push(file);
    }
    facts
}

/// Every file under CRI-O's drop-in directory, as its `filepath.Walk` visits them: names in
/// lexical order, subdirectories descended into where they sort, whatever the file names end in
/// (CRI-O reads them all). Symlinked directories are not descended into, as Walk does not.
fn walk_drop_ins(
    root: &HostRoot,
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
) -> Result<(), String> {
    const MAX_DEPTH: usize = 8;
    const MAX_FILES: usize = 1000;
    let names = match root.read_dir_names(dir) {
        Ok(names) => names,
        Err(ReadError::NotFound) if depth == 0 => return Ok(()),
        Err(error) => return Err(format!("{} {error}", dir.display())),
    };
    for name in names {
        let path = dir.join(name);
        let is_dir = root
            .symlink_metadata(&path)
            .is_ok_and(|metadata| metadata.is_dir());
        // A cap that is hit is an error for the rules reading these, never a silent pass.
        if is_dir {
            if depth >= MAX_DEPTH {
                return Err(format!(
                    "{}: deeper than {MAX_DEPTH} directory levels: not read (depth cap)",
                    path.display()
                ));
            }
            walk_drop_ins(root, &path, depth + 1, files)?;
        } else if files.len() < MAX_FILES {
            files.push(path);
        } else {
            return Err(format!(
                "{}: more than {MAX_FILES} drop-in files: the rest was not read (file cap)",
                dir.display()
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Docker

/// dockerd's boolean flags that matter here (they never take the next argument as a value).
const DOCKERD_BOOLEANS: &[&str] = &[
    "icc",
    "live-restore",
    "no-new-privileges",
    "tlsverify",
    "tls",
    "debug",
    "D",
    "iptables",
    "ip-forward",
    "ip-masq",
    "userland-proxy",
    "selinux-enabled",
    "experimental",
    "ipv6",
    "rootless",
    "init",
    "raw-logs",
    "validate",
    "version",
    "v",
    "help",
];

/// daemon.json keys and the dockerd flag that sets each. `hosts` and `insecure-registries` are
/// lists; their flags may repeat.
pub const DOCKER_KEYS: &[(&str, &str)] = &[
    ("icc", "--icc"),
    ("live-restore", "--live-restore"),
    ("no-new-privileges", "--no-new-privileges"),
    ("userns-remap", "--userns-remap"),
    ("seccomp-profile", "--seccomp-profile"),
    ("insecure-registries", "--insecure-registry"),
    ("hosts", "--host"),
    ("tlsverify", "--tlsverify"),
    ("bridge", "--bridge"),
];

fn docker(root: &HostRoot, process: Option<RuntimeProcess>) -> RuntimeConfig {
    let (main, how) = chosen_path(&process, &["config-file"], DOCKER_CONFIG);
    let mut facts = RuntimeConfig::new(process.clone(), main.clone(), how);
    match root.read_to_string(&main) {
        Ok(text) => match config::json_leaves(&main, &text) {
            Ok(leaves) => {
                facts.settings = leaves;
                facts.files.push(main.clone());
                facts.state = ConfigState::Loaded;
            }
            Err(failure) => {
                facts.state = ConfigState::Invalid {
                    error: failure.to_string(),
                };
                return facts;
            }
        },
        Err(ReadError::NotFound) => {}
        Err(error) => {
            facts.state = ConfigState::Invalid {
                error: format!("{} {error}", main.display()),
            };
            return facts;
        }
    }
    if let Some(process) = &process {
        facts.flags = docker_flags(process);
        for (key, flag) in DOCKER_KEYS {
            if facts.flags.contains_key(*flag) && facts.settings.contains_key(*key) {
                facts.warnings.push(format!(
                    "{flag} is given both as a flag and as {key:?} in {}: dockerd refuses to start with such a conflict",
                    main.display()
                ));
            }
        }
    }
    let profile = facts
        .flags
        .get("--seccomp-profile")
        .or_else(|| facts.settings.get("seccomp-profile"))
        .and_then(Leaf::as_str)
        .filter(|p| p.starts_with('/'))
        .map(PathBuf::from);
    if let Some(profile) = profile {
        let file = read_profile_file(root, &profile);
        facts.profiles.push(file);
    }
    facts
}

/// dockerd's flags that hardnode judges, as leaves. `-H`/`--host` and `--insecure-registry`
/// repeat: every occurrence is kept, as a list.
fn docker_flags(process: &RuntimeProcess) -> BTreeMap<String, Leaf> {
    let cmdline = PathBuf::from(format!("/proc/{}/cmdline", process.pid));
    let leaf = |flag: &str, value: serde_json::Value, written: String| Leaf {
        key: flag.to_string(),
        value,
        path: cmdline.clone(),
        line: 0,
        note: Some(written),
    };
    let mut out = BTreeMap::new();
    let parsed = flags::parse(&process.args, DOCKERD_BOOLEANS);
    for (_, flag) in DOCKER_KEYS {
        let name = flag.trim_start_matches('-');
        if matches!(name, "host" | "insecure-registry") {
            continue;
        }
        if let Some(value) = parsed.flags.get(name) {
            let typed = match value.value.as_str() {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                other => serde_json::Value::String(other.to_string()),
            };
            out.insert(
                flag.to_string(),
                leaf(flag, typed, format!("--{name}={}", value.value)),
            );
        }
    }
    for (flag, names) in [
        ("--host", &["host", "H"][..]),
        ("--insecure-registry", &["insecure-registry"][..]),
    ] {
        let values = repeated_values(&process.args, names);
        if !values.is_empty() {
            let written = values
                .iter()
                .map(|v| format!("{flag}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            let list = values.into_iter().map(serde_json::Value::String).collect();
            out.insert(
                flag.to_string(),
                leaf(flag, serde_json::Value::Array(list), written),
            );
        }
    }
    out
}

/// Every value of a repeatable flag: `--name=v`, `--name v`, `-H=v`, `-H v`, `-Hv`.
fn repeated_values(args: &[String], names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        for name in names {
            let dashes = if name.len() == 1 { "-" } else { "--" };
            let Some(rest) = arg.strip_prefix(&format!("{dashes}{name}")) else {
                continue;
            };
            if let Some(value) = rest.strip_prefix('=') {
                values.push(value.to_string());
            } else if rest.is_empty() {
                if let Some(next) = args.get(index) {
                    values.push(next.clone());
                    index += 1;
                }
            } else if name.len() == 1 {
                values.push(rest.to_string());
            } else {
                continue;
            }
            break;
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_cri_keys_migrate_to_the_v3_runtime_plugin() {
        assert_eq!(
            migrate_key(
                "plugins.\"io.containerd.grpc.v1.cri\".disable_apparmor",
                2,
                3
            ),
            "plugins.\"io.containerd.cri.v1.runtime\".disable_apparmor"
        );
        assert_eq!(
            migrate_key(
                "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.SystemdCgroup",
                2,
                3
            ),
            "plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc.options.SystemdCgroup"
        );
        assert_eq!(
            migrate_key("plugins.cri.disable_apparmor", 1, 3),
            "plugins.\"io.containerd.cri.v1.runtime\".disable_apparmor"
        );
        assert_eq!(
            migrate_key("plugins.\"io.containerd.grpc.v1.cri\".sandbox_image", 2, 3),
            "plugins.\"io.containerd.grpc.v1.cri\".sandbox_image"
        );
    }

    #[test]
    fn repeated_host_flags_are_all_kept() {
        let args: Vec<String> = [
            "-H",
            "fd://",
            "--host=tcp://0.0.0.0:2375",
            "-Hunix:///x.sock",
            "--hostname-ignored=1",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        assert_eq!(
            repeated_values(&args, &["host", "H"]),
            vec!["fd://", "tcp://0.0.0.0:2375", "unix:///x.sock"]
        );
    }
}
