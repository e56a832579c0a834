//! Validation of seccomp profiles in the OCI / kubelet `localhostProfile` JSON format.
//!
//! Pure: it takes bytes and returns a summary or every problem found, each with its JSON path,
//! so `hardnode seccomp lint` and the `seccomp.profiles` rule give the same answer. A profile the
//! runtime would reject makes a pod fail to start on this node, which is why names are checked
//! against the syscall tables of the architectures Kubernetes nodes run (x86_64, aarch64).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Actions runc / libseccomp accept for `defaultAction` and each rule's `action`.
pub const ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// Architectures libseccomp knows (`SCMP_ARCH_*`).
pub const ARCHITECTURES: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// Argument comparison operators (`args[].op`).
pub const COMPARE_OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// The action that makes a profile a deny-list: everything not listed is allowed.
pub const ALLOW: &str = "SCMP_ACT_ALLOW";

const X86_64_SYSCALLS: &str = include_str!("syscalls/x86_64.txt");
const AARCH64_SYSCALLS: &str = include_str!("syscalls/aarch64.txt");

/// True when `name` is a syscall of x86_64 or aarch64.
pub fn is_known_syscall(name: &str) -> bool {
    sorted_lines_contain(X86_64_SYSCALLS, name) || sorted_lines_contain(AARCH64_SYSCALLS, name)
}

/// Whether `table`, lines sorted in byte order (`scripts/gen-syscalls.sh` writes them so; a test
/// keeps them so), has the line `name`: a binary search over byte offsets, each probe widened to
/// the line it falls in. No set is built at run time for a few lookups per profile.
fn sorted_lines_contain(table: &str, name: &str) -> bool {
    let bytes = table.as_bytes();
    // [low, high): the part of `table` still searched; `low` is always a line start.
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = bytes
            .get(..middle)
            .and_then(|before| before.iter().rposition(|&byte| byte == b'\n'))
            .map_or(0, |newline| newline + 1);
        let end = bytes
            .get(middle..)
            .and_then(|after| after.iter().position(|&byte| byte == b'\n'))
            .map_or(bytes.len(), |offset| middle + offset);
        let Some(line) = table.get(start..end) else {
            return false;
        };
        match line.cmp(name) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => low = end + 1,
            std::cmp::Ordering::Greater => high = start,
        }
    }
    false
}

/// What a valid profile does, for evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileSummary {
    pub default_action: String,
    pub architectures: Vec<String>,
    pub syscall_rules: usize,
    /// `defaultAction: SCMP_ACT_ALLOW`: only the listed syscalls are restricted.
    pub deny_list: bool,
}

/// One thing wrong with a profile: where (`$.syscalls[2].names[0]`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Validates one profile. `Err` carries every problem, not only the first.
pub fn validate(bytes: &[u8]) -> Result<ProfileSummary, Vec<Problem>> {
    let document: Value = serde_json::from_slice(bytes).map_err(|error| {
        vec![Problem {
            path: "$".into(),
            message: format!("not valid JSON: {error}"),
        }]
    })?;
    let mut problems = Vec::new();
    let Some(object) = document.as_object() else {
        return Err(vec![problem("$", "a profile must be a JSON object")]);
    };

    let default_action = match object.get("defaultAction") {
        None => {
            problems.push(problem("$.defaultAction", "missing"));
            String::new()
        }
        Some(value) => {
            check_action(value, "$.defaultAction", &mut problems);
            value.as_str().unwrap_or_default().to_string()
        }
    };
    if let Some(errno) = object.get("defaultErrnoRet")
        && !errno.is_u64()
    {
        problems.push(problem(
            "$.defaultErrnoRet",
            &format!("must be a non-negative integer, found {errno}"),
        ));
    }

    let architectures = check_architectures(object.get("architectures"), &mut problems);
    if let Some(arch_map) = object.get("archMap") {
        check_arch_map(arch_map, &mut problems);
    }

    let syscall_rules = match object.get("syscalls") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(rules)) => {
            for (index, rule) in rules.iter().enumerate() {
                check_syscall_rule(rule, &format!("$.syscalls[{index}]"), &mut problems);
            }
            rules.len()
        }
        Some(other) => {
            problems.push(problem(
                "$.syscalls",
                &format!("must be an array, found {}", kind(other)),
            ));
            0
        }
    };

    if problems.is_empty() {
        Ok(ProfileSummary {
            deny_list: default_action == ALLOW,
            default_action,
            architectures,
            syscall_rules,
        })
    } else {
        Err(problems)
    }
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        path: path.into(),
        message: message.into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_action(value: &Value, path: &str, problems: &mut Vec<Problem>) {
    match value.as_str() {
        Some(action) if ACTIONS.contains(&action) => {}
        Some(action) => problems.push(problem(
            path,
            &format!(
                "unknown action {action:?} (expected one of {})",
                ACTIONS.join(", ")
            ),
        )),
        None => problems.push(problem(
            path,
            &format!("must be a string, found {}", kind(value)),
        )),
    }
}

