/* exec.c - the deploy executor.  See exec.h and SPEC.md section 7.
 *
 * The order of a run, and why:
 *   state directory lock (held to the end: while it is held, nobody
 *   recovers this run's journal) -> recovery of an interrupted deploy
 *   -> load -> preflight of the Redis targets (health, permissions, clocks:
 *   a refusal writes nothing, not even the lock)
 *   -> journal begin (fsynced, names the lock token and targets)
 *   -> lock -> etcd/HTTP preflight -> checkpoint file -> journal "checkpoint"
 *   -> marker key -> journal "apply" -> library, configs, pointer flips
 *   -> journal "verify" -> shadow-key verification
 *   -> commit writes (deploy state, old configs removed, marker removed)
 *   -> read back (only what reads back as written is "committed")
 *   -> journal "committed" -> audit -> journal "audited" -> unlock -> finish.
 * Recovery reads the journal of a run whose process is gone: before
 * "apply" nothing but the lock and the marker were written (abandon); after
 * "committed" the store holds the new state (finish: audit, unlock); in
 * between, restore the checkpoint.
 *
 * Only the tenants whose config version differs from the live pointer are
 * written, checkpointed and flipped, so a re-apply costs O(changed).
 * Etcd and HTTP targets are applied by gateway.c, called at each phase
 * (SPEC 7.8, 7.9); nginx targets are not applied yet (reported as
 * skipped). */
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "buf.h"
#include "digest.h"
#include "fault.h"
#include "gateway.h"
#include "journal.h"
#include "lock.h"
#include "plan_digest.h"
#include "plan_load.h"
#include "redact.h"
#include "plan_sign.h"
#include "redis_cluster.h"
#include "redis_config.h"
#include "rules.h"
#include "sim.h"
#include "statedir.h"
#include "target.h"

#ifndef RLC_VERSION
#define RLC_VERSION "0.0.0"
#endif

#define MAX_TARGETS 8

typedef struct xtenant {
    const rl_tenant *t;        /* NULL: a tenant removed by this plan */
    const char *name;
    char *tag;                 /* "{ns:name}" */
    char newver[REDIS_CONFIG_VERSION_LEN + 1];
    char *live;                /* live active version, NULL when none */
    bool changed;
    redis_cmds cmds;           /* HSET config, activate */
} xtenant;

typedef struct xt {
    char name[128];
    json_t *desc;              /* how to reach it (no secrets): owned */
    rurl url;
    char user[128], pass[512];
    rstore *s;
    bool functions;
    char sha[41];
    dlock lock;
    char addr[512];
    xtenant *ten;
    size_t nten;
    json_t *state;             /* live NS:deploy:state as an object */
    /* When the record's plan versions are usable: its tenants in name order
     * (pointing into state) and their plan versions, 64 hex digits each,
     * in the same order. */
    struct kv *rec_kv;
    size_t rec_n;
    char *rec_pv;
    char *live_plan;           /* live NS:deploy:plan */
    char manifest_path[STATEDIR_PATH_MAX];  /* this state dir's record of the target */
    bool fast_read;            /* the store's manifest matched that record */
    size_t pointers_read;      /* active pointers read from the store */
    size_t encoded;            /* tenant configs encoded (the others' versions known) */
} xt;

typedef struct xc {
    const exec_opts *o;
    json_t *plan;
    char digest[DIGEST_HEX_LEN + 1];
    rl_ruleset rs;
    bool have_rs;
    const char *ns, *policy;
    int64_t skew_ms;
    bool client_time;
    xt t[MAX_TARGETS];
    size_t nt;
    char run[64];
    char token[33];
    journal j;
    bool jopen;
    char ckpt[STATEDIR_PATH_MAX];
    json_t *summary;
    json_t *skipped;
    json_t *phase_ms;          /* wall time of each phase, for the summary */
    long long mark_ms;
    gateway *gw;               /* etcd and http targets (gateway.c) */
    json_t *gw_tenants;        /* [{"name","version","rules"}] for gw, kept while streaming */
    bool gw_checked;           /* whether the plan has targets that need gw_tenants */
} xc;

/* --- small helpers ---------------------------------------------------------- */

static void say(xc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(xc *c, const char *fmt, ...)
{
    if (!c->o->progress)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(msg, sizeof msg, vsnprintf(msg, sizeof msg, fmt, ap));
    va_end(ap);
    c->o->progress(c->o->ud, msg);
}

static void key_of(char *out, size_t n, const char *ns, const char *what)
{
    snprintf(out, n, "%s:%s", ns, what);
}

static redisReply *cmd(rstore *s, rerr *e, const char *key, int argc, const char **argv)
{
    return rstore_cmd(s, key, key ? strlen(key) : 0, argc, argv, NULL, e);
}

static bool cmd_ok(rstore *s, rerr *e, const char *key, int argc, const char **argv)
{
    redisReply *r = cmd(s, e, key, argc, argv);
    if (!r)
        return false;
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok)
        rerr_set(e, DIAG_STORE_REPLY, "%s %s: %s", argv[0], key ? key : "", r->str);
    freeReplyObject(r);
    return ok;
}

static char *hexdup(const char *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (h)
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

/* --- plan ------------------------------------------------------------------ */

/* Each tenant of the plan into c->rs as plan_load_streamed parses it. */
/* Whether the plan has etcd/http/nginx targets, which need each tenant's
 * rules as JSON (c->gw_tenants): the plan is streamed, so its "tenants" stay
 * empty.  "targets" sorts before "tenants", so it is known already. */
static bool gw_needs_tenants(xc *c, const json_t *plan)
{
    if (!c->gw_checked) {
        c->gw_checked = true;
        size_t k;
        json_t *tj;
        json_array_foreach(json_object_get(plan, "targets"), k, tj) {
            const char *kind = json_string_value(json_object_get(tj, "kind"));
            if (kind && strcmp(kind, "redis") && !c->gw_tenants)
                c->gw_tenants = json_array();
        }
    }
    return c->gw_tenants != NULL;
}

static bool take_tenant(void *ud, const json_t *plan, const json_t *tenant, size_t i, size_t n,
                        rerr *e)
{
    xc *c = ud;
    char err[512];
    if (gw_needs_tenants(c, plan))
        json_array_append_new(c->gw_tenants,
                              json_pack("{s:O,s:O,s:O}", "name", json_object_get(tenant, "name"),
                                        "version", json_object_get(tenant, "version"), "rules",
                                        json_object_get(tenant, "rules")));
    if (!c->have_rs) {
        if (!rules_begin(plan, n, &c->rs, err, sizeof err))
            return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
        c->have_rs = true;
    }
    if (!c->have_rs || i >= n)
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: more tenants than counted", i);
    /* A deploy takes equal versions for equal rules (the manifest record),
     * so the version must be the rules' digest (SPEC.md 5.5). */
    char hex[DIGEST_HEX_LEN + 1];
    const char *ver = json_string_value(json_object_get(tenant, "version"));
    if (!digest_json_hex(json_object_get(tenant, "rules"), hex) || !ver || strcmp(hex, ver))
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: \"version\" is not the SHA-256 of "
                        "its rules", i);
    if (!rules_add_tenant(&c->rs, tenant, err, sizeof err))
        return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    return true;
}

/* The same from the tenant's canonical text, without a tree (rules.h). */
static int take_tenant_text(void *ud, const json_t *plan, const char *text, size_t len,
                            size_t i, size_t n, rerr *e)
{
    xc *c = ud;
    char err[512];
    if (gw_needs_tenants(c, plan))
        return 0;   /* parsed and handed to take_tenant, which keeps it */
    if (!c->have_rs) {
        if (!rules_begin(plan, n, &c->rs, err, sizeof err)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
            return -1;
        }
        c->have_rs = true;
    }
    if (i >= n) {
        rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: more tenants than counted", i);
        return -1;
    }
    switch (rules_add_tenant_text(&c->rs, text, len, err, sizeof err)) {
    case RULES_TEXT_OK: return 1;
    case RULES_TEXT_OTHER: return 0;
    case RULES_TEXT_ERROR: break;
    }
    rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    return -1;
}

static exec_status load_plan(xc *c, const char *path, rerr *e)
{
    /* The signature first: with a key configured, a plan nobody signed is
     * not even parsed. */
    char signed_dg[DIGEST_HEX_LEN + 1] = "";
    if (c->o->verify_key) {
        char err[1024];
        int code = plan_sig_verify(path, c->o->verify_key, signed_dg, err, sizeof err);
        if (code) {
            rerr_set(e, code, "%s: %s", path, err);
            return EXEC_SIGNATURE;
        }
    }
    /* Parse, compatibility and digest checks are plan_load's (RLC310x);
     * tenants come one at a time straight into rules, so a plan of 100 000
     * tenants is never one JSON tree.  c->plan keeps the rest. */
    c->plan = plan_load_streamed(path, take_tenant_text, take_tenant, c,
                                 c->o->verify_key ? signed_dg : NULL, e);
    if (!c->plan)
        return e->code == DIAG_PLAN_SIGNATURE ? EXEC_SIGNATURE : EXEC_PLAN;
    snprintf(c->digest, sizeof c->digest, "%s",
             json_string_value(json_object_get(c->plan, "plan_digest")));
    if (c->o->verify_key && strcmp(signed_dg, c->digest)) {
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s: the signature is for plan %.16s..., but this plan "
                 "is %.16s...: it was changed (and sealed again) after it was signed", path,
                 signed_dg, c->digest);
        return EXEC_SIGNATURE;
    }
    char err[512];
    if (!c->have_rs) {
        if (!rules_begin(c->plan, 0, &c->rs, err, sizeof err)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s: %s", path, err);
            return EXEC_PLAN;
        }
        c->have_rs = true;
    }
    if (!rules_finish(&c->rs, err, sizeof err)) {
        rerr_set(e, DIAG_PLAN_SHAPE, "%s: %s", path, err);
        return EXEC_PLAN;
    }
    /* A case whose tenant is not in the plan would be skipped, and a
     * deploy would pass verification untested. */
    size_t i;
    json_t *vc;
    json_array_foreach(json_object_get(c->plan, "verify"), i, vc)
        if (!rules_tenant(&c->rs, json_string_value(json_object_get(vc, "tenant")))) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s: plan field verify[%zu].tenant names a tenant the "
                     "plan lacks", path, i);
            return EXEC_PLAN;
        }
    c->ns = c->rs.ns;
    c->policy = c->rs.policy;
    c->skew_ms = c->rs.skew_ms;
    c->client_time = c->rs.client_time;
    return EXEC_OK;
}

/* --- targets --------------------------------------------------------------- */

static bool secret(const json_t *setting, char *out, size_t n, rerr *e)
{
    out[0] = '\0';
    if (!setting)
        return true;
    if (json_is_string(setting)) {
        snprintf(out, n, "%s", json_string_value(setting));
        return true;
    }
    const char *v;
    if ((v = json_string_value(json_object_get(setting, "env")))) {
        /* Unset means "not given": a server that needs it refuses with
         * NOAUTH at preflight, naming the problem. */
        const char *x = getenv(v);
        snprintf(out, n, "%s", x ? x : "");
        return true;
    }
    if ((v = json_string_value(json_object_get(setting, "file")))) {
        char *x = statedir_read(v, NULL);
        if (!x)
            return rerr_set(e, DIAG_SECRET, "cannot read %s: %s", v, strerror(errno));
        x[strcspn(x, "\r\n")] = '\0';
        snprintf(out, n, "%s", x);
        free(x);
        return true;
    }
    return rerr_set(e, DIAG_SECRET, "a credential setting must be {\"env\": VAR} or "
                                    "{\"file\": PATH}");
}

/* desc: {"name", "spec"} (an override) or {"name", "settings"} (the plan). */
static bool resolve_target(xt *t, rerr *e)
{
    const char *spec = json_string_value(json_object_get(t->desc, "spec"));
    json_t *st = json_object_get(t->desc, "settings");
    if (spec ? !target_url_from_spec(spec, &t->url, e)
             : !target_url_from_setting(json_object_get(st, "url"), &t->url, e)) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    if (!spec) {
        if (!secret(json_object_get(st, "username"), t->user, sizeof t->user, e) ||
            !secret(json_object_get(st, "password"), t->pass, sizeof t->pass, e)) {
            rerr_prefix(e, "target %s", t->name);
            return false;
        }
    }
    if (!t->user[0])
        snprintf(t->user, sizeof t->user, "%s", t->url.user);
    if (!t->pass[0])
        snprintf(t->pass, sizeof t->pass, "%s", t->url.pass);
    snprintf(t->addr, sizeof t->addr, "redis://%s%s%s:%d", t->user[0] ? t->user : "",
             t->user[0] ? "@" : "", t->url.host, t->url.port);
    return true;
}

static bool connect_target(xt *t, rerr *e)
{
    int cmd_ms = 5000;
    json_t *to = json_object_get(json_object_get(t->desc, "settings"), "timeout_ms");
    if (json_is_integer(to) && json_integer_value(to) > 0)
        cmd_ms = (int)json_integer_value(to);
    const char *env = getenv("RLC_TIMEOUT_MS");
    if (env && atoi(env) > 0)
        cmd_ms = atoi(env);
    rconn_opts ro = {.connect_ms = 2000, .cmd_ms = cmd_ms, .user = t->user, .pass = t->pass,
                     .db = t->url.db};
    t->s = rstore_open(&t->url, &ro, e);
    if (!t->s) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    return true;
}

/* Whether --only (or $RLC_ONLY) selects target name. */
static bool selected(const xc *c, const char *name)
{
    const char *p = c->o->only;
    if (!p)
        return true;
    size_t n = strlen(name);
    while (*p) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n))
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

/* Targets of the plan (redis here, etcd in gateway.c), with --only and
 * --target overrides applied. */
static bool plan_targets(xc *c, rerr *e)
{
    c->skipped = json_array();
    json_t *chosen = json_array();
    size_t i;
    json_t *tj;
    json_array_foreach(json_object_get(c->plan, "targets"), i, tj) {
        const char *name = json_string_value(json_object_get(tj, "name"));
        if (name && selected(c, name))
            json_array_append(chosen, tj);
        else if (name)
            json_array_append_new(c->skipped, json_pack("{s:s,s:O,s:s}", "name", name, "kind",
                                                        json_object_get(tj, "kind"), "why",
                                                        "not selected by --only"));
    }
    if (!c->gw)
        c->gw = gateway_from_targets(chosen, json_object_get(c->plan, "targets"), c->ns, e);
    if (!c->gw) {
        json_decref(chosen);
        return false;
    }
    json_array_foreach(chosen, i, tj) {
        const char *kind = json_string_value(json_object_get(tj, "kind"));
        const char *name = json_string_value(json_object_get(tj, "name"));
        if (!kind || !name) {
            json_decref(chosen);
            return rerr_set(e, DIAG_PLAN_SHAPE, "a target lacks kind or name");
        }
        if (!strcmp(kind, "etcd") || !strcmp(kind, "http") || !strcmp(kind, "nginx"))
            continue;   /* gateway.c */
        if (strcmp(kind, "redis")) {
            json_array_append_new(c->skipped, json_pack("{s:s,s:s}", "name", name, "kind", kind));
            continue;
        }
        if (c->nt == MAX_TARGETS) {
            json_decref(chosen);
            return rerr_set(e, DIAG_PLAN_SHAPE, "more than %d redis targets", MAX_TARGETS);
        }
        xt *t = &c->t[c->nt++];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->desc = json_pack("{s:s,s:O}", "name", name, "settings",
                            json_object_get(tj, "settings"));
    }
    json_decref(chosen);
    for (size_t k = 0; k < c->o->noverrides; k++) {
        const char *ov = c->o->overrides[k];
        const char *eq = strchr(ov, '=');
        if (!eq) {
            char *shown = url_redact(ov);
            rerr_set(e, DIAG_STORE_URL, "--target takes NAME=URL, got '%s'", shown);
            free(shown);
            return false;
        }
        bool found = false;
        for (size_t m = 0; m < c->nt; m++)
            if (strlen(c->t[m].name) == (size_t)(eq - ov) &&
                !strncmp(c->t[m].name, ov, (size_t)(eq - ov))) {
                json_decref(c->t[m].desc);
                c->t[m].desc = json_pack("{s:s,s:s}", "name", c->t[m].name, "spec", eq + 1);
                found = true;
            }
        if (!found && !gateway_override(c->gw, ov, (size_t)(eq - ov), eq + 1, &found, e))
            return false;
        if (!found)
            return rerr_set(e, DIAG_STORE_URL, "--target %.*s: the plan has no redis, etcd "
                            "or http target of that name", (int)(eq - ov), ov);
    }
    if (c->nt == 0 && gateway_count(c->gw) == 0)
        return rerr_set(e, DIAG_PLAN_SHAPE, c->o->only ? "--only %s selects no redis, etcd or "
                        "http target of the plan" : "the plan has no redis, etcd or http target%s",
                        c->o->only ? c->o->only : "");
    for (size_t m = 0; m < c->nt; m++)
        if (!resolve_target(&c->t[m], e))
            return false;
    return true;
}

