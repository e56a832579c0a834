//! Crash consistency: `profiles install` and `firewall apply`/`remove` killed with SIGKILL at
//! random points. After every kill each file hardnode writes holds either its old or its new
//! content — never a part — and the next run removes the temp files the killed one left,
//! converges and verifies.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{NetNs, Root, require_netns, require_root};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Delays(u64);

impl Delays {
    fn next_micros(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % max
    }
}

/// Starts `command`, kills it with SIGKILL after `delay` (if still running), reaps it.
fn run_killed(mut command: Command, delay: Duration) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(delay);
    // Only the child this test started, by its pid.
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let _ = child.wait();
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".hardnode-") && name.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn profiles_install_killed_at_random_points_leaves_old_or_new_files_and_converges() {
    if !require_root("profiles_install_killed_at_random_points") {
        return;
    }
    const RUNS: usize = 150;
    let root = Root::new();
    let source = tempfile::tempdir().expect("source");
    fs::create_dir_all(source.path().join("profiles")).expect("mkdir");
    let new = fs::read(common::repo_file("examples/seccomp/profiles/audit.json")).expect("read");
    fs::write(source.path().join("profiles/audit.json"), &new).expect("write");
    let old = b"{\"defaultAction\": \"SCMP_ACT_ERRNO\"}\n".to_vec();
    let target = root.file("/var/lib/kubelet/seccomp/profiles/audit.json", &old);
    let binary = env!("CARGO_BIN_EXE_hardnode");
    let seccomp = source.path().to_str().expect("utf8");
    let mut delays = Delays(0x9e37_79b9_7f4a_7c15);
    let mut saw_old = 0;
    let mut saw_new = 0;
    for run in 0..RUNS {
        let mut command = Command::new(binary);
        command.args(["profiles", "install", "--seccomp", seccomp, "--root"]);
        command.arg(root.path());
        run_killed(command, Duration::from_micros(delays.next_micros(15_000)));
        let now = fs::read(&target).expect("the profile is never missing");
        assert!(
            now == old || now == new,
            "run {run}: a partial file: {now:?}"
        );
        if now == new {
            saw_new += 1;
            fs::write(&target, &old).expect("reset");
        } else {
            saw_old += 1;
        }
    }
    eprintln!("{RUNS} kills: {saw_old} left the old file, {saw_new} the new one");
    // The next run cleans what the killed ones left and converges.
    let output = root
        .hardnode(&[
            "profiles",
            "install",
            "--seccomp",
            seccomp,
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fs::read(&target).expect("read"), new);
    let dir = root.real("/var/lib/kubelet/seccomp/profiles");
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

#[test]
fn firewall_apply_and_remove_killed_at_random_points_leave_whole_files_and_converge() {
    if !require_netns("firewall_killed_at_random_points") {
        return;
    }
    const RUNS: usize = 100;
    let ns = NetNs::new("crash");
    let root = Root::new();
    let original = "#!/bin/sh\n# site\nexit 0\n";
    root.file_mode("/etc/rc.local", original, 0o755);
    let binary = env!("CARGO_BIN_EXE_hardnode");
    let base = [
        "--container-cidr",
        "10.244.0.0/16",
        "--apiserver",
        "192.0.2.10:6443",
    ];
    let mut delays = Delays(0x2545_f491_4f6c_dd1d);
    for run in 0..RUNS {
        let verb = if run % 2 == 0 { "apply" } else { "remove" };
        let mut command = ns.command(binary, &["firewall", verb]);
        if verb == "apply" {
            command.args(base);
        }
        command.arg("--root").arg(root.path());
        run_killed(command, Duration::from_micros(delays.next_micros(60_000)));
        let rc_local =
            fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local is never missing");
        let whole = rc_local == original
            || (rc_local.contains("# BEGIN hardnode firewall")
                && rc_local.contains("# END hardnode firewall")
                && rc_local.ends_with("exit 0\n"));
        assert!(whole, "run {run}: a partial rc.local:\n{rc_local}");
    }
    // A full apply and remove afterwards converge, verify, and leave no temp file.
    let mut args = vec!["firewall", "apply"];
    args.extend(base);
    args.extend(["--format", "json"]);
    let output = ns.hardnode(&root, &args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = ns.hardnode(&root, &["firewall", "remove", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local"),
        original
    );
    assert_eq!(temp_files(&root.real("/etc")), Vec::<String>::new());
}
