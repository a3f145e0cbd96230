/* hazard_window.c - window conflicts (RLC2001-RLC2007): limits that
 * disagree, limits that can never bind, children looser than ancestors,
 * overlapping routes, fixed windows that drift apart, and bursts that do not
 * mean what they say.  Pairs are only formed inside one level (a tier or a
 * subject: a handful of limits) and along one ancestor chain, never across
 * tenants. */
#include "hazard_private.h"

#include "buf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static span rate_span(const m_limit *l)
{
    return ast_limit_rate_sp(l->src);
}

bool hz_same_limit(const m_limit *a, const m_limit *b)
{
    return a->count == b->count && a->window_ms == b->window_ms && a->burst == b->burst &&
           a->cost == b->cost && a->algo == b->algo && a->shadow == b->shadow;
}

/* The arithmetic behind "a admits at most X in any span of b's window". */
static const char *kill_reason(hz *h, const m_limit *a, const m_limit *b)
{
    const char *aw = hz_dur(h, a->window_ms), *bw = hz_dur(h, b->window_ms);
    int64_t na = limit_requests(a);
    if (plan_kind_has_burst(b->algo)) {
        int64_t inst = plan_kind_has_burst(a->algo) ? limit_burst_requests(a)
                       : a->algo == PLAN_FIXED_WINDOW ? 2 * na : na;
        return arena_printf(h->a,
                            "(%s) admits at most %lld at once and %lld per %s in the "
                            "long run, never more than this limit's burst %lld and rate "
                            "%lld per %s",
                            plan_kind_name(a->algo), (long long)inst,
                            (long long)a->count, aw, (long long)b->burst,
                            (long long)b->count, bw);
    }
    int64_t worst = bound_span(a, b->window_ms, 0);
    const char *arith;
    switch (a->algo) {
    case PLAN_FIXED_WINDOW: {
        int64_t k = bound_windows_touched(b->window_ms, a->window_ms);
        arith = arena_printf(h->a, "a %s span touches up to %lld fixed windows of %s: %lld x %lld",
                             bw, (long long)k, aw, (long long)k, (long long)na);
        break;
    }
    case PLAN_SLIDING_WINDOW: {
        int64_t k = bound_windows_covering(b->window_ms, a->window_ms);
        arith = arena_printf(h->a, "a %s span covers at most %lld windows of %s: %lld x %lld",
                             bw, (long long)k, aw, (long long)k, (long long)na);
        break;
    }
    case PLAN_APPROX_SLIDING_WINDOW:
        arith = arena_printf(h->a, "%lld per window of %s, weighted across %lld window edges",
                             (long long)na, aw,
                             (long long)bound_windows_touched(b->window_ms, a->window_ms) - 1);
        break;
    default:
        arith = arena_printf(h->a, "burst %lld at once, then %lld per %s over the other %s",
                             (long long)a->burst, (long long)a->count, aw,
                             hz_dur(h, b->window_ms - 1));
        break;
    }
    if (b->cost > 1)
        return arena_printf(h->a, "admits at most %lld in any %s (%s), and %lld x cost "
                                  "%lld <= %lld",
                            (long long)worst, bw, arith, (long long)worst,
                            (long long)b->cost, (long long)b->count);
    return arena_printf(h->a, "admits at most %lld in any %s (%s) <= %lld", (long long)worst,
                        bw, arith, (long long)b->count);
}

static void report_dead(hz *h, const m_limit *dead, const char *dead_on,
                        const m_limit *killer, const char *killer_on)
{
    diag *d = diag_add(h->d, DIAG_DEAD_LIMIT, rate_span(dead),
                       "limit %s on %s can never bind: limit %s on %s %s",
                       hz_limit_text(h, dead), dead_on, hz_limit_text(h, killer), killer_on,
                       kill_reason(h, killer, dead));
    diag_note_add(h->d, d, rate_span(killer), "the stricter limit %s is here",
                  hz_limit_text(h, killer));
}

/* Where a limit applies, for a message: the level, and for a listed
 * subject's copy of a template limit also the template it comes from (its
 * source position is in the template, not in the subject). */
static const char *limit_on(hz *h, const hz_level *lv, const m_limit *l)
{
    if (l->from_template && lv->subject && subject_tmpl(lv->subject))
        return arena_printf(h->a, "%s via its template %s *", hz_level_desc(h, lv),
                            ast_kind_name(lv->subject->kind));
    return hz_level_desc(h, lv);
}

/* Pairs of limits applying to the same requests at one level.  `own_only`
 * skips pairs in which neither limit is written at this level. */
