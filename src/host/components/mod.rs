//! Kubernetes component settings, resolved the way each component resolves them, with the source
//! of every value.
//!
//! - kubelet: defaults < `--config` file < `--config-dir` drop-ins (`*.conf`, lexical order) <
//!   flags. Defaults depend on the source: a kubelet started without `--config` keeps its legacy
//!   flag defaults (anonymous auth on, `AlwaysAllow`, read-only port 10255); one with a v1beta1
//!   config file gets the file's defaults (off, `Webhook`, 0).
//! - kube-apiserver, kube-controller-manager, kube-scheduler, etcd: the running process's flags;
//!   when the process is not running, its static pod manifest's `command` + `args` (source
//!   `manifest`). etcd also reads `ETCD_*` variables, below its flags.
//! - kube-proxy: flags over its `--config` KubeProxyConfiguration.
//!
//! Relative paths are resolved against `/proc/<pid>/cwd`, as the process itself would.

pub mod distro;
pub mod document;
pub mod files;
pub mod k3s;
pub mod managed;
pub mod microk8s;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::flags::{self, ParsedArgs};
use super::platform::Platform;
use super::process::{self, ProcessScan};
use super::root::{HostRoot, ReadError};
use crate::value::Value;
pub use files::{FileEntry, FileSet};

pub use crate::probe::ComponentKind;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Flag,
    ConfigFile,
    DropIn,
    Manifest,
    Default,
    Env,
    /// An argument a distribution passes to the component it embeds (k3s's built-ins).
    Builtin,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::ConfigFile => "config-file",
            Source::DropIn => "drop-in",
            Source::Manifest => "manifest",
            Source::Default => "default",
            Source::Env => "env",
            Source::Builtin => "builtin",
        }
    }
}

/// One resolved setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub value: Value,
    pub source: Source,
    /// The host path the value was read from (`/proc/<pid>/cmdline`, the config file, …).
    pub path: Option<PathBuf>,
    /// How it was written there (`--read-only-port=0`), or why the default applies.
    pub detail: String,
}

/// How the component was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    Process {
        pid: u32,
        other_pids: Vec<u32>,
    },
    Manifest {
        path: PathBuf,
    },
    /// Run inside a distribution's own process (k3s, MicroK8s kubelite).
    Embedded {
        distribution: String,
        pid: u32,
    },
}

/// One config file the component read (`--config`, a drop-in, a manifest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigFile {
    /// As the component names it (`--config=kubelet_conf.json`).
    pub given: String,
    /// The host path it resolves to.
    pub path: PathBuf,
    pub source: Source,
    /// `ok`, or why it could not be used.
    pub state: String,
}

impl ConfigFile {
    /// A config file the component reads (`--config`, `--config-file`) that was read.
    fn read(given: &Path, path: PathBuf) -> Self {
        ConfigFile {
            given: given.display().to_string(),
            path,
            source: Source::ConfigFile,
            state: "ok".into(),
        }
    }
}

/// A component that runs on this node (or has a manifest here), with its settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub kind: ComponentKind,
    pub origin: Origin,
    /// The arguments after the program name.
    pub args: Vec<String>,
    pub files: Vec<ConfigFile>,
    /// Every resolved setting: config paths (`authentication.anonymous.enabled`) and flags
    /// without a config field (`--hostname-override`), each with its source.
    pub settings: BTreeMap<String, Setting>,
    /// Non-fatal findings: duplicate keys, unparsable flags.
    pub warnings: Vec<String>,
    /// Set when a config file the component reads could not be used: a setting that is not
    /// given by a flag cannot be decided.
    pub config_error: Option<String>,
    /// For a running process, its static pod manifest when the kubelet's staticPodPath holds one
    /// (the process is that static pod's): where its flags are changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_pod_manifest: Option<PathBuf>,
}

impl Component {
    /// The setting for `key`, or for `flag` when the rule names one and no config path matched.
    pub fn setting(&self, key: &str, flag: Option<&str>) -> Option<&Setting> {
        self.settings
            .get(key)
            .or_else(|| flag.and_then(|flag| self.settings.get(&flag_key(flag))))
    }

    /// The value of a flag-only setting or a config path, as text (for file paths).
    pub fn text(&self, key: &str) -> Option<String> {
        self.settings
            .get(key)
            .map(|setting| setting.value.to_string())
            .filter(|text| !text.is_empty())
    }

    /// The host path a path-valued setting names, relative ones against the process cwd.
    pub fn host_path(&self, key: &str) -> Option<PathBuf> {
        let text = self.text(key)?;
        Some(resolve_relative(&self.origin, &text))
    }
}

/// Whether a component runs here, and its settings if so.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ComponentState {
    Found(Box<Component>),
    NotRunning { reason: String },
}

