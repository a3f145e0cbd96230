#!/bin/sh
# cli.sh - the rlc command line: --help, --version, VERB --help for every
# verb `rlc --help` lists (parsed, so new verbs are covered), usage errors
# (exit 2), check's exit statuses 0/1/2, colors (TTY, NO_COLOR, --color),
# -W error, and `rlc explain`.
. "$ROOT/tests/lib.sh"
cd "$T" || exit 2

# expect NAME WANT_EXIT CMD...: runs CMD (stdout in $T/out, stderr in
# $T/err) and checks the exit status; further checks follow in the caller.
expect_rc() {
    name=$1 want=$2
    shift 2
    timeout 20 "$@" > "$T/out" 2> "$T/err" < /dev/null
    rc=$?
    if [ $rc -ne "$want" ]; then
        notok "cli/$name" "exit $rc, expected $want; stderr: $(head -c 300 "$T/err")"
        return 1
    fi
    return 0
}
# has_esc FILE: the file contains an ANSI escape sequence
has_esc() { grep -q "$(printf '\033')\[" "$1"; }

# verbs_of: the verbs an `rlc --help` on stdin lists.
verbs_of() { awk '/^verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on { on = 0 }'; }
# Three cases per verb, 41 others.
nverbs=$("$RLC" --help 2>/dev/null | verbs_of | wc -l)
plan $((41 + 3 * nverbs))

printf 'tenant "a" {\n  limit 10/1s\n}\n' > clean.rlp
printf 'tenant "a" tier gold {\n  limit 10/1s\n}\n' > bad.rlp

# --- global ---------------------------------------------------------------
if expect_rc help 0 "$RLC" --help; then
    if grep -q '^usage: rlc' "$T/out" && grep -q '^verbs:' "$T/out" && [ ! -s "$T/err" ]
    then ok "cli/help"; else notok "cli/help" "no usage and verb list on stdout"; fi
fi
cp "$T/out" help.txt
for h in -h help; do
    if expect_rc "help-as-$h" 0 "$RLC" $h; then
        if cmp -s "$T/out" help.txt; then ok "cli/help-as-$h"
        else notok "cli/help-as-$h" "differs from --help"; fi
    fi
done
if expect_rc no-arguments 2 "$RLC"; then
    if grep -q '^usage: rlc' "$T/err" && [ ! -s "$T/out" ]; then ok "cli/no-arguments"
    else notok "cli/no-arguments" "usage not on stderr"; fi
fi
if expect_rc version 0 "$RLC" --version; then
    v=$(cat "$ROOT/VERSION")
    if [ "$(cat "$T/out")" = "rlc $v" ]; then ok "cli/version"
    else notok "cli/version" "printed '$(cat "$T/out")', VERSION says $v"; fi
fi
if expect_rc unknown-verb 2 "$RLC" frobnicate; then
    if grep -q "unknown verb 'frobnicate'" "$T/err"; then ok "cli/unknown-verb"
    else notok "cli/unknown-verb" "message does not name the verb"; fi
fi
if expect_rc unknown-global-option 2 "$RLC" --frobnicate; then ok "cli/unknown-global-option"; fi

# --- every verb -----------------------------------------------------------
verbs=$(verbs_of < help.txt)
nverbs=0
for v in $verbs; do
    nverbs=$((nverbs + 1))
    for h in --help -h; do
        if expect_rc "$v-$h" 0 "$RLC" "$v" "$h"; then
            if grep -q "^usage: rlc $v" "$T/out" && [ ! -s "$T/err" ]; then ok "cli/$v-$h"
            else notok "cli/$v-$h" "no 'usage: rlc $v' on stdout: $(head -c 200 "$T/out")"; fi
        fi
    done
    if expect_rc "$v-unknown-option" 2 "$RLC" "$v" --no-such-option; then
        if [ -s "$T/err" ]; then ok "cli/$v-unknown-option"
        else notok "cli/$v-unknown-option" "exit 2 but nothing said"; fi
    fi
done
vl=" $(echo $verbs) "
case $vl in
*" check "*) case $vl in *" fmt "*) case $vl in *" explain "*) vl=ok ;; esac ;; esac ;;
esac
if [ "$vl" = ok ]; then ok "cli/verb-list-parsed ($nverbs verbs)"
else notok "cli/verb-list-parsed" "verbs found:$vl"; fi

# --- check: exit statuses ---------------------------------------------------
if expect_rc check-clean-exit-0 0 "$RLC" check clean.rlp; then
    if [ ! -s "$T/out" ] && [ ! -s "$T/err" ]; then ok "cli/check-clean-exit-0"
    else notok "cli/check-clean-exit-0" "a clean policy printed something"; fi
fi
if expect_rc check-error-exit-1 1 "$RLC" check bad.rlp; then
    if grep -q '^bad\.rlp:1:17: error\[RLC1001\]' "$T/err"; then ok "cli/check-error-exit-1"
    else notok "cli/check-error-exit-1" "diagnostic missing: $(head -c 200 "$T/err")"; fi
