/* plan_digest.h - the digest of a plan document, one definition shared by
 * the compiler (which writes `plan_digest`) and the runtime (which checks it
 * before touching anything).  SPEC.md section 5 "Canonical JSON and digest". */
#ifndef RLC_PLAN_DIGEST_H
#define RLC_PLAN_DIGEST_H

#include <stdbool.h>

#include <jansson.h>

#include "buf.h"
#include "digest.h"

/* The plan format this build writes and reads (SPEC.md section 5). */
#define PLAN_FORMAT 3

/* Computes the hex SHA-256 of the canonical JSON of plan without its
 * "plan_digest" and "tenants" members (whether or not present): the
 * tenants are covered by the digests of "tenant_index" (SPEC.md 5.2).
 * Borrows plan; returns false (out = "") when plan is not an object or
 * hashing fails. */
bool plan_digest_compute(const json_t *plan, char out[DIGEST_HEX_LEN + 1]);

/* Tenants are indexed in buckets: runs of consecutive tenants (name order)
 * with one digest each, so that a reader checks and parses only the buckets
 * it needs.  Where a bucket ends depends on the names alone (a tenant whose
 * name hashes to 0 modulo PLAN_BUCKET_MEAN starts one, and a bucket never
 * holds more than PLAN_BUCKET_MAX), so a changed, added or removed tenant
 * changes the digest of its own bucket, not of the ones after it. */
#define PLAN_BUCKET_MEAN 128
#define PLAN_BUCKET_MAX 1024

/* Whether the tenant named name starts a new bucket after one holding n
 * tenants (n >= 1). */
bool plan_bucket_cut(const char *name, size_t n);

/* The digest of a bucket: hex SHA-256 of "[" text "]", text being its
 * tenants' canonical JSON joined by commas (the canonical JSON of the run
 * as an array).  Borrows text. */
bool plan_bucket_digest(const char *text, size_t len, char out[DIGEST_HEX_LEN + 1]);

#endif
