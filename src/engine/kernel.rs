//! The `kernel_config` probe: one build option from the kernel config, or — when no config can be
//! read — the `/proc/1/status` field the kernel prints only when built with that option.

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::ops;
use crate::benchmark::{Rule, WhenUnset};
use crate::host::{Facts, Observed};
use crate::value::Value;

pub fn evaluate(rule: &Rule, option: &str, status_field: Option<&str>, facts: &Facts) -> Outcome {
    let Some(kernel) = &facts.kernel else {
        return Outcome::undecided("kernel facts were not gathered (a bug: please report it)");
    };
    let Some(expect) = &rule.expect else {
        return Outcome::undecided("rule has no expect");
    };
    let expected = ops::describe(expect);

    let (value, evidence) = if let Some(source) = &kernel.config_source {
        let value = kernel.options.get(option).cloned().flatten();
        let detail = match &value {
            Some(value) => format!("{option}={value}"),
            None => format!("{option} is not set"),
        };
        (
            value,
            Evidence::new("kernel-config", Some(source.clone()), detail),
        )
    } else {
        let tried = tried_list(facts);
        let Some(field) = status_field else {
            return Outcome::undecided(format!("no kernel config could be read ({tried})"))
                .expected(expected);
        };
        match kernel.status_fields.get(field) {
            Some(Observed::Value {
                path,
                value: field_value,
            }) => (
                Some("y".to_string()),
                Evidence::new(
                    "proc",
                    Some(path.clone()),
                    format!(
                        "no kernel config readable ({tried}); the kernel reports `{field}: {field_value}` \
                         in this status file, which it does only when built with {option}"
                    ),
                ),
            ),
            Some(Observed::Absent { path }) => (
                None,
                Evidence::new(
                    "proc",
                    Some(path.clone()),
                    format!(
                        "no kernel config readable ({tried}); this status file has no `{field}:` line, \
                         which the kernel prints whenever it is built with {option}"
                    ),
                ),
            ),
            Some(Observed::Unreadable { path, error }) => {
                return Outcome::undecided(format!(
                    "no kernel config could be read ({tried}), and {} {error}",
                    path.display()
                ))
                .expected(expected);
            }
            None => return Outcome::undecided("status fields were not gathered (a bug)"),
        }
    };

    let outcome = Outcome::new(Verdict::Met)
        .expected(expected)
        .evidence(evidence);
    match value {
        Some(value) => {
            let actual = Value::Str(value.clone());
            match ops::holds(&actual, expect) {
                Ok(true) => Outcome {
                    verdict: Verdict::Met,
                    ..outcome
                }
                .actual(value),
                Ok(false) => Outcome {
                    verdict: Verdict::NotMet,
                    ..outcome
                }
                .actual(value),
                Err(message) => Outcome {
                    verdict: Verdict::Undecided(message),
                    ..outcome
                }
                .actual(value),
            }
        }
        None => {
            let verdict = match expect.when_unset {
                Some(WhenUnset::Pass) => Verdict::Met,
                Some(WhenUnset::Skip) => Verdict::NotApplicable(format!("{option} is not set")),
                Some(WhenUnset::Fail) => Verdict::NotMet,
                None if expect.operator == crate::benchmark::Operator::Unset => Verdict::Met,
                None if expect.operator == crate::benchmark::Operator::Ne => Verdict::Met,
                None => Verdict::NotMet,
            };
            Outcome { verdict, ..outcome }.actual("not set")
        }
    }
}

fn tried_list(facts: &Facts) -> String {
    let tried: Vec<String> = facts
        .kernel
        .iter()
        .flat_map(|kernel| &kernel.tried)
        .map(|tried| format!("{} {}", tried.path.display(), tried.outcome))
        .collect();
    format!("tried: {}", tried.join("; "))
}
