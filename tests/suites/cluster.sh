#!/bin/sh
# cluster.sh - the Redis Cluster client against a real 6-node cluster:
# routing, MOVED, ASK, per-node pipelines, commands on every primary.
# Then templates on the cluster (SPEC 2.3, 6.1, 6.2): examples/saas.rlp's
# `tenant * tier free` and `key *` decide unlisted tenants whose tags hash
# to slots on all three primaries, each decision one FCALL on the node
# owning the tenant's slot; every counter of every value lands in that
# slot; `tenant *` is in the library on every primary, and a change to it
# and its rollback reach every primary.
. "$ROOT/tests/lib.sh"
# The cluster client's own cases (tests/runtime/cluster_client.c), counted
# from its source: each report() call prints one.
nclient=$(grep -c '^ *report(' "$ROOT/tests/runtime/cluster_client.c")
plan $((nclient + 10 + 14))
start_redis_cluster || bail_out "6-node cluster starts" "$(tail -5 "$T/cluster-create.log" 2>/dev/null)"
# shellcheck disable=SC2086
"$ROOT/$BUILD/tests/cluster_client" $CLUSTER_PORTS

# A deploy on the cluster: configs spread over every primary's slots, the
# library on every primary, clocks checked on all six nodes.  Then one
# primary is SIGSTOPped mid-apply: commands to it time out, the run fails,
# and once the node is back the recovery restores the old state.
# saas.rlp also has etcd and http targets: only the Redis one here.
export RLC_ONLY=primary
"$RLC" compile "$ROOT/examples/saas.rlp" -o "$T/A.json" -q
sed 's/limit 9000\/1m burst 1500/limit 9500\/1m burst 1500/' "$ROOT/examples/saas.rlp" > "$T/b.rlp"
"$RLC" compile "$T/b.rlp" -o "$T/B.json" -q
set -- $CLUSTER_PORTS
export RLC_REDIS_URL="redis://127.0.0.1:$1" RLC_STATE_DIR="$T/state"
"$RLC" run -q --json "$T/A.json" > "$T/a.json"; r=$?
check "deploy on the cluster commits" [ $r -eq 0 ]
nn=$(grep -o '"rtt_ms"' "$T/a.json" | wc -l)
echo "# preflight checked $nn nodes"
check "preflight checked all six nodes (CLUSTER NODES, not only what CLUSTER SLOTS lists)" [ "$nn" -eq 6 ]
libs=0
for p in $CLUSTER_PORTS; do
    [ "$(redis-cli -p "$p" role | head -1)" = master ] || continue
    redis-cli -p "$p" function list libraryname rlc | grep -q rlc && libs=$((libs + 1))
done
check "library loaded on every primary" [ $libs -eq 3 ]
"$RLC" diff "$T/A.json" > /dev/null; check "cluster diff after the deploy: no change" [ $? -eq 0 ]
# The primary holding acme's slot.
slot=$(redis-cli -p "$1" cluster keyslot "{saas:acme}:active")
victim=""
for p in $CLUSTER_PORTS; do
    [ "$(redis-cli -p "$p" role | head -1)" = master ] || continue
    case $(redis-cli -p "$p" get "{saas:acme}:active" 2>&1) in MOVED*|"") ;; *) victim=$p ;; esac
done
echo "# victim port $victim, slot $slot"
vpid=$(redis-cli -p "$victim" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p' | tr -d '\r')
echo "# victim pid $vpid"
RLC_TIMEOUT_MS=500 RLC_FAULT=apply.flip:cmd RLC_FAULT_CMD="kill -STOP $vpid" \
    "$RLC" run -q "$T/B.json" 2> "$T/err"; r=$?
check "primary SIGSTOPped mid-apply: the run fails" [ $r -eq 1 ]
check "the failure is a timeout, then a rollback" grep -q "timeout" "$T/err"
kill -CONT "$vpid"
sleep 0.5
"$RLC" run --dry-run -q "$T/A.json" > /dev/null 2>&1   # recovers
"$RLC" diff "$T/A.json" > "$T/d"; r=$?
check "after the node resumes, recovery leaves exactly plan A" [ $r -eq 0 ]
"$RLC" audit verify > /dev/null; check "audit verifies after the cluster fault" [ $? -eq 0 ]
"$RLC" run -q "$T/B.json"; check "the next deploy of B commits" [ $? -eq 0 ]
"$RLC" diff "$T/B.json" > /dev/null; check "cluster holds plan B" [ $? -eq 0 ]

# ---- templates on the cluster ----------------------------------------------
# The owner of every slot: "LO HI PORT" per range, from CLUSTER NODES.
redis-cli -p "$1" cluster nodes | awk '$3 ~ /master/ {
    split($2, a, "[:@]")
    for (i = 9; i <= NF; i++) { n = split($i, r, "-"); print r[1], (n == 2 ? r[2] : r[1]), a[2] } }' \
    > "$T/slots"
