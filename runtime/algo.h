/* algo.h - the rate-limit algorithms, one step at a time, in integer
 * arithmetic.  stdlib/enforce.lua computes exactly the same functions inside
 * Redis; SPEC.md 6.4 is the reference both follow, and the differential
 * test (tests/differential.c) proves them equal.  These functions hold no
 * state of their own: the caller keeps each rule's rl_state and decides
 * whether to commit the new state (all-or-none across a request's rules).
 *
 * Fixed point: a token bucket's level is kept in units of 1/window_ms of a
 * token, so refilling count tokens per window adds exactly `count` units per
 * millisecond; GCRA keeps its theoretical arrival time as whole ms plus a
 * fraction in units of 1/count ms.  No rounding ever happens in the state;
 * only the reported remaining/reset/retry figures are rounded (down, up, up). */
#ifndef RLC_ALGO_H
#define RLC_ALGO_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* The admissions an exact sliding window still counts, oldest first: entry
 * i charged u[i] units at time t[i] (ms), times strictly increasing.  The
 * live entries are [head, head + n); at most rules_log_entries() of them. */
typedef struct rl_log {
    int64_t *t, *u;
    size_t head, n, cap;
} rl_log;

/* The state of one rate rule.  present = false is the state of a counter
 * key that does not exist (never used, or expired). */
typedef struct rl_state {
    bool present;
    int64_t a, b, c;
    /* token bucket: a = level (1/window_ms tokens), b = last time (ms)
     * gcra:         a = tat (ms), b = tat fraction (1/count ms)
     * fixed window: a = window start (ms), b = count
     * sliding log:  a = units the log holds, log = its entries (owned)
     * approx sliding: a = window start (ms), b = previous count, c = current */
    rl_log *log;
} rl_state;

/* The verdict of one rule on one request. */
typedef struct rl_verdict {
    bool admit;
    int64_t remaining;     /* requests of cost 1 left after this one (or now, if rejected) */
    int64_t reset_ms;      /* until the rule is back at full capacity */
    int64_t retry_ms;      /* rejected: until the same request could pass; -1 never */
    int64_t ttl_ms;        /* expiry of the counter when the new state is written */
    rl_state next;         /* state to store if the request is admitted (sliding
                            * log: next.a only; the log changes as below) */
    size_t log_drop;       /* sliding log: expired entries to drop from the front */
    int64_t log_t, log_units; /* then `log_units` charged at log_t (merged when the
                               * newest entry has that time) */
} rl_verdict;

/* Evaluates rate rule r (not PLAN_CONCURRENCY) for a request of cost
 * `cost` (>= 1; charge = cost x r->cost) at time now_ms (>= 0), on state s.
 * skew_ms is the policy's max_clock_skew (for the TTL only). */
void algo_rate(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now_ms,
               int64_t skew_ms, rl_verdict *v);

/* Stores the state verdict v (from algo_rate on *s, admitted) leaves:
 * what a counter write does in Redis. */
void algo_commit(const rl_rule *r, rl_state *s, const rl_verdict *v);
/* Frees what a state owns (the log of a sliding window); s becomes absent. */
void algo_state_clear(rl_state *s);

/* Integer helpers with the exact definitions the Lua library uses. */
static inline int64_t algo_ceil_div(int64_t a, int64_t b)
{
    /* a >= 0, b > 0 */
    return a / b + (a % b != 0);
}

/* Expiry of a counter that is needed for `needed_ms` more: see SPEC.md 6.5. */
static inline int64_t algo_ttl(int64_t needed_ms, int64_t skew_ms)
{
    return needed_ms + 2 * skew_ms + 1;
}

#endif
