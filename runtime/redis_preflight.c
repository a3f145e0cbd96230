/* redis_preflight.c - the checks of a Redis target before anything is
 * written (SPEC.md 7.5): every node healthy (reachable, not loading, a
 * primary where the deploy writes, cluster state ok, Redis 5 or later),
 * every command the deploy, its verification and its rollback send
 * permitted to the deployer's user, and each node's clock read for the
 * deploy's skew check (exec.c compares them).  Writes nothing but probe
 * keys that expire on their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "target_redis.h"
#include "xalloc.h"

static const char *info_field(const char *info, const char *field, char *out, size_t n)
{
    out[0] = '\0';
    const char *p = strstr(info, field);
    if (!p)
        return out;
    p += strlen(field);
    size_t k = strcspn(p, "\r\n");
    if (k >= n)
        k = n - 1;
    memcpy(out, p, k);
    out[k] = '\0';
    return out;
}

/* Every command a deploy, its verification and its rollback send, on keys
 * of the shapes they use, including the commands the enforcement library
 * runs as the calling user (a script's redis.call is checked against the
 * caller's ACL).  Key: 'N' a namespace key NS:<suffix>, 'T' a tenant key
 * {NS:tenant}:<suffix>, 0 none.  Within a family the DEL comes last: the
 * probes below really run. */
typedef struct perm {
    char key;
    const char *suffix;
    const char *why;
    const char *argv[8];       /* "$K" is the key; NULL ends */
} perm;

static const perm perms[] = {
    {'N', "deploy:lock", "to take the deploy lock", {"SET", "$K", "x", "NX", "PX", "30000", NULL}},
    {'N', "deploy:lock", "to renew and release the lock", {"EVAL", "return 1", "1", "$K", NULL}},
    {'N', "deploy:lock", "to read the lock", {"GET", "$K", NULL}},
    {'N', "deploy:lock", "to read the lock", {"PTTL", "$K", NULL}},
    {'N', "deploy:lock", "to renew the lock", {"PEXPIRE", "$K", "10000", NULL}},
    {'N', "deploy:marker", "to mark a deploy in progress", {"SET", "$K", "x", NULL}},
    {'N', "deploy:plan", "to checkpoint", {"DUMP", "$K", NULL}},
    {'N', "deploy:plan", "to roll back", {"RESTORE", "$K", "0", "x", "REPLACE", NULL}},
    {'N', "deploy:state", "to commit", {"HSET", "$K", "f", "v", NULL}},
    {'N', "deploy:state", "to commit", {"HDEL", "$K", "f", NULL}},
    {'N', "deploy:state", "to read the live state", {"HGETALL", "$K", NULL}},
    {'N', "deploy:state", "to checkpoint", {"HGET", "$K", "f", NULL}},
    {'N', "deploy:state", "to confirm the commit", {"HMGET", "$K", "f", NULL}},
    {'N', "deploy:state", "to checkpoint", {"PTTL", "$K", NULL}},
    {'N', "deploy:state", "to roll back", {"PEXPIRE", "$K", "1000", NULL}},
    {'N', "audit", "to anchor the audit log", {"XADD", "$K", "MAXLEN", "~", "10000", "*",
                                              "record", NULL}},
    {'N', "deploy:marker", "to commit and to roll back", {"DEL", "$K", NULL}},
    {'T', "cfg:x", "to write a tenant's config", {"HSET", "$K", "f", "v", NULL}},
    {'T', "cfg:x", "to read a tenant's config", {"HGETALL", "$K", NULL}},
    {'T', "cfg:x", "inside the enforcement library", {"HMGET", "$K", "f", NULL}},
    {'T', "active", "to read a tenant's pointer", {"GET", "$K", NULL}},
    {'T', "active", "to confirm the commit", {"MGET", "$K", NULL}},
    {'T', "active", "to set a verification pointer", {"SET", "$K", "x", NULL}},
    {'T', "active", "to checkpoint", {"DUMP", "$K", NULL}},
    {'T', "active", "to checkpoint", {"PTTL", "$K", NULL}},
    {'T', "active", "to roll back", {"RESTORE", "$K", "0", "x", "REPLACE", NULL}},
    {'T', "c:x", "inside the enforcement library", {"MGET", "$K", NULL}},
    {'T', "c:x", "inside the enforcement library", {"SET", "$K", "1", "PX", "1000", NULL}},
    {'T', "c:x", "inside the enforcement library", {"INCR", "$K", NULL}},
    {'T', "c:x", "inside the enforcement library", {"PEXPIRE", "$K", "1000", NULL}},
    {'T', "c:x", "inside the enforcement library", {"PEXPIREAT", "$K", "1000", NULL}},
    {'T', "c:x", "inside the enforcement library", {"ZADD", "$K", "1", "m", NULL}},
    {'T', "c:x", "inside the enforcement library", {"ZREM", "$K", "m", NULL}},
    {'T', "c:x", "inside the enforcement library",
     {"ZREMRANGEBYSCORE", "$K", "-inf", "0", NULL}},
    {'T', "c:x", "inside the enforcement library", {"ZCARD", "$K", NULL}},
    {'T', "c:x", "inside the enforcement library", {"ZRANGE", "$K", "0", "-1", "WITHSCORES", NULL}},
    {'T', "c:x:log", "inside the enforcement library", {"LRANGE", "$K", "0", "3", NULL}},
    {'T', "c:x:log", "inside the enforcement library", {"LTRIM", "$K", "1", "-1", NULL}},
    {'T', "c:x:log", "inside the enforcement library", {"LSET", "$K", "-1", "e", NULL}},
    {'T', "c:x:log", "inside the enforcement library", {"RPUSH", "$K", "e", NULL}},
    {'T', "cfg:x", "to remove old configs and to roll back", {"DEL", "$K", NULL}},
    {0, NULL, "to read the store's clock", {"TIME", NULL}},
    {0, NULL, "for preflight", {"INFO", NULL}},
};

