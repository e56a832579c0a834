//! `firewall.apiserver-blocked`: the site's `[firewall]` policy holds in the kernel and in the
//! boot-time persistence. Pure: the same [`status`] as `hardnode firewall status`
//! over the gathered facts, so the two never disagree.

use std::path::PathBuf;

use super::{Evidence, Outcome, Verdict};
mod state;

use crate::host::firewall::FirewallFacts;
use crate::netfilter;
pub use state::{Built, FamilyStatus, Persisted, Status, boot_lines, build, status};

pub fn apiserver_blocked(facts: &FirewallFacts) -> Outcome {
    if let Some(error) = &facts.backend_error {
        return Outcome::undecided(error.clone());
    }
    if let Some(note) = &facts.foreign_netns {
        return Outcome::undecided(note.clone());
    }
    let built = match build(facts) {
        Ok(built) => built,
        Err(reason) => {
            return Outcome::undecided(format!(
                "the [firewall] policy cannot be applied: {reason}"
            ));
        }
    };
    let status = status(&built.spec, facts);
    let expected = format!(
        "{} blocked from {} in {}, first in the chain, persisted ({})",
        join(built.spec.container_cidrs.iter()),
        join(built.spec.apiservers.iter()),
        join(built.spec.hooks.iter()),
        facts.persist.as_str()
    );
    let mut evidence = Vec::new();
    let mut unreadable = Vec::new();
    for family in &status.families {
        let binary = netfilter::binary_name(family.family, family.backend, false);
        let detail = match &family.error {
            Some(error) => {
                unreadable.push(format!("{binary}: {error}"));
                format!("cannot list the filter table: {error}")
            }
            None if family.assessment.in_place => {
                format!("{} rule(s) in place", family.rules.len())
            }
            None => family.assessment.problems.join("; "),
        };
        evidence.push(Evidence::new(
            "iptables",
            None,
            format!("{binary} -S: {detail}"),
        ));
        for line in &family.assessment.unmanaged {
            evidence.push(Evidence::new(
                "iptables",
                None,
                format!("{binary}: present, not managed: {line}"),
            ));
        }
    }
    let persisted = &status.persisted;
    evidence.push(Evidence::new(
        "persistence",
        persisted.paths.first().map(PathBuf::from),
        if persisted.problems.is_empty() {
            format!("{} in place", persisted.method.as_str())
        } else {
            persisted.problems.join("; ")
        },
    ));
    if !unreadable.is_empty() {
        let mut outcome = Outcome::undecided(format!(
            "the iptables rules could not be read: {}",
            unreadable.join("; ")
        ))
        .expected(expected);
        outcome.evidence = evidence;
        return outcome;
    }
    if let Some(reason) = &status.not_enforceable {
        evidence.push(Evidence::new("cni", None, reason.clone()));
    }
    let rules = status.rules_in_place();
    let actual = match (rules, status.ok()) {
        (true, true) => "in place and persisted".to_string(),
        (true, false) if status.not_enforceable.is_some() => {
            "in place, but the dataplane may bypass iptables".to_string()
        }
        (true, false) => "in place, but not persisted for the next boot".to_string(),
        (false, _) => "not in place".to_string(),
    };
    let mut outcome = Outcome::new(if status.ok() {
        Verdict::Met
    } else {
        Verdict::NotMet
    })
    .expected(expected)
    .actual(actual);
    if !status.ok() {
        let mut reasons: Vec<String> = status
            .families
            .iter()
            .flat_map(|family| family.assessment.problems.iter().cloned())
            .collect();
        reasons.extend(persisted.problems.iter().cloned());
        reasons.extend(status.not_enforceable.iter().cloned());
        outcome = outcome.reason(reasons.join("; "));
    }
    outcome.evidence = evidence;
    outcome
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
