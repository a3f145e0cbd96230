/* rerr.h - runtime errors as values: a diagnostic code from the 31xx block of
 * lang/diag_codes.def and a message.  Runtime code never prints; it fills an
 * rerr and returns failure, and cli/ renders it. */
#ifndef RLC_RERR_H
#define RLC_RERR_H

#include <stdbool.h>

#include "diag.h"

typedef struct rerr {
    int code;          /* DIAG_* number; 0 = no error */
    char msg[1024];
} rerr;

/* Sets the error (printf-style).  e may be NULL.  A message longer than
 * msg ends in "..." (it says it was cut).  Returns false so callers
 * can write `return rerr_set(e, ...)`. */
bool rerr_set(rerr *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with context ("node 127.0.0.1:7000: ..."). */
void rerr_prefix(rerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void rerr_clear(rerr *e) { if (e) { e->code = 0; e->msg[0] = '\0'; } }

#endif
