//! Auto-detection of the container CIDR and the apiserver address, for `hardnode firewall` when
//! no flag or site config gives them. Reads through `HostRoot` only; every value found carries
//! the source it came from, so `plan` can show it.
//!
//! - apiserver: the `server:` of `/etc/kubernetes/kubelet.conf` (the address the kubelet itself
//!   uses); a host name is looked up in `/etc/hosts` under the root, never in DNS.
//! - container CIDR, first source that yields one: a visible kube-controller-manager's
//!   `--cluster-cidr`, its static pod manifest, kube-proxy's `--cluster-cidr` or `clusterCIDR` of
//!   its `--config`, the kubelet's `--pod-cidr` or `podCIDR` of its `--config`, then the first CNI
//!   config in `/etc/cni/net.d/` (ipam `subnet`, `ranges`, Calico
//!   `ipv4_pools`/`ipv6_pools`), then flannel's `/run/flannel/subnet.env`.

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::HostRoot;
use super::components::{self, ComponentFacts, ComponentKind, ComponentNeeds, Source};
use crate::cidr::{Cidr, Endpoint};

pub const KUBELET_KUBECONFIG: &str = "/etc/kubernetes/kubelet.conf";
pub const CNI_DIR: &str = "/etc/cni/net.d";
pub const FLANNEL_ENV: &str = "/run/flannel/subnet.env";

/// A value and where it came from (`flag`, `config /etc/hardnode/config.toml`, `kubelet.conf …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found<T> {
    pub value: T,
    pub source: String,
}

impl<T> Found<T> {
    pub fn new(value: T, source: impl Into<String>) -> Self {
        Found {
            value,
            source: source.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    #[serde(default)]
    name: String,
    cluster: ClusterEntry,
}

#[derive(Debug, Deserialize)]
struct ClusterEntry {
    server: Option<String>,
}

/// The apiserver endpoints of the kubelet's kubeconfig, or why there are none.
pub fn detect_apiservers(root: &HostRoot) -> Result<Vec<Found<Endpoint>>, String> {
    let path = Path::new(KUBELET_KUBECONFIG);
    let text = root
        .read_to_string(path)
        .map_err(|error| format!("{KUBELET_KUBECONFIG}: {error}"))?;
    let config: Kubeconfig = serde_saphyr::from_str(&text)
        .map_err(|error| format!("{KUBELET_KUBECONFIG}: not a kubeconfig: {error}"))?;
    let mut found = Vec::new();
    for cluster in config.clusters {
        let Some(server) = cluster.cluster.server else {
            continue;
        };
        let endpoint = server_endpoint(root, &server).map_err(|error| {
            format!(
                "{KUBELET_KUBECONFIG}: cluster {:?} server {server:?}: {error}",
                cluster.name
            )
        })?;
        let source = format!("{KUBELET_KUBECONFIG} (server: {server})");
        if !found.iter().any(|f: &Found<Endpoint>| f.value == endpoint) {
            found.push(Found::new(endpoint, source));
        }
    }
    if found.is_empty() {
        return Err(format!("{KUBELET_KUBECONFIG} names no cluster server"));
    }
    Ok(found)
}

/// `https://HOST[:PORT][/path]` to an endpoint (port 443 when the URL has none).
fn server_endpoint(root: &HostRoot, server: &str) -> Result<Endpoint, String> {
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .ok_or("not an http(s) URL")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unterminated [IPv6] address")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("bad port {port:?}"))?,
        None => 443,
    };
    let address = match host.parse::<IpAddr>() {
        Ok(address) => address,
        Err(_) => hosts_lookup(root, host).ok_or_else(|| {
            format!(
                "{host:?} is a host name not found in /etc/hosts; pass --apiserver with its \
                 IP address"
            )
        })?,
    };
    Ok(Endpoint {
        address,
        port: Some(port),
    })
}

/// The first address `/etc/hosts` under the root gives `name`.
fn hosts_lookup(root: &HostRoot, name: &str) -> Option<IpAddr> {
    let text = root.read_to_string(Path::new("/etc/hosts")).ok()?;
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let address = words.next()?.parse::<IpAddr>().ok()?;
        words
            .any(|alias| alias.eq_ignore_ascii_case(name))
            .then_some(address)
    })
}

/// The container CIDRs from the first source that has them, and notes on sources passed over.
pub fn detect_container_cidrs(root: &HostRoot) -> (Vec<Found<Cidr>>, Vec<String>) {
    let components = components::gather(root, &cluster_cidr_needs());
    detect_container_cidrs_from(root, &components)
}

