/* hazard_private.h - what the hazard families share: the pass context, the
 * walk's view of one subject, and message helpers.  Not for use outside
 * compiler/hazard*.c. */
#ifndef RLC_HAZARD_PRIVATE_H
#define RLC_HAZARD_PRIVATE_H

#include "bound.h"
#include "diag.h"
#include "hazard.h"
#include "model.h"

typedef struct hz {
    program *p;
    const m_policy *m;
    diag_list *d;
    arena *a;
    int64_t skew;           /* max_clock_skew */
    int64_t decision_skew;  /* skew that moves decisions (client time only) */
} hz;

/* Where a set of limits is written: a tier (template) or a subject.  Own
 * limits are those written at this level; pairs of inherited limits were
 * already analysed at the tier that wrote them. */
typedef struct hz_level {
    const m_tier *tier;        /* set for a tier */
    const m_subject *subject;  /* set for a tenant, group or key */
    const char *desc;          /* cache of hz_level_desc, NULL until needed */
} hz_level;

/* "tier pro", 'tenant "acme"', ...: built only when a diagnostic needs it
 * (most levels never do, and a million tenants' names add up). */
const char *hz_level_desc(hz *h, const hz_level *lv);

bool hz_limit_own(const hz_level *lv, const m_limit *l);
bool hz_route_own(const hz_level *lv, const m_route *r);

/* "100/1m" (with " burst B" / " cost C" / algorithm when not default-ish). */
const char *hz_limit_text(hz *h, const m_limit *l);
/* Arena copy of a formatted duration. */
const char *hz_dur(hz *h, int64_t ms);
/* 'tenant "acme"', 'key "acme/team-a/k1"'. */
const char *hz_subject_desc(hz *h, const m_subject *s);

/* Whether two limits are the same limit: count, window, burst, cost,
 * algorithm and shadow. */
bool hz_same_limit(const m_limit *a, const m_limit *b);

/* Families.  *_level: checks of the limits, routes and pools written at one
 * level (tier or subject); *_chain: checks of a subject's limits against its
 * ancestors'. */
void hz_window_level(hz *h, const hz_level *lv, const m_limit *lim, size_t nlim,
                     const m_route *routes, size_t nroutes);
void hz_window_chain(hz *h, const m_subject *s);
void hz_limit_checks(hz *h, const m_limit *l);      /* burst (window family) */
void hz_skew_limit(hz *h, const m_limit *l);
void hz_deadlock_conc(hz *h, const hz_level *lv, const m_conc *c);
void hz_deadlock_tenant(hz *h, const m_subject *t);
void hz_gaps_tenant(hz *h, const m_subject *t);
void hz_gaps_targets(hz *h);
void hz_gateway_sources(hz *h);   /* RLC2310 */
void hz_template_redundant(hz *h, const m_subject *s);
void hz_template_unlisted(hz *h);

#endif
