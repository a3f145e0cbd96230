/* test_xalloc.c - the heap xalloc_init sets up: allocations made after it
 * lie in memory advised for huge pages, from the first one on (the lead
 * block takes the rest of the heap's first 2 MiB), also after the heap has
 * grown; and xmap_zeroed's arrays are zeroed, writable, and outside the
 * heap.  Where malloc is not glibc's brk heap (a sanitizer's) or the
 * kernel has transparent huge pages off, the heap checks are skipped. */
#include "unit.h"

#include <stdint.h>

#include "arena.h"
#include "xalloc.h"

/* The "THPeligible" and name of the mapping holding p, from smaps: 1 or
 * 0, -1 when not found; name gets its last field ("[heap]" or ""). */
static int thp_eligible(const void *p, char *name, size_t nlen)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int in = 0, r = -1;
    name[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char tail[256] = "";
        /* A mapping's first line: "lo-hi perms offset dev inode [name]"
         * (its attribute lines start with a name and a colon). */
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255[^\n]", &lo, &hi, tail) >= 2) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            if (in) {
                const char *t = tail;
                while (*t == ' ')
                    t++;
                snprintf(name, nlen, "%s", t);
            }
            continue;
        }
        int v;
        if (in && sscanf(line, "THPeligible: %d", &v) == 1) {
            r = v;
            break;
        }
    }
    fclose(f);
    return r;
}

static bool thp_possible(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char s[128] = "";
    if (f) {
        if (!fgets(s, sizeof s, f))
            s[0] = '\0';
        fclose(f);
    }
    return s[0] && !strstr(s, "[never]");
}

static void test_heap_advised(void **state)
{
    (void)state;
    xalloc_init();
    if (!thp_possible())
        skip();
    char name[256];
    /* The first allocation after init, and allocations well past the
     * heap's first step (it grows 32 MiB at a time). */
    void *first = xmalloc(100);
    int e = thp_eligible(first, name, sizeof name);
    if (strcmp(name, "[heap]")) {
        free(first);
        skip();   /* not the brk heap: a sanitizer's malloc */
    }
    assert_int_equal(e, 1);
    enum { N = 700 };
    void *blk[N];
    for (int i = 0; i < N; i++) {
        blk[i] = xmalloc(64 * 1024);
        memset(blk[i], i & 0xff, 64 * 1024);
    }
    for (int i = 0; i < N; i += 50) {
        e = thp_eligible(blk[i], name, sizeof name);
        if (e != 1)
            fail_msg("block %d (%p) is in a mapping with THPeligible %d (%s)", i, blk[i], e,
                     name);
    }
    /* What realloc and calloc return is advised too. */
    void *c = xcalloc(1000, 100);
    assert_int_equal(thp_eligible(c, name, sizeof name), 1);
    void *g = xrealloc(xmalloc(10), 200000);
    assert_int_equal(thp_eligible(g, name, sizeof name), 1);
    free(g);
    free(c);
    for (int i = 0; i < N; i++)
        free(blk[i]);
    free(first);
}

static void test_map_zeroed(void **state)
{
    (void)state;
    /* Dirty the heap, so that a recycled block would show through. */
    unsigned char *junk = xmalloc(3 << 20);
    memset(junk, 0xa5, 3 << 20);
    free(junk);
    size_t n = 1000000;
    uint64_t *a = xmap_zeroed(n, sizeof *a);
    for (size_t i = 0; i < n; i += 511)
        if (a[i])
            fail_msg("entry %zu is %llu", i, (unsigned long long)a[i]);
    a[0] = 1;
    a[n - 1] = 2;   /* the last entry is inside the mapping */
    char name[256];
    thp_eligible(a, name, sizeof name);
    assert_string_not_equal(name, "[heap]");
    xunmap(a);
    xunmap(NULL);
    /* A zero count still gives a pointer that can be unmapped. */
    void *z = xmap_zeroed(0, 8);
    assert_non_null(z);
    xunmap(z);
}

/* An arena's big blocks are mapped apart from the heap, and their whole
 * 2 MiB pages advised for huge pages too: an arena fills each block from
 * its start, and 4 KiB pages cost the TLB at a million tenants. */
static void test_arena_blocks_advised(void **state)
{
    (void)state;
    if (!thp_possible())
        skip();
    arena *a = arena_new();
    size_t n = 9u << 20;
    unsigned char *big = arena_alloc(a, n);
    big[0] = 1;
    big[n - 1] = 2;
    char name[256];
    int e = thp_eligible(big + (4u << 20), name, sizeof name);
    if (e != 1)
        fail_msg("an arena block (%p) is in a mapping with THPeligible %d (%s)", (void *)big,
                 e, name);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_advised),
        cmocka_unit_test(test_map_zeroed),
        cmocka_unit_test(test_arena_blocks_advised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
