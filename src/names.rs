//! The names hardnode gives its own files on the host, in one place so the readers can recognise
//! them (a backup in a profile directory is not a profile) without depending on the writers.

/// The previous version of a file a remedy replaced is kept as `<name>.hardnode-bak`.
pub const BACKUP_SUFFIX: &str = ".hardnode-bak";
