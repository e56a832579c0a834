//! The pod rules (`rules/pod.toml`) and the Pod Security Standards controls
//! (`rules/pss/controls.toml`) as the build parsed and validated them with their loaders
//! (`build.rs`, `embedded::generate`): functions that build the values from literals, so the
//! `manifests.static-pods` rule and `manifest scan` parse no TOML for the shipped data. `--rules`
//! files are still parsed at run time by the same loader, with the same errors and lines.

use crate::error::InputError;

use super::pss::controls::{Controls, ControlsError};
use super::rules::RuleSet;

/// The generated code's way to make a `String` from a literal.
fn s(text: &str) -> String {
    text.to_string()
}

mod pod {
    use super::s;
    use crate::benchmark::{Expect, Operator, WhenUnset};
    use crate::manifest::rules::{ContainerKind, PodRule, RuleSet, Scope, StaticPodException};
    use crate::value::Value;

    include!(concat!(env!("OUT_DIR"), "/embedded_pod_rules.rs"));

    pub(super) fn rules() -> RuleSet {
        embedded_pod_rules()
    }
}

mod pss {
    use super::s;
    use crate::manifest::pss::controls::{
        Control, Controls, Definition, Exemption, FieldRule, Level, Scalar, Scope, Unset, Version,
    };

    include!(concat!(env!("OUT_DIR"), "/embedded_controls.rs"));

    pub(super) fn controls() -> Controls {
        embedded_controls()
    }
}

/// `rules::load_embedded`: the loader's signature, kept for its callers; always `Ok`.
pub fn pod_rules() -> Result<RuleSet, InputError> {
    Ok(pod::rules())
}

/// `controls::load_embedded`: the loader's signature, kept for its callers; always `Ok`.
pub fn controls() -> Result<Controls, ControlsError> {
    Ok(pss::controls())
}

#[cfg(test)]
mod tests {
    use super::super::pss::controls;
    use super::super::rules;

    #[test]
    fn compiled_pod_rules_equal_the_rule_file_parsed_now() {
        let compiled = super::pod_rules().expect("compiled");
        let parsed = rules::parse_embedded().expect("rules/pod.toml is valid");
        assert!(compiled.rules.len() >= 20, "{}", compiled.rules.len());
        assert!(
            compiled.static_pods.len() >= 4,
            "{}",
            compiled.static_pods.len()
        );
        // Debug shows every field of every type.
        assert_eq!(format!("{compiled:#?}"), format!("{parsed:#?}"));
    }

    #[test]
    fn compiled_controls_equal_the_controls_file_parsed_now() {
        let compiled = super::controls().expect("compiled");
        let parsed = controls::parse_embedded().expect("rules/pss/controls.toml is valid");
        assert!(compiled.controls.len() >= 15, "{}", compiled.controls.len());
        assert_eq!(format!("{compiled:#?}"), format!("{parsed:#?}"));
    }
}