/* Targets recorded in a journal or checkpoint ("targets": [desc...]). */
static bool recorded_targets(xc *c, const json_t *descs, rerr *e)
{
    size_t i;
    json_t *d;
    json_array_foreach(descs, i, d) {
        if (c->nt == MAX_TARGETS)
            break;
        xt *t = &c->t[c->nt++];
        snprintf(t->name, sizeof t->name, "%s",
                 json_string_value(json_object_get(d, "name")) ?: "?");
        t->desc = json_deep_copy(d);
        if (!resolve_target(t, e) || !connect_target(t, e))
            return false;
    }
    return true;
}

static json_t *target_descs(xc *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nt; i++)
        json_array_append(a, c->t[i].desc);
    return a;
}

static json_t *target_names(xc *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nt; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", c->t[i].name, "address",
                                           c->t[i].addr));
    json_t *g = gateway_names(c->gw);
    json_array_extend(a, g);
    json_decref(g);
    return a;
}

/* --- preflight --------------------------------------------------------------- */

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
    {'N', "audit", "to anchor the audit log", {"XADD", "$K", "MAXLEN", "~", "10000", "*",
                                              "record", NULL}},
    {'N', "deploy:marker", "to commit and to roll back", {"DEL", "$K", NULL}},
    {'T', "cfg:x", "to write a tenant's config", {"HSET", "$K", "f", "v", NULL}},
    {'T', "cfg:x", "to read a tenant's config", {"HGETALL", "$K", NULL}},
    {'T', "cfg:x", "inside the enforcement library", {"HMGET", "$K", "f", NULL}},
    {'T', "active", "to read a tenant's pointer", {"GET", "$K", NULL}},
    {'T', "active", "to set a verification pointer", {"SET", "$K", "x", NULL}},
    {'T', "active", "to checkpoint", {"DUMP", "$K", NULL}},
    {'T', "active", "to checkpoint", {"PTTL", "$K", NULL}},
    {'T', "active", "to roll back", {"RESTORE", "$K", "0", "x", "REPLACE", NULL}},
    {'T', "c:x", "inside the enforcement library", {"MGET", "$K", NULL}},
    {'T', "c:x", "inside the enforcement library", {"SET", "$K", "1", "PX", "1000", NULL}},
    {'T', "c:x", "inside the enforcement library", {"INCR", "$K", NULL}},
    {'T', "c:x", "inside the enforcement library", {"PEXPIRE", "$K", "1000", NULL}},
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

typedef struct pctx {
    xc *c;
    xt *t;
    const char *user;
    const char *tag;           /* a tenant's hash tag, NULL when the plan has none */
    bool dryrun;               /* ACL DRYRUN answers; else the probes run */
} pctx;

/* Checks one command: with ACL DRYRUN, as the deploy would send it; else
 * run on a probe key (NS:deploy:probe, {NS:tenant}:deploy:probe) that holds
 * a string, so that a permitted command answers anything but NOPERM
 * (WRONGTYPE, a parse error) and writes nothing else.  On Redis before 7
 * or for a user who may not run ACL DRYRUN, *fallback is set on the first
 * call and the caller starts again with probes. */
static bool perm_check(pctx *p, const char *keyfam, const char *suffix, const char *why,
                       int argc, const char **argv, bool *fallback, rerr *e)
{
    xt *t = p->t;
    char key[1024] = "";
    if (keyfam && *keyfam == 'N')
        snprintf(key, sizeof key, "%s:%s", p->c->ns, p->dryrun ? suffix : "deploy:probe");
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
    redisReply *r = rstore_cmd(t->s, key[0] ? key : NULL, strlen(key), n, av, NULL, e);
    if (!r)
        return false;
    bool ok = true;
    const char *shown = key[0] && p->dryrun ? key : "";
    /* FUNCTION LOAD, not FUNCTION: ACLs grant subcommands. */
    bool sub = !strcmp(argv[0], "FUNCTION") || !strcmp(argv[0], "SCRIPT") ||
               !strcmp(argv[0], "CLUSTER");
    char cmdname[64];
    snprintf(cmdname, sizeof cmdname, "%s%s%s", argv[0], sub ? " " : "", sub ? argv[1] : "");
    if (p->dryrun && r->type == REDIS_REPLY_ERROR) {
        /* Redis 5 and 6 lack it, a deployer without +acl may not run it,
         * and a password-only login names no ACL user: probe instead. */
        if (strstr(r->str, "NOPERM") || strstr(r->str, "nknown") ||
            strstr(r->str, "not found")) {
            *fallback = true;
        } else {
            ok = rerr_set(e, DIAG_STORE_REPLY, "target %s: ACL DRYRUN %s %s: %s", t->name,
                          p->user, argv[0], r->str);
        }
    } else if (p->dryrun && r->type == REDIS_REPLY_STRING) {
        ok = rerr_set(e, DIAG_PREFLIGHT_PERMISSION, "target %s: user '%s' may not run %s%s%s, "
                      "which a deploy needs %s (ACL DRYRUN: %s)", t->name, p->user, cmdname,
                      shown[0] ? " on " : "", shown, why, r->str);
    } else if (!p->dryrun && r->type == REDIS_REPLY_ERROR &&
               (!strncmp(r->str, "NOPERM", 6) || strstr(r->str, "READONLY"))) {
        ok = rerr_set(e, strstr(r->str, "READONLY") ? DIAG_PREFLIGHT_HEALTH
                                                    : DIAG_PREFLIGHT_PERMISSION,
                      "target %s: user '%s' may not run %s, which a deploy needs %s: %s",
                      t->name, p->user, cmdname, why, r->str);
    }
    freeReplyObject(r);
    return ok;
}

static bool probe_permission(xc *c, xt *t, rerr *e)
{
    pctx p = {.c = c, .t = t, .user = t->user[0] ? t->user : "default", .dryrun = true};
    /* One tenant's keys stand for all: an ACL key pattern is written for
     * the namespace, and checking 100 000 tenants would take as long as
     * the deploy. */
    char *tag = c->rs.ntenants ? redis_config_tag(c->ns, c->rs.tenants[0].name) : NULL;
    p.tag = tag;
    bool ok = true;
    for (int pass = 0; ok && pass < 2; pass++) {
        bool fallback = false;
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
        if (!fallback || !p.dryrun)
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
        snprintf(k, sizeof k, "%s:deploy:probe", c->ns);
        const char *dv[2] = {"DEL", k};
        freeReplyObject(rstore_cmd(t->s, k, strlen(k), 2, dv, NULL, &ignore));
        if (tag) {
            snprintf(k, sizeof k, "%s:deploy:probe", tag);
            freeReplyObject(rstore_cmd(t->s, k, strlen(k), 2, dv, NULL, &ignore));
        }
    }
    free(tag);
    return ok;
}

/* One node's clock as preflight measured it: TIME read between two
 * readings of our clock, t0 and t1 (microseconds).  The node read its clock
 * at some instant of [t0, t1], so its offset from us is (TIME - midpoint)
 * give or take err = half the round trip (plus 1 us for the truncation of
 * both clocks to microseconds). */
typedef struct nclock {
    size_t target;            /* index in c->t */
    char name[300];           /* host:port */
    double off_us, err_us;
} nclock;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The clock check of preflight (SPEC.md 2.8, 7.7).  What a decision
 * depends on is the agreement of the clocks that decide for one tenant:
 * with time_source = server, the TIME of whichever node of the target holds
 * the tenant's slot (a replica promoted, or a slot migrated, carries the
 * counters to another node's clock), so every pair of nodes of one target
 * counts and this host's clock does not; with time_source = client, the
 * gateways' clocks stamp the requests and the nodes' clocks expire the
 * counters, and this host stands in for the gateways, so each node against
 * this host counts too.  Only a difference the measurement proves is held
 * against max_clock_skew: the measured difference less the error bars of
 * both ends.  Two nodes (or a node and this host) that share one clock
 * thus always pass, even at 0 ms; a difference smaller than the round trip
 * cannot be seen and is not claimed. */
static bool check_clocks(xc *c, const nclock *n, size_t nn, json_t *report, rerr *e)
{
    double worst = 0, worst_meas = 0, max_err = 0;
    const char *fast = NULL, *slow = NULL;
    bool with_host = false;
    for (size_t i = 0; i < nn; i++) {
        if (n[i].err_us > max_err)
            max_err = n[i].err_us;
        for (size_t j = 0; j < nn; j++) {
            if (i == j || n[i].target != n[j].target || n[i].off_us < n[j].off_us)
                continue;
            double d = n[i].off_us - n[j].off_us - n[i].err_us - n[j].err_us;
            if (d > worst || !fast) {
                worst = d > 0 ? d : 0;
                worst_meas = n[i].off_us - n[j].off_us;
                fast = n[i].name;
                slow = n[j].name;
                with_host = false;
            }
        }
        double h = (n[i].off_us < 0 ? -n[i].off_us : n[i].off_us) - n[i].err_us;
        if (c->client_time && h > worst) {
            worst = h;
            worst_meas = n[i].off_us < 0 ? -n[i].off_us : n[i].off_us;
            fast = n[i].off_us >= 0 ? n[i].name : "this host";
            slow = n[i].off_us >= 0 ? "this host" : n[i].name;
            with_host = true;
        }
    }
    /* Whole milliseconds, rounded up: a skew over the bound never prints
     * as equal to it. */
    long long worst_ms = (long long)((worst + 999.0) / 1000.0);
    json_object_set_new(report, "max_skew_ms", json_integer((json_int_t)worst_ms));
    json_object_set_new(report, "skew_measured_ms", json_integer((json_int_t)(worst_meas / 1000.0)));
    json_object_set_new(report, "skew_error_ms", json_real(max_err / 1000.0));
    json_object_set_new(report, "skew_against", json_string(c->client_time ? "nodes and this host"
                                                                          : "nodes"));
    if (worst <= (double)c->skew_ms * 1000.0)
        return true;
    buf b;
    buf_init(&b, 8192);
    double lo = 0, hi = 0;
    const char *lo_name = "", *hi_name = "";
    for (size_t i = 0; i < nn; i++) {
        buf_printf(&b, "%s%s %+lld ms", i ? ", " : "", n[i].name,
                   (long long)(n[i].off_us / 1000.0));
        if (!i || n[i].off_us < lo)
            lo = n[i].off_us, lo_name = n[i].name;
        if (!i || n[i].off_us > hi)
            hi = n[i].off_us, hi_name = n[i].name;
    }
    rerr_set(e, DIAG_CLOCK_SKEW, "clock skew %lld ms exceeds max_clock_skew %lld ms: %s is "
             "ahead of %s by %.0f ms measured, at least %lld ms once the round trips are "
             "allowed for (%s; node offsets from this host: %s; fastest %s, slowest %s)",
             worst_ms, (long long)c->skew_ms, fast, slow, worst_meas / 1000.0, worst_ms,
             with_host ? "time_source = client: this host's clock stands in for the gateways'"
                       : c->client_time ? "time_source = client: nodes against nodes and "
                                          "this host"
                                        : "time_source = server: nodes of one target",
             buf_str(&b), hi_name, lo_name);
    buf_free(&b);
    return false;
}

static bool preflight(xc *c, json_t *report, rerr *e)
{
    size_t nn = 0, cap = 0;
    nclock *clk = NULL;
    bool ok = false;
    json_t *nodes = json_array();
    json_object_set_new(report, "nodes", nodes);
    for (size_t ti = 0; ti < c->nt; ti++) {
        xt *t = &c->t[ti];
        int min_major = 99;
        if (!rstore_add_all_nodes(t->s, e)) {
            rerr_prefix(e, "target %s", t->name);
            goto out;
        }
        for (size_t i = 0; i < t->s->nnodes; i++) {
            rnode *nd = &t->s->nodes[i];
            rconn *cn = rstore_node_conn(t->s, i, e);
            if (!cn) {
                rerr_prefix(e, "target %s", t->name);
                goto out;
            }
            redisReply *r = rconn_cmdf(cn, e, "INFO");
            if (!r)
                goto out;
            if (r->type != REDIS_REPLY_STRING) {
                rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s:%d: INFO: %s", nd->host, nd->port,
                         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
                freeReplyObject(r);
                goto out;
            }
            char ver[32], loading[8], role[16], cstate[16] = "", mh[256], mp[8];
            info_field(r->str, "redis_version:", ver, sizeof ver);
            info_field(r->str, "loading:", loading, sizeof loading);
            info_field(r->str, "role:", role, sizeof role);
            info_field(r->str, "master_host:", mh, sizeof mh);
            info_field(r->str, "master_port:", mp, sizeof mp);
            freeReplyObject(r);
            if (!strcmp(loading, "1")) {
                rerr_set(e, DIAG_PREFLIGHT_HEALTH, "%s:%d is loading its dataset", nd->host,
                         nd->port);
                goto out;
            }
            /* A replica refuses every write (READONLY): found here, not
             * half-way through apply. */
            if (nd->primary && strcmp(role, "master")) {
                rerr_set(e, DIAG_PREFLIGHT_HEALTH, "target %s: %s:%d is a replica "
                         "(role:%s) of %s:%s, and a deploy writes: point the target at "
                         "the primary", t->name, nd->host, nd->port, role,
                         mh[0] ? mh : "?", mp[0] ? mp : "?");
                goto out;
            }
            if (t->s->cluster) {
                r = rconn_cmdf(cn, e, "CLUSTER INFO");
                if (!r)
                    goto out;
                if (r->type == REDIS_REPLY_STRING)
                    info_field(r->str, "cluster_state:", cstate, sizeof cstate);
                freeReplyObject(r);
                if (strcmp(cstate, "ok")) {
                    rerr_set(e, DIAG_CLUSTER_STATE, "%s:%d: cluster_state:%s", nd->host,
                             nd->port, cstate[0] ? cstate : "?");
                    goto out;
                }
            }
            int major = atoi(ver);
            if (major < 5) {
                rerr_set(e, DIAG_STORE_VERSION, "%s:%d runs Redis %s; 5.0 or later is needed",
                         nd->host, nd->port, ver);
                goto out;
            }
            if (nd->primary && major < min_major)
                min_major = major;
            /* Clock: our time before and after TIME brackets the node's. */
            long long t0 = now_us();
            r = rconn_cmdf(cn, e, "TIME");
            long long t1 = now_us();
            if (!r)
                goto out;
            if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                freeReplyObject(r);
                rerr_set(e, DIAG_STORE_REPLY, "%s:%d: TIME: unexpected reply", nd->host,
                         nd->port);
                goto out;
            }
            double node_us = atof(r->element[0]->str) * 1e6 + atof(r->element[1]->str);
            freeReplyObject(r);
            if (nn == cap) {
                cap = cap ? 2 * cap : 16;
                nclock *nc = realloc(clk, cap * sizeof *clk);
                if (!nc) {
                    rerr_set(e, DIAG_STATE_IO, "out of memory");
                    goto out;
                }
                clk = nc;
            }
            nclock *k = &clk[nn++];
            k->target = ti;
            snprintf(k->name, sizeof k->name, "%s:%d", nd->host, nd->port);
            /* RLC_FAULT_CLOCK_MS shifts our clock for tests, where a
             * server cannot run under faketime (jemalloc clashes with
             * libfaketime).  SPEC.md 7.5. */
            const char *shift = getenv("RLC_FAULT_CLOCK_MS");
            k->off_us = node_us - (double)(t0 + t1) / 2.0 - (shift ? atof(shift) * 1000.0 : 0.0);
            k->err_us = (double)(t1 - t0) / 2.0 + 1.0;
            json_array_append_new(nodes, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:f}", "target",
                                                   t->name, "node", k->name, "version", ver,
                                                   "role", role, "offset_ms",
                                                   (json_int_t)(k->off_us / 1000.0), "rtt_ms",
                                                   (json_int_t)((t1 - t0) / 1000),
                                                   "offset_error_ms", k->err_us / 1000.0));
        }
        const char *nf = getenv("RLC_NO_FUNCTIONS");
        t->functions = min_major >= 7 && !(nf && *nf && strcmp(nf, "0"));
        if (!probe_permission(c, t, e))
            goto out;
    }
    ok = check_clocks(c, clk, nn, report, e);
