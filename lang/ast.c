/* ast.c - node construction for the syntax tree, and the compact form of
 * limit nodes with the accessors that read it back as located values.  See
 * ast.h. */
#include "ast.h"

#include <stddef.h>
#include <string.h>


/* Bytes a node of this kind needs: the common fields plus only what its
 * kind uses.  Most nodes of a large policy are blocks (tenant, group, key,
 * route) that use none of `u`, or limits, which use none of the block
 * fields (their compact fields overlay them); giving each node the whole
 * struct made the AST of a 100 000-tenant policy twice as big.  So a node
 * may only be read through the members its kind owns (see ast.h), which
 * every access already checks. */
static size_t node_size(ast_kind kind)
{
    const size_t base = offsetof(ast_node, u);
    const ast_node *n = NULL;
    switch (kind) {
    case AST_LIMIT: return offsetof(ast_node, lim) + sizeof n->lim;
    case AST_CONCURRENCY: return offsetof(ast_node, conc) + sizeof n->conc;
    case AST_SETTING: return base + sizeof n->u.value;
    case AST_T_REQUEST: return base + sizeof n->u.request;
    case AST_T_SEND: return base + sizeof n->u.send;
    case AST_T_WAIT: return base + sizeof n->u.wait;
    case AST_GROUP:
    case AST_KEY: return offsetof(ast_node, ref);
    default: return base;
    }
}

ast_node *ast_new(arena *a, ast_kind kind, span sp)
{
    ast_node *n = arena_alloc_align(a, node_size(kind), _Alignof(ast_node));
    n->kind = kind;
    n->sp = sp;
    return n;
}

/* ---- limits: the compact form and its out-of-line fallback ---- */

const char *const ast_algo_names[AST_NALGOS] = {
    "token_bucket", "gcra", "sliding_window", "fixed_window", "approx_sliding_window",
};

/* The units a duration is written in (ast_dur.unit), by number; "" when
 * the unit was not one of them (the lexer has said so). */
static const char units[][3] = {"", "ms", "s", "m", "h", "d"};
static const int64_t unit_mss[] = {0, 1, 1000, 60 * 1000, 3600 * 1000, 86400 * 1000};

/* Once per limit: no string compare. */
static unsigned unit_no(const char unit[3])
{
    if (unit[0] == 'm' && unit[1] == 's')
        return 1;
    if (unit[1])
        return 0;
    switch (unit[0]) {
    case 's': return 2;
    case 'm': return 3;
    case 'h': return 4;
    case 'd': return 5;
    }
    return 0;
}

static int64_t unit_ms(const ast_limit *l)
{
    return unit_mss[l->window_unit];
}

static ast_off ast_limit_at(const ast_node *n, int f)
{
    const ast_limit *l = &n->lim;
    if (l->is_far)
        return l->v.far->at[f];
    ast_off o = {n->sp.start + l->off[f], n->sp.start + l->off[f] + l->len[f]};
    return o;
}

/* Moves limit n's numbers and offsets out of line, for good. */
static ast_limit_far *go_far(arena *a, ast_node *n)
{
    ast_limit *l = &n->lim;
    if (l->is_far)
        return l->v.far;
    ast_limit_far *far = arena_alloc(a, sizeof *far);
    for (int i = 0; i < LIM_NFIELDS; i++)
        far->at[i] = ast_limit_at(n, i);
    far->count = l->v.near.count;
    far->burst = l->v.near.burst;
    far->cost = l->cost;
    far->window_n = l->window_n;
    far->window_ms = l->window_n * unit_ms(l);
    l->v.far = far;
    l->is_far = true;
    return far;
}

static bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

static bool fits16(int64_t v)
{
    return v >= INT16_MIN && v <= INT16_MAX;
}

static void locate(arena *a, ast_node *n, int f, span sp)
{
    ast_limit *l = &n->lim;
    uint32_t base = n->sp.start;
    if (!l->is_far && sp.start >= base && sp.start - base <= UINT16_MAX &&
        sp.end >= sp.start && sp.end - sp.start <= UINT8_MAX) {
        l->off[f] = (uint16_t)(sp.start - base);
        l->len[f] = (uint8_t)(sp.end - sp.start);
        return;
    }
    go_far(a, n)->at[f] = ast_off_of(sp);
}

void ast_limit_set_rate(arena *a, ast_node *n, int64_t count, span count_sp, const ast_dur *w)
{
    ast_limit *l = &n->lim;
    l->window_unit = unit_no(w->unit) & 7u;
    l->window_set = w->set;
    /* The milliseconds are not stored in the compact form: they must follow
     * from the count and unit (they do unless the lexer found an overflow). */
    bool near = fits32(count) && fits16(w->n) && w->n * unit_ms(l) == w->ms;
    if (near && !l->is_far) {
        l->v.near.count = (int32_t)count;
        l->window_n = (int16_t)w->n;
    } else {
        ast_limit_far *far = go_far(a, n);
        far->count = count;
        far->window_n = w->n;
        far->window_ms = w->ms;
    }
    locate(a, n, LIM_COUNT, count_sp);
    locate(a, n, LIM_WINDOW, w->sp);
}

