/* model.c - builds the m_policy from a loaded program: registers every
 * declaration, resolves tier inheritance and names, checks values and
 * ranges, and flattens each tenant's effective limits.  Every check here is
 * local to one declaration or one name table, so the pass is linear in the
 * size of the policy.  Hazards that relate limits to each other are the
 * business of hazard.c, not this file. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "emit.h"
#include "gateway.h"
#include "fmt.h"
#include "parse.h"
#include "plan_check.h"
#include "plan_key.h"
#include "settings.h"
#include "suggest.h"
#include "xalloc.h"

typedef struct builder {
    program *p;
    m_policy *m;
    arena *a;
    diag_list *d;
    strmap tiers, targets, tests;
    size_t cap_allows, cap_targets;
} builder;

/* Names are checked against the language's string limit before they
 * reach a plan, so the plan's limit can be no larger. */
_Static_assert(PLAN_NAME_MAX == PARSE_MAX_STRING, "a plan name is a string of the language");

static bool algo_parse(const char *s, plan_kind *out)
{
    return plan_algo_parse(s, strlen(s), out);
}

/* ---- growable arrays in the arena ---- */

#define VEC_PUSH(a, arr, n, cap, val)                                          \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            size_t nc_ = (cap) ? (cap) * 2 : 4;                                \
            void *np_ = arena_alloc((a), nc_ * sizeof *(arr));                 \
            if (n)                                                             \
                memcpy(np_, (arr), (n) * sizeof *(arr));                       \
            (arr) = np_;                                                       \
            (cap) = nc_;                                                       \
        }                                                                      \
        (arr)[(n)++] = (val);                                                  \
    } while (0)

/* ---- values ---- */

static bool check_window(builder *b, const ast_dur *w)
{
    if (w->ms == 0 && w->n == 0 && w->unit[0]) {
        diag_add(b->d, DIAG_ZERO_WINDOW, w->sp, "a rate over a zero window means nothing");
        return false;
    }
    if (!w->unit[0])
        return false; /* bad unit, already reported by the lexer */
    if (w->ms < PLAN_WINDOW_MIN_MS || w->ms > PLAN_WINDOW_MAX_MS) {
        diag_add(b->d, DIAG_DURATION_RANGE, w->sp,
                 "window must be between 1ms and 366d, not %lld%s", (long long)w->n, w->unit);
        return false;
    }
    return true;
}

/* Converts and checks one `limit`.  Returns false when it is unusable.
 * The checks read the numbers as written, in full: *out holds the window
 * in 40 bits, which only a usable limit is sure to fit. */
static bool limit_build(builder *b, const ast_node *n, const m_tier *tier, m_limit *out)
{
    memset(out, 0, sizeof *out);
    out->src = n;
    out->from_tier = tier != NULL;
    bool ok = true;
    const ast_int count = ast_limit_count(n), burst = ast_limit_burst(n),
                  cost = ast_limit_cost(n);
    const ast_dur window = ast_limit_window(n);
    const ast_name alg = ast_limit_algo(n);
    const ast_int *cnt = &count;
    if (cnt->v <= 0) {
        diag_add(b->d, DIAG_BAD_LIMIT, cnt->sp,
                 "a limit must admit at least 1 request, not %lld", (long long)cnt->v);
        ok = false;
    }
    if (!check_window(b, &window))
        ok = false;
    int64_t window_ms = window.ms, bst = cnt->v, cst = 1;
    if (burst.set) {
        bst = burst.v;
        out->burst_set = true;
        if (bst < 1) {
            diag_add(b->d, DIAG_BAD_BURST, burst.sp,
                     "burst must be at least 1, not %lld", (long long)bst);
            ok = false;
        }
    }
    if (cost.set) {
        cst = cost.v;
        if (cst < 1) {
            diag_add(b->d, DIAG_BAD_COST, cost.sp,
                     "cost must be at least 1, not %lld", (long long)cst);
            ok = false;
        }
    }
    plan_kind algo = b->m->default_algo;
    if (alg.s && !algo_parse(alg.s, &algo)) {
        const char *sg = suggest(alg.s, plan_algo_names(), PLAN_NALGOS);
        if (sg)
            diag_add(b->d, DIAG_UNKNOWN_ALGORITHM, alg.sp,
                     "unknown algorithm '%s'; did you mean '%s'?", alg.s, sg);
        else
            diag_add(b->d, DIAG_UNKNOWN_ALGORITHM, alg.sp,
                     "unknown algorithm '%s' (expected token_bucket, gcra, sliding_window, "
                     "fixed_window or approx_sliding_window)", alg.s);
        ok = false;
    }
    out->algo = (uint8_t)algo;
    out->shadow = n->lim.shadow;
    if (ok) {
        /* Token-bucket state is kept in units of 1/window_ms tokens, so
         * capacity x window and count x window must stay exact in both
         * int64 and Lua's doubles, with headroom for the sums (2^51). */
        int64_t cap = PLAN_PRODUCT_MAX / window_ms, over = 0;
        span at = ast_limit_rate_sp(n);
        /* Point at the number that overflows: the count, burst or cost. */
        if (cnt->v > cap) {
            over = cnt->v;
        } else if (bst > cap) {
            over = bst;
            at = burst.sp;
        } else if (cst > cap) {
            over = cst;
            at = cost.sp;
        }
        if (over) {
            diag_add(b->d, DIAG_RATE_OVERFLOW, at,
                     "rate arithmetic would overflow: %lld x %lld ms exceeds 2^51, which "
                     "keeps every value C and Lua compute below 2^53 and exact",
                     (long long)over, (long long)window_ms);
            ok = false;
        }
    }
    if (ok && algo == PLAN_SLIDING_WINDOW &&
        plan_log_entries(cnt->v, window_ms, cst) > PLAN_LOG_MAX) {
        diag_add(b->d, DIAG_SLIDING_LOG_TOO_LARGE, ast_limit_rate_sp(n),
                 "an exact sliding window of %lld per %lld ms (cost %lld) keeps up to %lld "
                 "admissions per counter, more than %d; use token_bucket or "
                 "approx_sliding_window, or a shorter window",
                 (long long)cnt->v, (long long)window_ms, (long long)cst,
                 (long long)plan_log_entries(cnt->v, window_ms, cst), PLAN_LOG_MAX);
        ok = false;
    }
    out->count = cnt->v;
    out->burst = bst;
    out->cost = cst;
    if (ok)
        out->window_ms = window_ms;
    return ok;
}

