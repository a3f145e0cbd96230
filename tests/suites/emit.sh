#!/bin/sh
# emit.sh - the emit targets (SPEC.md 9): rlc run writes Envoy ratelimit's
# and Limitador's YAML from examples/envoy-edge.rlp; the files have the
# fields those services read, in the mapping `rlc import` reads back
# (loaded with PyYAML, checked field by field); re-apply writes nothing;
# rollback restores the previous file, and its absence; status sees a hand
# edit; a construct the formats cannot carry fails compile with its code;
# limits a request meets at two levels are written with a warning.
# (tests/suites/roundtrip.sh runs the corpus through import and emit.)
# (owner: emit)
. "$ROOT/tests/lib.sh"
plan 17
python3 -c "import yaml" 2>/dev/null || bail_out "python3 with PyYAML" "apt-get install python3-yaml"
export RLC_STATE_DIR="$T/state"
OUT="$T/out"; mkdir -p "$OUT"
sed -e "s#/etc/ratelimit/config/edge.yaml#$OUT/envoy.yaml#" \
    -e "s#/etc/limitador/limits.yaml#$OUT/limits.yaml#" "$ROOT/examples/envoy-edge.rlp" > "$T/a.rlp"
sed -e 's#limit 100/1m#limit 2000/1m#' "$T/a.rlp" > "$T/b.rlp"
"$RLC" compile -q "$T/a.rlp" -o "$T/A.json" && "$RLC" compile -q "$T/b.rlp" -o "$T/B.json" ||
    bail_out "compile the example" "see stderr"

"$RLC" run -q "$T/A.json" 2> "$T/err"; r=$?
check "run: exit 0, both files written" eval '[ $r -eq 0 ] && [ -s "$OUT/envoy.yaml" ] && [ -s "$OUT/limits.yaml" ]'

# The structure the services read, field by field, as PyYAML loads it.
cat > "$T/fields.py" <<'EOF'
import re, sys, yaml
kind, path = sys.argv[1], sys.argv[2]
doc = yaml.safe_load(open(path))
units = {'second', 'minute', 'hour', 'day'}
def envoy(d):
    assert set(d) <= {'key', 'value', 'rate_limit', 'shadow_mode', 'descriptors'}, d
    assert isinstance(d['key'], str) and d['key'] not in ('tenant', 'group', 'key'), d
    if 'rate_limit' in d:
        rl = d['rate_limit']
        assert set(rl) == {'unit', 'requests_per_unit'} and rl['unit'] in units, rl
        assert isinstance(rl['requests_per_unit'], int) and rl['requests_per_unit'] > 0
    for c in d.get('descriptors', []):
        envoy(c)
if kind == 'envoy':
    assert set(doc) == {'domain', 'descriptors'} and doc['domain'] == sys.argv[3], doc
    for d in doc['descriptors']:
        envoy(d)
    print(' '.join(d['key'] + ('=' + d['value'] if 'value' in d else '') for d in doc['descriptors']))
else:
    assert isinstance(doc, list) and doc
    for l in doc:
        assert set(l) == {'namespace', 'max_value', 'seconds', 'conditions', 'variables', 'name'}, l
        assert isinstance(l['max_value'], int) and isinstance(l['seconds'], int) and l['seconds'] > 0
        for c in l['conditions']:
            assert re.fullmatch(r"descriptors\[0\]\['\w+'\] == '[^']*'", c), c
        for v in l['variables']:
            assert re.fullmatch(r"descriptors\[0\]\['\w+'\]", v), v
    print(' '.join(sorted(set(l['namespace'] for l in doc))), len(doc))
EOF
cnt=$(python3 "$T/fields.py" envoy "$OUT/envoy.yaml" edge 2> "$T/perr"); r=$?
check "envoy file: domain edge (the domain setting's tenant), one entry per group's key, named as the policy names them" \
    eval '[ $r -eq 0 ] && [ "$cnt" = "api_key remote_address" ]'
cnt=$(python3 "$T/fields.py" limitador "$OUT/limits.yaml" 2> "$T/perr"); r=$?
check "limitador file: both tenants as namespaces, 4 limits, conditions NAME == 'V' and variables" \
    eval '[ $r -eq 0 ] && [ "$cnt" = "edge partners 4" ]'
check "envoy: key * is an entry without a value, its limit its rate_limit" \
    eval 'grep -A4 "^- key: \"api_key\"" "$OUT/envoy.yaml" | grep -q "requests_per_unit: 100$"'
check "limitador: key \"gold\" is a condition, key * a variable" eval \
    'grep -q "descriptors\[0\]\[.plan.\] == .gold." "$OUT/limits.yaml" && grep -q "^  - \"descriptors\[0\]\[.api_key.\]\"" "$OUT/limits.yaml"'
