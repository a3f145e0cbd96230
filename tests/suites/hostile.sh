#!/bin/sh
# hostile.sh - hostile inputs (issue 2, item 9).  Every input is generated
# into $T at run time (deterministically: seeded generators, no committed
# blobs).  Each must give a located, coded error with an exact exit status,
# finish within 20 s, and never crash: exit < 128 and no sanitizer report.
. "$ROOT/tests/lib.sh"
plan 167
cd "$T" || exit 2

# hostile NAME EXIT CODE WHERE -- CMD...
#   EXIT: the exact exit status expected; CODE: e.g. RLC0003; WHERE: a grep -E
#   pattern the first diagnostic line must match (its location, or for I/O
#   errors on root files, the path named in the message).
hostile() {
    name=$1 want=$2 code=$3 where=$4
    shift 5
    t0=$(date +%s.%N)
    timeout 20 "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    echo "# $name: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
    first=$(grep -m 1 -E "error\[$code\]" "$T/err")
    if [ $rc -eq 124 ]; then
        notok "hostile/$name" "no answer within 20 s (hang)"
    elif [ $rc -ge 128 ]; then
        notok "hostile/$name" "killed by signal $((rc - 128))"
    elif grep -qE 'Sanitizer|runtime error:' "$T/err"; then
        notok "hostile/$name" "sanitizer report: $(grep -m 1 -E 'Sanitizer|runtime error:' "$T/err")"
    elif [ $rc -ne "$want" ]; then
        notok "hostile/$name" "exit $rc, expected $want; stderr: $(head -c 300 "$T/err")"
    elif ! printf '%s\n' "$first" | grep -q "error\[$code\]"; then
        notok "hostile/$name" "no $code error: $(head -c 300 "$T/err")"
    elif ! printf '%s\n' "$first" | grep -qE "$where"; then
        notok "hostile/$name" "not located as /$where/: $(printf %s "$first" | head -c 300)"
    else
        ok "hostile/$name"
    fi
}

# The generated inputs, all written by one python run (python starts slowly
# on a loaded machine): seeded random bytes and long or deep texts.
python3 - <<'PY'
import random
open('garbage.rlp', 'wb').write(bytes(random.Random(20240601).getrandbits(8) for _ in range(65536)))
open('high.rlp', 'wb').write(bytes(0x80 | random.Random(7).getrandbits(7) for _ in range(4096)))
open('line.rlp', 'wb').write(b'tenant "a" { ' + (b'limit 10/1s' + b' ' * 89) * 100000 + b'@ }')
open('string.rlp', 'wb').write(b'tenant "' + b'x' * 10485760 + b'" {\n  limit 10/1s\n}\n')
open('ident.rlp', 'wb').write(b'tier ' + b'x' * 10485760 + b' {\n  limit 10/1s\n}\n')
open('comment.rlp', 'wb').write(b'#' + b'x' * 10485760)
open('int.rlp', 'wb').write(b'tenant "a" { limit ' + b'1' * 100000 + b'/1s }')
open('ats.rlp', 'wb').write(b'@' * 1000000)
open('deep.rlp', 'wb').write(b'tenant "a" ' + b'{ group "g" ' * 10000 + b'}' * 10000)
open('deeplist.rlp', 'wb').write(b'policy "p" {\n  description = ' + b'[' * 10000 + b']' * 10000 + b'\n}\n')
open('deepclose.rlp', 'wb').write(b'}' * 10000)
PY

# --- empty and blank ---------------------------------------------------------
: > empty.rlp
hostile empty-file 1 RLC0012 '^empty\.rlp:1:1: ' -- "$RLC" check --color=never empty.rlp
printf '  \n\t\n\n   ' > blank.rlp
hostile blank-file 1 RLC0012 '^blank\.rlp:1:1: ' -- "$RLC" check --color=never blank.rlp

# --- binary garbage ----------------------------------------------------------
hostile binary-garbage 1 'RLC00[0-9][0-9]' '^garbage\.rlp:[0-9]+:[0-9]+: ' \
    -- "$RLC" check --color=never garbage.rlp
