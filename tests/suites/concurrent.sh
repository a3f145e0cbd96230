#!/bin/sh
# concurrent.sh - a live deploy is never taken over (SPEC 7.2, 7.7): rounds
# of two `rlc run`s on one state directory and a third on another, all at
# once against one real redis-server, while `rlc status` loops on the first
# directory.  Every run that exits 0 said "committed", and the store holds
# the plan of the last one to commit (plan key, manifest, every pointer and
# state entry); every other run was refused with the lock code (exit 4,
# RLC3160).  status never recovers and never writes.  Then: a deploy killed
# mid-apply is reported by status as interrupted and left alone, and
# recovered by the next run; a journal from another host is left alone
# while its lock is alive; a commit that does not read back is rolled back
# (RLC3167).  (owner: runtime)
. "$ROOT/tests/lib.sh"
plan 20

# Three plans that differ in acme's bucket, so each leaves its own versions.
for n in 1 2 3; do
    sed "s/limit 9000\/1m burst 1500/limit 900$n\/1m burst 1500/" "$ROOT/examples/saas.rlp" \
        > "$T/p$n.rlp"
    "$RLC" compile "$T/p$n.rlp" -o "$T/p$n.json" -q || bail_out "compile plan $n" "failed"
done
NS=saas
export RLC_ONLY=primary
PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
unset RLC_STATE_DIR
rc() { redis-cli -p "$PORT" "$@"; }

# holds PLAN: the store holds exactly PLAN: its digest as the active plan,
# the manifest of a committed deploy, every tenant's pointer and state entry
# at the plan's version and no other tenant, no lock, no marker.  Prints
# what differs.
holds() {
    python3 - "$PORT" "$NS" "$1" <<'PY'
import json, subprocess, sys
port, ns, plan = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
def r(*a):
    return subprocess.run(["redis-cli", "-p", port, "--raw"] + list(a), capture_output=True,
                          text=True).stdout.rstrip("\n")
bad = []
if r("GET", ns + ":deploy:plan") != plan["plan_digest"]:
    bad.append("plan key %.12s, not %.12s" % (r("GET", ns + ":deploy:plan"), plan["plan_digest"]))
if not r("GET", ns + ":deploy:manifest"):
    bad.append("no manifest")
for k in ("lock", "marker"):
    if r("EXISTS", ns + ":deploy:" + k) != "0":
        bad.append(k + " left")
state = r("HGETALL", ns + ":deploy:state").split("\n")
state = dict(zip(state[0::2], state[1::2])) if state != [""] else {}
want = {t["name"]: t for t in plan["tenants"]}
if set(state) != set(want):
    bad.append("state tenants differ: %s" % sorted(set(state) ^ set(want)))
for name, t in want.items():
    act = r("GET", t["tag"] + ":active")
    if act != state.get(name):
        bad.append("%s: pointer %s, state %s" % (name, act, state.get(name)))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}

# last_commit: "RUN PLAN_DIGEST" of the newest committing record of the
# store's audit stream (records of both state directories; a run appends
# its record while it still holds the store's lock, so this is the order
# of the commits).  recovers: how many records are recoveries.
last_commit() {
    rc --raw xrevrange "$NS:audit" + - | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        if r["action"] == "run" and r["result"] == "committed":
            print(r["run"], r["plan_digest"]); break'
}
committed_runs() {
    rc --raw xrange "$NS:audit" - + | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        print(r["action"], r["result"], r["run"])' 2> /dev/null
}
digest_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan_digest"])' "$1"; }
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$1" "$2"; }

