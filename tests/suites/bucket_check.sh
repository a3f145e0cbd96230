#!/bin/sh
# bucket_check.sh - a run checks a plan bucket's digest when it first uses
# the bucket's tenants, not all at load (SPEC.md 5.2, 7.7 step 1): a first
# deploy into an empty namespace checks each bucket as it writes its
# tenants, so a late bucket that does not hash to its digest stops the
# deploy mid-apply, and the rollback leaves every key as it was (exit 3, a
# plan refused); a deploy that is not fresh, and a dry run, check every
# bucket before anything is read or written by a tenant's name.  No byte
# of a bucket is sent before it is checked.  (owner: apply)
. "$ROOT/tests/lib.sh"
plan 23

NS=bk
N=6000
# A policy of N one-limit tenants t0000..: some fifty buckets, three parts
# of a first deploy's writes (2 048 tenants each).
awk -v n="$N" 'BEGIN {
    print "policy \"bk\" {\n  namespace = \"bk\"\n}"
    print "target redis \"primary\" {\n  url = env(\"RLC_REDIS_URL\")\n}"
    for (i = 0; i < n; i++)
        printf "tenant \"t%04d\" {\n  limit 10/s\n  group \"g\" {\n    limit 5/s\n  }\n}\n", i
}' > "$T/a.rlp"
"$RLC" compile -q "$T/a.rlp" -o "$T/a.json" || bail_out "compile" "failed"
# The bucket touched: the last one after the first part (its first tenant
# at 2 048 or later) that holds no verification case's tenant (a case's
# tenant is read before anything is written).  In late.json its first
# tenant is retuned (a count one more or less, of as many digits: the text
# keeps its length, so the bucket is where the index says) with its version
# and plan_digest sealed again, but not the bucket's digest in the index;
# in latever.json the same tenant is retuned and every digest sealed but
# its version.  bucket.names: the bucket's tenants.
python3 - "$T/a.json" "$T/late.json" "$T/latever.json" "$T/bucket.names" > "$T/meta" <<'PY' ||
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
src, late, latever, names = sys.argv[1:]
p = json.load(open(src))
ix = p["tenant_index"]
cases = {v["tenant"] for v in p["verify"]}
first, pick = 0, None
for k, b in enumerate(ix):
    ts = [t["name"] for t in p["tenants"][first:first + b["n"]]]
    if first >= 2048 and not cases.intersection(ts):
        pick = (k, first, ts)
    first += b["n"]
k, i, ts = pick
def retune(d):
    r = d["tenants"][i]["rules"]; c = r[0]["count"]
    r[0]["count"] = c + 1 if len(str(c + 1)) == len(str(c)) else c - 1
    return r
t = json.loads(json.dumps(p)); r = retune(t)
t["tenants"][i]["version"] = S.sha(S.canon(r)); t["plan_digest"] = S.digest(t)
open(late, "w").write(S.canon(t) + "\n")
v = json.loads(json.dumps(p)); retune(v)
open(latever, "w").write(S.seal(v))
open(names, "w").write("".join('"{bk:%s}' % n + "\n" for n in ts))
print(len(ix), k)
PY
    bail_out "a late bucket" "failed"
read NB LAST < "$T/meta"
check "the plan has many buckets ($NB), one after the first part touched ($LAST)" \
    eval '[ "$NB" -ge 20 ] && [ "$LAST" -gt 0 ]'

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
rc() { redis-cli -p "$PORT" "$@"; }
# dump: every key but the audit log's (each refusal and rollback appends to
# it), with its type and value, sorted.
dump() {
    python3 - "$PORT" "$NS" <<'PY'
import socket, sys
port, ns = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb", 1 << 20)
def enc(*a):
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
def reply():
    l = f.readline()[:-2]; t, r = l[:1], l[1:]
    if t in (b"+", b"-"): return r
    if t == b":": return int(r)
    if t == b"$": n = int(r); return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*": n = int(r); return None if n < 0 else [reply() for _ in range(n)]
def pipeline(cmds):
    s.sendall(b"".join(enc(*c) for c in cmds)); return [reply() for _ in cmds]
keys, cur = [], b"0"
while True:
    cur, ks = pipeline([(b"SCAN", cur, b"COUNT", b"1000")])[0]
    keys += [k for k in ks if not k.startswith(ns + b":audit")]
    if cur == b"0": break
keys.sort()
types = pipeline([(b"TYPE", k) for k in keys]) if keys else []
vals = pipeline([(b"HGETALL", k) if t == b"hash" else (b"GET", k) if t == b"string"
                 else (b"TYPE", k) for k, t in zip(keys, types)]) if keys else []
for k, t, v in zip(keys, types, vals):
    if t == b"hash":
        v = sorted(zip(v[::2], v[1::2]))
    print(repr((k, t, v)))
PY
}
parts() { grep -c ' apply.config.part$' "$1" 2>/dev/null || echo 0; }

