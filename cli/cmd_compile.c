/* cmd_compile.c - `rlc compile FILE... -o plan.json`: the whole check
 * pipeline, then the plan (compiler/plan.c), sealed with its digest and
 * written atomically.  Any error means exit 1 and no file written; an
 * existing output file is left as it was. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "cli.h"
#include "plan.h"
#include "plan_key.h"
#include "plan_sign.h"
#include "program.h"
#include "rules.h"
#include "sim.h"

static const char help[] =
    "usage: rlc compile [OPTIONS] FILE... -o PLAN\n"
    "\n"
    "Check the policies in FILE... (exactly as 'rlc check' does) and, when they are\n"
    "free of errors, write the deployable plan to PLAN ('-' for standard output).\n"
    "The plan is canonical JSON: the same inputs give the same bytes, whatever the\n"
    "order of FILE... (SPEC.md section 5).  On any error nothing is written and an\n"
    "existing PLAN is left untouched.\n"
    "\n"
    "options:\n"
    "  -o, --output=PLAN  where to write the plan (required)\n"
    "  --library=FILE     use this enforcement library instead of the built-in one\n"
    "  --sign=KEY         sign the plan with this Ed25519 private key (PEM, from rlc\n"
    "                     keygen): the signature goes to PLAN.sig (not with -o -)\n"
    "  --format=FMT       diagnostics as text (default, stderr) or json (stdout;\n"
    "                     not with -o -)\n"
    "  --color=WHEN       auto (default), always, never\n"
    "  -W error, -Werror  treat warnings as errors\n"
    "  -q, --quiet        print no diagnostics or progress; only the exit status tells\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 plan written, 1 errors found (nothing written), 2 usage or I/O error\n";

/* Past this many tenants compiling takes long enough to report progress. */
#define PROGRESS_TENANTS 10000

/* The subject path of a verify case below its tenant, as the simulator
 * takes it: "group:a/key:b", names percent-encoded for '%' and '/'. */
static void case_subject(const json_t *path, buf *b)
{
    size_t i;
    json_t *seg;
    json_array_foreach(path, i, seg) {
        if (i == 0)
            continue;
        const json_t *kind = json_object_get(seg, "kind"), *name = json_object_get(seg, "name");
        plan_subject_seg(b, i == 1, json_string_value(kind), json_string_length(kind),
                         json_string_value(name), json_string_length(name));
    }
}

/* Fills verify[].expect with the simulator's decisions (SPEC.md 5.6): each
 * case on fresh counters, every send at at_ms.  The expectation is
 * columnar: allowed (1/0), the deciding rule id ("" when none), remaining
 * and retry_ms of each send.  Each case gets a simulator holding only its
 * tenant, so the work is O(cases x rules of one tenant), not O(cases x
 * every rule of the policy). */
static bool predict_case(const json_t *policy, const json_t *tenant, const json_t *tmpl,
                         json_t *c, size_t i, char *err, size_t errlen)
{
    json_t *mini = json_object();
    json_object_set(mini, "policy", (json_t *)policy);
    json_t *one = json_array();
    if (tenant)
        json_array_append(one, (json_t *)tenant);
    else
        json_object_set(mini, "tenant_template", (json_t *)tmpl);
    json_object_set_new(mini, "tenants", one);
    rl_ruleset rs;
    bool ok = rules_from_plan(mini, &rs, err, errlen);
    json_decref(mini);
    if (!ok)
        return false;
    sim *sm = sim_new(&rs);
    buf subj;
    buf_init(&subj, 4096);
    case_subject(json_object_get(c, "path"), &subj);
    json_t *allowed = json_array(), *rule = json_array(), *rem = json_array(),
           *retry = json_array();
    json_int_t sends = json_integer_value(json_object_get(c, "sends"));
    for (json_int_t k = 0; k < sends; k++) {
        sim_decision d;
        sim_status st = sim_decide(sm, json_string_value(json_object_get(c, "tenant")),
                                   buf_str(&subj),
                                   json_string_value(json_object_get(c, "method")),
                                   json_string_value(json_object_get(c, "route")),
                                   json_integer_value(json_object_get(c, "cost")),
                                   json_integer_value(json_object_get(c, "at_ms")), NULL, &d);
        if (st != SIM_OK) {
            snprintf(err, errlen, "verify case %zu: the simulator refused it: %s", i,
                     sim_status_text(st));
            ok = false;
            break;
        }
        json_array_append_new(allowed, json_integer(d.allowed));
        json_array_append_new(rule, json_string(d.rule ? d.rule->id : ""));
        json_array_append_new(rem, json_integer(d.remaining));
        json_array_append_new(retry, json_integer(d.retry_ms));
    }
    json_t *e = json_object();
    json_object_set_new(e, "allowed", allowed);
    json_object_set_new(e, "rule", rule);
    json_object_set_new(e, "remaining", rem);
    json_object_set_new(e, "retry_ms", retry);
    json_object_set_new(c, "expect", e);
    sim_free(sm);
    buf_free(&subj);
    rules_free(&rs);
    return ok;
}

static bool predict_verify(json_t *plan, char *err, size_t errlen)
{
    const json_t *policy = json_object_get(plan, "policy");
    const json_t *tenants = json_object_get(plan, "tenants");
    /* Cases come in tenant name order, as tenants do: one merge-like scan. */
    size_t ti = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(plan, "verify"), i, c) {
        const char *name = json_string_value(json_object_get(c, "tenant"));
        while (ti < json_array_size(tenants) &&
               strcmp(json_string_value(json_object_get(json_array_get(tenants, ti), "name")),
                      name) < 0)
            ti++;
        const json_t *t = json_array_get(tenants, ti);
        const json_t *tmpl = json_object_get(plan, "tenant_template");
        if (!t || strcmp(json_string_value(json_object_get(t, "name")), name) != 0) {
            /* Not listed: the case of `tenant *` (cases come last). */
            if (!tmpl) {
                snprintf(err, errlen, "verify case %zu names tenant \"%s\", which the plan "
                         "lacks", i, name);
                return false;
            }
            t = NULL;
        }
        if (!predict_case(policy, t, tmpl, c, i, err, errlen))
            return false;
    }
    return true;
}

