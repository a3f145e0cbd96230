/* hazard_skew.c - clock-skew hazards (RLC2101-RLC2104): windows too short
 * for max_clock_skew, over-admission when callers' clocks decide
 * (time_source = client), and the proof that counter expiry (SPEC.md 6.5)
 * outlives window + skew.  Each is a property of one limit as written, so a
 * limit a tier gives to many tenants is checked once, at the tier. */
#include "hazard_private.h"

static span rate_span(const m_limit *l)
{
    return ast_limit_rate_sp(l->src);
}

void hz_skew_limit(hz *h, const m_limit *l)
{
    const m_policy *m = h->m;
    int64_t w = l->window_ms, s = h->skew;
    if (s > 0 && w < 2 * s) {
        diag_add(h->d, DIAG_SKEW_WINDOW_SHORT, rate_span(l),
                 "window %s of limit %s is shorter than twice max_clock_skew %s (%s): clocks "
                 "that far apart disagree about which window a request falls in",
                 hz_dur(h, w), hz_limit_text(h, l), hz_dur(h, s), hz_dur(h, 2 * s));
    } else if (s > 0 && w < 10 * s) {
        diag_add(h->d, DIAG_SKEW_WINDOW_TIGHT, rate_span(l),
                 "window %s of limit %s is shorter than ten times max_clock_skew %s (%s): "
                 "skew moves up to %lld%% of every window",
                 hz_dur(h, w), hz_limit_text(h, l), hz_dur(h, s), hz_dur(h, 10 * s),
                 (long long)((s * 100 + w - 1) / w));
    }
    if (m->client_time && s > 0 && !l->shadow) {
        int64_t exact = bound_span(l, w, 0), skewed = bound_span(l, w, s);
        if (skewed > exact)
            diag_add(h->d, DIAG_CLIENT_TIME_OVERADMIT, rate_span(l),
                     "with time_source = client and max_clock_skew %s, limit %s may admit up "
                     "to %lld in any %s instead of %lld: %lld more, because callers' clocks "
                     "may differ by %s",
                     hz_dur(h, s), hz_limit_text(h, l), (long long)skewed, hz_dur(h, w),
                     (long long)exact, (long long)(skewed - exact), hz_dur(h, s));
    }
    /* The expiry rule of SPEC.md 6.5 always covers window + skew; proving
     * it here per limit keeps the rule and the checker from drifting. */
    int64_t expiry = counter_expiry_ms(l, s);
    if (!counter_expiry_covers(l, s, expiry))
        diag_add(h->d, DIAG_COUNTER_TTL, rate_span(l),
                 "the counter of limit %s would expire after %s, sooner than the %s its "
                 "state matters plus max_clock_skew %s: a request still inside the window "
                 "would find it gone and start from zero",
                 hz_limit_text(h, l), hz_dur(h, expiry), hz_dur(h, limit_refill_ms(l)),
                 hz_dur(h, s));
}
