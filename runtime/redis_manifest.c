/* redis_manifest.c - the state directory's record of a Redis target, which
 * lets a deploy read O(changed) tenants instead of every pointer.
 *
 * NS:deploy:manifest holds the digest of the tenant -> config version map
 * that the last committed deploy left (state_digest "after").  The state
 * directory keeps, per target, the map it last committed with that digest
 * (manifest-ID.json).  When the store's manifest equals the record's (and
 * the record still hashes to it), the store holds exactly that map, as far
 * as deploys know: only tenants whose version differs from it, and tenants
 * it has that the plan drops, are read, checkpointed and written.  Any
 * other case (no record, another machine deployed, a deploy interrupted:
 * apply deletes the manifest until commit) reads every pointer.  A pointer
 * edited by hand does not change the manifest: `rlc status` reports it as
 * drift and `rlc run --full-read` repairs it.  SPEC.md 7.7. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file_write.h"
#include "plan_digest.h"
#include "target_redis.h"
#include "xalloc.h"

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

/* The record's plan versions are hashed for its check in chunks of
 * PV_CHUNK entries, each chunk's digest known apart: a re-apply that
 * changes a few tenants hashes again the chunks they are in, not the 6.7
 * MB of 100 000 versions. */
#define PV_CHUNK 1024

/* The digest of entries [from, to) of a versions' array whose entry 0's
 * hex digits are at hex0 (entries RT_PV_STRIDE bytes apart, their quotes
 * in place): the SHA-256 of the canonical JSON of those entries as an
 * array, hashed where they lie. */
static bool pv_chunk_digest(const char *hex0, size_t from, size_t to, char out[DIGEST_HEX_LEN + 1])
{
    const void *part[3] = {"[", hex0 + from * RT_PV_STRIDE - 1, "]"};
    size_t len[3] = {1, (to - from) * RT_PV_STRIDE - 1, 1};
    return digest_sha256_parts_hex(part, len, 3, out);
}

/* The chunk digests of n entries from hex0 into d[0..(n + PV_CHUNK - 1) /
 * PV_CHUNK); only chunks marked in redo when redo is not NULL. */
static bool pv_chunk_digests(const char *hex0, size_t n, const bool *redo,
                             char (*d)[DIGEST_HEX_LEN + 1])
{
    for (size_t k = 0; k * PV_CHUNK < n; k++) {
        size_t to = (k + 1) * PV_CHUNK < n ? (k + 1) * PV_CHUNK : n;
        if ((!redo || redo[k]) && !pv_chunk_digest(hex0, k * PV_CHUNK, to, d[k]))
            return false;
    }
    return true;
}

/* The digest that seals the record's plan versions and buckets to its
 * encoder: of {"buckets":B,"encoder":E,"plan_versions":D} in canonical
 * JSON, D being the array of the digests of the versions' chunks
 * (pv_chunk_digest: entries [0, 1024), [1024, 2048)... of the record's
 * tenants in name order), B the canonical JSON of the buckets. */
static bool record_check(const char *buckets, const char *encoder,
                         char (*d)[DIGEST_HEX_LEN + 1], size_t nd, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_puts(&b, "{\"buckets\":");
    buf_puts(&b, buckets);
    buf_puts(&b, ",\"encoder\":");
    canon_json_str(&b, encoder);
    buf_puts(&b, ",\"plan_versions\":[");
    for (size_t k = 0; k < nd; k++)
        buf_printf(&b, "%s\"%s\"", k ? "," : "", d[k]);
    buf_puts(&b, "]}");
    bool ok = buf_ok(&b) && digest_sha256_hex(b.data, b.len, out);
    buf_free(&b);
    return ok;
}

/* The plan versions' array in canonical text, ["<64 hex>","<64 hex>",...],
 * from p ('['): its entries lie RT_PV_STRIDE bytes apart, the first at p +
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

/* A record read: its members but the map (rec), its map (v[0..n), sorted,
 * strings in text), and whether its check holds (checked: then "buckets"
 * and "plan_versions" are the record's own). */
typedef struct record {
    json_t *rec;
    rkv *v;
    size_t n;
    char *text;
    char *pv;       /* "plan_versions": n entries RT_PV_STRIDE bytes apart, each
                     * NUL-terminated where its closing quote was, in text
                     * (pv_in_text) or in their own block: the array is cut in
                     * place, not copied (6.7 MB at 100 000 tenants) */
    bool pv_in_text;
    bool checked;
    char (*pvd)[DIGEST_HEX_LEN + 1];   /* the digests of its chunks (PV_CHUNK) */
    size_t npvd;
} record;

