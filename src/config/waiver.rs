//! `[[waiver]]` in the site config: an accepted exception to one rule, with the reason the site
//! accepted it and the date the acceptance ends. A waiver never changes a result's status — the
//! report still says `fail` — it changes what counts for the exit code until it expires, so an
//! exception cannot outlive the decision that made it. Dates are UTC; a waiver is current up to
//! and including its `expires` day.

use serde::{Deserialize, Serialize};

use crate::date::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// A rule id (`kubelet.read-only-port`) or a CIS id (`4.2.4`), matched exactly.
    pub rule: String,
    /// Why the site accepts the finding (a ticket, an owner): shown in every format.
    pub reason: String,
    /// `YYYY-MM-DD`, required: the last day the waiver is current.
    pub expires: String,
}

impl Waiver {
    /// The expiry as a date (validated when the config was loaded).
    pub fn expiry(&self) -> Option<Date> {
        Date::parse(&self.expires)
    }

    /// True when `today` is after the expiry day.
    pub fn expired_on(&self, today: Date) -> bool {
        self.expiry().is_none_or(|expiry| today > expiry)
    }

    /// Whether the waiver names this rule (by its id or its CIS id).
    pub fn matches(&self, id: &str, cis: Option<&str>) -> bool {
        self.matches_any(id, cis, None)
    }

    /// Also by the id of the benchmark profile the result is reported under (`3.2.1` of CIS
    /// EKS).
    pub fn matches_any(&self, id: &str, cis: Option<&str>, profile_id: Option<&str>) -> bool {
        self.rule == id || cis == Some(self.rule.as_str()) || profile_id == Some(self.rule.as_str())
    }
}

/// Refuses a waiver without a rule, a reason or a real expiry date, and two waivers for the same
/// rule (which one would apply?). Whether the rule exists is checked against the loaded rules by
/// [`unknown_rules`].
pub fn validate(waivers: &[Waiver]) -> Result<(), String> {
    for (index, waiver) in waivers.iter().enumerate() {
        let at = format!("[[waiver]] #{} (rule {:?})", index + 1, waiver.rule);
        if waiver.rule.trim().is_empty() {
            return Err(format!("{at}: `rule` is empty"));
        }
        if waiver.reason.trim().is_empty() {
            return Err(format!(
                "{at}: `reason` is empty; say why the finding is accepted"
            ));
        }
        if waiver.expiry().is_none() {
            return Err(format!(
                "{at}: `expires` must be a date YYYY-MM-DD, found {:?}",
                waiver.expires
            ));
        }
        if waivers[..index]
            .iter()
            .any(|other| other.rule == waiver.rule)
        {
            return Err(format!("{at}: a second waiver for the same rule"));
        }
    }
    Ok(())
}

/// The waivers that name no known rule: `known` yields each rule's id and CIS id.
pub fn unknown_rules<'a>(waivers: &'a [Waiver], known: &[(&str, Option<&str>)]) -> Vec<&'a Waiver> {
    waivers
        .iter()
        .filter(|waiver| !known.iter().any(|(id, cis)| waiver.matches(id, *cis)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiver(rule: &str, reason: &str, expires: &str) -> Waiver {
        Waiver {
            rule: rule.into(),
            reason: reason.into(),
            expires: expires.into(),
        }
    }

    #[test]
    fn a_waiver_is_current_through_its_expiry_day() {
        let w = waiver("4.2.4", "OPS-1234", "2027-03-31");
        let day = |text| Date::parse(text).expect("date");
        assert!(!w.expired_on(day("2027-03-31")));
        assert!(w.expired_on(day("2027-04-01")));
        assert!(w.matches("kubelet.read-only-port", Some("4.2.4")));
        assert!(!w.matches("kubelet.read-only-port", Some("4.2.41")));
    }

    #[test]
    fn refuses_missing_reason_bad_date_and_duplicates() {
        assert!(validate(&[waiver("x", "", "2027-01-01")]).is_err());
        let bad = validate(&[waiver("x", "r", "31/03/2027")]).expect_err("refused");
        assert!(bad.contains("YYYY-MM-DD"), "{bad}");
        assert!(
            validate(&[
                waiver("x", "r", "2027-01-01"),
                waiver("x", "s", "2027-01-02")
            ])
            .is_err()
        );
        assert!(validate(&[waiver("x", "r", "2027-01-01")]).is_ok());
        let unknown = [waiver("nope", "r", "2027-01-01")];
        assert_eq!(unknown_rules(&unknown, &[("a", Some("1.1"))]).len(), 1);
    }
}
