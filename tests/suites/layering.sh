#!/bin/sh
# layering.sh - dependencies point down only (SPEC.md section 1):
# cli -> compiler, runtime -> lang.  Checked on the #include "..." lines of
# every source file, against the headers each directory holds.
. "$ROOT/tests/lib.sh"
plan 3

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

layer_ok lang compiler runtime cli
layer_ok runtime compiler cli
layer_ok compiler runtime cli
