#!/bin/sh
# fixed_cost.sh - what every `rlc run` spends whatever it changes (SPEC.md
# 7.7, "What every run costs"), and that the shortcuts taken there change
# nothing a deploy promises:
#  - the library is not loaded again when the checkpoint read it, under the
#    deploy lock, as the plan's own, byte for byte; it is when the store's
#    differs (replaced by hand), and the run then leaves the plan's;
#  - preflight's ACL checks go in one pipeline: a re-apply that changes
#    nothing reaches the server in a few reads, not one per check, and a
#    refused command is still named (preflight.sh refuses each one); a
#    one-tenant re-apply in 22, with one INFO;
#  - the library's source is read apart from the plan's head when it is
#    plain ASCII: a plan whose source holds escapes it does not take
#    (non-ASCII, \u0001) or a non-canonical `\/` loads the same library as
#    the canonical text, and a source changed without its digest is still
#    refused;
#  - digests are made without initialising OpenSSL (no provider, no
#    openssl.cnf), which a TLS connection still does (tls.sh).
. "$ROOT/tests/lib.sh"
plan 24

NS=fc
cat > "$T/p.rlp" <<'EOF'
policy "fc" {
  namespace = "fc"
  max_clock_skew = 500ms
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant "acme" {
  limit 10/s
  group "g" {
    limit 5/s
  }
}
tenant "beta" {
  limit 20/s
}
EOF
sed 's|limit 20/s|limit 21/s|' "$T/p.rlp" > "$T/q.rlp"
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || bail_out "compile p" "failed"
"$RLC" compile -q "$T/q.rlp" -o "$T/q.json" || bail_out "compile q" "failed"

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
rc() { redis-cli -p "$PORT" "$@"; }
calls() { rc info commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0; }
reads() { rc info stats | tr -d '\r' | sed -n 's/^total_reads_processed:\([0-9]*\)$/\1/p'; }
libsum() { rc function list withcode | md5sum; }

"$RLC" run -q "$T/p.json" || bail_out "first deploy" "failed"
want=$(libsum)

# --- the library, loaded only when the store's is not the plan's ------------
l0=$(calls 'function|load')
"$RLC" run "$T/q.json" 2> "$T/q.err"; r=$?
l1=$(calls 'function|load')
check "a re-apply whose store holds the plan's library does not load it again" \
    eval '[ $r -eq 0 ] && [ "$l1" -eq "$l0" ]'
check "  and says so" grep -q "already loaded, as the checkpoint read it: not loaded again" "$T/q.err"
# Another build of the library, loaded by hand: the next run loads the plan's.
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["library"]["source"] + "\n-- another build", end="")' \
    "$T/p.json" > "$T/other.lua"
rc -x function load replace < "$T/other.lua" > /dev/null || bail_out "load another library" "failed"
l1=$(calls 'function|load')
"$RLC" run "$T/p.json" 2> "$T/p.err"; r=$?
l2=$(calls 'function|load')
check "a store whose library was replaced by hand gets the plan's loaded again" \
    eval '[ $r -eq 0 ] && [ "$l2" -eq $((l1 + 1)) ] && [ "$(libsum)" = "$want" ]'
check "  and says so" grep -q "library rlc loaded on every primary (FUNCTION LOAD)" "$T/p.err"

# --- preflight in one pipeline ----------------------------------------------
# A run that changes nothing: preflight's ~45 ACL DRYRUNs were one read each.
acl0=$(calls 'acl|dryrun'); rd0=$(reads)
"$RLC" run -q "$T/p.json"; r=$?
rd1=$(reads); acl1=$(calls 'acl|dryrun')
check "a run that changes nothing commits" [ $r -eq 0 ]
check "  preflight checks every command ($((acl1 - acl0)) ACL DRYRUNs) in a few reads ($((rd1 - rd0)) in the run)" \
    eval '[ $((acl1 - acl0)) -ge 40 ] && [ $((rd1 - rd0)) -lt 40 ]'
