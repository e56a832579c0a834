//! Every JSON report validates against the published schema (`docs/report.schema.json`),
//! checked by a real JSON Schema validator (Python's `jsonschema`, installed by scripts/test.sh).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Root, code, hardnode, in_ci, repo_file};

fn validate(report: &[u8]) -> Result<(), String> {
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.validate(json.load(sys.stdin), schema, cls=jsonschema.Draft202012Validator)\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(repo_file("docs/report.schema.json"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("python3: {error}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(report)
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn have_validator() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        assert!(
            !in_ci(),
            "python3 jsonschema is missing; scripts/test.sh installs it"
        );
        eprintln!("schema tests skipped: python3 jsonschema missing");
    }
    ok
}

#[test]
fn reports_validate_against_the_schema() {
    if !have_validator() {
        return;
    }
    // The live machine, an empty root (errors and skips), and a deselected rule.
    let live = hardnode()
        .args(["check", "--format", "json"])
        .output()
        .expect("run");
    assert!(matches!(code(&live), 0 | 1));
    validate(&live.stdout).expect("live report matches the schema");

    let empty = Root::new();
    let output = empty
        .hardnode(&["check", "--format", "json", "--skip", "kernel.seccomp"])
        .output()
        .expect("run");
    validate(&output.stdout).expect("empty-root report matches the schema");

    // The validator really rejects a report that breaks the contract.
    let mut broken: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    broken["results"][0]["status"] = "WARN".into();
    assert!(validate(&serde_json::to_vec(&broken).expect("json")).is_err());
    let mut broken: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    broken["results"][0]["reason"] = serde_json::Value::Null;
    assert!(
        validate(&serde_json::to_vec(&broken).expect("json")).is_err(),
        "a skip needs its reason"
    );
}
