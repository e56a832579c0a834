//! Loading rules from TOML: the embedded `benchmarks/*.toml` and `--benchmark` files.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::model::{Check, Expect, Operator, Probe, Rule, Severity, WhenUnset};
use crate::engine::value::Value;
use crate::error::Error;

/// The rule files compiled into the binary, so the binary alone is enough on a node.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "benchmarks/kernel.toml",
        include_str!("../../benchmarks/kernel.toml"),
    ),
    (
        "benchmarks/apparmor.toml",
        include_str!("../../benchmarks/apparmor.toml"),
    ),
    (
        "benchmarks/seccomp.toml",
        include_str!("../../benchmarks/seccomp.toml"),
    ),
    (
        "benchmarks/manifests.toml",
        include_str!("../../benchmarks/manifests.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    cis: Option<String>,
    section: Option<String>,
    title: String,
    severity: Severity,
    scored: bool,
    probe: Spanned<toml::Table>,
    expect: Option<Spanned<toml::Table>>,
    when_unset: Option<WhenUnset>,
    remediation: String,
}

/// Every embedded rule, in file order. An error here is a bug in the shipped data.
pub fn load_embedded() -> Result<Vec<Rule>, Error> {
    let mut rules: Vec<Rule> = Vec::new();
    for (name, text) in EMBEDDED {
        for rule in load_str(name, text)? {
            if rules.iter().any(|existing| existing.id == rule.id) {
                return Err(config_error(
                    name,
                    format!("rule {:?} is defined twice", rule.id),
                ));
            }
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// Rules from a user's `--benchmark FILE`.
pub fn load_file(path: &Path) -> Result<Vec<Rule>, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::Config {
        path: path.to_path_buf(),
        message: format!("cannot read benchmark file: {error}"),
    })?;
    load_str(&path.display().to_string(), &text)
}

/// Adds `extra` to `base`: a rule with an id already present replaces it in place.
pub fn merge(base: &mut Vec<Rule>, extra: Vec<Rule>) {
    for rule in extra {
        match base.iter_mut().find(|existing| existing.id == rule.id) {
            Some(existing) => *existing = rule,
            None => base.push(rule),
        }
    }
}

/// Parses and validates one rule file. `origin` names it in errors and in each rule.
pub fn load_str(origin: &str, text: &str) -> Result<Vec<Rule>, Error> {
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        config_error(origin, error.to_string().trim_end().replace('\n', "\n  "))
    })?;
    let mut rules: Vec<Rule> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for spanned in raw.rule {
        let line = line_of(text, spanned.span().start);
        let raw = spanned.into_inner();
        let fail = |at: usize, message: String| {
            config_error(origin, format!("line {at}: rule {:?}: {message}", raw.id))
        };
        if let Some(first) = seen.insert(raw.id.clone(), line) {
            return Err(fail(
                line,
                format!("duplicate id (first defined at line {first})"),
            ));
        }
        validate_id(&raw.id).map_err(|message| fail(line, message))?;
        let probe_line = line_of(text, raw.probe.span().start);
        let probe =
            parse_probe(raw.probe.get_ref()).map_err(|message| fail(probe_line, message))?;
        let expect = match &raw.expect {
            Some(table) => Some(
                parse_expect(table.get_ref(), raw.when_unset)
                    .map_err(|message| fail(line_of(text, table.span().start), message))?,
            ),
            None if matches!(probe, Probe::Check(_)) => None,
            None => return Err(fail(line, "this probe needs an `expect`".into())),
        };
        let section = match raw.section {
            Some(section) => section,
            None => raw.id.split('.').next().unwrap_or_default().to_string(),
        };
        rules.push(Rule {
            cis: raw.cis.filter(|cis| !cis.is_empty()),
            section,
            title: raw.title,
            severity: raw.severity,
            scored: raw.scored,
            probe,
            expect,
            remediation: raw.remediation.trim().to_string(),
            origin: origin.to_string(),
            id: raw.id,
        });
    }
    Ok(rules)
}

fn config_error(origin: &str, message: String) -> Error {
    Error::Config {
        path: origin.into(),
        message,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.bytes().filter(|&b| b == b'\n').count())
        + 1
}

fn validate_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.contains('.')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if valid {
        Ok(())
    } else {
        Err("an id is `section.name` in lowercase letters, digits, `-` and `_`".into())
    }
}

const PROBE_KINDS: &[&str] = &["kernel_config", "check"];

fn parse_probe(table: &toml::Table) -> Result<Probe, String> {
    let kinds: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|key| PROBE_KINDS.contains(key))
        .collect();
    let [kind] = kinds.as_slice() else {
        let unknown: Vec<&str> = table.keys().map(String::as_str).collect();
        return Err(format!(
            "probe must name exactly one kind of {} (found {})",
            PROBE_KINDS.join(", "),
            if unknown.is_empty() {
                "none".to_string()
            } else {
                unknown.join(", ")
            }
        ));
    };
    let allowed_extra: &[&str] = match *kind {
        "kernel_config" => &["status_field"],
        _ => &[],
    };
    if let Some(extra) = table
        .keys()
        .find(|key| key.as_str() != *kind && !allowed_extra.contains(&key.as_str()))
    {
        return Err(format!("unknown probe key {extra:?} for a {kind} probe"));
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(text)) if !text.is_empty() => Ok(Some(text.clone())),
            Some(other) => Err(format!(
                "probe key {key:?} must be a non-empty string, found {other}"
            )),
        }
    };
    match *kind {
        "kernel_config" => {
            let option = text("kernel_config")?.unwrap_or_default();
            if !option.starts_with("CONFIG_") {
                return Err(format!(
                    "kernel_config must name a CONFIG_ option, found {option:?}"
                ));
            }
            Ok(Probe::KernelConfig {
                option,
                status_field: text("status_field")?,
            })
        }
        _ => {
            let name = text("check")?.unwrap_or_default();
            Check::ALL
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, check)| Probe::Check(*check))
                .ok_or_else(|| {
                    let known: Vec<&str> = Check::ALL.iter().map(|(name, _)| *name).collect();
                    format!("unknown check {name:?} (known: {})", known.join(", "))
                })
        }
    }
}