/// Like [`detect_container_cidrs`], with the components already discovered (by a run whose
/// needs included [`cluster_cidr_needs`]): `check` walks `/proc` once for every rule.
pub fn detect_container_cidrs_from(
    root: &HostRoot,
    components: &ComponentFacts,
) -> (Vec<Found<Cidr>>, Vec<String>) {
    let mut notes = Vec::new();
    let from_components = component_cluster_cidrs_from(components);
    if !from_components.is_empty() {
        return (from_components, notes);
    }
    match cni_cidrs(root) {
        Ok(found) if !found.is_empty() => return (found, notes),
        Ok(_) => {}
        Err(note) => notes.push(note),
    }
    (flannel_cidrs(root), notes)
}

/// The pod network named by a component, through the shared component discovery (one `/proc`
/// walk, flags over config files, relative `--config` against the process's cwd, a static pod
/// manifest when the controller-manager does not run): the first of [`COMPONENT_SOURCES`] that
/// names one wins.
pub fn component_cluster_cidrs(root: &HostRoot) -> Vec<Found<Cidr>> {
    component_cluster_cidrs_from(&components::gather(root, &cluster_cidr_needs()))
}

/// The component settings that can name the pod network ([`COMPONENT_SOURCES`]).
pub fn cluster_cidr_needs() -> ComponentNeeds {
    let mut needs = ComponentNeeds::default();
    add_cluster_cidr_needs(&mut needs);
    needs
}

/// Adds the settings of [`COMPONENT_SOURCES`] to `needs`.
pub fn add_cluster_cidr_needs(needs: &mut ComponentNeeds) {
    for (kind, key, flag) in COMPONENT_SOURCES {
        needs
            .settings
            .entry(*kind)
            .or_default()
            .insert((key.to_string(), flag.map(String::from)));
    }
}

