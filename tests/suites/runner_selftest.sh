#!/bin/sh
# runner_selftest.sh - the test runner counts what it runs (tests/run.sh):
# small fake suites, run by a copy of the real run.sh and lib.sh in a tree
# of their own, must fail the run when they lose a case (planned 3, ran 2),
# run an extra one, have no plan or a late one, bail out at setup (the rest
# of the plan counted as failed), or exit non-zero; skips are counted as
# skipped and setup lines not at all; jobs run at once and are reported in
# a fixed order; a job that runs too long is stopped; a stopped runner
# stops its jobs and their servers.  Then the ports lib.sh claims: never
# the same one twice while its suite lives, released when it ends.
. "$ROOT/tests/lib.sh"
plan 33

F="$T/fake"
mkdir -p "$F/tests/suites" "$F/build"
cp "$ROOT/tests/run.sh" "$ROOT/tests/lib.sh" "$F/tests/"
# suite NAME BODY: a fake suite whose body follows the usual header.
suite() { printf '#!/bin/sh\n. "$ROOT/tests/lib.sh"\n%s\n' "$2" > "$F/tests/suites/$1.sh"; }
# runner [ENV=VALUE...] -- SUITE...: the copied runner on fake suites;
# stdout in $T/out, stderr in $T/err, exit status in $r.
runner() {
    _env=""
    while [ "$1" != -- ]; do _env="$_env $1"; shift; done
    shift
    # shellcheck disable=SC2086
    env TMPDIR="$T" BUILD=build $_env sh "$F/tests/run.sh" "$@" > "$T/out" 2> "$T/err" < /dev/null
    r=$?
}
last() { tail -n 1 "$T/out"; }

suite three 'plan 3
ok "one"; ok "two"; ok "three"'
suite short 'plan 3
ok "one"; ok "two"'
suite long 'plan 2
ok "one"; ok "two"; ok "three"'
suite noplan 'ok "one"'
suite lateplan 'ok "one"
plan 1'
suite bails 'plan 5
setup "what the cases need"
false || bail_out "a server starts" "it did not"
ok "never reached"'
suite skips 'plan 2
setup "a server started"
ok "runs"
skip "cannot run" "needs what this machine lacks"'
suite exits 'plan 1
ok "one"
exit 3'
suite failing 'plan 2
ok "one"
notok "two" "wrong answer"'

# --- counting ------------------------------------------------------------------
runner -- three
check "a suite that runs its plan passes: exit 0, '3 passed, 0 failed'" \
    eval '[ $r -eq 0 ] && [ "$(last)" = "3 passed, 0 failed" ]'
runner -- short
check "a suite that plans 3 and runs 2 fails the run (exit 1)" [ $r -eq 1 ]
check "and says so: 'not ok - short: planned 3, ran 2'" grep -qx 'not ok - short: planned 3, ran 2' "$T/out"
check "the case it lost counts as failed: '2 passed, 1 failed'" [ "$(last)" = "2 passed, 1 failed" ]
check "the failed list names it" grep -qx '  short: planned 3, ran 2' "$T/out"
runner -- long
check "a suite that runs more cases than it planned fails" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - long: planned 2, ran 3" "$T/out" && [ "$(last)" = "3 passed, 1 failed" ]'
runner -- noplan
check "a suite without a plan fails" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - noplan: no plan (1..N) before its first case; ran 1" "$T/out"'
runner -- lateplan
check "a plan after the first case fails" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - lateplan: a plan (1..N) after its first case, or two" "$T/out"'
runner -- bails
check "a failed setup fails the run" [ $r -eq 1 ]
check "its one failed case is reported" grep -qx 'not ok - a server starts: it did not' "$T/out"
check "the rest of its plan counts as failed: '0 passed, 5 failed'" \
    eval 'grep -qx "not ok - bails: planned 5, ran 1" "$T/out" && [ "$(last)" = "0 passed, 5 failed" ]'
runner -- skips
check "a skip is not a failure (exit 0)" [ $r -eq 0 ]
check "a skip is not a pass, a setup line not a case: '1 passed, 0 failed'" [ "$(last)" = "1 passed, 0 failed" ]
check "skips are counted on the line before: '1 skipped'" [ "$(tail -n 2 "$T/out" | head -n 1)" = "1 skipped" ]
check "and listed with their reason" grep -qx '  skips: cannot run # SKIP needs what this machine lacks' "$T/out"
runner -- three
check "no skip: '0 skipped' before the last line" [ "$(tail -n 2 "$T/out" | head -n 1)" = "0 skipped" ]
runner -- exits
check "a suite that exits non-zero fails the run" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - exits: exited 3" "$T/out" && [ "$(last)" = "1 passed, 1 failed" ]'
runner -- failing
check "a failed case fails the run and is printed" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - two: wrong answer" "$T/out" && [ "$(last)" = "1 passed, 1 failed" ]'
runner -- three short skips bails
check "several suites add up: '6 passed, 6 failed'" \
    eval '[ $r -eq 1 ] && [ "$(last)" = "6 passed, 6 failed" ]'
runner -- nosuch
check "an unknown suite name is a usage error (exit 2)" \
    eval '[ $r -eq 2 ] && grep -q "no suite tests/suites/nosuch.sh" "$T/err"'

suite writes 'plan 1
touch "$ROOT/$BUILD/left-by-a-suite"
ok "wrote into the build"'
runner -- writes
check "a suite that writes into the build dir fails the run" \
    eval '[ $r -eq 1 ] && grep -q "^not ok - run: the suites wrote into build: .*$F/build/left-by-a-suite " "$T/out"'
rm -f "$F/build/left-by-a-suite"