static void limit_pairs(hz *h, const hz_level *lv, const m_limit *lim, size_t n)
{
    /* Called for every subject and route, nearly always with a handful of
     * limits: a malloc and free per call was 5% of checking a large policy. */
    bool on_stack[2 * BLOCK_MAX_LIMITS] = {false};
    bool *dead = n <= sizeof on_stack / sizeof on_stack[0] ? on_stack
                                                           : xcalloc(n, sizeof *dead);
    for (size_t j = 0; j < n; j++) {
        const m_limit *b = &lim[j];
        for (size_t i = 0; i < j; i++) {
            const m_limit *a = &lim[i];
            if (!hz_limit_own(lv, a) && !hz_limit_own(lv, b))
                continue;
            if (a->shadow || b->shadow)
                continue;
            if (a->window_ms == b->window_ms && a->algo == b->algo && !hz_same_limit(a, b)) {
                diag *d = diag_add(h->d, DIAG_WINDOW_CONFLICT, rate_span(b),
                                   "limit %s conflicts with limit %s on %s: same window "
                                   "and algorithm (%s) but a different %s",
                                   hz_limit_text(h, b), hz_limit_text(h, a), hz_level_desc(h, lv),
                                   plan_kind_name(a->algo),
                                   a->count != b->count ? "count"
                                   : a->burst != b->burst ? "burst" : "cost");
                diag_note_add(h->d, d, rate_span(a), "the other limit %s is here",
                              hz_limit_text(h, a));
                dead[i] = dead[j] = true;
                continue;
            }
            if (!dead[j] && limit_kills(a, b)) {
                report_dead(h, b, limit_on(h, lv, b), a, limit_on(h, lv, a));
                dead[j] = true;
            } else if (!dead[i] && limit_kills(b, a)) {
                report_dead(h, a, limit_on(h, lv, a), b, limit_on(h, lv, b));
                dead[i] = true;
            }
        }
    }
    if (dead != on_stack)
        free(dead);
}

/* ---- routes ---- */

static bool method_overlap(const char *a, const char *b)
{
    return !strcmp(a, b) || !strcmp(a, "ANY") || !strcmp(b, "ANY");
}

/* The segments of a route pattern, split in place into an arena copy. */
static size_t path_segs(hz *h, const char *path, const char ***out)
{
    size_t n = 0;
    for (const char *p = path; *p; p++)
        n += *p == '/';
    const char **v = arena_alloc(h->a, (n + 1) * sizeof *v);
    char *copy = arena_strndup(h->a, path, strlen(path));
    size_t k = 0;
    for (char *p = copy; *p;) {
        while (*p == '/')
            *p++ = '\0';
        if (!*p)
            break;
        v[k++] = p;
        while (*p && *p != '/')
            p++;
    }
    *out = v;
    return k;
}

/* Whether some request path matches both patterns, as enforcement matches
 * them (runtime/rules.c, stdlib/enforce.lua): a '*' segment matches one
 * segment, and a trailing '*' one or more.  So pattern a matches paths of
 * exactly na segments, or of na or more when it ends in '*'.  The shortest
 * length both accept decides: longer paths only add segments that both
 * match anyway.  Writes such a path into *example (arena): each segment is
 * the literal one side requires, or '*' where both accept anything. */
static bool path_overlap(hz *h, const char *a, const char *b, const char **example)
{
    const char **sa, **sb;
    size_t na = path_segs(h, a, &sa), nb = path_segs(h, b, &sb);
    bool ta = na && !strcmp(sa[na - 1], "*"), tb = nb && !strcmp(sb[nb - 1], "*");
    size_t len;
    if (na == nb)
        len = na;
    else if (na < nb && ta)
        len = nb;
    else if (nb < na && tb)
        len = na;
    else
        return false;
    buf ex;
    buf_init(&ex, strlen(a) + strlen(b) + 2);
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++) {
        /* NULL: any segment (a '*', or past a trailing '*'). */
        const char *pa = i < na ? sa[i] : NULL, *pb = i < nb ? sb[i] : NULL;
        if (pa && !strcmp(pa, "*"))
            pa = NULL;
        if (pb && !strcmp(pb, "*"))
            pb = NULL;
        if (pa && pb && strcmp(pa, pb))
            ok = false;
        else
            buf_printf(&ex, "/%s", pa ? pa : pb ? pb : "*");
    }
    if (ok)
        *example = arena_strndup(h->a, buf_str(&ex), strlen(buf_str(&ex)));
    buf_free(&ex);
    return ok;
}

static bool same_routes(const m_route *a, const m_route *b)
{
    if (a->nlimits != b->nlimits)
        return false;
    for (size_t i = 0; i < a->nlimits; i++) {
        bool found = false;
        for (size_t j = 0; j < b->nlimits && !found; j++)
            found = hz_same_limit(&a->limits[i], &b->limits[j]);
        if (!found)
            return false;
    }
    if (!a->conc != !b->conc)
        return false;
    return !a->conc || (a->conc->max == b->conc->max && a->conc->lease_ms == b->conc->lease_ms);
}