static void record_free(record *r)
{
    json_decref(r->rec);
    free(r->v);
    free(r->text);
    if (!r->pv_in_text)
        free(r->pv);
    free(r->pvd);
    memset(r, 0, sizeof *r);
}

/* Reads the record at path as the canonical text redis_manifest_write
 * leaves: its map's bytes must hash to its "manifest" (a record edited or
 * damaged on disk is not trusted), and only the small rest goes through
 * jansson.  False when it cannot be used. */
static bool record_load(const char *path, const char *ns, record *r)
{
    static const char tk[] = ",\"tenants\":";
    memset(r, 0, sizeof *r);
    size_t len = 0;
    char *text = statedir_read(path, &len);
    /* "tenants" sorts after every other member, "plan_versions" before
     * the few short strings between them, which hold no unescaped quote:
     * the first ,"tenants": after the versions' array is the member's.
     * A record without that array (an older rlc's) is searched to its end
     * for the last. */
    static const char pk[] = ",\"plan_versions\":[";
    char *pvk = text ? strstr(text, pk) : NULL;
    char *pv = NULL;
    const char *pv_end = NULL;
    size_t npv = SIZE_MAX;
    if (pvk) {
        pv = pvk + sizeof pk - 2;
        npv = pv_array(pv, text + len, &pv_end);
        if (npv == SIZE_MAX)
            pv = NULL;
    }
    char *at = pv ? strstr(pv + (pv_end - pv), tk) : NULL;
    for (char *q = text && !pv ? strstr(text, tk) : NULL; q; q = strstr(q + 1, tk))
        at = q;
    if (!at || len < 2 || text[len - 1] != '}') {
        free(text);
        return false;
    }
    char *map = at + sizeof tk - 1, *map_end = text + len - 1;
    char d[DIGEST_HEX_LEN + 1];
    bool ok = digest_sha256_hex(map, (size_t)(map_end - map), d);
    /* The members before "tenants", with "plan_versions" (67 bytes per
     * tenant, most of the rest) taken out by hand: an array of that size
     * costs jansson more than all the rest. */
    if (!ok)
        pv = NULL;
    if (ok) {
        char keep = at[0];
        at[0] = '}';
        if (pv) {
            /* ,"plan_versions":[] and the rest, moved down over the array. */
            buf h;
            buf_init(&h, BUF_DEFAULT_MAX);
            buf_append(&h, text, (size_t)(pv - text));
            buf_puts(&h, "[]");
            buf_append(&h, pv_end, (size_t)(at + 1 - pv_end));
            r->rec = buf_ok(&h) ? json_loadb(h.data, h.len, 0, NULL) : NULL;
            buf_free(&h);
        } else {
            r->rec = json_loadb(text, (size_t)(at - text) + 1, 0, NULL);
        }
        at[0] = keep;
    }
    const char *m = json_string_value(json_object_get(r->rec, "manifest"));
    const char *rns = json_string_value(json_object_get(r->rec, "namespace"));
    ok = ok && m && rns && !strcmp(m, d) && !strcmp(rns, ns);
    if (ok) {
        /* The check over the array as it lies, then the array cut. */
        const char *renc = json_string_value(json_object_get(r->rec, "encoder"));
        const char *rck = json_string_value(json_object_get(r->rec, "check"));
        char *bk = digest_canonical_json(json_object_get(r->rec, "buckets"));
        char ck[DIGEST_HEX_LEN + 1];
        if (pv) {
            r->npvd = (npv + PV_CHUNK - 1) / PV_CHUNK;
            r->pvd = xmalloc((r->npvd ? r->npvd : 1) * sizeof *r->pvd);
        }
        r->checked = bk && renc && rck && pv && pv_chunk_digests(pv + 2, npv, NULL, r->pvd) &&
                     record_check(bk, renc, r->pvd, r->npvd, ck) && !strcmp(ck, rck);
        free(bk);
    }
    if (ok && pv) {
        r->pv = pv + 2;
        r->pv_in_text = true;
        for (size_t j = 0; j < npv; j++)
            r->pv[j * RT_PV_STRIDE + DIGEST_HEX_LEN] = '\0';
    }
    /* As many entries as plan versions, when the record is sound. */
    if (ok && !split_map(map, map_end, r->pv ? npv : 0, &r->v, &r->n)) {
        /* Escaped names: the map through jansson, its strings copied
         * (and the versions, which were in the text). */
        if (r->pv) {
            size_t pl = (size_t)(pv_end - r->pv);
            r->pv = memcpy(xmalloc(pl), r->pv, pl);
            r->pv_in_text = false;
        }
        char *owned = map_escaped(map, map_end, &r->v, &r->n);
        free(text);
        text = owned;
        ok = text != NULL;
    }
    r->text = text;
    if (!ok) {
        record_free(r);
        return false;
    }
    r->checked = r->checked && r->pv && npv == r->n;
    return true;
}

