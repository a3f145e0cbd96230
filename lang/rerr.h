/* rerr.h - an error as a value: a code from lang/diag_codes.def and a
 * message.  The one convention for every failure that is not a diagnostic
 * located in a policy source (those go to a diag_list, diag.h): the
 * runtime's, plan signing's and any other library function's.  A function
 * that can fail takes an `rerr *e` last, fills it and returns false (or
 * NULL); callers add context with rerr_prefix.  Library code never prints;
 * cli/ renders "error[RLCnnnn]: message".  No library API takes a raw
 * `char *err, size_t errlen` buffer. */
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
