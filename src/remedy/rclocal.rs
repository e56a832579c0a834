//! `/etc/rc.local` persistence: hardnode's lines live in one block between marker comments, placed
//! before a trailing `exit 0`, so the block can be updated or removed exactly and nothing else in
//! the file is touched. The text is edited by the pure functions of [`crate::firewall::rclocal`];
//! [`write`] and [`remove`] do the atomic write.

use std::path::{Path, PathBuf};

use super::{RemedyError, read_existing, writable_path, write_atomic};
use crate::firewall::rclocal::{RC_LOCAL, remove_block, upsert_block};
use crate::host::HostRoot;

/// What [`write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Unchanged,
    Created,
    Updated { backup: Option<PathBuf> },
}

/// Puts `lines` into `<root>/etc/rc.local` (created 0755 root-owned when missing), keeping it
/// executable, atomically. `dry_run` computes the answer without writing.
pub fn write(root: &HostRoot, lines: &[String], dry_run: bool) -> Result<Written, RemedyError> {
    let real = writable_path(root, Path::new(RC_LOCAL))?;
    let existing = read_existing(&real)?;
    let content =
        upsert_block(existing.as_deref(), lines).map_err(|reason| RemedyError::Refused {
            path: RC_LOCAL.into(),
            reason,
        })?;
    let executable = executable(&real);
    if existing.as_deref() == Some(content.as_str()) && executable {
        return Ok(Written::Unchanged);
    }
    if dry_run {
        return Ok(if existing.is_some() {
            Written::Updated { backup: None }
        } else {
            Written::Created
        });
    }
    let backup = write_atomic(&real, content.as_bytes(), 0o755, existing.is_some())?;
    if existing.is_some() && !executable {
        // systemd-rc-local-generator only runs an executable rc.local.
        make_executable(&real)?;
    }
    Ok(match existing {
        Some(_) => Written::Updated { backup },
        None => Written::Created,
    })
}

fn executable(real: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(real).is_ok_and(|meta| meta.permissions().mode() & 0o100 != 0)
}

fn make_executable(real: &Path) -> Result<(), RemedyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(real).map_err(RemedyError::io(real))?;
    let mode = meta.permissions().mode() & 0o7777;
    // Execute for whoever may read it, as chmod +x does under the usual umask.
    let mode = mode | 0o100 | ((mode & 0o044) >> 2);
    std::fs::set_permissions(real, std::fs::Permissions::from_mode(mode))
        .map_err(RemedyError::io(real))
}

/// Removes hardnode's block from `<root>/etc/rc.local`; true when there was one.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<bool, RemedyError> {
    let real = writable_path(root, Path::new(RC_LOCAL))?;
    let Some(existing) = read_existing(&real)? else {
        return Ok(false);
    };
    let refused = |reason| RemedyError::Refused {
        path: RC_LOCAL.into(),
        reason,
    };
    match remove_block(&existing).map_err(refused)? {
        None => Ok(false),
        Some(_) if dry_run => Ok(true),
        Some(content) => {
            write_atomic(&real, content.as_bytes(), 0o755, true)?;
            Ok(true)
        }
    }
}
