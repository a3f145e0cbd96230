/* test_buf.c - the growing byte buffer: every byte kept in order while it
 * grows from a few bytes past the size where it moves to huge pages (a
 * fresh block, the bytes copied in) and on through moves of that block;
 * the terminating NUL; the cap; buf_expect ahead of writes. */
#include "unit.h"

#include <stdint.h>

#include "buf.h"

/* The byte at offset i of the pattern the tests write. */
static unsigned char pat(size_t i)
{
    return (unsigned char)(i * 2654435761u >> 13);
}

static void check_all(const buf *b, size_t n)
{
    assert_int_equal(b->len, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b->data[i] != pat(i))
            fail_msg("byte %zu of %zu is 0x%02x, not 0x%02x", i, n,
                     (unsigned char)b->data[i], pat(i));
    assert_int_equal(b->data[n], '\0');
}

static void test_growth_keeps_bytes(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, (size_t)64 << 20);
    unsigned char chunk[70001];
    size_t n = 0, step = 1, last_cap = 0;
    /* Uneven appends, from 1 byte to 70 000, to 20 MB: every growth of
     * the capacity is checked whole. */
    while (n < ((size_t)20 << 20)) {
        for (size_t i = 0; i < step; i++)
            chunk[i] = pat(n + i);
        buf_append(&b, chunk, step);
        n += step;
        assert_true(buf_ok(&b));
        if (b.cap != last_cap) {
            check_all(&b, n);
            last_cap = b.cap;
        }
        step = step * 3 % 70001 + 1;
    }
    check_all(&b, n);
    assert_true(b.cap >= ((size_t)16 << 20));
    buf_free(&b);
}

static void test_expect_then_write(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, (size_t)64 << 20);
    buf_puts(&b, "head");
    /* Straight from a small buffer to a large one. */
    assert_true(buf_expect(&b, (size_t)9 << 20));
    assert_string_equal(b.data, "head");
    assert_true(b.cap >= ((size_t)9 << 20) + 5);
    char *big = malloc((size_t)9 << 20);
    assert_non_null(big);
    memset(big, 'z', (size_t)9 << 20);
    buf_append(&b, big, (size_t)9 << 20);
    assert_int_equal(b.len, ((size_t)9 << 20) + 4);
    assert_memory_equal(b.data, "headzzz", 7);
    assert_int_equal(b.data[b.len - 1], 'z');
    assert_int_equal(b.data[b.len], '\0');
    free(big);
    buf_free(&b);
}

static void test_cap(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, (size_t)5 << 20);
    char *big = calloc(1, (size_t)3 << 20);
    assert_non_null(big);
    buf_append(&b, big, (size_t)3 << 20);
    assert_true(buf_ok(&b));
    buf_append(&b, big, (size_t)3 << 20);   /* past the cap */
    assert_false(buf_ok(&b));
    assert_int_equal(b.len, (size_t)3 << 20);
    free(big);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth_keeps_bytes),
        cmocka_unit_test(test_expect_then_write),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
