#!/usr/bin/env python3
"""highlight.py - checks the editor grammars of packaging/editors/ against
the scanner, for tests/suites/editors.sh.

The reference is a transcription of lang/lexer.l's rules (longest match,
the earlier rule on a tie, as flex decides) that classifies every byte of a
.rlp file as keyword, comment, string, number or other; the keyword list is
read from lexer.l itself, so a keyword added there is checked here at once.
Each grammar's own classification must agree on every byte:

  tm FILE...        the TextMate grammar ($RLP_GRAMMAR, default the one in
                    packaging/editors/textmate/), run by a small tokenizer that
                    follows its match / begin / end / patterns / include
                    rules (earliest match wins, the end pattern first on a
                    tie, the earlier pattern among others), with Python's re
                    for Oniguruma: the grammar keeps to their common subset,
                    and a regex Python cannot compile fails the check.
  vim DUMP          the per-byte syntax groups Vim wrote (tests/editors/
                    dump.vim) for the files it names.
  tm-valid          the grammar is well-formed: JSON, scopeName, every
                    include resolves, every regex compiles.
  vscode            packaging/editors/textmate/package.json is a VS Code
                    extension whose files exist, whose language and scope
                    match the grammar, and whose version is VERSION.
  keywords          prints the scanner's keywords, one a line.

Files are read as bytes (latin-1), so columns are byte offsets, as in Vim
with encoding=latin1.  Exit status 0 when everything agrees, 1 with the
first disagreements on stdout.
"""
import json
import os
import re
import sys

ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GRAMMAR = os.environ.get("RLP_GRAMMAR") or os.path.join(ROOT, "packaging/editors/textmate/rlp.tmLanguage.json")
PACKAGE = os.path.join(ROOT, "packaging/editors/textmate/package.json")


