/* redis_verify.c - verification of a Redis deploy (SPEC.md 7.6): each of
 * the plan's verification cases runs through the enforcement library on a
 * shadow copy of its tenant's new config ("<tag>:v", fresh counters no
 * client touches), and every decision must equal the simulator's.  The
 * shadow keys are deleted after (and by rollback, which restores their
 * checkpointed absence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fault.h"
#include "plan_key.h"
#include "sim.h"
#include "target_redis.h"
#include "xalloc.h"

/* "group:a/key:b" from a verify case's path (tenant element first), in
 * malloc'd memory, the caller's. */
static char *case_path(const json_t *path)
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    size_t i;
    json_t *el;
    json_array_foreach(path, i, el) {
        if (i == 0)
            continue;
        const json_t *kind = json_object_get(el, "kind"), *name = json_object_get(el, "name");
        plan_subject_seg(&b, i == 1, json_string_value(kind), json_string_length(kind),
                         json_string_value(name), json_string_length(name));
    }
    if (!buf_ok(&b))
        abort();
    return b.data ? b.data : xstrdup("");
}

static void queue_sends(rtarget *t, rpipe *p, size_t i, const json_t *vc, const char *sk,
                        size_t *first);

/* Queues one case's shadow config, shadow pointer and requests (x NULL:
 * a case of `tenant *`, requests only); first gets the reply index of its
 * first request. */
static void queue_case(rtarget *t, rpipe *p, size_t i, const json_t *vc, rtenant *x,
                       size_t *first)
{
    if (!x) {
        /* `tenant *`: no config to copy, the library holds it; the shadow
         * pointer "<tag>:v:active" is absent, so the library decides by it. */
        char *tag = plan_key_tag(t->base.env->ns,
                                 json_string_value(json_object_get(vc, "tenant")));
        char *sk = str_printf("%s" PLAN_KEY_VERIFY PLAN_KEY_ACTIVE, tag);
        queue_sends(t, p, i, vc, sk, first);
        free(sk);
        free(tag);
        return;
    }
    /* Shadow copy of the tenant's config under "<tag>:v", so decisions run
     * on fresh counters that no client touches. */
    char *sk = str_printf("%s" PLAN_KEY_VERIFY PLAN_KEY_ACTIVE, rt_tag(t, x));
    char *scfg = str_printf("%s" PLAN_KEY_VERIFY PLAN_KEY_CFG "%s", rt_tag(t, x), x->newver);
    redis_cmd *hs = &x->cmds.v[0];
    const char **av = xmalloc((size_t)hs->argc * sizeof *av);
    size_t *lens = xmalloc((size_t)hs->argc * sizeof *lens);
    for (int a = 0; a < hs->argc; a++) {
        av[a] = hs->argv[a];
        lens[a] = hs->argvlen[a];
    }
    av[1] = scfg;
    lens[1] = strlen(scfg);
    rpipe_add(p, scfg, strlen(scfg), hs->argc, av, lens);
    free(av);
    free(lens);
    const char *setv[3] = {"SET", sk, x->newver};
    rpipe_add(p, sk, strlen(sk), 3, setv, NULL);
    queue_sends(t, p, i, vc, sk, first);
    free(scfg);
    free(sk);
}

/* Queues the case's requests on shadow pointer sk. */
static void queue_sends(rtarget *t, rpipe *p, size_t i, const json_t *vc, const char *sk,
                        size_t *first)
{
    char *path = case_path(json_object_get(vc, "path"));
    const char *method = json_string_value(json_object_get(vc, "method"));
    const char *route = json_string_value(json_object_get(vc, "route"));
    long long cost = json_integer_value(json_object_get(vc, "cost"));
    long long sends = json_integer_value(json_object_get(vc, "sends"));
    char costs[24];
    snprintf(costs, sizeof costs, "%lld", cost > 0 ? cost : 1);
    *first = rpipe_count(p);
    for (long long s2 = 0; s2 < sends; s2++) {
        char now[24] = "", lease[64];
        if (t->base.env->client_time)
            snprintf(now, sizeof now, "%lld", statedir_now_ms());
        snprintf(lease, sizeof lease, "verify-%zu-%lld", i, s2);
        if (t->functions) {
            const char *dv[10] = {"FCALL", "rlc_decide", "1", sk, path, method ?: "",
                                  route ?: "", costs, now, lease};
            rpipe_add(p, sk, strlen(sk), 10, dv, NULL);
        } else {
            const char *dv[11] = {"EVALSHA", t->sha, "1", sk, "decide", path, method ?: "",
                                  route ?: "", costs, now, lease};
            rpipe_add(p, sk, strlen(sk), 11, dv, NULL);
        }
    }
    free(path);
}