/// [`component_cluster_cidrs`] from components already discovered.
fn component_cluster_cidrs_from(facts: &ComponentFacts) -> Vec<Found<Cidr>> {
    for (kind, key, flag) in COMPONENT_SOURCES {
        let Some(setting) = facts
            .component(*kind)
            .and_then(|component| component.setting(key, *flag))
        else {
            continue;
        };
        if setting.source == Source::Default {
            continue;
        }
        let named = match (setting.source, flag) {
            (Source::Flag | Source::Manifest, Some(flag)) => flag,
            _ => key,
        };
        let at = setting
            .path
            .as_ref()
            .map(|path| format!(" ({})", path.display()))
            .unwrap_or_default();
        let source = format!("{} {named}{at}", kind.binary());
        let found: Vec<Found<Cidr>> = setting
            .value
            .elements()
            .iter()
            .filter_map(|item| item.to_string().trim().parse::<Cidr>().ok())
            .map(|cidr| Found::new(cidr, source.clone()))
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The components whose settings name the pod network, by precedence: (component, setting key,
/// flag). The controller-manager's is the whole cluster's; kube-proxy's usually too; the
/// kubelet's `podCIDR` is this node's share (enough to block this node's pods).
const COMPONENT_SOURCES: &[(ComponentKind, &str, Option<&str>)] = &[
    (ComponentKind::ControllerManager, "--cluster-cidr", None),
    (ComponentKind::Proxy, "clusterCIDR", Some("--cluster-cidr")),
    (ComponentKind::Kubelet, "podCIDR", Some("--pod-cidr")),
];

/// The pod subnets of the CNI config the runtime uses: the first `*.conflist`, `*.conf` or
/// `*.json` in lexical order, as containerd and CRI-O pick it.
pub fn cni_cidrs(root: &HostRoot) -> Result<Vec<Found<Cidr>>, String> {
    let names = match root.read_dir_names(Path::new(CNI_DIR)) {
        Ok(names) => names,
        Err(crate::host::ReadError::NotFound) => return Ok(Vec::new()),
        Err(error) => return Err(format!("{CNI_DIR}: {error}")),
    };
    let Some(name) = names.iter().filter_map(|name| name.to_str()).find(|name| {
        [".conflist", ".conf", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
    }) else {
        return Ok(Vec::new());
    };
    let path = Path::new(CNI_DIR).join(name);
    let text = root
        .read_to_string(&path)
        .map_err(|error| format!("{}: {error}", path.display()))?;
    let config: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("{}: not JSON: {error}", path.display()))?;
    let plugins: Vec<&serde_json::Value> = match config.get("plugins").and_then(|p| p.as_array()) {
        Some(plugins) => plugins.iter().collect(),
        None => vec![&config],
    };
    let mut found: Vec<Found<Cidr>> = Vec::new();
    let mut add = |text: &str, key: &str| {
        if let Ok(cidr) = text.parse::<Cidr>()
            && !found.iter().any(|f| f.value == cidr)
        {
            found.push(Found::new(cidr, format!("{} (ipam {key})", path.display())));
        }
    };
    for plugin in plugins {
        let Some(ipam) = plugin.get("ipam") else {
            continue;
        };
        if let Some(subnet) = ipam.get("subnet").and_then(|s| s.as_str()) {
            add(subnet, "subnet");
        }
        for set in ipam
            .get("ranges")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            for range in set.as_array().into_iter().flatten() {
                if let Some(subnet) = range.get("subnet").and_then(|s| s.as_str()) {
                    add(subnet, "ranges");
                }
            }
        }
        for key in ["ipv4_pools", "ipv6_pools"] {
            for pool in ipam
                .get(key)
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(pool) = pool.as_str() {
                    add(pool, key);
                }
            }
        }
    }
    Ok(found)
}

/// A sign that pod traffic may bypass iptables: the node's CNI is Cilium (its CNI config names
/// `cilium-cni`), whose eBPF host routing and kube-proxy replacement skip the FORWARD and OUTPUT
/// chains. `None` when no such sign was found.
pub fn iptables_bypass(root: &HostRoot) -> Option<String> {
    let names = root.read_dir_names(Path::new(CNI_DIR)).ok()?;
    for name in names.iter().filter_map(|name| name.to_str()) {
        if ![".conflist", ".conf", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            continue;
        }
        let path = Path::new(CNI_DIR).join(name);
        let Ok(text) = root.read_to_string(&path) else {
            continue;
        };
        if text.contains("\"cilium-cni\"") {
            return Some(format!(
                "{} configures Cilium: with eBPF host routing or kube-proxy replacement pod \
                 traffic skips iptables, so this block is not enforceable there (use a \
                 CiliumClusterwideNetworkPolicy instead); with legacy host routing it applies, \
                 but hardnode cannot prove which",
                path.display()
            ));
        }
    }
    None
}

/// `FLANNEL_NETWORK` / `FLANNEL_IPV6_NETWORK` of flannel's subnet file (flannel's CNI config
/// delegates and names no subnet itself).
fn flannel_cidrs(root: &HostRoot) -> Vec<Found<Cidr>> {
    let Ok(text) = root.read_to_string(Path::new(FLANNEL_ENV)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let key = key.trim();
            (key == "FLANNEL_NETWORK" || key == "FLANNEL_IPV6_NETWORK")
                .then(|| value.trim().parse::<Cidr>().ok())
                .flatten()
                .map(|cidr| Found::new(cidr, format!("{FLANNEL_ENV} ({key})")))
        })
        .collect()
}