# --- a first deploy: the bad bucket found while writing, rolled back --------
dump > "$T/s0"
monitor_start "$PORT" "$T/monitor" || bail_out "MONITOR" "did not start"
RLC_FAULT_TRACE="$T/trace1" "$RLC" run "$T/late.json" > /dev/null 2> "$T/err1"; r=$?
monitor_stop "$PORT" "$T/monitor"
dump > "$T/s1"
check "a first deploy of a plan whose bucket $LAST does not hash to its digest exits 3" [ $r -eq 3 ]
check "  says RLC3105 and names the bucket (tenant_index[$LAST])" \
    eval 'grep -q RLC3105 "$T/err1" && grep -q "(tenant_index\[$LAST\])" "$T/err1"'
check "  found it while writing: $(parts "$T/trace1") part(s) written before, t0000's config among them" \
    eval '[ "$(parts "$T/trace1")" -ge 1 ] && grep -q "\"HSET\" \"{$NS:t0000}:cfg:" "$T/monitor"'
check "  no byte of that bucket was sent: none of its tenants' keys in any command" \
    eval '[ -s "$T/monitor" ] && ! grep -q -F -f "$T/bucket.names" "$T/monitor"'
check "  and rolled back" grep -q "rolled back" "$T/err1"
check "  every key is as it was (the namespace empty again)" cmp -s "$T/s0" "$T/s1"
check "  the lock is released" [ -z "$(rc get $NS:deploy:lock)" ]
"$RLC" audit show --json -n 1 > "$T/audit1"
check "  the audit log records the rollback and verifies" \
    eval 'grep -q "\"result\":\"rolled_back\"" "$T/audit1" && "$RLC" audit verify > /dev/null'

RLC_FAULT_TRACE="$T/trace2" "$RLC" run "$T/latever.json" > /dev/null 2> "$T/err2"; r=$?
dump > "$T/s2"
check "a first deploy of a plan whose bucket $LAST holds a version that is not its rules' digest exits 3 (RLC3106)" \
    eval '[ $r -eq 3 ] && grep -q RLC3106 "$T/err2" && grep -q "not the SHA-256 of its rules" "$T/err2"'
check "  found while writing, rolled back, every key as it was" \
    eval '[ "$(parts "$T/trace2")" -ge 1 ] && grep -q "rolled back" "$T/err2" && cmp -s "$T/s0" "$T/s2"'

"$RLC" run -q --dry-run "$T/late.json" 2> "$T/err3"; r=$?
check "a dry run of it checks every bucket: exit 3, RLC3105" \
    eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/err3"'

# --- the good plan, then the bad one over it: refused before any write ------
"$RLC" run -q "$T/a.json"; r=$?
check "the plan as compiled deploys fresh" [ $r -eq 0 ]
"$RLC" status -q > /dev/null
check "  status: no drift" [ $? -eq 0 ]
dump > "$T/s4"
# A state directory without a record of the store reads every pointer: every
# bucket is checked first.  (This one's record vouches for the bucket's
# digest, which the index still gives: see reapply.sh.)
RLC_STATE_DIR="$T/state2" RLC_FAULT_TRACE="$T/trace5" "$RLC" run "$T/late.json" > /dev/null \
    2> "$T/err5"; r=$?
dump > "$T/s5"
check "a deploy over it (not fresh, no record) of the bad plan exits 3, RLC3105" \
    eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/err5"'
check "  refused before the checkpoint: nothing written, nothing to roll back" \
    eval '! grep -q " checkpoint$" "$T/trace5" && ! grep -q "rolled back" "$T/err5" && cmp -s "$T/s4" "$T/s5"'
"$RLC" run -q --full-read "$T/late.json" 2> "$T/err6"; r=$?
check "  so does --full-read" eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/err6" && cmp -s "$T/s4" "$(dump > "$T/s6"; echo "$T/s6")"'

