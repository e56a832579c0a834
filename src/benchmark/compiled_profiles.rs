//! The benchmark profiles (`benchmarks/profiles/*.toml`) as the build parsed them and checked
//! them against the embedded rules (`build.rs`, `embedded::generate`): functions that build the
//! values from literals, so a `check` parses no TOML for them.

use std::collections::BTreeMap;

use super::model::Rule;
use super::profiles::{Profile, ProfileError};

include!(concat!(env!("OUT_DIR"), "/embedded_profiles.rs"));

/// The generated code's way to make a `String` from a literal.
fn s(text: &str) -> String {
    text.to_string()
}

/// `profiles::load_profiles`. The build checked every id map against the embedded rules; the
/// `rules` of a run are those with `--benchmark` files merged in, which replaces or adds rules
/// but never removes one, so there is nothing left to check. The `Result` is the loader's
/// signature, kept for its callers; always `Ok`.
pub fn load_profiles(rules: &[Rule]) -> Result<Vec<Profile>, ProfileError> {
    let _ = rules;
    Ok(embedded_profiles())
}

#[cfg(test)]
mod tests {
    use super::super::profiles;

    #[test]
    fn compiled_profiles_equal_the_profile_files_parsed_now() {
        let rules = crate::benchmark::parse_embedded().expect("rules");
        let compiled = super::load_profiles(&rules).expect("compiled");
        let parsed = profiles::parse_embedded(&rules).expect("profiles are valid");
        assert_eq!(compiled.len(), profiles::EMBEDDED_PROFILES.len());
        assert!(compiled.iter().map(|p| p.ids.len()).sum::<usize>() > 100);
        assert_eq!(compiled, parsed);
    }
}
