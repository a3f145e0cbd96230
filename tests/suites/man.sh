#!/bin/sh
# man.sh - the TARGETS section of the manual page doc/rlc.1 has a
# subsection (.SS KIND) for every target kind the compiler knows
# (target_kind_names in compiler/settings.c), nginx included, and none
# other; each lists (.TP / .B NAME) exactly the settings of that kind's
# schema in settings.c.  The verbs of the page are checked by cli.sh.
. "$ROOT/tests/lib.sh"
cd "$T" || exit 2
command -v python3 >/dev/null || { plan 1; skip "man/targets" "python3 is not installed"; exit 0; }

# compare PAGE: one line per kind, "KIND ok N" or "KIND missing ... extra ...",
# then a line "kinds ok" or "kinds missing ... extra ...".
compare() {
    python3 - "$ROOT/compiler/settings.c" "$1" <<'PY'
import re, sys
src = open(sys.argv[1], encoding="utf-8").read()
page = open(sys.argv[2], encoding="utf-8").read().split("\n")
kinds = re.findall(r'"([a-z_]+)"', re.search(r'target_kind_names\[[^]]*\]\s*=\s*\{([^}]*)\}', src).group(1))
# settings_schema entries: {"KIND target", NAME_specs, ...}
spec_of = dict(re.findall(r'\{"([a-z_]+) target",\s*([a-z_]+)\s*,', src))
settings = {}
for kind in kinds:
    body = re.search(r'setting_spec %s\[\]\s*=\s*\{(.*?)\n\};' % spec_of[kind], src, re.S).group(1)
    settings[kind] = re.findall(r'^\s*\{"([a-z_]+)",', body, re.M)
# The TARGETS section, split at .SS lines; a setting is ".B NAME" after ".TP".
sect, cur, got = False, None, {}
for i, line in enumerate(page):
    if line.startswith(".SH "):
        sect = line.strip() == ".SH TARGETS"
        cur = None
        continue
    if not sect:
        continue
    if line.startswith(".SS "):
        cur = line[4:].strip().strip('"')
        got.setdefault(cur, [])
    elif cur and i > 0 and page[i - 1].strip() == ".TP" and line.startswith(".B "):
        got[cur].append(line[3:].strip().strip('"'))
for kind in kinds:
    want, have = set(settings[kind]), set(got.get(kind, []))
    if kind not in got:
        print(kind, "no .SS %s subsection" % kind)
    elif want == have:
        print(kind, "ok", len(want))
    else:
        print(kind, "missing", " ".join(sorted(want - have)) or "-", "extra", " ".join(sorted(have - want)) or "-")
miss, extra = set(kinds) - set(got), set(got) - set(kinds)
print("kinds", "ok " + " ".join(kinds) if not miss and not extra and kinds else
      "missing %s extra %s" % (" ".join(sorted(miss)) or "-", " ".join(sorted(extra)) or "-"))
PY
}

compare "$ROOT/doc/rlc.1" > result 2> result.err
nkinds=$(grep -vc '^kinds ' result)
[ "$nkinds" -ge 1 ] || bail_out "man/parse" "could not read the kinds: $(head -c 300 result.err)"
plan $((nkinds + 2))

k=$(sed -n 's/^kinds //p' result)
case $k in
"ok "*) ok "man/target-kinds: a subsection per kind of compiler/settings.c: ${k#ok }" ;;
*) notok "man/target-kinds" "$k" ;;
esac
grep -v '^kinds ' result | while read -r kind rest; do
    case $rest in
    "ok "*) ok "man/target-settings $kind: the ${rest#ok } settings of its schema" ;;
    *) notok "man/target-settings $kind" "$rest" ;;
    esac
done

# The comparison fails on a page without the nginx subsection.
awk '/^\.SS nginx$/ { skip = 1; next } /^\.S[SH] / { skip = 0 } !skip' "$ROOT/doc/rlc.1" > stale.1
compare stale.1 > stale.result 2>&1
if grep -q '^kinds missing nginx ' stale.result && grep -q '^nginx no .SS nginx' stale.result; then
    ok "man/drift-detected: a page without .SS nginx fails the comparison"
else notok "man/drift-detected" "$(tr '\n' ' ' < stale.result)"; fi
