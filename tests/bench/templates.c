/* templates.c - what templates (`tenant *`, `group *`, `key *`) cost in a
 * real redis-server (run by tests/bench/enforce.sh after enforce.c, against
 * the same server).  Three parts, each with its figures, the ratio to its
 * target and PASS or MISS:
 *
 *  1. decisions: the 3-level decision of a listed key of a listed tenant
 *     beside the same decision reached through templates: an unlisted key
 *     of a listed tenant, an unlisted key of one unlisted tenant, and
 *     unlisted keys of many unlisted tenants (keys cycling through 100 000
 *     values, tenants through 1 000).  Pipelined 16, measured in alternating
 *     rounds so that load on the machine falls on every case alike; the
 *     server's µs per call (INFO commandstats) and CPU per call.  Target:
 *     unlisted / listed throughput >= 0.9.
 *  2. memory: INFO used_memory after N distinct values of a `key *` were
 *     each decided once, less before, per value, for every algorithm kind
 *     (windows of an hour: nothing expires meanwhile).  Target: <= 150 bytes
 *     per token-bucket or fixed-window counter.
 *  3. expiry: one tenant's `key *` decided for 1 000 000 distinct values
 *     (pipelined in overlapping batches), then Redis's own active expiry
 *     left to run (no SCAN, no DEBUG) for a bounded time: used_memory
 *     before, at the peak and after.  Target: back to the baseline.
 *
 * Figures, not a test: exits 0 whatever it measures, 2 when it could not
 * measure (no server, a decision refused).
 *
 *   templates --port P [--seconds S] [--mem-keys N] [--expiry-keys N] */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "redis_config.h"
#include "rules.h"
#include "record.h"
#include "redis_stats.h"

static redisContext *rc;

/* Plan JSON pieces (format 3, SPEC.md 5.5): a rule's subject below the
 * tenant ("" for the tenant itself), a rate rule, a concurrency rule. */
#define SUBJ(s) "\"subject\":\"" s "\","
#define RATE(id, algo, count, window, burst, subj)                                        \
    "{\"id\":\"" id "\"," subj "\"route\":null,\"kind\":\"rate\","                        \
    "\"algorithm\":\"" algo "\",\"count\":" count ",\"window_ms\":" window ",\"burst\":"  \
    burst ",\"cost\":1,\"shadow\":false}"
#define TB(id, n, subj) RATE(id, "token_bucket", n, "1000", n, subj)
#define POLICY(ns)                                                                         \
    "\"policy\":{\"name\":\"bench\",\"namespace\":\"" ns "\",\"max_clock_skew_ms\":0,"    \
    "\"time_source\":\"server\",\"on_store_error\":\"fail_open\"}"

/* Part 1: three token buckets on every path, listed or reached through
 * templates, with limits no request of the bench exhausts. */
static const char decide_plan[] =
    "{" POLICY("bt") ",\"tenants\":[{\"name\":\"acme\",\"rules\":["
    TB("0000000000000001", "100000000", "") ","
    TB("0000000000000002", "50000000", SUBJ("group:team-a")) ","
    TB("0000000000000003", "10000000", SUBJ("group:team-a/key:k_123")) ","
    TB("0000000000000004", "10000000", SUBJ("group:team-a/key*"))
    "]}],\"tenant_template\":{\"rules\":["
    TB("0000000000000011", "100000000", "") ","
    TB("0000000000000012", "50000000", SUBJ("group*")) ","
    TB("0000000000000013", "10000000", SUBJ("group*/key*"))
    "]}}";

/* Part 2: tenant "m", one group per algorithm kind, each with a `key *`
 * of a one-hour window (a counter outlives the measurement). */
#define MKEY(id, g, rest)                                                                  \
    "{\"id\":\"" id "\"," SUBJ("group:" g "/key*") "\"route\":null," rest                   \
    ",\"shadow\":false}"
#define MRATE(id, g, algo)                                                                 \
    MKEY(id, g, "\"kind\":\"rate\",\"algorithm\":\"" algo "\",\"count\":10,"               \
                "\"window_ms\":3600000,\"burst\":10,\"cost\":1")
