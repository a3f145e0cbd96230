#!/bin/sh
# ci_kit.sh - the CI kit users copy from examples/ci/ runs the commands it
# says it runs: every rlc `run:` step of github-actions.yml and every
# `entry:` of pre-commit-config.yaml (read from the files with a YAML
# parser, not copied here) on a policy tree that passes, and on trees that
# fail in each way a step exists for: not canonical, a warning, a failing
# test, an unreadable tree.  Their outputs are the formats CI reads: SARIF,
# workflow annotations, JUnit XML.
. "$ROOT/tests/lib.sh"
plan 15

PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || bail_out "python3 with yaml" "no python3 with the yaml module (make deps installs python3-yaml)"
WF="$ROOT/examples/ci/github-actions.yml"
PC="$ROOT/examples/ci/pre-commit-config.yaml"
# The rlc steps of the workflow, "name<TAB>run" per line; and the hooks,
# "id<TAB>entry".  Each must be a single command line.
"$PY" - "$WF" "$PC" > "$T/cmds" <<'EOF' || bail_out "read the CI kit" "$(cat "$T/cmds")"
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
for job in wf["jobs"].values():
    for st in job["steps"]:
        if st.get("name", "").startswith("rlc "):
            assert "\n" not in st["run"].strip(), st["name"]
            print("step\t%s\t%s" % (st["name"], st["run"].strip()))
pc = yaml.safe_load(open(sys.argv[2]))
for repo in pc["repos"]:
    for h in repo["hooks"]:
        assert h["language"] == "system" and h["files"] == r"\.rlp$", h["id"]
        print("hook\t%s\t%s" % (h["id"], h["entry"]))
EOF
steps=$(grep -c '^step' "$T/cmds")
hooks=$(grep -c '^hook' "$T/cmds")
[ "$steps" = 4 ] && [ "$hooks" = 3 ] && ok "the kit has 4 rlc steps and 3 hooks, each one command" ||
    notok "the kit has 4 rlc steps and 3 hooks, each one command" "$(cat "$T/cmds")"

# rlc on PATH, as the workflow and hooks expect.
mkdir -p "$T/bin"
ln -s "$RLC" "$T/bin/rlc"
PATH="$T/bin:$PATH"

# step NAME DIR: runs the workflow step named NAME in DIR as the runner
# would (sh -e, POLICIES set as the workflow's env sets it); its exit in RC.
step() {
    cmd=$(awk -F'\t' -v n="$1" '$1 == "step" && $2 == n { print $3 }' "$T/cmds")
    [ -n "$cmd" ] || { RC=99; return; }
    (cd "$2" && POLICIES=policies/ sh -ec "$cmd" > out 2> err)
    RC=$?
}
# hook ID DIR FILE...: runs the hook's entry with FILE... as pre-commit does.
hook() {
    id=$1 dir=$2
    shift 2
    entry=$(awk -F'\t' -v n="$id" '$1 == "hook" && $2 == n { print $3 }' "$T/cmds")
    [ -n "$entry" ] || { RC=99; return; }
    # shellcheck disable=SC2086
    (cd "$dir" && $entry "$@" > out 2> err)
    RC=$?
}

