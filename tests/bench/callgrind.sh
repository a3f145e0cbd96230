#!/bin/sh
# callgrind.sh - what a decision costs inside redis-server in instructions
# (callgrind), which unlike microseconds does not move with the machine's
# load.  Each case is N decisions sent with redis-cli --pipe between two
# `callgrind_control -d` dumps.  Prints instructions per decision and each
# ratio against its target, PASS or MISS:
#   - a listed key against an unlisted key (`key *`) of a listed tenant and
#     of an unlisted tenant (`tenant *`), every one a new value (>= 0.90),
#     and a new value on every call against one value repeated (<= 1.10);
#   - concrete URLs: every URL new against one URL repeated, for a tenant
#     without route rules and for one whose routes match the URLs (<= 1.10);
#   - the cache sweeps, W distinct shapes cycled, each W against the
#     smallest (<= 1.10: no cliff at any cache size): unlisted tenants
#     (which share the plan of `tenant *`), W = 1 000, 10 000, 100 000;
#     listed keys of one tenant that lists 100 000 (each its own plan),
#     W = 1 000, 4 000, 10 000, 100 000.  Before a case, W decisions warm
#     the caches with callgrind's instrumentation off.  A swept counter is
#     a fixed window of a day (`limit 100/1d algorithm fixed_window`),
#     written in place by every decision and alive through the run, so
#     that a sweep measures the library's caches, not Redis recreating
#     counters: a bucket is kept about a second after it is full again,
#     and with the buckets of `limit 100000000/1h` nearly every counter of
#     W = 10 000 had expired before its turn came again (the ratio was
#     that of a new key against one written in place).  The bench prints
#     how many counters expired during each sweep;
#   - the EVALSHA path (Redis < 7) against FCALL, same decisions (<= 1.50):
#     the same tenants deployed for EVALSHA (RLC_NO_FUNCTIONS=1), so that the
#     script is the one rlc loads and the listed key is read from its twin.
#   BENCH_CG_CASES="efcall eevalsha" BENCH_CG_SWEEP=" " BENCH_CG_LSWEEP=" "
#     measures only those two (a blank list: no sweep).
# Figures, not a test: exits 0 whatever it measures.
#   BUILD=build sh tests/bench/callgrind.sh
#   BENCH_CG_N=N        decisions per case (20 000)
#   BENCH_CG_SWEEP="W.." sizes of the unlisted sweep (1000 10000 100000)
#   BENCH_CG_LSWEEP="W.." sizes of the listed sweep (1000 4000 10000 100000;
#                       empty: none)
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RLC=${RLC:-$ROOT/$BUILD/rlc}
N=${BENCH_CG_N:-20000}
SWEEP=${BENCH_CG_SWEEP:-1000 10000 100000}
LSWEEP=${BENCH_CG_LSWEEP:-1000 4000 10000 100000}
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "callgrind: valgrind not installed, skipped"; exit 0; }
T=$(mktemp -d /tmp/rlc-bench-cg.XXXXXX)
VP=
cleanup() {
    [ -n "$VP" ] && kill "$VP" 2>/dev/null && wait "$VP" 2>/dev/null
    [ -n "${BENCH_CG_KEEP:-}" ] && echo "callgrind: kept $T" || rm -rf "$T"
}
trap cleanup EXIT INT TERM
cat > "$T/p.rlp" <<'P'
policy "bt" {
  namespace = "bt"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant * {
  limit 100000000/1h
  group * {
    limit 50000000/1h
    key * {
      limit 10000000/1h
    }
  }
}
tenant "acme" {
  limit 100000000/1h
  group "team-a" {
    limit 50000000/1h
    key "k_123" {
      limit 10000000/1h
    }
    key * {
      limit 10000000/1h
    }
  }
}
tenant "routed" {
  limit 100000000/1h
  route GET "/v1/items/*" {
    limit 100000000/1h
  }
  route POST "/v1/items" {
    limit 100000000/1h
  }
  route ANY "/v2/*/x" {
    limit 100000000/1h
  }
  group "team-a" {
    limit 50000000/1h
    key "k_123" {
      limit 10000000/1h
    }
  }
}
P
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || exit 1
# resp FILE COUNT CMD ACTIVE PATH [ROUTE]: COUNT decisions in RESP, CMD
# being "FCALL rlc_decide 1" or "EVALSHA <sha> 1"; %d in ACTIVE, PATH or
# ROUTE becomes 0..COUNT-1.
resp() {
    awk -v n="$2" -v c="$3" -v a="$4" -v p="$5" -v r="${6:-/}" 'BEGIN {
        for (i = 0; i < n; i++) {
            q = p; sub(/%d/, i, q)
            u = r; sub(/%d/, i, u)
            t = a; sub(/%d/, i, t)
            m = split(c " " t, v, " ")
            if (c ~ /^EVALSHA/) v[++m] = "decide"
            v[++m] = q; v[++m] = "GET"; v[++m] = u; v[++m] = "1"
            printf "*%d\r\n", m + 2
            for (k = 1; k <= m; k++) printf "$%d\r\n%s\r\n", length(v[k]), v[k]
            printf "$0\r\n\r\n$0\r\n\r\n"
        }
    }' > "$1"
}
F='FCALL rlc_decide 1'
resp "$T/listed" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k_123'
resp "$T/key" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k-%d'
resp "$T/key1" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k-7'
resp "$T/tenant" "$N" "$F" '{bt:new-signup}:active' 'group:team-a/key:n-%d'
# A gateway passing concrete URLs: one repeated, then every one new; for
# acme the URL decides nothing, for routed it is matched against routes.
resp "$T/url1" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k_123' '/v1/items/7'
resp "$T/urls" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k_123' '/v1/items/%d'
resp "$T/rurl1" "$N" "$F" '{bt:routed}:active' 'group:team-a/key:k_123' '/v1/items/7'
resp "$T/rurls" "$N" "$F" '{bt:routed}:active' 'group:team-a/key:k_123' '/v1/items/%d'
PORT=$(( 20000 + $$ % 20000 ))
valgrind --tool=callgrind --callgrind-out-file="$T/cg.%p" redis-server --port "$PORT" \
    --bind 127.0.0.1 --save '' --appendonly no --dir "$T" > "$T/vg.log" 2>&1 &
