#!/bin/sh
# etcd.sh - rlc run / diff / status / rollback on an etcd target (SPEC.md
# 7.9) against a real etcd 3.4 started on free loopback ports: apply,
# O(changed) re-apply, dropped tenants deleted, diff exit codes, drift after
# a hand edit, exact rollback, a concurrent writer during apply, rlc killed
# or failing at every step, etcd killed mid-apply, the lease lock, an
# unreachable endpoint.  Every fault case ends with a full range dump equal
# to exactly the old or exactly the new state, and `rlc audit verify`
# passing.  (owner: gateways)
. "$ROOT/tests/lib.sh"
plan 54
command -v etcd >/dev/null || bail_out "etcd installed" "run make deps"

# Plans: A = three tenants (one with a name that needs encoding); B = acme
# retuned; C = B without hooli.
cat > "$T/a.rlp" <<'P'
policy "cfg" {
  namespace = "cfg"
}
tier basic {
  limit 100/1m
}
tenant "acme" tier basic {
  limit 50/1s
  group "team-a" {
    limit 20/1s
  }
}
tenant "hooli" tier basic {
}
tenant "we/ird co" tier basic {
  route GET "/v1/*" { limit 5/1s }
}
target etcd "config" {
  endpoints = [env("ETCD_URL")]
  prefix = "/gw/"
  timeout = 2s
}
P
sed -e 's#limit 50/1s#limit 60/1s#' -e 's#limit 20/1s#limit 25/1s#' "$T/a.rlp" > "$T/b.rlp"
sed -e '/^tenant "hooli"/,/^}/d' "$T/b.rlp" > "$T/c.rlp"
for p in a b c; do
    P=$(echo $p | tr abc ABC)
    "$RLC" compile "$T/$p.rlp" -o "$T/$P.json" -q || bail_out "compile $P" "failed"
done

start_etcd || bail_out "etcd starts" "no /health within 10 s"
export ETCD_URL="$ETCD_ENDPOINT"
export RLC_STATE_DIR="$T/state"
E() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" "$@"; }

# dump: every key under /gw/cfg/ but the lock and the audit anchor (the
# executor's own), with its value, sorted: the durable state of the target.
dump() {
    E get --prefix /gw/cfg/ -w json | python3 -c '
import base64, json, sys
d = json.load(sys.stdin)
for kv in sorted(d.get("kvs", []), key=lambda kv: kv["key"]):
    k = base64.b64decode(kv["key"]).decode()
    if k in ("/gw/cfg/deploy/lock", "/gw/cfg/audit/head"): continue
    print(k, base64.b64decode(kv.get("value", "")).decode())'
}
modrev() {
    E get "$1" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'
}
same() { cmp -s "$1" "$2"; }
audit_ok() { "$RLC" audit verify > /dev/null 2>&1; }
fresh() {
    E del --prefix /gw/ > /dev/null
    rm -rf "$RLC_STATE_DIR"
    "$RLC" run -q "$T/A.json"
}

# --- apply ---------------------------------------------------------------------
dump > "$T/empty"
"$RLC" run --dry-run -q "$T/A.json"; r=$?
dump > "$T/after-dry"
check "dry run writes nothing" eval '[ $r -eq 0 ] && same "$T/empty" "$T/after-dry"'
# libcurl is loaded when an HTTP client is first needed: one that is not
# there is an error naming it, before anything is written.
mkdir -p "$T/nocurl" && : > "$T/nocurl/libcurl.so.4"
LD_LIBRARY_PATH="$T/nocurl" "$RLC" run -q "$T/A.json" 2> "$T/nocurl.err"; r=$?
dump > "$T/after-nocurl"
check "libcurl that cannot be loaded: exit 5, RLC3151 naming it, nothing written" \
    eval '[ $r -eq 5 ] && grep -q "RLC3151.*cannot load libcurl, which HTTP clients need: .*libcurl.so.4" "$T/nocurl.err" && same "$T/empty" "$T/after-nocurl"'
