/* enforce.c - the enforcement benchmark behind `make bench` (run by
 * tests/bench/enforce.sh against a redis-server it starts).  With one
 * client and one connection it measures, unpipelined and in pipelines of
 * 16: the 3-level hierarchical decision through the library (FCALL
 * rlc_decide), a plain INCR, and a one-key fixed-window script (INCR +
 * EXPIRE, as Envoy's ratelimit service does).  For each: throughput,
 * p50/p99 round trip, the server's µs per call (INFO commandstats after
 * CONFIG RESETSTAT); then the ratio hierarchical / one-key.  Last, the
 * simulator's in-process decisions per second on the same rules.
 *
 *   enforce --port P [--seconds S] */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_config.h"
#include "rules.h"
#include "sim.h"
#include "record.h"
#include "redis_stats.h"

static redisContext *rc;
static double seconds = 2.0;

/* CPU time of this process: the simulator figure is per core, and the
 * machine may be shared. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char plan_json[] =
    "{\"policy\":{\"name\":\"bench\",\"namespace\":\"bn\",\"max_clock_skew_ms\":0,"
    "\"time_source\":\"server\",\"on_store_error\":\"fail_open\"},\"tenants\":[{\"name\":"
    "\"acme\",\"rules\":["
    "{\"id\":\"0000000000000001\","
    "\"route\":null,\"kind\":\"rate\",\"algorithm\":\"token_bucket\",\"count\":100000000,"
    "\"window_ms\":1000,\"burst\":100000000,\"cost\":1,\"shadow\":false},"
    "{\"id\":\"0000000000000002\",\"subject\":\"group:team-a\",\"route\":null,\"kind\":\"rate\",\"algorithm\":"
    "\"token_bucket\",\"count\":50000000,\"window_ms\":1000,\"burst\":50000000,\"cost\":1,"
    "\"shadow\":false},"
    "{\"id\":\"0000000000000003\",\"subject\":\"group:team-a/key:k_123\",\"route\":null,"
    "\"kind\":\"rate\",\"algorithm\":\"token_bucket\",\"count\":10000000,\"window_ms\":1000,"
    "\"burst\":10000000,\"cost\":1,\"shadow\":false}]}]}";

static const char fixed_window_script[] =
    "local c = redis.call('INCR', KEYS[1]) "
    "if c == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return c";

typedef struct workload {
    const char *name;
    const char *stat;            /* cmdstat_ name */
    int argc;
    const char *argv[12];
} workload;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double rps, p50, p99, usec, cpu;
} result;

static result measure(const workload *w, int pipeline)
{
    size_t lens[12];
    for (int i = 0; i < w->argc; i++)
        lens[i] = strlen(w->argv[i]);
    freeReplyObject(bench_must(rc, redisCommand(rc, "CONFIG RESETSTAT"), "RESETSTAT"));
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    long long calls = 0;
    double c0 = bench_server_cpu(rc);
    double t0 = bench_now_s(), t;
    do {
        double b0 = bench_now_s();
        for (int k = 0; k < pipeline; k++)
            redisAppendCommandArgv(rc, w->argc, (const char **)w->argv, lens);
        for (int k = 0; k < pipeline; k++) {
            void *r;
            if (redisGetReply(rc, &r) != REDIS_OK)
                bench_must(rc, NULL, w->name);
            bench_must(rc, r, w->name);
            freeReplyObject(r);
        }
        t = bench_now_s();
        if (n < cap)
            lat[n++] = (t - b0) * 1e6;
        calls += pipeline;
    } while (t - t0 < seconds);
    qsort(lat, n, sizeof *lat, cmp_d);
    double cpu = (bench_server_cpu(rc) - c0) * 1e6 / (double)calls;
    result res = {calls / (t - t0), lat[n / 2], lat[n * 99 / 100], bench_cmdstat(rc, w->stat, "usec_per_call="), cpu};
    free(lat);
    return res;
}

