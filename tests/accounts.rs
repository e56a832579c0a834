//! Accounts, sudo, sshd and sysctl rules on fixture roots: sshd_config with Include, Match
//! blocks and case variants read as sshd reads it; passwd/shadow/sudoers; /proc/sys values.

mod common;

use common::{Root, code, evidence_text, result, status};

fn base() -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0", "Ubuntu 24.04");
    root
}

fn check(root: &Root, only: &str) -> serde_json::Value {
    root.check_json(&["--only", only]).1
}

#[test]
fn first_value_wins_across_includes_in_order() {
    let root = base();
    // Debian/Ubuntu layout: the drop-in directory is included first, so it wins.
    root.file(
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n",
    );
    root.file(
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "PasswordAuthentication yes\n",
    );
    root.file(
        "/etc/ssh/sshd_config.d/60-hardening.conf",
        "PasswordAuthentication no\n",
    );
    // Not a *.conf: never read.
    root.file(
        "/etc/ssh/sshd_config.d/70-old.conf.disabled",
        "PermitRootLogin yes\n",
    );
    let report = check(&root, "ssh");
    assert_eq!(status(&report, "ssh.password-auth"), "fail");
    let text = evidence_text(&report, "ssh.password-auth");
    assert!(
        text.contains("/etc/ssh/sshd_config.d/50-cloud-init.conf")
            && text.contains("line 1: PasswordAuthentication yes"),
        "{text}"
    );
    assert_eq!(status(&report, "ssh.root-login"), "pass");
    assert!(evidence_text(&report, "ssh.root-login").contains("line 2: PermitRootLogin no"));
}

#[test]
fn keywords_are_case_insensitive_and_relative_includes_are_under_etc_ssh() {
    let root = base();
    root.file(
        "/etc/ssh/sshd_config",
        "# PermitRootLogin no (a comment)\ninclude local.conf\npasswordauthentication=No\n",
    );
    root.file("/etc/ssh/local.conf", "PERMITROOTLOGIN yes\n");
    let report = check(&root, "ssh");
    assert_eq!(status(&report, "ssh.root-login"), "fail");
    assert!(evidence_text(&report, "ssh.root-login").contains("/etc/ssh/local.conf"));
    // `No` is `no` to sshd.
    assert_eq!(status(&report, "ssh.password-auth"), "pass");
}

#[test]
fn match_blocks_override_for_their_connections() {
    let root = base();
    root.file(
        "/etc/ssh/sshd_config",
        "PermitRootLogin no\nPasswordAuthentication no\n\
         Match Address 10.0.0.0/8\n  PasswordAuthentication no\n\
         Match User backup\n  PermitRootLogin yes\n  Include /etc/ssh/backup.conf\n\
         Match all\nPermitRootLogin yes\n",
    );
    root.file("/etc/ssh/backup.conf", "PasswordAuthentication yes\n");
    let report = check(&root, "ssh");
    // The Match User block lets root in with a password; the global value alone would pass.
    assert_eq!(status(&report, "ssh.root-login"), "fail");
    let actual = result(&report, "ssh.root-login")["actual"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(actual.contains("Match User backup"), "{actual}");
    // `Match all` is a Match block for every connection: its value overrides the global one.
    assert!(actual.contains("Match all"), "{actual}");
    assert!(evidence_text(&report, "ssh.root-login").contains("line 9"));
    // An Include inside a Match block belongs to that block.
    assert_eq!(status(&report, "ssh.password-auth"), "fail");
    let text = evidence_text(&report, "ssh.password-auth");
    assert!(
        text.contains("/etc/ssh/backup.conf") && text.contains("Match User backup"),
        "{text}"
    );
    assert!(text.contains("Match Address 10.0.0.0/8"), "{text}");
}

#[test]
fn unset_keywords_take_sshd_defaults_and_no_sshd_skips() {
    let root = base();
    root.file("/etc/ssh/sshd_config", "Port 22\n");
    let report = check(&root, "ssh");
    assert_eq!(status(&report, "ssh.root-login"), "pass");
    assert!(evidence_text(&report, "ssh.root-login").contains("default is prohibit-password"));
    assert_eq!(status(&report, "ssh.password-auth"), "fail");
    assert_eq!(
        result(&report, "ssh.password-auth")["evidence"][0]["source"],
        "default"
    );

    let root = base();
    let report = check(&root, "ssh");
    assert_eq!(status(&report, "ssh.root-login"), "skip");
    assert_eq!(status(&report, "ssh.password-auth"), "skip");
}

#[test]
fn accounts_uid0_and_empty_passwords() {
    let root = base();
    root.file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\ntoor:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n",
    );
    root.file_mode(
        "/etc/shadow",
        "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000::::::\nguest::19000::::::\nalice:!$6$x:19000::::::\n",
        0o640,
    );
    let (exit, report) = root.check_json(&["--only", "accounts"]);
    assert_eq!(exit, 1);
    assert_eq!(status(&report, "accounts.uid0"), "fail");
    let text = evidence_text(&report, "accounts.uid0");
    assert!(text.contains("line 3: toor has uid 0"), "{text}");
    assert!(!text.contains("alice"));
    assert_eq!(status(&report, "accounts.empty-passwords"), "fail");
    let text = evidence_text(&report, "accounts.empty-passwords");
    assert!(text.contains("line 3: guest"), "{text}");
    assert!(
        !text.contains("alice") && !text.contains("daemon"),
        "{text}"
    );
    // No hash ever reaches the report or the facts.
    let output = root
        .hardnode(&["facts", "--only", "accounts"])
        .output()
        .expect("facts");
    let facts = String::from_utf8_lossy(&output.stdout);
    assert!(!facts.contains("$6$"), "{facts}");
    assert!(facts.contains("\"locked\""), "{facts}");
    // No sudo installed.
    assert_eq!(status(&report, "accounts.sudo-nopasswd"), "skip");
}

