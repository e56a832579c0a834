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
# The ssh rules are checked against the real `sshd -T` (tests/sshd_differential.rs).
have sshd || need_packages+=(openssh-server)
have ssh-keygen || need_packages+=(openssh-client)
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

if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
  echo "test.sh: installing the Python jsonschema validator" >&2
  python3 -m pip install --quiet jsonschema || { [ "${CI:-}" = "true" ] && exit 1; }
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy >/dev/null 2>&1 || true

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
