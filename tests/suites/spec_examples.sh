#!/bin/sh
# spec_examples.sh - every example in SPEC.md does what the text says.
#
# Under a "### RLCnnnn" heading:
#   ```rlp    the block, saved as example.rlp, makes `rlc check` report RLCnnnn
#             (other codes it reports must be warnings, so an example cannot
#             hide a second error);
#   ```sh     the block, run by sh in an empty directory with rlc on PATH,
#             prints [RLCnnnn] (for inputs a code block cannot hold: NUL
#             bytes, huge files, several files).
# Anywhere:
#   ```rlp-ok the block checks clean: exit 0, no diagnostic at all; and
#             when it has test blocks, `rlc test` passes them all.
#   ```sh-ok  the block, run by `sh -e` in an empty directory with rlc on
#             PATH, exits 0: it checks a figure the prose states (a bound,
#             a range) against what rlc prints, so no number in the text
#             can drift from the code.
# Also: every RLC0xxx/RLC1xxx code of lang/diag_codes.def has at least one
# rlp or sh example.
. "$ROOT/tests/lib.sh"

SPEC="$ROOT/SPEC.md"
mkdir -p "$T/bin" "$T/blocks"
ln -s "$RLC" "$T/bin/rlc"

# Cut the blocks into files: NNN.KIND.CODE (CODE is the enclosing section's
# code, or "none").
awk -v dir="$T/blocks" '
BEGIN { code = "none" }
/^```/ {
    if (infence) {
        infence = 0
        if (out != "") close(out)
        out = ""
        next
    }
    infence = 1
    kind = substr($0, 4)
    if (kind == "rlp" || kind == "rlp-ok" || kind == "sh" || kind == "sh-ok") {
        n++
        out = sprintf("%s/%03d.%s.%s", dir, n, kind, code)
        printf "" > out
    }
    next
}
infence { if (out != "") print > out; next }
/^##?#? / {
    code = "none"
    if (match($0, /^### RLC[0-9][0-9][0-9][0-9]/)) code = substr($0, 5, 7)
}
' "$SPEC"

# A case per block, one for the code coverage.
nblocks=$(ls "$T"/blocks | wc -l)
[ "$nblocks" -gt 0 ] || bail_out "spec examples" "no example blocks found in SPEC.md"
plan $((nblocks + 1))

codes_of() {
    # JSON lines on stdin -> "CODE SEVERITY" lines
    sed -n 's/^{"code":"\(RLC[0-9]*\)","severity":"\([a-z]*\)".*/\1 \2/p'
}

for f in "$T"/blocks/*; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    kind=$(echo "$base" | cut -d. -f2)
    code=$(echo "$base" | cut -d. -f3)
    line=$(head -1 "$f" | cut -c1-40)
    name="spec example $base ($line)"
    d="$T/run-$base"
    mkdir -p "$d"
    case "$kind" in
    rlp-ok)
        cp "$f" "$d/example.rlp"
        (cd "$d" && "$RLC" check --format=json example.rlp >out 2>err)
        rc=$?
        if [ $rc -ne 0 ] || [ -s "$d/out" ]; then
            notok "$name" "expected clean, got exit $rc: $(head -3 "$d/out" "$d/err" | tr '\n' ' ')"
        elif grep -q '^test ' "$d/example.rlp" &&
             ! (cd "$d" && "$RLC" test example.rlp >tout 2>&1); then
            notok "$name" "its tests fail: $(grep -v '^ok' "$d/tout" | head -3 | tr '\n' ' ')"
        else ok "$name"; fi
        ;;
    rlp)
        if [ "$code" = none ]; then notok "$name" "rlp block outside a ### RLCnnnn section"; continue; fi
        cp "$f" "$d/example.rlp"
        (cd "$d" && "$RLC" check --format=json example.rlp >out 2>err)
        codes_of < "$d/out" > "$d/codes"
        if ! grep -q "^$code " "$d/codes"; then
            notok "$name" "expected $code, got: $(tr '\n' ' ' < "$d/codes") $(head -c 300 "$d/err")"
        elif grep -v "^$code " "$d/codes" | grep -q ' error$'; then
            notok "$name" "besides $code also: $(tr '\n' ' ' < "$d/codes")"
        else
            ok "$name"
        fi
        ;;
    sh-ok)
        (cd "$d" && PATH="$T/bin:$PATH" sh -e "$f" >out 2>&1)
        rc=$?
        if [ $rc -eq 0 ]; then ok "$name"
        else notok "$name" "exit $rc: $(tail -c 300 "$d/out" | tr '\n' ' ')"; fi
        ;;
    sh)
        if [ "$code" = none ]; then notok "$name" "sh block outside a ### RLCnnnn section"; continue; fi
        (cd "$d" && PATH="$T/bin:$PATH" sh "$f" >out 2>&1)
        if grep -q "\[$code\]" "$d/out"; then ok "$name"
        else notok "$name" "expected [$code] in output: $(head -c 300 "$d/out" | tr '\n' ' ')"; fi
        ;;
    esac
done

# Every code of sections 0xxx and 1xxx has an example.
missing=""
for c in $(sed -n 's/^X(\([0-9]*\),.*/\1/p' "$ROOT/lang/diag_codes.def"); do
    [ "$c" -lt 2000 ] || continue
    code=$(printf 'RLC%04d' "$c")
    ls "$T"/blocks/*."$code" >/dev/null 2>&1 || missing="$missing $code"
done
if [ -z "$missing" ]; then ok "every RLC0xxx/RLC1xxx code has an example in SPEC.md"
else notok "every RLC0xxx/RLC1xxx code has an example in SPEC.md" "missing:$missing"; fi
