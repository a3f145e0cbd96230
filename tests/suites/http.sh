#!/bin/sh
# http.sh - rlc run / diff / status / rollback on an http target (SPEC.md
# 7.9) against a real gateway: nginx with its Lua module running the admin
# API of tests/gateway/admin.lua (ETags, If-Match / If-None-Match honoured,
# bearer token) on a free loopback port.  Apply, O(changed) re-apply,
# dropped tenants deleted, diff exit codes, drift after a hand edit, exact
# rollback, a concurrent writer (412), rlc killed or failing at every point
# (between two entries too), wrong token, unreachable URL; every fault case
# ends with a dump equal to exactly the old or the new state and `rlc audit
# verify` passing.  (owner: gateways)
. "$ROOT/tests/lib.sh"
plan 24
command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] ||
    bail_out "nginx with the Lua module installed" "run make deps"

cat > "$T/a.rlp" <<'P'
policy "edge" {
  namespace = "edge"
}
tier basic {
  limit 100/1m
}
tenant "acme" tier basic {
  limit 50/1s
}
tenant "hooli" tier basic {
}
tenant "we/ird co" tier basic {
}
target http "edge" {
  url = env("GW_URL")
  token = env("GW_TOKEN")
  timeout = 2s
}
P
sed -e 's#limit 50/1s#limit 60/1s#' "$T/a.rlp" > "$T/b.rlp"
sed -e '/^tenant "hooli"/,/^}/d' "$T/b.rlp" > "$T/c.rlp"
for p in a b c; do
    P=$(echo $p | tr abc ABC)
    "$RLC" compile "$T/$p.rlp" -o "$T/$P.json" -q || bail_out "compile $P" "failed"
done

start_gateway sekrit-token || bail_out "gateway (nginx + Lua) starts" "see stderr"
export GW_URL="$GW_BASE" GW_TOKEN=sekrit-token
export RLC_STATE_DIR="$T/state"
H="Authorization: Bearer sekrit-token"

# dump: every entry of the gateway with its body, sorted.
dump() {
    python3 - "$GW_URL" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def get(p):
    r = urllib.request.Request(base + "/" + p, headers={"Authorization": "Bearer sekrit-token"})
    return urllib.request.urlopen(r).read().decode()
for n in sorted(json.loads(get("tenants"))):
    print(n, get("tenants/" + n))
PY
}
etag() { curl -s -o /dev/null -D - -H "$H" "$GW_URL/tenants/$1" | tr -d '\r' | sed -n 's/^ETag: //Ip'; }
same() { cmp -s "$1" "$2"; }
audit_ok() { "$RLC" audit verify > /dev/null 2>&1; }
wipe() {
    for n in $(curl -s -H "$H" "$GW_URL/tenants" | tr -d '[]"' | tr ',' ' '); do
        curl -s -X DELETE -H "$H" "$GW_URL/tenants/$n" > /dev/null
    done
}
fresh() { wipe; rm -rf "$RLC_STATE_DIR"; "$RLC" run -q "$T/A.json"; }

# --- apply ---------------------------------------------------------------------
"$RLC" run -q --json "$T/A.json" > "$T/runA.json"; r=$?
dump > "$T/stateA"
check "run A: exit 0, three entries" eval '[ $r -eq 0 ] && [ $(wc -l < "$T/stateA") -eq 3 ]'
check "an entry's path encodes the tenant name" grep -q '^we%2Fird%20co {"name":"we/ird co"' "$T/stateA"
python3 - "$T/A.json" "$T/stateA" > "$T/canon.out" <<'PY'
import json, sys, urllib.parse
plan = json.load(open(sys.argv[1]))
live = dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[2]))
for t in plan["tenants"]:
    want = json.dumps({"name": t["name"], "version": t["version"], "rules": t["rules"]},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    print("ok" if live.get(urllib.parse.quote(t["name"], safe="-._~")) == want else "bad " + t["name"])
PY
check "bodies are the plan's canonical tenant configs" eval '! grep -q bad "$T/canon.out" && [ $(grep -c ok "$T/canon.out") -eq 3 ]'
check "audit verify after run A" audit_ok
tag=$(etag hooli)
"$RLC" run -q --json "$T/A.json" > "$T/rerun.json"; r=$?
check "re-run of the same plan writes nothing" \
    eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *0[,}]" "$T/rerun.json" && [ "$(etag hooli)" = "$tag" ]'

# --- diff, re-apply, drop --------------------------------------------------------
"$RLC" diff "$T/A.json" > /dev/null; r=$?
check "diff of the applied plan: exit 0" [ $r -eq 0 ]
"$RLC" diff "$T/C.json" > "$T/diffC"; r=$?
check "diff C: exit 10, acme changed and hooli removed" \
    eval '[ $r -eq 10 ] && grep -q "tenant acme on edge: changed" "$T/diffC" && grep -q "tenant hooli on edge: removed" "$T/diffC"'
"$RLC" run -q --json "$T/B.json" > "$T/runB.json"; r=$?
check "run B (one tenant changed) writes exactly one entry" \
    eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *1[,}]" "$T/runB.json" && [ "$(etag hooli)" = "$tag" ]'
