/* audit.h - the append-only, hash-chained audit log of deploys.
 *
 * <state>/audit.jsonl holds one canonical JSON record per line; each record
 * has "seq" (1, 2, ...), "prev" (the previous record's "hash", 64 zeros for
 * the first) and "hash" = SHA-256 of the canonical JSON of the record
 * without "hash".  The head (seq and hash of the last record) is anchored in
 * <state>/audit.head and, by the executor, in the store (NS:audit:head), so
 * cutting records off the end is detected too.  SPEC.md 7.6. */
#ifndef RLC_AUDIT_H
#define RLC_AUDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "digest.h"
#include "rerr.h"

typedef struct audit_head {
    unsigned long seq;                 /* 0: empty log */
    char hash[DIGEST_HEX_LEN + 1];
} audit_head;

typedef struct audit_rec {
    const char *action;        /* run, rollback, recover, ... */
    const char *run_id;
    const char *plan_digest;   /* NULL when none */
    const char *policy;
    json_t *targets;           /* borrowed; array, may be NULL */
    const char *state_before;  /* digests of the namespace, NULL when unknown */
    const char *state_after;
    const char *result;        /* committed, rolled_back, failed, refused, ... */
    int err_code;              /* 0: no error */
    const char *err_msg;
} audit_rec;

/* Appends a record (time and actor filled here: user, host, pid, CI job id
 * from CI_JOB_ID, GITHUB_RUN_ID, BUILD_ID or RLC_CI_JOB when set).  The
 * line is fsynced, then the head file is replaced.  *line_out (optional)
 * receives the record's canonical text (caller frees), for a stream mirror. */
bool audit_append(const char *state_dir, const audit_rec *r, audit_head *head, char **line_out,
                  rerr *e);
/* Reads <state>/audit.head; *present false when there is none. */
bool audit_read_anchor(const char *state_dir, audit_head *h, bool *present, rerr *e);
/* "seq hash" text of a head, for the store anchor. */
void audit_head_text(const audit_head *h, char out[96]);
bool audit_head_parse(const char *s, audit_head *h);

/* Checks the whole chain and the anchors (the state dir's always, the
 * store's when store_anchor is not NULL).  Returns true when intact; else
 * e says what is wrong and on which line (3171 chain, 3172 anchor).
 * *records gets the number of records read. */
bool audit_verify(const char *state_dir, const audit_head *store_anchor, unsigned long *records,
                  audit_head *head, rerr *e);

/* Reads every record (array of objects, caller decrefs); NULL with e. */
json_t *audit_load(const char *state_dir, rerr *e);

#endif