static bool conc_build(builder *b, const ast_node *n, m_conc *out)
{
    memset(out, 0, sizeof *out);
    out->src = n;
    out->max = n->conc.max.v;
    out->shadow = n->conc.shadow;
    bool ok = true;
    if (out->max <= 0) {
        diag_add(b->d, DIAG_BAD_CONCURRENCY, n->conc.max.sp,
                 "concurrency must allow at least 1 request in flight, not %lld",
                 (long long)out->max);
        ok = false;
    }
    if (n->conc.lease.set) {
        const ast_dur *l = &n->conc.lease;
        if (!l->unit[0])
            return false;
        if (l->ms < 1 || l->ms > PLAN_LEASE_MAX_MS) {
            diag_add(b->d, DIAG_DURATION_RANGE, l->sp,
                     "lease must be between 1ms and 1d, not %lld%s", (long long)l->n, l->unit);
            ok = false;
        }
        out->lease_ms = l->ms;
    }
    return ok;
}

static bool route_path_ok(builder *b, const ast_node *r)
{
    const char *why = plan_route_problem(r->name.s);
    if (why)
        diag_add(b->d, DIAG_BAD_ROUTE, r->name.sp, "%s", why);
    return !why;
}

/* ---- blocks: the members of a tier, tenant, group or key ---- */

typedef struct members {
    m_limit *limits;
    size_t nlimits, caplimits;
    m_route *routes;
    size_t nroutes, caproutes;
    m_conc *conc;
    m_subject *children;
    size_t nchildren, capchildren;
    strmap names;           /* "g:name"/"k:name" -> child, once a block is big */
    bool limits_capped, routes_capped;
} members;

/* Children are found by linear search while a block has few of them; past
 * this many a hash map takes over, so a group with 100 000 keys stays linear
 * instead of comparing every key with every other. */
#define MEMBERS_HASH_AFTER 16

/* A template's key has no ':' ("g*"), so it never meets a listed "*". */
static const char *member_key(builder *b, ast_kind kind, bool any, const char *name)
{
    char k = kind == AST_GROUP ? 'g' : 'k';
    return any ? arena_printf(b->a, "%c*", k) : arena_printf(b->a, "%c:%s", k, name);
}

static m_subject *member_find(builder *b, members *mb, ast_kind kind, bool any,
                              const char *name)
{
    if (mb->nchildren <= MEMBERS_HASH_AFTER) {
        for (size_t i = 0; i < mb->nchildren; i++) {
            const m_subject *c = &mb->children[i];
            if (c->kind == kind && c->any == any && (any || !strcmp(subject_name(c), name)))
                return &mb->children[i];
        }
        return NULL;
    }
    if (!mb->names.cap)
        for (size_t i = 0; i < mb->nchildren; i++)
            strmap_put(&mb->names,
                       member_key(b, mb->children[i].kind, mb->children[i].any,
                                  subject_name(&mb->children[i])),
                       &mb->children[i]);
    return strmap_get(&mb->names, member_key(b, kind, any, name));
}

static void member_added(builder *b, members *mb, m_subject *ch)
{
    if (mb->names.cap)
        strmap_put(&mb->names, member_key(b, ch->kind, ch->any, subject_name(ch)), ch);
}

/* Limits and routes per block are capped so that the hazard passes, which
 * compare the limits of one subject pairwise, stay cheap (RLC1043). */
static bool block_cap(builder *b, bool *capped, size_t n, size_t max, const ast_node *c,
                      const char *what, const ast_node *block)
{
    if (n < max)
        return true;
    if (!*capped) {
        *capped = true;
        /* A route is pointed at by its header: its body may span lines. */
        span sp = c->kind == AST_ROUTE ? span_join(c->ref.sp, c->name.sp) : c->sp;
        diag_add(b->d, DIAG_TOO_MANY_MEMBERS, sp, "too many %s in one %s (limit is %zu)",
                 what, ast_kind_name(block->kind), max);
    }
    return false;
}

/* Arrays in the arena cannot be freed, so a doubling vector leaves its
 * outgrown copies behind, and one started at 4 wastes most of it on the
 * typical block with one or two limits.  Counting the block's children
 * first lets each array be allocated once, at its final size (VEC_PUSH then
 * never grows it).  At 100 000 tenants this is a quarter of the model. */
static size_t count_kind(const ast_node *block, ast_kind kind)
{
    size_t n = 0;
    for (const ast_node *c = block->children; c; c = c->next)
        n += c->kind == kind;
    return n;
}

/* Aligned to 8, all that m_limit, m_route and pointers need. */
#define PRESIZE(a, arr, cap, count)                                            \
    do {                                                                       \
        (cap) = (count);                                                       \
        (arr) = (cap) ? arena_alloc_align((a), (cap) * sizeof *(arr), 8) : NULL; \
    } while (0)

