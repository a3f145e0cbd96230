#!/bin/sh
# run.sh - the parse+check benchmark behind `make bench`.
#
# Generates policies of 10 000 and 100 000 tenants with gen_policy (and
# 1 000 000 with BENCH_FULL=1), runs `rlc check` on each, and prints wall
# time, CPU time, peak RSS and tenants/s, the 100k/10k and 1M/100k ratios,
# and PASS/MISS against the targets (SPEC 3.6).  Figures, not a test: it
# exits 0 whatever it measures, and non-zero only when it could not measure
# at all.
#
#   BUILD=build sh tests/bench/run.sh
#   BENCH_FULL=1      also 1 000 000 tenants (<= 10 s CPU, <= 3 GB peak RSS,
#                     <= 11 x the 100 000-tenant time)
#   BENCH_RUNS=N      runs per size, the median is reported (default 3; the
#                     1M hazards run is one run)
#   BENCH_KEEP=1      keep the generated policies in $BUILD/bench/
#   BENCH_HAZARDS=0   skip the hazard-analysis part (issue 3): 10k, 100k and
#                     1M tenants generated with --hazards, every hazard pass
#                     run, diagnostics counted by code
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RLC="$ROOT/$BUILD/rlc"
GEN="$ROOT/$BUILD/gen_policy"
RUNS=${BENCH_RUNS:-3}
OUT="$ROOT/$BUILD/bench"

for f in "$RLC" "$GEN"; do
    [ -x "$f" ] || { echo "bench: $f missing (run make bench)" >&2; exit 2; }
done
mkdir -p "$OUT"
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$OUT"/t[0-9]*' EXIT INT TERM

# measure N [GEN-FLAGS]: generates N tenants, runs rlc check RUNS times,
# and sets WALL (s), CPU (s, user+system), RSS (MB): medians over the runs.
measure() {
    n=$1
    dir="$OUT/t$n"
    rm -rf "$dir"
    "$GEN" -n "$n" -o "$dir" ${2:-} || { echo "bench: gen_policy failed" >&2; exit 2; }
    bytes=$(cat "$dir"/*.rlp | wc -c)
    : > "$OUT/runs"
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        bench_time "$OUT/time" "$RLC" check -q "$dir/main.rlp"
        rc=$?
        # With --hazards, hazard errors (exit 1) are the expected outcome.
        if [ $rc -ne 0 ] && { [ -z "${2:-}" ] || [ $rc -ne 1 ]; }; then
            echo "bench: rlc check exited $rc on $n tenants; diagnostics:" >&2
            "$RLC" check "$dir/main.rlp" 2>&1 | head -20 >&2
            exit 2
        fi
        # Wall time from bench_time (fork to wait), not from date(1) around
        # it: that counted python's start, about 0.3 s here, as rlc's.
        tail -1 "$OUT/time" | awk '{ printf "%.3f %.3f %.1f\n", $4, $1 + $2, $3 / 1024 }' >> "$OUT/runs"
    done
    # median of each column independently
    WALL=$(cut -d' ' -f1 "$OUT/runs" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    CPU=$(cut -d' ' -f2 "$OUT/runs" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    RSS=$(cut -d' ' -f3 "$OUT/runs" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    MB=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
    TPS=$(awk -v n="$n" -v w="$WALL" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
    printf '%-9s %8s MB  wall %7.3f s  cpu %7.3f s  peak RSS %8.1f MB  %9s tenants/s\n' \
        "$n" "$MB" "$WALL" "$CPU" "$RSS" "$TPS"
    bench_record "check $n tenants${2:+ $2}: wall" "$WALL" s
    bench_record "check $n tenants${2:+ $2}: cpu (user+sys)" "$CPU" s
    bench_record "check $n tenants${2:+ $2}: peak RSS" "$RSS" MB
    if [ -n "${2:-}" ] && [ "$n" -le 100000 ]; then
        # What the hazard passes found, by code (one extra, untimed run;
        # skipped at 1M, where printing millions of lines is the cost).
        "$RLC" check --format=json "$dir/main.rlp" 2>/dev/null |
            sed -n 's/^{"code":"\(RLC[0-9]*\)".*/\1/p' | sort | uniq -c |
            awk '{ printf "%s %s x%s", (NR > 1 ? "," : "#   found:"), $2, $1 } END { print "" }'
    fi
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
}

# verdict NAME VALUE OP LIMIT: one PASS/MISS line
verdict() {
    if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == "<=" ? v <= l : v >= l) }'; then
        r=PASS
    else
        r=MISS
    fi
    printf '  %-34s %10s %s %-8s %s\n' "$1" "$2" "$3" "$4" "$r"
    bench_record "$1" "$2" "" "$3" "$4"
}

