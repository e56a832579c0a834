//! Changing the host: the only layer that writes. Every change is plan → apply → verify.
//!
//! This module holds the machinery every remedy shares: the lock that keeps two runs from
//! interleaving, atomic file writes under the host root (temp file + rename in the same
//! directory, mode and owner kept, never through a symlink, the previous file kept as
//! `*.hardnode-bak`), and the [`Outcome`] every remedy command reports
//! (`{"changed", "actions", "verified", "warnings"}`, so an Ansible task can use `changed_when`).

pub mod dirfd;
pub mod files;
pub mod firewall;
pub mod netfilter;
pub mod profiles;
pub mod rclocal;
pub mod systemd;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The state could not be read back, so nothing can be said to be in place: exit 3.
    #[error("could not verify: {0}")]
    Unverified(String),
    /// A multi-step change stopped part-way: what is done, and the error that stopped it.
    #[error("{error} (already done: {})", done.join(", "))]
    Partial {
        error: Box<RemedyError>,
        done: Vec<String>,
    },
    /// A firewall change stopped between the kernel and the files: the message says what was
    /// changed and the command that finishes or undoes it.
    #[error("{0}")]
    Interrupted(String),
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

/// An exclusive lock on a lock file, held until dropped (closing the file releases it; an
/// unlock that fails cannot panic, unlike `nix::fcntl::Flock`'s drop).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the root's lock, waiting a bounded time for another run to finish.
    pub fn acquire(root: &HostRoot) -> Result<Lock, RemedyError> {
        Lock::acquire_within(root, LOCK_WAIT)
    }

    /// Takes the root's lock `<root>/run/hardnode.lock`, waiting at most `wait`. The lock file
    /// is opened relative to `<root>/run` opened inside the root (never through a symlink).
    pub fn acquire_within(root: &HostRoot, wait: Duration) -> Result<Lock, RemedyError> {
        let parent = dirfd::Parent::open(root, Path::new(LOCK_PATH), true)?;
        Lock::take(&parent, LOCK_PATH.into(), wait)
    }

    /// The lock that serialises changes to the netfilter tables of this process's network
    /// namespace, whatever `--root` is: `/run/hardnode-netns-<inode>.lock` on the live root,
    /// keyed by the inode of `/proc/self/ns/net` (two runs with different roots in one
    /// namespace share it; runs in different namespaces do not wait for each other).
    pub fn network_namespace() -> Result<Lock, RemedyError> {
        Lock::network_namespace_within(LOCK_WAIT)
    }

    pub fn network_namespace_within(wait: Duration) -> Result<Lock, RemedyError> {
        let path = network_lock_path()?;
        let live = HostRoot::new("/").map_err(|error| RemedyError::Refused {
            path: "/".into(),
            reason: error.to_string(),
        })?;
        let parent = dirfd::Parent::open(&live, &path, true)?;
        Lock::take(&parent, path, wait)
    }

    fn take(parent: &dirfd::Parent, shown: PathBuf, wait: Duration) -> Result<Lock, RemedyError> {
        let file = parent.create_lock_file()?;
        let attempts = (wait.as_millis() / 100).max(1);
        for _ in 0..attempts {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(RemedyError::Io {
                        path: shown,
                        source,
                    });
                }
            }
        }
        Err(RemedyError::Locked {
            path: shown,
            seconds: wait.as_secs(),
        })
    }
}

/// `/run/hardnode-netns-<inode>.lock` for this process's network namespace.
pub fn network_lock_path() -> Result<PathBuf, RemedyError> {
    use std::os::unix::fs::MetadataExt;
    let namespace = fs::metadata("/proc/self/ns/net")
        .map_err(RemedyError::io(Path::new("/proc/self/ns/net")))?;
    Ok(PathBuf::from(format!(
        "/run/hardnode-netns-{}.lock",
        namespace.ino()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_symlinked_run_directory_is_refused_for_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("run")).expect("symlink");
        let root = HostRoot::new(dir.path()).expect("root");
        let error = Lock::acquire(&root).expect_err("refused");
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(fs::read_dir(outside.path()).expect("list").count(), 0);
    }
}
