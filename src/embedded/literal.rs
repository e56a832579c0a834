//! Writes the pod rules, the Pod Security Standards controls and the benchmark profiles as Rust:
//! one function per item that builds the loader's own types from literals (`manifest::compiled`
//! and `benchmark::compiled_profiles` include the output). Nothing is put in a `static`: a
//! string is a literal the code copies into a `String`, so the static-PIE binary has no pointer
//! to relocate at start for them (`benchmark/codegen.rs` says why that matters).
//!
//! Every type is destructured exhaustively, so a field added to the loader's types fails the
//! build here instead of being dropped silently; the generated struct literals name every field
//! too.

use std::fmt::Write;

use crate::benchmark::profiles::Profile;
use crate::benchmark::{Expect, WhenUnset};
use crate::manifest::pss::controls::{Control, Controls, Definition, FieldRule, Scalar, Version};
use crate::manifest::rules::{PodRule, RuleSet, StaticPodException};
use crate::value::Value;

/// A string literal turned into a `String` by the including module's `s`.
fn string(text: &str) -> String {
    format!("s({text:?})")
}

fn strings(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("vec![{}]", items.join(", "))
}

fn option_string(text: Option<&String>) -> String {
    match text {
        Some(text) => format!("Some({})", string(text)),
        None => "None".into(),
    }
}

fn option_strings(items: Option<&Vec<String>>) -> String {
    match items {
        Some(items) => format!("Some({})", strings(items)),
        None => "None".into(),
    }
}

fn value(value: &Value) -> String {
    match value {
        Value::Bool(value) => format!("Value::Bool({value})"),
        Value::Int(value) => format!("Value::Int({value}i64)"),
        Value::Str(text) => format!("Value::Str({})", string(text)),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(self::value).collect();
            format!("Value::List(vec![{}])", items.join(", "))
        }
    }
}

fn expect(expect: &Expect) -> String {
    let Expect {
        operator,
        value,
        when_unset,
    } = expect;
    let when_unset = match when_unset {
        Some(when) => format!("Some(WhenUnset::{})", when_unset_name(*when)),
        None => "None".into(),
    };
    format!(
        "Expect {{ operator: Operator::{operator:?}, value: {}, when_unset: {when_unset} }}",
        self::value(value)
    )
}

fn when_unset_name(when: WhenUnset) -> &'static str {
    match when {
        WhenUnset::Pass => "Pass",
        WhenUnset::Fail => "Fail",
        WhenUnset::Skip => "Skip",
    }
}

/// `fn embedded_pod_rules() -> RuleSet`, with a function per rule and per exception.
pub fn pod_rules_items(set: &RuleSet) -> String {
    let RuleSet { rules, static_pods } = set;
    let mut out = String::new();
    for (index, rule) in rules.iter().enumerate() {
        let _ = writeln!(
            out,
            "fn rule_{index}() -> PodRule {{\n    {}\n}}",
            pod_rule(rule)
        );
    }
    for (index, exception) in static_pods.iter().enumerate() {
        let _ = writeln!(
            out,
            "fn static_pod_{index}() -> StaticPodException {{\n    {}\n}}",
            static_pod(exception)
        );
    }
    let calls = |prefix: &str, count: usize| -> String {
        let calls: Vec<String> = (0..count)
            .map(|index| format!("{prefix}_{index}()"))
            .collect();
        calls.join(", ")
    };
    let _ = writeln!(
        out,
        "fn embedded_pod_rules() -> RuleSet {{\n    RuleSet {{ rules: vec![{}], static_pods: vec![{}] }}\n}}",
        calls("rule", rules.len()),
        calls("static_pod", static_pods.len())
    );
    out
}

fn pod_rule(rule: &PodRule) -> String {
    let PodRule {
        id,
        points,
        scope,
        applies_to,
        field,
        expect,
        selector,
        reason,
    } = rule;
    let applies_to: Vec<String> = applies_to
        .iter()
        .map(|kind| format!("ContainerKind::{kind:?}"))
        .collect();
    format!(
        "PodRule {{ id: {}, points: {points}i64, scope: Scope::{scope:?}, applies_to: vec![{}], \
         field: {}, expect: {}, selector: {}, reason: {} }}",
        string(id),
        applies_to.join(", "),
        string(field),
        self::expect(expect),
        string(selector),
        string(reason)
    )
}

fn static_pod(exception: &StaticPodException) -> String {
    let StaticPodException {
        component,
        expected_rules,
        host_paths,
        expected_pod_security,
        reason,
    } = exception;
    format!(
        "StaticPodException {{ component: {}, expected_rules: {}, host_paths: {}, \
         expected_pod_security: {}, reason: {} }}",
        string(component),
        strings(expected_rules),
        strings(host_paths),
        strings(expected_pod_security),
        string(reason)
    )
}

