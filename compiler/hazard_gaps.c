/* hazard_gaps.c - enforcement gaps (RLC2301-RLC2303): tenants nothing
 * limits, targets nothing reaches, and secrets written into the policy.
 * What "reaches" means is defined in SPEC.md section 4 (RLC2302). */
#include "hazard_private.h"

#include <string.h>

#include "settings.h"

static bool limits_enforce(const m_limit *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i].shadow)
            return true;
    return false;
}

static bool conc_enforces(const m_conc *c)
{
    return c && !c->shadow;
}

/* Whether anything on s or below it can reject a request; *shadow_only
 * is set when only shadow limits were found. */
static bool subtree_enforces(const m_subject *s, bool *any)
{
    if (s->nlimits || subject_conc(s))
        *any = true;
    if (limits_enforce(s->limits, s->nlimits) || conc_enforces(subject_conc(s)))
        return true;
    for (size_t r = 0; r < s->nroutes; r++) {
        if (s->routes[r].nlimits || s->routes[r].conc)
            *any = true;
        if (limits_enforce(s->routes[r].limits, s->routes[r].nlimits) ||
            conc_enforces(s->routes[r].conc))
            return true;
    }
    for (size_t i = 0; i < s->nchildren; i++)
        if (subtree_enforces(&s->children[i], any))
            return true;
    return false;
}

void hz_gaps_tenant(hz *h, const m_subject *t)
{
    bool any = false;
    if (subtree_enforces(t, &any))
        return;
    /* `tenant *` stands for every tenant the policy does not list. */
    const char *who = hz_subject_desc(h, t);
    const char *whose = t->any ? "the requests of every tenant the policy does not list are"
                               : "its requests are";
    if (any)
        diag_add(h->d, DIAG_NO_LIMIT, t->src->name.sp,
                 "%s has only shadow limits, which count but never reject: nothing limits "
                 "its requests",
                 who);
    else
        diag_add(h->d, DIAG_NO_LIMIT, t->src->name.sp,
                 "%s has no limit: no limit or concurrency applies to it, its tier, its "
                 "routes, groups or keys, so %s never rejected",
                 who, whose);
}

static const char *target_kind_word(target_kind k)
{
    return target_kind_names[k];
}

void hz_gaps_targets(hz *h)
{
    const m_policy *m = h->m;
    bool have_nginx = false;
    for (size_t i = 0; i < m->ntargets; i++)
        if (m->targets[i].kind == TARGET_NGINX)
            have_nginx = true;
    for (size_t i = 0; i < m->ntargets; i++) {
        const m_target *t = &m->targets[i];
        if (m->ntenants == 0 && !m->any_tenant) {
            diag_add(h->d, DIAG_UNREACHED_TARGET, t->src->name.sp,
                     "target %s \"%s\" is never reached: the policy has no tenants, so "
                     "nothing is deployed to it or enforced through it",
                     target_kind_word(t->kind), t->name);
            continue;
        }
        if (t->kind != TARGET_REDIS || !have_nginx)
            continue;
        bool named = false;
        for (size_t j = 0; j < m->ntargets && !named; j++) {
            const m_target *g = &m->targets[j];
            if (g->kind != TARGET_NGINX)
                continue;
            const m_setting *r = setting_find(g->settings, g->nsettings, "redis");
            named = r && !strcmp(r->v.s, t->name);
        }
        if (!named)
            diag_add(h->d, DIAG_UNREACHED_TARGET, t->src->name.sp,
                     "target redis \"%s\" is never reached: the gateways of this policy "
                     "(its nginx targets) call only the redis targets they name, and none "
                     "names \"%s\"",
                     t->name, t->name);
    }
    /* Inline secrets. */
    for (size_t i = 0; i < m->ntargets; i++) {
        const m_target *t = &m->targets[i];
        for (size_t k = 0; k < t->nsettings; k++) {
            const m_setting *st = &t->settings[k];
            if (!strcmp(st->name, "password") || !strcmp(st->name, "token")) {
                if (st->v.kind == VAL_STRING && st->v.s[0])
                    diag_add(h->d, DIAG_INLINE_SECRET, st->v.src->sp,
                             "'%s' of target %s \"%s\" is written inline: everyone who "
                             "reads the policy, the plan or a CI log reads it; use "
                             "env(\"NAME\") or file(\"path\")",
                             st->name, target_kind_word(t->kind), t->name);
                continue;
            }
            const ast_value *vals = st->v.src;
            const ast_value *one = vals->kind == VAL_LIST ? vals->items : vals;
            for (const ast_value *v = one; v; v = vals->kind == VAL_LIST ? v->next : NULL) {
                if (v->kind != VAL_STRING)
                    continue;
                const char *sch = strstr(v->s, "://");
                if (!sch)
                    continue;
                const char *auth = sch + 3;
                size_t alen = strcspn(auth, "/?#");
                const char *at = memchr(auth, '@', alen);
                if (!at || !memchr(auth, ':', (size_t)(at - auth)))
                    continue;
                diag_add(h->d, DIAG_INLINE_SECRET, v->sp,
                         "'%s' of target %s \"%s\" carries a password in the URL "
                         "(user:password@host): everyone who reads the policy, the plan or a "
                         "CI log reads it; use env(\"NAME\") or file(\"path\") for the whole "
                         "URL, or a separate password = env(\"NAME\")",
                         st->name, target_kind_word(t->kind), t->name);
            }
        }
    }
}
