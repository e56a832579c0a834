#!/usr/bin/env bash
# Runs every test hardnode has: format, lints, unit and integration tests.
# Installs what the tests need when it is missing (a fresh machine has only the Rust toolchain),
# so this same command works for a new user, a developer and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
have() { command -v "$1" >/dev/null 2>&1; }
# Firewall tests: both backends' binaries (Debian's iptables ships iptables-legacy and
# iptables-nft), socat as the apiserver stand-in, systemd's rc-local generator and systemd-analyze.
{ have iptables-legacy && have iptables-nft; } || need_packages+=(iptables)
have socat || need_packages+=(socat)
{ [ -x /usr/lib/systemd/system-generators/systemd-rc-local-generator ] && have systemd-analyze; } || need_packages+=(systemd)
have ip || need_packages+=(iproute2)
have unshare || need_packages+=(util-linux)
# The read-only proof traces every file syscall (tests/least_privilege.rs).
have strace || need_packages+=(strace)
have setpriv || need_packages+=(util-linux)
have apparmor_parser || need_packages+=(apparmor)
have python3 || need_packages+=(python3 python3-pip)
# sshd: the ssh rules are checked against the real `sshd -T` (tests/sshd_differential.rs), and
# fleet-check.sh is tested against an sshd on 127.0.0.1 (tests/fleet_ssh.rs).
have sshd || need_packages+=(openssh-server)
have ssh || need_packages+=(openssh-client)
have ssh-keygen || need_packages+=(openssh-client)
# accounts.sudo-nopasswd is checked against the real `sudo -l` (tests/sudo_differential.rs).
have sudo || need_packages+=(sudo)
# Real components as the oracle: etcd (tests/etcd_live.rs), containerd with runc running busybox
# containers (tests/containerd_live.rs).
have etcd || need_packages+=(etcd-server)
have containerd || need_packages+=(containerd)
have runc || need_packages+=(runc)
have busybox || need_packages+=(busybox-static)
# dockerd (tests/dockerd_live.rs: --iptables=false --ip6tables=false --bridge=none, its own roots).
have dockerd || need_packages+=(docker.io)
# etcd's TLS material and a certificate-less client (tests/etcd_live.rs).
have openssl || need_packages+=(openssl)
have curl || need_packages+=(curl)
have chromium || need_packages+=(chromium)
have shellcheck || need_packages+=(shellcheck)
have script || need_packages+=(util-linux)
have flock || need_packages+=(util-linux)
have readelf || need_packages+=(binutils)
have file || need_packages+=(file)
have vagrant || need_packages+=(vagrant)
# `vagrant validate` with the libvirt provider's own checks (tests/lab.rs).
compgen -G '/usr/share/rubygems-integration/all/gems/vagrant-libvirt-*' >/dev/null || need_packages+=(vagrant-libvirt)
# The formats read back by their real consumers: promtool (Debian's prometheus) checks the metrics
# and the example alert rules; xmllint validates JUnit against the Jenkins xunit schema.
have promtool || need_packages+=(prometheus)
have xmllint || need_packages+=(libxml2-utils)
# The generated man page is rendered by man-db (groff) with warnings on (tests/completions.rs).
have man || need_packages+=(man-db)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && have apt-get; then
    echo "test.sh: installing ${need_packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
  else
    echo "test.sh: missing ${need_packages[*]}; install them (as root: apt-get install ${need_packages[*]})" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi

# Python tools the format tests parse with (prometheus_client's text parser, jsonschema for
# SARIF) and the deployment tests use (ansible-core, kubernetes-validate).
python_modules=(prometheus_client jsonschema ansible kubernetes_validate yaml ansiblelint)
python_packages=(prometheus_client jsonschema ansible-core kubernetes-validate PyYAML ansible-lint)
missing_python=()
for index in "${!python_modules[@]}"; do
  python3 -c "import ${python_modules[$index]}" >/dev/null 2>&1 || missing_python+=("${python_packages[$index]}")
done
if [ ${#missing_python[@]} -gt 0 ]; then
  echo "test.sh: pip installing ${missing_python[*]}" >&2
  python3 -m pip install -q "${missing_python[@]}" \
    || python3 -m pip install -q --break-system-packages "${missing_python[@]}" \
    || { [ "${CI:-}" = "true" ] && exit 1; }
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy >/dev/null 2>&1 || true

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked

# Shell scripts operators run (fleet, release, lab provisioning) stay shellcheck-clean.
mapfile -t shell_scripts < <(find scripts vagrant -name '*.sh' 2>/dev/null | sort)
shellcheck "${shell_scripts[@]}"
# The static release binary: built, checked for no NEEDED entries/interpreter, run. Without LTO
# here (the linking, and so the check, is the same; LTO only makes the build minutes longer).
HARDNODE_FAST_BUILD=1 scripts/build-release.sh
