/* redis_stats.h - what the Redis benchmarks (enforce.c, sliding.c) read
 * from the server they measure: replies that must succeed, the server's
 * own µs per call of a command (INFO commandstats) and its CPU time (INFO
 * cpu), and a monotonic clock.  Header-only: each bench is one program. */
#ifndef RLC_BENCH_REDIS_STATS_H
#define RLC_BENCH_REDIS_STATS_H

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* r, or exit 2 with what failed when it is missing or an error. */
static inline redisReply *bench_must(redisContext *rc, redisReply *r, const char *what)
{
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bench: %s: %s\n", what, r ? r->str : rc->errstr);
        exit(2);
    }
    return r;
}

/* A number of `field` (e.g. "calls=", "usec_per_call=") on the commandstats
 * line of command `stat` (e.g. "fcall"), or -1. */
static inline double bench_cmdstat(redisContext *rc, const char *stat, const char *field)
{
    redisReply *r = bench_must(rc, redisCommand(rc, "INFO commandstats"), "INFO");
    char key[64];
    snprintf(key, sizeof key, "cmdstat_%s:", stat);
    const char *p = strstr(r->str, key), *eol = p ? strchr(p, '\n') : NULL;
    const char *f = p ? strstr(p, field) : NULL;
    double v = f && (!eol || f < eol) ? atof(f + strlen(field)) : -1;
    freeReplyObject(r);
    return v;
}

/* The server's own CPU time (user + system), seconds: immune to the
 * server being descheduled, unlike commandstats' wall-clock usec. */
static inline double bench_server_cpu(redisContext *rc)
{
    redisReply *r = bench_must(rc, redisCommand(rc, "INFO cpu"), "INFO");
    const char *u = strstr(r->str, "used_cpu_user:"), *sy = strstr(r->str, "used_cpu_sys:");
    double v = (u ? atof(u + 14) : 0) + (sy ? atof(sy + 13) : 0);
    freeReplyObject(r);
    return v;
}

#endif
