//! The kernel's build configuration: which options (`CONFIG_SECCOMP`, …) it was built with.
//!
//! Sources, in the order distributions make them available: `/boot/config-<release>` (Debian,
//! Ubuntu, RHEL), `/proc/config.gz` (`CONFIG_IKCONFIG_PROC`, common on cloud and custom kernels),
//! `/lib/modules/<release>/config` (Arch, Fedora). A source that exists but is not a kernel config
//! (a directory, binary, empty, over the cap) is passed over and recorded, never trusted.

pub use crate::procstatus::status_field;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::facts::{KernelFacts, Needs, Observed, TriedSource};
use super::root::{DEFAULT_READ_CAP, HostRoot, ReadError};

/// A decompressed kernel config larger than this is refused (real ones are ~250 KiB).
const DECOMPRESSED_CAP: u64 = 8 * 1024 * 1024;

/// The candidate config paths for a kernel release, in order.
pub fn config_sources(release: Option<&str>) -> Vec<PathBuf> {
    let mut sources = Vec::new();
    if let Some(release) = release {
        sources.push(PathBuf::from(format!("/boot/config-{release}")));
    }
    sources.push(PathBuf::from("/proc/config.gz"));
    if let Some(release) = release {
        sources.push(PathBuf::from(format!("/lib/modules/{release}/config")));
    }
    sources
}

pub fn gather(root: &HostRoot, release: &Observed<String>, needs: &Needs) -> KernelFacts {
    let release = release
        .value()
        .map(String::as_str)
        .filter(|r| !r.is_empty());
    let mut tried = Vec::new();
    if release.is_none() {
        tried.push(TriedSource {
            path: "/proc/sys/kernel/osrelease".into(),
            outcome: "kernel release unknown: the release-specific config paths were not tried"
                .into(),
        });
    }
    let mut config = None;
    for path in config_sources(release) {
        match read_config(root, &path, &needs.kernel_options) {
            Ok(options) => {
                config = Some((path, options));
                break;
            }
            Err(outcome) => tried.push(TriedSource { path, outcome }),
        }
    }
    let (config_source, options) = match config {
        Some((path, all)) => {
            let wanted = needs
                .kernel_options
                .iter()
                .map(|option| (option.clone(), all.get(option).cloned()))
                .collect();
            (Some(path), wanted)
        }
        None => (None, BTreeMap::new()),
    };
    let status_fields = if needs.status_fields.is_empty() {
        BTreeMap::new()
    } else {
        read_status_fields(root, needs)
    };
    KernelFacts {
        config_source,
        options,
        tried,
        status_fields,
    }
}

fn read_config(
    root: &HostRoot,
    path: &Path,
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, String> {
    let bytes = root
        .read_capped(path, DEFAULT_READ_CAP)
        .map_err(|error| error.to_string())?;
    let text = if path.extension().is_some_and(|ext| ext == "gz") {
        gunzip_capped(&bytes, DECOMPRESSED_CAP)?
    } else {
        bytes
    };
    parse_kernel_options(&text, |option| wanted.contains(option))
}

fn gunzip_capped(bytes: &[u8], cap: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|error| format!("not a readable gzip file: {error}"))?;
    if out.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap }.to_string() + " once decompressed");
    }
    Ok(out)
}

/// Parses kernel config text: `CONFIG_X=y|m|"string"|123` lines set an option, `# CONFIG_X is not
/// set` lines and absent options are unset. Text with no `CONFIG_` line at all is not a config.
pub fn parse_kernel_config(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    parse_kernel_options(bytes, |_| true)
}

/// Like [`parse_kernel_config`], keeping only the options `keep` accepts: a config has thousands
/// of options and the rules ask for a handful, so only those are copied out.
pub fn parse_kernel_options(
    bytes: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>, String> {
    if bytes.is_empty() {
        return Err("is empty".into());
    }
    if bytes.contains(&0) {
        return Err("is binary, not a kernel config".into());
    }
    let mut options = BTreeMap::new();
    let mut recognised = false;
    let mut line_of = |line: &[u8]| {
        let line = line.trim_ascii();
        if let Some(rest) = line.strip_prefix(b"CONFIG_") {
            let Some(equals) = rest.iter().position(|&byte| byte == b'=') else {
                return;
            };
            recognised = true;
            let key_length = "CONFIG_".len() + equals;
            let (key, value) = line.split_at(key_length);
            let key = String::from_utf8_lossy(key);
            if keep(&key) {
                let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());
                options.insert(key.into_owned(), value.trim_matches('"').to_string());
            }
        } else if !recognised && line.starts_with(b"# CONFIG_") && line.ends_with(b" is not set") {
            recognised = true;
        }
    };
    // A config is text: its lines are found with `memchr` (`str::split`); bytes that are not
    // UTF-8 are split byte by byte, to the same lines.
    match std::str::from_utf8(bytes) {
        Ok(text) => text.split('\n').for_each(|line| line_of(line.as_bytes())),
        Err(_) => bytes.split(|&byte| byte == b'\n').for_each(line_of),
    }
    if !recognised {
        return Err("has no CONFIG_ lines: not a kernel config".into());
    }
    Ok(options)
}

