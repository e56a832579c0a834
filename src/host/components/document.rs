//! Configuration documents (KubeletConfiguration, KubeProxyConfiguration, static pod manifests,
//! EncryptionConfiguration, audit policies) parsed the way Kubernetes parses them:
//! `sigs.k8s.io/yaml`, i.e. YAML 1.1 (so `yes`/`on` are booleans) or JSON, and, as the kubelet's
//! lenient fallback after its strict decode fails, the last of duplicate keys wins — duplicates
//! are reported, never silently merged.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_saphyr::options::DuplicateKeyPolicy;

use crate::value::Value;

/// A parsed document and what was odd about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Json,
    /// Duplicate keys and similar non-fatal findings, for the facts.
    pub warnings: Vec<String>,
}

/// Parses YAML or JSON text. `Err` carries the parser's message.
pub fn parse(text: &str) -> Result<Document, String> {
    // An empty file is not an empty configuration: the kubelet refuses to decode one ("Object
    // 'Kind' is missing"), so what the component runs with cannot be told from it.
    if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        return Err("is empty (no document; the component refuses to load it)".into());
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str::<Json>(text)
            .map(|root| Document {
                root,
                warnings: Vec::new(),
            })
            .map_err(|error| format!("invalid JSON: {error}"));
    }
    let strict = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::Error,
        legacy_octal_numbers: true,
    };
    match serde_saphyr::from_str_with_options::<Json>(text, strict) {
        Ok(root) => Ok(Document {
            root: null_to_empty(root),
            warnings: Vec::new(),
        }),
        Err(strict_error) => {
            let lenient = serde_saphyr::options! {
                duplicate_keys: DuplicateKeyPolicy::LastWins,
                legacy_octal_numbers: true,
            };
            let root = serde_saphyr::from_str_with_options::<Json>(text, lenient)
                .map_err(|error| format!("invalid YAML: {}", first_line(&error.to_string())))?;
            Ok(Document {
                root: null_to_empty(root),
                warnings: vec![format!(
                    "duplicate key (the last one wins, as in the kubelet's lenient decoding): {}",
                    first_line(&strict_error.to_string())
                )],
            })
        }
    }
}

fn null_to_empty(root: Json) -> Json {
    if root.is_null() {
        Json::Object(Default::default())
    } else {
        root
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).trim().to_string()
}

/// The leaves of a document as dotted paths (`authentication.anonymous.enabled`). Lists are
/// leaves (a list in a later drop-in replaces the earlier one, as the kubelet merges); maps are
/// flattened so a drop-in setting one `featureGates` key keeps the others. Nulls are unset.
pub fn flatten(root: &Json) -> BTreeMap<String, Value> {
    let mut leaves = BTreeMap::new();
    flatten_into(root, String::new(), &mut leaves);
    leaves
}

fn flatten_into(node: &Json, prefix: String, leaves: &mut BTreeMap<String, Value>) {
    match node {
        Json::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_into(child, path, leaves);
            }
        }
        Json::Null => {}
        other if !prefix.is_empty() => {
            leaves.insert(prefix, to_value(other));
        }
        _ => {}
    }
}

/// A JSON scalar or list as a rule value.
pub fn to_value(node: &Json) -> Value {
    match node {
        Json::Bool(value) => Value::Bool(*value),
        Json::Number(number) => number
            .as_i64()
            .map_or_else(|| Value::str(number.to_string()), Value::Int),
        Json::String(text) => Value::str(text.clone()),
        Json::Array(items) => Value::List(items.iter().map(to_value).collect()),
        Json::Null => Value::str(""),
        Json::Object(_) => Value::str(node.to_string()),
    }
}

/// The string at `key` of an object.
pub fn str_field<'a>(node: &'a Json, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Json::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_are_booleans() {
        let doc = parse("authentication:\n  anonymous:\n    enabled: no\nserializeImagePulls: on\nname: \"yes\"\n")
            .expect("parses");
        let leaves = flatten(&doc.root);
        assert_eq!(
            leaves.get("authentication.anonymous.enabled"),
            Some(&Value::Bool(false))
        );
        assert_eq!(leaves.get("serializeImagePulls"), Some(&Value::Bool(true)));
        assert_eq!(leaves.get("name"), Some(&Value::str("yes")));
    }

    #[test]
    fn duplicate_keys_last_wins_and_are_reported() {
        let doc = parse("readOnlyPort: 0\nreadOnlyPort: 10255\n").expect("parses");
        assert_eq!(
            flatten(&doc.root).get("readOnlyPort"),
            Some(&Value::Int(10255))
        );
        assert_eq!(doc.warnings.len(), 1, "{:?}", doc.warnings);
        assert!(doc.warnings[0].contains("duplicate"), "{:?}", doc.warnings);
    }

    #[test]
    fn json_documents_and_lists() {
        let doc =
            parse(r#"{"tlsCipherSuites": ["A", "B"], "featureGates": {"X": true}, "n": null}"#)
                .expect("parses");
        let leaves = flatten(&doc.root);
        assert_eq!(
            leaves.get("tlsCipherSuites"),
            Some(&Value::List(vec![Value::str("A"), Value::str("B")]))
        );
        assert_eq!(leaves.get("featureGates.X"), Some(&Value::Bool(true)));
        assert!(!leaves.contains_key("n"));
    }

    #[test]
    fn garbage_is_an_error_and_empty_config_is_an_error_as_in_the_kubelet() {
        assert!(parse("a: [1, 2\n").is_err());
        // kubelet: `kubelet config file %q was empty`; comments alone lack apiVersion/kind.
        for empty in ["", "\n  \n", "# nothing here\n"] {
            assert!(
                parse(empty).is_err_and(|e| e.contains("empty")),
                "{empty:?}"
            );
        }
        assert!(flatten(&parse("{}").expect("an empty object").root).is_empty());
    }
}
