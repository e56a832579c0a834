//! Fault tests for `hardnode firewall`, each in a network namespace the test makes and, for the
//! faults, a private mount namespace (`unshare -m`) inside it: the xtables lock held by another
//! program (on a private tmpfs `/run`, so this machine's lock is never taken), a read-only `/etc`
//! (a read-only bind mount) and a full `/etc` (a 64 KiB tmpfs filled to the last byte).
//!
//! What must hold: a table that cannot be listed is an error (exit 3, "could not verify",
//! naming the binary) for `status`, `apply` and `remove`, never a skip or a default backend; a
//! persistence write that cannot happen leaves the kernel and the files unchanged.

mod common;

use std::process::Output;

use common::{NetNs, Root, require_netns};

const CHAIN: &str = "HARDNODE-APISERVER";
const BASE: &[&str] = &[
    "--container-cidr",
    "10.244.0.0/16",
    "--apiserver",
    "192.0.2.10:6443",
];

fn managed(ns: &NetNs, binary: &str) -> bool {
    ns.rules(binary).iter().any(|rule| rule.contains(CHAIN))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Quotes one word for `sh -c`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Runs `setup` then hardnode with `args` inside a private mount namespace in `ns`; the shell
/// prints `exit=<code>` and then whatever `after` prints.
fn in_private_mounts(ns: &NetNs, root: &Root, setup: &str, args: &[&str], after: &str) -> String {
    let binary = env!("CARGO_BIN_EXE_hardnode");
    let mut command = vec![quote(binary)];
    command.extend(args.iter().map(|arg| quote(arg)));
    command.push("--root".into());
    command.push(quote(root.path().to_str().expect("utf8")));
    let script = format!(
        "set -e; {setup}; set +e; HARDNODE_XTABLES_WAIT=1 {}; echo \"exit=$?\"; {after}",
        command.join(" ")
    );
    let output = ns.run(
        "unshare",
        &["-m", "--propagation", "private", "sh", "-c", &script],
    );
    text(&output)
}

fn exit_of(output: &str) -> Option<i32> {
    output
        .lines()
        .find_map(|line| line.strip_prefix("exit="))
        .and_then(|code| code.trim().parse().ok())
}

/// The xtables lock held: status, apply and remove of the legacy backend each say they could not
/// verify (exit 3), remove leaves the rules it could not list, and detection without `--backend`
/// names the table instead of falling back to nft.
#[test]
fn a_held_xtables_lock_is_an_error_for_status_apply_remove_and_detection() {
    if !require_netns("a_held_xtables_lock_is_an_error") {
        return;
    }
    let ns = NetNs::new("xtlock");
    let root = Root::new();
    let legacy: Vec<&str> = [BASE, &["--backend", "legacy", "--format", "json"]].concat();
    let apply: Vec<&str> = [&["firewall", "apply"][..], &legacy].concat();
    let output = ns.hardnode(&root, &apply);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(managed(&ns, "iptables-legacy"));

    let hold = "mount -t tmpfs tmpfs /run";
    for args in [
        [&["firewall", "status"][..], &legacy].concat(),
        apply.clone(),
        vec!["firewall", "remove", "--format", "json"],
        // No --backend: detection cannot read the legacy tables.
        [&["firewall", "apply"][..], BASE, &["--format", "json"]].concat(),
    ] {
        let binary = env!("CARGO_BIN_EXE_hardnode");
        let mut command = vec![quote(binary)];
        command.extend(args.iter().map(|arg| quote(arg)));
        command.push("--root".into());
        command.push(quote(root.path().to_str().expect("utf8")));
        let script = format!(
            "set -e; {hold}; set +e; flock /run/xtables.lock env HARDNODE_XTABLES_WAIT=1 {}; \
             echo \"exit=$?\"",
            command.join(" ")
        );
        let output = text(&ns.run(
            "unshare",
            &["-m", "--propagation", "private", "sh", "-c", &script],
        ));
        assert_eq!(exit_of(&output), Some(3), "{args:?}: {output}");
        assert!(output.contains("could not verify"), "{args:?}: {output}");
        assert!(output.contains("iptables-legacy"), "{args:?}: {output}");
        assert!(!output.contains("\"verified\": true"), "{args:?}: {output}");
        // The rules it could not list are still there, and nothing went to nft instead.
        assert!(managed(&ns, "iptables-legacy"), "{args:?} removed rules");
        assert!(!managed(&ns, "iptables-nft"), "{args:?} wrote nft rules");
    }
    // Lock free again: the removal goes through and verifies.
    let output = ns.hardnode(&root, &["firewall", "remove", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(!managed(&ns, "iptables-legacy"));
}

/// A read-only `/etc`: apply fails before the kernel changes; remove fails before the kernel
/// changes, leaving the applied rules and their persistence together.
#[test]
fn a_read_only_etc_leaves_the_kernel_and_the_files_unchanged() {
    if !require_netns("a_read_only_etc_leaves_the_kernel_and_the_files_unchanged") {
        return;
    }
    let ns = NetNs::new("roetc");
    let root = Root::new();
    root.file("/etc/rc.local", "#!/bin/sh\n# site\nexit 0\n");
    let etc = quote(root.real("/etc").to_str().expect("utf8"));
    let read_only = format!("mount --bind {etc} {etc}; mount -o remount,bind,ro {etc}");
    let apply: Vec<&str> = [&["firewall", "apply"][..], BASE, &["--format", "json"]].concat();

    let output = in_private_mounts(&ns, &root, &read_only, &apply, "");
    assert_eq!(exit_of(&output), Some(3), "{output}");
    assert!(output.contains("nothing was changed"), "{output}");
    assert!(output.contains("Read-only file system"), "{output}");
    assert!(
        !managed(&ns, "iptables-nft"),
        "apply changed the kernel: {output}"
    );
    assert_eq!(
        std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local"),
        "#!/bin/sh\n# site\nexit 0\n"
    );

    let output = ns.hardnode(&root, &apply);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let persisted = std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local");
    let output = in_private_mounts(
        &ns,
        &root,
        &read_only,
        &["firewall", "remove", "--format", "json"],
        "",
    );
    assert_eq!(exit_of(&output), Some(3), "{output}");
    assert!(output.contains("nothing was changed"), "{output}");
    assert!(
        managed(&ns, "iptables-nft"),
        "remove changed the kernel: {output}"
    );
    assert_eq!(
        std::fs::read_to_string(root.real("/etc/rc.local")).expect("rc.local"),
        persisted
    );
    let output = ns.hardnode(&root, &["firewall", "remove", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

/// A full `/etc` (a 64 KiB tmpfs with no byte left): apply fails before the kernel changes and
/// leaves rc.local as it was, with no temp file behind.
#[test]
fn a_full_etc_leaves_the_kernel_and_the_files_unchanged() {
    if !require_netns("a_full_etc_leaves_the_kernel_and_the_files_unchanged") {
        return;
    }
    let ns = NetNs::new("fulletc");
    let root = Root::new();
    root.dir("/etc");
    let etc = quote(root.real("/etc").to_str().expect("utf8"));
    let full = format!(
        "mount -t tmpfs -o size=64k tmpfs {etc}; printf '#!/bin/sh\\n# site\\nexit 0\\n' > \
         {etc}/rc.local; chmod 755 {etc}/rc.local; \
         dd if=/dev/zero of={etc}/filler bs=4096 2>/dev/null || true; \
         dd if=/dev/zero of={etc}/filler2 bs=1 2>/dev/null || true"
    );
    let after = format!("echo '--- rc.local'; cat {etc}/rc.local; echo '--- ls'; ls -a {etc}");
    let apply: Vec<&str> = [&["firewall", "apply"][..], BASE, &["--format", "json"]].concat();
    let output = in_private_mounts(&ns, &root, &full, &apply, &after);
    assert_eq!(exit_of(&output), Some(3), "{output}");
    assert!(output.contains("nothing was changed"), "{output}");
    assert!(output.contains("No space left on device"), "{output}");
    assert!(
        !managed(&ns, "iptables-nft"),
        "apply changed the kernel: {output}"
    );
    let (_, rest) = output
        .split_once("--- rc.local\n")
        .expect("rc.local printed");
    let (rc_local, listing) = rest.split_once("--- ls\n").expect("listing printed");
    assert_eq!(rc_local, "#!/bin/sh\n# site\nexit 0\n");
    assert!(!listing.contains(".tmp"), "temp file left: {listing}");
}

/// Two firewall runs in one network namespace serialise on one lock, whatever `--root` each
/// has: the lock is keyed by the namespace (`/run/hardnode-netns-<inode>.lock`), not the root.
#[test]
fn the_firewall_lock_is_one_per_network_namespace_whatever_the_root() {
    use std::os::unix::fs::MetadataExt;
    if !common::require_root("the_firewall_lock_is_one_per_network_namespace") {
        return;
    }
    let inode = std::fs::metadata("/proc/self/ns/net").expect("ns").ino();
    let path = hardnode::remedy::network_lock_path().expect("lock path");
    assert_eq!(
        path,
        std::path::PathBuf::from(format!("/run/hardnode-netns-{inode}.lock"))
    );
    let first = hardnode::remedy::Lock::network_namespace().expect("first lock");
    let error =
        hardnode::remedy::Lock::network_namespace_within(std::time::Duration::from_millis(200))
            .expect_err("a second run waits for the first");
    assert!(error.to_string().contains("holds the lock"), "{error}");
    drop(first);
    let _again = hardnode::remedy::Lock::network_namespace().expect("lock after release");
}
