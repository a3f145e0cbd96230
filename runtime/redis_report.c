/* redis_report.c - what `rlc diff` and `rlc status` say about a Redis
 * target (SPEC.md 7.7): per changed tenant the rules added, removed and
 * changed against the live config hash; per target the applied plan, its
 * nodes, the lock holder and drift (a pointer that is not the applied
 * version, or a config hash whose contents no longer hash to its version).
 * Reads only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan_key.h"
#include "target_redis.h"
#include "xalloc.h"

/* A config hash's field and value, as HGETALL gives them. */
typedef struct field_val {
    const char *f, *v;
} field_val;

/* "m" first, then by name: the order a config's version hashes them in. */
static int cmp_field(const void *a, const void *b)
{
    const char *x = ((const field_val *)a)->f, *y = ((const field_val *)b)->f;
    if (!strcmp(x, "m"))
        return strcmp(y, "m") ? -1 : 0;
    if (!strcmp(y, "m"))
        return 1;
    return strcmp(x, y);
}

/* Whether the HGETALL reply r of a config hash still hashes to its version
 * ver (false: edited by hand, or not a config); rules, unless NULL, gets
 * its rules by id ({id: line}). */
static bool config_intact(const redisReply *r, const char *ver, json_t *rules)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        return false;
    size_t nf = 0;
    field_val *fv = xmalloc(r->elements / 2 * sizeof *fv);
    for (size_t i = 0; i < r->elements / 2; i++) {
        const char *f = r->element[2 * i]->str ? r->element[2 * i]->str : "";
        /* A deploy for EVALSHA adds each listed field's twin, which the
         * version does not cover (SPEC.md 6.2). */
        if (redis_config_is_twin(f))
            continue;
        fv[nf].f = f;
        fv[nf++].v = r->element[2 * i + 1]->str ? r->element[2 * i + 1]->str : "";
    }
    if (nf > 1)
        qsort(fv, nf, sizeof *fv, cmp_field);
    buf all;
    buf_init(&all, BUF_DEFAULT_MAX);
    for (size_t i = 0; i < nf; i++) {
        buf_append(&all, fv[i].f, strlen(fv[i].f) + 1);
        buf_append(&all, fv[i].v, strlen(fv[i].v) + 1);
        if (!rules || !strcmp(fv[i].f, "m"))
            continue;
        char *copy = xstrdup(fv[i].v);
        for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
            char id[32];
            if (sscanf(line, "%31s", id) == 1)
                json_object_set_new(rules, id, json_string(line));
        }
        free(copy);
    }
    char hex[DIGEST_HEX_LEN + 1];
    digest_sha256_hex(all.data, all.len, hex);
    buf_free(&all);
    free(fv);
    return !strncmp(hex, ver, REDIS_CONFIG_VERSION_LEN);
}

/* Reads a config hash: its rules by id ({id: line}) and whether its contents
 * still hash to its version (false: edited by hand). */
static json_t *live_config(rtarget *t, const char *tag, const char *ver, bool *intact, rerr *e)
{
    char *k = str_printf("%s" PLAN_KEY_CFG "%s", tag, ver);
    const char *av[2] = {"HGETALL", k};
    redisReply *r = rstore_cmd(t->s, k, strlen(k), 2, av, NULL, e);
    free(k);
    if (!r)
        return NULL;
    json_t *rules = json_object();
    *intact = config_intact(r, ver, rules);
    freeReplyObject(r);
    return rules;
}

static const char *rule_line(const rl_rule *r, char *out, size_t n)
{
    snprintf(out, n, "%s %c %d %lld %lld %lld %lld", r->id, plan_kind_code(r->kind),
             r->shadow ? 1 : 0,
             (long long)(r->kind == PLAN_CONCURRENCY ? r->max : r->count),
             (long long)(r->kind == PLAN_CONCURRENCY ? r->lease_ms : r->window_ms),
             (long long)(r->kind == PLAN_CONCURRENCY ? 0 : r->burst),
             (long long)(r->kind == PLAN_CONCURRENCY ? 1 : r->cost));
    return out;
}

