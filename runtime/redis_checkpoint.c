/* redis_checkpoint.c - a Redis target's checkpoint and its restore
 * (SPEC.md 7.7): DUMP and PTTL of every key a deploy may touch (the deploy
 * records, each changed tenant's pointer and configs, the shadow keys of
 * verification), RESTORE of them with their TTLs, and the pointers set
 * back through the library's activate, which re-times the counters.  The
 * deploy state hash is checkpointed whole when it was read whole, else by
 * the fields the deploy writes (a re-apply stays O(changed)). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan_key.h"
#include "target_redis.h"
#include "xalloc.h"

static char *hexdup(const char *p, size_t n)
{
    char *h = xmalloc(2 * n + 1);
    digest_hex((const unsigned char *)p, n, h);
    return h;
}

static size_t unhex(const char *h, char *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    return n;
}

static void add_key(json_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_key(json_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *k = str_vprintf(fmt, ap);
    va_end(ap);
    json_array_append_new(a, json_string(k));
    free(k);
}

/* Per verification case, not per tenant, so O(cases x rules of one
 * tenant); they must not outlive a crash, so they are checkpointed. */
/* The shadow counters of one tenant's rules: a template's counters are
 * per value, and verification names every template level "rlc-verify"
 * (SPEC.md 5.6). */
static void shadow_counters(json_t *a, const char *tag, const rl_tenant *ten)
{
    for (size_t r = 0; r < ten->nrules; r++) {
        const rl_rule *ru = &ten->rules[r];
        char suf[PLAN_DEPTH_MAX * 12 + 1] = "";
        for (int d = 1; d < PLAN_DEPTH_MAX; d++)
            if (ru->any_mask & (1u << d))
                strcat(suf, "/" RT_VERIFY_VALUE);
        add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_COUNTER "%s%s", tag, ru->id, suf);
        if (ru->kind == PLAN_SLIDING_WINDOW)
            add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_COUNTER "%s%s" PLAN_KEY_LOG, tag, ru->id,
                    suf);
    }
}

void rt_shadow_keys(rtarget *t, json_t *a)
{
    json_t *seen = json_object();
    size_t i;
    json_t *vc;
    const rl_ruleset *rs = t->base.env->rs;
    json_array_foreach(json_object_get(t->base.env->plan, "verify"), i, vc) {
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        rtenant *x = rt_find(t, tn);
        if (!tn || json_object_get(seen, tn))
            continue;
        json_object_set_new(seen, tn, json_true());
        if (!x) {
            /* A case of `tenant *`: only counters, under its made-up name. */
            if (rs->any_tenant && !rules_tenant(rs, tn)) {
                char *tag = plan_key_tag(t->base.env->ns, tn);
                add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_SEQ, tag);
                shadow_counters(a, tag, rs->any_tenant);
                free(tag);
            }
            continue;
        }
        add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_ACTIVE, rt_tag(t, x));
        add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_SEQ, rt_tag(t, x));
        add_key(a, "%s" PLAN_KEY_VERIFY PLAN_KEY_CFG "%s", rt_tag(t, x), x->newver);
        shadow_counters(a, rt_tag(t, x), x->t);
    }
    json_decref(seen);
}

/* Every key a deploy of t may touch (each tenant appears once in t->ten,
 * so the list has no duplicates). */
static json_t *touched_keys(rtarget *t)
{
    const char *ns = t->base.env->ns;
    json_t *a = json_array();
    /* The deploy state whole when it was read whole; else (the manifest
     * stood for it) only its fields this deploy writes (state_fields). */
    if (!t->fast_read)
        add_key(a, "%s:deploy:state", ns);
    add_key(a, "%s:deploy:plan", ns);
    add_key(a, "%s:deploy:manifest", ns);
    /* A fresh deploy's tenant keys are named by the entry's "fresh". */
    for (size_t i = 0; !t->fresh && i < t->nten; i++) {
        rtenant *x = &t->ten[i];
        if (x->changed) {
            add_key(a, "%s" PLAN_KEY_ACTIVE, rt_tag(t, x));
            if (x->live)
                add_key(a, "%s" PLAN_KEY_CFG "%s", rt_tag(t, x), x->live);
            if (x->t && (!x->live || strcmp(x->live, x->newver)))
                add_key(a, "%s" PLAN_KEY_CFG "%s", rt_tag(t, x), x->newver);
        }
    }
    rt_shadow_keys(t, a);
    return a;
}

