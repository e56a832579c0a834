//! `hardnode firewall plan|apply|status|remove`: the apiserver block, applied with the backend's
//! `iptables-restore --noflush` (one transaction per family: all of a family's change or none of
//! it), persisted in `/etc/rc.local` or a systemd unit, and verified by reading the tables back.
//!
//! The wanted rules and the comparison are the pure [`crate::firewall`] model, the state over the
//! gathered facts is [`crate::engine::firewall`], and the host is read by
//! [`crate::host::firewall::gather`]. This module decides the actions and runs them.

use serde::Serialize;

use super::netfilter::restore;
use super::{Lock, Outcome, RemedyError, rclocal, require_root, systemd};
use crate::cidr::{Cidr, Endpoint};
use crate::engine::firewall::{self as state, Built, Persisted, Status};
use crate::firewall::{self, Assessment, Hook, Listing, Persist, apply_script, remove_script};
use crate::host::HostRoot;
use crate::host::cluster_net::Found;
use crate::host::firewall::{FirewallFacts, Request, gather};
use crate::netfilter::{self, Backend, Family};

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
    state::build(facts).map_err(RemedyError::Usage)
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
        boot_lines: state::boot_lines(spec, facts),
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

/// What could not be read of the netfilter state `backend` (every backend when `None`) holds:
/// an undetectable backend and each table whose listing failed, by binary name.
fn unlisted(facts: &FirewallFacts, backend: Option<Backend>) -> Vec<String> {
    let mut problems: Vec<String> = facts.backend_error.iter().cloned().collect();
    for table in &facts.tables {
        if backend.is_some_and(|backend| backend != table.backend) {
            continue;
        }
        if let Err(error) = &table.listing {
            problems.push(format!(
                "cannot list {}: {error}",
                netfilter::binary_name(table.family, table.backend, false)
            ));
        }
    }
    problems
}

/// Refuses with [`RemedyError::Unverified`] (exit 3) when part of the state a command manages
/// could not be listed: it is never taken to be empty. `done` says what was changed already.
fn require_listed(
    facts: &FirewallFacts,
    backend: Option<Backend>,
    done: &str,
) -> Result<(), RemedyError> {
    let problems = unlisted(facts, backend);
    if problems.is_empty() {
        return Ok(());
    }
    Err(RemedyError::Unverified(format!(
        "{}; {done}",
        problems.join("; ")
    )))
}

