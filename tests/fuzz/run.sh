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
names=${*:-source plan trace import}

. "$ROOT/tests/fuzz/seeds.sh"


fail=0
for n in $names; do
    bin="$FUZZ/bin/fuzz_$n"
    [ -x "$bin" ] || { echo "fuzz $n: $bin not built" >&2; exit 2; }
    fuzz_seeds "$n" "$FUZZ/seeds/$n"
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
