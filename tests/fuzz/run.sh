#!/bin/sh
# run.sh - `make fuzz`: runs each libFuzzer harness for FUZZ_TIME seconds.
# Seeds are gathered at run time from the files the other tests use
# (examples, golden and fmt cases, plans compiled from the examples, the
# simulator's trace) into build/fuzz/seeds/NAME; what the fuzzer learns goes
# to build/fuzz/corpus/NAME (kept between runs), crashes to
# build/fuzz/artifacts/.  Prints one line per harness with its executions;
# exits 1 when any harness found something (its log's tail is shown).
#
#   FUZZ=build/fuzz RLC=build/rlc FUZZ_TIME=60 sh tests/fuzz/run.sh [NAME...]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
FUZZ=${FUZZ:-build/fuzz}
RLC=${RLC:-build/rlc}
FUZZ_TIME=${FUZZ_TIME:-60}
names=${*:-source plan trace}

seeds() {
    d="$FUZZ/seeds/$1"
    rm -rf "$d"
    mkdir -p "$d"
    case $1 in
    source)
        for f in examples/*.rlp tests/golden/*.rlp tests/fmt/*.rlp tests/plan/*.rlp \
                 tests/sim/*.rlp stdlib/std/*.rlp; do
            [ -f "$f" ] && cp "$f" "$d/$(echo "$f" | tr / _)"
        done ;;
    plan)
        cp tests/plan/small.expected.json "$d/small.json"
        for f in examples/*.rlp; do
            # The small test library keeps the seeds small (the real one is
            # most of a plan's bytes, and every byte costs each execution).
            "$RLC" compile --library tests/plan/lib.lua "$f" \
                -o "$d/$(basename "$f" .rlp).json" 2>/dev/null
        done ;;
    trace)
        cp tests/sim/trace.csv "$d/trace.csv"
        printf '0,acme,key:k_2,GET,/,1\n0,acme,group:batch,POST,/v1/jobs/1,3\n1000,b,-\n' > "$d/small.csv"
        printf 'time_ms,tenant,path,method,route,cost\n# comment\n\n5,a-open\n' > "$d/header.csv" ;;
    esac
}

fail=0
for n in $names; do
    bin="$FUZZ/bin/fuzz_$n"
    [ -x "$bin" ] || { echo "fuzz $n: $bin not built" >&2; exit 2; }
    seeds "$n"
    mkdir -p "$FUZZ/corpus/$n" "$FUZZ/artifacts"
    dict=""
    [ -f "tests/fuzz/$n.dict" ] && dict="-dict=tests/fuzz/$n.dict"
    log="$FUZZ/$n.log"
    "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$FUZZ/artifacts/$n-" $dict \
        "$FUZZ/corpus/$n" "$FUZZ/seeds/$n" </dev/null >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $n: ${execs:-?} executions in ${FUZZ_TIME}s, exit $rc"
    if [ $rc -ne 0 ]; then
        fail=1
        tail -40 "$log"
    fi
done
exit $fail