static int64_t route_bound(const m_route *r, int64_t span_ms)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < r->nlimits; i++)
        if (!r->limits[i].shadow) {
            int64_t v = bound_span(&r->limits[i], span_ms, 0);
            if (v < best)
                best = v;
        }
    return best;
}

static int64_t route_max_window(const m_route *r, int64_t w)
{
    for (size_t i = 0; i < r->nlimits; i++)
        if (!r->limits[i].shadow && r->limits[i].window_ms > w)
            w = r->limits[i].window_ms;
    return w;
}

static void route_pairs(hz *h, const hz_level *lv, const m_route *routes, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const m_route *b = &routes[j];
        for (size_t i = 0; i < j; i++) {
            const m_route *a = &routes[i];
            if (!hz_route_own(lv, a) && !hz_route_own(lv, b))
                continue;
            const char *ex;
            if (!method_overlap(a->method, b->method) || !path_overlap(h, a->path, b->path, &ex))
                continue;
            if (same_routes(a, b))
                continue;
            const char *m = strcmp(a->method, "ANY") ? a->method : b->method;
            if (!strcmp(m, "ANY"))
                m = "any method";
            int64_t w = route_max_window(b, route_max_window(a, 0));
            const char *verdict;
            if (w == 0) {
                verdict = "neither has a rate limit, so their concurrency limits both apply";
            } else {
                int64_t ua = route_bound(a, w), ub = route_bound(b, w);
                const char *dw = hz_dur(h, w);
                const m_route *win = ua <= ub ? a : b;
                const char *wdesc = arena_printf(h->a, "%s \"%s\"", win->method, win->path);
                const char *sa = ua == INT64_MAX ? "no rate limit"
                                 : arena_printf(h->a, "at most %lld", (long long)ua);
                const char *sb = ub == INT64_MAX ? "no rate limit"
                                 : arena_printf(h->a, "at most %lld", (long long)ub);
                verdict = ua == ub
                    ? arena_printf(h->a, "in any %s each admits %s, so they tie", dw, sa)
                    : arena_printf(h->a, "in any %s %s \"%s\" admits %s and %s \"%s\" %s, so "
                                         "%s wins there", dw, a->method, a->path, sa,
                                   b->method, b->path, sb, wdesc);
            }
            diag *d = diag_add(h->d, DIAG_ROUTE_OVERLAP, b->src->name.sp,
                               "route %s \"%s\" overlaps route %s \"%s\" on %s with different "
                               "limits: both apply to %s %s; %s",
                               b->method, b->path, a->method, a->path, hz_level_desc(h, lv), m, ex,
                               verdict);
            diag_note_add(h->d, d, a->src->name.sp, "route %s \"%s\" is here", a->method,
                          a->path);
        }
    }
}

/* Route limits against the limits of their own level: a route limit that
 * the level's limits always beat can never bind. */
static void route_vs_level(hz *h, const hz_level *lv, const m_limit *lim, size_t nlim,
                           const m_route *rt)
{
    limit_pairs(h, lv, rt->limits, rt->nlimits);
    for (size_t j = 0; j < rt->nlimits; j++) {
        const m_limit *b = &rt->limits[j];
        if (b->shadow)
            continue;
        for (size_t i = 0; i < nlim; i++) {
            const m_limit *a = &lim[i];
            if (a->shadow || (!hz_route_own(lv, rt) && !hz_limit_own(lv, a)))
                continue;
            if (limit_kills(a, b)) {
                report_dead(h, b, hz_level_desc(h, lv), a, limit_on(h, lv, a));
                break;
            }
        }
    }
}

void hz_window_level(hz *h, const hz_level *lv, const m_limit *lim, size_t nlim,
                     const m_route *routes, size_t nroutes)
{
    limit_pairs(h, lv, lim, nlim);
    route_pairs(h, lv, routes, nroutes);
    for (size_t r = 0; r < nroutes; r++)
        if (hz_route_own(lv, &routes[r]))
            route_vs_level(h, lv, lim, nlim, &routes[r]);
}

static bool divides(int64_t a, int64_t b)
{
    return b % a == 0 || a % b == 0;
}