VP=$!
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
    sleep 0.2; i=$((i + 1)); [ $i -gt 150 ] && { echo "callgrind: redis did not start"; exit 1; }
done
# The EVALSHA path as a server before Redis 7 has it: the same tenants in
# namespace "be" (without `tenant *`: one Redis holds one namespace's),
# deployed for EVALSHA (RLC_NO_FUNCTIONS=1), so that the script is the one
# rlc loads and the configs hold their twins (SPEC.md 6.2, 6.3): the
# listed key is read from its chain twin with one HGET.  Its
# sha: the script made here as redis_library_evalsha makes it (the library
# without its first line as function full, then the lines of its EVALSHA
# regions), which the server must already hold.
sed -e 's/namespace = "bt"/namespace = "be"/' -e '/^tenant \* {/,/^}$/d' "$T/p.rlp" > "$T/be.rlp"
"$RLC" compile -q "$T/be.rlp" -o "$T/be.json" || exit 1
RLC_NO_FUNCTIONS=1 RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/state-be \
    "$RLC" run -q "$T/be.json" || exit 1
{
    printf 'local function full()\n'
    tail -n +2 "$ROOT/stdlib/enforce.lua"
    printf '\nend\n'
    awk '!on && /^--(\[==\[)?@evalsha/ { on = 1; next }
         on && /^--(@end|\]==\])/ { on = 0; next }
         on' "$ROOT/stdlib/enforce.lua"
} > "$T/script.lua"
SHA=$(sha1sum < "$T/script.lua" | cut -c1-40)
[ "$(redis-cli -p "$PORT" script exists "$SHA")" = 1 ] ||
    { echo "callgrind: the EVALSHA script made here is not the one rlc loaded"; exit 1; }
RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/state "$RLC" run -q "$T/p.json" || exit 1
resp "$T/efcall" "$N" "$F" '{bt:acme}:active' 'group:team-a/key:k_123'
resp "$T/eevalsha" "$N" "EVALSHA $SHA 1" '{be:acme}:active' 'group:team-a/key:k_123'
# Each dump holds what ran since the one before.
dump() {
    callgrind_control -d "$VP" >/dev/null 2>&1
    sleep 0.5
    f=$(ls -t "$T"/cg.$VP* | head -1)
    grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'
}
# send FILE: the decisions of FILE, every reply checked for errors.
send() {
    redis-cli -p "$PORT" --pipe < "$1" > "$T/pipe.out" 2>&1
    grep -q 'errors: 0,' "$T/pipe.out" || { echo "callgrind: $1: $(tail -1 "$T/pipe.out")"; exit 1; }
}
dump >/dev/null
echo "instructions per decision inside redis-server (callgrind), $N decisions each, token buckets"
for w in ${BENCH_CG_CASES:-listed key key1 tenant url1 urls rurl1 rurls efcall eevalsha}; do
    send "$T/$w"
    eval "I_$w=$(( $(dump) / N ))"
