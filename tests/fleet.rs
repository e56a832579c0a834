//! `hardnode report merge`: many nodes' JSON reports into one matrix, as text and as an HTML page
//! rendered by headless Chromium (its DOM read back with Python's HTML parser and compared with
//! the input reports), plus progress on stderr only when stderr is a terminal.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{code, hardnode, mixed_node, require_tool};

/// Writes `hardnode check --format json` reports for the given nodes into `dir`.
fn write_reports(dir: &Path, nodes: &[(&str, bool)]) -> Vec<PathBuf> {
    nodes
        .iter()
        .map(|(name, weak)| {
            let root = mixed_node(name, *weak);
            let output = root
                .hardnode(&["check", "--format", "json"])
                .output()
                .expect("run check");
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, &output.stdout).expect("write report");
            path
        })
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

/// Status counts per node and per (rule, node), computed from the input reports.
fn expected_counts(files: &[PathBuf]) -> Vec<(String, serde_json::Value)> {
    files
        .iter()
        .map(|file| {
            let report = read_json(file);
            (
                report["host"]["hostname"]
                    .as_str()
                    .expect("hostname")
                    .to_string(),
                report,
            )
        })
        .collect()
}

/// `report merge --format html --output <dir>/fleet.html` of `files` (failing nodes among them:
/// exit 1), and the page it wrote.
fn merged_page(dir: &Path, files: &[PathBuf]) -> (PathBuf, String) {
    let page = dir.join("fleet.html");
    let output = hardnode()
        .args(["report", "merge", "--format", "html", "--output"])
        .arg(&page)
        .args(files)
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 1);
    let html = std::fs::read_to_string(&page).expect("page");
    (page, html)
}

#[test]
fn text_matrix_lists_failing_rules_first_and_exit_code_follows_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(
        dir.path(),
        &[("node-b", true), ("node-a", false), ("node-c", true)],
    );
    let output = hardnode()
        .args(["report", "merge"])
        .args(&files)
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 1, "a fail on any node is exit 1");
    assert!(output.stderr.is_empty(), "no progress when not a terminal");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let reports: Vec<serde_json::Value> = files.iter().map(|f| read_json(f)).collect();
    let rules = reports[0]["results"].as_array().expect("results").len();
    let errors: u64 = reports
        .iter()
        .map(|r| r["summary"]["error"].as_u64().expect("count"))
        .sum();
    assert!(
        text.starts_with(&format!(
            "hardnode fleet: 3 nodes, {rules} rules, 2 failing cells on 2 nodes, {errors} errors"
        )),
        "{text}"
    );
    let failing_line = text
        .lines()
        .find(|line| line.trim_start().starts_with("kernel.seccomp-filter "))
        .expect("kernel.seccomp-filter listed");
    assert!(
        failing_line.ends_with("fail on 2/3: node-b, node-c"),
        "{failing_line}"
    );
    let matrix: Vec<Vec<&str>> = text
        .lines()
        .skip_while(|line| !line.starts_with("RULE "))
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(matrix[0], ["RULE", "node-a", "node-b", "node-c"], "{text}");
    assert_eq!(
        matrix[1],
        ["kernel.seccomp-filter", "pass", "FAIL", "FAIL"],
        "the rule failing on most nodes comes first:\n{text}"
    );

    // Only the passing node: errors but no fail, exit 0.
    let output = hardnode()
        .args(["report", "merge"])
        .arg(&files[1])
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 0);
}

#[test]
fn bad_input_files_are_named_on_stderr_and_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(dir.path(), &[("node-a", false)]);
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"schema\": \"hardnode.report/v1\", \"results\": [",
    )
    .expect("write");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").expect("write");
    let facts = dir.path().join("facts.json");
    std::fs::write(&facts, "{\"schema\": \"other\", \"results\": []}").expect("write");
    let missing = dir.path().join("missing.json");
    for bad in [&broken, &empty, &facts, &missing] {
        for format in ["text", "json", "html"] {
            let output = hardnode()
                .args(["report", "merge", "--format", format])
                .arg(&files[0])
                .arg(bad)
                .output()
                .expect("run merge");
            // The good node passes: the merge goes on without the bad file, naming it.
            assert_eq!(code(&output), 0, "{} {format}", bad.display());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(stdout.contains("node-a"), "{stdout}");
            assert!(
                stdout.contains(&bad.display().to_string()),
                "the output names the skipped file too: {stdout}"
            );
        }
    }
    // Nothing readable at all: exit 2.
    let output = hardnode()
        .args(["report", "merge"])
        .arg(&broken)
        .arg(&empty)
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 2);
    assert!(output.stdout.is_empty());
}

