/* etcd.c - etcd v3 JSON gateway client.  See etcd.h. */
#include "etcd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nettle/base64.h>

#include "httpc.h"
#include "redact.h"
#include "xalloc.h"

#define ETCD_MAX_ENDPOINTS 16

struct etcd {
    httpc *h;
    char *ep[ETCD_MAX_ENDPOINTS];
    char *shown[ETCD_MAX_ENDPOINTS];   /* ep as messages show it (url_redact) */
    size_t nep, cur;
    char token[512];               /* auth token, "" without auth */
};

/* --- base64 ------------------------------------------------------------------ */

char *etcd_base64(const char *p, size_t n)
{
    size_t len = BASE64_ENCODE_RAW_LENGTH(n);
    char *out = xmalloc(len + 1);
    base64_encode_raw(out, n, (const uint8_t *)p);
    out[len] = '\0';
    return out;
}

char *etcd_unbase64(const char *s, size_t *outlen)
{
    size_t n = s ? strlen(s) : 0, k = 0;
    char *out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
    struct base64_decode_ctx d;
    base64_decode_init(&d);
    if (!base64_decode_update(&d, &k, (uint8_t *)out, n, s) || !base64_decode_final(&d)) {
        free(out);
        return NULL;
    }
    out[k] = '\0';
    *outlen = k;
    return out;
}

/* 64-bit numbers are JSON strings; absent means 0. */
static long long num(const json_t *o, const char *field)
{
    const json_t *v = json_object_get(o, field);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    return 0;
}

static json_t *numstr(long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    return json_string(b);
}

static json_t *b64json(const char *p, size_t n)
{
    char *s = etcd_base64(p, n);
    json_t *j = json_string(s ? s : "");
    free(s);
    return j;
}

/* --- requests ---------------------------------------------------------------- */

const char *etcd_endpoint(const etcd *c)
{
    return c ? c->shown[c->cur] : "";
}

/* Sends one request to the current endpoint, moving to the next ones when
 * a connection could not be made.  body is consumed; *out (caller decrefs)
 * is the parsed answer of a 200. */
static bool call(etcd *c, const char *method, const char *path, json_t *body, json_t **out,
                 rerr *e)
{
    *out = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char auth[600];
    const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};
    if (c->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: %s", c->token);
        hdrs[1] = auth;
    }
    bool ok = false;
    for (size_t tries = 0; tries < c->nep; tries++) {
        char url[1200];
        snprintf(url, sizeof url, "%s%s", c->ep[c->cur], path);
        httpc_resp r;
        rerr te = {0};
        bool sent = httpc_do(c->h, method, url, hdrs, text, text ? strlen(text) : 0, &r, &te);
        if (!sent) {
            httpc_resp_free(&r);
            *e = te;
            rerr_prefix(e, "etcd");
            if (httpc_failed_before_send(c->h) && c->nep > 1) {
                c->cur = (c->cur + 1) % c->nep;
                continue;
            }
            break;
        }
        json_error_t je;
        json_t *j = json_loadb(r.body, r.len, 0, &je);
        if (r.status != 200) {
            const char *msg = json_string_value(json_object_get(j, "message"));
            long long gc = num(j, "code");
            /* gRPC code 16: unauthenticated; 7: permission denied. */
            rerr_set(e, gc == 16 || gc == 7 ? DIAG_STORE_AUTH : DIAG_STORE_REPLY,
                     "etcd %s: %s %s: HTTP %ld: %s%s", c->shown[c->cur], method, path, r.status,
                     msg ? msg : r.len ? r.body : "(empty answer)",
                     gc ? "" : "");
            json_decref(j);
            httpc_resp_free(&r);
            break;
        }
        httpc_resp_free(&r);
        if (!json_is_object(j)) {
            json_decref(j);
            rerr_set(e, DIAG_STORE_REPLY, "etcd %s: %s %s: the answer is not a JSON object",
                     c->shown[c->cur], method, path);
            break;
        }
        /* Streamed calls (keepalive) wrap their answer in "result" and
         * their errors in "error". */
        json_t *err = json_object_get(j, "error");
        if (json_is_object(err)) {
            const char *msg = json_string_value(json_object_get(err, "message"));
            rerr_set(e, DIAG_STORE_REPLY, "etcd %s: %s %s: %s", c->shown[c->cur], method, path,
                     msg ? msg : "error");
            json_decref(j);
            break;
        }
        *out = j;
        ok = true;
        break;
    }
    free(text);
    return ok;
}

static bool authenticate(etcd *c, const char *user, const char *pass, rerr *e)
{
    json_t *out;
    c->token[0] = '\0';
    if (!call(c, "POST", "/v3/auth/authenticate",
              json_pack("{s:s,s:s}", "name", user, "password", pass ? pass : ""), &out, e)) {
        if (e->code == DIAG_STORE_REPLY || e->code == DIAG_STORE_AUTH) {
            char m[sizeof e->msg];
            snprintf(m, sizeof m, "%s", e->msg);
            rerr_set(e, DIAG_STORE_AUTH, "etcd user '%s' could not authenticate: %s", user, m);
        }
        return false;
    }
    const char *t = json_string_value(json_object_get(out, "token"));
    snprintf(c->token, sizeof c->token, "%s", t ? t : "");
    json_decref(out);
    return true;
}