# A one-tenant re-apply's round trips: the marker and the manifest's
# removal go in one, the audit record's head and stream entry in one, the
# library's second read with the verification's requests (25 reads
# before; the count includes INFO's own).  A build slow enough (ASan) that
# the server reads one pipeline in two parts counts one read more, so the
# bound has that read of slack.  The INFO the connection opens with serves
# preflight too: one INFO, where there were two, which commandstats counts
# exactly (less the one INFO of `calls` itself).
info0=$(calls info)
rd0=$(reads)
"$RLC" run -q "$T/q.json"; r=$?
rd1=$(reads)
info1=$(calls info)
"$RLC" run -q "$T/p.json" || bail_out "back to p" "failed"
check "a one-tenant re-apply reaches the server in at most 22 reads ($((rd1 - rd0 - 1)))" \
    eval '[ $r -eq 0 ] && [ $((rd1 - rd0 - 1)) -le 22 ]'
check "  and asks INFO once ($((info1 - info0 - 3)))" [ $((info1 - info0 - 3)) -eq 1 ]

# --- the library's source read apart ----------------------------------------
# Escapes the plain reader leaves to jansson (é, \u0001, a tab), sealed as
# Python writes canonical JSON; then the first plan with every "/" of its
# source written "\/" (not canonical: the same content, so the same digest).
python3 - "$T/p.json" "$T/esc.json" "$T/esc.lua" "$T/slash.json" <<'PY'
import hashlib, json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
d = json.load(open(sys.argv[1]))
src = d["library"]["source"] + "\n-- caf\u00e9 \u0001\t\"q\" a/b\n"
d["library"]["source"] = src
d["library"]["sha256"] = hashlib.sha256(src.encode()).hexdigest()
open(sys.argv[2], "w").write(S.seal(d))
open(sys.argv[3], "w").write(src)
text = open(sys.argv[1]).read()
head, sep, rest = text.partition('"source":"')
body, end = rest.split('","version"', 1)
open(sys.argv[4], "w").write(head + sep + body.replace("/", "\\/") + '","version"' + end)
PY
[ -s "$T/slash.json" ] || bail_out "escaped plans" "not written"
"$RLC" run -q "$T/esc.json"; r=$?
check "a plan whose library source holds non-ASCII and control escapes deploys" [ $r -eq 0 ]
check "  and the store holds exactly that source" \
    eval '[ "$(rc function list withcode | python3 -c "import sys; d=sys.stdin.read(); print(\"caf\u00e9 \x01\t\\\"q\\\" a/b\" in d)")" = True ]'
grep -q '\\/' "$T/slash.json" || bail_out "slash plan" "no \\/ in it"
"$RLC" run -q "$T/slash.json" 2> "$T/slash.err"; r=$?
check "a plan whose source writes / as \\/ deploys (same content, same digest) the same library" \
    eval '[ $r -eq 0 ] && [ "$(libsum)" = "$want" ]'
# One character of the source changed, the digests left: refused.
sed 's/-- enforce.lua - the rlc/-- enforce.lua - THE rlc/' "$T/p.json" > "$T/bad.json"
cmp -s "$T/p.json" "$T/bad.json" && bail_out "tampered plan" "sed changed nothing"
"$RLC" run -q "$T/bad.json" 2> "$T/bad.err"; r=$?
check "a library source changed without its digest is refused: exit 3, RLC3105" \
    eval '[ $r -eq 3 ] && grep -q RLC3105 "$T/bad.err"'

# --- the record's index, not flushed when the pack is appended to -----------
# What a crash of the machine may leave of it: the old index, or an empty or
# torn one.  Each must make the next run read everything, and commit.
"$RLC" run -q "$T/p.json" || bail_out "deploy p" "failed"
"$RLC" run -q "$T/q.json" || bail_out "deploy q" "failed"
idx=$(ls "$RLC_STATE_DIR"/manifest-*.json 2>/dev/null | head -1)
[ -f "$idx" ] || bail_out "the record's index" "not found"
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(v if v is not None else "")' "$1" "$2"; }
head -c 40 "$idx" > "$T/torn" && cp "$T/torn" "$idx"
"$RLC" run -q --json "$T/p.json" > "$T/torn.json"; r=$?
check "a torn record index: the next run reads every pointer and commits" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/torn.json" live_read)" = full ]'
: > "$idx"
"$RLC" run -q --json "$T/q.json" > "$T/empty.json"; r=$?
check "an empty record index: the same" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/empty.json" live_read)" = full ]'
"$RLC" run -q --json "$T/p.json" > "$T/after.json"; r=$?
check "  and the run after trusts the record it wrote" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/after.json" live_read)" = manifest ]'
# traced OUT ARGS...: ARGS under strace -f, its log in OUT.  LeakSanitizer
# cannot stop a traced process to look for leaks (an ASan build would fail
# at exit for that alone), so it is off for these runs.
traced() {
    o=$1; shift
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o "$o" "$@"
}
# How many fsyncs a one-tenant re-apply makes (strace, when installed).
if command -v strace >/dev/null 2>&1; then
    traced "$T/sc" -c -e trace=fsync,fdatasync "$RLC" run -q "$T/q.json" > /dev/null 2>&1
    n=$(awk '$NF == "fsync" { print $4 }' "$T/sc")
    check "a one-tenant re-apply makes at most 9 fsyncs ($n)" [ "${n:-99}" -le 9 ]