/* DUMP + PTTL of every key: [{"k","d"(hex|null),"ttl"}].  A store that
 * was small enough to list at the read is listed again now: the keys it
 * does not hold go to *absent (names only) without a DUMP each. */
static json_t *snapshot(rtarget *t, json_t *keys, json_t *absent, rerr *e)
{
    if (t->keys_known)
        rt_keyspace(t);
    rpipe *p = rpipe_new(t->s);
    size_t i, *at = xmalloc((json_array_size(keys) + 1) * sizeof *at), n = 0;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *ks = json_string_value(k);
        const char *d[2] = {"DUMP", ks}, *pt[2] = {"PTTL", ks};
        at[i] = SIZE_MAX;
        if (!rt_key_may_exist(t, ks))
            continue;
        at[i] = n;
        n += 2;
        rpipe_add(p, ks, strlen(ks), 2, d, NULL);
        rpipe_add(p, ks, strlen(ks), 2, pt, NULL);
    }
    json_t *out = NULL;
    if (!rpipe_exec(p, e))
        goto done;
    out = json_array();
    json_array_foreach(keys, i, k) {
        const redisReply *d = at[i] != SIZE_MAX ? rpipe_reply(p, at[i]) : NULL;
        const redisReply *pt = at[i] != SIZE_MAX ? rpipe_reply(p, at[i] + 1) : NULL;
        if (!d) {
            json_array_append(absent, k);
            continue;
        }
        json_t *o = json_pack("{s:O}", "k", k);
        if (d->type == REDIS_REPLY_STRING) {
            char *h = hexdup(d->str, d->len);
            json_object_set_new(o, "d", json_string(h));
            free(h);
            json_object_set_new(o, "ttl", json_integer(pt->type == REDIS_REPLY_INTEGER
                                                           ? pt->integer : -1));
        } else {
            json_object_set_new(o, "d", json_null());
        }
        json_array_append_new(out, o);
    }
done:
    rpipe_free(p);
    free(at);
    return out;
}

json_t *rt_library_code(const redisReply *r, rerr *e)
{
    if (!r)
        return NULL;
    if (r->type == REDIS_REPLY_ERROR) {
        rerr_set(e, DIAG_STORE_REPLY, "FUNCTION LIST: %s", r->str);
        return NULL;
    }
    json_t *out = json_null();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *lib = r->element[i];
        for (size_t k = 0; lib->type == REDIS_REPLY_ARRAY && k + 1 < lib->elements; k += 2)
            if (lib->element[k]->type == REDIS_REPLY_STRING &&
                !strcmp(lib->element[k]->str, "library_name") &&
                !(lib->element[k + 1]->str && !strcmp(lib->element[k + 1]->str, "rlc")))
                break;
            else if (lib->element[k]->type == REDIS_REPLY_STRING &&
                     !strcmp(lib->element[k]->str, "library_code") &&
                     lib->element[k + 1]->type == REDIS_REPLY_STRING) {
                json_decref(out);
                out = json_stringn(lib->element[k + 1]->str, lib->element[k + 1]->len);
            }
    }
    return out ? out : json_null();
}

json_t *rt_library_loaded(rtarget *t, rerr *e)
{
    redisReply *r = rconn_cmdf(rstore_node_conn(t->s, 0, e), e, RT_LIBRARY_LIST);
    json_t *out = rt_library_code(r, e);
    if (r)
        freeReplyObject(r);
    return out;
}

/* The fields of NS:deploy:state that the commit will set or delete (those
 * of commit_store), with their live values (null: absent), and the key's
 * TTL: {"fields": {...}, "ttl": ms or -1}.  O(changed tenants). */
