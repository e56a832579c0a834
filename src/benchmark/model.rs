//! What a rule is once loaded and validated.

use serde::Serialize;

use crate::engine::value::Value;
pub use crate::host::components::ComponentKind;
pub use crate::host::components::files::FileRequest;

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
    /// A Kubernetes component setting, resolved as the component resolves it: a config path
    /// (`authentication.anonymous.enabled`) or a flag-only setting (`--hostname-override`), with
    /// the flag that overrides the config path when the component has a config file.
    Setting {
        component: ComponentKind,
        key: String,
        flag: Option<String>,
    },
    /// A component file (named, like `kubelet.config`) or literal host paths: mode and owner.
    File(FileRequest),
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
    /// CIS 1.2.28: every resource's first encryption provider is aescbc, kms or secretbox.
    EncryptionProviders,
    /// NSA/CISA: secrets are encrypted at rest (their first provider is not `identity`).
    EncryptionAtRest,
    /// NSA/CISA: `--audit-policy-file` exists and parses as an audit Policy with rules.
    AuditPolicy,
}

impl Check {
    pub const ALL: &'static [(&'static str, Check)] = &[
        ("apparmor_enabled", Check::AppArmorEnabled),
        ("apparmor_profiles", Check::AppArmorProfiles),
        ("seccomp_profiles", Check::SeccompProfiles),
        ("encryption_providers", Check::EncryptionProviders),
        ("encryption_at_rest", Check::EncryptionAtRest),
        ("audit_policy", Check::AuditPolicy),
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
    Lacks,
    SubsetOf,
    Gte,
    Lte,
    Set,
    Unset,
    ModeAtMost,
    Owner,
    /// The address (`host` or `host:port`) is a loopback address; `{ loopback = true }`.
    Loopback,
}

impl Operator {
    pub const ALL: &'static [(&'static str, Operator)] = &[
        ("eq", Operator::Eq),
        ("ne", Operator::Ne),
        ("has", Operator::Has),
        ("lacks", Operator::Lacks),
        ("subset_of", Operator::SubsetOf),
        ("gte", Operator::Gte),
        ("lte", Operator::Lte),
        ("set", Operator::Set),
        ("unset", Operator::Unset),
        ("mode_at_most", Operator::ModeAtMost),
        ("owner", Operator::Owner),
        ("loopback", Operator::Loopback),
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
