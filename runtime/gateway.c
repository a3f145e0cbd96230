/* gateway.c - etcd (and HTTP) config targets of a deploy.  See gateway.h
 * and SPEC.md 7.8.
 *
 * Each target keeps, per tenant entry, the value read before the deploy
 * (or its absence) and its revision; only entries whose bytes differ from
 * the plan's are checkpointed and written, so a re-apply costs O(changed)
 * writes.  Writes are conditional on the revision read, so a concurrent
 * writer makes the deploy fail and roll back instead of being overwritten
 * silently; a rollback restores the checkpointed bytes unconditionally (the
 * checkpoint is authoritative, as for Redis). */
#include "gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "digest.h"
#include "etcd.h"
#include "fault.h"
#include "gateway_private.h"
#include "redact.h"
#include "statedir.h"

/* --- names and settings -------------------------------------------------------- */

static const char *gw_kind_name(const gw_target *t)
{
    return t->kind == GW_HTTP ? "http" : t->kind == GW_NGINX ? "nginx" : "etcd";
}

/* Tenant names in keys and paths: every byte outside RFC 3986's unreserved
 * set as %XX (upper-case), so a name never adds a key level ("/") or
 * changes a URL's meaning ("?", "#"). */
char *gw_enc_name(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = '\0';
    return o;
}

bool gw_secret(const json_t *setting, char *out, size_t n, const char *what, rerr *e)
{
    out[0] = '\0';
    if (!setting)
        return true;
    if (json_is_string(setting)) {
        snprintf(out, n, "%s", json_string_value(setting));
        return true;
    }
    const char *v;
    if ((v = json_string_value(json_object_get(setting, "env")))) {
        const char *x = getenv(v);
        if (!x || !*x)
            return rerr_set(e, DIAG_SECRET, "environment variable %s (the %s) is not set", v,
                            what);
        snprintf(out, n, "%s", x);
        return true;
    }
    if ((v = json_string_value(json_object_get(setting, "file")))) {
        char *x = statedir_read(v, NULL);
        if (!x)
            return rerr_set(e, DIAG_SECRET, "cannot read the %s from %s: %s", what, v,
                            strerror(errno));
        x[strcspn(x, "\r\n")] = '\0';
        snprintf(out, n, "%s", x);
        memset(x, 0, strlen(x));
        free(x);
        return true;
    }
    return rerr_set(e, DIAG_SECRET, "the %s must be a string, {\"env\": VAR} or "
                                    "{\"file\": PATH}", what);
}

static int timeout_ms(const gw_target *t)
{
    int ms = 2000;
    json_t *to = json_object_get(json_object_get(t->desc, "settings"), "timeout_ms");
    if (json_is_integer(to) && json_integer_value(to) > 0)
        ms = (int)json_integer_value(to);
    const char *env = getenv("RLC_TIMEOUT_MS");
    if (env && atoi(env) > 0)
        ms = atoi(env);
    return ms;
}

static bool add_target(gateway *g, const json_t *desc, rerr *e)
{
    const char *kind = json_string_value(json_object_get(desc, "kind"));
    const char *name = json_string_value(json_object_get(desc, "name"));
    if (!kind || !name)
        return rerr_set(e, DIAG_PLAN_SHAPE, "a target lacks kind or name");
    if (strcmp(kind, "etcd") && strcmp(kind, "http") && strcmp(kind, "nginx"))
        return true;
    if (g->n == GW_MAX_TARGETS)
        return rerr_set(e, DIAG_PLAN_SHAPE, "more than %d etcd/http targets", GW_MAX_TARGETS);
    gw_target *t = &g->t[g->n++];
    t->kind = !strcmp(kind, "http") ? GW_HTTP : !strcmp(kind, "nginx") ? GW_NGINX : GW_ETCD;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->desc = json_pack("{s:s,s:s,s:O}", "name", name, "kind", kind, "settings",
                        json_object_get(desc, "settings") ?: json_object());
    if (json_object_get(desc, "endpoints"))
        json_object_set(t->desc, "endpoints", json_object_get(desc, "endpoints"));
    if (json_object_get(desc, "url"))
        json_object_set(t->desc, "url", json_object_get(desc, "url"));
    if (json_object_get(desc, "redis_target"))
        json_object_set(t->desc, "redis_target", json_object_get(desc, "redis_target"));
    const char *pf = json_string_value(json_object_get(json_object_get(desc, "settings"),
                                                       "prefix"));
    snprintf(t->base, sizeof t->base, "%s%s/", pf ? pf : "/rlc/", g->ns);
    return true;
}

static gateway *make(const json_t *descs, const char *ns, rerr *e)
{
    gateway *g = calloc(1, sizeof *g);
    snprintf(g->ns, sizeof g->ns, "%s", ns ? ns : "rl");
    size_t i;
    json_t *d;
    json_array_foreach(descs, i, d) {
        if (!add_target(g, d, e)) {
            gateway_free(g);
            return NULL;
        }
    }
    return g;
}

gateway *gateway_from_plan(const json_t *plan, const char *ns, rerr *e)
{
    return make(json_object_get(plan, "targets"), ns, e);
}

gateway *gateway_from_record(const json_t *descs, const char *ns, rerr *e)
{
    return make(descs, ns, e);
}

gateway *gateway_from_targets(const json_t *chosen, const json_t *all, const char *ns,
                              rerr *e)
{
    /* An nginx target's snippet calls a redis target: its url and password
     * settings travel with the nginx target's description. */
    json_t *descs = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(chosen, i, d) {
        json_t *c = json_copy(d);
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const char *rn = json_string_value(json_object_get(json_object_get(d, "settings"),
                                                           "redis"));
        size_t k;
        json_t *o;
        json_array_foreach(all, k, o)
            if (kind && !strcmp(kind, "nginx") && rn &&
                !strcmp(json_string_value(json_object_get(o, "name")) ?: "", rn))
                json_object_set(c, "redis_target", json_object_get(o, "settings"));
        json_array_append_new(descs, c);
    }
    gateway *g = make(descs, ns, e);
    json_decref(descs);
    return g;
}

