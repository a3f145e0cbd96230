/* plan_digest.c - see plan_digest.h. */
#include "plan_digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "xalloc.h"

bool plan_digest_compute(const json_t *plan, char out[DIGEST_HEX_LEN + 1])
{
    out[0] = '\0';
    if (!json_is_object(plan))
        return false;
    /* A shallow copy shares the members; dropping the key from the copy
     * leaves the caller's document as it was. */
    json_t *c = json_copy((json_t *)plan);
    if (!c)
        return false;
    json_object_del(c, "plan_digest");
    json_object_del(c, "tenants");
    bool ok = digest_json_hex(c, out);
    json_decref(c);
    return ok;
}

bool plan_bucket_cut(const char *name, size_t n)
{
    if (n >= PLAN_BUCKET_MAX)
        return true;
    unsigned char md[32];
    const void *part = name;
    size_t len = strlen(name);
    if (!digest_sha256_parts(&part, &len, 1, md))
        return false;
    return (((unsigned)md[0] << 8 | md[1]) % PLAN_BUCKET_MEAN) == 0;
}

bool plan_bucket_digest(const char *text, size_t len, char out[DIGEST_HEX_LEN + 1])
{
    const void *part[3] = {"[", text, "]"};
    size_t n[3] = {1, len, 1};
    return digest_sha256_parts_hex(part, n, 3, out);
}
