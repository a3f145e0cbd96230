/* import_envoy.c - Envoy's ratelimit service configuration (domain,
 * descriptors) onto rlc subjects.  A domain is a tenant; a descriptor entry
 * (key K, value V) is two levels, `group "K"` then `key "V"`, and a key
 * without a value (or with the value "*") is the template `key *` of that
 * group, with one counter per value as in Envoy.  Limits are fixed windows,
 * as the service counts.  What rlc cannot express is reported at the
 * entry's YAML position and written as a comment beside what was done. */
#include <string.h>

#include "import_private.h"

typedef struct unit_map {
    const char *name, *window;
    uint64_t ms;
} unit_map;

static const unit_map units[] = {
    {"second", "1s", 1000},
    {"minute", "1m", 60000},
    {"hour", "1h", 3600000},
    {"day", "1d", 86400000},
    {"month", "30d", 30ull * 86400000},
    {"year", "365d", 365ull * 86400000},
};

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20))
            return false;
    return *a == *b;
}

static void check_fields(importer *im, const ynode *m, const char *const *known, const char *what)
{
    for (size_t i = 0; i < m->len; i++) {
        const ynode *k = m->items[2 * i];
        bool ok = false;
        for (const char *const *p = known; *p && !ok; p++)
            ok = k->kind == YN_SCALAR && !strcmp(k->str, *p);
        if (!ok)
            diag_add(im->dl, DIAG_CONF_UNKNOWN, imp_span(im, k),
                     "%s field '%s' is not part of the format rlc imports; ignored", what,
                     k->kind == YN_SCALAR ? imp_clean(im, k->str, k->len) : "(not a string)");
    }
}

/* A true flag that only shapes Envoy's metrics or quota reporting. */
static void metric_flag(importer *im, const ynode *m, const char *field, isubj *s)
{
    const ynode *kn, *v = yaml_get(m, field, &kn);
    bool on = false;
    if (!v || !imp_bool(im, v, field, &on) || !on)
        return;
    diag_add(im->dl, DIAG_ENVOY_METRIC_ONLY, imp_span(im, kn),
             "%s: true has no counterpart in rlc; not carried", field);
    imp_comment(im, &s->comments, &s->comments_tail, "%s: true not carried (no counterpart)",
                field);
}

static void rate_limit(importer *im, const ynode *rl, isubj *s, bool shadow)
{
    static const char *const known[] = {"unit", "requests_per_unit", "unlimited", "name",
                                        "replaces", NULL};
    if (rl->kind != YN_MAP) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, rl), "rate_limit must be a mapping");
        return;
    }
    check_fields(im, rl, known, "rate_limit");
    const ynode *kn, *name = yaml_get(rl, "name", NULL);
    if (name && name->kind == YN_SCALAR && name->len)
        imp_comment(im, &s->comments, &s->comments_tail, "name: %s",
                    imp_clean(im, name->str, name->len));
    const ynode *rep = yaml_get(rl, "replaces", &kn);
    if (rep && rep->kind == YN_SEQ && rep->len) {
        diag_add(im->dl, DIAG_ENVOY_REPLACES, imp_span(im, kn),
                 "replaces cannot be expressed in rlc: every limit on a request's path "
                 "applies; the replaced limits stay");
        imp_comment(im, &s->comments, &s->comments_tail,
                    "replaces (%zu) not carried: the replaced limits still apply", rep->len);
    } else if (rep && !yaml_is_null(rep) && !(rep->kind == YN_SEQ)) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, rep), "replaces must be a list");
    }
    bool unlimited = false;
    const ynode *un = yaml_get(rl, "unlimited", &kn);
    if (un && !imp_bool(im, un, "unlimited", &unlimited))
        return;
    if (unlimited) {
        imp_comment(im, &s->comments, &s->comments_tail, "unlimited: no limit of its own");
        return;
    }
    const ynode *unit = yaml_get(rl, "unit", &kn);
    const unit_map *u = NULL;
    if (!unit || unit->kind != YN_SCALAR) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, unit ? unit : rl),
                 "rate_limit needs a unit (second, minute, hour, day, month or year)");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof *units && !u; i++)
        if (ieq(unit->str, units[i].name))
            u = &units[i];
    if (!u) {
        diag_add(im->dl, DIAG_CONF_BAD_VALUE, imp_span(im, unit),
                 "unknown unit '%s' (second, minute, hour, day, month or year)",
                 imp_clean(im, unit->str, unit->len));
        return;
    }
    uint64_t rpu;
    const ynode *rn = yaml_get(rl, "requests_per_unit", &kn);
    if (!rn) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, rl),
                 "rate_limit needs requests_per_unit (or unlimited: true)");
        return;
    }
    if (!imp_uint(im, rn, "requests_per_unit", &rpu))
        return;
    if (rpu > UINT32_MAX) {
        diag_add(im->dl, DIAG_CONF_BAD_VALUE, imp_span(im, rn),
                 "requests_per_unit %llu is more than Envoy's 32 bits hold",
                 (unsigned long long)rpu);
        return;
    }
    ilimit *l = imp_limit(im, s, rpu, u->ms, u->window);
    l->shadow = shadow;
    if (shadow)
        imp_limit_comment(im, l, "shadow_mode: counted, never rejects");
    if (u->ms >= 30ull * 86400000) {
        diag_add(im->dl, DIAG_ENVOY_CALENDAR_UNIT, imp_span(im, unit),
                 "unit %s imported as a fixed window of %s", u->name, u->window);
        imp_limit_comment(im, l, "unit %s: a fixed window of %s here", u->name, u->window);
    }
    if (rpu == 0) {
        l->block = true;
        diag_add(im->dl, DIAG_CONF_BLOCK_ALL, imp_span(im, rn),
                 "requests_per_unit 0 rejects every request: imported as 1/%s cost 2",
                 u->window);
        imp_limit_comment(im, l, "requests_per_unit 0: cost 2 against a count of 1 admits nothing");
    }
}

