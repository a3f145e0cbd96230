#!/bin/sh
# cluster.sh - the Redis Cluster client against a real 6-node cluster:
# routing, MOVED, ASK, per-node pipelines, commands on every primary.
. "$ROOT/tests/lib.sh"
# The cluster client's own cases (tests/runtime/cluster_client.c), counted
# from its source: each report() call prints one.
nclient=$(grep -c '^ *report(' "$ROOT/tests/runtime/cluster_client.c")
plan $((nclient + 10))
start_redis_cluster || bail_out "6-node cluster starts" "$(tail -5 "$T/cluster-create.log" 2>/dev/null)"
# shellcheck disable=SC2086
"$ROOT/$BUILD/tests/cluster_client" $CLUSTER_PORTS

# A deploy on the cluster: configs spread over every primary's slots, the
# library on every primary, clocks checked on all six nodes.  Then one
# primary is SIGSTOPped mid-apply: commands to it time out, the run fails,
# and once the node is back the recovery restores the old state.
# saas.rlp also has etcd and http targets: only the Redis one here.
export RLC_ONLY=primary
"$RLC" compile "$ROOT/examples/saas.rlp" -o "$T/A.json" -q
sed 's/limit 9000\/1m burst 1500/limit 9500\/1m burst 1500/' "$ROOT/examples/saas.rlp" > "$T/b.rlp"
"$RLC" compile "$T/b.rlp" -o "$T/B.json" -q
set -- $CLUSTER_PORTS
export RLC_REDIS_URL="redis://127.0.0.1:$1" RLC_STATE_DIR="$T/state"
"$RLC" run -q --json "$T/A.json" > "$T/a.json"; r=$?
check "deploy on the cluster commits" [ $r -eq 0 ]
nn=$(grep -o '"rtt_ms"' "$T/a.json" | wc -l)
echo "# preflight checked $nn nodes"
check "preflight checked all six nodes (CLUSTER NODES, not only what CLUSTER SLOTS lists)" [ "$nn" -eq 6 ]
libs=0
for p in $CLUSTER_PORTS; do
    [ "$(redis-cli -p "$p" role | head -1)" = master ] || continue
    redis-cli -p "$p" function list libraryname rlc | grep -q rlc && libs=$((libs + 1))
done
check "library loaded on every primary" [ $libs -eq 3 ]
"$RLC" diff "$T/A.json" > /dev/null; check "cluster diff after the deploy: no change" [ $? -eq 0 ]
# The primary holding acme's slot.
slot=$(redis-cli -p "$1" cluster keyslot "{saas:acme}:active")
victim=""
for p in $CLUSTER_PORTS; do
    [ "$(redis-cli -p "$p" role | head -1)" = master ] || continue
    case $(redis-cli -p "$p" get "{saas:acme}:active" 2>&1) in MOVED*|"") ;; *) victim=$p ;; esac
done
echo "# victim port $victim, slot $slot"
vpid=$(redis-cli -p "$victim" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p' | tr -d '\r')
echo "# victim pid $vpid"
RLC_TIMEOUT_MS=500 RLC_FAULT=apply.flip:cmd RLC_FAULT_CMD="kill -STOP $vpid" \
    "$RLC" run -q "$T/B.json" 2> "$T/err"; r=$?
check "primary SIGSTOPped mid-apply: the run fails" [ $r -eq 1 ]
check "the failure is a timeout, then a rollback" grep -q "timeout" "$T/err"
kill -CONT "$vpid"
sleep 0.5
"$RLC" run --dry-run -q "$T/A.json" > /dev/null 2>&1   # recovers
"$RLC" diff "$T/A.json" > "$T/d"; r=$?
check "after the node resumes, recovery leaves exactly plan A" [ $r -eq 0 ]
"$RLC" audit verify > /dev/null; check "audit verifies after the cluster fault" [ $? -eq 0 ]
"$RLC" run -q "$T/B.json"; check "the next deploy of B commits" [ $? -eq 0 ]
"$RLC" diff "$T/B.json" > /dev/null; check "cluster holds plan B" [ $? -eq 0 ]
stop_redis_cluster
