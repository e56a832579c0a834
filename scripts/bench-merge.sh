#!/usr/bin/env bash
# Benchmarks `hardnode report merge` on a synthetic fleet: one real report (a `hardnode check
# --format json` of a synthetic control-plane root) copied to N nodes with their own hostnames,
# then merged as text, JSON and HTML. Prints the wall time of each and the page size per node, and
# fails when a merge of 5,000 reports takes 5 s or more, or the page exceeds 10 KB per node.
#
# Usage: scripts/bench-merge.sh [NODES]   (default 5000)
# Env:   HARDNODE_BIN  a prebuilt binary (default: scripts/build-release.sh)
#        BENCH_DIR     where the reports are written (default /tmp/hardnode-bench-merge)
set -euo pipefail
cd "$(dirname "$0")/.."

nodes="${1:-5000}"
dir="${BENCH_DIR:-/tmp/hardnode-bench-merge}"
if [ -z "${HARDNODE_BIN:-}" ]; then
  HARDNODE_BIN=$(scripts/build-release.sh | tail -n1)
fi
bin="$HARDNODE_BIN"
rm -rf "$dir"
mkdir -p "$dir/root" "$dir/reports"
python3 scripts/synth-root.py "$dir/root" --procs 200 --containers 10 >/dev/null
"$bin" check --root "$dir/root" --format json --output "$dir/template.json" || true
python3 - "$dir/template.json" "$dir/reports" "$nodes" <<'PY'
import json, sys
template, out, count = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
for index in range(count):
    template["host"]["hostname"] = f"node-{index:05d}"
    with open(f"{out}/node-{index:05d}.json", "w") as handle:
        json.dump(template, handle)
PY
size=$(du -sh "$dir/reports" | cut -f1)
echo "bench-merge: $nodes reports, $size"
status=0
for format in text json html; do
  start=$(date +%s.%N)
  "$bin" report merge --format "$format" --output "$dir/fleet.$format" "$dir"/reports/*.json || true
  end=$(date +%s.%N)
  seconds=$(python3 -c "print(f'{$end - $start:.2f}')")
  echo "bench-merge: --format $format: ${seconds} s"
  if [ "$nodes" -ge 5000 ] && python3 -c "import sys; sys.exit(0 if $seconds >= 5 else 1)"; then
    echo "bench-merge: FAIL: $format took ${seconds} s (target: under 5 s for 5,000 reports)" >&2
    status=1
  fi
done
bytes=$(stat -c %s "$dir/fleet.html")
per_node=$((bytes / nodes))
echo "bench-merge: page $bytes bytes, $per_node bytes per node"
if [ "$per_node" -gt 10240 ]; then
  echo "bench-merge: FAIL: more than 10 KB per node" >&2
  status=1
fi
exit "$status"
