//! Writes loaded rules as Rust source: what `build.rs` turns the embedded `benchmarks/*.toml`
//! into, so a run starts with its rules built instead of parsing TOML on every start.
//!
//! Compiled only into the build script (`build.rs` includes it by path, beside the loader it
//! reuses); the library includes the generated file (`benchmark::compiled`). The output is a
//! `static` table of the compiled twins of the model (`&'static str` for `String`, slices for
//! `Vec`), so the rules sit in read-only data and one small loop builds them: no TOML parsing,
//! and no function as large as the rule set. Every type is destructured or matched
//! exhaustively, so a field or variant added to the model fails the build here instead of
//! being dropped silently.

use std::fmt::Write;

use super::model::{Check, Condition, Expect, Probe, Rule, SysctlCheck};
use crate::probe::FileRequest;
use crate::value::Value;

/// A Rust expression of type `&'static [R]` (`benchmark::compiled`'s twins of the model) equal
/// to `rules`, for a scope where those twins and the model's enums are imported.
pub fn rules_expression(rules: &[Rule]) -> String {
    let mut out = String::from("&[\n");
    for rule in rules {
        out.push_str(&rule_expression(rule));
        out.push_str(",\n");
    }
    out.push(']');
    out
}

fn rule_expression(rule: &Rule) -> String {
    let Rule {
        id,
        cis,
        section,
        title,
        severity,
        scored,
        probe,
        expect,
        remediation,
        origin,
        applies_when,
    } = rule;
    format!(
        "R {{ id: {}, cis: {}, section: {}, title: {}, severity: Severity::{severity:?}, \
         scored: {scored}, probe: {}, expect: {}, remediation: {}, origin: {}, applies_when: {} }}",
        string(id),
        option(cis.as_ref(), |text| string(text)),
        string(section),
        string(title),
        probe_expression(probe),
        option(expect.as_ref(), expect_expression),
        string(remediation),
        string(origin),
        option(applies_when.as_ref(), |condition| match condition {
            Condition::ComponentRuns(kind) =>
                format!("Condition::ComponentRuns(ComponentKind::{kind:?})"),
        }),
    )
}

fn probe_expression(probe: &Probe) -> String {
    match probe {
        Probe::KernelConfig {
            option: name,
            status_field,
        } => format!(
            "P::KernelConfig {{ option: {}, status_field: {} }}",
            string(name),
            option(status_field.as_ref(), |text| string(text))
        ),
        Probe::Setting {
            component,
            key,
            flag,
        } => format!(
            "P::Setting {{ component: ComponentKind::{component:?}, key: {}, flag: {} }}",
            string(key),
            option(flag.as_ref(), |text| string(text))
        ),
        Probe::File(FileRequest::Named(name)) => {
            format!("P::Named({})", string(name))
        }
        Probe::File(FileRequest::Paths {
            paths,
            recurse,
            glob,
        }) => format!(
            "P::Paths {{ paths: &[{}], recurse: {recurse}, glob: {} }}",
            paths
                .iter()
                .map(|path| string(path))
                .collect::<Vec<_>>()
                .join(", "),
            option(glob.as_ref(), |text| string(text))
        ),
        Probe::Check(check) => format!("P::Check({})", check_expression(*check)),
        Probe::Sysctl(checks) => {
            let mut out = String::from("P::Sysctl(&[");
            for SysctlCheck { key, expect } in checks {
                let _ = write!(
                    out,
                    "({}, {}), ",
                    string(key),
                    option(expect.as_ref(), expect_expression)
                );
            }
            out.push_str("])");
            out
        }
        Probe::Sshd { keyword, default } => format!(
            "P::Sshd {{ keyword: {}, default: {} }}",
            string(keyword),
            option(default.as_ref(), |text| string(text))
        ),
    }
}

fn check_expression(check: Check) -> String {
    match check {
        Check::Container(inner) => format!("Check::Container(ContainerCheck::{inner:?})"),
        Check::Account(inner) => format!("Check::Account(AccountCheck::{inner:?})"),
        Check::Runtime(inner) => format!("Check::Runtime(RuntimeCheck::{inner:?})"),
        Check::AppArmorEnabled
        | Check::AppArmorProfiles
        | Check::SeccompProfiles
        | Check::StaticPods
        | Check::EncryptionProviders
        | Check::EncryptionAtRest
        | Check::AuditPolicy
        | Check::FirewallApiserverBlocked => format!("Check::{check:?}"),
    }
}

fn expect_expression(expect: &Expect) -> String {
    let Expect {
        operator,
        value,
        when_unset,
    } = expect;
    format!(
        "E {{ operator: Operator::{operator:?}, value: {}, when_unset: {} }}",
        value_expression(value),
        option(when_unset.as_ref(), |when| format!("WhenUnset::{when:?}"))
    )
}

fn value_expression(value: &Value) -> String {
    match value {
        Value::Bool(value) => format!("V::Bool({value})"),
        Value::Int(value) => format!("V::Int({value}i64)"),
        Value::Str(text) => format!("V::Str({})", string(text)),
        Value::List(items) => format!(
            "V::List(&[{}])",
            items
                .iter()
                .map(value_expression)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A string literal: `str`'s `Debug` is a valid Rust one (quotes, backslashes and control
/// characters escaped).
fn string(text: &str) -> String {
    format!("{text:?}")
}

fn option<T>(value: Option<&T>, expression: impl Fn(&T) -> String) -> String {
    match value {
        Some(value) => format!("Some({})", expression(value)),
        None => "None".into(),
    }
}
