//! Evaluation: rules over facts into findings. Pure — no I/O — so every verdict can be unit
//! tested with hand-built facts.
//!
//! A probe yields an [`Outcome`]: whether the node meets the rule, or why the rule does not apply
//! (`skip`) or could not be decided (`error`). Scoring turns "not met" into `fail` for scored rules
//! and `warn` for advisory ones; `error` never becomes `pass` or `fail`.

mod accounts;
mod checks;
mod components;
pub use components::owner_matches;
pub mod containers;
pub mod firewall;
mod kernel;
pub mod profile_refs;
mod runtime;
mod static_pods;
mod sysctl;
pub mod waivers;

use std::path::PathBuf;

use serde::Serialize;

use crate::benchmark::{Check, Condition, Probe, Rule, Severity};
use crate::config::Policy;
use crate::host::components::ComponentState;
use crate::host::{
    Facts, Needs,
    facts::{SeccompRequest, StaticPodRequest},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    Error,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Skip,
        Status::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

/// Where a value came from: a source (`kernel-config`, `sysfs`, `flag`, `default`, …), the host
/// path it was read from, and what was seen there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub source: String,
    pub path: Option<PathBuf>,
    pub detail: String,
}

impl Evidence {
    pub fn new(source: &str, path: Option<PathBuf>, detail: impl Into<String>) -> Self {
        Evidence {
            source: source.to_string(),
            path,
            detail: detail.into(),
        }
    }
}

/// One rule's result, in the shape of `hardnode.report/v1`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub cis: Option<String>,
    /// The rule's id in the chosen benchmark profile (CIS EKS `3.2.1`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    pub section: String,
    pub title: String,
    pub severity: Severity,
    pub scored: bool,
    pub status: Status,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// For `skip` and `error` always, and for `fail`/`warn` where it helps: why, in one sentence.
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    /// The site's `[[waiver]]` for this rule, when there is one (see `waivers.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<waivers::AppliedWaiver>,
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Met,
    NotMet,
    /// Not met, and only ever advisory whatever the rule's scoring (`warn`).
    Advisory,
    NotApplicable(String),
    Undecided(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    pub fn new(verdict: Verdict) -> Self {
        Outcome {
            verdict,
            expected: None,
            actual: None,
            reason: None,
            evidence: Vec::new(),
        }
    }

    pub fn undecided(reason: impl Into<String>) -> Self {
        Outcome::new(Verdict::Undecided(reason.into()))
    }

    pub fn expected(mut self, text: impl Into<String>) -> Self {
        self.expected = Some(text.into());
        self
    }

    pub fn actual(mut self, text: impl Into<String>) -> Self {
        self.actual = Some(text.into());
        self
    }

    pub fn reason(mut self, text: impl Into<String>) -> Self {
        self.reason = Some(text.into());
        self
    }

    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }
}

/// Whether AppArmor is enabled and active, as the `apparmor.enabled` rule decides it.
pub fn apparmor_is_enabled(apparmor: &crate::host::facts::AppArmorFacts) -> bool {
    checks::apparmor_enabled(apparmor).verdict == Verdict::Met
}

