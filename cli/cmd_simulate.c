/* cmd_simulate.c - `rlc simulate POLICY --trace FILE.csv | --synthetic
 * SHAPE`: replays requests through the simulator (runtime/sim.c) and writes
 * every decision plus a per-limit summary.  The decisions are the ones the
 * Redis library would make on the same requests at the same times (the
 * differential test holds the two equal).  Requests complete at once: a
 * concurrency lease is released right after its decision, so traces
 * exercise rates (a trace has no request durations). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "policy_rules.h"
#include "sim.h"
#include "trace.h"
#include "xalloc.h"


/* Tenant t of rs, t == ntenants being `tenant *` (a ruleset without one
 * gives an empty tenant there, so loops over t <= ntenants need no test). */
static const rl_tenant *tenant_at(const rl_ruleset *rs, size_t t)
{
    static const rl_tenant none = {.name = "*"};
    if (t < rs->ntenants)
        return &rs->tenants[t];
    return rs->any_tenant ? rs->any_tenant : &none;
}

static const char help[] =
    "usage: rlc simulate [OPTIONS] POLICY... (--trace FILE.csv | --synthetic SHAPE)\n"
    "\n"
    "Replay requests through the simulator.  POLICY is .rlp sources (checked and\n"
    "planned in memory) or one compiled plan.json.\n"
    "\n"
    "Trace: CSV with columns time_ms,tenant,path,method,route,cost (a header line\n"
    "is skipped; no quoting: fields hold no commas).  path names the subject\n"
    "below the tenant as kind:name segments joined by '/', e.g.\n"
    "group:team-a/key:k_123 ('' or '-' for the tenant itself; '%' and '/' in names\n"
    "written %25 and %2F).  method and route may be empty; cost defaults to 1.\n"
    "Rows must be in time order.\n"
    "\n"
    "Synthetic load (one request shape, from time 0):\n"
    "  steady   RATE requests per second, evenly spaced\n"
    "  burst    RATE requests at the start of every second\n"
    "  ramp     the rate climbs linearly from 0 to 2 x RATE (RATE on average)\n"
    "  --tenant NAME (default: the first tenant)  --path PATH (default: tenant)\n"
    "  --route 'METHOD /path'  --cost N  --rate N (default 100)\n"
    "  --duration MS (default 10000)\n"
    "\n"
    "Output: one line per decision on standard output (or -o FILE), CSV\n"
    "  time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,shadow\n"
    "(shadow: ids of shadow limits that would reject, joined by '|'), or JSON lines\n"
    "with --json.  Then a per-limit summary: admitted, rejected, would-reject (shadow\n"
    "limits), peak usage.  CSV mode prints it on standard error; --json appends it\n"
    "as a final {\"summary\": ...} line.\n"
    "\n"
    "options:\n"
    "  --json          JSON lines instead of CSV\n"
    "  -o, --output F  write decisions (and the JSON summary) to F\n"
    "  --no-decisions  print only the summary\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 done, 1 errors in the policy or the trace, 2 usage or I/O error\n";

typedef struct stats {
    int64_t applied, admitted, rejected, would_reject, peak;
} stats;

typedef struct run {
    policy_rules *pr;
    sim *s;
    stats **st;               /* [tenant][rule] */
    FILE *out;
    bool json, decisions;
    int64_t requests, allowed, rejected, errors;
    buf line;
} run;

static int64_t capacity(const rl_rule *r)
{
    if (r->kind == PLAN_CONCURRENCY)
        return r->max;
    if (plan_kind_has_burst(r->kind))
        return r->burst;
    return r->count;
}

