/* test_lexer.c - the scanner on its own: token kinds and byte spans for
 * every token class, keywords, string escapes, integer and duration limits,
 * comments, and UTF-8 validation.  Drives the generated reentrant scanner
 * directly (yylex), so grammar changes cannot hide a lexing bug. */
#include "unit.h"

#include "lex_util.h"
#include "parse.h"
#include "parser.h"
#include "lexer.h"
#include "utf8.h"

#define MAX_TOKS 128

typedef struct tok {
    int kind;
    span sp;
    YYSTYPE v;
} tok;

typedef struct lexed {
    arena *a;
    srcmap map;
    diag_list d;
    parse_ctx ctx;
    tok t[MAX_TOKS];
    size_t n;
} lexed;

/* Scans all of text (len bytes, may hold NULs) into L->t. */
static void lex_text(lexed *L, const char *text, size_t len)
{
    memset(L, 0, sizeof *L);
    L->a = arena_new();
    srcmap_init(&L->map);
    diag_list_init(&L->d, L->a);
    uint32_t f = srcmap_add(&L->map, "t.rlp", "t.rlp", unit_dup(text, len), len, false);
    L->ctx.a = L->a;
    L->ctx.diags = &L->d;
    L->ctx.map = &L->map;
    L->ctx.file = f;
    L->ctx.text = L->map.files[f].text;
    L->ctx.len = len;
    yyscan_t sc;
    assert_int_equal(yylex_init_extra(&L->ctx, &sc), 0);
    YY_BUFFER_STATE bs = yy_scan_bytes(L->ctx.text, (int)len, sc);
    for (;;) {
        tok *t = &L->t[L->n];
        t->kind = yylex(&t->v, &t->sp, sc);
        if (t->kind == 0)
            break;
        assert_true(++L->n < MAX_TOKS);
    }
    yy_delete_buffer(bs, sc);
    yylex_destroy(sc);
}

static void lex_str(lexed *L, const char *text)
{
    lex_text(L, text, strlen(text));
}

static void lexed_free(lexed *L)
{
    srcmap_free(&L->map);
    arena_free(L->a);
}

#define assert_tok(L, i, k, s, e)                                              \
    do {                                                                       \
        assert_true((i) < (L)->n);                                             \
        assert_int_equal((L)->t[i].kind, (k));                                 \
        assert_int_equal((L)->t[i].sp.start, (s));                             \
        assert_int_equal((L)->t[i].sp.end, (e));                               \
    } while (0)

static void test_punctuation(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "{ } [ ] ( ) = / ,");
    const char *p = "{}[]()=/,";
    assert_int_equal(L.n, 9);
    for (size_t i = 0; i < 9; i++)
        assert_tok(&L, i, p[i], 2 * i, 2 * i + 1);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_keywords(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int kind;
    } kw[] = {
        {"policy", KW_POLICY}, {"import", KW_IMPORT}, {"tier", KW_TIER},
        {"extends", KW_EXTENDS}, {"tenant", KW_TENANT}, {"group", KW_GROUP},
        {"key", KW_KEY}, {"route", KW_ROUTE}, {"limit", KW_LIMIT},
        {"burst", KW_BURST}, {"cost", KW_COST}, {"algorithm", KW_ALGORITHM},
        {"shadow", KW_SHADOW}, {"concurrency", KW_CONCURRENCY}, {"lease", KW_LEASE},
        {"allow", KW_ALLOW}, {"target", KW_TARGET}, {"test", KW_TEST},
        {"request", KW_REQUEST}, {"send", KW_SEND}, {"within", KW_WITHIN},
        {"expect", KW_EXPECT}, {"allowed", KW_ALLOWED}, {"rejected", KW_REJECTED},
        {"wait", KW_WAIT},
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        lexed L;
        char text[64];
        snprintf(text, sizeof text, "  %s\n", kw[i].s);
        lex_str(&L, text);
        assert_int_equal(L.n, 1);
        assert_tok(&L, 0, kw[i].kind, 2, 2 + strlen(kw[i].s));
        lexed_free(&L);
    }
}

