#!/bin/sh
# plan.sh - rlc compile and rlc plan show: the golden plan, determinism,
# the digest (recomputed independently in Python), refusals that leave no
# file, rule identity across edits, and every plan_load refusal.
. "$ROOT/tests/lib.sh"
plan 80
P="$ROOT/tests/plan"
LIB="$P/lib.lua"
cd "$T" || exit 2
cp "$P/small.rlp" small.rlp

compile() { "$RLC" compile --library "$LIB" "$@"; }

# --- golden plan -------------------------------------------------------------
# tests/plan/small.expected.json is the exact plan of small.rlp with lib.lua;
# regenerate with tests/plan/update.sh after a deliberate format change.
if compile small.rlp -o small.json 2>err; then
    if cmp -s small.json "$P/small.expected.json"; then ok "golden plan of small.rlp"
    else notok "golden plan of small.rlp" "differs: $(diff "$P/small.expected.json" small.json | head -c 400 | tr '\n' ' ')"; fi
else
    notok "golden plan of small.rlp" "compile failed: $(head -c 300 err)"
fi

# --- determinism ---------------------------------------------------------------
compile small.rlp -o again.json 2>/dev/null
check "two compiles are byte-identical" cmp small.json again.json
compile small.rlp -o - > stdout.json 2>/dev/null
check "-o - writes the same bytes to stdout" cmp small.json stdout.json
n=$(wc -l < small.json)
if [ "$n" -eq 1 ] && [ "$(tail -c 1 small.json | od -An -c | tr -d ' ')" = '\n' ]; then
    ok "plan is one line ending in a newline"
else notok "plan is one line ending in a newline" "$n lines"; fi
if LC_ALL=C grep -q '[^ -~]' small.json; then notok "plan is pure ASCII" "non-ASCII byte"
else ok "plan is pure ASCII"; fi

# File order and declaration order do not change the plan.
mkdir -p split
cat > split/a.rlp <<'EOF'
policy "split" { namespace = "s" }
tenant "zeta" { limit 10/1s }
target redis "r2" { url = "redis://127.0.0.1:1" }
EOF
cat > split/b.rlp <<'EOF'
tenant "alpha" { limit 5/1s group "g" { limit 1/1s } }
target redis "r1" { url = "redis://127.0.0.1:2" }
EOF
(cd split && compile a.rlp b.rlp -o ../ab.json && compile b.rlp a.rlp -o ../ba.json) 2>/dev/null
check "file order on the command line does not change the plan" cmp ab.json ba.json

# A tenant without limits has no rules (an empty, NULL array inside the
# compiler, which once went to qsort and aborted the ASan/UBSan build).
cat > nolimit.rlp <<'EOF'
policy "nolimit" { namespace = "nl" }
tenant "bare" { }
tenant "limited" { limit 10/1s }
target redis "r" { url = "redis://127.0.0.1:1" }
EOF
if compile nolimit.rlp -o nolimit.json 2>err; then
    if python3 -c 'import json,sys; d=json.load(open("nolimit.json")); t={x["name"]: x["rules"] for x in d["tenants"]}; sys.exit(0 if t["bare"] == [] and len(t["limited"]) == 1 else 1)'; then
        ok "a tenant without limits compiles to an empty rule list"
    else notok "a tenant without limits compiles to an empty rule list" "$(head -c 300 nolimit.json)"; fi
else
    notok "a tenant without limits compiles to an empty rule list" "compile failed: $(head -c 300 err)"
fi

