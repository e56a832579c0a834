//! `hardnode report merge --format json`: the fleet as data (`hardnode.fleet/v1`) for a
//! dashboard or a script — each node's counts, age and staleness, each rule's counts and the
//! nodes it fails or errs on, and the files that could not be read.

use serde::Serialize;

use super::merge::{Counts, Fleet};
use crate::engine::Status;

pub const FLEET_SCHEMA: &str = "hardnode.fleet/v1";

#[derive(Debug, Serialize)]
pub struct FleetDoc<'a> {
    pub schema: &'static str,
    /// When the merge ran (RFC 3339), the reference for every age.
    pub merged: Option<String>,
    pub stale_after_seconds: i64,
    pub summary: FleetSummary,
    /// Most failures first, as on the page.
    pub nodes: Vec<NodeDoc<'a>>,
    /// Rules failing on most nodes first.
    pub rules: Vec<RuleDoc<'a>>,
    pub skipped: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct FleetSummary {
    pub nodes: usize,
    pub rules: usize,
    pub failing_nodes: usize,
    pub stale_nodes: usize,
    pub cells: StatusCounts,
}

#[derive(Debug, Serialize)]
pub struct StatusCounts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub error: usize,
}

impl From<&Counts> for StatusCounts {
    fn from(counts: &Counts) -> Self {
        StatusCounts {
            pass: counts.get(Status::Pass),
            fail: counts.get(Status::Fail),
            warn: counts.get(Status::Warn),
            skip: counts.get(Status::Skip),
            error: counts.get(Status::Error),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct NodeDoc<'a> {
    pub name: &'a str,
    pub file: &'a str,
    pub os: Option<&'a str>,
    pub kernel: Option<&'a str>,
    pub version: Option<&'a str>,
    pub generated: Option<&'a str>,
    pub age_seconds: Option<i64>,
    pub stale: bool,
    pub pass_rate: Option<f64>,
    pub counts: StatusCounts,
}

#[derive(Debug, Serialize)]
pub struct RuleDoc<'a> {
    pub id: &'a str,
    pub cis: Option<&'a str>,
    pub section: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub counts: StatusCounts,
    pub failing_nodes: Vec<&'a str>,
    pub error_nodes: Vec<&'a str>,
}

pub fn fleet_doc(fleet: &Fleet) -> FleetDoc<'_> {
    let nodes: Vec<NodeDoc> = fleet
        .nodes_by_failures()
        .into_iter()
        .map(|node| NodeDoc {
            name: &node.name,
            file: &node.file,
            os: node.os.as_deref(),
            kernel: node.kernel.as_deref(),
            version: node.version.as_deref(),
            generated: node.generated.as_deref(),
            age_seconds: fleet.age(node),
            stale: fleet.is_stale(node),
            pass_rate: node.counts.pass_rate(),
            counts: (&node.counts).into(),
        })
        .collect();
    let on = |row: &'_ super::merge::Row, status: Status| -> Vec<&'_ str> {
        row.cells
            .iter()
            .zip(&fleet.nodes)
            .filter(|(cell, _)| cell.as_ref().is_some_and(|cell| cell.status == status))
            .map(|(_, node)| node.name.as_str())
            .collect()
    };
    let rules = fleet
        .rows
        .iter()
        .map(|row| RuleDoc {
            id: &row.id,
            cis: row.cis.as_deref(),
            section: &row.section,
            title: &row.title,
            severity: &row.severity,
            counts: (&row.counts).into(),
            failing_nodes: on(row, Status::Fail),
            error_nodes: on(row, Status::Error),
        })
        .collect();
    let mut cells = Counts::default();
    for row in &fleet.rows {
        for status in Status::ALL {
            for _ in 0..row.counts.get(status) {
                cells.add(status);
            }
        }
    }
    FleetDoc {
        schema: FLEET_SCHEMA,
        merged: fleet.now.map(crate::date::rfc3339),
        stale_after_seconds: fleet.stale_after,
        summary: FleetSummary {
            nodes: fleet.nodes.len(),
            rules: fleet.rows.len(),
            failing_nodes: fleet.nodes_with(Status::Fail),
            stale_nodes: nodes.iter().filter(|node| node.stale).count(),
            cells: (&cells).into(),
        },
        nodes,
        rules,
        skipped: &fleet.skipped,
    }
}
