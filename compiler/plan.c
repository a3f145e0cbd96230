/* plan.c - the plan document of a checked policy (SPEC.md section 5).
 *
 * Every array whose order is not meaningful is sorted (tenants by name,
 * rules by id, targets by name, sources by path), so the plan depends only
 * on what the policy means, not on file or declaration order, and two
 * compiles give the same bytes.  Rule ids hash a limit's identity (who,
 * which route, which algorithm and window) and not its numbers, so a
 * redeploy that only retunes a limit keeps its counters.
 *
 * This file builds data; it does not decide what the simulator predicts
 * (verify[].expect stays null for the caller to fill) nor talk to stores.
 * Memory comes from base/xalloc.h (jansson too): it never returns NULL. */
#include "plan.h"

#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "buf.h"
#include "embed.h"
#include "emit.h"
#include "file_write.h"
#include "plan_key.h"
#include "settings.h"

/* ---- small jansson helpers ---- */

static json_t *must(json_t *v)
{
    if (!v)
        abort(); /* jansson gets memory from xalloc: NULL means a bad value */
    return v;
}

static void set(json_t *o, const char *k, json_t *v)
{
    if (json_object_set_new(o, k, must(v)) != 0)
        abort();
}

static void push(json_t *a, json_t *v)
{
    if (json_array_append_new(a, must(v)) != 0)
        abort();
}

static json_t *str(const char *s) { return must(json_string(s)); }
static json_t *num(int64_t i) { return must(json_integer((json_int_t)i)); }

/* ---- identities ---- */

static const char *subject_kind(const m_subject *s)
{
    switch (s->kind) {
    case AST_TENANT: return "tenant";
    case AST_GROUP: return "group";
    case AST_KEY: return "key";
    default: return "?";
    }
}

/* The chain tenant..s, outermost first; returns its length. */
static int subject_chain(const m_subject *s, const m_subject **chain)
{
    int k = 0;
    for (const m_subject *c = s; c && k <= PLAN_DEPTH_MAX; c = c->parent)
        k++;
    int n = k;
    for (const m_subject *c = s; c && k > 0; c = c->parent)
        chain[--k] = c;
    return n;
}

void plan_rule_id(const char *kind, const m_subject *s, const m_route *r, const char *algorithm,
                  int64_t window_ms, char out[PLAN_RULE_ID_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_printf(&b, "v1|%s|", kind);
    const m_subject *chain[PLAN_DEPTH_MAX + 1];
    int n = subject_chain(s, chain);
    for (int i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, '/');
        /* A template is "key*": no ':' follows, so no name can spell it. */
        buf_printf(&b, "%s%s", subject_kind(chain[i]), chain[i]->any ? "*" : ":");
        if (!chain[i]->any)
            plan_pct_encode(&b, subject_name(chain[i]), strlen(subject_name(chain[i])), "/|");
    }
    buf_putc(&b, '|');
    if (r) {
        buf_printf(&b, "%s ", r->method);
        plan_pct_encode(&b, r->path, strlen(r->path), "|");
    } else {
        buf_putc(&b, '-');
    }
    buf_printf(&b, "|%s|%lld", algorithm, (long long)window_ms);
    char hex[DIGEST_HEX_LEN + 1];
    if (!buf_ok(&b) || !digest_sha256_hex(buf_str(&b), b.len, hex))
        abort();
    buf_free(&b);
    memcpy(out, hex, PLAN_RULE_ID_LEN);
    out[PLAN_RULE_ID_LEN] = '\0';
}

/* ---- rules ---- */

typedef struct rule {
    char id[PLAN_RULE_ID_LEN + 1];
    const m_limit *lim;        /* a rate rule, or */
    const m_conc *conc;        /* a concurrency rule */
    const ast_node *src;
    const m_subject *subj;
    int64_t capacity;          /* requests of cost 1 a fresh counter admits */
    const m_route *route;
} rule;

typedef struct rules {
    rule *v;
    size_t n, cap;
} rules;

