#!/bin/sh
# reapply.sh - re-applying a plan costs O(changed tenants) (SPEC.md 7.7,
# "manifest"): after a deploy from this state directory, a plan with one
# tenant changed reads one active pointer and writes that tenant's keys
# only (counted from `rlc run --json` and the server's INFO commandstats);
# a manifest that does not match (edited, another state directory, a
# rollback) falls back to reading every pointer; `--full-read` repairs a
# pointer edited by hand, which `rlc status` reports as drift; a dropped
# tenant's config and pointer are removed and a rollback restores them; a
# crash mid-apply leaves no manifest behind the store's back.  (owner: apply)
. "$ROOT/tests/lib.sh"
plan 121

NS=re
N=300
# gen N [EXTRA-AWK]: a policy of N one-limit tenants t000..; variants below
# change t007 (one limit retuned) or drop t011.
gen() {
    awk -v n="$N" -v mode="$1" 'BEGIN {
        print "policy \"re\" {\n  namespace = \"re\"\n  max_clock_skew = 500ms\n}"
        print "target redis \"primary\" {\n  url = env(\"RLC_REDIS_URL\")\n}"
        for (i = 0; i < n; i++) {
            t = sprintf("t%03d", i)
            if (mode == "drop" && t == "t011") continue
            lim = (mode != "a" && t == "t007") ? "limit 12/s" : "limit 10/s"
            printf "tenant \"%s\" {\n  %s\n  group \"g\" {\n    limit 5/s\n  }\n}\n", t, lim
        }
    }'
}
gen a > "$T/a.rlp"
gen b > "$T/b.rlp"
gen drop > "$T/c.rlp"
for p in a b c; do
    "$RLC" compile -q "$T/$p.rlp" -o "$T/$p.json" || bail_out "compile $p" "failed"
done

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
rc() { redis-cli -p "$PORT" "$@"; }
# field FILE NAME: a top-level member of a --json summary
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(v if v is not None else "")' "$1" "$2"; }
calls() { rc info commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0; }
pointers() { rc --scan --pattern "{$NS:*}:active" | grep -vc ':v:active'; }

# --- first deploy: no record yet, everything read ---------------------------
"$RLC" run -q --json "$T/a.json" > "$T/r1.json"; r=$?
check "first deploy commits" [ $r -eq 0 ]
check "first deploy trusts no record, and reads no pointer of the empty store it listed" \
    eval '[ "$(field "$T/r1.json" live_read)" = full ] && [ "$(field "$T/r1.json" pointers_read)" -eq 0 ]'
check "the store holds a manifest" [ -n "$(rc get $NS:deploy:manifest)" ]
check "the state directory holds the manifest's record" \
    eval 'grep -q "$(rc get $NS:deploy:manifest)" "$RLC_STATE_DIR"/manifest-*.json'

# --- one tenant changed: O(changed) -----------------------------------------
g0=$(calls get); h0=$(calls hset); f0=$(calls fcall)
"$RLC" run -q --json "$T/b.json" > "$T/r2.json"; r=$?
g1=$(calls get); h1=$(calls hset); f1=$(calls fcall)
check "re-apply commits" [ $r -eq 0 ]
check "re-apply trusts the manifest" [ "$(field "$T/r2.json" live_read)" = manifest ]
check "re-apply reads one active pointer" [ "$(field "$T/r2.json" pointers_read)" -eq 1 ]
check "re-apply changes one tenant" [ "$(field "$T/r2.json" tenants_changed)" -eq 1 ]
check "re-apply reads the rules of the changed and verified tenants only ($(field "$T/r2.json" rules_read) <= 33)" \
    eval '[ -n "$(field "$T/r2.json" rules_read)" ] && [ "$(field "$T/r2.json" rules_read)" -le 33 ]'
check "  the first deploy read every tenant's rules" [ "$(field "$T/r1.json" rules_read)" = "$N" ]
check "re-apply writes that tenant's config and pointer only (2 commands)" \
    [ "$(field "$T/r2.json" keys_written)" -eq 2 ]
# The server's own count: GETs are the plan and manifest keys, the one
# pointer, and the verification's (bounded by cases, not tenants).
check "server ran far fewer GETs than there are tenants ($((g1 - g0)) < $N / 4)" \
    [ $((g1 - g0)) -lt $((N / 4)) ]
check "server ran far fewer HSETs than there are tenants ($((h1 - h0)))" \
    [ $((h1 - h0)) -lt $((N / 4)) ]
check "the changed tenant is active at its new version" \
    eval '[ "$(rc get "{$NS:t007}:active")" = "$(rc hget $NS:deploy:state t007)" ]'
"$RLC" status -q > /dev/null; check "status after the re-apply: no drift" [ $? -eq 0 ]
# The record the re-apply rewrote, checked from outside (SPEC.md 7.7): its
# index's check, its buckets' blobs and digests, the manifest the root over
# them, the buckets cut by the names' rule and holding exactly the store's
# deploy state (tests/plan/record.py); and the manifest is what
# tests/plan/state_digest.py computes from the store alone.
record_ok() {
    rc hgetall $NS:deploy:state | paste - - |
        python3 "$ROOT/tests/plan/record.py" check "$RLC_STATE_DIR" "$(rc get $NS:deploy:manifest)" &&
    [ "$(rc hgetall $NS:deploy:state | paste - - | python3 "$ROOT/tests/plan/state_digest.py")" = "$(rc get $NS:deploy:manifest)" ]
}
check "the rewritten record checks from outside: index, blobs, buckets cut by the names' rule, the manifest their root and the store's state digest" record_ok
"$RLC" run -q --json "$T/b.json" > "$T/r3.json"
check "the same plan again reads no pointer and writes nothing" \
    eval '[ "$(field "$T/r3.json" pointers_read)" -eq 0 ] && [ "$(field "$T/r3.json" keys_written)" -eq 0 ]'
# Versions of unchanged tenants come from the record (equal plan versions,
# same encoder and time settings): only the changed tenant and the
# verification's tenants (at most 32) are encoded.
check "re-apply encodes the changed and verified tenants' configs only ($(field "$T/r2.json" configs_encoded) < $N / 4)" \
    [ "$(field "$T/r2.json" configs_encoded)" -lt $((N / 4)) ]
