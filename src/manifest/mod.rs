//! Pod manifest scanning (`hardnode manifest scan`, and the `manifests.static-pods` check rule):
//! workload YAML/JSON is parsed ([`yaml`]), the pod spec of each workload found ([`objects`]),
//! each container's effective settings worked out the way the kubelet applies them ([`view`]),
//! and the pod-hardening rules of `rules/pod.toml` ([`rules`]) scored over them ([`score`]).
//!
//! Pure: the caller reads the files (see `host::manifests`) and hands over their text, so every
//! verdict is unit tested without a filesystem. This pipeline is separate from `check`'s, but
//! compares values with the same typed operators (`engine::ops`).

mod compiled;
pub mod objects;
pub mod profiles;
pub mod pss;
pub mod rules;
pub mod score;
pub mod view;
pub mod yaml;

use serde::Serialize;

use objects::{Extracted, Workload};
use rules::RuleSet;
use score::Scoring;
pub use view::SeccompAnnotations;

/// The JSON schema name of a scan report.
pub const SCHEMA: &str = "hardnode.manifest-scan/v1";

/// What the score is, said in every report: kubesec's point scale over hardnode's own rules, not
/// a kubesec-compatible score (docs/pod-security.md lists the differences).
pub const SCORE_MODEL: &str = "hardnode pod rules on kubesec's point scale; not kubesec-compatible (see docs/pod-security.md)";

/// One input: a file name as the user gave it (or `-`), and its text or why it could not be read.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub text: Result<String, String>,
}

/// `{"name": ..., "text": ...}` or `{"name": ..., "error": ...}` (in `hardnode facts`).
impl Serialize for Input {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("name", &self.name)?;
        match &self.text {
            Ok(text) => map.serialize_entry("text", text)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.end()
    }
}

/// One scored workload.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectResult {
    /// kubesec's object name: `Deployment/web.default`.
    pub object: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub file: String,
    pub document: usize,
    pub line: u64,
    /// `Passed with a score of 7 points` / `Failed with a score of -30 points`.
    pub message: String,
    #[serde(flatten)]
    pub scoring: Scoring,
    /// Localhost profiles this object references that the node does not have (always empty
    /// unless the scan was asked to look at a node).
    pub node: Vec<profiles::ProfileProblem>,
    /// Whether this object is below the threshold (`--min-score`, or any critical hit).
    pub below_threshold: bool,
}

/// A note (an ignored kind) or an error (unreadable file, malformed YAML), with its place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub file: String,
    pub document: Option<usize>,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line.filter(|line| *line > 0) {
            write!(f, ":{line}")?;
        }
        if let Some(document) = self.document {
            write!(f, " (document {document})")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub schema: &'static str,
    /// [`SCORE_MODEL`].
    pub score_model: &'static str,
    pub objects: Vec<ObjectResult>,
    pub notes: Vec<Message>,
    pub errors: Vec<Message>,
    /// The threshold applied: `null` means "any critical rule hit".
    pub min_score: Option<i64>,
    pub summary: ScanSummary,
}

/// Counts for a CI step to read without walking the objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    pub objects: usize,
    pub below_threshold: usize,
    /// Localhost profile references the node cannot satisfy (not counting unchecked ones).
    pub node_problems: usize,
    pub notes: usize,
    pub errors: usize,
}

impl ScanReport {
    pub fn below_threshold(&self) -> usize {
        self.summary.below_threshold
    }

    /// The exit code: 2 when an input could not be read or parsed, 1 when an object is below
    /// the threshold or references a profile the node does not have, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.errors > 0 {
            crate::error::EXIT_USAGE
        } else if self.summary.below_threshold > 0 || self.summary.node_problems > 0 {
            crate::error::EXIT_FAIL
        } else {
            crate::error::EXIT_OK
        }
    }
}

/// The workloads of every input, each with its file name, plus notes and errors.
pub fn collect(
    inputs: &[Input],
    seccomp: SeccompAnnotations,
) -> (Vec<(String, Workload)>, Vec<Message>, Vec<Message>) {
    let mut workloads = Vec::new();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let text = match &input.text {
            Ok(text) => text,
            Err(error) => {
                errors.push(Message {
                    file: input.name.clone(),
                    document: None,
                    line: None,
                    message: error.clone(),
                });
                continue;
            }
        };
        let documents = match yaml::parse_documents(text) {
            Ok(documents) => documents,
            Err(error) => {
                errors.push(Message {
                    file: input.name.clone(),
                    document: Some(error.document),
                    line: Some(error.line),
                    message: format!("malformed YAML: {}", error.message),
                });
                continue;
            }
        };
        if documents.is_empty() {
            notes.push(Message {
                file: input.name.clone(),
                document: None,
                line: None,
                message: "holds no YAML or JSON document".into(),
            });
        }
        for document in &documents {
            for found in objects::extract(document, seccomp) {
                match found {
                    Extracted::Workload(workload) => {
                        workloads.push((input.name.clone(), *workload));
                    }
                    Extracted::Ignored {
                        document,
                        line,
                        message,
                    } => notes.push(Message {
                        file: input.name.clone(),
                        document: Some(document),
                        line: Some(line),
                        message,
                    }),
                    Extracted::Invalid {
                        document,
                        line,
                        message,
                    } => errors.push(Message {
                        file: input.name.clone(),
                        document: Some(document),
                        line: Some(line),
                        message,
                    }),
                }
            }
        }
    }
    (workloads, notes, errors)
}

/// Scores one workload. `min_score: None` puts an object below the threshold when it hits any
/// critical rule.
pub fn score_object(
    file: &str,
    workload: &Workload,
    rules: &RuleSet,
    min_score: Option<i64>,
) -> ObjectResult {
    let scoring = score::score(workload, &rules.rules);
    let below_threshold = match min_score {
        Some(minimum) => scoring.score < minimum,
        None => !scoring.critical.is_empty(),
    };
    let verdict = if scoring.critical.is_empty() {
        "Passed"
    } else {
        "Failed"
    };
    ObjectResult {
        object: workload.object(),
        kind: workload.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        file: file.to_string(),
        document: workload.document,
        line: workload.line,
        message: format!("{verdict} with a score of {} points", scoring.score),
        scoring,
        node: Vec::new(),
        below_threshold,
    }
}

/// Scans every input: parse, extract, score. `node` is asked what a node has of the Localhost
/// profiles an object references (`None`: no node to check against), so reading the node stays
/// with the caller.
pub fn scan(
    inputs: &[Input],
    rules: &RuleSet,
    min_score: Option<i64>,
    mut node: impl FnMut(&[profiles::ProfileRef]) -> Option<Vec<profiles::ProfileProblem>>,
) -> ScanReport {
    let (workloads, notes, errors) = collect(inputs, SeccompAnnotations::Honoured);
    let objects = workloads
        .iter()
        .map(|(file, workload)| {
            let mut object = score_object(file, workload, rules, min_score);
            let refs = profiles::references(workload);
            if !refs.is_empty()
                && let Some(problems) = node(&refs)
            {
                object.node = problems;
            }
            object
        })
        .collect();
    let objects: Vec<ObjectResult> = objects;
    let summary = ScanSummary {
        objects: objects.len(),
        below_threshold: objects.iter().filter(|o| o.below_threshold).count(),
        node_problems: objects
            .iter()
            .flat_map(|o| &o.node)
            .filter(|p| !p.is_unchecked())
            .count(),
        notes: notes.len(),
        errors: errors.len(),
    };
    ScanReport {
        schema: SCHEMA,
        score_model: SCORE_MODEL,
        objects,
        notes,
        errors,
        min_score,
        summary,
    }
}