"$RLC" run -q --json "$T/A.json" > "$T/runA.json"; r=$?
dump > "$T/stateA"
check "run A: exit 0" [ $r -eq 0 ]
check "run A: three tenant keys and the applied state" \
    eval '[ $(grep -c "^/gw/cfg/tenants/" "$T/stateA") -eq 3 ] && grep -q "^/gw/cfg/deploy/state " "$T/stateA"'
check "a tenant name is percent-encoded in its key" grep -q '^/gw/cfg/tenants/we%2Fird%20co {"name":"we/ird co"' "$T/stateA"
# Each value is the canonical {"name","version","rules"} of the plan's tenant.
python3 - "$T/A.json" "$T/stateA" > "$T/canon.out" <<'PY'
import json, sys, urllib.parse
plan = json.load(open(sys.argv[1]))
live = dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[2]))
for t in plan["tenants"]:
    want = json.dumps({"name": t["name"], "version": t["version"], "rules": t["rules"]},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    key = "/gw/cfg/tenants/" + urllib.parse.quote(t["name"], safe="-._~")
    print("ok" if live.get(key) == want else "bad " + key)
PY
check "values are the plan's canonical tenant configs" eval '! grep -q bad "$T/canon.out" && [ $(grep -c ok "$T/canon.out") -eq 3 ]'
check "audit verify after run A" audit_ok

rev=$(modrev /gw/cfg/tenants/hooli)
"$RLC" run -q --json "$T/A.json" > "$T/rerunA.json"; r=$?
check "re-run of the same plan writes nothing" \
    eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *0[,}]" "$T/rerunA.json" && [ "$(modrev /gw/cfg/tenants/hooli)" = "$rev" ]'

# --- diff ----------------------------------------------------------------------
"$RLC" diff "$T/A.json" > "$T/diffA"; r=$?
check "diff of the applied plan: exit 0" eval '[ $r -eq 0 ] && grep -q "0 of 3 tenants change" "$T/diffA"'
"$RLC" diff "$T/C.json" > "$T/diffC"; r=$?
check "diff C: exit 10, acme changed and hooli removed" \
    eval '[ $r -eq 10 ] && grep -q "tenant acme on config: changed" "$T/diffC" && grep -q "tenant hooli on config: removed" "$T/diffC"'
check "diff C names the changed limit with its old and new count" \
    eval 'grep -q "was: .*\"count\":50" "$T/diffC" && grep -q "now: .*\"count\":60" "$T/diffC"'
# The plan names a rule's subject below the tenant in one string (SPEC.md
# 5.5): the diff names it so, and the tenant's own limit as the tenant.
check "diff C names the changed group limit by its subject, the tenant's as the tenant" \
    eval 'grep -q "changed [0-9a-f]\{16\} rate on group:team-a: counter" "$T/diffC" && grep -q "changed [0-9a-f]\{16\} rate on (tenant): counter" "$T/diffC"'
ETCD_URL=http://127.0.0.1:1 "$RLC" diff "$T/C.json" > /dev/null 2> "$T/err"; r=$?
check "diff against an unreachable etcd: exit 1, RLC3151" eval '[ $r -eq 1 ] && grep -q RLC3151 "$T/err"'

# --- re-apply one changed tenant, then drop one ---------------------------------
rev=$(modrev /gw/cfg/tenants/hooli)
"$RLC" run -q --json "$T/B.json" > "$T/runB.json"; r=$?
check "run B (one tenant changed) writes exactly one key" \
    eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *1[,}]" "$T/runB.json" && [ "$(modrev /gw/cfg/tenants/hooli)" = "$rev" ]'
dump > "$T/stateB"
"$RLC" run -q --json "$T/C.json" > "$T/runC.json"; r=$?
dump > "$T/stateC"
check "run C deletes the dropped tenant's key" \
    eval '[ $r -eq 0 ] && ! grep -q "^/gw/cfg/tenants/hooli " "$T/stateC" && grep -q "\"keys_written\": *1[,}]" "$T/runC.json"'