check "the first deploy encoded every tenant's config" [ "$(field "$T/r1.json" configs_encoded)" -eq $N ]
# A bucket of the record damaged on disk (t007's, the tenant the next plan
# changes back, whose bucket the run must open): it no longer hashes to its
# digest, the record is not used, every config is encoded again, and the
# outcome is the same (the one tenant's config and pointer written).  A
# bucket the run does not open is neither read nor checked.
python3 "$ROOT/tests/plan/record.py" tamper "$RLC_STATE_DIR" t007
"$RLC" run -q --json "$T/a.json" > "$T/r3b.json"; r=$?
check "a record whose bucket was edited on disk is not used (all encoded, the one tenant written)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r3b.json" configs_encoded)" -eq $N ] && [ "$(field "$T/r3b.json" keys_written)" -eq 2 ]'
# A record of the format before buckets (one file: the map and its plan
# versions) is not trusted: every config is encoded once, nothing is
# written, and the record is made again in buckets (SPEC.md 7.7).
"$RLC" run -q "$T/b.json" > /dev/null
python3 "$ROOT/tests/plan/record.py" old "$RLC_STATE_DIR"
"$RLC" run -q --json "$T/b.json" > "$T/r3o.json"; r=$?
check "a record of the format before buckets is not trusted: all encoded, nothing written" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r3o.json" configs_encoded)" -eq $N ] && [ "$(field "$T/r3o.json" keys_written)" -eq 0 ]'
check "  and written again in buckets" record_ok
# The same rules with other time settings are other configs: the record
# (made with max_clock_skew 500ms) must not lend its versions.
sed 's/max_clock_skew = 500ms/max_clock_skew = 400ms/' "$T/b.rlp" > "$T/skew.rlp"
"$RLC" compile -q "$T/skew.rlp" -o "$T/skew.json"
"$RLC" run -q --json "$T/skew.json" > "$T/r3c.json"; r=$?
check "a changed time setting changes every tenant although the plan versions are equal" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r3c.json" tenants_changed)" -eq $N ]'
"$RLC" status -q > /dev/null; check "status after it: no drift" [ $? -eq 0 ]
"$RLC" run -q --json "$T/b.json" > "$T/r3d.json"; r=$?
check "and back: every tenant changes again" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r3d.json" tenants_changed)" -eq $N ]'

# --- a manifest that does not match: everything read ------------------------
rc set $NS:deploy:manifest edited-by-hand > /dev/null
"$RLC" run -q --json "$T/a.json" > "$T/r4.json"; r=$?
check "edited manifest: falls back to reading every pointer" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r4.json" live_read)" = full ] && [ "$(field "$T/r4.json" pointers_read)" -eq $N ]'
check "  and still writes only the changed tenant" [ "$(field "$T/r4.json" keys_written)" -eq 2 ]
"$RLC" run -q --json --state-dir "$T/other" "$T/b.json" > "$T/r5.json"; r=$?
check "another state directory (another machine) deploys: full read" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r5.json" live_read)" = full ]'
"$RLC" run -q --json "$T/a.json" > "$T/r6.json"; r=$?
check "back here after the other machine's deploy: full read (manifest moved on)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r6.json" live_read)" = full ] && [ "$(field "$T/r6.json" tenants_changed)" -eq 1 ]'
# The changed tenant's bucket of the record edited on disk: the run opens
# it, finds it does not hash to its digest, and reads everything.
python3 "$ROOT/tests/plan/record.py" tamper "$RLC_STATE_DIR" t007
"$RLC" run -q --json "$T/b.json" > "$T/r7.json"; r=$?
check "a bucket of the record edited on disk no longer hashes to its digest: full read" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r7.json" live_read)" = full ]'

# --- a pointer edited by hand: drift; --full-read repairs it ----------------
good=$(rc get "{$NS:t021}:active")
rc set "{$NS:t021}:active" 00000000deadbeef > /dev/null
"$RLC" status -q > /dev/null; r=$?
check "status finds a pointer edited by hand (exit 6)" [ $r -eq 6 ]
# Status reads the tenants' pointers and configs in pipelines: the server
# counts the reads it made on its sockets (one per round trip, or fewer).
reads() { rc info stats | tr -d '\r' | awk -F: '$1 == "total_reads_processed" { print $2 }'; }
r0=$(reads)
"$RLC" status --json > "$T/st.json"; r=$?
r1=$(reads)
check "status of $N tenants takes $((r1 - r0 - 1)) round trips, not one or two per tenant (< $((N / 5)))" \
    eval '[ $r -eq 6 ] && [ $((r1 - r0 - 1)) -lt $((N / 5)) ]'
check "status --json names the tenant whose pointer was edited, and only it" \
    eval '[ "$(grep -o "\"tenant\": *\"t[0-9]*\"" "$T/st.json" | tr -d " ")" = "\"tenant\":\"t021\"" ]'
"$RLC" run -q --json "$T/b.json" > "$T/r8.json"
check "a run trusting the manifest does not read it" [ "$(field "$T/r8.json" pointers_read)" -eq 0 ]
"$RLC" run -q --json --full-read "$T/b.json" > "$T/r9.json"; r=$?
check "--full-read reads every pointer and repairs it" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r9.json" pointers_read)" -eq $N ] && [ "$(rc get "{$NS:t021}:active")" = "$good" ]'
"$RLC" status -q > /dev/null; check "status after the repair: no drift" [ $? -eq 0 ]

# --- a dropped tenant: config and pointer removed, rollback restores -------
cfg=$(rc --scan --pattern "{$NS:t011}:cfg:*")
"$RLC" run -q --json "$T/c.json" > "$T/r10.json"; r=$?
check "dropping a tenant commits, reading one pointer" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r10.json" tenants_removed)" -eq 1 ] && [ "$(field "$T/r10.json" pointers_read)" -eq 1 ]'
check "the dropped tenant's pointer is gone" [ -z "$(rc get "{$NS:t011}:active")" ]
check "the dropped tenant's config is gone" [ -z "$(rc --scan --pattern "{$NS:t011}:cfg:*")" ]
check "the dropped tenant is out of the deploy state" [ -z "$(rc hget $NS:deploy:state t011)" ]
check "the other tenants are all still there" [ "$(pointers)" -eq $((N - 1)) ]
"$RLC" rollback -q; r=$?
check "rollback restores the dropped tenant's pointer and config" \
    eval '[ $r -eq 0 ] && [ -n "$(rc get "{$NS:t011}:active")" ] && [ "$(rc --scan --pattern "{$NS:t011}:cfg:*")" = "$cfg" ]'
check "after a rollback the store has no manifest" [ -z "$(rc get $NS:deploy:manifest)" ]
"$RLC" run -q --json "$T/c.json" > "$T/r11.json"; r=$?
check "so the next deploy reads everything, and drops the tenant again" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r11.json" live_read)" = full ] && [ -z "$(rc get "{$NS:t011}:active")" ]'

# --- a crash mid-apply ------------------------------------------------------
"$RLC" run -q "$T/b.json" > /dev/null
RLC_FAULT=apply.flip "$RLC" run -q "$T/a.json" 2> /dev/null
check "a deploy killed mid-apply leaves no manifest" [ -z "$(rc get $NS:deploy:manifest)" ]
"$RLC" run -q --json "$T/a.json" > "$T/r12.json"; r=$?
check "the next run recovers (checkpoint restored, manifest with it) and applies" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r12.json" result)" = committed ] && [ "$(field "$T/r12.json" tenants_changed)" -eq 1 ]'
"$RLC" status -q > /dev/null; check "status after recovery and re-apply: no drift" [ $? -eq 0 ]
check "every tenant of plan a is active at the version the state records" \
    eval '[ "$(rc get "{$NS:t007}:active")" = "$(rc hget $NS:deploy:state t007)" ] && [ "$(pointers)" -eq $N ]'

