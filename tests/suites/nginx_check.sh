#!/bin/sh
# nginx_check.sh - the post-deploy check through the gateway (SPEC.md
# 7.10): after an nginx deploy, rlc run sends check_requests synthetic
# requests (default 500) through a real nginx to the check location, which
# decides them on copies of the tenants' configs with fresh counters (never
# a tenant's real quota), compares every decision with the simulator and
# reports the p50/p99 round trip; a p99 over check_latency_budget (induced
# here by a location that sleeps), decisions that differ from the
# simulator (a library swapped under the gateway) or a check location
# that does not answer roll the deploy back.  The check answers only in a
# location that sets $rlc_check, only to rlc's token.
. "$ROOT/tests/lib.sh"
plan 14
command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] ||
    bail_out "nginx with the Lua module installed" "run make deps"

RPORT=$(free_port)
start_redis "$RPORT" || bail_out "redis starts" "see stderr"
rc() { redis-cli -p "$RPORT" "$@"; }
export RLC_REDIS_URL="redis://127.0.0.1:$RPORT" RLC_STATE_DIR="$T/state"
NPORT=$(free_port)
ND="$T/nginx"
R="$T/rlc"
mkdir -p "$ND/body" "$R"
chmod 755 "$T" "$R"
URL="http://127.0.0.1:$NPORT"

policy() {   # policy CHECK-PATH [SETTINGS]: the policy, its check at CHECK-PATH
    cat <<P
policy "chk" {
  namespace = "chk"
}
tenant * {
  limit 3/1m
}
tenant "acme" {
  limit 5/1m
  key "k1" {
    limit 2/1m algorithm fixed_window
  }
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
target nginx "edge" {
  output = "$R/edge.lua"
  redis = "primary"
  tenant_from = "acme"
  check_url = "$URL$1"
  ${2:-}
}
P
}
policy /rlc-check > "$T/a.rlp"
policy /rlc-check 'check_requests = 40' | sed -e 's#limit 5/1m#limit 6/1m#' > "$T/b.rlp"
policy /rlc-slow 'check_latency_budget = 20ms' | sed -e 's#limit 5/1m#limit 7/1m#' > "$T/slow.rlp"
policy /nowhere | sed -e 's#limit 5/1m#limit 8/1m#' > "$T/nowhere.rlp"
for p in a b slow nowhere; do
    "$RLC" compile -q "$T/$p.rlp" -o "$T/$p.json" || bail_out "compile $p" "see stderr"
done
{ nginx_conf_head "$ND" 2; cat <<C; } > "$ND/nginx.conf"
    server {
        listen 127.0.0.1:$NPORT;
        location / {
            access_by_lua_file $R/edge.lua;
            content_by_lua_block { ngx.say("app") }
        }
        location = /rlc-check {
            allow 127.0.0.1;
            deny all;
            set \$rlc_check 1;
            access_by_lua_file $R/edge.lua;
        }
        # The same, 30 ms slower: a breach of a 20 ms budget on purpose.
        location = /rlc-slow {
            set \$rlc_check 1;
            rewrite_by_lua_block { ngx.sleep(0.03) }
            access_by_lua_file $R/edge.lua;
        }
    }
}
C
export RLC_NGINX="nginx -p $ND -c $ND/nginx.conf"
nginx -p "$ND" -c "$ND/nginx.conf" > "$ND/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "$URL/"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "nginx starts" "$(cat "$ND/stderr")"
    sleep 0.05
done

"$RLC" run --json "$T/a.json" > "$T/a.out" 2> "$T/a.err"; r=$?
check "deploy with check_url: exit 0 ($(tail -c 300 "$T/a.err"))" [ $r -eq 0 ]
check "... 500 synthetic requests by default, with p50 <= p99 round trips in --json" \
    eval 'python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))[\"gateway_checks\"][0]
