//! Kubernetes component probes: a resolved setting compared with the rule's expectation, a file's
//! mode and owner, and the named checks on the apiserver's encryption and audit configuration.
//!
//! A component that does not run here makes its rules `skip` with the reason; a file that does
//! not exist is `skip` with the path; a config file that cannot be read makes every setting not
//! given by a flag `error` — none of these is ever a `fail`.

use std::path::PathBuf;

use serde_json::Value as Json;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::ops;
use crate::benchmark::{Check, ComponentKind, FileRequest, Operator, Rule, WhenUnset};
use crate::host::Facts;
use crate::host::components::{
    ComponentFacts, ComponentState, DocumentFact, FileEntry, Origin, Source,
};
use crate::value::Value;

fn gathered(facts: &Facts) -> Result<&ComponentFacts, Box<Outcome>> {
    facts.components.as_ref().ok_or_else(|| {
        Box::new(Outcome::undecided(
            "component facts were not gathered (a bug: please report it)",
        ))
    })
}

/// How a setting is named in a report: `readOnlyPort (--read-only-port)`.
fn setting_name(key: &str, flag: Option<&str>) -> String {
    match flag {
        Some(flag) if flag != key => format!("{key} ({flag})"),
        _ => key.to_string(),
    }
}

pub fn evaluate_setting(
    rule: &Rule,
    kind: ComponentKind,
    key: &str,
    flag: Option<&str>,
    facts: &Facts,
) -> Outcome {
    let facts = match gathered(facts) {
        Ok(facts) => facts,
        Err(outcome) => return *outcome,
    };
    let Some(expect) = &rule.expect else {
        return Outcome::undecided("rule has no expect");
    };
    let name = setting_name(key, flag);
    let component = match facts.components.get(&kind) {
        Some(ComponentState::Found(component)) => component,
        Some(ComponentState::NotRunning { reason }) => {
            return Outcome::new(Verdict::NotApplicable(reason.clone()));
        }
        None => return Outcome::undecided(format!("{} was not examined (a bug)", kind.binary())),
    };
    let base = Outcome::new(Verdict::Met).expected(ops::describe(expect));
    let found = component.setting(key, flag);
    // An empty value (`tlsCertFile: ""`, `--token-auth-file=`) is Go's "unset".
    let empty = found.filter(|s| matches!(&s.value, Value::Str(text) if text.is_empty()));
    let setting = found.filter(|_| empty.is_none());
    let from_command_line =
        setting.is_some_and(|s| matches!(s.source, Source::Flag | Source::Manifest | Source::Env));
    if let Some(error) = &component.config_error
        && !from_command_line
    {
        return Outcome {
            verdict: Verdict::Undecided(format!(
                "cannot decide {name} of {}: {error}",
                kind.binary()
            )),
            ..base
        };
    }
    let Some(setting) = setting else {
        let where_ = match &component.origin {
            Origin::Process { pid, .. } => format!("{} (pid {pid})", kind.binary()),
            Origin::Manifest { path } => format!("{} manifest {}", kind.binary(), path.display()),
            Origin::Embedded { distribution, pid } => {
                format!("{} inside {distribution} (pid {pid})", kind.binary())
            }
        };
        let evidence = match empty {
            Some(empty) => Evidence::new(
                empty.source.as_str(),
                empty.path.clone(),
                format!(
                    "{} for {where_}: an empty value, which means not set",
                    empty.detail
                ),
            ),
            None => Evidence::new(
                "default",
                None,
                format!("{name} is not set for {where_}, and it has no default"),
            ),
        };
        let outcome = base.actual("not set").evidence(evidence);
        let verdict = match expect.when_unset {
            Some(WhenUnset::Pass) => Verdict::Met,
            Some(WhenUnset::Fail) => Verdict::NotMet,
            Some(WhenUnset::Skip) => Verdict::NotApplicable(format!("{name} is not set")),
            None if expect.operator == Operator::Unset => Verdict::Met,
            None => Verdict::NotMet,
        };
        return Outcome { verdict, ..outcome };
    };
    let evidence = Evidence::new(setting.source.as_str(), setting.path.clone(), {
        let mut detail = setting.detail.clone();
        if let Origin::Embedded { distribution, pid } = &component.origin {
            detail.push_str(&format!(
                " [{} inside {distribution} pid {pid}]",
                kind.binary()
            ));
        }
        if let Origin::Process { pid, other_pids } = &component.origin {
            detail.push_str(&format!(" [{} pid {pid}]", kind.binary()));
            if !other_pids.is_empty() {
                detail.push_str(&format!(" (other {} pids: {other_pids:?})", kind.binary()));
            }
        }
        detail
    });
    let actual = setting.value.to_string();
    let mut outcome = base.actual(actual).evidence(evidence);
    // Oddities of the file the value came from (duplicate keys) belong next to the value.
    if let Some(path) = &setting.path {
        let prefix = format!("{}: ", path.display());
        for warning in component.warnings.iter().filter(|w| w.starts_with(&prefix)) {
            outcome = outcome.evidence(Evidence::new(
                setting.source.as_str(),
                Some(path.clone()),
                warning[prefix.len()..].to_string(),
            ));
        }
    }
    let verdict = match expect.operator {
        Operator::Unset if setting.source != Source::Default => Verdict::NotMet,
        Operator::Unset => Verdict::Met,
        _ => match ops::holds(&setting.value, expect) {
            Ok(true) => Verdict::Met,
            Ok(false) => Verdict::NotMet,
            Err(message) => Verdict::Undecided(format!("{name}: {message}")),
        },
    };
    Outcome { verdict, ..outcome }
}

