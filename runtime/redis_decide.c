/* redis_decide.c - `rlc decide` on a Redis target: one request sent to the
 * enforcement library exactly as a gateway sends it (SPEC.md 6.3), its
 * answer returned field by field.  With peek the library's rlc_peek is
 * called with FCALL_RO: Redis itself refuses any write from it, so a dry
 * run cannot charge a counter even by mistake.  A lease a real decision
 * takes is given back at once (rlc_release), as `rlc test` does: an
 * operator's probe must not hold a slot of a tenant's concurrency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan_key.h"
#include "target_redis.h"
#include "xalloc.h"

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_error(const redisReply *r, const char *prefix)
{
    return r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, prefix, strlen(prefix));
}

/* A reply element as a number: integers, and bulk strings of digits (the
 * library answers integers; a RESP3 client might see doubles). */
static long long num(const redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        return strtoll(r->str, NULL, 10);
    return 0;
}

static const char *str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? r->str : "";
}

/* Calls function fn (rlc_decide, rlc_peek, rlc_release) on the tenant's
 * node: FCALL (FCALL_RO for peek) on Redis 7, else EVALSHA of the plan's
 * script with the operation's name first. */
static redisReply *call_library(rtarget *t, const char *fn, const char *active, int nargs,
                                const char **args, rerr *e)
{
    const char *av[16];
    int ac = 0;
    bool ro = !strcmp(fn, "rlc_peek");
    if (t->functions || !t->sha[0]) {
        av[ac++] = ro ? "FCALL_RO" : "FCALL";
        av[ac++] = fn;
    } else {
        av[ac++] = "EVALSHA";
        av[ac++] = t->sha;
    }
    av[ac++] = "1";
    av[ac++] = active;
    if (!strcmp(av[0], "EVALSHA"))
        av[ac++] = fn + 4; /* "decide", "peek", "release" */
    for (int i = 0; i < nargs; i++)
        av[ac++] = args[i];
    return rstore_cmd(t->s, active, strlen(active), ac, av, NULL, e);
}

bool redis_decide(target *tg, const target_decide *q, json_t **out, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    *out = NULL;
    char *tag = plan_key_tag(tg->env->ns, q->tenant);
    size_t n = strlen(tag) + sizeof ":active";
    char *active = xmalloc(n);
    snprintf(active, n, "%s:active", tag);
    free(tag);
    char cost[32], now[32] = "";
    snprintf(cost, sizeof cost, "%lld", q->cost);
    long long sent_at = wall_ms();
    if (tg->env->client_time)
        snprintf(now, sizeof now, "%lld", sent_at);
    /* A store with functions answers FCALL; one without says it does not
     * know the command, and then the script is asked by its sha.  With
     * RLC_NO_FUNCTIONS set the deploy loaded the script even on Redis 7:
     * it is asked first. */
    const char *nf = getenv("RLC_NO_FUNCTIONS");
    rerr none = {0};
    t->functions = !(nf && *nf && strcmp(nf, "0") && rt_library_sha(t, &none));
    const char *args[6] = {q->path, q->method, q->route, cost, now, ""};
    const char *fn = q->peek ? "rlc_peek" : "rlc_decide";
    redisReply *r = call_library(t, fn, active, 6, args, e);
    if (t->functions && is_error(r, "ERR unknown command") && rt_library_sha(t, &none)) {
        freeReplyObject(r);
        t->functions = false;
        r = call_library(t, fn, active, 6, args, e);
    }
    bool ok = false;
    if (!r) {
        rerr_prefix(e, "target %s", tg->name);
    } else if (t->functions && !tg->env->plan &&
               (is_error(r, "ERR unknown command") ||
                (is_error(r, "ERR Function not found") && nf && *nf && strcmp(nf, "0")))) {
        /* A store asked by EVALSHA (no functions, or RLC_NO_FUNCTIONS=1):
         * the script's sha is the plan's library's, with its `tenant *`,
         * so without the plan there is nothing to ask for. */
        rerr_set(e, DIAG_DECIDE_NO_LIBRARY, "target %s: %s answers no FCALL %s (%s): a store "
                 "without functions (before Redis 7, or deployed with RLC_NO_FUNCTIONS=1) "
                 "is asked by EVALSHA of the plan's script, whose sha only the plan gives: "
                 "rlc decide --plan PLAN ...", tg->name, tg->addr, fn, r->str);
    } else if (is_error(r, "ERR Function not found") || is_error(r, "ERR unknown command") ||
               is_error(r, "NOSCRIPT")) {
        rerr_set(e, DIAG_DECIDE_NO_LIBRARY, "target %s: %s has no rlc enforcement library%s "
                 "(%s): deploy a plan to it first (rlc run)", tg->name, tg->addr,
                 q->peek ? " with rlc_peek" : "", r->str);
    } else if (r->type == REDIS_REPLY_ERROR) {
        rerr_set(e, DIAG_DECIDE_REFUSED, "target %s: the store refused the request: %s",
                 tg->name, r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements < 7) {
        rerr_set(e, DIAG_DECIDE_REFUSED, "target %s: unexpected answer to %s (not the 7 fields "
                 "of SPEC.md 6.3): the store's library is not this rlc's", tg->name, fn);
    } else {
        json_t *shadow = json_array();
        for (size_t i = 7; i < r->elements; i++)
            json_array_append_new(shadow, json_string(str(r->element[i])));
        const char *lease = str(r->element[6]);
        *out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:o, s:b}",
                         "tenant", q->tenant, "path", q->path, "method", q->method, "route",
                         q->route, "cost", (json_int_t)q->cost, "allowed",
                         num(r->element[0]) == 1, "rule", str(r->element[1]), "remaining",
                         (json_int_t)num(r->element[2]), "reset_ms",
                         (json_int_t)num(r->element[3]), "retry_ms",
                         (json_int_t)num(r->element[4]), "time_ms",
                         (json_int_t)num(r->element[5]), "shadow", shadow, "dry_run", q->peek);
        ok = true;
        if (lease[0]) {
            /* Given back at once: the probe completes as it is decided. */
            const char *rargs[5] = {q->path, q->method, q->route, lease, now};
            redisReply *rr = call_library(t, "rlc_release", active, 5, rargs, e);
            if (!rr || rr->type == REDIS_REPLY_ERROR) {
                ok = false;
                json_decref(*out);
                *out = NULL;
                if (rr)
                    rerr_set(e, DIAG_DECIDE_REFUSED, "target %s: the lease %s this decision "
                             "took could not be given back: %s (it expires by itself)",
                             tg->name, lease, rr->str);
            } else {
                json_object_set_new(*out, "lease_released", json_string(lease));
            }
            freeReplyObject(rr);
        }
    }
    freeReplyObject(r);
    free(active);
    return ok;
}