fn read_status_fields(root: &HostRoot, needs: &Needs) -> BTreeMap<String, Observed<String>> {
    let path = Path::new("/proc/1/status");
    let status = root.read_to_string(path);
    needs
        .status_fields
        .iter()
        .map(|field| {
            let observed = match &status {
                Ok(text) => match status_field(text, field) {
                    Some(value) => Observed::Value {
                        path: path.to_path_buf(),
                        value,
                    },
                    None => Observed::Absent {
                        path: path.to_path_buf(),
                    },
                },
                // A missing status file says nothing about the kernel (no /proc mounted); only a
                // missing field in a status file that exists does.
                Err(error) => Observed::Unreadable {
                    path: path.to_path_buf(),
                    error: error.to_string(),
                },
            };
            (field.clone(), observed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_unset_options() {
        let options = parse_kernel_config(
            b"#\n# Automatically generated file\nCONFIG_SECCOMP=y\n# CONFIG_SECCOMP_FILTER is not set\nCONFIG_LOCALVERSION=\"-generic\"\nCONFIG_X=m\n",
        )
        .expect("config");
        assert_eq!(options.get("CONFIG_SECCOMP").map(String::as_str), Some("y"));
        assert_eq!(options.get("CONFIG_SECCOMP_FILTER"), None);
        assert_eq!(
            options.get("CONFIG_LOCALVERSION").map(String::as_str),
            Some("-generic")
        );
        assert_eq!(options.get("CONFIG_X").map(String::as_str), Some("m"));
    }

    #[test]
    fn only_the_wanted_options_are_kept() {
        let options = parse_kernel_options(
            b"CONFIG_SECCOMP=y\r\nCONFIG_X=m\n# CONFIG_SECCOMP_FILTER is not set\n",
            |option| option.starts_with("CONFIG_SECCOMP"),
        )
        .expect("config");
        assert_eq!(
            options.into_iter().collect::<Vec<_>>(),
            vec![("CONFIG_SECCOMP".to_string(), "y".to_string())]
        );
    }

    #[test]
    fn a_config_with_bytes_that_are_not_utf8_gives_the_same_lines() {
        let text = b"CONFIG_A=\"x\"\n  CONFIG_B=m  \n# CONFIG_C is not set\nCONFIG_A=y\n";
        let mut broken = text.to_vec();
        broken.extend_from_slice(b"CONFIG_LOCALVERSION=\"\xff\xfe\"\n");
        let valid = parse_kernel_config(text).expect("utf-8 config");
        let mut other = parse_kernel_config(&broken).expect("non-utf-8 config");
        assert_eq!(
            other.remove("CONFIG_LOCALVERSION").as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
        assert_eq!(valid, other);
        assert_eq!(valid.get("CONFIG_A").map(String::as_str), Some("y"));
        assert_eq!(valid.get("CONFIG_B").map(String::as_str), Some("m"));
        assert_eq!(
            parse_kernel_config(b"# CONFIG_C is not set\n"),
            Ok(BTreeMap::new())
        );
    }

    #[test]
    fn empty_binary_and_foreign_text_are_not_configs() {
        assert_eq!(parse_kernel_config(b""), Err("is empty".into()));
        assert!(
            parse_kernel_config(b"\x7fELF\x00\x01")
                .expect_err("binary")
                .contains("binary")
        );
        assert!(
            parse_kernel_config(b"hello\nworld\n")
                .expect_err("text")
                .contains("no CONFIG_")
        );
    }

    #[test]
    fn sources_in_order() {
        let sources = config_sources(Some("5.15.0-105-generic"));
        assert_eq!(
            sources,
            [
                PathBuf::from("/boot/config-5.15.0-105-generic"),
                PathBuf::from("/proc/config.gz"),
                PathBuf::from("/lib/modules/5.15.0-105-generic/config"),
            ]
        );
        assert_eq!(config_sources(None), [PathBuf::from("/proc/config.gz")]);
    }

    #[test]
    fn gzip_bombs_are_capped() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![b'#'; 100_000]).expect("compress");
        let compressed = encoder.finish().expect("finish");
        assert!(
            gunzip_capped(&compressed, 1000)
                .expect_err("capped")
                .contains("cap")
        );
        assert!(
            gunzip_capped(b"not gzip", 1000)
                .expect_err("bad")
                .contains("gzip")
        );
    }

    #[test]
    fn status_fields_are_exact() {
        let text = "Name:\tsystemd\nSeccomp:\t0\nSeccomp_filters:\t0\n";
        assert_eq!(status_field(text, "Seccomp").as_deref(), Some("0"));
        assert_eq!(status_field(text, "Seccomp_filters").as_deref(), Some("0"));
        assert_eq!(status_field(text, "NoNewPrivs"), None);
    }
}
