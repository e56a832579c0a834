//! `HostRoot`: every path hardnode reads goes through it.
//!
//! The root is a prefix (`/` live, a fixture directory in tests, `/host` in a DaemonSet). Paths
//! are host paths: absolute symlinks found on the way are re-rooted, `..` never climbs above the
//! root, so a planted `../../etc/shadow` or a symlink to `/` stays inside it. Reads are capped and
//! never block (a FIFO or a device is refused, not opened for a read that could hang).

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, OnceLock};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2, readlinkat};

/// How many symbolic links one resolution may follow (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// The default cap for a configuration or kernel file.
pub const DEFAULT_READ_CAP: u64 = 4 * 1024 * 1024;

/// Why a host path could not be read. Its text goes into evidence verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    PermissionDenied,
    IsDirectory,
    NotRegularFile(&'static str),
    TooLarge { cap: u64 },
    SymlinkLoop,
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("does not exist"),
            // Root is denied too where a security module, a user namespace or the sandbox
            // hardnode runs in says no: say what happened rather than "needs root".
            ReadError::PermissionDenied if nix::unistd::geteuid().is_root() => f.write_str(
                "permission denied, even to root (a security module or the sandbox hardnode runs in denies it)",
            ),
            ReadError::PermissionDenied => {
                f.write_str("permission denied (hardnode needs root to read it)")
            }
            ReadError::IsDirectory => f.write_str("is a directory, not a file"),
            ReadError::NotRegularFile(kind) => write!(f, "is a {kind}, not a regular file"),
            ReadError::TooLarge { cap } => write!(f, "is larger than the {cap}-byte read cap"),
            ReadError::SymlinkLoop => f.write_str("too many levels of symbolic links"),
            ReadError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            io::ErrorKind::IsADirectory => ReadError::IsDirectory,
            _ if error.raw_os_error() == Some(nix::libc::ELOOP) => ReadError::SymlinkLoop,
            _ if error.raw_os_error() == Some(nix::libc::ENOTDIR) => ReadError::NotFound,
            _ => ReadError::Other(error.to_string()),
        }
    }
}

/// A path as the file rules see it: see [`HostRoot::entry`].
#[derive(Debug, Clone)]
pub struct Entry {
    /// Symbolic links followed.
    pub metadata: Metadata,
    /// The real path under the root's prefix, every link followed inside the root (`None`: it
    /// could not be resolved, though the metadata could be read).
    pub real_path: Option<PathBuf>,
    /// Whether the last component is itself a symbolic link.
    pub is_link: bool,
}

/// The prefix under which the host's filesystem is read.
#[derive(Debug, Clone)]
pub struct HostRoot {
    prefix: PathBuf,
    /// The prefix opened as a directory, for `openat2(RESOLVE_IN_ROOT)` reads.
    dir: Option<Arc<OwnedFd>>,
    /// `<root>/proc` when it is a real procfs reached without a symlink, opened on first use
    /// (`None` inside: it is not). See [`read_procfs`](Self::read_procfs).
    procfs: Arc<OnceLock<Option<OwnedFd>>>,
}

