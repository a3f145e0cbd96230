/* emit.c - checks and writes the files of the emit targets.  See emit.h
 * and SPEC.md 9.1 for the mapping; in short:
 *
 *   subject level       Envoy descriptor key / Limitador descriptor entry
 *   tenant, group, key  "tenant", "group", "key"
 *   listed name         descriptor value / condition  == 'name'
 *   template (`key *`)  key without a value / a variable, plus != 'name'
 *                       for every listed sibling (Limitador applies every
 *                       limit whose conditions hold; Envoy prefers a value)
 *
 * Both services count each matching limit on its own, so a request may
 * meet at most one limit (RLC4056); both count fixed windows, so only
 * fixed_window limits with cost 1 and no other burst are written.  The
 * walk is over the model, not the plan's rules: a listed subject without
 * limits still hides its template sibling, and only the model knows it. */
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
    }
    return NULL;
}

static void check_limit(ck *c, const m_limit *l, const m_limit *before)
{
    span sp = l->src->sp;
    if (l->algo != PLAN_FIXED_WINDOW && first_time(c, DIAG_EMIT_ALGORITHM, l->src))
        diag_add(c->d, DIAG_EMIT_ALGORITHM, sp,
                 "this limit is %s, but %s counts fixed windows only; write `algorithm "
                 "fixed_window` (or default_algorithm = fixed_window) if that is what you "
                 "mean", plan_kind_name(l->algo), fmt_name(c));
    if (c->envoy && !envoy_unit(l->window_ms) && first_time(c, DIAG_EMIT_WINDOW, l->src))
        diag_add(c->d, DIAG_EMIT_WINDOW, sp,
                 "envoy_ratelimit windows are a unit: exactly 1s, 1m, 1h or 1d, not %lld ms",
                 (long long)l->window_ms);
    if (!c->envoy && l->window_ms % 1000 && first_time(c, DIAG_EMIT_WINDOW, l->src))
        diag_add(c->d, DIAG_EMIT_WINDOW, sp,
                 "limitador windows are whole seconds, not %lld ms", (long long)l->window_ms);
    if (l->cost != 1 && first_time(c, DIAG_EMIT_COST, l->src))
        diag_add(c->d, DIAG_EMIT_COST, sp,
                 "this limit charges %lld per request; %s charges every request 1",
                 (long long)l->cost, fmt_name(c));
    if (l->algo == PLAN_FIXED_WINDOW && l->burst_set && l->burst != l->count &&
        first_time(c, DIAG_EMIT_BURST, l->src))
        diag_add(c->d, DIAG_EMIT_BURST, sp,
                 "burst %lld differs from the count %lld; %s has no burst", (long long)l->burst,
                 (long long)l->count, fmt_name(c));
    if (!c->envoy && l->shadow && first_time(c, DIAG_EMIT_SHADOW, l->src))
        diag_add(c->d, DIAG_EMIT_SHADOW, sp,
                 "limitador has no shadow mode: it would reject what this limit only counts");
    if (before && first_time(c, DIAG_EMIT_ALL_OR_NOTHING, l->src)) {
        diag *dd = diag_add(c->d, DIAG_EMIT_ALL_OR_NOTHING, sp,
                            "a request that meets this limit also meets another one; %s "
                            "counts each on its own (a request one of them rejects is "
                            "still counted by the other), rlc charges all or nothing",
                            fmt_name(c));
        diag_note_add(c->d, dd, before->src->sp, "the other limit");
    }
}