/* `inherit` is the tier whose limits and routes will be merged into the
 * block's own (merge_in_place): a block with limits (routes) of its own gets
 * room for the tier's too; one without will share the tier's array. */
static void presize_members(builder *b, const ast_node *block, const m_tier *inherit,
                            members *mb)
{
    size_t nl = count_kind(block, AST_LIMIT), nr = count_kind(block, AST_ROUTE);
    PRESIZE(b->a, mb->limits, mb->caplimits, nl + (nl && inherit ? inherit->nlimits : 0));
    PRESIZE(b->a, mb->routes, mb->caproutes, nr + (nr && inherit ? inherit->nroutes : 0));
    PRESIZE(b->a, mb->children, mb->capchildren,
            count_kind(block, AST_GROUP) + count_kind(block, AST_KEY));
}

static void allow_add(builder *b, const ast_node *n, const ast_node *scope)
{
    int code = diag_code_parse(n->name.s);
    if (code < 0 || !diag_lookup(code)) {
        diag_add(b->d, DIAG_UNKNOWN_CODE, n->name.sp,
                 "'%s' is not a diagnostic code (see rlc explain --list)", n->name.s);
        return;
    }
    m_allow al = {code, n->ref.s, n, scope};
    VEC_PUSH(b->a, b->m->allows, b->m->nallows, b->cap_allows, al);
}

static m_route *route_find(m_route *v, size_t n, const char *method, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].method, method) && !strcmp(v[i].path, path))
            return &v[i];
    return NULL;
}

static void route_build(builder *b, const ast_node *r, const m_tier *tier, members *mb)
{
    bool ok = true;
    const char *method = r->ref.s;
    if (!plan_method_ok(method)) {
        size_t nm;
        const char *const *methods = plan_methods(&nm);
        const char *sg = suggest(method, methods, nm);
        if (sg)
            diag_add(b->d, DIAG_BAD_METHOD, r->ref.sp,
                     "unknown HTTP method '%s'; did you mean '%s'?", method, sg);
        else
            diag_add(b->d, DIAG_BAD_METHOD, r->ref.sp,
                     "unknown HTTP method '%s' (expected GET, HEAD, POST, PUT, PATCH, "
                     "DELETE, OPTIONS or ANY)", method);
        ok = false;
    }
    if (!route_path_ok(b, r))
        ok = false;
    m_route *prev = route_find(mb->routes, mb->nroutes, method, r->name.s);
    m_route rt;
    memset(&rt, 0, sizeof rt);
    rt.src = r;
    rt.owner = tier ? tier->no : ROUTE_OWN;
    rt.method = method;
    rt.path = r->name.s;
    size_t caplim;
    bool limits_capped = false;
    PRESIZE(b->a, rt.limits, caplim, count_kind(r, AST_LIMIT));
    for (const ast_node *c = r->children; c; c = c->next) {
        if (c->kind == AST_LIMIT) {
            m_limit l;
            if (!block_cap(b, &limits_capped, rt.nlimits, BLOCK_MAX_LIMITS, c, "limits", r))
                continue;
            if (limit_build(b, c, tier, &l))
                VEC_PUSH(b->a, rt.limits, rt.nlimits, caplim, l);
        } else if (c->kind == AST_CONCURRENCY) {
            if (rt.conc) {
                diag *d = diag_add(b->d, DIAG_DUP_OPTION, c->sp,
                                   "concurrency given twice for the same route");
                diag_note_add(b->d, d, rt.conc->src->sp, "first given here");
                continue;
            }
            m_conc cc;
            if (conc_build(b, c, &cc)) {
                rt.conc = arena_alloc(b->a, sizeof cc);
                *rt.conc = cc;
            }
        } else if (c->kind == AST_ALLOW) {
            allow_add(b, c, r);
        }
    }
    if (!ok)
        return;
    if (prev) {
        diag *d = diag_add(b->d, DIAG_DUP_ROUTE, r->sp, "route %s \"%s\" defined twice here",
                           method, r->name.s);
        diag_note_add(b->d, d, prev->src->sp, "first defined here");
        return;
    }
    VEC_PUSH(b->a, mb->routes, mb->nroutes, mb->caproutes, rt);
}

static void subject_fill(builder *b, m_subject *s, const ast_node *n, m_subject *parent,
                         int depth, const m_tier *inherit);

/* Collects the members of one block.  `tier` is the tier being built, or
 * NULL for tenants, groups and keys; `inherit` is the tier (a tenant's, or
 * the parent of the tier being built) whose members merge_in_place will add
 * to these, or NULL. */
