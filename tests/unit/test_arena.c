/* test_arena.c - the compilation arena: alignment, zero-filled memory,
 * allocations larger than a block, string helpers, many small allocations
 * staying intact, and the byte count reported to benchmarks. */
#include "unit.h"

#include <stdint.h>

#include "arena.h"

static void test_alignment(void **state)
{
    (void)state;
    arena *a = arena_new();
    for (size_t size = 0; size < 100; size++) {
        void *p = arena_alloc(a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    }
    /* Also right after a new block starts. */
    void *big = arena_alloc(a, 200000);
    assert_int_equal((uintptr_t)big % 16, 0);
    void *after = arena_alloc(a, 3);
    assert_int_equal((uintptr_t)after % 16, 0);
    arena_free(a);
}

static void test_zeroed(void **state)
{
    (void)state;
    /* Dirty some heap first so a recycled chunk would show through. */
    for (int round = 0; round < 4; round++) {
        unsigned char *junk = malloc(70000 + (size_t)round * 1000);
        assert_non_null(junk);
        memset(junk, 0xa5, 70000 + (size_t)round * 1000);
        free(junk);
        arena *a = arena_new();
        for (int i = 0; i < 200; i++) {
            size_t n = (size_t)(i * 37 % 500) + 1;
            unsigned char *p = arena_alloc(a, n);
            for (size_t k = 0; k < n; k++)
                if (p[k] != 0)
                    fail_msg("byte %zu of allocation %d is 0x%02x", k, i, p[k]);
            memset(p, 0xff, n);
        }
        arena_free(a);
    }
}

static void test_large(void **state)
{
    (void)state;
    arena *a = arena_new();
    char *small = arena_strdup(a, "before");
    /* Bigger than the 64 KiB starting block and than the 8 MiB cap. */
    size_t sizes[] = {64 * 1024 + 1, 1024 * 1024, 9 * 1024 * 1024};
    unsigned char *big[3];
    for (int i = 0; i < 3; i++) {
        big[i] = arena_alloc(a, sizes[i]);
        assert_non_null(big[i]);
        assert_int_equal(big[i][0], 0);
        assert_int_equal(big[i][sizes[i] - 1], 0);
        memset(big[i], 'a' + i, sizes[i]);
    }
    char *after = arena_strdup(a, "after");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(big[i][0], 'a' + i);
        assert_int_equal(big[i][sizes[i] - 1], 'a' + i);
    }
    assert_string_equal(small, "before");
    assert_string_equal(after, "after");
    assert_true(arena_bytes(a) >= sizes[0] + sizes[1] + sizes[2]);
    arena_free(a);
}

static void test_strings(void **state)
{
    (void)state;
    arena *a = arena_new();
    char *s = arena_strndup(a, "hello world", 5);
    assert_string_equal(s, "hello");
    char *e = arena_strndup(a, "", 0);
    assert_string_equal(e, "");
    /* strndup copies exactly n bytes, NULs included. */
    char *z = arena_strndup(a, "a\0b", 3);
    assert_int_equal(z[0], 'a');
    assert_int_equal(z[1], '\0');
    assert_int_equal(z[2], 'b');
    assert_int_equal(z[3], '\0');
    const char *src = "copied";
    char *d = arena_strdup(a, src);
    assert_string_equal(d, src);
    assert_ptr_not_equal(d, src);
    char *p = arena_printf(a, "%s-%d-%05.1f-%c", "x", -42, 3.14159, 'q');
    assert_string_equal(p, "x--42-003.1-q");
    char *empty = arena_printf(a, "%s", "");
    assert_string_equal(empty, "");
    /* Longer than any small internal buffer. */
    char *longer = arena_printf(a, "%0300d|%s", 7, "end");
    assert_int_equal(strlen(longer), 304);
    assert_string_equal(longer + 300, "|end");
    assert_int_equal(longer[0], '0');
    assert_int_equal(longer[299], '7');
    arena_free(a);
}

