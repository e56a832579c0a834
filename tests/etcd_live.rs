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
    tls: bool,
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
        // Over TLS the plain-HTTP probe gets no health answer: the port accepting connections
        // and the data directory in place are readiness enough there.
        let healthy = if tls {
            TcpStream::connect(("127.0.0.1", etcd.client_port)).is_ok()
        } else {
            health(etcd.client_port).is_some_and(|answer| answer.contains("\"health\":\"true\""))
        };
        if ready.exists() && healthy {
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
        let _etcd = start(
            dir.path(),
            &args,
            &env,
            client,
            &data_dir.join("member"),
            false,
        );

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
    let _etcd = start(
        dir.path(),
        &args,
        &[],
        client,
        &expected_dir.join("member"),
        false,
    );
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

/// A CA and a server certificate for 127.0.0.1, made with openssl for this test.
fn tls_material(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "1",
        "-subj",
        "/CN=hardnode-test-ca",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    )
}

/// Whether etcd answers `/health` over TLS to a client that presents no certificate — the
/// oracle for 2.2 (`--client-cert-auth`).
fn serves_clients_without_a_certificate(port: u16, ca: &Path) -> bool {
    Command::new("curl")
        .args(["--silent", "--max-time", "5", "--cacert"])
        .arg(ca)
        .arg(format!("https://127.0.0.1:{port}/health"))
        .output()
        .is_ok_and(|output| {
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains("true")
        })
}

/// etcd serving TLS, configured through its YAML (`client-transport-security`) and through
/// `ETCD_*` variables: whether it serves a client without a certificate decides 2.2, and a
/// certificate in use decides 2.1 — whichever way it was configured.
#[test]
fn etcd_tls_settings_from_its_yaml_and_environment_agree_with_what_it_serves() {
    let test = "etcd_tls_settings_from_its_yaml_and_environment_agree_with_what_it_serves";
    if !ready_to_run(test) || !require_tool(test, "openssl") || !require_tool(test, "curl") {
        return;
    }
    let _turn = ONE_ETCD_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pki = tempfile::tempdir().expect("pki dir");
    let (ca, cert, key) = tls_material(pki.path());
    // etcd requires client certificates when client-cert-auth is true, and also whenever a
    // trusted CA is given (its TLS server config), which the CIS wording does not say.
    for (how, client_cert_auth, with_ca) in [
        ("yaml", true, true),
        ("yaml", false, true),
        ("yaml", false, false),
        ("env", false, false),
        ("env", false, true),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (client, peer) = (free_port(), free_port());
        let data_dir = dir.path().join("data");
        let client_url = format!("https://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut args = Vec::new();
        let mut env: Vec<(&str, String)> = Vec::new();
        if how == "yaml" {
            let yaml = format!(
                "name: tls\ndata-dir: {}\nlisten-client-urls: {client_url}\nadvertise-client-urls: {client_url}\nlisten-peer-urls: {peer_url}\ninitial-advertise-peer-urls: {peer_url}\ninitial-cluster: tls={peer_url}\nclient-transport-security:\n  cert-file: {}\n  key-file: {}\n  client-cert-auth: {client_cert_auth}\n{}",
                data_dir.display(),
                cert.display(),
                key.display(),
                if with_ca {
                    format!("  trusted-ca-file: {}\n", ca.display())
                } else {
                    String::new()
                }
            );
            let config = dir.path().join("etcd.yml");
            std::fs::write(&config, yaml).expect("config");
            args.push(format!("--config-file={}", config.display()));
        } else {
            for (name, value) in [
                ("ETCD_NAME", "tls".to_string()),
                ("ETCD_DATA_DIR", data_dir.display().to_string()),
                ("ETCD_LISTEN_CLIENT_URLS", client_url.clone()),
                ("ETCD_ADVERTISE_CLIENT_URLS", client_url.clone()),
                ("ETCD_LISTEN_PEER_URLS", peer_url.clone()),
                ("ETCD_INITIAL_ADVERTISE_PEER_URLS", peer_url.clone()),
                ("ETCD_INITIAL_CLUSTER", format!("tls={peer_url}")),
                ("ETCD_CERT_FILE", cert.display().to_string()),
                ("ETCD_KEY_FILE", key.display().to_string()),
                ("ETCD_CLIENT_CERT_AUTH", client_cert_auth.to_string()),
            ] {
                env.push((name, value));
            }
            if with_ca {
                env.push(("ETCD_TRUSTED_CA_FILE", ca.display().to_string()));
            }
        }
        let _etcd = start(
            dir.path(),
            &args,
            &env,
            client,
            &data_dir.join("member"),
            true,
        );

        let open = serves_clients_without_a_certificate(client, &ca);
        assert_eq!(
            open,
            !client_cert_auth && !with_ca,
            "{how}: etcd with client-cert-auth {client_cert_auth}, trusted CA {with_ca}, serves a certificate-less client: {open}"
        );
        let results = check("2.1,2.2");
        let auth = result(&results, "etcd.client-cert-auth");
        assert_eq!(
            auth["status"],
            if open { "fail" } else { "pass" },
            "{how}: {auth}"
        );
        assert_eq!(
            result(&results, "etcd.cert-file")["status"],
            "pass",
            "{how}"
        );
        let shown = auth.to_string();
        let named = match (how, with_ca && !client_cert_auth) {
            (_, true) => "a trusted CA is given",
            ("yaml", false) => "client-transport-security.client-cert-auth",
            _ => "ETCD_CLIENT_CERT_AUTH",
        };
        assert!(shown.contains(named), "{how}: {shown}");
    }
}
