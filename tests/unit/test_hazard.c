/* test_hazard.c - the arithmetic under the hazard passes: the worst-case
 * bound formulas, the dead-limit relation and the counter-expiry rule.  The
 * Cluster slots and the one-hash-tag-per-tenant proof of RLC2202 are the
 * plan contract's (test_plan_key.c). */
#include "unit.h"

#include "bound.h"
#include "check.h"
#include "hazard.h"

static m_limit lim(int64_t count, int64_t window_ms, int64_t burst, plan_kind al)
{
    m_limit l;
    memset(&l, 0, sizeof l);
    l.count = count;
    l.window_ms = window_ms;
    l.burst = burst;
    l.cost = 1;
    l.algo = al;
    return l;
}

static void test_bound_span(void **state)
{
    (void)state;
    m_limit tb = lim(100, 60000, 100, PLAN_TOKEN_BUCKET);
    /* A full bucket at the first millisecond, then 59 999 ms of refill. */
    assert_int_equal(bound_span(&tb, 60000, 0), 199);
    assert_int_equal(bound_span(&tb, 60001, 0), 200);
    assert_int_equal(bound_span(&tb, 300000, 0), 599);
    assert_int_equal(bound_span(&tb, 60000, 2000), 203);
    m_limit fw = lim(100, 60000, 100, PLAN_FIXED_WINDOW);
    assert_int_equal(bound_span(&fw, 1, 0), 100);        /* one instant, one window */
    assert_int_equal(bound_span(&fw, 2, 0), 200);        /* 2N across a boundary */
    assert_int_equal(bound_span(&fw, 60001, 0), 200);
    assert_int_equal(bound_span(&fw, 60002, 0), 300);
    assert_int_equal(bound_span(&fw, 60000, 2), 300);    /* skew opens a third window */
    m_limit ap = lim(10, 1000, 10, PLAN_APPROX_SLIDING_WINDOW);
    assert_int_equal(bound_span(&ap, 1000, 0), 19);      /* 10 at 999, 9 at 1998 */
    assert_int_equal(bound_span(&ap, 1, 0), 10);
    assert_true(bound_span(&ap, 86400000, 0) <= 10 * 86401); /* a long span, summed */
    m_limit sw = lim(100, 60000, 100, PLAN_SLIDING_WINDOW);
    assert_int_equal(bound_span(&sw, 60000, 0), 100);
    assert_int_equal(bound_span(&sw, 150000, 0), 300);
    m_limit costly = lim(1000, 60000, 1000, PLAN_SLIDING_WINDOW);
    costly.cost = 3;
    assert_int_equal(bound_span(&costly, 60000, 0), 333);
    m_limit huge = lim(PLAN_EXACT_INT_MAX / 1000, 1000, PLAN_EXACT_INT_MAX / 1000, PLAN_TOKEN_BUCKET);
    assert_true(bound_span(&huge, PLAN_WINDOW_MAX_MS, PLAN_SKEW_MAX_MS) > 0); /* no overflow */
}

static void test_kills(void **state)
{
    (void)state;
    m_limit a = lim(100, 60000, 100, PLAN_TOKEN_BUCKET);
    m_limit b = lim(1000, 300000, 1000, PLAN_TOKEN_BUCKET);
    assert_true(limit_kills(&a, &b));
    assert_false(limit_kills(&b, &a));
    m_limit fw600 = lim(600, 300000, 600, PLAN_FIXED_WINDOW);
    m_limit fw599 = lim(599, 300000, 599, PLAN_FIXED_WINDOW);
    m_limit fw598 = lim(598, 300000, 598, PLAN_FIXED_WINDOW);
    assert_true(limit_kills(&a, &fw600));   /* at most 599 in any 5m */
    assert_true(limit_kills(&a, &fw599));
    assert_false(limit_kills(&a, &fw598));
    /* The weighted counter can reject with less than its count in the
     * trailing window: it is killed only by what two windows hold. */
    m_limit ap = lim(200, 60000, 200, PLAN_APPROX_SLIDING_WINDOW);
    m_limit sw100 = lim(100, 60000, 100, PLAN_SLIDING_WINDOW);
    m_limit sw101 = lim(101, 60000, 101, PLAN_SLIDING_WINDOW);
    assert_true(limit_kills(&sw100, &ap));
    assert_false(limit_kills(&sw101, &ap));
    /* A fixed window admits 2N at once: a bucket of burst 2N-1 can bind. */
    m_limit fw = lim(10, 1000, 10, PLAN_FIXED_WINDOW);
    m_limit tb19 = lim(100, 1000, 19, PLAN_TOKEN_BUCKET);
    m_limit tb20 = lim(100, 1000, 20, PLAN_TOKEN_BUCKET);
    assert_false(limit_kills(&fw, &tb19));
    assert_true(limit_kills(&fw, &tb20));
}

