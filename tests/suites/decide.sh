#!/bin/sh
# decide.sh - `rlc decide`: one request asked of a live, deployed store.
# A real decision charges exactly as a gateway's would (the limit runs out
# on the request the policy says); a concurrency slot it takes is given
# back; --dry-run answers what the next real decision answers and leaves
# every key, value and expiry of the store as it was (Redis refuses writes
# from rlc_peek, and the test compares a full dump before and after);
# listed and unlisted tenants and keys; the plan or the last deploy's
# record names the store; errors are located with defined exits.
. "$ROOT/tests/lib.sh"
plan 14

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
cat > "$T/p.rlp" <<'EOF'
policy "d" {
  namespace = "d"
}

tenant * {
  limit 3/1m
  key * {
    limit 2/1m
  }
}

tenant "acme" {
  limit 5/1m
  concurrency 2 lease 30s
  key "k1" {
    limit 4/1m
    limit 1/2m shadow
  }
}

target redis "primary" {
  url = env("RLC_REDIS_URL")
}
EOF
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" && "$RLC" run -q "$T/p.json" ||
    bail_out "compile and deploy" "failed"
cd "$T" || exit 1

# snapshot: every key of the store with its type, value (DUMP) and expiry
# instant, sorted, so two snapshots are equal exactly when nothing changed.
snapshot() {
    for k in $(redis-cli -p "$PORT" --scan | sort); do
        printf '%s %s %s %s\n' "$k" "$(redis-cli -p "$PORT" type "$k")" \
            "$(redis-cli -p "$PORT" --no-raw dump "$k" | od -An -tx1 | tr -d ' \n')" \
            "$(redis-cli -p "$PORT" pexpiretime "$k")"
    done
}
field() { # field N: the Nth CSV field of the answer line (line 2)
    sed -n 2p | cut -d, -f"$1"
}

"$RLC" decide other key:k1 > out 2> err; rc=$?
[ "$rc" = 0 ] && [ "$(head -1 out)" = "time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,shadow" ] &&
    [ "$(field 2-7 < out)" = "other,key:k1,,,1,1" ] &&
    ok "decide: simulate's fields, an unlisted tenant's key * admitted" ||
    notok "decide: simulate's fields, an unlisted tenant's key * admitted" "exit $rc: $(cat out err)"

# Dry runs: the same answer the real decision then gives, and nothing in
# the store moves.  key * allows 2 a minute; one was taken above.
snapshot > before
same=""
for i in 1 2 3; do
    "$RLC" decide --dry-run other key:k1 > dry 2>> err
    snapshot > after
    cmp -s before after || same="$same dry run $i changed the store;"
    "$RLC" decide other key:k1 > real 2>> err
    [ "$(field 7-9 < dry)" = "$(field 7-9 < real)" ] ||
        same="$same dry run $i said $(field 7-9 < dry), the decision $(field 7-9 < real);"
    snapshot > before
done
[ -z "$same" ] && ok "--dry-run answers what the next decision answers and changes no key, value or expiry" ||
    notok "--dry-run answers what the next decision answers and changes no key, value or expiry" "$same $(cat err)"
[ "$(field 7 < real)" = 0 ] && [ "$(field 11 < real)" -gt 0 ] &&
    ok "the real decisions charge: the 3rd and 4th requests of a 2/1m key are rejected with a retry" ||
    notok "the real decisions charge: the 3rd and 4th requests of a 2/1m key are rejected with a retry" "$(cat real)"

# Many dry runs on a fresh key charge nothing.
for i in 1 2 3 4 5 6; do "$RLC" decide --dry-run fresh key:fresh > dry 2>> err; done
[ "$(field 7 < dry)" = 1 ] && [ "$(field 9 < dry)" = 1 ] &&
    ok "six dry runs later a fresh key still has its whole quota" ||
    notok "six dry runs later a fresh key still has its whole quota" "$(cat dry err)"

# A listed tenant with concurrency: each decision's lease is given back, so
# the rate limit (5/1m), not the 2 slots, ends the run of admissions.
got=""
for i in 1 2 3 4 5 6; do
    "$RLC" decide --json acme > j 2>> err
    got="$got $(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(int(a["allowed"]), "lease_released" in a, end="")' j)"
