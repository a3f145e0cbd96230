#!/bin/sh
# peer.sh - what one decision costs rlc against the limiter users would
# otherwise pick, npm's rate-limiter-flexible (RateLimiterRedis, one level;
# RateLimiterUnion, three), and against hand-written Lua floors
# (tests/bench/floors/), all on the same redis-server in the same run,
# interleaved.  Two passes: redis-server under callgrind, for instructions
# per decision (which do not move with the machine's load; each
# `callgrind_control -d` dump holds what ran since the one before), then a
# plain redis-server pinned to one core, for the server's µs per decision
# (INFO commandstats, every call a decision made) and decisions/s as sent.
# Prints the ratios with their targets.  Figures, not a test: exits 0
# whatever it measures.
#
# The peer is installed with npm into $BUILD/bench-peer for this bench
# only (never a test or runtime dependency); without node or npm, or when
# the install fails, its column is skipped and said so.
#
#   BUILD=build sh tests/bench/peer.sh
#   BENCH_PEER_N=N    decisions per case under callgrind (5 000)
#   BENCH_PEER_NT=N   decisions per case timed (20 000)
#   NODE=, NPM=       the commands to use (node, npm)
#   BENCH_PEER_CASES="rlc_tb1 floor_tb1"  only these cases (the names in
#                     CASES below), instructions only: no timed pass and
#                     no ratios, for comparing two builds
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/bench/lib.sh"
RLC=$ROOT/$BUILD/rlc
N=${BENCH_PEER_N:-5000}
NT=${BENCH_PEER_NT:-20000}
NODE=${NODE:-node}
NPM=${NPM:-npm}
PEERDIR=$ROOT/$BUILD/bench-peer
FLOORS=$ROOT/tests/bench/floors
[ -x "$RLC" ] || { echo "peer: $RLC missing (run make bench)" >&2; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "peer: valgrind not installed, skipped"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/rlc-bench-peer.XXXXXX")
SP=
stop_server() {
    [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
    SP=
}
trap 'stop_server; rm -rf "$T"' EXIT INT TERM

# The peer: found already installed, or installed now.
peer_ok() {
    "$NODE" -e "require('$PEERDIR/node_modules/rate-limiter-flexible');
                require('$PEERDIR/node_modules/ioredis')" >/dev/null 2>&1
}
PEER=
if ! command -v "$NODE" >/dev/null 2>&1 || ! command -v "$NPM" >/dev/null 2>&1; then
    PEER_WHY="node or npm not found"
elif peer_ok; then
    PEER=1
else
    mkdir -p "$PEERDIR"
    timeout 60 "$NPM" install --prefix "$PEERDIR" --no-audit --no-fund --fetch-retries=1 --loglevel=error \
        rate-limiter-flexible@11 ioredis@5 > "$T/npm.log" 2>&1
    st=$?
    if [ $st -eq 0 ] && peer_ok; then
        PEER=1
    else
        last=$(tail -1 "$T/npm.log")
        PEER_WHY="npm install failed: ${last:-exit status $st}"
    fi
fi
if [ -n "$PEER" ]; then
    PEER_V=$("$NODE" -p "require('$PEERDIR/node_modules/rate-limiter-flexible/package.json').version")
    PEER_MSG="rate-limiter-flexible $PEER_V with ioredis, installed by npm into $BUILD/bench-peer for this bench only"
else
    PEER_MSG="rate-limiter-flexible skipped ($PEER_WHY)"
fi

cat > "$T/p.rlp" <<'P'
policy "pb" {
  namespace = "pb"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant "tb1" {
  limit 100000000/1h
}
tenant "fw1" {
  limit 100000000/1h algorithm fixed_window
}
tenant "gc1" {
  limit 100000000/1h algorithm gcra
}
tenant "as1" {
  limit 100000000/1h algorithm approx_sliding_window
}
tenant "fwr" {
  limit 1/1h algorithm fixed_window
}
tenant "h3" {
  limit 100000000/1h
  group "team-a" {
    limit 50000000/1h
    key "k_123" {
      limit 10000000/1h
    }
  }
}
P
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || exit 2

# resp FILE COUNT ARGS: COUNT copies of one command in RESP; ARGS are
# separated by `|`, so an argument may be empty.
resp() {
    awk -v n="$2" -v a="$3" 'BEGIN {
        k = split(a, v, "|")
        cmd = sprintf("*%d\r\n", k)
        for (j = 1; j <= k; j++) cmd = cmd sprintf("$%d\r\n%s\r\n", length(v[j]), v[j])
        for (i = 0; i < n; i++) printf "%s", cmd
    }' > "$1"
}
# The cases, in the order they run: name, then the command (`|`-separated,
# SHA_x standing for a floor's SHA1) or `node MODE` for the peer.
CASES="rlc_tb1 rlc_gc1 floor_tb1 peer_1 rlc_fw1 rlc_as1 floor_fw1 floor_fwc rlc_fwr peer_1r rlc_h3 floor_tb3 peer_u3"
ONLY=${BENCH_PEER_CASES:-}
[ -n "$ONLY" ] && CASES=$ONLY
case_cmd() {
    case $1 in
    rlc_tb1) echo 'FCALL|rlc_decide|1|{pb:tb1}:active||GET|/|1||' ;;
    rlc_fw1) echo 'FCALL|rlc_decide|1|{pb:fw1}:active||GET|/|1||' ;;
    rlc_gc1) echo 'FCALL|rlc_decide|1|{pb:gc1}:active||GET|/|1||' ;;
    rlc_as1) echo 'FCALL|rlc_decide|1|{pb:as1}:active||GET|/|1||' ;;
    rlc_fwr) echo 'FCALL|rlc_decide|1|{pb:fwr}:active||GET|/|1||' ;;
    rlc_h3) echo 'FCALL|rlc_decide|1|{pb:h3}:active|group:team-a/key:k_123|GET|/|1||' ;;
    # The floors get the rlc limits' numbers: count per window_ms as the
    # refill per ms, count as the burst.
    floor_tb1) echo "EVALSHA|$SHA_tb1|1|{fl}:tb1|100000000|27.777777777777779|1" ;;
    floor_tb3) echo "EVALSHA|$SHA_tb3|3|{fl}:t|{fl}:g|{fl}:k|100000000|27.777777777777779|50000000|13.888888888888889|10000000|2.7777777777777777|1" ;;
    floor_fw1) echo "EVALSHA|$SHA_fw1|1|{fl}:fw1|100000000|1|3600000" ;;
    floor_fwc) echo "EVALSHA|$SHA_fwc|2|{fl}:fwc:active|{fl}:fwc|v1|100000000|3600000" ;;
    peer_1) echo "node admitted" ;;
    peer_1r) echo "node rejected" ;;
    peer_u3) echo "node union" ;;
    esac
}
case_label() {
    case $1 in
    rlc_tb1) echo "rlc, 1 level token_bucket, admitted" ;;
    rlc_fw1) echo "rlc, 1 level fixed_window, admitted" ;;
    rlc_gc1) echo "rlc, 1 level gcra, admitted" ;;
    rlc_as1) echo "rlc, 1 level approx_sliding_window, admitted" ;;
    rlc_fwr) echo "rlc, 1 level fixed_window, rejected" ;;
    rlc_h3) echo "rlc, 3 levels token_bucket, admitted" ;;
    floor_tb1) echo "Lua floor: token bucket, 1 key" ;;
    floor_tb3) echo "Lua floor: token bucket, 3 keys, all-or-nothing" ;;
    floor_fw1) echo "Lua floor: fixed window, 1 key" ;;
    floor_fwc) echo "Lua floor: fixed window under rlc's contract" ;;
    peer_1) echo "rate-limiter-flexible, 1 level, admitted" ;;
    peer_1r) echo "rate-limiter-flexible, 1 level, rejected" ;;
    peer_u3) echo "rate-limiter-flexible union, 3 levels" ;;
    esac
}

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# start PASS WRAPPER...: a redis-server on PORT, rlc's plan deployed and the
# floors loaded (their SHA1s in SHA_tb1, SHA_tb3, SHA_fw1, SHA_fwc; the
# contract floor's version key set).
start() {
    pass=$1; shift
    mkdir -p "$T/$pass"
    "$@" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$T/$pass" > "$T/$pass/log" 2>&1 &
    SP=$!
    i=0
    until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
        sleep 0.2; i=$((i + 1))
        [ $i -gt 150 ] && { echo "peer: redis-server did not start" >&2; exit 2; }
    done
    RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/$pass/state \
        "$RLC" run -q "$T/p.json" || exit 2
    for f in tb1:token_bucket_1 tb3:token_bucket_3 fw1:fixed_window_1 \
        fwc:fixed_window_contract_1; do
        sha=$(redis-cli -p "$PORT" script load "$(cat "$FLOORS/${f#*:}.lua")") || exit 2
        eval "SHA_${f%%:*}=\$sha"
    done
    redis-cli -p "$PORT" set '{fl}:fwc:active' v1 >/dev/null || exit 2
}
# prepare COUNT: each redis-cli case's commands in $T/<case>.resp, and one
# warm-up round of 64 each (which spends the rejected cases' one admission).
prepare() {
    : > "$T/warm.resp"
    for c in $CASES; do
        cmd=$(case_cmd "$c")
        case $cmd in node*) continue ;; esac
        resp "$T/$c.resp" "$1" "$cmd"
        resp "$T/w.resp" 64 "$cmd"
        cat "$T/w.resp" >> "$T/warm.resp"
    done
    redis-cli -p "$PORT" --pipe < "$T/warm.resp" > "$T/warm.out" 2>&1 ||
        { echo "peer: warm-up failed: $(cat "$T/warm.out")" >&2; exit 2; }
    grep -q 'errors: 0' "$T/warm.out" ||
        { echo "peer: warm-up had errors: $(cat "$T/warm.out")" >&2; exit 2; }
}
# run CASE COUNT [CALLGRIND_PID]: the case's decisions; its seconds in SECS.
run_case() {
    cmd=$(case_cmd "$1")
    case $cmd in
    node*)
        out=$("$NODE" "$ROOT/tests/bench/peer.js" "$PEERDIR/node_modules" "$PORT" "$2" \
            "${cmd#node }" ${3:+"$3"}) || exit 2
        SECS=${out% *} ;;
    *)
        t0=$(date +%s.%N)
        redis-cli -p "$PORT" --pipe < "$T/$1.resp" > "$T/$1.out" 2>&1
        t1=$(date +%s.%N)
        grep -q 'errors: 0' "$T/$1.out" ||
            { echo "peer: $1: $(cat "$T/$1.out")" >&2; exit 2; }
        SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') ;;
    esac
}
skip() {
    [ -z "$PEER" ] && case $1 in peer*) return 0 ;; esac
    return 1
}