static void test_identifiers(void **state)
{
    (void)state;
    lexed L;
    /* Longest match: a keyword prefix or suffix makes a name, and names may
     * hold '.', '-' and digits after the first character. */
    lex_str(&L, "tenants keyring _x9 std.v1-beta KEY");
    assert_int_equal(L.n, 5);
    assert_tok(&L, 0, IDENT, 0, 7);
    assert_string_equal(L.t[0].v.str, "tenants");
    assert_tok(&L, 1, IDENT, 8, 15);
    assert_tok(&L, 2, IDENT, 16, 19);
    assert_string_equal(L.t[2].v.str, "_x9");
    assert_tok(&L, 3, IDENT, 20, 31);
    assert_string_equal(L.t[3].v.str, "std.v1-beta");
    assert_tok(&L, 4, IDENT, 32, 35);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_identifier_too_long(void **state)
{
    (void)state;
    char text[PARSE_MAX_IDENT + 2];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    lexed L;
    lex_str(&L, text);
    assert_int_equal(L.n, 1);
    assert_diag_at(&L.d, DIAG_TOKEN_TOO_LONG, 0, PARSE_MAX_IDENT + 1);
    lexed_free(&L);
    text[PARSE_MAX_IDENT] = '\0';
    lex_str(&L, text);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_integers(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "0 42 -7 9223372036854775807 -9223372036854775808");
    assert_int_equal(L.n, 5);
    assert_tok(&L, 0, INT, 0, 1);
    assert_int_equal(L.t[0].v.num, 0);
    assert_tok(&L, 1, INT, 2, 4);
    assert_int_equal(L.t[1].v.num, 42);
    assert_tok(&L, 2, INT, 5, 7);
    assert_true(L.t[2].v.num == -7);
    assert_tok(&L, 3, INT, 8, 27);
    assert_true(L.t[3].v.num == INT64_MAX);
    assert_tok(&L, 4, INT, 28, 48);
    assert_true(L.t[4].v.num == INT64_MIN);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_integer_overflow(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "x 9223372036854775808");
    assert_int_equal(L.n, 2);
    assert_tok(&L, 1, INT, 2, 21);
    assert_int_equal(L.t[1].v.num, 0);
    assert_int_equal(L.d.nerrors, 1);
    assert_diag_at(&L.d, DIAG_INT_OVERFLOW, 2, 21);
    lexed_free(&L);

    lex_str(&L, "-9223372036854775809");
    assert_int_equal(unit_count(&L.d, DIAG_INT_OVERFLOW), 1);
    lexed_free(&L);

    lex_str(&L, "99999999999999999999999999999");
    assert_int_equal(unit_count(&L.d, DIAG_INT_OVERFLOW), 1);
    lexed_free(&L);
}

static void test_durations(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "250ms 30s 5m 2h 7d -3s");
    static const int64_t ms[] = {250, 30000, 300000, 7200000, 604800000, -3000};
    static const char *const unit[] = {"ms", "s", "m", "h", "d", "s"};
    static const uint32_t start[] = {0, 6, 10, 13, 16, 19}, end[] = {5, 9, 12, 15, 18, 22};
    assert_int_equal(L.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_tok(&L, i, DURATION, start[i], end[i]);
        assert_true(L.t[i].v.dur.ms == ms[i]);
        assert_string_equal(L.t[i].v.dur.unit, unit[i]);
        assert_true(L.t[i].v.dur.set);
        assert_int_equal(L.t[i].v.dur.sp.start, start[i]);
    }
    assert_true(L.t[0].v.dur.n == 250);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_duration_bad_units(void **state)
{
    (void)state;
    static const char *const bad[] = {"5x", "5sec", "5S", "5us", "5mss", "10hours"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexed L;
        lex_str(&L, bad[i]);
        assert_int_equal(L.n, 1);
        assert_int_equal(L.t[0].kind, DURATION);
        assert_int_equal(L.d.nerrors, 1);
        /* The error points at the unit, after the digits. */
        size_t digits = strspn(bad[i], "0123456789");
        assert_diag_at(&L.d, DIAG_BAD_UNIT, digits, strlen(bad[i]));
        assert_int_equal(L.t[0].v.dur.unit[0], '\0');
        lexed_free(&L);
    }
}

static void test_duration_overflow(void **state)
{
    (void)state;
    lexed L;
    /* Fits as an integer, not once multiplied into milliseconds. */
    lex_str(&L, "106751991168d");
    assert_int_equal(L.d.nerrors, 1);
    assert_diag_at(&L.d, DIAG_INT_OVERFLOW, 0, 13);
    lexed_free(&L);
    /* The largest number of days that still fits. */
    lex_str(&L, "9223372036854775807ms 106751991167d");
    assert_int_equal(L.d.nerrors, 0);
    assert_true(L.t[0].v.dur.ms == INT64_MAX);
    assert_true(L.t[1].v.dur.ms == 106751991167LL * 86400000LL);
    lexed_free(&L);
    lex_str(&L, "9223372036854775808s");
    assert_int_equal(unit_count(&L.d, DIAG_INT_OVERFLOW), 1);
    lexed_free(&L);
}

static void test_strings(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "\"plain\" \"a\\n\\t\\r\\\\\\\"b\" \"\"");
    assert_int_equal(L.n, 3);
    assert_tok(&L, 0, STRING, 0, 7);
    assert_string_equal(L.t[0].v.str, "plain");
    assert_tok(&L, 1, STRING, 8, 22);
    assert_string_equal(L.t[1].v.str, "a\n\t\r\\\"b");
    assert_tok(&L, 2, STRING, 23, 25);
    assert_string_equal(L.t[2].v.str, "");
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "\"\\u{41}\\u{e9}\\u{20AC}\\u{1F600}\\u{10FFFF}\"");
    assert_int_equal(L.n, 1);
    assert_int_equal(L.d.nerrors, 0);
    assert_string_equal(L.t[0].v.str, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
    lexed_free(&L);
    /* Raw UTF-8 in a string is kept as it is. */
    lex_str(&L, "\"caf\xc3\xa9 \xe2\x82\xac\"");
    assert_int_equal(L.d.nerrors, 0);
    assert_string_equal(L.t[0].v.str, "caf\xc3\xa9 \xe2\x82\xac");
    lexed_free(&L);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t start, end;   /* span of the error */
    } bad[] = {
        {"\"ab\\qc\"", 3, 5},          /* unknown escape: backslash and letter */
        {"\"\\u{110000}\"", 1, 11},    /* past U+10FFFF */
        {"\"\\u{D800}\"", 1, 9},       /* surrogate */
        {"\"\\u{0}\"", 1, 6},          /* NUL */
        {"\"\\u{}\"", 1, 5},           /* no digits */
        {"\"\\u{1234567}\"", 1, 12},   /* seven digits */
        {"\"\\u{12\"", 1, 6},          /* no closing brace */
        {"\"\\u41\"", 1, 4},           /* no braces */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexed L;
        lex_str(&L, bad[i].text);
        assert_int_equal(L.n, 1);
        assert_int_equal(L.t[0].kind, STRING);
        assert_int_equal(unit_count(&L.d, DIAG_BAD_ESCAPE), 1);
        assert_diag_at(&L.d, DIAG_BAD_ESCAPE, bad[i].start, bad[i].end);
        lexed_free(&L);
    }
}

