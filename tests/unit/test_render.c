/* test_render.c - how diagnostics look: the exact text for a one-line error
 * with its underline, a span over several lines, a note with its own
 * location, a diagnostic with no file, a very long line shown through a
 * window, bytes a terminal would act on; the JSON form's field names,
 * escaping and validity; render_all's sorting and count line. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>

#include "render.h"

typedef struct fixture {
    arena *a;
    srcmap map;
    diag_list d;
    buf out;
} fixture;

static void fx_init(fixture *f)
{
    f->a = arena_new();
    srcmap_init(&f->map);
    diag_list_init(&f->d, f->a);
    buf_init(&f->out, 0);
}

static void fx_free(fixture *f)
{
    buf_free(&f->out);
    srcmap_free(&f->map);
    arena_free(f->a);
}

static uint32_t fx_file(fixture *f, const char *name, const char *text)
{
    return srcmap_add(&f->map, name, name, unit_dup(text, strlen(text)), strlen(text), false);
}

static const char *text_of(fixture *f, const diag *d)
{
    buf_reset(&f->out);
    render_text(&f->out, &f->map, d, false);
    return buf_str(&f->out);
}

static void test_one_line(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "policy \"p\" {}\ntenant \"x\" tier gold {\n}\n");
    diag *d = diag_add(&f.d, DIAG_UNDEFINED_TIER, span_make(a, 30, 34),
                       "tier '%s' is not defined", "gold");
    assert_string_equal(text_of(&f, d),
                        "a.rlp:2:17: error[RLC1001]: tier 'gold' is not defined\n"
                        "    2 | tenant \"x\" tier gold {\n"
                        "      |                 ^^^^\n");
    fx_free(&f);
}

static void test_color(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "x\n");
    diag *d = diag_add(&f.d, DIAG_SYNTAX, span_make(a, 0, 1), "bad");
    render_text(&f.out, &f.map, d, true);
    assert_string_equal(buf_str(&f.out),
                        "\033[1ma.rlp:1:1: \033[1;31merror[RLC0010]\033[0m\033[1m: bad\n"
                        "\033[0m    1 | x\n"
                        "      | \033[1;31m^\033[0m\n");
    fx_free(&f);
}

static void test_multi_line_span(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "tier t {\n  limit 1/s\n}\n");
    diag *d = diag_add(&f.d, DIAG_DUP_TIER, span_make(a, 0, 22), "tier 't' is defined twice");
    /* The first line is shown, underlined from the start to its end. */
    assert_string_equal(text_of(&f, d),
                        "a.rlp:1:1: error[RLC1014]: tier 't' is defined twice\n"
                        "    1 | tier t {\n"
                        "      | ^^^^^^^^\n");
    /* Starting mid-line: underlined from there to the end of the line. */
    d = diag_add(&f.d, DIAG_DUP_TIER, span_make(a, 5, 22), "again");
    assert_string_equal(text_of(&f, d),
                        "a.rlp:1:6: error[RLC1014]: again\n"
                        "    1 | tier t {\n"
                        "      |      ^^^\n");
    fx_free(&f);
}

static void test_note_with_location(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "tenant \"x\" {}\n");
    uint32_t b = fx_file(&f, "lib/b.rlp", "# b\n\ntenant \"x\" {}\n");
    diag *d = diag_add(&f.d, DIAG_DUP_TENANT, span_make(b, 12, 15),
                       "tenant \"x\" is defined twice");
    diag_note_add(&f.d, d, span_make(a, 7, 10), "first defined here");
    diag_note_add(&f.d, d, span_none, "tenants are global across imports");
    assert_string_equal(text_of(&f, d),
                        "lib/b.rlp:3:8: error[RLC1010]: tenant \"x\" is defined twice\n"
                        "    3 | tenant \"x\" {}\n"
                        "      |        ^^^\n"
                        "a.rlp:1:8: note: first defined here\n"
                        "    1 | tenant \"x\" {}\n"
                        "      |        ^^^\n"
                        "rlc: note: tenants are global across imports\n");
    fx_free(&f);
}