# --- plan loading on the deploy path (tenants streamed into rules) ----------
python3 - "$T/b.json" "$T/pretty.json" "$T/badshape.json" "$T/float.json" "$T/badver.json" "$T/badver-pretty.json" <<'PY'
import hashlib, json, os, sys
src, pretty, bad, flt, badver, badverp = sys.argv[1:]
p = json.load(open(src))
json.dump(p, open(pretty, "w"), indent=2)          # same content, not the canonical text
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
def seal(d, path):
    open(path, "w").write(S.seal(d))
b = json.loads(json.dumps(p)); del b["tenants"][5]["rules"]; seal(b, bad)
f = json.loads(json.dumps(p)); f["tenants"][9]["rules"][0]["count"] = 1.5; seal(f, flt)
v = json.loads(json.dumps(p)); v["tenants"][4]["rules"][0]["count"] += 1; seal(v, badver)
d = json.load(open(badver)); json.dump(d, open(badverp, "w"), indent=2)
# A tenant retuned with its version, and plan_digest sealed again, but not
# its bucket's digest in the index.
t = json.loads(json.dumps(p)); r = t["tenants"][250]["rules"]; r[0]["count"] += 1
t["tenants"][250]["version"] = S.sha(S.canon(r)); t["plan_digest"] = S.digest(t)
open(sys.argv[1].replace("b.json", "bucket.json"), "w").write(S.canon(t) + "\n")
# A tenant with a rule the runtime refuses (count 0), sealed in full.
z = json.loads(json.dumps(p)); r = z["tenants"][7]["rules"]; r[0]["count"] = 0
z["tenants"][7]["version"] = S.sha(S.canon(r))
open(sys.argv[1].replace("b.json", "zero.json"), "w").write(S.seal(z))
PY
"$RLC" run -q --json --dry-run "$T/pretty.json" > "$T/r13.json"; r=$?
check "a re-indented plan (not the canonical text) still deploys" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r13.json" result)" = dry_run ]'
"$RLC" run -q "$T/badshape.json" 2> "$T/err"; r=$?
check "a sealed plan with a tenant lacking rules is refused (exit 3, RLC3106)" \
    eval '[ $r -eq 3 ] && grep -q RLC3106 "$T/err" && grep -q "tenants\[5\]" "$T/err"'
"$RLC" run -q "$T/float.json" 2> "$T/err"; r=$?
check "a sealed plan with a fraction inside a tenant is refused (exit 3, RLC3102)" \
    eval '[ $r -eq 3 ] && grep -q RLC3102 "$T/err"'
"$RLC" run -q "$T/badver.json" 2> "$T/err"; r=$?
check "a sealed plan whose tenant version is not its rules' digest is refused (exit 3, RLC3106)" \
    eval '[ $r -eq 3 ] && grep -q RLC3106 "$T/err" && grep -q "not the SHA-256 of its rules" "$T/err"'
"$RLC" run -q "$T/badver-pretty.json" 2> "$T/err"; r=$?
check "  also when the file is not the canonical text" \
    eval '[ $r -eq 3 ] && grep -q RLC3106 "$T/err" && grep -q "not the SHA-256 of its rules" "$T/err"'
m0=$(rc get $NS:deploy:manifest) a0=$(rc get "{$NS:t250}:active") z0=$(rc get "{$NS:t007}:active")
"$RLC" run -q "$T/zero.json" 2> "$T/err"; r=$?
check "a sealed plan whose changed tenant has a rule of count 0 is refused when its rules are read (exit 3, RLC3106), store untouched" \
    eval '[ $r -eq 3 ] && grep -q RLC3106 "$T/err" && grep -q "t007" "$T/err" && [ "$(rc get $NS:deploy:manifest)" = "$m0" ] && [ "$(rc get "{$NS:t007}:active")" = "$z0" ]'
