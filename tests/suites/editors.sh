#!/bin/sh
# editors.sh - the Vim syntax (packaging/editors/vim/) and the TextMate
# grammar of the VS Code extension (packaging/editors/textmate/) highlight
# every .rlp file of the repository (examples, stdlib, every test input)
# and a probe holding every keyword of lang/lexer.l: each byte the scanner
# reads as a keyword, a comment or a string gets that class from each
# grammar, and no other byte does (tests/editors/highlight.py transcribes
# the scanner's rules and reads its keywords from lexer.l, so a keyword
# added there and not to a grammar fails here).  Vim runs in batch mode
# (vim -Es -u NONE); the grammar is run by a small tokenizer in Python
# (no npm package is a test dependency).
. "$ROOT/tests/lib.sh"
plan 8
cd "$T" || exit 2
HL="$ROOT/tests/editors/highlight.py"
VIMDIR="$ROOT/packaging/editors/vim"
export ROOT

command -v python3 >/dev/null || bail_out "editors/python3" "python3 is not installed"

# Every regular .rlp file (tests/golden holds symbolic links to /dev/zero
# and to a missing file, for the I/O errors).
{ ls "$ROOT"/examples/*.rlp "$ROOT"/stdlib/std/*.rlp; find "$ROOT/tests" -name '*.rlp' -type f | sort; } > files
nfiles=$(wc -l < files)
[ "$nfiles" -ge 10 ] || bail_out "editors/files" "only $nfiles .rlp files found"

# The probe: every scanner keyword, then names, strings and comments that
# hold a keyword without being one.
{
    echo "# every keyword of lang/lexer.l, one a line"
    python3 "$HL" keywords
    echo 'key-name policy.x x-policy tenant_x keys limit2 _test'
    echo 'limit 600/1m burst 10 cost -5 within 250ms'
    echo '"policy # not a comment" "an \" escaped policy" "ends at the line end, policy'
    echo 'tenant "a" { # policy in a comment'
    echo 'allow RLC2001 "reason" } # "not a string"'
} > probe.rlp
echo "$T/probe.rlp" > probe.list

# --- TextMate ---------------------------------------------------------------
if out=$(python3 "$HL" tm-valid 2>&1); then ok "editors/tm-valid: JSON, includes resolve, $out under Python's re"
else notok "editors/tm-valid" "$out"; fi

if out=$(python3 "$HL" vscode 2>&1); then ok "editors/vscode-extension: $out"
else notok "editors/vscode-extension" "$out"; fi

if out=$(python3 "$HL" tm $(cat files) 2>&1); then ok "editors/tm-files: $out"
else notok "editors/tm-files" "$(echo "$out" | cut -c1-600)"; fi

if out=$(python3 "$HL" tm probe.rlp 2>&1); then ok "editors/tm-keywords: every keyword of the scanner and none inside names, strings or comments"
else notok "editors/tm-keywords" "$(echo "$out" | cut -c1-600)"; fi

# --- Vim ------------------------------------------------------------------------
# vim_dump LIST OUT RTP: runs dump.vim over the files of LIST; messages in OUT.msg.
vim_dump() {
    RLP_FILES=$1 RLP_OUT=$2 RLP_MSG=$2.msg timeout 120 vim -Es -u NONE -i NONE -N \
        --cmd 'set encoding=latin1' --cmd "set rtp^=$3" \
        -c 'set fileencodings= fileformats=unix' -c 'filetype on' -c 'syntax on' \
        -S "$ROOT/tests/editors/dump.vim" -c 'qa!' < /dev/null > "$2.stdout" 2>&1
}
if ! command -v vim >/dev/null; then
    why="vim is not installed (apt-get install vim; vim-tiny has no syntax highlighting)"
elif ! vim --version | grep -q '+syntax'; then
    why="this vim has no +syntax (install the vim package, not vim-tiny)"
else
    why=""
fi
if [ -n "$why" ]; then
    for c in vim-run vim-files vim-keywords; do skip "editors/$c" "$why"; done
else
    vim_dump files vim.out "$VIMDIR"; rc=$?
    errs=$(grep -h 'E[0-9][0-9]*:' vim.out.msg vim.out.stdout 2>/dev/null | head -3)
    notrlp=$(grep '^T ' vim.out 2>/dev/null | grep -vc '^T rlp$')
    nseen=$(grep -c '^F ' vim.out 2>/dev/null)
    if [ $rc -eq 0 ] && [ -z "$errs" ] && [ "$notrlp" = 0 ] && [ "$nseen" = "$nfiles" ]; then
        ok "editors/vim-run: $nfiles files, each detected as rlp, no E-error"
    else notok "editors/vim-run" "exit $rc, $nseen of $nfiles files, $notrlp not rlp, errors: $errs"; fi

    if out=$(python3 "$HL" vim vim.out 2>&1); then ok "editors/vim-files: $out"
    else notok "editors/vim-files" "$(echo "$out" | cut -c1-600)"; fi

    vim_dump probe.list probe.out "$VIMDIR"
    if out=$(python3 "$HL" vim probe.out 2>&1); then ok "editors/vim-keywords: every keyword of the scanner and none inside names, strings or comments"
    else notok "editors/vim-keywords" "$(echo "$out" | cut -c1-600)"; fi
fi

# The keyword checks fail when a grammar lacks a keyword of the scanner:
# copies without 'wait'.
mkdir -p stale/vim
cp -r "$VIMDIR/syntax" "$VIMDIR/ftdetect" stale/vim/
sed -i 's/^syn keyword rlpKeyword wait$//' stale/vim/syntax/rlp.vim
sed 's/|wait)/)/' "$ROOT/packaging/editors/textmate/rlp.tmLanguage.json" > stale/grammar.json
tm=$(RLP_GRAMMAR="$T/stale/grammar.json" python3 "$HL" tm probe.rlp 2>&1)
if [ -n "$why" ]; then vimres="$why"
else vim_dump probe.list stale.out "$T/stale/vim"; vimres=$(python3 "$HL" vim stale.out 2>&1); fi
case $tm in *"'w' is keyword for the scanner, other for the grammar"*) tmok=1 ;; *) tmok=0 ;; esac
case $vimres in *"'w' is keyword for the scanner, other for the grammar"*|"$why") vimok=1 ;; *) vimok=0 ;; esac
if [ "$tmok$vimok" = 11 ] && ! cmp -s "$ROOT/packaging/editors/textmate/rlp.tmLanguage.json" stale/grammar.json; then
    ok "editors/drift-detected: grammars without 'wait' fail the keyword checks${why:+ (TextMate only: $why)}"
else notok "editors/drift-detected" "TextMate: $(echo "$tm" | cut -c1-200); Vim: $(echo "$vimres" | cut -c1-200)"; fi
