/* check.c - the check pipeline.  See check.h. */
#include "check.h"

#include "hazard.h"

m_policy *check_program(program *p, const check_opts *o)
{
    static const check_opts none;
    if (!o)
        o = &none;
    if (p->diags.nerrors)
        return NULL;
    m_policy *m = model_build(p);
    if (p->diags.nerrors || o->no_hazards)
        return m;
    hazard_run(p, m);
    suppressed_list local = {0};
    suppress_apply(p, m, o->allow, o->nallow, o->suppressed ? o->suppressed : &local);
    deny_apply(&p->diags, o->deny, o->ndeny);
    return m;
}