# Pass 1: instructions.  Each dump holds what ran since the one before.
start cg valgrind --tool=callgrind --callgrind-out-file="$T/cg/cg.%p"
CG=$SP
dump() {
    callgrind_control -d "$CG" >/dev/null 2>&1
    sleep 0.5
    f=$(ls -t "$T"/cg/cg."$CG"* | head -1)
    grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'
}
prepare "$N"
dump >/dev/null
for c in $CASES; do
    skip "$c" && continue
    run_case "$c" "$N" "$CG"
    ir=$(dump)
    [ -n "$ir" ] || { echo "peer: $c: no callgrind dump" >&2; exit 2; }
    eval "I_$c=\$ir"
done
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
wait "$SP" 2>/dev/null
SP=
if [ -n "$ONLY" ]; then
    for c in $CASES; do
        skip "$c" && continue
        eval "i=\$I_$c"
        awk -v c="$c" -v i="$i" -v n="$N" 'BEGIN { printf "  %-12s %9.3f kIr\n", c, i / n / 1000 }'
    done
    exit 0
fi

# Pass 2: time, on a plain server pinned to one core, the clients to the
# other when there are two.
pin=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then pin="taskset -c 0"; fi
start plain $pin
prepare "$NT"
for c in $CASES; do
    skip "$c" && continue
    redis-cli -p "$PORT" config resetstat >/dev/null
    run_case "$c" "$NT"
    usec=$(redis-cli -p "$PORT" info commandstats | tr -d '\r' | awk -F'[,=]' '
        /^cmdstat_(fcall|evalsha|eval):/ { for (i = 1; i < NF; i++) if ($i == "usec") u += $(i + 1) }
        END { print u + 0 }')
    eval "U_$c=\$usec S_$c=\$SECS"
done
stop_server

echo "== decisions against a peer and hand-written floors (redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $(uptime | sed 's/.*load/load/'))"
echo "   peer: $PEER_MSG"
echo "   kIr: redis-server instructions per decision under callgrind, $N decisions per case"
echo "   µs: server time per decision (INFO commandstats), decisions/s as sent (redis-cli --pipe;"
echo "   the peer from node, 64 in flight), $NT decisions per case, server pinned to one core"
printf '  %-50s %9s %8s %12s\n' case kIr µs decisions/s
for c in $CASES; do
    if skip "$c"; then
        printf '  %-50s %9s %8s %12s\n' "$(case_label "$c")" skipped - -
        continue
    fi
    eval "i=\$I_$c u=\$U_$c s=\$S_$c"
    awk -v l="$(case_label "$c")" -v i="$i" -v n="$N" -v u="$u" -v s="$s" -v nt="$NT" 'BEGIN {
        printf "  %-50s %9.1f %8.2f %12.0f\n", l, i / n / 1000, u / nt, nt / s
    }'
    bench_record "$(case_label "$c"): redis-server instructions" \
        "$(awk -v i="$i" -v n="$N" 'BEGIN { printf "%.1f", i / n / 1000 }')" kIr
    bench_record "$(case_label "$c"): server time" \
        "$(awk -v u="$u" -v nt="$NT" 'BEGIN { printf "%.2f", u / nt }')" µs
