#!/bin/sh
# readme_tour.sh - the README's tour is true: every ```sh block that is
# followed by a ```text block is run (in order, in one scratch directory,
# with the built rlc on PATH), and its output, stdout and stderr together,
# must be exactly the text block.
. "$ROOT/tests/lib.sh"

mkdir -p "$T/bin" "$T/blocks" "$T/tour"
ln -s "$RLC" "$T/bin/rlc"

# NNN.sh / NNN.text files, numbered in order of appearance.
awk -v dir="$T/blocks" '
/^```/ {
    if (out != "") { close(out); out = ""; infence = 0; next }
    if (infence) { infence = 0; next }
    infence = 1
    kind = substr($0, 4)
    if (kind == "sh" || kind == "text") {
        n++
        out = sprintf("%s/%03d.%s", dir, n, kind)
        printf "" > out
    }
    next
}
out != "" { print > out }
' "$ROOT/README.md"

ran=0
for f in "$T"/blocks/*.sh; do
    [ -e "$f" ] || continue
    num=$(basename "$f" .sh | sed 's/^0*//')
    next=$(printf '%03d' $((num + 1)))
    want="$T/blocks/$next.text"
    [ -e "$want" ] || continue
    ran=$((ran + 1))
    name="README tour step $ran: $(head -1 "$f" | cut -c1-50)"
    (cd "$T/tour" && PATH="$T/bin:$PATH" NO_COLOR=1 sh "$f" >"$T/got" 2>&1)
    if cmp -s "$T/got" "$want"; then
        ok "$name"
    else
        notok "$name" "output differs: $(diff "$want" "$T/got" | head -6 | tr '\n' ' ')"
    fi
done
[ $ran -ge 4 ] && ok "README tour has its steps" || notok "README tour has its steps" "ran $ran"
