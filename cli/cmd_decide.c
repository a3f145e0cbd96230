/* cmd_decide.c - `rlc decide`: one request decided by a live store, as a
 * gateway would ask it, for an operator debugging a limit.  The fields are
 * those of `rlc simulate`; --dry-run asks without charging anything
 * (runtime/redis_decide.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exec.h"
#include "plan_sign.h"
#include "rt_cli.h"
#include "statedir.h"
#include "target.h"

static const char help[] =
    "usage: rlc decide [OPTIONS] TENANT [PATH [METHOD ROUTE]]\n"
    "\n"
    "Ask a deployed store to decide one request, exactly as a gateway asks it\n"
    "(FCALL rlc_decide), and print the answer with the fields of rlc simulate.\n"
    "PATH names the subject below the tenant as kind:name segments joined by '/'\n"
    "(group:team-a/key:k_123; '' or '-' for the tenant itself); METHOD ROUTE the\n"
    "request's route (GET /v1/items).  A concurrency slot the decision takes is\n"
    "given back at once.  Without --plan, the targets of the last deploy recorded\n"
    "in the state directory are asked.  A store without functions (before Redis 7,\n"
    "or deployed with RLC_NO_FUNCTIONS=1) is asked by EVALSHA of the plan's\n"
    "script, whose sha only the plan gives: name it with --plan.\n"
    "\n"
    "options:\n"
    "  --plan PLAN         the plan whose target to ask (default: the last deploy's)\n"
    "  --target NAME       ask target NAME (with several redis targets)\n"
    "  --target NAME=SPEC  ... and reach it at SPEC, as rlc run --target does\n"
    "  --cost N            the request's cost (default 1)\n"
    "  --dry-run           decide without charging anything (rlc_peek, read-only)\n"
    "  --state-dir DIR     where the last deploy is recorded (default $RLC_STATE_DIR,\n"
    "                      else .rlc)\n"
    "  --verify KEY.pub    require --plan to be signed with this key\n"
    "  --json              one JSON object instead of the CSV line\n"
    "  -h, --help          this text\n"
    "\n"
    "Output: a header and one line,\n"
    "  time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,shadow\n"
    "(time_ms is the store's clock; shadow: ids of shadow limits that would reject,\n"
    "joined by '|').\n"
    "\n"
    "exit status: 0 decided (allowed or not), 1 the store could not decide it,\n"
    "2 usage error, 3 plan refused, 9 plan signature missing or bad\n";

/* A CSV field as simulate writes it: no field holds a comma or a newline
 * (names are refused with them upstream); anything else is written as is. */
static void csv_field(const char *s, bool last)
{
    fputs(s, stdout);
    putchar(last ? '\n' : ',');
}

static void print_csv(const json_t *a)
{
    printf("time_ms,tenant,path,method,route,cost,allowed,rule,remaining,reset_ms,retry_ms,"
           "shadow\n");
    printf("%lld,", (long long)json_integer_value(json_object_get(a, "time_ms")));
    csv_field(json_string_value(json_object_get(a, "tenant")), false);
    csv_field(json_string_value(json_object_get(a, "path")), false);
    csv_field(json_string_value(json_object_get(a, "method")), false);
    csv_field(json_string_value(json_object_get(a, "route")), false);
    printf("%lld,%d,", (long long)json_integer_value(json_object_get(a, "cost")),
           json_is_true(json_object_get(a, "allowed")) ? 1 : 0);
    csv_field(json_string_value(json_object_get(a, "rule")), false);
    printf("%lld,%lld,%lld,", (long long)json_integer_value(json_object_get(a, "remaining")),
           (long long)json_integer_value(json_object_get(a, "reset_ms")),
           (long long)json_integer_value(json_object_get(a, "retry_ms")));
    size_t i;
    json_t *sid;
    json_array_foreach(json_object_get(a, "shadow"), i, sid)
        printf("%s%s", i ? "|" : "", json_string_value(sid));
    putchar('\n');
}

int cmd_decide(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'},
        {"target", required_argument, NULL, 't'},
        {"cost", required_argument, NULL, 'c'},
        {"dry-run", no_argument, NULL, 'n'},
        {"state-dir", required_argument, NULL, 'd'},
        {"verify", required_argument, NULL, 'V'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    exec_opts o = {0};
    const char *plan = NULL, *dir_opt = NULL, *override = NULL;
    char only[128] = "";
    target_decide q = {.cost = 1};
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': plan = optarg; break;
        case 't': {
            if (only[0])
                return cli_usage_error("decide", "one --target: a decision is asked of one "
                                       "store");
            const char *eq = strchr(optarg, '=');
            size_t n = eq ? (size_t)(eq - optarg) : strlen(optarg);
            if (n == 0 || n >= sizeof only)
                return cli_usage_error("decide", "--target takes NAME or NAME=SPEC");
            memcpy(only, optarg, n);
            only[n] = '\0';
            if (eq)
                override = optarg;
            break;
        }
        case 'c': {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || v < 1 || v > (1LL << 31))
                return cli_usage_error("decide", "--cost takes a whole number from 1 to 2^31, "
                                       "not '%s'", optarg);
            q.cost = v;
            break;
        }
        case 'n': q.peek = true; break;
        case 'd': dir_opt = optarg; break;
        case 'V': o.verify_key = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(help, stdout); return EXIT_OK;
        default: return cli_usage_error("decide", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int npos = argc - optind;
    if (npos < 1)
        return cli_usage_error("decide", "no tenant given");
    if (npos == 3 || npos > 4)
        return cli_usage_error("decide", "expected TENANT [PATH [METHOD ROUTE]], got %d "
                               "arguments", npos);
    q.tenant = argv[optind];
    q.path = npos > 1 && strcmp(argv[optind + 1], "-") ? argv[optind + 1] : "";
    q.method = npos == 4 ? argv[optind + 2] : "";
    q.route = npos == 4 ? argv[optind + 3] : "";
    if (!q.tenant[0])
        return cli_usage_error("decide", "the tenant name is empty");
    if (only[0])
        o.only = only;
    const char *ov[1] = {override};
    if (override) {
        o.overrides = ov;
        o.noverrides = 1;
    }
    if (!o.verify_key && getenv(PLAN_VERIFY_KEY_ENV) && *getenv(PLAN_VERIFY_KEY_ENV))
        o.verify_key = getenv(PLAN_VERIFY_KEY_ENV);
    rerr e = {0};
    /* A decision writes nothing to the state directory. */
    if (!statedir_resolve(dir_opt, o.state_dir, &e)) {
        rt_print_err("decide", &e);
        return EXIT_FAIL;
    }
    json_t *a = NULL;
    exec_status st = exec_decide(plan, &o, &q, &a, &e);
    if (st != EXEC_OK) {
        rt_print_err("decide", &e);
        json_decref(a);
        return rt_exit_of(st);
    }
    if (json) {
        char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
        puts(s);
        free(s);
    } else {
        print_csv(a);
    }
    json_decref(a);
    return EXIT_OK;
}
