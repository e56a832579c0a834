//! The Pod Security Standards report of `hardnode manifest scan --standard`: per object whether
//! it meets the level and, for each violation, the control (as the standard names it), the field
//! path, the value found, what is allowed and the line; then notes, errors and a summary. SARIF
//! reuses the generic writer: one rule per control in force, one error result per violation.

use std::io::{self, Write};

use owo_colors::OwoColorize;

use super::sarif::{Level, SarifResult, SarifRule, SarifRun};
use crate::manifest::pss::controls::Controls;
use crate::manifest::pss::{self, PssObject, PssReport};

fn paint(text: &str, color: bool, style: impl Fn(&str) -> String) -> String {
    if color { style(text) } else { text.to_string() }
}

/// `true`, `"Unconfined"`, `8080`, or `unset`.
fn render_object(
    object: &PssObject,
    standard: &str,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let place = format!(
        "{}:{} (document {})",
        object.file, object.line, object.document
    );
    if object.meets {
        let verdict = paint("meets", color, |s| s.green().bold().to_string());
        writeln!(out, "{} {place}: {verdict} {standard}", object.object)
    } else {
        let verdict = paint("violates", color, |s| s.red().bold().to_string());
        writeln!(
            out,
            "{} {place}: {verdict} {standard} ({} violations)",
            object.object,
            object.violations.len()
        )?;
        for violation in &object.violations {
            writeln!(out, "  {}", violation.describe())?;
        }
        Ok(())
    }
}

pub fn render_pss_text(report: &PssReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let standard = format!("{} {}", report.standard.level, version(report));
    for object in &report.objects {
        render_object(object, &standard, color, out)?;
    }
    super::manifest::render_notes_and_errors(&report.notes, &report.errors, color, out)?;
    writeln!(out)?;
    let summary = &report.summary;
    writeln!(
        out,
        "{} objects against the Pod Security Standards, {standard}: {} meet it, {} violate it ({} violations); {} errors",
        summary.objects, summary.meeting, summary.violating, summary.violations, summary.errors
    )
}

fn version(report: &PssReport) -> String {
    format!("v{}", report.standard.version)
}

/// The verdict as a SARIF run: each violation an error at its line, under its control's rule;
/// unreadable, malformed or unjudgeable inputs under `manifest.invalid`.
pub fn pss_sarif(report: &PssReport, controls: &Controls) -> SarifRun {
    let mut rules: Vec<SarifRule> = controls
        .at(report.standard.level, report.standard.version)
        .iter()
        .map(|applied| SarifRule {
            id: pss::rule_id(&applied.control.id),
            short_description: format!(
                "Pod Security Standards {} {}: {}",
                applied.control.level,
                version(report),
                applied.control.name
            ),
            help: Some(applied.control.description.clone()),
        })
        .collect();
    let mut results = Vec::new();
    for object in &report.objects {
        for violation in &object.violations {
            results.push(SarifResult {
                rule_id: pss::rule_id(&violation.control_id),
                level: Level::Error,
                message: format!("{}: {}", object.object, violation.describe()),
                file: object.file.clone(),
                line: Some(violation.line),
            });
        }
    }
    super::manifest::push_input_errors(
        &report.errors,
        "the input could not be read, parsed or judged",
        &mut rules,
        &mut results,
    );
    SarifRun {
        tool_name: "hardnode".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        information_uri: None,
        rules,
        results,
    }
}
