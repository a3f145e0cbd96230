/* test_rules_text.c - the canonical-text reader of tenants
 * (rules_add_tenant_text) against the jansson one (rules_add_tenant): the
 * same tenant gives the same rules, and anything outside the canonical form
 * is handed back (RULES_TEXT_OTHER) rather than misread. */
#include "unit.h"

#include <jansson.h>

#include "digest.h"
#include "rules.h"

/* A tenant as rlc compile writes it: groups, a key, a route, every
 * algorithm, a shadow rule, a concurrency rule; "te%a/m" needs encoding. */
static const char acme[] = "{\"name\":\"acme\",\"rules\":[{\"algorithm\":\"sliding_window\",\"count\":5,\"id\":\"04410badb04e05ad\",\"route\":{\"method\":\"GET\",\"path\":\"/v1/items/*\"},\"window_ms\":1000},{\"cost\":2,\"count\":10,\"id\":\"0ac378b30d97833d\",\"shadow\":true,\"subject\":\"group:te%25a%2Fm/key:k1\",\"window_ms\":1000},{\"algorithm\":\"fixed_window\",\"count\":1000,\"id\":\"2d33b0f28d993310\",\"window_ms\":86400000},{\"burst\":20,\"count\":100,\"id\":\"45fc8a7f837a25b2\",\"window_ms\":60000},{\"algorithm\":\"gcra\",\"count\":50,\"id\":\"8a6eda2de9aff8d5\",\"subject\":\"group:te%25a%2Fm\",\"window_ms\":60000},{\"id\":\"ae4d51cb72578016\",\"kind\":\"concurrency\",\"lease_ms\":30000,\"max\":4}],\"tag\":\"{gl:acme}\",\"version\":\"9f35c9ed547f0111b9f67703bb6d84e1e2ee0431b7f1e0275118621ef47a5c1a\"}";

static void begin(rl_ruleset *rs)
{
    json_t *plan = json_loads("{\"policy\":{\"name\":\"t\",\"namespace\":\"gl\","
                              "\"max_clock_skew_ms\":0,\"time_source\":\"server\","
                              "\"on_store_error\":\"fail_open\"}}",
                              0, NULL);
    char err[256];
    assert_true(rules_begin(plan, 4, rs, err, sizeof err));
    json_decref(plan);
}

static void same_rules(const rl_tenant *a, const rl_tenant *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->version, b->version);
    assert_int_equal(a->nrules, b->nrules);
    for (size_t i = 0; i < a->nrules; i++) {
        const rl_rule *x = &a->rules[i], *y = &b->rules[i];
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->shadow, y->shadow);
        assert_int_equal(x->count, y->count);
        assert_int_equal(x->window_ms, y->window_ms);
        assert_int_equal(x->burst, y->burst);
        assert_int_equal(x->cost, y->cost);
        assert_int_equal(x->max, y->max);
        assert_int_equal(x->lease_ms, y->lease_ms);
        assert_int_equal(x->max_request, y->max_request);
        assert_string_equal(x->subject, y->subject);
        assert_int_equal(x->depth, y->depth);
        assert_true((x->method == NULL) == (y->method == NULL));
        if (x->method) {
            assert_string_equal(x->method, y->method);
            assert_string_equal(x->route, y->route);
            assert_int_equal(x->nsegs, y->nsegs);
            for (size_t k = 0; k < x->nsegs; k++)
                assert_string_equal(x->segs[k], y->segs[k]);
        }
    }
}

static void text_equals_tree(void **state)
{
    (void)state;
    rl_ruleset a, b;
    char err[256];
    begin(&a);
    begin(&b);
    assert_int_equal(rules_add_tenant_text(&a, acme, strlen(acme), err, sizeof err),
                     RULES_TEXT_OK);
    json_t *t = json_loads(acme, 0, NULL);
    assert_non_null(t);
    assert_true(rules_add_tenant(&b, t, err, sizeof err));
    json_decref(t);
    assert_int_equal(a.ntenants, 1);
    same_rules(&a.tenants[0], &b.tenants[0]);
    assert_string_equal(a.tenants[0].rules[0].subject, "");
    rules_free(&a);
    rules_free(&b);
}

/* Sets the version of tenant text s to the digest of its rules. */
static void reseal(char *s)
{
    char *r0 = strstr(s, "\"rules\":") + 8, *r1 = strstr(s, ",\"tag\":");
    char *v = strstr(s, "\"version\":\"") + 11;
    char hex[DIGEST_HEX_LEN + 1];
    assert_true(digest_sha256_hex(r0, (size_t)(r1 - r0), hex));
    memcpy(v, hex, DIGEST_HEX_LEN);
}

