/* test_canon_json.c - rlc's canonical JSON writer (base/digest.h) against
 * jansson's json_dumps with the canonical flags, which defines it (SPEC.md
 * 5.2): byte for byte on every kind of value, on strings of every
 * character class, and on random trees. */
#include "unit.h"

#include "digest.h"

#define FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

static void same(const json_t *v)
{
    char *want = json_dumps(v, FLAGS);
    assert_non_null(want);
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    assert_true(canon_json_write(&b, v));
    assert_true(buf_ok(&b));
    assert_string_equal(buf_str(&b), want);
    char *got = digest_canonical_json(v);
    assert_string_equal(got, want);
    char h1[DIGEST_HEX_LEN + 1], h2[DIGEST_HEX_LEN + 1];
    assert_true(digest_json_hex(v, h1));
    assert_true(digest_sha256_hex(want, strlen(want), h2));
    assert_string_equal(h1, h2);
    free(got);
    free(want);
    buf_free(&b);
}

static void scalars(void **st)
{
    (void)st;
    const json_int_t ints[] = {0, 1, -1, 9, 10, 1234567890123LL, -9007199254740993LL,
                               INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        json_t *v = json_integer(ints[i]);
        same(v);
        json_decref(v);
    }
    json_t *v = json_pack("[b,b,n,f,f]", 1, 0, 0.5, -1e300);
    same(v);
    json_decref(v);
}

static void strings(void **st)
{
    (void)st;
    const char *s[] = {"", "plain", "q\"uote", "back\\slash", "/slash", "\b\f\n\r\t",
                       "\x01\x1f\x7f", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                       "mixed \xf0\x9f\x98\x80 and \xc3\xa9\n\"end\""};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        json_t *v = json_string(s[i]);
        assert_non_null(v);
        same(v);
        json_decref(v);
    }
    /* A NUL inside a string (jansson holds it with a length). */
    json_t *v = json_stringn("a\0b", 3);
    same(v);
    json_decref(v);
}

/* A random tree: objects with keys that sort differently as bytes and as
 * characters, arrays, every scalar kind. */
static unsigned seed = 12345;
static unsigned rnd(unsigned n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

static json_t *tree(int depth)
{
    static const char *keys[] = {"a", "B", "aa", "a\xc3\xa9", "\xe2\x82\xac", "z", "_", "ab",
                                 "\"k", "k\\", "\n", "10", "9"};
    unsigned kind = depth > 4 ? 2 + rnd(5) : rnd(7);
    switch (kind) {
    case 0: {
        json_t *o = json_object();
        for (unsigned i = rnd(20); i > 0; i--)
            json_object_set_new(o, keys[rnd(sizeof keys / sizeof *keys)], tree(depth + 1));
        return o;
    }
    case 1: {
        json_t *a = json_array();
        for (unsigned i = rnd(8); i > 0; i--)
            json_array_append_new(a, tree(depth + 1));
        return a;
    }
    case 2: return json_integer((json_int_t)rnd(1u << 30) - (1 << 29));
    case 3: return json_string(keys[rnd(sizeof keys / sizeof *keys)]);
    case 4: return rnd(2) ? json_true() : json_false();
    case 5: return json_null();
    default: return json_integer((json_int_t)rnd(1000) * 1000003LL * 1000003LL);
    }
}

static void random_trees(void **st)
{
    (void)st;
    for (int i = 0; i < 2000; i++) {
        json_t *v = tree(0);
        same(v);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalars),
        cmocka_unit_test(strings),
        cmocka_unit_test(random_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
