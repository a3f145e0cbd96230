/* redis_manifest.c - the state directory's record of a Redis target, which
 * lets a deploy read O(changed) tenants instead of every pointer, and the
 * state digest it is kept under.
 *
 * NS:deploy:manifest holds the state digest of the tenant -> config
 * version map that the last committed deploy left: the root over the
 * digests of the map's buckets, cut where the names say (SPEC.md 5.2,
 * 7.6).  The state directory keeps, per target, that map as those buckets:
 * an index (manifest-ID.json, one entry per bucket) and a pack of blobs.
 * When the store's manifest equals the index's, the store holds exactly
 * that map, as far as deploys know: only tenants whose version differs
 * from it, and tenants it has that the plan drops, are read, checkpointed
 * and written, and a bucket nothing changed in is not even opened (its
 * digest and blob are kept).  Any other case (no record, another machine
 * deployed, a deploy interrupted: apply deletes the manifest until commit,
 * a bucket that does not read back) reads every pointer.  A pointer edited
 * by hand does not change the manifest: `rlc status` reports it as drift
 * and `rlc run --full-read` repairs it.  It does not decide which buckets
 * are elided (the plan load does, exec.c) and never prints.  SPEC.md 7.7. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file_write.h"
#include "plan_digest.h"
#include "plan_load.h"
#include "target_redis.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>


#include "fault.h"

/* The plan versions of a blob are the canonical text of an array of
 * strings, ["<64 hex>","<64 hex>",...]: each entry PV_STRIDE bytes after
 * the one before. */
#define PV_STRIDE (DIGEST_HEX_LEN + 3)
/* The index's format: records of another (an older rlc's one file) are
 * not trusted, and the run after the upgrade reads everything. */
#define RECORD_FORMAT 2

#ifndef RLC_VERSION
#define RLC_VERSION "0.0.0"
#endif

void redis_manifest_path(rtarget *t)
{
    char id[1024], hex[DIGEST_HEX_LEN + 1], name[128];
    snprintf(id, sizeof id, "%s|%d|%d|%s|%s", t->url.host, t->url.port, t->url.db, t->user,
             t->base.env->ns);
    digest_sha256_hex(id, strlen(id), hex);
    snprintf(name, sizeof name, "manifest-%.16s.json", hex);
    statedir_path(t->base.env->state_dir, name, t->manifest_path);
}

/* What a tenant's config version depends on besides its rules: this rlc's
 * encoder and the policy's time settings (the "m" field, SPEC.md 6.2).  A
 * record made under the same string maps equal plan versions (the digest
 * of the rules, SPEC.md 5.5) to equal config versions.  It names the
 * enforcement library too (its source's digest, and `tenant *`'s version,
 * which the library holds): a record made under this string was made by a
 * deploy whose decisions were verified with this library, which is what
 * lets verification skip the tenants that do not change (redis_verify). */
static void encoder_id(const target_env *env, char *out, size_t n)
{
    const json_t *lib = json_object_get(env->plan, "library");
    const char *ls = json_string_value(json_object_get(lib, "sha256"));
    const char *tv = json_string_value(
        json_object_get(json_object_get(env->plan, "tenant_template"), "version"));
    snprintf(out, n, "rlc %s; config %d %c %lld; library %.16s%s%.16s", RLC_VERSION,
             REDIS_CONFIG_FORMAT, env->client_time ? 'c' : 's', (long long)env->skew_ms,
             ls ? ls : "-", tv ? " template " : "", tv ? tv : "");
}

/* The plan versions' array in canonical text, ["<64 hex>","<64 hex>",...],
 * from p ('['): its entries lie PV_STRIDE bytes apart, the first at p +
 * 2.  The number of entries, or SIZE_MAX when p is not such an array (a
 * record of an older rlc, whose versions were one string: not used);
 * *end: the byte after its ']'. */
static size_t pv_array(const char *p, const char *limit, const char **end)
{
    size_t n = 0;
    if (p >= limit || *p++ != '[')
        return SIZE_MAX;
    while (p < limit && *p == '"') {
        if ((size_t)(limit - p) < DIGEST_HEX_LEN + 3 || p[DIGEST_HEX_LEN + 1] != '"' ||
            strspn(p + 1, "0123456789abcdef") != DIGEST_HEX_LEN)
            return SIZE_MAX;
        n++;
        p += DIGEST_HEX_LEN + 2;
        if (*p != ',')
            break;
        p++;
    }
    if (p >= limit || *p != ']' || (n && p[-1] == ','))
        return SIZE_MAX;
    *end = p + 1;
    return n;
}

/* The entries of the canonical JSON object of strings [p, end) ('{' to
 * '}'), cut in place (each key and value NUL-terminated where its closing
 * quote was) into *out (malloc'd), in text order; false when a string
 * holds an escape (then the record is not used: a full read instead) or
 * the keys are not in strictly increasing byte order.  hint: the number
 * of entries expected (sized once, not grown by doubling). */
static bool split_map(char *p, char *end, size_t hint, rkv **out, size_t *nout)
{
    size_t cap = hint > 1024 ? hint : 1024, n = 0;
    rkv *v = xmalloc(cap * sizeof *v);
    xalloc_ready(v, cap * sizeof *v);
    if (p >= end || *p++ != '{')
        goto fail;
    while (p < end && *p == '"') {
        char *k = p + 1, *ke = memchr(k, '"', (size_t)(end - k));
        if (!ke || ke + 3 > end || ke[1] != ':' || ke[2] != '"')
            goto fail;
        char *val = ke + 3, *ve = memchr(val, '"', (size_t)(end - val));
        if (!ve || memchr(k, '\\', (size_t)(ke - k)) || memchr(val, '\\', (size_t)(ve - val)))
            goto fail;
        *ke = *ve = '\0';
        if (n && strcmp(v[n - 1].k, k) >= 0)
            goto fail;
        if (n == cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof *v);
        }
        v[n].k = k;
        v[n].pv = NULL;
        v[n++].v = val;
        p = ve + 1;
        if (p < end && *p == ',')
            p++;
        else
            break;
    }
    if (p + 1 != end || *p != '}')
        goto fail;
    *out = v;
    *nout = n;
    return true;
fail:
    free(v);
    return false;
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const rkv *)a)->k, ((const rkv *)b)->k);
}

