#!/bin/sh
# evalsha.sh - a deploy for a server without functions (SPEC.md 6.2, 6.3;
# RLC_NO_FUNCTIONS=1 makes Redis 7 one): the script rlc loads, the twins
# its configs hold beside their listed fields (outside the version: the
# same versions as a deploy for FUNCTION LOAD), a listed path resolved from
# its twins in one HMGET (the wire, by MONITOR) and a template's value by
# the whole library, both decided as the policy says, through `rlc
# decide`, and a dry run; no drift reported for configs with twins; a
# flushed script is reported as a missing library and loaded again by the
# next deploy.
. "$ROOT/tests/lib.sh"
plan 20

PORT=$(free_port)
PORT2=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
start_redis "$PORT2" || bail_out "redis starts" "see stderr"
cat > "$T/p.rlp" <<'EOF'
policy "e" {
  namespace = "e"
}

tenant * {
  limit 3/1m
}

tenant "bare" {
  group "g" {
    key "k" {
      limit 3/1m
    }
    key "z" {
    }
  }
}

tenant "acme" {
  limit 50/1h
  route GET "/v1/items/*" {
    limit 20/1m
  }
  group "g" {
    limit 10/1m
    key "k1" {
      limit 4/1m
    }
    key * {
      limit 2/1m
    }
  }
}

target redis "primary" {
  url = env("RLC_REDIS_URL")
}
EOF
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || bail_out "compile" "failed"
cd "$T" || exit 1
rc() { redis-cli -p "$PORT" "$@"; }
# The script's sha comes from the plan's library: decide is given the plan.
dec() { "$RLC" decide --plan "$T/p.json" "$@"; }
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
# Redis 7 as a server without functions, for run and decide alike.
export RLC_NO_FUNCTIONS=1
"$RLC" run -q "$T/p.json" 2> err; r=$?
[ $r = 0 ] && [ -z "$(rc function list)" ] &&
    ok "a deploy for EVALSHA applies, loading no function library" ||
    notok "a deploy for EVALSHA applies" "exit $r: $(cat err)"
# The same plan deployed for FUNCTION LOAD elsewhere: the same versions.
RLC_NO_FUNCTIONS=0 RLC_REDIS_URL="redis://127.0.0.1:$PORT2" \
    "$RLC" run -q --state-dir "$T/state2" "$T/p.json" ||
    bail_out "the FCALL deploy" "failed"
V=$(rc get '{e:acme}:active')
V2=$(redis-cli -p "$PORT2" get '{e:acme}:active')
[ -n "$V" ] && [ "$V" = "$V2" ] &&
    ok "a config's version is the same for EVALSHA and for FUNCTION LOAD (twins are outside it)" ||
    notok "the same versions" "$V against $V2"
CFG="{e:acme}:cfg:$V"
keys=$(rc hkeys "$CFG" | sort | tr '\n' ' ')
keys2=$(redis-cli -p "$PORT2" hkeys "$CFG" | sort | tr '\n' ' ')
[ "$keys" = "group:g group:g/key:k1 m p s s/group:g s/group:g/key* s/group:g/key:k1 " ] &&
    [ "$keys2" = "m s s/group:g s/group:g/key* s/group:g/key:k1 " ] &&
    ok "each listed field has its twin (p, the tenant's, and the path itself) for EVALSHA, none for a template, none for FCALL" ||
    notok "twins beside the listed fields" "EVALSHA: $keys; FCALL: $keys2"
