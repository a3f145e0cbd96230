/* emit.c - checks and writes the files of the emit targets.  See emit.h
 * and SPEC.md 9.1 for the mapping, which is the exact inverse of `rlc
 * import` (import_envoy.c, import_limitador.c), so that a policy imported
 * from a file is written back as that file says it:
 *
 *   rlc                 Envoy ratelimit             Limitador
 *   tenant "T"          domain: T (one per file)    namespace: T
 *   group "K" key "V"   descriptor key: K value: V  condition K == 'V'
 *   group "K" key *     descriptor key: K           variable K
 *
 * A subject that is not that shape (a key directly under a tenant, a group
 * under a group, a limit on a group) has no counterpart and is refused.
 * Import writes two things that are not limits of their own, and this file
 * takes them back out: Envoy's value entry replaces the key's default
 * whole, which import writes as a shadow limit mirroring each default
 * window the value does not set; Limitador applies a variable's limit to
 * every value, which import writes as a copy of the template's limits in
 * each listed key that has limits.  The walk is over the model, not the
 * plan's rules: keys without limits are written too, since the import
 * made them from entries that are there. */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "digest.h"
#include "settings.h"
#include "xalloc.h"

bool emit_kind(target_kind k)
{
    return k == TARGET_ENVOY || k == TARGET_LIMITADOR;
}

/* ---- the limits a key writes ---- */

/* Whether l is import's shadow copy of one of tmpl's windows: Envoy's
 * value entry does not get its key's default, which rlc can only say with
 * a limit that replaces the template's window and never rejects. */
static bool envoy_mirror(const m_limit *l, const m_subject *tmpl)
{
    if (!tmpl || l->from_template || !l->shadow || l->cost != 1)
        return false;
    for (uint32_t i = 0; i < tmpl->nlimits; i++)
        if (tmpl->limits[i].window_ms == l->window_ms && tmpl->limits[i].count == l->count)
            return true;
    return false;
}

static bool same_limit(const m_limit *a, const m_limit *b)
{
    return a->count == b->count && a->window_ms == b->window_ms && a->cost == b->cost &&
           a->shadow == b->shadow && a->algo == b->algo;
}

/* The limits written for s (its effective ones, less what the format says
 * by other means) into out (room for s->nlimits); returns how many.  For
 * Limitador, *missing is a limit of s's template that s does not carry (the
 * variable's limit would apply to s anyway), or NULL. */
static size_t written_limits(const m_subject *s, bool envoy, const m_limit **out,
                             const m_limit **missing)
{
    size_t n = 0;
    const m_subject *tmpl = s->any ? NULL : subject_tmpl(s);
    if (missing)
        *missing = NULL;
    if (envoy) {
        for (uint32_t i = 0; i < s->nlimits; i++)
            if (!envoy_mirror(&s->limits[i], tmpl))
                out[n++] = &s->limits[i];
        return n;
    }
    bool *used = xcalloc(s->nlimits + 1, sizeof *used);
    for (uint32_t t = 0; tmpl && t < tmpl->nlimits; t++) {
        uint32_t i = 0;
        while (i < s->nlimits && (used[i] || !same_limit(&s->limits[i], &tmpl->limits[t])))
            i++;
        if (i < s->nlimits)
            used[i] = true;
        else if (missing && !*missing)
            *missing = &tmpl->limits[t];
    }
    for (uint32_t i = 0; i < s->nlimits; i++)
        if (!used[i])
            out[n++] = &s->limits[i];
    free(used);
    return n;
}

/* ---- checks ---- */

typedef struct ck {
    diag_list *d;
    bool envoy;                 /* checking Envoy's format (else Limitador's) */
    /* (code, construct) pairs already reported: a tier's limit is every
     * tenant's of the tier, and is reported once.  Searched linearly: it
     * only grows by what is reported. */
    struct seen { int code; const void *what; } *seen;
    size_t nseen, capseen;
} ck;