static void test_ttl(void **state)
{
    (void)state;
    m_limit fw = lim(100, 60000, 100, PLAN_FIXED_WINDOW);
    assert_int_equal(counter_expiry_ms(&fw, 0), 60001);
    assert_int_equal(counter_expiry_ms(&fw, 250), 60501);
    m_limit tb = lim(10, 1000, 50, PLAN_TOKEN_BUCKET);
    assert_int_equal(limit_refill_ms(&tb), 5000);
    assert_int_equal(counter_expiry_ms(&tb, 1), 5003);
    /* The rule covers window + skew for every algorithm, burst and skew... */
    const plan_kind algos[] = {PLAN_TOKEN_BUCKET, PLAN_GCRA, PLAN_SLIDING_WINDOW, PLAN_FIXED_WINDOW,
                          PLAN_APPROX_SLIDING_WINDOW};
    const int64_t windows[] = {1, 999, 1000, 60000, PLAN_WINDOW_MAX_MS};
    const int64_t skews[] = {0, 1, 25, 1000, PLAN_SKEW_MAX_MS};
    for (size_t a = 0; a < 5; a++)
        for (size_t w = 0; w < 5; w++)
            for (size_t k = 0; k < 5; k++)
                for (int64_t burst = 1; burst <= 1000; burst *= 10) {
                    m_limit l = lim(100, windows[w], burst, algos[a]);
                    assert_true(counter_expiry_covers(&l, skews[k],
                                                      counter_expiry_ms(&l, skews[k])));
                }
    /* ...and the check catches a rule that does not (RLC2104): a fixed
     * window expiring after the window alone, with skew. */
    assert_false(counter_expiry_covers(&fw, 250, 60000));
    assert_true(counter_expiry_covers(&fw, 0, 60000));
    m_limit small = lim(100, 60000, 1, PLAN_TOKEN_BUCKET); /* refills in 600ms */
    assert_true(counter_expiry_covers(&small, 0, 600));
    assert_false(counter_expiry_covers(&small, 10, 600));
    char b[32];
    dur_format(90000, b, sizeof b);
    assert_string_equal(b, "90s");
    dur_format(1500, b, sizeof b);
    assert_string_equal(b, "1500ms");
    dur_format(86400000, b, sizeof b);
    assert_string_equal(b, "1d");
}

/* The whole pipeline over tenant names that contain braces: the proof
 * holds, nothing fires. */
static void test_pipeline_braces(void **state)
{
    (void)state;
    const char *src = "tenant \"a}b\" { limit 1/1s }\ntenant \"{\" { limit 1/1s }\n"
                      "tenant \"\" { limit 1/1s }\n";
    program p;
    program_init(&p);
    program_load_text(&p, "t.rlp", unit_dup(src, strlen(src)), strlen(src));
    m_policy *m = check_program(&p, NULL);
    assert_non_null(m);
    assert_int_equal(unit_count(&p.diags, DIAG_CROSS_SLOT), 0);
    assert_int_equal(p.diags.nerrors + p.diags.nwarnings, 0);
    model_free(m);
    program_free(&p);
}

/* `tenant *` is proven against names the policy never lists: the empty
 * name and one holding every byte 1-255.  Clean here; a tag encoding that
 * lost its hash tag for some byte would fire RLC2202 at `tenant *` even
 * though no listed tenant holds that byte. */
static void test_pipeline_tenant_template(void **state)
{
    (void)state;
    const char *src = "tenant \"acme\" { limit 10/1s key * { limit 1/1s } }\n"
                      "tenant * { limit 5/1s group * { key * { limit 1/1s } } }\n";
    program p;
    program_init(&p);
    program_load_text(&p, "t.rlp", unit_dup(src, strlen(src)), strlen(src));
    m_policy *m = check_program(&p, NULL);
    assert_non_null(m);
    assert_int_equal(unit_count(&p.diags, DIAG_CROSS_SLOT), 0);
    assert_int_equal(p.diags.nerrors + p.diags.nwarnings, 0);
    model_free(m);
    program_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_span), cmocka_unit_test(test_kills),
        cmocka_unit_test(test_ttl),        cmocka_unit_test(test_pipeline_braces),
        cmocka_unit_test(test_pipeline_tenant_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
