//! `hardnode fix files`: tighten the modes and owners the file rules (CIS 1.1.x, 4.1.x: probes
//! `{ file = ... }` / `{ path = ... }` with `mode_at_most` or `owner`) found too loose.
//!
//! The fix acts on exactly the paths the check examined and reported, never on a guess: the same
//! facts are gathered and the same rules evaluated. A mode is only ever narrowed (the new mode is
//! the old one with the bits outside the rule's mask removed, so a 0400 file stays 0400 under a
//! 0600 rule). Nothing is done through a symbolic link: an entry reached through one is refused,
//! and each file is opened with `O_NOFOLLOW` and changed through that descriptor (`fchmod`,
//! `fchown`), so a link swapped in after the check is refused too. The old mode and owner are in
//! the JSON so a change can be reverted. Afterwards the same rules are evaluated again:
//! `verified` means none of them fails any more.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use serde::Serialize;

use super::dirfd::Parent;
use super::{Lock, Outcome, RemedyError, require_root};
use crate::benchmark::{Operator, Probe, Rule};
use crate::config::Policy;
use crate::engine::{self, Status};
use crate::host::components::files::{FileEntry, Owners};
use crate::host::{self, Facts, HostRoot};

/// What `fix files` did or would do.
#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub command: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub dry_run: bool,
    pub fixes: Vec<Fix>,
    /// Each selected rule's status before, and after the fix (not in a dry run).
    pub rules: Vec<RuleState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub rule: String,
    pub cis: Option<String>,
    /// The host path, as the check reported it.
    pub path: PathBuf,
    pub kind: String,
    /// Octal, e.g. `0644`.
    pub old_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_mode: Option<String>,
    /// Numeric `uid:gid` (names in `old_owner_names`), enough to `chown` it back.
    pub old_owner: String,
    pub old_owner_names: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_owner: Option<String>,
    /// `planned` (dry run), `changed`, `unchanged` (already right when applied) or `refused`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleState {
    pub id: String,
    pub cis: Option<String>,
    pub before: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Status>,
}

/// The rules `fix files` can act on: file probes with `mode_at_most` or `owner`.
pub fn fixable(rule: &Rule) -> bool {
    matches!(rule.probe, Probe::File(_))
        && rule
            .expect
            .as_ref()
            .is_some_and(|expect| matches!(expect.operator, Operator::ModeAtMost | Operator::Owner))
}

fn evaluate(root: &HostRoot, rules: &[Rule], policy: &Policy) -> (Facts, Vec<engine::Finding>) {
    let facts = host::gather(root, &engine::needs(rules, policy));
    let findings = rules
        .iter()
        .map(|rule| engine::evaluate(rule, &facts, policy))
        .collect();
    (facts, findings)
}

/// What one bad entry needs: the narrowed mode and/or the wanted owner.
#[derive(Debug, Clone, Copy)]
enum Change {
    Mask(u32),
    Owner(u32, u32),
}

/// Plans (and unless `dry_run`, applies and verifies) the fixes for `rules`.
pub fn fix(
    root: &HostRoot,
    rules: &[Rule],
    policy: &Policy,
    dry_run: bool,
) -> Result<FixReport, RemedyError> {
    if root.is_live() && !dry_run {
        require_root("fix files")?;
    }
    let _lock = if dry_run {
        None
    } else {
        Some(Lock::acquire(root)?)
    };
    let (facts, before) = evaluate(root, rules, policy);
    let owners = Owners::read(root);
    let mut fixes = Vec::new();
    let mut actions = Vec::new();
    let mut warnings = Vec::new();
    let mut changed = false;
    for (rule, finding) in rules.iter().zip(&before) {
        if !matches!(finding.status, Status::Fail | Status::Warn) {
            continue;
        }
        let (Probe::File(request), Some(expect)) = (&rule.probe, &rule.expect) else {
            continue;
        };
        let Some(set) = facts
            .components
            .as_ref()
            .and_then(|components| components.files.get(&request.key()))
        else {
            continue;
        };
        let wanted = expect.value.to_string();
        let change = match expect.operator {
            Operator::ModeAtMost => match crate::benchmark::parse_mode_value(&expect.value) {
                Some(mask) => Change::Mask(mask),
                None => {
                    warnings.push(format!("{}: {wanted} is not a file mode", rule.id));
                    continue;
                }
            },
            _ => {
                let ids = wanted
                    .split_once(':')
                    .and_then(|(user, group)| Some((owners.uid(user)?, owners.gid(group)?)));
                match ids {
                    Some((uid, gid)) => Change::Owner(uid, gid),
                    None => {
                        warnings.push(format!(
                            "{}: owner {wanted} is not known on this host (not in its \
                             /etc/passwd and /etc/group): nothing changed",
                            rule.id
                        ));
                        continue;
                    }
                }
            }
        };
        for entry in &set.entries {
            let bad = match change {
                Change::Mask(mask) => entry.mode & !mask != 0,
                Change::Owner(..) => !engine::owner_matches(entry, &wanted),
            };
            if !bad {
                continue;
            }
            let mut fix = new_fix(rule, entry, change);
            if let Some(via) = &entry.via {
                fix.state = "refused";
                fix.reason = Some(format!(
                    "reached through the symbolic link {}; hardnode never follows symlinks \
                     (fix {} by name if it is the intended file)",
                    via.display(),
                    entry.path.display()
                ));
                warnings.push(format!("{}: {}", entry.path.display(), refusal(&fix)));
                fixes.push(fix);
                continue;
            }
            let action = describe(entry, change);
            if dry_run {
                actions.push(action);
                fixes.push(fix);
                continue;
            }
            match apply(root, entry, change) {
                Ok(Some(applied)) => {
                    fix.state = "changed";
                    fix.new_mode = applied.mode.map(|mode| format!("{mode:04o}"));
                    fix.new_owner = applied.owner.map(|(uid, gid)| format!("{uid}:{gid}"));
                    actions.push(action);
                    changed = true;
                }
                Ok(None) => fix.state = "unchanged",
                Err(reason) => {
                    fix.state = "refused";
                    fix.reason = Some(reason);
                    warnings.push(format!("{}: {}", entry.path.display(), refusal(&fix)));
                }
            }
            fixes.push(fix);
        }
    }
    let after = (!dry_run).then(|| evaluate(root, rules, policy).1);
    let states: Vec<RuleState> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| RuleState {
            id: rule.id.clone(),
            cis: rule.cis.clone(),
            before: before[index].status,
            after: after.as_ref().map(|findings| findings[index].status),
        })
        .collect();
    let verified = !dry_run
        && states
            .iter()
            .all(|state| matches!(state.after, Some(Status::Pass | Status::Skip)));
    if let Some(after) = &after {
        for (rule, finding) in rules.iter().zip(after) {
            if !matches!(finding.status, Status::Pass | Status::Skip) {
                warnings.push(format!(
                    "{} is still {} after the fix: {}",
                    rule.id,
                    finding.status.as_str(),
                    finding
                        .reason
                        .clone()
                        .or_else(|| finding.actual.clone())
                        .unwrap_or_default()
                ));
            }
        }
    }
    Ok(FixReport {
        command: "fix files",
        outcome: Outcome {
            changed,
            actions,
            verified,
            warnings,
        },
        dry_run,
        fixes,
        rules: states,
    })
}