static void descriptors(importer *im, const ynode *seq, isubj *parent, int level)
{
    static const char *const known[] = {"key", "value", "rate_limit", "descriptors",
                                        "shadow_mode", "detailed_metric", "quota_mode",
                                        "value_to_metric", "share_threshold", NULL};
    if (yaml_is_null(seq))
        return;
    if (seq->kind != YN_SEQ) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, seq), "descriptors must be a list");
        return;
    }
    for (size_t i = 0; i < seq->len; i++) {
        const ynode *d = seq->items[i], *kn;
        if (d->kind != YN_MAP) {
            diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, d),
                     "a descriptor must be a mapping with a key");
            continue;
        }
        const ynode *key = yaml_get(d, "key", &kn);
        if (!key) {
            diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, d), "descriptor without a key");
            continue;
        }
        if (!imp_name_ok(im, key, "a descriptor key"))
            continue;
        if (level * 2 > IMPORT_MAX_LEVELS) {
            diag_add(im->dl, DIAG_CONF_TOO_DEEP, imp_span(im, key),
                     "descriptor at depth %d: rlc's hierarchy holds %d descriptor levels "
                     "(each is a group and a key below the tenant)", level,
                     IMPORT_MAX_LEVELS / 2);
            continue;
        }
        check_fields(im, d, known, "descriptor");
        const ynode *val = yaml_get(d, "value", &kn);
        const char *vname = NULL;
        if (val && !(val->kind == YN_SCALAR && val->len == 0)) {
            if (!imp_name_ok(im, val, "a descriptor value"))
                continue;
            if (!(val->len == 1 && val->str[0] == '*'))
                vname = val->str;
            if (vname && val->str[val->len - 1] == '*')
                diag_add(im->dl, DIAG_ENVOY_PREFIX_WILDCARD, imp_span(im, val),
                         "value '%s' matches every value with that prefix in Envoy; rlc "
                         "matches it only as written", imp_clean(im, val->str, val->len));
        }
        bool existed;
        isubj *g = imp_child(im, parent, IS_GROUP, key->str, imp_span(im, key), &existed);
        isubj *s = imp_child(im, g, IS_KEY, vname, imp_span(im, d), &existed);
        if (existed && s->declared) {
            diag *dg = diag_add(im->dl, DIAG_CONF_DUP, imp_span(im, d),
                                "descriptor %s=%s given twice at this level",
                                imp_clean(im, key->str, key->len),
                                vname ? imp_clean(im, vname, strlen(vname)) : "*");
            diag_note_add(im->dl, dg, s->at, "first given here");
            continue;
        }
        s->declared = true;
        s->at = imp_span(im, d);
        bool shadow = false;
        const ynode *sm = yaml_get(d, "shadow_mode", &kn);
        if (sm && !imp_bool(im, sm, "shadow_mode", &shadow))
            continue;
        metric_flag(im, d, "detailed_metric", s);
        metric_flag(im, d, "quota_mode", s);
        metric_flag(im, d, "value_to_metric", s);
        metric_flag(im, d, "share_threshold", s);
        const ynode *rl = yaml_get(d, "rate_limit", &kn);
        const ynode *kids = yaml_get(d, "descriptors", NULL);
        if (!yaml_is_null(rl))
            rate_limit(im, rl, s, shadow);
        else if (yaml_is_null(kids) || (kids->kind == YN_SEQ && kids->len == 0))
            imp_comment(im, &s->comments, &s->comments_tail,
                        "no rate_limit and no descriptors: not limited");
        descriptors(im, kids, s, level + 1);
    }
}