static void sim_bench(const rl_ruleset *rs)
{
    sim *s = sim_new(rs);
    sim_req *q = sim_resolve(s, "acme", "group:team-a/key:k_123", "GET", "/v1/items");
    if (!q) {
        fprintf(stderr, "bench: resolve failed\n");
        exit(2);
    }
    sim_decision d;
    long long n = 0, allowed = 0;
    int64_t now = 1700000000000LL;
    double t0 = cpu_s(), t;
    do {
        for (int i = 0; i < 100000; i++) {
            sim_decide_req(s, q, 1, now + (n >> 6), &d);   /* ~64 decisions per ms */
            allowed += d.allowed;
            n++;
        }
        t = cpu_s();
    } while (t - t0 < seconds);
    double pre = n / (t - t0);
    long long n2 = 0;
    t0 = cpu_s();
    do {
        for (int i = 0; i < 100000; i++) {
            sim_decide(s, "acme", "group:team-a/key:k_123", "GET", "/v1/items", 1,
                       now + (n2 >> 6), NULL, &d);
            n2++;
        }
        t = cpu_s();
    } while (t - t0 < seconds);
    double full = n2 / (t - t0);
    printf("simulator, 3-level decision in-process (per CPU-second of one core):\n");
    printf("  pre-resolved request     %8.2f M decisions/s  (target >= 10 M/s)%s\n", pre / 1e6,
           pre >= 10e6 ? "" : "  BELOW TARGET");
    printf("  with name lookup         %8.2f M decisions/s\n", full / 1e6);
    bench_record("simulator, 3-level decision, pre-resolved", pre / 1e6, "M decisions/s", ">=", 10);
    bench_record("simulator, 3-level decision, with name lookup", full / 1e6, "M decisions/s", NULL,
                 0);
    printf("  (%lld of %lld admitted)\n", allowed, n);
    sim_req_free(q);
    sim_free(s);
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: enforce --port P [--seconds S]\n");
            return 2;
        }
    }
    json_t *plan = json_loads(plan_json, 0, NULL);
    rl_ruleset rs;
    char err[256];
    if (!plan || !rules_from_plan(plan, &rs, err, sizeof err)) {
        fprintf(stderr, "bench: rules: %s\n", err);
        return 2;
    }
    if (port) {
        rc = redisConnect("127.0.0.1", port);
        if (!rc || rc->err) {
            fprintf(stderr, "bench: cannot connect to port %d\n", port);
            return 2;
        }
        freeReplyObject(bench_must(rc, redisCommand(rc, "FLUSHALL"), "FLUSHALL"));
        size_t len;
        const char *lib = redis_library_function(&len);
        const char *la[] = {"FUNCTION", "LOAD", "REPLACE", lib};
        size_t ll[] = {8, 4, 7, len};
        freeReplyObject(bench_must(rc, redisCommandArgv(rc, 4, la, ll), "FUNCTION LOAD"));
        redis_cmds cmds = {0};
        char ver[REDIS_CONFIG_VERSION_LEN + 1];
        redis_config_tenant(&rs, &rs.tenants[0], NULL, -1, &cmds, ver);
        for (size_t i = 0; i < cmds.n; i++)
            freeReplyObject(bench_must(rc, redisCommandArgv(rc, cmds.v[i].argc,
                                                  (const char **)cmds.v[i].argv,
                                                  cmds.v[i].argvlen),
                                 cmds.v[i].argv[0]));
        redis_cmds_free(&cmds);
        redisReply *r = bench_must(rc, redisCommand(rc, "SCRIPT LOAD %s", fixed_window_script), "SCRIPT");
        char sha[64];
        snprintf(sha, sizeof sha, "%s", r->str);
        freeReplyObject(r);

        workload w[3] = {
            {"3-level decision (FCALL rlc_decide)", "fcall", 10,
             {"FCALL", "rlc_decide", "1", "{bn:acme}:active", "group:team-a/key:k_123", "GET",
              "/v1/items", "1", "", ""}},
            {"INCR", "incr", 2, {"INCR", "bench:incr"}},
            {"fixed-window script (INCR + EXPIRE)", "evalsha", 5,
             {"EVALSHA", sha, "1", "bench:fw", "60"}},
        };
        result res[3][2];
        int pipes[2] = {1, 16};
        printf("Redis %d, one connection, %.1f s per figure\n", port, seconds);
        printf("%-38s %9s %12s %10s %10s %10s %10s\n", "operation", "pipeline", "req/s",
               "p50 us", "p99 us", "server us", "cpu us");
        for (int i = 0; i < 3; i++)
            for (int p = 0; p < 2; p++) {
                res[i][p] = measure(&w[i], pipes[p]);
                printf("%-38s %9d %12.0f %10.1f %10.1f %10.2f %10.2f\n", w[i].name, pipes[p],
                       res[i][p].rps, res[i][p].p50, res[i][p].p99, res[i][p].usec,
                       res[i][p].cpu);
                char name[96];
                snprintf(name, sizeof name, "%s, pipeline %d", w[i].name, pipes[p]);
                bench_record(name, res[i][p].rps, "req/s", NULL, 0);
            }
        double r1 = res[0][0].rps / res[2][0].rps, r16 = res[0][1].rps / res[2][1].rps;
        printf("ratio 3-level / one-key script: unpipelined %.2f, pipelined %.2f "
               "(target >= 0.5 pipelined)%s\n",
               r1, r16, r16 >= 0.5 ? "" : "  BELOW TARGET");
        printf("server time per 3-level decision: %.2f us (commandstats; target <= 6 us)%s\n",
               res[0][1].usec, res[0][1].usec <= 6.0 ? "" : "  ABOVE TARGET");
        bench_record("3-level / one-key script throughput, pipelined", r16, "x", ">=", 0.5);
        bench_record("server time per 3-level decision (commandstats)", res[0][1].usec, "us", "<=",
                     6.0);
        printf("server CPU per call, pipelined: 3-level %.2f us, one-key script %.2f us, INCR "
               "%.2f us (includes reading and answering the request)\n",
               res[0][1].cpu, res[2][1].cpu, res[1][1].cpu);
        redisFree(rc);
    }
    sim_bench(&rs);
    rules_free(&rs);
    json_decref(plan);
    return 0;
}
