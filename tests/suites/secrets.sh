#!/bin/sh
# secrets.sh - one resolver for every secret (SPEC.md 2.8, 7.1; runtime/
# secret.c): each source kind (a literal, env(), file(), and env:/file: on
# the command line) reaches a real redis-server with a password and a real
# etcd with authentication enabled; an unset or empty variable, an
# unreadable or empty file and a value too long for its field are RLC3157
# naming the variable or file and what it was for (exit 5, before any
# connection); a policy with no password setting needs no variable; and no
# secret appears in any output, the state directory or the audit log.
. "$ROOT/tests/lib.sh"
plan 29
cd "$T" || exit 2
[ -n "${KEEP:-}" ] && trap - EXIT

PW='s3cr3t-Redis-pw'
PW2='an0ther-Secret-pw'
EPW='etcd-R00t-secret'
PORT=$(free_port)
start_redis "$PORT" --requirepass "$PW" || bail_out "redis starts" ""
redis-cli -p "$PORT" -a "$PW" --no-auth-warning ACL SETUSER deployer on ">$PW2" '~*' '&*' '+@all' \
    > /dev/null
OPEN=$(free_port)
start_redis "$OPEN" || bail_out "a second redis starts" ""
export RLC_STATE_DIR="$T/state"
unset RLC_PW RLC_USER RLC_URL RLC_VERIFY_KEY RLC_ONLY