/* Whether (code, what) is new; records it. */
static bool first_time(ck *c, int code, const void *what)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i].code == code && c->seen[i].what == what)
            return false;
    if (c->nseen == c->capseen) {
        c->capseen = c->capseen ? 2 * c->capseen : 16;
        c->seen = xreallocarray(c->seen, c->capseen, sizeof *c->seen);
    }
    c->seen[c->nseen].code = code;
    c->seen[c->nseen++].what = what;
    return true;
}

static const char *fmt_name(const ck *c)
{
    return c->envoy ? "envoy_ratelimit" : "limitador";
}

/* Envoy's unit of a window, or NULL. */
static const char *envoy_unit(int64_t ms)
{
    switch (ms) {
    case 1000: return "second";
    case 60000: return "minute";
    case 3600000: return "hour";
    case 86400000: return "day";
    /* What `rlc import` reads month and year as (SPEC 8.2): written back so,
     * with RLC4069 saying Envoy's are calendar units. */
    case 30LL * 86400000: return "month";
    case 365LL * 86400000: return "year";
    }
    return NULL;
}

/* A cost above the count admits nothing: the formats' count of 0. */
static bool admits_nothing(const m_limit *l)
{
    return l->cost > l->count;
}

static void check_limit(ck *c, const m_limit *l)
{
    span sp = l->src->sp;
    if (l->algo != PLAN_FIXED_WINDOW && first_time(c, DIAG_EMIT_ALGORITHM, l->src))
        diag_add(c->d, DIAG_EMIT_ALGORITHM, sp,
                 "this limit is %s, but %s counts fixed windows only; write `algorithm "
                 "fixed_window` (or default_algorithm = fixed_window) if that is what you "
                 "mean", plan_kind_name(l->algo), fmt_name(c));
    if (c->envoy && !envoy_unit(l->window_ms) && first_time(c, DIAG_EMIT_WINDOW, l->src))
        diag_add(c->d, DIAG_EMIT_WINDOW, sp,
                 "envoy_ratelimit windows are a unit: exactly 1s, 1m, 1h, 1d, 30d (month) or "
                 "365d (year), not %lld ms", (long long)l->window_ms);
    if (c->envoy && l->window_ms >= 30LL * 86400000 && envoy_unit(l->window_ms) &&
        first_time(c, DIAG_EMIT_CALENDAR, l->src))
        diag_add(c->d, DIAG_EMIT_CALENDAR, sp,
                 "written as unit %s: Envoy's %s is a calendar %s, not %lld days, so its "
                 "window starts and ends at other times than rlc's",
                 envoy_unit(l->window_ms), envoy_unit(l->window_ms), envoy_unit(l->window_ms),
                 (long long)(l->window_ms / 86400000));
    if (!c->envoy && l->window_ms % 1000 && first_time(c, DIAG_EMIT_WINDOW, l->src))
        diag_add(c->d, DIAG_EMIT_WINDOW, sp,
                 "limitador windows are whole seconds, not %lld ms", (long long)l->window_ms);
    if (l->cost != 1 && !admits_nothing(l) && first_time(c, DIAG_EMIT_COST, l->src))
        diag_add(c->d, DIAG_EMIT_COST, sp,
                 "this limit charges %lld per request; %s charges every request 1 (only a "
                 "cost above the count, which admits nothing, is written: as a count of 0)",
                 (long long)l->cost, fmt_name(c));
    if (c->envoy && l->count > UINT32_MAX && first_time(c, DIAG_EMIT_COUNT, l->src))
        diag_add(c->d, DIAG_EMIT_COUNT, sp,
                 "count %lld is more than envoy_ratelimit's requests_per_unit holds (32 bits)",
                 (long long)l->count);
    if (l->algo == PLAN_FIXED_WINDOW && l->burst_set && l->burst != l->count &&
        first_time(c, DIAG_EMIT_BURST, l->src))
        diag_add(c->d, DIAG_EMIT_BURST, sp,
                 "burst %lld differs from the count %lld; %s has no burst", (long long)l->burst,
                 (long long)l->count, fmt_name(c));
    if (!c->envoy && l->shadow && first_time(c, DIAG_EMIT_SHADOW, l->src))
        diag_add(c->d, DIAG_EMIT_SHADOW, sp,
                 "limitador has no shadow mode: it would reject what this limit only counts");
}

