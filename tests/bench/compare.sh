#!/bin/sh
# compare.sh - two bench reports side by side: every figure of NEW that
# OLD also has (same bench script and name), its two values, NEW/OLD and
# the load each was taken at.  Reads the files report.sh writes (one
# figure per line).
#
#   sh tests/bench/compare.sh OLD.json NEW.json
set -u
[ $# -eq 2 ] || { echo "usage: compare.sh OLD.json NEW.json" >&2; exit 2; }
for f in "$1" "$2"; do
    [ -r "$f" ] || { echo "compare: cannot read $f" >&2; exit 2; }
done
awk '
    # field(line, key): the raw value of "key": in one figure line.
    function field(s, k,    i, rest, m) {
        i = index(s, "\"" k "\":")
        if (!i) return ""
        rest = substr(s, i + length(k) + 3)
        if (substr(rest, 1, 1) == "\"") {
            if (match(rest, /^"([^"\\]|\\.)*"/)) return substr(rest, 2, RLENGTH - 2)
            return ""
        }
        match(rest, /^[^,}]*/)
        return substr(rest, 1, RLENGTH)
    }
    # The names report.sh writes escape only quotes and backslashes.
    function unescape(s,    out, i, ch) {
        out = ""
        for (i = 1; i <= length(s); i++) {
            ch = substr(s, i, 1)
            if (ch == "\\" && i < length(s)) { i++; ch = substr(s, i, 1) }
            out = out ch
        }
        return out
    }
    FNR == 1 { file++ }
    /"bench":/ {
        k = field($0, "bench") " | " unescape(field($0, "name"))
        if (file == 1) { old[k] = field($0, "value"); oload[k] = field($0, "load") }
        else { keys[++n] = k; new[k] = field($0, "value"); nload[k] = field($0, "load"); unit[k] = field($0, "unit") }
    }
    /"commit":/ { c[file] = substr(field($0, "commit"), 1, 12) }
    END {
        printf "%-70s %12s %12s %8s  %s\n", "figure (" c[1] " -> " c[2] ")", "old", "new", "new/old", "load"
        for (i = 1; i <= n; i++) {
            k = keys[i]
            if (!(k in old)) continue
            r = (old[k] != "null" && old[k] + 0 != 0 && new[k] != "null") ? sprintf("%8.2f", new[k] / old[k]) : "       -"
            printf "%-70s %12s %12s %s  %s -> %s %s\n", substr(k, 1, 70), old[k], new[k], r, oload[k], nload[k], unit[k]
        }
    }' "$1" "$2"
