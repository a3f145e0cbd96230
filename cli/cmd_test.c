/* cmd_test.c - `rlc test FILE...`: runs the policy's `test` blocks on the
 * simulator (runtime/sim.c), the same engine the differential test proves
 * equal to the Redis library.  Each `send ... expect` is one assertion;
 * each test starts from empty counters at time zero (SPEC.md 2.11).
 * Results print as lines for people, or as JSON or JUnit XML for CI. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "plan_key.h"
#include "policy_files.h"
#include "policy_rules.h"
#include "sim.h"
#include "xalloc.h"

static const char help[] =
    "usage: rlc test [OPTIONS] FILE|DIR...\n"
    "\n"
    "Run the `test` blocks of the policy in FILE... (and its imports) against the\n"
    "simulator: each test starts with empty counters at time 0; `send N within D`\n"
    "spreads N requests evenly over D, `expect allowed|rejected M` is checked.\n"
    "A DIR stands for every .rlp file under it, each a policy of its own.\n"
    "Prints one line per assertion (its location on failure) and a summary\n"
    "line 'N passed, N failed'.  No test block at all is exit 1.\n"
    "\n"
    "options:\n"
    "  --format=FMT    text (default), json (one document on stdout) or junit\n"
    "                  (JUnit XML on stdout, one testsuite per test block)\n"
    "  --each          run each FILE as a policy of its own\n"
    "  --allow-empty   exit 0 when the policy has no test blocks (default: exit 1)\n"
    "  -q, --quiet     print only failures and the summary (text)\n"
    "  --color=WHEN    auto (default), always, never (diagnostics)\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed, the policy has errors or no\n"
    "tests, 2 usage or I/O error\n";

typedef enum test_format { TF_TEXT, TF_JSON, TF_JUNIT } test_format;

/* One assertion's outcome, kept for the JSON and JUnit formats. */
typedef struct outcome {
    char *test;               /* the test block's name */
    char *where;              /* "file:line:col" */
    char *file;
    unsigned line, col;
    long long sends, want, allowed, rejected;
    bool expect_allowed;
    const char *error;        /* the simulator's, or NULL */
    bool ok;
} outcome;

typedef struct outcomes {
    outcome *v;
    size_t n;
} outcomes;

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

/* Runs one test block; counts its assertions into *pass / *fail, prints
 * them (text) or adds them to out (other formats). */
static bool run_test(policy_rules *pr, const ast_node *t, bool quiet, outcomes *out, int *pass,
                     int *fail)
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
        bool passed = !error && got == st->u.send.expect.v;
        if (out) {
            out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
            outcome *o = &out->v[out->n++];
            *o = (outcome){.test = xstrdup(t->name.s), .where = xstrdup(buf_str(&loc)), .sends = n,
                           .want = st->u.send.expect.v, .allowed = allowed,
                           .rejected = rejected, .expect_allowed = st->u.send.expect_allowed,
                           .error = error, .ok = passed};
            o->file = xstrdup(pr->p.map.files[st->sp.file].name);
            srcmap_linecol(&pr->p.map, st->sp.file, st->sp.start, &o->line, &o->col);
            passed ? ++*pass : ++*fail;
            ok = ok && passed;
            continue;
        }
        if (passed) {
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

static void print_json(const outcomes *out, int pass, int fail)
{
    json_t *list = json_array();
    for (size_t i = 0; i < out->n; i++) {
        const outcome *o = &out->v[i];
        json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:b}", "test",
                              o->test, "file", o->file, "line", (json_int_t)o->line, "col",
                              (json_int_t)o->col, "sends", (json_int_t)o->sends, "expect",
                              o->expect_allowed ? "allowed" : "rejected", "want",
                              (json_int_t)o->want, "allowed", (json_int_t)o->allowed,
                              "rejected", (json_int_t)o->rejected, "ok", o->ok);
        if (o->error)
            json_object_set_new(j, "error", json_string(o->error));
        json_array_append_new(list, j);
    }
    json_t *doc = json_pack("{s:o, s:i, s:i}", "assertions", list, "passed", pass, "failed",
                            fail);
    json_dumpf(doc, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(doc);
}

/* Text for an XML attribute or element: the five predefined entities, and
 * control characters (not allowed in XML 1.0) as '?'. */
static void xml_text(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", stdout); break;
        case '<': fputs("&lt;", stdout); break;
        case '>': fputs("&gt;", stdout); break;
        case '"': fputs("&quot;", stdout); break;
        case '\'': fputs("&apos;", stdout); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                fputc('?', stdout);
            else
                fputc(c, stdout);
        }
    }
}

/* JUnit XML as CI systems read it (GitHub's test reporters, GitLab, Jenkins):
 * a testsuite per test block, a testcase per assertion named by where it
 * is, a <failure> with the numbers when it failed. */
