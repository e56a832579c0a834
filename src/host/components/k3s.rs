//! k3s and RKE2: their configuration layers, and the components k3s runs inside its own process.
//!
//! Both read `config.yaml`, then `config.yaml.d/*.yaml` in lexical order (a plain key replaces,
//! `key+` appends), as command-line arguments placed before the real ones; `K3S_*`/`RKE2_*`
//! variables are only the defaults of flags nobody gave (see `platforms/k3s.toml` for the
//! sources). The `*-arg` lists become component flags over the distribution's built-in arguments,
//! which are data per release line (`platforms/k3s.toml`).
//!
//! k3s's components have no process of their own: their settings are the built-in arguments with
//! the layers applied, each value's evidence naming the file and key that decided it. RKE2's
//! components are real processes (read from `/proc`), and the layers only name where each flag
//! came from. A configuration file that cannot be parsed is an error naming file and line: every
//! setting it could have changed is undecided, never a default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Component, ComponentKind, ComponentState, ConfigFile, Origin, Source};
use crate::host::flags;
use crate::host::platform::PlatformName;
use crate::host::process::EmbeddedDistribution;
use crate::host::root::{HostRoot, ReadError};

const K3S_DATA: &str = include_str!("../../../platforms/k3s.toml");
const RKE2_DATA: &str = include_str!("../../../platforms/rke2.toml");

/// A distribution's layout and built-in arguments, from `platforms/<name>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistroData {
    pub distribution: String,
    pub config_file: String,
    pub config_dir: String,
    pub config_file_env: String,
    pub data_dir: String,
    pub units: Vec<String>,
    pub boolean_flags: Vec<String>,
    pub slice_options: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub arg_keys: BTreeMap<String, String>,
    #[serde(default, rename = "option")]
    pub options: Vec<OptionFlag>,
    #[serde(default)]
    pub paths: BTreeMap<String, String>,
    #[serde(default, rename = "release")]
    pub releases: Vec<Release>,
}

/// A distribution option that sets a component flag.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionFlag {
    pub key: String,
    pub component: String,
    pub flag: String,
    /// The flag's value when the option is true; without it, the option's own value.
    pub value: Option<String>,
}

/// The built-in arguments of one release line. (Its component tables are flattened, so unknown
/// keys cannot be refused here; `the_embedded_data_parses` checks the names.)
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub name: String,
    /// This line is chosen when the file exists (the newest first).
    pub when_exists: Option<String>,
    pub source: String,
    /// Components not listed here take the named line's arguments.
    pub inherit: Option<String>,
    #[serde(flatten)]
    pub components: BTreeMap<String, BTreeMap<String, String>>,
}

/// The embedded data of a distribution; `None` for one without.
pub fn data(platform: PlatformName) -> Option<DistroData> {
    let text = match platform {
        PlatformName::K3s => K3S_DATA,
        PlatformName::Rke2 => RKE2_DATA,
        _ => return None,
    };
    // The data is part of the binary and tested; a broken file is a build bug, reported as no data.
    parse_data(text).ok()
}

fn parse_data(text: &str) -> Result<DistroData, String> {
    toml::from_str(text).map_err(|error| error.to_string())
}

/// One value of one option, with the layer, file and key that gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayeredValue {
    pub value: String,
    pub source: Source,
    pub path: PathBuf,
    /// The key as written (`kube-apiserver-arg+`, `--kubelet-arg`, `K3S_KUBECONFIG_MODE`).
    pub key: String,
}

impl LayeredValue {
    /// `kube-apiserver-arg in /etc/rancher/k3s/config.yaml`.
    pub fn describe(&self) -> String {
        format!("{} in {}", self.key, self.path.display())
    }
}

