/* algo.c - one rule, one request, one step (see algo.h and SPEC.md 6.4).
 * Every line here has a twin in stdlib/enforce.lua; change both or the
 * differential test fails.  All values stay in [0, 2^53) given the limits
 * rules.c enforces (max(count, burst) x window <= 2^51), so doubles in Lua
 * hold them exactly.  Requests whose charge exceeds what the rule can ever
 * hold are rejected before any product is formed (retry -1). */
#include "algo.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static void reject_forever(rl_verdict *v)
{
    v->admit = false;
    v->retry_ms = -1;
}

static void token_bucket(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now,
                         int64_t skew, rl_verdict *v)
{
    const int64_t W = r->window_ms, C = r->count;
    const int64_t cap = r->burst * W;
    int64_t level = cap, last = now;
    if (s->present) {
        level = s->a < cap ? s->a : cap;  /* a redeploy may have shrunk the burst */
        last = s->b;
    }
    int64_t t = max64(now, last);        /* time never runs backwards for a bucket */
    int64_t off = t - now;
    if (level < cap && t > last) {
        /* t - last >= ceil((cap - level) / C), without the division */
        level = (__int128)(t - last) * C >= cap - level ? cap : level + (t - last) * C;
    }
    if (cost > r->max_request) {
        v->remaining = level / W;
        v->reset_ms = off + algo_ceil_div(cap - level, C);
        reject_forever(v);
        return;
    }
    int64_t units = cost * r->cost * W;
    if (level >= units) {
        int64_t left = level - units;
        v->admit = true;
        v->remaining = left / W;
        v->reset_ms = off + algo_ceil_div(cap - left, C);
        v->retry_ms = 0;
        v->ttl_ms = algo_ttl(v->reset_ms, skew);
        v->next = (rl_state){.present = true, .a = left, .b = t};
    } else {
        v->admit = false;
        v->remaining = level / W;
        v->reset_ms = off + algo_ceil_div(cap - level, C);
        v->retry_ms = off + algo_ceil_div(units - level, C);
    }
}

static void gcra(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now, int64_t skew,
                 rl_verdict *v)
{
    const int64_t W = r->window_ms, C = r->count;
    const int64_t cap = r->burst * W;       /* tolerance, in 1/C ms */
    const int64_t ahead_max = algo_ceil_div(cap, C);
    int64_t tat = now, frac = 0;
    if (s->present) {
        tat = s->a;
        frac = s->b;
    }
    /* A clock that went far back would make the arrival time look
     * arbitrarily far ahead; no decision differs past ahead_max. */
    int64_t t = tat - now > ahead_max ? tat - ahead_max : now;
    int64_t off = t - now;
    if (tat < t) {
        tat = t;
        frac = 0;
    }
    int64_t debt = (tat - t) * C + frac;    /* in 1/C ms; the bucket is cap - debt */
    if (cost > r->max_request) {
        v->remaining = debt < cap ? (cap - debt) / W : 0;
        v->reset_ms = off + algo_ceil_div(debt, C);
        reject_forever(v);
        return;
    }
    int64_t units = cost * r->cost * W;
    if (debt <= cap - units) {
        int64_t total = frac + units;
        int64_t debt2 = debt + units;
        v->admit = true;
        v->remaining = (cap - debt2) / W;
        v->reset_ms = off + algo_ceil_div(debt2, C);
        v->retry_ms = 0;
        v->ttl_ms = algo_ttl(v->reset_ms, skew);
        v->next = (rl_state){.present = true, .a = tat + total / C, .b = total % C};
    } else {
        v->admit = false;
        v->remaining = debt < cap ? (cap - debt) / W : 0;
        v->reset_ms = off + algo_ceil_div(debt, C);
        v->retry_ms = off + algo_ceil_div(debt - (cap - units), C);
    }
}

static void fixed_window(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now,
                         int64_t skew, rl_verdict *v)
{
    const int64_t W = r->window_ms, C = r->count;
    int64_t start = now - now % W, cnt = 0;
    if (s->present && s->a >= start) {     /* same window, or the clock went back */
        start = s->a;
        cnt = s->b;
    }
    int64_t end_in = start + W - now;
    v->remaining = C - cnt;
    v->reset_ms = cnt > 0 ? end_in : 0;
    if (cost > r->max_request) {
        reject_forever(v);
        return;
    }
    int64_t n = cost * r->cost;
    if (n <= C - cnt) {
        v->admit = true;
        v->remaining = C - cnt - n;
        v->reset_ms = end_in;
        v->retry_ms = 0;
        v->ttl_ms = algo_ttl(end_in, skew);
        v->next = (rl_state){.present = true, .a = start, .b = cnt + n};
    } else {
        v->admit = false;
        v->retry_ms = end_in;
    }
}

