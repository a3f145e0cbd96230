/* cmd_import.c - `rlc import envoy|limitador FILE... [-o OUT]`: read Envoy
 * ratelimit or Limitador YAML and write the policy it amounts to, in the
 * canonical form `rlc fmt` writes.  Diagnostics (what could not be carried
 * over, and how the semantics differ) are rendered like every verb's, at the
 * YAML's line and column.  The policy is written only when there was no
 * error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file_write.h"
#include "import.h"
#include "xalloc.h"

static const char help[] =
    "usage: rlc import envoy|limitador [OPTIONS] FILE...\n"
    "\n"
    "Read Envoy ratelimit service configuration (envoy) or Limitador limits\n"
    "(limitador) in YAML and write the equivalent policy in canonical form (as\n"
    "'rlc fmt' writes it).  A file may hold several documents, and a Kubernetes\n"
    "ConfigMap (its data strings are read as YAML) or, for limitador, a Limitador\n"
    "resource (its spec.limits).  '-' reads standard input.\n"
    "\n"
    "Mapping (SPEC.md section 8): an Envoy domain or a Limitador namespace is a\n"
    "tenant; a descriptor entry or condition KEY=VALUE is group \"KEY\" holding\n"
    "key \"VALUE\"; a key without a value (a Limitador variable) is key * with a\n"
    "counter per value; limits are fixed windows.  What rlc cannot express is\n"
    "reported with its own code (RLC40xx) at the YAML line and column, and a\n"
    "comment in the policy says what the import did instead.\n"
    "\n"
    "options:\n"
    "  -o, --output=FILE  write the policy to FILE (atomically) instead of stdout\n"
    "  --color=WHEN       auto (default), always, never (for diagnostics)\n"
    "  --format=FMT       diagnostics as text (default), json, sarif or github\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 imported (warnings and notes allowed), 1 errors in the input\n"
    "(nothing written), 2 usage or I/O error\n";

/* The options among argv (getopt's optind and optstring as the caller set
 * them): -1 to go on, else the exit status to return (help, usage). */
static int take_options(int argc, char **argv, const char *optstring, const char **output,
                        render_opts *ro)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"color", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
        switch (c) {
        case 'o': *output = optarg; break;
        case 'c':
            if (!cli_parse_color(optarg, stderr, &ro->color))
                return cli_usage_error("import", "--color takes auto, always or never");
            break;
        case 'f':
            if (!cli_parse_format(optarg, &ro->format))
                return cli_usage_error("import", "--format takes text, json, sarif or github");
            break;
        case 'h':
            fputs(help, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
        }
    }
    return -1;
}

int cmd_import(int argc, char **argv)
{
    const char *output = NULL;
    render_opts ro = {.color = render_color_auto(stderr), .format = FMT_TEXT};
    optind = 1;
    opterr = 0;
    int rc = take_options(argc, argv, "+o:h", &output, &ro);
    if (rc >= 0)
        return rc;
    import_format f;
    if (optind >= argc)
        return cli_usage_error("import", "say which format: envoy or limitador");
    if (!import_format_parse(argv[optind], &f))
        return cli_usage_error("import", "unknown format '%s' (envoy or limitador)",
                               argv[optind]);
    /* Options may follow the format, before or after the files: the rest
     * is scanned again as its own argument vector (optind 0 makes GNU getopt
     * start afresh, permuting). */
    argv += optind;
    argc -= optind;
    optind = 0;
    rc = take_options(argc, argv, "o:h", &output, &ro);
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_usage_error("import", "no input files");

    rc = EXIT_OK;
    arena *a = arena_new();
    srcmap map;
    srcmap_init(&map);
    diag_list dl;
    diag_list_init(&dl, a);
    size_t n = (size_t)(argc - optind);
    uint32_t *files = xcalloc(n, sizeof *files);
    size_t nf = 0;
    buf out;
    buf_init(&out, 0);
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        bool is_stdin = !strcmp(path, "-");
        char *text;
        size_t len;
        int err = src_read_file(is_stdin ? "/dev/stdin" : path, &text, &len);
        if (err == EFBIG) {
            fprintf(stderr, "rlc import: error[RLC0002]: '%s' is larger than %zu MiB\n",
                    is_stdin ? "<stdin>" : path, SRC_MAX_BYTES >> 20);
            rc = EXIT_USAGE;
            goto out;
        }
        if (err) {
            fprintf(stderr, "rlc import: error[RLC0001]: cannot read '%s': %s\n",
                    is_stdin ? "<stdin>" : path,
                    err == EISDIR ? "it is a directory" : strerror(err));
            rc = EXIT_USAGE;
            goto out;
        }
        files[nf++] = srcmap_add(&map, is_stdin ? "<stdin>" : path, is_stdin ? "<stdin>" : path,
                                 text, len, false);
    }
    bool ok = import_files(a, &dl, &map, f, files, nf, &out);
    diag_sort(&dl);
    render_all(stderr, &map, &dl, &ro);
    if (!ok || dl.nerrors) {
        rc = EXIT_FAIL;
        goto out;
    }
    if (!buf_ok(&out)) {
        rc = EXIT_NOMEM;
        goto out;
    }
    if (output) {
        const char *part = buf_str(&out);
        char *werr;
        if (!file_write_atomic(output, &part, &out.len, 1, 0644, 0, &werr)) {
            fprintf(stderr, "rlc import: %s\n", werr);
            free(werr);
            rc = EXIT_USAGE;
        }
    } else if (fwrite(buf_str(&out), 1, out.len, stdout) != out.len || fflush(stdout)) {
        fprintf(stderr, "rlc import: cannot write the policy: %s\n", strerror(errno));
        rc = EXIT_USAGE;
    }
out:
    buf_free(&out);
    free(files);
    srcmap_free(&map);
    arena_free(a);
    return rc;
}