static void entries_free(gw_target *t)
{
    for (size_t i = 0; i < t->nent; i++) {
        free(t->ent[i].tenant);
        free(t->ent[i].key);
        free(t->ent[i].newval);
        free(t->ent[i].oldval);
        free(t->ent[i].oldtag);
    }
    free(t->ent);
    t->ent = NULL;
    t->nent = 0;
    free(t->state_old);
    t->state_old = NULL;
}

void gateway_free(gateway *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        entries_free(&g->t[i]);
        etcd_close(g->t[i].ec);
        httpc_free(g->t[i].hc);
        memset(g->t[i].token, 0, sizeof g->t[i].token);
        memset(g->t[i].url, 0, sizeof g->t[i].url);
        json_decref(g->t[i].desc);
    }
    free(g);
}

size_t gateway_count(const gateway *g)
{
    return g ? g->n : 0;
}

bool gateway_has_lockable(const gateway *g)
{
    for (size_t i = 0; g && i < g->n; i++)
        if (g->t[i].kind == GW_ETCD)
            return true;
    return false;
}

bool gateway_override(gateway *g, const char *name, size_t namelen, const char *spec,
                      bool *found, rerr *e)
{
    *found = false;
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (strlen(t->name) != namelen || strncmp(t->name, name, namelen))
            continue;
        *found = true;
        if (t->kind == GW_NGINX)
            return rerr_set(e, DIAG_STORE_URL, "--target %s: an nginx target has no address to "
                            "override (its snippet calls its redis target)", t->name);
        if (strncmp(spec, "http://", 7) && strncmp(spec, "https://", 8)) {
            char *shown = url_redact(spec);
            rerr_set(e, DIAG_STORE_URL, "--target %s: an %s target takes a URL "
                     "(http://host:port...), got '%s'", t->name,
                     t->kind == GW_HTTP ? "http" : "etcd", shown);
            free(shown);
            return false;
        }
        if (strchr(spec, '@'))
            return rerr_set(e, DIAG_STORE_URL, "--target %s: no credentials on the command line "
                            "(the process list shows them)", t->name);
        if (t->kind == GW_HTTP)
            json_object_set_new(t->desc, "url", json_string(spec));
        else
            json_object_set_new(t->desc, "endpoints", json_pack("[s]", spec));
    }
    return true;
}

json_t *gateway_descs(const gateway *g)
{
    json_t *a = json_array();
    for (size_t i = 0; g && i < g->n; i++)
        json_array_append(a, g->t[i].desc);
    return a;
}

static void endpoints_of(const gw_target *t, const char **out, size_t *n, char store[][512],
                         rerr *e, bool *ok)
{
    *n = 0;
    *ok = true;
    json_t *eps = json_object_get(t->desc, "endpoints");
    if (!eps)
        eps = json_object_get(json_object_get(t->desc, "settings"), "endpoints");
    size_t i;
    json_t *ep;
    json_array_foreach(eps, i, ep) {
        if (*n == 16)
            break;
        if (!gw_secret(ep, store[*n], 512, "etcd endpoint", e)) {
            *ok = false;
            return;
        }
        out[*n] = store[*n];
        (*n)++;
    }
}

json_t *gateway_names(const gateway *g)
{
    json_t *a = json_array();
    for (size_t i = 0; g && i < g->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", g->t[i].name, "address",
                                           g->t[i].kind == GW_HTTP ? g->t[i].shown
                                                                   : g->t[i].addr));
    return a;
}

bool gateway_connect(gateway *g, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->ec || t->hc)
            continue;
        if (t->kind == GW_HTTP) {
            if (!gwh_connect(t, e))
                return false;
            continue;
        }
        if (t->kind == GW_NGINX) {
            snprintf(t->addr, sizeof t->addr, "%s", json_string_value(json_object_get(
                         json_object_get(t->desc, "settings"), "output")) ?: "?");
            continue;
        }
        const char *eps[16];
        char store[16][512];
        size_t n;
        bool ok;
        endpoints_of(t, eps, &n, store, e, &ok);
        if (!ok) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        t->addr[0] = '\0';
        for (size_t k = 0; k < n; k++)
            snprintf(t->addr + strlen(t->addr), sizeof t->addr - strlen(t->addr), "%s%s",
                     k ? "," : "", eps[k]);
        json_t *st = json_object_get(t->desc, "settings");
        char user[256], pass[512];
        if (!gw_secret(json_object_get(st, "username"), user, sizeof user, "etcd user", e) ||
            !gw_secret(json_object_get(st, "password"), pass, sizeof pass, "etcd password", e)) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        t->ec = etcd_open(eps, n, user, pass, timeout_ms(t), e);
        memset(pass, 0, sizeof pass);
        if (!t->ec) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
    }
    return true;
}

bool gateway_preflight(gateway *g, json_t *report, rerr *e)
{
    json_t *a = json_array();
    json_object_set_new(report, "gateways", a);
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        long long t0 = statedir_now_ms();
        if (t->kind == GW_HTTP     ? !gwh_health(t, e)
            : t->kind == GW_NGINX ? !gwn_health(t, e)
                                  : !etcd_health(t->ec, e)) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I}", "target", t->name, "kind",
                                           gw_kind_name(t), "endpoint",
                                           t->kind == GW_HTTP    ? t->shown
                                           : t->kind == GW_NGINX ? t->addr
                                                                 : etcd_endpoint(t->ec),
                                           "rtt_ms", (json_int_t)(statedir_now_ms() - t0)));
    }
    return true;
}

/* --- reading --------------------------------------------------------------------- */

