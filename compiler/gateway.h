/* gateway.h - checks of a gateway's identity sources: the `tenant`, `path`
 * and `cost` settings of an nginx target (SPEC.md 2.8, 7.10), whose
 * grammar is plan/plan_gateway.h.  Errors only (RLC1060-RLC1062); what a
 * client can choose is a hazard (hazard_gateway.c). */
#ifndef RLC_GATEWAY_H
#define RLC_GATEWAY_H

#include "diag.h"
#include "model.h"

/* Checks the identity settings of one nginx target (borrowed); located
 * errors go to d. */
void gateway_check_target(const m_target *t, diag_list *d);

#endif
