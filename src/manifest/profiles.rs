//! The Localhost seccomp and AppArmor profiles a workload references
//! (`seccompProfile.localhostProfile: profiles/fine-grained.json`,
//! `container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-deny-write`), checked
//! against what a node has: the seccomp file under the kubelet's seccomp root, valid; the AppArmor
//! profile loaded in enforce mode. A pod that references a profile its node does not have does
//! not start, so each mismatch is reported as a problem of that object.

use serde::Serialize;

use super::objects::Workload;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    Seccomp,
    AppArmor,
}

/// One Localhost profile reference of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileRef {
    pub kind: ProfileKind,
    /// As the manifest names it: relative to the seccomp root, or the AppArmor profile name.
    pub name: String,
    pub container: String,
    pub line: u64,
}

/// Every Localhost profile the workload's containers would run with.
pub fn references(workload: &Workload) -> Vec<ProfileRef> {
    let mut refs = Vec::new();
    for container in &workload.pod.containers {
        for (kind, field) in [
            (ProfileKind::Seccomp, "seccompProfile"),
            (ProfileKind::AppArmor, "appArmorProfile"),
        ] {
            let fields = &container.fields;
            let localhost = fields
                .get(&format!("securityContext.{field}.type"))
                .is_some_and(|f| f.value.equals(&Value::str("Localhost")));
            if !localhost {
                continue;
            }
            if let Some(profile) = fields.get(&format!("securityContext.{field}.localhostProfile"))
            {
                refs.push(ProfileRef {
                    kind,
                    name: profile.value.to_string(),
                    container: container.label(),
                    line: profile.line,
                });
            }
        }
    }
    refs
}

/// A reference the node cannot satisfy, or cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileProblem {
    /// `node.seccomp-profile-missing`, `node.apparmor-profile-not-loaded`, ...
    pub id: &'static str,
    pub kind: ProfileKind,
    pub profile: String,
    pub container: String,
    pub line: u64,
    pub message: String,
}

impl ProfileProblem {
    /// The node could not be read well enough to tell (not a failure of the manifest).
    pub fn is_unchecked(&self) -> bool {
        self.id.ends_with("-unchecked")
    }
}