/* Every key under prefix, page by page (1000 keys a request). */
static bool range_all(etcd *ec, const char *prefix, etcd_kvs *all, rerr *e)
{
    memset(all, 0, sizeof *all);
    char *end = etcd_prefix_end(prefix);
    char *from = strdup(prefix);
    bool ok = true;
    for (;;) {
        etcd_kvs page;
        if (!(ok = etcd_range(ec, from, end, 1000, &page, e)))
            break;
        etcd_kv *nv = realloc(all->v, (all->n + page.n + 1) * sizeof *nv);
        if (page.n)     /* an empty page has no array: memcpy wants non-NULL */
            memcpy(nv + all->n, page.v, page.n * sizeof *nv);
        all->v = nv;
        all->n += page.n;
        bool more = page.more && page.n;
        if (more) {
            /* Continue just after the last key: key + "\0". */
            const etcd_kv *last = &all->v[all->n - 1];
            free(from);
            from = malloc(last->keylen + 2);
            memcpy(from, last->key, last->keylen);
            from[last->keylen] = '\0';
            /* the JSON layer sends C strings, so append the smallest byte
             * that is allowed: 0x01 (keys here never hold NUL) */
            from[last->keylen] = '\x01';
            from[last->keylen + 1] = '\0';
        }
        free(page.v);
        if (!more)
            break;
    }
    free(from);
    free(end);
    return ok;
}

char *gw_config_text(const json_t *tenant)
{
    json_t *c = json_pack("{s:O,s:O,s:O}", "name", json_object_get(tenant, "name"), "version",
                          json_object_get(tenant, "version"), "rules",
                          json_object_get(tenant, "rules"));
    char *s = digest_canonical_json(c);
    json_decref(c);
    return s;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const gw_entry *)a)->key, ((const gw_entry *)b)->key);
}

void gw_sort_entries(gw_target *t)
{
    if (t->nent > 1)
        qsort(t->ent, t->nent, sizeof *t->ent, cmp_entry);
}

static bool read_target(gw_target *t, const json_t *tenants, rerr *e)
{
    entries_free(t);
    char tp[700];
    snprintf(tp, sizeof tp, "%stenants/", t->base);
    etcd_kvs live;
    if (!range_all(t->ec, tp, &live, e)) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    /* live keys by name -> index */
    json_t *idx = json_object();
    for (size_t i = 0; i < live.n; i++)
        json_object_set_new(idx, live.v[i].key, json_integer((json_int_t)i));
    t->ent = calloc(json_array_size(tenants) + live.n + 1, sizeof *t->ent);
    size_t i;
    json_t *tj;
    json_array_foreach(tenants, i, tj) {
        gw_entry *x = &t->ent[t->nent++];
        const char *name = json_string_value(json_object_get(tj, "name"));
        char *en = gw_enc_name(name ? name : "");
        x->tenant = strdup(name ? name : "");
        size_t kl = strlen(tp) + strlen(en) + 1;
        x->key = malloc(kl);
        snprintf(x->key, kl, "%s%s", tp, en);
        free(en);
        x->newval = gw_config_text(tj);
        x->newlen = strlen(x->newval);
        json_t *li = json_object_get(idx, x->key);
        if (li) {
            etcd_kv *kv = &live.v[json_integer_value(li)];
            x->oldval = kv->val;
            x->oldlen = kv->vallen;
            x->oldrev = kv->mod_rev;
            kv->val = NULL;
            json_object_del(idx, x->key);
        }
        x->changed = !x->oldval || x->oldlen != x->newlen ||
                     memcmp(x->oldval, x->newval, x->newlen);
    }
    /* Left in idx: tenants the plan drops. */
    const char *k;
    json_t *li;
    json_object_foreach(idx, k, li) {
        etcd_kv *kv = &live.v[json_integer_value(li)];
        gw_entry *x = &t->ent[t->nent++];
        json_t *vj = json_loadb(kv->val, kv->vallen, 0, NULL);
        const char *nm = json_string_value(json_object_get(vj, "name"));
        x->tenant = strdup(nm ? nm : k + strlen(tp));
        json_decref(vj);
        x->key = strdup(k);
        x->oldval = kv->val;
        x->oldlen = kv->vallen;
        x->oldrev = kv->mod_rev;
        kv->val = NULL;
        x->changed = true;
    }
    json_decref(idx);
    etcd_kvs_free(&live);
    gw_sort_entries(t);
    /* The applied state. */
    char sk[700];
    snprintf(sk, sizeof sk, "%sdeploy/state", t->base);
    etcd_kvs st;
    if (!etcd_range(t->ec, sk, NULL, 0, &st, e)) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    if (st.n) {
        t->state_old = st.v[0].val;
        t->state_oldlen = st.v[0].vallen;
        t->state_rev = st.v[0].mod_rev;
        st.v[0].val = NULL;
    }
    etcd_kvs_free(&st);
    t->have_read = true;
    return true;
}

bool gateway_read(gateway *g, const json_t *plan, const json_t *tenants, size_t *nchanged,
                  size_t *nremoved, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->kind == GW_HTTP     ? !gwh_read(t, tenants, e)
            : t->kind == GW_NGINX ? !gwn_read(t, plan, e)
                                  : !read_target(t, tenants, e))
            return false;
        for (size_t m = 0; m < g->t[i].nent; m++) {
            if (nchanged)
                *nchanged += g->t[i].ent[m].changed && g->t[i].ent[m].newval;
            if (nremoved)
                *nremoved += g->t[i].ent[m].changed && !g->t[i].ent[m].newval;
        }
    }
    return true;
}

/* "version" of a config text, or NULL. */
static json_t *version_of(const char *val, size_t len)
{
    if (!val)
        return json_null();
    json_t *j = json_loadb(val, len, 0, NULL);
    json_t *v = json_incref(json_object_get(j, "version"));
    json_decref(j);
    return v ? v : json_string("(not an rlc config)");
}

