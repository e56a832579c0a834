//! Writes confined to the host root: every file hardnode changes is reached through a handle on
//! its parent directory opened *inside* the root, and changed relative to that handle.
//!
//! Why: a path checked component by component and then opened again by name can be redirected
//! between the check and the use — a directory on the way swapped with a symlink to `/` turns a
//! `chmod` of `<root>/etc/kubernetes/admin.conf` into one of the machine's own file. Here the
//! parent is opened with one `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS)`: the kernel refuses
//! any symlink on the way (`ELOOP`) and never climbs above the root, and the descriptor keeps
//! naming that directory whatever is renamed afterwards. Kernels without `openat2` (before Linux
//! 5.6), and missing directories that must be created, take a walk of
//! `openat(O_NOFOLLOW | O_DIRECTORY)` handles with `mkdirat` — the same guarantee, one
//! component at a time. The final component is then opened with `O_NOFOLLOW`, replaced with
//! `renameat` of a temp file made with `O_EXCL` in the same directory, or unlinked with
//! `unlinkat`: never a path string resolved again.
//!
//! A symlink anywhere on a write path is refused with a message naming the path. Reads stay
//! with `HostRoot` (which re-roots links); this module only serves the writers in `remedy`.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2, readlinkat, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, fsync, symlinkat, unlinkat};

use super::{BACKUP_SUFFIX, RemedyError};
use crate::host::HostRoot;
use crate::host::root::{DEFAULT_READ_CAP, ReadError, read_open_file};

/// How a directory on a write path is opened: a real descriptor (a directory can be fsynced and
/// listed through it), never through a symlink.
const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// How an existing entry is opened to be read or changed: never through a symlink, never
/// blocking on a FIFO, never becoming a controlling terminal.
const ENTRY_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_NONBLOCK)
    .union(OFlag::O_NOCTTY)
    .union(OFlag::O_CLOEXEC);

/// The refusal every writer gives for a symlink on its path.
pub const SYMLINK_REFUSAL: &str = "a symbolic link is on the path (or was swapped in while \
     hardnode ran); hardnode never writes through a symlink — replace the link with the \
     directory or file it points to";

/// Why a parent directory could not be opened.
enum OpenError {
    /// A directory on the way does not exist (and was not to be created).
    Missing,
    Refused(String),
    Io(io::Error),
}

/// The new file's mode and owner.
#[derive(Debug, Clone, Copy)]
pub enum Ownership {
    /// An existing file keeps its mode and owner; a new one gets `new_mode`, root-owned.
    Keep { new_mode: u32 },
    /// Like `Keep`, plus execute for whoever may read (what `chmod +x` does under umask 022).
    KeepExecutable { new_mode: u32 },
    /// Exactly this mode and `(uid, gid)`, whatever the old file had.
    Force { mode: u32, owner: (u32, u32) },
}

/// A file's parent directory, opened inside the root, and the file's name in it.
#[derive(Debug)]
pub struct Parent {
    dir: OwnedFd,
    name: OsString,
    host_path: PathBuf,
}

impl Parent {
    /// Opens the parent of `host_path` inside `root`, creating missing directories (0755)
    /// when `create` is set.
    pub fn open(root: &HostRoot, host_path: &Path, create: bool) -> Result<Parent, RemedyError> {
        match Parent::open_inner(root, host_path, create) {
            Ok(parent) => Ok(parent),
            Err(OpenError::Missing) => Err(RemedyError::Refused {
                path: host_path.to_path_buf(),
                reason: "its directory does not exist".into(),
            }),
            Err(error) => Err(to_remedy(host_path, error)),
        }
    }

    /// Like [`open`](Self::open) without creating anything: `None` when a directory on the way
    /// does not exist (so neither does the file).
    pub fn open_existing(root: &HostRoot, host_path: &Path) -> Result<Option<Parent>, RemedyError> {
        match Parent::open_inner(root, host_path, false) {
            Ok(parent) => Ok(Some(parent)),
            Err(OpenError::Missing) => Ok(None),
            Err(error) => Err(to_remedy(host_path, error)),
        }
    }

