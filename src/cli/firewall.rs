//! `hardnode firewall plan|apply|status|remove`: flags over the site config's `[firewall]`, then
//! the remedy.

use clap::{Args, Subcommand, ValueEnum};

use super::{Error, GlobalArgs, ReportFormat, load_policy, print};
use crate::config::Policy;
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::host::{self, HostRoot};
use crate::report;

pub(super) const FIREWALL_EXAMPLES: &str = "\
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

/// Flags over the site config's `[firewall]`, each value labelled with where it came from.
fn firewall_request(args: &FirewallArgs, policy: &Policy) -> crate::host::firewall::Request {
    use crate::firewall::{Mode, Persist};
    use crate::host::cluster_net::Found;
    use crate::netfilter::Backend;
    let mut request = policy
        .firewall
        .as_ref()
        .map(|section| host::firewall::Request::from_policy(section, &policy.source_label()))
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

pub(super) fn firewall_command(
    global: &GlobalArgs,
    command: &FirewallCommand,
) -> Result<u8, Error> {
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
