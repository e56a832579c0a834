//! Site policy (`--config FILE`, default `/etc/hardnode/config.toml` under the root): what this
//! site requires beyond the benchmark's defaults. Unknown keys are errors naming the key and the
//! line, because a misspelt requirement that is silently ignored is a hole in the audit.

pub mod waiver;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cidr::{Cidr, Endpoint};
use crate::error::InputError;
use crate::firewall::{Mode, Persist};
use crate::netfilter::Backend;

/// The default site config path, read under the host root when it exists.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/hardnode/config.toml";

/// The kubelet's default directory for `localhostProfile` seccomp profiles.
pub const DEFAULT_SECCOMP_DIR: &str = "/var/lib/kubelet/seccomp";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub apparmor: AppArmorPolicy,
    #[serde(default)]
    pub seccomp: SeccompPolicy,
    /// The apiserver firewall policy; `None` when the site config has no `[firewall]` section
    /// (then the `firewall.apiserver-blocked` rule is `skip`).
    #[serde(default)]
    pub firewall: Option<FirewallPolicy>,
    /// `[profiles]`: the profile files this site distributes to every node. `hardnode profiles
    /// install` without flags installs them, and the `apparmor.profiles` / `seccomp.profiles`
    /// rules require what they declare.
    #[serde(default)]
    pub profiles: ProfilesPolicy,
    /// `[[waiver]]`: accepted exceptions, each with a reason and an expiry (see `waiver.rs`).
    #[serde(default, rename = "waiver")]
    pub waivers: Vec<waiver::Waiver>,
    /// Why a `[profiles]` source could not be read when the policy was loaded for a check; the
    /// profile rules become `error` with these reasons rather than passing on a partial list.
    #[serde(skip)]
    pub profile_errors: Vec<String>,
    /// Where this policy was read from (`None`: built-in defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppArmorPolicy {
    /// Profiles that must be loaded in enforce mode.
    #[serde(default)]
    pub required_profiles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeccompPolicy {
    /// The kubelet's seccomp root (host path).
    #[serde(default = "default_seccomp_dir")]
    pub profile_dir: PathBuf,
    /// Profiles (relative to `profile_dir`, as in `localhostProfile`) that must exist and be valid.
    #[serde(default)]
    pub required_profiles: Vec<String>,
}

/// `[profiles]`: AppArmor profile files or directories (every regular file in it) and seccomp
/// profile files or directories (every `*.json` below it, keeping the relative layout), as
/// host paths (absolute).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesPolicy {
    #[serde(default)]
    pub apparmor: Vec<PathBuf>,
    #[serde(default)]
    pub seccomp: Vec<PathBuf>,
}

/// `[firewall]`: what `hardnode firewall` applies when flags do not say, and what
/// `firewall.apiserver-blocked` checks. Empty lists are auto-detected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPolicy {
    #[serde(default)]
    pub container_cidrs: Vec<Cidr>,
    /// `ADDR` or `ADDR:PORT` (`[V6]:PORT`).
    #[serde(default)]
    pub apiservers: Vec<Endpoint>,
    /// `"all"` or a list such as `["forward"]`.
    #[serde(default)]
    pub mode: OneOrMany<Mode>,
    #[serde(default)]
    pub allow: Vec<Cidr>,
    pub persist: Option<Persist>,
    pub backend: Option<Backend>,
}

impl Policy {
    /// How this policy is named as a source: `site config /etc/hardnode/config.toml`.
    pub fn source_label(&self) -> String {
        format!(
            "site config {}",
            self.source
                .as_deref()
                .unwrap_or(Path::new(DEFAULT_CONFIG_PATH))
                .display()
        )
    }
}

/// A value given alone or as a list (`mode = "all"` or `mode = ["output", "forward"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(value) => vec![value.clone()],
            OneOrMany::Many(values) => values.clone(),
        }
    }
}

impl Default for SeccompPolicy {
    fn default() -> Self {
        SeccompPolicy {
            profile_dir: default_seccomp_dir(),
            required_profiles: Vec::new(),
        }
    }
}

fn default_seccomp_dir() -> PathBuf {
    PathBuf::from(DEFAULT_SECCOMP_DIR)
}

