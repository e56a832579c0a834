//! Named probes: rules whose logic is more than comparing one value. Each reads only `Facts`
//! and the site policy.

use std::path::PathBuf;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::Check;
use crate::config::Policy;
use crate::host::Observed;
use crate::host::apparmor::{ENABLED_PARAM, LSM_LIST, MODULE_DIR, SYSFS_KERNEL, SYSFS_MODULES};
use crate::host::facts::{AppArmorFacts, Facts, ProfileFile, ProfileVerdict, SeccompProfileFacts};

pub fn evaluate(check: Check, facts: &Facts, policy: &Policy) -> Outcome {
    // A `[profiles]` source that could not be read leaves the required list incomplete.
    if matches!(check, Check::AppArmorProfiles | Check::SeccompProfiles)
        && !policy.profile_errors.is_empty()
    {
        return Outcome::undecided(format!(
            "the site's profile list cannot be read: {}",
            policy.profile_errors.join("; ")
        ));
    }
    match check {
        Check::AppArmorEnabled => match &facts.apparmor {
            Some(apparmor) => apparmor_enabled(apparmor),
            None => not_gathered(),
        },
        Check::AppArmorProfiles => match &facts.apparmor {
            Some(apparmor) => apparmor_profiles(apparmor, &policy.apparmor.required_profiles),
            None => not_gathered(),
        },
        Check::SeccompProfiles => match &facts.seccomp_profiles {
            Some(profiles) => seccomp_profiles(profiles),
            None => not_gathered(),
        },
        Check::StaticPods => match &facts.static_pods {
            Some(static_pods) => super::static_pods::evaluate(static_pods),
            None => not_gathered(),
        },
        // Evaluated in `engine::components`; never dispatched here.
        Check::EncryptionProviders | Check::EncryptionAtRest | Check::AuditPolicy => not_gathered(),
        // Evaluated in `engine::runtime`; never dispatched here.
        Check::Runtime(_) => not_gathered(),
        Check::Account(check) => match &facts.accounts {
            Some(accounts) => super::accounts::evaluate(check, accounts),
            None => not_gathered(),
        },
        Check::Container(check) => match &facts.containers {
            // Whether AppArmor confines anything cannot be told without a sysfs to read (unless
            // no container runs at all: then the rule does not apply either way).
            Some(containers)
                if check == crate::benchmark::ContainerCheck::AppArmor
                    && let Some(undecided) = facts.apparmor.as_ref().and_then(no_sysfs) =>
            {
                let as_if_enabled = super::containers::evaluate(check, containers, true);
                if matches!(as_if_enabled.verdict, Verdict::NotApplicable(_)) {
                    as_if_enabled
                } else {
                    undecided
                }
            }
            Some(containers) => {
                let apparmor_on = facts
                    .apparmor
                    .as_ref()
                    .is_some_and(|apparmor| apparmor_enabled(apparmor).verdict == Verdict::Met);
                super::containers::evaluate(check, containers, apparmor_on)
            }
            None => not_gathered(),
        },
        Check::FirewallApiserverBlocked => match (&policy.firewall, &facts.firewall) {
            (None, _) => Outcome::new(Verdict::NotApplicable(
                "no firewall policy: the site config has no [firewall] section".into(),
            )),
            (Some(_), Some(firewall)) => super::firewall::apiserver_blocked(firewall),
            (Some(_), None) => not_gathered(),
        },
    }
}

fn not_gathered() -> Outcome {
    Outcome::undecided("the facts for this check were not gathered (a bug: please report it)")
}

fn sysfs(path: &str, detail: impl Into<String>) -> Evidence {
    Evidence::new("sysfs", Some(PathBuf::from(path)), detail)
}

/// Why a sysfs rule cannot be decided under this root, when there is no sysfs to read.
fn no_sysfs(apparmor: &AppArmorFacts) -> Option<Outcome> {
    (!apparmor.sysfs_present).then(|| {
        Outcome::undecided(format!(
            "sysfs is not available under the root: neither {SYSFS_KERNEL} nor {SYSFS_MODULES}              exists (mount the host's /sys, read-only, where the root is mounted)"
        ))
    })
}

