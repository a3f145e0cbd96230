/* buf.c - growable byte buffer with a cap.  See buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xalloc.h"

void buf_init(buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max ? max : BUF_DEFAULT_MAX;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

#define BUF_HUGE_MIN ((size_t)4 << 20)

static bool buf_reserve(buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (!b->max)
        b->max = BUF_DEFAULT_MAX;
    if (n > b->max - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    /* Large buffers are mmap'd by malloc: backed by huge pages, filling
     * hundreds of MB takes a fault per 2 MB instead of per 4 KB.  The
     * advice goes before the bytes are copied in (a realloc from the heap
     * would copy first), and holds when malloc later moves the mapping. */
    if (cap >= BUF_HUGE_MIN && b->cap < BUF_HUGE_MIN) {
        char *d = xmalloc(cap);
        xalloc_huge(d, cap);
        if (b->data)
            memcpy(d, b->data, b->len + 1);
        free(b->data);
        b->data = d;
        b->cap = cap;
        return true;
    }
    b->data = xrealloc(b->data, cap);
    if (cap >= BUF_HUGE_MIN)
        xalloc_huge(b->data, cap);
    b->cap = cap;
    return true;
}

bool buf_expect(buf *b, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    /* What is expected is about to be written: its pages at once (those
     * n bytes only: the capacity may be twice that). */
    xalloc_ready(b->data + b->len, n);
    return true;
}

void buf_append(buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_put_int(buf *b, long long v)
{
    char t[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        t[sizeof t - 1 - n++] = (char)('0' + u % 10);
    while ((u /= 10) && n < 21);
    if (v < 0)
        t[sizeof t - 1 - n++] = '-';
    buf_append(b, t + sizeof t - n, (size_t)n);
}

void buf_printf(buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_json_strn(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* JSON text is UTF-8: an invalid byte (a file name from the
             * command line, say) becomes U+FFFD rather than bad JSON. */
            size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
            if (l) {
                i += l - 1;
                continue;
            }
            buf_append(b, s + run, i - run);
            run = i + 1;
            buf_puts(b, "\\ufffd");
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\r': buf_puts(b, "\\r"); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 6);
        }
        }
    }
    buf_append(b, s + run, n - run);
    buf_putc(b, '"');
}

void buf_json_str(buf *b, const char *s)
{
    buf_json_strn(b, s, strlen(s));
}

char *str_vprintf(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        xalloc_oom(0);  /* vsnprintf fails only on a size overflow (EOVERFLOW) */
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *str_mark_cut(char *s, size_t cap, int n)
{
    if (n < 0 || (size_t)n < cap || cap < 4)
        return s;
    /* Back up to the start of a character, leaving room for "...". */
    size_t end = cap - 4;
    while (end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80)
        end--;
    memcpy(s + end, "...", 4);
    return s;
}
