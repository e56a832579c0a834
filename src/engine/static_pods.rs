//! `manifests.static-pods`: the kubelet's static pod manifests scored with the pod-hardening
//! rules of `manifest scan`. Critical hits are reported as `warn` (the rule is advisory), except
//! those the control plane needs (hostNetwork for kube-apiserver, etcd, controller-manager and
//! scheduler), which are named as expected. Localhost profiles a static pod references but the
//! node does not have are reported too: that pod cannot start. Each static pod is also judged
//! against the Pod Security Standards' baseline level (latest version): violations are findings,
//! except those the component's `expected_pod_security` names.

use std::path::PathBuf;

use super::{Evidence, Outcome, Verdict};
use crate::host::Observed;
use crate::host::facts::StaticPodFacts;
use crate::manifest::objects::Workload;
use crate::manifest::rules::{RuleSet, StaticPodException};
use crate::manifest::{self, profiles};

const EXPECTED: &str = "no critical pod-hardening finding and no Pod Security Standards baseline \
     violation beyond the control plane's expected exceptions";

pub fn evaluate(facts: &StaticPodFacts) -> Outcome {
    let rules = match manifest::rules::load_embedded() {
        Ok(rules) => rules,
        Err(error) => return Outcome::undecided(format!("pod rules: {error}")),
    };
    evaluate_with(facts, &rules)
}

/// The static pod's baseline violations as evidence; the unexpected ones also as
/// `(object, pod-security.<control>)` pairs. Returns how many were expected.
fn pod_security_baseline(
    file: &str,
    object: &str,
    workload: &Workload,
    exception: Option<&StaticPodException>,
    mut outcome: Outcome,
    unexpected: &mut Vec<(String, String)>,
) -> (Outcome, usize) {
    use crate::manifest::pss::{self, controls};
    let controls = match controls::load_embedded() {
        Ok(controls) => controls,
        Err(error) => {
            unexpected.push((object.to_string(), "pod-security".into()));
            let evidence = manifest_evidence(file, format!("{object}: {error}"));
            return (outcome.evidence(evidence), 0);
        }
    };
    let level = controls::Level::Baseline;
    let judged = pss::judge(workload, &controls.at(level, controls.latest));
    let standard = format!("Pod Security Standards {level} v{}", controls.latest);
    let mut expected = 0;
    for violation in &judged.violations {
        let detail = violation.describe();
        match exception.filter(|e| pss::expected::is_expected(workload, violation, e)) {
            Some(exception) => {
                expected += 1;
                outcome = outcome.evidence(manifest_evidence(
                    file,
                    format!(
                        "{object}: {standard}: {detail} — expected for {}: {}",
                        exception.component, exception.reason
                    ),
                ));
            }
            None => {
                let id = crate::manifest::pss::rule_id(&violation.control_id);
                if !unexpected.iter().any(|(o, i)| o == object && *i == id) {
                    unexpected.push((object.to_string(), id));
                }
                outcome = outcome.evidence(manifest_evidence(
                    file,
                    format!("{object}: {standard}: {detail}"),
                ));
            }
        }
    }
    for problem in &judged.problems {
        unexpected.push((object.to_string(), "pod-security".into()));
        outcome = outcome.evidence(manifest_evidence(
            file,
            format!("{object}: line {}: {}", problem.line, problem.message),
        ));
    }
    (outcome, expected)
}

/// The component a static pod runs: kubeadm's `component` label, else its first container's name.
fn component(workload: &Workload) -> String {
    workload
        .pod
        .fields
        .get("metadata.labels.component")
        .map(|field| field.value.to_string())
        .or_else(|| workload.pod.containers.first().map(|c| c.name.clone()))
        .unwrap_or_default()
}

fn manifest_evidence(path: &str, detail: impl Into<String>) -> Evidence {
    Evidence::new("manifest", Some(PathBuf::from(path)), detail)
}

