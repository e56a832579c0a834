//! `hardnode manifest scan --standard baseline|restricted`: every pod spec found judged against
//! the Kubernetes Pod Security Standards exactly as the Pod Security admission controller judges
//! it, so a pod that passes here is admitted by a namespace enforcing that level and version.
//!
//! The controls are data ([`controls`], `rules/pss/controls.toml`); this module reads the fields
//! as written in the manifest (not the kubelet's effective settings of `view`: the admission
//! controller compares the API fields, e.g. `drop: [all]` is not `ALL` to it), walks the
//! restricted paths of the pod spec, of every container of initContainers, containers and
//! ephemeralContainers, and of the pod's annotations, and reports each value outside the allowed
//! set with its field path, the value found, what is allowed and its line.
//!
//! A field whose parent has the wrong shape (`securityContext: "yes"`) cannot be judged: it is an
//! error of the input (the API server would reject the object), never a silent pass.

pub mod controls;
pub mod expected;

use serde::Serialize;

use super::objects::Workload;
use super::yaml::{Kind, Node};
use super::{Input, Message, SeccompAnnotations};
use controls::{Applied, Controls, Exemption, FieldRule, Level, Scalar, Scope, Unset, Version};

/// The JSON schema name of a Pod Security Standards report (docs/pod-security.schema.json).
pub const SCHEMA: &str = "hardnode.pod-security/v1";

/// One field outside what a control allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The control as the standard names it: `Privileged Containers`.
    pub control: String,
    /// The admission controller's check id: `privileged`.
    pub control_id: String,
    /// The level the control belongs to.
    pub level: Level,
    /// The field path from the object's root:
    /// `spec.template.spec.initContainers[0].securityContext.privileged`.
    pub field: String,
    /// The container's name, for a container field.
    pub container: Option<String>,
    /// The value found (`null` when the field is unset; for a volume, its type).
    pub found: serde_json::Value,
    /// Whether the field is unset (the control requires it).
    pub unset: bool,
    /// What the control allows, in words.
    pub allowed: String,
    pub line: u64,
}

/// One judged workload.
#[derive(Debug, Clone, Serialize)]
pub struct PssObject {
    pub object: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub file: String,
    pub document: usize,
    pub line: u64,
    /// Whether the object meets the level (no violation).
    pub meets: bool,
    pub violations: Vec<Violation>,
}

/// The level and version judged against.
#[derive(Debug, Clone, Serialize)]
pub struct Standard {
    pub level: Level,
    pub version: Version,
    /// As asked for (`latest` or a version).
    pub requested: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PssSummary {
    pub objects: usize,
    pub meeting: usize,
    pub violating: usize,
    pub violations: usize,
    pub notes: usize,
    pub errors: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PssReport {
    pub schema: &'static str,
    pub standard: Standard,
    pub objects: Vec<PssObject>,
    pub notes: Vec<Message>,
    pub errors: Vec<Message>,
    pub summary: PssSummary,
}

impl PssReport {
    /// 2 when an input could not be read, parsed or judged; 1 when an object violates the
    /// level; else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.errors > 0 {
            crate::error::EXIT_USAGE
        } else if self.summary.violating > 0 {
            crate::error::EXIT_FAIL
        } else {
            crate::error::EXIT_OK
        }
    }
}

/// Judges every workload of every input at `level` and `version`.
pub fn judge_inputs(
    inputs: &[Input],
    controls: &Controls,
    level: Level,
    version: Version,
    requested: &str,
) -> PssReport {
    // The API server copies legacy seccomp annotations into fields only after admission, so the
    // annotations are not effective settings here; `collect`'s choice does not matter to us.
    let (workloads, notes, mut errors) = super::collect(inputs, SeccompAnnotations::Honoured);
    let applied = controls.at(level, version);
    let mut objects = Vec::new();
    for (file, workload) in &workloads {
        let judged = judge(workload, &applied);
        for problem in judged.problems {
            errors.push(Message {
                file: file.clone(),
                document: Some(workload.document),
                line: Some(problem.line),
                message: format!("{}: {}", workload.object(), problem.message),
            });
        }
        objects.push(PssObject {
            object: workload.object(),
            kind: workload.kind.clone(),
            name: workload.name.clone(),
            namespace: workload.namespace.clone(),
            file: file.clone(),
            document: workload.document,
            line: workload.line,
            meets: judged.violations.is_empty(),
            violations: judged.violations,
        });
    }
    let summary = PssSummary {
        objects: objects.len(),
        meeting: objects.iter().filter(|o| o.meets).count(),
        violating: objects.iter().filter(|o| !o.meets).count(),
        violations: objects.iter().map(|o| o.violations.len()).sum(),
        notes: notes.len(),
        errors: errors.len(),
    };
    PssReport {
        schema: SCHEMA,
        standard: Standard {
            level,
            version,
            requested: requested.to_string(),
        },
        objects,
        notes,
        errors,
        summary,
    }
}