/* Replaces the first `from` in acme by `to`, version resealed. */
static char *variant(const char *from, const char *to)
{
    const char *at = strstr(acme, from);
    assert_non_null(at);
    size_t n = strlen(acme) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    size_t pre = (size_t)(at - acme);
    memcpy(s, acme, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    if (strstr(s, ",\"tag\":"))
        reseal(s);
    return s;
}

static void other_forms_handed_back(void **state)
{
    (void)state;
    static const char *const v[][2] = {
        {"\"cost\":2", "\"cost\":2.0"},                  /* a real */
        {"\"cost\":2", "\"cost\":02"},                   /* not canonical */
        {"\"cost\":2", "\"cost\":0"},                    /* out of range */
        {"\"count\":10,", "\"count\":10,\"extra\":1,"},  /* unknown field */
        {"\"cost\":2,\"count\":10", "\"count\":10,\"cost\":2"},  /* key order */
        {"\"cost\":2", "\"cost\":2,\"cost\":2"},         /* duplicate key */
        {"key:k1\"", "key:k\\u0031\""},                  /* an escape */
        {"key:k1\"", "key:\""},                           /* empty name */
        {"key:k1\"", "key:k1/\""},                        /* empty segment */
        {"/key:k1\"", "/tenant:k1\""},                    /* wrong kind */
        {"group:te%25a", "group:te%a"},                   /* '%' not encoded */
        {"group:te%25a", "group:te%2fa"},                 /* lower-case escape */
        {"\"subject\":\"group:te%25a%2Fm\"", "\"subject\":\"\""},  /* empty subject */
        {"\"subject\":\"group:te%25a%2Fm\"",
         "\"subject\":\"key:a/key:b/key:c/key:d/key:e/key:f/key:g/key:h\""},  /* 9 levels */
        /* A format 2 rule's path: not read as a rule of the tenant itself. */
        {"\"id\":\"2d33b0f28d993310\"",
         "\"id\":\"2d33b0f28d993310\",\"path\":[{\"kind\":\"tenant\",\"name\":\"acme\"}]"},
        {"\"algorithm\":\"gcra\"", "\"algorithm\":\"leaky\""},
        {"\"path\":\"/v1/items/*\"", "\"path\":\"v1\""},
        {"\"lease_ms\":30000,", ""},                      /* missing field */
        {"\"shadow\":true", "\"shadow\":1"},
        {",\"version\":", " ,\"version\":"},               /* whitespace */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rl_ruleset rs;
        char err[256];
        begin(&rs);
        char *s = variant(v[i][0], v[i][1]);
        rules_text_result r = rules_add_tenant_text(&rs, s, strlen(s), err, sizeof err);
        if (r != RULES_TEXT_OTHER)
            fail_msg("variant %zu (%s -> %s) was not handed back", i, v[i][0], v[i][1]);
        assert_int_equal(rs.ntenants, 0);
        free(s);
        rules_free(&rs);
    }
}

static void version_must_be_the_rules_digest(void **state)
{
    (void)state;
    rl_ruleset rs;
    char err[256];
    begin(&rs);
    char *s = strdup(acme);
    /* Still a valid rule, but not the rules the version is the digest of. */
    memcpy(strstr(s, "\"cost\":2"), "\"cost\":3", 8);
    assert_int_equal(rules_add_tenant_text(&rs, s, strlen(s), err, sizeof err),
                     RULES_TEXT_ERROR);
    assert_non_null(strstr(err, "is not the SHA-256 of its rules"));
    free(s);
    rules_free(&rs);
}

static void repeated_id_is_an_error(void **state)
{
    (void)state;
    rl_ruleset rs;
    char err[256];
    begin(&rs);
    char *s = variant("\"id\":\"2d33b0f28d993310\"", "\"id\":\"04410badb04e05ad\"");
    assert_int_equal(rules_add_tenant_text(&rs, s, strlen(s), err, sizeof err),
                     RULES_TEXT_ERROR);
    assert_non_null(strstr(err, "appears twice"));
    free(s);
    rules_free(&rs);
}

/* Values the language never writes (SPEC.md 5.3): the text reader hands
 * them back, and the tree reader refuses them with a message. */
static void out_of_range_refused_by_both(void **state)
{
    (void)state;
    static const char *const v[][3] = {
        {"\"window_ms\":86400000", "\"window_ms\":31622400001", "\"window_ms\""},
        {"\"lease_ms\":30000", "\"lease_ms\":86400001", "\"lease_ms\""},
        {"\"count\":1000", "\"cost\":34359738368,\"count\":1000", "exceeds 2^51"},
        {"\"method\":\"GET\"", "\"method\":\"BREW\"", "route method 'BREW'"},
        {"\"id\":\"2d33b0f28d993310\"",
         "\"id\":\"2d33b0f28d993310\",\"path\":[{\"kind\":\"tenant\",\"name\":\"acme\"}]",
         "\"path\" is not a field of a rule since format 3"},
        {"\"path\":\"/v1/items/*\"", "\"path\":\"/v1/items*\"", "whole path segment"},
        {"\"path\":\"/v1/items/*\"", "\"path\":\"/v1//items\"", "empty segment"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rl_ruleset rs;
        char err[256] = "";
        begin(&rs);
        char *s = variant(v[i][0], v[i][1]);
        if (rules_add_tenant_text(&rs, s, strlen(s), err, sizeof err) != RULES_TEXT_OTHER)
            fail_msg("variant %zu (%s) was not handed back", i, v[i][1]);
        json_t *t = json_loads(s, 0, NULL);
        assert_non_null(t);
        if (rules_add_tenant(&rs, t, err, sizeof err))
            fail_msg("variant %zu (%s) was accepted", i, v[i][1]);
        if (!strstr(err, v[i][2]))
            fail_msg("variant %zu: message '%s' lacks '%s'", i, err, v[i][2]);
        json_decref(t);
        free(s);
        rules_free(&rs);
    }
}

/* src with its first `from` replaced by `to` (malloc'd), version resealed. */
static char *replaced(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    assert_non_null(at);
    char *s = malloc(strlen(src) - strlen(from) + strlen(to) + 1);
    size_t pre = (size_t)(at - src);
    memcpy(s, src, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    reseal(s);
    return s;
}

/* Both readers decide each rule with one set of checks: at the edges of the
 * ranges they agree, accepting the same rules or refusing the same ones. */
static void both_readers_agree_at_the_edges(void **state)
{
    (void)state;
    static const struct {
        const char *from1, *to1, *from2, *to2;
        const char *refused; /* the tree reader's message, or NULL: accepted */
    } v[] = {
        {"\"lease_ms\":30000", "\"lease_ms\":86400000", NULL, NULL, NULL},
        {"\"lease_ms\":30000", "\"lease_ms\":0", NULL, NULL, "\"lease_ms\" = 0"},
        {"\"max\":4", "\"max\":2251799813685248", NULL, NULL, NULL},
        {"\"max\":4", "\"max\":2251799813685249", NULL, NULL, "\"max\""},
        /* An exact sliding window keeps at most 10 000 entries. */
        {"\"count\":5", "\"count\":10000", "\"window_ms\":1000}", "\"window_ms\":20000}", NULL},
        {"\"count\":5", "\"count\":10001", "\"window_ms\":1000}", "\"window_ms\":20000}",
         "log entries"},
        {"\"count\":5", "\"cost\":2,\"count\":10001", "\"window_ms\":1000}",
         "\"window_ms\":20000}", NULL},
        {"\"id\":\"0ac378b30d97833d\"", "\"id\":\"0AC378B30D97833D\"", NULL, NULL, "\"id\""},
        {"/key:k1\"", "/group:k1\"", NULL, NULL, NULL},
        {"/key:k1\"", "/keys:k1\"", NULL, NULL, "\"subject\" must be"},
        {"/key:k1\"", "/key*\"", NULL, NULL, NULL},
        /* Left out and written out: the same rule either way. */
        {"\"count\":50,", "\"burst\":50,\"cost\":1,\"count\":50,", "\"id\":\"8a6eda2de9aff8d5\",",
         "\"id\":\"8a6eda2de9aff8d5\",\"kind\":\"rate\",", NULL},
        {"\"id\":\"45fc8a7f837a25b2\"",
         "\"id\":\"45fc8a7f837a25b2\",\"route\":null,\"shadow\":false", NULL, NULL, NULL},
        {"\"burst\":20,", "\"algorithm\":\"token_bucket\",\"burst\":20,", NULL, NULL, NULL},
        {"\"kind\":\"concurrency\"", "\"kind\":\"lease\"", NULL, NULL, "\"kind\" must be"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *s1 = replaced(acme, v[i].from1, v[i].to1);
        char *s = v[i].from2 ? replaced(s1, v[i].from2, v[i].to2) : strdup(s1);
        free(s1);
        rl_ruleset a, b;
        char err[256] = "";
        begin(&a);
        begin(&b);
        rules_text_result tr = rules_add_tenant_text(&a, s, strlen(s), err, sizeof err);
        json_t *t = json_loads(s, 0, NULL);
        assert_non_null(t);
        bool ok = rules_add_tenant(&b, t, err, sizeof err);
        json_decref(t);
        if (v[i].refused) {
            if (tr != RULES_TEXT_OTHER || ok)
                fail_msg("variant %zu: text %d, tree %d; both should refuse", i, tr, ok);
            if (!strstr(err, v[i].refused))
                fail_msg("variant %zu: message '%s' lacks '%s'", i, err, v[i].refused);
        } else {
            if (tr != RULES_TEXT_OK || !ok)
                fail_msg("variant %zu: text %d, tree %d (%s); both should accept", i, tr, ok,
                         err);
            same_rules(&a.tenants[0], &b.tenants[0]);
        }
        free(s);
        rules_free(&a);
        rules_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_equals_tree),
        cmocka_unit_test(other_forms_handed_back),
        cmocka_unit_test(version_must_be_the_rules_digest),
        cmocka_unit_test(repeated_id_is_an_error),
        cmocka_unit_test(out_of_range_refused_by_both),
        cmocka_unit_test(both_readers_agree_at_the_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
