//! The node's own privileged accounts: who has uid 0 (`/etc/passwd`), which accounts have an
//! empty password field (`/etc/shadow` — only the kind of field is kept, never a hash), and which
//! sudo rules grant `NOPASSWD: ALL` (`/etc/sudoers`, its `@include`/`#include` files and
//! `@includedir`/`#includedir` directories, read the way sudo reads them).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::facts::Observed;
use super::root::{HostRoot, ReadError};

pub const PASSWD: &str = "/etc/passwd";
pub const SHADOW: &str = "/etc/shadow";
pub const SUDOERS: &str = "/etc/sudoers";

/// sudo refuses to nest includes deeper than this; so does hardnode.
const MAX_INCLUDE_DEPTH: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct AccountFacts {
    pub passwd: Observed<Vec<PasswdEntry>>,
    pub shadow: Observed<Vec<ShadowEntry>>,
    pub sudoers: SudoersFacts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowEntry {
    pub name: String,
    /// `empty`, `locked` (`!`/`*` prefixes) or `hash`. The hash itself is never kept.
    pub password: String,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SudoersFacts {
    /// Every sudoers file read, in order.
    pub files: Vec<PathBuf>,
    /// `/etc/sudoers` itself is absent (sudo is not installed).
    pub absent: bool,
    /// Files that could not be read, with why.
    pub errors: Vec<String>,
    pub nopasswd_all: Vec<SudoGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SudoGrant {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
}

pub fn gather(root: &HostRoot) -> AccountFacts {
    AccountFacts {
        passwd: Observed::read(root, Path::new(PASSWD), |text| parse_passwd(&text)),
        shadow: Observed::read(root, Path::new(SHADOW), |text| parse_shadow(&text)),
        sudoers: read_sudoers(root),
    }
}

pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let mut fields = line.split(':');
            let name = fields.next()?.trim();
            let uid = fields.nth(1)?.trim().parse().ok()?;
            (!name.is_empty() && !name.starts_with('#')).then(|| PasswdEntry {
                name: name.to_string(),
                uid,
                line: index + 1,
            })
        })
        .collect()
}

pub fn parse_shadow(text: &str) -> Vec<ShadowEntry> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let mut fields = line.split(':');
            let name = fields.next()?.trim();
            let password = fields.next()?;
            if name.is_empty() || name.starts_with('#') {
                return None;
            }
            let kind = if password.is_empty() {
                "empty"
            } else if password.starts_with('!') || password.starts_with('*') {
                "locked"
            } else {
                "hash"
            };
            Some(ShadowEntry {
                name: name.to_string(),
                password: kind.to_string(),
                line: index + 1,
            })
        })
        .collect()
}

fn read_sudoers(root: &HostRoot) -> SudoersFacts {
    let mut facts = SudoersFacts {
        files: Vec::new(),
        absent: false,
        errors: Vec::new(),
        nopasswd_all: Vec::new(),
    };
    match root.read_to_string(Path::new(SUDOERS)) {
        Err(ReadError::NotFound) => facts.absent = true,
        Err(error) => facts.errors.push(format!("{SUDOERS} {error}")),
        Ok(text) => read_sudoers_text(root, Path::new(SUDOERS), &text, 0, &mut facts),
    }
    facts
}

fn read_sudoers_file(root: &HostRoot, path: &Path, depth: usize, facts: &mut SudoersFacts) {
    if depth > MAX_INCLUDE_DEPTH || facts.files.iter().any(|seen| seen == path) {
        facts.errors.push(format!(
            "{}: include nested too deep or included twice",
            path.display()
        ));
        return;
    }
    match root.read_to_string(path) {
        Ok(text) => read_sudoers_text(root, path, &text, depth, facts),
        Err(error) => facts.errors.push(format!("{} {error}", path.display())),
    }
}

