/* cmd_check.c - `rlc check FILE...`: parse, resolve and analyse policies
 * and print located, coded diagnostics.  Exit 0 clean, 1 errors (or
 * warnings with -Werror), 2 usage or I/O error.  Several independent
 * policies (--each, directories) are checked one after the other and the
 * worst exit wins. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_report.h"
#include "cli.h"
#include "diag.h"
#include "policy_files.h"
#include "program.h"
#include "render_ci.h"
#include "xalloc.h"

/* Most --allow / --deny codes on one command line. */
#define MAX_CODE_OPTS 64

static const char help[] =
    "usage: rlc check [OPTIONS] FILE|DIR...\n"
    "\n"
    "Parse the policies in FILE... (and everything they import), resolve names\n"
    "and tiers, and prove them free of the hazards listed by 'rlc explain --list'.\n"
    "'-' reads a policy from standard input.  The FILEs make one policy; a DIR\n"
    "stands for every .rlp file under it, each checked as a policy of its own.\n"
    "\n"
    "options:\n"
    "  --format=FMT    text (default, on stderr), json (one object per line, stdout),\n"
    "                  sarif (SARIF 2.1.0 for code scanning, stdout) or github\n"
    "                  (workflow annotations, stdout)\n"
    "  --each          check each FILE as a policy of its own\n"
    "  --report        also print the worst-case bound of every limit and every\n"
    "                  suppressed diagnostic with its reason (stdout; text or json)\n"
    "  --allow=CODE    suppress hazard CODE (RLC2xxx) everywhere; repeatable\n"
    "  --deny=CODE     make CODE an error; repeatable\n"
    "  --color=WHEN    auto (default: only on a terminal, unless NO_COLOR), always, never\n"
    "  -W error, -Werror  treat warnings as errors\n"
    "  -q, --quiet     print nothing; only the exit status tells\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 clean, 1 errors found, 2 usage or I/O error\n";

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"color", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"report", no_argument, NULL, 'r'},
        {"allow", required_argument, NULL, 'A'},
        {"deny", required_argument, NULL, 'D'},
        {"each", no_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    bool quiet = false, werror = false, report = false, each = false;
    int allow[MAX_CODE_OPTS], deny[MAX_CODE_OPTS];
    size_t nallow = 0, ndeny = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qhW:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "sarif"))
                ro.format = FMT_SARIF;
            else if (!strcmp(optarg, "github"))
                ro.format = FMT_GITHUB;
            else if (!cli_parse_format(optarg, &ro.format))
                return cli_usage_error("check", "unknown format '%s' (expected text, json, "
                                       "sarif or github)", optarg);
            break;
        case 'r': report = true; break;
        case 'E': each = true; break;
        case 'A':
        case 'D': {
            int code = diag_code_parse(optarg);
            const char *opt = c == 'A' ? "--allow" : "--deny";
            if (code < 0 || !diag_lookup(code))
                return cli_usage_error("check", "%s: '%s' is not a diagnostic code (see rlc "
                                       "explain --list)", opt, optarg);
            if (c == 'A' && !code_suppressible(code))
                return cli_usage_error("check", "--allow: %s cannot be allowed; only hazards "
                                       "(RLC2xxx) can be suppressed", optarg);
            if ((c == 'A' ? nallow : ndeny) == MAX_CODE_OPTS)
                return cli_usage_error("check", "too many %s options (limit is %d)", opt,
                                       MAX_CODE_OPTS);
            if (c == 'A')
                allow[nallow++] = code;
            else
                deny[ndeny++] = code;
            break;
        }
        case 'c':
            if (!cli_parse_color(optarg, stderr, &ro.color))
                return cli_usage_error("check", "--color takes auto, always or never");
            break;
        case 'q': quiet = true; break;
        case 'W':
            if (strcmp(optarg, "error") != 0)
                return cli_usage_error("check", "unknown warning option '-W%s'", optarg);
            werror = true;
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("check", "no input files");
    if (report && (ro.format == FMT_SARIF || ro.format == FMT_GITHUB))
        return cli_usage_error("check", "--report prints text or json; SARIF already carries "
                               "suppressed results");

    policy_units pu;
    char err[512];
    if (!policy_units_from_args(argv + optind, (size_t)(argc - optind), each, &pu, err,
                                sizeof err)) {
        fprintf(stderr, "rlc check: error[RLC0001]: %s\n", err);
        return EXIT_USAGE;
    }
    /* SARIF is one log for every policy, written once all are checked;
     * the other formats are written policy by policy. */
    bool sarif = ro.format == FMT_SARIF && !quiet;
    program *progs = xcalloc(pu.n, sizeof *progs);
    suppressed_list *sups = xcalloc(pu.n, sizeof *sups);
    sarif_input *in = xcalloc(pu.n, sizeof *in);
    int rc = EXIT_OK;
    for (size_t u = 0; u < pu.n; u++) {
        program *p = &progs[u];
        program_init(p);
        bool io_ok = program_load(p, (const char *const *)pu.u[u].paths, pu.u[u].npaths);
        m_policy *m = NULL;
        if (io_ok) {
            check_opts co = {allow, nallow, deny, ndeny, false, &sups[u]};
            m = check_program(p, &co);
        }
        if (sarif) {
            in[u] = (sarif_input){&p->map, &p->diags, &sups[u]};
        } else if (!quiet) {
            if (ro.format == FMT_GITHUB)
                render_github(stdout, &p->map, &p->diags);
            else if (ro.format == FMT_JSON)
                render_all(stdout, &p->map, &p->diags, &ro);
            else
                render_all(stderr, &p->map, &p->diags, &ro);
            /* With errors in names or values the model holds only what
             * was valid; the table then shows that much. */
            if (report && m)
                check_report(stdout, &p->map, m, &sups[u], ro.format == FMT_JSON);
        }
        int urc = EXIT_OK;
        if (!io_ok)
            urc = EXIT_USAGE;
        else if (p->diags.nerrors || (werror && p->diags.nwarnings))
            urc = EXIT_FAIL;
        if (urc == EXIT_USAGE || (urc == EXIT_FAIL && rc == EXIT_OK))
            rc = urc;
        model_free(m);
        if (!sarif)
            program_free(p);
    }
    if (sarif) {
        render_sarif(stdout, in, pu.n, RLC_VERSION);
        for (size_t u = 0; u < pu.n; u++)
            program_free(&progs[u]);
    }
    free(in);
    free(sups);
    free(progs);
    policy_units_free(&pu);
    return rc;
}