/* before: a limit an ancestor's requests already meet, or NULL. */
static void check_subject(ck *c, const m_subject *s, const m_limit *before)
{
    if (s->conc && first_time(c, DIAG_EMIT_CONCURRENCY, s->conc->src))
        diag_add(c->d, DIAG_EMIT_CONCURRENCY, s->conc->src->sp,
                 "%s limits request rates only: it has no concurrency", fmt_name(c));
    for (uint32_t i = 0; i < s->nroutes; i++)
        if (first_time(c, DIAG_EMIT_ROUTE, s->routes[i].src))
            diag_add(c->d, DIAG_EMIT_ROUTE, s->routes[i].src->sp,
                     "%s has no routes: the file's limits apply to every request of the "
                     "subject", fmt_name(c));
    if (c->envoy && !s->any) {
        size_t n = strlen(s->name);
        if (n && s->name[n - 1] == '*' && first_time(c, DIAG_EMIT_WILDCARD_NAME, s))
            diag_add(c->d, DIAG_EMIT_WILDCARD_NAME, s->src->name.sp,
                     "\"%s\" would be a wildcard value in envoy_ratelimit's file (a prefix "
                     "match), not this one name", s->name);
    }
    if (!c->envoy && s->kind == AST_KEY && s->parent && s->parent->kind == AST_TENANT &&
        (s->nlimits || s->nchildren)) {
        for (uint32_t i = 0; i < s->parent->nchildren; i++)
            if (s->parent->children[i]->kind == AST_GROUP &&
                first_time(c, DIAG_EMIT_AMBIGUOUS_KEY, s)) {
                diag *dd = diag_add(c->d, DIAG_EMIT_AMBIGUOUS_KEY, s->src->name.sp,
                                    "limitador's conditions cannot say that a request has "
                                    "no group, so this key's limit would also apply to "
                                    "the keys of the tenant's groups");
                diag_note_add(c->d, dd, s->parent->children[i]->src->name.sp,
                              "a group of the same tenant");
                break;
            }
    }
    for (uint32_t i = 0; i < s->nlimits; i++) {
        check_limit(c, &s->limits[i], before);
        if (!before)
            before = &s->limits[i];
    }
    for (uint32_t i = 0; i < s->nchildren; i++)
        check_subject(c, s->children[i], before);
}

void emit_check(const m_policy *m, diag_list *d)
{
    bool want[2] = {false, false};
    for (size_t i = 0; i < m->ntargets; i++) {
        if (m->targets[i].kind == TARGET_ENVOY)
            want[0] = true;
        if (m->targets[i].kind == TARGET_LIMITADOR)
            want[1] = true;
    }
    for (int f = 0; f < 2; f++) {
        if (!want[f])
            continue;
        ck c = {.d = d, .envoy = f == 0};
        for (size_t i = 0; i < m->ntenants; i++)
            check_subject(&c, m->tenants[i], NULL);
        if (m->any_tenant)
            check_subject(&c, m->any_tenant, NULL);
        free(c.seen);
    }
}

/* ---- writing ---- */

typedef struct em {
    yaml_emitter_t y;
    yaml_event_t ev;
    bool ok;
    const m_target *t;
    const char *space;          /* Envoy's domain / Limitador's namespace */
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

static const char *level_word(ast_kind k)
{
    return k == AST_TENANT ? "tenant" : k == AST_GROUP ? "group" : "key";
}

/* Whether s's parent level has a template of s's kind (then a listed s
 * is written even without limits: it hides the template). */
static bool has_template_sibling(const m_policy *m, const m_subject *s)
{
    if (s->any)
        return false;
    if (!s->parent)
        return s->kind == AST_TENANT && m->any_tenant;
    return subject_template(s->parent, s->kind) != NULL;
}

/* Whether s's subtree holds a limit. */
static bool has_limits(const m_subject *s)
{
    if (s->nlimits)
        return true;
    for (uint32_t i = 0; i < s->nchildren; i++)
        if (has_limits(s->children[i]))
            return true;
    return false;
}

static bool envoy_wanted(const m_policy *m, const m_subject *s)
{
    return has_limits(s) || has_template_sibling(m, s);
}

static void envoy_subject(em *e, const m_policy *m, const m_subject *s);

/* The descriptors of a list of siblings: the template first, then the
 * listed ones in the policy's order. */
static void envoy_list(em *e, const m_policy *m, const m_subject *const *v, size_t n,
                       const m_subject *any)
{
    size_t want = any && envoy_wanted(m, any);
    for (size_t i = 0; i < n; i++)
        want += !v[i]->any && envoy_wanted(m, v[i]);
    if (!want)
        return;
    scalar(e, "descriptors", false);
    seq_start(e);
    if (any && envoy_wanted(m, any))
        envoy_subject(e, m, any);
    for (size_t i = 0; i < n; i++)
        if (!v[i]->any && envoy_wanted(m, v[i]))
            envoy_subject(e, m, v[i]);
    seq_end(e);
}

static void envoy_subject(em *e, const m_policy *m, const m_subject *s)
{
    map_start(e);
    scalar(e, "key", false);
    scalar(e, level_word(s->kind), false);
    if (!s->any) {
        scalar(e, "value", false);
        scalar(e, s->name, true);
    }
    if (s->nlimits) {
        const m_limit *l = &s->limits[0];
        scalar(e, "rate_limit", false);
        map_start(e);
        scalar(e, "unit", false);
        scalar(e, envoy_unit(l->window_ms), false);
        scalar(e, "requests_per_unit", false);
        num(e, l->count);
        map_end(e);
        if (l->shadow) {
            scalar(e, "shadow_mode", false);
            scalar(e, "true", false);
        }
    }
    /* Children of both kinds, the templates first. */
    const m_subject *const *kids = (const m_subject *const *)s->children;
    size_t want = 0;
    for (uint32_t i = 0; i < s->nchildren; i++)
        want += envoy_wanted(m, kids[i]);
    if (want) {
        scalar(e, "descriptors", false);
        seq_start(e);
        for (uint32_t i = 0; i < s->nchildren; i++)
            if (kids[i]->any && envoy_wanted(m, kids[i]))
                envoy_subject(e, m, kids[i]);
        for (uint32_t i = 0; i < s->nchildren; i++)
            if (!kids[i]->any && envoy_wanted(m, kids[i]))
                envoy_subject(e, m, kids[i]);
        seq_end(e);
    }
    map_end(e);
}

static void envoy_body(em *e, const m_policy *m)
{
    map_start(e);
    scalar(e, "domain", false);
    scalar(e, e->space, true);
    envoy_list(e, m, (const m_subject *const *)m->tenants, m->ntenants, m->any_tenant);
    map_end(e);
}

/* A CEL string literal of s: single-quoted, with \ and ' escaped. */
static void cel_str(buf *b, const char *s)
{
    buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\\' || *s == '\'')
            buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '\'');
}

