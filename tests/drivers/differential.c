/* differential.c - proves stdlib/enforce.lua (in a real redis-server) and
 * the C simulator decide identically.  Generates random tenants (three-level
 * hierarchies, every algorithm, shadow limits, routes, concurrency), installs
 * them with the commands of runtime/redis_config.c, replays random requests
 * (costs > 1, time jumps forward and back, lease releases, a redeploy that
 * keeps some rule identities and changes others) through both, and compares
 * every field of every answer.  The first divergence is printed with both
 * answers and the exit status is 1.
 *
 *   differential --port P [--seed S] [--requests N] [--mode fcall|eval]
 *                [--time client|server] [--mutate]
 *
 * --time server: Redis reads its own clock; the simulator is fed the time
 * the server reports in each answer.  --mutate changes one constant of the
 * library before loading it, to show that this test can fail. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
static const char *patterns[] = {"/v1/*", "/v1/items", "/v1/*/x", "/", "/v2/*"};

static json_t *subject_path(const char *tenant, const char *group, const char *key)
{
    json_t *a = json_array();
    json_array_append_new(a, json_pack("{s:s,s:s}", "kind", "tenant", "name", tenant));
    if (group)
        json_array_append_new(a, json_pack("{s:s,s:s}", "kind", "group", "name", group));
    if (key)
        json_array_append_new(a, json_pack("{s:s,s:s}", "kind", "key", "name", key));
    return a;
}

static void random_id(char out[17])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[i] = hx[rnd() % 16];
    out[16] = '\0';
}

static json_t *random_rule(const char *tenant, const char *group, const char *key)
{
    char id[17];
    random_id(id);
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "path", subject_path(tenant, group, key));
    if (chance(25)) {
        json_object_set_new(r, "route",
                            json_pack("{s:s,s:s}", "method", methods[rnd() % 3], "path",
                                      patterns[rnd() % 5]));
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
        json_t *rules = json_array();
        int n = (int)rint_(0, 2);
        for (int i = 0; i < n; i++)
            json_array_append_new(rules, random_rule(tn, NULL, NULL));
        for (int g = 0; g < 2; g++) {
            char gn[16];
            snprintf(gn, sizeof gn, "g%d", g);
            n = (int)rint_(0, 2);
            for (int i = 0; i < n; i++)
                json_array_append_new(rules, random_rule(tn, gn, NULL));
            for (int k = 0; k < 2; k++) {
                char kn[16];
                snprintf(kn, sizeof kn, "k%d", k);
                n = (int)rint_(0, 2);
                for (int i = 0; i < n; i++)
                    json_array_append_new(rules, random_rule(tn, gn, kn));
            }
        }
        json_array_append_new(tenants, json_pack("{s:s,s:o}", "name", tn, "rules", rules));
    }
    json_object_set_new(plan, "tenants", tenants);
    return plan;
}

/* A redeploy: retune numbers and shadow (identity kept: counters survive),
 * give some rules a new id (identity changed: counters start over). */
static void redeploy_plan(json_t *plan)
{
    json_t *tenants = json_object_get(plan, "tenants");
    for (size_t t = 0; t < json_array_size(tenants); t++) {
        json_t *rules = json_object_get(json_array_get(tenants, t), "rules");
        for (size_t i = 0; i < json_array_size(rules); i++) {
            json_t *r = json_array_get(rules, i);
            if (chance(30)) {
                char id[17];
                random_id(id);
                json_object_set_new(r, "id", json_string(id));
            }
            if (chance(50) && json_object_get(r, "count"))
                json_object_set_new(r, "count", json_integer(rint_(1, 25)));
            /* A bucket's burst only shrinks: a key that expired full would be
             * full at a raised burst in Redis and refilling in the simulator,
             * which keeps no expiries (SPEC.md 6.5). */
            json_t *burst = json_object_get(r, "burst");
            if (chance(50) && burst)
                json_object_set_new(r, "burst",
                                    json_integer(rint_(1, json_integer_value(burst))));
            if (chance(30) && json_object_get(r, "max"))
                json_object_set_new(r, "max", json_integer(rint_(1, 5)));
            if (chance(20))
                json_object_set_new(r, "shadow", json_boolean(chance(20)));
        }
    }
}

/* ---- Redis -------------------------------------------------------------- */

static redisContext *rc;
static char script_sha[64];
static bool use_eval;

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
    for (size_t i = 0; i < cmds.n; i++)
        must_ok(cmd_argv(cmds.v[i].argc, (const char **)cmds.v[i].argv, cmds.v[i].argvlen),
                cmds.v[i].argv[0]);
    redis_cmds_free(&cmds);
}

static char *mutated(const char *src, size_t len)
{
    /* The token bucket charges one unit more than it should. */
    static const char from[] = "local units = cost * k * W\n";
    static const char to[] = "local units = cost * k * W + 1\n";
    char *s = malloc(len + sizeof to);
    memcpy(s, src, len);
    s[len] = '\0';
    char *p = strstr(s, from);
    if (!p) {
        fprintf(stderr, "differential: --mutate: the constant to alter is gone\n");
        exit(2);
    }
    memmove(p + sizeof to - 1, p + sizeof from - 1, strlen(p + sizeof from - 1) + 1);
    memcpy(p, to, sizeof to - 1);
    return s;
}

