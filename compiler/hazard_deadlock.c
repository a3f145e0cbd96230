/* hazard_deadlock.c - deadlock hazards (RLC2201, RLC2202).  Cycles in
 * `extends` and `import` are found earlier (RLC1007, RLC1005) because
 * nothing can be resolved through them.  Here: concurrency pools whose
 * holders never expire, and the proof that every key of one decision lives
 * in one Redis Cluster slot, which is what lets the plan acquire all of a
 * decision's counters and pools in one atomic script call (so no decision
 * ever holds one pool while waiting for another, and acquisition order
 * cannot matter; SPEC.md section 4). */
#include "hazard_private.h"

#include <string.h>

void hz_deadlock_conc(hz *h, const hz_level *lv, const m_conc *c)
{
    if (c->lease_ms > 0)
        return;
    diag_add(h->d, DIAG_LEASE_MISSING, c->src->sp,
             "concurrency %lld on %s has no lease: a holder that crashes before releasing "
             "keeps its slot forever, and after %lld such crashes every request is "
             "rejected; add 'lease D' (longer than the slowest request)",
             (long long)c->max, hz_level_desc(h, lv), (long long)c->max);
}

/* CRC16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses. */
static unsigned crc16(const char *s, size_t n)
{
    unsigned crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned)(unsigned char)s[i] << 8;
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
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

unsigned redis_key_slot(const char *key, size_t len)
{
    size_t s, e;
    if (hash_tag(key, len, &s, &e))
        return crc16(key + s, e - s) & 16383;
    return crc16(key, len) & 16383;
}

/* Writes "{NS:TENANT}" with the tenant percent-encoded as SPEC.md 6.1 says
 * (%, {, }, : and bytes outside 0x21-0x7e as %XX) into out when it fits;
 * returns the length it needs (without the NUL). */
static size_t prefix_into(char *out, size_t cap, const char *ns, const char *tenant)
{
    static const char hex[] = "0123456789ABCDEF";
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
        if (*c < 0x21 || *c > 0x7e || *c == '%' || *c == '{' || *c == '}' || *c == ':') {
            PUT('%');
            PUT(hex[*c >> 4]);
            PUT(hex[*c & 15]);
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

const char *tenant_key_prefix(arena *a, const char *ns, const char *tenant)
{
    size_t n = prefix_into(NULL, 0, ns, tenant);
    char *p = arena_alloc(a, n + 1);
    prefix_into(p, n + 1, ns, tenant);
    return p;
}

/* Every key of a decision is the tenant's prefix followed by more text
 * (subject path, route, window, pool).  They all hash alike exactly when
 * the prefix holds a whole, non-empty hash tag: then no suffix can change
 * which '{' opens the tag or which '}' closes it. */
bool key_prefix_fixes_slot(const char *prefix)
{
    size_t len = strlen(prefix), s, e;
    return hash_tag(prefix, len, &s, &e) && e < len;
}

void hz_deadlock_tenant(hz *h, const m_subject *t)
{
    /* Most names fit on the stack; the proof runs for every tenant. */
    char small[256];
    const char *prefix = small;
    if (prefix_into(small, sizeof small, h->m->ns, t->name) >= sizeof small)
        prefix = tenant_key_prefix(h->a, h->m->ns, t->name);
    if (key_prefix_fixes_slot(prefix))
        return;
    diag_add(h->d, DIAG_CROSS_SLOT, t->src->name.sp,
             "the keys of tenant \"%s\" (prefix %s) do not share one hash tag, so one "
             "decision's counters and pools could live in different Redis Cluster slots "
             "and could not be acquired atomically",
             t->name, prefix);
}
