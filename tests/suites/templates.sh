#!/bin/sh
# templates.sh - `tenant *`, `group *` and `key *` on a real redis-server
# (SPEC.md 2.3, 6.1, 6.2): an unlisted tenant is decided by `tenant *`
# inside the library (no key of its own but counters), each unlisted key
# has counters of its own under its tenant's tag, a listed key beside
# `key *` starts from it and overrides per window, the store decides as
# `rlc test` predicts; a deploy that changes only `tenant *` writes no
# config and leaves live per-value counters alone; a rollback gives the
# old template back; malformed paths are RLC_BADARG; the library's memory
# stays flat however many unlisted values it decides.
. "$ROOT/tests/lib.sh"
plan 26

cat > "$T/a.rlp" <<'P'
policy "tp" {
  namespace = "tp"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant * {
  limit 50/1h
  key * {
    limit 3/1h
  }
  key "q\"\\]]\n" {
    limit 1/1h
  }
}
tenant "acme" {
  key * {
    limit 5/1h
    limit 100/1d
  }
  key "batch-export" {
    limit 1/1h
  }
}
test "an unlisted key of an unlisted tenant" {
  request tenant "new-signup" key "k-anything"
  send 10 expect allowed 3
}
test "a listed key starts from its template" {
  request tenant "acme" key "batch-export"
  send 10 expect allowed 1
}
P
sed -e 's|limit 50/1h|limit 40/1h|' -e 's|limit 3/1h|limit 2/1h|' "$T/a.rlp" > "$T/b.rlp"
for p in a b; do
    "$RLC" compile -q "$T/$p.rlp" -o "$T/$p.json" || bail_out "compile $p" "failed"
done
check "rlc test: templates decide unlisted tenants and keys" "$RLC" test "$T/a.rlp"
check "rlc plan show counts tenant *'s rules" \
    sh -c "'$RLC' plan show '$T/a.json' | grep -qx 'tenant \*  3 rules, for every tenant not listed'"

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
cli() { redis-cli -p "$PORT" "$@"; }
# decide TENANT PATH: 1 or 0 (or the error)
decide() {
    cli FCALL rlc_decide 1 "{tp:$1}:active" "$2" GET / 1 "" "" 2>&1 | head -1
}
allowed() { # allowed N TENANT PATH: how many of N requests were admitted
    a=0; i=0
    while [ "$i" -lt "$1" ]; do
        [ "$(decide "$2" "$3")" = 1 ] && a=$((a + 1)); i=$((i + 1))
    done
    echo "$a"
}

"$RLC" run -q "$T/a.json" > "$T/run.out" 2>&1
check "deploy with tenant * verifies and commits" test $? -eq 0

got=$(allowed 6 new-signup key:k1)
[ "$got" = 3 ] && ok "an unlisted key of an unlisted tenant: 3 of 6 (key * of tenant *)" ||
    notok "an unlisted key of an unlisted tenant: 3 of 6" "got $got"
got=$(allowed 6 new-signup key:k2)
[ "$got" = 3 ] && ok "another unlisted key has counters of its own" ||
    notok "another unlisted key has counters of its own" "got $got"
got=$(allowed 6 other-co "key:k1")
[ "$got" = 3 ] && ok "the same key name under another unlisted tenant is another counter" ||
    notok "the same key name under another unlisted tenant" "got $got"
check "an unlisted tenant has no config keys, only counters" \
    sh -c "[ -z \"\$(redis-cli -p $PORT --scan --pattern '{tp:new-signup}:active')\" ] &&
           [ -n \"\$(redis-cli -p $PORT --scan --pattern '{tp:new-signup}:c:*/k1')\" ]"
# A listed name of tenant * with a quote, a backslash, "]]" and a newline
# travels inside the library's Lua text: escaped, it is still that name.
odd=$(printf 'key:q"\\]]\n_'); odd=${odd%_}
got=$(allowed 3 odd-co "$odd")
[ "$got" = 1 ] && ok "tenant *'s listed key with quote, backslash, ]] and newline: 1 of 3" ||
    notok "tenant *'s listed key with quote, backslash, ]] and newline" "got $got"
got=$(allowed 8 acme key:zz)
[ "$got" = 5 ] && ok "listed tenant: an unlisted key gets its key * (5/1h)" ||
    notok "listed tenant: an unlisted key gets its key *" "got $got"
got=$(allowed 4 acme key:batch-export)
[ "$got" = 1 ] && ok "a listed key overrides its template's window (1/1h)" ||
    notok "a listed key overrides its template's window" "got $got"
# A name holding ':' and an encoded '/' is one value, never a key suffix.
got=$(allowed 5 acme 'key:a:log%2Fx')
[ "$got" = 5 ] && ok "a name with ':' and '%2F' is a value of its own" ||
    notok "a name with ':' and '%2F' is a value of its own" "got $got"
check "the counter key encodes ':' in a name" \
    sh -c "redis-cli -p $PORT --scan --pattern '{tp:acme}:c:*' | grep -qF '/a%3Alog%2Fx'"
case $(decide acme 'team:x') in *RLC_BADARG*) ok "a segment that is not group: or key: is RLC_BADARG" ;;
    *) notok "a segment that is not group: or key: is RLC_BADARG" "$(decide acme 'team:x')" ;; esac
