/* hazard.c - the hazard driver: walks every tier once and every subject
 * once, handing each level to the families.  See hazard.h. */
#include "hazard_private.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

static bool span_within(span inner, span outer)
{
    return inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end;
}

/* A listed group or key's copies of its template's limits are analysed
 * once, at the template, like a tenant's tier limits at the tier.  A tier's
 * own limits are those written in its block (tiers are not nested: its
 * parents' are written elsewhere). */
bool hz_limit_own(const hz_level *lv, const m_limit *l)
{
    if (lv->tier)
        return span_within(l->src->sp, lv->tier->src->sp);
    return !l->from_tier && !l->from_template;
}

bool hz_route_own(const hz_level *lv, const m_route *r)
{
    return r->owner == (lv->tier ? lv->tier->no : ROUTE_OWN);
}

static bool hz_conc_own(const hz_level *lv, const m_conc *c)
{
    const ast_node *at = lv->tier ? lv->tier->src : lv->subject->src;
    return span_within(c->src->sp, at->sp);
}

const char *hz_dur(hz *h, int64_t ms)
{
    char b[48];
    dur_format(ms, b, sizeof b);
    return arena_strdup(h->a, b);
}

const char *hz_limit_text(hz *h, const m_limit *l)
{
    char w[48];
    dur_format(l->window_ms, w, sizeof w);
    return arena_printf(h->a, "%lld/%s", (long long)l->count, w);
}

const char *hz_subject_desc(hz *h, const m_subject *s)
{
    buf b;
    buf_init(&b, 0);
    subject_label(s, &b);
    const char *d = arena_strdup(h->a, buf_str(&b));
    buf_free(&b);
    return d;
}

const char *hz_level_desc(hz *h, const hz_level *lv)
{
    hz_level *w = (hz_level *)lv; /* the cache is not part of the level's value */
    if (!w->desc)
        w->desc = lv->tier ? arena_printf(h->a, "tier %s", lv->tier->name)
                           : hz_subject_desc(h, lv->subject);
    return w->desc;
}

static void level_checks(hz *h, const hz_level *lv, const m_limit *lim, size_t nlim,
                         const m_route *routes, size_t nroutes, const m_conc *conc)
{
    hz_window_level(h, lv, lim, nlim, routes, nroutes);
    for (size_t i = 0; i < nlim; i++)
        if (hz_limit_own(lv, &lim[i])) {
            hz_limit_checks(h, &lim[i]);
            hz_skew_limit(h, &lim[i]);
        }
    for (size_t r = 0; r < nroutes; r++) {
        const m_route *rt = &routes[r];
        if (!hz_route_own(lv, rt))
            continue;
        for (size_t i = 0; i < rt->nlimits; i++) {
            hz_limit_checks(h, &rt->limits[i]);
            hz_skew_limit(h, &rt->limits[i]);
        }
        if (rt->conc)
            hz_deadlock_conc(h, lv, rt->conc);
    }
    if (conc && hz_conc_own(lv, conc))
        hz_deadlock_conc(h, lv, conc);
}

static void walk(hz *h, const m_subject *s)
{
    hz_level lv = {NULL, s, NULL};
    level_checks(h, &lv, s->limits, s->nlimits, s->routes, s->nroutes, subject_conc(s));
    hz_window_chain(h, s);
    hz_template_redundant(h, s);
    for (size_t i = 0; i < s->nchildren; i++)
        walk(h, &s->children[i]);
}

void hazard_run(program *p, const m_policy *m)
{
    hz h = {p, m, &p->diags, p->a, m->max_clock_skew_ms, policy_decision_skew(m)};
    for (size_t i = 0; i < m->ntiers; i++) {
        const m_tier *t = m->tiers[i];
        hz_level lv = {t, NULL, NULL};
        level_checks(&h, &lv, t->limits, t->nlimits, t->routes, t->nroutes, t->conc);
    }
    /* `tenant *` is one more tenant to the analysis: its limits, its
     * templates and listed subjects, for every tenant the policy does not
     * list. */
    for (size_t i = 0; i <= m->ntenants; i++) {
        const m_subject *t = i < m->ntenants ? m->tenants[i] : m->any_tenant;
        if (!t)
            continue;
        walk(&h, t);
        hz_deadlock_tenant(&h, t);
        hz_gaps_tenant(&h, t);
    }
    hz_gaps_targets(&h);
    hz_gateway_sources(&h);
    hz_template_unlisted(&h);
}
