//! What a rule is once loaded and validated.

use serde::Serialize;

use crate::engine::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One benchmark rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub cis: Option<String>,
    pub section: String,
    pub title: String,
    pub severity: Severity,
    pub scored: bool,
    pub probe: Probe,
    pub expect: Option<Expect>,
    pub remediation: String,
    /// The file the rule came from (`benchmarks/kernel.toml` or a `--benchmark` path).
    pub origin: String,
}

/// Which fact a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// A kernel build option (`CONFIG_SECCOMP`); when no kernel config can be read, the named
    /// field of `/proc/1/status` (present = supported) stands in for it.
    KernelConfig {
        option: String,
        status_field: Option<String>,
    },
    /// A named Rust probe for logic beyond comparing one value.
    Check(Check),
}

/// The named probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    AppArmorEnabled,
    AppArmorProfiles,
    SeccompProfiles,
    StaticPods,
}

impl Check {
    pub const ALL: &'static [(&'static str, Check)] = &[
        ("apparmor_enabled", Check::AppArmorEnabled),
        ("apparmor_profiles", Check::AppArmorProfiles),
        ("seccomp_profiles", Check::SeccompProfiles),
        ("static_pods", Check::StaticPods),
    ];

    pub fn name(self) -> &'static str {
        Check::ALL
            .iter()
            .find(|(_, check)| *check == self)
            .map_or("?", |(name, _)| name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    Has,
    HasAny,
    Lacks,
    SubsetOf,
    Gte,
    Lte,
    Set,
    Unset,
    ModeAtMost,
    Owner,
}

impl Operator {
    pub const ALL: &'static [(&'static str, Operator)] = &[
        ("eq", Operator::Eq),
        ("ne", Operator::Ne),
        ("has", Operator::Has),
        ("has_any", Operator::HasAny),
        ("lacks", Operator::Lacks),
        ("subset_of", Operator::SubsetOf),
        ("gte", Operator::Gte),
        ("lte", Operator::Lte),
        ("set", Operator::Set),
        ("unset", Operator::Unset),
        ("mode_at_most", Operator::ModeAtMost),
        ("owner", Operator::Owner),
    ];

    pub fn name(self) -> &'static str {
        Operator::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(name, _)| name)
    }
}

/// What a rule's probe must yield to pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expect {
    pub operator: Operator,
    pub value: Value,
    /// What an unset value means, when the component's default is not enough.
    pub when_unset: Option<WhenUnset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnset {
    Pass,
    Fail,
    Skip,
}