static void test_unterminated_string(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "\"abc\ntenant");
    assert_int_equal(L.n, 2);
    assert_tok(&L, 0, STRING, 0, 4);
    assert_string_equal(L.t[0].v.str, "abc");
    assert_diag_at(&L.d, DIAG_UNTERMINATED_STRING, 0, 4);
    assert_tok(&L, 1, KW_TENANT, 5, 11);
    lexed_free(&L);
    /* A backslash at the very end of the input. */
    lex_str(&L, "\"ab\\");
    assert_int_equal(unit_count(&L.d, DIAG_UNTERMINATED_STRING), 1);
    lexed_free(&L);
}

static void test_string_too_long(void **state)
{
    (void)state;
    size_t n = PARSE_MAX_STRING + 1;
    char *text = malloc(n + 3);
    assert_non_null(text);
    text[0] = '"';
    memset(text + 1, 'x', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    lexed L;
    lex_str(&L, text);
    assert_diag_at(&L.d, DIAG_TOKEN_TOO_LONG, 0, n + 2);
    lexed_free(&L);
    text[n] = '"';
    text[n + 1] = '\0';
    lex_str(&L, text);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
    free(text);
}

static void test_comments(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "# first\ntenant # second\n#\n");
    assert_int_equal(L.n, 1);
    assert_tok(&L, 0, KW_TENANT, 8, 14);
    const ast_comment *c = L.ctx.comments;
    assert_non_null(c);
    assert_int_equal(c->sp.start, 0);
    assert_int_equal(c->sp.end, 7);
    c = c->next;
    assert_non_null(c);
    assert_int_equal(c->sp.start, 15);
    assert_int_equal(c->sp.end, 23);
    c = c->next;
    assert_non_null(c);
    assert_int_equal(c->sp.start, 24);
    assert_int_equal(c->sp.end, 25);
    assert_null(c->next);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
}

static void test_comment_bad_utf8(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "# ok \xc3\xa9 then \xff here\n");
    assert_int_equal(L.d.nerrors, 1);
    assert_diag_at(&L.d, DIAG_INVALID_UTF8, 13, 14);
    assert_non_null(L.ctx.comments);
    lexed_free(&L);
}