fn check_architecture(value: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match value.as_str() {
        Some(arch) if ARCHITECTURES.contains(&arch) => Some(arch.to_string()),
        Some(arch) => {
            problems.push(problem(path, &format!("unknown architecture {arch:?}")));
            None
        }
        None => {
            problems.push(problem(
                path,
                &format!("must be a string, found {}", kind(value)),
            ));
            None
        }
    }
}

fn check_architectures(value: Option<&Value>, problems: &mut Vec<Problem>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                check_architecture(item, &format!("$.architectures[{index}]"), problems)
            })
            .collect(),
        Some(other) => {
            problems.push(problem(
                "$.architectures",
                &format!("must be an array, found {}", kind(other)),
            ));
            Vec::new()
        }
    }
}

fn check_arch_map(value: &Value, problems: &mut Vec<Problem>) {
    let Some(entries) = value.as_array() else {
        problems.push(problem(
            "$.archMap",
            &format!("must be an array, found {}", kind(value)),
        ));
        return;
    };
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("$.archMap[{index}]");
        match entry.get("architecture") {
            Some(arch) => {
                check_architecture(arch, &format!("{path}.architecture"), problems);
            }
            None => problems.push(problem(&format!("{path}.architecture"), "missing")),
        }
        if let Some(Value::Array(subs)) = entry.get("subArchitectures") {
            for (sub_index, sub) in subs.iter().enumerate() {
                check_architecture(
                    sub,
                    &format!("{path}.subArchitectures[{sub_index}]"),
                    problems,
                );
            }
        }
    }
}

fn check_syscall_rule(rule: &Value, path: &str, problems: &mut Vec<Problem>) {
    let Some(object) = rule.as_object() else {
        problems.push(problem(
            path,
            &format!("must be an object, found {}", kind(rule)),
        ));
        return;
    };
    match (object.get("names"), object.get("name")) {
        (Some(Value::Array(names)), _) if names.is_empty() => {
            problems.push(problem(&format!("{path}.names"), "is empty"));
        }
        (Some(Value::Array(names)), _) => {
            for (index, name) in names.iter().enumerate() {
                check_syscall_name(name, &format!("{path}.names[{index}]"), problems);
            }
        }
        (Some(other), _) => problems.push(problem(
            &format!("{path}.names"),
            &format!("must be an array of syscall names, found {}", kind(other)),
        )),
        // The pre-1.0 OCI form with a single `name` is still accepted by runc.
        (None, Some(name)) => check_syscall_name(name, &format!("{path}.name"), problems),
        (None, None) => problems.push(problem(&format!("{path}.names"), "missing")),
    }
    match object.get("action") {
        Some(action) => check_action(action, &format!("{path}.action"), problems),
        None => problems.push(problem(&format!("{path}.action"), "missing")),
    }
    if let Some(args) = object.get("args")
        && !args.is_null()
    {
        let Some(args) = args.as_array() else {
            problems.push(problem(
                &format!("{path}.args"),
                &format!("must be an array, found {}", kind(args)),
            ));
            return;
        };
        for (index, arg) in args.iter().enumerate() {
            let arg_path = format!("{path}.args[{index}]");
            match arg.get("index").and_then(Value::as_u64) {
                Some(0..=5) => {}
                _ => problems.push(problem(
                    &format!("{arg_path}.index"),
                    "must be an argument index from 0 to 5",
                )),
            }
            if arg.get("value").is_some_and(|value| !value.is_u64()) {
                problems.push(problem(
                    &format!("{arg_path}.value"),
                    "must be a non-negative integer",
                ));
            }
            match arg.get("op").and_then(Value::as_str) {
                Some(op) if COMPARE_OPS.contains(&op) => {}
                Some(op) => problems.push(problem(
                    &format!("{arg_path}.op"),
                    &format!("unknown comparison {op:?}"),
                )),
                None => problems.push(problem(&format!("{arg_path}.op"), "missing")),
            }
        }
    }
}

