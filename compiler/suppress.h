/* suppress.h - suppressing hazards: `allow CODE "reason"` in a policy and
 * --allow=CODE on the command line take matching RLC2xxx diagnostics out of
 * the list (they are kept, with their reason, for `rlc check --report`);
 * --deny=CODE raises a code to an error.  Scope of an inline allow: the
 * block it is written in and everything nested in it; at top level, every
 * file of the compilation.  A diagnostic is in scope when any location it
 * points at (its own or a note's) lies inside the block. */
#ifndef RLC_SUPPRESS_H
#define RLC_SUPPRESS_H

#include "diag.h"
#include "model.h"
#include "program.h"

typedef struct suppressed {
    const diag *d;
    const char *reason;
    span where;               /* the allow statement, or span_none for --allow */
    struct suppressed *next;
} suppressed;

typedef struct suppressed_list {
    suppressed *head, *tail;
    size_t n;
} suppressed_list;

/* Whether a code can be allowed: only hazards (RLC2xxx) can. */
bool code_suppressible(int code);

/* Checks the allows of m (RLC2304), removes every diagnostic they or the
 * command-line codes cover from p->diags into out (arena), then warns about
 * inline allows that covered nothing (RLC2305). */
void suppress_apply(program *p, const m_policy *m, const int *cli_allow, size_t ncli,
                    suppressed_list *out);
/* Raises every diagnostic whose code is in codes to an error. */
void deny_apply(diag_list *l, const int *codes, size_t n);

#endif