/// Everything about components a run gathered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComponentFacts {
    pub processes: ProcessScan,
    pub components: BTreeMap<ComponentKind, ComponentState>,
    /// Files named by rules (`kubelet.config`, `/etc/kubernetes/pki`), resolved and examined.
    pub files: BTreeMap<String, FileSet>,
    /// Documents named checks need (encryption config, audit policy), by name.
    pub documents: BTreeMap<String, DocumentFact>,
    /// The distribution, detected from the walk of `/proc` and the distribution's files.
    pub platform: Platform,
    /// k3s/RKE2: the configuration layers, with the file and key of every value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_config: Option<k3s::DistroConfig>,
}

impl ComponentFacts {
    pub fn component(&self, kind: ComponentKind) -> Option<&Component> {
        match self.components.get(&kind) {
            Some(ComponentState::Found(component)) => Some(component),
            _ => None,
        }
    }
}

/// A document a named check reads: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DocumentFact {
    /// The component does not run here.
    NotApplicable {
        reason: String,
    },
    /// The flag naming the document is not set.
    NotConfigured {
        flag: String,
    },
    Absent {
        path: PathBuf,
    },
    Unreadable {
        path: PathBuf,
        error: String,
    },
    Parsed {
        path: PathBuf,
        content: serde_json::Value,
    },
}

/// What the selected rules need of the components.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentNeeds {
    /// Components whose settings are needed, with the (config path, flag) pairs rules name.
    pub settings: BTreeMap<ComponentKind, BTreeSet<(String, Option<String>)>>,
    /// Named files and paths to examine.
    pub files: BTreeSet<files::FileRequest>,
    /// Documents for named checks: `apiserver.encryption_config`, `apiserver.audit_policy`.
    pub documents: BTreeSet<String>,
}

impl ComponentNeeds {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty() && self.files.is_empty() && self.documents.is_empty()
    }
}

/// The key a flag-only setting is stored under: `--hostname-override`.
pub fn flag_key(flag: &str) -> String {
    format!("--{}", flag.trim_start_matches('-'))
}

/// Gathers what `needs` asks for: one walk of `/proc`, then each needed component.
pub fn gather(root: &HostRoot, needs: &ComponentNeeds) -> ComponentFacts {
    gather_with(root, needs, || process::scan(root))
}

/// Like [`gather`], with the walk of `/proc` supplied by the caller (run only when a component
/// is needed), so it can share that walk with another reader.
/// The components the rules ask about: those named by a setting, a file or a document.
fn wanted(needs: &ComponentNeeds) -> BTreeSet<ComponentKind> {
    let mut wanted: BTreeSet<ComponentKind> = needs.settings.keys().copied().collect();
    for request in &needs.files {
        wanted.extend(request.components());
    }
    if !needs.documents.is_empty() {
        wanted.insert(ComponentKind::Apiserver);
    }
    wanted
}

/// Whether [`gather_with`] walks `/proc` for `needs` (not for literal paths alone).
pub fn walks_proc(needs: &ComponentNeeds) -> bool {
    !wanted(needs).is_empty()
}

pub fn gather_with(
    root: &HostRoot,
    needs: &ComponentNeeds,
    walk_proc: impl FnOnce() -> ProcessScan,
) -> ComponentFacts {
    let wanted = wanted(needs);
    // /proc is walked only when some rule needs a component (not for literal paths).
    let processes = if wanted.is_empty() {
        ProcessScan::default()
    } else {
        walk_proc()
    };
    let platform = super::platform::detect(root, Some(&processes));
    let mut facts = ComponentFacts {
        processes,
        platform,
        ..Default::default()
    };
    facts.distribution_config = distro::read_layers(root, &facts);
    // The kubelet first: its staticPodPath says where the manifests are.
    let mut manifest_dir = PathBuf::from(tables::DEFAULT_MANIFEST_DIR);
    for kind in wanted {
        let pairs = needs.settings.get(&kind).cloned().unwrap_or_default();
        // A distribution that embeds the component, or a provider that runs it, decides first
        // when no process of its own runs.
        let mut state = match distro::before_resolve(root, &facts, kind, &pairs) {
            Some(state) => state,
            None => resolve(root, &facts.processes, kind, &pairs, &manifest_dir),
        };
        distro::after_resolve(&facts, &mut state);
        if let ComponentState::Found(kubelet) = &state
            && kind == ComponentKind::Kubelet
            && let Some(dir) = kubelet.host_path("staticPodPath")
        {
            manifest_dir = dir;
        }
        facts.components.insert(kind, state);
    }
    let owners = files::Owners::read(root);
    let mut looked = files::Looked::default();
    for request in &needs.files {
        let set = files::gather(root, request, &facts, &manifest_dir, &owners, &mut looked);
        facts.files.insert(request.key(), set);
    }
    for name in &needs.documents {
        let fact = gather_document(root, name, &facts);
        facts.documents.insert(name.clone(), fact);
    }
    facts
}

