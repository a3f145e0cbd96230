#!/bin/sh
# diag_cap.sh - many diagnostics: 10 000 warnings on one 189 KB line.
# Every format shows every error and the first 100 warnings and notes, and
# says how many it did not show (text: the count line; JSON: a last line
# {"not_shown":...}; SARIF: a notification in the run's invocation; GitHub:
# a ::notice).  Counts and the exit status still cover every warning.  Time
# is not measured here (see make bench): the sizes are the ones that took
# seconds when rendering was quadratic.
. "$ROOT/tests/lib.sh"
plan 12
cd "$T" || bail_out "diag_cap" "no temp dir"

# One line: policy, then tenants "t0" .. "t9999" without limits (RLC2301).
awk 'BEGIN { printf "policy \"p\" { namespace = \"p\" }"
             for (i = 0; i < 10000; i++) printf " tenant \"t%d\" { }", i
             printf "\n" }' > many.rlp
[ "$(wc -l < many.rlp)" -eq 1 ] && [ "$(wc -c < many.rlp)" -gt 180000 ] \
    && ok "generated one line of 10 000 tenants" \
    || notok "generated one line of 10 000 tenants" "$(wc -c < many.rlp) bytes"

"$RLC" check many.rlp 2>text; rc=$?
check "text: exit 0 (warnings only)" [ $rc -eq 0 ]
check "text: 100 warnings shown" [ "$(grep -c '^many.rlp:1:[0-9]*: warning\[RLC2301\]' text)" -eq 100 ]
check "text: the first shown is the first in the file" \
    sh -c "grep -m1 'warning\[' text | grep -q 'tenant \"t0\" has no limit'"
check "text: the count line says how many were not shown" \
    sh -c "[ \"\$(tail -1 text)\" = 'rlc: 0 errors, 10000 warnings (9900 not shown: only the first 100 warnings and notes are)' ]"

"$RLC" check -W error many.rlp 2>/dev/null; rc=$?
check "-W error: every warning still counts (exit 1)" [ $rc -eq 1 ]

"$RLC" check --format=json many.rlp >json 2>jerr
check "json: 100 objects, then the not_shown line" sh -c \
    "[ \$(wc -l < json) -eq 101 ] && [ \$(grep -c '\"code\":\"RLC2301\"' json) -eq 100 ] && [ \"\$(tail -1 json)\" = '{\"not_shown\":{\"warnings_and_notes\":9900,\"limit\":100}}' ] && [ ! -s jerr ]"

"$RLC" check --format=sarif many.rlp >sarif
cat > sarif.py <<'PY'
import json, sys
r = json.load(open("sarif"))["runs"][0]
n = r["invocations"][0]["toolExecutionNotifications"][0]
sys.exit(0 if len(r["results"]) == 100 and r["invocations"][0]["executionSuccessful"]
         and n["message"]["text"] == "9900 not shown: only the first 100 warnings and notes are"
         else 1)
PY
check "sarif: 100 results and a notification of the 9900 not shown" python3 sarif.py

"$RLC" check --format=github many.rlp >gh
check "github: 100 annotations, then a notice of the 9900 not shown" sh -c \
    "[ \$(grep -c '^::warning ' gh) -eq 100 ] && [ \"\$(tail -1 gh)\" = '::notice title=rlc::9900 not shown: only the first 100 warnings and notes are' ]"

# Errors are capped as they are found (20); warnings as they are shown.
# Twenty-five allows without a reason (RLC2304, errors found after the
# hazards) on top of the 10 000 warnings: both limits in one count line.
awk '{ printf "%s", $0; for (i = 0; i < 25; i++) printf " allow RLC2301 \"\""; printf "\n" }' \
    many.rlp > both.rlp
"$RLC" check both.rlp 2>both; rc=$?
check "errors and warnings past their limits: one count line says both" sh -c \
    "[ $rc -eq 1 ] && [ \"\$(tail -1 both)\" = 'rlc: 20 errors, 10000 warnings (stopped at the limit of 20 errors; 9900 not shown: only the first 100 warnings and notes are)' ]"

# At the limit exactly, nothing is said.
awk 'BEGIN { printf "policy \"p\" { namespace = \"p\" }"
             for (i = 0; i < 100; i++) printf " tenant \"t%d\" { }", i
             printf "\n" }' > hundred.rlp
"$RLC" check hundred.rlp 2>h100
check "100 warnings: all shown, plain count line" sh -c \
    "[ \$(grep -c 'warning\[' h100) -eq 100 ] && [ \"\$(tail -1 h100)\" = 'rlc: 0 errors, 100 warnings' ]"
"$RLC" check --format=json hundred.rlp >j100
check "100 warnings: no not_shown line in JSON" sh -c "! grep -q not_shown j100"
