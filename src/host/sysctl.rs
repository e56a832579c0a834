//! Kernel parameters as the kernel applies them: `kernel.panic` is `/proc/sys/kernel/panic`.
//! The running value is what counts, not what `/etc/sysctl.d` says it should be at boot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::facts::Observed;
use super::root::HostRoot;

/// The `/proc/sys` path of a dotted parameter name.
pub fn path_of(key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/{}", key.replace('.', "/")))
}

pub fn gather(root: &HostRoot, keys: &BTreeSet<String>) -> BTreeMap<String, Observed<String>> {
    keys.iter()
        .map(|key| (key.clone(), super::read_trimmed(root, &path_of(key))))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_names_map_to_proc_sys() {
        assert_eq!(
            super::path_of("net.ipv4.conf.all.accept_redirects"),
            std::path::Path::new("/proc/sys/net/ipv4/conf/all/accept_redirects")
        );
    }
}