/// A field that could not be judged because the input has the wrong shape there.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub violations: Vec<Violation>,
    pub problems: Vec<Problem>,
}

/// The three container lists, in the order the admission controller visits them.
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Judges one workload's pod template against the applied controls.
pub fn judge(workload: &Workload, applied: &[Applied<'_>]) -> Judged {
    let prefix: Vec<&str> = workload.template_path.to_vec();
    let spec_path = join(&prefix, "spec");
    let metadata_path = join(&prefix, "metadata");
    let template = &workload.template;
    let mut judged = Judged::default();
    let mut violations = Vec::new();
    let Some(spec) = template.get("spec") else {
        return judged;
    };
    let mut containers: Vec<(String, String, &Node)> = Vec::new();
    for list in CONTAINER_LISTS {
        match spec.get(list).map(|n| &n.kind) {
            None | Some(Kind::Null) => {}
            Some(Kind::Seq(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let path = format!("{spec_path}.{list}[{index}]");
                    if !matches!(item.kind, Kind::Map(_)) {
                        judged.problems.push(Problem {
                            line: item.line,
                            message: format!("{path} is not a mapping"),
                        });
                        continue;
                    }
                    let name = item
                        .get("name")
                        .and_then(Node::as_str)
                        .unwrap_or("(unnamed)")
                        .to_string();
                    containers.push((path, name, item));
                }
            }
            Some(_) => judged.problems.push(Problem {
                line: spec.get(list).map_or(spec.line, |n| n.line),
                message: format!("{spec_path}.{list} is not a list"),
            }),
        }
    }
    let annotations: Vec<(&str, &Node)> = match template.at(&["metadata", "annotations"]) {
        Some(Node {
            kind: Kind::Map(entries),
            ..
        }) => entries.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        _ => Vec::new(),
    };

    for Applied {
        control,
        definition,
    } in applied
    {
        if definition.exempt.iter().any(|e| exempt(spec, *e)) {
            continue;
        }
        let mut report = |rule: &FieldRule,
                          field: String,
                          container: Option<&str>,
                          found: Found<'_>,
                          fallback_line: u64| {
            let (value, unset, line) = match found {
                Found::Value(node) => (node_json(node), false, node.line),
                Found::Text(text, line) => (serde_json::Value::String(text), false, line),
                Found::Unset(line) => (serde_json::Value::Null, true, line),
            };
            violations.push(Violation {
                control: control.name.clone(),
                control_id: control.id.clone(),
                level: control.level,
                field,
                container: container.map(String::from),
                found: value,
                unset,
                allowed: rule.allowed_text(),
                line: if line > 0 { line } else { fallback_line },
            });
        };
        for rule in &definition.fields {
            match rule.scope {
                Scope::Pod => {
                    let mut walk = Walk::default();
                    resolve(spec, &segments(&rule.path), &spec_path, &mut walk);
                    judged.problems.append(&mut walk.problems);
                    for hit in walk.hits {
                        if let Some(found) = verdict(rule, &hit, || false) {
                            report(rule, hit.path.clone(), None, found, spec.line);
                        }
                    }
                }
                Scope::Container => {
                    for (path, name, node) in &containers {
                        let mut walk = Walk::default();
                        resolve(node, &segments(&rule.path), path, &mut walk);
                        judged.problems.append(&mut walk.problems);
                        for hit in walk.hits {
                            let inherited = || {
                                rule.inherit.as_deref().is_some_and(|pod_path| {
                                    inherited_value_allowed(rule, spec, pod_path, &spec_path)
                                })
                            };
                            if let Some(found) = verdict(rule, &hit, inherited) {
                                report(rule, hit.path.clone(), Some(name), found, node.line);
                            }
                        }
                    }
                }
                Scope::Annotation => {
                    let keys: Vec<String> = match (&rule.key, &rule.key_prefix) {
                        (Some(key), _) if key.contains("{container}") => containers
                            .iter()
                            .map(|(_, name, _)| key.replace("{container}", name))
                            .collect(),
                        (Some(key), _) => vec![key.clone()],
                        (None, Some(prefix)) => annotations
                            .iter()
                            .filter(|(k, _)| k.starts_with(prefix.as_str()))
                            .map(|(k, _)| k.to_string())
                            .collect(),
                        (None, None) => Vec::new(),
                    };
                    for key in keys {
                        let Some((_, value)) = annotations.iter().find(|(k, _)| *k == key) else {
                            continue;
                        };
                        if !value_allowed(rule, value) {
                            report(
                                rule,
                                format!("{metadata_path}.annotations['{key}']"),
                                None,
                                Found::Value(value),
                                template.line,
                            );
                        }
                    }
                }
            }
        }
    }
    judged.violations = violations;
    judged
}

fn join(prefix: &[&str], last: &str) -> String {
    let mut parts = prefix.to_vec();
    parts.push(last);
    parts.join(".")
}

fn segments(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

fn exempt(spec: &Node, exemption: Exemption) -> bool {
    match exemption {
        Exemption::Windows => spec.at(&["os", "name"]).and_then(Node::as_str) == Some("windows"),
        Exemption::UserNamespace => matches!(
            spec.get("hostUsers").map(|n| &n.kind),
            Some(Kind::Bool(false))
        ),
    }
}

/// What a violation found.
enum Found<'a> {
    Value(&'a Node),
    /// A derived value (a volume's type), with its line.
    Text(String, u64),
    Unset(u64),
}

/// One field reached by a path: its value (`None`: missing or null) and line.
#[derive(Debug)]
struct Hit<'a> {
    path: String,
    value: Option<&'a Node>,
    line: u64,
    /// The leaf's own parent mapping is there (so a missing leaf is the Go zero value).
    parent_is_map: bool,
}

#[derive(Debug, Default)]
struct Walk<'a> {
    hits: Vec<Hit<'a>>,
    problems: Vec<Problem>,
}

