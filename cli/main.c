/* main.c - the rlc command: global options and dispatch to one file per
 * verb (cli/cmd_*.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "suggest.h"
#include "tls_conn.h"
#include "xalloc.h"

/* In the order of the work: write and check, compile, try, deploy, audit. */
static const verb verbs[] = {
    {"check", cmd_check, "parse and check policies; diagnostics for people or CI"},
    {"fmt", cmd_fmt, "rewrite policies in canonical form"},
    {"import", cmd_import, "turn Envoy ratelimit or Limitador YAML into a policy"},
    {"explain", cmd_explain, "explain a diagnostic code"},
    {"compile", cmd_compile, "check policies and write a deployable plan"},
    {"keygen", cmd_keygen, "make an Ed25519 key pair for signing plans"},
    {"plan", cmd_plan, "show what a plan file holds and whether it is intact"},
    {"simulate", cmd_simulate, "replay a trace or synthetic load through the simulator"},
    {"test", cmd_test, "run the policy's test blocks on the simulator"},
    {"run", cmd_run, "apply a plan to its targets, with checkpoint and rollback"},
    {"diff", cmd_diff, "show what a plan would change against live state"},
    {"status", cmd_status, "active plan, lock holder, recent deploys and drift"},
    {"rollback", cmd_rollback, "restore a deploy checkpoint"},
    {"audit", cmd_audit, "verify or show the hash-chained audit log of deploys"},
    {"top", cmd_top, "which limits an nginx gateway is rejecting now, from its metrics"},
    {"decide", cmd_decide, "ask a live store to decide one request (--dry-run: charge nothing)"},
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: rlc [--version] [--help] VERB [ARGS]\n"
            "\n"
            "rlc compiles rate-limit policies (.rlp) into checked, deployable plans.\n"
            "\n"
            "verbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(fp, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(fp, "\n'rlc VERB --help' describes a verb; 'man rlc' has the whole manual.\n"
                "exit status: 0 clean, 1 problems found, 2 usage or I/O error, 11 out of\n"
                "memory; deploy verbs add 3-10 (see their --help)\n");
}

int cli_usage_error(const char *verbname, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "rlc %s: ", verbname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rlc %s --help'.\n", verbname);
    return EXIT_USAGE;
}

bool cli_parse_color(const char *arg, FILE *fp, bool *color)
{
    if (!strcmp(arg, "auto"))
        *color = render_color_auto(fp);
    else if (!strcmp(arg, "always"))
        *color = true;
    else if (!strcmp(arg, "never"))
        *color = false;
    else
        return false;
    return true;
}

bool cli_parse_format(const char *arg, diag_format *out)
{
    if (!strcmp(arg, "text"))
        *out = FMT_TEXT;
    else if (!strcmp(arg, "json"))
        *out = FMT_JSON;
    else
        return false;
    return true;
}

/* The one reaction to running out of memory (base/xalloc.h): a message and
 * a defined exit, without allocating (stdio may) and without running
 * atexit handlers or flushing half-written output. */
static void out_of_memory(size_t size)
{
    char msg[96];
    int n = snprintf(msg, sizeof msg, "rlc: out of memory (allocating %zu bytes)\n", size);
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
        n = 0;
    _exit(EXIT_NOMEM);
}

/* A store reached with TLS verification off says so on every run that
 * connects to it, whatever the verb and its output format. */
static void tls_insecure(const char *msg)
{
    fprintf(stderr, "rlc: warning[RLC%04d]: %s\n", DIAG_TLS_VERIFY_OFF, msg);
}

int main(int argc, char **argv)
{
    xalloc_init();
    xalloc_set_oom_handler(out_of_memory);
    tls_conn_set_insecure_hook(tls_insecure);
    /* jansson's allocations too, before it allocates anything. */
    json_set_alloc_funcs(xmalloc, free);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *v = argv[1];
    if (!strcmp(v, "--help") || !strcmp(v, "-h") || !strcmp(v, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(v, "--version") || !strcmp(v, "-V") || !strcmp(v, "version")) {
        printf("rlc %s\n", RLC_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i].name, v))
            return verbs[i].run(argc - 1, argv + 1);
    const char *names[sizeof verbs / sizeof verbs[0]];
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        names[i] = verbs[i].name;
    const char *near = suggest(v, names, sizeof verbs / sizeof verbs[0]);
    if (near) {
        /* A near miss gets one line, not the whole verb list. */
        fprintf(stderr, "rlc: unknown verb '%s'; did you mean '%s'?\nTry 'rlc --help'.\n", v,
                near);
        return EXIT_USAGE;
    }
    fprintf(stderr, "rlc: unknown verb '%s'\n", v);
    usage(stderr);
    return EXIT_USAGE;
}
