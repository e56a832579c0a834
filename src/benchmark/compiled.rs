//! The embedded rule files as the build parsed and validated them (`build.rs`, with the loader
//! in `load.rs`): a `static` table of the rules in read-only data, turned into [`Rule`]s by one
//! small loop, so a run does not parse TOML for its own rules. `--benchmark` files are still
//! parsed at run time by the same loader, with the same errors and lines.
//!
//! The types below are the model's twins with `&'static` data instead of owned data, so the
//! table can be a `static`; each converts by building the model's struct literally, so a field
//! added to the model fails the build until it is added here and in `codegen.rs`.

use super::model::{
    AccountCheck, Check, ComponentKind, Condition, ContainerCheck, Expect, FileRequest, Operator,
    Probe, Rule, RuntimeCheck, Severity, SysctlCheck, WhenUnset,
};
use crate::error::InputError;
use crate::value::Value;

/// Every embedded rule, in the order of `EMBEDDED` and of each file, as the build parsed and
/// validated them: nothing is parsed at run time. The `Result` is the loader's signature, kept
/// for its callers; it is always `Ok`.
pub fn load_embedded() -> Result<Vec<Rule>, InputError> {
    Ok(RULES.iter().map(R::to_rule).collect())
}

static RULES: &[R] = include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// [`Rule`].
struct R {
    id: &'static str,
    cis: Option<&'static str>,
    section: &'static str,
    title: &'static str,
    severity: Severity,
    scored: bool,
    probe: P,
    expect: Option<E>,
    remediation: &'static str,
    origin: &'static str,
    applies_when: Option<Condition>,
}

/// [`Probe`], with [`FileRequest`]'s two forms as variants.
enum P {
    KernelConfig {
        option: &'static str,
        status_field: Option<&'static str>,
    },
    Setting {
        component: ComponentKind,
        key: &'static str,
        flag: Option<&'static str>,
    },
    Named(&'static str),
    Paths {
        paths: &'static [&'static str],
        recurse: bool,
        glob: Option<&'static str>,
    },
    Check(Check),
    /// [`SysctlCheck`]s: key and expectation.
    Sysctl(&'static [(&'static str, Option<E>)]),
    Sshd {
        keyword: &'static str,
        default: Option<&'static str>,
    },
}

/// [`Expect`].
struct E {
    operator: Operator,
    value: V,
    when_unset: Option<WhenUnset>,
}

/// [`Value`].
enum V {
    Bool(bool),
    Int(i64),
    Str(&'static str),
    List(&'static [V]),
}

fn owned(text: Option<&'static str>) -> Option<String> {
    text.map(String::from)
}

impl R {
    fn to_rule(&self) -> Rule {
        Rule {
            id: self.id.into(),
            cis: owned(self.cis),
            section: self.section.into(),
            title: self.title.into(),
            severity: self.severity,
            scored: self.scored,
            probe: self.probe.to_probe(),
            expect: self.expect.as_ref().map(E::to_expect),
            remediation: self.remediation.into(),
            origin: self.origin.into(),
            applies_when: self.applies_when,
        }
    }
}

impl P {
    fn to_probe(&self) -> Probe {
        match self {
            P::KernelConfig {
                option,
                status_field,
            } => Probe::KernelConfig {
                option: (*option).into(),
                status_field: owned(*status_field),
            },
            P::Setting {
                component,
                key,
                flag,
            } => Probe::Setting {
                component: *component,
                key: (*key).into(),
                flag: owned(*flag),
            },
            P::Named(name) => Probe::File(FileRequest::Named((*name).into())),
            P::Paths {
                paths,
                recurse,
                glob,
            } => Probe::File(FileRequest::Paths {
                paths: paths.iter().map(|path| (*path).into()).collect(),
                recurse: *recurse,
                glob: owned(*glob),
            }),
            P::Check(check) => Probe::Check(*check),
            P::Sysctl(checks) => Probe::Sysctl(
                checks
                    .iter()
                    .map(|(key, expect)| SysctlCheck {
                        key: (*key).into(),
                        expect: expect.as_ref().map(E::to_expect),
                    })
                    .collect(),
            ),
            P::Sshd { keyword, default } => Probe::Sshd {
                keyword: (*keyword).into(),
                default: owned(*default),
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
        match self {
            V::Bool(value) => Value::Bool(*value),
            V::Int(value) => Value::Int(*value),
            V::Str(text) => Value::Str((*text).into()),
            V::List(items) => Value::List(items.iter().map(V::to_value).collect()),
        }
    }
}