out:
    free(clk);
    return ok;
}

/* --- live state -------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const xtenant *)a)->name, ((const xtenant *)b)->name);
}

/* --- the manifest: reading O(changed) tenants -----------------------------
 *
 * NS:deploy:manifest holds the digest of the tenant -> config version map
 * that the last committed deploy left (state_digest "after").  The state
 * directory keeps, per target, the map it last committed with that digest
 * (manifest-ID.json).  When the store's manifest equals the record's (and
 * the record still hashes to it), the store holds exactly that map, as far
 * as deploys know: only tenants whose version differs from it, and tenants
 * it has that the plan drops, are read, checkpointed and written.  Any
 * other case (no record, another machine deployed, a deploy interrupted:
 * apply deletes the manifest until commit) reads every pointer.  A pointer
 * edited by hand does not change the manifest: `rlc status` reports it as
 * drift and `rlc run --full-read` repairs it.  SPEC.md 7.7. */

static void manifest_record_path(xc *c, xt *t)
{
    char id[1024], hex[DIGEST_HEX_LEN + 1], name[128];
    snprintf(id, sizeof id, "%s|%d|%d|%s|%s", t->url.host, t->url.port, t->url.db, t->user,
             c->ns);
    digest_sha256_hex(id, strlen(id), hex);
    snprintf(name, sizeof name, "manifest-%.16s.json", hex);
    statedir_path(c->o->state_dir, name, t->manifest_path);
}

/* What a tenant's config version depends on besides its rules: this rlc's
 * encoder and the policy's time settings (the "m" field, SPEC.md 6.2).  A
 * record made under the same string maps equal plan versions (the digest
 * of the rules, SPEC.md 5.5) to equal config versions. */
static void encoder_id(xc *c, char *out, size_t n)
{
    snprintf(out, n, "rlc %s; config %d %c %lld", RLC_VERSION, REDIS_CONFIG_FORMAT,
             c->client_time ? 'c' : 's', (long long)c->skew_ms);
}

typedef struct kv {
    const char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

/* The entries of a map of strings in key order (*out malloc'd, pointing
 * into map); false when a value is not a string. */
static bool sorted_kv(json_t *map, kv **out, size_t *nout)
{
    size_t n = json_object_size(map), i = 0;
    kv *v = malloc((n ? n : 1) * sizeof *v);
    const char *k;
    json_t *val;
    if (!v)
        return false;
    json_object_foreach(map, k, val) {
        if (!json_is_string(val)) {
            free(v);
            return false;
        }
        v[i].k = k;
        v[i++].v = json_string_value(val);
    }
    if (n > 1)
        qsort(v, n, sizeof *v, kv_cmp);
    *out = v;
    *nout = n;
    return true;
}

/* The digest of the canonical JSON of sorted entries (digest_json_hex of
 * the map, without the tree's dump). */
static bool kv_digest(const kv *v, size_t n, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_putc(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, ',');
        canon_json_str(&b, v[i].k);
        buf_putc(&b, ':');
        canon_json_str(&b, v[i].v);
    }
    buf_putc(&b, '}');
    bool ok = buf_ok(&b) && digest_sha256_hex(b.data, b.len, out);
    buf_free(&b);
    return ok;
}

/* The digest that seals the record's plan versions to its encoder: of
 * {"encoder":E,"plan_versions":PV} in canonical JSON, PV being the plan
 * versions of the record's tenants in name order, concatenated (one string:
 * a second map of 100 000 entries would double the cost of reading). */
static bool record_check(const char *encoder, const char *pv, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_puts(&b, "{\"encoder\":");
    canon_json_str(&b, encoder);
    buf_puts(&b, ",\"plan_versions\":");
    canon_json_str(&b, pv);
    buf_putc(&b, '}');
    bool ok = buf_ok(&b) && digest_sha256_hex(b.data, b.len, out);
    buf_free(&b);
    return ok;
}

/* The record's tenant map when it is usable for a store whose manifest is
 * live (NULL otherwise); then also t->rec_kv and t->rec_pv, the plan
 * version each of those configs was encoded from, when the record has them
 * for this encoder (else none: every tenant is encoded to compare). */
static json_t *manifest_record_read(xc *c, xt *t, const char *live)
{
    if (!live)
        return NULL;
    char *text = statedir_read(t->manifest_path, NULL);
    json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    const char *m = json_string_value(json_object_get(rec, "manifest"));
    const char *ns = json_string_value(json_object_get(rec, "namespace"));
    json_t *map = json_object_get(rec, "tenants");
    json_t *out = NULL;
    kv *v = NULL;
    size_t n = 0;
    if (m && ns && json_is_object(map) && !strcmp(m, live) && !strcmp(ns, c->ns) &&
        sorted_kv(map, &v, &n)) {
        char d[DIGEST_HEX_LEN + 1];
        /* A record edited or damaged on disk must not be trusted. */
        if (kv_digest(v, n, d) && !strcmp(d, m))
            out = json_incref(map);
    }
    char enc[256], ck[DIGEST_HEX_LEN + 1];
    encoder_id(c, enc, sizeof enc);
    const char *renc = json_string_value(json_object_get(rec, "encoder"));
    const char *rck = json_string_value(json_object_get(rec, "check"));
    const char *pv = json_string_value(json_object_get(rec, "plan_versions"));
    if (out && renc && rck && pv && strlen(pv) == n * DIGEST_HEX_LEN && !strcmp(renc, enc) &&
        record_check(renc, pv, ck) && !strcmp(ck, rck)) {
        t->rec_kv = v;         /* points into map, which t->state keeps */
        t->rec_n = n;
        t->rec_pv = strdup(pv);
        v = NULL;
    }
    free(v);
    json_decref(rec);
    return out;
}

/* After a commit: the map the store now holds, under its digest, and the
 * plan version of each config, as canonical JSON written by hand (t->ten
 * is in name order).  Best effort: without a record the next deploy reads
 * everything. */
static void manifest_record_write(xc *c, xt *t, const char *digest)
{
    char enc[256];
    encoder_id(c, enc, sizeof enc);
    buf pv, all;
    buf_init(&pv, BUF_DEFAULT_MAX);
    buf_init(&all, BUF_DEFAULT_MAX);
    /* {"encoder":E,"plan_versions":{..}}, whose digest is "check". */
    buf_puts(&pv, "{\"encoder\":");
    canon_json_str(&pv, enc);
    buf_puts(&pv, ",\"plan_versions\":\"");
    bool first = true, versions = true;
    for (size_t i = 0; i < t->nten; i++) {
        const rl_tenant *rt = t->ten[i].t;
        if (!rt)
            continue;
        versions &= rt->version && strlen(rt->version) == DIGEST_HEX_LEN &&
                    strspn(rt->version, "0123456789abcdef") == DIGEST_HEX_LEN;
        if (versions)
            buf_append(&pv, rt->version, DIGEST_HEX_LEN);
    }
    buf_puts(&pv, "\"}");
    char ck[DIGEST_HEX_LEN + 1];
    if (versions && buf_ok(&pv) && digest_sha256_hex(pv.data, pv.len, ck)) {
        buf_puts(&all, "{\"check\":\"");
        buf_puts(&all, ck);
        buf_puts(&all, "\",");
        buf_append(&all, pv.data + 1, pv.len - 2);   /* encoder, plan_versions */
        buf_putc(&all, ',');
    } else {
        buf_putc(&all, '{');
    }
    buf_free(&pv);
    buf_puts(&all, "\"manifest\":");
    canon_json_str(&all, digest);
    buf_puts(&all, ",\"namespace\":");
    canon_json_str(&all, c->ns);
    buf_puts(&all, ",\"target\":");
    canon_json_str(&all, t->addr);
    buf_puts(&all, ",\"tenants\":{");
    first = true;
    for (size_t i = 0; i < t->nten; i++) {
        if (!t->ten[i].t)
            continue;
        if (!first)
            buf_putc(&all, ',');
        first = false;
        canon_json_str(&all, t->ten[i].name);
        buf_putc(&all, ':');
        canon_json_str(&all, t->ten[i].newver);
    }
    buf_puts(&all, "}}");
    rerr tmp;
    if (!buf_ok(&all) ||
        !statedir_write_atomic(t->manifest_path, all.data, all.len, 0600, &tmp))
        unlink(t->manifest_path);
    buf_free(&all);
}

static xtenant *find_xtenant(xt *t, const char *name);

/* The tenant's config commands and version (redis_config_tenant), once. */
static void encode_tenant(xc *c, xt *t, xtenant *x)
{
    if (!x->t || x->cmds.n)
        return;
    t->encoded++;
    redis_config_tenant(&c->rs, x->t, t->functions ? NULL : t->sha,
                        c->client_time ? statedir_now_ms() : -1, &x->cmds, x->newver);
}

/* Reads the deploy state and the active pointers that may differ from the
 * plan, and decides which tenants change.  full: read every pointer even
 * when the manifest matches. */
static bool read_live(xc *c, xt *t, bool full, rerr *e)
{
    char k[512], pk[512], mk[512];
    key_of(pk, sizeof pk, c->ns, "deploy:plan");
    key_of(mk, sizeof mk, c->ns, "deploy:manifest");
    manifest_record_path(c, t);
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
        t->live_plan = strdup(rp->str);
    t->state = full ? NULL
                    : manifest_record_read(c, t, rm->type == REDIS_REPLY_STRING ? rm->str : NULL);
    rpipe_free(p);
    t->fast_read = t->state != NULL;
    if (!t->fast_read) {
        key_of(k, sizeof k, c->ns, "deploy:state");
        const char *hg[2] = {"HGETALL", k};
        redisReply *r = cmd(t->s, e, k, 2, hg);
        if (!r)
            return false;
        t->state = json_object();
        if (r->type == REDIS_REPLY_ARRAY)
            for (size_t i = 0; i + 1 < r->elements; i += 2)
                json_object_set_new(t->state, r->element[i]->str,
                                    json_string(r->element[i + 1]->str));
        freeReplyObject(r);
    }

    /* Tenants: the plan's plus those of the last deploy that it drops. */
    size_t cap = c->rs.ntenants + json_object_size(t->state);
    t->ten = calloc(cap ? cap : 1, sizeof *t->ten);
    size_t rj = 0;
    for (size_t i = 0; i < c->rs.ntenants; i++) {
        xtenant *x = &t->ten[t->nten++];
        x->t = &c->rs.tenants[i];
        x->name = x->t->name;
        x->tag = redis_config_tag(c->ns, x->name);
        /* The config version without encoding the tenant: the record's,
         * when it encoded the same rules (equal plan versions) with this
         * encoder.  Only tenants that change are encoded, below. */
        /* Plan tenants and the record's come in name order: one merge. */
        while (rj < t->rec_n && strcmp(t->rec_kv[rj].k, x->name) < 0)
            rj++;
        bool same = rj < t->rec_n && x->t->version && !strcmp(t->rec_kv[rj].k, x->name) &&
                    strlen(x->t->version) == DIGEST_HEX_LEN &&
                    !memcmp(t->rec_pv + rj * DIGEST_HEX_LEN, x->t->version, DIGEST_HEX_LEN) &&
                    strlen(t->rec_kv[rj].v) == REDIS_CONFIG_VERSION_LEN;
        if (same)
            memcpy(x->newver, t->rec_kv[rj].v, REDIS_CONFIG_VERSION_LEN + 1);
        else
            encode_tenant(c, t, x);
    }
    const char *name;
    json_t *v;
    json_object_foreach(t->state, name, v) {
        if (rules_tenant(&c->rs, name))
            continue;
        xtenant *x = &t->ten[t->nten++];
        x->name = name;
        x->tag = redis_config_tag(c->ns, name);
    }
    if (t->nten > 1)
        qsort(t->ten, t->nten, sizeof *t->ten, cmp_name);
    /* Which pointers to read: all, or (manifest matched) those whose
     * recorded version is not the plan's. */
    size_t *idx = malloc((t->nten ? t->nten : 1) * sizeof *idx), nidx = 0;
    for (size_t i = 0; i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        const char *known = t->fast_read ? json_string_value(json_object_get(t->state, x->name))
                                         : NULL;
        if (known && x->t && !strcmp(known, x->newver))
            x->live = strdup(known);   /* unchanged, as the manifest proves */
        else
            idx[nidx++] = i;
    }
    p = rpipe_new(t->s);
    for (size_t j = 0; j < nidx; j++) {
        char *ak = str_printf("%s:active", t->ten[idx[j]].tag);
        const char *av[2] = {"GET", ak};
        rpipe_add(p, ak, strlen(ak), 2, av, NULL);
        free(ak);
    }
    bool ok = rpipe_exec(p, e);
    for (size_t j = 0; ok && j < nidx; j++) {
        const redisReply *rr = rpipe_reply(p, j);
        xtenant *x = &t->ten[idx[j]];
        if (rr->type == REDIS_REPLY_STRING)
            x->live = strdup(rr->str);
        x->changed = x->t ? !x->live || strcmp(x->live, x->newver) : x->live != NULL;
        if (x->changed)
            encode_tenant(c, t, x);
    }
    /* Verification writes shadow copies of its tenants' configs. */
    size_t vi;
    json_t *vc;
    json_array_foreach(json_object_get(c->plan, "verify"), vi, vc) {
        xtenant *x = find_xtenant(t, json_string_value(json_object_get(vc, "tenant")));
        if (x)
            encode_tenant(c, t, x);
    }
    t->pointers_read = nidx;
    rpipe_free(p);
    free(idx);
    return ok;
}

/* The plan tenant named name in t->ten (sorted by name), or NULL. */
static xtenant *find_xtenant(xt *t, const char *name)
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

