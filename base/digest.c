/* digest.c - SHA-256 and canonical JSON.  See digest.h. */
#include "digest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define CANONICAL_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

void digest_hex(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The digest of parts p[0..k) (n[i] bytes each), one after the other. */
static bool digest_sha256(const void *const *p, const size_t *n, size_t k, unsigned char out[32])
{
    /* Fetched and allocated once: a plan hashes one string per rule id and
     * tenant (hundreds of thousands), and OpenSSL 3 otherwise looks the
     * algorithm up and allocates a context for each. */
    static EVP_MD *md;
    static EVP_MD_CTX *ctx;
    if (!md)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!ctx)
        ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!md || !ctx) {
        if (k != 1)
            return false;
        return EVP_Digest(p[0], n[0], out, &len, EVP_sha256(), NULL) == 1 && len == 32;
    }
    bool ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
    for (size_t i = 0; ok && i < k; i++)
        ok = EVP_DigestUpdate(ctx, p[i], n[i]) == 1;
    return ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
}

bool digest_sha256_parts_hex(const void *const *p, const size_t *n, size_t k,
                             char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[32];
    if (!digest_sha256(p, n, k, md)) {
        out[0] = '\0';
        return false;
    }
    digest_hex(md, 32, out);
    return true;
}

bool digest_sha256_hex(const void *p, size_t n, char out[DIGEST_HEX_LEN + 1])
{
    return digest_sha256_parts_hex(&p, &n, 1, out);
}

char *digest_canonical_json(const json_t *v)
{
    return json_dumps(v, CANONICAL_FLAGS | JSON_ENCODE_ANY);
}

bool digest_json_hex(const json_t *v, char out[DIGEST_HEX_LEN + 1])
{
    char *s = digest_canonical_json(v);
    if (!s) {
        out[0] = '\0';
        return false;
    }
    bool ok = digest_sha256_hex(s, strlen(s), out);
    free(s);
    return ok;
}
