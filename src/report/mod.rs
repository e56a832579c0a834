//! Rendering results. The [`Report`] is the `hardnode.report/v1` document; each renderer writes
//! it to the writer it is given and nowhere else.

mod check_sarif;
mod containers;
pub mod diff;
mod firewall;
pub mod fleet_json;
mod junit;
mod lint;
mod manifest;
pub mod merge;
mod profiles;
mod prometheus;
pub mod pss;
pub mod sarif;
mod text;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::benchmark::{BENCHMARK_NAME, BENCHMARK_VERSION, CIS_VERSION, Rule};
use crate::engine::{Finding, Status};
use crate::host::{Facts, Observed};

pub use check_sarif::render_sarif;
pub use containers::{CONTAINERS_SCHEMA, ContainerListing, render_containers_text};
pub use firewall::render_firewall_text;
pub use junit::render_junit;
pub use lint::{LintResult, render_lint_text};
pub use manifest::{manifest_sarif, pod_rule_listing, render_manifest_text, render_pod_rules_text};
pub use profiles::{
    render_fix_files_text, render_profiles_install_text, render_profiles_status_text,
};
pub use prometheus::render_prometheus;
pub use text::{TextOptions, render_text};

/// When a run happened and how long it took: measured at the CLI edge, rendered by the
/// Prometheus format (the report itself stays the same for the same host).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunInfo {
    pub started_unix_seconds: f64,
    pub duration_seconds: f64,
}

pub const SCHEMA: &str = "hardnode.report/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// When the report was made (RFC 3339, UTC), set by the CLI; `None` only in tests that
    /// render a report without running a check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    pub tool: Tool,
    pub host: HostSummary,
    pub benchmark: BenchmarkSummary,
    pub results: Vec<Finding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    pub build: Build,
}

/// Which build made a report: enough to find the exact source and binary.
#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub version: &'static str,
    /// The git commit the binary was built from (`unknown` outside a git checkout).
    pub commit: &'static str,
    /// The Rust target triple (`x86_64-unknown-linux-musl`).
    pub target: &'static str,
}

/// This binary's build identity.
pub const BUILD: Build = Build {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("HARDNODE_COMMIT"),
    target: env!("HARDNODE_TARGET"),
};

#[derive(Debug, Clone, Serialize)]
pub struct HostSummary {
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub root: PathBuf,
    /// The distribution (kubeadm, k3s, RKE2, MicroK8s, EKS, GKE, AKS, OpenShift, generic), its
    /// version where known, and what it was detected from.
    pub platform: crate::host::platform::Platform,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkSummary {
    pub name: &'static str,
    pub version: &'static str,
    pub cis: &'static str,
    /// The benchmark profile whose ids the results also carry (CIS EKS, the k3s guide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileSummary>,
}

/// The chosen benchmark profile and why it was chosen.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary {
    pub id: String,
    pub title: String,
    pub version: String,
    /// `--profile` or `auto: platform eks`.
    pub chosen: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub error: usize,
    /// Fail, warn and error results under a current waiver: they do not count for the exit code.
    #[serde(skip_serializing_if = "is_zero")]
    pub waived: usize,
    /// Results whose waiver has expired (they count again).
    #[serde(skip_serializing_if = "is_zero")]
    pub waivers_expired: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl Summary {
    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::Warn => self.warn,
            Status::Skip => self.skip,
            Status::Error => self.error,
        }
    }
}

impl Report {
    /// How many results of `status` count for the exit code (a current waiver takes a result
    /// out; an expired one does not).
    pub fn counted(&self, status: Status) -> usize {
        self.results
            .iter()
            .filter(|finding| crate::engine::waivers::counts(finding, status))
            .count()
    }

    pub fn new(facts: &Facts, results: Vec<Finding>) -> Self {
        let mut summary = Summary::default();
        for finding in &results {
            match finding.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::Warn => summary.warn += 1,
                Status::Skip => summary.skip += 1,
                Status::Error => summary.error += 1,
            }
            match &finding.waiver {
                Some(waiver) if waiver.expired => summary.waivers_expired += 1,
                Some(_)
                    if matches!(finding.status, Status::Fail | Status::Warn | Status::Error) =>
                {
                    summary.waived += 1;
                }
                _ => {}
            }
        }
        let value = |observed: &Observed<String>| observed.value().cloned();
        Report {
            schema: SCHEMA,
            generated: None,
            tool: Tool {
                name: "hardnode",
                version: env!("CARGO_PKG_VERSION"),
                build: BUILD,
            },
            host: HostSummary {
                hostname: value(&facts.host.hostname),
                os: value(&facts.host.os),
                kernel: value(&facts.host.kernel_release),
                root: facts.host.root.clone(),
                platform: facts.host.platform.clone(),
            },
            benchmark: BenchmarkSummary {
                name: BENCHMARK_NAME,
                version: BENCHMARK_VERSION,
                cis: CIS_VERSION,
                profile: None,
            },
            results,
            summary,
        }
    }

    /// Labels the results with `profile`'s ids (verdicts are unchanged).
    pub fn apply_profile(&mut self, profile: &crate::benchmark::profiles::Profile, chosen: String) {
        for finding in &mut self.results {
            finding.profile_id = profile.ids.get(&finding.id).cloned();
        }
        self.benchmark.profile = Some(ProfileSummary {
            id: profile.id.clone(),
            title: profile.title.clone(),
            version: profile.version.clone(),
            chosen,
        });
    }
}

/// Writes any serializable value as pretty JSON followed by a newline.
pub fn render_json<T: Serialize>(value: &T, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// The rule list for `hardnode rules`.
#[derive(Debug, Serialize)]
pub struct RuleListing<'a> {
    pub id: &'a str,
    pub cis: Option<&'a str>,
    pub section: &'a str,
    pub severity: &'a str,
    pub scored: bool,
    pub title: &'a str,
    pub origin: &'a str,
}

pub fn rule_listing(rules: &[Rule]) -> Vec<RuleListing<'_>> {
    rules
        .iter()
        .map(|rule| RuleListing {
            id: &rule.id,
            cis: rule.cis.as_deref(),
            section: &rule.section,
            severity: rule.severity.as_str(),
            scored: rule.scored,
            title: &rule.title,
            origin: &rule.origin,
        })
        .collect()
}

pub fn render_rules_text(rules: &[Rule], out: &mut dyn Write) -> std::io::Result<()> {
    let id_width = rules
        .iter()
        .map(|rule| rule.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut by_section: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        by_section.entry(&rule.section).or_default().push(rule);
    }
    writeln!(
        out,
        "{:id_width$}  {:8}  {:8}  {:6}  TITLE",
        "ID", "CIS", "SEVERITY", "SCORED"
    )?;
    for rule in rules {
        writeln!(
            out,
            "{:id_width$}  {:8}  {:8}  {:6}  {}",
            rule.id,
            rule.cis.as_deref().unwrap_or("-"),
            rule.severity.as_str(),
            if rule.scored { "yes" } else { "no" },
            rule.title
        )?;
    }
    writeln!(
        out,
        "{} rules in {} sections",
        rules.len(),
        by_section.len()
    )
}
