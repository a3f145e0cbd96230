/* lex_util.c - token decoding for the scanner.  See lex_util.h. */
#include "lex_util.h"

#include <string.h>

#include "buf.h"
#include "utf8.h"

bool dec_parse(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (n && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n)
        return false;
    /* Accumulate negatively so INT64_MIN parses too. */
    int64_t v = 0;
    for (; i < n; i++) {
        int d = s[i] - '0';
        if (d < 0 || d > 9)
            return false;
        if (v < (INT64_MIN + d) / 10)
            return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    *out = v;
    return true;
}

int64_t duration_unit_ms(const char *u, size_t n)
{
    if (n == 2 && u[0] == 'm' && u[1] == 's')
        return 1;
    if (n != 1)
        return 0;
    switch (u[0]) {
    case 's': return 1000;
    case 'm': return 60 * 1000;
    case 'h': return 3600 * 1000;
    case 'd': return 86400 * 1000;
    }
    return 0;
}

static void err(parse_ctx *c, int code, span sp, const char *fmt, const char *arg)
{
    c->nerrors++;
    diag_add(c->diags, code, sp, fmt, arg);
}

bool lex_int(parse_ctx *c, span sp, const char *t, size_t n, int64_t *out)
{
    if (dec_parse(t, n, out))
        return true;
    c->nerrors++;
    diag_add(c->diags, DIAG_INT_OVERFLOW, sp,
             "integer literal does not fit in 64 bits (largest is %lld)",
             (long long)INT64_MAX);
    return false;
}

void lex_duration(parse_ctx *c, span sp, const char *t, size_t n, ast_dur *out)
{
    memset(out, 0, sizeof *out);
    out->sp = sp;
    out->set = true;
    size_t i = (n && t[0] == '-') ? 1 : 0;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++;
    const char *unit = t + i;
    size_t ulen = n - i;
    int64_t per = duration_unit_ms(unit, ulen);
    if (!per) {
        span usp = span_make(sp.file, sp.start + (uint32_t)i, sp.end);
        char u[16];
        size_t k = ulen < sizeof u - 1 ? ulen : sizeof u - 1;
        memcpy(u, unit, k);
        u[k] = '\0';
        err(c, DIAG_BAD_UNIT, usp,
            "unknown duration unit '%s' (use ms, s, m, h or d)", u);
        return;
    }
    memcpy(out->unit, unit, ulen);
    int64_t v;
    if (!dec_parse(t, i, &v)) {
        err(c, DIAG_INT_OVERFLOW, sp, "%s", "duration does not fit in 64 bits");
        return;
    }
    out->n = v;
    if ((v > 0 && v > INT64_MAX / per) || (v < 0 && v < INT64_MIN / per)) {
        err(c, DIAG_INT_OVERFLOW, sp, "%s",
            "duration in milliseconds does not fit in 64 bits");
        return;
    }
    out->ms = v * per;
}

/* t[0..n) as an arena string, shared with the last identical one that
 * hashed to the same slot of cache (nslots entries). */
static char *intern(parse_ctx *c, char **cache, size_t nslots, const char *t, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)t[i]) * 16777619u;
    char **slot = &cache[h % nslots];
    if (*slot && strncmp(*slot, t, n) == 0 && (*slot)[n] == '\0')
        return *slot;
    *slot = arena_strndup(c->a, t, n);
    return *slot;
}

char *lex_ident(parse_ctx *c, const char *t, size_t n)
{
    return intern(c, c->idents, sizeof c->idents / sizeof c->idents[0], t, n);
}

