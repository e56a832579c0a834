//! A broken embedded data file fails a real `cargo build` at the build script, with the file and
//! the line: this crate's sources are copied to a temp directory, one file is broken, and
//! `cargo check` is run on the copy. The build script fails before the library is compiled, so
//! with the build dependencies kept in one directory across runs (`CARGO_TARGET_TMPDIR`) a case
//! takes about a second (the first run compiles serde, toml and thiserror for the script: 15 to
//! 25 s on the 2-core VM). `src/embedded/mod.rs` tests the same step as a function, per kind.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

/// What the build script reads: the manifest, the sources it compiles by path, the data.
const COPIED: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "src",
    "benchmarks",
    "rules",
    "benches",
];

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).expect("mkdir");
        for entry in fs::read_dir(from).expect("list") {
            let entry = entry.expect("entry");
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::copy(from, to).expect("copy");
    }
}

/// The 1-based line of the first `marker` in `text`, or of the last `header` before it.
fn line_of(text: &str, marker: &str, header: Option<&str>) -> usize {
    let mut at = text.find(marker).expect("marker in the file");
    if let Some(header) = header {
        at = text[..at].rfind(header).expect("header before the marker");
    }
    text[..at].matches('\n').count() + 1
}

/// `cargo check` of the copy: its exit status and stderr.
fn cargo_check(tree: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--lib", "--offline", "--locked", "--quiet"])
        .current_dir(tree)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded-build"),
        )
        // Not a git checkout: no git asked.
        .env("HARDNODE_COMMIT", "test")
        .output()
        .expect("run cargo");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_broken_embedded_file_fails_the_build_with_its_file_and_line() {
    let dir = common::Root::new();
    let tree = dir.path();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in COPIED {
        copy(&source.join(name), &tree.join(name));
    }
    // (file, text replaced, its replacement, the `[[table]]` whose line the error names)
    let cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
        (
            "benchmarks/kubelet.toml",
            "probe = { file = \"kubelet.service\" }",
            "probe = { file = \"kubelet.service\", no_such_key = 1 }",
            None,
            "unknown probe key \"no_such_key\"",
        ),
        (
            "rules/pod.toml",
            "points = -30",
            "points = 0",
            Some("[[rule]]"),
            "points must be negative",
        ),
        (
            "rules/pss/controls.toml",
            "since = \"1.0\"",
            "since = \"1.999\"",
            Some("[[control.version]]"),
            "since 1.999 is newer than latest",
        ),
        (
            "benchmarks/profiles/cis-eks-1.5.0.toml",
            "\"kubelet.anonymous-auth\" =",
            "\"kubelet.no-such-rule\" =",
            None,
            "names rule kubelet.no-such-rule, which does not exist",
        ),
    ];
    for (file, marker, broken, header, reason) in cases {
        let path = tree.join(file);
        let text = fs::read_to_string(&path).expect("read");
        let line = line_of(&text, marker, *header);
        fs::write(&path, text.replacen(marker, broken, 1)).expect("break");
        let (succeeded, stderr) = cargo_check(tree);
        fs::write(&path, &text).expect("restore");
        assert!(!succeeded, "{file}: the build succeeded\n{stderr}");
        let expected = format!("error: an embedded data file is invalid: {file}: line {line}: ");
        assert!(
            stderr.contains(&expected),
            "{file}: wanted {expected:?}\n{stderr}"
        );
        assert!(
            stderr.contains(reason),
            "{file}: wanted {reason:?}\n{stderr}"
        );
    }
}