void ast_limit_set_int(arena *a, ast_node *n, int f, int64_t v, span sp)
{
    ast_limit *l = &n->lim;
    if (!l->is_far && (f == LIM_BURST ? fits32(v) : fits16(v))) {
        if (f == LIM_BURST)
            l->v.near.burst = (int32_t)v;
        else
            l->cost = (int16_t)v;
    } else {
        ast_limit_far *far = go_far(a, n);
        if (f == LIM_BURST)
            far->burst = v;
        else
            far->cost = v;
    }
    if (f == LIM_BURST)
        l->burst_set = true;
    else
        l->cost_set = true;
    locate(a, n, f, sp);
}

void ast_limit_set_algo(arena *a, ast_node *n, const char *algo, span sp)
{
    ast_limit *l = &n->lim;
    for (int i = 0; i < AST_NALGOS; i++)
        if (algo[0] == ast_algo_names[i][0] && !strcmp(algo, ast_algo_names[i])) {
            l->algo = (uint8_t)(1 + i);
            locate(a, n, LIM_ALGO, sp);
            return;
        }
    go_far(a, n)->algo = algo;
    l->algo = AST_ALGO_OTHER;
    locate(a, n, LIM_ALGO, sp);
}

void ast_limit_set_shadow(arena *a, ast_node *n, span sp)
{
    n->lim.shadow = true;
    locate(a, n, LIM_SHADOW, sp);
}

ast_int ast_limit_count(const ast_node *n)
{
    const ast_limit *l = &n->lim;
    ast_int i = {l->is_far ? l->v.far->count : l->v.near.count,
                 ast_off_span(n, ast_limit_at(n, LIM_COUNT)), true};
    return i;
}

ast_dur ast_limit_window(const ast_node *n)
{
    const ast_limit *l = &n->lim;
    ast_dur d;
    memset(&d, 0, sizeof d);
    if (l->is_far) {
        d.ms = l->v.far->window_ms;
        d.n = l->v.far->window_n;
    } else {
        d.n = l->window_n;
        d.ms = d.n * unit_ms(l);
    }
    d.sp = ast_off_span(n, ast_limit_at(n, LIM_WINDOW));
    memcpy(d.unit, units[l->window_unit], sizeof d.unit);
    d.set = l->window_set;
    return d;
}

span ast_limit_rate_sp(const ast_node *n)
{
    ast_off c = ast_limit_at(n, LIM_COUNT), w = ast_limit_at(n, LIM_WINDOW);
    span s = {n->sp.file, c.start, w.end > c.end ? w.end : c.end};
    return s;
}

static ast_int opt_int(const ast_node *n, int f, bool set)
{
    ast_int i = {0, {0, 0, 0}, false};
    if (!set)
        return i;
    const ast_limit *l = &n->lim;
    if (l->is_far)
        i.v = f == LIM_BURST ? l->v.far->burst : l->v.far->cost;
    else
        i.v = f == LIM_BURST ? l->v.near.burst : l->cost;
    i.sp = ast_off_span(n, ast_limit_at(n, f));
    i.set = true;
    return i;
}

ast_int ast_limit_burst(const ast_node *n)
{
    return opt_int(n, LIM_BURST, n->lim.burst_set);
}

ast_int ast_limit_cost(const ast_node *n)
{
    return opt_int(n, LIM_COST, n->lim.cost_set);
}

ast_name ast_limit_algo(const ast_node *n)
{
    ast_name a = {NULL, {0, 0, 0}, false};
    const ast_limit *l = &n->lim;
    if (l->algo != AST_ALGO_NONE) {
        a.s = l->algo == AST_ALGO_OTHER ? l->v.far->algo : ast_algo_names[l->algo - 1];
        a.sp = ast_off_span(n, ast_limit_at(n, LIM_ALGO));
    }
    return a;
}

span ast_limit_shadow_sp(const ast_node *n)
{
    span s = {0, 0, 0};
    return n->lim.shadow ? ast_off_span(n, ast_limit_at(n, LIM_SHADOW)) : s;
}

void ast_list_push(ast_list *l, ast_node *n)
{
    if (!n)
        return;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

const char *ast_kind_name(ast_kind k)
{
    switch (k) {
    case AST_POLICY: return "policy";
    case AST_IMPORT: return "import";
    case AST_TIER: return "tier";
    case AST_TENANT: return "tenant";
    case AST_GROUP: return "group";
    case AST_KEY: return "key";
    case AST_ROUTE: return "route";
    case AST_LIMIT: return "limit";
    case AST_CONCURRENCY: return "concurrency";
    case AST_ALLOW: return "allow";
    case AST_TARGET: return "target";
    case AST_SETTING: return "setting";
    case AST_TEST: return "test";
    case AST_T_REQUEST: return "request";
    case AST_T_SEND: return "send";
    case AST_T_WAIT: return "wait";
    }
    return "?";
}