/* split_map for a map whose strings hold escapes: parsed by jansson, its
 * entries copied into one malloc'd block (returned; NULL when the map is
 * not an object of strings), *out pointing into it, sorted by name. */
static char *map_escaped(const char *p, const char *end, rkv **out, size_t *nout)
{
    json_t *map = json_loadb(p, (size_t)(end - p), 0, NULL);
    size_t n = json_object_size(map), bytes = 1, i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(map, k, val) {
        if (!json_is_string(val)) {
            json_decref(map);
            return NULL;
        }
        bytes += strlen(k) + json_string_length(val) + 2;
    }
    if (!json_is_object(map)) {
        json_decref(map);
        return NULL;
    }
    char *block = xmalloc(bytes), *w = block;
    rkv *v = xmalloc((n ? n : 1) * sizeof *v);
    json_object_foreach(map, k, val) {
        v[i].pv = NULL;
        v[i].k = strcpy(w, k);
        w += strlen(k) + 1;
        v[i++].v = strcpy(w, json_string_value(val));
        w += json_string_length(val) + 1;
    }
    json_decref(map);
    if (n > 1)
        qsort(v, n, sizeof *v, kv_cmp);
    *out = v;
    *nout = n;
    return block;
}

/* --- the record: an index and a pack of buckets --------------------------

 * manifest-ID.json is {"check":C,"index":I}: I the canonical JSON of
 * {"buckets":[[first,last,n,off,len,sha,plan|null,state],...],"encoder",
 * "format":2,"manifest","namespace","pack","target"} and C the SHA-256 of
 * I's text as it lies.  Each bucket's entries are a blob of the pack file
 * the index names, {"plan_versions":[...],"tenants":{...}} in canonical
 * JSON at [off, off + len), whose SHA-256 is sha; its "tenants" text is
 * what its state digest hashes.  A run reads the index (one entry per
 * bucket) and opens only the buckets it needs, each checked when read. */

/* The digest after's buckets, kept for the record. */
static void after_free(rtarget *t)
{
    free(t->after_b);
    free(t->after_items);
    buf_free(&t->after_text);
    t->after_b = NULL;
    t->after_items = NULL;
    t->nafter_b = 0;
}

static void record_free(rrecord *r)
{
    if (!r)
        return;
    for (size_t j = 0; j < r->nb; j++) {
        free(r->b[j].v);
        free(r->b[j].text);
        free(r->b[j].escaped);
        free(r->b[j].names);
        free(r->b[j].vers);
    }
    free(r->b);
    free(r->cases);
    json_decref(r->idx);
    free(r->itext);
    free(r);
}

static bool hex64(const char *s)
{
    return s && strlen(s) == DIGEST_HEX_LEN && strspn(s, "0123456789abcdef") == DIGEST_HEX_LEN;
}

/* The index at path, when its check holds and it is this namespace's;
 * NULL otherwise (no record, an older format, damaged: not trusted). */
/* Fills bucket b from an index entry; false when the entry is not one. */
static bool bucket_set(rbucket *b, const char *first, const char *last, long long n,
                       long long off, long long len, const char *sha, const char *plan,
                       const char *st, const char *prev)
{
    if (!first || !last || n < 1 || off < 0 || len < 2 || !hex64(sha) || !hex64(st) ||
        (plan && !hex64(plan)) || strcmp(first, last) > 0 || (n == 1) != !strcmp(first, last) ||
        (prev && strcmp(prev, first) >= 0))
        return false;
    b->first = first;
    b->last = last;
    b->n = (size_t)n;
    b->off = off;
    b->len = len;
    memcpy(b->sha, sha, DIGEST_HEX_LEN + 1);
    memcpy(b->state, st, DIGEST_HEX_LEN + 1);
    if (plan)
        memcpy(b->plan, plan, DIGEST_HEX_LEN + 1);
    return true;
}

/* Scanning the index as redis_manifest_write writes it, strings cut in
 * place (NUL where their closing quote was): a string with an escape, or
 * anything else unexpected, stops it (then jansson reads the index). */
typedef struct iscan {
    char *p, *end;
    bool ok;
} iscan;

static void lit(iscan *s, const char *w)
{
    size_t l = strlen(w);
    s->ok = s->ok && (size_t)(s->end - s->p) >= l && !memcmp(s->p, w, l);
    if (s->ok)
        s->p += l;
}

static const char *str(iscan *s)
{
    if (!s->ok || s->p >= s->end || *s->p != '"') {
        s->ok = false;
        return NULL;
    }
    char *b = s->p + 1, *q = b;
    while (q < s->end && *q != '"' && *q != '\\')
        q++;
    if (q >= s->end || *q != '"') {
        s->ok = false;
        return NULL;
    }
    *q = '\0';
    s->p = q + 1;
    return b;
}

static long long num(iscan *s)
{
    long long v = 0;
    char *q = s->p;
    while (s->ok && q < s->end && *q >= '0' && *q <= '9' && q - s->p < 15)
        v = v * 10 + (*q++ - '0');
    s->ok = s->ok && q > s->p && (q == s->p + 1 || *s->p != '0');
    s->p = q;
    return v;
}

/* Whether r's cases are in strictly increasing order, as written. */
static bool cases_sorted(const rrecord *r)
{
    for (size_t i = 1; i < r->ncases; i++)
        if (strcmp(r->cases[i - 1], r->cases[i]) >= 0)
            return false;
    return true;
}

