//! The pod-hardening rules (`rules/pod.toml`, embedded): points, a field, the operator it is
//! compared with, and the kubesec-style selector and reason shown to the user. Also the control
//! plane static pods' expected exceptions. Invalid rules are refused at load time with the line.
//! `build.rs` runs this loader over the embedded file (a broken rule fails the build with the
//! file and line) and writes the rules as Rust; `--rules` files are parsed at run time.

use crate::lines::LineIndex;
use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use crate::benchmark::{Expect, WhenUnset, parse_expect};
use crate::error::InputError;

/// The shipped rule file.
pub const EMBEDDED: (&str, &str) = ("rules/pod.toml", include_str!("../../rules/pod.toml"));

/// Which objects a rule's field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A field of the pod (`spec.hostNetwork`).
    Pod,
    /// A field of each container's effective settings (`securityContext.runAsNonRoot`).
    Container,
}

/// The three lists of containers a pod spec has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum ContainerKind {
    #[serde(rename = "containers")]
    Regular,
    #[serde(rename = "initContainers")]
    Init,
    #[serde(rename = "ephemeralContainers")]
    Ephemeral,
}

impl ContainerKind {
    pub const ALL: [(&'static str, ContainerKind); 3] = [
        ("containers", ContainerKind::Regular),
        ("initContainers", ContainerKind::Init),
        ("ephemeralContainers", ContainerKind::Ephemeral),
    ];

    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Regular => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PodRule {
    pub id: String,
    /// Negative: critical (subtracts when hit). Positive: good practice (adds when met).
    pub points: i64,
    pub scope: Scope,
    /// The container lists a container rule looks at (all three unless the rule says otherwise).
    pub applies_to: Vec<ContainerKind>,
    pub field: String,
    pub expect: Expect,
    pub selector: String,
    pub reason: String,
}

impl PodRule {
    pub fn is_critical(&self) -> bool {
        self.points < 0
    }
}

/// What a control plane static pod is expected to need.
#[derive(Debug, Clone)]
pub struct StaticPodException {
    /// The `component` label (kubeadm) or container name: `kube-apiserver`, `etcd`, ...
    pub component: String,
    /// Rule ids whose hits are expected for this component.
    pub expected_rules: Vec<String>,
    /// hostPath mounts this component is expected to have (exact paths).
    pub host_paths: Vec<String>,
    /// Pod Security Standards baseline violations expected for this component: `CONTROL` or
    /// `CONTROL FIELD` (`[*]` in FIELD matches any index); a `hostPathVolumes` one only for
    /// the paths of `host_paths`.
    pub expected_pod_security: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<PodRule>,
    pub static_pods: Vec<StaticPodException>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    static_pod: Vec<Spanned<RawStaticPod>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    points: i64,
    scope: Scope,
    applies_to: Option<Vec<String>>,
    field: String,
    expect: toml::Table,
    when_unset: Option<WhenUnset>,
    selector: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaticPod {
    component: String,
    #[serde(default)]
    expected_rules: Vec<String>,
    #[serde(default)]
    host_paths: Vec<String>,
    #[serde(default)]
    expected_pod_security: Vec<String>,
    reason: String,
}

impl RuleSet {
    /// Adds `extra`: a rule or static pod exception with an existing id / component replaces it.
    pub fn merge(&mut self, extra: RuleSet) {
        for rule in extra.rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => self.rules.push(rule),
            }
        }
        for exception in extra.static_pods {
            match self
                .static_pods
                .iter_mut()
                .find(|e| e.component == exception.component)
            {
                Some(existing) => *existing = exception,
                None => self.static_pods.push(exception),
            }
        }
    }
}

/// The shipped rules, as the build parsed and validated them (`manifest::compiled`).
pub fn load_embedded() -> Result<RuleSet, InputError> {
    crate::manifest::compiled::pod_rules()
}

/// The shipped rules parsed from their TOML now: what `build.rs` runs, and what the compiled
/// rules are tested against. An error here is a bug in the shipped data.
pub fn parse_embedded() -> Result<RuleSet, InputError> {
    let set = load_str(EMBEDDED.0, EMBEDDED.1)?;
    set.validate(EMBEDDED.0)?;
    Ok(set)
}

/// Parses and validates a pod rule file; `origin` names it in errors.
pub fn load_str(origin: &str, text: &str) -> Result<RuleSet, InputError> {
    let refuse = |message: String| InputError::Config {
        path: origin.into(),
        message,
    };
    let raw: RawFile = toml::from_str(text)
        .map_err(|error| refuse(error.to_string().trim_end().replace('\n', "\n  ")))?;
    let mut rules: Vec<PodRule> = Vec::new();
    let mut ids = BTreeSet::new();
    let lines = LineIndex::new(text);
    for spanned in raw.rule {
        let line = lines.line_of(spanned.span().start);
        let raw = spanned.into_inner();
        let fail = |message: String| refuse(format!("line {line}: rule {:?}: {message}", raw.id));
        if !ids.insert(raw.id.clone()) {
            return Err(fail("duplicate id".into()));
        }
        if raw.points == 0 {
            return Err(fail(
                "points must be negative (critical) or positive (good practice)".into(),
            ));
        }
        if raw.field.is_empty() || raw.field.starts_with('.') || raw.field.ends_with('.') {
            return Err(fail(format!(
                "field must be a dotted path such as securityContext.runAsNonRoot, found {:?}",
                raw.field
            )));
        }
        let applies_to = match (&raw.applies_to, raw.scope) {
            (None, _) => ContainerKind::ALL.iter().map(|(_, kind)| *kind).collect(),
            (Some(_), Scope::Pod) => {
                return Err(fail("applies_to is for container rules".into()));
            }
            (Some(names), Scope::Container) => names
                .iter()
                .map(|name| {
                    ContainerKind::ALL
                        .iter()
                        .find(|(known, _)| known == name)
                        .map(|(_, kind)| *kind)
                        .ok_or_else(|| {
                            fail(format!(
                                "applies_to: unknown container list {name:?} (containers, initContainers, ephemeralContainers)"
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let expect = parse_expect(&raw.expect, raw.when_unset).map_err(&fail)?;
        if raw.selector.trim().is_empty() || raw.reason.trim().is_empty() {
            return Err(fail("selector and reason must not be empty".into()));
        }
        rules.push(PodRule {
            points: raw.points,
            scope: raw.scope,
            applies_to,
            field: raw.field,
            expect,
            selector: raw.selector,
            reason: raw.reason,
            id: raw.id,
        });
    }
    let mut static_pods = Vec::new();
    for spanned in raw.static_pod {
        let line = lines.line_of(spanned.span().start);
        let raw = spanned.into_inner();
        if raw.component.trim().is_empty() {
            return Err(refuse(format!("line {line}: static_pod: empty component")));
        }
        static_pods.push(StaticPodException {
            component: raw.component,
            expected_rules: raw.expected_rules,
            host_paths: raw
                .host_paths
                .iter()
                .map(|path| normalize_host_path(path))
                .collect(),
            expected_pod_security: raw.expected_pod_security,
            reason: raw.reason,
        });
    }
    Ok(RuleSet { rules, static_pods })
}

impl RuleSet {
    /// Every rule a static pod exception names exists (checked once all files are merged).
    pub fn validate(&self, origin: &str) -> Result<(), InputError> {
        for exception in &self.static_pods {
            if let Some(unknown) = exception
                .expected_rules
                .iter()
                .find(|id| !self.rules.iter().any(|rule| rule.id == **id))
            {
                return Err(InputError::Config {
                    path: origin.into(),
                    message: format!(
                        "static_pod {:?}: expected_rules names unknown rule {unknown:?}",
                        exception.component
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A hostPath as the kubelet means it: repeated and trailing slashes and `.` components do not
/// change the directory (`/etc/` is `/etc`), so they must not change a match either.
pub fn normalize_host_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if path.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_load_and_selectors_name_their_field() {
        let set = load_embedded().expect("shipped rules are valid");
        assert!(set.rules.len() >= 20);
        for rule in &set.rules {
            let last = rule.field.rsplit('.').next().unwrap_or_default();
            assert!(
                rule.selector.contains(last),
                "{}: selector {:?} does not mention {last}",
                rule.id,
                rule.selector
            );
        }
        assert!(set.static_pods.iter().any(|s| s.component == "etcd"));
    }

    #[test]
    fn bad_rules_are_refused_with_their_line() {
        let text = "[[rule]]\nid = \"pod.x\"\npoints = 0\nscope = \"pod\"\nfield = \"spec.x\"\n\
                    expect = { eq = true }\nselector = \"s x\"\nreason = \"r\"\n";
        let message = load_str("f.toml", text)
            .expect_err("zero points")
            .to_string();
        assert!(
            message.contains("line 1") && message.contains("pod.x"),
            "{message}"
        );
        let unknown = "[[static_pod]]\ncomponent = \"etcd\"\nexpected_rules = [\"pod.nope\"]\nreason = \"r\"\n";
        let message = load_str("f.toml", unknown)
            .and_then(|set| set.validate("f.toml"))
            .expect_err("unknown rule")
            .to_string();
        assert!(message.contains("pod.nope"), "{message}");
        let message = load_str(
            "f.toml",
            &text
                .replace("points = 0", "points = 1")
                .replace("eq =", "equals ="),
        )
        .expect_err("bad operator")
        .to_string();
        assert!(message.contains("equals"), "{message}");
    }

    #[test]
    fn host_paths_normalise_slashes_only() {
        assert_eq!(normalize_host_path("/etc/"), "/etc");
        assert_eq!(
            normalize_host_path("//var//run/./docker.sock"),
            "/var/run/docker.sock"
        );
        assert_eq!(normalize_host_path("/"), "/");
        assert_eq!(
            normalize_host_path("/etc/kubernetes/pki/"),
            "/etc/kubernetes/pki"
        );
    }
}