etcd *etcd_open(const char *const *endpoints, size_t n, const char *user, const char *pass,
                int timeout_ms, rerr *e)
{
    if (n == 0 || n > ETCD_MAX_ENDPOINTS) {
        rerr_set(e, DIAG_STORE_URL, "an etcd target needs 1 to %d endpoints, got %zu",
                 ETCD_MAX_ENDPOINTS, n);
        return NULL;
    }
    etcd *c = xcalloc(1, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        const char *ep = endpoints[i];
        if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
            char *shown = url_redact(ep);
            rerr_set(e, DIAG_STORE_URL, "etcd endpoint '%s' is not an http:// or https:// URL",
                     shown);
            free(shown);
            etcd_close(c);
            return NULL;
        }
        size_t l = strlen(ep);
        while (l && ep[l - 1] == '/')
            l--;
        c->ep[c->nep] = xstrndup(ep, l);
        c->shown[c->nep] = url_redact(c->ep[c->nep]);
        c->nep++;
    }
    int connect_ms = timeout_ms < 2000 ? timeout_ms : 2000;
    c->h = httpc_new(connect_ms, timeout_ms, NULL, e);
    if (!c->h || (user && *user && !authenticate(c, user, pass, e))) {
        etcd_close(c);
        return NULL;
    }
    return c;
}

void etcd_close(etcd *c)
{
    if (!c)
        return;
    httpc_free(c->h);
    for (size_t i = 0; i < c->nep; i++) {
        free(c->ep[i]);
        free(c->shown[i]);
    }
    memset(c->token, 0, sizeof c->token);
    free(c);
}

bool etcd_health(etcd *c, rerr *e)
{
    json_t *out;
    if (!call(c, "GET", "/health", NULL, &out, e))
        return false;
    const char *h = json_string_value(json_object_get(out, "health"));
    bool ok = h && !strcmp(h, "true");
    if (!ok)
        rerr_set(e, DIAG_PREFLIGHT_HEALTH, "etcd %s: /health says %s", etcd_endpoint(c),
                 h ? h : "nothing");
    json_decref(out);
    return ok;
}

/* --- kv ---------------------------------------------------------------------- */

void etcd_kvs_free(etcd_kvs *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].key);
        free(k->v[i].val);
    }
    free(k->v);
    k->v = NULL;
    k->n = 0;
}

static bool add_kvs(etcd_kvs *out, const json_t *kvs, rerr *e)
{
    size_t i;
    json_t *kv;
    size_t add = json_array_size(kvs);
    if (!add)
        return true;
    out->v = xreallocarray(out->v, out->n + add, sizeof *out->v);
    json_array_foreach(kvs, i, kv) {
        etcd_kv *d = &out->v[out->n];
        memset(d, 0, sizeof *d);
        d->key = etcd_unbase64(json_string_value(json_object_get(kv, "key")), &d->keylen);
        d->val = etcd_unbase64(json_string_value(json_object_get(kv, "value")), &d->vallen);
        if (!d->key || !d->val) {
            free(d->key);
            free(d->val);
            return rerr_set(e, DIAG_STORE_REPLY, "etcd: a key or value is not valid base64");
        }
        d->create_rev = num(kv, "create_revision");
        d->mod_rev = num(kv, "mod_revision");
        d->lease = num(kv, "lease");
        out->n++;
    }
    return true;
}

char *etcd_prefix_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char *s = xstrdup(prefix);
    while (n > 0) {
        if ((unsigned char)s[n - 1] < 0xff) {
            s[n - 1]++;
            s[n] = '\0';
            return s;
        }
        n--;
    }
    s[0] = '\0';   /* all 0xff: to the end of the keyspace ("\0") */
    return s;
}

static json_t *range_req(const char *key, const char *range_end, long long limit)
{
    json_t *r = json_pack("{s:o}", "key", b64json(key, strlen(key)));
    if (range_end)
        json_object_set_new(r, "range_end",
                            *range_end ? b64json(range_end, strlen(range_end))
                                       : json_string("AA=="));
    if (limit > 0)
        json_object_set_new(r, "limit", numstr(limit));
    return r;
}

bool etcd_range(etcd *c, const char *key, const char *range_end, long long limit,
                etcd_kvs *out, rerr *e)
{
    memset(out, 0, sizeof *out);
    json_t *res;
    if (!call(c, "POST", "/v3/kv/range", range_req(key, range_end, limit), &res, e))
        return false;
    bool ok = add_kvs(out, json_object_get(res, "kvs"), e);
    out->more = json_is_true(json_object_get(res, "more"));
    out->rev = num(json_object_get(res, "header"), "revision");
    json_decref(res);
    return ok;
}

