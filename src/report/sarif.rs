//! A small SARIF 2.1.0 writer (the format GitHub code scanning and most CI dashboards read) over
//! a generic input: the rules of a run and a list of results, each with a rule id, a level, a
//! message and a file and line. Renderers build a [`SarifRun`] from their own report.

use std::io::{self, Write};

use serde::Serialize;

pub const SARIF_VERSION: &str = "2.1.0";
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// A rule a result may refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifRule {
    pub id: String,
    /// One line: what the rule looks for.
    pub short_description: String,
    /// Why it matters / how to fix it.
    pub help: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SarifResult {
    pub rule_id: String,
    pub level: Level,
    pub message: String,
    /// The file as the user named it (relative paths stay relative to where the tool ran).
    pub file: String,
    /// 1-based; `None` or 0 when unknown (the location then names the file only).
    pub line: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SarifRun {
    pub tool_name: String,
    pub tool_version: String,
    pub information_uri: Option<String>,
    pub rules: Vec<SarifRule>,
    pub results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<ResultObject<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'a str>,
    rules: Vec<RuleObject<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleObject<'a> {
    id: &'a str,
    short_description: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Text<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultObject<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: Level,
    message: Text<'a>,
    locations: [LocationObject; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationObject {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

/// A file name as a SARIF URI reference: `/` kept, anything outside the unreserved set
/// percent-encoded (a space becomes `%20`), so a viewer can resolve it against the checkout.
pub fn file_uri(file: &str) -> String {
    let mut uri = String::new();
    for byte in file.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(char::from(byte));
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    if file.starts_with('/') {
        format!("file://{uri}")
    } else {
        uri
    }
}

pub fn render_sarif(run: &SarifRun, out: &mut dyn Write) -> io::Result<()> {
    let log = Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: &run.tool_name,
                    version: &run.tool_version,
                    information_uri: run.information_uri.as_deref(),
                    rules: run
                        .rules
                        .iter()
                        .map(|rule| RuleObject {
                            id: &rule.id,
                            short_description: Text {
                                text: &rule.short_description,
                            },
                            help: rule.help.as_deref().map(|text| Text { text }),
                        })
                        .collect(),
                },
            },
            results: run
                .results
                .iter()
                .map(|result| ResultObject {
                    rule_id: &result.rule_id,
                    rule_index: run.rules.iter().position(|rule| rule.id == result.rule_id),
                    level: result.level,
                    message: Text {
                        text: &result.message,
                    },
                    locations: [LocationObject {
                        physical_location: PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                uri: file_uri(&result.file),
                            },
                            region: result
                                .line
                                .filter(|line| *line > 0)
                                .map(|start_line| Region { start_line }),
                        },
                    }],
                })
                .collect(),
        }],
    };
    super::render_json(&log, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SarifRun {
        SarifRun {
            tool_name: "hardnode".into(),
            tool_version: "0.1.0".into(),
            information_uri: None,
            rules: vec![SarifRule {
                id: "pod.privileged".into(),
                short_description: "containers[] .securityContext .privileged == true".into(),
                help: Some("Privileged containers...".into()),
            }],
            results: vec![
                SarifResult {
                    rule_id: "pod.privileged".into(),
                    level: Level::Error,
                    message: "DaemonSet/agent: container agent is privileged".into(),
                    file: "deploy/my agent.yaml".into(),
                    line: Some(14),
                },
                SarifResult {
                    rule_id: "manifest.invalid".into(),
                    level: Level::Error,
                    message: "malformed".into(),
                    file: "/abs/x.yaml".into(),
                    line: None,
                },
            ],
        }
    }

    #[test]
    fn sarif_has_the_required_structure() {
        let mut buffer = Vec::new();
        render_sarif(&sample(), &mut buffer).expect("render");
        let log: serde_json::Value = serde_json::from_slice(&buffer).expect("valid JSON");
        assert_eq!(log["version"], "2.1.0");
        assert!(
            log["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("sarif-2.1.0"))
        );
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "hardnode");
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "pod.privileged");
        assert!(run["tool"]["driver"]["rules"][0]["shortDescription"]["text"].is_string());
        let first = &run["results"][0];
        assert_eq!(first["ruleId"], "pod.privileged");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        assert!(first["message"]["text"].is_string());
        let location = &first["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"],
            "deploy/my%20agent.yaml"
        );
        assert_eq!(location["region"]["startLine"], 14);
        let second = &run["results"][1];
        assert!(second.get("ruleIndex").is_none());
        assert!(
            second["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
        assert_eq!(
            second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///abs/x.yaml"
        );
    }
}
