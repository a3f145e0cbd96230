/* plan_kind.h - the kinds of rule a plan holds, in one table for the
 * compiler (which parses algorithm names and writes them) and the runtime
 * (which reads them, encodes them for Redis and decides with them): each
 * kind's name in the language and the plan, the name its identity hashes
 * (SPEC.md 5.5), its letter in the Redis config (SPEC.md 6.2), and whether
 * it has a burst.  The decisions themselves are runtime/algo.c's. */
#ifndef RLC_PLAN_KIND_H
#define RLC_PLAN_KIND_H

#include <stdbool.h>
#include <stddef.h>

typedef enum plan_kind {
    PLAN_TOKEN_BUCKET,
    PLAN_GCRA,
    PLAN_SLIDING_WINDOW,        /* exact: every admission of the trailing window */
    PLAN_FIXED_WINDOW,
    PLAN_APPROX_SLIDING_WINDOW, /* the weighted two-window counter */
    PLAN_CONCURRENCY,           /* not an algorithm: a pool of leases */
} plan_kind;

/* The rate algorithms are the kinds before PLAN_CONCURRENCY. */
#define PLAN_NALGOS 5

/* "token_bucket", ..., "concurrency". */
const char *plan_kind_name(plan_kind k);
/* The name a rule's identity hashes (SPEC.md 5.5): the name of the state
 * its counter holds.  The exact sliding window hashes "sliding_log"; the
 * weighted counter keeps "sliding_window", the name it had before it was
 * called approx_sliding_window, so its counters carry over. */
const char *plan_kind_identity(plan_kind k);
/* Its letter in the Redis config encoding: T G L F S C. */
char plan_kind_code(plan_kind k);
/* Whether burst sizes it (token bucket, GCRA); the windows admit count. */
bool plan_kind_has_burst(plan_kind k);
/* The rate algorithm named s[0..n), into *out; false for any other name
 * (concurrency included). */
bool plan_algo_parse(const char *s, size_t n, plan_kind *out);
/* The rate algorithms' names, PLAN_NALGOS of them, for suggestions. */
const char *const *plan_algo_names(void);

#endif