static void print_junit(const outcomes *out, int pass, int fail)
{
    printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    printf("<testsuites name=\"rlc test\" tests=\"%d\" failures=\"%d\">\n", pass + fail, fail);
    for (size_t i = 0; i < out->n;) {
        size_t j = i, nfail = 0;
        while (j < out->n && !strcmp(out->v[j].test, out->v[i].test) &&
               !strcmp(out->v[j].file, out->v[i].file)) {
            nfail += !out->v[j].ok;
            j++;
        }
        fputs("  <testsuite name=\"", stdout);
        xml_text(out->v[i].test);
        printf("\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n", j - i, nfail);
        for (size_t k = i; k < j; k++) {
            const outcome *o = &out->v[k];
            char name[96];
            snprintf(name, sizeof name, "send %lld: expect %s %lld", o->sends,
                     o->expect_allowed ? "allowed" : "rejected", o->want);
            fputs("    <testcase classname=\"", stdout);
            xml_text(o->test);
            fputs("\" name=\"", stdout);
            xml_text(name);
            fputs("\" file=\"", stdout);
            xml_text(o->file);
            printf("\" line=\"%u\"", o->line);
            if (o->ok) {
                fputs("/>\n", stdout);
                continue;
            }
            char msg[160];
            if (o->error)
                snprintf(msg, sizeof msg, "%s", o->error);
            else
                snprintf(msg, sizeof msg, "expected %lld %s, got %lld (%lld allowed, %lld rejected)",
                         o->want, o->expect_allowed ? "allowed" : "rejected",
                         o->expect_allowed ? o->allowed : o->rejected, o->allowed, o->rejected);
            fputs(">\n      <failure message=\"", stdout);
            xml_text(msg);
            fputs("\" type=\"assertion\">", stdout);
            xml_text(o->where);
            fputs(": ", stdout);
            xml_text(msg);
            fputs("</failure>\n    </testcase>\n", stdout);
        }
        fputs("  </testsuite>\n", stdout);
        i = j;
    }
    fputs("</testsuites>\n", stdout);
}

int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"allow-empty", no_argument, NULL, 'e'},
        {"each", no_argument, NULL, 'E'},
        {"quiet", no_argument, NULL, 'q'},
        {"color", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    bool quiet = false, allow_empty = false, each = false;
    test_format tf = TF_TEXT;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'e': allow_empty = true; break;
        case 'E': each = true; break;
        case 'f':
            if (!strcmp(optarg, "text"))
                tf = TF_TEXT;
            else if (!strcmp(optarg, "json"))
                tf = TF_JSON;
            else if (!strcmp(optarg, "junit"))
                tf = TF_JUNIT;
            else
                return cli_usage_error("test", "unknown format '%s' (expected text, json or "
                                       "junit)", optarg);
            break;
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
    /* A directory stands for every .rlp file under it, each a policy of
     * its own; the other arguments make one policy, or with --each one
     * each. */
    policy_units pu;
    char perr[512];
    if (!policy_units_from_args(argv + optind, (size_t)(argc - optind), each, &pu, perr,
                                sizeof perr)) {
        fprintf(stderr, "rlc test: error[RLC0001]: %s\n", perr);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK, pass = 0, fail = 0;
    size_t ntests = 0;
    outcomes out = {0};
    for (size_t u = 0; u < pu.n; u++) {
        policy_rules pr;
        int lrc = policy_rules_load("test", pu.u[u].paths, (int)pu.u[u].npaths, &ro, &pr);
        if (lrc != EXIT_OK) {
            if (lrc == EXIT_USAGE || rc == EXIT_OK)
                rc = lrc;
            policy_rules_free(&pr);
            continue;
        }
        ntests += pr.m->ntests;
        for (size_t i = 0; i < pr.m->ntests; i++)
            run_test(&pr, pr.m->tests[i], quiet, tf == TF_TEXT ? NULL : &out, &pass, &fail);
        policy_rules_free(&pr);
    }
    if (tf == TF_JSON)
        print_json(&out, pass, fail);
    else if (tf == TF_JUNIT)
        print_junit(&out, pass, fail);
    else if (rc == EXIT_OK || pass + fail)
        printf("%d passed, %d failed\n", pass, fail);
    /* A CI gate that checked nothing must not look like one that passed. */
    bool empty = ntests == 0 && rc == EXIT_OK;
    if (empty)
        fprintf(stderr, "rlc test: no test blocks in %s%s: nothing was checked%s\n",
                argv[optind], argc - optind > 1 ? " and the other files named" : "",
                allow_empty ? "" : " (exit 1; --allow-empty to accept)");
    for (size_t i = 0; i < out.n; i++) {
        free(out.v[i].test);
        free(out.v[i].where);
        free(out.v[i].file);
    }
    free(out.v);
    policy_units_free(&pu);
    if (rc != EXIT_OK)
        return rc;
    return fail || (empty && !allow_empty) ? EXIT_FAIL : EXIT_OK;
}
