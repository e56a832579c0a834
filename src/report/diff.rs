//! Drift between two runs on one node (`hardnode report diff OLD.json NEW.json`): the rules that
//! got worse, got better, changed otherwise, appeared or disappeared. Pure: the CLI parses both
//! reports with the fleet reader ([`super::merge::parse_report`]) and hands them here.
//!
//! "Worse" orders the statuses by how much they ask of an operator: `pass` and `skip` ask
//! nothing, `warn` asks a look, `error` says the node could not be judged, `fail` is a finding.
//! A move between `pass` and `skip` is a change, neither worse nor better. A rule that appears
//! failing (or `error`) counts as worse too: a new rule that fails is a new finding.

use std::io::{self, Write};

use serde::Serialize;

use super::merge::{NodeReport, NodeResult};
use crate::engine::Status;

pub const DIFF_SCHEMA: &str = "hardnode.report-diff/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    /// Status moved towards `fail`.
    pub worse: Vec<Change>,
    /// Status moved towards `pass`.
    pub better: Vec<Change>,
    /// Between `pass` and `skip`: neither.
    pub changed: Vec<Change>,
    /// In the new report only.
    pub appeared: Vec<Presence>,
    /// In the old report only.
    pub disappeared: Vec<Presence>,
    /// Rules with the same status in both.
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub file: String,
    pub node: String,
    pub generated: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: String,
    pub cis: Option<String>,
    pub title: String,
    pub from: Status,
    pub to: Status,
    /// The new result's reason or "expected …, found …".
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Presence {
    pub id: String,
    pub cis: Option<String>,
    pub title: String,
    pub status: Status,
}

impl Diff {
    /// Whether anything got worse (the exit code 1).
    pub fn got_worse(&self) -> bool {
        !self.worse.is_empty()
            || self
                .appeared
                .iter()
                .any(|rule| matches!(rule.status, Status::Fail | Status::Error))
    }

    /// The two reports name different nodes.
    pub fn different_nodes(&self) -> bool {
        self.old.node != self.new.node
    }
}

/// How much a status asks of an operator.
fn weight(status: Status) -> u8 {
    match status {
        Status::Pass | Status::Skip => 0,
        Status::Warn => 1,
        Status::Error => 2,
        Status::Fail => 3,
    }
}

fn detail(result: &NodeResult) -> Option<String> {
    match (&result.expected, &result.actual) {
        (Some(expected), Some(actual)) if matches!(result.status, Status::Fail | Status::Warn) => {
            Some(format!("expected {expected}, found {actual}"))
        }
        _ => result.reason.clone(),
    }
}

fn side(report: &NodeReport) -> Side {
    Side {
        file: report.file.clone(),
        node: report.name.clone(),
        generated: report.generated.clone(),
        version: report.version.clone(),
    }
}

pub fn diff(old: &NodeReport, new: &NodeReport) -> Diff {
    let mut result = Diff {
        schema: DIFF_SCHEMA,
        old: side(old),
        new: side(new),
        worse: Vec::new(),
        better: Vec::new(),
        changed: Vec::new(),
        appeared: Vec::new(),
        disappeared: Vec::new(),
        unchanged: 0,
    };
    let old_by_id: std::collections::HashMap<&str, &NodeResult> =
        old.results.iter().map(|r| (r.id.as_str(), r)).collect();
    let new_ids: std::collections::HashSet<&str> =
        new.results.iter().map(|r| r.id.as_str()).collect();
    for now in &new.results {
        let Some(before) = old_by_id.get(now.id.as_str()) else {
            result.appeared.push(Presence {
                id: now.id.clone(),
                cis: now.cis.clone(),
                title: now.title.clone(),
                status: now.status,
            });
            continue;
        };
        if before.status == now.status {
            result.unchanged += 1;
            continue;
        }
        let change = Change {
            id: now.id.clone(),
            cis: now.cis.clone(),
            title: now.title.clone(),
            from: before.status,
            to: now.status,
            detail: detail(now),
        };
        match weight(now.status).cmp(&weight(before.status)) {
            std::cmp::Ordering::Greater => result.worse.push(change),
            std::cmp::Ordering::Less => result.better.push(change),
            std::cmp::Ordering::Equal => result.changed.push(change),
        }
    }
    for before in &old.results {
        if !new_ids.contains(before.id.as_str()) {
            result.disappeared.push(Presence {
                id: before.id.clone(),
                cis: before.cis.clone(),
                title: before.title.clone(),
                status: before.status,
            });
        }
    }
    result
}

