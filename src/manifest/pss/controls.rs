//! The Pod Security Standards' controls as data (`rules/pss/controls.toml`, embedded): which
//! fields each control restricts, the allowed values, and the standard versions at which a
//! control's definition changed. Loading validates the file and refuses anything it could not
//! apply exactly (an unknown scope, a field rule with no condition, versions out of order), so a
//! mistake in the data is an error at startup, never a control silently skipped.
//!
//! [`Controls::at`] picks, for a level and a version, the definitions that apply — the same
//! selection the admission controller makes: a control's newest definition not newer than the
//! version; at `restricted`, every baseline control except those a restricted one replaces.
//!
//! `build.rs` runs [`parse`] over the embedded file (a mistake fails the build with the file and
//! line) and writes the controls as Rust: [`load_embedded`] returns them without parsing TOML.

use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::lines::LineIndex;

/// The shipped controls.
pub const EMBEDDED: (&str, &str) = (
    "rules/pss/controls.toml",
    include_str!("../../../rules/pss/controls.toml"),
);

#[derive(Debug, thiserror::Error)]
pub enum ControlsError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "unknown Pod Security Standards version {requested:?}: this hardnode knows v1.0 to v{latest} (or `latest`)"
    )]
    UnknownVersion { requested: String, latest: Version },
}

/// A standard version, `1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    /// `1.31`, `v1.31` (the admission controller's `v1.31` spelling is accepted too).
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let (major, minor) = text.split_once('.')?;
        let major: u32 = major.parse().ok()?;
        let minor: u32 = minor.parse().ok()?;
        // The standard has only ever had major version 1.
        (major == 1).then_some(Version { major, minor })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("v{self}"))
    }
}

/// The two levels that restrict anything (`privileged` is the absence of controls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Baseline,
    Restricted,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A path under the pod spec.
    Pod,
    /// A path under each container of initContainers, containers and ephemeralContainers.
    Container,
    /// A key of the pod's `metadata.annotations`.
    Annotation,
}

