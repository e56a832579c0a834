//! hardnode practises what it checks: the read-only commands (`check`, `facts`, `rules`,
//! `containers`) open nothing for writing — proved by tracing every file syscall with
//! `strace -f -e trace=%file` — each `/proc` file is opened at most once per run (one shared
//! walk serves component discovery and the container audit), and `--only kernel` does not walk
//! `/proc` at all. The fixture is a synthetic kubeadm control plane (`scripts/synth-root.py`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{NetNs, Root, repo_file, require_netns, require_tool, status};

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
    traced_output(Command::new("strace"), root, args, trace_set).0
}

/// [`traced`] from `strace` (a command that runs it: inside a network namespace), with stdout.
fn traced_output(
    mut strace: Command,
    root: &Root,
    args: &[&str],
    trace_set: &str,
) -> (Vec<String>, Vec<u8>) {
    let log = root.path().with_extension("strace");
    let output = strace
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
    (text.lines().map(String::from).collect(), output.stdout)
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

/// The paths (relative to the root) of a trace's successful opens, with their lines. A failed
/// `openat2` is retried by the component walk, so only successes count.
fn successful_opens<'a>(
    lines: &'a [String],
    root: &Root,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let absolute = format!("{}/", root.path().display());
    lines
        .iter()
        .filter(|line| line.contains("openat") && !line.contains("= -1"))
        .filter_map(move |line| {
            let path = line.split('"').nth(1)?;
            Some((
                path.strip_prefix(absolute.as_str()).unwrap_or(path),
                line.as_str(),
            ))
        })
}

/// `/proc/<pid>/<file>` opened more than once in one run, with how often. Reads name the path
/// either absolutely (`openat(AT_FDCWD, "<root>/proc/1/status"`) or relative to the root opened
/// once (`openat2(3, "proc/1/status"`): both count.
fn repeated_proc_opens(lines: &[String], root: &Root) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (relative, _) in successful_opens(lines, root) {
        let Some(rest) = relative.strip_prefix("proc/") else {
            continue;
        };
        if rest
            .split('/')
            .next()
            .is_some_and(|pid| pid.parse::<u32>().is_ok())
        {
            *counts.entry(rest.to_string()).or_default() += 1;
        }
    }
    counts.retain(|_, count| *count > 1);
    counts
}

#[test]
fn repeated_opens_are_seen_in_both_path_forms() {
    let root = Root::new();
    let lines = vec![
        format!(
            "10 openat(AT_FDCWD, \"{}/proc/7/status\", O_RDONLY) = 4",
            root.path().display()
        ),
        "11 openat2(3, \"proc/7/status\", {flags=O_RDONLY}, 24) = 5".to_string(),
        "11 openat2(3, \"proc/8/status\", {flags=O_RDONLY}, 24) = 5".to_string(),
        "11 openat2(3, \"proc/8/status\", {flags=O_RDONLY}, 24) = -1 ENOENT".to_string(),
    ];
    let repeated = repeated_proc_opens(&lines, &root);
    assert_eq!(
        repeated.into_iter().collect::<Vec<_>>(),
        vec![("7/status".to_string(), 2)]
    );
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

/// The control plane's pki directory is named by several file rules (its owner, the
/// certificates' mode, the keys' mode, etcd's): every path in it is looked at once per check
/// and each directory listed once, however many rules name it (issue 20; it was 8 to 13 opens
/// of each file before).
#[test]
fn each_file_several_rules_name_is_opened_once_per_check() {
    if !require_tool(
        "each_file_several_rules_name_is_opened_once_per_check",
        "strace",
    ) {
        return;
    }
    let root = control_plane();
    let lines = traced(&root, &["check"], "openat,openat2");
    let mut looked: BTreeMap<String, usize> = BTreeMap::new();
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    for (relative, line) in successful_opens(&lines, &root) {
        if !relative.starts_with("etc/kubernetes/pki") {
            continue;
        }
        let counts = if line.contains("O_DIRECTORY") {
            &mut listed
        } else {
            &mut looked
        };
        *counts.entry(relative.to_string()).or_default() += 1;
    }
    assert!(
        looked.len() >= 5 && looked.contains_key("etc/kubernetes/pki/ca.key"),
        "the trace saw too little of the pki directory to prove anything: {looked:?}"
    );
    assert!(listed.contains_key("etc/kubernetes/pki"), "{listed:?}");
    let repeated: Vec<_> = looked
        .iter()
        .chain(&listed)
        .filter(|(_, count)| **count > 1)
        .collect();
    assert!(repeated.is_empty(), "opened more than once: {repeated:?}");
    // containerd's task directory, where each container's record is looked for, is listed once
    // for all containers (whether it exists or not).
    let task_dir = "run/containerd/io.containerd.runtime.v2.task\"";
    let task_listings = lines
        .iter()
        .filter(|l| l.contains("openat") && l.contains(task_dir))
        .count();
    assert!(
        task_listings <= 1,
        "{task_listings} listings of containerd's task directory"
    );
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

/// With a `[firewall]` policy that leaves the container CIDR to detection, the firewall rule's
/// detection reads the controller-manager's `--cluster-cidr` from the same walk of `/proc` as
/// every other rule: no process file is opened twice.
#[test]
fn firewall_cidr_detection_shares_the_proc_walk() {
    if !require_netns("firewall_cidr_detection_shares_the_proc_walk")
        || !require_tool("firewall_cidr_detection_shares_the_proc_walk", "strace")
    {
        return;
    }
    let root = control_plane();
    root.file(
        "/etc/hardnode/config.toml",
        "[firewall]\napiservers = [\"192.0.2.10:6443\"]\nmode = \"forward\"\n",
    );
    let ns = NetNs::new("walk");
    // PID 1 of the fixture in the namespace hardnode runs in (else the firewall rule would say,
    // rightly, that the rules it lists are not the host's).
    let own = ns.run_ok("readlink", &["/proc/self/ns/net"]);
    let link = root.real("/proc/1/ns/net");
    let _ = std::fs::remove_file(&link);
    root.symlink(own.trim(), "/proc/1/ns/net");
    for command in ["check", "facts"] {
        let (lines, stdout) = traced_output(
            ns.command("strace", &[]),
            &root,
            &[command, "--format", "json"][..if command == "check" { 3 } else { 1 }],
            "openat,openat2",
        );
        let output: serde_json::Value = serde_json::from_slice(&stdout).expect("json");
        if command == "check" {
            assert_eq!(status(&output, "firewall.apiserver-blocked"), "fail");
        } else {
            let detected = &output["firewall"]["container_cidrs"][0];
            assert_eq!(detected["value"], "10.244.0.0/16", "{output:#}");
            assert!(
                detected["source"]
                    .to_string()
                    .contains("kube-controller-manager --cluster-cidr"),
                "{detected}"
            );
        }
        let cmdline_reads = lines.iter().filter(|l| l.contains("/cmdline\"")).count();
        assert!(
            cmdline_reads >= 80,
            "{command}: /proc was not walked ({cmdline_reads})"
        );
        let repeated = repeated_proc_opens(&lines, &root);
        assert!(repeated.is_empty(), "{command} reread {repeated:#?}");
    }
}
