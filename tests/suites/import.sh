#!/bin/sh
# import.sh - `rlc import envoy|limitador`: every corpus file imports to a
# canonical policy that checks with the hazards it really has, the imported
# policies admit on the simulator what the source service's documented
# semantics admit, Kubernetes wrappers and multi-document files, hostile
# YAML ends in a located error with bounded memory, and the CLI's exits.
. "$ROOT/tests/lib.sh"

C="$ROOT/../shared/corpus"
[ -d "$C" ] || C=/work/shared/corpus
plan 48

# imp FORMAT NAME: imports corpus file NAME into $T/NAME.rlp.
imp() {
    "$RLC" import "$1" "$C/$1/$2.yaml" -o "$T/$2.rlp" 2> "$T/$2.err"
}
for f in envoy/ratelimit-example envoy/ratelimit-basic-config envoy/gateway-multiple-rules \
         envoy/gateway-month-year envoy/tiered-auth-token envoy/postgres-wildcards \
         limitador/sandbox-limits limitador/examples-limits limitador/stacked-windows; do
    fm=${f%%/*} n=${f#*/}
    if imp "$fm" "$n" && "$RLC" fmt --check "$T/$n.rlp" >/dev/null; then ok "import/$n canonical"
    else notok "import/$n canonical" "$(head -c 300 "$T/$n.err")"; fi
done

# The hazards each imported corpus file really has (and only those).
hz() { "$RLC" check --format=json "$T/$1.rlp" 2>/dev/null | sed -n 's/^{"code":"\(RLC[0-9]*\)".*/\1/p' | sort -u | tr '\n' ' '; }
for c in "ratelimit-example:RLC2003 " "ratelimit-basic-config:RLC2003 " "sandbox-limits:RLC2002 " \
         "gateway-multiple-rules:" "tiered-auth-token:" "stacked-windows:"; do
    n=${c%%:*} want=${c#*:}
    got=$(hz "$n")
    if [ "$got" = "$want" ]; then ok "import/$n hazards"; else notok "import/$n hazards" "got '$got' want '$want'"; fi
done

# Diagnostics the corpus imports report, at the YAML's line and column.
check "import/ratelimit-example block-all located" grep -q 'ratelimit-example.yaml:25:30: note\[RLC4012\]' "$T/ratelimit-example.err"
check "import/ratelimit-example semantics note" grep -q 'note\[RLC4010\]' "$T/ratelimit-example.err"
check "import/month-year approximated" grep -q 'gateway-month-year.yaml:12:17: warning\[RLC4011\]' "$T/gateway-month-year.err"
check "import/sandbox != not carried" grep -q 'sandbox-limits.yaml:7:7: warning\[RLC4030\]' "$T/sandbox-limits.err"
check "import/output says all or nothing" grep -q 'all or nothing' "$T/ratelimit-example.rlp"

# semantics NAME TESTS: the imported policy with test blocks appended passes rlc test.
semantics() {
    cat "$T/$1.rlp" > "$T/$1.t.rlp"
    printf '%s\n' "$2" >> "$T/$1.t.rlp"
    if "$RLC" test "$T/$1.t.rlp" > "$T/$1.tout" 2>&1; then ok "import/$1 semantics"
    else notok "import/$1 semantics" "$(grep -v '^ok' "$T/$1.tout" | head -5 | tr '\n' ' ')"; fi
}
semantics ratelimit-example '
test "proxy to mock: 1 per minute" {
  request tenant "rl" group "source_cluster" key "proxy" group "destination_cluster" key "mock"
  send 5 expect allowed 1
}
test "foo: 2 per minute per value" {
  request tenant "rl" group "foo" key "a"
  send 5 expect allowed 2
  request tenant "rl" group "foo" key "b"
  send 5 expect allowed 2
}
test "bar banned: nothing" {
  request tenant "rl" group "foo" key "a" group "bar" key "banned"
  send 3 expect allowed 0
}
test "qux: unlimited" {
  request tenant "rl" group "qux" key "anything"
  send 200 expect allowed 200
}'
semantics ratelimit-basic-config '
test "key2 default 20 per minute, value2 30, value3 whitelisted" {
  request tenant "test-domain" group "key2" key "other"
  send 40 expect allowed 20
  request tenant "test-domain" group "key2" key "value2"
  send 40 expect allowed 30
  request tenant "test-domain" group "key2" key "value3"
  send 100 expect allowed 100
}
test "subkey1 default 5 per second, subvalue1 10" {
  request tenant "test-domain" group "key1" key "value1" group "subkey1" key "x"
  send 20 expect allowed 5
  request tenant "test-domain" group "key1" key "value1" group "subkey1" key "subvalue1"
  send 20 expect allowed 10
}'
semantics tiered-auth-token '
test "free tier 10 per hour per token, client1 20, client2 30" {
  request tenant "rl" group "auth_token" key "t1"
  send 15 expect allowed 10
  request tenant "rl" group "auth_token" key "t2"
  send 15 expect allowed 10
  request tenant "rl" group "auth_token" key "client1"
  send 40 expect allowed 20
  request tenant "rl" group "auth_token" key "client2"
  send 40 expect allowed 30
}'
# The same through `rlc simulate` on a trace with time in it: Envoy's hour
# is a fixed window, so 10 of the first hour's 15 pass, and 10 again in
# the next hour (requests a second apart, then an hour later).
awk 'BEGIN { for (i = 0; i < 15; i++) printf "%d,rl,group:auth_token/key:t1,GET,/,1\n", i * 1000
             for (i = 0; i < 15; i++) printf "%d,rl,group:auth_token/key:t1,GET,/,1\n", 3600000 + i * 1000 }' \
    > "$T/tiered.csv"