/* A check sent in a pipeline, judged when its answer is read. */
typedef struct pqueued {
    char key[1024];
    const char *why, *cmd;     /* static strings of the checks' tables */
    char cmdname[64];
} pqueued;

#define PREFLIGHT_MAX_CHECKS 64
/* The table, the library's two checks and a cluster's two fit in one
 * pipeline. */
_Static_assert(sizeof perms / sizeof perms[0] + 4 <= PREFLIGHT_MAX_CHECKS,
               "preflight checks do not fit in one pipeline");

typedef struct pctx {
    rtarget *t;
    const char *user;
    const char *tag;           /* a tenant's hash tag, NULL when the plan has none */
    bool dryrun;               /* ACL DRYRUN answers; else the probes run */
    /* With ACL DRYRUN on one node, every check is sent in one pipeline
     * (one round trip instead of about fifty) and judged when drained. */
    rconn *pipe;
    pqueued *queued;           /* PREFLIGHT_MAX_CHECKS, on the heap: 70 KB of stack
                                * would cost a deploy about 17 page faults */
    size_t nqueued;
} pctx;

/* Judges the answer r to a check of cmdname (key shown, or ""). */
static bool perm_judge(pctx *p, const redisReply *r, const char *shown, const char *cmdname,
                       const char *why, const char *cmd0, bool *fallback, rerr *e)
{
    rtarget *t = p->t;
    bool ok = true;
    if (p->dryrun && r->type == REDIS_REPLY_ERROR) {
        /* Redis 5 and 6 lack it, a deployer without +acl may not run it,
         * and a password-only login names no ACL user: probe instead. */
        if (strstr(r->str, "NOPERM") || strstr(r->str, "nknown") ||
            strstr(r->str, "not found")) {
            *fallback = true;
        } else {
            ok = rerr_set(e, DIAG_STORE_REPLY, "target %s: ACL DRYRUN %s %s: %s", t->base.name,
                          p->user, cmd0, r->str);
        }
    } else if (p->dryrun && r->type == REDIS_REPLY_STRING) {
        ok = rerr_set(e, DIAG_PREFLIGHT_PERMISSION, "target %s: user '%s' may not run %s%s%s, "
                      "which a deploy needs %s (ACL DRYRUN: %s)", t->base.name, p->user, cmdname,
                      shown[0] ? " on " : "", shown, why, r->str);
    } else if (!p->dryrun && r->type == REDIS_REPLY_ERROR &&
               (!strncmp(r->str, "NOPERM", 6) || strstr(r->str, "READONLY"))) {
        ok = rerr_set(e, strstr(r->str, "READONLY") ? DIAG_PREFLIGHT_HEALTH
                                                    : DIAG_PREFLIGHT_PERMISSION,
                      "target %s: user '%s' may not run %s, which a deploy needs %s: %s",
                      t->base.name, p->user, cmdname, why, r->str);
    }
    return ok;
}

/* Checks one command: with ACL DRYRUN, as the deploy would send it; else
 * run on a probe key (NS:deploy:probe, {NS:tenant}:deploy:probe) that holds
 * a string, so that a permitted command answers anything but NOPERM
 * (WRONGTYPE, a parse error) and writes nothing else.  On Redis before 7
 * or for a user who may not run ACL DRYRUN, *fallback is set on the first
 * call and the caller starts again with probes.  With p->pipe the check
 * is only queued: perm_drain judges it. */