/* Whether this state directory's record of t describes the store whose
 * manifest is live: then t->st is the record's tenant map (the live state
 * as far as deploys know), and, when the record has them for this
 * encoder, t->rec_kv and t->rec_pv the plan version each of those configs
 * was encoded from (else none: every tenant is encoded to compare). */
/* The record at t's path as the plan load read it (redis_manifest_known),
 * borrowed from env->known, which outlives the target (NULL: none). */
static const record *record_known(rtarget *t)
{
    const tknown *k = t->base.env->known;
    for (size_t i = 0; k && i < k->nrec; i++)
        if (k->rec[i].whole && !strcmp(k->rec[i].path, t->manifest_path))
            return k->rec[i].whole;
    return NULL;
}

bool redis_manifest_read(rtarget *t, const char *live)
{
    record own;
    const record *r = record_known(t);
    if (!live || (!r && !record_load(t->manifest_path, t->base.env->ns, &own)))
        return false;
    if (!r)
        r = &own;
    if (strcmp(json_string_value(json_object_get(r->rec, "manifest")), live)) {
        if (r == &own)
            record_free(&own);
        return false;
    }
    t->st = r->v;
    t->nst = r->n;
    t->st_text = r->text;
    t->st_borrowed = r != &own;
    t->have_state = true;
    char enc[256];
    encoder_id(t->base.env, enc, sizeof enc);
    const char *renc = json_string_value(json_object_get(r->rec, "encoder"));
    if (r->checked && renc && !strcmp(renc, enc)) {
        t->rec_kv = r->v;
        t->rec_n = r->n;
        t->rec_pv = r->pv;
        t->rec_pv_in_text = r->pv_in_text;
        t->rec_pvd = r->pvd;
    }
    if (r == &own) {
        /* The target owns the map, its text and the versions now. */
        if (!t->rec_pv && !own.pv_in_text)
            free(own.pv);
        if (!t->rec_pv)
            free(own.pvd);
        json_decref(own.rec);
    }
    return true;
}

static void record_whole_free(void *whole)
{
    record_free(whole);
    free(whole);
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
        record r;
        if (!record_load(path, ns, &r))
            continue;
        const json_t *bs = json_object_get(r.rec, "buckets");
        if (!r.checked || !json_array_size(bs)) {
            record_free(&r);
            continue;
        }
        size_t ri = out->nrec;
        out->rec = xreallocarray(out->rec, ri + 1, sizeof *out->rec);
        tknown_rec *kr = &out->rec[ri];
        memset(kr, 0, sizeof *kr);
        kr->n = r.n;
        kr->names = xmalloc((r.n ? r.n : 1) * sizeof *kr->names);
        for (size_t i = 0; i < r.n; i++)
            kr->names[i] = r.v[i].k;
        /* The whole record is kept, owning the names and versions, for
         * the target of that file to take (redis_manifest_read); tenants
         * known from it borrow its versions, cut in place. */
        kr->pv = r.pv;
        kr->vers = r.pv;
        kr->vstride = RT_PV_STRIDE;
        kr->path = xstrdup(path);
        record *whole = xmalloc(sizeof *whole);
        *whole = r;
        kr->whole = whole;
        kr->whole_free = record_whole_free;
        out->nrec++;
        size_t i;
        json_t *b;
        json_array_foreach(bs, i, b) {
            const char *sha = json_string_value(json_array_get(b, 0));
            json_int_t first = json_integer_value(json_array_get(b, 1));
            json_int_t n = json_integer_value(json_array_get(b, 2));
            if (!sha || strlen(sha) != DIGEST_HEX_LEN || first < 0 || n < 1 ||
                (size_t)first > r.n || (size_t)n > r.n - (size_t)first)
                continue;
            out->b = xreallocarray(out->b, out->nb + 1, sizeof *out->b);
            tknown_bucket *kb = &out->b[out->nb++];
            memcpy(kb->sha, sha, DIGEST_HEX_LEN + 1);
            kb->rec = ri;
            kb->first = (size_t)first;
            kb->n = (size_t)n;
        }
    }
    if (d)
        closedir(d);
    tknown_sort(out);
}

