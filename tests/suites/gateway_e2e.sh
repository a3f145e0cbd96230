#!/bin/sh
# gateway_e2e.sh - the nginx gateway end to end (SPEC.md 7.10): a real nginx
# with the Lua module, real redis-server, snippets written by `rlc run`.
# Identity comes only from the sources the nginx targets name: per client
# address ($remote_addr, three loopback clients 127.0.0.2-4), per API key,
# per tenant; headers a client adds (X-RLC-Tenant, X-RLC-Path, X-RLC-Cost)
# change nothing; a malformed cost or a missing identity is 400, never let
# through (0, -5, 1.5 and the rest each tried on an exhausted limit); a
# RLC_BADARG from the store is 400, not on_store_error; concurrency leases
# are given back when a request completes.  Then the policy and nginx.conf
# of SPEC.md 7.10 (the same blocks as the README's) are cut out, deployed
# and run as written, with only ports and directories changed.
. "$ROOT/tests/lib.sh"
plan 40
command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] ||
    bail_out "nginx with the Lua module installed" "run make deps"

RPORT=$(free_port)
start_redis "$RPORT" || bail_out "redis starts" "see stderr"
rc() { redis-cli -p "$RPORT" "$@"; }
export RLC_REDIS_URL="redis://127.0.0.1:$RPORT" RLC_STATE_DIR="$T/state"
R="$T/rlc"
mkdir -p "$R"
# nginx workers run as an unprivileged user when the master is root.
chmod 755 "$T" "$R"

# One policy, one nginx target per way of naming a request.
targets() {
    cat <<P
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
target nginx "ip" {
  output = "$R/ip.lua"
  redis = "primary"
  tenant_from = "public"
  path_from = ["key:\$remote_addr"]
}
target nginx "key" {
  output = "$R/key.lua"
  redis = "primary"
  tenant_from = "\$rlc_tenant"
  path_from = ["key:\$http_x_api_key"]
}
target nginx "cost" {
  output = "$R/cost.lua"
  redis = "primary"
  tenant_from = "costly"
  cost_from = "\$http_x_cost"
}
target nginx "pool" {
  output = "$R/pool.lua"
  redis = "primary"
  tenant_from = "pool"
}
P
}
{
    cat <<'P'
policy "e2e" {
  namespace = "e2e"
}
allow RLC2310 "the suite takes an API key and a cost from request headers on purpose"
tenant "public" {
  key "127.0.0.2" {
    limit 3/1m burst 3
  }
  key "127.0.0.3" {
    limit 3/1m burst 3
  }
  key "127.0.0.4" {
    limit 3/1m burst 3
  }
}
tenant "acme" {
  limit 100/1m burst 100
  key "k1" {
    limit 3/1m burst 3
  }
}
tenant "costly" {
  limit 10/1m burst 10
}
tenant "pool" {
  limit 1000/1m burst 1000
  concurrency 2 lease 30s
}
P
    targets
} > "$T/listed.rlp"
"$RLC" check "$T/listed.rlp" > "$T/check.out" 2>&1; r=$?
check "the policy checks clean: the allowed header sources raise no RLC2310" \
    eval '[ $r -eq 0 ] && ! grep -q RLC2310 "$T/check.out"'
"$RLC" compile -q "$T/listed.rlp" -o "$T/listed.json" || bail_out "compile" "see stderr"

