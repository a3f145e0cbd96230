/* import.c - the part of `rlc import` that does not depend on the source
 * format: reading each file's YAML documents, unwrapping Kubernetes objects
 * (a ConfigMap's data strings are YAML of their own, registered as source
 * files so that diagnostics quote their lines; a Limitador resource's
 * spec.limits), the subject tree the format modules fill, and printing it
 * as .rlp text that lang/fmt then makes canonical.  It knows nothing of
 * Envoy or Limitador fields. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "import_private.h"
#include "parse.h"

bool import_format_parse(const char *s, import_format *out)
{
    if (!strcmp(s, "envoy"))
        *out = IMPORT_ENVOY;
    else if (!strcmp(s, "limitador"))
        *out = IMPORT_LIMITADOR;
    else
        return false;
    return true;
}

span imp_span(importer *im, const ynode *n)
{
    return yaml_span(im->file, n);
}

const char *imp_clean(importer *im, const char *s, size_t len)
{
    size_t n = len > 200 ? 200 : len;
    char *c = arena_strndup(im->a, s, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
            c[i] = ' ';
    if (len > n)
        return arena_printf(im->a, "%s...", c);
    return c;
}

void imp_comment(importer *im, icomment **head, icomment **tail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    icomment *c = arena_alloc(im->a, sizeof *c);
    c->text = arena_strdup(im->a, s ? s : "");
    free(s);
    c->next = NULL;
    if (*tail)
        (*tail)->next = c;
    else
        *head = c;
    *tail = c;
}

void imp_limit_comment(importer *im, ilimit *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    icomment *c = arena_alloc(im->a, sizeof *c), **p = &l->comments;
    c->text = arena_strdup(im->a, s ? s : "");
    free(s);
    c->next = NULL;
    while (*p)
        p = &(*p)->next;
    *p = c;
}

static isubj *new_subj(importer *im, isubj_kind k, const char *name, span at)
{
    isubj *s = arena_alloc(im->a, sizeof *s);
    memset(s, 0, sizeof *s);
    s->kind = k;
    s->name = name;
    s->at = at;
    return s;
}

isubj *imp_tenant(importer *im, const char *name, span at, bool *existed)
{
    for (isubj *t = im->tenants; t; t = t->next)
        if (!strcmp(t->name, name)) {
            *existed = true;
            return t;
        }
    *existed = false;
    isubj *t = new_subj(im, IS_TENANT, name, at);
    if (im->tenants_tail)
        im->tenants_tail->next = t;
    else
        im->tenants = t;
    im->tenants_tail = t;
    im->ntenants++;
    if (!im->policy_name)
        im->policy_name = name;
    return t;
}

isubj *imp_child(importer *im, isubj *parent, isubj_kind k, const char *name, span at,
                 bool *existed)
{
    /* A generated configuration may list 100 000 values under one key:
     * children are found through a hash, not a walk of the siblings. */
    const char *hk = name ? arena_printf(im->a, "%p:%d:%s", (void *)parent, (int)k, name)
                          : arena_printf(im->a, "%p:%d", (void *)parent, (int)k);
    isubj *found = strmap_get(&im->kids, hk);
    if (found) {
        *existed = true;
        return found;
    }
    *existed = false;
    isubj *c = new_subj(im, k, name, at);
    if (parent->kids_tail)
        parent->kids_tail->next = c;
    else
        parent->kids = c;
    parent->kids_tail = c;
    strmap_put(&im->kids, hk, c);
    return c;
}

ilimit *imp_limit(importer *im, isubj *s, uint64_t count, uint64_t window_ms, const char *window)
{
    ilimit *l = arena_alloc(im->a, sizeof *l);
    memset(l, 0, sizeof *l);
    l->count = count;
    l->window_ms = window_ms;
    l->window = window;
    if (s->limits_tail)
        s->limits_tail->next = l;
    else
        s->limits = l;
    s->limits_tail = l;
    return l;
}

bool imp_name_ok(importer *im, const ynode *n, const char *what)
{
    if (!n || n->kind != YN_SCALAR) {
        diag_add(im->dl, DIAG_CONF_SHAPE, n ? imp_span(im, n) : span_none,
                 "%s must be a string", what);
        return false;
    }
    if (n->len == 0 || n->len > PARSE_MAX_STRING || memchr(n->str, '\0', n->len)) {
        diag_add(im->dl, DIAG_CONF_BAD_VALUE, imp_span(im, n),
                 "%s must be 1 to %d bytes without NUL (it is %zu bytes)", what,
                 PARSE_MAX_STRING, n->len);
        return false;
    }
    return true;
}

