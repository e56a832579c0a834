//! A pod spec flattened into `dotted.path -> value` fields, and each container's *effective*
//! settings: its own securityContext, then the pod-level securityContext for the fields that
//! exist at both levels, then the legacy seccomp / AppArmor annotations — the order in which the
//! kubelet applies them. Rules read these views, so precedence is decided once, here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{ContainerKind, normalize_host_path};
use super::yaml::{Kind, Node};
use crate::value::Value;

/// Where an effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The field itself (a pod field, or the container's own securityContext).
    Spec,
    /// The pod-level securityContext, inherited by a container that does not set it.
    PodSecurityContext,
    /// A legacy `seccomp.security.alpha...` / `container.apparmor.security.beta...` annotation.
    Annotation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub value: Value,
    pub line: u64,
    pub source: Source,
    /// For a list value, the line of each element (a hostPath match points at its own line).
    pub element_lines: Vec<u64>,
}

impl Field {
    /// The line of the first list element equal to one of `wanted`, else the field's line.
    pub fn line_of_any(&self, wanted: &[Value]) -> u64 {
        match &self.value {
            Value::List(items) => items
                .iter()
                .zip(&self.element_lines)
                .find(|(item, _)| wanted.iter().any(|w| w.equals(item)))
                .map_or(self.line, |(_, line)| *line),
            _ => self.line,
        }
    }
}

pub type Fields = BTreeMap<String, Field>;

#[derive(Debug, Clone)]
pub struct ContainerView {
    pub name: String,
    pub kind: ContainerKind,
    pub line: u64,
    pub fields: Fields,
}