static void members_build(builder *b, const ast_node *block, const m_tier *tier,
                          m_subject *self, int depth, const m_tier *inherit, members *mb)
{
    presize_members(b, block, inherit, mb);
    for (const ast_node *c = block->children; c; c = c->next) {
        switch (c->kind) {
        case AST_LIMIT: {
            m_limit l;
            if (!block_cap(b, &mb->limits_capped, mb->nlimits, BLOCK_MAX_LIMITS, c, "limits",
                           block))
                break;
            if (limit_build(b, c, tier, &l))
                VEC_PUSH(b->a, mb->limits, mb->nlimits, mb->caplimits, l);
            break;
        }
        case AST_CONCURRENCY: {
            if (mb->conc) {
                diag *d = diag_add(b->d, DIAG_DUP_OPTION, c->sp,
                                   "concurrency given twice in the same %s",
                                   ast_kind_name(block->kind));
                diag_note_add(b->d, d, mb->conc->src->sp, "first given here");
                break;
            }
            m_conc cc;
            if (conc_build(b, c, &cc)) {
                mb->conc = arena_alloc(b->a, sizeof cc);
                *mb->conc = cc;
            }
            break;
        }
        case AST_ROUTE:
            if (block_cap(b, &mb->routes_capped, mb->nroutes, BLOCK_MAX_ROUTES, c, "routes",
                          block))
                route_build(b, c, tier, mb);
            break;
        case AST_ALLOW:
            allow_add(b, c, block);
            break;
        case AST_GROUP:
        case AST_KEY: {
            if (!self) {
                diag_add(b->d, DIAG_BAD_MEMBER, c->sp,
                         "a tier is a template of limits and routes; %ss belong in a tenant",
                         ast_kind_name(c->kind));
                break;
            }
            if (depth + 1 > PLAN_DEPTH_MAX) {
                diag_add(b->d, DIAG_HIERARCHY_TOO_DEEP, c->sp,
                         "hierarchy nested too deeply (limit is %d levels, tenant included)",
                         PLAN_DEPTH_MAX);
                break;
            }
            m_subject *prev = member_find(b, mb, c->kind, c->name.any, c->name.s);
            if (prev) {
                diag *d = c->name.any
                    ? diag_add(b->d, DIAG_DUP_MEMBER, c->name.sp,
                               "%s * is defined twice in the same %s",
                               ast_kind_name(c->kind), ast_kind_name(block->kind))
                    : diag_add(b->d, DIAG_DUP_MEMBER, c->name.sp,
                               "%s \"%s\" is defined twice in the same %s",
                               ast_kind_name(c->kind), c->name.s,
                               ast_kind_name(block->kind));
                diag_note_add(b->d, d, prev->src->name.sp, "first defined here");
                break;
            }
            /* Built in place: presize_members counted every group and
             * key, so the array never grows and its subjects never move. */
            m_subject *ch = &mb->children[mb->nchildren++];
            subject_fill(b, ch, c, self, depth + 1, NULL);
            member_added(b, mb, ch);
            break;
        }
        default:
            break;
        }
    }
}

static bool window_taken(const m_limit *v, size_t n, int64_t window_ms)
{
    for (size_t j = 0; j < n; j++)
        if (v[j].window_ms == window_ms)
            return true;
    return false;
}

/* Effective limits and routes: the inherited ones first, each replaced by an
 * own limit on the same window (an own route with the same method and
 * path), then the own ones.  A block with none of its own shares the tier's
 * array (nothing writes to a model's arrays once built); otherwise mb's
 * array was presized with room for the inherited ones and the merge happens
 * in place.  Either way a tenant's effective limits cost no copy of its own
 * limits, and most tenants' routes cost nothing. */
static void merge_in_place(const m_tier *inh, members *mb)
{
    if (!mb->nlimits) {
        mb->limits = inh->limits;
        mb->nlimits = inh->nlimits;
    } else {
        size_t k = 0;
        for (size_t i = 0; i < inh->nlimits; i++)
            k += !window_taken(mb->limits, mb->nlimits, inh->limits[i].window_ms);
        memmove(mb->limits + k, mb->limits, mb->nlimits * sizeof *mb->limits);
        size_t j = 0;
        for (size_t i = 0; i < inh->nlimits; i++)
            if (!window_taken(mb->limits + k, mb->nlimits, inh->limits[i].window_ms))
                mb->limits[j++] = inh->limits[i];
        mb->nlimits += k;
    }
    if (!mb->nroutes) {
        mb->routes = inh->routes;
        mb->nroutes = inh->nroutes;
    } else {
        size_t k = 0;
        for (size_t i = 0; i < inh->nroutes; i++)
            k += !route_find(mb->routes, mb->nroutes, inh->routes[i].method,
                             inh->routes[i].path);
        memmove(mb->routes + k, mb->routes, mb->nroutes * sizeof *mb->routes);
        size_t j = 0;
        for (size_t i = 0; i < inh->nroutes; i++)
            if (!route_find(mb->routes + k, mb->nroutes, inh->routes[i].method,
                            inh->routes[i].path))
                mb->routes[j++] = inh->routes[i];
        mb->nroutes += k;
    }
    if (!mb->conc)
        mb->conc = inh->conc;
}

/* A listed group or key starts from the template beside it: the
 * template's limits on windows the subject does not limit, its routes the
 * subject does not redeclare and its concurrency when the subject has none,
 * then the subject's own (the override rule of tiers).  Children are not
 * inherited, as a tier has none.  New arrays: the subject's were sized for
 * its own members. */
static void template_merge(builder *b, m_subject *c, const m_subject *t)
{
    if (!c->rare)
        c->rare = ARENA_NEW_N(b->a, m_subject_rare, 1);
    c->rare->tmpl = t;
    size_t nl = c->nlimits, nr = c->nroutes;
    for (size_t i = 0; i < t->nlimits; i++)
        nl += !window_taken(c->limits, c->nlimits, t->limits[i].window_ms);
    for (size_t i = 0; i < t->nroutes; i++)
        nr += !route_find(c->routes, c->nroutes, t->routes[i].method, t->routes[i].path);
    m_limit *lv = nl ? arena_alloc_align(b->a, nl * sizeof *lv, 8) : NULL;
    m_route *rv = nr ? arena_alloc_align(b->a, nr * sizeof *rv, 8) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->nlimits; i++)
        if (!window_taken(c->limits, c->nlimits, t->limits[i].window_ms)) {
            lv[k] = t->limits[i];
            lv[k++].from_template = true;
        }
    if (c->nlimits)
        memcpy(lv + k, c->limits, c->nlimits * sizeof *lv);
    k = 0;
    for (size_t i = 0; i < t->nroutes; i++)
        if (!route_find(c->routes, c->nroutes, t->routes[i].method, t->routes[i].path)) {
            rv[k] = t->routes[i];
            rv[k++].owner = ROUTE_FROM_TEMPLATE;
        }
    if (c->nroutes)
        memcpy(rv + k, c->routes, c->nroutes * sizeof *rv);
    c->limits = lv;
    c->nlimits = (uint32_t)nl;
    c->routes = rv;
    c->nroutes = (uint32_t)nr;
    if (!c->rare->conc)
        c->rare->conc = subject_conc(t);
}