static void test_bad_chars(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "a @ b");
    assert_int_equal(L.n, 2);
    assert_diag_at(&L.d, DIAG_BAD_CHAR, 2, 3);
    assert_string_equal(unit_find(&L.d, DIAG_BAD_CHAR)->msg, "unexpected character '@'");
    lexed_free(&L);
    lex_str(&L, "a \x01");
    assert_string_equal(unit_find(&L.d, DIAG_BAD_CHAR)->msg,
                        "unexpected character byte 0x01");
    lexed_free(&L);
    /* Valid UTF-8 outside strings and comments: one error for the run. */
    lex_str(&L, "x \xc3\xa9\xc3\xa9 y");
    assert_int_equal(L.n, 2);
    assert_int_equal(L.d.nerrors, 1);
    assert_diag_at(&L.d, DIAG_BAD_CHAR, 2, 4);
    lexed_free(&L);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    lexed L;
    lex_text(&L, "a\0b # c\0d\n\"e\0f\"", 15);
    assert_int_equal(unit_count(&L.d, DIAG_NUL_BYTE), 3);
    const diag *d = L.d.head;
    assert_int_equal(d->sp.start, 1);
    d = d->next;
    assert_int_equal(d->sp.start, 7);
    d = d->next;
    assert_int_equal(d->sp.start, 12);
    lexed_free(&L);
}

static void test_nesting_cap(void **state)
{
    (void)state;
    char text[PARSE_MAX_NESTING + 2];
    memset(text, '{', PARSE_MAX_NESTING);
    text[PARSE_MAX_NESTING] = '\0';
    lexed L;
    lex_str(&L, text);
    assert_int_equal(L.n, PARSE_MAX_NESTING);
    assert_int_equal(L.d.nerrors, 0);
    lexed_free(&L);
    text[PARSE_MAX_NESTING] = '{';
    text[PARSE_MAX_NESTING + 1] = '\0';
    lex_str(&L, text);
    assert_int_equal(L.n, PARSE_MAX_NESTING);
    assert_diag_at(&L.d, DIAG_NESTING_TOO_DEEP, PARSE_MAX_NESTING, PARSE_MAX_NESTING + 1);
    assert_true(L.ctx.fatal);
    lexed_free(&L);
}

/* parse_file scans the source text in place; whatever way the parse ends,
 * the text must be left exactly as it was read (diagnostics and fmt show
 * it afterwards). */
static void parse_keeps_text(const char *text, size_t len, int code)
{
    arena *a = arena_new();
    srcmap map;
    srcmap_init(&map);
    diag_list d;
    diag_list_init(&d, a);
    /* As program.c reads files: two NULs after the text, scanned in place. */
    char *copy = malloc(len + 2);
    assert_non_null(copy);
    memcpy(copy, text, len);
    copy[len] = copy[len + 1] = '\0';
    uint32_t f = srcmap_add(&map, "t.rlp", "t.rlp", copy, len, false);
    map.files[f].two_nuls = true;
    parse_file(a, &d, &map, f);
    if (code)
        assert_non_null(unit_find(&d, code));
    assert_int_equal(map.files[f].len, len);
    assert_memory_equal(map.files[f].text, text, len);
    assert_int_equal(map.files[f].text[len], '\0');
    srcmap_free(&map);
    arena_free(a);
}

static void test_parse_leaves_text_intact(void **state)
{
    (void)state;
    /* Stopped by the nesting limit in the middle of the input. */
    char deep[200];
    int n = snprintf(deep, sizeof deep, "tenant \"a\" %0*d x", 70, 0);
    for (int i = 11; i < 81; i++)
        deep[i] = '{';
    parse_keeps_text(deep, (size_t)n, DIAG_NESTING_TOO_DEEP);
    /* Stopped by the error cap. */
    char bad[100];
    memset(bad, '@', sizeof bad);
    parse_keeps_text(bad, sizeof bad, DIAG_BAD_CHAR);
    /* Ended normally, with and without errors, and with NULs inside. */
    const char *ok = "tenant \"a\" { limit 1/s }\n";
    parse_keeps_text(ok, strlen(ok), 0);
    parse_keeps_text("tenant \"a\" { limit 1/s", 23, DIAG_SYNTAX);
    parse_keeps_text("tenant\0\"a\" {}", 14, DIAG_NUL_BYTE);
}

/* ---- UTF-8 validation ---- */

