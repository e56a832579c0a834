//! `hardnode firewall plan|apply|status|remove`: the apiserver block, applied with the backend's
//! `iptables-restore --noflush` (one transaction per family: all of a family's change or none of
//! it), persisted in `/etc/rc.local` or a systemd unit, and verified by reading the tables back.
//!
//! The wanted state and the comparison are the pure [`crate::firewall`] model; the host is read
//! by [`crate::host::firewall::gather`]. This module decides the actions and runs them.

use serde::Serialize;

use super::netfilter::{self, Backend, Family};
use super::{Lock, Outcome, RemedyError, rclocal, require_root, systemd};
use crate::cidr::{Cidr, Endpoint};
use crate::firewall::{
    self, Assessment, Built, Hook, Listing, Persist, Persisted, Status, apply_script, remove_script,
};
use crate::host::HostRoot;
use crate::host::cluster_net::Found;
use crate::host::firewall::{FirewallFacts, Request, gather};

/// What a firewall command did, would do, or found. The JSON Ansible reads.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub dry_run: bool,
    /// For `status`: rules in place and persisted. For `apply`: the same, after applying.
    pub ok: bool,
    pub backend: Option<Found<Backend>>,
    pub inputs: Option<Inputs>,
    /// The wanted rules per family (`-I`/`-A` lines as iptables-restore reads them).
    pub rules: Vec<FamilyRules>,
    pub persisted: Option<Persisted>,
    /// The boot-time lines (the rc.local block or the systemd script body).
    pub boot_lines: Vec<String>,
    /// The iptables-restore scripts `apply` runs (or would run, for a plan).
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub container_cidrs: Vec<Found<Cidr>>,
    pub apiservers: Vec<Found<Endpoint>>,
    pub hooks: Vec<Hook>,
    pub allow: Vec<Cidr>,
    pub persist: Persist,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyRules {
    pub family: Family,
    pub binary: String,
    pub rules: Vec<String>,
    /// `in_place` here is false too when the table could not be read (`error`).
    #[serde(flatten)]
    pub assessment: Assessment,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub binary: String,
    pub family: Family,
    pub backend: Backend,
    pub script: String,
}

fn built(facts: &FirewallFacts) -> Result<Built, RemedyError> {
    firewall::build(facts).map_err(RemedyError::Usage)
}

fn report(command: &'static str, facts: &FirewallFacts, built: &Built, status: &Status) -> Report {
    let spec = &built.spec;
    let mut warnings = built.warnings.clone();
    warnings.extend(status.other_backend.iter().cloned());
    for family in &status.families {
        for line in &family.assessment.unmanaged {
            warnings.push(format!(
                "present, not managed: `{line}` (a hand-made rule blocking the same traffic)"
            ));
        }
    }
    Report {
        command,
        outcome: Outcome {
            warnings,
            ..Outcome::default()
        },
        dry_run: false,
        ok: status.ok(),
        backend: Some(facts.backend.clone()),
        inputs: Some(Inputs {
            container_cidrs: facts.container_cidrs.clone(),
            apiservers: facts.apiservers.clone(),
            hooks: spec.hooks.iter().copied().collect(),
            allow: spec.allow.clone(),
            persist: facts.persist,
        }),
        rules: family_rules(status),
        persisted: Some(status.persisted.clone()),
        boot_lines: firewall::boot_lines(spec, facts),
        changes: Vec::new(),
    }
}

fn family_rules(status: &Status) -> Vec<FamilyRules> {
    status
        .families
        .iter()
        .map(|family| {
            let mut assessment = family.assessment.clone();
            assessment.in_place &= family.error.is_none();
            FamilyRules {
                family: family.family,
                binary: netfilter::binary_name(family.family, family.backend, false),
                rules: family.rules.clone(),
                assessment,
                error: family.error.clone(),
            }
        })
        .collect()
}

/// The listing of one family of `backend`, from the gathered facts or read now.
fn listing(
    facts: &FirewallFacts,
    family: Family,
    backend: Backend,
) -> Result<Listing, RemedyError> {
    match facts
        .tables
        .iter()
        .find(|table| table.family == family && table.backend == backend)
    {
        Some(table) => match &table.listing {
            Ok(lines) => Ok(Listing::parse(lines)),
            Err(_) => Ok(Listing::parse(&netfilter::list(family, backend, "filter")?)),
        },
        None => Ok(Listing::default()),
    }
}

/// The plan: what `apply` would change, without changing anything.
pub fn plan(root: &HostRoot, request: &Request) -> Result<Report, RemedyError> {
    let facts = gather(root, request, None);
    plan_from(&facts, "plan")
}

