//! Manifest text (YAML, one or many documents, or JSON) into a tree of [`Node`]s that remember
//! their line, so every finding and every error can point at a line of the user's file.
//!
//! Parsing is `serde-saphyr`, which reads YAML 1.1 booleans (`yes`, `on`) as booleans the way the
//! kubelet's YAML decoder does. Empty documents (a leading `---`) are skipped; document numbers
//! count the `---` separators in the text, so an error in the third document says "document 3".

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// One parsed node and the (1-based) line it starts on; 0 when the parser could not tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u64,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    /// Floats and integers too large for `i64`, kept as their text.
    Number(String),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The child under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node at a dotted path of mapping keys (`spec.template.spec`).
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }
}

/// One document of a file: its number (1-based) and its root node.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub index: usize,
    pub root: Node,
}

/// Why a file could not be parsed: the document and line the parser stopped at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub document: usize,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "document {}, line {}: {}",
            self.document, self.line, self.message
        )
    }
}

/// The largest manifest input read (a file or stdin).
pub const MAX_MANIFEST_BYTES: u64 = 32 * 1024 * 1024;
/// Parser budget: nodes (mappings, sequences, scalars, alias expansions included) per input.
const MAX_NODES: usize = 2_000_000;
const MAX_DOCUMENTS: usize = 100_000;

/// Parses every document of `text`. JSON is YAML, so `.json` files go through the same parser.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, ParseError> {
    // The parser's defaults stop alias bombs but also large honest inputs: a rendered Helm chart
    // with CRDs, or `kubectl get pods -A -o yaml`, has more than 250,000 nodes and 1,024
    // documents. The limits stay finite, sized to `MAX_MANIFEST_BYTES` of input.
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_nodes: MAX_NODES,
            max_events: 2 * MAX_NODES,
            max_documents: MAX_DOCUMENTS,
        },
    };
    match serde_saphyr::from_multiple_with_options::<Node>(text, options) {
        Ok(roots) => {
            let lines = DocumentLines::new(text);
            Ok(roots
                .into_iter()
                .map(|root| Document {
                    index: lines.document(root.line),
                    root,
                })
                .collect())
        }
        Err(error) => {
            let line = error.location().map_or(0, |location| location.line());
            // The message without the parser's own "at line N column M" suffix: we say it once.
            let message = error.to_string();
            let message = message
                .split_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head);
            // Advice meant for programs using the parser ("set DuplicateKeyPolicy in Options")
            // is not for the person fixing the YAML.
            let message = match message.split_once(", set ") {
                Some((head, tail)) if tail.contains("Options") => head,
                _ => message,
            }
            .trim()
            .to_string();
            Err(ParseError {
                document: document_at_line(text, line),
                line,
                message,
            })
        }
    }
}

/// Which document (1-based) a line belongs to: one more for every `---` separator before it
/// that follows content or another separator (a leading `---` opens document 1).
pub struct DocumentLines {
    /// The lines of the separators that open documents 2, 3, ...
    starts: Vec<u64>,
}

impl DocumentLines {
    pub fn new(text: &str) -> Self {
        let mut starts = Vec::new();
        let mut opened = false;
        let mut content = false;
        for (number, text_line) in (1u64..).zip(text.lines()) {
            let is_separator = text_line.starts_with("---")
                && text_line[3..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace());
            if is_separator {
                if opened || content {
                    starts.push(number);
                }
                opened = true;
                content = false;
            } else {
                let trimmed = text_line.trim();
                if !trimmed.is_empty() && !trimmed.starts_with('#') && trimmed != "..." {
                    content = true;
                }
            }
        }
        DocumentLines { starts }
    }

    /// The document of `line`; line 0 (unknown) is the last document.
    pub fn document(&self, line: u64) -> usize {
        let before = if line == 0 {
            self.starts.len()
        } else {
            self.starts.partition_point(|start| *start < line)
        };
        before + 1
    }
}

