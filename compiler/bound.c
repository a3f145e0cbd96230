/* bound.c - worst-case admission arithmetic.  See bound.h and SPEC.md
 * section 4 ("The worst-case bound") for the formulas and why they hold. */
#include "bound.h"

#include <stdio.h>

typedef __int128 i128;

static int64_t sat(i128 v)
{
    if (v > (i128)INT64_MAX)
        return INT64_MAX;
    if (v < 0)
        return 0;
    return (int64_t)v;
}

bool algo_has_burst(algo a)
{
    return a == ALGO_TOKEN_BUCKET || a == ALGO_GCRA;
}

int64_t limit_requests(const m_limit *l)
{
    return l->count / l->cost;
}

int64_t limit_burst_requests(const m_limit *l)
{
    return l->burst / l->cost;
}

int64_t bound_span(const m_limit *l, int64_t span_ms, int64_t skew_ms)
{
    /* Clocks that differ by up to skew make a span of t look like up to
     * t + skew to the limiter: windows start early for a fast clock and a
     * bucket refills for time that has not passed yet. */
    i128 t = (i128)span_ms + skew_ms;
    i128 w = l->window_ms;
    switch (l->algo) {
    case ALGO_TOKEN_BUCKET:
    case ALGO_GCRA:
        /* Full bucket at the start, then count per window of refill. */
        return sat(((i128)l->burst * w + (i128)l->count * t) / (w * l->cost));
    case ALGO_FIXED_WINDOW:
        /* A half-open span of t touches at most ceil(t/w) + 1 windows, each
         * admitting the full count: 2N across one boundary. */
        return sat((i128)limit_requests(l) * ((t + w - 1) / w + 1));
    case ALGO_SLIDING_WINDOW:
        /* Every trailing window holds at most N, so a span of t holds at
         * most N per window length it covers, rounded up. */
        return sat((i128)limit_requests(l) * ((t + w - 1) / w));
    }
    return INT64_MAX;
}

/* Requests a limit can admit in an instant (span -> 0, no skew). */
static int64_t bound_instant(const m_limit *l)
{
    switch (l->algo) {
    case ALGO_TOKEN_BUCKET:
    case ALGO_GCRA: return limit_burst_requests(l);
    case ALGO_FIXED_WINDOW: return sat((i128)limit_requests(l) * 2);
    case ALGO_SLIDING_WINDOW: return limit_requests(l);
    }
    return INT64_MAX;
}

bool limit_kills(const m_limit *a, const m_limit *b)
{
    if (!algo_has_burst(b->algo)) {
        /* b rejects only when one of its windows (fixed or trailing) holds
         * more than count_b units; a lets at most bound_span(a, w_b) requests
         * through in any span of that length. */
        i128 worst = (i128)bound_span(a, b->window_ms, 0) * b->cost;
        return worst <= b->count;
    }
    /* b is a bucket: it admits every pattern with at most burst_b + rate_b x t
     * units in every span t.  a's worst case is a step or affine curve whose
     * long-run rate is count_a / (cost_a x w_a); when that rate is no higher
     * than b's, the curves are furthest apart at t -> 0, so two comparisons
     * decide it: the instant, and the rate. */
    i128 instant = (i128)bound_instant(a) * b->cost;
    i128 rate_a = (i128)a->count * b->cost * b->window_ms;
    i128 rate_b = (i128)b->count * a->cost * a->window_ms;
    return instant <= b->burst && rate_a <= rate_b;
}

int64_t limit_refill_ms(const m_limit *l)
{
    if (!algo_has_burst(l->algo))
        return l->window_ms;
    i128 r = ((i128)l->burst * l->window_ms + l->count - 1) / l->count;
    return sat(r);
}

int64_t counter_expiry_ms(const m_limit *l, int64_t skew_ms)
{
    return sat((i128)limit_refill_ms(l) + 2 * (i128)skew_ms + 1);
}

bool counter_expiry_covers(const m_limit *l, int64_t skew_ms, int64_t expiry_ms)
{
    /* A bucket that is full again equals an absent key, so it only has to
     * live until it refills; a window until the window is over. */
    return (i128)expiry_ms >= (i128)limit_refill_ms(l) + skew_ms;
}

int64_t policy_decision_skew(const m_policy *m)
{
    return m->client_time ? m->max_clock_skew_ms : 0;
}

static void consider(const m_limit *self, const m_limit *m, const m_subject *owner,
                     int64_t skew_ms, limit_bound *out)
{
    if (m == self || m->shadow)
        return;
    int64_t v = bound_span(m, self->window_ms, skew_ms);
    if (v < out->bound) {
        out->bound = v;
        out->capped_by = m;
        out->cap_owner = owner;
    }
}

void bound_in_hierarchy(const m_subject *s, const m_route *route, const m_limit *l,
                        int64_t skew_ms, limit_bound *out)
{
    out->alone = bound_span(l, l->window_ms, skew_ms);
    out->bound = l->shadow ? INT64_MAX : out->alone;
    out->capped_by = NULL;
    out->cap_owner = NULL;
    if (route)
        for (size_t i = 0; i < route->nlimits; i++)
            consider(l, &route->limits[i], s, skew_ms, out);
    for (const m_subject *a = s; a; a = a->parent)
        for (size_t i = 0; i < a->nlimits; i++)
            consider(l, &a->limits[i], a, skew_ms, out);
    if (out->bound == INT64_MAX)
        out->bound = out->alone; /* a shadow limit nothing else caps */
}

void dur_format(int64_t ms, char *out, size_t n)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(out, n, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(out, n, "%lldms", (long long)ms);
}
