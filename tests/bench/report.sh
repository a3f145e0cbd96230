#!/bin/sh
# report.sh - runs the bench scripts `make bench` names and keeps what they
# print: everything goes to the terminal and to $BENCH_REPORT_DIR/
# bench-report.txt, and the figures they record (bench_record, lib.sh and
# record.h) to bench-report.json, one figure per line, with the commit,
# the machine and each script's load before and after, so two commits can
# be compared (tests/bench/compare.sh OLD.json NEW.json).
#
#   BUILD=build sh tests/bench/report.sh SCRIPT...     (names under tests/bench)
#   BENCH_REPORT_DIR=DIR   where the two files go (default $BUILD)
#
# A script that fails is reported with its exit status and the others still
# run; report.sh then exits 1.  Figures, not a test.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_REPORT_DIR:-$ROOT/$BUILD}
BENCH_DIR=${BENCH_DIR:-$ROOT/tests/bench}
. "$ROOT/tests/bench/lib.sh"
mkdir -p "$DIR" || exit 2
TXT="$DIR/bench-report.txt"
JSON="$DIR/bench-report.json"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rlc-bench-report.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
trap 'exit 2' INT TERM
FIGS="$WORK/figures.jsonl"
SCRIPTS="$WORK/scripts.jsonl"
: > "$FIGS"
: > "$SCRIPTS"

load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0; }
commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && dirty=true
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
nproc=$(nproc 2>/dev/null || echo 0)
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null || echo 0)
kernel=$(uname -sr)
redis=$(redis-server --version 2>/dev/null | sed -n 's/.*v=\([^ ]*\).*/\1/p')

{
    echo "# rlc bench report"
    echo "# commit $commit$( [ "$dirty" = true ] && echo ' (uncommitted changes)'), $date"
    echo "# $nproc CPUs, $((mem_kb / 1024)) MB, $kernel, redis-server ${redis:-none}"
    echo "# figures in $JSON"
} | tee "$TXT"

status=0
for s in "$@"; do
    before=$(load1)
    t0=$(date +%s.%N)
    echo "== $s (load $before)" | tee -a "$TXT"
    # The script's own output, stdout and stderr, in the order printed; its
    # exit status survives the pipe through a file.
    { BENCH_RECORD="$FIGS" BENCH_SCRIPT="$s" sh "$BENCH_DIR/$s" 2>&1; echo $? > "$WORK/rc"; } |
        tee -a "$TXT"
    rc=$(cat "$WORK/rc")
    after=$(load1)
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    echo "== $s: exit $rc, $secs s, load $before -> $after" | tee -a "$TXT"
    [ "$rc" = 0 ] || status=1
    printf '{"script":%s,"exit":%s,"seconds":%s,"load_before":%s,"load_after":%s}\n' \
        "$(bench_json_string "$s")" "$rc" "$secs" "$before" "$after" >> "$SCRIPTS"
done

# Targets at a glance: every recorded figure held to a goal.
pass=$(grep -c '"pass":true' "$FIGS")
miss=$(grep -c '"pass":false' "$FIGS")
{
    echo "# targets: $pass met, $miss missed"
    grep '"pass":false' "$FIGS" | sed 's/^{"bench":"\([^"]*\)","name":"\(\([^"\\]\|\\.\)*\)".*"value":\([^,]*\),"unit":"\([^"]*\)","target":"\([^"]*\)".*"load":\([^}]*\)}$/  MISS \1: \2 = \4 \5 (target \6, load \7)/'
} | tee -a "$TXT"

# The JSON: one object, its arrays one element per line so that line tools
# (compare.sh, diff) can read it too.
{
    printf '{"commit":%s,"dirty":%s,"date":%s,\n' "$(bench_json_string "$commit")" "$dirty" \
        "$(bench_json_string "$date")"
    printf ' "machine":{"cpus":%s,"mem_kb":%s,"kernel":%s,"redis":%s},\n' "$nproc" "${mem_kb:-0}" \
        "$(bench_json_string "$kernel")" "$(bench_json_string "${redis:-}")"
    printf ' "scripts":[\n'
    sed '$!s/$/,/' "$SCRIPTS"
    printf '],\n "figures":[\n'
    sed '$!s/$/,/' "$FIGS"
    printf ']}\n'
} > "$JSON.tmp" && mv "$JSON.tmp" "$JSON"
echo "# report: $TXT, $JSON" >&2
exit $status
