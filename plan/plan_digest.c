/* plan_digest.c - see plan_digest.h. */
#include "plan_digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
    unsigned int ml = 0;
    if (!EVP_Digest(name, strlen(name), md, &ml, EVP_sha256(), NULL) || ml != 32)
        return false;
    return (((unsigned)md[0] << 8 | md[1]) % PLAN_BUCKET_MEAN) == 0;
}

bool plan_bucket_digest(const char *text, size_t len, char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int ml = 0;
    out[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, "[", 1) && EVP_DigestUpdate(ctx, text, len) &&
              EVP_DigestUpdate(ctx, "]", 1) && EVP_DigestFinal_ex(ctx, md, &ml) && ml == 32;
    EVP_MD_CTX_free(ctx);
    if (ok)
        digest_hex(md, 32, out);
    return ok;
}
