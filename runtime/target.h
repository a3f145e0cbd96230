/* target.h - the interface every store a deploy writes to implements, in
 * the manner of curl's protocol handlers and SQLite's VFS: one table of
 * operations per kind of target (target_redis.c, target_etcd.c,
 * target_http.c, target_nginx.c) and the list of kinds in target.c.  The
 * deploy (exec.c) runs the phases of SPEC.md 7 over an array of targets and
 * knows no kind; a kind knows nothing of the journal, the audit log or the
 * other targets.  Adding a kind is one file that defines its target_kind and
 * one entry in target.c's table.
 *
 * Each kind's target struct starts with a `target` (its first member), so
 * a target * is the kind's struct.  Operations a kind does not have are
 * NULL; the deploy skips them.  Every operation returns false with e set on
 * failure and prefixes its message with the target's name where the store
 * is not named already. */
#ifndef RLC_TARGET_H
#define RLC_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "digest.h"
#include "rerr.h"
#include "rules.h"

typedef struct target target;
typedef struct target_kind target_kind;

/* What every target of one deploy reads of it (borrowed; the deploy owns
 * it and fills it in as the run goes on). */
typedef struct target_env {
    const char *ns;             /* the policy's namespace */
    const char *policy;
    const char *digest;         /* the plan's digest ("" when none) */
    const char *run;            /* this run's id */
    const char *token;          /* the lock token of this run */
    const json_t *plan;         /* the plan without its tenants (NULL: none) */
    /* The plan's tenant index, when its text is kept (plan_load.h; NULL
     * and 0 otherwise: "tenant_index" in plan is then the tree's). */
    const struct plan_bucket *index;
    size_t nindex;
    const rl_ruleset *rs;       /* the plan's rules (NULL: no plan) */
    const json_t *tenants;      /* [{"name","version","rules"}] for config stores */
    const char *state_dir;
    struct tknown *known;       /* the state directory's records read while the plan
                                 * loaded (their wholes may be taken), or NULL */
    const char *plan_path;      /* recovery: the plan the journal names (may be NULL) */
    bool dry_run, full_read;
    bool plan_sorted;           /* the plan's tenants came in strictly increasing name order */
    bool client_time;           /* time_source = client */
    int64_t skew_ms;            /* max_clock_skew */
    /* The tenants the plan's verification cases name, sorted, each once:
     * each was found in the plan before anything was written. */
    const char *const *case_names;
    size_t ncase_names;
    size_t nchanged, nremoved;  /* after read: every target's changed/removed tenants */
    void (*say)(void *ud, const char *msg);   /* progress (may be NULL) */
    bool (*renew)(void *ud, rerr *e);         /* renews every lock the deploy holds */
    /* Adds the tenants of every bucket elided at load (tknown_rec.elided)
     * to rs, from their records: for a target that cannot take them as
     * unchanged.  False with e set when a record cannot give them. */
    bool (*expand)(void *ud, rerr *e);
    /* The same for the elided buckets that hold a verification case's
     * tenant only: for a target that will run every case. */
    bool (*expand_cases)(void *ud, rerr *e);
    /* Checks every bucket of the plan read at load without checking its
     * digest (a run defers it for a deploy that turns out fresh, SPEC.md
     * 7.7): a target calls it before it reads or writes anything by a
     * tenant's name, unless it checks each tenant's bucket as its rules
     * are read (rs->check) before its first write of it.  False with e set
     * (RLC3105, RLC3106) when one is not what the index says. */
    bool (*check_all)(void *ud, rerr *e);
    void *ud;
} target_env;

/* The common head of every kind's target. */
struct target {
    const target_kind *kind;
    const target_env *env;
    char name[128];
    json_t *desc;               /* how to reach it, without secrets (journal, checkpoint) */
    char addr[1024];            /* where it is, for messages and the audit log */
    char note[512];             /* what the operator must know of this run's outcome on it
                                 * (e.g. a reload skipped), "" when nothing: in the audit
                                 * record and the summary's "notes" */
    bool locked;                /* holds the deploy lock */
};

/* One node's clock as preflight measured it: its offset from this host's
 * clock (microseconds) give or take err_us.  Nodes of one owner are
 * compared with each other (SPEC.md 2.8). */