static size_t seq(const char *s)
{
    return utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_int_equal(seq("A"), 1);
    assert_int_equal(seq("\xc2\x80"), 2);          /* U+0080, smallest 2-byte */
    assert_int_equal(seq("\xdf\xbf"), 2);          /* U+07FF */
    assert_int_equal(seq("\xe0\xa0\x80"), 3);      /* U+0800 */
    assert_int_equal(seq("\xed\x9f\xbf"), 3);      /* U+D7FF, below surrogates */
    assert_int_equal(seq("\xee\x80\x80"), 3);      /* U+E000, above them */
    assert_int_equal(seq("\xef\xbf\xbf"), 3);      /* U+FFFF */
    assert_int_equal(seq("\xf0\x90\x80\x80"), 4);  /* U+10000 */
    assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4);  /* U+10FFFF */
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    /* Overlong forms. */
    assert_int_equal(seq("\xc0\x80"), 0);
    assert_int_equal(seq("\xc1\xbf"), 0);
    assert_int_equal(seq("\xe0\x80\x80"), 0);
    assert_int_equal(seq("\xe0\x9f\xbf"), 0);
    assert_int_equal(seq("\xf0\x80\x80\x80"), 0);
    assert_int_equal(seq("\xf0\x8f\xbf\xbf"), 0);
    /* UTF-16 surrogates. */
    assert_int_equal(seq("\xed\xa0\x80"), 0);
    assert_int_equal(seq("\xed\xbf\xbf"), 0);
    /* Past U+10FFFF. */
    assert_int_equal(seq("\xf4\x90\x80\x80"), 0);
    assert_int_equal(seq("\xf5\x80\x80\x80"), 0);
    assert_int_equal(seq("\xff"), 0);
    /* Lone continuation bytes. */
    assert_int_equal(seq("\x80"), 0);
    assert_int_equal(seq("\xbf"), 0);
    /* Truncated: too few bytes, or a non-continuation byte inside. */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 3), 0);
    assert_int_equal(seq("\xe2\x82x"), 0);
    assert_int_equal(seq("\xc3("), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"", 0), 0);
}

static void test_utf8_validate(void **state)
{
    (void)state;
    const char *ok = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    assert_int_equal(utf8_validate(ok, strlen(ok)), strlen(ok));
    assert_int_equal(utf8_validate("ab\xe2\x82", 4), 2);
    assert_int_equal(utf8_validate("abc\xed\xa0\x80", 6), 3);
    assert_int_equal(utf8_validate("\xc0\xaf", 2), 0);
    assert_int_equal(utf8_validate("", 0), 0);
}

static void test_lexer_bad_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t at;
    } bad[] = {
        {"x \xc0\xaf", 2},                  /* overlong '/' */
        {"x \xed\xa0\x80", 2},              /* surrogate */
        {"x \xf4\x90\x80\x80", 2},          /* > U+10FFFF */
        {"x \xe2\x82", 2},                  /* truncated at end of input */
        {"x \xc3\xa9\x80", 4},              /* valid, then a stray continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexed L;
        lex_str(&L, bad[i].text);
        assert_int_equal(L.d.nerrors, 1);
        assert_diag_at(&L.d, DIAG_INVALID_UTF8, bad[i].at, bad[i].at + 1);
        lexed_free(&L);
    }
    /* Inside a string. */
    lexed L;
    lex_str(&L, "\"ab\xf8\"");
    assert_int_equal(L.d.nerrors, 1);
    assert_diag_at(&L.d, DIAG_INVALID_UTF8, 3, 4);
    assert_string_equal(L.t[0].v.str, "ab");
    lexed_free(&L);
}

static void test_spans_track_lines(void **state)
{
    (void)state;
    lexed L;
    lex_str(&L, "tenant \"a\" {\n  limit 10/s\r\n}\n");
    static const int kinds[] = {KW_TENANT, STRING, '{', KW_LIMIT, INT, '/', IDENT, '}'};
    static const uint32_t st[] = {0, 7, 11, 15, 21, 23, 24, 27};
    static const uint32_t en[] = {6, 10, 12, 20, 23, 24, 25, 28};
    assert_int_equal(L.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_tok(&L, i, kinds[i], st[i], en[i]);
    lexed_free(&L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_punctuation),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_identifier_too_long),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_integer_overflow),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_bad_units),
        cmocka_unit_test(test_duration_overflow),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_unterminated_string),
        cmocka_unit_test(test_string_too_long),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_comment_bad_utf8),
        cmocka_unit_test(test_bad_chars),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_nesting_cap),
        cmocka_unit_test(test_parse_leaves_text_intact),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_validate),
        cmocka_unit_test(test_lexer_bad_utf8),
        cmocka_unit_test(test_spans_track_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
