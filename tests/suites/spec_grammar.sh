#!/bin/sh
# spec_grammar.sh - SPEC.md's grammar agrees with the scanner and parser:
# the keyword list of section 2.1, the quoted keywords of the EBNF (2.2) and
# the keywords lang/lexer.l returns are the same set, and every rule the
# EBNF defines is named in lang/parser.y.
. "$ROOT/tests/lib.sh"
plan 3

SPEC="$ROOT/SPEC.md"
# Keywords the scanner knows: lines like  "policy"   { ... return KW_POLICY; }
sed -n 's/^"\([a-z_]*\)"[ \t]*{.*return KW_.*/\1/p' "$ROOT/lang/lexer.l" | sort -u > "$T/lexer"

# The indented keyword list in section 2.1 (the lines after "cannot be names:").
awk '/be names:$/ { on = 1; next } on && /^$/ { if (seen) exit; next } on { seen = 1; print }' "$SPEC" |
    tr -s ' ' '\n' | grep -v '^$' | sort -u > "$T/speclist"

# The EBNF block: quoted lower-case words are keywords; "name =" starts a rule.
awk '/^```ebnf/ { on = 1; next } on && /^```/ { exit } on { print }' "$SPEC" > "$T/ebnf"
grep -o '"[a-z_]*"' "$T/ebnf" | tr -d '"' | sort -u > "$T/ebnfkw"
sed -n 's/^\([a-z_]*\)[ ]*=.*/\1/p' "$T/ebnf" | sort -u > "$T/rules"

[ -s "$T/lexer" ] && [ -s "$T/speclist" ] && [ -s "$T/ebnfkw" ] && [ -s "$T/rules" ] \
    || bail_out "spec grammar: sources found" "an extraction came out empty"

if cmp -s "$T/lexer" "$T/speclist"; then ok "spec grammar: keyword list of 2.1 = lexer keywords"
else notok "spec grammar: keyword list of 2.1 = lexer keywords" "$(diff "$T/lexer" "$T/speclist" | grep '^[<>]' | tr '\n' ' ')"; fi

if cmp -s "$T/lexer" "$T/ebnfkw"; then ok "spec grammar: EBNF keywords = lexer keywords"
else notok "spec grammar: EBNF keywords = lexer keywords" "$(diff "$T/lexer" "$T/ebnfkw" | grep '^[<>]' | tr '\n' ' ')"; fi

missing=""
for r in $(cat "$T/rules"); do
    grep -q "\\b$r\\b" "$ROOT/lang/parser.y" || missing="$missing $r"
done
if [ -z "$missing" ]; then ok "spec grammar: every EBNF rule is named in parser.y"
else notok "spec grammar: every EBNF rule is named in parser.y" "not in parser.y:$missing"; fi