static bool index_scan(char *text, char *end, rrecord *r, const char **ns, const char **pk)
{
    iscan s = {text, end, true};
    size_t cap = 1024;
    r->b = xcalloc(cap, sizeof *r->b);
    lit(&s, "{\"buckets\":[");
    const char *prev = NULL;
    while (s.ok && s.p < end && *s.p == '[') {
        if (r->nb == cap) {
            r->b = xreallocarray(r->b, cap * 2, sizeof *r->b);
            memset(r->b + cap, 0, cap * sizeof *r->b);
            cap *= 2;
        }
        lit(&s, "[");
        const char *f = str(&s);
        lit(&s, ",");
        const char *l = str(&s);
        lit(&s, ",");
        long long n = num(&s);
        lit(&s, ",");
        long long off = num(&s);
        lit(&s, ",");
        long long len = num(&s);
        lit(&s, ",");
        const char *sha = str(&s);
        lit(&s, ",");
        const char *plan = NULL;
        if (s.ok && s.p < end && *s.p == 'n')
            lit(&s, "null");
        else
            plan = str(&s);
        lit(&s, ",");
        const char *st = str(&s);
        lit(&s, "]");
        s.ok = s.ok && bucket_set(&r->b[r->nb++], f, l, n, off, len, sha, plan, st, prev);
        prev = l;
        if (s.ok && s.p < end && *s.p == ',')
            s.p++;
        else
            break;
    }
    lit(&s, "]");
    /* The cases' tenants (absent from indexes written before them). */
    if (s.ok && (size_t)(end - s.p) > 10 && !memcmp(s.p, ",\"cases\":[", 10)) {
        s.p += 10;
        size_t ccap = 0;
        while (s.ok && s.p < end && *s.p != ']') {
            if (r->ncases)
                lit(&s, ",");
            const char *cn = str(&s);
            if (!s.ok)
                break;
            if (r->ncases == ccap) {
                ccap = ccap ? 2 * ccap : 64;
                r->cases = xreallocarray(r->cases, ccap, sizeof *r->cases);
            }
            r->cases[r->ncases++] = cn;
        }
        lit(&s, "]");
    }
    lit(&s, ",\"encoder\":");
    r->encoder = str(&s);
    lit(&s, ",\"format\":2,\"manifest\":");
    const char *m = str(&s);
    lit(&s, ",\"namespace\":");
    *ns = str(&s);
    lit(&s, ",\"pack\":");
    *pk = str(&s);
    lit(&s, ",\"target\":");
    str(&s);
    lit(&s, "}");
    s.ok = s.ok && s.p == end && hex64(m) && cases_sorted(r);
    if (s.ok)
        memcpy(r->manifest, m, DIGEST_HEX_LEN + 1);
    return s.ok;
}

/* The same through jansson (an index whose strings hold escapes). */
static bool index_json(const char *text, size_t len, rrecord *r, const char **ns,
                       const char **pk)
{
    json_t *idx = json_loadb(text, len, 0, NULL);
    r->idx = idx;
    const json_t *bs = json_object_get(idx, "buckets");
    const char *m = json_string_value(json_object_get(idx, "manifest"));
    *ns = json_string_value(json_object_get(idx, "namespace"));
    *pk = json_string_value(json_object_get(idx, "pack"));
    if (!idx || json_integer_value(json_object_get(idx, "format")) != RECORD_FORMAT ||
        !json_is_array(bs) || !hex64(m))
        return false;
    memcpy(r->manifest, m, DIGEST_HEX_LEN + 1);
    r->encoder = json_string_value(json_object_get(idx, "encoder"));
    r->nb = json_array_size(bs);
    r->b = xcalloc(r->nb ? r->nb : 1, sizeof *r->b);
    const json_t *cs = json_object_get(idx, "cases");
    if (cs && !json_is_array(cs))
        return false;
    r->cases = xmalloc((json_array_size(cs) + 1) * sizeof *r->cases);
    for (size_t i = 0; i < json_array_size(cs); i++)
        if (!(r->cases[r->ncases++] = json_string_value(json_array_get(cs, i))))
            return false;
    if (!cases_sorted(r))
        return false;
    const char *prev = NULL;
    for (size_t j = 0; j < r->nb; j++) {
        const json_t *e = json_array_get(bs, j);
        if (json_array_size(e) != 8 ||
            !bucket_set(&r->b[j], json_string_value(json_array_get(e, 0)),
                        json_string_value(json_array_get(e, 1)),
                        json_integer_value(json_array_get(e, 2)),
                        json_integer_value(json_array_get(e, 3)),
                        json_integer_value(json_array_get(e, 4)),
                        json_string_value(json_array_get(e, 5)),
                        json_string_value(json_array_get(e, 6)),
                        json_string_value(json_array_get(e, 7)), prev))
            return false;
        prev = r->b[j].last;
    }
    return true;
}

#define INDEX_AT (10 + DIGEST_HEX_LEN + 10)

/* The text of the index file at path, *len bytes, when its check holds
 * (the index, from INDEX_AT to the last byte, hashes to it); else NULL. */
static char *index_read(const char *path, size_t *len)
{
    static const char head[] = "{\"check\":\"", mid[] = "\",\"index\":";
    char *text = statedir_read(path, len);
    char d[DIGEST_HEX_LEN + 1];
    if (!text || *len < INDEX_AT + 2 || memcmp(text, head, 10) ||
        memcmp(text + 10 + DIGEST_HEX_LEN, mid, 10) || text[*len - 1] != '}' ||
        !digest_sha256_hex(text + INDEX_AT, *len - 1 - INDEX_AT, d) ||
        memcmp(d, text + 10, DIGEST_HEX_LEN)) {
        free(text);
        return NULL;
    }
    return text;
}

/* The index at path, when its check holds and it is this namespace's;
 * NULL otherwise (no record, an older format, damaged: not trusted). */
static rrecord *record_load(const char *path, const char *ns)
{
    size_t len = 0;
    char *text = index_read(path, &len);
    if (!text)
        return NULL;
    rrecord *r = xcalloc(1, sizeof *r);
    const char *rns = NULL, *pk = NULL;
    bool ok = true;
    /* Scanned where it lies (the scan cuts its strings); should the scan
     * stop, jansson reads the file again, uncut and checked again. */
    if (index_scan(text + INDEX_AT, text + len - 1, r, &rns, &pk)) {
        r->itext = text;
        text = NULL;
    } else {
        free(text);
        free(r->b);
        free(r->cases);
        memset(r, 0, sizeof *r);
        text = index_read(path, &len);
        ok = text && index_json(text + INDEX_AT, len - 1 - INDEX_AT, r, &rns, &pk);
    }
    free(text);
    if (!ok || !rns || strcmp(rns, ns) || !pk || strchr(pk, '/') ||
        strncmp(pk, "manifest-", 9)) {
        record_free(r);
        return NULL;
    }
    /* The pack lies beside the index. */
    snprintf(r->pack, sizeof r->pack, "%s", path);
    char *slash = strrchr(r->pack, '/');
    size_t dl = slash ? (size_t)(slash + 1 - r->pack) : 0;
    snprintf(r->pack + dl, sizeof r->pack - dl, "%s", pk);
    return r;
}

