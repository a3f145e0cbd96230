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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
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
 * of the rules, SPEC.md 5.5) to equal config versions. */
static void encoder_id(const target_env *env, char *out, size_t n)
{
    snprintf(out, n, "rlc %s; config %d %c %lld", RLC_VERSION, REDIS_CONFIG_FORMAT,
             env->client_time ? 'c' : 's', (long long)env->skew_ms);
}

/* The digest that seals the record's plan versions to its encoder: of
 * {"encoder":E,"plan_versions":PV} in canonical JSON, PV being the plan
 * versions of the record's tenants in name order, concatenated (one string:
 * a second map of 100 000 entries would double the cost of reading). */
static bool record_check(const char *encoder, const char *pv, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_puts(&b, "{\"encoder\":");
    canon_json_str(&b, encoder);
    buf_puts(&b, ",\"plan_versions\":");
    canon_json_str(&b, pv);
    buf_putc(&b, '}');
    bool ok = buf_ok(&b) && digest_sha256_hex(b.data, b.len, out);
    buf_free(&b);
    return ok;
}

/* The entries of the canonical JSON object of strings [p, end) ('{' to
 * '}'), cut in place (each key and value NUL-terminated where its closing
 * quote was) into *out (malloc'd), in text order; false when a string
 * holds an escape (then the record is not used: a full read instead) or
 * the keys are not in strictly increasing byte order. */
static bool split_map(char *p, char *end, rkv **out, size_t *nout)
{
    size_t cap = 1024, n = 0;
    rkv *v = xmalloc(cap * sizeof *v);
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

/* Whether this state directory's record of t describes the store whose
 * manifest is live: then t->st is the record's tenant map (the live state
 * as far as deploys know), and, when the record has them for this
 * encoder, t->rec_kv and t->rec_pv the plan version each of those configs
 * was encoded from (else none: every tenant is encoded to compare).  The
 * record is read as the canonical text redis_manifest_write leaves: its
 * map's bytes must hash to the manifest (a record edited or damaged on disk
 * is not trusted), and only the small rest goes through jansson. */
bool redis_manifest_read(rtarget *t, const char *live)
{
    static const char tk[] = ",\"tenants\":";
    if (!live)
        return false;
    size_t len = 0;
    char *text = statedir_read(t->manifest_path, &len);
    char *at = NULL;
    for (char *q = text ? strstr(text, tk) : NULL; q; q = strstr(q + 1, tk))
        at = q;
    if (!at || len < 2 || text[len - 1] != '}') {
        free(text);
        return false;
    }
    char *map = at + sizeof tk - 1, *map_end = text + len - 1;
    char d[DIGEST_HEX_LEN + 1];
    bool ok = digest_sha256_hex(map, (size_t)(map_end - map), d) && !strcmp(d, live);
    /* The members before "tenants" (check, encoder, manifest, namespace,
     * plan_versions, target: sorted, so "tenants" is the last). */
    json_t *rec = NULL;
    if (ok) {
        char keep = at[0];
        at[0] = '}';
        rec = json_loadb(text, (size_t)(at - text) + 1, 0, NULL);
        at[0] = keep;
    }
    const char *m = json_string_value(json_object_get(rec, "manifest"));
    const char *ns = json_string_value(json_object_get(rec, "namespace"));
    rkv *v = NULL;
    size_t n = 0;
    ok = ok && m && ns && !strcmp(m, live) && !strcmp(ns, t->base.env->ns);
    if (ok && !split_map(map, map_end, &v, &n)) {
        /* Escaped names: the map through jansson, its strings copied. */
        char *owned = map_escaped(map, map_end, &v, &n);
        free(text);
        text = owned;
        ok = text != NULL;
    }
    if (!ok) {
        json_decref(rec);
        free(text);
        return false;
    }
    t->st = v;
    t->nst = n;
    t->st_text = text;
    t->have_state = true;
    char enc[256], ck[DIGEST_HEX_LEN + 1];
    encoder_id(t->base.env, enc, sizeof enc);
    const char *renc = json_string_value(json_object_get(rec, "encoder"));
    const char *rck = json_string_value(json_object_get(rec, "check"));
    const char *pv = json_string_value(json_object_get(rec, "plan_versions"));
    if (renc && rck && pv && strlen(pv) == n * DIGEST_HEX_LEN && !strcmp(renc, enc) &&
        record_check(renc, pv, ck) && !strcmp(ck, rck)) {
        t->rec_kv = v;
        t->rec_n = n;
        t->rec_pv = xstrdup(pv);
    }
    json_decref(rec);
    return true;
}

/* After a commit: the map the store now holds, under its digest, and the
 * plan version of each config, as canonical JSON written by hand (t->ten
 * is in name order).  Best effort: without a record the next deploy reads
 * everything. */
void redis_manifest_write(rtarget *t, const char *digest)
{
    char enc[256];
    encoder_id(t->base.env, enc, sizeof enc);
    buf pv, all;
    buf_init(&pv, BUF_DEFAULT_MAX);
    buf_init(&all, BUF_DEFAULT_MAX);
    /* {"encoder":E,"plan_versions":{..}}, whose digest is "check". */
    buf_puts(&pv, "{\"encoder\":");
    canon_json_str(&pv, enc);
    buf_puts(&pv, ",\"plan_versions\":\"");
    bool first = true, versions = true;
    for (size_t i = 0; i < t->nten; i++) {
        const rl_tenant *rt = t->ten[i].t;
        if (!rt)
            continue;
        versions &= rt->version && strlen(rt->version) == DIGEST_HEX_LEN &&
                    strspn(rt->version, "0123456789abcdef") == DIGEST_HEX_LEN;
        if (versions)
            buf_append(&pv, rt->version, DIGEST_HEX_LEN);
    }
    buf_puts(&pv, "\"}");
    char ck[DIGEST_HEX_LEN + 1];
    if (versions && buf_ok(&pv) && digest_sha256_hex(pv.data, pv.len, ck)) {
        buf_puts(&all, "{\"check\":\"");
        buf_puts(&all, ck);
        buf_puts(&all, "\",");
        buf_append(&all, pv.data + 1, pv.len - 2);   /* encoder, plan_versions */
        buf_putc(&all, ',');
    } else {
        buf_putc(&all, '{');
    }
    buf_free(&pv);
    buf_puts(&all, "\"manifest\":");
    canon_json_str(&all, digest);
    buf_puts(&all, ",\"namespace\":");
    canon_json_str(&all, t->base.env->ns);
    buf_puts(&all, ",\"target\":");
    canon_json_str(&all, t->base.addr);
    buf_puts(&all, ",\"tenants\":{");
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
    buf_puts(&all, "}}");
    rerr tmp;
    if (!buf_ok(&all) ||
        !statedir_write_atomic(t->manifest_path, all.data, all.len, 0600, &tmp))
        unlink(t->manifest_path);
    buf_free(&all);
}
