//! Which containerd runs, known without executing anything on the node: the Debian/Ubuntu
//! package database (`/var/lib/dpkg/status`) names the installed `containerd` or `containerd.io`
//! package and its version, and the package's file list (`/var/lib/dpkg/info/<pkg>.list`) must
//! own the binary that runs — a containerd bundled elsewhere (RKE2's, k3s's, a tarball in
//! `/usr/local/bin`) is not the package's, and then the version is unknown and the reader says
//! which semantics it assumed.
//!
//! The major version matters: containerd 1.x and 2.x read the same config file differently
//! (version 3 plugin names, short plugin keys, how imports merge, defaults).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::host::root::HostRoot;

pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
const DPKG_INFO: &str = "/var/lib/dpkg/info";
/// A large node's dpkg status is a few MiB; past this it is not read (the version is unknown).
const DPKG_STATUS_CAP: u64 = 64 * 1024 * 1024;
/// The packages that install containerd on Debian and Ubuntu (Debian's, Docker's).
const PACKAGES: &[&str] = &["containerd", "containerd.io"];

/// The containerd version and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaemonVersion {
    /// As the package database spells it (`1.6.20~ds1-1+deb12u3`).
    pub version: String,
    pub major: u32,
    /// `dpkg package containerd (owns /usr/bin/containerd)`.
    pub from: String,
}

/// The installed containerd package whose files include `binary` (the running daemon's
/// `argv[0]`, or `/usr/bin/containerd` when none runs), or why none could be named.
pub fn containerd(root: &HostRoot, binary: Option<&str>) -> Result<DaemonVersion, String> {
    let binary = binary_path(binary);
    let status = root
        .read_capped(Path::new(DPKG_STATUS), DPKG_STATUS_CAP)
        .map_err(|error| format!("{DPKG_STATUS} {error}"))?;
    let status = String::from_utf8_lossy(&status);
    for (package, version) in installed(&status) {
        if !PACKAGES.contains(&package.as_str()) {
            continue;
        }
        let list = PathBuf::from(format!("{DPKG_INFO}/{package}.list"));
        let owns = root
            .read_to_string(&list)
            .is_ok_and(|text| text.lines().any(|line| Path::new(line) == binary));
        if !owns {
            continue;
        }
        let Some(major) = major_of(&version) else {
            continue;
        };
        return Ok(DaemonVersion {
            from: format!(
                "dpkg package {package} {version} (owns {})",
                binary.display()
            ),
            version,
            major,
        });
    }
    Err(format!(
        "no installed containerd package in {DPKG_STATUS} owns {}",
        binary.display()
    ))
}

/// The absolute path of the daemon binary: `argv[0]` when absolute, else where the packages
/// install it.
fn binary_path(argv0: Option<&str>) -> PathBuf {
    match argv0 {
        Some(path) if path.starts_with('/') => PathBuf::from(path),
        _ => PathBuf::from("/usr/bin/containerd"),
    }
}

/// `(package, version)` of every stanza whose status is `install ok installed`.
fn installed(status: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for stanza in status.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|value| value.trim().to_string())
            })
        };
        let (Some(package), Some(state), Some(version)) =
            (field("Package"), field("Status"), field("Version"))
        else {
            continue;
        };
        if state.ends_with(" installed") {
            found.push((package, version));
        }
    }
    found
}

/// The upstream major version of a Debian version string (`1:2.0.4-1` -> 2, `1.6.20~ds1-1` -> 1).
fn major_of(version: &str) -> Option<u32> {
    let upstream = version.split_once(':').map_or(version, |(_, rest)| rest);
    let digits: String = upstream.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n\n\
Package: containerd\nStatus: install ok installed\nPriority: optional\nVersion: 1.6.20~ds1-1+deb12u3\n\n\
Package: containerd.io\nStatus: deinstall ok config-files\nVersion: 1.7.24-1\n";

    #[test]
    fn installed_packages_and_their_versions() {
        let packages = installed(STATUS);
        assert!(packages.contains(&("containerd".into(), "1.6.20~ds1-1+deb12u3".into())));
        // Removed with its config files kept: not installed.
        assert!(!packages.iter().any(|(name, _)| name == "containerd.io"));
    }

    #[test]
    fn major_versions_with_epochs_and_suffixes() {
        assert_eq!(major_of("1.6.20~ds1-1+deb12u3"), Some(1));
        assert_eq!(major_of("2.0.4-1"), Some(2));
        assert_eq!(major_of("1:2.1.0-1ubuntu1"), Some(2));
        assert_eq!(major_of("git20240101"), None);
    }
}
