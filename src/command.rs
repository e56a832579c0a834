//! External programs (`iptables`, `apparmor_parser`) are run by absolute path with a clean
//! environment, never through a shell, so nothing from the caller's environment changes what they
//! do. Shared by the read-only netfilter listing and the remedies.

/// A command for an external tool run by absolute path with a clean environment (a fixed
/// `PATH`, the C locale), so nothing from the caller's environment changes what it does.
pub fn clean(program: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C");
    command
}