static const char mem_plan[] =
    "{" POLICY("bm") ",\"tenants\":[{\"name\":\"m\",\"rules\":["
    MRATE("00000000000000a1", "token_bucket", "token_bucket") ","
    MRATE("00000000000000a2", "gcra", "gcra") ","
    MRATE("00000000000000a3", "fixed_window", "fixed_window") ","
    MRATE("00000000000000a4", "approx_sliding_window", "approx_sliding_window") ","
    MRATE("00000000000000a5", "sliding_window", "sliding_window") ","
    MKEY("00000000000000a6", "concurrency", "\"kind\":\"concurrency\",\"max\":10,"
                                             "\"lease_ms\":3600000")
    "]}]}";
static const char *const mem_kinds[] = {"token_bucket", "gcra", "fixed_window",
                                        "approx_sliding_window", "sliding_window",
                                        "concurrency"};

/* Part 3: tenant "big", `key * { limit 1/20s }`: each counter lives 20 s
 * after its one decision, longer than the million decisions take, so the
 * peak holds them all; then they expire. */
static const char expiry_plan[] =
    "{" POLICY("bx") ",\"tenants\":[{\"name\":\"big\",\"rules\":["
    RATE("00000000000000b1", "token_bucket", "1", "20000", "1",
         SUBJ("key*"))
    "]}]}";
#define EXPIRY_TTL_S 20

static void load_plan(const char *json, rl_ruleset *rs)
{
    json_error_t je;
    json_t *plan = json_loads(json, 0, &je);
    char err[256];
    if (!plan) {
        fprintf(stderr, "bench: plan JSON: %s\n", je.text);
        exit(2);
    }
    if (!rules_from_plan(plan, rs, err, sizeof err)) {
        fprintf(stderr, "bench: rules: %s\n", err);
        exit(2);
    }
    json_decref(plan);
}

/* Empties the server and deploys rs as `rlc apply` would: the library
 * (with `tenant *` composed in), then every listed tenant's config. */
static void deploy(const rl_ruleset *rs)
{
    freeReplyObject(bench_must(rc, redisCommand(rc, "FLUSHALL SYNC"), "FLUSHALL"));
    size_t len;
    const char *base = redis_library_function(&len);
    buf lib;
    buf_init(&lib, BUF_DEFAULT_MAX);
    if (!base || !redis_library_compose(rs, base, len, &lib)) {
        fprintf(stderr, "bench: cannot compose the library\n");
        exit(2);
    }
    const char *la[] = {"FUNCTION", "LOAD", "REPLACE", lib.data};
    size_t ll[] = {8, 4, 7, lib.len};
    freeReplyObject(bench_must(rc, redisCommandArgv(rc, 4, la, ll), "FUNCTION LOAD"));
    buf_free(&lib);
    for (size_t t = 0; t < rs->ntenants; t++) {
        redis_cmds cmds = {0};
        char ver[REDIS_CONFIG_VERSION_LEN + 1];
        redis_config_tenant(rs, &rs->tenants[t], NULL, -1, &cmds, ver);
        for (size_t i = 0; i < cmds.n; i++)
            freeReplyObject(bench_must(rc, redisCommandArgv(rc, cmds.v[i].argc,
                                                            (const char **)cmds.v[i].argv,
                                                            cmds.v[i].argvlen),
                                       cmds.v[i].argv[0]));
        redis_cmds_free(&cmds);
    }
}

/* A number from an INFO section ("memory", "keyspace"...), or -1. */
static double info_num(const char *section, const char *field)
{
    redisReply *r = bench_must(rc, redisCommand(rc, "INFO %s", section), "INFO");
    const char *p = strstr(r->str, field);
    double v = p ? atof(p + strlen(field)) : -1;
    freeReplyObject(r);
    return v;
}

static double used_memory(void)
{
    return info_num("memory", "\r\nused_memory:");
}