else
    skip "a one-tenant re-apply makes at most 9 fsyncs" "strace not installed"
fi
# Digests need no OpenSSL provider: a plain redis:// run never initialises
# the library, whose configuration file is the first thing it reads.
if command -v strace >/dev/null 2>&1; then
    traced "$T/op" -e trace=open,openat "$RLC" run -q "$T/p.json" > /dev/null 2>&1; r=$?
    check "a plain redis:// run does not initialise OpenSSL (no openssl.cnf read)" \
        eval '[ $r -eq 0 ] && grep -q "audit.jsonl" "$T/op" && ! grep -q "openssl.cnf" "$T/op"'
else
    skip "a plain redis:// run does not initialise OpenSSL" "strace not installed"
fi

# --- the tenant index read by hand when it is canonical ---------------------
# The same content written another way (each bucket's members in another
# order): left to jansson, and the plan still loads and deploys; an index
# whose numbers were changed is still refused.
python3 - "$T/q.json" "$T/reord.json" "$T/badix.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def reorder(m):
    b = json.loads(m.group(0))
    return '{"sha256":"%s","n":%d,"len":%d,"at":%d}' % (b["sha256"], b["n"], b["len"], b["at"])
head, sep, rest = text.partition('"tenant_index":')
ix, tail = rest.split(',"tenants":', 1)
open(sys.argv[2], "w").write(head + sep + re.sub(r'\{"at":[^}]*\}', reorder, ix) + ',"tenants":' + tail)
bad = re.sub(r'"n":(\d+)', lambda m: '"n":%d' % (int(m.group(1)) + 1), ix, count=1)
open(sys.argv[3], "w").write(head + sep + bad + ',"tenants":' + tail)
PY
"$RLC" run -q "$T/reord.json"; r=$?
check "an index written in another member order loads (jansson reads it) and deploys" [ $r -eq 0 ]
"$RLC" run -q "$T/badix.json" 2> "$T/badix.err"; r=$?
check "an index with a bucket's count changed is refused: exit 3" \
    eval '[ $r -eq 3 ] && grep -q "RLC310[56]" "$T/badix.err"'

# --- a bucket's bytes checked when it is read, not at load ------------------
# Two buckets' boundary moved (the numbers still add up, the index sealed
# again): a deploy that reads them refuses the plan, naming the bucket.
awk 'BEGIN { print "policy \"fb\" {\n  namespace = \"fb\"\n}"
    print "target redis \"primary\" {\n  url = env(\"RLC_REDIS_URL\")\n}"
    for (i = 0; i < 600; i++) printf "tenant \"f%03d\" {\n  limit 10/s\n}\n", i }' > "$T/fb.rlp"
"$RLC" compile -q "$T/fb.rlp" -o "$T/fb.json" || bail_out "compile fb" "failed"
python3 - "$T/fb.json" "$T/fbm.json" <<'PY' || bail_out "misframed plan" "fewer than 3 buckets"
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
text = open(sys.argv[1]).read()
d = json.loads(text)
ix = d["tenant_index"]
if len(ix) < 3:
    sys.exit(1)
old_ix = json.dumps(ix, separators=(",", ":"))
ix[1]["len"] -= 5; ix[2]["at"] -= 5; ix[2]["len"] += 5
old_dg, new_dg = d["plan_digest"], S.digest(d)
# The same text with the new index and digest: the tenants' bytes as they were.
out = text.replace(old_ix, json.dumps(ix, separators=(",", ":")), 1).replace(old_dg, new_dg, 1)
assert out != text
open(sys.argv[2], "w").write(out)
PY
"$RLC" run -q "$T/fbm.json" 2> "$T/fbm.err"; r=$?
check "a bucket not where the index says is refused when read: exit 3, RLC3105, naming it" \
    eval '[ $r -eq 3 ] && grep -q "RLC3105" "$T/fbm.err" && grep -q "tenant_index\[[12]\]: the bucket is not where the index says" "$T/fbm.err"'

