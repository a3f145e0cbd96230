/* cmd_top.c - `rlc top`: which limits are rejecting now, read from the
 * metrics an nginx gateway's snippet serves (SPEC.md 7.10) over HTTP.  Two
 * scrapes an interval apart give rates per rule and decision, and the
 * latency histogram's quantiles over the interval; on a terminal it
 * redraws every interval until interrupted, otherwise (or with --once,
 * --json) it prints one interval and exits.  It reads the Prometheus text
 * format the snippet writes (only the rlc_* families it needs); it is not a
 * general exposition parser and keeps no history. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "diag.h"
#include "httpc.h"
#include "xalloc.h"

static const char help[] =
    "usage: rlc top PLAN [--target NAME] [options]\n"
    "       rlc top --url URL [options]\n"
    "\n"
    "Show which limits an nginx gateway is rejecting now: the decisions per second of\n"
    "each rule (rejected, would_reject for shadow rules, allowed, store_error,\n"
    "fail_open, bad_request) and the decision latency, from two scrapes of the\n"
    "metrics its snippet serves (SPEC.md 7.10).  The URL is the nginx target's\n"
    "metrics_url setting in PLAN (the only nginx target that has one, or NAME), or\n"
    "--url.  With PLAN, each rule is shown with its subject and limit.\n"
    "\n"
    "  --target NAME     the nginx target of PLAN whose metrics_url to read\n"
    "  --url URL         read the metrics at URL instead\n"
    "  --interval SECS   time between two scrapes, 0.1 to 60 (default 1)\n"
    "  --once            print one interval and exit (the default when stdout is\n"
    "                    not a terminal; on a terminal it redraws until Ctrl-C)\n"
    "  --json            print one interval as JSON and exit\n"
    "\n"
    "exit status: 0 ok, 1 the metrics cannot be read or parsed, 2 usage error\n";

/* Caps: a response larger than this, or more series, is refused rather
 * than read (the snippet's series are bounded by the plan's rules). */
#define TOP_MAX_BODY (16u << 20)
#define TOP_MAX_SERIES 200000
#define TOP_NBUCKETS 32

typedef struct dseries {
    char target[128], rule[40], decision[24];
    double v;
} dseries;

typedef struct bseries {
    char target[128];
    double le, v;
} bseries;

typedef struct scrape {
    dseries *d;
    size_t nd;
    bseries *b;
    size_t nb;
    double at;                  /* seconds, monotonic */
} scrape;

