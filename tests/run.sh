#!/bin/sh
# run.sh - the test runner behind `make test` and `make asan`.
#
# Runs every cmocka unit binary ($BUILD/tests/test_*) and every suite script
# tests/suites/*.sh, several at a time: the suites mostly wait on the
# servers they start, so TEST_JOBS (default: CPUs + 2) of them run at once,
# the longest first.  Each job's output goes to a file of its own and is
# read back in a fixed order (units, then suites, by name), so what is
# printed does not depend on which job finished first.
#
# A job speaks TAP: first its plan "1..N" (the number of cases it will
# report), then one line per case, "ok - NAME" or "not ok - NAME: why"; a
# case that cannot run here is "ok - NAME # SKIP why" and is counted as
# skipped, not passed.  Lines starting with "#" are comments ("# setup: ..."
# for steps that only prepare the cases), "Bail out! ..." ends a job whose
# setup failed.  A job fails when a case fails, when it has no plan before
# its first case, when it ran another number of cases than it planned
# ("not ok - JOB: planned N, ran M": the cases it did not run count as
# failed), when it exits non-zero, or when it runs longer than TEST_TIMEOUT
# seconds (default 1800).
#
# The suites share the build, read-only: a run in which a file under $BUILD
# changed fails.  They share no port (lib.sh claims each one) and no temp
# dir (mktemp per suite).
#
# The last two lines are "N skipped" and "N passed, N failed"; the exit
# status is 0 only when nothing failed.
#
#   BUILD=build sh tests/run.sh [SUITE...]     (SUITE: a name like "golden";
#                                              with names, no unit binaries)
#   TEST_JOBS=1 ...                            one job at a time
#   VERBOSE=1 ...                              every line of every job
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RLC="$ROOT/$BUILD/rlc"
export ROOT BUILD RLC

now_ms() { date +%s%3N; }

# run_job KIND:NAME: one unit binary or suite, its stdout (TAP) in
# $RUN_DIR/NAME.out, stderr in NAME.err, exit status in NAME.rc.  The job
# runs under timeout in a process group of its own, whose id is left in
# NAME.pgid so that an interrupted runner can stop it with its servers.
run_job() {
    kind=${1%%:*}; name=${1#*:}
    d=$RUN_DIR
    [ -e "$d/.stop" ] && return 0
    start=$(now_ms)
    case $kind in
    unit)
        CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TEST_TIMEOUT" "$ROOT/$BUILD/tests/$name" \
            > "$d/$name.raw" 2>&1 < /dev/null &
        echo $! > "$d/$name.pgid"
        wait $!; rc=$?
        # cmocka's TAP output: "1..N", then "ok N - name" per test, and
        # "not ok N # SKIP name" for a test that called skip().
        sed -n -e '/^1\.\.[0-9]*$/p' -e 's/^ok [0-9]* - /ok - /p' -e 's/^not ok [0-9]* - /not ok - /p' \
            -e 's/^not ok [0-9]* # SKIP \(.*\)$/ok - \1 # SKIP cannot run here/p' \
            "$d/$name.raw" > "$d/$name.out"
        tail -20 "$d/$name.raw" > "$d/$name.err" ;;
    suite)
        timeout -k 10 "$TEST_TIMEOUT" sh "$ROOT/tests/suites/$name.sh" \
            > "$d/$name.out" 2> "$d/$name.err" < /dev/null &
        echo $! > "$d/$name.pgid"
        wait $!; rc=$? ;;
    esac
    secs=$(( ($(now_ms) - start + 500) / 1000 ))
    # The CPU time of the job's processes that were waited for (servers
    # killed at the end are not), from the shell's children's times.
    times > "$d/$name.times"
    cpu=$(tail -n 1 "$d/$name.times" | awk '{ split($1, u, "m"); split($2, s, "m")
        printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }')
    echo "$rc" > "$d/$name.rc"
    echo "# $kind: $name ($secs s, $cpu s CPU)" >&2
}

if [ "${1:-}" = --job ]; then
    run_job "$2"
    exit 0
fi

TEST_JOBS=${TEST_JOBS:-$(( $(nproc 2>/dev/null || echo 1) + 2 ))}
TEST_TIMEOUT=${TEST_TIMEOUT:-1800}
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rlc-run.XXXXXX")
export TEST_TIMEOUT RUN_DIR

# python3 is looked up once, here: the suites run it hundreds of times, and
# a version manager's shim on PATH (pyenv's is a bash script that runs a
# dozen helpers: about 0.2 s a call, against 0.02 s) would cost each suite
# seconds of CPU.  It is the interpreter the shim would have picked.
mkdir "$RUN_DIR/bin"
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$py" ] && ln -s "$py" "$RUN_DIR/bin/python3"
PATH="$RUN_DIR/bin:$PATH"
export PATH

