/* cmd_plan.c - `rlc plan show PLAN`: what a plan file holds and whether it
 * may be deployed (format, compiler, digest), as text or --json.  Loading
 * and verifying is runtime/plan_load.c's; this file only summarises. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan_load.h"

static const char help[] =
    "usage: rlc plan show [--json] PLAN\n"
    "\n"
    "Summarise the plan file PLAN (written by 'rlc compile'): policy, sources and\n"
    "their digests, whether plan_digest matches the content, tenants, rules per\n"
    "algorithm, targets and the steps a deploy performs on each.\n"
    "\n"
    "options:\n"
    "  --json       the summary as one JSON object on standard output\n"
    "  -h, --help   this text\n"
    "\n"
    "exit status: 0 the plan is intact and this rlc can run it, 1 it is modified,\n"
    "malformed or from an incompatible compiler, 2 usage error or unreadable file\n";

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "?";
}

static long long iget(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* Counts rules per algorithm ("concurrency" for concurrency rules) and
 * shadow rules, into an object {name: count}. */
static json_t *rule_counts(const json_t *tenants, size_t *nrules, size_t *nshadow)
{
    json_t *c = json_object();
    size_t i, j;
    json_t *t, *r;
    *nrules = *nshadow = 0;
    json_array_foreach(tenants, i, t) {
        json_array_foreach(json_object_get(t, "rules"), j, r) {
            /* Left out: a rate rule's default algorithm (SPEC.md 5.5). */
            const char *k = json_object_get(r, "algorithm") ? sget(r, "algorithm")
                            : json_object_get(r, "kind")    ? sget(r, "kind")
                                                            : "token_bucket";
            json_int_t n = json_integer_value(json_object_get(c, k));
            json_object_set_new(c, k, json_integer(n + 1));
            (*nrules)++;
            if (json_is_true(json_object_get(r, "shadow")))
                (*nshadow)++;
        }
    }
    return c;
}

static json_t *target_summary(const json_t *plan)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *t, *s;
    json_array_foreach(json_object_get(plan, "targets"), i, t) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(sget(t, "name")));
        json_object_set_new(o, "kind", json_string(sget(t, "kind")));
        json_t *ops = json_array();
        json_array_foreach(json_object_get(plan, "steps"), j, s)
            if (!strcmp(sget(s, "target"), sget(t, "name")))
                json_array_append_new(ops, json_string(sget(s, "op")));
        json_object_set_new(o, "steps", ops);
        json_array_append_new(out, o);
    }
    return out;
}

