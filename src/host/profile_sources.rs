//! The profile files a site distributes (`hardnode profiles install --apparmor/--seccomp`, or the
//! site config's `[profiles]`): read, not yet judged. A directory given for AppArmor means every
//! regular file directly in it (as `/etc/apparmor.d` itself is read: subdirectories such as
//! `abstractions/` and editor or package-manager leftovers are skipped); a directory given for
//! seccomp means every `*.json` below it, named by its path relative to that directory, because
//! that relative path is what a pod's `localhostProfile` says.
//!
//! Also the names an AppArmor file declares, parsed in Rust so a check can know them without
//! running `apparmor_parser` (checks never shell out).

use std::path::{Path, PathBuf};

use super::root::{DEFAULT_READ_CAP, HostRoot};
use crate::config::{Policy, ProfilesPolicy};

/// How deep a seccomp source directory is walked.
const MAX_DEPTH: usize = 8;
/// At most this many files are taken from one source directory.
const MAX_FILES: usize = 1_000;

/// One profile file to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Where it was read (a path under `root`, as given).
    pub path: PathBuf,
    /// Where it goes, relative to the target directory (`k8s-deny-write`,
    /// `profiles/fine-grained.json`).
    pub relative: PathBuf,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AppArmor,
    Seccomp,
}

/// Every profile file the given paths mean, in a stable order. `root` is the host root the paths
/// are read under (`/` for paths given on the command line, the host root for site config).
pub fn collect(root: &HostRoot, paths: &[PathBuf], kind: Kind) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    for path in paths {
        let metadata = root
            .metadata(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        if metadata.is_dir() {
            let before = sources.len();
            walk(root, path, Path::new(""), kind, 0, &mut sources)?;
            if sources.len() == before {
                return Err(format!(
                    "{}: no {} in this directory",
                    path.display(),
                    match kind {
                        Kind::AppArmor => "profile file",
                        Kind::Seccomp => "*.json profile",
                    }
                ));
            }
        } else {
            let name = path
                .file_name()
                .ok_or_else(|| format!("{}: not a file name", path.display()))?;
            sources.push(read(root, path, PathBuf::from(name))?);
        }
    }
    // The same target named twice (two sources with one file name) would install whichever came
    // last: refuse instead.
    for (index, source) in sources.iter().enumerate() {
        if let Some(other) = sources[..index]
            .iter()
            .find(|other| other.relative == source.relative)
        {
            return Err(format!(
                "{} and {} would both be installed as {}",
                other.path.display(),
                source.path.display(),
                source.relative.display()
            ));
        }
    }
    Ok(sources)
}

fn read(root: &HostRoot, path: &Path, relative: PathBuf) -> Result<Source, String> {
    let content = root
        .read_capped(path, DEFAULT_READ_CAP)
        .map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(Source {
        path: path.to_path_buf(),
        relative,
        content,
    })
}

fn walk(
    root: &HostRoot,
    base: &Path,
    relative: &Path,
    kind: Kind,
    depth: usize,
    sources: &mut Vec<Source>,
) -> Result<(), String> {
    let dir = base.join(relative);
    let mut names = root
        .read_dir_names(&dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?;
    names.sort();
    for name in names {
        if sources.len() >= MAX_FILES {
            return Err(format!(
                "{}: more than {MAX_FILES} profile files",
                base.display()
            ));
        }
        let text = name.to_string_lossy();
        if skipped_name(&text) {
            continue;
        }
        let child = relative.join(&name);
        let host_path = base.join(&child);
        let Ok(meta) = root.symlink_metadata(&host_path) else {
            continue;
        };
        match kind {
            Kind::AppArmor if meta.is_file() => sources.push(read(root, &host_path, child)?),
            Kind::AppArmor => {}
            Kind::Seccomp if meta.is_dir() && depth < MAX_DEPTH => {
                walk(root, base, &child, kind, depth + 1, sources)?;
            }
            Kind::Seccomp if meta.is_file() && text.ends_with(".json") => {
                sources.push(read(root, &host_path, child)?);
            }
            Kind::Seccomp => {}
        }
    }
    Ok(())
}

/// Hidden files, editor backups and package-manager leftovers, which apparmor's own loader skips
/// too, and hardnode's backups.
fn skipped_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(crate::names::BACKUP_SUFFIX)
        || [
            ".dpkg-", ".rpmnew", ".rpmsave", ".orig", ".rej", ".pacnew", ".pacsave",
        ]
        .iter()
        .any(|part| name.contains(part))
        || name == "README"
}

