//! Regression: a root without `/sys` (a DaemonSet that did not mount it, a partial copy) made
//! `apparmor.enabled` fail with "the kernel was built without AppArmor". The sysfs rules now say
//! sysfs is not available under the root (`error`, with the reason); a mounted sysfs without
//! `/sys/module/apparmor` still fails.

mod common;

use common::{Root, result, status};

fn node() -> Root {
    let root = Root::new();
    root.identity("no-sys", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root
}

#[test]
fn missing_sys_is_reported_as_sysfs_not_available_not_as_a_kernel_without_apparmor() {
    let root = node();
    let (_, report) = root.check_json(&["--only", "apparmor"]);
    for id in ["apparmor.enabled", "apparmor.profiles"] {
        assert_eq!(status(&report, id), "error", "{id}: {report}");
        let reason = result(&report, id)["reason"].as_str().expect("reason");
        assert!(
            reason.contains("sysfs is not available under the root"),
            "{id}: {reason}"
        );
        assert!(!reason.contains("built without AppArmor"), "{reason}");
    }
    // An empty /sys (the mount point without the mount) is the same.
    root.dir("/sys");
    let (_, report) = root.check_json(&["--only", "apparmor.enabled"]);
    assert_eq!(status(&report, "apparmor.enabled"), "error");
}

#[test]
fn mounted_sysfs_without_the_apparmor_module_still_fails() {
    let root = node();
    root.file("/sys/kernel/security/lsm", "lockdown,capability,yama");
    root.dir("/sys/module/overlay");
    let (exit, report) = root.check_json(&["--only", "apparmor.enabled"]);
    assert_eq!(status(&report, "apparmor.enabled"), "fail", "{report}");
    assert_eq!(exit, 1);
    let evidence = common::evidence_text(&report, "apparmor.enabled");
    assert!(evidence.contains("built without AppArmor"), "{evidence}");
}

#[test]
fn container_apparmor_rule_cannot_tell_without_sysfs() {
    let root = node();
    root.host_init();
    let cg = "0::/kubepods/pod0f1e2d3c-0000-4000-8000-000000000001/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    root.container_process(900, &common::ContainerProc::confined("app", cg));
    let (_, report) = root.check_json(&["--only", "containers.apparmor"]);
    assert_eq!(status(&report, "containers.apparmor"), "error", "{report}");
    assert!(
        result(&report, "containers.apparmor")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("sysfs is not available")),
        "{report}"
    );
}