case $(decide acme 'key:') in *RLC_BADARG*) ok "an empty name is RLC_BADARG" ;;
    *) notok "an empty name is RLC_BADARG" "$(decide acme 'key:')" ;; esac

# Only tenant * changed: the library is loaded again, no config is written,
# and the live per-value counters are left as they are.
before=$(cli --scan --pattern '{tp:*}:c:*' | sort | tr '\n' ' ')
"$RLC" run --json "$T/b.json" > "$T/b.out" 2>"$T/b.err"
rc=$?
written=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys_written"])' "$T/b.out" 2>/dev/null)
after=$(cli --scan --pattern '{tp:*}:c:*' | sort | tr '\n' ' ')
[ $rc -eq 0 ] && [ "$before" = "$after" ] && [ "$written" = 0 ] &&
    ok "a tenant * change commits, writes no key (the library only), keeps every live counter" ||
    notok "a tenant * change writes no key and keeps every live counter" "rc $rc, keys written $written"
got=$(allowed 4 fresh-co key:k1)
[ "$got" = 2 ] && ok "after the redeploy a new unlisted key gets the new key * (2/1h)" ||
    notok "after the redeploy a new unlisted key gets the new key *" "got $got"
"$RLC" rollback -q > /dev/null 2>&1
got=$(allowed 4 fresh-co2 key:k1)
[ "$got" = 3 ] && ok "rollback gives the old tenant * back (3/1h)" ||
    notok "rollback gives the old tenant * back" "got $got"
check "rlc audit verify after the deploys and the rollback" "$RLC" audit verify

# diff and status see the library's tenant *, and another namespace's
# deploy does not replace it.
"$RLC" diff "$T/b.json" > "$T/diff.out" 2>&1
rc=$?
[ $rc -eq 10 ] && grep -q '^tenant \* (template): changed' "$T/diff.out" &&
    ok "rlc diff lists a changed tenant * (exit 10)" ||
    notok "rlc diff lists a changed tenant * (exit 10)" "exit $rc: $(cat "$T/diff.out")"
"$RLC" status "$T/a.json" > /dev/null 2>&1
check "rlc status of the applied plan: no drift" test $? -eq 0
cli FUNCTION LOAD REPLACE "$(cat "$ROOT/stdlib/enforce.lua")" > /dev/null
"$RLC" status --json "$T/a.json" > "$T/st.out" 2>&1
rc=$?
[ $rc -eq 6 ] && grep -q "tenant \\* is not the plan" "$T/st.out" &&
    ok "a library loaded by hand without tenant * is drift (exit 6)" ||
    notok "a library loaded by hand without tenant * is drift (exit 6)" "exit $rc"
