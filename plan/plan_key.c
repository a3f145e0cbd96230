/* plan_key.c - tags, keys, encodings and slots.  See plan_key.h. */
#include "plan_key.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

/* The one rule of SPEC.md 5.5 and 6.1: which bytes become %XX. */
static bool pct_needed(unsigned char c, const char *special)
{
    return c == '%' || c < 0x21 || c > 0x7e || (c && strchr(special, c));
}

void plan_pct_encode(buf *b, const char *s, size_t n, const char *special)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (pct_needed(c, special)) {
            char e[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            buf_append(b, e, 3);
        } else {
            buf_putc(b, (char)c);
        }
    }
}

void plan_subject_seg(buf *b, bool first, const char *kind, size_t kn, const char *name,
                      size_t nn)
{
    if (!kind)            /* a caller's JSON that was not a string */
        kind = name = "", kn = nn = 0;
    if (!first)
        buf_putc(b, '/');
    if (!name) {          /* a template: "key*", which no name can spell */
        buf_append(b, kind, kn);
        buf_putc(b, '*');
        return;
    }
    buf_append(b, kind, kn);
    buf_putc(b, ':');
    /* Runs of plain bytes in one append: a deploy encodes every rule's
     * path. */
    size_t run = 0;
    for (size_t i = 0; i < nn; i++) {
        if (name[i] != '%' && name[i] != '/')
            continue;
        buf_append(b, name + run, i - run);
        buf_append(b, name[i] == '%' ? "%25" : "%2F", 3);
        run = i + 1;
    }
    buf_append(b, name + run, nn - run);
}

size_t plan_key_tag_into(char *out, size_t cap, const char *ns, const char *tenant)
{
    size_t n = 0;
#define PUT(c)                                                                 \
    do {                                                                       \
        if (n + 1 < cap)                                                       \
            out[n] = (c);                                                      \
        n++;                                                                   \
    } while (0)
    PUT('{');
    for (const char *c = ns; *c; c++)
        PUT(*c);
    PUT(':');
    for (const unsigned char *c = (const unsigned char *)tenant; *c; c++) {
        if (pct_needed(*c, "{}:")) {
            PUT('%');
            PUT(hexdig[*c >> 4]);
            PUT(hexdig[*c & 15]);
        } else {
            PUT((char)*c);
        }
    }
    PUT('}');
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

char *plan_key_tag(const char *ns, const char *tenant)
{
    size_t n = plan_key_tag_into(NULL, 0, ns, tenant);
    char *t = xmalloc(n + 1);
    plan_key_tag_into(t, n + 1, ns, tenant);
    return t;
}

size_t plan_key_longest(const char *ns, const char *tenant)
{
    return plan_key_tag_into(NULL, 0, ns, tenant) + PLAN_KEY_SUFFIX_MAX;
}

uint16_t plan_crc16(const char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Bounds of the hash tag of key: [*start, *end) inside key, or false when
 * the whole key is hashed (no '{', no '}' after it, or nothing between). */
static bool hash_tag(const char *key, size_t len, size_t *start, size_t *end)
{
    const char *open = memchr(key, '{', len);
    if (!open)
        return false;
    size_t o = (size_t)(open - key);
    const char *close = memchr(open + 1, '}', len - o - 1);
    if (!close || close == open + 1)
        return false;
    *start = o + 1;
    *end = (size_t)(close - key);
    return true;
}

unsigned plan_key_slot(const char *key, size_t n)
{
    size_t s, e;
    if (hash_tag(key, n, &s, &e))
        return plan_crc16(key + s, e - s) & (PLAN_KEY_SLOTS - 1);
    return plan_crc16(key, n) & (PLAN_KEY_SLOTS - 1);
}

bool plan_key_prefix_fixes_slot(const char *prefix)
{
    size_t len = strlen(prefix), s, e;
    return hash_tag(prefix, len, &s, &e) && e < len;
}
