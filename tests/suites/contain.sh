#!/bin/sh
# contain.sh - what rlc builds, prints and writes stays within what it
# promises: keys built from long names are whole (never cut to a buffer),
# messages show no secret and no content of a file that is not a policy,
# and files rlc writes are only regular files it owns.  Against a real
# redis-server where a store is involved.
. "$ROOT/tests/lib.sh"
plan 48
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
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
export RLC_STATE_DIR="$T/state"
CJK=$(python3 -c 'print("\u65e5" * 120)')      # 360 bytes, a 1 085-byte tag
ASCII=$(python3 -c 'print("a" * 1100)')
PCT=$(python3 -c 'print("%" * 400)')
policy cjk.rlp "$CJK"
check "long/cjk-compiles" "$RLC" compile -q cjk.rlp -o cjk.json
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
check "long/compiles" "$RLC" compile -q long.rlp -o long.json
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
if [ "$r" -eq 1 ] && grep -q '^over\.rlp:8:8: error\[RLC1044\]: this tenant name (3000 bytes) makes a 9030-byte store key; the limit is 4096 bytes$' err; then
    ok "long/over-limit-refused-by-check"
else notok "long/over-limit-refused-by-check" "exit $r: $(head -c 300 err)"; fi

# --- files rlc writes are regular files ------------------------------------------
# A device node, a FIFO and a directory as -o are refused and stay what they
# were (the node is made here: the suite never points rlc at /dev/null).
policy small.rlp acme
nodes="null:c fifo:p outdir:d"
if ! mknod "$T/null" c 1 3 2>/dev/null; then
    skip "write/refuses-null" "cannot make a device node here (not root)"
    nodes="fifo:p outdir:d"