check "envoy: the other tenant is not in the domain's file" eval '! grep -q "plan" "$OUT/envoy.yaml"'
check "first line: the digest of the rest" eval \
    '[ "$(head -1 "$OUT/envoy.yaml" | sed "s/.*: //")" = "$(tail -n +2 "$OUT/envoy.yaml" | sha256sum | cut -c1-64)" ]'
cp "$OUT/envoy.yaml" "$T/envA"; cp "$OUT/limits.yaml" "$T/limA"

"$RLC" run -q --json "$T/A.json" > "$T/re.json"; r=$?
check "re-run writes nothing" eval '[ $r -eq 0 ] && grep -q "\"keys_written\": *0[,}]" "$T/re.json"'
"$RLC" run -q "$T/B.json"; r=$?
check "run B: the new count in both files" eval \
    '[ $r -eq 0 ] && grep -q "requests_per_unit: 2000" "$OUT/envoy.yaml" && grep -q "max_value: 2000" "$OUT/limits.yaml"'
"$RLC" rollback > /dev/null 2>&1; r=$?
check "rollback restores the previous files exactly" eval \
    '[ $r -eq 0 ] && cmp -s "$OUT/envoy.yaml" "$T/envA" && cmp -s "$OUT/limits.yaml" "$T/limA"'
"$RLC" status "$T/A.json" > "$T/st"; r=$?
check "status: no drift" [ $r -eq 0 ]
sed -i 's/requests_per_unit: 10$/requests_per_unit: 99/' "$OUT/envoy.yaml"
"$RLC" status "$T/A.json" > "$T/st"; r=$?
check "status sees a hand edit (exit 6, changed since rlc wrote it)" eval \
    '[ $r -eq 6 ] && grep -q "envoy.yaml: changed since rlc wrote it" "$T/st"'

# A fresh state directory and no file yet: rollback removes the file.
OUT2="$T/out2"; mkdir -p "$OUT2"
sed -e "s#$OUT#$OUT2#" "$T/a.rlp" > "$T/c.rlp"
"$RLC" compile -q "$T/c.rlp" -o "$T/C.json" || bail_out "compile c" "see stderr"
RLC_STATE_DIR="$T/state2" "$RLC" run -q "$T/C.json" && [ -f "$OUT2/envoy.yaml" ] ||
    bail_out "run C" "see stderr"
RLC_STATE_DIR="$T/state2" "$RLC" rollback > /dev/null 2>&1; r=$?
check "rollback of the first deploy removes the files (they were absent)" eval \
    '[ $r -eq 0 ] && [ ! -e "$OUT2/envoy.yaml" ] && [ ! -e "$OUT2/limits.yaml" ]'

# Refused constructs fail compile with their code, and nothing is written.
printf 'tenant "x" {\n  limit 10/1m\n}\n' >> "$T/d.rlp"
cat "$T/a.rlp" "$T/d.rlp" > "$T/tb.rlp"
sed -i 's/default_algorithm = fixed_window/default_algorithm = token_bucket/' "$T/tb.rlp"
"$RLC" compile "$T/tb.rlp" -o "$T/TB.json" 2> "$T/err"; r=$?
check "token bucket: compile fails with RLC4051 at the limit, no plan" eval \
    '[ $r -eq 1 ] && grep -q "tb.rlp:[0-9]*:[0-9]*: error\[RLC4051\]" "$T/err" && [ ! -e "$T/TB.json" ]'
# Limits at two levels of one path: written, with RLC4062 for each format
# (the services count each limit on its own, rlc all or nothing).
cat > "$T/g.rlp" <<EOF
policy "g" { default_algorithm = fixed_window }
tenant "g" {
  group "user" {
    key * {
      limit 100/1m
      group "method" {
        key "POST" {
          limit 5/1s
        }
      }
    }
  }
}
target envoy_ratelimit "e" { output = "$OUT/g-envoy.yaml" }
target limitador "l" { output = "$OUT/g-lim.yaml" }
EOF
"$RLC" check "$T/g.rlp" 2> "$T/err"; r=$?
check "two levels of one path: rlc check exits 0 with RLC4062 once per format" eval \
    '[ $r -eq 0 ] && [ "$(grep -c "g.rlp:8:11: warning\[RLC4062\]: a request that meets this limit also meets another one; \(envoy_ratelimit\|limitador\) counts each on its own" "$T/err")" -eq 2 ]'
"$RLC" compile -q "$T/g.rlp" -o "$T/G.json" 2> /dev/null && "$RLC" run -q "$T/G.json" 2> /dev/null; r=$?
check "two levels of one path: both files written, the inner entry nested under key *" eval \
    '[ $r -eq 0 ] && grep -A8 "^- key: \"user\"" "$OUT/g-envoy.yaml" | grep -q "value: \"POST\"" && [ "$(grep -c max_value "$OUT/g-lim.yaml")" -eq 2 ]'
"$RLC" explain RLC4062 > "$T/ex"; r=$?
check "explain RLC4062 prints its page" eval '[ $r -eq 0 ] && grep -q "counts each" "$T/ex"'
