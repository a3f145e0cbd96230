#!/bin/sh
# emit.sh - the emit targets (SPEC.md 9): rlc run writes Envoy ratelimit's
# and Limitador's YAML from examples/envoy-edge.rlp; the files have the
# fields those services read (loaded with PyYAML, checked field by field);
# re-apply writes nothing; rollback restores the
# previous file, and its absence; status sees a hand edit; a construct the
# formats cannot carry fails compile with its code.
# (owner: emit)
. "$ROOT/tests/lib.sh"
plan 15
python3 -c "import yaml" 2>/dev/null || bail_out "python3 with PyYAML" "apt-get install python3-yaml"
export RLC_STATE_DIR="$T/state"
OUT="$T/out"; mkdir -p "$OUT"
sed -e "s#/etc/ratelimit/config/edge.yaml#$OUT/envoy.yaml#" \
    -e "s#/etc/limitador/limits.yaml#$OUT/limits.yaml#" "$ROOT/examples/envoy-edge.rlp" > "$T/a.rlp"
sed -e 's#limit 1000/1m#limit 2000/1m#' "$T/a.rlp" > "$T/b.rlp"
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
def envoy(d, depth):
    assert set(d) <= {'key', 'value', 'rate_limit', 'shadow_mode', 'descriptors'}, d
    assert d['key'] in ('tenant', 'group', 'key')
    if 'rate_limit' in d:
        rl = d['rate_limit']
        assert set(rl) == {'unit', 'requests_per_unit'} and rl['unit'] in units, rl
        assert isinstance(rl['requests_per_unit'], int) and rl['requests_per_unit'] > 0
    for c in d.get('descriptors', []):
        envoy(c, depth + 1)
if kind == 'envoy':
    assert set(doc) == {'domain', 'descriptors'} and doc['domain'] == sys.argv[3], doc
    for d in doc['descriptors']:
        envoy(d, 1)
    print(len(doc['descriptors']))
else:
    assert isinstance(doc, list) and doc
    for l in doc:
        assert set(l) == {'namespace', 'max_value', 'seconds', 'conditions', 'variables', 'name'}, l
        assert l['namespace'] == sys.argv[3]
        assert isinstance(l['max_value'], int) and isinstance(l['seconds'], int) and l['seconds'] > 0
        for c in l['conditions']:
            assert re.fullmatch(r"descriptors\[0\]\['(tenant|group|key)'\] (==|!=) '.*'", c), c
        for v in l['variables']:
            assert re.fullmatch(r"descriptors\[0\]\['(tenant|group|key)'\]", v), v
    print(len(doc))
EOF
cnt=$(python3 "$T/fields.py" envoy "$OUT/envoy.yaml" edge 2> "$T/perr"); r=$?
check "envoy file: domain edge, descriptors of tenant/group/key with units the service knows" \
    eval '[ $r -eq 0 ] && [ "$cnt" = 2 ]'
cnt=$(python3 "$T/fields.py" limitador "$OUT/limits.yaml" edge 2> "$T/perr"); r=$?
check "limitador file: 4 limits with namespace, max_value, seconds, conditions, variables, name" \
    eval '[ $r -eq 0 ] && [ "$cnt" = 4 ]'
check "envoy: the listed key overrides key * with a value of its own" \
    eval 'grep -A3 "value: \"etl-nightly\"" "$OUT/envoy.yaml" | grep -q "requests_per_unit: 1000"'
check "limitador: key * leaves the listed key out with a != condition" \
    grep -q "descriptors\[0\]\['key'\] != 'etl-nightly'" "$OUT/limits.yaml"
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
printf 'tenant "y" {\n  limit 10/1m algorithm fixed_window\n  key * {\n    limit 1/1s algorithm fixed_window\n  }\n}\n' > "$T/e.rlp"
sed -e 's/default_algorithm = fixed_window/default_algorithm = token_bucket/' "$T/a.rlp" |
    grep -v '^ *limit' > "$T/f.rlp"; cat "$T/e.rlp" >> "$T/f.rlp"
"$RLC" check "$T/f.rlp" 2> "$T/err"; r=$?
check "two levels of one path: rlc check reports RLC4056 for each format" eval \
    '[ $r -eq 1 ] && [ "$(grep -c "error\[RLC4056\]" "$T/err")" -eq 2 ]'
"$RLC" explain RLC4056 > "$T/ex"; r=$?
check "explain RLC4056 prints its page" eval '[ $r -eq 0 ] && grep -q "counts each descriptor" "$T/ex"'
