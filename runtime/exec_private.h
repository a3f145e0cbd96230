/* exec_private.h - what the executor's files share: the context of one
 * verb and the helpers over its targets.  exec.c holds `rlc run` and these
 * helpers, exec_recover.c recovery and `rlc rollback`, exec_report.c
 * `rlc diff` and `rlc status`.  Not for use outside those files. */
#ifndef RLC_EXEC_PRIVATE_H
#define RLC_EXEC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "exec.h"
#include "journal.h"
#include "plan_load.h"
#include "rules.h"
#include "statedir.h"
#include "target.h"

#define MAX_TARGETS 16

/* What a failed phase of a run leaves to undo. */
typedef enum { UNDO_NONE, UNDO_ABANDON, UNDO_ROLLBACK } xundo;

typedef struct xc {
    const exec_opts *o;
    target_env env;            /* what the targets read of this verb */
    json_t *plan;
    char digest[DIGEST_HEX_LEN + 1];
    rl_ruleset rs;
    bool have_rs;
    plan_text text;            /* the plan's text, which rs's unread tenants borrow */
    tknown known;              /* buckets the state directory's records vouch for */
    bool known_read;
    /* The last tenant taken, in file order: borrowed from the ruleset or
     * a record, both of which outlive the load (not copied for each of
     * 100 000 tenants). */
    const char *prev_name;
    bool unsorted;             /* a tenant came before one it sorts after */
    size_t nbuckets, buckets_known, buckets_fetched;
    /* run: buckets a record vouches for may be left out of the rules
     * altogether (take_bucket); elided_tenants counts their tenants. */
    bool elide;
    size_t elided_tenants;
    int elide_ok;              /* 0 not known yet, 1 the plan allows it, -1 not */
    const char **vnames;       /* the verification cases' tenants, sorted, each once */
    size_t nvnames;
    const char **cnames;       /* those of them the plan names (no template) */
    size_t ncnames;
    size_t cur_bucket;         /* the bucket whose tenants are being read */
    bool expanding;            /* an elided bucket read after the load (env_expand) */
    size_t *opened;            /* per bucket: 1 + where fetch_tenant's last tenant of it
                                * ended, 0 when none was read */
    size_t *bfirst;            /* per bucket: the plan position of its first tenant */
    /* run: buckets read at load whose digests are checked later, when their
     * tenants' rules are first read (a first deploy's apply) or before
     * anything is read or written by their names (xc_check_all). */
    bool defer;
    bool deferring;            /* the bucket being read is one of them */
    struct xdeferred *dfr;     /* per bucket (ndfr of them) */
    size_t ndfr;
    target *t[MAX_TARGETS];    /* in kind order, then plan order */
    size_t nt;
    char run[64];
    char token[33];
    char nsbuf[256], polbuf[256];   /* ns and policy when they come from a record */
    journal j;
    bool jopen;
    char ckpt[STATEDIR_PATH_MAX];
    json_t *summary;
    json_t *skipped;
    json_t *phase_ms;          /* wall time of each phase, for the summary */
    long long mark_ms;
    json_t *tenants;           /* [{"name","version","rules"}], kept while streaming */
    bool tenants_checked;      /* whether the plan has targets that need them */
    tclocks clk;
    char before[DIGEST_HEX_LEN + 1], after[DIGEST_HEX_LEN + 1];
    exec_status st;            /* a run's outcome so far */
    xundo undo;
    rerr cause;                /* why a run rolls back */
} xc;

/* A bucket read at load without checking its digest: its first and last
 * tenants' names (the ruleset's), and where its first tenant stands in
 * the plan. */
typedef struct xdeferred {
    const char *fn, *ln;
    size_t first;
    bool pending;
    bool split;                /* cut into tenants without proof (plan_text.split) */
} xdeferred;

void xc_init(xc *c, const exec_opts *o);
void xc_free(xc *c);
/* Instead of xc_free when the process is about to exit (exec_opts.exiting):
 * closes the targets and the journal, and keeps the rest reachable until
 * the exit. */
void xc_leave(xc *c);
void xc_say(xc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The plan (signature, parse, rules) into c. */
exec_status xc_load_plan(xc *c, const char *path, rerr *e);
/* The plan's targets, with --only and --target applied, created and
 * resolved (not connected). */
bool xc_plan_targets(xc *c, rerr *e);
/* Targets recorded in a journal header (entries false: rec's lists hold
 * descriptions) or a checkpoint (entries: {"target": desc, ...}),
 * created and connected.  chosen: --only and --target apply to them as to
 * a plan's (status, decide); recovery and rollback take every recorded
 * target where it was recorded. */
bool xc_recorded_targets(xc *c, const json_t *rec, bool entries, bool chosen, rerr *e);
bool xc_connect_all(xc *c, rerr *e);
/* Whether target i takes the deploy lock (target.h, TLOCK_*). */
bool xc_takes_lock(const xc *c, size_t i);
bool xc_lock_all(xc *c, rerr *e);
void xc_unlock_all(xc *c);
/* The entry of target t in a checkpoint, or NULL. */
const json_t *xc_ck_entry(const json_t *ck, const target *t);
/* Restores every target from checkpoint ck (target.h, restore). */
bool xc_restore_all(xc *c, const json_t *ck, bool stale, rerr *e);
/* Appends the audit record and anchors its head in every target. */
bool xc_audit(xc *c, const char *action, const char *result, const char *before,
           const char *after, const rerr *err, rerr *e);
/* Takes the state directory's lock for verb; -1 with e set. */
int xc_lock_state_dir(const exec_opts *o, const char *verb, const char *run, rerr *e);
/* Recovers an interrupted deploy first; its summary into summary. */
exec_status xc_recover_pending(const exec_opts *o, rerr *e, json_t *summary);
/* The newest checkpoint of a run that changed something. */
bool xc_newest_checkpoint(const char *dir, char *out, size_t n, size_t *skipped);
/* A kind's group, or its name when it has none (target.h). */
const char *xc_group_of(const target_kind *k);
/* Each kind's list (journal header, checkpoint) into into: all present,
 * empty when a kind has no target; with the targets' descriptions. */
void xc_record_lists(json_t *into);
void xc_record_descs(xc *c, json_t *into);
/* Names target i in the items it appended to items (from index from on),
 * when the deploy has more than one target of its kind: with one, the
 * items read as they always did. */
void xc_name_items(xc *c, size_t i, json_t *items, size_t from);
/* A fresh random lock token into c->token. */
void xc_new_token(xc *c);

#endif
