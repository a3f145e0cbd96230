/* record.h - the C benches' half of tests/bench/lib.sh: bench_record adds
 * one figure to the report `make bench` writes (tests/bench/report.sh),
 * as one JSON line appended to the file $BENCH_RECORD names, with the
 * 1-minute load beside it.  Without BENCH_RECORD it does nothing, so a
 * bench still runs on its own.  Header-only: each bench is one program. */
#ifndef RLC_BENCH_RECORD_H
#define RLC_BENCH_RECORD_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void bench_record_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* name, value in unit, and the goal (op one of "<=", ">=", "<", ">", or
 * NULL for a figure with no target). */
static inline void bench_record(const char *name, double value, const char *unit, const char *op,
                                double target)
{
    const char *path = getenv("BENCH_RECORD");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    double load = 0;
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf", &load) != 1)
            load = 0;
        fclose(la);
    }
    const char *script = getenv("BENCH_SCRIPT");
    fputs("{\"bench\":", f);
    bench_record_string(f, script ? script : "");
    fputs(",\"name\":", f);
    bench_record_string(f, name);
    if (isfinite(value))
        fprintf(f, ",\"value\":%.6g,\"unit\":", value);
    else
        fputs(",\"value\":null,\"unit\":", f);
    bench_record_string(f, unit);
    const char *pass = "null";
    if (op && isfinite(value)) {
        char t[64];
        snprintf(t, sizeof t, "%s %.6g", op, target);
        fputs(",\"target\":", f);
        bench_record_string(f, t);
        int ok = !strcmp(op, "<=") ? value <= target
                 : !strcmp(op, ">=") ? value >= target
                 : !strcmp(op, "<")  ? value < target
                                     : value > target;
        pass = ok ? "true" : "false";
    }
    fprintf(f, ",\"pass\":%s,\"load\":%.2f}\n", pass, load);
    fclose(f);
}

#endif
