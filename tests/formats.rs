//! `hardnode check --format junit|prometheus|sarif`, each parsed back by a real parser: an XML
//! parser (roxmltree) and `xmllint --schema` with the Jenkins xunit schema for JUnit, the official Prometheus Python client's text-format parser, and
//! the SARIF 2.1.0 JSON schema (tests/data, from the `@microsoft/jest-sarif` npm package) checked
//! with Python's `jsonschema`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{HOSTILE_BENCHMARK, Root, code, mixed_node, repo_file, require_tool};

/// Runs `hardnode check` on a node with every status plus the hostile rule.
fn run_format(root: &Root, format: &str) -> (i32, String, serde_json::Value) {
    let benchmark = root.file("/hostile.toml", HOSTILE_BENCHMARK);
    let benchmark = benchmark.to_str().expect("utf-8 path");
    let output = root
        .hardnode(&["check", "--format", format, "--benchmark", benchmark])
        .output()
        .expect("run hardnode");
    let (_, json) = root.check_json(&["--benchmark", benchmark]);
    (
        code(&output),
        String::from_utf8(output.stdout).expect("utf-8 output"),
        json,
    )
}

/// Whether a Python module can be imported (scripts/test.sh pip-installs the ones tests need).
fn require_python_module(test: &str, module: &str) -> bool {
    if !require_tool(test, "python3") {
        return false;
    }
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            !common::in_ci(),
            "{test} needs the Python module {module}; scripts/test.sh installs it"
        );
        eprintln!("{test}: skipped (python module {module} missing)");
    }
    found
}

fn python(script: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python");
    let output = child.wait_with_output().expect("python3 output");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The pytest release whose source distribution carries the Jenkins schema.
const PYTEST_SDIST: &str = "pytest==9.2.0";
const PYTEST_XSD_MEMBER: &str = "pytest-9.2.0/testing/example_scripts/junit-10.xsd";

/// The Jenkins xunit plugin's `junit-10.xsd`, as pytest ships it in its source distribution
/// (`testing/example_scripts/junit-10.xsd`, which pytest's own tests validate its JUnit output
/// against): fetched from PyPI with pip into cargo's test scratch directory, never kept in this
/// repository. `None` (a skip, or a failure under CI) when it cannot be had.
fn jenkins_junit_xsd(test: &str) -> Option<PathBuf> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("junit-10.xsd");
    if cache.exists() {
        return Some(cache);
    }
    let download = tempfile::tempdir().expect("tempdir");
    let fetched = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
        ])
        .arg(PYTEST_SDIST)
        .arg("-d")
        .arg(download.path())
        .status()
        .is_ok_and(|status| status.success());
    let extract = "import glob, sys, tarfile\n\
         archive = tarfile.open(glob.glob(sys.argv[1] + '/pytest-*.tar.gz')[0])\n\
         open(sys.argv[2], 'wb').write(archive.extractfile(sys.argv[3]).read())\n";
    let extracted = fetched
        && Command::new("python3")
            .args(["-c", extract])
            .arg(download.path())
            .arg(&cache)
            .arg(PYTEST_XSD_MEMBER)
            .status()
            .is_ok_and(|status| status.success());
    if extracted {
        return Some(cache);
    }
    assert!(
        std::env::var("CI").ok().as_deref() != Some("true"),
        "{test}: could not fetch {PYTEST_SDIST}'s junit-10.xsd from PyPI"
    );
    eprintln!("{test}: skipped (could not fetch {PYTEST_SDIST}'s junit-10.xsd)");
    None
}