/// The document of one line (see [`DocumentLines`]).
pub fn document_at_line(text: &str, line: u64) -> usize {
    DocumentLines::new(text).document(line)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Kind>::deserialize(deserializer)?;
        Ok(Node {
            line: spanned.referenced.line(),
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        Kind::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Kind, E> {
        Ok(Kind::Int(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Kind, E> {
        Ok(i64::try_from(value).map_or_else(|_| Kind::Number(value.to_string()), Kind::Int))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Kind, E> {
        Ok(i64::try_from(value).map_or_else(|_| Kind::Number(value.to_string()), Kind::Int))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Kind, E> {
        Ok(i64::try_from(value).map_or_else(|_| Kind::Number(value.to_string()), Kind::Int))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Kind, E> {
        Ok(Kind::Number(value.to_string()))
    }

    fn visit_str<E>(self, value: &str) -> Result<Kind, E> {
        Ok(Kind::Str(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Kind, E> {
        Ok(Kind::Str(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Node>()?;
            // A repeated key: the last one wins, as in the kubelet's decoder.
            entries.retain(|(existing, _)| *existing != key.0);
            entries.push((key.0, value));
        }
        Ok(Kind::Map(entries))
    }
}

/// A mapping key as its text, whatever scalar it is (`80: x`, `true: y`).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E>(self, value: &str) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Key, E> {
        Ok(Key(value))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_keeps_lines_and_numbers() {
        let text = "---\nkind: Pod\nmetadata:\n  name: a\n---\n# comment\nkind: Deployment\n";
        let docs = parse_documents(text).expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].index, 1);
        assert_eq!(docs[1].index, 2);
        assert_eq!(
            docs[0].root.at(&["metadata", "name"]).map(|n| n.line),
            Some(4)
        );
        assert_eq!(docs[1].root.get("kind").map(|n| n.line), Some(7));
    }

    #[test]
    fn yaml_1_1_booleans_are_booleans_and_quoted_ones_strings() {
        let docs = parse_documents("a: yes\nb: \"yes\"\nc: off\nd: 12000\ne: 0.5\nf: ~\n")
            .expect("parses");
        let root = &docs[0].root;
        assert_eq!(root.get("a").map(|n| &n.kind), Some(&Kind::Bool(true)));
        assert_eq!(
            root.get("b").map(|n| &n.kind),
            Some(&Kind::Str("yes".into()))
        );
        assert_eq!(root.get("c").map(|n| &n.kind), Some(&Kind::Bool(false)));
        assert_eq!(root.get("d").map(|n| &n.kind), Some(&Kind::Int(12000)));
        assert_eq!(
            root.get("e").map(|n| &n.kind),
            Some(&Kind::Number("0.5".into()))
        );
        assert_eq!(root.get("f").map(|n| &n.kind), Some(&Kind::Null));
    }

    #[test]
    fn json_with_tabs_parses() {
        let text =
            "{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"containers\": [{\"name\": \"a\"}]}\n}\n";
        let docs = parse_documents(text).expect("parses");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].root.get("kind").and_then(Node::as_str), Some("Pod"));
    }

    #[test]
    fn errors_name_document_and_line() {
        let text = "kind: Pod\n---\nkind: Pod\nspec:\n  containers: [\n    {name: a\n  bad: : :\n";
        let error = parse_documents(text).expect_err("malformed");
        assert_eq!(error.document, 2, "{error}");
        assert!(error.line >= 5, "{error}");
        assert!(!error.message.is_empty());
    }

    #[test]
    fn duplicate_keys_are_errors_without_parser_advice() {
        let error = parse_documents("kind: Pod\nkind: Pod\n").expect_err("duplicate");
        assert_eq!(error.line, 2);
        assert!(error.message.contains("duplicate mapping key"), "{error}");
        assert!(!error.message.contains("Options"), "{error}");
    }

    #[test]
    fn document_numbers_count_separators() {
        let text = "# head\n---\na: 1\n---\n---\nb: 2\n";
        assert_eq!(document_at_line(text, 3), 1);
        assert_eq!(document_at_line(text, 6), 3);
    }
}