# --- digest, recomputed outside rlc --------------------------------------------
cat > digest.py <<EOF
import json, sys
sys.path.insert(0, "$P")
from seal import buckets_ok, digest
d = json.load(open(sys.argv[1]))
sys.exit(0 if digest(d) == d["plan_digest"] and buckets_ok(d) else 1)
EOF
check "plan_digest equals SHA-256 of the canonical plan (Python)" python3 digest.py small.json
cat > uni.rlp <<'EOF'
policy "u" { }
tenant "café/x|y%z{}:" { limit 10/1s key "k\u{1}\t\u{1F600}" { limit 1/1s } }
target redis "r" { url = "redis://127.0.0.1:1" }
EOF
compile uni.rlp -o uni.json 2>/dev/null
check "digest of a plan with non-ASCII and control characters (Python)" python3 digest.py uni.json
if grep -q '"tag":"{rl:caf%C3%A9/x|y%25z%7B%7D%3A}"' uni.json; then ok "tenant hash tag percent-encodes"
else notok "tenant hash tag percent-encodes" "$(grep -o '"tag":"[^"]*"' uni.json)"; fi

# --- plan show ------------------------------------------------------------------
"$RLC" plan show small.json > show.txt 2>show.err
rc=$?
if [ $rc -eq 0 ] && grep -q '^digest    ok ' show.txt && grep -q '^tenants   2$' show.txt &&
   grep -q '^policy    golden (namespace gl, time client, on store error fail_closed' show.txt &&
   grep -q 'rules     8: token_bucket 2, gcra 1, sliding_window 1, fixed_window 2, concurrency 2' show.txt &&
   grep -q 'primary          redis   steps: load_library, write_config, activate, verify' show.txt &&
   grep -q '^  std/tiers.rlp ' show.txt && [ ! -s show.err ]; then
    ok "plan show summarises an intact plan"
else notok "plan show summarises an intact plan" "rc $rc: $(head -c 600 show.txt show.err | tr '\n' '|')"; fi
"$RLC" plan show --json small.json > show.json
if python3 -c 'import json,sys; d=json.load(open("show.json")); sys.exit(0 if d["ok"] and d["tenants"]==2 and d["rules"]==8 and d["shadow_rules"]==1 and d["rules_by_algorithm"]=={"concurrency":2,"fixed_window":2,"gcra":1,"sliding_window":1,"token_bucket":2} else 1)'; then
    ok "plan show --json"
else notok "plan show --json" "$(head -c 300 show.json)"; fi

# refused PLAN CODE EXIT: plan show exits EXIT and names CODE.
refused() {
    "$RLC" plan show "$2" > out 2> err
    rc=$?
    if [ $rc -eq "$4" ] && grep -q "error\[$3\]" err; then ok "$1"
    else notok "$1" "exit $rc, expected $4 and $3: $(head -c 300 err)"; fi
}
# Tampering: one byte of one value.
sed 's/"count":100,/"count":900,/' small.json > tampered.json
cmp -s small.json tampered.json && bail_out "tamper" "sed changed nothing"
refused "a plan with one byte changed is refused (RLC3105)" tampered.json RLC3105 1
if grep -q '^digest    MISMATCH' out; then ok "plan show reports the mismatch"
else notok "plan show reports the mismatch" "$(head -c 300 out)"; fi
sed 's/"format":3,/"format":4,/' small.json > format4.json
refused "a plan of another format is refused (RLC3103)" format4.json RLC3103 1
sed 's/"format":3,/"format":1,/' small.json > format1.json
refused "a plan of format 1 (no tenant index) is refused (RLC3103)" format1.json RLC3103 1
# small.format2.json is small.rlp's plan as rlc wrote it in format 2 (every
# rule with its whole path and its defaults): refused, naming the file and
# saying what to do, not read as format 3.
refused "a plan of format 2 (rules with paths) is refused (RLC3103)" "$P/small.format2.json" \
    RLC3103 1
if grep -q "small.format2.json: plan format 2 is older than the format 3 this rlc (.*) reads: compile the policy again with this rlc" err
then ok "the format 2 refusal names the file and says to compile again"
else notok "the format 2 refusal names the file and says to compile again" "$(head -c 300 err)"; fi
sed 's/"compiler":"rlc [^"]*"/"compiler":"rlc 99.0.0"/' small.json > newer.json
refused "a plan from an incompatible compiler is refused (RLC3104)" newer.json RLC3104 1
# The compiler string is exactly "rlc " and a semver 2.0.0 version: anything
# else is refused as incompatible (RLC3104) before the digest is looked at;
# a well-formed compatible one passes that check and meets the digest
# (RLC3105, since sed changed the content).
for v in "0.1.0.0.0-evil" "0.1.0 " "0.1.0-" "0.1.0-01" "0.1.0+" "0.1.0-a..b" "00.1.0" "0.01.0" \
    "0.1.00" "0.1" "0.1.0x" " 0.1.0" "0.1.0-a_b" "0.1.1234567890"; do
    sed "s/\"compiler\":\"rlc [^\"]*\"/\"compiler\":\"rlc $v\"/" small.json > ver.json
    refused "compiler 'rlc $v' is not a version: refused (RLC3104)" ver.json RLC3104 1
done
# Compatible: this rlc's major.minor (SPEC 5.3), any patch, pre-release or build.
mm=$(cut -d. -f1,2 "$ROOT/VERSION")
for v in "$mm.7" "$mm.0-rc.1+build.5" "$mm.0-0.3.7" "$mm.0+20261130.sha-1f3a"; do
    sed "s/\"compiler\":\"rlc [^\"]*\"/\"compiler\":\"rlc $v\"/" small.json > ver.json
    refused "compiler 'rlc $v' is compatible: the digest check comes next (RLC3105)" ver.json RLC3105 1
done
refused "a missing plan file (RLC3101, exit 2)" nonexistent.json RLC3101 2
head -c 100 small.json > cut.json
refused "a truncated plan is not JSON (RLC3102)" cut.json RLC3102 1
sed 's/"count":100,/"count":100.5,/' small.json > real.json
refused "a plan with a float is refused (RLC3102)" real.json RLC3102 1
sed 's/"format":3,/"format":3,"format":3,/' small.json > dup.json
refused "a plan with a duplicate key is refused (RLC3102)" dup.json RLC3102 1
# Re-indenting keeps the content, so the digest still matches.
python3 -m json.tool small.json > pretty.json
check "a re-indented plan still verifies" "$RLC" plan show pretty.json

# --- the tenant index (SPEC.md 5.2) -------------------------------------------
# 2000 tenants: several buckets, whose ends depend on the names only, so one
# tenant changed, added or removed changes the digest of its own bucket.
gen_big() {
    awk -v extra="$1" -v bump="$2" 'BEGIN {
        print "policy \"big\" { }\ntarget redis \"r\" { url = \"redis://127.0.0.1:1\" }"
        for (i = 0; i < 2000; i++)
            printf "tenant \"t%04d\" { limit %d/1s }\n", i, (i == bump ? 11 : 10)
        if (extra != "") printf "tenant \"%s\" { limit 10/1s }\n", extra
    }'
}
gen_big "" -1 > big.rlp
gen_big "" 1000 > big1.rlp
gen_big "t1000x" -1 > big2.rlp
compile big.rlp -o big.json 2>/dev/null && compile big1.rlp -o big1.json 2>/dev/null &&
    compile big2.rlp -o big2.json 2>/dev/null || bail_out "compile big" "failed"
