/* xalloc.c - allocation that never returns NULL, one out-of-memory
 * handler, and the allocation fault hook.  See xalloc.h. */
#include "xalloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ---- the heap on huge pages ----
 *
 * A page fault is the dearest thing a short run does on a virtual machine
 * (about 10 us each where rlc is measured, against 0.3 us per 4 KiB when
 * the kernel maps 2 MiB at once), and a run that loads a plan touches a
 * few MB of fresh heap.  So the heap grows in large steps, is not given
 * back below 64 MiB while rlc runs (rlc is a command, not a server), and
 * every part of it that is whole 2 MiB pages is marked MADV_HUGEPAGE as
 * soon as it exists, before anything touches it.  Allocations up to 1 MiB
 * come from that heap; larger ones stay mmap'd by malloc (a large buffer
 * is advised by buf itself, a sparse array is mapped by xmap_zeroed).  The
 * kernel decides in the end: with transparent huge pages off, this changes
 * nothing but the step. */
#define HEAP_STEP ((size_t)32 << 20)
#define HEAP_HUGE ((uintptr_t)2 << 20)

static uintptr_t heap_advised;   /* the heap below this is advised */

static void heap_advise(void)
{
#ifdef MADV_HUGEPAGE
    uintptr_t end = (uintptr_t)sbrk(0) & ~(HEAP_HUGE - 1);
    if (heap_advised && end > heap_advised) {
        madvise((void *)heap_advised, end - heap_advised, MADV_HUGEPAGE);
        heap_advised = end;
    }
#endif
}

/* Never touched, so it costs no memory: it holds the rest of the 2 MiB
 * the heap started in, so that allocations begin on a huge page. */
static void *volatile heap_lead;   /* volatile: kept, though never read */

void xalloc_init(void)
{
    mallopt(M_TOP_PAD, (int)HEAP_STEP);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, (int)HEAP_STEP);   /* the lead is the heap's */
    /* Where the heap's top starts (its end less what is free there), when
     * malloc is the brk heap's (not a sanitizer's): the lead takes it up
     * to the next 2 MiB. */
    void *first = malloc(1);
    struct mallinfo2 mi = mallinfo2();
    uintptr_t end = (uintptr_t)sbrk(0), top = end - mi.keepcost;
    if (first && (uintptr_t)first < top && mi.keepcost <= mi.arena && top < end) {
        heap_advised = (top + HEAP_HUGE - 1) & ~(HEAP_HUGE - 1);
        if (heap_advised - top > 256)
            heap_lead = malloc(heap_advised - top - 64);
        heap_advise();
    }
    free(first);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

void *xmalloc(size_t size)
{
    void *p = xalloc_fault() ? NULL : malloc(size ? size : 1);
    if (!p)
        xalloc_oom(size);
    heap_advise();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        xalloc_oom(SIZE_MAX);
    void *p = xalloc_fault() ? NULL : calloc(n && size ? n : 1, n && size ? size : 1);
    if (!p)
        xalloc_oom(n * size);
    heap_advise();
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = xalloc_fault() ? NULL : realloc(p, size ? size : 1);
    if (!q)
        xalloc_oom(size);
    heap_advise();
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

/* The length of the mapping sits in the 16 bytes before the pointer. */
#define MAP_HEAD 16u

void *xmap_zeroed(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - MAP_HEAD) / size)
        xalloc_oom(SIZE_MAX);
    size_t len = MAP_HEAD + (n && size ? n * size : 1);
    void *m = xalloc_fault() ? MAP_FAILED
                             : mmap(NULL, len, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        xalloc_oom(len);
    *(size_t *)m = len;
    return (unsigned char *)m + MAP_HEAD;
}

void xunmap(void *p)
{
    if (!p)
        return;
    unsigned char *m = (unsigned char *)p - MAP_HEAD;
    munmap(m, *(size_t *)m);
}

/* advice on the whole pages of size page (a power of two) inside
 * [p, p + n): the first and last may be shared with other allocations,
 * and are left as they are. */
#if defined(MADV_HUGEPAGE) || defined(MADV_POPULATE_WRITE)
static void advise_inside(void *p, size_t n, uintptr_t page, int advice)
{
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, advice);
}
#endif

void xalloc_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    advise_inside(p, n, HEAP_HUGE, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void xalloc_ready(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    if (p && n >= ((size_t)1 << 20))
        advise_inside(p, n, 4096, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}
