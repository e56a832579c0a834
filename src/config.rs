//! Site policy (`--config FILE`, default `/etc/hardnode/config.toml` under the root): what this
//! site requires beyond the benchmark's defaults. Unknown keys are errors naming the key and the
//! line, because a misspelt requirement that is silently ignored is a hole in the audit.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

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
    pub fn parse(origin: &Path, text: &str) -> Result<Policy, Error> {
        let mut policy: Policy = toml::from_str(text).map_err(|error| Error::Config {
            path: origin.to_path_buf(),
            message: error.to_string().trim_end().replace('\n', "\n  "),
        })?;
        policy.validate(origin)?;
        policy.source = Some(origin.to_path_buf());
        Ok(policy)
    }

    fn validate(&self, origin: &Path) -> Result<(), Error> {
        let refuse = |message: String| Error::Config {
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