/// Follows `segments` from `node` (whose path is `path`), collecting the fields reached. A
/// missing or null step ends the walk with one unset hit, unless a `[*]` list lies on the way
/// (an absent list has no elements to judge).
fn resolve<'a>(node: &'a Node, segments: &[&str], path: &str, walk: &mut Walk<'a>) {
    let Some((first, rest)) = segments.split_first() else {
        walk.hits.push(Hit {
            path: path.to_string(),
            value: (!node.is_null()).then_some(node),
            line: node.line,
            parent_is_map: true,
        });
        return;
    };
    let (key, each) = match first.strip_suffix("[*]") {
        Some(key) => (key, true),
        None => (*first, false),
    };
    let child_path = format!("{path}.{key}");
    let lists_ahead = each || rest.iter().any(|s| s.ends_with("[*]"));
    let unset_path = || {
        let mut full = child_path.clone();
        for segment in rest {
            full.push('.');
            full.push_str(segment);
        }
        full
    };
    match &node.kind {
        Kind::Map(_) => {}
        Kind::Null => {
            if !lists_ahead {
                walk.hits.push(Hit {
                    path: unset_path(),
                    value: None,
                    line: node.line,
                    parent_is_map: false,
                });
            }
            return;
        }
        _ => {
            walk.problems.push(Problem {
                line: node.line,
                message: format!("{path} is not a mapping"),
            });
            return;
        }
    }
    match node.get(key) {
        None => {
            if !lists_ahead {
                walk.hits.push(Hit {
                    path: unset_path(),
                    value: None,
                    line: node.line,
                    parent_is_map: rest.is_empty(),
                });
            }
        }
        Some(child) if child.is_null() => {
            if !lists_ahead {
                walk.hits.push(Hit {
                    path: unset_path(),
                    value: None,
                    line: child.line,
                    parent_is_map: rest.is_empty(),
                });
            }
        }
        Some(child) if each => match &child.kind {
            Kind::Seq(items) => {
                for (index, item) in items.iter().enumerate() {
                    resolve(item, rest, &format!("{child_path}[{index}]"), walk);
                }
            }
            _ => walk.problems.push(Problem {
                line: child.line,
                message: format!("{child_path} is not a list"),
            }),
        },
        Some(child) => resolve(child, rest, &child_path, walk),
    }
}