/* The rules of x against its live config old: added, changed, unchanged
 * (counted), removed, into d. */
static void diff_rules(const rtenant *x, const json_t *old, json_t *d)
{
    json_t *added = json_array(), *removed = json_array(), *changed = json_array(),
           *kept = json_array();
    for (size_t r = 0; x->t && r < x->t->nrules; r++) {
        const rl_rule *rr = &x->t->rules[r];
        char line[256];
        rule_line(rr, line, sizeof line);
        json_t *ol = json_object_get(old, rr->id);
        json_t *item = json_pack("{s:s,s:s,s:s}", "id", rr->id, "kind",
                                 plan_kind_name(rr->kind), "subject",
                                 rr->subject[0] ? rr->subject : "(tenant)");
        if (!ol) {
            json_object_set_new(item, "counter", json_string("new, empty"));
            json_array_append_new(added, item);
        } else if (strncmp(json_string_value(ol), line, strlen(line))) {
            json_object_set_new(item, "was", json_incref(ol));
            json_object_set_new(item, "now", json_string(line));
            json_object_set_new(item, "counter", json_string("kept; new numbers apply"));
            json_array_append_new(changed, item);
        } else {
            json_object_set_new(item, "counter", json_string("kept"));
            json_array_append_new(kept, item);
        }
    }
    const char *id;
    json_t *ol;
    json_object_foreach((json_t *)old, id, ol) {
        bool still = false;
        for (size_t r = 0; x->t && r < x->t->nrules; r++)
            still |= !strcmp(x->t->rules[r].id, id);
        if (!still)
            json_array_append_new(removed, json_pack("{s:s,s:O,s:s}", "id", id, "was", ol,
                                                     "counter", "no longer used; expires "
                                                     "on its own"));
    }
    json_object_set_new(d, "added", added);
    json_object_set_new(d, "removed", removed);
    json_object_set_new(d, "changed", changed);
    json_object_set_new(d, "unchanged", json_integer((json_int_t)json_array_size(kept)));
    json_decref(kept);
}

/* The `tenant *` the loaded library holds against the plan's: *live and
 * *want get their versions ("" for none).  Without a function library
 * (before Redis 7, or a deploy for EVALSHA) a script's text cannot be
 * read back, only asked for by its sha: the script this plan makes,
 * loaded, holds the plan's `tenant *`; none loaded, none is served (a
 * restart or SCRIPT FLUSH emptied the cache, and decisions fail with
 * NOSCRIPT until a deploy loads it); another script is not rlc's to
 * read. */
static bool template_versions(rtarget *t, char live[REDIS_CONFIG_VERSION_LEN + 1],
                              char want[REDIS_CONFIG_VERSION_LEN + 1], rerr *e)
{
    live[0] = want[0] = '\0';
    if (!redis_template_version(t->base.env->rs, want))
        want[0] = '\0';
    rerr none = {0};
    json_t *code = rt_library_loaded(t, &none);
    if (!code || json_is_null(code)) {
        json_decref(code);
        if (!t->sha[0] && !rt_library_sha(t, e))
            return false;
        redisReply *r = rconn_cmdf(rstore_node_conn(t->s, 0, e), e, "SCRIPT EXISTS %s",
                                   t->sha);
        if (!r)
            return false;
        bool loaded = r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                      r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 1;
        freeReplyObject(r);
        if (loaded)
            memcpy(live, want, REDIS_CONFIG_VERSION_LEN + 1);
        return true;
    }
    char tagpre[PLAN_NS_MAX + 8];
    if (!redis_library_template(json_string_value(code), tagpre, sizeof tagpre, live))
        live[0] = '\0';
    json_decref(code);
    return true;
}