static void test_no_file(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    diag *d = diag_add(&f.d, DIAG_IO_READ, span_none,
                       "cannot read 'nope.rlp': No such file or directory");
    assert_string_equal(text_of(&f, d),
                        "rlc: error[RLC0001]: cannot read 'nope.rlp': No such file or "
                        "directory\n");
    /* A span whose file index is out of range is treated the same. */
    d = diag_add(&f.d, DIAG_IO_READ, span_make(7, 0, 1), "gone");
    assert_string_equal(text_of(&f, d), "rlc: error[RLC0001]: gone\n");
    fx_free(&f);
}

static void test_end_of_file(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "tenant \"x\" {");
    diag *d = diag_add(&f.d, DIAG_SYNTAX, span_make(a, 12, 12),
                       "unexpected end of file, expected '}'");
    assert_string_equal(text_of(&f, d),
                        "a.rlp:1:13: error[RLC0010]: unexpected end of file, expected '}'\n"
                        "    1 | tenant \"x\" {\n"
                        "      |             ^\n");
    /* An empty file has no line to show. */
    uint32_t e = fx_file(&f, "e.rlp", "");
    d = diag_add(&f.d, DIAG_EMPTY_FILE, span_make(e, 0, 0), "'e.rlp' declares nothing");
    assert_string_equal(text_of(&f, d), "e.rlp:1:1: error[RLC0012]: 'e.rlp' declares nothing\n");
    fx_free(&f);
}

static void test_multibyte_underline(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    /* The underline counts characters, not bytes. */
    uint32_t a = fx_file(&f, "a.rlp", "# \xc3\xa9t\xc3\xa9\ntenant \"\xe2\x82\xac\xe2\x82\xac\" zz\n");
    diag *d = diag_add(&f.d, DIAG_SYNTAX, span_make(a, 24, 26), "unexpected name 'zz'");
    assert_string_equal(text_of(&f, d),
                        "a.rlp:2:13: error[RLC0010]: unexpected name 'zz'\n"
                        "    2 | tenant \"\xe2\x82\xac\xe2\x82\xac\" zz\n"
                        "      |             ^^\n");
    fx_free(&f);
}

static char *long_line(size_t n)
{
    /* n-1 characters: 'a' up to 5000, "zzzz" at 5000, 'b' after, '\n'. */
    char *t = malloc(n + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n - 1; i++)
        t[i] = i < 5000 ? 'a' : i < 5004 ? 'z' : 'b';
    t[n - 1] = '\n';
    t[n] = '\0';
    return t;
}

static void test_long_line_window(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    char *t = long_line(10001);
    uint32_t a = fx_file(&f, "long.rlp", t);
    free(t);
    char want[1024];
    char as[41], bs[77];
    memset(as, 'a', 40);
    as[40] = '\0';
    memset(bs, 'b', 76);
    bs[76] = '\0';

    /* Middle: 40 characters of context before the span, 120 shown. */
    diag *d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 5000, 5004), "here");
    snprintf(want, sizeof want,
             "long.rlp:1:5001: error[RLC0005]: here\n"
             "    1 | ...%szzzz%s...\n"
             "      |    %40s^^^^\n", as, bs, "");
    assert_string_equal(text_of(&f, d), want);

    /* Start: no leading "...", the first 120 characters. */
    d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 3, 5), "start");
    char a120[121];
    memset(a120, 'a', 120);
    a120[120] = '\0';
    snprintf(want, sizeof want,
             "long.rlp:1:4: error[RLC0005]: start\n"
             "    1 | %s...\n"
             "      |    ^^\n", a120);
    assert_string_equal(text_of(&f, d), want);

    /* End: a leading "...", the line's end, no trailing "...". */
    d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 9996, 10000), "end");
    char b44[45];
    memset(b44, 'b', 44);
    b44[44] = '\0';
    snprintf(want, sizeof want,
             "long.rlp:1:9997: error[RLC0005]: end\n"
             "    1 | ...%s\n"
             "      |    %40s^^^^\n", b44, "");
    assert_string_equal(text_of(&f, d), want);

    /* A span wider than the window is underlined across the window only. */
    d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 0, 10000), "all");
    const char *out = text_of(&f, d);
    const char *caret = strstr(out, "      | ^");
    assert_non_null(caret);
    assert_int_equal(strspn(caret + 8, "^"), 120);
    assert_int_equal(caret[8 + 120], '\n');
    /* Never the whole line: output stays small. */
    assert_true(strlen(out) < 400);
    fx_free(&f);
}

