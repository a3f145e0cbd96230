/* diag.c - diagnostic list and the code table.  See diag.h. */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const diag_info table[] = {
#define X(num, name, sev, summary) {num, #name, sev, summary},
#include "diag_codes.def"
#undef X
};

const diag_info *diag_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const diag_info *diag_lookup(int code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

const char *severity_name(severity s)
{
    switch (s) {
    case SEV_ERROR: return "error";
    case SEV_WARNING: return "warning";
    default: return "note";
    }
}

void diag_code_str(int code, char out[16])
{
    snprintf(out, 16, "RLC%04d", code);
}

int diag_code_parse(const char *s)
{
    if (strncmp(s, "RLC", 3) == 0 || strncmp(s, "rlc", 3) == 0)
        s += 3;
    if (!*s || strlen(s) > 4)
        return -1;
    int v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

void diag_list_init(diag_list *l, arena *a)
{
    memset(l, 0, sizeof *l);
    l->a = a;
    l->max_errors = DIAG_MAX_ERRORS;
}

static char *vfmt(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

diag *diag_add(diag_list *l, int code, span sp, const char *fmt, ...)
{
    const diag_info *info = diag_lookup(code);
    severity sev = info ? info->sev : SEV_ERROR;
    if (sev == SEV_ERROR && diag_full(l)) {
        l->dropped++;
        return NULL;
    }
    diag *d = arena_alloc(l->a, sizeof *d);
    d->code = code;
    d->sev = sev;
    d->sp = sp;
    va_list ap;
    va_start(ap, fmt);
    d->msg = vfmt(l->a, fmt, ap);
    va_end(ap);
    if (l->tail)
        l->tail->next = d;
    else
        l->head = d;
    l->tail = d;
    if (sev == SEV_ERROR)
        l->nerrors++;
    else if (sev == SEV_WARNING)
        l->nwarnings++;
    else
        l->nnotes++;
    return d;
}

void diag_note_add(diag_list *l, diag *d, span sp, const char *fmt, ...)
{
    if (!d)
        return;
    diag_note *n = arena_alloc(l->a, sizeof *n);
    n->sp = sp;
    va_list ap;
    va_start(ap, fmt);
    n->msg = vfmt(l->a, fmt, ap);
    va_end(ap);
    if (d->notes_tail)
        d->notes_tail->next = n;
    else
        d->notes = n;
    d->notes_tail = n;
}

static int diag_cmp(const void *pa, const void *pb)
{
    const diag *a = *(const diag *const *)pa, *b = *(const diag *const *)pb;
    if (a->sp.file != b->sp.file)
        return a->sp.file < b->sp.file ? -1 : 1;
    if (a->sp.start != b->sp.start)
        return a->sp.start < b->sp.start ? -1 : 1;
    return 0;
}

void diag_sort(diag_list *l)
{
    size_t n = 0;
    for (diag *d = l->head; d; d = d->next)
        n++;
    if (n < 2)
        return;
    diag **v = xmalloc(n * sizeof *v);
    size_t i = 0;
    for (diag *d = l->head; d; d = d->next)
        v[i++] = d;
    /* Bottom-up merge sort: stable, so equal positions keep their order. */
    diag **tmp = xmalloc(n * sizeof *tmp);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = diag_cmp(&v[b], &v[a]) < 0 ? v[b++] : v[a++];
            while (a < mid)
                tmp[k++] = v[a++];
            while (b < hi)
                tmp[k++] = v[b++];
        }
        diag **t = v;
        v = tmp;
        tmp = t;
    }
    for (i = 0; i + 1 < n; i++)
        v[i]->next = v[i + 1];
    v[n - 1]->next = NULL;
    l->head = v[0];
    l->tail = v[n - 1];
    free(v);
    free(tmp);
}