bool redis_record_open(rrecord *r, size_t j)
{
    rbucket *b = &r->b[j];
    if (b->opened || b->bad)
        return b->opened;
    b->bad = true;
    int fd = open(r->pack, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char *text = xmalloc((size_t)b->len + 1);
    ssize_t got = pread(fd, text, (size_t)b->len, (off_t)b->off);
    close(fd);
    char d[DIGEST_HEX_LEN + 1];
    static const char pk[] = "{\"plan_versions\":", tk[] = ",\"tenants\":";
    if (got != b->len || !digest_sha256_hex(text, (size_t)b->len, d) || strcmp(d, b->sha) ||
        memcmp(text, pk, sizeof pk - 1)) {
        free(text);
        return false;
    }
    text[b->len] = '\0';
    char *pv = text + sizeof pk - 1, *end = text + b->len;
    const char *pv_end = NULL;
    size_t npv = pv_array(pv, end, &pv_end);
    char *map = (char *)pv_end;
    if (npv == SIZE_MAX || (npv && npv != b->n) || end - map < (long)sizeof tk ||
        memcmp(map, tk, sizeof tk - 1) || end[-1] != '}') {
        free(text);
        return false;
    }
    map += sizeof tk - 1;
    for (size_t i = 0; i < npv; i++)
        pv[1 + i * PV_STRIDE + 1 + DIGEST_HEX_LEN] = '\0';
    /* Escaped names go through jansson, their strings copied into a
     * block of their own (the versions stay in text). */
    size_t n = 0;
    char *block = NULL;
    if (!split_map(map, end - 1, b->n, &b->v, &n) &&
        !(block = map_escaped(map, end - 1, &b->v, &n)))
        n = 0;
    if (!n || n != b->n || strcmp(b->v[0].k, b->first) || strcmp(b->v[n - 1].k, b->last)) {
        free(block);
        free(b->v);
        b->v = NULL;
        free(text);
        return false;
    }
    b->names = xmalloc(n * sizeof *b->names);
    b->vers = xmalloc(n * sizeof *b->vers);
    for (size_t i = 0; i < n; i++) {
        b->v[i].pv = npv ? pv + 2 + i * PV_STRIDE : NULL;
        b->names[i] = b->v[i].k;
        b->vers[i] = b->v[i].pv;
    }
    b->text = text;
    b->escaped = block;
    b->opened = true;
    b->bad = false;
    return true;
}

/* tknown's view of a record (target.h). */
static bool known_open(void *whole, size_t j, const char *const **names,
                       const char *const **vers, size_t *n)
{
    rrecord *r = whole;
    if (j >= r->nb || !redis_record_open(r, j))
        return false;
    for (size_t i = 0; i < r->b[j].n; i++)
        if (!r->b[j].vers[i])
            return false;
    *names = r->b[j].names;
    *vers = r->b[j].vers;
    *n = r->b[j].n;
    return true;
}

static const char *known_first(void *whole, size_t j)
{
    return ((rrecord *)whole)->b[j].first;
}

static const char *known_last(void *whole, size_t j)
{
    return ((rrecord *)whole)->b[j].last;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool known_has_case(void *whole, const char *name)
{
    const rrecord *r = whole;
    return r->ncases &&
           bsearch(&name, r->cases, r->ncases, sizeof *r->cases, cmp_name) != NULL;
}

static void known_free(void *whole)
{
    record_free(whole);
}

void redis_manifest_known(const char *state_dir, const char *ns, tknown *out)
{
    DIR *d = state_dir ? opendir(state_dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, "manifest-", 9) || l < 14 || strcmp(de->d_name + l - 5, ".json"))
            continue;
        char path[STATEDIR_PATH_MAX];
        statedir_path(state_dir, de->d_name, path);
        rrecord *r = record_load(path, ns);
        if (!r)
            continue;
        size_t ri = out->nrec;
        out->rec = xreallocarray(out->rec, ri + 1, sizeof *out->rec);
        tknown_rec *kr = &out->rec[ri];
        memset(kr, 0, sizeof *kr);
        kr->path = xstrdup(path);
        kr->whole = r;
        kr->whole_free = known_free;
        kr->open = known_open;
        kr->first = known_first;
        kr->last = known_last;
        kr->has_case = known_has_case;
        kr->nb = r->nb;
        kr->elided = xcalloc(r->nb ? r->nb : 1, sizeof *kr->elided);
        out->nrec++;
        for (size_t j = 0; j < r->nb; j++) {
            if (!r->b[j].plan[0])
                continue;
            out->b = xreallocarray(out->b, out->nb + 1, sizeof *out->b);
            tknown_bucket *kb = &out->b[out->nb++];
            memcpy(kb->sha, r->b[j].plan, DIGEST_HEX_LEN + 1);
            kb->rec = ri;
            kb->j = j;
            kb->n = r->b[j].n;
        }
    }
    if (d)
        closedir(d);
    tknown_sort(out);
}

/* The plan load's record of t's file, or NULL. */
static tknown_rec *record_known(rtarget *t)
{
    tknown *k = t->base.env->known;
    for (size_t i = 0; k && i < k->nrec; i++)
        if (!strcmp(k->rec[i].path, t->manifest_path))
            return &k->rec[i];
    return NULL;
}

/* Whether a record other than mine (or any, when mine is NULL) has
 * buckets elided at load. */
static bool others_elided(const rtarget *t, const tknown_rec *mine)
{
    const tknown *k = t->base.env->known;
    for (size_t i = 0; k && i < k->nrec; i++)
        if (&k->rec[i] != mine && k->rec[i].nelided)
            return true;
    return false;
}