/// `Pod/a: x, y; Pod/b: z` from (object, id) pairs in order.
fn group_by_object(pairs: &[(String, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (object, id) in pairs {
        match groups.iter_mut().find(|(existing, _)| existing == object) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((object, vec![id])),
        }
    }
    groups
        .iter()
        .map(|(object, ids)| format!("{object}: {}", ids.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn evaluate_with(facts: &StaticPodFacts, rules: &RuleSet) -> Outcome {
    if facts.dir.is_none() {
        return Outcome::new(Verdict::NotApplicable(facts.dir_source.clone()));
    }
    let inputs = match &facts.manifests {
        Observed::Value { value, .. } => value,
        Observed::Absent { path } => {
            return Outcome::new(Verdict::NotApplicable(format!(
                "no static pod directory at {} ({}): this node runs no static pods",
                path.display(),
                facts.dir_source
            )));
        }
        Observed::Unreadable { path, error } => {
            return Outcome::undecided(format!("{} {error}", path.display())).expected(EXPECTED);
        }
    };
    if inputs.is_empty() {
        return Outcome::new(Verdict::NotApplicable(format!(
            "{} holds no static pod manifest",
            facts.manifests.path().display()
        )));
    }
    let (workloads, notes, errors) =
        manifest::collect(inputs, manifest::SeccompAnnotations::Ignored);
    let mut outcome = Outcome::new(Verdict::Met).expected(EXPECTED);
    outcome = outcome.evidence(Evidence::new(
        "manifest",
        Some(facts.manifests.path().to_path_buf()),
        format!("static pod directory: {}", facts.dir_source),
    ));
    let mut unexpected = Vec::new();
    let mut expected_count = 0usize;
    let mut pods = 0usize;
    for (file, workload) in &workloads {
        // The kubelet decodes static pod files as Pods: anything else never runs from here.
        if workload.kind != "Pod" {
            outcome = outcome.evidence(manifest_evidence(
                file,
                format!(
                    "{}: not a Pod, so the kubelet does not run it as a static pod (not scored)",
                    workload.object()
                ),
            ));
            continue;
        }
        pods += 1;
        let scored = manifest::score_object(file, workload, rules, None);
        let component = component(workload);
        let exception: Option<&StaticPodException> =
            rules.static_pods.iter().find(|e| e.component == component);
        let mut expected_here = Vec::new();
        for hit in &scored.scoring.critical {
            let places: Vec<String> = hit
                .locations
                .iter()
                .map(|l| match &l.container {
                    Some(container) => format!(
                        "container {container}: {} (line {})",
                        l.value.as_deref().unwrap_or("not set"),
                        l.line
                    ),
                    None => format!(
                        "{} (line {})",
                        l.value.as_deref().unwrap_or("not set"),
                        l.line
                    ),
                })
                .collect();
            if let Some(exception) = exception.filter(|e| e.expected_rules.contains(&hit.id)) {
                expected_here.push(hit.selector.clone());
                outcome = outcome.evidence(manifest_evidence(
                    file,
                    format!(
                        "{}: {} — expected for {}: {}",
                        scored.object, hit.selector, exception.component, exception.reason
                    ),
                ));
                expected_count += 1;
            } else {
                unexpected.push((scored.object.clone(), hit.id.clone()));
                outcome = outcome.evidence(manifest_evidence(
                    file,
                    format!(
                        "{}: critical {} ({:+}): {} — {}",
                        scored.object,
                        hit.id,
                        hit.points,
                        places.join("; "),
                        hit.reason
                    ),
                ));
            }
        }
        if let Some(exception) = exception {
            let mounted: Vec<String> = workload
                .pod
                .fields
                .get("spec.volumes[].hostPath.path")
                .map(|field| field.value.elements())
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .filter(|path| exception.host_paths.contains(path))
                .collect();
            if !mounted.is_empty() {
                outcome = outcome.evidence(manifest_evidence(
                    file,
                    format!(
                        "{}: hostPath mounts {} are expected for {}",
                        scored.object,
                        mounted.join(", "),
                        exception.component
                    ),
                ));
            }
        }
        let (judged, expected) = pod_security_baseline(
            file,
            &scored.object,
            workload,
            exception,
            outcome,
            &mut unexpected,
        );
        outcome = judged;
        expected_count += expected;
        if scored.scoring.critical.is_empty() {
            outcome = outcome.evidence(manifest_evidence(
                file,
                format!(
                    "{}: no critical finding ({})",
                    scored.object, scored.message
                ),
            ));
        }
        let refs = profiles::references(workload);
        for problem in super::profile_refs::cross_check(&refs, &facts.profiles) {
            if !problem.is_unchecked() {
                unexpected.push((scored.object.clone(), problem.id.to_string()));
            }
            outcome = outcome.evidence(manifest_evidence(
                file,
                format!(
                    "{}: container {} (line {}): {}",
                    scored.object, problem.container, problem.line, problem.message
                ),
            ));
        }
    }
    for note in &notes {
        outcome = outcome.evidence(Evidence::new(
            "manifest",
            Some(PathBuf::from(&note.file)),
            note.to_string(),
        ));
    }
    for error in &errors {
        outcome = outcome.evidence(Evidence::new(
            "manifest",
            Some(PathBuf::from(&error.file)),
            error.to_string(),
        ));
    }
    let summary = format!(
        "{} static pods: {} unexpected critical findings or baseline violations, {} expected exceptions",
        pods,
        unexpected.len(),
        expected_count
    );
    if !unexpected.is_empty() {
        return Outcome {
            verdict: Verdict::Advisory,
            ..outcome
        }
        .actual(summary)
        .reason(format!("unexpected: {}", group_by_object(&unexpected)));
    }
    if !errors.is_empty() {
        let reason = format!(
            "{} static pod manifest(s) cannot be read or parsed: {}",
            errors.len(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        return Outcome {
            verdict: Verdict::Undecided(reason),
            ..outcome
        };
    }
    outcome.actual(summary)
}
