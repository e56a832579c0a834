//! The library's error type and its mapping to the exit codes fixed in DESIGN.md.

use std::path::PathBuf;

/// Exit code: no `fail` (or a remedy command is done).
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one `fail` (or `--fail-on` matched); remedy verification failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: runtime error (root unreadable, external tool failed, not root).
pub const EXIT_RUNTIME: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad flag value or combination.
    #[error("{0}")]
    Usage(String),
    /// A site config or benchmark file that cannot be used.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// The host root itself cannot be used.
    #[error("host root {path}: {message}")]
    Root { path: PathBuf, message: String },
    /// A remedy (firewall, profiles, file modes) refused or failed.
    #[error(transparent)]
    Remedy(#[from] crate::remedy::RemedyError),
    /// Writing the report failed.
    #[error("cannot write {what}: {source}")]
    Output {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config { .. } => EXIT_USAGE,
            Error::Root { .. } | Error::Output { .. } => EXIT_RUNTIME,
            Error::Remedy(error) => error.exit_code(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
