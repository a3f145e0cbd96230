/* check.c - the check pipeline.  See check.h. */
#include "check.h"

m_policy *check_program(program *p, const check_opts *o)
{
    (void)o;
    if (p->diags.nerrors)
        return NULL;
    m_policy *m = model_build(p);
    return m;
}
