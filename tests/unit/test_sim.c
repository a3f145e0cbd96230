/* test_sim.c - edge cases of every algorithm in the C decision engine, with
 * figures worked out by hand (SPEC.md 6.4).  The Redis library computes
 * the same answers (tests/suites/differential.sh), so these pin both. */
#include "unit.h"

#include <jansson.h>

#include "rules.h"
#include "sim.h"

/* A ruleset of tenant "a" from rule JSON objects. */
static void load(rl_ruleset *rs, const char *rules_json, bool client_time)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"policy\":{\"name\":\"t\",\"namespace\":\"rl\",\"max_clock_skew_ms\":0,"
             "\"time_source\":\"%s\",\"on_store_error\":\"fail_open\"},"
             "\"tenants\":[{\"name\":\"a\",\"rules\":%s}]}",
             client_time ? "client" : "server", rules_json);
    json_error_t je;
    json_t *plan = json_loads(text, 0, &je);
    if (!plan)
        fail_msg("bad test JSON: %s", je.text);
    char err[256];
    if (!rules_from_plan(plan, rs, err, sizeof err))
        fail_msg("rules: %s", err);
    json_decref(plan);
}

/* A rule's "subject" member: none for the tenant itself (SPEC.md 5.5). */
#define TENANT_SUBJ ""
#define KEY_SUBJ "\"subject\":\"key:k\","

static char *rate_rule(char *out, const char *id, const char *subj, const char *algo, int count,
                       int window, int burst, int cost, bool shadow)
{
    sprintf(out,
            "{\"id\":\"%s\",%s\"route\":null,\"kind\":\"rate\",\"algorithm\":\"%s\","
            "\"count\":%d,\"window_ms\":%d,\"burst\":%d,\"cost\":%d,\"shadow\":%s}",
            id, subj, algo, count, window, burst, cost, shadow ? "true" : "false");
    return out;
}

static void one_rule(rl_ruleset *rs, const char *algo, int count, int window, int burst,
                     int cost)
{
    char r[512], all[600];
    rate_rule(r, "00000000000000aa", TENANT_SUBJ, algo, count, window, burst, cost, false);
    snprintf(all, sizeof all, "[%s]", r);
    load(rs, all, true);
}

static sim_decision dec(sim *s, const char *path, int64_t cost, int64_t now)
{
    sim_decision d;
    assert_int_equal(sim_decide(s, "a", path, NULL, NULL, cost, now, NULL, &d), SIM_OK);
    return d;
}

static int sendn(sim *s, const char *path, int n, int64_t now)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += dec(s, path, 1, now).allowed;
    return ok;
}

static void token_bucket_exhaustion_and_refill(void **state)
{
    (void)state;
    rl_ruleset rs;
    one_rule(&rs, "token_bucket", 10, 1000, 10, 1);
    sim *s = sim_new(&rs);
    assert_int_equal(sendn(s, "", 10, 0), 10);
    sim_decision d = dec(s, "", 1, 0);
    assert_false(d.allowed);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(d.retry_ms, 100);     /* one token per 100 ms */
    assert_int_equal(d.reset_ms, 1000);    /* the whole bucket */
    assert_false(dec(s, "", 1, 99).allowed);
    d = dec(s, "", 1, 100);
    assert_true(d.allowed);
    assert_int_equal(d.remaining, 0);
    /* Refill caps at the burst, however long the pause. */
    assert_int_equal(sendn(s, "", 15, 1000000), 10);
    sim_free(s);
    rules_free(&rs);
}

static void cost_larger_than_capacity(void **state)
{
    (void)state;
    const char *algos[] = {"token_bucket", "gcra", "fixed_window", "sliding_window",
                           "approx_sliding_window"};
    for (int a = 0; a < 4; a++) {
        rl_ruleset rs;
        one_rule(&rs, algos[a], 10, 1000, 10, 3);   /* each request costs 3 units */
        sim *s = sim_new(&rs);
        sim_decision d = dec(s, "", 4, 0);          /* 12 units > 10: never */
        assert_false(d.allowed);
        assert_int_equal(d.retry_ms, -1);
        assert_int_equal(d.remaining, 10);          /* nothing was charged */
        d = dec(s, "", 3, 0);                       /* 9 units: fits */
        assert_true(d.allowed);
        assert_int_equal(d.remaining, 1);
        d = dec(s, "", 1, 0);                       /* 3 more: only 1 left */
        assert_false(d.allowed);
        assert_true(d.retry_ms > 0);
        sim_free(s);
        rules_free(&rs);
    }
}

