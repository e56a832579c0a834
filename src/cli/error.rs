//! The command line's error: every layer's error, converted here at the edge, and its exit code.

use std::path::PathBuf;

use crate::error::{EXIT_RUNTIME, EXIT_USAGE, InputError};
use crate::remedy::RemedyError;

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
    Remedy(#[from] RemedyError),
    /// Writing the report failed.
    #[error("cannot write {what}: {source}")]
    Output {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<InputError> for Error {
    fn from(error: InputError) -> Self {
        match error {
            InputError::Usage(message) => Error::Usage(message),
            InputError::Config { path, message } => Error::Config { path, message },
        }
    }
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
