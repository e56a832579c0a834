//! Everything `hardnode firewall` and the `firewall.apiserver-blocked` rule read: the requested
//! or auto-detected inputs with their sources, the route this node uses to each apiserver, the
//! iptables backend, the kernel's filter tables, and the persistence files and boot support.
//!
//! The kernel's netfilter state has no file to read through `HostRoot`: the filter tables are
//! listed with `iptables -S` through [`crate::netfilter::list`], the one read-only function
//! of that module. Like the route lookup, it reads the live network namespace — the one whose
//! rules the firewall changes — whatever `--root` is. The legacy backend is listed only when its
//! kernel tables are already loaded (`/proc/net/ip_tables_names`), because listing them would
//! otherwise load the `ip_tables` module: a check must not change the host.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cluster_net::{self, Found};
use super::components::ComponentFacts;
use super::{HostRoot, Observed};
use crate::cidr::{Cidr, Endpoint};
use crate::config::FirewallPolicy;
pub use crate::firewall::Route;
use crate::firewall::{Mode, Persist, rclocal, systemd};
use crate::netfilter::{self, Backend, Family};

/// What the operator asked for (flags over site config); empty fields are auto-detected.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Request {
    pub container_cidrs: Vec<Found<Cidr>>,
    pub apiservers: Vec<Found<Endpoint>>,
    pub modes: Vec<Mode>,
    pub allow: Vec<Cidr>,
    pub persist: Option<Persist>,
    pub backend: Option<Found<Backend>>,
}

impl Request {
    /// The firewall request a site config's `[firewall]` section makes, each value labelled with
    /// `source`.
    pub fn from_policy(policy: &FirewallPolicy, source: &str) -> Request {
        Request {
            container_cidrs: policy
                .container_cidrs
                .iter()
                .map(|cidr| Found::new(*cidr, source))
                .collect(),
            apiservers: policy
                .apiservers
                .iter()
                .map(|api| Found::new(*api, source))
                .collect(),
            modes: policy.mode.to_vec(),
            allow: policy.allow.clone(),
            persist: policy.persist,
            backend: policy.backend.map(|backend| Found::new(backend, source)),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FirewallFacts {
    pub container_cidrs: Vec<Found<Cidr>>,
    pub apiservers: Vec<Found<Endpoint>>,
    pub modes: Vec<Mode>,
    pub allow: Vec<Cidr>,
    pub persist: Persist,
    /// Why detection found nothing, or sources passed over.
    pub detection_notes: Vec<String>,
    /// The address this node uses to reach each apiserver (its route), or why it is unknown.
    pub routes: Vec<Route>,
    pub backend: Found<Backend>,
    /// Why the backend could not be detected (a table that says which could not be listed):
    /// `backend` is then only a placeholder, and nothing may be decided or changed with it.
    pub backend_error: Option<String>,
    /// The filter table of each backend and family that could be listed.
    pub tables: Vec<Table>,
    /// The absolute path of each family's binary of the chosen backend on the host, for the
    /// boot-time lines.
    pub boot_binaries: Vec<(Family, String)>,
    pub rc_local: Observed<String>,
    pub rc_local_executable: bool,
    pub systemd_script: Observed<String>,
    pub systemd_unit: Observed<String>,
    /// Where the `multi-user.target.wants` link points, if it exists.
    pub systemd_link: Option<PathBuf>,
    pub boot: BootSupport,
    /// Why the dataplane may skip iptables (Cilium eBPF), so the block cannot be relied on.
    pub iptables_bypass: Option<String>,
    /// Set when the rules listed are not the host's: this process's network namespace (where
    /// iptables runs) is not PID 1's under the root (a pod without hostNetwork).
    pub foreign_netns: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub backend: Backend,
    pub family: Family,
    /// `iptables -t filter -S` lines, or why they could not be read.
    #[serde(serialize_with = "listing_json")]
    pub listing: Result<Vec<String>, String>,
}

/// `{"lines": [...]}` or `{"error": "..."}` rather than serde's `{"Ok": ...}`.
fn listing_json<S: serde::Serializer>(
    listing: &Result<Vec<String>, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(1))?;
    match listing {
        Ok(lines) => map.serialize_entry("lines", lines)?,
        Err(error) => map.serialize_entry("error", error)?,
    }
    map.end()
}

/// Whether the host would run `/etc/rc.local` at boot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BootSupport {
    /// The root looks like a systemd host (`lib/systemd/systemd` or `usr/lib/systemd/systemd`).
    pub systemd: bool,
    pub rc_local_generator: Option<PathBuf>,
    pub rc_local_service: Option<PathBuf>,
}

impl BootSupport {
    /// `Some(reason)` when rc.local would never run on this host.
    pub fn rc_local_never_runs(&self) -> Option<String> {
        if self.systemd && self.rc_local_generator.is_none() {
            Some(
                "this host runs systemd without systemd-rc-local-generator (systemd 260 removed \
                 it), so /etc/rc.local never runs at boot: use --persist systemd"
                    .into(),
            )
        } else {
            None
        }
    }
}

const GENERATOR_DIRS: &[&str] = &[
    "/usr/lib/systemd/system-generators",
    "/lib/systemd/system-generators",
];
const UNIT_DIRS: &[&str] = &["/usr/lib/systemd/system", "/lib/systemd/system"];

fn boot_support(root: &HostRoot) -> BootSupport {
    let first = |dirs: &[&str], name: &str| {
        dirs.iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|path| root.metadata(path).is_ok())
    };
    BootSupport {
        systemd: ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"]
            .iter()
            .any(|path| root.metadata(Path::new(path)).is_ok()),
        rc_local_generator: first(GENERATOR_DIRS, "systemd-rc-local-generator"),
        rc_local_service: first(UNIT_DIRS, "rc-local.service"),
    }
}

