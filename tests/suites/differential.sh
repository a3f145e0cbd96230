#!/bin/sh
# differential.sh - the Redis library and the C simulator decide alike:
# tests/drivers/differential.c replays random requests through a real
# redis-server (started here) and the simulator and compares every answer.
# FUNCTION (Redis 7) and EVALSHA (the pre-7 fallback) paths, client and
# server time; a deliberately altered library must be caught.
. "$ROOT/tests/lib.sh"
D="$ROOT/$BUILD/tests/drivers/differential"
port=$(free_port)
start_redis "$port" || { notok "differential: redis-server" "did not start"; exit 0; }

run() { # NAME ARGS...
    name=$1; shift
    if "$D" --port "$port" "$@" >"$T/out" 2>&1; then
        ok "differential $name: $(sed -n 's/^# //p' "$T/out")"
    else
        notok "differential $name" "$(cat "$T/out")"
    fi
}
run "FCALL, client time" --seed 1 --requests 20000 --mode fcall --time client
run "EVALSHA, client time" --seed 2 --requests 20000 --mode eval --time client
run "FCALL, server time" --seed 3 --requests 20000 --mode fcall --time server
run "EVALSHA, server time" --seed 4 --requests 5000 --mode eval --time server

# The test must be able to fail: a token bucket that charges one unit too
# many has to be caught, with the diverging request and both answers.
"$D" --port "$port" --seed 1 --requests 20000 --mutate >"$T/mut" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^DIVERGED at request' "$T/mut" && grep -q '  redis: ' "$T/mut" \
    && grep -q '  simulator: ' "$T/mut"; then
    ok "differential catches an altered library constant"
else
    notok "differential catches an altered library constant" "exit $rc: $(cat "$T/mut")"
fi