/* Digest of a tenant -> version map (the configuration state). */
static void state_digest(xt *t, bool after, char out[DIGEST_HEX_LEN + 1])
{
    /* The canonical JSON of the map, written by hand: t->ten is sorted by
     * name in byte order, which is canonical key order (SPEC.md 5.2), and
     * a tree of 100 000 entries costs more than the rest of a re-apply. */
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_putc(&b, '{');
    bool first = true;
    for (size_t i = 0; i < t->nten; i++) {
        const char *v = after ? (t->ten[i].t ? t->ten[i].newver : NULL) : t->ten[i].live;
        if (!v)
            continue;
        if (!first)
            buf_putc(&b, ',');
        first = false;
        canon_json_str(&b, t->ten[i].name);
        buf_putc(&b, ':');
        canon_json_str(&b, v);
    }
    buf_putc(&b, '}');
    if (!buf_ok(&b) || !digest_sha256_hex(b.data, b.len, out))
        out[0] = '\0';
    buf_free(&b);
}

/* --- checkpoint ------------------------------------------------------------ */

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

/* The shadow keys of verification (they must not outlive a crash): per
 * verification case, not per tenant, so O(cases x rules of one tenant).
 * Appended to a, once each. */
static void shadow_keys(xc *c, xt *t, json_t *a)
{
    json_t *seen = json_object();
    size_t i;
    json_t *vc;
    json_array_foreach(json_object_get(c->plan, "verify"), i, vc) {
        xtenant *x = find_xtenant(t, json_string_value(json_object_get(vc, "tenant")));
        if (!x || json_object_get(seen, x->name))
            continue;
        json_object_set_new(seen, x->name, json_true());
        add_key(a, "%s:v:active", x->tag);
        add_key(a, "%s:v:seq", x->tag);
        add_key(a, "%s:v:cfg:%s", x->tag, x->newver);
        for (size_t r = 0; r < x->t->nrules; r++) {
            add_key(a, "%s:v:c:%s", x->tag, x->t->rules[r].id);
            if (x->t->rules[r].kind == RL_SLIDING_WINDOW)
                add_key(a, "%s:v:c:%s:log", x->tag, x->t->rules[r].id);
        }
    }
    json_decref(seen);
}

/* Every key a deploy of t may touch (each tenant appears once in t->ten,
 * so the list has no duplicates). */
static json_t *touched_keys(xc *c, xt *t)
{
    json_t *a = json_array();
    add_key(a, "%s:deploy:state", c->ns);
    add_key(a, "%s:deploy:plan", c->ns);
    add_key(a, "%s:deploy:manifest", c->ns);
    for (size_t i = 0; i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (x->changed) {
            add_key(a, "%s:active", x->tag);
            if (x->live)
                add_key(a, "%s:cfg:%s", x->tag, x->live);
            if (x->t && (!x->live || strcmp(x->live, x->newver)))
                add_key(a, "%s:cfg:%s", x->tag, x->newver);
        }
    }
    shadow_keys(c, t, a);
    return a;
}

/* DUMP + PTTL of every key: [{"k","d"(hex|null),"ttl"}]. */
static json_t *snapshot(xt *t, json_t *keys, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *ks = json_string_value(k);
        const char *d[2] = {"DUMP", ks}, *pt[2] = {"PTTL", ks};
        rpipe_add(p, ks, strlen(ks), 2, d, NULL);
        rpipe_add(p, ks, strlen(ks), 2, pt, NULL);
    }
    json_t *out = NULL;
    if (!rpipe_exec(p, e))
        goto done;
    out = json_array();
    json_array_foreach(keys, i, k) {
        const redisReply *d = rpipe_reply(p, 2 * i), *pt = rpipe_reply(p, 2 * i + 1);
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
    return out;
}

static bool write_checkpoint(xc *c, rerr *e)
{
    char name[128];
    snprintf(name, sizeof name, "checkpoints/%s.json", c->run);
    statedir_path(c->o->state_dir, name, c->ckpt);
    json_t *ck = json_pack("{s:s,s:s,s:s,s:s,s:I}", "run", c->run, "namespace", c->ns,
                           "plan_digest", c->digest, "policy", c->policy ? c->policy : "",
                           "t", (json_int_t)statedir_now_ms());
    json_t *ts = json_array();
    for (size_t i = 0; i < c->nt; i++) {
        xt *t = &c->t[i];
        json_t *keys = touched_keys(c, t);
        json_t *snap = snapshot(t, keys, e);
        json_decref(keys);
        if (!snap) {
            json_decref(ts);
            json_decref(ck);
            return false;
        }
        /* Pointers to restore through the library, so counters are re-timed. */
        json_t *act = json_object();
        for (size_t m = 0; m < t->nten; m++)
            if (t->ten[m].changed)
                json_object_set_new(act, t->ten[m].tag,
                                    t->ten[m].live ? json_string(t->ten[m].live) : json_null());
        json_array_append_new(ts, json_pack("{s:O,s:o,s:o,s:s?}", "target", t->desc, "keys",
                                            snap, "active", act, "before_plan", t->live_plan));
    }
    json_object_set_new(ck, "targets", ts);
    json_object_set_new(ck, "gateways", gateway_checkpoint(c->gw));
    char *text = json_dumps(ck, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ck);
    bool ok = text && statedir_write_atomic(c->ckpt, text, strlen(text), 0600, e);
    free(text);
    return ok;
}

/* Restores a checkpoint's keys on one target: configs first (RESTORE),
 * then pointers through the library's activate (re-timing counters), keys
 * absent at the checkpoint deleted. */
static bool restore_target(xt *t, const json_t *ck_t, bool functions, const char *sha, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    size_t i;
    json_t *k;
    json_t *act = json_object_get(ck_t, "active");
    json_array_foreach(json_object_get(ck_t, "keys"), i, k) {
        const char *ks = json_string_value(json_object_get(k, "k"));
        const char *d = json_string_value(json_object_get(k, "d"));
        size_t kl = strlen(ks);
        bool is_active = false;
        if (kl > 7 && !strcmp(ks + kl - 7, ":active")) {
            char *tg = str_printf("%.*s", (int)(kl - 7), ks);
            is_active = json_is_string(json_object_get(act, tg));
            free(tg);
        }
        if (is_active && d)
            continue;   /* restored below through activate */
        if (!d) {
            const char *av[2] = {"DEL", ks};
            rpipe_add(p, ks, kl, 2, av, NULL);
            continue;
        }
        char *bin = malloc(strlen(d) / 2 + 1);
        size_t bl = unhex(d, bin);
        long long ttl = json_integer_value(json_object_get(k, "ttl"));
        char ttls[32];
        snprintf(ttls, sizeof ttls, "%lld", ttl > 0 ? ttl : 0);
        const char *av[5] = {"RESTORE", ks, ttls, bin, "REPLACE"};
        size_t lens[5] = {7, kl, strlen(ttls), bl, 7};
        rpipe_add(p, ks, kl, 5, av, lens);
        free(bin);
    }
    bool ok = rpipe_exec(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "restoring the checkpoint: %s", rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    if (!ok)
        return false;
    p = rpipe_new(t->s);
    const char *tag;
    json_t *v;
    json_object_foreach(act, tag, v) {
        if (!json_is_string(v))
            continue;   /* absent before: deleted above */
        char *ak = str_printf("%s:active", tag);
        const char *ver = json_string_value(v);
        char now[24] = "";
        if (functions) {
            const char *av[6] = {"FCALL", "rlc_activate", "1", ak, ver, now};
            rpipe_add(p, ak, strlen(ak), 6, av, NULL);
        } else {
            const char *av[7] = {"EVALSHA", sha, "1", ak, "activate", ver, now};
            rpipe_add(p, ak, strlen(ak), 7, av, NULL);
        }
        free(ak);
    }
    ok = rpipe_exec(p, e);
    bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "re-activating the old config: %s",
                 rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    return ok;
}

/* --- apply ----------------------------------------------------------------- */

static bool load_library(xc *c, xt *t, rerr *e)
{
    json_t *lib = json_object_get(c->plan, "library");
    const char *src = json_string_value(json_object_get(lib, "source"));
    if (!src)
        return rerr_set(e, DIAG_PLAN_SHAPE, "the plan carries no library source");
    if (t->functions) {
        const char *av[4] = {"FUNCTION", "LOAD", "REPLACE", src};
        return rstore_on_primaries(t->s, 4, av, NULL, e);
    }
    /* Before Redis 7: the same text minus the "#!lua name=rlc" line. */
    const char *body = strchr(src, '\n');
    body = body ? body + 1 : src;
    const char *av[3] = {"SCRIPT", "LOAD", body};
    if (!rstore_on_primaries(t->s, 3, av, NULL, e))
        return false;
    unsigned char md[20];
    unsigned int mdlen;
    EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha1(), NULL);
    digest_hex(md, 20, t->sha);
    return true;
}

