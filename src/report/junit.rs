//! JUnit XML, the format every CI server reads, valid against both schemas CI servers use: the
//! Jenkins xunit plugin's `junit-10.xsd` and the Apache Ant JUnit schema (both in `tests/data`).
//! A `<testsuites>` root holds one `<testsuite>` per node (so two nodes' files merged by a CI
//! server never collide), one `<testcase>` per rule named after the node. `fail` is a
//! `<failure>` (its type the severity), `warn` a `<failure type="warning">` (a distinct type a CI
//! server can filter on), `error` an `<error>` (the tool could not decide: not the same thing as a
//! failing node), `skip` and results under a current waiver `<skipped>` with the reason, so a CI
//! run turns red only on what the exit code can also count.

use std::io::{self, Write};

use super::Report;
use crate::engine::waivers::waived;
use crate::engine::{Finding, Status};

/// How a finding is written: the element and what it counts as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn outcome(finding: &Finding) -> Outcome {
    match finding.status {
        Status::Pass => Outcome::Passed,
        Status::Skip => Outcome::Skipped,
        _ if waived(finding) => Outcome::Skipped,
        Status::Fail | Status::Warn => Outcome::Failure,
        Status::Error => Outcome::Error,
    }
}

pub fn render_junit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let hostname = report
        .host
        .hostname
        .as_deref()
        .filter(|name| !name.is_empty())
        // The Ant schema's advice for an unknown host.
        .unwrap_or("localhost");
    let count = |wanted: Outcome| {
        report
            .results
            .iter()
            .filter(|finding| outcome(finding) == wanted)
            .count()
    };
    // The Ant schema wants a local time without a zone; the report's is UTC.
    let timestamp = report
        .generated
        .as_deref()
        .map_or("1970-01-01T00:00:00", |time| time.trim_end_matches('Z'));
    let (tests, failures, errors, skipped) = (
        report.results.len(),
        count(Outcome::Failure),
        count(Outcome::Error),
        count(Outcome::Skipped),
    );
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    // A bare root: the Ant schema allows no attribute on <testsuites> (junit-10.xsd no
    // `skipped`); the totals are the node's suite's.
    writeln!(out, "<testsuites>")?;
    writeln!(
        out,
        r#"  <testsuite name="hardnode.{host}" package="hardnode" id="0" hostname="{host}" timestamp="{timestamp}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="0">"#,
        host = escape(hostname),
        timestamp = escape(timestamp),
    )?;
    writeln!(out, "    <properties>")?;
    let properties = [
        ("hardnode.version", report.tool.version.to_string()),
        ("benchmark", report.benchmark.name.to_string()),
        ("benchmark.version", report.benchmark.version.to_string()),
        ("cis", report.benchmark.cis.to_string()),
        ("os", report.host.os.clone().unwrap_or_default()),
        ("kernel", report.host.kernel.clone().unwrap_or_default()),
        ("root", report.host.root.display().to_string()),
    ];
    for (name, value) in properties {
        writeln!(
            out,
            r#"      <property name="{}" value="{}"/>"#,
            escape(name),
            escape(&value)
        )?;
    }
    writeln!(out, "    </properties>")?;
    for finding in &report.results {
        render_case(hostname, finding, out)?;
    }
    // The Ant schema requires both, in this order, after the cases.
    writeln!(out, "    <system-out/>")?;
    writeln!(out, "    <system-err/>")?;
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn render_case(hostname: &str, finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let mut name = match &finding.cis {
        Some(cis) => format!("{hostname}: {} [CIS {cis}] {}", finding.id, finding.title),
        None => format!("{hostname}: {} {}", finding.id, finding.title),
    };
    if let Some(profile_id) = &finding.profile_id {
        name.push_str(&format!(" [profile {profile_id}]"));
    }
    let open = format!(
        r#"    <testcase name="{}" classname="hardnode.{}.{}" time="0""#,
        escape(&name),
        escape(hostname),
        escape(&finding.section)
    );
    let mut message = summary_line(finding);
    if let Some(waiver) = &finding.waiver {
        message = format!("{} — {message}", super::text::waiver_line(waiver));
    }
    let status = finding.status.as_str();
    let child = match outcome(finding) {
        Outcome::Passed => return writeln!(out, "{open}/>"),
        Outcome::Skipped => format!(
            r#"<skipped message="{}"/>"#,
            escape(&format!("{status}: {message}"))
        ),
        Outcome::Failure => {
            let kind = if finding.status == Status::Warn {
                "warning"
            } else {
                finding.severity.as_str()
            };
            format!(
                r#"<failure message="{}" type="{kind}">{}</failure>"#,
                escape(&message),
                escape(&details(finding))
            )
        }
        Outcome::Error => format!(
            r#"<error message="{}" type="undecided">{}</error>"#,
            escape(&message),
            escape(&details(finding))
        ),
    };
    writeln!(out, "{open}>")?;
    writeln!(out, "      {child}")?;
    writeln!(out, "    </testcase>")
}

/// One line: the reason, else "expected X, found Y".
fn summary_line(finding: &Finding) -> String {
    let comparison = match (&finding.expected, &finding.actual) {
        (Some(expected), Some(actual)) => Some(format!("expected {expected}, found {actual}")),
        _ => None,
    };
    match (&finding.reason, comparison) {
        (Some(reason), Some(comparison)) => format!("{reason} ({comparison})"),
        (Some(reason), None) => reason.clone(),
        (None, Some(comparison)) => comparison,
        (None, None) => finding.status.as_str().to_string(),
    }
}

/// The body of a failure or error: evidence lines and the remediation.
fn details(finding: &Finding) -> String {
    let mut lines = vec![summary_line(finding)];
    for evidence in &finding.evidence {
        let at = evidence
            .path
            .as_ref()
            .map(|path| format!("{}: ", path.display()))
            .unwrap_or_default();
        lines.push(format!("[{}] {at}{}", evidence.source, evidence.detail));
    }
    if !finding.remediation.is_empty() && matches!(finding.status, Status::Fail | Status::Warn) {
        lines.push(format!("remediation: {}", finding.remediation));
    }
    lines.join("\n")
}

/// Escapes text for XML attributes and content, dropping the control characters XML 1.0 cannot
/// carry at all (a host file's content may contain them).
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push(character),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                escaped.push('\u{FFFD}')
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c' \u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos; \u{FFFD}"
        );
    }
}