"$RLC" simulate "$T/tiered-auth-token.rlp" --trace "$T/tiered.csv" > "$T/tiered.out" 2> /dev/null
got=$(awk -F, 'NR > 1 { a[$1 < 3600000] += $7 } END { printf "%d %d", a[1], a[0] }' "$T/tiered.out")
check "import/tiered-auth-token on a trace: 10 per hour, again in the next hour (got $got)" \
    [ "$got" = "10 10" ]
semantics postgres-wildcards '
test "50 per second per remote address" {
  request tenant "postgres" group "remote_address" key "10.0.0.1"
  send 60 expect allowed 50
  request tenant "postgres" group "remote_address" key "10.0.0.2"
  send 60 expect allowed 50
}'
semantics gateway-month-year '
test "5 per month" {
  request tenant "first-listener" group "first-route" key "x" group "rule-0-match-0" key "rule-0-match-0"
  send 8 expect allowed 5
}'
semantics gateway-multiple-rules '
test "5 per second" {
  request tenant "first-listener" group "first-route" key "first-route" group "test-namespace/test-policy-1/rule/0" key "test-namespace/test-policy-1/rule/0" group "rule-0-match-0" key "rule-0-match-0"
  send 8 expect allowed 5
}'
semantics sandbox-limits '
test "keyA valueA: 3 per minute per varA value" {
  request tenant "test_namespace" group "keyA" key "valueA" group "varA" key "u1"
  send 5 expect allowed 3
  request tenant "test_namespace" group "keyA" key "valueA" group "varA" key "u2"
  send 5 expect allowed 3
}'
semantics examples-limits '
test "POST: 5 per minute per user" {
  request tenant "test_namespace" group "req_method" key "POST" group "user_id" key "u1"
  send 8 expect allowed 5
}'
semantics stacked-windows '
test "three windows, all apply" {
  request tenant "test_namespace"
  send 10 expect allowed 10
}'

# Kubernetes wrappers and several documents.
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rl\ndata:\n  config.yaml: |\n'
  sed 's/^/    /' "$C/envoy/tiered-auth-token.yaml"; } > "$T/cm.yaml"
"$RLC" import envoy "$T/cm.yaml" > "$T/cm.rlp" 2>/dev/null
"$RLC" import envoy "$C/envoy/tiered-auth-token.yaml" > "$T/plain.rlp" 2>/dev/null
grep -v '^#' "$T/plain.rlp" > "$T/plain.body"; grep -v '^#' "$T/cm.rlp" > "$T/cm.body"
check "import/configmap body equals plain" cmp -s "$T/plain.body" "$T/cm.body"
printf 'apiVersion: v1\nkind: ConfigMap\ndata:\n  c.yaml: |\n    domain: rl\n    descriptors:\n      - key: a\n        rate_limit: {unit: hour, requests_per_unit: x}\n' > "$T/cmbad.yaml"
"$RLC" import envoy "$T/cmbad.yaml" > /dev/null 2> "$T/cmbad.err"
check "import/configmap inner error located" grep -q 'cmbad.yaml\[data.c.yaml\]:4:' "$T/cmbad.err"
{ printf 'apiVersion: limitador.kuadrant.io/v1alpha1\nkind: Limitador\nmetadata:\n  name: l\nspec:\n  limits:\n'
  sed -n '2,$p' "$C/limitador/stacked-windows.yaml" | sed 's/^/    /'; } > "$T/cr.yaml"