json_t *gateway_changes(const gateway *g)
{
    json_t *a = json_array();
    for (size_t i = 0; g && i < g->n; i++)
        for (size_t m = 0; m < g->t[i].nent; m++) {
            const gw_entry *x = &g->t[i].ent[m];
            if (!x->changed)
                continue;
            json_t *to = x->newval ? version_of(x->newval, x->newlen) : json_null();
            json_array_append_new(a, json_pack("{s:s,s:s,s:o,s:o}", "target", g->t[i].name,
                                               "tenant", x->tenant, "from",
                                               version_of(x->oldval, x->oldlen), "to", to));
        }
    return a;
}

/* --- checkpoint ------------------------------------------------------------------ */

bool gw_ck_entry(const gw_target *t, const json_t *entry, const char **key, char **val,
                 size_t *len, rerr *e)
{
    *key = json_string_value(json_object_get(entry, "k"));
    const char *v64 = json_string_value(json_object_get(entry, "v64"));
    *val = NULL;
    *len = 0;
    if (!*key)
        return rerr_set(e, DIAG_CHECKPOINT, "a checkpoint entry of %s lacks its key", t->name);
    if (v64 && !(*val = etcd_unbase64(v64, len)))
        return rerr_set(e, DIAG_CHECKPOINT, "checkpoint value of %s is not base64", *key);
    return true;
}

static json_t *b64_or_null(const char *p, size_t n)
{
    if (!p)
        return json_null();
    char *s = etcd_base64(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

json_t *gateway_checkpoint(const gateway *g)
{
    json_t *a = json_array();
    for (size_t i = 0; g && i < g->n; i++) {
        const gw_target *t = &g->t[i];
        json_t *keys = json_array();
        for (size_t m = 0; m < t->nent; m++)
            if (t->ent[m].changed) {
                json_t *k = json_pack("{s:s,s:o,s:I}", "k", t->ent[m].key, "v64",
                                      b64_or_null(t->ent[m].oldval, t->ent[m].oldlen), "rev",
                                      (json_int_t)t->ent[m].oldrev);
                if (t->ent[m].oldtag)
                    json_object_set_new(k, "etag", json_string(t->ent[m].oldtag));
                json_array_append_new(keys, k);
            }
        if (t->kind != GW_ETCD) {
            json_array_append_new(a, json_pack("{s:O,s:o}", "target", t->desc, "keys", keys));
            continue;
        }
        char sk[700];
        snprintf(sk, sizeof sk, "%sdeploy/state", t->base);
        json_array_append_new(keys, json_pack("{s:s,s:o,s:I}", "k", sk, "v64",
                                              b64_or_null(t->state_old, t->state_oldlen), "rev",
                                              (json_int_t)t->state_rev));
        json_array_append_new(a, json_pack("{s:O,s:o}", "target", t->desc, "keys", keys));
    }
    return a;
}

/* --- writing ------------------------------------------------------------------- */

/* After a failed conditional txn: which key moved, for the message. */
static void name_conflict(gw_target *t, const etcd_cmp *cmps, size_t n, rerr *e)
{
    etcd_op *rs = calloc(n, sizeof *rs);
    for (size_t i = 0; i < n; i++)
        rs[i] = (etcd_op){.kind = ETCD_OP_RANGE, .key = cmps[i].key};
    bool okc;
    etcd_kvs got = {0};
    rerr te;
    const char *which = NULL;
    long long now = 0, was = 0;
    if (etcd_txn(t->ec, NULL, 0, rs, n, NULL, 0, &okc, NULL, &got, &te)) {
        for (size_t i = 0; i < n && !which; i++) {
            long long cur = 0;
            for (size_t k = 0; k < got.n; k++)
                if (!strcmp(got.v[k].key, cmps[i].key))
                    cur = got.v[k].mod_rev;
            if (cur != cmps[i].rev) {
                which = cmps[i].key;
                now = cur;
                was = cmps[i].rev;
            }
        }
    }
    if (which)
        rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s (etcd %s): key %s changed since the "
                 "checkpoint (mod_revision %lld, read as %lld): another writer is at work",
                 t->name, etcd_endpoint(t->ec), which, now, was);
    else
        rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s (etcd %s): a key of the deploy changed "
                 "since the checkpoint: another writer is at work", t->name,
                 etcd_endpoint(t->ec));
    etcd_kvs_free(&got);
    free(rs);
}

/* Writes ops (with compares when cmps is not NULL) in transactions of at
 * most ETCD_MAX_TXN_OPS operations and GW_TXN_MAX_BYTES of values. */
static bool write_batches(gateway *g, gw_target *t, const etcd_op *ops, const etcd_cmp *cmps,
                          size_t n, bool faults, size_t *written, rerr *e)
{
    size_t at = 0;
    while (at < n) {
        size_t k = 0, bytes = 0;
        while (at + k < n && k < ETCD_MAX_TXN_OPS &&
               (k == 0 || bytes + ops[at + k].vallen <= GW_TXN_MAX_BYTES))
            bytes += ops[at + k++].vallen;
        if (faults && !fault_point("apply.gateway", e))
            return false;
        if (g && g->held && !gateway_keepalive(g, false, e))
            return false;
        bool succeeded;
        long long rev;
        if (!etcd_txn(t->ec, cmps ? cmps + at : NULL, cmps ? k : 0, ops + at, k, NULL, 0,
                      &succeeded, &rev, NULL, e)) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        if (!succeeded) {
            name_conflict(t, cmps + at, k, e);
            return false;
        }
        if (written)
            *written += k;
        at += k;
    }
    return true;
}

bool gateway_apply(gateway *g, size_t *written, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->kind != GW_ETCD) {
            if (t->kind == GW_HTTP ? !gwh_apply(t, written, e) : !gwn_apply(t, written, e))
                return false;
            continue;
        }
        size_t n = 0;
        for (size_t m = 0; m < t->nent; m++)
            n += t->ent[m].changed;
        etcd_op *ops = calloc(n + 1, sizeof *ops);
        etcd_cmp *cmps = calloc(n + 1, sizeof *cmps);
        size_t j = 0;
        for (size_t m = 0; m < t->nent; m++) {
            gw_entry *x = &t->ent[m];
            if (!x->changed)
                continue;
            cmps[j] = (etcd_cmp){.key = x->key, .target = ETCD_CMP_MOD, .rev = x->oldrev};
            ops[j++] = x->newval ? (etcd_op){.kind = ETCD_OP_PUT, .key = x->key,
                                             .val = x->newval, .vallen = x->newlen}
                                 : (etcd_op){.kind = ETCD_OP_DELETE, .key = x->key};
        }
        bool ok = write_batches(g, t, ops, cmps, n, true, written, e);
        free(ops);
        free(cmps);
        if (!ok)
            return false;
    }
    return true;
}

