#!/bin/sh
# nginx.sh - the nginx target (SPEC.md 7.10): rlc run writes the generated
# Lua snippet, checks it with `nginx -t`, reloads a real nginx (Lua module)
# that calls a real redis-server through it; requests over the limit get
# 429 with Retry-After and RateLimit.  The identity is the target's tenant_from, never a
# header.  Re-apply writes nothing; a snippet nginx refuses is rolled back;
# rollback restores the old file; status sees a hand edit; a plan without
# tenant_from (an older rlc's) or with a source rlc check refuses is not
# deployed.  Identity from variables, costs, leases: gateway_e2e.sh.
# (owner: gateways)
. "$ROOT/tests/lib.sh"
plan 16
command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] ||
    bail_out "nginx with the Lua module installed" "run make deps"

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
mkdir -p "$T/rlc"
# nginx workers run as an unprivileged user when the master is root: they
# must be able to read the snippet.
chmod 755 "$T" "$T/rlc"
SNIP="$T/rlc/ratelimit.lua"
cat > "$T/a.rlp" <<P
policy "edge" {
  namespace = "edge"
  max_clock_skew = 250ms
}
tenant "acme" {
  limit 5/1m burst 5
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
target nginx "edge" {
  output = "$SNIP"
  redis = "primary"
  status = 429
  tenant_from = "acme"
}
P
sed -e 's/status = 429/status = 503/' "$T/a.rlp" > "$T/b.rlp"
"$RLC" compile "$T/a.rlp" -o "$T/A.json" -q && "$RLC" compile "$T/b.rlp" -o "$T/B.json" -q ||
    bail_out "compile" "see stderr"

NPORT=$(free_port)
ND="$T/nginx"; mkdir -p "$ND/body"
sed -e "s#@PORT@#$NPORT#" -e "s#@DIR@#$ND#g" -e "s#@SNIPPET@#$SNIP#" \
    "$ROOT/tests/gateway/edge.conf.in" > "$ND/nginx.conf"
export RLC_NGINX="nginx -p $ND -c $ND/nginx.conf"
nginx -p "$ND" -c "$ND/nginx.conf" > "$ND/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$NPORT/"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "nginx starts" "$(cat "$ND/stderr")"
    sleep 0.05
done
same() { cmp -s "$1" "$2"; }
burst() {   # burst N: the status codes of N requests for acme, one per line
    for _ in $(seq "$1"); do
        curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$NPORT/api/x"
    done
}

"$RLC" run -q "$T/A.json" 2> "$T/err"; r=$?
check "run: exit 0, the snippet written" eval '[ $r -eq 0 ] && grep -q "^local NS = \"edge\"" "$SNIP"'
burst 7 > "$T/codes"
check "through nginx: 5 requests pass, then 429 (limit 5/1m burst 5)" \
    eval '[ "$(grep -c ^200 "$T/codes")" -eq 5 ] && [ "$(tail -2 "$T/codes" | grep -c ^429)" -eq 2 ]'
curl -s -D "$T/h" -o /dev/null "http://127.0.0.1:$NPORT/api/x"
check "a rejection carries Retry-After and RateLimit with nothing remaining" \
    eval 'grep -qi "^Retry-After: [0-9]" "$T/h" && grep -qi "^RateLimit: \"[0-9a-f]\{16\}\";r=0;t=[0-9]" "$T/h"'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-RLC-Tenant: other' "http://127.0.0.1:$NPORT/api/x")
check "an X-RLC-Tenant header changes nothing: still 429 (tenant_from = \"acme\")" [ "$code" = 429 ]
cp "$SNIP" "$T/snipA"
"$RLC" run -q --json "$T/A.json" > "$T/re.json"; r=$?
check "re-run writes nothing" eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *0[,}]" "$T/re.json"'
"$RLC" audit verify > /dev/null; check "audit verify after the runs" [ $? -eq 0 ]

