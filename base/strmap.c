/* strmap.c - open-addressing string map.  See strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void strmap_init(strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_free(strmap *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

static void grow_to(strmap *m, size_t cap)
{
    struct strmap_entry *e = xcalloc(cap, sizeof *e);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].key)
            continue;
        size_t j = str_hash(m->e[i].key) & (cap - 1);
        while (e[j].key)
            j = (j + 1) & (cap - 1);
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
}

/* Room for n keys at a load below 3/4. */
static size_t cap_for(size_t cap, size_t n)
{
    if (!cap)
        cap = 64;
    while (n * 4 >= cap * 3)
        cap *= 2;
    return cap;
}

void strmap_reserve(strmap *m, size_t n)
{
    if (!n)
        return;
    size_t cap = cap_for(m->cap, n);
    if (cap != m->cap)
        grow_to(m, cap);
}

void *strmap_get(const strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->e[j].key) {
        if (strcmp(m->e[j].key, key) == 0)
            return m->e[j].val;
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void strmap_prefetch(const strmap *m, const char *key)
{
    if (m->cap)
        __builtin_prefetch(&m->e[str_hash(key) & (m->cap - 1)], 1);
}

void **strmap_slot(strmap *m, const char *key, bool *found)
{
    strmap_reserve(m, m->n + 1);
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->e[j].key) {
        if (strcmp(m->e[j].key, key) == 0) {
            *found = true;
            return &m->e[j].val;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->e[j].key = key;
    m->e[j].val = NULL;
    m->n++;
    *found = false;
    return &m->e[j].val;
}

void *strmap_put(strmap *m, const char *key, void *val)
{
    bool found;
    void **slot = strmap_slot(m, key, &found);
    if (found)
        return *slot;
    *slot = val;
    return NULL;
}
