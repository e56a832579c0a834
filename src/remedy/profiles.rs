//! `hardnode profiles install|status`: distribute AppArmor and seccomp profiles to a node so the
//! pods that reference them can start, idempotently.
//!
//! install: every profile is validated before anything is written (AppArmor with
//! `apparmor_parser -Q -K`, which compiles without loading; seccomp with the validator behind
//! `hardnode seccomp lint`) — one invalid profile and nothing is installed. Then each file is
//! written atomically only when its content differs (AppArmor into `/etc/apparmor.d/`, seccomp
//! under the kubelet's seccomp root keeping the relative layout, 0644 root:root), AppArmor
//! profiles are loaded with `apparmor_parser -r` — only into the running kernel (`--root /`) and
//! only when AppArmor is enabled — and the kernel's profile list is read back to verify the mode.
//! A profile installed but not loaded is a warning and leaves `verified` false: it does not yet
//! protect anything.
//!
//! status: what is installed and loaded, what `[profiles]` wants, and which AppArmor profiles the
//! running containers carry that the node does not have on disk.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Serialize;

use super::dirfd::{Ownership, Parent};
use super::{Lock, Outcome, RemedyError, require_root};
use crate::host::facts::{Observed, ProfileList, ProfileVerdict, SeccompRequest};
use crate::host::profile_sources::{Kind, Source, apparmor_profile_names, collect};
use crate::host::{self, HostRoot};

/// Where AppArmor policy lives (host path); the apparmor service loads it at boot.
pub const APPARMOR_DIR: &str = "/etc/apparmor.d";
/// Where distributions install the parser; the first that exists is used.
const PARSER_PATHS: &[&str] = &["/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"];
/// Installed profiles are world-readable and root-owned (the kubelet and the runtime read them).
const PROFILE_MODE: u32 = 0o644;
/// Container labels that are the runtimes' own default profiles, not site profiles.
const RUNTIME_DEFAULTS: &[&str] = &[
    "cri-containerd.apparmor.d",
    "docker-default",
    "crio-default",
    "containers-default-0.0.0",
];

/// What `profiles install` is asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    pub apparmor: Vec<Source>,
    pub seccomp: Vec<Source>,
    /// The kubelet's seccomp root (host path).
    pub seccomp_dir: PathBuf,
    /// Load AppArmor profiles in complain mode (discovery runs).
    pub complain: bool,
    pub dry_run: bool,
}

