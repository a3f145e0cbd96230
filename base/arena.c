/* arena.c - bump allocator in growing blocks.  See arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xalloc.h"

#define ARENA_MIN_BLOCK (64u * 1024u)
#define ARENA_ALIGN 16u

struct block {
    struct block *prev;
    size_t used, size;
    size_t ready;           /* bytes of data with their pages populated */
    size_t map_len;         /* mmap'd length, or 0 when from calloc */
    _Alignas(16) unsigned char data[];
};

/* Strings come from blocks of their own: packed one after the other at
 * alignment 1, interleaved with objects they cost every following object up
 * to 15 bytes of realignment (16 MB at 100 000 tenants). */
struct arena {
    struct block *head;     /* objects */
    struct block *strs;     /* strings */
    size_t total;
};

arena *arena_new(void)
{
    return xcalloc(1, sizeof(arena));
}

static void blocks_free(struct block *b)
{
    while (b) {
        struct block *p = b->prev;
        if (b->map_len)
            munmap(b, b->map_len);
        else
            free(b);
        b = p;
    }
}

void arena_free(arena *a)
{
    if (!a)
        return;
    blocks_free(a->head);
    blocks_free(a->strs);
    free(a);
}

/* Blocks at least this big are mapped, and their pages populated a step at
 * a time as allocations reach them (MADV_POPULATE_WRITE): one call per
 * step costs less than a page fault per 4 KiB on first touch.  At 1 000 000
 * tenants that took system time from 2-3.8 s to 1.3-1.6 s and user time
 * from 6.2-6.7 to 5.9-6.1 s (runs at load 6).  A step at a time, not the
 * whole block at once, so the unused end of the last block costs no memory.
 * Kernels without it fault pages in as before. */
#define POPULATE_MIN ((size_t)1 << 20)
#define POPULATE_STEP ((size_t)1 << 20)

/* A new block holding bsize bytes of zeroed data.  Memory is never reused
 * within an arena, so every allocation comes out zeroed for free.  A mapped
 * block's whole 2 MiB pages are offered to transparent huge pages: an arena
 * fills its blocks from the start, so a huge page is all used, and at
 * 1 000 000 tenants (2 GB) the TLB misses of 4 KiB pages cost about 2 s of
 * user time.  (Earlier measurements on the same kind of VM found huge pages
 * dearer there, 4.3-6 s of system time against 1.2-1.9 s; the host has
 * since made each 4 KiB page dearer, and now they are cheaper: SPEC 3.6.) */
static struct block *block_new(size_t bsize)
{
    size_t need = sizeof(struct block) + bsize;
    if (xalloc_fault())
        xalloc_oom(need);
    struct block *nb = NULL;
    if (need >= POPULATE_MIN) {
        void *m = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            xalloc_huge(m, need);
            nb = m;
            nb->map_len = need;
            nb->ready = 0;
        }
    }
    if (!nb) {
        nb = xcalloc(1, need);
        nb->ready = bsize;
    }
    nb->used = 0;
    nb->size = bsize;
    return nb;
}

/* Makes the pages of b up to data offset end (<= b->size) ready. */
static void block_ready(struct block *b, size_t end)
{
    size_t to = (end + POPULATE_STEP - 1) & ~(POPULATE_STEP - 1);
    if (to > b->size)
        to = b->size;
    /* From the page holding the first byte not yet ready. */
    uintptr_t from = ((uintptr_t)(b->data + b->ready)) & ~(uintptr_t)4095;
#ifdef MADV_POPULATE_WRITE
    madvise((void *)from, (size_t)((uintptr_t)(b->data + to) - from), MADV_POPULATE_WRITE);
#else
    (void)from;
#endif
    b->ready = to;
}

/* The rest of arena_take, when the current block (b, maybe NULL) has no
 * ready room for size bytes at alignment align.  Out of line, so that the
 * common case needs no registers saved: a policy of 100 000 tenants makes
 * 3.5 million allocations. */
__attribute__((noinline))
static void *arena_take_block(arena *a, struct block **headp, struct block *b, size_t size,
                              size_t align)
{
    if (size > SIZE_MAX / 2)
        xalloc_oom(size);
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->size && b->size - at >= size) {
            block_ready(b, at + size);
            b->used = at + size;
            return b->data + at;
        }
    }
    size_t bsize = ARENA_MIN_BLOCK;
    /* Grow block size with the arena so huge policies need few mallocs. */
    if (a->total / 8 > bsize)
        bsize = a->total / 8;
    if (bsize > 8u * 1024u * 1024u)
        bsize = 8u * 1024u * 1024u;
    if (size > bsize)
        bsize = size;
    struct block *nb = block_new(bsize);
    a->total += nb->size;
    if (nb->ready < size)
        block_ready(nb, size);
    if (b && size > ARENA_MIN_BLOCK && b->size - b->used >= ARENA_MIN_BLOCK / 4) {
        /* A large allocation gets a block of its own, behind the current
         * one, which keeps serving small allocations. */
        nb->prev = b->prev;
        b->prev = nb;
        nb->used = size;
        return nb->data;
    }
    nb->prev = b;
    *headp = nb;
    nb->used = size;
    return nb->data;
}

/* Returns size bytes at the given alignment (a power of two, at most
 * ARENA_ALIGN), zeroed (blocks start zeroed and are never reused), from the
 * chain of blocks *headp.  Blocks start ARENA_ALIGN-aligned. */
static inline void *arena_take(arena *a, struct block **headp, size_t size, size_t align)
{
    struct block *b = *headp;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        /* size <= SIZE_MAX / 2 here, or it could not fit. */
        if (at <= b->ready && b->ready - at >= size && size <= SIZE_MAX / 2) {
            b->used = at + size;
            return b->data + at;
        }
    }
    return arena_take_block(a, headp, b, size, align);
}

void *arena_alloc(arena *a, size_t size)
{
    return arena_take(a, &a->head, size, ARENA_ALIGN);
}

void *arena_alloc_align(arena *a, size_t size, size_t align)
{
    if (align == 0 || align > ARENA_ALIGN || (align & (align - 1)))
        align = ARENA_ALIGN;
    return arena_take(a, &a->head, size, align);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    /* Strings are packed without alignment: a policy holds millions of
     * short names, and rounding each to 16 bytes doubled their space. */
    char *p = arena_take(a, &a->strs, n + 1, 1);
    if (n)
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

void arena_reset(arena *a)
{
    struct block **chains[2] = {&a->head, &a->strs};
    a->total = 0;
    for (int i = 0; i < 2; i++) {
        struct block *b = *chains[i];
        if (!b)
            continue;
        blocks_free(b->prev);
        b->prev = NULL;
        memset(b->data, 0, b->used);
        b->used = 0;
        a->total += b->size;
    }
}

size_t arena_bytes(const arena *a)
{
    return a->total;
}
