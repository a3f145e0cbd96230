/* store_key.c - lengths of a tenant's store keys.  See store_key.h.  It
 * computes lengths only: the keys themselves are built where they are used
 * (compiler/plan.c, runtime/redis_config.c). */
#include "store_key.h"

#include <string.h>

size_t store_tag_len(const char *ns, const char *tenant)
{
    size_t n = 3 + strlen(ns);   /* '{', ':', '}' */
    for (const unsigned char *c = (const unsigned char *)tenant; *c; c++)
        n += (*c < 0x21 || *c > 0x7e || *c == '%' || *c == '{' || *c == '}' || *c == ':') ? 3 : 1;
    return n;
}

size_t store_key_longest(const char *ns, const char *tenant)
{
    return store_tag_len(ns, tenant) + STORE_KEY_SUFFIX_MAX;
}
