//! The text report of `hardnode manifest scan`: per object its place, score and verdict, the
//! critical hits, the advice ordered by points (each with its selector, reason and the containers
//! it concerns), the rules passed, node profile problems; then notes, errors and a summary line.

use std::io::{self, Write};

use owo_colors::OwoColorize;

use super::sarif::{Level, SarifResult, SarifRule, SarifRun};
use crate::manifest::rules::RuleSet;
use crate::manifest::score::{Location, RuleResult};
use crate::manifest::view::Source;
use crate::manifest::{ObjectResult, ScanReport};

fn paint(text: &str, color: bool, style: impl Fn(&str) -> String) -> String {
    if color { style(text) } else { text.to_string() }
}

pub fn render_manifest_text(
    report: &ScanReport,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (index, object) in report.objects.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        render_object(object, color, out)?;
    }
    render_notes_and_errors(&report.notes, &report.errors, color, out)?;
    writeln!(out)?;
    let threshold = match report.min_score {
        Some(minimum) => format!("score below {minimum}"),
        None => "a critical rule hit".to_string(),
    };
    let node_problems = report.summary.node_problems;
    let mut summary = format!(
        "{} objects, {} with {threshold}",
        report.objects.len(),
        report.below_threshold()
    );
    if node_problems > 0 {
        summary.push_str(&format!(", {node_problems} node profile problems"));
    }
    summary.push_str(&format!(
        ", {} notes, {} errors",
        report.notes.len(),
        report.errors.len()
    ));
    writeln!(out, "{summary}")
}

fn render_object(object: &ObjectResult, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let scoring = &object.scoring;
    writeln!(
        out,
        "{}:{} {} (document {})",
        object.file,
        object.line,
        paint(&object.object, color, |s| s.bold().to_string()),
        object.document
    )?;
    let message = if object.below_threshold {
        paint(&object.message, color, |s| s.red().to_string())
    } else {
        paint(&object.message, color, |s| s.green().to_string())
    };
    writeln!(out, "  {message}")?;
    if !scoring.critical.is_empty() {
        writeln!(
            out,
            "  {}",
            paint("critical:", color, |s| s.red().bold().to_string())
        )?;
        for result in &scoring.critical {
            render_result(result, out)?;
        }
    }
    if !scoring.advise.is_empty() {
        writeln!(
            out,
            "  {}",
            paint("advice:", color, |s| s.yellow().bold().to_string())
        )?;
        for result in &scoring.advise {
            render_result(result, out)?;
        }
    }
    if !scoring.passed.is_empty() {
        let passed: Vec<String> = scoring
            .passed
            .iter()
            .map(|r| format!("{} ({:+})", r.id, r.points))
            .collect();
        writeln!(out, "  passed: {}", passed.join(", "))?;
    }
    if !object.node.is_empty() {
        writeln!(
            out,
            "  {}",
            paint("node:", color, |s| s.red().bold().to_string())
        )?;
        for problem in &object.node {
            writeln!(
                out,
                "    {} line {}, container {}: {}",
                problem.id, problem.line, problem.container, problem.message
            )?;
        }
    }
    Ok(())
}

fn render_result(result: &RuleResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "    {:+4} {}  {}",
        result.points, result.id, result.selector
    )?;
    writeln!(out, "         {}", result.reason)?;
    for location in &result.locations {
        writeln!(out, "         {}", describe(location))?;
    }
    Ok(())
}

/// `container web: true, line 14`, `pod: not set (line 1)`.
fn describe(location: &Location) -> String {
    let place = match &location.container {
        Some(container) => format!("container {container}"),
        None => "pod".to_string(),
    };
    let value = location
        .value
        .clone()
        .unwrap_or_else(|| "not set".to_string());
    let source = match location.source {
        Some(Source::PodSecurityContext) => " (from the pod securityContext)",
        Some(Source::Annotation) => " (from an annotation)",
        _ => "",
    };
    if location.value.is_some() {
        format!("{place}: {value}{source}, line {}", location.line)
    } else {
        format!("{place}: {value} (line {})", location.line)
    }
}

