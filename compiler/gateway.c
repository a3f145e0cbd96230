/* gateway.c - checks of an nginx target's identity sources.  See
 * gateway.h.  The settings' value kinds (string, list of strings) are
 * settings.c's; this adds what a source is. */
#include "gateway.h"

#include "plan_gateway.h"
#include "settings.h"

static void source_check(const m_target *t, const char *setting, const char *s, span sp,
                         diag_list *d)
{
    const char *why = NULL;
    if (gw_source(s, NULL, &why) == GW_BAD)
        diag_add(d, DIAG_GATEWAY_SOURCE, sp,
                 "%s of nginx target \"%s\" must be an nginx variable such as "
                 "\"$remote_addr\" or a literal name: %s",
                 setting, t->name, why);
}

void gateway_check_target(const m_target *t, diag_list *d)
{
    const m_setting *tn = setting_find(t->settings, t->nsettings, "tenant_from");
    if (tn)
        source_check(t, "tenant_from", tn->v.s, tn->v.src->sp, d);
    const m_setting *path = setting_find(t->settings, t->nsettings, "path_from");
    if (path) {
        size_t n = 0;
        for (const ast_value *it = path->v.src->items; it; it = it->next) {
            if (++n == GW_PATH_MAX_LEVELS + 1)
                diag_add(d, DIAG_GATEWAY_PATH_LEVEL, it->sp,
                         "path_from of nginx target \"%s\" has more than %d levels below "
                         "the tenant (the limit is %d)",
                         t->name, GW_PATH_MAX_LEVELS, GW_PATH_MAX_LEVELS);
            if (it->kind != VAL_STRING) {
                diag_add(d, DIAG_GATEWAY_PATH_LEVEL, it->sp,
                         "a level of path_from of nginx target \"%s\" is a string "
                         "\"group:SOURCE\" or \"key:SOURCE\", not env() or file()",
                         t->name);
                continue;
            }
            const char *kind, *src, *why;
            if (!gw_level(it->s, &kind, &src, &why)) {
                diag_add(d, DIAG_GATEWAY_PATH_LEVEL, it->sp,
                         "\"%s\" is not a level of path_from of nginx target \"%s\": %s, "
                         "e.g. \"key:$remote_addr\"",
                         it->s, t->name, why);
                continue;
            }
            source_check(t, "a level of path_from", src, it->sp, d);
        }
    }
    const m_setting *cost = setting_find(t->settings, t->nsettings, "cost_from");
    if (cost) {
        const char *why = NULL;
        gw_source_kind k = gw_source(cost->v.s, NULL, &why);
        if (k == GW_BAD)
            diag_add(d, DIAG_GATEWAY_COST_SOURCE, cost->v.src->sp,
                     "cost_from of nginx target \"%s\" must be an nginx variable such as "
                     "\"$rlc_cost\": %s",
                     t->name, why);
        else if (k == GW_LITERAL)
            diag_add(d, DIAG_GATEWAY_COST_SOURCE, cost->v.src->sp,
                     "cost_from of nginx target \"%s\" must be an nginx variable such as "
                     "\"$rlc_cost\", not a literal: a fixed cost belongs on the limits "
                     "(`cost N`), and without this setting every request costs 1",
                     t->name);
    }
}