#[test]
fn json_fleet_lists_nodes_by_failures_with_age_and_rules_with_their_nodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(
        dir.path(),
        &[("node-a", false), ("node-b", true), ("node-c", true)],
    );
    // node-c's report is three days old: stale.
    let mut old = read_json(&files[2]);
    old["generated"] = serde_json::json!("2020-01-01T00:00:00Z");
    std::fs::write(&files[2], old.to_string()).expect("write");
    let output = hardnode()
        .args(["report", "merge", "--format", "json"])
        .args(&files)
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 1);
    let fleet: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(fleet["schema"], "hardnode.fleet/v1");
    let names: Vec<&str> = fleet["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["node-b", "node-c", "node-a"], "most failures first");
    let node = |name: &str| {
        fleet["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["name"] == name)
            .expect("node")
            .clone()
    };
    assert_eq!(node("node-c")["stale"], true);
    assert_eq!(node("node-a")["stale"], false);
    assert!(
        node("node-a")["age_seconds"]
            .as_i64()
            .is_some_and(|age| (0..600).contains(&age))
    );
    assert_eq!(fleet["summary"]["stale_nodes"], 1);
    assert_eq!(fleet["summary"]["failing_nodes"], 2);
    let rule = &fleet["rules"][0];
    assert_eq!(rule["id"], "kernel.seccomp-filter");
    assert_eq!(
        rule["failing_nodes"],
        serde_json::json!(["node-b", "node-c"])
    );
    assert_eq!(rule["counts"]["fail"], 2);
}

/// Reads the DOM Chromium rendered: the summary cards, each node row's fields, each matrix cell.
const READ_DOM: &str = r#"
import json, sys
from html.parser import HTMLParser

STATUS = {"p": "pass", "f": "fail", "w": "warn", "s": "skip", "e": "error", "n": "none"}

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.columns, self.order, self.bars, self.column, self.tip = [], [], [], 0, False
        self.stack = []          # (tag, attrs) of open elements
        self.counts, self.nodes, self.cells, self.rows = {}, {}, [], []
        self.capture = None      # (kind, key, field) for text being collected
        self.text = ""
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        void = tag in ("meta", "br", "img", "link", "input", "hr")
        if not void:
            self.stack.append((tag, attrs))
        if "data-count" in attrs:
            self.capture, self.text = ("count", attrs["data-count"], None), ""
        elif "data-field" in attrs:
            node = next((a["data-node"] for t, a in reversed(self.stack) if t == "tr" and "data-node" in a), None)
            if node is not None:
                self.capture, self.text = ("node", node, attrs["data-field"]), ""
        if tag == "th" and "data-node" in attrs and self.inside("table", "matrix"):
            self.columns.append(attrs["data-node"])
        if tag == "tr" and "data-rule" in attrs and self.inside("table", "matrix"):
            self.rows.append(attrs["data-rule"])
            self.column = 0
        if tag == "tr" and "data-node" in attrs and self.inside("table", "nodes"):
            self.order.append(attrs["data-node"])
        if tag == "span" and "bar" in attrs.get("class", "") and self.inside("table", "nodes"):
            self.bars.append(attrs["class"])
        if tag == "td" and self.inside("table", "matrix") and attrs.get("class") in STATUS:
            self.cells.append({"rule": self.rows[-1], "node": self.columns[self.column],
                               "status": STATUS[attrs["class"]], "focusable": "tabindex" in attrs, "tip": ""})
            self.column += 1
            self.tip = True
    def inside(self, tag, ident):
        return any(t == tag and a.get("id") == ident for t, a in self.stack)
    def handle_endtag(self, tag):
        if tag == "td":
            self.tip = False
        if self.capture and self.stack and self.stack[-1][0] == tag and (
                "data-count" in self.stack[-1][1] or "data-field" in self.stack[-1][1]):
            kind, key, field = self.capture
            if kind == "count":
                self.counts[key] = self.text.strip()
            else:
                self.nodes.setdefault(key, {})[field] = self.text.strip()
            self.capture = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
    def handle_data(self, data):
        if self.capture:
            self.text += data
        if self.tip and self.cells:
            self.cells[-1]["tip"] += data

dom = Dom()
dom.feed(sys.stdin.read())
print(json.dumps({"counts": dom.counts, "nodes": dom.nodes, "cells": dom.cells, "rows": dom.rows,
                  "order": dom.order, "bars": dom.bars}))
"#;

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[test]
fn html_page_renders_in_chromium_with_counts_matching_the_input() {
    let test = "html_page_renders_in_chromium_with_counts_matching_the_input";
    if !require_tool(test, "chromium") || !require_tool(test, "python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(
        dir.path(),
        &[
            ("worker-1", true),
            ("control-plane", false),
            ("worker-2", true),
            ("worker-3", false),
        ],
    );
    let (page, html) = merged_page(dir.path(), &files);
    // Self-contained: nothing is loaded from anywhere.
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "page references {external}");
    }

    let profile = dir.path().join("chromium-profile");
    let url = format!("file://{}", page.display());
    let screenshot = dir.path().join("fleet.png");
    let shot = chromium(
        &[
            "--window-size=1400,1000",
            &format!("--screenshot={}", screenshot.display()),
            &url,
        ],
        &profile,
    );
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&shot.stderr)));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a blank page is tiny: {} bytes",
        png.len()
    );
    if let Ok(keep) = std::env::var("HARDNODE_KEEP_SCREENSHOT") {
        std::fs::copy(&screenshot, keep).expect("keep screenshot");
    }

    let dumped = chromium(&["--dump-dom", &url], &profile);
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let mut parser = Command::new("python3")
        .args(["-c", READ_DOM])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    {
        use std::io::Write;
        parser
            .stdin
            .take()
            .expect("stdin")
            .write_all(&dumped.stdout)
            .expect("feed DOM");
    }
    let parsed = parser.wait_with_output().expect("parse DOM");
    assert!(parsed.status.success());
    let dom: serde_json::Value = serde_json::from_slice(&parsed.stdout).expect("DOM JSON");

    let reports = expected_counts(&files);
    let all_results: Vec<(&str, &serde_json::Value)> = reports
        .iter()
        .flat_map(|(node, report)| {
            report["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(move |result| (node.as_str(), result))
        })
        .collect();
    let total = |status: &str| {
        all_results
            .iter()
            .filter(|(_, result)| result["status"] == status)
            .count()
            .to_string()
    };
    let counts = &dom["counts"];
    assert_eq!(counts["nodes"], "4");
    let rules = reports[0].1["results"].as_array().expect("results").len();
    assert_eq!(counts["rules"], rules.to_string().as_str());
    assert_eq!(counts["failing-nodes"], "2");
    for status in ["fail", "warn", "error", "pass"] {
        assert_eq!(counts[status], total(status).as_str(), "{status} card");
    }
    // Every node's row shows its own report's counts.
    for (node, report) in &reports {
        let row = &dom["nodes"][node];
        for status in ["pass", "fail", "warn", "skip", "error"] {
            assert_eq!(
                row[status],
                report["summary"][status].to_string().as_str(),
                "{node} {status}"
            );
        }
    }
    // Pass rate = pass / (every status but skip).
    for (node, report) in &reports {
        let summary = &report["summary"];
        let n = |status: &str| summary[status].as_f64().expect("count");
        let rate = n("pass") / (n("pass") + n("fail") + n("warn") + n("error"));
        let shown = format!("{:.0}%", rate * 100.0);
        assert_eq!(dom["nodes"][node]["pass-rate"], shown.as_str(), "{node}");
    }
    // Every cell of the matrix has the status of that node's result; fail, warn and error cells
    // are focusable and carry their evidence (or name the node whose identical evidence is shown).
    let cells = dom["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), all_results.len());
    for (node, result) in &all_results {
        let cell = cells
            .iter()
            .find(|c| c["node"] == *node && c["rule"] == result["id"])
            .unwrap_or_else(|| panic!("no cell {node} {}", result["id"]));
        assert_eq!(cell["status"], result["status"]);
        let finding = matches!(result["status"].as_str(), Some("fail" | "warn" | "error"));
        assert_eq!(cell["focusable"], finding, "{node} {}", result["id"]);
        if !finding {
            continue;
        }
        let tip = cell["tip"].as_str().expect("tip");
        if let Some(evidence) = result["evidence"].as_array().and_then(|e| e.first()) {
            let detail = evidence["detail"].as_str().expect("detail");
            let shared = tip.contains("same evidence as on ");
            assert!(
                tip.contains(detail) || shared,
                "{node} {}: evidence not in the cell: {tip}",
                result["id"]
            );
        }
    }
    // Nodes by failures (the weak nodes first), bars coloured by value.
    let order: Vec<&str> = dom["order"]
        .as_array()
        .expect("order")
        .iter()
        .map(|n| n.as_str().expect("name"))
        .collect();
    assert_eq!(order, ["worker-1", "worker-2", "control-plane", "worker-3"]);
    let bars: Vec<&str> = dom["bars"]
        .as_array()
        .expect("bars")
        .iter()
        .map(|b| b.as_str().expect("class"))
        .collect();
    assert!(bars.iter().any(|b| *b != "bar good"), "{bars:?}");
    assert_eq!(
        dom["rows"][0], "kernel.seccomp-filter",
        "failing rule first"
    );
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let test = "progress_shows_on_a_terminal_only";
    if !require_tool(test, "script") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(dir.path(), &[("node-a", false), ("node-b", true)]);
    // 30 reports: copies of two nodes under distinct names.
    let mut paths = Vec::new();
    for index in 0..30 {
        let source = &files[index % 2];
        let path = dir.path().join(format!("copy-{index:02}.json"));
        std::fs::copy(source, &path).expect("copy");
        paths.push(path.display().to_string());
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_hardnode"));
    let stdout_file = dir.path().join("merged.txt");
    // `script` gives the command a terminal; stdout goes to a file so only stderr is on the tty.
    let command = format!(
        "{} report merge {} > {} ; exit 0",
        binary.display(),
        paths.join(" "),
        stdout_file.display()
    );
    let output = Command::new("timeout")
        .args(["60", "script", "-qec", &command, "/dev/null"])
        .output()
        .expect("run script");
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(
        terminal.contains("reading reports 30/30 done"),
        "progress on the terminal: {terminal:?}"
    );
    let merged = std::fs::read_to_string(&stdout_file).expect("merged output");
    assert!(merged.starts_with("hardnode fleet: 30 nodes"), "{merged}");
    assert!(
        !merged.contains("reading reports"),
        "progress never on stdout"
    );
}

#[test]
fn hostile_report_text_is_shown_not_executed() {
    let test = "hostile_report_text_is_shown_not_executed";
    if !require_tool(test, "chromium") || !require_tool(test, "python3") {
        return;
    }
    // A node's report is data from that node: markup in it must stay text.
    let dir = tempfile::tempdir().expect("tempdir");
    let hostile = "<img src=x onerror=alert(1)><script>document.title='owned'</script>";
    let report = serde_json::json!({
        "schema": "hardnode.report/v1",
        "host": {"hostname": format!("node{hostile}"), "os": hostile, "kernel": "\"'&"},
        "results": [{
            "id": "kernel.seccomp", "cis": null, "section": "kernel", "title": hostile,
            "severity": "high", "status": "fail", "expected": hostile, "actual": "x",
            "reason": hostile,
            "evidence": [{"source": "file", "path": "/etc/<b>x</b>", "detail": hostile}]
        }]
    });
    let file = dir.path().join("hostile.json");
    std::fs::write(&file, report.to_string()).expect("write");
    let page = dir.path().join("fleet.html");
    let output = hardnode()
        .args(["report", "merge", "--format", "html", "--output"])
        .arg(&page)
        .arg(&file)
        .output()
        .expect("merge");
    assert_eq!(code(&output), 1);

    let profile = dir.path().join("chromium-profile");
    let dumped = chromium(
        &["--dump-dom", &format!("file://{}", page.display())],
        &profile,
    );
    let dom = String::from_utf8_lossy(&dumped.stdout);
    assert!(
        dom.contains("<title>hardnode fleet report"),
        "title unchanged: {dom}"
    );
    let count_tags = r#"
import sys
from html.parser import HTMLParser
class Tags(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = []; self.text = ""
    def handle_starttag(self, tag, attrs): self.tags.append(tag)
    def handle_data(self, data): self.text += data
parser = Tags(); parser.feed(sys.stdin.read())
print(parser.tags.count("script"), parser.tags.count("img"), int("<script>document.title" in parser.text))
"#;
    let mut child = Command::new("python3")
        .args(["-c", count_tags])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dom.as_bytes())
            .expect("feed");
    }
    let counts = child.wait_with_output().expect("parse");
    assert_eq!(
        String::from_utf8_lossy(&counts.stdout).trim(),
        "0 0 1",
        "no <script> or <img> element; the markup shows as text"
    );
}

/// `count` copies of the given reports, each with its own hostname (`node-0001`, …).
fn fleet_of(dir: &Path, sources: &[PathBuf], count: usize) -> Vec<PathBuf> {
    let templates: Vec<serde_json::Value> = sources.iter().map(|path| read_json(path)).collect();
    (0..count)
        .map(|index| {
            let mut report = templates[index % templates.len()].clone();
            report["host"]["hostname"] = serde_json::json!(format!("node-{index:04}"));
            let path = dir.join(format!("node-{index:04}.json"));
            std::fs::write(&path, report.to_string()).expect("write");
            path
        })
        .collect()
}

#[test]
fn html_page_stays_under_10_kb_per_node_for_300_nodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = write_reports(dir.path(), &[("weak", true), ("healthy", false)]);
    let nodes = tempfile::tempdir().expect("tempdir");
    let files = fleet_of(nodes.path(), &sources, 300);
    let page = dir.path().join("fleet.html");
    let output = hardnode()
        .args(["report", "merge", "--format", "html", "--output"])
        .arg(&page)
        .args(&files)
        .output()
        .expect("run merge");
    assert_eq!(code(&output), 1);
    let size = std::fs::metadata(&page).expect("page").len();
    assert!(size <= 3_000_000, "300 nodes: {size} bytes");
    assert!(size / 300 <= 10_240, "{} bytes per node", size / 300);
    let html = std::fs::read_to_string(&page).expect("page");
    // Evidence is not repeated: 150 nodes fail kernel.seccomp-filter with the same evidence, shown
    // once and referred to from the other cells.
    let evidence = read_json(&sources[0])["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["id"] == "kernel.seccomp-filter")
        .and_then(|r| r["evidence"][0]["detail"].as_str().map(str::to_string))
        .expect("evidence");
    let escaped = evidence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert_eq!(html.matches(&escaped).count(), 1, "{evidence}");
    let shared = html.matches("same evidence as on node-0000").count();
    assert!(shared >= 149, "{shared}");
}

#[test]
fn evidence_shows_on_focus_and_click_as_well_as_hover() {
    let test = "evidence_shows_on_focus_and_click_as_well_as_hover";
    if !require_tool(test, "chromium") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_reports(dir.path(), &[("node-a", true), ("node-b", false)]);
    let (_, html) = merged_page(dir.path(), &files);
    assert!(!html.contains("<script"), "the page itself needs no script");
    assert!(html.contains("td:hover > .tip"), "hover shows the evidence");
    // A probe script added to a copy of the page, run by Chromium: the evidence is hidden, then
    // shown when the cell gets focus (Tab, or a click: the cell is focusable), hidden again on blur.
    let probe = r#"<script>
const cell = document.querySelector('#matrix td[tabindex]');
const tip = cell.querySelector('.tip');
const before = getComputedStyle(tip).display;
cell.focus();
const focused = getComputedStyle(tip).display + ':' + (document.activeElement === cell);
cell.blur();
const after = getComputedStyle(tip).display;
document.body.setAttribute('data-probe', [before, focused, after, cell.tabIndex].join(' '));
</script></body>"#;
    let probed = dir.path().join("probe.html");
    std::fs::write(&probed, html.replacen("</body>", probe, 1)).expect("write");
    let dumped = chromium(
        &["--dump-dom", &format!("file://{}", probed.display())],
        &dir.path().join("chromium-profile"),
    );
    let dom = String::from_utf8_lossy(&dumped.stdout);
    assert!(
        dom.contains("data-probe=\"none block:true none 0\""),
        "{}",
        dom.lines()
            .find(|l| l.contains("data-probe"))
            .unwrap_or("no probe result")
    );
}
