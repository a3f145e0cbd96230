/* cmd_audit.c - `rlc audit verify` and `rlc audit show`: check and print
 * the hash-chained audit log of the state directory (runtime/audit.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "redis_cluster.h"
#include "rt_cli.h"
#include "statedir.h"
#include "target_url.h"

static const char help[] =
    "usage: rlc audit verify [--state-dir DIR] [--target URL --namespace NS]\n"
    "       rlc audit show [--state-dir DIR] [--json] [-n N]\n"
    "\n"
    "verify checks every record's hash, the chain of 'prev' hashes and sequence\n"
    "numbers, and that the last record is the head anchored in DIR/audit.head and,\n"
    "with --target, in the store (NS:audit:head).  It detects a modified, removed,\n"
    "inserted or reordered record and records cut from the end.\n"
    "show prints the records, oldest first (the last N with -n).\n"
    "\n"
    "  --state-dir=DIR   state directory (default $RLC_STATE_DIR, else ./.rlc)\n"
    "  --target=SPEC     store holding the anchor: redis://host:port, env:VAR or\n"
    "                    file:PATH (a password only through env: or file:);\n"
    "                    rediss://host:port?ca_file=F&cert_file=F&key_file=F for TLS\n"
    "  --namespace=NS    the policy's namespace (default rl)\n"
    "\n"
    "exit status: 0 intact, 7 tampered or truncated, 1 cannot read, 2 usage\n";

static int verify(const char *dir, const char *target, const char *ns)
{
    rerr e = {0};
    audit_head store_head, *sa = NULL;
    if (target) {
        rurl u;
        if (!target_url_from_spec(target, &u, &e)) {
            rt_print_err("audit verify", &e);
            return EXIT_FAIL;
        }
        rstore *s = rstore_open(&u, NULL, &e);
        if (!s) {
            rt_print_err("audit verify", &e);
            return EXIT_FAIL;
        }
        char key[512];
        snprintf(key, sizeof key, "%s:audit:head", ns);
        const char *argv[2] = {"GET", key};
        redisReply *r = rstore_cmd(s, key, strlen(key), 2, argv, NULL, &e);
        if (!r) {
            rt_print_err("audit verify", &e);
            rstore_close(s);
            return EXIT_FAIL;
        }
        memset(&store_head, 0, sizeof store_head);
        if (r->type == REDIS_REPLY_STRING && !audit_head_parse(r->str, &store_head)) {
            fprintf(stderr, "rlc audit verify: error[RLC3172]: %s is not 'SEQ HASH'\n", key);
            freeReplyObject(r);
            rstore_close(s);
            return EXIT_TAMPERED;
        }
        freeReplyObject(r);
        rstore_close(s);
        sa = &store_head;
    }
    unsigned long n = 0;
    audit_head h;
    if (!audit_verify(dir, sa, &n, &h, &e)) {
        rt_print_err("audit verify", &e);
        return e.code == DIAG_AUDIT_IO ? EXIT_FAIL : EXIT_TAMPERED;
    }
    printf("audit log intact: %lu record%s, head %lu %s%s\n", n, n == 1 ? "" : "s", h.seq,
           n ? h.hash : "-", sa ? " (matches the store's anchor)" : "");
    return EXIT_OK;
}

static int show(const char *dir, bool json, long last)
{
    rerr e = {0};
    json_t *arr = audit_load(dir, &e);
    if (!arr) {
        rt_print_err("audit show", &e);
        return EXIT_FAIL;
    }
    size_t n = json_array_size(arr), from = 0;
    if (last >= 0 && (size_t)last < n)
        from = n - (size_t)last;
    for (size_t i = from; i < n; i++) {
        json_t *r = json_array_get(arr, i);
        if (json) {
            char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
            puts(s);
            free(s);
            continue;
        }
        json_t *a = json_object_get(r, "actor"), *err = json_object_get(r, "error");
        const char *pd = json_string_value(json_object_get(r, "plan_digest"));
        printf("%4lld  %s  %-9s %-12s %s@%s%s%s  policy %s  plan %.12s%s\n",
               (long long)json_integer_value(json_object_get(r, "seq")),
               json_string_value(json_object_get(r, "time")),
               json_string_value(json_object_get(r, "action")),
               json_string_value(json_object_get(r, "result")),
               json_string_value(json_object_get(a, "user")),
               json_string_value(json_object_get(a, "host")),
               json_object_get(a, "ci_job") ? " ci " : "",
               json_object_get(a, "ci_job") ? json_string_value(json_object_get(a, "ci_job")) : "",
               json_string_value(json_object_get(r, "policy")) ?: "-", pd ? pd : "-",
               pd ? "" : "");
        if (json_is_object(err))
            printf("      error %s: %s\n", json_string_value(json_object_get(err, "code")),
                   json_string_value(json_object_get(err, "message")));
    }
    json_decref(arr);
    return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("audit", "expected 'verify' or 'show'");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"target", required_argument, NULL, 't'},
        {"namespace", required_argument, NULL, 'N'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL, *target = NULL, *ns = "rl";
    bool json = false;
    long last = -1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 't': target = optarg; break;
        case 'N': ns = optarg; break;
        case 'j': json = true; break;
        case 'n': last = atol(optarg); break;
        case 'h': fputs(help, stdout); return EXIT_OK;
        default: return cli_usage_error("audit", "unknown option '%s'", argv[optind]);
        }
    }
    if (optind < argc - 1)
        return cli_usage_error("audit", "unexpected argument '%s'", argv[optind + 1]);
    char dir[STATEDIR_PATH_MAX];
    rerr e = {0};
    if (!statedir_open(dir_opt, dir, &e)) {
        rt_print_err("audit", &e);
        return EXIT_FAIL;
    }
    if (!strcmp(sub, "verify"))
        return verify(dir, target, ns);
    if (!strcmp(sub, "show"))
        return show(dir, json, last);
    return cli_usage_error("audit", "unknown subcommand '%s' (verify or show)", sub);
}