/// A value as the data writes it; compared exactly with the manifest's (no type coercion: the
/// admission controller sees typed fields, and `"true"` is not `true`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(value) => write!(f, "{value}"),
            Scalar::Int(value) => write!(f, "{value}"),
            Scalar::Str(value) => write!(f, "{value:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unset {
    #[default]
    Allowed,
    Forbidden,
    /// Allowed when the pod-level field (`inherit`) holds an allowed value.
    Inherit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Exemption {
    /// `spec.os.name: windows`: Linux-only restricted controls do not judge Windows pods.
    #[serde(rename = "windows")]
    Windows,
    /// `spec.hostUsers: false`: the pod runs in a user namespace.
    #[serde(rename = "user-namespace")]
    UserNamespace,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    pub scope: Scope,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub allowed: Option<Vec<Scalar>>,
    #[serde(default)]
    pub allowed_prefixes: Vec<String>,
    #[serde(default)]
    pub forbidden: Option<Vec<Scalar>>,
    #[serde(default)]
    pub must_contain: Option<String>,
    #[serde(default)]
    pub one_of_keys: Option<Vec<String>>,
    /// With `one_of_keys`: the key the API server defaults a mapping to when it sets none but
    /// `name` (a volume without a source becomes an `emptyDir` before admission).
    #[serde(default)]
    pub default_key: Option<String>,
    #[serde(default)]
    pub unset: Unset,
    #[serde(default)]
    pub inherit: Option<String>,
    #[serde(default)]
    pub missing_is_empty: bool,
}

impl FieldRule {
    /// What the standard allows here, in words, for the report.
    pub fn allowed_text(&self) -> String {
        let mut parts = Vec::new();
        match self.unset {
            Unset::Allowed => parts.push("undefined/null".to_string()),
            Unset::Forbidden => {}
            Unset::Inherit => parts.push(format!(
                "undefined/null when the pod sets spec.{} to an allowed value",
                self.inherit.as_deref().unwrap_or("?")
            )),
        }
        if let Some(allowed) = &self.allowed {
            parts.extend(allowed.iter().map(ToString::to_string));
        }
        parts.extend(self.allowed_prefixes.iter().map(|p| format!("\"{p}*\"")));
        if let Some(forbidden) = &self.forbidden {
            let list: Vec<String> = forbidden.iter().map(ToString::to_string).collect();
            parts.push(format!("any value except {}", list.join(", ")));
        }
        if let Some(element) = &self.must_contain {
            parts.push(format!("a list that includes {element:?}"));
        }
        if let Some(keys) = &self.one_of_keys {
            parts.push(format!("a volume of type {}", keys.join(", ")));
        }
        parts.join(", ")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    since: String,
    #[serde(default)]
    exempt: Vec<Exemption>,
    #[serde(default)]
    replaces: Vec<String>,
    #[serde(default)]
    field: Vec<FieldRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: String,
    name: String,
    level: Level,
    description: String,
    version: Vec<Spanned<RawVersion>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    latest: String,
    control: Vec<Spanned<RawControl>>,
}

/// One control's definition from a version on.
#[derive(Debug, Clone)]
pub struct Definition {
    pub since: Version,
    pub exempt: Vec<Exemption>,
    pub replaces: Vec<String>,
    pub fields: Vec<FieldRule>,
}

#[derive(Debug, Clone)]
pub struct Control {
    /// The admission controller's check id (`capabilities_restricted`).
    pub id: String,
    /// The name the standard gives the control (`Capabilities`).
    pub name: String,
    pub level: Level,
    pub description: String,
    /// Oldest first.
    pub definitions: Vec<Definition>,
}

impl Control {
    /// The definition in force at `version`, if the control exists there.
    pub fn at(&self, version: Version) -> Option<&Definition> {
        self.definitions.iter().rev().find(|d| d.since <= version)
    }
}

#[derive(Debug, Clone)]
pub struct Controls {
    pub latest: Version,
    /// In file order: baseline controls, then restricted ones.
    pub controls: Vec<Control>,
}

/// A control and the definition that applies, chosen for one level and version.
#[derive(Debug, Clone, Copy)]
pub struct Applied<'a> {
    pub control: &'a Control,
    pub definition: &'a Definition,
}

impl Controls {
    /// `latest` or a version this data knows (`1.0` up to `latest`).
    pub fn version(&self, requested: &str) -> Result<Version, ControlsError> {
        if requested.trim() == "latest" {
            return Ok(self.latest);
        }
        match Version::parse(requested) {
            Some(version) if version <= self.latest => Ok(version),
            _ => Err(ControlsError::UnknownVersion {
                requested: requested.to_string(),
                latest: self.latest,
            }),
        }
    }

    /// The controls that judge a pod at `level` and `version`, baseline ones first.
    pub fn at(&self, level: Level, version: Version) -> Vec<Applied<'_>> {
        let in_force: Vec<Applied<'_>> = self
            .controls
            .iter()
            .filter(|c| c.level <= level)
            .filter_map(|control| {
                control.at(version).map(|definition| Applied {
                    control,
                    definition,
                })
            })
            .collect();
        let replaced: Vec<&str> = in_force
            .iter()
            .filter(|a| a.control.level == Level::Restricted)
            .flat_map(|a| a.definition.replaces.iter().map(String::as_str))
            .collect();
        in_force
            .into_iter()
            .filter(|a| !replaced.contains(&a.control.id.as_str()))
            .collect()
    }

    /// The control with this id.
    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// The shipped controls, as the build parsed and validated them (`manifest::compiled`).
pub fn load_embedded() -> Result<Controls, ControlsError> {
    crate::manifest::compiled::controls()
}

/// The shipped controls parsed from their TOML now: what `build.rs` runs, and what the compiled
/// controls are tested against.
pub fn parse_embedded() -> Result<Controls, ControlsError> {
    parse(EMBEDDED.0, EMBEDDED.1)
}

/// Parses and validates a controls file.
pub fn parse(file: &str, text: &str) -> Result<Controls, ControlsError> {
    let invalid = |message: String| ControlsError::Invalid {
        file: file.to_string(),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let latest = Version::parse(&raw.latest)
        .ok_or_else(|| invalid(format!("latest = {:?} is not a version 1.N", raw.latest)))?;
    let lines = LineIndex::new(text);
    let mut controls: Vec<Control> = Vec::new();
    // The line of each control, for the check across controls below.
    let mut control_lines: Vec<usize> = Vec::new();
    for spanned in raw.control {
        let line = lines.line_of(spanned.span().start);
        let control = spanned.into_inner();
        let fail_at = |line: usize, message: String| {
            invalid(format!("line {line}: control {}: {message}", control.id))
        };
        let fail = |message: String| fail_at(line, message);
        if control.id.trim().is_empty() || control.name.trim().is_empty() {
            return Err(invalid(format!(
                "line {line}: a control without id or name"
            )));
        }
        if controls.iter().any(|c| c.id == control.id) {
            return Err(fail("defined twice".into()));
        }
        if control.version.is_empty() {
            return Err(fail("has no [[control.version]]".into()));
        }
        let mut definitions: Vec<Definition> = Vec::new();
        for spanned in control.version {
            let version_line = lines.line_of(spanned.span().start);
            let version = spanned.into_inner();
            let fail = |message: String| fail_at(version_line, message);
            let since = Version::parse(&version.since)
                .ok_or_else(|| fail(format!("since = {:?} is not a version 1.N", version.since)))?;
            if since > latest {
                return Err(fail(format!("since {since} is newer than latest {latest}")));
            }
            if definitions.last().is_some_and(|d| d.since >= since) {
                return Err(fail(format!(
                    "version {since}: versions must be strictly increasing"
                )));
            }
            if !version.replaces.is_empty() && control.level != Level::Restricted {
                return Err(fail("only restricted controls may replace others".into()));
            }
            if version.field.is_empty() {
                return Err(fail(format!("version {since} restricts no field")));
            }
            for rule in &version.field {
                validate_rule(rule).map_err(|m| fail(format!("version {since}: {m}")))?;
            }
            definitions.push(Definition {
                since,
                exempt: version.exempt,
                replaces: version.replaces,
                fields: version.field,
            });
        }
        control_lines.push(line);
        controls.push(Control {
            id: control.id,
            name: control.name,
            level: control.level,
            description: control.description,
            definitions,
        });
    }
    // A replaced id must name a baseline control, or the replacement would silently do nothing.
    for (control, line) in controls.iter().zip(&control_lines) {
        for definition in &control.definitions {
            for id in &definition.replaces {
                if !controls
                    .iter()
                    .any(|c| &c.id == id && c.level == Level::Baseline)
                {
                    return Err(invalid(format!(
                        "line {line}: control {}: replaces {id}, which is not a baseline control",
                        control.id
                    )));
                }
            }
        }
    }
    Ok(Controls { latest, controls })
}

fn validate_rule(rule: &FieldRule) -> Result<(), String> {
    let conditions = usize::from(rule.allowed.is_some())
        + usize::from(rule.forbidden.is_some())
        + usize::from(rule.must_contain.is_some())
        + usize::from(rule.one_of_keys.is_some());
    if conditions != 1 {
        return Err(format!(
            "field {:?}: exactly one of allowed, forbidden, must_contain, one_of_keys",
            rule.path
        ));
    }
    if rule.default_key.is_some() && rule.one_of_keys.is_none() {
        return Err(format!(
            "field {:?}: default_key goes with one_of_keys",
            rule.path
        ));
    }
    if !rule.allowed_prefixes.is_empty() && rule.allowed.is_none() {
        return Err(format!(
            "field {:?}: allowed_prefixes goes with allowed",
            rule.path
        ));
    }
    match rule.scope {
        Scope::Annotation => {
            if rule.key.is_some() == rule.key_prefix.is_some() {
                return Err("an annotation rule names exactly one of key, key_prefix".into());
            }
            if !rule.path.is_empty() || rule.unset != Unset::Allowed {
                return Err("an annotation rule has no path and no unset".into());
            }
        }
        Scope::Pod | Scope::Container => {
            if rule.path.trim().is_empty() || rule.key.is_some() || rule.key_prefix.is_some() {
                return Err("a pod or container rule names a path and no key".into());
            }
            if rule
                .path
                .split('.')
                .any(|s| s.is_empty() || (s.contains('[') && !s.ends_with("[*]")))
            {
                return Err(format!("field {:?}: malformed path", rule.path));
            }
        }
    }
    match (rule.unset, &rule.inherit) {
        (Unset::Inherit, None) => Err(format!(
            "field {:?}: unset = \"inherit\" needs inherit = <pod path>",
            rule.path
        )),
        (Unset::Inherit, Some(_)) if rule.scope != Scope::Container => {
            Err("only container fields inherit from the pod".into())
        }
        (Unset::Allowed | Unset::Forbidden, Some(_)) => Err(format!(
            "field {:?}: inherit without unset = \"inherit\"",
            rule.path
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_controls_load_and_versions_select_definitions() {
        let controls = load_embedded().expect("embedded controls are valid");
        assert_eq!(controls.latest.to_string(), "1.37");
        let ids = |level, version: &str| -> Vec<String> {
            controls
                .at(level, controls.version(version).expect("version"))
                .iter()
                .map(|a| a.control.id.clone())
                .collect()
        };
        let baseline = ids(Level::Baseline, "latest");
        assert!(baseline.contains(&"hostProbesAndHostLifecycle".to_string()));
        assert!(!baseline.contains(&"runAsNonRoot".to_string()));
        // The probe host control arrived in 1.34.
        assert!(!ids(Level::Baseline, "v1.33").contains(&"hostProbesAndHostLifecycle".to_string()));
        let restricted = ids(Level::Restricted, "latest");
        for replaced in [
            "hostPathVolumes",
            "capabilities_baseline",
            "seccompProfile_baseline",
            "procMount",
        ] {
            assert!(!restricted.contains(&replaced.to_string()), "{replaced}");
        }
        // Before 1.22 the restricted level judged capabilities with the baseline list.
        let old = ids(Level::Restricted, "1.21");
        assert!(old.contains(&"capabilities_baseline".to_string()));
        assert!(!old.contains(&"capabilities_restricted".to_string()));
    }

    #[test]
    fn versions_outside_the_data_are_refused() {
        let controls = load_embedded().expect("controls");
        assert!(controls.version("1.38").is_err());
        assert!(controls.version("2.0").is_err());
        assert!(controls.version("banana").is_err());
        assert_eq!(controls.version("v1.30").expect("v1.30").minor, 30);
    }

    #[test]
    fn a_rule_without_a_condition_or_out_of_order_versions_is_refused() {
        let no_condition = "latest = \"1.30\"\n[[control]]\nid = \"x\"\nname = \"X\"\n\
            level = \"baseline\"\ndescription = \"d\"\n[[control.version]]\nsince = \"1.0\"\n\
            [[control.version.field]]\nscope = \"pod\"\npath = \"hostNetwork\"\n";
        assert!(parse("t", no_condition).is_err());
        let order = "latest = \"1.30\"\n[[control]]\nid = \"x\"\nname = \"X\"\n\
            level = \"baseline\"\ndescription = \"d\"\n\
            [[control.version]]\nsince = \"1.20\"\n[[control.version.field]]\nscope = \"pod\"\npath = \"a\"\nallowed = [false]\n\
            [[control.version]]\nsince = \"1.10\"\n[[control.version.field]]\nscope = \"pod\"\npath = \"a\"\nallowed = [false]\n";
        let error = parse("t", order).expect_err("out of order");
        assert!(error.to_string().contains("strictly increasing"), "{error}");
    }
}
