//! The fleet view behind `hardnode report merge`: many `hardnode.report/v1` documents (one per
//! node) folded into a rules × nodes matrix, rendered as text or as one self-contained HTML page.
//!
//! Pure: the CLI reads the files and hands their text here. Rows are ordered so the rules that
//! fail on most nodes come first (then errors, then warnings); columns are the nodes by name. A
//! node's pass rate counts only the rules it evaluated (`skip` is left out).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Deserialize;

use super::SCHEMA;
use super::junit::escape;
use crate::engine::Status;

/// One node's report, as read back from its JSON file.
#[derive(Debug, Clone)]
pub struct NodeReport {
    /// The node's column title: its hostname, or the file name when the report has none.
    pub name: String,
    pub file: String,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub version: Option<String>,
    /// When the report was made (its `generated`, RFC 3339); older reports have none.
    pub generated: Option<String>,
    pub results: Vec<NodeResult>,
}

#[derive(Debug, Clone)]
pub struct NodeResult {
    pub id: String,
    pub cis: Option<String>,
    pub section: String,
    pub title: String,
    pub severity: String,
    pub status: Status,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub reason: Option<String>,
    pub evidence: Vec<String>,
}

#[derive(Deserialize)]
struct ReportDoc {
    schema: String,
    #[serde(default)]
    generated: Option<String>,
    #[serde(default)]
    tool: Option<ToolDoc>,
    #[serde(default)]
    host: Option<HostDoc>,
    results: Vec<ResultDoc>,
}

#[derive(Deserialize)]
struct ToolDoc {
    version: Option<String>,
}

#[derive(Deserialize)]
struct HostDoc {
    hostname: Option<String>,
    os: Option<String>,
    kernel: Option<String>,
}

#[derive(Deserialize)]
struct ResultDoc {
    id: String,
    cis: Option<String>,
    #[serde(default)]
    section: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    severity: String,
    status: String,
    expected: Option<String>,
    actual: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    evidence: Vec<EvidenceDoc>,
}

#[derive(Deserialize)]
struct EvidenceDoc {
    source: String,
    path: Option<String>,
    detail: String,
}

fn parse_status(text: &str) -> Option<Status> {
    Status::ALL
        .into_iter()
        .find(|status| status.as_str() == text)
}

/// Parses one node's report. `file` names it in errors and stands in for a missing hostname.
pub fn parse_report(file: &str, text: &str) -> Result<NodeReport, String> {
    let doc: ReportDoc = serde_json::from_str(text)
        .map_err(|error| format!("{file}: not a hardnode JSON report: {error}"))?;
    if doc.schema != SCHEMA {
        return Err(format!(
            "{file}: schema is {:?}, expected {SCHEMA:?} (`hardnode check --format json`)",
            doc.schema
        ));
    }
    let mut results = Vec::with_capacity(doc.results.len());
    for result in doc.results {
        let status = parse_status(&result.status).ok_or_else(|| {
            format!(
                "{file}: rule {}: unknown status {:?}",
                result.id, result.status
            )
        })?;
        let evidence = result
            .evidence
            .into_iter()
            .map(|evidence| match evidence.path {
                Some(path) => format!("[{}] {path}: {}", evidence.source, evidence.detail),
                None => format!("[{}] {}", evidence.source, evidence.detail),
            })
            .collect();
        results.push(NodeResult {
            id: result.id,
            cis: result.cis,
            section: result.section,
            title: result.title,
            severity: result.severity,
            status,
            expected: result.expected,
            actual: result.actual,
            reason: result.reason,
            evidence,
        });
    }
    let host = doc.host;
    let hostname = host
        .as_ref()
        .and_then(|host| host.hostname.clone())
        .filter(|name| !name.is_empty());
    Ok(NodeReport {
        name: hostname.unwrap_or_else(|| file.to_string()),
        file: file.to_string(),
        os: host.as_ref().and_then(|host| host.os.clone()),
        kernel: host.as_ref().and_then(|host| host.kernel.clone()),
        version: doc.tool.and_then(|tool| tool.version),
        generated: doc.generated,
        results,
    })
}

