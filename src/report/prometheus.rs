//! Prometheus text exposition for node-exporter's textfile collector
//! (`--collector.textfile.directory`). Written with `--output` (atomic rename), so node-exporter
//! never reads half a file.
//!
//! `hardnode_check_status` follows node-exporter's `node_systemd_unit_state` pattern: every rule
//! has one series per status, 1 for the status it has and 0 for the others, so a rule that goes
//! from `fail` to `pass` changes a value instead of leaving a stale series behind, and
//! `hardnode_check_status{status="fail"} == 1` is the whole alert.
//!
//! With `--low-cardinality` the per-rule series are replaced by per-section counts
//! (`hardnode_section_checks{section,status}`: about 100 series instead of five per rule), for
//! fleets where thousands of nodes × 160 rules × 5 statuses is too much. Every name here passes
//! `promtool check metrics` (a gauge has no `_total` suffix) and `scripts/prometheus/` holds alert
//! rules over them that pass `promtool check rules` and `promtool test rules`.

use std::io::{self, Write};

use super::{Report, RunInfo};
use crate::engine::Status;

pub fn render_prometheus(
    report: &Report,
    run: &RunInfo,
    low_cardinality: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if low_cardinality {
        render_sections(report, out)?;
    } else {
        render_rules(report, out)?;
    }
    writeln!(
        out,
        "# HELP hardnode_failing_rules Failing rules that count for the exit code (a current waiver takes a rule out)."
    )?;
    writeln!(out, "# TYPE hardnode_failing_rules gauge")?;
    writeln!(
        out,
        "hardnode_failing_rules {}",
        report.counted(Status::Fail)
    )?;
    render_totals(report, run, out)
}

/// Per-section counts of each status (the low-cardinality form).
fn render_sections(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# HELP hardnode_section_checks Rules of a section with each status in the last run."
    )?;
    writeln!(out, "# TYPE hardnode_section_checks gauge")?;
    let mut sections: Vec<&str> = Vec::new();
    for finding in &report.results {
        if !sections.contains(&finding.section.as_str()) {
            sections.push(&finding.section);
        }
    }
    for section in sections {
        for status in Status::ALL {
            let count = report
                .results
                .iter()
                .filter(|finding| finding.section == section && finding.status == status)
                .count();
            writeln!(
                out,
                "hardnode_section_checks{{section=\"{}\",status=\"{}\"}} {count}",
                label(section),
                status.as_str()
            )?;
        }
    }
    Ok(())
}

fn render_rules(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# HELP hardnode_check_status Whether a rule has this status (1) or not (0); one series per rule and status."
    )?;
    writeln!(out, "# TYPE hardnode_check_status gauge")?;
    for finding in &report.results {
        for status in Status::ALL {
            writeln!(
                out,
                "hardnode_check_status{{id=\"{}\",cis=\"{}\",section=\"{}\",severity=\"{}\",status=\"{}\"}} {}",
                label(&finding.id),
                label(finding.cis.as_deref().unwrap_or("")),
                label(&finding.section),
                finding.severity.as_str(),
                status.as_str(),
                u8::from(finding.status == status)
            )?;
        }
    }
    let waived: Vec<_> = report
        .results
        .iter()
        .filter_map(|finding| finding.waiver.as_ref().map(|waiver| (finding, waiver)))
        .collect();
    if !waived.is_empty() {
        writeln!(
            out,
            "# HELP hardnode_check_waived A site waiver names this rule: 1 while current, 0 once expired."
        )?;
        writeln!(out, "# TYPE hardnode_check_waived gauge")?;
        for (finding, waiver) in waived {
            writeln!(
                out,
                "hardnode_check_waived{{id=\"{}\",cis=\"{}\",expires=\"{}\"}} {}",
                label(&finding.id),
                label(finding.cis.as_deref().unwrap_or("")),
                label(&waiver.expires),
                u8::from(!waiver.expired)
            )?;
        }
    }
    Ok(())
}

fn render_totals(report: &Report, run: &RunInfo, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# HELP hardnode_checks Rules with each status in the last run."
    )?;
    writeln!(out, "# TYPE hardnode_checks gauge")?;
    for status in Status::ALL {
        writeln!(
            out,
            "hardnode_checks{{status=\"{}\"}} {}",
            status.as_str(),
            report.summary.count(status)
        )?;
    }
    writeln!(
        out,
        "# HELP hardnode_last_run_timestamp_seconds When the last run started, in seconds since the Unix epoch."
    )?;
    writeln!(out, "# TYPE hardnode_last_run_timestamp_seconds gauge")?;
    writeln!(
        out,
        "hardnode_last_run_timestamp_seconds {}",
        float(run.started_unix_seconds)
    )?;
    writeln!(
        out,
        "# HELP hardnode_run_duration_seconds How long the last run took to gather facts and evaluate rules."
    )?;
    writeln!(out, "# TYPE hardnode_run_duration_seconds gauge")?;
    writeln!(
        out,
        "hardnode_run_duration_seconds {}",
        float(run.duration_seconds)
    )?;
    writeln!(
        out,
        "# HELP hardnode_info The hardnode version and benchmark that produced these metrics."
    )?;
    writeln!(out, "# TYPE hardnode_info gauge")?;
    writeln!(
        out,
        "hardnode_info{{version=\"{}\",commit=\"{}\",benchmark=\"{}\",benchmark_version=\"{}\",cis=\"{}\"}} 1",
        label(report.tool.version),
        label(report.tool.build.commit),
        label(report.benchmark.name),
        label(report.benchmark.version),
        label(report.benchmark.cis)
    )?;
    let platform = &report.host.platform;
    let profile = report.benchmark.profile.as_ref();
    writeln!(
        out,
        "# HELP hardnode_platform_info The detected platform and the benchmark profile the results carry."
    )?;
    writeln!(out, "# TYPE hardnode_platform_info gauge")?;
    writeln!(
        out,
        "hardnode_platform_info{{platform=\"{}\",version=\"{}\",profile=\"{}\"}} 1",
        platform.name.as_str(),
        label(platform.version.as_deref().unwrap_or("")),
        label(profile.map_or("", |p| p.id.as_str()))
    )?;
    let Some(profile) = profile else {
        return Ok(());
    };
    writeln!(
        out,
        "# HELP hardnode_check_profile_id A rule's id in the benchmark profile (CIS EKS, the k3s guide)."
    )?;
    writeln!(out, "# TYPE hardnode_check_profile_id gauge")?;
    for finding in &report.results {
        if let Some(profile_id) = &finding.profile_id {
            writeln!(
                out,
                "hardnode_check_profile_id{{id=\"{}\",profile=\"{}\",profile_id=\"{}\"}} 1",
                label(&finding.id),
                label(&profile.id),
                label(profile_id)
            )?;
        }
    }
    Ok(())
}

/// Escapes a label value as the exposition format requires: backslash, double quote, newline.
fn label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A sample value: finite, with enough digits for milliseconds.
fn float(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.3}")
    } else {
        "NaN".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
