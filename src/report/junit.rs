//! JUnit XML, the format every CI server reads: a `<testsuites>` root, one `<testsuite>` per
//! section, one `<testcase>` per rule. `fail` is a `<failure>`, `error` an `<error>` (the tool
//! could not decide: not the same thing as a failing node), `skip` and `warn` are `<skipped>`
//! with the reason, so a CI run turns red only on what the exit code also counts.

use std::io::{self, Write};

use super::Report;
use crate::engine::{Finding, Status};

pub fn render_junit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let hostname = report.host.hostname.as_deref().unwrap_or("unknown");
    let count = |findings: &[&Finding], status: Status| {
        findings.iter().filter(|f| f.status == status).count()
    };
    let all: Vec<&Finding> = report.results.iter().collect();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="hardnode {}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
        escape(hostname),
        all.len(),
        count(&all, Status::Fail),
        count(&all, Status::Error),
        count(&all, Status::Skip) + count(&all, Status::Warn),
    )?;
    for section in sections(report) {
        let findings: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| f.section == section)
            .collect();
        writeln!(
            out,
            r#"  <testsuite name="{}" hostname="{}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
            escape(section),
            escape(hostname),
            findings.len(),
            count(&findings, Status::Fail),
            count(&findings, Status::Error),
            count(&findings, Status::Skip) + count(&findings, Status::Warn),
        )?;
        for finding in findings {
            render_case(finding, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn render_case(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let name = match &finding.cis {
        Some(cis) => format!("{} [CIS {cis}] {}", finding.id, finding.title),
        None => format!("{} {}", finding.id, finding.title),
    };
    let open = format!(
        r#"    <testcase name="{}" classname="hardnode.{}""#,
        escape(&name),
        escape(&finding.section)
    );
    let mut message = summary_line(finding);
    if let Some(waiver) = &finding.waiver {
        message = format!("{} — {message}", super::text::waiver_line(waiver));
    }
    // A failure under a current waiver does not turn CI red, as it does not change the exit code:
    // it is reported as skipped, its message keeping the real status and the waiver.
    if crate::engine::waivers::waived(finding) && finding.status != Status::Skip {
        writeln!(out, "{open}>")?;
        writeln!(
            out,
            r#"      <skipped message="{}"/>"#,
            escape(&format!("{}: {message}", finding.status.as_str()))
        )?;
        return writeln!(out, "    </testcase>");
    }
    match finding.status {
        Status::Pass => writeln!(out, "{open}/>"),
        Status::Fail => {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                escape(&message),
                finding.severity.as_str(),
                escape(&details(finding))
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::Error => {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                r#"      <error message="{}" type="undecided">{}</error>"#,
                escape(&message),
                escape(&details(finding))
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::Skip | Status::Warn => {
            writeln!(out, "{open}>")?;
            let prefix = if finding.status == Status::Warn {
                "warn: "
            } else {
                "skip: "
            };
            writeln!(
                out,
                r#"      <skipped message="{}"/>"#,
                escape(&format!("{prefix}{message}"))
            )?;
            writeln!(out, "    </testcase>")
        }
    }
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
    if !finding.remediation.is_empty() && finding.status == Status::Fail {
        lines.push(format!("remediation: {}", finding.remediation));
    }
    lines.join("\n")
}

fn sections(report: &Report) -> Vec<&str> {
    let mut sections: Vec<&str> = Vec::new();
    for finding in &report.results {
        if !sections.contains(&finding.section.as_str()) {
            sections.push(&finding.section);
        }
    }
    sections
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
