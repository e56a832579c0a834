//! The `sysctl` probe: kernel parameters from `/proc/sys`, each held to its expectation (the
//! rule's `expect` for one key, or the per-key table whose thresholds a site can override).

use std::collections::BTreeMap;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::ops;
use crate::benchmark::{Rule, SysctlCheck};
use crate::host::Observed;
use crate::host::sysctl::path_of;
use crate::value::Value;

pub fn evaluate(
    rule: &Rule,
    checks: &[SysctlCheck],
    values: &BTreeMap<String, Observed<String>>,
) -> Outcome {
    let mut expected = Vec::new();
    let mut failing = Vec::new();
    let mut actual = Vec::new();
    let mut undecided = Vec::new();
    let mut missing = Vec::new();
    let mut evidence = Vec::new();
    for check in checks {
        let Some(expect) = check.expect.as_ref().or(rule.expect.as_ref()) else {
            return Outcome::undecided(format!("no expectation for {}", check.key));
        };
        let wanted = ops::describe(expect);
        expected.push(format!("{} {}", check.key, with_operator(&wanted)));
        let path = path_of(&check.key);
        match values.get(&check.key) {
            Some(Observed::Value { value, .. }) => {
                actual.push(format!("{}={value}", check.key));
                match ops::holds(&Value::Str(value.clone()), expect) {
                    Ok(true) => evidence.push(Evidence::new(
                        "sysctl",
                        Some(path),
                        format!("{} = {value}", check.key),
                    )),
                    Ok(false) => {
                        failing.push(format!("{}={value}", check.key));
                        evidence.push(Evidence::new(
                            "sysctl",
                            Some(path),
                            format!(
                                "{} = {value}, expected {}",
                                check.key,
                                with_operator(&wanted)
                            ),
                        ));
                    }
                    Err(message) => undecided.push(format!("{}: {message}", check.key)),
                }
            }
            Some(Observed::Absent { .. }) => {
                missing.push(check.key.clone());
                evidence.push(Evidence::new(
                    "sysctl",
                    Some(path),
                    "does not exist: this kernel has no such parameter",
                ));
            }
            Some(Observed::Unreadable { path, error }) => {
                undecided.push(format!("{} {error}", path.display()));
            }
            None => undecided.push(format!("{} was not gathered (a bug)", check.key)),
        }
    }
    let outcome = Outcome {
        verdict: Verdict::Met,
        expected: Some(expected.join(", ")),
        actual: Some(actual.join(", ")),
        reason: None,
        evidence,
    };
    if !failing.is_empty() {
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .reason(format!("not as required: {}", failing.join(", ")));
    }
    if !undecided.is_empty() {
        return Outcome {
            verdict: Verdict::Undecided(undecided.join("; ")),
            ..outcome
        };
    }
    if !missing.is_empty() {
        // One parameter the kernel lacks: the rule does not apply. Some of several: the set the
        // rule asks for cannot be met as a whole.
        if missing.len() == checks.len() {
            return Outcome::new(Verdict::NotApplicable(format!(
                "this kernel has no {} (no {})",
                missing.join(", "),
                missing
                    .iter()
                    .map(|k| path_of(k).display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .reason(format!("this kernel has no {}", missing.join(", ")));
    }
    outcome
}

/// `= 1` rather than a bare `1` when the expectation is equality.
fn with_operator(described: &str) -> String {
    if described.starts_with(['>', '<']) || described.contains(' ') {
        described.to_string()
    } else {
        format!("= {described}")
    }
}