/* The record's plan versions made the text of this deploy's, in place:
 * when the record read has exactly the deploy's tenants, none dropped or
 * added (each tenant's state entry is the record's entry at its place),
 * each entry whose version changed is overwritten and every entry's
 * closing quote put back over its NUL (record_load cut them), so that its
 * array is the new record's: no 6.7 MB buffer to fill at 100 000 tenants.
 * Returns the array's length ('[' to ']'), 0 when the record cannot serve
 * (then nothing was changed); the chunks overwritten are marked in dirty
 * (one per PV_CHUNK tenants, false on entry); pv_cut undoes the quotes, and must be
 * called before anything reads the versions as strings again.  An
 * overwritten entry belonged to a tenant read from the plan, whose version
 * lies elsewhere: no tenant borrows it. */
static size_t pv_inplace(rtarget *t, bool *dirty)
{
    if (!t->rec_pv || !t->rec_pv_in_text || !t->nten || t->rec_n != t->nten ||
        t->rec_kv != t->st || t->nst != t->nten)
        return 0;
    for (size_t i = 0; i < t->nten; i++) {
        const rl_tenant *rt = t->ten[i].t;
        if (!rt || t->ten[i].was != t->st[i].v || !rt->version ||
            (rt->version != t->rec_pv + i * RT_PV_STRIDE &&
             (strlen(rt->version) != DIGEST_HEX_LEN ||
              strspn(rt->version, "0123456789abcdef") != DIGEST_HEX_LEN)))
            return 0;
    }
    for (size_t i = 0; i < t->nten; i++) {
        char *e = t->rec_pv + i * RT_PV_STRIDE;
        const char *v = t->ten[i].t->version;
        if (v != e && memcmp(e, v, DIGEST_HEX_LEN)) {
            memcpy(e, v, DIGEST_HEX_LEN);
            dirty[i / PV_CHUNK] = true;
        }
        e[DIGEST_HEX_LEN] = '"';
    }
    return t->nten * RT_PV_STRIDE + 1;
}

/* Undoes pv_inplace's quotes (pv_len: what it returned); returns 0. */
static size_t pv_cut(rtarget *t, size_t pv_len)
{
    for (size_t i = 0; pv_len && i < t->nten; i++)
        t->rec_pv[i * RT_PV_STRIDE + DIGEST_HEX_LEN] = '\0';
    return 0;
}

/* After a commit: the map the store now holds, under its digest, and the
 * plan version of each config, as canonical JSON written by hand (t->ten
 * is in name order).  Best effort: without a record the next deploy reads
 * everything. */
