#!/bin/sh
# contain.sh - what rlc builds, prints and writes stays within what it
# promises: keys built from long names are whole (never cut to a buffer),
# messages show no secret and no content of a file that is not a policy,
# and files rlc writes are only regular files it owns.  Against a real
# redis-server where a store is involved.
. "$ROOT/tests/lib.sh"
cd "$T" || exit 2

# policy FILE NAME...: a policy in namespace "ct" with one tenant per NAME.
policy() {
    _f=$1; shift
    printf 'policy "p" {\n  namespace = "ct"\n  max_clock_skew = 25ms\n}\n' > "$_f"
    printf 'target redis "primary" {\n  url = env("RLC_REDIS_URL")\n}\n' >> "$_f"
    for _n in "$@"; do printf 'tenant "%s" {\n  limit 10/1m\n}\n' "$_n" >> "$_f"; done
}
# tenant_keys: the keys of namespace ct's tenants, one a line, sorted.
tenant_keys() { redis-cli -p "$PORT" --scan --pattern '{ct:*' | sort; }

# --- long names make whole keys ------------------------------------------------
PORT=$(free_port)
start_redis "$PORT" || { notok "redis starts" ""; exit 0; }
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
CJK=$(python3 -c 'print("\u65e5" * 120)')      # 360 bytes, a 1 085-byte tag
ASCII=$(python3 -c 'print("a" * 1100)')
PCT=$(python3 -c 'print("%" * 400)')
policy cjk.rlp "$CJK"
"$RLC" compile -q cjk.rlp -o cjk.json || notok "long/cjk-compiles" "rlc compile failed"
"$RLC" run -q cjk.json 2>err; r=$?
check "long/cjk-deploys" [ "$r" -eq 0 ]
# The pointer is on the whole key, and a decision finds the config.
active=$(python3 -c 'import sys; print("{ct:" + "".join("%%%02X" % b for b in sys.argv[1].encode()) + "}:active")' "$CJK")
if [ "$(tenant_keys | grep -c ':active$')" -eq 1 ] && [ "$(tenant_keys | grep ':active$')" = "$active" ]; then
    ok "long/cjk-pointer-on-whole-key"
else notok "long/cjk-pointer-on-whole-key" "keys: $(tenant_keys | cut -c1-80)"; fi
dec=$(redis-cli -p "$PORT" FCALL rlc_decide 1 "$active" "" "" "" 1 "" "")
if [ "$(echo "$dec" | head -1)" = 1 ] && ! echo "$dec" | grep -q NOCONFIG; then
    ok "long/cjk-decides"
else notok "long/cjk-decides" "FCALL said: $(echo "$dec" | head -c 200)"; fi

# Long ASCII and '%' names: deploy (verification passes), then roll back
# to nothing, leaving no key behind.
redis-cli -p "$PORT" FLUSHALL >/dev/null; rm -rf "$T/state"
policy long.rlp "$ASCII" "$PCT" "$CJK"
"$RLC" compile -q long.rlp -o long.json || notok "long/compiles" "rlc compile failed"
"$RLC" run -q long.json 2>err; r=$?
if [ "$r" -eq 0 ] && [ "$(tenant_keys | grep -c ':active$')" -eq 3 ]; then ok "long/ascii-pct-deploy-and-verify"
else notok "long/ascii-pct-deploy-and-verify" "exit $r: $(head -c 300 err)"; fi
"$RLC" status -q >/dev/null 2>err; r=$?
check "long/status-no-drift" [ "$r" -eq 0 ]
"$RLC" rollback -q 2>err; r=$?
if [ "$r" -eq 0 ] && [ -z "$(tenant_keys)" ]; then ok "long/rollback-leaves-nothing"
else notok "long/rollback-leaves-nothing" "exit $r, left: $(tenant_keys | cut -c1-60 | head -3); $(head -c 300 err)"; fi

# A name whose longest key passes 4 096 bytes is refused up front.
policy over.rlp "$(python3 -c 'print("\u65e5" * 1000)')"
"$RLC" check --color=never over.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && grep -q '^over\.rlp:8:8: error\[RLC1044\]: this tenant name (3000 bytes) makes a 9028-byte store key; the limit is 4096 bytes$' err; then
    ok "long/over-limit-refused-by-check"
else notok "long/over-limit-refused-by-check" "exit $r: $(head -c 300 err)"; fi
