//! Running `iptables`/`ip6tables` (and their `-restore`) of an explicit backend, legacy or nft,
//! by absolute path, with argument lists (no shell) and a clean environment, and mapping their
//! exit codes to typed errors.
//!
//! Why not the `iptables` crate (0.6): its `exists()` answers `false` for every failure (a bad
//! rule, a missing chain, a lock timeout all read as "absent"), `insert_unique` errors when the
//! rule exists, it runs whatever `iptables` is first on `PATH` (no legacy/nft choice — on a node
//! whose kube-proxy uses the other backend the rules land in the wrong tables), it has no
//! `iptables-restore` for atomic changes, and its errors are `Box<dyn Error>`, not `Send + Sync`.
//!
//! Nothing here changes the kernel: [`list`] (`iptables -S`) is read-only, used by `firewall
//! status` and by the `firewall.apiserver-blocked` check (through `host::firewall`), because the
//! kernel's netfilter state has no file to read through `HostRoot`. The one write,
//! `iptables-restore`, is `remedy::netfilter::restore`, built on [`run`] and [`require`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::{Deserialize, Serialize};

/// Seconds an iptables command waits for the xtables lock before giving up (exit 4).
const LOCK_WAIT_SECONDS: u32 = 10;
/// Overrides [`LOCK_WAIT_SECONDS`] (whole seconds, 1..=300): how long to wait for another
/// program holding the xtables lock before the command fails and says so.
pub const LOCK_WAIT_ENV: &str = "HARDNODE_XTABLES_WAIT";

/// The `-w` argument: [`LOCK_WAIT_SECONDS`], or [`LOCK_WAIT_ENV`] when set to a valid value.
pub fn lock_wait() -> String {
    std::env::var(LOCK_WAIT_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .filter(|seconds| (1..=300).contains(seconds))
        .unwrap_or(LOCK_WAIT_SECONDS)
        .to_string()
}

/// The two iptables backends a node may use; kube-proxy and hardnode must use the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Legacy,
    Nft,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Nft, Backend::Legacy];

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Legacy => "legacy",
            Backend::Nft => "nft",
        }
    }
}

/// IPv4 rules go to `iptables`, IPv6 rules to `ip6tables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Ipv4, Family::Ipv6];

    pub fn command(self) -> &'static str {
        match self {
            Family::Ipv4 => "iptables",
            Family::Ipv6 => "ip6tables",
        }
    }
}

/// Where distributions install the multi-call binaries; the first that exists is used.
const SBIN_DIRS: &[&str] = &["/usr/sbin", "/sbin"];

/// The absolute path of `iptables-nft`, `ip6tables-legacy-restore`, …, if installed.
pub fn binary(family: Family, backend: Backend, restore: bool) -> Option<PathBuf> {
    let name = binary_name(family, backend, restore);
    SBIN_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(&name))
        .find(|path| path.is_file())
}

pub fn binary_name(family: Family, backend: Backend, restore: bool) -> String {
    let suffix = if restore { "-restore" } else { "" };
    format!("{}-{}{suffix}", family.command(), backend.as_str())
}

/// Whether this backend's binaries are installed for both families' reads and writes.
pub fn available(backend: Backend) -> bool {
    binary(Family::Ipv4, backend, false).is_some()
}

/// Whether this backend's binary is installed and its kernel tables can be listed without
/// loading a module: for legacy, `/proc/net/ip_tables_names` (`ip6_tables_names`) exists only
/// once `ip_tables` is loaded, and listing would load it — a read must not change the host.
/// nf_tables is always listed (it is built in or loaded on every distribution using it).
pub fn tables_loaded(family: Family, backend: Backend) -> bool {
    if binary(family, backend, false).is_none() {
        return false;
    }
    let names = match family {
        Family::Ipv4 => "/proc/net/ip_tables_names",
        Family::Ipv6 => "/proc/net/ip6_tables_names",
    };
    // Always the live namespace's tables (the ones iptables would list), whatever `--root` is.
    backend == Backend::Nft || Path::new(names).exists()
}