static json_t *state_fields(rtarget *t, rerr *e)
{
    char sk[512];
    rt_key(t, sk, sizeof sk, "deploy:state");
    const char **names = xmalloc((t->nten + 1) * sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < t->nten; i++) {
        const rtenant *x = &t->ten[i];
        const char *was = x->t ? x->was : NULL;
        if (!x->t || !was || (!x->same_rec && strcmp(was, x->newver)))
            names[n++] = x->name;
    }
    rpipe *p = rpipe_new(t->s);
    for (size_t i = 0; i < n; i++) {
        const char *av[3] = {"HGET", sk, names[i]};
        rpipe_add(p, sk, strlen(sk), 3, av, NULL);
    }
    const char *pt[2] = {"PTTL", sk};
    rpipe_add(p, sk, strlen(sk), 2, pt, NULL);
    json_t *out = NULL;
    if (rpipe_exec(p, e)) {
        json_t *f = json_object();
        for (size_t i = 0; i < n; i++) {
            const redisReply *r = rpipe_reply(p, i);
            json_object_set_new(f, names[i], r->type == REDIS_REPLY_STRING
                                                 ? json_stringn(r->str, r->len)
                                                 : json_null());
        }
        const redisReply *tr = rpipe_reply(p, n);
        out = json_pack("{s:o,s:I}", "fields", f, "ttl",
                        (json_int_t)(tr->type == REDIS_REPLY_INTEGER ? tr->integer : -1));
    }
    rpipe_free(p);
    free(names);
    return out;
}

/* {"target", "keys": snapshot, "absent": keys known absent without a DUMP
 * (a listed store's; restored by deleting them), "active": pointers to
 * restore through the
 * library (so counters are re-timed), "before_plan", and with functions
 * "library": the library's code before (null: none), since it carries
 * `tenant *` and a rollback must give that back too}. */
json_t *redis_checkpoint(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    /* A fresh deploy: the namespace must still be empty now, under the
     * lock (a gateway may have written a counter since the read); if it
     * is not, every config is encoded now and each key is named. */
    if (t->fresh) {
        rt_keyspace(t);
        if (!rt_namespace_empty(t)) {
            t->fresh = false;
            const target_env *env = tg->env;
            if ((env->check_all && !env->check_all(env->ud, e)) || !rt_encode_all(t, e))
                return NULL;
        }
    }
    json_t *keys = touched_keys(t), *absent = json_array();
    json_t *snap = snapshot(t, keys, absent, e);
    json_decref(keys);
    if (!snap) {
        json_decref(absent);
        return NULL;
    }
    json_t *lib = NULL;
    if (t->functions && !tg->env->dry_run &&
        !(lib = t->lib_read ? json_incref(t->lib_read) : rt_library_loaded(t, e))) {
        json_decref(snap);
        return NULL;
    }
    t->lib_current = lib && !t->s->cluster &&
                     (t->lib_read ? t->lib_read_is_plans : rt_library_is_plans(t, lib));
    /* The pointers to set back; those that were absent are only counted
     * ("added"): their keys are deleted with the others, and a first
     * deploy's 100 000 null entries cost more to sort and write than the
     * rest of the checkpoint. */
    json_t *act = json_object();
    size_t added = 0;
    for (size_t m = 0; m < t->nten; m++) {
        if (!t->ten[m].changed)
            continue;
        if (t->ten[m].live)
            json_object_set_new(act, rt_tag(t, &t->ten[m]), json_string(t->ten[m].live));
        else
            added++;
    }
    json_t *ck = json_pack("{s:O,s:o,s:o,s:s?}", "target", tg->desc, "keys", snap, "active",
                           act, "before_plan", t->live_plan);
    if (added)
        json_object_set_new(ck, "added", json_integer((json_int_t)added));
    if (t->fresh) {
        char pre[PLAN_NS_MAX + 3];
        snprintf(pre, sizeof pre, "{%s:", tg->env->ns);
        json_object_set_new(ck, "fresh", json_string(pre));
    }
    if (lib)
        json_object_set_new(ck, "library", lib);
    if (json_array_size(absent))
        json_object_set_new(ck, "absent", absent);
    else
        json_decref(absent);
    if (t->fast_read) {
        json_t *st = state_fields(t, e);
        if (!st) {
            json_decref(ck);
            return NULL;
        }
        json_object_set_new(ck, "state", st);
    }
    return ck;
}

static bool restore_library_code(rtarget *t, const json_t *want, const json_t *now, rerr *e);

/* The checkpoint's library back on every primary, unless the code loaded
 * is that already. */
