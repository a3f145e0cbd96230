/* check.h - the `rlc check` pipeline over a loaded program: name and value
 * checks (model.c), then hazard analysis.  Each stage runs only when the
 * stages before it left no errors, so a user sees root causes first. */
#ifndef RLC_CHECK_H
#define RLC_CHECK_H

#include "model.h"
#include "program.h"

typedef struct check_opts {
    int unused;
} check_opts;

/* Runs the checks; diagnostics go to p->diags.  Returns the model when the
 * parse succeeded (even if checks found errors), else NULL.  The model lives
 * in p's arena; release it with model_free before program_free. */
m_policy *check_program(program *p, const check_opts *o);

#endif
