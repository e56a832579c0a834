//! The real etcd (Debian's etcd-server, 3.4) is the oracle for how its settings are resolved:
//! a test starts it on 127.0.0.1 with ports of its own, asks etcd what it did (which data
//! directory it created, whether it answers a client without a certificate over plain HTTP),
//! then runs `hardnode check --root /` and compares. Each etcd is stopped by its pid when the
//! test ends, passes or fails.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{hardnode, require_root, require_tool};

/// An etcd this test started; killed and reaped on drop.
struct Etcd {
    child: Child,
    client_port: u16,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// `GET /health` over plain HTTP with no client certificate: etcd's own answer to "does it
/// serve clients without TLS".
fn health(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// Starts etcd in `cwd` with `args` and `env`, waiting (at most 30 s) until it answers
/// `/health` and `ready` exists.
fn start(
    cwd: &Path,
    args: &[String],
    env: &[(&str, String)],
    client_port: u16,
    ready: &Path,
) -> Etcd {
    let mut command = Command::new("etcd");
    command
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(cwd.join("etcd.log")).expect("log file"),
        ));
    for (name, value) in env {
        command.env(name, value);
    }
    let etcd = Etcd {
        child: command.spawn().expect("start etcd"),
        client_port,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if ready.exists()
            && health(etcd.client_port).is_some_and(|answer| answer.contains("\"health\":\"true\""))
        {
            return etcd;
        }
        assert!(
            Instant::now() < deadline,
            "etcd did not become healthy within 30 s; its log:\n{}",
            std::fs::read_to_string(cwd.join("etcd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn urls(client: u16, peer: u16) -> [(&'static str, String); 4] {
    [
        ("listen-client-urls", format!("http://127.0.0.1:{client}")),
        (
            "advertise-client-urls",
            format!("http://127.0.0.1:{client}"),
        ),
        ("listen-peer-urls", format!("http://127.0.0.1:{peer}")),
        (
            "initial-advertise-peer-urls",
            format!("http://127.0.0.1:{peer}"),
        ),
    ]
}

/// `hardnode check --root /` for `only`, as the JSON results by id.
fn check(only: &str) -> Vec<serde_json::Value> {
    let output = hardnode()
        .args(["check", "--root", "/", "--format", "json", "--only", only])
        .output()
        .expect("run hardnode");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    report["results"].as_array().cloned().unwrap_or_default()
}

fn result<'a>(results: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    results
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result {id} in {results:?}"))
}

fn ready_to_run(test: &str) -> bool {
    require_root(test) && require_tool(test, "etcd")
}

/// hardnode looks at every etcd on the machine: the tests take turns so each sees only its own.
static ONE_ETCD_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// etcd given `--config-file` (or `ETCD_CONFIG_FILE`) reads only the file: the data directory it
/// creates is the file's `data-dir`, not the `--data-dir` flag beside it, and a file without
/// `client-transport-security` serves plain HTTP to any client. hardnode must judge the same.
#[test]
fn etcd_config_file_decides_the_data_dir_and_tls_as_etcd_does() {
    let test = "etcd_config_file_decides_the_data_dir_and_tls_as_etcd_does";
    if !ready_to_run(test) {
        return;
    }
    let _turn = ONE_ETCD_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for via_env in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (client, peer) = (free_port(), free_port());
        let data_dir = dir.path().join("from-file");
        let flag_dir = dir.path().join("from-flag");
        let mut yaml = format!(
            "name: hn1\ndata-dir: {}\ninitial-cluster: hn1=http://127.0.0.1:{peer}\n",
            data_dir.display()
        );
        for (key, value) in urls(client, peer) {
            yaml.push_str(&format!("{key}: {value}\n"));
        }
        let config = dir.path().join("etcd.conf.yml");
        std::fs::write(&config, yaml).expect("write config");
        let mut args = vec![format!("--data-dir={}", flag_dir.display())];
        let mut env = Vec::new();
        if via_env {
            env.push(("ETCD_CONFIG_FILE", config.display().to_string()));
        } else {
            args.push(format!("--config-file={}", config.display()));
        }
        let _etcd = start(dir.path(), &args, &env, client, &data_dir.join("member"));

        // The oracle: what etcd did.
        assert!(
            data_dir.join("member").is_dir(),
            "etcd used the file's data-dir"
        );
        assert!(
            !flag_dir.exists(),
            "etcd ignored --data-dir beside --config-file"
        );
        let mode = std::fs::metadata(&data_dir)
            .expect("data dir")
            .permissions()
            .mode()
            & 0o777;
        let plain = health(client).unwrap_or_default();
        assert!(
            plain.contains("\"health\":\"true\""),
            "etcd serves plain HTTP: {plain}"
        );

        let results = check("1.1.11,2.1,2.2");
        let data = result(&results, "etcd.data-dir-mode");
        let shown = data.to_string();
        assert!(
            shown.contains(&data_dir.display().to_string()),
            "via_env={via_env}: 1.1.11 must examine the file's data-dir: {shown}"
        );
        assert!(!shown.contains("/var/lib/etcd"), "{shown}");
        assert!(!shown.contains("from-flag"), "{shown}");
        let expected = if mode & 0o077 == 0 { "pass" } else { "fail" };
        assert_eq!(data["status"], expected, "mode {mode:o}: {shown}");
        // A client without a certificate was served over HTTP: no TLS certificate is a fail,
        // decided by the config file, not an undecided error.
        let cert = result(&results, "etcd.cert-file");
        assert_eq!(cert["status"], "fail", "{cert}");
        let auth = result(&results, "etcd.client-cert-auth");
        assert_eq!(auth["status"], "fail", "{auth}");
    }
}

/// Without `--data-dir`, etcd keeps its data in `<name>.etcd` in its working directory — not
/// kubeadm's `/var/lib/etcd`, which a benchmark must not examine instead.
#[test]
fn etcd_without_data_dir_uses_name_dot_etcd_in_its_working_directory() {
    let test = "etcd_without_data_dir_uses_name_dot_etcd_in_its_working_directory";
    if !ready_to_run(test) {
        return;
    }
    let _turn = ONE_ETCD_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("temp dir");
    let (client, peer) = (free_port(), free_port());
    let mut args = vec![
        "--name=hn2".to_string(),
        format!("--initial-cluster=hn2=http://127.0.0.1:{peer}"),
    ];
    for (key, value) in urls(client, peer) {
        args.push(format!("--{key}={value}"));
    }
    let expected_dir: PathBuf = dir.path().join("hn2.etcd");
    let _etcd = start(dir.path(), &args, &[], client, &expected_dir.join("member"));
    assert!(
        expected_dir.join("member").is_dir(),
        "etcd made hn2.etcd in its cwd"
    );

    let results = check("1.1.11");
    let data = result(&results, "etcd.data-dir-mode");
    let shown = data.to_string();
    assert!(shown.contains("hn2.etcd"), "{shown}");
    assert!(!shown.contains("/var/lib/etcd"), "{shown}");
    assert_ne!(data["status"], "skip", "the directory exists: {shown}");
}
