#!/bin/sh
# cli_ci.sh - what CI jobs and editors call rlc with: several independent
# policies (`check --each`, directories for check, fmt and test), `rlc
# test --format=json|junit` and its verdict on a policy with no tests,
# `rlc explain --json`, and "did you mean" for a mistyped verb.
. "$ROOT/tests/lib.sh"
plan 17

cd "$T" || exit 1
# Two complete policies: together they clash (two policy blocks), each
# alone is clean.
mkpol() {
    printf 'policy "%s" {\n  namespace = "%s"\n}\n\ntenant * {\n  limit 10/1s\n}\n' "$2" "$2" > "$1"
}
mkdir -p tree/b tree/a tree/.hidden tree/a/deeper
mkpol tree/b/two.rlp two
mkpol tree/a/one.rlp one
mkpol tree/a/deeper/three.rlp three
printf 'not a policy at all {{{\n' > tree/.hidden/broken.rlp
printf 'not a policy either {{{\n' > tree/a/notes.txt

"$RLC" check tree/a/one.rlp tree/b/two.rlp > out 2> err; rc=$?
[ "$rc" = 1 ] && ok "two policies given as FILEs make one policy, which clashes" ||
    notok "two policies given as FILEs make one policy, which clashes" "exit $rc: $(cat err)"
"$RLC" check --each tree/a/one.rlp tree/b/two.rlp > out 2> err; rc=$?
[ "$rc" = 0 ] && [ ! -s err ] && ok "--each checks each FILE as a policy of its own" ||
    notok "--each checks each FILE as a policy of its own" "exit $rc: $(cat err)"
"$RLC" check tree > out 2> err; rc=$?
[ "$rc" = 0 ] && ok "a DIR checks every .rlp under it on its own, skipping hidden entries and other files" ||
    notok "a DIR checks every .rlp under it on its own, skipping hidden entries and other files" \
        "exit $rc: $(cat err)"

# Order and reach, seen through errors planted in every file.
for f in tree/a/one.rlp tree/a/deeper/three.rlp tree/b/two.rlp; do
    printf 'tenant "x" { limit 1/1q }\n' >> "$f"
done
"$RLC" check --format=json tree > out 2> err; rc=$?
files=$(python3 -c '
import json, sys
print(" ".join(json.loads(l)["file"] for l in open(sys.argv[1]) if "\"file\"" in l))' out 2>&1)
[ "$rc" = 1 ] && [ "$files" = "tree/a/deeper/three.rlp tree/a/one.rlp tree/b/two.rlp" ] &&
    ok "a DIR is walked recursively in sorted order; errors exit 1" ||
    notok "a DIR is walked recursively in sorted order; errors exit 1" "exit $rc: $files"
"$RLC" check --format=sarif tree > out 2> err; rc=$?
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["runs"]), [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                       for r in d["runs"][0]["results"]])' out 2>&1)
[ "$rc" = 1 ] &&
    [ "$got" = "1 ['tree/a/deeper/three.rlp', 'tree/a/one.rlp', 'tree/b/two.rlp']" ] &&
    ok "SARIF of several policies is one log, one run, every policy's results" ||
    notok "SARIF of several policies is one log, one run, every policy's results" "exit $rc: $got"
"$RLC" check --each tree/a/one.rlp missing.rlp > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q "missing.rlp" err && grep -q "tree/a/one.rlp" err &&
    ok "--each: a file that cannot be read is exit 2, and the others are still checked" ||
    notok "--each: a file that cannot be read is exit 2, and the others are still checked" \
        "exit $rc: $(cat err)"
mkdir -p empty
"$RLC" check empty > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q "rlc check: error\[RLC0001\]: cannot read 'empty': no .rlp file in this directory" err &&
    ok "a DIR with no .rlp file is exit 2, said so" ||
    notok "a DIR with no .rlp file is exit 2, said so" "exit $rc: $(cat err)"

# fmt over a directory.
mkdir -p f/sub
mkpol f/sub/ok.rlp ok
printf 'policy "u" { namespace = "u" }\n' > f/ugly.rlp
"$RLC" fmt --check f > out 2> err; rc=$?
[ "$rc" = 1 ] && [ "$(cat out)" = "f/ugly.rlp" ] &&
    ok "fmt --check DIR lists exactly the files under it that are not canonical" ||
    notok "fmt --check DIR lists exactly the files under it that are not canonical" \
        "exit $rc: $(cat out err)"

