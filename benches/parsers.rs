//! Criterion benchmarks of the parsers alone (cmdline, KubeletConfiguration, kernel config,
//! seccomp profile, mountinfo) and of one walk of `/proc` on a synthetic control-plane root.
//! The whole binary on synthetic roots, with peak RSS and the shell baseline, is
//! `scripts/bench.sh`. Run: `cargo bench --bench parsers`.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use hardnode::host::HostRoot;

fn corpus(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parsers(c: &mut Criterion) {
    let apiserver: Vec<u8> = corpus("fuzz/corpus/args/apiserver")
        .iter()
        .map(|b| if *b == b'\n' { 0 } else { *b })
        .collect();
    c.bench_function("cmdline split + flags (kube-apiserver)", |b| {
        b.iter(|| {
            let argv = hardnode::host::process::split_cmdline(black_box(&apiserver));
            hardnode::host::flags::parse(&argv[1..], &[])
        })
    });
    let kubelet =
        String::from_utf8_lossy(&corpus("fuzz/corpus/kubelet_yaml/kubeadm.yaml")).into_owned();
    c.bench_function("KubeletConfiguration YAML (kubeadm)", |b| {
        b.iter(|| {
            let document = hardnode::host::components::document::parse(black_box(&kubelet));
            document.map(|d| hardnode::host::components::document::flatten(&d.root))
        })
    });
    let mut kernel = String::new();
    for i in 0..6000 {
        kernel.push_str(&format!(
            "CONFIG_OPTION_{i}=y\n# CONFIG_OFF_{i} is not set\n"
        ));
    }
    c.bench_function("kernel config (12,000 lines)", |b| {
        b.iter(|| hardnode::host::kernel::parse_kernel_config(black_box(kernel.as_bytes())))
    });
    let wanted: std::collections::BTreeSet<String> = [
        "CONFIG_SECCOMP",
        "CONFIG_SECCOMP_FILTER",
        "CONFIG_SECURITY_APPARMOR",
        "CONFIG_OPTION_5999",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    c.bench_function("kernel config, 4 options kept (12,000 lines)", |b| {
        b.iter(|| {
            hardnode::host::kernel::parse_kernel_options(black_box(kernel.as_bytes()), |option| {
                wanted.contains(option)
            })
        })
    });
    let seccomp = corpus("fuzz/corpus/seccomp/fine-grained.json");
    c.bench_function("seccomp profile validation", |b| {
        b.iter(|| hardnode::seccomp::validate(black_box(&seccomp)))
    });
    let mut mountinfo = String::new();
    for i in 0..1000 {
        mountinfo.push_str(&format!(
            "{i} 1 0:{i} /var/lib/kubelet/pods/x/volumes /mnt/with\\040space{i} rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
        ));
    }
    c.bench_function("mountinfo (1,000 lines)", |b| {
        b.iter(|| hardnode::host::containers::parse_mountinfo(black_box(&mountinfo)))
    });
}

fn proc_walk(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/synth-root.py"))
        .arg(dir.path())
        .args(["--procs", "1000", "--containers", "40"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("scripts/synth-root.py");
    assert!(status.success());
    let root = HostRoot::new(dir.path()).expect("root");
    c.bench_function("/proc walk: component discovery, 1,000 processes", |b| {
        b.iter(|| hardnode::host::process::scan(black_box(&root)))
    });
    c.bench_function("/proc walk: container audit, 1,000 processes", |b| {
        b.iter(|| hardnode::host::containers::gather(black_box(&root)))
    });
}

criterion_group!(benches, parsers, proc_walk);
criterion_main!(benches);