pub fn evaluate_file(rule: &Rule, request: &FileRequest, facts: &Facts) -> Outcome {
    let facts = match gathered(facts) {
        Ok(facts) => facts,
        Err(outcome) => return *outcome,
    };
    let Some(expect) = &rule.expect else {
        return Outcome::undecided("rule has no expect");
    };
    let Some(set) = facts.files.get(&request.key()) else {
        return Outcome::undecided(format!("{} was not examined (a bug)", request.key()));
    };
    if let Some(reason) = &set.not_applicable {
        return Outcome::new(Verdict::NotApplicable(reason.clone()));
    }
    let looked_at: Vec<String> = set
        .looked_at
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if set.entries.is_empty() && set.errors.is_empty() {
        // A directory that exists but holds nothing the rule is about is not "does not exist".
        if !set.present.is_empty() {
            let present: Vec<String> = set
                .present
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let what = match request {
                FileRequest::Paths {
                    glob: Some(glob), ..
                } => format!("no file matching {glob}"),
                _ => "no file".to_string(),
            };
            return Outcome::new(Verdict::NotApplicable(format!(
                "{} exists but holds {what} ({})",
                present.join(", "),
                set.how
            )));
        }
        return Outcome::new(Verdict::NotApplicable(format!(
            "{} does not exist on this node ({})",
            looked_at.join(", "),
            set.how
        )));
    }
    let base = Outcome::new(Verdict::Met).expected(ops::describe(expect));
    let mut bad: Vec<(&FileEntry, String)> = Vec::new();
    for entry in &set.entries {
        let (ok, shown) = match expect.operator {
            Operator::ModeAtMost => {
                let shown = format!("{:04o}", entry.mode);
                match ops::holds(&Value::Int(i64::from(entry.mode)), expect) {
                    Ok(ok) => (ok, shown),
                    Err(message) => return Outcome::undecided(message),
                }
            }
            Operator::Owner => (
                owner_matches(entry, &expect.value.to_string()),
                entry.owner(),
            ),
            other => {
                return Outcome::undecided(format!(
                    "operator {} does not apply to files (use mode_at_most or owner)",
                    other.name()
                ));
            }
        };
        if !ok {
            bad.push((entry, shown));
        }
    }
    let first = set
        .entries
        .first()
        .map(|entry| entry.path.clone())
        .or_else(|| set.looked_at.first().cloned());
    let mut outcome = base.evidence(Evidence::new(
        "file",
        first,
        format!(
            "{} examined; paths from {}; looked at {}",
            plural(set.entries.len(), "file"),
            set.how,
            looked_at.join(", ")
        ),
    ));
    for error in &set.errors {
        outcome = outcome.evidence(Evidence::new("file", None, error.clone()));
    }
    if !bad.is_empty() {
        let listed: Vec<String> = bad
            .iter()
            .take(10)
            .map(|(entry, shown)| format!("{} {shown}", entry.path.display()))
            .collect();
        let more = if bad.len() > 10 {
            format!(" and {} more", bad.len() - 10)
        } else {
            String::new()
        };
        for (entry, shown) in bad.iter().take(20) {
            outcome = outcome.evidence(Evidence::new(
                "file",
                Some(entry.path.clone()),
                format!(
                    "{} {shown} (uid {}, gid {})",
                    entry.kind, entry.uid, entry.gid
                ),
            ));
        }
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .actual(format!("{}{more}", listed.join("; ")));
    }
    if !set.errors.is_empty() {
        return Outcome {
            verdict: Verdict::Undecided(format!("cannot examine: {}", set.errors.join("; "))),
            ..outcome
        };
    }
    let actual = match set.entries.as_slice() {
        [only] => format!(
            "{} {}",
            only.path.display(),
            if expect.operator == Operator::Owner {
                only.owner()
            } else {
                format!("{:04o}", only.mode)
            }
        ),
        entries => format!("all {} files comply", entries.len()),
    };
    outcome.actual(actual)
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `user:group` matches by name, by number, and `root` is uid/gid 0 whatever the tables say.
/// `user:group`; either side may list alternatives with `|` (`root:root|docker`).
pub fn owner_matches(entry: &FileEntry, expected: &str) -> bool {
    let Some((user, group)) = expected.split_once(':') else {
        return false;
    };
    let side = |wanted: &str, id: u32, name: &Option<String>| {
        wanted.split('|').any(|want| {
            name.as_deref() == Some(want) || want == id.to_string() || (want == "root" && id == 0)
        })
    };
    side(user, entry.uid, &entry.user) && side(group, entry.gid, &entry.group)
}

/// The named checks on apiserver documents.
pub fn evaluate_check(check: Check, facts: &Facts) -> Outcome {
    let facts = match gathered(facts) {
        Ok(facts) => facts,
        Err(outcome) => return *outcome,
    };
    let name = match check {
        Check::AuditPolicy => "apiserver.audit_policy",
        _ => "apiserver.encryption_config",
    };
    let Some(document) = facts.documents.get(name) else {
        return Outcome::undecided(format!("{name} was not read (a bug)"));
    };
    match check {
        Check::AuditPolicy => audit_policy(document),
        Check::EncryptionAtRest => encryption(document, true),
        _ => encryption(document, false),
    }
}

/// The providers the CIS benchmark (1.2.28) accepts as the first, encrypting, provider.
const STRONG_PROVIDERS: &[&str] = &["aescbc", "kms", "secretbox"];

fn encryption(document: &DocumentFact, secrets_only: bool) -> Outcome {
    let expected = if secrets_only {
        "secrets encrypted at rest: the first provider for secrets is not identity".to_string()
    } else {
        format!(
            "the first provider of every resource is one of {}",
            STRONG_PROVIDERS.join(", ")
        )
    };
    let base = Outcome::new(Verdict::Met).expected(expected);
    let (path, content) = match document {
        DocumentFact::NotApplicable { reason } => {
            return Outcome::new(Verdict::NotApplicable(reason.clone()));
        }
        DocumentFact::NotConfigured { flag } => {
            return Outcome {
                verdict: Verdict::NotMet,
                ..base
            }
            .actual(format!("{flag} is not set"))
            .reason("without an encryption provider config the apiserver stores secrets in etcd unencrypted")
            .evidence(Evidence::new(
                "flag",
                None,
                format!("kube-apiserver has no {flag}"),
            ));
        }
        DocumentFact::Absent { path } => {
            return Outcome::undecided(format!(
                "--encryption-provider-config names {}, which does not exist under the root",
                path.display()
            ));
        }
        DocumentFact::Unreadable { path, error } => {
            return Outcome::undecided(format!("{} {error}", path.display()));
        }
        DocumentFact::Parsed { path, content } => (path, content),
    };
    let evidence = |detail: String| Evidence::new("file", Some(path.clone()), detail);
    let entries = first_providers(content);
    if entries.is_empty() {
        return Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual("no resources configured")
        .evidence(evidence("EncryptionConfiguration has no resources".into()));
    }
    if secrets_only {
        let matching = entries.iter().find(|(resources, _)| {
            resources
                .iter()
                .any(|r| r == "secrets" || r == "*." || r == "*.*")
        });
        return match matching {
            Some((resources, Some(provider))) if provider != "identity" => base
                .actual(format!("secrets: {provider}"))
                .evidence(evidence(format!(
                    "resources [{}]: first provider {provider}",
                    resources.join(", ")
                ))),
            Some((resources, provider)) => Outcome {
                verdict: Verdict::NotMet,
                ..base
            }
            .actual(format!(
                "secrets: {}",
                provider.as_deref().unwrap_or("no provider")
            ))
            .evidence(evidence(format!(
                "resources [{}]: first provider {} stores them in plain text",
                resources.join(", "),
                provider.as_deref().unwrap_or("(none)")
            ))),
            None => Outcome {
                verdict: Verdict::NotMet,
                ..base
            }
            .actual("secrets are not listed")
            .evidence(evidence(
                "no resources entry covers secrets: they are stored unencrypted".into(),
            )),
        };
    }
    let mut outcome = base;
    let mut weak = Vec::new();
    for (resources, provider) in &entries {
        let provider_name = provider.as_deref().unwrap_or("(none)");
        outcome = outcome.evidence(evidence(format!(
            "resources [{}]: first provider {provider_name}",
            resources.join(", ")
        )));
        if !STRONG_PROVIDERS.contains(&provider_name) {
            weak.push(format!("[{}] {provider_name}", resources.join(", ")));
        }
    }
    if weak.is_empty() {
        let providers: Vec<&str> = entries
            .iter()
            .filter_map(|(_, provider)| provider.as_deref())
            .collect();
        outcome.actual(providers.join(", "))
    } else {
        Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .actual(weak.join("; "))
    }
}

/// For each `resources` entry of an EncryptionConfiguration: its resources and first provider.
fn first_providers(content: &Json) -> Vec<(Vec<String>, Option<String>)> {
    content
        .get("resources")
        .and_then(Json::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    let resources = entry
                        .get("resources")
                        .and_then(Json::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(|item| item.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    let provider = entry
                        .get("providers")
                        .and_then(Json::as_array)
                        .and_then(|providers| providers.first())
                        .and_then(Json::as_object)
                        .and_then(|provider| provider.keys().next().cloned());
                    (resources, provider)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn audit_policy(document: &DocumentFact) -> Outcome {
    let base = Outcome::new(Verdict::Met)
        .expected("--audit-policy-file names an audit Policy with at least one rule");
    let not_met = |actual: String, evidence: Evidence| {
        Outcome {
            verdict: Verdict::NotMet,
            ..base.clone()
        }
        .actual(actual)
        .evidence(evidence)
    };
    match document {
        DocumentFact::NotApplicable { reason } => {
            Outcome::new(Verdict::NotApplicable(reason.clone()))
        }
        DocumentFact::NotConfigured { flag } => not_met(
            format!("{flag} is not set"),
            Evidence::new(
                "flag",
                None,
                format!("kube-apiserver has no {flag}: nothing is audited"),
            ),
        ),
        DocumentFact::Absent { path } => not_met(
            "the policy file does not exist".into(),
            Evidence::new("file", Some(path.clone()), "does not exist"),
        ),
        DocumentFact::Unreadable { path, error } if error.starts_with("invalid") => not_met(
            "the policy file does not parse".into(),
            Evidence::new("file", Some(path.clone()), error.clone()),
        ),
        DocumentFact::Unreadable { path, error } => {
            Outcome::undecided(format!("{} {error}", path.display()))
        }
        DocumentFact::Parsed { path, content } => {
            let kind = content.get("kind").and_then(Json::as_str).unwrap_or("");
            let rules = content
                .get("rules")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            let evidence = Evidence::new(
                "file",
                Some(path.clone()),
                format!("kind {kind:?}, {rules} rules"),
            );
            if kind != "Policy" {
                not_met(format!("kind is {kind:?}, not Policy"), evidence)
            } else if rules == 0 {
                not_met("the policy has no rules".into(), evidence)
            } else {
                base.actual(format!("Policy with {rules} rules"))
                    .evidence(evidence)
            }
        }
    }
}

/// The value of the placeholder `{name}` from this run's component facts: the paths a file set
/// found (or looked at), the kubelet's config file, a component's static pod manifest.
pub fn placeholder(facts: &Facts, name: &str) -> Option<String> {
    let components = facts.components.as_ref()?;
    if let Some(set) = components.files.get(name).filter(|_| !name.contains('/')) {
        let paths: Vec<PathBuf> = if set.entries.is_empty() {
            set.looked_at.clone()
        } else {
            let mut paths: Vec<PathBuf> = set.entries.iter().map(|e| e.path.clone()).collect();
            paths.dedup();
            paths
        };
        if !paths.is_empty() {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Some(shown.join(" "));
        }
    }
    if name == "kubelet.config"
        && let Some(kubelet) = components.component(ComponentKind::Kubelet)
        && let Some(file) = kubelet
            .files
            .iter()
            .find(|f| f.source == Source::ConfigFile)
    {
        return Some(file.path.display().to_string());
    }
    let kind = ComponentKind::from_probe_key(name.strip_suffix(".manifest")?)?;
    let component = components.component(kind)?;
    match &component.origin {
        Origin::Manifest { path } => Some(path.display().to_string()),
        Origin::Process { .. } if component.static_pod_manifest.is_some() => component
            .static_pod_manifest
            .as_ref()
            .map(|path| path.display().to_string()),
        // Not a static pod: say how this component is run instead of naming kubeadm's manifest.
        Origin::Process { pid, .. } => {
            let binary = kind.binary();
            Some(
                match component
                    .files
                    .iter()
                    .find(|f| f.source == Source::ConfigFile)
                {
                    Some(file) => format!(
                        "the config file {} that {binary} (pid {pid}) reads",
                        file.path.display()
                    ),
                    None => format!(
                        "the command line of {binary} (pid {pid}: its systemd unit, or the script or EnvironmentFile that starts it)"
                    ),
                },
            )
        }
        // Run inside a distribution's process: its own configuration passes the flags.
        Origin::Embedded { distribution, .. } => Some(match distribution.as_str() {
            "microk8s" => format!(
                "MicroK8s's args file for {} (/var/snap/microk8s/current/args/{})",
                kind.binary(),
                kind.binary()
            ),
            _ => format!(
                "{distribution}'s configuration (the {}-arg list of /etc/rancher/{distribution}/config.yaml)",
                kind.binary()
            ),
        }),
    }
}

/// What a placeholder says when this run found no path for it.
pub fn fallback_placeholders() -> &'static [(&'static str, &'static str)] {
    &[
        ("{kubelet.config}", "the kubelet config file (--config)"),
        ("{kubelet.service}", "the kubelet systemd unit or drop-in"),
        (
            "{kubelet.kubeconfig}",
            "the kubelet kubeconfig (--kubeconfig)",
        ),
        ("{kubelet.client_ca}", "the kubelet client CA file"),
        ("{proxy.config}", "the kube-proxy config file (--config)"),
        ("{proxy.kubeconfig}", "the kube-proxy kubeconfig"),
        (
            "{apiserver.manifest}",
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
        ),
        (
            "{controller_manager.manifest}",
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        ),
        (
            "{scheduler.manifest}",
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
        ),
        ("{etcd.manifest}", "/etc/kubernetes/manifests/etcd.yaml"),
        ("{etcd.data_dir}", "the etcd data directory (--data-dir)"),
        (
            "{controller_manager.kubeconfig}",
            "/etc/kubernetes/controller-manager.conf",
        ),
        ("{scheduler.kubeconfig}", "/etc/kubernetes/scheduler.conf"),
        ("{cni.config}", "/etc/cni/net.d"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uid: u32, gid: u32, user: Option<&str>, group: Option<&str>) -> FileEntry {
        FileEntry {
            path: "/x".into(),
            kind: "file".into(),
            mode: 0o600,
            uid,
            gid,
            user: user.map(String::from),
            group: group.map(String::from),
            via: None,
        }
    }

    #[test]
    fn owners_match_by_name_number_and_root() {
        assert!(owner_matches(&entry(0, 0, None, None), "root:root"));
        assert!(owner_matches(
            &entry(998, 998, Some("etcd"), Some("etcd")),
            "etcd:etcd"
        ));
        assert!(owner_matches(&entry(998, 998, None, None), "998:998"));
        assert!(!owner_matches(
            &entry(0, 0, Some("root"), Some("root")),
            "etcd:etcd"
        ));
        assert!(!owner_matches(&entry(1000, 0, None, None), "root:root"));
    }

    #[test]
    fn first_provider_of_each_resource_entry() {
        let content: Json = serde_json::json!({
            "kind": "EncryptionConfiguration",
            "resources": [
                {"resources": ["secrets"], "providers": [{"identity": {}}, {"aescbc": {}}]},
                {"resources": ["configmaps"], "providers": [{"kms": {"name": "k"}}]},
                {"resources": ["events"]}
            ]
        });
        let entries = first_providers(&content);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].1.as_deref(), Some("identity"));
        assert_eq!(entries[1].1.as_deref(), Some("kms"));
        assert_eq!(entries[2].1, None);
        let document = DocumentFact::Parsed {
            path: "/e.yaml".into(),
            content,
        };
        assert_eq!(encryption(&document, true).verdict, Verdict::NotMet);
        assert_eq!(encryption(&document, false).verdict, Verdict::NotMet);
    }

    #[test]
    fn audit_policy_must_be_a_policy_with_rules() {
        let parsed = |content: Json| DocumentFact::Parsed {
            path: "/p.yaml".into(),
            content,
        };
        assert_eq!(
            audit_policy(&parsed(
                serde_json::json!({"kind": "Policy", "rules": [{"level": "Metadata"}]})
            ))
            .verdict,
            Verdict::Met
        );
        assert_eq!(
            audit_policy(&parsed(serde_json::json!({"kind": "Policy", "rules": []}))).verdict,
            Verdict::NotMet
        );
        assert_eq!(
            audit_policy(&DocumentFact::NotConfigured {
                flag: "--audit-policy-file".into()
            })
            .verdict,
            Verdict::NotMet
        );
        assert!(matches!(
            audit_policy(&DocumentFact::Unreadable {
                path: "/p".into(),
                error: "permission denied".into()
            })
            .verdict,
            Verdict::Undecided(_)
        ));
    }
}
