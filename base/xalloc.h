/* xalloc.h - the one way rlc allocates memory, and the one thing that
 * happens when an allocation fails.
 *
 * Every heap allocation in lang/, compiler/, runtime/ and cli/ goes through
 * these functions (the arena and the bounded buffers too, and jansson's
 * once the CLI installs xmalloc as its allocator).  They never return NULL:
 * a failed allocation calls xalloc_oom(), which calls the handler the
 * program installed and, should that return or none be installed, abort()s.
 * So no caller checks for NULL and no function has an "out of memory"
 * error path of its own; library code still never prints or exits, because
 * the handler is the program's (Redis's zmalloc_oom_handler): the rlc
 * command installs one that prints "rlc: out of memory" and exits 11
 * (cli/cli.h).  A deploy stopped there is an interrupted deploy like any
 * crash (the journal says so, SPEC 7.7).
 *
 * Fault injection: with RLC_FAULT_ALLOC=N in the environment the Nth
 * allocation (1-based, counted from the process start) fails as if the
 * system had no memory, so a test can make each allocation fail in turn.
 * Not a way to limit memory: without the variable it costs one getenv. */
#ifndef RLC_XALLOC_H
#define RLC_XALLOC_H

#include <stddef.h>

/* Called with the size that could not be allocated; must not return (if it
 * does, xalloc_oom aborts).  It must not allocate. */
typedef void (*xalloc_oom_handler)(size_t size);

/* Installs the handler (NULL: abort, the default). */
void xalloc_set_oom_handler(xalloc_oom_handler h);

/* The one reaction to a failed allocation: the handler, else abort(). */
_Noreturn void xalloc_oom(size_t size);

/* Sets the heap up for a run: grown in large steps, kept, and backed by
 * huge pages where the kernel allows (xalloc.c says why).  Called once,
 * first thing in main; the allocators below work without it. */
void xalloc_init(void);

/* malloc, calloc, realloc, strdup and strndup that never return NULL.
 * xmalloc(0) and xcalloc with a zero count return a unique pointer;
 * xcalloc and xreallocarray treat n * size overflowing as a failure. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* n zeroed objects of size bytes in a mapping of their own, whose pages
 * cost nothing until touched (a calloc from the heap may clear it whole,
 * huge pages and all): for a large array of which a run may use a few
 * entries.  Never NULL; freed with xunmap (NULL is ignored). */
void *xmap_zeroed(size_t n, size_t size);
void xunmap(void *p);

/* Offers the whole 2 MiB pages inside [p, p + n) to transparent huge
 * pages (MADV_HUGEPAGE): a fault per 2 MiB instead of per 4 KiB for
 * memory about to be filled, where the kernel allows; a hint, nothing
 * else changes. */
void xalloc_huge(void *p, size_t n);

/* Makes the pages of [p, p + n) ready to be written in one call
 * (MADV_POPULATE_WRITE) instead of a fault per 4 KiB on first touch, when
 * n is large (1 MiB or more) and the kernel has it; a hint, nothing else
 * changes.  For memory about to be filled whole: a read buffer sized from
 * its file, an array written entry by entry. */
void xalloc_ready(void *p, size_t n);

/* Whether the fault-injection hook says this allocation fails; for the
 * few allocators that do not go through malloc (the arena's mmap). */
int xalloc_fault(void);

#endif