fn plan_from(facts: &FirewallFacts, command: &'static str) -> Result<Report, RemedyError> {
    let built = built(facts)?;
    let status = firewall::status(&built.spec, facts);
    let mut report = report(command, facts, &built, &status);
    let backend = facts.backend.value;
    for family in Family::ALL {
        let desired = built.spec.desired(family);
        let in_place = status
            .families
            .iter()
            .find(|f| f.family == family)
            .is_none_or(|f| f.error.is_none() && f.assessment.in_place);
        if in_place {
            continue;
        }
        let listing = listing(facts, family, backend)?;
        let binary = netfilter::binary_name(family, backend, true);
        let what = if desired.is_empty() {
            format!("{binary}: remove hardnode's chain and jumps (no {family:?} rule is wanted)")
        } else {
            let hooks: Vec<&str> = desired.hooks.iter().map(|hook| hook.chain()).collect();
            format!(
                "{binary} --noflush: set chain {} to {} rule(s), jumped to first from {}",
                firewall::CHAIN,
                desired.rules.len(),
                hooks.join(", ")
            )
        };
        report.outcome.actions.push(what);
        report.changes.push(Change {
            binary,
            family,
            backend,
            script: if desired.is_empty() {
                remove_script(&listing)
            } else {
                apply_script(&desired, &listing)
            },
        });
    }
    let persisted = &status.persisted;
    if !persisted.in_place {
        report.outcome.actions.push(match facts.persist {
            Persist::RcLocal => format!(
                "write hardnode's block into {} (atomically; previous file kept as {}{})",
                rclocal::RC_LOCAL,
                rclocal::RC_LOCAL,
                super::BACKUP_SUFFIX
            ),
            Persist::Systemd => format!(
                "write {} and {}, enable it with {}",
                systemd::SCRIPT_PATH,
                systemd::UNIT_PATH,
                systemd::WANTS_LINK
            ),
            Persist::None => "nothing to persist".into(),
        });
    }
    // The persistence not chosen must not keep restoring old rules at boot.
    if facts.persist != Persist::RcLocal && stale_rc_local(facts) {
        report.outcome.actions.push(format!(
            "remove hardnode's block from {} (persisted by {} now)",
            rclocal::RC_LOCAL,
            facts.persist.as_str()
        ));
    }
    if facts.persist != Persist::Systemd && stale_systemd(facts) {
        report.outcome.actions.push(format!(
            "remove {} and its script (persisted by {} now)",
            systemd::UNIT_PATH,
            facts.persist.as_str()
        ));
    }
    report.outcome.changed = !report.outcome.actions.is_empty();
    Ok(report)
}

fn stale_rc_local(facts: &FirewallFacts) -> bool {
    facts
        .rc_local
        .value()
        .is_some_and(|text| matches!(rclocal::find_block(text), Ok(Some(_)) | Err(_)))
}

fn stale_systemd(facts: &FirewallFacts) -> bool {
    facts
        .systemd_unit
        .value()
        .is_some_and(|text| text.contains(systemd::HEADER))
        || facts
            .systemd_script
            .value()
            .is_some_and(|text| text.contains(systemd::HEADER))
        || facts.systemd_link.as_deref() == Some(std::path::Path::new(systemd::UNIT_PATH))
}

/// Applies the plan (or, with `dry_run`, only reports it), then reads everything back.
pub fn apply(root: &HostRoot, request: &Request, dry_run: bool) -> Result<Report, RemedyError> {
    if dry_run {
        let mut report = plan(root, request)?;
        report.command = "apply";
        report.dry_run = true;
        return Ok(report);
    }
    require_root("hardnode firewall apply")?;
    // One change at a time per network namespace (the tables), then per root (the files).
    let _net_lock = Lock::network_namespace()?;
    let _lock = Lock::acquire(root)?;
    let facts = gather(root, request, None);
    let mut report = plan_from(&facts, "apply")?;
    let built = built(&facts)?;
    let lines = firewall::boot_lines(&built.spec, &facts);
    // Refuse before touching the kernel when the persistence cannot be written (a symlinked or
    // broken rc.local), so a refusal never leaves rules applied but not persisted.
    match facts.persist {
        Persist::RcLocal => {
            rclocal::write(root, &lines, true)?;
        }
        Persist::Systemd => {
            systemd::write(root, &lines, true)?;
        }
        Persist::None => {}
    }
    let mut applied: Vec<String> = Vec::new();
    for change in &report.changes {
        if let Err(error) = netfilter::restore(change.family, change.backend, &change.script) {
            let done = if applied.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("already applied: {}", applied.join(", "))
            };
            return Err(RemedyError::Refused {
                path: change.binary.clone().into(),
                reason: format!("{error}; {done}"),
            });
        }
        applied.push(change.binary.clone());
    }
    match facts.persist {
        Persist::RcLocal => match rclocal::write(root, &lines, false)? {
            rclocal::Written::Unchanged | rclocal::Written::Created => {}
            rclocal::Written::Updated {
                backup: Some(backup),
            } => report.outcome.actions.push(format!(
                "keep the previous rc.local as {}",
                root.display_path(&backup).display()
            )),
            rclocal::Written::Updated { backup: None } => {}
        },
        Persist::Systemd => {
            systemd::write(root, &lines, false)?;
        }
        Persist::None => {}
    }
    if facts.persist != Persist::RcLocal && stale_rc_local(&facts) {
        rclocal::remove(root, false)?;
    }
    if facts.persist != Persist::Systemd && stale_systemd(&facts) {
        systemd::remove(root, false)?;
    }
    // Verify: read the kernel and the files again, with the same model `status` uses.
    let after = gather(root, request, None);
    let status = firewall::status(&built.spec, &after);
    // `verified`: what apply did is in the kernel and the files. `ok` also needs it to work at
    // boot and in this dataplane (the warnings say why not).
    report.outcome.verified = status.rules_in_place() && status.persisted.in_place;
    report.ok = status.ok();
    report.persisted = Some(status.persisted.clone());
    report.rules = family_rules(&status);
    if !report.outcome.verified {
        for family in &status.families {
            for problem in &family.assessment.problems {
                report
                    .outcome
                    .warnings
                    .push(format!("verification: {problem}"));
            }
        }
        for problem in &status.persisted.problems {
            report
                .outcome
                .warnings
                .push(format!("verification: {problem}"));
        }
    }
    Ok(report)
}

