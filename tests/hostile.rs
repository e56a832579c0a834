//! Hostile input: whatever is found on a node — files that are empty, binary, huge, FIFOs,
//! directories, symlinks to devices or in loops, YAML bombs, wrong types, garbled `/proc` —
//! hardnode does not panic or hang, the affected rule is `error` with the reason, the rest of the
//! report is intact, and the exit code is the documented one (0/1 for a report, 2 for a bad
//! benchmark or site config).

mod common;

use common::{Root, code, result, status};

/// The rules every kubelet case looks at; `kernel.seccomp` is the unrelated one that must stay
/// intact.
const ONLY: &str = "kubelet.anonymous-auth,kubelet.read-only-port,kernel.seccomp";

/// A node with a kubelet reading `--config=/var/lib/kubelet/config.yaml` and a kernel config.
fn kubelet_node() -> Root {
    let root = Root::new();
    root.identity("node1", "5.15.0-105-generic", "Ubuntu 22.04.4 LTS");
    root.file("/boot/config-5.15.0-105-generic", "CONFIG_SECCOMP=y\n");
    root.process(
        100,
        &["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"],
    );
    root
}

/// Runs the check, asserts the report is whole and the kernel rule untouched, returns it.
fn check(root: &Root) -> serde_json::Value {
    let output = root
        .hardnode(&["check", "--format", "json", "--only", ONLY])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run hardnode");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "hardnode panicked: {stderr}");
    assert!(
        matches!(code(&output), 0 | 1),
        "exit {} for a report: {stderr}",
        code(&output)
    );
    let report = common::json(&output);
    assert_eq!(status(&report, "kernel.seccomp"), "pass", "{report:#}");
    report
}

/// The kubelet rules are `error`, their reason containing `why`.
fn assert_kubelet_error(report: &serde_json::Value, why: &str) {
    for id in ["kubelet.anonymous-auth", "kubelet.read-only-port"] {
        let finding = result(report, id);
        assert_eq!(finding["status"], "error", "{id}: {finding:#}");
        let reason = finding["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(why),
            "{id}: reason {reason:?} lacks {why:?}"
        );
    }
}

const CONFIG: &str = "/var/lib/kubelet/config.yaml";

#[test]
fn empty_kubelet_config_is_an_error_as_the_kubelet_refuses_it() {
    let root = kubelet_node();
    root.file(CONFIG, "");
    assert_kubelet_error(&check(&root), "empty");
}

#[test]
fn binary_kubelet_config_is_an_error() {
    let root = kubelet_node();
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    root.file(CONFIG, bytes);
    assert_kubelet_error(&check(&root), "invalid YAML");
}

#[test]
fn huge_kubelet_config_reports_the_read_cap() {
    let root = kubelet_node();
    root.dir("/var/lib/kubelet");
    let file = std::fs::File::create(root.real(CONFIG)).expect("create");
    file.set_len(100 * 1024 * 1024).expect("sparse 100 MB");
    assert_kubelet_error(&check(&root), "read cap");
}

#[test]
fn kubelet_config_that_is_a_directory_is_an_error() {
    let root = kubelet_node();
    root.dir(CONFIG);
    assert_kubelet_error(&check(&root), "is a directory");
}