/* Compares one case's replies (from reply first - 2: the shadow config and
 * pointer, then one per request) with the simulator sm. */
static bool check_case(rpipe *p, size_t i, const json_t *vc, size_t first, bool shadow_cfg,
                       sim *sm, size_t *ncases, size_t *nsent, rerr *e)
{
    const char *tn = json_string_value(json_object_get(vc, "tenant"));
    for (size_t k = shadow_cfg ? first - 2 : first; k < first; k++) {
        const redisReply *r = rpipe_reply(p, k);
        if (r->type == REDIS_REPLY_ERROR)
            return rerr_set(e, DIAG_STORE_REPLY, "shadow config of tenant %s: %s", tn, r->str);
    }
    (*ncases)++;
    char *path = case_path(json_object_get(vc, "path"));
    const char *method = json_string_value(json_object_get(vc, "method"));
    const char *route = json_string_value(json_object_get(vc, "route"));
    long long cost = json_integer_value(json_object_get(vc, "cost"));
    long long sends = json_integer_value(json_object_get(vc, "sends"));
    bool ok = true;
    for (long long s2 = 0; s2 < sends && ok; s2++) {
        const redisReply *r = rpipe_reply(p, first + (size_t)s2);
        char lease[64];
        snprintf(lease, sizeof lease, "verify-%zu-%lld", i, s2);
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 6) {
            ok = rerr_set(e, DIAG_VERIFY_MISMATCH, "tenant %s: decide returned %s", tn,
                          r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply");
            break;
        }
        long long allowed = r->element[0]->integer;
        long long remaining = r->element[2]->type == REDIS_REPLY_INTEGER
                                  ? r->element[2]->integer
                                  : atoll(r->element[2]->str ? r->element[2]->str : "0");
        long long now_ms = r->element[5]->type == REDIS_REPLY_INTEGER
                               ? r->element[5]->integer
                               : atoll(r->element[5]->str ? r->element[5]->str : "0");
        sim_decision d;
        sim_status st = sim_decide(sm, tn, path, method, route, cost > 0 ? cost : 1, now_ms,
                                   lease, &d);
        (*nsent)++;
        if (st != SIM_OK || d.allowed != (allowed == 1) || d.remaining != remaining)
            ok = rerr_set(e, DIAG_VERIFY_MISMATCH, "tenant %s, path '%s', %s %s, request %lld: "
                          "the store said %s (remaining %lld), the simulator %s (remaining "
                          "%lld)", tn, path, method ?: "-", route ?: "-", s2 + 1,
                          allowed == 1 ? "allow" : "reject", remaining,
                          st != SIM_OK ? sim_status_text(st) : d.allowed ? "allow" : "reject",
                          (long long)d.remaining);
    }
    free(path);
    return ok;
}

/* Whether a case of tenant tn is `tenant *`'s: tn is not listed. */
static bool by_template(const rl_ruleset *rs, const char *tn)
{
    return tn && rs->any_tenant && !rules_tenant(rs, tn);
}

/* Every case's shadow config, pointer and requests go in one pipeline (a
 * tenant's keys share one slot, so one node runs them in order, as if sent
 * one by one); the replies are then compared with one simulator per
 * tenant, holding that tenant alone (cases come in tenant order and a
 * tenant's cases share its shadow counters, so they share its simulator).
 * O(cases x sends) commands in one round trip per batch, O(rules of one
 * tenant) per simulator.
 *
 * A decision is a function of the library and of the tenant's config
 * alone.  When the library was this plan's before the deploy and still is
 * (read again now: one replaced behind the deploy's back is not the one
 * the earlier deploys verified), a tenant whose config does not change
 * decides as it did when its config was last deployed and verified with
 * this library: only the cases of the tenants that change are run (and
 * `tenant *`'s run only when the library, which holds it, changes). */
