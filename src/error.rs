//! The exit codes fixed in DESIGN.md, and the error every layer that reads the user's own input
//! (rule files, the site config, pod rules, `--only`) returns. The command line's error, which
//! adds the host root, the remedies and the output, is `cli::Error`.

use std::path::PathBuf;

/// Exit code: no `fail` (or a remedy command is done).
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one `fail` (or `--fail-on` matched); remedy verification failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: runtime error (root unreadable, external tool failed, not root).
pub const EXIT_RUNTIME: u8 = 3;

/// Input the user handed over that cannot be used: exit 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A bad flag value or combination.
    #[error("{0}")]
    Usage(String),
    /// A site config or benchmark file that cannot be used.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
}
