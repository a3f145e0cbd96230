/* rt_cli.h - what the runtime verbs (run, diff, status, rollback, audit)
 * share: printing runtime errors and the exit codes of SPEC.md 7.7. */
#ifndef RLC_RT_CLI_H
#define RLC_RT_CLI_H

#include "rerr.h"

/* Exit codes of the runtime verbs (SPEC.md 7.7). */
enum {
    RT_EXIT_OK = 0,
    RT_EXIT_FAIL = 1,         /* failed; the store is in the old state (rolled back) */
    RT_EXIT_USAGE = 2,        /* usage error, or (diff) changes found */
    RT_EXIT_PLAN = 3,         /* plan refused: unreadable, tampered, incompatible */
    RT_EXIT_LOCKED = 4,       /* another deploy holds the lock */
    RT_EXIT_PREFLIGHT = 5,    /* preflight refused: unreachable, auth, permission, skew */
    RT_EXIT_DRIFT = 6,        /* status: live state differs from the last applied plan */
    RT_EXIT_TAMPERED = 7,     /* audit verify: chain or anchor broken */
    RT_EXIT_REFUSED = 8,      /* rollback refused: the store changed since */
    RT_EXIT_SIGNATURE = 9,    /* plan signature missing or bad, a key being configured */
};

/* "rlc VERB: error[RLCnnnn]: message" on stderr. */
void rt_print_err(const char *verb, const rerr *e);

#endif
