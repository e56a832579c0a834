#!/usr/bin/env bash
# Installs the confinement profiles pods in the lab use: the k8s-deny-write AppArmor profile
# (loaded in enforce mode) and the audit, violation and fine-grained seccomp profiles under the
# kubelet's seccomp root, from the repository's examples/.
#
# Env: LAB_ROOT (default /) installs under another root, and REPO (default /hardnode) is where
# the repository is; with LAB_ROOT set the AppArmor profile is compiled (apparmor_parser -Q -K)
# but not loaded into the kernel, which is how the tests run this script against a fixture root.
set -euo pipefail
root="${LAB_ROOT:-/}"
repo="${REPO:-/hardnode}"
root="${root%/}"

seccomp_dir="$root/var/lib/kubelet/seccomp/profiles"
install -d -m 0755 "$seccomp_dir"
for name in audit violation fine-grained; do
  install -m 0644 "$repo/examples/seccomp/profiles/$name.json" "$seccomp_dir/$name.json"
done

apparmor_dir="$root/etc/apparmor.d"
install -d -m 0755 "$apparmor_dir"
install -m 0644 "$repo/examples/apparmor/k8s-deny-write" "$apparmor_dir/k8s-deny-write"
if [ -z "${LAB_ROOT:-}" ] || [ "${LAB_ROOT}" = "/" ]; then
  # Load (or replace) the profile in enforce mode; it persists through /etc/apparmor.d.
  apparmor_parser --replace --write-cache "$apparmor_dir/k8s-deny-write"
else
  apparmor_parser --skip-kernel-load --skip-cache "$apparmor_dir/k8s-deny-write"
fi

# Site policy for hardnode: these profiles are required on every lab node.
install -d -m 0755 "$root/etc/hardnode"
cat > "$root/etc/hardnode/config.toml" <<'POLICY'
[apparmor]
required_profiles = ["k8s-deny-write"]

[seccomp]
required_profiles = ["profiles/fine-grained.json", "profiles/audit.json", "profiles/violation.json"]
POLICY
echo "profiles.sh: seccomp profiles in $seccomp_dir, AppArmor k8s-deny-write in $apparmor_dir"