"$RLC" run -q "$T/a.json" > /dev/null 2>&1
"$RLC" status "$T/a.json" > /dev/null 2>&1
check "rlc run of the applied plan loads its tenant * again" test $? -eq 0
sed -e 's/namespace = "tp"/namespace = "tq"/' "$T/a.rlp" > "$T/c.rlp"
"$RLC" compile -q "$T/c.rlp" -o "$T/c.json" || bail_out "compile c" "failed"
before=$(cli --scan | sort | tr '\n' ' ')
"$RLC" run "$T/c.json" > "$T/c.out" 2>&1
rc=$?
after=$(cli --scan | grep -v '^tq:audit' | sort | tr '\n' ' ')
[ $rc -eq 5 ] && grep -q 'RLC3186' "$T/c.out" && [ "$before" = "$after" ] &&
    ok "another namespace's deploy stops at RLC3186 (exit 5), nothing written but its audit record" ||
    notok "another namespace's deploy stops at RLC3186" "exit $rc: [$before] [$after]"
got=$(allowed 4 after-refusal key:k1)
[ "$got" = 3 ] && ok "and this namespace's tenant * still decides (3/1h)" ||
    notok "and this namespace's tenant * still decides" "got $got"

# Every unlisted value is a new name the library looks up: none may stay
# in its memory.  40 000 distinct keys of an unlisted tenant, pipelined:
# the functions' Lua memory must not grow with them (it grew ~120 bytes a
# value when tenant * remembered every name it had not found).
resp() { # FROM TO: FCALLs for keys v<FROM>..v<TO-1> of unlisted tenant "flat"
    python3 -c '
import sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    a = ["FCALL", "rlc_decide", "1", "{tp:flat}:active", "key:v%d" % i, "GET", "/", "1", "", ""]
    sys.stdout.write("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a))
' "$1" "$2"
}
lua_mem() { cli INFO memory | sed -n 's/^used_memory_vm_functions:\([0-9]*\).*/\1/p'; }
resp 0 5000 | cli --pipe > /dev/null 2>&1
m1=$(lua_mem)
resp 5000 45000 | cli --pipe > /dev/null 2>&1
m2=$(lua_mem)
[ -n "$m1" ] && [ -n "$m2" ] && [ "$m2" -lt $((m1 + 1048576)) ] &&
    ok "40 000 unlisted values leave the library's memory flat ($m1 -> $m2 bytes)" ||
    notok "40 000 unlisted values leave the library's memory flat" "$m1 -> $m2 bytes"

# A listed key under `group *`: its field is named under the template
# ("s/group*/key:k1"), whatever group value the request names, and the
# walk finds it after a level that reached a template.
PORT3=$(free_port)
start_redis "$PORT3" || bail_out "redis starts" "see stderr"
cat > "$T/d.rlp" <<'P'
policy "dp" {
  namespace = "dp"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant "deep" {
  group * {
    limit 5/1h
    key "k1" {
      limit 2/1h
    }
  }
}
P
"$RLC" compile -q "$T/d.rlp" -o "$T/d.json" || bail_out "compile d" "failed"
RLC_REDIS_URL="redis://127.0.0.1:$PORT3" "$RLC" run -q --state-dir "$T/state-d" "$T/d.json" ||
    bail_out "deploy d" "failed"
ddecide() {
    redis-cli -p "$PORT3" FCALL rlc_decide 1 "{dp:deep}:active" "$1" GET / 1 "" "" | head -1
}
a=0; for i in 1 2 3 4; do [ "$(ddecide group:any-team/key:k1)" = 1 ] && a=$((a + 1)); done
b=0; for i in 1 2 3 4; do [ "$(ddecide group:any-team/key:k2)" = 1 ] && b=$((b + 1)); done
[ "$a" = 2 ] && [ "$b" = 3 ] &&
    ok "a listed key under group * keeps its own limit (2 of 4), another key only the group's (3 left of 5)" ||
    notok "a listed key under group *" "k1 $a of 4 (want 2), k2 $b of 4 (want 3)"
