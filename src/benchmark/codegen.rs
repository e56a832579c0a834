//! Writes loaded rules as Rust source: what `build.rs` turns the embedded `benchmarks/*.toml`
//! into, so a run starts with its rules built instead of parsing TOML on every start.
//!
//! Compiled only into the build script (`build.rs` includes it by path, beside the loader it
//! reuses); the library includes the generated items (`benchmark::compiled`). The output is
//! tables without a pointer: every string is a range of one text (`TEXT`), every list a range
//! of another table. A pointer in a `static` of the static-PIE binary would be relocated at
//! every start, dirtying its page even for `--version`; ranges stay in read-only data, read only
//! when the rules are built. Every type of the model is destructured or matched exhaustively,
//! so a field or variant added to it fails the build here instead of being dropped silently.

use std::fmt::Write;

use super::model::{Check, Condition, Expect, Probe, Rule, SysctlCheck};
use crate::probe::FileRequest;
use crate::value::Value;

/// The items `benchmark::compiled` includes: `TEXT`, `RULES`, `VALUES`, `PATHS`, `SYSCTLS`.
pub fn rules_items(rules: &[Rule]) -> String {
    let mut tables = Tables::default();
    let rules: Vec<String> = rules.iter().map(|rule| tables.rule(rule)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "const TEXT: &str = {:?};", tables.text);
    for (name, kind, items) in [
        ("RULES", "R", &rules),
        ("VALUES", "V", &tables.values),
        ("PATHS", "S", &tables.paths),
        ("SYSCTLS", "(S, Option<E>)", &tables.sysctls),
    ] {
        let _ = writeln!(out, "static {name}: [{kind}; {}] = [", items.len());
        for item in items {
            let _ = writeln!(out, "    {item},");
        }
        out.push_str("];\n");
    }
    out
}

#[derive(Default)]
struct Tables {
    text: String,
    values: Vec<String>,
    paths: Vec<String>,
    sysctls: Vec<String>,
}

impl Tables {
    /// `S(start, len)`: the text appended to `TEXT`.
    fn string(&mut self, text: &str) -> String {
        let start = self.text.len();
        self.text.push_str(text);
        format!("S({start}, {})", text.len())
    }

    fn option_string(&mut self, text: Option<&String>) -> String {
        match text {
            Some(text) => format!("Some({})", self.string(text)),
            None => "None".into(),
        }
    }

    fn rule(&mut self, rule: &Rule) -> String {
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
        let id = self.string(id);
        let cis = self.option_string(cis.as_ref());
        let section = self.string(section);
        let title = self.string(title);
        let probe = self.probe(probe);
        let expect = self.option_expect(expect.as_ref());
        let remediation = self.string(remediation);
        let origin = self.string(origin);
        let applies_when = match applies_when {
            Some(Condition::ComponentRuns(kind)) => {
                format!("Some(Condition::ComponentRuns(ComponentKind::{kind:?}))")
            }
            None => "None".into(),
        };
        format!(
            "R {{ id: {id}, cis: {cis}, section: {section}, title: {title}, \
             severity: Severity::{severity:?}, scored: {scored}, probe: {probe}, \
             expect: {expect}, remediation: {remediation}, origin: {origin}, \
             applies_when: {applies_when} }}"
        )
    }

    fn probe(&mut self, probe: &Probe) -> String {
        match probe {
            Probe::KernelConfig {
                option,
                status_field,
            } => format!(
                "P::KernelConfig {{ option: {}, status_field: {} }}",
                self.string(option),
                self.option_string(status_field.as_ref())
            ),
            Probe::Setting {
                component,
                key,
                flag,
            } => format!(
                "P::Setting {{ component: ComponentKind::{component:?}, key: {}, flag: {} }}",
                self.string(key),
                self.option_string(flag.as_ref())
            ),
            Probe::File(FileRequest::Named(name)) => format!("P::Named({})", self.string(name)),
            Probe::File(FileRequest::Paths {
                paths,
                recurse,
                glob,
            }) => {
                let strings: Vec<String> = paths.iter().map(|path| self.string(path)).collect();
                let start = self.paths.len();
                self.paths.extend(strings);
                format!(
                    "P::Paths {{ paths: ({start}, {}), recurse: {recurse}, glob: {} }}",
                    paths.len(),
                    self.option_string(glob.as_ref())
                )
            }
            Probe::Check(check) => format!("P::Check({})", check_expression(*check)),
            Probe::Sysctl(checks) => {
                let entries: Vec<String> = checks
                    .iter()
                    .map(|SysctlCheck { key, expect }| {
                        let key = self.string(key);
                        format!("({key}, {})", self.option_expect(expect.as_ref()))
                    })
                    .collect();
                let start = self.sysctls.len();
                self.sysctls.extend(entries);
                format!("P::Sysctl(({start}, {}))", checks.len())
            }
            Probe::Sshd { keyword, default } => format!(
                "P::Sshd {{ keyword: {}, default: {} }}",
                self.string(keyword),
                self.option_string(default.as_ref())
            ),
        }
    }

    fn option_expect(&mut self, expect: Option<&Expect>) -> String {
        let Some(Expect {
            operator,
            value,
            when_unset,
        }) = expect
        else {
            return "None".into();
        };
        let when_unset = match when_unset {
            Some(when) => format!("Some(WhenUnset::{when:?})"),
            None => "None".into(),
        };
        format!(
            "Some(E {{ operator: Operator::{operator:?}, value: {}, when_unset: {when_unset} }})",
            self.value(value)
        )
    }

    fn value(&mut self, value: &Value) -> String {
        match value {
            Value::Bool(value) => format!("V::Bool({value})"),
            Value::Int(value) => format!("V::Int({value}i64)"),
            Value::Str(text) => format!("V::Str({})", self.string(text)),
            Value::List(items) => {
                let elements: Vec<String> = items.iter().map(|item| self.value(item)).collect();
                let start = self.values.len();
                self.values.extend(elements);
                format!("V::List(({start}, {}))", items.len())
            }
        }
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