/// The scan as a SARIF run: critical hits and node profile problems as errors, advice as notes,
/// unreadable or malformed inputs as errors of the `manifest.invalid` rule.
pub fn manifest_sarif(report: &ScanReport, rules: &RuleSet) -> SarifRun {
    let mut sarif_rules: Vec<SarifRule> = rules
        .rules
        .iter()
        .map(|rule| SarifRule {
            id: rule.id.clone(),
            short_description: rule.selector.clone(),
            help: Some(format!("{} ({:+} points)", rule.reason, rule.points)),
        })
        .collect();
    let mut results = Vec::new();
    for object in &report.objects {
        let scoring = &object.scoring;
        for (result, level) in scoring
            .critical
            .iter()
            .map(|r| (r, Level::Error))
            .chain(scoring.advise.iter().map(|r| (r, Level::Note)))
        {
            let places: Vec<String> = result.locations.iter().map(describe).collect();
            results.push(SarifResult {
                rule_id: result.id.clone(),
                level,
                message: format!(
                    "{}: {} — {} ({:+} points). {}",
                    object.object,
                    result.selector,
                    result.reason,
                    result.points,
                    places.join("; ")
                ),
                file: object.file.clone(),
                line: Some(result.line),
            });
        }
        for problem in &object.node {
            if !sarif_rules.iter().any(|r| r.id == problem.id) {
                sarif_rules.push(SarifRule {
                    id: problem.id.to_string(),
                    short_description:
                        "a Localhost profile the manifest references, checked against the node"
                            .into(),
                    help: None,
                });
            }
            results.push(SarifResult {
                rule_id: problem.id.to_string(),
                level: if problem.is_unchecked() {
                    Level::Warning
                } else {
                    Level::Error
                },
                message: format!(
                    "{}: container {}: {}",
                    object.object, problem.container, problem.message
                ),
                file: object.file.clone(),
                line: Some(problem.line),
            });
        }
    }
    push_input_errors(
        &report.errors,
        "the input could not be read or is not a valid workload manifest",
        &mut sarif_rules,
        &mut results,
    );
    SarifRun {
        tool_name: "hardnode".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        information_uri: None,
        rules: sarif_rules,
        results,
    }
}

const INVALID_RULE: &str = "manifest.invalid";

/// One pod rule for `hardnode manifest rules --format json`.
#[derive(Debug, serde::Serialize)]
pub struct PodRuleListing<'a> {
    pub id: &'a str,
    pub points: i64,
    pub critical: bool,
    pub scope: crate::manifest::rules::Scope,
    pub field: &'a str,
    pub expect: String,
    pub selector: &'a str,
    pub reason: &'a str,
}

pub fn pod_rule_listing(rules: &RuleSet) -> Vec<PodRuleListing<'_>> {
    rules
        .rules
        .iter()
        .map(|rule| PodRuleListing {
            id: &rule.id,
            points: rule.points,
            critical: rule.is_critical(),
            scope: rule.scope,
            field: &rule.field,
            expect: crate::benchmark::ops::describe(&rule.expect),
            selector: &rule.selector,
            reason: &rule.reason,
        })
        .collect()
}

pub fn render_pod_rules_text(rules: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let width = rules.rules.iter().map(|r| r.id.len()).max().unwrap_or(2);
    writeln!(out, "{:width$}  {:>6}  SELECTOR", "ID", "POINTS")?;
    for rule in &rules.rules {
        writeln!(
            out,
            "{:width$}  {:>+6}  {}",
            rule.id, rule.points, rule.selector
        )?;
    }
    let critical = rules.rules.iter().filter(|r| r.is_critical()).count();
    writeln!(
        out,
        "{} rules: {critical} critical (negative points), {} good practice",
        rules.rules.len(),
        rules.rules.len() - critical
    )
}

/// The notes (ignored kinds) and errors (unreadable or malformed input) of a scan, after its
/// objects: shared by the score and the Pod Security Standards output.
pub(super) fn render_notes_and_errors(
    notes: &[crate::manifest::Message],
    errors: &[crate::manifest::Message],
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "notes:")?;
        for note in notes {
            writeln!(out, "  {note}")?;
        }
    }
    if !errors.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint("errors:", color, |s| s.red().bold().to_string())
        )?;
        for error in errors {
            writeln!(out, "  {error}")?;
        }
    }
    Ok(())
}

/// A scan's unreadable or malformed inputs as SARIF errors at their file and line, under one
/// rule (`INVALID_RULE`, described by `description`): shared by the score and the Pod Security
/// Standards output.
pub(super) fn push_input_errors(
    errors: &[crate::manifest::Message],
    description: &str,
    rules: &mut Vec<SarifRule>,
    results: &mut Vec<SarifResult>,
) {
    if !errors.is_empty() {
        rules.push(SarifRule {
            id: INVALID_RULE.into(),
            short_description: description.into(),
            help: None,
        });
    }
    for error in errors {
        results.push(SarifResult {
            rule_id: INVALID_RULE.into(),
            level: Level::Error,
            message: match error.document {
                Some(document) => format!("document {document}: {}", error.message),
                None => error.message.clone(),
            },
            file: error.file.clone(),
            line: error.line,
        });
    }
}
