/* bound.h - worst-case admission arithmetic over the model: how many
 * requests a limit can admit in any span of time, given its algorithm, its
 * burst, its cost, the clock skew and the limits above it in the hierarchy.
 * The hazard passes use it to prove limits dead or loose, `rlc check
 * --report` prints it, and the counter-expiry rule of SPEC.md 6.5 is
 * restated here so the checker can prove it long enough.
 * Everything is integer arithmetic (128-bit intermediates, saturating), so
 * the figures in messages are exact. */
#ifndef RLC_BOUND_H
#define RLC_BOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* Most requests (each of cost 1 at the gateway) limit l alone can admit in
 * any span of span_ms milliseconds (span_ms whole-millisecond instants)
 * when the clocks deciding it may differ by skew_ms.  The figure is exact:
 * some sequence of requests reaches it (SPEC.md 4, "The worst-case bound").
 * Saturates at INT64_MAX. */
int64_t bound_span(const m_limit *l, int64_t span_ms, int64_t skew_ms);

/* Aligned windows of window_ms a span of `instants` ms can touch:
 * ceil((instants - 1) / window_ms) + 1. */
int64_t bound_windows_touched(int64_t instants, int64_t window_ms);
/* Trailing windows of window_ms needed to cover `instants` ms:
 * ceil(instants / window_ms). */
int64_t bound_windows_covering(int64_t instants, int64_t window_ms);

/* Requests l admits per window and per burst: count / cost, burst / cost
 * (rounded down; a request of cost c needs c units). */
int64_t limit_requests(const m_limit *l);
int64_t limit_burst_requests(const m_limit *l);

/* Whether limit a, applied to the same requests as b (a on b's subject or an
 * ancestor), keeps b from ever rejecting: a's worst case at every time scale
 * fits inside what b guarantees to admit.  See SPEC.md RLC2002. */
bool limit_kills(const m_limit *a, const m_limit *b);

/* The counter-expiry rule of SPEC.md 6.5 for a counter charged at the start
 * of its window (or a bucket just emptied): the time until the state equals
 * an absent key (the window; for a bucket, the time to refill its whole
 * burst) plus 2 x skew plus 1 ms. */
int64_t counter_expiry_ms(const m_limit *l, int64_t skew_ms);
/* Whether an expiry keeps a counter for its window (a bucket: its refill
 * time) plus the skew, so no request that still falls in its window, by any
 * clock within the skew, finds it gone while it still matters (RLC2104). */
bool counter_expiry_covers(const m_limit *l, int64_t skew_ms, int64_t expiry_ms);
/* Time for a bucket limit to refill its whole burst, in ms (rounded up);
 * the window for windowed algorithms. */
int64_t limit_refill_ms(const m_limit *l);

/* The bound of one limit in its hierarchy: the most requests it can admit in
 * any span of its window, capped by every non-shadow limit applying to the
 * same requests (its subject's and every ancestor's, route limits included
 * when l is a route limit). */
typedef struct limit_bound {
    int64_t alone;              /* l by itself, skew included */
    int64_t bound;              /* after the hierarchy caps it */
    const m_limit *capped_by;   /* the limit that gives `bound`, or NULL (l) */
    const m_subject *cap_owner; /* subject carrying capped_by */
} limit_bound;

/* skew_ms: the skew that applies to decisions (0 with server time). */
void bound_in_hierarchy(const m_subject *s, const m_route *route, const m_limit *l,
                        int64_t skew_ms, limit_bound *out);
/* The same over any span of span_ms instead of l's window: the most requests
 * l sees admitted in any span of that length.  `--report` prints the
 * window's; the property test holds traces to every span. */
void bound_in_hierarchy_span(const m_subject *s, const m_route *route, const m_limit *l,
                             int64_t span_ms, int64_t skew_ms, limit_bound *out);

/* Skew that moves the clocks of decisions: max_clock_skew with client time,
 * 0 with server time (one Redis primary's TIME decides). */
int64_t policy_decision_skew(const m_policy *m);

/* Writes ms as the largest unit that divides it exactly ("5m", "1500ms"). */
void dur_format(int64_t ms, char *out, size_t n);

#endif