/// The distribution's configuration after every layer, with the provenance of every value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DistroConfig {
    pub distribution: String,
    /// The files read, in order, and their state.
    pub files: Vec<ConfigFile>,
    /// Option -> its values (one for a plain option, several for a list).
    pub values: BTreeMap<String, Vec<LayeredValue>>,
    /// A file that could not be used: what it could have changed is undecided.
    pub error: Option<String>,
    /// The data directory (`data-dir`, or the distribution's default).
    pub data_dir: String,
    /// The release line whose built-in arguments apply, and why.
    pub release: Option<String>,
    pub release_why: Option<String>,
}

impl DistroConfig {
    /// The deciding (last) value of an option.
    pub fn get(&self, key: &str) -> Option<&LayeredValue> {
        self.values.get(key).and_then(|values| values.last())
    }

    /// Whether a boolean option is true.
    pub fn is_true(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.value == "true")
    }

    fn set(&mut self, key: &str, mut items: Vec<LayeredValue>, append: bool) {
        // Secrets never reach the facts or a report: the cluster token, agent token, S3 keys,
        // and the datastore endpoint (which may hold a password; its scheme is kept).
        if is_secret(key) {
            for item in &mut items {
                item.value = match item.value.split_once("://") {
                    Some((scheme, _)) if key == "datastore-endpoint" => {
                        format!("{scheme}://(redacted)")
                    }
                    _ => "(redacted)".into(),
                };
            }
        }
        let slot = self.values.entry(key.to_string()).or_default();
        if !append {
            slot.clear();
        }
        slot.extend(items);
    }
}

/// Options whose values are credentials.
fn is_secret(key: &str) -> bool {
    matches!(key, "token" | "datastore-endpoint" | "vpn-auth")
        || ["-token", "-password", "secret-key", "access-key"]
            .iter()
            .any(|end| key.ends_with(end))
}

/// At most this many `config.yaml.d` files are read; more is an error, not a silent cut.
const MAX_DROP_INS: usize = 256;

/// Reads the layers of `data`'s distribution for the process `process` (when it runs).
pub fn read_config(
    root: &HostRoot,
    data: &DistroData,
    process: Option<&EmbeddedDistribution>,
) -> DistroConfig {
    let mut config = DistroConfig {
        distribution: data.distribution.clone(),
        ..Default::default()
    };
    let (command_line, command_path) = command_line(root, data, process);
    let (environment, env_path) = environment(root, data, process);

    // Environment: the lowest layer above the built-ins.
    let mut config_file = data.config_file.clone();
    for (name, value) in &environment {
        if *name == data.config_file_env && !value.is_empty() {
            config_file = value.clone();
        }
        if let Some(key) = data.env.get(name) {
            config.set(
                key,
                vec![LayeredValue {
                    value: value.clone(),
                    source: Source::Env,
                    path: env_path.clone(),
                    key: name.clone(),
                }],
                false,
            );
        }
    }
    let parsed = parse_command_line(&command_line, data);
    if let Some(given) = parsed
        .iter()
        .rev()
        .find(|(key, _)| key == "config" || key == "c")
    {
        config_file = given.1.clone();
    }

    // config.yaml: optional at its default path, required when named.
    let named = config_file != data.config_file;
    read_layer(
        root,
        &mut config,
        Path::new(&config_file),
        Source::ConfigFile,
        named,
    );
    let drop_in_dir = if named {
        format!("{config_file}.d")
    } else {
        data.config_dir.clone()
    };
    match root.read_dir_names(Path::new(&drop_in_dir)) {
        Ok(mut names) if names.len() > MAX_DROP_INS => {
            names.clear();
            config.error = Some(format!(
                "{drop_in_dir} holds more than {MAX_DROP_INS} entries; hardnode reads at most {MAX_DROP_INS}"
            ));
        }
        Ok(mut names) => {
            names.sort();
            for name in names {
                let Some(name) = name.to_str() else { continue };
                if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                    continue;
                }
                let path = Path::new(&drop_in_dir).join(name);
                read_layer(root, &mut config, &path, Source::DropIn, true);
            }
        }
        Err(ReadError::NotFound) => {}
        Err(error) => {
            config.error = Some(format!("{drop_in_dir} {error}"));
        }
    }

    // The command line: last, a repeated list option appends.
    for (key, value) in parsed {
        if key == "config" || key == "c" {
            continue;
        }
        let append = data.slice_options.contains(&key);
        config.set(
            &key,
            vec![LayeredValue {
                value,
                source: Source::Flag,
                path: command_path.clone(),
                key: format!("--{key}"),
            }],
            append,
        );
    }
    config.data_dir = config
        .get("data-dir")
        .map_or_else(|| data.data_dir.clone(), |v| v.value.clone());
    config
}

