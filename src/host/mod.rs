//! Reading the node. Everything hardnode knows about a host is gathered here, once per run,
//! through a [`HostRoot`], into plain serializable [`Facts`]. Only what the selected rules need is
//! gathered. Nothing in this module writes, and nothing here decides pass or fail.

pub mod accounts;
pub mod apparmor;
pub mod cluster_net;
pub mod components;
pub mod containers;
pub mod facts;
pub mod firewall;
pub mod flags;
pub mod kernel;
pub mod manifests;
pub mod platform;
pub mod process;
pub mod profile_sources;
pub mod root;
pub mod runtime;
pub mod seccomp_profiles;
pub mod sshd;
pub mod sysctl;

use std::borrow::Cow;
use std::path::Path;

pub use facts::{Facts, HostInfo, Needs, Observed};
pub use root::{HostRoot, ReadError};

/// Gathers the facts `needs` asks for. What comes from processes (components, static pods,
/// containers, runtimes: one walk of `/proc`) is gathered on its own thread while this one reads
/// the files nothing there depends on (kernel, AppArmor, seccomp profiles, accounts, sshd,
/// sysctls); the netfilter facts come last, from the components found.
pub fn gather(root: &HostRoot, needs: &Needs) -> Facts {
    // The firewall rule's container CIDR detection reads component settings: they come from the
    // same walk of `/proc` as every other rule's.
    let mut needs = Cow::Borrowed(needs);
    if needs
        .firewall
        .as_ref()
        .is_some_and(|request| request.container_cidrs.is_empty())
    {
        cluster_net::add_cluster_cidr_needs(&mut needs.to_mut().components);
    }
    let needs = needs.as_ref();
    let walks_proc = !needs.components.is_empty() || needs.containers || !needs.runtime.is_empty();
    std::thread::scope(|scope| {
        let processes = walks_proc
            .then(|| {
                std::thread::Builder::new()
                    .name("hardnode-walk".into())
                    .spawn_scoped(scope, || gather_processes(root, needs))
                    .ok()
            })
            .flatten();
        let release = read_trimmed(root, Path::new("/proc/sys/kernel/osrelease"));
        let host = HostInfo {
            hostname: read_trimmed(root, Path::new("/proc/sys/kernel/hostname")),
            os: os_release(root),
            kernel_release: release.clone(),
            root: root.prefix().to_path_buf(),
            platform: platform::Platform::generic("not detected yet"),
        };
        let kernel = (!needs.kernel_options.is_empty() || !needs.status_fields.is_empty())
            .then(|| kernel::gather(root, &release, needs));
        let apparmor = needs.apparmor.then(|| apparmor::gather(root));
        let seccomp_profiles = needs
            .seccomp_profiles
            .as_ref()
            .map(|request| seccomp_profiles::gather(root, request));
        let accounts = needs.accounts.then(|| accounts::gather(root));
        let sshd =
            (!needs.sshd_keywords.is_empty()).then(|| sshd::gather(root, &needs.sshd_keywords));
        let sysctls = (!needs.sysctls.is_empty()).then(|| sysctl::gather(root, &needs.sysctls));
        let found = match processes {
            Some(walk) => walk
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had (or nothing to walk): here, after the rest.
            None => gather_processes(root, needs),
        };
        // The walk of /proc (when one was made) decided the platform; otherwise files alone do.
        let mut host = host;
        host.platform = match &found.components {
            Some(components) => components.platform.clone(),
            None => platform::detect(root, None),
        };
        let firewall = needs
            .firewall
            .as_ref()
            .map(|request| firewall::gather(root, request, found.components.as_ref()));
        Facts {
            host,
            kernel,
            apparmor,
            seccomp_profiles,
            static_pods: found.static_pods,
            containers: found.containers,
            accounts,
            sshd,
            sysctls,
            firewall,
            privileges: None,
            components: found.components,
            runtime: found.runtime,
        }
    })
}

/// The facts that come from the processes running on the node.
struct ProcessFacts {
    components: Option<components::ComponentFacts>,
    static_pods: Option<facts::StaticPodFacts>,
    containers: Option<containers::ContainerFacts>,
    runtime: Option<runtime::RuntimeFacts>,
}