"$RLC" import limitador "$T/cr.yaml" 2>/dev/null | grep -v '^#' > "$T/cr.body"
"$RLC" import limitador "$C/limitador/stacked-windows.yaml" 2>/dev/null | grep -v '^#' > "$T/sw.body"
check "import/limitador resource" cmp -s "$T/cr.body" "$T/sw.body"
printf -- '---\ndomain: a\n---\n---\ndomain: b\n' > "$T/multi.yaml"
"$RLC" import envoy "$T/multi.yaml" > "$T/multi.rlp" 2>/dev/null
check "import/multi-document: two tenants" test "$(grep -c '^tenant' "$T/multi.rlp")" = 2

# Hostile YAML: each a located error, exit 1, nothing written.
hostile() {
    name=$1 code=$2 want=$3
    "$RLC" import envoy "$T/$name.yaml" > "$T/$name.out" 2> "$T/$name.err"
    rc=$?
    if [ $rc -eq 1 ] && [ ! -s "$T/$name.out" ] && grep -q "$want.*\[$code\]" "$T/$name.err"; then ok "import/hostile $name"
    else notok "import/hostile $name" "exit $rc: $(head -c 300 "$T/$name.err")"; fi
}
awk 'BEGIN { printf "a: &a [x,x,x,x,x,x,x,x,x]\n"; for (i = 1; i < 10; i++) printf "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", 97+i, 97+i, 96+i,96+i,96+i,96+i,96+i,96+i,96+i,96+i,96+i }' > "$T/bomb.yaml"
hostile bomb RLC4003 'bomb.yaml:2:'
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "["; for (i = 0; i < 10000; i++) printf "]"; print "" }' > "$T/deep.yaml"
hostile deep RLC4002 'deep.yaml:1:65:'
awk 'BEGIN { printf "domain: \""; for (i = 0; i < 2100000; i++) printf "x"; print "\"" }' > "$T/huge.yaml"
hostile huge RLC4002 'huge.yaml:1:9:'
printf 'domain: a\ndescriptors: []\ndomain: b\n' > "$T/dupkey.yaml"
hostile dupkey RLC4004 'dupkey.yaml:3:1:'
printf 'domain: a\ndescriptors:\n\t- key: k\n' > "$T/tabs.yaml"
hostile tabs RLC4001 'tabs.yaml:3:'
printf 'domain: \377\376\n' > "$T/latin.yaml"
hostile latin RLC4001 'latin.yaml:1:'
printf '# nothing\n---\n...\n---\n' > "$T/empty.yaml"
hostile empty RLC4007 'empty.yaml:1:1:'
: > "$T/zero.yaml"
hostile zero RLC4007 'zero.yaml'
head -c 67108865 /dev/zero | tr '\0' ' ' > "$T/big.yaml"
"$RLC" import envoy "$T/big.yaml" > /dev/null 2> "$T/big.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'RLC0002' "$T/big.err"; then ok "import/hostile 64 MiB + 1"
else notok "import/hostile 64 MiB + 1" "exit $rc: $(head -c 200 "$T/big.err")"; fi
rm -f "$T/big.yaml"

# The CLI.
check "import/--help" sh -c "'$RLC' import --help | grep -q 'usage: rlc import envoy|limitador'"
"$RLC" import > /dev/null 2>&1; check "import/no format exit 2" test $? = 2
"$RLC" import yaml x > /dev/null 2> "$T/fmt.err"; rc=$?
check "import/unknown format exit 2" sh -c "test $rc = 2 && grep -q \"unknown format 'yaml'\" '$T/fmt.err'"
"$RLC" import envoy "$T/nope.yaml" > /dev/null 2>&1; check "import/missing file exit 2" test $? = 2
"$RLC" import envoy "$T/dupkey.yaml" -o "$T/never.rlp" > /dev/null 2>&1
check "import/error writes nothing" test ! -e "$T/never.rlp"
