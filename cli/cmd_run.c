/* cmd_run.c - the deploy verbs: `rlc run`, `rlc diff`, `rlc status` and
 * `rlc rollback` (runtime/exec.h does the work; this file parses options,
 * prints progress to stderr and maps outcomes to exit codes, SPEC.md 7.7). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exec.h"
#include "plan_sign.h"
#include "rt_cli.h"
#include "statedir.h"

static const char run_help[] =
    "\n"
    "run applies a plan to its Redis and etcd targets: load and verify, preflight,\n"
    "lock, checkpoint, apply, verify against shadow keys, commit, or roll back (SPEC.md 7).\n"
    "diff shows what run would change, per tenant.  status shows the active plan,\n"
    "lock holder, a deploy in progress, recent deploys and drift, and writes nothing.\n"
    "rollback restores a checkpoint (the newest by default).  run and rollback first\n"
    "finish or undo an interrupted deploy, and refuse (exit 4) while another rlc works\n"
    "in the same state directory.\n"
    "\n"
    "  --target NAME=SPEC  reach target NAME at SPEC: redis://[user@]host:port[/db],\n"
    "                      rediss://...[?ca_file=F&cert_file=F&key_file=F&\n"
    "                      tls_server_name=N&tls_verify=false] for TLS,\n"
    "                      env:VAR or file:PATH (passwords only via env: or file:);\n"
    "                      an etcd target: http://host:port; status without a PLAN:\n"
    "                      the last deploy's target NAME, reached at SPEC\n"
    "  --only NAME[,NAME]  apply (status: show) only these targets (default $RLC_ONLY,\n"
    "                      else all); rollback takes neither option: it restores every\n"
    "                      target the checkpoint names, where it recorded them\n"
    "  --state-dir DIR     journal, checkpoints, audit log (default $RLC_STATE_DIR, else .rlc)\n"
    "  --dry-run           run: stop after preflight; print what would be written\n"
    "  --force             rollback: restore even if a later deploy changed the store\n"
    "  --full-read         run, diff: read every tenant's live pointer, not only those the\n"
    "                      last deploy's manifest says differ (repairs pointers edited by hand),\n"
    "                      and every bucket of the plan's tenants; run: every verification case\n"
    "  --verify KEY.pub    run, diff, status: require the plan to be signed (PLAN.sig, from\n"
    "                      rlc compile --sign) with this Ed25519 public key (default\n"
    "                      $RLC_VERIFY_KEY; neither set: signatures are not checked)\n"
    "  --json              print a JSON summary on stdout\n"
    "  -q, --quiet         no progress on stderr\n"
    "\n"
    "exit status: 0 ok (diff: no change; status: no drift), 1 failed (rolled back),\n"
    "2 usage error, 3 plan refused, 4 locked by another deploy,\n"
    "5 preflight refused, 6 drift (status), 8 rollback refused, 9 plan signature missing\n"
    "or bad while a verification key is configured, 10 (diff) changes found,\n"
    "11 out of memory\n";

static void progress(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "rlc: %s\n", msg);
}

static void print_diff(const json_t *s)
{
    size_t i;
    json_t *t;
    printf("%lld of %lld tenants change%s\n",
           (long long)json_integer_value(json_object_get(s, "tenants_changed")),
           (long long)json_integer_value(json_object_get(s, "tenants_total")),
           json_is_true(json_object_get(s, "template_changed")) ? ", and tenant *" : "");
    json_array_foreach(json_object_get(s, "tenants"), i, t) {
        const char *from = json_string_value(json_object_get(t, "from"));
        const char *to = json_string_value(json_object_get(t, "to"));
        const char *on = json_string_value(json_object_get(t, "target"));
        if (json_is_true(json_object_get(t, "template"))) {
            printf("tenant * (template)%s%s: %s (library %s -> %s)\n", on ? " on " : "",
                   on ? on : "", !from ? "new" : !to ? "removed" : "changed",
                   from ? from : "none", to ? to : "none");
            continue;
        }
        printf("tenant %s%s%s: %s\n", json_string_value(json_object_get(t, "tenant")),
               on ? " on " : "", on ? on : "", !from ? "new" : !to ? "removed" : "changed");
        if (json_is_true(json_object_get(t, "live_config_edited")))
            printf("  warning: the live config was edited by hand\n");
        static const char *groups[] = {"added", "changed", "removed"};
        for (size_t g = 0; g < 3; g++) {
            size_t k;
            json_t *r;
            json_array_foreach(json_object_get(t, groups[g]), k, r) {
                const char *kind = json_string_value(json_object_get(r, "kind"));
                const char *subj = json_string_value(json_object_get(r, "subject"));
                printf("  %-7s %s %s%s%s: counter %s\n", groups[g],
                       json_string_value(json_object_get(r, "id")), kind ? kind : "",
                       subj ? " on " : "", subj ? subj : "",
                       json_string_value(json_object_get(r, "counter")));
                if (g == 1)
                    printf("          was: %s\n          now: %s\n",
                           json_string_value(json_object_get(r, "was")),
                           json_string_value(json_object_get(r, "now")));
            }
        }
        long long same = json_integer_value(json_object_get(t, "unchanged"));
        if (same)
            printf("  %lld limit%s unchanged (counters kept)\n", same, same == 1 ? "" : "s");
    }
}

static void print_status(const json_t *s)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(s, "targets"), i, t) {
        const char *ap = json_string_value(json_object_get(t, "active_plan"));
        const char *kind = json_string_value(json_object_get(t, "kind"));
        if (kind)
            printf("target %s (%s %s): plan %s, %lld tenants\n",
                   json_string_value(json_object_get(t, "name")), kind,
                   json_string_value(json_object_get(t, "address")), ap ? ap : "(none)",
                   (long long)json_integer_value(json_object_get(t, "tenants")));
        else
            printf("target %s (%s): plan %s, %lld tenants, %zu node%s\n",
                   json_string_value(json_object_get(t, "name")),
                   json_string_value(json_object_get(t, "address")), ap ? ap : "(none)",
                   (long long)json_integer_value(json_object_get(t, "tenants")),
                   json_array_size(json_object_get(t, "nodes")),
                   json_array_size(json_object_get(t, "nodes")) == 1 ? "" : "s");
        json_t *lk = json_object_get(t, "lock");
        if (lk)
            printf("  lock held by %s@%s pid %lld, run %s\n",
                   json_string_value(json_object_get(lk, "user")),
                   json_string_value(json_object_get(lk, "host")),
                   (long long)json_integer_value(json_object_get(lk, "pid")),
                   json_string_value(json_object_get(lk, "run")));
        else
            printf("  lock: free\n");
        json_t *ng = json_object_get(t, "nginx");
        if (ng) {
            json_t *run = json_object_get(ng, "running");
            printf("  nginx: %s: %s\n", json_is_true(run) ? "running" : json_is_false(run)
                   ? "not running" : "unknown", json_string_value(json_object_get(ng, "detail")));
        }
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(t, "drift"), k, d)
            if (json_object_get(d, "tenant"))
                printf("  drift: tenant %s: %s\n",
                       json_string_value(json_object_get(d, "tenant")),
                       json_string_value(json_object_get(d, "what")));
            else
                printf("  drift: key %s: %s\n", json_string_value(json_object_get(d, "key")),
                       json_string_value(json_object_get(d, "what")));
    }
    json_t *ip = json_object_get(s, "in_progress");
    json_t *intr = json_object_get(s, "interrupted");
    if (ip) {
        char who[600];
        char *text = json_dumps(ip, JSON_COMPACT);
        statedir_describe_holder(text, who, sizeof who);
        free(text);
        printf("deploy in progress by %s, phase %s: the store is shown as it is now, "
               "mid-deploy\n", who, json_string_value(json_object_get(ip, "phase")));
    } else if (intr) {
        json_int_t pid = json_integer_value(json_object_get(intr, "pid"));
        const char *host = json_string_value(json_object_get(intr, "host"));
        printf("interrupted deploy %s (last phase %s", json_string_value(json_object_get(intr,
               "run")), json_string_value(json_object_get(intr, "phase")) ?: "?");
        if (pid)
            printf(", pid %lld on %s", (long long)pid, host ? host : "?");
        printf("): not recovered; 'rlc run PLAN' or 'rlc rollback' recovers it\n");
    }
    json_array_foreach(json_object_get(s, "recent"), i, t)
        printf("deploy %lld %s %s %s\n", (long long)json_integer_value(json_object_get(t, "seq")),
               json_string_value(json_object_get(t, "time")),
               json_string_value(json_object_get(t, "action")),
               json_string_value(json_object_get(t, "result")));
    const char *cp = json_string_value(json_object_get(s, "newest_checkpoint"));
    if (cp)
        printf("newest checkpoint: %s\n", cp);
    printf("drift: %lld\n", (long long)json_integer_value(json_object_get(s, "drift")));
}

static int runtime_verb(const char *vname, int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"only", required_argument, NULL, 'o'},
        {"state-dir", required_argument, NULL, 'd'},
        {"dry-run", no_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},
        {"full-read", no_argument, NULL, 'F'},
        {"verify", required_argument, NULL, 'V'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    exec_opts o = {.progress = progress};
    const char *ov[16];
    const char *dir_opt = NULL;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (o.noverrides == 16)
                return cli_usage_error(vname, "at most 16 --target options");
            ov[o.noverrides++] = optarg;
            break;
        case 'o': o.only = optarg; break;
        case 'd': dir_opt = optarg; break;
        case 'n': o.dry_run = true; break;
        case 'f': o.force = true; break;
        case 'F': o.full_read = true; break;
        case 'V': o.verify_key = optarg; break;
        case 'j': json = true; break;
        case 'q': o.progress = NULL; break;
        case 'h':
            printf("usage: rlc %s [OPTIONS] %s\n", vname,
                   !strcmp(vname, "status") ? "[PLAN]"
                   : !strcmp(vname, "rollback") ? "[CHECKPOINT]" : "PLAN");
            fputs(run_help, stdout);
            return EXIT_OK;
        default: return cli_usage_error(vname, "unknown option '%s'", argv[optind - 1]);
        }
    }
    o.overrides = ov;
    /* A checkpoint is restored whole, to the stores it was read from: a
     * subset, or another store, would be a different state. */
    if (!strcmp(vname, "rollback") && (o.noverrides || o.only))
        return cli_usage_error(vname, "%s does not apply: rollback restores every target the "
                               "checkpoint names, where it recorded them",
                               o.noverrides ? "--target" : "--only");
    if (!o.verify_key && getenv(PLAN_VERIFY_KEY_ENV) && *getenv(PLAN_VERIFY_KEY_ENV))
        o.verify_key = getenv(PLAN_VERIFY_KEY_ENV);
    if (!o.only && getenv("RLC_ONLY") && *getenv("RLC_ONLY"))
        o.only = getenv("RLC_ONLY");
    const char *arg = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return cli_usage_error(vname, "unexpected argument '%s'", argv[optind + 1]);
    bool need_plan = !strcmp(vname, "run") || !strcmp(vname, "diff");
    if (need_plan && !arg)
        return cli_usage_error(vname, "no plan given");
    rerr e = {0};
    /* status writes nothing, not even the state directory. */
    if (!strcmp(vname, "status") ? !statedir_resolve(dir_opt, o.state_dir, &e)
                                 : !statedir_open(dir_opt, o.state_dir, &e)) {
        rt_print_err(vname, &e);
        return EXIT_FAIL;
    }
    json_t *sum = NULL;
    exec_status st;
    /* This process ends with the verb: a run's memory is left to the exit. */
    o.exiting = true;
    if (!strcmp(vname, "run"))
        st = exec_run(arg, &o, &sum, &e);
    else if (!strcmp(vname, "diff"))
        st = exec_diff(arg, &o, &sum, &e);
    else if (!strcmp(vname, "status"))
        st = exec_status_report(arg, &o, &sum, &e);
    else
        st = exec_rollback(arg, &o, &sum, &e);
    if (e.code && st != EXEC_CHANGES && st != EXEC_DRIFT)
        rt_print_err(vname, &e);
    /* A note is part of the outcome (a reload skipped), not progress: it
     * is printed under --quiet too. */
    size_t ni;
    json_t *note;
    json_array_foreach(json_object_get(sum, "notes"), ni, note)
        fprintf(stderr, "rlc %s: note: target %s: %s\n", vname,
                json_string_value(json_object_get(note, "target")) ?: "?",
                json_string_value(json_object_get(note, "note")) ?: "?");
    if (json) {
        json_object_set_new(sum, "exit", json_integer(rt_exit_of(st)));
        char *s = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
        puts(s);
        free(s);
    } else if (!strcmp(vname, "diff") && (st == EXEC_OK || st == EXEC_CHANGES)) {
        print_diff(sum);
    } else if (!strcmp(vname, "status") && (st == EXEC_OK || st == EXEC_DRIFT)) {
        print_status(sum);
    }
    json_decref(sum);
    return rt_exit_of(st);
}

int cmd_run(int argc, char **argv) { return runtime_verb("run", argc, argv); }
int cmd_diff(int argc, char **argv) { return runtime_verb("diff", argc, argv); }
int cmd_status(int argc, char **argv) { return runtime_verb("status", argc, argv); }
int cmd_rollback(int argc, char **argv) { return runtime_verb("rollback", argc, argv); }
