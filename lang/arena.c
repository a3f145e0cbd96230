/* arena.c - bump allocator in growing blocks.  See arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN_BLOCK (64u * 1024u)
#define ARENA_ALIGN 16u

struct block {
    struct block *prev;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct block *head;
    size_t total;
};

static void arena_oom(size_t n)
{
    /* The only sane reaction to a failed compile-time allocation is to stop:
     * there is nothing to roll back at this point. */
    fprintf(stderr, "rlc: out of memory (allocating %zu bytes)\n", n);
    abort();
}

arena *arena_new(void)
{
    arena *a = calloc(1, sizeof *a);
    if (!a)
        arena_oom(sizeof *a);
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    struct block *b = a->head;
    while (b) {
        struct block *p = b->prev;
        free(b);
        b = p;
    }
    free(a);
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t bsize = ARENA_MIN_BLOCK;
        /* Grow block size with the arena so huge policies need few mallocs. */
        if (a->total / 8 > bsize)
            bsize = a->total / 8;
        if (bsize > 8u * 1024u * 1024u)
            bsize = 8u * 1024u * 1024u;
        if (size > bsize)
            bsize = size;
        struct block *nb = malloc(sizeof *nb + bsize);
        if (!nb)
            arena_oom(bsize);
        nb->prev = b;
        nb->used = 0;
        nb->size = bsize;
        a->head = nb;
        a->total += bsize;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_bytes(const arena *a)
{
    return a->total;
}
