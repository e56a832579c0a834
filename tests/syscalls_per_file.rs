//! How many system calls a read costs (issue 20), traced with `strace` on this machine's live
//! root: a file under the real procfs is opened beneath the opened `/proc` and read with no
//! `fstat` (procfs holds no FIFO or device, which that check is for), while a regular file
//! elsewhere still gets its `fstat` before the read. Run on the live root because only a real
//! procfs takes that path; a fixture's `proc` is plain files, read the general way
//! (`src/host/root.rs` tests that, and that a FIFO there is still refused).

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{require_root, require_tool};

/// What follows each traced open of a file, on the same thread, until it is closed.
#[derive(Debug, Default)]
struct Opened {
    path: String,
    stat: bool,
    reads: usize,
}

/// The number in `= N` at the end of a complete syscall line.
fn result_of(line: &str) -> Option<i64> {
    line.rsplit_once(") = ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The first argument of `name(...)` in `line`, when it is a descriptor (also in a call strace
/// shows `<unfinished ...>`: `close(5 <unfinished ...>`).
fn fd_argument(line: &str, name: &str) -> Option<i64> {
    let start = line.find(&format!(" {name}("))? + name.len() + 2;
    line[start..]
        .split([',', ')', ' '])
        .find(|part| !part.is_empty())?
        .parse()
        .ok()
}

#[test]
fn a_procfs_file_is_read_without_fstat_and_a_regular_file_with_it() {
    let test = "a_procfs_file_is_read_without_fstat_and_a_regular_file_with_it";
    if !require_root(test) || !require_tool(test, "strace") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("strace.log");
    let output = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=openat2,statx,fstat,newfstatat,read,close",
        ])
        .arg("-o")
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin("hardnode"))
        .args(["check", "--format", "json"])
        .output()
        .expect("run strace");
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "hardnode check: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("strace log");
    // (thread, fd) -> the file it was opened for; finished records are kept.
    let mut open: BTreeMap<(String, i64), Opened> = BTreeMap::new();
    let mut done: Vec<Opened> = Vec::new();
    // With threads, strace splits a call another thread interrupts into `openat2(3, "path",
    // ... <unfinished ...>` and, later on the same thread, `<... openat2 resumed>) = 5`.
    let mut pending_open: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let Some((thread, call)) = line.split_once(' ') else {
            continue;
        };
        let call = format!(" {}", call.trim_start());
        let opened_path = if call.contains(" openat2(") && !call.contains("O_PATH") {
            let path = call.split('"').nth(1).map(str::to_string);
            if call.contains("<unfinished") {
                if let Some(path) = path {
                    pending_open.insert(thread.to_string(), path);
                }
                continue;
            }
            path
        } else if call.contains("<... openat2 resumed>") {
            pending_open.remove(thread)
        } else {
            None
        };
        if let Some(path) = opened_path {
            let Some(fd) = result_of(&call) else {
                continue;
            };
            if fd >= 0 {
                let opened = Opened {
                    path: path.to_string(),
                    ..Opened::default()
                };
                open.insert((thread.to_string(), fd), opened);
            }
            continue;
        }
        for (name, is_stat) in [
            ("statx", true),
            ("fstat", true),
            ("newfstatat", true),
            ("read", false),
        ] {
            if let Some(fd) = fd_argument(&call, name)
                && let Some(opened) = open.get_mut(&(thread.to_string(), fd))
            {
                if is_stat {
                    opened.stat = true;
                } else {
                    opened.reads += 1;
                }
            }
        }
        if let Some(fd) = fd_argument(&call, "close")
            && let Some(opened) = open.remove(&(thread.to_string(), fd))
        {
            done.push(opened);
        }
    }
    // Paths below the opened /proc are relative to it: `<pid>/cmdline`.
    let procfs: Vec<&Opened> = done
        .iter()
        .filter(|o| o.path.ends_with("/cmdline") && !o.path.starts_with("proc/"))
        .collect();
    assert!(
        procfs.len() >= 2,
        "no cmdline read beneath the opened /proc was traced: {done:?}"
    );
    for opened in &procfs {
        assert!(!opened.stat, "{} was stat'ed: {opened:?}", opened.path);
        assert!(opened.reads >= 1, "{opened:?}");
    }
    // A regular file outside /proc keeps its type check: the tracer does see those calls.
    let regular: Vec<&Opened> = done
        .iter()
        .filter(|o| o.path.starts_with("etc/") && o.reads >= 1)
        .collect();
    assert!(
        !regular.is_empty(),
        "no /etc file read was traced: {done:?}"
    );
    assert!(
        regular.iter().all(|opened| opened.stat),
        "a regular file was read without its type check: {regular:?}"
    );
}

#[test]
fn descriptors_are_read_from_finished_and_unfinished_calls() {
    assert_eq!(fd_argument(" close(5) = 0", "close"), Some(5));
    assert_eq!(fd_argument(" close(5 <unfinished ...>", "close"), Some(5));
    assert_eq!(fd_argument(" read(7, <unfinished ...>", "read"), Some(7));
    assert_eq!(
        fd_argument(
            " statx(4, \"\", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH",
            "statx"
        ),
        Some(4)
    );
    assert_eq!(fd_argument(" <... close resumed>) = 0", "close"), None);
    assert_eq!(result_of(" <... openat2 resumed>) = 9"), Some(9));
}
