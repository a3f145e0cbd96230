#!/bin/sh
# gen_explain.sh - cuts every "### RLCnnnn title" section out of SPEC.md into
# a C table, so `rlc explain` prints exactly what the spec says.
#
# A section runs to the next heading of level 1 to 3 outside a code block
# (a "# comment" inside an example is not a heading).  For the terminal,
# blank lines at either end are dropped, fence lines are removed and the
# code they enclosed is indented by four spaces; the rest is kept as written.
set -eu
awk '
# C string literal body: escaping character by character, because awks
# disagree about backslashes in gsub replacements; "?" is escaped so that
# no trigraph can form under -std=c11.
function cstr(s,    out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\") out = out "\\\\"
        else if (c == "\"") out = out "\\\""
        else if (c == "?") out = out "\\?"
        else if (c == "\n") out = out "\\n\"\n        \""
        else out = out c
    }
    return out
}
function flush() {
    if (code != "") {
        sub(/^\n+/, "", body)
        sub(/\n+$/, "", body)
        printf "    {%d, \"%s\",\n        \"%s\"},\n", code + 0, cstr(title), cstr(body)
    }
    code = ""; body = ""
}
BEGIN {
    print "/* generated from SPEC.md by tools/gen_explain.sh: do not edit */"
    print "#include \"embed.h\""
    print "const explain_page rlc_explain_pages[] = {"
    n = 0
}
/^```/ { infence = !infence; next }
infence { if (code != "") body = body ($0 == "" ? "" : "    " $0) "\n"; next }
/^##?#? / {
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