impl HostRoot {
    /// A root at `prefix`, which must be a readable directory.
    pub fn new(prefix: impl Into<PathBuf>) -> Result<Self, ReadError> {
        let prefix = prefix.into();
        let metadata = fs::metadata(&prefix)?;
        if !metadata.is_dir() {
            return Err(ReadError::Other("is not a directory".into()));
        }
        // nix's Dir, not std's ReadDir: std's drop asserts that closedir succeeded (a panic on
        // a filesystem whose close fails); nix's only on a descriptor closed twice.
        Dir::open(
            &prefix,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(io::Error::from)?;
        let dir = nix::fcntl::open(
            &prefix,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ok()
        .map(Arc::new);
        Ok(HostRoot {
            prefix,
            dir,
            procfs: Arc::default(),
        })
    }

    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    pub fn is_live(&self) -> bool {
        self.prefix == Path::new("/")
    }

    /// A descriptor of the root directory itself, for writes made relative to it
    /// (`remedy::dirfd`): the handle opened at start when there is one, else the prefix now.
    pub fn handle(&self) -> io::Result<OwnedFd> {
        match &self.dir {
            Some(dir) => dir.try_clone(),
            None => Ok(nix::fcntl::open(
                &self.prefix,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?),
        }
    }

    /// The real path of `host_path` under the root, every symlink followed inside the root.
    /// A missing component is kept lexically, so the caller's read reports "does not exist".
    pub fn resolve(&self, host_path: &Path) -> Result<PathBuf, ReadError> {
        self.resolve_inner(host_path, true)
    }

    /// Like [`resolve`](Self::resolve), but the last component is not followed when it is a
    /// symlink (lstat semantics: the link itself is what is examined).
    pub fn resolve_no_follow(&self, host_path: &Path) -> Result<PathBuf, ReadError> {
        self.resolve_inner(host_path, false)
    }

    fn resolve_inner(&self, host_path: &Path, follow_final: bool) -> Result<PathBuf, ReadError> {
        if let Some(resolved) = self.resolve_plain(host_path, follow_final) {
            return Ok(resolved);
        }
        let mut pending: VecDeque<OsString> = components(host_path).collect();
        let mut resolved: Vec<OsString> = Vec::new();
        let mut links_followed = 0;
        // Once a component is missing, the rest is resolved lexically: nothing below it exists.
        let mut missing = false;
        while let Some(name) = pending.pop_front() {
            if name == ".." {
                resolved.pop();
                continue;
            }
            if missing {
                resolved.push(name);
                continue;
            }
            let candidate = self.join(&resolved).join(&name);
            let is_final = pending.is_empty();
            match fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.file_type().is_symlink() && (follow_final || !is_final) => {
                    links_followed += 1;
                    if links_followed > MAX_SYMLINKS {
                        return Err(ReadError::SymlinkLoop);
                    }
                    let target = fs::read_link(&candidate)?;
                    if target.is_absolute() {
                        resolved.clear();
                    }
                    for part in components(&target).collect::<Vec<_>>().into_iter().rev() {
                        pending.push_front(part);
                    }
                }
                Ok(_) => resolved.push(name),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    missing = true;
                    resolved.push(name);
                }
                Err(error) if error.raw_os_error() == Some(nix::libc::ENOTDIR) => {
                    return Err(ReadError::NotFound);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(self.join(&resolved))
    }

    /// The common case in one system call instead of an `lstat` per component: a path of plain
    /// names (no `..`) that the kernel opens inside the root while refusing every symbolic link
    /// on the way (`RESOLVE_NO_SYMLINKS`; with `O_NOFOLLOW` a final link is the link itself) is
    /// its own resolution, exactly what the walk would find. `None`: the walk decides.
    fn resolve_plain(&self, host_path: &Path, follow_final: bool) -> Option<PathBuf> {
        let flags = if follow_final {
            OFlag::O_PATH
        } else {
            OFlag::O_PATH | OFlag::O_NOFOLLOW
        };
        let (opened, real_path) = self.open_plain(host_path, flags)?;
        opened.ok()?;
        Some(real_path)
    }

    /// `host_path` opened inside the root with `flags`, refusing every symbolic link on the way
    /// (`RESOLVE_NO_SYMLINKS`), with the path it names under the prefix. `None`: not a path of
    /// plain names (a `..` or `.` in it), or no root handle — the caller's walk decides.
    fn open_plain(
        &self,
        host_path: &Path,
        flags: OFlag,
    ) -> Option<(Result<OwnedFd, Errno>, PathBuf)> {
        let dir = self.dir.as_ref()?;
        let mut parts = Vec::new();
        for part in host_path.components() {
            match part {
                Component::RootDir => {}
                Component::Normal(name) => parts.push(name),
                _ => return None,
            }
        }
        let relative: PathBuf = if parts.is_empty() {
            PathBuf::from(".")
        } else {
            parts.iter().collect()
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_SYMLINKS);
        let opened = openat2(dir.as_fd(), &relative, how);
        let mut real_path = self.prefix.clone();
        real_path.extend(parts);
        Some((opened, real_path))
    }

    fn join(&self, parts: &[OsString]) -> PathBuf {
        let mut path = self.prefix.clone();
        path.extend(parts);
        path
    }

    /// The path as it is shown in evidence: the host path, independent of the root prefix.
    pub fn display_path(&self, real_path: &Path) -> PathBuf {
        match real_path.strip_prefix(&self.prefix) {
            Ok(rest) => Path::new("/").join(rest),
            Err(_) => real_path.to_path_buf(),
        }
    }

    /// Reads a regular file, at most `cap` bytes, without blocking on FIFOs or devices.
    pub fn read_capped(&self, host_path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
        if let Some(read) = self.read_procfs(host_path, cap) {
            return read;
        }
        if let Some(opened) = self.open_in_root(host_path, OFlag::O_RDONLY | OFlag::O_NONBLOCK) {
            return read_open_file(File::from(opened?), cap);
        }
        let real = self.resolve(host_path)?;
        read_regular_file(&real, cap)
    }

    /// A file under `/proc` read with one system call fewer: when `<root>/proc` is a real procfs
    /// reached without a symlink (checked once, `fstatfs`), a path of plain names below it is
    /// opened from that directory refusing any symlink, magic link or mount crossing
    /// (`RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV`), so what opens is a file of
    /// that same procfs: a regular file or a directory, never a FIFO, socket or device. The
    /// `fstat` that refuses those elsewhere is then not needed; the read goes to the end as every
    /// procfs read does (its size says 0), under the same cap, and a directory is refused by the
    /// read itself (`EISDIR`). `None`: not such a path or root, or the kernel would not open it
    /// that way (`/proc/self`, a magic link) — the general path decides, as before.
    fn read_procfs(&self, host_path: &Path, cap: u64) -> Option<Result<Vec<u8>, ReadError>> {
        let mut parts = host_path.components();
        if parts.next() != Some(Component::RootDir)
            || parts.next() != Some(Component::Normal(OsStr::new("proc")))
        {
            return None;
        }
        let rest = parts.as_path();
        if rest.as_os_str().is_empty()
            || !rest
                .components()
                .all(|part| matches!(part, Component::Normal(_)))
        {
            return None;
        }
        let procfs = self.procfs.get_or_init(|| self.open_procfs()).as_ref()?;
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS
                    | ResolveFlag::RESOLVE_NO_XDEV,
            );
        match openat2(procfs.as_fd(), rest, how) {
            Ok(fd) => Some(read_to_end_capped(File::from(fd), 0, cap)),
            Err(Errno::ENOENT | Errno::ENOTDIR) => Some(Err(ReadError::NotFound)),
            Err(Errno::EACCES | Errno::EPERM) => Some(Err(ReadError::PermissionDenied)),
            Err(_) => None,
        }
    }

    /// `/proc/<pid>/<name>` (`exe`, a process's program) on a real procfs: one `readlinkat` from
    /// the opened `/proc`, instead of an open, a `readlinkat` and a close. Only that shape: a
    /// pid's directory is never a link on procfs and the final link is read, not followed, so
    /// nothing is traversed that a magic link could redirect. `None`: the general path decides.
    fn read_procfs_link(&self, host_path: &Path) -> Option<Result<PathBuf, ReadError>> {
        let mut parts = host_path.components();
        let (Some(Component::RootDir), Some(Component::Normal(proc))) =
            (parts.next(), parts.next())
        else {
            return None;
        };
        let (Some(Component::Normal(pid)), Some(Component::Normal(_)), None) =
            (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if proc != "proc" || !pid.as_bytes().iter().all(u8::is_ascii_digit) {
            return None;
        }
        let relative = host_path.strip_prefix("/proc").ok()?;
        let procfs = self.procfs.get_or_init(|| self.open_procfs()).as_ref()?;
        Some(match readlinkat(procfs.as_fd(), relative) {
            Ok(target) => Ok(PathBuf::from(target)),
            // Not a link: what the general path's `readlinkat(fd, "")` says of it (ENOENT).
            Err(Errno::EINVAL) => Err(ReadError::NotFound),
            Err(errno) => Err(ReadError::from(io::Error::from(errno))),
        })
    }

    /// `<root>/proc` when it is a directory of a real procfs reached inside the root without a
    /// symlink; `None` otherwise (a fixture's `proc` is plain files, read the general way).
    fn open_procfs(&self) -> Option<OwnedFd> {
        let dir = self.dir.as_ref()?;
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(
                ResolveFlag::RESOLVE_IN_ROOT
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        let proc_dir = openat2(dir.as_fd(), "proc", how).ok()?;
        nix::sys::statfs::fstatfs(&proc_dir)
            .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
            .then_some(proc_dir)
    }

    /// Opens `host_path` with one `openat2(RESOLVE_IN_ROOT)`: the kernel resolves it with the
    /// same rules as [`resolve`](Self::resolve) (absolute symlinks re-rooted, `..` clamped at the
    /// root, 40 links at most), in one system call instead of an `lstat` per component — what
    /// makes a walk of 10,000 processes cheap. `flags` say how (`O_PATH` for metadata and links,
    /// `O_NOFOLLOW` to examine a final symlink itself, `O_DIRECTORY` for a listing).
    /// `None` when the kernel cannot decide it that way (no `openat2` before Linux 5.6, a
    /// concurrent rename, a magic link, a loop, a missing component of a path with `..`): the
    /// component-by-component walk then decides, and names the error.
    fn open_in_root(&self, host_path: &Path, flags: OFlag) -> Option<Result<OwnedFd, ReadError>> {
        let dir = self.dir.as_ref()?;
        let relative = host_path.strip_prefix("/").unwrap_or(host_path);
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        match openat2(dir.as_fd(), relative, how) {
            Ok(fd) => Some(Ok(fd)),
            Err(Errno::EACCES | Errno::EPERM) => Some(Err(ReadError::PermissionDenied)),
            // Missing, as the kernel sees it: what the component itself would get. Only a path
            // with `..` in it goes to the walk, which resolves `..` after a missing directory
            // lexically (`var/lib/../../etc/shadow` with no /var) where the kernel says ENOENT.
            Err(Errno::ENOENT)
                if !host_path
                    .components()
                    .any(|part| part == Component::ParentDir) =>
            {
                Some(Err(ReadError::NotFound))
            }
            Err(_) => None,
        }
    }

    /// The target of the symbolic link at `host_path` (its parent resolved inside the root),
    /// verbatim: `/proc/<pid>/exe` names the program a process runs, `/proc/<pid>/ns/net` a
    /// namespace (`net:[4026531840]`).
    pub fn read_link(&self, host_path: &Path) -> Result<PathBuf, ReadError> {
        if let Some(target) = self.read_procfs_link(host_path) {
            return target;
        }
        if let Some(opened) = self.open_in_root(host_path, OFlag::O_PATH | OFlag::O_NOFOLLOW) {
            // An empty path reads the link the descriptor itself names (Linux 2.6.39+).
            let target = readlinkat(opened?.as_fd(), "").map_err(io::Error::from)?;
            return Ok(PathBuf::from(target));
        }
        Ok(fs::read_link(self.resolve_no_follow(host_path)?)?)
    }

    /// The targets of the symbolic links `names` in the directory `dir`: the directory is
    /// resolved inside the root once, each link read relative to it (`/proc/<pid>/ns/*`: seven
    /// links, one lookup). A name that is not a single plain component is read the long way.
    pub fn read_links_in(&self, dir: &Path, names: &[&str]) -> Vec<Result<PathBuf, ReadError>> {
        let plain =
            |name: &str| !name.is_empty() && name != ".." && name != "." && !name.contains('/');
        let opened = self.open_in_root(dir, OFlag::O_PATH | OFlag::O_DIRECTORY);
        names
            .iter()
            .map(|name| match &opened {
                Some(Ok(fd)) if plain(name) => readlinkat(fd.as_fd(), *name)
                    .map(PathBuf::from)
                    .map_err(|errno| ReadError::from(io::Error::from(errno))),
                Some(Err(error)) => Err(error.clone()),
                _ => self.read_link(&dir.join(name)),
            })
            .collect()
    }

    /// Reads a file under `/proc/<pid>/root/`, letting the kernel follow that magic link into the
    /// process's mount namespace (a containerized component's ConfigMap file exists only there).
    /// [`resolve`](Self::resolve) cannot do this: `readlink` on the magic link says `/`. Only
    /// `/proc/<pid>/root/...` paths are accepted, so nothing else bypasses the re-rooting.
    ///
    /// The link is the kernel's only when `<root>/proc/<pid>` is on a real procfs (the live
    /// `/proc`, or the host's procfs mounted at `/host/proc`), reached inside the root without a
    /// symlink: checked with `fstatfs` on the opened directory, and the link followed from that
    /// same descriptor. Anywhere else (a fixture, a planted `proc/<pid>/root -> /` or `../..`)
    /// it is data, re-rooted like every other symlink. Inside the process's root, symlinks are
    /// resolved against that root (`RESOLVE_IN_ROOT`), not this machine's.
    pub fn read_in_process_root(&self, host_path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
        match self.open_in_process_root(host_path, OFlag::O_RDONLY | OFlag::O_NONBLOCK)? {
            Some(file) => read_open_file(file, cap),
            // Not the kernel's link: a plain read, every link re-rooted inside this root.
            None => self.read_capped(host_path, cap),
        }
    }

    /// Metadata of a file under `/proc/<pid>/root/`, by the same rules as
    /// [`read_in_process_root`](Self::read_in_process_root) (a containerized component's
    /// kubeconfig, whose mode and owner the file rules judge).
    pub fn metadata_in_process_root(&self, host_path: &Path) -> Result<Metadata, ReadError> {
        match self.open_in_process_root(host_path, OFlag::O_PATH)? {
            Some(file) => Ok(file.metadata()?),
            None => self.metadata(host_path),
        }
    }

    /// Opens `host_path` (`/proc/<pid>/root/...`) inside the process's root when that link is
    /// the kernel's; `None` when it is only data (the caller then reads it re-rooted).
    fn open_in_process_root(
        &self,
        host_path: &Path,
        flags: OFlag,
    ) -> Result<Option<File>, ReadError> {
        let mut parts = host_path.components().filter(|c| *c != Component::RootDir);
        let pid = match (parts.next(), parts.next(), parts.next()) {
            (
                Some(Component::Normal(p)),
                Some(Component::Normal(pid)),
                Some(Component::Normal(r)),
            ) if p == "proc"
                && r == "root"
                && pid.to_str().is_some_and(|t| t.parse::<u32>().is_ok()) =>
            {
                pid.to_os_string()
            }
            _ => {
                return Err(ReadError::Other(format!(
                    "{} is not a /proc/<pid>/root/ path",
                    host_path.display()
                )));
            }
        };
        let rest: PathBuf = parts
            .map(|part| match part {
                Component::Normal(name) => Ok(name),
                _ => Err(ReadError::Other(format!(
                    "{} is not a plain /proc/<pid>/root/ path",
                    host_path.display()
                ))),
            })
            .collect::<Result<_, _>>()?;
        match self.process_root(&pid)? {
            Some(process_root) => {
                let rest = if rest.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    rest.as_path()
                };
                let how = OpenHow::new()
                    .flags(flags | OFlag::O_CLOEXEC)
                    .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
                let fd = openat2(process_root.as_fd(), rest, how)
                    .map_err(|errno| ReadError::from(io::Error::from(errno)))?;
                Ok(Some(File::from(fd)))
            }
            None => Ok(None),
        }
    }

    /// The root directory of process `pid` when `<root>/proc/<pid>` is a directory of a real
    /// procfs reached inside the root with no symlink; `None` when it is not (then
    /// `proc/<pid>/root` is only data).
    fn process_root(&self, pid: &OsStr) -> Result<Option<OwnedFd>, ReadError> {
        let base = self.handle()?;
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(
                ResolveFlag::RESOLVE_IN_ROOT
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        let pid_dir = match openat2(base.as_fd(), &Path::new("proc").join(pid), how) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Err(ReadError::NotFound),
            // A symlink on the way, or no openat2: not provably the kernel's.
            Err(_) => return Ok(None),
        };
        let on_procfs = nix::sys::statfs::fstatfs(&pid_dir)
            .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC);
        if !on_procfs {
            return Ok(None);
        }
        let root = nix::fcntl::openat(
            &pid_dir,
            "root",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|errno| ReadError::from(io::Error::from(errno)))?;
        Ok(Some(root))
    }

    /// Reads a text file with the default cap; invalid UTF-8 is replaced, not fatal.
    pub fn read_to_string(&self, host_path: &Path) -> Result<String, ReadError> {
        let bytes = self.read_capped(host_path, DEFAULT_READ_CAP)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Metadata of the file at `host_path`, following symlinks inside the root.
    pub fn metadata(&self, host_path: &Path) -> Result<Metadata, ReadError> {
        if let Some(opened) = self.open_in_root(host_path, OFlag::O_PATH) {
            return Ok(File::from(opened?).metadata()?);
        }
        Ok(fs::metadata(self.resolve(host_path)?)?)
    }

    /// Metadata of the entry itself (a symlink is reported as a symlink).
    pub fn symlink_metadata(&self, host_path: &Path) -> Result<Metadata, ReadError> {
        if let Some(opened) = self.open_in_root(host_path, OFlag::O_PATH | OFlag::O_NOFOLLOW) {
            return Ok(File::from(opened?).metadata()?);
        }
        Ok(fs::symlink_metadata(self.resolve_no_follow(host_path)?)?)
    }

    /// What the file rules ask of a path, in one `openat2` and one `fstat` where they can be:
    /// its metadata (symlinks followed), its real path, and whether its last component is a
    /// symbolic link. A path of plain names that the kernel opens inside the root refusing
    /// every symlink (`RESOLVE_NO_SYMLINKS`; `O_NOFOLLOW` opens a final link as itself) and
    /// that is not a link itself involves no link at all: its metadata is the followed one, its
    /// real path the path itself. Anything else — a link anywhere, `..`, no `openat2` — is
    /// answered by [`metadata`](Self::metadata), [`resolve`](Self::resolve) and
    /// [`symlink_metadata`](Self::symlink_metadata), as before.
    pub fn entry(&self, host_path: &Path) -> Result<Entry, ReadError> {
        if let Some(entry) = self.plain_entry(host_path) {
            return entry;
        }
        let metadata = self.metadata(host_path)?;
        let real_path = self.resolve(host_path).ok();
        let is_link = self
            .symlink_metadata(host_path)
            .is_ok_and(|meta| meta.file_type().is_symlink());
        Ok(Entry {
            metadata,
            real_path,
            is_link,
        })
    }

    fn plain_entry(&self, host_path: &Path) -> Option<Result<Entry, ReadError>> {
        let (opened, real_path) = self.open_plain(host_path, OFlag::O_PATH | OFlag::O_NOFOLLOW)?;
        let opened = match opened {
            Ok(opened) => opened,
            // A component missing (or not a directory) before any link: what following the
            // links would meet too.
            Err(Errno::ENOENT | Errno::ENOTDIR) => return Some(Err(ReadError::NotFound)),
            Err(_) => return None,
        };
        let metadata = File::from(opened).metadata().ok()?;
        if metadata.file_type().is_symlink() {
            return None;
        }
        Some(Ok(Entry {
            metadata,
            real_path: Some(real_path),
            is_link: false,
        }))
    }

    pub fn exists(&self, host_path: &Path) -> bool {
        self.symlink_metadata(host_path).is_ok()
    }

    /// The names in a directory, sorted so every run sees the same order.
    pub fn read_dir_names(&self, host_path: &Path) -> Result<Vec<OsString>, ReadError> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK;
        if let Some(opened) = self.open_in_root(host_path, flags) {
            return list_open_dir(&opened?);
        }
        let real = self.resolve(host_path)?;
        let metadata = fs::metadata(&real)?;
        if !metadata.is_dir() {
            return Err(ReadError::Other("is not a directory".into()));
        }
        let mut dir = Dir::open(
            &real,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(io::Error::from)?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(io::Error::from)?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        names.sort();
        Ok(names)
    }
}

/// The names in an opened directory, sorted: `getdents64` into one buffer until it says the end,
/// nothing else (`opendir` on the descriptor would add two `fcntl`s, and its iterator's drop an
/// `lseek`). A name never exceeds 255 bytes, so an entry always fits the buffer.
fn list_open_dir(dir: &OwnedFd) -> Result<Vec<OsString>, ReadError> {
    let mut buffer = Vec::with_capacity(32 * 1024);
    let mut entries = rustix::fs::RawDir::new(dir, buffer.spare_capacity_mut());
    let mut names = Vec::new();
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|errno| io::Error::from_raw_os_error(errno.raw_os_error()))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    names.sort();
    Ok(names)
}

fn components(path: &Path) -> impl Iterator<Item = OsString> + '_ {
    path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Opens `real` (already resolved, so the last component must not be a symlink any more) and reads
/// at most `cap` bytes. `O_NONBLOCK` makes opening a FIFO return at once; the type check refuses it.
pub fn read_regular_file(real: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).bits())
        .open(real)?;
    read_open_file(file, cap)
}

/// Reads an opened file if it is a regular file, at most `cap` bytes.
pub(crate) fn read_open_file(file: File, cap: u64) -> Result<Vec<u8>, ReadError> {
    let size = check_regular(&file)?;
    read_to_end_capped(file, size, cap)
}

/// Reads a file known to be readable without blocking (a regular file of `size` bytes, or a
/// procfs file: 0) to its end, at most `cap` bytes.
fn read_to_end_capped(mut file: File, size: u64, cap: u64) -> Result<Vec<u8>, ReadError> {
    // Room for the whole file up front (procfs says 0: a page), so a small file is one read.
    let room = size.max(4096).min(cap).min(DEFAULT_READ_CAP) + 1;
    let mut bytes = vec![0; room as usize];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            if filled as u64 > cap {
                return Err(ReadError::TooLarge { cap });
            }
            let grown = (bytes.len() as u64 * 2).min(cap + 1);
            bytes.resize(grown as usize, 0);
        }
        let read = match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        filled += read;
        // A short read of a regular file is its end: once the size fstat gave is read, no
        // further read is needed to learn that (procfs files say 0 and are read to the end).
        if size > 0 && filled as u64 >= size && filled < bytes.len() {
            break;
        }
    }
    if filled as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// `Ok(size)` for a regular file; the kind of file otherwise.