static void scrape_free(scrape *s)
{
    free(s->d);
    free(s->b);
    memset(s, 0, sizeof *s);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One label value `"..."` at *p (escapes \\, \", \n) into out; advances. */
static bool label_value(const char **p, char *out, size_t n)
{
    const char *s = *p;
    if (*s != '"')
        return false;
    size_t k = 0;
    for (s++; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            c = *s == 'n' ? '\n' : *s;
            if (!c)
                return false;
        }
        if (k + 1 >= n)
            return false;
        out[k++] = c;
    }
    if (*s != '"')
        return false;
    out[k] = '\0';
    *p = s + 1;
    return true;
}

/* src into dst of n bytes; false when it does not fit. */
static bool copy(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    if (l >= n)
        return false;
    memcpy(dst, src, l + 1);
    return true;
}

/* Parses one exposition line of the families top reads into s; other
 * lines are skipped.  False when a line of ours is malformed. */
static bool parse_line(const char *line, scrape *s, size_t *cap_d, size_t *cap_b)
{
    bool dec = !strncmp(line, "rlc_decisions_total{", 20);
    bool bkt = !strncmp(line, "rlc_decision_seconds_bucket{", 28);
    if (!dec && !bkt)
        return true;
    const char *p = strchr(line, '{') + 1;
    char target[128] = "", rule[40] = "", decision[24] = "", le[32] = "";
    while (*p && *p != '}') {
        const char *eq = strchr(p, '=');
        if (!eq)
            return false;
        size_t kl = (size_t)(eq - p);
        const char *v = eq + 1;
        char tmp[256];
        if (!label_value(&v, tmp, sizeof tmp))
            return false;
        if ((kl == 6 && !strncmp(p, "target", 6) && !copy(target, sizeof target, tmp)) ||
            (kl == 4 && !strncmp(p, "rule", 4) && !copy(rule, sizeof rule, tmp)) ||
            (kl == 8 && !strncmp(p, "decision", 8) && !copy(decision, sizeof decision, tmp)) ||
            (kl == 2 && !strncmp(p, "le", 2) && !copy(le, sizeof le, tmp)))
            return false;
        p = v;
        if (*p == ',')
            p++;
    }
    if (*p != '}' || p[1] != ' ')
        return false;
    char *end;
    double val = strtod(p + 2, &end);
    if (end == p + 2 || val < 0)
        return false;
    if (s->nd + s->nb >= TOP_MAX_SERIES)
        return false;
    if (dec) {
        if (!*rule || !*decision)
            return false;
        if (s->nd == *cap_d) {
            *cap_d = *cap_d ? *cap_d * 2 : 64;
            s->d = xrealloc(s->d, *cap_d * sizeof *s->d);
        }
        dseries *d = &s->d[s->nd++];
        snprintf(d->target, sizeof d->target, "%s", target);
        snprintf(d->rule, sizeof d->rule, "%s", rule);
        snprintf(d->decision, sizeof d->decision, "%s", decision);
        d->v = val;
    } else {
        if (!*le)
            return false;
        if (s->nb == *cap_b) {
            *cap_b = *cap_b ? *cap_b * 2 : 64;
            s->b = xrealloc(s->b, *cap_b * sizeof *s->b);
        }
        bseries *b = &s->b[s->nb++];
        snprintf(b->target, sizeof b->target, "%s", target);
        b->le = !strcmp(le, "+Inf") ? INFINITY : strtod(le, NULL);
        b->v = val;
    }
    return true;
}

static bool do_scrape(httpc *h, const char *url, scrape *s, char *err, size_t errn)
{
    memset(s, 0, sizeof *s);
    httpc_resp r = {0};
    rerr e = {0};
    s->at = mono_now();
    if (!httpc_do(h, "GET", url, NULL, NULL, 0, &r, &e)) {
        snprintf(err, errn, "%.500s", e.msg);
        httpc_resp_free(&r);
        return false;
    }
    bool ok = false;
    if (r.status != 200) {
        snprintf(err, errn, "GET %s: HTTP %ld: %.200s", url, r.status, r.body ? r.body : "");
        goto out;
    }
    if (r.len > TOP_MAX_BODY) {
        snprintf(err, errn, "GET %s: the metrics are larger than %u MiB", url,
                 TOP_MAX_BODY >> 20);
        goto out;
    }
    size_t cap_d = 0, cap_b = 0, lineno = 0;
    for (char *line = r.body, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!parse_line(line, s, &cap_d, &cap_b)) {
            snprintf(err, errn, "GET %s: line %zu is not a metric rlc top reads: %.120s", url,
                     lineno, line);
            goto out;
        }
    }
    if (!s->nb) {
        snprintf(err, errn, "GET %s: no rlc_decision_seconds histogram: not an rlc snippet's "
                 "metrics", url);
        goto out;
    }
    ok = true;
out:
    httpc_resp_free(&r);
    return ok;
}

static double prev_d(const scrape *a, const dseries *d)
{
    for (size_t i = 0; i < a->nd; i++)
        if (!strcmp(a->d[i].target, d->target) && !strcmp(a->d[i].rule, d->rule) &&
            !strcmp(a->d[i].decision, d->decision))
            return a->d[i].v;
    return 0;
}

static const char *const decisions[] = {"rejected", "would_reject", "allowed", "store_error",
                                        "fail_open", "bad_request"};
#define NDEC (sizeof decisions / sizeof decisions[0])

