//! The node's own least privilege: the `accounts.*` checks, and the `sshd` probe that compares an
//! `sshd_config` keyword, resolved as sshd resolves it, with a rule's expectation.

use std::path::PathBuf;

use super::{Evidence, Outcome, Verdict};
use crate::benchmark::ops;
use crate::benchmark::{AccountCheck, Rule};
use crate::host::Observed;
use crate::host::accounts::{AccountFacts, PASSWD, SHADOW, SUDOERS};
use crate::host::sshd::{SSHD_CONFIG, SshdFacts};
use crate::value::Value;

pub fn evaluate(check: AccountCheck, facts: &AccountFacts) -> Outcome {
    match check {
        AccountCheck::Uid0 => uid0(facts),
        AccountCheck::EmptyPasswords => empty_passwords(facts),
        AccountCheck::SudoNopasswd => sudo_nopasswd(facts),
    }
}

fn file_evidence(path: &str, detail: impl Into<String>) -> Evidence {
    Evidence::new("file", Some(PathBuf::from(path)), detail)
}

fn unreadable<T>(observed: &Observed<T>, what: &str) -> Option<Outcome> {
    match observed {
        Observed::Value { .. } => None,
        Observed::Absent { path } => Some(Outcome::undecided(format!(
            "{} does not exist: cannot tell {what}",
            path.display()
        ))),
        Observed::Unreadable { path, error } => {
            Some(Outcome::undecided(format!("{} {error}", path.display())))
        }
    }
}

