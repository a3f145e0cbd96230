/* differential.c - proves stdlib/enforce.lua (in a real redis-server) and
 * the C simulator decide identically.  Generates random tenants (three-level
 * hierarchies, every algorithm, shadow limits, routes, concurrency; `group *`
 * and `key *` templates beside listed subjects; a `tenant *`), installs them
 * with the commands of runtime/redis_config.c and the library composed with
 * `tenant *`, replays random requests (listed and unlisted tenants, groups
 * and keys, names with ':' and '%' escapes, costs > 1, time jumps forward and
 * back, lease releases, a redeploy that keeps some rule identities and
 * changes others) through both, and compares every field of every answer.
 * The first divergence is printed with both answers and the exit status is 1.
 *
 *   differential --port P [--seed S] [--requests N] [--mode fcall|eval]
 *                [--no-twins] [--time client|server]
 *                [--mutate|--mutate-template|--mutate-lone|--mutate-twin]
 *
 * --time server: Redis reads its own clock; the simulator is fed the time
 * the server reports in each answer.  --mutate, --mutate-template,
 * --mutate-lone and --mutate-twin alter the library before loading it, to
 * show that this test can fail. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "plan_key.h"
#include "redis_config.h"
#include "rules.h"
#include "sim.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static int64_t rint_(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }
static bool chance(int pct) { return (int)(rnd() % 100) < pct; }

static bool server_time;
static const char *ns = "df";

#define NTENANTS 4

/* ---- random policy ------------------------------------------------------ */

static const char *methods[] = {"GET", "POST", "ANY"};
static const char *patterns[] = {"/v1/*", "/v1/items", "/v1/*/x", "/", "/v2/*", "/*",
                                 "/v1/items/*", "/v1/*/*/c"};
#define NPATTERNS (sizeof patterns / sizeof *patterns)

/* A template level (`group *`, `key *`, `tenant *`): compared by address,
 * so that a listed subject literally named "*" stays possible. */
static const char ANY[] = "*";

/* The rule's "subject" below the tenant (SPEC.md 5.5): (kind, name) pairs,
 * NULL ended, as "kind:name/..." (ANY for a template level: "kind*"), or
 * NULL for the tenant itself, which the plan leaves out. */
static json_t *subject_of(const char *const *sub)
{
    if (!sub || !sub[0])
        return NULL;
    buf b;
    buf_init(&b, 1 << 16);
    for (size_t i = 0; sub[i]; i += 2)
        plan_subject_seg(&b, i == 0, sub[i], strlen(sub[i]),
                         sub[i + 1] == ANY ? NULL : sub[i + 1],
                         sub[i + 1] == ANY ? 0 : strlen(sub[i + 1]));
    json_t *s = json_string(buf_str(&b));
    buf_free(&b);
    return s;
}

static void random_id(char out[17])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[i] = hx[rnd() % 16];
    out[16] = '\0';
}

static json_t *random_rule(const char *const *sub)
{
    char id[17];
    random_id(id);
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(id));
    json_t *subj = subject_of(sub);
    if (subj)
        json_object_set_new(r, "subject", subj);
    if (chance(25)) {
        json_object_set_new(r, "route",
                            json_pack("{s:s,s:s}", "method", methods[rnd() % 3], "path",
                                      patterns[rnd() % NPATTERNS]));
    } else {
        json_object_set_new(r, "route", json_null());
    }
    json_object_set_new(r, "shadow", json_boolean(chance(20)));
    if (chance(12)) {
        json_object_set_new(r, "kind", json_string("concurrency"));
        json_object_set_new(r, "max", json_integer(rint_(1, 5)));
        json_object_set_new(r, "lease_ms",
                            json_integer(server_time ? rint_(5, 80) : rint_(20, 5000)));
        return r;
    }
    static const char *algos[] = {"token_bucket", "gcra", "sliding_window", "fixed_window",
                                  "approx_sliding_window"};
    static const int64_t cwin[] = {1, 7, 50, 100, 250, 1000, 60000, 3600000};
    static const int64_t swin[] = {3, 10, 20, 50, 100, 300};
    /* Mostly small counts, so limits bind; some large, so an exact sliding
     * window's log grows to hundreds of entries. */
    const char *algo = algos[rnd() % 5];
    int64_t count = chance(85) ? rint_(1, 25) : rint_(100, 1500);
    json_object_set_new(r, "kind", json_string("rate"));
    json_object_set_new(r, "algorithm", json_string(algo));
    json_object_set_new(r, "count", json_integer(count));
    json_object_set_new(r, "window_ms",
                        json_integer(server_time ? swin[rnd() % 6] : cwin[rnd() % 8]));
    json_object_set_new(r, "burst", json_integer(chance(50) ? count : rint_(1, 40)));
    json_object_set_new(r, "cost", json_integer(chance(70) ? 1 : rint_(2, 3)));
    return r;
}