# --- rounds of concurrent runs under a status loop ---------------------------
status_loop() {
    while [ ! -e "$T/stop" ]; do
        "$RLC" status --state-dir "$T/s1" >> "$T/status.out" 2>&1
        echo "exit $?" >> "$T/status.out"
    done
}
# A first deploy, so that status always has a record to read.
"$RLC" run -q --state-dir "$T/s1" "$T/p1.json" || bail_out "a first deploy" "failed"
ROUNDS=8
bad=""
nzero=0; nfour=0
: > "$T/status.out"
r=1
while [ $r -le $ROUNDS ]; do
    rm -f "$T/stop"
    status_loop &
    sl=$!
    # Odd rounds slow the first run's apply down (a hook that sleeps
    # between configs and pointers), so status and the other runs surely
    # meet it mid-deploy; even rounds run at full speed.
    slow=""
    [ $((r % 2)) -eq 1 ] && slow="apply.flip:cmd"
    i=0
    for who in a b c; do
        i=$((i + 1))
        plan="$T/p$(( (r + i) % 3 + 1 )).json"
        dir="$T/s1"; [ $who = c ] && dir="$T/s2"
        echo "$plan" > "$T/$who.plan"
        if [ $who = a ] && [ -n "$slow" ]; then
            ( RLC_FAULT=$slow RLC_FAULT_CMD="sleep 0.4" "$RLC" run --json --state-dir "$dir" "$plan" \
                > "$T/$who.json" 2> "$T/$who.err"; echo $? > "$T/$who.rc" ) &
        else
            ( "$RLC" run --json --state-dir "$dir" "$plan" > "$T/$who.json" 2> "$T/$who.err"
              echo $? > "$T/$who.rc" ) &
        fi
        eval "w_$who=\$!"
        [ $who = a ] && sleep 0.05   # a first, so that b meets it
    done
    wait $w_a $w_b $w_c
    touch "$T/stop"
    wait $sl
    winners=""
    for who in a b c; do
        code=$(cat "$T/$who.rc")
        case $code in
        0)
            nzero=$((nzero + 1))
            run=$(field "$T/$who.json" run)
            winners="$winners $run=$(cat "$T/$who.plan")"
            [ "$(field "$T/$who.json" result)" = committed ] \
                || bad="$bad round $r $who: exit 0 but result '$(field "$T/$who.json" result)';"
            committed_runs | grep -q "^run committed $run\$" \
                || bad="$bad round $r $who: exit 0 without a committed audit record;"
            ;;
        4)
            nfour=$((nfour + 1))
            grep -q 'RLC3160' "$T/$who.err" || bad="$bad round $r $who: exit 4 without RLC3160;"
            ;;
        *)
            bad="$bad round $r $who: exit $code ($(grep -o 'RLC[0-9]*.*' "$T/$who.err" | head -1));"
            ;;
        esac
    done
    set -- $(last_commit)
    lrun=$1; ldigest=$2
    lplan=""
    for w in $winners; do [ "${w%%=*}" = "$lrun" ] && lplan=${w#*=}; done
    if [ -z "$lplan" ]; then
        bad="$bad round $r: the last commit ($lrun) is not a run that exited 0 this round;"
    elif [ "$(digest_of "$lplan")" != "$ldigest" ]; then
        bad="$bad round $r: the last commit's plan is not the one its run deployed;"
    elif ! holds "$lplan" > "$T/holds"; then
        bad="$bad round $r: the store does not hold the last committed plan: $(cat "$T/holds");"
    fi
    for d in s1 s2; do
        [ -e "$T/$d/journal.jsonl" ] && bad="$bad round $r: $d/journal.jsonl left;"
    done
    r=$((r + 1))
done
echo "# $ROUNDS rounds: $nzero runs committed, $nfour refused by a lock"
check "concurrent runs: every exit matches the store${bad:+:$bad}" [ -z "$bad" ]
check "concurrent runs: some runs were refused (they did meet)" [ $nfour -gt 0 ]
committed_runs > "$T/records"
check "concurrent runs: no recovery ever ran (nothing was interrupted)" \
    sh -c "! grep -q '^recover ' '$T/records'"
check "status met a deploy in progress and said so" \
    grep -q '^deploy in progress by pid [0-9]* on .*, rlc run since .*, phase ' "$T/status.out"
if grep -q '^exit [^06]' "$T/status.out"; then
    notok "status never failed" "$(grep -B3 '^exit [^06]' "$T/status.out" | head -8 | tr '\n' '|')"
else ok "status never failed"; fi
"$RLC" audit verify --state-dir "$T/s1" > /dev/null && "$RLC" audit verify --state-dir "$T/s2" > /dev/null
check "audit logs of both state directories verify" [ $? -eq 0 ]

# --- status writes nothing ---------------------------------------------------
"$RLC" status --state-dir "$T/none" > /dev/null 2>&1
check "status does not create a state directory" [ ! -e "$T/none" ]

# --- a deploy killed mid-apply: interrupted, left alone by status -------------
cur=$(ls "$T"/p*.json | while read -r p; do [ "$(digest_of "$p")" = "$(rc get $NS:deploy:plan)" ] && echo "$p"; done)
next="$T/p1.json"; [ "$cur" = "$next" ] && next="$T/p2.json"
RLC_FAULT=apply.flip "$RLC" run -q --state-dir "$T/s1" "$next" 2> /dev/null
check "a run killed mid-apply leaves its journal" [ -e "$T/s1/journal.jsonl" ]
snap() { rc --scan --pattern "*" | sort | while read -r k; do echo "$k $(rc dump "$k" | od -An -c | tr -d ' \n')"; done; }
snap > "$T/before"
( cd "$T/s1" && ls -lR --time-style=+%s.%N . ) > "$T/dir-before"
"$RLC" status --state-dir "$T/s1" > "$T/st" 2>&1; r=$?
snap > "$T/after"
( cd "$T/s1" && ls -lR --time-style=+%s.%N . ) > "$T/dir-after"
sed 's/^/# /' "$T/st"
check "status reports the interrupted deploy and how to recover it" \
    grep -q "^interrupted deploy .* (last phase apply, pid [0-9]* on .*): not recovered; 'rlc run PLAN' or 'rlc rollback' recovers it" "$T/st"
check "status left the store as it was (no recovery)" cmp -s "$T/before" "$T/after"
check "status left the state directory as it was" cmp -s "$T/dir-before" "$T/dir-after"
"$RLC" status --json --state-dir "$T/s1" > "$T/st.json" 2>/dev/null
check "status --json: interrupted, phase apply" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["interrupted"]["phase"] == "apply" and "in_progress" not in d else 1)' "$T/st.json"
"$RLC" run -q --json --state-dir "$T/s1" "$next" > "$T/rec.json" 2>/dev/null; r=$?
check "the next run recovers it (its writer is gone) and commits" \
    eval '[ $r -eq 0 ] && [ "$(field "$T/rec.json" result)" = committed ] && grep -q "\"recovered\":{[^}]*\"result\":\"rolled_back\"" "$T/rec.json"'
