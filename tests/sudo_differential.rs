//! `accounts.sudo-nopasswd` against the real sudo: the fixture's sudoers files are bind-mounted
//! over `/etc/sudoers` and `/etc/sudoers.d` inside a private mount namespace (`unshare --mount`;
//! the host's own files are never touched), and `sudo -l -U <user>` says what each user may run.
//! hardnode must name exactly the users sudo grants `NOPASSWD: ALL`.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Root, require_root, require_tool, result, status};

/// Users that exist on every Debian/Ubuntu system (`sudo -l -U` needs a real user).
const USERS: &[&str] = &["daemon", "bin", "sys", "sync", "nobody"];

/// The users `sudo -l -U` shows a NOPASSWD rule whose command is ALL for.
fn sudo_nopasswd_all(root: &Root) -> BTreeSet<String> {
    let listing: Vec<String> = USERS
        .iter()
        .map(|user| format!("echo '== {user}'; sudo -n -l -U {user} 2>&1"))
        .collect();
    let script = format!(
        "mount --bind '{}' /etc/sudoers && mount --bind '{}' /etc/sudoers.d && {{ {}; }}",
        root.real("/etc/sudoers").display(),
        root.real("/etc/sudoers.d").display(),
        listing.join("; ")
    );
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    let mut granted = BTreeSet::new();
    let mut user = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            user = name.to_string();
            continue;
        }
        assert!(
            !line.contains("syntax error"),
            "sudo rejects the fixture: {text}"
        );
        // `    (ALL) NOPASSWD: SETENV: ALL`: tags, then the command list.
        let Some((_, rest)) = line.split_once("NOPASSWD:") else {
            continue;
        };
        let command = rest
            .split_whitespace()
            .find(|word| !word.ends_with(':'))
            .unwrap_or_default()
            .trim_end_matches(',');
        if command == "ALL" {
            granted.insert(user.clone());
        }
    }
    granted
}

/// The users hardnode's evidence names (`line N: <user> ...`).
fn hardnode_nopasswd_all(root: &Root) -> (String, BTreeSet<String>) {
    let (_, report) = root.check_json(&["--only", "accounts.sudo-nopasswd"]);
    let names = result(&report, "accounts.sudo-nopasswd")["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|evidence| evidence["detail"].as_str())
        .filter_map(|detail| detail.split_once(": ").map(|(_, spec)| spec))
        .filter_map(|spec| spec.split_whitespace().next())
        .map(String::from)
        .collect();
    (status(&report, "accounts.sudo-nopasswd").to_string(), names)
}

#[test]
fn sudo_nopasswd_agrees_with_sudo_l() {
    let test = "sudo_nopasswd_agrees_with_sudo_l";
    if !require_root(test) || !require_tool(test, "unshare") || !require_tool(test, "sudo") {
        return;
    }
    let root = Root::new();
    root.identity("node1", "6.8.0", "Debian");
    root.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    root.file("/etc/shadow", "root:*:1::::::\n");
    root.file_mode(
        "/etc/sudoers",
        "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n\
         daemon ALL=(ALL) NOPASSWD: /usr/bin/id\n\
         # sync ALL=(ALL) NOPASSWD: ALL (a comment)\n\
         @includedir /etc/sudoers.d\n\
         #include /etc/sudoers.d/extra.conf\n",
        0o440,
    );
    // Continuation lines, read by includedir.
    root.file_mode(
        "/etc/sudoers.d/90-bin",
        "bin ALL=(ALL) \\\n    NOPASSWD:ALL\n",
        0o440,
    );
    // Skipped by includedir (a `.` in the name, a trailing `~`)...
    root.file_mode(
        "/etc/sudoers.d/old.bak",
        "sys ALL=(ALL) NOPASSWD: ALL\n",
        0o440,
    );
    root.file_mode(
        "/etc/sudoers.d/tmp~",
        "sys ALL=(ALL) NOPASSWD: ALL\n",
        0o440,
    );
    // ...but a file with a dot is read when included by name.
    root.file_mode(
        "/etc/sudoers.d/extra.conf",
        "nobody ALL = (root) NOPASSWD:SETENV: ALL\n",
        0o440,
    );

    let sudo = sudo_nopasswd_all(&root);
    assert_eq!(
        sudo,
        ["bin", "nobody"].map(String::from).into(),
        "the fixture exercises both kinds of grant"
    );
    let (verdict, hardnode) = hardnode_nopasswd_all(&root);
    assert_eq!(verdict, "warn");
    assert_eq!(hardnode, sudo);

    // Without the grants, sudo and hardnode agree there are none.
    root.file_mode("/etc/sudoers.d/90-bin", "bin ALL=(ALL) ALL\n", 0o440);
    root.file_mode(
        "/etc/sudoers.d/extra.conf",
        "nobody ALL = (root) NOPASSWD: /usr/bin/id\n",
        0o440,
    );
    assert!(sudo_nopasswd_all(&root).is_empty());
    let (verdict, hardnode) = hardnode_nopasswd_all(&root);
    assert_eq!(verdict, "pass");
    assert!(hardnode.is_empty(), "{hardnode:?}");
}
