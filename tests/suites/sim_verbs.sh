#!/bin/sh
# sim_verbs.sh - `rlc test` and `rlc simulate` on the policies in tests/sim/:
# assertion lines with locations, the summary line and exit status of
# `rlc test`; exact decisions of `rlc simulate` on a trace, from sources and
# from a compiled plan; JSON output; synthetic shapes; bad input.
. "$ROOT/tests/lib.sh"
plan 30
S="$ROOT/tests/sim"
cd "$T" || exit 1

"$RLC" test "$S/pass.rlp" >out 2>err; rc=$?
check "test: passing file exits 0" [ $rc -eq 0 ]
check "test: summary line" grep -qx '6 passed, 0 failed' out
check "test: one line per assertion" [ "$(grep -c '^ok ' out)" -eq 6 ]

"$RLC" test "$S/fail.rlp" >out 2>err; rc=$?
check "test: failing file exits 1" [ $rc -eq 1 ]
check "test: failure names file:line:col and both counts" \
    grep -qF 'FAIL '"$S"'/fail.rlp:9:3: test "one right, one wrong": send 1: expected 1 allowed, got 0 (0 allowed, 1 rejected)' out
check "test: failing summary" grep -qx '1 passed, 1 failed' out
"$RLC" test "$S/pass.rlp" "$S/missing.rlp" >/dev/null 2>err; rc=$?
check "test: missing file exits 2" [ $rc -eq 2 ]
printf 'tenant "a" { limit 0/1s }\ntest "t" { request tenant "a"\n send 1 expect allowed 1 }\n' > bad.rlp
"$RLC" test bad.rlp >/dev/null 2>err; rc=$?
check "test: a policy with errors exits 1 with its diagnostics" \
    sh -c "[ $rc -eq 1 ] && grep -q 'RLC1031' err"

# Decisions on a trace, worked out by hand (SPEC.md 6.4): the key's bucket of
# 10 takes 1 then 9, refuses the 11th unit for 100 ms; the route's (exact)
# sliding window admits 2, the 3rd waits until they leave the window, 1 s on.
"$RLC" simulate "$S/pass.rlp" --trace "$S/trace.csv" >out 2>sum; rc=$?
check "simulate: exit 0" [ $rc -eq 0 ]
cat > want <<'EOT'
time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,shadow
0,acme,key:k_1,GET,/v1/items,1,1,b5601efc6a6cecb4,9,100,0,
0,acme,key:k_1,GET,/v1/items,9,1,b5601efc6a6cecb4,0,1000,0,
0,acme,key:k_1,GET,/v1/items,1,0,b5601efc6a6cecb4,0,1000,100,
100,acme,key:k_1,GET,/v1/items,1,1,b5601efc6a6cecb4,0,1000,0,
250,acme,,GET,/,1,1,45fc8a7f837a25b2,88,6950,0,
300,acme,group:batch,POST,/v1/jobs/1,1,1,077cc4afdf3431e5,1,1000,0,
300,acme,group:batch,POST,/v1/jobs/1,1,1,077cc4afdf3431e5,0,1000,0,
300,acme,group:batch,POST,/v1/jobs/1,1,0,077cc4afdf3431e5,0,1000,1000,
EOT
if cmp -s want out; then ok "simulate: exact decisions"; else notok "simulate: exact decisions" "$(diff want out | head -5)"; fi
check "simulate: summary counts" grep -q '^summary: 8 requests, 6 allowed, 2 rejected' sum
check "simulate: per-limit line" grep -Eq '^acme +077cc4afdf3431e5 +group:batch +POST /v1/jobs/\* +sliding_window 2/1000ms.* 2 +1 +0 2/2$' sum

# The same through a compiled plan.
sed '/^test /,$d' "$S/pass.rlp" > pol.rlp
printf 'policy "p" { }\ntarget redis "r" { url = env("RLC_REDIS_URL") }\n' >> pol.rlp
if "$RLC" compile pol.rlp -o plan.json 2>err; then
    "$RLC" simulate plan.json --trace "$S/trace.csv" >out2 2>/dev/null
    if cmp -s want out2; then ok "simulate: plan.json decides the same"; else notok "simulate: plan.json decides the same" "$(diff want out2 | head -5)"; fi
else
    notok "simulate: plan.json decides the same" "compile failed: $(cat err)"
fi

"$RLC" simulate "$S/pass.rlp" --trace "$S/trace.csv" --json >j 2>/dev/null
check "simulate --json: every line is JSON, summary last" python3 -c '
import json,sys
lines=[json.loads(l) for l in open("j")]
assert len(lines)==9 and lines[2]["allowed"] is False and lines[2]["retry_ms"]==100
s=lines[-1]["summary"]; assert s["requests"]==8 and s["rejected"]==2
assert any(l["id"]=="077cc4afdf3431e5" and l["rejected"]==1 and l["peak"]==2 for l in s["limits"])'

