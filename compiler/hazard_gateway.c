/* hazard_gateway.c - gateway identity a client can choose (RLC2310): an
 * nginx target whose tenant, path level or cost is a variable the request
 * itself sets (a header, a cookie, an argument, the URI, ...).  A client
 * then picks the counters it is charged on, or what it is charged: a fresh
 * value per request is a fresh counter, and the limit never binds.  The
 * grammar of sources and the list of such variables are
 * plan/plan_gateway.c's. */
#include "hazard_private.h"

#include "plan_gateway.h"
#include <string.h>

#include "settings.h"

static void source_hazard(hz *h, const m_target *t, const char *what, const char *s, span sp)
{
    const char *var = NULL, *why = NULL;
    if (gw_source(s, &var, &why) != GW_VARIABLE)
        return;
    const char *sent = gw_client_chosen(var);
    if (!sent)
        return;
    bool is_cost = !strcmp(what, "cost_from");
    diag_add(h->d, DIAG_GATEWAY_CLIENT_IDENTITY, sp,
             "%s of nginx target \"%s\" is $%s, which the client sets (%s): a client can "
             "choose %s",
             what, t->name, var, sent,
             is_cost ? "what each request costs, within 1..2147483648"
                     : "the counters it is charged on, and a new value per request escapes "
                       "the limit");
}

void hz_gateway_sources(hz *h)
{
    const m_policy *m = h->m;
    for (size_t i = 0; i < m->ntargets; i++) {
        const m_target *t = &m->targets[i];
        if (t->kind != TARGET_NGINX)
            continue;
        const m_setting *tn = setting_find(t->settings, t->nsettings, "tenant_from");
        if (tn)
            source_hazard(h, t, "tenant_from", tn->v.s, tn->v.src->sp);
        const m_setting *path = setting_find(t->settings, t->nsettings, "path_from");
        for (const ast_value *it = path ? path->v.src->items : NULL; it; it = it->next) {
            const char *kind, *src, *why;
            if (it->kind == VAL_STRING && gw_level(it->s, &kind, &src, &why))
                source_hazard(h, t, "path_from", src, it->sp);
        }
        const m_setting *cost = setting_find(t->settings, t->nsettings, "cost_from");
        if (cost)
            source_hazard(h, t, "cost_from", cost->v.s, cost->v.src->sp);
    }
}
