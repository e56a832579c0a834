//! `hardnode fix files`: tighten the modes and owners the file rules found.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Error, GlobalArgs, ReportFormat, load_policy, load_rules, open_root, print};
use crate::benchmark::{Decision, Rule, Selection};
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::report;

#[derive(Debug, Subcommand)]
pub enum FixCommand {
    /// Tighten the modes and owners the CIS 1.1.x / 4.1.x file rules found too loose.
    Files(FixFilesArgs),
}

#[derive(Debug, Args)]
pub struct FixFilesArgs {
    /// Only these rules: ids, CIS ids or prefixes (`4.1.9`, `1.1`). Comma-separated.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Extra or overriding rules (TOML). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Vec<PathBuf>,
    /// Print the changes and make none.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

pub(super) fn fix_files(global: &GlobalArgs, args: &FixFilesArgs) -> Result<u8, Error> {
    let rules: Vec<Rule> = load_rules(&args.benchmark)?
        .into_iter()
        .filter(crate::remedy::files::fixable)
        .collect();
    let selection = Selection::from_lists(&args.only, &[]);
    selection.validate(&rules)?;
    let rules: Vec<Rule> = rules
        .into_iter()
        .filter(|rule| selection.decide(rule) == Decision::Evaluate)
        .collect();
    let root = open_root(global)?;
    let policy = load_policy(global, &root)?;
    let report = crate::remedy::files::fix(&root, &rules, &policy, args.dry_run)?;
    print("fix report", |buffer| match args.format {
        ReportFormat::Text => report::render_fix_files_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.dry_run || report.outcome.verified {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}
