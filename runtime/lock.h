/* lock.h - the deploy lock of a namespace in the store: one key,
 * NS:deploy:lock, set with SET NX PX to "<token>|<holder JSON>".  The token
 * is 128 random bits (rand_fill); renewal and release are Lua scripts that
 * act only when the token still matches, so a run never extends or deletes
 * a lock it lost.  A holder that dies stops renewing and the lock expires
 * after its TTL (30 s by default, RLC_LOCK_TTL_MS overrides for tests). */
#ifndef RLC_LOCK_H
#define RLC_LOCK_H

#include <stdbool.h>

#include "redis_cluster.h"

typedef struct dlock {
    rstore *s;                 /* borrowed */
    char key[512];
    char token[33];
    int ttl_ms;
    long long renewed_ms;      /* our clock at the last successful renewal */
    bool held;
} dlock;

/* Takes the lock for run_id.  When held by another run, fails with RLC3160
 * and a message naming the holder and its age.  token: reuse this token
 * (recovery of our own crashed run) or NULL for a fresh one. */
bool lock_acquire(dlock *l, rstore *s, const char *ns, const char *run_id, const char *token,
                  rerr *e);
/* Extends the TTL if the token still matches; else RLC3161. */
bool lock_renew(dlock *l, rerr *e);
/* Renews only when more than a third of the TTL has passed (cheap to call
 * in loops). */
bool lock_keepalive(dlock *l, rerr *e);
/* Deletes the lock if the token still matches.  Returns false (RLC3161)
 * when it was no longer ours. */
bool lock_release(dlock *l, rerr *e);
/* Reads the current holder: *present false when unlocked; holder (JSON
 * text, malloc'd) and remaining ttl. */
bool lock_peek(rstore *s, const char *ns, bool *present, char **holder, long long *pttl,
               rerr *e);
/* The TTL a lock is taken with: 30 s, or $RLC_LOCK_TTL_MS. */
int lock_ttl_ms(void);
/* Releases a lock by token (recovery after a crash).  *released tells. */
bool lock_release_token(rstore *s, const char *ns, const char *token, bool *released, rerr *e);

#endif
