//! The firewall's state over the gathered facts: the [`Spec`] the requested or detected inputs
//! make (with every safety refusal), the boot-time lines, and whether the kernel and the
//! persistence hold it ([`status`]). Pure: `hardnode firewall` (in `remedy`) and the
//! `firewall.apiserver-blocked` rule use the same functions, so they never disagree.

use serde::Serialize;

use crate::cidr::Endpoint;
use crate::firewall::{
    Assessment, Hook, Listing, Mode, Persist, Spec, assess, rclocal, rule_lines, shell_lines,
    systemd,
};
use crate::host::Observed;
use crate::host::firewall::{FirewallFacts, Route};
use crate::netfilter::{Backend, Family};

/// A [`Spec`] built from the gathered inputs, with what the operator should know about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Built {
    pub spec: Spec,
    pub warnings: Vec<String>,
}

/// Builds the spec from requested or detected inputs and applies every safety refusal. The
/// error says which flag to pass or which value is unsafe (exit 2).
pub fn build(facts: &FirewallFacts) -> Result<Built, String> {
    let notes = || {
        if facts.detection_notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", facts.detection_notes.join("; "))
        }
    };
    if facts.container_cidrs.is_empty() {
        return Err(format!(
            "no container CIDR given and none detected{}: pass --container-cidr CIDR \
             (or container_cidrs in the [firewall] section of the site config)",
            notes()
        ));
    }
    if facts.apiservers.is_empty() {
        return Err(format!(
            "no apiserver address given and none detected{}: pass --apiserver ADDR[:PORT] \
             (or apiservers in the [firewall] section of the site config)",
            notes()
        ));
    }
    let local = facts.routes.iter().any(Route::is_local);
    let spec = Spec {
        container_cidrs: dedup(facts.container_cidrs.iter().map(|f| f.value)),
        apiservers: dedup(facts.apiservers.iter().map(|f| f.value)),
        hooks: Mode::hooks(&facts.modes, local),
        allow: dedup(facts.allow.iter().copied()),
    };
    spec.check_safety()?;
    let mut warnings = spec.unmatched_families();
    for route in &facts.routes {
        let endpoint = spec
            .apiservers
            .iter()
            .find(|api| api.address == route.apiserver)
            .copied()
            .unwrap_or(Endpoint {
                address: route.apiserver,
                port: None,
            });
        match (route.source, &route.error) {
            (Some(source), _) => spec.check_node_source(&endpoint, source)?,
            (None, error) => warnings.push(format!(
                "cannot tell which address this node uses to reach {} ({}); the check that the \
                 container CIDR does not contain it was skipped",
                route.apiserver,
                error.as_deref().unwrap_or("unknown")
            )),
        }
    }
    if spec.allow.is_empty() {
        warnings.push(
            "pods in the container CIDR that need the API (CoreDNS, CNI controllers, ingress \
             controllers not on hostNetwork) lose it unless their addresses are --allow'ed"
                .into(),
        );
    }
    if spec.hooks.contains(&Hook::Forward) && !local {
        warnings.push(
            "where the CNI masquerades pod traffic before it leaves its node, the apiserver sees \
             the node's address: run the block on every node, not only here"
                .into(),
        );
    }
    if let Some(reason) = &facts.iptables_bypass {
        warnings.push(format!("NOT ENFORCEABLE: {reason}"));
    }
    if facts.persist == Persist::RcLocal
        && let Some(reason) = facts.boot.rc_local_never_runs()
    {
        warnings.push(format!("WARNING: {reason}"));
    }
    Ok(Built { spec, warnings })
}

fn dedup<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The boot-time shell lines for every family of the chosen backend.
pub fn boot_lines(spec: &Spec, facts: &FirewallFacts) -> Vec<String> {
    let mut lines = Vec::new();
    for (family, binary) in &facts.boot_binaries {
        lines.extend(shell_lines(&spec.desired(*family), binary));
    }
    lines
}

/// One family's state in the chosen backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyStatus {
    pub family: Family,
    pub backend: Backend,
    /// The wanted rules, as `-A` lines.
    pub rules: Vec<String>,
    pub assessment: Assessment,
    /// Why the table could not be read (the family then is not in place).
    pub error: Option<String>,
}

/// Whether the boot-time persistence holds the same rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Persisted {
    pub method: Persist,
    pub paths: Vec<String>,
    pub in_place: bool,
    /// Whether the host would run it at boot (`None`: cannot tell).
    pub runs_at_boot: Option<bool>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub families: Vec<FamilyStatus>,
    pub persisted: Persisted,
    /// hardnode rules found in the other backend's tables.
    pub other_backend: Vec<String>,
    /// Why the block is not enforceable here even with the rules in place (Cilium eBPF).
    pub not_enforceable: Option<String>,
}