static void fixed_window_boundaries(void **state)
{
    (void)state;
    rl_ruleset rs;
    one_rule(&rs, "fixed_window", 5, 1000, 5, 1);
    sim *s = sim_new(&rs);
    assert_int_equal(sendn(s, "", 5, 999), 5);
    sim_decision d = dec(s, "", 1, 999);
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 1);                /* the window ends at 1000 */
    d = dec(s, "", 1, 1000);                        /* a new window */
    assert_true(d.allowed);
    assert_int_equal(d.remaining, 4);
    assert_int_equal(d.reset_ms, 1000);
    /* The classic fixed-window burst: 5 at 1999 and 5 at 2000. */
    assert_int_equal(sendn(s, "", 5, 1999), 4);
    assert_int_equal(sendn(s, "", 5, 2000), 5);
    sim_free(s);
    rules_free(&rs);
}

static void sliding_window_is_exact(void **state)
{
    (void)state;
    rl_ruleset rs;
    one_rule(&rs, "sliding_window", 10, 1000, 10, 1);
    sim *s = sim_new(&rs);
    /* 10 at 999 fill the trailing second until 1999, whatever the fixed
     * windows say: nothing at 1500, all 10 again at 1999. */
    assert_int_equal(sendn(s, "", 10, 999), 10);
    sim_decision d = dec(s, "", 1, 1500);
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 499);     /* 999 + 1000 - 1500 */
    assert_int_equal(d.reset_ms, 499);
    assert_false(dec(s, "", 1, 1998).allowed);
    assert_int_equal(sendn(s, "", 12, 1999), 10);
    /* Oldest first: 3 at 2999 leave at 3999, 7 at 3500 at 4500. */
    assert_int_equal(sendn(s, "", 3, 2999), 3);
    assert_int_equal(sendn(s, "", 7, 3500), 7);
    d = dec(s, "", 4, 3600);
    assert_false(d.allowed);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(d.retry_ms, 900);     /* both must go: 4500 - 3600 */
    assert_int_equal(dec(s, "", 3, 3600).retry_ms, 399);   /* only the 3: 3999 - 3600 */
    /* A clock that goes back is judged at the newest time, never earlier. */
    d = dec(s, "", 1, 3000);
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 999);
    assert_int_equal(sendn(s, "", 4, 3999), 3);
    sim_free(s);
    rules_free(&rs);
}

static void approx_sliding_window_weights_previous(void **state)
{
    (void)state;
    rl_ruleset rs;
    one_rule(&rs, "approx_sliding_window", 10, 1000, 10, 1);
    sim *s = sim_new(&rs);
    assert_int_equal(sendn(s, "", 10, 500), 10);
    /* At 1000 the previous window (10) still weighs fully. */
    sim_decision d = dec(s, "", 1, 1000);
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 100);   /* 10 x 900/1000 = 9 leaves room for 1 */
    assert_false(dec(s, "", 1, 1099).allowed);
    assert_true(dec(s, "", 1, 1100).allowed);
    /* Half way through, half of the previous window remains: 5 + 1 held. */
    d = dec(s, "", 1, 1500);
    assert_true(d.allowed);
    assert_int_equal(d.remaining, 3);   /* 10 - 2 current - ceil(10 x 500/1000) */
    /* Two windows later nothing is held. */
    assert_int_equal(sendn(s, "", 12, 3000), 10);
    sim_free(s);
    rules_free(&rs);
}

static void gcra_equals_token_bucket(void **state)
{
    (void)state;
    char a[512], b[512], all[1100];
    rate_rule(a, "00000000000000a1", TENANT_SUBJ, "token_bucket", 7, 900, 4, 1, true);
    rate_rule(b, "00000000000000b2", TENANT_SUBJ, "gcra", 7, 900, 4, 1, true);
    snprintf(all, sizeof all, "[%s,%s]", a, b);
    rl_ruleset rs;
    load(&rs, all, true);
    sim *s = sim_new(&rs);
    uint64_t x = 12345;
    int64_t now = 0;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        now += (int64_t)((x >> 33) % 200);
        int64_t cost = 1 + (int64_t)((x >> 20) % 3);
        sim_decision d = dec(s, "", cost, now);
        /* Both rules are shadow: compare their own verdicts. */
        assert_int_equal(d.noutcomes, 2);
        assert_int_equal(d.outcomes[0].admit, d.outcomes[1].admit);
        assert_int_equal(d.outcomes[0].remaining, d.outcomes[1].remaining);
        assert_int_equal(d.outcomes[0].retry_ms, d.outcomes[1].retry_ms);
        assert_int_equal(d.outcomes[0].reset_ms, d.outcomes[1].reset_ms);
    }
    sim_free(s);
    rules_free(&rs);
}

