# seeds.sh - the seed inputs of each fuzz harness, from the files the other
# tests use (examples, golden and fmt cases, plans compiled from the
# examples, the simulator's trace).  Sourced by tests/fuzz/run.sh (`make
# fuzz`) and tests/suites/fuzz_replay.sh; needs ROOT (the repository, as the
# working directory) and RLC.
#
#   fuzz_seeds NAME DIR      fills DIR (emptied first) with NAME's seeds
fuzz_seeds() {
    d=$2
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
    import)
        # One byte picks the format (0 envoy, 1 limitador), then the file.
        c="$ROOT/../shared/corpus"
        [ -d "$c" ] || c=/work/shared/corpus
        for f in "$c"/envoy/*.yaml; do
            [ -f "$f" ] && { printf '\000'; cat "$f"; } > "$d/e-$(basename "$f")"
        done
        for f in "$c"/limitador/*.yaml; do
            [ -f "$f" ] && { printf '\001'; cat "$f"; } > "$d/l-$(basename "$f")"
        done ;;
    trace)
        cp tests/sim/trace.csv "$d/trace.csv"
        printf '0,acme,key:k_2,GET,/,1\n0,acme,group:batch,POST,/v1/jobs/1,3\n1000,b,-\n' > "$d/small.csv"
        printf 'time_ms,tenant,path,method,route,cost\n# comment\n\n5,a-open\n' > "$d/header.csv" ;;
    esac
}