/* What every subject is checked for, whatever its level. */
static void check_common(ck *c, const m_subject *s)
{
    if (subject_conc(s) && first_time(c, DIAG_EMIT_CONCURRENCY, subject_conc(s)->src))
        diag_add(c->d, DIAG_EMIT_CONCURRENCY, subject_conc(s)->src->sp,
                 "%s limits request rates only: it has no concurrency", fmt_name(c));
    for (uint32_t i = 0; i < s->nroutes; i++)
        if (first_time(c, DIAG_EMIT_ROUTE, s->routes[i].src))
            diag_add(c->d, DIAG_EMIT_ROUTE, s->routes[i].src->sp,
                     "%s has no routes: the file's limits apply to every request of the "
                     "subject", fmt_name(c));
}

/* The limits of one subject as written, and what a request meets with
 * them: two on one Envoy entry cannot be written (one rate_limit each);
 * any other pair is counted by the service each on its own. */
static void check_written(ck *c, const m_subject *s, const m_limit **before)
{
    const m_limit **w = xcalloc(s->nlimits + 1, sizeof *w);
    const m_limit *missing;
    size_t n = written_limits(s, c->envoy, w, &missing);
    if (missing && first_time(c, DIAG_EMIT_TEMPLATE_ESCAPE, s)) {
        buf lb;
        buf_init(&lb, 0);
        subject_label(s, &lb);
        diag *dd = diag_add(c->d, DIAG_EMIT_TEMPLATE_ESCAPE, s->src->name.sp,
                            "limitador applies the variable's limit to every value, but %s "
                            "does not carry this limit of its template (give it the same "
                            "limit, or drop it from the template)", buf_str(&lb));
        diag_note_add(c->d, dd, missing->src->sp, "the template's limit");
        buf_free(&lb);
    }
    for (size_t i = 0; i < n; i++) {
        check_limit(c, w[i]);
        if (c->envoy && i > 0 && first_time(c, DIAG_EMIT_ALL_OR_NOTHING, w[i]->src)) {
            diag *dd = diag_add(c->d, DIAG_EMIT_ALL_OR_NOTHING, w[i]->src->sp,
                                "an envoy_ratelimit descriptor entry has one rate_limit, "
                                "and this subject would need two");
            diag_note_add(c->d, dd, w[0]->src->sp, "the other limit");
        }
        const m_limit *other = *before ? *before : i > 0 ? w[0] : NULL;
        if (other && !(c->envoy && i > 0) &&
            first_time(c, DIAG_EMIT_INDEPENDENT, w[i]->src)) {
            diag *dd = diag_add(c->d, DIAG_EMIT_INDEPENDENT, w[i]->src->sp,
                                "a request that meets this limit also meets another one; %s "
                                "counts each on its own (a request one of them rejects is "
                                "still counted by the other), rlc charges all or nothing",
                                fmt_name(c));
            diag_note_add(c->d, dd, other->src->sp, "the other limit");
        }
        if (!*before)
            *before = w[i];
    }
    free(w);
}

/* Whether a name can go back through import's `NAME == 'V'`: a quote
 * character it does not hold, no backslash, and none of the operators
 * import looks for. */
static const char *cel_problem(const char *s, bool value)
{
    if (strchr(s, '\'') && strchr(s, '"'))
        return "holds both quote characters";
    if (value && strchr(s, '\\'))
        return "holds a backslash";
    if (strstr(s, "==") || strstr(s, "&&") || strstr(s, "||"))
        return "holds ==, && or ||";
    return NULL;
}

static void check_name(ck *c, const m_subject *s, bool value)
{
    if (value && !*subject_name(s)) {
        if (first_time(c, DIAG_EMIT_NAME, s))
            diag_add(c->d, DIAG_EMIT_NAME, s->src->name.sp,
                     "an empty name: %s", c->envoy ? "an entry with an empty value is every "
                     "value (key *) as rlc import reads it back" : "a limitador condition "
                     "== '' is not read back by rlc import");
        return;
    }
    const char *why = c->envoy ? NULL : cel_problem(subject_name(s), value);
    if (why && first_time(c, DIAG_EMIT_NAME, s))
        diag_add(c->d, DIAG_EMIT_NAME, s->src->name.sp,
                 "\"%s\" %s: a limitador condition cannot carry it as rlc import reads "
                 "conditions back", subject_name(s), why);
}