#[test]
fn missing_shadow_is_an_error() {
    let root = base();
    root.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    let report = check(&root, "accounts");
    assert_eq!(status(&report, "accounts.uid0"), "pass");
    assert_eq!(status(&report, "accounts.empty-passwords"), "error");
}

#[test]
fn sudoers_includes_are_followed_as_sudo_does() {
    let root = base();
    root.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    root.file("/etc/shadow", "root:*:1::::::\n");
    root.file(
        "/etc/sudoers",
        "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n\
         # bob ALL=(ALL) NOPASSWD: ALL (a comment)\n@includedir /etc/sudoers.d\n#include extra\n",
    );
    root.file(
        "/etc/sudoers.d/90-cloud-init-users",
        "ubuntu ALL=(ALL) \\\n    NOPASSWD:ALL\n",
    );
    root.file(
        "/etc/sudoers.d/deploy",
        "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app\n",
    );
    // sudo skips names with a dot or ending in ~.
    root.file("/etc/sudoers.d/old.bak", "eve ALL=(ALL) NOPASSWD: ALL\n");
    root.file("/etc/sudoers.d/tmp~", "eve ALL=(ALL) NOPASSWD: ALL\n");
    root.file("/etc/extra", "%ops ALL = (root) NOPASSWD:SETENV: ALL\n");
    let (exit, report) = root.check_json(&["--only", "accounts.sudo-nopasswd"]);
    assert_eq!(exit, 0, "advisory: warn does not fail the run");
    assert_eq!(status(&report, "accounts.sudo-nopasswd"), "warn");
    let text = evidence_text(&report, "accounts.sudo-nopasswd");
    assert!(
        text.contains("/etc/sudoers.d/90-cloud-init-users"),
        "{text}"
    );
    assert!(text.contains("line 1: ubuntu ALL=(ALL)"), "{text}");
    assert!(
        text.contains("/etc/extra") && text.contains("%ops"),
        "{text}"
    );
    assert!(!text.contains("eve") && !text.contains("deploy"), "{text}");
    assert!(!text.contains("bob"), "{text}");
    assert_eq!(
        result(&report, "accounts.sudo-nopasswd")["actual"],
        "2 NOPASSWD: ALL grant(s)"
    );
}

fn sysctls(root: &Root, values: &[(&str, &str)]) {
    for (key, value) in values {
        root.file(
            &format!("/proc/sys/{}", key.replace('.', "/")),
            format!("{value}\n"),
        );
    }
}

const KUBELET_OK: &[(&str, &str)] = &[
    ("vm.overcommit_memory", "1"),
    ("vm.panic_on_oom", "0"),
    ("kernel.panic", "10"),
    ("kernel.panic_on_oops", "1"),
    ("kernel.keys.root_maxkeys", "1000000"),
    ("kernel.keys.root_maxbytes", "50000000"),
];

