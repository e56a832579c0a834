#!/usr/bin/env bash
# Checks a fleet of nodes over SSH: copies the hardnode binary to each host (scp), runs
# `hardnode check --format json` there (as root: directly, or through `sudo -n`), collects one
# report per node into a directory and merges them (`hardnode report merge`: text on stdout,
# fleet.html beside the reports).
#
# Usage: scripts/fleet-check.sh [options] HOSTS_FILE
#   -b BINARY    hardnode binary to copy (default: dist/hardnode-x86_64-linux, else `hardnode` on PATH)
#   -o DIR       where reports go (default: fleet-reports-YYYYmmdd-HHMMSS)
#   -j JOBS      hosts checked at once (default 8)
#   -t SECONDS   time allowed per host, copy + check (default 120)
#   -F FILE      ssh config file (ports, users, keys, jump hosts), passed to ssh and scp
#   -i KEY       ssh identity file
#   -r DIR, --remote-dir DIR
#                where the binary is copied on each host (a fresh directory made inside DIR,
#                removed afterwards; default: the remote user's $TMPDIR or /tmp). Use it when
#                /tmp is mounted noexec, as CIS recommends: e.g. --remote-dir /var/lib/hardnode
#   -u PATH, --use-installed PATH
#                run the hardnode already installed at PATH on every host (nothing is copied),
#                e.g. by the Ansible role; the only form a sudo rule can name safely (see below)
#
# Privileges: the check runs as root directly, or through `sudo -n` (never prompts). Rather than
# passwordless sudo for everything (which the `accounts.sudo-nopasswd` rule flags), install the
# binary root-owned and allow only it, with --use-installed:
#   # /etc/sudoers.d/hardnode (visudo -f /etc/sudoers.d/hardnode)
#   ops ALL=(root) NOPASSWD: /usr/local/bin/hardnode check --format json, /usr/local/bin/hardnode check --format json *
# A copied binary lives in a directory the SSH user owns: never name it in a sudo rule.
#
# HOSTS_FILE: one host per line, `[user@]host[:port]` or a Host alias from your ssh config,
# optionally followed by extra arguments for that host's `hardnode check` (e.g.
# `--config /etc/hardnode/control-plane.toml`). Blank lines and `#` comments are ignored.
#
# Every host gets one status line on stderr (ok, failing rules, unreachable, timed out); on a
# terminal each line carries a [done/total] counter. Exit: 0 every host checked and none fails,
# 1 some node fails a rule, 3 some host could not be checked (its line says why), 2 usage.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# Long options as their short forms (getopts knows only short ones).
arguments=()
while [ $# -gt 0 ]; do
  case "$1" in
    --remote-dir) arguments+=(-r "${2:-}"); shift 2 || shift ;;
    --remote-dir=*) arguments+=(-r "${1#*=}"); shift ;;
    --use-installed) arguments+=(-u "${2:-}"); shift 2 || shift ;;
    --use-installed=*) arguments+=(-u "${1#*=}"); shift ;;
    --help) arguments+=(-h); shift ;;
    --) arguments+=("$@"); break ;;
    *) arguments+=("$1"); shift ;;
  esac
done
set -- "${arguments[@]}"

binary=""
outdir=""
jobs=8
per_host_timeout=120
ssh_config=""
identity=""
remote_parent=""
installed=""
while getopts ":b:o:j:t:F:i:r:u:h" option; do
  case "$option" in
    b) binary="$OPTARG" ;;
    o) outdir="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    t) per_host_timeout="$OPTARG" ;;
    F) ssh_config="$OPTARG" ;;
    i) identity="$OPTARG" ;;
    r) remote_parent="$OPTARG" ;;
    u) installed="$OPTARG" ;;
    h) usage ;;
    *) echo "fleet-check.sh: bad option -$OPTARG" >&2; usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
