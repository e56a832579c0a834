//! `--profile`: which benchmark profile's ids the results carry and `--only`/`--skip` accept.
//! `auto` (the default) takes the profile made for the detected platform: before the run from
//! the platform's files (so `--only 3.2.1` works on an EKS node), and for the report from the
//! platform the run detected (processes included).

use std::collections::BTreeMap;

use super::check::SelectArgs;
use super::{Error, load_rules, select};
use crate::benchmark::profiles::{self, Profile};
use crate::benchmark::{Decision, Rule};
use crate::host::HostRoot;
use crate::host::platform::{self, Platform};

/// What `--profile` asked for.
pub(super) enum ProfileChoice {
    None,
    Explicit(Profile),
    Auto(Vec<Profile>),
}

impl ProfileChoice {
    /// The profile the report carries, and how it was chosen.
    pub(super) fn finish(self, platform: &Platform) -> Option<(Profile, String)> {
        match self {
            ProfileChoice::None => None,
            ProfileChoice::Explicit(profile) => Some((profile, "--profile".into())),
            ProfileChoice::Auto(all) => profiles::for_platform(&all, platform.name.as_str())
                .cloned()
                .map(|profile| {
                    let chosen = format!("auto: platform {}", platform.name.as_str());
                    (profile, chosen)
                }),
        }
    }
}

/// The selected rules, with `--only`/`--skip` also matching the chosen profile's ids.
pub(super) fn select_with_profile(
    args: &SelectArgs,
    root: &HostRoot,
) -> Result<(Vec<(Rule, Decision)>, ProfileChoice), Error> {
    let rules = load_rules(&args.benchmark)?;
    let all = profiles::load_profiles(&rules).map_err(|error| Error::Usage(error.to_string()))?;
    let (choice, ids): (ProfileChoice, BTreeMap<String, String>) = match args.profile.as_deref() {
        Some("none") => (ProfileChoice::None, BTreeMap::new()),
        None | Some("auto") => {
            // Files only: the walk of /proc is the run's own, later.
            let guessed = platform::detect(root, None);
            let ids = profiles::for_platform(&all, guessed.name.as_str())
                .map(|profile| profile.ids.clone())
                .unwrap_or_default();
            (ProfileChoice::Auto(all), ids)
        }
        Some(id) => {
            let known: Vec<String> = all.iter().map(|p| p.id.clone()).collect();
            let profile = all.into_iter().find(|p| p.id == id).ok_or_else(|| {
                Error::Usage(format!(
                    "--profile {id}: no such benchmark profile (known: {}, auto, none)",
                    known.join(", ")
                ))
            })?;
            let ids = profile.ids.clone();
            (ProfileChoice::Explicit(profile), ids)
        }
    };
    Ok((select(rules, args, ids)?, choice))
}
