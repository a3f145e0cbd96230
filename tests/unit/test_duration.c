/* test_duration.c - numbers, durations and rates: dec_parse at the int64
 * edges, the unit table, conversion to milliseconds, and the range and
 * overflow rules that model_build applies to limits (exercised end to end
 * on small in-memory programs). */
#include "unit.h"

#include "lex_util.h"
#include "model.h"
#include "program.h"

static bool parse(const char *s, int64_t *v)
{
    return dec_parse(s, strlen(s), v);
}

static void test_dec_parse(void **state)
{
    (void)state;
    int64_t v = 99;
    assert_true(parse("0", &v));
    assert_true(v == 0);
    assert_true(parse("-0", &v));
    assert_true(v == 0);
    assert_true(parse("123", &v));
    assert_true(v == 123);
    assert_true(parse("-123", &v));
    assert_true(v == -123);
    assert_true(parse("007", &v));
    assert_true(v == 7);
    assert_true(parse("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    assert_true(parse("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
}

static void test_dec_parse_rejects(void **state)
{
    (void)state;
    int64_t v = 42;
    assert_false(parse("9223372036854775808", &v));
    assert_false(parse("-9223372036854775809", &v));
    assert_false(parse("18446744073709551616", &v));
    assert_false(parse("", &v));
    assert_false(parse("-", &v));
    assert_false(parse("12a", &v));
    assert_false(parse("+1", &v));
    assert_false(parse(" 1", &v));
    assert_true(v == 42); /* untouched on failure */
    /* Only n bytes are read. */
    assert_true(dec_parse("12345", 2, &v));
    assert_true(v == 12);
}

static void test_unit_table(void **state)
{
    (void)state;
    assert_true(duration_unit_ms("ms", 2) == 1);
    assert_true(duration_unit_ms("s", 1) == 1000);
    assert_true(duration_unit_ms("m", 1) == 60000);
    assert_true(duration_unit_ms("h", 1) == 3600000);
    assert_true(duration_unit_ms("d", 1) == 86400000);
    static const char *const bad[] = {"", "us", "ns", "S", "M", "w", "y", "sec", "msx", "mm"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(duration_unit_ms(bad[i], strlen(bad[i])) == 0);
    /* The length decides, not a NUL: "ms" cut to one byte is minutes. */
    assert_true(duration_unit_ms("ms", 1) == 60000);
}

/* lex_duration on its own, with a context that collects diagnostics. */
typedef struct dctx {
    arena *a;
    diag_list d;
    parse_ctx c;
    ast_dur out;
} dctx;

static void dur(dctx *x, const char *text)
{
    memset(x, 0, sizeof *x);
    x->a = arena_new();
    diag_list_init(&x->d, x->a);
    x->c.a = x->a;
    x->c.diags = &x->d;
    lex_duration(&x->c, span_make(0, 10, 10 + (uint32_t)strlen(text)), text, strlen(text),
                 &x->out);
}

static void test_ms_conversion(void **state)
{
    (void)state;
    dctx x;
    dur(&x, "90m");
    assert_true(x.out.ms == 5400000);
    assert_true(x.out.n == 90);
    assert_string_equal(x.out.unit, "m");
    assert_int_equal(x.out.sp.start, 10);
    assert_int_equal(x.d.nerrors, 0);
    arena_free(x.a);
    dur(&x, "366d");
    assert_true(x.out.ms == 366LL * 86400000);
    arena_free(x.a);
    /* 2^63-1 ms is the longest duration there is. */
    dur(&x, "9223372036854775807ms");
    assert_true(x.out.ms == INT64_MAX);
    assert_int_equal(x.d.nerrors, 0);
    arena_free(x.a);
    dur(&x, "-106751991167d");
    assert_true(x.out.ms == -106751991167LL * 86400000);
    assert_int_equal(x.d.nerrors, 0);
    arena_free(x.a);
}

static void test_ms_overflow(void **state)
{
    (void)state;
    static const char *const over[] = {
        "106751991168d",          /* the number fits, the milliseconds do not */
        "-106751991168d",
        "2562047788016h",
        "153722867280913m",
        "9223372036854776s",
        "9223372036854775808ms",  /* the number itself does not fit */
    };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        dctx x;
        dur(&x, over[i]);
        assert_int_equal(x.d.nerrors, 1);
        assert_non_null(unit_find(&x.d, DIAG_INT_OVERFLOW));
        assert_int_equal(x.d.head->sp.start, 10);
        assert_true(x.out.ms == 0);
        arena_free(x.a);
    }
    dctx x;
    dur(&x, "2562047788015h");
    assert_int_equal(x.d.nerrors, 0);
    arena_free(x.a);
}

/* ---- limits through model_build ---- */

typedef struct built {
    program p;
    m_policy *m;
} built;

static void build(built *b, const char *text)
{
    program_init(&b->p);
    program_load_text(&b->p, "t.rlp", unit_dup(text, strlen(text)), strlen(text));
    if (b->p.diags.nerrors)
        fail_msg("parse errors in test input: %s", b->p.diags.head->msg);
    b->m = model_build(&b->p);
    assert_non_null(b->m);
}

static void built_free(built *b)
{
    model_free(b->m);
    program_free(&b->p);
}

static const m_limit *first_limit(built *b)
{
    assert_true(b->m->ntenants >= 1);
    assert_true(b->m->tenants[0]->nlimits >= 1);
    return &b->m->tenants[0]->limits[0];
}

static void test_limit_windows(void **state)
{
    (void)state;
    static const struct {
        const char *rate;
        int64_t count, window_ms;
    } ok[] = {
        {"10/s", 10, 1000},         {"10/1s", 10, 1000},      {"5/250ms", 5, 250},
        {"100/m", 100, 60000},      {"7/2h", 7, 7200000},     {"1/d", 1, 86400000},
        {"1/366d", 1, 366LL * 86400000}, {"3/1ms", 3, 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "tenant \"a\" { limit %s }\n", ok[i].rate);
        built b;
        build(&b, text);
        assert_int_equal(b.p.diags.nerrors, 0);
        const m_limit *l = first_limit(&b);
        assert_true(l->count == ok[i].count);
        assert_true(l->window_ms == ok[i].window_ms);
        assert_true(l->burst == ok[i].count);
        assert_true(l->cost == 1);
        built_free(&b);
    }
}

static void expect_error(const char *text, int code, uint32_t start, uint32_t end)
{
    built b;
    build(&b, text);
    assert_int_equal(unit_count(&b.p.diags, code), 1);
    assert_int_equal(b.p.diags.nerrors, 1);
    assert_diag_at(&b.p.diags, code, start, end);
    built_free(&b);
}

static void test_limit_ranges(void **state)
{
    (void)state;
    /*                0         1         2
     *                012345678901234567890123 */
    expect_error("tenant \"a\" { limit 1/0s }", DIAG_ZERO_WINDOW, 21, 23);
    expect_error("tenant \"a\" { limit 1/367d }", DIAG_DURATION_RANGE, 21, 25);
    expect_error("tenant \"a\" { limit 1/-5s }", DIAG_DURATION_RANGE, 21, 24);
    expect_error("tenant \"a\" { limit 0/s }", DIAG_BAD_LIMIT, 19, 20);
    expect_error("tenant \"a\" { limit -3/s }", DIAG_BAD_LIMIT, 19, 21);
    expect_error("tenant \"a\" { limit 3/s burst 0 }", DIAG_BAD_BURST, 29, 30);
    expect_error("tenant \"a\" { limit 3/s cost 0 }", DIAG_BAD_COST, 28, 29);
}

static void test_rate_overflow_boundary(void **state)
{
    (void)state;
    /* count x window_ms may reach 2^51 = 2251799813685248, not pass it. */
    built b;
    build(&b, "tenant \"a\" { limit 2251799813685248/1ms }");
    assert_int_equal(b.p.diags.nerrors, 0);
    assert_true(first_limit(&b)->count == 2251799813685248LL);
    built_free(&b);
    expect_error("tenant \"a\" { limit 2251799813685249/1ms }", DIAG_RATE_OVERFLOW, 19, 39);

    /* Over a second: floor(2^51 / 1000) = 2251799813685 is the largest. */
    build(&b, "tenant \"a\" { limit 2251799813685/s }");
    assert_int_equal(b.p.diags.nerrors, 0);
    built_free(&b);
    expect_error("tenant \"a\" { limit 2251799813686/s }", DIAG_RATE_OVERFLOW, 19, 34);

    /* Over a day (86 400 000 ms): 26062497 fits, 26062498 does not. */
    build(&b, "tenant \"a\" { limit 26062497/d }");
    assert_int_equal(b.p.diags.nerrors, 0);
    built_free(&b);
    expect_error("tenant \"a\" { limit 26062498/d }", DIAG_RATE_OVERFLOW, 19, 29);
}

static void test_rate_overflow_burst_and_cost(void **state)
{
    (void)state;
    /* The burst is the bucket's capacity: it counts like the limit, and the
     * error points at the number that overflows. */
    expect_error("tenant \"a\" { limit 10/s burst 2251799813686 }", DIAG_RATE_OVERFLOW, 30,
                 43);
    built b;
    build(&b, "tenant \"a\" { limit 10/s burst 2251799813685 }");
    assert_int_equal(b.p.diags.nerrors, 0);
    assert_true(first_limit(&b)->burst == 2251799813685LL);
    assert_true(first_limit(&b)->burst_set);
    built_free(&b);
    expect_error("tenant \"a\" { limit 10/s cost 2251799813686 }", DIAG_RATE_OVERFLOW, 29,
                 42);
    build(&b, "tenant \"a\" { limit 10/s cost 2251799813685 }");
    assert_int_equal(b.p.diags.nerrors, 0);
    built_free(&b);
    /* INT64_MAX itself must not wrap around in the check. */
    expect_error("tenant \"a\" { limit 9223372036854775807/366d }", DIAG_RATE_OVERFLOW, 19,
                 43);
}

static void test_rate_overflow_in_tier_and_route(void **state)
{
    (void)state;
    built b;
    build(&b, "tier t { limit 9007199254741/s }\n"
              "tenant \"a\" tier t { route GET \"/x\" { limit 9007199254741/s } }\n");
    assert_int_equal(unit_count(&b.p.diags, DIAG_RATE_OVERFLOW), 2);
    built_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dec_parse),
        cmocka_unit_test(test_dec_parse_rejects),
        cmocka_unit_test(test_unit_table),
        cmocka_unit_test(test_ms_conversion),
        cmocka_unit_test(test_ms_overflow),
        cmocka_unit_test(test_limit_windows),
        cmocka_unit_test(test_limit_ranges),
        cmocka_unit_test(test_rate_overflow_boundary),
        cmocka_unit_test(test_rate_overflow_burst_and_cost),
        cmocka_unit_test(test_rate_overflow_in_tier_and_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
