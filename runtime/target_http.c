/* target_http.c - the HTTP admin API target kind (SPEC.md 7.9): the
 * tenant configs are resources <url>/tenants/<name>, read with GET (ETag),
 * written with PUT and removed with DELETE, each write conditional on the
 * ETag read before the deploy (If-Match) or on absence (If-None-Match: *),
 * so a concurrent writer is a 412 and the deploy rolls back.  An HTTP API
 * has no lock and no place for the applied state.  The entries' shared
 * handling is cfg_store.c; this file only speaks HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_store.h"
#include "fault.h"
#include "httpc.h"
#include "redact.h"
#include "secret.h"
#include "xalloc.h"

typedef struct htarget {
    cfg_target c;
    httpc *hc;
    char url[1024];            /* the admin API base URL (may hold a secret) */
    char shown[1024];          /* url without user:password, for messages */
    char token[1024];          /* bearer token ("" none) */
} htarget;

extern const target_kind target_http;

static target *ht_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)all;
    (void)e;
    return cfg_create(sizeof(htarget), &target_http, tj, env);
}

static void ht_free(target *tg)
{
    htarget *t = (htarget *)tg;
    cfg_clear(&t->c);
    httpc_free(t->hc);
    secret_wipe(t->token, sizeof t->token);
    secret_wipe(t->url, sizeof t->url);
    free(t);
}

static bool ht_override(target *tg, const char *spec, rerr *e)
{
    if (strncmp(spec, "http://", 7) && strncmp(spec, "https://", 8)) {
        char *shown = url_redact(spec);
        rerr_set(e, DIAG_STORE_URL, "--target %s: an http target takes a URL "
                 "(http://host:port...), got '%s'", tg->name, shown);
        free(shown);
        return false;
    }
    if (strchr(spec, '@'))
        return rerr_set(e, DIAG_STORE_URL, "--target %s: no credentials on the command line "
                        "(the process list shows them)", tg->name);
    json_object_set_new(tg->desc, "url", json_string(spec));
    return true;
}

static bool ht_connect(target *tg, rerr *e)
{
    htarget *t = (htarget *)tg;
    if (t->hc)
        return true;
    json_t *st = json_object_get(t->c.base.desc, "settings");
    json_t *u = json_object_get(t->c.base.desc, "url");
    if (!secret_resolve(u ? u : json_object_get(st, "url"), "gateway URL", t->url, sizeof t->url,
                        e) ||
        !secret_resolve(json_object_get(st, "token"), "gateway token", t->token,
                        sizeof t->token, e)) {
        rerr_prefix(e, "target %s", t->c.base.name);
        return false;
    }
    if (strncmp(t->url, "http://", 7) && strncmp(t->url, "https://", 8))
        return rerr_set(e, DIAG_STORE_URL, "target %s: the url must be http:// or https://",
                        t->c.base.name);
    size_t l = strlen(t->url);
    while (l && t->url[l - 1] == '/')
        t->url[--l] = '\0';
    char *shown = url_redact(t->url);
    snprintf(t->shown, sizeof t->shown, "%s", shown);
    free(shown);
    snprintf(t->c.base.addr, sizeof t->c.base.addr, "%s", t->shown);
    int ms = cfg_timeout_ms(tg, 5000);
    t->hc = httpc_new(ms < 2000 ? ms : 2000, ms,
                      json_string_value(json_object_get(st, "ca_file")), e);
    return t->hc != NULL;
}

/* One request to <url>/<path>.  cond: an If-Match/If-None-Match header or
 * NULL.  Transport errors, 401/403 (RLC3152) and 412 (RLC3190) are errors;
 * other statuses are the caller's to judge. */
static bool req(htarget *t, const char *method, const char *path, const char *body,
                size_t len, const char *cond, httpc_resp *r, rerr *e)
{
    char url[2048], auth[1100];
    snprintf(url, sizeof url, "%s/%s", t->url, path);
    const char *h[4] = {"Content-Type: application/json", NULL, NULL, NULL};
    size_t n = 1;
    if (t->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->token);
        h[n++] = auth;
    }
    if (cond)
        h[n++] = cond;
    rerr te = {0};
    if (!httpc_do(t->hc, method, url, h, body, len, r, &te)) {
        /* httpc names the URL; say it without credentials. */
        rerr_set(e, te.code, "target %s: %s %s/%s: %s", t->c.base.name, method, t->shown, path,
                 strstr(te.msg, ": ") ? strstr(te.msg, ": ") + 2 : te.msg);
        return false;
    }
    if (r->status == 401 || r->status == 403)
        return rerr_set(e, DIAG_STORE_AUTH, "target %s: %s %s/%s: HTTP %ld (check the token)",
                        t->c.base.name, method, t->shown, path, r->status);
    if (r->status == 412)
        return rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s: %s %s/%s: HTTP 412: the entry "
                        "changed since the checkpoint (%s): another writer is at work", t->c.base.name,
                        method, t->shown, path, cond ? cond : "");
    return true;
}