hosts_file="$1"
[ -r "$hosts_file" ] || { echo "fleet-check.sh: cannot read hosts file $hosts_file" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fleet-check.sh: -j needs a positive number" >&2; exit 2; }
[[ "$per_host_timeout" =~ ^[1-9][0-9]*$ ]] || { echo "fleet-check.sh: -t needs seconds" >&2; exit 2; }

[ -z "$remote_parent" ] || [[ "$remote_parent" = /* ]] || { echo "fleet-check.sh: --remote-dir needs an absolute path" >&2; exit 2; }
[ -z "$installed" ] || [[ "$installed" = /* ]] || { echo "fleet-check.sh: --use-installed needs an absolute path" >&2; exit 2; }
[ -z "$remote_parent" ] || [ -z "$installed" ] || { echo "fleet-check.sh: --remote-dir and --use-installed exclude each other" >&2; exit 2; }

here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$binary" ]; then
  if [ -x "$here/dist/hardnode-x86_64-linux" ]; then
    binary="$here/dist/hardnode-x86_64-linux"
  else
    binary="$(command -v hardnode || true)"
  fi
fi
if [ -z "$installed" ] && { [ -z "$binary" ] || [ ! -x "$binary" ]; }; then
  echo "fleet-check.sh: no hardnode binary (build one with scripts/build-release.sh, or pass -b)" >&2
  exit 2
fi
outdir="${outdir:-fleet-reports-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$outdir"

ssh_options=(-o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=2)
[ -n "$ssh_config" ] && ssh_options+=(-F "$ssh_config")
[ -n "$identity" ] && ssh_options+=(-i "$identity")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Hosts: comments and blank lines dropped, whitespace trimmed.
grep -vE '^[[:space:]]*(#|$)' "$hosts_file" | sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' > "$work/hosts" || true
total=$(wc -l < "$work/hosts")
[ "$total" -gt 0 ] || { echo "fleet-check.sh: no hosts in $hosts_file" >&2; exit 2; }
: > "$work/done"

show_counter=0
[ -t 2 ] && show_counter=1

# Prints a host's status line (with a [done/total] counter on a terminal) and notes problems.
report_line() {
  local done_count
  # shellcheck disable=SC2016 # $1 is expanded by the inner sh, under the lock
  done_count=$(flock "$work/done" sh -c 'echo x >> "$1"; wc -l < "$1"' _ "$work/done")
  case "$2" in ok*) : ;; *) echo "$1" >> "$work/problems" ;; esac
  if [ "$show_counter" -eq 1 ]; then
    printf '[%d/%d] %s: %s\n' "$done_count" "$total" "$1" "$2" >&2
  else
    printf '%s: %s\n' "$1" "$2" >&2
  fi
}

# One host: copy, check, fetch, within one deadline (every ssh/scp gets the time left).
check_host() {
  local line="$1" spec host name ssh_port=() scp_port=() extra=() remote_dir output rc
  local deadline=$((SECONDS + per_host_timeout))
  read -r spec _ <<< "$line"
  read -r -a extra <<< "${line#"$spec"}"
  host="$spec"
  if [[ "$spec" =~ ^(.+):([0-9]+)$ ]]; then
    host="${BASH_REMATCH[1]}"
    ssh_port=(-p "${BASH_REMATCH[2]}")
    scp_port=(-P "${BASH_REMATCH[2]}")
  fi
  name="${spec//[^A-Za-z0-9._-]/_}"
  local log="$work/$name.log"
  left() { local seconds=$((deadline - SECONDS)); [ "$seconds" -gt 0 ] && echo "$seconds" || echo 1; }
  run_ssh() { timeout --kill-after=5 "$(left)" ssh "${ssh_options[@]}" "${ssh_port[@]}" "$host" "$@"; }
  timed_out() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; }

  set +e
  local program
  if [ -n "$installed" ]; then
    program="$(printf '%q' "$installed")"
    remote_dir=""
    # Reachability is checked by the run itself.
    check_run "$spec" "$program" "" "${extra[@]}"
    return
  fi
  if [ -n "$remote_parent" ]; then
    remote_dir=$(run_ssh "mkdir -p $(printf '%q' "$remote_parent") && mktemp -d $(printf '%q' "$remote_parent")/hardnode.XXXXXX" 2>"$log")
  else
    remote_dir=$(run_ssh 'mktemp -d -t hardnode.XXXXXX' 2>"$log")
  fi
  rc=$?
  if [ "$rc" -ne 0 ]; then
    if timed_out "$rc"; then report_line "$spec" "timed out after ${per_host_timeout}s (connecting)"
    else report_line "$spec" "unreachable: $(tail -n 1 "$log")"; fi
    return
  fi
  timeout --kill-after=5 "$(left)" scp -q "${ssh_options[@]}" "${scp_port[@]}" "$binary" "$host:$remote_dir/hardnode" 2>"$log"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    if timed_out "$rc"; then report_line "$spec" "timed out after ${per_host_timeout}s (copying)"
    else report_line "$spec" "copy failed: $(tail -n 1 "$log")"; fi
    run_ssh "rm -rf '$remote_dir'" 2>/dev/null
    return
  fi
  check_run "$spec" "$(printf '%q' "$remote_dir/hardnode")" "$remote_dir" "${extra[@]}"
}

# Runs the check on a host (the program at $2; $3 the copied binary's directory, removed
# afterwards whatever the outcome, or empty) and files its report and status line.
check_run() {
  local spec="$1" program="$2" cleanup="$3" quoted_args="" argument rc
  shift 3
  for argument in "$@"; do quoted_args+=" $(printf '%q' "$argument")"; done
  # Root runs it directly; anyone else through sudo -n (never prompts: a missing sudo rule is a
  # clear error rather than a hang).
  local remove=""
  [ -n "$cleanup" ] && remove="rm -rf $(printf '%q' "$cleanup");"
  local command="if [ \"\$(id -u)\" -eq 0 ]; then as=''; else as='sudo -n'; fi; \
\$as $program check --format json$quoted_args; rc=\$?; $remove exit \$rc"
  output="$work/$name.json"
  run_ssh "$command" > "$output" 2>"$log"
  rc=$?
  case "$rc" in
    0 | 1)
      if ! grep -q '"schema": "hardnode.report/v1"' "$output"; then
        report_line "$spec" "no report: $(tail -n 1 "$log")"
      else
        mv "$output" "$outdir/$name.json"
        local fails
        fails=$(grep -c '"status": "fail"' "$outdir/$name.json")
        if [ "$rc" -eq 0 ]; then report_line "$spec" "ok"; else report_line "$spec" "ok, $fails failing rule(s)"; fi
      fi
      ;;
    124 | 137) report_line "$spec" "timed out after ${per_host_timeout}s (checking)" ;;
    255) report_line "$spec" "unreachable: $(tail -n 1 "$log")" ;;
    126)
      if [ -n "$cleanup" ]; then
        report_line "$spec" "cannot execute the copied binary in ${cleanup%/*} (mounted noexec?): use --remote-dir DIR on an exec mount, or --use-installed PATH"
      else
        report_line "$spec" "cannot execute $program (exit 126): $(tail -n 1 "$log")"
      fi
      ;;
    127) report_line "$spec" "no hardnode at $program (exit 127): $(tail -n 1 "$log")" ;;
    *) report_line "$spec" "hardnode exit $rc: $(tail -n 1 "$log")" ;;
  esac
}

# Bounded parallelism: at most $jobs hosts at once.
running=0
while IFS= read -r line; do
  check_host "$line" < /dev/null &   # ssh must not eat the host list
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done < "$work/hosts"
wait

problems=0
[ -f "$work/problems" ] && problems=$(wc -l < "$work/problems")
reports=("$outdir"/*.json)
if [ ! -e "${reports[0]}" ]; then
  echo "fleet-check.sh: no host could be checked" >&2
  exit 3
fi
echo "fleet-check.sh: $((total - problems))/$total hosts reported into $outdir" >&2
# Merge with the copied binary when it runs here, else with the `hardnode` on PATH (a controller
# of another architecture).
merger="$binary"
if [ -z "$merger" ] || ! "$merger" --version >/dev/null 2>&1; then
  merger="$(command -v hardnode || true)"
fi
if [ -z "$merger" ]; then
  echo "fleet-check.sh: reports are in $outdir; no hardnode runs here to merge them" >&2
  exit 3
fi
set +e
"$merger" report merge --format html --output "$outdir/fleet.html" "${reports[@]}"
"$merger" report merge "${reports[@]}"
merged=$?
set -e
echo "fleet-check.sh: fleet page: $outdir/fleet.html" >&2
if [ "$problems" -gt 0 ]; then
  echo "fleet-check.sh: $problems host(s) could not be checked: $(paste -sd' ' "$work/problems")" >&2
  exit 3
fi
exit "$merged"
