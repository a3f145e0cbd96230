/* cmd_fmt.c - `rlc fmt [--check] FILE...`: rewrite policies in canonical
 * form.  Files are replaced atomically (temp file + rename, mode kept) and
 * only when their text changes; '-' formats stdin to stdout.  Imports are
 * not followed: formatting is per file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "policy_files.h"
#include "file_write.h"
#include "fmt.h"
#include "parse.h"

static const char help[] =
    "usage: rlc fmt [OPTIONS] FILE|DIR...\n"
    "\n"
    "Rewrite each FILE (a DIR: every .rlp file under it) in canonical form:\n"
    "two-space indentation, one statement per line, options in a fixed order,\n"
    "comments kept.  '-' reads standard input and writes the result to standard\n"
    "output.  Files that do not parse are left alone and their errors reported.\n"
    "\n"
    "options:\n"
    "  --check         change nothing; list the files that are not canonical\n"
    "  --color=WHEN    auto (default), always, never (for error messages)\n"
    "  -q, --quiet     no listing; only the exit status tells\n"
    "  -h, --help      this text\n"
    "\n"
    "exit status: 0 done (or all canonical), 1 files differ (--check) or do not\n"
    "parse, 2 usage or I/O error\n";

int cmd_fmt(int argc, char **argv)
{
    static const struct option opts[] = {
        {"check", no_argument, NULL, 'k'},
        {"color", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool check = false, quiet = false;
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case 'k': check = true; break;
        case 'q': quiet = true; break;
        case 'c':
            if (!cli_parse_color(optarg, stderr, &ro.color))
                return cli_usage_error("fmt", "--color takes auto, always or never");
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("fmt", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("fmt", "no input files");

    /* A directory stands for every .rlp file under it. */
    policy_units pu;
    char perr[512];
    if (!policy_units_from_args(argv + optind, (size_t)(argc - optind), true, &pu, perr,
                                sizeof perr)) {
        fprintf(stderr, "rlc fmt: error[RLC0001]: %s\n", perr);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    for (size_t i = 0; i < pu.n; i++) {
        const char *path = pu.u[i].paths[0];
        bool is_stdin = !strcmp(path, "-");
        char *text;
        size_t len;
        int err = src_read_file(is_stdin ? "/dev/stdin" : path, &text, &len);
        if (err) {
            fprintf(stderr, "rlc fmt: error[RLC0001]: cannot read '%s': %s\n",
                    is_stdin ? "<stdin>" : path,
                    err == EISDIR ? "it is a directory" : strerror(err));
            rc = EXIT_USAGE;
            continue;
        }
        arena *a = arena_new();
        srcmap map;
        srcmap_init(&map);
        diag_list dl;
        diag_list_init(&dl, a);
        uint32_t fi = srcmap_add(&map, is_stdin ? "<stdin>" : path, is_stdin ? "<stdin>" : path,
                                 text, len, false);
        ast_file *af = parse_file(a, &dl, &map, fi);
        if (dl.nerrors) {
            if (!quiet)
                render_all(stderr, &map, &dl, &ro);
            if (rc == EXIT_OK)
                rc = EXIT_FAIL;
        } else {
            buf out;
            buf_init(&out, 0);
            fmt_file(&out, &map, af);
            bool same = out.len == len && memcmp(buf_str(&out), text, len) == 0;
            if (is_stdin && !check) {
                fwrite(buf_str(&out), 1, out.len, stdout);
            } else if (check) {
                if (!same) {
                    if (!quiet)
                        printf("%s\n", is_stdin ? "<stdin>" : path);
                    if (rc == EXIT_OK)
                        rc = EXIT_FAIL;
                }
            } else if (!same) {
                const char *part = buf_str(&out);
                char *werr;
                if (!file_write_atomic(path, &part, &out.len, 1, 0644, FW_KEEP_MODE, &werr)) {
                    fprintf(stderr, "rlc fmt: %s\n", werr);
                    free(werr);
                    rc = EXIT_USAGE;
                } else if (!quiet) {
                    fprintf(stderr, "formatted %s\n", path);
                }
            }
            buf_free(&out);
        }
        srcmap_free(&map);
        arena_free(a);
    }
    policy_units_free(&pu);
    return rc;
}