fi
mkfifo "$T/fifo"; mkdir "$T/outdir"
for what in $nodes; do
    f=${what%%:*} kind=${what#*:}
    "$RLC" compile small.rlp -o "$T/$f" 2>err; r=$?
    if [ "$r" -ne 0 ] && [ "$(stat -c %F "$T/$f" | cut -c1)" = "$(case $kind in c) echo c;; p) echo f;; d) echo d;; esac)" ] &&
       grep -q "error\[RLC3007\]: refusing to write '$T/$f': it is a" err; then ok "write/refuses-$f"
    else notok "write/refuses-$f" "exit $r, now $(stat -c %F "$T/$f"): $(head -c 300 err)"; fi
done
# A symlink is written through: the link stays, its target gets the plan.
echo old > real.json; ln -s real.json link.json
"$RLC" compile -q small.rlp -o link.json 2>err; r=$?
if [ "$r" -eq 0 ] && [ -L link.json ] && grep -q '"plan_digest"' real.json; then ok "write/symlink-written-through"
else notok "write/symlink-written-through" "exit $r; $(ls -l link.json); $(head -c 100 real.json)"; fi
# fmt on a link formats the real file and keeps the link.
printf 'tenant   "a" {\n limit 10/1m\n}\n' > real.rlp; ln -s real.rlp link.rlp
"$RLC" fmt -q link.rlp 2>err; r=$?
if [ "$r" -eq 0 ] && [ -L link.rlp ] && [ "$(head -1 real.rlp)" = 'tenant "a" {' ]; then ok "write/fmt-through-symlink"
else notok "write/fmt-through-symlink" "exit $r; $(ls -l link.rlp); $(head -1 real.rlp)"; fi
# No temporary file is left beside a refused or completed write.
if [ -z "$(ls -A "$T" | grep '\.tmp')" ]; then ok "write/no-temp-left"
else notok "write/no-temp-left" "$(ls -A "$T" | grep '\.tmp')"; fi

# --- the state directory is this user's alone ------------------------------------
redis-cli -p "$PORT" FLUSHALL >/dev/null
check "state/compile" "$RLC" compile -q small.rlp -o small.json
# refused_state NAME DIR MESSAGE-PATTERN: run with --state-dir DIR is refused
# with RLC3162 and MESSAGE, exit 1, and nothing reaches the store (no lock,
# no key) or the directory (no journal).
refused_state() {
    "$RLC" run -q --state-dir "$2" small.json 2>err; r=$?
    if [ "$r" -eq 1 ] && grep -qE "error\[RLC3162\]: $3" err && [ "$(redis-cli -p "$PORT" DBSIZE)" = 0 ] &&
       [ ! -e "$2/journal.jsonl" ]; then ok "state/$1"
    else notok "state/$1" "exit $r, $(redis-cli -p "$PORT" DBSIZE) keys: $(head -c 300 err)"; fi
}
mkdir -m 700 st-world && chmod 777 st-world
refused_state world-writable "$T/st-world" "refusing state directory: $T/st-world is writable by every user \(mode 0777\)"
mkdir -m 770 shared && chmod 770 shared && mkdir -m 700 shared/st
refused_state group-writable-parent "$T/shared/st" "refusing state directory: $T/shared is writable by its group \(mode 0770\)"
mkdir -m 700 st-other && chown nobody st-other
refused_state owned-by-another "$T/st-other" "refusing state directory: $T/st-other is owned by uid $(id -u nobody), not by this user"
mkdir -m 700 st-ck elsewhere && ln -s "$T/elsewhere" st-ck/checkpoints
refused_state symlinked-checkpoints "$T/st-ck" "refusing state directory: $T/st-ck/checkpoints is a symbolic link"
mkdir -m 700 st-audit && touch elsewhere/audit && ln -s "$T/elsewhere/audit" st-audit/audit.jsonl
refused_state symlinked-audit-log "$T/st-audit" "refusing state directory: $T/st-audit/audit.jsonl is a symbolic link"
# A sticky, world-writable parent (/tmp's kind) is fine.
mkdir -m 1777 sticky && mkdir -m 700 sticky/st
"$RLC" run -q --state-dir "$T/sticky/st" small.json 2>err; r=$?
check "state/sticky-parent-accepted" [ "$r" -eq 0 ]

# --- no secret in any message -------------------------------------------------------
# A store URL that is not exactly redis:// or rediss:// is shown without
# its user, password and query, from env(), and from --target; one that is
# but cannot be reached is named without them too.
SECRET=Zq7Sekr1t
for u in "redis+tls://u:$SECRET@h:1" "REDIS://u:$SECRET@h:1" "http://u:$SECRET@h:1/x?password=$SECRET" \
         " redis://u:$SECRET@h:1" "unix:/tmp/redis.sock?password=$SECRET" "$SECRET"; do
    RLC_REDIS_URL="$u" "$RLC" run -q --state-dir "$T/st-url" small.json 2>err; r=$?
    if [ "$r" -ne 0 ] && grep -q 'error\[RLC3150\]' err && ! grep -q "$SECRET" err; then ok "secret/env-url-redacted: $(echo "$u" | cut -c1-12)"
    else notok "secret/env-url-redacted: $(echo "$u" | cut -c1-12)" "exit $r: $(head -c 300 err)"; fi
done
RLC_REDIS_URL="redis+tls://u:$SECRET@h:1" "$RLC" run -q --state-dir "$T/st-url" small.json 2>err
check "secret/env-url-shows-scheme-and-host" grep -qF "error[RLC3150]: target primary: 'redis+tls://h:1' is not a redis:// or rediss:// URL" err
RLC_REDIS_URL="rediss://u:$SECRET@h.invalid:1" "$RLC" run -q --state-dir "$T/st-url" small.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -q 'error\[RLC3151\]' err && ! grep -q "$SECRET" err; then ok "secret/rediss-url-unreachable-redacted"
else notok "secret/rediss-url-unreachable-redacted" "exit $r: $(head -c 300 err)"; fi
"$RLC" run -q --state-dir "$T/st-url" --target "primary=REDIS://u:$SECRET@h:1?password=$SECRET" small.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -qF "'REDIS://h:1' is not a redis:// or rediss:// URL" err && ! grep -q "$SECRET" err; then ok "secret/target-url-redacted"
else notok "secret/target-url-redacted" "exit $r: $(head -c 300 err)"; fi
"$RLC" run -q --state-dir "$T/st-url" --target "$SECRET" small.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -q 'error\[RLC3150\]' err && ! grep -q "$SECRET" err; then ok "secret/target-without-name-redacted"
else notok "secret/target-without-name-redacted" "exit $r: $(head -c 300 err)"; fi
# An etcd target: a --target that is not http(s), and an endpoint with a user.
cat > etcd.rlp <<'P'
policy "p" {
  namespace = "ct"
  max_clock_skew = 25ms
}
target etcd "gw" {
  endpoints = [env("ETCD_EP")]
}
tenant "a" {
  limit 10/1m
}
P
check "secret/etcd-compile" "$RLC" compile -q etcd.rlp -o etcd.json
"$RLC" run -q --state-dir "$T/st-url" --target "gw=etcds://u:$SECRET@h:1?k=$SECRET" etcd.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -qF "got 'etcds://h:1'" err && ! grep -q "$SECRET" err; then ok "secret/etcd-target-redacted"
else notok "secret/etcd-target-redacted" "exit $r: $(head -c 300 err)"; fi
ETCD_EP="ftp://u:$SECRET@127.0.0.1:1" "$RLC" run -q --state-dir "$T/st-url" etcd.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -q 'error\[RLC3150\]' err && ! grep -q "$SECRET" err; then ok "secret/etcd-endpoint-redacted"
else notok "secret/etcd-endpoint-redacted" "exit $r: $(head -c 300 err)"; fi
ETCD_EP="http://u:$SECRET@127.0.0.1:1/?x=$SECRET" "$RLC" run -q --state-dir "$T/st-url" etcd.json 2>err; r=$?
if [ "$r" -ne 0 ] && grep -q 'error\[RLC315[0-9]\]' err && ! grep -q "$SECRET" err; then ok "secret/etcd-unreachable-redacted"
else notok "secret/etcd-unreachable-redacted" "exit $r: $(head -c 300 err)"; fi

# An import that is not a policy is refused without a word of its content,
# in every output format.
printf 'import "/proc/self/environ"\ntenant "a" {\n  limit 1/1s\n}\n' > environ.rlp
for fmt in json github sarif text; do
    RLC_TEST_SECRET="redis://u:$SECRET@h" "$RLC" check --color=never --format=$fmt environ.rlp >out 2>err; r=$?
    if [ "$r" -eq 1 ] && ! grep -q "$SECRET" out err && grep -q 'RLC1004' out err; then ok "secret/import-environ-$fmt"
    else notok "secret/import-environ-$fmt" "exit $r: $(head -c 300 out err)"; fi
done
check "secret/import-environ-message" grep -qF "environ.rlp:1:8: error[RLC1004]: cannot import '/proc/self/environ': it is not a policy (it contains NUL bytes); its content is not shown" err
printf 'root:$6$%s:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n' "$SECRET" > shadow
printf 'import "shadow"\n' > shadow.rlp
"$RLC" check --color=never shadow.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && ! grep -q "$SECRET" err && grep -qF "shadow.rlp:1:8: error[RLC1004]: cannot import 'shadow': it is not a policy (its first word is not a declaration" err; then ok "secret/import-shadow-like"
else notok "secret/import-shadow-like" "exit $r: $(head -c 300 err)"; fi
printf 'x\377\376 %s\n' "$SECRET" > binary
printf 'import "binary"\n' > binary.rlp
"$RLC" check --color=never binary.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && ! grep -q "$SECRET" err && grep -qF "it is not a policy (it is not UTF-8 text)" err; then ok "secret/import-not-utf8"
else notok "secret/import-not-utf8" "exit $r: $(head -c 300 err)"; fi
# Imports are regular files: a FIFO with no writer is refused at once, a
# device too, and a symbolic link loop is called what it is.
mkfifo pipe.rlp; printf 'import "pipe.rlp"\n' > pipe-imp.rlp
timeout 10 "$RLC" check --color=never pipe-imp.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && grep -qF "pipe-imp.rlp:1:8: error[RLC1004]: cannot import 'pipe.rlp': it is a FIFO, not a regular file" err; then ok "import/fifo-refused"
else notok "import/fifo-refused" "exit $r: $(head -c 300 err)"; fi
printf 'import "%s/null"\n' "$T" > dev-imp.rlp
"$RLC" check --color=never dev-imp.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && grep -qF "it is a character device, not a regular file" err; then ok "import/device-refused"
else notok "import/device-refused" "exit $r: $(head -c 300 err)"; fi
ln -s loop-b.rlp loop-a.rlp; ln -s loop-a.rlp loop-b.rlp; printf 'import "loop-a.rlp"\n' > loop-imp.rlp
"$RLC" check --color=never loop-imp.rlp 2>err; r=$?
if [ "$r" -eq 1 ] && grep -qF "loop-imp.rlp:1:8: error[RLC1004]: cannot import 'loop-a.rlp': Too many levels of symbolic links" err; then ok "import/symlink-loop-named"
else notok "import/symlink-loop-named" "exit $r: $(head -c 300 err)"; fi
# A policy imported normally still shows its lines in its diagnostics.
printf 'tenant "b" {\n  limit 0/1s\n}\n' > lib.rlp; printf 'import "lib.rlp"\n' > uses-lib.rlp
"$RLC" check --color=never uses-lib.rlp 2>err
check "import/policy-diagnostics-keep-lines" grep -qF '    2 |   limit 0/1s' err
# An import path longer than PATH_MAX once joined to its directory is
# refused whole, never cut to a shorter path that might exist.
D="$T/$(python3 -c 'print("d" * 100)')"; mkdir -p "$D"
python3 -c 'import sys; open(sys.argv[1] + "/x.rlp", "w").write("import \"" + "a/" * 2040 + "x\"\n")' "$D"
"$RLC" check --color=never "$D/x.rlp" 2>err; r=$?
if [ "$r" -eq 1 ] && head -1 err | grep -q "error\[RLC1004\]: cannot import 'a/a/.*a/x': File name too long$"; then ok "import/long-path-not-cut"
else notok "import/long-path-not-cut" "exit $r: $(head -1 err | tail -c 200)"; fi