#[test]
fn kubelet_config_fifo_does_not_block() {
    let root = kubelet_node();
    root.dir("/var/lib/kubelet");
    nix::unistd::mkfifo(&root.real(CONFIG), nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    assert_kubelet_error(&check(&root), "FIFO");
}

#[test]
fn kubelet_config_symlink_to_dev_zero_is_not_read_forever() {
    let root = kubelet_node();
    // Re-rooted: /dev/zero of the root, here a real character device when the test may make one.
    root.symlink("/dev/zero", CONFIG);
    root.dir("/dev");
    let made = nix::sys::stat::mknod(
        &root.real("/dev/zero"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 5),
    )
    .is_ok();
    let report = check(&root);
    assert_kubelet_error(
        &report,
        if made {
            "character device"
        } else {
            "does not exist"
        },
    );
}

#[test]
fn kubelet_config_symlink_loop_is_an_error() {
    let root = kubelet_node();
    root.symlink("config.yaml", CONFIG);
    assert_kubelet_error(&check(&root), "symbolic links");
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let root = kubelet_node();
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        bomb.push_str(&format!(
            "{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    root.file(CONFIG, bomb);
    let report = check(&root);
    assert_kubelet_error(&report, "invalid YAML");
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let root = kubelet_node();
    let depth = 100_000;
    root.file(
        CONFIG,
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
    );
    let report = check(&root);
    assert_kubelet_error(&report, "invalid");
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_stack_overflow() {
    let root = kubelet_node();
    let depth = 100_000;
    root.file(
        CONFIG,
        format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    );
    assert_kubelet_error(&check(&root), "invalid YAML");
}

#[test]
fn read_only_port_of_the_wrong_type_is_an_error_not_a_warning() {
    let root = kubelet_node();
    root.file(
        CONFIG,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: \"abc\"\n",
    );
    let report = check(&root);
    let finding = result(&report, "kubelet.read-only-port");
    assert_eq!(finding["status"], "error", "{finding:#}");
    assert!(
        finding["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("abc is not a number")
    );
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
}

#[test]
fn duplicate_keys_last_wins_and_are_reported() {
    let root = kubelet_node();
    root.file(
        CONFIG,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\nreadOnlyPort: 10255\n",
    );
    let report = check(&root);
    assert_eq!(status(&report, "kubelet.read-only-port"), "warn");
    let evidence = common::evidence_text(&report, "kubelet.read-only-port");
    assert!(evidence.contains("duplicate key"), "{evidence}");
}

#[test]
fn config_path_climbing_out_of_the_root_stays_inside() {
    let root = Root::new();
    root.identity("node1", "5.15.0-105-generic", "Ubuntu 22.04.4 LTS");
    root.file("/boot/config-5.15.0-105-generic", "CONFIG_SECCOMP=y\n");
    root.process(
        100,
        &[
            "/usr/bin/kubelet",
            "--config=../../../../../../../../etc/shadow",
        ],
    );
    // Inside the root, /etc/shadow is a kubelet config that disables anonymous auth.
    root.file(
        "/etc/shadow",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\n",
    );
    let report = check(&root);
    assert_eq!(
        status(&report, "kubelet.anonymous-auth"),
        "pass",
        "{report:#}"
    );
    let evidence = common::evidence_text(&report, "kubelet.anonymous-auth");
    assert!(
        !evidence.contains(&root.path().display().to_string()),
        "{evidence}"
    );
}

// --- /proc ---

#[test]
fn cmdline_with_invalid_utf8_no_nuls_and_a_huge_argument() {
    let root = kubelet_node();
    root.file(
        CONFIG,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
    );
    root.file("/proc/200/cmdline", b"\xff\xfe\xfd garbage \x80");
    root.file(
        "/proc/201/cmdline",
        b"no-nuls-at-all-just-one-long-title with spaces",
    );
    let mut huge = b"/usr/bin/sleep\0".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    root.file("/proc/202/cmdline", huge);
    let report = check(&root);
    // Found by its cmdline among the garbled ones; v1beta1 config default: anonymous off.
    assert_eq!(status(&report, "kubelet.anonymous-auth"), "pass");
}

#[test]
fn vanished_and_garbled_proc_entries_do_not_break_the_container_audit() {
    let root = kubelet_node();
    root.file(
        CONFIG,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
    );
    // A pid directory with nothing left in it: it exited mid-scan.
    root.dir("/proc/300");
    // A container process whose status is garbled and whose namespaces are gone.
    let cgroup = "0::/kubepods.slice/kubepods-pod1234.slice/cri-containerd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n";
    root.process(301, &["/app"]);
    root.file("/proc/301/cgroup", cgroup);
    root.file(
        "/proc/301/status",
        "Name:\nCapEff:\tzzzz\nUid:\n\0\0\0NoNewPrivs\t\n",
    );
    let mut mountinfo = String::new();
    for i in 0..10_000 {
        mountinfo.push_str(&format!(
            "{i} 1 0:{i} / /mnt/with\\040space{i} rw - tmpfs tmpfs rw\n"
        ));
    }
    root.file("/proc/1/mountinfo", mountinfo);
    let output = root
        .hardnode(&["check", "--format", "json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run hardnode");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(code(&output), 0 | 1),
        "exit {}: {stderr}",
        code(&output)
    );
    let report = common::json(&output);
    assert!(report["results"].as_array().is_some_and(|r| r.len() > 50));
    let facts = root.hardnode(&["facts"]).output().expect("facts");
    assert!(
        matches!(code(&facts), 0 | 1),
        "{}",
        String::from_utf8_lossy(&facts.stderr)
    );
    let facts = common::json(&facts);
    let mounts = &facts["containers"]["host"]["mounts"]["value"];
    if let Some(mounts) = mounts.as_array() {
        assert_eq!(mounts.len(), 10_000);
        assert_eq!(mounts[0]["mount_point"], "/mnt/with space0");
    }
}

// --- TOML: exit 2 with the file and line ---

fn usage_error(root: &Root, args: &[&str], file: &str, line: &str) {
    let output = root.hardnode(args).output().expect("run hardnode");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 2, "{args:?}: {stderr}");
    assert!(stderr.contains(file), "{stderr} lacks {file}");
    assert!(stderr.contains(line), "{stderr} lacks {line}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn benchmark_with_unknown_probe_operator_or_key_exits_2_with_file_and_line() {
    let root = kubelet_node();
    let head = "[[rule]]\nid = \"site.x\"\nsection = \"site\"\ntitle = \"x\"\nseverity = \"low\"\nscored = true\nremediation = \"x\"\n";
    let cases = [
        (
            "probe.toml",
            format!("{head}probe = {{ nonsense = \"x\" }}\nexpect = {{ eq = 1 }}\n"),
            "line 8",
        ),
        (
            "operator.toml",
            format!("{head}probe = {{ sysctl = \"kernel.panic\" }}\nexpect = {{ roughly = 1 }}\n"),
            "line 9",
        ),
        (
            "key.toml",
            format!(
                "{head}colour = \"red\"\nprobe = {{ sysctl = \"kernel.panic\" }}\nexpect = {{ eq = 1 }}\n"
            ),
            "line",
        ),
    ];
    for (name, text, line) in cases {
        let path = root.file(&format!("/bench/{name}"), text);
        let path = path.display().to_string();
        usage_error(&root, &["check", "--benchmark", &path], name, line);
    }
}

#[test]
fn site_config_with_unknown_key_exits_2_with_file_and_line() {
    let root = kubelet_node();
    let path = root.file(
        "/site/config.toml",
        "# site\n[apparmor]\nrequired_profilez = [\"x\"]\n",
    );
    let path = path.display().to_string();
    usage_error(
        &root,
        &["--config", &path, "check"],
        "config.toml",
        "line 3",
    );
}

#[test]
fn sshd_config_including_itself_many_times_stops_with_an_error() {
    let root = kubelet_node();
    let self_include = "Include /etc/ssh/sshd_config /etc/ssh/sshd_config /etc/ssh/sshd_config /etc/ssh/sshd_config\n";
    root.file(
        "/etc/ssh/sshd_config",
        format!(
            "{self_include}Include /etc/ssh/{}b\nPermitRootLogin no\n",
            "*a".repeat(30)
        ),
    );
    root.file(
        &format!("/etc/ssh/{}", "a".repeat(60)),
        "PermitRootLogin yes\n",
    );
    let output = root
        .hardnode(&["check", "--format", "json", "--only", "ssh.root-login"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run hardnode");
    assert!(
        matches!(code(&output), 0 | 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = common::json(&output);
    let finding = result(&report, "ssh.root-login");
    assert_eq!(finding["status"], "error", "{finding:#}");
    let reason = finding["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("include loop"), "{reason}");
}
