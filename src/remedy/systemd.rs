//! `--persist systemd`: a oneshot unit that re-applies the firewall rules at boot, for hosts
//! where `/etc/rc.local` never runs (no `systemd-rc-local-generator`, removed in systemd 260).
//!
//! Three files under the root: the script `/etc/hardnode/firewall.sh` (the same idempotent lines
//! as the rc.local block), the unit `/etc/systemd/system/hardnode-firewall.service` (ordered
//! before the kubelet), and the `multi-user.target.wants` link that enables it — what
//! `systemctl enable` would create, made without a running systemd so it works under `--root`.

use std::path::{Path, PathBuf};

use super::RemedyError;
use super::dirfd::{Ownership, Parent, Prepared};
use crate::firewall::systemd::{HEADER, SCRIPT_PATH, UNIT_PATH, WANTS_LINK, script, unit};
use crate::host::HostRoot;

/// What [`write`] changed: the host paths written. Each file is written relative to its
/// directory opened inside the root ([`Parent`]); a dry run creates nothing.
pub fn write(
    root: &HostRoot,
    lines: &[String],
    dry_run: bool,
) -> Result<Vec<PathBuf>, RemedyError> {
    let mut changed = Vec::new();
    for (path, content, mode) in [
        (SCRIPT_PATH, script(lines), 0o755),
        (UNIT_PATH, unit(), 0o644),
    ] {
        let parent = Parent::open_existing(root, Path::new(path))?;
        let existing = match &parent {
            Some(parent) => parent.read_text()?,
            None => None,
        };
        if existing.as_deref() != Some(content.as_str()) {
            if !dry_run {
                let parent = match parent {
                    Some(parent) => parent,
                    None => Parent::open(root, Path::new(path), true)?,
                };
                parent.write_atomic(
                    content.as_bytes(),
                    Ownership::Keep { new_mode: mode },
                    false,
                )?;
            }
            changed.push(PathBuf::from(path));
        }
    }
    let link = Parent::open_existing(root, Path::new(WANTS_LINK))?;
    let link_ok = link
        .as_ref()
        .and_then(Parent::read_link)
        .is_some_and(|target| target == Path::new(UNIT_PATH));
    if !link_ok {
        if !dry_run {
            let link = match link {
                Some(link) => link,
                None => Parent::open(root, Path::new(WANTS_LINK), true)?,
            };
            link.symlink(Path::new(UNIT_PATH))?;
        }
        changed.push(PathBuf::from(WANTS_LINK));
    }
    Ok(changed)
}

/// The unit's files staged by [`stage`]: the script and the unit written beside their places,
/// the enabling link still to make.
#[derive(Debug)]
pub struct Staged {
    files: Vec<Prepared>,
    link: Option<Parent>,
}

impl Staged {
    /// Puts the files in place and makes the link; the host paths changed. On a failure, the
    /// error names what was already in place.
    pub fn commit(self) -> Result<Vec<PathBuf>, RemedyError> {
        let mut done: Vec<PathBuf> = Vec::new();
        let partial = |done: &[PathBuf], error: RemedyError| {
            if done.is_empty() {
                error
            } else {
                RemedyError::Partial {
                    error: Box::new(error),
                    done: done.iter().map(|path| path.display().to_string()).collect(),
                }
            }
        };
        for prepared in self.files {
            let path = prepared.host_path().to_path_buf();
            prepared.commit().map_err(|error| partial(&done, error))?;
            done.push(path);
        }
        if let Some(link) = self.link {
            link.symlink(Path::new(UNIT_PATH))
                .map_err(|error| partial(&done, error))?;
            done.push(PathBuf::from(WANTS_LINK));
        }
        Ok(done)
    }
}

/// Stages what [`write`] would write: each file written to a temp file beside it, every
/// directory created, so that only renames and the link are left.
pub fn stage(root: &HostRoot, lines: &[String]) -> Result<Staged, RemedyError> {
    let mut files = Vec::new();
    for (path, content, mode) in [
        (SCRIPT_PATH, script(lines), 0o755),
        (UNIT_PATH, unit(), 0o644),
    ] {
        let parent = Parent::open(root, Path::new(path), true)?;
        if parent.read_text()?.as_deref() != Some(content.as_str()) {
            files.push(parent.prepare(
                content.as_bytes(),
                Ownership::Keep { new_mode: mode },
                false,
            )?);
        }
    }
    let link = Parent::open(root, Path::new(WANTS_LINK), true)?;
    let link_ok = link
        .read_link()
        .is_some_and(|target| target == Path::new(UNIT_PATH));
    Ok(Staged {
        files,
        link: (!link_ok).then_some(link),
    })
}

/// Whether all three files are in place with this content.
pub fn in_place(root: &HostRoot, lines: &[String]) -> bool {
    let same = |path: &str, content: String| {
        root.read_to_string(Path::new(path))
            .is_ok_and(|text| text == content)
    };
    same(SCRIPT_PATH, script(lines))
        && same(UNIT_PATH, unit())
        && root
            .read_link(Path::new(WANTS_LINK))
            .is_ok_and(|target| target == Path::new(UNIT_PATH))
}

/// Removes the unit, its link and the script when they are hardnode's; returns the paths removed.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<Vec<PathBuf>, RemedyError> {
    let mut removed = Vec::new();
    if let Some(link) = Parent::open_existing(root, Path::new(WANTS_LINK))?
        && link
            .read_link()
            .is_some_and(|target| target == Path::new(UNIT_PATH))
    {
        if !dry_run {
            link.remove()?;
        }
        removed.push(PathBuf::from(WANTS_LINK));
    }
    for path in [UNIT_PATH, SCRIPT_PATH] {
        let Some(parent) = Parent::open_existing(root, Path::new(path))? else {
            continue;
        };
        // Not ours to remove when it cannot be read as a file (a symlink, a directory).
        let ours = parent
            .read_text()
            .ok()
            .flatten()
            .is_some_and(|text| text.contains(HEADER));
        if ours {
            if !dry_run {
                parent.remove()?;
            }
            removed.push(PathBuf::from(path));
        }
    }
    Ok(removed)
}