/* Builds the subject of block n into s (zeroed). */
static void subject_fill(builder *b, m_subject *s, const ast_node *n, m_subject *parent,
                         int depth, const m_tier *inherit)
{
    s->kind = n->kind;
    s->any = n->name.any;
    s->src = n;
    s->parent = parent;
    members mb;
    memset(&mb, 0, sizeof mb);
    members_build(b, n, NULL, s, depth, inherit, &mb);
    for (int k = 0; k < 2; k++) {
        ast_kind kind = k ? AST_KEY : AST_GROUP;
        const m_subject *t = member_find(b, &mb, kind, true, NULL);
        if (t)
            for (size_t i = 0; i < mb.nchildren; i++)
                if (mb.children[i].kind == kind && !mb.children[i].any)
                    template_merge(b, &mb.children[i], t);
    }
    strmap_free(&mb.names);
    if (inherit)
        merge_in_place(inherit, &mb);
    s->children = mb.children;
    s->nchildren = (uint32_t)mb.nchildren;
    s->limits = mb.limits;
    s->nlimits = (uint32_t)mb.nlimits;
    s->routes = mb.routes;
    s->nroutes = (uint32_t)mb.nroutes;
    if (mb.conc) {
        s->rare = ARENA_NEW_N(b->a, m_subject_rare, 1);
        s->rare->conc = mb.conc;
    }
}

/* A tenant, in a subject of its own; its groups and keys are built into
 * their parents' arrays. */
static m_subject *subject_build(builder *b, const ast_node *n, const m_tier *inherit)
{
    m_subject *s = ARENA_NEW_N(b->a, m_subject, 1);
    subject_fill(b, s, n, NULL, 1, inherit);
    return s;
}

const m_subject *subject_template(const m_subject *s, ast_kind kind)
{
    for (size_t i = 0; i < s->nchildren; i++)
        if (s->children[i].kind == kind && s->children[i].any)
            return &s->children[i];
    return NULL;
}

const m_subject *subject_resolve(const m_subject *s, ast_kind kind, const char *name)
{
    for (size_t i = 0; i < s->nchildren; i++)
        if (s->children[i].kind == kind && !s->children[i].any &&
            !strcmp(subject_name(&s->children[i]), name))
            return &s->children[i];
    return subject_template(s, kind);
}

/* The ancestors of s, root first, into chain; returns how many. */
static int subject_chain(const m_subject *s, const m_subject **chain)
{
    const m_subject *up[PLAN_DEPTH_MAX + 1];
    int k = 0;
    for (; s && k <= PLAN_DEPTH_MAX; s = s->parent)
        up[k++] = s;
    for (int i = 0; i < k; i++)
        chain[i] = up[k - 1 - i];
    return k;
}

/* A listed name is written bare in a path unless a reader could take it
 * for something else: the template's `*`, a separator, or a quoted name. */
static bool path_name_needs_quotes(const char *name)
{
    return !name[0] || !strcmp(name, "*") || strchr(name, '/') || name[0] == '"';
}

void subject_path(const m_subject *s, char *out, size_t n)
{
    const m_subject *chain[PLAN_DEPTH_MAX + 1];
    int k = subject_chain(s, chain);
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < k; i++) {
        if (i)
            buf_putc(&b, '/');
        if (chain[i]->any)
            buf_putc(&b, '*');
        else if (path_name_needs_quotes(subject_name(chain[i])))
            fmt_string(&b, subject_name(chain[i]));
        else
            buf_puts(&b, subject_name(chain[i]));
    }
    snprintf(out, n, "%s", buf_str(&b));
    buf_free(&b);
}

void subject_label(const m_subject *s, buf *out)
{
    const m_subject *chain[PLAN_DEPTH_MAX + 1];
    int k = subject_chain(s, chain);
    for (int i = 0; i < k; i++) {
        buf_printf(out, "%s%s ", i ? " " : "", ast_kind_name(chain[i]->kind));
        if (chain[i]->any)
            buf_putc(out, '*');
        else
            fmt_string(out, subject_name(chain[i]));
    }
}

/* ---- tiers ---- */

enum { TIER_NEW, TIER_ACTIVE, TIER_DONE };

static const char **tier_names(builder *b, size_t *n)
{
    const char **v = arena_alloc(b->a, (b->m->ntiers + 1) * sizeof *v);
    for (size_t i = 0; i < b->m->ntiers; i++)
        v[i] = b->m->tiers[i]->name;
    *n = b->m->ntiers;
    return v;
}

static void undefined_tier(builder *b, int code, ast_name ref, const char *what)
{
    size_t n;
    const char **names = tier_names(b, &n);
    const char *sg = suggest(ref.s, names, n);
    if (sg)
        diag_add(b->d, code, ref.sp, "%s '%s' is not defined; did you mean '%s'?", what, ref.s,
                 sg);
    else
        diag_add(b->d, code, ref.sp, "%s '%s' is not defined", what, ref.s);
}

