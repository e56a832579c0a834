//! The ssh rules against the real sshd: each fixture's `/etc/ssh` is bind-mounted over
//! `/etc/ssh` inside a private mount namespace (`unshare --mount`; the host's own `/etc/ssh` is
//! never touched) and `sshd -T -C user=…` prints what sshd really applies for each connection.
//! hardnode must pass a rule exactly when every such connection gets a compliant value.

mod common;

use std::process::Command;

use common::{Root, require_root, require_tool, status};

/// The values sshd applies for a connection by `user` (lower-cased keyword -> value).
fn sshd_effective(root: &Root, user: &str) -> (String, String) {
    let etc_ssh = root.real("/etc/ssh");
    let script = format!(
        "mount --bind '{}' /etc/ssh && \
         {{ [ -d /run/sshd ] || {{ mount -t tmpfs tmpfs /run && mkdir /run/sshd; }}; }} && \
         sshd -T -C user={user},host=client.example,addr=192.0.2.10",
        etc_ssh.display()
    );
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sshd -T failed: {}{}",
        text,
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |keyword: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{keyword} ")))
            .unwrap_or_else(|| panic!("sshd -T printed no {keyword}:\n{text}"))
            .trim()
            .to_string()
    };
    (value("permitrootlogin"), value("passwordauthentication"))
}

/// A fixture root with a host key (sshd -T needs one) and the given files under /etc/ssh.
fn fixture(files: &[(&str, &str)]) -> Root {
    let root = Root::new();
    root.identity("node1", "6.8.0", "Debian");
    root.dir("/etc/ssh/sshd_config.d");
    let key = root.real("/etc/ssh/ssh_host_ed25519_key");
    let generated = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(generated.success());
    for (path, text) in files {
        root.file(path, text);
    }
    root
}

/// A case's name, its files (host path, text) and the users to ask sshd about.
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

#[test]
fn ssh_rules_agree_with_sshd_t() {
    let test = "ssh_rules_agree_with_sshd_t";
    if !require_root(test)
        || !require_tool(test, "unshare")
        || !require_tool(test, "sshd")
        || !require_tool(test, "ssh-keygen")
    {
        return;
    }
    // Each case: files, and the users whose connections to ask sshd about (one matching no
    // Match block, plus one per `Match User`).
    let cases: Vec<Case> = vec![
        (
            "drop-in included first wins",
            vec![
                (
                    "/etc/ssh/sshd_config",
                    "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n",
                ),
                (
                    "/etc/ssh/sshd_config.d/50-cloud-init.conf",
                    "PasswordAuthentication yes\n",
                ),
            ],
            vec!["alice"],
        ),
        (
            "case variants and a relative include",
            vec![
                (
                    "/etc/ssh/sshd_config",
                    "include local.conf\npasswordauthentication=No\n",
                ),
                ("/etc/ssh/local.conf", "PERMITROOTLOGIN Yes\n"),
            ],
            vec!["alice"],
        ),
        (
            "defaults only",
            vec![("/etc/ssh/sshd_config", "Port 22\n")],
            vec!["alice"],
        ),
        (
            "compliant everywhere",
            vec![(
                "/etc/ssh/sshd_config",
                "PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 Match User backup\n  PermitRootLogin no\n",
            )],
            vec!["alice", "backup"],
        ),
        (
            "a Match User block overrides",
            vec![
                (
                    "/etc/ssh/sshd_config",
                    "PermitRootLogin no\nPasswordAuthentication no\n\
                     Match User backup\n  PermitRootLogin yes\n  Include /etc/ssh/backup.conf\n",
                ),
                ("/etc/ssh/backup.conf", "PasswordAuthentication yes\n"),
            ],
            vec!["alice", "backup"],
        ),
        (
            "Match all overrides every connection",
            vec![(
                "/etc/ssh/sshd_config",
                "PermitRootLogin no\nPasswordAuthentication no\nMatch all\nPermitRootLogin yes\n",
            )],
            vec!["alice"],
        ),
        (
            "a Match in an included file ends with that file",
            vec![
                (
                    "/etc/ssh/sshd_config",
                    "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n",
                ),
                (
                    "/etc/ssh/sshd_config.d/10-backup.conf",
                    "Match User backup\n  PasswordAuthentication no\n",
                ),
            ],
            vec!["alice", "backup"],
        ),
    ];
    for (name, files, users) in cases {
        let root = fixture(&files);
        let applied: Vec<(String, String)> = users
            .iter()
            .map(|user| sshd_effective(&root, user))
            .collect();
        let root_login_ok = applied.iter().all(|(value, _)| {
            matches!(
                value.as_str(),
                "no" | "prohibit-password" | "without-password"
            )
        });
        let password_ok = applied.iter().all(|(_, value)| value == "no");
        let (_, report) = root.check_json(&["--only", "ssh"]);
        let want = |ok: bool| if ok { "pass" } else { "fail" };
        assert_eq!(
            status(&report, "ssh.root-login"),
            want(root_login_ok),
            "{name}: sshd applies {applied:?}; hardnode: {:#}",
            common::result(&report, "ssh.root-login")
        );
        assert_eq!(
            status(&report, "ssh.password-auth"),
            want(password_ok),
            "{name}: sshd applies {applied:?}; hardnode: {:#}",
            common::result(&report, "ssh.password-auth")
        );
    }
}