/* 0 to 2 random rules of one subject. */
static void some_rules(json_t *rules, const char *const *sub)
{
    int n = (int)rint_(0, 2);
    for (int i = 0; i < n; i++)
        json_array_append_new(rules, random_rule(sub));
}

/* The own rules of tenants t0 and t1: one rule of algorithm algo, not a
 * shadow and without a route, so that a request for the tenant alone (or
 * for names below it that reach no other rule) is decided by one rule: the
 * library decides a token bucket or a fixed window alone where it computes
 * it, apart from the plans of several rules. */
static void lone_rule(json_t *rules, const char *algo)
{
    json_t *r = random_rule(NULL);
    while (strcmp(json_string_value(json_object_get(r, "kind")), "rate")) {
        json_decref(r);
        r = random_rule(NULL);
    }
    json_object_set_new(r, "algorithm", json_string(algo));
    json_object_set_new(r, "shadow", json_false());
    json_object_set_new(r, "route", json_null());
    json_array_append_new(rules, r);
}

/* The subjects of one tenant (tenant "*" for `tenant *`): listed groups
 * and keys, and, each by chance, `group *`, `key *` under a group (listed
 * or template) and `key *` right under the tenant, beside listed ones.
 * One listed name, "a/b:%", has a '/' and '%' a request sends encoded
 * ('a%2Fb:%25') and a ':' it sends as is. */
static json_t *tenant_rules(const char *tn)
{
    json_t *rules = json_array();
    if (tn != ANY && !strcmp(tn, "t0"))
        lone_rule(rules, "token_bucket");
    else if (tn != ANY && !strcmp(tn, "t1"))
        lone_rule(rules, "fixed_window");
    else
        some_rules(rules, NULL);
    bool any_group = chance(tn == ANY ? 80 : 50), any_key = chance(50);
    const char *groups[] = {"g0", "g1", "a/b:%", ANY};
    for (int g = 0; g < 4; g++) {
        if ((g == 3 && !any_group) || (g == 2 && !chance(30)))
            continue;
        const char *gsub[] = {"group", groups[g], NULL};
        some_rules(rules, gsub);
        const char *keys[] = {"k0", "k1", ANY};
        for (int k = 0; k < 3; k++) {
            if (k == 2 && !chance(60))
                continue;
            const char *ksub[] = {"group", groups[g], "key", keys[k], NULL};
            some_rules(rules, ksub);
        }
    }
    const char *keys[] = {"k0", "a/b:%", ANY};
    for (int k = 0; k < 3; k++) {
        if (k == 2 && !any_key)
            continue;
        const char *ksub[] = {"key", keys[k], NULL};
        some_rules(rules, ksub);
    }
    return rules;
}

static json_t *random_plan(int64_t skew)
{
    json_t *plan = json_object();
    json_object_set_new(plan, "policy",
                        json_pack("{s:s,s:s,s:I,s:s,s:s}", "name", "diff", "namespace", ns,
                                  "max_clock_skew_ms", (json_int_t)skew, "time_source",
                                  server_time ? "server" : "client", "on_store_error",
                                  "fail_open"));
    json_t *tenants = json_array();
    for (int t = 0; t < NTENANTS; t++) {
        char tn[16];
        snprintf(tn, sizeof tn, "t%d", t);
        json_array_append_new(tenants, json_pack("{s:s,s:o}", "name", tn, "rules",
                                                 tenant_rules(tn)));
    }
    json_object_set_new(plan, "tenants", tenants);
    json_object_set_new(plan, "tenant_template",
                        json_pack("{s:s,s:o}", "version", "0000000000000000", "rules",
                                  tenant_rules(ANY)));
    return plan;
}

/* Whether rule r's path has a template level: its counters are per value. */
static bool per_value(const json_t *r)
{
    const json_t *path = json_object_get(r, "path");
    for (size_t i = 0; i < json_array_size(path); i++)
        if (json_is_null(json_object_get(json_array_get(path, i), "name")))
            return true;
    return false;
}