assert c[\"target\"] == \"edge\" and c[\"requests\"] == 500, c
assert 0 < c[\"p50_ms\"] <= c[\"p99_ms\"] and c[\"redis_p50_ms\"] <= c[\"redis_p99_ms\"], c
" "$T/a.out"'
check "... and the progress line says so" \
    grep -q "^rlc:       500 synthetic requests through $URL/rlc-check decided as the simulator predicts; round trip p50 [0-9.]* ms, p99 [0-9.]* ms" "$T/a.err"
check "no tenant's real counter was touched: none exists after the check" \
    eval '[ -z "$(rc --scan --pattern "{chk:acme}:c:*")" ] && [ -n "$(rc --scan --pattern "{chk:acme}:g:*:c:*")" ]'
got=$(for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' "$URL/x"; done)
check "acme's real quota is whole: 5 pass, then 429 (got $got)" [ "$got" = "200 200 200 200 200 429 " ]
TOKEN=$(cat "$RLC_STATE_DIR/nginx-check-edge.token")
check "the check token is kept in the state directory, mode 0600" \
    eval '[ ${#TOKEN} -eq 32 ] && [ "$(stat -c %a "$RLC_STATE_DIR/nginx-check-edge.token")" = 600 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-RLC-Check: 0123' -H 'X-RLC-Check-Probe: 1' "$URL/rlc-check")
code2=$(curl -s -o /dev/null -w '%{http_code}' -H "X-RLC-Check: $TOKEN" -H 'X-RLC-Check-Tenant: acme' -H 'X-RLC-Check-Nonce: ab' "$URL/x")
check "the check location refuses another token (403); elsewhere the token changes nothing: acme's spent quota says 429 (got $code, $code2)" \
    eval '[ "$code" = 403 ] && [ "$code2" = 429 ]'
"$RLC" run -q --json "$T/b.json" > "$T/b.out" 2> "$T/b.err"; r=$?
check "check_requests = 40: exactly 40 sent (exit $r)" \
    eval '[ $r -eq 0 ] && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"gateway_checks\"][0][\"requests\"] == 40" "$T/b.out"'

# A breach on purpose: every check request 30 ms slower, budget 20 ms.
cp "$R/edge.lua" "$T/edge.before"
"$RLC" run -q --json "$T/slow.json" > "$T/slow.out" 2> "$T/slow.err"; r=$?
check "p99 over check_latency_budget: exit 1, RLC3220 with the figures, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "RLC3220.*target edge: 500 synthetic requests through $URL/rlc-slow: p99 round trip [0-9.]* ms is over the budget check_latency_budget = 20ms" "$T/slow.err" && cmp -s "$R/edge.lua" "$T/edge.before" && grep -q "\"result\":\"rolled_back\"" "$T/slow.out"'
check "... the rollback leaves no journal, and the tenant's config is the old one again" \
    eval '[ ! -e "$RLC_STATE_DIR/journal.jsonl" ] && "$RLC" status "$T/b.json"'

# A mismatch on purpose: once Redis's own verification has passed, the
# library is swapped for one that admits everything with 5 remaining.
FAKE="#!lua name=rlc
redis.register_function('rlc_decide', function() return {1, '', 5, 0, 0, 1} end)
redis.register_function('rlc_release', function() return {0, 0} end)"
RLC_FAULT=verify:cmd RLC_FAULT_CMD="redis-cli -p $RPORT FUNCTION LOAD REPLACE \"\$RLC_FAKE\" > /dev/null" \
    RLC_FAKE="$FAKE" "$RLC" run -q "$T/slow.json" > /dev/null 2> "$T/mm.err"; r=$?
check "decisions through the gateway differ from the simulator: exit 1, RLC3184 naming the request, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "RLC3184.*target edge: through the gateway, tenant .*request 1: nginx said allow (remaining 5), the simulator allow (remaining [0-9]*)" "$T/mm.err" && cmp -s "$R/edge.lua" "$T/edge.before"'
check "... the library is rlc's again: acme's limit answers (not the stand-in)" \
    eval '[ "$(rc FCALL rlc_decide 1 "{chk:acme}:active" "" GET / 1 "" "" | sed -n 3p)" != 5 ]'

# A check_url that is no check location (the application's, here, whose
# snippet decides the request as any other): the deploy cannot be checked.
"$RLC" run -q "$T/nowhere.json" > /dev/null 2> "$T/nw.err"; r=$?
check "a check_url that is no check location: exit 1, RLC3221 with nginx's answer on one line and what the location needs" \
    eval '[ $r -eq 1 ] && grep -q "RLC3221 target edge: GET $URL/nowhere: HTTP 429: <html> *<head><title>429 Too Many Requests.* (the check location must set \$rlc_check to 1" "$T/nw.err" && cmp -s "$R/edge.lua" "$T/edge.before"'

# nginx stopped: the deploy commits, the check is skipped and said.
kill -TERM "$(cat "$ND/nginx.pid")"
i=0; while [ -s "$ND/nginx.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$RLC" run -q --json "$T/nowhere.json" > "$T/down.out" 2> "$T/down.err"; r=$?
check "nginx down: exit 0, the note says the check did not run, gateway_checks says skipped" \
    eval '[ $r -eq 0 ] && grep -q "note: target edge: reload skipped: nginx is not running.*; the post-deploy check through $URL/nowhere did not run" "$T/down.err" && grep -q "\"skipped\":\"nginx is not running\"" "$T/down.out"'
