//! Scoring one workload against the pod rules, kubesec-style: critical rules subtract their
//! points when the pod or any container hits them; good-practice rules add theirs when the pod or
//! every container meets them, and are advice otherwise. The score is the sum of both.

use serde::Serialize;

use super::objects::Workload;
use super::rules::{PodRule, Scope};
use super::view::{Field, Fields, Source};
use crate::benchmark::ops;
use crate::benchmark::{Operator, WhenUnset};
use crate::value::Value;

/// Where a rule was (or was not) met: a container (or the pod) and the value seen there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// `web`, `initContainers/setup`, or null for a pod field.
    pub container: Option<String>,
    /// The effective value, or null when unset.
    pub value: Option<String>,
    pub source: Option<Source>,
    pub line: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub id: String,
    pub points: i64,
    pub selector: String,
    pub reason: String,
    /// For a critical hit: where it hit. For advice: where it is not met.
    pub locations: Vec<Location>,
    /// The line to point at (the first location's, else the object's).
    pub line: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scoring {
    pub score: i64,
    pub critical: Vec<RuleResult>,
    pub passed: Vec<RuleResult>,
    pub advise: Vec<RuleResult>,
}

/// Whether `field` meets `rule`'s condition. `None`: the value cannot be compared that way.
fn holds(rule: &PodRule, field: Option<&Field>) -> Result<bool, String> {
    match field {
        None => Ok(match rule.expect.operator {
            Operator::Unset => true,
            _ => rule.expect.when_unset == Some(WhenUnset::Pass),
        }),
        Some(field) => ops::holds(&field.value, &rule.expect),
    }
}

/// For `has_any`, only the elements that matched (the docker.sock, not every hostPath).
fn shown_value(rule: &PodRule, value: &Value) -> String {
    if rule.expect.operator == Operator::HasAny {
        let wanted = rule.expect.value.elements();
        let matched: Vec<String> = value
            .elements()
            .iter()
            .filter(|element| wanted.iter().any(|w| w.equals(element)))
            .map(ToString::to_string)
            .collect();
        if !matched.is_empty() {
            return matched.join(", ");
        }
    }
    value.to_string()
}

fn location(
    rule: &PodRule,
    container: Option<String>,
    field: Option<&Field>,
    fallback: u64,
) -> Location {
    Location {
        container,
        value: field.map(|f| shown_value(rule, &f.value)),
        source: field.map(|f| f.source),
        line: field.map_or(fallback, |f| {
            if rule.expect.operator == Operator::HasAny {
                f.line_of_any(&rule.expect.value.elements())
            } else {
                f.line
            }
        }),
    }
}

pub fn score(workload: &Workload, rules: &[PodRule]) -> Scoring {
    let pod = &workload.pod;
    let mut scoring = Scoring {
        score: 0,
        critical: Vec::new(),
        passed: Vec::new(),
        advise: Vec::new(),
    };
    for rule in rules {
        // (container label, fields, line) for each place the rule looks.
        let places: Vec<(Option<String>, &Fields, u64)> = match rule.scope {
            Scope::Pod => vec![(None, &pod.fields, workload.line)],
            Scope::Container => pod
                .containers
                .iter()
                .filter(|c| rule.applies_to.contains(&c.kind))
                .map(|c| (Some(c.label()), &c.fields, c.line))
                .collect(),
        };
        if places.is_empty() {
            continue;
        }
        let mut meeting = Vec::new();
        let mut failing = Vec::new();
        for (container, fields, line) in places {
            let field = fields.get(&rule.field);
            // A value that cannot be compared (runAsUser: "abc") does not meet the condition.
            let met = holds(rule, field).unwrap_or(false);
            let place = location(rule, container, field, line);
            if met {
                meeting.push(place);
            } else {
                failing.push(place);
            }
        }
        let result = |locations: Vec<Location>| RuleResult {
            id: rule.id.clone(),
            points: rule.points,
            selector: rule.selector.clone(),
            reason: rule.reason.clone(),
            line: locations.first().map_or(workload.line, |l| l.line),
            locations,
        };
        if rule.is_critical() {
            if !meeting.is_empty() {
                scoring.score += rule.points;
                scoring.critical.push(result(meeting));
            }
        } else if failing.is_empty() {
            scoring.score += rule.points;
            scoring.passed.push(result(Vec::new()));
        } else {
            scoring.advise.push(result(failing));
        }
    }
    // Most severe first; the most valuable advice first (stable: rule order breaks ties).
    scoring.critical.sort_by_key(|r| r.points);
    scoring.advise.sort_by_key(|r| -r.points);
    scoring
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::objects::{Extracted, extract};
    use crate::manifest::rules::load_embedded;
    use crate::manifest::yaml::parse_documents;

    fn scored(text: &str) -> Scoring {
        let docs = parse_documents(text).expect("parses");
        let Some(Extracted::Workload(workload)) =
            extract(&docs[0], crate::manifest::SeccompAnnotations::Honoured)
                .into_iter()
                .next()
        else {
            panic!("not a workload");
        };
        score(&workload, &load_embedded().expect("rules").rules)
    }

    fn ids(results: &[RuleResult]) -> Vec<&str> {
        results.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn host_path_matches_exactly_never_by_prefix() {
        let pod = |path: &str| {
            format!(
                "kind: Pod\nmetadata: {{name: p}}\nspec:\n  volumes:\n  - name: v\n    hostPath: {{path: \"{path}\"}}\n  containers: [{{name: a}}]\n"
            )
        };
        for safe in [
            "/etc/kubernetes/pki",
            "/var/run/docker.sock.d",
            "/etcd",
            "/usr/share/ca-certificates",
        ] {
            let scoring = scored(&pod(safe));
            assert!(
                scoring.critical.is_empty(),
                "{safe}: {:?}",
                ids(&scoring.critical)
            );
        }
        for bad in ["/etc/", "/", "//var/run/docker.sock", "/proc"] {
            let scoring = scored(&pod(bad));
            assert_eq!(scoring.critical.len(), 1, "{bad}");
        }
    }

    #[test]
    fn one_unhardened_container_keeps_the_advice() {
        let scoring = scored(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext: {runAsNonRoot: true}\n  - name: b\n",
        );
        let advice = scoring
            .advise
            .iter()
            .find(|r| r.id == "pod.run-as-non-root")
            .expect("advice");
        assert_eq!(advice.locations.len(), 1);
        assert_eq!(advice.locations[0].container.as_deref(), Some("b"));
    }

    #[test]
    fn capability_all_counts_as_sys_admin() {
        let scoring = scored(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext:\n      capabilities: {add: [ALL]}\n",
        );
        assert_eq!(ids(&scoring.critical), ["pod.cap-sys-admin"]);
        assert!(ids(&scoring.advise).contains(&"pod.cap-add-minimal"));
    }
}
