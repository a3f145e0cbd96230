#!/bin/sh
# cluster.sh - the Redis Cluster client against a real 6-node cluster:
# routing, MOVED, ASK, per-node pipelines, commands on every primary.
. "$ROOT/tests/lib.sh"
if ! start_redis_cluster; then
    notok "cluster starts" "$(tail -5 "$T/cluster-create.log" 2>/dev/null)"
    exit 0
fi
ok "6-node cluster starts"
# shellcheck disable=SC2086
"$ROOT/$BUILD/tests/cluster_client" $CLUSTER_PORTS
stop_redis_cluster