static void test_control_bytes(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    /* tab, ESC sequence, DEL, C1 CSI (U+009B), RLO (U+202E), a bad byte,
     * a carriage return inside the line. */
    uint32_t a = fx_file(&f, "a.rlp",
                         "\tkey\x1b[31m \x7f x\xc2\x9by\xe2\x80\xaez\xff\r!\n");
    diag *d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 1, 4), "unexpected");
    assert_string_equal(text_of(&f, d),
                        "a.rlp:1:2: error[RLC0005]: unexpected\n"
                        "    1 |  key?[31m ? x?y?z?\?!\n"
                        "      |  ^^^\n");
    /* Carets line up after replaced characters. */
    d = diag_add(&f.d, DIAG_BAD_CHAR, span_make(a, 19, 20), "z");
    char want[256];
    snprintf(want, sizeof want,
             "a.rlp:1:17: error[RLC0005]: z\n"
             "    1 |  key?[31m ? x?y?z?\?!\n"
             "      | %16s^\n", "");
    assert_string_equal(text_of(&f, d), want);
    fx_free(&f);
}

static void test_message_sanitised(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    /* Messages quote decoded strings ("\u{1b}"), file names come from the
     * command line: neither may send escape sequences to the terminal. */
    uint32_t a = fx_file(&f, "evil\x1b]0;x\x07.rlp", "t\n");
    diag *d = diag_add(&f.d, DIAG_DUP_TENANT, span_make(a, 0, 1),
                       "tenant \"\x1b[2J\xc2\x9b\" is defined twice");
    diag_note_add(&f.d, d, span_make(a, 0, 1), "first \x1b[0m here");
    assert_string_equal(text_of(&f, d),
                        "evil?]0;x?.rlp:1:1: error[RLC1010]: tenant \"?[2J?\" is defined "
                        "twice\n"
                        "    1 | t\n"
                        "      | ^\n"
                        "evil?]0;x?.rlp:1:1: note: first ?[0m here\n"
                        "    1 | t\n"
                        "      | ^\n");
    fx_free(&f);
}

static void test_json(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "tenant \"x\" {}\n");
    uint32_t b = fx_file(&f, "b.rlp", "\ntenant \"x\" {\n}\n");
    diag *d = diag_add(&f.d, DIAG_DUP_TENANT, span_make(b, 8, 15),
                       "tenant \"x\" is defined twice");
    diag_note_add(&f.d, d, span_make(a, 7, 10), "first defined here");
    render_json(&f.out, &f.map, d);
    assert_string_equal(buf_str(&f.out),
                        "{\"code\":\"RLC1010\",\"severity\":\"error\",\"file\":\"b.rlp\","
                        "\"line\":2,\"column\":8,\"end_line\":3,\"end_column\":2,"
                        "\"message\":\"tenant \\\"x\\\" is defined twice\",\"notes\":["
                        "{\"file\":\"a.rlp\",\"line\":1,\"column\":8,\"end_line\":1,"
                        "\"end_column\":11,\"message\":\"first defined here\"}]}");
    json_error_t err;
    json_t *j = json_loads(buf_str(&f.out), JSON_REJECT_DUPLICATES, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "end_line")), 3);
    json_decref(j);

    /* No file: null and zeros; no notes: an empty list. */
    buf_reset(&f.out);
    d = diag_add(&f.d, DIAG_IO_READ, span_none, "cannot read");
    render_json(&f.out, &f.map, d);
    assert_string_equal(buf_str(&f.out),
                        "{\"code\":\"RLC0001\",\"severity\":\"error\",\"file\":null,"
                        "\"line\":0,\"column\":0,\"end_line\":0,\"end_column\":0,"
                        "\"message\":\"cannot read\",\"notes\":[]}");
    fx_free(&f);
}