static int show(const char *path, bool as_json)
{
    rerr e = {0};
    json_t *plan = plan_parse_file(path, &e);
    if (!plan) {
        char code[16];
        diag_code_str(e.code, code);
        fprintf(stderr, "rlc plan show: error[%s]: %s\n", code, e.msg);
        return e.code == DIAG_PLAN_READ ? EXIT_USAGE : EXIT_FAIL;
    }
    char computed[DIGEST_HEX_LEN + 1] = "";
    bool ok = plan_verify(plan, computed, &e);
    char code[16] = "";
    if (!ok)
        diag_code_str(e.code, code);

    const json_t *pol = json_object_get(plan, "policy");
    const json_t *lib = json_object_get(plan, "library");
    const json_t *tenants = json_object_get(plan, "tenants");
    const json_t *verify = json_object_get(plan, "verify");
    const json_t *tmpl = json_object_get(plan, "tenant_template");
    size_t ntmpl = json_array_size(json_object_get(tmpl, "rules"));
    size_t nrules, nshadow;
    json_t *counts = rule_counts(tenants, &nrules, &nshadow);
    json_t *targets = target_summary(plan);
    size_t nverify = json_array_size(verify), nexpect = 0, i;
    json_t *v;
    json_array_foreach(verify, i, v)
        if (!json_is_null(json_object_get(v, "expect")))
            nexpect++;

    if (as_json) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "ok", json_boolean(ok));
        if (!ok) {
            json_object_set_new(o, "code", json_string(code));
            json_object_set_new(o, "error", json_string(e.msg));
        }
        json_object_set_new(o, "format", json_integer(iget(plan, "format")));
        json_object_set_new(o, "compiler", json_string(sget(plan, "compiler")));
        json_object_set(o, "policy", json_is_object(pol) ? (json_t *)pol : json_null());
        json_object_set_new(o, "plan_digest", json_string(sget(plan, "plan_digest")));
        json_object_set_new(o, "computed_digest", json_string(computed));
        json_t *srcs = json_object_get(plan, "sources");
        json_object_set(o, "sources", json_is_array(srcs) ? srcs : json_null());
        json_t *l = json_object();
        json_object_set_new(l, "name", json_string(sget(lib, "name")));
        json_object_set_new(l, "version", json_integer(iget(lib, "version")));
        json_object_set_new(l, "sha256", json_string(sget(lib, "sha256")));
        json_object_set_new(o, "library", l);
        json_object_set_new(o, "tenants", json_integer((json_int_t)json_array_size(tenants)));
        json_object_set_new(o, "tenant_template_rules",
                            tmpl ? json_integer((json_int_t)ntmpl) : json_null());
        json_object_set_new(o, "rules", json_integer((json_int_t)nrules));
        json_object_set_new(o, "shadow_rules", json_integer((json_int_t)nshadow));
        json_object_set(o, "rules_by_algorithm", counts);
        json_object_set(o, "targets", targets);
        json_object_set_new(o, "verify_cases", json_integer((json_int_t)nverify));
        json_object_set_new(o, "verify_expected", json_integer((json_int_t)nexpect));
        char *s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("plan      %s\n", path);
        printf("policy    %s (namespace %s, time %s, on store error %s, max clock skew "
               "%lldms)\n",
               sget(pol, "name"), sget(pol, "namespace"), sget(pol, "time_source"),
               sget(pol, "on_store_error"), iget(pol, "max_clock_skew_ms"));
        printf("format    %lld, compiled by %s\n", iget(plan, "format"), sget(plan, "compiler"));
        if (ok)
            printf("digest    ok %s\n", sget(plan, "plan_digest"));
        else
            printf("digest    %s %s\n", e.code == DIAG_PLAN_DIGEST ? "MISMATCH" : "not checked",
                   sget(plan, "plan_digest"));
        json_t *srcs = json_object_get(plan, "sources");
        printf("sources   %zu\n", json_array_size(srcs));
        json_t *s;
        json_array_foreach(srcs, i, s)
            printf("  %-40s %.16s\n", sget(s, "path"), sget(s, "sha256"));
        printf("library   %s version %lld, sha256 %.16s, %zu bytes\n", sget(lib, "name"),
               iget(lib, "version"), sget(lib, "sha256"),
               json_string_length(json_object_get(lib, "source")));
        printf("tenants   %zu\n", json_array_size(tenants));
        if (tmpl)
            printf("tenant *  %zu rule%s, for every tenant not listed\n", ntmpl,
                   ntmpl == 1 ? "" : "s");
        printf("rules     %zu", nrules);
        static const char *const kinds[] = {"token_bucket", "gcra", "sliding_window",
                                            "fixed_window", "concurrency"};
        const char *sep = ": ";
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            json_int_t n = json_integer_value(json_object_get(counts, kinds[k]));
            if (n) {
                printf("%s%s %lld", sep, kinds[k], (long long)n);
                sep = ", ";
            }
        }
        printf("\n");
        if (nshadow)
            printf("          %zu shadow (counted, never reject)\n", nshadow);
        printf("targets   %zu\n", json_array_size(targets));
        json_t *t;
        json_array_foreach(targets, i, t) {
            printf("  %-16s %-6s", sget(t, "name"), sget(t, "kind"));
            size_t j;
            json_t *op;
            sep = "  steps: ";
            json_array_foreach(json_object_get(t, "steps"), j, op) {
                printf("%s%s", sep, json_string_value(op));
                sep = ", ";
            }
            printf("\n");
        }
        printf("verify    %zu cases, %zu with expected decisions\n", nverify, nexpect);
    }
    if (!ok)
        fprintf(stderr, "rlc plan show: error[%s]: %s\n", code, e.msg);
    json_decref(counts);
    json_decref(targets);
    json_decref(plan);
    return ok ? EXIT_OK : EXIT_FAIL;
}

int cmd_plan(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("plan", "say what to do: rlc plan show PLAN");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "show") != 0)
        return cli_usage_error("plan", "unknown subcommand '%s' (expected show)", argv[1]);
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool as_json = false;
    int c;
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': as_json = true; break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("plan", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("plan", "no plan file");
    if (optind + 1 < argc)
        return cli_usage_error("plan", "one plan file at a time");
    return show(argv[optind], as_json);
}
