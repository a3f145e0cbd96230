#!/bin/sh
# run.sh - the test runner behind `make test` and `make asan`.
#
# Runs every cmocka unit binary ($BUILD/tests/test_*), then every suite
# script tests/suites/*.sh.  A suite prints one line per case, "ok - NAME" or
# "not ok - NAME: why" (TAP style), and may print anything else on lines that
# start with "#".  The runner's last line is "N passed, N failed"; the exit
# status is 0 only when nothing failed.
#
#   BUILD=build sh tests/run.sh [SUITE...]     (SUITE: a name like "golden")
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RLC="$ROOT/$BUILD/rlc"
export ROOT BUILD RLC
pass=0
fail=0
failed_names=""

count_tap() {
    # $1: suite name; stdin: suite output
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) pass=$((pass + 1)) ;;
        "not ok - "*)
            fail=$((fail + 1))
            failed_names="$failed_names
  $1: ${line#not ok - }"
            echo "$line" ;;
        *) [ -n "${VERBOSE:-}" ] && echo "$line" ;;
        esac
    done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ $# -eq 0 ]; then
    for t in "$ROOT/$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        echo "# unit: $name" >&2
        # cmocka's TAP output: one "ok N - name" line per test.
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$tmp/out" 2>&1
        rc=$?
        sed -n -e 's/^ok [0-9]* - /ok - /p' -e 's/^not ok [0-9]* - /not ok - /p' "$tmp/out" \
            > "$tmp/tap"
        if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp/tap"; then
            echo "not ok - $name: exited $rc" >> "$tmp/tap"
            tail -20 "$tmp/out" >&2
        fi
        count_tap "unit/$name" < "$tmp/tap"
    done
fi

suites=""
if [ $# -gt 0 ]; then
    for s in "$@"; do suites="$suites $ROOT/tests/suites/$s.sh"; done
else
    suites=$(ls "$ROOT"/tests/suites/*.sh 2>/dev/null)
fi
for s in $suites; do
    name=$(basename "$s" .sh)
    echo "# suite: $name" >&2
    sh "$s" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp/out"; then
        echo "not ok - $name: suite exited $rc" >> "$tmp/out"
        tail -20 "$tmp/err" >&2
    fi
    count_tap "$name" < "$tmp/out"
done

if [ $fail -gt 0 ]; then
    echo "failed:$failed_names"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
