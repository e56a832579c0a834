//! Applies the site's `[[waiver]]`s to the findings: each finding a waiver names carries it
//! (reason, expiry, whether it has expired) and keeps its real status. Whether a finding counts
//! for the exit code is decided here once ([`counts`]), so the CLI, the reports and the Ansible
//! gate agree. Pure: today's date is handed in by the caller.

use serde::Serialize;

use super::{Finding, Status};
use crate::config::waiver::Waiver;
use crate::date::Date;

/// The waiver a finding carries, as every format renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    /// What the waiver named: the rule id, the CIS id or the benchmark profile's id.
    pub rule: String,
    pub reason: String,
    /// `YYYY-MM-DD`, the last day it is current.
    pub expires: String,
    /// True once `expires` has passed: the finding counts again.
    pub expired: bool,
}

/// Attaches each finding's waiver (when one names it).
pub fn apply(findings: &mut [Finding], waivers: &[Waiver], today: Date) {
    if waivers.is_empty() {
        return;
    }
    for finding in findings {
        if let Some(waiver) = waivers.iter().find(|waiver| {
            waiver.matches_any(
                &finding.id,
                finding.cis.as_deref(),
                finding.profile_id.as_deref(),
            )
        }) {
            finding.waiver = Some(AppliedWaiver {
                rule: waiver.rule.clone(),
                reason: waiver.reason.clone(),
                expires: waiver.expires.clone(),
                expired: waiver.expired_on(today),
            });
        }
    }
}

/// True when the finding is under a current waiver.
pub fn waived(finding: &Finding) -> bool {
    finding
        .waiver
        .as_ref()
        .is_some_and(|waiver| !waiver.expired)
}

/// Whether a finding with this status counts for the exit code and `--fail-on`: everything
/// except what a current waiver covers.
pub fn counts(finding: &Finding, status: Status) -> bool {
    finding.status == status && !waived(finding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::Severity;

    fn finding(id: &str, cis: &str, status: Status) -> Finding {
        Finding {
            id: id.into(),
            cis: Some(cis.into()),
            section: "kubelet".into(),
            title: "t".into(),
            severity: Severity::High,
            scored: true,
            status,
            expected: None,
            actual: None,
            reason: None,
            evidence: Vec::new(),
            remediation: String::new(),
            waiver: None,
            profile_id: None,
        }
    }

    #[test]
    fn a_current_waiver_stops_counting_an_expired_one_counts_again() {
        let waivers = [
            Waiver {
                rule: "4.2.4".into(),
                reason: "legacy metrics agent, OPS-1234".into(),
                expires: "2027-03-31".into(),
            },
            Waiver {
                rule: "kubelet.anonymous-auth".into(),
                reason: "old".into(),
                expires: "2026-01-01".into(),
            },
        ];
        let mut findings = vec![
            finding("kubelet.read-only-port", "4.2.4", Status::Fail),
            finding("kubelet.anonymous-auth", "4.2.1", Status::Fail),
            finding("kubelet.other", "4.2.9", Status::Fail),
        ];
        let today = Date::parse("2026-12-03").expect("date");
        apply(&mut findings, &waivers, today);
        assert_eq!(findings[0].status, Status::Fail, "the status is kept");
        assert!(!counts(&findings[0], Status::Fail));
        assert_eq!(findings[0].waiver.as_ref().map(|w| w.expired), Some(false));
        assert!(counts(&findings[1], Status::Fail), "expired: counts again");
        assert_eq!(findings[1].waiver.as_ref().map(|w| w.expired), Some(true));
        assert!(findings[2].waiver.is_none());
        assert!(counts(&findings[2], Status::Fail));
    }
}
