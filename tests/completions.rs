//! Shell completions and the man page, generated from the clap definitions: bash's completion
//! function run for real by bash (subcommands, flags, flag values), the man page rendered by
//! man-db/groff with warnings on (none allowed) and naming every subcommand and new flag.

mod common;

use std::process::Command;

use common::{code, hardnode, require_tool};

/// Runs the generated bash completion for the words typed so far and returns COMPREPLY.
fn complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().copied().unwrap_or_default();
    let previous = words
        .get(words.len().saturating_sub(2))
        .copied()
        .unwrap_or_default();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; \
         _hardnode hardnode '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" ")
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_subcommands_flags_and_values() {
    if !require_tool("bash_completes_subcommands_flags_and_values", "bash") {
        return;
    }
    let output = hardnode()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("hardnode.bash");
    std::fs::write(&script, &output.stdout).expect("write");
    assert_eq!(complete(&script, &["hardnode", "rep"]), ["report"]);
    let report = complete(&script, &["hardnode", "report", ""]);
    assert!(
        report.contains(&"merge".into()) && report.contains(&"diff".into()),
        "{report:?}"
    );
    let flags = complete(&script, &["hardnode", "check", "--qu"]);
    assert_eq!(flags, ["--quiet"]);
    let formats = complete(&script, &["hardnode", "check", "--format", ""]);
    assert_eq!(formats, ["text", "json", "junit", "prometheus", "sarif"]);
    // Every other shell's script is generated too.
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let output = hardnode()
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(code(&output), 0, "{shell}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("hardnode"),
            "{shell}"
        );
    }
}

#[test]
fn man_page_renders_without_warnings_and_names_every_command() {
    if !require_tool(
        "man_page_renders_without_warnings_and_names_every_command",
        "man",
    ) {
        return;
    }
    let output = hardnode().arg("man").output().expect("run");
    assert_eq!(code(&output), 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("hardnode.1");
    std::fs::write(&page, &output.stdout).expect("write");
    let rendered = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man");
    let warnings = String::from_utf8_lossy(&rendered.stderr);
    assert!(rendered.status.success(), "{warnings}");
    assert!(warnings.trim().is_empty(), "groff warnings: {warnings}");
    // man's own rendering may use overstrike for bold; col -b style cleanup for the checks.
    let text: String = String::from_utf8_lossy(&rendered.stdout)
        .split('\u{8}')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.get(1..).unwrap_or("")
            }
        })
        .collect();
    for needle in [
        "HARDNODE CHECK",
        "HARDNODE REPORT DIFF",
        "HARDNODE REPORT MERGE",
        "HARDNODE FIREWALL APPLY",
        "--quiet",
        "--low-cardinality",
        "--sarif-all",
        "--stale-after",
        "Exit codes",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the man page:\n{text}"
        );
    }
}
