/* test_bound_exact.c - every worst-case bound is exact on small limits.
 * For each algorithm and every small count, window, burst and cost, a
 * search tries every way of sending requests through the real decision code
 * (runtime/algo.c) into a span of t milliseconds, starting at every phase of
 * the aligned windows, and finds the most that can be admitted.  That
 * maximum must equal bound_span() (compiler/bound.c), the figure `rlc check
 * --report` prints: never above it (the bound holds) and never below it (the
 * bound is no looser than the algorithm), so a bound one too small and an
 * algorithm one too generous both fail here.  Sending nothing before the
 * span is enough: an empty counter is each algorithm's most generous state. */
#include "unit.h"

#include <stdlib.h>

#include "algo.h"
#include "bound.h"

typedef struct search {
    rl_rule rule;
    int64_t span, phase;
    int64_t best;
    long long nodes;
} search;

static void state_copy(rl_state *dst, const rl_state *src)
{
    *dst = *src;
    dst->log = NULL;
    if (!src->log)
        return;
    rl_log *l = calloc(1, sizeof *l);
    assert_non_null(l);
    size_t n = src->log->n ? src->log->n : 1;
    l->t = malloc(n * sizeof *l->t);
    l->u = malloc(n * sizeof *l->u);
    assert_non_null(l->t);
    assert_non_null(l->u);
    memcpy(l->t, src->log->t + src->log->head, src->log->n * sizeof *l->t);
    memcpy(l->u, src->log->u + src->log->head, src->log->n * sizeof *l->u);
    l->n = l->cap = src->log->n;
    dst->log = l;
}

/* Instant i of the span (time phase + i) onward, `got` admitted so far. */
static void explore(search *s, const rl_state *st, int64_t i, int64_t got)
{
    s->nodes++;
    if (i == s->span) {
        if (got > s->best)
            s->best = got;
        return;
    }
    int64_t now = s->phase + i;
    /* Send q = 0, 1, 2, ... requests at this instant, each admitted. */
    rl_state cur;
    state_copy(&cur, st);
    for (int64_t q = 0;; q++) {
        explore(s, &cur, i + 1, got + q);
        rl_verdict v;
        algo_rate(&s->rule, &cur, 1, now, 0, &v);
        if (!v.admit)
            break;
        algo_commit(&s->rule, &cur, &v);
    }
    algo_state_clear(&cur);
}

/* The most one limit admits in any span of `span` ms, by search. */
static int64_t search_max(const m_limit *l, int64_t span_ms, long long *nodes)
{
    search s = {.span = span_ms, .best = 0};
    s.rule.kind = l->algo;   /* one enum of kinds (plan_kind.h) */
    s.rule.count = l->count;
    s.rule.window_ms = l->window_ms;
    s.rule.burst = l->burst;
    s.rule.cost = l->cost;
    s.rule.max_request = (plan_kind_has_burst(l->algo) ? l->burst : l->count) / l->cost;
    /* Windows are aligned to multiples of W from time 0; start the span at
     * every phase, a few windows in so nothing is negative. */
    for (int64_t p = 0; p < l->window_ms; p++) {
        s.phase = 10 * l->window_ms + p;
        rl_state empty = {0};
        explore(&s, &empty, 0, 0);
    }
    *nodes += s.nodes;
    return s.best;
}

static void every_bound_is_exact(void **state)
{
    (void)state;
    const plan_kind algos[] = {PLAN_TOKEN_BUCKET, PLAN_GCRA, PLAN_SLIDING_WINDOW, PLAN_FIXED_WINDOW,
                          PLAN_APPROX_SLIDING_WINDOW};
    long long nodes = 0, cases = 0;
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++)
        for (int64_t w = 1; w <= 4; w++)
            for (int64_t n = 1; n <= 3; n++)
                for (int64_t cost = 1; cost <= 2; cost++)
                    for (int64_t burst = 1; burst <= (plan_kind_has_burst(algos[a]) ? 3 : 1);
                         burst++) {
                        if (n / cost == 0 || (plan_kind_has_burst(algos[a]) && burst / cost == 0))
                            continue;
                        m_limit l;
                        memset(&l, 0, sizeof l);
                        l.algo = algos[a];
                        l.count = n;
                        l.window_ms = w;
                        l.burst = plan_kind_has_burst(algos[a]) ? burst : n;
                        l.cost = cost;
                        for (int64_t t = 1; t <= 3 * w + 1; t++) {
                            int64_t found = search_max(&l, t, &nodes);
                            int64_t claimed = bound_span(&l, t, 0);
                            if (found != claimed)
                                fail_msg("%s %lld/%lldms burst %lld cost %lld, span %lld ms: "
                                         "search admits %lld, bound_span says %lld",
                                         plan_kind_name(l.algo), (long long)n, (long long)w,
                                         (long long)l.burst, (long long)cost, (long long)t,
                                         (long long)found, (long long)claimed);
                            cases++;
                        }
                    }
    print_message("# %lld (limit, span) cases, %lld search nodes\n", cases, nodes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_bound_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