fn uid0(facts: &AccountFacts) -> Outcome {
    let expected = "only root has uid 0";
    if let Some(outcome) = unreadable(&facts.passwd, "which accounts have uid 0") {
        return outcome.expected(expected);
    }
    let entries = facts.passwd.value().map(Vec::as_slice).unwrap_or_default();
    let others: Vec<_> = entries
        .iter()
        .filter(|e| e.uid == 0 && e.name != "root")
        .collect();
    let mut outcome = Outcome::new(Verdict::Met).expected(expected);
    if others.is_empty() {
        return outcome.actual("root only").evidence(file_evidence(
            PASSWD,
            format!("{} accounts; uid 0: root", entries.len()),
        ));
    }
    let names: Vec<&str> = others.iter().map(|e| e.name.as_str()).collect();
    for entry in &others {
        outcome = outcome.evidence(file_evidence(
            PASSWD,
            format!("line {}: {} has uid 0", entry.line, entry.name),
        ));
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .actual(format!("uid 0 also: {}", names.join(", ")))
    .reason(format!(
        "{} account(s) besides root have uid 0: {}",
        names.len(),
        names.join(", ")
    ))
}

fn empty_passwords(facts: &AccountFacts) -> Outcome {
    let expected = "no account with an empty password field";
    if let Some(outcome) = unreadable(&facts.shadow, "which passwords are empty") {
        return outcome.expected(expected);
    }
    let entries = facts.shadow.value().map(Vec::as_slice).unwrap_or_default();
    let empty: Vec<_> = entries.iter().filter(|e| e.password == "empty").collect();
    let mut outcome = Outcome::new(Verdict::Met).expected(expected);
    if empty.is_empty() {
        return outcome.actual("none").evidence(file_evidence(
            SHADOW,
            format!(
                "{} accounts, none with an empty password field",
                entries.len()
            ),
        ));
    }
    let names: Vec<&str> = empty.iter().map(|e| e.name.as_str()).collect();
    for entry in &empty {
        outcome = outcome.evidence(file_evidence(
            SHADOW,
            format!(
                "line {}: {} has an empty password field (logs in without a password)",
                entry.line, entry.name
            ),
        ));
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .actual(format!("empty: {}", names.join(", ")))
    .reason(format!("accounts without a password: {}", names.join(", ")))
}

fn sudo_nopasswd(facts: &AccountFacts) -> Outcome {
    let sudoers = &facts.sudoers;
    let expected = "no NOPASSWD: ALL grant";
    if sudoers.absent {
        return Outcome::new(Verdict::NotApplicable(format!(
            "{SUDOERS} does not exist (sudo is not installed)"
        )));
    }
    let mut outcome = Outcome::new(Verdict::Met).expected(expected);
    for grant in &sudoers.nopasswd_all {
        outcome = outcome.evidence(Evidence::new(
            "file",
            Some(grant.path.clone()),
            format!("line {}: {}", grant.line, grant.text),
        ));
    }
    if !sudoers.nopasswd_all.is_empty() {
        let count = sudoers.nopasswd_all.len();
        return Outcome {
            verdict: Verdict::NotMet,
            ..outcome
        }
        .actual(format!("{count} NOPASSWD: ALL grant(s)"))
        .reason(format!(
            "{count} sudo rule(s) give full root without a password: a stolen session is root"
        ));
    }
    if !sudoers.errors.is_empty() {
        return Outcome {
            verdict: Verdict::Undecided(format!("cannot read: {}", sudoers.errors.join("; "))),
            ..outcome
        };
    }
    let files: Vec<String> = sudoers
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    outcome
        .actual("none")
        .evidence(file_evidence(SUDOERS, format!("read {}", files.join(", "))))
}

/// The `sshd` probe: the global value (first occurrence outside Match, else sshd's default)
/// and every Match block's own value, each held to the rule's expectation.
pub fn evaluate_sshd(
    rule: &Rule,
    keyword: &str,
    default: Option<&str>,
    facts: &SshdFacts,
) -> Outcome {
    let Some(expect) = &rule.expect else {
        return Outcome::undecided("rule has no expect");
    };
    let expected = ops::describe(expect);
    if facts.absent {
        return Outcome::new(Verdict::NotApplicable(format!(
            "{SSHD_CONFIG} does not exist (sshd is not installed)"
        )));
    }
    if let Some(error) = facts.errors.iter().find(|e| e.starts_with(SSHD_CONFIG)) {
        return Outcome::undecided(error.clone()).expected(expected);
    }
    // Values are compared as sshd compares them: case-insensitively.
    let holds = |value: &str| ops::holds(&Value::Str(value.to_ascii_lowercase()), expect);
    let mut outcome = Outcome::new(Verdict::Met).expected(expected.clone());
    let (global, source) = match facts.global(keyword) {
        Some(found) => {
            outcome = outcome.evidence(Evidence::new(
                "config-file",
                Some(found.path.clone()),
                format!("line {}: {keyword} {}", found.line, found.value),
            ));
            (found.value.to_ascii_lowercase(), "config-file")
        }
        None => match default {
            Some(default) => {
                outcome = outcome.evidence(Evidence::new(
                    "default",
                    None,
                    format!(
                        "{keyword} is not set in {} ({} files read); sshd's default is {default}",
                        SSHD_CONFIG,
                        facts.files.len()
                    ),
                ));
                (default.to_string(), "default")
            }
            None => {
                return Outcome::undecided(format!(
                    "{keyword} is not set and the rule gives no sshd default"
                ))
                .expected(expected);
            }
        },
    };
    let mut problems = Vec::new();
    match holds(&global) {
        Ok(true) => {}
        Ok(false) => problems.push(format!("{keyword} {global} ({source})")),
        Err(message) => return Outcome::undecided(message).expected(expected),
    }
    for value in facts.in_match_blocks(keyword) {
        let criteria = value.match_criteria.clone().unwrap_or_default();
        let detail = format!(
            "line {}: {keyword} {} in Match {criteria}",
            value.line, value.value
        );
        match holds(&value.value) {
            Ok(true) => {
                outcome = outcome.evidence(Evidence::new(
                    "config-file",
                    Some(value.path.clone()),
                    detail,
                ));
            }
            Ok(false) => {
                problems.push(format!("{keyword} {} for Match {criteria}", value.value));
                outcome = outcome.evidence(Evidence::new(
                    "config-file",
                    Some(value.path.clone()),
                    format!("{detail} (overrides the global value for matching connections)"),
                ));
            }
            Err(message) => return Outcome::undecided(message).expected(expected),
        }
    }
    if !facts.errors.is_empty() {
        outcome = outcome.evidence(Evidence::new(
            "config-file",
            None,
            format!("not read: {}", facts.errors.join("; ")),
        ));
    }
    if problems.is_empty() {
        return outcome.actual(global);
    }
    Outcome {
        verdict: Verdict::NotMet,
        ..outcome
    }
    .actual(problems.join("; "))
}
