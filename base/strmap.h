/* strmap.h - string-keyed hash map (open addressing, FNV-1a), for name
 * lookups that must stay linear at a million tenants.  Keys are borrowed:
 * they must outlive the map (they live in the compilation arena). */
#ifndef RLC_STRMAP_H
#define RLC_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap {
    const char **keys;
    void **vals;
    size_t n, cap;
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
/* Returns the value stored under key, or NULL. */
void *strmap_get(const strmap *m, const char *key);
/* Stores val under key unless present; returns the existing value (not
 * replaced) or NULL when val was stored. */
void *strmap_put(strmap *m, const char *key, void *val);
uint64_t str_hash(const char *s);

#endif
