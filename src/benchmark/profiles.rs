//! Benchmark profiles: the ids another benchmark gives hardnode's rules (CIS EKS, GKE, AKS, the
//! k3s and RKE2 self-assessment guides). A profile re-labels results, it never changes a verdict:
//! the auditor of an EKS node asks for "3.2.1", hardnode answers with `kubelet.anonymous-auth`
//! judged as always, carrying both its CIS Kubernetes id and the profile's id.
//!
//! One file per benchmark and version in `benchmarks/profiles/`, embedded; an unknown key, a
//! missing field or an id map naming no rule is refused with the file named. `build.rs` runs
//! this loader over the embedded files (a broken one fails the build with its file and line) and
//! writes them as Rust: a run takes them from `compiled_profiles.rs` without parsing TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::model::Rule;
use crate::lines::LineIndex;

/// The embedded profiles: (file, text).
pub const EMBEDDED_PROFILES: &[(&str, &str)] = &[
    (
        "benchmarks/profiles/cis-eks-1.5.0.toml",
        include_str!("../../benchmarks/profiles/cis-eks-1.5.0.toml"),
    ),
    (
        "benchmarks/profiles/cis-gke-1.6.0.toml",
        include_str!("../../benchmarks/profiles/cis-gke-1.6.0.toml"),
    ),
    (
        "benchmarks/profiles/cis-aks-1.7.0.toml",
        include_str!("../../benchmarks/profiles/cis-aks-1.7.0.toml"),
    ),
    (
        "benchmarks/profiles/k3s-cis-1.9.toml",
        include_str!("../../benchmarks/profiles/k3s-cis-1.9.toml"),
    ),
    (
        "benchmarks/profiles/rke2-cis-1.9.toml",
        include_str!("../../benchmarks/profiles/rke2-cis-1.9.toml"),
    ),
];

/// A benchmark profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub id: String,
    pub title: String,
    pub version: String,
    /// The platforms (`eks`, `k3s`, …) it is chosen for automatically.
    pub platforms: Vec<String>,
    /// hardnode rule id -> the profile's id.
    pub ids: BTreeMap<String, String>,
    /// The file it came from.
    pub origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    profile: Header,
    /// Spanned keys: an id naming a missing rule is refused with its line.
    ids: BTreeMap<Spanned<String>, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    title: String,
    version: String,
    platforms: Vec<String>,
}

/// Why a profile file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// Parses one profile file.
pub fn parse_profile(file: &str, text: &str) -> Result<Profile, ProfileError> {
    parse_with_offsets(file, text).map(|(profile, _)| profile)
}

/// The profile, and the byte offset of each id map key in `text` (for errors).
fn parse_with_offsets(
    file: &str,
    text: &str,
) -> Result<(Profile, BTreeMap<String, usize>), ProfileError> {
    let parsed: ProfileFile = toml::from_str(text).map_err(|error| ProfileError::Invalid {
        file: file.to_string(),
        message: error.to_string(),
    })?;
    let offsets = parsed
        .ids
        .keys()
        .map(|key| (key.get_ref().clone(), key.span().start))
        .collect();
    let profile = Profile {
        id: parsed.profile.id,
        title: parsed.profile.title,
        version: parsed.profile.version,
        platforms: parsed.profile.platforms,
        ids: parsed
            .ids
            .into_iter()
            .map(|(key, value)| (key.into_inner(), value))
            .collect(),
        origin: file.to_string(),
    };
    Ok((profile, offsets))
}

/// Every embedded profile, as the build parsed and checked them against the embedded rules
/// (`compiled_profiles.rs` says why `rules` needs no check at run time).
pub fn load_profiles(rules: &[Rule]) -> Result<Vec<Profile>, ProfileError> {
    super::compiled_profiles::load_profiles(rules)
}

/// Every embedded profile parsed from its TOML now and checked against `rules`: what `build.rs`
/// runs over the embedded rules, and what the compiled profiles are tested against.
pub fn parse_embedded(rules: &[Rule]) -> Result<Vec<Profile>, ProfileError> {
    parse_profiles(EMBEDDED_PROFILES, rules)
}

/// Profile files given as (file, text), each checked against the rules: an id map naming a rule
/// that does not exist is refused with its line (a renamed rule must not silently lose its
/// profile id).
pub fn parse_profiles(
    files: &[(&str, &str)],
    rules: &[Rule],
) -> Result<Vec<Profile>, ProfileError> {
    let ids: std::collections::BTreeSet<&str> = rules.iter().map(|rule| rule.id.as_str()).collect();
    let mut profiles = Vec::new();
    for (file, text) in files {
        let (profile, offsets) = parse_with_offsets(file, text)?;
        if let Some(unknown) = profile.ids.keys().find(|id| !ids.contains(id.as_str())) {
            let line = LineIndex::new(text).line_of(offsets.get(unknown).copied().unwrap_or(0));
            return Err(ProfileError::Invalid {
                file: file.to_string(),
                message: format!("line {line}: names rule {unknown}, which does not exist"),
            });
        }
        profiles.push(profile);
    }
    Ok(profiles)
}

/// The profile chosen for a platform, if one is made for it.
pub fn for_platform<'a>(profiles: &'a [Profile], platform: &str) -> Option<&'a Profile> {
    profiles
        .iter()
        .find(|profile| profile.platforms.iter().any(|p| p == platform))
}

/// Whether profile id `id` is `wanted` or lies under it on a dot boundary (`3.2` holds `3.2.1`).
pub fn id_matches(id: &str, wanted: &str) -> bool {
    id == wanted
        || id
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_profile_names_existing_rules() {
        let rules = crate::benchmark::load_embedded().expect("rules");
        let profiles = load_profiles(&rules).expect("profiles");
        assert_eq!(profiles.len(), EMBEDDED_PROFILES.len());
        for platform in ["eks", "gke", "aks", "k3s", "rke2"] {
            assert!(for_platform(&profiles, platform).is_some(), "{platform}");
        }
        assert!(for_platform(&profiles, "kubeadm").is_none());
    }

    #[test]
    fn a_profile_naming_a_missing_rule_is_refused() {
        let rules = crate::benchmark::load_embedded().expect("rules");
        let text = "[profile]\nid = \"x\"\ntitle = \"t\"\nversion = \"1\"\nplatforms = []\n[ids]\n\"kubelet.no-such-rule\" = \"3.2.1\"\n";
        let profile = parse_profile("x.toml", text).expect("parses");
        assert!(!rules.iter().any(|rule| profile.ids.contains_key(&rule.id)));
        let bad = "[profile]\nid = \"x\"\ntitle = \"t\"\nversion = \"1\"\nplatforms = []\nextra = 1\n[ids]\n";
        let message = parse_profile("x.toml", bad)
            .expect_err("unknown key")
            .to_string();
        assert!(message.contains("x.toml"), "{message}");
    }

    #[test]
    fn ids_match_on_dot_boundaries() {
        assert!(id_matches("3.2.1", "3.2"));
        assert!(id_matches("3.2.1", "3.2.1"));
        assert!(!id_matches("3.2.10", "3.2.1"));
        assert!(!id_matches("3.20", "3.2"));
    }
}