sed 's/^/# /' "$T/err"
"$RLC" run -q --full-read "$T/bucket.json" 2> "$T/err"; r=$?
check "a tenant changed without its bucket's digest is refused by --full-read (exit 3, RLC3105), store untouched" \
    eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/err" && grep -q "(tenant_index\[" "$T/err" && [ "$(rc get $NS:deploy:manifest)" = "$m0" ] && [ "$(rc get "{$NS:t250}:active")" = "$a0" ]'
# Without it, the bucket's digest is one the record vouches for: its
# tenants' versions are the record's, t250 (no change there, no case run
# for it) is never read, and keeps the config whose rules hash to them.
"$RLC" run -q --json "$T/bucket.json" > "$T/r14.json" 2> "$T/err"; r=$?
check "  the record's bucket: t250 is not read, and keeps its deployed config (t007 changes)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/r14.json" rules_read)" -eq 1 ] && [ "$(rc get "{$NS:t250}:active")" = "$a0" ]'

# Rolling back after a re-run that changed nothing: the default checkpoint
# is the newest of a run that changed something, so the rollback undoes
# the deploy instead of restoring the no-op run's (identical) state.  A
# second rollback finds the store already restored and says so.  (lead)
PORT2=$(free_port)
start_redis "$PORT2" || bail_out "second redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT2" RLC_STATE_DIR="$T/state-noop"
"$RLC" run -q "$T/a.json" && "$RLC" run -q "$T/a.json"
check "a deploy and a re-run of the same plan" [ $? -eq 0 ]
check "the re-run wrote a checkpoint of its own" [ "$(ls "$T/state-noop/checkpoints" | wc -l)" -eq 2 ]
"$RLC" rollback 2> "$T/err"; r=$?
sed 's/^/# /' "$T/err"
check "rollback passes over the no-op run's checkpoint" \
    eval '[ $r -eq 0 ] && grep -q "passing over 1 newer checkpoint of runs that changed nothing" "$T/err"'
check "and undoes the deploy: no active pointer left" \
    [ "$(redis-cli -p "$PORT2" --scan --pattern "{$NS:*}:active" | wc -l)" -eq 0 ]
"$RLC" rollback 2> "$T/err"; r=$?
check "a second rollback is refused: rolled back already (exit 8, RLC3165)" \
    eval '[ $r -eq 8 ] && grep -q RLC3165 "$T/err" && grep -q "rolled back already" "$T/err"'
"$RLC" audit verify > /dev/null
check "the audit log verifies" [ $? -eq 0 ]

# Tenant names that canonical JSON escapes (non-ASCII, a quote): the
# record's map is read through jansson instead of in place, and still
# stands for the store.
cat > "$T/uni.rlp" <<'P'
policy "uni" {
  namespace = "uni"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant "café" { limit 10/s }
tenant "plain" { limit 10/s }
tenant "quo\"te" { limit 10/s }
P
sed 's/tenant "plain" { limit 10\/s }/tenant "plain" { limit 11\/s }/' "$T/uni.rlp" > "$T/uni2.rlp"
"$RLC" compile -q "$T/uni.rlp" -o "$T/uni.json" && "$RLC" compile -q "$T/uni2.rlp" -o "$T/uni2.json" ||
    bail_out "compile uni" "failed"
export RLC_STATE_DIR="$T/state-uni"
"$RLC" run -q "$T/uni.json" && "$RLC" run -q --json "$T/uni2.json" > "$T/ru.json"
check "names with escapes: the re-apply trusts the record (manifest, one pointer read)" \
    eval '[ "$(field "$T/ru.json" live_read)" = manifest ] && [ "$(field "$T/ru.json" pointers_read)" -eq 1 ]'

# --- buckets the record vouches for (SPEC.md 5.2, 7.7) ---------------------
# 6000 tenants: about 47 buckets.  After a deploy, the state directory's
# record lists the plan's buckets; a re-apply with one tenant changed reads
# only the buckets it needs (the changed tenant's, and those of the
# verification's 32 tenants), and takes the others' tenants from the record.
awk -v mode=a 'BEGIN { print "policy \"bk\" {\n  namespace = \"bk\"\n}\ntarget redis \"primary\" {\n  url = env(\"RLC_REDIS_URL\")\n}"
    for (i = 0; i < 6000; i++) printf "tenant \"b%05d\" { limit %d/s }\n", i, (i == 3001 ? 11 : 10) }' > "$T/bk2.rlp"
sed 's/limit 11\/s/limit 10\/s/' "$T/bk2.rlp" > "$T/bk1.rlp"
"$RLC" compile -q "$T/bk1.rlp" -o "$T/bk1.json" && "$RLC" compile -q "$T/bk2.rlp" -o "$T/bk2.json" ||
    bail_out "compile bk" "failed"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state-bk"
"$RLC" run -q --json "$T/bk1.json" > "$T/rb1.json"
s1=$(rc hgetall bk:deploy:state | paste - - | sort | md5sum) a1=$(rc get "{bk:b03001}:active")
"$RLC" run -q --json "$T/bk2.json" > "$T/rb2.json"
check "first deploy of 6000 tenants reads every bucket of the plan" \
    eval '[ "$(field "$T/rb1.json" buckets_read)" -eq "$(field "$T/rb1.json" buckets)" ] && [ "$(field "$T/rb1.json" buckets)" -gt 33 ]'
check "a one-tenant re-apply reads at most 33 buckets ($(field "$T/rb2.json" buckets_read) of $(field "$T/rb2.json" buckets))" \
    eval '[ "$(field "$T/rb2.json" result)" = committed ] && [ "$(field "$T/rb2.json" buckets_read)" -le 33 ] && [ "$(field "$T/rb2.json" tenants_changed)" -eq 1 ]'
check "  and the changed tenant is active at its new version" \
    eval '[ "$(rc get "{bk:b03001}:active")" = "$(rc hget bk:deploy:state b03001)" ] && [ "$(rc get "{bk:b03001}:active")" != "$a1" ]'
"$RLC" status -q "$T/bk2.json" > /dev/null; check "status after it: no drift" [ $? -eq 0 ]
"$RLC" run -q --json --full-read "$T/bk2.json" > "$T/rb3.json"
check "--full-read reads every bucket again, and finds nothing to change" \
    eval '[ "$(field "$T/rb3.json" buckets_read)" -eq "$(field "$T/rb3.json" buckets)" ] && [ "$(field "$T/rb3.json" keys_written)" -eq 0 ]'
# The re-apply's checkpoint holds the deploy state's fields it wrote (one),
# not the 6000-field hash; a rollback gives the hash back as it was.
check "the re-apply's checkpoint holds one field of the deploy state, not the whole hash" \
    python3 -c 'import json,sys; c=json.load(open(json.load(open(sys.argv[1]))["checkpoint"]))["targets"][0]
ks=[k["k"] for k in c["keys"]]
sys.exit(0 if "bk:deploy:state" not in ks and list(c["state"]["fields"]) == ["b03001"] else 1)' "$T/rb2.json"
"$RLC" rollback -q --force "$(field "$T/rb2.json" run)" 2> "$T/err"; r=$?
sed "s/^/# /" "$T/err"
check "rollback of the re-apply restores the deploy state hash exactly ($r)" \
    eval '[ $r -eq 0 ] && [ "$(rc hgetall bk:deploy:state | paste - - | sort | md5sum)" = "$s1" ] && [ "$(rc get "{bk:b03001}:active")" = "$a1" ]'

# From a bucket a record vouches for, a re-apply reads the tenants it needs
# (the changed one, the verification's), each checked against the version
# the record gives, not the whole bucket: b00189, the neighbour of verified
# b00188 (every 188th tenant is verified), edited in the file behind the
# index, is never read, and the deploy commits without using it (it keeps
# the config the record vouched for).
"$RLC" run -q --json "$T/bk1.json" > "$T/rb4.json"   # after the rollback: a record again
a2=$(rc get "{bk:b00189}:active")
python3 - "$T/bk2.json" "$T/bkt.json" <<'PY'
import sys
s = open(sys.argv[1]).read(); i = s.index('{"name":"b00189"'); j = s.index('"version"', i)
open(sys.argv[2], "w").write(s[:i] + s[i:j].replace('"count":10', '"count":99') + s[j:])
PY
"$RLC" run -q --json "$T/bkt.json" > "$T/rb5.json" 2> "$T/err"; r=$?
sed "s/^/# /" "$T/err"
check "a re-apply does not read a vouched bucket's other tenants: one edited behind the index is not used ($r)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rb5.json" tenants_changed)" -eq 1 ] && [ "$(rc get "{bk:b00189}:active")" = "$a2" ]'
"$RLC" run -q --json --full-read "$T/bkt.json" > "$T/rb6.json" 2> "$T/err"; r=$?
check "  --full-read reads that bucket whole and refuses it (exit 3, RLC3105)" \
    eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/err"'

