/* sliding.c - what exactness costs: the exact sliding window (a log of
 * admissions per counter) beside the token bucket, in a real redis-server
 * (run by tests/bench/enforce.sh).  For COUNT 10, 1 000 and 100 000 per
 * second it sends requests at exactly the rate (all admitted), so the log
 * holds as many entries as it ever can (min(COUNT, 1000): one per ms at
 * most), and prints the server's µs per decision (INFO commandstats), its
 * CPU per decision, and the memory of the counter (MEMORY USAGE of the
 * counter key and of the log list), then the ratio sliding / bucket.  Figures, not a test.
 *
 *   sliding --port P [--seconds S] */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_config.h"
#include "rules.h"
#include "record.h"
#include "redis_stats.h"

static redisContext *rc;
static double seconds = 2.0;

static void install(const char *algo, long long count, const char *tenant)
{
    char plan[2048];
    snprintf(plan, sizeof plan,
             "{\"policy\":{\"name\":\"b\",\"namespace\":\"bs\",\"max_clock_skew_ms\":3600000,"
             "\"time_source\":\"client\",\"on_store_error\":\"fail_open\"},\"tenants\":[{"
             "\"name\":\"%s\",\"rules\":[{\"id\":\"00000000000000a1\","
             "\"route\":null,\"kind\":\"rate\",\"algorithm\":\"%s\","
             "\"count\":%lld,\"window_ms\":1000,\"burst\":%lld,\"cost\":1,\"shadow\":false}]}]}",
             tenant, algo, count, count);
    json_t *pj = json_loads(plan, 0, NULL);
    rl_ruleset rs;
    char err[256];
    if (!pj || !rules_from_plan(pj, &rs, err, sizeof err)) {
        fprintf(stderr, "bench: rules: %s\n", err);
        exit(2);
    }
    redis_cmds cmds = {0};
    char ver[REDIS_CONFIG_VERSION_LEN + 1];
    redis_config_tenant(&rs, &rs.tenants[0], NULL, 1700000000000LL, &cmds, ver);
    for (size_t i = 0; i < cmds.n; i++)
        freeReplyObject(bench_must(rc, redisCommandArgv(rc, cmds.v[i].argc, (const char **)cmds.v[i].argv,
                                              cmds.v[i].argvlen),
                             cmds.v[i].argv[0]));
    redis_cmds_free(&cmds);
    rules_free(&rs);
    json_decref(pj);
}

typedef struct figure {
    double usec, cpu, mem, len; /* mem: MEMORY USAGE of counter and log; len: entries */
    long long calls, admitted;
} figure;

/* Requests at exactly `count` per second on a virtual clock, pipelined 16. */
static figure run(const char *tenant, long long count)
{
    char active[64], key[64];
    snprintf(active, sizeof active, "{bs:%s}:active", tenant);
    snprintf(key, sizeof key, "{bs:%s}:c:00000000000000a1", tenant);
    const long long t0 = 1700000000000LL;
    long long i = 0, admitted = 0;
    /* Fill the window first, then measure the steady state. */
    double c0 = 0, start = 0;
    bool measuring = false;
    for (;;) {
        if (!measuring && i >= count + 16 * 64) {
            freeReplyObject(bench_must(rc, redisCommand(rc, "CONFIG RESETSTAT"), "RESETSTAT"));
            c0 = bench_server_cpu(rc);
            start = bench_now_s();
            measuring = true;
            admitted = 0;
        }
        for (int k = 0; k < 16; k++, i++) {
            char now[32];
            snprintf(now, sizeof now, "%lld", t0 + i * 1000 / count);
            const char *argv[] = {"FCALL", "rlc_decide", "1", active, "", "GET", "/", "1", now,
                                  ""};
            redisAppendCommandArgv(rc, 10, argv, NULL);
        }
        for (int k = 0; k < 16; k++) {
            redisReply *r;
            if (redisGetReply(rc, (void **)&r) != REDIS_OK)
                bench_must(rc, NULL, "FCALL");
            bench_must(rc, r, "FCALL");
            admitted += r->element[0]->integer;
            freeReplyObject(r);
        }
        if (measuring && bench_now_s() - start >= seconds)
            break;
    }
    figure f;
    f.calls = (long long)bench_cmdstat(rc, "fcall", "calls=");
    f.usec = bench_cmdstat(rc, "fcall", "usec_per_call=");
    double c1 = bench_server_cpu(rc);
    f.cpu = f.calls > 0 ? (c1 - c0) * 1e6 / (double)f.calls : -1;
    redisReply *r = bench_must(rc, redisCommand(rc, "MEMORY USAGE %s", key), "MEMORY USAGE");
    f.mem = r->type == REDIS_REPLY_INTEGER ? (double)r->integer : -1;
    freeReplyObject(r);
    r = bench_must(rc, redisCommand(rc, "MEMORY USAGE %s:log", key), "MEMORY USAGE");
    if (r->type == REDIS_REPLY_INTEGER)
        f.mem += (double)r->integer;
    freeReplyObject(r);
    r = bench_must(rc, redisCommand(rc, "LLEN %s:log", key), "LLEN");
    f.len = (double)r->integer;
    freeReplyObject(r);
    f.admitted = admitted;
    return f;
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
            fprintf(stderr, "usage: sliding --port P [--seconds S]\n");
            return 2;
        }
    }
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
    printf("exact sliding window vs token bucket, one rule, requests at exactly COUNT/1s "
           "(all admitted), pipelined 16, %.1f s per figure\n", seconds);
    printf("%-8s %-15s %9s %9s %11s %12s\n", "COUNT", "algorithm", "server us", "cpu us",
           "log entries", "memory B");
    const long long counts[] = {10, 1000, 100000};
    for (size_t c = 0; c < 3; c++) {
        figure f[2];
        const char *algos[] = {"token_bucket", "sliding_window"};
        for (int a = 0; a < 2; a++) {
            char tenant[32];
            snprintf(tenant, sizeof tenant, "%s-%lld", algos[a], counts[c]);
            install(algos[a], counts[c], tenant);
            f[a] = run(tenant, counts[c]);
            printf("%-8lld %-15s %9.2f %9.2f %11.0f %12.0f\n", counts[c], algos[a], f[a].usec,
                   f[a].cpu, f[a].len, f[a].mem);
        }
        double ratio = f[1].usec / f[0].usec;
        printf("  COUNT %lld: sliding / bucket server time %.2f (target <= 2.00 at COUNT <= "
               "1000)%s\n",
               counts[c], ratio, counts[c] > 1000 || ratio <= 2.0 ? "" : "  ABOVE TARGET");
        char name[96];
        snprintf(name, sizeof name, "sliding / bucket server time, COUNT %lld", counts[c]);
        if (counts[c] <= 1000)
            bench_record(name, ratio, "x", "<=", 2.0);
        else
            bench_record(name, ratio, "x", NULL, 0);
    }
    redisFree(rc);
    return 0;
}