/// The source address this host's kernel picks to reach `address` (its route), found by
/// connecting a UDP socket (no packet is sent). `Ok(address)` itself means the address is local.
/// This reads the live network namespace, which is the one the firewall rules act in.
pub fn route_source(address: IpAddr) -> Result<IpAddr, String> {
    let bind = if address.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = std::net::UdpSocket::bind(bind).map_err(|error| error.to_string())?;
    socket
        .connect((address, 9))
        .map_err(|error| format!("no route to {address}: {error}"))?;
    socket
        .local_addr()
        .map(|local| local.ip())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, content) in files {
            let real = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
            std::fs::write(real, content).expect("write");
        }
        let root = HostRoot::new(dir.path()).expect("root");
        (dir, root)
    }

    #[test]
    fn kubelet_conf_server_with_and_without_port() {
        let conf = "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: AAA\n    server: https://192.0.2.10:6443\n  name: default-cluster\n";
        let (_dir, root) = root_with(&[(KUBELET_KUBECONFIG, conf)]);
        let found = detect_apiservers(&root).expect("found");
        assert_eq!(found[0].value.to_string(), "192.0.2.10:6443");
        assert!(found[0].source.contains("kubelet.conf"));

        let conf = "clusters:\n- name: c\n  cluster:\n    server: https://api.internal\n";
        let (_dir, root) = root_with(&[
            (KUBELET_KUBECONFIG, conf),
            (
                "/etc/hosts",
                "127.0.0.1 localhost\n192.0.2.20 api.internal api # lb\n",
            ),
        ]);
        assert_eq!(
            detect_apiservers(&root).expect("found")[0]
                .value
                .to_string(),
            "192.0.2.20:443"
        );
    }

    #[test]
    fn unresolvable_host_name_is_explained() {
        let conf = "clusters:\n- name: c\n  cluster:\n    server: https://api.example:6443\n";
        let (_dir, root) = root_with(&[(KUBELET_KUBECONFIG, conf)]);
        let error = detect_apiservers(&root).expect_err("unresolved");
        assert!(error.contains("--apiserver"), "{error}");
    }

    #[test]
    fn cni_subnets_and_ranges() {
        let conflist = r#"{"cniVersion":"0.4.0","name":"k8s","plugins":[
            {"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]}},
            {"type":"portmap"}]}"#;
        let (_dir, root) = root_with(&[
            ("/etc/cni/net.d/10-bridge.conflist", conflist),
            (
                "/etc/cni/net.d/99-other.conf",
                r#"{"ipam":{"subnet":"172.16.0.0/16"}}"#,
            ),
        ]);
        let found = cni_cidrs(&root).expect("read");
        let values: Vec<String> = found.iter().map(|f| f.value.to_string()).collect();
        assert_eq!(values, ["10.244.1.0/24", "fd00:10:244:1::/64"]);
        assert!(found[0].source.contains("10-bridge.conflist"));
    }

    #[test]
    fn controller_manager_flag_wins_over_cni() {
        let (dir, root) = root_with(&[(
            "/etc/cni/net.d/10-bridge.conf",
            r#"{"ipam":{"subnet":"10.244.1.0/24"}}"#,
        )]);
        let cmdline = "/usr/local/bin/kube-controller-manager\0--allocate-node-cidrs=true\0--cluster-cidr=10.244.0.0/16,fd00:10:244::/56\0";
        std::fs::create_dir_all(dir.path().join("proc/42")).expect("mkdir");
        std::fs::write(dir.path().join("proc/42/cmdline"), cmdline).expect("write");
        let (found, _) = detect_container_cidrs(&root);
        let values: Vec<String> = found.iter().map(|f| f.value.to_string()).collect();
        assert_eq!(values, ["10.244.0.0/16", "fd00:10:244::/56"]);
        assert!(found[0].source.contains("kube-controller-manager"));
    }

    #[test]
    fn kube_proxy_config_and_kubelet_pod_cidr_rank_below_the_controller_manager() {
        let (dir, root) = root_with(&[(
            "/var/lib/kube-proxy/config.conf",
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.42.0.0/16\n",
        )]);
        let write = |pid: u32, argv: &str| {
            std::fs::create_dir_all(dir.path().join(format!("proc/{pid}"))).expect("mkdir");
            std::fs::write(dir.path().join(format!("proc/{pid}/cmdline")), argv).expect("write");
        };
        write(10, "/usr/bin/kubelet\0--pod-cidr\x0010.42.7.0/24\0");
        write(
            20,
            "/usr/local/bin/kube-proxy\0--config=/var/lib/kube-proxy/config.conf\0",
        );
        let found = component_cluster_cidrs(&root);
        assert_eq!(found[0].value.to_string(), "10.42.0.0/16", "{found:?}");
        assert!(found[0].source.contains("clusterCIDR"));
        std::fs::remove_dir_all(dir.path().join("proc/20")).expect("rm");
        let found = component_cluster_cidrs(&root);
        assert_eq!(found[0].value.to_string(), "10.42.7.0/24");
        assert!(found[0].source.contains("kubelet --pod-cidr"));
    }

    #[test]
    fn controller_manager_manifest_names_the_cidr_when_it_does_not_run() {
        let (dir, root) = root_with(&[(
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-controller-manager\n  namespace: kube-system\nspec:\n  containers:\n  - name: kube-controller-manager\n    command:\n    - kube-controller-manager\n    - --allocate-node-cidrs=true\n    - --cluster-cidr=10.244.0.0/16\n",
        )]);
        std::fs::create_dir_all(dir.path().join("proc")).expect("mkdir");
        let found = component_cluster_cidrs(&root);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].value.to_string(), "10.244.0.0/16");
        assert!(
            found[0].source.contains("kube-controller-manager.yaml"),
            "{found:?}"
        );
    }

    #[test]
    fn flannel_env_is_the_last_resort() {
        let (_dir, root) = root_with(&[(
            FLANNEL_ENV,
            "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n",
        )]);
        let (found, _) = detect_container_cidrs(&root);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value.to_string(), "10.244.0.0/16");
    }
}
