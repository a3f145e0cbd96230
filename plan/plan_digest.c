/* plan_digest.c - see plan_digest.h. */
#include "plan_digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "utf8.h"
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

/* A JSON string as jansson writes it with JSON_ENSURE_ASCII: '"' and '\\'
 * escaped, \b \f \n \r \t short, other controls and every non-ASCII
 * character as upper-case \uXXXX (surrogate pairs above U+FFFF). */
void canon_json_str(buf *b, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    const unsigned char *c = (const unsigned char *)s;
    buf_putc(b, '"');
    while (*c) {
        const unsigned char *run = c;
        while (*c >= 0x20 && *c < 0x80 && *c != '"' && *c != '\\')
            c++;
        buf_append(b, run, (size_t)(c - run));
        if (!*c)
            break;
        uint32_t cp = *c;
        size_t l = 1;
        if (cp >= 0x80) {
            l = utf8_seq_len(c, strlen((const char *)c));
            if (!l) {
                cp = 0xFFFD; /* the language only admits UTF-8; never reached */
                l = 1;
            } else if (l == 2) {
                cp = ((c[0] & 0x1Fu) << 6) | (c[1] & 0x3Fu);
            } else if (l == 3) {
                cp = ((c[0] & 0x0Fu) << 12) | ((c[1] & 0x3Fu) << 6) | (c[2] & 0x3Fu);
            } else {
                cp = ((c[0] & 0x07u) << 18) | ((c[1] & 0x3Fu) << 12) | ((c[2] & 0x3Fu) << 6) |
                     (c[3] & 0x3Fu);
            }
        }
        c += l;
        switch (cp) {
        case '"': buf_puts(b, "\\\""); continue;
        case '\\': buf_puts(b, "\\\\"); continue;
        case '\b': buf_puts(b, "\\b"); continue;
        case '\f': buf_puts(b, "\\f"); continue;
        case '\n': buf_puts(b, "\\n"); continue;
        case '\r': buf_puts(b, "\\r"); continue;
        case '\t': buf_puts(b, "\\t"); continue;
        default: break;
        }
        uint32_t units[2] = {cp, 0};
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = 0xD800 | (cp >> 10);
            units[1] = 0xDC00 | (cp & 0x3FF);
            nu = 2;
        }
        for (int k = 0; k < nu; k++) {
            char e[6] = {'\\', 'u', hx[(units[k] >> 12) & 15], hx[(units[k] >> 8) & 15],
                         hx[(units[k] >> 4) & 15], hx[units[k] & 15]};
            buf_append(b, e, 6);
        }
    }
    buf_putc(b, '"');
}