static void tier_resolve(builder *b, m_tier *t)
{
    if (t->state == TIER_DONE)
        return;
    if (t->state == TIER_ACTIVE) {
        /* Cycle: walk it from t and report once, at t's extends clause. */
        buf path;
        buf_init(&path, 4096);
        buf_puts(&path, t->name);
        m_tier *c = t->parent;
        while (c && c != t) {
            buf_printf(&path, " -> %s", c->name);
            c = c->parent;
        }
        buf_printf(&path, " -> %s", t->name);
        diag *d = diag_add(b->d, DIAG_EXTENDS_CYCLE, t->src->ref.sp,
                           "tier inheritance cycle: %s", buf_str(&path));
        for (c = t->parent; c && c != t; c = c->parent)
            diag_note_add(b->d, d, c->src->ref.sp, "'%s' extends '%s' here", c->name,
                          c->parent ? c->parent->name : "?");
        buf_free(&path);
        /* Break the cycle so every member resolves once. */
        for (c = t->parent; c && c != t; c = c->parent)
            c->state = TIER_DONE;
        t->state = TIER_DONE;
        return;
    }
    t->state = TIER_ACTIVE;
    if (t->parent)
        tier_resolve(b, t->parent);
    if (t->state == TIER_DONE)
        return; /* part of a cycle that was just reported */
    members mb;
    memset(&mb, 0, sizeof mb);
    members_build(b, t->src, t, NULL, 0, t->parent, &mb);
    strmap_free(&mb.names);
    if (t->parent)
        merge_in_place(t->parent, &mb);
    t->limits = mb.limits;
    t->nlimits = mb.nlimits;
    t->routes = mb.routes;
    t->nroutes = mb.nroutes;
    t->conc = mb.conc;
    t->state = TIER_DONE;
}

/* ---- tests ---- */

static void test_check(builder *b, const ast_node *t)
{
    bool have_request = false;
    for (const ast_node *s = t->children; s; s = s->next) {
        if (s->kind == AST_T_REQUEST) {
            have_request = true;
            const ast_seg *seg = s->u.request.path;
            const m_subject *cur = strmap_get(&b->m->tenant_by_name, seg->name.s);
            if (!cur)
                cur = b->m->any_tenant;
            if (!cur) {
                diag_add(b->d, DIAG_TEST_UNKNOWN_SUBJECT, seg->name.sp,
                         "tenant \"%s\" is not defined (and there is no tenant *)",
                         seg->name.s);
                continue;
            }
            for (seg = seg->next; seg; seg = seg->next) {
                const m_subject *ch = subject_resolve(cur, seg->kind, seg->name.s);
                if (!ch) {
                    const char **cands = arena_alloc(b->a, (cur->nchildren + 1) * sizeof *cands);
                    size_t nc = 0;
                    for (size_t i = 0; i < cur->nchildren; i++)
                        if (cur->children[i].kind == seg->kind && !cur->children[i].any)
                            cands[nc++] = subject_name(&cur->children[i]);
                    const char *sg = suggest(seg->name.s, cands, nc);
                    buf who;
                    buf_init(&who, 0);
                    subject_label(cur, &who);
                    if (sg)
                        diag_add(b->d, DIAG_TEST_UNKNOWN_SUBJECT, seg->name.sp,
                                 "%s has no %s \"%s\"; did you mean \"%s\"?", buf_str(&who),
                                 ast_kind_name(seg->kind), seg->name.s, sg);
                    else
                        diag_add(b->d, DIAG_TEST_UNKNOWN_SUBJECT, seg->name.sp,
                                 "%s has no %s \"%s\"", buf_str(&who),
                                 ast_kind_name(seg->kind), seg->name.s);
                    buf_free(&who);
                    break;
                }
                cur = ch;
            }
            if (s->u.request.method.s) {
                if (!plan_method_ok(s->u.request.method.s))
                    diag_add(b->d, DIAG_BAD_METHOD, s->u.request.method.sp,
                             "unknown HTTP method '%s'", s->u.request.method.s);
            }
            if (s->u.request.cost.set && s->u.request.cost.v < 1)
                diag_add(b->d, DIAG_BAD_COST, s->u.request.cost.sp,
                         "cost must be at least 1, not %lld",
                         (long long)s->u.request.cost.v);
        } else if (s->kind == AST_T_SEND) {
            if (!have_request)
                diag_add(b->d, DIAG_TEST_NO_REQUEST, s->sp,
                         "'send' before any 'request' in test \"%s\"", t->name.s);
            const ast_int *n = &s->u.send.n, *e = &s->u.send.expect;
            if (n->v < 1 || n->v > 10000000)
                diag_add(b->d, DIAG_TEST_BAD_EXPECT, n->sp,
                         "send between 1 and 10000000 requests, not %lld", (long long)n->v);
            else if (e->v < 0 || e->v > n->v)
                diag_add(b->d, DIAG_TEST_BAD_EXPECT, e->sp,
                         "expects %lld of %lld requests; must be between 0 and %lld",
                         (long long)e->v, (long long)n->v, (long long)n->v);
            if (s->u.send.within.set && (s->u.send.within.ms < 0 ||
                                         s->u.send.within.ms > PLAN_WINDOW_MAX_MS))
                diag_add(b->d, DIAG_DURATION_RANGE, s->u.send.within.sp,
                         "'within' must be between 0ms and 366d");
        } else if (s->kind == AST_T_WAIT) {
            if (s->u.wait.d.ms < 0 || s->u.wait.d.ms > PLAN_WINDOW_MAX_MS)
                diag_add(b->d, DIAG_DURATION_RANGE, s->u.wait.d.sp,
                         "'wait' must be between 0ms and 366d");
        }
    }
}

/* ---- the whole program ---- */

