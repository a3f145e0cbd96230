/* hazard.h - hazard analysis over a checked model: window conflicts
 * (hazard_window.c), clock skew (hazard_skew.c), deadlocks
 * (hazard_deadlock.c), enforcement gaps (hazard_gaps.c) and what templates
 * leave unsaid (hazard_template.c).  Each family
 * appends located RLC2xxx diagnostics to the program's list; none prints.
 * Every pass is linear in the size of the model: limits are only ever
 * compared with limits of the same subject or of its ancestors (a chain of
 * at most PLAN_DEPTH_MAX), and what tenants inherit from a tier is
 * analysed once, at the tier, not once per tenant. */
#ifndef RLC_HAZARD_H
#define RLC_HAZARD_H

#include "model.h"
#include "program.h"

/* Runs every hazard family over m; diagnostics go to p->diags.  m must come
 * from model_build on p without errors. */
void hazard_run(program *p, const m_policy *m);

#endif
