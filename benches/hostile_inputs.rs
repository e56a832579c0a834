//! Criterion benchmark of hostile inputs that once made a run slow: an `sshd_config` with 10,000
//! glob `Include` lines over a directory of 300 files. The 256-file limit trips on the first
//! glob; the walk must stop there (one directory listing), not list the directory 10,000 times
//! (which took over a minute). A benchmark, not a timed test: run
//! `cargo bench --bench hostile_inputs` and compare with the budget in docs/security.md.

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hardnode::host::HostRoot;

fn sshd_includes(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf_d = dir.path().join("etc/ssh/sshd_config.d");
    std::fs::create_dir_all(&conf_d).expect("mkdir");
    for i in 0..300 {
        std::fs::write(conf_d.join(format!("{i:03}.conf")), "PermitRootLogin no\n")
            .expect("write include");
    }
    let mut config = String::new();
    for _ in 0..10_000 {
        config.push_str("Include /etc/ssh/sshd_config.d/*.conf\n");
    }
    std::fs::write(dir.path().join("etc/ssh/sshd_config"), config).expect("write config");
    let root = HostRoot::new(dir.path()).expect("root");
    let keywords: BTreeSet<String> = ["permitrootlogin".to_string()].into();
    let facts = hardnode::host::sshd::gather(&root, &keywords);
    assert!(
        facts
            .errors
            .iter()
            .any(|error| error.contains("more than 256 files")),
        "the include limit did not trip: {:?}",
        facts.errors
    );
    c.bench_function("sshd_config: 10,000 glob Includes of 300 files", |b| {
        b.iter(|| hardnode::host::sshd::gather(black_box(&root), &keywords))
    });
}

criterion_group!(benches, sshd_includes);
criterion_main!(benches);