"$RLC" run -q "$T/C.json"; r=$?
dump > "$T/stateC"
check "run C deletes the dropped tenant's entry" eval '[ $r -eq 0 ] && ! grep -q "^hooli " "$T/stateC"'
check "audit verify after runs B and C" audit_ok

# --- status and drift ---------------------------------------------------------------
"$RLC" status > "$T/st"; r=$?
check "status: exit 0, no drift" eval '[ $r -eq 0 ] && grep -q "drift: 0" "$T/st"'
curl -s -X PUT -H "$H" --data '{"name":"acme","rules":[],"version":"x"}' "$GW_URL/tenants/acme" > /dev/null
"$RLC" status > "$T/st"; r=$?
check "status after a hand edit: exit 6 naming the tenant" eval '[ $r -eq 6 ] && grep -q "drift: tenant acme" "$T/st"'
"$RLC" run -q "$T/C.json"; r=$?
dump > "$T/now"
check "re-running the plan repairs the edit" eval '[ $r -eq 0 ] && same "$T/now" "$T/stateC"'

# --- rollback ----------------------------------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
"$RLC" run -q "$T/C.json"; dump > "$T/new"
"$RLC" rollback > /dev/null 2>&1; r=$?
dump > "$T/back"
check "rollback restores exactly the old entries" eval '[ $r -eq 0 ] && same "$T/old" "$T/back" && ! same "$T/old" "$T/new"'
check "audit verify after rollback" audit_ok

# --- a concurrent writer -------------------------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
RLC_FAULT=apply.gateway:cmd \
RLC_FAULT_CMD="curl -s -X PUT -H '$H' --data concurrent $GW_URL/tenants/acme >/dev/null" \
    "$RLC" run -q "$T/C.json" 2> "$T/err"; r=$?
dump > "$T/now"
check "a concurrent write is a 412: exit 1, RLC3190 naming the entry" \
    eval '[ $r -eq 1 ] && grep -q RLC3190 "$T/err" && grep -q "tenants/acme" "$T/err"'
check "after the conflict the gateway holds exactly the old state" same "$T/old" "$T/now"
check "the bearer token never appears in messages" eval '! grep -q sekrit-token "$T/err"'

# --- rlc killed or failing at every point (ordinals: between entries too) -------------
fresh > /dev/null 2>&1
dump > "$T/old"
"$RLC" run -q "$T/C.json"; dump > "$T/new"
fresh > /dev/null 2>&1
rm -f "$T/trace"
RLC_FAULT_TRACE="$T/trace" "$RLC" run -q "$T/C.json"
npoints=$(wc -l < "$T/trace")
check "two entries give two apply.gateway points" [ "$(grep -c apply.gateway "$T/trace")" -eq 2 ]
bad=""
i=1
while [ $i -le "$npoints" ]; do
    for mode in kill fail; do
        fresh > /dev/null 2>&1
        RLC_FAULT="$i:$mode" "$RLC" run -q "$T/C.json" 2>/dev/null
        "$RLC" run --dry-run -q "$T/C.json" > /dev/null 2>&1   # recovers
        dump > "$T/now"
        res=other
        same "$T/now" "$T/old" && res=old
        same "$T/now" "$T/new" && res=new
        audit_ok; av=$?
        [ -f "$RLC_STATE_DIR/journal.jsonl" ] && jr=left || jr=none
        [ $res = other ] || [ $av -ne 0 ] || [ $jr = left ] && bad="$bad $i:$mode($res,audit $av,journal $jr)"
    done
    i=$((i + 1))
done
check "rlc killed or failing at each of $npoints points ends in the old or new state${bad:+:$bad}" [ -z "$bad" ]

# --- refusals -------------------------------------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
GW_TOKEN=wrong "$RLC" run -q --state-dir "$T/s-tok" "$T/C.json" 2> "$T/err"; r=$?
dump > "$T/now"
check "wrong token: refused at preflight (exit 5, RLC3152), nothing written" \
    eval '[ $r -eq 5 ] && grep -q RLC3152 "$T/err" && same "$T/old" "$T/now"'
GW_URL="http://127.0.0.1:$(free_port)/admin" "$RLC" run -q --state-dir "$T/s-unr" "$T/C.json" 2> "$T/err"; r=$?
check "unreachable URL: exit 5, RLC3151 naming it" eval '[ $r -eq 5 ] && grep -q RLC3151 "$T/err" && grep -q "127.0.0.1" "$T/err"'
"$RLC" run -q --state-dir "$T/s-ov" --target "edge=$GW_BASE" "$T/C.json"; r=$?
check "--target NAME=URL overrides the url" [ $r -eq 0 ]
"$RLC" run -q --state-dir "$T/s-ov2" --target "edge=http://u:p@127.0.0.1:1/x" "$T/C.json" 2> "$T/err"; r=$?
check "--target refuses credentials in the URL (RLC3150)" eval '[ $r -ne 0 ] && grep -q RLC3150 "$T/err"'