fn resolve(
    root: &HostRoot,
    scan: &ProcessScan,
    kind: ComponentKind,
    pairs: &BTreeSet<(String, Option<String>)>,
    manifest_dir: &Path,
) -> ComponentState {
    let booleans = flags::boolean_flags(kind.binary());
    if let Some((process, other_pids)) = scan.find(kind) {
        let parsed = flags::parse(&process.args, booleans);
        let origin = Origin::Process {
            pid: process.pid,
            other_pids,
        };
        let cmdline = PathBuf::from(format!("/proc/{}/cmdline", process.pid));
        let environ = (kind == ComponentKind::Etcd)
            .then(|| read_environ(root, process.pid))
            .flatten();
        let mut component = build(
            root,
            kind,
            origin,
            process.args.clone(),
            &parsed,
            (Source::Flag, cmdline),
            pairs,
        );
        if let Some((path, vars)) = environ {
            apply_env(&mut component, &vars, Source::Env, &path);
        }
        apply_authorization_config(root, &mut component);
        apply_authentication_config(root, &mut component);
        apply_component_config(root, &mut component);
        apply_defaults(&mut component);
        apply_etcd_implied_client_auth(&mut component);
        component.static_pod_manifest = kind
            .manifest_name()
            .map(|name| manifest_dir.join(name))
            .filter(|path| root.metadata(path).is_ok());
        if let Some(error) = &process.args_error {
            // Its command line was not read: every setting is undecided, none a default.
            component.config_error = Some(error.clone());
        }
        return ComponentState::Found(Box::new(component));
    }
    let embedded = scan
        .embedded
        .iter()
        .map(|e| format!("{} {} (pid {})", e.distribution, e.role, e.pid))
        .collect::<Vec<_>>();
    let embedded_note = if embedded.is_empty() {
        String::new()
    } else {
        format!(
            "; an embedded distribution runs here ({}): its components run inside that process \
             and are configured through its own config files, which hardnode does not read yet",
            embedded.join(", ")
        )
    };
    let Some(name) = kind.manifest_name() else {
        return ComponentState::NotRunning {
            reason: format!(
                "{} is not running on this node (no process named {}){embedded_note}",
                kind.binary(),
                kind.binary()
            ),
        };
    };
    let manifest = manifest_dir.join(name);
    match read_manifest(root, &manifest, kind) {
        Ok(Some((argv, env))) => {
            let parsed = flags::parse(&argv, booleans);
            let mut component = build(
                root,
                kind,
                Origin::Manifest {
                    path: manifest.clone(),
                },
                argv.clone(),
                &parsed,
                (Source::Manifest, manifest.clone()),
                pairs,
            );
            component.files.insert(
                0,
                ConfigFile {
                    given: manifest.display().to_string(),
                    path: manifest.clone(),
                    source: Source::Manifest,
                    state: "ok".into(),
                },
            );
            apply_env(&mut component, &env, Source::Manifest, &manifest);
            apply_authorization_config(root, &mut component);
            apply_authentication_config(root, &mut component);
            apply_authentication_config(root, &mut component);
            apply_component_config(root, &mut component);
            apply_defaults(&mut component);
            apply_etcd_implied_client_auth(&mut component);
            ComponentState::Found(Box::new(component))
        }
        Ok(None) => ComponentState::NotRunning {
            reason: format!(
                "{} is not running on this node (no process named {}, no static pod manifest at {}){embedded_note}",
                kind.binary(),
                kind.binary(),
                manifest.display()
            ),
        },
        Err(error) => {
            // The manifest is there but unusable: the component is configured here, so this is
            // not "not running" — every setting is undecided.
            let component = Component {
                kind,
                origin: Origin::Manifest {
                    path: manifest.clone(),
                },
                args: Vec::new(),
                files: vec![ConfigFile {
                    given: manifest.display().to_string(),
                    path: manifest.clone(),
                    source: Source::Manifest,
                    state: error.clone(),
                }],
                settings: BTreeMap::new(),
                warnings: Vec::new(),
                config_error: Some(format!("{} {error}", manifest.display())),
                static_pod_manifest: None,
            };
            ComponentState::Found(Box::new(component))
        }
    }
}

