/* suppress.c - inline and command-line suppression.  See suppress.h.
 * Finding the allows that cover a location is a binary search over the
 * allow scopes sorted by start, then a walk up the nesting (at most the
 * block depth), so suppression stays linear in the number of diagnostics
 * even with an allow in every tenant. */
#include "suppress.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

bool code_suppressible(int code)
{
    return code >= 2000 && code < 3000 && code != DIAG_BAD_ALLOW && code != DIAG_UNUSED_ALLOW;
}

typedef struct scope_ent {
    span sp;           /* the scope block */
    int code;
    size_t allow;      /* scope_index into m->allows */
    long parent;       /* nearest earlier entry containing this one, or -1 */
} scope_ent;

static int ent_cmp(const void *pa, const void *pb)
{
    const scope_ent *a = pa, *b = pb;
    if (a->sp.file != b->sp.file)
        return a->sp.file < b->sp.file ? -1 : 1;
    if (a->sp.start != b->sp.start)
        return a->sp.start < b->sp.start ? -1 : 1;
    if (a->sp.end != b->sp.end)
        return a->sp.end > b->sp.end ? -1 : 1; /* outer first */
    return a->allow < b->allow ? -1 : (a->allow > b->allow);
}

static bool contains(span outer, span in)
{
    return outer.file == in.file && in.start >= outer.start && in.end <= outer.end;
}

typedef struct scope_index {
    scope_ent *v;
    size_t n;
} scope_index;

/* Index of the allow covering (code, at), or -1. */
static long index_find(const scope_index *ix, int code, span at)
{
    if (at.file == SRC_NONE || !ix->n)
        return -1;
    size_t lo = 0, hi = ix->n; /* first entry starting after `at` */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const scope_ent *e = &ix->v[mid];
        if (e->sp.file < at.file || (e->sp.file == at.file && e->sp.start <= at.start))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (long k = (long)lo - 1; k >= 0;) {
        const scope_ent *e = &ix->v[k];
        if (e->sp.file != at.file)
            return -1;
        if (contains(e->sp, at)) {
            if (e->code == code)
                return k;
            k = e->parent;
        } else {
            k = e->parent;
        }
    }
    return -1;
}

static void list_push(suppressed_list *out, arena *a, const diag *d, const char *reason,
                      span where)
{
    suppressed *s = arena_alloc(a, sizeof *s);
    s->d = d;
    s->reason = reason;
    s->where = where;
    if (out->tail)
        out->tail->next = s;
    else
        out->head = s;
    out->tail = s;
    out->n++;
}

static void count_sub(diag_list *l, severity s)
{
    if (s == SEV_ERROR)
        l->nerrors--;
    else if (s == SEV_WARNING)
        l->nwarnings--;
    else
        l->nnotes--;
}

void suppress_apply(program *p, const m_policy *m, const int *cli_allow, size_t ncli,
                    suppressed_list *out)
{
    diag_list *l = &p->diags;
    bool *used = xcalloc(m->nallows + 1, sizeof *used);
    long *global = xmalloc(10000 * sizeof *global);
    for (size_t i = 0; i < 10000; i++)
        global[i] = -2; /* -2 none, -1 command line, else allow scope_index */
    for (size_t i = 0; i < ncli; i++)
        if (cli_allow[i] >= 0 && cli_allow[i] < 10000)
            global[cli_allow[i]] = -1;
    scope_index ix = {xcalloc(m->nallows + 1, sizeof *ix.v), 0};
    for (size_t i = 0; i < m->nallows; i++) {
        const m_allow *al = &m->allows[i];
        if (!al->reason || !al->reason[0]) {
            diag_add(l, DIAG_BAD_ALLOW, al->src->ref.sp,
                     "allow %s needs a reason: say why the hazard is acceptable here",
                     al->src->name.s);
            continue;
        }
        if (!code_suppressible(al->code)) {
            diag_add(l, DIAG_BAD_ALLOW, al->src->name.sp,
                     "%s cannot be allowed: only hazards (RLC2xxx) can be suppressed; errors "
                     "in names, values and syntax must be fixed",
                     al->src->name.s);
            continue;
        }
        if (!al->scope) {
            if (global[al->code] == -2)
                global[al->code] = (long)i;
            continue;
        }
        scope_ent e = {al->scope->sp, al->code, i, -1};
        ix.v[ix.n++] = e;
    }
    if (ix.n > 1)
        qsort(ix.v, ix.n, sizeof *ix.v, ent_cmp);
    /* Parents by a stack sweep: scopes are blocks, so they nest or are
     * disjoint. */
    long *stack = xmalloc((ix.n + 1) * sizeof *stack);
    size_t top = 0;
    for (size_t i = 0; i < ix.n; i++) {
        while (top && !contains(ix.v[stack[top - 1]].sp, ix.v[i].sp))
            top--;
        ix.v[i].parent = top ? stack[top - 1] : -1;
        stack[top++] = (long)i;
    }
    free(stack);

    diag *prev = NULL;
    for (diag *d = l->head, *next; d; d = next) {
        next = d->next;
        long hit = -2;
        const char *reason = NULL;
        span where = span_none;
        if (code_suppressible(d->code)) {
            if (global[d->code] != -2) {
                hit = global[d->code];
            } else {
                long k = index_find(&ix, d->code, d->sp);
                for (const diag_note *n = d->notes; k < 0 && n; n = n->next)
                    k = index_find(&ix, d->code, n->sp);
                if (k >= 0)
                    hit = (long)ix.v[k].allow;
            }
        }
        if (hit == -2) {
            prev = d;
            continue;
        }
        if (hit == -1) {
            reason = "--allow on the command line";
        } else {
            used[hit] = true;
            reason = m->allows[hit].reason;
            where = m->allows[hit].src->sp;
        }
        if (prev)
            prev->next = next;
        else
            l->head = next;
        if (l->tail == d)
            l->tail = prev;
        count_sub(l, d->sev);
        d->next = NULL;
        list_push(out, l->a, d, reason, where);
    }
    for (size_t i = 0; i < m->nallows; i++) {
        const m_allow *al = &m->allows[i];
        if (used[i] || !al->reason || !al->reason[0] || !code_suppressible(al->code))
            continue;
        char code[16];
        diag_code_str(al->code, code);
        diag_add(l, DIAG_UNUSED_ALLOW, al->src->sp,
                 "allow %s suppresses nothing%s: remove it, or the hazard it was written "
                 "for is gone",
                 code, al->scope ? " in its block" : "");
    }
    free(ix.v);
    free(used);
    free(global);
}

void deny_apply(diag_list *l, const int *codes, size_t n)
{
    for (diag *d = l->head; d; d = d->next) {
        if (d->sev == SEV_ERROR)
            continue;
        for (size_t i = 0; i < n; i++)
            if (codes[i] == d->code) {
                count_sub(l, d->sev);
                d->sev = SEV_ERROR;
                l->nerrors++;
                break;
            }
    }
}
