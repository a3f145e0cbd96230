/* digest.c - SHA-256 and canonical JSON.  See digest.h. */
#include "digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Nettle, not OpenSSL: it uses the CPU's SHA instructions as well
 * (about 1.4 GB/s here against OpenSSL's 1.6), and it is small.  Linking
 * libcrypto cost every run about 3 ms before main (the loader resolves
 * its 17 000 relocations), while only TLS and plan signatures need it;
 * openssl_lazy loads it for those. */
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "utf8.h"
#include "xalloc.h"

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

/* The digest of parts p[0..k) (n[i] bytes each), one after the other.
 * Nettle's functions cannot fail; the bool stays for the callers, which
 * were written against a library whose could. */
bool digest_sha256_parts(const void *const *p, const size_t *n, size_t k, unsigned char out[32])
{
    struct sha256_ctx c;
    sha256_init(&c);
    for (size_t i = 0; i < k; i++)
        sha256_update(&c, n[i], p[i]);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
    return true;
}

void digest_sha1_hex(const void *p, size_t n, char out[41])
{
    unsigned char md[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, n, p);
    sha1_digest(&c, SHA1_DIGEST_SIZE, md);
    digest_hex(md, SHA1_DIGEST_SIZE, out);
}

bool digest_sha256_parts_hex(const void *const *p, const size_t *n, size_t k,
                             char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[32];
    if (!digest_sha256_parts(p, n, k, md)) {
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

void canon_json_strn(buf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    const unsigned char *c = (const unsigned char *)s, *end = c + n;
    buf_putc(b, '"');
    while (c < end) {
        const unsigned char *run = c;
        while (c < end && *c >= 0x20 && *c < 0x80 && *c != '"' && *c != '\\')
            c++;
        buf_append(b, run, (size_t)(c - run));
        if (c >= end)
            break;
        uint32_t cp = *c;
        size_t l = 1;
        if (cp >= 0x80) {
            l = utf8_seq_len(c, (size_t)(end - c));
            if (!l) {
                cp = 0xFFFD; /* jansson holds valid UTF-8 only; never reached */
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
        case '"': buf_append(b, "\\\"", 2); continue;
        case '\\': buf_append(b, "\\\\", 2); continue;
        case '\b': buf_append(b, "\\b", 2); continue;
        case '\f': buf_append(b, "\\f", 2); continue;
        case '\n': buf_append(b, "\\n", 2); continue;
        case '\r': buf_append(b, "\\r", 2); continue;
        case '\t': buf_append(b, "\\t", 2); continue;
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

void canon_json_str(buf *b, const char *s)
{
    canon_json_strn(b, s, strlen(s));
}

static int key_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Deep enough for any document rlc writes or reads (jansson's own parser
 * stops at 2048 levels); deeper is refused, as a stack overflow would be. */
#define CANON_MAX_DEPTH 2048

static bool canon_value(buf *b, const json_t *v, int depth)
{
    if (depth > CANON_MAX_DEPTH)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char *small[16];
        const char **keys = n <= 16 ? small : xmalloc(n * sizeof *keys);
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
            keys[i++] = k;
        qsort(keys, n, sizeof *keys, key_order);
        buf_putc(b, '{');
        bool ok = true;
        for (i = 0; ok && i < n; i++) {
            if (i)
                buf_putc(b, ',');
            canon_json_str(b, keys[i]);
            buf_putc(b, ':');
            ok = canon_value(b, json_object_get(v, keys[i]), depth + 1);
        }
        buf_putc(b, '}');
        if (keys != small)
            free(keys);
        return ok;
    }
    case JSON_ARRAY: {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_putc(b, ',');
            if (!canon_value(b, json_array_get(v, i), depth + 1))
                return false;
        }
        buf_putc(b, ']');
        return true;
    }
    case JSON_STRING:
        canon_json_strn(b, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER: {
        char d[24], *p = d + sizeof d;
        json_int_t x = json_integer_value(v);
        /* Negated as unsigned: the most negative value has no positive. */
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        do
            *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (x < 0)
            *--p = '-';
        buf_append(b, p, (size_t)(d + sizeof d - p));
        return true;
    }
    case JSON_TRUE: buf_append(b, "true", 4); return true;
    case JSON_FALSE: buf_append(b, "false", 5); return true;
    case JSON_NULL: buf_append(b, "null", 4); return true;
    case JSON_REAL: {
        /* Reals are jansson's to format (rlc's documents hold none). */
        char *s = json_dumps(v, CANONICAL_FLAGS | JSON_ENCODE_ANY);
        if (!s)
            return false;
        buf_puts(b, s);
        free(s);
        return true;
    }
    }
    return false;
}

bool canon_json_write(buf *b, const json_t *v)
{
    return v && canon_value(b, v, 0);
}

char *digest_canonical_json(const json_t *v)
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    if (!canon_json_write(&b, v) || !buf_ok(&b)) {
        buf_free(&b);
        return NULL;
    }
    buf_putc(&b, '\0');
    b.len--;
    return b.data ? b.data : xstrdup("");
}

bool digest_json_hex(const json_t *v, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    bool ok = canon_json_write(&b, v) && buf_ok(&b) &&
              digest_sha256_hex(buf_str(&b), b.len, out);
    if (!ok)
        out[0] = '\0';
    buf_free(&b);
    return ok;
}

/* --- reading it back ----------------------------------------------------- */

/* The reader of canon_json_read: text [p, end), strings decoded into tmp. */
typedef struct creader {
    const char *p, *end;
    buf tmp;
} creader;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(creader *r, uint32_t *out)
{
    if (r->end - r->p < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    r->p += 4;
    *out = v;
    return true;
}

/* A string at r->p (its opening quote): its bytes in *s, *n (in the text
 * itself when it holds no escape, else in r->tmp).  False for anything the
 * writer would not have written (a raw byte outside printable ASCII, an
 * escape of NUL, an unpaired surrogate): jansson reads those, or refuses. */
static bool cstring(creader *r, const char **s, size_t *n)
{
    const char *b = ++r->p;
    while (r->p < r->end && *r->p != '"' && *r->p != '\\') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20 || c >= 0x80)
            return false;
        r->p++;
    }
    if (r->p < r->end && *r->p == '"') {
        *s = b;
        *n = (size_t)(r->p++ - b);
        return true;
    }
    r->tmp.len = 0;
    buf_append(&r->tmp, b, (size_t)(r->p - b));
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20 || c >= 0x80)
            return false;
        if (c != '\\') {
            buf_putc(&r->tmp, (char)c);
            r->p++;
            continue;
        }
        if (++r->p >= r->end)
            return false;
        char e = *r->p++;
        uint32_t cp;
        switch (e) {
        case '"': case '\\': case '/': buf_putc(&r->tmp, e); continue;
        case 'b': buf_putc(&r->tmp, '\b'); continue;
        case 'f': buf_putc(&r->tmp, '\f'); continue;
        case 'n': buf_putc(&r->tmp, '\n'); continue;
        case 'r': buf_putc(&r->tmp, '\r'); continue;
        case 't': buf_putc(&r->tmp, '\t'); continue;
        case 'u':
            if (!hex4(r, &cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                    return false;
                r->p += 2;
                if (!hex4(r, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
        default:
            return false;
        }
        char u[4];
        size_t l = utf8_put(cp, u);
        buf_append(&r->tmp, u, l);
    }
    if (r->p >= r->end || !buf_ok(&r->tmp))
        return false;
    r->p++;
    *s = r->tmp.data ? r->tmp.data : "";
    *n = r->tmp.len;
    return true;
}

static bool word(creader *r, const char *w, size_t l)
{
    if ((size_t)(r->end - r->p) < l || memcmp(r->p, w, l))
        return false;
    r->p += l;
    return true;
}

static json_t *cvalue(creader *r, int depth)
{
    if (r->p >= r->end || depth > CANON_MAX_DEPTH)
        return NULL;
    const char *s;
    size_t n;
    switch (*r->p) {
    case '"':
        return cstring(r, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    case 't':
        return word(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return word(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return word(r, "null", 4) ? json_null() : NULL;
    case '[': {
        json_t *a = json_array();
        bool ok = a != NULL;
        r->p++;
        while (ok && r->p < r->end && *r->p != ']') {
            if (json_array_size(a) && *r->p++ != ',') {
                ok = false;
                break;
            }
            json_t *v = cvalue(r, depth + 1);
            ok = v && json_array_append_new(a, v) == 0;
        }
        if (!ok || r->p >= r->end || *r->p != ']') {
            json_decref(a);
            return NULL;
        }
        r->p++;
        return a;
    }
    case '{': {
        json_t *o = json_object();
        char *prev = NULL;
        bool ok = o != NULL;
        r->p++;
        while (ok && r->p < r->end && *r->p != '}') {
            if (prev && *r->p++ != ',') {
                ok = false;
                break;
            }
            /* Keys in strictly increasing order: as the writer sorts them,
             * so no key twice (jansson refuses those, or reads them in
             * another order). */
            ok = r->p < r->end && *r->p == '"' && cstring(r, &s, &n) && !memchr(s, 0, n) &&
                 r->p < r->end && *r->p++ == ':';
            char *key = ok ? xstrndup(s, n) : NULL;
            ok = ok && (!prev || strcmp(prev, key) < 0);
            free(prev);
            prev = key;
            json_t *v = ok ? cvalue(r, depth + 1) : NULL;
            ok = v && json_object_setn_new_nocheck(o, key, n, v) == 0;
        }
        free(prev);
        if (!ok || r->p >= r->end || *r->p != '}') {
            json_decref(o);
            return NULL;
        }
        r->p++;
        return o;
    }
    default: {
        /* An integer as %lld writes one: no leading zero, no "-0", at most
         * 18 digits (anything longer is left to jansson's range check). */
        bool neg = *r->p == '-';
        if (neg)
            r->p++;
        const char *d = r->p;
        long long v = 0;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && r->p - d < 18)
            v = v * 10 + (*r->p++ - '0');
        size_t nd = (size_t)(r->p - d);
        if (!nd || (nd > 1 && *d == '0') || (neg && v == 0) ||
            (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E' ||
                               (*r->p >= '0' && *r->p <= '9'))))
            return NULL;
        return json_integer(neg ? -v : v);
    }
    }
}

json_t *canon_json_read(const char *text, size_t len)
{
    creader r = {text, text + len, {0}};
    buf_init(&r.tmp, BUF_DEFAULT_MAX);
    json_t *v = cvalue(&r, 0);
    buf_free(&r.tmp);
    /* Whitespace after the value, as jansson allows (a file's newline). */
    while (r.p < r.end && (*r.p == ' ' || *r.p == '\t' || *r.p == '\n' || *r.p == '\r'))
        r.p++;
    if (v && r.p != r.end) {
        json_decref(v);
        return NULL;
    }
    return v;
}