/// A refusal's reason without the path the caller already names.
fn refusal_reason(error: &RemedyError) -> String {
    match error {
        RemedyError::Refused { reason, .. } => reason.clone(),
        RemedyError::Io { source, .. } => format!("cannot open: {source}"),
        other => other.to_string(),
    }
}

fn refusal(fix: &Fix) -> String {
    format!("refused: {}", fix.reason.clone().unwrap_or_default())
}

fn new_fix(rule: &Rule, entry: &FileEntry, change: Change) -> Fix {
    let (new_mode, new_owner) = match change {
        Change::Mask(mask) => (Some(format!("{:04o}", entry.mode & mask)), None),
        Change::Owner(uid, gid) => (None, Some(format!("{uid}:{gid}"))),
    };
    Fix {
        rule: rule.id.clone(),
        cis: rule.cis.clone(),
        path: entry.path.clone(),
        kind: entry.kind.clone(),
        old_mode: format!("{:04o}", entry.mode),
        new_mode,
        old_owner: format!("{}:{}", entry.uid, entry.gid),
        old_owner_names: entry.owner(),
        new_owner,
        state: "planned",
        reason: None,
    }
}

fn describe(entry: &FileEntry, change: Change) -> String {
    match change {
        Change::Mask(mask) => format!(
            "chmod {:04o} {} (was {:04o})",
            entry.mode & mask,
            entry.path.display(),
            entry.mode
        ),
        Change::Owner(uid, gid) => format!(
            "chown {uid}:{gid} {} (was {}:{}, {})",
            entry.path.display(),
            entry.uid,
            entry.gid,
            entry.owner()
        ),
    }
}

/// What one change did: the new mode (when it changed) and the new owner (when it changed).
struct Applied {
    mode: Option<u32>,
    owner: Option<(u32, u32)>,
}

/// Changes one entry through a descriptor opened `O_NOFOLLOW` relative to its directory, which is
/// opened inside the root with no symlink on the way ([`Parent`]): a directory swapped for a
/// symlink while the fix runs is refused, never followed. `None` when it was already right.
fn apply(root: &HostRoot, entry: &FileEntry, change: Change) -> Result<Option<Applied>, String> {
    let parent = Parent::open_existing(root, &entry.path)
        .map_err(|error| refusal_reason(&error))?
        .ok_or_else(|| "it no longer exists".to_string())?;
    let file: File = parent
        .open_entry()
        .map_err(|error| refusal_reason(&error))?;
    let meta = file
        .metadata()
        .map_err(|error| format!("cannot stat: {error}"))?;
    if !(meta.is_file() || meta.is_dir()) {
        return Err("not a regular file or directory".into());
    }
    let mode = meta.mode() & 0o7777;
    match change {
        Change::Mask(mask) => {
            // Narrow what is there now: never widen, whatever changed since the check.
            let narrowed = mode & mask;
            if narrowed == mode {
                return Ok(None);
            }
            file.set_permissions(std::fs::Permissions::from_mode(narrowed))
                .map_err(|error| format!("chmod failed: {error}"))?;
            Ok(Some(Applied {
                mode: Some(narrowed),
                owner: None,
            }))
        }
        Change::Owner(new_uid, new_gid) => {
            if (meta.uid(), meta.gid()) == (new_uid, new_gid) {
                return Ok(None);
            }
            nix::unistd::fchown(
                &file,
                Some(nix::unistd::Uid::from_raw(new_uid)),
                Some(nix::unistd::Gid::from_raw(new_gid)),
            )
            .map_err(|error| format!("chown failed: {error}"))?;
            // chown clears set-id bits on files: report the mode too when it changed.
            let now = file.metadata().map_or(mode, |meta| meta.mode() & 0o7777);
            Ok(Some(Applied {
                mode: (now != mode).then_some(now),
                owner: Some((new_uid, new_gid)),
            }))
        }
    }
}
