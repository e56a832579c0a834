//! The text report as an operator sees it: wrapped to the terminal's width (`COLUMNS`, else the
//! tty's — measured under a real pseudo-terminal with `script` — else 80), every line including
//! the grouped skips; CIS ids beside rule ids; per-section totals that match the JSON; `--quiet`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{HOSTILE_BENCHMARK, Root, mixed_node, require_tool};

/// A node with every status, the hostile rule, a failing CIS-numbered file rule and long skips.
fn node() -> (Root, String) {
    let root = mixed_node("text-node", true);
    root.file_mode(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
        0o644,
    );
    let benchmark = root.file("/hostile.toml", HOSTILE_BENCHMARK);
    (root, benchmark.display().to_string())
}

fn text(root: &Root, benchmark: &str, columns: Option<&str>, extra: &[&str]) -> String {
    let mut command = root.hardnode(&["check", "--color", "never", "--benchmark", benchmark]);
    command.args(extra);
    match columns {
        Some(columns) => command.env("COLUMNS", columns),
        None => command.env_remove("COLUMNS"),
    };
    let output = command.output().expect("run");
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Every line fits, except one that is a single word (a path is never cut).
fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= width || !line.trim().contains(' '),
            "wider than {width}: {line:?}\n{text}"
        );
    }
}

#[test]
fn text_wraps_to_columns_or_80_every_line_included() {
    let (root, benchmark) = node();
    for width in [60, 100, 132] {
        let report = text(&root, &benchmark, Some(&width.to_string()), &[]);
        assert_fits(&report, width);
        assert!(report.contains(" rules: "), "{report}");
    }
    // The grouped skip lines were the widest (193 columns before): at 60 they wrap too.
    let narrow = text(&root, &benchmark, Some("60"), &[]);
    assert!(
        narrow
            .lines()
            .any(|l| l.trim_start().starts_with("SKIP  ") && l.contains("rules:"))
    );
    // Wider output uses the room: fewer lines.
    let wide = text(&root, &benchmark, Some("132"), &[]);
    assert!(wide.lines().count() < narrow.lines().count());
    assert!(wide.lines().any(|l| l.chars().count() > 100), "{wide}");
    // No COLUMNS and no terminal (a pipe): 80.
    let piped = text(&root, &benchmark, None, &[]);
    assert_fits(&piped, 80);
    assert!(piped.lines().any(|l| l.chars().count() > 70), "{piped}");
}

#[test]
fn text_takes_the_terminals_width() {
    if !require_tool("text_takes_the_terminals_width", "script") {
        return;
    }
    let (root, benchmark) = node();
    let binary = env!("CARGO_BIN_EXE_hardnode");
    // A real pseudo-terminal of 100 columns (util-linux `script`), COLUMNS unset.
    let shell = format!(
        "stty cols 100 rows 50; exec {binary} check --color never --root '{}' --benchmark '{benchmark}'",
        root.path().display()
    );
    let output = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .env_remove("COLUMNS")
        .env("TERM", "dumb")
        .output()
        .expect("script");
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    assert!(text.contains(" rules: "), "{text}");
    assert_fits(&text, 100);
    assert!(
        text.lines().any(|l| l.chars().count() > 80),
        "the terminal's 100 columns are used:\n{text}"
    );
}

#[test]
fn text_shows_cis_ids_and_section_totals() {
    let (root, benchmark) = node();
    let report = text(&root, &benchmark, Some("120"), &[]);
    let line = report
        .lines()
        .find(|l| l.contains("kubelet.config-file-mode"))
        .expect("the rule's line");
    assert!(line.contains("  4.1.9  "), "CIS id beside the id: {line}");
    let (_, json) = root.check_json(&["--benchmark", &benchmark]);
    let mut totals: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for result in json["results"].as_array().expect("results") {
        *totals
            .entry(result["section"].as_str().expect("section").to_string())
            .or_default()
            .entry(result["status"].as_str().expect("status").to_string())
            .or_default() += 1;
    }
    for (section, counts) in totals {
        let parts: Vec<String> = ["pass", "fail", "warn", "skip", "error"]
            .iter()
            .filter_map(|s| counts.get(*s).map(|n| format!("{n} {s}")))
            .collect();
        let heading = format!("{section} ({})", parts.join(", "));
        assert!(
            report.lines().any(|l| l == heading),
            "heading {heading:?} in:\n{report}"
        );
    }
}

#[test]
fn quiet_prints_only_fail_warn_error_and_the_summary() {
    let (root, benchmark) = node();
    let quiet = text(&root, &benchmark, Some("100"), &["--quiet"]);
    let (_, json) = root.check_json(&["--benchmark", &benchmark]);
    for result in json["results"].as_array().expect("results") {
        let id = result["id"].as_str().expect("id");
        let status = result["status"].as_str().expect("status");
        let listed = quiet
            .lines()
            .any(|l| l.split_whitespace().nth(1).is_some_and(|word| word == id));
        assert_eq!(
            listed,
            matches!(status, "fail" | "warn" | "error"),
            "{id} ({status}) in --quiet:\n{quiet}"
        );
    }
    assert!(!quiet.contains("PASS") && !quiet.contains("SKIP") && !quiet.contains("Remediation"));
    let last = quiet.lines().last().expect("summary");
    assert!(
        last.contains(" rules: ") && last.contains(" fail"),
        "{last}"
    );
    let full = text(&root, &benchmark, Some("100"), &[]);
    assert!(quiet.lines().count() * 2 < full.lines().count());
}