static void approx_sliding_window(const rl_rule *r, const rl_state *s, int64_t cost,
                                  int64_t now, int64_t skew, rl_verdict *v)
{
    const int64_t W = r->window_ms, C = r->count;
    int64_t win = now - now % W;
    int64_t start = win, prev = 0, cur = 0;
    if (s->present) {
        if (s->a >= win) {                 /* same window, or the clock went back */
            start = s->a;
            prev = s->b;
            cur = s->c;
        } else if (s->a == win - W) {
            prev = s->c;
        }
    }
    int64_t t = max64(now, start);
    int64_t weight = W - (t - start);      /* 1..W: the share of prev still counted */
    int64_t held = algo_ceil_div(prev * weight, W);
    v->remaining = C - cur - held > 0 ? C - cur - held : 0;
    v->reset_ms = cur > 0 ? start + 2 * W - now : prev > 0 ? start + W - now : 0;
    if (cost > r->max_request) {
        reject_forever(v);
        return;
    }
    int64_t n = cost * r->cost;
    if (n <= C - cur && prev * weight <= (C - cur - n) * W) {
        int64_t cur2 = cur + n;
        v->admit = true;
        held = algo_ceil_div(prev * weight, W);
        v->remaining = C - cur2 - held > 0 ? C - cur2 - held : 0;
        v->reset_ms = start + 2 * W - now;
        v->retry_ms = 0;
        v->ttl_ms = algo_ttl(v->reset_ms, skew);
        v->next = (rl_state){.present = true, .a = start, .b = prev, .c = cur2};
        return;
    }
    v->admit = false;
    int64_t f = n <= C - cur && prev > 0 ? (C - cur - n) * W / prev : 0;
    int64_t d;
    if (f > 0)
        d = weight - f;                    /* later in this window */
    else                                   /* in the next one, where cur becomes prev */
        d = weight + (cur > 0 ? max64(0, W - (C - n) * W / cur) : 0);
    v->retry_ms = (t - now) + d;
}

/* The exact sliding window: a request is admitted when the units charged in
 * the trailing window (t - W, t] plus its own fit in the count.  Time never
 * runs backwards for the log (t = max(now, newest entry)), so entries stay
 * ordered and a late clock is charged at the newest time, never earlier. */
static void sliding_log(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now,
                        int64_t skew, rl_verdict *v)
{
    const int64_t W = r->window_ms, C = r->count;
    const rl_log *lg = s->present ? s->log : NULL;
    const size_t n = lg ? lg->n : 0;
    const int64_t *T = n ? lg->t + lg->head : NULL, *U = n ? lg->u + lg->head : NULL;
    int64_t total = s->present ? s->a : 0;
    int64_t t = n && T[n - 1] > now ? T[n - 1] : now;
    size_t drop = 0;
    while (drop < n && T[drop] <= t - W)
        total -= U[drop++];
    v->remaining = C - total;
    v->reset_ms = drop < n ? T[n - 1] + W - now : 0;
    if (cost > r->max_request) {
        reject_forever(v);
        return;
    }
    int64_t units = cost * r->cost;
    if (total + units <= C) {
        v->admit = true;
        v->remaining = C - total - units;
        v->reset_ms = t + W - now;
        v->retry_ms = 0;
        v->ttl_ms = algo_ttl(v->reset_ms, skew);
        v->next = (rl_state){.present = true, .a = total + units};
        v->log_drop = drop;
        v->log_t = t;
        v->log_units = units;
        return;
    }
    /* The oldest entries leave the window first: the request fits once
     * enough of them have (units <= C, so the walk ends inside the log). */
    v->admit = false;
    int64_t need = total + units - C, freed = 0;
    size_t j = drop;
    while (freed < need)
        freed += U[j++];
    v->retry_ms = T[j - 1] + W - now;
}

static void log_append(rl_log *lg, int64_t t, int64_t u)
{
    if (lg->head + lg->n == lg->cap) {
        if (lg->head > 0) {
            /* Slide the live entries down before growing. */
            memmove(lg->t, lg->t + lg->head, lg->n * sizeof *lg->t);
            memmove(lg->u, lg->u + lg->head, lg->n * sizeof *lg->u);
            lg->head = 0;
        }
        if (lg->n == lg->cap) {
            size_t nc = lg->cap ? lg->cap * 2 : 8;
            lg->t = xreallocarray(lg->t, nc, sizeof *lg->t);
            lg->u = xreallocarray(lg->u, nc, sizeof *lg->u);
            lg->cap = nc;
        }
    }
    lg->t[lg->head + lg->n] = t;
    lg->u[lg->head + lg->n] = u;
    lg->n++;
}

void algo_commit(const rl_rule *r, rl_state *s, const rl_verdict *v)
{
    if (r->kind != PLAN_SLIDING_WINDOW) {
        s->present = v->next.present;
        s->a = v->next.a;
        s->b = v->next.b;
        s->c = v->next.c;
        return;
    }
    if (!s->log)
        s->log = xcalloc(1, sizeof *s->log);
    rl_log *lg = s->log;
    if (!s->present)
        lg->head = lg->n = 0;
    lg->head += v->log_drop;
    lg->n -= v->log_drop;
    if (lg->n && lg->t[lg->head + lg->n - 1] == v->log_t)
        lg->u[lg->head + lg->n - 1] += v->log_units;
    else
        log_append(lg, v->log_t, v->log_units);
    s->present = true;
    s->a = v->next.a;
}

void algo_state_clear(rl_state *s)
{
    if (s->log) {
        free(s->log->t);
        free(s->log->u);
        free(s->log);
    }
    *s = (rl_state){0};
}

void algo_rate(const rl_rule *r, const rl_state *s, int64_t cost, int64_t now_ms,
               int64_t skew_ms, rl_verdict *v)
{
    v->admit = false;
    v->remaining = 0;
    v->reset_ms = 0;
    v->retry_ms = 0;
    v->ttl_ms = 0;
    v->next = *s;
    v->log_drop = 0;
    v->log_t = v->log_units = 0;
    switch (r->kind) {
    case PLAN_TOKEN_BUCKET: token_bucket(r, s, cost, now_ms, skew_ms, v); break;
    case PLAN_GCRA: gcra(r, s, cost, now_ms, skew_ms, v); break;
    case PLAN_FIXED_WINDOW: fixed_window(r, s, cost, now_ms, skew_ms, v); break;
    case PLAN_SLIDING_WINDOW: sliding_log(r, s, cost, now_ms, skew_ms, v); break;
    case PLAN_APPROX_SLIDING_WINDOW: approx_sliding_window(r, s, cost, now_ms, skew_ms, v); break;
    case PLAN_CONCURRENCY: break;
    }
}
