//! Container runtime config files as *leaves*: every scalar (or array) setting with the key as
//! written (`plugins."io.containerd.grpc.v1.cri".disable_apparmor`), its value, and the file and
//! line it came from — so a verdict can say `... = true at /etc/containerd/config.toml:42`.
//!
//! TOML is parsed with `toml::de::DeTable`, which keeps the span of every value; Docker's
//! `daemon.json` with `serde_json`, the line of each top-level key found by a scan of the text
//! (daemon.json is a flat object). A malformed file is an error naming the file and the line.
//!
//! Merging files is runtime specific and lives with the runtime: containerd merges imports key by
//! key with arrays appended, CRI-O lets a drop-in's key replace the earlier one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::de::{DeTable, DeValue};

/// One setting as a file wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leaf {
    /// The dotted key as TOML would write it: bare segments where possible, quoted otherwise.
    pub key: String,
    pub value: serde_json::Value,
    pub path: PathBuf,
    pub line: usize,
    /// What this value replaced or how it got here (an earlier file's value, a migration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Leaf {
    /// `key = value at /path:line`, the shape every runtime finding's evidence uses.
    /// A flag (line 0) reads `--icc=false from /proc/42/cmdline`.
    pub fn describe(&self) -> String {
        if self.line == 0 {
            return format!(
                "{} from {}",
                self.note.as_deref().unwrap_or(&self.key),
                self.path.display()
            );
        }
        let mut text = format!(
            "{} = {} at {}:{}",
            self.key,
            self.value,
            self.path.display(),
            self.line
        );
        if let Some(note) = &self.note {
            text.push_str(&format!(" ({note})"));
        }
        text
    }

    pub fn as_bool(&self) -> Option<bool> {
        self.value.as_bool()
    }

    pub fn as_str(&self) -> Option<&str> {
        self.value.as_str()
    }
}

/// A parse failure: the file, the line, the parser's message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseFailure {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message.trim()),
            None => write!(f, "{}: {}", self.path.display(), self.message.trim()),
        }
    }
}

/// One segment of a dotted key, quoted when TOML needs it.
pub fn key_segment(segment: &str) -> String {
    let bare = !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        segment.to_string()
    } else {
        format!("{segment:?}")
    }
}

/// Joins segments into a dotted key.
pub fn dotted(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| key_segment(s))
        .collect::<Vec<_>>()
        .join(".")
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.bytes().filter(|&b| b == b'\n').count())
        + 1
}

/// Every leaf of a TOML document, keyed by its dotted key. Tables (including inline ones) are
/// descended into; arrays are leaves.
pub fn toml_leaves(path: &Path, text: &str) -> Result<BTreeMap<String, Leaf>, ParseFailure> {
    let document = DeTable::parse(text).map_err(|error| ParseFailure {
        path: path.to_path_buf(),
        line: error.span().map(|span| line_of(text, span.start)),
        message: error.message().to_string(),
    })?;
    let mut leaves = BTreeMap::new();
    let mut prefix = Vec::new();
    walk_table(document.get_ref(), &mut prefix, path, text, &mut leaves);
    Ok(leaves)
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &mut Vec<String>,
    path: &Path,
    text: &str,
    leaves: &mut BTreeMap<String, Leaf>,
) {
    for (key, value) in table.iter() {
        prefix.push(key.get_ref().to_string());
        match value.get_ref() {
            DeValue::Table(inner) => walk_table(inner, prefix, path, text, leaves),
            other => {
                let segments: Vec<&str> = prefix.iter().map(String::as_str).collect();
                let key = dotted(&segments);
                leaves.insert(
                    key.clone(),
                    Leaf {
                        key,
                        value: to_json(other),
                        path: path.to_path_buf(),
                        line: line_of(text, value.span().start),
                        note: None,
                    },
                );
            }
        }
        prefix.pop();
    }
}

fn to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        DeValue::String(text) => J::String(text.to_string()),
        DeValue::Integer(integer) => {
            let digits = integer.as_str().replace('_', "");
            let digits = digits
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b");
            i64::from_str_radix(digits, integer.radix())
                .map(J::from)
                .unwrap_or_else(|_| J::String(integer.as_str().to_string()))
        }
        DeValue::Float(float) => float
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| J::String(float.as_str().to_string()), J::Number),
        DeValue::Boolean(flag) => J::Bool(*flag),
        DeValue::Datetime(datetime) => J::String(datetime.to_string()),
        DeValue::Array(items) => {
            J::Array(items.iter().map(|item| to_json(item.get_ref())).collect())
        }
        DeValue::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

/// The top-level keys of a JSON object document (Docker's `daemon.json`), each with the line of
/// its first `"key":` in the text.
pub fn json_leaves(path: &Path, text: &str) -> Result<BTreeMap<String, Leaf>, ParseFailure> {
    let document: serde_json::Value = serde_json::from_str(text).map_err(|error| ParseFailure {
        path: path.to_path_buf(),
        line: Some(error.line()),
        message: error.to_string(),
    })?;
    let serde_json::Value::Object(object) = document else {
        return Err(ParseFailure {
            path: path.to_path_buf(),
            line: Some(1),
            message: "is not a JSON object".into(),
        });
    };
    Ok(object
        .into_iter()
        .map(|(key, value)| {
            let line = json_key_line(text, &key);
            let leaf = Leaf {
                key: key.clone(),
                value,
                path: path.to_path_buf(),
                line,
                note: None,
            };
            (key, leaf)
        })
        .collect())
}

/// The line of `"key"` followed by `:` (whitespace allowed between), 1 if not found.
fn json_key_line(text: &str, key: &str) -> usize {
    let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(&quoted)) {
        let at = from + found;
        let after = &text[at + quoted.len()..];
        if after.trim_start().starts_with(':') {
            return line_of(text, at);
        }
        from = at + quoted.len();
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_carry_quoted_keys_and_lines() {
        let text = "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = true\n";
        let leaves = toml_leaves(Path::new("/etc/containerd/config.toml"), text).expect("parses");
        let apparmor = &leaves["plugins.\"io.containerd.grpc.v1.cri\".disable_apparmor"];
        assert_eq!(apparmor.line, 4);
        assert_eq!(
            apparmor.describe(),
            "plugins.\"io.containerd.grpc.v1.cri\".disable_apparmor = true at /etc/containerd/config.toml:4"
        );
        let cgroup = &leaves["plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.SystemdCgroup"];
        assert_eq!(cgroup.line, 6);
        assert_eq!(leaves["version"].value, serde_json::json!(2));
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let failure = toml_leaves(Path::new("/x.toml"), "a = 1\nb = = 2\n").expect_err("malformed");
        assert_eq!(failure.line, Some(2));
        assert!(failure.to_string().starts_with("/x.toml:2: "));
    }

    #[test]
    fn json_keys_have_lines_and_errors_too() {
        let text = "{\n  \"icc\": false,\n  \"live-restore\" : true\n}\n";
        let leaves = json_leaves(Path::new("/etc/docker/daemon.json"), text).expect("parses");
        assert_eq!(leaves["icc"].line, 2);
        assert_eq!(leaves["live-restore"].line, 3);
        let failure =
            json_leaves(Path::new("/d.json"), "{\n \"icc\": false,\n}\n").expect_err("malformed");
        assert_eq!(failure.line, Some(3));
    }
}