pub fn render_diff_text(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    let when = |side: &Side| {
        side.generated
            .clone()
            .unwrap_or_else(|| "time unknown".into())
    };
    writeln!(
        out,
        "drift on {}: {} ({}) -> {} ({})",
        diff.new.node,
        diff.old.file,
        when(&diff.old),
        diff.new.file,
        when(&diff.new)
    )?;
    if diff.different_nodes() {
        writeln!(
            out,
            "note: the reports are from different nodes ({} and {})",
            diff.old.node, diff.new.node
        )?;
    }
    let cis = |cis: &Option<String>| {
        cis.as_deref()
            .map(|c| format!(" [CIS {c}]"))
            .unwrap_or_default()
    };
    for (heading, changes) in [
        ("Worse", &diff.worse),
        ("Better", &diff.better),
        ("Changed", &diff.changed),
    ] {
        if changes.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{heading} ({})", changes.len())?;
        for change in changes {
            writeln!(
                out,
                "  {:5} -> {:5} {}{}  {}",
                change.from.as_str(),
                change.to.as_str(),
                change.id,
                cis(&change.cis),
                change.title
            )?;
            if let Some(detail) = &change.detail {
                writeln!(out, "                 {detail}")?;
            }
        }
    }
    for (heading, rules) in [
        ("Appeared", &diff.appeared),
        ("Disappeared", &diff.disappeared),
    ] {
        if rules.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{heading} ({})", rules.len())?;
        for rule in rules {
            writeln!(
                out,
                "  {:5} {}{}  {}",
                rule.status.as_str(),
                rule.id,
                cis(&rule.cis),
                rule.title
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} worse, {} better, {} changed, {} appeared, {} disappeared, {} unchanged",
        diff.worse.len(),
        diff.better.len(),
        diff.changed.len(),
        diff.appeared.len(),
        diff.disappeared.len(),
        diff.unchanged
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, status: Status) -> NodeResult {
        NodeResult {
            id: id.into(),
            cis: None,
            section: "s".into(),
            title: "t".into(),
            severity: "high".into(),
            status,
            expected: None,
            actual: None,
            reason: None,
            evidence: Vec::new(),
        }
    }

    fn report(results: Vec<NodeResult>) -> NodeReport {
        NodeReport {
            name: "n".into(),
            file: "f".into(),
            os: None,
            kernel: None,
            version: None,
            generated: None,
            results,
        }
    }

    #[test]
    fn classifies_every_kind_of_drift() {
        let old = report(vec![
            result("a.worse", Status::Pass),
            result("a.better", Status::Fail),
            result("a.changed", Status::Pass),
            result("a.same", Status::Warn),
            result("a.gone", Status::Fail),
        ]);
        let new = report(vec![
            result("a.worse", Status::Warn),
            result("a.better", Status::Error),
            result("a.changed", Status::Skip),
            result("a.same", Status::Warn),
            result("a.new", Status::Pass),
        ]);
        let diff = diff(&old, &new);
        let ids = |changes: &[Change]| changes.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&diff.worse), ["a.worse"]);
        assert_eq!(ids(&diff.better), ["a.better"]);
        assert_eq!(ids(&diff.changed), ["a.changed"]);
        assert_eq!(diff.appeared[0].id, "a.new");
        assert_eq!(diff.disappeared[0].id, "a.gone");
        assert_eq!(diff.unchanged, 1);
        assert!(diff.got_worse());
        let calm = super::diff(&new, &new);
        assert!(!calm.got_worse());
    }
}
