/* target_redis.c - the Redis target kind (SPEC.md 6.2, 7): a standalone
 * Redis or a Redis Cluster holding each tenant's config hash under a
 * versioned key, its active pointer, the deploy's records (NS:deploy:state,
 * :plan, :manifest, :marker) and the deploy lock (lock.c).  Only the tenants
 * whose config version differs from the live pointer are checkpointed,
 * written and flipped, so a re-apply costs O(changed).  The checks before
 * the lock are in redis_preflight.c, checkpoint and restore in
 * redis_checkpoint.c, verification in redis_verify.c, the state
 * directory's record in redis_manifest.c, diff and status in
 * redis_report.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "arena.h"
#include "buf.h"
#include "fault.h"
#include "plan_digest.h"
#include "plan_key.h"
#include "secret.h"
#include "target_redis.h"
#include "target_url.h"
#include "xalloc.h"

/* --- small helpers ------------------------------------------------------------ */

void rt_key(const rtarget *t, char *out, size_t n, const char *what)
{
    snprintf(out, n, "%s:%s", t->base.env->ns ? t->base.env->ns : "rl", what);
}

static redisReply *cmd(rstore *s, rerr *e, const char *key, int argc, const char **argv)
{
    return rstore_cmd(s, key, key ? strlen(key) : 0, argc, argv, NULL, e);
}

bool rt_cmd_ok(rtarget *t, rerr *e, const char *key, int argc, const char **argv)
{
    redisReply *r = cmd(t->s, e, key, argc, argv);
    if (!r)
        return false;
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok)
        rerr_set(e, DIAG_STORE_REPLY, "%s %s: %s", argv[0], key ? key : "", r->str);
    freeReplyObject(r);
    return ok;
}

bool rt_cmds_ok(rtarget *t, rerr *e, size_t n, const char *const *keys, const int *argcs,
               const char *const *const *argvs)
{
    rpipe *p = rpipe_new(t->s);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = rpipe_add(p, keys[i], strlen(keys[i]), argcs[i], (const char **)argvs[i], NULL);
    ok = ok && rpipe_exec(p, e);
    for (size_t i = 0; ok && i < n; i++) {
        const redisReply *r = rpipe_reply(p, i);
        if (!r || r->type == REDIS_REPLY_ERROR)
            ok = rerr_set(e, DIAG_STORE_REPLY, "%s %s: %s", argvs[i][0], keys[i],
                          r ? r->str : "no reply");
    }
    rpipe_free(p);
    return ok;
}

const char *rt_script_body(rtarget *t, const char *src)
{
    buf_free(&t->script_text);
    buf_init(&t->script_text, BUF_DEFAULT_MAX);
    redis_library_evalsha(src, strlen(src), &t->script_text);
    const char *body = buf_str(&t->script_text);
    digest_sha1_hex(body, strlen(body), t->sha);
    return body;
}

/* --- the target ---------------------------------------------------------------- */

static target *rt_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)all;
    (void)e;
    rtarget *t = xcalloc(1, sizeof *t);
    t->base.kind = &target_redis;
    t->base.env = env;
    snprintf(t->base.name, sizeof t->base.name, "%s",
             json_string_value(json_object_get(tj, "name")) ?: "?");
    /* A recorded description may carry an override's spec; the plan's
     * entry, its settings. */
    t->base.desc = json_object_get(tj, "spec")
                       ? json_deep_copy(tj)
                       : json_pack("{s:s,s:O}", "name", t->base.name, "settings",
                                   json_object_get(tj, "settings"));
    return &t->base;
}

static bool rt_override(target *tg, const char *spec, rerr *e)
{
    (void)e;
    json_decref(tg->desc);
    tg->desc = json_pack("{s:s,s:s}", "name", tg->name, "spec", spec);
    return true;
}

