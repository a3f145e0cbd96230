#!/bin/sh
# golden.sh - golden error cases: every tests/golden/NAME.rlp is one failing
# policy whose exact diagnostics are in NAME.expected (stderr of
# `rlc check --color=never NAME.rlp` run inside tests/golden, then "exit N")
# and, for some, NAME.expected.json (stdout of --format=json, then "exit N").
# Nothing is regenerated here; tests/golden/update.sh does that.  Also checks
# that the cases together cover every code of `rlc explain --list`.
. "$ROOT/tests/lib.sh"
G="$ROOT/tests/golden"
cd "$G" || exit 2
# A case per NAME.rlp and per NAME.expected.json beside one, then three:
# no stale expected file, at least 60 cases, every code covered.
nrlp=0; njson=0
for f in *.rlp; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    nrlp=$((nrlp + 1))
    [ -f "${f%.rlp}.expected.json" ] && njson=$((njson + 1))
done
plan $((nrlp + njson + 3))

# show_diff EXPECTED ACTUAL: the first lines of the difference, as comments.
show_diff() { diff -u "$1" "$2" | head -20 | sed 's/^/# /'; }

ncases=0
for f in *.rlp; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    n=${f%.rlp}
    ncases=$((ncases + 1))
    if [ ! -f "$n.expected" ]; then
        notok "golden/$n" "no $n.expected (run tests/golden/update.sh $n and read it)"
        [ -f "$n.expected.json" ] && notok "golden-json/$n" "no $n.expected"
        continue
    fi
    { timeout 20 "$RLC" check --color=never "$f" 2>&1 >/dev/null; echo "exit $?"; } > "$T/$n.out"
    if cmp -s "$n.expected" "$T/$n.out"; then
        # A golden case is a failing policy: exit 1 (errors) or 2 (I/O).
        case $(tail -n 1 "$n.expected") in
        "exit 1"|"exit 2") ok "golden/$n" ;;
        *) notok "golden/$n" "expected file does not end in exit 1 or exit 2" ;;
        esac
    else
        notok "golden/$n" "diagnostics differ from $n.expected"
        show_diff "$n.expected" "$T/$n.out"
    fi
    if [ -f "$n.expected.json" ]; then
        { timeout 20 "$RLC" check --format=json "$f" 2>"$T/$n.jerr"; echo "exit $?"; } > "$T/$n.json"
        if ! cmp -s "$n.expected.json" "$T/$n.json"; then
            notok "golden-json/$n" "JSON differs from $n.expected.json"
            show_diff "$n.expected.json" "$T/$n.json"
        elif [ -s "$T/$n.jerr" ]; then
            notok "golden-json/$n" "--format=json wrote to stderr: $(head -c 200 "$T/$n.jerr")"
        elif ! sed '$d' "$T/$n.json" | python3 -c '
import json, sys
keys = {"code", "severity", "file", "line", "column", "end_line", "end_column", "message", "notes"}
lines = sys.stdin.read().splitlines()
assert lines, "no diagnostics"
for l in lines:
    o = json.loads(l)
    assert set(o) == keys, sorted(o)
    for n in o["notes"]:
        assert {"file", "line", "column", "message"} <= set(n)
' 2>"$T/$n.jerr"; then
            notok "golden-json/$n" "not one JSON object per line: $(tail -n 1 "$T/$n.jerr")"
        else
            ok "golden-json/$n"
        fi
    fi
done

# Expected files without a case are stale.
stale=""
for e in *.expected *.expected.json; do
    [ -e "$e" ] || continue
    n=${e%.json}; n=${n%.expected}
    [ -e "$n.rlp" ] || [ -L "$n.rlp" ] || stale="$stale $e"
done
if [ -z "$stale" ]; then ok "golden/no-stale-expected-files"
else notok "golden/no-stale-expected-files" "no .rlp for$stale"; fi

if [ "$ncases" -ge 60 ]; then ok "golden/at-least-60-cases"; else
    notok "golden/at-least-60-cases" "only $ncases cases"; fi

# Every code in the table is exercised by at least one golden case.
"$RLC" explain --list > "$T/codes" 2>&1
# Codes of issue 2 (RLC0xxx, RLC1xxx) must be covered; later ranges are
# listed so their owners see what is missing.
missing=""
later=""
for code in $(awk '/^RLC[0-9]/ {print $1}' "$T/codes"); do
    grep -q "\[$code\]" *.expected && continue
    case $code in
    RLC0*|RLC1*) missing="$missing $code" ;;
    *) later="$later $code" ;;
    esac
done
if [ ! -s "$T/codes" ]; then notok "golden/coverage-every-code" "rlc explain --list printed nothing"
elif [ -z "$missing" ]; then ok "golden/coverage-every-code"; else
    notok "golden/coverage-every-code" "no golden case for$missing"; fi
[ -z "$later" ] || echo "# codes without a golden case yet:$later"