/// The facts these rules need, under this policy.
pub fn needs<'a>(rules: impl IntoIterator<Item = &'a Rule>, policy: &Policy) -> Needs {
    let mut needs = Needs::default();
    for rule in rules {
        if let Some(Condition::ComponentRuns(kind)) = rule.applies_when {
            needs.components.settings.entry(kind).or_default();
        }
        match &rule.probe {
            Probe::KernelConfig {
                option,
                status_field,
            } => {
                needs.kernel_options.insert(option.clone());
                if let Some(field) = status_field {
                    needs.status_fields.insert(field.clone());
                }
            }
            Probe::Check(Check::AppArmorEnabled | Check::AppArmorProfiles) => needs.apparmor = true,
            Probe::Check(Check::Container(check)) => {
                needs.containers = true;
                // Whether AppArmor is enabled decides if `containers.apparmor` applies.
                if *check == crate::benchmark::ContainerCheck::AppArmor {
                    needs.apparmor = true;
                }
            }
            Probe::Check(Check::Account(_)) => needs.accounts = true,
            Probe::Check(Check::Runtime(check)) => match check.runtime() {
                "containerd" => {
                    needs.runtime.containerd = true;
                    if *check == crate::benchmark::RuntimeCheck::ContainerdCgroup {
                        // Cross-checked against the kubelet's resolved cgroupDriver.
                        needs
                            .components
                            .settings
                            .entry(crate::benchmark::ComponentKind::Kubelet)
                            .or_default()
                            .insert((
                                runtime::KUBELET_CGROUP_DRIVER.into(),
                                Some(runtime::KUBELET_CGROUP_DRIVER_FLAG.into()),
                            ));
                    }
                }
                "crio" => needs.runtime.crio = true,
                "docker" => needs.runtime.docker = true,
                _ => {
                    needs.runtime.tokens = true;
                    // The containers' mount tables show which have the token mounted.
                    needs.containers = true;
                    // Whether the container network can reach the API server with the tokens.
                    if let Some(section) = &policy.firewall {
                        needs.firewall = Some(crate::host::firewall::Request::from_policy(
                            section,
                            &policy.source_label(),
                        ));
                    }
                }
            },
            Probe::Sysctl(checks) => {
                needs
                    .sysctls
                    .extend(checks.iter().map(|check| check.key.clone()));
            }
            Probe::Sshd { keyword, .. } => {
                needs.sshd_keywords.insert(keyword.clone());
            }
            Probe::Check(Check::FirewallApiserverBlocked) => {
                // Only a configured policy is checked: without one the rule is `skip`.
                if let Some(section) = &policy.firewall {
                    needs.firewall = Some(crate::host::firewall::Request::from_policy(
                        section,
                        &policy.source_label(),
                    ));
                }
            }
            Probe::Check(Check::SeccompProfiles) => {
                needs.seccomp_profiles = Some(SeccompRequest {
                    dir: policy.seccomp.profile_dir.clone(),
                    required: policy.seccomp.required_profiles.clone(),
                });
            }
            Probe::Check(Check::StaticPods) => {
                needs.static_pods = Some(StaticPodRequest {
                    dir: crate::host::manifests::STATIC_POD_DIR.into(),
                    seccomp_dir: policy.seccomp.profile_dir.clone(),
                });
                // The running kubelet's staticPodPath says where its static pods really are.
                needs
                    .components
                    .settings
                    .entry(crate::host::components::ComponentKind::Kubelet)
                    .or_default()
                    .insert((
                        crate::host::manifests::STATIC_POD_PATH_KEY.into(),
                        Some(crate::host::manifests::STATIC_POD_PATH_FLAG.into()),
                    ));
            }
            Probe::Check(Check::EncryptionProviders | Check::EncryptionAtRest) => {
                needs
                    .components
                    .documents
                    .insert("apiserver.encryption_config".into());
            }
            Probe::Check(Check::AuditPolicy) => {
                needs
                    .components
                    .documents
                    .insert("apiserver.audit_policy".into());
            }
            Probe::Setting {
                component,
                key,
                flag,
            } => {
                needs
                    .components
                    .settings
                    .entry(*component)
                    .or_default()
                    .insert((key.clone(), flag.clone()));
            }
            Probe::File(request) => {
                needs.components.files.insert(request.clone());
            }
        }
    }
    needs
}

/// Evaluates one rule.
pub fn evaluate(rule: &Rule, facts: &Facts, policy: &Policy) -> Finding {
    if let Some(reason) = not_applicable(rule, facts) {
        return finish(
            rule,
            Outcome::new(Verdict::NotApplicable(reason)),
            facts,
            policy,
        );
    }
    let outcome = match &rule.probe {
        Probe::KernelConfig {
            option,
            status_field,
        } => kernel::evaluate(rule, option, status_field.as_deref(), facts),
        Probe::Setting {
            component,
            key,
            flag,
        } => components::evaluate_setting(rule, *component, key, flag.as_deref(), facts),
        Probe::File(request) => components::evaluate_file(rule, request, facts),
        Probe::Check(
            check @ (Check::EncryptionProviders | Check::EncryptionAtRest | Check::AuditPolicy),
        ) => components::evaluate_check(*check, facts),
        Probe::Check(Check::Runtime(check)) => runtime::evaluate(*check, facts, policy),
        Probe::Check(check) => checks::evaluate(*check, facts, policy),
        Probe::Sysctl(checks) => match &facts.sysctls {
            Some(values) => sysctl::evaluate(rule, checks, values),
            None => Outcome::undecided("sysctl facts were not gathered (a bug: please report it)"),
        },
        Probe::Sshd { keyword, default } => match &facts.sshd {
            Some(sshd) => accounts::evaluate_sshd(rule, keyword, default.as_deref(), sshd),
            None => Outcome::undecided("sshd facts were not gathered (a bug: please report it)"),
        },
    };
    finish(rule, outcome, facts, policy)
}