static bool send_cmds(xt *t, bool config, rerr *e, size_t *written)
{
    rpipe *p = rpipe_new(t->s);
    for (size_t i = 0; i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        if (!x->t) {
            if (config)
                continue;
            char *k = str_printf("%s:active", x->tag);
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
            char *k = str_printf("%s:active", x->tag);
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

/* --- verify ---------------------------------------------------------------- */

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
        if (i > 1)
            buf_putc(&b, '/');
        buf_puts(&b, json_string_value(json_object_get(el, "kind")));
        buf_putc(&b, ':');
        for (const char *s = json_string_value(json_object_get(el, "name")); s && *s; s++) {
            if (*s == '%')
                buf_puts(&b, "%25");
            else if (*s == '/')
                buf_puts(&b, "%2F");
            else
                buf_putc(&b, *s);
        }
    }
    if (!buf_ok(&b))
        abort();
    return b.data ? b.data : strdup("");
}

static bool verify(xc *c, xt *t, json_t *report, rerr *e)
{
    /* Every case's shadow config, pointer and requests go in one pipeline
     * (a tenant's keys share one slot, so one node runs them in order, as
     * if sent one by one); the replies are then compared with one
     * simulator per tenant, holding that tenant alone (cases come in tenant
     * order and a tenant's cases share its shadow counters, so they share
     * its simulator).  O(cases x sends) commands in one round trip per
     * batch, O(rules of one tenant) per simulator. */
    json_t *cases = json_object_get(c->plan, "verify");
    size_t ncases_all = json_array_size(cases);
    size_t *first = calloc(ncases_all + 1, sizeof *first);   /* reply index of send 0 */
    rpipe *p = rpipe_new(t->s);
    size_t i;
    json_t *vc;
    json_array_foreach(cases, i, vc) {
        xtenant *x = find_xtenant(t, json_string_value(json_object_get(vc, "tenant")));
        if (!x)
            continue;
        /* Shadow copy of the tenant's config under "<tag>:v", so decisions
         * run on fresh counters that no client touches. */
        char *sk = str_printf("%s:v:active", x->tag);
        char *scfg = str_printf("%s:v:cfg:%s", x->tag, x->newver);
        redis_cmd *hs = &x->cmds.v[0];
        const char **av = malloc((size_t)hs->argc * sizeof *av);
        size_t *lens = malloc((size_t)hs->argc * sizeof *lens);
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
        char *path = case_path(json_object_get(vc, "path"));
        const char *method = json_string_value(json_object_get(vc, "method"));
        const char *route = json_string_value(json_object_get(vc, "route"));
        long long cost = json_integer_value(json_object_get(vc, "cost"));
        long long sends = json_integer_value(json_object_get(vc, "sends"));
        char costs[24];
        snprintf(costs, sizeof costs, "%lld", cost > 0 ? cost : 1);
        first[i] = rpipe_count(p);
        for (long long s2 = 0; s2 < sends; s2++) {
            char now[24] = "", lease[64];
            if (c->client_time)
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
        free(scfg);
        free(sk);
    }
    bool ok = rpipe_exec(p, e);
    sim *sm = NULL;
    rl_ruleset one = c->rs;
    const xtenant *sim_of = NULL;
    size_t ncases = 0, nsent = 0;
    char *path = NULL;
    json_array_foreach(cases, i, vc) {
        if (!ok)
            break;
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        xtenant *x = find_xtenant(t, tn);
        if (!x)
            continue;
        if (x != sim_of) {
            sim_free(sm);
            one.tenants = (rl_tenant *)x->t;
            one.ntenants = 1;
            sm = sim_new(&one);
            sim_of = x;
        }
        for (size_t k = first[i] - 2; k < first[i]; k++) {
            const redisReply *r = rpipe_reply(p, k);
            if (r->type == REDIS_REPLY_ERROR) {
                ok = rerr_set(e, DIAG_STORE_REPLY, "shadow config of tenant %s: %s", tn, r->str);
                break;
            }
        }
        if (!ok)
            break;
        free(path);
        path = case_path(json_object_get(vc, "path"));
        const char *method = json_string_value(json_object_get(vc, "method"));
        const char *route = json_string_value(json_object_get(vc, "route"));
        long long cost = json_integer_value(json_object_get(vc, "cost"));
        long long sends = json_integer_value(json_object_get(vc, "sends"));
        ncases++;
        for (long long s2 = 0; s2 < sends && ok; s2++) {
            const redisReply *r = rpipe_reply(p, first[i] + (size_t)s2);
            char lease[64];
            snprintf(lease, sizeof lease, "verify-%zu-%lld", i, s2);
            if (r->type != REDIS_REPLY_ARRAY || r->elements < 6) {
                rerr_set(e, DIAG_VERIFY_MISMATCH, "tenant %s: decide returned %s", tn,
                         r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply");
                ok = false;
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
            sim_status st = sim_decide(sm, tn, path, method, route, cost > 0 ? cost : 1,
                                       now_ms, lease, &d);
            nsent++;
            if (st != SIM_OK || d.allowed != (allowed == 1) || d.remaining != remaining) {
                rerr_set(e, DIAG_VERIFY_MISMATCH, "tenant %s, path '%s', %s %s, request %lld: "
                         "the store said %s (remaining %lld), the simulator %s (remaining "
                         "%lld)", tn, path, method ?: "-", route ?: "-", s2 + 1,
                         allowed == 1 ? "allow" : "reject", remaining,
                         st != SIM_OK ? sim_status_text(st) : d.allowed ? "allow" : "reject",
                         (long long)d.remaining);
                ok = false;
            }
        }
    }
    free(path);
    sim_free(sm);
    rpipe_free(p);
    free(first);
    json_object_set_new(report, "verify_cases", json_integer((json_int_t)ncases));
    json_object_set_new(report, "verify_requests", json_integer((json_int_t)nsent));
    return ok;
}

/* Deletes the shadow keys of verification (best effort, then by rollback). */
static void drop_shadow(xc *c, xt *t)
{
    json_t *keys = json_array();
    shadow_keys(c, t, keys);
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

/* --- commit ---------------------------------------------------------------- */

static bool commit_store(xc *c, xt *t, const char *manifest, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    char sk[512], pk[512], mk[512], fk[512];
    key_of(fk, sizeof fk, c->ns, "deploy:manifest");
    key_of(sk, sizeof sk, c->ns, "deploy:state");
    key_of(pk, sizeof pk, c->ns, "deploy:plan");
    key_of(mk, sizeof mk, c->ns, "deploy:marker");
    /* Changed entries of the state go in HSETs of up to 512 fields. */
    const char **hv = malloc((2 + 2 * 512) * sizeof *hv);
    int hn = 2;
    hv[0] = "HSET";
    hv[1] = sk;
    for (size_t i = 0; i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (x->t) {
            const char *was = json_string_value(json_object_get(t->state, x->name));
            if (!was || strcmp(was, x->newver)) {
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
            char *ck = str_printf("%s:cfg:%s", x->tag, x->live);
            const char *av[2] = {"DEL", ck};
            rpipe_add(p, ck, strlen(ck), 2, av, NULL);
            free(ck);
        }
    }
    if (hn > 2)
        rpipe_add(p, sk, strlen(sk), hn, hv, NULL);
    free(hv);
    const char *sp[3] = {"SET", pk, c->digest};
    rpipe_add(p, pk, strlen(pk), 3, sp, NULL);
    const char *sf[3] = {"SET", fk, manifest};
    rpipe_add(p, fk, strlen(fk), 3, sf, NULL);
    const char *dm[2] = {"DEL", mk};
    rpipe_add(p, mk, strlen(mk), 2, dm, NULL);
    bool ok = rpipe_exec(p, e);
    size_t bad = ok ? rpipe_first_error(p) : (size_t)-1;
    if (ok && bad != (size_t)-1) {
        rerr_set(e, DIAG_STORE_REPLY, "commit: %s", rpipe_reply(p, bad)->str);
        ok = false;
    }
    rpipe_free(p);
    return ok;
}

/* Reads back what commit_store wrote, before "committed" is said: the
 * plan and manifest keys, every changed tenant's active pointer (absent for
 * a dropped tenant) and its entry in NS:deploy:state, and the lock, which
 * must still carry our token (while it does, no other deploy wrote).  A
 * store that does not read back as committed is RLC3167, and the caller
 * rolls back. */
static bool confirm_commit(xc *c, xt *t, const char *manifest, rerr *e)
{
    rpipe *p = rpipe_new(t->s);
    char pk[512], fk[512], sk[512], lk[512];
    key_of(pk, sizeof pk, c->ns, "deploy:plan");
    key_of(fk, sizeof fk, c->ns, "deploy:manifest");
    key_of(sk, sizeof sk, c->ns, "deploy:state");
    key_of(lk, sizeof lk, c->ns, "deploy:lock");
    const char *ga[2] = {"GET", pk}, *gf[2] = {"GET", fk}, *gl[2] = {"GET", lk};
    rpipe_add(p, pk, strlen(pk), 2, ga, NULL);
    rpipe_add(p, fk, strlen(fk), 2, gf, NULL);
    rpipe_add(p, lk, strlen(lk), 2, gl, NULL);
    /* Pointer keys are sized from their tag (a tag may be long). */
    size_t nk = 0;
    for (size_t i = 0; i < t->nten; i++)
        nk += t->ten[i].changed;
    char **ak = calloc(nk ? nk : 1, sizeof *ak);
    size_t k = 0;
    bool ok = ak != NULL;
    for (size_t i = 0; ok && i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        size_t len = strlen(x->tag) + sizeof ":active";
        if (!(ak[k] = malloc(len))) {
            ok = false;
            break;
        }
        snprintf(ak[k], len, "%s:active", x->tag);
        const char *av[2] = {"GET", ak[k]}, *hv[3] = {"HGET", sk, x->name};
        rpipe_add(p, ak[k], len - 1, 2, av, NULL);
        rpipe_add(p, sk, strlen(sk), 3, hv, NULL);
        k++;
    }
    if (!ok)
        rerr_set(e, DIAG_STATE_IO, "out of memory");
    else
        ok = rpipe_exec(p, e);
    /* What each reply must be: NULL for absent. */
    const char *what = NULL, *want = NULL, *field = NULL;
    const redisReply *got = NULL;
    size_t r = 0;
    if (ok) {
        got = rpipe_reply(p, r++);
        if (!got || got->type != REDIS_REPLY_STRING || strcmp(got->str, c->digest))
            what = pk, want = c->digest;
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
    k = 0;
    for (size_t i = 0; ok && !what && i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        const char *expect = x->t ? x->newver : NULL;
        for (int pass = 0; pass < 2 && !what; pass++) {
            got = rpipe_reply(p, r++);
            bool absent = got && got->type == REDIS_REPLY_NIL;
            bool same = got && got->type == REDIS_REPLY_STRING && expect &&
                        !strcmp(got->str, expect);
            if (expect ? !same : !absent) {
                what = pass ? sk : ak[k];
                field = pass ? x->name : NULL;
                want = expect ? expect : "(absent)";
            }
        }
        k++;
    }
    if (ok && what) {
        rerr_set(e, DIAG_COMMIT_UNCONFIRMED, "target %s: after the commit %s%s%s reads %s, "
                 "not %s: something else wrote to the store during the deploy", t->name, what,
                 field ? " field " : "", field ? field : "",
                 got && got->type == REDIS_REPLY_STRING ? got->str
                 : got && got->type == REDIS_REPLY_ERROR ? got->str : "(absent)", want);
        ok = false;
    }
    for (size_t i = 0; ak && i < nk; i++)
        free(ak[i]);
    free(ak);
    rpipe_free(p);
    return ok;
}

/* Appends the audit record and anchors its head in every target (and
 * mirrors it to the NS:audit stream). */
static bool audit(xc *c, const char *action, const char *result, const char *before,
                  const char *after, const rerr *err, rerr *e)
{
    json_t *names = target_names(c);
    audit_rec r = {.action = action, .run_id = c->run, .plan_digest = c->digest[0] ? c->digest
                                                                                   : NULL,
                   .policy = c->policy, .targets = names, .state_before = before,
                   .state_after = after, .result = result,
                   .err_code = err ? err->code : 0, .err_msg = err ? err->msg : NULL};
    audit_head h;
    char *line = NULL;
    bool ok = audit_append(c->o->state_dir, &r, &h, &line, e);
    json_decref(names);
    if (!ok)
        return false;
    char ht[96], hk[512], sk[512];
    audit_head_text(&h, ht);
    key_of(hk, sizeof hk, c->ns ? c->ns : "rl", "audit:head");
    key_of(sk, sizeof sk, c->ns ? c->ns : "rl", "audit");
    for (size_t i = 0; i < c->nt; i++) {
        if (!c->t[i].s)
            continue;
        rerr tmp;
        const char *av[3] = {"SET", hk, ht};
        cmd_ok(c->t[i].s, &tmp, hk, 3, av);
        const char *xa[8] = {"XADD", sk, "MAXLEN", "~", "10000", "*", "record", line};
        cmd_ok(c->t[i].s, &tmp, sk, 8, xa);
    }
    gateway_anchor(c->gw, ht);
    free(line);
    if (c->summary)
        json_object_set_new(c->summary, "audit_seq", json_integer((json_int_t)h.seq));
    return true;
}

/* --- the run --------------------------------------------------------------- */

static void xc_free(xc *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        xt *t = &c->t[i];
        for (size_t m = 0; m < t->nten; m++) {
            free(t->ten[m].tag);
            free(t->ten[m].live);
            redis_cmds_free(&t->ten[m].cmds);
        }
        free(t->ten);
        json_decref(t->state);
        free(t->rec_kv);
        free(t->rec_pv);
        free(t->live_plan);
        json_decref(t->desc);
        rstore_close(t->s);
        memset(t->pass, 0, sizeof t->pass);
    }
    if (c->have_rs)
        rules_free(&c->rs);
    json_decref(c->plan);
    json_decref(c->skipped);
    gateway_free(c->gw);
    json_decref(c->gw_tenants);
    if (c->jopen && c->j.fd >= 0)
        close(c->j.fd);
}

/* Records the wall time since the previous mark under name (summary
 * "phase_ms", for the benchmark and for users of large plans). */
static void mark(xc *c, const char *name)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (name && c->phase_ms)
        json_object_set_new(c->phase_ms, name, json_integer((json_int_t)(now - c->mark_ms)));
    c->mark_ms = now;
}

static exec_status phase_fail(xc *c, exec_status st, const char *phase)
{
    json_object_set_new(c->summary, "result", json_string("refused"));
    json_object_set_new(c->summary, "failed_phase", json_string(phase));
    return st;
}

/* Restores the checkpoint after a failure at or after "apply" and says so. */
static void roll_back_now(xc *c, const rerr *cause, rerr *e)
{
    say(c, "rolling back to checkpoint %s", c->ckpt);
    char *text = statedir_read(c->ckpt, NULL);
    json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    bool ok = ck != NULL;
    rerr re = {0};
    for (size_t i = 0; ok && i < c->nt; i++) {
        json_t *ckt = json_array_get(json_object_get(ck, "targets"), i);
        /* A fresh connection: the old one may have timed out mid-pipeline. */
        rstore_close(c->t[i].s);
        c->t[i].s = NULL;
        ok = connect_target(&c->t[i], &re);
        c->t[i].lock.s = c->t[i].s;   /* the lock must use the new connection */
        ok = ok && restore_target(&c->t[i], ckt, c->t[i].functions, c->t[i].sha, &re);
        /* The marker was set after the checkpoint was taken, so restoring
         * does not remove it; it says a deploy is under way, and none is. */
        char mk[512];
        key_of(mk, sizeof mk, c->ns, "deploy:marker");
        const char *dv[2] = {"DEL", mk};
        ok = ok && cmd_ok(c->t[i].s, &re, mk, 2, dv);
    }
    ok = ok && gateway_restore(c->gw, json_object_get(ck, "gateways"), &re);
    json_decref(ck);
    char before[DIGEST_HEX_LEN + 1];
    state_digest(&c->t[0], false, before);
    rerr ae;
    if (ok) {
        say(c, "rolled back: every touched key is as it was at the checkpoint");
        journal_finish(&c->j, "rolled_back", &ae);
        c->jopen = false;
        audit(c, "run", "rolled_back", before, before, cause, &ae);
        for (size_t i = 0; i < c->nt; i++)
            lock_release(&c->t[i].lock, &ae);
        gateway_unlock(c->gw);
        rerr_set(e, DIAG_APPLY_FAILED, "RLC%04d %s; rolled back to checkpoint %s", cause->code,
                 cause->msg, c->ckpt);
        json_object_set_new(c->summary, "result", json_string("rolled_back"));
    } else {
        /* The journal stays: the next run, status or rollback retries. */
        rerr_set(e, DIAG_APPLY_FAILED, "RLC%04d %s; rollback failed too (RLC%04d %s): the "
                 "journal is kept and 'rlc rollback' will retry", cause->code, cause->msg,
                 re.code, re.msg);
        json_object_set_new(c->summary, "result", json_string("rollback_pending"));
    }
}

static exec_status recover_pending(const exec_opts *o, rerr *e, json_t *summary);

static bool lock_keepalive_all(xc *c, rerr *e)
{
    for (size_t i = 0; i < c->nt; i++)
        if (!lock_keepalive(&c->t[i].lock, e))
            return false;
    return gateway_keepalive(c->gw, false, e);
}

/* Takes the state directory's lock for verb (statedir.h): held until the
 * caller's statedir_unlock, so that recovery and `rlc status` can tell a
 * live deploy from an interrupted one.  -1 with e set (RLC3160: another
 * rlc works in the directory). */
static int lock_state_dir(const exec_opts *o, const char *verb, const char *run, rerr *e)
{
    char host[256];
    statedir_hostname(host, sizeof host);
    const char *user = getenv("USER");
    json_t *h = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s}", "host", host, "pid",
                          (json_int_t)getpid(), "run", run, "since_ms",
                          (json_int_t)statedir_now_ms(), "user", user ? user : "?", "verb", verb);
    char *text = digest_canonical_json(h);
    json_decref(h);
    int fd = statedir_lock(o->state_dir, text ? text : "{}", e);
    free(text);
    return fd;
}

exec_status exec_run(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e)
{
    xc c = {.o = o};
    c.summary = json_object();
    *summary = c.summary;
    c.phase_ms = json_object();
    json_object_set_new(c.summary, "phase_ms", c.phase_ms);
    mark(&c, NULL);
    exec_status st;
    statedir_new_id(c.run);
    int sdlock = lock_state_dir(o, "run", c.run, e);
    if (sdlock < 0) {
        st = phase_fail(&c, e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED, "lock");
        goto out;
    }
    st = recover_pending(o, e, c.summary);
    if (st != EXEC_OK) {
        if (st == EXEC_LOCKED)
            phase_fail(&c, st, "lock");
        goto out;
    }
    mark(&c, "recover");
    say(&c, "[1/7] load: %s", plan_path);
    if ((st = load_plan(&c, plan_path, e)) != EXEC_OK)
        goto out;
    mark(&c, "load");
    json_object_set_new(c.summary, "plan_digest", json_string(c.digest));
    json_object_set_new(c.summary, "policy", json_string(c.policy));
    say(&c, "      plan %.16s, policy %s, %zu tenants", c.digest, c.policy, c.rs.ntenants);
    if (!plan_targets(&c, e)) {
        st = phase_fail(&c, EXEC_PREFLIGHT, "load");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(c.skipped); i++)
        say(&c, "      target %s (%s): %s, skipped",
            json_string_value(json_object_get(json_array_get(c.skipped, i), "name")),
            json_string_value(json_object_get(json_array_get(c.skipped, i), "kind")),
            json_string_value(json_object_get(json_array_get(c.skipped, i), "why")) ?:
                "not applied by this runtime");
    json_object_set_new(c.summary, "skipped_targets", json_incref(c.skipped));
    json_object_set_new(c.summary, "run", json_string(c.run));
    for (size_t i = 0; i < c.nt; i++)
        if (!connect_target(&c.t[i], e)) {
            st = phase_fail(&c, EXEC_PREFLIGHT, "connect");
            goto out;
        }
    if (!gateway_connect(c.gw, e)) {
        st = phase_fail(&c, EXEC_PREFLIGHT, "connect");
        goto out;
    }

    /* The Redis preflight comes before the journal and the lock: a target
     * that cannot take the deploy or its rollback (a replica, a missing
     * permission, clocks apart) is refused with nothing written, not even
     * a lock that would be held until it expires. */
    say(&c, "[2/7] preflight: %zu target%s", c.nt + gateway_count(c.gw),
        c.nt + gateway_count(c.gw) == 1 ? "" : "s");
    json_t *pre = json_object();
    json_object_set_new(c.summary, "preflight", pre);
    if (!preflight(&c, pre, e)) {
        rerr cause = *e, ae;
        audit(&c, "run", "refused", NULL, NULL, &cause, &ae);
        *e = cause;
        st = phase_fail(&c, EXEC_PREFLIGHT, "preflight");
        goto out;
    }
    if (c.nt)
        say(&c, "      clocks within %lld ms (max_clock_skew %lld ms)",
            (long long)json_integer_value(json_object_get(pre, "max_skew_ms")),
            (long long)c.skew_ms);

    /* The journal comes first: it names the lock token, so a crash right
     * after taking the lock can still release it. */
    if (!o->dry_run) {
        unsigned char rb[16];
        RAND_bytes(rb, sizeof rb);
        digest_hex(rb, sizeof rb, c.token);
        json_t *hdr = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "plan_digest", c.digest, "policy",
                                c.policy, "namespace", c.ns, "plan_path", plan_path, "targets",
                                target_descs(&c), "lock_token", c.token);
        json_object_set_new(hdr, "gateways", gateway_descs(c.gw));
        /* Who writes it: recovery trusts the state directory's lock only
         * for a journal written on this host (owner_gone). */
        char host[256];
        statedir_hostname(host, sizeof host);
        json_object_set_new(hdr, "host", json_string(host));
        json_object_set_new(hdr, "pid", json_integer(getpid()));
        if (!journal_begin(&c.j, o->state_dir, c.run, hdr, e)) {
            st = EXEC_FAILED;
            goto out;
        }
        c.jopen = true;
        if (!fault_point("lock", e))
            goto abandon;
        if (c.nt)
            say(&c, "[3/7] lock: %s:deploy:lock", c.ns);
        else if (gateway_has_lockable(c.gw))
            say(&c, "[3/7] lock: etcd lease on the first etcd target");
        else
            say(&c, "[3/7] lock: none (an HTTP API has no lock; writes are conditional)");
        for (size_t i = 0; i < c.nt; i++)
            if (!lock_acquire(&c.t[i].lock, c.t[i].s, c.ns, c.run, c.token, e)) {
                rerr ae;
                rerr cause = *e;
                for (size_t k = 0; k < i; k++)
                    lock_release(&c.t[k].lock, &ae);
                journal_finish(&c.j, "refused", &ae);
                c.jopen = false;
                audit(&c, "run", "refused", NULL, NULL, &cause, &ae);
                st = phase_fail(&c, cause.code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED,
                                "lock");
                goto out;
            }
        /* Without a Redis target the lock is an etcd lease (SPEC 7.8). */
        if (c.nt == 0 && gateway_has_lockable(c.gw) && !gateway_lock(c.gw, c.run, c.token, e)) {
            rerr ae;
            rerr cause = *e;
            journal_finish(&c.j, "refused", &ae);
            c.jopen = false;
            audit(&c, "run", "refused", NULL, NULL, &cause, &ae);
            st = phase_fail(&c, cause.code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED,
                            "lock");
            goto out;
        }
    }
    mark(&c, "lock");
    /* etcd and HTTP targets are checked under the lock (an etcd lease). */
    if (!fault_point("preflight", e) || !gateway_preflight(c.gw, pre, e)) {
        st = EXEC_PREFLIGHT;
        goto abandon;
    }
    if (gateway_count(c.gw))
        say(&c, "      %zu etcd/http target%s healthy", gateway_count(c.gw),
            gateway_count(c.gw) == 1 ? "" : "s");
    if (!o->dry_run)
        for (size_t i = 0; i < c.nt; i++)
            if (!c.t[i].functions && !load_library(&c, &c.t[i], e)) {
                /* EVALSHA mode needs the sha before configs are encoded. */
                st = EXEC_PREFLIGHT;
                goto abandon;
            }
    mark(&c, "preflight");
    size_t nchanged = 0, nremoved = 0, nread = 0, nencoded = 0;
    bool all_fast = true;
    for (size_t i = 0; i < c.nt; i++) {
        if (o->dry_run && !c.t[i].functions) {
            const char *src = json_string_value(json_object_get(json_object_get(c.plan, "library"), "source"));
            const char *body = src ? strchr(src, '\n') : NULL;
            body = body ? body + 1 : (src ? src : "");
            unsigned char md[20];
            unsigned int mdlen;
            EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha1(), NULL);
            digest_hex(md, 20, c.t[i].sha);
        }
        if (!read_live(&c, &c.t[i], o->full_read, e)) {
            st = EXEC_PREFLIGHT;
            goto abandon;
        }
        nread += c.t[i].pointers_read;
        nencoded += c.t[i].encoded;
        all_fast &= c.t[i].fast_read;
        for (size_t m = 0; m < c.t[i].nten; m++) {
            nchanged += c.t[i].ten[m].changed && c.t[i].ten[m].t;
            nremoved += c.t[i].ten[m].changed && !c.t[i].ten[m].t;
        }
    }
    if (!gateway_read(c.gw, c.plan, c.gw_tenants, &nchanged, &nremoved, e)) {
        st = EXEC_PREFLIGHT;
        goto abandon;
    }
    json_object_set_new(c.summary, "tenants_changed", json_integer((json_int_t)nchanged));
    json_object_set_new(c.summary, "tenants_removed", json_integer((json_int_t)nremoved));
    json_object_set_new(c.summary, "live_read", json_string(all_fast ? "manifest" : "full"));
    json_object_set_new(c.summary, "pointers_read", json_integer((json_int_t)nread));
    json_object_set_new(c.summary, "configs_encoded", json_integer((json_int_t)nencoded));
    if (c.nt)
        say(&c, "      live state: %s, %zu active pointer%s read", all_fast
            ? "manifest matches this state directory's last deploy" : "read in full", nread,
            nread == 1 ? "" : "s");
    char before[DIGEST_HEX_LEN + 1], after[DIGEST_HEX_LEN + 1];
    state_digest(&c.t[0], false, before);
    state_digest(&c.t[0], true, after);
    json_object_set_new(c.summary, "state_before", json_string(before));
    json_object_set_new(c.summary, "state_after", json_string(after));
    if (o->dry_run) {
        say(&c, "dry run: would write %zu tenant config%s and remove %zu; nothing written",
            nchanged, nchanged == 1 ? "" : "s", nremoved);
        json_t *w = json_array();
        for (size_t m = 0; m < c.t[0].nten; m++)
            if (c.t[0].ten[m].changed)
                json_array_append_new(w, json_pack("{s:s,s:s?,s:s?}", "tenant",
                                                   c.t[0].ten[m].name, "from",
                                                   c.t[0].ten[m].live, "to",
                                                   c.t[0].ten[m].t ? c.t[0].ten[m].newver
                                                                   : NULL));
        json_t *gw = gateway_changes(c.gw);
        json_array_extend(w, gw);
        json_decref(gw);
        json_object_set_new(c.summary, "would_write", w);
        json_object_set_new(c.summary, "result", json_string("dry_run"));
        st = EXEC_OK;
        goto out;
    }

    mark(&c, "read");
    say(&c, "[4/7] checkpoint: %zu tenant%s to change", nchanged + nremoved,
        nchanged + nremoved == 1 ? "" : "s");
    if (!fault_point("checkpoint", e) || !write_checkpoint(&c, e)) {
        st = EXEC_FAILED;
        goto abandon;
    }
    json_object_set_new(c.summary, "checkpoint", json_string(c.ckpt));
    if (!journal_note(&c.j, "checkpoint", json_pack("{s:s}", "checkpoint", c.ckpt), e)) {
        st = EXEC_FAILED;
        goto abandon;
    }
    say(&c, "      %s (mode 0600)", c.ckpt);
    if (!journal_note(&c.j, "apply", NULL, e)) {
        st = EXEC_FAILED;
        goto abandon;
    }
    mark(&c, "checkpoint");
    rerr cause = {0};
    char mk[512], fk[512];
    key_of(mk, sizeof mk, c.ns, "deploy:marker");
    key_of(fk, sizeof fk, c.ns, "deploy:manifest");
    for (size_t i = 0; i < c.nt; i++) {
        /* No manifest until commit: a deploy that stops half-way leaves a
         * store that no record describes (the checkpoint restores it). */
        const char *av[3] = {"SET", mk, c.run}, *dv[2] = {"DEL", fk};
        if (!fault_point("apply.marker", &cause) || !cmd_ok(c.t[i].s, &cause, mk, 3, av) ||
            !cmd_ok(c.t[i].s, &cause, fk, 2, dv))
            goto rollback;
    }
    say(&c, "[5/7] apply");
    size_t written = 0;
    for (size_t i = 0; i < c.nt; i++) {
        xt *t = &c.t[i];
        if (!fault_point("apply.library", &cause) ||
            (t->functions && !load_library(&c, t, &cause)))
            goto rollback;
        say(&c, "      library %s loaded on every primary (%s)",
            json_string_value(json_object_get(json_object_get(c.plan, "library"), "name")),
            t->functions ? "FUNCTION LOAD" : "SCRIPT LOAD, EVALSHA");
        if (!lock_keepalive(&t->lock, &cause) || !fault_point("apply.config", &cause) ||
            !send_cmds(t, true, &cause, &written))
            goto rollback;
        say(&c, "      %zu config%s written under versioned keys", nchanged,
            nchanged == 1 ? "" : "s");
        if (!lock_keepalive(&t->lock, &cause) || !fault_point("apply.flip", &cause) ||
            !send_cmds(t, false, &cause, &written))
            goto rollback;
        say(&c, "      %zu active pointer%s flipped, %zu removed", nchanged,
            nchanged == 1 ? "" : "s", nremoved);
    }
    if (gateway_count(c.gw)) {
        size_t gw_written = 0;
        if (!lock_keepalive_all(&c, &cause) || !gateway_apply(c.gw, &gw_written, &cause))
            goto rollback;
        say(&c, "      %zu etcd/http entr%s written, each conditional on what was read",
            gw_written, gw_written == 1 ? "y" : "ies");
        written += gw_written;
    }
    json_object_set_new(c.summary, "keys_written", json_integer((json_int_t)written));
    mark(&c, "apply");
    if (!fault_point("apply.done", &cause) || !journal_note(&c.j, "verify", NULL, &cause))
        goto rollback;
    say(&c, "[6/7] verify %s", c.nt ? "against shadow keys" : "by reading back");
    for (size_t i = 0; i < c.nt; i++) {
        bool vok = verify(&c, &c.t[i], c.summary, &cause);
        drop_shadow(&c, &c.t[i]);
        if (!vok || !fault_point("verify", &cause))
            goto rollback;
    }
    if (!gateway_verify(c.gw, &cause))
        goto rollback;
    if (c.nt)
        say(&c, "      %lld request%s decided as the simulator predicts",
            (long long)json_integer_value(json_object_get(c.summary, "verify_requests")),
            json_integer_value(json_object_get(c.summary, "verify_requests")) == 1 ? "" : "s");
    if (gateway_count(c.gw))
        say(&c, "      etcd/http entries read back as written");
    mark(&c, "verify");
    say(&c, "[7/7] commit");
    for (size_t i = 0; i < c.nt; i++) {
        char manifest[DIGEST_HEX_LEN + 1];
        state_digest(&c.t[i], true, manifest);
        if (!lock_renew(&c.t[i].lock, &cause) || !fault_point("commit.store", &cause) ||
            !commit_store(&c, &c.t[i], manifest, &cause) ||
            !fault_point("commit.confirm", &cause) ||
            !confirm_commit(&c, &c.t[i], manifest, &cause))
            goto rollback;
    }
    if (!gateway_keepalive(c.gw, true, &cause) || !gateway_commit(c.gw, c.digest, &cause))
        goto rollback;
    if (!journal_note(&c.j, "committed", NULL, e)) {
        st = EXEC_FAILED;
        goto out;
    }
    if (!fault_point("commit.audit", e) ||
        !audit(&c, "run", "committed", before, after, NULL, e) ||
        !journal_note(&c.j, "audited", NULL, e) || !fault_point("commit.unlock", e)) {
        st = EXEC_FAILED;
        goto out;
    }
    for (size_t i = 0; i < c.nt; i++)
        manifest_record_write(&c, &c.t[i], after);
    for (size_t i = 0; i < c.nt; i++)
        lock_release(&c.t[i].lock, e);
    gateway_unlock(c.gw);
    if (!journal_finish(&c.j, "finished", e)) {
        st = EXEC_FAILED;
        goto out;
    }
    c.jopen = false;
    mark(&c, "commit");
    say(&c, "      committed: run %s, audit record %lld", c.run,
        (long long)json_integer_value(json_object_get(c.summary, "audit_seq")));
    json_object_set_new(c.summary, "result", json_string("committed"));
    st = EXEC_OK;
    goto out;

rollback:
    say(&c, "apply failed: %s", cause.msg);
    roll_back_now(&c, &cause, e);
    st = EXEC_FAILED;
    goto out;

abandon:
    /* Nothing but the lock was written: release it and close the journal. */
    if (c.jopen) {
        rerr cause2 = *e, ae;
        for (size_t i = 0; i < c.nt; i++)
            lock_release(&c.t[i].lock, &ae);
        gateway_unlock(c.gw);
        journal_finish(&c.j, "abandoned", &ae);
        c.jopen = false;
        audit(&c, "run", "refused", NULL, NULL, &cause2, &ae);
        *e = cause2;
    }
    if (st == EXEC_OK)
        st = e->code == DIAG_FAULT_INJECTED ? EXEC_FAILED : EXEC_PREFLIGHT;
    if (!json_object_get(c.summary, "result"))
        json_object_set_new(c.summary, "result", json_string("refused"));
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    statedir_unlock(sdlock);
    return st;
}

/* --- recovery -------------------------------------------------------------- */

static exec_status recover_pending(const exec_opts *o, rerr *e, json_t *summary)
{
    bool rec;
    json_t *s = NULL;
    if (!exec_recover(o, &rec, &s, e)) {
        json_decref(s);
        return e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
    }
    if (rec)
        json_object_set_new(summary, "recovered", s);
    else
        json_decref(s);
    return EXEC_OK;
}

/* Whether the deploy of an interrupted journal is provably over, so that
 * recovery may act on it.  The caller holds the state directory's lock,
 * which its writer held for its whole life: a journal written on this host
 * has no live writer.  One written elsewhere (a state directory shared over
 * the network, where the lock may not reach) is over only once no target's
 * deploy lock carries its token or names its run, and its last entry is
 * older than a lock's TTL (it may not have taken the lock yet).  False with
 * RLC3160 otherwise. */
static bool owner_gone(xc *c, const json_t *entries, const char *token, rerr *e)
{
    const json_t *h = journal_header(entries);
    const char *jhost = json_string_value(json_object_get(h, "host"));
    char host[256];
    statedir_hostname(host, sizeof host);
    if (jhost && !strcmp(jhost, host))
        return true;
    char who[400];
    snprintf(who, sizeof who, "deploy %s (pid %lld on %s)", c->run,
             (long long)json_integer_value(json_object_get(h, "pid")), jhost ? jhost : "a host "
             "this journal does not name");
    long long last = json_integer_value(json_object_get(
        json_array_get(entries, json_array_size(entries) - 1), "t"));
    long long age = statedir_now_ms() - last;
    if (age < lock_ttl_ms())
        return rerr_set(e, DIAG_LOCK_HELD, "%s may still be running: its journal was written "
                        "%.1f s ago, less than a lock's lifetime (%.1f s); run again later",
                        who, (double)age / 1000.0, lock_ttl_ms() / 1000.0);
    for (size_t i = 0; i < c->nt; i++) {
        bool present;
        char *cur = NULL;
        long long pttl;
        if (!lock_peek(c->t[i].s, c->ns, &present, &cur, &pttl, e))
            return false;
        bool ours = present && token && !strncmp(cur, token, strlen(token)) &&
                    cur[strlen(token)] == '|';
        free(cur);
        if (ours)
            return rerr_set(e, DIAG_LOCK_HELD, "%s is still running: target %s's lock %s:deploy:"
                            "lock carries its token (expires in %.1f s unless renewed)", who,
                            c->t[i].name, c->ns, (double)pttl / 1000.0);
    }
    json_t *gh = gateway_lock_holder(c->gw, e);
    if (e->code) {
        json_decref(gh);
        return false;
    }
    const char *grun = json_string_value(json_object_get(gh, "run"));
    bool gours = grun && !strcmp(grun, c->run);
    json_decref(gh);
    if (gours)
        return rerr_set(e, DIAG_LOCK_HELD, "%s is still running: the etcd deploy lock names "
                        "its run", who);
    return true;
}

bool exec_recover(const exec_opts *o, bool *recovered, json_t **summary, rerr *e)
{
    *recovered = false;
    *summary = json_object();
    json_t *entries = journal_pending(o->state_dir, e);
    if (!entries)
        return e->code == 0;
    *recovered = true;
    xc c = {.o = o};
    c.summary = *summary;
    json_t *h = journal_header(entries);
    snprintf(c.run, sizeof c.run, "%s", json_string_value(json_object_get(h, "run")) ?: "?");
    snprintf(c.digest, sizeof c.digest, "%s",
             json_string_value(json_object_get(h, "plan_digest")) ?: "");
    char nsbuf[256], polbuf[256];
    snprintf(nsbuf, sizeof nsbuf, "%s", json_string_value(json_object_get(h, "namespace")) ?: "rl");
    snprintf(polbuf, sizeof polbuf, "%s", json_string_value(json_object_get(h, "policy")) ?: "");
    c.ns = nsbuf;
    c.policy = polbuf;
    const char *token = json_string_value(json_object_get(h, "lock_token"));
    json_object_set_new(c.summary, "run", json_string(c.run));
    bool ok = recorded_targets(&c, json_object_get(h, "targets"), e);
    if (ok)
        ok = (c.gw = gateway_from_record(json_object_get(h, "gateways"), c.ns, e)) &&
             gateway_connect(c.gw, e);
    if (ok)
        ok = owner_gone(&c, entries, token, e);
    if (ok)
        say(&c, "found interrupted deploy %s (journal %s/journal.jsonl)", c.run, o->state_dir);
    if (ok) {
        ok = journal_adopt(&c.j, o->state_dir, c.run, e);
        c.jopen = ok;
    }
    const char *what = "";
    if (ok && journal_has(entries, "committed")) {
        what = "finished";
        say(&c, "it had committed: finishing (audit record, lock release)");
        if (!journal_has(entries, "audited")) {
            json_t *names = NULL;
            (void)names;
            ok = audit(&c, "recover", "committed", NULL, NULL, NULL, e) &&
                 journal_note(&c.j, "audited", NULL, e);
        }
    } else if (ok && journal_has(entries, "apply")) {
        what = "rolled_back";
        json_t *ck = NULL;
        size_t i;
        json_t *en;
        json_array_foreach(entries, i, en)
            if (json_object_get(en, "checkpoint"))
                snprintf(c.ckpt, sizeof c.ckpt, "%s",
                         json_string_value(json_object_get(en, "checkpoint")));
        char *text = statedir_read(c.ckpt, NULL);
        ck = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!ck) {
            ok = rerr_set(e, DIAG_CHECKPOINT, "interrupted deploy %s: checkpoint %s unreadable",
                          c.run, c.ckpt);
        } else {
            say(&c, "it had started writing: restoring checkpoint %s", c.ckpt);
            for (size_t t = 0; ok && t < c.nt; t++) {
                /* Which call form the store has: functions unless absent. */
                redisReply *r = rconn_cmdf(rstore_node_conn(c.t[t].s, 0, e), e,
                                           "FUNCTION LIST LIBRARYNAME rlc");
                bool fn = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
                if (r)
                    freeReplyObject(r);
                const char *nf = getenv("RLC_NO_FUNCTIONS");
                if (nf && *nf && strcmp(nf, "0"))
                    fn = false;
                char sha[41] = "";
                if (!fn) {
                    const char *src = NULL;
                    /* The plan is needed for the script text; its path is
                     * in the journal. */
                    const char *pp = json_string_value(json_object_get(h, "plan_path"));
                    char *ptext = pp ? statedir_read(pp, NULL) : NULL;
                    json_t *pj = ptext ? json_loads(ptext, 0, NULL) : NULL;
                    free(ptext);
                    src = json_string_value(json_object_get(json_object_get(pj, "library"),
                                                            "source"));
                    if (src) {
                        const char *body = strchr(src, '\n');
                        body = body ? body + 1 : src;
                        const char *av[3] = {"SCRIPT", "LOAD", body};
                        rstore_on_primaries(c.t[t].s, 3, av, NULL, e);
                        unsigned char md[20];
                        unsigned int mdlen;
                        EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha1(), NULL);
                        digest_hex(md, 20, sha);
                    }
                    json_decref(pj);
                }
                ok = restore_target(&c.t[t], json_array_get(json_object_get(ck, "targets"), t),
                                    fn, sha, e);
            }
            ok = ok && gateway_restore(c.gw, json_object_get(ck, "gateways"), e);
            json_decref(ck);
        }
    } else if (ok) {
        what = "abandoned";
        say(&c, "it had written nothing yet: abandoning it");
    }
    if (ok) {
        char mk[512];
        key_of(mk, sizeof mk, c.ns, "deploy:marker");
        for (size_t t = 0; t < c.nt; t++) {
            bool rel;
            rerr tmp;
            if (strcmp(what, "finished")) {
                const char *av[2] = {"DEL", mk};
                cmd_ok(c.t[t].s, &tmp, mk, 2, av);
            }
            if (token)
                lock_release_token(c.t[t].s, c.ns, token, &rel, &tmp);
        }
        rerr tmp;
        if (token && c.nt == 0)
            gateway_unlock_token(c.gw, token, &tmp);
        if (strcmp(what, "finished"))
            ok = audit(&c, "recover", what, NULL, NULL, NULL, e);
        ok = ok && journal_finish(&c.j, what, e);
        c.jopen = false;
        say(&c, "interrupted deploy %s: %s", c.run, what);
    }
    json_object_set_new(c.summary, "result", json_string(ok ? what : "failed"));
    json_decref(entries);
    c.summary = NULL;
    xc_free(&c);
    return ok;
}

