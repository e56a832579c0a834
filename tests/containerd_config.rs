//! containerd's configuration as containerd itself resolves it: for a corpus of config files
//! (versions 1, 2 and 3, short plugin keys, imports, malformed TOML), the real `containerd
//! --config FILE config dump` of the installed containerd (Debian's 1.6) is the oracle, and
//! hardnode — given a fixture root with the same files and the same package database entry —
//! must agree: a config containerd refuses is `error`, never a pass; a setting containerd
//! ignores does not count; an import replaces what containerd 1.x replaces.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Root, require_tool, result, status};

const CRI: &str = "io.containerd.grpc.v1.cri";

/// One corpus entry: the main file and its imports (relative paths, so the real containerd and
/// the fixture root resolve them the same way), and what it is about.
struct Case {
    name: &'static str,
    main: &'static str,
    imports: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "version 2, CRI plugin by URI",
        main: "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "version 1 (no header), plugins.cri",
        main: "[plugins.cri]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "version 2 with the short key plugins.cri: containerd 1.x refuses it",
        main: "version = 2\n[plugins.cri]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "version 3 runtime plugin: unknown to containerd 1.x, ignored",
        main: "version = 3\n[plugins.\"io.containerd.cri.v1.runtime\"]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "version 3 header with a version 2 CRI table: containerd 1.x applies it",
        main: "version = 3\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "an import naming the CRI table replaces it whole (containerd 1.x)",
        main: "version = 2\nimports = [\"conf.d/selinux.toml\"]\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        imports: &[(
            "conf.d/selinux.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  enable_selinux = true\n",
        )],
    },
    Case {
        name: "an import of another plugin leaves the CRI table alone",
        main: "version = 2\nimports = [\"conf.d/*.toml\"]\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        imports: &[(
            "conf.d/opt.toml",
            "version = 2\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"/opt/containerd\"\n",
        )],
    },
    Case {
        name: "an import that sets it",
        main: "version = 2\nimports = [\"conf.d/apparmor.toml\"]\n",
        imports: &[(
            "conf.d/apparmor.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        )],
    },
    Case {
        name: "the CRI plugin disabled: its settings do not apply",
        main: "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_apparmor = true\n",
        imports: &[],
    },
    Case {
        name: "malformed TOML",
        main: "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"\n  disable_apparmor = true\n",
        imports: &[],
    },
];

/// What containerd itself made of the file: `None` when it refuses it, `Some(None)` when its CRI
/// plugin is disabled (no CRI table in the dump), else whether AppArmor is disabled for it.
fn containerd_says(main: &Path) -> Option<Option<bool>> {
    let output = Command::new("containerd")
        .arg("--config")
        .arg(main)
        .args(["config", "dump"])
        .output()
        .expect("run containerd config dump");
    if !output.status.success() {
        return None;
    }
    let dump: toml::Table =
        toml::from_str(&String::from_utf8_lossy(&output.stdout)).expect("containerd dumps TOML");
    let Some(cri) = dump.get("plugins").and_then(|plugins| plugins.get(CRI)) else {
        return Some(None);
    };
    Some(Some(
        cri.get("disable_apparmor")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false),
    ))
}

/// The installed containerd package as `dpkg-query` reports it.
fn installed_package() -> (String, String) {
    for package in ["containerd", "containerd.io"] {
        let output = Command::new("dpkg-query")
            .args(["-W", "-f", "${Version}", package])
            .output();
        if let Ok(output) = output
            && output.status.success()
            && !output.stdout.is_empty()
        {
            return (
                package.to_string(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            );
        }
    }
    panic!("no containerd package installed (dpkg-query)");
}

#[test]
fn containerd_config_verdicts_agree_with_containerd_config_dump() {
    let test = "containerd_config_verdicts_agree_with_containerd_config_dump";
    if !require_tool(test, "containerd") || !require_tool(test, "dpkg-query") {
        return;
    }
    let (package, version) = installed_package();
    let major = version
        .split_once(':')
        .map_or(version.as_str(), |(_, rest)| rest)
        .chars()
        .next()
        .unwrap_or('0');
    for case in CASES {
        // The oracle, on real files.
        let real = tempfile::tempdir().expect("temp dir");
        let main = real.path().join("config.toml");
        std::fs::write(&main, case.main).expect("write main");
        for (path, text) in case.imports {
            let file = real.path().join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(file, text).expect("write import");
        }
        let oracle = containerd_says(&main);

        // hardnode, on a fixture root with the same files and package database.
        let root = Root::new();
        root.file("/etc/containerd/config.toml", case.main);
        for (path, text) in case.imports {
            root.file(&format!("/etc/containerd/{path}"), text);
        }
        root.file(
            "/var/lib/dpkg/status",
            format!("Package: {package}\nStatus: install ok installed\nVersion: {version}\n\n"),
        );
        root.file(
            &format!("/var/lib/dpkg/info/{package}.list"),
            "/.\n/usr\n/usr/bin\n/usr/bin/containerd\n",
        );
        let (_, report) = root.check_json(&["--only", "runtime.containerd-apparmor"]);
        let got = status(&report, "runtime.containerd-apparmor");
        let expected = match oracle {
            None => "error",
            Some(None) => "skip",
            Some(Some(true)) => "fail",
            Some(Some(false)) => "pass",
        };
        assert_eq!(
            got,
            expected,
            "{}: containerd {version} says {oracle:?}; hardnode: {:#}",
            case.name,
            result(&report, "runtime.containerd-apparmor")
        );
        if major == '1' {
            let evidence = result(&report, "runtime.containerd-apparmor").to_string();
            assert!(
                evidence.contains("containerd 1.x configuration semantics"),
                "{}: {evidence}",
                case.name
            );
        }
    }
}

/// Without a package database entry that owns the running binary, the version is unknown and
/// the evidence says which semantics were assumed.
#[test]
fn unknown_containerd_version_is_said_to_be_an_assumption() {
    let root = Root::new();
    root.file(
        "/etc/containerd/config.toml",
        "version = 3\n[plugins.\"io.containerd.cri.v1.runtime\"]\n  disable_apparmor = true\n",
    );
    let (_, report) = root.check_json(&["--only", "runtime.containerd-apparmor"]);
    assert_eq!(status(&report, "runtime.containerd-apparmor"), "fail");
    let evidence = result(&report, "runtime.containerd-apparmor").to_string();
    assert!(
        evidence.contains("containerd 2.x configuration semantics assumed"),
        "{evidence}"
    );
}
