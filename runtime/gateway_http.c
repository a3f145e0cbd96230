/* gateway_http.c - HTTP admin API targets (SPEC.md 7.9): the tenant
 * configs are resources <url>/tenants/<name>, read with GET (ETag), written
 * with PUT and removed with DELETE, each write conditional on the ETag read
 * before the deploy (If-Match) or on absence (If-None-Match: *), so a
 * concurrent writer is a 412 and the deploy rolls back.  The shared phases
 * are in gateway.c; this file only speaks HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "gateway_private.h"
#include "redact.h"

bool gwh_connect(gw_target *t, rerr *e)
{
    json_t *st = json_object_get(t->desc, "settings");
    json_t *u = json_object_get(t->desc, "url");
    if (!gw_secret(u ? u : json_object_get(st, "url"), t->url, sizeof t->url, "gateway URL", e) ||
        !gw_secret(json_object_get(st, "token"), t->token, sizeof t->token, "gateway token", e)) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    if (strncmp(t->url, "http://", 7) && strncmp(t->url, "https://", 8))
        return rerr_set(e, DIAG_STORE_URL, "target %s: the url must be http:// or https://",
                        t->name);
    size_t l = strlen(t->url);
    while (l && t->url[l - 1] == '/')
        t->url[--l] = '\0';
    char *shown = url_redact(t->url);
    snprintf(t->shown, sizeof t->shown, "%s", shown);
    free(shown);
    snprintf(t->addr, sizeof t->addr, "%s", t->shown);
    int ms = 5000;
    json_t *to = json_object_get(st, "timeout_ms");
    if (json_is_integer(to) && json_integer_value(to) > 0)
        ms = (int)json_integer_value(to);
    const char *env = getenv("RLC_TIMEOUT_MS");
    if (env && atoi(env) > 0)
        ms = atoi(env);
    t->hc = httpc_new(ms < 2000 ? ms : 2000, ms,
                      json_string_value(json_object_get(st, "ca_file")), e);
    return t->hc != NULL;
}

/* One request to <url>/<path>.  cond: an If-Match/If-None-Match header or
 * NULL.  Transport errors, 401/403 (RLC3152) and 412 (RLC3190) are errors;
 * other statuses are the caller's to judge. */
static bool req(gw_target *t, const char *method, const char *path, const char *body,
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
        rerr_set(e, te.code, "target %s: %s %s/%s: %s", t->name, method, t->shown, path,
                 strstr(te.msg, ": ") ? strstr(te.msg, ": ") + 2 : te.msg);
        return false;
    }
    if (r->status == 401 || r->status == 403)
        return rerr_set(e, DIAG_STORE_AUTH, "target %s: %s %s/%s: HTTP %ld (check the token)",
                        t->name, method, t->shown, path, r->status);
    if (r->status == 412)
        return rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s: %s %s/%s: HTTP 412: the entry "
                        "changed since the checkpoint (%s): another writer is at work", t->name,
                        method, t->shown, path, cond ? cond : "");
    return true;
}

static bool bad_status(gw_target *t, const char *method, const char *path, httpc_resp *r,
                       rerr *e)
{
    size_t n = r->len < 200 ? r->len : 200;
    while (n && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
        n--;
    return rerr_set(e, DIAG_STORE_REPLY, "target %s: %s %s/%s: HTTP %ld: %.*s", t->name,
                    method, t->shown, path, r->status, n ? (int)n : 14,
                    n ? r->body : "(empty answer)");
}

bool gwh_health(gw_target *t, rerr *e)
{
    httpc_resp r;
    bool ok = req(t, "GET", "health", NULL, 0, NULL, &r, e);
    if (ok && (r.status < 200 || r.status > 299))
        ok = rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s/health answers HTTP %ld", t->shown, r.status);
    httpc_resp_free(&r);
    return ok;
}

/* GET of one entry: *val NULL when 404. */
static bool get_entry(gw_target *t, const char *path, char **val, size_t *len, char **etag,
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
            *etag = r.etag[0] ? strdup(r.etag) : NULL;
    } else if (r.status != 404) {
        ok = bad_status(t, "GET", path, &r, e);
    }
    httpc_resp_free(&r);
    return ok;
}

/* GET <url>/tenants: the entry names (as they appear in paths). */
static json_t *list(gw_target *t, rerr *e)
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
                 t->name, t->shown);
    httpc_resp_free(&r);
    if (!json_is_array(a)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

bool gwh_read(gw_target *t, const json_t *tenants, rerr *e)
{
    json_t *live = list(t, e);
    if (!live)
        return false;
    t->ent = calloc(json_array_size(tenants) + json_array_size(live) + 1, sizeof *t->ent);
    t->nent = 0;
    json_t *in_plan = json_object();
    size_t i;
    json_t *tj;
    bool ok = true;
    json_array_foreach(tenants, i, tj) {
        gw_entry *x = &t->ent[t->nent++];
        const char *name = json_string_value(json_object_get(tj, "name"));
        char *en = gw_enc_name(name ? name : "");
        x->tenant = strdup(name ? name : "");
        size_t kl = strlen(en) + 9;
        x->key = malloc(kl);
        snprintf(x->key, kl, "tenants/%s", en);
        json_object_set_new(in_plan, en, json_true());
        free(en);
        x->newval = gw_config_text(tj);
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
        gw_entry *x = &t->ent[t->nent++];
        size_t kl = strlen(seg) + 9;
        x->key = malloc(kl);
        snprintf(x->key, kl, "tenants/%s", seg);
        if (!(ok = get_entry(t, x->key, &x->oldval, &x->oldlen, &x->oldtag, e)))
            break;
        json_t *vj = x->oldval ? json_loadb(x->oldval, x->oldlen, 0, NULL) : NULL;
        const char *nm = json_string_value(json_object_get(vj, "name"));
        x->tenant = strdup(nm ? nm : seg);
        json_decref(vj);
        x->changed = x->oldval != NULL;   /* gone meanwhile: nothing to do */
    }
    json_decref(in_plan);
    json_decref(live);
    gw_sort_entries(t);
    t->have_read = true;
    return ok;
}

bool gwh_apply(gw_target *t, size_t *written, rerr *e)
{
    for (size_t m = 0; m < t->nent; m++) {
        gw_entry *x = &t->ent[m];
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

bool gwh_verify(gw_target *t, rerr *e)
{
    for (size_t m = 0; m < t->nent; m++) {
        gw_entry *x = &t->ent[m];
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
                            "was written", t->name, t->shown, x->key,
                            val ? "a different body" : "as absent");
    }
    return true;
}

bool gwh_restore(gw_target *t, const json_t *keys, rerr *e)
{
    size_t i;
    json_t *kj;
    json_array_foreach(keys, i, kj) {
        const char *key;
        char *val;
        size_t len;
        if (!gw_ck_entry(t, kj, &key, &val, &len, e))
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

bool gwh_status(gw_target *t, json_t *tj, json_t *drift, rerr *e)
{
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
        char *en = nm ? gw_enc_name(nm) : NULL;
        const char *why = gw_config_problem(val, len, NULL);
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
    return ok;
}