static bool perm_check(pctx *p, const char *keyfam, const char *suffix, const char *why,
                       int argc, const char **argv, bool *fallback, rerr *e)
{
    rtarget *t = p->t;
    char key[1024] = "";
    if (keyfam && *keyfam == 'N')
        snprintf(key, sizeof key, "%s:%s", t->base.env->ns, p->dryrun ? suffix : "deploy:probe");
    else if (keyfam && *keyfam == 'T')
        snprintf(key, sizeof key, "%s:%s", p->tag, p->dryrun ? suffix : "deploy:probe");
    const char *av[16];
    int n = 0;
    if (p->dryrun) {
        av[n++] = "ACL";
        av[n++] = "DRYRUN";
        av[n++] = p->user;
    }
    for (int i = 0; i < argc; i++)
        av[n++] = !strcmp(argv[i], "$K") ? key : argv[i];
    if (!p->dryrun && argc == 3 && !strcmp(argv[0], "SET")) {
        /* A plain SET would drop the probe key's TTL. */
        av[n++] = "PX";
        av[n++] = "10000";
    }
    const char *shown = key[0] && p->dryrun ? key : "";
    /* FUNCTION LOAD, not FUNCTION: ACLs grant subcommands. */
    bool sub = !strcmp(argv[0], "FUNCTION") || !strcmp(argv[0], "SCRIPT") ||
               !strcmp(argv[0], "CLUSTER");
    char cmdname[64];
    snprintf(cmdname, sizeof cmdname, "%s%s%s", argv[0], sub ? " " : "", sub ? argv[1] : "");
    if (p->pipe) {
        char *resp;
        size_t len = rconn_format(&resp, n, av, NULL);
        bool sent = rconn_append(p->pipe, resp, len, e);
        free(resp);
        if (!sent)
            return false;
        pqueued *q = &p->queued[p->nqueued++];
        snprintf(q->key, sizeof q->key, "%s", shown);
        q->why = why;
        q->cmd = argv[0];
        snprintf(q->cmdname, sizeof q->cmdname, "%s", cmdname);
        return true;
    }
    redisReply *r = rstore_cmd(t->s, key[0] ? key : NULL, strlen(key), n, av, NULL, e);
    if (!r)
        return false;
    bool ok = perm_judge(p, r, shown, cmdname, why, argv[0], fallback, e);
    freeReplyObject(r);
    return ok;
}

/* Reads the answers of every queued check, in order, and judges them up
 * to the first refusal or the first that says to fall back to probes
 * (the rest are read and dropped, so the connection stays in step). */
static bool perm_drain(pctx *p, bool *fallback, rerr *e)
{
    bool ok = true, judging = true;
    for (size_t i = 0; i < p->nqueued; i++) {
        rerr io;
        redisReply *r = rconn_read(p->pipe, &io);
        if (!r) {
            if (ok)
                *e = io;
            ok = false;
            break;
        }
        if (judging) {
            pqueued *q = &p->queued[i];
            ok = perm_judge(p, r, q->key, q->cmdname, q->why, q->cmd, fallback, e);
            judging = ok && !*fallback;
        }
        freeReplyObject(r);
    }
    p->nqueued = 0;
    return ok;
}

/* A tenant of a bucket the load left out of the rules (a re-apply that
 * changes nothing has no tenant in them), or NULL. */
static const char *elided_name(const target_env *env)
{
    for (size_t i = 0; env->known && i < env->known->nrec; i++) {
        const tknown_rec *r = &env->known->rec[i];
        for (size_t j = 0; r->nelided && j < r->nb; j++)
            if (r->elided[j])
                return r->first(r->whole, j);
    }
    return NULL;
}

