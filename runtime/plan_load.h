/* plan_load.h - reading a plan file on the deploy side: parse, check the
 * format version, the compiler's compatibility, the shape of every field
 * the runtime relies on, and recompute plan_digest.  A plan that fails any
 * check is refused with a 31xx code (SPEC.md section 5).  Depends on lang/
 * only: runtime never sees the compiler's model, the JSON is the contract. */
#ifndef RLC_PLAN_LOAD_H
#define RLC_PLAN_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan_digest.h"
#include "rerr.h"

/* Largest plan file read (RLC3101 past it). */
#define PLAN_MAX_BYTES ((size_t)1 << 30)

/* Reads and parses path as a plan: JSON with no duplicate keys and no
 * floating-point numbers, an object whose "format" is PLAN_FORMAT.  Does
 * not check the digest.  Returns a new reference, or NULL with e set
 * (RLC3101 read, RLC3102 parse, RLC3103 format). */
json_t *plan_parse_file(const char *path, rerr *e);
/* The same from len bytes of text (borrowed), as the plan fuzzer feeds it. */
json_t *plan_parse_text(const char *text, size_t len, rerr *e);

/* Checks a parsed plan: compiler compatible with this rlc (RLC3104), every
 * required field present with its type (RLC3106), and plan_digest equal to
 * the recomputed digest (RLC3105).  Borrows plan.  When computed is not
 * NULL it receives the recomputed digest even on failure. */
bool plan_verify(const json_t *plan, char computed[DIGEST_HEX_LEN + 1], rerr *e);

/* plan_parse_file then plan_verify: the one call `rlc run` needs. */
json_t *plan_load(const char *path, rerr *e);

/* plan_load for the deploy path, which needs the tenants only as rules: the
 * plan comes back with "tenants" empty, and each tenant object is handed to
 * fn (borrowed, i of n, in file order) as it is parsed, so a 100 000-tenant
 * plan never exists as one jansson tree (gigabytes).  The same checks as
 * plan_load, in the same order, and the plan (tenants still to come) is
 * passed along; a file that is not the canonical text
 * (re-indented) is loaded whole and its tenants handed over the same way.
 * fn returns false with e set to stop. */
typedef bool (*plan_tenant_fn)(void *ud, const json_t *plan, const json_t *tenant, size_t i,
                               size_t n, rerr *e);
/* tfn (may be NULL), for a canonical file, gets each tenant's text first:
 * it returns 1 when it took the tenant, 0 to have it parsed and handed to
 * fn, -1 with e set to stop. */
typedef int (*plan_tenant_text_fn)(void *ud, const json_t *plan, const char *text, size_t len,
                                   size_t i, size_t n, rerr *e);
/* want_digest, when not NULL, is the digest a signature vouches for: a
 * file whose plan_digest member says otherwise is refused (RLC3108) before
 * anything else of it is parsed.
 *
 * keep, when not NULL, receives the file's text on success, so that what
 * tfn borrowed from it stays valid (release with plan_text_release); its
 * text is NULL when none was handed to tfn. */
/* One bucket of a plan's tenant index (SPEC.md 5.2): where its tenants
 * lie in the "tenants" array's text, how many, and their digest. */
typedef struct plan_bucket {
    size_t at, len, n;
    char sha256[DIGEST_HEX_LEN + 1];
} plan_bucket;

typedef struct plan_text {
    char *text;
    size_t len;
    bool mapped;
    size_t tenants_at;         /* where the "tenants" array starts in text */
    /* The tenant index, read without a tree (the plan's "tenant_index" is
     * [] in the tree plan_load_streamed returns with a kept text). */
    plan_bucket *index;
    size_t nindex;
    /* Per bucket (NULL: none), where its tenants were cut without matching
     * brackets (a bucket bfn had read unchecked), NULL for a bucket cut by
     * matching them: n + 1 offsets from the bucket's first byte, each
     * tenant's first byte and, last, one past the bucket's end.
     * plan_check_split proves such a cut before a tenant of it that was
     * never read whole is used. */
    uint32_t **cuts;
} plan_text;
/* bfn (may be NULL), for a canonical file, is asked about each bucket of
 * the index before it is read: it returns 1 when it took the bucket's n
 * tenants (tenants[first] on) without their text (the bucket is then not
 * read, nor checked against its digest), 0 to have them read, 2 to have
 * them read without checking the bucket's digest now (the caller then
 * checks it, plan_check_bucket, before it uses anything of them but their
 * names), -1 with e set to stop. */
typedef int (*plan_bucket_fn)(void *ud, const json_t *plan, size_t k, const char *sha256,
                              size_t n, size_t first, size_t total, rerr *e);
json_t *plan_load_streamed(const char *path, plan_bucket_fn bfn, plan_tenant_text_fn tfn,
                           plan_tenant_fn fn, void *ud, const char *want_digest, plan_text *keep,
                           rerr *e);
/* Checks bucket k of a plan kept by plan_load_streamed against its digest
 * in the index (RLC3105 when it does not hash to it or is not where the
 * index says, the message naming tenants[first..]). */
bool plan_check_bucket(const plan_text *pt, size_t k, size_t first, rerr *e);
/* Whether bucket k's text is its n tenants' JSON values separated by
 * commas, each where plan_text.cuts says (RLC3102 otherwise): a cut
 * without matching brackets, proven. */
bool plan_check_split(const plan_text *pt, size_t k, rerr *e);
/* Releases what plan_load_streamed kept; accepts a zeroed plan_text. */
void plan_text_release(plan_text *t);
/* The text of tenant name in bucket k of a plan kept by plan_load_streamed
 * (its index is pt's), borrowed from pt, into *text and *len,
 * without reading the rest of the bucket or checking its digest: for a
 * bucket a deploy record vouches for, whose tenant the caller checks
 * against the version the record gives (a tenant's bytes are used only
 * once their own digest matched).  It is looked for from byte *from of the
 * bucket on, where the caller's last tenant of it ended (tenants asked for
 * in name order then cost one pass over the bucket, not one each; *from is
 * set past the one found), then from the start, then at position hint
 * (0-based).  False with e set when the bucket holds no such tenant
 * (RLC3105) or is not JSON (RLC3102). */
bool plan_read_tenant(const plan_text *pt, size_t k, const char *name, size_t hint,
                      size_t *from, const char **text, size_t *len, rerr *e);
/* Bucket k of a plan kept by plan_load_streamed, whose bfn took it
 * without reading it, read now: checked against its digest (RLC3105) and
 * its tenants handed to tfn (else fn) as plan_load_streamed would have,
 * first being the position of its first tenant among total. */
bool plan_read_bucket(const plan_text *pt, const json_t *plan, size_t k, size_t first,
                      size_t total, plan_tenant_text_fn tfn, plan_tenant_fn fn, void *ud,
                      rerr *e);

#endif
