/* cli.h - what the verbs of the rlc command share: exit codes, the verb
 * table, and small helpers for options and messages.  Only cli/ prints. */
#ifndef RLC_CLI_H
#define RLC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "render.h"

/* The exit statuses of every verb: one table, append only (scripts test
 * them).  SPEC.md 3.4 and 7.7, and rlc(1), list them. */
enum {
    EXIT_OK = 0,          /* clean; diff: no change; status: no drift */
    EXIT_FAIL = 1,        /* errors found, tests failed, files differ; a deploy
                           * failed and the store is in the old state */
    EXIT_USAGE = 2,       /* bad usage or I/O error */
    EXIT_PLAN = 3,        /* plan refused: unreadable, tampered, incompatible */
    EXIT_LOCKED = 4,      /* another deploy holds the lock */
    EXIT_PREFLIGHT = 5,   /* preflight refused: unreachable, auth, permission, skew */
    EXIT_DRIFT = 6,       /* status: live state differs from the last applied plan */
    EXIT_TAMPERED = 7,    /* audit verify: chain or anchor broken */
    EXIT_REFUSED = 8,     /* rollback refused: the store changed since */
    EXIT_SIGNATURE = 9,   /* plan signature missing or bad, a key being configured */
    EXIT_CHANGES = 10,    /* diff: the plan would change something */
    EXIT_NOMEM = 11,      /* out of memory (base/xalloc.h); a deploy stopped
                           * there is an interrupted deploy (SPEC 7.7) */
};

#ifndef RLC_VERSION
#define RLC_VERSION "0.0.0"
#endif

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_decide(int argc, char **argv);

/* Prints "rlc VERB: message" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parses --color=auto|always|never into *color for stream fp. */
bool cli_parse_color(const char *arg, FILE *fp, bool *color);
/* Parses a --format value; returns false when unknown. */
bool cli_parse_format(const char *arg, diag_format *out);

#endif
