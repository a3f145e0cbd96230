#!/bin/sh
# plan_auth.sh - plans are authenticated, not only digested (SPEC.md 5.3,
# 5.8).  A plan edited and sealed again with a fresh digest must still be
# refused by the loader when it holds what rlc compile never writes (a
# namespace that changes every hash tag, a verification that holds the lock
# for minutes, out-of-range rule values, a forged compiler string), before
# any lock is taken; and with a verification key configured, only a plan
# signed with that key runs.  Against a real redis-server.
. "$ROOT/tests/lib.sh"
plan 37
cd "$T" || exit 2

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
unset RLC_VERIFY_KEY RLC_ONLY
rc() { redis-cli -p "$PORT" "$@"; }

cat > p.rlp <<'EOF'
policy "auth" {
  namespace = "au"
  max_clock_skew = 200ms
}
tenant "acme" {
  limit 100/1m
  route GET "/v1/*" { limit 10/10s }
  group "g" { concurrency 2 lease 10s }
}
tenant "beta" { limit 50/1m }
target redis "primary" { url = env("RLC_REDIS_URL") }
EOF
"$RLC" compile -q p.rlp -o plan.json || bail_out "compile" "failed"

# reseal IN OUT PYTHON: OUT = IN with the Python statement applied to the
# parsed plan d, and plan_digest recomputed as SPEC.md 5.2 defines it (what
# anyone who can edit a plan can do).
cat > reseal.py <<EOF
import json, sys
sys.path.insert(0, "$ROOT/tests/plan")
from seal import seal
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(seal(d))
EOF
reseal() { python3 reseal.py "$@"; }

# refused NAME PLAN EXIT CODE PATTERN [rlc run options]: rlc run refuses PLAN
# within 10 s with EXIT and CODE, the message matching PATTERN, and leaves no
# lock, no journal and no key of the namespace.
refused() {
    name=$1 plan=$2 want=$3 code=$4 pat=$5
    shift 5
    rc FLUSHALL > /dev/null
    rm -rf "$T/state"
    timeout 10 "$RLC" run -q "$@" "$plan" > out 2> err
    r=$?
    if [ $r -ne "$want" ]; then
        notok "$name" "exit $r, expected $want: $(head -c 300 err)"
    elif ! grep -q "error\[$code\]" err; then
        notok "$name" "no $code: $(head -c 300 err)"
    elif ! grep -qE -- "$pat" err; then
        notok "$name" "message does not match /$pat/: $(head -c 300 err)"
    elif [ -n "$(rc --scan --pattern 'au:deploy:*')$(rc --scan --pattern '{au*')" ]; then
        notok "$name" "keys left in Redis: $(rc --scan | head -5 | tr '\n' ' ')"
    elif [ -e "$T/state/journal.jsonl" ]; then
        notok "$name" "journal left in the state directory"
    else
        ok "$name"
    fi
}

# --- hostile plans, sealed again: refused by the loader even unsigned ----------
reseal plan.json huge.json 'd["verify"][0]["sends"] = 10**9'
refused "a 10^9-request verification is refused before the lock (exit 3, RLC3106)" \
    huge.json 3 RLC3106 'verify\[0\]\.sends is 1000000000, outside \[1, 32\]'
reseal plan.json many.json 'd["verify"] = d["verify"] * 40'
refused "more verification cases than rlc compile writes are refused (RLC3106)" \
    many.json 3 RLC3106 'verify holds [0-9]+ cases; rlc compile writes at most 96'
reseal plan.json brace.json 'd["policy"]["namespace"] = "a}{b"'
refused "namespace 'a}{b' (one hash tag for every tenant) is refused (RLC3106)" \
    brace.json 3 RLC3106 "policy\.namespace must be 1 to 64 of \[A-Za-z0-9_.-\].*'a\}\{b'"
reseal plan.json longns.json 'd["policy"]["namespace"] = "n" * 100000'
refused "a 100 KB namespace is refused (RLC3106)" \
    longns.json 3 RLC3106 'policy\.namespace .*\(100000 bytes\)'
if [ "$(wc -c < err)" -lt 1000 ]; then ok "the 100 KB namespace is not echoed whole"
else notok "the 100 KB namespace is not echoed whole" "$(wc -c < err) bytes of stderr"; fi
reseal plan.json evil.json 'd["compiler"] = "rlc 0.1.0.0.0-evil"'
refused "compiler 'rlc 0.1.0.0.0-evil' is not compatible (RLC3104)" \
    evil.json 3 RLC3104 "compiled by 'rlc 0.1.0.0.0-evil'"
reseal plan.json plus.json 'd["compiler"] = "rlc +0.1.0"'
refused "compiler 'rlc +0.1.0' is not compatible (RLC3104)" plus.json 3 RLC3104 "'rlc \+0.1.0'"
reseal plan.json onerr.json 'd["policy"]["on_store_error"] = "sometimes"'
refused "an unknown on_store_error is refused (RLC3106)" onerr.json 3 RLC3106 'on_store_error'

