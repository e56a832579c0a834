//! The one netfilter write: `iptables-restore --noflush` of an explicit backend, through the
//! runner of [`crate::netfilter`] (absolute path, argument list, clean environment, typed exit
//! codes).

use crate::netfilter::{Backend, Family, NetfilterError, lock_wait, require, run};

/// Applies `script` (iptables-save format) in one transaction with `--noflush`: either all of it
/// takes effect or none of it does.
pub fn restore(family: Family, backend: Backend, script: &str) -> Result<(), NetfilterError> {
    let path = require(family, backend, true)?;
    let wait = lock_wait();
    let args = ["-w", wait.as_str(), "--noflush"].map(String::from);
    run(&path, &args, Some(script)).map(|_| ())
}
