#!/bin/sh
# roundtrip.sh - import -> check -> compile -> run (emit) -> import again,
# for every file of the shared corpus: the emit targets' mapping (SPEC.md
# 9.1) is the inverse of the import's (8.2, 8.3), so the second import is
# the same policy as the first.  "The same policy" is compared as text:
# both imports are printed by rlc's canonical printer (rlc fmt --check
# accepts them), so with the comment lines taken out (they quote the file
# imported and what the import noted, which differ by design) equal text
# is equal names, order, nesting and limits.  The emitted file is also a
# fixed point: the second policy emits the same bytes.  A corpus file
# that cannot round-trip fails `rlc check` with exactly the codes that say
# why, and compile writes no plan.
# (owner: emit)
. "$ROOT/tests/lib.sh"

C="$ROOT/../shared/corpus"
[ -d "$C" ] || C=/work/shared/corpus
plan 12
export RLC_STATE_DIR="$T/state"

# target FORMAT NAME OUT: the emit target block for FORMAT writing OUT.
target() {
    case $1 in
    envoy) printf 'target envoy_ratelimit "%s" {\n  output = "%s"\n}\n' "$2" "$3" ;;
    limitador) printf 'target limitador "%s" {\n  output = "%s"\n}\n' "$2" "$3" ;;
    esac
}
# policy FILE: the policy without its comment lines.
policy() { grep -v '^ *#' "$1"; }
# codes FILE.rlp: the sorted distinct codes `rlc check` reports.
codes() {
    "$RLC" check --format=json "$1" 2>/dev/null |
        sed -n 's/^{"code":"\(RLC[0-9]*\)".*/\1/p' | sort -u | tr '\n' ' '
}

# rt FORMAT NAME WANT: the round trip of corpus file FORMAT/NAME.yaml, whose
# policy with the target reports exactly the codes WANT in rlc check.
rt() {
    fm=$1 n=$2 want=$3 d="$T/$2"
    mkdir -p "$d"
    if ! "$RLC" import "$fm" "$C/$fm/$n.yaml" -o "$d/a.rlp" 2> "$d/err"; then
        notok "roundtrip/$n" "first import: $(head -c 300 "$d/err")"; return
    fi
    { cat "$d/a.rlp"; target "$fm" out "$d/out.yaml"; } > "$d/a+t.rlp"
    got=$(codes "$d/a+t.rlp")
    if [ "$got" != "$want" ]; then
        notok "roundtrip/$n" "check reports '$got', want '$want'"; return
    fi
    if ! "$RLC" check -q "$d/a+t.rlp" 2> "$d/err" ||
       ! "$RLC" compile -q "$d/a+t.rlp" -o "$d/a.json" 2> "$d/err" ||
       ! "$RLC" run -q "$d/a.json" 2> "$d/err"; then
        notok "roundtrip/$n" "check/compile/run: $(head -c 300 "$d/err")"; return
    fi
    if ! "$RLC" import "$fm" "$d/out.yaml" -o "$d/b.rlp" 2> "$d/err"; then
        notok "roundtrip/$n" "second import: $(head -c 300 "$d/err")"; return
    fi
    policy "$d/a.rlp" > "$d/a.pol"; policy "$d/b.rlp" > "$d/b.pol"
    if ! cmp -s "$d/a.pol" "$d/b.pol"; then
        notok "roundtrip/$n" "policies differ: $(diff "$d/a.pol" "$d/b.pol" | head -c 400)"; return
    fi
    { cat "$d/b.rlp"; target "$fm" out "$d/out2.yaml"; } > "$d/b+t.rlp"
    if ! "$RLC" compile -q "$d/b+t.rlp" -o "$d/b.json" 2> "$d/err" ||
       ! RLC_STATE_DIR="$d/state2" "$RLC" run -q "$d/b.json" 2> "$d/err" ||
       ! cmp -s "$d/out.yaml" "$d/out2.yaml"; then
        notok "roundtrip/$n" "second emit differs: $(head -c 300 "$d/err")"; return
    fi
    ok "roundtrip/$n"
}

# RLC2003: import keeps Envoy's nested limits, which rlc sees never bind;
# RLC4062: the target counts them each on its own (a warning, SPEC 9.1).
rt envoy ratelimit-example "RLC2003 RLC4062 "
rt envoy ratelimit-basic-config "RLC2003 RLC4062 "
rt envoy gateway-multiple-rules ""
rt envoy tiered-auth-token ""
rt envoy postgres-wildcards ""
rt limitador sandbox-limits "RLC2002 RLC4062 "
rt limitador examples-limits "RLC4062 "
rt limitador stacked-windows "RLC4062 "

# month and year were imported as 30d and 365d fixed windows and go back
# as month and year, with a warning each (RLC4069: Envoy's are calendar
# units).
rt envoy gateway-month-year "RLC4069 "
d="$T/my"; mkdir -p "$d"
"$RLC" import envoy "$C/envoy/gateway-month-year.yaml" -o "$d/a.rlp" 2> /dev/null
{ cat "$d/a.rlp"; target envoy out "$d/out.yaml"; } > "$d/a+t.rlp"
"$RLC" check "$d/a+t.rlp" 2> "$d/err"; r=$?
check "roundtrip/gateway-month-year: both windows located (30d and 365d), exit 0" eval \
    '[ $r -eq 0 ] && [ "$(grep -c "warning\[RLC4069\]: written as unit \(month\|year\)" "$d/err")" -eq 2 ]'
"$RLC" compile -q "$d/a+t.rlp" -o "$d/a.json" 2> /dev/null && RLC_STATE_DIR="$d/st" "$RLC" run -q "$d/a.json" 2> /dev/null
check "roundtrip/gateway-month-year: the file says month and year" eval \
    'grep -q "unit: month" "$d/out.yaml" && grep -q "unit: year" "$d/out.yaml"'

# The same file to Limitador: whole seconds, so it round-trips there.
{ cat "$d/a.rlp"; target limitador out "$d/lim.yaml"; } > "$d/l+t.rlp"
"$RLC" compile -q "$d/l+t.rlp" -o "$d/l.json" 2> /dev/null && "$RLC" run -q "$d/l.json" 2> /dev/null &&
    "$RLC" import limitador "$d/lim.yaml" -o "$d/l.rlp" 2> /dev/null
"$RLC" check -q "$d/l.rlp" 2> /dev/null; r=$?
check "roundtrip/gateway-month-year to limitador: the 30d and 365d limits come back" eval \
    '[ $r -eq 0 ] && grep -q "limit 5/2592000s algorithm fixed_window" "$d/l.rlp" && grep -q "limit 1/31536000s algorithm fixed_window" "$d/l.rlp"'