/// Reads one YAML layer into `config`.
fn read_layer(
    root: &HostRoot,
    config: &mut DistroConfig,
    path: &Path,
    source: Source,
    required: bool,
) {
    let text = match root.read_to_string(path) {
        Ok(text) => text,
        Err(ReadError::NotFound) if !required => return,
        Err(error) => {
            let message = error.to_string();
            config.error = Some(format!("{} {message}", path.display()));
            config.files.push(file(path, source, message));
            return;
        }
    };
    // An empty file is no options at all (k3s reads it as an empty map).
    if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        config.files.push(file(path, source, "ok (empty)".into()));
        return;
    }
    let document = match super::document::parse(&text) {
        Ok(document) => document,
        Err(message) => {
            config.error = Some(format!("{} {message}", path.display()));
            config.files.push(file(path, source, message));
            return;
        }
    };
    let Some(map) = document.root.as_object() else {
        let message = "is not a YAML mapping of options".to_string();
        config.error = Some(format!("{} {message}", path.display()));
        config.files.push(file(path, source, message));
        return;
    };
    for (key, value) in map {
        let (name, append) = match key.strip_suffix('+') {
            Some(base) => (base, true),
            None => (key.as_str(), false),
        };
        let texts: Vec<String> = match value {
            serde_json::Value::Array(items) => items.iter().map(scalar_text).collect(),
            other => vec![scalar_text(other)],
        };
        let items = texts
            .into_iter()
            .map(|value| LayeredValue {
                value,
                source,
                path: path.to_path_buf(),
                key: key.clone(),
            })
            .collect();
        config.set(name, items, append);
    }
    let mut state = "ok".to_string();
    for warning in document.warnings {
        state = format!("ok; {warning}");
    }
    config.files.push(file(path, source, state));
}

fn file(path: &Path, source: Source, state: String) -> ConfigFile {
    ConfigFile {
        given: path.display().to_string(),
        path: path.to_path_buf(),
        source,
        state,
    }
}

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The k3s command line: `/proc/<pid>/cmdline` when it shows flags, else the `ExecStart` of the
/// unit that starts it (k3s overwrites its process title with `k3s server`).
fn command_line(
    root: &HostRoot,
    data: &DistroData,
    process: Option<&EmbeddedDistribution>,
) -> (Vec<String>, PathBuf) {
    if let Some(process) = process
        && !process.args.is_empty()
    {
        return (
            process.args.clone(),
            PathBuf::from(format!("/proc/{}/cmdline", process.pid)),
        );
    }
    for unit in &data.units {
        let Ok(text) = root.read_to_string(Path::new(unit)) else {
            continue;
        };
        if let Some(args) = exec_start(&text, &data.distribution) {
            return (args, PathBuf::from(unit));
        }
    }
    (Vec::new(), PathBuf::new())
}

/// The arguments after `<program> <role>` of a unit's `ExecStart=` (continuation lines joined,
/// quotes removed).
fn exec_start(unit: &str, program: &str) -> Option<Vec<String>> {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find_map(|line| line.trim().strip_prefix("ExecStart="))?;
    let words: Vec<String> = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '\'' || c == '"').to_string())
        .collect();
    let at = words
        .iter()
        .position(|w| w.rsplit('/').next() == Some(program))?;
    Some(words.into_iter().skip(at + 2).collect())
}