fn read_sudoers_text(
    root: &HostRoot,
    path: &Path,
    text: &str,
    depth: usize,
    facts: &mut SudoersFacts,
) {
    facts.files.push(path.to_path_buf());
    for (line_number, line) in logical_lines(text) {
        let trimmed = line.trim();
        let directive = trimmed
            .strip_prefix('@')
            .or_else(|| trimmed.strip_prefix('#'))
            .and_then(|rest| {
                let (word, arg) = rest.split_once(char::is_whitespace)?;
                Some((word, arg.trim()))
            });
        match directive {
            Some(("includedir", dir)) => {
                let dir = resolve_include(path, dir);
                // sudo skips names ending in `~` or containing a `.` (editor and package backups).
                for name in root.read_dir_names(&dir).unwrap_or_default() {
                    let name = name.to_string_lossy();
                    if name.ends_with('~') || name.contains('.') {
                        continue;
                    }
                    read_sudoers_file(root, &dir.join(name.as_ref()), depth + 1, facts);
                }
                continue;
            }
            Some(("include", file)) => {
                let file = resolve_include(path, file);
                read_sudoers_file(root, &file, depth + 1, facts);
                continue;
            }
            _ => {}
        }
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if grants_nopasswd_all(trimmed) {
            facts.nopasswd_all.push(SudoGrant {
                path: path.to_path_buf(),
                line: line_number,
                text: trimmed.to_string(),
            });
        }
    }
}

/// sudo resolves a relative include against the including file's directory.
fn resolve_include(including: &Path, target: &str) -> PathBuf {
    let target = target.trim_matches('"');
    if target.starts_with('/') {
        PathBuf::from(target)
    } else {
        including.parent().unwrap_or(Path::new("/")).join(target)
    }
}

/// Lines joined across trailing backslashes, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(line);
                out.push((start, joined));
            }
        }
    }
    out.extend(pending);
    out
}

/// A user specification whose NOPASSWD-tagged command list starts with `ALL`:
/// `%admin ALL=(ALL:ALL) NOPASSWD: ALL`, `bob ALL = NOPASSWD:SETENV: ALL`.
pub fn grants_nopasswd_all(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or_default();
    if first.starts_with("Defaults")
        || matches!(
            first,
            "User_Alias" | "Runas_Alias" | "Host_Alias" | "Cmnd_Alias" | "Cmd_Alias"
        )
    {
        return false;
    }
    let Some((_, commands)) = line.split_once('=') else {
        return false;
    };
    // Each `:`-separated host spec (`ALL = NOPASSWD: ALL : host2 = ...`) is read in turn.
    let mut rest = commands;
    while let Some(at) = rest.find("NOPASSWD:") {
        let mut after = rest[at + "NOPASSWD:".len()..].trim_start();
        // Further tags (SETENV:, NOEXEC:, …) may follow.
        while let Some((tag, tail)) = after.split_once(':') {
            if !tag.is_empty() && tag.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                after = tail.trim_start();
            } else {
                break;
            }
        }
        let command = after
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        if command == "ALL" {
            return true;
        }
        rest = &rest[at + 1..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_shadow() {
        let entries =
            parse_passwd("root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\n#c\nbad\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "toor");
        assert_eq!(entries[1].uid, 0);
        let shadow = parse_shadow(
            "root:$6$abc:19000::::::\nguest::19000::::::\nbin:*:1::::::\nlp:!:1::::::\n",
        );
        let kinds: Vec<&str> = shadow.iter().map(|e| e.password.as_str()).collect();
        assert_eq!(kinds, ["hash", "empty", "locked", "locked"]);
    }

    #[test]
    fn nopasswd_all_forms() {
        assert!(grants_nopasswd_all("%admin ALL=(ALL:ALL) NOPASSWD: ALL"));
        assert!(grants_nopasswd_all("bob ALL = (root) NOPASSWD:SETENV: ALL"));
        assert!(grants_nopasswd_all("ci ALL=(ALL) NOPASSWD:ALL"));
        assert!(!grants_nopasswd_all("%sudo ALL=(ALL:ALL) ALL"));
        assert!(!grants_nopasswd_all(
            "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app"
        ));
        assert!(!grants_nopasswd_all("Defaults:bob !authenticate"));
        assert!(!grants_nopasswd_all("Cmnd_Alias ALLX = NOPASSWD: ALL"));
    }

    #[test]
    fn continuation_lines_are_joined() {
        let lines = logical_lines("a \\\n  b\nc\n");
        assert_eq!(lines, [(1, "a    b".to_string()), (3, "c".to_string())]);
    }
}
