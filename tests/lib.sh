# lib.sh - helpers for suite scripts (sourced).  Cases report with ok/notok;
# servers are started on free loopback ports in temp dirs and stopped by PID.
: "${ROOT:?run through tests/run.sh}"
: "${RLC:?}"

# examples/saas.rlp reads its Redis user and password from these, and an
# unset one is an error (RLC3157, SPEC 2.8).  The test servers keep
# Redis's default user without a password, which accepts any password.
export RLC_REDIS_USER=default RLC_REDIS_PASSWORD=rlc-test-unused

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; }
# check NAME CONDITION-COMMAND...: ok when the command succeeds
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else notok "$n" "failed: $*"; fi; }

# A fresh temp dir per suite, removed on exit along with any servers.
T=$(mktemp -d "${TMPDIR:-/tmp}/rlc-test.XXXXXX")
RLC_PIDS=""
cleanup() {
    for p in $RLC_PIDS; do
        # nginx: a fast shutdown (SIGTERM) lets the master stop its workers,
        # including ones respawned by a reload; give it a second.
        if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nginx ]; then
            kill -TERM "$p" 2>/dev/null
            _i=0
            while [ -d "/proc/$p" ] && [ "$(cat "/proc/$p/stat" 2>/dev/null | cut -d' ' -f3)" != Z ] \
                && [ $_i -lt 20 ]; do sleep 0.05; _i=$((_i + 1)); done
        fi
        # A server's own children (nginx's workers outlive a SIGKILLed
        # master, still listening), then the server.
        for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do kill -9 "$c" 2>/dev/null; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_redis PORT [extra args...]: redis-server on 127.0.0.1:PORT in $T,
# waits until it answers PING.  Adds its PID to RLC_PIDS.
start_redis() {
    port=$1; shift
    dir="$T/redis-$port"
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    env ${REDIS_ENV:-} redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
        --appendonly no --daemonize no --logfile "$dir/log" "$@" &
    RLC_PIDS="$RLC_PIDS $!"
    i=0
    while ! redis-cli -p "$port" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1
        sleep 0.05
    done
}

# faketime_env SHIFT: prints the environment that runs a program under
# libfaketime with its clock shifted by SHIFT (e.g. +5s), for `env $(...)`.
# Debian's redis-server is linked with jemalloc, and libfaketime's start-up
# recurses into jemalloc's (libfaketime issue #130: the server never
# starts).  Preloading glibc after libfaketime puts glibc's malloc ahead of
# jemalloc's in the lookup order, so neither recursion happens; the server
# then runs on glibc's malloc, which changes nothing these tests look at.
faketime_env() {
    _ft=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
    _libc=$(ldd "$(command -v redis-server)" 2>/dev/null | awk '$1 == "libc.so.6" { print $3 }')
    [ -n "$_ft" ] && [ -n "$_libc" ] || return 1
    echo "LD_PRELOAD=$_ft:$_libc FAKETIME=$1"
}

# start_redis_skewed PORT SHIFT [extra args...]: start_redis with the
# server's clock shifted by SHIFT under libfaketime.
start_redis_skewed() {
    _port=$1; _shift=$2; shift 2
    _env=$(faketime_env "$_shift") || return 1
    # shellcheck disable=SC2086
    REDIS_ENV="$_env" start_redis "$_port" "$@"
}

# cluster_ports N: N distinct ports P <= 55535 with P and its cluster bus
# port P+10000 both free on 127.0.0.1.  (owner: runtime)
cluster_ports() {
    python3 -c '
import random, socket, sys
n = int(sys.argv[1]); got = []
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while len(got) < n:
    p = random.randint(20000, 45000)
    if p not in got and free(p) and free(p + 10000):
        got.append(p)
print(" ".join(map(str, got)))' "$1"
}

