//! SARIF 2.1.0 of a `check` report, for code-scanning dashboards. One run; the driver's `rules` are the benchmark's
//! rules; each finding is a result whose `kind` keeps hardnode's five statuses apart:
//! `pass` -> pass, `fail` -> fail (level error), `warn` -> fail (level warning), `skip` ->
//! notApplicable, `error` -> open (the tool could not decide). SARIF requires `level: none` for
//! every kind but `fail`. Evidence paths become the result's locations (host paths, `file://`).

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::{Report, render_json};
use crate::engine::{Finding, Status};

use super::sarif::SARIF_SCHEMA;

pub fn render_sarif(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = report.results.iter().map(rule_descriptor).collect();
    let results: Vec<Value> = report
        .results
        .iter()
        .enumerate()
        .map(|(index, finding)| result(index, finding))
        .collect();
    let document = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "rules": rules,
                    "properties": {
                        "benchmark": report.benchmark.name,
                        "benchmarkVersion": report.benchmark.version,
                        "cis": report.benchmark.cis,
                    }
                }
            },
            "invocations": [invocation(report)],
            "results": results,
            "properties": {
                "summary": report.summary,
            }
        }]
    });
    render_json(&document, out)
}

fn invocation(report: &Report) -> Value {
    let mut invocation = json!({
        "executionSuccessful": true,
        "properties": {
            "os": report.host.os,
            "kernel": report.host.kernel,
            "root": report.host.root,
        }
    });
    // `machine` is a string when present; an unknown hostname leaves it out.
    if let Some(hostname) = &report.host.hostname {
        invocation["machine"] = json!(hostname);
    }
    invocation
}

fn rule_descriptor(finding: &Finding) -> Value {
    let mut tags = vec![finding.section.clone(), "security".to_string()];
    if let Some(cis) = &finding.cis {
        tags.push(format!("CIS-{cis}"));
    }
    let mut descriptor = json!({
        "id": finding.id,
        "shortDescription": { "text": finding.title },
        "defaultConfiguration": {
            "level": if finding.scored { "error" } else { "warning" }
        },
        "properties": {
            "cis": finding.cis,
            "section": finding.section,
            "severity": finding.severity.as_str(),
            "scored": finding.scored,
            "tags": tags,
            // GitHub code scanning orders alerts by this (0.0-10.0).
            "security-severity": security_severity(finding),
        }
    });
    if !finding.remediation.is_empty() {
        descriptor["help"] = json!({ "text": finding.remediation });
    }
    descriptor
}

fn security_severity(finding: &Finding) -> &'static str {
    match finding.severity {
        crate::benchmark::Severity::Critical => "9.5",
        crate::benchmark::Severity::High => "8.0",
        crate::benchmark::Severity::Medium => "5.5",
        crate::benchmark::Severity::Low => "3.0",
    }
}

fn result(index: usize, finding: &Finding) -> Value {
    let (kind, level) = match finding.status {
        Status::Pass => ("pass", "none"),
        Status::Fail => ("fail", "error"),
        Status::Warn => ("fail", "warning"),
        Status::Skip => ("notApplicable", "none"),
        Status::Error => ("open", "none"),
    };
    let locations: Vec<Value> = finding
        .evidence
        .iter()
        .filter_map(|evidence| evidence.path.as_deref())
        .map(|path| {
            json!({
                "physicalLocation": { "artifactLocation": { "uri": file_uri(path) } }
            })
        })
        .collect();
    let evidence: Vec<Value> = finding
        .evidence
        .iter()
        .map(|evidence| {
            json!({ "source": evidence.source, "path": evidence.path, "detail": evidence.detail })
        })
        .collect();
    let mut result = json!({
        "ruleId": finding.id,
        "ruleIndex": index,
        "kind": kind,
        "level": level,
        "message": { "text": message(finding) },
        "properties": {
            "status": finding.status.as_str(),
            "expected": finding.expected,
            "actual": finding.actual,
            "reason": finding.reason,
            "evidence": evidence,
        }
    });
    if !locations.is_empty() {
        result["locations"] = Value::Array(locations);
    }
    if let Some(waiver) = &finding.waiver {
        result["properties"]["waiver"] = json!(waiver);
        // SARIF's own notion of an accepted exception: code-scanning UIs hide suppressed results.
        if !waiver.expired {
            result["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("waived until {}: {}", waiver.expires, waiver.reason),
            }]);
        }
    }
    result
}

fn message(finding: &Finding) -> String {
    let mut text = format!("{}: {}", finding.status.as_str(), finding.title);
    if let Some(reason) = &finding.reason {
        text.push_str(&format!(". {reason}"));
    }
    if matches!(finding.status, Status::Fail | Status::Warn)
        && let (Some(expected), Some(actual)) = (&finding.expected, &finding.actual)
    {
        text.push_str(&format!(" (expected {expected}, found {actual})"));
    }
    text
}

/// `file://` URI of a host path (percent-encoded by the shared SARIF writer's rule).
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text.starts_with('/') {
        super::sarif::file_uri(&text)
    } else {
        super::sarif::file_uri(&format!("/{text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/etc/my dir/ä.json")),
            "file:///etc/my%20dir/%C3%A4.json"
        );
    }
}