static void redeploy_rules(json_t *rules)
{
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        if (chance(30)) {
            char id[17];
            random_id(id);
            json_object_set_new(r, "id", json_string(id));
        }
        /* A template's counters are per value and not re-timed by a
         * redeploy (SPEC.md 6.2): a retune may only shorten the time their
         * states take to become absent, so their counts only grow. */
        json_t *count = json_object_get(r, "count");
        if (chance(50) && count)
            json_object_set_new(r, "count",
                                json_integer(per_value(r) ? rint_(json_integer_value(count),
                                                                  json_integer_value(count) + 25)
                                                          : rint_(1, 25)));
        /* A bucket's burst only shrinks: a key that expired full would be
         * full at a raised burst in Redis and refilling in the simulator,
         * which keeps no expiries (SPEC.md 6.5). */
        json_t *burst = json_object_get(r, "burst");
        if (chance(50) && burst)
            json_object_set_new(r, "burst", json_integer(rint_(1, json_integer_value(burst))));
        if (chance(30) && json_object_get(r, "max"))
            json_object_set_new(r, "max", json_integer(rint_(1, 5)));
        if (chance(20))
            json_object_set_new(r, "shadow", json_boolean(chance(20)));
    }
}

/* A redeploy: retune numbers and shadow (identity kept: counters survive),
 * give some rules a new id (identity changed: counters start over). */
static void redeploy_plan(json_t *plan)
{
    json_t *tenants = json_object_get(plan, "tenants");
    for (size_t t = 0; t < json_array_size(tenants); t++)
        redeploy_rules(json_object_get(json_array_get(tenants, t), "rules"));
    redeploy_rules(json_object_get(json_object_get(plan, "tenant_template"), "rules"));
}

/* ---- Redis -------------------------------------------------------------- */

static redisContext *rc;
static char script_sha[64];
static bool use_eval;
/* --no-twins: configs as a deploy for FUNCTION LOAD writes them, which the
 * EVALSHA script then resolves in full. */
static bool no_twins;

static redisReply *cmd_argv(int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(rc, argc, argv, lens);
    if (!r) {
        fprintf(stderr, "differential: redis: %s\n", rc->errstr);
        exit(2);
    }
    return r;
}

static void must_ok(redisReply *r, const char *what)
{
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "differential: %s: %s\n", what, r->str);
        exit(2);
    }
    freeReplyObject(r);
}

static void install(const rl_ruleset *rs, long long now)
{
    redis_cmds cmds = {0};
    for (size_t t = 0; t < rs->ntenants; t++) {
        char ver[REDIS_CONFIG_VERSION_LEN + 1];
        redis_config_tenant(rs, &rs->tenants[t], use_eval ? script_sha : NULL,
                            server_time ? -1 : now, &cmds, ver);
    }
    for (size_t i = 0; i < cmds.n; i++) {
        redis_cmd *c = &cmds.v[i];
        int argc = c->argc;
        if (no_twins && !strcmp(c->argv[0], "HSET")) {
            /* As a deploy for FUNCTION LOAD writes it: the twins left
             * out, the rest in place. */
            argc = 2;
            for (int a = 2; a + 1 < c->argc; a += 2) {
                const char *f = c->argv[a];
                if (redis_config_is_twin(f))
                    continue;
                c->argv[argc] = c->argv[a];
                c->argvlen[argc++] = c->argvlen[a];
                c->argv[argc] = c->argv[a + 1];
                c->argvlen[argc++] = c->argvlen[a + 1];
            }
        }
        must_ok(cmd_argv(argc, (const char **)c->argv, c->argvlen), c->argv[0]);
    }
    redis_cmds_free(&cmds);
}

/* The alterations --mutate, --mutate-template, --mutate-lone and
 * --mutate-twin make to the library: a token bucket that charges one unit
 * more than it should; a template's value whose ':' is not encoded in its
 * counter key, so that the values "u1:log" and "u1" share a key (and "x:y",
 * "x%3Ay" no longer do); a token bucket decided alone (a plan of one rule)
 * that answers one unit more remaining than it has; the EVALSHA script's
 * resolution of a listed path (from its fields' twins) reading every
 * rule's cost one unit higher. */
static const char *const mutations[][2] = {
    {"local units = ck * W\n", "local units = ck * W + 1\n"},
    {"suf = suf .. '/' .. gsub(name, ':', '%%3A')", "suf = suf .. '/' .. name"},
    {"1, r.id, q, reset, 0, now, ''", "1, r.id, q + 1, reset, 0, now, ''"},
    {"n3 = n3, n4 = n4}", "n3 = n3, n4 = n4 + 1}"},
};
static int mutation = -1;

