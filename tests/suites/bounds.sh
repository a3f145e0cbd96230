#!/bin/sh
# bounds.sh - every bound `rlc check --report` prints holds for what the
# enforcement admits: tests/drivers/bounds.c replays adversarial traces of
# 50 000 requests per tenant (every algorithm, costs 1 and 3, hierarchies of
# 1 to 3 levels with route limits) through the simulator and through a real
# redis-server holding the plan `rlc run` deployed, clocks jittered within
# max_clock_skew, and compares the most admitted in every span of W, W/2, 2W
# and 10W with the bound; rejections charge nothing.  Then the test must be
# able to fail: bounds claimed one smaller, and a library whose exact
# sliding window admits one request too many, are both caught.  The same
# through the EVALSHA script (servers without functions): the plan deployed
# for EVALSHA (RLC_NO_FUNCTIONS=1, configs with their fields' twins), within every
# bound, and the loosened library caught there too.
. "$ROOT/tests/lib.sh"
D="$ROOT/$BUILD/tests/drivers/bounds"
plan 8

"$D" --emit-policy > "$T/bounds.rlp"
if "$RLC" check "$T/bounds.rlp" >/dev/null 2>"$T/check"; then ok "bounds: the generated policy checks"
else bail_out "bounds: the generated policy checks" "$(tail -3 "$T/check")"; fi
"$RLC" compile -q "$T/bounds.rlp" -o "$T/plan.json" || bail_out "bounds: compile" "failed"
setup "compiled the generated policy"

port=$(free_port)
start_redis "$port" || bail_out "bounds: redis-server" "did not start"
export RLC_REDIS_URL="redis://127.0.0.1:$port" RLC_STATE_DIR="$T/state"
# Redis times out counter keys by its own clock, years ahead of the traces'
# virtual one, so a key could vanish while the trace still counts it.  As in
# differential.sh, the deployed configs get a skew of 1h, which only makes
# every expiry an hour longer (decisions do not read the skew); the bounds
# checked are bounds.rlp's, with its 10 ms.
long_ttls() {
    for k in $(redis-cli -p "$port" --scan --pattern '{pb:*}:cfg:*'); do
        redis-cli -p "$port" HSET "$k" m "1 c 3600000" >/dev/null
        # A twin (a deploy for EVALSHA: every field but m, s and s/...)
        # carries the time source and skew packed in its first 9 bytes
        # (SPEC.md 6.2).
        redis-cli -p "$port" EVAL "for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
            if f ~= 'm' and f ~= 's' and string.sub(f, 1, 2) ~= 's/' then
                local v = redis.call('HGET', KEYS[1], f)
                redis.call('HSET', KEYS[1], f, struct.pack('<c1d', 'c', 3600000) .. string.sub(v, 10))
            end
        end return 0" 1 "$k" >/dev/null
    done
}
if "$RLC" run -q "$T/plan.json" >"$T/run" 2>&1; then ok "bounds: rlc run deploys the policy"
else bail_out "bounds: rlc run deploys the policy" "$(tail -3 "$T/run")"; fi
long_ttls

"$D" --policy "$T/bounds.rlp" --port "$port" --seed 1 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q ' 0 over$' "$T/out" && grep -q ' 0 over; [0-9]* rejections read back, 0 charged' "$T/out"; then
    ok "bounds: simulator and Redis within every bound, rejections charge nothing ($(sed -n 's/^# //p' "$T/out" | tr '\n' ' '))"
else
    notok "bounds: simulator and Redis within every bound" "exit $rc: $(head -c 2000 "$T/out")"
fi
# The traces reach the bounds, so a bound one too small is exceeded.
reached=$(sed -n 's/.* \([0-9]*\) at the bound.*/\1/p' "$T/out" | head -1)
check "bounds: traces reach the bound in many spans ($reached)" [ "${reached:-0}" -ge 100 ]

"$D" --policy "$T/bounds.rlp" --seed 2 --requests 5000 --mutate-bound >"$T/mb" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION (simulator)' "$T/mb"; then ok "bounds: a bound one too small is caught"
else notok "bounds: a bound one too small is caught" "exit $rc: $(head -c 500 "$T/mb")"; fi

# A fresh deploy (new counters), then the loosened library.
redis-cli -p "$port" FLUSHALL >/dev/null
rm -rf "$T/state"
"$RLC" run -q "$T/plan.json" >/dev/null 2>&1
long_ttls
"$D" --policy "$T/bounds.rlp" --port "$port" --seed 3 --requests 5000 --mutate-library >"$T/ml" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION (redis).*sliding_window' "$T/ml"; then
    ok "bounds: an exact sliding window one request too generous is caught"
else
    notok "bounds: an exact sliding window one request too generous is caught" "exit $rc: $(head -c 500 "$T/ml")"
fi

# The same through the EVALSHA script: a fresh deploy for EVALSHA.
redis-cli -p "$port" FLUSHALL >/dev/null
rm -rf "$T/state"
RLC_NO_FUNCTIONS=1 "$RLC" run -q "$T/plan.json" >/dev/null 2>&1
long_ttls
"$D" --policy "$T/bounds.rlp" --port "$port" --seed 4 --requests 20000 --evalsha >"$T/oe" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q ' 0 over$' "$T/oe" && grep -q ' 0 over; [0-9]* rejections read back, 0 charged' "$T/oe"; then
    ok "bounds: EVALSHA within every bound, rejections charge nothing ($(sed -n 's/^# //p' "$T/oe" | tr '\n' ' '))"
else
    notok "bounds: EVALSHA within every bound" "exit $rc: $(head -c 2000 "$T/oe")"
fi
redis-cli -p "$port" FLUSHALL >/dev/null
rm -rf "$T/state"
RLC_NO_FUNCTIONS=1 "$RLC" run -q "$T/plan.json" >/dev/null 2>&1
long_ttls
"$D" --policy "$T/bounds.rlp" --port "$port" --seed 3 --requests 5000 --mutate-library --evalsha \
    >"$T/mle" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION (redis).*sliding_window' "$T/mle"; then
    ok "bounds: EVALSHA: an exact sliding window one request too generous is caught"
else
    notok "bounds: EVALSHA: a loosened sliding window is caught" "exit $rc: $(head -c 500 "$T/mle")"
fi