# --- running at once, reporting in order ------------------------------------------
# Each of two suites waits for the other's file: they pass only when both
# run at the same time.
suite meet_a 'plan 1
touch "$TMPDIR/a-here"; i=0
while [ ! -e "$TMPDIR/b-here" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
check "a met b" [ -e "$TMPDIR/b-here" ]'
suite meet_b 'plan 1
touch "$TMPDIR/b-here"; i=0
while [ ! -e "$TMPDIR/a-here" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
check "b met a" [ -e "$TMPDIR/a-here" ]'
runner TEST_JOBS=2 VERBOSE=1 -- meet_a meet_b
check "TEST_JOBS=2 runs two suites at the same time" \
    eval '[ $r -eq 0 ] && [ "$(last)" = "2 passed, 0 failed" ]'
check "outputs are reported in the order named, not the order finished" \
    eval '[ "$(grep "^ok - " "$T/out" | tr "\n" "|")" = "ok - a met b|ok - b met a|" ]'
check "each job's time is reported on stderr" \
    eval 'grep -q "^# suite: meet_a ([0-9]* s, [0-9]* s CPU)$" "$T/err" && grep -q "^# suite: meet_b ([0-9]* s, [0-9]* s CPU)$" "$T/err"'
rm -f "$T/a-here" "$T/b-here"

# --- a job that runs too long ---------------------------------------------------
suite hangs 'plan 1
sleep 60
ok "woke up"'
t0=$(date +%s)
runner TEST_TIMEOUT=2 -- hangs
t1=$(date +%s)
check "a suite past TEST_TIMEOUT is stopped and fails ($((t1 - t0)) s)" \
    eval '[ $r -eq 1 ] && grep -qx "not ok - hangs: timed out after 2 s" "$T/out" && [ $((t1 - t0)) -lt 30 ]'

# --- a stopped runner stops its jobs and their servers ------------------------------
suite serves 'plan 1
sleep 300 &
RLC_PIDS="$RLC_PIDS $!"
echo $! > "$TMPDIR/server.pid"
sleep 300
ok "never"'
env TMPDIR="$T" BUILD=build sh "$F/tests/run.sh" serves > "$T/out" 2> "$T/err" < /dev/null &
rpid=$!
i=0; while [ ! -s "$T/server.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
spid=$(cat "$T/server.pid" 2>/dev/null)
kill -TERM "$rpid"
wait "$rpid"; r=$?
i=0; while [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "a runner stopped by SIGTERM exits 143" [ $r -eq 143 ]
check "and the suite's server is gone" eval '[ -n "$spid" ] && ! kill -0 "$spid" 2>/dev/null'
[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null

# --- python3 through a shim -------------------------------------------------------
# A shim on PATH (as a version manager puts there) that counts its calls:
# the runner resolves python3 through it once, the suites never call it.
mkdir -p "$T/shim"
py=$(command -v python3)
printf '#!/bin/sh\necho x >> "%s/shim.calls"\nexec "%s" "$@"\n' "$T" "$py" > "$T/shim/python3"
chmod +x "$T/shim/python3"
suite pythons 'plan 1
for i in 1 2 3 4 5; do python3 -c pass; done
ok "ran python3 five times"'
runner PATH="$T/shim:$PATH" -- pythons
check "python3 is resolved once per run, not per call (shim called $(wc -l < "$T/shim.calls") times)" \
    eval '[ $r -eq 0 ] && [ "$(wc -l < "$T/shim.calls")" -eq 1 ]'

# --- ports ------------------------------------------------------------------------
# Four suites claiming 25 ports each at once get 100 different ones, each
# claimed by its suite's PID while it lives and released when it ends.
claimer='plan 1
p=$(claim_ports 25)
echo "$p" > "$TMPDIR/ports.$$"
for x in $p; do [ "$(cat "$RLC_PORT_DIR/$x")" = $$ ] || notok "claimed" "$x is not ours"; done
ok "claimed"'
for n in 1 2 3 4; do suite "claim$n" "$claimer"; done
runner RLC_PORT_DIR="$T/ports" TEST_JOBS=4 -- claim1 claim2 claim3 claim4
all=$(cat "$T"/ports.* | tr ' ' '\n' | grep -c .)
distinct=$(cat "$T"/ports.* | tr ' ' '\n' | grep . | sort -u | wc -l)
check "four suites claiming 25 ports at once got $distinct different ones of $all" \
    eval '[ $r -eq 0 ] && [ "$all" -eq 100 ] && [ "$distinct" -eq 100 ]'
check "every claim was released when its suite ended" \
    eval '[ -z "$(ls "$T/ports")" ]'
check "claimed ports are below the ephemeral range and run-demo.sh's" \
    eval '[ "$(cat "$T"/ports.* | tr " " "\n" | grep . | sort -n | tail -1)" -lt 20000 ]'
# A port claimed by a live suite is not claimed again; a dead suite's is.
mkdir -p "$T/ports2"
p=$(RLC_PORT_DIR="$T/ports2" claim_ports 1)
mine=$(RLC_PORT_DIR="$T/ports2"; for _ in 1 2 3 4 5; do claim_ports 1; done)
check "a port claimed by a live suite is never handed out again" \
    eval 'case " $(echo $mine) " in *" $p "*) false ;; *) true ;; esac'
echo 999999999 > "$T/ports2/$p"   # as if its suite had died
python3 - "$T/ports2" "$p" <<'PY'
import os, sys
# Only that port is left unclaimed in the range, so it must be the one taken.
d, keep = sys.argv[1], int(sys.argv[2])
for q in range(10000, 20000):
    if q != keep and not os.path.exists(os.path.join(d, str(q))):
        open(os.path.join(d, str(q)), "w").write("1")   # init: alive
PY
q=$(RLC_PORT_DIR="$T/ports2" claim_ports 1)
check "a claim whose suite died is taken over" [ "$q" = "$p" ]