/* Per (target, rule): rates and totals of each decision, as JSON rows. */
static json_t *rule_rows(const scrape *a, const scrape *b, double dt, const json_t *subjects)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < b->nd; i++) {
        const dseries *d = &b->d[i];
        size_t k;
        json_t *row = NULL;
        json_array_foreach(rows, k, row)
            if (!strcmp(json_string_value(json_object_get(row, "target")), d->target) &&
                !strcmp(json_string_value(json_object_get(row, "rule")), d->rule))
                break;
        if (k == json_array_size(rows)) {
            json_t *rate = json_object(), *total = json_object();
            for (size_t j = 0; j < NDEC; j++) {
                json_object_set_new(rate, decisions[j], json_real(0));
                json_object_set_new(total, decisions[j], json_integer(0));
            }
            row = json_pack("{s:s,s:s,s:o,s:o}", "target", d->target, "rule", d->rule, "rate",
                            rate, "total", total);
            const char *subj = json_string_value(json_object_get(subjects, d->rule));
            if (subj)
                json_object_set_new(row, "limit", json_string(subj));
            json_array_append_new(rows, row);
        }
        double delta = d->v - prev_d(a, d);
        if (delta < 0)      /* nginx restarted: the dict starts over */
            delta = d->v;
        json_object_set_new(json_object_get(row, "rate"), d->decision,
                            json_real(dt > 0 ? delta / dt : 0));
        json_object_set_new(json_object_get(row, "total"), d->decision,
                            json_integer((json_int_t)d->v));
    }
    return rows;
}

static double rate_of(const json_t *row, const char *dec)
{
    return json_real_value(json_object_get(json_object_get(row, "rate"), dec));
}

static int row_cmp(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    for (size_t j = 0; j < NDEC; j++) {
        double ra = rate_of(a, decisions[j]), rb = rate_of(b, decisions[j]);
        if (ra != rb)
            return ra < rb ? 1 : -1;
    }
    return strcmp(json_string_value(json_object_get(a, "rule")),
                  json_string_value(json_object_get(b, "rule")));
}

/* The upper bound of the bucket holding quantile q of the interval's
 * decisions (all targets), or -1 when none; n gets their number. */
static double quantile(const scrape *a, const scrape *b, double q, double *n)
{
    double les[TOP_NBUCKETS], cnt[TOP_NBUCKETS];
    size_t nl = 0;
    for (size_t i = 0; i < b->nb; i++) {
        double before = 0;
        for (size_t j = 0; j < a->nb; j++)
            if (!strcmp(a->b[j].target, b->b[i].target) && a->b[j].le == b->b[i].le)
                before = a->b[j].v;
        double delta = b->b[i].v - before;
        if (delta < 0)
            delta = b->b[i].v;
        size_t k = 0;
        while (k < nl && les[k] != b->b[i].le)
            k++;
        if (k == nl) {
            if (nl == TOP_NBUCKETS)
                continue;
            les[nl] = b->b[i].le;
            cnt[nl++] = 0;
        }
        cnt[k] += delta;
    }
    /* Sort by le; the counts are cumulative already. */
    for (size_t i = 1; i < nl; i++)
        for (size_t j = i; j > 0 && les[j - 1] > les[j]; j--) {
            double t = les[j];
            les[j] = les[j - 1];
            les[j - 1] = t;
            t = cnt[j];
            cnt[j] = cnt[j - 1];
            cnt[j - 1] = t;
        }
    *n = nl ? cnt[nl - 1] : 0;
    if (*n <= 0)
        return -1;
    for (size_t i = 0; i < nl; i++)
        if (cnt[i] >= q * *n)
            return les[i];
    return INFINITY;
}

static json_t *report(const char *url, const scrape *a, const scrape *b, const json_t *subjects)
{
    double dt = b->at - a->at;
    json_t *rows = rule_rows(a, b, dt, subjects);
    size_t n = json_array_size(rows);
    json_t **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof *v, row_cmp);
    json_t *sorted = json_array(), *rejecting = json_array();
    for (size_t i = 0; i < n; i++) {
        if (rate_of(v[i], "rejected") > 0)
            json_array_append_new(rejecting, json_pack(
                "{s:O,s:O,s:f}", "target", json_object_get(v[i], "target"), "rule",
                json_object_get(v[i], "rule"), "rejected_per_s", rate_of(v[i], "rejected")));
        json_array_append_new(sorted, v[i]);
    }
    free(v);
    json_decref(rows);
    double cnt, p50 = quantile(a, b, 0.5, &cnt), p99 = quantile(a, b, 0.99, &cnt);
    json_t *lat = json_pack("{s:I}", "decisions", (json_int_t)cnt);
    if (p50 >= 0) {
        json_object_set_new(lat, "p50_le_s", isinf(p50) ? json_string("+Inf") : json_real(p50));
        json_object_set_new(lat, "p99_le_s", isinf(p99) ? json_string("+Inf") : json_real(p99));
    }
    return json_pack("{s:s,s:f,s:o,s:o,s:o}", "url", url, "interval_s", dt, "rules", sorted,
                     "rejecting", rejecting, "latency", lat);
}