bool imp_uint(importer *im, const ynode *n, const char *what, uint64_t *out)
{
    if (n && n->kind == YN_SCALAR && n->plain && n->len > 0 && n->len <= 19) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < n->len && n->str[i] >= '0' && n->str[i] <= '9'; i++)
            v = v * 10 + (uint64_t)(n->str[i] - '0');
        if (i == n->len) {
            *out = v;
            return true;
        }
    }
    diag_add(im->dl, DIAG_CONF_BAD_VALUE, n ? imp_span(im, n) : span_none,
             "%s must be a non-negative integer below 10^19", what);
    return false;
}

bool imp_bool(importer *im, const ynode *n, const char *what, bool *out)
{
    if (n && n->kind == YN_SCALAR && n->plain) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE")) {
            *out = true;
            return true;
        }
        if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE")) {
            *out = false;
            return true;
        }
    }
    if (yaml_is_null(n)) {
        *out = false;
        return true;
    }
    diag_add(im->dl, DIAG_CONF_BAD_VALUE, n ? imp_span(im, n) : span_none,
             "%s must be true or false", what);
    return false;
}

/* ---- Kubernetes wrappers ------------------------------------------------ */

static void import_root(importer *im, import_format f, const ynode *root, bool inner);

/* A ConfigMap's data values are YAML documents held in strings: each is
 * registered as a source file named FILE[data.KEY] and read on its own. */
static void import_configmap(importer *im, import_format f, const ynode *cm)
{
    const ynode *kn, *data = yaml_get(cm, "data", &kn);
    if (!data || data->kind != YN_MAP || data->len == 0) {
        diag_add(im->dl, DIAG_CONF_EMPTY, imp_span(im, data ? data : cm),
                 "ConfigMap has no data to import");
        return;
    }
    uint32_t outer = im->file;
    for (size_t i = 0; i < data->len; i++) {
        const ynode *k = data->items[2 * i], *v = data->items[2 * i + 1];
        if (v->kind != YN_SCALAR) {
            diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, v),
                     "ConfigMap data '%s' must be a string holding YAML",
                     imp_clean(im, k->str, k->len));
            continue;
        }
        char *text = malloc(v->len + 2);
        if (!text)
            continue;
        memcpy(text, v->str, v->len);
        text[v->len] = text[v->len + 1] = '\0';
        const char *oname = im->map->files[outer].name;
        char *name = str_printf("%s[data.%s]", oname, imp_clean(im, k->str, k->len));
        uint32_t fi = srcmap_add(im->map, name ? name : oname, name ? name : oname, text,
                                 v->len, false);
        free(name);
        ydocs docs;
        im->file = fi;
        size_t before = im->dl->nerrors;
        if (yaml_read(im->a, im->dl, fi, text, v->len, &docs)) {
            for (size_t d = 0; d < docs.n; d++)
                if (docs.docs[d])
                    import_root(im, f, docs.docs[d], true);
        }
        if (im->dl->nerrors > before && im->dl->tail)
            diag_note_add(im->dl, im->dl->tail, yaml_span(outer, v),
                          "inside the ConfigMap's data '%s'", imp_clean(im, k->str, k->len));
        im->file = outer;
    }
}

static void import_root(importer *im, import_format f, const ynode *root, bool inner)
{
    const ynode *kind = yaml_get(root, "kind", NULL);
    if (!inner && kind && kind->kind == YN_SCALAR && yaml_get(root, "apiVersion", NULL)) {
        if (!strcmp(kind->str, "ConfigMap")) {
            import_configmap(im, f, root);
            return;
        }
        if (!strcmp(kind->str, "Limitador") && f == IMPORT_LIMITADOR) {
            const ynode *spec = yaml_get(root, "spec", NULL);
            const ynode *limits = yaml_get(spec, "limits", NULL);
            if (!limits) {
                diag_add(im->dl, DIAG_CONF_EMPTY, imp_span(im, spec ? spec : root),
                         "Limitador resource has no spec.limits");
                return;
            }
            limitador_import_doc(im, limits);
            return;
        }
        diag_add(im->dl, DIAG_CONF_SHAPE, imp_span(im, kind),
                 "a Kubernetes %s holds no %s configuration (a ConfigMap%s does)",
                 imp_clean(im, kind->str, kind->len),
                 f == IMPORT_ENVOY ? "Envoy ratelimit" : "Limitador",
                 f == IMPORT_LIMITADOR ? " or a Limitador resource" : "");
        return;
    }
    if (f == IMPORT_ENVOY)
        envoy_import_doc(im, root);
    else
        limitador_import_doc(im, root);
}

/* ---- printing ------------------------------------------------------------ */

static void put_comments(buf *out, const icomment *c, int ind)
{
    for (; c; c = c->next)
        buf_printf(out, "%*s# %s\n", ind, "", c->text);
}

