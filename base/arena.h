/* arena.h - bump allocator that owns every AST node, name and diagnostic of
 * one compilation.  Freed in one go with arena_free(); individual objects are
 * never freed, which keeps parser error paths free of per-node cleanup.
 * Allocation failure aborts through the arena's out-of-memory hook rather than
 * returning NULL, so callers need not check every allocation (the same choice
 * Lua and jq make for their compile-time memory). */
#ifndef RLC_ARENA_H
#define RLC_ARENA_H

#include <stddef.h>

typedef struct arena arena;

/* Returns a new empty arena (owned by the caller; release with arena_free). */
arena *arena_new(void);
/* Frees every block of the arena.  Accepts NULL. */
void arena_free(arena *a);
/* Returns size bytes aligned for any type, zero-filled, owned by the arena. */
void *arena_alloc(arena *a, size_t size);
/* Like arena_alloc, but aligned only to align (a power of two, at most 16):
 * for the objects a policy has millions of (nodes, subjects, limits), whose
 * types need 8, where rounding each to 16 wastes memory.  ARENA_NEW_N picks
 * the alignment of the type. */
void *arena_alloc_align(arena *a, size_t size, size_t align);
#define ARENA_NEW_N(a, T, n) ((T *)arena_alloc_align((a), (n) * sizeof(T), _Alignof(T)))
/* Copies n bytes of s plus a NUL terminator into the arena. */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forgets every allocation, keeping the newest block of objects and of
 * strings (zeroed again where used) and freeing the others: scratch memory
 * used over and over without touching fresh pages each time. */
void arena_reset(arena *a);
/* Total bytes obtained from malloc so far (for benchmarks). */
size_t arena_bytes(const arena *a);

#endif
