#!/bin/sh
# examples_check.sh - every policy in examples/ is a clean, canonical,
# realistic policy: `rlc check` reports nothing (each file is its own
# policy), `rlc fmt --check` finds it canonical, and the SaaS example keeps
# the 20+ tenants the README promises.
. "$ROOT/tests/lib.sh"

n=0
for f in "$ROOT"/examples/*.rlp; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    name=$(basename "$f")
    if "$RLC" check "$f" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then
        ok "examples: $name checks clean"
    else
        notok "examples: $name checks clean" "$(head -5 "$T/out" | tr '\n' ' ')"
    fi
    if "$RLC" fmt --check "$f" >"$T/out" 2>&1; then
        ok "examples: $name is fmt-canonical"
    else
        notok "examples: $name is fmt-canonical" "rlc fmt would change it"
    fi
done
[ $n -ge 3 ] && ok "examples: at least three policies" || notok "examples: at least three policies" "found $n"

tenants=$(grep -c '^tenant ' "$ROOT/examples/saas.rlp")
[ "$tenants" -ge 20 ] && ok "examples: saas.rlp has 20+ tenants" \
    || notok "examples: saas.rlp has 20+ tenants" "found $tenants"
# The README's main command, run as the README says.
if (cd "$ROOT" && RLC="$RLC" sh ./run-demo.sh >"$T/demo" 2>&1); then
    ok "examples: run-demo.sh passes"
else
    notok "examples: run-demo.sh passes" "$(tail -3 "$T/demo" | tr '\n' ' ')"
fi