done
echo "   ratios of kIr per decision (and of µs):"
# ratio A B LABEL TARGET
ratio() {
    if skip "$1" || skip "$2"; then
        printf '  %-55s n/a (rate-limiter-flexible skipped)\n' "$3"
        return
    fi
    eval "ia=\$I_$1 ib=\$I_$2 ua=\$U_$1 ub=\$U_$2"
    awk -v l="$3" -v t="$4" -v ia="$ia" -v ib="$ib" -v ua="$ua" -v ub="$ub" 'BEGIN {
        r = ia / ib
        printf "  %-55s %5.2f (target <= %.2f) %s   (µs %.2f)\n", l, r, t,
            (r <= t ? "PASS" : "MISS"), (ub > 0 ? ua / ub : 0)
    }'
    bench_record "$3 (instructions)" "$(awk -v a="$ia" -v b="$ib" 'BEGIN { printf "%.3f", a / b }')" \
        x "<=" "$4"
}
# figure A B LABEL: a ratio without a target.
figure() {
    if skip "$1" || skip "$2"; then
        printf '  %-55s n/a (rate-limiter-flexible skipped)\n' "$3"
        return
    fi
    eval "ia=\$I_$1 ib=\$I_$2 ua=\$U_$1 ub=\$U_$2"
    awk -v l="$3" -v ia="$ia" -v ib="$ib" -v ua="$ua" -v ub="$ub" 'BEGIN {
        printf "  %-55s %5.2f (no target)   (µs %.2f)\n", l, ia / ib, (ub > 0 ? ua / ub : 0)
    }'
    bench_record "$3 (instructions)" "$(awk -v a="$ia" -v b="$ib" 'BEGIN { printf "%.3f", a / b }')" x
}
ratio rlc_fw1 peer_1 "rlc fixed_window / rate-limiter-flexible, admitted" 1.0
ratio rlc_fwr peer_1r "rlc fixed_window / rate-limiter-flexible, rejected" 1.0
# What rlc's contract costs by itself: the hand-written fixed window that
# keeps it (version check, server time, epoch-aligned window, the full
# answer) against the peer, and rlc against that floor.
figure floor_fwc peer_1 "  Lua floor under rlc's contract / rate-limiter-flexible"
figure rlc_fw1 floor_fwc "  rlc fixed_window / Lua floor under rlc's contract"
ratio rlc_tb1 floor_tb1 "rlc token_bucket / Lua floor, 1 key" 1.0
ratio rlc_h3 peer_u3 "rlc 3 levels / rate-limiter-flexible union" 0.8
ratio rlc_h3 floor_tb3 "rlc 3 levels / Lua floor, 3 keys" 1.0
