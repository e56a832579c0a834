//! The command line: clap definitions, dispatch, and the mapping of outcomes to exit codes.
//! This is the edge: it is the only place besides `report` that writes to stdout/stderr.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::benchmark::{self, Decision, Rule, Selection};
use crate::config::{DEFAULT_CONFIG_PATH, Policy};
use crate::engine::{self, Status};
use crate::error::{EXIT_FAIL, EXIT_OK, Error};
use crate::host::{self, HostRoot};
use crate::manifest::{self, Input};
use crate::privilege;
use crate::report::{self, Report};

const EXAMPLES: &str = "\
Examples:
  hardnode check                              benchmark this node, text report
  hardnode check --format json > node.json    machine-readable report (hardnode.report/v1)
  hardnode check --only kernel,apparmor       only these sections (or rule ids, CIS ids like 4.2)
  hardnode check --root /host                 a host mounted at /host (DaemonSet)
  hardnode facts                              everything hardnode read, as JSON, for bug reports
  hardnode rules                              list every rule
  hardnode containers                         every container on the node and its confinement
  hardnode seccomp lint profiles/*.json       validate seccomp profiles
  hardnode profiles install --apparmor DIR --seccomp DIR   install, load and verify profiles
  hardnode fix files --dry-run                what the file-permission rules would tighten
  hardnode report merge --format html --output fleet.html reports/*.json
                                              one page for the whole fleet
  hardnode manifest scan deploy/ --min-score 5
                                              score workload YAML against pod-hardening rules
  kubectl get pods -A -o yaml | hardnode manifest scan -

Exit codes: 0 no failure, 1 a rule failed (see --fail-on), 2 usage or config error,
3 runtime error (host root unreadable).";

#[derive(Debug, Parser)]
#[command(
    name = "hardnode",
    version,
    about = "Benchmark and harden a Kubernetes node: kernel, AppArmor, seccomp, components, containers.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Host root prefix: `/` on the node itself, `/host` in a DaemonSet, a fixture dir in tests.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Site policy TOML [default: /etc/hardnode/config.toml under the root, when it exists].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Colour in text output; `auto` honours NO_COLOR and colours only a terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the benchmark against the host.
    Check(CheckArgs),
    /// Print the facts gathered from the host as JSON (attach this to bug reports).
    Facts(FactsArgs),
    /// List every rule: id, CIS id, section, severity, scored, title.
    Rules(RulesArgs),
    /// Every container running on this node with its confinement, worst first.
    Containers(ContainersArgs),
    /// Seccomp profile tools.
    #[command(subcommand)]
    Seccomp(SeccompCommand),
    /// Pod manifest tools: score workload specs against pod-hardening rules.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Block the container CIDR from the kube-apiserver with iptables, persisted across reboots.
    #[command(subcommand, after_help = FIREWALL_EXAMPLES)]
    Firewall(FirewallCommand),
    /// Work with saved reports: merge many nodes' JSON reports into one fleet view.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Install AppArmor and seccomp profiles on this node; show what is installed and loaded.
    #[command(subcommand, after_help = PROFILES_EXAMPLES)]
    Profiles(ProfilesCommand),
    /// Remediate what the file rules found: tighten modes and owners.
    #[command(subcommand)]
    Fix(FixCommand),
}

const PROFILES_EXAMPLES: &str = "\
Examples:
  hardnode profiles install --apparmor examples/apparmor --seccomp examples/seccomp
  hardnode profiles install                  what [profiles] of the site config lists
  hardnode profiles install --dry-run --format json
  hardnode profiles status                   installed, loaded, wanted, referenced by running pods

Exit codes: 0 done (changed or already in place), 1 not verified (e.g. installed but not loaded),
2 an invalid profile or bad input (nothing installed), 3 runtime error (apparmor_parser failed).";

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Validate, install (only when different), load and verify profiles; idempotent.
    Install(ProfilesInstallArgs),
    /// What is installed and loaded, what [profiles] wants, what running pods use but the node lacks.
    Status(ProfilesStatusArgs),
}

#[derive(Debug, Args)]
pub struct ProfilesInstallArgs {
    /// AppArmor profile file, or a directory of them; repeatable [default: [profiles] apparmor].
    #[arg(long, value_name = "DIR|FILE")]
    pub apparmor: Vec<PathBuf>,
    /// Seccomp profile file, or a directory (every *.json below it, layout kept); repeatable
    /// [default: [profiles] seccomp].
    #[arg(long, value_name = "DIR|FILE")]
    pub seccomp: Vec<PathBuf>,
    /// Load AppArmor profiles in complain mode (they log instead of deny): discovery runs.
    #[arg(long)]
    pub complain: bool,
    /// Print what would change and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ProfilesStatusArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub enum FixCommand {
    /// Tighten the modes and owners the CIS 1.1.x / 4.1.x file rules found too loose.
    Files(FixFilesArgs),
}

#[derive(Debug, Args)]
pub struct FixFilesArgs {
    /// Only these rules: ids, CIS ids or prefixes (`4.1.9`, `1.1`). Comma-separated.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Extra or overriding rules (TOML). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Vec<PathBuf>,
    /// Print the changes and make none.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

const FIREWALL_EXAMPLES: &str = "\
Examples:
  hardnode firewall plan                                   auto-detect CIDR and apiserver, show the rules
  hardnode firewall apply --container-cidr 10.244.0.0/16 --apiserver 192.0.2.10:6443 --mode forward
  hardnode firewall apply --dry-run --format json          the plan as JSON, nothing changed
  hardnode firewall status                                 exit 0 when in place and persisted, 1 otherwise
  hardnode firewall remove                                 every hardnode rule (both backends) and its persistence

Exit codes: 0 done or in place, 1 verification/status failed, 2 bad or unsafe input,
3 runtime error (not root, iptables failed, lock held).";

#[derive(Debug, Subcommand)]
pub enum FirewallCommand {
    /// Show what `apply` would change (rules, rc.local block, detected inputs and their sources).
    Plan(FirewallArgs),
    /// Apply the rules and persist them; idempotent (`changed: false` when already in place).
    Apply(FirewallApplyArgs),
    /// Read the rules and persistence back; exit 1 unless in place, first in their chains, persisted.
    Status(FirewallArgs),
    /// Remove every rule hardnode manages, in both backends, and its rc.local block / systemd unit.
    Remove(FirewallRemoveArgs),
}

#[derive(Debug, Args)]
pub struct FirewallArgs {
    /// Container (pod) CIDR to block; repeatable, IPv4 and IPv6 [default: detected].
    #[arg(long = "container-cidr", value_name = "CIDR")]
    pub container_cidr: Vec<crate::cidr::Cidr>,
    /// Apiserver address, with a port to block TCP to that port only; repeatable
    /// (`192.0.2.10:6443`, `[2001:db8::10]:6443`) [default: server of /etc/kubernetes/kubelet.conf].
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub apiserver: Vec<crate::cidr::Endpoint>,
    /// Chains: output (routed/VPC), forward (overlay/tunnel), input (host-network apiserver on
    /// this node), all (output + forward, + input when the apiserver is local). Repeatable.
    #[arg(long, value_enum)]
    pub mode: Vec<FirewallMode>,
    /// Sources exempted from the block (e.g. CoreDNS, a CNI controller); repeatable.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<crate::cidr::Cidr>,
    /// How the rules come back after a reboot [default: rc-local].
    #[arg(long, value_enum)]
    pub persist: Option<FirewallPersist>,
    /// iptables backend [default: the one kube-proxy uses].
    #[arg(long, value_enum)]
    pub backend: Option<FirewallBackend>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct FirewallApplyArgs {
    #[command(flatten)]
    pub common: FirewallArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct FirewallRemoveArgs {
    /// Print what would be removed and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FirewallMode {
    Output,
    Forward,
    Input,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FirewallPersist {
    RcLocal,
    Systemd,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FirewallBackend {
    Legacy,
    Nft,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge `hardnode check --format json` reports (one per node) into a rules × nodes matrix,
    /// failing rules first. Exit 1 when any node has a `fail`.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files (hardnode.report/v1 JSON), one per node.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `text` for a terminal, `html` for one self-contained page (no external assets).
    #[arg(long, value_enum, default_value_t = MergeFormat::Text)]
    pub format: MergeFormat,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MergeFormat {
    Text,
    Html,
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
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

#[derive(Debug, Subcommand)]
pub enum SeccompCommand {
    /// Validate seccomp profile files (the validator behind the `seccomp.profiles` rule).
    Lint(LintArgs),
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Score workload specs against pod-hardening rules (kubesec-compatible points).
    ///
    /// Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and
    /// CronJob objects (and List items) are scored: critical hits, advice ordered by points,
    /// rules passed. Exit 1 when an object scores below --min-score (default: any critical hit)
    /// or references a profile the node does not have; 2 when an input cannot be read or parsed.
    Scan(ManifestScanArgs),
    /// List the pod-hardening rules: id, points, scope, selector, reason.
    Rules(ManifestRulesArgs),
}

#[derive(Debug, Args)]
pub struct ManifestRulesArgs {
    /// Extra or overriding pod rules (TOML). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ManifestScanArgs {
    /// YAML (multi-document) or JSON files, directories (their *.yaml, *.yml, *.json), or `-`
    /// for stdin. Read from this machine (relative to the current directory), not under --root.
    #[arg(required = true, value_name = "FILE|DIR|-")]
    pub inputs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Fail (exit 1) when an object scores below N [default: fail on any critical rule hit].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub min_score: Option<i64>,
    /// Cross-check the Localhost seccomp / AppArmor profiles the manifests reference against the
    /// node at --root (installed and loaded). Implied when --root is not `/`.
    #[arg(long)]
    pub node: bool,
    /// Extra or overriding pod rules (TOML, the format of rules/pod.toml); a rule with an
    /// existing id replaces it. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    // Every command gives up the privileges it does not need before it reads anything.
    let keep = match &cli.command {
        // check and facts drop to a read-only superset now and again once they know what they
        // will read: only a configured `firewall.apiserver-blocked` needs the netfilter listing
        // capabilities, and the site config says whether it is configured.
        Command::Check(_) | Command::Facts(_) => Some(privilege::BEFORE_NEEDS_CAPABILITIES),
        Command::Rules(_) | Command::Containers(_) | Command::Seccomp(_) | Command::Report(_) => {
            Some(privilege::READ_CAPABILITIES)
        }
        // Listing the kernel's iptables rules needs CAP_NET_ADMIN (nf_tables netlink) and
        // CAP_NET_RAW (legacy's raw socket).
        Command::Firewall(FirewallCommand::Plan(_) | FirewallCommand::Status(_)) => {
            Some(privilege::NETFILTER_READ_CAPABILITIES)
        }
        // apply/remove change netfilter and write root-owned files: they keep what they have.
        Command::Firewall(FirewallCommand::Apply(_) | FirewallCommand::Remove(_)) => None,
        Command::Manifest(_) => Some(privilege::READ_CAPABILITIES),
        Command::Profiles(ProfilesCommand::Status(_)) => Some(privilege::READ_CAPABILITIES),
        Command::Profiles(ProfilesCommand::Install(_)) => {
            Some(privilege::PROFILE_INSTALL_CAPABILITIES)
        }
        Command::Fix(FixCommand::Files(_)) => Some(privilege::FILE_FIX_CAPABILITIES),
    };
    if let Some(keep) = keep {
        privilege::restrict_to(keep);
    }
    let result = match &cli.command {
        Command::Check(args) => check(&cli.global, args),
        Command::Facts(args) => facts(&cli.global, args),
        Command::Rules(args) => rules(args),
        Command::Containers(args) => containers(&cli.global, args),
        Command::Seccomp(SeccompCommand::Lint(args)) => lint(args),
        Command::Manifest(ManifestCommand::Scan(args)) => manifest_scan(&cli.global, args),
        Command::Manifest(ManifestCommand::Rules(args)) => manifest_rules(args),
        Command::Firewall(command) => firewall_command(&cli.global, command),
        Command::Report(ReportCommand::Merge(args)) => merge_reports(args),
        Command::Profiles(ProfilesCommand::Install(args)) => profiles_install(&cli.global, args),
        Command::Profiles(ProfilesCommand::Status(args)) => profiles_status(&cli.global, args),
        Command::Fix(FixCommand::Files(args)) => fix_files(&cli.global, args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("hardnode: error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Drops every capability the gathering of `needs` does not use (only the site config, the rule
/// files and the profile sources have been read so far, with [`privilege::BEFORE_NEEDS_CAPABILITIES`]),
/// returning notes on what could not be dropped.
fn restrict_for(needs: &host::Needs) -> Vec<String> {
    if needs.firewall.is_some() {
        privilege::restrict_to(privilege::NETFILTER_READ_CAPABILITIES)
    } else {
        privilege::restrict_to(privilege::READ_CAPABILITIES)
    }
}

fn open_root(global: &GlobalArgs) -> Result<HostRoot, Error> {
    let root = HostRoot::new(&global.root).map_err(|error| Error::Root {
        path: global.root.clone(),
        message: error.to_string(),
    })?;
    if root.is_live() && !nix::unistd::geteuid().is_root() {
        eprintln!(
            "hardnode: warning: not running as root; files only root can read are reported as `error`"
        );
    }
    Ok(root)
}

fn load_policy(global: &GlobalArgs, root: &HostRoot) -> Result<Policy, Error> {
    if let Some(path) = &global.config {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Config {
            path: path.clone(),
            message: format!("cannot read site config: {error}"),
        })?;
        return Policy::parse(path, &text);
    }
    let default = Path::new(DEFAULT_CONFIG_PATH);
    match root.read_to_string(default) {
        Ok(text) => Policy::parse(default, &text),
        Err(host::ReadError::NotFound) => Ok(Policy::default()),
        Err(error) => Err(Error::Config {
            path: default.to_path_buf(),
            message: format!("cannot read site config: {error}"),
        }),
    }
}

fn load_rules(extra: &[PathBuf]) -> Result<Vec<Rule>, Error> {
    let mut rules = benchmark::load_embedded()?;
    for path in extra {
        benchmark::merge(&mut rules, benchmark::load_file(path)?);
    }
    Ok(rules)
}

/// The rules a run evaluates and those reported as deselected, in rule order.
fn select(args: &SelectArgs) -> Result<Vec<(Rule, Decision)>, Error> {
    let rules = load_rules(&args.benchmark)?;
    let selection = Selection::from_lists(&args.only, &args.skip);
    selection.validate(&rules)?;
    Ok(rules
        .into_iter()
        .map(|rule| {
            let decision = selection.decide(&rule);
            (rule, decision)
        })
        .filter(|(_, decision)| *decision != Decision::Omitted)
        .collect())
}

fn check(global: &GlobalArgs, args: &CheckArgs) -> Result<u8, Error> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let selected = select(&args.select)?;
    let root = open_root(global)?;
    let mut policy = load_policy(global, &root)?;
    host::profile_sources::require_declared(&root, &mut policy);
    let to_evaluate = selected
        .iter()
        .filter(|(_, decision)| *decision == Decision::Evaluate)
        .map(|(rule, _)| rule);
    let needs = engine::needs(to_evaluate, &policy);
    restrict_for(&needs);
    let facts = host::gather(&root, &needs);
    let findings = selected
        .iter()
        .map(|(rule, decision)| match decision {
            Decision::Deselected(reason) => {
                engine::deselected(rule, reason.clone(), &facts, &policy)
            }
            _ => engine::evaluate(rule, &facts, &policy),
        })
        .collect();
    let report = Report::new(&facts, findings);
    let run = report::RunInfo {
        started_unix_seconds: started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64()),
        duration_seconds: clock.elapsed().as_secs_f64(),
    };

    let color = use_color(global.color, args.output.is_some());
    let mut buffer = Vec::new();
    let rendered = match args.format {
        CheckFormat::Text => report::render_text(&report, color, &mut buffer),
        CheckFormat::Json => report::render_json(&report, &mut buffer),
        CheckFormat::Junit => report::render_junit(&report, &mut buffer),
        CheckFormat::Prometheus => report::render_prometheus(&report, &run, &mut buffer),
        CheckFormat::Sarif => report::render_sarif(&report, &mut buffer),
    };
    rendered.map_err(|source| Error::Output {
        what: "report".into(),
        source,
    })?;
    emit(&buffer, args.output.as_deref())?;

    let counts = |status| report.summary.count(status);
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

fn facts(global: &GlobalArgs, args: &FactsArgs) -> Result<u8, Error> {
    let selected = select(&args.select)?;
    let root = open_root(global)?;
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

fn containers(global: &GlobalArgs, args: &ContainersArgs) -> Result<u8, Error> {
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

fn rules(args: &RulesArgs) -> Result<u8, Error> {
    let rules = load_rules(&args.benchmark)?;
    print("rule list", |buffer| match args.format {
        ReportFormat::Text => report::render_rules_text(&rules, buffer),
        ReportFormat::Json => report::render_json(&report::rule_listing(&rules), buffer),
    })?;
    Ok(EXIT_OK)
}

#[derive(Debug, serde::Serialize)]
struct LintResult {
    file: PathBuf,
    valid: bool,
    deny_list: bool,
    summary: Option<crate::seccomp::ProfileSummary>,
    problems: Vec<crate::seccomp::Problem>,
}

fn lint(args: &LintArgs) -> Result<u8, Error> {
    let live = HostRoot::new("/").map_err(|error| Error::Root {
        path: "/".into(),
        message: error.to_string(),
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut results = Vec::new();
    for file in &args.files {
        let absolute = cwd.join(file);
        let bytes = match live.read_capped(&absolute, host::root::DEFAULT_READ_CAP) {
            Err(host::ReadError::NotFound) => {
                return Err(Error::Usage(format!("{}: no such file", file.display())));
            }
            other => other.map_err(|error| error.to_string()),
        };
        let result = match bytes.map(|bytes| crate::seccomp::validate(&bytes)) {
            Ok(Ok(summary)) => LintResult {
                file: file.clone(),
                valid: true,
                deny_list: summary.deny_list,
                summary: Some(summary),
                problems: Vec::new(),
            },
            Ok(Err(problems)) => LintResult {
                file: file.clone(),
                valid: false,
                deny_list: false,
                summary: None,
                problems,
            },
            Err(message) => LintResult {
                file: file.clone(),
                valid: false,
                deny_list: false,
                summary: None,
                problems: vec![crate::seccomp::Problem {
                    path: "$".into(),
                    message,
                }],
            },
        };
        results.push(result);
    }
    print("lint results", |buffer| match args.format {
        ReportFormat::Json => report::render_json(&results, buffer),
        ReportFormat::Text => render_lint_text(&results, buffer),
    })?;
    Ok(if results.iter().all(|r| r.valid) {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}

/// Reads stdin for `-`, at most the read cap.
fn read_stdin() -> Input {
    let mut text = String::new();
    let limit = manifest::yaml::MAX_MANIFEST_BYTES;
    let read = io::stdin().lock().take(limit + 1).read_to_string(&mut text);
    let text = match read {
        Ok(size) if size as u64 > limit => Err(format!("is larger than the {limit}-byte read cap")),
        Ok(_) => Ok(text),
        Err(error) => Err(format!("cannot read stdin: {error}")),
    };
    Input {
        name: "-".into(),
        text,
    }
}

/// The shipped pod rules plus `--rules` files (same id replaces).
fn load_pod_rules(extra: &[PathBuf]) -> Result<manifest::rules::RuleSet, Error> {
    let mut rules = manifest::rules::load_embedded()?;
    for path in extra {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Config {
            path: path.clone(),
            message: format!("cannot read rule file: {error}"),
        })?;
        let origin = path.display().to_string();
        rules.merge(manifest::rules::load_str(&origin, &text)?);
        rules.validate(&origin)?;
    }
    Ok(rules)
}

fn manifest_rules(args: &ManifestRulesArgs) -> Result<u8, Error> {
    let rules = load_pod_rules(&args.rules)?;
    print("rule list", |buffer| match args.format {
        ReportFormat::Text => report::render_pod_rules_text(&rules, buffer),
        ReportFormat::Json => report::render_json(&report::pod_rule_listing(&rules), buffer),
    })?;
    Ok(EXIT_OK)
}

fn manifest_scan(global: &GlobalArgs, args: &ManifestScanArgs) -> Result<u8, Error> {
    let rules = load_pod_rules(&args.rules)?;
    if args.inputs.iter().filter(|i| i.as_os_str() == "-").count() > 1 {
        return Err(Error::Usage("`-` (stdin) can be given only once".into()));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut inputs = Vec::new();
    for name in &args.inputs {
        if name.as_os_str() == "-" {
            inputs.push(read_stdin());
        } else {
            inputs.extend(host::manifests::read_inputs(
                std::slice::from_ref(name),
                &cwd,
            ));
        }
    }
    // A node to cross-check Localhost profiles against: asked for, or implied by --root.
    let node = if args.node || global.root != Path::new("/") {
        let root = open_root(global)?;
        let policy = load_policy(global, &root)?;
        Some((root, policy.seccomp.profile_dir))
    } else {
        None
    };
    let report = manifest::scan(&inputs, &rules, args.min_score, |refs| {
        node.as_ref()
            .map(|(root, seccomp_dir)| host::manifests::node_profiles(root, seccomp_dir, refs))
    });

    print("scan report", |buffer| match args.format {
        ScanFormat::Text => {
            let color = use_color(global.color, false);
            report::render_manifest_text(&report, color, buffer)
        }
        ScanFormat::Json => report::render_json(&report, buffer),
        ScanFormat::Sarif => {
            report::sarif::render_sarif(&report::manifest_sarif(&report, &rules), buffer)
        }
    })?;

    for error in &report.errors {
        eprintln!("hardnode: {error}");
    }
    Ok(report.exit_code())
}

fn render_lint_text(results: &[LintResult], out: &mut dyn Write) -> io::Result<()> {
    for result in results {
        let file = result.file.display();
        match &result.summary {
            Some(summary) if summary.deny_list => writeln!(
                out,
                "{file}: valid, but a deny-list: defaultAction {} allows every syscall not listed",
                summary.default_action
            )?,
            Some(summary) => writeln!(
                out,
                "{file}: valid (defaultAction {}, {} syscall rules)",
                summary.default_action, summary.syscall_rules
            )?,
            None => {
                writeln!(out, "{file}: invalid")?;
                for problem in &result.problems {
                    writeln!(out, "  {problem}")?;
                }
            }
        }
    }
    let invalid = results.iter().filter(|r| !r.valid).count();
    writeln!(out, "{} files, {} invalid", results.len(), invalid)
}

/// Flags over the site config's `[firewall]`, each value labelled with where it came from.
fn firewall_request(args: &FirewallArgs, policy: &Policy) -> crate::host::firewall::Request {
    use crate::firewall::{Mode, Persist};
    use crate::host::cluster_net::Found;
    use crate::remedy::netfilter::Backend;
    let mut request = policy
        .firewall
        .as_ref()
        .map(|section| section.request(&policy.source_label()))
        .unwrap_or_default();
    if !args.container_cidr.is_empty() {
        request.container_cidrs = args
            .container_cidr
            .iter()
            .map(|cidr| Found::new(*cidr, "flag --container-cidr"))
            .collect();
    }
    if !args.apiserver.is_empty() {
        request.apiservers = args
            .apiserver
            .iter()
            .map(|api| Found::new(*api, "flag --apiserver"))
            .collect();
    }
    if !args.mode.is_empty() {
        request.modes = args
            .mode
            .iter()
            .map(|mode| match mode {
                FirewallMode::Output => Mode::Output,
                FirewallMode::Forward => Mode::Forward,
                FirewallMode::Input => Mode::Input,
                FirewallMode::All => Mode::All,
            })
            .collect();
    }
    if !args.allow.is_empty() {
        request.allow = args.allow.clone();
    }
    if let Some(persist) = args.persist {
        request.persist = Some(match persist {
            FirewallPersist::RcLocal => Persist::RcLocal,
            FirewallPersist::Systemd => Persist::Systemd,
            FirewallPersist::None => Persist::None,
        });
    }
    if let Some(backend) = args.backend {
        let backend = match backend {
            FirewallBackend::Legacy => Backend::Legacy,
            FirewallBackend::Nft => Backend::Nft,
        };
        request.backend = Some(Found::new(backend, "flag --backend"));
    }
    request
}

fn firewall_command(global: &GlobalArgs, command: &FirewallCommand) -> Result<u8, Error> {
    use crate::remedy::firewall as remedy;
    let root = HostRoot::new(&global.root).map_err(|error| Error::Root {
        path: global.root.clone(),
        message: error.to_string(),
    })?;
    let policy = load_policy(global, &root)?;
    let (report, format) = match command {
        FirewallCommand::Plan(args) => (
            remedy::plan(&root, &firewall_request(args, &policy))?,
            args.format,
        ),
        FirewallCommand::Apply(args) => {
            let request = firewall_request(&args.common, &policy);
            if !args.dry_run && args.common.format == ReportFormat::Text {
                // Print the plan before acting, so an interrupted run still showed its intent.
                if let Ok(plan) = remedy::plan(&root, &request) {
                    let mut buffer = Vec::new();
                    if report::render_firewall_text(&plan, &mut buffer).is_ok() {
                        eprint!("{}", String::from_utf8_lossy(&buffer));
                    }
                }
            }
            (
                remedy::apply(&root, &request, args.dry_run)?,
                args.common.format,
            )
        }
        FirewallCommand::Status(args) => (
            remedy::status(&root, &firewall_request(args, &policy))?,
            args.format,
        ),
        FirewallCommand::Remove(args) => {
            if !args.dry_run
                && args.format == ReportFormat::Text
                && nix::unistd::geteuid().is_root()
                && let Ok(plan) = remedy::remove(&root, true)
            {
                let mut buffer = Vec::new();
                if report::render_firewall_text(&plan, &mut buffer).is_ok() {
                    eprint!("{}", String::from_utf8_lossy(&buffer));
                }
            }
            (remedy::remove(&root, args.dry_run)?, args.format)
        }
    };
    print("firewall report", |buffer| match format {
        ReportFormat::Text => report::render_firewall_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    let failed = match report.command {
        "status" => !report.ok,
        "plan" => false,
        _ => !report.dry_run && !report.outcome.verified,
    };
    Ok(if failed { EXIT_FAIL } else { EXIT_OK })
}

/// Profile sources from flags (paths on this machine, relative to the working directory) or, when
/// no flag is given, from `[profiles]` (host paths under the root).
fn profile_sources(
    root: &HostRoot,
    flags: &[PathBuf],
    configured: &[PathBuf],
    kind: host::profile_sources::Kind,
) -> Result<Vec<host::profile_sources::Source>, Error> {
    if flags.is_empty() {
        return host::profile_sources::collect(root, configured, kind)
            .map_err(|message| Error::Usage(format!("[profiles]: {message}")));
    }
    let live = HostRoot::new("/").map_err(|error| Error::Root {
        path: "/".into(),
        message: error.to_string(),
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let absolute: Vec<PathBuf> = flags.iter().map(|path| cwd.join(path)).collect();
    host::profile_sources::collect(&live, &absolute, kind).map_err(Error::Usage)
}

fn profiles_install(global: &GlobalArgs, args: &ProfilesInstallArgs) -> Result<u8, Error> {
    use host::profile_sources::Kind;
    let root = HostRoot::new(&global.root).map_err(|error| Error::Root {
        path: global.root.clone(),
        message: error.to_string(),
    })?;
    let policy = load_policy(global, &root)?;
    // Flags of one kind replace that kind's [profiles] list; the other kind is left alone only
    // when it is configured and no flag at all was given.
    let any_flag = !args.apparmor.is_empty() || !args.seccomp.is_empty();
    let configured = |list: &Vec<PathBuf>| if any_flag { Vec::new() } else { list.clone() };
    let request = crate::remedy::profiles::Request {
        apparmor: profile_sources(
            &root,
            &args.apparmor,
            &configured(&policy.profiles.apparmor),
            Kind::AppArmor,
        )?,
        seccomp: profile_sources(
            &root,
            &args.seccomp,
            &configured(&policy.profiles.seccomp),
            Kind::Seccomp,
        )?,
        seccomp_dir: policy.seccomp.profile_dir.clone(),
        complain: args.complain,
        dry_run: args.dry_run,
    };
    let report = crate::remedy::profiles::install(&root, &request)?;
    print("profiles report", |buffer| match args.format {
        ReportFormat::Text => report::render_profiles_install_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.dry_run || report.outcome.verified {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}

fn profiles_status(global: &GlobalArgs, args: &ProfilesStatusArgs) -> Result<u8, Error> {
    use host::profile_sources::{Kind, collect};
    let root = open_root(global)?;
    let policy = load_policy(global, &root)?;
    let mut errors = Vec::new();
    let mut wanted = |paths: &[PathBuf], kind| match collect(&root, paths, kind) {
        Ok(sources) => sources,
        Err(error) => {
            errors.push(format!("[profiles] {error}"));
            Vec::new()
        }
    };
    let apparmor = wanted(&policy.profiles.apparmor, Kind::AppArmor);
    let seccomp = wanted(&policy.profiles.seccomp, Kind::Seccomp);
    let report = crate::remedy::profiles::status(
        &root,
        &apparmor,
        &seccomp,
        &policy.seccomp.profile_dir,
        errors,
    );
    print("profiles status", |buffer| match args.format {
        ReportFormat::Text => report::render_profiles_status_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.ok { EXIT_OK } else { EXIT_FAIL })
}

fn fix_files(global: &GlobalArgs, args: &FixFilesArgs) -> Result<u8, Error> {
    let rules: Vec<Rule> = load_rules(&args.benchmark)?
        .into_iter()
        .filter(crate::remedy::files::fixable)
        .collect();
    let selection = Selection::from_lists(&args.only, &[]);
    selection.validate(&rules)?;
    let rules: Vec<Rule> = rules
        .into_iter()
        .filter(|rule| selection.decide(rule) == Decision::Evaluate)
        .collect();
    let root = open_root(global)?;
    let policy = load_policy(global, &root)?;
    let report = crate::remedy::files::fix(&root, &rules, &policy, args.dry_run)?;
    print("fix report", |buffer| match args.format {
        ReportFormat::Text => report::render_fix_files_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.dry_run || report.outcome.verified {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}

/// Renders into a buffer and writes it to stdout in one piece; `what` names it in an error.
fn print(what: &str, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Result<(), Error> {
    let mut buffer = Vec::new();
    render(&mut buffer).map_err(|source| Error::Output {
        what: what.into(),
        source,
    })?;
    emit(&buffer, None)
}

fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && io::stdout().is_terminal()
        }
    }
}

/// Writes output to stdout, or atomically to `path` (temp file in the same directory, renamed
/// over the target) so a reader such as node-exporter never sees half a file.
fn emit(bytes: &[u8], path: Option<&Path>) -> Result<(), Error> {
    let output_error = |source| Error::Output {
        what: path.map_or("stdout".into(), |p| p.display().to_string()),
        source,
    };
    let Some(path) = path else {
        let mut stdout = io::stdout().lock();
        return match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            // A closed pipe (`hardnode check | head`) is the reader's choice, not our failure.
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(output_error),
        };
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.hardnode-{}.tmp", std::process::id()));
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(output_error)
}

/// `hardnode report merge`: reads the reports (showing progress on a terminal), merges, renders.
fn merge_reports(args: &MergeArgs) -> Result<u8, Error> {
    let mut progress = Progress::new("reading reports", args.files.len());
    let mut reports = Vec::with_capacity(args.files.len());
    for (done, file) in args.files.iter().enumerate() {
        progress.update(done);
        let label = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|error| Error::Config {
            path: file.clone(),
            message: format!("cannot read report: {error}"),
        })?;
        let report = report::merge::parse_report(&label, &text).map_err(Error::Usage)?;
        reports.push(report);
    }
    progress.finish();
    let fleet = report::merge::merge(reports);
    let mut buffer = Vec::new();
    match args.format {
        MergeFormat::Text => report::merge::render_fleet_text(&fleet, &mut buffer),
        MergeFormat::Html => report::merge::render_fleet_html(&fleet, &mut buffer),
    }
    .map_err(|source| Error::Output {
        what: "fleet report".into(),
        source,
    })?;
    emit(&buffer, args.output.as_deref())?;
    Ok(if fleet.cells(Status::Fail) > 0 {
        EXIT_FAIL
    } else {
        EXIT_OK
    })
}

/// A one-line progress counter on stderr, drawn only when stderr is a terminal (a pipe or a log
/// file stays clean) and only for runs long enough to need one.
struct Progress {
    label: &'static str,
    total: usize,
    shown: bool,
    last_drawn: Option<std::time::Instant>,
}

impl Progress {
    /// Runs shorter than this many items finish before a counter would be read.
    const MIN_ITEMS: usize = 20;

    fn new(label: &'static str, total: usize) -> Self {
        Progress {
            label,
            total,
            shown: total >= Self::MIN_ITEMS && io::stderr().is_terminal(),
            last_drawn: None,
        }
    }

    fn update(&mut self, done: usize) {
        if !self.shown {
            return;
        }
        // Redraw at most every 50 ms: a terminal is slower than reading small files.
        let now = std::time::Instant::now();
        if self
            .last_drawn
            .is_some_and(|last| now.duration_since(last).as_millis() < 50)
        {
            return;
        }
        self.last_drawn = Some(now);
        eprint!("\rhardnode: {} {done}/{}", self.label, self.total);
    }

    fn finish(&mut self) {
        if self.shown {
            eprintln!(
                "\rhardnode: {} {}/{} done",
                self.label, self.total, self.total
            );
        }
    }
}