/* The conditions and variables that select the requests of s, from the
 * tenant down. */
static void lim_selectors(const m_policy *m, const m_subject *s, buf *conds, size_t *nconds,
                          buf *vars, size_t *nvars)
{
    if (s->parent)
        lim_selectors(m, s->parent, conds, nconds, vars, nvars);
    const char *w = level_word(s->kind);
    if (!s->any) {
        buf_printf(conds, "descriptors[0]['%s'] == ", w);
        cel_str(conds, s->name);
        buf_putc(conds, '\0');
        (*nconds)++;
        return;
    }
    buf_printf(vars, "descriptors[0]['%s']", w);
    buf_putc(vars, '\0');
    (*nvars)++;
    /* The listed siblings are not this template's values. */
    const m_subject *const *sib = s->parent ? (const m_subject *const *)s->parent->children
                                            : (const m_subject *const *)m->tenants;
    size_t n = s->parent ? s->parent->nchildren : m->ntenants;
    for (size_t i = 0; i < n; i++)
        if (!sib[i]->any && sib[i]->kind == s->kind) {
            buf_printf(conds, "descriptors[0]['%s'] != ", w);
            cel_str(conds, sib[i]->name);
            buf_putc(conds, '\0');
            (*nconds)++;
        }
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

static void lim_subject(em *e, const m_policy *m, const m_subject *s)
{
    if (s->nlimits) {
        const m_limit *l = &s->limits[0];
        buf conds, vars, label;
        buf_init(&conds, 0);
        buf_init(&vars, 0);
        buf_init(&label, 0);
        size_t nc = 0, nv = 0;
        lim_selectors(m, s, &conds, &nc, &vars, &nv);
        subject_label(s, &label);
        map_start(e);
        scalar(e, "namespace", false);
        scalar(e, e->space, true);
        scalar(e, "max_value", false);
        num(e, l->count);
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
    for (uint32_t i = 0; i < s->nchildren; i++)
        lim_subject(e, m, s->children[i]);
}

static void lim_body(em *e, const m_policy *m)
{
    seq_start(e);
    if (m->any_tenant)
        lim_subject(e, m, m->any_tenant);
    for (size_t i = 0; i < m->ntenants; i++)
        lim_subject(e, m, m->tenants[i]);
    seq_end(e);
}

bool emit_file(const m_policy *m, const m_target *t, buf *out, char *err, size_t errlen)
{
    em e = {.ok = true, .t = t, .space = m->ns};
    const m_setting *sp = setting_find(t->settings, t->nsettings,
                                       t->kind == TARGET_ENVOY ? "domain" : "namespace");
    if (sp)
        e.space = sp->v.s;
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
        envoy_body(&e, m);
    else
        lim_body(&e, m);
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
