//! Fuzz targets, run on stable Rust as property tests (proptest): each target mutates the seed
//! corpus in `fuzz/corpus/<target>/` (flipped, inserted, deleted and duplicated bytes,
//! truncation) or generates input from scratch, and feeds it to one parser. The property is
//! that the parser returns — no panic, no stack overflow, no hang — and, where it says more,
//! what it returns is consistent.
//!
//! `cargo test` runs a few cases per target (`HARDNODE_FUZZ_CASES`, default 24) so the suite
//! stays fast; `scripts/fuzz.sh` runs each target for a bounded time
//! (`HARDNODE_FUZZ_SECONDS`). A failure prints the minimal input: add it to the corpus and as a
//! regression test named after what broke.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use hardnode::host::HostRoot;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The seed files of one target.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| std::fs::read(entry.expect("corpus entry").path()).expect("read seed"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

/// Bytes that matter to the parsers under test.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\0\n\t :=-{}[]\"'&*!#,\\()".to_vec()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), interesting_byte()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
        (
            any::<usize>(),
            prop::collection::vec(interesting_byte(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 1..256usize).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        let at = |i: &usize| if len == 0 { 0 } else { i % (len + 1) };
        match mutation {
            Mutation::Flip(i, byte) if len > 0 => bytes[i % len] = *byte,
            Mutation::Flip(..) => bytes.push(0),
            Mutation::Insert(i, new) => {
                let at = at(i);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let start = at(i);
                let end = (start + n).min(len);
                bytes.drain(start..end);
            }
            Mutation::Duplicate(i, n) => {
                let start = at(i);
                let end = (start + n).min(len);
                let chunk = bytes[start..end].to_vec();
                bytes.splice(start..start, chunk);
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
        }
    }
    bytes
}

/// A seed with mutations applied, or (one time in eight) arbitrary bytes.
fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = seeds.len();
    prop_oneof![
        7 => (0..count, prop::collection::vec(mutation(), 0..8))
            .prop_map(move |(index, mutations)| apply(seeds[index].clone(), &mutations)),
        1 => prop::collection::vec(interesting_byte(), 0..512),
    ]
}

/// Runs `property` over mutated seeds of `target`, for `HARDNODE_FUZZ_CASES` cases, repeated
/// until `HARDNODE_FUZZ_SECONDS` have passed when that is set.
fn fuzz(target: &str, property: impl Fn(&[u8]) + Clone) {
    let cases = env_number("HARDNODE_FUZZ_CASES", 24) as u32;
    let deadline = Instant::now() + Duration::from_secs(env_number("HARDNODE_FUZZ_SECONDS", 0));
    let strategy = input(corpus(target));
    let mut rounds = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            ..Config::default()
        });
        let property = property.clone();
        let result = runner.run(&strategy, move |bytes| {
            property(&bytes);
            Ok::<(), TestCaseError>(())
        });
        if let Err(TestError::Fail(reason, minimal)) = result {
            panic!(
                "{target}: {reason}\nminimal input ({} bytes): {:?}",
                minimal.len(),
                String::from_utf8_lossy(&minimal)
            );
        }
        rounds += 1;
        if Instant::now() >= deadline {
            break;
        }
    }
    eprintln!("{target}: {} cases", rounds * u64::from(cases));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn fuzz_args() {
    fuzz("args", |bytes| {
        let args: Vec<String> = text(bytes).lines().map(String::from).collect();
        let parsed = hardnode::host::flags::parse(&args, &["--anonymous-auth", "--profiling"]);
        let _ = format!("{parsed:?}");
        let mut argv = vec!["hardnode".to_string()];
        argv.extend(args);
        let _ = hardnode::cli::Cli::try_parse_from(argv);
    });
}

#[test]
fn fuzz_kubelet_yaml() {
    fuzz("kubelet_yaml", |bytes| {
        use hardnode::host::components::document;
        if let Ok(parsed) = document::parse(&text(bytes)) {
            let leaves = document::flatten(&parsed.root);
            assert!(
                leaves
                    .keys()
                    .all(|key| !key.is_empty() || leaves.len() == 1)
            );
        }
    });
}

#[test]
fn fuzz_seccomp() {
    fuzz("seccomp", |bytes| {
        let _ = hardnode::seccomp::validate(bytes);
    });
}

#[test]
fn fuzz_kernel_config() {
    fuzz("kernel_config", |bytes| {
        if let Ok(options) = hardnode::host::kernel::parse_kernel_config(bytes) {
            assert!(options.keys().all(|key| !key.is_empty()), "{options:?}");
        }
    });
}

#[test]
fn fuzz_apparmor_profiles() {
    fuzz("apparmor_profiles", |bytes| {
        let _ = format!(
            "{:?}",
            hardnode::host::apparmor::parse_profiles(&text(bytes))
        );
    });
}

#[test]
fn fuzz_mountinfo() {
    fuzz("mountinfo", |bytes| {
        let text = text(bytes);
        let mounts = hardnode::host::containers::parse_mountinfo(&text);
        assert!(mounts.len() <= text.lines().count());
    });
}

#[test]
fn fuzz_sshd_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc/ssh/sshd_config.d")).expect("mkdir");
    let root = HostRoot::new(dir.path()).expect("root");
    let config = dir.path().join("etc/ssh/sshd_config");
    let keywords: BTreeSet<String> = ["permitrootlogin", "passwordauthentication"]
        .map(String::from)
        .into();
    fuzz("sshd_config", move |bytes| {
        std::fs::write(&config, bytes).expect("write sshd_config");
        let facts = hardnode::host::sshd::gather(&root, &keywords);
        let lines = text(bytes).lines().count();
        for values in facts.settings.values() {
            assert!(values.iter().all(|v| v.line >= 1), "{values:?}");
            assert!(
                values
                    .iter()
                    .all(|v| v.path != Path::new("/etc/ssh/sshd_config") || v.line <= lines),
                "{values:?}"
            );
        }
    });
}
