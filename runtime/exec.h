/* exec.h - the deploy executor behind `rlc run`, `diff`, `status` and
 * `rollback` (SPEC.md section 7): plan loading and verification, the lock,
 * preflight, checkpoint, apply, verification against shadow keys, commit or
 * rollback, and recovery of an interrupted deploy from the journal.  It
 * reports progress through a callback and never prints. */
#ifndef RLC_EXEC_H
#define RLC_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rerr.h"

typedef void (*exec_progress_fn)(void *ud, const char *msg);

typedef struct exec_opts {
    char state_dir[4096];         /* resolved by the caller (statedir_open) */
    const char **overrides;       /* "NAME=SPEC" (--target) */
    size_t noverrides;
    const char *only;             /* "NAME,NAME": apply only these targets (NULL: all) */
    bool dry_run;                 /* run: stop after preflight, report what would change */
    bool force;                   /* rollback: even when the store changed since */
    const char *verify_key;       /* public key plans must be signed with (NULL: none) */
    bool full_read;               /* run, diff: read every tenant's pointer even when the
                                   * store's manifest matches this state dir's record */
    bool exiting;                 /* run: the process exits soon after the call returns, so
                                   * what the run allocated is left to the exit (xc_leave) */
    exec_progress_fn progress;    /* may be NULL */
    void *ud;
} exec_opts;

/* Outcome classes, mapped to exit codes by cli/ (SPEC.md 7.7). */
typedef enum exec_status {
    EXEC_OK = 0,
    EXEC_FAILED,        /* failed and rolled back (or nothing written) */
    EXEC_PLAN,          /* the plan was refused */
    EXEC_LOCKED,        /* another deploy holds the lock */
    EXEC_PREFLIGHT,     /* refused at preflight */
    EXEC_CHANGES,       /* diff: there are changes */
    EXEC_DRIFT,         /* status: drift found */
    EXEC_REFUSED,       /* rollback refused (store changed since) */
    EXEC_SIGNATURE,     /* a verification key is configured and the plan's
                         * signature is missing or does not verify */
} exec_status;

/* `rlc run PLAN`.  *summary (caller decrefs) describes what happened. */
exec_status exec_run(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e);
/* `rlc diff PLAN`: per-tenant changes against live state. */
exec_status exec_diff(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e);
/* `rlc status [PLAN]`: targets come from the plan, or from the last run's
 * journal in the state directory. */
exec_status exec_status_report(const char *plan_path, const exec_opts *o, json_t **summary,
                               rerr *e);
/* `rlc rollback [CHECKPOINT]`: the newest checkpoint when id is NULL. */
/* `rlc decide`: the request q asked of one target (--only names it when
 * the plan has several that decide), from the plan at plan_path or, when
 * NULL, the targets of the last deploy recorded in the state directory.
 * *answer (caller decrefs) holds the fields of SPEC.md 6.3. */
struct target_decide;
exec_status exec_decide(const char *plan_path, const exec_opts *o,
                        const struct target_decide *q, json_t **answer, rerr *e);
exec_status exec_rollback(const char *checkpoint_id, const exec_opts *o, json_t **summary,
                          rerr *e);
/* Finishes or undoes an interrupted deploy, if the journal shows one.
 * *recovered tells whether there was one. */
bool exec_recover(const exec_opts *o, bool *recovered, json_t **summary, rerr *e);

#endif