/// Builds a component's settings from its flags and, for the kubelet and kube-proxy, its
/// config files. Defaults are applied by the caller after env.
fn build(
    root: &HostRoot,
    kind: ComponentKind,
    origin: Origin,
    args: Vec<String>,
    parsed: &ParsedArgs,
    (flag_source, flag_path): (Source, PathBuf),
    pairs: &BTreeSet<(String, Option<String>)>,
) -> Component {
    let mut component = Component {
        kind,
        origin,
        args,
        files: Vec::new(),
        settings: BTreeMap::new(),
        warnings: parsed.problems.clone(),
        config_error: None,
        static_pod_manifest: None,
    };
    if !parsed.positionals.is_empty() {
        component.warnings.push(format!(
            "arguments the component ignores (after a boolean flag, `--flag value` is not a value): {}",
            parsed.positionals.join(" ")
        ));
    }
    if matches!(kind, ComponentKind::Kubelet | ComponentKind::Proxy) {
        load_config_files(root, &mut component, parsed);
    }
    // Flags override config files.
    let mapping = tables::flag_to_path(kind, pairs);
    for (name, flag) in &parsed.flags {
        if name == "feature-gates" {
            continue;
        }
        let key = mapping
            .get(name.as_str())
            .cloned()
            .unwrap_or_else(|| flag_key(name));
        let repeated = if flag.occurrences > 1 {
            format!(" (given {} times; the last one wins)", flag.occurrences)
        } else {
            String::new()
        };
        component.settings.insert(
            key,
            Setting {
                value: Value::str(flag.value.clone()),
                source: flag_source,
                path: Some(flag_path.clone()),
                detail: format!("--{name}={}{repeated}", flag.value),
            },
        );
    }
    for (gate, enabled) in &parsed.feature_gates {
        component.settings.insert(
            format!("featureGates.{gate}"),
            Setting {
                value: Value::str(enabled.clone()),
                source: flag_source,
                path: Some(flag_path.clone()),
                detail: format!("--feature-gates={gate}={enabled}"),
            },
        );
    }
    component
}

/// `--config` (and the kubelet's `--config-dir` drop-ins) into the settings.
fn load_config_files(root: &HostRoot, component: &mut Component, parsed: &ParsedArgs) {
    if let Some(given) = parsed.get("config").filter(|g| !g.is_empty()) {
        let path = resolve_relative(&component.origin, given);
        let (display, state) = match read_document_of(root, &component.origin, &path) {
            Ok((display, document)) => {
                let kind_ok = check_kind(component.kind, &document.root);
                component.warnings.extend(
                    document
                        .warnings
                        .iter()
                        .map(|w| format!("{}: {w}", display.display())),
                );
                if let Err(message) = &kind_ok {
                    component.config_error = Some(format!("{}: {message}", display.display()));
                }
                for (key, value) in document::flatten(&document.root) {
                    if key == "apiVersion" || key == "kind" {
                        continue;
                    }
                    component.settings.insert(
                        key.clone(),
                        Setting {
                            value: value.clone(),
                            source: Source::ConfigFile,
                            path: Some(display.clone()),
                            detail: format!("{key}: {value}"),
                        },
                    );
                }
                (display, kind_ok.err().unwrap_or_else(|| "ok".into()))
            }
            Err((display, message)) => {
                component.config_error = Some(format!("{} {message}", display.display()));
                (display, message)
            }
        };
        component.files.push(ConfigFile {
            given: given.to_string(),
            path: display,
            source: Source::ConfigFile,
            state,
        });
    }
    if component.kind != ComponentKind::Kubelet {
        return;
    }
    let Some(given) = parsed.get("config-dir").filter(|g| !g.is_empty()) else {
        return;
    };
    let dir = resolve_relative(&component.origin, given);
    let names = match root.read_dir_names(&dir) {
        Ok(names) => names,
        Err(ReadError::NotFound) => {
            component.warnings.push(format!(
                "--config-dir {} does not exist (no drop-ins)",
                dir.display()
            ));
            return;
        }
        Err(error) => {
            component.config_error = Some(format!("--config-dir {} {error}", dir.display()));
            return;
        }
    };
    for name in names {
        let Some(name) = name.to_str().filter(|n| n.ends_with(".conf")) else {
            continue;
        };
        let path = dir.join(name);
        let state = match read_document(root, &path) {
            Ok((display, document)) => {
                component.warnings.extend(
                    document
                        .warnings
                        .iter()
                        .map(|w| format!("{}: {w}", display.display())),
                );
                for (key, value) in document::flatten(&document.root) {
                    if key == "apiVersion" || key == "kind" {
                        continue;
                    }
                    component.settings.insert(
                        key.clone(),
                        Setting {
                            value: value.clone(),
                            source: Source::DropIn,
                            path: Some(display.clone()),
                            detail: format!("{key}: {value}"),
                        },
                    );
                }
                "ok".to_string()
            }
            Err((display, message)) => {
                component.config_error = Some(format!("{} {message}", display.display()));
                message
            }
        };
        component.files.push(ConfigFile {
            given: format!("{given}/{name}"),
            path: path.clone(),
            source: Source::DropIn,
            state,
        });
    }
}

fn check_kind(kind: ComponentKind, root: &serde_json::Value) -> Result<(), String> {
    let expected = match kind {
        ComponentKind::Kubelet => "KubeletConfiguration",
        ComponentKind::Proxy => "KubeProxyConfiguration",
        _ => return Ok(()),
    };
    match document::str_field(root, "kind") {
        Some(found) if found != expected => Err(format!("kind is {found}, not {expected}")),
        _ => Ok(()),
    }
}