check "audit verify after runs B and C" audit_ok

# --- status and drift ------------------------------------------------------------
"$RLC" status > "$T/st"; r=$?
check "status after a deploy: exit 0, no drift" eval '[ $r -eq 0 ] && grep -q "drift: 0" "$T/st"'
E put /gw/cfg/tenants/acme '{"name":"acme","rules":[],"version":"x"}' > /dev/null
E put /gw/cfg/tenants/intruder 'x' > /dev/null
"$RLC" status > "$T/st"; r=$?
check "status after a hand edit with etcdctl: exit 6 naming the tenant" \
    eval '[ $r -eq 6 ] && grep -q "drift: tenant acme" "$T/st" && grep -q "drift: key /gw/cfg/tenants/intruder" "$T/st"'
"$RLC" status "$T/C.json" > /dev/null; r=$?
check "status PLAN sees the same drift" [ $r -eq 6 ]
E del /gw/cfg/tenants/intruder > /dev/null
# A valid config of another version (acme of plan A while C is applied):
# without a plan the digest of the versions tells; with the applied plan,
# the tenant is named.
python3 - "$T/A.json" > "$T/acmeA" <<'PY'
import json, sys
t = [t for t in json.load(open(sys.argv[1]))["tenants"] if t["name"] == "acme"][0]
print(json.dumps({"name": t["name"], "version": t["version"], "rules": t["rules"]},
                 sort_keys=True, separators=(",", ":"), ensure_ascii=True), end="")
PY
E put /gw/cfg/tenants/acme "$(cat "$T/acmeA")" > /dev/null
"$RLC" status > "$T/st"; r=$?
check "status: a valid config of another version is drift (exit 6, versions differ)" \
    eval '[ $r -eq 6 ] && grep -q "versions differ from the applied plan" "$T/st"'
"$RLC" status "$T/C.json" > "$T/st"; r=$?
check "status with the applied plan names the tenant" \
    eval '[ $r -eq 6 ] && grep -q "drift: tenant acme: version differs from the applied one" "$T/st"'
"$RLC" run -q "$T/C.json"; r=$?
"$RLC" status > /dev/null; r2=$?
dump > "$T/now"
check "re-running the plan repairs the drift" eval '[ $r -eq 0 ] && [ $r2 -eq 0 ] && same "$T/stateC" "$T/now"'
# Without a plan, --target and --only choose among the last deploy's
# targets as they would among a plan's; neither is silently ignored.
"$RLC" status --target "config=$ETCD_URL" > /dev/null; r=$?
check "status --target NAME=SPEC without a plan: reaches SPEC (exit 0)" [ $r -eq 0 ]
"$RLC" status --target config=http://127.0.0.1:1 > /dev/null 2> "$T/err"; r=$?
check "status --target to an unreachable etcd without a plan: exit 1, RLC3151" \
    eval '[ $r -eq 1 ] && grep -q RLC3151 "$T/err"'
"$RLC" status --target nosuch=http://127.0.0.1:1 > /dev/null 2> "$T/err"; r=$?
check "status --target naming no recorded target: exit 1, said so" \
    eval '[ $r -eq 1 ] && grep -q "nosuch: the last deploy had no" "$T/err"'
"$RLC" status --only nosuch > /dev/null 2> "$T/err"; r=$?
check "status --only selecting none of the recorded targets: exit 1, said so" \
    eval '[ $r -eq 1 ] && grep -q "selects none of the last deploy" "$T/err"'
"$RLC" rollback --target "config=$ETCD_URL" > /dev/null 2> "$T/err"; r=$?
check "rollback --target is refused (exit 2): a checkpoint goes back where it was read" \
    eval '[ $r -eq 2 ] && grep -q "rollback restores every target" "$T/err"'

