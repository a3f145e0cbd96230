/* cmd_test.c - `rlc test FILE...`: runs the policy's `test` blocks on the
 * simulator (runtime/sim.c), the same engine the differential test proves
 * equal to the Redis library.  Each `send ... expect` is one assertion;
 * each test starts from empty counters at time zero (SPEC.md 2.11). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "plan_key.h"
#include "policy_rules.h"
#include "sim.h"

static const char help[] =
    "usage: rlc test [OPTIONS] FILE...\n"
    "\n"
    "Run the `test` blocks of the policy in FILE... (and its imports) against the\n"
    "simulator: each test starts with empty counters at time 0; `send N within D`\n"
    "spreads N requests evenly over D, `expect allowed|rejected M` is checked.\n"
    "Prints one line per assertion (its location on failure) and a summary\n"
    "line 'N passed, N failed'.\n"
    "\n"
    "options:\n"
    "  -q, --quiet     print only failures and the summary\n"
    "  --color=WHEN    auto (default), always, never (diagnostics)\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed or the policy has errors,\n"
    "2 usage or I/O error\n";

typedef struct req {
    const char *tenant;
    buf path;
    const char *method, *route;
    int64_t cost;
    bool set;
} req;

static void set_request(req *r, const ast_node *n)
{
    buf_reset(&r->path);
    r->tenant = NULL;
    for (const ast_seg *s = n->u.request.path; s; s = s->next) {
        if (s->kind == AST_TENANT) {
            r->tenant = s->name.s;
            continue;
        }
        const char *kind = s->kind == AST_GROUP ? "group" : "key";
        plan_subject_seg(&r->path, r->path.len == 0, kind, strlen(kind), s->name.s,
                         strlen(s->name.s));
    }
    r->method = n->u.request.method.s;
    r->route = n->u.request.route.s;
    r->cost = n->u.request.cost.set ? n->u.request.cost.v : 1;
    r->set = true;
}

/* Runs one test block; counts its assertions into *pass / *fail. */
static bool run_test(policy_rules *pr, const ast_node *t, bool quiet, int *pass, int *fail)
{
    sim *s = sim_new(&pr->rs);
    req r = {0};
    buf_init(&r.path, 1 << 20);
    buf loc;
    buf_init(&loc, 4096);
    int64_t now = 0;
    bool ok = true;
    for (const ast_node *st = t->children; st; st = st->next) {
        if (st->kind == AST_T_REQUEST) {
            set_request(&r, st);
            continue;
        }
        if (st->kind == AST_T_WAIT) {
            now += st->u.wait.d.ms;
            continue;
        }
        if (st->kind != AST_T_SEND || !r.set)
            continue;
        int64_t n = st->u.send.n.v, within = st->u.send.within.set ? st->u.send.within.ms : 0;
        int64_t allowed = 0, rejected = 0;
        const char *error = NULL;
        for (int64_t i = 0; i < n; i++) {
            int64_t at = now + (within ? i * within / n : 0);
            sim_decision d;
            sim_status rc = sim_decide(s, r.tenant, buf_str(&r.path), r.method, r.route, r.cost,
                                       at, NULL, &d);
            if (rc != SIM_OK) {
                error = sim_status_text(rc);
                break;
            }
            if (d.allowed)
                allowed++;
            else
                rejected++;
            /* A test's requests complete at once: give the lease back. */
            if (d.lease[0]) {
                int64_t released;
                sim_release(s, r.tenant, buf_str(&r.path), r.method, r.route, d.lease, at,
                            &released);
            }
        }
        now += within;
        int64_t got = st->u.send.expect_allowed ? allowed : rejected;
        const char *what = st->u.send.expect_allowed ? "allowed" : "rejected";
        buf_reset(&loc);
        render_location(&loc, &pr->p.map, st->sp);
        if (!error && got == st->u.send.expect.v) {
            ++*pass;
            if (!quiet)
                printf("ok   %s: test \"%s\": send %lld: %lld allowed, %lld rejected\n",
                       buf_str(&loc), t->name.s, (long long)n, (long long)allowed,
                       (long long)rejected);
        } else {
            ++*fail;
            ok = false;
            if (error)
                printf("FAIL %s: test \"%s\": send %lld: %s\n", buf_str(&loc), t->name.s,
                       (long long)n, error);
            else
                printf("FAIL %s: test \"%s\": send %lld: expected %lld %s, got %lld (%lld "
                       "allowed, %lld rejected)\n",
                       buf_str(&loc), t->name.s, (long long)n,
                       (long long)st->u.send.expect.v, what, (long long)got,
                       (long long)allowed, (long long)rejected);
        }
    }
    buf_free(&loc);
    buf_free(&r.path);
    sim_free(s);
    return ok;
}

int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"color", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    bool quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'c':
            if (!cli_parse_color(optarg, stderr, &ro.color))
                return cli_usage_error("test", "--color takes auto, always or never");
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("test", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("test", "no input files");
    for (int i = optind; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n > 5 && !strcmp(argv[i] + n - 5, ".json"))
            return cli_usage_error("test", "'%s': tests live in the policy sources, not in a "
                                           "plan", argv[i]);
    }
    policy_rules pr;
    int rc = policy_rules_load("test", argv + optind, argc - optind, &ro, &pr);
    if (rc != EXIT_OK) {
        policy_rules_free(&pr);
        return rc;
    }
    int pass = 0, fail = 0;
    for (size_t i = 0; i < pr.m->ntests; i++)
        run_test(&pr, pr.m->tests[i], quiet, &pass, &fail);
    printf("%d passed, %d failed\n", pass, fail);
    policy_rules_free(&pr);
    return fail ? EXIT_FAIL : EXIT_OK;
}
