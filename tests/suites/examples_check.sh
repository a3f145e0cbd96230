#!/bin/sh
# examples_check.sh - every policy in examples/ is a clean, canonical,
# realistic policy: `rlc check` reports nothing (each file is its own
# policy), `rlc fmt --check` finds it canonical, and the SaaS example keeps
# the 20+ tenants the README promises.  Then the README's main job,
# ./run-demo.sh, for real: it passes with every step and summary line, its
# two bursts (a listed key; an unlisted key of an unlisted tenant, decided
# by tenant * from the function library) agree with the simulator, and it
# leaves no redis-server and no temp
# dir behind, also when a step fails, when the simulator disagrees, on
# Ctrl-C and when its output is piped into head; without redis-server it
# says to run make deps.
. "$ROOT/tests/lib.sh"
# Two cases per example, 35 others.
plan $((2 * $(ls "$ROOT"/examples/*.rlp | wc -l) + 35))

n=0
for f in "$ROOT"/examples/*.rlp; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    name=$(basename "$f")
    if "$RLC" check "$f" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then
        ok "examples: $name checks clean"
    else
        notok "examples: $name checks clean" "$(head -5 "$T/out" | tr '\n' ' ')"
    fi
    if "$RLC" fmt --check "$f" >"$T/out" 2>&1; then
        ok "examples: $name is fmt-canonical"
    else
        notok "examples: $name is fmt-canonical" "rlc fmt would change it"
    fi
done
[ $n -ge 3 ] && ok "examples: at least three policies" || notok "examples: at least three policies" "found $n"

tenants=$(grep -c '^tenant ' "$ROOT/examples/saas.rlp")
[ "$tenants" -ge 20 ] && ok "examples: saas.rlp has 20+ tenants" \
    || notok "examples: saas.rlp has 20+ tenants" "found $tenants"
# ---- the README's main command: ./run-demo.sh, a real deploy ----------------
# Each run gets TMPDIR=$T/demo-N so whatever it leaves behind is visible.
# demo_pid / demo_dir read the redis-server PID and temp dir it printed.
demo_pid() { sed -n 's/^redis-server .*: pid \([0-9]*\) on .*/\1/p' "$1" | head -1; }
demo_dir() { sed -n 's/^redis-server .*, temp dir \(.*\)$/\1/p' "$1" | head -1; }
# left_nothing NAME OUT: the Redis the demo started is gone (by PID and by
# its port) and its temp dir removed.
left_nothing() {
    _pid=$(demo_pid "$2"); _dir=$(demo_dir "$2")
    _port=$(sed -n 's/^redis-server .* on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$2" | head -1)
    if [ -z "$_pid" ] || [ -z "$_dir" ] || [ -z "$_port" ]; then
        notok "$1: leaves nothing running" "no redis-server pid/port/temp dir in its output"
    elif kill -0 "$_pid" 2>/dev/null; then
        notok "$1: leaves nothing running" "redis-server pid $_pid still runs"
        kill -9 "$_pid" 2>/dev/null
    elif [ "$(redis-cli -p "$_port" ping 2>/dev/null)" = PONG ] \
        && redis-cli -p "$_port" info server | grep -q "^process_id:$_pid"; then
        notok "$1: leaves nothing running" "its server still answers on $_port"
    elif [ -e "$_dir" ]; then
        notok "$1: leaves nothing running" "temp dir $_dir is still there"
    else
        ok "$1: leaves nothing running (pid $_pid gone, temp dir removed)"
    fi
}
run_demo() {   # run_demo OUT [ENV=VALUE...]: runs ./run-demo.sh, returns its status
    _out=$1; shift
    mkdir -p "$T/demo-$$-$(basename "$_out")"
    (cd "$ROOT" && env TMPDIR="$T/demo-$$-$(basename "$_out")" RLC="$RLC" "$@" sh ./run-demo.sh \
        >"$_out" 2>&1)
}

# As the README says: every step passes.
run_demo "$T/demo.out"; r=$?
if [ $r -eq 0 ]; then
    ok "run-demo.sh passes"
else
    notok "run-demo.sh passes" "exit $r: $(tail -3 "$T/demo.out" | tr '\n' ' ')"
fi
k=0
for h in "Check every example" "Start a throwaway Redis" "Compile examples/saas.rlp" \
    "rlc diff" "rlc run" "bursts through the enforcement library" "rlc status" \
    "rlc rollback" "rlc audit verify" "Stop Redis"; do
    k=$((k + 1))
    check "run-demo.sh step $k: $h" grep -q "^== $k\. .*$h" "$T/demo.out"
done
check "run-demo.sh shows the diff's exit 10 as changes" grep -q '^(exit 10: changes to apply)' "$T/demo.out"
check "run-demo.sh: rlc run went through all seven phases" grep -q '^rlc: \[7/7\] commit' "$T/demo.out"
# The burst: Redis's counts next to the simulator's, and they agree.
b=$(sed -n 's/^burst: *Redis admitted \([0-9]*\), rejected \([0-9]*\); simulator predicted \([0-9]*\) \/ \([0-9]*\); \([0-9]*\) of \([0-9]*\) decisions identical$/\1 \2 \3 \4 \5 \6/p' "$T/demo.out")
set -- $b
if [ $# -eq 6 ] && [ "$1" = "$3" ] && [ "$2" = "$4" ] && [ "$5" = "$6" ] \
    && [ $(($1 + $2)) -eq "$6" ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ]; then
    ok "run-demo.sh: burst admitted $1, rejected $2 in Redis and in the simulator"
else
    notok "run-demo.sh: burst in Redis equals the simulator" "summary: '$b'"
fi
# The second burst: an unlisted key of an unlisted tenant, limited by
# tenant * and key * (5/1s), in Redis exactly as in the simulator.
b=$(sed -n 's/^templates: Redis admitted \([0-9]*\), rejected \([0-9]*\); simulator predicted \([0-9]*\) \/ \([0-9]*\); \([0-9]*\) of \([0-9]*\) decisions identical (new-signup-4411, key:k-7f3a: tenant \*, key \*)$/\1 \2 \3 \4 \5 \6/p' "$T/demo.out")
set -- $b
if [ $# -eq 6 ] && [ "$1" = 5 ] && [ "$2" = 5 ] && [ "$1" = "$3" ] && [ "$2" = "$4" ] \
    && [ "$5" = "$6" ] && [ "$6" = 10 ]; then
    ok "run-demo.sh: the unlisted key of an unlisted tenant: 5 admitted, 5 rejected in Redis and in the simulator"
else
    notok "run-demo.sh: the unlisted key of an unlisted tenant is limited by its templates" "summary: '$b'"
fi
check "run-demo.sh: tenant * is in the function library after the deploy" \
    grep -q '^and tenant \* (every tenant the policy does not list) in the function library rlc$' "$T/demo.out"
check "run-demo.sh: the unlisted tenant has counters under its tag and no config key" \
    grep -q '^new-signup-4411 in Redis: 0 config keys, 3 counters under {saas:new-signup-4411}' "$T/demo.out"
check "run-demo.sh: after the rollback the unlisted tenant finds no config either" \
    grep -q 'decision for new-signup-4411 now answers: RLC_NOCONFIG' "$T/demo.out"
check "run-demo.sh: rollback leaves the namespace empty" \
    grep -q '^rollback:  namespace back to empty' "$T/demo.out"
check "run-demo.sh: the decision after the rollback finds no config" \
    grep -q 'now answers: RLC_NOCONFIG' "$T/demo.out"
check "run-demo.sh: audit log of 2 records verifies" grep -q '^audit:     2 records, chain intact' "$T/demo.out"
check "run-demo.sh: last line" sh -c "tail -1 '$T/demo.out' | grep -qx 'run-demo.sh: all steps passed'"
left_nothing "run-demo.sh" "$T/demo.out"

# A step that fails: rlc run's verification phase fails (the executor's
# fault hook), so the deploy rolls back, run exits 1 and the demo stops
# there with a non-zero exit.
run_demo "$T/fail.out" RLC_FAULT=verify:fail; r=$?
check "run-demo.sh: a failing rlc run gives exit 1 and names the step" \
    eval '[ $r -eq 1 ] && grep -q "^FAILED at step 5: rlc run exited 1" "$T/fail.out"'
left_nothing "run-demo.sh after a failed step" "$T/fail.out"

# The comparison can fail: a simulator whose last decision is flipped.
cat > "$T/rlc-flip" <<EOF
#!/bin/sh
# rlc, except that 'simulate -o FILE' turns its last rejection into an admission
if [ "\$1" = simulate ]; then
    "$RLC" "\$@" || exit \$?
    out=""; prev=""
    for a in "\$@"; do [ "\$prev" = -o ] && out=\$a; prev=\$a; done
    sed -i '\$s/,1,0,\([0-9a-f]*\),/,1,1,\1,/' "\$out"
    exit 0
fi
exec "$RLC" "\$@"
EOF
chmod +x "$T/rlc-flip"
(cd "$ROOT" && TMPDIR="$T" RLC="$T/rlc-flip" sh ./run-demo.sh > "$T/flip.out" 2>&1); r=$?
check "run-demo.sh: a simulator that disagrees with Redis fails the demo" \
    eval '[ $r -eq 1 ] && grep -q "49 of 50 decisions identical" "$T/flip.out" && grep -q "decided differently" "$T/flip.out"'
left_nothing "run-demo.sh after a disagreement" "$T/flip.out"

# Ctrl-C: an rlc that presses it (SIGINT to its whole process group, as a
# terminal does) while `rlc status` runs.  The demo gets its own process
# group with SIGINT at its default action (a shell started in the background
# inherits SIGINT ignored, and then could not trap it).
cat > "$T/rlc-int" <<EOF
#!/bin/sh
if [ "\$1" = status ]; then
    kill -INT -\$(ps -o pgid= \$\$ | tr -d ' ')
    sleep 5
fi
exec "$RLC" "\$@"
EOF
chmod +x "$T/rlc-int"
(cd "$ROOT" && TMPDIR="$T" RLC="$T/rlc-int" timeout 60 python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' sh ./run-demo.sh > "$T/int.out" 2>&1); r=$?
check "run-demo.sh: Ctrl-C during a step exits 130" \
    eval '[ $r -eq 130 ] && grep -q "run-demo.sh: interrupted" "$T/int.out"'
left_nothing "run-demo.sh after Ctrl-C" "$T/int.out"
# Piped into head: the pipe closes after a few lines, so the demo's next
# write raises SIGPIPE.  It still stops its Redis and removes its temp dir.
# (SIGPIPE at its default action, as in a terminal: Python ignores it, and
# an ignored signal would be inherited through exec.)
mkdir -p "$T/demo-pipe"
(cd "$ROOT" && TMPDIR="$T/demo-pipe" RLC="$RLC" python3 -c '
import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' sh -c 'sh ./run-demo.sh 2>&1; echo $? > "$0"' "$T/pipe.rc" \
    | head -n 14 > "$T/pipe.out")
r=$(cat "$T/pipe.rc")
check "run-demo.sh | head: stops at the closed pipe (exit 141)" [ "$r" = 141 ]
left_nothing "run-demo.sh | head" "$T/pipe.out"
check "run-demo.sh runs left no temp dir" sh -c "! ls -d '$T'/rlc-demo.* '$T'/demo-*/rlc-demo.* 2>/dev/null | grep -q ."

# No redis-server on PATH: the demo says to run make deps, exit 2.
# A PATH of symlinks to everything in /usr/bin and /bin except redis-server
# (cp -s makes them all in one process).
mkdir -p "$T/nobin"
cp -s -n /usr/bin/* "$T/nobin/" 2>/dev/null
[ /bin -ef /usr/bin ] || cp -s -n /bin/* "$T/nobin/" 2>/dev/null
rm -f "$T/nobin/redis-server"
(cd "$ROOT" && PATH="$T/nobin" RLC="$RLC" sh ./run-demo.sh > "$T/nors.out" 2>&1); r=$?
check "run-demo.sh without redis-server: exit 2, 'run make deps'" \
    eval '[ $r -eq 2 ] && grep -q "redis-server not found; run .make deps." "$T/nors.out"'