fn gather_processes(root: &HostRoot, needs: &Needs) -> ProcessFacts {
    // One walk of /proc serves the component discovery, the runtime audit and the container
    // audit: the walk lends each process's cmdline to the container audit.
    let mut container_walk = needs
        .containers
        .then(|| containers::ContainerWalk::new(root));
    let components_walk = !needs.components.is_empty() && components::walks_proc(&needs.components);
    let runtime_walks = !needs.runtime.is_empty() && needs.runtime.needs_processes();
    // The walk comes first, before the container audit is finished (it is what feeds it).
    let scan = (components_walk || runtime_walks).then(|| match container_walk.as_mut() {
        Some(walk) => {
            let scan = process::scan_visiting(root, walk.share());
            if let Some(error) = &scan.error {
                walk.listing_failed(error.clone());
            }
            scan
        }
        None => process::scan(root),
    });
    let (components_scan, runtime_scan) = if components_walk {
        (scan, None)
    } else {
        (None, scan)
    };
    // After the walk, naming the containers (their runtime records, pod directories) and
    // resolving the components' settings and files read different files: on two threads.
    let naming = std::sync::Mutex::new(container_walk);
    let finish = || {
        naming
            .lock()
            .ok()
            .and_then(|mut walk| walk.take())
            .map(containers::ContainerWalk::finish)
    };
    std::thread::scope(|scope| {
        let finishing = std::thread::Builder::new()
            .name("hardnode-containers".into())
            .spawn_scoped(scope, finish)
            .ok();
        let components = (!needs.components.is_empty()).then(|| {
            components::gather_with(root, &needs.components, || {
                components_scan.unwrap_or_default()
            })
        });
        let static_pods = needs
            .static_pods
            .as_ref()
            .map(|request| manifests::gather_static_pods(root, request, components.as_ref()));
        let containers = match finishing {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: the audit is finished here.
            None => finish(),
        };
        // The runtime audit reuses the components' scan, or the walk made for it alone.
        let runtime = (!needs.runtime.is_empty()).then(|| {
            let empty = process::ProcessScan::default();
            let scan = match (&runtime_scan, &components) {
                (Some(own), _) => own,
                (None, Some(found)) if components_walk => &found.processes,
                _ => &empty,
            };
            runtime::gather(root, &needs.runtime, scan, containers.as_ref())
        });
        ProcessFacts {
            components,
            static_pods,
            containers,
            runtime,
        }
    })
}

/// A small text file's trimmed content, observed with its path.
pub fn read_trimmed(root: &HostRoot, path: &Path) -> Observed<String> {
    Observed::read(root, path, |text| text.trim().to_string())
}

/// `PRETTY_NAME` from `/etc/os-release`, falling back to `/usr/lib/os-release` as systemd does.
fn os_release(root: &HostRoot) -> Observed<String> {
    let mut first = None;
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let observed = Observed::read(root, Path::new(path), |text| parse_os_release(&text));
        match observed {
            Observed::Value {
                value: Some(name), ..
            } => {
                return Observed::Value {
                    path: path.into(),
                    value: name,
                };
            }
            Observed::Value { value: None, .. } => {
                return Observed::Unreadable {
                    path: path.into(),
                    error: "has no PRETTY_NAME or NAME".into(),
                };
            }
            other => {
                first.get_or_insert(other.map(|_| String::new()));
            }
        }
    }
    first.unwrap_or(Observed::Absent {
        path: "/etc/os-release".into(),
    })
}

/// `PRETTY_NAME` (else `NAME`) from os-release text, unquoted.
fn parse_os_release(text: &str) -> Option<String> {
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            (!unquoted.is_empty()).then(|| unquoted.replace("\\\"", "\""))
        })
    };
    field("PRETTY_NAME").or_else(|| field("NAME"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_prefers_pretty_name_and_unquotes() {
        let text = "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Ubuntu 22.04.4 LTS")
        );
        assert_eq!(parse_os_release("NAME=Alpine\n").as_deref(), Some("Alpine"));
        assert_eq!(parse_os_release("ID=x\n"), None);
    }
}
