//! `hardnode seccomp lint`: validates seccomp profile files.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Error, ReportFormat, print};
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::host::{self, HostRoot};
use crate::report;

#[derive(Debug, Subcommand)]
pub enum SeccompCommand {
    /// Validate seccomp profile files (the validator behind the `seccomp.profiles` rule).
    Lint(LintArgs),
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

pub(super) fn lint(args: &LintArgs) -> Result<u8, Error> {
    let live = HostRoot::new("/").map_err(|error| Error::Root {
        path: "/".into(),
        message: error.to_string(),
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut results = Vec::new();
    for file in &args.files {
        let absolute = cwd.join(file);
        let bytes = match live.read_capped(&absolute, host::root::DEFAULT_READ_CAP) {
            Err(host::ReadError::NotFound) => {
                return Err(Error::Usage(format!("{}: no such file", file.display())));
            }
            other => other.map_err(|error| error.to_string()),
        };
        let result = match bytes.map(|bytes| crate::seccomp::validate(&bytes)) {
            Ok(Ok(summary)) => report::LintResult {
                file: file.clone(),
                valid: true,
                deny_list: summary.deny_list,
                summary: Some(summary),
                problems: Vec::new(),
            },
            Ok(Err(problems)) => report::LintResult {
                file: file.clone(),
                valid: false,
                deny_list: false,
                summary: None,
                problems,
            },
            Err(message) => report::LintResult {
                file: file.clone(),
                valid: false,
                deny_list: false,
                summary: None,
                problems: vec![crate::seccomp::Problem {
                    path: "$".into(),
                    message,
                }],
            },
        };
        results.push(result);
    }
    print("lint results", |buffer| match args.format {
        ReportFormat::Json => report::render_json(&results, buffer),
        ReportFormat::Text => report::render_lint_text(&results, buffer),
    })?;
    Ok(if results.iter().all(|r| r.valid) {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}
