//! The text report, for a person in an 80-column terminal: grouped by section, one line per
//! rule, the actual value and evidence under every result that is not a pass, the remediation
//! block, and a one-line summary.

use std::io::{self, Write};

use owo_colors::OwoColorize;

use super::Report;
use crate::engine::{Finding, Status};

const WIDTH: usize = 80;

pub fn render_text(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let host = &report.host;
    let unknown = || "unknown".to_string();
    writeln!(
        out,
        "hardnode {} — {} ({}, kernel {})",
        report.tool.version,
        host.hostname.clone().unwrap_or_else(unknown),
        host.os.clone().unwrap_or_else(unknown),
        host.kernel.clone().unwrap_or_else(unknown),
    )?;
    writeln!(
        out,
        "benchmark {} v{} (CIS {}), root {}",
        report.benchmark.name,
        report.benchmark.version,
        report.benchmark.cis,
        host.root.display()
    )?;

    let id_width = report
        .results
        .iter()
        .map(|finding| finding.id.len())
        .max()
        .unwrap_or(0)
        .min(28);
    let mut sections: Vec<&str> = Vec::new();
    for finding in &report.results {
        if !sections.contains(&finding.section.as_str()) {
            sections.push(&finding.section);
        }
    }
    for section in sections {
        writeln!(out)?;
        writeln!(out, "{}", paint(section, color, |s| s.bold().to_string()))?;
        let findings: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| f.section == section)
            .collect();
        let collapsed = collapsible_skips(&findings);
        for finding in &findings {
            let in_group = finding.status == Status::Skip
                && collapsed
                    .iter()
                    .any(|(reason, _)| finding.reason.as_deref() == Some(reason));
            if !in_group {
                render_finding(finding, id_width, color, out)?;
            }
        }
        for (reason, ids) in collapsed {
            let label = paint(&format!("{:5}", "SKIP"), color, |s| {
                status_style(Status::Skip, s)
            });
            writeln!(out, "  {label} {} rules: {reason}", ids.len())?;
            for line in wrap(&ids.join(", "), 8) {
                writeln!(out, "{line}")?;
            }
        }
    }

    let to_fix: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && !f.remediation.is_empty())
        .collect();
    if !to_fix.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint("Remediation", color, |s| s.bold().to_string())
        )?;
        for finding in to_fix {
            writeln!(out, "  {}", finding.id)?;
            for line in wrap(&finding.remediation, 4) {
                writeln!(out, "{line}")?;
            }
        }
    }

    let summary = &report.summary;
    writeln!(out)?;
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|status| {
            let text = format!("{} {}", summary.count(*status), status.as_str());
            if summary.count(*status) > 0 && matches!(status, Status::Fail | Status::Error) {
                paint(&text, color, |s| status_style(*status, s))
            } else {
                text
            }
        })
        .collect();
    let mut waivers = String::new();
    if summary.waived > 0 {
        waivers.push_str(&format!("; {} waived (not counted)", summary.waived));
    }
    if summary.waivers_expired > 0 {
        waivers.push_str(&format!("; {} waiver(s) expired", summary.waivers_expired));
    }
    writeln!(
        out,
        "{} rules: {}{waivers}",
        report.results.len(),
        counts.join(", ")
    )
}

/// Skips that share one reason ("kubelet is not running on this node") three times or more are
/// shown as one line with their ids, so a node without a control plane reads in a screen.
fn collapsible_skips<'a>(findings: &[&'a Finding]) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for finding in findings.iter().filter(|f| f.status == Status::Skip) {
        let Some(reason) = finding.reason.as_deref() else {
            continue;
        };
        match groups.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, ids)) => ids.push(&finding.id),
            None => groups.push((reason, vec![&finding.id])),
        }
    }
    groups.retain(|(_, ids)| ids.len() >= 3);
    groups
}

fn render_finding(
    finding: &Finding,
    id_width: usize,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let label = format!("{:5}", finding.status.as_str().to_uppercase());
    let label = paint(&label, color, |s| status_style(finding.status, s));
    // Titles share one column; an id too long for it puts its title under it instead.
    let fits = finding.id.chars().count() <= id_width;
    let title_indent = if fits { 2 + 5 + 1 + id_width + 2 } else { 8 };
    let title_lines = wrap_to(&finding.title, title_indent, WIDTH - title_indent);
    let mut title_lines = title_lines.iter().map(|line| line.trim_start());
    if fits {
        let first = title_lines.next().unwrap_or_default();
        writeln!(out, "  {label} {:id_width$}  {first}", finding.id)?;
    } else {
        writeln!(out, "  {label} {}", finding.id)?;
    }
    for line in title_lines {
        writeln!(out, "{:title_indent$}{line}", "")?;
    }
    if finding.status == Status::Pass {
        return Ok(());
    }
    let mut lines = Vec::new();
    if let Some(waiver) = &finding.waiver {
        lines.push(waiver_line(waiver));
    }
    if let Some(reason) = &finding.reason {
        lines.push(reason.clone());
    }
    if matches!(finding.status, Status::Fail | Status::Warn)
        && let (Some(expected), Some(actual)) = (&finding.expected, &finding.actual)
    {
        lines.push(format!("expected {expected}, found {actual}"));
    }
    if finding.status != Status::Skip {
        for evidence in &finding.evidence {
            let at = evidence
                .path
                .as_ref()
                .map(|path| format!("{}: ", path.display()))
                .unwrap_or_default();
            lines.push(format!("[{}] {at}{}", evidence.source, evidence.detail));
        }
    }
    for line in lines {
        for wrapped in wrap(&line, 8) {
            writeln!(out, "{wrapped}")?;
        }
    }
    Ok(())
}

/// `waived until 2027-03-31: reason` or `waiver EXPIRED 2026-01-01 (counts again): reason`.
pub(super) fn waiver_line(waiver: &crate::engine::waivers::AppliedWaiver) -> String {
    if waiver.expired {
        format!(
            "waiver EXPIRED {} (counts again): {}",
            waiver.expires, waiver.reason
        )
    } else {
        format!("waived until {}: {}", waiver.expires, waiver.reason)
    }
}

fn status_style(status: Status, text: &str) -> String {
    match status {
        Status::Pass => text.green().to_string(),
        Status::Fail => text.red().bold().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Skip => text.dimmed().to_string(),
        Status::Error => text.magenta().bold().to_string(),
    }
}

fn paint(text: &str, color: bool, style: impl Fn(&str) -> String) -> String {
    if color { style(text) } else { text.to_string() }
}

/// Word-wraps `text` to the report width with `indent` spaces; words longer than a line (paths)
/// are kept whole rather than cut.
fn wrap(text: &str, indent: usize) -> Vec<String> {
    wrap_to(text, indent, WIDTH - indent)
}

fn wrap_to(text: &str, indent: usize, room: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        // The width so far, in characters (a byte count would wrap non-ASCII text early).
        let mut width = 0;
        for word in paragraph.split_whitespace() {
            let word_width = word.chars().count();
            if !line.is_empty() && width + 1 + word_width > room {
                lines.push(format!("{pad}{line}"));
                line.clear();
                width = 0;
            }
            if !line.is_empty() {
                line.push(' ');
                width += 1;
            }
            line.push_str(word);
            width += word_width;
        }
        lines.push(format!("{pad}{line}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_width() {
        let text = "word ".repeat(40);
        for line in wrap(&text, 8) {
            assert!(line.chars().count() <= WIDTH, "{line}");
            assert!(line.starts_with("        word"));
        }
    }
}