static void check_group(ck *c, const m_subject *g, const m_limit *before);

static void check_key(ck *c, const m_subject *k, const m_limit *before)
{
    check_common(c, k);
    if (c->envoy && !k->any) {
        size_t n = strlen(subject_name(k));
        if (n && subject_name(k)[n - 1] == '*' && first_time(c, DIAG_EMIT_WILDCARD_NAME, k))
            diag_add(c->d, DIAG_EMIT_WILDCARD_NAME, k->src->name.sp,
                     "\"%s\" would be a wildcard value in envoy_ratelimit's file (a prefix "
                     "match), not this one name", subject_name(k));
    }
    if (!k->any)
        check_name(c, k, true);
    check_written(c, k, &before);
    for (uint32_t i = 0; i < k->nchildren; i++) {
        const m_subject *s = &k->children[i];
        if (s->kind == AST_GROUP)
            check_group(c, s, before);
        else if (first_time(c, DIAG_EMIT_SHAPE, s))
            diag_add(c->d, DIAG_EMIT_SHAPE, s->src->name.sp,
                     "a key directly under a key: %s's entries are a group (the descriptor "
                     "key) holding keys (its values)", fmt_name(c));
    }
}

static void check_group(ck *c, const m_subject *g, const m_limit *before)
{
    check_common(c, g);
    if (g->any && first_time(c, DIAG_EMIT_SHAPE, g)) {
        diag_add(c->d, DIAG_EMIT_SHAPE, g->src->name.sp,
                 "`group *`: in %s a group is a descriptor key, which is a name", fmt_name(c));
        return;
    }
    check_name(c, g, false);
    for (uint32_t i = 0; i < g->nlimits; i++)
        if (first_time(c, DIAG_EMIT_GROUP_LIMIT, g->limits[i].src))
            diag_add(c->d, DIAG_EMIT_GROUP_LIMIT, g->limits[i].src->sp,
                     "a limit on a group: in %s a group is a descriptor key, and limits are "
                     "on its values (put it in `key *` for one counter per value)",
                     fmt_name(c));
    for (uint32_t i = 0; i < g->nchildren; i++) {
        const m_subject *s = &g->children[i];
        if (s->kind == AST_KEY)
            check_key(c, s, before);
        else if (first_time(c, DIAG_EMIT_SHAPE, s))
            diag_add(c->d, DIAG_EMIT_SHAPE, s->src->name.sp,
                     "a group directly under a group: %s's entries are a group (the "
                     "descriptor key) holding keys (its values)", fmt_name(c));
    }
}

static void check_tenant(ck *c, const m_subject *t)
{
    check_common(c, t);
    const m_limit *before = NULL;
    if (c->envoy) {
        for (uint32_t i = 0; i < t->nlimits; i++)
            if (first_time(c, DIAG_EMIT_TENANT_LIMIT, t->limits[i].src))
                diag_add(c->d, DIAG_EMIT_TENANT_LIMIT, t->limits[i].src->sp,
                         "a limit on the tenant itself: an envoy_ratelimit domain has no "
                         "rate_limit of its own (put it in a group's `key *`)");
    } else {
        check_written(c, t, &before);
    }
    for (uint32_t i = 0; i < t->nchildren; i++) {
        const m_subject *s = &t->children[i];
        if (s->kind == AST_GROUP)
            check_group(c, s, before);
        else if (first_time(c, DIAG_EMIT_SHAPE, s))
            diag_add(c->d, DIAG_EMIT_SHAPE, s->src->name.sp,
                     "a key directly under a tenant: %s's entries are a group (the "
                     "descriptor key) holding keys (its values)", fmt_name(c));
    }
}

