//! The rule model and its loader. Rules are data: `benchmarks/*.toml`, embedded in the binary,
//! plus any `--benchmark FILE` (same id overrides). A rule names a probe (which fact), an
//! operator and an expected value; anything invalid is refused at load time with the file, the
//! line and the rule named, so a typo never turns into a silently skipped check.

#[cfg(test)]
pub(crate) mod codegen;
mod compiled;
mod compiled_profiles;
mod load;
mod model;
pub mod ops;
pub mod profiles;
mod select;

pub use compiled::load_embedded;
pub(crate) use load::parse_expect;
pub use load::{
    EMBEDDED, load_file, load_str, merge, parse_embedded, parse_files,
    parse_mode as parse_mode_value,
};
pub use model::{
    AccountCheck, Check, ComponentKind, Condition, ContainerCheck, Expect, FileRequest, Operator,
    Probe, Rule, RuntimeCheck, Severity, SysctlCheck, WhenUnset,
};
pub use select::{Decision, Selection, Selector};

/// The identity of the rule set hardnode ships.
pub const BENCHMARK_NAME: &str = "hardnode-node";
pub const BENCHMARK_VERSION: &str = "1";
pub const CIS_VERSION: &str = "1.12";