bool redis_diff(target *tg, json_t *summary, json_t *tenants, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    if (!json_object_get(summary, "target"))
        json_object_set_new(summary, "target", json_string(tg->name));
    char live[REDIS_CONFIG_VERSION_LEN + 1], want[REDIS_CONFIG_VERSION_LEN + 1];
    if (!template_versions(t, live, want, e))
        return false;
    if (strcmp(live, want) != 0)
        json_array_append_new(tenants, json_pack("{s:s,s:b,s:s?,s:s?}", "tenant", "*",
                                                 "template", 1, "from", *live ? live : NULL,
                                                 "to", *want ? want : NULL));
    for (size_t i = 0; i < t->nten; i++) {
        rtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        json_t *d = json_pack("{s:s,s:s?,s:s?}", "tenant", x->name, "from", x->live, "to",
                              x->t ? x->newver : NULL);
        bool intact = true;
        json_t *old = x->live ? live_config(t, rt_tag(t, x), x->live, &intact, e) : json_object();
        if (!old) {
            json_decref(d);
            return false;
        }
        if (!intact && x->live)
            json_object_set_new(d, "live_config_edited", json_true());
        char err[512];
        if (!rules_tenant_load((rl_ruleset *)tg->env->rs, x->t, err, sizeof err)) {
            json_decref(old);
            json_decref(d);
            return rerr_set(e, tg->env->rs->fetch_code ? tg->env->rs->fetch_code
                                                       : DIAG_PLAN_SHAPE, "%s", err);
        }
        diff_rules(x, old, d);
        json_decref(old);
        json_array_append_new(tenants, d);
    }
    return true;
}

/* Tenants whose pointers and configs are read in one pipeline each. */
#define DRIFT_BATCH 1024

/* Drift of the tenants from..to of state (NS:deploy:state's HGETALL
 * reply): each one's pointer against the applied version, then (one
 * pipeline) the config hash of each pointer that agrees against its
 * version.  Reported in the record's order. */
static bool drift_batch(rtarget *t, const redisReply *state, size_t from, size_t to, json_t *dr,
                        rerr *e)
{
    const char *ns = t->base.env->ns;
    size_t n = to - from;
    char **tags = xcalloc(n, sizeof *tags);
    unsigned char *what = xcalloc(n, 1);   /* 0 intact, 1 pointer, 2 config edited */
    rpipe *pa = rpipe_new(t->s), *pc = rpipe_new(t->s);
    size_t *cfg_of = xcalloc(n, sizeof *cfg_of);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        tags[i] = plan_key_tag(ns, state->element[2 * (from + i)]->str);
        char *ak = str_printf("%s" PLAN_KEY_ACTIVE, tags[i]);
        const char *ga[2] = {"GET", ak};
        ok = ok && rpipe_add(pa, ak, strlen(ak), 2, ga, NULL);
        free(ak);
    }
    ok = ok && rpipe_exec(pa, e);
    for (size_t i = 0; ok && i < n; i++) {
        const char *ver = state->element[2 * (from + i) + 1]->str;
        const redisReply *a = rpipe_reply(pa, i);
        if (a->type != REDIS_REPLY_STRING || strcmp(a->str, ver)) {
            what[i] = 1;
            continue;
        }
        char *k = str_printf("%s" PLAN_KEY_CFG "%s", tags[i], ver);
        const char *hg[2] = {"HGETALL", k};
        cfg_of[i] = rpipe_count(pc);
        ok = rpipe_add(pc, k, strlen(k), 2, hg, NULL);
        free(k);
    }
    ok = ok && rpipe_exec(pc, e);
    for (size_t i = 0; ok && i < n; i++) {
        const char *tn = state->element[2 * (from + i)]->str;
        const char *ver = state->element[2 * (from + i) + 1]->str;
        if (what[i] == 1) {
            const redisReply *a = rpipe_reply(pa, i);
            json_array_append_new(dr, json_pack("{s:s,s:s,s:s,s:s?}", "tenant", tn, "what",
                                                "active pointer differs", "applied", ver,
                                                "live", a->type == REDIS_REPLY_STRING ? a->str
                                                                                      : NULL));
        } else if (!config_intact(rpipe_reply(pc, cfg_of[i]), ver, NULL)) {
            json_array_append_new(dr, json_pack("{s:s,s:s,s:s}", "tenant", tn, "what",
                                                "config edited: contents no longer match "
                                                "version", "applied", ver));
        }
    }
    for (size_t i = 0; i < n; i++)
        free(tags[i]);
    free(tags);
    free(what);
    free(cfg_of);
    rpipe_free(pa);
    rpipe_free(pc);
    return ok;
}

