/* gateway.h - the plan's config-store targets: etcd (SPEC.md 7.8) and, in
 * the same shape, HTTP admin APIs (7.9).  Each tenant is one entry, its
 * value the tenant's config JSON (canonical {"name","version","rules"},
 * SPEC 5.7); the executor (exec.c) calls this module at each phase of a
 * deploy: read the live entries, checkpoint the ones that change, write
 * them conditionally (etcd: transactions comparing mod_revision; HTTP:
 * If-Match), verify by reading back, commit the applied state, and restore
 * a checkpoint exactly.  When a plan has no Redis target, the deploy lock
 * is an etcd lease here.  Never prints; errors are rerr values. */
#ifndef RLC_GATEWAY_H
#define RLC_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rerr.h"

typedef struct gateway gateway;

/* The etcd (and HTTP) targets of a loaded plan; an empty set when it has
 * none.  ns is the policy namespace.  NULL with e set on bad settings. */
gateway *gateway_from_plan(const json_t *plan, const char *ns, rerr *e);
/* The chosen targets of a plan (a subset of all, its "targets" array). */
gateway *gateway_from_targets(const json_t *chosen, const json_t *all, const char *ns,
                              rerr *e);
/* Targets recorded in a journal header or checkpoint ("gateways"). */
gateway *gateway_from_record(const json_t *descs, const char *ns, rerr *e);
void gateway_free(gateway *g);

size_t gateway_count(const gateway *g);
bool gateway_has_lockable(const gateway *g);
/* --target NAME=SPEC for a gateway target (etcd: an endpoint URL).
 * *found false when no target has that name. */
bool gateway_override(gateway *g, const char *name, size_t namelen, const char *spec,
                      bool *found, rerr *e);
/* How to reach each target, without secrets, for the journal and
 * checkpoint (caller decrefs); names and addresses for the audit log. */
json_t *gateway_descs(const gateway *g);
json_t *gateway_names(const gateway *g);

/* Opens the clients (no request yet). */
bool gateway_connect(gateway *g, rerr *e);
/* Health of every endpoint (RLC3180), reported into report["gateways"]. */
bool gateway_preflight(gateway *g, json_t *report, rerr *e);
/* Reads the live entries and the applied state, decides what changes.
 * tenants: the plan's tenants ({"name","version","rules"}; the executor
 * streams the plan, so they are not in plan; NULL = none). */
bool gateway_read(gateway *g, const json_t *plan, const json_t *tenants, size_t *nchanged,
                  size_t *nremoved,
                  rerr *e);
/* [{"target","tenant","from","to"}] of what would change. */
json_t *gateway_changes(const gateway *g);
/* The checkpoint of every target (old values, absence, revisions). */
json_t *gateway_checkpoint(const gateway *g);
/* Writes the changed entries; calls fault_point("apply.gateway") before
 * each transaction or request.  RLC3190 when an entry changed since the
 * checkpoint. */
bool gateway_apply(gateway *g, size_t *written, rerr *e);
/* Reads back every written entry: RLC3191 if one differs. */
bool gateway_verify(gateway *g, rerr *e);
/* Records the applied state (etcd: <prefix><ns>/deploy/state). */
bool gateway_commit(gateway *g, const char *plan_digest, rerr *e);
/* Restores a checkpoint's "gateways" member exactly, unconditionally. */
bool gateway_restore(gateway *g, const json_t *ck_gateways, rerr *e);
/* The plan digest recorded as applied by the first target that records
 * one (malloc'd; NULL when none). */
char *gateway_live_plan(gateway *g, rerr *e);
/* Anchors the audit head text (best effort). */
void gateway_anchor(gateway *g, const char *head);

/* The deploy lock on the first etcd target: a lease and a key created only
 * if absent, "<token>|<holder JSON>".  RLC3160 when held (holder, age). */
bool gateway_lock(gateway *g, const char *run_id, const char *token, rerr *e);
/* Renews when a third of the TTL has passed (force: always); RLC3161 when
 * the lease or the key is gone. */
bool gateway_keepalive(gateway *g, bool force, rerr *e);
void gateway_unlock(gateway *g);
/* Releases a crashed run's lock by its token (recovery). */
bool gateway_unlock_token(gateway *g, const char *token, rerr *e);
/* The lock holder (JSON object, caller decrefs) or NULL. */
json_t *gateway_lock_holder(gateway *g, rerr *e);

/* `rlc diff`: per changed tenant, rules added/removed/changed, appended to
 * out (array).  Call after gateway_read. */
void gateway_diff(const gateway *g, const json_t *plan, json_t *out);
/* `rlc status`: per target, the applied plan and drift (a live entry that
 * differs from the applied state); appended to targets.  *drift counts.
 * plan_digest/plan_tenants (may be NULL): the plan given to status; when it
 * is the applied one, differing tenants are named. */
bool gateway_status(gateway *g, const char *plan_digest, const json_t *plan_tenants,
                    json_t *targets, size_t *drift, rerr *e);

#endif