if grep -q 'stopped at the limit of 20 errors' "$T/err" &&
   [ "$(grep -c 'error\[' "$T/err")" -eq 20 ]; then ok "hostile/binary-garbage-capped"
else notok "hostile/binary-garbage-capped" "expected exactly 20 errors and the cap message"; fi
# Random bytes whose high bit is always set: only invalid UTF-8 reports.
hostile high-bytes 1 RLC0004 '^high\.rlp:1:1: ' -- "$RLC" check --color=never high.rlp
# Garbage on standard input.
hostile garbage-stdin 1 'RLC00[0-9][0-9]' '^<stdin>:[0-9]+:[0-9]+: ' \
    -- sh -c '"$1" check --color=never - < garbage.rlp' _ "$RLC"

# --- NUL bytes ---------------------------------------------------------------
printf '\0\0\0\0' > nul-only.rlp
hostile nul-only 1 RLC0003 '^nul-only\.rlp:1:1: ' -- "$RLC" check --color=never nul-only.rlp
printf 'tenant "a" {\n  limit 10/1s\n}\0\n' > nul-end.rlp
hostile nul-after-policy 1 RLC0003 '^nul-end\.rlp:3:2: ' -- "$RLC" check --color=never nul-end.rlp
printf 'tenant "a\0" {\n  limit 10/1s\n}\n' > nul-string.rlp
hostile nul-in-string 1 RLC0003 '^nul-string\.rlp:1:10: ' -- "$RLC" check --color=never nul-string.rlp
printf '# x\0y\ntenant "a" {\n  limit 10/1s\n}\n' > nul-comment.rlp
hostile nul-in-comment 1 RLC0003 '^nul-comment\.rlp:1:4: ' -- "$RLC" check --color=never nul-comment.rlp

# --- invalid UTF-8 -----------------------------------------------------------
printf 'tenant "a" {\n  \377limit 10/1s\n}\n' > u8-bare.rlp
hostile utf8-bare 1 RLC0004 '^u8-bare\.rlp:2:3: ' -- "$RLC" check --color=never u8-bare.rlp
printf 'tenant "a\300\257" {\n  limit 10/1s\n}\n' > u8-overlong.rlp
hostile utf8-overlong-in-string 1 RLC0004 '^u8-overlong\.rlp:1:10: ' \
    -- "$RLC" check --color=never u8-overlong.rlp
printf 'tenant "\355\240\200" {\n  limit 10/1s\n}\n' > u8-surrogate.rlp
hostile utf8-surrogate-in-string 1 RLC0004 '^u8-surrogate\.rlp:1:9: ' \
    -- "$RLC" check --color=never u8-surrogate.rlp
printf '# ok \342\202\254 then bad \342\202\ntenant "a" {\n  limit 10/1s\n}\n' > u8-comment.rlp
hostile utf8-truncated-in-comment 1 RLC0004 '^u8-comment\.rlp:1:17: ' \
    -- "$RLC" check --color=never u8-comment.rlp
printf 'tenant "a" {\n  limit 10/1s\n}\n\342\202' > u8-eof.rlp
hostile utf8-truncated-at-eof 1 RLC0004 '^u8-eof\.rlp:4:1: ' -- "$RLC" check --color=never u8-eof.rlp

# --- a 10 MB single line ------------------------------------------------------
# 400 000 tokens padded with blanks to 10 MB (more tokens only time the
# sanitizers), and a stray character at its very end.
hostile 10mb-line 1 RLC0005 '^line\.rlp:1:10000014: ' -- "$RLC" check --color=never line.rlp
# The excerpt of a 10 MB line is a window, not the line.
if [ "$(wc -c < "$T/err")" -lt 2000 ]; then ok "hostile/10mb-line-excerpt-short"
else notok "hostile/10mb-line-excerpt-short" "$(wc -c < "$T/err") bytes of diagnostics"; fi
hostile 10mb-string 1 RLC0013 '^string\.rlp:1:8: ' -- "$RLC" check --color=never string.rlp
hostile 10mb-name 1 RLC0013 '^ident\.rlp:1:6: ' -- "$RLC" check --color=never ident.rlp
hostile 10mb-comment 1 RLC0012 '^comment\.rlp:1:1: ' -- "$RLC" check --color=never comment.rlp
hostile 100k-digit-integer 1 RLC0008 '^int\.rlp:1:20: ' -- "$RLC" check --color=never int.rlp
hostile million-errors-capped 1 RLC0005 '^ats\.rlp:1:1: ' -- "$RLC" check --color=never ats.rlp

