#!/bin/sh
# sarif.sh - `rlc check --format=sarif` is a SARIF 2.1.0 log GitHub code
# scanning accepts: every required field present, one rule per code with
# descriptions and helpUri, results with ruleId/level/message, relative
# forward-slash URIs, regions inside the files, fingerprints; suppressed
# hazards carry their justification.
. "$ROOT/tests/lib.sh"
plan 6
cd "$T" || exit 2
mkdir -p pol/sub
cat > pol/main.rlp <<'EOF2'
import "sub/tiers.rlp"
policy "p" { max_clock_skew = 1s }
tenant "acme" tier base {
  allow RLC2006 "batch client, agreed with ops"
  limit 100/1m burst 500
  limit 1000/5m algorithm fixed_window
  key "ünï" { limit 50/5s }
}
tenant "beta" { }
target redis "r" { url = "redis://u:pw@h:1" }
EOF2
cat > pol/sub/tiers.rlp <<'EOF2'
tier base {
  limit 10/1s
  limit 1000000/1d
}
EOF2
"$RLC" check --format=sarif pol/main.rlp > out.sarif 2>err; rc=$?
[ $rc = 1 ] && ok "sarif/exit-status" || notok "sarif/exit-status" "exit $rc"
[ -s err ] && notok "sarif/stderr-empty" "$(head -c 200 err)" || ok "sarif/stderr-empty"
if python3 - out.sarif "$T" > py.out 2>&1 <<'EOF2'
import json, sys, os
log = json.load(open(sys.argv[1]))
root = sys.argv[2]
assert log["version"] == "2.1.0", log.get("version")
assert log["$schema"].startswith("https://") and "sarif-2.1.0" in log["$schema"]
assert len(log["runs"]) == 1
run = log["runs"][0]
drv = run["tool"]["driver"]
assert drv["name"] == "rlc" and drv["version"]
rules = drv["rules"]
ids = [r["id"] for r in rules]
assert len(ids) == len(set(ids))
for r in rules:
    assert r["id"].startswith("RLC") and len(r["id"]) == 7, r["id"]
    assert r["shortDescription"]["text"] and r["fullDescription"]["text"], r["id"]
    assert r["helpUri"].startswith("https://"), r["helpUri"]
    assert r["help"]["text"]
    assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
results = run["results"]
assert results, "no results"
lines = {}
def check_loc(loc):
    pl = loc["physicalLocation"]
    uri = pl["artifactLocation"]["uri"]
    assert not uri.startswith("/") and "\\" not in uri and "://" not in uri, uri
    assert not uri.startswith("./"), uri
    path = os.path.join(root, uri)
    assert os.path.isfile(path), uri
    text = open(path, encoding="utf-8").read().split("\n")
    reg = pl["region"]
    for k in ("startLine", "startColumn", "endLine", "endColumn"):
        assert isinstance(reg[k], int) and reg[k] >= 1, (k, reg)
    assert reg["startLine"] <= reg["endLine"] <= len(text), reg
    if reg["startLine"] == reg["endLine"]:
        assert reg["startColumn"] < reg["endColumn"], reg
    assert reg["startColumn"] <= len(text[reg["startLine"] - 1]) + 1, reg
    assert reg["endColumn"] <= len(text[reg["endLine"] - 1]) + 1, reg
    return uri, reg
seen = set()
for res in results:
    assert res["ruleId"] in ids
    assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    assert res["level"] in ("error", "warning", "note")
    assert res["message"]["text"]
    assert len(res["locations"]) == 1
    uri, reg = check_loc(res["locations"][0])
    for rl in res.get("relatedLocations", []):
        check_loc(rl)
        assert rl["message"]["text"]
    fp = res["partialFingerprints"]
    assert fp and all(isinstance(v, str) and v for v in fp.values())
    seen.add((res["ruleId"], uri, reg["startLine"], reg["startColumn"],
              "suppressions" in res))
def has(rule, uri, line, col, sup=False):
    assert (rule, uri, line, col, sup) in seen, (rule, uri, line, col, sorted(seen))
has("RLC2002", "pol/main.rlp", 6, 9)
has("RLC2102", "pol/main.rlp", 7, 21)          # after the non-ASCII key name
has("RLC2301", "pol/main.rlp", 9, 8)
has("RLC2303", "pol/main.rlp", 10, 26)
has("RLC2006", "pol/main.rlp", 5, 22, True)
dead = [r for r in results if r["ruleId"] == "RLC2002" and
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pol/sub/tiers.rlp"]
assert dead, "dead day limit in the tier file"
sup = [r for r in results if "suppressions" in r]
assert len(sup) == 1 and sup[0]["suppressions"][0]["justification"] == "batch client, agreed with ops"
assert sup[0]["suppressions"][0]["kind"] == "inSource"
EOF2
then ok "sarif/structure"; else notok "sarif/structure" "$(tail -n 3 py.out | tr '\n' ' ')"; fi

# Absolute paths inside the working directory become relative URIs.
"$RLC" check --format=sarif "$T/pol/main.rlp" > abs.sarif 2>/dev/null
if python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["results"]
uris = {l["physicalLocation"]["artifactLocation"]["uri"] for x in r for l in x["locations"]}
assert uris <= {"pol/main.rlp", "pol/sub/tiers.rlp"}, uris
' abs.sarif; then ok "sarif/absolute-paths-relative"; else notok "sarif/absolute-paths-relative" "$(head -c 300 abs.sarif)"; fi

# A clean policy is a log with no results, exit 0.
printf 'tenant "a" { limit 10/1s }\n' > clean.rlp
"$RLC" check --format=sarif clean.rlp > clean.sarif; rc=$?
if [ $rc = 0 ] && python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["version"] == "2.1.0" and l["runs"][0]["results"] == []
' clean.sarif; then ok "sarif/clean"; else notok "sarif/clean" "exit $rc"; fi

# Errors before the hazard passes (syntax) are SARIF too.
printf 'tenant "a" { limit 10/ }\n' > bad.rlp
"$RLC" check --format=sarif bad.rlp > bad.sarif; rc=$?
if [ $rc = 1 ] && python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["results"]
assert r and r[0]["ruleId"] == "RLC0010" and r[0]["level"] == "error", r
' bad.sarif; then ok "sarif/syntax-error"; else notok "sarif/syntax-error" "exit $rc"; fi