typedef struct tclock {
    const target *owner;
    char name[300];             /* host:port */
    double off_us, err_us;
} tclock;

typedef struct tclocks {
    tclock *v;
    size_t n, cap;
} tclocks;

/* Buckets of a plan's tenants (SPEC.md 5.2) that a record in the state
 * directory vouches for: a deploy read a bucket with that digest whole and
 * recorded its tenants' names and plan versions, so a plan that has it
 * need not read it to know them.  A record is kept per bucket (its kind's
 * whole): a bucket's names are read only when asked for (open). */
typedef struct tknown_rec {
    char *path;
    void *whole;                /* the record as its kind read it (owned) */
    void (*whole_free)(void *whole);
    /* The names (sorted) and plan versions (64 hex digits each) of the
     * tenants of the record's bucket j, read and checked on first use and
     * kept in whole; false when the bucket cannot be read (damaged). */
    bool (*open)(void *whole, size_t j, const char *const **names,
                 const char *const **vers, size_t *n);
    /* The first and last names of bucket j (from the record's index). */
    const char *(*first)(void *whole, size_t j);
    const char *(*last)(void *whole, size_t j);
    /* Whether the record says name was in its map when it was written, as
     * the tenant of a verification case (may be NULL): a name it says so
     * of, in a bucket the plan holds unchanged, is in the plan without
     * that bucket's blob being read. */
    bool (*has_case)(void *whole, const char *name);
    /* Buckets the deploy took from the plan without adding their tenants
     * to its rules at all (elided[j] != 0): the record's target, when the
     * store's manifest matches it, knows they are unchanged; any other
     * reader has them added first (target_env.expand). */
    size_t *elided;             /* the plan's bucket k + 1, or 0 */
    size_t nb, nelided;
} tknown_rec;

typedef struct tknown_bucket {
    char sha[DIGEST_HEX_LEN + 1];
    size_t rec, j, n;           /* rec's bucket j, of n tenants */
} tknown_bucket;

typedef struct tknown {
    tknown_rec *rec;
    size_t nrec;
    tknown_bucket *b;           /* sorted by sha */
    size_t nb;
} tknown;

/* The bucket of digest sha that k vouches for, or NULL. */
const tknown_bucket *tknown_find(const tknown *k, const char *sha);
/* Sorts k's buckets for tknown_find. */
void tknown_sort(tknown *k);
/* Frees what k holds; accepts a zeroed tknown. */
void tknown_free(tknown *k);

/* What reading the live state found. */
typedef struct target_read {
    size_t changed, removed;    /* tenants written / dropped by this plan */
    size_t pointers, encoded;   /* live pointers read, configs encoded */
    bool full;                  /* read in full (no record of the store matched) */
} target_read;

/* `rlc decide`: one request, asked of the store as a gateway asks it. */
typedef struct target_decide {
    const char *tenant;
    const char *path;           /* "group:NAME/key:NAME" below the tenant, "" for none */
    const char *method, *route; /* "" when the request names no route */
    long long cost;
    bool peek;                  /* decide without writing anything */
} target_decide;

/* Who takes the deploy lock: every target of an EACH kind; when the deploy
 * has none, the first target of a FIRST kind, for all of them. */
typedef enum { TLOCK_NONE, TLOCK_EACH, TLOCK_FIRST } target_lock_scope;

struct target_kind {
    const char *name;           /* the plan's "kind" */
    const char *record;         /* the journal's and checkpoint's list of it */
    const char *group;          /* noun of the progress lines shared with other
                                 * kinds of the group (NULL: none) */
    const char *verify_how;     /* "[6/7] verify <how>" when it comes first */
    int order;                  /* kinds of lower order go first in every phase */
    int max;                    /* at most this many targets of the group or kind */
    target_lock_scope lock_scope;
    bool json_tenants;          /* reads the plan's tenants as JSON (env->tenants) */
    /* Appends to out the buckets this kind's records in state_dir vouch for
     * in namespace ns (best effort: a record that is not intact adds none). */
    void (*known)(const char *state_dir, const char *ns, tknown *out);