bool gateway_verify(gateway *g, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->kind != GW_ETCD) {
            if (t->kind == GW_HTTP ? !gwh_verify(t, e) : !gwn_verify(t, e))
                return false;
            continue;
        }
        size_t m = 0;
        while (m < t->nent) {
            etcd_op rs[ETCD_MAX_TXN_OPS];
            gw_entry *xs[ETCD_MAX_TXN_OPS];
            size_t k = 0;
            for (; m < t->nent && k < ETCD_MAX_TXN_OPS; m++)
                if (t->ent[m].changed) {
                    xs[k] = &t->ent[m];
                    rs[k++] = (etcd_op){.kind = ETCD_OP_RANGE, .key = t->ent[m].key};
                }
            if (!k)
                break;
            bool okc;
            etcd_kvs got;
            if (!etcd_txn(t->ec, NULL, 0, rs, k, NULL, 0, &okc, NULL, &got, e)) {
                rerr_prefix(e, "target %s", t->name);
                return false;
            }
            for (size_t a = 0; a < k; a++) {
                const etcd_kv *kv = NULL;
                for (size_t b = 0; b < got.n; b++)
                    if (!strcmp(got.v[b].key, xs[a]->key))
                        kv = &got.v[b];
                bool same = xs[a]->newval ? kv && kv->vallen == xs[a]->newlen &&
                                                !memcmp(kv->val, xs[a]->newval, kv->vallen)
                                          : !kv;
                if (!same) {
                    rerr_set(e, DIAG_GATEWAY_VERIFY, "target %s (etcd %s): key %s reads back "
                             "%s, not what was written", t->name, etcd_endpoint(t->ec),
                             xs[a]->key, kv ? "a different value" : "as absent");
                    etcd_kvs_free(&got);
                    return false;
                }
            }
            etcd_kvs_free(&got);
        }
    }
    return true;
}

/* {"plan": digest, "tenants": {name: version}} of the plan just applied. */
/* {"plan": DIGEST, "tenants": N, "versions": SHA-256 of the canonical
 * {name: version} map} of the plan just applied.  A digest, not the map:
 * the map of 100 000 tenants (8 MB) would not fit etcd's 1.5 MiB request
 * limit; `rlc status PLAN` names the tenants that differ. */
static json_t *versions_of_entries(const gw_target *t)
{
    json_t *m = json_object();
    for (size_t i = 0; i < t->nent; i++)
        if (t->ent[i].newval)
            json_object_set_new(m, t->ent[i].tenant,
                                version_of(t->ent[i].newval, t->ent[i].newlen));
    return m;
}

static char *state_text(const gw_target *t, const char *digest)
{
    json_t *m = versions_of_entries(t);
    char hex[DIGEST_HEX_LEN + 1];
    digest_json_hex(m, hex);
    json_t *s = json_pack("{s:s,s:I,s:s}", "plan", digest, "tenants",
                          (json_int_t)json_object_size(m), "versions", hex);
    json_decref(m);
    char *text = digest_canonical_json(s);
    json_decref(s);
    return text;
}

bool gateway_commit(gateway *g, const char *plan_digest, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->kind != GW_ETCD)
            continue;   /* no applied-state resource in an HTTP API (7.9) or nginx */
        char sk[700];
        snprintf(sk, sizeof sk, "%sdeploy/state", t->base);
        char *text = state_text(t, plan_digest);
        etcd_cmp c = {.key = sk, .target = ETCD_CMP_MOD, .rev = t->state_rev};
        etcd_op o = {.kind = ETCD_OP_PUT, .key = sk, .val = text, .vallen = strlen(text)};
        bool ok = write_batches(g, t, &o, &c, 1, false, NULL, e);
        free(text);
        if (!ok)
            return false;
    }
    return true;
}

bool gateway_restore(gateway *g, const json_t *ck_gateways, rerr *e)
{
    size_t i;
    json_t *ct;
    json_array_foreach(ck_gateways, i, ct) {
        const char *name = json_string_value(json_object_get(json_object_get(ct, "target"),
                                                             "name"));
        gw_target *t = NULL;
        for (size_t m = 0; g && m < g->n; m++)
            if (name && !strcmp(g->t[m].name, name))
                t = &g->t[m];
        if (!t)
            return rerr_set(e, DIAG_CHECKPOINT, "the checkpoint names target %s, which is not "
                            "in this deploy", name ? name : "?");
        json_t *keys = json_object_get(ct, "keys");
        if (t->kind != GW_ETCD) {
            if (t->kind == GW_HTTP ? !gwh_restore(t, keys, e) : !gwn_restore(t, keys, e))
                return false;
            continue;
        }
        size_t n = json_array_size(keys);
        etcd_op *ops = calloc(n + 1, sizeof *ops);
        char **vals = calloc(n + 1, sizeof *vals);
        size_t k;
        json_t *kj;
        bool ok = true;
        json_array_foreach(keys, k, kj) {
            const char *key;
            size_t vl;
            if (!(ok = gw_ck_entry(t, kj, &key, &vals[k], &vl, e)))
                break;
            ops[k] = vals[k] ? (etcd_op){.kind = ETCD_OP_PUT, .key = key, .val = vals[k],
                                         .vallen = vl}
                             : (etcd_op){.kind = ETCD_OP_DELETE, .key = key};
        }
        if (ok)
            ok = write_batches(NULL, t, ops, NULL, n, false, NULL, e);
        for (k = 0; k < n; k++)
            free(vals[k]);
        free(vals);
        free(ops);
        if (!ok)
            return false;
    }
    return true;
}

