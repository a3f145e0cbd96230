/* plan_digest.c - see plan_digest.h. */
#include "plan_digest.h"

#include <stdlib.h>
#include <string.h>

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
    bool ok = digest_json_hex(c, out);
    json_decref(c);
    return ok;
}

char *plan_digest_canonical_text(const json_t *plan)
{
    char *s = digest_canonical_json(plan);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}