# --- 10 000-deep nesting ------------------------------------------------------
# The 65th '{' is the first one too many: column 12 + 64 * 12.
hostile 10000-deep-blocks 1 RLC0011 '^deep\.rlp:1:780: ' -- "$RLC" check --color=never deep.rlp
hostile 10000-deep-lists 1 RLC0011 '^deeplist\.rlp:2:[0-9]+: ' -- "$RLC" check --color=never deeplist.rlp
hostile 10000-closing-braces 1 RLC0010 '^deepclose\.rlp:1:1: ' -- "$RLC" check --color=never deepclose.rlp

# --- imports: a directory, itself --------------------------------------------
mkdir -p adir
printf 'import "adir"\ntenant "a" {\n  limit 10/1s\n}\n' > imp-dir.rlp
hostile import-directory 1 RLC1004 '^imp-dir\.rlp:1:8: ' -- "$RLC" check --color=never imp-dir.rlp
printf 'import "imp-self.rlp"\ntenant "a" {\n  limit 10/1s\n}\n' > imp-self.rlp
hostile import-itself 1 RLC1005 '^imp-self\.rlp:1:8: ' -- "$RLC" check --color=never imp-self.rlp
printf 'import "./imp-self2"\ntenant "a" {\n  limit 10/1s\n}\n' > imp-self2.rlp
hostile import-itself-other-spelling 1 RLC1005 '^imp-self2\.rlp:1:8: ' \
    -- "$RLC" check --color=never imp-self2.rlp
printf 'import "/proc/self/mem"\ntenant "a" {\n  limit 10/1s\n}\n' > imp-eio.rlp
hostile import-read-error 1 RLC1004 '^imp-eio\.rlp:1:8: ' -- "$RLC" check --color=never imp-eio.rlp
printf 'import "/dev/zero"\n' > imp-zero.rlp
hostile import-endless-device 1 RLC1004 '^imp-zero\.rlp:1:8: ' -- "$RLC" check --color=never imp-zero.rlp

# --- files that cannot be read -----------------------------------------------
hostile nonexistent-file 2 RLC0001 "cannot read 'no-such\.rlp'" -- "$RLC" check --color=never no-such.rlp
hostile directory-without-policies 2 RLC0001 "cannot read 'adir': no .rlp file" -- "$RLC" check --color=never adir
# An unreadable file: mode 000 stops everyone but root; a path through a
# regular file (ENOTDIR) and a read that fails after open (EIO on
# /proc/self/mem) stop root too.
printf 'tenant "a" {\n  limit 10/1s\n}\n' > locked.rlp
chmod 000 locked.rlp
if [ "$(id -u)" -ne 0 ]; then
    hostile unreadable-mode-000 2 RLC0001 "cannot read 'locked\.rlp'.*ermission" \
        -- "$RLC" check --color=never locked.rlp
else
    echo "# running as root: mode 000 does not stop reads; using ENOTDIR and EIO"
fi
chmod 644 locked.rlp
hostile unreadable-enotdir 2 RLC0001 "cannot read 'locked\.rlp/x\.rlp'" \
    -- "$RLC" check --color=never locked.rlp/x.rlp
hostile unreadable-read-fails 2 RLC0001 "cannot read '/proc/self/mem': Input/output error" \
    -- "$RLC" check --color=never /proc/self/mem