static long long dbsize(void)
{
    redisReply *r = bench_must(rc, redisCommand(rc, "DBSIZE"), "DBSIZE");
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* The request the i-th call of a workload sends. */
typedef struct request {
    char active[96], path[96];
} request;
typedef void (*request_fn)(long long i, request *q);

/* Appends FCALL rlc_decide for q (GET /v1/items, cost 1, no lease id). */
static void append_decide(const request *q)
{
    const char *argv[] = {"FCALL", "rlc_decide", "1", q->active, q->path, "GET",
                          "/v1/items", "1", "", ""};
    size_t lens[10];
    for (int k = 0; k < 10; k++)
        lens[k] = strlen(argv[k]);
    redisAppendCommandArgv(rc, 10, argv, lens);
}

/* Reads one decision reply; exits 2 unless it is a decision that admitted
 * (every limit of the bench is far from exhausted). */
static void read_decision(const char *what)
{
    void *v = NULL;
    if (redisGetReply(rc, &v) != REDIS_OK)
        bench_must(rc, NULL, what);
    redisReply *r = bench_must(rc, v, what);
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->integer != 1) {
        fprintf(stderr, "bench: %s: a decision did not admit\n", what);
        exit(2);
    }
    freeReplyObject(r);
}

/* Calls from..to-1 of fn, in batches of 1 000 with the next batch queued
 * before the replies of the last are read (NOTES: overlapping batches). */
static void bulk(request_fn fn, long long from, long long to, const char *what)
{
    const long long batch = 1000;
    long long sent = from, read = from;
    request q;
    while (read < to) {
        long long upto = sent + batch < to ? sent + batch : to;
        for (; sent < upto; sent++) {
            fn(sent, &q);
            append_decide(&q);
        }
        long long keep = sent == to ? 0 : batch;    /* one batch stays in flight */
        for (; sent - read > keep; read++)
            read_decision(what);
    }
}

/* ---- part 1: decisions ---------------------------------------------------- */

#define CYCLE_KEYS 100000
#define CYCLE_TENANTS 1000

static void listed(long long i, request *q)
{
    (void)i;
    snprintf(q->active, sizeof q->active, "{bt:acme}:active");
    snprintf(q->path, sizeof q->path, "group:team-a/key:k_123");
}

static void key_of_listed(long long i, request *q)
{
    snprintf(q->active, sizeof q->active, "{bt:acme}:active");
    snprintf(q->path, sizeof q->path, "group:team-a/key:k-%lld", i % CYCLE_KEYS);
}

static void key_of_unlisted(long long i, request *q)
{
    snprintf(q->active, sizeof q->active, "{bt:new-signup}:active");
    snprintf(q->path, sizeof q->path, "group:team-a/key:k-%lld", i % CYCLE_KEYS);
}

static void keys_of_unlisted(long long i, request *q)
{
    snprintf(q->active, sizeof q->active, "{bt:t-%lld}:active", i % CYCLE_TENANTS);
    snprintf(q->path, sizeof q->path, "group:team-a/key:k-%lld", i % CYCLE_KEYS);
}

typedef struct workload {
    const char *name;
    request_fn fn;
    long long next;                   /* the next call's i: rounds go on cycling */
    double rps[16], usec[16], cpu[16];
} workload;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[16];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* One round of w: pipelines of 16 for `seconds`. */
static void round_of(workload *w, int round, double seconds)
{
    freeReplyObject(bench_must(rc, redisCommand(rc, "CONFIG RESETSTAT"), "RESETSTAT"));
    double c0 = bench_server_cpu(rc), t0 = bench_now_s(), t;
    long long calls = 0;
    request q;
    do {
        for (int k = 0; k < 16; k++) {
            w->fn(w->next++, &q);
            append_decide(&q);
        }
        for (int k = 0; k < 16; k++)
            read_decision(w->name);
        calls += 16;
        t = bench_now_s();
    } while (t - t0 < seconds);
    w->rps[round] = (double)calls / (t - t0);
    w->usec[round] = bench_cmdstat(rc, "fcall", "usec_per_call=");
    w->cpu[round] = (bench_server_cpu(rc) - c0) * 1e6 / (double)calls;
}

static const char *verdict(int pass)
{
    return pass ? "PASS" : "MISS";
}