fn plan_from(facts: &FirewallFacts, command: &'static str) -> Result<Report, RemedyError> {
    require_listed(facts, Some(facts.backend.value), "nothing was changed")?;
    let built = built(facts)?;
    let status = state::status(&built.spec, facts);
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
                firewall::rclocal::RC_LOCAL,
                firewall::rclocal::RC_LOCAL,
                super::BACKUP_SUFFIX
            ),
            Persist::Systemd => format!(
                "write {} and {}, enable it with {}",
                firewall::systemd::SCRIPT_PATH,
                firewall::systemd::UNIT_PATH,
                firewall::systemd::WANTS_LINK
            ),
            Persist::None => "nothing to persist".into(),
        });
    }
    // The persistence not chosen must not keep restoring old rules at boot.
    if facts.persist != Persist::RcLocal && stale_rc_local(facts) {
        report.outcome.actions.push(format!(
            "remove hardnode's block from {} (persisted by {} now)",
            firewall::rclocal::RC_LOCAL,
            facts.persist.as_str()
        ));
    }
    if facts.persist != Persist::Systemd && stale_systemd(facts) {
        report.outcome.actions.push(format!(
            "remove {} and its script (persisted by {} now)",
            firewall::systemd::UNIT_PATH,
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
        .is_some_and(|text| matches!(firewall::rclocal::find_block(text), Ok(Some(_)) | Err(_)))
}

fn stale_systemd(facts: &FirewallFacts) -> bool {
    facts
        .systemd_unit
        .value()
        .is_some_and(|text| text.contains(firewall::systemd::HEADER))
        || facts
            .systemd_script
            .value()
            .is_some_and(|text| text.contains(firewall::systemd::HEADER))
        || facts.systemd_link.as_deref() == Some(std::path::Path::new(firewall::systemd::UNIT_PATH))
}

/// The persistence of `apply`, staged before the kernel is touched.
enum StagedPersist {
    RcLocal(rclocal::Staged),
    Systemd(systemd::Staged),
    None,
}

/// Applies the plan (or, with `dry_run`, only reports it), then reads everything back.
///
/// Order: the persistence is written first to temp files beside its place (what a full or
/// read-only `/etc` makes fail, fails then, with nothing changed), then the kernel is changed
/// (one `iptables-restore` transaction per family), then the files are renamed into place. A
/// failure after the kernel changed says what was changed and the command that finishes
/// (`apply` again) or undoes it (`remove`).
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
    let lines = state::boot_lines(&built.spec, &facts);
    let persist_paths = match facts.persist {
        Persist::RcLocal => firewall::rclocal::RC_LOCAL.to_string(),
        Persist::Systemd => format!(
            "{} and {}",
            firewall::systemd::SCRIPT_PATH,
            firewall::systemd::UNIT_PATH
        ),
        Persist::None => "nothing".to_string(),
    };
    let unchanged = |error: RemedyError| {
        RemedyError::Interrupted(format!(
            "{error}; nothing was changed (the kernel's rules and {persist_paths} are as they were)"
        ))
    };
    let staged = match facts.persist {
        Persist::RcLocal => {
            StagedPersist::RcLocal(rclocal::stage(root, &lines).map_err(unchanged)?)
        }
        Persist::Systemd => {
            StagedPersist::Systemd(systemd::stage(root, &lines).map_err(unchanged)?)
        }
        Persist::None => StagedPersist::None,
    };
    let mut applied: Vec<String> = Vec::new();
    for change in &report.changes {
        if let Err(error) = restore(change.family, change.backend, &change.script) {
            let done = if applied.is_empty() {
                format!(
                    "nothing was changed (the kernel's rules and {persist_paths} are as they were)"
                )
            } else {
                format!(
                    "already applied: {}; {persist_paths} not written. Finish with `hardnode \
                     firewall apply` (same flags) or undo with `hardnode firewall remove`",
                    applied.join(", ")
                )
            };
            return Err(RemedyError::Refused {
                path: change.binary.clone().into(),
                reason: format!("{error}; {done}"),
            });
        }
        applied.push(change.binary.clone());
    }
    let kernel_done = if applied.is_empty() {
        "the kernel already held the rules".to_string()
    } else {
        format!(
            "the kernel now holds hardnode's rules ({})",
            applied.join(", ")
        )
    };
    let interrupted = |what: &str, error: RemedyError| {
        RemedyError::Interrupted(format!(
            "{kernel_done}, but {what}: {error}. Finish with `hardnode firewall apply` (same \
             flags) once that is fixed, or undo everything with `hardnode firewall remove`"
        ))
    };
    match staged {
        StagedPersist::RcLocal(staged) => {
            match staged
                .commit()
                .map_err(|error| interrupted("/etc/rc.local was not updated", error))?
            {
                rclocal::Written::Updated {
                    backup: Some(backup),
                } => report.outcome.actions.push(format!(
                    "keep the previous rc.local as {}",
                    root.display_path(&backup).display()
                )),
                rclocal::Written::Unchanged
                | rclocal::Written::Created
                | rclocal::Written::Updated { backup: None } => {}
            }
        }
        StagedPersist::Systemd(staged) => {
            staged
                .commit()
                .map_err(|error| interrupted("the systemd unit was not fully written", error))?;
        }
        StagedPersist::None => {}
    }
    if facts.persist != Persist::RcLocal && stale_rc_local(&facts) {
        rclocal::remove(root, false).map_err(|error| {
            interrupted(
                "hardnode's old block in /etc/rc.local was not removed",
                error,
            )
        })?;
    }
    if facts.persist != Persist::Systemd && stale_systemd(&facts) {
        systemd::remove(root, false)
            .map_err(|error| interrupted("hardnode's old systemd unit was not removed", error))?;
    }
    // Verify: read the kernel and the files again, with the same model `status` uses. A table
    // that cannot be listed now is not verified.
    let after = gather(root, request, None);
    require_listed(
        &after,
        Some(facts.backend.value),
        &format!("{kernel_done}, persisted with {}", facts.persist.as_str()),
    )?;
    let status = state::status(&built.spec, &after);
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

/// Reports whether the rules are in place and persisted. A table of the backend in use that
/// cannot be listed is an error (exit 3), not "not in place".
pub fn status(root: &HostRoot, request: &Request) -> Result<Report, RemedyError> {
    let facts = gather(root, request, None);
    require_listed(&facts, Some(facts.backend.value), "nothing was changed")?;
    let built = built(&facts)?;
    let status = state::status(&built.spec, &facts);
    let mut report = report("status", &facts, &built, &status);
    report.outcome.verified = status.ok();
    Ok(report)
}

/// Every loaded table of both backends and families, listed; an error for any that cannot be.
fn list_all() -> Result<Vec<(Backend, Family, Listing)>, Vec<String>> {
    let mut listed = Vec::new();
    let mut problems = Vec::new();
    for backend in Backend::ALL {
        for family in Family::ALL {
            if !netfilter::tables_loaded(family, backend) {
                continue;
            }
            match netfilter::list(family, backend, "filter") {
                Ok(lines) => listed.push((backend, family, Listing::parse(&lines))),
                Err(error) => problems.push(format!(
                    "cannot list {}: {error}",
                    netfilter::binary_name(family, backend, false)
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(listed)
    } else {
        Err(problems)
    }
}

/// Removes every rule hardnode manages, in both backends and both families, and its persistence.
///
/// Every table is listed first: one that cannot be listed (the xtables lock held by another
/// program) refuses the whole removal before anything changes (exit 3) — it may hold rules.
/// The rc.local edit is staged before the kernel is touched and renamed into place after.
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
    let listed = list_all().map_err(|problems| {
        RemedyError::Unverified(format!(
            "{}; nothing was changed (a table that cannot be listed may hold hardnode's rules)",
            problems.join("; ")
        ))
    })?;
    for (backend, family, listing) in &listed {
        if !listing.has_managed() {
            continue;
        }
        let binary = netfilter::binary_name(*family, *backend, true);
        report.outcome.actions.push(format!(
            "{binary}: remove chain {} and {} jump(s)",
            firewall::CHAIN,
            listing.jumps().count()
        ));
        report.changes.push(Change {
            binary,
            family: *family,
            backend: *backend,
            script: remove_script(listing),
        });
    }
    let rc_local_block = rclocal::remove(root, true)?;
    if rc_local_block {
        report.outcome.actions.push(format!(
            "remove hardnode's block from {}",
            firewall::rclocal::RC_LOCAL
        ));
    }
    let systemd_files = systemd::remove(root, true)?;
    for path in &systemd_files {
        report
            .outcome
            .actions
            .push(format!("remove {}", path.display()));
    }
    report.outcome.changed = !report.outcome.actions.is_empty();
    if dry_run {
        return Ok(report);
    }
    // The new rc.local is written beside the old one before the kernel changes.
    let staged = rclocal::stage_remove(root).map_err(|error| {
        RemedyError::Interrupted(format!(
            "{error}; nothing was changed (the kernel's rules and {} are as they were)",
            firewall::rclocal::RC_LOCAL
        ))
    })?;
    let mut removed: Vec<String> = Vec::new();
    for change in &report.changes {
        if let Err(error) = restore(change.family, change.backend, &change.script) {
            let done = if removed.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("already removed from {}", removed.join(", "))
            };
            return Err(RemedyError::Interrupted(format!(
                "{}: {error}; {done}; {} and the systemd unit are unchanged. Run `hardnode \
                 firewall remove` again to finish",
                change.binary,
                firewall::rclocal::RC_LOCAL
            )));
        }
        removed.push(change.binary.clone());
    }
    let interrupted = |what: &str, error: RemedyError| {
        RemedyError::Interrupted(format!(
            "hardnode's rules are out of the kernel{}, but {what}: {error}; they come back at \
             the next boot until it is. Run `hardnode firewall remove` again once that is fixed",
            if removed.is_empty() {
                String::new()
            } else {
                format!(" (removed from {})", removed.join(", "))
            }
        ))
    };
    if let Some(prepared) = staged {
        prepared
            .commit()
            .map_err(|error| interrupted("hardnode's block is still in /etc/rc.local", error))?;
    }
    if !systemd_files.is_empty() {
        systemd::remove(root, false)
            .map_err(|error| interrupted("the systemd unit was not removed", error))?;
    }
    // Verify: nothing of hardnode's is left in any table, every table listed.
    let listed = list_all().map_err(|problems| {
        RemedyError::Unverified(format!(
            "{}; done: {}",
            problems.join("; "),
            report.outcome.actions.join("; ")
        ))
    })?;
    let left: Vec<String> = listed
        .iter()
        .filter(|(_, _, listing)| listing.has_managed())
        .map(|(backend, family, _)| netfilter::binary_name(*family, *backend, false))
        .collect();
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
