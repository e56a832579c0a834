//! Loading rules from TOML: the embedded `benchmarks/*.toml` and `--benchmark` files.

use crate::lines::LineIndex;
use crate::parallel::{self, Split};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::model::{
    Check, ComponentKind, Condition, Expect, FileRequest, Operator, Probe, Rule, Severity,
    SysctlCheck, WhenUnset,
};
use crate::error::InputError;
use crate::probe::NAMED_FILES;
use crate::value::Value;

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
        "benchmarks/kubelet.toml",
        include_str!("../../benchmarks/kubelet.toml"),
    ),
    (
        "benchmarks/controlplane-files.toml",
        include_str!("../../benchmarks/controlplane-files.toml"),
    ),
    (
        "benchmarks/apiserver.toml",
        include_str!("../../benchmarks/apiserver.toml"),
    ),
    (
        "benchmarks/controlplane.toml",
        include_str!("../../benchmarks/controlplane.toml"),
    ),
    (
        "benchmarks/etcd.toml",
        include_str!("../../benchmarks/etcd.toml"),
    ),
    (
        "benchmarks/containers.toml",
        include_str!("../../benchmarks/containers.toml"),
    ),
    (
        "benchmarks/accounts.toml",
        include_str!("../../benchmarks/accounts.toml"),
    ),
    (
        "benchmarks/sysctl.toml",
        include_str!("../../benchmarks/sysctl.toml"),
    ),
    (
        "benchmarks/runtime.toml",
        include_str!("../../benchmarks/runtime.toml"),
    ),
    (
        "benchmarks/firewall.toml",
        include_str!("../../benchmarks/firewall.toml"),
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
    applies_when: Option<Spanned<toml::Table>>,
    remediation: String,
}

/// How the embedded rule files are shared out: a file per block, parsed on every CPU.
const PARSE_SPLIT: Split = Split {
    per_block: 1,
    min_per_thread: 4,
    thread_name: "hardnode-rules",
};

/// Every embedded rule parsed from its TOML now, in file order: what `build.rs` runs (a broken
/// file fails the build with this error) and what the compiled rules are tested against.
pub fn parse_embedded() -> Result<Vec<Rule>, InputError> {
    parse_files(EMBEDDED)
}

