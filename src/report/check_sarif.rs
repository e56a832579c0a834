//! SARIF 2.1.0 of a `check` report, for code-scanning dashboards. One run per node, named by
//! `automationDetails.id` (`hardnode/<node>/<time>`: the category a dashboard keeps per node);
//! the driver's `rules` are the benchmark's rules. By default only findings are results (`fail`,
//! `warn`, `error`): a dashboard's list is what needs attention, not 150 passes and skips;
//! `--sarif-all` adds the rest. Each result carries `partialFingerprints` from the node and the
//! rule (never the message, which changes with the value found), so the same finding on the same
//! node is one alert across runs, and the same rule on two nodes is two. Each result's `kind`
//! keeps hardnode's five statuses apart:
//! `pass` -> pass, `fail` -> fail (level error), `warn` -> fail (level warning), `skip` ->
//! notApplicable, `error` -> open (the tool could not decide). SARIF requires `level: none` for
//! every kind but `fail`. Evidence paths become the result's locations (host paths, `file://`).

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::{Report, render_json};
use crate::engine::{Finding, Status};

use super::sarif::SARIF_SCHEMA;

pub fn render_sarif(report: &Report, all: bool, out: &mut dyn Write) -> io::Result<()> {
    let node = report
        .host
        .hostname
        .as_deref()
        .filter(|name| !name.is_empty())
        .unwrap_or("unknown");
    let rules: Vec<Value> = report.results.iter().map(rule_descriptor).collect();
    let results: Vec<Value> = report
        .results
        .iter()
        .enumerate()
        .filter(|(_, finding)| all || !matches!(finding.status, Status::Pass | Status::Skip))
        .map(|(index, finding)| {
            let mut value = result(index, finding);
            value["partialFingerprints"] = json!({
                "hardnodeFinding/v1": fingerprint(node, &finding.id),
            });
            value
        })
        .collect();
    let automation = format!(
        "hardnode/{node}/{}",
        report.generated.as_deref().unwrap_or("")
    );
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
                        "profile": report.benchmark.profile,
                    }
                }
            },
            "automationDetails": { "id": automation },
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
            "platform": report.host.platform,
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
    if let Some(profile_id) = &finding.profile_id {
        tags.push(format!("profile-{profile_id}"));
    }
    let mut descriptor = json!({
        "id": finding.id,
        "shortDescription": { "text": finding.title },
        "defaultConfiguration": {
            "level": if finding.scored { "error" } else { "warning" }
        },
        "properties": {
            "cis": finding.cis,
            "profileId": finding.profile_id,
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

/// A stable fingerprint of (node, rule): FNV-1a 64 over both, as 16 hex digits. Not a security
/// hash: it only has to be the same for the same pair in every run and differ between pairs.
fn fingerprint(node: &str, rule: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in node.bytes().chain([0]).chain(rule.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
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
    fn fingerprints_depend_on_node_and_rule_only() {
        assert_eq!(fingerprint("a", "k.x"), fingerprint("a", "k.x"));
        assert_ne!(fingerprint("a", "k.x"), fingerprint("b", "k.x"));
        assert_ne!(fingerprint("a", "k.x"), fingerprint("a", "k.y"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    }

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/etc/my dir/ä.json")),
            "file:///etc/my%20dir/%C3%A4.json"
        );
    }
}
