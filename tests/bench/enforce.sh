#!/bin/sh
# enforce.sh - the enforcement benchmark of `make bench`: starts a
# redis-server on a free port (pinned to CPU 0 when taskset and two CPUs
# exist, the client to CPU 1), runs tests/bench/enforce.c, stops the server.
# Figures, not a test: exits 0 whatever it measures.
#
#   BUILD=build sh tests/bench/enforce.sh     BENCH_SECONDS=S per figure (2)
#   BENCH_MEM_KEYS=N      distinct values per algorithm kind (100 000)
#   BENCH_EXPIRY_KEYS=N   distinct values of the expiry figure (1 000 000)
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$ROOT/$BUILD/tests/bench/enforce"
[ -x "$BIN" ] || { echo "bench: $BIN missing (run make bench)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/rlc-bench.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
srv="" cli=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    srv="taskset -c 0" cli="taskset -c 1"
fi
$srv redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize no --logfile "$dir/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "bench: redis-server did not start" >&2; exit 2; }
    sleep 0.05
done
echo "== enforcement (redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'))"
$cli "$BIN" --port "$port" --seconds "${BENCH_SECONDS:-2}"
echo "== exact sliding window"
$cli "$ROOT/$BUILD/tests/bench/sliding" --port "$port" --seconds "${BENCH_SECONDS:-2}"
echo "== templates: unlisted tenants and keys, memory per value, expiry ($(uptime | sed 's/.*load/load/'))"
$cli "$ROOT/$BUILD/tests/bench/templates" --port "$port" --seconds "${BENCH_SECONDS:-2}" \
    --mem-keys "${BENCH_MEM_KEYS:-100000}" --expiry-keys "${BENCH_EXPIRY_KEYS:-1000000}"
