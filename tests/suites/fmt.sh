#!/bin/sh
# fmt.sh - `rlc fmt`: canonical-form goldens (tests/fmt/NAME.in.rlp ->
# NAME.out.rlp), idempotence and comment keeping on every example, stdlib
# module and golden input that parses, --check, '-' (stdin), files that do
# not parse, in-place rewriting, and that formatting never changes what
# `rlc check` says.
. "$ROOT/tests/lib.sh"
F="$ROOT/tests/fmt"

show_diff() { diff -u "$1" "$2" | head -20 | sed 's/^/# /'; }

# Inputs: every example, every stdlib module, every golden input and every
# canonical-form input, each in a copy of its directory so that relative
# imports resolve and a formatted text can stand in for the original.
mkdir -p "$T/in"
for d in examples stdlib/std tests/golden tests/fmt; do
    [ -d "$ROOT/$d" ] || continue
    mkdir -p "$T/in/$d" && cp -R "$ROOT/$d/." "$T/in/$d/"
done
inputs=""
for f in "$T"/in/examples/*.rlp "$T"/in/stdlib/std/*.rlp "$T"/in/tests/golden/*.rlp \
         "$T"/in/tests/fmt/*.in.rlp; do
    [ -f "$f" ] && inputs="$inputs $f"
done
# The plan: two cases per canonical-form golden; per input, three when it
# parses (idempotent, keeps comments, same diagnostics), one when fmt fails
# on it otherwise, none when it does not parse (the "does not parse" cases
# below cover that); 15 others.
ngold=$(ls "$F"/*.in.rlp 2>/dev/null | wc -l)
nidem=0
for f in $inputs; do
    timeout 20 "$RLC" fmt - < "$f" > /dev/null 2> "$T/err"; rc=$?
    if [ $rc -eq 0 ]; then nidem=$((nidem + 3))
    elif [ $rc -ne 1 ] || ! grep -q 'error\[RLC' "$T/err"; then nidem=$((nidem + 1)); fi
done
plan $((2 * ngold + nidem + 15))

# --- canonical form goldens ---------------------------------------------------
for in in "$F"/*.in.rlp; do
    [ -e "$in" ] || continue
    n=$(basename "$in" .in.rlp)
    out="$F/$n.out.rlp"
    if [ ! -f "$out" ]; then
        notok "fmt/canonical-$n" "no $n.out.rlp"; notok "fmt/canonical-$n-is-fixed-point" "no $n.out.rlp"
        continue
    fi
    timeout 20 "$RLC" fmt - < "$in" > "$T/$n.fmt" 2>"$T/err"
    rc=$?
    if [ $rc -ne 0 ]; then notok "fmt/canonical-$n" "exit $rc: $(head -c 300 "$T/err")"
    elif ! cmp -s "$out" "$T/$n.fmt"; then
        notok "fmt/canonical-$n" "output differs from $n.out.rlp"; show_diff "$out" "$T/$n.fmt"
    else ok "fmt/canonical-$n"; fi
    # The expected output is itself canonical.
    if "$RLC" fmt --check "$out" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then ok "fmt/canonical-$n-is-fixed-point"
    else notok "fmt/canonical-$n-is-fixed-point" "fmt --check $n.out.rlp: $(head -c 200 "$T/out")"; fi
done

# --- idempotence, comments and unchanged diagnostics ---------------------------
# (Inputs: see the top.)
# Each formatted input is saved under $T/cmp/N/ (original, formatted, and
# what check said of each); one python run then compares them all.
nparsed=0
for f in $inputs; do
    name=${f#"$T"/in/}
    timeout 20 "$RLC" fmt - < "$f" > "$T/once" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'error\[RLC' "$T/err"; then
        continue    # does not parse: covered by the "does not parse" cases below
    elif [ $rc -ne 0 ]; then
        notok "fmt/idempotent $name" "exit $rc: $(head -c 300 "$T/err")"; continue
    fi
    nparsed=$((nparsed + 1))
    timeout 20 "$RLC" fmt - < "$T/once" > "$T/twice" 2>"$T/err"
    if cmp -s "$T/once" "$T/twice"; then ok "fmt/idempotent $name"
    else notok "fmt/idempotent $name" "second fmt changed the text"; show_diff "$T/once" "$T/twice"; fi
    # Check the original and, in its place, the formatted text.
    c="$T/cmp/$nparsed"
    mkdir -p "$c"
    dir=$(dirname "$f")
    base=$(basename "$f")
    cp "$f" "$c/orig"
    cp "$T/once" "$c/formatted"
    printf '%s\n%s\n%s\n' "$name" "$dir" "$base" > "$c/info"
    (cd "$dir" && "$RLC" check --format=json "$base" > "$c/before.json" 2>/dev/null
     echo "exit $?" >> "$c/before.json"
     cp "$c/formatted" "$base"
     "$RLC" check --format=json "$base" > "$c/after.json" 2>/dev/null
     echo "exit $?" >> "$c/after.json")
    cp "$c/orig" "$f"
done
# For each: every comment survives, in order; and checking the formatted
# text says the same (same codes, messages, files and underlined text:
# positions may move, what they point at may not).
python3 - "$T/cmp" "$nparsed" <<'PY'
import json, os, re, sys
root, n = sys.argv[1], int(sys.argv[2])

def comments(path):
    out = []
    for line in open(path, encoding='utf-8', errors='surrogateescape'):
        i, q = 0, False          # a '#' outside a string starts a comment
        while i < len(line):
            c = line[i]
            if q and c == '\\':
                i += 2
                continue
            if c == '"':
                q = not q
            elif c == '#' and not q:
                out.append(line[i:].rstrip())
                break
            i += 1
    return out

def diags(d, me, mytext, path):
    lines = open(path).read().splitlines()
    def text(o):
        if not o.get('file') or o['line'] == 0:
            return None
        p = mytext if o['file'] == me else os.path.join(d, o['file'])
        src = open(p, encoding='utf-8', errors='replace').read().split('\n')
        t = src[o['line'] - 1][o['column'] - 1:] if o['line'] != o['end_line'] else \
            src[o['line'] - 1][o['column'] - 1:o['end_column'] - 1]
        # fmt may respell a token canonically: 100/s is 100/1s.
        return ' '.join(re.sub(r'/(ms|s|m|h|d)\b', r'/1\1', t).split())
    out = []
    for l in lines[:-1]:
        o = json.loads(l)
        out.append((o['code'], o['message'], o['file'], text(o),
                    [(x['message'], x['file'], text(x)) for x in o['notes']]))
    return lines[-1], out

for i in range(1, n + 1):
    c = os.path.join(root, str(i))
    name, d, base = open(os.path.join(c, 'info')).read().splitlines()
    a, b = comments(os.path.join(c, 'orig')), comments(os.path.join(c, 'formatted'))
    if a == b:
        print('ok - fmt/keeps-comments %s' % name)
    else:
        print('not ok - fmt/keeps-comments %s: comments lost or reordered' % name)
        print('# before: %r' % a[:5])
        print('# after:  %r' % b[:5])
    try:
        x = diags(d, base, os.path.join(c, 'orig'), os.path.join(c, 'before.json'))
        y = diags(d, base, os.path.join(c, 'formatted'), os.path.join(c, 'after.json'))
    except Exception as e:
        print('not ok - fmt/same-diagnostics %s: %s' % (name, str(e).replace('\n', ' ')))
        continue
    if x == y:
        print('ok - fmt/same-diagnostics %s' % name)
    else:
        print('not ok - fmt/same-diagnostics %s: check says something else after fmt' % name)
        print(('# before: %r' % (x,))[:400])
        print(('# after:  %r' % (y,))[:400])
PY
if [ $nparsed -ge 20 ]; then ok "fmt/idempotence-inputs"; else
    notok "fmt/idempotence-inputs" "only $nparsed inputs parsed"; fi

# --- --check ---------------------------------------------------------------------
mkdir -p "$T/c" && cd "$T/c" || exit 2
cp "$F/options.out.rlp" canon.rlp
cp "$F/options.in.rlp" messy1.rlp
cp "$F/lists.in.rlp" messy2.rlp
cp messy1.rlp messy1.orig
"$RLC" fmt --check canon.rlp messy1.rlp messy2.rlp > out 2> err
rc=$?
printf 'messy1.rlp\nmessy2.rlp\n' > want
if [ $rc -eq 1 ] && cmp -s out want && [ ! -s err ]; then ok "fmt/check-lists-differing"
else notok "fmt/check-lists-differing" "exit $rc, stdout: $(cat out | tr '\n' ' ') stderr: $(head -c 200 err)"; fi
if cmp -s messy1.rlp messy1.orig; then ok "fmt/check-changes-nothing"
else notok "fmt/check-changes-nothing" "--check modified messy1.rlp"; fi
"$RLC" fmt --check canon.rlp > out 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -s out ]; then ok "fmt/check-canonical-exit-0"
else notok "fmt/check-canonical-exit-0" "exit $rc: $(head -c 200 out)"; fi
"$RLC" fmt --check -q messy1.rlp > out 2>&1
rc=$?
if [ $rc -eq 1 ] && [ ! -s out ]; then ok "fmt/check-quiet"
else notok "fmt/check-quiet" "exit $rc: $(head -c 200 out)"; fi
"$RLC" fmt --check - < messy1.rlp > out 2>&1
rc=$?
if [ $rc -eq 1 ] && [ "$(cat out)" = "<stdin>" ]; then ok "fmt/check-stdin"
else notok "fmt/check-stdin" "exit $rc: $(head -c 200 out)"; fi

# --- '-': stdin to stdout ----------------------------------------------------------
"$RLC" fmt - < messy1.rlp > out 2> err
rc=$?
if [ $rc -eq 0 ] && cmp -s out "$F/options.out.rlp" && [ ! -s err ] && cmp -s messy1.rlp messy1.orig
then ok "fmt/stdin-to-stdout"; else notok "fmt/stdin-to-stdout" "exit $rc: $(head -c 200 err)"; fi

# --- rewriting in place ---------------------------------------------------------------
cp "$F/options.in.rlp" inplace.rlp
chmod 640 inplace.rlp
"$RLC" fmt inplace.rlp > out 2> err
rc=$?
mode=$(stat -c %a inplace.rlp)
if [ $rc -eq 0 ] && cmp -s inplace.rlp "$F/options.out.rlp" && [ "$mode" = 640 ] &&
   grep -q '^formatted inplace.rlp$' err && ! ls ./*rlcfmt* >/dev/null 2>&1
then ok "fmt/rewrites-in-place-keeping-mode"
else notok "fmt/rewrites-in-place-keeping-mode" "exit $rc, mode $mode, stderr: $(head -c 200 err)"; fi
ino1=$(stat -c %i canon.rlp)
"$RLC" fmt canon.rlp > out 2>&1
rc=$?
ino2=$(stat -c %i canon.rlp)
if [ $rc -eq 0 ] && [ "$ino1" = "$ino2" ] && [ ! -s out ]; then ok "fmt/canonical-file-not-rewritten"
else notok "fmt/canonical-file-not-rewritten" "exit $rc, inode $ino1 -> $ino2, out: $(head -c 200 out)"; fi

# --- files that do not parse ------------------------------------------------------------
printf 'tenant "a" {\n  limit 10/1s @\n}\n' > bad.rlp
cp bad.rlp bad.orig
cp "$F/options.in.rlp" good.rlp
"$RLC" fmt --color=never bad.rlp good.rlp > out 2> err
rc=$?
if [ $rc -eq 1 ] && grep -q '^bad\.rlp:2:15: error\[RLC0005\]' err && cmp -s bad.rlp bad.orig
then ok "fmt/unparsable-reported-and-untouched"
else notok "fmt/unparsable-reported-and-untouched" "exit $rc: $(head -c 300 err)"; fi
if cmp -s good.rlp "$F/options.out.rlp"; then ok "fmt/others-still-formatted"
else notok "fmt/others-still-formatted" "good.rlp not formatted next to a bad file"; fi
"$RLC" fmt --check --color=never bad.rlp > out 2> err
rc=$?
if [ $rc -eq 1 ] && grep -q 'error\[RLC0005\]' err && cmp -s bad.rlp bad.orig
then ok "fmt/check-unparsable"; else notok "fmt/check-unparsable" "exit $rc"; fi
"$RLC" fmt --color=never - < bad.rlp > out 2> err
rc=$?
if [ $rc -eq 1 ] && [ ! -s out ] && grep -q '^<stdin>:2:15: error\[RLC0005\]' err
then ok "fmt/stdin-unparsable"; else notok "fmt/stdin-unparsable" "exit $rc: $(head -c 200 err)"; fi

# --- usage -------------------------------------------------------------------------------
"$RLC" fmt > out 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q 'no input files' out; then ok "fmt/no-files-exit-2"
else notok "fmt/no-files-exit-2" "exit $rc"; fi
"$RLC" fmt --frobnicate canon.rlp > out 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "unknown option '--frobnicate'" out; then ok "fmt/unknown-option-exit-2"
else notok "fmt/unknown-option-exit-2" "exit $rc: $(head -c 200 out)"; fi