# A twin: the header (server time, skew 0), then the rules of
# every subject on its path, the tenant's first, its own last, their
# numbers as doubles: the key's twin is the group's (the tenant's two
# rules, the route rule's method and pattern with them, then the group's
# count 10) and the key's own rule (count 4, window 60 000 ms).
# (redis-cli ends what it prints with a newline, 0a, cut here.)
hx() { rc hget "$CFG" "$1" | od -An -tx1 | tr -d ' \n' | sed 's/0a$//'; }
packed() { # FIELD COUNT-AS-LE-DOUBLE: the one rule of field FIELD, packed
    id=$(rc hget "$CFG" "$1" | cut -d' ' -f1)
    printf '10 %s 54 00 %s 00000000004ced40 %s 000000000000f03f' \
        "$(printf %s "$id" | od -An -tx1 | tr -d ' \n')" "$2" "$2" | tr -d ' '
}
tw=$(hx p)
gw=$(hx group:g)
kw=$(hx group:g/key:k1)
want_g="$tw$(packed s/group:g 0000000000002440)"
want_k="$want_g$(packed s/group:g/key:k1 0000000000001040)"
n=$(rc hget "$CFG" p | tr -c 'a-zA-Z0-9/*\n' . | grep -c 'GET\.\./v1/items/\*')
case $tw in 730000000000000000*) h=1 ;; *) h=0 ;; esac
[ "$h" = 1 ] && [ "$gw" = "$want_g" ] && [ "$kw" = "$want_k" ] && [ "$n" = 1 ] &&
    ok "a twin is the meta field and the rules of every subject on its path packed, the tenant's (with its route) first" ||
    notok "a twin's bytes" "tenant's $tw; group's $gw, want $want_g; key's $kw, want $want_k; route in the tenant's $n"

# What one decision of a listed key sends: the script reads the active
# key and the key's twin (one HGET), no other field and no rule field.
monitor_start "$PORT" mon || bail_out "MONITOR" "did not start"
dec acme group:g/key:k1 > out 2> err; r=$?
monitor_stop "$PORT" mon
[ $r = 0 ] && [ "$(grep -c '"HGET"' mon)" = 1 ] &&
    grep -q '"HGET" "{e:acme}:cfg:'"$V"'" "group:g/key:k1"$' mon &&
    ! grep -q '"HMGET"\|"HGETALL"' mon && grep -q '"EVALSHA"' mon &&
    ok "a listed key is resolved from its twin: one HGET, no other field read" ||
    notok "a listed key resolved from its twin" "exit $r: $(grep -v '"MONITOR"' mon | head -5 | tr '\n' ' ')"

allowed() { sed -n 2p out | cut -d, -f7; }
rule() { sed -n 2p out | cut -d, -f8; }
remaining() { sed -n 2p out | cut -d, -f9; }

# k1 allows 4 a minute: one taken above, three more, then rejected by it.
got=
for i in 1 2 3 4; do
    dec acme group:g/key:k1 > out 2>> err
    got="$got$(allowed)"
done
[ "$got" = 1110 ] && [ "$(remaining)" = 0 ] &&
    ok "the key's limit runs out on the request the policy says (twins)" ||
    notok "the key's limit (twins)" "allowed $got, $(cat out err)"
# peek (the whole library's): the same answer, nothing charged.
dec --dry-run acme group:g/key:k1 > out 2>> err
a=$(allowed)$(remaining)
dec --dry-run acme group:g > out 2>> err
b=$(remaining)
dec --dry-run acme group:g > out 2>> err
[ "$a" = 00 ] && [ -n "$b" ] && [ "$(remaining)" = "$b" ] &&
    ok "a dry run through the script answers as a decision would and charges nothing" ||
    notok "a dry run through the script" "k1: $a; group: $b then $(remaining)"
# An unlisted key (key *, 2 a minute), resolved by the whole library.
got=
for i in 1 2 3; do
    dec acme group:g/key:other > out 2>> err
    got="$got$(allowed)"
done
[ "$got" = 110 ] && ok "a template's value is decided by the whole library (key *: 2/1m)" ||
    notok "a template's value" "allowed $got, $(cat out err)"
# A route rule: the tenant's GET /v1/items/* is charged by a routed
# request (20 a minute), so its remaining is the least; another URL is
# decided by the tenant's own limit alone (50 an hour, so that no token
# comes back however slowly the suite runs; of which the requests above
# took 8 admitted).
dec acme "" GET /v1/items/9 > out 2>> err
a=$(remaining)
dec acme "" GET /v2/x > out 2>> err
b=$(remaining)
[ "$a" = 19 ] && [ "$b" = 42 ] &&
    ok "a routed rule of the tenant's twin applies to its URLs only" ||
    notok "a routed rule of the tenant's twin" "remaining $a and $b"
