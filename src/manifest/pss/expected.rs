//! Which Pod Security Standards violations of a control plane static pod are expected: the
//! `expected_pod_security` entries of its `[[static_pod]]` exception in rules/pod.toml
//! (`CONTROL` or `CONTROL FIELD`, `[*]` in FIELD matching any index). A `hostPathVolumes`
//! violation is expected only for a path among the component's `host_paths`, so a control plane
//! pod that mounts the container runtime's socket is still reported.

use super::{Violation, node_at};
use crate::manifest::objects::Workload;
use crate::manifest::rules::{StaticPodException, normalize_host_path};

/// `spec.volumes[3].hostPath` as `spec.volumes[*].hostPath`.
fn starred(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Whether `violation` of `workload` is one `exception` expects.
pub fn is_expected(
    workload: &Workload,
    violation: &Violation,
    exception: &StaticPodException,
) -> bool {
    // The field relative to the pod template, as the entries write it (static pods are Pods,
    // so this is the field itself).
    let prefix: String = workload
        .template_path
        .iter()
        .map(|segment| format!("{segment}."))
        .collect();
    let field = violation
        .field
        .strip_prefix(prefix.as_str())
        .unwrap_or(&violation.field);
    let listed = exception.expected_pod_security.iter().any(|entry| {
        let mut words = entry.split_whitespace();
        let control = words.next().unwrap_or_default();
        control == violation.control_id
            && match words.next() {
                None => true,
                Some(pattern) => pattern == field || pattern == starred(field),
            }
    });
    if !listed {
        return false;
    }
    if violation.control_id == "hostPathVolumes" {
        return node_at(&workload.template, &format!("{field}.path"))
            .and_then(|node| node.as_str())
            .is_some_and(|path| exception.host_paths.contains(&normalize_host_path(path)));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_starred() {
        assert_eq!(
            starred("spec.containers[12].ports[0].hostPort"),
            "spec.containers[*].ports[*].hostPort"
        );
    }
}