# policy NAME TARGET-BODY: a one-tenant policy with that redis target.
policy() {
    printf 'policy "s" {\n  namespace = "sec"\n  max_clock_skew = 500ms\n}\n' > "$1.rlp"
    printf 'tenant "acme" { limit 10/1s }\ntarget redis "primary" {\n%s\n}\n' "$2" >> "$1.rlp"
    "$RLC" compile -q "$1.rlp" -o "$1.json" || notok "compile $1" "failed"
}
policy envpw "  url = \"redis://127.0.0.1:$PORT\"
  password = env(\"RLC_PW\")"
policy filepw "  url = \"redis://127.0.0.1:$PORT\"
  password = file(\"$T/pw.txt\")"
policy user "  url = \"redis://127.0.0.1:$PORT\"
  username = env(\"RLC_USER\")
  password = file(\"$T/pw2.txt\")"
policy envurl '  url = env("RLC_URL")'
policy fileurl "  url = file(\"$T/url.txt\")"
policy nopw "  url = \"redis://127.0.0.1:$OPEN\""
printf '%s\n' "$PW" > pw.txt
printf '%s\r\n' "$PW2" > pw2.txt
printf 'redis://:%s@127.0.0.1:%s\n' "$PW" "$PORT" > url.txt

k=0
# run_ok NAME PLAN [options]: rlc run applies PLAN (exit 0).
run_ok() {
    name=$1 plan=$2
    shift 2
    k=$((k + 1))
    export RLC_STATE_DIR="$T/state.$k"
    "$RLC" run "$@" "$plan" > "out.$k" 2> "err.$k"
    r=$?
    if [ $r -eq 0 ]; then ok "$name"; else notok "$name" "exit $r: $(head -c 300 "err.$k")"; fi
}
# refused NAME PLAN PATTERN [options]: rlc run exits 5 with RLC3157 and a
# message matching PATTERN, and writes nothing to the store.
refused() {
    name=$1 plan=$2 pat=$3
    shift 3
    k=$((k + 1))
    export RLC_STATE_DIR="$T/state.$k"
    redis-cli -p "$PORT" -a "$PW" --no-auth-warning FLUSHALL > /dev/null
    "$RLC" run "$@" "$plan" > "out.$k" 2> "err.$k"
    r=$?
    if [ $r -ne 5 ]; then notok "$name" "exit $r, expected 5: $(head -c 300 "err.$k")"
    elif ! grep -q 'error\[RLC3157\]' "err.$k"; then notok "$name" "no RLC3157: $(head -c 300 "err.$k")"
    elif ! grep -qE -- "$pat" "err.$k"; then
        notok "$name" "message does not match /$pat/: $(head -c 300 "err.$k")"
    elif [ "$(redis-cli -p "$PORT" -a "$PW" --no-auth-warning DBSIZE)" != 0 ]; then
        notok "$name" "keys written"
    else ok "$name"; fi
}

# --- each source kind --------------------------------------------------------------
RLC_PW=$PW run_ok "password = env(): applied" envpw.json
run_ok "password = file() (its first line): applied" filepw.json
RLC_USER=deployer run_ok "username = env(), password = file() with CRLF: applied as that ACL user" \
    user.json
RLC_URL="redis://:$PW@127.0.0.1:$PORT" run_ok "url = env() carrying the password: applied" \
    envurl.json
run_ok "url = file() carrying the password: applied" fileurl.json
RLC_URL="redis://:$PW@127.0.0.1:$PORT" run_ok "--target NAME=env:VAR: applied" nopw.json \
    --target primary=env:RLC_URL
run_ok "--target NAME=file:PATH: applied" nopw.json --target "primary=file:$T/url.txt"
run_ok "no password setting: no variable needed, applied" nopw.json

# --- unset, empty, unreadable, too long ---------------------------------------------
refused "password variable unset: RLC3157, exit 5" envpw.json \
    'target primary: environment variable RLC_PW \(the password\) is not set'
RLC_PW= refused "password variable empty: RLC3157" envpw.json \
    'target primary: environment variable RLC_PW \(the password\) is empty'
RLC_PW=$(head -c 600 /dev/zero | tr '\0' x) refused "password longer than its field: RLC3157" \
    envpw.json 'environment variable RLC_PW \(the password\) is longer than 511 bytes'
mv pw.txt pw.keep
refused "password file missing: RLC3157 with the reason" filepw.json \
    "cannot read the password from $T/pw.txt: No such file or directory"
mkdir pw.txt
refused "password file a directory: RLC3157" filepw.json \
    "cannot read the password from $T/pw.txt: it is a directory"
rmdir pw.txt
printf '\n' > pw.txt
refused "password file empty: RLC3157" filepw.json "file $T/pw.txt \\(the password\\) is empty"
mv pw.keep pw.txt
refused "username variable unset: RLC3157" user.json \
    'environment variable RLC_USER \(the username\) is not set'
refused "url variable unset: RLC3157" envurl.json \
    'environment variable RLC_URL \(the store URL\) is not set'
RLC_URL= refused "url variable empty: RLC3157" envurl.json \
    'environment variable RLC_URL \(the store URL\) is empty'
rm url.txt
refused "url file missing: RLC3157" fileurl.json "cannot read the store URL from $T/url.txt"
printf 'redis://:%s@127.0.0.1:%s\n' "$PW" "$PORT" > url.txt
refused "--target env:VAR unset: RLC3157" nopw.json \
    'environment variable RLC_URL \(the store URL\) is not set' --target primary=env:RLC_URL
RLC_URL= refused "--target env:VAR empty: RLC3157" nopw.json \
    'environment variable RLC_URL \(the store URL\) is empty' --target primary=env:RLC_URL

# A wrong password is the server's refusal (RLC3152), and is not printed.
k=$((k + 1))
RLC_STATE_DIR="$T/state.$k" RLC_PW="$PW2-wrong" "$RLC" run envpw.json > "out.$k" 2> "err.$k"
r=$?
check "a wrong password: exit 5, RLC3152" eval "[ $r -eq 5 ] && grep -q RLC3152 err.$k"

# --- etcd with authentication ------------------------------------------------------
if command -v etcd > /dev/null && start_etcd; then
    E() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINT" "$@"; }
    E user add root --new-user-password="$EPW" > /dev/null 2>&1 &&
        E auth enable > /dev/null 2>&1 || notok "etcd auth enabled" "etcdctl failed"
    printf 'policy "e" {\n  namespace = "sece"\n}\ntenant "acme" { limit 10/1s }\n' > etcd.rlp
    printf 'target etcd "config" {\n  endpoints = [env("RLC_EP")]\n' >> etcd.rlp
    printf '  username = "root"\n  password = env("RLC_EPW")\n}\n' >> etcd.rlp
    "$RLC" compile -q etcd.rlp -o etcd.json || notok "compile etcd.rlp" "failed"
    sed -e 's#env("RLC_EPW")#file("'"$T"'/epw.txt")#' etcd.rlp > etcdf.rlp
    "$RLC" compile -q etcdf.rlp -o etcdf.json || notok "compile etcdf.rlp" "failed"
    printf '%s\n' "$EPW" > epw.txt
    RLC_EP=$ETCD_ENDPOINT RLC_EPW=$EPW \
        run_ok "etcd: endpoint and password from env(): applied" etcd.json --json
    # An endpoint carrying credentials of its own (etcd takes them for a
    # token and refuses): the outputs, checked below, show it without them.
    k=$((k + 1))
    RLC_STATE_DIR="$T/state.$k" RLC_EP="http://root:$EPW@127.0.0.1:$ETCD_PORT" RLC_EPW=$EPW \
        "$RLC" run --json etcd.json > "out.$k" 2> "err.$k"
    r=$?
    check "etcd: an endpoint with credentials in it: exit 5, RLC3152" \
        eval "[ $r -eq 5 ] && grep -q RLC3152 err.$k"
    RLC_EP=$ETCD_ENDPOINT run_ok "etcd: password from file(): applied" etcdf.json
    # etcd_refused NAME PLAN PATTERN: exit 5, RLC3157 matching PATTERN.
    etcd_refused() {
        k=$((k + 1))
        export RLC_STATE_DIR="$T/state.$k"
        "$RLC" run "$2" > "out.$k" 2> "err.$k"
        r=$?
        if [ $r -eq 5 ] && grep -q 'error\[RLC3157\]' "err.$k" && grep -qE -- "$3" "err.$k"; then
            ok "$1"
        else notok "$1" "exit $r: $(head -c 300 "err.$k")"; fi
    }
    RLC_EP=$ETCD_ENDPOINT etcd_refused "etcd: password variable unset: RLC3157" etcd.json \
        'target config: environment variable RLC_EPW \(the etcd password\) is not set'
    RLC_EP=$ETCD_ENDPOINT RLC_EPW= etcd_refused "etcd: password variable empty: RLC3157" \
        etcd.json 'environment variable RLC_EPW \(the etcd password\) is empty'
    RLC_EPW=$EPW etcd_refused "etcd: endpoint variable unset: RLC3157" etcd.json \
        'environment variable RLC_EP \(the etcd endpoint\) is not set'
    rm epw.txt
    RLC_EP=$ETCD_ENDPOINT etcd_refused "etcd: password file missing: RLC3157" etcdf.json \
        "cannot read the etcd password from $T/epw.txt: No such file or directory"
else
    notok "etcd starts" "etcd missing or no /health within 10 s"
fi

# --- no secret anywhere ----------------------------------------------------------------
# Every output above, and what each run left in its state directory (journal,
# checkpoints, audit log) and the Redis audit stream.
redis-cli -p "$PORT" -a "$PW" --no-auth-warning XRANGE sec:audit - + > audit.dump 2>&1
leaks=$(grep -l -e "$PW" -e "$PW2" -e "$EPW" out.* err.* audit.dump 2>/dev/null | tr '\n' ' ')
leaks="$leaks$(grep -rl -e "$PW" -e "$PW2" -e "$EPW" state.* | tr '\n' ' ')"
if [ -z "$leaks" ]; then ok "no secret in any output, the state directory or the audit log"
else notok "no secret in any output, the state directory or the audit log" "found in: $leaks"; fi