static bool restore_library(rtarget *t, const json_t *ck_t, rerr *e)
{
    const json_t *want = json_object_get(ck_t, "library");
    if (!want)
        return true;
    json_t *now = rt_library_loaded(t, e);
    if (!now)
        return false;
    if (json_equal(now, want) || (!json_is_string(want) && !json_is_string(now))) {
        json_decref(now);
        return true;
    }
    bool ok = restore_library_code(t, want, now, e);
    json_decref(now);
    return ok;
}

static bool restore_library_code(rtarget *t, const json_t *want, const json_t *now, rerr *e)
{
    if (json_is_string(want)) {
        const char *av[4] = {"FUNCTION", "LOAD", "REPLACE", json_string_value(want)};
        return rstore_on_primaries(t->s, 4, av, NULL, e);
    }
    /* No library before: keep the one loaded (a gateway may call it, and
     * without an active config it answers RLC_NOCONFIG as before), only
     * without the `tenant *` this deploy put in it. */
    const char *code = json_string_value(now);
    const char *at = code ? strstr(code, "\nlocal TEMPLATE = {") : NULL;
    if (!at)
        return true;
    const char *eol = strchr(at + 1, '\n');
    char *plain = str_printf("%.*s\nlocal TEMPLATE = nil%s", (int)(at - code), code,
                             eol ? eol : "\n");
    const char *av[4] = {"FUNCTION", "LOAD", "REPLACE", plain};
    bool ok = rstore_on_primaries(t->s, 4, av, NULL, e);
    free(plain);
    return ok;
}

/* A run that changed nothing: the plan was already active and no pointer
 * was to change. */
int redis_ck_noop(const json_t *entry, const char *plan_digest)
{
    const char *before = json_string_value(json_object_get(entry, "before_plan"));
    const json_t *act = json_object_get(entry, "active");
    return before && !strcmp(before, plan_digest) && json_is_object(act) &&
                   !json_object_size(act) && !json_integer_value(json_object_get(entry, "added"))
               ? 1
               : -1;
}

/* --- restore ----------------------------------------------------------------- */

/* Every key whose name starts with pre (a namespace's tags, "{ns:",
 * which holds no glob character: namespaces are [A-Za-z0-9_.-]), deleted
 * from every node: a fresh deploy's keys, and the counters gateways made
 * meanwhile, in a namespace that had none. */
