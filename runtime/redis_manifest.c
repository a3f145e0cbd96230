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

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const rkv *)a)->k, ((const rkv *)b)->k);
}

/* The entries of a map of strings in key order (*out malloc'd, pointing
 * into map); false when a value is not a string. */
static bool sorted_kv(json_t *map, rkv **out, size_t *nout)
{
    size_t n = json_object_size(map), i = 0;
    rkv *v = xmalloc((n ? n : 1) * sizeof *v);
    const char *k;
    json_t *val;
    json_object_foreach(map, k, val) {
        if (!json_is_string(val)) {
            free(v);
            return false;
        }
        v[i].k = k;
        v[i++].v = json_string_value(val);
    }
    if (n > 1)
        qsort(v, n, sizeof *v, kv_cmp);
    *out = v;
    *nout = n;
    return true;
}

/* The digest of the canonical JSON of sorted entries (digest_json_hex of
 * the map, without the tree's dump). */
static bool kv_digest(const rkv *v, size_t n, char out[DIGEST_HEX_LEN + 1])
{
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_putc(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, ',');
        canon_json_str(&b, v[i].k);
        buf_putc(&b, ':');
        canon_json_str(&b, v[i].v);
    }
    buf_putc(&b, '}');
    bool ok = buf_ok(&b) && digest_sha256_hex(b.data, b.len, out);
    buf_free(&b);
    return ok;
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

/* The record's tenant map when it is usable for a store whose manifest is
 * live (NULL otherwise); then also t->rec_kv and t->rec_pv, the plan
 * version each of those configs was encoded from, when the record has them
 * for this encoder (else none: every tenant is encoded to compare). */
json_t *redis_manifest_read(rtarget *t, const char *live)
{
    if (!live)
        return NULL;
    char *text = statedir_read(t->manifest_path, NULL);
    json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    const char *m = json_string_value(json_object_get(rec, "manifest"));
    const char *ns = json_string_value(json_object_get(rec, "namespace"));
    json_t *map = json_object_get(rec, "tenants");
    json_t *out = NULL;
    rkv *v = NULL;
    size_t n = 0;
    if (m && ns && json_is_object(map) && !strcmp(m, live) && !strcmp(ns, t->base.env->ns) &&
        sorted_kv(map, &v, &n)) {
        char d[DIGEST_HEX_LEN + 1];
        /* A record edited or damaged on disk must not be trusted. */
        if (kv_digest(v, n, d) && !strcmp(d, m))
            out = json_incref(map);
    }
    char enc[256], ck[DIGEST_HEX_LEN + 1];
    encoder_id(t->base.env, enc, sizeof enc);
    const char *renc = json_string_value(json_object_get(rec, "encoder"));
    const char *rck = json_string_value(json_object_get(rec, "check"));
    const char *pv = json_string_value(json_object_get(rec, "plan_versions"));
    if (out && renc && rck && pv && strlen(pv) == n * DIGEST_HEX_LEN && !strcmp(renc, enc) &&
        record_check(renc, pv, ck) && !strcmp(ck, rck)) {
        t->rec_kv = v;         /* points into map, which t->state keeps */
        t->rec_n = n;
        t->rec_pv = xstrdup(pv);
        v = NULL;
    }
    free(v);
    json_decref(rec);
    return out;
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