/* Decides one request and writes its line; false on a bad request. */
static bool one(run *R, int64_t t, const char *tenant, const char *path, const char *method,
                const char *route, int64_t cost, char *err, size_t errlen)
{
    sim_decision d;
    sim_status st = sim_decide(R->s, tenant, path, method, route, cost, t, NULL, &d);
    if (st != SIM_OK) {
        snprintf(err, errlen, "%s (tenant \"%s\", path \"%s\")", sim_status_text(st), tenant,
                 path);
        return false;
    }
    R->requests++;
    if (d.allowed)
        R->allowed++;
    else
        R->rejected++;
    const rl_tenant *ten = rules_tenant_or_template(&R->pr->rs, tenant);
    stats *ts = R->st[ten == R->pr->rs.any_tenant ? R->pr->rs.ntenants
                                                  : (size_t)(ten - R->pr->rs.tenants)];
    for (size_t i = 0; i < d.noutcomes; i++) {
        const sim_outcome *o = &d.outcomes[i];
        stats *x = &ts[o->rule - ten->rules];
        x->applied++;
        if (o->charged)
            x->admitted++;
        if (!o->admit)
            (o->rule->shadow ? &x->would_reject : &x->rejected)[0]++;
        /* Usage counts what was charged: an admitting verdict that was not
         * charged (another limit rejected) reports the remaining it would
         * have left. */
        if (o->admit && !o->charged)
            continue;
        int64_t used = capacity(o->rule) - o->remaining;
        if (o->rule->kind == PLAN_CONCURRENCY)
            used = o->used;
        if (used > x->peak)
            x->peak = used;
    }
    if (d.lease[0]) {
        int64_t released;
        sim_release(R->s, tenant, path, method, route, d.lease, t, &released);
    }
    if (!R->decisions)
        return true;
    buf *b = &R->line;
    buf_reset(b);
    if (R->json) {
        buf_printf(b, "{\"time_ms\":%lld,\"tenant\":", (long long)t);
        buf_json_str(b, tenant);
        buf_puts(b, ",\"path\":");
        buf_json_str(b, path);
        buf_puts(b, ",\"method\":");
        buf_json_str(b, method ? method : "");
        buf_puts(b, ",\"route\":");
        buf_json_str(b, route ? route : "");
        buf_printf(b, ",\"cost\":%lld,\"allowed\":%s,\"rule\":", (long long)cost,
                   d.allowed ? "true" : "false");
        if (d.rule)
            buf_json_str(b, d.rule->id);
        else
            buf_puts(b, "null");
        buf_printf(b, ",\"remaining\":%lld,\"reset_ms\":%lld,\"retry_ms\":%lld,\"shadow\":[",
                   (long long)d.remaining, (long long)d.reset_ms, (long long)d.retry_ms);
        for (size_t i = 0; i < d.nshadow; i++) {
            if (i)
                buf_putc(b, ',');
            buf_json_str(b, d.shadow[i]->id);
        }
        buf_puts(b, "]}\n");
    } else {
        buf_printf(b, "%lld,%s,%s,%s,%s,%lld,%d,%s,%lld,%lld,%lld,", (long long)t, tenant, path,
                   method ? method : "", route ? route : "", (long long)cost, d.allowed ? 1 : 0,
                   d.rule ? d.rule->id : "", (long long)d.remaining, (long long)d.reset_ms,
                   (long long)d.retry_ms);
        for (size_t i = 0; i < d.nshadow; i++)
            buf_printf(b, "%s%s", i ? "|" : "", d.shadow[i]->id);
        buf_putc(b, '\n');
    }
    fwrite(buf_str(b), 1, b->len, R->out);
    return true;
}