void redis_manifest_write(rtarget *t, const char *digest)
{
    char enc[256];
    encoder_id(t->base.env, enc, sizeof enc);
    buf all;
    buf_init(&all, BUF_DEFAULT_MAX);
    /* The plan's buckets this record vouches for: when the plan's tenants
     * came in name order, their positions here are the plan's, and those
     * of a bucket read whole from its canonical text are known from it. */
    buf bk;
    buf_init(&bk, BUF_DEFAULT_MAX);
    buf_putc(&bk, '[');
    const target_env *env = t->base.env;
    const json_t *ix = json_object_get(env->plan, "tenant_index");
    size_t k, at = 0, nb = 0;
    json_t *b;
    json_array_foreach(ix, k, b) {
        size_t n = (size_t)json_integer_value(json_object_get(b, "n"));
        if (!env->plan_sorted || at + n > env->rs->ntenants)
            break;
        bool whole = true;
        for (size_t j = at; j < at + n; j++)
            whole &= env->rs->tenants[j].canonical;
        if (whole) {
            if (nb++)
                buf_putc(&bk, ',');
            buf_puts(&bk, "[");
            canon_json_str(&bk, json_string_value(json_object_get(b, "sha256")));
            buf_printf(&bk, ",%zu,%zu]", at, n);
        }
        at += n;
    }
    buf_putc(&bk, ']');
    /* {"buckets":B,"check":C,"encoder":E,"plan_versions":[..],..}, C
     * (record_check) filled in after. */
    /* Sized once: at 100 000 tenants, growing by doubling copied the
     * record several times over.  The map is written from where the
     * state digest left it, not copied in (rt_state_digest). */
    bool map_kept = !strcmp(digest, t->after) && t->after_map.len;
    size_t names = 0;
    for (size_t i = 0; !map_kept && i < t->nten; i++)
        names += strlen(t->ten[i].name) + REDIS_CONFIG_VERSION_LEN + 8;
    /* The versions as the record read holds them, brought up to date in
     * place, when it has exactly this deploy's tenants (pv_inplace); else
     * written out one by one. */
    size_t nd = (t->nten + PV_CHUNK - 1) / PV_CHUNK;
    bool *dirty = xcalloc(nd + 1, sizeof *dirty);
    char (*pvd)[DIGEST_HEX_LEN + 1] = xmalloc((nd + 1) * sizeof *pvd);
    size_t pv_len = t->rec_pvd ? pv_inplace(t, dirty) : 0;
    buf_expect(&all, bk.len + (pv_len ? 0 : t->nten * RT_PV_STRIDE) + names + 1024);
    buf_puts(&all, "{\"buckets\":");
    buf_append(&all, bk.data, bk.len);
    buf_puts(&all, ",\"check\":\"");
    size_t ck_at = all.len;
    for (size_t i = 0; i < DIGEST_HEX_LEN; i++)
        buf_putc(&all, '0');
    buf_putc(&all, '"');
    buf_puts(&all, ",\"encoder\":");
    canon_json_str(&all, enc);
    buf_puts(&all, ",\"plan_versions\":");
    size_t pv_at = all.len;
    buf_putc(&all, '[');
    bool first = true, versions = true;
    for (size_t i = 0; !pv_len && versions && i < t->nten; i++) {
        const rl_tenant *rt = t->ten[i].t;
        if (!rt)
            continue;
        versions = rt->version && strlen(rt->version) == DIGEST_HEX_LEN &&
                   strspn(rt->version, "0123456789abcdef") == DIGEST_HEX_LEN;
        if (!versions)
            break;
        if (!first)
            buf_putc(&all, ',');
        first = false;
        buf_putc(&all, '"');
        buf_append(&all, rt->version, DIGEST_HEX_LEN);
        buf_putc(&all, '"');
    }
    buf_putc(&all, ']');
    /* The chunks' digests: the record's, but for the chunks overwritten,
     * when it is the record's array; else all, over the array written. */
    size_t npv = pv_len ? t->nten : 0;
    const char *hex0 = pv_len ? t->rec_pv : all.data + pv_at + 2;
    if (pv_len)
        memcpy(pvd, t->rec_pvd, nd * sizeof *pvd);
    else
        for (size_t i = 0; versions && i < t->nten; i++)
            npv += t->ten[i].t != NULL;
    nd = (npv + PV_CHUNK - 1) / PV_CHUNK;
    if (pv_len)
        all.len = pv_at;        /* the array is the record's, below */
    const char *pv_text = pv_len ? t->rec_pv - 2 : "";
    char ck[DIGEST_HEX_LEN + 1];
    size_t mid = all.len;
    if (versions && buf_ok(&all) && buf_ok(&bk) &&
        pv_chunk_digests(hex0, npv, pv_len ? dirty : NULL, pvd) &&
        record_check(bk.data, enc, pvd, nd, ck)) {
        memcpy(all.data + ck_at, ck, DIGEST_HEX_LEN);
    } else {
        buf_reset(&all);
        mid = 0;
        pv_len = pv_cut(t, pv_len);
    }
    free(dirty);
    free(pvd);
    /* all is [0, mid) before the versions' array (when it is the
     * record's) and the rest after it. */
    buf_putc(&all, mid ? ',' : '{');
    buf_free(&bk);
    buf_puts(&all, "\"manifest\":");
    canon_json_str(&all, digest);
    buf_puts(&all, ",\"namespace\":");
    canon_json_str(&all, t->base.env->ns);
    buf_puts(&all, ",\"target\":");
    canon_json_str(&all, t->base.addr);
    buf_puts(&all, ",\"tenants\":");
    if (!map_kept) {
        buf_putc(&all, '{');
        first = true;
        for (size_t i = 0; i < t->nten; i++) {
            if (!t->ten[i].t)
                continue;
            if (!first)
                buf_putc(&all, ',');
            first = false;
            canon_json_str(&all, t->ten[i].name);
            buf_putc(&all, ':');
            canon_json_str(&all, t->ten[i].newver);
        }
        buf_putc(&all, '}');
    }
    /* The record: all (around the versions' array when it is the
     * record's), then the map the digest was computed over (when kept),
     * then its closing brace. */
    const char *wp[5] = {all.data, pv_text, all.data + mid, map_kept ? t->after_map.data : "",
                         "}"};
    size_t wl[5] = {mid, pv_len, all.len - mid, map_kept ? t->after_map.len : 0, 1};
    char *msg = NULL;
    if (!buf_ok(&all) ||
        !file_write_atomic(t->manifest_path, wp, wl, 5, 0600, FW_EXACT_MODE, &msg))
        unlink(t->manifest_path);
    free(msg);
    pv_cut(t, pv_len);
    buf_free(&all);
}