static bool bad_status(htarget *t, const char *method, const char *path, httpc_resp *r,
                       rerr *e)
{
    size_t n = r->len < 200 ? r->len : 200;
    while (n && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
        n--;
    return rerr_set(e, DIAG_STORE_REPLY, "target %s: %s %s/%s: HTTP %ld: %.*s", t->c.base.name,
                    method, t->shown, path, r->status, n ? (int)n : 14,
                    n ? r->body : "(empty answer)");
}

static bool ht_health(target *tg, const char **endpoint, rerr *e)
{
    htarget *t = (htarget *)tg;
    *endpoint = t->shown;
    httpc_resp r;
    bool ok = req(t, "GET", "health", NULL, 0, NULL, &r, e);
    if (ok && (r.status < 200 || r.status > 299))
        ok = rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s/health answers HTTP %ld", t->shown, r.status);
    httpc_resp_free(&r);
    return ok;
}

/* GET of one entry: *val NULL when 404. */
static bool get_entry(htarget *t, const char *path, char **val, size_t *len, char **etag,
                      rerr *e)
{
    *val = NULL;
    *len = 0;
    if (etag)
        *etag = NULL;
    httpc_resp r;
    if (!req(t, "GET", path, NULL, 0, NULL, &r, e)) {
        httpc_resp_free(&r);
        return false;
    }
    bool ok = true;
    if (r.status == 200) {
        *val = r.body;
        *len = r.len;
        r.body = NULL;
        if (etag)
            *etag = r.etag[0] ? xstrdup(r.etag) : NULL;
    } else if (r.status != 404) {
        ok = bad_status(t, "GET", path, &r, e);
    }
    httpc_resp_free(&r);
    return ok;
}

/* GET <url>/tenants: the entry names (as they appear in paths). */
static json_t *list(htarget *t, rerr *e)
{
    httpc_resp r;
    if (!req(t, "GET", "tenants", NULL, 0, NULL, &r, e)) {
        httpc_resp_free(&r);
        return NULL;
    }
    json_t *a = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    if (r.status != 200)
        bad_status(t, "GET", "tenants", &r, e);
    else if (!json_is_array(a))
        rerr_set(e, DIAG_STORE_REPLY, "target %s: GET %s/tenants: not a JSON array of names",
                 t->c.base.name, t->shown);
    httpc_resp_free(&r);
    if (!json_is_array(a)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static bool ht_read(target *tg, target_read *rd, rerr *e)
{
    htarget *t = (htarget *)tg;
    const json_t *tenants = tg->env->tenants;
    cfg_entries_free(&t->c);
    json_t *live = list(t, e);
    if (!live)
        return false;
    t->c.ent = xcalloc(json_array_size(tenants) + json_array_size(live) + 1, sizeof *t->c.ent);
    t->c.nent = 0;
    json_t *in_plan = json_object();
    size_t i;
    json_t *tj;
    bool ok = true;
    json_array_foreach(tenants, i, tj) {
        cfg_entry *x = &t->c.ent[t->c.nent++];
        const char *name = json_string_value(json_object_get(tj, "name"));
        char *en = cfg_enc_name(name ? name : "");
        x->tenant = xstrdup(name ? name : "");
        size_t kl = strlen(en) + 9;
        x->key = xmalloc(kl);
        snprintf(x->key, kl, "tenants/%s", en);
        json_object_set_new(in_plan, en, json_true());
        free(en);
        x->newval = cfg_config_text(tj);
        x->newlen = strlen(x->newval);
        if (!(ok = get_entry(t, x->key, &x->oldval, &x->oldlen, &x->oldtag, e)))
            break;
        x->changed = !x->oldval || x->oldlen != x->newlen ||
                     memcmp(x->oldval, x->newval, x->newlen);
    }
    json_t *nv;
    json_array_foreach(live, i, nv) {
        const char *seg = json_string_value(nv);
        if (!ok || !seg || json_object_get(in_plan, seg))
            continue;
        cfg_entry *x = &t->c.ent[t->c.nent++];
        size_t kl = strlen(seg) + 9;
        x->key = xmalloc(kl);
        snprintf(x->key, kl, "tenants/%s", seg);
        if (!(ok = get_entry(t, x->key, &x->oldval, &x->oldlen, &x->oldtag, e)))
            break;
        json_t *vj = x->oldval ? json_loadb(x->oldval, x->oldlen, 0, NULL) : NULL;
        const char *nm = json_string_value(json_object_get(vj, "name"));
        x->tenant = xstrdup(nm ? nm : seg);
        json_decref(vj);
        x->changed = x->oldval != NULL;   /* gone meanwhile: nothing to do */
    }
    json_decref(in_plan);
    json_decref(live);
    cfg_sort_entries(&t->c);
    cfg_count(&t->c, rd);
    return ok;
}

static bool ht_apply(target *tg, size_t *written, rerr *e)
{
    htarget *t = (htarget *)tg;
    for (size_t m = 0; m < t->c.nent; m++) {
        cfg_entry *x = &t->c.ent[m];
        if (!x->changed)
            continue;
        if (!fault_point("apply.gateway", e))
            return false;
        char cond[400];
        if (x->oldval && x->oldtag)
            snprintf(cond, sizeof cond, "If-Match: %s", x->oldtag);
        else if (!x->oldval)
            snprintf(cond, sizeof cond, "If-None-Match: *");
        else
            cond[0] = '\0';   /* a server that gives no ETag: unconditional */
        httpc_resp r;
        const char *method = x->newval ? "PUT" : "DELETE";
        bool ok = req(t, method, x->key, x->newval, x->newlen, cond[0] ? cond : NULL, &r, e);
        if (ok && (r.status < 200 || r.status > 299) && !(!x->newval && r.status == 404))
            ok = bad_status(t, method, x->key, &r, e);
        httpc_resp_free(&r);
        if (!ok)
            return false;
        if (written)
            (*written)++;
    }
    return true;
}

static bool ht_verify(target *tg, json_t *summary, rerr *e)
{
    (void)summary;
    htarget *t = (htarget *)tg;
    for (size_t m = 0; m < t->c.nent; m++) {
        cfg_entry *x = &t->c.ent[m];
        if (!x->changed)
            continue;
        char *val;
        size_t len;
        if (!get_entry(t, x->key, &val, &len, NULL, e))
            return false;
        bool same = x->newval ? val && len == x->newlen && !memcmp(val, x->newval, len) : !val;
        free(val);
        if (!same)
            return rerr_set(e, DIAG_GATEWAY_VERIFY, "target %s: %s/%s reads back %s, not what "
                            "was written", t->c.base.name, t->shown, x->key,
                            val ? "a different body" : "as absent");
    }
    return true;
}

static bool ht_restore(target *tg, const json_t *entry, bool stale, rerr *e)
{
    (void)stale;
    htarget *t = (htarget *)tg;
    const json_t *keys = json_object_get(entry, "keys");
    size_t i;
    json_t *kj;
    json_array_foreach(keys, i, kj) {
        const char *key;
        char *val;
        size_t len;
        if (!cfg_ck_entry(tg, kj, &key, &val, &len, e))
            return false;
        httpc_resp r;
        const char *method = val ? "PUT" : "DELETE";
        bool ok = req(t, method, key, val, len, NULL, &r, e);
        if (ok && (r.status < 200 || r.status > 299) && !(!val && r.status == 404))
            ok = bad_status(t, method, key, &r, e);
        httpc_resp_free(&r);
        free(val);
        if (!ok)
            return false;
    }
    return true;
}

static bool ht_status(target *tg, json_t *targets, size_t *ndrift, rerr *e)
{
    htarget *t = (htarget *)tg;
    json_t *tj = json_pack("{s:s,s:s,s:s}", "name", tg->name, "kind", "http", "address",
                           t->shown);
    json_array_append_new(targets, tj);
    json_t *drift = json_array();
    json_t *live = list(t, e);
    if (!live)
        return false;
    size_t i;
    json_t *nv;
    bool ok = true;
    json_array_foreach(live, i, nv) {
        const char *seg = json_string_value(nv);
        if (!seg)
            continue;
        char path[1200];
        snprintf(path, sizeof path, "tenants/%s", seg);
        char *val;
        size_t len;
        if (!(ok = get_entry(t, path, &val, &len, NULL, e)))
            break;
        if (!val)
            continue;
        json_t *vj = json_loadb(val, len, 0, NULL);
        const char *nm = json_string_value(json_object_get(vj, "name"));
        char *en = nm ? cfg_enc_name(nm) : NULL;
        const char *why = cfg_config_problem(val, len, NULL);
        if (!why && (!en || strcmp(en, seg)))
            why = "name inside differs from the path";
        if (why)
            json_array_append_new(drift, json_pack("{s:s,s:s,s:s}", "tenant", nm ? nm : seg,
                                                   "key", path, "what", why));
        free(en);
        json_decref(vj);
        free(val);
    }
    json_object_set_new(tj, "tenants", json_integer((json_int_t)json_array_size(live)));
    json_decref(live);
    if (!ok) {
        json_decref(drift);
        return false;
    }
    *ndrift += json_array_size(drift);
    json_object_set_new(tj, "drift", drift);
    return true;
}

const target_kind target_http = {
    .name = "http",
    .record = "gateways",
    .group = "etcd/http",
    .verify_how = "by reading back",
    .order = 1,
    .max = 8,
    .json_tenants = true,
    .lock_scope = TLOCK_NONE,
    .create = ht_create,
    .override = ht_override,
    .connect = ht_connect,
    .health = ht_health,
    .read = ht_read,
    .changes = cfg_changes,
    .checkpoint = cfg_checkpoint,
    .ck_noop = cfg_ck_noop,
    .apply = ht_apply,
    .verify = ht_verify,
    .restore = ht_restore,
    .diff = cfg_diff,
    .status = ht_status,
    .free = ht_free,
};