/// Per-status counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; 5]);

impl Counts {
    pub fn add(&mut self, status: Status) {
        self.0[index(status)] += 1;
    }

    pub fn get(&self, status: Status) -> usize {
        self.0[index(status)]
    }

    /// Passing share of the evaluated rules (all but `skip`); `None` when nothing was evaluated.
    pub fn pass_rate(&self) -> Option<f64> {
        let evaluated = self.0.iter().sum::<usize>() - self.get(Status::Skip);
        (evaluated > 0).then(|| self.get(Status::Pass) as f64 / evaluated as f64)
    }
}

fn index(status: Status) -> usize {
    match status {
        Status::Pass => 0,
        Status::Fail => 1,
        Status::Warn => 2,
        Status::Skip => 3,
        Status::Error => 4,
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub file: String,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub version: Option<String>,
    /// When the node's report was made (RFC 3339), when it says.
    pub generated: Option<String>,
    pub counts: Counts,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub cis: Option<String>,
    pub section: String,
    pub title: String,
    pub severity: String,
    /// One cell per node, in node order; `None` where that node's report lacks the rule.
    pub cells: Vec<Option<NodeResult>>,
    pub counts: Counts,
}

/// The merged fleet: nodes (columns) and rules (rows, failing first).
#[derive(Debug, Clone)]
pub struct Fleet {
    pub nodes: Vec<Node>,
    pub rows: Vec<Row>,
    /// The merge's "now" (Unix seconds), for each report's age; `None`: ages are not shown.
    pub now: Option<i64>,
    /// A report older than this many seconds is flagged stale.
    pub stale_after: i64,
    /// Files that could not be read as reports, each with why (named, never silently dropped).
    pub skipped: Vec<String>,
}

/// The default staleness threshold: a day and two hours (daily checks, with slack).
pub const DEFAULT_STALE_AFTER: i64 = 26 * 3600;

impl Fleet {
    /// A node's report age in seconds, when both the report's time and "now" are known.
    pub fn age(&self, node: &Node) -> Option<i64> {
        let made = crate::date::parse_rfc3339(node.generated.as_deref()?)?;
        Some(self.now? - made)
    }

    /// Whether a node's report is older than the staleness threshold (or has no time at all
    /// while the merge knows "now": an old hardnode, or a hand-made file).
    pub fn is_stale(&self, node: &Node) -> bool {
        self.now.is_some() && self.age(node).is_none_or(|age| age > self.stale_after)
    }

    /// The nodes, most failures first (then errors, then warnings, then by name).
    pub fn nodes_by_failures(&self) -> Vec<&Node> {
        let mut nodes: Vec<&Node> = self.nodes.iter().collect();
        nodes.sort_by(|a, b| {
            let key = |node: &Node| {
                (
                    std::cmp::Reverse(node.counts.get(Status::Fail)),
                    std::cmp::Reverse(node.counts.get(Status::Error)),
                    std::cmp::Reverse(node.counts.get(Status::Warn)),
                )
            };
            key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
        });
        nodes
    }

    pub fn cells(&self, status: Status) -> usize {
        self.rows.iter().map(|row| row.counts.get(status)).sum()
    }

    pub fn nodes_with(&self, status: Status) -> usize {
        self.nodes
            .iter()
            .filter(|node| node.counts.get(status) > 0)
            .count()
    }
}

/// Folds the node reports into the matrix. Two reports with the same hostname keep both columns,
/// told apart by file name.
pub fn merge(mut reports: Vec<NodeReport>) -> Fleet {
    reports.sort_by(|a, b| a.name.cmp(&b.name).then(a.file.cmp(&b.file)));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for report in &reports {
        *seen.entry(report.name.clone()).or_default() += 1;
    }
    for report in &mut reports {
        if seen.get(&report.name).is_some_and(|count| *count > 1) {
            report.name = format!("{} ({})", report.name, report.file);
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut row_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes = Vec::with_capacity(reports.len());
    let node_count = reports.len();
    for (column, report) in reports.into_iter().enumerate() {
        let mut counts = Counts::default();
        for result in report.results {
            counts.add(result.status);
            let row = *row_of.entry(result.id.clone()).or_insert_with(|| {
                rows.push(Row {
                    id: result.id.clone(),
                    cis: result.cis.clone(),
                    section: result.section.clone(),
                    title: result.title.clone(),
                    severity: result.severity.clone(),
                    cells: vec![None; node_count],
                    counts: Counts::default(),
                });
                rows.len() - 1
            });
            rows[row].counts.add(result.status);
            rows[row].cells[column] = Some(result);
        }
        nodes.push(Node {
            name: report.name,
            file: report.file,
            os: report.os,
            kernel: report.kernel,
            version: report.version,
            generated: report.generated,
            counts,
        });
    }
    rows.sort_by(|a, b| {
        let key = |row: &Row| {
            (
                std::cmp::Reverse(row.counts.get(Status::Fail)),
                std::cmp::Reverse(row.counts.get(Status::Error)),
                std::cmp::Reverse(row.counts.get(Status::Warn)),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    Fleet {
        nodes,
        rows,
        now: None,
        stale_after: DEFAULT_STALE_AFTER,
        skipped: Vec::new(),
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("n/a".into(), |rate| format!("{:.0}%", rate * 100.0))
}

/// Nodes past this many are not drawn as text matrix columns (the HTML page has them all).
pub const TEXT_MATRIX_MAX_NODES: usize = 16;

pub fn render_fleet_text(fleet: &Fleet, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "hardnode fleet: {} nodes, {} rules, {} failing cells on {} nodes, {} errors",
        fleet.nodes.len(),
        fleet.rows.len(),
        fleet.cells(Status::Fail),
        fleet.nodes_with(Status::Fail),
        fleet.cells(Status::Error),
    )?;
    let name_width = fleet
        .nodes
        .iter()
        .map(|node| node.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(out)?;
    for reason in &fleet.skipped {
        writeln!(out, "skipped {reason}")?;
    }
    writeln!(
        out,
        "{:name_width$}  {:>9}  {:>4} {:>4} {:>4} {:>4} {:>5}  AGE",
        "NODE", "PASS RATE", "PASS", "FAIL", "WARN", "SKIP", "ERROR"
    )?;
    // Most failures first, as on the page.
    for node in fleet.nodes_by_failures() {
        let c = |status| node.counts.get(status);
        let age = fleet.age(node).map_or_else(|| "-".to_string(), age_text);
        let stale = if fleet.is_stale(node) { " STALE" } else { "" };
        writeln!(
            out,
            "{:name_width$}  {:>9}  {:>4} {:>4} {:>4} {:>4} {:>5}  {age}{stale}",
            node.name,
            percent(node.counts.pass_rate()),
            c(Status::Pass),
            c(Status::Fail),
            c(Status::Warn),
            c(Status::Skip),
            c(Status::Error)
        )?;
    }

    let failing: Vec<&Row> = fleet
        .rows
        .iter()
        .filter(|row| row.counts.get(Status::Fail) + row.counts.get(Status::Error) > 0)
        .collect();
    if !failing.is_empty() {
        writeln!(out)?;
        writeln!(out, "RULES FAILING ON MOST NODES")?;
        let id_width = failing.iter().map(|row| row.id.len()).max().unwrap_or(2);
        for row in failing {
            let on = |status: Status| -> Vec<&str> {
                row.cells
                    .iter()
                    .zip(&fleet.nodes)
                    .filter(|(cell, _)| cell.as_ref().is_some_and(|c| c.status == status))
                    .map(|(_, node)| node.name.as_str())
                    .collect()
            };
            let mut parts = Vec::new();
            for status in [Status::Fail, Status::Error] {
                let names = on(status);
                if !names.is_empty() {
                    parts.push(format!(
                        "{} on {}/{}: {}",
                        status.as_str(),
                        names.len(),
                        fleet.nodes.len(),
                        abbreviate(&names, 8)
                    ));
                }
            }
            writeln!(out, "  {:id_width$}  {}", row.id, parts.join("; "))?;
        }
    }

    writeln!(out)?;
    if fleet.nodes.len() > TEXT_MATRIX_MAX_NODES {
        writeln!(
            out,
            "(matrix of {} nodes omitted from text; use --format html)",
            fleet.nodes.len()
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "MATRIX (rules failing on most nodes first; - = rule not in that node's report)"
    )?;
    let id_width = fleet
        .rows
        .iter()
        .map(|row| row.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let widths: Vec<usize> = fleet
        .nodes
        .iter()
        .map(|node| node.name.chars().count().max(5))
        .collect();
    let mut header = format!("{:id_width$}", "RULE");
    for (node, width) in fleet.nodes.iter().zip(&widths) {
        let _ = write!(header, "  {:width$}", node.name);
    }
    writeln!(out, "{}", header.trim_end())?;
    for row in &fleet.rows {
        let mut line = format!("{:id_width$}", row.id);
        for (cell, width) in row.cells.iter().zip(&widths) {
            let label = cell.as_ref().map_or("-".to_string(), |cell| {
                let text = cell.status.as_str();
                if matches!(cell.status, Status::Fail | Status::Error) {
                    text.to_uppercase()
                } else {
                    text.to_string()
                }
            });
            let _ = write!(line, "  {label:width$}");
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn abbreviate(names: &[&str], keep: usize) -> String {
    if names.len() <= keep {
        names.join(", ")
    } else {
        format!(
            "{}, … (+{} more)",
            names[..keep].join(", "),
            names.len() - keep
        )
    }
}

const STYLE: &str = r#"
:root { --pass:#2e7d32; --fail:#c62828; --warn:#ef8f00; --skip:#9e9e9e; --error:#6a1b9a;
        --bg:#f6f7f9; --card:#fff; --ink:#1d232b; --muted:#5f6b7a; --line:#e1e5ea; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       background:var(--bg); color:var(--ink); }
header { background:#1d232b; color:#fff; padding:18px 28px; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header p { margin:4px 0 0; color:#b8c2cc; font-size:13px; }
main { padding:20px 28px 40px; max-width:1600px; }
.cards { display:flex; gap:14px; flex-wrap:wrap; margin-bottom:22px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 18px; min-width:150px; }
.card .n { font-size:28px; font-weight:700; display:block; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.bad .n { color:var(--fail); } .card.err .n { color:var(--error); } .card.good .n { color:var(--pass); }
h2 { font-size:16px; margin:26px 0 10px; }
.grid { display:grid; grid-template-columns: 1fr 1fr; gap:22px; }
.grid > section { min-width:0; overflow-x:auto; }
@media (max-width: 1100px) { .grid { grid-template-columns: 1fr; } }
table { border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; }
.grid table { width:100%; }
td.wrap { white-space:normal; }
.sub { display:block; color:var(--muted); font-size:11px; }
th, td { padding:6px 10px; text-align:left; border-bottom:1px solid var(--line); white-space:nowrap; }
th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.bar { display:inline-block; width:90px; height:10px; background:#e9ecef; border-radius:5px; overflow:hidden; vertical-align:middle; margin-right:8px; }
.bar span { display:block; height:100%; }
.bar.good span { background:var(--pass); } .bar.fair span { background:var(--warn); } .bar.poor span { background:var(--fail); }
.muted { color:var(--muted); }
tr.stale td { background:#fff4e5; }
.badge { display:inline-block; border-radius:4px; padding:0 6px; font-size:11px; font-weight:700; color:#fff; }
.badge.fail { background:var(--fail); } .badge.error { background:var(--error); } .badge.stale { background:var(--warn); }
.matrix-wrap { overflow:auto; max-height:80vh; border-radius:8px; border:1px solid var(--line); }
.matrix { border:none; }
.matrix th { position:sticky; top:0; background:#fff; z-index:2; }
.matrix th.node { writing-mode:vertical-rl; transform:rotate(180deg); text-transform:none; font-size:12px; color:var(--ink); padding:8px 4px; }
.matrix td.rule { position:sticky; left:0; background:#fff; z-index:1; }
.matrix td.rule .t { color:var(--muted); font-size:12px; display:block; max-width:420px; overflow:hidden; text-overflow:ellipsis; }
.matrix td.p, .matrix td.f, .matrix td.w, .matrix td.s, .matrix td.e, .matrix td.n {
  position:relative; text-align:center; font-size:11px; font-weight:700; color:#fff; min-width:30px; border:2px solid #fff; padding:4px; }
.matrix td.p { background:var(--pass); } .matrix td.f { background:var(--fail); } .matrix td.w { background:var(--warn); }
.matrix td.s { background:#d5d8dc; color:#555; } .matrix td.e { background:var(--error); } .matrix td.n { background:#fff; color:#aaa; }
.matrix td[tabindex] { cursor:pointer; }
.matrix td[tabindex]:focus { outline:3px solid #1d232b; }
.tip { display:none; position:absolute; z-index:10; left:50%; top:100%; transform:translateX(-50%); width:380px;
       white-space:normal; text-align:left; font-weight:400; font-size:12px; color:var(--ink); background:#fff;
       border:1px solid #c9d1d9; border-radius:6px; padding:8px 10px; box-shadow:0 6px 20px rgba(0,0,0,.18); }
td:hover > .tip, td:focus > .tip, td:focus-within > .tip { display:block; }
.tip b { display:block; margin-bottom:4px; }
.tip code { font-size:11px; display:block; margin-top:3px; color:#333; word-break:break-all; }
.legend span { display:inline-block; margin-right:14px; font-size:12px; }
.legend i { display:inline-block; width:12px; height:12px; border-radius:2px; vertical-align:-2px; margin-right:4px; }
footer { color:var(--muted); font-size:12px; margin-top:26px; }
"#;

/// The rules listed in "failing on most nodes" before the rest is summarised (and named as such).
pub const TOP_RULES: usize = 15;

/// A cell's evidence past this many characters is cut, saying so: the node's JSON has it all.
const TIP_LIMIT: usize = 1500;

/// `42s`, `12m`, `5h`, `3d 4h`.
pub fn age_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h", seconds / 3600),
        _ => format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// The bar colour for a pass rate: green from 90 %, amber from 70 %, red below.
fn rate_class(rate: Option<f64>) -> &'static str {
    match rate {
        Some(rate) if rate >= 0.9 => "good",
        Some(rate) if rate >= 0.7 => "fair",
        Some(_) => "poor",
        None => "good",
    }
}

/// The one-letter class (and text) of a matrix cell.
fn cell_class(status: Status) -> &'static str {
    match status {
        Status::Pass => "p",
        Status::Fail => "f",
        Status::Warn => "w",
        Status::Skip => "s",
        Status::Error => "e",
    }
}

/// One self-contained page: inline CSS, no scripts, no external assets.
///
/// Size: the matrix is most of the page, so a passing or skipped cell is a bare `<td class=p>`
/// (its node is its column), and only fail, warn and error cells carry their evidence — once:
/// a cell whose evidence is the same as an earlier node's in that row says so instead of
/// repeating it. 300 nodes × 160 rules stay under 3 MB.
///
/// Evidence shows on hover, on keyboard focus and on click (the cells are focusable, so a click
/// focuses them): CSS only, so it works with scripts disabled.
pub fn render_fleet_html(fleet: &Fleet, out: &mut dyn Write) -> io::Result<()> {
    let mut page = String::new();
    let nodes = fleet.nodes.len();
    let failing_nodes = fleet.nodes_with(Status::Fail);
    let stale = fleet
        .nodes
        .iter()
        .filter(|node| fleet.is_stale(node))
        .count();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>hardnode fleet report — {nodes} nodes</title><style>{STYLE}</style></head><body>\n"
    );
    let when = fleet
        .now
        .map(|now| format!(" · merged {}", crate::date::rfc3339(now)))
        .unwrap_or_default();
    let _ = write!(
        page,
        "<header><h1>hardnode fleet report</h1><p>{nodes} nodes · {} rules · hardnode.report/v1{when}</p></header>\n<main>\n",
        fleet.rows.len()
    );
    let card = |page: &mut String, class: &str, key: &str, value: usize, label: &str| {
        let _ = write!(
            page,
            "<div class=\"card {class}\"><span class=\"n\" data-count=\"{key}\">{value}</span><span class=\"l\">{label}</span></div>"
        );
    };
    page.push_str("<section class=\"cards\">");
    card(&mut page, "", "nodes", nodes, "nodes");
    card(&mut page, "", "rules", fleet.rows.len(), "rules");
    let bad = |count: usize| if count > 0 { "bad" } else { "good" };
    card(
        &mut page,
        bad(failing_nodes),
        "failing-nodes",
        failing_nodes,
        "nodes with failures",
    );
    card(
        &mut page,
        bad(fleet.cells(Status::Fail)),
        "fail",
        fleet.cells(Status::Fail),
        "failing checks",
    );
    card(&mut page, "", "warn", fleet.cells(Status::Warn), "warnings");
    card(
        &mut page,
        if fleet.cells(Status::Error) > 0 {
            "err"
        } else {
            ""
        },
        "error",
        fleet.cells(Status::Error),
        "undecided (error)",
    );
    card(
        &mut page,
        "good",
        "pass",
        fleet.cells(Status::Pass),
        "passing checks",
    );
    if fleet.now.is_some() {
        card(&mut page, bad(stale), "stale", stale, "stale reports");
    }
    if !fleet.skipped.is_empty() {
        card(
            &mut page,
            "bad",
            "skipped",
            fleet.skipped.len(),
            "files not read",
        );
    }
    page.push_str("</section>\n");
    if !fleet.skipped.is_empty() {
        page.push_str("<section id=\"skipped\"><h2>Files not read</h2><ul>");
        for reason in &fleet.skipped {
            let _ = write!(page, "<li>{}</li>", escape(reason));
        }
        page.push_str("</ul></section>\n");
    }
    page.push_str("<div class=\"grid\">\n");

    // Nodes, most failures first.
    let stale_after = age_text(fleet.stale_after);
    let _ = writeln!(
        page,
        "<section><h2>Nodes by failures</h2><table id=\"nodes\"><thead><tr><th>node</th><th>pass rate</th>\
         <th>pass</th><th>fail</th><th>warn</th><th>skip</th><th>error</th><th title=\"stale after {stale_after}\">age</th></tr></thead><tbody>",
    );
    for node in fleet.nodes_by_failures() {
        let rate = node.counts.pass_rate();
        let width = rate.map_or(0.0, |rate| rate * 100.0);
        let is_stale = fleet.is_stale(node);
        let _ = write!(
            page,
            "<tr data-node=\"{}\"{}><td class=\"wrap\"><b>{}</b><span class=\"sub\">{} · {}</span></td><td><span class=\"bar {}\"><span style=\"width:{width:.1}%\"></span></span><span data-field=\"pass-rate\">{}</span></td>",
            escape(&node.name),
            if is_stale { " class=\"stale\"" } else { "" },
            escape(&node.name),
            escape(node.os.as_deref().unwrap_or("unknown OS")),
            escape(node.kernel.as_deref().unwrap_or("unknown kernel")),
            rate_class(rate),
            percent(rate)
        );
        for status in Status::ALL {
            let _ = write!(
                page,
                "<td class=\"num\" data-field=\"{}\">{}</td>",
                status.as_str(),
                node.counts.get(status)
            );
        }
        let age = fleet.age(node).map_or_else(
            || {
                if node.generated.is_some() {
                    "-".to_string()
                } else {
                    "unknown".to_string()
                }
            },
            age_text,
        );
        let badge = if is_stale {
            " <span class=\"badge stale\">stale</span>"
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<td class=\"num\" title=\"{}\"><span data-field=\"age\">{age}</span>{badge}</td></tr>",
            escape(node.generated.as_deref().unwrap_or("no time in the report"))
        );
    }
    page.push_str("</tbody></table></section>\n");

    // Rules failing on most nodes: the first TOP_RULES, then how many more (never cut silently).
    page.push_str(
        "<section><h2>Rules failing on most nodes</h2><table id=\"top-rules\"><thead><tr><th>rule</th>\
         <th>failing nodes</th><th>errors</th></tr></thead><tbody>\n",
    );
    let failing: Vec<&Row> = fleet
        .rows
        .iter()
        .filter(|row| row.counts.get(Status::Fail) + row.counts.get(Status::Error) > 0)
        .collect();
    if failing.is_empty() {
        page.push_str(
            "<tr><td colspan=\"3\" class=\"muted\">No rule fails on any node.</td></tr>\n",
        );
    }
    for row in failing.iter().take(TOP_RULES) {
        let fails = row.counts.get(Status::Fail);
        let share = if nodes > 0 {
            fails as f64 / nodes as f64
        } else {
            0.0
        };
        // The bar's colour says how widespread: a rule failing on a few nodes is amber.
        let class = if share >= 0.5 { "poor" } else { "fair" };
        let _ = writeln!(
            page,
            "<tr data-rule=\"{}\"><td class=\"wrap\"><b>{}</b><br><span class=\"muted\">{}</span></td>\
             <td><span class=\"bar {class}\"><span style=\"width:{:.1}%\"></span></span><span data-field=\"fail\">{fails}</span> of {nodes}</td>\
             <td class=\"num\" data-field=\"error\">{}</td></tr>",
            escape(&row.id),
            escape(&row.id),
            escape(&row.title),
            share * 100.0,
            row.counts.get(Status::Error)
        );
    }
    if failing.len() > TOP_RULES {
        let _ = writeln!(
            page,
            "<tr id=\"more-rules\"><td colspan=\"3\" class=\"muted\">and <b data-field=\"more\">{}</b> more failing rules — every rule is in the matrix below</td></tr>",
            failing.len() - TOP_RULES
        );
    }
    page.push_str("</tbody></table></section>\n</div>\n");

    // The matrix: columns in node order (the same order as `fleet.nodes`).
    page.push_str(
        "<h2>Rules × nodes</h2><p class=\"legend\">\
         <span><i style=\"background:var(--fail)\"></i>fail</span><span><i style=\"background:var(--error)\"></i>error (undecided)</span>\
         <span><i style=\"background:var(--warn)\"></i>warn</span><span><i style=\"background:var(--pass)\"></i>pass</span>\
         <span><i style=\"background:#d5d8dc\"></i>skip</span><span class=\"muted\">hover, focus (Tab) or click a fail, warn or error cell for its evidence</span></p>\
         <div class=\"matrix-wrap\"><table class=\"matrix\" id=\"matrix\"><thead><tr><th>rule</th>",
    );
    for node in &fleet.nodes {
        let _ = write!(
            page,
            "<th class=\"node\" data-node=\"{}\" title=\"{}\">{}</th>",
            escape(&node.name),
            escape(&node.file),
            escape(&node.name)
        );
    }
    page.push_str("</tr></thead><tbody>\n");
    for row in &fleet.rows {
        let cis = row
            .cis
            .as_deref()
            .map(|cis| format!(" <span class=\"muted\">CIS {}</span>", escape(cis)))
            .unwrap_or_default();
        let _ = write!(
            page,
            "<tr data-rule=\"{}\"><td class=\"rule\"><b>{}</b>{cis}<span class=\"t\">{}</span></td>",
            escape(&row.id),
            escape(&row.id),
            escape(&row.title)
        );
        // Evidence already shown in this row, and on which node first.
        let mut shown: Vec<(String, &str)> = Vec::new();
        for (cell, node) in row.cells.iter().zip(&fleet.nodes) {
            let Some(cell) = cell else {
                page.push_str("<td class=n>–</td>");
                continue;
            };
            let class = cell_class(cell.status);
            if matches!(cell.status, Status::Pass | Status::Skip) {
                let _ = write!(page, "<td class={class}>{}</td>", class.to_uppercase());
                continue;
            }
            let mut body = String::new();
            if let Some(reason) = &cell.reason {
                let _ = write!(body, "{}<br>", escape(reason));
            }
            if let (Some(expected), Some(actual)) = (&cell.expected, &cell.actual) {
                let _ = write!(
                    body,
                    "{}<br>",
                    escape(&format!("expected {expected}, found {actual}"))
                );
            }
            for evidence in &cell.evidence {
                let _ = write!(body, "<code>{}</code>", escape(evidence));
            }
            if body.chars().count() > TIP_LIMIT {
                let cut: String = body.chars().take(TIP_LIMIT).collect();
                // Never leave half an entity or tag behind: cut back to the last complete one.
                let end = cut
                    .rfind(['<', '&'])
                    .filter(|&at| !cut[at..].contains(['>', ';']));
                body = format!(
                    "{}… <i>(cut; the node's JSON report has the rest)</i>",
                    &cut[..end.unwrap_or(cut.len())]
                );
            }
            let tip = match shown.iter().find(|(text, _)| *text == body) {
                Some((_, first)) => format!("same evidence as on {}", escape(first)),
                None => {
                    shown.push((body.clone(), &node.name));
                    body
                }
            };
            let _ = write!(
                page,
                "<td class={class} tabindex=0>{}<span class=tip><b>{} on {}: {}</b>{tip}</span></td>",
                class.to_uppercase(),
                escape(&row.id),
                escape(&node.name),
                cell.status.as_str()
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div>\n");
    let _ = write!(
        page,
        "<footer>Merged from {nodes} reports by <code>hardnode report merge</code>. Nodes are ordered by failures, then errors, then warnings. Pass rate = pass ÷ (pass + fail + warn + error); skipped rules are not counted. A report older than {stale_after} (or without a time) is stale.</footer>\n</main></body></html>\n"
    );
    out.write_all(page.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(host: &str, statuses: &[(&str, &str)]) -> String {
        let results: Vec<serde_json::Value> = statuses
            .iter()
            .map(|(id, status)| {
                serde_json::json!({"id": id, "cis": null, "section": "s", "title": "t",
                    "severity": "high", "status": status, "evidence": []})
            })
            .collect();
        serde_json::json!({"schema": SCHEMA, "host": {"hostname": host}, "results": results})
            .to_string()
    }

    #[test]
    fn rows_put_the_most_failing_rule_first() {
        let a = parse_report(
            "a.json",
            &report("a", &[("x.one", "pass"), ("x.two", "fail")]),
        )
        .expect("a");
        let b = parse_report(
            "b.json",
            &report("b", &[("x.one", "fail"), ("x.two", "fail")]),
        )
        .expect("b");
        let fleet = merge(vec![b, a]);
        assert_eq!(fleet.nodes[0].name, "a");
        assert_eq!(fleet.rows[0].id, "x.two");
        assert_eq!(fleet.rows[0].counts.get(Status::Fail), 2);
        assert_eq!(fleet.nodes[0].counts.pass_rate(), Some(0.5));
        assert_eq!(fleet.cells(Status::Fail), 3);
    }

    #[test]
    fn duplicate_hostnames_keep_both_columns_and_missing_rules_are_empty_cells() {
        let a = parse_report("a.json", &report("n", &[("x.one", "pass")])).expect("a");
        let b = parse_report("b.json", &report("n", &[("x.two", "skip")])).expect("b");
        let fleet = merge(vec![a, b]);
        assert_eq!(fleet.nodes[0].name, "n (a.json)");
        assert_eq!(fleet.nodes[1].name, "n (b.json)");
        assert!(
            fleet
                .rows
                .iter()
                .all(|row| row.cells.iter().any(Option::is_none))
        );
        assert_eq!(fleet.nodes[1].counts.pass_rate(), None);
    }

    #[test]
    fn wrong_schema_and_status_are_refused_with_the_file() {
        let error =
            parse_report("x.json", r#"{"schema":"other","results":[]}"#).expect_err("wrong schema");
        assert!(error.starts_with("x.json: schema"), "{error}");
        let error = parse_report("y.json", &report("n", &[("x.one", "maybe")]))
            .expect_err("unknown status");
        assert!(error.contains("unknown status \"maybe\""), "{error}");
        assert!(parse_report("z.json", "{").is_err());
    }
}
