#!/bin/sh
# differential.sh - the Redis library and the C simulator decide alike:
# tests/drivers/differential.c replays random requests through a real
# redis-server (started here) and the simulator and compares every answer.
# FUNCTION (Redis 7) and EVALSHA (the pre-7 fallback) paths, client and
# server time; under EVALSHA configs with their fields' twins (a deploy for
# EVALSHA, resolved by the script itself) and without (a deploy for
# FUNCTION LOAD, resolved by the whole library); policies with templates
# (`tenant *`, `group *`, `key *`) and requests naming unlisted values; a
# deliberately altered library must be caught, under both call forms.
. "$ROOT/tests/lib.sh"
D="$ROOT/$BUILD/tests/drivers/differential"
# The malformed costs and client times below (shell words, for eval).
NOW=1700000000000
COSTS='1e3 1.0 " 1" "1 " +1 0x10 -1 0 "" 2147483649 1e308 inf nan'
NOWS='1.7e12 "$NOW.5" " $NOW" -5 0x1 "" 9007199254740992'
# 5 runs, the 5 mutations, a good call, a case per cost and two per time, 6
# argument-count cases, 4 EVALSHA cases, 4 EVALSHA paths naming other
# fields than twins.
eval "set -- $COSTS"; ncost=$#
eval "set -- $NOWS"; nnow=$#
plan $((5 + 5 + 1 + ncost + 2 * nnow + 6 + 4 + 4))
port=$(free_port)
start_redis "$port" || bail_out "differential: redis-server" "did not start"

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
run "EVALSHA, configs without twins" --seed 6 --requests 5000 --mode eval --time client \
    --no-twins

# The test must be able to fail: a token bucket that charges one unit too
# many, a template's value whose ':' its counter key leaves unencoded, and
# a token bucket decided alone (tenant t0's own rule) answering one unit
# too many remaining, have to be caught, with the diverging request and
# both answers.
mutant() { # NAME FLAG...
    name=$1; shift
    "$D" --port "$port" --seed 1 --requests 20000 "$@" >"$T/mut" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -q '^DIVERGED at request' "$T/mut" && grep -q '  redis: ' "$T/mut" \
        && grep -q '  simulator: ' "$T/mut"; then
        ok "differential catches $name"
    else
        notok "differential catches $name" "exit $rc: $(cat "$T/mut")"
    fi
}
mutant "an altered library constant" --mutate
mutant "a template value's ':' left unencoded in its counter key" --mutate-template
mutant "a token bucket decided alone answering one unit too many remaining" --mutate-lone
# Under EVALSHA a listed path is decided by the script's own chunk: the
# decision's code (shared with the library) and the resolution from the
# twins (the script's own) must both be checked there.
mutant "EVALSHA: an altered library constant" --mode eval --mutate
mutant "EVALSHA: the twins' rules read with their cost one unit higher" --mode eval --mutate-twin

# Malformed arguments are RLC_BADARG, never a decision: the library left by
# a short client-time run (tenant t0 of namespace df), called by hand.
"$D" --port "$port" --seed 5 --requests 200 --mode fcall --time client > /dev/null 2>&1
K='{df:t0}:active'
call() { redis-cli -p "$port" "$@" 2>&1; }
good=$(call fcall rlc_decide 1 "$K" "" GET / 1 "$NOW" "")
if echo "$good" | head -1 | grep -qx '[01]'; then ok "rlc_decide with well-formed arguments decides"
else notok "rlc_decide with well-formed arguments decides" "$good"; fi
badarg() { # NAME ARGS...: the call answers RLC_BADARG and nothing else
    name=$1; shift
    out=$(call "$@")
    case "$out" in
    *RLC_BADARG*) ok "$name: RLC_BADARG" ;;
    *) notok "$name: RLC_BADARG" "$(echo "$out" | head -3 | tr '\n' ' ')" ;;
    esac
}
eval "set -- $COSTS"
for cost in "$@"; do
    badarg "rlc_decide cost '$cost'" fcall rlc_decide 1 "$K" "" GET / "$cost" "$NOW" ""
done
eval "set -- $NOWS"
for now in "$@"; do
    badarg "rlc_decide client time now '$now'" fcall rlc_decide 1 "$K" "" GET / 1 "$now" ""
    badarg "rlc_release client time now '$now'" fcall rlc_release 1 "$K" "" GET / L1 "$now"
done
badarg "rlc_decide without the lease argument" fcall rlc_decide 1 "$K" "" GET / 1 "$NOW"
badarg "rlc_decide without now and lease" fcall rlc_decide 1 "$K" "" GET / 1
badarg "rlc_decide with only a path" fcall rlc_decide 1 "$K" ""
badarg "rlc_decide with a seventh argument" fcall rlc_decide 1 "$K" "" GET / 1 "$NOW" "" extra
badarg "rlc_release without now" fcall rlc_release 1 "$K" "" GET / L1
badarg "rlc_release with a sixth argument" fcall rlc_release 1 "$K" "" GET / L1 "$NOW" extra
# The EVALSHA form runs the same parsing: the script (and configs with
# twins) a short EVALSHA run leaves.
sha=$("$D" --port "$port" --seed 5 --requests 200 --mode eval --time client 2>/dev/null |
    sed -n 's/^script //p')
badarg "EVALSHA decide cost '1e3'" evalsha "$sha" 1 "$K" decide "" GET / 1e3 "$NOW" ""
badarg "EVALSHA decide without the lease argument" evalsha "$sha" 1 "$K" decide "" GET / 1 "$NOW"
# The script reads the twin PATH names (SPEC.md 6.2): a PATH that names the
# meta field, a rule field or the tenant's twin is no path, as the library
# says.
for p in m s p s/x; do
    badarg "EVALSHA decide of the path '$p'" evalsha "$sha" 1 "$K" decide "$p" GET / 1 "$NOW" ""
done
# The operations an EVALSHA makes only when asked for (release, activate)
# and an unknown one.
badarg "EVALSHA with an unknown operation" evalsha "$sha" 1 "$K" bogus
out=$(call evalsha "$sha" 1 "$K" release "" GET / L1 "$NOW" | tr '\n' ' ')
[ "$out" = "0 $NOW " ] && ok "EVALSHA release answers {released, now}" ||
    notok "EVALSHA release answers {released, now}" "$out"
