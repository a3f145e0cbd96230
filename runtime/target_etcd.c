/* target_etcd.c - the etcd target kind (SPEC.md 7.8): each tenant's config
 * at <prefix><ns>/tenants/<name>, the applied state at
 * <prefix><ns>/deploy/state, the audit head at <prefix><ns>/audit/head.
 * Writes are transactions comparing each key's mod_revision with the one
 * read, so a concurrent writer fails the deploy (RLC3190) instead of being
 * overwritten.  When a deploy has no Redis target, the deploy lock is here:
 * a lease and a key created only if absent, "<token>|<holder JSON>".  The
 * JSON gateway client is etcd.c; the entries' shared handling
 * cfg_store.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg_store.h"
#include "etcd.h"
#include "fault.h"
#include "redact.h"
#include "secret.h"
#include "statedir.h"
#include "xalloc.h"

/* A txn's request stays under etcd's default --max-request-bytes (1.5 MiB)
 * once base64 and JSON are added. */
#define TXN_MAX_BYTES (700u << 10)

typedef struct etarget {
    cfg_target c;
    etcd *ec;
    char *state_old;           /* <prefix>deploy/state as read; NULL absent */
    size_t state_oldlen;
    long long state_rev;
    /* the deploy lock, when this target holds it */
    char lkey[700];
    long long lease;
    int ttl_ms;
    long long renewed_ms;
} etarget;

extern const target_kind target_etcd;

static void key_of(const etarget *t, char *out, size_t n, const char *what)
{
    snprintf(out, n, "%s%s", t->c.prefix, what);
}

static target *et_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)all;
    (void)e;
    return cfg_create(sizeof(etarget), &target_etcd, tj, env);
}

static void et_free(target *tg)
{
    etarget *t = (etarget *)tg;
    cfg_clear(&t->c);
    free(t->state_old);
    etcd_close(t->ec);
    free(t);
}

static bool et_override(target *tg, const char *spec, rerr *e)
{
    if (strncmp(spec, "http://", 7) && strncmp(spec, "https://", 8)) {
        char *shown = url_redact(spec);
        rerr_set(e, DIAG_STORE_URL, "--target %s: an etcd target takes a URL "
                 "(http://host:port...), got '%s'", tg->name, shown);
        free(shown);
        return false;
    }
    if (strchr(spec, '@'))
        return rerr_set(e, DIAG_STORE_URL, "--target %s: no credentials on the command line "
                        "(the process list shows them)", tg->name);
    json_object_set_new(tg->desc, "endpoints", json_pack("[s]", spec));
    return true;
}