/// The process's environment (`/proc/<pid>/environ`), else the unit's `<unit>.env` file.
fn environment(
    root: &HostRoot,
    data: &DistroData,
    process: Option<&EmbeddedDistribution>,
) -> (Vec<(String, String)>, PathBuf) {
    if let Some(process) = process {
        let path = PathBuf::from(format!("/proc/{}/environ", process.pid));
        if let Ok(bytes) = root.read_capped(&path, 1024 * 1024) {
            let vars = bytes
                .split(|&b| b == 0)
                .filter_map(|entry| {
                    let text = String::from_utf8_lossy(entry);
                    let (name, value) = text.split_once('=')?;
                    Some((name.to_string(), value.to_string()))
                })
                .collect();
            return (vars, path);
        }
    }
    for unit in &data.units {
        let path = PathBuf::from(format!("{unit}.env"));
        if let Ok(text) = root.read_to_string(&path) {
            let vars = text
                .lines()
                .filter_map(|line| {
                    let (name, value) = line.trim().split_once('=')?;
                    Some((
                        name.trim().to_string(),
                        value
                            .trim()
                            .trim_matches(|c| c == '"' || c == '\'')
                            .to_string(),
                    ))
                })
                .collect();
            return (vars, path);
        }
    }
    (Vec::new(), PathBuf::new())
}

/// `--name=value`, `--name value`, bare booleans, `-c file`, in order.
fn parse_command_line(args: &[String], data: &DistroData) -> Vec<(String, String)> {
    let mut parsed = Vec::new();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        let Some(body) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|b| !b.is_empty())
        else {
            continue;
        };
        if let Some((name, value)) = body.split_once('=') {
            parsed.push((name.to_string(), value.to_string()));
        } else if data.boolean_flags.iter().any(|b| b == body) {
            parsed.push((body.to_string(), "true".into()));
        } else if let Some(value) = args.get(index).filter(|v| !v.starts_with('-')) {
            index += 1;
            parsed.push((body.to_string(), value.clone()));
        } else {
            parsed.push((body.to_string(), "true".into()));
        }
    }
    parsed
}

/// The release line whose built-in arguments apply: the first whose marker file exists, else the
/// last (oldest) line.
pub fn choose_release<'a>(
    root: &HostRoot,
    data: &'a DistroData,
    data_dir: &str,
) -> Option<(&'a Release, String)> {
    for release in &data.releases {
        match &release.when_exists {
            Some(marker) => {
                let path = marker.replace("${data-dir}", data_dir);
                if root.symlink_metadata(Path::new(&path)).is_ok() {
                    return Some((release, format!("{path} exists")));
                }
            }
            None => {
                let why = "no newer release's marker file exists".to_string();
                return Some((release, why));
            }
        }
    }
    let last = data.releases.last()?;
    Some((last, "no newer release's marker file exists".into()))
}

/// The built-in arguments of `kind` in `release` (or the release it inherits from).
fn builtins<'a>(
    data: &'a DistroData,
    release: &'a Release,
    kind: ComponentKind,
) -> Option<(&'a BTreeMap<String, String>, &'a Release)> {
    if let Some(args) = release.components.get(kind.probe_key()) {
        return Some((args, release));
    }
    let parent = release.inherit.as_ref()?;
    let parent = data.releases.iter().find(|r| &r.name == parent)?;
    parent
        .components
        .get(kind.probe_key())
        .map(|args| (args, parent))
}

/// Where one argument of an embedded component came from.
#[derive(Debug, Clone)]
struct ArgOrigin {
    source: Source,
    path: Option<PathBuf>,
    detail: String,
}