static bool delete_prefixed(rtarget *t, const char *pre, rerr *e)
{
    for (const char *c = pre; *c; c++)
        if (strchr("*?[]\\", *c))
            return rerr_set(e, DIAG_STORE_REPLY, "checkpoint: fresh prefix '%s' is not a "
                            "namespace's", pre);
    char *pat = str_printf("%s*", pre);
    bool ok = true;
    for (size_t k = 0; ok && k < t->s->nnodes; k++) {
        rconn *c = rstore_node_conn(t->s, k, e);
        char cursor[32] = "0";
        ok = c != NULL;
        do {
            const char *sv[6] = {"SCAN", cursor, "MATCH", pat, "COUNT", "1000"};
            redisReply *r = ok ? rconn_cmd(c, e, 6, sv, NULL) : NULL;
            ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_STRING &&
                 r->element[0]->len < sizeof cursor && r->element[1]->type == REDIS_REPLY_ARRAY;
            if (r && !ok)
                rerr_set(e, DIAG_STORE_REPLY, "SCAN MATCH %s: %s", pat,
                         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            rpipe *p = ok ? rpipe_new(t->s) : NULL;
            for (size_t i = 0; ok && i < r->element[1]->elements; i++) {
                const redisReply *kr = r->element[1]->element[i];
                const char *av[2] = {"DEL", kr->str};
                size_t lens[2] = {3, kr->len};
                if (kr->type == REDIS_REPLY_STRING)
                    rpipe_add(p, kr->str, kr->len, 2, av, lens);
            }
            if (ok)
                memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
            freeReplyObject(r);
            if (ok && rpipe_count(p)) {
                ok = rpipe_exec(p, e);
                size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
                if (ok && bad != (size_t)-1)
                    ok = rerr_set(e, DIAG_STORE_REPLY, "restoring the checkpoint: %s",
                                  rpipe_reply(p, bad)->str);
            }
            rpipe_free(p);
        } while (ok && strcmp(cursor, "0"));
    }
    free(pat);
    return ok;
}

/* Configs first (RESTORE), keys absent at the checkpoint deleted; pointers
 * are left to restore_pointers. */
static bool restore_keys(rtarget *t, const json_t *ck_t, rerr *e)
{
    const char *fresh = json_string_value(json_object_get(ck_t, "fresh"));
    if (fresh && !delete_prefixed(t, fresh, e))
        return false;
    rpipe *p = rpipe_new(t->s);
    size_t i;
    json_t *k;
    json_t *act = json_object_get(ck_t, "active");
    json_array_foreach(json_object_get(ck_t, "keys"), i, k) {
        const char *ks = json_string_value(json_object_get(k, "k"));
        const char *d = json_string_value(json_object_get(k, "d"));
        size_t kl = strlen(ks);
        bool is_active = false;
        size_t al = sizeof PLAN_KEY_ACTIVE - 1;
        if (kl > al && !strcmp(ks + kl - al, PLAN_KEY_ACTIVE)) {
            char *tg = str_printf("%.*s", (int)(kl - al), ks);
            is_active = json_is_string(json_object_get(act, tg));
            free(tg);
        }
        if (is_active && d)
            continue;   /* restored through activate */
        if (!d) {
            const char *av[2] = {"DEL", ks};
            rpipe_add(p, ks, kl, 2, av, NULL);
            continue;
        }
        char *bin = xmalloc(strlen(d) / 2 + 1);
        size_t bl = unhex(d, bin);
        long long ttl = json_integer_value(json_object_get(k, "ttl"));
        char ttls[32];
        snprintf(ttls, sizeof ttls, "%lld", ttl > 0 ? ttl : 0);
        const char *av[5] = {"RESTORE", ks, ttls, bin, "REPLACE"};
        size_t lens[5] = {7, kl, strlen(ttls), bl, 7};
        rpipe_add(p, ks, kl, 5, av, lens);
        free(bin);
    }
    json_array_foreach(json_object_get(ck_t, "absent"), i, k) {
        const char *ks = json_string_value(k);
        const char *av[2] = {"DEL", ks};
        if (ks)
            rpipe_add(p, ks, strlen(ks), 2, av, NULL);
    }
    /* The deploy state's fields as they were (set, or deleted when they
     * were absent), and its TTL. */
    const json_t *st = json_object_get(ck_t, "state");
    if (st) {
        char sk[512];
        rt_key(t, sk, sizeof sk, "deploy:state");
        const char *f;
        json_t *v;
        json_object_foreach(json_object_get(st, "fields"), f, v) {
            const char *hs[4] = {"HSET", sk, f, json_string_value(v)};
            const char *hd[3] = {"HDEL", sk, f};
            if (json_is_string(v))
                rpipe_add(p, sk, strlen(sk), 4, hs, NULL);
            else
                rpipe_add(p, sk, strlen(sk), 3, hd, NULL);
        }
        json_int_t ttl = json_integer_value(json_object_get(st, "ttl"));
        if (ttl > 0) {
            char ttls[32];
            snprintf(ttls, sizeof ttls, "%lld", (long long)ttl);
            const char *pe[3] = {"PEXPIRE", sk, ttls};
            rpipe_add(p, sk, strlen(sk), 3, pe, NULL);
        }
    }
    bool ok = rpipe_exec(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "restoring the checkpoint: %s", rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    return ok;
}

/* The checkpoint's pointers through the library's activate, which re-times
 * the counters. */
static bool restore_pointers(rtarget *t, const json_t *ck_t, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    const char *tag;
    json_t *v;
    json_object_foreach(json_object_get(ck_t, "active"), tag, v) {
        if (!json_is_string(v))
            continue;   /* absent before: deleted with the keys */
        char *ak = str_printf("%s" PLAN_KEY_ACTIVE, tag);
        const char *ver = json_string_value(v);
        char now[24] = "";
        if (t->functions) {
            const char *av[6] = {"FCALL", "rlc_activate", "1", ak, ver, now};
            rpipe_add(p, ak, strlen(ak), 6, av, NULL);
        } else {
            const char *av[7] = {"EVALSHA", t->sha, "1", ak, "activate", ver, now};
            rpipe_add(p, ak, strlen(ak), 7, av, NULL);
        }
        free(ak);
    }
    bool ok = rpipe_exec(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "re-activating the old config: %s",
                 rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    return ok;
}

/* Without this run's preflight: which call form the store has (functions
 * unless absent), and without functions the script the pointers are set
 * back through, loaded now (a restart or SCRIPT FLUSH empties the script
 * cache, and a rollback has no plan): the library of the plan the journal
 * names, else this build's own.  Only its activate runs, which needs no
 * `tenant *`, so the script is the library as it stands, not composed. */
static bool probe_functions(rtarget *t, rerr *e)
{
    rerr none = {0};
    redisReply *r = rconn_cmdf(rstore_node_conn(t->s, 0, &none), &none,
                               "FUNCTION LIST LIBRARYNAME rlc");
    t->functions = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
    if (r)
        freeReplyObject(r);
    const char *nf = getenv("RLC_NO_FUNCTIONS");
    if (nf && *nf && strcmp(nf, "0"))
        t->functions = false;
    if (t->functions)
        return true;
    const char *pp = t->base.env->plan_path;
    char *ptext = pp ? statedir_read(pp, NULL) : NULL;
    json_t *pj = ptext ? json_loads(ptext, 0, NULL) : NULL;
    free(ptext);
    const char *src = json_string_value(json_object_get(json_object_get(pj, "library"),
                                                        "source"));
    char *own = NULL;
    if (!src) {
        size_t n = 0;
        const char *lib = redis_library_function(&n);
        src = own = lib ? xstrndup(lib, n) : NULL;
    }
    /* Loaded before anything is restored: a rollback that could not set
     * the pointers back must not have put the keys back either. */
    bool ok = src != NULL;
    if (ok) {
        const char *av[3] = {"SCRIPT", "LOAD", rt_script_body(t, src)};
        ok = rstore_on_primaries(t->s, 3, av, NULL, e);
    } else {
        rerr_set(e, DIAG_PLAN_SHAPE, "no enforcement library to set the pointers back "
                 "through (this build embeds none)");
    }
    free(own);
    json_decref(pj);
    return ok;
}

bool redis_restore(target *tg, const json_t *entry, bool stale, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    if (t->probed) {
        /* A fresh connection: the old one may have timed out mid-pipeline. */
        rstore_close(t->s);
        t->s = NULL;
        if (!rt_connect(tg, e))
            return false;
    } else if (!probe_functions(t, e)) {
        return false;
    }
    if (!restore_library(t, entry, e) || !restore_keys(t, entry, e) ||
        !restore_pointers(t, entry, e))
        return false;
    if (!stale)
        return true;
    /* The restored manifest described the store when the checkpoint was
     * taken; later deploys may have changed other tenants since.  Without
     * a manifest the next deploy reads every pointer. */
    char fk[512];
    rt_key(t, fk, sizeof fk, "deploy:manifest");
    const char *dv[2] = {"DEL", fk};
    return rt_cmd_ok(t, e, fk, 2, dv);
}

bool redis_rollback_check(target *tg, const json_t *entry, const char *ck_plan,
                          const char *id, rerr *e)
{
    char pk[512];
    rt_key((rtarget *)tg, pk, sizeof pk, "deploy:plan");
    const char *av[2] = {"GET", pk};
    redisReply *r = rstore_cmd(((rtarget *)tg)->s, pk, strlen(pk), 2, av, NULL, e);
    const char *live = r && r->type == REDIS_REPLY_STRING ? r->str : "";
    bool ok = true;
    if (ck_plan && strcmp(live, ck_plan)) {
        const char *before = json_string_value(json_object_get(entry, "before_plan"));
        if (!strcmp(live, before ? before : ""))
            ok = rerr_set(e, DIAG_ROLLBACK_REFUSED, "target %s: the store already holds the "
                          "state from before checkpoint %s (active plan %.16s): it was rolled "
                          "back already; --force restores the checkpoint anyway", tg->name, id,
                          live[0] ? live : "(none)");
        else
            ok = rerr_set(e, DIAG_ROLLBACK_REFUSED, "target %s: the store's active plan is "
                          "%.16s, not %.16s (the deploy that followed checkpoint %s): a later "
                          "deploy changed the store; --force restores the checkpoint anyway",
                          tg->name, live[0] ? live : "(none)", ck_plan, id);
    }
    if (r)
        freeReplyObject(r);
    return ok;
}