/// `fn embedded_controls() -> Controls`, with a function per control.
pub fn controls_items(controls: &Controls) -> String {
    let Controls { latest, controls } = controls;
    let mut out = String::new();
    for (index, item) in controls.iter().enumerate() {
        let _ = writeln!(
            out,
            "fn control_{index}() -> Control {{\n    {}\n}}",
            control(item)
        );
    }
    let calls: Vec<String> = (0..controls.len())
        .map(|index| format!("control_{index}()"))
        .collect();
    let _ = writeln!(
        out,
        "fn embedded_controls() -> Controls {{\n    Controls {{ latest: {}, controls: vec![{}] }}\n}}",
        version(*latest),
        calls.join(", ")
    );
    out
}

fn version(version: Version) -> String {
    let Version { major, minor } = version;
    format!("Version {{ major: {major}, minor: {minor} }}")
}

fn control(control: &Control) -> String {
    let Control {
        id,
        name,
        level,
        description,
        definitions,
    } = control;
    let definitions: Vec<String> = definitions.iter().map(definition).collect();
    format!(
        "Control {{ id: {}, name: {}, level: Level::{level:?}, description: {}, \
         definitions: vec![{}] }}",
        string(id),
        string(name),
        string(description),
        definitions.join(",\n        ")
    )
}

fn definition(definition: &Definition) -> String {
    let Definition {
        since,
        exempt,
        replaces,
        fields,
    } = definition;
    let exempt: Vec<String> = exempt
        .iter()
        .map(|exemption| format!("Exemption::{exemption:?}"))
        .collect();
    let fields: Vec<String> = fields.iter().map(field_rule).collect();
    format!(
        "Definition {{ since: {}, exempt: vec![{}], replaces: {}, fields: vec![{}] }}",
        version(*since),
        exempt.join(", "),
        strings(replaces),
        fields.join(",\n            ")
    )
}

fn scalars(items: Option<&Vec<Scalar>>) -> String {
    let Some(items) = items else {
        return "None".into();
    };
    let items: Vec<String> = items
        .iter()
        .map(|scalar| match scalar {
            Scalar::Bool(value) => format!("Scalar::Bool({value})"),
            Scalar::Int(value) => format!("Scalar::Int({value}i64)"),
            Scalar::Str(text) => format!("Scalar::Str({})", string(text)),
        })
        .collect();
    format!("Some(vec![{}])", items.join(", "))
}

fn field_rule(rule: &FieldRule) -> String {
    let FieldRule {
        scope,
        path,
        key,
        key_prefix,
        allowed,
        allowed_prefixes,
        forbidden,
        must_contain,
        one_of_keys,
        default_key,
        unset,
        inherit,
        missing_is_empty,
    } = rule;
    format!(
        "FieldRule {{ scope: Scope::{scope:?}, path: {}, key: {}, key_prefix: {}, allowed: {}, \
         allowed_prefixes: {}, forbidden: {}, must_contain: {}, one_of_keys: {}, \
         default_key: {}, unset: Unset::{unset:?}, inherit: {}, \
         missing_is_empty: {missing_is_empty} }}",
        string(path),
        option_string(key.as_ref()),
        option_string(key_prefix.as_ref()),
        scalars(allowed.as_ref()),
        strings(allowed_prefixes),
        scalars(forbidden.as_ref()),
        option_string(must_contain.as_ref()),
        option_strings(one_of_keys.as_ref()),
        option_string(default_key.as_ref()),
        option_string(inherit.as_ref()),
    )
}

/// `fn embedded_profiles() -> Vec<Profile>`, with a function per profile.
pub fn profiles_items(profiles: &[Profile]) -> String {
    let mut out = String::new();
    for (index, item) in profiles.iter().enumerate() {
        let Profile {
            id,
            title,
            version,
            platforms,
            ids,
            origin,
        } = item;
        let _ = writeln!(out, "fn profile_{index}() -> Profile {{");
        // In key order already: `BTreeMap::from` finds the array sorted and builds the tree in
        // one pass instead of one insert per id.
        out.push_str("    let ids = BTreeMap::from([\n");
        for (rule, profile_id) in ids {
            let _ = writeln!(out, "        ({}, {}),", string(rule), string(profile_id));
        }
        out.push_str("    ]);\n");
        let _ = writeln!(
            out,
            "    Profile {{ id: {}, title: {}, version: {}, platforms: {}, ids, origin: {} }}\n}}",
            string(id),
            string(title),
            string(version),
            strings(platforms),
            string(origin)
        );
    }
    let calls: Vec<String> = (0..profiles.len())
        .map(|index| format!("profile_{index}()"))
        .collect();
    let _ = writeln!(
        out,
        "fn embedded_profiles() -> Vec<Profile> {{\n    vec![{}]\n}}",
        calls.join(", ")
    );
    out
}