done
[ "$got" = " 1 True 1 True 1 True 1 True 1 True 0 False" ] &&
    [ "$(redis-cli -p "$PORT" zcard '{d:acme}:c:'"$(python3 -c '
import json,sys
p = json.load(open(sys.argv[1]))
print([r["id"] for t in p["tenants"] if t["name"] == "acme" for r in t["rules"] if r.get("kind") == "concurrency"][0])' "$T/p.json")")" = 0 ] &&
    ok "concurrency: every lease a decision takes is given back; the 6th request meets the 5/1m rate" ||
    notok "concurrency: every lease a decision takes is given back; the 6th request meets the 5/1m rate" "$got $(cat err)"

# A listed key with a shadow rule: admitted, the shadow rule named.  On a
# second store: one store's library holds one namespace's tenant *.
P2=$(free_port)
start_redis "$P2" || bail_out "second redis starts" "see stderr"
cat > "$T/s.rlp" <<'EOF'
policy "s" {
  namespace = "s"
}

tenant "acme" {
  key "k1" {
    limit 4/1m
    limit 1/2m shadow
  }
}

target redis "primary" {
  url = env("RLC_REDIS_URL")
}
EOF
"$RLC" compile -q "$T/s.rlp" -o "$T/s.json" &&
    RLC_REDIS_URL="redis://127.0.0.1:$P2" RLC_STATE_DIR="$T/state-s" "$RLC" run -q "$T/s.json" ||
    bail_out "deploy s" "failed"
export RLC_REDIS_URL="redis://127.0.0.1:$P2"
"$RLC" decide --plan "$T/s.json" acme key:k1 > /dev/null 2>> err
"$RLC" decide --plan "$T/s.json" --json acme key:k1 > j 2>> err; rc=$?
got=$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["allowed"], a["remaining"], len(a["shadow"]), a["target"])' j 2>&1)
[ "$rc" = 0 ] && [ "$got" = "True 2 1 primary" ] &&
    ok "--plan names the store; a shadow limit that would reject is listed, the request admitted" ||
    notok "--plan names the store; a shadow limit that would reject is listed, the request admitted" "exit $rc: $got $(cat err)"

# Cost.
"$RLC" decide --plan "$T/s.json" --cost 2 --dry-run acme key:k1 > out 2> err
[ "$(field 6-7 < out)" = "2,1" ] && [ "$(field 9 < out)" = 0 ] &&
    ok "--cost 2 is charged as 2 units" || notok "--cost 2 is charged as 2 units" "$(cat out err)"

# Errors.
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
"$RLC" decide other 'grp:x' > out 2> err; rc=$?
[ "$rc" = 1 ] && grep -q 'error\[RLC3241\]: target primary: the store refused the request: RLC_BADARG' err &&
    ok "a malformed path: the store's refusal, RLC3241, exit 1" ||
    notok "a malformed path: the store's refusal, RLC3241, exit 1" "exit $rc: $(cat err)"
P3=$(free_port)
start_redis "$P3" || bail_out "third redis starts" "see stderr"
"$RLC" decide --plan "$T/p.json" --target "primary=redis://127.0.0.1:$P3" acme > out 2> err; rc=$?
[ "$rc" = 1 ] && grep -q "error\[RLC3240\]: target primary: redis://127.0.0.1:$P3 has no rlc enforcement library" err &&
    ok "a store nothing was deployed to: RLC3240 names it, exit 1" ||
    notok "a store nothing was deployed to: RLC3240 names it, exit 1" "exit $rc: $(cat err)"
RLC_STATE_DIR="$T/empty-state" "$RLC" decide acme > out 2> err; rc=$?
[ "$rc" = 1 ] && grep -q 'no deploy recorded' err &&
    ok "no plan and no deploy recorded: said, exit 1" ||
    notok "no plan and no deploy recorded: said, exit 1" "exit $rc: $(cat err)"
"$RLC" decide > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q 'no tenant given' err && ok "no tenant: usage error, exit 2" ||
    notok "no tenant: usage error, exit 2" "exit $rc: $(cat err)"
"$RLC" decide acme key:k1 GET > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q 'expected TENANT \[PATH \[METHOD ROUTE\]\]' err &&
    ok "a method without a route: usage error, exit 2" ||
    notok "a method without a route: usage error, exit 2" "exit $rc: $(cat err)"
"$RLC" decide --cost 0 acme > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q -- '--cost takes a whole number' err && ok "--cost 0: usage error, exit 2" ||
    notok "--cost 0: usage error, exit 2" "exit $rc: $(cat err)"
"$RLC" decide --plan "$T/missing.json" acme > out 2> err; rc=$?
[ "$rc" = 3 ] && grep -q 'RLC3101' err && ok "a plan that cannot be read: RLC3101, exit 3" ||
    notok "a plan that cannot be read: RLC3101, exit 3" "exit $rc: $(cat err)"