owner() { awk -v s="$1" '$1 <= s && s <= $2 { print $3 }' "$T/slots"; }
# enc NAME: the tenant's name as its hash tag writes it (SPEC 6.1): '%',
# '{', '}', ':' and bytes outside 0x21-0x7e as %XX.
enc() {
    printf '%s' "$1" | od -An -v -tx1 | tr -s ' \n' '\n\n' | grep . | while read -r h; do
        d=$(printf '%d' "0x$h")
        case $h in 25|7b|7d|3a) printf '%%%s' "$(echo "$h" | tr a-f A-F)" ;;
            *) if [ "$d" -lt 33 ] || [ "$d" -gt 126 ]; then printf '%%%s' "$(echo "$h" | tr a-f A-F)"
               else printf "\\$(printf '%03o' "$d")"; fi ;;
        esac
    done
}
# A listed key is not among them: both are unlisted keys of unlisted
# tenants.  The second holds ':', '{', '}', '/' and '%' (PATH encodes '/'
# and '%', SPEC 6.3); its counter key encodes ':' too (6.1).
KEY1=key:k-1
KEY2='key:k:{7}%2Fx%25y'
# decide_all PREFIX N: 7 decisions for each of the two keys of tenants
# PREFIX-1..PREFIX-N and four with awkward names, each sent as one FCALL
# (no -c) to the primary owning the tenant's slot, pipelined per node.
# Writes $T/PREFIX.req ("ENC SLOT PORT PATH" per decision) and
# $T/PREFIX.rep (the replies, in the same order).
decide_all() {
    : > "$T/$1.req"
    i=0
    for t in $(i=1; while [ $i -le "$2" ]; do echo "$1-$i"; i=$((i + 1)); done) \
        "$1:a}b" "$1 x{y}z" "$1-\303\274" "$1{"; do
        e=$(enc "$(printf "$t")")
        sl=$(redis-cli -p "$CP1" cluster keyslot "{saas:$e}:active")
        o=$(owner "$sl")
        for p in $KEY1 $KEY2; do
            for _ in 1 2 3 4 5 6 7; do echo "$e $sl $o $p"; done
        done
    done >> "$T/$1.req"
    : > "$T/$1.rep"
    for o in $(awk '{ print $3 }' "$T/$1.req" | sort -u); do
        awk -v o="$o" '$3 == o { printf "FCALL rlc_decide 1 \"{saas:%s}:active\" \"%s\" GET /v1/events 1 \"\" \"\"\n", $1, $4 }' \
            "$T/$1.req" | redis-cli -p "$o" --csv > "$T/$1.$o.rep" 2>&1
        awk -v o="$o" '$3 == o' "$T/$1.req" | paste -d' ' - "$T/$1.$o.rep" >> "$T/$1.rep"
    done
}
# per_tenant PREFIX: "ENC ADMITTED REJECTED" per tenant of the last run
per_tenant() {
    awk '{ split($5, f, ","); a[$1] += (f[1] == 1); r[$1] += (f[1] == 0) }
        END { for (t in a) print t, a[t], r[t] }' "$T/$1.rep" | sort
}
set -- $CLUSTER_PORTS; CP1=$1
decide_all signup 24
nreq=$(wc -l < "$T/signup.req"); nrep=$(wc -l < "$T/signup.rep")
owners=$(awk '{ print $3 }' "$T/signup.req" | sort -u | wc -l)
echo "# $nreq decisions for $(awk '{ print $1 }' "$T/signup.req" | sort -u | wc -l) unlisted tenants on $owners primaries"
check "unlisted tenants' tags hash to slots on all three primaries" [ "$owners" -eq 3 ]
bad=$(awk '$5 !~ /^[01],"/' "$T/signup.rep")
[ "$nreq" -eq "$nrep" ] && [ -z "$bad" ] \
    && ok "every decision is one FCALL answered by the owning node (no CROSSSLOT, no MOVED)" \
    || notok "every decision is one FCALL answered by the owning node" "$nrep of $nreq; $(echo "$bad" | head -2)"
per_tenant signup > "$T/signup.tot"
wrong=$(awk '!($2 == 10 && $3 == 4)' "$T/signup.tot")
[ -z "$wrong" ] && ok "each unlisted tenant: 5 per key (key * 5/1s), 10 in all (free plan burst 10)" \
    || notok "each unlisted tenant is limited by tenant * and key *" "$(echo "$wrong" | head -3)"
# Every key of every value: on the owning node, in the tag's slot, and
# no config key (tenant * is in the library).  Read at once: a key's
# counter expires about a second after its bucket refills.
for o in $(awk '{ print $3 }' "$T/slots" | sort -u); do
    redis-cli -p "$o" --scan --pattern '{saas:signup*' | sed "s/^/$o /"