/// Reads and parses a YAML/JSON file; the display path is the resolved host path.
fn read_document(
    root: &HostRoot,
    path: &Path,
) -> Result<(PathBuf, document::Document), (PathBuf, String)> {
    let display = root
        .resolve(path)
        .map(|real| root.display_path(&real))
        .unwrap_or_else(|_| path.to_path_buf());
    let text = root
        .read_to_string(path)
        .map_err(|error| (display.clone(), error.to_string()))?;
    let document = document::parse(&text).map_err(|error| (display.clone(), error))?;
    Ok((display, document))
}

/// Reads a config file a process names: the host path, or — when the process runs in a container
/// and the file exists only in its mount namespace (kube-proxy's ConfigMap) — the same path under
/// `/proc/<pid>/root`, opened by the kernel so the magic link leads into the container.
fn read_document_of(
    root: &HostRoot,
    origin: &Origin,
    path: &Path,
) -> Result<(PathBuf, document::Document), (PathBuf, String)> {
    let on_host = read_document(root, path);
    let Origin::Process { pid, .. } = origin else {
        return on_host;
    };
    match &on_host {
        Err((_, message)) if *message == ReadError::NotFound.to_string() && path.is_absolute() => {}
        _ => return on_host,
    }
    let inside = Path::new("proc")
        .join(pid.to_string())
        .join("root")
        .join(path.strip_prefix("/").unwrap_or(path));
    let display = Path::new("/").join(&inside);
    match root.read_in_process_root(&display, super::root::DEFAULT_READ_CAP) {
        Ok(bytes) => document::parse(&String::from_utf8_lossy(&bytes))
            .map(|document| (display.clone(), document))
            .map_err(|error| (display, error)),
        Err(ReadError::NotFound) => on_host,
        Err(error) => Err((display, error.to_string())),
    }
}

/// `path` as the process sees it: absolute, or relative to its working directory.
pub fn resolve_relative(origin: &Origin, given: &str) -> PathBuf {
    let path = Path::new(given);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match origin {
        Origin::Process { pid, .. } => Path::new(&format!("/proc/{pid}/cwd")).join(path),
        // A container's working directory is not known from the manifest; kubeadm's are `/`.
        Origin::Manifest { .. } => Path::new("/").join(path),
        Origin::Embedded { pid, .. } => Path::new(&format!("/proc/{pid}/cwd")).join(path),
    }
}

/// `ETCD_*` variables from `/proc/<pid>/environ`.
fn read_environ(root: &HostRoot, pid: u32) -> Option<(PathBuf, Vec<(String, String)>)> {
    let path = PathBuf::from(format!("/proc/{pid}/environ"));
    let bytes = root.read_capped(&path, 1024 * 1024).ok()?;
    let vars = bytes
        .split(|&b| b == 0)
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry);
            let (name, value) = text.split_once('=')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    Some((path, vars))
}

/// etcd reads `ETCD_<FLAG>` for every flag not given on the command line.
fn apply_env(component: &mut Component, vars: &[(String, String)], source: Source, path: &Path) {
    if component.kind != ComponentKind::Etcd {
        return;
    }
    for (name, value) in vars {
        let Some(flag) = name.strip_prefix("ETCD_") else {
            continue;
        };
        let key = flag_key(&flag.to_ascii_lowercase().replace('_', "-"));
        if component.settings.contains_key(&key) {
            component.warnings.push(format!(
                "{name} is shadowed by the command-line flag {key}, as etcd does"
            ));
            continue;
        }
        component.settings.insert(
            key,
            Setting {
                value: Value::str(value.clone()),
                source,
                path: Some(path.to_path_buf()),
                detail: format!("{name}={value}"),
            },
        );
    }
}