char *gateway_live_plan(gateway *g, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        if (t->kind != GW_ETCD)
            continue;
        char sk[700];
        snprintf(sk, sizeof sk, "%sdeploy/state", t->base);
        etcd_kvs st;
        if (!etcd_range(t->ec, sk, NULL, 0, &st, e))
            return NULL;
        json_t *j = st.n ? json_loadb(st.v[0].val, st.v[0].vallen, 0, NULL) : NULL;
        etcd_kvs_free(&st);
        const char *p = json_string_value(json_object_get(j, "plan"));
        char *out = p ? strdup(p) : NULL;
        json_decref(j);
        if (out)
            return out;
    }
    return NULL;
}

void gateway_anchor(gateway *g, const char *head)
{
    for (size_t i = 0; g && i < g->n; i++) {
        char k[700];
        snprintf(k, sizeof k, "%saudit/head", g->t[i].base);
        rerr te;
        if (g->t[i].ec)
            etcd_put(g->t[i].ec, k, head, strlen(head), 0, &te);
    }
}

/* --- lock ------------------------------------------------------------------------ */

static int lock_ttl_ms(void)
{
    const char *v = getenv("RLC_LOCK_TTL_MS");
    int t = v ? atoi(v) : 0;
    return t > 0 ? t : 30000;
}

static gw_target *lock_target(gateway *g)
{
    for (size_t i = 0; g && i < g->n; i++)
        if (g->t[i].kind == GW_ETCD)
            return &g->t[i];
    return NULL;
}

static void describe_holder(const char *val, size_t len, char *out, size_t n)
{
    const char *bar = memchr(val, '|', len);
    json_t *j = bar ? json_loadb(bar + 1, len - (size_t)(bar + 1 - val), 0, NULL) : NULL;
    if (!j) {
        snprintf(out, n, "an unknown holder (value '%.60s')", val);
        return;
    }
    long long since = json_integer_value(json_object_get(j, "since_ms"));
    snprintf(out, n, "%s@%s pid %lld, run %s, taken %.1f s ago",
             json_string_value(json_object_get(j, "user")) ?: "?",
             json_string_value(json_object_get(j, "host")) ?: "?",
             (long long)json_integer_value(json_object_get(j, "pid")),
             json_string_value(json_object_get(j, "run")) ?: "?",
             since ? (double)(statedir_now_ms() - since) / 1000.0 : -1.0);
    json_decref(j);
}

bool gateway_lock(gateway *g, const char *run_id, const char *token, rerr *e)
{
    gw_target *t = lock_target(g);
    if (!t)
        return true;
    g->lt = t;
    snprintf(g->lkey, sizeof g->lkey, "%sdeploy/lock", t->base);
    snprintf(g->token, sizeof g->token, "%s", token);
    g->ttl_ms = lock_ttl_ms();
    long long ttl_s = (g->ttl_ms + 999) / 1000;
    if (!etcd_lease_grant(t->ec, ttl_s, &g->lease, e)) {
        rerr_prefix(e, "target %s: deploy lock", t->name);
        return false;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    const char *user = getenv("USER");
    json_t *h = json_pack("{s:s,s:s,s:I,s:s,s:I}", "user", user ? user : "?", "host", host,
                          "pid", (json_int_t)getpid(), "run", run_id, "since_ms",
                          (json_int_t)statedir_now_ms());
    char *hj = digest_canonical_json(h);
    json_decref(h);
    size_t vl = strlen(token) + 1 + strlen(hj) + 1;
    char *val = malloc(vl);
    snprintf(val, vl, "%s|%s", token, hj);
    free(hj);
    /* Put only if the key does not exist (create_revision 0); else read it
     * to name the holder. */
    etcd_cmp c = {.key = g->lkey, .target = ETCD_CMP_CREATE, .rev = 0};
    etcd_op put = {.kind = ETCD_OP_PUT, .key = g->lkey, .val = val, .vallen = strlen(val),
                   .lease = g->lease};
    etcd_op get = {.kind = ETCD_OP_RANGE, .key = g->lkey};
    bool won;
    etcd_kvs cur;
    bool ok = etcd_txn(t->ec, &c, 1, &put, 1, &get, 1, &won, NULL, &cur, e);
    free(val);
    if (!ok) {
        rerr te;
        etcd_lease_revoke(t->ec, g->lease, &te);
        rerr_prefix(e, "target %s: deploy lock", t->name);
        return false;
    }
    if (!won) {
        char who[600] = "a holder that just released it";
        if (cur.n)
            describe_holder(cur.v[0].val, cur.v[0].vallen, who, sizeof who);
        etcd_kvs_free(&cur);
        rerr te;
        etcd_lease_revoke(t->ec, g->lease, &te);
        return rerr_set(e, DIAG_LOCK_HELD, "deploy lock %s on etcd %s is held by %s", g->lkey,
                        etcd_endpoint(t->ec), who);
    }
    etcd_kvs_free(&cur);
    g->held = true;
    g->renewed_ms = statedir_now_ms();
    return true;
}

bool gateway_keepalive(gateway *g, bool force, rerr *e)
{
    if (!g || !g->held)
        return true;
    long long now = statedir_now_ms();
    if (!force && now - g->renewed_ms < g->ttl_ms / 3)
        return true;
    long long ttl;
    if (!etcd_lease_keepalive(g->lt->ec, g->lease, &ttl, e)) {
        rerr_prefix(e, "target %s: renewing the deploy lock", g->lt->name);
        return false;
    }
    if (ttl <= 0) {
        g->held = false;
        return rerr_set(e, DIAG_LOCK_LOST, "deploy lock %s on etcd %s: its lease expired or "
                        "was revoked", g->lkey, etcd_endpoint(g->lt->ec));
    }
    if (force) {
        /* The key must still be ours (someone may have deleted it). */
        etcd_kvs cur;
        if (!etcd_range(g->lt->ec, g->lkey, NULL, 0, &cur, e))
            return false;
        size_t tl = strlen(g->token);
        bool mine = cur.n && cur.v[0].vallen > tl && !memcmp(cur.v[0].val, g->token, tl) &&
                    cur.v[0].val[tl] == '|';
        etcd_kvs_free(&cur);
        if (!mine) {
            g->held = false;
            return rerr_set(e, DIAG_LOCK_LOST, "deploy lock %s on etcd %s was deleted or taken "
                            "by another run", g->lkey, etcd_endpoint(g->lt->ec));
        }
    }
    g->renewed_ms = now;
    return true;
}

void gateway_unlock(gateway *g)
{
    if (!g || !g->held)
        return;
    rerr te;
    etcd_lease_revoke(g->lt->ec, g->lease, &te);
    g->held = false;
}

bool gateway_unlock_token(gateway *g, const char *token, rerr *e)
{
    gw_target *t = lock_target(g);
    if (!t || !token)
        return true;
    char k[700];
    snprintf(k, sizeof k, "%sdeploy/lock", t->base);
    etcd_kvs cur;
    if (!etcd_range(t->ec, k, NULL, 0, &cur, e))
        return false;
    size_t tl = strlen(token);
    bool ok = true;
    if (cur.n && cur.v[0].vallen > tl && !memcmp(cur.v[0].val, token, tl) &&
        cur.v[0].val[tl] == '|')
        ok = cur.v[0].lease ? etcd_lease_revoke(t->ec, cur.v[0].lease, e)
                            : etcd_delete(t->ec, k, NULL, e);
    etcd_kvs_free(&cur);
    return ok;
}

json_t *gateway_lock_holder(gateway *g, rerr *e)
{
    gw_target *t = lock_target(g);
    if (!t)
        return NULL;
    char k[700];
    snprintf(k, sizeof k, "%sdeploy/lock", t->base);
    etcd_kvs cur;
    if (!etcd_range(t->ec, k, NULL, 0, &cur, e))
        return NULL;
    json_t *j = NULL;
    if (cur.n) {
        const char *bar = memchr(cur.v[0].val, '|', cur.v[0].vallen);
        j = bar ? json_loads(bar + 1, 0, NULL) : NULL;
        if (!j)
            j = json_object();
        json_object_set_new(j, "key", json_string(k));
    }
    etcd_kvs_free(&cur);
    return j;
}

/* --- diff and status --------------------------------------------------------------- */

static json_t *rules_by_id(const char *val, size_t len)
{
    json_t *m = json_object();
    json_t *j = val ? json_loadb(val, len, 0, NULL) : NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "rules"), i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id)
            json_object_set(m, id, r);
    }
    json_decref(j);
    return m;
}

