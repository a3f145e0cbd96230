#!/bin/sh
# fuzz_replay.sh - every fuzz harness, built with the ordinary compiler
# (build/tests/replay_NAME, tests/fuzz/replay_main.c), runs over its seeds
# and over every input saved in tests/fuzz/crashers/NAME/ (inputs that once
# crashed it: each finding stays a regression test).  Under `make asan` the
# harnesses run with the sanitizers, so a memory error on any of them fails.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fuzz/seeds.sh"
plan 4
cd "$ROOT" || bail_out "fuzz replay" "no $ROOT"
for n in source plan trace import; do
    bin="$ROOT/$BUILD/tests/replay_$n"
    if [ ! -x "$bin" ]; then notok "fuzz replay $n" "$bin not built"; continue; fi
    fuzz_seeds "$n" "$T/seeds/$n"
    set -- "$T/seeds/$n"/*
    [ -d "tests/fuzz/crashers/$n" ] && set -- "$@" "tests/fuzz/crashers/$n"/*
    count=0
    for f in "$@"; do [ -f "$f" ] && count=$((count + 1)); done
    if "$bin" "$@" >"$T/out.$n" 2>&1 && [ "$count" -gt 0 ]; then
        ok "fuzz replay $n: $count inputs"
    else
        notok "fuzz replay $n" "exit $? over $count inputs: $(tail -c 400 "$T/out.$n")"
    fi
done
