#!/bin/sh
# oom.sh - running out of memory has one defined behaviour (SPEC.md 1,
# "Allocation"): every allocation goes through lang/xalloc, and a failed one
# prints "rlc: out of memory (allocating N bytes)" and exits 11, never a
# crash, a hang or a half-written file.  RLC_FAULT_ALLOC=N makes the Nth
# allocation fail; each case below fails the allocations of a command in
# turn (curl's torture tests), and a deploy stopped that way is recovered
# by the next run like any interrupted deploy (7.7).  Against a real
# redis-server.
. "$ROOT/tests/lib.sh"
plan 5
cd "$T" || bail_out "oom" "no temp dir"

cat > p.rlp <<'EOP'
policy "oom" {
  namespace = "oom"
  max_clock_skew = 500ms
}
tenant "acme" {
  limit 100/1m
  route GET "/v1/*" { limit 10/10s }
  group "g" { concurrency 2 lease 10s }
}
tenant "beta" { limit 50/1m algorithm gcra }
target redis "primary" { url = env("RLC_REDIS_URL") }
EOP

# oom_ok FILE RC: the run exited 11 and printed exactly the one line.
oom_ok() {
    [ "$2" -eq 11 ] && [ "$(wc -l < "$1")" -eq 1 ] &&
        grep -qE '^rlc: out of memory \(allocating [0-9]+ bytes\)$' "$1"
}

# torture NAME STEP CMD...: runs CMD with RLC_FAULT_ALLOC=1, 1+STEP, ...
# until a run finishes (the allocation counted no longer exists); every run
# before must be oom_ok.  Sets $tried (runs that failed an allocation) and
# $total (the first N that no longer fails).
torture() {
    name=$1 step=$2
    shift 2
    n=1 bad="" tried=0
    while [ $n -lt 200000 ]; do
        RLC_FAULT_ALLOC=$n timeout 20 "$@" > out 2> err
        r=$?
        if [ $r -ne 11 ] && ! grep -q 'out of memory' err; then
            break
        fi
        tried=$((tried + 1))
        oom_ok err $r || { bad="allocation $n: exit $r: $(head -c 300 err)"; break; }
        n=$((n + step))
    done
    total=$n
    if [ -n "$bad" ]; then
        notok "$name" "$bad"
    elif [ $tried -lt 10 ]; then
        notok "$name" "only $tried allocations failed before the run finished (hook inert?)"
    else
        ok "$name ($tried runs, each exit 11 with the message)"
    fi
}

"$RLC" check -q p.rlp > /dev/null 2>&1 || bail_out "the policy checks" "failed"

# Without the variable nothing changes; with N = 0 neither.
RLC_FAULT_ALLOC=0 "$RLC" check p.rlp > out 2> err
r=$?
check "RLC_FAULT_ALLOC=0 fails nothing" [ $r -eq 0 ]

torture "check: each allocation failed in turn" 1 "$RLC" check p.rlp

# compile: every 9th allocation failed in turn (all of them take 40 s); the
# plan file is never left half-written (it stays the whole previous plan).
"$RLC" compile -q p.rlp -o ref.json || bail_out "compile" "failed"
cp ref.json plan.json
n=1 bad="" tried=0
while [ $n -lt 200000 ]; do
    RLC_FAULT_ALLOC=$n "$RLC" compile -q p.rlp -o plan.json > out 2> err
    r=$?
    [ $r -ne 11 ] && break
    tried=$((tried + 1))
    oom_ok err $r || { bad="allocation $n: $(head -c 300 err)"; break; }
    cmp -s ref.json plan.json || { bad="allocation $n: plan.json changed"; break; }
    n=$((n + 9))
done
if [ -n "$bad" ]; then notok "compile: every 9th allocation failed in turn, the plan kept whole" "$bad"
elif [ $r -ne 0 ] || [ $tried -lt 10 ]; then
    notok "compile: every 9th allocation failed in turn, the plan kept whole" "exit $r after $tried"
else ok "compile: every 9th allocation failed in turn, the plan kept whole ($tried runs)"; fi

torture "simulate: every 9th allocation failed in turn" 9 \
    "$RLC" simulate ref.json --synthetic steady --tenant acme --route 'GET /v1/x' --rate 50 \
    --duration 2000

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" ""
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"

# A deploy stopped by a failed allocation at points spread over the whole
# run: exit 11 and the message, then a plain run recovers and applies, and
# the store holds the plan (status: no drift).
# Count a whole deploy's allocations: the first N at which it finishes.
lo=1 hi=1
while :; do
    RLC_FAULT_ALLOC=$hi "$RLC" run -q ref.json > out 2> err
    r=$?
    redis-cli -p "$PORT" FLUSHALL > /dev/null
    rm -rf state
    [ $r -ne 11 ] && break
    hi=$((hi * 2))
done
while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    RLC_FAULT_ALLOC=$mid "$RLC" run -q ref.json > out 2> err
    r=$?
    redis-cli -p "$PORT" FLUSHALL > /dev/null
    rm -rf state
    if [ $r -eq 11 ]; then lo=$mid; else hi=$mid; fi
done
echo "# a deploy of p.rlp makes about $lo allocations"
bad="" tried=0
for k in 1 2 3 5 8 13 21 34 55 89; do
    n=$((lo * k / 100 + 1))
    RLC_FAULT_ALLOC=$n timeout 30 "$RLC" run -q ref.json > out 2> err
    r=$?
    tried=$((tried + 1))
    oom_ok err $r || { bad="allocation $n: exit $r: $(head -c 300 err)"; break; }
    timeout 30 "$RLC" run -q ref.json > out 2> err2
    r=$?
    [ $r -eq 0 ] || { bad="allocation $n: the next run exited $r: $(head -c 300 err2)"; break; }
    timeout 30 "$RLC" status ref.json > out 2> err2
    r=$?
    [ $r -eq 0 ] || { bad="allocation $n: status after recovery exited $r: $(head -c 300 err2)"; break; }
    redis-cli -p "$PORT" FLUSHALL > /dev/null
    rm -rf state
done
if [ -n "$bad" ]; then notok "run: stopped at 10 points, then recovered" "$bad"
else ok "run: stopped at 10 points ($tried), each exit 11, then the next run applies"; fi