# --- the record's buckets: what a run opens, splits and merges ------------
# (SPEC.md 7.7.)  bk_ok: the record checks from outside against the store,
# and the manifest is the state digest computed from the store alone.
bk_ok() {
    rc hgetall bk:deploy:state | paste - - |
        python3 "$ROOT/tests/plan/record.py" check "$T/state-bk" "$(rc get bk:deploy:manifest)" &&
    [ "$(rc hgetall bk:deploy:state | paste - - | python3 "$ROOT/tests/plan/state_digest.py")" = "$(rc get bk:deploy:manifest)" ]
}
nbk() { python3 "$ROOT/tests/plan/record.py" buckets "$T/state-bk" | wc -l; }
# unvouched PLAN: the plan's buckets whose digest the record does not hold
# (a run reads those whole, and no other when verification is scoped).
unvouched() {
    python3 - "$1" "$T/state-bk" <<'PY'
import glob, json, sys
p = json.loads(open(sys.argv[1]).readline())
(r,) = glob.glob(sys.argv[2] + "/manifest-*.json"); t = open(r).read()
have = {b[6] for b in json.loads(t[84:-1])["buckets"]}
print(sum(b["sha256"] not in have for b in p["tenant_index"]))
PY
}
# run_watched PLAN OUT [ARGS]: the run, with the store's commands listed
# (MONITOR): $T/mon.  wgets, wflips, wcfgs: the pointers it read, the
# pointers it set, the configs it wrote (shadow keys of verification not
# counted).
run_watched() {
    pl=$1 out=$2; shift 2
    # From when the monitor is listening until it has listed a command
    # sent after the run: nothing of the run is missed.
    monitor_start "$PORT" "$T/mon" || return 99
    "$RLC" run -q --json "$@" "$pl" > "$out"; rw=$?
    monitor_stop "$PORT" "$T/mon"
    # Shown with the suite's stderr when a case fails.
    echo "# watched $pl: exit $rw, GETs of pointers $(wgets), pointers_read $(field "$out" pointers_read), tenants_changed $(field "$out" tenants_changed), tenants_removed $(field "$out" tenants_removed), live_read $(field "$out" live_read), summary $(tr -d '\n' < "$out" | cut -c1-400)" >&2
    return $rw
}
# (What the library runs inside a call is listed too, as "lua": not counted;
# a pointer is set through the library, or deleted.)
mon() { grep -v ' lua\] ' "$T/mon"; }
wgets() { mon | grep -c '"GET" "{bk:[^"]*}:active"'; }
wflips() { mon | grep -E '"(FCALL|EVALSHA)" "[^"]*" "1" "\{bk:[^"]*\}:active"|"(SET|DEL)" "\{bk:[^"]*\}:active"' | grep -vc ':v:active'; }
wcfgs() { mon | grep '"HSET" "{bk:[^"]*}:cfg:' | grep -vc '}:v:cfg:'; }
sumcheck() {
    [ "$(field "$1" pointers_read)" -eq "$(wgets)" ] &&
    [ "$(field "$1" keys_written)" -eq $(( $(wflips) + $(wcfgs) )) ] &&
    [ "$(field "$1" configs_encoded)" -ge "$(wcfgs)" ]
}
"$RLC" run -q "$T/bk1.json" > /dev/null || bail_out "deploy bk1" "failed"
u=$(unvouched "$T/bk2.json")
run_watched "$T/bk2.json" "$T/rc1.json"; r=$?
check "a one-tenant re-apply of 6000 reads the $u bucket(s) the record does not vouch for, no other ($(field "$T/rc1.json" buckets_read) read)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc1.json" verify_scope)" = changed ] && [ "$(field "$T/rc1.json" buckets_read)" -eq "$u" ] && [ "$u" -eq 1 ]'
check "  its counts are the store's: pointers read $(wgets), configs $(wcfgs) and pointers $(wflips) written, rules read $(field "$T/rc1.json" rules_read)" \
    eval 'sumcheck "$T/rc1.json" && [ "$(wgets)" -eq 1 ] && [ "$(wcfgs)" -eq 1 ] && [ "$(field "$T/rc1.json" rules_read)" -eq 1 ]'
check "  its record checks from outside, and the manifest is the store's state digest" bk_ok
# A pointer edited by hand in a bucket nothing changes: the run does not
# see it (its bucket is not opened), status does, --full-read repairs it.
good=$(rc get "{bk:b04500}:active")
rc set "{bk:b04500}:active" 00000000deadbeef > /dev/null
run_watched "$T/bk1.json" "$T/rc2.json"; r=$?
check "a pointer edited by hand in an unchanged bucket: the run reads no pointer of it" \
    eval '[ $r -eq 0 ] && [ "$(wgets)" -eq 1 ] && [ "$(field "$T/rc2.json" pointers_read)" -eq 1 ]'
"$RLC" status --json "$T/bk1.json" > "$T/st-bk.json"; r=$?
check "  status finds it (exit 6, naming b04500)" \
    eval '[ $r -eq 6 ] && grep -q "\"b04500\"" "$T/st-bk.json"'
run_watched "$T/bk1.json" "$T/rc3.json" --full-read; r=$?
check "  --full-read reads every pointer and repairs it" \
    eval '[ $r -eq 0 ] && [ "$(wgets)" -eq 6000 ] && [ "$(wflips)" -eq 1 ] && [ "$(rc get "{bk:b04500}:active")" = "$good" ] && sumcheck "$T/rc3.json"'
"$RLC" status -q "$T/bk1.json" > /dev/null; check "  status after it: no drift" [ $? -eq 0 ]
check "  and the record checks" bk_ok
# A tenant added whose name begins a bucket, in the middle of one: the
# bucket splits in two; removed again, they merge.
x=$(python3 -c 'import hashlib
for i in range(100000):
    n = "b03000x%d" % i; d = hashlib.sha256(n.encode()).digest()
    if ((d[0] << 8) | d[1]) % 128 == 0: print(n); break')
{ cat "$T/bk1.rlp"; printf 'tenant "%s" { limit 7/s }\n' "$x"; } > "$T/bk3.rlp"
"$RLC" compile -q "$T/bk3.rlp" -o "$T/bk3.json" || bail_out "compile bk3" "failed"
n0=$(nbk)
run_watched "$T/bk3.json" "$T/rc4.json"; r=$?
check "a tenant added that begins a bucket ($x): its bucket splits ($n0 -> $(nbk) buckets), one pointer set" \
    eval '[ $r -eq 0 ] && [ "$(nbk)" -eq $((n0 + 1)) ] && python3 "$ROOT/tests/plan/record.py" buckets "$T/state-bk" | grep -q "^$x " && [ "$(wflips)" -eq 1 ] && sumcheck "$T/rc4.json"'
check "  the record checks, the manifest is the store's digest" bk_ok
run_watched "$T/bk1.json" "$T/rc5.json"; r=$?
check "  removed again: the two merge ($(nbk) buckets)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc5.json" tenants_removed)" -eq 1 ] && [ "$(nbk)" -eq "$n0" ] && [ -z "$(rc get "{bk:$x}:active")" ] && sumcheck "$T/rc5.json" && bk_ok'
# A tenant removed that began a bucket: its bucket merges into the one
# before; added back, they split again.
f=$(python3 "$ROOT/tests/plan/record.py" buckets "$T/state-bk" | sed -n 20p | cut -d' ' -f1)
grep -v "^tenant \"$f\" " "$T/bk1.rlp" > "$T/bk4.rlp"
"$RLC" compile -q "$T/bk4.rlp" -o "$T/bk4.json" || bail_out "compile bk4" "failed"
run_watched "$T/bk4.json" "$T/rc6.json"; r=$?
check "a tenant removed that began a bucket ($f): the buckets merge ($n0 -> $(nbk))" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc6.json" tenants_removed)" -eq 1 ] && [ "$(nbk)" -eq $((n0 - 1)) ] && [ -z "$(rc get "{bk:$f}:active")" ] && sumcheck "$T/rc6.json" && bk_ok'
"$RLC" status -q "$T/bk4.json" > /dev/null; check "  status: no drift" [ $? -eq 0 ]
run_watched "$T/bk1.json" "$T/rc7.json"; r=$?
check "  added back: they split again" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc7.json" tenants_changed)" -eq 1 ] && [ "$(nbk)" -eq "$n0" ] && sumcheck "$T/rc7.json" && bk_ok'
# The changed tenant's bucket of the record damaged on disk: detected when
# opened (it no longer hashes to its digest), the run reads everything.
python3 "$ROOT/tests/plan/record.py" tamper "$T/state-bk" b03001
run_watched "$T/bk2.json" "$T/rc8.json"; r=$?
check "a damaged bucket of the record is detected when opened: full read, committed" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc8.json" live_read)" = full ] && [ "$(field "$T/rc8.json" tenants_changed)" -eq 1 ] && sumcheck "$T/rc8.json" && bk_ok'
# Killed between the blobs appended to the pack and the index replaced
# (after the commit): the old index stays, naming none of the appended
# bytes; the next run finds the manifest moved on and reads everything,
# the one after trusts the record it wrote.
RLC_FAULT=commit.record "$RLC" run -q "$T/bk1.json" 2> /dev/null; r=$?
run_watched "$T/bk1.json" "$T/rc9.json"; r2=$?
check "killed at commit.record ($r): the next run reads everything and changes nothing" \
    eval '[ $r -eq 137 ] && [ $r2 -eq 0 ] && [ "$(field "$T/rc9.json" live_read)" = full ] && [ "$(field "$T/rc9.json" keys_written)" -eq 0 ] && sumcheck "$T/rc9.json" && bk_ok'