# nginx -t passes at preflight and refuses once the new snippet is there
# (the fault hook drops the marker just before the write).
cat > "$T/nginx-refuses" <<W
#!/bin/sh
case "\$*" in *-t*) [ -f "$T/refuse" ] && { echo "nginx: [emerg] refused by the suite"; exit 1; } ;; esac
exec nginx -p $ND -c $ND/nginx.conf "\$@"
W
chmod +x "$T/nginx-refuses"
RLC_NGINX="$T/nginx-refuses" RLC_FAULT=apply.gateway:cmd RLC_FAULT_CMD="touch $T/refuse" \
    "$RLC" run -q "$T/B.json" 2> "$T/err"; r=$?
rm -f "$T/refuse"
check "a snippet nginx -t refuses: exit 1, RLC3192, the old snippet back" \
    eval '[ $r -eq 1 ] && grep -q RLC3192 "$T/err" && same "$SNIP" "$T/snipA"'
# A hand edit between the read and the write: the deploy fails (RLC3190)
# instead of overwriting it, and rolls back to the bytes it checkpointed.
RLC_FAULT=apply.gateway:cmd RLC_FAULT_CMD="echo '-- edited during the deploy' >> $SNIP" \
    "$RLC" run -q "$T/B.json" 2> "$T/err"; r=$?
check "a snippet edited during the deploy: exit 1, RLC3190, nothing overwritten" \
    eval '[ $r -eq 1 ] && grep -q "RLC3190.*changed since it was read" "$T/err" && same "$SNIP" "$T/snipA"'
"$RLC" run -q "$T/B.json"; r=$?
check "run B: status 503 in the snippet" eval '[ $r -eq 0 ] && grep -q "^local STATUS = 503" "$SNIP"'
"$RLC" rollback > /dev/null 2>&1; r=$?
check "rollback restores the old snippet exactly" eval '[ $r -eq 0 ] && same "$SNIP" "$T/snipA"'
"$RLC" status "$T/A.json" > "$T/st"; r=$?
check "status: no drift" [ $r -eq 0 ]
echo "-- edited" > "$SNIP"
"$RLC" status "$T/A.json" > "$T/st"; r=$?
check "status sees a hand-edited snippet (exit 6)" eval '[ $r -eq 6 ] && grep -q "ratelimit.lua" "$T/st"'
"$RLC" audit verify > /dev/null; check "audit verify at the end" [ $? -eq 0 ]

# Plans the snippet cannot be made from.  reseal: the plan with a Python
# statement applied to it and its digest recomputed (SPEC.md 5.2), as
# anyone who can edit a plan can.
cat > "$T/reseal.py" <<EOF
import json, sys
sys.path.insert(0, "$ROOT/tests/plan")
from seal import seal
d = json.load(open(sys.argv[1]))
ng = [t for t in d["targets"] if t["kind"] == "nginx"][0]["settings"]
exec(sys.argv[3])
open(sys.argv[2], "w").write(seal(d))
EOF
"$RLC" run -q "$T/A.json" 2> "$T/err" && cp "$SNIP" "$T/before" || bail_out "run A again" "$(cat "$T/err")"
python3 "$T/reseal.py" "$T/A.json" "$T/old.json" 'del ng["tenant_from"]'
"$RLC" run -q "$T/old.json" 2> "$T/err"; r=$?
check "a plan without tenant_from is refused (exit 5, RLC3106), the snippet untouched" \
    eval '[ $r -eq 5 ] && grep -q "RLC3106.*names no tenant_from" "$T/err" && same "$SNIP" "$T/before"'
python3 "$T/reseal.py" "$T/A.json" "$T/lua.json" 'ng["tenant_from"] = "$a\"..os.exit()"'
"$RLC" run -q "$T/lua.json" 2> "$T/err"; r=$?
check "a tenant_from that is no source is refused (RLC3106), never pasted into Lua" \
    eval '[ $r -eq 5 ] && grep -q "RLC3106.*tenant_from .* is not a source" "$T/err" && same "$SNIP" "$T/before"'
python3 "$T/reseal.py" "$T/A.json" "$T/lit.json" 'ng["cost_from"] = "7"'
"$RLC" run -q "$T/lit.json" 2> "$T/err"; r=$?
check "a literal cost_from is refused (RLC3106)" \
    eval '[ $r -eq 5 ] && grep -q "RLC3106.*cost_from \"7\" is not an nginx variable: a literal" "$T/err"'
