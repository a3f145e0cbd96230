/* test_plan_key.c - the plan contract's keys, encodings, slots and kinds
 * (plan/plan_key.h, plan/plan_kind.h, plan/plan_check.h): the bytes SPEC.md
 * 5.5, 6.1 and 6.2 give, the Redis Cluster slot vectors, and the
 * one-hash-tag-per-tenant proof of RLC2202 (which no policy can trigger, so
 * it is tested here). */
#include "unit.h"

#include "arena.h"
#include "plan_check.h"
#include "plan_key.h"
#include "plan_kind.h"

static unsigned slot(const char *k) { return plan_key_slot(k, strlen(k)); }

static void crc16_vectors(void **st)
{
    (void)st;
    /* The check value of CRC16/XMODEM, quoted in the Redis Cluster spec. */
    assert_int_equal(plan_crc16("123456789", 9), 0x31C3);
    assert_int_equal(plan_crc16("", 0), 0);
    /* Slots that redis-server's CLUSTER KEYSLOT reports. */
    assert_int_equal(slot("123456789"), 0x31C3 & 16383);
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot("hello"), 866);
}

static void hash_tags(void **st)
{
    (void)st;
    /* The examples of the spec's "Hash tags" section. */
    assert_int_equal(slot("{user1000}.following"), slot("{user1000}.followers"));
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    /* An empty tag: the whole key is hashed. */
    assert_int_equal(slot("foo{}{bar}"), plan_crc16("foo{}{bar}", 10) % PLAN_KEY_SLOTS);
    assert_int_not_equal(slot("foo{}{bar}"), slot("bar"));
    assert_int_equal(slot("{}"), plan_crc16("{}", 2) % PLAN_KEY_SLOTS);
    assert_int_equal(slot("no-close{tag"), plan_crc16("no-close{tag", 12) % PLAN_KEY_SLOTS);
    /* The tag is up to the first '}' after the first '{'. */
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
}

static void prefix_proof(void **st)
{
    (void)st;
    arena *a = arena_new();
    const char *tenants[] = {"acme", "", "a}b", "{", "}", "x{y}z", "ünï"};
    const char *suffixes[] = {":t:60000", ":acme/g/k:r:GET /v1/{id}:60000", "}", "{z}", ""};
    for (size_t i = 0; i < sizeof tenants / sizeof tenants[0]; i++) {
        char *p = plan_key_tag("rl", tenants[i]);
        assert_true(plan_key_prefix_fixes_slot(p));
        for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
            const char *k = arena_printf(a, "%s%s", p, suffixes[j]);
            assert_int_equal(slot(k), slot(p));
        }
        free(p);
    }
    /* Layouts that would break it are caught. */
    assert_false(plan_key_prefix_fixes_slot("rl:acme:"));
    assert_false(plan_key_prefix_fixes_slot("rl:{}acme:"));
    assert_false(plan_key_prefix_fixes_slot("{rl:acme"));
    assert_true(plan_key_prefix_fixes_slot("rl:{acme}")); /* a tag anywhere is enough */
    arena_free(a);
}

/* What RLC2202 proves for `tenant *` (decided under the tag of whatever
 * tenant a request names) and for the counters of a template's values
 * (the value after the prefix): every one-byte name, the empty name and
 * the name holding every byte 1-255 get a whole hash tag, and no value
 * after it, braces included, moves a key out of the tag's slot. */
static void template_proof(void **st)
{
    (void)st;
    arena *a = arena_new();
    char every[256];
    for (int c = 1; c < 256; c++)
        every[c - 1] = (char)c;
    every[255] = '\0';
    const char *values[] = {"k-1", "}", "{", "{x}", "k%3A{7}%2Fx%25y", "}{", ""};
    for (int c = 0; c < 257; c++) {
        char one[2] = {(char)c, '\0'};
        const char *name = c == 256 ? every : one;
        char *p = plan_key_tag("rl", name);
        assert_true(plan_key_prefix_fixes_slot(p));
        for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
            const char *k = arena_printf(a, "%s:c:0123456789abcdef/%s/%s", p, values[j], one);
            assert_int_equal(slot(k), slot(p));
        }
        free(p);
    }
    arena_free(a);
}