impl Policy {
    /// Parses policy text; `origin` names the file in errors.
    pub fn parse(origin: &Path, text: &str) -> Result<Policy, InputError> {
        let mut policy: Policy = toml::from_str(text).map_err(|error| InputError::Config {
            path: origin.to_path_buf(),
            message: error.to_string().trim_end().replace('\n', "\n  "),
        })?;
        policy.validate(origin)?;
        policy.source = Some(origin.to_path_buf());
        Ok(policy)
    }

    fn validate(&self, origin: &Path) -> Result<(), InputError> {
        let refuse = |message: String| InputError::Config {
            path: origin.to_path_buf(),
            message,
        };
        if !self.seccomp.profile_dir.is_absolute() {
            return Err(refuse(format!(
                "[seccomp] profile_dir must be an absolute host path, found {:?}",
                self.seccomp.profile_dir
            )));
        }
        for name in &self.seccomp.required_profiles {
            if name.is_empty()
                || Path::new(name).is_absolute()
                || name.split('/').any(|part| part == "..")
            {
                return Err(refuse(format!(
                    "[seccomp] required_profiles: {name:?} must be relative to profile_dir, \
                     as a pod's localhostProfile is"
                )));
            }
        }
        if let Some(path) = self
            .profiles
            .apparmor
            .iter()
            .chain(&self.profiles.seccomp)
            .find(|path| !path.is_absolute())
        {
            return Err(refuse(format!(
                "[profiles] {path:?} must be an absolute host path"
            )));
        }
        if let Some(name) = self
            .apparmor
            .required_profiles
            .iter()
            .find(|name| name.trim().is_empty())
        {
            return Err(refuse(format!(
                "[apparmor] required_profiles: empty name {name:?}"
            )));
        }
        waiver::validate(&self.waivers).map_err(refuse)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let policy = Policy::parse(Path::new("c.toml"), "").expect("parses");
        assert_eq!(policy.seccomp.profile_dir, Path::new(DEFAULT_SECCOMP_DIR));
        assert!(policy.apparmor.required_profiles.is_empty());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let message = Policy::parse(
            Path::new("c.toml"),
            "[apparmor]\nrequired_profiles = []\n\n[seccomp]\nprofile_dri = \"/x\"\n",
        )
        .expect_err("refused")
        .to_string();
        assert!(message.contains("c.toml"), "{message}");
        assert!(message.contains("line 5"), "{message}");
        assert!(message.contains("profile_dri"), "{message}");
    }

    #[test]
    fn firewall_section_parses_and_refuses_bad_values() {
        let policy = Policy::parse(
            Path::new("c"),
            "[firewall]\ncontainer_cidrs = [\"10.244.0.0/16\"]\napiservers = [\"192.0.2.10:6443\"]\n\
             mode = \"forward\"\nallow = [\"10.244.0.10/32\"]\npersist = \"systemd\"\nbackend = \"legacy\"\n",
        )
        .expect("parses");
        let firewall = policy.firewall.expect("section");
        assert_eq!(firewall.mode.to_vec(), [Mode::Forward]);
        assert_eq!(firewall.persist, Some(Persist::Systemd));
        assert_eq!(firewall.backend, Some(Backend::Legacy));
        let list = Policy::parse(
            Path::new("c"),
            "[firewall]\nmode = [\"output\", \"input\"]\n",
        )
        .expect("parses");
        assert_eq!(
            list.firewall.expect("section").mode.to_vec(),
            [Mode::Output, Mode::Input]
        );
        for bad in [
            "[firewall]\ncontainer_cidrs = [\"10.244.0.0/33\"]\n",
            "[firewall]\napiservers = [\"api.example:6443\"]\n",
            "[firewall]\ncontainer_cidr = []\n",
            "[firewall]\npersist = \"cron\"\n",
        ] {
            assert!(
                Policy::parse(Path::new("c"), bad).is_err(),
                "{bad} accepted"
            );
        }
        assert!(
            Policy::parse(Path::new("c"), "")
                .expect("empty")
                .firewall
                .is_none()
        );
    }

    #[test]
    fn required_profiles_stay_inside_the_profile_dir() {
        assert!(
            Policy::parse(
                Path::new("c"),
                "[seccomp]\nrequired_profiles = [\"../x.json\"]"
            )
            .is_err()
        );
        assert!(
            Policy::parse(
                Path::new("c"),
                "[seccomp]\nrequired_profiles = [\"profiles/a.json\"]"
            )
            .is_ok()
        );
    }
}