impl ContainerView {
    /// `web`, or `initContainers/setup` for containers outside `containers`.
    pub fn label(&self) -> String {
        match self.kind {
            ContainerKind::Regular => self.name.clone(),
            other => format!("{}/{}", other.field(), self.name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PodView {
    pub line: u64,
    /// `metadata.*` and `spec.*` of the pod (or of the workload's pod template).
    pub fields: Fields,
    pub containers: Vec<ContainerView>,
}

/// securityContext fields that exist on the pod and on the container; the container's wins.
const INHERITED: &[&str] = &[
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "seccompProfile",
    "appArmorProfile",
    "seLinuxOptions",
    "windowsOptions",
];

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";
const APPARMOR_CONTAINER_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Builds the view of a pod from its `metadata` and `spec` nodes.
pub fn pod_view(
    metadata: Option<&Node>,
    spec: &Node,
    line: u64,
    seccomp: SeccompAnnotations,
) -> PodView {
    let mut fields = Fields::new();
    if let Some(metadata) = metadata {
        flatten(metadata, "metadata", false, &mut fields);
    }
    flatten(spec, "spec", false, &mut fields);
    for (path, field) in fields.iter_mut() {
        if path.ends_with("hostPath.path") {
            field.value = match &field.value {
                Value::List(items) => Value::List(items.iter().map(normalize_path_value).collect()),
                single => normalize_path_value(single),
            };
        }
    }
    let annotations: BTreeMap<String, (String, u64)> = metadata
        .and_then(|m| m.get("annotations"))
        .map(|node| match &node.kind {
            Kind::Map(entries) => entries
                .iter()
                .filter_map(|(key, value)| {
                    scalar_text(value).map(|text| (key.clone(), (text, value.line)))
                })
                .collect(),
            _ => BTreeMap::new(),
        })
        .unwrap_or_default();

    let pod_security: Fields = fields
        .iter()
        .filter_map(|(path, field)| {
            let rest = path.strip_prefix("spec.securityContext.")?;
            Some((format!("securityContext.{rest}"), field.clone()))
        })
        .collect();

    let mut containers = Vec::new();
    for (list, kind) in ContainerKind::ALL {
        for node in spec.get(list).map(Node::as_seq).unwrap_or_default() {
            let name = node
                .get("name")
                .and_then(scalar_text)
                .unwrap_or_else(|| "(unnamed)".into());
            let mut own = Fields::new();
            flatten(node, "", false, &mut own);
            for list in ["add", "drop"] {
                if let Some(field) = own.get_mut(&format!("securityContext.capabilities.{list}")) {
                    field.value = match &field.value {
                        Value::List(items) => Value::List(items.iter().map(capability).collect()),
                        single => capability(single),
                    };
                }
            }
            inherit(&mut own, &name, &pod_security, &annotations, seccomp);
            containers.push(ContainerView {
                name,
                kind,
                line: node.line,
                fields: own,
            });
        }
    }
    PodView {
        line,
        fields,
        containers,
    }
}

/// A capability as containerd and CRI-O apply it: only the exact word `ALL` means every
/// capability (`all` is skipped, so `drop: [all]` drops nothing); any other name is upper-cased
/// (`sys_admin` is `SYS_ADMIN`). A `CAP_` prefix is removed so `CAP_SYS_ADMIN` is still seen as
/// the request for SYS_ADMIN it is meant to be.
fn capability(value: &Value) -> Value {
    match value {
        Value::Str(name) if name == "ALL" || name.eq_ignore_ascii_case("all") => value.clone(),
        Value::Str(name) => {
            let upper = name.to_ascii_uppercase();
            Value::Str(upper.strip_prefix("CAP_").unwrap_or(&upper).to_string())
        }
        other => other.clone(),
    }
}

fn normalize_path_value(value: &Value) -> Value {
    match value {
        Value::Str(path) => Value::Str(normalize_host_path(path)),
        other => other.clone(),
    }
}

/// Whether the legacy seccomp annotations count. The API server copies them into the fields of
/// a pod it admits (when the fields are unset), but the kubelet itself reads only the fields, so
/// for a static pod they do nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeccompAnnotations {
    Honoured,
    Ignored,
}

/// Fills in what the container does not set itself, in the kubelet's order. Profiles are whole
/// subtrees: a container's `seccompProfile` replaces the pod's, it is not merged with it.
/// - seccomp: container field, container annotation, pod field, pod annotation (annotations
///   only as the API server syncs them);
/// - AppArmor: container field, container annotation, pod field (the kubelet's own order, which
///   static pods get too);
/// - runAsNonRoot, runAsUser, ...: container field, pod field.
fn inherit(
    container: &mut Fields,
    name: &str,
    pod_security: &Fields,
    annotations: &BTreeMap<String, (String, u64)>,
    seccomp: SeccompAnnotations,
) {
    let container_annotation = |prefix: &str| annotations.get(&format!("{prefix}{name}"));
    for field in INHERITED {
        let prefix = format!("securityContext.{field}");
        let under = |key: &str| {
            key == prefix
                || key
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        if container.keys().any(|key| under(key)) {
            continue;
        }
        let honour_seccomp = seccomp == SeccompAnnotations::Honoured;
        let before_pod = match *field {
            "seccompProfile" if honour_seccomp => {
                container_annotation(SECCOMP_CONTAINER_ANNOTATION)
            }
            "appArmorProfile" => container_annotation(APPARMOR_CONTAINER_ANNOTATION),
            _ => None,
        };
        if let Some((value, line)) = before_pod {
            insert_profile(container, field, value, *line);
            continue;
        }
        let mut inherited = false;
        for (key, value) in pod_security.iter().filter(|(key, _)| under(key)) {
            inherited = true;
            container.insert(
                key.clone(),
                Field {
                    source: Source::PodSecurityContext,
                    ..value.clone()
                },
            );
        }
        if !inherited
            && *field == "seccompProfile"
            && honour_seccomp
            && let Some((value, line)) = annotations.get(SECCOMP_POD_ANNOTATION)
        {
            insert_profile(container, field, value, *line);
        }
    }
}

/// `runtime/default`, `docker/default`, `localhost/<name>`, `unconfined` as a profile type.
fn insert_profile(container: &mut Fields, field: &str, annotation: &str, line: u64) {
    let (kind, localhost) = match annotation {
        "runtime/default" | "docker/default" => ("RuntimeDefault", None),
        "unconfined" => ("Unconfined", None),
        other => match other.strip_prefix("localhost/") {
            Some(name) => ("Localhost", Some(name)),
            // Unknown: kept verbatim so no rule mistakes it for a known profile type.
            None => (other, None),
        },
    };
    let make = |value: &str| Field {
        value: Value::str(value),
        line,
        source: Source::Annotation,
        element_lines: Vec::new(),
    };
    container.insert(format!("securityContext.{field}.type"), make(kind));
    if let Some(name) = localhost {
        container.insert(
            format!("securityContext.{field}.localhostProfile"),
            make(name),
        );
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Str(text) | Kind::Number(text) => Some(text.clone()),
        Kind::Int(value) => Some(value.to_string()),
        Kind::Bool(value) => Some(value.to_string()),
        _ => None,
    }
}

fn scalar_value(node: &Node) -> Option<Value> {
    match &node.kind {
        Kind::Bool(value) => Some(Value::Bool(*value)),
        Kind::Int(value) => Some(Value::Int(*value)),
        Kind::Str(text) | Kind::Number(text) => Some(Value::Str(text.clone())),
        _ => None,
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Adds every scalar under `node` as `path -> value`. A list of scalars is one list value; a list
/// of mappings is addressed with `[]` and each leaf collects the values of every element. Nulls
/// and empty lists are unset.
fn flatten(node: &Node, path: &str, in_list: bool, out: &mut Fields) {
    match &node.kind {
        Kind::Null => {}
        Kind::Map(entries) => {
            for (key, value) in entries {
                flatten(value, &join(path, key), in_list, out);
            }
        }
        Kind::Seq(items) if items.iter().all(|item| scalar_value(item).is_some()) => {
            let values: Vec<Value> = items.iter().filter_map(scalar_value).collect();
            let lines = items.iter().map(|item| item.line).collect();
            if !values.is_empty() {
                push(out, path, Value::List(values), lines, node.line, in_list);
            }
        }
        Kind::Seq(items) => {
            for item in items {
                flatten(item, &format!("{path}[]"), true, out);
            }
        }
        _ => {
            if let Some(value) = scalar_value(node) {
                push(out, path, value, vec![node.line], node.line, in_list);
            }
        }
    }
}

/// Sets `path`, or inside a list of mappings appends to the values collected there.
fn push(out: &mut Fields, path: &str, value: Value, lines: Vec<u64>, line: u64, in_list: bool) {
    if !in_list {
        let element_lines = if matches!(value, Value::List(_)) {
            lines
        } else {
            Vec::new()
        };
        out.insert(
            path.to_string(),
            Field {
                value,
                line,
                source: Source::Spec,
                element_lines,
            },
        );
        return;
    }
    let values = match value {
        Value::List(values) => values,
        single => vec![single],
    };
    match out.get_mut(path) {
        Some(Field {
            value: Value::List(existing),
            element_lines,
            ..
        }) => {
            existing.extend(values);
            element_lines.extend(lines);
        }
        _ => {
            out.insert(
                path.to_string(),
                Field {
                    value: Value::List(values),
                    line,
                    source: Source::Spec,
                    element_lines: lines,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::parse_documents;

    fn view(text: &str) -> PodView {
        let docs = parse_documents(text).expect("parses");
        let root = &docs[0].root;
        pod_view(
            root.get("metadata"),
            root.get("spec").expect("spec"),
            1,
            SeccompAnnotations::Honoured,
        )
    }

    const POD: &str = "\
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-deny-write
    seccomp.security.alpha.kubernetes.io/pod: runtime/default
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 12000
    seccompProfile:
      type: Localhost
      localhostProfile: profiles/fine-grained.json
  volumes:
  - name: a
    hostPath:
      path: /etc/
  - name: b
    hostPath:
      path: /var/run/docker.sock
  containers:
  - name: app
    securityContext:
      runAsNonRoot: false
  - name: side
    securityContext:
      seccompProfile:
        type: RuntimeDefault
  initContainers:
  - name: setup
";

    fn get<'a>(view: &'a PodView, container: &str, field: &str) -> Option<&'a Field> {
        view.containers
            .iter()
            .find(|c| c.name == container)
            .and_then(|c| c.fields.get(field))
    }

    #[test]
    fn container_overrides_pod_and_inherits_the_rest() {
        let view = view(POD);
        let app_non_root = get(&view, "app", "securityContext.runAsNonRoot").expect("set");
        assert_eq!(app_non_root.value, Value::Bool(false));
        assert_eq!(app_non_root.source, Source::Spec);
        let app_user = get(&view, "app", "securityContext.runAsUser").expect("inherited");
        assert_eq!(app_user.value, Value::Int(12000));
        assert_eq!(app_user.source, Source::PodSecurityContext);
        // The pod's Localhost profile is inherited whole; the annotation comes after the field.
        assert_eq!(
            get(&view, "app", "securityContext.seccompProfile.type").map(|f| &f.value),
            Some(&Value::str("Localhost"))
        );
        // side's own RuntimeDefault replaces the whole pod-level profile: no localhostProfile.
        assert_eq!(
            get(&view, "side", "securityContext.seccompProfile.type").map(|f| &f.value),
            Some(&Value::str("RuntimeDefault"))
        );
        assert!(
            get(
                &view,
                "side",
                "securityContext.seccompProfile.localhostProfile"
            )
            .is_none()
        );
        assert_eq!(
            get(&view, "setup", "securityContext.runAsNonRoot").map(|f| &f.value),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn apparmor_annotation_applies_to_its_container_only() {
        let view = view(POD);
        let app = get(
            &view,
            "app",
            "securityContext.appArmorProfile.localhostProfile",
        )
        .expect("from annotation");
        assert_eq!(app.value, Value::str("k8s-deny-write"));
        assert_eq!(app.source, Source::Annotation);
        assert!(get(&view, "side", "securityContext.appArmorProfile.type").is_none());
    }

    #[test]
    fn host_paths_collect_across_volumes_normalised() {
        let view = view(POD);
        assert_eq!(
            view.fields
                .get("spec.volumes[].hostPath.path")
                .map(|f| &f.value),
            Some(&Value::List(vec![
                Value::str("/etc"),
                Value::str("/var/run/docker.sock")
            ]))
        );
        assert_eq!(view.containers.len(), 3);
        assert_eq!(view.containers[2].label(), "initContainers/setup");
    }

    #[test]
    fn container_annotations_come_before_the_pod_field() {
        let view = view(
            "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: localhost/x\n\
             \x20   container.seccomp.security.alpha.kubernetes.io/a: unconfined\n\
             spec:\n  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n\
             \x20   seccompProfile: {type: RuntimeDefault}\n  containers:\n  - name: a\n  - name: b\n",
        );
        assert_eq!(
            get(&view, "a", "securityContext.appArmorProfile.type").map(|f| &f.value),
            Some(&Value::str("Localhost"))
        );
        assert_eq!(
            get(&view, "a", "securityContext.seccompProfile.type").map(|f| &f.value),
            Some(&Value::str("Unconfined"))
        );
        assert_eq!(
            get(&view, "b", "securityContext.seccompProfile.type").map(|f| &f.value),
            Some(&Value::str("RuntimeDefault"))
        );
    }

    #[test]
    fn static_pods_ignore_seccomp_annotations_but_not_apparmor_ones() {
        let docs = parse_documents(
            "metadata:\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: runtime/default\n\
             \x20   container.apparmor.security.beta.kubernetes.io/a: runtime/default\n\
             spec:\n  containers:\n  - name: a\n",
        )
        .expect("parses");
        let root = &docs[0].root;
        let view = pod_view(
            root.get("metadata"),
            root.get("spec").expect("spec"),
            1,
            SeccompAnnotations::Ignored,
        );
        assert!(get(&view, "a", "securityContext.seccompProfile.type").is_none());
        assert_eq!(
            get(&view, "a", "securityContext.appArmorProfile.type").map(|f| &f.value),
            Some(&Value::str("RuntimeDefault"))
        );
    }

    #[test]
    fn capabilities_are_read_as_the_runtime_reads_them() {
        let view = view(
            "spec:\n  containers:\n  - name: a\n    securityContext:\n      capabilities:\n\
             \x20       add: [sys_admin, CAP_NET_ADMIN]\n        drop: [all]\n",
        );
        assert_eq!(
            get(&view, "a", "securityContext.capabilities.add").map(|f| &f.value),
            Some(&Value::List(vec![
                Value::str("SYS_ADMIN"),
                Value::str("NET_ADMIN")
            ]))
        );
        // `all` is not `ALL`: containerd skips it, so nothing is dropped.
        assert_eq!(
            get(&view, "a", "securityContext.capabilities.drop").map(|f| &f.value),
            Some(&Value::List(vec![Value::str("all")]))
        );
    }

    #[test]
    fn pod_seccomp_annotation_applies_when_no_field() {
        let view = view(
            "metadata:\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: runtime/default\n\
             spec:\n  containers:\n  - name: a\n",
        );
        assert_eq!(
            get(&view, "a", "securityContext.seccompProfile.type").map(|f| &f.value),
            Some(&Value::str("RuntimeDefault"))
        );
    }
}
