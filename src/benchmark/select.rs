//! `--only` / `--skip`: which rules a run evaluates.
//!
//! A selector matches a rule by exact id (`kernel.seccomp`), by section (`apparmor`, the part of
//! an id before the first dot) or by CIS id or prefix on a dot boundary (`4.2` matches `4.2.1` and
//! `4.2.10`, not `4.20`). A selector that matches no rule is a usage error: a typo must not turn
//! into an empty, green report.

use super::model::Rule;
use crate::error::InputError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(String);

impl Selector {
    pub fn new(text: &str) -> Self {
        Selector(text.trim().to_string())
    }

    pub fn matches(&self, rule: &Rule) -> bool {
        let wanted = self.0.as_str();
        rule.id == wanted
            || rule.section == wanted
            || rule.cis.as_deref().is_some_and(|cis| {
                cis == wanted
                    || cis
                        .strip_prefix(wanted)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Like [`matches`](Self::matches), and also by the rule's id in the chosen benchmark profile
    /// (`3.2.1` of CIS EKS, or a prefix of it on a dot boundary).
    pub fn matches_in_profile(&self, rule: &Rule, profile_id: Option<&str>) -> bool {
        self.matches(rule)
            || profile_id.is_some_and(|id| super::profiles::id_matches(id, self.0.as_str()))
    }
}

/// The rules a run keeps, evaluates, or reports as deselected.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<Selector>,
    pub skip: Vec<Selector>,
    /// The chosen benchmark profile's ids (rule id -> profile id), which selectors also match.
    pub profile_ids: std::collections::BTreeMap<String, String>,
}

/// What happens to one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Evaluate,
    /// Reported as `skip` with this reason (`--skip` names it).
    Deselected(String),
    /// Outside `--only`: not in the report at all.
    Omitted,
}

impl Selection {
    pub fn from_lists(only: &[String], skip: &[String]) -> Self {
        let split = |lists: &[String]| {
            lists
                .iter()
                .flat_map(|list| list.split(','))
                .filter(|part| !part.trim().is_empty())
                .map(Selector::new)
                .collect()
        };
        Selection {
            only: split(only),
            skip: split(skip),
            profile_ids: Default::default(),
        }
    }

    fn matches(&self, selector: &Selector, rule: &Rule) -> bool {
        selector.matches_in_profile(rule, self.profile_ids.get(&rule.id).map(String::as_str))
    }

    /// Refuses selectors that match nothing, naming them.
    pub fn validate(&self, rules: &[Rule]) -> Result<(), InputError> {
        for (flag, selectors) in [("--only", &self.only), ("--skip", &self.skip)] {
            for selector in selectors {
                if !rules.iter().any(|rule| self.matches(selector, rule)) {
                    return Err(InputError::Usage(format!(
                        "{flag} {}: no rule has this id, section, CIS id or benchmark profile id (see `hardnode rules`)",
                        selector.as_str()
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn decide(&self, rule: &Rule) -> Decision {
        if !self.only.is_empty() && !self.only.iter().any(|s| self.matches(s, rule)) {
            return Decision::Omitted;
        }
        match self.skip.iter().find(|s| self.matches(s, rule)) {
            Some(selector) => {
                Decision::Deselected(format!("deselected by --skip {}", selector.as_str()))
            }
            None => Decision::Evaluate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::load_str;

    fn rule(id: &str, cis: &str) -> Rule {
        let text = format!(
            "[[rule]]\nid = \"{id}\"\ncis = \"{cis}\"\ntitle = \"t\"\nseverity = \"low\"\nscored = true\n\
             probe = {{ check = \"apparmor_enabled\" }}\nremediation = \"r\"\n"
        );
        load_str("t", &text).expect("rule").remove(0)
    }

    #[test]
    fn cis_prefix_matches_on_dot_boundaries() {
        let selector = Selector::new("4.2");
        assert!(selector.matches(&rule("kubelet.a", "4.2.1")));
        assert!(selector.matches(&rule("kubelet.b", "4.2.10")));
        assert!(!selector.matches(&rule("kubelet.c", "4.20.1")));
        assert!(!selector.matches(&rule("kubelet.d", "1.4.2")));
    }

    #[test]
    fn section_and_id_match_exactly() {
        assert!(Selector::new("kernel").matches(&rule("kernel.seccomp", "")));
        assert!(!Selector::new("kern").matches(&rule("kernel.seccomp", "")));
        assert!(Selector::new("kernel.seccomp").matches(&rule("kernel.seccomp", "")));
        assert!(!Selector::new("kernel.seccomp").matches(&rule("kernel.seccomp-filter", "")));
    }

    #[test]
    fn only_omits_skip_reports() {
        let selection = Selection::from_lists(&["kernel".into()], &["kernel.apparmor".into()]);
        assert_eq!(
            selection.decide(&rule("kernel.seccomp", "")),
            Decision::Evaluate
        );
        assert_eq!(
            selection.decide(&rule("apparmor.enabled", "")),
            Decision::Omitted
        );
        assert!(matches!(
            selection.decide(&rule("kernel.apparmor", "")),
            Decision::Deselected(_)
        ));
    }

    #[test]
    fn a_selector_matching_nothing_is_a_usage_error() {
        let selection = Selection::from_lists(&["kernal".into()], &[]);
        let message = selection
            .validate(&[rule("kernel.seccomp", "")])
            .expect_err("typo")
            .to_string();
        assert!(message.contains("--only kernal"));
    }
}