int redis_manifest_read(rtarget *t, const char *live, bool full, rerr *e)
{
    const target_env *env = t->base.env;
    tknown_rec *kr = record_known(t);
    rrecord *r = kr ? kr->whole : NULL;
    bool own = false;
    if (!full && live && !r) {
        r = record_load(t->manifest_path, env->ns);
        own = r != NULL;
    }
    bool match = !full && live && r && !strcmp(r->manifest, live);
    /* A record made with another encoder maps plan versions to other
     * config versions: its buckets serve as the live state, but every
     * tenant is encoded, so none may stay out of the rules. */
    char enc[256];
    encoder_id(env, enc, sizeof enc);
    bool enc_ok = match && r->encoder && !strcmp(r->encoder, enc);
    /* The tenants of buckets elided at load are added to the rules when
     * this target cannot take them as unchanged: another record's, or
     * this one's when the store no longer holds what it describes. */
    if (others_elided(t, enc_ok ? kr : NULL) && !env->expand(env->ud, e)) {
        if (own)
            record_free(r);
        return -1;
    }
    /* Verification will run every case (the store's library is not the
     * plan's, or the target cannot tell): their tenants join the rules. */
    if (enc_ok && !t->lib_same && kr && kr->nelided && !env->expand_cases(env->ud, e)) {
        if (own)
            record_free(r);
        return -1;
    }
    const size_t *el = enc_ok && kr && kr->nelided ? kr->elided : NULL;
    size_t n = 0;
    for (size_t j = 0; match && j < r->nb; j++)
        if (!(el && el[j])) {
            match = redis_record_open(r, j);
            n += r->b[j].n;
        }
    if (!match) {
        /* A bucket that cannot be read (damaged): the record is not used,
         * and the buckets elided from it are added to the rules. */
        bool ok = !(kr && kr->nelided) || env->expand(env->ud, e);
        if (own)
            record_free(r);
        return ok ? 0 : -1;
    }
    t->rec = r;
    t->rec_own = own;
    t->elided = el;
    if (!el) {
        t->elided = xcalloc(r->nb + 1, sizeof *t->elided);
        t->elided_own = true;
    }
    t->st = xmalloc((n ? n : 1) * sizeof *t->st);
    xalloc_ready(t->st, n * sizeof *t->st);
    t->nst = 0;
    for (size_t j = 0; j < r->nb; j++)
        if (!(el && el[j])) {
            memcpy(t->st + t->nst, r->b[j].v, r->b[j].n * sizeof *t->st);
            t->nst += r->b[j].n;
        }
    t->have_state = true;
    if (enc_ok) {
        t->rec_kv = t->st;
        t->rec_n = t->nst;
    }
    return 1;
}

static void prep_free(struct rprep *q);

void redis_manifest_free(rtarget *t)
{
    prep_free(t->prep);
    t->prep = NULL;
    if (t->rec_own)
        record_free(t->rec);
    if (t->elided_own)
        free((size_t *)t->elided);
    t->rec = NULL;
    after_free(t);
}

/* --- the state digest ----------------------------------------------------- */

/* An entry of the map whose digest is computed, in name order, or one of
 * the record's buckets elided whole (eb: its index; name its first). */
typedef struct rsitem {
    const char *name, *val, *pv;
    const rl_tenant *pt;       /* the plan's tenant, when the entry is one */
    size_t eb;                 /* SIZE_MAX: an entry */
} rsitem;

/* A bucket of the map: the record's bucket eb, or items [from, to) whose
 * map text is after_text's [at, at + len). */
typedef struct rsbucket {
    char d[DIGEST_HEX_LEN + 1];
    size_t eb, from, to, at, len;
} rsbucket;

/* s as canonical JSON writes it, faster for the strings of a state map:
 * config versions and most names hold no byte it escapes. */
static void put_map_str(buf *b, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    while (*c >= 0x20 && *c < 0x80 && *c != '"' && *c != '\\')
        c++;
    if (*c) {
        canon_json_str(b, s);
        return;
    }
    buf_putc(b, '"');
    buf_append(b, s, (size_t)((const char *)c - s));
    buf_putc(b, '"');
}

/* The value of x in the map after the deploy, or live before it. */
static const char *map_val(const rtenant *x, bool after)
{
    return after ? (x->t ? x->newver : NULL) : x->live;
}

/* Which of the record's buckets the map holds unchanged (blk[j]): those
 * elided, and those opened whose every entry has its recorded value with
 * no other name among them.  t->st is the opened buckets' entries in
 * order, and every one of them is in t->ten (collect_tenants). */
static void unchanged_buckets(const rtarget *t, bool after, bool *blk)
{
    const rrecord *r = t->rec;
    size_t *bof = xmalloc((t->nst + 1) * sizeof *bof), k = 0;
    for (size_t j = 0; j < r->nb; j++) {
        blk[j] = true;
        for (size_t m = 0; !t->elided[j] && m < r->b[j].n && k < t->nst; m++)
            bof[k++] = j;
    }
    size_t si = 0;
    for (size_t i = 0; i < t->nten && k == t->nst; i++) {
        const rtenant *x = &t->ten[i];
        while (si < t->nst && strcmp(t->st[si].k, x->name) < 0)
            si++;
        if (si >= t->nst)
            break;
        const char *v = map_val(x, after);
        const rbucket *b = &r->b[bof[si]];
        if (!strcmp(t->st[si].k, x->name)) {
            /* After the deploy, the bucket's blob is kept only when it
             * gives each config the plan version it is now encoded from. */
            const char *pv = t->st[si].pv, *nv = x->t ? x->t->version : NULL;
            if (!v || (v != t->st[si].v && strcmp(v, t->st[si].v)) ||
                (after && (!pv || !nv || (pv != nv && strcmp(pv, nv)))))
                blk[bof[si]] = false;
        } else if (v && strcmp(b->first, x->name) < 0) {
            blk[bof[si]] = false;   /* a name added inside it */
        }
    }
    /* A map that is not the record's buckets' entries (should not be):
     * no bucket stands for its entries. */
    for (size_t j = 0; k != t->nst && j < r->nb; j++)
        blk[j] = t->elided[j];
    free(bof);
}

/* The map's entries (after the deploy, or live before it) merged with the
 * record's buckets it holds unchanged (blk), each as one item, but those
 * in ex, whose entries are listed. */
