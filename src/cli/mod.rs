//! The command line: clap definitions, dispatch, and the mapping of outcomes to exit codes.
//! This is the edge: it is the only place besides `report` that writes to stdout/stderr.
//!
//! One file per subcommand family, each holding its clap definitions next to its handlers
//! (`check.rs`: check, facts, rules, containers; `firewall.rs`; `manifest.rs`; `profiles.rs`;
//! `fix.rs`; `report.rs`; `seccomp.rs`); this file holds the top-level parser, the dispatch, the
//! privilege drop, and the helpers every handler shares (root, site config, rules, output).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod benchmark_profile;
mod check;
mod completions;
mod error;
mod firewall;
mod fix;
mod manifest;
mod profiles;
mod pss;
mod report;
mod seccomp;

use crate::benchmark::{self, Decision, Rule, Selection};
use crate::config::{DEFAULT_CONFIG_PATH, Policy};
use crate::host::{self, HostRoot};
use crate::privilege;
use benchmark_profile::select_with_profile;
use check::{CheckArgs, ContainersArgs, FactsArgs, RulesArgs, SelectArgs};
pub use error::Error;
use firewall::{FIREWALL_EXAMPLES, FirewallCommand};
use fix::FixCommand;
use manifest::ManifestCommand;
use profiles::{PROFILES_EXAMPLES, ProfilesCommand};
use report::ReportCommand;
use seccomp::SeccompCommand;

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
  hardnode manifest scan --standard restricted deploy/
                                              judge it against the Pod Security Standards
  kubectl get pods -A -o yaml | hardnode manifest scan -

Exit codes: 0 no failure, 1 a rule failed (see --fail-on), 2 usage or config error,
3 runtime error (host root unreadable).";

/// `hardnode --version`: the version, the commit and the target it was built for.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HARDNODE_COMMIT"),
    ", ",
    env!("HARDNODE_TARGET"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "hardnode",
    version = VERSION,
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
    /// Work with saved reports: merge many nodes' JSON reports into one fleet view; diff two runs.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Install AppArmor and seccomp profiles on this node; show what is installed and loaded.
    #[command(subcommand, after_help = PROFILES_EXAMPLES)]
    Profiles(ProfilesCommand),
    /// Remediate what the file rules found: tighten modes and owners.
    #[command(subcommand)]
    Fix(FixCommand),
    /// Print shell completions (`hardnode completions bash > /etc/bash_completion.d/hardnode`).
    Completions(completions::CompletionsArgs),
    /// Print the man page (`hardnode man > /usr/local/share/man/man1/hardnode.1`).
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
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
        Command::Completions(_) | Command::Man => Some(privilege::READ_CAPABILITIES),
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
        Command::Check(args) => check::check(&cli.global, args),
        Command::Facts(args) => check::facts(&cli.global, args),
        Command::Rules(args) => check::rules(args),
        Command::Containers(args) => check::containers(&cli.global, args),
        Command::Seccomp(SeccompCommand::Lint(args)) => seccomp::lint(args),
        Command::Manifest(ManifestCommand::Scan(args)) => {
            manifest::manifest_scan(&cli.global, args)
        }
        Command::Manifest(ManifestCommand::Rules(args)) => manifest::manifest_rules(args),
        Command::Firewall(command) => firewall::firewall_command(&cli.global, command),
        Command::Report(ReportCommand::Merge(args)) => report::merge_reports(args),
        Command::Report(ReportCommand::Diff(args)) => report::diff_reports(args),
        Command::Profiles(ProfilesCommand::Install(args)) => {
            profiles::profiles_install(&cli.global, args)
        }
        Command::Profiles(ProfilesCommand::Status(args)) => {
            profiles::profiles_status(&cli.global, args)
        }
        Command::Fix(FixCommand::Files(args)) => fix::fix_files(&cli.global, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
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
        return Ok(Policy::parse(path, &text)?);
    }
    let default = Path::new(DEFAULT_CONFIG_PATH);
    match root.read_to_string(default) {
        Ok(text) => Ok(Policy::parse(default, &text)?),
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
fn select(
    rules: Vec<Rule>,
    args: &SelectArgs,
    profile_ids: std::collections::BTreeMap<String, String>,
) -> Result<Vec<(Rule, Decision)>, Error> {
    let mut selection = Selection::from_lists(&args.only, &args.skip);
    selection.profile_ids = profile_ids;
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

/// Renders into a buffer and writes it to stdout in one piece; `what` names it in an error.
fn print(what: &str, render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Result<(), Error> {
    let mut buffer = Vec::new();
    render(&mut buffer).map_err(|source| Error::Output {
        what: what.into(),
        source,
    })?;
    emit(&buffer, None)
}

/// The width text output wraps to: `COLUMNS` when set to a number, else the terminal's when
/// stdout is one (and not going to a file), else 80.
fn text_width(to_file: bool) -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|columns| *columns > 0)
    {
        return columns;
    }
    if !to_file
        && let Some((terminal_size::Width(width), _)) =
            terminal_size::terminal_size_of(io::stdout())
        && width > 0
    {
        return usize::from(width);
    }
    80
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