/* One child limit against every limit of every ancestor. */
static void chain_limit(hz *h, const m_subject *s, const m_limit *b)
{
    bool reported = false;
    for (const m_subject *up = s->parent; up; up = up->parent) {
        for (size_t i = 0; i < up->nlimits; i++) {
            const m_limit *a = &up->limits[i];
            if (a->shadow)
                continue;
            if (a->algo == PLAN_FIXED_WINDOW && b->algo == PLAN_FIXED_WINDOW &&
                !divides(a->window_ms, b->window_ms)) {
                diag *d = diag_add(h->d, DIAG_WINDOW_DRIFT, rate_span(b),
                                   "fixed window %s of %s and fixed window %s of %s do not "
                                   "divide each other: their boundaries drift apart, so "
                                   "the two never reset together",
                                   hz_dur(h, b->window_ms), hz_subject_desc(h, s),
                                   hz_dur(h, a->window_ms), hz_subject_desc(h, up));
                diag_note_add(h->d, d, rate_span(a), "the ancestor's limit %s is here",
                              hz_limit_text(h, a));
            }
            if (reported)
                continue;
            bool looser = a->window_ms == b->window_ms &&
                          (limit_requests(b) > limit_requests(a) ||
                           (plan_kind_has_burst(a->algo) && plan_kind_has_burst(b->algo) &&
                            limit_requests(b) == limit_requests(a) &&
                            limit_burst_requests(b) > limit_burst_requests(a)));
            if (looser) {
                if (!h->m->allow_loosening) {
                    diag *d = diag_add(h->d, DIAG_CHILD_LOOSER, rate_span(b),
                                       "limit %s of %s is looser than %s of its ancestor %s "
                                       "on the same %s window: the ancestor admits fewer, "
                                       "so this limit never binds",
                                       hz_limit_text(h, b), hz_subject_desc(h, s),
                                       hz_limit_text(h, a), hz_subject_desc(h, up),
                                       hz_dur(h, a->window_ms));
                    diag_note_add(h->d, d, rate_span(a), "the ancestor's limit %s is here",
                                  hz_limit_text(h, a));
                }
                reported = true;
                continue;
            }
            if (limit_kills(a, b)) {
                report_dead(h, b, hz_subject_desc(h, s), a, hz_subject_desc(h, up));
                reported = true;
            }
        }
    }
}

/* Only the limits written on s: what a listed subject takes from its
 * template was set against the same ancestors at the template. */
void hz_window_chain(hz *h, const m_subject *s)
{
    if (!s->parent)
        return;
    hz_level lv = {NULL, s, NULL};
    for (size_t i = 0; i < s->nlimits; i++)
        if (!s->limits[i].shadow && hz_limit_own(&lv, &s->limits[i]))
            chain_limit(h, s, &s->limits[i]);
    for (size_t r = 0; r < s->nroutes; r++) {
        if (!hz_route_own(&lv, &s->routes[r]))
            continue;
        for (size_t i = 0; i < s->routes[r].nlimits; i++)
            if (!s->routes[r].limits[i].shadow)
                chain_limit(h, s, &s->routes[r].limits[i]);
    }
}

/* What an algorithm costs or gives up, said once per limit as written. */
static void algorithm_notes(hz *h, const m_limit *l)
{
    if (l->algo == PLAN_APPROX_SLIDING_WINDOW) {
        int64_t worst = bound_span(l, l->window_ms, 0), n = limit_requests(l);
        diag_add(h->d, DIAG_APPROX_OVERADMIT, rate_span(l),
                 "approx_sliding_window weighs the previous fixed window instead of "
                 "counting the trailing one: limit %s may admit up to %lld in one %s, %lld "
                 "more than its count (sliding_window is exact, token_bucket bounded by its "
                 "burst)",
                 hz_limit_text(h, l), (long long)worst, hz_dur(h, l->window_ms),
                 (long long)(worst - n));
    } else if (l->algo == PLAN_SLIDING_WINDOW) {
        int64_t e = plan_log_entries(l->count, l->window_ms, l->cost);
        if (e > PLAN_LOG_WARN)
            diag_add(h->d, DIAG_SLIDING_LOG_COST, rate_span(l),
                     "the exact sliding window of limit %s keeps up to %lld admissions per "
                     "counter, a list of 16-byte entries (%lld KiB of entries); above %d "
                     "consider token_bucket (one 16-byte state per counter) or a shorter "
                     "window",
                     hz_limit_text(h, l), (long long)e, (long long)((16 * e + 1023) / 1024),
                     PLAN_LOG_WARN);
    }
}

void hz_limit_checks(hz *h, const m_limit *l)
{
    algorithm_notes(h, l);
    if (!l->burst_set)
        return;
    span bsp = ast_limit_burst(l->src).sp;
    if (!plan_kind_has_burst(l->algo)) {
        diag_add(h->d, DIAG_BURST_IGNORED, bsp,
                 "%s has no burst, so 'burst %lld' on limit %s means nothing (only "
                 "token_bucket and gcra have a burst)",
                 plan_kind_name(l->algo), (long long)l->burst, hz_limit_text(h, l));
        return;
    }
    if (l->burst > l->count)
        diag_add(h->d, DIAG_BURST_OVER_COUNT, bsp,
                 "burst %lld is larger than the count of limit %s: a full bucket admits "
                 "%lld at once, more than one whole %s of the rate",
                 (long long)l->burst, hz_limit_text(h, l), (long long)l->burst,
                 hz_dur(h, l->window_ms));
}
