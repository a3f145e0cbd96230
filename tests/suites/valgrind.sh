#!/bin/sh
# valgrind.sh - the main paths under valgrind's memcheck: no invalid access,
# no use of uninitialised memory, no leak (definite or indirect) in check,
# fmt, explain, compile, plan show, simulate, test, and run / diff / status
# / rollback / audit against a real redis-server.  Skipped in the sanitizer
# build (valgrind cannot run ASan binaries; ASan's own leak checker covers
# that build).
. "$ROOT/tests/lib.sh"
case "$BUILD" in *asan*) ok "valgrind: skipped in the sanitizer build"; exit 0 ;; esac
if ! command -v valgrind > /dev/null; then
    notok "valgrind installed" "make deps installs it"
    exit 0
fi

# vg NAME EXPECTED-STATUS ARGS...: rlc ARGS under memcheck; ok when rlc
# exits with EXPECTED-STATUS and valgrind reports no error and no leak
# (valgrind's own status 99 marks those).
vg() {
    name=$1; want=$2; shift 2
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --log-file="$T/vg.log" "$RLC" "$@" > "$T/vg.out" 2> "$T/vg.err"
    r=$?
    if [ $r -eq "$want" ] && [ ! -s "$T/vg.log" ]; then
        ok "valgrind: $name"
    else
        notok "valgrind: $name" "exit $r (want $want)"
        sed 's/^/# /' "$T/vg.log" | head -40
    fi
}

# The harness itself must be able to fail: a program that leaks one block.
printf '#include <stdlib.h>\nint main(void) { void *p = malloc(64); p = 0; return p != 0; }\n' > "$T/leak.c"
if cc -O0 -o "$T/leak" "$T/leak.c" 2>/dev/null; then
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$T/leak" 2>/dev/null
    check "the harness catches a leak (valgrind exits 99)" [ $? -eq 99 ]
fi

EX="$ROOT/examples"
vg "check a clean policy" 0 check "$EX/org-hierarchy.rlp"
printf 'tenant "a" {\n  limit 10/1s burst 20\n  route GET "/x" { limit 20/1s }\n}\ntenant "a" { limit x }\n' > "$T/bad.rlp"
vg "check a policy with errors" 1 check "$T/bad.rlp"
vg "check --format=sarif with hazards" 1 check --format=sarif "$T/bad.rlp"
vg "check --report --format=json" 0 check --report --format=json "$EX/saas.rlp"
vg "fmt" 0 fmt "$EX/gateway.rlp"
vg "explain" 0 explain RLC2001
vg "compile" 0 compile "$EX/saas.rlp" -o "$T/A.json" -q
vg "plan show" 0 plan show "$T/A.json"
vg "simulate --synthetic burst" 0 simulate "$EX/saas.rlp" --tenant acme --synthetic burst
vg "test" 0 test "$EX/gateway.rlp"

PORT=$(free_port)
start_redis "$PORT" || { notok "redis starts" ""; exit 0; }
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
# saas.rlp also has etcd and http targets: only the Redis one here.
export RLC_ONLY=primary
sed 's/limit 9000\/1m burst 1500/limit 9500\/1m burst 1500/' "$EX/saas.rlp" > "$T/b.rlp"
"$RLC" compile "$T/b.rlp" -o "$T/B.json" -q
vg "diff before the first deploy" 10 diff "$T/A.json"
vg "run" 0 run -q "$T/A.json"
vg "run again (no change)" 0 run -q "$T/A.json"
vg "run a changed plan" 0 run -q "$T/B.json"
vg "status" 0 status "$T/B.json"
vg "rollback" 0 rollback
vg "audit verify" 0 audit verify
vg "audit show --json" 0 audit show --json
sed 's/"count":9000/"count":9001/' "$T/A.json" > "$T/tampered.json"
vg "run refused by a tampered plan" 3 run -q "$T/tampered.json"
