//! `scripts/fleet-check.sh` for real: an OpenSSH `sshd` started by the test on 127.0.0.1 on a
//! free high port, with a throwaway host key, client key and config of its own (the system's
//! sshd and its configuration are not touched), stopped by PID afterwards. Two "nodes" are the
//! same sshd with different fixture roots (per-host arguments in the hosts file); a third points
//! at a closed port and must be reported unreachable.

mod common;

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{code, mixed_node, repo_file, require_root, require_tool};

/// The test's own sshd; stopped (SIGTERM to its PID, then reaped) when dropped.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "hardnode-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
}

fn sshd_path() -> PathBuf {
    ["/usr/sbin/sshd", "/usr/bin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect("sshd installed")
}

fn start_sshd(dir: &Path) -> Sshd {
    start_sshd_with(dir, false)
}

/// `noexec`: sshd runs in a mount namespace of its own (`unshare --mount`, gone with it) where
/// `<dir>/noexec` is a tmpfs mounted noexec, as CIS asks of /tmp; the machine's mounts are
/// untouched.
fn start_sshd_with(dir: &Path, noexec: bool) -> Sshd {
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).expect("authorized_keys");
    // sshd refuses to start without its privilege-separation directory; Debian creates it at
    // service start, which this machine never does. An empty runtime directory, nothing else.
    fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    // The "remote" temp dir, so the test can see the copied binary is removed afterwards.
    fs::create_dir_all(dir.join("remote-tmp")).expect("remote tmp");
    let port = free_port();
    let config = dir.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
             AuthorizedKeysFile {dir}/authorized_keys\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n\
             StrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n\
             SetEnv TMPDIR={dir}/remote-tmp\n",
            dir = dir.display()
        ),
    )
    .expect("sshd_config");
    let mut command = if noexec {
        fs::create_dir_all(dir.join("noexec")).expect("noexec dir");
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o noexec,size=1g tmpfs '{}' && exec '{}' -D -e -f '{}'",
                dir.join("noexec").display(),
                sshd_path().display(),
                config.display()
            ));
        command
    } else {
        let mut command = Command::new(sshd_path());
        command.args(["-D", "-e", "-f"]).arg(&config);
        command
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("sshd.log")).expect("log"))
        .spawn()
        .expect("start sshd");
    let sshd = Sshd { child, port };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not listen: {}",
            fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sshd
}

/// The client side: an ssh config naming the nodes, trusting only the test's host key.
fn client_config(dir: &Path, port: u16, closed_port: u16) -> PathBuf {
    let host_key = fs::read_to_string(dir.join("host_key.pub")).expect("host key");
    let mut fields = host_key.split_whitespace();
    let (kind, key) = (fields.next().expect("type"), fields.next().expect("key"));
    fs::write(
        dir.join("known_hosts"),
        format!("hardnode-test-sshd {kind} {key}\n"),
    )
    .expect("known_hosts");
    let common = format!(
        "  HostName 127.0.0.1\n  User root\n  IdentityFile {dir}/client_key\n  IdentitiesOnly yes\n\
         \x20 UserKnownHostsFile {dir}/known_hosts\n  StrictHostKeyChecking yes\n\
         \x20 HostKeyAlias hardnode-test-sshd\n  LogLevel ERROR\n",
        dir = dir.display()
    );
    let path = dir.join("ssh_config");
    fs::write(
        &path,
        format!(
            "Host node-a node-b\n  Port {port}\n{common}\nHost node-down\n  Port {closed_port}\n{common}"
        ),
    )
    .expect("ssh_config");
    path
}