static rsitem *state_items(rtarget *t, bool after, const bool *blk, const bool *ex,
                           size_t *nout)
{
    const rrecord *r = t->rec;
    size_t nr = blk ? r->nb : 0, cap = t->nten + 1;
    for (size_t j = 0; j < nr; j++)
        cap += t->elided[j] ? (ex[j] ? r->b[j].n : 1) : 1;
    rsitem *it = xmalloc(cap * sizeof *it);
    size_t n = 0, j = 0;
    for (size_t i = 0; i <= t->nten;) {
        const rtenant *x = i < t->nten ? &t->ten[i] : NULL;
        if (j < nr && (!x || strcmp(r->b[j].first, x->name) <= 0)) {
            const rbucket *b = &r->b[j];
            if (blk[j] && !ex[j]) {
                it[n++] = (rsitem){b->first, NULL, NULL, NULL, j};
                /* An opened bucket's entries are in t->ten: passed over. */
                while (!t->elided[j] && i < t->nten && strcmp(t->ten[i].name, b->last) <= 0)
                    i++;
            } else if (t->elided[j]) {
                for (size_t m = 0; m < b->n; m++)
                    it[n++] = (rsitem){b->v[m].k, b->v[m].v, b->v[m].pv, NULL, SIZE_MAX};
            }
            j++;
            continue;
        }
        if (!x)
            break;
        const char *v = map_val(x, after);
        if (v)
            it[n++] = (rsitem){x->name, v, x->t ? x->t->version : NULL, x->t, SIZE_MAX};
        i++;
    }
    *nout = n;
    return it;
}

bool redis_state_digest(rtarget *t, bool after, char out[DIGEST_HEX_LEN + 1])
{
    rrecord *r = t->rec;
    size_t nr = r ? r->nb : 0, ni = 0, nb = 0;
    bool *ex = xcalloc(nr + 1, sizeof *ex), ok = false;
    /* The record's buckets the map holds unchanged stand for their
     * entries: their digests are the record's. */
    bool *blk = r ? xcalloc(nr + 1, sizeof *blk) : NULL;
    if (r)
        unchanged_buckets(t, after, blk);
    rsitem *it = NULL;
    rsbucket *bk = NULL;
    buf text;
    buf_init(&text, BUF_DEFAULT_MAX);
    out[0] = '\0';
    /* Buckets are cut where the names say.  An elided bucket is one of the
     * map's when the entry before it ends a bucket and the entry after it
     * begins one: so it is in a plan that cuts by the rule; otherwise
     * (a plan indexed otherwise, a pointer deleted by hand) its entries
     * are read and cut with the others, and the cutting starts again. */
    for (;;) {
        free(it);
        it = state_items(t, after, blk, ex, &ni);
        free(bk);
        bk = xmalloc((ni + 1) * sizeof *bk);
        nb = 0;
        size_t cur = 0, redo = SIZE_MAX;
        for (size_t k = 0; k < ni && redo == SIZE_MAX; k++) {
            size_t j = it[k].eb;
            if (j != SIZE_MAX) {
                if (nb && !plan_bucket_cut(it[k].name, cur)) {
                    redo = j;
                    break;
                }
                bk[nb++] = (rsbucket){.eb = j};
                memcpy(bk[nb - 1].d, r->b[j].state, DIGEST_HEX_LEN + 1);
                cur = r->b[j].n;
            } else if (!nb || plan_bucket_cut(it[k].name, cur)) {
                bk[nb++] = (rsbucket){.eb = SIZE_MAX, .from = k, .to = k + 1};
                cur = 1;
            } else if (bk[nb - 1].eb != SIZE_MAX) {
                redo = bk[nb - 1].eb;
            } else {
                bk[nb - 1].to = k + 1;
                cur++;
            }
        }
        if (redo == SIZE_MAX)
            break;
        if (!redis_record_open(r, redo))
            goto out;
        ex[redo] = true;
    }
    size_t bytes = 0;
    for (size_t k = 0; k < ni; k++)
        if (it[k].eb == SIZE_MAX)
            bytes += strlen(it[k].name) + strlen(it[k].val) + 8;
    buf_expect(&text, bytes + 2 * nb + 2);
    buf root;
    buf_init(&root, BUF_DEFAULT_MAX);
    buf_expect(&root, nb * (DIGEST_HEX_LEN + 3) + 2);
    buf_putc(&root, '[');
    for (size_t b = 0; b < nb; b++) {
        rsbucket *x = &bk[b];
        if (x->eb == SIZE_MAX) {
            x->at = text.len;
            buf_putc(&text, '{');
            for (size_t k = x->from; k < x->to; k++) {
                if (k > x->from)
                    buf_putc(&text, ',');
                put_map_str(&text, it[k].name);
                buf_putc(&text, ':');
                put_map_str(&text, it[k].val);
            }
            buf_putc(&text, '}');
            x->len = text.len - x->at;
            if (!buf_ok(&text) || !digest_sha256_hex(text.data + x->at, x->len, x->d))
                break;
        }
        buf_puts(&root, b ? ",\"" : "\"");
        buf_append(&root, x->d, DIGEST_HEX_LEN);
        buf_putc(&root, '"');
    }
    buf_putc(&root, ']');
    ok = buf_ok(&text) && buf_ok(&root) && digest_sha256_hex(root.data, root.len, out);
    buf_free(&root);
out:
    free(ex);
    free(blk);
    if (ok && after) {
        /* Kept for the record (redis_manifest_write). */
        after_free(t);
        t->after_items = it;
        t->after_b = bk;
        t->nafter_b = nb;
        t->after_text = text;
        return true;
    }
    free(it);
    free(bk);
    buf_free(&text);
    if (!ok)
        out[0] = '\0';
    return ok;
}

/* --- writing the record --------------------------------------------------- */

static int sha_cmp(const void *a, const void *b)
{
    return strcmp((*(const rbucket *const *)a)->sha, (*(const rbucket *const *)b)->sha);
}

/* The plan bucket (its digest) whose tenants are exactly items [from, to),
 * each read whole from its canonical text, or NULL. */
static const char *plan_bucket_of(const rtarget *t, const rsitem *it, size_t from, size_t to)
{
    const target_env *env = t->base.env;
    const rl_tenant *p0 = it[from].pt;
    if (!env->plan_sorted || !p0)
        return NULL;
    for (size_t k = from; k < to; k++)
        if (!it[k].pt || !it[k].pt->canonical || it[k].pt->bucket != p0->bucket ||
            !hex64(it[k].pv))
            return NULL;
    if (p0->bucket >= env->nindex || env->index[p0->bucket].n != to - from)
        return NULL;
    const char *sha = env->index[p0->bucket].sha256;
    return hex64(sha) ? sha : NULL;
}