/* desc: {"name", "spec"} (an override) or {"name", "settings"} (the plan). */
static bool rt_resolve(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    const char *spec = json_string_value(json_object_get(tg->desc, "spec"));
    json_t *st = json_object_get(tg->desc, "settings");
    if (spec ? !target_url_from_spec(spec, &t->url, e)
             : !target_url_from_setting(json_object_get(st, "url"), &t->url, e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    if (!spec) {
        if (!secret_resolve(json_object_get(st, "username"), "username", t->user,
                            sizeof t->user, e) ||
            !secret_resolve(json_object_get(st, "password"), "password", t->pass,
                            sizeof t->pass, e)) {
            rerr_prefix(e, "target %s", tg->name);
            return false;
        }
    }
    if (!spec && !target_url_tls_settings(st, &t->url, e)) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    if (!t->user[0])
        snprintf(t->user, sizeof t->user, "%s", t->url.user);
    if (!t->pass[0])
        snprintf(t->pass, sizeof t->pass, "%s", t->url.pass);
    snprintf(tg->addr, sizeof tg->addr, "%s://%s%s%s:%d", t->url.tls.on ? "rediss" : "redis",
             t->user[0] ? t->user : "",
             t->user[0] ? "@" : "", t->url.host, t->url.port);
    return true;
}

/* The least command timeout of rlc's own connections to a redis target. */
#define RT_MIN_TIMEOUT_MS 5000

bool rt_connect(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    /* The setting is also the gateway's wait for one decision, where tens
     * of milliseconds make sense; rlc's own bulk pipelines queue behind a
     * server that may pause (a fork for BGSAVE, a loaded machine), so rlc
     * waits at least RT_MIN_TIMEOUT_MS unless RLC_TIMEOUT_MS says exactly. */
    int cmd_ms = RT_MIN_TIMEOUT_MS;
    json_t *to = json_object_get(json_object_get(tg->desc, "settings"), "timeout_ms");
    if (json_is_integer(to) && json_integer_value(to) > RT_MIN_TIMEOUT_MS &&
        json_integer_value(to) < INT_MAX)
        cmd_ms = (int)json_integer_value(to);
    const char *env = getenv("RLC_TIMEOUT_MS");
    if (env && atoi(env) > 0)
        cmd_ms = atoi(env);
    rconn_opts ro = {.connect_ms = 2000, .cmd_ms = cmd_ms, .user = t->user, .pass = t->pass,
                     .db = t->url.db};
    t->s = rstore_open(&t->url, &ro, e);
    if (!t->s) {
        rerr_prefix(e, "target %s", tg->name);
        return false;
    }
    t->lock.s = t->s;
    return true;
}

static void keys_forget(rtarget *t)
{
    for (size_t i = 0; i < t->nkeys; i++)
        free(t->keys[i]);
    free(t->keys);
    t->keys = NULL;
    t->nkeys = 0;
    t->keys_known = false;
}

static void rt_free(target *tg)
{
    rtarget *t = (rtarget *)tg;
    for (size_t m = 0; m < t->nten; m++) {
        free(t->ten[m].tag);
        if (t->ten[m].live_own)
            free((char *)t->ten[m].live);
        redis_cmds_free(&t->ten[m].cmds);
    }
    free(t->ten);
    keys_forget(t);
    arena_free(t->scratch);
    redis_config_enc_free(&t->enc);
    free(t->st);
    free(t->st_text);
    redis_manifest_free(t);
    free(t->live_plan);
    json_decref(t->lib_read);
    buf_free(&t->lib_text);
    buf_free(&t->script_text);
    json_decref(tg->desc);
    rstore_close(t->s);
    secret_wipe(t->pass, sizeof t->pass);
    secret_wipe(t->url.pass, sizeof t->url.pass);
    secret_wipe(t->url.tls.key_pass, sizeof t->url.tls.key_pass);
    free(t);
}

/* --- the lock (lock.c) ------------------------------------------------------------ */

static void rt_lock_what(const target *tg, char *out, size_t n)
{
    snprintf(out, n, "%s:deploy:lock", tg->env->ns);
}

static bool rt_lock(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    return lock_acquire(&t->lock, t->s, tg->env->ns, tg->env->run, tg->env->token, e);
}

static bool rt_keepalive(target *tg, bool force, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    return force ? lock_renew(&t->lock, e) : lock_keepalive(&t->lock, e);
}

static void rt_unlock(target *tg)
{
    rerr ae;
    lock_release(&((rtarget *)tg)->lock, &ae);
}

static bool rt_unlock_token(target *tg, const char *token, rerr *e)
{
    bool rel;
    return lock_release_token(((rtarget *)tg)->s, tg->env->ns, token, &rel, e);
}

static bool rt_lock_gone(target *tg, const char *who, const char *token, rerr *e)
{
    bool present;
    char *cur = NULL;
    long long pttl;
    if (!lock_peek(((rtarget *)tg)->s, tg->env->ns, &present, &cur, &pttl, e))
        return false;
    bool ours = present && token && !strncmp(cur, token, strlen(token)) &&
                cur[strlen(token)] == '|';
    free(cur);
    if (ours)
        return rerr_set(e, DIAG_LOCK_HELD, "%s is still running: target %s's lock %s:deploy:"
                        "lock carries its token (expires in %.1f s unless renewed)", who,
                        tg->name, tg->env->ns, (double)pttl / 1000.0);
    return true;
}

/* --- live state ---------------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const rtenant *)a)->name, ((const rtenant *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const rkv *)a)->k, ((const rkv *)b)->k);
}

/* The tenant's config commands and version (redis_config_tenant), once;
 * its rules are read first when the plan left them unread (RLC3106 when
 * they are not rules the runtime takes: nothing has been written yet). */
bool rt_encode(rtarget *t, rtenant *x, rerr *e)
{
    if (!x->t || x->cmds.n)
        return true;
    const target_env *env = t->base.env;
    rl_ruleset *rs = (rl_ruleset *)env->rs;
    char err[512];
    /* A tenant no verification case names needs its rules only here: they
     * are read into scratch memory and forgotten, so that a deploy of
     * 100 000 tenants does not hold all their rules at once. */
    bool once = !x->verified && (x->t->text || x->t->deferred);
    rl_tenant tmp;
    if (once) {
        if (!t->scratch)
            t->scratch = arena_new();
        if (!rules_tenant_read(rs, x->t, t->scratch, &tmp, err, sizeof err))
            return rerr_set(e, rs->fetch_code ? rs->fetch_code : DIAG_PLAN_SHAPE, "%s", err);
    } else if (!rules_tenant_load(rs, x->t, err, sizeof err)) {
        return rerr_set(e, rs->fetch_code ? rs->fetch_code : DIAG_PLAN_SHAPE, "%s", err);
    }
    t->encoded++;
    redis_config_tenant(rs, once ? &tmp : x->t, t->functions ? NULL : t->sha,
                        env->client_time ? statedir_now_ms() : -1, &x->cmds, x->newver);
    if (once)
        arena_reset(t->scratch);
    return true;
}

/* A first deploy's commands of tenant x (its config, then its pointer),
 * encoded straight into pipeline p's text (redis_config_fresh_resp): for a
 * tenant no verification case names, whose commands are not kept. */
static bool rt_encode_fresh(rtarget *t, rtenant *x, rpipe *p, rerr *e)
{
    const target_env *env = t->base.env;
    rl_ruleset *rs = (rl_ruleset *)env->rs;
    char err[512];
    rl_tenant tmp;
    const rl_tenant *rt = x->t;
    bool once = x->t->text || x->t->deferred;
    if (once) {
        if (!t->scratch)
            t->scratch = arena_new();
        if (!rules_tenant_read(rs, x->t, t->scratch, &tmp, err, sizeof err))
            return rerr_set(e, rs->fetch_code ? rs->fetch_code : DIAG_PLAN_SHAPE, "%s", err);
        rt = &tmp;
    } else if (!rules_tenant_load(rs, x->t, err, sizeof err)) {
        return rerr_set(e, rs->fetch_code ? rs->fetch_code : DIAG_PLAN_SHAPE, "%s", err);
    }
    t->encoded++;
    buf *text = rpipe_text(p);
    size_t at = text->len, lens[2];
    redis_config_fresh_resp(rs, rt, &t->enc, !t->functions, text, lens, x->newver);
    if (once)
        arena_reset(t->scratch);
    const char *tag = rt_tag(t, x);
    size_t tl = strlen(tag);
    if (!rpipe_add_resp(p, tag, tl, at, lens[0]) ||
        !rpipe_add_resp(p, tag, tl, at + lens[0], lens[1]))
        return rerr_set(e, DIAG_STORE_REPLY, "writing configs: a part's commands do not fit "
                        "in memory");
    return true;
}

/* NS:deploy:plan, and the deploy state: from this state directory's record
 * when the store's manifest matches it (t->fast_read), else HGETALL. */
static bool read_state(rtarget *t, bool full, rerr *e)
{
    char k[512], pk[512], mk[512];
    rt_key(t, pk, sizeof pk, "deploy:plan");
    rt_key(t, mk, sizeof mk, "deploy:manifest");
    redis_manifest_path(t);
    rpipe *p = rpipe_new(t->s);
    const char *g1[2] = {"GET", pk}, *g2[2] = {"GET", mk};
    rpipe_add(p, pk, strlen(pk), 2, g1, NULL);
    rpipe_add(p, mk, strlen(mk), 2, g2, NULL);
    if (!rpipe_exec(p, e)) {
        rpipe_free(p);
        return false;
    }
    const redisReply *rp = rpipe_reply(p, 0), *rm = rpipe_reply(p, 1);
    if (rp->type == REDIS_REPLY_STRING)
        t->live_plan = xstrdup(rp->str);
    int fast = redis_manifest_read(t, rm->type == REDIS_REPLY_STRING ? rm->str : NULL, full, e);
    if (fast < 0) {
        rpipe_free(p);
        return false;
    }
    t->fast_read = fast == 1;
    if (t->fast_read && strlen(rm->str) == DIGEST_HEX_LEN) {
        memcpy(t->live_manifest, rm->str, DIGEST_HEX_LEN + 1);
        t->live_is_record = true;
    }
    rpipe_free(p);
    if (t->fast_read)
        return true;
    rt_key(t, k, sizeof k, "deploy:state");
    const char *hg[2] = {"HGETALL", k};
    redisReply *r = cmd(t->s, e, k, 2, hg);
    if (!r)
        return false;
    /* Every name and version, NUL-terminated, one after the other. */
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0, bytes = 1;
    for (size_t i = 0; i < 2 * n; i++)
        bytes += r->element[i]->len + 1;
    t->st_text = xmalloc(bytes);
    t->st = xmalloc((n ? n : 1) * sizeof *t->st);
    char *w = t->st_text;
    for (size_t i = 0; i < n; i++) {
        const redisReply *kr = r->element[2 * i], *vr = r->element[2 * i + 1];
        t->st[i].k = w;
        t->st[i].pv = NULL;
        w = memcpy(w, kr->str, kr->len);
        w += kr->len;
        *w++ = '\0';
        t->st[i].v = w;
        w = memcpy(w, vr->str, vr->len);
        w += vr->len;
        *w++ = '\0';
    }
    t->nst = n;
    t->have_state = true;
    freeReplyObject(r);
    if (n > 1)
        qsort(t->st, n, sizeof *t->st, cmp_kv);
    return true;
}

/* t->ten: the plan's tenants plus those of the last deploy that it drops,
 * sorted by name, each with its new config version. */
static bool collect_tenants(rtarget *t, rerr *e)
{
    const target_env *env = t->base.env;
    size_t cap = env->rs->ntenants + t->nst;
    t->ten = xcalloc(cap ? cap : 1, sizeof *t->ten);
    xalloc_ready(t->ten, env->rs->ntenants * sizeof *t->ten);
    /* The verification's tenants (at most PLAN_VERIFY_MAX_CASES cases),
     * sorted, to mark them as the plan's tenants go by. */
    const json_t *cases = json_object_get(env->plan, "verify");
    const char **vn = xmalloc((json_array_size(cases) + 1) * sizeof *vn);
    size_t nv = 0, ci;
    json_t *vc;
    json_array_foreach(cases, ci, vc) {
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        if (tn)
            vn[nv++] = tn;
    }
    if (nv > 1)
        qsort(vn, nv, sizeof *vn, cmp_str);
    size_t rj = 0, vj = 0;
    for (size_t i = 0; i < env->rs->ntenants; i++) {
        rtenant *x = &t->ten[t->nten++];
        x->t = &env->rs->tenants[i];
        x->name = x->t->name;
        /* The ruleset's tenants are in name order (rules_finish), as are
         * the cases': one merge, not a search per tenant (five string
         * comparisons each for 32 cases, at 100 000 tenants). */
        int cv = 1;
        while (vj < nv && (cv = strcmp(vn[vj], x->name)) < 0)
            vj++;
        x->verified = vj < nv && cv == 0;
        /* The config version without encoding the tenant: the record's,
         * when it encoded the same rules (equal plan versions) with this
         * encoder.  Only tenants that change are encoded, later.  Plan
         * tenants and the record's come in name order: one merge. */
        /* A tenant known from the record borrows its name: one pointer
         * comparison, mostly, instead of two strcmp. */
        while (rj < t->rec_n && t->rec_kv[rj].k != x->name && strcmp(t->rec_kv[rj].k, x->name) < 0)
            rj++;
        /* A tenant known from this very record borrowed its version from
         * it: equal pointers, nothing to compare. */
        const char *rpv = rj < t->rec_n ? t->rec_kv[rj].pv : NULL;
        bool same = rpv && x->t->version &&
                    (t->rec_kv[rj].k == x->name || !strcmp(t->rec_kv[rj].k, x->name)) &&
                    (x->t->version == rpv ||
                     (strlen(x->t->version) == DIGEST_HEX_LEN &&
                      !memcmp(rpv, x->t->version, DIGEST_HEX_LEN))) &&
                    strlen(t->rec_kv[rj].v) == REDIS_CONFIG_VERSION_LEN;
        if (same) {
            memcpy(x->newver, t->rec_kv[rj].v, REDIS_CONFIG_VERSION_LEN + 1);
            /* The deploy state's entry is that record's entry (below). */
            x->same_rec = t->rec_kv == t->st;
        }
        else if (!(t->fresh && !x->verified) && !rt_encode(t, x, e)) {
            free(vn);
            return false;
        }
    }
    free(vn);
    /* The deploy state's entries: each plan tenant's, and the tenants it
     * has that the plan drops.  Both lists are in name order: one merge. */
    size_t nplan = t->nten, pi = 0;
    for (size_t j = 0; j < t->nst; j++) {
        const char *name = t->st[j].k;
        int c = 1;
        while (pi < nplan && (c = t->ten[pi].name == name ? 0 : strcmp(t->ten[pi].name, name)) < 0)
            pi++;
        if (pi < nplan && c == 0) {
            t->ten[pi].was = t->st[j].v;
            continue;
        }
        rtenant *x = &t->ten[t->nten++];
        x->name = name;
        x->was = t->st[j].v;
    }
    if (t->nten > nplan)
        qsort(t->ten, t->nten, sizeof *t->ten, cmp_name);
    return true;
}

/* Reads the active pointers that may differ from the plan: all, or (the
 * manifest matched) those whose recorded version is not the plan's, and
 * decides which tenants change. */
static bool read_pointers(rtarget *t, rerr *e)
{
    size_t *idx = xmalloc((t->nten ? t->nten : 1) * sizeof *idx), nidx = 0;
    for (size_t i = 0; i < t->nten; i++) {
        rtenant *x = &t->ten[i];
        const char *known = t->fast_read ? x->was : NULL;
        if (known && x->t && (x->same_rec || !strcmp(known, x->newver)))
            x->live = known;            /* unchanged, as the manifest proves */
        else
            idx[nidx++] = i;
    }
    rpipe *p = rpipe_new(t->s);
    size_t *got = xmalloc((nidx ? nidx : 1) * sizeof *got), ngot = 0;
    for (size_t j = 0; j < nidx; j++) {
        got[j] = SIZE_MAX;
        /* A fresh deploy's store holds nothing of the namespace: no key is
         * built for each of its tenants to be found absent. */
        if (t->fresh)
            continue;
        char *ak = str_printf("%s" PLAN_KEY_ACTIVE, rt_tag(t, &t->ten[idx[j]]));
        const char *av[2] = {"GET", ak};
        if (rt_key_may_exist(t, ak)) {
            got[j] = ngot++;
            rpipe_add(p, ak, strlen(ak), 2, av, NULL);
        }
        free(ak);
    }
    bool ok = rpipe_exec(p, e);
    for (size_t j = 0; ok && j < nidx; j++) {
        const redisReply *rr = got[j] != SIZE_MAX ? rpipe_reply(p, got[j]) : NULL;
        rtenant *x = &t->ten[idx[j]];
        if (rr && rr->type == REDIS_REPLY_STRING) {
            x->live = xstrdup(rr->str);
            x->live_own = true;
        }
        if (x->live ? !x->was || strcmp(x->live, x->was) : x->was != NULL)
            t->live_is_record = false;
        x->changed = x->t ? !x->live || strcmp(x->live, x->newver) : x->live != NULL;
        if (x->changed && !t->fresh)
            ok = rt_encode(t, x, e);
    }
    /* Verification writes shadow copies of its tenants' configs: of every
     * case's tenant, unless it will run only the changed tenants' cases,
     * which are encoded above (redis_verify). */
    size_t vi;
    json_t *vc;
    json_array_foreach(t->lib_same ? NULL : json_object_get(t->base.env->plan, "verify"), vi, vc) {
        rtenant *x = rt_find(t, json_string_value(json_object_get(vc, "tenant")));
        if (ok && x)
            ok = rt_encode(t, x, e);
    }
    t->pointers_read = ngot;
    rpipe_free(p);
    free(got);
    free(idx);
    return ok;
}

static bool load_library(rtarget *t, rerr *e);
static const buf *library_text(rtarget *t, rerr *e);

/* A store has one library, and it holds one namespace's `tenant *`:
 * refuse to replace another namespace's (RLC3186). */
static bool library_ns_check(rtarget *t, rerr *e)
{
    /* Before Redis 7 there is no library to hold one. */
    rerr none = {0};
    json_t *code = rt_library_loaded(t, &none);
    (void)e;
    if (!code)
        return true;
    t->lib_read_is_plans = t->functions && rt_library_is_plans(t, code);
    /* Only one node's library is read: on a cluster another primary's
     * could differ unseen, so there every case runs. */
    t->lib_same = t->lib_read_is_plans && !t->base.env->full_read && !t->s->cluster;
    char tagpre[PLAN_NS_MAX + 8], ver[REDIS_CONFIG_VERSION_LEN + 1];
    char *mine = plan_key_tag(t->base.env->ns, "");
    mine[strlen(mine) - 1] = '\0';     /* "{<ns>:" */
    bool ok = true;
    if (redis_library_template(json_string_value(code), tagpre, sizeof tagpre, ver) &&
        strcmp(tagpre, mine) != 0)
        ok = rerr_set(e, DIAG_LIBRARY_NAMESPACE, "%s: the loaded library holds the tenant * of "
                      "namespace '%.*s'; this plan is namespace '%s', and loading its library "
                      "would replace that one", t->base.name,
                      (int)(strlen(tagpre) > 2 ? strlen(tagpre) - 2 : 0), tagpre + 1,
                      t->base.env->ns);
    free(mine);
    json_decref(t->lib_read);
    t->lib_read = code;
    return ok;
}

static bool rt_read(target *tg, target_read *r, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    const target_env *env = tg->env;
    if (!library_ns_check(t, e))
        return false;
    /* EVALSHA mode needs the sha before configs are encoded. */
    if (!t->functions && !env->dry_run && !load_library(t, e))
        return false;
    if (!t->functions && env->dry_run) {
        const buf *lib = library_text(t, e);
        if (!lib)
            return false;
        rt_script_body(t, buf_str(lib));
    }
    if (!read_state(t, env->full_read, e))
        return false;
    /* A store read in full is listed when small (a first deploy's): the
     * pointers it does not hold are known absent without a GET each, and
     * a namespace it holds nothing of is deployed fresh. */
    if (!t->fast_read)
        rt_keyspace(t);
    t->fresh = !env->dry_run && !t->fast_read && rt_namespace_empty(t);
    /* Buckets of the plan not checked at load are checked by a fresh
     * deploy as it writes their tenants; anything else reads pointers by
     * the tenants' names, and compares versions, from here on. */
    if (!t->fresh && env->check_all && !env->check_all(env->ud, e))
        return false;
    /* Verification is scoped only when this state directory's record was
     * made under this library too (its encoder names it): then every
     * tenant's active config was verified with this library when it was
     * deployed, even if another namespace's deploy replaced the library
     * for a while in between. */
    if (!t->rec_kv)
        t->lib_same = false;
    if (!collect_tenants(t, e) || !read_pointers(t, e))
        return false;
    for (size_t m = 0; m < t->nten; m++) {
        r->changed += t->ten[m].changed && t->ten[m].t;
        r->removed += t->ten[m].changed && !t->ten[m].t;
    }
    r->pointers = t->pointers_read;
    /* A fresh deploy encodes the rest of its configs while writing them. */
    r->encoded = t->encoded;
    for (size_t m = 0; t->fresh && m < t->nten; m++)
        r->encoded += t->ten[m].t && t->ten[m].changed && !t->ten[m].cmds.n;
    r->full = !t->fast_read;
    char how[96 + PLAN_NS_MAX];
    if (t->fast_read)
        snprintf(how, sizeof how, "manifest matches this state directory's last deploy");
    else if (t->fresh)
        snprintf(how, sizeof how, "read in full (the store listed: %zu key%s, none of namespace "
                 "%s: configs encoded as they are written)", t->nkeys, t->nkeys == 1 ? "" : "s",
                 env->ns);
    else if (t->keys_known)
        snprintf(how, sizeof how, "read in full (the store listed: %zu key%s)", t->nkeys,
                 t->nkeys == 1 ? "" : "s");
    else
        snprintf(how, sizeof how, "read in full");
    target_say(tg, "live state: %s, %zu active pointer%s read", how, t->pointers_read,
               t->pointers_read == 1 ? "" : "s");
    return true;
}

void rt_keyspace(rtarget *t)
{
    keys_forget(t);
    if (t->s->cluster)
        return;
    rerr e = {0};
    rconn *c = rstore_node_conn(t->s, 0, &e);
    redisReply *r = c ? rconn_cmdf(c, &e, "DBSIZE") : NULL;
    bool ok = r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0 &&
              r->integer <= RT_KEYSPACE_LIST;
    freeReplyObject(r);
    size_t cap = 0;
    char cursor[32] = "0";
    do {
        const char *sv[4] = {"SCAN", cursor, "COUNT", "1000"};
        r = ok ? rconn_cmd(c, &e, 4, sv, NULL) : NULL;
        ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len < sizeof cursor &&
             r->element[1]->type == REDIS_REPLY_ARRAY;
        for (size_t i = 0; ok && i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];
            /* A listing grown past the bound (keys written meanwhile) is
             * not used: reading them one by one costs no more. */
            ok = k->type == REDIS_REPLY_STRING && t->nkeys < 2 * RT_KEYSPACE_LIST;
            if (!ok)
                break;
            if (t->nkeys == cap) {
                cap = cap ? 2 * cap : 64;
                t->keys = xreallocarray(t->keys, cap, sizeof *t->keys);
            }
            t->keys[t->nkeys++] = xstrndup(k->str, k->len);
        }
        if (ok)
            memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        freeReplyObject(r);
    } while (ok && strcmp(cursor, "0"));
    if (!ok) {
        keys_forget(t);
        return;
    }
    if (t->nkeys > 1)
        qsort(t->keys, t->nkeys, sizeof *t->keys, cmp_str);
    t->keys_known = true;
}

bool rt_namespace_empty(const rtarget *t)
{
    if (!t->keys_known || t->nst || t->live_plan)
        return false;
    char pre[PLAN_NS_MAX + 3], own[3][PLAN_NS_MAX + 24];
    snprintf(pre, sizeof pre, "{%s:", t->base.env->ns);
    rt_key(t, own[0], sizeof own[0], "deploy:state");
    rt_key(t, own[1], sizeof own[1], "deploy:plan");
    rt_key(t, own[2], sizeof own[2], "deploy:manifest");
    size_t pl = strlen(pre);
    for (size_t i = 0; i < t->nkeys; i++) {
        const char *k = t->keys[i];
        if (!strncmp(k, pre, pl) || !strcmp(k, own[0]) || !strcmp(k, own[1]) ||
            !strcmp(k, own[2]))
            return false;
    }
    return true;
}

bool rt_encode_all(rtarget *t, rerr *e)
{
    for (size_t i = 0; i < t->nten; i++)
        if (t->ten[i].t && !rt_encode(t, &t->ten[i], e))
            return false;
    t->fresh_encoded = true;
    return true;
}

bool rt_key_may_exist(const rtarget *t, const char *key)
{
    return !t->keys_known ||
           (t->nkeys && bsearch(&key, t->keys, t->nkeys, sizeof *t->keys, cmp_str));
}

const char *rt_tag(const rtarget *t, rtenant *x)
{
    if (!x->tag)
        x->tag = plan_key_tag(t->base.env->ns, x->name);
    return x->tag;
}

rtenant *rt_find(rtarget *t, const char *name)
{
    size_t lo = 0, hi = t->nten;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cm = strcmp(t->ten[mid].name, name);
        if (!cm)
            return t->ten[mid].t ? &t->ten[mid] : NULL;
        if (cm < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Digest of a tenant -> version map (the configuration state), over its
 * buckets (redis_state_digest). */
static bool rt_state_digest(const target *tg, bool after, char out[DIGEST_HEX_LEN + 1])
{
    /* The target is the caller's, not const: the digest after and its
     * buckets are kept in it (computed once, written into the record). */
    rtarget *t = (rtarget *)tg;
    /* The live map is the record's, as every pointer read confirmed, and
     * the record's index is the store's manifest (redis_manifest_read):
     * its digest is known. */
    if (!after && t->live_is_record) {
        memcpy(out, t->live_manifest, DIGEST_HEX_LEN + 1);
        return true;
    }
    if (after && t->after[0]) {
        memcpy(out, t->after, DIGEST_HEX_LEN + 1);
        return true;
    }
    /* A fresh deploy knows its versions once its configs are written. */
    if (after && t->fresh && !t->fresh_encoded) {
        out[0] = '\0';
        return true;
    }
    if (redis_state_digest(t, after, out) && after)
        memcpy(t->after, out, DIGEST_HEX_LEN + 1);
    return true;
}

static void rt_changes(const target *tg, json_t *out)
{
    const rtarget *t = (const rtarget *)tg;
    for (size_t m = 0; m < t->nten; m++)
        if (t->ten[m].changed)
            json_array_append_new(out, json_pack("{s:s,s:s?,s:s?}", "tenant", t->ten[m].name,
                                                 "from", t->ten[m].live, "to",
                                                 t->ten[m].t ? t->ten[m].newver : NULL));
}


/* --- apply ----------------------------------------------------------------- */

/* The library this plan loads: its source with `tenant *` put in
 * (redis_config.h), composed once per run (the read, the checkpoint and
 * the verification each compare it with the store's). */
static const buf *library_text(rtarget *t, rerr *e)
{
    if (t->lib_composed)
        return &t->lib_text;
    const target_env *env = t->base.env;
    json_t *lib = json_object_get(env->plan, "library");
    const char *src = json_string_value(json_object_get(lib, "source"));
    buf_free(&t->lib_text);
    buf_init(&t->lib_text, BUF_DEFAULT_MAX);
    if (!src) {
        rerr_set(e, DIAG_PLAN_SHAPE, "the plan carries no library source");
        return NULL;
    }
    if (!redis_library_compose(env->rs, src, strlen(src), &t->lib_text)) {
        rerr_set(e, DIAG_PLAN_SHAPE, "the plan's library has no place for tenant * "
                 "(its \"local TEMPLATE = nil\" line)");
        return NULL;
    }
    t->lib_composed = true;
    return &t->lib_text;
}

bool rt_library_is_plans(rtarget *t, const json_t *code)
{
    rerr tmp;
    const buf *lib = code && json_is_string(code) ? library_text(t, &tmp) : NULL;
    return lib && json_string_length(code) == lib->len &&
           !memcmp(json_string_value(code), buf_str(lib), lib->len);
}

bool rt_library_sha(rtarget *t, rerr *e)
{
    const buf *lib = t->base.env->plan ? library_text(t, e) : NULL;
    if (lib)
        rt_script_body(t, buf_str(lib));
    return lib != NULL;
}

static bool load_library(rtarget *t, rerr *e)
{
    const buf *lib = library_text(t, e);
    if (lib && t->functions) {
        const char *av[4] = {"FUNCTION", "LOAD", "REPLACE", buf_str(lib)};
        return rstore_on_primaries(t->s, 4, av, NULL, e);
    }
    if (lib) {
        /* Before Redis 7: the same text minus the "#!lua name=rlc" line. */
        const char *av[3] = {"SCRIPT", "LOAD", rt_script_body(t, buf_str(lib))};
        return rstore_on_primaries(t->s, 3, av, NULL, e);
    }
    return false;
}

/* No manifest until commit: a deploy that stops half-way leaves a store
 * that no record describes (the checkpoint restores it). */
static bool rt_mark(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    char mk[512], fk[512];
    rt_key(t, mk, sizeof mk, "deploy:marker");
    rt_key(t, fk, sizeof fk, "deploy:manifest");
    const char *av[3] = {"SET", mk, tg->env->run}, *dv[2] = {"DEL", fk};
    /* One round trip: a run stopped between the two leaves either a
     * marker beside the old manifest (nothing written yet) or no manifest
     * (the next run reads everything), never a store a record misdescribes. */
    const char *keys[2] = {mk, fk}, *const *argvs[2] = {av, dv};
    const int argcs[2] = {3, 2};
    return rt_cmds_ok(t, e, 2, keys, argcs, argvs);
}

/* The marker was set after the checkpoint was taken, so restoring does
 * not remove it; it says a deploy is under way, and none is. */
static bool rt_unmark(target *tg, rerr *e)
{
    char mk[512];
    rt_key((rtarget *)tg, mk, sizeof mk, "deploy:marker");
    const char *dv[2] = {"DEL", mk};
    return rt_cmd_ok((rtarget *)tg, e, mk, 2, dv);
}

/* Tenants whose configs a fresh deploy encodes and sends at a time: while
 * the server stores one part, the next is encoded. */
#define FRESH_PART 2048

static bool rt_state_digest(const target *tg, bool after, char out[DIGEST_HEX_LEN + 1]);

/* The pipeline of part k has been sent: reads its replies. */
static bool collect_part(rpipe *p, rerr *e, size_t *written)
{
    bool ok = rpipe_collect(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "writing configs: %s", rpipe_reply(p, bad)->str);
        ok = false;
    }
    if (written)
        *written += rpipe_count(p);
    rpipe_free(p);
    return ok;
}

/* A fresh deploy's configs: each part encoded, then sent, and the part
 * before it read back while the server stores this one.  A tenant's
 * commands are dropped once sent (a verification case's are kept): the
 * pipeline holds their bytes until its replies are read. */
static bool send_fresh_configs(rtarget *t, rerr *e, size_t *written)
{
    rpipe *prev = NULL;
    size_t i = 0;
    bool ok = true;
    while (ok && i < t->nten) {
        /* The lock is renewed on this connection, so with no part's
         * replies pending: when a third of its TTL has passed (as
         * lock_keepalive would), the part before is read first. */
        if (prev && t->base.locked &&
            statedir_now_ms() - t->lock.renewed_ms >= t->lock.ttl_ms / 3) {
            ok = collect_part(prev, e, written);
            prev = NULL;
            const target_env *env = t->base.env;
            ok = ok && env->renew(env->ud, e);
            if (!ok)
                break;
        }
        rpipe *p = rpipe_new(t->s);
        for (size_t n = 0; ok && i < t->nten && n < FRESH_PART; i++) {
            rtenant *x = &t->ten[i];
            if (!x->t || !x->changed)
                continue;
            n++;
            if (!x->verified && !x->cmds.n) {
                ok = rt_encode_fresh(t, x, p, e);
                continue;
            }
            ok = rt_encode(t, x, e);
            for (size_t m = 0; ok && m + 1 < x->cmds.n; m++) {
                redis_cmd *rc = &x->cmds.v[m];
                rpipe_add(p, rc->argv[1], strlen(rc->argv[1]), rc->argc,
                          (const char **)rc->argv, rc->argvlen);
            }
            /* Its pointer right after its config, on the same connection
             * (so never before it): a separate pass of 100 000 SETs would
             * wait on the server instead of overlapping the encoding. */
            if (ok) {
                char *k = str_printf("%s" PLAN_KEY_ACTIVE, rt_tag(t, x));
                const char *av[3] = {"SET", k, x->newver};
                rpipe_add(p, k, strlen(k), 3, av, NULL);
                free(k);
            }
            if (ok && !x->verified)
                redis_cmds_free(&x->cmds);
        }
        /* A kill or failure here leaves configs written in part. */
        ok = ok && fault_point("apply.config.part", e) && rpipe_send(p, e);
        if (prev && ok)
            ok = collect_part(prev, e, written);
        else if (prev)
            rpipe_free(prev);
        prev = p;
    }
    /* Every config version is known once the last part is sent: the state
     * digest after the deploy is computed while the server stores it. */
    if (ok) {
        t->fresh_encoded = true;
        char after[DIGEST_HEX_LEN + 1];
        rt_state_digest(&t->base, true, after);
    }
    if (prev && ok)
        ok = collect_part(prev, e, written);
    else if (prev)
        rpipe_free(prev);
    return ok;
}

/* The changed tenants' config hashes (config) or their pointer flips. */
static bool send_cmds(rtarget *t, bool config, rerr *e, size_t *written)
{
    if (config && t->fresh && !t->fresh_encoded)
        return send_fresh_configs(t, e, written);
    if (!config && t->fresh)
        return true;    /* set with the configs: a fresh deploy drops no tenant */
    rpipe *p = rpipe_new(t->s);
    for (size_t i = 0; i < t->nten; i++) {
        rtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        if (!x->t) {
            if (config)
                continue;
            char *k = str_printf("%s" PLAN_KEY_ACTIVE, rt_tag(t, x));
            const char *av[2] = {"DEL", k};
            rpipe_add(p, k, strlen(k), 2, av, NULL);
            free(k);
            continue;
        }
        if (!config && !x->live) {
            /* No pointer yet: rlc_activate would only SET it (it re-times
             * counters of an old config, and there is none; we hold the
             * lock, and clients never write pointers).  A plain SET spares
             * the server a config parse per new tenant. */
            char *k = str_printf("%s" PLAN_KEY_ACTIVE, rt_tag(t, x));
            const char *av[3] = {"SET", k, x->newver};
            rpipe_add(p, k, strlen(k), 3, av, NULL);
            free(k);
            continue;
        }
        for (size_t m = 0; m < x->cmds.n; m++) {
            bool is_act = m == x->cmds.n - 1;
            if (is_act == config)
                continue;
            redis_cmd *rc = &x->cmds.v[m];
            const char *key = rc->argv[is_act ? 3 : 1];
            rpipe_add(p, key, strlen(key), rc->argc, (const char **)rc->argv, rc->argvlen);
        }
    }
    bool ok = rpipe_exec(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "%s: %s", config ? "writing configs" : "activating",
                 rpipe_reply(p, bad)->str);
        ok = false;
    }
    if (written)
        *written += rpipe_count(p);
    rpipe_free(p);
    return ok;
}

/* The library, then the configs under their versioned keys, then the
 * pointer flips. */
static bool rt_apply(target *tg, size_t *written, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    const target_env *env = tg->env;
    const char *lname =
        json_string_value(json_object_get(json_object_get(env->plan, "library"), "name"));
    if (!fault_point("apply.library", e))
        return false;
    if (t->functions && t->lib_current) {
        target_say(tg, "library %s already loaded, as the checkpoint read it: not loaded again",
                   lname);
    } else {
        if (t->functions && !load_library(t, e))
            return false;
        target_say(tg, "library %s loaded on every primary (%s)", lname,
                   t->functions ? "FUNCTION LOAD" : "SCRIPT LOAD, EVALSHA");
    }
    if (!env->renew(env->ud, e) || !fault_point("apply.config", e) ||
        !send_cmds(t, true, e, written))
        return false;
    target_say(tg, "%zu config%s written under versioned keys", env->nchanged,
               env->nchanged == 1 ? "" : "s");
    if (!env->renew(env->ud, e) || !fault_point("apply.flip", e) ||
        !send_cmds(t, false, e, written))
        return false;
    target_say(tg, "%zu active pointer%s flipped, %zu removed", env->nchanged,
               env->nchanged == 1 ? "" : "s", env->nremoved);
    return true;
}

/* --- commit ---------------------------------------------------------------- */

/* The deploy state's changed entries, old configs removed, the plan and
 * manifest recorded, the marker removed: one pipeline, sent (its replies
 * are commit_store_check's); NULL with e set when it cannot be. */
static rpipe *commit_store_send(rtarget *t, const char *manifest, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    char sk[512], pk[512], mk[512], fk[512];
    rt_key(t, fk, sizeof fk, "deploy:manifest");
    rt_key(t, sk, sizeof sk, "deploy:state");
    rt_key(t, pk, sizeof pk, "deploy:plan");
    rt_key(t, mk, sizeof mk, "deploy:marker");
    /* Changed entries of the state go in HSETs of up to 512 fields. */
    const char **hv = xmalloc((2 + 2 * 512) * sizeof *hv);
    int hn = 2;
    hv[0] = "HSET";
    hv[1] = sk;
    for (size_t i = 0; i < t->nten; i++) {
        rtenant *x = &t->ten[i];
        if (x->t) {
            const char *was = x->was;
            if (!was || (!x->same_rec && strcmp(was, x->newver))) {
                hv[hn++] = x->name;
                hv[hn++] = x->newver;
            }
            if (hn == 2 + 2 * 512) {
                rpipe_add(p, sk, strlen(sk), hn, hv, NULL);
                hn = 2;
            }
        } else {
            const char *av[3] = {"HDEL", sk, x->name};
            rpipe_add(p, sk, strlen(sk), 3, av, NULL);
        }
        if (x->changed && x->live) {
            char *ck = str_printf("%s" PLAN_KEY_CFG "%s", rt_tag(t, x), x->live);
            const char *av[2] = {"DEL", ck};
            rpipe_add(p, ck, strlen(ck), 2, av, NULL);
            free(ck);
        }
    }
    if (hn > 2)
        rpipe_add(p, sk, strlen(sk), hn, hv, NULL);
    free(hv);
    const char *sp[3] = {"SET", pk, t->base.env->digest};
    rpipe_add(p, pk, strlen(pk), 3, sp, NULL);
    const char *sf[3] = {"SET", fk, manifest};
    rpipe_add(p, fk, strlen(fk), 3, sf, NULL);
    const char *dm[2] = {"DEL", mk};
    rpipe_add(p, mk, strlen(mk), 2, dm, NULL);
    if (!rpipe_send(p, e)) {
        rpipe_free(p);
        return NULL;
    }
    return p;
}

/* The replies of commit_store_send's pipeline (freed). */
static bool commit_store_check(rpipe *p, rerr *e)
{
    bool ok = rpipe_collect(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "commit: %s", rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    return ok;
}

/* Commands of up to CONFIRM_BATCH keys or fields read back a commit: a
 * first deploy of 100 000 tenants confirms in a few hundred commands, not
 * 200 000. */
#define CONFIRM_BATCH 512

/* Queues the reads of every changed tenant's pointer and state entry
 * (changed[0..nk)): HMGETs of the state's fields, and MGETs of the
 * pointers on one node (their slots differ: a cluster gets a GET each);
 * their keys into ak (malloc'd each). */
static void queue_tenant_reads(rtarget *t, rpipe *p, const char *sk, const size_t *changed,
                               size_t nk, char **ak)
{
    const char **av = xmalloc((2 + CONFIRM_BATCH) * sizeof *av);
    for (size_t k = 0; k < nk; k++) {
        rtenant *x = &t->ten[changed[k]];
        /* Pointer keys are sized from their tag (a tag may be long). */
        size_t len = strlen(rt_tag(t, x)) + sizeof PLAN_KEY_ACTIVE;
        ak[k] = xmalloc(len);
        snprintf(ak[k], len, "%s" PLAN_KEY_ACTIVE, rt_tag(t, x));
    }
    for (size_t k0 = 0; k0 < nk; k0 += CONFIRM_BATCH) {
        size_t n = nk - k0 < CONFIRM_BATCH ? nk - k0 : CONFIRM_BATCH;
        if (t->s->cluster) {
            for (size_t k = k0; k < k0 + n; k++) {
                const char *gv[2] = {"GET", ak[k]};
                rpipe_add(p, ak[k], strlen(ak[k]), 2, gv, NULL);
            }
        } else {
            av[0] = "MGET";
            for (size_t k = 0; k < n; k++)
                av[1 + k] = ak[k0 + k];
            rpipe_add(p, ak[k0], strlen(ak[k0]), (int)(1 + n), av, NULL);
        }
        av[0] = "HMGET";
        av[1] = sk;
        for (size_t k = 0; k < n; k++)
            av[2 + k] = t->ten[changed[k0 + k]].name;
        rpipe_add(p, sk, strlen(sk), (int)(2 + n), av, NULL);
    }
    free(av);
}

/* The replies queue_tenant_reads asked for, from reply r on, one per
 * tenant: pointers into ptr, state entries into ent (a reply that is not
 * the array asked for stands for each of its tenants). */
static void tenant_replies(const rtarget *t, rpipe *p, size_t r, size_t nk,
                           const redisReply **ptr, const redisReply **ent)
{
    for (size_t k0 = 0; k0 < nk; k0 += CONFIRM_BATCH) {
        size_t n = nk - k0 < CONFIRM_BATCH ? nk - k0 : CONFIRM_BATCH;
        const redisReply *m = t->s->cluster ? NULL : rpipe_reply(p, r++);
        for (size_t k = 0; k < n; k++)
            ptr[k0 + k] = t->s->cluster ? rpipe_reply(p, r++)
                          : m && m->type == REDIS_REPLY_ARRAY && m->elements == n ? m->element[k]
                                                                                   : m;
        const redisReply *h = rpipe_reply(p, r++);
        for (size_t k = 0; k < n; k++)
            ent[k0 + k] = h && h->type == REDIS_REPLY_ARRAY && h->elements == n ? h->element[k]
                                                                                 : h;
    }
}

/* Reads back what commit_store wrote, before "committed" is said: the
 * plan and manifest keys, every changed tenant's active pointer (absent for
 * a dropped tenant) and its entry in NS:deploy:state, and the lock, which
 * must still carry our token (while it does, no other deploy wrote).  A
 * store that does not read back as committed is RLC3167, and the caller
 * rolls back. */
typedef struct rconfirm {
    rpipe *p;
    char pk[512], fk[512], sk[512], lk[512];
    size_t nk, *changed;
    char **ak;
} rconfirm;

static void confirm_free(rconfirm *cf)
{
    for (size_t i = 0; cf->ak && i < cf->nk; i++)
        free(cf->ak[i]);
    free(cf->ak);
    free(cf->changed);
    rpipe_free(cf->p);
    memset(cf, 0, sizeof *cf);
}

/* The reads of confirm_commit, sent. */
static bool confirm_send(rtarget *t, rconfirm *cf, rerr *e)
{
    memset(cf, 0, sizeof *cf);
    rpipe *p = cf->p = rpipe_new(t->s);
    char *pk = cf->pk, *fk = cf->fk, *sk = cf->sk, *lk = cf->lk;
    rt_key(t, pk, sizeof cf->pk, "deploy:plan");
    rt_key(t, fk, sizeof cf->fk, "deploy:manifest");
    rt_key(t, sk, sizeof cf->sk, "deploy:state");
    rt_key(t, lk, sizeof cf->lk, "deploy:lock");
    const char *ga[2] = {"GET", pk}, *gf[2] = {"GET", fk}, *gl[2] = {"GET", lk};
    rpipe_add(p, pk, strlen(pk), 2, ga, NULL);
    rpipe_add(p, fk, strlen(fk), 2, gf, NULL);
    rpipe_add(p, lk, strlen(lk), 2, gl, NULL);
    size_t nk = 0;
    size_t *changed = cf->changed = xmalloc((t->nten ? t->nten : 1) * sizeof *changed);
    for (size_t i = 0; i < t->nten; i++)
        if (t->ten[i].changed)
            changed[nk++] = i;
    cf->nk = nk;
    cf->ak = xcalloc(nk ? nk : 1, sizeof *cf->ak);
    queue_tenant_reads(t, p, sk, changed, nk, cf->ak);
    return rpipe_send(p, e);
}

/* Reads back what commit_store wrote (confirm_send's replies), as
 * confirm_commit says. */
static bool confirm_check(rtarget *t, rconfirm *cf, const char *manifest, rerr *e)
{
    const char *digest = t->base.env->digest;
    rpipe *p = cf->p;
    const char *pk = cf->pk, *fk = cf->fk, *sk = cf->sk, *lk = cf->lk;
    size_t nk = cf->nk, *changed = cf->changed;
    char **ak = cf->ak;
    const redisReply **ptr = xcalloc(nk ? nk : 1, sizeof *ptr);
    const redisReply **ent = xcalloc(nk ? nk : 1, sizeof *ent);
    bool ok = rpipe_collect(p, e);
    /* What each reply must be: NULL for absent. */
    const char *what = NULL, *want = NULL, *field = NULL;
    const redisReply *got = NULL;
    size_t r = 0;
    if (ok) {
        got = rpipe_reply(p, r++);
        if (!got || got->type != REDIS_REPLY_STRING || strcmp(got->str, digest))
            what = pk, want = digest;
    }
    if (ok && !what) {
        got = rpipe_reply(p, r++);
        if (!got || got->type != REDIS_REPLY_STRING || strcmp(got->str, manifest))
            what = fk, want = manifest;
    }
    if (ok && !what) {
        got = rpipe_reply(p, r++);
        size_t tl = strlen(t->lock.token);
        if (!got || got->type != REDIS_REPLY_STRING || strncmp(got->str, t->lock.token, tl) ||
            got->str[tl] != '|')
            what = lk, want = "this run's token";
    }
    if (ok && !what)
        tenant_replies(t, p, r, nk, ptr, ent);
    for (size_t k = 0; ok && !what && k < nk; k++) {
        rtenant *x = &t->ten[changed[k]];
        const char *expect = x->t ? x->newver : NULL;
        for (int pass = 0; pass < 2 && !what; pass++) {
            got = pass ? ent[k] : ptr[k];
            bool absent = got && got->type == REDIS_REPLY_NIL;
            bool same = got && got->type == REDIS_REPLY_STRING && expect &&
                        !strcmp(got->str, expect);
            if (expect ? !same : !absent) {
                what = pass ? sk : ak[k];
                field = pass ? x->name : NULL;
                want = expect ? expect : "(absent)";
            }
        }
    }
    if (ok && what) {
        rerr_set(e, DIAG_COMMIT_UNCONFIRMED, "target %s: after the commit %s%s%s reads %s, "
                 "not %s: something else wrote to the store during the deploy", t->base.name,
                 what, field ? " field " : "", field ? field : "",
                 got && got->type == REDIS_REPLY_STRING ? got->str
                 : got && got->type == REDIS_REPLY_ERROR ? got->str : "(absent)", want);
        ok = false;
    }
    free(ptr);
    free(ent);
    confirm_free(cf);
    return ok;
}

static bool rt_commit(target *tg, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    char manifest[DIGEST_HEX_LEN + 1];
    rt_state_digest(tg, true, manifest);
    /* Only a record damaged under the run leaves it unknown. */
    if (!manifest[0])
        return rerr_set(e, DIAG_STORE_REPLY, "commit: the state digest could not be computed "
                        "(this state directory's record of the store is damaged: run again "
                        "with --full-read)");
    /* The writes and their reads back go out one after the other, and
     * while the server works through them this state directory's record
     * is written ahead (its index, which names it, comes after the
     * commit): the commit waits on the server once, not twice, and the
     * record's flush goes beside the server's work. */
    if (!fault_point("commit.store", e))
        return false;
    rpipe *w = commit_store_send(t, manifest, e);
    if (!w)
        return false;
    rerr tmp;
    rconfirm cf = {0};
    if (!fault_point("commit.confirm", e) || !confirm_send(t, &cf, e)) {
        commit_store_check(w, &tmp);
        confirm_free(&cf);
        return false;
    }
    redis_manifest_prepare(t, manifest);
    bool ok = commit_store_check(w, e);
    if (!ok) {
        rpipe_collect(cf.p, &tmp);
        confirm_free(&cf);
        return false;
    }
    return confirm_check(t, &cf, manifest, e);
}

static void rt_committed(target *tg)
{
    char after[DIGEST_HEX_LEN + 1];
    rt_state_digest(tg, true, after);
    redis_manifest_write((rtarget *)tg, after);
}

/* The audit head in NS:audit:head, the record in the NS:audit stream. */
static void rt_anchor(target *tg, const char *head, const char *line)
{
    rtarget *t = (rtarget *)tg;
    if (!t->s)
        return;
    char hk[512], sk[512];
    rt_key(t, hk, sizeof hk, "audit:head");
    rt_key(t, sk, sizeof sk, "audit");
    rerr tmp;
    const char *av[3] = {"SET", hk, head};
    const char *xa[8] = {"XADD", sk, "MAXLEN", "~", "10000", "*", "record", line};
    const char *keys[2] = {hk, sk}, *const *argvs[2] = {av, xa};
    const int argcs[2] = {3, 8};
    rt_cmds_ok(t, &tmp, 2, keys, argcs, argvs);
}

const target_kind target_redis = {
    .name = "redis",
    .record = "targets",
    .group = NULL,
    .verify_how = "against shadow keys",
    .order = 0,
    .max = 8,
    .json_tenants = false,
    .known = redis_manifest_known,
    .lock_scope = TLOCK_EACH,
    .create = rt_create,
    .override = rt_override,
    .resolve = rt_resolve,
    .connect = rt_connect,
    .preflight = redis_preflight,
    .lock_what = rt_lock_what,
    .lock = rt_lock,
    .keepalive = rt_keepalive,
    .unlock = rt_unlock,
    .unlock_token = rt_unlock_token,
    .lock_gone = rt_lock_gone,
    .read = rt_read,
    .changes = rt_changes,
    .state_digest = rt_state_digest,
    .checkpoint = redis_checkpoint,
    .ck_noop = redis_ck_noop,
    .mark = rt_mark,
    .unmark = rt_unmark,
    .apply = rt_apply,
    .verify = redis_verify,
    .commit = rt_commit,
    .committed = rt_committed,
    .restore = redis_restore,
    .rollback_check = redis_rollback_check,
    .anchor = rt_anchor,
    .diff = redis_diff,
    .status = redis_status,
    .decide = redis_decide,
    .free = rt_free,
};