done
# expired: the counters Redis has expired so far.
expired() {
    redis-cli -p "$PORT" info stats | tr -d '\r' | sed -n 's/^expired_keys://p'
}
# The sweep: W unlisted tenants at the tenant level, each its own plan.
{
    sed -n '1,/^}$/p' "$T/p.rlp"
    sed -n '/^target/,/^}$/p' "$T/p.rlp"
    printf 'tenant * {\n  limit 100/1d algorithm fixed_window\n}\n'
} > "$T/sw.rlp"
"$RLC" compile -q "$T/sw.rlp" -o "$T/sw.json" || exit 1
callgrind_control -i off "$VP" >/dev/null 2>&1
RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/state "$RLC" run -q "$T/sw.json" || exit 1
callgrind_control -i on "$VP" >/dev/null 2>&1
for W in $SWEEP; do
    resp "$T/warm" "$W" "$F" '{bt:sw'"$W"'-%d}:active' ''
    # N decisions continuing the cycle over the same W tenants.
    awk -v n="$N" -v w="$W" 'BEGIN { for (i = 0; i < n; i++) print i % w }' > "$T/idx"
    awk -v c="$F" -v w="$W" 'BEGIN { } {
        a = "{bt:sw" w "-" $1 "}:active"
        split(c " " a, v, " ")
        printf "*10\r\n"
        for (k = 1; k <= 4; k++) printf "$%d\r\n%s\r\n", length(v[k]), v[k]
        printf "$0\r\n\r\n$3\r\nGET\r\n$1\r\n/\r\n$1\r\n1\r\n$0\r\n\r\n$0\r\n\r\n"
    }' "$T/idx" > "$T/sweep"
    callgrind_control -i off "$VP" >/dev/null 2>&1
    send "$T/warm"
    callgrind_control -i on "$VP" >/dev/null 2>&1
    dump >/dev/null
    x0=$(expired)
    send "$T/sweep"
    eval "I_sw$W=$(( $(dump) / N )) X_sw$W=$(( $(expired) - x0 ))"
done
# The listed sweep: W listed keys of "big", each its own plan.
if [ -n "$LSWEEP" ]; then
    max=0
    for W in $LSWEEP; do [ "$W" -gt "$max" ] && max=$W; done
    {
        sed -n '1,/^}$/p' "$T/p.rlp"
        sed -n '/^target/,/^}$/p' "$T/p.rlp"
        echo 'tenant "big" {'
        echo '  limit 100000000/1h'
        awk -v n="$max" 'BEGIN {
            for (i = 0; i < n; i++) printf "  key \"k%d\" {\n    limit 100/1d algorithm fixed_window\n  }\n", i
        }'
        echo '}'
    } > "$T/big.rlp"
    "$RLC" compile -q "$T/big.rlp" -o "$T/big.json" || exit 1
    callgrind_control -i off "$VP" >/dev/null 2>&1
    RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/state2 "$RLC" run -q "$T/big.json" ||
        exit 1
    # The library's live Lua memory after a full collection: a second
    # library in the same Lua state (functions share one) collects it.
    redis-cli -p "$PORT" function load replace "#!lua name=rlcbench
redis.register_function('rlcbench_heap', function()
    collectgarbage('collect')
    return math.floor(collectgarbage('count') * 1024)
end)" >/dev/null
    callgrind_control -i on "$VP" >/dev/null 2>&1
    for W in $LSWEEP; do
        resp "$T/warm" "$W" "$F" '{bt:big}:active' 'key:k%d'
        awk -v n="$N" -v w="$W" 'BEGIN { for (i = 0; i < n; i++) print i % w }' |
        awk -v c="$F" '{
            p = "key:k" $1
            split(c " {bt:big}:active " p, v, " ")
            printf "*10\r\n"
            for (k = 1; k <= 5; k++) printf "$%d\r\n%s\r\n", length(v[k]), v[k]
            printf "$3\r\nGET\r\n$1\r\n/\r\n$1\r\n1\r\n$0\r\n\r\n$0\r\n\r\n"
        }' > "$T/sweep"
        callgrind_control -i off "$VP" >/dev/null 2>&1
        send "$T/warm"
        callgrind_control -i on "$VP" >/dev/null 2>&1
        dump >/dev/null
        x0=$(expired)
        send "$T/sweep"
        eval "I_lsw$W=$(( $(dump) / N )) X_lsw$W=$(( $(expired) - x0 ))"
        eval "H_lsw$W=$(redis-cli -p "$PORT" fcall rlcbench_heap 0)"
        dump >/dev/null
    done
