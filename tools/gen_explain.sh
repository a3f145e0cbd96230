#!/bin/sh
# gen_explain.sh - cuts every "### RLCnnnn title" section out of SPEC.md into
# a C table, so `rlc explain` prints exactly what the spec says.
set -eu
awk '
function flush() {
    if (code != "") {
        sub(/\n+$/, "", body)
        gsub(/\\/, "\\\\", body); gsub(/"/, "\\\"", body); gsub(/\n/, "\\n\"\n        \"", body)
        gsub(/\\/, "\\\\", title); gsub(/"/, "\\\"", title)
        printf "    {%d, \"%s\",\n        \"%s\"},\n", code + 0, title, body
    }
    code = ""; body = ""
}
BEGIN {
    print "/* generated from SPEC.md by tools/gen_explain.sh: do not edit */"
    print "#include \"embed.h\""
    print "const explain_page rlc_explain_pages[] = {"
    n = 0
}
/^#{1,3} / {
    flush()
    if (match($0, /^### RLC[0-9][0-9][0-9][0-9]/)) {
        code = substr($0, 8, 4)
        title = substr($0, 13)
        n++
        next
    }
}
{ if (code != "") body = body $0 "\n" }
END {
    flush()
    print "    {0, 0, 0}"
    print "};"
    printf "const size_t rlc_explain_count = %d;\n", n
}' "$1"