# Stops the jobs still running (their whole process groups: the suites'
# traps then stop their servers) and starts no more.
stop_jobs() {
    touch "$RUN_DIR/.stop"
    [ -n "${xargs_pid:-}" ] && kill -TERM "$xargs_pid" 2>/dev/null
    for f in "$RUN_DIR"/*.pgid; do
        [ -e "$f" ] || continue
        [ -e "${f%.pgid}.rc" ] || kill -TERM "-$(cat "$f")" 2>/dev/null
    done
}
trap 'rm -rf "$RUN_DIR"' EXIT
trap 'stop_jobs; exit 130' INT
trap 'stop_jobs; exit 143' TERM

# The jobs, in the order they are reported.
jobs=""
if [ $# -eq 0 ]; then
    for t in "$ROOT/$BUILD"/tests/test_*; do
        [ -x "$t" ] && jobs="$jobs unit:$(basename "$t")"
    done
    for s in "$ROOT"/tests/suites/*.sh; do
        [ -e "$s" ] && jobs="$jobs suite:$(basename "$s" .sh)"
    done
else
    for s in "$@"; do
        if [ ! -f "$ROOT/tests/suites/$s.sh" ]; then
            echo "run.sh: no suite tests/suites/$s.sh" >&2
            exit 2
        fi
        jobs="$jobs suite:$s"
    done
fi

# The order they start in: the longest first (their wall time measured in
# a parallel run: the slowest job bounds the whole run, so it must not
# start last; concurrent mostly sleeps, so it overlaps the busy ones), then
# the rest.
LONGEST="bounds valgrind deploy concurrent etcd http fmt hostile runner_selftest reapply"
start_order=""
for l in $LONGEST; do
    case " $jobs " in *" suite:$l "*) start_order="$start_order suite:$l" ;; esac
done
for j in $jobs; do
    case " $start_order " in *" $j "*) ;; *) start_order="$start_order $j" ;; esac
done

# shellcheck disable=SC2086
: > "$RUN_DIR/.started"
printf '%s\n' $start_order | xargs -P "$TEST_JOBS" -n 1 sh "$0" --job &
xargs_pid=$!
wait $xargs_pid

# tally NAME: reads one job's output; prints its failed cases, and a last
# line "COUNT passed failed skipped ran plan" (plan -1: none, -2: a plan
# after the first case or a second plan).
tally() {
    awk -v verbose="${VERBOSE:-}" '
    /^1\.\.[0-9]+$/ {
        if (plan != "" || ran > 0) bad = 1; else plan = substr($0, 4) + 0
        if (verbose != "") print "LINE " $0
        next
    }
    /^ok - / {
        ran++
        if ($0 ~ / # SKIP( |$)/) { skip++; print "SKIP " substr($0, 6) } else passed++
        if (verbose != "") print "LINE " $0
        next
    }
    /^not ok - / { ran++; failed++; print "FAIL " substr($0, 10); print "LINE " $0; next }
    verbose != "" { print "LINE " $0 }
    END {
        if (bad) plan = -2; else if (plan == "") plan = -1
        print "COUNT " passed + 0 " " failed + 0 " " skip + 0 " " ran + 0 " " plan
    }' "$1"
}

pass=0
fail=0
skipped=0
failed_names=""
skipped_names=""
nl='
'
for j in $jobs; do
    name=${j#*:}
    out="$RUN_DIR/$name.out"
    [ -e "$out" ] || : > "$out"
    rc=$(cat "$RUN_DIR/$name.rc" 2>/dev/null || echo 255)
    count=""
    while IFS= read -r line; do
        case $line in
        "LINE "*) echo "${line#LINE }" ;;
        "FAIL "*) failed_names="$failed_names$nl  $name: ${line#FAIL }" ;;
        "SKIP "*) skipped_names="$skipped_names$nl  $name: ${line#SKIP }" ;;
        "COUNT "*) count=${line#COUNT } ;;
        esac
    done <<EOF
$(tally "$out")
EOF
    # shellcheck disable=SC2086
    set -- $count
    p=$1 f=$2 s=$3 ran=$4 planned=$5
    why=""
    if [ "$planned" -eq -1 ]; then
        why="no plan (1..N) before its first case; ran $ran"; f=$((f + 1))
    elif [ "$planned" -eq -2 ]; then
        why="a plan (1..N) after its first case, or two"; f=$((f + 1))
    elif [ "$ran" -lt "$planned" ]; then
        why="planned $planned, ran $ran"; f=$((f + planned - ran))
    elif [ "$ran" -gt "$planned" ]; then
        why="planned $planned, ran $ran"; f=$((f + 1))
    fi
    if [ -n "$why" ]; then
        echo "not ok - $name: $why"
        failed_names="$failed_names$nl  $name: $why"
    fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="timed out after $TEST_TIMEOUT s"
        echo "not ok - $name: $why"
        failed_names="$failed_names$nl  $name: $why"
        f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name: exited $rc"
        failed_names="$failed_names$nl  $name: exited $rc"
        f=$((f + 1))
    fi
    if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
        echo "# $name: stderr (last lines):" >&2
        tail -20 "$RUN_DIR/$name.err" >&2
    fi
    pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
done

# The build is read-only for the suites (they share it while running).
written=$(find "$ROOT/$BUILD" -newer "$RUN_DIR/.started" 2>/dev/null | head -5 | tr '\n' ' ')
if [ -n "$written" ]; then
    echo "not ok - run: the suites wrote into $BUILD: $written"
    failed_names="$failed_names$nl  run: the suites wrote into $BUILD: $written"
    fail=$((fail + 1))
fi

[ $skipped -eq 0 ] || echo "skipped:$skipped_names"
[ $fail -eq 0 ] || echo "failed:$failed_names"
echo "$skipped skipped"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
