/* strmap.h - string-keyed hash map (open addressing, FNV-1a), for name
 * lookups that must stay linear at a million tenants.  Keys are borrowed:
 * they must outlive the map (they live in the compilation arena). */
#ifndef RLC_STRMAP_H
#define RLC_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key and its value side by side: a lookup in a map of a million keys
 * misses the cache once per probe, not twice. */
struct strmap_entry {
    const char *key;
    void *val;
};

typedef struct strmap {
    struct strmap_entry *e;
    size_t n, cap;
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
/* Returns the value stored under key, or NULL. */
void *strmap_get(const strmap *m, const char *key);
/* Stores val under key unless present; returns the existing value (not
 * replaced) or NULL when val was stored. */
void *strmap_put(strmap *m, const char *key, void *val);
/* The value slot of key, added with a NULL value when absent (*found then
 * false): one lookup where a get and a put would take two.  The slot is
 * valid until the map next grows. */
void **strmap_slot(strmap *m, const char *key, bool *found);
/* Starts fetching the slot of key into the cache: for a caller that knows
 * which keys it will look up next, in a map too big for the cache. */
void strmap_prefetch(const strmap *m, const char *key);
/* Makes room for n keys in all, so that filling the map never grows it. */
void strmap_reserve(strmap *m, size_t n);
uint64_t str_hash(const char *s);

#endif