static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*s)
        return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int replay_trace(run *R, const char *file)
{
    FILE *fp = !strcmp(file, "-") ? stdin : fopen(file, "r");
    if (!fp) {
        fprintf(stderr, "rlc simulate: cannot read trace '%s'\n", file);
        return EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    trace_reader tr;
    trace_reader_init(&tr);
    int rc = EXIT_OK;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        trace_req q;
        char err[256];
        trace_status st = trace_read_line(&tr, line, (size_t)len, &q, err, sizeof err);
        if (st == TRACE_SKIP)
            continue;
        if (st == TRACE_REQUEST &&
            one(R, q.time_ms, q.tenant, q.path, q.method, q.route, q.cost, err, sizeof err))
            continue;
        fprintf(stderr, "rlc simulate: %s:%ld: %s\n", file, tr.lineno, err);
        rc = EXIT_FAIL;
        break;
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

typedef struct synth {
    const char *shape, *tenant, *path, *method, *route;
    int64_t rate, duration, cost;
} synth;

static int replay_synthetic(run *R, const synth *y)
{
    char err[256];
    int64_t n = y->rate * y->duration / 1000;
    for (int64_t k = 0; k < n; k++) {
        int64_t t;
        if (!strcmp(y->shape, "steady"))
            t = k * 1000 / y->rate;
        else if (!strcmp(y->shape, "burst"))
            t = (k / y->rate) * 1000;
        else /* ramp: n(t) = n (t/D)^2 */
            t = (int64_t)((double)y->duration * sqrt((double)k / (double)n));
        if (!one(R, t, y->tenant, y->path, y->method, y->route, y->cost, err, sizeof err)) {
            fprintf(stderr, "rlc simulate: %s\n", err);
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

static void limit_text(buf *b, const rl_rule *r)
{
    if (r->kind == PLAN_CONCURRENCY)
        buf_printf(b, "concurrency %lld lease %lldms", (long long)r->max, (long long)r->lease_ms);
    else
        buf_printf(b, "%s %lld/%lldms burst %lld cost %lld", plan_kind_name(r->kind),
                   (long long)r->count, (long long)r->window_ms, (long long)r->burst,
                   (long long)r->cost);
    if (r->shadow)
        buf_puts(b, " shadow");
}

static void summary(run *R, FILE *fp)
{
    const rl_ruleset *rs = &R->pr->rs;
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    if (R->json) {
        buf_printf(&b, "{\"summary\":{\"requests\":%lld,\"allowed\":%lld,\"rejected\":%lld,"
                       "\"limits\":[",
                   (long long)R->requests, (long long)R->allowed, (long long)R->rejected);
    } else {
        buf_printf(&b, "summary: %lld requests, %lld allowed, %lld rejected\n",
                   (long long)R->requests, (long long)R->allowed, (long long)R->rejected);
        buf_printf(&b, "%-12s %-16s %-24s %-18s %-44s %9s %9s %9s %s\n", "tenant", "rule id",
                   "subject", "route", "limit", "admitted", "rejected", "would", "peak");
    }
    bool first = true;
    /* Tenants in order, then `tenant *` (every unlisted tenant's counts). */
    for (size_t t = 0; t <= rs->ntenants; t++)
        for (size_t i = 0; i < tenant_at(rs, t)->nrules; i++) {
            const stats *x = &R->st[t][i];
            const rl_rule *r = &tenant_at(rs, t)->rules[i];
            if (!x->applied)
                continue;
            buf rule;
            buf_init(&rule, 4096);
            limit_text(&rule, r);
            if (R->json) {
                buf_puts(&b, first ? "{\"tenant\":" : ",{\"tenant\":");
                buf_json_str(&b, tenant_at(rs, t)->name);
                buf_puts(&b, ",\"id\":");
                buf_json_str(&b, r->id);
                buf_puts(&b, ",\"subject\":");
                buf_json_str(&b, r->subject);
                buf_puts(&b, ",\"route\":");
                if (r->method) {
                    buf_putc(&b, '"');
                    buf_printf(&b, "%s %s", r->method, r->route);
                    buf_putc(&b, '"');
                } else {
                    buf_puts(&b, "null");
                }
                buf_puts(&b, ",\"limit\":");
                buf_json_str(&b, buf_str(&rule));
                buf_printf(&b, ",\"applied\":%lld,\"admitted\":%lld,\"rejected\":%lld,"
                               "\"would_reject\":%lld,\"peak\":%lld,\"capacity\":%lld}",
                           (long long)x->applied, (long long)x->admitted, (long long)x->rejected,
                           (long long)x->would_reject, (long long)x->peak,
                           (long long)capacity(r));
            } else {
                char route[160];
                snprintf(route, sizeof route, "%s%s%s", r->method ? r->method : "-",
                         r->method ? " " : "", r->method ? r->route : "");
                buf_printf(&b, "%-12s %-16s %-24s %-18s %-44s %9lld %9lld %9lld %lld/%lld\n",
                           tenant_at(rs, t)->name, r->id, *r->subject ? r->subject : "(tenant)",
                           route, buf_str(&rule), (long long)x->admitted,
                           (long long)x->rejected, (long long)x->would_reject,
                           (long long)x->peak, (long long)capacity(r));
            }
            buf_free(&rule);
            first = false;
        }
    if (R->json)
        buf_puts(&b, "]}}\n");
    fwrite(buf_str(&b), 1, b.len, fp);
    buf_free(&b);
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trace", required_argument, NULL, 't'},
        {"synthetic", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"no-decisions", no_argument, NULL, 'n'},
        {"tenant", required_argument, NULL, 'T'},
        {"path", required_argument, NULL, 'P'},
        {"route", required_argument, NULL, 'R'},
        {"cost", required_argument, NULL, 'C'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *trace = NULL, *output = NULL, *route_opt = NULL;
    synth y = {.path = "", .rate = 100, .duration = 10000, .cost = 1};
    bool json = false, decisions = true;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': trace = optarg; break;
        case 's': y.shape = optarg; break;
        case 'j': json = true; break;
        case 'o': output = optarg; break;
        case 'n': decisions = false; break;
        case 'T': y.tenant = optarg; break;
        case 'P': y.path = strcmp(optarg, "-") ? optarg : ""; break;
        case 'R': route_opt = optarg; break;
        case 'C':
            if (!parse_i64(optarg, 1, RL_MAX_REQUEST_COST, &y.cost))
                return cli_usage_error("simulate", "--cost takes an integer from 1 to 2^31");
            break;
        case 'r':
            if (!parse_i64(optarg, 1, 10000000, &y.rate))
                return cli_usage_error("simulate", "--rate takes 1 to 10000000 per second");
            break;
        case 'd':
            if (!parse_i64(optarg, 1, 86400000, &y.duration))
                return cli_usage_error("simulate", "--duration takes 1 to 86400000 ms");
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("simulate", "unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("simulate", "no policy given");
    if (!trace == !y.shape)
        return cli_usage_error("simulate", "give exactly one of --trace FILE and --synthetic "
                                           "SHAPE");
    if (y.shape && strcmp(y.shape, "steady") && strcmp(y.shape, "burst") &&
        strcmp(y.shape, "ramp"))
        return cli_usage_error("simulate", "unknown shape '%s' (steady, burst or ramp)",
                               y.shape);
    if (y.shape && y.rate * y.duration / 1000 > 100000000)
        return cli_usage_error("simulate", "--rate x --duration exceeds 10^8 requests");
    char method[32] = "", route[1024] = "";
    if (route_opt) {
        const char *sp = strchr(route_opt, ' ');
        if (!sp || sp == route_opt || (size_t)(sp - route_opt) >= sizeof method ||
            sp[1] != '/' || strlen(sp + 1) >= sizeof route)
            return cli_usage_error("simulate", "--route takes 'METHOD /path'");
        memcpy(method, route_opt, (size_t)(sp - route_opt));
        snprintf(route, sizeof route, "%s", sp + 1);
        y.method = method;
        y.route = route;
    }

    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    policy_rules pr;
    int rc = policy_rules_load("simulate", argv + optind, argc - optind, &ro, &pr);
    if (rc != EXIT_OK) {
        policy_rules_free(&pr);
        return rc;
    }
    if (y.shape) {
        if (!y.tenant && pr.rs.ntenants)
            y.tenant = pr.rs.tenants[0].name;
        if (!y.tenant || !rules_tenant_or_template(&pr.rs, y.tenant)) {
            fprintf(stderr, "rlc simulate: no tenant \"%s\" in the policy\n",
                    y.tenant ? y.tenant : "");
            policy_rules_free(&pr);
            return EXIT_FAIL;
        }
    }
    run R = {.pr = &pr, .json = json, .decisions = decisions, .out = stdout};
    if (output && !(R.out = fopen(output, "w"))) {
        fprintf(stderr, "rlc simulate: cannot write '%s'\n", output);
        policy_rules_free(&pr);
        return EXIT_USAGE;
    }
    buf_init(&R.line, 1 << 20);
    R.s = sim_new(&pr.rs);
    R.st = xcalloc(pr.rs.ntenants + 1, sizeof *R.st);
    for (size_t t = 0; t <= pr.rs.ntenants; t++)
        R.st[t] = xcalloc(tenant_at(&pr.rs, t)->nrules + 1, sizeof **R.st);
    if (!json && decisions)
        fputs("time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,"
              "shadow\n",
              R.out);
    rc = trace ? replay_trace(&R, trace) : replay_synthetic(&R, &y);
    summary(&R, json ? R.out : stderr);
    if (R.out != stdout && fclose(R.out) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "rlc simulate: cannot write '%s'\n", output);
        rc = EXIT_USAGE;
    }
    for (size_t t = 0; t <= pr.rs.ntenants; t++)
        free(R.st[t]);
    free(R.st);
    sim_free(R.s);
    buf_free(&R.line);
    policy_rules_free(&pr);
    return rc;
}