fn check_regular(file: &File) -> Result<u64, ReadError> {
    use std::os::unix::fs::FileTypeExt;
    let metadata = file.metadata()?;
    let file_type = metadata.file_type();
    if file_type.is_file() {
        Ok(metadata.len())
    } else if file_type.is_dir() {
        Err(ReadError::IsDirectory)
    } else if file_type.is_fifo() {
        Err(ReadError::NotRegularFile("FIFO"))
    } else if file_type.is_socket() {
        Err(ReadError::NotRegularFile("socket"))
    } else if file_type.is_char_device() {
        Err(ReadError::NotRegularFile("character device"))
    } else if file_type.is_block_device() {
        Err(ReadError::NotRegularFile("block device"))
    } else {
        Err(ReadError::NotRegularFile("special file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, symlink};

    fn fixture() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = HostRoot::new(dir.path()).expect("root");
        (dir, root)
    }

    #[test]
    fn dotdot_never_escapes_the_root() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        fs::write(dir.path().join("etc/shadow"), "inside").expect("write");
        let text = root
            .read_to_string(Path::new("var/lib/../../../../../etc/shadow"))
            .expect("read");
        assert_eq!(text, "inside");
    }

    #[test]
    fn absolute_symlink_is_rerooted() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("real")).expect("mkdir");
        fs::write(dir.path().join("real/file"), "x").expect("write");
        symlink("/real", dir.path().join("link")).expect("symlink");
        assert_eq!(
            root.read_to_string(Path::new("/link/file")).expect("read"),
            "x"
        );
        assert_eq!(
            root.display_path(&root.resolve(Path::new("/link/file")).expect("resolve")),
            Path::new("/real/file")
        );
    }

    #[test]
    fn symlink_loop_is_an_error_not_a_hang() {
        let (dir, root) = fixture();
        symlink("b", dir.path().join("a")).expect("symlink");
        symlink("a", dir.path().join("b")).expect("symlink");
        assert_eq!(
            root.read_to_string(Path::new("/a")),
            Err(ReadError::SymlinkLoop)
        );
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let (dir, root) = fixture();
        nix::unistd::mkfifo(&dir.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU)
            .expect("mkfifo");
        assert_eq!(
            root.read_to_string(Path::new("/fifo")),
            Err(ReadError::NotRegularFile("FIFO"))
        );
    }

    #[test]
    fn reads_are_capped() {
        let (dir, root) = fixture();
        fs::write(dir.path().join("big"), vec![b'a'; 100]).expect("write");
        assert_eq!(
            root.read_capped(Path::new("/big"), 10),
            Err(ReadError::TooLarge { cap: 10 })
        );
        assert_eq!(
            root.read_capped(Path::new("/big"), 100)
                .expect("read")
                .len(),
            100
        );
    }

    #[test]
    fn openat2_reads_agree_with_the_component_walk() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/kubernetes")).expect("mkdir");
        fs::write(dir.path().join("etc/kubernetes/admin.conf"), "inside").expect("write");
        symlink("/etc/kubernetes", dir.path().join("abs")).expect("symlink");
        symlink(
            "../../../../etc/kubernetes/admin.conf",
            dir.path().join("etc/rel"),
        )
        .expect("symlink");
        symlink("/", dir.path().join("etc/up")).expect("symlink");
        symlink("loop", dir.path().join("loop")).expect("symlink");
        symlink(
            "missing/../kubernetes/admin.conf",
            dir.path().join("etc/lexical"),
        )
        .expect("symlink");
        let slow = |path: &str| {
            root.resolve(Path::new(path))
                .and_then(|real| read_regular_file(&real, 100))
        };
        for path in [
            "/etc/kubernetes/admin.conf",
            "/abs/admin.conf",
            "/etc/rel",
            "/etc/up/etc/up/../../../abs/admin.conf",
            "../../../../etc/kubernetes/admin.conf",
            "/etc/kubernetes",
            "/missing/file",
            "/etc/kubernetes/admin.conf/below",
            "/loop",
            "/var/lib/../../etc/kubernetes/admin.conf",
        ] {
            assert!(root.dir.is_some());
            assert_eq!(root.read_capped(Path::new(path), 100), slow(path), "{path}");
        }
        assert_eq!(
            root.read_capped(Path::new("/abs/admin.conf"), 100),
            Ok(b"inside".to_vec())
        );
    }

    #[test]
    fn magic_links_of_the_live_proc_are_read_not_followed() {
        let root = HostRoot::new("/").expect("root");
        let kinds = ["net", "pid", "mnt", "user"];
        let together = root.read_links_in(Path::new("/proc/self/ns"), &kinds);
        for (kind, target) in kinds.iter().zip(together) {
            let link = format!("/proc/self/ns/{kind}");
            assert_eq!(
                target,
                Ok(fs::read_link(&link).expect("std read_link")),
                "{link}"
            );
        }
        for link in ["/proc/self/exe", "/proc/self/ns/net", "/proc/self/cwd"] {
            assert_eq!(
                root.read_link(Path::new(link)),
                Ok(fs::read_link(link).expect("std read_link")),
                "{link}"
            );
            assert!(
                root.symlink_metadata(Path::new(link))
                    .expect("lstat")
                    .file_type()
                    .is_symlink()
            );
        }
    }

    #[test]
    fn an_entry_is_what_metadata_resolve_and_symlink_metadata_say() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/kubernetes/pki/etcd")).expect("mkdir");
        fs::write(dir.path().join("etc/kubernetes/pki/ca.crt"), "cert").expect("write");
        fs::write(dir.path().join("etc/kubernetes/pki/etcd/ca.key"), "key").expect("write");
        symlink("/etc/kubernetes/pki", dir.path().join("pki")).expect("symlink");
        symlink("ca.crt", dir.path().join("etc/kubernetes/pki/link.crt")).expect("symlink");
        symlink("../../../../etc", dir.path().join("etc/kubernetes/up")).expect("symlink");
        symlink("nowhere", dir.path().join("etc/kubernetes/dangling")).expect("symlink");
        symlink("loop", dir.path().join("loop")).expect("symlink");
        for path in [
            "/",
            "/etc/kubernetes/pki",
            "/etc/kubernetes/pki/ca.crt",
            "/etc/kubernetes/pki/etcd/ca.key",
            "/etc/kubernetes/pki/link.crt",
            "/pki",
            "/pki/ca.crt",
            "/etc/kubernetes/up/kubernetes/pki/ca.crt",
            "/etc/kubernetes/dangling",
            "/loop",
            "/missing/file",
            "/etc/kubernetes/pki/ca.crt/below",
            "/etc/kubernetes/../kubernetes/pki/ca.crt",
        ] {
            let host_path = Path::new(path);
            let entry = root
                .entry(host_path)
                .map(|e| (e.metadata.ino(), e.metadata.mode(), e.real_path, e.is_link));
            let separate = root.metadata(host_path).map(|meta| {
                let is_link = root
                    .symlink_metadata(host_path)
                    .is_ok_and(|m| m.file_type().is_symlink());
                (
                    meta.ino(),
                    meta.mode(),
                    root.resolve(host_path).ok(),
                    is_link,
                )
            });
            assert_eq!(entry, separate, "{path}");
        }
        let link = root
            .entry(Path::new("/pki/ca.crt"))
            .expect("through a linked directory");
        assert_eq!(
            link.real_path,
            Some(dir.path().join("etc/kubernetes/pki/ca.crt"))
        );
        assert!(!link.is_link);
        assert!(
            root.entry(Path::new("/etc/kubernetes/pki/link.crt"))
                .expect("a linked file")
                .is_link
        );
    }

    #[test]
    fn openat2_metadata_links_and_listings_agree_with_the_component_walk() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/kubernetes/manifests")).expect("mkdir");
        fs::write(dir.path().join("etc/kubernetes/admin.conf"), "inside").expect("write");
        fs::write(dir.path().join("etc/kubernetes/manifests/b.yaml"), "").expect("write");
        fs::write(dir.path().join("etc/kubernetes/manifests/a.yaml"), "").expect("write");
        symlink("/etc/kubernetes", dir.path().join("abs")).expect("symlink");
        symlink("../../../../etc/kubernetes", dir.path().join("etc/rel")).expect("symlink");
        symlink("loop", dir.path().join("loop")).expect("symlink");
        symlink("missing/../kubernetes", dir.path().join("etc/lexical")).expect("symlink");
        let walk_metadata = |path: &str, follow: bool| {
            let real = if follow {
                root.resolve(Path::new(path))
            } else {
                root.resolve_no_follow(Path::new(path))
            }?;
            let meta = if follow {
                fs::metadata(real)
            } else {
                fs::symlink_metadata(real)
            };
            meta.map(|m| (m.ino(), m.mode())).map_err(ReadError::from)
        };
        for path in [
            "/etc/kubernetes",
            "/etc/kubernetes/admin.conf",
            "/abs",
            "/abs/manifests",
            "/etc/rel/admin.conf",
            "/etc/rel",
            "/loop",
            "/missing/file",
            "/etc/kubernetes/admin.conf/below",
            "/var/lib/../../etc/kubernetes/admin.conf",
        ] {
            for follow in [true, false] {
                let fast = if follow {
                    root.metadata(Path::new(path))
                } else {
                    root.symlink_metadata(Path::new(path))
                };
                assert_eq!(
                    fast.map(|m| (m.ino(), m.mode())),
                    walk_metadata(path, follow),
                    "{path} follow={follow}"
                );
            }
            let listed = root.read_dir_names(Path::new(path));
            let walked = root.resolve(Path::new(path)).and_then(|real| {
                let mut names: Vec<OsString> = fs::read_dir(real)?
                    .map(|entry| entry.map(|e| e.file_name()))
                    .collect::<Result<_, _>>()?;
                names.sort();
                Ok(names)
            });
            match walked {
                Ok(names) => assert_eq!(listed, Ok(names), "{path}"),
                Err(_) => assert!(listed.is_err(), "{path}: {listed:?}"),
            }
        }
        assert_eq!(
            root.read_dir_names(Path::new("/abs/manifests")),
            Ok(vec![OsString::from("a.yaml"), OsString::from("b.yaml")])
        );
        assert_eq!(
            root.read_link(Path::new("/etc/rel")),
            Ok(PathBuf::from("../../../../etc/kubernetes"))
        );
    }

    #[test]
    fn a_symlink_through_a_missing_directory_is_missing_as_the_kernel_says() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/kubernetes")).expect("mkdir");
        fs::write(dir.path().join("etc/kubernetes/admin.conf"), "inside").expect("write");
        symlink(
            "missing/../kubernetes/admin.conf",
            dir.path().join("etc/lexical"),
        )
        .expect("symlink");
        // What the component opening it gets: ENOENT, not the lexical `..` of a path walk.
        assert_eq!(
            fs::read(dir.path().join("etc/lexical")).map_err(ReadError::from),
            Err(ReadError::NotFound)
        );
        assert_eq!(
            root.read_to_string(Path::new("/etc/lexical")),
            Err(ReadError::NotFound)
        );
        assert!(root.metadata(Path::new("/etc/lexical")).is_err());
        assert!(root.symlink_metadata(Path::new("/etc/lexical")).is_ok());
    }

    #[test]
    fn links_read_relative_to_their_directory_agree_with_single_reads() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("proc/7/ns")).expect("mkdir");
        symlink("net:[4026531840]", dir.path().join("proc/7/ns/net")).expect("symlink");
        symlink("/etc/passwd", dir.path().join("proc/7/ns/pid")).expect("symlink");
        let names = ["net", "pid", "ipc", "../7/ns/net"];
        let together = root.read_links_in(Path::new("/proc/7/ns"), &names);
        let single: Vec<_> = names
            .iter()
            .map(|name| root.read_link(&Path::new("/proc/7/ns").join(name)))
            .collect();
        assert_eq!(together, single);
        assert_eq!(together[0], Ok(PathBuf::from("net:[4026531840]")));
        assert_eq!(together[2], Err(ReadError::NotFound));
        assert_eq!(
            root.read_links_in(Path::new("/proc/8/ns"), &["net"]),
            vec![Err(ReadError::NotFound)]
        );
    }

    #[test]
    fn reads_end_where_the_file_does_at_every_size_and_cap() {
        let (dir, root) = fixture();
        for size in [0usize, 1, 100, 4095, 4096, 4097, 8192, 10_000] {
            let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            fs::write(dir.path().join("f"), &content).expect("write");
            for cap in [1u64, 4096, 4097, 10_000, DEFAULT_READ_CAP] {
                let read = root.read_capped(Path::new("/f"), cap);
                if size as u64 > cap {
                    assert_eq!(read, Err(ReadError::TooLarge { cap }), "{size} {cap}");
                } else {
                    assert_eq!(read.as_deref(), Ok(&content[..]), "{size} {cap}");
                }
            }
        }
        // procfs says 0 bytes and sysfs a page: both are read to their real end.
        let live = HostRoot::new("/").expect("root");
        let mountinfo = live
            .read_capped(Path::new("/proc/self/mountinfo"), DEFAULT_READ_CAP)
            .expect("mountinfo");
        assert!(mountinfo.ends_with(b"\n") && mountinfo.len() > 100);
        // sysfs says 4096 whatever the attribute holds (`0-1\n`): read to its real end too.
        for file in [
            "/proc/sys/kernel/osrelease",
            "/sys/devices/system/cpu/online",
        ] {
            assert_eq!(
                live.read_capped(Path::new(file), 4096).expect(file),
                fs::read(file).expect("std read"),
                "{file}"
            );
        }
    }

    #[test]
    fn the_live_proc_pid_root_is_the_kernels_link_a_fixtures_is_data() {
        let outside = tempfile::tempdir().expect("outside");
        fs::write(outside.path().join("secret"), "outside").expect("write");
        let inside_process = Path::new("/proc")
            .join(std::process::id().to_string())
            .join("root")
            .join(outside.path().strip_prefix("/").expect("absolute"))
            .join("secret");
        let live = HostRoot::new("/").expect("root");
        assert_eq!(
            live.read_in_process_root(&inside_process, 100),
            Ok(b"outside".to_vec())
        );
        let (dir, root) = fixture();
        let pid_dir = dir.path().join("proc").join(std::process::id().to_string());
        fs::create_dir_all(&pid_dir).expect("mkdir");
        symlink("/", pid_dir.join("root")).expect("symlink");
        assert_eq!(
            root.read_in_process_root(&inside_process, 100),
            Err(ReadError::NotFound)
        );
    }

    #[test]
    fn plain_resolution_agrees_with_the_component_walk() {
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("etc/kubernetes/pki")).expect("mkdir");
        fs::write(dir.path().join("etc/kubernetes/pki/ca.crt"), "x").expect("write");
        symlink("/etc/kubernetes", dir.path().join("abs")).expect("symlink");
        symlink("pki/ca.crt", dir.path().join("etc/kubernetes/ca")).expect("symlink");
        symlink("loop", dir.path().join("loop")).expect("symlink");
        let walk_only = HostRoot {
            prefix: root.prefix.clone(),
            dir: None,
            procfs: Arc::default(),
        };
        for path in [
            "/",
            "/etc/kubernetes/pki/ca.crt",
            "etc/kubernetes/pki",
            "/abs/pki/ca.crt",
            "/etc/kubernetes/ca",
            "/abs",
            "/loop",
            "/missing/file",
            "/etc/kubernetes/pki/ca.crt/below",
            "/etc/./kubernetes//pki",
            "/var/../etc/kubernetes/ca",
        ] {
            assert_eq!(
                root.resolve(Path::new(path)),
                walk_only.resolve(Path::new(path)),
                "{path}"
            );
            assert_eq!(
                root.resolve_no_follow(Path::new(path)),
                walk_only.resolve_no_follow(Path::new(path)),
                "{path} (no follow)"
            );
        }
        assert_eq!(
            root.resolve_no_follow(Path::new("/etc/kubernetes/ca")),
            Ok(dir.path().join("etc/kubernetes/ca"))
        );
        assert_eq!(
            root.resolve(Path::new("/etc/kubernetes/ca")),
            Ok(dir.path().join("etc/kubernetes/pki/ca.crt"))
        );
    }

    #[test]
    fn a_listing_larger_than_one_getdents_buffer_is_complete() {
        let (dir, root) = fixture();
        fs::create_dir(dir.path().join("many")).expect("mkdir");
        let mut expected: Vec<OsString> = (0..3000)
            .map(|i| OsString::from(format!("entry-with-a-longer-name-{i:05}")))
            .collect();
        for name in &expected {
            fs::write(dir.path().join("many").join(name), "").expect("write");
        }
        expected.sort();
        assert_eq!(root.read_dir_names(Path::new("/many")), Ok(expected));
    }

    #[test]
    fn procfs_reads_without_fstat_agree_with_the_general_path() {
        let live = HostRoot::new("/").expect("root");
        let general = HostRoot {
            procfs: Arc::new(OnceLock::from(None)),
            ..live.clone()
        };
        let pid = std::process::id();
        for file in [
            format!("/proc/{pid}/status"),
            format!("/proc/{pid}/cmdline"),
            format!("/proc/{pid}/mountinfo"),
            format!("/proc/{pid}/ns"),
            format!("/proc/{pid}/exe"),
            format!("/proc/{pid}/no-such-file"),
            "/proc/999999999/cmdline".to_string(),
            "/proc/sys/kernel/osrelease".to_string(),
            "/proc/self/status".to_string(),
            format!("/proc/{pid}/../{pid}/status"),
        ] {
            let fast = live.read_capped(Path::new(&file), DEFAULT_READ_CAP);
            let slow = general.read_capped(Path::new(&file), DEFAULT_READ_CAP);
            match file.rsplit('/').next() {
                // Changes between two reads: the same kind of answer is enough.
                Some("status") | Some("mountinfo") => {
                    assert_eq!(fast.is_ok(), slow.is_ok(), "{file}: {fast:?} {slow:?}")
                }
                _ => assert_eq!(fast, slow, "{file}"),
            }
        }
        assert!(
            live.procfs.get().is_some_and(Option::is_some),
            "the live /proc is procfs"
        );
        for link in [
            format!("/proc/{pid}/exe"),
            format!("/proc/{pid}/cwd"),
            format!("/proc/{pid}/status"),
            format!("/proc/{pid}/no-such-link"),
            "/proc/999999999/exe".to_string(),
            format!("/proc/{pid}/ns/net"),
            "/proc/self/exe".to_string(),
        ] {
            assert_eq!(
                live.read_link(Path::new(&link)),
                general.read_link(Path::new(&link)),
                "{link}"
            );
        }
        assert_eq!(
            live.read_link(Path::new(&format!("/proc/{pid}/exe"))),
            Ok(fs::read_link("/proc/self/exe").expect("std read_link"))
        );
        assert_eq!(
            live.read_capped(Path::new(&format!("/proc/{pid}/ns")), 100),
            Err(ReadError::IsDirectory)
        );
        assert_eq!(
            live.read_capped(Path::new(&format!("/proc/{pid}/mountinfo")), 10),
            Err(ReadError::TooLarge { cap: 10 })
        );
        // A fixture's `proc` is plain files: read the general way (its FIFO refused).
        let (dir, root) = fixture();
        fs::create_dir_all(dir.path().join("proc/7")).expect("mkdir");
        nix::unistd::mkfifo(
            &dir.path().join("proc/7/cmdline"),
            nix::sys::stat::Mode::S_IRWXU,
        )
        .expect("mkfifo");
        assert_eq!(
            root.read_capped(Path::new("/proc/7/cmdline"), 100),
            Err(ReadError::NotRegularFile("FIFO"))
        );
        assert!(root.procfs.get().is_some_and(Option::is_none));
    }

    #[test]
    fn directory_and_missing_file_are_named() {
        let (dir, root) = fixture();
        fs::create_dir(dir.path().join("d")).expect("mkdir");
        assert_eq!(
            root.read_to_string(Path::new("/d")),
            Err(ReadError::IsDirectory)
        );
        assert_eq!(
            root.read_to_string(Path::new("/nope/x")),
            Err(ReadError::NotFound)
        );
    }
}
