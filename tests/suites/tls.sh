#!/bin/sh
# tls.sh - rediss:// stores (SPEC.md 2.8, 7.1, 7.10): redis-server's own
# tls-port with a CA, server and client certificates made here with the
# openssl CLI.  A good certificate: run, diff, status, rollback and audit
# over TLS, and a decision through the deployed library; then each way
# verification must refuse (the wrong name, an unknown CA, an expired
# certificate, no client certificate for a server that wants one), each
# RLC3201 with OpenSSL's words and nothing written; verification turned
# off works and warns (RLC3200 at check time and on every run); a server
# that never answers the handshake is a located timeout; an encrypted
# client key through key_passphrase = env(); a Redis Cluster with
# tls-cluster yes, its redirections followed over TLS; and the nginx
# snippet over TLS with a real nginx: verified, refused on the wrong name,
# and rlc refusing a snippet nginx could not verify.
. "$ROOT/tests/lib.sh"
plan 43
cd "$T" || exit 2
[ -n "${KEEP:-}" ] && trap - EXIT
chmod 755 "$T"
unset RLC_TLS_PASS

# --- certificates ---------------------------------------------------------------
# req NAME SUBJ [SAN]: a key and a signing request.
req() {
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" \
        ${3:+-addext "subjectAltName=$3"} 2>/dev/null
}
# sign NAME CA [x509 options]: NAME.crt from NAME.csr, signed by CA.
sign() {
    _n=$1 _ca=$2; shift 2
    openssl x509 -req -in "$_n.csr" -CA "$_ca.crt" -CAkey "$_ca.key" -CAcreateserial \
        -out "$_n.crt" -copy_extensions copy "$@" 2>/dev/null
}
{
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3 \
        -subj "/CN=rlc test CA" 2>/dev/null &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 3 \
        -subj "/CN=some other CA" 2>/dev/null &&
    req server "/CN=redis.test" "DNS:redis.test,IP:127.0.0.1" && sign server ca -days 2 &&
    req old "/CN=redis.test" "DNS:redis.test,IP:127.0.0.1" &&
    # Expired: signed three days ago for one day, openssl's clock moved by
    # libfaketime preloaded directly (the faketime wrapper's semaphore,
    # named by its pid, collides with one a killed run left behind).
    _ft=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
    if [ -n "$_ft" ]; then
        LD_PRELOAD=$_ft FAKETIME=-3d openssl x509 -req -in old.csr -CA ca.crt -CAkey ca.key \
            -CAcreateserial -out old.crt -copy_extensions copy -days 1 2>/dev/null
    else sign old ca -days -1; fi &&
    req client "/CN=rlc deployer" && sign client ca -days 2 &&
    openssl pkey -in client.key -aes256 -passout pass:k3y-Passphrase-x -out client-enc.key
} || bail_out "openssl makes the test certificates" ""
chmod 644 ./*.key
setup "CA, server (redis.test, 127.0.0.1), expired server, client certificates"
openssl x509 -in old.crt -noout -checkend 0 > /dev/null 2>&1 &&
    bail_out "the expired certificate has expired" "$(openssl x509 -in old.crt -noout -enddate)"

# tls_redis PORT CERT AUTH-CLIENTS: redis-server with TLS only (--port 0)
# in its own directory, waited for through its log.
tls_redis() {
    _d="$T/redis-$1"; mkdir -p "$_d"; : > "$_d/log"
    redis-server --port 0 --tls-port "$1" --bind 127.0.0.1 --dir "$_d" --save '' \
        --appendonly no --daemonize no --logfile "$_d/log" --tls-cert-file "$T/$2.crt" \
        --tls-key-file "$T/$2.key" --tls-ca-cert-file "$T/ca.crt" --tls-auth-clients "$3" &
    RLC_PIDS="$RLC_PIDS $!"
    wait_redis $! "$1" "$_d/log" && setup "redis-server, TLS only, on 127.0.0.1:$1 ($2)"
}
GOOD=$(free_port) OLD=$(free_port) HANG=$(free_port)
tls_redis "$GOOD" server yes || bail_out "redis with TLS (client certificates required)" ""
tls_redis "$OLD" old no || bail_out "redis with TLS and an expired certificate" ""
rt() { redis-cli --tls --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" \
    -p "$GOOD" "$@"; }
check "redis-cli reaches the TLS server with the client certificate" [ "$(rt PING)" = PONG ]

# policy NAME LIMIT TARGET-SETTINGS: a one-tenant policy on a redis target.
policy() {
    printf 'policy "t" {\n  namespace = "tls"\n}\ntenant "acme" { limit %s }\n' "$2" > "$1.rlp"
    printf 'target redis "primary" {\n%s\n}\n' "$3" >> "$1.rlp"
    "$RLC" compile -q "$1.rlp" -o "$1.json" 2> "$1.cerr"
}
URL="rediss://127.0.0.1:$GOOD"
GOODSET="  url = \"$URL\"
  ca_file = \"$T/ca.crt\"
  cert_file = \"$T/client.crt\"
  key_file = \"$T/client.key\""
policy A 10/1s "$GOODSET" && policy B 20/1s "$GOODSET" || bail_out "compile" "$(cat A.cerr B.cerr)"
export RLC_STATE_DIR="$T/state"

# --- a good certificate: every verb over TLS -----------------------------------
"$RLC" run -q A.json > run.out 2> run.err; r=$?
check "run over TLS (CA, server name by IP, client certificate): exit 0 ($(head -c 300 run.err))" \
    [ $r -eq 0 ]
check "... the store holds the active pointer" [ "$(rt EXISTS '{tls:acme}:active')" = 1 ]
got=$(rt FCALL rlc_decide 1 '{tls:acme}:active' '' GET / 1 '' req1 | head -1)
check "a decision through the deployed library: allowed (got $got)" [ "$got" = 1 ]
"$RLC" diff B.json > diff.out 2>&1; r=$?
check "diff over TLS: exit 10, the tenant to change ($r)" eval '[ $r -eq 10 ] && grep -q acme diff.out'
# libssl is loaded when the first TLS connection is opened: one that cannot
# be loaded is an error naming it, before anything is written.
mkdir -p "$T/nossl" && : > "$T/nossl/libssl.so.3"
before=$(rt GET '{tls:acme}:active')
LD_LIBRARY_PATH="$T/nossl" "$RLC" run -q B.json > /dev/null 2> nossl.err; r=$?
check "libssl that cannot be loaded: exit 5, RLC3202 naming it, nothing written ($r: $(head -c 300 nossl.err))" \
    eval '[ $r -eq 5 ] && grep -q "RLC3202.*TLS needs OpenSSL.s libssl, which cannot be loaded: .*libssl.so.3" nossl.err && [ "$(rt GET "{tls:acme}:active")" = "$before" ]'
"$RLC" run -q B.json > /dev/null 2> runb.err
check "a second deploy over TLS" [ $? -eq 0 ]
"$RLC" status > st.out 2>&1
check "status over TLS: exit 0, the address is rediss://" \
    eval '[ $? -eq 0 ] && grep -q "rediss://127.0.0.1:$GOOD" st.out'
v_b=$(rt GET '{tls:acme}:active')
"$RLC" rollback -q > rb.out 2>&1; r=$?
v_a=$(rt GET '{tls:acme}:active')
check "rollback over TLS: exit 0 and the active version changes back ($r)" \
    eval '[ $r -eq 0 ] && [ -n "$v_a" ] && [ "$v_a" != "$v_b" ]'
Q="ca_file=$T/ca.crt&cert_file=$T/client.crt&key_file=$T/client.key"
"$RLC" audit verify --target "$URL?$Q" --namespace tls > audit.out 2>&1
check "audit verify against the store's anchor over TLS (settings in the URL's query)" \
    grep -q "matches the store's anchor" audit.out
"$RLC" status --target "primary=$URL?$Q" A.json > /dev/null 2>&1
check "status --target with a rediss:// URL and its query" [ $? -eq 0 ]

# --- verification refuses --------------------------------------------------------
# refused NAME PLAN PATTERN [options]: rlc run exits non-zero with RLC3201
# and a message matching PATTERN that names the node, and writes nothing.
refused() {
    _name=$1 _plan=$2 _pat=$3; shift 3
    export RLC_STATE_DIR="$T/state-$_plan"
    rt FLUSHALL > /dev/null
    "$RLC" run -q "$@" "$_plan.json" > "$_plan.out" 2> "$_plan.err"; _r=$?
    if [ $_r -eq 0 ]; then notok "$_name" "exit 0"
    elif ! grep -q "error\[RLC3201\]: target primary: 127.0.0.1:[0-9]*: TLS" "$_plan.err"; then
        notok "$_name" "no located RLC3201: $(head -c 300 "$_plan.err")"
    elif ! grep -qE -- "$_pat" "$_plan.err"; then
        notok "$_name" "does not match /$_pat/: $(head -c 300 "$_plan.err")"
    elif [ "$(rt DBSIZE)" != 0 ]; then notok "$_name" "keys written"
    else ok "$_name"; fi
}
policy wrongname 10/1s "$GOODSET
  tls_server_name = \"wrong.test\""
refused "the wrong host name: hostname mismatch, naming the expected name" wrongname \
    "certificate verify failed: hostname mismatch \(the server's certificate is not for 'wrong.test'"
policy goodname 10/1s "$GOODSET
  tls_server_name = \"redis.test\""
export RLC_STATE_DIR="$T/state-name"
"$RLC" run -q goodname.json > /dev/null 2> goodname.err
check "tls_server_name = redis.test (a DNS name the certificate carries): applied" [ $? -eq 0 ]
policy unknownca 10/1s "  url = \"$URL\"
  ca_file = \"$T/other.crt\"
  cert_file = \"$T/client.crt\"
  key_file = \"$T/client.key\""
refused "an unknown CA: certificate verify failed" unknownca \
    "certificate verify failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)"
policy noca 10/1s "  url = \"$URL\"
  cert_file = \"$T/client.crt\"
  key_file = \"$T/client.key\""
refused "no ca_file: the system's trust store does not know the test CA, and says so" noca \
    "certificate verify failed: .*\(no ca_file: the system's trust store was used\)"
policy expired 10/1s "  url = \"rediss://127.0.0.1:$OLD\"
  ca_file = \"$T/ca.crt\""
refused "an expired server certificate: certificate has expired" expired \
    "certificate verify failed: certificate has expired"
policy nocert 10/1s "  url = \"$URL\"
  ca_file = \"$T/ca.crt\""
refused "no client certificate for a server that requires one: said, with what to set" nocert \
    "\(on [A-Z][A-Za-z ]*\); the server asked for a client certificate and none is set: set cert_file and key_file"

# --- verification off: works, and warns ------------------------------------------
policy off 10/1s "  url = \"rediss://127.0.0.1:$OLD\"
  tls_verify = false"
"$RLC" check off.rlp > off.check 2>&1
check "check: tls_verify = false is warning RLC3200 at the setting" \
    grep -q "off.rlp:7:[0-9]*: warning\[RLC3200\]: tls_verify = false" off.check
export RLC_STATE_DIR="$T/state-off"
"$RLC" run -q off.json > off.out 2> off.err; r=$?
check "run with tls_verify = false against the expired certificate: applied ($r)" [ $r -eq 0 ]
check "... with a warning naming the node (RLC3200)" \
    grep -q "rlc: warning\[RLC3200\]: TLS verification is off for 127.0.0.1:$OLD" off.err
"$RLC" status > /dev/null 2> off2.err
check "... and again on the next run (status)" grep -q "warning\[RLC3200\]" off2.err
export RLC_STATE_DIR="$T/state-off3"
"$RLC" status --target "primary=rediss://127.0.0.1:$OLD?tls_verify=false" A.json > /dev/null 2> off3.err
check "tls_verify=false in a --target URL: works and warns" \
    eval '[ $? -eq 0 ] && grep -q "warning\[RLC3200\]" off3.err'

# --- settings that cannot be used ----------------------------------------------
policy plain 10/1s "  url = \"redis://127.0.0.1:$GOOD\"
  ca_file = \"$T/ca.crt\""
"$RLC" check plain.rlp > plain.check 2>&1
check "a TLS setting beside a url written as redis://: RLC3202 at check time, at the setting" \
    grep -q "plain.rlp:7:3: error\[RLC3202\]: ca_file is a TLS setting but the url is redis://" plain.check
policy plainenv 10/1s "  url = env(\"RLC_PLAIN_URL\")
  ca_file = \"$T/ca.crt\""
RLC_PLAIN_URL="redis://127.0.0.1:$GOOD" "$RLC" run -q plainenv.json > /dev/null 2> plain.err
check "... and with a redis:// URL from env(): RLC3202 when it is read, use rediss://" \
    grep -q "error\[RLC3202\]: target primary: ca_file is a TLS setting but the URL is redis://" plain.err
policy badca 10/1s "  url = \"$URL\"
  ca_file = \"$T/missing.crt\""
"$RLC" run -q badca.json > /dev/null 2> badca.err
check "a CA file that cannot be read: RLC3202 naming it" \
    grep -q "error\[RLC3202\]: .*cannot load the CA file $T/missing.crt" badca.err
"$RLC" status --target "primary=$URL?key_passphrase=x" A.json > /dev/null 2> kp.err
check "a key_passphrase in a URL on the command line is refused (RLC3150)" \
    grep -q "error\[RLC3150\]: .*key_passphrase in a URL given on the command line" kp.err
"$RLC" status --target "primary=redis://127.0.0.1:$GOOD?ca_file=x" A.json > /dev/null 2> q.err
check "a query on a redis:// URL: RLC3202" grep -q "error\[RLC3202\]" q.err

# --- an encrypted client key, its passphrase a secret ---------------------------
policy litpass 10/1s "$GOODSET
  key_passphrase = \"written-here\""
check "a key_passphrase written in the policy is refused like a password (RLC3006)" \
    eval '"$RLC" compile litpass.rlp -o litpass.json 2>&1 | grep -q "error\[RLC3006\]: key_passphrase of target \"primary\""'
policy enc 10/1s "  url = \"$URL\"
  ca_file = \"$T/ca.crt\"
  cert_file = \"$T/client.crt\"
  key_file = \"$T/client-enc.key\"
  key_passphrase = env(\"RLC_TLS_PASS\")"
export RLC_STATE_DIR="$T/state-enc"
RLC_TLS_PASS=k3y-Passphrase-x "$RLC" run enc.json > enc.out 2> enc.err
check "an encrypted client key opened with key_passphrase = env(): applied" [ $? -eq 0 ]
check "... and the passphrase is nowhere: output, plan, state directory" \
    eval '! grep -rq k3y-Passphrase enc.out enc.err enc.json "$T/state-enc"'
RLC_TLS_PASS=wrong "$RLC" run -q enc.json > /dev/null 2> enc2.err
check "a wrong passphrase: RLC3202, the key named, the passphrase not printed" \
    eval 'grep -q "error\[RLC3202\]: .*cannot load the client key $T/client-enc.key" enc2.err &&
          ! grep -q wrong enc2.err'

# --- a server that never answers the handshake -----------------------------------
start_redis "$HANG" > /dev/null && HPID=${RLC_PIDS##* } && kill -STOP "$HPID"
t0=$(date +%s)
export RLC_STATE_DIR="$T/state-hang"
"$RLC" status --target "primary=rediss://127.0.0.1:$HANG?ca_file=$T/ca.crt" A.json > /dev/null 2> hang.err
t1=$(date +%s)
kill -CONT "$HPID"
"$RLC" status --target "primary=rediss://127.0.0.1:$HANG?ca_file=$T/ca.crt" A.json > /dev/null 2> plainport.err
# Redis reads a ClientHello as the start of an inline command and waits
# for its line end: the handshake times out, and the message asks.
check "rediss:// to a live Redis without TLS: a located timeout asking whether it is a TLS port" \
    grep -q "error\[RLC3153\]: target primary: 127.0.0.1:$HANG: TLS handshake timed out after 2000 ms (is this a TLS port?)" plainport.err
check "a server that never answers the handshake: RLC3153 located, within the connect timeout ($((t1 - t0)) s)" \
    eval 'grep -q "error\[RLC3153\]: target primary: 127.0.0.1:$HANG: TLS handshake timed out" hang.err &&
          [ $((t1 - t0)) -le 4 ]'

# A server that stops answering after the handshake: the command in
# flight times out (RLC3153), located, within the command timeout.
STALL=$(free_port)
tls_redis "$STALL" server no || bail_out "a TLS server to stall" ""
SPID=${RLC_PIDS##* }
policy stall 10/1s "  url = \"rediss://127.0.0.1:$STALL\"
  ca_file = \"$T/ca.crt\""
export RLC_STATE_DIR="$T/state-stall"
t0=$(date +%s)
RLC_TIMEOUT_MS=400 RLC_FAULT=lock:cmd RLC_FAULT_CMD="kill -STOP $SPID" "$RLC" run -q stall.json \
    > stall.out 2> stall.err
t1=$(date +%s)
kill -CONT "$SPID"
check "a TLS server that stops answering mid-deploy: RLC3153 naming the node, no hang ($((t1 - t0)) s)" \
    eval 'grep -q "error\[RLC3153\]: .*127.0.0.1:$STALL: [A-Za-z][A-Za-z ]*: no answer within 400 ms (timeout)" stall.err &&
          [ $((t1 - t0)) -le 10 ]'

# --- Redis Cluster over TLS --------------------------------------------------------
CL=$(claim_ports 12) || bail_out "ports for the cluster" ""
addrs=""; k=0
for p in $(echo "$CL" | cut -d' ' -f1-6); do
    k=$((k + 1)); bus=$(echo "$CL" | cut -d' ' -f$((k + 6)))
    d="$T/cl-$p"; mkdir -p "$d"
    redis-server --port 0 --tls-port "$p" --bind 127.0.0.1 --dir "$d" --save '' --appendonly no \
        --tls-cert-file "$T/server.crt" --tls-key-file "$T/server.key" \
        --tls-ca-cert-file "$T/ca.crt" --tls-auth-clients yes --tls-cluster yes \
        --tls-replication yes --cluster-enabled yes --cluster-port "$bus" \
        --cluster-config-file "$d/nodes.conf" --cluster-node-timeout 2000 \
        --repl-diskless-sync-delay 0 --daemonize no --logfile "$d/log" &
    RLC_PIDS="$RLC_PIDS $!"
    wait_redis $! "$p" "$d/log" || bail_out "TLS cluster node starts" "$(tail -2 "$d/log")"
    addrs="$addrs 127.0.0.1:$p"
done
TC="--tls --cacert $T/ca.crt --cert $T/client.crt --key $T/client.key"
# shellcheck disable=SC2086
redis-cli $TC --cluster create $addrs --cluster-replicas 1 --cluster-yes > cl.log 2>&1 ||
    bail_out "redis-cli creates the TLS cluster" "$(tail -3 cl.log)"
for p in $(echo "$CL" | cut -d' ' -f1-6); do
    i=0
    # shellcheck disable=SC2086
    while ! redis-cli $TC -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; do
        i=$((i + 1)); [ $i -gt 300 ] && bail_out "TLS cluster ok" ""; sleep 0.05
    done
done
setup "6-node Redis Cluster, TLS only (tls-cluster yes), on $addrs"
SEED=$(echo "$CL" | cut -d' ' -f1)
{
    printf 'policy "c" {\n  namespace = "tlsc"\n}\n'
    for n in $(seq 1 12); do printf 'tenant "t%s" { limit 10/1s }\n' "$n"; done
    printf 'target redis "primary" {\n  url = "rediss://127.0.0.1:%s"\n' "$SEED"
    printf '  cluster = true\n  ca_file = "%s/ca.crt"\n  cert_file = "%s/client.crt"\n' "$T" "$T"
    printf '  key_file = "%s/client.key"\n}\n' "$T"
} > cl.rlp
"$RLC" compile -q cl.rlp -o cl.json || bail_out "compile the cluster policy" ""
export RLC_STATE_DIR="$T/state-cl"
"$RLC" run cl.json > clrun.out 2> clrun.err; r=$?
np=0
for p in $(echo "$CL" | cut -d' ' -f1-3); do
    # shellcheck disable=SC2086
    c=$(redis-cli $TC -p "$p" --scan --pattern '{tlsc:*}:active' | wc -l); [ "$c" -gt 0 ] && np=$((np + 1))
done
check "deploy to the TLS cluster: exit $r, active pointers on $np of 3 primaries $(grep -m1 error clrun.err)" \
    eval '[ $r -eq 0 ] && [ $np -eq 3 ]'
"$RLC" status > clst.out 2>&1
check "status of the TLS cluster: exit 0" [ $? -eq 0 ]
# A redirection followed over TLS: a new tenant's slot is handed to another
# primary after rlc loaded the slot map (at the fault point before the
# configs are written), so its writes meet MOVED and must follow it.
sed 's/^tenant "t1" /tenant "t13" { limit 10\/1s }\ntenant "t1" /' cl.rlp > cl2.rlp
"$RLC" compile -q cl2.rlp -o cl2.json || bail_out "compile the second cluster policy" ""
# shellcheck disable=SC2086
slot=$(redis-cli $TC -p "$SEED" CLUSTER KEYSLOT '{tlsc:t13}')
# shellcheck disable=SC2086
redis-cli $TC -p "$SEED" CLUSTER NODES > nodes.txt
owner=$(awk -v s="$slot" '$3 ~ /master/ { for (i = 9; i <= NF; i++) { split($i, r, "-");
    if (s >= r[1] && s <= (r[2] == "" ? r[1] : r[2])) print $1 } }' nodes.txt)
# The new owner: a primary by its own account (ROLE), not only by the seed's
# view, which may still list a node that has just become a replica.
dest="" dport=""
for cand in $(awk -v o="$owner" '$3 ~ /master/ && $1 != o { split($2, a, "[:@]"); print $1 ":" a[2] }' nodes.txt); do
    # shellcheck disable=SC2086
    if [ "$(redis-cli $TC -p "${cand#*:}" ROLE | head -1)" = master ]; then
        dest=${cand%%:*} dport=${cand#*:}
        break
    fi
done
oport=$(awk -v d="$owner" '$1 == d { split($2, a, "[:@]"); print a[2] }' nodes.txt)
# The hand-over as redis-cli --cluster reshard does it (the slot is empty:
# nothing to MIGRATE): the new owner's SETSLOT NODE first, after IMPORTING,
# so that it bumps its config epoch and gossip cannot undo the move.
{
    echo "redis-cli $TC -p $dport CLUSTER SETSLOT $slot IMPORTING $owner"
    echo "redis-cli $TC -p $oport CLUSTER SETSLOT $slot MIGRATING $dest"
    echo "redis-cli $TC -p $dport CLUSTER SETSLOT $slot NODE $dest"
    echo "for p in $(echo "$CL" | cut -d' ' -f1-6); do"
    echo "  redis-cli $TC -p \$p CLUSTER SETSLOT $slot NODE $dest"
    echo "done"
} > move.sh
RLC_FAULT=apply.config:cmd RLC_FAULT_CMD="sh $T/move.sh > $T/move.out 2>&1" "$RLC" run cl2.json > clmv.out 2> clmv.err
r=$?
# shellcheck disable=SC2086
on_dest=$(redis-cli $TC -p "$dport" EXISTS '{tlsc:t13}:active')
if [ $r -eq 0 ] && [ "$on_dest" = 1 ] && [ -n "$owner" ] && [ "$owner" != "$dest" ]; then
    ok "a slot moved mid-deploy: MOVED followed to 127.0.0.1:$dport over TLS"
else
    notok "a slot moved mid-deploy: MOVED followed to 127.0.0.1:$dport over TLS" \
        "exit $r, pointer there: $on_dest; $(tail -3 clmv.err | tr '\n' ' '); move: $(tr '\n' ' ' < move.out)"
fi

# --- the nginx snippet over TLS ---------------------------------------------------
if ! command -v nginx > /dev/null || [ ! -f /usr/lib/nginx/modules/ngx_http_lua_module.so ]; then
    for c in 1 2 3 4 5; do skip "nginx snippet over TLS ($c)" "no nginx with the Lua module"; done
    exit 0
fi
export RLC_STATE_DIR="$T/state-ng"
rt FLUSHALL > /dev/null
R="$T/ng"; mkdir -p "$R"; chmod 755 "$R"
# ngpolicy NAME TLS-EXTRA: the policy, its redis target over TLS, one snippet.
ngpolicy() {
    {
        printf 'policy "g" {\n  namespace = "tlsg"\n}\ntenant "acme" { limit 3/1m burst 3 }\n'
        printf 'target redis "primary" {\n%s\n%s\n}\n' "$GOODSET" "$2"
        printf 'target nginx "gw" {\n  output = "%s/gw.lua"\n  redis = "primary"\n' "$R"
        printf '  tenant_from = "acme"\n}\n'
    } > "$1.rlp"
    "$RLC" compile -q "$1.rlp" -o "$1.json"
}
ngpolicy ng '  tls_server_name = "redis.test"' || bail_out "compile the nginx policy" ""
NPORT=$(free_port) ND="$T/nginx"
mkdir -p "$ND/body"
# nginxconf TRUST: nginx.conf, with lua_ssl_trusted_certificate when TRUST.
nginxconf() {
    nginx_conf_head "$ND" 1 info
    echo '    lua_package_path "/usr/share/lua/5.1/?.lua;;";'
    [ "$1" = yes ] && printf '    lua_ssl_trusted_certificate %s/ca.crt;\n    lua_ssl_verify_depth 2;\n' "$T"
    cat <<C
    server {
        listen 127.0.0.1:$NPORT;
        location / {
            access_by_lua_file $R/gw.lua;
            log_by_lua_file $R/gw.lua;
            content_by_lua_block { ngx.say("ok") }
        }
    }
}
C
}
nginxconf no > "$ND/nginx.conf"
export RLC_NGINX="nginx -p $ND -c $ND/nginx.conf"
"$RLC" run -q ng.json > ng0.out 2> ng0.err
check "nginx without lua_ssl_trusted_certificate: the deploy is refused (RLC3202), saying what to set" \
    grep -q "error\[RLC3202\]: target gw: .*no lua_ssl_trusted_certificate.*set it to $T/ca.crt" ng0.err
nginxconf yes > "$ND/nginx.conf"
nginx -p "$ND" -c "$ND/nginx.conf" > "$ND/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$NPORT/"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "nginx starts" "$(cat "$ND/stderr")"; sleep 0.05
done
setup "nginx with the Lua module on 127.0.0.1:$NPORT"
"$RLC" run -q ng.json > ng.out 2> ng.err || bail_out "rlc run deploys the TLS snippet" "$(cat ng.err)"
codes() { for _ in $(seq "$1"); do curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$NPORT/x"; done; }
got=$(codes 4)
check "through nginx over verified TLS with a client certificate: 3 pass then 429 (got $got)" \
    [ "$got" = "200 200 200 429 " ]
ngpolicy ngip '' || bail_out "compile" ""
"$RLC" run -q ngip.json > /dev/null 2> ngip.err
check "a snippet verifying a server named by IP address only is refused (RLC3202)" \
    grep -q "error\[RLC3202\]: target gw (the redis target its snippet calls): .*tls_server_name" ngip.err
sed -i 's/"redis.test"/"wrong.test"/' "$R/gw.lua" &&
    nginx -p "$ND" -c "$ND/nginx.conf" -s reload
i=0
while got=$(codes 1) && ! grep -q "certificate host mismatch" "$ND/error.log" && [ $i -lt 40 ]; do
    i=$((i + 1)); sleep 0.05
done
check "a snippet expecting another name: the handshake fails, a store error (fail_open: $got)" \
    eval '[ "$got" = "200 " ] && grep -q "TLS handshake with 127.0.0.1:$GOOD: certificate host mismatch" "$ND/error.log"'
ngpolicy ngoff '  tls_verify = false' || bail_out "compile" ""
"$RLC" run -q ngoff.json > /dev/null 2> ngoff.err
# The reload's new workers take over within a moment; until then the old
# ones fail open (200), and only a decision by the store can be 429.
i=0
while got=$(codes 1) && [ "$got" != "429 " ] && [ $i -lt 40 ]; do i=$((i + 1)); sleep 0.05; done
check "a snippet with tls_verify = false: decided by the store (its exhausted limit: $got)" \
    eval '[ "$got" = "429 " ]'
# The worker that decided logged the warning before its handshake; give
# the log a moment all the same (a worker of the new generation may have
# answered before another one's line reached the file).
i=0
while ! grep -q "rlc: TLS verification of the Redis store 127.0.0.1:$GOOD is off" "$ND/error.log" &&
    [ $i -lt 60 ]; do
    codes 1 > /dev/null; i=$((i + 1)); sleep 0.05
done
check "... nginx's log warns, and so did rlc run" \
    eval 'grep -q "rlc: TLS verification of the Redis store 127.0.0.1:$GOOD is off" "$ND/error.log" &&
          grep -q "warning\[RLC3200\]" ngoff.err'