NPORT=$(free_port)
ND="$T/nginx"
mkdir -p "$ND/body"
loc() {   # loc PATH SNIPPET [directives]: a location that runs SNIPPET
    echo "        location $1 {"
    [ -n "${3:-}" ] && echo "            $3"
    echo "            access_by_lua_file $R/$2.lua;"
    echo "            log_by_lua_file $R/$2.lua;"
    echo "            content_by_lua_block { ${4:-ngx.say(\"ok\")} }"
    echo "        }"
}
{
    nginx_conf_head "$ND" 1
    cat <<C
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
    server {
        listen 127.0.0.1:$NPORT;
C
    loc /ip/ ip
    loc /key/ key 'set $rlc_tenant acme;'
    loc /anyone/ key 'set $rlc_tenant newco;'
    loc /cost/ cost
    loc /pool/fast pool
    loc /pool/slow pool '' 'ngx.sleep(1) ngx.say("ok")'
    echo "    }"
    echo "}"
} > "$ND/nginx.conf"
export RLC_NGINX="nginx -p $ND -c $ND/nginx.conf"
nginx -p "$ND" -c "$ND/nginx.conf" > "$ND/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$NPORT/"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "nginx starts" "$(cat "$ND/stderr")"
    sleep 0.05
done
"$RLC" run -q "$T/listed.json" 2> "$T/err" || bail_out "rlc run" "$(cat "$T/err")"
setup "deployed 4 snippets to nginx on 127.0.0.1:$NPORT"

URL="http://127.0.0.1:$NPORT"
# codes N ARGS...: the status codes of N requests with curl ARGS, one line
codes() {
    _n=$1; shift
    for _ in $(seq "$_n"); do curl -s -o /dev/null -w '%{http_code} ' "$@"; done
}
# a per-address limit of 3: three pass, the fourth is 429
per_ip() {
    for a in 2 3 4; do
        got=$(codes 4 --interface "127.0.0.$a" "$URL/$1")
        check "client 127.0.0.$a ($2): its own limit, 3 pass then 429 (got $got)" \
            [ "$got" = "200 200 200 429 " ]
    done
}
per_ip ip/x "listed keys"
got=$(codes 1 --interface 127.0.0.2 -H 'X-RLC-Tenant: acme' -H 'X-RLC-Path: key:127.0.0.9' \
    -H 'X-RLC-Cost: 0' "$URL/ip/x")
check "127.0.0.2 spoofing X-RLC-Tenant, X-RLC-Path and X-RLC-Cost: still 429 (got $got)" \
    [ "$got" = "429 " ]

got=$(codes 4 -H 'X-Api-Key: k1' "$URL/key/x")
check "API key k1 (tenant from \$rlc_tenant set by nginx): 3 pass then 429 (got $got)" \
    [ "$got" = "200 200 200 429 " ]
got=$(codes 1 -H 'X-Api-Key: k1' -H 'X-RLC-Tenant: other' -H 'X-RLC-Path: key:k2' "$URL/key/x")
check "k1 spoofing X-RLC-Tenant and X-RLC-Path: still 429 (got $got)" [ "$got" = "429 " ]
got=$(codes 1 "$URL/key/x")
check "no API key: 400, never let through (got $got)" [ "$got" = "400 " ]
check "the log says why: the key variable is empty" \
    grep -q 'rlc: request rejected with 400: no key: \$http_x_api_key is empty' "$ND/error.log"
got=$(codes 3 -H 'X-Api-Key: k1' "$URL/anyone/x")
check "an unlisted tenant without tenant *: RLC_NOCONFIG, fail_open lets it through (got $got)" \
    [ "$got" = "200 200 200 " ]
check "... and the log names RLC_NOCONFIG as a store error" \
    grep -q 'rlc: rate limit store: RLC_NOCONFIG' "$ND/error.log"

# Costs: a limit of 10, spent by one request of cost 10.
got=$(codes 1 -H 'X-Cost: 10' "$URL/cost/x")$(codes 1 -H 'X-Cost: 1' "$URL/cost/x")
check "cost 10 spends the limit of 10, then cost 1 is 429 (got $got)" [ "$got" = "200 429 " ]
for c in 0 -5 1.5 1e3 0x10 +1 2147483649 99999999999 ''; do
    got=$(codes 1 -H "X-Cost: $c" "$URL/cost/x")
    check "X-Cost: '$c' on the exhausted limit is 400, never admitted (got $got)" [ "$got" = "400 " ]
done
got=$(codes 1 "$URL/cost/x")
check "no cost header with cost_from set: 400 (got $got)" [ "$got" = "400 " ]
check "the log shows the refused cost" \
    grep -q 'rlc: request rejected with 400: cost from \$http_x_cost is not an integer 1..2147483648: "1.5"' \
    "$ND/error.log"
got=$(codes 1 -H 'X-Cost: 2147483648' "$URL/cost/x")
check "cost 2^31 is a valid cost, rejected by the limit: 429 (got $got)" [ "$got" = "429 " ]

# Concurrency 2: a slot is held while a request runs, and given back when
# it completes (log phase), not when the 30 s lease runs out.
got=$(codes 50 "$URL/pool/fast" | tr ' ' '\n' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "50 sequential fast requests under concurrency 2: all 200 (got $got)" \
    [ "$got" = " 50 200;" ]
slow=""
for k in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}\n' "$URL/pool/slow" > "$T/slow.$k" &
    slow="$slow $!"
    sleep 0.1
done
# shellcheck disable=SC2086
wait $slow
got=$(cat "$T"/slow.* | sort | tr '\n' ' ')
check "3 concurrent slow requests: exactly one rejected (got $got)" [ "$got" = "200 200 429 " ]
sleep 0.3
held=0
for k in $(rc --scan --pattern '{e2e:pool}:c:*'); do
    [ "$(rc TYPE "$k")" = zset ] && held=$((held + $(rc ZCARD "$k")))
done
check "after they complete no lease is held (released, not left to expire)" [ "$held" -eq 0 ]
got=$(codes 2 "$URL/pool/fast")
check "and the pool admits again at once (got $got)" [ "$got" = "200 200 " ]

# A malformed argument found by the library itself, not by the snippet:
# the store answers RLC_BADARG, which must never fail open.  A library
# named rlc whose decide always says so stands in for such an argument.
rc FUNCTION LOAD REPLACE "#!lua name=rlc
redis.register_function('rlc_decide', function() return redis.error_reply('RLC_BADARG stand-in') end)
redis.register_function('rlc_release', function() return {0, 0} end)" > /dev/null
got=$(codes 1 --interface 127.0.0.3 "$URL/ip/y")
check "RLC_BADARG from the store: 400 under fail_open, not let through (got $got)" [ "$got" = "400 " ]
check "... logged as a rejected request" \
    grep -q 'rlc: request rejected with 400: RLC_BADARG stand-in' "$ND/error.log"

# --- templates: unlisted keys and tenants, each value its own counters -----
rc FLUSHALL > /dev/null
rm -rf "$RLC_STATE_DIR"
{
    cat <<'P'
policy "e2e" {
  namespace = "e2e"
}
allow RLC2310 "the suite takes an API key and a cost from request headers on purpose"
tenant * {
  limit 3/1m burst 3
}
tenant "public" {
  key * {
    limit 3/1m burst 3
  }
}
tenant "acme" {
  limit 100/1m burst 100
  key * {
    limit 3/1m burst 3
  }
}
tenant "costly" {
  limit 10/1m burst 10
}
tenant "pool" {
  limit 1000/1m burst 1000
  concurrency 2 lease 30s
}
P
    targets
} > "$T/templates.rlp"
if "$RLC" compile -q "$T/templates.rlp" -o "$T/templates.json" 2> "$T/err" &&
    "$RLC" run -q "$T/templates.json" 2>> "$T/err"; then
    per_ip ip/z "key * under tenant public"
    a=$(codes 4 -H 'X-Api-Key: k-zz1' "$URL/key/x")
    b=$(codes 4 -H 'X-Api-Key: k-zz2' "$URL/key/x")
    check "API keys the policy never lists, each limited by key * on its own (got $a/ $b)" \
        [ "$a/$b" = "200 200 200 429 /200 200 200 429 " ]
    got=$(codes 4 -H 'X-Api-Key: k-zz3' "$URL/anyone/x")
    check "an unlisted tenant is limited by tenant * (got $got)" [ "$got" = "200 200 200 429 " ]
else
    for a in 2 3 4; do notok "client 127.0.0.$a (key *)" "deploy failed: $(head -c 300 "$T/err")"; done
    notok "unlisted API keys" "deploy failed"
    notok "unlisted tenant" "deploy failed"
fi

# --- the documented policy and nginx.conf (SPEC.md 7.10, README) ----------
# block FILE KIND: the first ```KIND block of FILE
block() { awk -v k="$2" '$0 == "```" k { on = 1; next } on && /^```/ { exit } on { print }' "$1"; }
block "$ROOT/SPEC.md" rlp-gateway > "$T/doc.rlp"
block "$ROOT/SPEC.md" nginx > "$T/doc.conf"
block "$ROOT/README.md" rlp-gateway > "$T/readme.rlp"
block "$ROOT/README.md" nginx > "$T/readme.conf"
check "SPEC.md and the README show the same policy and nginx.conf" \
    eval '[ -s "$T/doc.rlp" ] && [ -s "$T/doc.conf" ] && cmp -s "$T/doc.rlp" "$T/readme.rlp" && cmp -s "$T/doc.conf" "$T/readme.conf"'
DD="$T/doc"
DPORT=$(free_port)
APORT=$(free_port)
mkdir -p "$DD/rlc"
chmod 755 "$DD" "$DD/rlc"
# Only paths and ports change: the snippet, the pid file, the logs, the
# listening port and the application's port.
sed -e "s#/etc/nginx/rlc/#$DD/rlc/#g" "$T/doc.rlp" > "$DD/policy.rlp"
sed -e "s#/etc/nginx/rlc/#$DD/rlc/#g" -e "s#/run/nginx.pid#$DD/nginx.pid#" \
    -e "s#/var/log/nginx/#$DD/#g" -e "s#listen 80;#listen 127.0.0.1:$DPORT;#" \
    -e "s#127.0.0.1:8081#127.0.0.1:$APORT#" "$T/doc.conf" > "$DD/nginx.conf"
mkdir -p "$DD/app"
echo app > "$DD/app/x"
(cd "$DD/app" && exec python3 -m http.server "$APORT" --bind 127.0.0.1 > "$DD/app.log" 2>&1) &
RLC_PIDS="$RLC_PIDS $!"
nginx -p "$DD" -c "$DD/nginx.conf" -t > "$DD/t.out" 2>&1; r=$?
check "the documented nginx.conf starts (nginx -t)" [ $r -eq 0 ]
nginx -p "$DD" -c "$DD/nginx.conf" -g 'daemon off;' > "$DD/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$APORT/x" ||
    ! curl -s -o /dev/null "http://127.0.0.1:$DPORT/"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "documented nginx and app start" "$(cat "$DD/stderr")"
    sleep 0.05
done
# The documented redis target has a password (env RLC_REDIS_PASSWORD, which
# the snippet reads through nginx's `env`): give the server one now.
# It is another namespace than the cases above, whose library holds their
# tenant *: a store serves one (RLC3186), so it starts from a fresh store.
rc FLUSHALL > /dev/null
rc FUNCTION FLUSH > /dev/null
rc CONFIG SET requirepass "$RLC_REDIS_PASSWORD" > /dev/null
"$RLC" compile -q "$DD/policy.rlp" -o "$DD/plan.json" 2> "$T/err" &&
    RLC_NGINX="nginx -p $DD -c $DD/nginx.conf" "$RLC" run -q "$DD/plan.json" 2>> "$T/err"; r=$?
check "the documented policy deploys to it ($(head -c 300 "$T/err"))" [ $r -eq 0 ]
# One curl for all 25 (one kept-alive connection): they take milliseconds,
# so the bucket (10/s) refills less than a request meanwhile; on a slow
# run (the suite under ASan beside others) a token or two may come back,
# so the first 20 must pass and a 429 follow, wherever the refill lands.
set --
for _ in $(seq 25); do set -- "$@" -o /dev/null "http://127.0.0.1:$DPORT/x"; done
got=$(curl -s -w '%{http_code} ' --interface 127.0.0.2 "$@")
ok200=$(echo "$got" | tr ' ' '\n' | grep -c '^200$')
check "the documented per-address limit: 20 pass, then 429 (got $got)" \
    eval '[ "$ok200" -ge 20 ] && [ "$ok200" -le 22 ] &&
          [ "$(echo "$got" | cut -d" " -f1-20 | tr " " "\n" | grep -c "^200$")" = 20 ] &&
          echo "$got" | cut -d" " -f21-23 | grep -q 429'
got=$(codes 1 --interface 127.0.0.3 "http://127.0.0.1:$DPORT/x")
check "another address is not limited by the first one's requests (got $got)" [ "$got" = "200 " ]