/* A diff item in the shape exec.c's Redis diff uses: id, kind, subject,
 * counter, and was/now as text. */
static json_t *diff_item(const char *id, const json_t *was, const json_t *now)
{
    const json_t *r = now ? now : was;
    char subj[512] = "";
    size_t i;
    json_t *el;
    json_array_foreach(json_object_get(r, "path"), i, el) {
        if (i == 0)
            continue;
        snprintf(subj + strlen(subj), sizeof subj - strlen(subj), "%s%s:%s", i > 1 ? "/" : "",
                 json_string_value(json_object_get(el, "kind")) ?: "?",
                 json_string_value(json_object_get(el, "name")) ?: "?");
    }
    json_t *route = json_object_get(r, "route");
    if (json_is_object(route))
        snprintf(subj + strlen(subj), sizeof subj - strlen(subj), "%s%s %s",
                 subj[0] ? " " : "", json_string_value(json_object_get(route, "method")) ?: "",
                 json_string_value(json_object_get(route, "path")) ?: "");
    json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "kind",
                          json_string_value(json_object_get(r, "kind")) ?: "?", "subject",
                          subj[0] ? subj : "(tenant)", "counter",
                          "none here (this target holds config only)");
    if (was) {
        char *t = digest_canonical_json(was);
        json_object_set_new(d, "was", json_string(t));
        free(t);
    }
    if (now) {
        char *t = digest_canonical_json(now);
        json_object_set_new(d, "now", json_string(t));
        free(t);
    }
    return d;
}

void gateway_diff(const gateway *g, const json_t *plan, json_t *out)
{
    (void)plan;
    for (size_t i = 0; g && i < g->n; i++)
        for (size_t m = 0; m < g->t[i].nent; m++) {
            const gw_entry *x = &g->t[i].ent[m];
            if (!x->changed)
                continue;
            json_t *old = rules_by_id(x->oldval, x->oldlen);
            json_t *neu = rules_by_id(x->newval, x->newlen);
            json_t *added = json_array(), *removed = json_array(), *changed = json_array();
            size_t same = 0;
            const char *id;
            json_t *r;
            json_object_foreach(neu, id, r) {
                json_t *o = json_object_get(old, id);
                if (!o)
                    json_array_append_new(added, diff_item(id, NULL, r));
                else if (!json_equal(o, r))
                    json_array_append_new(changed, diff_item(id, o, r));
                else
                    same++;
            }
            json_object_foreach(old, id, r)
                if (!json_object_get(neu, id))
                    json_array_append_new(removed, diff_item(id, r, NULL));
            json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I}", "target",
                                  g->t[i].name, "kind", gw_kind_name(&g->t[i]), "key", x->key, "tenant",
                                  x->tenant, "from", version_of(x->oldval, x->oldlen), "to",
                                  x->newval ? version_of(x->newval, x->newlen) : json_null(),
                                  "added", added, "removed", removed, "changed", changed,
                                  "unchanged", (json_int_t)same);
            if (x->oldval && !json_object_size(old))
                json_object_set_new(d, "live_value_not_a_config", json_true());
            json_array_append_new(out, d);
            json_decref(old);
            json_decref(neu);
        }
}

