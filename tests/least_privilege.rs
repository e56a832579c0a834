//! hardnode practises what it checks: the read-only commands (`check`, `facts`, `rules`,
//! `containers`) open nothing for writing — proved by tracing every file syscall with
//! `strace -f -e trace=%file` — each `/proc` file is opened at most once per run (one shared
//! walk serves component discovery and the container audit), and `--only kernel` does not walk
//! `/proc` at all. The fixture is a synthetic kubeadm control plane (`scripts/synth-root.py`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Root, repo_file, require_tool};

/// A control-plane root with a few containers and filler processes.
fn control_plane() -> Root {
    let root = Root::new();
    let status = Command::new("python3")
        .arg(repo_file("scripts/synth-root.py"))
        .arg(root.path())
        .args(["--procs", "80", "--containers", "6"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run scripts/synth-root.py");
    assert!(status.success(), "synth-root.py failed");
    root
}

/// Runs hardnode under `strace -f -e trace=%file` and returns the traced syscall lines.
fn traced(root: &Root, args: &[&str], trace_set: &str) -> Vec<String> {
    let log = root.path().with_extension("strace");
    let output = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg(format!("trace={trace_set}"))
        .arg("-o")
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin("hardnode"))
        .args(args)
        .arg("--root")
        .arg(root.path())
        .output()
        .expect("run strace");
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code <= 1,
        "hardnode {args:?} exited {code}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("read strace log");
    let _ = std::fs::remove_file(&log);
    text.lines().map(String::from).collect()
}

/// Syscalls that change a file system entry.
const WRITING_SYSCALLS: &[&str] = &[
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "symlink",
    "symlinkat",
    "link",
    "linkat",
    "chmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "lchown",
    "fchownat",
    "truncate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "setxattr",
    "lsetxattr",
    "removexattr",
    "lremovexattr",
    "creat",
];
/// Open flags that allow writing.
const WRITING_FLAGS: &[&str] = &["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"];

/// The syscall name of a strace line (`1234  openat(AT_FDCWD, ...`).
fn syscall_name(line: &str) -> &str {
    let call = line
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    call.split('(').next().unwrap_or_default()
}

/// The lines of a trace that write, ignoring those naming `allowed`'s directory.
fn writes(lines: &[String], allowed: Option<&Path>) -> Vec<String> {
    lines
        .iter()
        .filter(|line| {
            let name = syscall_name(line);
            WRITING_SYSCALLS.contains(&name)
                || (name.starts_with("open")
                    && WRITING_FLAGS.iter().any(|flag| line.contains(flag)))
        })
        .filter(|line| {
            allowed.is_none_or(|path| {
                let dir = path
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                !line.contains(&dir)
            })
        })
        .cloned()
        .collect()
}

#[test]
fn read_only_commands_open_nothing_for_writing() {
    if !require_tool("read_only_commands_open_nothing_for_writing", "strace") {
        return;
    }
    let root = control_plane();
    for args in [
        &["check"][..],
        &["check", "--format", "json"],
        &["facts"],
        &["rules"],
        &["containers"],
    ] {
        let lines = traced(&root, args, "%file");
        assert!(
            lines.iter().any(|line| line.contains("/proc/")) || args == ["rules"],
            "the trace of {args:?} saw no file reads, so it proves nothing: {lines:?}"
        );
        let found = writes(&lines, None);
        assert!(found.is_empty(), "hardnode {args:?} wrote: {found:#?}");
    }
}

#[test]
fn check_with_output_writes_only_the_output_file() {
    if !require_tool("check_with_output_writes_only_the_output_file", "strace") {
        return;
    }
    let root = control_plane();
    let out_dir = tempfile::tempdir().expect("tempdir");
    let report = out_dir.path().join("report.json");
    let report_text = report.display().to_string();
    let lines = traced(
        &root,
        &["check", "--format", "json", "--output", &report_text],
        "%file",
    );
    assert!(
        !writes(&lines, None).is_empty(),
        "writing the --output file must show in the trace"
    );
    let found = writes(&lines, Some(&report));
    assert!(
        found.is_empty(),
        "wrote outside the --output directory: {found:#?}"
    );
    assert!(report.is_file());
}

/// `/proc/<pid>/<file>` opened more than once in one run, with how often.
fn repeated_proc_opens(lines: &[String], root: &Root) -> BTreeMap<String, usize> {
    let prefix = format!("{}/proc/", root.path().display());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    // Successful opens only: a failed `openat2` is retried by the component walk.
    for line in lines
        .iter()
        .filter(|l| l.contains("openat") && !l.contains("= -1"))
    {
        let Some(start) = line.find(&prefix) else {
            continue;
        };
        let rest = &line[start + prefix.len()..];
        let path = rest.split('"').next().unwrap_or_default();
        if path
            .split('/')
            .next()
            .is_some_and(|pid| pid.parse::<u32>().is_ok())
        {
            *counts.entry(path.to_string()).or_default() += 1;
        }
    }
    counts.retain(|_, count| *count > 1);
    counts
}

#[test]
fn each_proc_file_is_opened_at_most_once_per_run() {
    if !require_tool("each_proc_file_is_opened_at_most_once_per_run", "strace") {
        return;
    }
    let root = control_plane();
    for args in [&["check"][..], &["facts"]] {
        let lines = traced(&root, args, "openat,openat2");
        let cgroup_reads = lines.iter().filter(|l| l.contains("/cgroup\"")).count();
        assert!(
            cgroup_reads >= 80,
            "the container audit did not walk /proc ({cgroup_reads})"
        );
        let repeated = repeated_proc_opens(&lines, &root);
        assert!(
            repeated.is_empty(),
            "hardnode {args:?} reread {repeated:#?}"
        );
    }
}

#[test]
fn only_kernel_does_not_walk_proc() {
    if !require_tool("only_kernel_does_not_walk_proc", "strace") {
        return;
    }
    let root = control_plane();
    let lines = traced(&root, &["check", "--only", "kernel"], "openat,openat2");
    let pid_files: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("/proc/") && line.contains("cmdline"))
        .collect();
    assert!(
        pid_files.is_empty(),
        "--only kernel read process files: {pid_files:#?}"
    );
    let prefix = format!("\"{}/proc\"", root.path().display());
    assert!(
        !lines.iter().any(|line| line.contains(&prefix)),
        "--only kernel listed /proc"
    );
    assert!(
        lines.iter().any(|line| line.contains("config")),
        "kernel config was not read"
    );
}