/// Reports whether the rules are in place and persisted.
pub fn status(root: &HostRoot, request: &Request) -> Result<Report, RemedyError> {
    let facts = gather(root, request, None);
    let built = built(&facts)?;
    let status = firewall::status(&built.spec, &facts);
    let mut report = report("status", &facts, &built, &status);
    report.outcome.verified = status.ok();
    Ok(report)
}

/// Removes every rule hardnode manages, in both backends and both families, and its persistence.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<Report, RemedyError> {
    if !dry_run {
        require_root("hardnode firewall remove")?;
    }
    let _locks = if dry_run {
        None
    } else {
        Some((Lock::network_namespace()?, Lock::acquire(root)?))
    };
    let mut report = Report {
        command: "remove",
        outcome: Outcome::default(),
        dry_run,
        ok: false,
        backend: None,
        inputs: None,
        rules: Vec::new(),
        persisted: None,
        boot_lines: Vec::new(),
        changes: Vec::new(),
    };
    for backend in Backend::ALL {
        for family in Family::ALL {
            if !netfilter::tables_loaded(family, backend) {
                continue;
            }
            let listing = match netfilter::list(family, backend, "filter") {
                Ok(lines) => Listing::parse(&lines),
                // A family whose tables cannot be listed (IPv6 disabled, no kernel support)
                // holds nothing hardnode could have added; say so and go on with the rest.
                Err(error) => {
                    report.outcome.warnings.push(format!(
                        "cannot list {}: {error}",
                        netfilter::binary_name(family, backend, false)
                    ));
                    continue;
                }
            };
            if !listing.has_managed() {
                continue;
            }
            let binary = netfilter::binary_name(family, backend, true);
            let script = remove_script(&listing);
            if !dry_run {
                netfilter::restore(family, backend, &script)?;
            }
            report.outcome.actions.push(format!(
                "{binary}: remove chain {} and {} jump(s)",
                firewall::CHAIN,
                listing.jumps().count()
            ));
            report.changes.push(Change {
                binary,
                family,
                backend,
                script,
            });
        }
    }
    if rclocal::remove(root, dry_run)? {
        report.outcome.actions.push(format!(
            "remove hardnode's block from {}",
            rclocal::RC_LOCAL
        ));
    }
    for path in systemd::remove(root, dry_run)? {
        report
            .outcome
            .actions
            .push(format!("remove {}", path.display()));
    }
    report.outcome.changed = !report.outcome.actions.is_empty();
    // Verify: nothing of hardnode's is left in any table that can be listed.
    let mut left = Vec::new();
    if !dry_run {
        for backend in Backend::ALL {
            for family in Family::ALL {
                if netfilter::tables_loaded(family, backend)
                    && let Ok(lines) = netfilter::list(family, backend, "filter")
                    && Listing::parse(&lines).has_managed()
                {
                    left.push(netfilter::binary_name(family, backend, false));
                }
            }
        }
    }
    for binary in &left {
        report
            .outcome
            .warnings
            .push(format!("verification: {binary} still holds hardnode rules"));
    }
    report.outcome.verified = left.is_empty();
    report.ok = report.outcome.verified;
    Ok(report)
}