/// Gathers what the firewall needs, detecting what `request` leaves empty. `components`: the
/// run's component discovery, when its needs included [`cluster_net::cluster_cidr_needs`] (no
/// second walk of `/proc`); without it the detection discovers them itself.
pub fn gather(
    root: &HostRoot,
    request: &Request,
    components: Option<&ComponentFacts>,
) -> FirewallFacts {
    let mut notes = Vec::new();
    let container_cidrs = if request.container_cidrs.is_empty() {
        let (found, mut passed_over) = match components {
            Some(components) => cluster_net::detect_container_cidrs_from(root, components),
            None => cluster_net::detect_container_cidrs(root),
        };
        notes.append(&mut passed_over);
        if found.is_empty() {
            notes.push(format!(
                "no container CIDR found: no kube-controller-manager or kube-proxy \
                 --cluster-cidr, no ipam subnet in {}, no {}",
                cluster_net::CNI_DIR,
                cluster_net::FLANNEL_ENV
            ));
        }
        found
    } else {
        request.container_cidrs.clone()
    };
    let apiservers = if request.apiservers.is_empty() {
        cluster_net::detect_apiservers(root).unwrap_or_else(|note| {
            notes.push(note);
            Vec::new()
        })
    } else {
        request.apiservers.clone()
    };
    let routes = apiservers
        .iter()
        .map(|api| match cluster_net::route_source(api.value.address) {
            Ok(source) => Route {
                apiserver: api.value.address,
                source: Some(source),
                error: None,
            },
            Err(error) => Route {
                apiserver: api.value.address,
                source: None,
                error: Some(error),
            },
        })
        .collect();

    let mut tables = Vec::new();
    for backend in Backend::ALL {
        for family in Family::ALL {
            if !netfilter::tables_loaded(family, backend) {
                continue;
            }
            tables.push(Table {
                backend,
                family,
                listing: netfilter::list(family, backend, "filter").map_err(|e| e.to_string()),
            });
        }
    }
    let (backend, backend_error) = match &request.backend {
        Some(backend) => (backend.clone(), None),
        None => match detect_backend(&tables) {
            Ok(backend) => (backend, None),
            Err(error) => (Found::new(Backend::Nft, "not detected"), Some(error)),
        },
    };

    let boot_binaries = Family::ALL
        .into_iter()
        .map(|family| {
            let name = netfilter::binary_name(family, backend.value, false);
            let path = ["/usr/sbin", "/sbin"]
                .iter()
                .map(|dir| format!("{dir}/{name}"))
                .find(|path| root.metadata(Path::new(path)).is_ok())
                .unwrap_or_else(|| format!("/usr/sbin/{name}"));
            (family, path)
        })
        .collect();

    let rc_local = Observed::read(root, Path::new(rclocal::RC_LOCAL), |text| text);
    let rc_local_executable = root
        .metadata(Path::new(rclocal::RC_LOCAL))
        .is_ok_and(|meta| {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o100 != 0
        });
    let systemd_link = root.read_link(Path::new(systemd::WANTS_LINK)).ok();
    FirewallFacts {
        container_cidrs,
        apiservers,
        modes: if request.modes.is_empty() {
            vec![Mode::All]
        } else {
            request.modes.clone()
        },
        allow: request.allow.clone(),
        persist: request.persist.unwrap_or(Persist::RcLocal),
        detection_notes: notes,
        routes,
        backend,
        backend_error,
        tables,
        boot_binaries,
        rc_local,
        rc_local_executable,
        systemd_script: Observed::read(root, Path::new(systemd::SCRIPT_PATH), |text| text),
        systemd_unit: Observed::read(root, Path::new(systemd::UNIT_PATH), |text| text),
        systemd_link,
        boot: boot_support(root),
        iptables_bypass: cluster_net::iptables_bypass(root),
        foreign_netns: foreign_netns(root),
    }
}

