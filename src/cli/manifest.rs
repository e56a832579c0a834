//! `hardnode manifest scan|rules`: pod manifests scored before they run.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{Error, GlobalArgs, ReportFormat, load_policy, open_root, print, use_color};
use crate::engine;
use crate::error::EXIT_OK;
use crate::host;
use crate::manifest::{self, Input};
use crate::report;

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Score workload specs against pod-hardening rules (kubesec-style points, not
    /// kubesec-compatible: see docs/pod-security.md), or judge them against the Kubernetes Pod
    /// Security Standards with --standard.
    ///
    /// Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and
    /// CronJob objects (and List items) are scored: critical hits, advice ordered by points,
    /// rules passed. Exit 1 when an object scores below --min-score (default: any critical hit)
    /// or references a profile the node does not have; 2 when an input cannot be read or parsed.
    /// With --standard: exit 1 when an object violates the level, 0 when all meet it.
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
    /// Judge every pod spec against this level of the Kubernetes Pod Security Standards (as the
    /// Pod Security admission controller does) instead of scoring it; `restricted` includes
    /// `baseline`.
    #[arg(long, value_enum, conflicts_with_all = ["min_score", "node", "rules"])]
    pub standard: Option<StandardLevel>,
    /// The version of the standard: `v1.N` (as in a namespace's
    /// pod-security.kubernetes.io/enforce-version label) or `latest` [default: latest].
    #[arg(long, value_name = "VERSION", requires = "standard")]
    pub standard_version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StandardLevel {
    Baseline,
    Restricted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
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

pub(super) fn manifest_rules(args: &ManifestRulesArgs) -> Result<u8, Error> {
    let rules = load_pod_rules(&args.rules)?;
    print("rule list", |buffer| match args.format {
        ReportFormat::Text => report::render_pod_rules_text(&rules, buffer),
        ReportFormat::Json => report::render_json(&report::pod_rule_listing(&rules), buffer),
    })?;
    Ok(EXIT_OK)
}

pub(super) fn manifest_scan(global: &GlobalArgs, args: &ManifestScanArgs) -> Result<u8, Error> {
    // Loaded before reading anything: a bad version or rule file is a usage error up front.
    let standard = args
        .standard
        .map(|level| super::pss::Request::new(level, args))
        .transpose()?;
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
    if let Some(standard) = standard {
        return super::pss::scan_standard(global, args, &standard, &inputs);
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
        node.as_ref().map(|(root, seccomp_dir)| {
            let node = host::manifests::node_profiles(root, seccomp_dir, refs);
            engine::profile_refs::cross_check(refs, &node)
        })
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