fi
if expect_rc check-missing-exit-2 2 "$RLC" check missing.rlp; then
    if grep -q "error\[RLC0001\]: cannot read 'missing\.rlp'" "$T/err"; then ok "cli/check-missing-exit-2"
    else notok "cli/check-missing-exit-2" "file not named: $(head -c 200 "$T/err")"; fi
fi
if expect_rc check-missing-beats-errors 2 "$RLC" check bad.rlp missing.rlp; then
    ok "cli/check-missing-beats-errors"; fi
if expect_rc check-several-clean 0 "$RLC" check clean.rlp clean.rlp; then ok "cli/check-several-clean"; fi
if expect_rc check-no-files 2 "$RLC" check; then
    if grep -q 'no input files' "$T/err"; then ok "cli/check-no-files"
    else notok "cli/check-no-files" "$(head -c 200 "$T/err")"; fi
fi
if expect_rc check-bad-format 2 "$RLC" check --format=xml clean.rlp; then ok "cli/check-bad-format"; fi
if expect_rc check-bad-color 2 "$RLC" check --color=sometimes clean.rlp; then ok "cli/check-bad-color"; fi
if expect_rc check-bad-W 2 "$RLC" check -W nonsense clean.rlp; then ok "cli/check-bad-W"; fi
if expect_rc check-quiet 1 "$RLC" check -q bad.rlp; then
    if [ ! -s "$T/out" ] && [ ! -s "$T/err" ]; then ok "cli/check-quiet"
    else notok "cli/check-quiet" "printed something"; fi
fi
if expect_rc check-stdin 1 sh -c '"$1" check --color=never - < bad.rlp' _ "$RLC"; then
    if grep -q '^<stdin>:1:17: error\[RLC1001\]' "$T/err"; then ok "cli/check-stdin"
    else notok "cli/check-stdin" "$(head -c 200 "$T/err")"; fi
fi
if expect_rc check-json 1 "$RLC" check --format=json bad.rlp; then
    if [ ! -s "$T/err" ] && python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert len(o) == 1 and o[0]["code"] == "RLC1001" and o[0]["line"] == 1 and o[0]["column"] == 17
' "$T/out"; then ok "cli/check-json"; else notok "cli/check-json" "$(head -c 300 "$T/out")"; fi
fi

# --- colors -------------------------------------------------------------------
# Not a TTY here: no color unless asked.
if expect_rc color-off-when-not-tty 1 "$RLC" check bad.rlp; then
    if has_esc "$T/err"; then notok "cli/color-off-when-not-tty" "escape codes in a pipe"
    else ok "cli/color-off-when-not-tty"; fi
fi
if expect_rc color-never 1 "$RLC" check --color=never bad.rlp; then
    if has_esc "$T/err"; then notok "cli/color-never" "escape codes"; else ok "cli/color-never"; fi
fi
if expect_rc color-always 1 "$RLC" check --color=always bad.rlp; then
    if has_esc "$T/err"; then ok "cli/color-always"; else notok "cli/color-always" "no escape codes"; fi
fi
if expect_rc color-always-beats-NO_COLOR 1 env NO_COLOR=1 "$RLC" check --color=always bad.rlp; then
    if has_esc "$T/err"; then ok "cli/color-always-beats-NO_COLOR"
    else notok "cli/color-always-beats-NO_COLOR" "no escape codes"; fi
fi
# On a TTY: color by default, none with NO_COLOR or --color=never.
# on_tty OUT CMD...: runs CMD with stdout and stderr on a pseudo-terminal.
on_tty() {
    out=$1; shift
    python3 - "$out" "$@" <<'PY'
import os, pty, sys
out, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
data = b''
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
open(out, 'wb').write(data)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
PY
}
on_tty tty1 env -u NO_COLOR "$RLC" check bad.rlp; rc=$?
if [ $rc -eq 1 ] && has_esc tty1 && grep -q 'RLC1001' tty1; then ok "cli/color-on-tty"
else notok "cli/color-on-tty" "exit $rc, escapes: $(has_esc tty1 && echo yes || echo no)"; fi
on_tty tty2 env NO_COLOR=1 "$RLC" check bad.rlp; rc=$?
if [ $rc -eq 1 ] && ! has_esc tty2 && grep -q 'RLC1001' tty2; then ok "cli/NO_COLOR-on-tty"
else notok "cli/NO_COLOR-on-tty" "exit $rc, escapes: $(has_esc tty2 && echo yes || echo no)"; fi
on_tty tty3 env -u NO_COLOR "$RLC" check --color=never bad.rlp; rc=$?
if [ $rc -eq 1 ] && ! has_esc tty3 && grep -q 'RLC1001' tty3; then ok "cli/color-never-on-tty"
else notok "cli/color-never-on-tty" "exit $rc"; fi
# Empty NO_COLOR means unset (no-color.org).
on_tty tty4 env NO_COLOR= "$RLC" check bad.rlp; rc=$?
if [ $rc -eq 1 ] && has_esc tty4; then ok "cli/empty-NO_COLOR-ignored"
else notok "cli/empty-NO_COLOR-ignored" "exit $rc"; fi
# JSON is never colored.
on_tty tty5 env -u NO_COLOR "$RLC" check --format=json bad.rlp; rc=$?
if [ $rc -eq 1 ] && ! has_esc tty5; then ok "cli/json-never-colored"
else notok "cli/json-never-colored" "exit $rc"; fi