fi
printf '  %-52s %9s\n' "listed key, listed tenant (3 levels)" "${I_listed:-}" \
    "unlisted key (key *), listed tenant" "${I_key:-}" \
    "key *: one value repeated" "${I_key1:-}" \
    "unlisted key of an unlisted tenant" "${I_tenant:-}" \
    "no route rule: one URL repeated" "${I_url1:-}" \
    "no route rule: every URL new" "${I_urls:-}" \
    "route rules (4 levels match): one URL repeated" "${I_rurl1:-}" \
    "route rules (4 levels match): every URL new" "${I_rurls:-}" \
    "FCALL, listed key (3 levels)" "${I_efcall:-}" \
    "EVALSHA, listed key (3 levels)" "${I_eevalsha:-}"
for W in $SWEEP; do
    eval "v=\$I_sw$W x=\$X_sw$W"
    printf '  %-52s %9s   (%s counters expired)\n' "sweep: $W distinct tenants (1 level) cycled" "$v" "$x"
done
# ratio NAME A B OP TARGET: A / B against the target, printed and
# recorded for the bench report.
ratio() {
    [ -n "$2" ] && [ -n "$3" ] || return 0
    awk -v n="$1" -v a="$2" -v b="$3" -v op="$4" -v t="$5" 'BEGIN {
        r = a / b
        ok = (op == "<=") ? (r <= t) : (r >= t)
        printf "  ratio %s: %.2f (target %s %.2f) %s\n", n, r, op, t, ok ? "PASS" : "MISS"
    }'
    bench_record "ratio $1" "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", a / b }')" x "$4" "$5"
}
for row in "listed key, listed tenant (3 levels)|${I_listed:-}" \
    "unlisted key (key *), listed tenant|${I_key:-}" "key *: one value repeated|${I_key1:-}" \
    "unlisted key of an unlisted tenant|${I_tenant:-}" "no route rule: one URL repeated|${I_url1:-}" \
    "no route rule: every URL new|${I_urls:-}" "route rules: one URL repeated|${I_rurl1:-}" \
    "route rules: every URL new|${I_rurls:-}" "FCALL, listed key (3 levels)|${I_efcall:-}" \
    "EVALSHA, listed key (3 levels)|${I_eevalsha:-}"; do
    [ -n "${row#*|}" ] && bench_record "${row%|*} (instructions per decision)" "${row#*|}" Ir
done
ratio "listed / unlisted (key *)" "${I_listed:-}" "${I_key:-}" ">=" 0.9
ratio "listed / unlisted (tenant *)" "${I_listed:-}" "${I_tenant:-}" ">=" 0.9
ratio "key *: every value new / one value" "${I_key:-}" "${I_key1:-}" "<=" 1.1
ratio "every URL new / one URL (no route rule)" "${I_urls:-}" "${I_url1:-}" "<=" 1.1
ratio "every URL new / one URL (route rules)" "${I_rurls:-}" "${I_rurl1:-}" "<=" 1.1
for W in $LSWEEP; do
    eval "v=\${I_lsw$W:-} x=\${X_lsw$W:-}"
    printf '  %-52s %9s   (%s counters expired)\n' "sweep: $W distinct listed keys (2 levels) cycled" "$v" "$x"
done
# The Lua memory the caches hold per listed key, between the smallest
# and the largest sweep.
lo= hi=
for W in $LSWEEP; do
    eval "h=\${H_lsw$W:-}"
    [ -n "$h" ] || continue
    printf '  %-52s %9s\n' "Lua heap after sweep $W (bytes, live)" "$h"
    [ -z "$lo" ] && { lo=$h; lw=$W; }
    hi=$h hw=$W
done
if [ -n "$lo" ] && [ "$hw" != "$lw" ]; then
    b=$(( (hi - lo) / (hw - lw) ))
    printf '  %-52s %9s\n' "Lua memory per listed key cached (bytes)" "$b"
    bench_record "Lua memory per listed key cached" "$b" B
fi
first=
for W in $SWEEP; do
    eval "v=\$I_sw$W"
    [ -z "$first" ] && { first=$v; fw=$W; continue; }
    ratio "unlisted sweep $W / $fw shapes" "$v" "$first" "<=" 1.1
done
first=
for W in $LSWEEP; do
    eval "v=\${I_lsw$W:-}"
    [ -z "$first" ] && { first=$v; fw=$W; continue; }
    ratio "listed sweep $W / $fw shapes" "$v" "$first" "<=" 1.1
done
ratio "EVALSHA / FCALL" "${I_eevalsha:-}" "${I_efcall:-}" "<=" 1.5
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
wait "$VP" 2>/dev/null
VP=
