/* check.h - the `rlc check` pipeline over a loaded program: name and value
 * checks (model.c), then hazard analysis (hazard.h), then suppression
 * (suppress.h).  Each stage runs only when the stages before it left no
 * errors, so a user sees root causes first. */
#ifndef RLC_CHECK_H
#define RLC_CHECK_H

#include "model.h"
#include "program.h"
#include "suppress.h"

typedef struct check_opts {
    const int *allow;             /* codes suppressed everywhere (--allow) */
    size_t nallow;
    const int *deny;              /* codes raised to errors (--deny) */
    size_t ndeny;
    bool no_hazards;              /* stop after the model (names and values) */
    suppressed_list *suppressed;  /* out, may be NULL: what allows removed */
} check_opts;

/* Runs the checks; diagnostics go to p->diags.  Returns the model when the
 * parse succeeded (even if checks found errors), else NULL.  The model lives
 * in p's arena; release it with model_free before program_free.  o may be
 * NULL (every hazard pass, no suppression from the command line). */
m_policy *check_program(program *p, const check_opts *o);

#endif