def lexer_keywords():
    kws = []
    with open(os.path.join(ROOT, "lang/lexer.l"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r'^"([a-z_]*)"[ \t]*\{.*return KW_', line)
            if m:
                kws.append(m.group(1))
    if not kws:
        sys.exit("highlight.py: no keywords found in lang/lexer.l")
    return kws


# --- the reference: lexer.l's rules in order -------------------------------
def reference_rules(keywords):
    rules = [
        ("ws", r"[ \t\r\n]+"),
        ("comment", r"#[^\n]*"),
        ("other", r"[{}\[\]()=/,*]"),
    ]
    rules += [("keyword", re.escape(k)) for k in keywords]
    rules += [
        ("number", r"-?[0-9]+"),
        ("number", r"-?[0-9]+[A-Za-z]+"),
        ("other", r"[A-Za-z_][A-Za-z0-9_.-]*"),
        ("string", r'"(?:[^"\\\n]|\\.)*"'),
        ("string", r'"(?:[^"\\\n]|\\.)*\\?'),
        ("other", r"\x00"),
        ("other", r"[\x80-\xff]+"),
        ("other", r"."),
    ]
    return [(cls, re.compile(rx, re.S if rx == "." else 0)) for cls, rx in rules]


def reference_classes(text, rules):
    """One class per byte of text: flex's longest match, first rule on a tie."""
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        best_len, best_cls = 0, "other"
        for cls, rx in rules:
            m = rx.match(text, pos)
            if m and m.end() - pos > best_len:
                best_len, best_cls = m.end() - pos, cls
        if best_len == 0:  # "." does not match a newline; ws does
            best_len = 1
        out.extend([best_cls] * best_len)
        pos += best_len
    return out


def read_latin1(path):
    with open(path, "rb") as f:
        return f.read().decode("latin-1")


# --- the TextMate tokenizer ----------------------------------------------------
class Grammar:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.repo = self.doc.get("repository", {})
        self.errors = []
        self.compiled = {}

    def rx(self, src, where):
        if src not in self.compiled:
            try:
                self.compiled[src] = re.compile(src)
            except re.error as e:
                self.errors.append("%s: %r does not compile under Python's re: %s" % (where, src, e))
                self.compiled[src] = None
        return self.compiled[src]

    def flatten(self, patterns, where, seen=()):
        """The rules a pattern list stands for, includes resolved."""
        out = []
        for i, p in enumerate(patterns):
            w = "%s[%d]" % (where, i)
            if "include" in p:
                inc = p["include"]
                if inc in ("$self", "$base"):
                    target, name = self.doc.get("patterns", []), inc
                elif inc.startswith("#") and inc[1:] in self.repo:
                    target, name = [self.repo[inc[1:]]], inc
                else:
                    self.errors.append("%s: include %r resolves to nothing" % (w, inc))
                    continue
                if name in seen:
                    continue
                out += self.flatten(target, name, seen + (name,))
            elif "match" in p or "begin" in p:
                out.append((p, w))
            elif "patterns" in p:
                out += self.flatten(p["patterns"], w, seen)
            else:
                self.errors.append("%s: neither match, begin, include nor patterns" % w)
        return out

    def validate(self):
        for key in ("scopeName", "patterns"):
            if key not in self.doc:
                self.errors.append("no %s" % key)
        rules = self.flatten(self.doc.get("patterns", []), "patterns")
        for name, r in self.repo.items():
            rules += self.flatten([r], "repository." + name)
        for p, w in rules:
            for key in ("match", "begin", "end"):
                if key in p:
                    self.rx(p[key], "%s.%s" % (w, key))
            if "begin" in p and "end" not in p:
                self.errors.append("%s: begin without end" % w)
            if "begin" in p:
                self.flatten(p.get("patterns", []), w + ".patterns")
        return self.errors

    def tokenize(self, text):
        """Scope lists per byte of text (all lines), carrying begin/end state."""
        scopes = []
        stack = [(None, self.flatten(self.doc["patterns"], "patterns"))]
        lines = text.split("\n")
        for li, line in enumerate(lines):
            pos = steps = 0
            line_scopes = [None] * len(line)
            while pos <= len(line):
                rule, inner = stack[-1]
                best = None  # (start, end, kind, pattern)
                if rule is not None:
                    m = self.rx(rule["end"], "end").search(line, pos)
                    if m:
                        best = (m.start(), m.end(), "end", rule)
                for p, _ in inner:
                    src = p.get("match", p.get("begin"))
                    m = self.rx(src, "rule").search(line, pos)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), m.end(), "begin" if "begin" in p else "match", p)
                if best is None:
                    break
                start, end, kind, p = best
                outer = [r.get("name") for r, _ in stack if r is not None and r.get("name")]
                for i in range(pos, min(start, len(line))):
                    line_scopes[i] = list(outer)
                here = outer + ([p["name"]] if p.get("name") and kind != "end" else [])
                for i in range(start, min(end, len(line))):
                    line_scopes[i] = list(here)
                if kind == "begin":
                    stack.append((p, self.flatten(p.get("patterns", []), "inner")))
                elif kind == "end":
                    stack.pop()
                # A begin or end changes the state, so an empty one moves on
                # by itself; an empty match must not stall the line.
                pos = end if (end > pos or kind != "match") else pos + 1
                steps += 1
                if pos > len(line) or steps > 4 * len(line) + 16:
                    break
            outer = [r.get("name") for r, _ in stack if r is not None and r.get("name")]
            for i in range(len(line)):
                if line_scopes[i] is None:
                    line_scopes[i] = list(outer)
            scopes.extend(line_scopes)
            if li < len(lines) - 1:
                scopes.append([])  # the newline
        return scopes


def tm_class(scope_list):
    s = " ".join(scope_list)
    if "comment." in s:
        return "comment"
    if "string." in s:
        return "string"
    if "keyword.control" in s:
        return "keyword"
    if "constant.numeric" in s:
        return "number"
    return "other"


VIM_CLASS = {"K": "keyword", "C": "comment", "O": "comment", "S": "string", "E": "string", "N": "number"}