char *lex_string(parse_ctx *c, span sp, const char *t, size_t n, bool closed)
{
    /* t includes the opening quote and, when closed, the closing one. */
    size_t body_end = closed ? n - 1 : n;
    /* Most strings are plain ASCII without escapes: they are their own
     * decoding, need no buffer, and repeat often enough (group names, route
     * paths) to be shared. */
    size_t plain = 1;
    while (plain < body_end && t[plain] != '\\' && t[plain] != '\0' &&
           (unsigned char)t[plain] < 0x80)
        plain++;
    if (plain == body_end && body_end - 1 <= PARSE_MAX_STRING)
        return intern(c, c->strings, sizeof c->strings / sizeof c->strings[0], t + 1,
                      body_end - 1);
    buf b;
    buf_init(&b, 0);
    size_t i = 1;
    while (i < body_end) {
        unsigned char ch = (unsigned char)t[i];
        span here = span_make(sp.file, sp.start + (uint32_t)i, sp.start + (uint32_t)i + 1);
        if (ch == '\\') {
            if (i + 1 >= body_end) {
                i++;
                break;
            }
            char e = t[i + 1];
            here.end++;
            switch (e) {
            case 'n': buf_putc(&b, '\n'); break;
            case 't': buf_putc(&b, '\t'); break;
            case 'r': buf_putc(&b, '\r'); break;
            case '\\': buf_putc(&b, '\\'); break;
            case '"': buf_putc(&b, '"'); break;
            case 'u': {
                /* \u{XXXX}: a Unicode scalar value, 1 to 6 hex digits. */
                size_t j = i + 2;
                uint32_t cp = 0;
                size_t digits = 0;
                bool ok = j < body_end && t[j] == '{';
                if (ok) {
                    j++;
                    while (j < body_end && digits < 7) {
                        char h = t[j];
                        int d = h >= '0' && h <= '9' ? h - '0'
                              : h >= 'a' && h <= 'f' ? h - 'a' + 10
                              : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                        if (d < 0)
                            break;
                        cp = cp * 16 + (uint32_t)d;
                        digits++;
                        j++;
                    }
                    ok = digits >= 1 && digits <= 6 && j < body_end && t[j] == '}' &&
                         cp != 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
                }
                if (!ok) {
                    here.end = sp.start + (uint32_t)(j < body_end ? j + 1 : body_end);
                    c->nerrors++;
                    diag_add(c->diags, DIAG_BAD_ESCAPE, here,
                             "invalid \\u escape (write \\u{XXXX}, a non-zero Unicode "
                             "scalar value)");
                    i = j < body_end ? j + 1 : body_end;
                    continue;
                }
                char u8[4];
                size_t k = utf8_put(cp, u8);
                buf_append(&b, u8, k);
                i = j + 1;
                continue;
            }
            default: {
                char what[8];
                if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7f)
                    what[0] = e, what[1] = '\0';
                else
                    what[0] = '?', what[1] = '\0';
                c->nerrors++;
                diag_add(c->diags, DIAG_BAD_ESCAPE, here,
                         "invalid escape '\\%s' (use \\n \\t \\r \\\\ \\\" or \\u{XXXX})",
                         what);
            }
            }
            i += 2;
            continue;
        }
        if (ch == 0) {
            err(c, DIAG_NUL_BYTE, here, "%s", "NUL byte in string");
            i++;
            continue;
        }
        if (ch >= 0x80) {
            size_t l = utf8_seq_len((const unsigned char *)t + i, body_end - i);
            if (!l) {
                err(c, DIAG_INVALID_UTF8, here, "%s", "invalid UTF-8 in string");
                i++;
                continue;
            }
            buf_append(&b, t + i, l);
            i += l;
            continue;
        }
        buf_putc(&b, (char)ch);
        i++;
    }
    if (b.len > PARSE_MAX_STRING) {
        c->nerrors++;
        diag_add(c->diags, DIAG_TOKEN_TOO_LONG, sp,
                 "string is %zu bytes long (limit is %d)", b.len, PARSE_MAX_STRING);
    }
    char *s = arena_strndup(c->a, buf_str(&b), b.len);
    buf_free(&b);
    return s;
}

void lex_comment(parse_ctx *c, span sp, const char *t, size_t n)
{
    size_t bad = utf8_validate(t, n);
    if (bad < n) {
        span here = span_make(sp.file, sp.start + (uint32_t)bad, sp.start + (uint32_t)bad + 1);
        err(c, DIAG_INVALID_UTF8, here, "%s", "invalid UTF-8 in comment");
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\0') {
            span here = span_make(sp.file, sp.start + (uint32_t)i, sp.start + (uint32_t)i + 1);
            err(c, DIAG_NUL_BYTE, here, "%s", "NUL byte in comment");
            break;
        }
    }
    ast_comment *cm = arena_alloc(c->a, sizeof *cm);
    cm->sp = sp;
    if (c->comments_tail)
        c->comments_tail->next = cm;
    else
        c->comments = cm;
    c->comments_tail = cm;
}

void lex_nonascii(parse_ctx *c, span sp, const char *t, size_t n)
{
    /* Report each run once: either as invalid UTF-8 or as a character that
     * has no place outside strings and comments. */
    size_t bad = utf8_validate(t, n);
    if (bad < n) {
        span here = span_make(sp.file, sp.start + (uint32_t)bad, sp.start + (uint32_t)bad + 1);
        err(c, DIAG_INVALID_UTF8, here, "%s",
            "invalid UTF-8 (the file must be UTF-8 text)");
        return;
    }
    size_t l = utf8_seq_len((const unsigned char *)t, n);
    char ch[5] = {0};
    memcpy(ch, t, l);
    span here = span_make(sp.file, sp.start, sp.start + (uint32_t)l);
    if (!strcmp(ch, "\xef\xbb\xbf")) {
        /* Invisible when quoted; editors on Windows add it. */
        err(c, DIAG_BAD_CHAR, here, "%s",
            "unexpected byte order mark (U+FEFF); save the file as UTF-8 without a BOM");
        return;
    }
    err(c, DIAG_BAD_CHAR, here,
        "unexpected character '%s' (non-ASCII text belongs in strings and comments)", ch);
}

void lex_badchar(parse_ctx *c, span sp, unsigned char ch)
{
    char what[16];
    if (ch >= 0x20 && ch < 0x7f) {
        what[0] = '\'';
        what[1] = (char)ch;
        what[2] = '\'';
        what[3] = '\0';
    } else {
        static const char hex[] = "0123456789abcdef";
        memcpy(what, "byte 0x", 7);
        what[7] = hex[ch >> 4];
        what[8] = hex[ch & 15];
        what[9] = '\0';
    }
    err(c, DIAG_BAD_CHAR, sp, "unexpected character %s", what);
}