static void part_decisions(double seconds)
{
    rl_ruleset rs;
    load_plan(decide_plan, &rs);
    deploy(&rs);
    workload w[] = {
        {"listed key, listed tenant", listed, 0, {0}, {0}, {0}},
        {"unlisted key, listed tenant", key_of_listed, 0, {0}, {0}, {0}},
        {"unlisted key, unlisted tenant", key_of_unlisted, 0, {0}, {0}, {0}},
        {"unlisted keys, 1 000 unlisted tenants", keys_of_unlisted, 0, {0}, {0}, {0}},
    };
    const int nw = (int)(sizeof w / sizeof *w), rounds = 5;
    /* Every value decided once first: the rounds then meet counters and
     * caches as a steady stream of distinct values does. */
    for (int i = 1; i < nw; i++) {
        bulk(w[i].fn, 0, CYCLE_KEYS, w[i].name);
        w[i].next = CYCLE_KEYS;
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nw; i++)
            round_of(&w[i], r, seconds / rounds);
    printf("3-level decision (3 token buckets), pipelined 16, median of %d alternating rounds, "
           "%.1f s per case; keys cycle through %d values\n", rounds, seconds, CYCLE_KEYS);
    printf("%-40s %12s %10s %10s %18s\n", "request", "req/s", "server us", "cpu us",
           "vs listed (req/s)");
    double base = median(w[0].rps, rounds);
    for (int i = 0; i < nw; i++) {
        double rps = median(w[i].rps, rounds);
        printf("%-40s %12.0f %10.2f %10.2f %18.2f\n", w[i].name, rps,
               median(w[i].usec, rounds), median(w[i].cpu, rounds), rps / base);
    }
    for (int i = 1; i < nw; i++) {
        double ratio = median(w[i].rps, rounds) / base;
        printf("ratio unlisted / listed throughput, %s: %.2f (target >= 0.90) %s "
               "(server time listed / unlisted %.2f)\n", w[i].name, ratio, verdict(ratio >= 0.9),
               median(w[0].usec, rounds) / median(w[i].usec, rounds));
        char name[96];
        snprintf(name, sizeof name, "unlisted / listed throughput, %s", w[i].name);
        bench_record(name, ratio, "x", ">=", 0.9);
    }
    rules_free(&rs);
}

/* ---- part 2: memory per distinct key -------------------------------------- */

static const char *mem_group;

static void mem_request(long long i, request *q)
{
    snprintf(q->active, sizeof q->active, "{bm:m}:active");
    snprintf(q->path, sizeof q->path, "group:%s/key:k-%07lld", mem_group, i);
}

static void part_memory(long long n)
{
    rl_ruleset rs;
    load_plan(mem_plan, &rs);
    printf("Redis memory per distinct value of a key * (INFO used_memory after %lld values "
           "decided once each, less before, / %lld; counter key {bm:m}:c:<id>/k-NNNNNNN)\n",
           n, n);
    printf("%-24s %10s %14s %14s %10s\n", "algorithm", "keys", "bytes/value", "MEMORY USAGE",
           "vs 150 B");
    for (size_t k = 0; k < sizeof mem_kinds / sizeof *mem_kinds; k++) {
        deploy(&rs);
        mem_group = mem_kinds[k];
        /* One value first: the config, the plan caches and the sequence
         * key of concurrency are there before the baseline. */
        bulk(mem_request, n, n + 1, mem_kinds[k]);
        long long keys0 = dbsize();
        double m0 = used_memory();
        bulk(mem_request, 0, n, mem_kinds[k]);
        double per = (used_memory() - m0) / (double)n;
        long long keys = dbsize() - keys0;
        /* Redis's own estimate for one counter key and its value (not its
         * share of the hash tables; for sliding_window the header only,
         * not its :log list). */
        char one[96];
        snprintf(one, sizeof one, "{bm:m}:c:00000000000000a%zu/k-0000000", k + 1);
        redisReply *mu = bench_must(rc, redisCommand(rc, "MEMORY USAGE %s", one), "MEMORY USAGE");
        long long usage = mu->type == REDIS_REPLY_INTEGER ? mu->integer : -1;
        freeReplyObject(mu);
        int targeted = !strcmp(mem_kinds[k], "token_bucket") ||
                       !strcmp(mem_kinds[k], "fixed_window");
        printf("%-24s %10lld %14.1f %14lld %10.2f %s\n", mem_kinds[k], keys, per, usage,
               per / 150.0, targeted ? verdict(per <= 150.0) : "(no target)");
        char name[96];
        snprintf(name, sizeof name, "Redis memory per value of key *, %s", mem_kinds[k]);
        bench_record(name, per, "B", targeted ? "<=" : NULL, 150.0);
    }
    rules_free(&rs);
}

