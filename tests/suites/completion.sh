#!/bin/sh
# completion.sh - the bash completion (packaging/completion/rlc.bash): it
# offers exactly the verbs of `rlc --help` and, for each verb, exactly the
# options and sub-words its `rlc VERB --help` lists, so neither side can
# change without the other; option values, diagnostic codes, and .rlp /
# .json files for file arguments.  The completion function is called as
# bash calls it, with COMP_WORDS and COMP_CWORD set.
. "$ROOT/tests/lib.sh"
COMP="$ROOT/packaging/completion/rlc.bash"
command -v bash >/dev/null || { plan 1; skip "completion" "bash is not installed"; exit 0; }
cd "$T" || exit 2
PATH="$(dirname "$RLC"):$PATH"
export PATH

# verbs_of: the verbs an `rlc --help` on stdin lists.
verbs_of() { awk '/^verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on { on = 0 }'; }
# opts_of: the options a `rlc VERB --help` on stdin lists: every option of
# its usage lines, and the options that start a column of an indented line
# starting with '-' ("-o, --output=FILE  ...", "--tenant NAME  --path PATH").
opts_of() {
    awk '
    /^usage: rlc |^       rlc / {
        s = $0
        while (match(s, /(^|[[ ,(|])--?[A-Za-z][A-Za-z-]*/)) {
            t = substr(s, RSTART, RLENGTH); sub(/^[[ ,(|]/, "", t); print t
            s = substr(s, RSTART + RLENGTH)
        }
        next
    }
    /^ +-/ {
        n = split($0, f, /  +/)
        for (i = 1; i <= n; i++) {
            if (f[i] !~ /^-/) continue
            m = split(f[i], p, /, /)
            for (j = 1; j <= m; j++)
                if (match(p[j], /^--?[A-Za-z][A-Za-z-]*/)) print substr(p[j], 1, RLENGTH)
        }
    }' | sort -u
}
# subwords_of: the fixed words a usage line puts right after the verb
# ("rlc import envoy|limitador", "rlc plan show").
subwords_of() {
    awk '$1 == "usage:" && $2 == "rlc" { w = $4 } $1 == "rlc" { w = $3 }
         ($1 == "usage:" || $1 == "rlc") && w ~ /^[a-z][a-z|]*$/ { n = split(w, p, "|"); for (i = 1; i <= n; i++) print p[i] }
         { w = "" }' | sort -u
}
# comp [-f FILE] WORD...: what the completion offers for these words, the
# last one being completed; one per line, sorted.
comp() {
    f=$COMP
    if [ "$1" = -f ]; then f=$2; shift 2; fi
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rlc; printf "%s\n" "${COMPREPLY[@]}"' \
        sh "$f" "$@" 2>>"$T/comp.err" | grep -v '^$' | sort
}

"$RLC" --help > help.txt 2>/dev/null
verbs_of < help.txt > verbs
[ -s verbs ] || bail_out "completion/verbs" "rlc --help lists no verbs"
nverbs=$(wc -l < verbs)
plan $((11 + nverbs))

c=$(bash -c '. "$1" && complete -p rlc' sh "$COMP" 2>&1)
if [ "$c" = "complete -F _rlc rlc" ]; then ok "completion/registered: $c"
else notok "completion/registered" "complete -p says '$c'"; fi

# Verbs: exactly those of rlc --help, plus the global options.
{ cat verbs; printf -- '--help\n--version\n'; } | sort > want
comp rlc '' > got
if cmp -s want got; then ok "completion/verbs: the $nverbs verbs of rlc --help"
else notok "completion/verbs" "$(diff want got | grep '^[<>]' | tr '\n' ' ')"; fi

# check_opts FILE VERB: the options the completion FILE offers after VERB
# are those of rlc VERB --help; prints the difference.
check_opts() {
    "$RLC" "$2" --help 2>/dev/null | opts_of > "want.$2"
    comp -f "$1" rlc "$2" - | sed 's/=$//' | sort -u > "got.$2"
    diff "want.$2" "got.$2" | sed -n 's/^< /missing /p; s/^> /extra /p' | tr '\n' ' '
}
while read -r v; do
    d=$(check_opts "$COMP" "$v")
    if [ -z "$d" ]; then ok "completion/options $v: $(wc -l < "want.$v" | tr -d ' ') options, as rlc $v --help lists them"
    else notok "completion/options $v" "against rlc $v --help: $d"; fi
done < verbs

# The comparison fails when the completion lacks an option the help lists.
sed 's/ --report / /' "$COMP" > stale.bash
d=$(check_opts stale.bash check)
if [ "$d" = "missing --report " ]; then ok "completion/drift-detected: a completion without check --report fails the comparison"
else notok "completion/drift-detected" "comparison said '$d'"; fi

# Sub-words: import envoy|limitador, plan show, audit verify|show.
bad=""; n=0
while read -r v; do
    "$RLC" "$v" --help 2>/dev/null | subwords_of > "sw.want"
    [ -s sw.want ] || continue
    n=$((n + 1))
    comp rlc "$v" '' > sw.got
    cmp -s sw.want sw.got || bad="$bad $v(wants $(paste -sd, sw.want), offers $(paste -sd, sw.got))"
done < verbs
if [ -z "$bad" ] && [ $n -ge 3 ]; then ok "completion/subwords: $n verbs with words after the verb"
else notok "completion/subwords" "$n verbs;$bad"; fi

# File arguments.
mkdir sub
: > a.rlp; : > b.txt; : > plan.json; : > c.rlp
got=$(comp rlc check '' | paste -sd' ')
if [ "$got" = "a.rlp c.rlp sub" ]; then ok "completion/rlp-files: rlc check offers .rlp files and directories"
else notok "completion/rlp-files" "offers '$got'"; fi
got=$(comp rlc run -q '' | paste -sd' ')
if [ "$got" = "plan.json sub" ]; then ok "completion/plan-files: rlc run offers .json plans and directories"
else notok "completion/plan-files" "offers '$got'"; fi

# Option values, with '=' in COMP_WORDBREAKS (three words) and without.
a=$(comp rlc check --format = '' | paste -sd' ')
b=$(comp rlc check --format=s | paste -sd' ')
c=$(comp rlc test --color '' | paste -sd' ')
d=$(comp rlc test --format '' | paste -sd' ')
if [ "$a" = "github json sarif text" ] && [ "$b" = "sarif" ] && [ "$c" = "always auto never" ] &&
   [ "$d" = "json junit text" ]; then
    ok "completion/values: check --format = (four), --format=s (sarif), test --color (three), test --format (three)"
else notok "completion/values" "--format =: '$a'; --format=s: '$b'; --color: '$c'; test --format: '$d'"; fi

got=$(comp rlc simulate --synthetic '' | paste -sd' ')
if [ "$got" = "burst ramp steady" ]; then ok "completion/synthetic-shapes: $got"
else notok "completion/synthetic-shapes" "offers '$got'"; fi

# Codes come from rlc explain --list.
"$RLC" explain --list | awk '{ print $1 }' | grep '^RLC10' | sort > codes.want
comp rlc explain RLC10 > codes.got
comp rlc check --allow = RLC10 > codes.allow
if [ -s codes.want ] && cmp -s codes.want codes.got && cmp -s codes.want codes.allow; then
    ok "completion/codes: rlc explain RLC10 and --allow=RLC10 offer the $(wc -l < codes.want | tr -d ' ') codes of explain --list"
else notok "completion/codes" "explain: $(paste -sd' ' codes.got | cut -c1-80); --allow: $(paste -sd' ' codes.allow | cut -c1-80)"; fi

got=$(comp rlc ch | paste -sd' ')
got2=$(comp rlc compile --sign '' | grep -c . )
if [ "$got" = "check" ] && [ "$got2" -ge 4 ]; then ok "completion/prefix-and-file-values: 'ch' is check; --sign offers any file"
else notok "completion/prefix-and-file-values" "'ch' -> '$got'; --sign offers $got2 names"; fi

if [ ! -s "$T/comp.err" ]; then ok "completion/quiet: calling the function outside readline prints nothing on stderr"
else notok "completion/quiet" "$(head -c 200 "$T/comp.err")"; fi