/* Per tenant of NS:deploy:state: its pointer against the applied version
 * and its config hash against its version; *ntenants counts them.  Read
 * in pipelines of DRIFT_BATCH tenants: a round trip per tenant made a
 * status of 100 000 tenants take 200 000. */
static bool tenant_drift(rtarget *t, json_t *dr, size_t *ntenants, rerr *e)
{
    char k[512];
    rt_key(t, k, sizeof k, "deploy:state");
    const char *hg[2] = {"HGETALL", k};
    redisReply *r = rstore_cmd(t->s, k, strlen(k), 2, hg, NULL, e);
    if (!r)
        return false;
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0;
    bool ok = true;
    for (size_t from = 0; ok && from < n; from += DRIFT_BATCH)
        ok = drift_batch(t, r, from, from + DRIFT_BATCH < n ? from + DRIFT_BATCH : n, dr, e);
    *ntenants += n;
    freeReplyObject(r);
    return ok;
}

bool redis_status(target *tg, json_t *targets, size_t *drift, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    json_t *tj = json_pack("{s:s,s:s}", "name", tg->name, "address", tg->addr);
    json_array_append_new(targets, tj);
    char k[512];
    rt_key(t, k, sizeof k, "deploy:plan");
    const char *g[2] = {"GET", k};
    redisReply *r = rstore_cmd(t->s, k, strlen(k), 2, g, NULL, e);
    if (!r)
        return false;
    json_object_set_new(tj, "active_plan", r->type == REDIS_REPLY_STRING ? json_string(r->str)
                                                                         : json_null());
    /* The library is compared with the plan only when it is the plan the
     * store says it applied: drift is what changed since a deploy. */
    const char *pd = json_string_value(json_object_get(tg->env->plan, "plan_digest"));
    bool applied = r->type == REDIS_REPLY_STRING && pd && !strcmp(r->str, pd);
    freeReplyObject(r);
    json_t *nodes = json_array();
    for (size_t n = 0; n < t->s->nnodes; n++)
        json_array_append_new(nodes, json_pack("{s:s,s:i,s:b}", "host", t->s->nodes[n].host,
                                               "port", t->s->nodes[n].port, "primary",
                                               t->s->nodes[n].primary));
    json_object_set_new(tj, "nodes", nodes);
    bool present;
    char *holder = NULL;
    long long pttl;
    if (lock_peek(t->s, tg->env->ns, &present, &holder, &pttl, e) && present) {
        const char *bar = strchr(holder, '|');
        json_t *hj = bar ? json_loads(bar + 1, 0, NULL) : NULL;
        if (hj)
            json_object_set_new(hj, "expires_in_ms", json_integer(pttl));
        json_object_set_new(tj, "lock", hj ? hj : json_string(holder));
    }
    free(holder);
    json_t *dr = json_array();
    size_t ntenants = 0;
    if (!tenant_drift(t, dr, &ntenants, e)) {
        json_decref(dr);
        return false;
    }
    /* With the applied plan to compare against: the library's tenant * too. */
    char live[REDIS_CONFIG_VERSION_LEN + 1], want[REDIS_CONFIG_VERSION_LEN + 1];
    if (applied && tg->env->rs && tg->env->rs->ns) {
        if (!template_versions(t, live, want, e)) {
            json_decref(dr);
            return false;
        }
        if (strcmp(live, want) != 0)
            json_array_append_new(dr, json_pack("{s:s,s:s,s:s,s:s}", "tenant", "*", "what",
                                                "the library's tenant * is not the plan's",
                                                "applied", *want ? want : "none", "live",
                                                *live ? live : "none"));
    }
    json_object_set_new(tj, "tenants", json_integer((json_int_t)ntenants));
    *drift += json_array_size(dr);
    json_object_set_new(tj, "drift", dr);
    return true;
}