check "a plan of 2000 tenants: its index's buckets and digest recomputed in Python" \
    python3 digest.py big.json
cat > index.py <<'EOF'
import json, sys
a, b = (json.load(open(f))["tenant_index"] for f in sys.argv[1:3])
same_n = [x["n"] for x in a] == [x["n"] for x in b]
diff = [i for i, (x, y) in enumerate(zip(a, b)) if x["sha256"] != y["sha256"]]
if sys.argv[3] == "sizes":
    sys.exit(0 if len(a) >= 4 and all(1 <= x["n"] <= 1024 for x in a) else 1)
if sys.argv[3] == "changed":
    sys.exit(0 if same_n and len(diff) == 1 else 1)
ns = [i for i, (x, y) in enumerate(zip(a, b)) if x["n"] != y["n"]]
sys.exit(0 if len(a) == len(b) and ns == diff and len(ns) == 1 else 1)
EOF
check "  several buckets of 1 to 1024 tenants" python3 index.py big.json big.json sizes
check "  one tenant changed: the digest of one bucket changes" \
    python3 index.py big.json big1.json changed
check "  one tenant added: one bucket grows, the others keep their digests" \
    python3 index.py big.json big2.json added
# A tenant edited and the plan sealed again without its bucket's digest:
# plan_digest matches (it covers the index, not the tenants themselves).
cat > tamper.py <<EOF
import json, sys
sys.path.insert(0, "$P")
from seal import canon, digest
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
d["plan_digest"] = digest(d)
open(sys.argv[2], "w").write(canon(d) + "\n")
EOF
python3 tamper.py big.json tamp.json 'd["tenants"][1500]["tag"] = "{rl:x}"'
refused "a tenant changed without its bucket's digest is refused (RLC3105)" tamp.json RLC3105 1
check "  the message names the bucket and its tenants" \
    grep -q 'tenants\[[0-9]*\.\.[0-9]*\] (tenant_index\[[0-9]*\]) hash to' err