/* Whether the blob of old bucket b reads back as its digest says. */
static bool blob_copy(int fd, const rbucket *b, buf *to)
{
    size_t at = to->len;
    buf_expect(to, (size_t)b->len);
    if (!buf_ok(to) || pread(fd, to->data + at, (size_t)b->len, (off_t)b->off) != b->len)
        return false;
    to->len += (size_t)b->len;
    char d[DIGEST_HEX_LEN + 1];
    return digest_sha256_hex(to->data + at, (size_t)b->len, d) && !strcmp(d, b->sha);
}

/* Removes this target's packs other than keep (a pack left by a run that
 * stopped before its index was written, or replaced by a compaction). */
static void packs_prune(const rtarget *t, const char *keep)
{
    char dir[STATEDIR_PATH_MAX], pre[64];
    snprintf(dir, sizeof dir, "%s", t->manifest_path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    snprintf(pre, sizeof pre, "%.25s-", base);     /* "manifest-" + 16 hex digits */
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, pre, strlen(pre)) || l < 5 || strcmp(de->d_name + l - 5, ".pack") ||
            !strcmp(de->d_name, keep))
            continue;
        char p[STATEDIR_PATH_MAX];
        statedir_path(dir, de->d_name, p);
        unlink(p);
    }
    if (d)
        closedir(d);
}

/* After a commit: the map the store now holds, as buckets, under its
 * digest.  Buckets the record has already (elided, or whose blob is the
 * same) keep their blob; the others are appended to its pack, or all are
 * written to a new pack when there is none or half of it would be dead.
 * The pack is synced before the index is replaced: a crash leaves the old
 * index (and blobs it never names) or the new one.  Best effort: without a
 * record the next deploy reads everything. */
/* What redis_manifest_prepare wrote of the record, for redis_manifest_write
 * to name in the index. */
typedef struct rprep {
    char digest[DIGEST_HEX_LEN + 1];
    bool ok, append;
    long long base;
    char pack[STATEDIR_PATH_MAX];
    struct rwb *w;
    rbucket **by_sha;
    buf blobs, all;
} rprep;

/* Each bucket's entry: its blob's place (from = SIZE_MAX: new, at
 * blobs[off..]), or an old bucket's. */
typedef struct rwb {
    const rbucket *same;
    size_t at, len;
    char sha[DIGEST_HEX_LEN + 1];
    const char *plan, *first, *last;
    size_t n;
} rwb;

static void prep_free(struct rprep *q)
{
    if (!q)
        return;
    buf_free(&q->blobs);
    buf_free(&q->all);
    free(q->w);
    free(q->by_sha);
    free(q);
}

