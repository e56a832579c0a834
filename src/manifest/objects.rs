//! Which documents are workloads, and where their pod spec is: a Pod's own `spec`, the pod
//! template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController or Job,
//! the job template's pod template of a CronJob; `List` items one by one. Other kinds are noted
//! and skipped, not errors.

use super::view::{PodView, SeccompAnnotations, pod_view};
use super::yaml::{Document, Node};

/// A workload found in a document, with its pod view.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub document: usize,
    pub line: u64,
    pub pod: PodView,
    /// The pod template as written (`metadata` and `spec`), for checks that judge the fields
    /// themselves rather than the effective settings (the Pod Security Standards).
    pub template: Node,
    /// Where the template is in the object (`[]` for a Pod, `["spec", "template"]`, ...).
    pub template_path: &'static [&'static str],
}

impl Workload {
    /// kubesec's object name: `Pod/web.default`.
    pub fn object(&self) -> String {
        format!(
            "{}/{}.{}",
            self.kind,
            self.name,
            self.namespace.as_deref().unwrap_or("default")
        )
    }
}

#[derive(Debug, Clone)]
pub enum Extracted {
    Workload(Box<Workload>),
    /// Not a workload: a note, not an error.
    Ignored {
        document: usize,
        line: u64,
        message: String,
    },
    /// A workload without the fields every workload has (no containers, no kind).
    Invalid {
        document: usize,
        line: u64,
        message: String,
    },
}

/// Where the pod template is, per workload kind.
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// The workloads (and notes and problems) of one document. `seccomp` says whether the legacy
/// seccomp annotations count: they do for objects sent to the API server, not for static pods.
pub fn extract(document: &Document, seccomp: SeccompAnnotations) -> Vec<Extracted> {
    let mut found = Vec::new();
    extract_node(&document.root, document.index, 0, seccomp, &mut found);
    found
}

fn extract_node(
    node: &Node,
    document: usize,
    depth: usize,
    seccomp: SeccompAnnotations,
    found: &mut Vec<Extracted>,
) {
    let invalid = |line: u64, message: String| Extracted::Invalid {
        document,
        line,
        message,
    };
    let Some(kind) = node.get("kind").and_then(Node::as_str) else {
        found.push(invalid(
            node.line,
            "not a Kubernetes object: no `kind`".into(),
        ));
        return;
    };
    let name = node
        .at(&["metadata", "name"])
        .and_then(Node::as_str)
        .or_else(|| {
            node.at(&["metadata", "generateName"])
                .and_then(Node::as_str)
        })
        .unwrap_or("(unnamed)")
        .to_string();
    if kind == "List" || (kind.ends_with("List") && node.get("items").is_some()) {
        // Nested lists are not a thing the API server returns; one level is enough.
        if depth > 0 {
            found.push(invalid(node.line, format!("{kind} nested inside a List")));
            return;
        }
        for item in node.get("items").map(Node::as_seq).unwrap_or_default() {
            extract_node(item, document, depth + 1, seccomp, found);
        }
        return;
    }
    let Some(path) = template_path(kind) else {
        found.push(Extracted::Ignored {
            document,
            line: node.line,
            message: format!("{kind}/{name} ignored: not a workload with a pod spec"),
        });
        return;
    };
    let template = match node.at(path) {
        Some(template) => template,
        None => {
            found.push(invalid(
                node.line,
                format!("{kind}/{name} has no {}", path.join(".")),
            ));
            return;
        }
    };
    let Some(spec) = template.get("spec").filter(|spec| !spec.is_null()) else {
        found.push(invalid(
            template.line,
            format!("{kind}/{name} has no pod spec"),
        ));
        return;
    };
    if spec
        .get("containers")
        .map(Node::as_seq)
        .unwrap_or_default()
        .is_empty()
    {
        found.push(invalid(
            spec.line,
            format!("{kind}/{name} has no containers"),
        ));
        return;
    }
    let pod = pod_view(template.get("metadata"), spec, template.line, seccomp);
    found.push(Extracted::Workload(Box::new(Workload {
        kind: kind.to_string(),
        name,
        namespace: node
            .at(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .map(String::from),
        document,
        line: node.line,
        pod,
        template: template.clone(),
        template_path: path,
    })));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::parse_documents;

    fn extracted(text: &str) -> Vec<Extracted> {
        parse_documents(text)
            .expect("parses")
            .iter()
            .flat_map(|doc| extract(doc, SeccompAnnotations::Honoured))
            .collect()
    }

    #[test]
    fn cron_job_template_and_list_items() {
        let text = "\
kind: List
items:
- kind: CronJob
  metadata: {name: nightly, namespace: jobs}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers: [{name: run}]
- kind: ConfigMap
  metadata: {name: settings}
";
        let found = extracted(text);
        assert_eq!(found.len(), 2);
        let Extracted::Workload(job) = &found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(job.object(), "CronJob/nightly.jobs");
        assert_eq!(job.pod.containers[0].name, "run");
        assert!(
            matches!(&found[1], Extracted::Ignored { message, .. } if message.contains("ConfigMap/settings"))
        );
    }

    #[test]
    fn a_deployment_without_containers_is_invalid() {
        let found =
            extracted("kind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec: {}\n");
        assert!(
            matches!(&found[0], Extracted::Invalid { message, .. } if message.contains("no containers")),
            "{found:?}"
        );
    }
}
