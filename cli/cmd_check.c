/* cmd_check.c - `rlc check FILE...`: parse, resolve and analyse policies
 * and print located, coded diagnostics.  Exit 0 clean, 1 errors (or
 * warnings with -Werror), 2 usage or I/O error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "program.h"

static const char help[] =
    "usage: rlc check [OPTIONS] FILE...\n"
    "\n"
    "Parse the policies in FILE... (and everything they import), resolve names\n"
    "and tiers, and prove them free of the hazards listed by 'rlc explain --list'.\n"
    "'-' reads a policy from standard input.\n"
    "\n"
    "options:\n"
    "  --format=FMT    text (default, on stderr) or json (one object per line, stdout)\n"
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    bool quiet = false, werror = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qhW:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!cli_parse_format(optarg, &ro.format))
                return cli_usage_error("check", "unknown format '%s' (expected text or json)",
                                       optarg);
            break;
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

    program p;
    program_init(&p);
    bool io_ok = program_load(&p, (const char *const *)argv + optind, (size_t)(argc - optind));
    m_policy *m = NULL;
    if (io_ok) {
        check_opts co = {0};
        m = check_program(&p, &co);
    }
    if (!quiet) {
        if (ro.format == FMT_JSON)
            render_all(stdout, &p.map, &p.diags, &ro);
        else
            render_all(stderr, &p.map, &p.diags, &ro);
    }
    int rc = EXIT_OK;
    if (!io_ok)
        rc = EXIT_USAGE;
    else if (p.diags.nerrors || (werror && p.diags.nwarnings))
        rc = EXIT_FAIL;
    model_free(m);
    program_free(&p);
    return rc;
}