/// kube-apiserver 1.29+ can take its authorizers from `--authorization-config` (an
/// AuthorizationConfiguration) instead of `--authorization-mode`; the two are exclusive. The
/// authorizer types in the file become the `--authorization-mode` setting, so the CIS rules
/// judge what the apiserver really uses instead of the AlwaysAllow default.
fn apply_authorization_config(root: &HostRoot, component: &mut Component) {
    if component.kind != ComponentKind::Apiserver
        || component.settings.contains_key("--authorization-mode")
    {
        return;
    }
    let Some(path) = component.host_path("--authorization-config") else {
        return;
    };
    match read_document(root, &path) {
        Ok((display, document)) => {
            let types: Vec<String> = document
                .root
                .get("authorizers")
                .and_then(serde_json::Value::as_array)
                .map(|authorizers| {
                    authorizers
                        .iter()
                        .filter_map(|a| document::str_field(a, "type").map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            component.settings.insert(
                "--authorization-mode".into(),
                Setting {
                    value: Value::str(types.join(",")),
                    source: Source::ConfigFile,
                    path: Some(display),
                    detail: format!(
                        "authorizers[].type in the --authorization-config file: {}",
                        types.join(",")
                    ),
                },
            );
        }
        Err((display, message)) => {
            component.config_error = Some(format!(
                "--authorization-config {} {message}",
                display.display()
            ));
        }
    }
}

/// kube-apiserver 1.31+ can configure anonymous requests in `--authentication-config` (an
/// AuthenticationConfiguration, `anonymous.enabled` with optional `conditions`) instead of
/// `--anonymous-auth`; the apiserver refuses to start with both. The file's value becomes the
/// `--anonymous-auth` setting, naming the file and key, so 1.2.1 judges what the apiserver uses.
fn apply_authentication_config(root: &HostRoot, component: &mut Component) {
    if component.kind != ComponentKind::Apiserver {
        return;
    }
    let Some(path) = component.host_path("--authentication-config") else {
        return;
    };
    let origin = component.origin.clone();
    match read_document_of(root, &origin, &path) {
        Ok((display, document)) => {
            let Some(anonymous) = document.root.get("anonymous") else {
                return; // not configured there: --anonymous-auth (or its default) decides
            };
            if component.settings.contains_key("--anonymous-auth") {
                component.warnings.push(format!(
                    "--anonymous-auth and anonymous in --authentication-config {} are both set: \
                     kube-apiserver refuses to start with both",
                    display.display()
                ));
            }
            let enabled = anonymous
                .get("enabled")
                .map_or(Value::Bool(false), document::to_value);
            let conditions = anonymous
                .get("conditions")
                .and_then(serde_json::Value::as_array)
                .map(|conditions| {
                    conditions
                        .iter()
                        .filter_map(|c| document::str_field(c, "path").map(String::from))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let limited = if conditions.is_empty() {
                String::new()
            } else {
                format!(" (only for {})", conditions.join(", "))
            };
            component.settings.insert(
                "--anonymous-auth".into(),
                Setting {
                    value: enabled.clone(),
                    source: Source::ConfigFile,
                    path: Some(display.clone()),
                    detail: format!(
                        "anonymous.enabled: {enabled}{limited} in the --authentication-config file"
                    ),
                },
            );
        }
        Err((display, message)) => {
            component.config_error = Some(format!(
                "--authentication-config {} {message}",
                display.display()
            ));
        }
    }
}

/// Config files of the scheduler and etcd that replace their flags.
///
/// - kube-scheduler `--config` (KubeSchedulerConfiguration): `--profiling` is then ignored and
///   `enableProfiling` (default true) decides.
/// - etcd `--config-file` (or `ETCD_CONFIG_FILE`): etcd then ignores its other flags and
///   variables and reads only the file ([`apply_etcd_config_file`]).
fn apply_component_config(root: &HostRoot, component: &mut Component) {
    match component.kind {
        ComponentKind::Scheduler => {
            let Some(path) = component.host_path("--config") else {
                return;
            };
            match read_document(root, &path) {
                Ok((display, document)) => {
                    let (value, detail) = match document.root.get("enableProfiling") {
                        Some(value) => (
                            document::to_value(value),
                            format!("enableProfiling: {value}"),
                        ),
                        None => (
                            Value::Bool(true),
                            "enableProfiling is not set; KubeSchedulerConfiguration default true"
                                .to_string(),
                        ),
                    };
                    if component.settings.contains_key("--profiling") {
                        component.warnings.push(
                            "--profiling is ignored because --config is given (kube-scheduler reads enableProfiling)"
                                .into(),
                        );
                    }
                    component.settings.insert(
                        "--profiling".into(),
                        Setting {
                            value,
                            source: Source::ConfigFile,
                            path: Some(display.clone()),
                            detail,
                        },
                    );
                    component.files.push(ConfigFile::read(&path, display));
                }
                Err((display, message)) => {
                    component.config_error = Some(format!("{} {message}", display.display()));
                }
            }
        }
        ComponentKind::Etcd => apply_etcd_config_file(root, component),
        _ => {}
    }
}

/// etcd with `--config-file` (or `ETCD_CONFIG_FILE`) reads only that YAML file: etcd 3.4 logs
/// "other configuration command line flags and environment variables will be ignored". Its keys
/// are the flag names (`data-dir`, `listen-client-urls`, `name`), except TLS, which is nested:
/// `client-transport-security` and `peer-transport-security` hold `cert-file`, `key-file`,
/// `client-cert-auth`, `trusted-ca-file` and `auto-tls` (etcd's `securityConfig`), which become
/// `--cert-file` … and `--peer-cert-file`, `--peer-client-cert-auth` … as the rules name them.
fn apply_etcd_config_file(root: &HostRoot, component: &mut Component) {
    let Some(path) = component.host_path("--config-file") else {
        return;
    };
    let ignored: Vec<String> = component
        .settings
        .keys()
        .filter(|key| *key != "--config-file")
        .cloned()
        .collect();
    component.settings.retain(|key, _| key == "--config-file");
    if !ignored.is_empty() {
        component.warnings.push(format!(
            "etcd ignores {} because --config-file is given",
            ignored.join(", ")
        ));
    }
    let origin = component.origin.clone();
    match read_document_of(root, &origin, &path) {
        Ok((display, document)) => {
            let Some(map) = document.root.as_object() else {
                component.config_error = Some(format!(
                    "--config-file {} is not a YAML mapping",
                    display.display()
                ));
                return;
            };
            for (key, value) in map {
                let nested = match key.as_str() {
                    "client-transport-security" => Some(""),
                    "peer-transport-security" => Some("peer-"),
                    _ => None,
                };
                let Some(prefix) = nested else {
                    component.settings.insert(
                        format!("--{key}"),
                        Setting {
                            value: document::to_value(value),
                            source: Source::ConfigFile,
                            path: Some(display.clone()),
                            detail: format!("{key}: {value} in the --config-file"),
                        },
                    );
                    continue;
                };
                for (field, value) in value.as_object().into_iter().flatten() {
                    let flag = match field.as_str() {
                        // `client-cert-auth` under peer-transport-security is
                        // --peer-client-cert-auth.
                        "cert-file" | "key-file" | "client-cert-auth" | "trusted-ca-file"
                        | "auto-tls" | "crl-file" | "allowed-cn" | "allowed-hostname" => {
                            format!("--{prefix}{field}")
                        }
                        _ => continue,
                    };
                    component.settings.insert(
                        flag,
                        Setting {
                            value: document::to_value(value),
                            source: Source::ConfigFile,
                            path: Some(display.clone()),
                            detail: format!("{key}.{field}: {value} in the --config-file"),
                        },
                    );
                }
            }
            component.files.push(ConfigFile::read(&path, display));
        }
        Err((display, message)) => {
            component.config_error = Some(format!("--config-file {} {message}", display.display()));
        }
    }
}

/// etcd requires and verifies client certificates whenever a trusted CA is given with a
/// serving certificate, whatever `--client-cert-auth` says: its `transport.TLSInfo` server
/// config sets `RequireAndVerifyClientCert` when `TrustedCAFile != "" || ClientCertAuth`
/// (observed with etcd 3.4: `client-cert-auth: false` plus `trusted-ca-file` refuses a client
/// without a certificate). The same holds for peers. The effective setting is what the rules
/// judge, and its detail says why.
fn apply_etcd_implied_client_auth(component: &mut Component) {
    if component.kind != ComponentKind::Etcd {
        return;
    }
    for (auth, ca, cert) in [
        ("--client-cert-auth", "--trusted-ca-file", "--cert-file"),
        (
            "--peer-client-cert-auth",
            "--peer-trusted-ca-file",
            "--peer-cert-file",
        ),
    ] {
        let enabled = component
            .settings
            .get(auth)
            .is_some_and(|setting| setting.value.as_bool() == Some(true));
        if enabled || component.text(cert).is_none() {
            continue;
        }
        let Some(ca_setting) = component
            .settings
            .get(ca)
            .filter(|s| !s.value.to_string().is_empty())
            .cloned()
        else {
            continue;
        };
        let was = component.settings.get(auth).map_or_else(
            || "unset".to_string(),
            |setting| format!("{} ({})", setting.value, setting.detail),
        );
        component.settings.insert(
            auth.to_string(),
            Setting {
                value: Value::Bool(true),
                source: ca_setting.source,
                path: ca_setting.path.clone(),
                detail: format!(
                    "{auth} is {was}, but {ca} is set ({}): etcd requires and verifies client certificates whenever a trusted CA is given",
                    ca_setting.detail
                ),
            },
        );
    }
}

/// Fills what is unset with the component's real default for the way it was configured.
fn apply_defaults(component: &mut Component) {
    let has_config_file = component
        .files
        .iter()
        .any(|file| file.source == Source::ConfigFile);
    for default in tables::defaults(component.kind) {
        let zero_in_file = match component.settings.get(default.key) {
            Some(setting)
                if default.zero_is_unset
                    && matches!(setting.source, Source::ConfigFile | Source::DropIn)
                    && is_zero(&setting.value) =>
            {
                Some(setting.clone())
            }
            Some(_) => continue,
            None => None,
        };
        let (value, why) = if has_config_file {
            (
                default.with_config_file,
                if component.kind == ComponentKind::Kubelet {
                    "the config file's (v1beta1) default"
                } else {
                    "the config file's default"
                },
            )
        } else {
            (default.flags_only, "the default without a config file")
        };
        let Some(value) = value else { continue };
        if let Some(zero) = zero_in_file {
            let file = zero
                .path
                .as_ref()
                .map_or_else(String::new, |p| format!(" in {}", p.display()));
            component.settings.insert(
                default.key.to_string(),
                Setting {
                    value: tables::typed(value),
                    source: Source::Default,
                    path: zero.path.clone(),
                    detail: format!(
                        "{}{file} is a zero value, which {}'s defaulting replaces with {value}",
                        zero.detail,
                        component.kind.binary()
                    ),
                },
            );
            continue;
        }
        // A flag-only default is keyed by the flag itself (`--client-cert-auth`).
        let shown_flag = match default.flag {
            Some(flag) => format!("--{flag}"),
            None if default.key.starts_with("--") => default.key.to_string(),
            None => String::new(),
        };
        let not_set_in = match (&component.origin, has_config_file) {
            (_, true) => format!(
                "not set by flag {shown_flag} or in the config files; {} default ({why})",
                component.kind.binary()
            ),
            (Origin::Manifest { .. }, false) => format!(
                "{shown_flag} is not set in the manifest; {} default",
                component.kind.binary()
            ),
            (Origin::Process { .. } | Origin::Embedded { .. }, false) => format!(
                "{shown_flag} is not set; {} default ({why})",
                component.kind.binary()
            ),
        };
        component.settings.insert(
            default.key.to_string(),
            Setting {
                value: tables::typed(value),
                source: Source::Default,
                path: None,
                detail: not_set_in,
            },
        );
    }
}

/// `0`, `0s`, `""`: what Go's zero value looks like in a config file.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Str(text) => text.is_empty() || value.as_duration_nanos() == Some(0),
        Value::Int(0) => true,
        _ => false,
    }
}

/// `spec.containers[*]` of a static pod manifest whose command is the component: its argv (after
/// the program) and env. `Ok(None)`: no manifest.
#[allow(clippy::type_complexity)]
fn read_manifest(
    root: &HostRoot,
    path: &Path,
    kind: ComponentKind,
) -> Result<Option<(Vec<String>, Vec<(String, String)>)>, String> {
    let text = match root.read_to_string(path) {
        Ok(text) => text,
        Err(ReadError::NotFound) => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let document = document::parse(&text)?;
    let containers = document
        .root
        .pointer("/spec/containers")
        .and_then(serde_json::Value::as_array)
        .ok_or("has no spec.containers")?;
    let strings = |node: Option<&serde_json::Value>| -> Vec<String> {
        node.and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| match item {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for container in containers {
        let command = strings(container.get("command"));
        let args = strings(container.get("args"));
        let program = command.first().map(|p| p.rsplit('/').next().unwrap_or(p));
        let name_matches = document::str_field(container, "name")
            .is_some_and(|name| name == kind.binary() || name == kind.probe_key());
        if program != Some(kind.binary()) && !(program.is_none() && name_matches) {
            continue;
        }
        let mut argv: Vec<String> = command.into_iter().skip(1).collect();
        argv.extend(args);
        let env = container
            .get("env")
            .and_then(serde_json::Value::as_array)
            .map(|vars| {
                vars.iter()
                    .filter_map(|var| {
                        Some((
                            document::str_field(var, "name")?.to_string(),
                            document::str_field(var, "value").unwrap_or("").to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Ok(Some((argv, env)));
    }
    Err(format!(
        "has no container whose command is {}",
        kind.binary()
    ))
}

/// Reads a document a named check needs, from the path the apiserver's flag names.
fn gather_document(root: &HostRoot, name: &str, facts: &ComponentFacts) -> DocumentFact {
    let flag = match name {
        "apiserver.encryption_config" => "--encryption-provider-config",
        "apiserver.audit_policy" => "--audit-policy-file",
        other => {
            return DocumentFact::NotApplicable {
                reason: format!("unknown document {other}"),
            };
        }
    };
    let component = match facts.components.get(&ComponentKind::Apiserver) {
        Some(ComponentState::Found(component)) => component,
        Some(ComponentState::NotRunning { reason }) => {
            return DocumentFact::NotApplicable {
                reason: reason.clone(),
            };
        }
        None => {
            return DocumentFact::NotApplicable {
                reason: "kube-apiserver was not examined".into(),
            };
        }
    };
    let Some(path) = component.host_path(flag) else {
        return DocumentFact::NotConfigured { flag: flag.into() };
    };
    match read_document(root, &path) {
        Ok((display, document)) => DocumentFact::Parsed {
            path: display,
            content: document.root,
        },
        Err((display, message)) if message == ReadError::NotFound.to_string() => {
            DocumentFact::Absent { path: display }
        }
        Err((display, message)) => DocumentFact::Unreadable {
            path: display,
            error: message,
        },
    }
}
