#!/bin/sh
# skew.sh - clock-drift refusal at preflight (SPEC 2.8, 7.7, RLC3182)
# against servers whose clocks really are off: redis-server run under
# Debian's libfaketime (see faketime_env in lib.sh for how it gets past
# jemalloc).  With time_source = server only the nodes' clocks against each
# other count; with time_source = client each node against this host too.
# A standalone node 5 s ahead of us (accepted with server time: its clock is
# the only one that decides; refused with client time); a 6-node cluster with
# one node 5 s ahead of the other five (refused node against node, whatever
# our own clock says); and the default policy (no max_clock_skew: 0 ms)
# deploys to a local redis-server in both modes.
. "$ROOT/tests/lib.sh"
plan 26

faketime_env +0 > /dev/null && command -v faketime > /dev/null \
    || bail_out "libfaketime installed" "make deps installs the faketime package"

"$RLC" compile "$ROOT/examples/saas.rlp" -o "$T/A.json" -q || bail_out "compile" "saas"
# The same policy with client time: gateways stamp requests, and this host's
# clock stands in for theirs against the store's.
sed 's/time_source = server/time_source = client/' "$ROOT/examples/saas.rlp" > "$T/client.rlp"
"$RLC" compile "$T/client.rlp" -o "$T/client.json" -q || bail_out "compile" "saas, client time"
NS=saas
# saas.rlp also has etcd and http targets: only the Redis one here.
export RLC_ONLY=primary

# node_ahead_ms PORT: the node's TIME minus ours, in ms.
node_ahead_ms() {
    python3 - "$1" <<'PY'
import subprocess, sys, time
t0 = time.time()
out = subprocess.run(["redis-cli", "-p", sys.argv[1], "time"], capture_output=True, text=True).stdout.split()
t1 = time.time()
print(int(int(out[0]) * 1000 + int(out[1]) / 1000 - (t0 + t1) * 500))
PY
}

# --- a standalone node 5 s ahead ---------------------------------------------
P=$(free_port)
start_redis_skewed "$P" +5s \
    || bail_out "redis-server starts under faketime" "$(tail -3 "$T/redis-$P/log" 2>/dev/null)"
ahead=$(node_ahead_ms "$P")
echo "# node ahead by $ahead ms"
check "the node's clock really is about 5 s ahead" [ "$ahead" -gt 4500 ] && [ "$ahead" -lt 5500 ]
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" run -q --state-dir "$T/s1" "$T/client.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "client time: a node 5 s ahead of this host refused at preflight (exit 5, RLC3182)" \
    eval '[ $r -eq 5 ] && grep -q RLC3182 "$T/err"'
check "the refusal gives the numbers" \
    grep -Eq 'clock skew (4[5-9]|5[0-4])[0-9][0-9] ms exceeds max_clock_skew 25 ms: 127.0.0.1:'"$P"' is ahead of this host by' "$T/err"
