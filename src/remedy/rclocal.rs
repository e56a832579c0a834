//! `/etc/rc.local` persistence: hardnode's lines live in one block between marker comments, placed
//! before a trailing `exit 0`, so the block can be updated or removed exactly and nothing else in
//! the file is touched. The text is edited by the pure functions of [`crate::firewall::rclocal`];
//! this module writes the file.

use std::path::{Path, PathBuf};

use super::RemedyError;
use super::dirfd::{Ownership, Parent, Prepared};
use crate::firewall::rclocal::{RC_LOCAL, remove_block, upsert_block};
use crate::host::HostRoot;

/// What [`write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Unchanged,
    Created,
    Updated { backup: Option<PathBuf> },
}

/// What writing the block would do, and the file's directory when it exists (or `create`).
struct Planned {
    parent: Option<Parent>,
    existing: Option<String>,
    content: String,
    unchanged: bool,
}

fn plan(root: &HostRoot, lines: &[String], create: bool) -> Result<Planned, RemedyError> {
    let parent = match Parent::open_existing(root, Path::new(RC_LOCAL))? {
        Some(parent) => Some(parent),
        None if !create => None,
        None => Some(Parent::open(root, Path::new(RC_LOCAL), true)?),
    };
    let (existing, executable) = match &parent {
        Some(parent) => {
            let stat = parent.lstat()?;
            let existing = parent.read_text()?;
            let executable = stat.is_some_and(|stat| stat.st_mode & 0o100 != 0);
            (existing, executable)
        }
        None => (None, false),
    };
    let content =
        upsert_block(existing.as_deref(), lines).map_err(|reason| RemedyError::Refused {
            path: RC_LOCAL.into(),
            reason,
        })?;
    let unchanged = existing.as_deref() == Some(content.as_str()) && executable;
    Ok(Planned {
        parent,
        existing,
        content,
        unchanged,
    })
}

/// A write of the block staged by [`stage`]: the new file is on disk beside rc.local, not yet
/// in place.
#[derive(Debug)]
pub struct Staged {
    prepared: Option<Prepared>,
    created: bool,
}

impl Staged {
    /// Whether committing changes anything.
    pub fn changes(&self) -> bool {
        self.prepared.is_some()
    }

    /// Renames the staged file into place.
    pub fn commit(self) -> Result<Written, RemedyError> {
        match self.prepared {
            None => Ok(Written::Unchanged),
            Some(prepared) => {
                let backup = prepared.commit()?;
                Ok(if self.created {
                    Written::Created
                } else {
                    Written::Updated { backup }
                })
            }
        }
    }
}

/// Writes the new `<root>/etc/rc.local` (created 0755 root-owned when missing, kept executable)
/// to a temp file beside it, and the backup of the old one: everything that can fail for lack
/// of space or a read-only `/etc` fails here, before the caller changes the kernel.
pub fn stage(root: &HostRoot, lines: &[String]) -> Result<Staged, RemedyError> {
    let planned = plan(root, lines, true)?;
    let created = planned.existing.is_none();
    let prepared = match (planned.unchanged, planned.parent) {
        (false, Some(parent)) => Some(parent.prepare(
            planned.content.as_bytes(),
            // systemd-rc-local-generator only runs an executable rc.local.
            Ownership::KeepExecutable { new_mode: 0o755 },
            !created,
        )?),
        _ => None,
    };
    Ok(Staged { prepared, created })
}

/// Puts `lines` into `<root>/etc/rc.local` atomically, relative to `/etc` opened inside the
/// root. `dry_run` computes the answer (and refuses what a write would refuse) without writing
/// or creating anything.
pub fn write(root: &HostRoot, lines: &[String], dry_run: bool) -> Result<Written, RemedyError> {
    if !dry_run {
        return stage(root, lines)?.commit();
    }
    let planned = plan(root, lines, false)?;
    Ok(if planned.unchanged {
        Written::Unchanged
    } else if planned.existing.is_some() {
        Written::Updated { backup: None }
    } else {
        Written::Created
    })
}

/// The removal of hardnode's block staged (the new rc.local written beside the old one, the
/// old one backed up); `None` when there is no block.
pub fn stage_remove(root: &HostRoot) -> Result<Option<Prepared>, RemedyError> {
    let Some(parent) = Parent::open_existing(root, Path::new(RC_LOCAL))? else {
        return Ok(None);
    };
    let Some(existing) = parent.read_text()? else {
        return Ok(None);
    };
    let refused = |reason| RemedyError::Refused {
        path: RC_LOCAL.into(),
        reason,
    };
    match remove_block(&existing).map_err(refused)? {
        None => Ok(None),
        Some(content) => Ok(Some(parent.prepare(
            content.as_bytes(),
            Ownership::Keep { new_mode: 0o755 },
            true,
        )?)),
    }
}

/// Removes hardnode's block from `<root>/etc/rc.local`; true when there was one.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<bool, RemedyError> {
    if !dry_run {
        return match stage_remove(root)? {
            Some(prepared) => prepared.commit().map(|_| true),
            None => Ok(false),
        };
    }
    let Some(parent) = Parent::open_existing(root, Path::new(RC_LOCAL))? else {
        return Ok(false);
    };
    let Some(existing) = parent.read_text()? else {
        return Ok(false);
    };
    remove_block(&existing)
        .map(|content| content.is_some())
        .map_err(|reason| RemedyError::Refused {
            path: RC_LOCAL.into(),
            reason,
        })
}