static bool run_cases(rtarget *t, json_t *report, rerr *e)
{
    const target_env *env = t->base.env;
    json_t *cases = json_object_get(env->plan, "verify");
    size_t ncases_all = json_array_size(cases);
    size_t *first = xcalloc(ncases_all + 1, sizeof *first);   /* reply index of send 0 */
    bool *run = xcalloc(ncases_all + 1, sizeof *run);
    /* The read found the plan's library on the store and left the other
     * cases' tenants unread: only the changed tenants' cases run, and the
     * library is read again in the same pipeline (ahead of them: one node,
     * a standalone store).  One replaced since the read means the store
     * does not run what was deployed: what the cases answered is not
     * looked at, and the deploy fails. */
    bool scoped = t->lib_same;
    bool ok = true, replaced = false;
    rpipe *p = rpipe_new(t->s);
    if (scoped) {
        const char *lv[5] = {"FUNCTION", "LIST", "LIBRARYNAME", "rlc", "WITHCODE"};
        rpipe_add(p, NULL, 0, 5, lv, NULL);
    }
    size_t i;
    json_t *vc;
    json_array_foreach(cases, i, vc) {
        if (!ok)
            break;
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        rtenant *x = rt_find(t, tn);
        run[i] = scoped ? x && x->changed : x || by_template(env->rs, tn);
        /* Every case runs: one whose tenant was not read would be skipped
         * in silence, and the deploy pass untested. */
        if (!scoped && !run[i]) {
            ok = rerr_set(e, DIAG_PLAN_SHAPE, "target %s: verify[%zu]: tenant \"%s\" was not "
                          "read, so its case cannot run", t->base.name, i, tn ? tn : "");
            break;
        }
        /* The read encodes every case's tenant when it expects every case
         * to run, else only the changed ones: whichever runs is encoded. */
        if (run[i] && x && !rt_encode(t, x, e)) {
            ok = false;
            break;
        }
        if (run[i])
            queue_case(t, p, i, vc, x, &first[i]);
    }
    ok = ok && rpipe_exec(p, e);
    if (ok && scoped) {
        rerr tmp = {0};
        json_t *code = rt_library_code(rpipe_reply(p, 0), &tmp);
        replaced = !rt_library_is_plans(t, code);
        json_decref(code);
        if (replaced)
            ok = rerr_set(e, DIAG_VERIFY_MISMATCH, "target %s: the enforcement library on the "
                          "store is no longer the plan's: it was replaced during the deploy, "
                          "after the read found it unchanged", t->base.name);
    }
    sim *sm = NULL;
    rl_ruleset one = *env->rs;
    const rtenant *sim_of = NULL;
    bool sim_tmpl = false;
    size_t ncases = 0, nsent = 0;
    json_array_foreach(cases, i, vc) {
        if (!ok)
            break;
        if (!run[i])
            continue;
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        rtenant *x = rt_find(t, tn);
        bool tmpl = !x;
        char err[512];
        if (x && !rules_tenant_load((rl_ruleset *)env->rs, x->t, err, sizeof err)) {
            ok = rerr_set(e, env->rs->fetch_code ? env->rs->fetch_code : DIAG_PLAN_SHAPE, "%s",
                          err);
            break;
        }
        if (!sm || x != sim_of || tmpl != sim_tmpl) {
            sim_free(sm);
            one.tenants = x ? (rl_tenant *)x->t : NULL;
            one.ntenants = x ? 1 : 0;
            sm = sim_new(&one);
            sim_of = x;
            sim_tmpl = tmpl;
        }
        ok = check_case(p, i, vc, first[i], x != NULL, sm, &ncases, &nsent, e);
    }
    sim_free(sm);
    rpipe_free(p);
    free(first);
    free(run);
    json_object_set_new(report, "verify_scope",
                        json_string(scoped || replaced ? "changed" : "all"));
    json_object_set_new(report, "verify_cases", json_integer((json_int_t)ncases));
    json_object_set_new(report, "verify_requests", json_integer((json_int_t)nsent));
    return ok;
}

/* Deletes the shadow keys of verification (best effort, then by rollback). */
static void drop_shadow(rtarget *t)
{
    json_t *keys = json_array();
    rt_shadow_keys(t, keys);
    rpipe *p = rpipe_new(t->s);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *ks = json_string_value(k);
        const char *av[2] = {"DEL", ks};
        rpipe_add(p, ks, strlen(ks), 2, av, NULL);
    }
    rerr tmp;
    rpipe_exec(p, &tmp);
    rpipe_free(p);
    json_decref(keys);
}

bool redis_verify(target *tg, json_t *summary, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    bool ok = run_cases(t, summary, e);
    drop_shadow(t);
    if (!ok || !fault_point("verify", e))
        return false;
    json_int_t n = json_integer_value(json_object_get(summary, "verify_requests"));
    if (!strcmp(json_string_value(json_object_get(summary, "verify_scope")), "changed"))
        target_say(tg, "%lld request%s decided as the simulator predicts (the cases of changed "
                   "tenants: the library is unchanged)", (long long)n, n == 1 ? "" : "s");
    else
        target_say(tg, "%lld request%s decided as the simulator predicts", (long long)n,
                   n == 1 ? "" : "s");
    return true;
}
