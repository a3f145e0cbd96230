/* test_strmap.c - the string map: values found by content, not pointer; a
 * put never replaces; a slot is one lookup that inserts when absent; a map
 * reserved for n keys takes n without growing, and every key stays
 * reachable across growth. */
#include "unit.h"

#include "strmap.h"

static void test_put_get_slot(void **state)
{
    (void)state;
    strmap m;
    strmap_init(&m);
    assert_null(strmap_get(&m, "a"));
    int one = 1, two = 2, three = 3;
    assert_null(strmap_put(&m, "a", &one));
    char a2[] = "a";
    assert_ptr_equal(strmap_get(&m, a2), &one);
    assert_ptr_equal(strmap_put(&m, a2, &two), &one);   /* not replaced */
    assert_ptr_equal(strmap_get(&m, "a"), &one);
    bool found = true;
    void **slot = strmap_slot(&m, "b", &found);
    assert_false(found);
    assert_null(*slot);
    *slot = &three;
    assert_ptr_equal(strmap_get(&m, "b"), &three);
    slot = strmap_slot(&m, "a", &found);
    assert_true(found);
    assert_ptr_equal(*slot, &one);
    assert_int_equal(m.n, 2);
    strmap_free(&m);
    strmap_free(&m);   /* a freed map is a zeroed one */
}

static void test_reserve_and_growth(void **state)
{
    (void)state;
    enum { N = 100000 };
    char (*keys)[16] = malloc(N * sizeof *keys);
    assert_non_null(keys);
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "t%06d", i);
    for (int reserve = 0; reserve < 2; reserve++) {
        strmap m;
        strmap_init(&m);
        if (reserve)
            strmap_reserve(&m, N);
        size_t cap = m.cap;
        for (int i = 0; i < N; i++) {
            bool found;
            void **slot = strmap_slot(&m, keys[i], &found);
            assert_false(found);
            *slot = keys[i];
        }
        if (reserve)
            assert_int_equal(m.cap, cap);   /* never grew */
        assert_true(m.n * 4 < m.cap * 3);
        for (int i = 0; i < N; i++) {
            char k[16];
            snprintf(k, sizeof k, "t%06d", i);
            assert_ptr_equal(strmap_get(&m, k), keys[i]);
        }
        assert_null(strmap_get(&m, "t100000"));
        strmap_free(&m);
    }
    free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_slot),
        cmocka_unit_test(test_reserve_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