/// A component k3s runs inside its own process: the built-in arguments of the release line with
/// the options and `*-arg` items applied, resolved as the component resolves its flags.
#[allow(clippy::too_many_arguments)]
pub fn resolve_embedded(
    root: &HostRoot,
    data: &DistroData,
    config: &DistroConfig,
    process: Option<&EmbeddedDistribution>,
    kind: ComponentKind,
    pairs: &std::collections::BTreeSet<(String, Option<String>)>,
) -> ComponentState {
    let name = &data.distribution;
    let role = process.map_or("", |p| p.role.as_str());
    let pid = process.map_or(0, |p| p.pid);
    let control_plane = !matches!(kind, ComponentKind::Kubelet | ComponentKind::Proxy);
    if role == "agent" && control_plane {
        return not_running(format!(
            "{name} agent (pid {pid}): {} is part of the control plane, which does not run on this node",
            kind.binary()
        ));
    }
    let disable_key = match kind {
        ComponentKind::Apiserver => "disable-apiserver",
        ComponentKind::ControllerManager => "disable-controller-manager",
        ComponentKind::Scheduler => "disable-scheduler",
        ComponentKind::Etcd => "disable-etcd",
        ComponentKind::Proxy => "disable-kube-proxy",
        ComponentKind::Kubelet => "",
    };
    if let Some(disabled) = config.get(disable_key).filter(|v| v.value == "true") {
        return not_running(format!(
            "{} is disabled by {} ({name} does not start it)",
            kind.binary(),
            disabled.describe()
        ));
    }
    if kind == ComponentKind::Etcd {
        if let Some(endpoint) = config.get("datastore-endpoint") {
            // The endpoint may carry a password: only its scheme is shown.
            let scheme = endpoint.value.split("://").next().unwrap_or("external");
            return not_running(format!(
                "{name} uses an external {scheme} datastore (datastore-endpoint, {}): etcd does not run on this node",
                endpoint.describe()
            ));
        }
        let etcd_dir = format!("{}/server/db/etcd", config.data_dir);
        let embedded_etcd =
            config.is_true("cluster-init") || root.symlink_metadata(Path::new(&etcd_dir)).is_ok();
        if !embedded_etcd {
            return not_running(format!(
                "{name} stores cluster state in SQLite through kine ({}/server/db/state.db), not etcd: \
                 no cluster-init and no {etcd_dir}",
                config.data_dir
            ));
        }
    }
    let Some((release, why)) = choose_release(root, data, &config.data_dir) else {
        return not_running(format!("no built-in arguments are known for {name}"));
    };
    let Some((defaults, from)) = builtins(data, release, kind) else {
        return not_running(format!(
            "no built-in arguments of {} are known for {}",
            kind.binary(),
            release.name
        ));
    };
    let mut args: BTreeMap<String, (String, ArgOrigin)> = BTreeMap::new();
    for (flag, value) in defaults {
        let mut value = value.replace("${data-dir}", &config.data_dir);
        let mut derived = String::new();
        if value.contains("${cgroup-driver}") {
            let (driver, how) = cgroup_driver(root, &config.data_dir);
            value = value.replace("${cgroup-driver}", driver);
            derived = format!(", {how}");
        }
        let detail = format!(
            "{name} built-in --{flag}={value} ({}, {why}{derived}; {})",
            release.name, from.source
        );
        args.insert(
            flag.clone(),
            (
                value,
                ArgOrigin {
                    source: Source::Builtin,
                    path: None,
                    detail,
                },
            ),
        );
    }
    for option in data
        .options
        .iter()
        .filter(|o| o.component == kind.probe_key())
    {
        let Some(given) = config.get(&option.key) else {
            continue;
        };
        let value = match &option.value {
            Some(_) if given.value != "true" => continue,
            Some(value) => value.replace("${data-dir}", &config.data_dir),
            None => given.value.clone(),
        };
        let detail = format!(
            "{}: {} sets --{}={value}",
            given.describe(),
            given.value,
            option.flag
        );
        args.insert(
            option.flag.clone(),
            (
                value,
                ArgOrigin {
                    source: given.source,
                    path: Some(given.path.clone()),
                    detail,
                },
            ),
        );
    }
    if let Some(arg_key) = data.arg_keys.get(kind.probe_key()) {
        for item in config.values.get(arg_key).into_iter().flatten() {
            let text = item.value.trim_start_matches('-');
            let (flag, value, append) = match text.split_once('=') {
                Some((flag, value)) => match flag.strip_suffix('+') {
                    Some(flag) => (flag.to_string(), value.to_string(), true),
                    None => (flag.to_string(), value.to_string(), false),
                },
                None => (text.to_string(), "true".to_string(), false),
            };
            let value = match (append, args.get(&flag)) {
                (true, Some((existing, _))) if !existing.is_empty() => {
                    format!("{existing},{value}")
                }
                _ => value,
            };
            let detail = format!("{}: {}", item.describe(), item.value);
            args.insert(
                flag,
                (
                    value,
                    ArgOrigin {
                        source: item.source,
                        path: Some(item.path.clone()),
                        detail,
                    },
                ),
            );
        }
    }
    let argv: Vec<String> = args
        .iter()
        .map(|(flag, (value, _))| format!("--{flag}={value}"))
        .collect();
    let parsed = flags::parse(&argv, flags::boolean_flags(kind.binary()));
    let origin = Origin::Embedded {
        distribution: name.clone(),
        pid,
    };
    let mut component = super::build(
        root,
        kind,
        origin,
        argv.clone(),
        &parsed,
        (Source::Builtin, PathBuf::new()),
        pairs,
    );
    // Each flag's setting takes the layer, file and key that decided it.
    let mapping = super::tables::flag_to_path(kind, pairs);
    for (flag, (_, arg_origin)) in &args {
        let key = mapping
            .get(flag.as_str())
            .cloned()
            .unwrap_or_else(|| super::flag_key(flag));
        if let Some(setting) = component.settings.get_mut(&key)
            && setting.source == Source::Builtin
        {
            setting.source = arg_origin.source;
            setting.path = arg_origin.path.clone();
            setting.detail = arg_origin.detail.clone();
        }
    }
    for (gate, _) in parsed.feature_gates.iter() {
        if let Some(setting) = component.settings.get_mut(&format!("featureGates.{gate}"))
            && let Some((_, arg_origin)) = args.get("feature-gates")
        {
            setting.source = arg_origin.source;
            setting.path = arg_origin.path.clone();
            setting.detail = format!("{} ({gate})", arg_origin.detail);
        }
    }
    component.files.splice(0..0, config.files.iter().cloned());
    if let Some(error) = &config.error {
        component.config_error = Some(format!(
            "{error} (a {name} configuration file that cannot be read could change any setting)"
        ));
    }
    super::apply_authorization_config(root, &mut component);
    super::apply_component_config(root, &mut component);
    super::apply_defaults(&mut component);
    ComponentState::Found(Box::new(component))
}