static void print_text(const json_t *r, bool tty)
{
    if (tty)
        fputs("\033[H\033[2J", stdout);
    printf("rlc top: %s, over %.1f s%s\n", json_string_value(json_object_get(r, "url")),
           json_real_value(json_object_get(r, "interval_s")), tty ? " (Ctrl-C to stop)" : "");
    const json_t *lat = json_object_get(r, "latency");
    json_t *p50 = json_object_get(lat, "p50_le_s"), *p99 = json_object_get(lat, "p99_le_s");
    if (p50)
        printf("decision latency: %lld decisions, p50 <= %s%.4g s, p99 <= %s%.4g s\n",
               (long long)json_integer_value(json_object_get(lat, "decisions")),
               json_is_string(p50) ? "+Inf" : "", json_real_value(p50),
               json_is_string(p99) ? "+Inf" : "", json_real_value(p99));
    else
        printf("decision latency: no decisions in the interval\n");
    printf("%-12s %-16s %10s %10s %10s %8s %8s  %s\n", "TARGET", "RULE", "REJECTED/s",
           "WOULD/s", "ALLOWED/s", "ERROR/s", "OPEN/s", "LIMIT");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(r, "rules"), i, row)
        printf("%-12s %-16s %10.1f %10.1f %10.1f %8.1f %8.1f  %s\n",
               json_string_value(json_object_get(row, "target")),
               json_string_value(json_object_get(row, "rule")), rate_of(row, "rejected"),
               rate_of(row, "would_reject"), rate_of(row, "allowed"),
               rate_of(row, "store_error"), rate_of(row, "fail_open"),
               json_string_value(json_object_get(row, "limit")) ?: "");
    fflush(stdout);
}

/* A plan rule as text: its subject path, route and limit, e.g.
 * "tenant:acme/key:k1 GET /v1/x 100/60000ms token_bucket". */
static void describe(const json_t *r, const char *tenant, json_t *out)
{
    char d[600];
    size_t n;
    /* The tenant, then the subject below it as the plan writes it (SPEC.md
     * 5.5). */
    const char *sub = json_string_value(json_object_get(r, "subject"));
    n = (size_t)snprintf(d, sizeof d, "tenant%s%s%s%s", tenant ? ":" : "*", tenant ? tenant : "",
                         sub ? "/" : "", sub ? sub : "");
    const json_t *route = json_object_get(r, "route");
    if (json_is_object(route) && n < sizeof d)
        n += (size_t)snprintf(d + n, sizeof d - n, " %s %s",
                              json_string_value(json_object_get(route, "method")) ?: "",
                              json_string_value(json_object_get(route, "path")) ?: "");
    const char *kind = json_string_value(json_object_get(r, "kind")) ?: "";
    if (n < sizeof d) {
        if (!strcmp(kind, "concurrency"))
            snprintf(d + n, sizeof d - n, " concurrency %lld",
                     (long long)json_integer_value(json_object_get(r, "max")));
        else
            snprintf(d + n, sizeof d - n, " %lld/%lldms %s%s",
                     (long long)json_integer_value(json_object_get(r, "count")),
                     (long long)json_integer_value(json_object_get(r, "window_ms")),
                     json_string_value(json_object_get(r, "algorithm")) ?: "token_bucket",
                     json_is_true(json_object_get(r, "shadow")) ? " shadow" : "");
    }
    const char *id = json_string_value(json_object_get(r, "id"));
    if (id)
        json_object_set_new(out, id, json_string(d));
}

/* The metrics URL of the nginx target NAME (or the only one with one) of
 * the plan at path, and every rule's description into subjects. */