/// `None` when the hit is allowed, else what to report. `inherited` says whether the pod-level
/// field covers an unset container field.
fn verdict<'a>(
    rule: &FieldRule,
    hit: &Hit<'a>,
    inherited: impl FnOnce() -> bool,
) -> Option<Found<'a>> {
    match hit.value {
        Some(value) => {
            if value_allowed(rule, value) {
                None
            } else if let Some(keys) = &rule.one_of_keys {
                Some(Found::Text(volume_type(value, keys), value.line))
            } else {
                Some(Found::Value(value))
            }
        }
        None if rule.missing_is_empty && hit.parent_is_map => {
            let empty = Node {
                line: hit.line,
                kind: Kind::Str(String::new()),
            };
            (!value_allowed(rule, &empty)).then(|| Found::Text(String::new(), hit.line))
        }
        None => match rule.unset {
            Unset::Allowed => None,
            Unset::Forbidden => Some(Found::Unset(hit.line)),
            Unset::Inherit => (!inherited()).then_some(Found::Unset(hit.line)),
        },
    }
}

/// Whether the pod-level field at `pod_path` is set to a value `rule` allows.
fn inherited_value_allowed(rule: &FieldRule, spec: &Node, pod_path: &str, spec_path: &str) -> bool {
    let mut walk = Walk::default();
    resolve(spec, &segments(pod_path), spec_path, &mut walk);
    walk.hits.len() == 1
        && walk.hits.iter().all(|hit| match hit.value {
            Some(value) => value_allowed(rule, value),
            // `seccompProfile: {}` at the pod level sets the type to "", which is no cover.
            None => false,
        })
}

fn scalar_eq(scalar: &Scalar, node: &Node) -> bool {
    match (scalar, &node.kind) {
        (Scalar::Bool(a), Kind::Bool(b)) => a == b,
        (Scalar::Int(a), Kind::Int(b)) => a == b,
        (Scalar::Str(a), Kind::Str(b)) => a == b,
        _ => false,
    }
}

fn value_allowed(rule: &FieldRule, value: &Node) -> bool {
    if let Some(allowed) = &rule.allowed {
        allowed.iter().any(|a| scalar_eq(a, value))
            || value.as_str().is_some_and(|text| {
                rule.allowed_prefixes
                    .iter()
                    .any(|prefix| text.starts_with(prefix.as_str()))
            })
    } else if let Some(forbidden) = &rule.forbidden {
        !forbidden.iter().any(|f| scalar_eq(f, value))
    } else if let Some(element) = &rule.must_contain {
        value
            .as_seq()
            .iter()
            .any(|item| item.as_str() == Some(element))
    } else if let Some(keys) = &rule.one_of_keys {
        let set = |key: &String| value.get(key).is_some_and(|v| !v.is_null());
        let sets_nothing = match &value.kind {
            Kind::Map(entries) => entries.iter().all(|(key, v)| key == "name" || v.is_null()),
            _ => false,
        };
        keys.iter().any(set)
            || (sets_nothing && rule.default_key.as_ref().is_some_and(|k| keys.contains(k)))
    } else {
        // The loader refuses a rule without a condition.
        false
    }
}

/// The type of a volume the allowed list does not have: its first set source key.
fn volume_type(volume: &Node, allowed: &[String]) -> String {
    match &volume.kind {
        Kind::Map(entries) => entries
            .iter()
            .find(|(key, value)| key != "name" && !value.is_null() && !allowed.contains(key))
            .map_or_else(|| "unknown".to_string(), |(key, _)| key.clone()),
        _ => "unknown".to_string(),
    }
}