"$RLC" run -q --json "$T/bk1.json" > "$T/rc10.json"
check "  the run after it trusts the record again" \
    eval '[ "$(field "$T/rc10.json" live_read)" = manifest ] && [ "$(field "$T/rc10.json" pointers_read)" -eq 0 ] && bk_ok'
# A pack no index names (a compaction's, stopped before its index) is
# removed by the next run that writes the record; the index's pack stays.
: > "$T/state-bk/$(basename "$T"/state-bk/manifest-*.json .json)-stray.pack"
"$RLC" run -q "$T/bk2.json" > /dev/null
check "a pack no index names is removed when the record is written, one pack left" \
    eval '[ "$(ls "$T"/state-bk/*.pack | wc -l)" -eq 1 ] && ! ls "$T"/state-bk/*stray.pack > /dev/null 2>&1 && bk_ok'
# A plan indexed by another rule than the names' (5.2: readers rely on the
# index only): a tenant added right after a bucket, not beginning one, put
# by the index at the head of the next bucket.  The bucket before is the
# record's, unchanged, and elided; but in the state's buckets, cut by the
# names, the added tenant belongs to it: its entries are read from the
# record and cut with the added one, and the manifest is still the digest
# the store alone gives.
"$RLC" run -q "$T/bk1.json" > /dev/null
read -r e_last e_next <<EOF2
$(python3 - "$T/state-bk" <<'PY'
import glob, hashlib, json, sys
(p,) = glob.glob(sys.argv[1] + "/manifest-*.json"); t = open(p).read()
bs = json.loads(t[84:-1])["buckets"]
b, nxt = bs[10], bs[11]
print(b[1], nxt[0])
PY
)
EOF2
g=$(python3 -c 'import hashlib, sys
last, nxt = sys.argv[1], sys.argv[2]
for i in range(1000):
    n = last + "a%d" % i; d = hashlib.sha256(n.encode()).digest()
    if ((d[0] << 8) | d[1]) % 128 and n < nxt: print(n); break' "$e_last" "$e_next")
{ cat "$T/bk1.rlp"; printf 'tenant "%s" { limit 7/s }\n' "$g"; } > "$T/bk5.rlp"
"$RLC" compile -q "$T/bk5.rlp" -o "$T/bk5r.json" || bail_out "compile bk5" "failed"
python3 - "$T/bk5r.json" "$T/bk5.json" "$g" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
d = json.loads(open(sys.argv[1]).readline()); g = sys.argv[3]
names = [t["name"] for t in d["tenants"]]; at = names.index(g)
ix, first = d["tenant_index"], 0
for k, b in enumerate(ix):
    if first <= at < first + b["n"]:
        assert at == first + b["n"] - 1, "the added tenant ends its bucket"
        b["n"] -= 1; ix[k + 1]["n"] += 1
        break
    first += b["n"]
open(sys.argv[2], "w").write(S.seal(d))
PY
run_watched "$T/bk5.json" "$T/rc11.json"; r=$?
check "a plan indexed otherwise: a tenant added after an elided bucket ($g) is cut into it, the manifest is the store's digest" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rc11.json" live_read)" = manifest ] && [ "$(field "$T/rc11.json" tenants_changed)" -eq 1 ] && sumcheck "$T/rc11.json" && bk_ok'
"$RLC" run -q "$T/bk1.json" > /dev/null
python3 "$ROOT/tests/plan/record.py" tamper "$T/state-bk" "$e_last"
m0=$(rc get bk:deploy:manifest)
"$RLC" run -q "$T/bk5.json" 2> "$T/err"; r=$?
check "  and with that bucket of the record damaged: exit 1, the digest cannot be computed, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "the state digest could not be computed" "$T/err" && grep -q -- "--full-read" "$T/err" && [ "$(rc get bk:deploy:manifest)" = "$m0" ] && [ -z "$(rc get "{bk:$g}:active")" ]'
"$RLC" run -q --full-read "$T/bk1.json" > /dev/null; r=$?
check "  --full-read then writes the record again" eval '[ $r -eq 0 ] && bk_ok'
# The record is written whole the first time, then only what changed: the
# pack grows by the changed bucket's blob, not by the record.
pk() { stat -c %s "$T"/state-bk/manifest-*.pack; }
p0=$(pk)
"$RLC" run -q "$T/bk2.json" > /dev/null
check "a one-tenant re-apply appends one bucket to the record's pack ($p0 -> $(pk) bytes), not the record" \
    eval '[ $(( $(pk) - p0 )) -gt 0 ] && [ $(( $(pk) - p0 )) -lt $((p0 / 20)) ] && [ "$(ls "$T"/state-bk/manifest-*.pack | wc -l)" -eq 1 ]'

# --- a store small enough to list: keys it does not hold are not read -------
# (db 2: the deploy's plan key set by hand with a TTL, a key of nobody's.)
# A first deploy lists the store (DBSIZE, SCAN) instead of a GET per
# pointer and a DUMP per key it may touch; the checkpoint names the absent
# keys, and a rollback deletes them and gives the plan key back with its TTL.
export RLC_REDIS_URL="redis://127.0.0.1:$PORT/2" RLC_STATE_DIR="$T/state-ls"
rc -n 2 set re:deploy:plan by-hand px 600000 > /dev/null
rc -n 2 set other x > /dev/null
before=$(rc -n 2 --scan | sort | tr '\n' ' ')
g0=$(calls get); d0=$(calls dump)
RLC_FAULT=apply.flip:fail "$RLC" run -q --json "$T/a.json" > "$T/rl1.json" 2> "$T/err"; r=$?
g1=$(calls get); d1=$(calls dump)
check "a listed store: the pointers it does not hold are not read ($((g1 - g0)) GETs, $((d1 - d0)) DUMPs, $N tenants)" \
    eval '[ $((g1 - g0)) -lt 10 ] && [ $((d1 - d0)) -lt 10 ] && [ "$(field "$T/rl1.json" pointers_read)" -eq 0 ]'
check "  its checkpoint names the keys that were absent, and holds the key that was not" \
    python3 -c 'import json,sys; n=int(sys.argv[2]); c=json.load(open(json.load(open(sys.argv[1]))["checkpoint"]))["targets"][0]
