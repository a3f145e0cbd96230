/* cmd_explain.c - `rlc explain CODE`: the page of SPEC.md about a
 * diagnostic code, embedded at build time.  `--list` lists every code. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "embed.h"

static const char help[] =
    "usage: rlc explain CODE...\n"
    "       rlc explain --list\n"
    "\n"
    "Print what a diagnostic code means, why it matters, an example and the fix.\n"
    "CODE is written RLC1001 or 1001.  --list prints every code with its severity.\n"
    "\n"
    "exit status: 0 found, 2 unknown code or usage error\n";

int cmd_explain(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("explain", "no code given");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--list")) {
        size_t n;
        const diag_info *t = diag_table(&n);
        for (size_t i = 0; i < n; i++) {
            char code[16];
            diag_code_str(t[i].code, code);
            printf("%s  %-7s  %s\n", code, severity_name(t[i].sev), t[i].summary);
        }
        return EXIT_OK;
    }
    int rc = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        int code = diag_code_parse(argv[i]);
        const diag_info *info = code >= 0 ? diag_lookup(code) : NULL;
        if (!info) {
            fprintf(stderr, "rlc explain: '%s' is not a diagnostic code (see rlc explain "
                            "--list)\n", argv[i]);
            rc = EXIT_USAGE;
            continue;
        }
        char cs[16];
        diag_code_str(code, cs);
        const explain_page *pg = explain_find(code);
        printf("%s (%s): %s\n\n", cs, severity_name(info->sev), pg ? pg->title : info->summary);
        if (pg)
            printf("%s\n", pg->text);
        if (i + 1 < argc)
            printf("\n");
    }
    return rc;
}