#[test]
fn kubelet_kernel_defaults_need_every_value() {
    let root = base();
    // The rule applies where a kubelet runs.
    root.process(4242, &["/usr/bin/kubelet"]);
    sysctls(&root, KUBELET_OK);
    let report = check(&root, "sysctl.kubelet-protect-kernel-defaults");
    // root_maxbytes above the minimum is accepted, as the kubelet accepts it.
    assert_eq!(
        status(&report, "sysctl.kubelet-protect-kernel-defaults"),
        "pass"
    );

    sysctls(
        &root,
        &[("kernel.panic", "0"), ("kernel.keys.root_maxkeys", "200")],
    );
    let (exit, report) = root.check_json(&["--only", "sysctl.kubelet-protect-kernel-defaults"]);
    assert_eq!(exit, 1);
    let finding = result(&report, "sysctl.kubelet-protect-kernel-defaults");
    assert_eq!(finding["status"], "fail");
    let reason = finding["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("kernel.panic=0") && reason.contains("kernel.keys.root_maxkeys=200"),
        "{reason}"
    );
    assert!(!reason.contains("overcommit"), "{reason}");
    assert!(
        evidence_text(&report, "sysctl.kubelet-protect-kernel-defaults")
            .contains("/proc/sys/kernel/panic")
    );

    // A site changes a threshold by overriding the rule's data, not code.
    let site = root.file(
        "/site/sysctl.toml",
        r#"
[[rule]]
id = "sysctl.kubelet-protect-kernel-defaults"
title = "site thresholds"
severity = "medium"
scored = true
probe = { sysctl = { "kernel.panic" = { eq = 0 }, "kernel.keys.root_maxkeys" = { gte = 100 } } }
remediation = "r"
"#,
    );
    let site = site.display().to_string();
    let (exit, report) = root.check_json(&[
        "--benchmark",
        &site,
        "--only",
        "sysctl.kubelet-protect-kernel-defaults",
    ]);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(
        status(&report, "sysctl.kubelet-protect-kernel-defaults"),
        "pass"
    );
}

#[test]
fn advisory_sysctls_warn_skip_and_error() {
    let root = base();
    sysctls(
        &root,
        &[
            ("kernel.kptr_restrict", "garbage"),
            ("kernel.dmesg_restrict", "0"),
            ("fs.protected_symlinks", "1"),
            ("fs.protected_hardlinks", "1"),
            ("fs.suid_dumpable", "2"),
            ("net.ipv4.conf.all.accept_redirects", "0"),
            ("net.ipv4.conf.all.send_redirects", "1"),
        ],
    );
    let (exit, report) = root.check_json(&["--only", "sysctl"]);
    // Only advisory rules have values here; none fails the run.
    assert_eq!(exit, 0);
    assert_eq!(status(&report, "sysctl.dmesg-restrict"), "warn");
    assert_eq!(status(&report, "sysctl.protected-symlinks"), "pass");
    assert_eq!(status(&report, "sysctl.send-redirects"), "warn");
    assert_eq!(status(&report, "sysctl.accept-redirects"), "pass");
    // A kernel without the parameter: the rule does not apply.
    assert_eq!(status(&report, "sysctl.unprivileged-bpf-disabled"), "skip");
    assert_eq!(status(&report, "sysctl.suid-dumpable"), "warn");
    // A value that is not a number cannot be compared with `gte`: error, not fail.
    assert_eq!(status(&report, "sysctl.kptr-restrict"), "error");
    // None of the kubelet's parameters exists in this fixture's /proc/sys.
    assert_eq!(
        status(&report, "sysctl.kubelet-protect-kernel-defaults"),
        "skip"
    );
}

#[test]
fn malformed_sysctl_probes_are_refused_at_load() {
    let root = base();
    let bad = root.file(
        "/site/bad.toml",
        r#"
[[rule]]
id = "sysctl.x"
title = "t"
severity = "low"
scored = false
probe = { sysctl = { "kernel.panic" = { eq = 1 } } }
expect = { eq = 1 }
remediation = "r"
"#,
    );
    let output = root
        .hardnode(&["check", "--benchmark", &bad.display().to_string()])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("drop the rule's `expect`"));

    let bad = root.file(
        "/site/bad2.toml",
        "[[rule]]\nid = \"sysctl.y\"\ntitle = \"t\"\nseverity = \"low\"\nscored = false\n\
         probe = { sysctl = \"../../etc/shadow\" }\nexpect = { eq = 1 }\nremediation = \"r\"\n",
    );
    let output = root
        .hardnode(&["check", "--benchmark", &bad.display().to_string()])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("kernel parameter"));
}
