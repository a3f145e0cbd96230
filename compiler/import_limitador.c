/* import_limitador.c - Limitador limits onto rlc subjects.  A namespace is
 * a tenant; a condition `NAME == 'V'` is `group "NAME"` then `key "V"`; a
 * variable NAME is `group "NAME"` then `key *` (one counter per value, as
 * Limitador keeps); the limit sits on the last of them, a fixed window of
 * `seconds`.  Conditions and variables nest in the order written.  Any
 * other condition (!=, &&, functions) is reported and the limit applies
 * without it, to more requests rather than fewer. */
#include <string.h>

#include "import_private.h"

/* The variable a condition's left side names: `descriptors[0]['X']`,
 * `descriptors[0].X` or a bare X; NULL when it is anything else. */
static const char *var_name(importer *im, const char *s, size_t n)
{
    static const char pre[] = "descriptors[0]";
    while (n && s[n - 1] == ' ')
        n--;
    while (n && *s == ' ')
        s++, n--;
    if (n > sizeof pre - 1 && !memcmp(s, pre, sizeof pre - 1)) {
        s += sizeof pre - 1;
        n -= sizeof pre - 1;
        if (n > 4 && s[0] == '[' && (s[1] == '\'' || s[1] == '"') && s[n - 1] == ']' &&
            s[n - 2] == s[1] && !memchr(s + 2, s[1], n - 4))
            return arena_strndup(im->a, s + 2, n - 4);
        if (n > 1 && s[0] == '.')
            s++, n--;
        else
            return NULL;
    }
    if (!n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
              ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
            return NULL;
    return arena_strndup(im->a, s, n);
}

/* `NAME == 'V'` into *name, *value; false for any other condition. */
static bool equality(importer *im, const ynode *c, const char **name, const char **value)
{
    const char *eq = strstr(c->str, "==");
    if (!eq || strstr(eq + 2, "==") || strstr(c->str, "&&") || strstr(c->str, "||"))
        return false;
    const char *v = eq + 2;
    while (*v == ' ')
        v++;
    size_t vl = strlen(v);
    while (vl && v[vl - 1] == ' ')
        vl--;
    if (vl < 2 || (v[0] != '\'' && v[0] != '"') || v[vl - 1] != v[0] ||
        memchr(v + 1, v[0], vl - 2) || memchr(v + 1, '\\', vl - 2) || vl == 2)
        return false;
    *name = var_name(im, c->str, (size_t)(eq - c->str));
    if (!*name)
        return false;
    *value = arena_strndup(im->a, v + 1, vl - 2);
    return true;
}

static void one_limit(importer *im, const ynode *m)
{
    static const char *const known[] = {"namespace", "max_value", "seconds", "conditions",
                                        "variables", "name", "id", NULL};
    if (m->kind != YN_MAP) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, m),
                 "a Limitador limit is a mapping with namespace, max_value and seconds");
        return;
    }
    for (size_t i = 0; i < m->len; i++) {
        const ynode *k = m->items[2 * i];
        bool ok = false;
        for (const char *const *p = known; *p && !ok; p++)
            ok = k->kind == YN_SCALAR && !strcmp(k->str, *p);
        if (!ok)
            diag_add(im->dl, DIAG_CONF_UNKNOWN, imp_span(im, k),
                     "limit field '%s' is not part of the format rlc imports; ignored",
                     k->kind == YN_SCALAR ? imp_clean(im, k->str, k->len) : "(not a string)");
    }
    const ynode *kn, *ns = yaml_get(m, "namespace", &kn);
    const ynode *mv = yaml_get(m, "max_value", NULL), *sec = yaml_get(m, "seconds", NULL);
    if (!ns || !mv || !sec) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, m),
                 "a Limitador limit needs namespace, max_value and seconds");
        return;
    }
    uint64_t max, secs;
    if (!imp_name_ok(im, ns, "namespace") || !imp_uint(im, mv, "max_value", &max) ||
        !imp_uint(im, sec, "seconds", &secs))
        return;
    if (secs == 0 || secs > 366ull * 86400) {
        diag_add(im->dl, DIAG_CONF_BAD_VALUE, imp_span(im, sec),
                 "seconds must be 1 to %llu (366 days)", 366ull * 86400);
        return;
    }
    bool existed;
    isubj *s = imp_tenant(im, ns->str, imp_span(im, ns), &existed);
    if (!existed) {
        imp_comment(im, &s->comments, &s->comments_tail,
                    "Limitador namespace %s: a condition NAME == 'V' is group NAME holding",
                    imp_clean(im, ns->str, ns->len));
        imp_comment(im, &s->comments, &s->comments_tail,
                    "key V, a variable NAME is group NAME holding key * (a counter per value),");
        imp_comment(im, &s->comments, &s->comments_tail,
                    "nested in the order written.  Limitador applies every limit whose");
        imp_comment(im, &s->comments, &s->comments_tail,
                    "conditions hold; rlc applies the limits along the one path a request names.");
        diag_add(im->dl, DIAG_LIMITADOR_SEMANTICS, imp_span(im, ns),
                 "Limitador applies every limit whose conditions hold; rlc applies the limits "
                 "on the one path a request names");
    }
    int level = 0;
    const ynode *conds = yaml_get(m, "conditions", NULL);
    const ynode *vars = yaml_get(m, "variables", NULL);
    icomment *notes = NULL, *notes_tail = NULL;
    if (!yaml_is_null(conds) && conds->kind != YN_SEQ) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, conds), "conditions must be a list");
        return;
    }
    if (!yaml_is_null(vars) && vars->kind != YN_SEQ) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, vars), "variables must be a list");
        return;
    }
    for (size_t i = 0; conds && conds->kind == YN_SEQ && i < conds->len; i++) {
        const ynode *c = conds->items[i];
        const char *name, *value;
        if (c->kind != YN_SCALAR) {
            diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, c), "a condition must be a string");
            return;
        }
        if (!equality(im, c, &name, &value)) {
            diag_add(im->dl, DIAG_LIMITADOR_CONDITION, imp_span(im, c),
                     "condition '%s' is not NAME == 'VALUE': the limit applies without it",
                     imp_clean(im, c->str, c->len));
            imp_comment(im, &notes, &notes_tail, "condition not carried: %s",
                        imp_clean(im, c->str, c->len));
            continue;
        }
        if (++level * 2 > IMPORT_MAX_LEVELS) {
            diag_add(im->dl, DIAG_CONF_TOO_DEEP, imp_span(im, c),
                     "more than %d conditions and variables: rlc's hierarchy holds %d levels "
                     "below the tenant", IMPORT_MAX_LEVELS / 2, IMPORT_MAX_LEVELS);
            return;
        }
        s = imp_child(im, s, IS_GROUP, name, imp_span(im, c), &existed);
        s = imp_child(im, s, IS_KEY, value, imp_span(im, c), &existed);
    }
    for (size_t i = 0; vars && vars->kind == YN_SEQ && i < vars->len; i++) {
        const ynode *v = vars->items[i];
        const char *name = v->kind == YN_SCALAR ? var_name(im, v->str, v->len) : NULL;
        if (!name) {
            diag_add(im->dl, DIAG_CONF_BAD_VALUE, imp_span(im, v),
                     "a variable must name a descriptor entry");
            return;
        }
        if (++level * 2 > IMPORT_MAX_LEVELS) {
            diag_add(im->dl, DIAG_CONF_TOO_DEEP, imp_span(im, v),
                     "more than %d conditions and variables: rlc's hierarchy holds %d levels "
                     "below the tenant", IMPORT_MAX_LEVELS / 2, IMPORT_MAX_LEVELS);
            return;
        }
        s = imp_child(im, s, IS_GROUP, name, imp_span(im, v), &existed);
        s = imp_child(im, s, IS_KEY, NULL, imp_span(im, v), &existed);
    }
    ilimit *l = imp_limit(im, s, max, secs * 1000, arena_printf(im->a, "%llus",
                                                                 (unsigned long long)secs));
    l->comments = notes;
    const ynode *nm = yaml_get(m, "name", NULL);
    if (nm && nm->kind == YN_SCALAR && nm->len)
        imp_limit_comment(im, l, "name: %s", imp_clean(im, nm->str, nm->len));
    if (max == 0) {
        l->block = true;
        diag_add(im->dl, DIAG_CONF_BLOCK_ALL, imp_span(im, mv),
                 "max_value 0 rejects every request: imported as 1/%llus cost 2",
                 (unsigned long long)secs);
        imp_limit_comment(im, l, "max_value 0: cost 2 against a count of 1 admits nothing");
    }
}