/// Why the rule's `applies_when` does not hold on this node, if it does not.
fn not_applicable(rule: &Rule, facts: &Facts) -> Option<String> {
    let Condition::ComponentRuns(kind) = rule.applies_when?;
    match facts.components.as_ref()?.components.get(&kind)? {
        ComponentState::NotRunning { reason } => Some(reason.clone()),
        ComponentState::Found(_) => None,
    }
}

/// The finding for a rule the user deselected.
pub fn deselected(rule: &Rule, reason: String, facts: &Facts, policy: &Policy) -> Finding {
    finish(
        rule,
        Outcome::new(Verdict::NotApplicable(reason)),
        facts,
        policy,
    )
}

fn finish(rule: &Rule, outcome: Outcome, facts: &Facts, policy: &Policy) -> Finding {
    let (status, reason) = match outcome.verdict {
        Verdict::Met => (Status::Pass, outcome.reason),
        Verdict::NotMet if rule.scored => (Status::Fail, outcome.reason),
        Verdict::NotMet | Verdict::Advisory => (Status::Warn, outcome.reason),
        Verdict::NotApplicable(reason) => (Status::Skip, Some(reason)),
        Verdict::Undecided(reason) => (Status::Error, Some(reason)),
    };
    Finding {
        id: rule.id.clone(),
        cis: rule.cis.clone(),
        profile_id: None,
        section: rule.section.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        scored: rule.scored,
        status,
        expected: outcome.expected,
        actual: outcome.actual,
        reason,
        evidence: outcome.evidence,
        remediation: substitute(&rule.remediation, facts, policy),
        waiver: None,
    }
}

/// Fills `{placeholders}` in remediation text with this host's real paths, in one pass: each
/// placeholder the text names is looked up once, and nothing is computed for the others.
fn substitute(template: &str, facts: &Facts, policy: &Policy) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after
            .find(['}', '{'])
            .filter(|&at| after.as_bytes()[at] == b'}')
        else {
            text.push('{');
            rest = after;
            continue;
        };
        let name = &after[..close];
        match placeholder_value(name, facts, policy) {
            Some(value) => text.push_str(&value),
            None => {
                text.push('{');
                text.push_str(name);
                text.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    text
}

/// This host's value for `{name}`, else what the placeholder stands for; `None` for a name that
/// is no placeholder (the text keeps it as written).
fn placeholder_value(name: &str, facts: &Facts, policy: &Policy) -> Option<String> {
    let found = match name {
        "seccomp.profile_dir" => Some(policy.seccomp.profile_dir.display().to_string()),
        "kernel.release" => facts.host.kernel_release.value().cloned(),
        "kernel.config" => facts
            .kernel
            .as_ref()
            .and_then(|kernel| kernel.config_source.as_ref())
            .map(|path| path.display().to_string()),
        "static_pods.dir" => Some(
            facts
                .static_pods
                .as_ref()
                .and_then(|pods| pods.dir.as_ref())
                .map_or(crate::host::manifests::STATIC_POD_DIR.into(), |dir| {
                    dir.display().to_string()
                }),
        ),
        _ => None,
    };
    found
        .or_else(|| components::placeholder(facts, name))
        .or_else(|| {
            components::fallback_placeholders()
                .iter()
                .find(|(placeholder, _)| {
                    placeholder
                        .strip_prefix('{')
                        .and_then(|p| p.strip_suffix('}'))
                        == Some(name)
                })
                .map(|(_, value)| value.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::facts::Observed;

    fn empty_facts() -> (tempfile::TempDir, Facts) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = crate::host::root::HostRoot::new(dir.path()).expect("root");
        let facts = crate::host::gather(&root, &Needs::default());
        (dir, facts)
    }

    #[test]
    fn placeholders_are_filled_once_and_other_braces_kept() {
        let (_dir, mut facts) = empty_facts();
        facts.host.kernel_release = Observed::Value {
            path: "/proc/sys/kernel/osrelease".into(),
            value: "6.8.0-1-generic".into(),
        };
        let policy = Policy::default();
        let text = substitute(
            "install linux-modules-{kernel.release}; edit {kubelet.config}; \
             {\"defaultAction\": {\"x\": 1}} {unknown.name} {kernel.release} { {",
            &facts,
            &policy,
        );
        assert_eq!(
            text,
            "install linux-modules-6.8.0-1-generic; edit the kubelet config file (--config); \
             {\"defaultAction\": {\"x\": 1}} {unknown.name} 6.8.0-1-generic { {"
        );
        assert_eq!(
            substitute("{static_pods.dir}", &facts, &policy),
            crate::host::manifests::STATIC_POD_DIR
        );
    }
}