ks={k["k"]: k for k in c["keys"]}; ab=set(c["absent"])
p="re:deploy:plan"
sys.exit(0 if len(ab) >= 2 * n and p in ks and ks[p]["d"] and p not in ab and not ab & set(ks) else 1)' "$T/rl1.json" "$N"
check "a failed first deploy into it rolls back: the same keys as before ($r)" \
    eval '[ $r -ne 0 ] && [ "$(rc -n 2 --scan | grep -v "^re:audit" | sort | tr "\n" " ")" = "$before" ]'
check "  the plan key's value and TTL as they were" \
    eval '[ "$(rc -n 2 get re:deploy:plan)" = by-hand ] && [ "$(rc -n 2 pttl re:deploy:plan)" -gt 500000 ]'
g0=$(calls get); h0=$(calls hget); m0=$(calls mget); hm0=$(calls hmget)
"$RLC" run -q --json "$T/a.json" > "$T/rl2.json"; r=$?
g1=$(calls get); h1=$(calls hget); m1=$(calls mget); hm1=$(calls hmget)
check "then the deploy commits, and status finds no drift" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rl2.json" result)" = committed ] && "$RLC" status -q "$T/a.json" > /dev/null'
# The commit is read back in batches: MGET of the pointers, HMGET of the
# deploy state's fields, not a GET and an HGET per tenant (the rest are
# verification's, bounded by its cases).
check "  its commit is read back in batches ($((g1 - g0)) GET, $((h1 - h0)) HGET, $((m1 - m0)) MGET, $((hm1 - hm0)) HMGET for $N tenants)" \
    eval '[ $((g1 - g0)) -lt $((N / 4)) ] && [ $((h1 - h0)) -lt $((N / 4)) ] && [ $((hm1 - hm0)) -ge 1 ]'
# Its checkpoint counts the pointers it added ("added") instead of an
# entry of null each in "active", which lists the pointers to set back.
check "  its checkpoint counts the $N pointers it added, with no null entry in active" \
    python3 -c 'import json,sys; c=json.load(open(json.load(open(sys.argv[1]))["checkpoint"]))["targets"][0]
sys.exit(0 if c.get("added") == int(sys.argv[2]) and None not in c["active"].values() else 1)' "$T/rl2.json" "$N"
# A run whose plan was already active and that only puts a deleted pointer
# back changed something: rlc rollback takes its checkpoint (not a no-op,
# which would undo the whole first deploy), and deletes that pointer again.
rc -n 2 del "{re:t005}:active" > /dev/null
"$RLC" run -q --json --full-read "$T/a.json" > "$T/rl3.json"; r=$?
"$RLC" rollback -q 2> "$T/err"; r2=$?
check "a run that only added a pointer back is what rlc rollback undoes ($r, $r2)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rl3.json" tenants_changed)" -eq 1 ] && [ $r2 -eq 0 ] && [ "$(rc -n 2 exists "{re:t005}:active")" = 0 ] && [ "$(rc -n 2 exists "{re:t006}:active")" = 1 ]'
"$RLC" run -q "$T/a.json" > /dev/null 2>&1
# What the batched read-back finds: a pointer, or a field of the deploy
# state, that someone else wrote between the commit and its reading.
RLC_FAULT=commit.confirm:cmd RLC_FAULT_CMD="redis-cli -p $PORT -n 2 set '{re:t007}:active' someone-else > /dev/null" \
    "$RLC" run -q "$T/b.json" 2> "$T/err"; r=$?
check "a pointer written by someone else during the commit: exit 1, RLC3167 names it, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "RLC3167.*after the commit {re:t007}:active reads someone-else" "$T/err" && grep -q "rolled back" "$T/err"'
RLC_FAULT=commit.confirm:cmd RLC_FAULT_CMD="redis-cli -p $PORT -n 2 hset re:deploy:state t007 someone-else > /dev/null" \
    "$RLC" run -q "$T/b.json" 2> "$T/err"; r=$?
check "a deploy state field written by someone else: exit 1, RLC3167 names the field" \
    eval '[ $r -eq 1 ] && grep -q "RLC3167.*after the commit re:deploy:state field t007 reads someone-else" "$T/err"'

# --- more than one chunk of plan versions ------------------------------------
# The record's check covers its plan versions by chunks of 1 024 (SPEC.md
# 7.7), and a re-apply hashes again only the chunks it changed: with 2 100
# tenants (three chunks), a tenant of the second changed and then changed
# back, each record written must still check, or the next run would not
# trust it and would encode every config again.
gen2() {
    awk -v mode="$1" 'BEGIN {
        print "policy \"re2\" {\n  namespace = \"re2\"\n}"
        print "target redis \"primary\" {\n  url = env(\"RLC_REDIS_URL\")\n}"
        for (i = 0; i < 2100; i++) {
            t = sprintf("t%04d", i)
            lim = (mode == "b" && t == "t1500") ? "limit 12/s" : "limit 10/s"
            printf "tenant \"%s\" {\n  %s\n}\n", t, lim
        }
    }'
}
gen2 a > "$T/a2.rlp"
gen2 b > "$T/b2.rlp"
"$RLC" compile -q "$T/a2.rlp" -o "$T/a2.json" && "$RLC" compile -q "$T/b2.rlp" -o "$T/b2.json" ||
    bail_out "compile a2, b2" "failed"
# chunks_ok: the record of re2 checks from outside, bucket by bucket.
chunks_ok() {
    rc -n 3 hgetall re2:deploy:state | paste - - |
        python3 "$ROOT/tests/plan/record.py" check "$T/state2" "$(rc -n 3 get re2:deploy:manifest)"
}
for p in a2 b2 a2 b2; do
    RLC_STATE_DIR="$T/state2" RLC_REDIS_URL="redis://127.0.0.1:$PORT/3" \
        "$RLC" run -q --json "$T/$p.json" > "$T/r_$p.json" || bail_out "deploy $p" "failed"
done
check "2 100 tenants: each re-apply of one tenant trusts the record the one before wrote ($(field "$T/r_b2.json" configs_encoded), $(field "$T/r_a2.json" configs_encoded) configs encoded)" \
    eval '[ "$(field "$T/r_b2.json" configs_encoded)" -lt 100 ] && [ "$(field "$T/r_a2.json" configs_encoded)" -lt 100 ] && [ "$(field "$T/r_b2.json" tenants_changed)" -eq 1 ]'
check "  and its record checks bucket by bucket from outside" chunks_ok

# --- verification scoped to the changed tenants (SPEC.md 7.7, "verify") -----
# The plans' verification cases are on every tenth tenant: t010 has cases,
# t007 has none.  With the store's library this plan's, before and after
# the apply, only the changed tenants' cases run; a library replaced
# mid-deploy is caught all the same (all cases run against it).
sed 's/^tenant "t010" {$/&\n  group "scoped" {\n    limit 3\/s\n  }/' "$T/a.rlp" > "$T/d.rlp"
"$RLC" compile -q "$T/d.rlp" -o "$T/d.json" || bail_out "compile d" "failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t={c["tenant"] for c in d["verify"]}; sys.exit(0 if "t010" in t and "t007" not in t else 1)' "$T/d.json" ||
    bail_out "the plan's cases" "are not on t010 and off t007"