# --- a case's tenant in a bucket left unopened -------------------------------
# The store holds fb (the record vouches for every bucket), then a plan whose
# verification case names a tenant it lacks, sealed again: the case's
# bucket is not opened, its tenant is looked up in the record, and the plan
# is refused as before.
"$RLC" run -q "$T/fb.json" || bail_out "deploy fb" "failed"
python3 - "$T/fb.json" "$T/fbc.json" <<'PY' || bail_out "plan with a missing case tenant" "not written"
import json, os, sys
sys.path.insert(0, os.environ["ROOT"] + "/tests/plan")
import seal as S
d = json.load(open(sys.argv[1]))
names = sorted(t["name"] for t in d["tenants"])
c = next(v for v in d["verify"] if v["tenant"] != names[0])
gone = c["tenant"] + "x"     # sorts inside the same bucket, names no tenant
c["tenant"] = gone
c["path"][0]["name"] = gone
open(sys.argv[2], "w").write(S.seal(d))
PY
"$RLC" run -q --json "$T/fbc.json" > "$T/fbc.out" 2> "$T/fbc.err"; r=$?
check "a case naming a tenant the plan lacks, in a bucket left unopened, is refused: exit 3, RLC3106" \
    eval '[ $r -eq 3 ] && grep -q "RLC3106.*names a tenant the plan lacks" "$T/fbc.err"'

# --- the cases' tenants named by the record ---------------------------------
# The record lists the tenants the cases name (each in the store's map): a
# re-apply looks them up there instead of reading their buckets' blobs.
# Counted against the same record without the list (its check sealed
# again), which reads one blob per bucket holding a case's tenant.
"$RLC" run -q "$T/fb.json" || bail_out "deploy fb again" "failed"
sed '0,/limit 10\/s/s//limit 11\/s/' "$T/fb.rlp" > "$T/fb2.rlp"
"$RLC" compile -q "$T/fb2.rlp" -o "$T/fb2.json" || bail_out "compile fb2" "failed"
packs_read() { grep -c '\.pack", O_RDONLY' "$1"; }
if command -v strace >/dev/null 2>&1; then
    traced "$T/with" -e trace=open,openat "$RLC" run -q "$T/fb2.json"; r1=$?
    "$RLC" run -q "$T/fb.json"; r2=$?
    python3 - "$RLC_STATE_DIR" <<'PY' || bail_out "record without its cases" "not written"
import glob, hashlib, sys
import json
(p,) = [f for f in glob.glob(sys.argv[1] + "/manifest-*.json")
        if json.loads(open(f, "rb").read()[84:-1])["namespace"] == "fb"]
t = open(p, "rb").read()
ix = t[84:-1]
i = ix.index(b',"cases":[')
ix = ix[:i] + ix[ix.index(b"]", i + 10) + 1:]
open(p, "wb").write(b'{"check":"' + hashlib.sha256(ix).hexdigest().encode() + b'","index":' + ix + b"}")
PY
    traced "$T/without" -e trace=open,openat "$RLC" run -q --json "$T/fb2.json" > "$T/wo.json"; r3=$?
    w=$(packs_read "$T/with") wo=$(packs_read "$T/without")
    check "a re-apply whose record names the cases' tenants reads no blob for them ($w pack reads; $wo without the list)" \
        eval '[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ $r3 -eq 0 ] && [ "$w" -le 2 ] && [ "$wo" -gt "$w" ]'
    check "  a record without the list is still trusted (older indexes have none)" \
        eval '[ "$(field "$T/wo.json" live_read)" = manifest ]'
else
    skip "a re-apply whose record names the cases' tenants reads no blob for them" "strace not installed"
    skip "  a record without the list is still trusted" "strace not installed"
fi
redis-cli -p "$PORT" hgetall fb:deploy:state | paste - - | tr ' ' '\t' > "$T/fbstate"
check "the record's list holds only tenants of the store's map (record.py check)" \
    eval 'RECORD_NS=fb python3 "$ROOT/tests/plan/record.py" check "$RLC_STATE_DIR" "$(rc get fb:deploy:manifest)" < "$T/fbstate"'