/// For a component that runs as its own process on RKE2 (or a k3s agent's real kubelet): names
/// the configuration file and key that put each flag on its command line.
pub fn annotate(data: &DistroData, config: &DistroConfig, component: &mut Component) {
    let Some(arg_key) = data.arg_keys.get(component.kind.probe_key()) else {
        return;
    };
    let mut from_layers: BTreeMap<String, &LayeredValue> = BTreeMap::new();
    for item in config.values.get(arg_key).into_iter().flatten() {
        let text = item.value.trim_start_matches('-');
        let flag = text.split_once('=').map_or(text, |(flag, _)| flag);
        from_layers.insert(flag.trim_end_matches('+').to_string(), item);
    }
    for option in data
        .options
        .iter()
        .filter(|o| o.component == component.kind.probe_key())
    {
        if let Some(given) = config.get(&option.key) {
            from_layers.insert(option.flag.clone(), given);
        }
    }
    for setting in component.settings.values_mut() {
        if !matches!(setting.source, Source::Flag | Source::Manifest) {
            continue;
        }
        let Some(flag) = setting
            .detail
            .strip_prefix("--")
            .and_then(|rest| rest.split('=').next())
        else {
            continue;
        };
        if let Some(item) = from_layers.get(flag) {
            setting.detail.push_str(&format!(
                " (put there by {}: {})",
                item.describe(),
                item.value
            ));
        } else {
            setting.detail.push_str(&format!(
                " (a {} built-in argument: no configuration layer sets it)",
                data.distribution
            ));
        }
    }
}

