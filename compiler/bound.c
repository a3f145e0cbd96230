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

int64_t limit_requests(const m_limit *l)
{
    return l->count / l->cost;
}

int64_t limit_burst_requests(const m_limit *l)
{
    return l->burst / l->cost;
}

int64_t bound_windows_touched(int64_t instants, int64_t window_ms)
{
    /* A span of n instants starting at the last instant of a window spans
     * ceil((n - 1) / W) window boundaries. */
    return (instants - 1 + window_ms - 1) / window_ms + 1;
}

int64_t bound_windows_covering(int64_t instants, int64_t window_ms)
{
    return (instants + window_ms - 1) / window_ms;
}

/* The most a bucket admits in n instants.  Spending tokens as soon as they
 * are there is optimal (waiting only risks the bucket overflowing), so this
 * follows that schedule: a full bucket at the first instant, then n - 1 ms
 * of refill.  When one millisecond's refill fits beside the remainder of a
 * partial request (count + cost x W - 1 <= burst x W, in units of 1/W
 * token) the bucket never overflows and the sum is one division.
 * Otherwise it overflows at times: the level after the first instant
 * repeats each time the bucket is full again, so the schedule is periodic
 * from there and a long span is whole periods plus a rest. */
static int64_t bucket_bound(const m_limit *l, int64_t n)
{
    const i128 W = l->window_ms, N128 = l->count, cap128 = (i128)l->burst * W;
    const i128 unit128 = (i128)l->cost * W;
    if (N128 + unit128 - 1 <= cap128)
        return sat((cap128 + N128 * (n - 1)) / unit128);
    /* Every limit of a model keeps these products below 2^51 (limit_build
     * refuses the others, RLC1034), so the schedule below runs in 64-bit
     * arithmetic: a 128-bit division is a library call, and checking a large
     * policy made tens of millions of them here.  Past 2^61 (no model
     * limit) the bound is the one given up on below. */
    const i128 fits = (i128)1 << 61;
    if (cap128 > fits || unit128 > fits || N128 > fits) {
        i128 refill = (cap128 + N128 * (n - 1)) / unit128, full = cap128 / unit128 * n;
        return sat(refill < full ? refill : full);
    }
    const int64_t N = (int64_t)N128, cap = (int64_t)cap128, unit = (int64_t)unit128;
    i128 total = cap / unit, per = 0;
    int64_t r0 = cap % unit, r = r0, period = 0;
    /* Instants that neither fill the bucket nor complete a request only add
     * N to the remainder: a slow refill (2/s, burst 1: 500 of them before
     * each request) is skipped over in one step, never past the give-up
     * instant below. */
    const int64_t quiet_below = cap < unit ? cap : unit;
    const int64_t last = n - 1 < (1 << 16) ? n - 1 : (1 << 16);
    for (int64_t i = 1; i < n; i++) {
        if (r + N < quiet_below && i <= last) {
            int64_t k = (quiet_below - 1 - r) / N;
            if (k > last - i + 1)
                k = last - i + 1;
            r += k * N;
            i += k;
            if (i >= n)
                break;
        }
        int64_t level = r + N < cap ? r + N : cap;
        total += level / unit;
        per += level / unit;
        r = level % unit;
        if (level == cap) {
            period = i;
            break;
        }
        if (i > (1 << 16)) {
            /* No period found soon: never more than a full bucket per
             * instant, nor more than the refill brings. */
            i128 refill = (cap128 + N128 * (n - 1)) / unit128, full = cap128 / unit128 * n;
            return sat(refill < full ? refill : full);
        }
    }
    if (period == 0)
        return sat(total);
    /* Instants period+1 .. n-1 repeat instants 1 .. period. */
    int64_t left = n - 1 - period;
    total += per * (left / period);
    /* The first left % period instants of a period never fill the bucket,
     * so their remainders add up: r0 + t x N units in all, r0 < unit. */
    total += ((i128)r0 + (i128)(left % period) * N) / unit;
    return sat(total);
}

/* Requests the weighted two-window counter admits in one aligned window
 * after a window that charged prev units, all at the instant e = last:
 * the previous window still weighs prev x (W - last) / W there. */
static int64_t approx_window(const m_limit *l, int64_t prev, int64_t last)
{
    i128 w = l->window_ms;
    i128 held = ((i128)prev * (w - last) + w - 1) / w;
    i128 room = (i128)l->count - held;
    return room > 0 ? (int64_t)(room / l->cost) : 0;
}

/* The most approx_sliding_window admits in n instants.  The worst span
 * starts at the last instant of a window, where a whole window's requests
 * fit at once; each following window then admits all it can at its own last
 * instant (the earlier window weighs least there), and the last, partial
 * window at the last instant the span reaches.  Charging fewer in one window
 * frees at most one request in the next, so filling each window is optimal;
 * the window counts settle into a fixed point or a 2-cycle after a few
 * steps, after which the rest of a long span is summed in one product. */