/// Rule files given as (file, text), parsed in order; an id defined twice across them is refused.
/// `parse_embedded` over other texts: what the build-time step's tests feed broken rules to.
pub fn parse_files(files: &[(&str, &str)]) -> Result<Vec<Rule>, InputError> {
    let parsed = parallel::for_each_block(files, &PARSE_SPLIT, Vec::new, |files, (name, text)| {
        files.push((*name, load_str(name, text)))
    });
    let mut rules: Vec<Rule> = Vec::new();
    let mut ids = BTreeSet::new();
    for (name, file) in parsed.into_iter().flatten() {
        for rule in file? {
            if !ids.insert(rule.id.clone()) {
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
pub fn load_file(path: &Path) -> Result<Vec<Rule>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|error| InputError::Config {
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
pub fn load_str(origin: &str, text: &str) -> Result<Vec<Rule>, InputError> {
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        config_error(origin, error.to_string().trim_end().replace('\n', "\n  "))
    })?;
    let mut rules: Vec<Rule> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let lines = LineIndex::new(text);
    for spanned in raw.rule {
        let line = lines.line_of(spanned.span().start);
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
        let probe_line = lines.line_of(raw.probe.span().start);
        let probe =
            parse_probe(raw.probe.get_ref()).map_err(|message| fail(probe_line, message))?;
        let expect = match &raw.expect {
            Some(table) => Some(
                parse_expect(table.get_ref(), raw.when_unset)
                    .map_err(|message| fail(lines.line_of(table.span().start), message))?,
            ),
            None if matches!(probe, Probe::Check(_)) => None,
            // The table form carries an expectation per key.
            None if matches!(&probe, Probe::Sysctl(checks) if checks.iter().all(|c| c.expect.is_some())) => {
                None
            }
            None => return Err(fail(line, "this probe needs an `expect`".into())),
        };
        if expect.is_some()
            && matches!(&probe, Probe::Sysctl(checks) if checks.iter().any(|c| c.expect.is_some()))
        {
            return Err(fail(
                line,
                "a sysctl table gives each key its own expectation: drop the rule's `expect`"
                    .into(),
            ));
        }
        let section = match raw.section {
            Some(section) => section,
            None => raw.id.split('.').next().unwrap_or_default().to_string(),
        };
        let applies_when = match &raw.applies_when {
            Some(table) => Some(
                parse_condition(table.get_ref())
                    .map_err(|message| fail(lines.line_of(table.span().start), message))?,
            ),
            None => None,
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
            applies_when,
            id: raw.id,
        });
    }
    Ok(rules)
}

fn config_error(origin: &str, message: String) -> InputError {
    InputError::Config {
        path: origin.into(),
        message,
    }
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

const PROBE_KINDS: &[&str] = &[
    "kernel_config",
    "check",
    "kubelet",
    "apiserver",
    "controller_manager",
    "scheduler",
    "etcd",
    "proxy",
    "file",
    "path",
    "sysctl",
    "sshd",
];

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
        "kubelet" | "proxy" => &["flag"],
        "path" => &["recurse", "glob"],
        "sshd" => &["default"],
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
    if let Some(component) = ComponentKind::from_probe_key(kind) {
        let key = text(kind)?.unwrap_or_default();
        let flag = text("flag")?;
        if let Some(flag) = &flag
            && !flag.starts_with("--")
        {
            return Err(format!("flag must be written --name, found {flag:?}"));
        }
        if key.starts_with('-') && !key.starts_with("--") {
            return Err(format!("a flag key is written --name, found {key:?}"));
        }
        if !matches!(component, ComponentKind::Kubelet | ComponentKind::Proxy)
            && !key.starts_with("--")
            && !key.starts_with("featureGates.")
        {
            return Err(format!(
                "{kind} settings are flags (\"--name\") or featureGates.Name, found {key:?}"
            ));
        }
        return Ok(Probe::Setting {
            component,
            key,
            flag,
        });
    }
    match *kind {
        "file" => {
            let name = text("file")?.unwrap_or_default();
            if !NAMED_FILES.contains(&name.as_str()) {
                return Err(format!(
                    "unknown named file {name:?} (known: {})",
                    NAMED_FILES.join(", ")
                ));
            }
            Ok(Probe::File(FileRequest::Named(name)))
        }
        "path" => {
            let paths: Vec<String> = match table.get("path") {
                Some(toml::Value::String(path)) => vec![path.clone()],
                Some(toml::Value::Array(items)) => items
                    .iter()
                    .map(|item| item.as_str().map(String::from))
                    .collect::<Option<_>>()
                    .ok_or("path must be a string or a list of strings")?,
                _ => return Err("path must be a string or a list of strings".into()),
            };
            if paths.is_empty() || paths.iter().any(|p| !p.starts_with('/')) {
                return Err(format!("path must be absolute host paths, found {paths:?}"));
            }
            let recurse = match table.get("recurse") {
                None => false,
                Some(toml::Value::Boolean(value)) => *value,
                Some(other) => return Err(format!("recurse must be true or false, found {other}")),
            };
            Ok(Probe::File(FileRequest::Paths {
                paths,
                recurse,
                glob: text("glob")?,
            }))
        }
        "sysctl" => parse_sysctl(table.get("sysctl")),
        "sshd" => {
            let keyword = text("sshd")?.unwrap_or_default();
            if !keyword.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "sshd must name an sshd_config keyword, found {keyword:?}"
                ));
            }
            Ok(Probe::Sshd {
                keyword,
                default: text("default")?,
            })
        }
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

/// `sysctl = "kernel.panic"` or `sysctl = { "kernel.panic" = { eq = 10 }, … }`.
fn parse_sysctl(value: Option<&toml::Value>) -> Result<Probe, String> {
    let valid_key = |key: &str| {
        key.contains('.')
            && !key.starts_with('.')
            && !key.ends_with('.')
            && !key.contains("..")
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    let check_key = |key: &str| {
        if valid_key(key) {
            Ok(key.to_string())
        } else {
            Err(format!(
                "sysctl must name a kernel parameter such as \"kernel.panic\", found {key:?}"
            ))
        }
    };
    match value {
        Some(toml::Value::String(key)) => Ok(Probe::Sysctl(vec![SysctlCheck {
            key: check_key(key)?,
            expect: None,
        }])),
        Some(toml::Value::Table(keys)) if !keys.is_empty() => keys
            .iter()
            .map(|(key, expect)| {
                let toml::Value::Table(expect) = expect else {
                    return Err(format!(
                        "sysctl {key:?} needs an expectation such as {{ eq = 1 }}"
                    ));
                };
                Ok(SysctlCheck {
                    key: check_key(key)?,
                    expect: Some(
                        parse_expect(expect, None)
                            .map_err(|message| format!("{key}: {message}"))?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Probe::Sysctl),
        _ => {
            Err("sysctl must be a key (\"kernel.panic\") or a table of keys to expectations".into())
        }
    }
}

fn parse_condition(table: &toml::Table) -> Result<Condition, String> {
    let mut entries = table.iter();
    match (entries.next(), entries.next()) {
        (Some((key, toml::Value::String(name))), None) if key == "component" => {
            ComponentKind::from_probe_key(name)
                .map(Condition::ComponentRuns)
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        ComponentKind::ALL.iter().map(|k| k.probe_key()).collect();
                    format!(
                        "applies_when: unknown component {name:?} (known: {})",
                        known.join(", ")
                    )
                })
        }
        _ => {
            Err("applies_when must be `{ component = \"kubelet\" }` (or another component)".into())
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

    fn error_text(result: Result<Vec<Rule>, InputError>) -> String {
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

    use crate::benchmark::load_embedded;

    #[test]
    fn compiled_rules_equal_the_rule_files_parsed_now() {
        let compiled = load_embedded().expect("compiled rules");
        let parsed = parse_embedded().expect("embedded rules are valid");
        assert_eq!(compiled.len(), parsed.len());
        for (compiled, parsed) in compiled.iter().zip(&parsed) {
            // Debug shows every field of every type, values with their kind.
            assert_eq!(
                format!("{compiled:?}"),
                format!("{parsed:?}"),
                "{}",
                parsed.id
            );
        }
        assert!(compiled.len() > 100, "{}", compiled.len());
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
