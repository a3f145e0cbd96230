/* target.c - the table of target kinds and what every kind uses of the
 * deploy.  See target.h. */
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

extern const target_kind target_redis, target_etcd, target_http, target_nginx,
    target_envoy_ratelimit, target_limitador;

/* One entry per kind. */
const target_kind *const target_kinds[] = {
    &target_redis,
    &target_etcd,
    &target_http,
    &target_nginx,
    &target_envoy_ratelimit,
    &target_limitador,
    NULL,
};

const target_kind *target_kind_find(const char *name)
{
    for (size_t i = 0; name && target_kinds[i]; i++)
        if (!strcmp(target_kinds[i]->name, name))
            return target_kinds[i];
    return NULL;
}

const target_kind *target_kind_of_record(const char *record, const json_t *desc)
{
    const char *kind = json_string_value(json_object_get(desc, "kind"));
    const target_kind *found = NULL;
    size_t n = 0;
    for (size_t i = 0; target_kinds[i]; i++) {
        const target_kind *k = target_kinds[i];
        if (strcmp(k->record, record))
            continue;
        n++;
        if (kind ? !strcmp(k->name, kind) : !found)
            found = k;
    }
    /* Descriptions name their kind, except in a list of one kind. */
    return kind || n == 1 ? found : NULL;
}

void target_say(const target *t, const char *fmt, ...)
{
    if (!t->env->say)
        return;
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "      ");
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(msg + n, sizeof msg - (size_t)n, vsnprintf(msg + n, sizeof msg - (size_t)n,
                                                             fmt, ap));
    va_end(ap);
    t->env->say(t->env->ud, msg);
}

void tclocks_add(tclocks *c, const target *owner, const char *name, double off_us,
                 double err_us)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        c->v = xreallocarray(c->v, cap, sizeof *c->v);
        c->cap = cap;
    }
    tclock *k = &c->v[c->n++];
    k->owner = owner;
    snprintf(k->name, sizeof k->name, "%s", name);
    k->off_us = off_us;
    k->err_us = err_us;
}

static int bucket_cmp(const void *a, const void *b)
{
    return strcmp(((const tknown_bucket *)a)->sha, ((const tknown_bucket *)b)->sha);
}

void tknown_sort(tknown *k)
{
    if (k->nb > 1)
        qsort(k->b, k->nb, sizeof *k->b, bucket_cmp);
}

const tknown_bucket *tknown_find(const tknown *k, const char *sha)
{
    tknown_bucket key;
    if (!k->nb || strlen(sha) != DIGEST_HEX_LEN)
        return NULL;
    memcpy(key.sha, sha, DIGEST_HEX_LEN + 1);
    return bsearch(&key, k->b, k->nb, sizeof *k->b, bucket_cmp);
}

void tknown_free(tknown *k)
{
    for (size_t i = 0; i < k->nrec; i++) {
        free(k->rec[i].path);
        free(k->rec[i].elided);
        if (k->rec[i].whole)
            k->rec[i].whole_free(k->rec[i].whole);
    }
    free(k->rec);
    free(k->b);
    memset(k, 0, sizeof *k);
}
