#!/bin/sh
# hazards.sh - the hazard passes (SPEC.md section 4).
#
# tests/hazards/NAME.rlp is one case; NAME.expected is the exact stderr of
# `rlc check --color=never NAME.rlp` run inside tests/hazards, then
# "exit N" (tests/hazards/update.sh regenerates them; read every change).
# Cases named rlcNNNN_* must report RLCnnnn and cases rlcNNNN_*_ok must not:
# every RLC2xxx code needs one of each (RLC2202 and RLC2104 are proven by
# the unit test test_hazard instead: no policy can trigger them).  Then the command-line
# options: --allow, --deny, -Werror, --report (text and JSON), github.
. "$ROOT/tests/lib.sh"
H="$ROOT/tests/hazards"
cd "$H" || exit 2
# Codes no policy can trigger, proven by the unit test instead.
UNIT_ONLY="2202 2104"
# A case per tests/hazards/*.rlp, per RLC2xxx code (explain) and per one a
# policy can trigger (coverage), 15 for the options, one per example.
nrlp=$(ls *.rlp | wc -l)
ncodes=$("$RLC" explain --list | grep -c '^RLC2')
nex=$(ls "$ROOT"/examples/*.rlp | wc -l)
plan $((nrlp + 2 * ncodes - $(echo $UNIT_ONLY | wc -w) + 15 + nex))

show_diff() { diff -u "$1" "$2" | head -20 | sed 's/^/# /'; }

for f in *.rlp; do
    n=${f%.rlp}
    if [ ! -f "$n.expected" ]; then
        notok "hazards/$n" "no $n.expected (run tests/hazards/update.sh $n and read it)"
        continue
    fi
    { timeout 20 "$RLC" check --color=never "$f" 2>&1 >/dev/null; echo "exit $?"; } > "$T/$n.out"
    if ! cmp -s "$n.expected" "$T/$n.out"; then
        notok "hazards/$n" "diagnostics differ from $n.expected"
        show_diff "$n.expected" "$T/$n.out"
        continue
    fi
    case $n in
    rlc2[0-9][0-9][0-9]_*_ok)
        code=RLC$(echo "$n" | cut -c4-7)
        if grep -q "\[$code\]" "$n.expected"; then
            notok "hazards/$n" "$code fires in a case where it must not"
        else ok "hazards/$n"; fi ;;
    rlc2[0-9][0-9][0-9]_*)
        code=RLC$(echo "$n" | cut -c4-7)
        if grep -q "\[$code\]" "$n.expected"; then ok "hazards/$n"
        else notok "hazards/$n" "$code does not fire"; fi ;;
    *) ok "hazards/$n" ;;
    esac
done

# Every hazard code has a firing case and a close non-firing case.
for code in $("$RLC" explain --list | awk '/^RLC2/ {print $1}'); do
    num=$(echo "$code" | cut -c4-7)
    case " $UNIT_ONLY " in *" $num "*) continue ;; esac
    fire=$(ls rlc${num}_*.rlp 2>/dev/null | grep -v '_ok\.rlp$' | head -n 1)
    quiet=$(ls rlc${num}_*_ok.rlp 2>/dev/null | head -n 1)
    if [ -n "$fire" ] && [ -n "$quiet" ]; then ok "hazards/coverage-$code"
    else notok "hazards/coverage-$code" "needs rlc${num}_NAME.rlp and rlc${num}_NAME_ok.rlp"; fi
done

# Every hazard page of SPEC.md is what `rlc explain` prints.
for code in $("$RLC" explain --list | awk '/^RLC2/ {print $1}'); do
    awk -v h="### $code " '
        index($0, h) == 1 { on = 1; next }
        on && /^(#|##|###) / { exit }
        on { print }' "$ROOT/SPEC.md" | sed -e '/^```/d' > "$T/spec.$code"
    "$RLC" explain "$code" | tail -n +2 | sed -e 's/^    //' > "$T/explain.$code"
    # Compare the words: explain indents code and trims blank lines.
    if [ -s "$T/spec.$code" ] &&
       [ "$(tr -s ' \n' '  ' < "$T/spec.$code")" = "$(tr -s ' \n' '  ' < "$T/explain.$code")" ]; then
        ok "hazards/explain-$code"
    else
        notok "hazards/explain-$code" "rlc explain $code differs from SPEC.md"
    fi
done

cd "$T" || exit 2
cat > burst.rlp <<'EOF'
tenant "acme" {
  limit 100/1m burst 500
  limit 1000/5m algorithm fixed_window
}
EOF

# -Werror: warnings fail the check; --allow and --deny.
"$RLC" check burst.rlp 2>/dev/null; rc=$?
[ $rc = 0 ] && ok "hazards/warnings-pass" || notok "hazards/warnings-pass" "exit $rc"
"$RLC" check -Werror burst.rlp 2>/dev/null; rc=$?
[ $rc = 1 ] && ok "hazards/Werror" || notok "hazards/Werror" "exit $rc"
"$RLC" check --allow=RLC2006 --allow=2002 -Werror burst.rlp 2>err; rc=$?
if [ $rc = 0 ] && [ ! -s err ]; then ok "hazards/allow-cli"
else notok "hazards/allow-cli" "exit $rc: $(head -c 200 err)"; fi
"$RLC" check --allow=RLC2006 --color=never burst.rlp 2>err; rc=$?
if [ $rc = 0 ] && grep -q 'warning\[RLC2002\]' err && ! grep -q RLC2006 err; then
    ok "hazards/allow-cli-one-code"
else notok "hazards/allow-cli-one-code" "exit $rc"; fi
"$RLC" check --deny=RLC2006 --color=never burst.rlp 2>err; rc=$?
if [ $rc = 1 ] && grep -q 'error\[RLC2006\]' err; then ok "hazards/deny"
else notok "hazards/deny" "exit $rc"; fi
"$RLC" check --allow=RLC1031 burst.rlp 2>err; rc=$?
if [ $rc = 2 ] && grep -q 'only hazards' err; then ok "hazards/allow-not-hazard"
else notok "hazards/allow-not-hazard" "exit $rc"; fi
"$RLC" check --allow=RLC99 burst.rlp 2>err; rc=$?
if [ $rc = 2 ] && grep -q 'not a diagnostic code' err; then ok "hazards/allow-unknown"
else notok "hazards/allow-unknown" "exit $rc"; fi
"$RLC" check --deny=bogus burst.rlp 2>/dev/null; rc=$?
[ $rc = 2 ] && ok "hazards/deny-unknown" || notok "hazards/deny-unknown" "exit $rc"
"$RLC" check --report --format=sarif burst.rlp >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "hazards/report-sarif-usage" || notok "hazards/report-sarif-usage" "exit $rc"

# --report: the bound table and the suppressed list with reasons.
cat > report.rlp <<'EOF'
policy "p" {
  time_source = client
  max_clock_skew = 2s
}
tenant "acme" {
  allow RLC2006 "batch client, agreed with ops"
  allow RLC2103 "skew measured below 2s"
  limit 100/1m burst 500
  group "g" {
    limit 30/1m algorithm fixed_window
    key "k" { limit 1000/1h algorithm sliding_window }
  }
}
EOF
"$RLC" check --report report.rlp > rep.txt 2>rep.err; rc=$?
if [ $rc = 0 ] &&
   grep -Eq '^acme +100/1m +token_bucket +603 +603 +-' rep.txt &&
   grep -Eq '^acme/g +30/1m +fixed_window +90 +90 +-' rep.txt &&
   grep -Eq '^acme/g/k +1000/1h +sliding_window +2000 +1860 +30/1m of acme/g' rep.txt &&
   grep -q 'reason: "batch client, agreed with ops" (allow at report.rlp:6:3)' rep.txt &&
   grep -q '^Suppressed: 4$' rep.txt; then
    ok "hazards/report-text"
else
    notok "hazards/report-text" "exit $rc"; sed 's/^/# /' rep.txt rep.err | head -20
fi
"$RLC" check --report --format=json report.rlp > rep.json 2>rep.err; rc=$?
if [ $rc = 0 ] && python3 - rep.json <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
rep = json.loads(lines[-1])["report"]
assert rep["time_source"] == "client" and rep["decision_skew_ms"] == 2000, rep
by = {(l["subject"], l["limit"]): l for l in rep["limits"]}
k = by[("acme/g/k", "1000/1h")]
assert k["alone"] == 2000 and k["bound"] == 1860, k
assert k["capped_by"]["subject"] == "acme/g" and k["capped_by"]["limit"] == "30/1m", k
assert k["capped_by"]["at"]["line"] == 10, k
t = by[("acme", "100/1m")]
assert t["alone"] == 603 and t["bound"] == 603 and t["capped_by"] is None, t
sup = rep["suppressed"]
assert len(sup) == 4 and {s["code"] for s in sup} == {"RLC2006", "RLC2103"}, sup
assert all(s["allow"]["line"] in (6, 7) for s in sup), sup
EOF
then ok "hazards/report-json"; else notok "hazards/report-json" "exit $rc"; fi

# --report with templates: rows for key * and for tenant * and its subtree
# (after the listed tenants), a template's path segment a bare *, a key
# literally named "*" a string.
cat > report_tmpl.rlp <<'EOF'
tenant "acme" {
  limit 100/1s
  key * { limit 20/1s }
  key "*" { limit 30/1s }
}
tenant * {
  limit 10/1s
  group * { key * { limit 2/1s } }
}
EOF
"$RLC" check --report report_tmpl.rlp > rept.txt 2>rept.err; rc=$?
if [ $rc = 0 ] &&
   grep -Eq '^acme/\* +20/1s +token_bucket +39 +39 +-' rept.txt &&
   grep -Eq '^acme/"\*" +30/1s +token_bucket +59 +59 +-' rept.txt &&
   grep -Eq '^\* +10/1s +token_bucket +19 +19 +-' rept.txt &&
   grep -Eq '^\*/\*/\* +2/1s +token_bucket +3 +3 +-' rept.txt &&
   [ "$(grep -n '^\* ' rept.txt | cut -d: -f1)" -gt "$(grep -n '^acme/"' rept.txt | cut -d: -f1)" ]; then
    ok "hazards/report-templates"
else
    notok "hazards/report-templates" "exit $rc"; sed 's/^/# /' rept.txt rept.err | head -20
fi
"$RLC" check --report --format=json report_tmpl.rlp > rept.json 2>rept.err; rc=$?
if [ $rc = 0 ] && python3 - rept.json <<'EOF'
import json, sys
rep = json.loads(open(sys.argv[1]).read().splitlines()[-1])["report"]
by = {(l["subject"], l["limit"]): l for l in rep["limits"]}
assert by[("acme/*", "20/1s")]["kind"] == "key", by
assert by[('acme/"*"', "30/1s")]["kind"] == "key", by
assert by[("*", "10/1s")]["kind"] == "tenant", by
k = by[("*/*/*", "2/1s")]
assert k["kind"] == "key" and k["alone"] == 3 and k["at"]["line"] == 8, k
EOF
then ok "hazards/report-templates-json"; else notok "hazards/report-templates-json" "exit $rc"; fi

# GitHub annotations: one command per diagnostic, properties and message
# escaped.
mkdir -p "dir,with:odd"
printf 'policy "p" { max_clock_skew = 1s }\ntenant "acme" { limit 50/5s }\n' > "dir,with:odd/p.rlp"
"$RLC" check --format=github "dir,with:odd/p.rlp" > gh.out 2>gh.err; rc=$?
exp='::warning file=dir%2Cwith%3Aodd/p.rlp,line=2,col=23,endLine=2,endColumn=28,title=RLC2102::window 5s of limit 50/5s is shorter than ten times max_clock_skew 1s (10s): skew moves up to 20%25 of every window'
if [ $rc = 0 ] && [ "$(cat gh.out)" = "$exp" ] && [ ! -s gh.err ]; then ok "hazards/github"
else notok "hazards/github" "exit $rc: $(cat gh.out)"; fi
"$RLC" check --format=github burst.rlp > gh2.out 2>/dev/null
if grep -q '^::warning file=burst.rlp,line=3,col=9,endLine=3,endColumn=16,title=RLC2002::limit 1000/5m .*%0Anote: burst.rlp:2:9: the stricter limit 100/1m is here$' gh2.out; then
    ok "hazards/github-notes"
else notok "hazards/github-notes" "$(head -c 300 gh2.out)"; fi

# The examples stay free of hazards, warnings included.
for f in "$ROOT"/examples/*.rlp; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    if (cd "$(dirname "$f")" && "$RLC" check -Werror --color=never "$b" >/dev/null 2>"$T/ex.err") &&
       ! grep -q 'RLC2' "$T/ex.err"; then
        ok "hazards/example-$b"
    else
        notok "hazards/example-$b" "$(head -c 300 "$T/ex.err")"
    fi
done
