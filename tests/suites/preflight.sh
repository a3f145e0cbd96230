#!/bin/sh
# preflight.sh - preflight proves every permission a deploy and its rollback
# need, and refuses a replica, before the journal and the lock (SPEC.md 7.7,
# RLC3180, RLC3181).  Against real redis-servers: ACL users missing one
# command each, checked through ACL DRYRUN (users allowed to run it) and
# through probes (users without +@admin); a user whose key patterns miss the
# tenants' {NS:...} keys; a read-only replica.  Each refusal: exit 5, the
# command named, no lock, no journal, no key of the namespace but the audit
# log's anchor.
. "$ROOT/tests/lib.sh"
plan 23
cd "$T" || exit 2

PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
unset RLC_VERIFY_KEY RLC_ONLY
rc() { redis-cli -p "$PORT" "$@"; }

cat > p.rlp <<'EOF'
policy "pre" {
  namespace = "pf"
  max_clock_skew = 200ms
}
tenant "acme" {
  limit 100/1m
  group "g" { concurrency 2 lease 10s }
}
target redis "primary" { url = env("RLC_REDIS_URL") }
EOF
"$RLC" compile -q p.rlp -o plan.json || bail_out "compile" "failed"

# left: keys of the namespace other than the audit log and the preflight
# probe keys (which carry a 10 s TTL when DEL itself is refused).
left() {
    rc --scan | grep -E '^(pf:|\{pf:)' | grep -vE '^pf:audit(:head)?$|deploy:probe$' | tr '\n' ' '
}
probe_ttl_ok() {
    for k in $(rc --scan --pattern '*deploy:probe'); do
        # -2: expired since the scan.
        t=$(rc pttl "$k"); [ "$t" -eq -2 ] || { [ "$t" -gt 0 ] && [ "$t" -le 10000 ]; } || return 1
    done
}

# refused NAME USER CMDRE CODE [URL]: a run as USER (password pw) is refused
# at preflight with exit 5 and CODE, the message matching CMDRE, leaving
# nothing behind.
refused() {
    name=$1 user=$2 re=$3 code=$4 url=${5:-redis://$2:pw@127.0.0.1:$PORT}
    rc FLUSHALL > /dev/null
    rm -rf "$T/st"
    RLC_REDIS_URL=$url timeout 20 "$RLC" run -q --state-dir "$T/st" plan.json > out 2> err
    r=$?
    if [ $r -ne 5 ]; then notok "$name" "exit $r, expected 5: $(head -c 300 err)"
    elif ! grep -q "error\[$code\]" err; then notok "$name" "no $code: $(head -c 300 err)"
    elif ! grep -qE -- "$re" err; then notok "$name" "message does not match /$re/: $(head -c 300 err)"
    elif [ -n "$(left)" ]; then notok "$name" "keys left: $(left)"
    elif ! probe_ttl_ok; then notok "$name" "a probe key without a short TTL: $(for k in $(rc --scan --pattern "*deploy:probe"); do echo "$k $(rc pttl "$k") $(rc type "$k")"; done)"
    elif [ -e "$T/st/journal.jsonl" ]; then notok "$name" "journal left"
    else ok "$name"
    fi
}

# Each command a deploy or its rollback needs, withheld in turn.  "u" users
# may run ACL DRYRUN (+@all); "v" users may not (-@admin), so rlc probes.
for c in restore fcall function pexpire del hset dump xadd; do
    case $c in
    function) want='FUNCTION LOAD' ;;
    *) want=$(echo "$c" | tr a-z A-Z) ;;
    esac
    rc ACL SETUSER "u$c" on '>pw' '~*' '&*' '+@all' "-$c" > /dev/null
    rc ACL SETUSER "v$c" on '>pw' '~*' '&*' '+@all' '-@admin' "-$c" > /dev/null
    refused "a user without $want is refused at preflight (ACL DRYRUN)" "u$c" \
        "user 'u$c' may not run $want.*ACL DRYRUN" RLC3181
    refused "a user without $want is refused at preflight (probe)" "v$c" \
        "user 'v$c' may not run $want, which a deploy needs .*NOPERM" RLC3181
done
# Keys: patterns for NS:* alone miss every tenant key, {NS:tenant}:...
rc ACL SETUSER nstar on '>pw' '~pf:*' '+@all' > /dev/null
refused "a user whose keys are pf:* only (no {pf:...}) is refused" nstar \
    "may not run HSET on \{pf:acme\}:cfg:x.*'\{pf:acme\}:cfg:x' key" RLC3181
rc ACL SETUSER ronly on '>pw' '%R~*' '+@all' > /dev/null
refused "a user who may only read keys is refused" ronly "may not run SET on pf:deploy:lock" RLC3181

# The grant SPEC.md's RLC3181 page suggests deploys, through the probes (it
# has no +acl) - and so does any user with every permission needed.
rc ACL SETUSER deployer on '>pw' '~pf:*' '~{pf:*' '+@read' '+@write' '+@scripting' \
    '+time' '+info' '+cluster' > /dev/null
rc FLUSHALL > /dev/null; rm -rf "$T/st"
RLC_REDIS_URL="redis://deployer:pw@127.0.0.1:$PORT" "$RLC" run -q --state-dir "$T/st" plan.json 2> err
r=$?
check "the grant of RLC3181's page deploys (exit 0)" [ $r -eq 0 ]
rc ACL SETUSER full on '>pw' '~*' '&*' '+@all' > /dev/null
rc FLUSHALL > /dev/null; rm -rf "$T/st"
RLC_REDIS_URL="redis://full:pw@127.0.0.1:$PORT" "$RLC" run -q --state-dir "$T/st" plan.json 2> err
r=$?
check "a user with every permission deploys (exit 0)" [ $r -eq 0 ]
check "no probe key is left after a deploy" [ -z "$(rc --scan --pattern '*deploy:probe')" ]

# A read-only replica of the primary, as the target.
P2=$(free_port)
start_redis "$P2" --replicaof 127.0.0.1 "$PORT" || bail_out "replica starts" "see stderr"
i=0
while ! redis-cli -p "$P2" info replication | grep -q 'master_link_status:up'; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
done
refused "a replica as target is refused at preflight (exit 5, RLC3180)" x \
    "127\.0\.0\.1:$P2 is a replica \(role:slave\) of 127\.0\.0\.1:$PORT" RLC3180 \
    "redis://127.0.0.1:$P2"
check "no lock on the replica or its primary" \
    [ -z "$(redis-cli -p "$P2" --scan --pattern 'pf:deploy:lock')$(rc --scan --pattern 'pf:deploy:lock')" ]
