//! The shared fixture-root builder for integration tests: a temp directory laid out like a host
//! (`proc/<pid>/cmdline`, `/etc/...` files with modes and owners, symlinks, gzip), and a runner
//! for the built `hardnode` binary.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A host root in a temp dir, removed when dropped.
pub struct Root {
    dir: tempfile::TempDir,
}

impl Default for Root {
    fn default() -> Self {
        Self::new()
    }
}

impl Root {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hardnode-root-")
            .tempdir()
            .expect("create temp root");
        // Traversable by an unprivileged user, for the non-root tests.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod root");
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The real path of a host path under this root.
    pub fn real(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    /// Writes a file (parents created), returning its real path.
    pub fn file(&self, host_path: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let real = self.real(host_path);
        if let Some(parent) = real.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&real, content).expect("write fixture file");
        real
    }

    /// Writes a file and sets its mode.
    pub fn file_mode(&self, host_path: &str, content: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let real = self.file(host_path, content);
        self.chmod(host_path, mode);
        real
    }

    pub fn chmod(&self, host_path: &str, mode: u32) {
        fs::set_permissions(self.real(host_path), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Sets owner and group by number (the test runs as root in CI).
    pub fn chown(&self, host_path: &str, uid: u32, gid: u32) {
        std::os::unix::fs::lchown(self.real(host_path), Some(uid), Some(gid)).expect("chown");
    }

    /// Writes `content` gzip-compressed.
    pub fn gzip(&self, host_path: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(content.as_ref()).expect("gzip");
        self.file(host_path, encoder.finish().expect("gzip finish"))
    }

    pub fn dir(&self, host_path: &str) -> PathBuf {
        let real = self.real(host_path);
        fs::create_dir_all(&real).expect("create dir");
        real
    }

    /// A symlink at `host_path` pointing at `target` (verbatim: absolute targets are host paths).
    pub fn symlink(&self, target: &str, host_path: &str) {
        let real = self.real(host_path);
        if let Some(parent) = real.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        symlink(target, real).expect("symlink");
    }

    /// `proc/<pid>/cmdline` with NUL-separated arguments (and a trailing NUL, as the kernel writes).
    pub fn process(&self, pid: u32, argv: &[&str]) {
        let mut cmdline = argv.join("\0").into_bytes();
        cmdline.push(0);
        self.file(&format!("/proc/{pid}/cmdline"), cmdline);
    }

    /// The basic host identity files every fixture has.
    pub fn identity(&self, hostname: &str, release: &str, pretty_name: &str) {
        self.file("/proc/sys/kernel/hostname", format!("{hostname}\n"));
        self.file("/proc/sys/kernel/osrelease", format!("{release}\n"));
        self.file(
            "/etc/os-release",
            format!("NAME=\"Ubuntu\"\nPRETTY_NAME=\"{pretty_name}\"\nID=ubuntu\n"),
        );
    }

    /// A `hardnode` command with `--root` set to this root.
    pub fn hardnode(&self, args: &[&str]) -> Command {
        let mut command = hardnode();
        command.args(args).arg("--root").arg(self.path());
        command
    }

    /// Runs `hardnode check --format json` (plus `args`) and parses the report.
    pub fn check_json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut full = vec!["check", "--format", "json"];
        full.extend_from_slice(args);
        let output = self.hardnode(&full).output().expect("run hardnode");
        (code(&output), json(&output))
    }
}

pub fn hardnode() -> Command {
    let mut command = Command::cargo_bin("hardnode").expect("hardnode binary");
    command.env_remove("NO_COLOR");
    command
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The result object for rule `id` in a report.
pub fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .and_then(|results| results.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no result for {id} in {report:#}"))
}

/// The status of rule `id` in a report.
pub fn status<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    result(report, id)["status"].as_str().unwrap_or("?")
}

/// All evidence details and paths of rule `id`, joined, for `contains` assertions.
pub fn evidence_text(report: &serde_json::Value, id: &str) -> String {
    let finding = result(report, id);
    let mut text = String::new();
    for evidence in finding["evidence"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "{} {} {}\n",
            evidence["source"], evidence["path"], evidence["detail"]
        ));
    }
    text.push_str(finding["reason"].as_str().unwrap_or(""));
    text
}

/// True when the test runs in CI, where a missing tool or privilege must fail, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Whether root-only tests can run; in CI not being root is a failure.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "{test} needs root and CI runs as root");
    eprintln!("{test}: skipped (needs root)");
    false
}

/// Whether `tool` is on PATH; in CI a missing tool is a failure.
pub fn require_tool(test: &str, tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    if !found {
        assert!(!in_ci(), "{test} needs {tool}; scripts/test.sh installs it");
        eprintln!("{test}: skipped ({tool} not installed)");
    }
    found
}

/// Path of a file shipped in the repository (examples, test data).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A node root for report-format and fleet tests whose run has every status: `kernel.seccomp`
/// pass, `kernel.seccomp-filter` fail (when `weak`), `kernel.apparmor` warn (when `weak`),
/// `apparmor.profiles` error (its profile list is a directory), `seccomp.profiles` skip (no
/// profile directory).
pub fn mixed_node(hostname: &str, weak: bool) -> Root {
    let root = Root::new();
    let release = "5.15.0-105-generic";
    root.identity(hostname, release, "Ubuntu 22.04.4 LTS");
    let option = |name: &str, on: bool| {
        if on {
            format!("{name}=y\n")
        } else {
            format!("# {name} is not set\n")
        }
    };
    root.file(
        &format!("/boot/config-{release}"),
        format!(
            "CONFIG_SECCOMP=y\n{}{}",
            option("CONFIG_SECCOMP_FILTER", !weak),
            option("CONFIG_SECURITY_APPARMOR", !weak)
        ),
    );
    root.file("/sys/module/apparmor/parameters/enabled", "Y\n");
    root.file(
        "/sys/kernel/security/lsm",
        "lockdown,capability,yama,apparmor",
    );
    root.dir("/sys/kernel/security/apparmor/profiles");
    root
}

/// A `--benchmark` file with a rule whose text has every character markup formats must escape.
pub const HOSTILE_BENCHMARK: &str = r#"
[[rule]]
id = "odd.markup"
cis = "9.9.9"
section = "kernel <odd> & \"quoted\""
title = "Title with <xml> & \"quotes\" and 'apostrophes'\nand a second line"
severity = "low"
scored = true
probe = { kernel_config = "CONFIG_NOT_THERE_AT_ALL" }
expect = { eq = "y" }
remediation = "Rebuild with <CONFIG_NOT_THERE_AT_ALL=y> & reboot"
"#;