truncate -s 65M huge.rlp
hostile file-over-64mib 2 RLC0002 "cannot read 'huge\.rlp'" -- "$RLC" check --color=never huge.rlp
rm -f huge.rlp

# --- a file that vanishes between listing and reading -------------------------
# The shell lists the directory, then the file is removed before rlc runs:
# rlc must name the vanished file, still report the others, and exit 2.
mkdir -p vanish
printf 'tenant "a" {\n  limit 10/1s\n}\n' > vanish/a.rlp
printf 'tenant "b" {\n  limit 10/1s @\n}\n' > vanish/b.rlp
set -- vanish/*.rlp
rm vanish/a.rlp
hostile vanished-before-read 2 RLC0001 "cannot read 'vanish/a\.rlp'" -- "$RLC" check --color=never "$@"
if grep -q '^vanish/b\.rlp:2:15: error\[RLC0005\]' "$T/err"; then ok "hostile/vanished-others-still-reported"
else notok "hostile/vanished-others-still-reported" "b.rlp's error missing: $(head -c 300 "$T/err")"; fi
# An import that vanished after the importing file was written.
printf 'tenant "c" {\n  limit 10/1s\n}\n' > vanish/c.rlp
printf 'import "c.rlp"\ntenant "d" {\n  limit 10/1s\n}\n' > vanish/d.rlp
rm vanish/c.rlp
hostile vanished-import 1 RLC1003 '^vanish/d\.rlp:1:8: ' -- "$RLC" check --color=never vanish/d.rlp
# A FIFO whose writer goes away without writing: an empty read, not a hang.
mkfifo fifo.rlp
# (The writer gives up after 20 s so a reader that never opens cannot hang us.)
timeout 20 sh -c 'exec 3>fifo.rlp' &
hostile fifo-writer-gone 1 RLC0012 '^fifo\.rlp:1:1: ' -- "$RLC" check --color=never fifo.rlp
wait

# --- the same inputs through fmt -------------------------------------------------
# fmt must refuse them the same way and leave them byte for byte untouched.
for f in garbage.rlp nul-only.rlp u8-bare.rlp line.rlp deep.rlp deeplist.rlp; do
    cp "$f" "$f.orig"
    timeout 20 "$RLC" fmt --color=never "$f" >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc -ne 1 ]; then notok "hostile/fmt-$f" "exit $rc, expected 1"
    elif grep -qE 'Sanitizer|runtime error:' "$T/err"; then notok "hostile/fmt-$f" "sanitizer report"
    elif ! grep -q 'error\[RLC00' "$T/err"; then notok "hostile/fmt-$f" "no coded error"
    elif ! cmp -s "$f" "$f.orig"; then notok "hostile/fmt-$f" "file was modified"
    else ok "hostile/fmt-$f"; fi
done
hostile fmt-directory-without-policies 2 RLC0001 "cannot read 'adir': no .rlp file" -- "$RLC" fmt adir
hostile fmt-nonexistent 2 RLC0001 "cannot read 'no-such\.rlp'" -- "$RLC" fmt no-such.rlp

# --- random token soup ----------------------------------------------------------
# Seeded streams of valid tokens in random order: the parser's error paths
# and recovery under inputs no one wrote by hand.  Exit 0 or 1, never worse.
python3 - <<'PY'
import random
toks = ['policy', 'import', 'tier', 'extends', 'tenant', 'group', 'key', 'route', 'limit',
        'burst', 'cost', 'algorithm', 'shadow', 'concurrency', 'lease', 'allow', 'target',
        'test', 'request', 'send', 'within', 'expect', 'allowed', 'rejected', 'wait',
        '{', '}', '{', '}', '[', ']', '(', ')', '=', '/', ',', '"s"', '"/v1/*"', 'GET',
        'redis', 'gcra', 'x', 'env', '10', '0', '-1', '1s', '0ms', '99999d', '# c\n', '\n']
for i in range(40):
    r = random.Random(i)
    with open('soup%d.rlp' % i, 'w') as f:
        f.write(' '.join(r.choice(toks) for _ in range(r.randrange(1, 400))))
# Mutants of a valid policy (a few tokens deleted, repeated, replaced or
# swapped): nearly right input reaches the semantic checks, not just the parser.
import re
base = """policy "shop" { namespace = "shop" max_clock_skew = 50ms on_store_error = fail_closed }
import "std/tiers"
tier gold extends pro { limit 100/s burst 20 algorithm gcra
  route GET "/v1/*/items" { limit 10/1s concurrency 3 } allow RLC1001 "why" }
