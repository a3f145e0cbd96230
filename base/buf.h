/* buf.h - growable byte buffer (xalloc-backed), used to build output text,
 * JSON and file contents.  Every buffer has a maximum size; appending past it
 * sets the overflow flag instead of growing (curl's dynbuf rule): callers
 * check buf_ok() once, at the end.  Allocation failure is xalloc's (it
 * never comes back here). */
#ifndef RLC_BUF_H
#define RLC_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data;     /* NUL-terminated when non-NULL */
    size_t len, cap, max;
    bool failed;
} buf;

#define BUF_DEFAULT_MAX ((size_t)1 << 31)

void buf_init(buf *b, size_t max);
void buf_free(buf *b);                 /* accepts a zeroed or freed buf */
void buf_reset(buf *b);
/* Makes room for n more bytes at once (a caller that knows roughly how
 * much it will write spares the copies and faults of growing). */
bool buf_expect(buf *b, size_t n);
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
/* Appends v in decimal, without printf (loops that write thousands of
 * numbers: a config per rule, an index entry per bucket). */
void buf_put_int(buf *b, long long v);
void buf_printf(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void buf_json_str(buf *b, const char *s);
static inline bool buf_ok(const buf *b) { return !b->failed; }
/* Formats into memory sized from the result (a key or path built from a
 * name of any length).  Returns malloc'd text, the caller's to free (never
 * NULL: allocation failure is xalloc_oom's). */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* For a message in a fixed buffer s of cap bytes after a vsnprintf that
 * wanted n bytes: when it did not fit, ends it with "..." on a UTF-8
 * character boundary, so a cut message says it was cut and stays valid
 * UTF-8 (JSON output refuses anything else).  Returns s. */
char *str_mark_cut(char *s, size_t cap, int n);
/* Returns the contents (never NULL), still owned by b. */
static inline const char *buf_str(const buf *b) { return b->data ? b->data : ""; }

#endif
