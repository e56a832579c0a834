//! hardnode practises the least privilege it audits. Read-only commands drop every capability
//! except the two reading needs — `CAP_DAC_READ_SEARCH` (read any file, search any directory)
//! and `CAP_SYS_PTRACE` (read other processes' `/proc/<pid>/{environ,ns,root,…}`) — from the
//! effective, permitted, inheritable, ambient and bounding sets, and set `no_new_privs`, before
//! reading anything. A bug or a planted file can then not be turned into a write.
//!
//! Every command drops before its first read of a file (`cli::run`, right after the command
//! line is parsed; only `capget`/`prctl` come first). `check` and `facts` cannot know yet whether
//! a configured `firewall.apiserver-blocked` will need the netfilter listing, which depends on the
//! site config they are about to read: they drop first to [`BEFORE_NEEDS_CAPABILITIES`] (the
//! netfilter read set plus `CAP_SETPCAP`, which only lets the bounding set shrink further), read
//! the site config, the rule files and the profile sources it declares, and then drop again to
//! exactly what the gathering needs. `firewall apply`/`remove` keep what they have (they change
//! netfilter and write root-owned files).

use caps::{CapSet, Capability, CapsHashSet};
use serde::Serialize;

/// What reading the host needs.
pub const READ_CAPABILITIES: &[Capability] =
    &[Capability::CAP_DAC_READ_SEARCH, Capability::CAP_SYS_PTRACE];

/// Reading plus listing the kernel's netfilter rules (`iptables -S`): CAP_NET_ADMIN for nf_tables'
/// netlink, CAP_NET_RAW for the legacy backend's raw socket. Nothing is written with them.
pub const NETFILTER_READ_CAPABILITIES: &[Capability] = &[
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_SYS_PTRACE,
    Capability::CAP_NET_ADMIN,
    Capability::CAP_NET_RAW,
];

/// `check` and `facts` before the site config says what they will gather: the netfilter read set,
/// plus `CAP_SETPCAP` so the second drop can still shrink the bounding set. Nothing here can
/// write a file.
pub const BEFORE_NEEDS_CAPABILITIES: &[Capability] = &[
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_SYS_PTRACE,
    Capability::CAP_NET_ADMIN,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETPCAP,
];

/// `profiles install`: reading, writing root-owned files under /etc/apparmor.d and the kubelet's
/// seccomp root with mode and owner set (CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER), and loading
/// AppArmor policy through `apparmor_parser -r` (CAP_MAC_ADMIN; the child inherits the bounding
/// set, which is reduced to this list).
pub const PROFILE_INSTALL_CAPABILITIES: &[Capability] = &[
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_SYS_PTRACE,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_CHOWN,
    Capability::CAP_FOWNER,
    Capability::CAP_MAC_ADMIN,
];

/// `fix files`: reading (the same facts as `check`), opening any file to change it
/// (CAP_DAC_OVERRIDE), `fchmod` on files of other owners (CAP_FOWNER) and `fchown` (CAP_CHOWN).
pub const FILE_FIX_CAPABILITIES: &[Capability] = &[
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_SYS_PTRACE,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_CHOWN,
    Capability::CAP_FOWNER,
];

/// The process's own privileges as the kernel reports them in `/proc/self/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privileges {
    pub effective: Vec<String>,
    pub permitted: Vec<String>,
    pub inheritable: Vec<String>,
    pub bounding: Vec<String>,
    pub ambient: Vec<String>,
    pub no_new_privs: bool,
    /// What could not be dropped, and why (e.g. not root: there was nothing to drop).
    pub notes: Vec<String>,
}

/// Reduces this process to `keep` (intersected with what it has) and sets `no_new_privs`.
/// Returns notes on anything that could not be done; never fails the run.
pub fn restrict_to(keep: &[Capability]) -> Vec<String> {
    let mut notes = Vec::new();
    let keep: CapsHashSet = keep.iter().copied().collect();
    let permitted = caps::read(None, CapSet::Permitted).unwrap_or_default();
    let kept: CapsHashSet = permitted.intersection(&keep).copied().collect();

    // The bounding set can only shrink, and only with CAP_SETPCAP in the effective set: do it first.
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false) {
        let bounding = caps::read(None, CapSet::Bounding).unwrap_or_default();
        for cap in bounding.difference(&keep) {
            if let Err(error) = caps::drop(None, CapSet::Bounding, *cap) {
                notes.push(format!("cannot drop {cap} from the bounding set: {error}"));
            }
        }
    } else if !permitted.is_empty() {
        notes.push("bounding set left as is: CAP_SETPCAP is not effective".into());
    }
    if let Err(error) = caps::clear(None, CapSet::Ambient) {
        notes.push(format!("cannot clear the ambient set: {error}"));
    }
    let empty = CapsHashSet::new();
    for (set, target) in [
        (CapSet::Inheritable, &empty),
        (CapSet::Effective, &kept),
        (CapSet::Permitted, &kept),
    ] {
        if let Err(error) = caps::set(None, set, target) {
            notes.push(format!("cannot set the {set:?} set: {error}"));
        }
    }
    if let Err(error) = nix::sys::prctl::set_no_new_privs() {
        notes.push(format!("cannot set no_new_privs: {error}"));
    }
    notes
}

/// This process's privileges, read from `/proc/self/status` (the kernel's own account, not the
/// library's idea of it).
pub fn current(notes: Vec<String>) -> Privileges {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| crate::procstatus::status_field(&status, name);
    let set = |name: &str| {
        field(name)
            .map(|hex| capability_names(&hex))
            .unwrap_or_default()
    };
    Privileges {
        effective: set("CapEff"),
        permitted: set("CapPrm"),
        inheritable: set("CapInh"),
        bounding: set("CapBnd"),
        ambient: set("CapAmb"),
        no_new_privs: field("NoNewPrivs").is_some_and(|value| value == "1"),
        notes,
    }
}

/// Decodes a `/proc/<pid>/status` capability mask (`000001ffffffffff`) into sorted `CAP_*` names,
/// with the same decoder the container audit uses.
pub fn capability_names(hex: &str) -> Vec<String> {
    let Ok(mask) = u64::from_str_radix(hex.trim(), 16) else {
        return vec![format!("unparsable mask {hex:?}")];
    };
    let mut names: Vec<String> = crate::procstatus::capability_names(mask)
        .into_iter()
        .map(|name| {
            if name.starts_with("CAP_") {
                name
            } else {
                format!("CAP_{name}")
            }
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_decode_to_names() {
        assert_eq!(capability_names("0000000000000000"), Vec::<String>::new());
        assert_eq!(
            capability_names("0000000000080004"),
            ["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"]
        );
        // Docker's default set.
        let default = capability_names("00000000a80425fb");
        assert!(default.contains(&"CAP_NET_RAW".to_string()));
        assert!(!default.contains(&"CAP_SYS_ADMIN".to_string()));
        assert_eq!(default.len(), 14);
        assert_eq!(capability_names("zz"), ["unparsable mask \"zz\""]);
    }
}