static const m_subject *find_tenant(const m_policy *m, const char *name)
{
    for (size_t i = 0; i < m->ntenants; i++)
        if (!m->tenants[i]->any && !strcmp(subject_name(m->tenants[i]), name))
            return m->tenants[i];
    return NULL;
}

/* The setting that picks the file's tenant, or NULL. */
static const m_setting *tenant_setting(const m_target *t)
{
    return setting_find(t->settings, t->nsettings,
                        t->kind == TARGET_ENVOY ? "domain" : "namespace");
}

/* Whether s's subtree holds a limit. */
static bool has_limits(const m_subject *s)
{
    if (s->nlimits)
        return true;
    for (uint32_t i = 0; i < s->nchildren; i++)
        if (has_limits(&s->children[i]))
            return true;
    return false;
}

static void check_target(ck *c, const m_policy *m, const m_target *t)
{
    const m_setting *sp = tenant_setting(t);
    if (sp) {
        const m_subject *s = find_tenant(m, sp->v.s);
        if (s)
            check_tenant(c, s);
        else if (first_time(c, DIAG_EMIT_TENANT_CHOICE, sp))
            diag_add(c->d, DIAG_EMIT_TENANT_CHOICE, sp->src->sp,
                     "%s = \"%s\" names no tenant of the policy: the file holds the limits "
                     "of the tenant of that name", c->envoy ? "domain" : "namespace", sp->v.s);
        return;
    }
    if (c->envoy) {
        if (m->ntenants == 1)
            check_tenant(c, m->tenants[0]);
        else if (first_time(c, DIAG_EMIT_TENANT_CHOICE, t))
            diag_add(c->d, DIAG_EMIT_TENANT_CHOICE, t->src->name.sp,
                     "the policy has %zu listed tenants and an envoy_ratelimit file holds one "
                     "domain: set `domain` to the tenant this file is for", m->ntenants);
        return;
    }
    for (size_t i = 0; i < m->ntenants; i++)
        check_tenant(c, m->tenants[i]);
    if (m->any_tenant && has_limits(m->any_tenant) &&
        first_time(c, DIAG_EMIT_TENANT_TEMPLATE, m->any_tenant))
        diag_add(c->d, DIAG_EMIT_TENANT_TEMPLATE, m->any_tenant->src->name.sp,
                 "`tenant *` has limits, but a limitador namespace is a name: list the "
                 "tenants (or set `namespace` to the one tenant this file is for)");
}

void emit_check(const m_policy *m, diag_list *d)
{
    ck c[2] = {{.d = d, .envoy = true}, {.d = d, .envoy = false}};
    for (size_t i = 0; i < m->ntargets; i++) {
        if (m->targets[i].kind == TARGET_ENVOY)
            check_target(&c[0], m, &m->targets[i]);
        if (m->targets[i].kind == TARGET_LIMITADOR)
            check_target(&c[1], m, &m->targets[i]);
    }
    free(c[0].seen);
    free(c[1].seen);
}

/* ---- writing ---- */

typedef struct em {
    yaml_emitter_t y;
    yaml_event_t ev;
    bool ok;
    const m_target *t;
} em;

static int write_handler(void *data, unsigned char *p, size_t n)
{
    buf_append(data, p, n);
    return 1;
}

static void put(em *e)
{
    if (e->ok && !yaml_emitter_emit(&e->y, &e->ev))
        e->ok = false;
}

/* A scalar: plain for the format's own words and numbers, double-quoted
 * for a name from the policy, so "123" or "true" stays a string. */
static void scalar(em *e, const char *s, bool quoted)
{
    if (!e->ok)
        return;
    if (!yaml_scalar_event_initialize(&e->ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1,
                                      1, quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                : YAML_PLAIN_SCALAR_STYLE)) {
        e->ok = false;
        return;
    }
    put(e);
}

static void num(em *e, int64_t v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)v);
    scalar(e, s, false);
}

static void map_start(em *e)
{
    if (e->ok && yaml_mapping_start_event_initialize(&e->ev, NULL, NULL, 1,
                                                     YAML_BLOCK_MAPPING_STYLE))
        put(e);
}