# Tenants are cut from an unchecked bucket by what ends each one in the
# form rlc compile writes ("version":"<64 hex>"}): a rule that holds a
# member of that name (a plan sealed again by hand) is cut as any JSON
# reader cuts it, and deploys as before.
python3 - "$T/a.json" "$T/odd.json" > "$T/odd" <<'PY' ||
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
p = json.load(open(sys.argv[1]))
i = len(p["tenants"]) - 3
r = p["tenants"][i]["rules"]
r.insert(0, {"id": "0000000000000000", "kind": "concurrency", "lease_ms": 1000, "max": 2,
             "version": "ab" * 32})
p["tenants"][i]["version"] = S.sha(S.canon(r))
open(sys.argv[2], "w").write(S.seal(p))
print(p["tenants"][i]["name"])
PY
    bail_out "odd rule" "failed"
read ODD < "$T/odd"
rc flushall > /dev/null
RLC_STATE_DIR="$T/state3" "$RLC" run -q "$T/odd.json"; r=$?
check "a plan whose rule holds a member \"version\" deploys fresh" \
    eval '[ $r -eq 0 ] && RLC_STATE_DIR="$T/state3" "$RLC" status -q "$T/odd.json" > /dev/null'
check "  its tenant ($ODD) holds that rule" \
    eval 'rc hget "{$NS:$ODD}:cfg:$(rc get "{$NS:$ODD}:active")" s | grep -q "^0000000000000000 C 0 2 1000 0 1"'

# A cut that does not hold: in a plan sealed again by hand, a tenant's rules
# end with a rule that holds what ends a tenant and one that opens one (so
# the bucket's first tenant reads as two), and the next tenant lacks its
# version (so it and the one after read as one): as many tenants as the
# bucket's entry says, every version made to hash what the cut hands over.
# A deploy that reads the store by the tenants' names walks the bucket
# first and refuses the cut; a first deploy's reader of the tenant refuses
# its text, and the deploy is rolled back.
python3 - "$T/a.json" "$T/cut.json" > "$T/cut" <<'PY' ||
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
p = json.load(open(sys.argv[1]))
ix = p["tenant_index"]
cases = {v["tenant"] for v in p["verify"]}
first, pick = 0, None
for k, b in enumerate(ix):
    ts = [t["name"] for t in p["tenants"][first:first + b["n"]]]
    if first >= 2048 and b["n"] >= 3 and not cases.intersection(ts):
        pick = (k, first)
    first += b["n"]
k, i = pick
A, B, C = p["tenants"][i:i + 3]
r1 = {"id": "0000000000000000", "r": [1], "tag": "x", "version": ""}
r2 = {"name": A["name"] + "a", "rules": [], "tag": "t2"}
A["rules"] = [r1, r2] + A["rules"]
del B["version"]
r1["version"] = S.sha("[" + S.canon(r1).split(',"tag":"x"')[0])
a = S.canon({f: v for f, v in A.items() if f != "version"})
A["version"] = S.sha(a[a.index('"rules":[],"tag":"t2"}') + 8:a.rindex('],"tag":') + 1])
bc = S.canon(B) + "," + S.canon({f: v for f, v in C.items() if f != "version"})
C["version"] = S.sha(bc[bc.index('"rules":') + 8:bc.rindex('],"tag":') + 1])
open(sys.argv[2], "w").write(S.seal(p))
print(k, A["name"])
PY
    bail_out "a cut that does not hold" "failed"
read CUTK CUTA < "$T/cut"
dump > "$T/s8"
RLC_STATE_DIR="$T/state4" "$RLC" run -q "$T/cut.json" 2> "$T/err8"; r=$?
dump > "$T/s9"
check "a cut that does not hold is refused before the store is read (exit 3, RLC3102)" \
    eval '[ $r -eq 3 ] && grep -q RLC3102 "$T/err8" && grep -q "tenant_index\[$CUTK\]: the bucket.s tenants are not one JSON object each" "$T/err8"'
check "  nothing written" cmp -s "$T/s8" "$T/s9"
rc flushall > /dev/null
RLC_STATE_DIR="$T/state5" "$RLC" run -q "$T/cut.json" 2> "$T/err9"; r=$?
check "  a first deploy of it refuses the tenant's text ($CUTA) and rolls back (exit 3)" \
    eval '[ $r -eq 3 ] && grep -q "tenant \"$CUTA\" is not valid JSON" "$T/err9" && grep -q "rolled back" "$T/err9"'
check "  the namespace empty again" eval '[ -z "$(rc --scan --pattern "{$NS:*")" ]'
