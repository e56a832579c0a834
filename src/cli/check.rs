//! `hardnode check`, `facts`, `rules` and `containers`: the benchmark run and what it reads, and
//! their flags.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{
    Error, GlobalArgs, ReportFormat, emit, load_policy, load_rules, open_root, print, restrict_for,
    select_with_profile, use_color,
};
use crate::benchmark::Decision;
use crate::engine::{self, Status};
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::host;
use crate::privilege;
use crate::report::{self, Report};

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Extra or overriding rules (TOML); a rule with an existing id replaces it. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Vec<PathBuf>,
    /// Only these rules: ids, sections (`kernel`), CIS ids or prefixes (`4.2`). Comma-separated.
    #[arg(long, value_name = "ID,...")]
    pub only: Vec<String>,
    /// Skip these rules (reported as `skip`); same forms as --only.
    #[arg(long, value_name = "ID,...")]
    pub skip: Vec<String>,
    /// The benchmark profile whose ids the results also carry and --only/--skip accept
    /// (`cis-eks-1.5.0`, `k3s-cis-1.9`, …): `auto` (default) from the detected platform, `none`.
    #[arg(long, value_name = "ID|auto|none")]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// `text` for people; `json` (hardnode.report/v1); `junit` XML for CI; `prometheus` for
    /// node-exporter's textfile collector (use with --output); `sarif` 2.1.0 for code scanning.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which statuses make the exit code 1: `fail` (default), `warn` (fail and warn), `error`
    /// (fail and error). Comma-separated to combine.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fail")]
    pub fail_on: Vec<FailOn>,
    /// Prometheus: per-section counts instead of five series per rule (large fleets).
    #[arg(long)]
    pub low_cardinality: bool,
    /// SARIF: include pass and skip results too (default: only fail, warn and error).
    #[arg(long)]
    pub sarif_all: bool,
    /// Text: print only fail, warn and error results and the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Junit,
    Prometheus,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Fail,
    Warn,
    Error,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Extra or overriding rules (TOML). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ContainersArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

pub(super) fn check(global: &GlobalArgs, args: &CheckArgs) -> Result<u8, Error> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let root = open_root(global)?;
    let (selected, profile) = select_with_profile(&args.select, &root)?;
    let mut policy = load_policy(global, &root)?;
    host::profile_sources::require_declared(&root, &mut policy);
    let to_evaluate = selected
        .iter()
        .filter(|(_, decision)| *decision == Decision::Evaluate)
        .map(|(rule, _)| rule);
    let needs = engine::needs(to_evaluate, &policy);
    restrict_for(&needs);
    let facts = host::gather(&root, &needs);
    if !policy.waivers.is_empty() {
        // Against every rule, not only the selected ones: `--only` does not make a waiver a typo.
        let all = super::load_rules(&args.select.benchmark)?;
        // Profile ids name rules too (`[[waiver]] rule = "3.2.1"` on EKS).
        let profiles = crate::benchmark::profiles::load_profiles(&all).unwrap_or_default();
        let known: Vec<(&str, Option<&str>)> = all
            .iter()
            .map(|rule| (rule.id.as_str(), rule.cis.as_deref()))
            .chain(
                profiles
                    .iter()
                    .flat_map(|profile| profile.ids.values())
                    .map(|id| (id.as_str(), None)),
            )
            .collect();
        check_waivers(global, &policy, &known)?;
    }
    let mut findings: Vec<_> = selected
        .iter()
        .map(|(rule, decision)| match decision {
            Decision::Deselected(reason) => {
                engine::deselected(rule, reason.clone(), &facts, &policy)
            }
            _ => engine::evaluate(rule, &facts, &policy),
        })
        .collect();
    let chosen_profile = profile.finish(&facts.host.platform);
    // The profile's ids first, so a waiver may name a result by them.
    if let Some((profile, _)) = &chosen_profile {
        for finding in &mut findings {
            finding.profile_id = profile.ids.get(&finding.id).cloned();
        }
    }
    engine::waivers::apply(&mut findings, &policy.waivers, today(started));
    let mut report = Report::new(&facts, findings);
    if let Some((profile, chosen)) = chosen_profile {
        report.apply_profile(&profile, chosen);
    }
    report.generated = Some(crate::date::rfc3339(
        started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(0)),
    ));
    let run = report::RunInfo {
        started_unix_seconds: started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64()),
        duration_seconds: clock.elapsed().as_secs_f64(),
    };

    let color = use_color(global.color, args.output.is_some());
    let mut buffer = Vec::new();
    let rendered = match args.format {
        CheckFormat::Text => report::render_text(
            &report,
            &report::TextOptions {
                color,
                width: super::text_width(args.output.is_some()),
                quiet: args.quiet,
            },
            &mut buffer,
        ),
        CheckFormat::Json => report::render_json(&report, &mut buffer),
        CheckFormat::Junit => report::render_junit(&report, &mut buffer),
        CheckFormat::Prometheus => {
            report::render_prometheus(&report, &run, args.low_cardinality, &mut buffer)
        }
        CheckFormat::Sarif => report::render_sarif(&report, args.sarif_all, &mut buffer),
    };
    rendered.map_err(|source| Error::Output {
        what: "report".into(),
        source,
    })?;
    emit(&buffer, args.output.as_deref())?;

    // A result under a current waiver does not count (it keeps its status in the report).
    let counts = |status| report.counted(status);
    // `fail` always counts; --fail-on adds warn and/or error.
    let failing = counts(Status::Fail) > 0
        || args.fail_on.iter().any(|level| match level {
            FailOn::Fail => false,
            FailOn::Warn => counts(Status::Warn) > 0,
            FailOn::Error => counts(Status::Error) > 0,
        });
    if counts(Status::Error) > 0 {
        eprintln!(
            "hardnode: {} rule(s) could not be evaluated (status `error`); see their reasons",
            counts(Status::Error)
        );
    }
    // The process ends with this command: its memory goes back with it, without freeing every
    // finding, container and setting one by one first (a measurable share of a 15 ms run).
    std::mem::forget(report);
    std::mem::forget(facts);
    std::mem::forget(selected);
    Ok(if failing { EXIT_FAIL } else { EXIT_OK })
}

