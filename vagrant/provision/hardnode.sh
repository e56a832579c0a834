#!/usr/bin/env bash
# Installs hardnode on the node and runs it: the text report on the console, the JSON report and
# the Prometheus textfile under /var/lib/hardnode. A failing rule does not fail provisioning:
# the lab exists to show them.
#
# Env: LAB_ROOT (default /): check another root (the tests use a fixture); BINARY (default
# /hardnode/dist/hardnode-x86_64-linux, from scripts/build-release.sh); OUT (default
# $LAB_ROOT/var/lib/hardnode).
set -euo pipefail
root="${LAB_ROOT:-/}"
binary="${BINARY:-/hardnode/dist/hardnode-x86_64-linux}"
out="${OUT:-${root%/}/var/lib/hardnode}"

if [ ! -x "$binary" ]; then
  echo "hardnode.sh: $binary not found: run scripts/build-release.sh on the host first" >&2
  exit 1
fi
if [ "$root" = "/" ]; then
  install -m 0755 "$binary" /usr/local/bin/hardnode
  hardnode=/usr/local/bin/hardnode
else
  hardnode="$binary"
fi
install -d -m 0755 "$out"

status=0
"$hardnode" check --root "$root" --color never || status=$?
"$hardnode" check --root "$root" --format json --output "$out/report.json" || true
"$hardnode" check --root "$root" --format prometheus --output "$out/hardnode.prom" || true
case "$status" in
  0) echo "hardnode.sh: every rule passes; report in $out/report.json" ;;
  1) echo "hardnode.sh: some rules fail (see above); report in $out/report.json" ;;
  *) echo "hardnode.sh: hardnode exited $status" >&2; exit "$status" ;;
esac
