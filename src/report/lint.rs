//! `hardnode seccomp lint`: one line per profile file, valid or with its problems.

use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, serde::Serialize)]
pub struct LintResult {
    pub file: PathBuf,
    pub valid: bool,
    pub deny_list: bool,
    pub summary: Option<crate::seccomp::ProfileSummary>,
    pub problems: Vec<crate::seccomp::Problem>,
}

pub fn render_lint_text(results: &[LintResult], out: &mut dyn Write) -> io::Result<()> {
    for result in results {
        let file = result.file.display();
        match &result.summary {
            Some(summary) if summary.deny_list => writeln!(
                out,
                "{file}: valid, but a deny-list: defaultAction {} allows every syscall not listed",
                summary.default_action
            )?,
            Some(summary) => writeln!(
                out,
                "{file}: valid (defaultAction {}, {} syscall rules)",
                summary.default_action, summary.syscall_rules
            )?,
            None => {
                writeln!(out, "{file}: invalid")?;
                for problem in &result.problems {
                    writeln!(out, "  {problem}")?;
                }
            }
        }
    }
    let invalid = results.iter().filter(|r| !r.valid).count();
    writeln!(out, "{} files, {} invalid", results.len(), invalid)
}
