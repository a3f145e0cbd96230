#!/bin/sh
# bench_report.sh - the report `make bench` writes (tests/bench/report.sh):
# run on stand-in bench scripts (the real ones take minutes), it must keep
# every line they print, record every figure in valid JSON with its target,
# pass/miss and load, list the misses, report a failing script with its
# exit status (and exit 1), and compare.sh must pair figures of two
# reports.  The C half (record.h) writes the same records.
. "$ROOT/tests/lib.sh"
plan 13

B="$T/benches"
mkdir -p "$B" "$T/out"
cat > "$B/good.sh" <<'EOF'
. "$ROOT/tests/bench/lib.sh"
echo "a figure line"
bench_record 'rlc run, "100 000" tenants \ all' 1.5 s '<=' 2
bench_record 'keys/s ratio' 0.7 x '>=' 0.8
bench_record 'kIr per decision' 42 kIr
EOF
cat > "$B/broken.sh" <<'EOF'
echo "broken bench says why" >&2
exit 3
EOF
cat > "$T/rec.c" <<'EOF'
#include "record.h"
int main(void)
{
    bench_record("decide \"1 level\"", 83.25, "kIr", "<=", 80);
    bench_record("plain", 7, "us", NULL, 0);
    return 0;
}
EOF
cat > "$B/cbench.sh" <<EOF
"$T/rec"
EOF

ROOT="$ROOT" BENCH_DIR="$B" BENCH_REPORT_DIR="$T/out" sh "$ROOT/tests/bench/report.sh" \
    good.sh broken.sh > "$T/stdout" 2> "$T/stderr"
rc=$?
J="$T/out/bench-report.json"
TXT="$T/out/bench-report.txt"

[ "$rc" = 1 ] && ok "a failing bench script makes report.sh exit 1" ||
    notok "a failing bench script makes report.sh exit 1" "exit $rc"
if grep -q '^a figure line$' "$TXT" && grep -q '^broken bench says why$' "$TXT" &&
    grep -q '^a figure line$' "$T/stdout"; then
    ok "the text report and the terminal keep what the scripts print, stderr included"
else
    notok "the text report and the terminal keep what the scripts print, stderr included" \
        "$(cat "$TXT")"
fi
grep -q '^== broken.sh: exit 3, ' "$TXT" && ok "the text report names a failing script's exit status" ||
    notok "the text report names a failing script's exit status" "$(grep '^==' "$TXT")"
grep -q '^== good.sh (load [0-9.]*)$' "$TXT" && ok "each script's section shows the load" ||
    notok "each script's section shows the load" "$(grep '^==' "$TXT")"
if python3 -m json.tool "$J" > /dev/null 2>&1; then
    ok "bench-report.json is valid JSON"
else
    notok "bench-report.json is valid JSON" "$(cat "$J")"
fi
# What the JSON holds, read back by a JSON parser rather than by the
# line tools report.sh writes it with.
got=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["name"]: x for x in r["figures"]}
a = f["rlc run, \"100 000\" tenants \\ all"]
b = f["keys/s ratio"]
c = f["kIr per decision"]
s = {x["script"]: x["exit"] for x in r["scripts"]}
print(a["value"], a["unit"], a["target"], a["pass"], b["pass"], c["pass"], "target" in c,
      isinstance(a["load"], float) or isinstance(a["load"], int), s["good.sh"], s["broken.sh"],
      len(r["commit"]) == 40 or r["commit"] == "unknown", r["machine"]["cpus"] > 0)
' "$J" 2>&1)
want="1.5 s <= 2 True False None False True 0 3 True True"
[ "$got" = "$want" ] && ok "figures carry value, unit, target, pass and load; scripts their exit" ||
    notok "figures carry value, unit, target, pass and load; scripts their exit" "got '$got'"