# Rule values: the tenant's version is resealed too, so only the range check
# stands between the plan and the store.
cat > rule.py <<'EOF'
import hashlib, json
def rule(d, tenant, pred, **kv):
    for t in d["tenants"]:
        if t["name"] == tenant:
            for r in t["rules"]:
                if pred(r):
                    r.update(kv)
            s = json.dumps(t["rules"], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            t["version"] = hashlib.sha256(s.encode()).hexdigest()
EOF
pre='exec(open("rule.py").read()); '
reseal plan.json window.json "$pre"'rule(d, "beta", lambda r: True, window_ms=367 * 86400000, count=1, burst=1)'
refused "a window over 366 days is refused (RLC3106)" window.json 3 RLC3106 \
    'tenant "beta" rule [0-9a-f]{16}: "window_ms" = 31708800000 is out of range'
reseal plan.json lease.json "$pre"'rule(d, "acme", lambda r: r.get("kind") == "concurrency", lease_ms=86400001)'
refused "a lease over 1 day is refused (RLC3106)" lease.json 3 RLC3106 '"lease_ms" = 86400001 is out of range'
reseal plan.json cost.json "$pre"'rule(d, "beta", lambda r: True, cost=2**40)'
refused "cost x window over 2^51 is refused (RLC3106)" cost.json 3 RLC3106 'cost 1099511627776 x 60000 ms exceeds 2\^51'
reseal plan.json method.json "$pre"'rule(d, "acme", lambda r: r.get("route") is not None, route={"method": "BREW", "path": "/v1/*"})'
refused "an unknown route method is refused (RLC3106)" method.json 3 RLC3106 "route method 'BREW'"
reseal plan.json route.json "$pre"'rule(d, "acme", lambda r: r.get("route") is not None, route={"method": "GET", "path": "/v1/a*"})'
refused "a route with a partial '*' segment is refused (RLC3106)" route.json 3 RLC3106 "'\*' must be a whole path segment"
reseal plan.json lname.json "$pre"'rule(d, "acme", lambda r: "subject" in r, subject="group:" + "g" * 5000)'
refused "a subject name over 4096 bytes is refused (RLC3106)" lname.json 3 RLC3106 'each NAME 1 to 4096 bytes'
reseal plan.json ghost.json 'd["verify"][0]["tenant"] = "ghost"; d["verify"][0]["path"][0]["name"] = "ghost"'
refused "a verification case naming no tenant of the plan is refused (RLC3106)" \
    ghost.json 3 RLC3106 'verify\[0\]\.tenant names a tenant the plan lacks'

# The untouched plan still deploys, and plan show still reads it.
rc FLUSHALL > /dev/null; rm -rf "$T/state"
"$RLC" run -q plan.json 2> err; r=$?
check "the compiled plan deploys (exit 0)" [ $r -eq 0 ]

# --- signatures ------------------------------------------------------------------
"$RLC" keygen key > out 2> err; r=$?
check "rlc keygen writes key (mode 0600) and key.pub" eval \
    '[ $r -eq 0 ] && [ "$(stat -c %a key)" = 600 ] && grep -q "BEGIN PUBLIC KEY" key.pub'
"$RLC" keygen key 2> err; r=$?
check "rlc keygen never replaces a key (exit 2, RLC3109)" eval '[ $r -eq 2 ] && grep -q "RLC3109" err'
openssl genpkey -algorithm ed25519 -out other.pem 2> /dev/null
openssl pkey -in other.pem -pubout -out other.pub 2> /dev/null
"$RLC" compile -q --sign key p.rlp -o signed.json; r=$?
check "rlc compile --sign writes PLAN.sig" eval '[ $r -eq 0 ] && [ -s signed.json.sig ]'
check "signing does not change the plan's bytes" cmp plan.json signed.json
"$RLC" compile -q --sign other.pem p.rlp -o osigned.json
check "a key from openssl genpkey signs too" [ -s osigned.json.sig ]

# libcrypto is loaded when a key is first read: one that cannot be loaded
# is an error naming it (signing: nothing written; verifying: nothing run).
mkdir -p "$T/nocrypto" && : > "$T/nocrypto/libcrypto.so.3"
LD_LIBRARY_PATH="$T/nocrypto" "$RLC" compile -q --sign key p.rlp -o nc.json 2> err; r=$?
check "signing without a loadable libcrypto: exit 2, RLC3109 naming it, no signature ($r)" \
    eval '[ $r -eq 2 ] && grep -q "RLC3109.*plan signatures need OpenSSL.s libcrypto, which cannot be loaded: .*libcrypto.so.3" err && [ ! -e nc.json.sig ]'
rc FLUSHALL > /dev/null; rm -rf "$T/state"
LD_LIBRARY_PATH="$T/nocrypto" "$RLC" run -q --verify key.pub signed.json 2> err; r=$?
check "verifying without a loadable libcrypto: refused, RLC3109, the store untouched ($r)" \
    eval '[ $r -ne 0 ] && grep -q "RLC3109.*libcrypto.so.3" err && [ "$(rc DBSIZE)" = 0 ]'
rc FLUSHALL > /dev/null; rm -rf "$T/state"
"$RLC" run -q --verify key.pub signed.json 2> err; r=$?
check "a signed plan runs with --verify (exit 0)" [ $r -eq 0 ]
rc FLUSHALL > /dev/null; rm -rf "$T/state"
RLC_VERIFY_KEY="$T/other.pub" "$RLC" run -q osigned.json 2> err; r=$?
check "a signed plan runs with RLC_VERIFY_KEY (exit 0)" [ $r -eq 0 ]

# Tampered and sealed again, the old signature beside it.
reseal signed.json tamper.json 'd["tenants"][1]["rules"][0]["count"] = 51'
cp signed.json.sig tamper.json.sig
refused "a plan changed and sealed again after signing is refused (exit 9, RLC3108)" \
    tamper.json 9 RLC3108 'the signature is for plan [0-9a-f]{16}\.\.\., but this plan is [0-9a-f]{16}' \
    --verify key.pub
RLC_VERIFY_KEY="$T/key.pub" refused "... also with the key from RLC_VERIFY_KEY" \
    tamper.json 9 RLC3108 'changed \(and sealed again\) after it was signed'
refused "a plan signed with another key is refused (exit 9, RLC3108)" \
    osigned.json 9 RLC3108 'made with key [0-9a-f]{16}, not with the configured key' --verify key.pub
cp plan.json unsigned.json
refused "an unsigned plan is refused when a key is configured (exit 9, RLC3107)" \
    unsigned.json 9 RLC3107 'the plan is not signed \(no .*unsigned.json.sig\)' --verify key.pub
python3 - <<'EOF'
import json
s = json.load(open("signed.json.sig"))
sig = bytearray(bytes.fromhex(s["signature"])); sig[5] ^= 1
s["signature"] = sig.hex()
open("forged.json", "w").write(open("signed.json").read())
open("forged.json.sig", "w").write(json.dumps(s, sort_keys=True, separators=(",", ":")) + "\n")
EOF
refused "an altered signature is refused (exit 9, RLC3108)" \
    forged.json 9 RLC3108 'does not verify with key' --verify key.pub
cp signed.json junk.json; echo 'not json' > junk.json.sig
refused "a signature file that is not one is refused (RLC3108)" \
    junk.json 9 RLC3108 'is not an rlc plan signature' --verify key.pub
refused "a verification key that is not a public key is refused (RLC3109)" \
    signed.json 9 RLC3109 "'key' is not an Ed25519 public key" --verify key
# The hostile plans stay refused by the loader when signed by the right key.
"$RLC" compile -q --sign key p.rlp -o h.json
reseal plan.json hs.json 'd["policy"]["namespace"] = "a}{b"'
dg=$(python3 -c 'import json; print(json.load(open("hs.json"))["plan_digest"])')
python3 - "$dg" <<'EOF'
import json, subprocess, sys
# Sign the hostile plan's digest with the trusted key: the loader's range
# checks still refuse it.
msg = b"rlc-plan-signature-v1:" + sys.argv[1].encode()
open("msg", "wb").write(msg)
subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", "key", "-rawin", "-in", "msg", "-out", "sig.bin"], check=True)
s = json.load(open("h.json.sig"))
s["plan_digest"] = sys.argv[1]; s["signature"] = open("sig.bin", "rb").read().hex()
open("hs.json.sig", "w").write(json.dumps(s, sort_keys=True, separators=(",", ":")) + "\n")
EOF
refused "a hostile plan signed by the trusted key is still refused by the loader (RLC3106)" \
    hs.json 3 RLC3106 'policy\.namespace' --verify key.pub
"$RLC" diff --verify key.pub tamper.json > /dev/null 2> err; r=$?
check "rlc diff --verify refuses the re-sealed plan (exit 9, RLC3108)" eval '[ $r -eq 9 ] && grep -q RLC3108 err'
"$RLC" status --verify key.pub unsigned.json > /dev/null 2> err; r=$?
check "rlc status --verify refuses the unsigned plan (exit 9, RLC3107)" eval '[ $r -eq 9 ] && grep -q RLC3107 err'
"$RLC" compile -q --sign key p.rlp -o - > /dev/null 2> err; r=$?
check "--sign with -o - is a usage error (exit 2)" eval '[ $r -eq 2 ] && grep -q "needs -o PLAN" err'
rm -f nokey.json
"$RLC" compile --sign key.pub p.rlp -o nokey.json 2> err; r=$?
check "--sign with a public key is refused before writing (exit 2, RLC3109)" \
    eval '[ $r -eq 2 ] && grep -q "RLC3109.*not an Ed25519 private key" err && [ ! -e nokey.json ]'
