#!/usr/bin/env bash
# Runs every read-only subcommand in every output format over the test fixtures and a synthetic
# control-plane root, one file per run (stdout, then stderr and the exit code), so two builds can
# be compared byte for byte: a refactor that must not change behaviour proves it with
#   scripts/output-snapshot.sh BIN_BEFORE ROOT before/ && scripts/output-snapshot.sh BIN_AFTER ROOT after/ && diff -r before after
# ROOT is made by scripts/synth-root.py once and reused for both runs (it has random ids). Both
# binaries must have the same file name (clap prints it in the usage line). Prometheus output
# carries the run's time and duration, which differ between any two runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { echo "usage: $0 HARDNODE_BINARY SYNTH_ROOT OUT_DIR" >&2; exit 2; }
bin=$(realpath "$1"); root=$(realpath "$2"); out=$(realpath -m "$3")
mkdir -p "$out"
run() {
  local name=$1; shift
  local code=0
  NO_COLOR=1 COLUMNS=80 "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null || code=$?
  echo "$code" >"$out/$name.code"
}
for format in text json junit prometheus sarif; do
  run "check-$format" check --root "$root" --format "$format"
  run "check-kernel-$format" check --root "$root" --only kernel,4.2,1.1 --format "$format"
done
run check-color check --root "$root" --color always
run check-empty-root check --root tests/fixtures/manifests --format json
run facts facts --root "$root"
run rules rules
run rules-json rules --format json
for format in text json; do
  run "containers-$format" containers --root "$root" --format "$format"
  run "fix-files-$format" fix files --root "$root" --dry-run --format "$format"
  run "profiles-status-$format" profiles status --root "$root" --format "$format"
  run "firewall-plan-$format" firewall plan --root "$root" --container-cidr 10.244.0.0/16 --apiserver 192.0.2.10:6443 --format "$format"
done
for format in text json sarif; do
  run "manifest-scan-$format" manifest scan tests/fixtures/manifests --format "$format"
done
for level in baseline restricted; do
  for format in text json sarif; do
    run "manifest-scan-$level-$format" manifest scan tests/fixtures/manifests --standard "$level" --format "$format"
  done
done
run manifest-scan-standard-1.21 manifest scan tests/fixtures/manifests --standard restricted --standard-version 1.21
run manifest-scan-standard-unknown manifest scan tests/fixtures/manifests --standard baseline --standard-version 1.99
run manifest-rules manifest rules
run manifest-rules-json manifest rules --format json
run seccomp-lint seccomp lint examples/seccomp/profiles/*.json
run usage-error check --only no-such-rule
run check-profile-eks check --root "$root" --profile cis-eks-1.5.0 --format json
run check-profile-only check --root "$root" --profile cis-eks-1.5.0 --only 3.2 --format text
run check-profile-unknown check --root "$root" --profile no-such-profile
run help --help
# The merge input is named relative to the output directory, so two snapshots compare equal.
"$bin" check --root "$root" --format json >"$out/merge-input.json" 2>/dev/null || true
for format in text json html; do
  (cd "$out" && run "merge-$format" report merge --format "$format" merge-input.json)
done
echo "output-snapshot: $(find "$out" -name "*.code" | wc -l) runs in $out" >&2