pub fn apparmor_enabled(apparmor: &AppArmorFacts) -> Outcome {
    let base = Outcome::new(Verdict::Met).expected("enabled and in the active LSM list");
    if let Some(undecided) = no_sysfs(apparmor) {
        return undecided.expected("enabled and in the active LSM list");
    }
    if !apparmor.module_present {
        return Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual("not available")
        .reason("AppArmor is not available in this kernel")
        .evidence(sysfs(
            MODULE_DIR,
            "does not exist: the kernel was built without AppArmor",
        ));
    }
    let enabled = match &apparmor.enabled {
        Observed::Value { value, .. } => value.clone(),
        Observed::Absent { path } => {
            return Outcome::undecided(format!(
                "{} does not exist although {MODULE_DIR} does",
                path.display()
            ));
        }
        Observed::Unreadable { path, error } => {
            return Outcome::undecided(format!("{} {error}", path.display()));
        }
    };
    let base = base.evidence(sysfs(ENABLED_PARAM, format!("enabled = {enabled}")));
    if enabled != "Y" {
        return Outcome { verdict: Verdict::NotMet, ..base }
            .actual("disabled")
            .reason(format!("AppArmor is built in but disabled (parameters/enabled = {enabled}); check apparmor=0 or security= on the kernel command line"));
    }
    match &apparmor.lsm {
        Observed::Value { value: lsms, .. } if !lsms.iter().any(|lsm| lsm == "apparmor") => {
            Outcome {
                verdict: Verdict::NotMet,
                ..base
            }
            .actual("not an active LSM")
            .reason("AppArmor is enabled but not in the active LSM stack")
            .evidence(sysfs(LSM_LIST, format!("active LSMs: {}", lsms.join(","))))
        }
        Observed::Value { value: lsms, .. } => base
            .actual("enabled")
            .evidence(sysfs(LSM_LIST, format!("active LSMs: {}", lsms.join(",")))),
        Observed::Absent { .. } => base.actual("enabled").evidence(sysfs(
            LSM_LIST,
            "does not exist (older kernel or securityfs not mounted); parameters/enabled decides",
        )),
        Observed::Unreadable { path, error } => {
            Outcome::undecided(format!("{} {error}", path.display()))
        }
    }
}

pub fn apparmor_profiles(apparmor: &AppArmorFacts, required: &[String]) -> Outcome {
    let expected = if required.is_empty() {
        "at least one profile in enforce mode".to_string()
    } else {
        format!("loaded in enforce mode: {}", required.join(", "))
    };
    if let Some(undecided) = no_sysfs(apparmor) {
        return undecided.expected(expected);
    }
    let list = match &apparmor.profiles {
        Observed::Value { value, .. } => value.clone(),
        Observed::Absent { path }
            if !apparmor.module_present || apparmor.enabled.value().is_some_and(|v| v != "Y") =>
        {
            let _ = path;
            Default::default()
        }
        Observed::Absent { path } => {
            return Outcome::undecided(format!(
                "{} does not exist although AppArmor is enabled (is securityfs mounted at /sys/kernel/security?)",
                path.display()
            ))
            .expected(expected);
        }
        Observed::Unreadable { path, error } => {
            return Outcome::undecided(format!("{} {error}", path.display())).expected(expected);
        }
    };
    let count = |mode: &str| list.profiles.iter().filter(|p| p.mode == mode).count();
    let (enforce, complain) = (count("enforce"), count("complain"));
    let other = list.profiles.len() - enforce - complain;
    let mut counts = format!(
        "{} profiles loaded: {enforce} enforce, {complain} complain, {other} other",
        list.profiles.len()
    );
    if !list.odd_lines.is_empty() {
        counts.push_str(&format!(
            "; {} unparsable lines: {}",
            list.odd_lines.len(),
            list.odd_lines.join(" | ")
        ));
    }
    if !apparmor.module_present {
        counts.push_str(" (AppArmor is not available in this kernel)");
    }
    let base = Outcome::new(Verdict::Met)
        .expected(expected)
        .evidence(Evidence::new(
            "sysfs",
            Some(apparmor.profiles.path().to_path_buf()),
            counts,
        ));

    if required.is_empty() {
        return if enforce > 0 {
            base.actual(format!("{enforce} in enforce mode"))
        } else {
            Outcome { verdict: Verdict::Advisory, ..base }
                .actual("no profile in enforce mode")
                .reason("no AppArmor profile is enforced; list the profiles your pods need in [apparmor] required_profiles")
        };
    }
    let mut problems = Vec::new();
    let mut base = base;
    for name in required {
        match list.profiles.iter().find(|profile| &profile.name == name) {
            Some(profile) if profile.mode == "enforce" => {
                base = base.evidence(Evidence::new(
                    "sysfs",
                    Some(apparmor.profiles.path().to_path_buf()),
                    format!("{name} (enforce)"),
                ));
            }
            Some(profile) => problems.push(format!(
                "{name} is loaded in {} mode, which does not enforce",
                profile.mode
            )),
            None => problems.push(format!("{name} is not loaded")),
        }
    }
    if problems.is_empty() {
        base.actual(format!("all {} required profiles enforced", required.len()))
    } else {
        let actual = problems.join("; ");
        let mut outcome = Outcome {
            verdict: Verdict::NotMet,
            ..base
        }
        .actual(actual.clone())
        .reason(actual);
        for problem in problems {
            outcome = outcome.evidence(Evidence::new(
                "sysfs",
                Some(apparmor.profiles.path().to_path_buf()),
                problem,
            ));
        }
        outcome
    }
}

