/* trace.c - reading CSV trace lines.  See trace.h. */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"   /* RL_MAX_REQUEST_COST */

void trace_reader_init(trace_reader *r)
{
    r->lineno = 0;
    r->last = -1;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*s)
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* Splits a line in place at commas into at most n fields; returns the
 * count.  The last field keeps any further commas. */
static int split(char *line, char **f, int n)
{
    int k = 0;
    f[k++] = line;
    for (char *c = line; *c && k < n; c++)
        if (*c == ',') {
            *c = '\0';
            f[k++] = c + 1;
        }
    return k;
}

/* A field quoted in a message: at most 64 bytes of it, then "...", so a
 * message fits any buffer without being cut silently. */
#define QUOTE_MAX 64
#define QUOTE_FMT "'%.*s%s'"
#define QUOTE_ARGS(s) (strlen(s) > QUOTE_MAX ? QUOTE_MAX : (int)strlen(s)), (s), \
                      (strlen(s) > QUOTE_MAX ? "..." : "")

trace_status trace_read_line(trace_reader *r, char *line, size_t len, trace_req *req, char *err,
                             size_t errlen)
{
    r->lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0 || line[0] == '#')
        return TRACE_SKIP;
    char *f[8] = {0};
    int nf = split(line, f, 7);
    int64_t t, cost = 1;
    if (!parse_i64(f[0], 0, (1LL << 53) - 1, &t)) {
        if (r->lineno == 1 && !strcmp(f[0], "time_ms"))
            return TRACE_SKIP;
        snprintf(err, errlen, "time_ms " QUOTE_FMT " is not a millisecond count", QUOTE_ARGS(f[0]));
        return TRACE_BAD;
    }
    if (nf < 2 || !*f[1]) {
        snprintf(err, errlen, "no tenant");
        return TRACE_BAD;
    }
    if (nf > 6) {
        snprintf(err, errlen, "more than 6 columns");
        return TRACE_BAD;
    }
    if (t < r->last) {
        snprintf(err, errlen, "time goes back (%lld after %lld)", (long long)t,
                 (long long)r->last);
        return TRACE_BAD;
    }
    if (nf > 5 && *f[5] && !parse_i64(f[5], 1, RL_MAX_REQUEST_COST, &cost)) {
        snprintf(err, errlen, "cost " QUOTE_FMT " is not 1..2^31", QUOTE_ARGS(f[5]));
        return TRACE_BAD;
    }
    r->last = t;
    req->time_ms = t;
    req->tenant = f[1];
    req->path = nf > 2 && strcmp(f[2], "-") ? f[2] : "";
    req->method = nf > 3 && *f[3] ? f[3] : NULL;
    req->route = nf > 4 && *f[4] ? f[4] : NULL;
    req->cost = cost;
    return TRACE_REQUEST;
}
