/* xalloc.c - allocation that never returns NULL, one out-of-memory
 * handler, and the allocation fault hook.  See xalloc.h. */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static xalloc_oom_handler oom_handler;

/* RLC_FAULT_ALLOC: read once; 0 = no fault.  Counting is not thread-safe,
 * and need not be: rlc runs one thread. */
static unsigned long long fault_at, fault_count;
static int fault_read;

void xalloc_set_oom_handler(xalloc_oom_handler h)
{
    oom_handler = h;
}

_Noreturn void xalloc_oom(size_t size)
{
    if (oom_handler)
        oom_handler(size);
    abort();
}

int xalloc_fault(void)
{
    if (!fault_read) {
        const char *v = getenv("RLC_FAULT_ALLOC");
        fault_at = v ? strtoull(v, NULL, 10) : 0;
        fault_read = 1;
    }
    return fault_at && ++fault_count == fault_at;
}

void *xmalloc(size_t size)
{
    void *p = xalloc_fault() ? NULL : malloc(size ? size : 1);
    if (!p)
        xalloc_oom(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        xalloc_oom(SIZE_MAX);
    void *p = xalloc_fault() ? NULL : calloc(n && size ? n : 1, n && size ? size : 1);
    if (!p)
        xalloc_oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = xalloc_fault() ? NULL : realloc(p, size ? size : 1);
    if (!q)
        xalloc_oom(size);
    return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        xalloc_oom(SIZE_MAX);
    return xrealloc(p, n * size);
}

char *xstrndup(const char *s, size_t n)
{
    size_t l = strnlen(s, n);
    char *p = xmalloc(l + 1);
    memcpy(p, s, l);
    p[l] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, SIZE_MAX);
}

void xalloc_ready(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    if (!p || n < ((size_t)1 << 20))
        return;
    /* The whole pages inside the block: the first and last may be shared
     * with other allocations, and fault in as usual. */
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}
