#!/bin/sh
# targets.sh - a plan with two targets of one kind: every phase reaches
# each of them through the kind's operations.  `rlc diff` and `rlc run
# --dry-run` report what changes on every Redis target, naming it (with one
# target of a kind, items name none, as before); `rlc rollback` checks every
# target before it restores any, so a refusal on one leaves the others as
# they are.  (owner: runtime)
. "$ROOT/tests/lib.sh"
plan 11

cat > "$T/two.rlp" <<'RLP'
policy "two-stores" {
  namespace = "two"
}

tenant "acme" {
  limit 100/1m
}

tenant "hooli" {
  limit 50/1m
}

target redis "east" {
  url = env("EAST_URL")
}

target redis "west" {
  url = env("WEST_URL")
}
RLP
"$RLC" compile "$T/two.rlp" -o "$T/two.json" -q || bail_out "compile" "failed"
sed 's|limit 100/1m|limit 200/1m|' "$T/two.rlp" > "$T/twoB.rlp"
"$RLC" compile "$T/twoB.rlp" -o "$T/twoB.json" -q || bail_out "compile B" "failed"
setup "compiled plans A and B"
P1=$(free_port)
start_redis "$P1" || bail_out "redis east starts" ""
P2=$(free_port)
start_redis "$P2" || bail_out "redis west starts" ""
setup "redis-servers east and west started"
export EAST_URL="redis://127.0.0.1:$P1" WEST_URL="redis://127.0.0.1:$P2"
export RLC_STATE_DIR="$T/state"

# Deployed to east only: west has nothing yet.
RLC_ONLY=east "$RLC" run "$T/two.json" -q
check "deploy to one target of two" [ $? -eq 0 ]

"$RLC" diff "$T/two.json" --json > "$T/diff.json"
check "diff finds the changes on the second target" [ $? -eq 10 ]
check "diff names the target of each change" python3 - "$T/diff.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["tenants"]
assert s["tenants_changed"] == 2, s
assert sorted((x["tenant"], x.get("target")) for x in t) == [("acme", "west"), ("hooli", "west")], t
PY

"$RLC" run "$T/two.json" --dry-run --json > "$T/dry.json"
check "dry run lists what it would write on the second target" python3 - "$T/dry.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["would_write"]
assert sorted((x["tenant"], x.get("target")) for x in w) == [("acme", "west"), ("hooli", "west")], w
PY

"$RLC" run "$T/two.json" -q
check "deploy to both" [ $? -eq 0 ]
check "both targets hold the plan" [ "$(redis-cli -p "$P1" get two:deploy:plan)" = \
    "$(redis-cli -p "$P2" get two:deploy:plan)" ]

"$RLC" run "$T/twoB.json" -q
check "deploy a change to both" [ $? -eq 0 ]

# A later change on west alone: rollback refuses, and east keeps the plan
# it has (it is checked before anything is restored).
east_before=$(redis-cli -p "$P1" get '{two:acme}:active')
redis-cli -p "$P2" set two:deploy:plan someone-else >/dev/null
"$RLC" rollback -q 2> "$T/rb.err"
check "rollback refuses when one target changed since" [ $? -eq 8 ]
check "the refusal names that target" grep -q "target west" "$T/rb.err"
check "the other target was not restored" [ "$(redis-cli -p "$P1" get '{two:acme}:active')" = \
    "$east_before" ]
check "no lock is left behind" [ -z "$(redis-cli -p "$P1" get two:deploy:lock)$(redis-cli -p "$P2" get two:deploy:lock)" ]