static void policy_build(builder *b, const ast_node *n)
{
    m_policy *m = b->m;
    if (m->src) {
        diag *d = diag_add(b->d, DIAG_DUP_POLICY, n->sp,
                           "a policy has one policy block; this is a second one");
        diag_note_add(b->d, d, m->src->sp, "the first one is here");
        return;
    }
    m->src = n;
    m->name = n->name.s;
    m_setting *v;
    size_t nv;
    settings_check(&policy_schema, n->children, n->name.sp, b->a, b->d, &v, &nv);
    for (size_t i = 0; i < nv; i++) {
        const m_setting *s = &v[i];
        if (!strcmp(s->name, "namespace")) {
            const char *ns = s->v.s;
            if (!plan_namespace_ok(ns))
                diag_add(b->d, DIAG_BAD_SETTING_VALUE, s->v.src->sp,
                         "namespace must be 1 to 64 of [A-Za-z0-9_.-] (it prefixes every "
                         "key)");
            else
                m->ns = ns;
        } else if (!strcmp(s->name, "max_clock_skew")) {
            if (s->v.i > PLAN_SKEW_MAX_MS)
                diag_add(b->d, DIAG_DURATION_RANGE, s->v.src->sp,
                         "max_clock_skew must be between 0ms and 1h");
            else
                m->max_clock_skew_ms = s->v.i;
        } else if (!strcmp(s->name, "time_source")) {
            m->client_time = !strcmp(s->v.s, "client");
        } else if (!strcmp(s->name, "on_store_error")) {
            m->fail_closed = !strcmp(s->v.s, "fail_closed");
        } else if (!strcmp(s->name, "allow_loosening")) {
            m->allow_loosening = s->v.i != 0;
        } else if (!strcmp(s->name, "default_algorithm")) {
            algo_parse(s->v.s, &m->default_algo);
        }
    }
}

static void target_build(builder *b, const ast_node *n)
{
    m_policy *m = b->m;
    target_kind kind;
    const settings_schema *sc = target_schema(n->ref.s, &kind);
    if (!sc) {
        const char *sg = suggest(n->ref.s, target_kind_names, TARGET_NKINDS);
        if (sg)
            diag_add(b->d, DIAG_UNKNOWN_TARGET_KIND, n->ref.sp,
                     "unknown target kind '%s'; did you mean '%s'?", n->ref.s, sg);
        else
            diag_add(b->d, DIAG_UNKNOWN_TARGET_KIND, n->ref.sp,
                     "unknown target kind '%s' (expected redis, etcd, http, nginx, "
                     "envoy_ratelimit or limitador)",
                     n->ref.s);
        return;
    }
    const ast_node *prev = strmap_put(&b->targets, n->name.s, (void *)n);
    if (prev) {
        diag *d = diag_add(b->d, DIAG_DUP_TARGET, n->name.sp,
                           "target \"%s\" is defined twice", n->name.s);
        diag_note_add(b->d, d, prev->name.sp, "first defined here");
        return;
    }
    m_target t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.name = n->name.s;
    t.src = n;
    settings_check(sc, n->children, n->name.sp, b->a, b->d, &t.settings, &t.nsettings);
    VEC_PUSH(b->a, m->targets, m->ntargets, b->cap_targets, t);
}

/* Tenants looked up this many ahead of the one being built (model_build). */
#define TENANT_PREFETCH 16

/* The first tenant at or after n in file *f, then in the files after it
 * (*f follows), or NULL. */
static const ast_node *tenant_from(const program *p, size_t *f, const ast_node *n)
{
    for (;;) {
        for (; n; n = n->next)
            if (n->kind == AST_TENANT)
                return n;
        if (++*f >= p->nfiles)
            return NULL;
        n = p->files[*f]->items;
    }
}