void limitador_import_doc(importer *im, const ynode *root)
{
    if (root->kind != YN_SEQ) {
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, root),
                 "a Limitador configuration is a list of limits");
        return;
    }
    for (size_t i = 0; i < root->len; i++)
        one_limit(im, root->items[i]);
}

/* In Limitador a value's own limit and the per-value limit both apply; in
 * rlc a listed key starts from its template and replaces it per window, so
 * the template's limits are written into the listed key as its own. */
static void copy_templates(importer *im, isubj *s)
{
    for (isubj *g = s->kids; g; g = g->next) {
        isubj *tmpl = NULL;
        for (isubj *k = g->kids; k; k = k->next)
            if (!k->name)
                tmpl = k;
        for (isubj *k = g->kids; k && tmpl; k = k->next) {
            if (!k->name || !k->limits)
                continue;
            for (const ilimit *t = tmpl->limits; t; t = t->next) {
                ilimit *l = imp_limit(im, k, t->count, t->window_ms, t->window);
                l->block = t->block;
                imp_limit_comment(im, l, "the per-value limit of key * applies here too");
            }
        }
        for (isubj *k = g->kids; k; k = k->next)
            copy_templates(im, k);
    }
}

void limitador_finish(importer *im)
{
    for (isubj *t = im->tenants; t; t = t->next)
        copy_templates(im, t);
}