static void put_subject(buf *out, const isubj *s, int ind)
{
    static const char *const kw[] = {"tenant", "group", "key"};
    put_comments(out, s->comments, ind);
    buf_printf(out, "%*s%s ", ind, "", kw[s->kind]);
    if (s->name)
        fmt_string(out, s->name);
    else
        buf_putc(out, '*');
    buf_puts(out, " {\n");
    for (const ilimit *l = s->limits; l; l = l->next) {
        put_comments(out, l->comments, ind + 2);
        buf_printf(out, "%*slimit %llu/%s", ind + 2, "",
                   (unsigned long long)(l->block ? 1 : l->count), l->window);
        if (l->block)
            buf_puts(out, " cost 2");
        buf_puts(out, " algorithm fixed_window");
        if (l->shadow)
            buf_puts(out, " shadow");
        buf_putc(out, '\n');
    }
    for (const isubj *k = s->kids; k; k = k->next)
        put_subject(out, k, ind + 2);
    buf_printf(out, "%*s}\n", ind, "");
}

static bool namespace_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
            return false;
    return true;
}

static void put_policy(buf *out, const importer *im)
{
    put_comments(out, im->header, 0);
    buf_puts(out, "\npolicy ");
    fmt_string(out, im->ntenants == 1 ? im->policy_name : "imported");
    buf_puts(out, " {\n");
    if (im->ntenants == 1 && namespace_ok(im->policy_name)) {
        buf_puts(out, "  namespace = ");
        fmt_string(out, im->policy_name);
        buf_putc(out, '\n');
    }
    buf_puts(out, "}\n");
    for (const isubj *t = im->tenants; t; t = t->next) {
        buf_putc(out, '\n');
        put_subject(out, t, 0);
    }
}

static bool import_build(importer *imp, import_format f, const uint32_t *files, size_t n,
                         size_t nerr0, buf *out);

bool import_files(arena *a, diag_list *dl, srcmap *map, import_format f,
                  const uint32_t *files, size_t n, buf *out)
{
    importer im = {.a = a, .dl = dl, .map = map};
    size_t nerr0 = dl->nerrors;
    strmap_init(&im.kids);
    bool ok = import_build(&im, f, files, n, nerr0, out);
    strmap_free(&im.kids);
    return ok;
}

static bool import_build(importer *imp, import_format f, const uint32_t *files, size_t n,
                         size_t nerr0, buf *out)
{
    arena *a = imp->a;
    diag_list *dl = imp->dl;
    srcmap *map = imp->map;
    imp_comment(imp, &imp->header, &imp->header_tail, "Imported by rlc import %s from:",
                f == IMPORT_ENVOY ? "envoy" : "limitador");
    for (size_t i = 0; i < n; i++)
        imp_comment(imp, &imp->header, &imp->header_tail, "  %s",
                    imp_clean(imp, map->files[files[i]].name, strlen(map->files[files[i]].name)));
    for (size_t i = 0; i < n; i++) {
        src_file *sf = &map->files[files[i]];
        ydocs docs;
        imp->file = files[i];
        if (!yaml_read(a, dl, files[i], sf->text, sf->len, &docs))
            continue;
        size_t found = 0;
        for (size_t d = 0; d < docs.n; d++)
            if (docs.docs[d] && !yaml_is_null(docs.docs[d])) {
                import_root(imp, f, docs.docs[d], false);
                found++;
            }
        if (!found)
            diag_add(dl, DIAG_CONF_EMPTY, span_make(files[i], 0, sf->len ? 1 : 0),
                     "%s holds no YAML document with content", sf->name);
    }
    if (dl->nerrors > nerr0)
        return false;
    if (f == IMPORT_ENVOY)
        envoy_finish(imp);
    else
        limitador_finish(imp);
    if (!imp->ntenants) {
        diag_add(dl, DIAG_CONF_EMPTY, n ? span_make(files[0], 0, 0) : span_none,
                 "nothing to import: no %s found", f == IMPORT_ENVOY ? "domain" : "limit");
        return false;
    }

    buf raw;
    buf_init(&raw, 0);
    put_policy(&raw, imp);
    if (!buf_ok(&raw)) {
        buf_free(&raw);
        return false;
    }
    char *text = malloc(raw.len + 2);
    if (!text) {
        buf_free(&raw);
        return false;
    }
    memcpy(text, buf_str(&raw), raw.len);
    text[raw.len] = text[raw.len + 1] = '\0';
    size_t len = raw.len;
    buf_free(&raw);
    uint32_t fi = srcmap_add(map, "<import>", "<import>", text, len, false);
    map->files[fi].two_nuls = true;
    ast_file *af = parse_file(a, dl, map, fi);
    if (dl->nerrors > nerr0)
        return false;
    fmt_file(out, map, af);
    return true;
}