/// Validates XML against an XSD with xmllint (libxml2), returning its verdict.
fn xmllint(schema: &Path, xml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).expect("write");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("xmllint");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn junit_validates_against_the_jenkins_schema_one_suite_per_node() {
    let test = "junit_validates_against_the_jenkins_schema_one_suite_per_node";
    if !require_tool(test, "xmllint") {
        return;
    }
    let Some(jenkins) = jenkins_junit_xsd(test) else {
        return;
    };
    let root = mixed_node("junit-node", true);
    let (exit, xml, report) = run_format(&root, "junit");
    assert_eq!(exit, 1, "a fail makes the exit code 1 in every format");
    // The consumer's own schema: the Jenkins xunit plugin's.
    let (valid, verdict) = xmllint(&jenkins, &xml);
    assert!(valid, "junit-10.xsd: {verdict}\n{xml}");
    // The checker can fail: a `skipped` attribute on <testsuites> (the old output) is refused.
    let (valid, _) = xmllint(
        &jenkins,
        &xml.replacen("<testsuites>", "<testsuites skipped=\"1\">", 1),
    );
    assert!(!valid, "junit-10.xsd refuses skipped on <testsuites>");
    let document = roxmltree::Document::parse(&xml).expect("JUnit output is well-formed XML");
    let suites = document.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let node_suites: Vec<_> = suites
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(node_suites.len(), 1, "one testsuite per node");
    let suite = node_suites[0];
    assert_eq!(suite.attribute("name"), Some("hardnode.junit-node"));
    assert_eq!(suite.attribute("hostname"), Some("junit-node"));

    let results = report["results"].as_array().expect("results");
    let count = |status: &str| results.iter().filter(|r| r["status"] == status).count();
    let attribute = |name: &str| -> usize {
        suite
            .attribute(name)
            .and_then(|v| v.parse().ok())
            .expect("count")
    };
    assert_eq!(attribute("tests"), results.len());
    // Warnings are failures (of their own type).
    assert_eq!(attribute("failures"), count("fail") + count("warn"));
    assert_eq!(attribute("errors"), count("error"));
    assert_eq!(attribute("skipped"), count("skip"));
    for status in ["pass", "fail", "warn", "skip", "error"] {
        assert!(count(status) > 0, "fixture lacks a {status}: {report:#}");
    }
    // Every case names its node, so two nodes' files merged by a CI server never collide.
    for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
        assert!(
            case.attribute("name")
                .is_some_and(|name| name.starts_with("junit-node: ")),
            "{:?}",
            case.attribute("name")
        );
    }

    // Each rule's case carries the element its status maps to.
    for result in results {
        let id = result["id"].as_str().expect("id");
        let case = document
            .descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("name")
                        .is_some_and(|name| name.starts_with(&format!("junit-node: {id} ")))
            })
            .unwrap_or_else(|| panic!("no testcase for {id}"));
        let children: Vec<&str> = case
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        let expected: &[&str] = match result["status"].as_str().expect("status") {
            "pass" => &[],
            "fail" | "warn" => &["failure"],
            "error" => &["error"],
            _ => &["skipped"],
        };
        assert_eq!(children, expected, "{id}");
        if result["status"] == "warn" {
            let failure = case.first_element_child().expect("failure");
            assert_eq!(failure.attribute("type"), Some("warning"), "{id}");
        }
        if result["status"] == "skip" || result["status"] == "error" {
            let element = case.first_element_child().expect("child");
            let reason = result["reason"].as_str().expect("reason");
            assert!(
                element
                    .attribute("message")
                    .is_some_and(|m| m.contains(reason)),
                "{id}: reason not in message"
            );
        }
    }

    // The hostile rule's title survives escaping exactly.
    let hostile = document
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|name| name.starts_with("junit-node: odd.markup"))
        })
        .expect("hostile testcase");
    assert!(
        hostile
            .attribute("name")
            .expect("name")
            .ends_with("Title with <xml> & \"quotes\" and 'apostrophes'\nand a second line")
    );
    let failure = hostile.first_element_child().expect("failure");
    assert!(
        failure
            .text()
            .is_some_and(|text| text.contains("Rebuild with <CONFIG_NOT_THERE_AT_ALL=y> & reboot"))
    );
}

const PARSE_PROMETHEUS: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": family.name,
        "type": family.type,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
    })
print(json.dumps(families))
"#;

