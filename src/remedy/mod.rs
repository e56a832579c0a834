//! Changing the host: the only layer that writes. Every change is plan → apply → verify.
//!
//! This module holds the machinery every remedy shares: the lock that keeps two runs from
//! interleaving, atomic file writes under the host root (temp file + rename in the same
//! directory, mode and owner kept, never through a symlink, the previous file kept as
//! `*.hardnode-bak`), and the [`Outcome`] every remedy command reports
//! (`{"changed", "actions", "verified", "warnings"}`, so an Ansible task can use `changed_when`).

pub mod files;
pub mod firewall;
pub mod netfilter;
pub mod profiles;
pub mod rclocal;
pub mod systemd;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg, OFlag};
use serde::Serialize;

use crate::error::{EXIT_RUNTIME, EXIT_USAGE};
use crate::host::HostRoot;
pub use crate::names::BACKUP_SUFFIX;

/// The lock every remedy takes, as a host path under the root.
pub const LOCK_PATH: &str = "/run/hardnode.lock";
/// How long a remedy waits for another run to release the lock.
const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum RemedyError {
    /// Bad or unsafe input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Not running as root where root is needed: exit 3.
    #[error("{0} needs root (run it with sudo or as root)")]
    NotRoot(String),
    #[error("another hardnode remedy holds the lock {path} (waited {seconds}s)")]
    Locked { path: PathBuf, seconds: u64 },
    #[error("refusing to write {path}: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An external tool (apparmor_parser) is missing or failed: exit 3.
    #[error("{0}")]
    Tool(String),
    #[error(transparent)]
    Netfilter(#[from] crate::netfilter::NetfilterError),
}

impl RemedyError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RemedyError::Usage(_) => EXIT_USAGE,
            _ => EXIT_RUNTIME,
        }
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> RemedyError + '_ {
        move |source| RemedyError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What a remedy did (or, for a plan, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub changed: bool,
    pub actions: Vec<String>,
    pub verified: bool,
    pub warnings: Vec<String>,
}

/// Refuses with [`RemedyError::NotRoot`] unless the effective user is root.
pub fn require_root(what: &str) -> Result<(), RemedyError> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(RemedyError::NotRoot(what.to_string()))
    }
}

/// An exclusive lock on `<root>/run/hardnode.lock`, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _lock: Flock<File>,
}

impl Lock {
    /// Takes the lock, waiting a bounded time for another run to finish.
    pub fn acquire(root: &HostRoot) -> Result<Lock, RemedyError> {
        Lock::acquire_within(root, LOCK_WAIT)
    }

    /// Takes the lock, waiting at most `wait`.
    pub fn acquire_within(root: &HostRoot, wait: Duration) -> Result<Lock, RemedyError> {
        let real = root
            .resolve(Path::new(LOCK_PATH))
            .map_err(|error| RemedyError::Refused {
                path: LOCK_PATH.into(),
                reason: error.to_string(),
            })?;
        if let Some(parent) = real.parent() {
            fs::create_dir_all(parent).map_err(RemedyError::io(parent))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
            .open(&real)
            .map_err(RemedyError::io(&real))?;
        let attempts = (wait.as_millis() / 100).max(1);
        for _ in 0..attempts {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(Lock { _lock: lock }),
                Err((returned, nix::errno::Errno::EWOULDBLOCK)) => {
                    file = returned;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err((_, errno)) => {
                    return Err(RemedyError::Io {
                        path: real,
                        source: io::Error::from(errno),
                    });
                }
            }
        }
        Err(RemedyError::Locked {
            path: LOCK_PATH.into(),
            seconds: wait.as_secs(),
        })
    }
}

/// The real path of `host_path` for writing: parent directories resolved inside the root, the
/// final component never followed. A symlink there is refused: writing through it would change
/// a file somewhere else, possibly outside the root.
pub fn writable_path(root: &HostRoot, host_path: &Path) -> Result<PathBuf, RemedyError> {
    let refused = |reason: String| RemedyError::Refused {
        path: host_path.to_path_buf(),
        reason,
    };
    let real = root
        .resolve_no_follow(host_path)
        .map_err(|error| refused(error.to_string()))?;
    match fs::symlink_metadata(&real) {
        Ok(meta) if meta.file_type().is_symlink() => Err(refused(
            "it is a symbolic link; hardnode never writes through a symlink (replace it with \
             the file it points to, or remove it)"
                .into(),
        )),
        Ok(meta) if !meta.is_file() => Err(refused("it is not a regular file".into())),
        _ => Ok(real),
    }
}

/// The current content of a file about to be rewritten (`None` when it does not exist).
pub fn read_existing(real: &Path) -> Result<Option<String>, RemedyError> {
    match crate::host::root::read_regular_file(real, crate::host::root::DEFAULT_READ_CAP) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(crate::host::ReadError::NotFound) => Ok(None),
        Err(error) => Err(RemedyError::Refused {
            path: real.to_path_buf(),
            reason: error.to_string(),
        }),
    }
}

