/* trace.h - the CSV trace `rlc simulate --trace` replays: one request per
 * line, "time_ms,tenant[,path[,method[,route[,cost]]]]", times never going
 * back; blank lines, lines starting with '#' and a first line "time_ms,..."
 * (the header) are skipped.  This module only reads lines: it neither
 * decides (sim.h) nor prints (the CLI names the file and line). */
#ifndef RLC_TRACE_H
#define RLC_TRACE_H

#include <stddef.h>
#include <stdint.h>

typedef struct trace_reader {
    long lineno;             /* of the last line read, 1-based */
    int64_t last;            /* time of the last request, -1 before the first */
} trace_reader;

/* One request; the strings point into the line that was read. */
typedef struct trace_req {
    int64_t time_ms;
    const char *tenant;
    const char *path;        /* "" for the tenant itself ("-" in the file) */
    const char *method;      /* NULL when the column is empty or missing */
    const char *route;       /* NULL when the column is empty or missing */
    int64_t cost;            /* 1 when the column is empty or missing */
} trace_req;

typedef enum trace_status { TRACE_REQUEST, TRACE_SKIP, TRACE_BAD } trace_status;

void trace_reader_init(trace_reader *r);
/* Reads the next line, line[0..len) (a trailing CR/LF is dropped; the line
 * is split in place, so it must be writable and line[len] must exist and be
 * '\0').  TRACE_REQUEST fills req; TRACE_BAD puts the reason in err (without
 * the file and line, which are r->lineno). */
trace_status trace_read_line(trace_reader *r, char *line, size_t len, trace_req *req, char *err,
                             size_t errlen);

#endif
