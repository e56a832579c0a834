//! Whether the node can satisfy the Localhost seccomp and AppArmor profiles a manifest
//! references: each reference ([`crate::manifest::profiles::references`]) against what the node
//! has ([`NodeProfiles`], read by `host::manifests`). Pure; used by `hardnode manifest scan
//! --node` and the `manifests.static-pods` rule.

use crate::host::Observed;
use crate::host::facts::{AppArmorFacts, ProfileVerdict};
use crate::host::manifests::NodeProfiles;
use crate::manifest::profiles::{ProfileKind, ProfileProblem, ProfileRef};

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
        Observed::Absent { .. } if facts.sysfs_present && !facts.module_present => Some((
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
    use crate::host::facts::ProfileFile;
    use crate::host::facts::{LoadedProfile, ProfileList};
    use crate::manifest::objects::{Extracted, extract};
    use crate::manifest::profiles::references;
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
            sysfs_present: true,
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