# A tree that passes: the examples, and a policy with no tests (a hook on
# it must not fail for that).
G="$T/good"
mkdir -p "$G/policies/teams"
cp "$ROOT"/examples/*.rlp "$G/policies/"
mv "$G/policies/gateway.rlp" "$G/policies/teams/"
printf 'policy "plain" {\n  namespace = "plain"\n}\n\ntenant * {\n  limit 10/1s\n}\n' > "$G/policies/plain.rlp"

all_ok=""
for n in "rlc fmt --check" "rlc check" "rlc check (SARIF)" "rlc test"; do
    step "$n" "$G"
    [ "$RC" = 0 ] || all_ok="$all_ok $n: exit $RC ($(cat "$G/err"));"
done
[ -z "$all_ok" ] && ok "every workflow step passes on a clean tree" ||
    notok "every workflow step passes on a clean tree" "$all_ok"

step "rlc check (SARIF)" "$G"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0" and len(d["runs"]) == 1
assert d["runs"][0]["results"] == [], d["runs"][0]["results"]
' "$G/rlc.sarif" 2> "$T/py.err" && ok "clean tree: rlc.sarif is one SARIF 2.1.0 run with no results" ||
    notok "clean tree: rlc.sarif is one SARIF 2.1.0 run with no results" "$(cat "$T/py.err")"

step "rlc test" "$G"
got=$("$PY" -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
files = {c.get("file") for c in r.iter("testcase")}
print(r.tag, int(r.get("tests")) > 20, r.get("failures"), sorted(f.split("/")[-1] for f in files))
' "$G/rlc-junit.xml" 2>&1)
[ "$got" = "testsuites True 0 ['gateway.rlp', 'org-hierarchy.rlp', 'saas.rlp']" ] &&
    ok "clean tree: rlc-junit.xml holds the tests of every policy under policies/, none failed" ||
    notok "clean tree: rlc-junit.xml holds the tests of every policy under policies/, none failed" "$got"

all_ok=""
for h in rlc-fmt rlc-check rlc-test; do
    hook "$h" "$G" policies/saas.rlp policies/plain.rlp policies/teams/gateway.rlp
    [ "$RC" = 0 ] || all_ok="$all_ok $h: exit $RC ($(cat "$G/err"));"
done
[ -z "$all_ok" ] && ok "every hook passes on clean files, one without tests among them" ||
    notok "every hook passes on clean files, one without tests among them" "$all_ok"

hook rlc-test "$G" policies/plain.rlp
[ "$RC" = 0 ] && ok "the rlc-test hook passes a commit that changes only a policy without tests" ||
    notok "the rlc-test hook passes a commit that changes only a policy without tests" \
        "exit $RC: $(cat "$G/err")"

# Not canonical: fmt --check fails and names the file; the hook too.
B="$T/fmt"
mkdir -p "$B/policies"
printf 'policy "p" { namespace = "p" }\ntenant * { limit 10/1s }\n' > "$B/policies/ugly.rlp"
step "rlc fmt --check" "$B"
[ "$RC" = 1 ] && grep -q 'policies/ugly.rlp' "$B/out" &&
    ok "a file not in canonical form fails the fmt step and is named" ||
    notok "a file not in canonical form fails the fmt step and is named" "exit $RC: $(cat "$B/out" "$B/err")"
hook rlc-fmt "$B" policies/ugly.rlp
[ "$RC" = 1 ] && ok "... and the rlc-fmt hook" || notok "... and the rlc-fmt hook" "exit $RC"

# A warning: -Werror fails the annotation step, with a ::warning line at
# the file; the SARIF step still succeeds and carries the result.
W="$T/warn"
mkdir -p "$W/policies"
cp "$G/policies/plain.rlp" "$W/policies/"
printf 'policy "w" {\n  namespace = "w"\n}\n\ntenant "idle" {}\n' > "$W/policies/warn.rlp"
step "rlc check" "$W"
[ "$RC" = 1 ] && grep -q '^::warning file=policies/warn.rlp,line=5,' "$W/out" &&
    ok "a warning fails the check step under -Werror, annotated at its line" ||
    notok "a warning fails the check step under -Werror, annotated at its line" \
        "exit $RC: $(cat "$W/out" "$W/err")"
step "rlc check (SARIF)" "$W"
got=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([(r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
       for r in d["runs"][0]["results"]])
' "$W/rlc.sarif" 2>&1)
[ "$RC" = 0 ] && [ "$got" = "[('warning', 'policies/warn.rlp')]" ] &&
    ok "the SARIF step uploads findings: exit 0, the warning in rlc.sarif" ||
    notok "the SARIF step uploads findings: exit 0, the warning in rlc.sarif" "exit $RC: $got"
# An error: check exits 1, and the SARIF step still uploads it.
printf 'policy "e" {\n  namespace = "e"\n}\n\ntenant * {\n  limit 10/1q\n}\n' > "$W/policies/error.rlp"
step "rlc check (SARIF)" "$W"
got=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted((r["level"], r["ruleId"]) for r in d["runs"][0]["results"]))
' "$W/rlc.sarif" 2>&1)
[ "$RC" = 0 ] && [ "$got" = "[('error', 'RLC0009'), ('warning', 'RLC2301')]" ] &&
    ok "with an error (rlc exits 1) the SARIF step still succeeds and uploads it" ||
    notok "with an error (rlc exits 1) the SARIF step still succeeds and uploads it" "exit $RC: $got"
rm "$W/policies/error.rlp"
hook rlc-check "$W" policies/warn.rlp policies/plain.rlp
[ "$RC" = 1 ] && ok "... and the rlc-check hook fails on it" || notok "... and the rlc-check hook fails on it" "exit $RC"

# A failing test: the test step fails and JUnit names the assertion.
F="$T/failing"
mkdir -p "$F/policies"
cat > "$F/policies/t.rlp" <<'EOF'
policy "t" {
  namespace = "t"
}
tenant * {
  limit 10/1s
}
test "ten a second" {
  request tenant "a"
  send 20 expect allowed 20
}
EOF
step "rlc test" "$F"
got=$("$PY" -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
f = [(c.get("classname"), c.get("line"), c.find("failure").get("message"))
     for c in r.iter("testcase") if c.find("failure") is not None]
print(r.get("failures"), f)
' "$F/rlc-junit.xml" 2>&1)
[ "$RC" = 1 ] &&
    [ "$got" = "1 [('ten a second', '9', 'expected 20 allowed, got 10 (10 allowed, 10 rejected)')]" ] &&
    ok "a failing test fails the test step; JUnit has the failure with its numbers" ||
    notok "a failing test fails the test step; JUnit has the failure with its numbers" "exit $RC: $got"
hook rlc-test "$F" policies/t.rlp
[ "$RC" = 1 ] && ok "... and the rlc-test hook" || notok "... and the rlc-test hook" "exit $RC"

# Nothing to read (rlc exits 2): the SARIF step must fail rather than
# upload nothing.
E="$T/empty"
mkdir -p "$E/policies"
step "rlc check (SARIF)" "$E"
[ "$RC" != 0 ] && grep -q "error\[RLC0001\]: cannot read 'policies/': no .rlp file in this directory" "$E/err" &&
    ok "an empty policies/ fails the SARIF step instead of uploading nothing" ||
    notok "an empty policies/ fails the SARIF step instead of uploading nothing" \
        "exit $RC: $(cat "$E/err")"