/// A node as JSON, for the report's `found`.
pub fn node_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Bool(value) => Value::Bool(*value),
        Kind::Int(value) => Value::from(*value),
        Kind::Number(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(text.clone()), Value::Number),
        Kind::Str(text) => Value::String(text.clone()),
        Kind::Seq(items) => Value::Array(items.iter().map(node_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), node_json(value)))
                .collect(),
        ),
    }
}

/// The node at a violation's field path (`spec.volumes[2].hostPath`) under `root`, for callers
/// that need more of the value than the report shows (the static pod check reads the hostPath's
/// `path`). Annotation paths are not resolved.
pub fn node_at<'a>(root: &'a Node, field: &str) -> Option<&'a Node> {
    let mut node = root;
    for segment in field.split('.') {
        match segment.split_once('[') {
            Some((key, index)) => {
                let index: usize = index.strip_suffix(']')?.parse().ok()?;
                node = node.get(key)?.as_seq().get(index)?;
            }
            None => node = node.get(segment)?,
        }
    }
    Some(node)
}

impl Violation {
    /// What was found, as shown: the value, or `unset`.
    pub fn found_text(&self) -> String {
        if self.unset {
            "unset".to_string()
        } else {
            self.found.to_string()
        }
    }

    /// One line: `Capabilities (restricted): spec.containers[0]... = ["NET_RAW"], line 14;
    /// allowed: ...` — the same in the scan's output and the static-pods rule's evidence.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}): {} = {}, line {}; allowed: {}",
            self.control,
            self.level,
            self.field,
            self.found_text(),
            self.line,
            self.allowed
        )
    }
}

/// The rule id a control is reported under (SARIF, the static-pods evidence).
pub fn rule_id(control_id: &str) -> String {
    format!("pod-security.{control_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::objects::{Extracted, extract};
    use crate::manifest::yaml::parse_documents;

    fn judge_text(text: &str, level: Level) -> Judged {
        let controls = controls::load_embedded().expect("controls");
        let applied = controls.at(level, controls.latest);
        let documents = parse_documents(text).expect("parses");
        let found = extract(&documents[0], SeccompAnnotations::Honoured);
        let Some(Extracted::Workload(workload)) = found.first() else {
            panic!("{found:?}")
        };
        judge(workload, &applied)
    }

    #[test]
    fn a_missing_profile_type_under_a_set_profile_is_the_empty_type() {
        let judged = judge_text(
            "kind: Pod\nspec:\n  securityContext:\n    seccompProfile: {}\n  containers: [{name: a}]\n",
            Level::Baseline,
        );
        assert_eq!(judged.violations.len(), 1, "{judged:?}");
        assert_eq!(
            judged.violations[0].field,
            "spec.securityContext.seccompProfile.type"
        );
        assert_eq!(judged.violations[0].found, serde_json::json!(""));
        // A null profile is no profile: nothing to judge at baseline.
        let judged = judge_text(
            "kind: Pod\nspec:\n  securityContext:\n    seccompProfile: null\n  containers: [{name: a}]\n",
            Level::Baseline,
        );
        assert!(judged.violations.is_empty(), "{judged:?}");
    }

    #[test]
    fn a_wrongly_shaped_security_context_is_a_problem_not_a_pass() {
        let judged = judge_text(
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext: privileged\n",
            Level::Baseline,
        );
        assert!(
            judged
                .problems
                .iter()
                .any(|p| p.message == "spec.containers[0].securityContext is not a mapping"),
            "{judged:?}"
        );
    }

    #[test]
    fn node_at_follows_indexed_paths() {
        let documents = parse_documents(
            "spec:\n  volumes:\n  - name: a\n  - name: b\n    hostPath: {path: /x}\n",
        )
        .expect("parses");
        let node = node_at(&documents[0].root, "spec.volumes[1].hostPath.path").expect("found");
        assert_eq!(node.as_str(), Some("/x"));
        assert!(node_at(&documents[0].root, "spec.volumes[5]").is_none());
    }
}
