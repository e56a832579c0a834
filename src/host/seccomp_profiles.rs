//! The seccomp profiles the kubelet can hand to pods: every `*.json` under its seccomp root
//! (`/var/lib/kubelet/seccomp`), each read and validated. The walk does not follow symlinked
//! directories (a loop must not hang a check) and is bounded in depth and count.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::facts::{Observed, ProfileFile, ProfileVerdict, SeccompProfileFacts, SeccompRequest};
use super::root::{DEFAULT_READ_CAP, HostRoot, ReadError};

const MAX_DEPTH: usize = 16;
const MAX_FILES: usize = 10_000;

pub fn gather(root: &HostRoot, request: &SeccompRequest) -> SeccompProfileFacts {
    let listing = match root.read_dir_names(&request.dir) {
        Ok(_) => {
            let mut files = Vec::new();
            walk(root, &request.dir, Path::new(""), 0, &mut files);
            Observed::Value {
                path: request.dir.clone(),
                value: files,
            }
        }
        Err(error) => Observed::from_error(&request.dir, error),
    };
    let required = request
        .required
        .iter()
        .map(|name| read_profile(root, &request.dir, Path::new(name)))
        .collect();
    SeccompProfileFacts {
        dir: request.dir.clone(),
        listing,
        required,
    }
}

fn walk(root: &HostRoot, base: &Path, relative: &Path, depth: usize, files: &mut Vec<ProfileFile>) {
    let dir = base.join(relative);
    let names: Vec<OsString> = match root.read_dir_names(&dir) {
        Ok(names) => names,
        Err(error) => {
            files.push(ProfileFile {
                path: dir.clone(),
                name: relative.display().to_string(),
                verdict: ProfileVerdict::Unreadable {
                    error: format!("directory cannot be listed: {error}"),
                },
            });
            return;
        }
    };
    for name in names {
        if files.len() >= MAX_FILES {
            // A cap that is hit is said, once: the rule is `error`, never a pass over the part
            // that was read.
            if files.len() == MAX_FILES {
                files.push(cap_hit(
                    base,
                    relative,
                    format!(
                        "more than {MAX_FILES} files under {}: the rest was not read (file cap)",
                        base.display()
                    ),
                ));
            }
            return;
        }
        let child = relative.join(&name);
        let host_path = base.join(&child);
        // A `*.json` that is a directory, FIFO or dangling link is reported, not walked past:
        // a pod naming it would fail to start.
        if Path::new(&name)
            .extension()
            .is_some_and(|ext| ext == "json")
        {
            files.push(read_profile(root, base, &child));
        } else if root
            .symlink_metadata(&host_path)
            .is_ok_and(|meta| meta.is_dir())
        {
            if depth < MAX_DEPTH {
                walk(root, base, &child, depth + 1, files);
            } else {
                files.push(cap_hit(
                    base,
                    &child,
                    format!("directory deeper than {MAX_DEPTH} levels: not read (depth cap)"),
                ));
            }
        }
    }
}

/// The entry standing for what a cap left unread.
fn cap_hit(base: &Path, relative: &Path, error: String) -> ProfileFile {
    ProfileFile {
        path: base.join(relative),
        name: relative.display().to_string(),
        verdict: ProfileVerdict::Unreadable { error },
    }
}

pub fn read_profile(root: &HostRoot, base: &Path, relative: &Path) -> ProfileFile {
    let path: PathBuf = base.join(relative);
    let verdict = match root.read_capped(&path, DEFAULT_READ_CAP) {
        Ok(bytes) => match crate::seccomp::validate(&bytes) {
            Ok(summary) => ProfileVerdict::Valid { summary },
            Err(problems) => ProfileVerdict::Invalid { problems },
        },
        Err(ReadError::NotFound) => ProfileVerdict::Missing,
        // Only a read hardnode itself was refused leaves the verdict open; a directory, a FIFO
        // or a symlink loop is a broken profile whoever reads it.
        Err(error @ (ReadError::PermissionDenied | ReadError::Other(_))) => {
            ProfileVerdict::Unreadable {
                error: error.to_string(),
            }
        }
        Err(error) => ProfileVerdict::Invalid {
            problems: vec![crate::seccomp::Problem {
                path: "$".into(),
                message: error.to_string(),
            }],
        },
    };
    ProfileFile {
        path,
        name: relative.display().to_string(),
        verdict,
    }
}