static rule *rules_add(rules *rs)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rule *r = &rs->v[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* ---- canonical text, written directly ----
 *
 * The tenants are most of a plan (100 000 tenants: hundreds of MB), so they
 * are written as canonical JSON text (SPEC.md 5.2) straight from the model
 * instead of through a jansson tree: each object's keys are emitted in
 * sorted order by hand, and strings are escaped exactly as jansson does with
 * JSON_ENSURE_ASCII, so the bytes equal what json_dumps would give (the plan
 * suite's golden file and the digest test in Python hold us to that). */

/* A JSON string as jansson writes it (plan_digest.h). */
static void cj_str(buf *b, const char *s) { canon_json_str(b, s); }

static void cj_int(buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    buf_append(b, t, (size_t)n);
}

/* "subject": the chain below the tenant as one string, "group:g/key:k"
 * (plan_subject_seg's encoding, the runtime's own name for it), written
 * only below the tenant: a rule of the tenant itself has none (SPEC.md
 * 5.5).  One string instead of a path of objects that repeats the tenant's
 * name is most of what format 3 saves. */
static void cj_subject(buf *b, const m_subject *s)
{
    const m_subject *chain[PLAN_DEPTH_MAX + 1];
    int n = subject_chain(s, chain);
    if (n < 2)
        return;
    buf seg;
    buf_init(&seg, BUF_DEFAULT_MAX);
    for (int i = 1; i < n; i++) {
        const char *k = subject_kind(chain[i]);
        const char *nm = chain[i]->any ? NULL : subject_name(chain[i]);
        plan_subject_seg(&seg, i == 1, k, strlen(k), nm, nm ? strlen(nm) : 0);
    }
    if (!buf_ok(&seg))
        abort();
    buf_puts(b, ",\"subject\":");
    cj_str(b, buf_str(&seg));
    buf_free(&seg);
}

/* ,"route":{...}, only for a limit on a route (none: the subject itself). */
static void cj_route(buf *b, const m_route *r)
{
    if (!r)
        return;
    buf_puts(b, ",\"route\":{\"method\":");
    cj_str(b, r->method);
    buf_puts(b, ",\"path\":");
    cj_str(b, r->path);
    buf_putc(b, '}');
}

/* One rule object, keys in byte order, a field at its default left out:
 * "kind" rate, "algorithm" token_bucket (the language's default), "burst"
 * equal to "count", "cost" 1, "route" none, "shadow" false, the subject the
 * tenant itself (SPEC.md 5.5). */
static void cj_rule(buf *b, const rule *r)
{
    if (r->lim) {
        const m_limit *l = r->lim;
        buf_putc(b, '{');
        if (l->algo != PLAN_TOKEN_BUCKET) {
            buf_puts(b, "\"algorithm\":");
            cj_str(b, plan_kind_name(l->algo));
            buf_putc(b, ',');
        }
        if (l->burst != l->count) {
            buf_puts(b, "\"burst\":");
            cj_int(b, l->burst);
            buf_putc(b, ',');
        }
        if (l->cost != 1) {
            buf_puts(b, "\"cost\":");
            cj_int(b, l->cost);
            buf_putc(b, ',');
        }
        buf_puts(b, "\"count\":");
        cj_int(b, l->count);
        buf_puts(b, ",\"id\":\"");
        buf_puts(b, r->id);
        buf_putc(b, '"');
        cj_route(b, r->route);
        if (l->shadow)
            buf_puts(b, ",\"shadow\":true");
        cj_subject(b, r->subj);
        buf_puts(b, ",\"window_ms\":");
        cj_int(b, l->window_ms);
        buf_putc(b, '}');
        return;
    }
    const m_conc *c = r->conc;
    buf_puts(b, "{\"id\":\"");
    buf_puts(b, r->id);
    buf_puts(b, "\",\"kind\":\"concurrency\",\"lease_ms\":");
    /* No lease written (RLC2201 refuses that unless allowed): the longest
     * lease the language accepts, so even then every slot expires and every
     * counter has a TTL (SPEC.md 5.5). */
    cj_int(b, c->lease_ms ? c->lease_ms : PLAN_LEASE_MAX_MS);
    buf_puts(b, ",\"max\":");
    cj_int(b, c->max);
    cj_route(b, r->route);
    if (c->shadow)
        buf_puts(b, ",\"shadow\":true");
    cj_subject(b, r->subj);
    buf_putc(b, '}');
}

/* The name a verification request gives a template's level (and the
 * tenant of `tenant *`'s cases): fixed, so the runtime knows the shadow
 * counters it makes (SPEC.md 5.6). */
#define VERIFY_VALUE "rlc-verify"

/* path_json for the verification cases (few, so a tree is fine): the
 * request path that reaches s, a template's name made up by verify_value. */
static json_t *path_json(const m_subject *s)
{
    const m_subject *chain[PLAN_DEPTH_MAX + 1];
    int n = subject_chain(s, chain);
    json_t *a = must(json_array());
    for (int i = 0; i < n; i++) {
        json_t *seg = must(json_object());
        set(seg, "kind", str(subject_kind(chain[i])));
        set(seg, "name", str(chain[i]->any ? VERIFY_VALUE : subject_name(chain[i])));
        push(a, seg);
    }
    return a;
}

static void add_rate(rules *rs, const m_subject *s, const m_route *r, const m_limit *l)
{
    rule *ru = rules_add(rs);
    plan_rule_id("rate", s, r, plan_kind_identity(l->algo), l->window_ms, ru->id);
    ru->src = l->src;
    ru->subj = s;
    ru->route = r;
    ru->capacity = l->burst / l->cost;
    ru->lim = l;
}

static void add_conc(rules *rs, const m_subject *s, const m_route *r, const m_conc *c)
{
    rule *ru = rules_add(rs);
    plan_rule_id("concurrency", s, r, "concurrency", 0, ru->id);
    ru->src = c->src;
    ru->subj = s;
    ru->route = r;
    ru->capacity = c->max;
    ru->conc = c;
}

static void collect_rules(rules *rs, const m_subject *s)
{
    for (size_t i = 0; i < s->nlimits; i++)
        add_rate(rs, s, NULL, &s->limits[i]);
    if (subject_conc(s))
        add_conc(rs, s, NULL, subject_conc(s));
    for (size_t i = 0; i < s->nroutes; i++) {
        const m_route *r = &s->routes[i];
        for (size_t j = 0; j < r->nlimits; j++)
            add_rate(rs, s, r, &r->limits[j]);
        if (r->conc)
            add_conc(rs, s, r, r->conc);
    }
    for (size_t i = 0; i < s->nchildren; i++)
        collect_rules(rs, &s->children[i]);
}

static int rule_cmp(const void *a, const void *b)
{
    return strcmp(((const rule *)a)->id, ((const rule *)b)->id);
}

static int subject_cmp(const void *a, const void *b)
{
    return strcmp(subject_name(*(const m_subject *const *)a),
                  subject_name(*(const m_subject *const *)b));
}

/* Appends the rules of tenant t (every subject's, sorted by id) to one as
 * a JSON array, leaves them in rs (for the verification cases) and their
 * digest, the tenant's version, in version. */
static void rules_text(buf *one, rules *rs, const m_subject *t, diag_list *d,
                       char version[DIGEST_HEX_LEN + 1])
{
    rs->n = 0;
    collect_rules(rs, t);
    if (rs->n > 1)
        qsort(rs->v, rs->n, sizeof *rs->v, rule_cmp);
    size_t r0 = one->len;
    buf_putc(one, '[');
    for (size_t j = 0; j < rs->n; j++) {
        if (j && !strcmp(rs->v[j].id, rs->v[j - 1].id)) {
            diag *dg = t->any
                ? diag_add(d, DIAG_PLAN_DUP_RULE, rs->v[j].src->sp,
                           "two limits of tenant * have the same identity (same subject, "
                           "route, algorithm and window), so they would share one counter")
                : diag_add(d, DIAG_PLAN_DUP_RULE, rs->v[j].src->sp,
                           "two limits of \"%s\" have the same identity (same subject, "
                           "route, algorithm and window), so they would share one counter",
                           subject_name(t));
            diag_note_add(d, dg, rs->v[j - 1].src->sp, "the other one");
        }
        if (j)
            buf_putc(one, ',');
        cj_rule(one, &rs->v[j]);
    }
    buf_putc(one, ']');
    if (!buf_ok(one))
        abort();
    if (!digest_sha256_hex(one->data + r0, one->len - r0, version))
        abort();
}

/* ---- sections ---- */

static json_t *policy_json(const m_policy *m)
{
    json_t *o = must(json_object());
    set(o, "name", str(m->name));
    set(o, "namespace", str(m->ns));
    set(o, "max_clock_skew_ms", num(m->max_clock_skew_ms));
    set(o, "time_source", str(m->client_time ? "client" : "server"));
    set(o, "on_store_error", str(m->fail_closed ? "fail_closed" : "fail_open"));
    return o;
}

typedef struct source_ent {
    const char *path;
    char sha[DIGEST_HEX_LEN + 1];
} source_ent;

static int source_cmp(const void *a, const void *b)
{
    return strcmp(((const source_ent *)a)->path, ((const source_ent *)b)->path);
}

static json_t *sources_json(const program *p)
{
    size_t n = p->map.nfiles;
    source_ent *v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const src_file *f = &p->map.files[i];
        v[i].path = f->name;
        if (!digest_sha256_hex(f->text, f->len, v[i].sha))
            abort();
    }
    if (n > 1)
        qsort(v, n, sizeof *v, source_cmp);
    json_t *a = must(json_array());
    for (size_t i = 0; i < n; i++) {
        json_t *o = must(json_object());
        set(o, "path", str(v[i].path));
        set(o, "sha256", str(v[i].sha));
        push(a, o);
    }
    free(v);
    return a;
}

/* Reads "#!lua name=NAME" (first line, required by FUNCTION LOAD) and
 * "LIBRARY_VERSION = N" from the library source. */
static bool library_header(const char *src, size_t len, char *name, size_t namelen,
                           int64_t *version)
{
    static const char shebang[] = "#!lua name=";
    size_t sl = sizeof shebang - 1;
    if (len < sl || memcmp(src, shebang, sl) != 0)
        return false;
    size_t i = sl, k = 0;
    while (i < len && src[i] != '\n' && src[i] != ' ' && src[i] != '\r' && k + 1 < namelen)
        name[k++] = src[i++];
    name[k] = '\0';
    if (!k)
        return false;
    static const char vkey[] = "LIBRARY_VERSION";
    const char *end = src + len;
    for (const char *c = src; c + sizeof vkey < end; c++) {
        if (memcmp(c, vkey, sizeof vkey - 1) != 0)
            continue;
        const char *q = c + sizeof vkey - 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        int64_t v = 0;
        bool any = false;
        while (q < end && *q >= '0' && *q <= '9' && v < 1000000000) {
            v = v * 10 + (*q++ - '0');
            any = true;
        }
        if (any) {
            *version = v;
            return true;
        }
    }
    return false;
}

static json_t *library_json(const plan_opts *o, span where, diag_list *d)
{
    const char *src = o ? o->library_source : NULL;
    size_t len = o ? o->library_len : 0;
    if (!src) {
        const embedded_file *ef = embedded_find("enforce.lua");
        if (!ef) {
            diag_add(d, DIAG_PLAN_NO_LIBRARY, where,
                     "this rlc was built without the enforcement library (stdlib/enforce.lua), "
                     "so it cannot compile a deployable plan");
            return NULL;
        }
        src = ef->data;
        len = ef->len;
    }
    char name[64];
    int64_t version = 0;
    if (!library_header(src, len, name, sizeof name, &version)) {
        diag_add(d, DIAG_PLAN_BAD_LIBRARY, where,
                 "the enforcement library must start with '#!lua name=NAME' and set "
                 "'LIBRARY_VERSION = N'");
        return NULL;
    }
    char sha[DIGEST_HEX_LEN + 1];
    if (!digest_sha256_hex(src, len, sha))
        abort();
    json_t *lib = must(json_object());
    set(lib, "name", str(name));
    set(lib, "version", num(version));
    set(lib, "sha256", str(sha));
    set(lib, "source", must(json_stringn(src, len)));
    return lib;
}

static json_t *layout_json(const m_policy *m)
{
    json_t *o = must(json_object());
    /* Patterns are documentation: "<tenant>" stands for the encoded name
     * (tenants[].tag is the ready-made tag of each tenant). */
    char pattern[256];
    snprintf(pattern, sizeof pattern, "{%s:<tenant>}", m->ns);
    set(o, "version", num(1));
    set(o, "tag", str(pattern));
    set(o, "tenant_encoding", str("percent-encode '%', '{', '}', ':' and bytes outside "
                                  "0x21-0x7e as %XX (upper-case hex)"));
    char k[320];
    snprintf(k, sizeof k, "%s" PLAN_KEY_CFG "<version>", pattern);
    set(o, "config", str(k));
    snprintf(k, sizeof k, "%s" PLAN_KEY_ACTIVE, pattern);
    set(o, "active", str(k));
    snprintf(k, sizeof k, "%s" PLAN_KEY_COUNTER "<rule_id>", pattern);
    set(o, "counter", str(k));
    snprintf(k, sizeof k, "%s" PLAN_KEY_COUNTER "<rule_id>" PLAN_KEY_LOG, pattern);
    set(o, "log", str(k));
    snprintf(k, sizeof k, "%s" PLAN_KEY_VERIFY PLAN_KEY_COUNTER "<rule_id>", pattern);
    set(o, "verify_counter", str(k));
    return o;
}

static bool secret_setting(const char *name)
{
    return !strcmp(name, "password") || !strcmp(name, "token") ||
           !strcmp(name, "key_passphrase");
}

static json_t *value_json(const m_value *v, const ast_value *av)
{
    switch (av->kind) {
    case VAL_STRING: return str(av->s);
    case VAL_INT: return num(av->i);
    case VAL_DURATION: return num(av->dur.ms);
    case VAL_IDENT:
        if (!strcmp(av->s, "true") || !strcmp(av->s, "false"))
            return must(json_boolean(!strcmp(av->s, "true")));
        return str(av->s);
    case VAL_ENV:
    case VAL_FILE: {
        json_t *o = must(json_object());
        set(o, av->kind == VAL_ENV ? "env" : "file", str(av->s));
        return o;
    }
    case VAL_LIST: {
        json_t *a = must(json_array());
        for (const ast_value *it = av->items; it; it = it->next)
            push(a, value_json(v, it));
        return a;
    }
    case VAL_CALL: break;
    }
    return must(json_null());
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp((*(const m_target *const *)a)->name, (*(const m_target *const *)b)->name);
}

static json_t *targets_json(const m_target **ts, size_t n, diag_list *d)
{
    json_t *a = must(json_array());
    for (size_t i = 0; i < n; i++) {
        const m_target *t = ts[i];
        json_t *o = must(json_object());
        set(o, "name", str(t->name));
        set(o, "kind", str(target_kind_names[t->kind]));
        json_t *s = must(json_object());
        for (size_t j = 0; j < t->nsettings; j++) {
            const m_setting *st = &t->settings[j];
            if (secret_setting(st->name) && st->v.kind == VAL_STRING) {
                diag_add(d, DIAG_PLAN_LITERAL_SECRET, st->v.src->sp,
                         "%s of target \"%s\" is written in the policy; plans carry secrets "
                         "only as env(\"NAME\") or file(\"path\")",
                         st->name, t->name);
                continue;
            }
            char key[80];
            if (st->v.kind == VAL_DURATION)
                snprintf(key, sizeof key, "%s_ms", st->name);
            else
                snprintf(key, sizeof key, "%s", st->name);
            set(s, key, value_json(&st->v, st->v.src));
        }
        set(o, "settings", s);
        push(a, o);
    }
    return a;
}

static const m_setting *tsetting(const m_target *t, const char *name)
{
    for (size_t i = 0; i < t->nsettings; i++)
        if (!strcmp(t->settings[i].name, name))
            return &t->settings[i];
    return NULL;
}

static json_t *step(const m_target *t, const char *op)
{
    json_t *o = must(json_object());
    set(o, "target", str(t->name));
    set(o, "kind", str(target_kind_names[t->kind]));
    set(o, "op", str(op));
    return o;
}

static json_t *steps_json(const m_policy *m, const m_target **ts, size_t n, size_t ntenants,
                          const json_t *lib, size_t nverify, diag_list *d)
{
    json_t *a = must(json_array());
    char pattern[256];
    snprintf(pattern, sizeof pattern, "{%s:<tenant>}", m->ns);
    char k[320];
    for (size_t i = 0; i < n; i++) {
        const m_target *t = ts[i];
        json_t *s;
        switch (t->kind) {
        case TARGET_REDIS:
            s = step(t, "load_library");
            set(s, "library", json_deep_copy(json_object_get(lib, "name")));
            set(s, "version", json_deep_copy(json_object_get(lib, "version")));
            set(s, "sha256", json_deep_copy(json_object_get(lib, "sha256")));
            push(a, s);
            s = step(t, "write_config");
            snprintf(k, sizeof k, "%s" PLAN_KEY_CFG "<version>", pattern);
            set(s, "key", str(k));
            set(s, "value", str("tenant_rules"));
            set(s, "tenants", num((int64_t)ntenants));
            push(a, s);
            s = step(t, "activate");
            snprintf(k, sizeof k, "%s" PLAN_KEY_ACTIVE, pattern);
            set(s, "key", str(k));
            set(s, "value", str("tenant_version"));
            set(s, "tenants", num((int64_t)ntenants));
            push(a, s);
            s = step(t, "verify");
            set(s, "cases", num((int64_t)nverify));
            push(a, s);
            break;
        case TARGET_ETCD: {
            const m_setting *pf = tsetting(t, "prefix");
            s = step(t, "put");
            snprintf(k, sizeof k, "%s%s/tenants/<tenant>", pf ? pf->v.s : "/rlc/", m->ns);
            set(s, "key", str(k));
            set(s, "value", str("tenant_config"));
            set(s, "tenants", num((int64_t)ntenants));
            push(a, s);
            break;
        }
        case TARGET_HTTP:
            s = step(t, "put");
            set(s, "path", str("/tenants/<tenant>"));
            set(s, "value", str("tenant_config"));
            set(s, "tenants", num((int64_t)ntenants));
            push(a, s);
            break;
        case TARGET_NGINX: {
            const m_setting *out = tsetting(t, "output");
            const m_setting *rd = tsetting(t, "redis");
            const m_setting *st = tsetting(t, "status");
            s = step(t, "write_file");
            set(s, "path", str(out ? out->v.s : ""));
            set(s, "redis", str(rd ? rd->v.s : ""));
            set(s, "status", num(st ? st->v.i : 429));
            /* The generated snippet comes with the nginx integration. */
            set(s, "content", must(json_null()));
            push(a, s);
            break;
        }
        case TARGET_ENVOY:
        case TARGET_LIMITADOR: {
            /* The whole file: the runtime writes exactly these bytes, and
             * the plan's digest covers them. */
            const m_setting *out = tsetting(t, "output");
            char err[300];
            buf file;
            buf_init(&file, 0);
            s = step(t, "write_file");
            set(s, "path", str(out ? out->v.s : ""));
            if (emit_file(m, t, &file, err, sizeof err) && buf_ok(&file))
                set(s, "content", str(buf_str(&file)));
            else
                diag_add(d, DIAG_PLAN_WRITE, t->src->name.sp, "%s", err);
            buf_free(&file);
            push(a, s);
            break;
        }
        }
    }
    return a;
}

/* A concrete request path that a route pattern matches: each '*' segment
 * becomes "x". */
static char *route_example(const char *pattern)
{
    size_t n = strlen(pattern);
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        s[i] = pattern[i] == '*' ? 'x' : pattern[i];
    return s;
}

static void verify_cases(json_t *cases, const m_subject *tenant, const rule *rs, size_t n)
{
    size_t made = 0;
    json_t *seen = must(json_array());
    for (size_t i = 0; i < n && made < PLAN_VERIFY_PER_TENANT; i++) {
        const rule *r = &rs[i];
        json_t *c = must(json_object());
        set(c, "tenant", str(tenant->any ? VERIFY_VALUE : subject_name(tenant)));
        set(c, "path", path_json(r->subj));
        const char *method = "GET";
        char *route = NULL;
        if (r->route) {
            if (strcmp(r->route->method, "ANY") != 0)
                method = r->route->method;
            route = route_example(r->route->path);
        }
        set(c, "method", str(method));
        set(c, "route", str(route ? route : "/"));
        free(route);
        set(c, "cost", num(1));
        int64_t sends = r->capacity + 1;
        if (sends > PLAN_VERIFY_MAX_SENDS)
            sends = PLAN_VERIFY_MAX_SENDS;
        set(c, "sends", num(sends));
        set(c, "at_ms", num(0));
        /* Same request already planned for this tenant: skip it. */
        bool dup = false;
        size_t k;
        json_t *prev;
        json_array_foreach(seen, k, prev)
            if (json_equal(prev, c))
                dup = true;
        if (dup) {
            json_decref(c);
            continue;
        }
        push(seen, json_deep_copy(c));
        set(c, "expect", must(json_null()));
        push(cases, c);
        made++;
    }
    json_decref(seen);
}

/* ---- the whole plan ---- */

/* Appends to index the bucket of the n tenants from offset b0 of text to
 * its end: {"at", "len", "n", "sha256"} (SPEC.md 5.2). */
static void close_bucket(json_t *index, const buf *text, size_t b0, size_t n)
{
    char hex[DIGEST_HEX_LEN + 1];
    if (!buf_ok(text) || !plan_bucket_digest(text->data + b0, text->len - b0, hex))
        abort();
    push(index, must(json_pack("{s:I,s:I,s:I,s:s}", "at", (json_int_t)b0, "len",
                               (json_int_t)(text->len - b0), "n", (json_int_t)n, "sha256",
                               hex)));
}

/* plan_build, and with text set plan_build_text (see plan.h). */
static json_t *build(const m_policy *m, const program *p, const plan_opts *o, diag_list *d,
                     buf *text)
{
    size_t errors0 = d->nerrors;
    span where = m->src ? m->src->name.sp : span_none;
    bool rules_only = o && o->rules_only;
    if (!m->src && !rules_only)
        diag_add(d, DIAG_PLAN_NO_POLICY, span_none,
                 "a plan needs a policy block (policy \"NAME\" { ... }) to name it and its "
                 "key namespace");
    if (m->ntargets == 0 && !rules_only)
        diag_add(d, DIAG_PLAN_NO_TARGETS, where,
                 "the policy declares no target, so a plan would deploy nowhere "
                 "(add e.g. target redis \"primary\" { url = env(\"RLC_REDIS_URL\") })");
    json_t *lib = library_json(o, where, d);

    json_t *plan = must(json_object());
    set(plan, "format", num(PLAN_FORMAT));
    set(plan, "compiler", str(o && o->compiler ? o->compiler : "rlc unknown"));
    set(plan, "policy", policy_json(m));
    set(plan, "sources", sources_json(p));
    set(plan, "layout", layout_json(m));

    /* Tenants in name order, each with its rules in id order. */
    const m_subject **tenants = xcalloc(m->ntenants + 1, sizeof *tenants);
    /* qsort and memcpy want valid pointers even for zero elements, and a
     * policy without tenants, or a tenant without limits, has NULL arrays:
     * every sort here is skipped below two elements. */
    if (m->ntenants)
        memcpy(tenants, m->tenants, m->ntenants * sizeof *tenants);
    if (m->ntenants > 1)
        qsort(tenants, m->ntenants, sizeof *tenants, subject_cmp);
    json_t *tj = must(json_array());
    json_t *verify = must(json_array());
    size_t vstride = m->ntenants > PLAN_VERIFY_MAX_TENANTS
                         ? (m->ntenants + PLAN_VERIFY_MAX_TENANTS - 1) / PLAN_VERIFY_MAX_TENANTS
                         : 1;
    rules rs = {0};
    buf one;                     /* one tenant's canonical text */
    buf_init(&one, BUF_DEFAULT_MAX);
    /* The index of the tenants text (plan_digest.h): the bucket being
     * filled starts at offset b0 of text and holds bn tenants. */
    json_t *index = text ? must(json_array()) : NULL;
    size_t b0 = 1, bn = 0;
    if (text)
        buf_putc(text, '[');
    for (size_t i = 0; i < m->ntenants; i++) {
        const m_subject *t = tenants[i];
        /* {"name":..,"rules":[..],"tag":..,"version":..}: the rules are
         * written first into `one` after the name, so their digest (the
         * version) is taken over exactly the bytes of the array. */
        buf_reset(&one);
        buf_puts(&one, "{\"name\":");
        cj_str(&one, subject_name(t));
        buf_puts(&one, ",\"rules\":");
        char version[DIGEST_HEX_LEN + 1];
        rules_text(&one, &rs, t, d, version);
        buf_puts(&one, ",\"tag\":");
        char *tag = plan_key_tag(m->ns, subject_name(t));
        cj_str(&one, tag);
        free(tag);
        buf_puts(&one, ",\"version\":\"");
        buf_puts(&one, version);
        buf_puts(&one, "\"}");
        if (!buf_ok(&one))
            abort();
        bool verified = i % vstride == 0;
        /* A plan's tenants are alike: once a few are written, room for
         * all of them at their average size, plus a margin. */
        if (text && i == 64 && m->ntenants > 1024)
            buf_expect(text, text->len / 64 * (m->ntenants - 64) / 100 * 105);
        if (text) {
            if (bn && plan_bucket_cut(subject_name(t), bn)) {
                close_bucket(index, text, b0, bn);
                b0 = text->len + 1;
                bn = 0;
            }
            if (i)
                buf_putc(text, ',');
            buf_append(text, one.data, one.len);
            bn++;
        }
        /* A tree of the tenant: every tenant for rules_only callers, only
         * the verified ones (what predicting the cases reads) with text. */
        if (!text || verified) {
            json_error_t je;
            json_t *to = json_loadb(one.data, one.len, 0, &je);
            push(tj, to);
        }
        if (verified)
            verify_cases(verify, t, rs.v, rs.n);
    }
    if (text) {
        if (bn)
            close_bucket(index, text, b0, bn);
        buf_putc(text, ']');
        if (!buf_ok(text))
            abort();
        set(plan, "tenant_index", index);
    }
    if (m->any_tenant) {
        /* `tenant *`: {"rules":[..],"version":..}, like a tenant without
         * the name and tag it only gets from each request. */
        buf_reset(&one);
        buf_puts(&one, "{\"rules\":");
        char version[DIGEST_HEX_LEN + 1];
        rules_text(&one, &rs, m->any_tenant, d, version);
        buf_puts(&one, ",\"version\":\"");
        buf_puts(&one, version);
        buf_puts(&one, "\"}");
        if (!buf_ok(&one))
            abort();
        json_error_t je;
        set(plan, "tenant_template", must(json_loadb(one.data, one.len, 0, &je)));
        verify_cases(verify, m->any_tenant, rs.v, rs.n);
    }
    buf_free(&one);
    free(rs.v);
    free(tenants);
    set(plan, "tenants", tj);

    const m_target **ts = xcalloc(m->ntargets + 1, sizeof *ts);
    for (size_t i = 0; i < m->ntargets; i++)
        ts[i] = &m->targets[i];
    if (m->ntargets > 1)
        qsort(ts, m->ntargets, sizeof *ts, target_cmp);
    set(plan, "targets", targets_json(ts, m->ntargets, d));
    if (lib) {
        set(plan, "steps", steps_json(m, ts, m->ntargets, m->ntenants, lib,
                                      json_array_size(verify), d));
        set(plan, "library", lib);
    }
    free(ts);
    set(plan, "verify", verify);

    if (d->nerrors > errors0) {
        json_decref(plan);
        return NULL;
    }
    return plan;
}

json_t *plan_build(const m_policy *m, const program *p, const plan_opts *o, diag_list *d)
{
    return build(m, p, o, d, NULL);
}

json_t *plan_build_text(const m_policy *m, const program *p, const plan_opts *o, diag_list *d,
                        buf *tenants)
{
    return build(m, p, o, d, tenants);
}

/* ---- writing ---- */

static bool write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool write_parts(const char *const *parts, const size_t *lens, int n, const char *path,
                        char *err, size_t errlen);

bool plan_seal_write_text(json_t *plan, const buf *tenants, const char *path, char *err,
                          size_t errlen)
{
    /* Serialising a large plan takes long, so it is done once, and the
     * sealed text is that with the plan_digest member spliced in at its
     * sorted place (the digest leaves "tenants" out, so it is taken over
     * the tree first).  The top-level keys around it are "library" and "policy"; no
     * object before "policy" (compiler, format, layout, library) has a
     * "policy" key, and a string cannot contain an unescaped quote, so the
     * first ',"policy":' in the text is the top-level member.  With tenants
     * given as text, the tree is serialised with "tenants":[] and the text
     * goes in its place: "tenants" and "verify" are the last two top-level
     * keys, and no string holds '"tenants":[],"verify":', so its last
     * occurrence is the member. */
    json_object_del(plan, "plan_digest");
    char hex[DIGEST_HEX_LEN + 1];
    if (!plan_digest_compute(plan, hex)) {
        snprintf(err, errlen, "cannot seal the plan (out of memory)");
        return false;
    }
    json_t *keep = NULL;
    if (tenants) {
        keep = json_incref(json_object_get(plan, "tenants"));
        set(plan, "tenants", must(json_array()));
    }
    char *t0 = digest_canonical_json(plan);
    if (keep)
        set(plan, "tenants", keep);
    if (!t0) {
        snprintf(err, errlen, "cannot serialise the plan (out of memory)");
        return false;
    }
    size_t n0 = strlen(t0);
    const char *at = strstr(t0, ",\"policy\":");
    /* [cut, cut_end) of t0 is replaced by the tenants text. */
    size_t cut = n0, cut_end = n0;
    if (tenants) {
        static const char tk[] = ",\"tenants\":[],\"verify\":";
        const char *tp = NULL;
        for (const char *q = strstr(t0, tk); q; q = strstr(q + 1, tk))
            tp = q;
        if (!tp || (at && tp < at)) {
            free(t0);
            snprintf(err, errlen, "cannot seal the plan (no tenants member)");
            return false;
        }
        cut = (size_t)(tp - t0) + sizeof ",\"tenants\":" - 1;
        cut_end = cut + 2;
    }
    if (!at) {
        free(t0);
        snprintf(err, errlen, "cannot seal the plan (no policy member)");
        return false;
    }
    if (json_object_set_new(plan, "plan_digest", must(json_string(hex))) != 0)
        abort();
    char member[DIGEST_HEX_LEN + 32];
    int ml = snprintf(member, sizeof member, ",\"plan_digest\":\"%s\"", hex);
    size_t pre = (size_t)(at - t0);
    const char *parts[6] = {t0, member, at, tenants ? tenants->data : "", t0 + cut_end, "\n"};
    size_t lens[6] = {pre, (size_t)ml, cut - pre, tenants ? tenants->len : 0, n0 - cut_end, 1};
    bool ok = write_parts(parts, lens, 6, path, err, errlen);
    free(t0);
    return ok;
}

static bool write_each(int fd, const char *const *parts, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++)
        if (!write_all(fd, parts[i], lens[i]))
            return false;
    return true;
}

/* Writes the concatenation of parts to path atomically (file_write.h);
 * "-" is standard output. */
static bool write_parts(const char *const *parts, const size_t *lens, int n, const char *path,
                        char *err, size_t errlen)
{
    if (!strcmp(path, "-")) {
        if (write_each(STDOUT_FILENO, parts, lens, n))
            return true;
        snprintf(err, errlen, "cannot write the plan to standard output: %s", strerror(errno));
        return false;
    }
    char *msg;
    if (file_write_atomic(path, parts, lens, n, 0644, 0, &msg))
        return true;
    str_mark_cut(err, errlen, snprintf(err, errlen, "%s", msg));
    free(msg);
    return false;
}