# An unlisted tenant: `tenant *` (3 a minute), the whole library's.
got=
for i in 1 2 3 4; do
    dec newco > out 2>> err
    got="$got$(allowed)"
done
[ "$got" = 1110 ] && ok "an unlisted tenant is decided by tenant * through the script" ||
    notok "an unlisted tenant" "allowed $got, $(cat out err)"

# A listed key under a group without rules and without a template beside
# it (no field, as the tenant has none): the key's twin holds its own rule
# alone (the walk finds nothing at those levels either), and the key's
# limit runs out where the policy says.  A listed key without rules has
# no twin: the whole library decides it, admitted by no rule.
CFGB="{e:bare}:cfg:$(rc get '{e:bare}:active')"
bk=$(rc hkeys "$CFGB" | sort | tr '\n' ' ')
bw=$(rc hget "$CFGB" group:g/key:k | od -An -tx1 | tr -d ' \n' | sed 's/0a$//')
bid=$(rc hget "$CFGB" s/group:g/key:k | cut -d' ' -f1)
bwant=$(printf '730000000000000000 10 %s 54 00 0000000000000840 00000000004ced40 0000000000000840 000000000000f03f' \
    "$(printf %s "$bid" | od -An -tx1 | tr -d ' \n')" | tr -d ' ')
got=
for i in 1 2 3 4; do
    dec bare group:g/key:k > out 2>> err
    got="$got$(allowed)"
done
dec bare group:g/key:z > out 2>> err
z="$(allowed)/$(rule)/$(remaining)"
[ "$bk" = "group:g/key:k m s/group:g/key:k " ] && [ "$bw" = "$bwant" ] && [ "$got" = 1110 ] &&
    [ "$z" = "1//-1" ] &&
    ok "a twin skips the subjects on its path without rules; a key without rules has none" ||
    notok "a twin past subjects without rules" "fields $bk; twin $bw, want $bwant; allowed $got; z $z: $(cat err)"

"$RLC" status > st 2>&1; r=$?
[ $r = 0 ] && ! grep -q 'drift: tenant' st &&
    ok "status reports no drift for configs with twins (exit 0)" ||
    notok "status with twins" "exit $r: $(cat st)"

# A flushed script cache: the decision reports the missing library; the
# next deploy loads the script again (the plan unchanged).
rc script flush > /dev/null
dec acme group:g/key:k1 > out 2> err; r=$?
[ $r = 1 ] && grep -q RLC3240 err && grep -q 'has no rlc enforcement library' err &&
    ok "after SCRIPT FLUSH a decision reports the missing library (exit 1, RLC3240)" ||
    notok "after SCRIPT FLUSH" "exit $r: $(cat err)"
"$RLC" run -q "$T/p.json" 2> err; r=$?
dec acme group:g > out 2>> err
[ $r = 0 ] && [ "$(allowed)" = 1 ] && [ "$(rule)" != "" ] &&
    ok "the next deploy loads the script again and decisions go on" ||
    notok "the script loaded again" "exit $r: $(cat out err)"

# diff reads no script text: the script this plan makes, loaded, holds
# its tenant *; flushed, none is served.
"$RLC" diff "$T/p.json" > d0 2>&1; r=$?
rc script flush > /dev/null
"$RLC" diff "$T/p.json" > d1 2>&1; r1=$?
[ $r = 0 ] && ! grep -q 'tenant \*' d0 && [ $r1 = 10 ] && grep -q 'tenant \* (template): new' d1 &&
    ok "diff: the plan's script loaded is no change (exit 0); flushed, tenant * is new (exit 10)" ||
    notok "diff and the script" "exit $r: $(cat d0); exit $r1: $(cat d1)"

