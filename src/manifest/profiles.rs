//! The Localhost seccomp and AppArmor profiles a workload references
//! (`seccompProfile.localhostProfile: profiles/fine-grained.json`,
//! `container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-deny-write`), checked
//! against what a node has: the seccomp file under the kubelet's seccomp root, valid; the AppArmor
//! profile loaded in enforce mode. A pod that references a profile its node does not have does
//! not start, so each mismatch is reported as a problem of that object.

use std::path::PathBuf;

use serde::Serialize;

use super::objects::Workload;
use crate::engine::value::Value;
use crate::host::Observed;
use crate::host::facts::{AppArmorFacts, ProfileFile, ProfileVerdict};

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

/// What a node has, as far as the references need it (gathered by `host::manifests`).
#[derive(Debug, Clone, Serialize)]
pub struct NodeProfiles {
    /// The kubelet's seccomp root (host path).
    pub seccomp_dir: PathBuf,
    /// Each referenced seccomp profile, read and validated.
    pub seccomp: Vec<ProfileFile>,
    /// The node's AppArmor state, when any AppArmor profile is referenced.
    pub apparmor: Option<AppArmorFacts>,
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

pub fn cross_check(refs: &[ProfileRef], node: &NodeProfiles) -> Vec<ProfileProblem> {
    let mut problems = Vec::new();
    for reference in refs {
        let problem = |id: &'static str, message: String| ProfileProblem {
            id,
            kind: reference.kind,
            profile: reference.name.clone(),
            container: reference.container.clone(),
            line: reference.line,
            message,
        };
        let found = match reference.kind {
            ProfileKind::Seccomp => seccomp(reference, node),
            ProfileKind::AppArmor => apparmor(reference, node.apparmor.as_ref()),
        };
        if let Some((id, message)) = found {
            problems.push(problem(id, message));
        }
    }
    problems
}

fn seccomp(reference: &ProfileRef, node: &NodeProfiles) -> Option<(&'static str, String)> {
    let name = &reference.name;
    let Some(file) = node.seccomp.iter().find(|f| f.name == *name) else {
        return Some((
            "node.seccomp-profile-unchecked",
            format!("seccomp profile {name} was not read (a bug: please report it)"),
        ));
    };
    let path = file.path.display();
    match &file.verdict {
        ProfileVerdict::Valid { .. } => None,
        ProfileVerdict::Missing => Some((
            "node.seccomp-profile-missing",
            format!(
                "references seccomp profile {name}, which this node does not have ({path} does not exist): the container will not start"
            ),
        )),
        ProfileVerdict::Invalid { problems } => Some((
            "node.seccomp-profile-invalid",
            format!(
                "references seccomp profile {name}, which is invalid on this node ({path}: {})",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )),
        ProfileVerdict::Unreadable { error } => Some((
            "node.seccomp-profile-unchecked",
            format!("cannot tell whether this node has seccomp profile {name}: {path} {error}"),
        )),
    }
}

fn apparmor(
    reference: &ProfileRef,
    facts: Option<&AppArmorFacts>,
) -> Option<(&'static str, String)> {
    let name = &reference.name;
    let Some(facts) = facts else {
        return Some((
            "node.apparmor-profile-unchecked",
            format!("AppArmor profile {name} was not checked (a bug: please report it)"),
        ));
    };
    let missing = || {
        Some((
            "node.apparmor-profile-not-loaded",
            format!(
                "references AppArmor profile {name}, which this node has not loaded: the container will not start"
            ),
        ))
    };
    match &facts.profiles {
        Observed::Value { value, path } => match value.profiles.iter().find(|p| p.name == *name) {
            Some(profile) if profile.mode == "enforce" => None,
            Some(profile) => Some((
                "node.apparmor-profile-not-enforced",
                format!(
                    "references AppArmor profile {name}, which this node has loaded in {} mode ({}): it only logs, it does not confine",
                    profile.mode,
                    path.display()
                ),
            )),
            None => missing(),
        },
        Observed::Absent { .. } if !facts.module_present => Some((
            "node.apparmor-profile-not-loaded",
            format!(
                "references AppArmor profile {name}, but this node's kernel has no AppArmor: the container will not start"
            ),
        )),
        Observed::Absent { path } => Some((
            "node.apparmor-profile-unchecked",
            format!(
                "cannot tell whether AppArmor profile {name} is loaded: {} does not exist",
                path.display()
            ),
        )),
        Observed::Unreadable { path, error } => Some((
            "node.apparmor-profile-unchecked",
            format!(
                "cannot tell whether AppArmor profile {name} is loaded: {} {error}",
                path.display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::facts::{LoadedProfile, ProfileList};
    use crate::manifest::objects::{Extracted, extract};
    use crate::manifest::yaml::parse_documents;

    const POD: &str = "\
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/a: localhost/k8s-deny-write
spec:
  securityContext:
    seccompProfile: {type: Localhost, localhostProfile: profiles/fine-grained.json}
  containers:
  - name: a
  - name: b
    securityContext:
      seccompProfile: {type: RuntimeDefault}
      appArmorProfile: {type: Localhost, localhostProfile: other}
";

    fn refs() -> Vec<ProfileRef> {
        let docs = parse_documents(POD).expect("parses");
        let Some(Extracted::Workload(workload)) =
            extract(&docs[0], crate::manifest::SeccompAnnotations::Honoured)
                .into_iter()
                .next()
        else {
            panic!("workload");
        };
        references(&workload)
    }

    fn apparmor_with(profiles: &[(&str, &str)]) -> AppArmorFacts {
        AppArmorFacts {
            module_present: true,
            enabled: Observed::Absent { path: "/x".into() },
            lsm: Observed::Absent { path: "/y".into() },
            profiles: Observed::Value {
                path: "/sys/kernel/security/apparmor/profiles".into(),
                value: ProfileList {
                    profiles: profiles
                        .iter()
                        .map(|(name, mode)| LoadedProfile {
                            name: (*name).into(),
                            mode: (*mode).into(),
                        })
                        .collect(),
                    odd_lines: vec![],
                },
            },
        }
    }

    #[test]
    fn references_follow_precedence() {
        let refs = refs();
        let names: Vec<(&str, &str)> = refs
            .iter()
            .map(|r| (r.container.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("a", "profiles/fine-grained.json"),
                ("a", "k8s-deny-write"),
                ("b", "other")
            ]
        );
    }

    #[test]
    fn missing_and_complain_profiles_are_problems() {
        let node = NodeProfiles {
            seccomp_dir: "/var/lib/kubelet/seccomp".into(),
            seccomp: vec![ProfileFile {
                path: "/var/lib/kubelet/seccomp/profiles/fine-grained.json".into(),
                name: "profiles/fine-grained.json".into(),
                verdict: ProfileVerdict::Missing,
            }],
            apparmor: Some(apparmor_with(&[
                ("k8s-deny-write", "enforce"),
                ("other", "complain"),
            ])),
        };
        let ids: Vec<&str> = cross_check(&refs(), &node).iter().map(|p| p.id).collect();
        assert_eq!(
            ids,
            [
                "node.seccomp-profile-missing",
                "node.apparmor-profile-not-enforced"
            ]
        );
    }
}
