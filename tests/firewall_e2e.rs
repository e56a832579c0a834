//! End to end: real TCP connections between network namespaces this test creates ("pod",
//! "node", "apiserver"), proving that after `hardnode firewall apply` a connection from the
//! container CIDR to the apiserver is refused while the node itself still connects, and that it
//! works again after `remove`. Every wait is bounded.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::{NetNs, Root, code, require_netns, require_tool};

/// A TCP listener (socat) inside a namespace, killed on drop.
struct Listener(Child);

impl Listener {
    fn start(ns: &NetNs, address: &str, port: u16) -> Listener {
        let child = ns
            .command(
                "socat",
                &[
                    &format!("TCP-LISTEN:{port},bind={address},reuseaddr,fork"),
                    "SYSTEM:echo ok",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start socat");
        let listener = Listener(child);
        // Bounded wait until it accepts (5 s at most).
        for _ in 0..50 {
            if connect(ns, address, port).is_ok() {
                return listener;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "listener on {address}:{port} in {} never came up",
            ns.name()
        );
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One TCP connect from `ns`, bounded to 3 seconds: Ok, or the error text.
fn connect(ns: &NetNs, address: &str, port: u16) -> Result<(), String> {
    let script = format!("exec 3<>/dev/tcp/{address}/{port}");
    let output = ns
        .command("timeout", &["3", "bash", "-c", &script])
        .output()
        .expect("run bash");
    if output.status.success() {
        Ok(())
    } else if output.status.code() == Some(124) {
        Err("timed out".into())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// A veth pair from `a` (named `a_name`, address `a_addr`) to `b`, created inside the namespaces
/// only (never in the test's own).
fn link(a: &NetNs, a_name: &str, a_addr: &str, b: &NetNs, b_name: &str, b_addr: &str) {
    a.run_ok(
        "ip",
        &[
            "link",
            "add",
            a_name,
            "type",
            "veth",
            "peer",
            "name",
            b_name,
            "netns",
            b.name(),
        ],
    );
    a.run_ok("ip", &["addr", "add", a_addr, "dev", a_name]);
    a.run_ok("ip", &["link", "set", a_name, "up"]);
    b.run_ok("ip", &["addr", "add", b_addr, "dev", b_name]);
    b.run_ok("ip", &["link", "set", b_name, "up"]);
}

fn firewall(node: &NetNs, root: &Root, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["firewall"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    let output = node.hardnode(root, &full);
    assert_eq!(
        code(&output),
        0,
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    common::json(&output)
}

fn refused(result: Result<(), String>) -> bool {
    matches!(result, Err(ref text) if text.contains("refused"))
}

#[test]
fn forward_block_refuses_pod_connections_but_not_the_node() {
    if !require_netns("forward_block_refuses_pod_connections_but_not_the_node")
        || !require_tool(
            "forward_block_refuses_pod_connections_but_not_the_node",
            "socat",
        )
    {
        return;
    }
    let pod = NetNs::new("e2e-pod");
    let node = NetNs::new("e2e-node");
    let api = NetNs::new("e2e-api");
    link(
        &node,
        "pod-gw",
        "10.244.1.1/24",
        &pod,
        "eth0",
        "10.244.1.2/24",
    );
    link(
        &node,
        "uplink",
        "192.0.2.1/24",
        &api,
        "eth0",
        "192.0.2.10/24",
    );
    pod.run_ok("ip", &["route", "add", "default", "via", "10.244.1.1"]);
    api.run_ok("ip", &["route", "add", "default", "via", "192.0.2.1"]);
    // Per-namespace: /proc/sys/net shows the namespace of the process that opens it.
    node.run_ok("sh", &["-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    let _listener = Listener::start(&api, "192.0.2.10", 6443);
    let root = Root::new();

    assert_eq!(
        connect(&pod, "192.0.2.10", 6443),
        Ok(()),
        "pod connects before apply"
    );
    let args = [
        "--container-cidr",
        "10.244.0.0/16",
        "--apiserver",
        "192.0.2.10:6443",
        "--mode",
        "forward",
    ];
    let applied = firewall(&node, &root, &[&["apply"][..], &args].concat());
    assert_eq!(applied["changed"], true);
    assert_eq!(applied["verified"], true);

    let blocked = connect(&pod, "192.0.2.10", 6443);
    assert!(
        refused(blocked.clone()),
        "pod must be refused after apply: {blocked:?}"
    );
    assert_eq!(
        connect(&node, "192.0.2.10", 6443),
        Ok(()),
        "the node itself still connects"
    );

    let removed = firewall(&node, &root, &["remove"]);
    assert_eq!(removed["changed"], true);
    assert_eq!(
        connect(&pod, "192.0.2.10", 6443),
        Ok(()),
        "pod connects again after remove"
    );
}

/// On a control-plane node the apiserver address is the node's own: pod traffic to it goes
/// through INPUT, never FORWARD, so `--mode forward` alone does not stop it and `all` adds INPUT.
#[test]
fn control_plane_apiserver_needs_the_input_rule() {
    if !require_netns("control_plane_apiserver_needs_the_input_rule")
        || !require_tool("control_plane_apiserver_needs_the_input_rule", "socat")
    {
        return;
    }
    let pod = NetNs::new("cp-pod");
    let node = NetNs::new("cp-node");
    link(
        &node,
        "pod-gw",
        "10.244.1.1/24",
        &pod,
        "eth0",
        "10.244.1.2/24",
    );
    pod.run_ok("ip", &["route", "add", "default", "via", "10.244.1.1"]);
    node.run_ok("ip", &["link", "add", "api0", "type", "bridge"]);
    node.run_ok("ip", &["addr", "add", "192.0.2.10/32", "dev", "api0"]);
    node.run_ok("ip", &["link", "set", "api0", "up"]);
    let _listener = Listener::start(&node, "192.0.2.10", 6443);
    let root = Root::new();
    let base = [
        "--container-cidr",
        "10.244.0.0/16",
        "--apiserver",
        "192.0.2.10:6443",
    ];
    assert_eq!(connect(&pod, "192.0.2.10", 6443), Ok(()));

    firewall(
        &node,
        &root,
        &[&["apply"][..], &base, &["--mode", "forward"]].concat(),
    );
    assert_eq!(
        connect(&pod, "192.0.2.10", 6443),
        Ok(()),
        "FORWARD never sees traffic to the node's own address"
    );

    let plan = firewall(
        &node,
        &root,
        &[&["plan"][..], &base, &["--mode", "all"]].concat(),
    );
    assert!(
        plan["inputs"]["hooks"]
            .as_array()
            .expect("hooks")
            .contains(&"INPUT".into()),
        "`all` must add INPUT for a local apiserver: {plan:#}"
    );
    let applied = firewall(
        &node,
        &root,
        &[&["apply"][..], &base, &["--mode", "all"]].concat(),
    );
    assert_eq!(applied["verified"], true);
    let blocked = connect(&pod, "192.0.2.10", 6443);
    assert!(
        refused(blocked.clone()),
        "INPUT rule must refuse the pod: {blocked:?}"
    );
    assert_eq!(
        connect(&node, "192.0.2.10", 6443),
        Ok(()),
        "the node itself still connects"
    );

    firewall(&node, &root, &["remove"]);
    assert_eq!(connect(&pod, "192.0.2.10", 6443), Ok(()));
}