m_policy *model_build(program *p)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.p = p;
    b.a = p->a;
    b.d = &p->diags;
    m_policy *m = arena_alloc(p->a, sizeof *m);
    b.m = m;
    m->name = "";
    m->ns = "rl";
    strmap_init(&m->tenant_by_name);
    strmap_init(&b.tiers);
    strmap_init(&b.targets);
    strmap_init(&b.tests);

    /* Pass 1: the policy block first (its default_algorithm applies to every
     * limit), then register tiers, targets and tests by name.  One walk of
     * the items collects all but the tenants, in order: each walk of a
     * million tenants' items was a million cache misses. */
    size_t cap_tiers = 0, cap_tests = 0, ntenant_nodes = 0;
    const ast_node **decls = NULL;
    size_t ndecls = 0, cap_decls = 0;
    for (size_t f = 0; f < p->nfiles; f++)
        for (const ast_node *n = p->files[f]->items; n; n = n->next) {
            if (n->kind == AST_TENANT) {
                ntenant_nodes++;
                continue;
            }
            if (ndecls == cap_decls) {
                cap_decls = cap_decls ? 2 * cap_decls : 64;
                decls = xrealloc(decls, cap_decls * sizeof *decls);
            }
            decls[ndecls++] = n;
        }
    for (size_t i = 0; i < ndecls; i++)
        if (decls[i]->kind == AST_POLICY)
            policy_build(&b, decls[i]);
    for (size_t i = 0; i < ndecls; i++) {
        const ast_node *n = decls[i];
        switch (n->kind) {
        case AST_TIER: {
            m_tier *t = arena_alloc(b.a, sizeof *t);
            t->name = n->name.s;
            t->src = n;
            m_tier *prev = strmap_put(&b.tiers, t->name, t);
            if (prev) {
                diag *d = diag_add(b.d, DIAG_DUP_TIER, n->name.sp,
                                   "tier '%s' is defined twice", t->name);
                diag_note_add(b.d, d, prev->src->name.sp, "first defined here");
                break;
            }
            t->no = (uint32_t)m->ntiers + 1;
            VEC_PUSH(b.a, m->tiers, m->ntiers, cap_tiers, t);
            break;
        }
        case AST_TARGET:
            target_build(&b, n);
            break;
        case AST_TEST: {
            const ast_node *prev = strmap_put(&b.tests, n->name.s, (void *)n);
            if (prev) {
                diag *d = diag_add(b.d, DIAG_DUP_TEST, n->name.sp,
                                   "test \"%s\" is defined twice", n->name.s);
                diag_note_add(b.d, d, prev->name.sp, "first defined here");
                break;
            }
            VEC_PUSH(b.a, m->tests, m->ntests, cap_tests, n);
            break;
        }
        case AST_ALLOW:
            allow_add(&b, n, NULL);
            break;
        default:
            break;
        }
    }
    free(decls);

    /* Pass 2: tier inheritance. */
    for (size_t i = 0; i < m->ntiers; i++) {
        m_tier *t = m->tiers[i];
        if (t->src->ref.s) {
            t->parent = strmap_get(&b.tiers, t->src->ref.s);
            if (!t->parent)
                undefined_tier(&b, DIAG_UNDEFINED_EXTENDS, t->src->ref, "tier");
        }
    }
    for (size_t i = 0; i < m->ntiers; i++)
        tier_resolve(&b, m->tiers[i]);

    /* Pass 3: tenants, with their tier's limits flattened in.  The map of
     * names is sized for them all at once: growing it a step at a time
     * rehashed every name each time and left the old tables behind. */
    m->tenants = arena_alloc(b.a, (ntenant_nodes + 1) * sizeof *m->tenants);
    strmap_reserve(&m->tenant_by_name, ntenant_nodes);
    /* A tenant's slot in the map is a cache miss: it is fetched while the
     * tenants before it are built, TENANT_PREFETCH of them. */
    size_t fa = 0;
    const ast_node *ahead = p->nfiles ? tenant_from(p, &fa, p->files[0]->items) : NULL;
    for (int k = 0; k < TENANT_PREFETCH && ahead; k++)
        ahead = tenant_from(p, &fa, ahead->next);
    for (size_t f = 0; f < p->nfiles; f++) {
        for (const ast_node *n = p->files[f]->items; n; n = n->next) {
            if (n->kind != AST_TENANT)
                continue;
            if (ahead) {
                if (!ahead->name.any)
                    strmap_prefetch(&m->tenant_by_name, ahead->name.s);
                ahead = tenant_from(p, &fa, ahead->next);
            }
            if (n->name.any) {
                if (m->any_tenant) {
                    diag *d = diag_add(b.d, DIAG_DUP_TENANT, n->name.sp,
                                       "tenant * is defined twice");
                    diag_note_add(b.d, d, m->any_tenant->src->name.sp, "first defined here");
                    continue;
                }
                m_tier *t = n->ref.s ? strmap_get(&b.tiers, n->ref.s) : NULL;
                m->any_tenant = subject_build(&b, n, t);
                if (n->ref.s && !t)
                    undefined_tier(&b, DIAG_UNDEFINED_TIER, n->ref, "tier");
                continue;
            }
            /* One lookup for both the duplicate check and the insertion:
             * at a million tenants each is a cache miss. */
            bool dup;
            void **slot = strmap_slot(&m->tenant_by_name, n->name.s, &dup);
            if (dup) {
                const m_subject *prev = *slot;
                diag *d = diag_add(b.d, DIAG_DUP_TENANT, n->name.sp,
                                   "tenant \"%s\" is defined twice", n->name.s);
                diag_note_add(b.d, d, prev->src->name.sp, "first defined here");
                continue;
            }
            /* The tier is looked up first so its limits merge into the
             * tenant's arrays as they are built; an undefined one is still
             * reported after the tenant's own diagnostics. */
            m_tier *t = n->ref.s ? strmap_get(&b.tiers, n->ref.s) : NULL;
            /* The name's keys are known in full here (namespace, encoded
             * name, longest suffix): refuse it now rather than let a store
             * or a buffer meet a key longer than anything plans promise. */
            size_t kl = plan_key_longest(m->ns, n->name.s);
            if (kl > PLAN_KEY_MAX)
                diag_add(b.d, DIAG_KEY_TOO_LONG, n->name.sp,
                         "this tenant name (%zu bytes) makes a %zu-byte store key; the "
                         "limit is %d bytes",
                         strlen(n->name.s), kl, PLAN_KEY_MAX);
            m_subject *s = subject_build(&b, n, t);
            *slot = s;
            m->tenants[m->ntenants++] = s;
            if (n->ref.s && !t)
                undefined_tier(&b, DIAG_UNDEFINED_TIER, n->ref, "tier");
        }
    }

    /* Pass 4: targets that refer to targets, and tests. */
    for (size_t i = 0; i < m->ntargets; i++) {
        const m_target *t = &m->targets[i];
        if (t->kind != TARGET_NGINX)
            continue;
        gateway_check_target(t, b.d);
        const m_setting *r = setting_find(t->settings, t->nsettings, "redis");
        if (!r)
            continue;
        const ast_node *rt = strmap_get(&b.targets, r->v.s);
        if (!rt || strcmp(rt->ref.s, "redis") != 0)
            diag_add(b.d, DIAG_BAD_SETTING_VALUE, r->v.src->sp,
                     "nginx target \"%s\" names \"%s\", which is not a redis target",
                     t->name, r->v.s);
    }
    emit_check(m, b.d);
    for (size_t i = 0; i < m->ntests; i++)
        test_check(&b, m->tests[i]);

    strmap_free(&b.tiers);
    strmap_free(&b.targets);
    strmap_free(&b.tests);
    return m;
}

void model_free(m_policy *m)
{
    if (!m)
        return;
    strmap_free(&m->tenant_by_name);
}