# --- rollback ----------------------------------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
"$RLC" run -q "$T/C.json"
dump > "$T/new"
"$RLC" rollback > /dev/null 2>&1; r=$?
dump > "$T/back"
check "rollback restores exactly the old range (values and absence)" eval '[ $r -eq 0 ] && same "$T/old" "$T/back" && ! same "$T/old" "$T/new"'
check "audit verify after rollback" audit_ok
"$RLC" run -q "$T/C.json"
"$RLC" run -q "$T/B.json"
"$RLC" rollback "$(ls "$RLC_STATE_DIR/checkpoints" | sort | sed -n 2p | sed 's/\.json$//')" \
    > /dev/null 2> "$T/err"; r=$?
check "rollback of an older checkpoint after a later deploy: refused (exit 8)" \
    eval '[ $r -eq 8 ] && grep -q RLC3165 "$T/err"'

# --- a concurrent writer during apply ---------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
RLC_FAULT=apply.gateway:cmd \
RLC_FAULT_CMD="ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL put /gw/cfg/tenants/acme concurrent >/dev/null" \
    "$RLC" run -q "$T/C.json" 2> "$T/err"; r=$?
dump > "$T/now"
check "a concurrent write makes the txn fail: exit 1, RLC3190 naming the key" \
    eval '[ $r -eq 1 ] && grep -q RLC3190 "$T/err" && grep -q "/gw/cfg/tenants/acme" "$T/err"'
check "after the concurrent write the range is exactly the old state" same "$T/old" "$T/now"
check "audit verify after the conflict" audit_ok

# --- rlc killed or failing at every step -------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
"$RLC" run -q "$T/C.json"; dump > "$T/new"
fresh > /dev/null 2>&1
RLC_FAULT_TRACE="$T/trace" "$RLC" run -q "$T/C.json"
steps=$(awk '{print $2}' "$T/trace" | sort -u)
check "the fault trace lists the etcd apply step" grep -q 'apply.gateway' "$T/trace"
bad=""
for step in $steps; do
    for mode in kill fail; do
        fresh > /dev/null 2>&1
        RLC_FAULT="$step:$mode" "$RLC" run -q "$T/C.json" 2>/dev/null
        "$RLC" run --dry-run -q "$T/C.json" > /dev/null 2>&1   # recovers an interrupted deploy
        dump > "$T/now"
        res=other
        same "$T/now" "$T/old" && res=old
        same "$T/now" "$T/new" && res=new
        audit_ok; av=$?
        [ -f "$RLC_STATE_DIR/journal.jsonl" ] && jr=left || jr=none
        if [ $res = other ] || [ $av -ne 0 ] || [ $jr = left ]; then
            bad="$bad $step:$mode($res,audit $av,journal $jr)"
        fi
    done
done
check "rlc killed or failing at each step ends in exactly the old or new state${bad:+:$bad}" [ -z "$bad" ]
"$RLC" run -q "$T/C.json"; r=$?
dump > "$T/now"
check "after the fault runs a deploy succeeds" eval '[ $r -eq 0 ] && same "$T/now" "$T/new"'

# --- etcd killed mid-apply ------------------------------------------------------------
fresh > /dev/null 2>&1
dump > "$T/old"
RLC_FAULT=apply.gateway:cmd RLC_FAULT_CMD="kill -9 $ETCD_PID" RLC_TIMEOUT_MS=1000 \
    "$RLC" run -q "$T/C.json" 2> "$T/err"; r=$?
# If rlc died before the hook fired, etcd is still up: stop it here, or the
# wait would never return; the check below then fails on r and the error.
kill -9 "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null
check "etcd killed mid-apply: exit 1, the journal is kept" \
    eval '[ $r -eq 1 ] && [ -f "$RLC_STATE_DIR/journal.jsonl" ] && grep -q RLC3151 "$T/err"'
start_etcd "$ETCD_PORT" "$ETCD_PEER_PORT" || bail_out "etcd restarts" "no /health within 10 s"
"$RLC" rollback > "$T/st" 2>&1
dump > "$T/now"
check "after etcd restarts, recovery restores exactly the old state" \
    eval 'same "$T/old" "$T/now" && grep -q "interrupted deploy" "$T/st" && [ ! -f "$RLC_STATE_DIR/journal.jsonl" ]'