static void test_many(void **state)
{
    (void)state;
    enum { N = 200000 };
    arena *a = arena_new();
    uint64_t **v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < N; i++) {
        size_t words = 1 + i % 7;
        v[i] = arena_alloc(a, words * sizeof(uint64_t));
        for (size_t k = 0; k < words; k++)
            v[i][k] = i * 31 + k;
    }
    /* No allocation overlapped another. */
    for (size_t i = 0; i < N; i++) {
        size_t words = 1 + i % 7;
        for (size_t k = 0; k < words; k++)
            if (v[i][k] != i * 31 + k)
                fail_msg("allocation %zu word %zu overwritten", i, k);
    }
    free(v);
    arena_free(a);
}

static void test_bytes_growth(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_int_equal(arena_bytes(a), 0);
    arena_alloc(a, 1);
    size_t first = arena_bytes(a);
    assert_true(first >= 16);
    /* Small allocations come out of the block already there. */
    arena_alloc(a, 100);
    assert_int_equal(arena_bytes(a), first);
    size_t prev = first, blocks = 1, requested = 0;
    while (requested < 64u * 1024 * 1024) {
        arena_alloc(a, 1000);
        requested += 1008;
        size_t now = arena_bytes(a);
        assert_true(now >= prev);
        if (now > prev)
            blocks++;
        prev = now;
    }
    assert_true(prev >= requested);
    /* Blocks grow with the arena: 64 MiB must not take a thousand
     * 64 KiB mallocs, nor waste more than a quarter. */
    assert_true(blocks < 100);
    assert_true(prev < requested + requested / 4 + 8u * 1024 * 1024);
    arena_free(a);
}

static void test_string_packing(void **state)
{
    (void)state;
    arena *a = arena_new();
    char *s1 = arena_strdup(a, "s");
    char *s2 = arena_strdup(a, "gcra");
    /* Strings are packed: no rounding up to the alignment. */
    assert_ptr_equal(s2, s1 + 2);
    assert_string_equal(s1, "s");
    assert_string_equal(s2, "gcra");
    /* The next aligned allocation is aligned again, and zeroed. */
    unsigned char *p = arena_alloc(a, 24);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_true(p >= (unsigned char *)s2 + 5);
    for (int i = 0; i < 24; i++)
        assert_int_equal(p[i], 0);
    /* 20 000 three-byte strings fit in the first 64 KiB block. */
    size_t before = arena_bytes(a);
    for (int i = 0; i < 20000; i++)
        arena_strndup(a, "abcdef", 2);
    assert_int_equal(arena_bytes(a), before);
    arena_free(a);
}

static void test_large_keeps_block(void **state)
{
    (void)state;
    arena *a = arena_new();
    char *x = arena_alloc(a, 16);
    /* A large allocation gets its own block; the current one goes on
     * serving small allocations instead of being abandoned. */
    unsigned char *big = arena_alloc(a, 300000);
    char *y = arena_alloc(a, 16);
    assert_ptr_equal(y, x + 16);
    memset(big, 1, 300000);
    assert_int_equal(x[0], 0);
    assert_int_equal(y[0], 0);
    arena_free(a);
}

static void test_reset(void **state)
{
    (void)state;
    arena *a = arena_new();
    unsigned char *p = arena_alloc(a, 100);
    char *s = arena_strdup(a, "scratch");
    memset(p, 0xAB, 100);
    arena_alloc(a, 300000);               /* a block of its own, freed by the reset */
    arena_reset(a);
    /* The same memory again, zeroed as if new: a reused scratch arena
     * touches no fresh pages. */
    unsigned char *q = arena_alloc(a, 100);
    char *t = arena_strndup(a, "", 0);
    assert_ptr_equal(q, p);
    assert_ptr_equal(t, s);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(q[i], 0);
    assert_int_equal(s[1], 0);
    assert_true(arena_bytes(a) < 300000);
    arena_reset(a);
    arena_free(a);
    arena *empty = arena_new();
    arena_reset(empty);                   /* nothing allocated yet */
    assert_int_equal(arena_bytes(empty), 0);
    arena_free(empty);
}

static void test_free_null(void **state)
{
    (void)state;
    arena_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_zeroed),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_bytes_growth),
        cmocka_unit_test(test_string_packing),
        cmocka_unit_test(test_large_keeps_block),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