static void map_end(em *e)
{
    if (e->ok && yaml_mapping_end_event_initialize(&e->ev))
        put(e);
}

static void seq_start(em *e)
{
    if (e->ok && yaml_sequence_start_event_initialize(&e->ev, NULL, NULL, 1,
                                                      YAML_BLOCK_SEQUENCE_STYLE))
        put(e);
}

static void seq_end(em *e)
{
    if (e->ok && yaml_sequence_end_event_initialize(&e->ev))
        put(e);
}

static int64_t written_count(const m_limit *l)
{
    return admits_nothing(l) ? 0 : l->count;
}

/* Whether s has a group holding a key: a `descriptors:` list to write. */
static bool has_entries(const m_subject *s)
{
    for (uint32_t i = 0; i < s->nchildren; i++)
        if (s->children[i].nchildren)
            return true;
    return false;
}

static void envoy_entries(em *e, const m_subject *s);

/* The entry of key k in group g: key g, value k (none for `key *`). */
static void envoy_entry(em *e, const m_subject *g, const m_subject *k)
{
    map_start(e);
    scalar(e, "key", false);
    scalar(e, subject_name(g), true);
    if (!k->any) {
        scalar(e, "value", false);
        scalar(e, subject_name(k), true);
    }
    const m_limit **w = xcalloc(k->nlimits + 1, sizeof *w);
    if (written_limits(k, true, w, NULL)) {
        scalar(e, "rate_limit", false);
        map_start(e);
        scalar(e, "unit", false);
        scalar(e, envoy_unit(w[0]->window_ms), false);
        scalar(e, "requests_per_unit", false);
        num(e, written_count(w[0]));
        map_end(e);
        if (w[0]->shadow) {
            scalar(e, "shadow_mode", false);
            scalar(e, "true", false);
        }
    }
    free(w);
    if (has_entries(k))
        envoy_entries(e, k);
    map_end(e);
}

/* s's `descriptors:`: each key of each group, in the policy's order. */
static void envoy_entries(em *e, const m_subject *s)
{
    scalar(e, "descriptors", false);
    seq_start(e);
    for (uint32_t i = 0; i < s->nchildren; i++) {
        const m_subject *g = &s->children[i];
        for (uint32_t j = 0; j < g->nchildren; j++)
            envoy_entry(e, g, &g->children[j]);
    }
    seq_end(e);
}

static void envoy_body(em *e, const m_subject *t)
{
    map_start(e);
    scalar(e, "domain", false);
    scalar(e, subject_name(t), true);
    if (has_entries(t))
        envoy_entries(e, t);
    map_end(e);
}

/* A CEL string literal of s, in the quote character s does not hold
 * (cel_problem refused names holding both). */
static void cel_str(buf *b, const char *s)
{
    char q = strchr(s, '\'') ? '"' : '\'';
    buf_printf(b, "%c%s%c", q, s, q);
}

/* The conditions and variables that select the requests of s, from the
 * tenant down: each (group, listed key) a condition, each (group, key *)
 * a variable. */
static void lim_selectors(const m_subject *s, buf *conds, size_t *nconds, buf *vars,
                          size_t *nvars)
{
    if (s->kind != AST_KEY)
        return;
    const m_subject *g = s->parent;
    lim_selectors(g->parent, conds, nconds, vars, nvars);
    buf *b = s->any ? vars : conds;
    buf_puts(b, "descriptors[0][");
    cel_str(b, subject_name(g));
    buf_putc(b, ']');
    if (!s->any) {
        buf_puts(b, " == ");
        cel_str(b, subject_name(s));
    }
    buf_putc(b, '\0');
    (*(s->any ? nvars : nconds))++;
}

static void strings(em *e, const buf *b, size_t n)
{
    seq_start(e);
    const char *p = buf_str(b);
    for (size_t i = 0; i < n; i++) {
        scalar(e, p, true);
        p += strlen(p) + 1;
    }
    seq_end(e);
}