V="env RLC_STATE_DIR=$T/state3 RLC_REDIS_URL=redis://127.0.0.1:$PORT/4"
$V "$RLC" run -q --json "$T/a.json" > "$T/v1.json" 2> "$T/v1.err"; r=$?
check "first deploy from a state directory with no record: every case runs ($(field "$T/v1.json" verify_cases))" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v1.json" verify_scope)" = all ] && [ "$(field "$T/v1.json" verify_cases)" -eq 60 ]'
$V "$RLC" run --json "$T/d.json" > "$T/v2.json" 2> "$T/v2.err"; r=$?
nc=$(python3 -c 'import json,sys; print(sum(c["tenant"] == "t010" for c in json.load(open(sys.argv[1]))["verify"]))' "$T/d.json")
check "library unchanged, t010 changed: only t010's $nc cases run, of 60" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v2.json" verify_scope)" = changed ] && [ "$(field "$T/v2.json" verify_cases)" -eq "$nc" ] && [ "$nc" -gt 0 ]'
check "  and it says so" \
    grep -q "[1-9][0-9]* requests* decided as the simulator predicts (the cases of changed tenants: the library is unchanged)" "$T/v2.err"
check "  reading the rules of t010 alone" [ "$(field "$T/v2.json" rules_read)" -eq 1 ]
# A record whose encoder was edited fails its check: not used for versions,
# nor to scope verification.
python3 "$ROOT/tests/plan/record.py" encoder "$T/state3"
$V "$RLC" run -q --json "$T/a.json" > "$T/v2b.json"; r=$?
check "a record whose encoder was edited: every case runs" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v2b.json" verify_scope)" = all ] && [ "$(field "$T/v2b.json" verify_cases)" -eq 60 ]'
$V "$RLC" run -q --json "$T/a.json" > "$T/v2c.json"; r=$?
check "  the record it writes names this library: scoped again (nothing changed, no case)" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v2c.json" verify_scope)" = changed ] && [ "$(field "$T/v2c.json" verify_cases)" -eq 0 ]'
# The store's library is this plan's, but the record was made under
# another (a deploy of a plan whose library differs, then this plan's
# library loaded behind its back, as another namespace's deploy on the same
# server would): the tenants the record vouches for were verified with the
# other library only, so every case runs.
python3 - "$T/a.json" "$T/a-lib2.json" "$T/lib.lua" <<'PY'
import hashlib, json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
d = json.load(open(sys.argv[1])); open(sys.argv[3], "w").write(d["library"]["source"])
src = d["library"]["source"] + "\n-- another build of the library\n"
d["library"]["source"] = src; d["library"]["sha256"] = hashlib.sha256(src.encode()).hexdigest()
open(sys.argv[2], "w").write(S.seal(d))
PY
$V "$RLC" run -q "$T/a-lib2.json" || bail_out "deploy of a plan with another library" "failed"
rc -x function load replace < "$T/lib.lua" > /dev/null
$V "$RLC" run -q --json "$T/d.json" > "$T/v2d.json"; r=$?
check "a record made under another library, the store's library this plan's: every case runs" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v2d.json" verify_scope)" = all ] && [ "$(field "$T/v2d.json" verify_cases)" -eq 61 ]'
$V "$RLC" run -q --json "$T/a.json" > "$T/v2e.json"; r=$?
check "  then, the record made under this library: scoped again" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v2e.json" verify_scope)" = changed ]'
$V "$RLC" run -q --json --full-read "$T/a.json" > "$T/v3.json"; r=$?
check "--full-read runs every case" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v3.json" verify_scope)" = all ] && [ "$(field "$T/v3.json" verify_cases)" -eq 60 ]'
# A library whose rlc_decide answers one more remaining than the real one,
# loaded after the apply, before verification: the change (t007) has no
# case of its own, so only the library's check finds it.
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["library"]["source"], end="")' "$T/b.json" |
    sed "s/^    redis.register_function('rlc_decide', decide)\$/    redis.register_function('rlc_decide', function(k, a) local r = decide(k, a); if type(r) == 'table' and r[3] then r[3] = tonumber(r[3]) + 1 end; return r end)/" > "$T/bad.lua"
grep -q "tonumber(r\[3\]) + 1" "$T/bad.lua" || bail_out "tampered library" "sed found no rlc_decide"
lib0=$(rc -n 4 function list withcode | md5sum)
p0=$(rc -n 4 get "{$NS:t007}:active")
RLC_FAULT=apply.done:cmd RLC_FAULT_CMD="redis-cli -p $PORT -x function load replace < $T/bad.lua >/dev/null" \
    $V "$RLC" run -q --json "$T/b.json" > "$T/v4.json" 2> "$T/v4.err"; r=$?
check "a library replaced mid-deploy is caught: exit 1, RLC3184" \
    eval '[ $r -eq 1 ] && grep -q RLC3184 "$T/v4.err"'
check "  because the library is not the plan's any more (it was replaced during the deploy)" \
    grep -q "replaced during the deploy" "$T/v4.err"
check "  rolled back: t007's pointer and the library as they were" \
    eval '[ "$(rc -n 4 get "{$NS:t007}:active")" = "$p0" ] && [ "$(rc -n 4 function list withcode | md5sum)" = "$lib0" ]'
# The plan's library with a comment added (the same decisions, other
# bytes), loaded the same way: what runs is still not what was deployed.
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["library"]["source"] + "\n-- same decisions, other bytes", end="")' \
    "$T/b.json" > "$T/same.lua"
RLC_FAULT=apply.done:cmd RLC_FAULT_CMD="redis-cli -p $PORT -x function load replace < $T/same.lua >/dev/null" \
    $V "$RLC" run -q --json "$T/b.json" > "$T/v4s.json" 2> "$T/v4s.err"; r=$?
check "a library with the same decisions but other bytes, replaced mid-deploy, is caught too: exit 1, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "replaced during the deploy" "$T/v4s.err" && [ "$(rc -n 4 get "{$NS:t007}:active")" = "$p0" ] && [ "$(rc -n 4 function list withcode | md5sum)" = "$lib0" ]'
$V "$RLC" run -q --json "$T/b.json" > "$T/v5.json"; r=$?
check "then b deploys, t007 has no case: none runs" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v5.json" verify_scope)" = changed ] && [ "$(field "$T/v5.json" verify_cases)" -eq 0 ]'
# The record made under this library, the store's replaced by hand before
# the run: the buckets of the cases' tenants, left out at load, are read
# for verification, and every case runs.
rc -x function load replace < "$T/same.lua" > /dev/null
$V "$RLC" run -q --json "$T/a.json" > "$T/v6.json"; r=$?
check "the store's library replaced before a run: the cases' buckets are read and every case runs" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/v6.json" verify_scope)" = all ] && [ "$(field "$T/v6.json" verify_cases)" -eq 60 ] && [ "$(rc -n 4 function list withcode | md5sum)" = "$lib0" ]'