static char *mutated(const char *src, size_t len)
{
    const char *from = mutations[mutation][0], *to = mutations[mutation][1];
    size_t fl = strlen(from), tl = strlen(to);
    char *s = malloc(len + tl + 1);
    memcpy(s, src, len);
    s[len] = '\0';
    char *p = strstr(s, from);
    if (!p) {
        fprintf(stderr, "differential: --mutate: the code to alter is gone\n");
        exit(2);
    }
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
    return s;
}

/* The library as a deploy loads it: composed with the plan's `tenant *`
 * (SPEC.md 6.2), FUNCTION LOAD REPLACE, or SCRIPT LOAD of the text after
 * its first line (which then gives the sha the configs name). */
static void load_library(const rl_ruleset *rs)
{
    size_t len;
    const char *src = redis_library_function(&len);
    if (!src) {
        fprintf(stderr, "differential: this build embeds no enforce.lua\n");
        exit(2);
    }
    char *m = mutation >= 0 ? mutated(src, len) : NULL;
    if (m) {
        src = m;
        len = strlen(m);
    }
    buf lib;
    buf_init(&lib, BUF_DEFAULT_MAX);
    if (!redis_library_compose(rs, src, len, &lib)) {
        fprintf(stderr, "differential: cannot compose the library with tenant *\n");
        exit(2);
    }
    if (use_eval) {
        buf script;
        buf_init(&script, BUF_DEFAULT_MAX);
        if (!redis_library_evalsha(lib.data, lib.len, &script)) {
            fprintf(stderr, "differential: cannot make the EVALSHA script\n");
            exit(2);
        }
        const char *argv[] = {"SCRIPT", "LOAD", script.data};
        size_t lens[] = {6, 4, script.len};
        redisReply *r = cmd_argv(3, argv, lens);
        buf_free(&script);
        if (r->type != REDIS_REPLY_STRING) {
            fprintf(stderr, "differential: SCRIPT LOAD: %s\n", r->str ? r->str : "?");
            exit(2);
        }
        snprintf(script_sha, sizeof script_sha, "%s", r->str);
        freeReplyObject(r);
    } else {
        const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", lib.data};
        size_t lens[] = {8, 4, 7, lib.len};
        must_ok(cmd_argv(4, argv, lens), "FUNCTION LOAD");
    }
    buf_free(&lib);
    free(m);
}

/* ---- one request through both ------------------------------------------- */

typedef struct answer {
    bool error;
    char err[160];
    long long allowed, remaining, reset, retry, now;
    char rule[32], lease[160], shadow[512];
} answer;

static void fmt_answer(const answer *a, char *out, size_t n)
{
    if (a->error)
        snprintf(out, n, "error %s", a->err);
    else
        snprintf(out, n,
                 "allowed=%lld rule=%s remaining=%lld reset=%lld retry=%lld now=%lld "
                 "lease=%s shadow=[%s]",
                 a->allowed, a->rule[0] ? a->rule : "-", a->remaining, a->reset, a->retry,
                 a->now, a->lease[0] ? a->lease : "-", a->shadow);
}

/* Room for a path a little over the 1024 bytes a request may send. */
#define REQ_PATH_MAX 1100

/* Requests are pipelined in batches: appended in order, answered in order,
 * and only then replayed through the simulator, one by one. */
typedef struct op {
    bool release;
    char tenant[48], path[REQ_PATH_MAX], method[8], route[32], lease[160], key[160];
    long long cost, now, index;
} op;

static void append_op(const op *o)
{
    char costs[32], nows[32] = "";
    snprintf(costs, sizeof costs, "%lld", o->cost);
    if (!server_time)
        snprintf(nows, sizeof nows, "%lld", o->now);
    const char *argv[12];
    int argc = 0;
    if (use_eval) {
        argv[argc++] = "EVALSHA";
        argv[argc++] = script_sha;
        argv[argc++] = "1";
        argv[argc++] = o->key;
        argv[argc++] = o->release ? "release" : "decide";
    } else {
        argv[argc++] = "FCALL";
        argv[argc++] = o->release ? "rlc_release" : "rlc_decide";
        argv[argc++] = "1";
        argv[argc++] = o->key;
    }
    argv[argc++] = o->path;
    argv[argc++] = o->method;
    argv[argc++] = o->route;
    if (!o->release)
        argv[argc++] = costs;
    else
        argv[argc++] = o->lease;
    argv[argc++] = nows;
    if (!o->release)
        argv[argc++] = o->lease;
    size_t lens[12];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (redisAppendCommandArgv(rc, argc, argv, lens) != REDIS_OK) {
        fprintf(stderr, "differential: redis: %s\n", rc->errstr);
        exit(2);
    }
}