    /* A target from the plan's entry tj (all: the plan's targets, which a
     * kind may consult; NULL when desc is a recorded description). */
    target *(*create)(const json_t *tj, const json_t *all, const target_env *env, rerr *e);
    /* --target NAME=SPEC. */
    bool (*override)(target *t, const char *spec, rerr *e);
    /* Settings resolved once the overrides are in (secrets, URLs). */
    bool (*resolve)(target *t, rerr *e);
    bool (*connect)(target *t, rerr *e);
    /* Before anything is written: health, permissions, clocks (into clk);
     * report is the summary's "preflight" object. */
    bool (*preflight)(target *t, json_t *report, tclocks *clk, rerr *e);
    /* Health under the lock; *endpoint is the address checked. */
    bool (*health)(target *t, const char **endpoint, rerr *e);

    /* The lock: its name for the progress line, take, renew (force: now,
     * and check it is still ours; else only when a third of its TTL has
     * passed), release; release a crashed run's lock by its token; and
     * false with RLC3160 when the lock shows that run still holds it. */
    void (*lock_what)(const target *t, char *out, size_t n);
    bool (*lock)(target *t, rerr *e);
    bool (*keepalive)(target *t, bool force, rerr *e);
    void (*unlock)(target *t);
    bool (*unlock_token)(target *t, const char *token, rerr *e);
    bool (*lock_gone)(target *t, const char *who, const char *token, rerr *e);

    /* Reads the live state and decides what changes. */
    bool (*read)(target *t, target_read *r, rerr *e);
    /* Appends {"tenant","from","to"} (and "target") of what would change. */
    void (*changes)(const target *t, json_t *out);
    /* The digest of the tenant -> version map before or after (false: the
     * kind keeps none). */
    bool (*state_digest)(const target *t, bool after, char out[DIGEST_HEX_LEN + 1]);
    /* Its checkpoint entry {"target": desc, ...} (caller decrefs). */
    json_t *(*checkpoint)(target *t, rerr *e);
    /* Whether a checkpoint entry shows a run that changed nothing: 1 yes,
     * -1 no, 0 the entry cannot tell. */
    int (*ck_noop)(const json_t *entry, const char *plan_digest);
    /* Marks the store "a deploy is writing" before apply; removes the mark. */
    bool (*mark)(target *t, rerr *e);
    bool (*unmark)(target *t, rerr *e);
    bool (*apply)(target *t, size_t *written, rerr *e);
    /* summary: the run's summary, for the kind's figures. */
    bool (*verify)(target *t, json_t *summary, rerr *e);
    bool (*commit)(target *t, rerr *e);
    /* After the audit record: what the state directory keeps of the store. */
    void (*committed)(target *t);
    /* Restores a checkpoint entry exactly.  stale: the store may have
     * changed since (`rlc rollback`), so what the entry says about it is
     * not to be trusted afterwards. */
    bool (*restore)(target *t, const json_t *entry, bool stale, rerr *e);
    /* `rlc rollback`: RLC3193 when a later deploy changed the store. */
    bool (*rollback_check)(target *t, const json_t *entry, const char *ck_plan, const char *id,
                           rerr *e);
    /* Anchors the audit head (best effort); line: the record. */
    void (*anchor)(target *t, const char *head, const char *line);
    /* `rlc diff`: appends per changed tenant its rule changes; summary gets
     * the kind's fields. */
    bool (*diff)(target *t, json_t *summary, json_t *tenants, rerr *e);
    /* `rlc status`: appends the target's object to targets, counts drift. */
    bool (*status)(target *t, json_t *targets, size_t *drift, rerr *e);
    /* `rlc decide`: the store's answer to q as an object with the fields of
     * SPEC.md 6.3 (caller decrefs).  NULL for kinds that decide nothing. */
    bool (*decide)(target *t, const target_decide *q, json_t **out, rerr *e);
    void (*free)(target *t);
};

/* The kind named name, or NULL. */
const target_kind *target_kind_find(const char *name);
/* The kind of a recorded description found in the list named record. */
const target_kind *target_kind_of_record(const char *record, const json_t *desc);
/* Every kind, NULL-terminated. */
extern const target_kind *const target_kinds[];

/* Progress from a kind: "      <text>". */
void target_say(const target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a clock sample. */
void tclocks_add(tclocks *c, const target *owner, const char *name, double off_us,
                 double err_us);

#endif
