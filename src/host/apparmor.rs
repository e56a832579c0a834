//! AppArmor as the kernel reports it: built in (`/sys/module/apparmor`), enabled
//! (`parameters/enabled`), active in the LSM stack (`/sys/kernel/security/lsm`), and the profiles
//! loaded (`/sys/kernel/security/apparmor/profiles`, the list `apparmor_status` reads).

use std::path::Path;

use super::facts::{AppArmorFacts, LoadedProfile, Observed, ProfileList};
use super::root::HostRoot;

pub const MODULE_DIR: &str = "/sys/module/apparmor";
/// Two directories every mounted sysfs has: their absence means no sysfs under the root.
pub const SYSFS_KERNEL: &str = "/sys/kernel";
pub const SYSFS_MODULES: &str = "/sys/module";
pub const ENABLED_PARAM: &str = "/sys/module/apparmor/parameters/enabled";
pub const LSM_LIST: &str = "/sys/kernel/security/lsm";
pub const PROFILES: &str = "/sys/kernel/security/apparmor/profiles";

pub fn gather(root: &HostRoot) -> AppArmorFacts {
    let module_present = root
        .metadata(Path::new(MODULE_DIR))
        .is_ok_and(|m| m.is_dir());
    let is_dir = |path: &str| root.metadata(Path::new(path)).is_ok_and(|m| m.is_dir());
    AppArmorFacts {
        sysfs_present: module_present || is_dir(SYSFS_KERNEL) || is_dir(SYSFS_MODULES),
        module_present,
        enabled: super::read_trimmed(root, Path::new(ENABLED_PARAM)),
        lsm: Observed::read(root, Path::new(LSM_LIST), |text| parse_lsm_list(&text)),
        profiles: Observed::read(root, Path::new(PROFILES), |text| parse_profiles(&text)),
    }
}

/// `lockdown,capability,landlock,yama,apparmor` into its names.
pub fn parse_lsm_list(text: &str) -> Vec<String> {
    text.trim()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(String::from)
        .collect()
}

/// Parses the loaded-profiles list. Each line is `name (mode)`; names may contain spaces, slashes
/// and parentheses, so the mode is the last parenthesised word. Other lines are kept as odd.
pub fn parse_profiles(text: &str) -> ProfileList {
    let mut list = ProfileList::default();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let parsed = trimmed
            .strip_suffix(')')
            .and_then(|rest| rest.rsplit_once(" ("))
            .filter(|(name, mode)| {
                !name.trim().is_empty()
                    && !mode.is_empty()
                    && mode
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
            });
        match parsed {
            Some((name, mode)) => list.profiles.push(LoadedProfile {
                name: name.to_string(),
                mode: mode.to_string(),
            }),
            None => list.odd_lines.push(trimmed.to_string()),
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_spaces_slashes_and_parentheses() {
        let list = parse_profiles(
            "/usr/sbin/cupsd (enforce)\nk8s-deny-write (complain)\n\
             /snap/bin/my app (x) (enforce)\ndocker-default (enforce)\nlsb_release (kill)\n\
             garbage line\n(enforce)\n\n",
        );
        let names: Vec<(&str, &str)> = list
            .profiles
            .iter()
            .map(|p| (p.name.as_str(), p.mode.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("/usr/sbin/cupsd", "enforce"),
                ("k8s-deny-write", "complain"),
                ("/snap/bin/my app (x)", "enforce"),
                ("docker-default", "enforce"),
                ("lsb_release", "kill"),
            ]
        );
        assert_eq!(list.odd_lines, ["garbage line", "(enforce)"]);
    }

    #[test]
    fn lsm_list() {
        assert_eq!(
            parse_lsm_list("lockdown,capability,landlock,yama,apparmor\n"),
            ["lockdown", "capability", "landlock", "yama", "apparmor"]
        );
    }
}
