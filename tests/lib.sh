# lib.sh - helpers for suite scripts (sourced).  Cases report with ok/notok;
# servers are started on free loopback ports in temp dirs and stopped by PID.
: "${ROOT:?run through tests/run.sh}"
: "${RLC:?}"

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; }
# check NAME CONDITION-COMMAND...: ok when the command succeeds
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else notok "$n" "failed: $*"; fi; }

# A fresh temp dir per suite, removed on exit along with any servers.
T=$(mktemp -d "${TMPDIR:-/tmp}/rlc-test.XXXXXX")
RLC_PIDS=""
cleanup() {
    for p in $RLC_PIDS; do kill -9 "$p" 2>/dev/null; done
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
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
        --daemonize no --logfile "$dir/log" "$@" &
    RLC_PIDS="$RLC_PIDS $!"
    i=0
    while ! redis-cli -p "$port" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1
        sleep 0.05
    done
}