/// The top-level profile names an AppArmor policy file declares: `profile NAME ...{` and
/// path-attached `/usr/bin/x ... {` blocks at brace depth 0. Comments and `#include` lines are
/// skipped; quoted names are unquoted.
pub fn apparmor_profile_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for line in text.lines() {
        let code = line.split_once('#').map_or(line, |(code, _)| code).trim();
        if code.is_empty() {
            continue;
        }
        if depth == 0 && code.contains('{') {
            let head = code.split('{').next().unwrap_or_default().trim();
            let name = if let Some(rest) = head.strip_prefix("profile ") {
                first_word(rest.trim())
            } else if head.starts_with('/') || head.starts_with('"') {
                first_word(head)
            } else {
                None
            };
            if let Some(name) = name {
                names.push(name);
            }
        }
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    names
}

fn first_word(text: &str) -> Option<String> {
    let name = if let Some(quoted) = text.strip_prefix('"') {
        quoted.split('"').next().unwrap_or_default().to_string()
    } else {
        text.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    (!name.is_empty()).then_some(name)
}

/// Adds what `[profiles]` declares to the policy's required lists, so the `apparmor.profiles` and
/// `seccomp.profiles` rules check exactly what `profiles install` installs. A source that cannot
/// be read is recorded in `profile_errors` (the rules become `error`), never skipped silently.
pub fn require_declared(root: &HostRoot, policy: &mut Policy) {
    let ProfilesPolicy { apparmor, seccomp } = policy.profiles.clone();
    if !apparmor.is_empty() {
        match collect(root, &apparmor, Kind::AppArmor) {
            Ok(sources) => {
                for source in sources {
                    let names = apparmor_profile_names(&String::from_utf8_lossy(&source.content));
                    if names.is_empty() {
                        policy.profile_errors.push(format!(
                            "[profiles] {}: declares no profile",
                            source.path.display()
                        ));
                    }
                    for name in names {
                        if !policy.apparmor.required_profiles.contains(&name) {
                            policy.apparmor.required_profiles.push(name);
                        }
                    }
                }
            }
            Err(error) => policy.profile_errors.push(format!("[profiles] {error}")),
        }
    }
    if !seccomp.is_empty() {
        match collect(root, &seccomp, Kind::Seccomp) {
            Ok(sources) => {
                for source in sources {
                    let name = source.relative.display().to_string();
                    if !policy.seccomp.required_profiles.contains(&name) {
                        policy.seccomp.required_profiles.push(name);
                    }
                }
            }
            Err(error) => policy.profile_errors.push(format!("[profiles] {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_at_the_top_level_only() {
        let text = "#include <tunables/global>\n\
            # profile commented {\n\
            profile k8s-deny-write flags=(attach_disconnected) {\n\
              #include <abstractions/base>\n\
              profile child {\n  }\n\
              deny /opt/** w,\n\
            }\n\
            /usr/bin/foo {\n}\n\
            profile \"with space\" /x/** {\n}\n";
        assert_eq!(
            apparmor_profile_names(text),
            ["k8s-deny-write", "/usr/bin/foo", "with space"]
        );
    }

    #[test]
    fn seccomp_dirs_keep_their_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src/profiles/nested")).expect("mkdir");
        std::fs::write(dir.path().join("src/profiles/a.json"), "{}").expect("write");
        std::fs::write(dir.path().join("src/profiles/nested/b.json"), "{}").expect("write");
        std::fs::write(dir.path().join("src/profiles/notes.txt"), "x").expect("write");
        std::fs::write(dir.path().join("src/.hidden.json"), "{}").expect("write");
        let root = HostRoot::new(dir.path()).expect("root");
        let sources = collect(&root, &[PathBuf::from("/src")], Kind::Seccomp).expect("collected");
        let names: Vec<String> = sources
            .iter()
            .map(|s| s.relative.display().to_string())
            .collect();
        assert_eq!(names, ["profiles/a.json", "profiles/nested/b.json"]);
        let error = collect(
            &root,
            &[PathBuf::from("/src"), PathBuf::from("/src/profiles/a.json")],
            Kind::Seccomp,
        );
        assert!(error.is_ok(), "a.json vs profiles/a.json differ: {error:?}");
        let clash = collect(
            &root,
            &[
                PathBuf::from("/src/profiles/a.json"),
                PathBuf::from("/src/profiles/nested/../a.json"),
            ],
            Kind::Seccomp,
        )
        .expect_err("two sources for one target");
        assert!(
            clash.contains("would both be installed as a.json"),
            "{clash}"
        );
    }
}