check "and the store holds its plan" holds "$next"

# --- a journal written on another host ---------------------------------------
# Its writer's state-directory lock may not reach this host: recovery waits
# until the store's lock no longer carries its token.
cur=$next; next="$T/p3.json"
RLC_FAULT=apply.flip "$RLC" run -q --state-dir "$T/s1" "$next" 2> /dev/null
python3 - "$T/s1/journal.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
lines[0]["host"] = "some-other-host"
for l in lines: l["t"] = 1   # long ago: only the store's lock can say it is alive
open(sys.argv[1], "w").write("".join(json.dumps(l, separators=(",", ":"), sort_keys=True) + "\n" for l in lines))
PY
snap > "$T/before"
"$RLC" run -q --state-dir "$T/s1" "$next" 2> "$T/err"; r=$?
snap > "$T/after"
sed 's/^/# /' "$T/err"
check "a journal from another host whose lock is alive: exit 4, RLC3160, its token named" \
    eval '[ $r -eq 4 ] && grep -q "RLC3160.*on some-other-host) is still running: target primary.s lock $NS:deploy:lock carries its token" "$T/err"'
check "and nothing was touched" eval 'cmp -s "$T/before" "$T/after" && [ -e "$T/s1/journal.jsonl" ]'
rc del "$NS:deploy:lock" > /dev/null   # as if it had expired
"$RLC" run -q --state-dir "$T/s1" "$next"; r=$?
check "once its lock is gone it is recovered and the run commits" eval '[ $r -eq 0 ] && holds "$next" > /dev/null'

# --- a commit that does not read back ----------------------------------------
cur=$next; next="$T/p1.json"
snap > "$T/before"
RLC_FAULT=commit.confirm:cmd RLC_FAULT_CMD="redis-cli -p $PORT set $NS:deploy:plan someone-else > /dev/null" \
    "$RLC" run --state-dir "$T/s1" "$next" 2> "$T/err"; r=$?
sed 's/^/# /' "$T/err" | tail -3
check "a store that does not read back as committed: exit 1, RLC3167, rolled back" \
    eval '[ $r -eq 1 ] && grep -q "RLC3167 target primary: after the commit $NS:deploy:plan reads someone-else" "$T/err" && grep -q "rolled back to checkpoint" "$T/err"'
check "it never said committed" sh -c "! grep -q 'committed' '$T/err'"
check "the store holds the plan from before" holds "$cur"