static redisReply *next_reply(void)
{
    void *r = NULL;
    if (redisGetReply(rc, &r) != REDIS_OK || !r) {
        fprintf(stderr, "differential: redis: %s\n", rc->errstr);
        exit(2);
    }
    return r;
}

static void parse_decide(redisReply *r, answer *a)
{
    memset(a, 0, sizeof *a);
    if (r->type == REDIS_REPLY_ERROR) {
        a->error = true;
        /* "RLC_NOCONFIG ..." -> the code only */
        snprintf(a->err, sizeof a->err, "%.*s", (int)strcspn(r->str, " "), r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements < 7) {
        fprintf(stderr, "differential: unexpected reply type %d\n", r->type);
        exit(2);
    } else {
        redisReply **e = r->element;
        a->allowed = e[0]->integer;
        snprintf(a->rule, sizeof a->rule, "%s", e[1]->str);
        a->remaining = e[2]->integer;
        a->reset = e[3]->integer;
        a->retry = e[4]->integer;
        a->now = e[5]->integer;
        snprintf(a->lease, sizeof a->lease, "%s", e[6]->str);
        size_t k = 0;
        /* The ids of shadow rules that would have rejected follow the
         * seven fixed fields. */
        for (size_t i = 7; i < r->elements; i++) {
            if (e[i]->type != REDIS_REPLY_STRING) {
                fprintf(stderr, "differential: shadow id %zu is not a string\n", i - 7);
                exit(2);
            }
            k += (size_t)snprintf(a->shadow + k, sizeof a->shadow - k, "%s%s", i > 7 ? "," : "",
                                  e[i]->str);
        }
    }
}

static void sim_answer(sim_status st, const sim_decision *d, answer *a)
{
    memset(a, 0, sizeof *a);
    if (st != SIM_OK) {
        a->error = true;
        snprintf(a->err, sizeof a->err, "%s",
                 st == SIM_NO_TENANT ? "RLC_NOCONFIG" : "RLC_BADARG");
        return;
    }
    a->allowed = d->allowed;
    snprintf(a->rule, sizeof a->rule, "%s", d->rule ? d->rule->id : "");
    a->remaining = d->remaining;
    a->reset = d->reset_ms;
    a->retry = d->retry_ms;
    a->now = d->now_ms;
    snprintf(a->lease, sizeof a->lease, "%s", d->lease);
    size_t k = 0;
    for (size_t i = 0; i < d->nshadow; i++)
        k += (size_t)snprintf(a->shadow + k, sizeof a->shadow - k, "%s%s", i ? "," : "",
                              d->shadow[i]->id);
}

/* ---- random requests ---------------------------------------------------- */

/* A name no policy lists: mostly from a small pool, so that the counters of
 * a template's values fill up; sometimes a fresh random one.  ':' is sent
 * as is, '%' escapes as the gateway sends them (or not quite: '%2f',
 * a lone '%'), never a raw '/'. */
static void fresh_name(char *out, size_t n)
{
    static const char *pool[] = {"u1", "u2", "x:y", "a%2Fb", "%25", "z%3Az", "a%2fb:%25",
                                 ":", "k0:", "%", "%2F%2F", "*", "g0%3A", "caf\xc3\xa9", "u1:log", "x%3Ay"};
    if (chance(75)) {
        snprintf(out, n, "%s", pool[rnd() % (sizeof pool / sizeof *pool)]);
        return;
    }
    static const char alpha[] = "abk09:%2F-_.*";
    size_t len = (size_t)rint_(1, 10);
    for (size_t i = 0; i < len && i + 1 < n; i++)
        out[i] = alpha[rnd() % (sizeof alpha - 1)];
    out[len < n ? len : n - 1] = '\0';
}

/* Listed tenants mostly; unlisted ones are decided by `tenant *` (or are
 * RLC_NOCONFIG without it): their active key is absent. */
static void random_tenant(char *out, size_t n)
{
    int r = (int)(rnd() % 100);
    if (r < 80)
        snprintf(out, n, "t%d", (int)(rnd() % NTENANTS));
    else if (r < 99)
        fresh_name(out, n);
    else
        snprintf(out, n, "%s", "");
}

/* Up to 3 segments, each naming a listed group or key (as sent: '/' and '%'
 * of "a/b:%" encoded), an unlisted name (a template's value, or nothing at
 * that level), now and then a malformed segment or a path over 1024 bytes. */
static void random_path(char *out, size_t n)
{
    static const char *sent[] = {"g0", "g1", "k0", "k1", "a%2Fb:%25"};
    size_t k = 0;
    int nseg = (int)rint_(0, 3);
    out[0] = '\0';
    for (int i = 0; i < nseg; i++) {
        const char *kind = (i == 0 ? chance(70) : chance(30)) ? "group" : "key";
        char name[32];
        if (chance(55))
            snprintf(name, sizeof name, "%s", sent[rnd() % (sizeof sent / sizeof *sent)]);
        else
            fresh_name(name, sizeof name);
        k += (size_t)snprintf(out + k, n - k, "%s%s:%s", i ? "/" : "", kind, name);
    }
    int r = (int)(rnd() % 1000);
    if (r < 5) {
        /* 1019 to 1029 bytes: both sides of the 1024-byte limit */
        size_t want = (size_t)rint_(1019, 1029);
        k += (size_t)snprintf(out + k, n - k, "%skey:", k ? "/" : "");
        while (k < want && k + 1 < n)
            out[k++] = 'x';
        out[k] = '\0';
    } else if (r < 12) {
        static const char *bad[] = {"group:", "key:a/", "user:x", "/key:a", "group:g0//key:k0",
                                    "key"};
        snprintf(out, n, "%s", bad[rnd() % (sizeof bad / sizeof *bad)]);
    }
}

/* ---- main --------------------------------------------------------------- */

typedef struct held {
    char tenant[48], path[REQ_PATH_MAX], method[8], route[32], lease[160];
} held;

#define BATCH 64

int main(int argc, char **argv)
{
    int port = 0;
    long long seed = 1, nreq = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            nreq = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            use_eval = !strcmp(argv[++i], "eval");
        else if (!strcmp(argv[i], "--time") && i + 1 < argc)
            server_time = !strcmp(argv[++i], "server");
        else if (!strcmp(argv[i], "--mutate"))
            mutation = 0;
        else if (!strcmp(argv[i], "--mutate-template"))
            mutation = 1;
        else if (!strcmp(argv[i], "--no-twins"))
            no_twins = true;
        else if (!strcmp(argv[i], "--mutate-twin"))
            mutation = 3;
        else if (!strcmp(argv[i], "--mutate-lone"))
            mutation = 2;
        else {
            fprintf(stderr, "usage: differential --port P [--seed S] [--requests N] "
                            "[--mode fcall|eval] [--no-twins] [--time client|server] "
                            "[--mutate|--mutate-template|--mutate-lone|--mutate-twin]\n");
            return 2;
        }
    }
    rng_state ^= (uint64_t)seed * 0x9E3779B97F4A7C15ULL;
    rnd();
    struct timeval tv = {5, 0};
    rc = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!rc || rc->err) {
        fprintf(stderr, "differential: cannot connect to 127.0.0.1:%d\n", port);
        return 2;
    }
    redisSetTimeout(rc, tv);
    /* The server belongs to this test: start from nothing. */
    must_ok(cmd_argv(1, (const char *[]){"FLUSHALL"}, (size_t[]){8}), "FLUSHALL");

    /* Client time: the largest skew keeps wall-clock expiry out of the way,
     * since the virtual clock runs far ahead of the real one.  Server time:
     * no skew, short windows, and real expiries happen during the run. */
    int64_t skew = server_time ? 0 : 3600000;
    json_t *plan = random_plan(skew);
    rl_ruleset rs[2];
    char err[256];
    if (!rules_from_plan(plan, &rs[0], err, sizeof err)) {
        fprintf(stderr, "differential: %s\n", err);
        return 2;
    }
    load_library(&rs[0]);
    install(&rs[0], 1700000000000LL);
    sim *sm = sim_new(&rs[0]);
    int cur = 0;

    static const char *req_methods[] = {"GET", "POST", "DELETE"};
    /* Routes as a gateway sends them: a few repeated, empty segments and
     * slashes, and concrete URLs mostly never seen before. */
    static const char *routes[] = {"/v1/items", "/v1/a/x", "/v1/a/b/c", "/v2", "/", "/v2/q",
                                   "", "v1/items", "/v1//items/", "/v1/items/7/x"};
    held *hold = calloc(4096, sizeof *hold);
    op *ops = calloc(2 * BATCH, sizeof *ops);
    size_t nheld = 0;
    long long now = 1700000000000LL, nallowed = 0, nreleased = 0, nshadow = 0, nrej = 0;
    /* What the run covered: decisions for unlisted tenants, decisions a
     * template rule took part in (and rejections by one), errors. */
    long long nunlisted = 0, ntmpl = 0, ntmplrej = 0, nerr = 0;
    int status = 0;
    long long i = 0;
    while (i < nreq) {
        if (i >= nreq / 2 && i < nreq / 2 + BATCH && cur == 0 && nreq >= 2) {
            redeploy_plan(plan);
            /* Every fourth seed redeploys without `tenant *`: unlisted
             * tenants turn RLC_NOCONFIG. */
            if (seed % 4 == 0)
                json_object_del(plan, "tenant_template");
            if (!rules_from_plan(plan, &rs[1], err, sizeof err)) {
                fprintf(stderr, "differential: redeploy: %s\n", err);
                status = 2;
                goto done;
            }
            load_library(&rs[1]);
            install(&rs[1], now);
            sim_set_rules(sm, &rs[1]);
            rules_free(&rs[0]);
            cur = 1;
        }
        if (server_time && chance(10))
            usleep((useconds_t)rint_(1, 25) * 1000);
        size_t nops = 0;
        for (int b = 0; b < BATCH && i < nreq; b++, i++) {
            if (!server_time) {
                int r = (int)(rnd() % 100);
                if (r < 60)
                    now += rint_(0, 5);
                else if (r < 88)
                    now += rint_(5, 300);
                else if (r < 94)
                    now += rint_(1000, 4000000);
                else
                    now -= rint_(1, 700);
            }
            if (nheld > 0 && chance(25)) {
                size_t k = (size_t)(rnd() % nheld);
                op *o = &ops[nops++];
                memset(o, 0, sizeof *o);
                o->release = true;
                snprintf(o->tenant, sizeof o->tenant, "%s", hold[k].tenant);
                snprintf(o->path, sizeof o->path, "%s", hold[k].path);
                snprintf(o->method, sizeof o->method, "%s", hold[k].method);
                snprintf(o->route, sizeof o->route, "%s", hold[k].route);
                snprintf(o->lease, sizeof o->lease, "%s", hold[k].lease);
                o->now = now;
                hold[k] = hold[--nheld];
            }
            op *o = &ops[nops++];
            memset(o, 0, sizeof *o);
            random_tenant(o->tenant, sizeof o->tenant);
            random_path(o->path, sizeof o->path);
            snprintf(o->method, sizeof o->method, "%s", req_methods[rnd() % 3]);
            if (chance(30))
                snprintf(o->route, sizeof o->route, chance(50) ? "/v1/items/%u" : "/v1/%u/x",
                         (unsigned)(rnd() % 1000000));
            else
                snprintf(o->route, sizeof o->route, "%s",
                         routes[rnd() % (sizeof routes / sizeof *routes)]);
            o->cost = chance(65) ? 1 : chance(85) ? rint_(2, 4) : rint_(20, 60);
            o->now = now;
            o->index = i;
            if (chance(80))
                snprintf(o->lease, sizeof o->lease, "L%lld", i);
        }
        for (size_t k = 0; k < nops; k++) {
            char *tag = plan_key_tag(ns, ops[k].tenant);
            snprintf(ops[k].key, sizeof ops[k].key, "%s:active", tag);
            free(tag);
            append_op(&ops[k]);
        }
        for (size_t k = 0; k < nops; k++) {
            op *o = &ops[k];
            redisReply *r = next_reply();
            if (o->release) {
                /* A release for a tenant whose config went away (an
                 * unlisted one, after a redeploy without `tenant *`) is
                 * an error on both sides. */
                bool rerr = r->type == REDIS_REPLY_ERROR;
                if (!rerr && (r->type != REDIS_REPLY_ARRAY || r->elements != 2)) {
                    fprintf(stderr, "differential: release: %s\n", r->str ? r->str : "bad reply");
                    status = 2;
                    goto done;
                }
                char rcode[32] = "";
                if (rerr)
                    snprintf(rcode, sizeof rcode, "%.*s", (int)strcspn(r->str, " "), r->str);
                long long got = rerr ? 0 : r->element[0]->integer;
                long long rnow = rerr ? o->now : r->element[1]->integer;
                freeReplyObject(r);
                int64_t want = 0;
                sim_status st = sim_release(sm, o->tenant, o->path, o->method, o->route,
                                            o->lease, server_time ? rnow : o->now, &want);
                const char *scode = st == SIM_OK          ? ""
                                    : st == SIM_NO_TENANT ? "RLC_NOCONFIG"
                                                          : "RLC_BADARG";
                if (got != want || strcmp(rcode, scode) != 0) {
                    printf("DIVERGED at release (seed %lld): tenant=%s path=%s lease=%s now=%lld: "
                           "redis released %lld%s%s, simulator %lld%s%s\n",
                           seed, o->tenant, o->path, o->lease, rnow, got, rerr ? " " : "", rcode,
                           (long long)want, st ? " " : "", scode);
                    status = 1;
                    goto done;
                }
                nreleased += got;
                continue;
            }
            answer ra, sa;
            parse_decide(r, &ra);
            freeReplyObject(r);
            long long t = server_time && !ra.error ? ra.now : o->now;
            sim_decision d;
            sim_status st = sim_decide(sm, o->tenant, o->path, o->method, o->route, o->cost, t,
                                       o->lease, &d);
            sim_answer(st, &d, &sa);
            if (memcmp(&ra, &sa, sizeof ra) != 0) {
                char rb[1024], sb[1024];
                fmt_answer(&ra, rb, sizeof rb);
                fmt_answer(&sa, sb, sizeof sb);
                printf("DIVERGED at request %lld (seed %lld, %s, %s time):\n"
                       "  request:   tenant=%s path=%s method=%s route=%s cost=%lld now=%lld "
                       "lease=%s\n  redis:     %s\n  simulator: %s\n",
                       o->index, seed, use_eval ? "EVALSHA" : "FCALL",
                       server_time ? "server" : "client", o->tenant, o->path[0] ? o->path : "(tenant)", o->method, o->route,
                       o->cost, t, o->lease[0] ? o->lease : "-", rb, sb);
                for (size_t oi = 0; oi < d.noutcomes; oi++) {
                    const rl_rule *ru = d.outcomes[oi].rule;
                    printf("  rule %s (simulator): %s %lld/%lldms burst %lld cost %lld%s\n", ru->id,
                           plan_kind_name(ru->kind), (long long)ru->count,
                           (long long)ru->window_ms, (long long)ru->burst, (long long)ru->cost,
                           ru->shadow ? " shadow" : "");
                }
                status = 1;
                goto done;
            }
            if (!ra.error && ra.allowed) {
                nallowed++;
                if (ra.lease[0] && nheld < 4096) {
                    held *h = &hold[nheld++];
                    snprintf(h->tenant, sizeof h->tenant, "%s", o->tenant);
                    snprintf(h->path, sizeof h->path, "%s", o->path);
                    snprintf(h->method, sizeof h->method, "%s", o->method);
                    snprintf(h->route, sizeof h->route, "%s", o->route);
                    snprintf(h->lease, sizeof h->lease, "%s", ra.lease);
                }
            } else if (!ra.error) {
                nrej++;
            }
            if (!ra.error && ra.shadow[0])
                nshadow++;
            if (ra.error) {
                nerr++;
                continue;
            }
            if (!rules_tenant(&rs[cur], o->tenant))
                nunlisted++;
            bool tmpl = false;
            for (size_t oi = 0; oi < d.noutcomes; oi++)
                tmpl |= d.outcomes[oi].rule->any_mask != 0;
            ntmpl += tmpl;
            ntmplrej += tmpl && !ra.allowed && d.rule && d.rule->any_mask;
        }
    }
    printf("# %lld requests identical (%lld allowed, %lld rejected, %lld with shadow rejections, "
           "%lld leases released; %lld for unlisted tenants, %lld with template rules, %lld "
           "rejected by one, %lld errors), seed %lld, %s, %s time\n",
           nreq, nallowed, nrej, nshadow, nreleased, nunlisted, ntmpl, ntmplrej, nerr, seed,
           use_eval ? "EVALSHA" : "FCALL", server_time ? "server" : "client");
    /* The script left loaded, for calls by hand after the run. */
    if (use_eval)
        printf("script %s\n", script_sha);
done:
    /* Freed on every path: a leak report must not replace the answer. */
    fflush(stdout);
    free(ops);
    sim_free(sm);
    rules_free(&rs[cur]);
    json_decref(plan);
    free(hold);
    redisFree(rc);
    return status;
}