# --- -W error ----------------------------------------------------------------------
# Needs a policy that gives a warning and no error (a burst above the count
# on an algorithm that has no burst, among the hazards of RLC2xxx).
printf 'tenant "a" {\n  limit 10/1s burst 20 algorithm fixed_window\n}\n' > warn.rlp
"$RLC" check --color=never warn.rlp > /dev/null 2> "$T/err"
rc=$?
if grep -q 'warning\[RLC' "$T/err" && ! grep -q 'error\[RLC' "$T/err"; then
    if [ $rc -eq 0 ]; then ok "cli/warning-alone-exit-0"
    else notok "cli/warning-alone-exit-0" "exit $rc"; fi
    for w in "-W error" -Werror; do
        if expect_rc "warning-as-error $w" 1 "$RLC" check $w warn.rlp; then
            if grep -q 'warning\[RLC' "$T/err"; then ok "cli/warning-as-error $w"
            else notok "cli/warning-as-error $w" "warning not printed"; fi
        fi
    done
else
    for n in warning-alone-exit-0 "warning-as-error -W error" "warning-as-error -Werror"; do
        notok "cli/$n" "warn.rlp gives no warning alone (exit $rc): $(head -n 1 "$T/err")"
    done
fi

# --- explain -----------------------------------------------------------------------
if expect_rc explain-code 0 "$RLC" explain RLC1001; then
    if head -n 1 "$T/out" | grep -q '^RLC1001 (error): '; then ok "cli/explain-code"
    else notok "cli/explain-code" "first line: $(head -n 1 "$T/out")"; fi
fi
cp "$T/out" explain1.txt
if expect_rc explain-number 0 "$RLC" explain 1001; then
    if cmp -s "$T/out" explain1.txt; then ok "cli/explain-number"
    else notok "cli/explain-number" "differs from explain RLC1001"; fi
fi
if expect_rc explain-unknown-code 2 "$RLC" explain RLC9999; then
    if grep -q "'RLC9999' is not a diagnostic code" "$T/err"; then ok "cli/explain-unknown-code"
    else notok "cli/explain-unknown-code" "$(head -c 200 "$T/err")"; fi
fi
if expect_rc explain-not-a-code 2 "$RLC" explain banana; then ok "cli/explain-not-a-code"; fi
if expect_rc explain-nothing 2 "$RLC" explain; then ok "cli/explain-nothing"; fi
if expect_rc explain-list 0 "$RLC" explain --list; then
    n=$(grep -c '^RLC[0-9][0-9][0-9][0-9]  ' "$T/out")
    want=$(grep -c '^X(' "$ROOT/lang/diag_codes.def")
    if [ "$n" -eq "$want" ]; then ok "cli/explain-list ($n codes)"
    else notok "cli/explain-list" "$n codes listed, diag_codes.def has $want"; fi
fi
# Every listed code has a page: more than the one-line summary.
awk '/^RLC[0-9]/ {print $1}' "$T/out" > codes
missing=""
for c in $(cat codes); do
    "$RLC" explain "$c" > page 2>&1 || { missing="$missing $c(exit)"; continue; }
    body=$(sed '1,2d' page | grep -c '[^[:space:]]')
    [ "$body" -ge 2 ] || missing="$missing $c"
done
if [ -z "$missing" ]; then ok "cli/explain-every-code-has-a-page"
else notok "cli/explain-every-code-has-a-page" "no SPEC.md section for$missing"; fi
# The manual page has every verb `rlc --help` lists, and the deploy exit
# statuses.
"$RLC" --help | awk '/^verbs:/ {v=1; next} v && /^  [a-z]/ {print $1}' > verbs
sed -n '/^\.SH VERBS/,/^\.SH OPTIONS/p' "$ROOT/doc/rlc.1" > verbs.man
missing=""
for v in $(cat verbs); do
    grep -Eq "^\.(B|BI|BR) \"?$v( |\"|\$)" verbs.man || missing="$missing $v"
done
if [ -n "$missing" ] || [ ! -s verbs ]; then notok "cli/man-page-has-every-verb" "missing:$missing"
else ok "cli/man-page-has-every-verb ($(wc -l < verbs) verbs)"; fi
missing=""
for st in 3 4 5 6 7 8; do
    grep -q "^\.B $st\$" "$ROOT/doc/rlc.1" || missing="$missing exit-$st"
done
if [ -z "$missing" ]; then ok "cli/man-page-exit-statuses"; else notok "cli/man-page-exit-statuses" "$missing"; fi
