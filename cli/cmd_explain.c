/* cmd_explain.c - `rlc explain CODE`: the page of SPEC.md about a
 * diagnostic code, embedded at build time.  `--list` lists every code;
 * `--json` gives either as one JSON document, for editors and bots. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "diag.h"
#include "embed.h"

static const char help[] =
    "usage: rlc explain [--json] CODE...\n"
    "       rlc explain [--json] --list\n"
    "\n"
    "Print what a diagnostic code means, why it matters, an example and the fix.\n"
    "CODE is written RLC1001 or 1001.  --list prints every code with its severity.\n"
    "--json prints one JSON array instead: objects with code, severity, summary\n"
    "and (pages) title and text.\n"
    "\n"
    "exit status: 0 found, 2 unknown code or usage error\n";

static void print_json(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(doc);
}

static int list(bool json)
{
    size_t n;
    const diag_info *t = diag_table(&n);
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        char code[16];
        diag_code_str(t[i].code, code);
        if (json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "code", code, "severity",
                                                 severity_name(t[i].sev), "summary",
                                                 t[i].summary));
        else
            printf("%s  %-7s  %s\n", code, severity_name(t[i].sev), t[i].summary);
    }
    if (json)
        print_json(arr);
    return EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    bool json = false;
    int first = 1;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (argc > 1 && !strcmp(argv[1], "--json")) {
        json = true;
        first = 2;
    }
    if (first >= argc)
        return cli_usage_error("explain", "no code given");
    if (!strcmp(argv[first], "--list")) {
        if (first + 1 < argc)
            return cli_usage_error("explain", "--list takes no code");
        return list(json);
    }
    int rc = EXIT_OK;
    json_t *arr = json ? json_array() : NULL;
    for (int i = first; i < argc; i++) {
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
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:s}", "code", cs, "severity",
                                  severity_name(info->sev), "summary", info->summary);
            if (pg) {
                json_object_set_new(o, "title", json_string(pg->title));
                json_object_set_new(o, "text", json_string(pg->text));
            }
            json_array_append_new(arr, o);
            continue;
        }
        printf("%s (%s): %s\n\n", cs, severity_name(info->sev), pg ? pg->title : info->summary);
        if (pg)
            printf("%s\n", pg->text);
        if (i + 1 < argc)
            printf("\n");
    }
    if (json)
        print_json(arr);
    return rc;
}
