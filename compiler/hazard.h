/* hazard.h - hazard analysis over a checked model: window conflicts
 * (hazard_window.c), clock skew (hazard_skew.c), deadlocks
 * (hazard_deadlock.c) and enforcement gaps (hazard_gaps.c).  Each family
 * appends located RLC2xxx diagnostics to the program's list; none prints.
 * Every pass is linear in the size of the model: limits are only ever
 * compared with limits of the same subject or of its ancestors (a chain of
 * at most HIERARCHY_MAX_DEPTH), and what tenants inherit from a tier is
 * analysed once, at the tier, not once per tenant. */
#ifndef RLC_HAZARD_H
#define RLC_HAZARD_H

#include "model.h"
#include "program.h"

/* Runs every hazard family over m; diagnostics go to p->diags.  m must come
 * from model_build on p without errors. */
void hazard_run(program *p, const m_policy *m);

/* Redis Cluster slot of a key: CRC16/XMODEM mod 16384 of its hash tag (the
 * text between the first '{' and the next '}', when not empty) or of the
 * whole key.  Exposed for the plan and the tests. */
unsigned redis_key_slot(const char *key, size_t len);
/* The hash tag every key of a tenant starts with: "{NS:TENANT}", the tenant
 * percent-encoded as SPEC.md 6.1 says, in arena a; see RLC2202. */
const char *tenant_key_prefix(arena *a, const char *ns, const char *tenant);
/* True when every key that starts with prefix hashes to the prefix's slot:
 * the prefix holds a whole, non-empty hash tag (the RLC2202 proof). */
bool key_prefix_fixes_slot(const char *prefix);

#endif