/// Replaces `real` with `content` atomically: a temp file in the same directory, fsynced, given
/// the old file's mode and owner (or `new_mode` and root for a new file), then renamed over it.
/// The previous file is kept as `<name>.hardnode-bak` when `backup` is set; its path is returned.
pub fn write_atomic(
    real: &Path,
    content: &[u8],
    new_mode: u32,
    backup: bool,
) -> Result<Option<PathBuf>, RemedyError> {
    write_atomic_as(real, content, new_mode, None, backup)
}

/// Like [`write_atomic`], but when `force` is given the new file gets exactly that mode and
/// `(uid, gid)` whatever the old file had (installed profiles are 0644 root:root by contract).
pub fn write_atomic_as(
    real: &Path,
    content: &[u8],
    new_mode: u32,
    force: Option<(u32, (u32, u32))>,
    backup: bool,
) -> Result<Option<PathBuf>, RemedyError> {
    let dir = real
        .parent()
        .ok_or_else(|| RemedyError::Refused {
            path: real.to_path_buf(),
            reason: "has no parent directory".into(),
        })?
        .to_path_buf();
    fs::create_dir_all(&dir).map_err(RemedyError::io(&dir))?;
    let name = real
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let existing = match fs::symlink_metadata(real) {
        Ok(meta) if meta.file_type().is_symlink() || !meta.is_file() => {
            return Err(RemedyError::Refused {
                path: real.to_path_buf(),
                reason: "it is not a regular file (a symlink or special file)".into(),
            });
        }
        Ok(meta) => Some(meta),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(RemedyError::io(real)(error)),
    };
    let (old_mode, old_owner) = match &existing {
        Some(meta) => (meta.mode() & 0o7777, Some((meta.uid(), meta.gid()))),
        None => (new_mode, Some((0, 0))),
    };
    let backup_path = match (&existing, backup) {
        (Some(_), true) => {
            let path = dir.join(format!("{name}{BACKUP_SUFFIX}"));
            let previous = fs::read(real).map_err(RemedyError::io(real))?;
            write_new(&dir, &path, &name, &previous, old_mode, old_owner)?;
            Some(path)
        }
        _ => None,
    };
    let (mode, owner) = match force {
        Some((mode, owner)) => (mode, Some(owner)),
        None => (old_mode, old_owner),
    };
    write_new(&dir, real, &name, content, mode, owner)?;
    Ok(backup_path)
}

fn write_new(
    dir: &Path,
    target: &Path,
    name: &str,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), RemedyError> {
    let temp = dir.join(format!(".{name}.hardnode-{}.tmp", std::process::id()));
    let _ = fs::remove_file(&temp);
    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
            .open(&temp)?;
        file.write_all(content)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        // Owner is only kept when we may set it (root); a non-root run writes fixtures only.
        if let Some((uid, gid)) = owner
            && nix::unistd::geteuid().is_root()
        {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        file.sync_all()?;
        fs::rename(&temp, target)?;
        if let Ok(dir_handle) = File::open(dir) {
            let _ = dir_handle.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(RemedyError::io(target))
}

/// Removes a file hardnode wrote; a missing file is not an error.
pub fn remove_file(real: &Path) -> Result<bool, RemedyError> {
    match fs::remove_file(real) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(RemedyError::io(real)(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn atomic_write_keeps_mode_and_backs_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = HostRoot::new(dir.path()).expect("root");
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        let file = dir.path().join("etc/rc.local");
        fs::write(&file, "old").expect("write");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o750)).expect("chmod");
        let real = writable_path(&root, Path::new("/etc/rc.local")).expect("writable");
        let backup = write_atomic(&real, b"new", 0o644, true).expect("written");
        assert_eq!(fs::read_to_string(&file).expect("read"), "new");
        assert_eq!(
            fs::metadata(&file).expect("meta").permissions().mode() & 0o7777,
            0o750
        );
        let backup = backup.expect("backup made");
        assert_eq!(fs::read_to_string(backup).expect("backup"), "old");
    }

    #[test]
    fn forced_mode_replaces_the_old_files_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("profile.json");
        fs::write(&file, "old").expect("write");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).expect("chmod");
        let backup =
            write_atomic_as(&file, b"new", 0o644, Some((0o644, (0, 0))), false).expect("written");
        assert!(backup.is_none());
        assert_eq!(fs::read_to_string(&file).expect("read"), "new");
        assert_eq!(
            fs::metadata(&file).expect("meta").permissions().mode() & 0o7777,
            0o644
        );
    }

    #[test]
    fn symlink_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = HostRoot::new(dir.path()).expect("root");
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        fs::write(dir.path().join("elsewhere"), "x").expect("write");
        symlink("/elsewhere", dir.path().join("etc/rc.local")).expect("symlink");
        let error = writable_path(&root, Path::new("/etc/rc.local")).expect_err("refused");
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn lock_is_exclusive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = HostRoot::new(dir.path()).expect("root");
        let first = Lock::acquire(&root).expect("first lock");
        // A second run (another open of the lock file) cannot take it while the first holds it.
        let error = Lock::acquire_within(&root, Duration::from_millis(200)).expect_err("held");
        assert!(error.to_string().contains("holds the lock"), "{error}");
        drop(first);
        let _second = Lock::acquire(&root).expect("lock again after release");
    }
}