void envoy_import_doc(importer *im, const ynode *root)
{
    static const char *const known[] = {"domain", "descriptors", "name", NULL};
    if (root->kind != YN_MAP) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, root),
                 "an Envoy ratelimit configuration is a mapping with domain and descriptors");
        return;
    }
    const ynode *kn, *dom = yaml_get(root, "domain", &kn);
    if (!dom) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, root),
                 "an Envoy ratelimit configuration needs a domain");
        return;
    }
    if (!imp_name_ok(im, dom, "domain"))
        return;
    check_fields(im, root, known, "configuration");
    bool existed;
    isubj *t = imp_tenant(im, dom->str, imp_span(im, dom), &existed);
    if (existed) {
        diag *d = diag_add(im->dl, DIAG_CONF_DUP, imp_span(im, dom),
                           "domain '%s' given twice (Envoy refuses that too)",
                           imp_clean(im, dom->str, dom->len));
        diag_note_add(im->dl, d, t->at, "first given here");
        return;
    }
    imp_comment(im, &t->comments, &t->comments_tail,
                "Envoy domain %s: each descriptor entry is a group (its key) holding a key",
                imp_clean(im, dom->str, dom->len));
    imp_comment(im, &t->comments, &t->comments_tail,
                "(its value; key * for every value).  Envoy counts each descriptor on its own");
    imp_comment(im, &t->comments, &t->comments_tail,
                "against the limit of the entry it ends at; rlc charges every limit on the");
    imp_comment(im, &t->comments, &t->comments_tail,
                "path, all or nothing, so a parent's limit also holds its children.");
    diag_add(im->dl, DIAG_ENVOY_SEMANTICS, imp_span(im, kn),
             "Envoy counts each descriptor on its own, against the limit of the entry it ends "
             "at; rlc applies every limit on the path, all or nothing");
    const ynode *nm = yaml_get(root, "name", NULL);
    if (nm && nm->kind == YN_SCALAR && nm->len)
        imp_comment(im, &t->comments, &t->comments_tail, "name: %s",
                    imp_clean(im, nm->str, nm->len));
    descriptors(im, yaml_get(root, "descriptors", NULL), t, 1);
}

static bool has_window(const isubj *s, uint64_t ms)
{
    for (const ilimit *l = s->limits; l; l = l->next)
        if (l->window_ms == ms)
            return true;
    return false;
}

/* In Envoy a value's entry replaces the key's default whole; in rlc a
 * listed key keeps its template's limits on the windows it does not set.
 * Those windows get a shadow limit, which replaces the template's and
 * never rejects. */
static void neutralize(importer *im, isubj *s)
{
    for (isubj *g = s->kids; g; g = g->next) {
        isubj *tmpl = NULL;
        for (isubj *k = g->kids; k; k = k->next)
            if (!k->name)
                tmpl = k;
        /* Said once per key, at its first such value, with how many there
         * are: a config with 100 000 values would otherwise carry (and
         * print) 100 000 notes and comments saying the same thing. */
        const isubj *first = NULL;
        size_t nvalues = 0;
        for (isubj *k = g->kids; k && tmpl; k = k->next) {
            if (!k->name)
                continue;
            bool shadowed = false;
            for (const ilimit *t = tmpl->limits; t; t = t->next) {
                if (has_window(k, t->window_ms))
                    continue;
                ilimit *l = imp_limit(im, k, t->block ? 1 : t->count, t->window_ms, t->window);
                l->shadow = true;
                if (!first || first == k)
                    imp_limit_comment(im, l, "key *'s %s window does not apply to this value "
                                      "(nor to the key's other values that do not set it) in "
                                      "Envoy: shadowed here", t->window);
                shadowed = true;
            }
            if (shadowed) {
                if (!first)
                    first = k;
                nvalues++;
            }
        }
        if (first && nvalues == 1)
            diag_add(im->dl, DIAG_ENVOY_UNLIMITED, first->at,
                     "value '%s' does not get its key's default limit in Envoy: the "
                     "default's window is a shadow limit here",
                     imp_clean(im, first->name, strlen(first->name)));
        else if (first)
            diag_add(im->dl, DIAG_ENVOY_UNLIMITED, first->at,
                     "value '%s' and %zu other values of this key do not get its default "
                     "limit in Envoy: the default's windows are shadow limits there",
                     imp_clean(im, first->name, strlen(first->name)), nvalues - 1);
        for (isubj *k = g->kids; k; k = k->next)
            neutralize(im, k);
    }
}

void envoy_finish(importer *im)
{
    for (isubj *t = im->tenants; t; t = t->next)
        neutralize(im, t);
}