static void lim_subject(em *e, const m_subject *t, const m_subject *s)
{
    const m_limit **w = xcalloc(s->nlimits + 1, sizeof *w);
    size_t n = written_limits(s, false, w, NULL);
    for (size_t i = 0; i < n; i++) {
        const m_limit *l = w[i];
        buf conds, vars, label;
        buf_init(&conds, 0);
        buf_init(&vars, 0);
        buf_init(&label, 0);
        size_t nc = 0, nv = 0;
        lim_selectors(s, &conds, &nc, &vars, &nv);
        subject_label(s, &label);
        map_start(e);
        scalar(e, "namespace", false);
        scalar(e, subject_name(t), true);
        scalar(e, "max_value", false);
        num(e, written_count(l));
        scalar(e, "seconds", false);
        num(e, l->window_ms / 1000);
        scalar(e, "conditions", false);
        strings(e, &conds, nc);
        scalar(e, "variables", false);
        strings(e, &vars, nv);
        scalar(e, "name", false);
        scalar(e, buf_str(&label), true);
        map_end(e);
        buf_free(&conds);
        buf_free(&vars);
        buf_free(&label);
    }
    free(w);
    for (uint32_t i = 0; i < s->nchildren; i++)
        lim_subject(e, t, &s->children[i]);
}

static void lim_body(em *e, const m_policy *m, const m_subject *only)
{
    seq_start(e);
    for (size_t i = 0; i < m->ntenants; i++)
        if (!m->tenants[i]->any && (!only || only == m->tenants[i]))
            lim_subject(e, m->tenants[i], m->tenants[i]);
    seq_end(e);
}

bool emit_file(const m_policy *m, const m_target *t, buf *out, char *err, size_t errlen)
{
    em e = {.ok = true, .t = t};
    const m_setting *sp = tenant_setting(t);
    const m_subject *only = sp ? find_tenant(m, sp->v.s)
                               : t->kind == TARGET_ENVOY && m->ntenants == 1 ? m->tenants[0]
                                                                             : NULL;
    if (t->kind == TARGET_ENVOY && !only) {
        snprintf(err, errlen, "target \"%s\": no tenant to be the file's domain", t->name);
        return false;
    }
    buf body;
    buf_init(&body, 0);
    /* The second comment line is part of what the first one's digest covers. */
    char pol[200];
    snprintf(pol, sizeof pol, "%s", m->name);
    for (char *p = pol; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"')
            *p = '_';
    buf_printf(&body, "# written by rlc from policy \"%s\": change the policy, not this file\n",
               pol);
    if (!yaml_emitter_initialize(&e.y)) {
        snprintf(err, errlen, "libyaml cannot start an emitter");
        buf_free(&body);
        return false;
    }
    yaml_emitter_set_output(&e.y, write_handler, &body);
    yaml_emitter_set_unicode(&e.y, 1);
    yaml_emitter_set_width(&e.y, -1);
    if (yaml_stream_start_event_initialize(&e.ev, YAML_UTF8_ENCODING))
        put(&e);
    if (e.ok && yaml_document_start_event_initialize(&e.ev, NULL, NULL, NULL, 0))
        put(&e);
    if (t->kind == TARGET_ENVOY)
        envoy_body(&e, only);
    else
        lim_body(&e, m, only);
    if (e.ok && yaml_document_end_event_initialize(&e.ev, 1))
        put(&e);
    if (e.ok && yaml_stream_end_event_initialize(&e.ev))
        put(&e);
    bool ok = e.ok && yaml_emitter_flush(&e.y);
    if (!ok)
        snprintf(err, errlen, "libyaml refused the %s file of target \"%s\": %s",
                 target_kind_names[t->kind], t->name, e.y.problem ? e.y.problem : "?");
    yaml_emitter_delete(&e.y);
    if (ok) {
        char hex[DIGEST_HEX_LEN + 1];
        digest_sha256_hex(buf_str(&body), body.len, hex);
        buf_printf(out, "# rlc %s file, sha256 of the lines below: %s\n",
                   target_kind_names[t->kind], hex);
        buf_append(out, buf_str(&body), body.len);
    }
    buf_free(&body);
    return ok;
}