fn check_syscall_name(name: &Value, path: &str, problems: &mut Vec<Problem>) {
    match name.as_str() {
        Some(name) if is_known_syscall(name) => {}
        Some(name) => problems.push(problem(
            path,
            &format!("{name:?} is not a syscall on x86_64 or aarch64"),
        )),
        None => problems.push(problem(
            path,
            &format!("must be a string, found {}", kind(name)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_profile_is_valid() {
        let summary = validate(
            br#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
                 "syscalls":[{"names":["read","write","openat"],"action":"SCMP_ACT_ALLOW"}]}"#,
        )
        .expect("valid");
        assert_eq!(summary.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(summary.syscall_rules, 1);
        assert!(!summary.deny_list);
    }

    #[test]
    fn default_allow_is_a_deny_list() {
        let summary = validate(br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]}"#)
            .expect("valid");
        assert!(summary.deny_list);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let problems = validate(
            br#"{"defaultAction":"SCMP_ACT_NOPE","architectures":["SCMP_ARCH_Z80"],
                 "syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"},
                             {"names":["read","frobnicate"],"action":"ALLOW"}]}"#,
        )
        .expect_err("invalid");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$.defaultAction",
                "$.architectures[0]",
                "$.syscalls[0].names",
                "$.syscalls[1].names[1]",
                "$.syscalls[1].action"
            ]
        );
        assert!(problems[3].message.contains("frobnicate"));
    }

    #[test]
    fn not_json_and_not_an_object() {
        assert!(
            validate(b"{ nope").expect_err("bad")[0]
                .message
                .contains("not valid JSON")
        );
        assert!(
            validate(b"[]").expect_err("bad")[0]
                .message
                .contains("object")
        );
        assert_eq!(validate(b"{}").expect_err("bad")[0].path, "$.defaultAction");
    }

    #[test]
    fn syscall_tables_are_byte_sorted_and_searched_like_a_set() {
        for table in [X86_64_SYSCALLS, AARCH64_SYSCALLS] {
            let lines: Vec<&str> = table.lines().collect();
            assert!(lines.len() > 300);
            assert!(
                lines.windows(2).all(|pair| pair[0] < pair[1]),
                "a syscall table is not sorted in byte order with unique lines"
            );
            assert!(
                lines
                    .iter()
                    .all(|line| !line.is_empty() && line.trim() == *line)
            );
            for line in &lines {
                assert!(sorted_lines_contain(table, line), "{line}");
                for near in [
                    format!("{line}x"),
                    format!("{line} "),
                    line[1..].to_string(),
                ] {
                    assert_eq!(
                        sorted_lines_contain(table, &near),
                        lines.contains(&near.as_str()),
                        "{near:?}"
                    );
                }
            }
            for absent in ["", "\n", "0", "zzzz", "_", "a", "read\nwrite"] {
                assert!(!sorted_lines_contain(table, absent), "{absent:?}");
            }
        }
    }

    #[test]
    fn syscall_tables_cover_both_architectures() {
        assert!(is_known_syscall("arch_prctl")); // x86_64 only
        assert!(is_known_syscall("renameat2"));
        assert!(is_known_syscall("sync_file_range2")); // generic (arm64) only
        assert!(!is_known_syscall("read "));
        assert!(!is_known_syscall("syscalls"));
    }

    #[test]
    fn arguments_are_checked() {
        let problems = validate(
            br#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["personality"],
                 "action":"SCMP_ACT_ALLOW","args":[{"index":9,"value":0,"op":"SCMP_CMP_XX"}]}]}"#,
        )
        .expect_err("invalid");
        assert_eq!(problems.len(), 2);
    }
}
