# lib.sh - helpers for suite scripts (sourced).  A suite says first how
# many cases it will report (plan), then reports each with ok/notok/check
# or skip; steps that only prepare the cases are setup lines, and a setup
# that fails ends the suite with bail_out.  Servers are started on loopback
# ports claimed for the suite (free_port), in temp dirs, and stopped by PID.
: "${ROOT:?run through tests/run.sh}"
: "${RLC:?}"

# examples/saas.rlp reads its Redis user and password from these, and an
# unset one is an error (RLC3157, SPEC 2.8).  The test servers keep
# Redis's default user without a password, which accepts any password.
export RLC_REDIS_USER=default RLC_REDIS_PASSWORD=rlc-test-unused

# plan N: the number of cases this suite reports (TAP's "1..N"), said
# before the first one, so that a case lost to a crash, an early exit or a
# loop over nothing fails the run instead of shrinking the total.  A suite
# whose cases follow its data computes N from the same data.
plan() { echo "1..$1"; }
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; }
# check NAME CONDITION-COMMAND...: ok when the command succeeds
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else notok "$n" "failed: $*"; fi; }
# skip NAME REASON: a case that cannot run here; the runner counts it as
# skipped, not passed.
skip() { echo "ok - $1 # SKIP $2"; }
# setup WHAT: a step that prepares the cases (a server started, a fixture
# compiled); reported as a comment, never counted as a case.
setup() { echo "# setup: $1"; }
# bail_out NAME REASON: a setup step failed and no case can run: one failed
# case, then the suite ends; the runner counts the rest of the plan as
# failed.
bail_out() { notok "$1" "$2"; echo "Bail out! $1"; exit 1; }

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
    release_ports
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports.  Suites run in parallel, and other test runs may share this
# machine: a port that was merely free when probed (bind to port 0, close)
# can be handed to two suites at once, or taken by an outgoing connection's
# ephemeral port before the server binds it.  So every port a suite uses is
# claimed: a file PORT holding the suite's PID in RLC_PORT_DIR, created
# under an exclusive lock on RLC_PORT_DIR/.lock, only for a port that
# nothing on this machine can bind and no live suite has claimed.  Claims
# are released when the suite exits; a claim whose suite died is taken
# over.  Ports come from 10000-19999: below the kernel's ephemeral range
# (32768 and up, see /proc/sys/net/ipv4/ip_local_port_range) and below the
# range run-demo.sh probes (20000 and up).
RLC_PORT_DIR=${RLC_PORT_DIR:-/tmp/rlc-test-ports}
# claim_ports N: prints N claimed ports, separated by spaces.
claim_ports() {
    _got=$(python3 - "$RLC_PORT_DIR" "$$" "$1" <<'PY'
import fcntl, os, random, socket, sys
d, owner, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LO, HI = 10000, 20000
# Shared by every user's test runs: world-writable, sticky like /tmp.
if not os.path.isdir(d):
    os.makedirs(d, exist_ok=True)
    try:
        os.chmod(d, 0o1777)
    except OSError:
        pass
lock = open(os.path.join(d, ".lock"), "a")
try:
    os.chmod(lock.name, 0o666)
except OSError:
    pass
fcntl.flock(lock, fcntl.LOCK_EX)
def claimed(p):
    try:
        pid = int(open(os.path.join(d, str(p))).read() or 0)
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
def bindable(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
got, p = [], random.randrange(LO, HI)
for _ in range(HI - LO):
    p = LO + (p + 1 - LO) % (HI - LO)
    if not claimed(p) and bindable(p):
        with open(os.path.join(d, str(p)), "w") as f:
            f.write(str(owner))
        got.append(p)
        if len(got) == n:
            break
if len(got) < n:
    sys.exit("claim_ports: fewer than %d free ports in %d-%d" % (n, LO, HI - 1))
print(" ".join(map(str, got)))
PY
) || return 1
    echo "$_got" >> "$T/.ports"
    echo "$_got"
}
# release_ports: removes this suite's claims.
release_ports() {
    for _p in $(cat "$T/.ports" 2>/dev/null); do
        [ "$(cat "$RLC_PORT_DIR/$_p" 2>/dev/null)" = "$$" ] && rm -f "$RLC_PORT_DIR/$_p"
    done
    return 0
}
# free_port: prints a claimed TCP port on 127.0.0.1 that nothing listens on.
free_port() { claim_ports 1; }

# start_redis PORT [extra args...]: redis-server on 127.0.0.1:PORT in $T,
# waits until it accepts connections.  Adds its PID to RLC_PIDS.
start_redis() {
    port=$1; shift
    dir="$T/redis-$port"
    mkdir -p "$dir"
    : > "$dir/log"
    # shellcheck disable=SC2086
    env ${REDIS_ENV:-} redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
        --appendonly no --daemonize no --logfile "$dir/log" "$@" &
    RLC_PIDS="$RLC_PIDS $!"
    wait_redis $! "$port" "$dir/log" || return 1
    setup "redis-server on 127.0.0.1:$port"
}

# wait_redis PID PORT LOG: waits until the redis-server PID, logging to
# LOG, accepts connections.  Its own log says so, not a PING: a server that
# could not bind its port exits at once while another one may be answering
# there, and a server started with --requirepass refuses a PING.
wait_redis() {
    _i=0
    while ! grep -q 'Ready to accept connections' "$3" 2>/dev/null; do
        if ! kill -0 "$1" 2>/dev/null; then
            echo "redis-server on port $2 exited: $(tail -n 2 "$3" 2>/dev/null)" >&2
            return 1
        fi
        _i=$((_i + 1)); [ $_i -gt 200 ] && return 1
        sleep 0.05
    done
}

# monitor_start PORT FILE [redis-cli args...]: the server's commands listed
# into FILE (MONITOR), from the moment this returns; the watcher's PID in
# MONITOR_PID.  FILE is emptied first and only then is the watcher started:
# a check for its "OK" must not find the OK a previous watcher left there
# (the background job may not have opened the file yet), or the commands
# sent before the new watcher attaches are missed.
monitor_start() {
    _mp=$1 _mf=$2; shift 2
    : > "$_mf"
    redis-cli -p "$_mp" "$@" monitor > "$_mf" 2>&1 & MONITOR_PID=$!
    _i=0
    until grep -q '^OK' "$_mf" 2>/dev/null; do
        _i=$((_i + 1)); [ $_i -gt 400 ] && { echo "MONITOR on port $_mp did not start" >&2; return 1; }
        sleep 0.05
    done
}

# monitor_stop PORT FILE [redis-cli args...]: waits until FILE lists a
# command sent now (so everything before it is there), then stops the
# watcher.
monitor_stop() {
    _mp=$1 _mf=$2; shift 2
    redis-cli -p "$_mp" "$@" echo monitor-end > /dev/null
    _i=0
    until grep -q '"monitor-end"' "$_mf" 2>/dev/null || [ $_i -gt 400 ]; do
        sleep 0.05; _i=$((_i + 1))
    done
    kill "$MONITOR_PID" 2>/dev/null; wait "$MONITOR_PID" 2>/dev/null
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

# nginx_conf_head DIR WORKERS [LOGLEVEL]: the opening of a test nginx.conf:
# the Lua modules, WORKERS workers in the foreground, pid and error log in
# DIR, body buffers in DIR/body, and "http {" (the caller writes the rest
# of the block and closes it).
nginx_conf_head() {
    cat <<C
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log ${3:-warn};
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $1/body;
C
}

# start_redis_skewed PORT SHIFT [extra args...]: start_redis with the
# server's clock shifted by SHIFT under libfaketime.
start_redis_skewed() {
    _port=$1; _shift=$2; shift 2
    _env=$(faketime_env "$_shift") || return 1
    # shellcheck disable=SC2086
    REDIS_ENV="$_env" start_redis "$_port" "$@"
}

# start_redis_cluster [extra redis args...]: a 6-node Redis Cluster (3
# primaries, 3 replicas) on claimed loopback ports in $T, each node's
# cluster bus on a claimed port of its own (not PORT+10000, which nothing
# claims).  Sets CLUSTER_PORTS (all six, primaries first as created) and
# CLUSTER_PIDS; every PID also goes to RLC_PIDS.  Waits for cluster_state:ok on every node.  (owner: runtime)
start_redis_cluster() {
    CLUSTER_PORTS=""; CLUSTER_PIDS=""
    _addrs=""
    _ports=$(claim_ports 12) || return 1
    _k=0
    for _p in $(echo "$_ports" | cut -d' ' -f1-6); do
        _k=$((_k + 1)); _bus=$(echo "$_ports" | cut -d' ' -f$((_k + 6)))
        _d="$T/cluster-$_p"; mkdir -p "$_d"
        # CLUSTER_SKEW="PORT_INDEX SHIFT" runs that node (0-5) under faketime.
        _env=""
        if [ -n "${CLUSTER_SKEW:-}" ] && [ "${CLUSTER_SKEW%% *}" = "$(echo $_addrs | wc -w)" ]; then
            _env=$(faketime_env "${CLUSTER_SKEW#* }") || return 1
        fi
        # shellcheck disable=SC2086
        env $_env redis-server --port "$_p" --bind 127.0.0.1 --dir "$_d" --save '' --appendonly no \
            --cluster-enabled yes --cluster-port "$_bus" --cluster-config-file "$_d/nodes.conf" \
            --cluster-node-timeout 2000 --repl-diskless-sync-delay 0 \
            --daemonize no --logfile "$_d/log" "$@" &
        RLC_PIDS="$RLC_PIDS $!"; CLUSTER_PIDS="$CLUSTER_PIDS $!"
        CLUSTER_PORTS="$CLUSTER_PORTS $_p"; _addrs="$_addrs 127.0.0.1:$_p"
    done
    _k=0
    for _p in $CLUSTER_PORTS; do
        _k=$((_k + 1))
        wait_redis "$(echo $CLUSTER_PIDS | cut -d' ' -f$_k)" "$_p" "$T/cluster-$_p/log" || return 1
    done
    setup "6-node Redis Cluster on 127.0.0.1:$(echo $CLUSTER_PORTS | tr ' ' ,)"
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
        kill -0 "$ETCD_PID" 2>/dev/null || { tail -n 3 "$_d/log" >&2; return 1; }
        _i=$((_i + 1)); [ $_i -gt 200 ] && return 1; sleep 0.05
    done
    setup "etcd on 127.0.0.1:$ETCD_PORT (peer port $ETCD_PEER_PORT)"
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
        _i=$((_i + 1))
        if [ $_i -gt 100 ] || ! kill -0 "$GW_PID" 2>/dev/null; then
            cat "$_d/stderr" "$_d/error.log" >&2; return 1
        fi
        sleep 0.05
    done
    setup "test HTTP admin API (nginx) on 127.0.0.1:$GW_PORT"
}