for shape in steady burst ramp; do
    "$RLC" simulate "$S/pass.rlp" --synthetic $shape --tenant acme --path key:k_1 --rate 20 \
        --duration 2000 >syn 2>ssum
    check "simulate --synthetic $shape: 40 requests" grep -q '^summary: 40 requests' ssum
done
# The ramp's times are D * sqrt(k / n), truncated, for every k: the same
# IEEE operations in Python give the same numbers (rlc's sqrt is the sqrtsd
# instruction, built without libm; an approximation would drift).
"$RLC" simulate "$S/pass.rlp" --synthetic ramp --tenant acme --rate 13 --duration 3600000 \
    2>/dev/null > ramp.csv
check "simulate --synthetic ramp: every time is D * sqrt(k/n), exactly (46 800 requests)" python3 -c '
import math
t = [int(l.split(",")[0]) for l in list(open("ramp.csv"))[1:]]
n, d = 13 * 3600000 // 1000, 3600000
assert len(t) == n and t == [int(d * math.sqrt(k / n)) for k in range(n)], len(t)'
"$RLC" simulate "$S/pass.rlp" --synthetic burst --tenant acme --path key:k_1 --rate 20 --duration 2000 --no-decisions 2>ssum >/dev/null
check "simulate burst: the key's bucket admits 10 + 10" grep -q '^summary: 40 requests, 20 allowed, 20 rejected' ssum

printf '0,acme,key:k_1,GET,/,1\nfive,acme,,GET,/,1\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: a bad row names its line" sh -c "[ $rc -eq 1 ] && grep -q 'badtrace.csv:2: time_ms' err"
printf '0,nobody,,GET,/,1\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: unknown tenant" sh -c "[ $rc -eq 1 ] && grep -q 'no rules deployed' err"
printf '10,acme,,GET,/,1\n5,acme,,GET,/,1\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: time going back in a trace" sh -c "[ $rc -eq 1 ] && grep -q 'time goes back' err"
# Every trace message, exactly; a field quoted in one is cut at 64 bytes
# with "..." (never silently).
long=$(printf 'x%.0s' $(seq 100))
printf '0,acme,key:k_1,GET,/,1\n%s,acme\n' "$long" > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: a long bad time_ms is quoted to 64 bytes and ..." sh -c "[ $rc -eq 1 ] && grep -qx \"rlc simulate: badtrace.csv:2: time_ms '$(printf 'x%.0s' $(seq 64))...' is not a millisecond count\" err"
printf '0,acme,,GET,/,0\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: a bad cost names the column" sh -c "[ $rc -eq 1 ] && grep -qx \"rlc simulate: badtrace.csv:1: cost '0' is not 1..2^31\" err"
printf '0\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: a row without a tenant" sh -c "[ $rc -eq 1 ] && grep -qx 'rlc simulate: badtrace.csv:1: no tenant' err"
printf '0,acme,,GET,/,1,extra\n' > badtrace.csv
"$RLC" simulate "$S/pass.rlp" --trace badtrace.csv >/dev/null 2>err; rc=$?
check "simulate: a row with 7 columns" sh -c "[ $rc -eq 1 ] && grep -qx 'rlc simulate: badtrace.csv:1: more than 6 columns' err"
"$RLC" simulate "$S/pass.rlp" --synthetic zigzag >/dev/null 2>&1; rc=$?
check "simulate: unknown shape is a usage error" [ $rc -eq 2 ]
"$RLC" simulate "$S/pass.rlp" >/dev/null 2>&1; rc=$?
check "simulate: needs --trace or --synthetic" [ $rc -eq 2 ]

# Traces may name tenants and keys the policy does not list: the templates
# decide them, each value with counters of its own, and the summary counts
# tenant * as "*".
cat > tmpl.rlp <<'P'
tenant * {
  key * {
    limit 2/1m
  }
}
P
printf '0,new-signup,key:a,GET,/,1\n1,new-signup,key:a,GET,/,1\n2,new-signup,key:a,GET,/,1\n3,new-signup,key:b,GET,/,1\n4,other,key:a,GET,/,1\n' > tmpl.csv
"$RLC" simulate tmpl.rlp --trace tmpl.csv > tmpl.out 2> tmpl.sum; rc=$?
check "simulate: a trace of unlisted tenants and keys decides by the templates" \
    sh -c "[ $rc -eq 0 ] && [ \"\$(cut -d, -f7 tmpl.out | tail -n +2 | tr -d '\n')\" = 11011 ]"
check "simulate: the summary counts tenant * as '*'" \
    sh -c "grep -q '^\\* ' tmpl.sum && ! grep -q null tmpl.sum"

