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
#define PLAN_FORMAT 1

/* Computes the hex SHA-256 of the canonical JSON of plan without its
 * "plan_digest" member (whether or not present).  Borrows plan; returns
 * false (out = "") when plan is not an object or hashing fails. */
bool plan_digest_compute(const json_t *plan, char out[DIGEST_HEX_LEN + 1]);

/* Appends s as a string of canonical JSON (SPEC.md 5.2): what jansson
 * writes with JSON_ENSURE_ASCII, so that text assembled by hand (the
 * compiler's tenants, the executor's state maps) hashes as the tree would. */
void canon_json_str(buf *b, const char *s);

#endif