static void test_json_escaping(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "d\xffir/\"q\".rlp", "x\n");
    diag *d = diag_add(&f.d, DIAG_SYNTAX, span_make(a, 0, 1),
                       "q\" b\\ n\n t\t r\r c\x01 e\x1b d\x7f \xc3\xa9 bad\xc3(");
    render_json(&f.out, &f.map, d);
    const char *s = buf_str(&f.out);
    assert_non_null(strstr(s, "\"file\":\"d\\ufffdir/\\\"q\\\".rlp\""));
    assert_non_null(strstr(s, "\"message\":\"q\\\" b\\\\ n\\n t\\t r\\r c\\u0001 e\\u001b "
                              "d\\u007f \xc3\xa9 bad\\ufffd(\""));
    /* Whatever went in, the line is valid JSON that decodes back. */
    json_error_t err;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("invalid JSON: %s: %s", err.text, s);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "q\" b\\ n\n t\t r\r c\x01 e\x1b d\x7f \xc3\xa9 bad\xef\xbf\xbd(");
    assert_string_equal(json_string_value(json_object_get(j, "severity")), "error");
    json_decref(j);
    fx_free(&f);
}

static void test_render_all(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    uint32_t a = fx_file(&f, "a.rlp", "a b\n");
    diag_add(&f.d, DIAG_SYNTAX, span_make(a, 2, 3), "second");
    diag_add(&f.d, DIAG_SYNTAX, span_make(a, 0, 1), "first");
    char *mem = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&mem, &len);
    assert_non_null(fp);
    render_opts o = {.color = false, .format = FMT_TEXT};
    render_all(fp, &f.map, &f.d, &o);
    fclose(fp);
    assert_string_equal(mem, "a.rlp:1:1: error[RLC0010]: first\n"
                             "    1 | a b\n"
                             "      | ^\n"
                             "a.rlp:1:3: error[RLC0010]: second\n"
                             "    1 | a b\n"
                             "      |   ^\n"
                             "rlc: 2 errors, 0 warnings\n");
    free(mem);

    /* JSON: one object per line, no count line. */
    fp = open_memstream(&mem, &len);
    o.format = FMT_JSON;
    render_all(fp, &f.map, &f.d, &o);
    fclose(fp);
    size_t lines = 0;
    for (char *c = mem; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 2);
    assert_null(strstr(mem, "rlc:"));
    free(mem);

    /* At the cap, the count line says so. */
    diag_list_init(&f.d, f.a);
    for (int i = 0; i < 25; i++)
        diag_add(&f.d, DIAG_SYNTAX, span_make(a, 0, 1), "e");
    fp = open_memstream(&mem, &len);
    o.format = FMT_TEXT;
    render_all(fp, &f.map, &f.d, &o);
    fclose(fp);
    assert_non_null(strstr(mem, "rlc: 20 errors, 0 warnings (stopped at the limit of 20 "
                                "errors)\n"));
    free(mem);

    /* Nothing to say: nothing printed. */
    diag_list_init(&f.d, f.a);
    fp = open_memstream(&mem, &len);
    render_all(fp, &f.map, &f.d, &o);
    fclose(fp);
    assert_int_equal(len, 0);
    free(mem);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_multi_line_span),
        cmocka_unit_test(test_note_with_location),
        cmocka_unit_test(test_no_file),
        cmocka_unit_test(test_end_of_file),
        cmocka_unit_test(test_multibyte_underline),
        cmocka_unit_test(test_long_line_window),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_message_sanitised),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_render_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