static bool et_connect(target *tg, rerr *e)
{
    etarget *t = (etarget *)tg;
    if (t->ec)
        return true;
    json_t *eps = json_object_get(tg->desc, "endpoints");
    if (!eps)
        eps = json_object_get(json_object_get(tg->desc, "settings"), "endpoints");
    const char *ep[16];
    char store[16][512];
    size_t n = 0;
    size_t i;
    json_t *ej;
    tg->addr[0] = '\0';
    json_array_foreach(eps, i, ej) {
        if (n == 16)
            break;
        if (!secret_resolve(ej, "etcd endpoint", store[n], sizeof store[n], e)) {
            rerr_prefix(e, "target %s", tg->name);
            return false;
        }
        ep[n] = store[n];
        /* The address goes into messages and the audit log: an endpoint
         * from a variable or a file may carry credentials. */
        char *shown = url_redact(ep[n]);
        snprintf(tg->addr + strlen(tg->addr), sizeof tg->addr - strlen(tg->addr), "%s%s",
                 n ? "," : "", shown);
        free(shown);
        n++;
    }
    json_t *st = json_object_get(tg->desc, "settings");
    char user[256], pass[512];
    if (!secret_resolve(json_object_get(st, "username"), "etcd user", user, sizeof user, e) ||
        !secret_resolve(json_object_get(st, "password"), "etcd password", pass, sizeof pass,
                        e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    t->ec = etcd_open(ep, n, user, pass, cfg_timeout_ms(tg, 2000), e);
    secret_wipe(pass, sizeof pass);
    for (size_t k = 0; k < n; k++)
        secret_wipe(store[k], sizeof store[k]);
    if (!t->ec) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    return true;
}

/* The endpoints answer before anything is locked or written: an
 * unreachable etcd is refused at preflight (exit 5), as a Redis that
 * cannot be reached is at connect. */
static bool et_preflight(target *tg, json_t *report, tclocks *clk, rerr *e)
{
    (void)report;
    (void)clk;
    etarget *t = (etarget *)tg;
    return etcd_health(t->ec, e);
}

static bool et_health(target *tg, const char **endpoint, rerr *e)
{
    etarget *t = (etarget *)tg;
    if (!etcd_health(t->ec, e))
        return false;
    *endpoint = etcd_endpoint(t->ec);
    return true;
}

/* --- reading --------------------------------------------------------------------- */

/* Every key under prefix, page by page (1000 keys a request). */
static bool range_all(etcd *ec, const char *prefix, etcd_kvs *all, rerr *e)
{
    memset(all, 0, sizeof *all);
    char *end = etcd_prefix_end(prefix);
    char *from = xstrdup(prefix);
    bool ok = true;
    for (;;) {
        etcd_kvs page;
        if (!(ok = etcd_range(ec, from, end, 1000, &page, e)))
            break;
        etcd_kv *nv = xrealloc(all->v, (all->n + page.n + 1) * sizeof *nv);
        if (page.n)     /* an empty page has no array: memcpy wants non-NULL */
            memcpy(nv + all->n, page.v, page.n * sizeof *nv);
        all->v = nv;
        all->n += page.n;
        bool more = page.more && page.n;
        if (more) {
            /* Continue just after the last key: the JSON layer sends C
             * strings, so append the smallest byte that is allowed, 0x01
             * (keys here never hold NUL). */
            const etcd_kv *last = &all->v[all->n - 1];
            free(from);
            from = xmalloc(last->keylen + 2);
            memcpy(from, last->key, last->keylen);
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

/* The entries: the plan's tenants, each with its live value if any, then
 * the live entries the plan drops. */
static void take_entries(etarget *t, const char *tp, etcd_kvs *live)
{
    const json_t *tenants = t->c.base.env->tenants;
    json_t *idx = json_object();   /* live keys -> index */
    for (size_t i = 0; i < live->n; i++)
        json_object_set_new(idx, live->v[i].key, json_integer((json_int_t)i));
    t->c.ent = xcalloc(json_array_size(tenants) + live->n + 1, sizeof *t->c.ent);
    size_t i;
    json_t *tj;
    json_array_foreach(tenants, i, tj) {
        cfg_entry *x = &t->c.ent[t->c.nent++];
        const char *name = json_string_value(json_object_get(tj, "name"));
        char *en = cfg_enc_name(name ? name : "");
        x->tenant = xstrdup(name ? name : "");
        x->key = str_printf("%s%s", tp, en);
        free(en);
        x->newval = cfg_config_text(tj);
        x->newlen = strlen(x->newval);
        json_t *li = json_object_get(idx, x->key);
        if (li) {
            etcd_kv *kv = &live->v[json_integer_value(li)];
            x->oldval = kv->val;
            x->oldlen = kv->vallen;
            x->oldrev = kv->mod_rev;
            kv->val = NULL;
            json_object_del(idx, x->key);
        }
        x->changed = !x->oldval || x->oldlen != x->newlen ||
                     memcmp(x->oldval, x->newval, x->newlen);
    }
    const char *k;
    json_t *li;
    json_object_foreach(idx, k, li) {
        etcd_kv *kv = &live->v[json_integer_value(li)];
        cfg_entry *x = &t->c.ent[t->c.nent++];
        json_t *vj = json_loadb(kv->val, kv->vallen, 0, NULL);
        const char *nm = json_string_value(json_object_get(vj, "name"));
        x->tenant = xstrdup(nm ? nm : k + strlen(tp));
        json_decref(vj);
        x->key = xstrdup(k);
        x->oldval = kv->val;
        x->oldlen = kv->vallen;
        x->oldrev = kv->mod_rev;
        kv->val = NULL;
        x->changed = true;
    }
    json_decref(idx);
}

static bool et_read(target *tg, target_read *r, rerr *e)
{
    etarget *t = (etarget *)tg;
    cfg_entries_free(&t->c);
    free(t->state_old);
    t->state_old = NULL;
    char tp[700], sk[700];
    key_of(t, tp, sizeof tp, "tenants/");
    etcd_kvs live;
    if (!range_all(t->ec, tp, &live, e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    take_entries(t, tp, &live);
    etcd_kvs_free(&live);
    cfg_sort_entries(&t->c);
    /* The applied state. */
    key_of(t, sk, sizeof sk, "deploy/state");
    etcd_kvs st;
    if (!etcd_range(t->ec, sk, NULL, 0, &st, e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    if (st.n) {
        t->state_old = st.v[0].val;
        t->state_oldlen = st.v[0].vallen;
        t->state_rev = st.v[0].mod_rev;
        st.v[0].val = NULL;
    }
    etcd_kvs_free(&st);
    cfg_count(&t->c, r);
    return true;
}

/* The changed entries and the applied state, always. */
static json_t *et_checkpoint(target *tg, rerr *e)
{
    (void)e;
    etarget *t = (etarget *)tg;
    json_t *keys = cfg_checkpoint_keys(&t->c);
    char sk[700];
    key_of(t, sk, sizeof sk, "deploy/state");
    char *s = t->state_old ? etcd_base64(t->state_old, t->state_oldlen) : NULL;
    json_array_append_new(keys, json_pack("{s:s,s:o,s:I}", "k", sk, "v64",
                                          s ? json_string(s) : json_null(), "rev",
                                          (json_int_t)t->state_rev));
    free(s);
    return json_pack("{s:O,s:o}", "target", tg->desc, "keys", keys);
}

/* --- writing ------------------------------------------------------------------- */

/* After a failed conditional txn: which key moved, for the message. */
static void name_conflict(etarget *t, const etcd_cmp *cmps, size_t n, rerr *e)
{
    etcd_op *rs = xcalloc(n, sizeof *rs);
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
                 t->c.base.name, etcd_endpoint(t->ec), which, now, was);
    else
        rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s (etcd %s): a key of the deploy changed "
                 "since the checkpoint: another writer is at work", t->c.base.name,
                 etcd_endpoint(t->ec));
    etcd_kvs_free(&got);
    free(rs);
}

/* Writes ops (with compares when cmps is not NULL) in transactions of at
 * most ETCD_MAX_TXN_OPS operations and TXN_MAX_BYTES of values; in a deploy
 * (renew), the locks are renewed between them. */
static bool write_batches(etarget *t, const etcd_op *ops, const etcd_cmp *cmps, size_t n,
                          bool faults, bool renew, size_t *written, rerr *e)
{
    const target_env *env = t->c.base.env;
    size_t at = 0;
    while (at < n) {
        size_t k = 0, bytes = 0;
        while (at + k < n && k < ETCD_MAX_TXN_OPS &&
               (k == 0 || bytes + ops[at + k].vallen <= TXN_MAX_BYTES))
            bytes += ops[at + k++].vallen;
        if (faults && !fault_point("apply.gateway", e))
            return false;
        if (renew && !env->renew(env->ud, e))
            return false;
        bool succeeded;
        long long rev;
        if (!etcd_txn(t->ec, cmps ? cmps + at : NULL, cmps ? k : 0, ops + at, k, NULL, 0,
                      &succeeded, &rev, NULL, e)) {
            rerr_prefix(e, "target %s", t->c.base.name);
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

static bool et_apply(target *tg, size_t *written, rerr *e)
{
    etarget *t = (etarget *)tg;
    size_t n = 0;
    for (size_t m = 0; m < t->c.nent; m++)
        n += t->c.ent[m].changed;
    etcd_op *ops = xcalloc(n + 1, sizeof *ops);
    etcd_cmp *cmps = xcalloc(n + 1, sizeof *cmps);
    size_t j = 0;
    for (size_t m = 0; m < t->c.nent; m++) {
        cfg_entry *x = &t->c.ent[m];
        if (!x->changed)
            continue;
        cmps[j] = (etcd_cmp){.key = x->key, .target = ETCD_CMP_MOD, .rev = x->oldrev};
        ops[j++] = x->newval ? (etcd_op){.kind = ETCD_OP_PUT, .key = x->key, .val = x->newval,
                                         .vallen = x->newlen}
                             : (etcd_op){.kind = ETCD_OP_DELETE, .key = x->key};
    }
    bool ok = write_batches(t, ops, cmps, n, true, true, written, e);
    free(ops);
    free(cmps);
    return ok;
}

/* Whether the written entries xs[0..k) read back (got) as written. */
static bool same_as_written(etarget *t, cfg_entry **xs, size_t k, const etcd_kvs *got, rerr *e)
{
    for (size_t a = 0; a < k; a++) {
        const etcd_kv *kv = NULL;
        for (size_t b = 0; b < got->n; b++)
            if (!strcmp(got->v[b].key, xs[a]->key))
                kv = &got->v[b];
        bool same = xs[a]->newval ? kv && kv->vallen == xs[a]->newlen &&
                                        !memcmp(kv->val, xs[a]->newval, kv->vallen)
                                  : !kv;
        if (!same)
            return rerr_set(e, DIAG_GATEWAY_VERIFY, "target %s (etcd %s): key %s reads back "
                            "%s, not what was written", t->c.base.name, etcd_endpoint(t->ec),
                            xs[a]->key, kv ? "a different value" : "as absent");
    }
    return true;
}

static bool et_verify(target *tg, json_t *summary, rerr *e)
{
    (void)summary;
    etarget *t = (etarget *)tg;
    size_t m = 0;
    while (m < t->c.nent) {
        etcd_op rs[ETCD_MAX_TXN_OPS];
        cfg_entry *xs[ETCD_MAX_TXN_OPS];
        size_t k = 0;
        for (; m < t->c.nent && k < ETCD_MAX_TXN_OPS; m++)
            if (t->c.ent[m].changed) {
                xs[k] = &t->c.ent[m];
                rs[k++] = (etcd_op){.kind = ETCD_OP_RANGE, .key = t->c.ent[m].key};
            }
        if (!k)
            break;
        bool okc;
        etcd_kvs got;
        if (!etcd_txn(t->ec, NULL, 0, rs, k, NULL, 0, &okc, NULL, &got, e)) {
            rerr_prefix(e, "target %s", tg->name);
            return false;
        }
        bool ok = same_as_written(t, xs, k, &got, e);
        etcd_kvs_free(&got);
        if (!ok)
            return false;
    }
    return true;
}

/* {"plan": DIGEST, "tenants": N, "versions": SHA-256 of the canonical
 * {name: version} map} of the plan just applied.  A digest, not the map:
 * the map of 100 000 tenants (8 MB) would not fit etcd's 1.5 MiB request
 * limit; `rlc status PLAN` names the tenants that differ. */
static char *state_text(const etarget *t, const char *digest)
{
    json_t *m = json_object();
    for (size_t i = 0; i < t->c.nent; i++)
        if (t->c.ent[i].newval)
            json_object_set_new(m, t->c.ent[i].tenant,
                                cfg_version_of(t->c.ent[i].newval, t->c.ent[i].newlen));
    char hex[DIGEST_HEX_LEN + 1];
    digest_json_hex(m, hex);
    json_t *s = json_pack("{s:s,s:I,s:s}", "plan", digest, "tenants",
                          (json_int_t)json_object_size(m), "versions", hex);
    json_decref(m);
    char *text = digest_canonical_json(s);
    json_decref(s);
    return text;
}

static bool et_commit(target *tg, rerr *e)
{
    etarget *t = (etarget *)tg;
    char sk[700];
    key_of(t, sk, sizeof sk, "deploy/state");
    char *text = state_text(t, tg->env->digest);
    etcd_cmp c = {.key = sk, .target = ETCD_CMP_MOD, .rev = t->state_rev};
    etcd_op o = {.kind = ETCD_OP_PUT, .key = sk, .val = text, .vallen = strlen(text)};
    bool ok = write_batches(t, &o, &c, 1, false, true, NULL, e);
    free(text);
    return ok;
}

static bool et_restore(target *tg, const json_t *entry, bool stale, rerr *e)
{
    (void)stale;
    etarget *t = (etarget *)tg;
    const json_t *keys = json_object_get(entry, "keys");
    size_t n = json_array_size(keys);
    etcd_op *ops = xcalloc(n + 1, sizeof *ops);
    char **vals = xcalloc(n + 1, sizeof *vals);
    size_t k;
    json_t *kj;
    bool ok = true;
    json_array_foreach(keys, k, kj) {
        const char *key;
        size_t vl;
        if (!(ok = cfg_ck_entry(tg, kj, &key, &vals[k], &vl, e)))
            break;
        ops[k] = vals[k] ? (etcd_op){.kind = ETCD_OP_PUT, .key = key, .val = vals[k],
                                     .vallen = vl}
                         : (etcd_op){.kind = ETCD_OP_DELETE, .key = key};
    }
    if (ok)
        ok = write_batches(t, ops, NULL, n, false, false, NULL, e);
    for (k = 0; k < n; k++)
        free(vals[k]);
    free(vals);
    free(ops);
    return ok;
}

/* The applied state's plan (malloc'd; NULL when none recorded). */
static char *live_plan(etarget *t, rerr *e)
{
    char sk[700];
    key_of(t, sk, sizeof sk, "deploy/state");
    etcd_kvs st;
    if (!etcd_range(t->ec, sk, NULL, 0, &st, e))
        return NULL;
    json_t *j = st.n ? json_loadb(st.v[0].val, st.v[0].vallen, 0, NULL) : NULL;
    etcd_kvs_free(&st);
    const char *p = json_string_value(json_object_get(j, "plan"));
    char *out = p ? xstrdup(p) : NULL;
    json_decref(j);
    return out;
}

static bool et_rollback_check(target *tg, const json_t *entry, const char *ck_plan,
                              const char *id, rerr *e)
{
    (void)entry;
    rerr le = {0};
    char *live = live_plan((etarget *)tg, &le);
    if (le.code) {
        *e = le;
        return false;
    }
    bool ok = true;
    if (ck_plan && (!live || strcmp(live, ck_plan)))
        ok = rerr_set(e, DIAG_ROLLBACK_REFUSED, "etcd: the applied plan is %.16s, not %.16s "
                      "(the deploy that followed checkpoint %s): a later deploy changed the "
                      "store; --force restores the checkpoint anyway", live ? live : "(none)",
                      ck_plan, id);
    free(live);
    return ok;
}

static void et_anchor(target *tg, const char *head, const char *line)
{
    (void)line;
    etarget *t = (etarget *)tg;
    if (!t->ec)
        return;
    char k[700];
    key_of(t, k, sizeof k, "audit/head");
    rerr te;
    etcd_put(t->ec, k, head, strlen(head), 0, &te);
}

/* --- lock ------------------------------------------------------------------------ */

static void et_lock_what(const target *tg, char *out, size_t n)
{
    (void)tg;
    snprintf(out, n, "etcd lease on the first etcd target");
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

static bool et_lock(target *tg, rerr *e)
{
    etarget *t = (etarget *)tg;
    const target_env *env = tg->env;
    key_of(t, t->lkey, sizeof t->lkey, "deploy/lock");
    const char *v = getenv("RLC_LOCK_TTL_MS");
    t->ttl_ms = v && atoi(v) > 0 ? atoi(v) : 30000;
    if (!etcd_lease_grant(t->ec, (t->ttl_ms + 999) / 1000, &t->lease, e)) {
        rerr_prefix(e, "target %s: deploy lock", tg->name);
        return false;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    const char *user = getenv("USER");
    json_t *h = json_pack("{s:s,s:s,s:I,s:s,s:I}", "user", user ? user : "?", "host", host,
                          "pid", (json_int_t)getpid(), "run", env->run, "since_ms",
                          (json_int_t)statedir_now_ms());
    char *hj = digest_canonical_json(h);
    json_decref(h);
    char *val = str_printf("%s|%s", env->token, hj);
    free(hj);
    /* Put only if the key does not exist (create_revision 0); else read it
     * to name the holder. */
    etcd_cmp c = {.key = t->lkey, .target = ETCD_CMP_CREATE, .rev = 0};
    etcd_op put = {.kind = ETCD_OP_PUT, .key = t->lkey, .val = val, .vallen = strlen(val),
                   .lease = t->lease};
    etcd_op get = {.kind = ETCD_OP_RANGE, .key = t->lkey};
    bool won;
    etcd_kvs cur;
    bool ok = etcd_txn(t->ec, &c, 1, &put, 1, &get, 1, &won, NULL, &cur, e);
    free(val);
    rerr te;
    if (!ok) {
        etcd_lease_revoke(t->ec, t->lease, &te);
        rerr_prefix(e, "target %s: deploy lock", tg->name);
        return false;
    }
    if (!won) {
        char who[600] = "a holder that just released it";
        if (cur.n)
            describe_holder(cur.v[0].val, cur.v[0].vallen, who, sizeof who);
        etcd_kvs_free(&cur);
        etcd_lease_revoke(t->ec, t->lease, &te);
        return rerr_set(e, DIAG_LOCK_HELD, "deploy lock %s on etcd %s is held by %s", t->lkey,
                        etcd_endpoint(t->ec), who);
    }
    etcd_kvs_free(&cur);
    t->renewed_ms = statedir_now_ms();
    return true;
}

static bool et_keepalive(target *tg, bool force, rerr *e)
{
    etarget *t = (etarget *)tg;
    long long now = statedir_now_ms();
    if (!force && now - t->renewed_ms < t->ttl_ms / 3)
        return true;
    long long ttl;
    if (!etcd_lease_keepalive(t->ec, t->lease, &ttl, e)) {
        rerr_prefix(e, "target %s: renewing the deploy lock", tg->name);
        return false;
    }
    if (ttl <= 0) {
        tg->locked = false;
        return rerr_set(e, DIAG_LOCK_LOST, "deploy lock %s on etcd %s: its lease expired or "
                        "was revoked", t->lkey, etcd_endpoint(t->ec));
    }
    if (force) {
        /* The key must still be ours (someone may have deleted it). */
        etcd_kvs cur;
        if (!etcd_range(t->ec, t->lkey, NULL, 0, &cur, e))
            return false;
        size_t tl = strlen(tg->env->token);
        bool mine = cur.n && cur.v[0].vallen > tl && !memcmp(cur.v[0].val, tg->env->token, tl) &&
                    cur.v[0].val[tl] == '|';
        etcd_kvs_free(&cur);
        if (!mine) {
            tg->locked = false;
            return rerr_set(e, DIAG_LOCK_LOST, "deploy lock %s on etcd %s was deleted or taken "
                            "by another run", t->lkey, etcd_endpoint(t->ec));
        }
    }
    t->renewed_ms = now;
    return true;
}

static void et_unlock(target *tg)
{
    rerr te;
    etcd_lease_revoke(((etarget *)tg)->ec, ((etarget *)tg)->lease, &te);
}

static bool et_unlock_token(target *tg, const char *token, rerr *e)
{
    etarget *t = (etarget *)tg;
    char k[700];
    key_of(t, k, sizeof k, "deploy/lock");
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

/* The lock holder (JSON object with "key", caller decrefs) or NULL. */
static json_t *lock_holder(etarget *t, rerr *e)
{
    char k[700];
    key_of(t, k, sizeof k, "deploy/lock");
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

static bool et_lock_gone(target *tg, const char *who, const char *token, rerr *e)
{
    (void)token;
    json_t *h = lock_holder((etarget *)tg, e);
    if (e->code) {
        json_decref(h);
        return false;
    }
    const char *run = json_string_value(json_object_get(h, "run"));
    bool ours = run && !strcmp(run, tg->env->run);
    json_decref(h);
    if (ours)
        return rerr_set(e, DIAG_LOCK_HELD, "%s is still running: the etcd deploy lock names "
                        "its run", who);
    return true;
}

/* --- status ------------------------------------------------------------------------ */

/* Why the live entry kv is drift, or NULL; applied: the applied versions
 * by name when known.  Its name and version into live_map. */
static const char *entry_drift(const etcd_kv *kv, const char *tp, const json_t *applied,
                               json_t *live_map, json_t **name)
{
    json_t *vj = json_loadb(kv->val, kv->vallen, 0, NULL);
    const char *nm = json_string_value(json_object_get(vj, "name"));
    const char *ver = json_string_value(json_object_get(vj, "version"));
    char *en = nm ? cfg_enc_name(nm) : NULL;
    const char *kn = kv->key + strlen(tp);   /* the key's last segment */
    const char *why = cfg_config_problem(kv->val, kv->vallen, NULL);
    if (!why && (!en || strcmp(en, kn)))
        why = "name inside differs from the key";
    if (!why && applied && !json_object_get(applied, nm))
        why = "entry not written by the applied plan";
    else if (!why && applied &&
             strcmp(json_string_value(json_object_get(applied, nm)) ?: "", ver))
        why = "version differs from the applied one";
    *name = nm ? json_string(nm) : NULL;
    if (nm && ver)
        json_object_set_new(live_map, nm, json_string(ver));
    free(en);
    json_decref(vj);
    return why;
}

/* Drift of the live entries against the applied state sj. */
static void entries_drift(const etcd_kvs *live, const char *tp, const json_t *sj,
                          json_t *applied, json_t *dr)
{
    json_t *live_map = json_object();
    for (size_t m = 0; m < live->n; m++) {
        json_t *nm;
        const char *why = entry_drift(&live->v[m], tp, applied, live_map, &nm);
        if (why) {
            json_t *d = json_pack("{s:s,s:s}", "key", live->v[m].key, "what", why);
            if (nm)
                json_object_set(d, "tenant", nm);
            json_array_append_new(dr, d);
        }
        json_decref(nm);
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
    json_decref(live_map);
}

static bool et_status(target *tg, json_t *targets, size_t *drift, rerr *e)
{
    etarget *t = (etarget *)tg;
    const target_env *env = tg->env;
    json_t *tj = json_pack("{s:s,s:s,s:s}", "name", tg->name, "kind", "etcd", "address",
                           tg->addr);
    json_array_append_new(targets, tj);
    char tp[700], sk[700];
    key_of(t, tp, sizeof tp, "tenants/");
    key_of(t, sk, sizeof sk, "deploy/state");
    etcd_kvs live, st;
    if (!range_all(t->ec, tp, &live, e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    if (!etcd_range(t->ec, sk, NULL, 0, &st, e)) {
        etcd_kvs_free(&live);
        rerr_prefix(e, "target %s", tg->name);
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
    if (env->plan && env->tenants && applied_plan && !strcmp(env->digest, applied_plan)) {
        applied = json_object();
        size_t k;
        json_t *pt;
        json_array_foreach(env->tenants, k, pt)
            json_object_set(applied, json_string_value(json_object_get(pt, "name")) ?: "",
                            json_object_get(pt, "version"));
    }
    json_t *dr = json_array();
    entries_drift(&live, tp, sj, applied, dr);
    json_decref(applied);
    json_decref(sj);
    etcd_kvs_free(&live);
    rerr te = {0};
    json_t *holder = lock_holder(t, &te);
    if (holder)
        json_object_set_new(tj, "lock", holder);
    *drift += json_array_size(dr);
    json_object_set_new(tj, "drift", dr);
    return true;
}

const target_kind target_etcd = {
    .name = "etcd",
    .record = "gateways",
    .group = "etcd/http",
    .verify_how = "by reading back",
    .order = 1,
    .max = 8,
    .json_tenants = true,
    .lock_scope = TLOCK_FIRST,
    .create = et_create,
    .override = et_override,
    .connect = et_connect,
    .preflight = et_preflight,
    .health = et_health,
    .lock_what = et_lock_what,
    .lock = et_lock,
    .keepalive = et_keepalive,
    .unlock = et_unlock,
    .unlock_token = et_unlock_token,
    .lock_gone = et_lock_gone,
    .read = et_read,
    .changes = cfg_changes,
    .checkpoint = et_checkpoint,
    .ck_noop = cfg_ck_noop,
    .apply = et_apply,
    .verify = et_verify,
    .commit = et_commit,
    .restore = et_restore,
    .rollback_check = et_rollback_check,
    .anchor = et_anchor,
    .diff = cfg_diff,
    .status = et_status,
    .free = et_free,
};
