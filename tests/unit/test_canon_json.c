/* test_canon_json.c - rlc's canonical JSON writer (base/digest.h) against
 * jansson's json_dumps with the canonical flags, which defines it (SPEC.md
 * 5.2): byte for byte on every kind of value, on strings of every
 * character class, and on random trees.  And its reader against jansson's
 * json_loadb: every canonical text read back to the same tree, and any
 * text it accepts (random damage to canonical texts included) read as
 * jansson reads it; what it refuses, jansson reads or refuses itself. */
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

/* The reader's tree of text equals json_loadb's; false when the reader
 * refuses it (then whatever jansson does is the caller's answer). */
static bool read_same(const char *text, size_t len)
{
    json_t *mine = canon_json_read(text, len);
    if (!mine)
        return false;
    json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    assert_non_null(theirs);
    assert_true(json_equal(mine, theirs));
    json_decref(mine);
    json_decref(theirs);
    return true;
}

static void reader_round_trip(void **st)
{
    (void)st;
    seed = 777;
    for (int i = 0; i < 2000; i++) {
        json_t *v = tree(0);
        char *text = json_dumps(v, FLAGS);
        assert_true(read_same(text, strlen(text)));
        free(text);
        json_decref(v);
    }
    const char *ok[] = {"0", "-1", "123456789012345678", "-123456789012345678", "\"\"",
                        "\"\\u00e9\\ud83d\\ude00\\u00E9\"", "\"\\/\\b\"", "[]", "{}",
                        "[[],{}]", "[1]\n", "[1] \r\n\t", "{\"\":0,\"a\":[true,false,null]}", "\"\x7f\""};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_true(read_same(ok[i], strlen(ok[i])));
}

static void reader_refuses(void **st)
{
    (void)st;
    /* Not as the writer writes: left to jansson. */
    const char *bad[] = {"", " 1", "1 x", "[1,]", "[,1]", "[1x]", "[1 ,2]", "{\"a\":1,}",
                         "{\"b\":1,\"a\":2}", "{\"a\":1,\"a\":2}", "{\"a\" :1}", "01",
                         "-0", "1.5", "1e3", "1234567890123456789", "\"\\u0000\"",
                         /* past long long by the 19th digit: refused
                          * before it is multiplied in */
                         "9999999999999999999", "-9999999999999999999",
                         "\"\\ud800\"", "\"\\udc00\"", "\"caf\xc3\xa9\"", "\"a\nb\"",
                         "\"\\x\"", "\"abc", "[1", "{\"a\":1", "tru", "nul", "[1]]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *v = canon_json_read(bad[i], strlen(bad[i]));
        if (v)
            fail_msg("read %s", bad[i]);
    }
    /* Deeper than the writer goes. */
    char deep[5000];
    memset(deep, '[', 2500);
    memset(deep + 2500, ']', 2500);
    assert_null(canon_json_read(deep, sizeof deep));
}

/* Canonical texts damaged at random (a byte changed, dropped or doubled):
 * whatever the reader accepts, jansson reads the same. */
static void reader_damaged(void **st)
{
    (void)st;
    seed = 4242;
    static const char alphabet[] = "{}[],:\"\\0123456789-.eEtruefalsn u/\x7f\x80\xc3";
    int accepted = 0;
    for (int i = 0; i < 3000; i++) {
        json_t *v = tree(0);
        char *text = json_dumps(v, FLAGS);
        size_t len = strlen(text);
        char *m = malloc(len + 2);
        for (int k = 0; k < 4; k++) {
            memcpy(m, text, len + 1);
            size_t at = rnd((unsigned)len + 1), ml = len;
            switch (rnd(3)) {
            case 0: if (at < len) m[at] = alphabet[rnd(sizeof alphabet - 1)]; break;
            case 1: if (at < len) { memmove(m + at, m + at + 1, len - at); ml--; } break;
            default: memmove(m + at + 1, m + at, len - at + 1); m[at] = m[at < len ? at + 1 : at]; ml++;
            }
            accepted += read_same(m, ml);
        }
        free(m);
        free(text);
        json_decref(v);
    }
    assert_true(accepted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalars),
        cmocka_unit_test(strings),
        cmocka_unit_test(random_trees),
        cmocka_unit_test(reader_round_trip),
        cmocka_unit_test(reader_refuses),
        cmocka_unit_test(reader_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