# A rollback has no plan: it loads a script itself (the cache was
# flushed) to set the pointers back through activate.
"$RLC" run -q "$T/p.json" || bail_out "deploy p" "failed"
V=$(rc get '{e:acme}:active')
sed 's|limit 50/1h|limit 60/1h|' "$T/p.rlp" > "$T/p2.rlp"
"$RLC" compile -q "$T/p2.rlp" -o "$T/p2.json" || bail_out "compile p2" "failed"
"$RLC" run -q "$T/p2.json" || bail_out "deploy p2" "failed"
V2=$(rc get '{e:acme}:active')
rc script flush > /dev/null
"$RLC" rollback -q 2> err; r=$?
[ $r = 0 ] && [ "$V" != "$V2" ] && [ "$(rc get '{e:acme}:active')" = "$V" ] &&
    ok "after SCRIPT FLUSH a rollback loads a script and sets the pointers back (exit 0)" ||
    notok "rollback without the script" "exit $r, acme $V2 -> $(rc get '{e:acme}:active') (want $V): $(cat err)"
"$RLC" run -q "$T/p.json" 2> err; r2=$?
dec acme group:g > out 2>> err
[ $r2 = 0 ] && [ "$(allowed)" = 1 ] &&
    ok "after the rollback the plan deploys again and decides" ||
    notok "deploy after rollback" "exit $r2: $(cat out err)"

# A rollback that cannot load the script (an ACL without SCRIPT) stops
# before it restores anything: no key put back without its pointer.
"$RLC" run -q "$T/p2.json" || bail_out "deploy p2 again" "failed"
rc acl setuser noscript on '>pw' '~*' '&*' '+@all' '-script' > /dev/null
rc script flush > /dev/null
snap() { rc --scan --pattern '{e:*' | sort | while read -r k; do printf '%s %s\n' "$k" "$(rc dump "$k" | od -An -tx1 | tr -d ' \n')"; done; }
# The counters of the decisions above expire a minute or two after them:
# one that expired between the two snapshots would read as a change.
# Their expiries are taken off first (nothing the rollback does depends on
# them).
rc --scan --pattern '{e:*' | while read -r k; do rc persist "$k" > /dev/null; done
snap > before
RLC_REDIS_URL="redis://noscript:pw@127.0.0.1:$PORT" "$RLC" rollback -q 2> err; r=$?
snap > after
[ $r != 0 ] && grep -qi 'script' err && cmp -s before after &&
    ok "a rollback refused SCRIPT LOAD fails before restoring any key (exit $r)" ||
    notok "rollback without SCRIPT" "exit $r: $(cat err); $(diff before after | head -5 | cut -c1-160 | tr '\n' ' ')"

# Without --plan there is no script's sha to ask: decide says so, and how
# to ask (the plan), not that nothing was deployed.  Here RLC_NO_FUNCTIONS
# is set over a store with functions; then a server that knows no FCALL at
# all (renamed away, as before Redis 7), reached with --target.
"$RLC" run -q "$T/p.json" || bail_out "deploy p once more" "failed"
"$RLC" decide acme group:g/key:k1 > out 2> err; r=$?
[ $r = 1 ] && grep -q RLC3240 err && grep -q 'rlc decide --plan PLAN' err &&
    grep -q 'RLC_NO_FUNCTIONS=1' err && ! grep -q 'deploy the plan\|deploy a plan' err &&
    ok "decide without --plan on a store asked by EVALSHA names --plan (exit 1, RLC3240)" ||
    notok "decide without --plan (RLC_NO_FUNCTIONS=1)" "exit $r: $(cat out err)"
PORT3=$(free_port)
start_redis "$PORT3" --rename-command FCALL '' || bail_out "redis starts" "see stderr"
RLC_NO_FUNCTIONS= "$RLC" decide --target "primary=redis://127.0.0.1:$PORT3" acme group:g/key:k1 \
    > out 2> err; r=$?
[ $r = 1 ] && grep -q RLC3240 err && grep -q 'rlc decide --plan PLAN' err &&
    grep -q "unknown command" err &&
    ok "decide without --plan on a server without FCALL names --plan (exit 1, RLC3240)" ||
    notok "decide without --plan (no FCALL)" "exit $r: $(cat out err)"