static void concurrency_lease_expiry_and_release(void **state)
{
    (void)state;
    rl_ruleset rs;
    load(&rs,
         "[{\"id\":\"00000000000000cc\"," TENANT_SUBJ "\"route\":null,"
         "\"kind\":\"concurrency\",\"max\":2,\"lease_ms\":100,\"shadow\":false}]",
         true);
    sim *s = sim_new(&rs);
    sim_decision d;
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 0, "L1", &d), SIM_OK);
    assert_true(d.allowed);
    assert_string_equal(d.lease, "L1");
    assert_int_equal(d.remaining, 1);
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 10, "L2", &d), SIM_OK);
    assert_true(d.allowed);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 20, "L3", &d), SIM_OK);
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 80);        /* L1 expires at 100 */
    int64_t n;
    assert_int_equal(sim_release(s, "a", "", NULL, NULL, "L2", 30, &n), SIM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sim_release(s, "a", "", NULL, NULL, "L2", 30, &n), SIM_OK);
    assert_int_equal(n, 0);                  /* released once only */
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 30, "L3", &d), SIM_OK);
    assert_true(d.allowed);
    /* At 100, L1 has expired: a slot is free without a release. */
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 99, "L4", &d), SIM_OK);
    assert_false(d.allowed);
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 100, "L4", &d), SIM_OK);
    assert_true(d.allowed);
    /* An expired lease is not released. */
    assert_int_equal(sim_release(s, "a", "", NULL, NULL, "L3", 500, &n), SIM_OK);
    assert_int_equal(n, 0);
    /* Made-up tokens when the caller has none. */
    assert_int_equal(sim_decide(s, "a", "", NULL, NULL, 1, 600, NULL, &d), SIM_OK);
    assert_string_equal(d.lease, "600-1");
    sim_free(s);
    rules_free(&rs);
}

static void clock_going_backwards(void **state)
{
    (void)state;
    rl_ruleset rs;
    one_rule(&rs, "token_bucket", 10, 1000, 10, 1);
    sim *s = sim_new(&rs);
    assert_int_equal(sendn(s, "", 10, 5000), 10);
    sim_decision d = dec(s, "", 1, 4000);     /* a second back: no refill */
    assert_false(d.allowed);
    assert_int_equal(d.retry_ms, 1100);       /* 100 ms after 5000 */
    assert_int_equal(sendn(s, "", 3, 5100), 1); /* 100 ms refilled once, not twice */
    sim_free(s);
    rules_free(&rs);

    const char *algos[] = {"gcra", "fixed_window", "sliding_window"};
    for (int a = 0; a < 3; a++) {
        one_rule(&rs, algos[a], 5, 1000, 5, 1);
        s = sim_new(&rs);
        assert_int_equal(sendn(s, "", 5, 1500), 5);
        d = dec(s, "", 1, 900);                /* back into the previous window */
        assert_false(d.allowed);
        assert_true(d.retry_ms > 0);
        assert_true(d.reset_ms >= 0 && d.remaining >= 0);
        d = dec(s, "", 1, 0);                  /* far back: nothing underflows */
        assert_false(d.allowed);
        assert_true(d.retry_ms > 0 && d.reset_ms >= 0);
        sim_free(s);
        rules_free(&rs);
    }
}

static void redeploy_keeps_or_resets_by_identity(void **state)
{
    (void)state;
    char r[512], all[600];
    rl_ruleset a, b, c;
    rate_rule(r, "00000000000000aa", TENANT_SUBJ, "token_bucket", 10, 1000, 10, 1, false);
    snprintf(all, sizeof all, "[%s]", r);
    load(&a, all, true);
    /* Same identity, new numbers: the counter carries over. */
    rate_rule(r, "00000000000000aa", TENANT_SUBJ, "token_bucket", 20, 1000, 20, 1, false);
    snprintf(all, sizeof all, "[%s]", r);
    load(&b, all, true);
    /* New identity (another window would give another id). */
    rate_rule(r, "00000000000000ab", TENANT_SUBJ, "token_bucket", 20, 2000, 20, 1, false);
    snprintf(all, sizeof all, "[%s]", r);
    load(&c, all, true);
    sim *s = sim_new(&a);
    assert_int_equal(sendn(s, "", 10, 0), 10);
    sim_set_rules(s, &b);
    sim_decision d = dec(s, "", 1, 0);
    assert_false(d.allowed);                 /* no fresh quota from a redeploy */
    d = dec(s, "", 1, 50);                   /* the new rate refills: 1 per 50 ms */
    assert_true(d.allowed);
    sim_set_rules(s, &c);
    assert_int_equal(sendn(s, "", 25, 50), 20); /* a new limit starts full */
    sim_free(s);
    rules_free(&a);
    rules_free(&b);
    rules_free(&c);
}