python3 tamper.py big.json miscount.json 'd["tenant_index"][1]["n"] += 1'
refused "an index that counts more tenants than the plan has is refused (RLC3106)" miscount.json RLC3106 1
python3 tamper.py big.json zero.json 'd["tenant_index"].append({"at": 0, "len": 0, "n": 0, "sha256": "0" * 64})'
refused "an index with an empty bucket is refused (RLC3106)" zero.json RLC3106 1

# --- refusals leave no file ---------------------------------------------------
cat > bad.rlp <<'EOF'
policy "bad" { }
tenant "a" { limit 0/1s }
target redis "r" { url = "redis://127.0.0.1:1" }
EOF
compile bad.rlp -o nofile.json 2>err
rc=$?
if [ $rc -eq 1 ] && [ ! -e nofile.json ] && grep -q 'RLC1031' err; then ok "compile refuses a policy with errors, exit 1, no file"
else notok "compile refuses a policy with errors, exit 1, no file" "exit $rc: $(head -c 200 err)"; fi
cp small.json keep.json
cp small.json keep.orig
compile bad.rlp -o keep.json 2>/dev/null
if cmp -s keep.json keep.orig; then ok "a refused compile leaves an existing plan untouched"
else notok "a refused compile leaves an existing plan untouched" "keep.json changed"; fi
printf 'tenant "a" { limit 1/1s }\n' > nopolicy.rlp
compile nopolicy.rlp -o keep.json 2>err
if [ $? -eq 1 ] && cmp -s keep.json keep.orig && grep -q 'RLC3001' err && grep -q 'RLC3002' err; then
    ok "no policy block and no target: RLC3001 and RLC3002, plan untouched"
else notok "no policy block and no target: RLC3001 and RLC3002, plan untouched" "$(head -c 300 err)"; fi
mkdir ro && chmod 555 ro
if [ -w ro ]; then
    skip "an unwritable output: RLC3007, exit 2, nothing left" "root can write anywhere"
else
    compile small.rlp -o ro/plan.json 2>err
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'RLC3007' err && [ -z "$(ls ro)" ]; then ok "an unwritable output: RLC3007, exit 2, nothing left"
    else notok "an unwritable output: RLC3007, exit 2, nothing left" "exit $rc: $(head -c 200 err)"; fi
fi
compile small.rlp -o missing-dir/plan.json 2>err
rc=$?
if [ $rc -eq 2 ] && grep -q 'RLC3007' err && [ ! -e missing-dir ]; then ok "output in a missing directory: RLC3007, exit 2"
else notok "output in a missing directory: RLC3007, exit 2" "exit $rc: $(head -c 200 err)"; fi
# Output over a directory: rename fails; the temp file must be gone.
mkdir isdir
compile small.rlp -o isdir 2>err
rc=$?
if [ $rc -eq 2 ] && grep -q 'RLC3007' err && [ -z "$(ls -A isdir)" ] && [ -z "$(ls | grep '\.tmp\.')" ]; then
    ok "a failed rename leaves no temporary file"
