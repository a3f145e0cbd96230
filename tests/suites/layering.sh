#!/bin/sh
# layering.sh - dependencies point down only (SPEC.md section 1):
# base <- lang <- plan <- compiler, runtime <- cli, and compiler and runtime
# never include each other.  Checked on the #include "..." lines of every
# source file, against the headers each directory holds.
. "$ROOT/tests/lib.sh"
plan 6

headers_of() { (cd "$ROOT/$1" 2>/dev/null && ls *.h 2>/dev/null); }

# includes_from DIR LAYER: files of DIR that include a header of LAYER
includes_from() {
    for h in $(headers_of "$2"); do
        grep -l "^#include \"$h\"" "$ROOT/$1"/*.[chly] 2>/dev/null
    done | sort -u | sed "s|$ROOT/||" | tr '\n' ' '
}

layer_ok() {
    # layer_ok DIR FORBIDDEN...
    d=$1; shift
    bad=""
    for f in "$@"; do bad="$bad$(includes_from "$d" "$f")"; done
    if [ -z "$bad" ]; then ok "layering: $d/ includes nothing from $*"
    else notok "layering: $d/ includes nothing from $*" "$bad"; fi
}

layer_ok base lang plan compiler runtime cli
layer_ok lang plan compiler runtime cli
layer_ok plan compiler runtime cli
layer_ok runtime compiler cli
layer_ok compiler runtime cli

# A directory of sources that the rules above do not name would be outside
# them; the layers are exactly these.
known=" base lang plan compiler runtime cli stdlib tools tests examples doc build "
stray=""
for d in "$ROOT"/*/; do
    n=$(basename "$d")
    case "$known" in *" $n "*) continue ;; esac
    ls "$d"*.[ch] >/dev/null 2>&1 && stray="$stray $n"
done
if [ -z "$stray" ]; then ok "layering: every source directory is a known layer"
else notok "layering: every source directory is a known layer" "unknown:$stray"; fi