# start_redis_cluster [extra redis args...]: a 6-node Redis Cluster (3
# primaries, 3 replicas) on free loopback ports in $T.  Sets CLUSTER_PORTS
# (all six, primaries first as created) and CLUSTER_PIDS; every PID also goes
# to RLC_PIDS.  Waits for cluster_state:ok on every node.  (owner: runtime)
start_redis_cluster() {
    CLUSTER_PORTS=""; CLUSTER_PIDS=""
    _addrs=""
    for _p in $(cluster_ports 6); do
        _d="$T/cluster-$_p"; mkdir -p "$_d"
        # CLUSTER_SKEW="PORT_INDEX SHIFT" runs that node (0-5) under faketime.
        _env=""
        if [ -n "${CLUSTER_SKEW:-}" ] && [ "${CLUSTER_SKEW%% *}" = "$(echo $_addrs | wc -w)" ]; then
            _env=$(faketime_env "${CLUSTER_SKEW#* }") || return 1
        fi
        # shellcheck disable=SC2086
        env $_env redis-server --port "$_p" --bind 127.0.0.1 --dir "$_d" --save '' --appendonly no \
            --cluster-enabled yes --cluster-config-file "$_d/nodes.conf" \
            --cluster-node-timeout 2000 --repl-diskless-sync-delay 0 \
            --daemonize no --logfile "$_d/log" "$@" &
        RLC_PIDS="$RLC_PIDS $!"; CLUSTER_PIDS="$CLUSTER_PIDS $!"
        CLUSTER_PORTS="$CLUSTER_PORTS $_p"; _addrs="$_addrs 127.0.0.1:$_p"
    done
    for _p in $CLUSTER_PORTS; do
        _i=0
        while ! redis-cli -p "$_p" ping >/dev/null 2>&1; do
            _i=$((_i + 1)); [ $_i -gt 100 ] && return 1; sleep 0.05
        done
    done
    # shellcheck disable=SC2086
    redis-cli --cluster create $_addrs --cluster-replicas 1 --cluster-yes \
        >"$T/cluster-create.log" 2>&1 || return 1
    for _p in $CLUSTER_PORTS; do
        _i=0
        while ! redis-cli -p "$_p" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; do
            _i=$((_i + 1)); [ $_i -gt 300 ] && return 1; sleep 0.05
        done
    done
}

# stop_redis_cluster: SIGKILL the nodes started by start_redis_cluster.
stop_redis_cluster() {
    for _p in $CLUSTER_PIDS; do kill -9 "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; done
    CLUSTER_PIDS=""
}

# start_etcd [PORT PEER_PORT]: one etcd member on loopback client and peer
# ports (free ones unless given: a restart reuses its ports and data dir in
# $T), logging to a file (--log-outputs needs --logger zap).  Sets
# ETCD_PORT, ETCD_PEER_PORT, ETCD_PID and ETCD_ENDPOINT; waits for /health.
# Stop it with stop_etcd (SIGKILL by PID).  (owner: gateways)
start_etcd() {
    ETCD_PORT=${1:-$(free_port)}; ETCD_PEER_PORT=${2:-$(free_port)}
    _d="$T/etcd-$ETCD_PORT"; mkdir -p "$_d"
    ETCD_ENDPOINT="http://127.0.0.1:$ETCD_PORT"
    etcd --name rlc-test --data-dir "$_d/data" \
        --listen-client-urls "$ETCD_ENDPOINT" --advertise-client-urls "$ETCD_ENDPOINT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "rlc-test=http://127.0.0.1:$ETCD_PEER_PORT" \
        --logger zap --log-outputs "$_d/log" >/dev/null 2>&1 &
    ETCD_PID=$!; RLC_PIDS="$RLC_PIDS $ETCD_PID"
    _i=0
    while ! curl -s -m 1 "$ETCD_ENDPOINT/health" 2>/dev/null | grep -q '"true"'; do
        _i=$((_i + 1)); [ $_i -gt 200 ] && return 1; sleep 0.05
    done
}

# stop_etcd: SIGKILL the member started by start_etcd.
stop_etcd() {
    kill -9 "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null
    return 0   # wait reports the SIGKILL (137); stopping it was the point
}

# start_gateway TOKEN: the test HTTP admin API (tests/gateway/admin.lua in
# nginx with the Lua module) on a free loopback port.  Sets GW_PORT, GW_PID,
# GW_BASE (http://127.0.0.1:PORT/admin).  (owner: gateways)
start_gateway() {
    GW_PORT=$(free_port)
    _d="$T/gateway-$GW_PORT"; mkdir -p "$_d/body"
    sed -e "s#@PORT@#$GW_PORT#" -e "s#@DIR@#$_d#g" -e "s#@TOKEN@#$1#" \
        -e "s#@LUA@#$ROOT/tests/gateway/admin.lua#" "$ROOT/tests/gateway/nginx.conf.in" > "$_d/nginx.conf"
    nginx -p "$_d" -c "$_d/nginx.conf" >"$_d/stderr" 2>&1 &
    GW_PID=$!; RLC_PIDS="$RLC_PIDS $GW_PID"
    GW_BASE="http://127.0.0.1:$GW_PORT/admin"
    _i=0
    while ! curl -s -m 1 -H "Authorization: Bearer $1" "$GW_BASE/health" 2>/dev/null | grep -q ok; do
        _i=$((_i + 1)); [ $_i -gt 100 ] && { cat "$_d/stderr" "$_d/error.log" >&2; return 1; }
        sleep 0.05
    done
}