#[derive(Debug, thiserror::Error)]
pub enum NetfilterError {
    #[error(
        "{binary} is not installed (looked in /usr/sbin and /sbin); install the iptables package"
    )]
    NotInstalled { binary: String },
    #[error("`{command}`: a rule, chain or target does not exist: {message}")]
    Absent { command: String, message: String },
    #[error("`{command}`: bad parameters: {message}")]
    BadParameters { command: String, message: String },
    #[error(
        "`{command}`: resource problem (no permission, the xtables lock held too long, or out of memory): {message}"
    )]
    Resource { command: String, message: String },
    #[error("`{command}` exited with {code}: {message}")]
    Failed {
        command: String,
        code: i32,
        message: String,
    },
    #[error("`{command}` was killed by a signal")]
    Killed { command: String },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs one binary with `args` (and `stdin` text), returning stdout on exit 0.
pub fn run(path: &Path, args: &[String], stdin: Option<&str>) -> Result<String, NetfilterError> {
    let command_text = format!("{} {}", path.display(), args.join(" "));
    let mut command = crate::command::clean(path);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_error = |source| NetfilterError::Spawn {
        command: command_text.clone(),
        source,
    };
    let mut child = command.spawn().map_err(spawn_error)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(spawn_error)?;
    }
    let output = child.wait_with_output().map_err(spawn_error)?;
    let message = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.starts_with("Try `") && !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let command = command_text;
    match output.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        Some(1) => Err(NetfilterError::Absent { command, message }),
        Some(2) => Err(NetfilterError::BadParameters { command, message }),
        Some(4) => Err(NetfilterError::Resource { command, message }),
        Some(code) => Err(NetfilterError::Failed {
            command,
            code,
            message,
        }),
        None => Err(NetfilterError::Killed { command }),
    }
}

pub fn require(family: Family, backend: Backend, restore: bool) -> Result<PathBuf, NetfilterError> {
    binary(family, backend, restore).ok_or_else(|| NetfilterError::NotInstalled {
        binary: binary_name(family, backend, restore),
    })
}

/// `iptables -S` of one table: every chain declaration and rule, in kernel order. Read-only.
/// Comment lines (`# Warning: iptables-legacy tables present`) are dropped.
pub fn list(family: Family, backend: Backend, table: &str) -> Result<Vec<String>, NetfilterError> {
    let path = require(family, backend, false)?;
    let wait = lock_wait();
    let args = ["-w", wait.as_str(), "-t", table, "-S"].map(String::from);
    let stdout = run(&path, &args, None)?;
    Ok(stdout
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Splits one `iptables -S` line into its arguments. iptables quotes an argument containing
/// spaces with double quotes and escapes `"` and `\` inside it with a backslash.
pub fn split_rule(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// Quotes one argument for an iptables-restore script line (the same quoting `-S` uses).
pub fn quote_restore(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
        return word.to_string();
    }
    let escaped = word.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_comments() {
        let line =
            r#"-A OUTPUT -m comment --comment "hardnode: block \"x\"" -j HARDNODE-APISERVER"#;
        assert_eq!(
            split_rule(line),
            [
                "-A",
                "OUTPUT",
                "-m",
                "comment",
                "--comment",
                "hardnode: block \"x\"",
                "-j",
                "HARDNODE-APISERVER"
            ]
        );
        assert_eq!(
            split_rule("  -P INPUT   ACCEPT "),
            ["-P", "INPUT", "ACCEPT"]
        );
    }

    #[test]
    fn restore_quoting_round_trips() {
        for word in ["plain", "with space", "q\"uote", "back\\slash", ""] {
            let line = format!("-A X {}", quote_restore(word));
            assert_eq!(split_rule(&line)[2], word);
        }
    }

    #[test]
    fn binary_names() {
        assert_eq!(
            binary_name(Family::Ipv6, Backend::Legacy, true),
            "ip6tables-legacy-restore"
        );
        assert_eq!(
            binary_name(Family::Ipv4, Backend::Nft, false),
            "iptables-nft"
        );
    }
}