/* SPEC.md 6.1: '%', '{', '}', ':' and bytes outside 0x21-0x7e as %XX. */
static void tags(void **st)
{
    (void)st;
    char *t = plan_key_tag("rl", "a}b:c d%\x7f\xc3\xa9{");
    assert_string_equal(t, "{rl:a%7Db%3Ac%20d%25%7F%C3%A9%7B}");
    free(t);
    t = plan_key_tag("rl", "");
    assert_string_equal(t, "{rl:}");
    free(t);
    /* The length alone, and a buffer too small: cut, NUL-terminated. */
    assert_int_equal(plan_key_tag_into(NULL, 0, "ns", "a:b"), strlen("{ns:a%3Ab}"));
    char small[5];
    assert_int_equal(plan_key_tag_into(small, sizeof small, "ns", "a:b"), 10);
    assert_string_equal(small, "{ns:");
    /* The longest key is the tag and ":v:c:<16 hex>:log". */
    assert_int_equal(PLAN_KEY_SUFFIX_MAX, strlen(":v:c:0123456789abcdef:log"));
    assert_int_equal(plan_key_longest("rl", "acme"), strlen("{rl:acme}") + 25);
    assert_true(strlen(PLAN_KEY_VERIFY PLAN_KEY_CFG) + PLAN_CONFIG_VERSION_LEN <
                PLAN_KEY_SUFFIX_MAX);
}

static void encodings(void **st)
{
    (void)st;
    buf b;
    buf_init(&b, 1 << 16);
    /* SPEC.md 5.5: names encode '/' and '|', route paths only '|'. */
    const char name[] = "a/b|c%d e\xc3\xa9";
    plan_pct_encode(&b, name, strlen(name), "/|");
    assert_string_equal(buf_str(&b), "a%2Fb%7Cc%25d%20e%C3%A9");
    buf_reset(&b);
    plan_pct_encode(&b, "/v1/*|x", 7, "|");
    assert_string_equal(buf_str(&b), "/v1/*%7Cx");
    /* A NUL inside the span is a byte like any other. */
    buf_reset(&b);
    plan_pct_encode(&b, "a\0b", 3, "");
    assert_string_equal(buf_str(&b), "a%00b");
    /* SPEC.md 6.2: subject paths encode only '%' and '/'. */
    buf_reset(&b);
    plan_subject_seg(&b, true, "group", 5, "t/a%m é", strlen("t/a%m é"));
    plan_subject_seg(&b, false, "key", 3, "k|1", 3);
    assert_string_equal(buf_str(&b), "group:t%2Fa%25m é/key:k|1");
    buf_reset(&b);
    plan_subject_seg(&b, true, NULL, 0, NULL, 0);
    assert_string_equal(buf_str(&b), ":");
    assert_true(buf_ok(&b));
    buf_free(&b);
}

/* One table: names, identities (SPEC.md 5.5), Redis letters (SPEC.md 6.2),
 * bursts. */
static void kinds(void **st)
{
    (void)st;
    static const struct {
        plan_kind k;
        const char *name, *identity;
        char code;
        bool burst;
    } want[] = {
        {PLAN_TOKEN_BUCKET, "token_bucket", "token_bucket", 'T', true},
        {PLAN_GCRA, "gcra", "gcra", 'G', true},
        {PLAN_SLIDING_WINDOW, "sliding_window", "sliding_log", 'L', false},
        {PLAN_FIXED_WINDOW, "fixed_window", "fixed_window", 'F', false},
        {PLAN_APPROX_SLIDING_WINDOW, "approx_sliding_window", "sliding_window", 'S', false},
        {PLAN_CONCURRENCY, "concurrency", "concurrency", 'C', false},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_string_equal(plan_kind_name(want[i].k), want[i].name);
        assert_string_equal(plan_kind_identity(want[i].k), want[i].identity);
        assert_int_equal(plan_kind_code(want[i].k), want[i].code);
        assert_int_equal(plan_kind_has_burst(want[i].k), want[i].burst);
        plan_kind k = PLAN_CONCURRENCY;
        bool algo = want[i].k != PLAN_CONCURRENCY;
        assert_int_equal(plan_algo_parse(want[i].name, strlen(want[i].name), &k), algo);
        if (algo) {
            assert_int_equal(k, want[i].k);
            assert_string_equal(plan_algo_names()[k], want[i].name);
        }
    }
    plan_kind k;
    assert_false(plan_algo_parse("gcra", 3, &k));        /* a prefix is not a name */
    assert_false(plan_algo_parse("gcrax", 5, &k));
    assert_false(plan_algo_parse("sliding_log", 11, &k)); /* an identity is not a name */
}

static void ranges(void **st)
{
    (void)st;
    /* min(count / cost, window_ms) */
    assert_int_equal(plan_log_entries(100, 1000, 1), 100);
    assert_int_equal(plan_log_entries(100, 1000, 3), 33);
    assert_int_equal(plan_log_entries(100000, 50, 1), 50);
    assert_int_equal(PLAN_PRODUCT_MAX, 1LL << 51);
    assert_true(PLAN_LOG_WARN < PLAN_LOG_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc16_vectors), cmocka_unit_test(hash_tags),
        cmocka_unit_test(prefix_proof),  cmocka_unit_test(template_proof),
        cmocka_unit_test(tags),
        cmocka_unit_test(encodings),     cmocka_unit_test(kinds),
        cmocka_unit_test(ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