/* Whether a live value is exactly the canonical config of version ver:
 * canonical bytes, "version" equal to ver, and its rules hashing to it. */
const char *gw_config_problem(const char *val, size_t len, const char *ver)
{
    json_t *j = json_loadb(val, len, 0, NULL);
    if (!j)
        return "not valid JSON";
    const char *why = NULL;
    char *canon = digest_canonical_json(j);
    char hex[DIGEST_HEX_LEN + 1] = "";
    digest_json_hex(json_object_get(j, "rules"), hex);
    const char *v = json_string_value(json_object_get(j, "version"));
    if (!v || (ver && strcmp(v, ver)))
        why = "version differs from the applied one";
    else if (strcmp(hex, v))
        why = "rules edited: they no longer hash to the version";
    else if (!canon || strlen(canon) != len || memcmp(canon, val, len))
        why = "value rewritten (not the canonical text rlc wrote)";
    free(canon);
    json_decref(j);
    return why;
}

bool gateway_status(gateway *g, const char *plan_digest, const json_t *plan_tenants,
                    json_t *targets, size_t *drift, rerr *e)
{
    for (size_t i = 0; g && i < g->n; i++) {
        gw_target *t = &g->t[i];
        json_t *tj = json_pack("{s:s,s:s,s:s}", "name", t->name, "kind", gw_kind_name(t),
                               "address", t->kind == GW_HTTP ? t->shown : t->addr);
        json_array_append_new(targets, tj);
        if (t->kind != GW_ETCD) {
            json_t *dr = json_array();
            if (t->kind == GW_HTTP ? !gwh_status(t, tj, dr, e) : !gwn_status(t, tj, dr, e)) {
                json_decref(dr);
                return false;
            }
            *drift += json_array_size(dr);
            json_object_set_new(tj, "drift", dr);
            continue;
        }
        char tp[700], sk[700];
        snprintf(tp, sizeof tp, "%stenants/", t->base);
        snprintf(sk, sizeof sk, "%sdeploy/state", t->base);
        etcd_kvs live, st;
        if (!range_all(t->ec, tp, &live, e)) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        if (!etcd_range(t->ec, sk, NULL, 0, &st, e)) {
            etcd_kvs_free(&live);
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
        json_t *sj = st.n ? json_loadb(st.v[0].val, st.v[0].vallen, 0, NULL) : NULL;
        etcd_kvs_free(&st);
        const char *applied_plan = json_string_value(json_object_get(sj, "plan"));
        json_object_set(tj, "active_plan", json_object_get(sj, "plan") ?: json_null());
        json_object_set(tj, "tenants", json_object_get(sj, "tenants") ?: json_integer(0));
        /* The applied versions by name, when the plan given is the applied
         * one; else only their digest is known. */
        json_t *applied = NULL;
        if (plan_tenants && plan_digest && applied_plan && !strcmp(plan_digest, applied_plan)) {
            applied = json_object();
            size_t k;
            json_t *pt;
            json_array_foreach(plan_tenants, k, pt)
                json_object_set(applied, json_string_value(json_object_get(pt, "name")) ?: "",
                                json_object_get(pt, "version"));
        }
        json_t *dr = json_array();
        json_t *live_map = json_object();
        for (size_t m = 0; m < live.n; m++) {
            const etcd_kv *kv = &live.v[m];
            json_t *vj = json_loadb(kv->val, kv->vallen, 0, NULL);
            const char *nm = json_string_value(json_object_get(vj, "name"));
            const char *ver = json_string_value(json_object_get(vj, "version"));
            char *en = nm ? gw_enc_name(nm) : NULL;
            const char *kn = kv->key + strlen(tp);   /* the key's last segment */
            const char *why = gw_config_problem(kv->val, kv->vallen, NULL);
            if (!why && (!en || strcmp(en, kn)))
                why = "name inside differs from the key";
            if (!why && applied && !json_object_get(applied, nm))
                why = "entry not written by the applied plan";
            else if (!why && applied &&
                     strcmp(json_string_value(json_object_get(applied, nm)) ?: "", ver))
                why = "version differs from the applied one";
            if (why) {
                json_t *d = json_pack("{s:s,s:s}", "key", kv->key, "what", why);
                if (nm)
                    json_object_set_new(d, "tenant", json_string(nm));
                json_array_append_new(dr, d);
            }
            if (nm && ver)
                json_object_set_new(live_map, nm, json_string(ver));
            free(en);
            json_decref(vj);
        }
        if (applied) {
            const char *aname;
            json_t *av;
            json_object_foreach(applied, aname, av)
                if (!json_object_get(live_map, aname))
                    json_array_append_new(dr, json_pack("{s:s,s:s,s:O}", "tenant", aname, "what",
                                                        "entry missing", "applied", av));
        } else if (!json_array_size(dr)) {
            char hex[DIGEST_HEX_LEN + 1];
            digest_json_hex(live_map, hex);
            const char *want = json_string_value(json_object_get(sj, "versions"));
            if (!sj && json_object_size(live_map))
                json_array_append_new(dr, json_pack("{s:s,s:s}", "key", tp, "what",
                                                    "entries present but no deploy recorded"));
            else if (sj && (!want || strcmp(want, hex)))
                json_array_append_new(dr, json_pack(
                    "{s:s,s:s}", "key", tp, "what",
                    "tenants or versions differ from the applied plan (entries missing, added "
                    "or replaced); `rlc status PLAN` with the applied plan names them"));
        }
        json_decref(applied);
        json_decref(live_map);
        json_decref(sj);
        etcd_kvs_free(&live);
        json_t *holder = NULL;
        if (t == lock_target(g)) {
            rerr te = {0};
            holder = gateway_lock_holder(g, &te);
        }
        if (holder)
            json_object_set_new(tj, "lock", holder);
        *drift += json_array_size(dr);
        json_object_set_new(tj, "drift", dr);
    }
    return true;
}