tenant "acme" tier gold { concurrency 10 lease 30s
  group "eng" { key "k1" { limit 5/1s cost 2 shadow } key "k2" { limit 1/1m } } }
tenant "beta" tier free { limit 1/1s }
target redis "main" { url = env("REDIS_URL") timeout = 2s }
target etcd "e" { endpoints = ["http://a:2379", file("x")] }
target nginx "gw" { output = "gw.lua" redis = "main" tenant_from = "$rlc_tenant" }
test "burst" { request tenant "acme" group "eng" key "k1" route GET "/x" cost 1
  send 10 within 1s expect allowed 5 wait 2s }
"""
bt = re.findall(r'"[^"]*"|[^\s]+', base)
for i in range(40, 80):
    r = random.Random(i)
    t = list(bt)
    for _ in range(r.randrange(1, 6)):
        k = r.randrange(len(t))
        op = r.randrange(4)
        if op == 0: del t[k]
        elif op == 1: t.insert(k, t[k])
        elif op == 2: t[k] = r.choice(toks + bt)
        elif k + 1 < len(t): t[k], t[k + 1] = t[k + 1], t[k]
    with open('soup%d.rlp' % i, 'w') as f:
        f.write(' '.join(t) + '\n')
# Same-class replacements keep the syntax and vary the values and names.
nums = ['0', '-1', '1', '7', '9007199254740993', '99999999999999999999']
durs = ['0ms', '1ms', '2d', '367d', '-5s', '1w', '999999999999999d']
strs = ['"acme"', '"beta"', '"k1"', '"eng"', '""', '"/"', '"//x"', '"main"', '"gw"', '"std/tiers"', '"\\q"']
names = ['gold', 'pro', 'free', 'gcra', 'nope', 'GET', 'PUT', 'GTE', 'redis', 'http', 'RLC1001', 'RLC0000']
for i in range(80, 120):
    r = random.Random(i)
    t = list(bt)
    for _ in range(r.randrange(1, 4)):
        k = r.randrange(len(t))
        w = t[k]
        if re.fullmatch(r'-?\d+', w): t[k] = r.choice(nums)
        elif re.fullmatch(r'-?\d+[a-z]+', w): t[k] = r.choice(durs)
        elif w.startswith('"'): t[k] = r.choice(strs)
        elif re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', w) and w not in toks: t[k] = r.choice(names)
    with open('soup%d.rlp' % i, 'w') as f:
        f.write(' '.join(t) + '\n')
PY
i=0
while [ $i -lt 120 ]; do
    timeout 20 "$RLC" check --color=never soup$i.rlp >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc -gt 1 ] || grep -qE 'Sanitizer|runtime error:' "$T/err"; then
        notok "hostile/token-soup-$i" "exit $rc: $(grep -m 1 -E 'Sanitizer|runtime error:|error' "$T/err")"
    elif [ $rc -eq 1 ] && ! grep -qE '^soup[0-9]+\.rlp:[0-9]+:[0-9]+: error\[RLC[0-9]{4}\]' "$T/err"; then
        notok "hostile/token-soup-$i" "exit 1 without a located, coded error"
    else
        timeout 20 "$RLC" fmt - < soup$i.rlp >/dev/null 2>"$T/err"
        rc=$?
        if [ $rc -gt 1 ] || grep -qE 'Sanitizer|runtime error:' "$T/err"; then
            notok "hostile/token-soup-$i" "fmt exit $rc"
        else
            ok "hostile/token-soup-$i"
        fi
    fi
    i=$((i + 1))
done