/// The cgroup driver k3s gives the kubelet: the one it wrote into containerd's generated config.
fn cgroup_driver(root: &HostRoot, data_dir: &str) -> (&'static str, String) {
    let path = format!("{data_dir}/agent/etc/containerd/config.toml");
    match root.read_to_string(Path::new(&path)) {
        Ok(text)
            if text.lines().any(|line| {
                let compact: String = line.split_whitespace().collect();
                compact == "SystemdCgroup=true"
            }) =>
        {
            ("systemd", format!("SystemdCgroup = true in {path}"))
        }
        Ok(_) => ("cgroupfs", format!("no SystemdCgroup = true in {path}")),
        Err(error) => ("cgroupfs", format!("{path} {error}: cgroupfs assumed")),
    }
}

fn not_running(reason: String) -> ComponentState {
    ComponentState::NotRunning { reason }
}

/// The distribution path standing for a kubeadm path the CIS rules name.
pub fn map_path(data: &DistroData, config: &DistroConfig, path: &str) -> Option<String> {
    data.paths
        .get(path)
        .map(|mapped| mapped.replace("${data-dir}", &config.data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_data_parses() {
        let k3s = parse_data(K3S_DATA).expect("k3s data");
        assert_eq!(k3s.releases.len(), 2);
        assert!(k3s.releases[1].components.contains_key("kubelet"));
        for release in &k3s.releases {
            for component in release.components.keys() {
                assert!(
                    ComponentKind::from_probe_key(component).is_some(),
                    "{}: unknown component {component}",
                    release.name
                );
            }
        }
        parse_data(RKE2_DATA).expect("rke2 data");
    }

    #[test]
    fn secrets_are_redacted_as_they_are_stored() {
        let mut config = DistroConfig::default();
        let item = |value: &str, key: &str| LayeredValue {
            value: value.into(),
            source: Source::ConfigFile,
            path: PathBuf::from("/etc/rancher/k3s/config.yaml"),
            key: key.into(),
        };
        config.set("token", vec![item("K10abc::server:s3cr3t", "token")], false);
        config.set(
            "datastore-endpoint",
            vec![item("postgres://u:pw@db:5432/k3s", "datastore-endpoint")],
            false,
        );
        config.set("node-name", vec![item("n1", "node-name")], false);
        config.set(
            "secrets-encryption",
            vec![item("true", "secrets-encryption")],
            false,
        );
        assert!(config.is_true("secrets-encryption"));
        assert_eq!(
            config.get("token").map(|v| v.value.as_str()),
            Some("(redacted)")
        );
        assert_eq!(
            config.get("datastore-endpoint").map(|v| v.value.as_str()),
            Some("postgres://(redacted)")
        );
        assert_eq!(
            config.get("node-name").map(|v| v.value.as_str()),
            Some("n1")
        );
    }

    #[test]
    fn exec_start_skips_program_and_role_and_joins_lines() {
        let unit = "[Service]\nExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--write-kubeconfig-mode' '0644' \\\n    --protect-kernel-defaults\n";
        assert_eq!(
            exec_start(unit, "k3s"),
            Some(vec![
                "--write-kubeconfig-mode".to_string(),
                "0644".into(),
                "--protect-kernel-defaults".into()
            ])
        );
    }

    #[test]
    fn command_line_booleans_take_no_value() {
        let k3s = data(PlatformName::K3s).expect("k3s data");
        let args: Vec<String> = [
            "--protect-kernel-defaults",
            "--kubelet-arg",
            "a=b",
            "-c",
            "/x.yaml",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            parse_command_line(&args, &k3s),
            vec![
                ("protect-kernel-defaults".to_string(), "true".to_string()),
                ("kubelet-arg".into(), "a=b".into()),
                ("c".into(), "/x.yaml".into())
            ]
        );
    }
}