    fn open_inner(root: &HostRoot, host_path: &Path, create: bool) -> Result<Parent, OpenError> {
        let mut parts = Vec::new();
        for component in host_path.components() {
            match component {
                Component::Normal(name) => parts.push(name),
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(OpenError::Refused(
                        "a write path must not contain `..`".into(),
                    ));
                }
            }
        }
        let Some((name, dirs)) = parts.split_last() else {
            return Err(OpenError::Refused("it is the root itself".into()));
        };
        let base = root.handle().map_err(OpenError::Io)?;
        let dir = open_dirs(&base, dirs, create)?;
        Ok(Parent {
            dir,
            name: name.to_os_string(),
            host_path: host_path.to_path_buf(),
        })
    }

    pub fn host_path(&self) -> &Path {
        &self.host_path
    }

    fn refused(&self, reason: impl Into<String>) -> RemedyError {
        RemedyError::Refused {
            path: self.host_path.clone(),
            reason: reason.into(),
        }
    }

    fn io_error(&self, errno: Errno) -> RemedyError {
        RemedyError::Io {
            path: self.host_path.clone(),
            source: io::Error::from(errno),
        }
    }

    /// The entry itself (a symlink is reported as one), `None` when it does not exist.
    pub fn lstat(&self) -> Result<Option<FileStat>, RemedyError> {
        match fstatat(
            &self.dir,
            self.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(stat) => Ok(Some(stat)),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(self.io_error(errno)),
        }
    }

    /// Refuses (before anything is written) an entry a write would refuse: a symlink or
    /// anything but a regular file. A missing entry is fine.
    pub fn check_replaceable(&self) -> Result<(), RemedyError> {
        match self.lstat()? {
            Some(stat) if file_type(&stat) == SFlag::S_IFLNK => Err(self.refused(SYMLINK_REFUSAL)),
            Some(stat) if file_type(&stat) != SFlag::S_IFREG => {
                Err(self.refused("it is not a regular file"))
            }
            _ => Ok(()),
        }
    }

    /// Opens the entry to change it through the descriptor (`fchmod`, `fchown`). A symlink there
    /// now is refused.
    pub fn open_entry(&self) -> Result<File, RemedyError> {
        match openat(&self.dir, self.name.as_os_str(), ENTRY_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(File::from(fd)),
            Err(Errno::ELOOP) => Err(self.refused(SYMLINK_REFUSAL)),
            Err(errno) => Err(self.io_error(errno)),
        }
    }

    /// Opens (creating it 0600 when missing) the lock file at the entry, never through a symlink.
    pub fn create_lock_file(&self) -> Result<File, RemedyError> {
        match openat(
            &self.dir,
            self.name.as_os_str(),
            OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => Ok(File::from(fd)),
            Err(Errno::ELOOP) => Err(self.refused(SYMLINK_REFUSAL)),
            Err(errno) => Err(self.io_error(errno)),
        }
    }

    /// The file's content (at most the default read cap), `None` when it does not exist.
    pub fn read(&self) -> Result<Option<Vec<u8>>, RemedyError> {
        let fd = match openat(&self.dir, self.name.as_os_str(), ENTRY_FLAGS, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => return Err(self.refused(SYMLINK_REFUSAL)),
            Err(errno) => return Err(self.io_error(errno)),
        };
        match read_open_file(File::from(fd), DEFAULT_READ_CAP) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ReadError::NotFound) => Ok(None),
            Err(error) => Err(self.refused(error.to_string())),
        }
    }

    /// [`read`](Self::read) as text (invalid UTF-8 replaced).
    pub fn read_text(&self) -> Result<Option<String>, RemedyError> {
        Ok(self
            .read()?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Where the symlink at the entry points, `None` when it is missing or not a symlink.
    pub fn read_link(&self) -> Option<PathBuf> {
        readlinkat(&self.dir, self.name.as_os_str())
            .ok()
            .map(PathBuf::from)
    }

    /// Creates a symlink to `target` at the entry, replacing what is there (a file or link).
    pub fn symlink(&self, target: &Path) -> Result<(), RemedyError> {
        self.remove()?;
        symlinkat(target, &self.dir, self.name.as_os_str()).map_err(|errno| self.io_error(errno))
    }

    /// Removes the entry (never a directory); false when it did not exist.
    pub fn remove(&self) -> Result<bool, RemedyError> {
        match unlinkat(&self.dir, self.name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(errno) => Err(self.io_error(errno)),
        }
    }

    /// Replaces the file with `content` atomically: a temp file made in the same directory
    /// (`O_EXCL`, 0600), written, given its mode and owner, fsynced, then renamed over the old
    /// one, and the directory fsynced. With `backup`, the previous content is kept first as
    /// `<name>.hardnode-bak` (same mode and owner); its host path is returned. Temp files a
    /// killed earlier run left for these names are removed first.
    pub fn write_atomic(
        &self,
        content: &[u8],
        ownership: Ownership,
        backup: bool,
    ) -> Result<Option<PathBuf>, RemedyError> {
        let (temp, backup_path) = self.stage(content, ownership, backup)?;
        self.install_temp(&temp)?;
        Ok(backup_path)
    }

    /// The first half of [`write_atomic`](Self::write_atomic): the backup and the new content
    /// written and fsynced to a temp file beside the file, nothing replaced yet. What can fail
    /// for lack of space or a read-only filesystem fails here, so a caller can change something
    /// else (the kernel's rules) only once the file is sure to follow; [`Prepared::commit`] is
    /// one `renameat`. Dropping the `Prepared` removes the temp file.
    pub fn prepare(
        self,
        content: &[u8],
        ownership: Ownership,
        backup: bool,
    ) -> Result<Prepared, RemedyError> {
        let (temp, backup) = self.stage(content, ownership, backup)?;
        Ok(Prepared {
            parent: self,
            temp,
            backup,
            done: false,
        })
    }

    fn stage(
        &self,
        content: &[u8],
        ownership: Ownership,
        backup: bool,
    ) -> Result<(OsString, Option<PathBuf>), RemedyError> {
        let backup_name = {
            let mut name = self.name.clone();
            name.push(BACKUP_SUFFIX);
            name
        };
        self.clean_temp_files(&[self.name.as_os_str(), backup_name.as_os_str()]);
        self.check_replaceable()?;
        let existing = self.lstat()?;
        let (old_mode, old_owner) = match &existing {
            Some(stat) => (stat.st_mode & 0o7777, (stat.st_uid, stat.st_gid)),
            None => match ownership {
                Ownership::Keep { new_mode } | Ownership::KeepExecutable { new_mode } => {
                    (new_mode, (0, 0))
                }
                Ownership::Force { mode, owner } => (mode, owner),
            },
        };
        let backup_path = match (&existing, backup) {
            (Some(_), true) => {
                let previous = self.read()?.unwrap_or_default();
                let temp = self.write_temp(&backup_name, &previous, old_mode, old_owner)?;
                self.install_temp_as(&temp, &backup_name)?;
                self.host_path
                    .parent()
                    .map(|parent| parent.join(&backup_name))
            }
            _ => None,
        };
        let (mode, owner) = match ownership {
            Ownership::Keep { .. } => (old_mode, old_owner),
            Ownership::KeepExecutable { .. } => {
                (old_mode | 0o100 | ((old_mode & 0o044) >> 2), old_owner)
            }
            Ownership::Force { mode, owner } => (mode, owner),
        };
        let temp = self.write_temp(&self.name, content, mode, owner)?;
        Ok((temp, backup_path))
    }

    fn temp_name(target: &OsStr) -> OsString {
        let mut temp = OsString::from(".");
        temp.push(target);
        temp.push(format!(".hardnode-{}.tmp", std::process::id()));
        temp
    }

    /// Writes `content` to a new temp file for `target` (mode and owner set, fsynced); its name.
    fn write_temp(
        &self,
        target: &OsStr,
        content: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<OsString, RemedyError> {
        let temp = Parent::temp_name(target);
        let _ = unlinkat(&self.dir, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        let result = (|| -> Result<(), Errno> {
            let fd = openat(
                &self.dir,
                temp.as_os_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )?;
            let mut file = File::from(fd);
            file.write_all(content).map_err(errno_of)?;
            // Owner first: chown clears set-id bits, the mode set after it keeps them.
            // The owner is only set when we may (root); a non-root run writes fixtures only.
            if nix::unistd::geteuid().is_root() {
                fchown(
                    &file,
                    Some(Uid::from_raw(owner.0)),
                    Some(Gid::from_raw(owner.1)),
                )?;
            }
            fchmod(&file, Mode::from_bits_truncate(mode))?;
            file.sync_all().map_err(errno_of)?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok(temp),
            Err(errno) => {
                let _ = unlinkat(&self.dir, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
                Err(self.io_error(errno))
            }
        }
    }

    fn install_temp(&self, temp: &OsStr) -> Result<(), RemedyError> {
        self.install_temp_as(temp, &self.name)
    }

    /// Renames the temp file over `target` and makes the rename durable (directory fsync).
    fn install_temp_as(&self, temp: &OsStr, target: &OsStr) -> Result<(), RemedyError> {
        if let Err(errno) = renameat(&self.dir, temp, &self.dir, target) {
            let _ = unlinkat(&self.dir, temp, UnlinkatFlags::NoRemoveDir);
            return Err(self.io_error(errno));
        }
        let _ = fsync(&self.dir);
        Ok(())
    }

    /// Removes `.<name>.hardnode-<pid>.tmp` files of `names` left in this directory by a run that
    /// was killed between creating and renaming them. Writers hold the root's lock, so no live
    /// run is writing one now. Returns how many were removed.
    pub fn clean_temp_files(&self, names: &[&OsStr]) -> usize {
        let Ok(fd) = openat(&self.dir, ".", DIR_FLAGS, Mode::empty()) else {
            return 0;
        };
        let Ok(mut listing) = Dir::from_fd(fd) else {
            return 0;
        };
        let mut leftovers = Vec::new();
        for entry in listing.iter().flatten() {
            let entry_name = entry.file_name().to_bytes();
            if names.iter().any(|name| is_temp_of(entry_name, name)) {
                leftovers.push(OsString::from_vec(entry_name.to_vec()));
            }
        }
        leftovers
            .iter()
            .filter(|leftover| {
                unlinkat(&self.dir, leftover.as_os_str(), UnlinkatFlags::NoRemoveDir).is_ok()
            })
            .count()
    }
}

/// A replacement written to a temp file beside its target, waiting for [`commit`](Self::commit).
#[derive(Debug)]
pub struct Prepared {
    parent: Parent,
    temp: OsString,
    backup: Option<PathBuf>,
    done: bool,
}

impl Prepared {
    pub fn host_path(&self) -> &Path {
        &self.parent.host_path
    }

    /// Puts the new content in place (one `renameat`); the backup's host path, if one was kept.
    pub fn commit(mut self) -> Result<Option<PathBuf>, RemedyError> {
        self.done = true;
        self.parent.install_temp(&self.temp)?;
        Ok(self.backup.clone())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if !self.done {
            let _ = unlinkat(
                &self.parent.dir,
                self.temp.as_os_str(),
                UnlinkatFlags::NoRemoveDir,
            );
        }
    }
}

/// Whether `entry` is `.<name>.hardnode-<digits>.tmp`.
fn is_temp_of(entry: &[u8], name: &OsStr) -> bool {
    let Some(rest) = entry.strip_prefix(b".") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(name.as_bytes()) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(b".hardnode-") else {
        return false;
    };
    rest.strip_suffix(b".tmp")
        .is_some_and(|pid| !pid.is_empty() && pid.iter().all(u8::is_ascii_digit))
}

fn file_type(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

fn errno_of(error: io::Error) -> Errno {
    error.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

fn to_remedy(host_path: &Path, error: OpenError) -> RemedyError {
    match error {
        OpenError::Missing => RemedyError::Refused {
            path: host_path.to_path_buf(),
            reason: "its directory does not exist".into(),
        },
        OpenError::Refused(reason) => RemedyError::Refused {
            path: host_path.to_path_buf(),
            reason,
        },
        OpenError::Io(source) => RemedyError::Io {
            path: host_path.to_path_buf(),
            source,
        },
    }
}

/// Opens `dirs` below `base`: one `openat2` when the kernel has it and every directory exists,
/// else the walk.
fn open_dirs(base: &OwnedFd, dirs: &[&OsStr], create: bool) -> Result<OwnedFd, OpenError> {
    if dirs.is_empty() {
        return openat(base, ".", DIR_FLAGS, Mode::empty()).map_err(|e| OpenError::Io(e.into()));
    }
    let joined: PathBuf = dirs.iter().collect();
    let how = OpenHow::new().flags(DIR_FLAGS).resolve(
        ResolveFlag::RESOLVE_IN_ROOT
            | ResolveFlag::RESOLVE_NO_SYMLINKS
            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
    );
    match openat2(base, joined.as_path(), how) {
        Ok(fd) => Ok(fd),
        Err(Errno::ELOOP) => Err(OpenError::Refused(SYMLINK_REFUSAL.into())),
        Err(Errno::ENOENT) if !create => Err(OpenError::Missing),
        Err(Errno::EACCES | Errno::EPERM) => Err(OpenError::Io(Errno::EACCES.into())),
        // ENOSYS (no openat2), EAGAIN (a rename raced the lookup), ENOENT with directories to
        // create, ENOTDIR (named below): the walk decides.
        Err(_) => walk_dirs(base, dirs, create),
    }
}

/// The walk: each directory opened relative to the one before with `O_NOFOLLOW`, created with
/// `mkdirat` when missing and `create` is set.
fn walk_dirs(base: &OwnedFd, dirs: &[&OsStr], create: bool) -> Result<OwnedFd, OpenError> {
    let mut current =
        openat(base, ".", DIR_FLAGS, Mode::empty()).map_err(|e| OpenError::Io(e.into()))?;
    for name in dirs {
        let mut made = false;
        let next = loop {
            match openat(current.as_fd(), *name, DIR_FLAGS, Mode::empty()) {
                Ok(fd) => break fd,
                Err(Errno::ENOENT) if create && !made => {
                    match mkdirat(current.as_fd(), *name, Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => made = true,
                        Err(errno) => return Err(OpenError::Io(errno.into())),
                    }
                }
                Err(Errno::ENOENT) => return Err(OpenError::Missing),
                Err(Errno::ELOOP | Errno::ENOTDIR) => {
                    let is_link = fstatat(current.as_fd(), *name, AtFlags::AT_SYMLINK_NOFOLLOW)
                        .is_ok_and(|stat| file_type(&stat) == SFlag::S_IFLNK);
                    return Err(OpenError::Refused(if is_link {
                        SYMLINK_REFUSAL.into()
                    } else {
                        format!(
                            "{} on its path is not a directory",
                            Path::new(name).display()
                        )
                    }));
                }
                Err(errno) => return Err(OpenError::Io(errno.into())),
            }
        };
        current = next;
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn fixture() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = HostRoot::new(dir.path()).expect("root");
        (dir, root)
    }

    #[test]
    fn a_symlink_anywhere_on_the_path_is_refused() {
        let (dir, root) = fixture();
        let outside = tempfile::tempdir().expect("outside");
        fs::create_dir_all(dir.path().join("etc/real")).expect("mkdir");
        symlink("real", dir.path().join("etc/inside")).expect("symlink");
        symlink(outside.path(), dir.path().join("etc/outside")).expect("symlink");
        for path in [
            "/etc/inside/file",
            "/etc/outside/file",
            "/etc/outside/deeper/file",
        ] {
            for create in [false, true] {
                let error = Parent::open(&root, Path::new(path), create).expect_err(path);
                assert!(
                    error.to_string().contains("symbolic link"),
                    "{path}: {error}"
                );
            }
        }
        assert_eq!(fs::read_dir(outside.path()).expect("list").count(), 0);
    }

    #[test]
    fn the_walk_refuses_what_openat2_refuses() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/real")).expect("mkdir");
        fs::write(dir.path().join("etc/file"), "").expect("write");
        symlink("real", dir.path().join("etc/link")).expect("symlink");
        let base = root.handle().expect("handle");
        let link = [OsStr::new("etc"), OsStr::new("link")];
        assert!(matches!(
            walk_dirs(&base, &link, true),
            Err(OpenError::Refused(reason)) if reason == SYMLINK_REFUSAL
        ));
        let file = [OsStr::new("etc"), OsStr::new("file")];
        assert!(matches!(
            walk_dirs(&base, &file, true),
            Err(OpenError::Refused(reason)) if reason.contains("not a directory")
        ));
        let missing = [OsStr::new("etc"), OsStr::new("new"), OsStr::new("deeper")];
        assert!(matches!(
            walk_dirs(&base, &missing, false),
            Err(OpenError::Missing)
        ));
        assert!(walk_dirs(&base, &missing, true).is_ok());
        assert!(dir.path().join("etc/new/deeper").is_dir());
    }

    /// The fallback for kernels without `openat2`, raced: while a thread exchanges
    /// `etc/kubernetes` with a symlink to a decoy, every walk either opens the real directory or
    /// refuses; never the decoy.
    #[test]
    fn the_walk_never_opens_a_directory_swapped_in_by_a_symlink() {
        use std::os::unix::fs::MetadataExt;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let (dir, root) = fixture();
        let decoy = tempfile::tempdir().expect("decoy");
        fs::create_dir_all(dir.path().join("etc/kubernetes")).expect("mkdir");
        symlink(decoy.path(), dir.path().join("etc/swap")).expect("symlink");
        let real_inode = fs::metadata(dir.path().join("etc/kubernetes"))
            .expect("stat")
            .ino();
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let stop = stop.clone();
            let etc = File::open(dir.path().join("etc")).expect("open etc");
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = nix::fcntl::renameat2(
                        &etc,
                        "kubernetes",
                        &etc,
                        "swap",
                        nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                    );
                }
            })
        };
        let base = root.handle().expect("handle");
        let dirs = [OsStr::new("etc"), OsStr::new("kubernetes")];
        let (mut opened, mut refused) = (0, 0);
        // At least 2,000 walks, more (bounded) until both outcomes were seen on a busy machine.
        let mut walks = 0;
        while walks < 2_000 || ((opened == 0 || refused == 0) && walks < 200_000) {
            walks += 1;
            match walk_dirs(&base, &dirs, false) {
                Ok(fd) => {
                    let inode = File::from(fd).metadata().expect("fstat").ino();
                    assert_eq!(inode, real_inode, "the walk opened the decoy");
                    opened += 1;
                }
                Err(OpenError::Refused(_)) | Err(OpenError::Missing) => refused += 1,
                Err(OpenError::Io(error)) => panic!("{error}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().expect("swapper");
        assert!(
            opened > 0 && refused > 0,
            "{opened} opened, {refused} refused"
        );
    }

    #[test]
    fn dotdot_in_a_write_path_is_refused() {
        let (_dir, root) = fixture();
        let error = Parent::open(&root, Path::new("/etc/../../x"), true).expect_err("refused");
        assert!(error.to_string().contains(".."), "{error}");
    }

    #[test]
    fn atomic_write_keeps_mode_backs_up_and_cleans_leftover_temp_files() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        let file = dir.path().join("etc/rc.local");
        fs::write(&file, "old").expect("write");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
        // What a run killed before its rename leaves; another file's temp is not ours to remove.
        fs::write(dir.path().join("etc/.rc.local.hardnode-4242.tmp"), "x").expect("write");
        fs::write(
            dir.path().join("etc/.rc.local.hardnode-bak.hardnode-7.tmp"),
            "x",
        )
        .expect("write");
        fs::write(dir.path().join("etc/.other.hardnode-4242.tmp"), "x").expect("write");
        let parent = Parent::open(&root, Path::new("/etc/rc.local"), false).expect("open");
        let backup = parent
            .write_atomic(b"new", Ownership::KeepExecutable { new_mode: 0o755 }, true)
            .expect("written");
        assert_eq!(fs::read_to_string(&file).expect("read"), "new");
        let mode = fs::metadata(&file).expect("meta").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o750);
        assert_eq!(
            backup.as_deref(),
            Some(Path::new("/etc/rc.local.hardnode-bak"))
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("etc/rc.local.hardnode-bak")).expect("backup"),
            "old"
        );
        let mut left: Vec<String> = fs::read_dir(dir.path().join("etc"))
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".other.hardnode-4242.tmp",
                "rc.local",
                "rc.local.hardnode-bak"
            ]
        );
    }

    #[test]
    fn a_symlink_or_fifo_at_the_entry_is_never_written_through() {
        let (dir, root) = fixture();
        let outside = tempfile::tempdir().expect("outside");
        fs::write(outside.path().join("target"), "outside").expect("write");
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        symlink(
            outside.path().join("target"),
            dir.path().join("etc/rc.local"),
        )
        .expect("ln");
        nix::unistd::mkfifo(&dir.path().join("etc/fifo"), Mode::S_IRWXU).expect("mkfifo");
        let parent = Parent::open(&root, Path::new("/etc/rc.local"), false).expect("open");
        assert!(parent.read().is_err());
        assert!(parent.open_entry().is_err());
        let error = parent
            .write_atomic(b"x", Ownership::Keep { new_mode: 0o644 }, true)
            .expect_err("refused");
        assert!(error.to_string().contains("symbolic link"), "{error}");
        let fifo = Parent::open(&root, Path::new("/etc/fifo"), false).expect("open");
        assert!(fifo.read().is_err());
        assert!(
            fifo.write_atomic(b"x", Ownership::Keep { new_mode: 0o644 }, false)
                .is_err()
        );
        assert_eq!(
            fs::read_to_string(outside.path().join("target")).expect("read"),
            "outside"
        );
    }
}