impl Status {
    pub fn rules_in_place(&self) -> bool {
        self.families
            .iter()
            .all(|family| family.error.is_none() && family.assessment.in_place)
    }

    /// Rules in place and persisted so that they come back after a reboot.
    pub fn ok(&self) -> bool {
        self.rules_in_place()
            && self.persisted.in_place
            && self.persisted.runs_at_boot != Some(false)
            && self.not_enforceable.is_none()
    }
}

/// Compares what the host holds with what `spec` wants. Pure: `status` and the check rule share it.
pub fn status(spec: &Spec, facts: &FirewallFacts) -> Status {
    let backend = facts.backend.value;
    let mut families = Vec::new();
    for family in Family::ALL {
        let desired = spec.desired(family);
        let table = facts
            .tables
            .iter()
            .find(|table| table.backend == backend && table.family == family);
        let (listing, error) = match table.map(|table| &table.listing) {
            Some(Ok(lines)) => (Listing::parse(lines), None),
            Some(Err(error)) => (Listing::default(), Some(error.clone())),
            None => (Listing::default(), None),
        };
        if desired.is_empty() && !listing.has_managed() && error.is_none() {
            continue;
        }
        // A table that is not loaded at all holds nothing: fine when nothing is wanted.
        let error = error.filter(|_| !desired.is_empty());
        families.push(FamilyStatus {
            family,
            backend,
            rules: rule_lines(&desired),
            assessment: assess(spec, &desired, &listing),
            error,
        });
    }
    let other_backend = facts
        .tables
        .iter()
        .filter(|table| table.backend != backend)
        .filter(|table| {
            table
                .listing
                .as_ref()
                .is_ok_and(|lines| Listing::parse(lines).has_managed())
        })
        .map(|table| {
            format!(
                "{} holds hardnode rules too (the {} backend is in use): `hardnode firewall \
                 remove` clears both",
                netfilter_name(table.family, table.backend),
                backend.as_str()
            )
        })
        .collect();
    Status {
        families,
        persisted: persisted(spec, facts),
        other_backend,
        not_enforceable: facts.iptables_bypass.clone(),
    }
}

fn netfilter_name(family: Family, backend: Backend) -> String {
    crate::netfilter::binary_name(family, backend, false)
}

fn persisted(spec: &Spec, facts: &FirewallFacts) -> Persisted {
    let lines = boot_lines(spec, facts);
    let mut problems = Vec::new();
    match facts.persist {
        Persist::RcLocal => {
            let in_place = match &facts.rc_local {
                Observed::Value { value, .. } => match rclocal::find_block(value) {
                    Ok(Some(block)) if block == lines => true,
                    Ok(Some(_)) => {
                        problems.push("the rc.local block holds other rules".into());
                        false
                    }
                    Ok(None) => {
                        problems.push("rc.local has no hardnode block".into());
                        false
                    }
                    Err(error) => {
                        problems.push(error);
                        false
                    }
                },
                Observed::Absent { .. } => {
                    problems.push("/etc/rc.local does not exist".into());
                    false
                }
                Observed::Unreadable { error, .. } => {
                    problems.push(format!("/etc/rc.local: {error}"));
                    false
                }
            };
            if in_place && !facts.rc_local_executable {
                problems.push("/etc/rc.local is not executable, so it never runs".into());
            }
            let never = facts.boot.rc_local_never_runs();
            if let Some(reason) = &never {
                problems.push(reason.clone());
            }
            Persisted {
                method: Persist::RcLocal,
                paths: vec![rclocal::RC_LOCAL.into()],
                in_place: in_place && facts.rc_local_executable,
                runs_at_boot: Some(never.is_none()),
                problems,
            }
        }
        Persist::Systemd => {
            let script_ok = facts.systemd_script.value() == Some(&systemd::script(&lines));
            let unit_ok = facts.systemd_unit.value() == Some(&systemd::unit());
            let link_ok =
                facts.systemd_link.as_deref() == Some(std::path::Path::new(systemd::UNIT_PATH));
            for (ok, what) in [
                (script_ok, systemd::SCRIPT_PATH),
                (unit_ok, systemd::UNIT_PATH),
                (link_ok, systemd::WANTS_LINK),
            ] {
                if !ok {
                    problems.push(format!("{what} is missing or differs"));
                }
            }
            Persisted {
                method: Persist::Systemd,
                paths: vec![
                    systemd::SCRIPT_PATH.into(),
                    systemd::UNIT_PATH.into(),
                    systemd::WANTS_LINK.into(),
                ],
                in_place: script_ok && unit_ok && link_ok,
                runs_at_boot: Some(facts.boot.systemd || link_ok),
                problems,
            }
        }
        Persist::None => Persisted {
            method: Persist::None,
            paths: Vec::new(),
            in_place: true,
            runs_at_boot: None,
            problems: vec!["not persisted (--persist none): the rules vanish at reboot".into()],
        },
    }
}