grep -q '^  MISS good.sh: keys/s ratio = 0.7 x (target >= 0.8, load ' "$TXT" &&
    ! grep -q 'MISS good.sh: rlc run' "$TXT" &&
    ok "the text report lists the missed targets, and only those" ||
    notok "the text report lists the missed targets, and only those" "$(grep MISS "$TXT")"
grep -q '^# targets: 1 met, 1 missed$' "$TXT" && ok "the text report counts targets met and missed" ||
    notok "the text report counts targets met and missed" "$(grep targets "$TXT")"

# The C half.
if cc -std=c11 -Wall -Wextra -Werror -I"$ROOT/tests/bench" -o "$T/rec" "$T/rec.c" -lm 2> "$T/cc.err"; then
    ROOT="$ROOT" BENCH_DIR="$B" BENCH_REPORT_DIR="$T/outc" sh "$ROOT/tests/bench/report.sh" \
        cbench.sh > /dev/null 2>&1
    got=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
a, b = r["figures"]
print(a["name"], a["value"], a["target"], a["pass"], a["bench"], b["pass"], "target" in b)
' "$T/outc/bench-report.json" 2>&1)
    [ "$got" = 'decide "1 level" 83.25 <= 80 False cbench.sh None False' ] &&
        ok "record.h writes the same records from C" ||
        notok "record.h writes the same records from C" "got '$got'"
else
    notok "record.h writes the same records from C" "$(cat "$T/cc.err")"
fi

# compare.sh pairs figures by script and name.
sed 's/"value":1.5,/"value":3,/' "$J" > "$T/new.json"
out=$(sh "$ROOT/tests/bench/compare.sh" "$J" "$T/new.json")
echo "$out" | grep -F 'good.sh | rlc run, "100 000" tenants \ all' | grep -q ' 1.5  *3  *2.00 ' &&
    echo "$out" | grep -q 'good.sh | keys/s ratio *0.7 *0.7 *1.00 ' &&
    ok "compare.sh prints old, new and new/old for each figure in both" ||
    notok "compare.sh prints old, new and new/old for each figure in both" "$out"

# Outside report.sh a bench records nothing and still runs.
(cd "$T" && ROOT="$ROOT" sh "$B/good.sh" > "$T/alone" 2>&1)
[ "$(cat "$T/alone")" = "a figure line" ] && [ ! -e "$T/BENCH_RECORD" ] &&
    ok "a bench script run on its own prints its figures and records nothing" ||
    notok "a bench script run on its own prints its figures and records nothing" "$(cat "$T/alone")"

# bench_time: the command's exit status, and its CPU to the microsecond
# (a busy loop of about 0.2 s of user time is not a multiple of 10 ms).
. "$ROOT/tests/bench/lib.sh"
bench_time "$T/bt" sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done; exit 7'; r=$?
[ $r = 7 ] && awk '{ exit !($1 ~ /^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ && $1 > 0.01 && $2 ~ /^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ && $3 > 0) }' "$T/bt" &&
    ok "bench_time passes the exit status on and writes user, sys (s, 6 decimals) and max RSS ($(cat "$T/bt"))" ||
    notok "bench_time" "exit $r: $(cat "$T/bt" 2>/dev/null)"
# Its wall time covers the command (a sleep of 0.2 s) and not the python
# that runs it: at most the time around the whole call less python's own
# start, measured beside it.
s0=$(date +%s%N); python3 -c pass; s1=$(date +%s%N)
bench_time "$T/bt2" sleep 0.2; s2=$(date +%s%N)
awk -v py="$(( s1 - s0 ))" -v all="$(( s2 - s1 ))" '{ exit !(NF == 4 && $4 >= 0.2 && $4 * 1e9 <= all - py / 2) }' "$T/bt2" &&
    ok "bench_time's wall time is the command's, not python's start ($(cat "$T/bt2"))" ||
    notok "bench_time's wall time" "$(cat "$T/bt2") in $(( (s2 - s1) / 1000000 )) ms; python starts in $(( (s1 - s0) / 1000000 )) ms"
