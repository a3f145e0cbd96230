#!/bin/sh
# skew.sh - clock-drift refusal at preflight (SPEC 7.7, RLC3182) against
# servers whose clocks really are off: redis-server run under Debian's
# libfaketime (see faketime_env in lib.sh for how it gets past jemalloc).
# A standalone node 5 s ahead of us; a 6-node cluster with one node 5 s
# ahead of the other five, checked both against us and node against node.
. "$ROOT/tests/lib.sh"

if ! faketime_env +0 > /dev/null || ! command -v faketime > /dev/null; then
    notok "libfaketime installed" "make deps installs the faketime package"
    exit 0
fi

"$RLC" compile "$ROOT/examples/saas.rlp" -o "$T/A.json" -q || { notok "compile" "saas"; exit 0; }
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
if ! start_redis_skewed "$P" +5s; then
    notok "redis-server starts under faketime" "$(tail -3 "$T/redis-$P/log" 2>/dev/null)"
    exit 0
fi
ok "redis-server starts under faketime"
ahead=$(node_ahead_ms "$P")
echo "# node ahead by $ahead ms"
check "the node's clock really is about 5 s ahead" [ "$ahead" -gt 4500 ] && [ "$ahead" -lt 5500 ]
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" run -q --state-dir "$T/s1" "$T/A.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "node 5 s ahead refused at preflight (exit 5, RLC3182)" eval '[ $r -eq 5 ] && grep -q RLC3182 "$T/err"'
check "the refusal gives the numbers" grep -q 'exceeds max_clock_skew 25 ms' "$T/err"
check "the refusal names the node and its offset" grep -q "127.0.0.1:$P +[45][0-9][0-9][0-9] ms" "$T/err"
check "nothing written on the skewed node" [ -z "$(redis-cli -p "$P" --scan --pattern "{$NS:*")" ]
check "no deploy lock left behind" [ -z "$(redis-cli -p "$P" --scan --pattern "$NS:deploy:*")" ]
"$RLC" audit verify --state-dir "$T/s1" > /dev/null
check "the refusal is an audit record that verifies" [ $? -eq 0 ]
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" audit show --state-dir "$T/s1" > "$T/show"
check "audit show prints the refusal with its code" grep -q RLC3182 "$T/show"

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
    || { notok "compile skew policies" "failed"; exit 0; }
RLC_REDIS_URL="redis://127.0.0.1:$P" "$RLC" run -q --state-dir "$T/s2" "$T/loose.json" 2> "$T/err"
check "a node 5 s ahead is accepted under max_clock_skew = 6s" [ $? -eq 0 ]
check "and the deploy is live" [ -n "$(redis-cli -p "$P" get "{sk:acme}:active")" ]

# --- a cluster with one node 5 s ahead -----------------------------------------
if ! CLUSTER_SKEW="1 +5s" start_redis_cluster; then
    notok "cluster with one node under faketime starts" "$(tail -5 "$T/cluster-create.log" 2>/dev/null)"
    exit 0
fi
ok "cluster with one node under faketime starts"
set -- $CLUSTER_PORTS
SKEWED=$2
echo "# node 127.0.0.1:$SKEWED ahead by $(node_ahead_ms "$SKEWED") ms, 127.0.0.1:$1 by $(node_ahead_ms "$1") ms"
export RLC_REDIS_URL="redis://127.0.0.1:$1"
"$RLC" run -q --state-dir "$T/c1" "$T/A.json" 2> "$T/err"
r=$?
sed 's/^/# /' "$T/err"
check "cluster with a node 5 s ahead refused (exit 5, RLC3182)" eval '[ $r -eq 5 ] && grep -q RLC3182 "$T/err"'
check "the refusal names the fast node as the fastest" grep -q "fastest 127.0.0.1:$SKEWED," "$T/err"
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