fn leftover_remote_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir.join("remote-tmp"))
        .expect("remote tmp")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn fleet_check_over_real_ssh_collects_reports_and_names_unreachable_hosts() {
    let test = "fleet_check_over_real_ssh_collects_reports_and_names_unreachable_hosts";
    if !require_root(test) {
        return;
    }
    for tool in ["sshd", "ssh", "scp", "ssh-keygen", "flock"] {
        if !require_tool(test, tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let sshd = start_sshd(dir.path());
    let ssh_config = client_config(dir.path(), sshd.port, free_port());

    let healthy = mixed_node("node-a", false);
    let weak = mixed_node("node-b", true);
    let hosts = dir.path().join("hosts");
    fs::write(
        &hosts,
        format!(
            "# lab nodes\nnode-a --root {}\n\n  node-b --root {}  \nnode-down\n",
            healthy.path().display(),
            weak.path().display()
        ),
    )
    .expect("hosts file");
    let reports = dir.path().join("reports");

    let run = |hosts: &Path| {
        Command::new("timeout")
            .arg("300")
            .arg(repo_file("scripts/fleet-check.sh"))
            .arg("-F")
            .arg(&ssh_config)
            .arg("-b")
            .arg(env!("CARGO_BIN_EXE_hardnode"))
            .arg("-o")
            .arg(&reports)
            .args(["-j", "2", "-t", "60"])
            .arg(hosts)
            .stdin(Stdio::null())
            .output()
            .expect("run fleet-check.sh")
    };
    let output = run(&hosts);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        code(&output),
        3,
        "an unreachable host is exit 3\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("node-a: ok\n"), "{stderr}");
    assert!(stderr.contains("node-b: ok, 1 failing rule(s)"), "{stderr}");
    let down = stderr
        .lines()
        .find(|line| line.starts_with("node-down: "))
        .unwrap_or_else(|| panic!("no line for node-down:\n{stderr}"));
    assert!(
        down.starts_with("node-down: unreachable: ") && down.contains("refused"),
        "{down}"
    );
    assert!(
        !stderr.contains('['),
        "no progress counter when not a terminal"
    );
    assert!(
        stderr.contains("1 host(s) could not be checked: node-down"),
        "{stderr}"
    );

    // One report per reachable node, fetched back, plus the merged page.
    for (node, fail) in [("node-a", 0), ("node-b", 1)] {
        let report: serde_json::Value = serde_json::from_slice(
            &fs::read(reports.join(format!("{node}.json"))).expect("report"),
        )
        .expect("JSON report");
        assert_eq!(report["host"]["hostname"], node);
        assert_eq!(report["summary"]["fail"], fail);
    }
    assert!(!reports.join("node-down.json").exists());
    let page = fs::read_to_string(reports.join("fleet.html")).expect("fleet.html");
    assert!(
        page.contains("data-count=\"nodes\">2<"),
        "two nodes on the page"
    );
    assert!(
        stdout.starts_with("hardnode fleet: 2 nodes"),
        "merged matrix on stdout:\n{stdout}"
    );
    assert_eq!(
        leftover_remote_files(dir.path()),
        Vec::<String>::new(),
        "the copied binary is removed from the host"
    );

    // Every host reachable: the exit code is the merge's (node-b fails a rule).
    let reachable = dir.path().join("hosts-reachable");
    fs::write(
        &reachable,
        format!(
            "node-a --root {}\nnode-b --root {}\n",
            healthy.path().display(),
            weak.path().display()
        ),
    )
    .expect("hosts file");
    let output = run(&reachable);
    assert_eq!(
        code(&output),
        1,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // On a terminal every host line carries a [done/total] counter.
    if require_tool(test, "script") {
        let command = format!(
            "{} -F {} -b {} -o {} -j 2 -t 60 {} > /dev/null",
            repo_file("scripts/fleet-check.sh").display(),
            ssh_config.display(),
            env!("CARGO_BIN_EXE_hardnode"),
            reports.display(),
            reachable.display()
        );
        let output = Command::new("timeout")
            .args(["120", "script", "-qec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("run under script");
        let terminal = String::from_utf8_lossy(&output.stdout);
        for counter in ["[1/2] node-", "[2/2] node-"] {
            assert!(terminal.contains(counter), "{counter} in {terminal:?}");
        }
    }
    drop(sshd);
}

#[test]
fn fleet_check_remote_dir_use_installed_and_a_noexec_tmp() {
    let test = "fleet_check_remote_dir_use_installed_and_a_noexec_tmp";
    if !require_root(test) {
        return;
    }
    for tool in ["sshd", "ssh", "scp", "ssh-keygen", "flock", "unshare"] {
        if !require_tool(test, tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let sshd = start_sshd_with(dir.path(), true);
    let ssh_config = client_config(dir.path(), sshd.port, free_port());
    let node = mixed_node("node-a", false);
    let hosts = dir.path().join("hosts");
    fs::write(&hosts, format!("node-a --root {}\n", node.path().display())).expect("hosts");
    let reports = dir.path().join("reports");
    let run = |extra: &[&str]| {
        Command::new("timeout")
            .arg("300")
            .arg(repo_file("scripts/fleet-check.sh"))
            .arg("-F")
            .arg(&ssh_config)
            .arg("-b")
            .arg(env!("CARGO_BIN_EXE_hardnode"))
            .arg("-o")
            .arg(&reports)
            .args(["-j", "1", "-t", "60"])
            .args(extra)
            .arg(&hosts)
            .stdin(Stdio::null())
            .output()
            .expect("run fleet-check.sh")
    };
    let noexec = dir.path().join("noexec").display().to_string();

    // The copy lands on a noexec mount (what a CIS-hardened /tmp is): exit 126 named, with the way
    // out, and the copy is removed.
    let output = run(&["--remote-dir", &noexec]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 3, "{stderr}");
    assert!(
        stderr.contains("node-a: cannot execute the copied binary in")
            && stderr.contains("noexec")
            && stderr.contains("--use-installed"),
        "{stderr}"
    );

    // --remote-dir on an exec mount: the check runs, the copy is removed afterwards.
    let exec_dir = dir.path().join("remote-exec");
    let output = run(&["--remote-dir", &exec_dir.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(stderr.contains("node-a: ok"), "{stderr}");
    assert_eq!(
        fs::read_dir(&exec_dir).expect("remote dir").count(),
        0,
        "the copy is removed"
    );

    // --use-installed: nothing copied (the default remote tmp stays empty), the installed binary
    // runs.
    let output = run(&["--use-installed", env!("CARGO_BIN_EXE_hardnode")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(stderr.contains("node-a: ok"), "{stderr}");
    assert!(leftover_remote_files(dir.path()).is_empty());
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(reports.join("node-a.json")).expect("report"))
            .expect("JSON");
    assert_eq!(report["host"]["hostname"], "node-a");
    drop(sshd);
}

#[test]
fn documented_sudo_rule_is_valid_and_not_flagged_by_the_nopasswd_rule() {
    let test = "documented_sudo_rule_is_valid_and_not_flagged_by_the_nopasswd_rule";
    if !require_tool(test, "visudo") {
        return;
    }
    let script = fs::read_to_string(repo_file("scripts/fleet-check.sh")).expect("script");
    let rule = script
        .lines()
        .find(|line| line.contains("NOPASSWD:"))
        .map(|line| line.trim_start_matches('#').trim().to_string())
        .expect("the documented sudo rule");
    assert!(rule.contains("/usr/local/bin/hardnode check"), "{rule}");
    // sudo's own parser accepts it.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hardnode");
    fs::write(&file, format!("{rule}\n")).expect("write");
    let output = Command::new("visudo")
        .args(["-c", "-q", "-f"])
        .arg(&file)
        .output()
        .expect("visudo");
    assert!(
        output.status.success(),
        "visudo: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // And hardnode's rule does not flag it (it names one command, not ALL).
    let root = common::Root::new();
    root.identity("node-s", "6.8.0", "Ubuntu");
    root.file(
        "/etc/sudoers",
        "root ALL=(ALL:ALL) ALL\n#includedir /etc/sudoers.d\n",
    );
    root.file("/etc/sudoers.d/hardnode", format!("{rule}\n"));
    let (_, report) = root.check_json(&["--only", "accounts.sudo-nopasswd"]);
    assert_eq!(
        common::status(&report, "accounts.sudo-nopasswd"),
        "pass",
        "{report}"
    );
}
