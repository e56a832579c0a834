//! Text rendering of a `hardnode firewall` report, for people. JSON is the same struct serialized.

use std::io::{self, Write};

use crate::remedy::firewall::Report;

pub fn render_firewall_text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let verb = match (report.command, report.dry_run) {
        ("plan", _) | (_, true) => "plan",
        (command, false) => command,
    };
    writeln!(out, "hardnode firewall {verb}")?;
    if let Some(backend) = &report.backend {
        writeln!(
            out,
            "  backend: {} ({})",
            backend.value.as_str(),
            backend.source
        )?;
    }
    if let Some(inputs) = &report.inputs {
        for cidr in &inputs.container_cidrs {
            writeln!(out, "  container CIDR: {} ({})", cidr.value, cidr.source)?;
        }
        for api in &inputs.apiservers {
            writeln!(out, "  apiserver: {} ({})", api.value, api.source)?;
        }
        for allow in &inputs.allow {
            writeln!(out, "  allowed source: {allow}")?;
        }
        let hooks: Vec<&str> = inputs.hooks.iter().map(|hook| hook.chain()).collect();
        writeln!(out, "  chains: {}", hooks.join(", "))?;
    }
    for family in &report.rules {
        let state = match (&family.error, family.assessment.in_place) {
            (Some(error), _) => format!("cannot read: {error}"),
            (None, true) => "in place".into(),
            (None, false) => "NOT in place".into(),
        };
        writeln!(out, "  {} rules: {state}", family.binary)?;
        for rule in &family.rules {
            writeln!(out, "    {rule}")?;
        }
        for problem in &family.assessment.problems {
            writeln!(out, "    problem: {problem}")?;
        }
        for line in &family.assessment.shadowed_by {
            writeln!(out, "    shadowed by: {line}")?;
        }
    }
    if let Some(persisted) = &report.persisted {
        let state = if persisted.in_place {
            "in place"
        } else {
            "NOT in place"
        };
        writeln!(
            out,
            "  persisted ({}): {state}{}",
            persisted.method.as_str(),
            match persisted.runs_at_boot {
                Some(false) => ", but NEVER RUNS AT BOOT",
                _ => "",
            }
        )?;
        for problem in &persisted.problems {
            writeln!(out, "    {problem}")?;
        }
    }
    if !report.boot_lines.is_empty() && verb == "plan" {
        writeln!(out, "  boot-time lines:")?;
        for line in &report.boot_lines {
            writeln!(out, "    {line}")?;
        }
    }
    if report.outcome.actions.is_empty() {
        if report.command != "status" {
            writeln!(out, "  no change needed")?;
        }
    } else {
        let heading = if verb == "plan" { "would do" } else { "did" };
        writeln!(out, "  {heading}:")?;
        for action in &report.outcome.actions {
            writeln!(out, "    - {action}")?;
        }
    }
    for warning in &report.outcome.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    let summary = match report.command {
        "status" if report.ok => "ok: rules in place and persisted",
        "status" => "FAILED: rules not in place or not persisted",
        "plan" => "",
        _ if report.dry_run => "",
        _ if report.outcome.verified => "verified",
        _ => "VERIFICATION FAILED",
    };
    if !summary.is_empty() {
        writeln!(
            out,
            "  {summary} (changed: {})",
            if report.command == "status" {
                false
            } else {
                report.outcome.changed
            }
        )?;
    }
    Ok(())
}