pub(crate) fn parse_expect(
    table: &toml::Table,
    when_unset: Option<WhenUnset>,
) -> Result<Expect, String> {
    let mut entries = table.iter();
    let (Some((name, value)), None) = (entries.next(), entries.next()) else {
        return Err("expect must hold exactly one operator, e.g. `{ eq = false }`".into());
    };
    let operator = Operator::ALL
        .iter()
        .find(|(known, _)| known == name)
        .map(|(_, operator)| *operator)
        .ok_or_else(|| {
            let known: Vec<&str> = Operator::ALL.iter().map(|(name, _)| *name).collect();
            format!("unknown operator {name:?} (known: {})", known.join(", "))
        })?;
    let value = Value::from(value);
    match operator {
        Operator::Gte | Operator::Lte
            if value.as_int().is_none() && value.as_duration_nanos().is_none() =>
        {
            Err(format!(
                "{name} needs an integer or a duration, found {value}"
            ))
        }
        Operator::ModeAtMost if parse_mode(&value).is_none() => Err(format!(
            "mode_at_most needs an octal mode such as \"0600\", found {value}"
        )),
        Operator::Owner if !matches!(&value, Value::Str(text) if text.contains(':')) => {
            Err(format!("owner needs \"user:group\", found {value}"))
        }
        _ => Ok(Expect {
            operator,
            value,
            when_unset,
        }),
    }
}

/// Reads a mode written as an octal string (`"0600"`, `"600"`) or a TOML integer (`0o600`).
pub fn parse_mode(value: &Value) -> Option<u32> {
    match value {
        Value::Int(mode) => u32::try_from(*mode).ok().filter(|mode| *mode <= 0o7777),
        Value::Str(text) => u32::from_str_radix(text, 8)
            .ok()
            .filter(|mode| *mode <= 0o7777),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_text(result: Result<Vec<Rule>, Error>) -> String {
        result.expect_err("must be refused").to_string()
    }

    const GOOD: &str = r#"
[[rule]]
id = "kernel.x"
title = "t"
severity = "high"
scored = true
probe = { kernel_config = "CONFIG_X" }
expect = { eq = "y" }
remediation = "r"
"#;

    #[test]
    fn embedded_rules_load() {
        let rules = load_embedded().expect("embedded rules are valid");
        assert!(rules.iter().any(|rule| rule.id == "kernel.seccomp"));
    }

    #[test]
    fn a_good_rule_loads_with_its_section() {
        let rules = load_str("f.toml", GOOD).expect("loads");
        assert_eq!(rules[0].section, "kernel");
        assert_eq!(
            rules[0].expect.as_ref().map(|e| e.operator),
            Some(Operator::Eq)
        );
    }

    #[test]
    fn unknown_probe_names_file_line_and_rule() {
        let text = GOOD.replace("kernel_config = \"CONFIG_X\"", "sysfoo = \"x\"");
        let message = error_text(load_str("f.toml", &text));
        assert!(message.contains("f.toml"), "{message}");
        assert!(message.contains("line 7"), "{message}");
        assert!(message.contains("kernel.x"), "{message}");
        assert!(message.contains("sysfoo"), "{message}");
    }

    #[test]
    fn unknown_operator_and_duplicate_ids_are_refused() {
        let message = error_text(load_str("f.toml", &GOOD.replace("eq =", "equals =")));
        assert!(message.contains("unknown operator \"equals\""), "{message}");
        let message = error_text(load_str("f.toml", &format!("{GOOD}{GOOD}")));
        assert!(message.contains("duplicate id"), "{message}");
    }

    #[test]
    fn unknown_rule_key_is_refused_with_its_line() {
        let message = error_text(load_str("f.toml", &GOOD.replace("title", "titel")));
        assert!(message.contains("titel"), "{message}");
        assert!(message.contains("line"), "{message}");
    }

    #[test]
    fn merge_overrides_by_id() {
        let mut base = load_str("a", GOOD).expect("loads");
        let extra =
            load_str("b", &GOOD.replace("title = \"t\"", "title = \"new\"")).expect("loads");
        merge(&mut base, extra);
        assert_eq!(base.len(), 1);
        assert_eq!(base[0].title, "new");
        assert_eq!(base[0].origin, "b");
    }

    #[test]
    fn modes_parse_as_octal() {
        assert_eq!(parse_mode(&Value::str("0600")), Some(0o600));
        assert_eq!(parse_mode(&Value::Int(0o644)), Some(0o644));
        assert_eq!(parse_mode(&Value::str("0800")), None);
    }
}