/// Compares the network namespace iptables lists (this process's: `/proc/self/ns/net`, the
/// process's own, not a host file) with the host's (`/proc/1/ns/net` under the root). `None`
/// when they are the same or PID 1's cannot be read (a root without /proc: nothing to compare).
fn foreign_netns(root: &HostRoot) -> Option<String> {
    let host = root.read_link(Path::new("/proc/1/ns/net")).ok()?;
    let own = std::fs::read_link("/proc/self/ns/net").ok()?;
    (host != own).then(|| {
        format!(
            "hardnode runs in network namespace {}, not the host's ({} of PID 1 under the root): \
             the iptables rules it can list are not the host's; run it in the host's network \
             namespace (hostNetwork: true in a pod)",
            own.display(),
            host.display()
        )
    })
}

/// The backend kube-proxy uses: the one holding `KUBE-IPTABLES-HINT` (mangle), else `KUBE-*`
/// chains, else hardnode's own chain; with no sign, nft (Debian/Ubuntu's default) when installed.
/// A table that could not be listed (the xtables lock held by another program, no permission)
/// might hold the sign: unless the hint was found elsewhere, that is an error naming the table,
/// never a silent default.
fn detect_backend(tables: &[Table]) -> Result<Found<Backend>, String> {
    let mut unreadable = Vec::new();
    for backend in Backend::ALL {
        if !netfilter::tables_loaded(Family::Ipv4, backend) {
            continue;
        }
        match netfilter::list(Family::Ipv4, backend, "mangle") {
            Ok(lines) if lines.iter().any(|line| line == "-N KUBE-IPTABLES-HINT") => {
                return Ok(Found::new(
                    backend,
                    "KUBE-IPTABLES-HINT chain in the mangle table",
                ));
            }
            Ok(_) => {}
            Err(error) => unreadable.push(format!(
                "{} -t mangle: {error}",
                netfilter::binary_name(Family::Ipv4, backend, false)
            )),
        }
    }
    for table in tables {
        if let Err(error) = &table.listing {
            unreadable.push(format!(
                "{} -t filter: {error}",
                netfilter::binary_name(table.family, table.backend, false)
            ));
        }
    }
    if !unreadable.is_empty() {
        return Err(format!(
            "cannot tell which iptables backend kube-proxy uses: {}; pass --backend legacy or \
             --backend nft (or fix what keeps the table from being listed)",
            unreadable.join("; ")
        ));
    }
    let holds = |prefix: &str| {
        tables.iter().find(|table| {
            table
                .listing
                .as_ref()
                .is_ok_and(|lines| lines.iter().any(|line| line.starts_with(prefix)))
        })
    };
    if let Some(table) = holds("-N KUBE-") {
        return Ok(Found::new(
            table.backend,
            "KUBE-* chains in the filter table",
        ));
    }
    if let Some(table) = holds(&format!("-N {}", crate::firewall::CHAIN)) {
        return Ok(Found::new(table.backend, "hardnode's chain already there"));
    }
    Ok(if netfilter::available(Backend::Nft) {
        Found::new(
            Backend::Nft,
            "default: no kube-proxy chains found, nft installed",
        )
    } else {
        Found::new(
            Backend::Legacy,
            "default: no kube-proxy chains found, nft not installed",
        )
    })
}
