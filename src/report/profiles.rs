//! Text rendering of `hardnode profiles install|status` and `hardnode fix files`, for people.
//! JSON is the same structs serialized.

use std::io::{self, Write};

use crate::host::facts::{Observed, ProfileVerdict};
use crate::remedy::Outcome;
use crate::remedy::files::FixReport;
use crate::remedy::profiles::{InstallReport, StatusReport};

fn outcome_lines(outcome: &Outcome, dry_run: bool, out: &mut dyn Write) -> io::Result<()> {
    let heading = if dry_run { "would do" } else { "done" };
    if outcome.actions.is_empty() {
        writeln!(out, "  nothing to change")?;
    } else {
        writeln!(out, "  {heading}:")?;
        for action in &outcome.actions {
            writeln!(out, "    {action}")?;
        }
    }
    for warning in &outcome.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    if dry_run {
        writeln!(out, "  dry run: nothing was changed")
    } else {
        writeln!(
            out,
            "  changed: {}, verified: {}",
            outcome.changed, outcome.verified
        )
    }
}

pub fn render_profiles_install_text(report: &InstallReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "hardnode profiles install{} ({} mode)",
        if report.dry_run { " --dry-run" } else { "" },
        report.mode
    )?;
    for profile in &report.profiles {
        let loaded = match profile.loaded {
            Some(true) => ", loaded",
            Some(false) => ", NOT loaded",
            None => "",
        };
        writeln!(
            out,
            "  {:<8} {:<9} {} [{}]{loaded}",
            profile.kind,
            profile.state,
            profile.path.display(),
            profile.names.join(", ")
        )?;
        if let Some(detail) = &profile.detail {
            writeln!(out, "           {detail}")?;
        }
    }
    if report.profiles.iter().any(|p| p.kind == "apparmor") {
        writeln!(out, "  loading: {}", report.loading.reason)?;
    }
    outcome_lines(&report.outcome, report.dry_run, out)
}

pub fn render_profiles_status_text(report: &StatusReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "hardnode profiles status")?;
    writeln!(
        out,
        "  AppArmor: {}",
        if report.apparmor_enabled {
            "enabled"
        } else {
            "not enabled"
        }
    )?;
    match &report.loaded {
        Observed::Value { value, .. } => {
            writeln!(out, "  loaded AppArmor profiles: {}", value.profiles.len())?;
            for profile in &value.profiles {
                writeln!(out, "    {} ({})", profile.name, profile.mode)?;
            }
        }
        Observed::Absent { path } => {
            writeln!(
                out,
                "  loaded AppArmor profiles: none ({} absent)",
                path.display()
            )?;
        }
        Observed::Unreadable { path, error } => {
            writeln!(
                out,
                "  loaded AppArmor profiles: {} {error}",
                path.display()
            )?;
        }
    }
    writeln!(
        out,
        "  AppArmor profile files: {}",
        report.apparmor_installed.len()
    )?;
    for file in &report.apparmor_installed {
        writeln!(
            out,
            "    {} [{}]",
            file.path.display(),
            file.names.join(", ")
        )?;
    }
    match &report.seccomp_installed {
        Observed::Value { path, value } => {
            writeln!(
                out,
                "  seccomp profiles under {}: {}",
                path.display(),
                value.len()
            )?;
            for file in value {
                let verdict = match &file.verdict {
                    ProfileVerdict::Valid { summary } if summary.deny_list => "valid, deny-list",
                    ProfileVerdict::Valid { .. } => "valid",
                    ProfileVerdict::Invalid { .. } => "INVALID",
                    ProfileVerdict::Unreadable { .. } => "unreadable",
                    ProfileVerdict::Missing => "missing",
                };
                writeln!(out, "    {} ({verdict})", file.name)?;
            }
        }
        Observed::Absent { path } => {
            writeln!(out, "  seccomp profiles: none ({} absent)", path.display())?;
        }
        Observed::Unreadable { path, error } => {
            writeln!(out, "  seccomp profiles: {} {error}", path.display())?;
        }
    }
    if !report.wanted.is_empty() {
        writeln!(out, "  wanted by [profiles]:")?;
        for wanted in &report.wanted {
            let loaded = match wanted.loaded {
                Some(true) => ", loaded",
                Some(false) => ", not loaded",
                None => "",
            };
            writeln!(
                out,
                "    {:<8} {:<9} {} [{}]{loaded}",
                wanted.kind,
                wanted.state,
                wanted.path.display(),
                wanted.names.join(", ")
            )?;
        }
    }
    for missing in &report.referenced_missing {
        writeln!(
            out,
            "  MISSING {} profile {} used by {}: {}",
            missing.kind,
            missing.profile,
            missing.containers.join(", "),
            missing.problem
        )?;
    }
    for note in &report.notes {
        writeln!(out, "  note: {note}")?;
    }
    writeln!(out, "  ok: {}", report.ok)
}

pub fn render_fix_files_text(report: &FixReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "hardnode fix files{}",
        if report.dry_run { " --dry-run" } else { "" }
    )?;
    for fix in &report.fixes {
        let cis = fix.cis.as_deref().unwrap_or("-");
        let what = match (&fix.new_mode, &fix.new_owner) {
            (Some(mode), Some(owner)) => format!(
                "mode {} -> {mode}, owner {} -> {owner}",
                fix.old_mode, fix.old_owner
            ),
            (Some(mode), None) => format!("mode {} -> {mode}", fix.old_mode),
            (None, Some(owner)) => format!(
                "owner {} ({}) -> {owner}",
                fix.old_owner, fix.old_owner_names
            ),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "  {:<9} {cis:<7} {} {what}",
            fix.state,
            fix.path.display()
        )?;
        if let Some(reason) = &fix.reason {
            writeln!(out, "            {reason}")?;
        }
    }
    for rule in &report.rules {
        match rule.after {
            Some(after) => writeln!(
                out,
                "  rule {}: {} -> {}",
                rule.id,
                rule.before.as_str(),
                after.as_str()
            )?,
            None => writeln!(out, "  rule {}: {}", rule.id, rule.before.as_str())?,
        }
    }
    outcome_lines(&report.outcome, report.dry_run, out)
}