#[test]
fn prometheus_textfile_parses_with_the_official_parser() {
    if !require_python_module(
        "prometheus_textfile_parses_with_the_official_parser",
        "prometheus_client",
    ) {
        return;
    }
    let root = mixed_node("prom-node", true);
    let textfile = root.real("/var/lib/node-exporter/hardnode.prom");
    std::fs::create_dir_all(textfile.parent().expect("parent")).expect("mkdir");
    let benchmark = root.file("/hostile.toml", HOSTILE_BENCHMARK);
    let output = root
        .hardnode(&[
            "check",
            "--format",
            "prometheus",
            "--benchmark",
            benchmark.to_str().expect("utf-8"),
            "--output",
            textfile.to_str().expect("utf-8"),
        ])
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    assert!(output.stdout.is_empty(), "--output leaves stdout empty");
    // Atomic write: only the final file is left in node-exporter's directory.
    let names: Vec<String> = std::fs::read_dir(textfile.parent().expect("parent"))
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["hardnode.prom"]);
    let text = std::fs::read_to_string(&textfile).expect("textfile");

    let parsed: serde_json::Value =
        serde_json::from_str(&python(PARSE_PROMETHEUS, &text)).expect("parser JSON");
    let family = |name: &str| {
        parsed
            .as_array()
            .expect("families")
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no family {name} in {parsed:#}"))
            .clone()
    };
    let (_, report) = root.check_json(&["--benchmark", benchmark.to_str().expect("utf-8")]);
    let results = report["results"].as_array().expect("results");

    let status = family("hardnode_check_status");
    assert_eq!(status["type"], "gauge");
    let samples = status["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), results.len() * 5, "five series per rule");
    for result in results {
        let ones: Vec<&serde_json::Value> = samples
            .iter()
            .filter(|s| s["labels"]["id"] == result["id"] && s["value"] == 1.0)
            .collect();
        assert_eq!(ones.len(), 1, "{}", result["id"]);
        let labels = &ones[0]["labels"];
        assert_eq!(labels["status"], result["status"]);
        assert_eq!(labels["section"], result["section"]);
        assert_eq!(labels["severity"], result["severity"]);
        assert_eq!(
            labels["cis"].as_str(),
            Some(result["cis"].as_str().unwrap_or(""))
        );
    }

    let totals = family("hardnode_checks");
    for sample in totals["samples"].as_array().expect("samples") {
        let name = sample["labels"]["status"].as_str().expect("status label");
        assert_eq!(
            sample["value"],
            report["summary"][name].as_f64().expect("count")
        );
    }
    let started = family("hardnode_last_run_timestamp_seconds")["samples"][0]["value"]
        .as_f64()
        .expect("timestamp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(started > 1.6e9 && started <= now + 1.0, "{started}");
    let duration = family("hardnode_run_duration_seconds")["samples"][0]["value"]
        .as_f64()
        .expect("duration");
    assert!(duration >= 0.0);
}

const VALIDATE_SARIF: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(sys.stdin)
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
for error in errors:
    print("/".join(str(p) for p in error.path), error.message)
print(len(errors), "errors")
"#;

fn assert_valid_sarif(text: &str) {
    let schema = repo_file("tests/data/sarif-2.1.0-rtm.5.json");
    let output = Command::new("python3")
        .args(["-c", VALIDATE_SARIF, schema.to_str().expect("utf-8")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3");
    let verdict = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{verdict}");
    assert_eq!(verdict.trim(), "0 errors", "schema violations:\n{verdict}");
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    if !require_python_module("sarif_validates_against_the_2_1_0_schema", "jsonschema") {
        return;
    }
    let root = mixed_node("sarif-node", true);
    let (exit, text, report) = run_format(&root, "sarif");
    assert_eq!(exit, 1);
    assert_valid_sarif(&text);
    // A root with nothing readable (no hostname, every rule `error`) is valid SARIF too.
    let empty = Root::new();
    let output = empty
        .hardnode(&["check", "--format", "sarif"])
        .output()
        .expect("run");
    assert_valid_sarif(&String::from_utf8(output.stdout).expect("utf-8"));

    // The schema allows much; check what dashboards rely on as well.
    let sarif: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    let findings = report["results"].as_array().expect("findings");
    // Only findings by default: fail, warn and error, in rule order.
    let wanted: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| matches!(f["status"].as_str(), Some("fail" | "warn" | "error")))
        .collect();
    assert!(wanted.len() < findings.len());
    assert_eq!(results.len(), wanted.len());
    assert_eq!(
        run["automationDetails"]["id"],
        format!(
            "hardnode/sarif-node/{}",
            report["generated"].as_str().expect("time")
        ),
        "one automation category per node"
    );
    let mut fingerprints = std::collections::BTreeSet::new();
    for (result, finding) in results.iter().zip(wanted) {
        let fingerprint = result["partialFingerprints"]["hardnodeFinding/v1"]
            .as_str()
            .expect("partialFingerprints");
        assert!(
            fingerprints.insert(fingerprint.to_string()),
            "unique per rule"
        );
        assert_eq!(result["ruleId"], finding["id"]);
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], finding["id"],
            "ruleIndex points at its rule"
        );
        let (kind, level) = match finding["status"].as_str().expect("status") {
            "pass" => ("pass", "none"),
            "fail" => ("fail", "error"),
            "warn" => ("fail", "warning"),
            "skip" => ("notApplicable", "none"),
            _ => ("open", "none"),
        };
        assert_eq!(result["kind"], kind, "{}", finding["id"]);
        assert_eq!(result["level"], level, "{}", finding["id"]);
    }
    let seccomp_filter = results
        .iter()
        .find(|r| r["ruleId"] == "kernel.seccomp-filter")
        .expect("result");
    assert_eq!(
        seccomp_filter["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///boot/config-5.15.0-105-generic"
    );

    // --sarif-all: every result, still valid; the same rule on the same node keeps its
    // fingerprint across runs, and another node's differs.
    let output = root
        .hardnode(&["check", "--format", "sarif", "--sarif-all"])
        .output()
        .expect("run");
    let all_text = String::from_utf8(output.stdout).expect("utf-8");
    assert_valid_sarif(&all_text);
    let all: serde_json::Value = serde_json::from_str(&all_text).expect("JSON");
    let all_results = all["runs"][0]["results"].as_array().expect("results");
    assert_eq!(
        all_results.len(),
        findings.len() - 1,
        "every rule but the hostile one (not in this run)"
    );
    let print = |sarif: &serde_json::Value, id: &str| {
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["ruleId"] == id)
            .map(|r| r["partialFingerprints"]["hardnodeFinding/v1"].clone())
            .expect("result")
    };
    assert_eq!(
        print(&all, "kernel.seccomp-filter"),
        print(&sarif, "kernel.seccomp-filter")
    );
    let other = mixed_node("other-node", true);
    let output = other
        .hardnode(&["check", "--format", "sarif"])
        .output()
        .expect("run");
    let other: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_ne!(
        print(&other, "kernel.seccomp-filter"),
        print(&sarif, "kernel.seccomp-filter")
    );
}

#[test]
fn rules_and_lint_refuse_check_only_formats() {
    let output = common::hardnode()
        .args(["rules", "--format", "junit"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
}

/// Runs promtool (Debian's `prometheus` package) with `args`, stdin from `input`.
fn promtool(args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("promtool output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn prometheus_output_and_alert_rules_pass_promtool() {
    if !require_tool(
        "prometheus_output_and_alert_rules_pass_promtool",
        "promtool",
    ) {
        return;
    }
    let root = mixed_node("prom-node", true);
    let (_, metrics, report) = run_format(&root, "prometheus");
    let (ok, verdict) = promtool(&["check", "metrics"], &metrics);
    assert!(
        ok && verdict.trim().is_empty(),
        "promtool check metrics: {verdict}"
    );
    // The checker can fail: the old name (a gauge with a counter's suffix) is refused.
    let (ok, verdict) = promtool(
        &["check", "metrics"],
        &metrics
            .replace("hardnode_checks{", "hardnode_checks_total{")
            .replace(
                "TYPE hardnode_checks gauge",
                "TYPE hardnode_checks_total gauge",
            ),
    );
    assert!(!ok && verdict.contains("_total"), "{verdict}");
    let fails = report["summary"]["fail"].as_u64().expect("fail count");
    assert!(
        metrics.contains(&format!("\nhardnode_failing_rules {fails}\n")),
        "{metrics}"
    );

    // --low-cardinality: per-section counts, no per-rule series, still valid.
    let output = root
        .hardnode(&["check", "--format", "prometheus", "--low-cardinality"])
        .output()
        .expect("run");
    let low = String::from_utf8(output.stdout).expect("utf-8");
    let (ok, verdict) = promtool(&["check", "metrics"], &low);
    assert!(ok && verdict.trim().is_empty(), "{verdict}");
    assert!(!low.contains("hardnode_check_status"), "{low}");
    let series = low.lines().filter(|line| !line.starts_with('#')).count();
    assert!(
        series * 3 < metrics.lines().filter(|l| !l.starts_with('#')).count(),
        "{series}"
    );
    assert!(
        low.contains("hardnode_section_checks{section=\"kernel\",status=\"fail\"} 1"),
        "{low}"
    );

    // The shipped alert rules: valid, and unit-tested against series shaped as above.
    let rules = repo_file("scripts/prometheus/hardnode.rules.yml");
    let (ok, verdict) = promtool(&["check", "rules", rules.to_str().expect("utf-8")], "");
    assert!(ok, "promtool check rules: {verdict}");
    let tests = repo_file("tests/data/hardnode.rules.test.yml");
    let (ok, verdict) = promtool(&["test", "rules", tests.to_str().expect("utf-8")], "");
    assert!(
        ok && verdict.contains("SUCCESS"),
        "promtool test rules: {verdict}"
    );
    // The rule test's series use the names hardnode writes.
    for name in [
        "hardnode_check_status{",
        "hardnode_check_waived",
        "hardnode_failing_rules",
        "hardnode_last_run_timestamp_seconds",
    ] {
        assert!(
            std::fs::read_to_string(&rules)
                .expect("rules")
                .contains(name.trim_end_matches('{')),
            "{name}"
        );
    }
}

#[test]
fn json_report_has_a_timestamp_and_the_build_and_version_names_the_commit() {
    let root = mixed_node("json-node", false);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (_, report) = root.check_json(&[]);
    let generated = report["generated"].as_str().expect("generated");
    // Cross-checked with date(1): the same instant, to the second.
    let parsed = Command::new("date")
        .args(["-u", "-d", generated, "+%s"])
        .output()
        .expect("date");
    let seconds: u64 = String::from_utf8_lossy(&parsed.stdout)
        .trim()
        .parse()
        .expect("date parsed the timestamp");
    assert!(
        generated.ends_with('Z') && generated.len() == 20,
        "{generated}"
    );
    assert!(seconds >= before && seconds <= before + 60, "{generated}");
    let build = &report["tool"]["build"];
    assert_eq!(build["version"], report["tool"]["version"]);
    let commit = build["commit"].as_str().expect("commit");
    // Built inside this git checkout: the commit is known, 12 hex digits.
    assert_eq!(commit.len(), 12, "{commit}");
    assert!(commit.chars().all(|c| c.is_ascii_hexdigit()), "{commit}");
    assert!(
        build["target"]
            .as_str()
            .is_some_and(|t| t.contains("linux")),
        "{build}"
    );
    let version = common::hardnode().arg("--version").output().expect("run");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(&format!("commit {commit}"))
            && version.contains(build["target"].as_str().unwrap_or("?")),
        "{version}"
    );
}
