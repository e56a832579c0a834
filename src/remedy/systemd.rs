//! `--persist systemd`: a oneshot unit that re-applies the firewall rules at boot, for hosts
//! where `/etc/rc.local` never runs (no `systemd-rc-local-generator`, removed in systemd 260).
//!
//! Three files under the root: the script `/etc/hardnode/firewall.sh` (the same idempotent lines
//! as the rc.local block), the unit `/etc/systemd/system/hardnode-firewall.service` (ordered
//! before the kubelet), and the `multi-user.target.wants` link that enables it — what
//! `systemctl enable` would create, made without a running systemd so it works under `--root`.

use std::path::{Path, PathBuf};

use super::{RemedyError, read_existing, remove_file, writable_path, write_atomic};
use crate::firewall::systemd::{HEADER, SCRIPT_PATH, UNIT_PATH, WANTS_LINK, script, unit};
use crate::host::HostRoot;

/// What [`write`] changed: the host paths written.
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
        let real = writable_path(root, Path::new(path))?;
        if read_existing(&real)?.as_deref() != Some(content.as_str()) {
            if !dry_run {
                write_atomic(&real, content.as_bytes(), mode, false)?;
            }
            changed.push(PathBuf::from(path));
        }
    }
    let link = root
        .resolve_no_follow(Path::new(WANTS_LINK))
        .map_err(|error| RemedyError::Refused {
            path: WANTS_LINK.into(),
            reason: error.to_string(),
        })?;
    let link_ok = std::fs::read_link(&link).is_ok_and(|target| target == Path::new(UNIT_PATH));
    if !link_ok {
        if !dry_run {
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent).map_err(RemedyError::io(parent))?;
            }
            if std::fs::symlink_metadata(&link).is_ok() {
                remove_file(&link)?;
            }
            std::os::unix::fs::symlink(UNIT_PATH, &link).map_err(RemedyError::io(&link))?;
        }
        changed.push(PathBuf::from(WANTS_LINK));
    }
    Ok(changed)
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
            .resolve_no_follow(Path::new(WANTS_LINK))
            .is_ok_and(|link| std::fs::read_link(link).is_ok_and(|t| t == Path::new(UNIT_PATH)))
}

/// Removes the unit, its link and the script when they are hardnode's; returns the paths removed.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<Vec<PathBuf>, RemedyError> {
    let mut removed = Vec::new();
    if let Ok(link) = root.resolve_no_follow(Path::new(WANTS_LINK))
        && std::fs::read_link(&link).is_ok_and(|t| t == Path::new(UNIT_PATH))
    {
        if !dry_run {
            remove_file(&link)?;
        }
        removed.push(PathBuf::from(WANTS_LINK));
    }
    for path in [UNIT_PATH, SCRIPT_PATH] {
        let Ok(real) = writable_path(root, Path::new(path)) else {
            continue;
        };
        let ours = read_existing(&real)
            .ok()
            .flatten()
            .is_some_and(|text| text.contains(HEADER));
        if ours {
            if !dry_run {
                remove_file(&real)?;
            }
            removed.push(PathBuf::from(path));
        }
    }
    Ok(removed)
}