static void hierarchy_all_or_none_and_shadow(void **state)
{
    (void)state;
    char t[512], k[512], sh[512], all[1600];
    rate_rule(t, "00000000000000a1", TENANT_SUBJ, "fixed_window", 5, 1000, 5, 1, false);
    rate_rule(k, "00000000000000b1", KEY_SUBJ, "fixed_window", 2, 1000, 2, 1, false);
    rate_rule(sh, "00000000000000c1", KEY_SUBJ, "fixed_window", 1, 1000, 1, 1, true);
    snprintf(all, sizeof all, "[%s,%s,%s]", t, k, sh);
    rl_ruleset rs;
    load(&rs, all, true);
    sim *s = sim_new(&rs);
    sim_decision d = dec(s, "key:k", 1, 0);
    assert_true(d.allowed);
    assert_int_equal(d.nshadow, 0);
    d = dec(s, "key:k", 1, 0);
    assert_true(d.allowed);                  /* the shadow limit never rejects */
    assert_int_equal(d.nshadow, 1);
    assert_string_equal(d.shadow[0]->id, "00000000000000c1");
    assert_string_equal(d.rule->id, "00000000000000b1"); /* least remaining decides */
    d = dec(s, "key:k", 1, 0);
    assert_false(d.allowed);
    assert_string_equal(d.rule->id, "00000000000000b1");
    /* The rejection charged nothing at the tenant: 3 of 5 left there. */
    assert_int_equal(sendn(s, "", 5, 0), 3);
    /* A key that is not declared gets only the tenant's limit. */
    d = dec(s, "key:other", 1, 0);
    assert_false(d.allowed);
    assert_string_equal(d.rule->id, "00000000000000a1");
    sim_free(s);
    rules_free(&rs);
}

static void routes_match_by_segment(void **state)
{
    (void)state;
    rl_rule r = {0};
    const char *segs1[] = {"v1", "*"};
    r.method = "GET";
    r.route = "/v1/*";
    r.segs = segs1;
    r.nsegs = 2;
    assert_true(rules_route_matches(&r, "GET", "/v1/items"));
    assert_true(rules_route_matches(&r, "GET", "/v1/items/7"));  /* trailing * */
    assert_false(rules_route_matches(&r, "GET", "/v1"));
    assert_false(rules_route_matches(&r, "POST", "/v1/items"));
    const char *segs2[] = {"v1", "*", "x"};
    r.method = "ANY";
    r.segs = segs2;
    r.nsegs = 3;
    assert_true(rules_route_matches(&r, "DELETE", "/v1/a/x"));
    assert_false(rules_route_matches(&r, "GET", "/v1/a/b/x"));   /* inner * is one */
    assert_false(rules_route_matches(&r, "GET", "/v1/a/x/y"));
    r.nsegs = 0;
    assert_true(rules_route_matches(&r, "GET", "/"));
    assert_false(rules_route_matches(&r, "GET", "/a"));
}

static void rules_refuse_inexact_arithmetic(void **state)
{
    (void)state;
    char r[512], all[600], text[2048], err[256];
    rate_rule(r, "00000000000000aa", TENANT_SUBJ, "token_bucket", 1, 31622400, 100000000, 1,
              false);
    snprintf(all, sizeof all, "[%s]", r);
    snprintf(text, sizeof text,
             "{\"policy\":{\"namespace\":\"rl\",\"max_clock_skew_ms\":0,\"time_source\":"
             "\"server\"},\"tenants\":[{\"name\":\"a\",\"rules\":%s}]}",
             all);
    json_t *plan = json_loads(text, 0, NULL);
    rl_ruleset rs;
    assert_false(rules_from_plan(plan, &rs, err, sizeof err));
    assert_non_null(strstr(err, "2^51"));
    json_decref(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_bucket_exhaustion_and_refill),
        cmocka_unit_test(cost_larger_than_capacity),
        cmocka_unit_test(fixed_window_boundaries),
        cmocka_unit_test(sliding_window_is_exact),
        cmocka_unit_test(approx_sliding_window_weights_previous),
        cmocka_unit_test(gcra_equals_token_bucket),
        cmocka_unit_test(concurrency_lease_expiry_and_release),
        cmocka_unit_test(clock_going_backwards),
        cmocka_unit_test(redeploy_keeps_or_resets_by_identity),
        cmocka_unit_test(hierarchy_all_or_none_and_shadow),
        cmocka_unit_test(routes_match_by_segment),
        cmocka_unit_test(rules_refuse_inexact_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