def compare(path, text, want, got, bad, limit=8):
    lines = text.split("\n")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)
    for i, (w, g) in enumerate(zip(want, got)):
        if w == "ws":
            continue
        if w != g:
            li = next(k for k in range(len(starts)) if starts[k + 1] > i)
            col = i - starts[li]
            bad.append("%s:%d:%d: %r is %s for the scanner, %s for the grammar (line: %s)"
                       % (os.path.relpath(path, ROOT), li + 1, col + 1, text[i], w, g, lines[li].strip()[:60]))
            return len(bad) < limit
    if len(want) != len(got):
        bad.append("%s: %d bytes, the grammar classified %d" % (path, len(want), len(got)))
    return len(bad) < limit


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    keywords = lexer_keywords()
    if cmd == "keywords":
        print("\n".join(keywords))
        return 0
    if cmd == "tm-valid":
        g = Grammar(GRAMMAR)
        errs = g.validate()
        if errs:
            print("; ".join(errs[:5]))
            return 1
        print("%d regexes compile" % len([k for k, v in g.compiled.items() if v]))
        return 0
    if cmd == "vscode":
        with open(PACKAGE, encoding="utf-8") as f:
            pkg = json.load(f)
        with open(os.path.join(ROOT, "VERSION")) as f:
            version = f.read().strip()
        g = json.load(open(GRAMMAR, encoding="utf-8"))
        errs = []
        base = os.path.dirname(PACKAGE)
        c = pkg.get("contributes", {})
        langs = c.get("languages", [])
        grams = c.get("grammars", [])
        if pkg.get("version") != version:
            errs.append("version %s, VERSION says %s" % (pkg.get("version"), version))
        if "vscode" not in pkg.get("engines", {}):
            errs.append("no engines.vscode")
        if not any(".rlp" in l.get("extensions", []) for l in langs):
            errs.append("no language claims .rlp")
        for l in langs:
            if "configuration" in l and not os.path.isfile(os.path.join(base, l["configuration"])):
                errs.append("missing %s" % l["configuration"])
            elif "configuration" in l:
                json.load(open(os.path.join(base, l["configuration"]), encoding="utf-8"))
        ok = False
        for gr in grams:
            p = os.path.join(base, gr.get("path", ""))
            if not os.path.isfile(p):
                errs.append("missing grammar %s" % gr.get("path"))
            elif gr.get("scopeName") == g.get("scopeName") and any(l.get("id") == gr.get("language") for l in langs):
                ok = True
        if not ok:
            errs.append("no grammar entry with the grammar's scopeName for a declared language")
        if errs:
            print("; ".join(errs))
            return 1
        print("language %s, grammar %s, version %s" % (langs[0]["id"], g["scopeName"], version))
        return 0

    rules = reference_rules(keywords)
    bad = []
    counts = {"keyword": 0, "comment": 0, "string": 0}
    if cmd == "tm":
        g = Grammar(GRAMMAR)
        if g.validate():
            print("; ".join(g.errors[:5]))
            return 1
        for path in args:
            text = read_latin1(path)
            want = reference_classes(text, rules)
            got = [tm_class(s) for s in g.tokenize(text)]
            for c in counts:
                counts[c] += sum(1 for i, w in enumerate(want) if w == c and (i == 0 or want[i - 1] != c))
            if not compare(path, text, want, got, bad):
                break
    elif cmd == "vim":
        # The dump: "F PATH" then one line of group letters per source line.
        cur, groups = None, []
        dumps = []
        with open(args[0], encoding="latin-1") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("F "):
                    if cur:
                        dumps.append((cur, groups))
                    cur, groups = line[2:], []
                elif line.startswith("L "):
                    groups.append(line[2:])
        if cur:
            dumps.append((cur, groups))
        if not dumps:
            print("the Vim dump is empty")
            return 1
        for path, glines in dumps:
            text = read_latin1(path)
            want = reference_classes(text, rules)
            got = []
            for gl in glines:
                got.extend(VIM_CLASS.get(ch, "other") for ch in gl)
                got.append("ws")
            # Vim has no line for the newline that ends the last line.
            got = got[:len(want)]
            for c in counts:
                counts[c] += sum(1 for i, w in enumerate(want) if w == c and (i == 0 or want[i - 1] != c))
            if not compare(path, text, want, got, bad):
                break
        args = [p for p, _ in dumps]
    else:
        sys.exit("highlight.py: unknown command %r" % cmd)
    if bad:
        print("; ".join(bad))
        return 1
    print("%d files, %d keywords, %d comments, %d strings classified as the scanner does"
          % (len(args), counts["keyword"], counts["comment"], counts["string"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