static int from_plan(const char *path, const char *name, char *url, size_t n, json_t *subjects)
{
    json_error_t je;
    json_t *plan = json_load_file(path, 0, &je);
    if (!plan) {
        fprintf(stderr, "rlc top: error: cannot read the plan %s: %s\n", path, je.text);
        return EXIT_USAGE;
    }
    size_t i, k, found = 0;
    const json_t *t, *r;
    json_array_foreach(json_object_get(plan, "targets"), i, t) {
        const char *kind = json_string_value(json_object_get(t, "kind"));
        const char *tn = json_string_value(json_object_get(t, "name"));
        const char *mu = json_string_value(json_object_get(json_object_get(t, "settings"),
                                                           "metrics_url"));
        if (!kind || strcmp(kind, "nginx") || !tn || (name && strcmp(name, tn)))
            continue;
        if (name && !mu) {
            fprintf(stderr, "rlc top: error: nginx target %s of %s has no metrics_url "
                    "setting; give --url\n", name, path);
            json_decref(plan);
            return EXIT_USAGE;
        }
        if (mu && !found++)
            snprintf(url, n, "%s", mu);
    }
    if (found != 1) {
        if (name)
            fprintf(stderr, "rlc top: error: %s has no nginx target %s\n", path, name);
        else
            fprintf(stderr, "rlc top: error: %s has %s nginx target with a metrics_url: "
                    "name one with --target, or give --url\n", path, found ? "more than one"
                                                                             : "no");
        json_decref(plan);
        return EXIT_USAGE;
    }
    json_array_foreach(json_object_get(plan, "tenants"), i, t)
        json_array_foreach(json_object_get(t, "rules"), k, r)
            describe(r, json_string_value(json_object_get(t, "name")), subjects);
    json_array_foreach(json_object_get(json_object_get(plan, "tenant_template"), "rules"), k, r)
        describe(r, NULL, subjects);
    json_decref(plan);
    return EXIT_OK;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'}, {"url", required_argument, NULL, 'u'},
        {"interval", required_argument, NULL, 'i'}, {"once", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *target = NULL, *url_opt = NULL;
    double interval = 1.0;
    bool once = false, json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 't': target = optarg; break;
        case 'u': url_opt = optarg; break;
        case 'i': {
            char *end;
            errno = 0;
            interval = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(interval >= 0.1 && interval <= 60))
                return cli_usage_error("top", "--interval takes seconds from 0.1 to 60, "
                                       "not '%s'", optarg);
            break;
        }
        case 'o': once = true; break;
        case 'j': json = true; break;
        case 'h': fputs(help, stdout); return EXIT_OK;
        default:
            return cli_usage_error("top", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *plan = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return cli_usage_error("top", "unexpected argument '%s'", argv[optind + 1]);
    if (!plan && !url_opt)
        return cli_usage_error("top", "give a PLAN (with its nginx target's metrics_url) or "
                               "--url");
    if (target && !plan)
        return cli_usage_error("top", "--target names an nginx target of a PLAN: give it");
    char url[2048] = "";
    json_t *subjects = json_object();
    int rc = EXIT_OK;
    if (plan && (rc = from_plan(plan, target, url, sizeof url, subjects)) != EXIT_OK) {
        json_decref(subjects);
        return rc;
    }
    if (url_opt)
        snprintf(url, sizeof url, "%s", url_opt);
    rerr e = {0};
    httpc *h = httpc_new(2000, 5000, NULL, &e);
    if (!h) {
        fprintf(stderr, "rlc top: error: %s\n", e.msg);
        json_decref(subjects);
        return EXIT_FAIL;
    }
    bool tty = !json && !once && isatty(STDOUT_FILENO);
    scrape a, b;
    char err[600];
    if (!do_scrape(h, url, &a, err, sizeof err)) {
        fprintf(stderr, "rlc top: error: %s\n", err);
        rc = EXIT_FAIL;
        goto out;
    }
    for (;;) {
        struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
        nanosleep(&ts, NULL);
        if (!do_scrape(h, url, &b, err, sizeof err)) {
            fprintf(stderr, "rlc top: error: %s\n", err);
            rc = EXIT_FAIL;
            scrape_free(&a);
            goto out;
        }
        json_t *r = report(url, &a, &b, subjects);
        if (json) {
            char *s = json_dumps(r, JSON_COMPACT);
            puts(s);
            free(s);
        } else {
            print_text(r, tty);
        }
        json_decref(r);
        scrape_free(&a);
        a = b;
        if (!tty)
            break;
    }
    scrape_free(&a);
out:
    httpc_free(h);
    json_decref(subjects);
    return rc;
}
