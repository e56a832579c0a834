//! `hardnode containers`: every container on the node with its confinement, worst first — what
//! an operator reads when a `containers.*` rule fails.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::engine::containers::ContainerView;

pub const CONTAINERS_SCHEMA: &str = "hardnode.containers/v1";

#[derive(Debug, Clone, Serialize)]
pub struct ContainerListing {
    pub schema: &'static str,
    pub root: PathBuf,
    pub hostname: Option<String>,
    pub processes_scanned: usize,
    /// Processes whose cgroup could not be read (a container among them would be missed).
    pub unreadable_processes: usize,
    /// The process whose namespaces stand for the host's.
    pub host_reference_pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_reference_note: Option<String>,
    pub apparmor_enabled: bool,
    pub containers: Vec<ContainerView>,
}

fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

/// The AppArmor column: the mode of each label (`enforce` for `profile (enforce)`), or the label
/// itself when it has none (`unconfined`, `n/a`); the full labels go on the detail lines.
fn apparmor_modes(labels: &[String]) -> String {
    let modes: Vec<String> = labels
        .iter()
        .map(|label| {
            label
                .strip_suffix(')')
                .and_then(|rest| rest.rsplit_once(" ("))
                .map_or(label.clone(), |(_, mode)| mode.to_string())
        })
        .collect();
    list(&modes)
}

pub fn render_containers_text(listing: &ContainerListing, out: &mut dyn Write) -> io::Result<()> {
    let workloads = listing.containers.iter().filter(|c| !c.sandbox).count();
    let unmanaged = listing.containers.iter().filter(|c| !c.managed).count();
    writeln!(
        out,
        "{} containers ({} sandboxes{}) among {} processes, root {}",
        workloads,
        listing.containers.len() - workloads,
        if unmanaged > 0 {
            format!(", {unmanaged} unmanaged: started outside Kubernetes")
        } else {
            String::new()
        },
        listing.processes_scanned,
        listing.root.display()
    )?;
    if listing.unreadable_processes > 0 {
        writeln!(
            out,
            "warning: the cgroup of {} processes could not be read; containers among them are missing",
            listing.unreadable_processes
        )?;
    }
    if let Some(note) = &listing.host_reference_note {
        writeln!(out, "host namespaces: {note}")?;
    }
    if listing.containers.is_empty() {
        return writeln!(out, "no process is in a kubepods cgroup");
    }
    let pod_width = listing
        .containers
        .iter()
        .map(|c| c.pod.len())
        .max()
        .unwrap_or(3)
        .clamp(3, 48);
    let pids_width = listing
        .containers
        .iter()
        .map(|c| {
            c.pids
                .iter()
                .map(|p| p.to_string().len() + 1)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    writeln!(
        out,
        "\n{:>4}  {:pod_width$}  {:12}  {:pids_width$}  {:4}  {:8}  {:12}  {:12}  CAPS",
        "RISK", "POD", "ID", "PIDS", "PRIV", "SECCOMP", "APPARMOR", "HOST NS"
    )?;
    for row in &listing.containers {
        let pod = if row.sandbox {
            format!("{} [sandbox]", row.pod)
        } else {
            row.pod.clone()
        };
        let pids: Vec<String> = row.pids.iter().map(u32::to_string).collect();
        let caps = if row.privileged {
            "ALL".to_string()
        } else {
            let marked: Vec<String> = row
                .extra_capabilities
                .iter()
                .map(|cap| {
                    if row.high_risk_capabilities.contains(cap) {
                        format!("{cap}!")
                    } else {
                        cap.clone()
                    }
                })
                .collect();
            list(&marked)
        };
        writeln!(
            out,
            "{:>4}  {:pod_width$}  {:12}  {:pids_width$}  {:4}  {:8}  {:12}  {:12}  {}",
            row.risk,
            pod,
            row.id.get(..12).unwrap_or(&row.id),
            pids.join(","),
            yes(row.privileged),
            row.seccomp,
            apparmor_modes(&row.apparmor),
            list(&row.host_namespaces),
            caps
        )?;
        let mut notes = Vec::new();
        for label in &row.apparmor {
            if label.ends_with(')') {
                notes.push(format!("apparmor: {label}"));
            }
        }
        for mount in &row.risky_mounts {
            notes.push(format!(
                "mount: host {} at {} ({})",
                mount.host_path,
                mount.mount_point,
                if mount.read_only { "ro" } else { "rw" }
            ));
        }
        if row.runs_as_root {
            notes.push("runs as root (uid 0)".into());
        }
        if row.no_new_privs == Some(false) {
            notes.push("NoNewPrivs 0".into());
        }
        if row.read_only_rootfs == Some(false) {
            notes.push("rootfs rw".into());
        }
        if row.sshd {
            notes.push("runs sshd".into());
        }
        for unknown in &row.unknown {
            notes.push(format!("could not read: {unknown}"));
        }
        if let Some(command) = row.commands.first() {
            notes.push(format!("cmd: {command}"));
        }
        for note in notes {
            writeln!(out, "{:>4}  {:pod_width$}    {note}", "", "")?;
        }
    }
    writeln!(
        out,
        "\nCAPS: capabilities beyond the runtime default set (! high risk); ALL: privileged."
    )
}