"$RLC" run -q "$T/C.json"; r=$?
dump > "$T/now"
check "and the next run applies the plan" eval '[ $r -eq 0 ] && same "$T/new" "$T/now"'
check "audit verify after etcd was killed" audit_ok

# --- the lock ---------------------------------------------------------------------------
fresh > /dev/null 2>&1
lease=$(E lease grant 60 | awk '{print $2}')
E put --lease="$lease" /gw/cfg/deploy/lock \
    'deadbeef|{"host":"ci-7","pid":4242,"run":"r-other","since_ms":1,"user":"alice"}' > /dev/null
dump > "$T/old"
"$RLC" run -q "$T/C.json" 2> "$T/err"; r=$?
dump > "$T/now"
check "lock held by another run: exit 4, RLC3160 naming the holder" \
    eval '[ $r -eq 4 ] && grep -q RLC3160 "$T/err" && grep -q "alice@ci-7 pid 4242" "$T/err" && same "$T/old" "$T/now"'
"$RLC" status > "$T/st"
check "status shows the lock holder" grep -q "lock held by alice@ci-7" "$T/st"
E lease revoke "$lease" > /dev/null
"$RLC" run -q "$T/C.json"; r=$?
check "once released, the deploy runs" [ $r -eq 0 ]
check "the lock key is gone after a deploy" eval '[ -z "$(E get /gw/cfg/deploy/lock)" ]'
# A crashed deploy's lease expires on its own.
fresh > /dev/null 2>&1
RLC_LOCK_TTL_MS=2000 RLC_FAULT=apply.gateway "$RLC" run -q --state-dir "$T/s-crash" "$T/C.json" 2>/dev/null
"$RLC" run -q --state-dir "$T/s-other" "$T/C.json" 2> "$T/err"; r=$?
check "a crashed deploy holds the lease lock: exit 4" eval '[ $r -eq 4 ] && grep -q RLC3160 "$T/err"'
sleep 3
"$RLC" rollback --state-dir "$T/s-crash" > /dev/null 2>&1
"$RLC" run -q --state-dir "$T/s-other" "$T/C.json"; r=$?
check "after the lease expires and the crash is recovered, a deploy runs" [ $r -eq 0 ]

# --- unreachable endpoint ----------------------------------------------------------------
rm -rf "$T/s-unreach"
ETCD_URL="http://127.0.0.1:$(free_port)" "$RLC" run -q --state-dir "$T/s-unreach" "$T/C.json" \
    2> "$T/err"; r=$?
check "unreachable endpoint: non-zero exit, RLC3151 naming it, no journal left" \
    eval '[ $r -eq 5 ] && grep -q "RLC3151" "$T/err" && grep -q "127.0.0.1" "$T/err" && [ ! -f "$T/s-unreach/journal.jsonl" ]'
ETCD_URL="http://127.0.0.1:$(free_port)" "$RLC" run -q --state-dir "$T/s-unreach2" \
    --target "config=$ETCD_URL" "$T/C.json"; r=$?
check "--target NAME=URL overrides an etcd endpoint" [ $r -eq 0 ]
unset ETCD_URL
"$RLC" run -q --state-dir "$T/s-unset" "$T/C.json" 2> "$T/err"; r=$?
check "endpoint variable unset: non-zero exit, RLC3157" eval '[ $r -ne 0 ] && grep -q RLC3157 "$T/err"'
# --- a plan larger than one transaction ------------------------------------------------
# 300 tenants: three transactions of at most 128 operations.  rlc killed
# before the second one leaves a partial apply that recovery undoes.
export ETCD_URL="$ETCD_ENDPOINT"
python3 - "$T/big.rlp" "$T/big2.rlp" <<'PY'
import sys
for path, n in ((sys.argv[1], 100), (sys.argv[2], 101)):
    with open(path, "w") as f:
        f.write('policy "big" {\n  namespace = "big"\n}\n')
        for i in range(300):
            f.write('tenant "t%03d" {\n  limit %d/1m\n}\n' % (i, n))
        f.write('target etcd "config" {\n  endpoints = [env("ETCD_URL")]\n  prefix = "/gw/"\n}\n')