/* --- rollback -------------------------------------------------------------- */

/* Whether a checkpoint belongs to a run that changed nothing: every target
 * already had the run's plan active and no tenant pointer was to change.
 * A target without those records (an older or a gateway checkpoint) counts
 * as changed. */
static bool checkpoint_is_noop(const json_t *ck)
{
    const char *digest = json_string_value(json_object_get(ck, "plan_digest"));
    const json_t *ts = json_object_get(ck, "targets");
    if (!digest || !json_is_array(ts) || !json_array_size(ts))
        return false;
    size_t i;
    const json_t *t;
    json_array_foreach(ts, i, t) {
        const char *before = json_string_value(json_object_get(t, "before_plan"));
        const json_t *act = json_object_get(t, "active");
        if (!before || strcmp(before, digest) || !json_is_object(act) || json_object_size(act))
            return false;
    }
    /* etcd/http/nginx targets: checkpointed entries are the changed ones
     * (plus etcd's deploy/state, always saved). */
    json_array_foreach(json_object_get(ck, "gateways"), i, t) {
        size_t k;
        const json_t *kj;
        json_array_foreach(json_object_get(t, "keys"), k, kj) {
            const char *key = json_string_value(json_object_get(kj, "k"));
            size_t kl = key ? strlen(key) : 0;
            if (kl < 13 || strcmp(key + kl - 13, "/deploy/state"))
                return false;
        }
    }
    return true;
}