void redis_manifest_prepare(rtarget *t, const char *digest)
{
    const target_env *env = t->base.env;
    rrecord *old = t->rec;
    prep_free(t->prep);
    t->prep = NULL;
    if (!t->after_b || strcmp(digest, t->after) || !digest[0])
        return;
    rprep *q = xcalloc(1, sizeof *q);
    t->prep = q;
    snprintf(q->digest, sizeof q->digest, "%s", digest);
    size_t nb = t->nafter_b, nold = old ? old->nb : 0;
    const rsitem *it = t->after_items;
    rbucket **by_sha = q->by_sha = xmalloc((nold + 1) * sizeof *by_sha);
    for (size_t j = 0; j < nold; j++)
        by_sha[j] = &old->b[j];
    if (nold > 1)
        qsort(by_sha, nold, sizeof *by_sha, sha_cmp);
    rwb *w = q->w = xcalloc(nb + 1, sizeof *w);
    buf blobs;
    buf_init(&blobs, BUF_DEFAULT_MAX);
    bool ok = true;
    long long live = 0;
    for (size_t b = 0; ok && b < nb; b++) {
        const rsbucket *x = &t->after_b[b];
        if (x->eb != SIZE_MAX) {
            w[b].same = &old->b[x->eb];
            live += w[b].same->len;
            continue;
        }
        size_t at = blobs.len;
        bool pv = true;
        for (size_t k = x->from; pv && k < x->to; k++)
            pv = hex64(it[k].pv);
        buf_puts(&blobs, "{\"plan_versions\":[");
        for (size_t k = x->from; pv && k < x->to; k++) {
            buf_puts(&blobs, k > x->from ? ",\"" : "\"");
            buf_append(&blobs, it[k].pv, DIGEST_HEX_LEN);
            buf_putc(&blobs, '"');
        }
        buf_puts(&blobs, "],\"tenants\":");
        buf_append(&blobs, t->after_text.data + x->at, x->len);
        buf_putc(&blobs, '}');
        ok = buf_ok(&blobs) && digest_sha256_hex(blobs.data + at, blobs.len - at, w[b].sha);
        w[b].at = at;
        w[b].len = blobs.len - at;
        w[b].plan = pv ? plan_bucket_of(t, it, x->from, x->to) : NULL;
        w[b].first = it[x->from].name;
        w[b].last = it[x->to - 1].name;
        w[b].n = x->to - x->from;
        /* The same blob in the record already: not written again. */
        rbucket key, *kp = &key, **hit;
        memcpy(key.sha, w[b].sha, DIGEST_HEX_LEN + 1);
        hit = ok && nold ? bsearch(&kp, by_sha, nold, sizeof *by_sha, sha_cmp) : NULL;
        if (hit) {
            w[b].same = *hit;
            if (!w[b].plan && (*hit)->plan[0])
                w[b].plan = (*hit)->plan;
            blobs.len = at;
        }
        live += (long long)w[b].len;
    }
    /* Where the blobs go: appended to the record's pack, unless it would
     * then be more than half dead; else a new pack of them all. */
    struct stat st;
    int fd = old ? open(old->pack, O_RDONLY | O_CLOEXEC) : -1;
    bool append = fd >= 0 && fstat(fd, &st) == 0 &&
                  st.st_size + (long long)blobs.len <= 2 * live + (1 << 20);
    long long base = append ? (long long)st.st_size : 0;
    char *pack = q->pack;
    buf all;
    buf_init(&all, BUF_DEFAULT_MAX);
    if (append) {
        /* Appended and not flushed: the index that names these bytes is
         * written in place unflushed too (redis_manifest_write), and a
         * blob lost or torn by a crash of the machine fails its digest
         * when its bucket is opened, so the run reads every pointer, as
         * after a torn index.  The old index names none of these bytes. */
        snprintf(pack, sizeof q->pack, "%s", old->pack);
        int af = blobs.len ? open(pack, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
        ok = ok && (!blobs.len ||
                    (af >= 0 && write(af, blobs.data, blobs.len) == (ssize_t)blobs.len));
        if (af >= 0)
            close(af);
    } else {
        /* A new pack: the new blobs, then the old ones kept (read back
         * and checked on the way). */
        snprintf(pack, sizeof q->pack, "%.*s-%s.pack", (int)strlen(t->manifest_path) - 5,
                 t->manifest_path, env->run);
        buf_append(&all, blobs.data, blobs.len);
        for (size_t b = 0; ok && b < nb; b++) {
            if (!w[b].same)
                continue;
            size_t at = all.len;
            ok = fd >= 0 && blob_copy(fd, w[b].same, &all);
            w[b].at = at;
            w[b].len = all.len - at;
        }
        const char *parts[1] = {all.data};
        size_t lens[1] = {all.len};
        char *msg = NULL;
        ok = ok && buf_ok(&all) &&
             file_write_atomic(pack, parts, lens, 1, 0600, FW_EXACT_MODE, &msg);
        free(msg);
    }
    if (fd >= 0)
        close(fd);
    q->ok = ok;
    q->append = append;
    q->base = base;
    q->blobs = blobs;
    q->all = all;
}

void redis_manifest_write(rtarget *t, const char *digest)
{
    const target_env *env = t->base.env;
    if (!t->after_b || strcmp(digest, t->after) || !digest[0]) {
        unlink(t->manifest_path);
        return;
    }
    if (!t->prep || strcmp(t->prep->digest, digest))
        redis_manifest_prepare(t, digest);
    rprep *q = t->prep;
    t->prep = NULL;
    char enc[256];
    encoder_id(env, enc, sizeof enc);
    size_t nb = t->nafter_b;
    rwb *w = q->w;
    bool ok = q->ok, append = q->append;
    long long base = q->base;
    const char *pack = q->pack, *pname;
    pname = strrchr(pack, '/') ? strrchr(pack, '/') + 1 : pack;
    /* The index, canonical JSON written by hand (SPEC.md 5.2): one entry
     * per bucket, [first,last,n,off,len,sha,plan|null,state]. */
    buf ix;
    buf_init(&ix, BUF_DEFAULT_MAX);
    buf_expect(&ix, nb * 320 + 1024);
    buf_puts(&ix, "{\"buckets\":[");
    for (size_t b = 0; ok && b < nb; b++) {
        const rsbucket *x = &t->after_b[b];
        const rbucket *o = x->eb != SIZE_MAX ? w[b].same : NULL;
        bool kept = append && w[b].same;
        long long off = kept ? w[b].same->off : base + (long long)w[b].at;
        long long len = kept ? w[b].same->len : (long long)w[b].len;
        const char *plan = o ? (o->plan[0] ? o->plan : NULL) : w[b].plan;
        buf_puts(&ix, b ? ",[" : "[");
        put_map_str(&ix, o ? o->first : w[b].first);
        buf_putc(&ix, ',');
        put_map_str(&ix, o ? o->last : w[b].last);
        /* Without printf: an entry per bucket, 826 at 100 000 tenants. */
        buf_putc(&ix, ',');
        buf_put_int(&ix, (long long)(o ? o->n : w[b].n));
        buf_putc(&ix, ',');
        buf_put_int(&ix, off);
        buf_putc(&ix, ',');
        buf_put_int(&ix, len);
        buf_puts(&ix, ",\"");
        buf_append(&ix, o ? o->sha : w[b].sha, DIGEST_HEX_LEN);
        buf_puts(&ix, "\",");
        if (plan) {
            buf_putc(&ix, '"');
            buf_append(&ix, plan, DIGEST_HEX_LEN);
            buf_putc(&ix, '"');
        } else {
            buf_puts(&ix, "null");
        }
        buf_puts(&ix, ",\"");
        buf_append(&ix, x->d, DIGEST_HEX_LEN);
        buf_puts(&ix, "\"]");
    }
    buf_puts(&ix, "],\"cases\":[");
    for (size_t i = 0; i < env->ncase_names; i++) {
        if (i)
            buf_putc(&ix, ',');
        put_map_str(&ix, env->case_names[i]);
    }
    buf_puts(&ix, "],\"encoder\":");
    canon_json_str(&ix, enc);
    buf_printf(&ix, ",\"format\":%d,\"manifest\":\"%s\",\"namespace\":", RECORD_FORMAT, digest);
    canon_json_str(&ix, env->ns);
    buf_puts(&ix, ",\"pack\":");
    canon_json_str(&ix, pname);
    buf_puts(&ix, ",\"target\":");
    canon_json_str(&ix, t->base.addr);
    buf_putc(&ix, '}');
    char d[DIGEST_HEX_LEN + 1];
    ok = ok && buf_ok(&ix) && digest_sha256_hex(ix.data, ix.len, d);
    /* Between the pack and the index: a run stopped here leaves the old
     * index, which names none of what was appended. */
    rerr fe = {0};
    if (ok && !fault_point("commit.record", &fe)) {
        buf_free(&ix);
        prep_free(q);
        return;
    }
    if (ok) {
        const char *parts[5] = {"{\"check\":\"", d, "\",\"index\":", ix.data, "}"};
        size_t lens[5] = {10, DIGEST_HEX_LEN, 10, ix.len, 1};
        char *msg = NULL;
        /* Written over in place and not flushed when the blobs went into
         * the same pack: a crash that loses this index leaves the old one,
         * whose blobs are all still there, naming a manifest the store no
         * longer holds, so the next run reads everything; an empty or torn
         * index (a crash mid-write, or a reader meanwhile: `rlc status`
         * takes no lock) fails its check, with the same result.  A new pack replaces the old one
         * (pruned below), and the index naming it is flushed first. */
        ok = file_write_atomic(t->manifest_path, parts, lens, 5, 0600,
                               FW_EXACT_MODE | (append ? FW_NO_SYNC | FW_IN_PLACE : 0), &msg);
        free(msg);
    }
    if (!ok)
        unlink(t->manifest_path);
    else
        packs_prune(t, pname);
    buf_free(&ix);
    prep_free(q);
}