static json_t *op_json(const etcd_op *o)
{
    switch (o->kind) {
    case ETCD_OP_PUT: {
        json_t *p = json_pack("{s:o,s:o}", "key", b64json(o->key, strlen(o->key)), "value",
                              b64json(o->val, o->vallen));
        if (o->lease)
            json_object_set_new(p, "lease", numstr(o->lease));
        return json_pack("{s:o}", "request_put", p);
    }
    case ETCD_OP_DELETE:
        return json_pack("{s:{s:o}}", "request_delete_range", "key",
                         b64json(o->key, strlen(o->key)));
    case ETCD_OP_RANGE:
        return json_pack("{s:o}", "request_range", range_req(o->key, NULL, 0));
    }
    return json_null();
}

bool etcd_txn(etcd *c, const etcd_cmp *cmps, size_t ncmp, const etcd_op *ok_ops, size_t nok,
              const etcd_op *fail_ops, size_t nfail, bool *succeeded, long long *rev,
              etcd_kvs *ranges, rerr *e)
{
    if (ncmp > ETCD_MAX_TXN_OPS || nok > ETCD_MAX_TXN_OPS || nfail > ETCD_MAX_TXN_OPS)
        return rerr_set(e, DIAG_STORE_REPLY, "etcd txn with more than %d operations",
                        ETCD_MAX_TXN_OPS);
    json_t *cj = json_array(), *sj = json_array(), *fj = json_array();
    for (size_t i = 0; i < ncmp; i++) {
        bool mod = cmps[i].target == ETCD_CMP_MOD;
        json_array_append_new(cj, json_pack("{s:o,s:s,s:s,s:o}", "key",
                                            b64json(cmps[i].key, strlen(cmps[i].key)), "target",
                                            mod ? "MOD" : "CREATE", "result", "EQUAL",
                                            mod ? "mod_revision" : "create_revision",
                                            numstr(cmps[i].rev)));
    }
    for (size_t i = 0; i < nok; i++)
        json_array_append_new(sj, op_json(&ok_ops[i]));
    for (size_t i = 0; i < nfail; i++)
        json_array_append_new(fj, op_json(&fail_ops[i]));
    json_t *res;
    if (!call(c, "POST", "/v3/kv/txn",
              json_pack("{s:o,s:o,s:o}", "compare", cj, "success", sj, "failure", fj), &res, e))
        return false;
    /* A failed txn has no "succeeded" member (false is the default). */
    *succeeded = json_is_true(json_object_get(res, "succeeded"));
    if (rev)
        *rev = num(json_object_get(res, "header"), "revision");
    bool ok = true;
    if (ranges) {
        memset(ranges, 0, sizeof *ranges);
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(res, "responses"), i, r) {
            json_t *rr = json_object_get(r, "response_range");
            if (rr && !(ok = add_kvs(ranges, json_object_get(rr, "kvs"), e)))
                break;
        }
    }
    json_decref(res);
    return ok;
}

bool etcd_put(etcd *c, const char *key, const char *val, size_t vallen, long long lease,
              rerr *e)
{
    json_t *p = json_pack("{s:o,s:o}", "key", b64json(key, strlen(key)), "value",
                          b64json(val, vallen));
    if (lease)
        json_object_set_new(p, "lease", numstr(lease));
    json_t *res;
    if (!call(c, "POST", "/v3/kv/put", p, &res, e))
        return false;
    json_decref(res);
    return true;
}

bool etcd_delete(etcd *c, const char *key, const char *range_end, rerr *e)
{
    json_t *res;
    if (!call(c, "POST", "/v3/kv/deleterange", range_req(key, range_end, 0), &res, e))
        return false;
    json_decref(res);
    return true;
}

/* --- leases ------------------------------------------------------------------ */

bool etcd_lease_grant(etcd *c, long long ttl_s, long long *id, rerr *e)
{
    json_t *res;
    if (!call(c, "POST", "/v3/lease/grant", json_pack("{s:o}", "TTL", numstr(ttl_s)), &res, e))
        return false;
    *id = num(res, "ID");
    json_decref(res);
    if (!*id)
        return rerr_set(e, DIAG_STORE_REPLY, "etcd %s: lease grant returned no ID",
                        etcd_endpoint(c));
    return true;
}

bool etcd_lease_keepalive(etcd *c, long long id, long long *ttl, rerr *e)
{
    json_t *res;
    if (!call(c, "POST", "/v3/lease/keepalive", json_pack("{s:o}", "ID", numstr(id)), &res, e))
        return false;
    *ttl = num(json_object_get(res, "result"), "TTL");
    json_decref(res);
    return true;
}

bool etcd_lease_revoke(etcd *c, long long id, rerr *e)
{
    json_t *res;
    if (!call(c, "POST", "/v3/lease/revoke", json_pack("{s:o}", "ID", numstr(id)), &res, e))
        return false;
    json_decref(res);
    return true;
}