/* The checkpoint `rlc rollback` restores by default: the newest one of a
 * run that changed something.  A re-run of the active plan writes a
 * checkpoint too (it may have crashed half-way), but rolling back to it
 * would change nothing; *skipped counts those passed over. */
static bool newest_checkpoint(const char *dir, char *out, size_t n, size_t *skipped)
{
    char cd[STATEDIR_PATH_MAX];
    statedir_path(dir, "checkpoints", cd);
    struct dirent **names = NULL;
    int k = scandir(cd, &names, NULL, alphasort);
    bool found = false;
    *skipped = 0;
    for (int i = k - 1; i >= 0; i--) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (!found && nm[0] != '.' && l > 5 && l < n + 5 && !strcmp(nm + l - 5, ".json")) {
            char path[STATEDIR_PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", cd, nm);
            char *text = statedir_read(path, NULL);
            json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
            free(text);
            /* An unreadable checkpoint is not skipped: restoring it reports why. */
            if (ck && checkpoint_is_noop(ck)) {
                (*skipped)++;
            } else {
                snprintf(out, n, "%.*s", (int)(l - 5), nm);
                found = true;
            }
            json_decref(ck);
        }
        free(names[i]);
    }
    free(names);
    return found;
}

/* The etcd part of a rollback: lock (when no Redis target holds one),
 * refuse if a later deploy changed the targets, restore, unlock. */
static exec_status rollback_gateways(xc *c, const json_t *ck, const char *id, rerr *e)
{
    json_t *descs = json_array();
    size_t i;
    json_t *ct;
    json_array_foreach(json_object_get(ck, "gateways"), i, ct)
        json_array_append(descs, json_object_get(ct, "target"));
    c->gw = gateway_from_record(descs, c->ns, e);
    json_decref(descs);
    if (!c->gw || !gateway_connect(c->gw, e))
        return EXEC_PREFLIGHT;
    if (!c->token[0]) {
        unsigned char rb[16];
        RAND_bytes(rb, sizeof rb);
        digest_hex(rb, sizeof rb, c->token);
    }
    if (c->nt == 0 && !gateway_lock(c->gw, c->run, c->token, e))
        return e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
    const char *ck_plan = json_string_value(json_object_get(ck, "plan_digest"));
    rerr le = {0};
    char *live = gateway_live_plan(c->gw, &le);
    if (le.code) {
        *e = le;
        gateway_unlock(c->gw);
        return EXEC_FAILED;
    }
    /* Only etcd records the applied plan (an HTTP API has no place for it). */
    if (!c->o->force && ck_plan && gateway_has_lockable(c->gw) &&
        (!live || strcmp(live, ck_plan))) {
        rerr_set(e, DIAG_ROLLBACK_REFUSED, "etcd: the applied plan is %.16s, not %.16s (the "
                 "deploy that followed checkpoint %s): a later deploy changed the store; "
                 "--force restores the checkpoint anyway", live ? live : "(none)", ck_plan, id);
        free(live);
        gateway_unlock(c->gw);
        return EXEC_REFUSED;
    }
    free(live);
    bool ok = gateway_restore(c->gw, json_object_get(ck, "gateways"), e);
    gateway_unlock(c->gw);
    return ok ? EXEC_OK : EXEC_FAILED;
}

exec_status exec_rollback(const char *checkpoint_id, const exec_opts *o, json_t **summary,
                          rerr *e)
{
    xc c = {.o = o};
    c.summary = json_object();
    *summary = c.summary;
    exec_status st;
    char lrun[64];
    statedir_new_id(lrun);
    int sdlock = lock_state_dir(o, "rollback", lrun, e);
    if (sdlock < 0) {
        st = e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
        goto out;
    }
    st = recover_pending(o, e, c.summary);
    if (st != EXEC_OK)
        goto out;
    if (json_object_get(c.summary, "recovered") && !checkpoint_id) {
        /* Recovering an interrupted deploy was the rollback asked for. */
        json_object_set_new(c.summary, "result", json_string("recovered"));
        goto out;
    }
    char id[256];
    if (checkpoint_id)
        snprintf(id, sizeof id, "%s", checkpoint_id);
    else {
        size_t skipped;
        if (!newest_checkpoint(o->state_dir, id, sizeof id, &skipped)) {
            rerr_set(e, DIAG_CHECKPOINT, "no checkpoint in %s/checkpoints%s", o->state_dir,
                     skipped ? " of a deploy that changed anything" : "");
            st = EXEC_FAILED;
            goto out;
        }
        if (skipped)
            json_object_set_new(c.summary, "skipped_noop_checkpoints",
                                json_integer((json_int_t)skipped));
    }
    char name[300];
    snprintf(name, sizeof name, "checkpoints/%s.json", id);
    statedir_path(o->state_dir, name, c.ckpt);
    struct stat sb;
    char *text = statedir_read(c.ckpt, NULL);
    json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!ck || stat(c.ckpt, &sb) != 0 || (sb.st_mode & 077)) {
        rerr_set(e, DIAG_CHECKPOINT, "checkpoint %s is %s", c.ckpt,
                 !ck ? "missing or not valid JSON" : "readable by others (mode must be 0600)");
        json_decref(ck);
        st = EXEC_FAILED;
        goto out;
    }
    snprintf(c.run, sizeof c.run, "%.63s", id);
    char nsbuf[256], polbuf[256];
    snprintf(nsbuf, sizeof nsbuf, "%s", json_string_value(json_object_get(ck, "namespace")));
    snprintf(polbuf, sizeof polbuf, "%s", json_string_value(json_object_get(ck, "policy")) ?: "");
    c.ns = nsbuf;
    c.policy = polbuf;
    json_t *descs = json_array();
    size_t i;
    json_t *ct;
    json_array_foreach(json_object_get(ck, "targets"), i, ct)
        json_array_append(descs, json_object_get(ct, "target"));
    bool ok = recorded_targets(&c, descs, e);
    json_decref(descs);
    if (!ok) {
        json_decref(ck);
        st = EXEC_PREFLIGHT;
        goto out;
    }
    const char *ck_plan = json_string_value(json_object_get(ck, "plan_digest"));
    snprintf(c.digest, sizeof c.digest, "%s", ck_plan ? ck_plan : "");
    statedir_new_id(c.run);
    json_int_t nskip = json_integer_value(json_object_get(c.summary, "skipped_noop_checkpoints"));
    if (nskip)
        say(&c, "rollback to checkpoint %s (passing over %lld newer checkpoint%s of runs that "
            "changed nothing)", id, (long long)nskip, nskip == 1 ? "" : "s");
    else
        say(&c, "rollback to checkpoint %s", id);
    for (size_t t = 0; t < c.nt; t++) {
        if (!lock_acquire(&c.t[t].lock, c.t[t].s, c.ns, c.run, NULL, e)) {
            json_decref(ck);
            st = EXEC_LOCKED;
            goto out;
        }
        /* Refuse when a later deploy changed the store since. */
        char pk[512];
        key_of(pk, sizeof pk, c.ns, "deploy:plan");
        const char *av[2] = {"GET", pk};
        redisReply *r = cmd(c.t[t].s, e, pk, 2, av);
        const char *live = r && r->type == REDIS_REPLY_STRING ? r->str : "";
        if (!o->force && ck_plan && strcmp(live, ck_plan)) {
            const json_t *ckt = json_array_get(json_object_get(ck, "targets"), t);
            const char *before = json_string_value(json_object_get(ckt, "before_plan"));
            if (!strcmp(live, before ? before : ""))
                rerr_set(e, DIAG_ROLLBACK_REFUSED, "target %s: the store already holds the "
                         "state from before checkpoint %s (active plan %.16s): it was rolled "
                         "back already; --force restores the checkpoint anyway", c.t[t].name,
                         id, live[0] ? live : "(none)");
            else
                rerr_set(e, DIAG_ROLLBACK_REFUSED, "target %s: the store's active plan is "
                         "%.16s, not %.16s (the deploy that followed checkpoint %s): a later "
                         "deploy changed the store; --force restores the checkpoint anyway",
                         c.t[t].name, live[0] ? live : "(none)", ck_plan, id);
            if (r)
                freeReplyObject(r);
            rerr ae;
            lock_release(&c.t[t].lock, &ae);
            json_decref(ck);
            st = EXEC_REFUSED;
            goto out;
        }
        if (r)
            freeReplyObject(r);
        redisReply *f = rconn_cmdf(rstore_node_conn(c.t[t].s, 0, e), e,
                                   "FUNCTION LIST LIBRARYNAME rlc");
        bool fn = f && f->type == REDIS_REPLY_ARRAY && f->elements > 0;
        if (f)
            freeReplyObject(f);
        if (!restore_target(&c.t[t], json_array_get(json_object_get(ck, "targets"), t), fn,
                            "", e)) {
            json_decref(ck);
            st = EXEC_FAILED;
            goto out;
        }
        /* The restored manifest described the store when the checkpoint was
         * taken; with --force, later deploys may have changed other tenants
         * since.  Without a manifest the next deploy reads every pointer. */
        char fk[512];
        key_of(fk, sizeof fk, c.ns, "deploy:manifest");
        const char *dv[2] = {"DEL", fk};
        if (!cmd_ok(c.t[t].s, e, fk, 2, dv)) {
            json_decref(ck);
            st = EXEC_FAILED;
            goto out;
        }
        rerr ae;
        lock_release(&c.t[t].lock, &ae);
    }
    if (json_array_size(json_object_get(ck, "gateways"))) {
        exec_status gs = rollback_gateways(&c, ck, id, e);
        if (gs != EXEC_OK) {
            json_decref(ck);
            st = gs;
            goto out;
        }
    }
    json_decref(ck);
    rerr ae;
    audit(&c, "rollback", "rolled_back", NULL, NULL, NULL, &ae);
    say(&c, "restored checkpoint %s: values and TTLs as they were", id);
    json_object_set_new(c.summary, "result", json_string("rolled_back"));
    json_object_set_new(c.summary, "checkpoint", json_string(id));
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    statedir_unlock(sdlock);
    return st;
}