static void load_library(bool mutate)
{
    size_t len;
    const char *src = use_eval ? redis_library_script(&len) : redis_library_function(&len);
    if (!src) {
        fprintf(stderr, "differential: this build embeds no enforce.lua\n");
        exit(2);
    }
    char *m = mutate ? mutated(src, len) : NULL;
    if (m) {
        src = m;
        len = strlen(m);
    }
    if (use_eval) {
        const char *argv[] = {"SCRIPT", "LOAD", src};
        size_t lens[] = {6, 4, len};
        redisReply *r = cmd_argv(3, argv, lens);
        if (r->type != REDIS_REPLY_STRING) {
            fprintf(stderr, "differential: SCRIPT LOAD: %s\n", r->str ? r->str : "?");
            exit(2);
        }
        snprintf(script_sha, sizeof script_sha, "%s", r->str);
        freeReplyObject(r);
    } else {
        const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", src};
        size_t lens[] = {8, 4, 7, len};
        must_ok(cmd_argv(4, argv, lens), "FUNCTION LOAD");
    }
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

/* Requests are pipelined in batches: appended in order, answered in order,
 * and only then replayed through the simulator, one by one. */
typedef struct op {
    bool release;
    char tenant[16], path[64], method[8], route[32], lease[160], key[128];
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
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 8) {
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
        for (size_t i = 0; i < e[7]->elements; i++)
            k += (size_t)snprintf(a->shadow + k, sizeof a->shadow - k, "%s%s", i ? "," : "",
                                  e[7]->element[i]->str);
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

/* ---- main --------------------------------------------------------------- */

typedef struct held {
    char tenant[16], path[64], method[8], route[32], lease[160];
} held;

#define BATCH 64

int main(int argc, char **argv)
{
    int port = 0;
    long long seed = 1, nreq = 20000;
    bool mutate = false;
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
            mutate = true;
        else {
            fprintf(stderr, "usage: differential --port P [--seed S] [--requests N] "
                            "[--mode fcall|eval] [--time client|server] [--mutate]\n");
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
    load_library(mutate);

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
    install(&rs[0], 1700000000000LL);
    sim *sm = sim_new(&rs[0]);
    int cur = 0;

    static const char *paths[] = {"", "group:g0", "group:g1", "group:g0/key:k0",
                                  "group:g0/key:k1", "group:g1/key:k0", "group:g1/key:k1",
                                  "group:g0/key:k9", "group:g7"};
    static const char *req_methods[] = {"GET", "POST", "DELETE"};
    static const char *routes[] = {"/v1/items", "/v1/a/x", "/v1/a/b/c", "/v2", "/", "/v2/q"};
    held *hold = calloc(4096, sizeof *hold);
    op *ops = calloc(2 * BATCH, sizeof *ops);
    size_t nheld = 0;
    long long now = 1700000000000LL, nallowed = 0, nreleased = 0, nshadow = 0, nrej = 0;
    int status = 0;
    long long i = 0;
    while (i < nreq) {
        if (i >= nreq / 2 && i < nreq / 2 + BATCH && cur == 0 && nreq >= 2) {
            redeploy_plan(plan);
            if (!rules_from_plan(plan, &rs[1], err, sizeof err)) {
                fprintf(stderr, "differential: redeploy: %s\n", err);
                status = 2;
                goto done;
            }
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
            snprintf(o->tenant, sizeof o->tenant, "t%d", chance(1) ? 9 : (int)(rnd() % NTENANTS));
            snprintf(o->path, sizeof o->path, "%s", paths[rnd() % 9]);
            snprintf(o->method, sizeof o->method, "%s", req_methods[rnd() % 3]);
            snprintf(o->route, sizeof o->route, "%s", routes[rnd() % 6]);
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
                if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                    fprintf(stderr, "differential: release: %s\n", r->str ? r->str : "bad reply");
                    status = 2;
                    goto done;
                }
                long long got = r->element[0]->integer, rnow = r->element[1]->integer;
                freeReplyObject(r);
                int64_t want = 0;
                sim_release(sm, o->tenant, o->path, o->method, o->route, o->lease,
                            server_time ? rnow : o->now, &want);
                if (got != want) {
                    printf("DIVERGED at release (seed %lld): tenant=%s path=%s lease=%s now=%lld: "
                           "redis released %lld, simulator %lld\n",
                           seed, o->tenant, o->path, o->lease, rnow, got, (long long)want);
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
        }
    }
    printf("# %lld requests identical (%lld allowed, %lld rejected, %lld with shadow rejections, "
           "%lld leases released), seed %lld, %s, %s time\n",
           nreq, nallowed, nrej, nshadow, nreleased, seed, use_eval ? "EVALSHA" : "FCALL",
           server_time ? "server" : "client");
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
