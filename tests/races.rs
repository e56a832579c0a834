//! Race tests for every writer: while `fix files`, `profiles install` and `firewall apply` /
//! `remove` run, a background thread keeps exchanging a directory on their write path with a
//! symlink to a decoy outside the root (`renameat2(RENAME_EXCHANGE)`, atomic, as an attacker who
//! can rename under the root would). Hundreds of runs; the decoy must be untouched after every
//! one — same names, same bytes, same modes, same owners — and the runs must have changed the
//! real files often enough to show the race window was open.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use common::{NetNs, Root, code, json, require_netns, require_root};
use nix::fcntl::{RenameFlags, renameat2};

/// Exchanges `<parent>/<real>` and `<parent>/<link>` (a symlink to the decoy) until stopped.
struct Swapper {
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
    parent: PathBuf,
    real: String,
    link: String,
}

impl Swapper {
    /// `link` is created as a symlink to `decoy` beside `real`.
    fn start(parent: &Path, real: &str, link: &str, decoy: &Path) -> Swapper {
        symlink(decoy, parent.join(link)).expect("decoy symlink");
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU64::new(0));
        let dir = File::open(parent).expect("open parent");
        let handle = {
            let (stop, swaps) = (stop.clone(), swaps.clone());
            let (real, link) = (real.to_string(), link.to_string());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    renameat2(
                        &dir,
                        real.as_str(),
                        &dir,
                        link.as_str(),
                        RenameFlags::RENAME_EXCHANGE,
                    )
                    .expect("renameat2(RENAME_EXCHANGE)");
                    swaps.fetch_add(1, Ordering::Relaxed);
                    // Let the other side run between swaps so both states are seen.
                    std::thread::yield_now();
                }
            })
        };
        Swapper {
            stop,
            swaps,
            handle: Some(handle),
            parent: parent.to_path_buf(),
            real: real.to_string(),
            link: link.to_string(),
        }
    }

    /// Stops swapping and puts the real directory back under its name; the number of swaps.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.join().expect("swapper thread");
        }
        let real = self.parent.join(&self.real);
        if fs::symlink_metadata(&real)
            .expect("stat")
            .file_type()
            .is_symlink()
        {
            let dir = File::open(&self.parent).expect("open parent");
            renameat2(
                &dir,
                self.real.as_str(),
                &dir,
                self.link.as_str(),
                RenameFlags::RENAME_EXCHANGE,
            )
            .expect("swap back");
        }
        fs::remove_file(self.parent.join(&self.link)).expect("remove decoy link");
        self.swaps.load(Ordering::Relaxed)
    }
}

impl Drop for Swapper {
    /// A failed assertion still stops the thread before the fixture is removed.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Every entry under `dir`: relative path → (mode, uid, gid, content or link target).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, u32, u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).expect("list decoy") {
            let path = entry.expect("entry").path();
            let meta = fs::symlink_metadata(&path).expect("stat decoy");
            let content = if meta.file_type().is_symlink() {
                fs::read_link(&path)
                    .expect("readlink")
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_dir() {
                pending.push(path.clone());
                Vec::new()
            } else {
                fs::read(&path).expect("read decoy")
            };
            let relative = path.strip_prefix(dir).expect("under decoy").to_path_buf();
            out.insert(
                relative,
                (meta.mode() & 0o7777, meta.uid(), meta.gid(), content),
            );
        }
    }
    let meta = fs::metadata(dir).expect("stat decoy root");
    out.insert(
        PathBuf::from("."),
        (meta.mode() & 0o7777, meta.uid(), meta.gid(), Vec::new()),
    );
    out
}

fn decoy_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("hardnode-decoy-")
        .tempdir()
        .expect("decoy");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `fix files` while `/etc/kubernetes` and `/var/lib` are swapped with symlinks to a decoy that