/* ---- part 3: a million values, then expiry -------------------------------- */

static void big_request(long long i, request *q)
{
    snprintf(q->active, sizeof q->active, "{bx:big}:active");
    snprintf(q->path, sizeof q->path, "key:k-%07lld", i);
}

static void part_expiry(long long n)
{
    rl_ruleset rs;
    load_plan(expiry_plan, &rs);
    deploy(&rs);
    long long keys0 = dbsize();
    double lua0 = info_num("memory", "\r\nused_memory_vm_functions:");
    double base = used_memory();
    double t1 = bench_now_s();
    const long long step = 100000;
    for (long long i = 0; i < n; i += step)
        bulk(big_request, i, i + step < n ? i + step : n, "expiry");
    double took = bench_now_s() - t1;
    double peak = used_memory(), lua1 = info_num("memory", "\r\nused_memory_vm_functions:");
    long long live = dbsize() - keys0;
    /* Redis's own active expiry, bounded: the counters' TTL plus 30 s. */
    double t2 = bench_now_s(), after = peak;
    long long left = live;
    while (bench_now_s() - t2 < EXPIRY_TTL_S + 30) {
        usleep(500000);
        left = dbsize() - keys0;
        after = used_memory();
        if (left <= 0 && after <= base + 65536)
            break;
    }
    double waited = bench_now_s() - t2;
    printf("one tenant, key * { limit 1/20s }: %lld distinct values decided once each in "
           "%.1f s (%.0f decisions/s, pipelined)\n", n, took, (double)n / took);
    printf("  used_memory baseline %.1f MB, peak %.1f MB (%lld live counters, %.1f B each), "
           "after %.1f s of active expiry %.1f MB (%lld counters left)\n",
           base / 1e6, peak / 1e6, live, live > 0 ? (peak - base) / (double)live : 0.0,
           waited, after / 1e6, left);
    printf("  library (Lua) memory: %.2f MB before, %.2f MB at the peak\n", lua0 / 1e6,
           lua1 / 1e6);
    printf("  after - baseline: %+.0f bytes (target: back to the baseline, within 64 KiB) %s\n",
           after - base, verdict(left <= 0 && after <= base + 65536));
    bench_record("key * values: counters left after expiry", (double)(left > 0 ? left : 0),
                 "keys", "<=", 0);
    bench_record("key * values: used_memory after expiry - baseline", after - base, "B", "<=",
                 65536);
    rules_free(&rs);
}

int main(int argc, char **argv)
{
    int port = 0;
    double seconds = 2.0;
    long long mem_keys = 100000, expiry_keys = 1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--mem-keys") && i + 1 < argc)
            mem_keys = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--expiry-keys") && i + 1 < argc)
            expiry_keys = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: templates --port P [--seconds S] [--mem-keys N] "
                            "[--expiry-keys N]\n");
            return 2;
        }
    }
    if (!port || mem_keys < 1 || expiry_keys < 1) {
        fprintf(stderr, "templates: --port is required; key counts are at least 1\n");
        return 2;
    }
    rc = redisConnect("127.0.0.1", port);
    if (!rc || rc->err) {
        fprintf(stderr, "bench: cannot connect to port %d\n", port);
        return 2;
    }
    part_decisions(seconds);
    part_memory(mem_keys);
    part_expiry(expiry_keys);
    redisFree(rc);
    return 0;
}