static int64_t approx_bound(const m_limit *l, int64_t n)
{
    const int64_t W = l->window_ms, r = limit_requests(l);
    int64_t full = (n - 1) / W, head = (n - 1) % W;
    i128 total = r;
    int64_t prev = r * l->cost, hist[3] = {-1, -1, prev};
    int64_t j = 0;
    for (; j < full; j++) {
        if (hist[0] == hist[2] && j >= 2) {
            /* Period 2 from here on: the last two windows repeat. */
            int64_t left = full - j;
            total += (i128)(hist[1] + hist[2]) / l->cost * (left / 2);
            if (left % 2) {
                total += hist[1] / l->cost;
                prev = hist[1];
            } else {
                prev = hist[2];
            }
            j = full;
            break;
        }
        int64_t got = approx_window(l, prev, W - 1);
        total += got;
        prev = got * l->cost;
        hist[0] = hist[1];
        hist[1] = hist[2];
        hist[2] = prev;
    }
    if (head > 0)
        total += approx_window(l, prev, head - 1);
    return sat(total);
}

int64_t bound_span(const m_limit *l, int64_t span_ms, int64_t skew_ms)
{
    /* Time is whole milliseconds: a span of t ms holds t instants.  Clocks
     * that differ by up to skew make it look like up to t + skew instants to
     * the limiter: windows start early for a fast clock and a bucket refills
     * for time that has not passed yet. */
    i128 n = (i128)span_ms + skew_ms;
    if (n < 1)
        n = 1;
    if (n > (i128)INT64_MAX / 2)
        return INT64_MAX;
    switch (l->algo) {
    case PLAN_TOKEN_BUCKET:
    case PLAN_GCRA:
        return bucket_bound(l, (int64_t)n);
    case PLAN_FIXED_WINDOW:
        /* Every window it touches admits its whole count: 2N across one
         * boundary. */
        return sat((i128)limit_requests(l) * bound_windows_touched((int64_t)n, l->window_ms));
    case PLAN_SLIDING_WINDOW:
        /* Every trailing window holds at most N, and ceil(n / W) of them
         * cover the span. */
        return sat((i128)limit_requests(l) * bound_windows_covering((int64_t)n, l->window_ms));
    case PLAN_APPROX_SLIDING_WINDOW:
        return approx_bound(l, (int64_t)n);
    case PLAN_CONCURRENCY: break;   /* a limit is a rate */
    }
    return INT64_MAX;
}

/* Requests a limit can admit in an instant (span -> 0, no skew). */
static int64_t bound_instant(const m_limit *l)
{
    switch (l->algo) {
    case PLAN_TOKEN_BUCKET:
    case PLAN_GCRA: return limit_burst_requests(l);
    /* Two instants either side of a boundary: a whole window each. */
    case PLAN_FIXED_WINDOW:
    case PLAN_APPROX_SLIDING_WINDOW: return sat((i128)limit_requests(l) * 2);
    case PLAN_SLIDING_WINDOW: return limit_requests(l);
    case PLAN_CONCURRENCY: break;   /* a limit is a rate */
    }
    return INT64_MAX;
}

bool limit_kills(const m_limit *a, const m_limit *b)
{
    if (!plan_kind_has_burst(b->algo)) {
        /* b rejects only when one of its windows (fixed or trailing) holds
         * more than count_b units; a lets at most bound_span(a, w_b) requests
         * through in any span of that length.  The weighted counter may
         * reject while its trailing window holds less: it counts what the two
         * aligned windows around a request hold, a span of 2 x w_b. */
        int64_t seen_ms = b->algo == PLAN_APPROX_SLIDING_WINDOW ? 2 * b->window_ms : b->window_ms;
        i128 worst = (i128)bound_span(a, seen_ms, 0) * b->cost;
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
    if (!plan_kind_has_burst(l->algo))
        return l->window_ms;
    /* A model's limits keep burst x window below 2^51 (limit_build), so
     * this is a 64-bit division, not a call to the 128-bit one, for every
     * limit the skew pass looks at. */
    int64_t units;
    if (!__builtin_mul_overflow(l->burst, l->window_ms, &units) && units <= INT64_MAX - l->count)
        return (units + l->count - 1) / l->count;
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
                     int64_t span_ms, int64_t skew_ms, limit_bound *out)
{
    if (m == self || m->shadow)
        return;
    int64_t v = bound_span(m, span_ms, skew_ms);
    if (v < out->bound) {
        out->bound = v;
        out->capped_by = m;
        out->cap_owner = owner;
    }
}

void bound_in_hierarchy(const m_subject *s, const m_route *route, const m_limit *l,
                        int64_t skew_ms, limit_bound *out)
{
    bound_in_hierarchy_span(s, route, l, l->window_ms, skew_ms, out);
}

void bound_in_hierarchy_span(const m_subject *s, const m_route *route, const m_limit *l,
                             int64_t span_ms, int64_t skew_ms, limit_bound *out)
{
    out->alone = bound_span(l, span_ms, skew_ms);
    out->bound = l->shadow ? INT64_MAX : out->alone;
    out->capped_by = NULL;
    out->cap_owner = NULL;
    if (route)
        for (size_t i = 0; i < route->nlimits; i++)
            consider(l, &route->limits[i], s, span_ms, skew_ms, out);
    for (const m_subject *a = s; a; a = a->parent)
        for (size_t i = 0; i < a->nlimits; i++)
            consider(l, &a->limits[i], a, span_ms, skew_ms, out);
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
