//! The embedded rule files as the build parsed and validated them (`build.rs`, with the loader
//! in `load.rs`): tables in read-only data, turned into [`Rule`]s by one small loop, so a run
//! does not parse TOML for its own rules. `--benchmark` files are still parsed at run time by
//! the same loader, with the same errors and lines.
//!
//! The types below are the model's twins without a pointer (`codegen.rs` says why): a string is
//! a range of `TEXT`, a list a range of another table. Each converts by building the model's
//! struct literally, so a field added to the model fails the build until it is added here and
//! in `codegen.rs`.

use super::model::{
    AccountCheck, Check, ComponentKind, Condition, ContainerCheck, Expect, FileRequest, Operator,
    Probe, Rule, RuntimeCheck, Severity, SysctlCheck, WhenUnset,
};
use crate::error::InputError;
use crate::value::Value;

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// Every embedded rule, in the order of `EMBEDDED` and of each file, as the build parsed and
/// validated them: nothing is parsed at run time. The `Result` is the loader's signature, kept
/// for its callers; it is always `Ok`.
pub fn load_embedded() -> Result<Vec<Rule>, InputError> {
    Ok(RULES.iter().map(R::to_rule).collect())
}

/// A string: `start` and length in `TEXT`.
#[derive(Clone, Copy)]
struct S(u32, u32);

/// A list: `start` and length in its table.
type Range = (u32, u32);

impl S {
    fn text(self) -> &'static str {
        let start = self.0 as usize;
        // The ranges come from the text they index (codegen.rs): never out of bounds.
        TEXT.get(start..start + self.1 as usize).unwrap_or_default()
    }

    fn owned(self) -> String {
        self.text().to_string()
    }
}

fn slice<T>(table: &'static [T], (start, len): Range) -> &'static [T] {
    let start = start as usize;
    table.get(start..start + len as usize).unwrap_or_default()
}

/// [`Rule`].
struct R {
    id: S,
    cis: Option<S>,
    section: S,
    title: S,
    severity: Severity,
    scored: bool,
    probe: P,
    expect: Option<E>,
    remediation: S,
    origin: S,
    applies_when: Option<Condition>,
}

/// [`Probe`], with [`FileRequest`]'s two forms as variants.
enum P {
    KernelConfig {
        option: S,
        status_field: Option<S>,
    },
    Setting {
        component: ComponentKind,
        key: S,
        flag: Option<S>,
    },
    Named(S),
    /// `paths`: a range of `PATHS`.
    Paths {
        paths: Range,
        recurse: bool,
        glob: Option<S>,
    },
    Check(Check),
    /// A range of `SYSCTLS`: [`SysctlCheck`]s, key and expectation.
    Sysctl(Range),
    Sshd {
        keyword: S,
        default: Option<S>,
    },
}

/// [`Expect`].
struct E {
    operator: Operator,
    value: V,
    when_unset: Option<WhenUnset>,
}

/// [`Value`]; a list is a range of `VALUES`.
enum V {
    Bool(bool),
    Int(i64),
    Str(S),
    List(Range),
}

impl R {
    fn to_rule(&self) -> Rule {
        Rule {
            id: self.id.owned(),
            cis: self.cis.map(S::owned),
            section: self.section.owned(),
            title: self.title.owned(),
            severity: self.severity,
            scored: self.scored,
            probe: self.probe.to_probe(),
            expect: self.expect.as_ref().map(E::to_expect),
            remediation: self.remediation.owned(),
            origin: self.origin.owned(),
            applies_when: self.applies_when,
        }
    }
}

impl P {
    fn to_probe(&self) -> Probe {
        match *self {
            P::KernelConfig {
                option,
                status_field,
            } => Probe::KernelConfig {
                option: option.owned(),
                status_field: status_field.map(S::owned),
            },
            P::Setting {
                component,
                key,
                flag,
            } => Probe::Setting {
                component,
                key: key.owned(),
                flag: flag.map(S::owned),
            },
            P::Named(name) => Probe::File(FileRequest::Named(name.owned())),
            P::Paths {
                paths,
                recurse,
                glob,
            } => Probe::File(FileRequest::Paths {
                paths: slice(&PATHS, paths)
                    .iter()
                    .map(|path| path.owned())
                    .collect(),
                recurse,
                glob: glob.map(S::owned),
            }),
            P::Check(check) => Probe::Check(check),
            P::Sysctl(checks) => Probe::Sysctl(
                slice(&SYSCTLS, checks)
                    .iter()
                    .map(|(key, expect)| SysctlCheck {
                        key: key.owned(),
                        expect: expect.as_ref().map(E::to_expect),
                    })
                    .collect(),
            ),
            P::Sshd { keyword, default } => Probe::Sshd {
                keyword: keyword.owned(),
                default: default.map(S::owned),
            },
        }
    }
}

impl E {
    fn to_expect(&self) -> Expect {
        Expect {
            operator: self.operator,
            value: self.value.to_value(),
            when_unset: self.when_unset,
        }
    }
}

impl V {
    fn to_value(&self) -> Value {
        match *self {
            V::Bool(value) => Value::Bool(value),
            V::Int(value) => Value::Int(value),
            V::Str(text) => Value::Str(text.owned()),
            V::List(items) => Value::List(slice(&VALUES, items).iter().map(V::to_value).collect()),
        }
    }
}