/// Today's date (UTC) for waiver expiry.
fn today(now: std::time::SystemTime) -> crate::date::Date {
    let seconds = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    crate::date::Date::from_unix(seconds)
}

/// A waiver that names no rule of this benchmark is a config error: it would silently waive
/// nothing (a typo), or outlive the rule it was written for.
fn check_waivers(
    global: &GlobalArgs,
    policy: &crate::config::Policy,
    rules: &[(&str, Option<&str>)],
) -> Result<(), Error> {
    let unknown = crate::config::waiver::unknown_rules(&policy.waivers, rules);
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::Config {
        path: policy
            .source
            .clone()
            .or_else(|| global.config.clone())
            .unwrap_or_else(|| crate::config::DEFAULT_CONFIG_PATH.into()),
        message: format!(
            "[[waiver]] for unknown rule(s): {} (a rule id or CIS id from `hardnode rules`, or a benchmark profile's id)",
            unknown
                .iter()
                .map(|waiver| waiver.rule.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

pub(super) fn facts(global: &GlobalArgs, args: &FactsArgs) -> Result<u8, Error> {
    let root = open_root(global)?;
    let (selected, _) = select_with_profile(&args.select, &root)?;
    let mut policy = load_policy(global, &root)?;
    host::profile_sources::require_declared(&root, &mut policy);
    let needs = engine::needs(
        selected
            .iter()
            .filter(|(_, decision)| *decision == Decision::Evaluate)
            .map(|(rule, _)| rule),
        &policy,
    );
    let privilege_notes = restrict_for(&needs);
    let mut facts = host::gather(&root, &needs);
    facts.privileges = Some(privilege::current(privilege_notes));
    print("facts", |buffer| report::render_json(&facts, buffer))?;
    Ok(EXIT_OK)
}

pub(super) fn containers(global: &GlobalArgs, args: &ContainersArgs) -> Result<u8, Error> {
    let root = open_root(global)?;
    let needs = host::Needs {
        containers: true,
        apparmor: true,
        ..host::Needs::default()
    };
    let facts = host::gather(&root, &needs);
    let Some(containers) = &facts.containers else {
        return Ok(EXIT_OK);
    };
    if let Some(error) = &containers.listing_error {
        return Err(Error::Root {
            path: global.root.clone(),
            message: error.clone(),
        });
    }
    let apparmor_enabled = facts
        .apparmor
        .as_ref()
        .is_some_and(engine::apparmor_is_enabled);
    let listing = report::ContainerListing {
        schema: report::CONTAINERS_SCHEMA,
        root: facts.host.root.clone(),
        hostname: facts.host.hostname.value().cloned(),
        processes_scanned: containers.processes_scanned,
        unreadable_processes: containers.unreadable_count,
        host_reference_pid: containers.host.pid,
        host_reference_note: containers.host.note.clone(),
        apparmor_enabled,
        containers: engine::containers::views(containers, apparmor_enabled),
    };
    print("container list", |buffer| match args.format {
        ReportFormat::Text => report::render_containers_text(&listing, buffer),
        ReportFormat::Json => report::render_json(&listing, buffer),
    })?;
    Ok(EXIT_OK)
}

pub(super) fn rules(args: &RulesArgs) -> Result<u8, Error> {
    let rules = load_rules(&args.benchmark)?;
    print("rule list", |buffer| match args.format {
        ReportFormat::Text => report::render_rules_text(&rules, buffer),
        ReportFormat::Json => report::render_json(&report::rule_listing(&rules), buffer),
    })?;
    Ok(EXIT_OK)
}
