#!/usr/bin/env bash
# Fuzzes hardnode's parsers for a bounded time each.
#
# cargo-fuzz (libFuzzer) needs a nightly toolchain, which this project does not require; the
# targets are stable-Rust property tests (proptest) in tests/fuzz.rs that mutate the seed corpus
# in fuzz/corpus/<target>/. Built in the dev profile on purpose: overflow checks and debug
# assertions turn silent wrong answers into failures.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   default 60 seconds, every target: args kubelet_yaml seccomp kernel_config apparmor_profiles
#   mountinfo sshd_config
# A failure prints the minimal input; add it to fuzz/corpus/<target>/ and as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(args kubelet_yaml seccomp kernel_config apparmor_profiles mountinfo sshd_config)

cargo test --test fuzz --no-run --quiet
failed=()
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s" >&2
  # The harness stops itself at the deadline; the outer timeout only catches a hang.
  if ! HARDNODE_FUZZ_SECONDS="$seconds" HARDNODE_FUZZ_CASES=256 \
      timeout --kill-after=10 "$((seconds + 120))" \
      cargo test --quiet --test fuzz "fuzz_${target}" -- --exact --nocapture; then
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a failure" >&2
