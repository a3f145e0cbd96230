/* hazard_template.c - what templates leave unsaid (RLC2306, RLC2307):
 * tenants nothing limits because the policy has no `tenant *`, and listed
 * groups and keys that change nothing the template beside them gives.
 * The hazards that templates share with listed subjects (conflicts, dead
 * and looser limits, leases, ...) are the other families' business: the
 * driver walks templates like any subject. */
#include "hazard_private.h"

#include <string.h>

#include "settings.h"

static bool conc_same(const m_conc *a, const m_conc *b)
{
    if (!a || !b)
        return a == b;
    return a->max == b->max && a->lease_ms == b->lease_ms && a->shadow == b->shadow;
}

static bool limit_in(const m_limit *l, const m_limit *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hz_same_limit(l, &v[i]))
            return true;
    return false;
}

/* The same limits, in any order (a subject has at most BLOCK_MAX_LIMITS). */
static bool limits_same(const m_limit *a, size_t na, const m_limit *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!limit_in(&a[i], b, nb) || !limit_in(&b[i], a, na))
            return false;
    return true;
}

static bool routes_same(const m_route *a, size_t na, const m_route *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const m_route *o = NULL;
        for (size_t j = 0; j < nb && !o; j++)
            if (!strcmp(a[i].method, b[j].method) && !strcmp(a[i].path, b[j].path))
                o = &b[j];
        if (!o || !conc_same(a[i].conc, o->conc) ||
            !limits_same(a[i].limits, a[i].nlimits, o->limits, o->nlimits))
            return false;
    }
    return true;
}

static bool decide_alike(const m_subject *a, const m_subject *b);

/* Every child name a request may give below a, resolved in both. */
static bool children_alike(const m_subject *a, const m_subject *b)
{
    for (size_t i = 0; i < a->nchildren; i++) {
        const m_subject *c = &a->children[i];
        const m_subject *o = b ? (c->any ? subject_template(b, c->kind)
                                         : subject_resolve(b, c->kind, subject_name(c)))
                               : NULL;
        if (!decide_alike(c, o))
            return false;
    }
    return true;
}

/* Whether every request below a is decided as it is below b: the same
 * limits, routes and concurrency, and for every name a request may give
 * next, children that decide alike.  NULL is "no rules": a subject with
 * nothing in it anywhere decides like no subject at all.  Counters are not
 * compared: a listed subject and a template value each have their own. */
static bool decide_alike(const m_subject *a, const m_subject *b)
{
    if (!a && !b)
        return true;
    if (!a)
        return decide_alike(b, a);
    if (!b) {
        if (a->nlimits || a->nroutes || subject_conc(a))
            return false;
    } else if (!conc_same(subject_conc(a), subject_conc(b)) ||
               !limits_same(a->limits, a->nlimits, b->limits, b->nlimits) ||
               !routes_same(a->routes, a->nroutes, b->routes, b->nroutes)) {
        return false;
    }
    return children_alike(a, b) && (!b || children_alike(b, a));
}

void hz_template_redundant(hz *h, const m_subject *s)
{
    if (s->any || !subject_tmpl(s) || !decide_alike(s, subject_tmpl(s)))
        return;
    const char *who = hz_subject_desc(h, s), *tmpl = hz_subject_desc(h, subject_tmpl(s));
    diag *d = diag_add(h->d, DIAG_LISTED_REDUNDANT, s->src->name.sp,
                       "%s changes nothing that %s gives it: its limits, routes, concurrency "
                       "and the subjects below it decide every request as the template's do, "
                       "so listing it has no effect on decisions",
                       who, tmpl);
    diag_note_add(h->d, d, subject_tmpl(s)->src->name.sp, "the template %s is here", tmpl);
}

/* The target a request for an unlisted tenant meets first: a gateway
 * (nginx) when there is one, else a redis target. */
static const m_target *enforcing_target(const m_policy *m)
{
    const m_target *redis = NULL;
    for (size_t i = 0; i < m->ntargets; i++) {
        if (m->targets[i].kind == TARGET_NGINX)
            return &m->targets[i];
        if (m->targets[i].kind == TARGET_REDIS && !redis)
            redis = &m->targets[i];
    }
    return redis;
}

static const ast_node *policy_setting(const m_policy *m, const char *name)
{
    if (!m->src)
        return NULL;
    for (const ast_node *c = m->src->children; c; c = c->next)
        if (c->kind == AST_SETTING && !strcmp(c->name.s, name))
            return c;
    return NULL;
}

void hz_template_unlisted(hz *h)
{
    const m_policy *m = h->m;
    const m_target *t = enforcing_target(m);
    /* With no tenant listed either, RLC2302 already says nothing is
     * deployed. */
    if (m->any_tenant || !t || !m->ntenants)
        return;
    const ast_node *ose = policy_setting(m, "on_store_error");
    const char *what = m->fail_closed
        ? "on_store_error = fail_closed answers 503 to every one of their requests"
        : ose ? "on_store_error = fail_open lets every one of their requests through"
              : "on_store_error = fail_open (the default) lets every one of their requests "
                "through";
    diag *d = diag_add(h->d, DIAG_UNLISTED_TENANTS, t->src->name.sp,
                       "unlisted tenants are not limited: the policy has no tenant *, so for a "
                       "tenant it does not list target %s \"%s\" gets RLC_NOCONFIG, and %s; "
                       "add tenant * to limit them",
                       target_kind_names[t->kind], t->name, what);
    if (ose)
        diag_note_add(h->d, d, ose->sp, "on_store_error is set here");
}