/* --- diff and status ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (!strcmp(x, "m"))
        return strcmp(y, "m") ? -1 : 0;
    if (!strcmp(y, "m"))
        return 1;
    return strcmp(x, y);
}

/* Reads a config hash: its rules by id ({id: line}) and whether its contents
 * still hash to its version (false: edited by hand). */
static json_t *live_config(xt *t, const char *tag, const char *ver, bool *intact, rerr *e)
{
    char *k = str_printf("%s:cfg:%s", tag, ver);
    const char *av[2] = {"HGETALL", k};
    redisReply *r = cmd(t->s, e, k, 2, av);
    free(k);
    if (!r)
        return NULL;
    json_t *rules = json_object();
    *intact = false;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
        size_t nf = r->elements / 2;
        const char **fields = malloc(nf * sizeof *fields);
        for (size_t i = 0; i < nf; i++)
            fields[i] = r->element[2 * i]->str;
        if (nf > 1)
            qsort(fields, nf, sizeof *fields, cmp_str);
        buf all;
        buf_init(&all, BUF_DEFAULT_MAX);
        for (size_t i = 0; i < nf; i++) {
            const char *val = "";
            for (size_t j = 0; j < nf; j++)
                if (r->element[2 * j]->str == fields[i])
                    val = r->element[2 * j + 1]->str;
            buf_append(&all, fields[i], strlen(fields[i]) + 1);
            buf_append(&all, val, strlen(val) + 1);
            if (!strcmp(fields[i], "m"))
                continue;
            char *copy = strdup(val);
            for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
                char id[32];
                if (sscanf(line, "%31s", id) == 1)
                    json_object_set_new(rules, id, json_string(line));
            }
            free(copy);
        }
        char hex[DIGEST_HEX_LEN + 1];
        digest_sha256_hex(all.data, all.len, hex);
        *intact = !strncmp(hex, ver, REDIS_CONFIG_VERSION_LEN);
        buf_free(&all);
        free(fields);
    }
    freeReplyObject(r);
    return rules;
}

static const char *rule_line(const rl_rule *r, char *out, size_t n)
{
    snprintf(out, n, "%s %c %d %lld %lld %lld %lld", r->id, rules_kind_code(r->kind),
             r->shadow ? 1 : 0,
             (long long)(r->kind == RL_CONCURRENCY ? r->max : r->count),
             (long long)(r->kind == RL_CONCURRENCY ? r->lease_ms : r->window_ms),
             (long long)(r->kind == RL_CONCURRENCY ? 0 : r->burst),
             (long long)(r->kind == RL_CONCURRENCY ? 1 : r->cost));
    return out;
}

exec_status exec_diff(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e)
{
    xc c = {.o = o};
    c.summary = json_object();
    *summary = c.summary;
    exec_status st = load_plan(&c, plan_path, e);
    if (st != EXEC_OK)
        goto out;
    if (!plan_targets(&c, e) ||
        (c.nt && (!connect_target(&c.t[0], e) || !read_live(&c, &c.t[0], o->full_read, e))) ||
        !gateway_connect(c.gw, e) || !gateway_read(c.gw, c.plan, c.gw_tenants, NULL, NULL, e)) {
        st = EXEC_FAILED;
        goto out;
    }
    xt *t = &c.t[0];
    json_t *tenants = json_array();
    if (c.nt)
        json_object_set_new(c.summary, "target", json_string(t->name));
    json_object_set_new(c.summary, "tenants", tenants);
    size_t nchanged = 0;
    for (size_t i = 0; i < t->nten; i++) {
        xtenant *x = &t->ten[i];
        if (!x->changed)
            continue;
        nchanged++;
        json_t *d = json_pack("{s:s,s:s?,s:s?}", "tenant", x->name, "from", x->live, "to",
                              x->t ? x->newver : NULL);
        bool intact = true;
        json_t *old = x->live ? live_config(t, x->tag, x->live, &intact, e) : json_object();
        if (!old) {
            json_decref(d);
            st = EXEC_FAILED;
            goto out;
        }
        if (!intact && x->live)
            json_object_set_new(d, "live_config_edited", json_true());
        json_t *added = json_array(), *removed = json_array(), *changed = json_array(),
               *kept = json_array();
        for (size_t r = 0; x->t && r < x->t->nrules; r++) {
            const rl_rule *rr = &x->t->rules[r];
            char line[256];
            rule_line(rr, line, sizeof line);
            json_t *ol = json_object_get(old, rr->id);
            json_t *item = json_pack("{s:s,s:s,s:s}", "id", rr->id, "kind",
                                     rules_kind_name(rr->kind), "subject",
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
        json_object_foreach(old, id, ol) {
            bool still = false;
            for (size_t r = 0; x->t && r < x->t->nrules; r++)
                still |= !strcmp(x->t->rules[r].id, id);
            if (!still)
                json_array_append_new(removed, json_pack("{s:s,s:O,s:s}", "id", id, "was", ol,
                                                         "counter", "no longer used; expires "
                                                         "on its own"));
        }
        json_decref(old);
        json_object_set_new(d, "added", added);
        json_object_set_new(d, "removed", removed);
        json_object_set_new(d, "changed", changed);
        json_object_set_new(d, "unchanged", json_integer((json_int_t)json_array_size(kept)));
        json_decref(kept);
        json_array_append_new(tenants, d);
    }
    size_t before_gw = json_array_size(tenants);
    gateway_diff(c.gw, c.plan, tenants);
    nchanged += json_array_size(tenants) - before_gw;
    json_object_set_new(c.summary, "tenants_changed", json_integer((json_int_t)nchanged));
    json_object_set_new(c.summary, "tenants_total", json_integer((json_int_t)c.rs.ntenants));
    st = nchanged ? EXEC_CHANGES : EXEC_OK;
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    return st;
}

/* Targets of the newest finished run's journal header. */
static json_t *last_run_targets(const char *dir)
{
    char rd[STATEDIR_PATH_MAX];
    statedir_path(dir, "runs", rd);
    char name[256];
    if (!statedir_newest(dir, "runs", ".jsonl", name, sizeof name))
        return NULL;
    char path[STATEDIR_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.jsonl", rd, name);
    char *text = statedir_read(path, NULL);
    if (!text)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    json_t *h = json_loads(text, 0, NULL);
    free(text);
    json_t *t = h ? json_incref(json_object_get(h, "targets")) : NULL;
    json_t *ns = h ? json_object_get(h, "namespace") : NULL;
    json_t *out = t ? json_pack("{s:o,s:O}", "targets", t, "namespace", ns ? ns : json_null())
                    : NULL;
    if (out && json_object_get(h, "gateways"))
        json_object_set(out, "gateways", json_object_get(h, "gateways"));
    json_decref(h);
    return out;
}

/* What `rlc status` says about a deploy in the state directory, without
 * writing anything (no recovery: that is run's and rollback's, under the
 * directory's lock): "in_progress" (the lock is held: holder and the
 * journal's last phase) or "interrupted" (a journal whose writer is gone). */
static bool deploy_in_dir(const exec_opts *o, json_t *summary, rerr *e)
{
    bool held;
    char *holder;
    if (!statedir_lock_probe(o->state_dir, &held, &holder, e))
        return false;
    rerr je = {0};
    json_t *entries = journal_peek(o->state_dir, &je);
    const char *phase = entries ? journal_last_phase(entries) : NULL;
    if (held) {
        json_t *h = holder && *holder ? json_loads(holder, 0, NULL) : NULL;
        if (!json_is_object(h)) {
            json_decref(h);
            h = json_object();
        }
        json_object_set_new(h, "phase", json_string(phase ? phase : "starting"));
        json_object_set_new(summary, "in_progress", h);
    } else if (entries) {
        const json_t *jh = journal_header(entries);
        json_object_set_new(summary, "interrupted",
                            json_pack("{s:O*,s:s*,s:O*,s:O*,s:O*}", "run",
                                      json_object_get(jh, "run"), "phase", phase, "host",
                                      json_object_get(jh, "host"), "pid",
                                      json_object_get(jh, "pid"), "since_ms",
                                      json_object_get(jh, "t")));
    }
    free(holder);
    json_decref(entries);
    return true;
}

exec_status exec_status_report(const char *plan_path, const exec_opts *o, json_t **summary,
                               rerr *e)
{
    xc c = {.o = o};
    c.summary = json_object();
    *summary = c.summary;
    exec_status st = EXEC_OK;
    if (!deploy_in_dir(o, c.summary, e)) {
        st = EXEC_FAILED;
        goto out;
    }
    char nsbuf[256] = "rl";
    if (plan_path) {
        if ((st = load_plan(&c, plan_path, e)) != EXEC_OK)
            goto out;
        if (!plan_targets(&c, e)) {
            st = EXEC_FAILED;
            goto out;
        }
        for (size_t i = 0; i < c.nt; i++)
            if (!connect_target(&c.t[i], e)) {
                st = EXEC_FAILED;
                goto out;
            }
    } else {
        json_t *lr = last_run_targets(o->state_dir);
        if (!lr) {
            /* The first deploy from here, in progress or interrupted: its
             * journal names the targets. */
            rerr je = {0};
            json_t *entries = journal_peek(o->state_dir, &je);
            const json_t *h = journal_header(entries);
            if (h && json_object_get(h, "targets"))
                lr = json_pack("{s:O,s:O,s:O*}", "targets", json_object_get(h, "targets"),
                               "namespace", json_object_get(h, "namespace"), "gateways",
                               json_object_get(h, "gateways"));
            json_decref(entries);
        }
        if (!lr && json_object_get(c.summary, "in_progress")) {
            /* Nothing to read yet: the deploy has not written its journal. */
            json_object_set_new(c.summary, "targets", json_array());
            json_object_set_new(c.summary, "drift", json_integer(0));
            goto out;
        }
        if (!lr) {
            rerr_set(e, DIAG_STATE_IO, "no deploy recorded in %s; name a plan: rlc status "
                     "PLAN", o->state_dir);
            st = EXEC_FAILED;
            goto out;
        }
        snprintf(nsbuf, sizeof nsbuf, "%s",
                 json_string_value(json_object_get(lr, "namespace")) ?: "rl");
        bool ok = recorded_targets(&c, json_object_get(lr, "targets"), e);
        if (ok)
            ok = (c.gw = gateway_from_record(json_object_get(lr, "gateways"), nsbuf, e)) != NULL;
        json_decref(lr);
        if (!ok) {
            st = EXEC_FAILED;
            goto out;
        }
        c.ns = nsbuf;
    }
    size_t drift = 0;
    json_t *targets = json_array();
    json_object_set_new(c.summary, "targets", targets);
    for (size_t i = 0; i < c.nt; i++) {
        xt *t = &c.t[i];
        json_t *tj = json_pack("{s:s,s:s}", "name", t->name, "address", t->addr);
        json_array_append_new(targets, tj);
        char k[512];
        key_of(k, sizeof k, c.ns, "deploy:plan");
        const char *g[2] = {"GET", k};
        redisReply *r = cmd(t->s, e, k, 2, g);
        if (!r) {
            st = EXEC_FAILED;
            goto out;
        }
        json_object_set_new(tj, "active_plan", r->type == REDIS_REPLY_STRING
                                                   ? json_string(r->str) : json_null());
        freeReplyObject(r);
        json_t *nodes = json_array();
        for (size_t n = 0; n < t->s->nnodes; n++)
            json_array_append_new(nodes, json_pack("{s:s,s:i,s:b}", "host", t->s->nodes[n].host,
                                                   "port", t->s->nodes[n].port, "primary",
                                                   t->s->nodes[n].primary));
        json_object_set_new(tj, "nodes", nodes);
        bool present;
        char *holder;
        long long pttl;
        if (lock_peek(t->s, c.ns, &present, &holder, &pttl, e) && present) {
            const char *bar = strchr(holder, '|');
            json_t *hj = bar ? json_loads(bar + 1, 0, NULL) : NULL;
            if (hj)
                json_object_set_new(hj, "expires_in_ms", json_integer(pttl));
            json_object_set_new(tj, "lock", hj ? hj : json_string(holder));
        }
        free(holder);
        key_of(k, sizeof k, c.ns, "deploy:state");
        const char *hg[2] = {"HGETALL", k};
        r = cmd(t->s, e, k, 2, hg);
        if (!r) {
            st = EXEC_FAILED;
            goto out;
        }
        json_t *dr = json_array();
        size_t ntenants = 0;
        for (size_t m = 0; r->type == REDIS_REPLY_ARRAY && m + 1 < r->elements; m += 2) {
            const char *tn = r->element[m]->str, *ver = r->element[m + 1]->str;
            ntenants++;
            char *tag = redis_config_tag(c.ns, tn);
            char *ak = str_printf("%s:active", tag);
            const char *ga[2] = {"GET", ak};
            redisReply *a = cmd(t->s, e, ak, 2, ga);
            free(ak);
            const char *live = a && a->type == REDIS_REPLY_STRING ? a->str : NULL;
            bool intact = false;
            json_t *rules = live && !strcmp(live, ver) ? live_config(t, tag, ver, &intact, e)
                                                       : NULL;
            if (!live || strcmp(live, ver))
                json_array_append_new(dr, json_pack("{s:s,s:s,s:s,s:s?}", "tenant", tn,
                                                    "what", "active pointer differs",
                                                    "applied", ver, "live", live));
            else if (!intact)
                json_array_append_new(dr, json_pack("{s:s,s:s,s:s}", "tenant", tn, "what",
                                                    "config edited: contents no longer match "
                                                    "version", "applied", ver));
            json_decref(rules);
            if (a)
                freeReplyObject(a);
            free(tag);
        }
        freeReplyObject(r);
        json_object_set_new(tj, "tenants", json_integer((json_int_t)ntenants));
        drift += json_array_size(dr);
        json_object_set_new(tj, "drift", dr);
    }
    if (!gateway_connect(c.gw, e) ||
        !gateway_status(c.gw, plan_path ? c.digest : NULL, c.gw_tenants, targets, &drift, e)) {
        st = EXEC_FAILED;
        goto out;
    }
    rerr ae;
    json_t *audit_log = audit_load(o->state_dir, &ae);
    json_t *recent = json_array();
    for (size_t i = audit_log && json_array_size(audit_log) > 5 ? json_array_size(audit_log) - 5
                                                                : 0;
         audit_log && i < json_array_size(audit_log); i++)
        json_array_append(recent, json_array_get(audit_log, i));
    json_decref(audit_log);
    json_object_set_new(c.summary, "recent", recent);
    char cp[STATEDIR_PATH_MAX];
    size_t skipped;
    if (newest_checkpoint(o->state_dir, cp, sizeof cp, &skipped))
        json_object_set_new(c.summary, "newest_checkpoint", json_string(cp));
    json_object_set_new(c.summary, "drift", json_integer((json_int_t)drift));
    st = drift ? EXEC_DRIFT : EXEC_OK;
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    return st;
}