# rlc test: formats, and no tests at all.
cat > t.rlp <<'EOF'
policy "t" {
  namespace = "t"
}

tenant * {
  limit 10/1s
}

test "ten a second" {
  request tenant "a"
  send 20 expect allowed 10
  send 1 expect rejected 0
}
EOF
"$RLC" test --format=json t.rlp > out 2> err; rc=$?
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["passed"], d["failed"], [(a["line"], a["want"], a["allowed"], a["rejected"], a["ok"])
                                 for a in d["assertions"]])' out 2>&1)
[ "$rc" = 1 ] && [ "$got" = "1 1 [(11, 10, 10, 10, True), (12, 0, 0, 1, False)]" ] &&
    ok "test --format=json: every assertion with its numbers, exit 1 on a failure" ||
    notok "test --format=json: every assertion with its numbers, exit 1 on a failure" "exit $rc: $got"
"$RLC" test --format=junit t.rlp > out 2> err; rc=$?
got=$(python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r.find("testsuite")
print(r.get("tests"), r.get("failures"), s.get("name"), s.get("tests"), s.get("failures"),
      [c.find("failure") is not None for c in s.iter("testcase")])' out 2>&1)
[ "$rc" = 1 ] && [ "$got" = "2 1 ten a second 2 1 [False, True]" ] &&
    ok "test --format=junit: a testsuite per test block, a testcase per assertion" ||
    notok "test --format=junit: a testsuite per test block, a testcase per assertion" "exit $rc: $got"
"$RLC" test --format=xml t.rlp > out 2> err; rc=$?
[ "$rc" = 2 ] && grep -q "unknown format 'xml'" err && ok "test --format=xml is a usage error" ||
    notok "test --format=xml is a usage error" "exit $rc: $(cat err)"
mkpol nt.rlp nt
"$RLC" test nt.rlp > out 2> err; rc=$?
[ "$rc" = 1 ] && grep -q "rlc test: no test blocks in nt.rlp: nothing was checked" err &&
    ok "a policy with no test blocks is exit 1, said so" ||
    notok "a policy with no test blocks is exit 1, said so" "exit $rc: $(cat err)"
"$RLC" test --allow-empty nt.rlp > out 2> err; rc=$?
[ "$rc" = 0 ] && grep -q "nothing was checked" err && ok "--allow-empty accepts it, still said" ||
    notok "--allow-empty accepts it, still said" "exit $rc: $(cat err)"

# explain --json.
"$RLC" explain --json RLC2001 1001 > out 2> err; rc=$?
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([(x["code"], x["severity"], len(x["text"]) > 100, bool(x["title"])) for x in d])' out 2>&1)
[ "$rc" = 0 ] && [ "$got" = "[('RLC2001', 'error', True, True), ('RLC1001', 'error', True, True)]" ] &&
    ok "explain --json: code, severity, title and the page's text" ||
    notok "explain --json: code, severity, title and the page's text" "exit $rc: $got"
"$RLC" explain --json --list > out 2> err; rc=$?
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' out 2>&1)
[ "$rc" = 0 ] && [ "$n" = "$("$RLC" explain --list | wc -l)" ] &&
    ok "explain --json --list: one object per code" ||
    notok "explain --json --list: one object per code" "exit $rc: $n"

# A mistyped verb.
"$RLC" chekc x.rlp > out 2> err; rc=$?
[ "$rc" = 2 ] && [ "$(head -1 err)" = "rlc: unknown verb 'chekc'; did you mean 'check'?" ] &&
    ok "a mistyped verb: did you mean, exit 2" ||
    notok "a mistyped verb: did you mean, exit 2" "exit $rc: $(cat err)"
"$RLC" zzzzzzzz > out 2> err; rc=$?
[ "$rc" = 2 ] && ! grep -q "did you mean" err && grep -q "^usage: rlc" err &&
    ok "a word near no verb: the verb list, exit 2" ||
    notok "a word near no verb: the verb list, exit 2" "exit $rc: $(cat err)"
