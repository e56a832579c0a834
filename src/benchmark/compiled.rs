//! The embedded rule files as the build parsed and validated them (`build.rs`, with the loader
//! in `load.rs`): Rust values, so a run does not parse TOML for its own rules. `--benchmark`
//! files are still parsed at run time by the same loader, with the same errors and lines.

use super::model::{
    AccountCheck, Check, ComponentKind, Condition, ContainerCheck, Expect, FileRequest, Operator,
    Probe, Rule, RuntimeCheck, Severity, SysctlCheck, WhenUnset,
};
use crate::error::InputError;
use crate::value::Value;

/// Every embedded rule, in the order of `EMBEDDED` and of each file, as the build parsed and
/// validated them: nothing is parsed at run time. The `Result` is the loader's signature, kept
/// for its callers; it is always `Ok`.
pub fn load_embedded() -> Result<Vec<Rule>, InputError> {
    Ok(include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs")))
}