check "the refusal says what was compared" grep -q "time_source = client: this host's clock stands in for the gateways'" "$T/err"
check "the refusal names the node and its offset" grep -q "127.0.0.1:$P +[45][0-9][0-9][0-9] ms" "$T/err"
check "nothing written on the skewed node" [ -z "$(redis-cli -p "$P" --scan --pattern "{$NS:*")" ]
check "no deploy lock left behind" [ -z "$(redis-cli -p "$P" --scan --pattern "$NS:deploy:*")" ]
"$RLC" audit verify --state-dir "$T/s1" > /dev/null
check "the refusal is an audit record that verifies" [ $? -eq 0 ]
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" audit show --state-dir "$T/s1" > "$T/show"
check "audit show prints the refusal with its code" grep -q RLC3182 "$T/show"
# Server time: the node's own TIME is the only clock a decision reads, so
# its offset from this host does not count (it used to refuse this).
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" run -q --json --state-dir "$T/s0" "$T/A.json" > "$T/out.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "server time: the same node 5 s ahead of this host deploys (one clock decides)" \
    eval '[ $r -eq 0 ] && [ -n "$(redis-cli -p "$P" get "{$NS:acme}:active")" ]'
check "server time: the report says nodes were compared with nodes only, skew 0" \
    grep -q '"max_skew_ms":0,.*"skew_against":"nodes"' "$T/out.json"
# FLUSHALL keeps functions: the library still carries saas's tenant *, and
# a deploy of another namespace would stop at it (RLC3186).
redis-cli -p "$P" flushall > /dev/null
redis-cli -p "$P" function flush > /dev/null

# The same server is accepted by a policy that tolerates 6 s of skew: the
# check measures, it does not refuse everything.
cat > "$T/loose.rlp" <<'P'
policy "skewed" {
  namespace = "sk"
  max_clock_skew = 6s
  time_source = server
}
tenant "acme" {
  limit 600/1m
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
P
sed 's/max_clock_skew = 6s/max_clock_skew = 3s/' "$T/loose.rlp" > "$T/tight.rlp"
"$RLC" compile "$T/loose.rlp" -o "$T/loose.json" -q && "$RLC" compile "$T/tight.rlp" -o "$T/tight.json" -q \
    || bail_out "compile skew policies" "failed"
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" run -q --state-dir "$T/s2" "$T/loose.json" 2> "$T/err"
check "a node 5 s ahead is accepted under max_clock_skew = 6s" [ $? -eq 0 ]
check "and the deploy is live" [ -n "$(redis-cli -p "$P" get "{sk:acme}:active")" ]

# --- a cluster with one node 5 s ahead -----------------------------------------
CLUSTER_SKEW="1 +5s" start_redis_cluster \
    || bail_out "cluster with one node under faketime starts" "$(tail -5 "$T/cluster-create.log" 2>/dev/null)"
set -- $CLUSTER_PORTS
SKEWED=$2
echo "# node 127.0.0.1:$SKEWED ahead by $(node_ahead_ms "$SKEWED") ms, 127.0.0.1:$1 by $(node_ahead_ms "$1") ms"
export RLC_REDIS_URL="redis://127.0.0.1:$1"
"$RLC" run -q --state-dir "$T/c1" "$T/A.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "cluster with a node 5 s ahead refused (exit 5, RLC3182)" eval '[ $r -eq 5 ] && grep -q RLC3182 "$T/err"'
check "the refusal names the fast node as the fastest" grep -q "fastest 127.0.0.1:$SKEWED," "$T/err"
check "the refusal compares nodes with nodes" \
    grep -q "ms: 127.0.0.1:$SKEWED is ahead of 127.0.0.1:[0-9]* by [0-9]* ms measured, at least [0-9]* ms once the round trips are allowed for (time_source = server: nodes of one target;" "$T/err"
check "all six nodes' clocks checked" [ "$(grep -o ' ms[,;]' "$T/err" | wc -l)" -eq 6 ]
written=0
for p in $CLUSTER_PORTS; do
    [ -z "$(redis-cli -p "$p" --scan --pattern "{$NS:*")" ] || written=$((written + 1))
done
check "nothing written on any node" [ $written -eq 0 ]

# Node against node: shift our own clock 2.5 s forward (fault hook, SPEC
# 7.5) so that every node is within 3 s of us (five at -2.5 s, one at
# +2.5 s), while the nodes differ by 5 s from each other.
RLC_FAULT_CLOCK_MS=2500 "$RLC" run -q --json --state-dir "$T/c2" "$T/tight.json" > "$T/out.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "nodes 5 s apart refused under max_clock_skew = 3s though each is within 3 s of us" \
    eval '[ $r -eq 5 ] && grep -Eq "clock skew (4[5-9]|5[0-4])[0-9][0-9] ms exceeds max_clock_skew 3000 ms" "$T/err"'
check "fastest and slowest nodes named" eval 'grep -q "fastest 127.0.0.1:$SKEWED, slowest 127.0.0.1:" "$T/err"'
RLC_FAULT_CLOCK_MS=2500 "$RLC" run -q --state-dir "$T/c3" "$T/loose.json" 2> "$T/err"
check "the same cluster is accepted under max_clock_skew = 6s" [ $? -eq 0 ]
"$RLC" audit verify --state-dir "$T/c2" > /dev/null && "$RLC" audit verify --state-dir "$T/c3" > /dev/null
check "audit logs verify" [ $? -eq 0 ]
stop_redis_cluster

# --- the default policy: no max_clock_skew (0 ms) ------------------------------
# One local redis-server: with server time there is one clock, with client
# time this host and the server share the machine's clock, so no difference
# can be proven and both deploy (they used to be refused: "clock skew 0 ms
# exceeds max_clock_skew 0 ms").
P0=$(free_port)
start_redis "$P0" || bail_out "redis-server starts" "see stderr"
for ts in server client; do
    cat > "$T/default-$ts.rlp" <<P
policy "plain" {
  namespace = "d$ts"
  time_source = $ts
}
tenant "acme" {
  limit 600/1m
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
P
    "$RLC" compile "$T/default-$ts.rlp" -o "$T/default-$ts.json" -q 2> /dev/null \
        || { notok "compile the default policy ($ts time)" "failed"; continue; }
    RLC_REDIS_URL="redis://127.0.0.1:$P0" "$RLC" run --json --state-dir "$T/d-$ts" \
        "$T/default-$ts.json" > "$T/d.json" 2> "$T/err"
    r=$?
    sed 's/^/# /' "$T/err" | grep -v '^# rlc:  '
    check "default policy ($ts time, max_clock_skew 0 ms) deploys to a local redis-server" \
        eval '[ $r -eq 0 ] && grep -q "clocks within 0 ms (max_clock_skew 0 ms)" "$T/err" && [ -n "$(redis-cli -p "$P0" get "{d$ts:acme}:active")" ]'
done
# Client time, 0 ms, this host's clock shifted by 50 ms (the fault hook):
# far beyond the round trip on loopback, so the difference is proven.
RLC_FAULT_CLOCK_MS=50 RLC_REDIS_URL="redis://127.0.0.1:$P0" "$RLC" run -q --state-dir "$T/d-shift" \
    "$T/default-client.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "default policy, client time: this host 50 ms off is refused (exit 5)" \
    eval '[ $r -eq 5 ] && grep -Eq "clock skew (4[0-9]|50) ms exceeds max_clock_skew 0 ms: this host is ahead of 127.0.0.1:$P0" "$T/err"'
RLC_FAULT_CLOCK_MS=50 RLC_REDIS_URL="redis://127.0.0.1:$P0" "$RLC" run -q --state-dir "$T/d-shift2" \
    "$T/default-server.json" 2> "$T/err"
check "default policy, server time: this host's clock does not count" [ $? -eq 0 ]