/* What the command line asked for. */
typedef struct compile_args {
    render_opts ro;
    bool quiet, werror;
    const char *out, *libpath, *signkey;
} compile_args;

/* Parses the options into a; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, compile_args *a)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"library", required_argument, NULL, 'l'},
        {"sign", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"color", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (compile_args){.ro = {.color = render_color_auto(stderr), .format = FMT_TEXT}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qhW:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'l': a->libpath = optarg; break;
        case 's': a->signkey = optarg; break;
        case 'f':
            if (!cli_parse_format(optarg, &a->ro.format))
                return cli_usage_error("compile", "unknown format '%s' (expected text or json)",
                                       optarg);
            break;
        case 'c':
            if (!cli_parse_color(optarg, stderr, &a->ro.color))
                return cli_usage_error("compile", "--color takes auto, always or never");
            break;
        case 'q': a->quiet = true; break;
        case 'W':
            if (strcmp(optarg, "error") != 0)
                return cli_usage_error("compile", "unknown warning option '-W%s'", optarg);
            a->werror = true;
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            if (optopt == 'o')
                return cli_usage_error("compile", "-o needs a file name");
            return cli_usage_error("compile", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("compile", "no input files");
    if (!a->out)
        return cli_usage_error("compile", "no output: say where the plan goes with -o PLAN "
                                          "(or -o - for standard output)");
    if (!strcmp(a->out, "-") && a->ro.format == FMT_JSON)
        return cli_usage_error("compile", "--format=json and -o - would both use standard "
                                          "output");
    if (a->signkey && !strcmp(a->out, "-"))
        return cli_usage_error("compile", "--sign writes PLAN.sig beside the plan, so it needs "
                                          "-o PLAN, not -o -");
    return -1;
}

/* Prints an error with its code; --quiet silences progress, never errors. */
static void print_rerr(const rerr *e, const char *suffix)
{
    char cs[16];
    diag_code_str(e->code, cs);
    fprintf(stderr, "rlc compile: error[%s]: %s%s\n", cs, e->msg, suffix);
}

/* Writes the sealed plan to a->out, then its signature; an exit status. */
static int write_outputs(const compile_args *a, json_t *plan, const buf *tenants)
{
    char err[1024];
    if (!predict_verify(plan, err, sizeof err)) {
        fprintf(stderr, "rlc compile: cannot predict the verification cases: %s\n", err);
        return EXIT_FAIL;
    }
    if (!plan_seal_write_text(plan, tenants, a->out, err, sizeof err)) {
        fprintf(stderr, "rlc compile: error[RLC3007]: %s\n", err);
        return EXIT_USAGE;
    }
    const char *digest = json_string_value(json_object_get(plan, "plan_digest"));
    rerr se;
    if (a->signkey && !plan_sign_write(a->out, digest, a->signkey, &se)) {
        print_rerr(&se, " (the plan was written, unsigned)");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_compile(int argc, char **argv)
{
    compile_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    rerr ke;
    /* A key that cannot sign is found before anything is written. */
    if (a.signkey && !plan_sign_key_check(a.signkey, &ke)) {
        print_rerr(&ke, "");
        return EXIT_USAGE;
    }
    plan_opts po = {.compiler = "rlc " RLC_VERSION};
    char *libtext = NULL;
    if (a.libpath) {
        size_t len;
        int err = src_read_file(a.libpath, &libtext, &len);
        if (err) {
            fprintf(stderr, "rlc compile: cannot read library '%s': %s\n", a.libpath,
                    strerror(err));
            return EXIT_USAGE;
        }
        po.library_source = libtext;
        po.library_len = len;
    }
    program p;
    program_init(&p);
    bool io_ok = program_load(&p, (const char *const *)argv + optind, (size_t)(argc - optind));
    m_policy *m = NULL;
    json_t *plan = NULL;
    buf tenants;               /* the plan's tenants as canonical text */
    buf_init(&tenants, BUF_DEFAULT_MAX);
    if (io_ok) {
        check_opts co = {0};
        m = check_program(&p, &co);
    }
    bool blocked = !io_ok || !m || p.diags.nerrors || (a.werror && p.diags.nwarnings);
    bool progress = !a.quiet && m && m->ntenants >= PROGRESS_TENANTS;
    if (!blocked) {
        if (progress)
            fprintf(stderr, "rlc compile: building the plan of %zu tenants\n", m->ntenants);
        plan = plan_build_text(m, &p, &po, &p.diags, &tenants);
        blocked = !plan;
    }
    if (!a.quiet)
        render_all(a.ro.format == FMT_JSON ? stdout : stderr, &p.map, &p.diags, &a.ro);
    rc = !io_ok ? EXIT_USAGE : blocked ? EXIT_FAIL : write_outputs(&a, plan, &tenants);
    if (rc == EXIT_OK && progress)
        fprintf(stderr, "rlc compile: wrote %s (plan_digest %s)\n", a.out,
                json_string_value(json_object_get(plan, "plan_digest")));
    buf_free(&tenants);
    json_decref(plan);
    model_free(m);
    program_free(&p);
    free(libtext);
    return rc;
}
