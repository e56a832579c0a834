//! `hardnode report merge`: many nodes' JSON reports into one fleet view; `hardnode report diff`:
//! the drift between two runs.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{Error, emit};
use crate::engine::Status;
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::report;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge `hardnode check --format json` reports (one per node) into a rules × nodes matrix,
    /// failing rules first. Exit 1 when any node has a `fail`.
    Merge(MergeArgs),
    /// Compare two `hardnode check --format json` reports of one node: the rules that got worse,
    /// got better, appeared or disappeared. Exit 1 when anything got worse.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (hardnode.report/v1 JSON).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later report.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// `text` for a terminal, `json` (hardnode.report-diff/v1).
    #[arg(long, value_enum, default_value_t = super::ReportFormat::Text)]
    pub format: super::ReportFormat,
}

/// Reads and parses one report file; an unreadable or foreign file is named in the error.
fn read_report(file: &std::path::Path) -> Result<report::merge::NodeReport, Error> {
    let text = std::fs::read_to_string(file).map_err(|error| Error::Config {
        path: file.to_path_buf(),
        message: format!("cannot read report: {error}"),
    })?;
    report::merge::parse_report(&file.display().to_string(), &text).map_err(Error::Usage)
}

/// `hardnode report diff OLD NEW`.
pub(super) fn diff_reports(args: &DiffArgs) -> Result<u8, Error> {
    let old = read_report(&args.old)?;
    let new = read_report(&args.new)?;
    let diff = report::diff::diff(&old, &new);
    if diff.different_nodes() {
        eprintln!(
            "hardnode: warning: comparing reports of different nodes ({} and {})",
            diff.old.node, diff.new.node
        );
    }
    super::print("report diff", |buffer| match args.format {
        super::ReportFormat::Text => report::diff::render_diff_text(&diff, buffer),
        super::ReportFormat::Json => report::render_json(&diff, buffer),
    })?;
    Ok(if diff.got_worse() { EXIT_FAIL } else { EXIT_OK })
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files (hardnode.report/v1 JSON), one per node.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `text` for a terminal, `html` for one self-contained page (no external assets), `json`
    /// (hardnode.fleet/v1) for scripts and dashboards.
    #[arg(long, value_enum, default_value_t = MergeFormat::Text)]
    pub format: MergeFormat,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A report older than this many hours (or without a time) is flagged stale.
    #[arg(long, value_name = "HOURS", default_value_t = 26)]
    pub stale_after: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MergeFormat {
    Text,
    Html,
    Json,
}

/// `hardnode report merge`: reads the reports (showing progress on a terminal), merges, renders.
/// A file that cannot be read as a report is named on stderr and in the output, and skipped: one
/// empty file does not stop a fleet's view. Exit 2 only when no report could be read.
pub(super) fn merge_reports(args: &MergeArgs) -> Result<u8, Error> {
    let mut progress = Progress::new("reading reports", args.files.len());
    let mut reports = Vec::with_capacity(args.files.len());
    let mut skipped = Vec::new();
    // Reading and parsing is most of the time for thousands of reports: each batch is split
    // across the CPUs (results in file order), and only one batch's text is held at a time.
    const BATCH: usize = 256;
    for (batch, files) in args.files.chunks(BATCH).enumerate() {
        progress.update(batch * BATCH);
        let parsed = crate::parallel::for_each_block(
            files,
            &crate::parallel::Split {
                per_block: 8,
                min_per_thread: 16,
                thread_name: "hardnode-merge",
            },
            Vec::new,
            |parsed: &mut Vec<Result<report::merge::NodeReport, String>>, file| {
                let label = file.display().to_string();
                parsed.push(match std::fs::read_to_string(file) {
                    Ok(text) => report::merge::parse_report(&label, &text),
                    Err(error) => Err(format!("{label}: cannot read report: {error}")),
                });
            },
        );
        for result in parsed.into_iter().flatten() {
            match result {
                Ok(report) => reports.push(report),
                Err(reason) => skipped.push(reason),
            }
        }
    }
    progress.finish();
    for reason in &skipped {
        eprintln!("hardnode: skipping {reason}");
    }
    if reports.is_empty() {
        return Err(Error::Usage(format!(
            "no report could be read ({} file(s) skipped)",
            skipped.len()
        )));
    }
    let mut fleet = report::merge::merge(reports);
    fleet.skipped = skipped;
    fleet.stale_after = i64::from(args.stale_after) * 3600;
    fleet.now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_secs()).ok());
    let mut buffer = Vec::new();
    match args.format {
        MergeFormat::Text => report::merge::render_fleet_text(&fleet, &mut buffer),
        MergeFormat::Html => report::merge::render_fleet_html(&fleet, &mut buffer),
        MergeFormat::Json => {
            report::render_json(&report::fleet_json::fleet_doc(&fleet), &mut buffer)
        }
    }
    .map_err(|source| Error::Output {
        what: "fleet report".into(),
        source,
    })?;
    emit(&buffer, args.output.as_deref())?;
    Ok(if fleet.cells(Status::Fail) > 0 {
        EXIT_FAIL
    } else {
        EXIT_OK
    })
}

/// A one-line progress counter on stderr, drawn only when stderr is a terminal (a pipe or a log
/// file stays clean) and only for runs long enough to need one.
struct Progress {
    label: &'static str,
    total: usize,
    shown: bool,
    last_drawn: Option<std::time::Instant>,
}

impl Progress {
    /// Runs shorter than this many items finish before a counter would be read.
    const MIN_ITEMS: usize = 20;

    fn new(label: &'static str, total: usize) -> Self {
        Progress {
            label,
            total,
            shown: total >= Self::MIN_ITEMS && io::stderr().is_terminal(),
            last_drawn: None,
        }
    }

    fn update(&mut self, done: usize) {
        if !self.shown {
            return;
        }
        // Redraw at most every 50 ms: a terminal is slower than reading small files.
        let now = std::time::Instant::now();
        if self
            .last_drawn
            .is_some_and(|last| now.duration_since(last).as_millis() < 50)
        {
            return;
        }
        self.last_drawn = Some(now);
        eprint!("\rhardnode: {} {done}/{}", self.label, self.total);
    }

    fn finish(&mut self) {
        if self.shown {
            eprintln!(
                "\rhardnode: {} {}/{} done",
                self.label, self.total, self.total
            );
        }
    }
}