static bool probe_permission(rtarget *t, rerr *e)
{
    const target_env *env = t->base.env;
    pctx p = {.t = t, .user = t->user[0] ? t->user : "default", .dryrun = true,
              .queued = xmalloc(PREFLIGHT_MAX_CHECKS * sizeof(pqueued))};
    /* One tenant's keys stand for all: an ACL key pattern is written for
     * the namespace, and checking 100 000 tenants would take as long as
     * the deploy. */
    const char *one = env->rs && env->rs->ntenants ? env->rs->tenants[0].name
                                                   : elided_name(env);
    char *tag = one ? plan_key_tag(env->ns, one) : NULL;
    p.tag = tag;
    bool ok = true;
    for (int pass = 0; ok && pass < 2; pass++) {
        bool fallback = false;
        p.pipe = p.dryrun && !t->s->cluster ? rstore_node_conn(t->s, 0, e) : NULL;
        if (p.dryrun && !t->s->cluster && !p.pipe) {
            rerr_prefix(e, "target %s", t->base.name);
            ok = false;
            break;
        }
        for (size_t i = 0; ok && !fallback && i < sizeof perms / sizeof perms[0]; i++) {
            const perm *q = &perms[i];
            if (q->key == 'T' && !tag)
                continue;
            int argc = 0;
            while (argc < 8 && q->argv[argc])
                argc++;
            char fam[2] = {q->key, 0};
            /* XADD's field value: the record, in a real deploy. */
            const char *av[10];
            memcpy(av, q->argv, (size_t)argc * sizeof *av);
            if (!strcmp(av[0], "XADD"))
                av[argc++] = "x";
            ok = perm_check(&p, q->key ? fam : NULL, q->suffix, q->why, argc, av, &fallback, e);
        }
        /* The library: loading it, and calling it on a tenant's keys.  A
         * probe calls a function that does not exist: permitted answers
         * "not found", refused answers NOPERM. */
        const char *fl[4] = {"FUNCTION", "LOAD", "REPLACE", "x"}, *sl[3] = {"SCRIPT", "LOAD", "x"};
        const char *fc[5] = {"FCALL", p.dryrun ? "rlc_activate" : "rlc_no_such_function", "1",
                             "$K", "x"};
        const char *es[5] = {"EVALSHA", "0000000000000000000000000000000000000000", "1", "$K",
                             "x"};
        if (ok && !fallback)
            ok = t->functions ? perm_check(&p, NULL, NULL, "to load the enforcement library",
                                           4, fl, &fallback, e)
                              : perm_check(&p, NULL, NULL, "to load the enforcement library", 3,
                                           sl, &fallback, e);
        if (ok && !fallback && tag)
            ok = t->functions ? perm_check(&p, "T", "active", "to activate and verify a "
                                           "tenant's config", 5, fc, &fallback, e)
                              : perm_check(&p, "T", "active", "to activate and verify a "
                                           "tenant's config", 5, es, &fallback, e);
        if (ok && !fallback && t->s->cluster) {
            const char *ci[2] = {"CLUSTER", "INFO"}, *cs[2] = {"CLUSTER", "SLOTS"};
            ok = perm_check(&p, NULL, NULL, "for preflight", 2, ci, &fallback, e) &&
                 perm_check(&p, NULL, NULL, "to find the cluster's nodes", 2, cs, &fallback, e);
        }
        if (p.pipe) {
            /* Every check was queued: a failure to queue one leaves the
             * connection out of step, so it is read out either way. */
            rerr later;
            bool drained = perm_drain(&p, &fallback, ok ? e : &later);
            ok = ok && drained;
            p.pipe = NULL;
        }
        if (!ok || !fallback || !p.dryrun)
            break;
        p.dryrun = false;
        /* The probe keys: a string with a TTL, so a refused deploy leaves
         * nothing even when DEL is what is refused. */
        for (int f = 0; ok && f < 2; f++) {
            if (f == 1 && !tag)
                break;
            const char *sv[6] = {"SET", "$K", "x", "PX", "10000"};
            ok = perm_check(&p, f ? "T" : "N", NULL, "to take the lock and write configs", 5, sv,
                            &fallback, e);
        }
    }
    if (!p.dryrun) {
        /* Gone at once when DEL is allowed, else in 10 s by their TTL. */
        char k[1024];
        rerr ignore;
        snprintf(k, sizeof k, "%s:deploy:probe", env->ns);
        const char *dv[2] = {"DEL", k};
        freeReplyObject(rstore_cmd(t->s, k, strlen(k), 2, dv, NULL, &ignore));
        if (tag) {
            snprintf(k, sizeof k, "%s:deploy:probe", tag);
            freeReplyObject(rstore_cmd(t->s, k, strlen(k), 2, dv, NULL, &ignore));
        }
    }
    free(tag);
    free(p.queued);
    return ok;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One node: INFO (loading, role, version), CLUSTER INFO on a cluster, and
 * its clock (TIME bracketed by two readings of ours) into clk.  *major
 * gets its Redis major version. */
static bool check_node(rtarget *t, size_t i, json_t *nodes, tclocks *clk, int *major, rerr *e)
{
    rnode *nd = &t->s->nodes[i];
    rconn *cn = rstore_node_conn(t->s, i, e);
    if (!cn) {
        rerr_prefix(e, "target %s", t->base.name);
        return false;
    }
    /* The INFO the connection was opened with, when it was this node's. */
    char *info = rstore_take_info(t->s, i);
    redisReply *r;
    if (!info) {
        r = rconn_cmdf(cn, e, "INFO");
        if (!r)
            return false;
        if (r->type != REDIS_REPLY_STRING) {
            rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s:%d: INFO: %s", nd->host, nd->port,
                     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            return false;
        }
        info = xstrdup(r->str);
        freeReplyObject(r);
    }
    char ver[32], loading[8], role[16], cstate[16] = "", mh[256], mp[8];
    info_field(info, "redis_version:", ver, sizeof ver);
    info_field(info, "loading:", loading, sizeof loading);
    info_field(info, "role:", role, sizeof role);
    info_field(info, "master_host:", mh, sizeof mh);
    info_field(info, "master_port:", mp, sizeof mp);
    free(info);
    if (!strcmp(loading, "1"))
        return rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s:%d is loading its dataset", nd->host,
                        nd->port);
    /* A replica refuses every write (READONLY): found here, not half-way
     * through apply. */
    if (nd->primary && strcmp(role, "master"))
        return rerr_set(e, DIAG_PREFLIGHT_HEALTH, "target %s: %s:%d is a replica (role:%s) of "
                        "%s:%s, and a deploy writes: point the target at the primary",
                        t->base.name, nd->host, nd->port, role, mh[0] ? mh : "?",
                        mp[0] ? mp : "?");
    if (t->s->cluster) {
        r = rconn_cmdf(cn, e, "CLUSTER INFO");
        if (!r)
            return false;
        if (r->type == REDIS_REPLY_STRING)
            info_field(r->str, "cluster_state:", cstate, sizeof cstate);
        freeReplyObject(r);
        if (strcmp(cstate, "ok"))
            return rerr_set(e, DIAG_CLUSTER_STATE, "%s:%d: cluster_state:%s", nd->host,
                            nd->port, cstate[0] ? cstate : "?");
    }
    *major = atoi(ver);
    if (*major < 5)
        return rerr_set(e, DIAG_STORE_VERSION, "%s:%d runs Redis %s; 5.0 or later is needed",
                        nd->host, nd->port, ver);
    /* Clock: our time before and after TIME brackets the node's. */
    long long t0 = now_us();
    r = rconn_cmdf(cn, e, "TIME");
    long long t1 = now_us();
    if (!r)
        return false;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return rerr_set(e, DIAG_STORE_REPLY, "%s:%d: TIME: unexpected reply", nd->host,
                        nd->port);
    }
    double node_us = atof(r->element[0]->str) * 1e6 + atof(r->element[1]->str);
    freeReplyObject(r);
    char name[300];
    snprintf(name, sizeof name, "%s:%d", nd->host, nd->port);
    /* RLC_FAULT_CLOCK_MS shifts our clock for tests, where a server cannot
     * run under faketime (jemalloc clashes with libfaketime).  SPEC.md 7.5. */
    const char *shift = getenv("RLC_FAULT_CLOCK_MS");
    double off_us = node_us - (double)(t0 + t1) / 2.0 - (shift ? atof(shift) * 1000.0 : 0.0);
    double err_us = (double)(t1 - t0) / 2.0 + 1.0;
    tclocks_add(clk, &t->base, name, off_us, err_us);
    json_array_append_new(nodes, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:f}", "target",
                                           t->base.name, "node", name, "version", ver, "role",
                                           role, "offset_ms", (json_int_t)(off_us / 1000.0),
                                           "rtt_ms", (json_int_t)((t1 - t0) / 1000),
                                           "offset_error_ms", err_us / 1000.0));
    return true;
}

bool redis_preflight(target *tg, json_t *report, tclocks *clk, rerr *e)
{
    rtarget *t = (rtarget *)tg;
    json_t *nodes = json_object_get(report, "nodes");
    int min_major = 99;
    if (!rstore_add_all_nodes(t->s, e)) {
        rerr_prefix(e, "target %s", t->base.name);
        return false;
    }
    for (size_t i = 0; i < t->s->nnodes; i++) {
        int major;
        if (!check_node(t, i, nodes, clk, &major, e))
            return false;
        if (t->s->nodes[i].primary && major < min_major)
            min_major = major;
    }
    const char *nf = getenv("RLC_NO_FUNCTIONS");
    t->functions = min_major >= 7 && !(nf && *nf && strcmp(nf, "0"));
    t->probed = true;
    return probe_permission(t, e);
}