pub fn seccomp_profiles(facts: &SeccompProfileFacts) -> Outcome {
    let expected =
        "every profile valid; no deny-list (defaultAction SCMP_ACT_ALLOW) profile".to_string();
    let files: &[ProfileFile] = match &facts.listing {
        Observed::Value { value, .. } => value,
        Observed::Absent { path } if facts.required.is_empty() => {
            return Outcome::new(Verdict::NotApplicable(format!(
                "no seccomp profile directory at {} (no localhost profiles are installed on this node)",
                path.display()
            )));
        }
        Observed::Absent { .. } => &[],
        Observed::Unreadable { path, error } => {
            return Outcome::undecided(format!("{} {error}", path.display())).expected(expected);
        }
    };
    let mut outcome = Outcome::new(Verdict::Met).expected(expected);
    let mut invalid = Vec::new();
    let mut deny_lists = Vec::new();
    let mut unreadable = Vec::new();
    let mut valid = 0usize;
    // A required profile is usually also in the listing: judge each file once.
    let required_elsewhere = facts
        .required
        .iter()
        .filter(|r| !files.iter().any(|f| f.path == r.path));
    for file in files.iter().chain(required_elsewhere) {
        let path = Some(file.path.clone());
        match &file.verdict {
            ProfileVerdict::Valid { summary } => {
                if summary.deny_list {
                    deny_lists.push(file.name.clone());
                    outcome = outcome.evidence(Evidence::new("file", path, "deny-list: defaultAction is SCMP_ACT_ALLOW, so every syscall not listed is allowed"));
                } else {
                    valid += 1;
                }
            }
            ProfileVerdict::Invalid { problems } => {
                invalid.push(file.name.clone());
                for problem in problems {
                    outcome = outcome.evidence(Evidence::new(
                        "file",
                        path.clone(),
                        format!("invalid: {problem}"),
                    ));
                }
            }
            ProfileVerdict::Missing => {
                invalid.push(file.name.clone());
                let detail = if facts.required.contains(file) {
                    "required by [seccomp] required_profiles but does not exist"
                } else {
                    "dangling symlink: the profile does not exist"
                };
                outcome = outcome.evidence(Evidence::new("file", path, detail));
            }
            ProfileVerdict::Unreadable { error } => {
                unreadable.push(format!("{} {error}", file.path.display()));
            }
        }
    }
    let summary = format!(
        "{} profiles: {} allow-list, {} deny-list, {} invalid",
        files.len(),
        valid,
        deny_lists.len(),
        invalid.len()
    );
    outcome.evidence.insert(
        0,
        Evidence::new("file", Some(facts.dir.clone()), summary.clone()),
    );
    if !invalid.is_empty() {
        invalid.dedup();
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .actual(format!("invalid: {}", invalid.join(", ")))
        .reason(format!(
            "{} profile(s) a pod could not use: {}",
            invalid.len(),
            invalid.join(", ")
        ));
    }
    if !unreadable.is_empty() {
        let reason = format!("cannot read: {}", unreadable.join("; "));
        return Outcome {
            verdict: Verdict::Undecided(reason),
            ..outcome
        };
    }
    if !deny_lists.is_empty() {
        deny_lists.dedup();
        return Outcome {
            verdict: Verdict::Advisory,
            ..outcome
        }
        .actual(format!("deny-list: {}", deny_lists.join(", ")))
        .reason("deny-list profiles allow every syscall they do not name");
    }
    outcome.actual(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::facts::{LoadedProfile, ProfileList};

    fn apparmor(enabled: &str, lsm: Option<&str>, profiles: &[(&str, &str)]) -> AppArmorFacts {
        AppArmorFacts {
            sysfs_present: true,
            module_present: true,
            enabled: Observed::Value {
                path: ENABLED_PARAM.into(),
                value: enabled.into(),
            },
            lsm: match lsm {
                Some(list) => Observed::Value {
                    path: LSM_LIST.into(),
                    value: list.split(',').map(String::from).collect(),
                },
                None => Observed::Absent {
                    path: LSM_LIST.into(),
                },
            },
            profiles: Observed::Value {
                path: "/sys/kernel/security/apparmor/profiles".into(),
                value: ProfileList {
                    profiles: profiles
                        .iter()
                        .map(|(n, m)| LoadedProfile {
                            name: (*n).into(),
                            mode: (*m).into(),
                        })
                        .collect(),
                    odd_lines: vec![],
                },
            },
        }
    }

    #[test]
    fn enabled_needs_y_and_the_lsm_list() {
        assert_eq!(
            apparmor_enabled(&apparmor("Y", Some("lockdown,apparmor"), &[])).verdict,
            Verdict::Met
        );
        assert_eq!(
            apparmor_enabled(&apparmor("Y", None, &[])).verdict,
            Verdict::Met
        );
        assert_eq!(
            apparmor_enabled(&apparmor("N", Some("apparmor"), &[])).verdict,
            Verdict::NotMet
        );
        assert_eq!(
            apparmor_enabled(&apparmor("Y", Some("lockdown,selinux"), &[])).verdict,
            Verdict::NotMet
        );
        let mut missing = apparmor("Y", None, &[]);
        missing.module_present = false;
        let outcome = apparmor_enabled(&missing);
        assert_eq!(outcome.verdict, Verdict::NotMet);
        assert_eq!(
            outcome.reason.as_deref(),
            Some("AppArmor is not available in this kernel")
        );
    }

    #[test]
    fn complain_mode_does_not_satisfy_a_requirement() {
        let facts = apparmor(
            "Y",
            None,
            &[("k8s-deny-write", "complain"), ("other", "enforce")],
        );
        let outcome = apparmor_profiles(&facts, &["k8s-deny-write".into()]);
        assert_eq!(outcome.verdict, Verdict::NotMet);
        assert!(
            outcome
                .actual
                .as_deref()
                .is_some_and(|a| a.contains("complain"))
        );
        let outcome = apparmor_profiles(&facts, &["other".into()]);
        assert_eq!(outcome.verdict, Verdict::Met);
    }

    #[test]
    fn no_requirement_needs_one_enforced_profile() {
        assert_eq!(
            apparmor_profiles(&apparmor("Y", None, &[("a", "enforce")]), &[]).verdict,
            Verdict::Met
        );
        assert_eq!(
            apparmor_profiles(&apparmor("Y", None, &[("a", "complain")]), &[]).verdict,
            Verdict::Advisory
        );
    }

    #[test]
    fn required_profile_in_listing_is_counted_once() {
        use crate::host::facts::ProfileFile;
        use crate::seccomp::ProfileSummary;
        let file = ProfileFile {
            path: "/var/lib/kubelet/seccomp/profiles/a.json".into(),
            name: "profiles/a.json".into(),
            verdict: ProfileVerdict::Valid {
                summary: ProfileSummary {
                    default_action: "SCMP_ACT_ERRNO".into(),
                    architectures: vec![],
                    syscall_rules: 1,
                    deny_list: false,
                },
            },
        };
        let facts = SeccompProfileFacts {
            dir: "/var/lib/kubelet/seccomp".into(),
            listing: Observed::Value {
                path: "/var/lib/kubelet/seccomp".into(),
                value: vec![file.clone()],
            },
            required: vec![file],
        };
        let outcome = seccomp_profiles(&facts);
        assert_eq!(outcome.verdict, Verdict::Met);
        assert_eq!(
            outcome.actual.as_deref(),
            Some("1 profiles: 1 allow-list, 0 deny-list, 0 invalid")
        );
    }
}