done > "$T/signup.keys"
# "PORT KEY SLOT" per key: each key's slot as its node computes it
awk '{ print "CLUSTER KEYSLOT " $2 }' "$T/signup.keys" | redis-cli -p "$CP1" \
    | paste -d' ' "$T/signup.keys" - > "$T/signup.slots"
keys_bad=""
for e in $(awk '{ print $1 }' "$T/signup.req" | sort -u); do
    sl=$(awk -v e="$e" '$1 == e { print $2; exit }' "$T/signup.req")
    # this tenant's keys: 4 counters, all on the owner, all in the tag's slot
    n=$(awk -v t="{saas:$e}:" 'index($2, t) == 1' "$T/signup.slots" | wc -l)
    good=$(awk -v t="{saas:$e}:c:" -v s="$sl" -v o="$(owner "$sl")" \
        'index($2, t) == 1 && $3 == s && $1 == o' "$T/signup.slots" | wc -l)
    [ "$n" -eq 4 ] && [ "$good" -eq 4 ] || keys_bad="$keys_bad $e:$n/$good"
done
[ -z "$keys_bad" ] \
    && ok "each unlisted tenant's 4 counters (2 of the free plan, 1 per key) are in its slot on its node, no config key" \
    || notok "counters of every value in the tenant's slot" "bad:$keys_bad"
check "a value's counter key encodes its ':' and keeps '{', '}' after the tag" \
    grep -q ' {saas:signup-1}:c:[0-9a-f]*/k%3A{7}%2Fx%25y ' "$T/signup.slots"
# template_line PORT: the line of the library that carries tenant *
template_line() {
    redis-cli -p "$1" function list withcode libraryname rlc | grep '^local TEMPLATE = '
}
# same_template NAME: the line of every primary, or "differ"
same_template() {
    _l=""
    for _p in $(awk '{ print $3 }' "$T/slots" | sort -u); do
        _x=$(template_line "$_p")
        if [ -z "$_l" ]; then _l=$_x; elif [ "$_x" != "$_l" ]; then echo differ; return; fi
    done
    echo "$_l"
}
TB=$(same_template)
echo "# tenant * in the library: $(echo "$TB" | cut -c1-80)..."
case $TB in 'local TEMPLATE = {tagpre = "{saas:", ver = '*'"s/key*"'*'5 1000 5 1'*) r=0 ;; *) r=1 ;; esac
check "tenant * (key * 5/1s) is in the library on every primary (FUNCTION LIST)" [ $r -eq 0 ]
# A change to tenant * only: key * 5/1s -> 3/1s.
sed '/^tenant \* /,/^}/s|limit 5/1s|limit 3/1s|' "$T/b.rlp" > "$T/c.rlp"
"$RLC" compile "$T/c.rlp" -o "$T/C.json" -q || bail_out "compile C" "failed"
"$RLC" run -q "$T/C.json"; check "a deploy that changes tenant * commits on the cluster" [ $? -eq 0 ]
TC=$(same_template)
case $TC in differ|"$TB") r=1 ;; *'"s/key*"'*'3 1000 3 1'*) r=0 ;; *) r=1 ;; esac
check "the changed tenant * is in the library on every primary" [ $r -eq 0 ]
decide_all later 6
owners=$(awk '{ print $3 }' "$T/later.req" | sort -u | wc -l)
wrong=$(per_tenant later | awk '!($2 == 6 && $3 == 8)')
[ "$owners" -eq 3 ] && [ -z "$wrong" ] \
    && ok "unlisted tenants on all three primaries are decided by the new key * (3 per key)" \
    || notok "the new tenant * decides on every primary" "$owners primaries; $(echo "$wrong" | head -3)"
"$RLC" rollback -q > /dev/null 2>&1; check "rollback of the tenant * change succeeds" [ $? -eq 0 ]
TR=$(same_template)
check "rollback restores the old tenant * on every primary" [ "$TR" = "$TB" ]
decide_all after 6
owners=$(awk '{ print $3 }' "$T/after.req" | sort -u | wc -l)
wrong=$(per_tenant after | awk '!($2 == 10 && $3 == 4)')
[ "$owners" -eq 3 ] && [ -z "$wrong" ] \
    && ok "after the rollback unlisted tenants on all three primaries get 5 per key again" \
    || notok "the restored tenant * decides on every primary" "$owners primaries; $(echo "$wrong" | head -3)"
"$RLC" diff "$T/B.json" > /dev/null; check "after the rollback the cluster holds plan B" [ $? -eq 0 ]
"$RLC" audit verify > /dev/null; check "audit verifies after the tenant * deploys" [ $? -eq 0 ]
stop_redis_cluster