else notok "a failed rename leaves no temporary file" "exit $rc: $(ls) $(head -c 200 err)"; fi
if [ -z "$(ls -A | grep '\.tmp\.')" ]; then ok "no temporary file anywhere after all compiles"
else notok "no temporary file anywhere after all compiles" "$(ls -A | grep '\.tmp\.')"; fi

# Library problems.
printf 'return 1\n' > nohdr.lua
"$RLC" compile --library nohdr.lua small.rlp -o lib.json 2>err
if [ $? -eq 1 ] && grep -q RLC3004 err && [ ! -e lib.json ]; then ok "a library without its header: RLC3004"
else notok "a library without its header: RLC3004" "$(head -c 200 err)"; fi
# Without --library the built-in one is used, or RLC3003 when this build has none.
"$RLC" compile small.rlp -o builtin.json 2>err
rc=$?
if [ $rc -eq 0 ] && "$RLC" plan show builtin.json >/dev/null; then ok "compile with the built-in library"
elif [ $rc -eq 1 ] && grep -q RLC3003 err && [ ! -e builtin.json ]; then ok "no built-in library yet: RLC3003, nothing written"
else notok "compile with the built-in library" "exit $rc: $(head -c 200 err)"; fi
if grep -q '"source":"#!lua name=rlc\\n-- A stand-in' small.json && grep -q '"version":7' small.json; then
    ok "the plan carries the library source and version"
else notok "the plan carries the library source and version" "not found"; fi

# Usage.
"$RLC" compile small.rlp 2>err; rc=$?
if [ $rc -eq 2 ] && grep -q -- '-o PLAN' err; then ok "compile without -o is a usage error"
else notok "compile without -o is a usage error" "exit $rc"; fi
check "compile --help" sh -c '"$0" compile --help | grep -q "usage: rlc compile"' "$RLC"
check "plan --help" sh -c '"$0" plan show --help | grep -q "usage: rlc plan show"' "$RLC"
"$RLC" compile -q bad.rlp -o q.json > qout 2> qerr
if [ $? -eq 1 ] && [ ! -s qout ] && [ ! -s qerr ]; then ok "compile -q prints nothing"
else notok "compile -q prints nothing" "$(head -c 200 qerr)"; fi

# --- rule identity ------------------------------------------------------------
# ids EDIT: the rule ids of base.rlp after the sed expression EDIT.
cat > base.rlp <<'EOF'
policy "ids" { }
tenant "t" {
  group "g" { limit 100/1m burst 10 }
  route GET "/v1/*" { limit 5/1s }
}
target redis "r" { url = "redis://127.0.0.1:1" }
EOF
ids() {
    sed "$1" base.rlp > edit.rlp
    compile edit.rlp -o edit.json 2>/dev/null || { echo "compile-failed"; return; }
    python3 -c 'import json; d=json.load(open("edit.json")); print(" ".join(r["id"] for r in d["tenants"][0]["rules"]))'
}
base=$(ids 's/x/x/')
same() { if [ "$(ids "$2")" = "$base" ]; then ok "rule ids kept when $1"; else notok "rule ids kept when $1" "$base -> $(ids "$2")"; fi; }
differ() {
    got=$(ids "$2")
    if [ "$got" != "$base" ] && [ "$got" != compile-failed ]; then ok "rule ids change when $1"
    else notok "rule ids change when $1" "$base -> $got"; fi
}
same "the count changes" 's|100/1m|900/1m|'
same "the burst changes" 's|burst 10|burst 99|'
same "a cost is added" 's|limit 5/1s|limit 5/1s cost 3|'
same "a limit becomes shadow" 's|limit 5/1s|limit 5/1s shadow|'
differ "the window changes" 's|100/1m|100/2m|'
differ "the algorithm changes" 's|burst 10|burst 10 algorithm gcra|'
differ "the subject changes" 's|group "g"|group "h"|'
differ "the subject kind changes" 's|group "g"|key "g"|'
differ "the route changes" 's|"/v1/\*"|"/v2/*"|'
differ "the method changes" 's|route GET|route POST|'
# 1m and 60s are the same window: same identity.
same "the window is respelled" 's|100/1m|100/60s|'

