/* unit.h - what the cmocka unit tests share: the cmocka includes in the
 * order it needs, and small helpers to look for diagnostics in a list and
 * to copy test text into the malloc'd buffers the source map takes over.
 * Header-only: each test_*.c is built into its own binary from one file. */
#ifndef RLC_TEST_UNIT_H
#define RLC_TEST_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

/* A malloc'd copy of n bytes of s plus a NUL (the source map owns it). */
static inline char *unit_dup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Number of diagnostics with this code. */
static inline size_t unit_count(const diag_list *l, int code)
{
    size_t n = 0;
    for (const diag *d = l->head; d; d = d->next)
        if (d->code == code)
            n++;
    return n;
}

/* The first diagnostic with this code, or NULL. */
static inline const diag *unit_find(const diag_list *l, int code)
{
    for (const diag *d = l->head; d; d = d->next)
        if (d->code == code)
            return d;
    return NULL;
}

/* Asserts that a diagnostic with this code covers exactly [start, end). */
#define assert_diag_at(l, code, s, e)                                          \
    do {                                                                       \
        const diag *d_ = unit_find((l), (code));                               \
        if (!d_)                                                               \
            fail_msg("no diagnostic RLC%04d", (int)(code));                   \
        assert_int_equal(d_->sp.start, (s));                                   \
        assert_int_equal(d_->sp.end, (e));                                     \
    } while (0)

#endif