echo "# rlc check: parse + check, median of $RUNS runs ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "# tenants  source      wall            cpu (user+sys)   peak RSS            throughput"
measure 10000
W10=$WALL C10=$CPU
measure 100000
W100=$WALL C100=$CPU R100=$RSS
if [ -n "${BENCH_FULL:-}" ]; then
    # Three runs here too (about 20 s more): the 1M/100k ratio is a target,
    # and one run of 7 s moved by 15% when the other core was busy.
    measure 1000000
    W1M=$WALL C1M=$CPU R1M=$RSS
fi
RATIO=$(awk -v a="$W100" -v b="$W10" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
CRATIO=$(awk -v a="$C100" -v b="$C10" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "# targets (issue 2; wall times are noisy when the machine is shared: see cpu)"
verdict "100k tenants wall time (s)" "$W100" "<=" 1
verdict "100k tenants peak RSS (MB)" "$R100" "<=" 300
verdict "ratio 100k/10k wall" "$RATIO" "<=" 12
verdict "ratio 100k/10k cpu" "$CRATIO" "<=" 12
if [ -n "${BENCH_FULL:-}" ]; then
    MRATIO=$(awk -v a="$W1M" -v b="$W100" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    MCRATIO=$(awk -v a="$C1M" -v b="$C100" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    echo "# targets at 1M tenants (cpu is user+sys; wall times are noisy when the machine is shared)"
    verdict "1M tenants cpu time (s)" "$C1M" "<=" 10
    verdict "1M tenants peak RSS (MB)" "$R1M" "<=" 3072
    verdict "ratio 1M/100k cpu" "$MCRATIO" "<=" 11
    verdict "ratio 1M/100k wall" "$MRATIO" "<=" 11
fi

# Issue 3: the same sizes with hazards sprinkled in (gen_policy --hazards),
# every hazard pass and the suppression step included.
if [ "${BENCH_HAZARDS:-1}" != 0 ]; then
    RUNS=${BENCH_RUNS:-3}
    echo "# rlc check with hazards (gen_policy --hazards), median of $RUNS runs; 1M: one run"
    measure 10000 --hazards
    HW10=$WALL HC10=$CPU
    measure 100000 --hazards
    HW100=$WALL HC100=$CPU HR100=$RSS
    RUNS=1
    measure 1000000 --hazards
    HW1M=$WALL HC1M=$CPU HR1M=$RSS
    HRATIO=$(awk -v a="$HW100" -v b="$HW10" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    HCRATIO=$(awk -v a="$HC100" -v b="$HC10" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    echo "# targets (issue 3; wall times are noisy when the machine is shared: see cpu)"
    verdict "hazards 100k wall time (s)" "$HW100" "<=" 2
    verdict "hazards 100k cpu time (s)" "$HC100" "<=" 2
    verdict "hazards 1M wall time (s)" "$HW1M" "<=" 15
    verdict "hazards 1M cpu time (s)" "$HC1M" "<=" 15
    verdict "hazards 1M peak RSS (MB)" "$HR1M" "<=" 3072
    verdict "hazards ratio 100k/10k wall" "$HRATIO" "<=" 12
    verdict "hazards ratio 100k/10k cpu" "$HCRATIO" "<=" 12
fi
exit 0