/// The JSON Ansible reads: `{changed, actions, verified, warnings, ...}` plus one entry per file.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub command: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub dry_run: bool,
    /// `enforce` or `complain`.
    pub mode: &'static str,
    /// Whether profiles could be loaded here, and if not why.
    pub loading: Loading,
    pub profiles: Vec<ProfileResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loading {
    pub possible: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileResult {
    /// `apparmor` or `seccomp`.
    pub kind: &'static str,
    pub source: PathBuf,
    /// The installed host path.
    pub path: PathBuf,
    /// AppArmor: the profile names the file declares. Seccomp: the `localhostProfile` name.
    pub names: Vec<String>,
    /// `installed` (new), `updated` (content differed) or `unchanged`; in a dry run, what would be.
    pub state: &'static str,
    /// AppArmor only: every name is loaded in the wanted mode after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The absolute path of `apparmor_parser`, if installed.
pub fn parser_path() -> Option<PathBuf> {
    PARSER_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

fn require_parser() -> Result<PathBuf, RemedyError> {
    parser_path().ok_or_else(|| {
        RemedyError::Tool(format!(
            "apparmor_parser is not installed (looked at {}); install the apparmor package",
            PARSER_PATHS.join(", ")
        ))
    })
}

/// Runs the parser by absolute path with a clean environment, `stdin` piped in; stdout on exit 0,
/// else the meaningful stderr lines.
fn run_parser(parser: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<String, String> {
    let mut child = crate::command::clean(parser)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run {}: {error}", parser.display()))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A parser that exits early closes the pipe; its exit status says why.
        let _ = pipe.write_all(bytes);
    }
    let output = child
        .wait_with_output()
        .map_err(|error| format!("cannot run {}: {error}", parser.display()))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let message: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        // Noise on every kernel without the cache interface, not the problem.
        .filter(|line| !line.trim().is_empty() && !line.starts_with("Cache read/write disabled"))
        .map(str::to_string)
        .collect();
    Err(match (output.status.code(), message.is_empty()) {
        (Some(code), true) => format!("apparmor_parser exited with {code}"),
        (None, true) => "apparmor_parser was killed by a signal".into(),
        _ => message.join("; "),
    })
}

/// Compiles a profile without loading it (`apparmor_parser -Q -K`, the bytes on stdin so exactly
/// what will be installed is checked).
pub fn validate_apparmor(parser: &Path, content: &[u8]) -> Result<(), String> {
    run_parser(parser, &["-Q", "-K"], Some(content)).map(|_| ())
}

/// One source checked and ready to install.
struct Checked<'a> {
    kind: Kind,
    source: &'a Source,
    target: PathBuf,
    names: Vec<String>,
}

/// Validates every source; the first problem refuses the whole run (exit 2), naming the file.
fn check_all<'a>(request: &'a Request) -> Result<(Vec<Checked<'a>>, Vec<String>), RemedyError> {
    let mut checked = Vec::new();
    let mut warnings = Vec::new();
    let refuse = |source: &Source, problem: String| {
        RemedyError::Usage(format!(
            "{}: {problem}; nothing was installed",
            source.path.display()
        ))
    };
    if !request.apparmor.is_empty() {
        let parser = require_parser()?;
        for source in &request.apparmor {
            let text = String::from_utf8_lossy(&source.content);
            let names = apparmor_profile_names(&text);
            if names.is_empty() {
                return Err(refuse(source, "declares no AppArmor profile".into()));
            }
            validate_apparmor(&parser, &source.content).map_err(|problem| {
                refuse(
                    source,
                    format!("invalid AppArmor profile (apparmor_parser -Q -K): {problem}"),
                )
            })?;
            checked.push(Checked {
                kind: Kind::AppArmor,
                source,
                target: Path::new(APPARMOR_DIR).join(&source.relative),
                names,
            });
        }
    }
    for source in &request.seccomp {
        match crate::seccomp::validate(&source.content) {
            Ok(summary) => {
                if summary.deny_list {
                    warnings.push(format!(
                        "{}: a deny-list (defaultAction {}): every syscall not listed is allowed",
                        source.path.display(),
                        summary.default_action
                    ));
                }
            }
            Err(problems) => {
                let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(refuse(
                    source,
                    format!("invalid seccomp profile: {}", listed.join("; ")),
                ));
            }
        }
        checked.push(Checked {
            kind: Kind::Seccomp,
            source,
            target: request.seccomp_dir.join(&source.relative),
            names: vec![source.relative.display().to_string()],
        });
    }
    Ok((checked, warnings))
}

/// Whether profiles can be loaded into the kernel from this run, and why not.
fn loading(root: &HostRoot) -> Loading {
    if !root.is_live() {
        return Loading {
            possible: false,
            reason: format!(
                "--root is {}, not /: profiles are installed under it, but hardnode loads \
                 only into the kernel it runs on",
                root.prefix().display()
            ),
        };
    }
    let apparmor = host::apparmor::gather(root);
    if crate::engine::apparmor_is_enabled(&apparmor) {
        Loading {
            possible: true,
            reason: "AppArmor is enabled in the running kernel".into(),
        }
    } else {
        Loading {
            possible: false,
            reason: "AppArmor is not enabled in the running kernel (see `hardnode check --only \
                     apparmor.enabled`): the profiles are installed and load at the next boot \
                     with AppArmor on"
                .into(),
        }
    }
}

fn loaded_profiles(root: &HostRoot) -> Option<ProfileList> {
    host::apparmor::gather(root).profiles.value().cloned()
}

fn all_loaded(list: Option<&ProfileList>, names: &[String], mode: &str) -> bool {
    list.is_some_and(|list| {
        names.iter().all(|name| {
            list.profiles
                .iter()
                .any(|profile| &profile.name == name && profile.mode == mode)
        })
    })
}

/// Installs (or, with `dry_run`, plans) the requested profiles.
pub fn install(root: &HostRoot, request: &Request) -> Result<InstallReport, RemedyError> {
    if request.apparmor.is_empty() && request.seccomp.is_empty() {
        return Err(RemedyError::Usage(
            "no profiles to install: give --apparmor/--seccomp, or list them in [profiles] of \
             the site config"
                .into(),
        ));
    }
    let (checked, mut warnings) = check_all(request)?;
    if root.is_live() && !request.dry_run {
        require_root("profiles install")?;
    }
    let _lock = if request.dry_run {
        None
    } else {
        Some(Lock::acquire(root)?)
    };
    let mode = if request.complain {
        "complain"
    } else {
        "enforce"
    };
    let loading = loading(root);
    let mut actions = Vec::new();
    let mut results = Vec::new();
    let mut changed = false;

    // Every target's directory is opened inside the root (a symlink on the way refused) before
    // anything is written; the files are then written relative to those handles.
    let parents = checked
        .iter()
        .map(|item| Parent::open_existing(root, &item.target))
        .collect::<Result<Vec<_>, _>>()?;
    for parent in parents.iter().flatten() {
        parent.check_replaceable()?;
    }
    // Write the files first: a profile is loaded from the installed copy.
    for (item, parent) in checked.iter().zip(&parents) {
        let existing = match parent {
            Some(parent) => parent.read()?,
            None => None,
        };
        let state = match &existing {
            None => "installed",
            Some(bytes) if *bytes == item.source.content => "unchanged",
            Some(_) => "updated",
        };
        if state != "unchanged" {
            let verb = if state == "installed" {
                "install"
            } else {
                "update"
            };
            actions.push(format!(
                "{verb} {} (from {}, mode 0644 root:root)",
                item.target.display(),
                item.source.path.display()
            ));
            if !request.dry_run {
                // No backup beside AppArmor policy: the boot-time loader would read a copy in
                // /etc/apparmor.d as a second definition of the same profile.
                let backup = item.kind == Kind::Seccomp;
                let created;
                let parent = match parent {
                    Some(parent) => parent,
                    None => {
                        created = Parent::open(root, &item.target, true)?;
                        &created
                    }
                };
                parent.write_atomic(
                    &item.source.content,
                    Ownership::Force {
                        mode: PROFILE_MODE,
                        owner: (0, 0),
                    },
                    backup,
                )?;
                changed = true;
            }
        }
        results.push(ProfileResult {
            kind: match item.kind {
                Kind::AppArmor => "apparmor",
                Kind::Seccomp => "seccomp",
            },
            source: item.source.path.clone(),
            path: item.target.clone(),
            names: item.names.clone(),
            state,
            loaded: None,
            verified: false,
            detail: None,
        });
    }

    // Load what is not loaded in the wanted mode, or was just rewritten.
    let before = loaded_profiles(root);
    for (item, result) in checked.iter().zip(results.iter_mut()) {
        if item.kind != Kind::AppArmor {
            continue;
        }
        let rewritten = result.state != "unchanged";
        if !rewritten && all_loaded(before.as_ref(), &item.names, mode) {
            continue;
        }
        if !loading.possible {
            continue;
        }
        let mut args = vec!["-r"];
        if request.complain {
            args.push("-C");
        }
        actions.push(format!(
            "load {} ({mode}): apparmor_parser {} {}",
            item.names.join(", "),
            args.join(" "),
            item.target.display()
        ));
        if request.dry_run {
            continue;
        }
        // The installed copy, read back through its directory handle and handed to the parser
        // on stdin: the parser never resolves a path under the root that could be swapped.
        let installed = Parent::open(root, &item.target, false)?
            .read()?
            .ok_or_else(|| RemedyError::Refused {
                path: item.target.clone(),
                reason: "the installed file is gone".into(),
            })?;
        let parser = require_parser()?;
        run_parser(&parser, &args, Some(&installed)).map_err(|message| {
            RemedyError::Tool(format!(
                "loading {} failed (apparmor_parser -r): {message}",
                item.target.display()
            ))
        })?;
        changed = true;
    }

    // Verify: the installed bytes, and for AppArmor the kernel's own list.
    let after = loaded_profiles(root);
    for (item, result) in checked.iter().zip(results.iter_mut()) {
        if request.dry_run {
            continue;
        }
        let on_disk = Parent::open_existing(root, &item.target)?
            .and_then(|parent| parent.read().ok().flatten())
            .is_some_and(|bytes| bytes == item.source.content);
        match item.kind {
            Kind::Seccomp => {
                result.verified = on_disk;
                if !on_disk {
                    result.detail = Some("the installed file does not read back as written".into());
                }
            }
            Kind::AppArmor => {
                let loaded = all_loaded(after.as_ref(), &item.names, mode);
                result.loaded = Some(loaded);
                result.verified = on_disk && loaded;
                if !loaded {
                    let detail = if loading.possible {
                        format!(
                            "installed but not loaded in {mode} mode: {} does not list {} so",
                            host::apparmor::PROFILES,
                            item.names.join(", ")
                        )
                    } else {
                        format!("installed but not loaded: {}", loading.reason)
                    };
                    warnings.push(format!("{}: {detail}", item.target.display()));
                    result.detail = Some(detail);
                }
            }
        }
    }
    if request.complain && !request.dry_run {
        warnings.push(
            "complain mode only logs what the profiles would deny; at the next boot they load as \
             written (enforce unless the file says flags=(complain))"
                .into(),
        );
    }
    let verified = !request.dry_run && results.iter().all(|result| result.verified);
    Ok(InstallReport {
        command: "profiles install",
        outcome: Outcome {
            changed,
            actions,
            verified,
            warnings,
        },
        dry_run: request.dry_run,
        mode,
        loading,
        profiles: results,
    })
}

/// What `profiles status` found.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub command: &'static str,
    /// Everything wanted is installed (and loaded where loading is possible) and no running
    /// container uses a profile the node lacks on disk.
    pub ok: bool,
    pub apparmor_enabled: bool,
    /// Profiles the kernel has loaded, or why the list could not be read.
    pub loaded: Observed<ProfileList>,
    /// Profile files under /etc/apparmor.d and the names they declare.
    pub apparmor_installed: Vec<InstalledAppArmor>,
    /// `*.json` under the kubelet's seccomp root with their verdicts.
    pub seccomp_installed: Observed<Vec<crate::host::facts::ProfileFile>>,
    /// What `[profiles]` of the site config wants, and its state on this node.
    pub wanted: Vec<Wanted>,
    /// Profiles referenced by running containers that the node lacks.
    pub referenced_missing: Vec<Referenced>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstalledAppArmor {
    pub path: PathBuf,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Wanted {
    pub kind: &'static str,
    pub source: PathBuf,
    pub path: PathBuf,
    pub names: Vec<String>,
    /// `missing`, `differs` or `installed`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Referenced {
    pub kind: &'static str,
    pub profile: String,
    pub containers: Vec<String>,
    pub problem: String,
}

/// Reads the node's profile state; `wanted` are the `[profiles]` sources (already read).
pub fn status(
    root: &HostRoot,
    wanted_apparmor: &[Source],
    wanted_seccomp: &[Source],
    seccomp_dir: &Path,
    source_errors: Vec<String>,
) -> StatusReport {
    let apparmor = host::apparmor::gather(root);
    let enabled = crate::engine::apparmor_is_enabled(&apparmor);
    let mut notes = source_errors;
    let list = apparmor.profiles.value();
    let installed: Vec<InstalledAppArmor> =
        match collect(root, &[PathBuf::from(APPARMOR_DIR)], Kind::AppArmor) {
            Ok(sources) => sources
                .into_iter()
                .map(|source| InstalledAppArmor {
                    names: apparmor_profile_names(&String::from_utf8_lossy(&source.content)),
                    path: source.path,
                })
                .collect(),
            Err(error) => {
                notes.push(format!("cannot list {APPARMOR_DIR}: {error}"));
                Vec::new()
            }
        };
    let seccomp = host::seccomp_profiles::gather(
        root,
        &SeccompRequest {
            dir: seccomp_dir.to_path_buf(),
            required: Vec::new(),
        },
    );
    let mut ok = notes.is_empty();
    let mut wanted = Vec::new();
    for (kind, sources, dir) in [
        ("apparmor", wanted_apparmor, Path::new(APPARMOR_DIR)),
        ("seccomp", wanted_seccomp, seccomp_dir),
    ] {
        for source in sources {
            let path = dir.join(&source.relative);
            let state = match root.read_capped(&path, crate::host::root::DEFAULT_READ_CAP) {
                Ok(bytes) if bytes == source.content => "installed",
                Ok(_) => "differs",
                Err(_) => "missing",
            };
            let names = if kind == "apparmor" {
                apparmor_profile_names(&String::from_utf8_lossy(&source.content))
            } else {
                vec![source.relative.display().to_string()]
            };
            let loaded = (kind == "apparmor").then(|| all_loaded(list, &names, "enforce"));
            if state != "installed" || (enabled && loaded == Some(false)) {
                ok = false;
            }
            wanted.push(Wanted {
                kind,
                source: source.path.clone(),
                path,
                names,
                state,
                loaded,
            });
        }
    }

    // AppArmor labels of running containers: a site profile the node has loaded but not on disk
    // is gone after a reboot, and the pod with it.
    let containers = host::containers::gather(root);
    let on_disk: BTreeSet<&str> = installed
        .iter()
        .flat_map(|file| file.names.iter().map(String::as_str))
        .collect();
    let mut referenced: Vec<Referenced> = Vec::new();
    for container in &containers.containers {
        for process in &container.processes {
            let Some(label) = process.apparmor.value() else {
                continue;
            };
            let name = label
                .trim()
                .rsplit_once(" (")
                .map_or(label.trim(), |(name, _)| name);
            if name == "unconfined" || RUNTIME_DEFAULTS.contains(&name) || on_disk.contains(name) {
                continue;
            }
            let who = container.label();
            match referenced.iter_mut().find(|r| r.profile == name) {
                Some(entry) if entry.containers.contains(&who) => {}
                Some(entry) => entry.containers.push(who),
                None => referenced.push(Referenced {
                    kind: "apparmor",
                    profile: name.to_string(),
                    containers: vec![who],
                    problem: format!(
                        "loaded in the kernel but no file under {APPARMOR_DIR} declares it: \
                         after a reboot pods using it fail to start"
                    ),
                }),
            }
        }
    }
    if !referenced.is_empty() {
        ok = false;
    }
    if let Some(error) = &containers.listing_error {
        notes.push(format!("containers could not be listed: {error}"));
    }
    notes.push(
        "seccomp: a running container's Localhost profile name is not visible from its \
         processes (the filter is already in the kernel); a pod whose profile file is missing \
         never starts — list the profiles pods need in [profiles] seccomp"
            .into(),
    );
    if let Observed::Value { value, .. } = &seccomp.listing {
        for file in value {
            if !matches!(file.verdict, ProfileVerdict::Valid { .. }) {
                ok = false;
            }
        }
    }
    StatusReport {
        command: "profiles status",
        ok,
        apparmor_enabled: enabled,
        loaded: apparmor.profiles,
        apparmor_installed: installed,
        seccomp_installed: seccomp.listing,
        wanted,
        referenced_missing: referenced,
        notes,
    }
}