/// holds the same too-open admin.conf and a root-owned etcd data directory.
#[test]
fn fix_files_never_changes_a_file_outside_the_root_while_directories_are_swapped() {
    if !require_root("fix_files_never_changes_a_file_outside_the_root") {
        return;
    }
    const RUNS: usize = 200;
    let root = Root::new();
    root.identity("cp1", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS");
    root.accounts(&[("etcd", 998)]);
    root.process(900, &["/usr/local/bin/etcd", "--data-dir=/var/lib/etcd"]);
    root.file_mode("/etc/kubernetes/admin.conf", "kind: Config\n", 0o644);
    root.dir("/var/lib/etcd");
    set_mode(&root.real("/var/lib/etcd"), 0o755);
    let decoy = decoy_dir();
    fs::create_dir_all(decoy.path().join("kubernetes")).expect("mkdir");
    fs::write(decoy.path().join("kubernetes/admin.conf"), "decoy\n").expect("write");
    set_mode(&decoy.path().join("kubernetes/admin.conf"), 0o644);
    fs::create_dir_all(decoy.path().join("lib/etcd")).expect("mkdir");
    set_mode(&decoy.path().join("lib/etcd"), 0o755);
    let before = snapshot(decoy.path());
    // Reset through handles on the real directories, which stay themselves whatever their names.
    let real_kubernetes = root.real("/etc/kubernetes");
    let real_etcd = root.real("/var/lib/etcd");
    let kube_dir = File::open(&real_kubernetes).expect("open");
    let etcd_dir = File::open(&real_etcd).expect("open");

    let etc = Swapper::start(
        &root.real("/etc"),
        "kubernetes",
        "kubernetes.swap",
        &decoy.path().join("kubernetes"),
    );
    let var = Swapper::start(
        &root.real("/var"),
        "lib",
        "lib.swap",
        &decoy.path().join("lib"),
    );
    let mut changed_runs = 0;
    let mut refusals = 0;
    for run in 0..RUNS {
        let output = root
            .hardnode(&[
                "fix",
                "files",
                "--only",
                "1.1.11,1.1.12,1.1.13",
                "--format",
                "json",
            ])
            .output()
            .expect("run fix files");
        assert_ne!(
            code(&output),
            101,
            "run {run} panicked: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = json(&output);
        let fixes = report["fixes"].as_array().cloned().unwrap_or_default();
        changed_runs += usize::from(fixes.iter().any(|fix| fix["state"] == "changed"));
        refusals += fixes.iter().filter(|fix| fix["state"] == "refused").count();
        assert_eq!(
            snapshot(decoy.path()),
            before,
            "run {run} changed the decoy: {report:#}"
        );
        // Loosen the real files again for the next run.
        nix::sys::stat::fchmodat(
            &kube_dir,
            "admin.conf",
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .expect("reset admin.conf");
        nix::sys::stat::fchmod(&etcd_dir, nix::sys::stat::Mode::from_bits_truncate(0o755))
            .expect("reset etcd mode");
        nix::unistd::fchown(&etcd_dir, Some(0.into()), Some(0.into())).expect("reset etcd owner");
    }
    let swaps = etc.finish() + var.finish();
    assert_eq!(snapshot(decoy.path()), before);
    eprintln!("{RUNS} runs, {swaps} swaps, {changed_runs} runs changed files, {refusals} refusals");
    assert!(swaps > RUNS as u64, "the swapper barely ran: {swaps}");
    assert!(
        changed_runs > 0,
        "no run reached a change: the race was never exercised"
    );
}

/// `profiles install` (seccomp) while `/var/lib/kubelet` is swapped with a symlink to a decoy
/// kubelet directory holding an older copy of the same profile.
#[test]
fn profiles_install_never_writes_outside_the_root_while_directories_are_swapped() {
    if !require_root("profiles_install_never_writes_outside_the_root") {
        return;
    }
    const RUNS: usize = 200;
    let root = Root::new();
    let source = tempfile::tempdir().expect("source");
    fs::create_dir_all(source.path().join("profiles")).expect("mkdir");
    fs::copy(
        common::repo_file("examples/seccomp/profiles/audit.json"),
        source.path().join("profiles/audit.json"),
    )
    .expect("copy profile");
    root.dir("/var/lib/kubelet/seccomp/profiles");
    let decoy = decoy_dir();
    fs::create_dir_all(decoy.path().join("kubelet/seccomp/profiles")).expect("mkdir");
    fs::write(
        decoy.path().join("kubelet/seccomp/profiles/audit.json"),
        "{}\n",
    )
    .expect("write");
    let before = snapshot(decoy.path());
    let profiles_dir = File::open(root.real("/var/lib/kubelet/seccomp/profiles")).expect("open");

    let swapper = Swapper::start(
        &root.real("/var/lib"),
        "kubelet",
        "kubelet.swap",
        &decoy.path().join("kubelet"),
    );
    let mut installed = 0;
    for run in 0..RUNS {
        let seccomp = source.path().to_str().expect("utf8");
        let output = root
            .hardnode(&[
                "profiles",
                "install",
                "--seccomp",
                seccomp,
                "--format",
                "json",
            ])
            .output()
            .expect("run profiles install");
        assert_ne!(code(&output), 101, "run {run} panicked");
        if code(&output) == 0 {
            installed += 1;
        }
        assert_eq!(
            snapshot(decoy.path()),
            before,
            "run {run} changed the decoy"
        );
        // Remove the installed copy (and its backup) so the next run writes again.
        for name in ["audit.json", "audit.json.hardnode-bak"] {
            let _ =
                nix::unistd::unlinkat(&profiles_dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir);
        }
    }
    let swaps = swapper.finish();
    assert_eq!(snapshot(decoy.path()), before);
    eprintln!("{RUNS} runs, {swaps} swaps, {installed} installs");
    assert!(
        installed > 0,
        "no run installed: the race was never exercised"
    );
}

/// `firewall apply` and `remove` in a network namespace the test makes, while `/etc` is swapped
/// with a symlink to a decoy `/etc` holding its own rc.local.
#[test]
fn firewall_apply_and_remove_never_write_outside_the_root_while_directories_are_swapped() {
    if !require_netns("firewall_apply_and_remove_never_write_outside_the_root") {
        return;
    }
    const RUNS: usize = 150;
    let ns = NetNs::new("race");
    let root = Root::new();
    root.file("/etc/hostname", "node\n");
    let decoy = decoy_dir();
    fs::create_dir_all(decoy.path().join("etc")).expect("mkdir");
    fs::write(
        decoy.path().join("etc/rc.local"),
        "#!/bin/sh\n# decoy\nexit 0\n",
    )
    .expect("write");
    let before = snapshot(decoy.path());

    let swapper = Swapper::start(root.path(), "etc", "etc.swap", &decoy.path().join("etc"));
    let args = [
        "--container-cidr",
        "10.244.0.0/16",
        "--apiserver",
        "192.0.2.10:6443",
        "--format",
        "json",
    ];
    let mut persisted = 0;
    for run in 0..RUNS {
        let output = ns.hardnode(&root, &[&["firewall", "apply"][..], &args].concat());
        assert_ne!(code(&output), 101, "apply {run} panicked");
        if code(&output) == 0 {
            persisted += 1;
        }
        assert_eq!(
            snapshot(decoy.path()),
            before,
            "apply {run} changed the decoy"
        );
        let output = ns.hardnode(&root, &["firewall", "remove", "--format", "json"]);
        assert_ne!(code(&output), 101, "remove {run} panicked");
        assert_eq!(
            snapshot(decoy.path()),
            before,
            "remove {run} changed the decoy"
        );
    }
    let swaps = swapper.finish();
    assert_eq!(snapshot(decoy.path()), before);
    eprintln!("{RUNS} apply/remove pairs, {swaps} swaps, {persisted} applies verified");
    assert!(
        persisted > 0,
        "no apply got through: the race was never exercised"
    );
    // Nothing left in the namespace once the swapping stops and a last remove runs.
    let output = ns.hardnode(&root, &["firewall", "remove", "--format", "json"]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