PY
"$RLC" compile "$T/big.rlp" -o "$T/big.json" -q && "$RLC" compile "$T/big2.rlp" -o "$T/big2.json" -q
bigdump() { E get --prefix /gw/big/tenants/ -w json | python3 -c '
import base64, json, sys
for kv in json.load(sys.stdin).get("kvs", []): print(base64.b64decode(kv["key"]).decode(), base64.b64decode(kv["value"]).decode())'; }
rm -rf "$T/s-big"
"$RLC" run -q --json --state-dir "$T/s-big" "$T/big.json" > "$T/big.out"; r=$?
nbig=$(bigdump | wc -l)
# Keys written by one txn share its revision: 3 revisions, none over 128 keys.
txns=$(E get --prefix /gw/big/tenants/ -w json | python3 -c '
import collections, json, sys
c = collections.Counter(kv["mod_revision"] for kv in json.load(sys.stdin)["kvs"])
print(len(c), max(c.values()))')
check "300 tenants applied in 3 transactions of at most 128 keys" \
    eval '[ $r -eq 0 ] && [ "$nbig" -eq 300 ] && [ "$txns" = "3 128" ]'
bigdump > "$T/bigold"
# Ordinal of the second apply.gateway point: run once with a trace.
rm -rf "$T/s-bigt"; E del --prefix /gw/big/ > /dev/null
"$RLC" run -q --state-dir "$T/s-bigt" "$T/big.json"
RLC_FAULT_TRACE="$T/trace2" "$RLC" run -q --state-dir "$T/s-bigt" "$T/big2.json"
ord=$(grep ' apply.gateway$' "$T/trace2" | sed -n 2p | cut -d' ' -f1)
E del --prefix /gw/big/ > /dev/null; rm -rf "$T/s-big"
"$RLC" run -q --state-dir "$T/s-big" "$T/big.json"
bigdump > "$T/bigold"
RLC_FAULT="$ord" "$RLC" run -q --state-dir "$T/s-big" "$T/big2.json" 2>/dev/null
bigdump > "$T/bigmid"
"$RLC" rollback --state-dir "$T/s-big" > /dev/null 2>&1
bigdump > "$T/bigrec"
check "killed between two transactions: partial, then recovery restores all 300 keys exactly" \
    eval '[ -n "$ord" ] && ! cmp -s "$T/bigold" "$T/bigmid" && cmp -s "$T/bigold" "$T/bigrec"'
"$RLC" run -q --state-dir "$T/s-big" "$T/big2.json"; r=$?
check "then the 300-tenant change applies" eval '[ $r -eq 0 ] && [ "$(bigdump | grep -c "\"count\":101")" -eq 300 ]'
check "audit verify after the large plan" "$RLC" audit verify --state-dir "$T/s-big"

# --- a dead first endpoint: the request moves to the next one --------------------------
rm -rf "$T/s-ep"
cat > "$T/ep.rlp" <<P
policy "ep" {
  namespace = "ep"
}
tenant "a" {
  limit 5/1s
}
target etcd "config" {
  endpoints = ["http://127.0.0.1:$(free_port)", "$ETCD_ENDPOINT"]
  prefix = "/gw/"
}
P
"$RLC" compile "$T/ep.rlp" -o "$T/ep.json" -q
"$RLC" run -q --state-dir "$T/s-ep" "$T/ep.json"; r=$?
check "a refused first endpoint: the deploy goes to the second" eval '[ $r -eq 0 ] && [ -n "$(E get /gw/ep/tenants/a)" ]'
stop_etcd