# rlc check reports these earlier (RLC2001, RLC2303); allowing those shows
# the plan's own backstop.
printf 'policy "p" { }\nallow RLC2001 "backstop"\ntenant "a" { limit 10/1m\n limit 20/1m }\ntarget redis "r" { url = "redis://127.0.0.1:1" }\n' > dup.rlp
compile dup.rlp -o dupid.json 2>err
if [ $? -eq 1 ] && grep -q RLC3005 err && [ ! -e dupid.json ]; then ok "two limits with one identity: RLC3005"
else notok "two limits with one identity: RLC3005" "$(head -c 300 err)"; fi
printf 'policy "p" { }\nallow RLC2303 "backstop"\ntenant "a" { limit 1/1s }\ntarget redis "r" { url = "redis://127.0.0.1:1" password = "x" }\n' > secret.rlp
compile secret.rlp -o secret.json 2>err
if [ $? -eq 1 ] && grep -q RLC3006 err && [ ! -e secret.json ]; then ok "a literal password: RLC3006"
else notok "a literal password: RLC3006" "$(head -c 300 err)"; fi

# --- verification cases -------------------------------------------------------
# Every case carries the simulator's decisions, one per send; a case sized to
# a rule's capacity + 1 ends in a rejection by that rule.
cat > vcheck.py <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
v = d["verify"]
assert v, "no verify cases"
for c in v:
    e = c["expect"]
    for k in ("allowed", "rule", "remaining", "retry_ms"):
        assert len(e[k]) == c["sends"], (k, c)
    a = e["allowed"]
    assert a == sorted(a, reverse=True), ("admitted after a rejection at one instant", c)
ids = {r["id"]: r for t in d["tenants"] for r in t["rules"]}
# beta's 2 concurrency slots are never released within a case, so every case
# of beta admits 2 sends and the concurrency rule rejects the rest, even the
# 11 sends sized to its fixed window 10/1s.
b = [c for c in v if c["tenant"] == "beta" and c["sends"] == 3]
assert b, "beta's concurrency 2 case (3 sends)"
assert b[0]["expect"]["allowed"] == [1, 1, 0], b[0]["expect"]
assert ids[b[0]["expect"]["rule"][2]]["kind"] == "concurrency"
f = [c for c in v if c["tenant"] == "beta" and c["sends"] == 11]
assert f and f[0]["expect"]["allowed"] == [1] * 2 + [0] * 9, f and f[0]["expect"]
assert ids[f[0]["expect"]["rule"][10]]["kind"] == "concurrency"
EOF2
if python3 vcheck.py small.json 2>verr; then ok "verify cases carry the simulator's decisions"
else notok "verify cases carry the simulator's decisions" "$(tail -c 300 verr)"; fi
if grep -q '^verify    [1-9][0-9]* cases, \([0-9]*\) with expected decisions' show.txt &&
   [ "$(sed -n 's/^verify    \([0-9]*\) cases, \([0-9]*\) with.*/\1 \2/p' show.txt | awk '{print ($1==$2)}')" = 1 ]; then
    ok "plan show counts the filled expectations"
else notok "plan show counts the filled expectations" "$(grep '^verify' show.txt)"; fi
# --quiet silences progress and diagnostics' rendering, never the error that
# stopped the command: a plan that cannot be written says why.
mkdir -p outdir
"$RLC" compile -q small.rlp -o outdir > /dev/null 2> qerr; r=$?
check "compile -q still prints why the plan cannot be written (RLC3007, exit 2)" \
    eval '[ $r -eq 2 ] && grep -q "error\[RLC3007\]" qerr'
